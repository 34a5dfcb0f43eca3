"""One rule per action (`whistle.cases.permissions`): the pages offer a button exactly when the
action would take it.

For every operation of the desk pages, every persona of the case tests' city and targets in
every state the operation can meet, the buttons the case page offers are compared with what
the action does when called with valid input (inside a savepoint, rolled back). An action
that takes the attempt and keeps its refusal in the trail (an early check-out) counts as
taking it: the page offers that button folded, with the rule (事不完、人不撤) beside it.
Among the personas is one who may not judge a department: a dispatcher on its duty in the
command centre. (That nobody rules on a check-in they made, even after leaving the
department, is read from the trail by the action alone.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.http import Http404

from tests.conftest import make_person
from tests.fixtures_cases import (
    OFF_ANY_LANE,
    ON_THE_LANE,
    WhistleCity,
    beijing,
    device_fix,
    on_site,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from whistle.cases import actions
from whistle.cases.errors import ActionRefused, InvalidInput, PermissionRefused, RecordedRefusal
from whistle.cases.models import Case, Summons, SupervisionNotice
from whistle.cases.permissions import RULES, grants_of, may, refusal_for, require
from whistle.cases.suggest import departments_serving
from whistle.desk.operations import CASE, NOTICE, OPERATIONS, SUMMONS, Choices, OperationForms
from whistle.desk.views.common import find_case, prefetch_case
from whistle.organisation import geo
from whistle.organisation.models import CentreMembership, Person, Role
from whistle.organisation.units import TownshipUnit

START = beijing(2026, 3, 10, 9, 0)
# Every state below is built before this moment; the actions under test run at it.
NOW = beijing(2026, 3, 10, 11, 0)

# One person of each kind of role and scope: a street chief acts as a lane chief here, a
# department head as an officer, the district chief as the district's chiefs' office, and the
# dispatcher of another township as anyone without a role on these cases.
PERSONAS = (
    "steward",
    "lane_chief",
    "dispatcher",
    "township_chief",
    "township_office",
    "assessor",
    "district_office",
    "urban_officer",
    "police_officer",
    "dongsi_dispatcher",
)


class Clock:
    """Times that go forward along the story, ten seconds a step."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def __call__(self) -> datetime:
        self.at += timedelta(seconds=10)
        assert self.at < NOW
        return self.at


@dataclass
class States:
    cases: dict[str, Case]
    summonses: dict[str, Summons]
    notices: dict[str, SupervisionNotice]
    # Personas made for these states, besides the city's.
    people: dict[str, Person]


def _report(city: WhistleCity, t: Clock, **fields: Any) -> Case:
    values: dict[str, Any] = {
        "description": "人民市场东巷有游商占道",
        "lon": ON_THE_LANE[0],
        "lat": ON_THE_LANE[1],
    }
    values.update(fields)
    reporter = values.pop("reporter", city.steward)
    return actions.report_case(reporter, now=t(), **values)


def _filed(city: WhistleCity, t: Clock, **fields: Any) -> Case:
    return actions.file_case(
        city.dispatcher, _report(city, t, **fields), category=city.street_vending, now=t()
    )


def _whistled(city: WhistleCity, t: Clock) -> tuple[Case, Summons, Summons]:
    case = _filed(city, t)
    whistle = actions.blow_whistle(
        city.dispatcher, case, kind="routine", departments=[city.urban, city.police], now=t()
    )
    urban = Summons.objects.get(whistle=whistle, department=city.urban)
    police = Summons.objects.get(whistle=whistle, department=city.police)
    return case, urban, police


def _on_site(city: WhistleCity, t: Clock, summons: Summons, officer: Person) -> Summons:
    return on_site(city, summons, officer, acknowledged_at=t(), at=t())


def _flagged(t: Clock, summons: Summons, officer: Person) -> Summons:
    """On site with a fix too coarse for the radius: the check-in waits for the township."""
    actions.acknowledge(officer, summons, now=t())
    at = t()
    lon, lat, _back = geo.WGS84.fwd(ON_THE_LANE[0], ON_THE_LANE[1], 90, 100)
    flagged = actions.check_in(
        officer, summons, **device_fix((lon, lat), at, accuracy_m=400), now=at
    )
    assert flagged.check_in_flag == Summons.CheckInFlag.PENDING
    return flagged


def build_states(city: WhistleCity) -> States:
    """A case, a summons and a notice in each state the desk's buttons can meet, with the
    events of each case going forward in time."""
    t = Clock(START)
    cases: dict[str, Case] = {}
    summonses: dict[str, Summons] = {}
    notices: dict[str, SupervisionNotice] = {}
    # A dispatcher who also stands urban management's duty in the command centre.
    urban_dispatcher = make_person("urban-dispatcher", Role.DISPATCHER, jurisdiction=city.longtan)
    CentreMembership.objects.get(department=city.urban).people.add(urban_dispatcher)

    cases["reported"] = _report(city, t)
    elsewhere = {"reporter": city.dongsi_steward, "lon": 116.413, "lat": 39.925}
    cases["reported elsewhere"] = _report(city, t, **elsewhere)
    cases["filed elsewhere"] = actions.file_case(
        city.dongsi_dispatcher,
        _report(city, t, **elsewhere),
        category=city.street_vending,
        now=t(),
    )
    cases["rejected"] = actions.reject_case(
        city.dispatcher, _report(city, t), reason="重复", now=t()
    )
    cases["filed"] = _filed(city, t)
    cases["filed, near no lane"] = _filed(city, t, lon=OFF_ANY_LANE[0], lat=OFF_ANY_LANE[1])

    dispatched = _filed(city, t)
    routine = actions.dispatch_case(city.dispatcher, dispatched, department=city.urban, now=t())
    cases["dispatched"] = dispatched
    summonses["routine, summoned"] = routine
    routine_acknowledged = actions.dispatch_case(
        city.dispatcher, _filed(city, t), department=city.urban, now=t()
    )
    summonses["routine, acknowledged"] = actions.acknowledge(
        city.urban_officer, routine_acknowledged, now=t()
    )

    waiting, urban, police = _whistled(city, t)
    cases["whistled, nobody arrived"] = waiting
    summonses["summoned"] = urban
    summonses["acknowledged"] = actions.acknowledge(city.police_officer, police, now=t())
    notices["unanswered"] = actions.issue_supervision_notice(
        city.township_chief,
        waiting,
        department=city.police,
        text="立即到场",
        due_at=NOW + timedelta(days=1),
        now=t(),
    )

    settled, urban, police = _whistled(city, t)
    summonses["on site"] = _on_site(city, t, urban, city.urban_officer)
    summonses["released before arriving"] = actions.release(city.dispatcher, police, now=t())
    cases["whistled, everyone settled"] = settled
    answered = actions.issue_supervision_notice(
        city.district_office,
        settled,
        department=city.urban,
        text="加快处置",
        due_at=NOW + timedelta(days=1),
        now=t(),
    )
    notices["answered"] = actions.answer_supervision_notice(
        city.urban_head, answered, answer="已到场", now=t()
    )

    declining, urban, police = _whistled(city, t)
    summonses["declined"] = actions.decline(
        city.urban_officer, urban, reason="非本部门职责", now=t()
    )
    declined = actions.decline(city.police_officer, police, reason="非本部门职责", now=t())
    summonses["insisted on"] = actions.rule_on_decline(
        city.dispatcher, declined, uphold=False, note="涉及本部门职责，须办理", now=t()
    )
    cases["whistled, a decline to rule on"] = declining

    escalated = actions.escalate(city.lane_chief, _filed(city, t), reason="久拖不决", now=t())
    cases["escalated to the township"] = escalated
    cases["escalated to the district"] = actions.escalate(
        city.township_chief, _filed(city, t), reason="久拖不决", now=t()
    )
    cases["escalated to the district"] = actions.escalate(
        city.district_chief, cases["escalated to the district"], reason="区级督办", now=t()
    )

    handled, urban, police = _whistled(city, t)
    summonses["done"] = actions.report_result(
        city.urban_officer, _on_site(city, t, urban, city.urban_officer), result="已清理", now=t()
    )
    released_on_site = _on_site(city, t, police, city.police_officer)
    summonses["released on site"] = actions.release(city.dispatcher, released_on_site, now=t())
    cases["handled"] = actions.mark_handled(city.dispatcher, handled, now=t())

    flagging, urban, police = _whistled(city, t)
    summonses["check-in flagged"] = _flagged(t, urban, city.urban_officer)
    summonses["check-in confirmed"] = actions.rule_on_check_in(
        city.dispatcher, _flagged(t, police, city.police_officer), confirm=True, now=t()
    )
    cases["whistled, a check-in to rule on"] = flagging

    left_case, urban, police = _whistled(city, t)
    _on_site(city, t, urban, city.urban_officer)
    actions.release(city.dispatcher, police, now=t())
    actions.mark_handled(city.dispatcher, left_case, now=t())
    summonses["checked out"] = actions.check_out(city.urban_officer, urban, now=t())

    cases["checked"] = actions.check_passed(city.dispatcher, _solved(city, t), now=t())
    came, urban, police = _whistled(city, t)
    for summons, officer in ((urban, city.urban_officer), (police, city.police_officer)):
        actions.report_result(
            officer, _on_site(city, t, summons, officer), result="已清理", now=t()
        )
    actions.mark_handled(city.dispatcher, came, now=t())
    actions.check_passed(city.dispatcher, came, now=t())
    cases["closed, after a whistle"] = actions.close_case(city.dispatcher, came, now=t())
    hotline = dict(reporter=city.dispatcher, source="hotline", reporter_name="王先生")
    closed = _solved(city, t, **hotline)
    actions.check_passed(city.dispatcher, closed, now=t())
    cases["closed, from the hotline"] = actions.close_case(city.dispatcher, closed, now=t())
    called_back = _solved(city, t, **hotline)
    actions.check_passed(city.dispatcher, called_back, now=t())
    actions.close_case(city.dispatcher, called_back, now=t())
    cases["closed, called back"] = actions.record_resident_callback(
        city.dispatcher, called_back, satisfied=True, now=t()
    )
    evaluated = _solved(city, t)
    actions.check_passed(city.dispatcher, evaluated, now=t())
    actions.close_case(city.dispatcher, evaluated, now=t())
    cases["evaluated"] = actions.evaluate_case(city.assessor, evaluated, rating=4, now=t())
    cases["on the backlog"] = actions.put_on_backlog(
        city.dispatcher, _filed(city, t), reason="需拆违", review_on=date(2026, 4, 1), now=t()
    )
    order: dict[str, Any] = {
        "description": "人民市场东巷有游商占道",
        "lon": ON_THE_LANE[0],
        "lat": ON_THE_LANE[1],
    }
    cases["work order, awaiting the reply"] = actions.take_hotline_order(
        city.dispatcher, number="P-1", caller_name="王先生", now=t(), **order
    ).case
    replied = actions.take_hotline_order(
        city.dispatcher, number="P-2", caller_phone="13800138000", now=t(), **order
    ).case
    cases["work order, replied"] = actions.record_hotline_reply(
        city.dispatcher, replied, kind="done", reply="已处理", now=t()
    )
    in_progress = actions.take_hotline_order(
        city.dispatcher, number="P-3", caller_phone="13800138000", now=t(), **order
    ).case
    cases["work order, in progress"] = actions.record_hotline_reply(
        city.dispatcher,
        in_progress,
        kind="in_progress",
        reply="正在处理",
        promised_by=NOW + timedelta(days=3),
        now=t(),
    )
    return States(cases, summonses, notices, {"urban_dispatcher": urban_dispatcher})


def _solved(city: WhistleCity, t: Clock, **fields: Any) -> Case:
    return actions.solve_on_spot(city.dispatcher, _filed(city, t, **fields), note="已处理", now=t())


# What the page offers, what the action does ---------------------------------------------------


class Page:
    """The case pages one person opens: each case loaded once, as the case page loads it."""

    def __init__(self, person: Person) -> None:
        self.person = person
        self.forms = OperationForms(person, Choices())
        self.cases: dict[str, Case | None] = {}

    def case(self, reference: str) -> Case | None:
        if reference not in self.cases:
            try:
                self.cases[reference] = prefetch_case(find_case(self.person, reference))
            except Http404:
                self.cases[reference] = None
        return self.cases[reference]

    def offers(self, op_name: str, reference: str, key: str) -> bool:
        """Whether the case page shows the operation's form on the target."""
        op = OPERATIONS[op_name]
        case = self.case(reference)
        if case is None:
            return False
        if op.target == CASE:
            target: Any = case
        elif op.target == SUMMONS:
            target = next(s for s in case.summonses.all() if s.uuid.hex == key)
            target.case = case
        else:
            target = SupervisionNotice.objects.select_related("department").get(pk=key)
            target.case = case
        made = self.forms.available(target, (op_name,)).get(op_name)
        return made is not None and not made.waiting


def _free_department(city: WhistleCity, case: Case) -> Any:
    """A department serving the case's township and not summoned on it now."""
    assert case.township is not None
    summoned = case.summonses.filter(status__in=Summons.OPEN_STATUSES).values("department")
    return departments_serving(case.township).exclude(pk__in=summoned).order_by("pk").first()


# Valid input for each action on a target.
def _unit_of(case: Case) -> TownshipUnit:
    """A unit of the case's township that the case is not with yet."""
    unit, _created = TownshipUnit.objects.get_or_create(
        township=case.township, name="综合执法队", defaults={"kind": "enforcement"}
    )
    return unit


ARGUMENTS: dict[str, Callable[[WhistleCity, Any], dict[str, Any]]] = {
    "file": lambda city, case: {"category": city.street_vending},
    "reject": lambda city, case: {"reason": "不属于城市管理问题"},
    "merge": lambda city, case: {
        "into": Case.objects.exclude(pk=case.pk)
        .filter(township=case.township)
        .exclude(status__in=[Case.Status.REJECTED, Case.Status.MERGED])
        .order_by("pk")
        .first()
    },
    "solve": lambda city, case: {"note": "已处理"},
    "route": lambda city, case: {"office": _unit_of(case)},
    "dispatch": lambda city, case: {"department": _free_department(city, case)},
    "whistle": lambda city, case: {
        "kind": "routine",
        "departments": [_free_department(city, case)],
    },
    "summon_more": lambda city, case: {"departments": [_free_department(city, case)]},
    "mark_handled": lambda city, case: {},
    "check_passed": lambda city, case: {},
    "rework": lambda city, case: {"reason": "仍有垃圾"},
    "close": lambda city, case: {},
    "evaluate": lambda city, case: {"rating": 5},
    "callback": lambda city, case: {"satisfied": True, "resolved": True},
    "reply": lambda city, case: {"kind": "done", "reply": "已处理"},
    "final_reply": lambda city, case: {"kind": "done", "reply": "已处理"},
    "backlog": lambda city, case: {"reason": "需拆违", "review_on": date(2026, 4, 1)},
    "resume": lambda city, case: {},
    "escalate": lambda city, case: {"reason": "久拖不决"},
    "supervise": lambda city, case: {
        "department": _free_department(city, case),
        "text": "立即到场",
        "due_at": NOW + timedelta(days=1),
    },
    "rule": lambda city, summons: {"uphold": True},
    "release": lambda city, summons: {},
    "acknowledge": lambda city, summons: {},
    "rule_check_in": lambda city, summons: {"confirm": True, "note": "电话核实"},
    "check_in": lambda city, summons: device_fix(),
    "progress": lambda city, summons: {"text": "正在处置"},
    "result": lambda city, summons: {"result": "已清理"},
    "decline": lambda city, summons: {"reason": "非本部门职责"},
    "check_out": lambda city, summons: {},
    "answer": lambda city, notice: {"answer": "已整改"},
}


class _RollBack(Exception):
    pass


def taken(person: Person, op_name: str, target: Any, arguments: dict[str, Any]) -> bool:
    """Whether the action takes the attempt (a refusal it keeps in the trail counts: the
    attempt is on the record). Nothing it writes stays."""
    op = OPERATIONS[op_name]
    result = False
    try:
        with transaction.atomic():
            try:
                op.perform(person, target, **arguments)
            except InvalidInput as exc:
                raise AssertionError(f"{op_name}: the test's input was refused: {exc}") from exc
            except RecordedRefusal:
                result = True
            except ActionRefused:
                result = False
            else:
                result = True
            raise _RollBack
    except _RollBack:
        pass
    return result


def _targets(states: States, kind: str) -> Iterator[tuple[str, Any, str, str]]:
    """(state, target, case reference, form key) for every target of the kind."""
    if kind == CASE:
        for name, case in states.cases.items():
            yield name, case, case.reference, case.reference
    elif kind == SUMMONS:
        for name, summons in states.summonses.items():
            yield name, summons, summons.case.reference, summons.uuid.hex
    else:
        for name, notice in states.notices.items():
            yield name, notice, notice.case.reference, str(notice.pk)


@pytest.mark.slow
def test_the_page_offers_a_button_exactly_when_the_action_would_take_it(whistle_city, subtests):
    city = whistle_city
    states = build_states(city)
    with time_machine.travel(NOW, tick=False):
        # A person as a request loads them: roles read once, on first use.
        people = {**{p: getattr(city, p) for p in PERSONAS}, **states.people}
        pages = {p: Page(Person.objects.get(pk=person.pk)) for p, person in people.items()}
        for op_name, op in OPERATIONS.items():
            with subtests.test(operation=op_name):
                mismatches = []
                offers = 0
                for state, target, reference, key in _targets(states, op.target):
                    # The actions lock and read the target afresh; what they are given is
                    # only where to start.
                    fresh = type(target).objects.get(pk=target.pk)
                    arguments = ARGUMENTS[op_name](city, fresh)
                    for persona, page in pages.items():
                        shown = page.offers(op_name, reference, key)
                        action = taken(page.person, op_name, fresh, arguments)
                        offers += shown
                        if shown != action:
                            mismatches.append((state, persona, f"page {shown}, action {action}"))
                assert mismatches == []
                # The matrix reaches states where the button shows, not only where it does not.
                assert offers > 0


def test_every_operation_names_a_rule_of_the_cases_domain():
    assert {op.rule for op in OPERATIONS.values()} <= set(RULES)
    for op in OPERATIONS.values():
        assert op.target in (CASE, SUMMONS, NOTICE)


def test_a_page_reads_the_persons_roles_once_for_a_whole_list(
    whistle_city, django_assert_num_queries
):
    city = whistle_city
    cases = [
        actions.report_case(
            city.steward, description=f"游商{i}", lon=ON_THE_LANE[0], lat=ON_THE_LANE[1]
        )
        for i in range(5)
    ]
    cases = list(Case.objects.filter(pk__in=[c.pk for c in cases]).select_related("township"))
    person = Person.objects.get(pk=city.dispatcher.pk)
    with django_assert_num_queries(1):
        assert all(may(person, "file_case", c) for c in cases)
        assert not any(may(person, "close_case", c) for c in cases)


def test_a_page_reads_the_persons_departments_once_for_a_whole_list(
    whistle_city, django_assert_num_queries
):
    city = whistle_city
    declined = []
    for _n in range(3):
        _case, _whistle, summonses = whistled_case(city, departments=[city.urban])
        declined.append(
            actions.decline(city.urban_officer, summonses[city.urban.pk], reason="非本部门职责")
        )
    listed = list(
        Summons.objects.filter(pk__in=[s.pk for s in declined]).select_related(
            "case__township", "department"
        )
    )
    CentreMembership.objects.get(department=city.urban).people.add(city.dispatcher)
    person = Person.objects.get(pk=city.dispatcher.pk)
    # The roles (with their departments), then the centre's duties.
    with django_assert_num_queries(2):
        refusals = [refusal_for(person, "rule_on_decline", s) for s in listed]
    for refused in refusals:
        assert isinstance(refused, PermissionRefused)
        assert city.urban.name in str(refused)


def test_an_action_reads_the_roles_afresh(whistle_city):
    """A page's roles are kept for the request; the action asks the database again."""
    city = whistle_city
    case = actions.report_case(
        city.steward, description="游商", lon=ON_THE_LANE[0], lat=ON_THE_LANE[1]
    )
    person = Person.objects.get(pk=city.dispatcher.pk)
    assert may(person, "file_case", case)
    person.roles.all().delete()
    assert grants_of(person)  # the page's view of this request
    with pytest.raises(PermissionRefused):
        require(person, "file_case", case)


def test_a_refusal_names_who_may_and_a_state_refusal_says_why(whistle_city):
    city = whistle_city
    case = actions.report_case(
        city.steward, description="游商", lon=ON_THE_LANE[0], lat=ON_THE_LANE[1]
    )
    officer = Person.objects.get(pk=city.urban_officer.pk)
    refused = refusal_for(officer, "file_case", case)
    assert isinstance(refused, PermissionRefused)
    assert "龙潭街道" in str(refused)
    dispatcher = Person.objects.get(pk=city.dispatcher.pk)
    refused = refusal_for(dispatcher, "close_case", case)
    assert refused is not None and not isinstance(refused, PermissionRefused)
    assert refusal_for(dispatcher, "file_case", case) is None
