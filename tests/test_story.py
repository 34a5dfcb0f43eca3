"""The story of one whistle in 人民市场东巷, minute by minute, on a frozen clock.

Liang Ping, the alley steward, finds unlicensed street vendors blocking the lane. The
龙潭 dispatcher files the case and blows a routine whistle for urban management and the
police. Urban management is on site at minute 12; the police officer first tries to check in
900 m away, then arrives at minute 41, 11 minutes late, and tries to leave before the
township lets it go. Everything ends in a closed case whose trail verifies, until someone
edits one row behind the application's back.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import translation

from tests.fixtures_cases import (
    FAR_NORTH,
    ON_THE_LANE,
    beijing,
    device_fix,
    play_the_dba,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from whistle.cases import actions
from whistle.cases.models import Case, Event, Summons
from whistle.cases.trail import EventKind
from whistle.cases.verify import verify_database
from whistle.policies.models import WhistleKind

# Tuesday 10 March 2026, 09:00 in Beijing: a working day.
REPORTED = beijing(2026, 3, 10, 9, 0)
WHISTLE = beijing(2026, 3, 10, 9, 10)


def at_minute(minute: int):
    return WHISTLE + timedelta(minutes=minute)


def test_a_whistle_in_renmin_market_east_lane_from_report_to_a_verified_trail(whistle_city):
    city = whistle_city
    with time_machine.travel(REPORTED, tick=False) as clock:
        case = actions.report_case(
            city.steward,
            description="人民市场东巷口有无照游商占道经营，堵住了巷子",
            lon=ON_THE_LANE[0],
            lat=ON_THE_LANE[1],
            accuracy_m=8,
        )
        assert (case.lane, case.community, case.township) == (
            city.lane,
            city.city.xizhaosi,
            city.longtan,
        )
        assert case.source == Case.Source.STEWARD

        clock.move_to(beijing(2026, 3, 10, 9, 5))
        actions.file_case(city.dispatcher, case, category=city.street_vending)

        clock.move_to(WHISTLE)
        suggestions = actions.suggest_departments(Case.objects.get(pk=case.pk))
        assert [s.department for s in suggestions] == [city.urban, city.police]
        whistle = actions.blow_whistle(
            city.dispatcher,
            case,
            kind=WhistleKind.ROUTINE,
            departments=[s.department for s in suggestions],
            meeting_point="人民市场东巷北口",
            note="游商占道，请城管、派出所到场",
        )
        urban = Summons.objects.get(whistle=whistle, department=city.urban)
        police = Summons.objects.get(whistle=whistle, department=city.police)
        assert urban.arrive_due_at == at_minute(30)
        assert urban.acknowledge_due_at == at_minute(10)
        # Four working hours from 09:10 on a Tuesday: 13:10 with 12:00-13:30 off, so 14:40.
        assert urban.resolve_due_at == beijing(2026, 3, 10, 14, 40)

        clock.move_to(at_minute(3))
        actions.acknowledge(city.urban_officer, urban)
        clock.move_to(at_minute(5))
        actions.acknowledge(city.police_officer, police)

        clock.move_to(at_minute(12))
        urban = actions.check_in(
            city.urban_officer, urban, **device_fix((116.43215, 39.8730), accuracy_m=10)
        )
        assert urban.status == Summons.Status.ON_SITE
        arrival = urban.events.get(kind=EventKind.CHECK_IN_ACCEPTED)
        assert arrival.data["on_time"] is True and arrival.data["minutes_late"] == 0

        clock.move_to(at_minute(25))
        with pytest.raises(actions.CheckInRefused) as refused:
            actions.check_in(city.police_officer, police, **device_fix(FAR_NORTH))
        assert 880 < refused.value.distance_m < 920
        assert "300" in str(refused.value)

        clock.move_to(at_minute(41))
        police = actions.check_in(
            city.police_officer, police, **device_fix((116.4322, 39.8731), accuracy_m=15)
        )
        arrival = police.events.get(kind=EventKind.CHECK_IN_ACCEPTED)
        assert arrival.at == at_minute(41)
        assert arrival.data["on_time"] is False
        assert arrival.data["minutes_late"] == 11

        clock.move_to(at_minute(60))
        with pytest.raises(actions.CheckOutRefused):
            actions.check_out(city.police_officer, police)
        police.refresh_from_db()
        assert police.status == Summons.Status.ON_SITE and police.left_at is None

        clock.move_to(at_minute(70))
        actions.report_result(city.urban_officer, urban, result="劝离游商3名，清理占道物品")
        clock.move_to(at_minute(72))
        actions.report_result(city.police_officer, police, result="对拒不离开者登记教育")

        clock.move_to(at_minute(80))
        actions.mark_handled(city.dispatcher, case, note="巷内已恢复通行")
        clock.move_to(at_minute(85))
        actions.check_passed(city.dispatcher, case, lon=ON_THE_LANE[0], lat=ON_THE_LANE[1])
        clock.move_to(at_minute(90))
        case = actions.close_case(city.dispatcher, case)
        assert case.status == Case.Status.CLOSED

        clock.move_to(at_minute(92))
        actions.check_out(city.urban_officer, urban)
        clock.move_to(at_minute(93))
        police = actions.check_out(city.police_officer, police)
        assert police.status == Summons.Status.LEFT

    trail = list(Event.objects.filter(case=case).values_list("kind", "at"))
    assert [kind for kind, _ in trail] == [
        EventKind.CASE_REPORTED,
        EventKind.CASE_FILED,
        EventKind.WHISTLE_BLOWN,
        EventKind.SUMMONED,
        EventKind.SUMMONED,
        EventKind.ACKNOWLEDGED,
        EventKind.ACKNOWLEDGED,
        EventKind.CHECK_IN_ACCEPTED,
        EventKind.CHECK_IN_REFUSED,
        EventKind.CHECK_IN_ACCEPTED,
        EventKind.CHECK_OUT_REFUSED,
        EventKind.RESULT,
        EventKind.RESULT,
        EventKind.HANDLED,
        EventKind.CHECK_PASSED,
        EventKind.CLOSED,
        EventKind.CHECK_OUT,
        EventKind.CHECK_OUT,
    ]
    assert trail[-1][1] == at_minute(93)
    assert verify_database().ok
    call_command("verify_trail", stdout=io.StringIO())

    changed = Event.objects.get(case=case, kind=EventKind.CHECK_IN_ACCEPTED, summons=police)
    play_the_dba(
        (
            "UPDATE cases_event SET data = %s WHERE id = %s",
            ['{"on_time": true, "minutes_late": 0}', changed.pk],
        )
    )
    with pytest.raises(CommandError) as failed, translation.override("en"):
        call_command("verify_trail", stderr=io.StringIO())
    message = str(failed.value)
    assert case.reference in message
    assert f"event #{changed.seq} ({EventKind.CHECK_IN_ACCEPTED})" in message
    assert "it was changed" in message
    # The same, as a Beijing civil servant reads it.
    with pytest.raises(CommandError) as failed, translation.override("zh-hans"):
        call_command("verify_trail", stderr=io.StringIO())
    assert f"案件 {case.reference} 第 {changed.seq} 条留痕" in str(failed.value)
