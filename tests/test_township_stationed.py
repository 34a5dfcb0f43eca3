"""Day-to-day management of stationed staff (派驻人员日常管理考核权): the township's roster of
the people departments station in its centre, their attendance and leave, and its monthly
assessment of each of them, which feeds the department's score.

September 2026 in 龙潭街道: 1 September is a Tuesday; 5–6 and 12–13 are weekends.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.utils import translation

from tests.conftest import make_person
from tests.fixtures_assessment import july_fixture, scheme_one_third  # noqa: F401
from tests.fixtures_stationed import centre_fixture, fire_in_longtan, station_ma  # noqa: F401
from tests.fixtures_township import bj
from tests.test_assessment import import_inspection, rate_all
from whistle.assessment.models import (
    STATIONED_COMPONENT,
    ComponentScore,
    DepartmentResult,
    Scheme,
    SchemeComponent,
)
from whistle.assessment.periods import Period
from whistle.assessment.what_if import Proposal, proposed_scheme, what_if
from whistle.notifications.models import Notification
from whistle.organisation.models import CentreMembership, Role, RoleAssignment
from whistle.township import stationed_actions as act
from whistle.township.errors import InvalidTownshipInput, TownshipRefused
from whistle.township.models import TownshipLogEntry
from whistle.township.stationed import StationedAttendance, StationedLeave, Stationing
from whistle.township.stationed_rules import month_attendance

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


Action = TownshipLogEntry.Action
D = Decimal


# The roster ---------------------------------------------------------------------------------


def test_the_chiefs_office_stations_an_officer_changes_and_ends_it_with_the_log(centre):
    c = centre
    ma = station_ma(c)
    assert (ma.membership, ma.person, ma.post, ma.started_on) == (
        c.police_in_longtan,
        c.officer_ma,
        "社区民警",
        date(2026, 9, 1),
    )
    assert list(c.police_in_longtan.people.all()) == [c.officer_ma]
    with time_machine.travel(bj(2, 9), tick=False):
        act.change_stationing(c.longtan_chief, ma, post="治安民警", started_on=date(2026, 8, 31))
    with time_machine.travel(bj(30, 17), tick=False):
        act.end_stationing(c.longtan_office, ma, ended_on=date(2026, 9, 30), reason="轮岗回所")
    ma.refresh_from_db()
    assert (ma.post, ma.started_on, ma.ended_on, ma.end_reason) == (
        "治安民警",
        date(2026, 8, 31),
        date(2026, 9, 30),
        "轮岗回所",
    )
    assert list(c.police_in_longtan.people.all()) == []
    log = list(TownshipLogEntry.objects.filter(stationing=ma).order_by("at"))
    assert [(e.action, e.actor, e.actor_role) for e in log] == [
        (Action.STATIONING_ADDED, c.longtan_office, Role.CHIEFS_OFFICE),
        (Action.STATIONING_CHANGED, c.longtan_chief, Role.TOWNSHIP_CHIEF),
        (Action.STATIONING_ENDED, c.longtan_office, Role.CHIEFS_OFFICE),
    ]
    assert log[1].data["before"] == {"post": "社区民警", "started_on": "2026-09-01"}
    with pytest.raises(TownshipRefused):
        act.end_stationing(c.longtan_office, ma, ended_on=date(2026, 10, 1), reason="again")


def test_the_roster_refuses_what_does_not_fit(centre):
    c = centre
    # Another township's chief, the dispatcher and the department's own head keep no roster.
    for outsider in (c.dongsi_chief, c.longtan_dispatcher, c.police_head):
        with pytest.raises(TownshipRefused):
            act.station_person(
                outsider, c.police_in_longtan, c.officer_ma, started_on=date(2026, 9, 1)
            )
    # On call is not stationed; a person of another department is refused by name.
    with pytest.raises(InvalidTownshipInput) as on_call:
        act.station_person(
            c.longtan_chief, c.urban_on_call, c.officer_ma, started_on=date(2026, 9, 1)
        )
    assert on_call.value.field == "membership"
    with pytest.raises(InvalidTownshipInput) as stranger:
        act.station_person(
            c.longtan_chief, c.police_in_longtan, c.longtan_dispatcher, started_on=date(2026, 9, 1)
        )
    assert stranger.value.field == "person"
    station_ma(c)
    # 马 cannot be stationed in 东四 while stationed in 龙潭.
    dongsi_chief = c.dongsi_chief
    with pytest.raises(InvalidTownshipInput):
        act.station_person(
            dongsi_chief, c.police_in_dongsi, c.officer_ma, started_on=date(2026, 9, 15)
        )
    assert Stationing.objects.count() == 1
    assert TownshipLogEntry.objects.count() == 1


def _between(page: str, start: str, end: str) -> str:
    return page.split(start, 1)[1].split(end, 1)[0]


def test_the_roster_form_offers_each_departments_people_under_its_name(centre, client):
    c = centre
    fire, firefighter = fire_in_longtan(c)
    client.force_login(c.longtan_chief)
    page = client.get(f"/township/stationed/?township={c.city.longtan.code}").content.decode()
    # Each department names its key, which its people under its heading carry too, so that
    # choosing the department narrows the people to its own.
    departments = _between(page, 'name="membership"', "</select>")
    assert "data-narrows" in departments
    assert f'value="{c.police_in_longtan.pk}" data-group="{c.city.police.pk}"' in departments
    assert f'value="{fire.pk}" data-group="{fire.department_id}"' in departments
    people = _between(page, 'name="person"', "</select>")
    police = _between(people, '<optgroup label="龙潭派出所">', "</optgroup>")
    firefighters = _between(people, '<optgroup label="天坛消防救援站">', "</optgroup>")
    assert f'value="{c.officer_ma.pk}" data-group="{c.city.police.pk}"' in police
    assert f'value="{c.officer_niu.pk}"' in police and "张建晨" not in police
    assert f'value="{firefighter.pk}" data-group="{fire.department_id}"' in firefighters
    assert "ma-police-officer" not in firefighters
    # Without the script the server still refuses a person of another department.
    refused = client.post(
        f"/township/stationed/?township={c.city.longtan.code}",
        {
            "membership": c.police_in_longtan.pk,
            "person": firefighter.pk,
            "started_on": "2026-09-01",
        },
    )
    assert refused.status_code == 400
    assert "张建晨不是龙潭派出所的工作人员。" in refused.content.decode()
    assert not Stationing.objects.exists()


def test_a_stationing_is_entered_at_most_a_year_back(centre, client):
    c = centre
    url = f"/township/stationed/?township={c.city.longtan.code}"
    client.force_login(c.longtan_chief)
    with time_machine.travel(bj(31, 10, month=8), tick=False):
        refused = client.post(
            url,
            {
                "membership": c.police_in_longtan.pk,
                "person": c.officer_ma.pk,
                "started_on": "1999-01-01",
            },
        )
        assert refused.status_code == 400
        assert "派驻起始日最多只能追溯一年：须为 2025-08-31 或之后。" in refused.content.decode()
        assert not Stationing.objects.exists()
        with pytest.raises(InvalidTownshipInput) as too_old:
            act.station_person(
                c.longtan_chief, c.police_in_longtan, c.officer_ma, started_on=date(2025, 8, 30)
            )
        assert too_old.value.field == "started_on"
        with translation.override("en"):
            assert "2025-08-31 or later" in str(too_old.value)
        ma = act.station_person(
            c.longtan_chief, c.police_in_longtan, c.officer_ma, started_on=date(2025, 8, 31)
        )
    # A correction of the first day is held to the same bound.
    with time_machine.travel(bj(2, 9), tick=False), pytest.raises(InvalidTownshipInput):
        act.change_stationing(c.longtan_chief, ma, post="", started_on=date(1999, 1, 1))
    ma.refresh_from_db()
    assert ma.started_on == date(2025, 8, 31)


# Attendance -------------------------------------------------------------------------------


def test_the_officer_signs_in_once_a_day_and_the_keeper_records_a_missed_sign_in(centre):
    c = centre
    ma = station_ma(c)
    with time_machine.travel(bj(1, 8, 45), tick=False):
        act.sign_in(c.officer_ma, ma)
        with pytest.raises(TownshipRefused):
            act.sign_in(c.officer_ma, ma)
        # Nobody signs in for someone else on the phone.
        with pytest.raises(TownshipRefused):
            act.sign_in(c.officer_niu, ma)
    with time_machine.travel(bj(3, 18), tick=False):
        act.record_attendance(c.longtan_dispatcher, ma, day=date(2026, 9, 2), note="手机没电")
        with pytest.raises(InvalidTownshipInput):
            act.record_attendance(c.longtan_dispatcher, ma, day=date(2026, 9, 4))
        with pytest.raises(TownshipRefused):
            act.record_attendance(c.dongsi_chief, ma, day=date(2026, 9, 3))
    rows = list(StationedAttendance.objects.order_by("day").values_list("day", "how"))
    assert rows == [(date(2026, 9, 1), "self"), (date(2026, 9, 2), "keeper")]
    # On 8 September: working days 1, 2, 3, 4, 7; signed 1 and 2; absent 3, 4 and 7.
    month = month_attendance([ma], date(2026, 9, 1), date(2026, 9, 8))[ma.pk]
    assert month.facts == {
        "working_days": 5,
        "signed": 2,
        "on_leave": 0,
        "absent": 3,
        "absent_days": ["2026-09-03", "2026-09-04", "2026-09-07"],
    }


# Leave ------------------------------------------------------------------------------------


def test_leave_is_asked_by_the_officer_and_decided_by_the_township_once(centre):
    c = centre
    ma = station_ma(c)
    with time_machine.travel(bj(2, 9), tick=False):
        leave = act.ask_leave(
            c.officer_ma,
            ma,
            first_day=date(2026, 9, 3),
            last_day=date(2026, 9, 4),
            reason="家中有事",
        )
    told = Notification.objects.filter(kind="township.leave", channel="inbox")
    assert {n.recipient_id for n in told} == {c.longtan_chief.pk, c.longtan_office.pk}
    assert "/township/stationed/leave/" in told[0].link
    # The dispatcher keeps the centre but does not decide leave; nor does another township.
    for outsider in (c.longtan_dispatcher, c.dongsi_chief, c.police_head):
        with pytest.raises(TownshipRefused):
            act.decide_leave(outsider, leave, approve=True)
    with pytest.raises(InvalidTownshipInput) as no_reason:
        act.decide_leave(c.longtan_chief, leave, approve=False)
    assert no_reason.value.field == "note"
    with time_machine.travel(bj(2, 10), tick=False):
        act.decide_leave(c.longtan_chief, leave, approve=True, note="同意")
        with pytest.raises(TownshipRefused):
            act.decide_leave(c.longtan_office, leave, approve=False, note="不同意")
    leave.refresh_from_db()
    assert (leave.state, leave.decided_by) == (StationedLeave.State.APPROVED, c.longtan_chief)
    decided = Notification.objects.get(kind="township.leave_decided", channel="inbox")
    assert decided.recipient == c.officer_ma
    # Days on approved leave are not absences: on 8 September only 7 September is.
    month = month_attendance([ma], date(2026, 9, 1), date(2026, 9, 8))[ma.pk]
    assert (month.facts["on_leave"], month.facts["absent_days"]) == (
        2,
        ["2026-09-01", "2026-09-02", "2026-09-07"],
    )
    with pytest.raises(InvalidTownshipInput):
        act.ask_leave(
            c.officer_ma, ma, first_day=date(2026, 9, 4), last_day=date(2026, 9, 7), reason="again"
        )


def test_nobody_decides_their_own_leave(centre):
    """马 also works in 龙潭's chiefs' office: he asks for leave and cannot approve it; he is
    not told of his own request either."""
    c = centre
    RoleAssignment.objects.create(
        person=c.officer_ma, role=Role.CHIEFS_OFFICE, jurisdiction=c.city.longtan
    )
    ma = station_ma(c)
    with time_machine.travel(bj(2, 9), tick=False):
        leave = act.ask_leave(
            c.officer_ma, ma, first_day=date(2026, 9, 7), last_day=date(2026, 9, 7), reason="体检"
        )
        with pytest.raises(TownshipRefused, match="own leave"):
            act.decide_leave(c.officer_ma, leave, approve=True)
    told = Notification.objects.filter(kind="township.leave", channel="inbox")
    assert c.officer_ma.pk not in {n.recipient_id for n in told}
    leave.refresh_from_db()
    assert leave.state == StationedLeave.State.ASKED


# The monthly assessment ---------------------------------------------------------------------


def test_the_assessor_publishes_a_month_once_the_department_head_is_told(centre):
    c = centre
    ma = station_ma(c)
    with time_machine.travel(bj(1, 8, 30), tick=False):
        act.sign_in(c.officer_ma, ma)
    with (
        time_machine.travel(bj(30, 18), tick=False),
        pytest.raises(InvalidTownshipInput, match="over"),
    ):
        act.publish_assessment(
            c.longtan_assessor, ma, month=date(2026, 9, 1), score="90", reasons="出勤好"
        )
    with time_machine.travel(bj(2, 9, month=10), tick=False):
        for bad in ("101", "abc", "-1"):
            with pytest.raises(InvalidTownshipInput) as wrong:
                act.publish_assessment(
                    c.longtan_assessor, ma, month=date(2026, 9, 1), score=bad, reasons="x"
                )
            assert wrong.value.field == "score"
        with pytest.raises(TownshipRefused):
            act.publish_assessment(
                c.longtan_dispatcher, ma, month=date(2026, 9, 1), score="90", reasons="x"
            )
        assessment = act.publish_assessment(
            c.longtan_assessor, ma, month=date(2026, 9, 1), score="88.5", reasons="缺勤较多"
        )
        with pytest.raises(TownshipRefused, match="already"):
            act.publish_assessment(
                c.longtan_chief, ma, month=date(2026, 9, 1), score="90", reasons="x"
            )
    assert assessment.score == D("88.50")
    # One working day of September signed, every other one absent.
    assert assessment.facts["signed"] == 1
    assert assessment.facts["absent"] == assessment.facts["working_days"] - 1
    assert assessment.facts["summonses"] == 0
    told = {
        n.recipient_id: n.link
        for n in Notification.objects.filter(kind="township.stationed_assessed", channel="inbox")
    }
    assert told == {
        c.police_head.pk: "/department/stationed/?month=2026-09",
        c.officer_ma.pk: "/stationed/",
    }
    score = ComponentScore.objects.get(component=STATIONED_COMPONENT)
    assert (score.department, score.period, score.score) == (c.city.police, "2026-09", D("88.50"))


def test_nobody_assesses_themselves(centre):
    c = centre
    RoleAssignment.objects.create(
        person=c.officer_ma, role=Role.TOWNSHIP_ASSESSOR, jurisdiction=c.city.longtan
    )
    ma = station_ma(c)
    with (
        time_machine.travel(bj(2, 9, month=10), tick=False),
        pytest.raises(TownshipRefused, match="themselves"),
    ):
        act.publish_assessment(
            c.officer_ma, ma, month=date(2026, 9, 1), score="100", reasons="自评"
        )


@pytest.fixture(name="scored_july")
def scored_july_fixture(july, tmp_path):
    """July as tests/test_what_if.py scores it: 派出所 township evaluation 94.90, inspection
    80; 龙潭 and 东四 each have one police officer stationed since 1 July."""
    scheme_one_third(july.district)
    rate_all(july)
    import_inspection(july, tmp_path)
    police = july.police
    july.longtan_chief = make_person("li-chief", Role.TOWNSHIP_CHIEF, jurisdiction=july.longtan)
    july.dongsi_chief = make_person("xun-chief", Role.TOWNSHIP_CHIEF, jurisdiction=july.dongsi)
    niu = make_person("niu-officer", Role.DEPARTMENT_OFFICER, department=police)
    with time_machine.travel(bj(30, 9, month=6), tick=False):
        july.ma_station = act.station_person(
            july.longtan_chief,
            CentreMembership.objects.create(
                township=july.longtan, department=police, role="stationed"
            ),
            july.police_officer,
            started_on=date(2026, 7, 1),
        )
        july.niu_station = act.station_person(
            july.dongsi_chief,
            CentreMembership.objects.create(
                township=july.dongsi, department=police, role="stationed"
            ),
            niu,
            started_on=date(2026, 7, 1),
        )
    return july


def assess_july(m) -> None:
    """On 3 August 龙潭 gives its officer 90, 东四 gives its officer 80: the police station's
    stationed staff score 85 for July."""
    with time_machine.travel(bj(3, 10, month=8), tick=False):
        act.publish_assessment(
            m.longtan_chief, m.ma_station, month=date(2026, 7, 1), score="90", reasons="按时到岗"
        )
        act.publish_assessment(
            m.dongsi_chief, m.niu_station, month=date(2026, 7, 1), score="80", reasons="缺勤两天"
        )


def police_july(m) -> DepartmentResult:
    return DepartmentResult.objects.get(department=m.police, period="2026-07")


def test_with_the_default_share_of_0_the_assessment_changes_no_score(scored_july):
    m = scored_july
    before = police_july(m)
    assert before.total == D("84.97")  # 1/3 × 94.90 + 2/3 × 80
    assess_july(m)
    after = police_july(m)
    assert (after.total, after.components) == (D("84.97"), {"inspection": "80.00"})
    assert ComponentScore.objects.get(component=STATIONED_COMPONENT).score == D("85.00")


def test_the_assessment_feeds_the_score_by_its_share_and_the_what_if_agrees(scored_july):
    """Township 0.3, inspection 0.5, stationed staff 0.2:
    0.3 × 94.90 + 0.5 × 80 + 0.2 × (90 + 80) / 2 = 28.47 + 40 + 17 = 85.47."""
    m = scored_july
    assess_july(m)
    scheme = Scheme.objects.get(district=m.district)
    # The what-if replay of the proposal, nothing written.
    proposal = proposed_scheme(
        scheme,
        {"township_share": "0.3", "stationed_share": "0.2"},
        [{"code": "inspection", "name": "区级检查", "weight": "0.5"}],
    )
    replay = what_if(m.district, Period.parse("2026-07"), Proposal(scheme=proposal))
    row = next(r for r in replay.rows if r.department == m.police)
    assert row.now is not None and row.proposed is not None
    assert (row.now.total, row.proposed.total) == (D("84.97"), D("85.47"))
    assert row.proposed.components == {"inspection": "80.00", STATIONED_COMPONENT: "85.00"}
    # The district adopts it: the stored score says the same.
    Scheme.objects.filter(pk=scheme.pk).update(township_share="0.3", stationed_share="0.2")
    SchemeComponent.objects.filter(scheme=scheme).update(weight="0.5")
    with time_machine.travel(bj(4, 10, month=8), tick=False):
        act.publish_assessment(
            m.longtan_chief,
            act.station_person(
                m.longtan_chief,
                CentreMembership.objects.get(township=m.longtan, department=m.police),
                make_person("gao-officer", Role.DEPARTMENT_OFFICER, department=m.police),
                started_on=date(2026, 7, 20),
            ),
            month=date(2026, 7, 1),
            score="85",
            reasons="7月20日起派驻",
        )
    # (90 + 80 + 85) / 3 = 85: the same mean, the same total.
    assert police_july(m).total == D("85.47")
    assert police_july(m).complete


def test_a_component_of_the_district_cannot_take_the_reserved_code(scored_july):
    from django.core.exceptions import ValidationError

    scheme = Scheme.objects.get(district=scored_july.district)
    with pytest.raises(ValidationError):
        SchemeComponent(scheme=scheme, code=STATIONED_COMPONENT, name="x", weight="0").full_clean()
    with pytest.raises(ValidationError, match=r"120\.00%"):
        proposed_scheme(scheme, {"stationed_share": "0.2"})
