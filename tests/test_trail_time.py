"""A trail never goes back in time: an action dated before the case's last event, or more
than the allowed skew (WHISTLE_CLOCK_SKEW_SECONDS, 5 s) ahead of the server's clock, is
refused and writes nothing; the deadline sweep records its events no earlier than the case's
last one; patrols and the assessment keep the same rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db.models import Max

from tests.fixtures_assessment import bj, july_fixture  # noqa: F401  (fixture)
from tests.fixtures_cases import (
    ON_THE_LANE,
    beijing,
    device_fix,
    reported_case,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from tests.fixtures_district import scored_july_fixture  # noqa: F401  (fixture)
from tests.fixtures_street import MORNING, street_fixture  # noqa: F401  (fixture)
from whistle.assessment.actions import rate_summons
from whistle.cases import actions
from whistle.cases.deadlines import sweep
from whistle.cases.errors import MomentRefused
from whistle.cases.models import Case, Event
from whistle.cases.trail import EventKind
from whistle.patrols.actions import end_patrol, record_check, start_patrol
from whistle.patrols.models import PatrolEvent

NOW = beijing(2026, 3, 10, 10, 0)
SKEW = timedelta(seconds=5)
MICROSECOND = timedelta(microseconds=1)


def minutes(n: float):
    return NOW + timedelta(minutes=n)


def test_it_refuses_an_action_dated_before_the_cases_last_event_and_writes_nothing(
    whistle_city,
):
    case = reported_case(whistle_city, at=minutes(10))
    with pytest.raises(MomentRefused) as refused:
        actions.file_case(
            whistle_city.dispatcher,
            case,
            category=whistle_city.street_vending,
            now=minutes(10) - MICROSECOND,
        )
    assert str(refused.value) == (
        "无法按 2026-03-10 10:09:59 记录：最后一条记录的时间是 2026-03-10 10:10:00，"
        "记录的时间不能倒退。"
    )
    case.refresh_from_db()
    assert (case.status, case.trail_length, Event.objects.count()) == (Case.Status.REPORTED, 1, 1)


def test_an_action_at_the_very_moment_of_the_last_event_is_recorded(whistle_city):
    case = reported_case(whistle_city, at=minutes(10))
    case = actions.file_case(
        whistle_city.dispatcher, case, category=whistle_city.street_vending, now=minutes(10)
    )
    assert case.status == Case.Status.FILED
    assert list(case.events.order_by("seq").values_list("at", flat=True)) == [minutes(10)] * 2


def test_a_refused_check_in_dated_before_the_last_event_is_not_kept_either(whistle_city):
    city = whistle_city
    _case, _whistle, summonses = whistled_case(city, at=NOW)
    urban = actions.acknowledge(city.urban_officer, summonses[city.urban.pk], now=minutes(5))
    far = (ON_THE_LANE[0] + 0.02, ON_THE_LANE[1])
    with pytest.raises(MomentRefused):
        actions.check_in(city.urban_officer, urban, **device_fix(far, minutes(4)), now=minutes(4))
    assert not Event.objects.filter(kind=EventKind.CHECK_IN_REFUSED).exists()


@time_machine.travel(NOW, tick=False)
def test_it_allows_five_seconds_ahead_of_the_clock_and_refuses_anything_beyond(whistle_city):
    case = reported_case(whistle_city, at=NOW + SKEW)
    assert case.reported_at == NOW + SKEW
    with pytest.raises(MomentRefused) as refused:
        reported_case(whistle_city, at=NOW + SKEW + MICROSECOND)
    assert str(refused.value) == (
        "无法按 2026-03-10 10:00:05 记录：该时间晚于服务器时钟（2026-03-10 10:00:00）。"
    )
    assert Case.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_the_skew_is_a_setting(whistle_city, settings):
    settings.WHISTLE_CLOCK_SKEW_SECONDS = 0
    with pytest.raises(MomentRefused):
        reported_case(whistle_city, at=NOW + MICROSECOND)
    assert reported_case(whistle_city, at=NOW).reported_at == NOW


def test_the_sweep_never_records_before_the_cases_last_event(whistle_city):
    """An officer's action dated three seconds ahead of the worker's clock (a second server
    running fast) comes first in the trail; the overdue the sweep then records follows it."""
    city = whistle_city
    case, _whistle, summonses = whistled_case(city, at=NOW)
    actions.acknowledge(city.urban_officer, summonses[city.urban.pk], now=minutes(2))
    clock = minutes(30) + timedelta(seconds=1)
    ahead = clock + timedelta(seconds=3)
    with time_machine.travel(clock, tick=False):
        actions.acknowledge(city.police_officer, summonses[city.police.pk], now=ahead)
        assert sweep(clock, batch=100) >= 1
    overdue = Event.objects.get(kind=EventKind.ARRIVE_OVERDUE, summons=summonses[city.urban.pk])
    assert overdue.at == ahead
    times = list(case.events.order_by("seq").values_list("at", flat=True))
    assert times == sorted(times)


def test_a_patrol_refuses_a_moment_before_its_last_activity_or_ahead_of_the_clock(street):
    with time_machine.travel(MORNING, tick=False) as clock:
        patrol = start_patrol(street.steward, lane=street.lane)
        clock.move_to(MORNING + timedelta(minutes=2))
        record_check(street.steward, patrol, item="no-damaged-road", result="ok")
        with pytest.raises(MomentRefused):
            record_check(
                street.steward,
                patrol,
                item="no-illegal-parking",
                result="ok",
                now=MORNING + timedelta(minutes=1),
            )
        with pytest.raises(MomentRefused):
            end_patrol(street.steward, patrol, now=MORNING + timedelta(minutes=3))
        with pytest.raises(MomentRefused):
            start_patrol(street.lane_chief, lane=street.lane, now=MORNING + timedelta(minutes=3))
    assert list(PatrolEvent.objects.values_list("kind", flat=True).order_by("pk")) == [
        PatrolEvent.Kind.STARTED,
        PatrolEvent.Kind.CHECKED,
    ]


def test_a_rating_dated_before_the_case_closed_is_refused(scored):
    summons = scored.summonses["c3_urban"]
    last = Event.objects.filter(case=summons.case).aggregate(at=Max("at"))["at"]
    assert last == bj(15, 12)
    with pytest.raises(MomentRefused):
        rate_summons(scored.dongsi_dispatcher, summons, 1, "未到场", now=bj(15, 11, 59))
    assert rate_summons(scored.dongsi_dispatcher, summons, 1, "未到场", now=bj(15, 12)) is not None
