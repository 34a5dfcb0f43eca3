"""The acknowledgement chain: a summons goes to the person on duty first; while nobody
acknowledges it passes on to the backup, the department head and the township chief, each
step an event in the trail written by the deadline sweep, all before the acknowledgement
deadline; acknowledging stops it. Frozen clock, exact boundaries.

T0 is Tuesday 2026-05-12 23:59, Beijing time: 东城区城管执法局's night duty (王芳, backup 赵强)
is on. A routine whistle must be acknowledged within 10 minutes, an emergency one within 5.
The district's chain: the backup after 3 minutes, the head 3 minutes later, the township
chief 2 minutes after that (at 3, 6 and 8 minutes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tests.fixtures_cases import WhistleCity, filed_case, whistle_city_fixture  # noqa: F401
from tests.fixtures_duty import bj
from whistle.cases import actions
from whistle.cases.deadlines import sweep
from whistle.cases.models import Event, Summons
from whistle.cases.trail import EventKind
from whistle.duty import actions as duty_actions
from whistle.duty.models import Rotation
from whistle.notifications.models import Channel, Notification
from whistle.notifications.outbox import inbox
from whistle.organisation.models import Person, Role, RoleAssignment
from whistle.policies.admin import WhistleRuleForm
from whistle.policies.models import (
    AcknowledgementChain,
    AcknowledgementStep,
    ChainTarget,
    ShortLimitRule,
    WhistleKind,
    WhistleRule,
)

T0 = bj(2026, 5, 12, 23, 59)
MIN = timedelta(minutes=1)
SEC = timedelta(seconds=1)
MICROSECOND = timedelta(microseconds=1)


@dataclass
class ChainCity:
    city: WhistleCity
    chain: AcknowledgementChain
    wang: Person
    zhao: Person
    qian: Person


def officer(username: str, name: str, city: WhistleCity, phone: str) -> Person:
    person = Person.objects.create_user(
        username=username, password="pw-123456", name=name, phone=phone
    )
    RoleAssignment.objects.create(
        person=person, role=Role.DEPARTMENT_OFFICER, department=city.urban
    )
    return person


@pytest.fixture
def chained(whistle_city) -> ChainCity:
    city = whistle_city
    wang = officer("wang-officer", "王芳", city, "13800000011")
    zhao = officer("zhao-officer", "赵强", city, "13800000012")
    qian = officer("qian-officer", "钱伟", city, "13800000013")
    roster = duty_actions.start_roster(city.urban_head, department=city.urban, now=bj(2026, 5, 1))
    duty_actions.save_rotation(
        city.urban_head,
        roster,
        days=Rotation.Days.WORKING_DAYS,
        handovers="08:00,20:00",
        turn=Rotation.Turn.SHIFT,
        starts_on=date(2026, 5, 11),
        members=[(wang, None), (zhao, None), (qian, None)],
        now=bj(2026, 5, 1),
    )
    chain = AcknowledgementChain.objects.create(district=city.city.district)
    for position, (wait, target) in enumerate(
        [
            (3, ChainTarget.BACKUP),
            (3, ChainTarget.DEPARTMENT_HEAD),
            (2, ChainTarget.TOWNSHIP_CHIEF),
        ],
        start=1,
    ):
        AcknowledgementStep.objects.create(
            chain=chain, position=position, wait_minutes=wait, target=target
        )
    return ChainCity(city, chain, wang, zhao, qian)


def whistle_at(chained: ChainCity, at, *, kind: str = WhistleKind.ROUTINE) -> Summons:
    city = chained.city
    with time_machine.travel(at - 2 * MIN, tick=False):
        case = filed_case(city, at=at - 2 * MIN)
    with time_machine.travel(at, tick=False):
        whistle = actions.blow_whistle(
            city.dispatcher, case, kind=kind, departments=[city.urban], now=at
        )
    return Summons.objects.get(whistle=whistle, department=city.urban)


def sweep_at(moment) -> None:
    with time_machine.travel(moment, tick=False):
        sweep(timezone.now(), batch=100)


def steps_of(summons: Summons) -> list[Event]:
    return list(summons.events.filter(kind=EventKind.CHAIN_STEP).order_by("seq"))


def outside(person: Person, kind: str) -> list[Notification]:
    return list(
        Notification.objects.filter(recipient=person, kind=kind).exclude(channel=Channel.INBOX)
    )


# --- The first to hear -----------------------------------------------------------------


def test_a_summons_at_23_59_reaches_the_night_duty_on_their_own_phone(chained):
    city = chained.city
    summons = whistle_at(chained, T0)
    assert summons.on_duty == chained.wang
    assert summons.on_duty_backup == chained.zhao
    created = summons.events.get(kind=EventKind.SUMMONED)
    assert created.data["on_duty"] == "王芳"
    assert created.data["backup"] == "赵强"
    [sms] = outside(chained.wang, EventKind.SUMMONED)
    assert sms.channel == Channel.SMS and sms.urgent
    # The rest of the department sees it at the desk, not on their phones.
    assert not outside(city.urban_officer, EventKind.SUMMONED)
    assert not outside(chained.zhao, EventKind.SUMMONED)
    assert Notification.objects.filter(
        recipient=chained.zhao, kind=EventKind.SUMMONED, channel=Channel.INBOX
    ).exists()


def test_a_department_without_a_roster_hears_as_before_every_officer_on_their_phone(chained):
    city = chained.city
    city.police_officer.phone = "13800000021"
    city.police_officer.save(update_fields=["phone"])
    with time_machine.travel(T0 - 2 * MIN, tick=False):
        case = filed_case(city, at=T0 - 2 * MIN)
    with time_machine.travel(T0, tick=False):
        whistle = actions.blow_whistle(
            city.dispatcher, case, kind=WhistleKind.ROUTINE, departments=[city.police], now=T0
        )
    summons = Summons.objects.get(whistle=whistle)
    assert summons.on_duty is None
    [sms] = outside(city.police_officer, EventKind.SUMMONED)
    assert sms.urgent


def test_a_routine_dispatch_is_not_urgent(chained):
    city = chained.city
    with time_machine.travel(T0 - 2 * MIN, tick=False):
        case = filed_case(city, at=T0 - 2 * MIN)
    with time_machine.travel(T0, tick=False):
        actions.dispatch_case(city.dispatcher, case, department=city.urban, now=T0)
    [sms] = outside(chained.wang, EventKind.SUMMONED)
    assert not sms.urgent


# --- The chain, step by step --------------------------------------------------------------


def test_the_chain_reaches_the_backup_then_the_head_then_the_township_chief(chained):
    city = chained.city
    summons = whistle_at(chained, T0)
    due = summons.acknowledge_due_at
    assert due == T0 + 10 * MIN

    sweep_at(T0 + 3 * MIN)
    assert steps_of(summons) == []
    summons.refresh_from_db()
    assert summons.next_check_at == T0 + 3 * MIN + MICROSECOND

    sweep_at(T0 + 3 * MIN + MICROSECOND)
    [backup] = steps_of(summons)
    assert backup.at == T0 + 3 * MIN + MICROSECOND
    assert backup.data["target"] == ChainTarget.BACKUP
    assert backup.data["reached"] == ["赵强"]
    assert backup.data["planned_at"] == "2026-05-12T16:02:00.000000+00:00"
    assert backup.actor is None and backup.actor_role == "system"
    [sms] = outside(chained.zhao, EventKind.CHAIN_STEP)
    assert sms.urgent

    sweep_at(T0 + 6 * MIN)
    assert len(steps_of(summons)) == 1
    sweep_at(T0 + 6 * MIN + MICROSECOND)
    sweep_at(T0 + 8 * MIN + MICROSECOND)
    backup, head, chief = steps_of(summons)
    assert head.data["target"] == ChainTarget.DEPARTMENT_HEAD
    assert head.data["reached"] == [city.urban_head.display_name]
    assert chief.data["target"] == ChainTarget.TOWNSHIP_CHIEF
    assert chief.data["reached"] == [city.township_chief.display_name]
    assert all(step.at < due for step in (backup, head, chief))
    assert inbox(city.township_chief).filter(kind=EventKind.CHAIN_STEP).exists()
    summons.refresh_from_db()
    assert summons.chain_steps_taken == 3
    # Then the deadline itself, as before: due at 10:00, overdue the instant after.
    assert summons.next_check_at == due + MICROSECOND
    sweep_at(due + MICROSECOND)
    assert summons.events.filter(kind=EventKind.ACKNOWLEDGE_OVERDUE).count() == 1
    assert len(steps_of(summons)) == 3


def test_acknowledging_stops_the_chain(chained):
    summons = whistle_at(chained, T0)
    sweep_at(T0 + 3 * MIN + MICROSECOND)
    with time_machine.travel(T0 + 4 * MIN, tick=False):
        actions.acknowledge(chained.wang, summons, now=T0 + 4 * MIN)
    summons.refresh_from_db()
    # What is left to watch is the arrival: its half-time reminder at 15 minutes.
    assert summons.next_check_at == T0 + 15 * MIN
    sweep_at(T0 + 9 * MIN)
    assert len(steps_of(summons)) == 1
    assert not outside(chained.city.urban_head, EventKind.CHAIN_STEP)


def test_an_acknowledgement_at_exactly_the_step_time_comes_in_time(chained):
    summons = whistle_at(chained, T0)
    with time_machine.travel(T0 + 3 * MIN, tick=False):
        actions.acknowledge(chained.wang, summons, now=T0 + 3 * MIN)
    sweep_at(T0 + 3 * MIN + MICROSECOND)
    assert steps_of(summons) == []


def test_a_worker_back_after_two_steps_takes_both_in_order_in_one_pass(chained):
    summons = whistle_at(chained, T0)
    sweep_at(T0 + 7 * MIN)
    backup, head = steps_of(summons)
    assert (backup.data["step"], head.data["step"]) == (1, 2)
    assert backup.seq < head.seq
    summons.refresh_from_db()
    assert summons.chain_steps_taken == 2
    assert summons.next_check_at == T0 + 8 * MIN + MICROSECOND


def test_a_worker_back_after_the_deadline_takes_no_step_the_overdue_takes_over(chained):
    summons = whistle_at(chained, T0)
    sweep_at(T0 + 10 * MIN + SEC)
    assert steps_of(summons) == []
    assert summons.events.filter(kind=EventKind.ACKNOWLEDGE_OVERDUE).count() == 1
    escalation = summons.events.get(kind=EventKind.ESCALATED)
    assert escalation.data["level"] == "township"
    assert all(n.urgent for n in Notification.objects.filter(kind=EventKind.ESCALATED))


def test_a_second_sweep_at_the_same_instant_takes_no_step_twice(chained):
    summons = whistle_at(chained, T0)
    sweep_at(T0 + 3 * MIN + MICROSECOND)
    sweep_at(T0 + 3 * MIN + MICROSECOND)
    assert len(steps_of(summons)) == 1
    assert len(outside(chained.zhao, EventKind.CHAIN_STEP)) == 1


# --- A whistle with less time than the chain --------------------------------------------


def test_an_emergency_whistle_compresses_the_chain_into_its_five_minutes(chained):
    summons = whistle_at(chained, T0, kind=WhistleKind.EMERGENCY)
    assert summons.acknowledge_due_at == T0 + 5 * MIN
    created = summons.events.get(kind=EventKind.SUMMONED)
    # Each step keeps its share of the routine 10 minutes: 3, 6 and 8 become 1.5, 3 and 4.
    assert [s["at"] for s in created.data["chain"]] == [
        "2026-05-12T16:00:30+00:00",
        "2026-05-12T16:02:00+00:00",
        "2026-05-12T16:03:00+00:00",
    ]
    assert created.data["chain_fitted"]["rule"] == ShortLimitRule.COMPRESS
    assert created.data["chain_fitted"]["factor"] == 0.5
    assert created.data["chain_fitted"]["chain_minutes"] == 8
    sweep_at(T0 + 90 * SEC)
    assert steps_of(summons) == []
    sweep_at(T0 + 90 * SEC + MICROSECOND)
    assert [s.data["target"] for s in steps_of(summons)] == [ChainTarget.BACKUP]
    sweep_at(T0 + 4 * MIN + MICROSECOND)
    assert len(steps_of(summons)) == 3
    assert all(s.at < summons.acknowledge_due_at for s in steps_of(summons))


def test_with_the_cut_rule_the_steps_that_would_come_too_late_are_left_out(chained):
    chained.chain.when_limit_shorter = ShortLimitRule.CUT
    chained.chain.save(update_fields=["when_limit_shorter"])
    summons = whistle_at(chained, T0, kind=WhistleKind.EMERGENCY)
    created = summons.events.get(kind=EventKind.SUMMONED)
    assert [s["target"] for s in created.data["chain"]] == [ChainTarget.BACKUP]
    assert created.data["chain_fitted"]["rule"] == ShortLimitRule.CUT
    assert created.data["chain_fitted"]["left_out"] == [
        ChainTarget.DEPARTMENT_HEAD,
        ChainTarget.TOWNSHIP_CHIEF,
    ]
    sweep_at(T0 + 4 * MIN)
    assert [s.data["target"] for s in steps_of(summons)] == [ChainTarget.BACKUP]
    summons.refresh_from_db()
    assert summons.next_check_at == summons.acknowledge_due_at + MICROSECOND


def test_a_chain_that_fits_is_recorded_without_fitting(chained):
    summons = whistle_at(chained, T0)
    created = summons.events.get(kind=EventKind.SUMMONED)
    assert len(created.data["chain"]) == 3
    assert "chain_fitted" not in created.data


# --- The policy, as the district edits it -------------------------------------------------


def superuser_client() -> Client:
    admin = Person.objects.create_superuser(username="root", password="pw-123456")
    client = Client()
    client.force_login(admin)
    return client


def chain_form(district_id: int, waits: list[int]) -> dict[str, str]:
    data = {
        "district": str(district_id),
        "is_active": "on",
        "when_limit_shorter": ShortLimitRule.COMPRESS,
        "steps-TOTAL_FORMS": str(len(waits)),
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }
    targets = [ChainTarget.BACKUP, ChainTarget.DEPARTMENT_HEAD, ChainTarget.TOWNSHIP_CHIEF]
    for n, wait in enumerate(waits):
        data[f"steps-{n}-position"] = str(n + 1)
        data[f"steps-{n}-wait_minutes"] = str(wait)
        data[f"steps-{n}-target"] = targets[n % 3]
    return data


def test_the_admin_refuses_a_chain_that_cannot_finish_before_the_routine_deadline(whistle_city):
    client = superuser_client()
    district = whistle_city.city.district
    response = client.post(
        "/admin/policies/acknowledgementchain/add/", chain_form(district.pk, [3, 4, 3])
    )
    assert response.status_code == 200
    assert not AcknowledgementChain.objects.exists()
    assert "10" in response.content.decode()  # names the routine limit
    response = client.post(
        "/admin/policies/acknowledgementchain/add/", chain_form(district.pk, [3, 4, 2])
    )
    assert response.status_code == 302
    chain = AcknowledgementChain.objects.get(district=district)
    assert [s.wait_minutes for s in chain.steps.order_by("position")] == [3, 4, 2]


def test_the_routine_limit_cannot_be_shortened_below_the_chain(chained):
    rule = WhistleRule.objects.get(district=chained.city.city.district, kind=WhistleKind.ROUTINE)
    data = {
        "district": rule.district_id,
        "kind": rule.kind,
        "acknowledge_within": 8,
        "acknowledge_unit": rule.acknowledge_unit,
        "arrive_within": rule.arrive_within,
        "arrive_unit": rule.arrive_unit,
    }
    form = WhistleRuleForm(data, instance=rule)
    assert not form.is_valid()
    assert "acknowledge_within" in form.errors
    form = WhistleRuleForm({**data, "acknowledge_within": 9}, instance=rule)
    assert form.is_valid(), form.errors


# --- On the case page ----------------------------------------------------------------------


def trail_text(chained: ChainCity, summons: Summons, language: str) -> str:
    client = Client()
    client.force_login(chained.city.dispatcher)
    with time_machine.travel(T0 + 20 * MIN, tick=False):
        response = client.get(
            f"/cases/{summons.case.reference}/", headers={"accept-language": language}
        )
    assert response.status_code == 200
    page = response.content.decode()
    return " ".join(page[page.index('id="timeline') :].split())


def test_the_case_page_tells_each_step_of_the_chain_in_words(chained):
    summons = whistle_at(chained, T0, kind=WhistleKind.EMERGENCY)
    for moment in (T0 + 90 * SEC, T0 + 3 * MIN, T0 + 4 * MIN):
        sweep_at(moment + MICROSECOND)
    chinese = trail_text(chained, summons, "zh-hans")
    assert "沿签收链转送" in chinese
    assert "值守人员" in chinese and "王芳" in chinese and "值班备班" in chinese
    assert "第 1 步，共 3 步" in chinese and "第 3 步，共 3 步" in chinese
    assert "转给" in chinese and "街乡总街巷长" in chinese
    assert "压缩：签收链需 8 分钟，此召集须在 5 分钟内签收" in chinese
    # No code of the data shows through.
    for code in ("planned_at", "reached", "chain_fitted", "township_chief", "on_duty"):
        assert code not in chinese
    english = trail_text(chained, summons, "en")
    assert "Passed along the acknowledgement chain" in english
    assert "Step" in english and "1 of 3" in english
    # The chain's steps in a sentence; the value alone begins with a capital.
    assert "The backup on duty at" in english and "the department head at" in english
    compressed = "Compressed: the chain takes 8 min, the summons must be acknowledged within 5 min"
    assert compressed in english
