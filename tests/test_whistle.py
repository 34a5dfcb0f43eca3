"""Whistles and summonses: whom to call, deadlines, check-in on site, declines, release,
事不完、人不撤, rework, and the routine channel."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
import time_machine
from django.utils import translation

from tests.conftest import make_person
from tests.fixtures_cases import (
    ON_THE_LANE,
    beijing,
    device_fix,
    filed_case,
    on_site,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from whistle.cases import actions, deadlines
from whistle.cases.deadlines import next_check_for
from whistle.cases.models import Case, Event, Summons
from whistle.cases.trail import EventKind
from whistle.cases.worklists import summons_deadline
from whistle.notifications.models import Notification
from whistle.organisation import geo
from whistle.organisation.models import Department, Role
from whistle.policies.models import WhistleKind

NOW = beijing(2026, 3, 10, 10, 0)
S = Summons.Status


def minutes(n: int):
    return NOW + timedelta(minutes=n)


def point_at(distance_m: float, origin=ON_THE_LANE) -> tuple[float, float]:
    lon, lat, _back = geo.WGS84.fwd(origin[0], origin[1], 90, distance_m)
    return lon, lat


# Whom to summon -------------------------------------------------------------------------


def test_suggestions_put_the_centre_core_first_then_stationed_then_on_call(whistle_city):
    city = whistle_city
    city.street_vending.responsible_sectors.add(city.fire.sector)
    case = filed_case(city, at=NOW)
    suggestions = actions.suggest_departments(case)
    assert [(s.department, s.centre_role) for s in suggestions] == [
        (city.urban, "core"),
        (city.police, "stationed"),
        (city.fire, "on_call"),
    ]
    assert suggestions[1].people == [city.police_officer]


def test_suggestions_add_serving_departments_outside_the_centre(whistle_city):
    city = whistle_city
    city.exposed_garbage.responsible_sectors.add(city.housing.sector)
    case = filed_case(city, at=NOW, category=city.exposed_garbage)
    suggestions = actions.suggest_departments(case)
    assert [(s.department, s.centre_role) for s in suggestions] == [
        (city.urban, "core"),
        (city.housing, ""),
    ]


# Blowing the whistle --------------------------------------------------------------------


def test_a_whistle_gives_each_department_the_districts_deadlines(whistle_city):
    case, _whistle, summonses = whistled_case(whistle_city, at=NOW, kind=WhistleKind.EMERGENCY)
    police = summonses[whistle_city.police.pk]
    assert (police.acknowledge_due_at, police.arrive_due_at) == (minutes(5), minutes(15))
    # Four working hours from 10:00 on a Tuesday, lunch 12:00-13:30 excluded.
    assert police.resolve_due_at == beijing(2026, 3, 10, 15, 30)
    assert police.next_check_at == next_check_for(police, NOW)
    case.refresh_from_db()
    assert case.status == Case.Status.WHISTLED
    blown = Event.objects.get(case=case, kind=EventKind.WHISTLE_BLOWN)
    assert blown.data["changes"] == {"status": ["filed", "whistled"]}
    assert blown.actor_role == Role.DISPATCHER


def test_a_kind_without_a_rule_arrives_within_30_minutes(whistle_city):
    _case, _whistle, summonses = whistled_case(whistle_city, at=NOW, kind=WhistleKind.TOUGH)
    assert summonses[whistle_city.urban.pk].arrive_due_at == minutes(30)


def test_the_summoned_officers_hear_the_whistle(whistle_city):
    whistled_case(whistle_city, at=NOW)
    sent = Notification.objects.filter(kind=EventKind.SUMMONED)
    assert {(n.recipient, n.channel) for n in sent} == {
        (whistle_city.urban_officer, "inbox"),
        (whistle_city.urban_officer, "sms"),
        (whistle_city.urban_head, "inbox"),
        (whistle_city.police_officer, "inbox"),
    }
    assert "人民市场东巷" in sent.filter(recipient=whistle_city.police_officer).get().body


def test_only_the_townships_own_office_blows_its_whistle(whistle_city):
    city = whistle_city
    case = filed_case(city, at=NOW)
    for outsider in (city.steward, city.dongsi_dispatcher, city.urban_officer):
        with pytest.raises(actions.PermissionRefused):
            actions.blow_whistle(outsider, case, kind="routine", departments=[city.urban], now=NOW)
    assert not Summons.objects.exists()
    assert Event.objects.filter(case=case).count() == 2


def test_a_department_that_does_not_serve_the_township_cannot_be_summoned(whistle_city):
    city = whistle_city
    dongsi_police = Department.objects.create(
        code="dc-dongsi-pcs",
        name="东四派出所",
        kind="dispatched",
        sector=city.police.sector,
        district=city.district,
    )
    dongsi_police.serves.add(city.city.dongsi)
    case = filed_case(city, at=NOW)
    with pytest.raises(actions.InvalidInput) as refused:
        actions.blow_whistle(
            city.dispatcher, case, kind="routine", departments=[dongsi_police], now=NOW
        )
    assert "东四派出所" in str(refused.value)


def test_more_departments_join_a_sounding_whistle_with_their_own_deadlines(whistle_city):
    city = whistle_city
    _case, whistle, _summonses = whistled_case(city, at=NOW)
    [fire] = actions.summon_more(city.dispatcher, whistle, departments=[city.fire], now=minutes(20))
    assert fire.arrive_due_at == minutes(50)
    with pytest.raises(actions.InvalidInput):
        actions.summon_more(city.dispatcher, whistle, departments=[city.fire], now=minutes(21))


# Acknowledging and checking in ----------------------------------------------------------


def test_only_the_summoned_departments_people_acknowledge(whistle_city):
    city = whistle_city
    _case, _whistle, summonses = whistled_case(city, at=NOW)
    police = summonses[city.police.pk]
    for outsider in (city.urban_officer, city.dispatcher):
        with pytest.raises(actions.PermissionRefused):
            actions.acknowledge(outsider, police, now=minutes(1))
    police = actions.acknowledge(city.police_officer, police, now=minutes(2))
    assert (police.status, police.acknowledged_by) == (S.ACKNOWLEDGED, city.police_officer)
    assert police.next_check_at == next_check_for(police, minutes(2))


def test_a_check_in_counts_only_when_its_distance_plus_accuracy_lies_within_the_radius(
    whistle_city,
):
    city = whistle_city
    _case, _whistle, summonses = whistled_case(city, at=NOW)
    urban, police = summonses[city.urban.pk], summonses[city.police.pk]
    actions.acknowledge(city.urban_officer, urban, now=minutes(1))
    actions.acknowledge(city.police_officer, police, now=minutes(1))
    with pytest.raises(actions.CheckInRefused) as refused:
        actions.check_in(
            city.urban_officer, urban, **device_fix(point_at(301), minutes(5)), now=minutes(5)
        )
    assert refused.value.distance_m == pytest.approx(301, abs=0.2)
    # 295 m ± 5 m reaches exactly 300 m: clean.
    police = actions.check_in(
        city.police_officer,
        police,
        **device_fix(point_at(295), minutes(6), accuracy_m=5),
        now=minutes(6),
    )
    assert (police.status, police.check_in_flag) == (S.ON_SITE, Summons.CheckInFlag.NONE)
    assert police.arrived_distance_m == pytest.approx(295, abs=0.05)
    assert police.arrived_accuracy_m == 5
    # 295 m ± 5.1 m may lie 300.1 m away: accepted, but flagged for the township.
    urban = actions.check_in(
        city.urban_officer,
        urban,
        **device_fix(point_at(295), minutes(7), accuracy_m=5.1),
        now=minutes(7),
    )
    assert (urban.status, urban.check_in_flag) == (S.ON_SITE, Summons.CheckInFlag.PENDING)
    assert urban.check_in_flag_reasons == ["imprecise"]


def test_a_refused_check_in_is_kept_in_the_trail_with_the_distance(whistle_city):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city, at=NOW)
    urban = actions.acknowledge(city.urban_officer, summonses[city.urban.pk], now=minutes(1))
    lon, lat = point_at(900)
    with pytest.raises(actions.CheckInRefused) as refused, translation.override("en"):
        actions.check_in(
            city.urban_officer, urban, **device_fix((lon, lat), minutes(8)), now=minutes(8)
        )
    with translation.override("en"):
        assert "900 m from the case's position" in str(refused.value)
    with translation.override("zh-hans"):
        assert "案件位置 900 米" in str(refused.value)
    kept = Event.objects.get(case=case, kind=EventKind.CHECK_IN_REFUSED)
    assert kept.seq == refused.value.event_seq
    assert kept.data["distance_m"] == pytest.approx(900, abs=0.2)
    assert (kept.lon, kept.lat) == (lon, lat)
    urban.refresh_from_db()
    assert urban.status == S.ACKNOWLEDGED and urban.arrived_at is None


def test_the_radius_comes_from_the_district_policy(whistle_city):
    city = whistle_city
    city.policy.checkin_radius_m = 100
    city.policy.save(update_fields=["checkin_radius_m"])
    _case, _whistle, summonses = whistled_case(city, at=NOW)
    urban = actions.acknowledge(city.urban_officer, summonses[city.urban.pk], now=NOW)
    lon, lat = point_at(150)
    with pytest.raises(actions.CheckInRefused):
        actions.check_in(city.urban_officer, urban, **device_fix((lon, lat), NOW), now=NOW)


def test_with_meeting_point_coordinates_the_check_in_is_measured_from_there(whistle_city):
    city = whistle_city
    meeting = point_at(1000)
    _case, _whistle, summonses = whistled_case(
        city, at=NOW, meeting_point="夕照寺街口", meeting_lon=meeting[0], meeting_lat=meeting[1]
    )
    urban = actions.acknowledge(city.urban_officer, summonses[city.urban.pk], now=NOW)
    with pytest.raises(actions.CheckInRefused):
        actions.check_in(city.urban_officer, urban, **device_fix(ON_THE_LANE, NOW), now=NOW)
    urban = actions.check_in(
        city.urban_officer, urban, **device_fix(meeting, minutes(10)), now=minutes(10)
    )
    assert urban.arrived_distance_m == 0


def test_a_check_in_before_acknowledging_or_by_an_outsider_writes_nothing(whistle_city):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city, at=NOW)
    urban = summonses[city.urban.pk]
    before = Event.objects.filter(case=case).count()
    with pytest.raises(actions.ActionRefused):
        actions.check_in(city.urban_officer, urban, **device_fix())
    with pytest.raises(actions.PermissionRefused):
        actions.check_in(city.police_officer, urban, **device_fix())
    with pytest.raises(actions.InvalidInput):
        actions.check_in(city.urban_officer, urban, **device_fix((116.4, 95.0)))
    assert Event.objects.filter(case=case).count() == before


def test_a_late_arrival_is_recorded_with_its_minutes(whistle_city):
    city = whistle_city
    _case, _whistle, summonses = whistled_case(city, at=NOW)
    police = on_site(city, summonses[city.police.pk], city.police_officer, at=minutes(41))
    arrival = Event.objects.get(summons=police, kind=EventKind.CHECK_IN_ACCEPTED)
    assert (arrival.data["on_time"], arrival.data["minutes_late"]) == (False, 11)
    dispatcher_news = Notification.objects.get(
        kind=EventKind.CHECK_IN_ACCEPTED, recipient=city.dispatcher
    )
    assert "11" in dispatcher_news.body


# 事不完、人不撤 ----------------------------------------------------------------------------


def test_leaving_before_the_case_is_resolved_is_refused_and_recorded(whistle_city):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city, at=NOW)
    urban = on_site(city, summonses[city.urban.pk], city.urban_officer, at=minutes(10))
    actions.report_result(city.urban_officer, urban, result="已清理", now=minutes(30))
    with pytest.raises(actions.CheckOutRefused) as refused:
        actions.check_out(city.urban_officer, urban, now=minutes(31))
    kept = Event.objects.get(case=case, kind=EventKind.CHECK_OUT_REFUSED)
    assert kept.seq == refused.value.event_seq and kept.data["minutes_on_site"] == 21
    urban.refresh_from_db()
    assert urban.status == S.DONE and urban.left_at is None


def test_a_released_department_may_leave_before_the_case_is_resolved(whistle_city):
    city = whistle_city
    _case, _whistle, summonses = whistled_case(city, at=NOW)
    police = on_site(city, summonses[city.police.pk], city.police_officer, at=minutes(10))
    with pytest.raises(actions.PermissionRefused):
        actions.release(city.police_officer, police, now=minutes(20))
    actions.release(city.dispatcher, police, note="现场秩序已恢复", now=minutes(20))
    police = actions.check_out(city.police_officer, police, now=minutes(21))
    assert (police.status, police.left_at) == (S.LEFT, minutes(21))
    assert police.next_check_at is None


def test_the_case_cannot_be_marked_resolved_while_a_department_has_not_come(whistle_city):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city, at=NOW)
    on_site(city, summonses[city.urban.pk], city.urban_officer, at=minutes(10))
    with pytest.raises(actions.ActionRefused) as refused:
        actions.mark_handled(city.dispatcher, case, now=minutes(40))
    assert "龙潭派出所" in str(refused.value)
    actions.release(city.dispatcher, summonses[city.police.pk], now=minutes(41))
    case = actions.mark_handled(city.dispatcher, case, now=minutes(42))
    assert case.status == Case.Status.HANDLED
    told = Notification.objects.filter(kind=EventKind.HANDLED, channel="inbox")
    assert {n.recipient for n in told} == {city.urban_officer, city.urban_head}


# Declining ------------------------------------------------------------------------------


def test_an_upheld_decline_releases_the_department_and_another_can_be_summoned(whistle_city):
    city = whistle_city
    case, whistle, summonses = whistled_case(city, at=NOW)
    police = actions.decline(
        city.police_officer, summonses[city.police.pk], reason="不涉及治安", now=minutes(3)
    )
    assert police.status == S.DECLINED
    with pytest.raises(actions.ActionRefused):
        actions.release(city.dispatcher, police, now=minutes(4))
    police = actions.rule_on_decline(city.dispatcher, police, uphold=True, now=minutes(5))
    assert (police.status, police.ruling, police.next_check_at) == (S.RELEASED, "upheld", None)
    actions.summon_more(city.dispatcher, whistle, departments=[city.fire], now=minutes(6))
    kinds = list(Event.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds[-3:] == [
        EventKind.DECLINED,
        EventKind.DECLINE_UPHELD,
        EventKind.SUMMONED,
    ]


def test_when_the_township_insists_the_summons_goes_on_where_it_was(whistle_city):
    city = whistle_city
    _case, _whistle, summonses = whistled_case(city, at=NOW)
    police = actions.acknowledge(city.police_officer, summonses[city.police.pk], now=minutes(2))
    actions.decline(city.police_officer, police, reason="应由城管处理", now=minutes(3))
    police = actions.rule_on_decline(
        city.township_chief, police, uphold=False, note="涉及堵路，需派出所维持秩序", now=minutes(4)
    )
    assert (police.status, police.ruling) == (S.ACKNOWLEDGED, "insisted")
    with pytest.raises(actions.ActionRefused):
        actions.decline(city.police_officer, police, reason="再次申请", now=minutes(5))
    # Acknowledged before it declined: the decline keeps that moment.
    declined = Event.objects.get(summons=police, kind=EventKind.DECLINED)
    assert declined.data["changes"] == {"status": ["acknowledged", "declined"]}
    assert police.acknowledged_at == minutes(2)
    insisted = Event.objects.get(summons=police, kind=EventKind.DECLINE_INSISTED)
    assert insisted.data["changes"] == {"status": ["declined", "acknowledged"]}
    assert insisted.actor_role == Role.TOWNSHIP_CHIEF
    told = Notification.objects.get(
        kind=EventKind.DECLINE_INSISTED, recipient=city.police_officer, channel="inbox"
    )
    assert told.body == (
        f"龙潭街道裁定案件 {police.case.reference} 仍由龙潭派出所办理：涉及堵路，需派出所维持秩序。"
    )


@pytest.mark.parametrize("note", ["", "   "])
def test_insisting_on_a_summons_needs_a_note_saying_why(whistle_city, note):
    city = whistle_city
    _case, _whistle, summonses = whistled_case(city, at=NOW)
    police = actions.decline(
        city.police_officer, summonses[city.police.pk], reason="应由城管处理", now=minutes(3)
    )
    with translation.override("zh-hans"), pytest.raises(actions.InvalidInput) as refused:
        actions.rule_on_decline(city.dispatcher, police, uphold=False, note=note, now=minutes(4))
    assert (refused.value.field, str(refused.value)) == ("note", "请填写理由。")
    police.refresh_from_db()
    assert (police.status, police.ruling) == (S.DECLINED, "")
    assert not Event.objects.filter(summons=police, kind=EventKind.DECLINE_INSISTED).exists()
    assert not Notification.objects.filter(kind=EventKind.DECLINE_INSISTED).exists()


def test_a_decline_answers_the_summons_so_its_acknowledgement_cannot_turn_overdue(whistle_city):
    city = whistle_city
    _case, _whistle, summonses = whistled_case(city, at=NOW)
    police = actions.decline(
        city.police_officer, summonses[city.police.pk], reason="应由城管处理", now=minutes(1)
    )
    assert (police.acknowledged_at, police.acknowledged_by) == (minutes(1), city.police_officer)
    declined = Event.objects.get(summons=police, kind=EventKind.DECLINED)
    assert declined.data["changes"] == {
        "status": ["summoned", "declined"],
        "acknowledged_at": [None, minutes(1).astimezone(UTC).isoformat()],
    }
    # The township has not ruled by the arrival deadline: the arrival is overdue, the
    # acknowledgement is not, and the desk counts down to the arrival.
    assert police.arrive_due_at is not None
    late = police.arrive_due_at + timedelta(minutes=1)
    with time_machine.travel(late, tick=False):
        deadlines.sweep(late, batch=50)
    police.refresh_from_db()
    assert police.acknowledge_overdue_at is None
    assert police.arrive_overdue_at is not None
    kinds = set(Event.objects.filter(summons=police).values_list("kind", flat=True))
    assert EventKind.ACKNOWLEDGE_OVERDUE not in kinds and EventKind.ARRIVE_OVERDUE in kinds
    assert not Notification.objects.filter(kind=EventKind.ACKNOWLEDGE_OVERDUE).filter(
        recipient=city.police_officer
    )
    deadline = summons_deadline(police, late)
    assert deadline is not None and (deadline.kind, deadline.overdue) == ("arrive", True)
    # Insisted on, it goes on as acknowledged: it has seen the summons.
    police = actions.rule_on_decline(
        city.dispatcher, police, uphold=False, note="涉及治安，须到场", now=late
    )
    assert police.status == S.ACKNOWLEDGED


# The routine channel and rework ----------------------------------------------------------


def test_a_routine_dispatch_has_no_arrival_and_no_check_in(whistle_city):
    city = whistle_city
    case = filed_case(city, at=NOW, category=city.exposed_garbage)
    summons = actions.dispatch_case(city.dispatcher, case, department=city.urban, now=NOW)
    # The category's own limits: 30 natural minutes to acknowledge, 4 working hours.
    assert (summons.acknowledge_due_at, summons.arrive_due_at) == (minutes(30), None)
    assert summons.resolve_due_at == beijing(2026, 3, 10, 15, 30)
    summons = actions.acknowledge(city.urban_officer, summons, now=minutes(5))
    with pytest.raises(actions.ActionRefused):
        actions.check_in(city.urban_officer, summons, **device_fix())
    actions.report_progress(city.urban_officer, summons, text="已安排清运", now=minutes(20))
    summons = actions.report_result(
        city.urban_officer, summons, result="垃圾已清运", now=minutes(90)
    )
    assert summons.status == S.DONE
    case = actions.mark_handled(city.dispatcher, case, now=minutes(95))
    assert case.status == Case.Status.HANDLED


def test_rework_gives_departments_new_deadlines_and_calls_back_those_that_left(whistle_city):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city, at=NOW)
    urban = on_site(city, summonses[city.urban.pk], city.urban_officer, at=minutes(10))
    police = on_site(city, summonses[city.police.pk], city.police_officer, at=minutes(12))
    actions.report_result(city.urban_officer, urban, result="已劝离", now=minutes(30))
    actions.report_result(city.police_officer, police, result="已登记", now=minutes(31))
    actions.mark_handled(city.dispatcher, case, now=minutes(35))
    actions.check_out(city.police_officer, police, now=minutes(36))
    later = beijing(2026, 3, 11, 9, 0)
    case = actions.send_back_for_rework(
        city.dispatcher, case, reason="核查发现游商又回来了", now=later
    )
    assert (case.status, case.rework_count) == (Case.Status.WHISTLED, 1)
    urban.refresh_from_db()
    police.refresh_from_db()
    assert (urban.status, urban.done_at) == (S.ON_SITE, None)
    assert (police.status, police.arrived_at, police.left_at) == (S.ACKNOWLEDGED, None, None)
    assert police.arrive_due_at == later + timedelta(minutes=30)
    # Four working hours from 09:00: three before lunch, one after 13:30.
    assert police.resolve_due_at == beijing(2026, 3, 11, 14, 30)
    assert police.next_check_at == next_check_for(police, later)
    rework = Event.objects.get(case=case, kind=EventKind.REWORK)
    assert {s["department"] for s in rework.data["summonses"]} == {"dc-cgw", "dc-longtan-pcs"}


def test_a_second_department_can_be_dispatched_after_a_decline_is_upheld(whistle_city):
    city = whistle_city
    case = filed_case(city, at=NOW, category=city.exposed_garbage)
    first = actions.dispatch_case(city.dispatcher, case, department=city.police, now=NOW)
    actions.decline(city.police_officer, first, reason="非治安问题", now=minutes(5))
    actions.rule_on_decline(city.dispatcher, first, uphold=True, now=minutes(6))
    second = actions.dispatch_case(city.dispatcher, case, department=city.urban, now=minutes(7))
    assert second.department == city.urban
    assert (
        list(Event.objects.filter(case=case).values_list("kind", flat=True)).count(
            EventKind.DISPATCHED
        )
        == 1
    )


def test_a_department_head_acts_for_the_department_as_an_officer_does(whistle_city):
    city = whistle_city
    _case, _whistle, summonses = whistled_case(city, at=NOW)
    urban = actions.acknowledge(city.urban_head, summonses[city.urban.pk], now=minutes(1))
    event = Event.objects.get(summons=urban, kind=EventKind.ACKNOWLEDGED)
    assert event.actor_role == Role.DEPARTMENT_HEAD


def test_an_inactive_officer_can_do_nothing(whistle_city):
    city = whistle_city
    retired = make_person("retired", Role.DEPARTMENT_OFFICER, department=city.urban)
    retired.is_active = False
    retired.save(update_fields=["is_active"])
    _case, _whistle, summonses = whistled_case(city, at=NOW)
    with pytest.raises(actions.PermissionRefused):
        actions.acknowledge(retired, summonses[city.urban.pk], now=minutes(1))
