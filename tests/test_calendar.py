"""The working calendar: official holidays and moved workdays, local days, deadline arithmetic.

Every expected value was worked out by hand from the State Council's 2026 schedule as the
calendar package holds it: Mid-Autumn 25–27 September, National Day 1–7 October, moved
workdays on Sunday 20 September and Saturday 10 October. Default working periods are
09:00–12:00 and 13:30–17:30 (7 working hours a day). Times are Beijing time.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from whistle.organisation.models import Jurisdiction
from whistle.policies import calendar
from whistle.policies.calendar import (
    DEFAULT_WORKING_PERIODS,
    DayReason,
    DaySource,
    UnknownCalendarYear,
    day_status,
    deadline_after,
    explain_deadline,
    horizon_warnings,
    working_time_between,
)
from whistle.policies.checks import CALENDAR_RAN_OUT, CALENDAR_RUNS_OUT, check_calendar_horizon
from whistle.policies.models import (
    CalendarDay,
    CalendarYear,
    DistrictPolicy,
    DurationUnit,
    parse_working_periods,
)

BEIJING = ZoneInfo("Asia/Shanghai")
WORKING_HOURS = DurationUnit.WORKING_HOURS
WORKING_DAYS = DurationUnit.WORKING_DAYS


def beijing(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC datetime given as Beijing wall-clock time, as deadlines are stored."""
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


@pytest.fixture(autouse=True)
def _fresh_calendar():
    calendar.clear_cache()
    yield
    calendar.clear_cache()


@pytest.fixture
def dongcheng(small_city) -> Jurisdiction:
    return small_city.district


@pytest.fixture
def xicheng(small_city) -> Jurisdiction:
    return Jurisdiction.objects.create(
        level="district", code="110102", name="西城区", parent=small_city.city
    )


@pytest.fixture
def calendar_log(monkeypatch, caplog):
    # The "whistle" logger keeps its records from the root logger, where caplog listens.
    monkeypatch.setattr(logging.getLogger("whistle"), "propagate", True)
    caplog.set_level(logging.WARNING, logger="whistle.calendar")
    return caplog


def calendar_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "whistle.calendar"]


# The official 2026 schedule


def test_the_package_knows_the_2026_national_day_and_mid_autumn_holidays(dongcheng):
    with translation.override("zh-hans"):
        national_day = day_status(date(2026, 10, 1), dongcheng)
        mid_autumn = day_status(date(2026, 9, 25), dongcheng)
    assert (national_day.is_workday, national_day.reason, national_day.name) == (
        False,
        DayReason.HOLIDAY,
        "国庆节",
    )
    assert (mid_autumn.is_workday, mid_autumn.reason, mid_autumn.name) == (
        False,
        DayReason.HOLIDAY,
        "中秋",
    )
    assert national_day.source == DaySource.OFFICIAL
    last_day_before = day_status(date(2026, 9, 30), dongcheng)
    assert (last_day_before.is_workday, last_day_before.reason) == (True, DayReason.WEEKDAY)
    assert day_status(date(2026, 10, 8), dongcheng).is_workday


def test_the_package_knows_the_2026_moved_workdays(dongcheng):
    saturday = day_status(date(2026, 10, 10), dongcheng)
    sunday = day_status(date(2026, 9, 20), dongcheng)
    assert (saturday.is_workday, saturday.reason) == (True, DayReason.MOVED_WORKDAY)
    with translation.override("en"):
        assert saturday.name == "National Day"
    with translation.override("zh-hans"):
        assert saturday.name == "国庆节"
    assert (sunday.is_workday, sunday.reason) == (True, DayReason.MOVED_WORKDAY)
    ordinary_saturday = day_status(date(2026, 10, 17), dongcheng)
    assert (ordinary_saturday.is_workday, ordinary_saturday.reason) == (False, DayReason.WEEKEND)


# Working hours


def test_four_working_hours_from_the_last_afternoon_before_national_day_end_on_8_october(
    dongcheng,
):
    # Wednesday 30 September is the last working day: 25-27 are Mid-Autumn, 1-7 National Day.
    start = beijing(2026, 9, 30, 15, 30)
    assert deadline_after(start, 4, WORKING_HOURS, dongcheng) == beijing(2026, 10, 8, 11, 0)


def test_the_explanation_lists_the_national_day_holidays_it_skipped(dongcheng):
    with translation.override("zh-hans"):
        explanation = explain_deadline(beijing(2026, 9, 30, 15, 30), 4, WORKING_HOURS, dongcheng)
    assert explanation.deadline == beijing(2026, 10, 8, 11, 0)
    assert [s.date for s in explanation.skipped] == [date(2026, 10, d) for d in range(1, 8)]
    assert {s.name for s in explanation.skipped} == {"国庆节"}
    assert explanation.counted == [
        (date(2026, 9, 30), timedelta(hours=2)),
        (date(2026, 10, 8), timedelta(hours=2)),
    ]
    with translation.override("en"):
        lines = explanation.lines()
    assert lines[0] == "4 working hours from 2026-09-30 15:30: due 2026-10-08 11:00"
    assert "2026-10-01 · rest day · public holiday · National Day: skipped" in lines


def test_a_summons_on_the_mid_autumn_friday_starts_counting_on_monday_morning(dongcheng):
    start = beijing(2026, 9, 25, 10, 0)
    assert deadline_after(start, 4, WORKING_HOURS, dongcheng) == beijing(2026, 9, 28, 14, 30)
    explanation = explain_deadline(start, 4, WORKING_HOURS, dongcheng)
    assert explanation.counting_from == beijing(2026, 9, 28, 9, 0)
    assert [s.date for s in explanation.skipped] == [date(2026, 9, d) for d in (25, 26, 27)]


def test_the_saturday_moved_workday_counts_and_the_deadline_stays_at_noon(dongcheng):
    # Friday 16:30-17:30 is one hour; Saturday 10 October is a working day: 09:00-12:00.
    start = beijing(2026, 10, 9, 16, 30)
    assert deadline_after(start, 4, WORKING_HOURS, dongcheng) == beijing(2026, 10, 10, 12, 0)


def test_the_sunday_moved_workday_counts(dongcheng):
    start = beijing(2026, 9, 19, 10, 0)  # an ordinary Saturday
    assert deadline_after(start, 2, WORKING_HOURS, dongcheng) == beijing(2026, 9, 20, 11, 0)


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        pytest.param(beijing(2026, 10, 12, 12, 0), 1, beijing(2026, 10, 12, 14, 30), id="at-12"),
        pytest.param(beijing(2026, 10, 12, 17, 30), 1, beijing(2026, 10, 13, 10, 0), id="at-1730"),
        pytest.param(beijing(2026, 10, 12, 9, 0), 1, beijing(2026, 10, 12, 10, 0), id="at-09"),
        pytest.param(beijing(2026, 10, 12, 8, 0), 3, beijing(2026, 10, 12, 12, 0), id="at-08"),
        pytest.param(beijing(2026, 10, 12, 12, 40), 2, beijing(2026, 10, 12, 15, 30), id="lunch"),
        pytest.param(beijing(2026, 10, 12, 11, 0), 1, beijing(2026, 10, 12, 12, 0), id="to-12"),
        pytest.param(beijing(2026, 10, 12, 13, 30), 4, beijing(2026, 10, 12, 17, 30), id="to-1730"),
        pytest.param(
            beijing(2026, 10, 12, 16, 0), 10, beijing(2026, 10, 14, 10, 30), id="two-nights"
        ),
    ],
)
def test_working_hours_at_the_edges_of_the_working_periods(dongcheng, start, hours, expected):
    assert deadline_after(start, hours, WORKING_HOURS, dongcheng) == expected


def test_a_district_s_own_working_periods_are_used(dongcheng):
    DistrictPolicy.objects.create(district=dongcheng, working_periods="08:30-12:00,14:00-18:00")
    start = beijing(2026, 10, 12, 11, 0)
    assert deadline_after(start, 2, WORKING_HOURS, dongcheng) == beijing(2026, 10, 12, 15, 0)
    assert deadline_after(start, 2, WORKING_HOURS, None) == beijing(2026, 10, 12, 14, 30)


def test_the_default_working_periods_are_those_of_the_district_policy_model():
    assert DEFAULT_WORKING_PERIODS == "09:00-12:00,13:30-17:30"
    assert len(parse_working_periods(DEFAULT_WORKING_PERIODS)) == 2


# Working days


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        pytest.param(
            beijing(2026, 9, 30, 10, 0), 1, beijing(2026, 10, 8, 10, 0), id="over-national-day"
        ),
        pytest.param(
            beijing(2026, 10, 9, 10, 0), 1, beijing(2026, 10, 10, 10, 0), id="onto-moved-saturday"
        ),
        pytest.param(beijing(2026, 10, 12, 10, 0), 5, beijing(2026, 10, 19, 10, 0), id="a-week"),
        pytest.param(
            beijing(2026, 10, 11, 15, 0), 1, beijing(2026, 10, 12, 17, 30), id="from-a-sunday"
        ),
        pytest.param(
            beijing(2026, 10, 1, 10, 0), 1, beijing(2026, 10, 8, 17, 30), id="from-a-holiday"
        ),
        pytest.param(
            beijing(2026, 10, 12, 12, 45), 2, beijing(2026, 10, 14, 12, 0), id="from-lunch"
        ),
        pytest.param(
            beijing(2026, 10, 12, 19, 0), 1, beijing(2026, 10, 13, 17, 30), id="from-evening"
        ),
        pytest.param(
            beijing(2026, 10, 13, 8, 0), 1, beijing(2026, 10, 13, 17, 30), id="before-opening"
        ),
    ],
)
def test_working_days_land_on_the_same_clock_time_of_the_nth_working_day(
    dongcheng, start, days, expected
):
    assert deadline_after(start, days, WORKING_DAYS, dongcheng) == expected


# Local days


def test_a_local_rest_day_changes_the_deadline_for_that_district_only(dongcheng, xicheng):
    CalendarDay.objects.create(
        district=xicheng, date=date(2026, 10, 8), is_workday=False, name="区级补休"
    )
    start = beijing(2026, 9, 30, 15, 30)
    assert deadline_after(start, 4, WORKING_HOURS, dongcheng) == beijing(2026, 10, 8, 11, 0)
    assert deadline_after(start, 4, WORKING_HOURS, xicheng) == beijing(2026, 10, 9, 11, 0)
    assert deadline_after(start, 4, WORKING_HOURS, None) == beijing(2026, 10, 8, 11, 0)


def test_a_district_day_wins_over_a_city_wide_day_which_wins_over_the_package(dongcheng, xicheng):
    CalendarDay.objects.create(date=date(2026, 10, 10), is_workday=False, name="全市休息")
    CalendarDay.objects.create(
        district=xicheng, date=date(2026, 10, 10), is_workday=True, name="照常上班"
    )
    start = beijing(2026, 10, 9, 16, 30)
    assert deadline_after(start, 4, WORKING_HOURS, dongcheng) == beijing(2026, 10, 12, 12, 0)
    assert deadline_after(start, 4, WORKING_HOURS, xicheng) == beijing(2026, 10, 10, 12, 0)
    assert day_status(date(2026, 10, 10), dongcheng).reason == DayReason.CITY
    assert day_status(date(2026, 10, 10), xicheng).reason == DayReason.DISTRICT


def test_a_township_is_answered_with_its_district_s_calendar(small_city):
    CalendarDay.objects.create(
        district=small_city.district, date=date(2026, 10, 8), is_workday=False
    )
    start = beijing(2026, 9, 30, 15, 30)
    assert deadline_after(start, 4, WORKING_HOURS, small_city.longtan) == beijing(
        2026, 10, 9, 11, 0
    )


# Natural units


def test_natural_units_ignore_holidays_and_working_periods(dongcheng):
    start = beijing(2026, 9, 30, 15, 30)
    natural_days = DurationUnit.NATURAL_DAYS
    assert deadline_after(start, 3, natural_days, dongcheng) == beijing(2026, 10, 3, 15, 30)
    assert deadline_after(start, 5, DurationUnit.NATURAL_HOURS, dongcheng) == beijing(
        2026, 9, 30, 20, 30
    )
    assert deadline_after(start, 90, DurationUnit.NATURAL_MINUTES, dongcheng) == beijing(
        2026, 9, 30, 17, 0
    )


def test_natural_units_need_no_calendar_even_in_an_unknown_year(dongcheng, settings):
    settings.WHISTLE_CALENDAR_UNKNOWN_YEAR = "error"
    start = beijing(2026, 12, 31, 23, 0)
    assert deadline_after(start, 2, DurationUnit.NATURAL_HOURS, dongcheng) == beijing(
        2027, 1, 1, 1, 0
    )


# Years the package does not know


def test_2027_is_refused_with_a_clear_error_when_the_setting_says_error(dongcheng, settings):
    settings.WHISTLE_CALENDAR_UNKNOWN_YEAR = "error"
    start = beijing(2026, 12, 31, 16, 0)
    with pytest.raises(UnknownCalendarYear) as refused:
        deadline_after(start, 4, WORKING_HOURS, dongcheng)
    assert refused.value.year == 2027
    with translation.override("en"):
        message = str(refused.value)
    assert "2027" in message and "东城区" in message
    assert "whistle import calendar" in message
    with translation.override("zh-hans"):
        message = str(refused.value)
    assert "2027 年" in message and "录入" in message


def test_a_deadline_at_the_close_of_31_december_does_not_need_the_next_year(dongcheng, settings):
    settings.WHISTLE_CALENDAR_UNKNOWN_YEAR = "error"
    start = beijing(2026, 12, 31, 13, 30)
    deadline = deadline_after(start, 4, WORKING_HOURS, dongcheng)
    assert deadline == beijing(2026, 12, 31, 17, 30)
    end_of_year = beijing(2027, 1, 1, 0, 0)
    assert working_time_between(start, end_of_year, dongcheng) == timedelta(hours=4)


def test_2027_with_weekends_logs_a_warning_and_counts_only_weekends(
    dongcheng, settings, calendar_log
):
    settings.WHISTLE_CALENDAR_UNKNOWN_YEAR = "weekends"
    start = beijing(2026, 12, 31, 16, 0)
    # 16:00-17:30 on 31 December, then 2.5 hours on Friday 1 January taken as a working day.
    assert deadline_after(start, 4, WORKING_HOURS, dongcheng) == beijing(2027, 1, 1, 11, 30)
    warnings = calendar_warnings(calendar_log)
    assert len(warnings) == 1 and "2027" in warnings[0]
    assert all(r.levelno == logging.WARNING for r in calendar_log.records)
    assert deadline_after(start, 9, WORKING_HOURS, dongcheng) == beijing(2027, 1, 4, 9, 30)
    assert len(calendar_warnings(calendar_log)) == 1, "one warning per year and process"
    explanation = explain_deadline(start, 4, WORKING_HOURS, dongcheng)
    assert explanation.assumed_years == [2027]
    assert day_status(date(2027, 1, 1), dongcheng).source == DaySource.ASSUMED


def test_an_entered_2027_schedule_is_used_without_error_or_warning(
    dongcheng, settings, calendar_log
):
    settings.WHISTLE_CALENDAR_UNKNOWN_YEAR = "error"
    CalendarYear.objects.create(year=2027, source="test schedule")
    CalendarDay.objects.create(date=date(2027, 1, 1), is_workday=False, name="元旦")
    start = beijing(2026, 12, 31, 16, 0)
    # 1 January is entered as a rest day, 2 and 3 January are a weekend.
    assert deadline_after(start, 4, WORKING_HOURS, dongcheng) == beijing(2027, 1, 4, 11, 30)
    CalendarDay.objects.create(date=date(2027, 1, 3), is_workday=True, name="元旦调休")
    assert deadline_after(start, 4, WORKING_HOURS, dongcheng) == beijing(2027, 1, 3, 11, 30)
    assert day_status(date(2027, 1, 2), dongcheng).source == DaySource.ENTERED
    assert calendar_warnings(calendar_log) == []


def test_a_2027_schedule_entered_for_one_district_does_not_cover_another(
    dongcheng, xicheng, settings
):
    settings.WHISTLE_CALENDAR_UNKNOWN_YEAR = "error"
    CalendarDay.objects.create(
        district=dongcheng, date=date(2027, 10, 1), is_workday=False, name="国庆节"
    )
    CalendarYear.objects.create(district=dongcheng, year=2027, source="东城区录入")
    start = beijing(2026, 12, 31, 16, 0)
    assert deadline_after(start, 4, WORKING_HOURS, dongcheng) == beijing(2027, 1, 1, 11, 30)
    with pytest.raises(UnknownCalendarYear) as refused:
        deadline_after(start, 4, WORKING_HOURS, xicheng)
    assert refused.value.district_name == "西城区"


def test_a_2027_entered_without_a_rest_day_still_warns_and_is_assumed(dongcheng, xicheng, settings):
    # Entered as complete, but not one holiday: 元旦 and 春节 would be working days.
    CalendarYear.objects.create(year=2027, source="国务院办公厅通知")
    CalendarDay.objects.create(date=date(2027, 2, 6), is_workday=True, name="春节调休")
    start = beijing(2026, 12, 31, 16, 0)
    settings.WHISTLE_CALENDAR_UNKNOWN_YEAR = "weekends"
    assert day_status(date(2027, 1, 1), dongcheng).source == DaySource.ASSUMED
    assert explain_deadline(start, 4, WORKING_HOURS, dongcheng).assumed_years == [2027]
    [warning] = horizon_warnings(date(2026, 11, 26))
    assert (warning.year, warning.every_district) == (2027, True)
    settings.WHISTLE_CALENDAR_UNKNOWN_YEAR = "error"
    with pytest.raises(UnknownCalendarYear):
        deadline_after(start, 4, WORKING_HOURS, dongcheng)
    # A rest day of Dongcheng's own completes the city's year for Dongcheng only.
    CalendarDay.objects.create(district=dongcheng, date=date(2027, 1, 1), is_workday=False)
    assert deadline_after(start, 4, WORKING_HOURS, dongcheng) == beijing(2027, 1, 4, 11, 30)
    with pytest.raises(UnknownCalendarYear):
        deadline_after(start, 4, WORKING_HOURS, xicheng)
    [warning] = horizon_warnings(date(2026, 11, 26))
    assert (warning.year, list(warning.districts)) == (2027, ["西城区"])


# Elapsed working time


def test_working_time_between_measures_lateness_across_the_holiday(dongcheng):
    deadline = beijing(2026, 9, 30, 16, 30)
    done = beijing(2026, 10, 8, 10, 0)
    # 16:30-17:30 on 30 September and 09:00-10:00 on 8 October.
    assert working_time_between(deadline, done, dongcheng) == timedelta(hours=2)
    assert working_time_between(done, deadline, dongcheng) == timedelta(hours=-2)
    assert working_time_between(done, done, dongcheng) == timedelta()


def test_working_time_between_gives_back_the_amount_of_any_working_deadline(dongcheng):
    rng = random.Random(20261126)
    first, last = beijing(2026, 1, 1), beijing(2026, 11, 30)
    span_minutes = int((last - first).total_seconds() // 60)
    for _ in range(400):
        start = first + timedelta(minutes=rng.randrange(span_minutes), seconds=rng.randrange(60))
        hours = rng.randint(1, 40)
        deadline = deadline_after(start, hours, WORKING_HOURS, dongcheng)
        assert working_time_between(start, deadline, dongcheng) == timedelta(hours=hours), start
        days = rng.randint(1, 10)
        deadline = deadline_after(start, days, WORKING_DAYS, dongcheng)
        assert working_time_between(start, deadline, dongcheng) == days * timedelta(hours=7), start


def test_a_working_hours_deadline_always_lies_in_working_time(dongcheng):
    rng = random.Random(7)
    periods = parse_working_periods(DEFAULT_WORKING_PERIODS)
    for _ in range(200):
        start = beijing(2026, 1, 5) + timedelta(minutes=rng.randrange(300 * 24 * 60))
        local = deadline_after(start, rng.randint(1, 30), WORKING_HOURS, dongcheng).astimezone(
            BEIJING
        )
        assert day_status(local.date(), dongcheng).is_workday, local
        assert any(begin < local.time() <= end for begin, end in periods), local


def test_the_calendar_refuses_naive_datetimes(dongcheng):
    naive = datetime(2026, 10, 12, 10, 0)  # noqa: DTZ001 - the naive value is the point
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline_after(naive, 1, WORKING_HOURS, dongcheng)


def test_a_calendar_without_working_days_is_reported_instead_of_looping(dongcheng, monkeypatch):
    monkeypatch.setattr(calendar, "MAX_REST_DAYS_IN_A_ROW", 5)
    for day in range(12, 24):
        CalendarDay.objects.create(
            district=dongcheng, date=date(2026, 10, day), is_workday=False, name="误录"
        )
    with pytest.raises(calendar.NoWorkingTime):
        deadline_after(beijing(2026, 10, 11, 10, 0), 1, WORKING_HOURS, dongcheng)


# Caching


def test_the_calendar_is_loaded_once_and_reloaded_when_a_day_is_entered(
    dongcheng, django_assert_num_queries
):
    start = beijing(2026, 9, 30, 15, 30)
    assert deadline_after(start, 4, WORKING_HOURS, dongcheng) == beijing(2026, 10, 8, 11, 0)
    with django_assert_num_queries(0):
        assert deadline_after(start, 4, WORKING_HOURS, dongcheng) == beijing(2026, 10, 8, 11, 0)
    local_day = CalendarDay.objects.create(
        district=dongcheng, date=date(2026, 10, 8), is_workday=False
    )
    assert deadline_after(start, 4, WORKING_HOURS, dongcheng) == beijing(2026, 10, 9, 11, 0)
    local_day.delete()
    assert deadline_after(start, 4, WORKING_HOURS, dongcheng) == beijing(2026, 10, 8, 11, 0)


def test_a_changed_working_period_is_used_at_once(dongcheng):
    policy = DistrictPolicy.objects.create(district=dongcheng)
    start = beijing(2026, 10, 12, 16, 0)
    assert deadline_after(start, 2, WORKING_HOURS, dongcheng) == beijing(2026, 10, 13, 9, 30)
    policy.working_periods = "09:00-12:00,13:30-18:00"
    policy.save(update_fields=["working_periods"])
    assert deadline_after(start, 2, WORKING_HOURS, dongcheng) == beijing(2026, 10, 12, 18, 0)


# The warning before the known years run out


def test_the_system_check_warns_in_late_november_2026_that_2027_is_unknown(dongcheng):
    with time_machine.travel(datetime(2026, 11, 26, 10, 0, tzinfo=BEIJING), tick=False):
        messages = checks.run_checks(tags=["calendar"], databases=["default"])
    assert [m.id for m in messages] == [CALENDAR_RUNS_OUT]
    assert messages[0].level == checks.WARNING
    with translation.override("en"):
        text = horizon_warnings(date(2026, 11, 26))[0].message
    assert "2027" in text and "every district" in text and "36 days" in text


def test_the_system_check_is_quiet_in_june_2026(dongcheng):
    with time_machine.travel(datetime(2026, 6, 15, 10, 0, tzinfo=BEIJING), tick=False):
        assert check_calendar_horizon(databases=["default"]) == []


def test_the_warning_starts_60_days_before_the_end_of_the_year(dongcheng):
    assert horizon_warnings(date(2026, 11, 1)) != []
    assert horizon_warnings(date(2026, 10, 31)) == []


def test_the_system_check_is_quiet_once_2027_is_entered_for_the_city(dongcheng):
    CalendarDay.objects.create(date=date(2027, 1, 1), is_workday=False, name="元旦")
    CalendarYear.objects.create(year=2027, source="test schedule")
    with time_machine.travel(datetime(2026, 11, 26, 10, 0, tzinfo=BEIJING), tick=False):
        assert check_calendar_horizon(databases=["default"]) == []


def test_the_warning_names_only_the_districts_still_missing_the_year(dongcheng, xicheng):
    CalendarDay.objects.create(district=dongcheng, date=date(2027, 1, 1), is_workday=False)
    CalendarYear.objects.create(district=dongcheng, year=2027)
    [warning] = horizon_warnings(date(2026, 11, 26))
    assert (warning.year, list(warning.districts), warning.every_district) == (
        2027,
        ["西城区"],
        False,
    )


def test_the_system_check_says_the_year_has_begun_when_it_is_still_unknown(dongcheng):
    with time_machine.travel(datetime(2027, 1, 5, 10, 0, tzinfo=BEIJING), tick=False):
        messages = check_calendar_horizon(databases=["default"])
    assert [m.id for m in messages] == [CALENDAR_RAN_OUT]


# The command


def run_calendar(*args: str) -> str:
    out = StringIO()
    call_command("calendar", *args, stdout=out)
    return out.getvalue()


def test_the_command_shows_october_2026_in_chinese(dongcheng):
    output = run_calendar("show", "2026-10", "--district", "110101", "--language", "zh-hans")
    assert "2026-10-01  星期四  休息日  法定节假日 · 国庆节" in output
    assert "2026-10-10  星期六  工作日  调休上班 · 国庆节" in output
    assert "2026-10-12  星期一  工作日\n" in output
    assert "工作日 18 天，休息日 13 天。" in output


def test_the_command_shows_a_year_s_special_days_in_english(dongcheng):
    output = run_calendar("show", "2026", "--language", "en")
    assert "2026-09-20  Sunday  working day  moved workday · National Day" in output
    assert "2026-10-07  Wednesday  rest day  public holiday · National Day" in output
    assert "2026-10-12" not in output


def test_the_command_status_lists_the_known_years_and_warns_about_2027(dongcheng):
    CalendarYear.objects.create(district=dongcheng, year=2025, source="东城区")
    with time_machine.travel(datetime(2026, 11, 26, 10, 0, tzinfo=BEIJING), tick=False):
        output = run_calendar("status", "--language", "en")
    assert "knows 2004 to 2026" in output
    assert "东城区: 2025 (also in the package)" in output
    assert "2027" in output and "Enter next year's official schedule" in output


def test_the_command_explains_a_deadline(dongcheng):
    output = run_calendar(
        "explain",
        "2026-09-30 15:30",
        "4",
        "working_hours",
        "--district",
        "110101",
        "--language",
        "en",
    )
    assert "due 2026-10-08 11:00" in output
    assert "2026-10-07 · rest day · public holiday · National Day: skipped" in output


def test_the_command_reports_an_unknown_year_and_bad_input_clearly(dongcheng, settings):
    settings.WHISTLE_CALENDAR_UNKNOWN_YEAR = "error"
    with translation.override("en"), pytest.raises(CommandError, match="2027"):
        run_calendar("show", "2027-01", "--language", "en")
    with pytest.raises(CommandError, match="110199"):
        run_calendar("show", "2026-10", "--district", "110199", "--language", "en")
    with pytest.raises(CommandError, match="2026-13"):
        run_calendar("show", "2026-13", "--language", "en")


# The admin


def test_the_admin_shows_the_warning_where_years_are_entered(admin_client, dongcheng):
    with time_machine.travel(datetime(2026, 11, 26, 10, 0, tzinfo=BEIJING), tick=False):
        html = admin_client.get("/admin/policies/calendaryear/").content.decode()
    assert "2027" in html and "2004" in html


def test_the_admin_banner_leads_with_the_admin_pages_and_the_command_stays_for_operators(
    admin_client, dongcheng
):
    with time_machine.travel(datetime(2026, 11, 26, 10, 0, tzinfo=BEIJING), tick=False):
        html = admin_client.get(
            "/admin/policies/calendarday/", HTTP_ACCEPT_LANGUAGE="en"
        ).content.decode()
        with translation.override("en"):
            [warning] = horizon_warnings()
    here = html.index(
        "Enter the 2027 schedule of public holidays and moved workdays here: each day under "
        "Policies › Calendar days, then the year under Entered calendar years"
    )
    assert here < html.index("An operator can instead import a file on the server: whistle import")
    # The system check and the status command, read by operators, name the command first.
    assert warning.hint.index("whistle import calendar") < warning.hint.index("in the admin")


def test_the_admin_refuses_a_year_without_its_holidays(admin_client, dongcheng):
    entered = {"year": "2027", "source": "国务院办公厅通知", "district": ""}
    response = admin_client.post("/admin/policies/calendaryear/add/", entered)
    assert response.status_code == 200
    assert "尚未为全部区录入 2027 年的任何休息日" in response.content.decode()
    assert not CalendarYear.objects.exists()
    # A district's own rest day does not complete the year for every district.
    CalendarDay.objects.create(district=dongcheng, date=date(2027, 1, 1), is_workday=False)
    english = admin_client.post(
        "/admin/policies/calendaryear/add/", entered, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "No rest day of 2027 is entered for every district yet" in english.content.decode()
    assert not CalendarYear.objects.exists()
    # For Dongcheng it does.
    added = admin_client.post(
        "/admin/policies/calendaryear/add/", {**entered, "district": dongcheng.pk}
    )
    assert added.status_code == 302
    assert CalendarYear.objects.get().district == dongcheng


def test_the_admin_enters_a_year_once_its_holidays_are_entered(admin_client, dongcheng):
    admin_client.post(
        "/admin/policies/calendarday/add/", {"date": "2027-01-01", "name": "元旦", "district": ""}
    )
    added = admin_client.post(
        "/admin/policies/calendaryear/add/",
        {"year": "2027", "source": "国务院办公厅通知", "district": ""},
    )
    assert added.status_code == 302
    assert CalendarYear.objects.filter(year=2027, district=None).exists()
    # A year the package knows needs nothing more.
    known = admin_client.post(
        "/admin/policies/calendaryear/add/", {"year": "2026", "source": "", "district": ""}
    )
    assert known.status_code == 302
