"""The working calendar of each district and the arithmetic of deadlines in it.

Whether a day is a working day, first match wins:

1. a CalendarDay of the district itself (a local rest day or working day);
2. a city-wide CalendarDay (district empty);
3. the official schedule known to the ``chinesecalendar`` package (public holidays and moved
   workdays, 调休);
4. for a year the package does not know: the ordinary week (Monday to Friday) when the year
   is entered as a CalendarYear for the district or the whole city and at least one rest day
   of it is entered (an entered year without its holidays would count New Year's Day and
   the Spring Festival as working days); otherwise the setting
   ``WHISTLE_CALENDAR_UNKNOWN_YEAR`` decides: "error" refuses, "weekends" assumes the ordinary
   week and logs a warning.

Deadlines take and return aware UTC datetimes; working time is measured in Beijing time.
The rules are written out, with examples, in docs/calendar.md.
"""

from __future__ import annotations

import functools
import logging
import time as monotonic_clock
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import ExtractYear
from django.db.models.signals import post_delete, post_save
from django.test.signals import setting_changed
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from whistle.organisation.durations import format_duration
from whistle.organisation.models import Jurisdiction
from whistle.policies.models import (
    LONGEST_LIMIT,
    CalendarDay,
    CalendarYear,
    DistrictPolicy,
    DurationUnit,
    parse_working_periods,
    time_limit_text,
)

logger = logging.getLogger("whistle.calendar")

LOCAL_TIME_ZONE = ZoneInfo("Asia/Shanghai")
DEFAULT_WORKING_PERIODS: str = DistrictPolicy._meta.get_field("working_periods").get_default()
# How long one process trusts what it loaded; edits made in this process are seen at once
# (signals), edits made in another process (the admin, while the worker runs) within this.
CACHE_SECONDS = 60.0
# How many days before the end of the last known year the calendar starts warning.
HORIZON_WARNING_DAYS = 60
# A calendar without a single working day for this long is certainly mis-entered.
MAX_REST_DAYS_IN_A_ROW = 366

ONE_DAY = timedelta(days=1)
WHOLE_DAY = timedelta(hours=24)

PACKAGE_FIRST_YEAR: int = min(chinese_calendar.holidays).year
PACKAGE_LAST_YEAR: int = max(chinese_calendar.holidays).year
PACKAGE_VERSION: str = getattr(chinese_calendar, "__version__", "")


class DayReason(models.TextChoices):
    """Why a day is a working day or a rest day."""

    DISTRICT = "district", _("set by the district")
    CITY = "city", _("set for the whole city")
    HOLIDAY = "holiday", _("public holiday")
    MOVED_WORKDAY = "moved_workday", _("moved workday")
    WEEKEND = "weekend", _("weekend")
    WEEKDAY = "weekday", _("weekday")


class DaySource(models.TextChoices):
    """Where the answer for a day comes from."""

    OFFICIAL = "official", _("official schedule (calendar package)")
    ENTERED = "entered", _("entered schedule")
    ASSUMED = "assumed", _("assumed: schedule not entered, weekends only")


class CalendarError(Exception):
    """A deadline cannot be computed with the calendar as it stands."""


class UnknownCalendarYear(CalendarError):
    """The official schedule of a year is neither known to the package nor entered."""

    def __init__(self, year: int, district_name: str | None = None) -> None:
        super().__init__(year, district_name)
        self.year = year
        self.district_name = district_name

    def __str__(self) -> str:
        # Built when shown, so that it reads in the language active at that moment.
        params = {"year": self.year, "district": self.district_name}
        if self.district_name:
            where = gettext(
                "The official working calendar of %(year)s is not known in %(district)s."
            )
        else:
            where = gettext("The official working calendar of %(year)s is not known.")
        until = gettext(
            "Until it is entered, WHISTLE_CALENDAR_UNKNOWN_YEAR=weekends counts only weekends "
            "as rest days."
        )
        return join_sentences(where % params, how_to_enter(self.year), until)


def how_to_enter(year: int, *, in_admin: bool = False) -> str:
    """How to enter a year's official schedule, for the warnings that ask for it: on the
    admin's pages their calendar pages first, the command as the operators' alternative;
    elsewhere the command first."""
    if in_admin:
        text = gettext(
            "Enter the %(year)s schedule of public holidays and moved workdays here: each "
            "day under Policies › Calendar days, then the year under Entered calendar years "
            "(see docs/calendar.md). An operator can instead import a file on the server: "
            'whistle import calendar calendar-%(year)s.csv --complete --source "<the State '
            'Council notice>". Open deadlines computed on the assumed calendar are then '
            "recomputed."
        )
    else:
        text = gettext(
            "Enter the %(year)s schedule of public holidays and moved workdays: whistle import "
            'calendar calendar-%(year)s.csv --complete --source "<the State Council notice>", '
            "or in the admin under Policies › Calendar days and Entered calendar years (see "
            "docs/calendar.md). Open deadlines computed on the assumed calendar are then "
            "recomputed."
        )
    return text % {"year": year}


class NoWorkingTime(CalendarError):
    """The calendar has no working time for so long that it must be wrong."""

    def __init__(self, since: date) -> None:
        super().__init__(since)
        self.since = since

    def __str__(self) -> str:
        return gettext(
            "The working calendar has no working day for %(days)s days after %(date)s: "
            "check the entered calendar days and the working periods."
        ) % {"days": MAX_REST_DAYS_IN_A_ROW, "date": self.since.isoformat()}


class TimeLimitTooLong(CalendarError):
    """A time limit longer than any a district may set (`LONGEST_LIMIT`), e.g. a row written
    before the bounds existed: refused instead of counted for centuries."""

    def __init__(self, amount: int, unit: DurationUnit) -> None:
        super().__init__(amount, unit)
        self.amount = amount
        self.unit = unit

    def __str__(self) -> str:
        return gettext(
            "The time limit of %(amount)s %(unit)s is longer than the longest allowed, "
            "%(longest)s %(unit)s: correct it in the district's policies."
        ) % {
            "amount": self.amount,
            "unit": self.unit.label,
            "longest": LONGEST_LIMIT[self.unit],
        }


@dataclass(frozen=True)
class DayStatus:
    """One day of a district's calendar, with the reason for its status."""

    date: date
    is_workday: bool
    reason: DayReason
    source: DaySource
    note: str = ""
    holiday: str = ""

    @property
    def name(self) -> str:
        """The entered note, or the official holiday's name in the active language."""
        if self.note:
            return self.note
        return _holiday_name(self.holiday) if self.holiday else ""

    def describe(self) -> str:
        """One line for a page or a terminal, in the active language."""
        state = gettext("working day") if self.is_workday else gettext("rest day")
        parts = [self.date.isoformat(), state, str(self.reason.label)]
        if self.name:
            parts.append(self.name)
        if self.source == DaySource.ASSUMED:
            parts.append(f"({self.source.label})")
        return " · ".join(parts)


@dataclass(frozen=True)
class DeadlineExplanation:
    """How a deadline was reached: the time counted on each working day and the days skipped."""

    start: datetime
    amount: int
    unit: DurationUnit
    deadline: datetime
    counting_from: datetime
    counted: list[tuple[date, timedelta]] = field(default_factory=list)
    skipped: list[DayStatus] = field(default_factory=list)
    assumed_years: list[int] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The explanation as lines of text in the active language, times in Beijing time."""
        fmt = "%Y-%m-%d %H:%M"
        params = {
            "limit": time_limit_text(self.amount, self.unit),
            "start": self.start.astimezone(LOCAL_TIME_ZONE).strftime(fmt),
            "deadline": self.deadline.astimezone(LOCAL_TIME_ZONE).strftime(fmt),
        }
        result = [gettext("%(limit)s from %(start)s: due %(deadline)s") % params]
        if not is_working_unit(self.unit):
            result.append(gettext("Natural time: holidays and working hours do not apply."))
            return result
        if self.counting_from != self.start:
            result.append(
                gettext("Started outside working time: counting begins at %(time)s.")
                % {"time": self.counting_from.astimezone(LOCAL_TIME_ZONE).strftime(fmt)}
            )
        by_date: list[tuple[date, str]] = [
            (
                day,
                gettext("%(date)s counted %(duration)s")
                % {"date": day.isoformat(), "duration": format_duration(counted)},
            )
            for day, counted in self.counted
        ]
        by_date += [
            (status.date, gettext("%(day)s: skipped") % {"day": status.describe()})
            for status in self.skipped
        ]
        result += [line for _day, line in sorted(by_date, key=lambda item: item[0])]
        for year in self.assumed_years:
            result.append(
                gettext(
                    "The schedule of %(year)s is not entered: only weekends were taken as rest "
                    "days."
                )
                % {"year": year}
            )
        return result


@dataclass(frozen=True)
class ComputedDeadline:
    """A deadline with what it was computed from, and the years it had to assume.

    `assumed_years` lists the years whose official schedule was neither in the calendar
    package nor entered, and whose days the computation used with only weekends as rest days
    (``WHISTLE_CALENDAR_UNKNOWN_YEAR=weekends``). Such a deadline may move once the year is
    entered; the start, amount and unit are what it takes to compute it again.
    """

    at: datetime
    start: datetime
    amount: int
    unit: str
    assumed_years: tuple[int, ...] = ()


def is_working_unit(unit: str) -> bool:
    return unit in (DurationUnit.WORKING_HOURS, DurationUnit.WORKING_DAYS)


def join_sentences(*sentences: str) -> str:
    """Sentences separated by a space, except after a Chinese full stop."""
    text = ""
    for sentence in sentences:
        if text and not text.endswith(("。", "！", "？", "；")):
            text += " "
        text += sentence
    return text


@functools.lru_cache(maxsize=16384)
def _official_day(day: date) -> tuple[bool, str | None] | None:
    """(is a working day, holiday name in English or None), or None for a year the package
    does not know."""
    try:
        is_workday = bool(chinese_calendar.is_workday(day))
        _on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return is_workday, name


def _holiday_name(english: str) -> str:
    """The package names holidays in English and in Chinese; show the one that fits."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    if language.lower().startswith("zh"):
        try:
            return str(chinese_calendar.Holiday(english).chinese)
        except ValueError:
            return english
    return english


def _ordinary_week(day: date) -> tuple[bool, DayReason]:
    if day.weekday() >= 5:
        return False, DayReason.WEEKEND
    return True, DayReason.WEEKDAY


def package_knows(year: int) -> bool:
    return PACKAGE_FIRST_YEAR <= year <= PACKAGE_LAST_YEAR


_warned_years: set[int] = set()


def _warn_unknown_year(year: int) -> None:
    if year in _warned_years:
        return
    _warned_years.add(year)
    logger.warning(
        "The official working calendar of %s is not known (the calendar package knows "
        "%s-%s and no CalendarYear %s is entered): treating only weekends as rest days. "
        "Enter the %s schedule of holidays and moved workdays.",
        year,
        PACKAGE_FIRST_YEAR,
        PACKAGE_LAST_YEAR,
        year,
        year,
    )


def _offset(moment: time) -> timedelta:
    """A time of day as the time since midnight; the parser writes 24:00 as time.max."""
    if moment == time.max:
        return WHOLE_DAY
    return timedelta(
        hours=moment.hour,
        minutes=moment.minute,
        seconds=moment.second,
        microseconds=moment.microsecond,
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL_TIME_ZONE)


def to_local(moment: datetime) -> datetime:
    if timezone.is_naive(moment):
        raise ValueError("The calendar works with timezone-aware datetimes only")
    return moment.astimezone(LOCAL_TIME_ZONE)


def _to_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class _EnteredDay:
    is_workday: bool
    name: str


class WorkingCalendar:
    """One district's calendar and working periods, loaded once and then used in memory.

    Get one from ``calendar_for(district)``; code that computes many deadlines for the same
    district may keep it for the duration of its work.
    """

    def __init__(
        self,
        *,
        district_name: str | None,
        working_periods: str,
        district_days: dict[date, _EnteredDay],
        city_days: dict[date, _EnteredDay],
        entered_years: frozenset[int],
    ) -> None:
        self.district_name = district_name
        self.working_periods = working_periods
        self.periods: list[tuple[timedelta, timedelta]] = [
            (_offset(start), _offset(end)) for start, end in parse_working_periods(working_periods)
        ]
        self.working_time_per_day = sum((end - start for start, end in self.periods), timedelta())
        self._district_days = district_days
        self._city_days = city_days
        self.entered_years = entered_years

    @classmethod
    def load(cls, district: Jurisdiction | None) -> WorkingCalendar:
        district_id = district.pk if district is not None else None
        scope = Q(district__isnull=True)
        if district_id is not None:
            scope |= Q(district_id=district_id)
        district_days: dict[date, _EnteredDay] = {}
        city_days: dict[date, _EnteredDay] = {}
        rows = CalendarDay.objects.filter(scope).values_list(
            "district_id", "date", "is_workday", "name"
        )
        rest_years: set[int] = set()
        for owner, day, is_workday, name in rows:
            target = city_days if owner is None else district_days
            target[day] = _EnteredDay(is_workday, name)
            if not is_workday:
                rest_years.add(day.year)
        # A year entered without a single rest day is not a schedule: it stays unknown.
        years = {
            year
            for year in CalendarYear.objects.filter(scope).values_list("year", flat=True)
            if year in rest_years
        }
        periods = None
        if district_id is not None:
            periods = (
                DistrictPolicy.objects.filter(district_id=district_id)
                .values_list("working_periods", flat=True)
                .first()
            )
        return cls(
            district_name=district.name if district is not None else None,
            working_periods=periods or DEFAULT_WORKING_PERIODS,
            district_days=district_days,
            city_days=city_days,
            entered_years=frozenset(years),
        )

    def knows_year(self, year: int) -> bool:
        """True when the year's schedule is known without assuming anything."""
        return package_knows(year) or year in self.entered_years

    def day(self, day: date) -> DayStatus:
        entered = self._district_days.get(day)
        if entered is not None:
            return DayStatus(
                day, entered.is_workday, DayReason.DISTRICT, DaySource.ENTERED, entered.name
            )
        entered = self._city_days.get(day)
        if entered is not None:
            return DayStatus(
                day, entered.is_workday, DayReason.CITY, DaySource.ENTERED, entered.name
            )
        official = _official_day(day)
        if official is not None:
            is_workday, holiday = official
            if holiday is None:
                _, reason = _ordinary_week(day)
                return DayStatus(day, is_workday, reason, DaySource.OFFICIAL)
            reason = DayReason.MOVED_WORKDAY if is_workday else DayReason.HOLIDAY
            return DayStatus(day, is_workday, reason, DaySource.OFFICIAL, holiday=holiday)
        is_workday, reason = _ordinary_week(day)
        if day.year in self.entered_years:
            return DayStatus(day, is_workday, reason, DaySource.ENTERED)
        if settings.WHISTLE_CALENDAR_UNKNOWN_YEAR == "error":
            raise UnknownCalendarYear(day.year, self.district_name)
        _warn_unknown_year(day.year)
        return DayStatus(day, is_workday, reason, DaySource.ASSUMED)

    def is_working_day(self, day: date) -> bool:
        return self.day(day).is_workday

    def works_beneath(self, day: date, *, of_district: bool) -> bool:
        """Whether `day` is a working day by the rules beneath an entered day of the district
        (`of_district`) or of the whole city: what a new entered day would override. A
        year nobody has entered follows the ordinary week here, without a warning."""
        if of_district:
            entered = self._city_days.get(day)
            if entered is not None:
                return entered.is_workday
        official = _official_day(day)
        if official is not None:
            return official[0]
        return _ordinary_week(day)[0]

    def days(self, first: date, last: date) -> Iterator[DayStatus]:
        day = first
        while day <= last:
            yield self.day(day)
            day += ONE_DAY

    def _periods_of(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        midnight = _midnight(day)
        for start, end in self.periods:
            yield midnight + start, midnight + end

    def next_working_moment(self, moment: datetime) -> datetime:
        """The moment itself when it is working time, else the start of the next period."""
        local = to_local(moment)
        day = local.date()
        rest_days = 0
        while True:
            if self.is_working_day(day):
                for start, end in self._periods_of(day):
                    if local < end:
                        return _to_utc(max(start, local))
            else:
                rest_days += 1
                if rest_days > MAX_REST_DAYS_IN_A_ROW:
                    raise NoWorkingTime(local.date())
            day += ONE_DAY

    def _working_anchor(self, local: datetime) -> datetime:
        """The latest moment of working time at or before ``local`` (periods include their
        ends): the start itself inside a period, else the end of the period before it."""
        day = local.date()
        rest_days = 0
        while True:
            if self.is_working_day(day):
                ends = []
                for start, end in self._periods_of(day):
                    if start <= local <= end:
                        return local
                    if end <= local:
                        ends.append(end)
                if ends:
                    return ends[-1]
            else:
                rest_days += 1
                if rest_days > MAX_REST_DAYS_IN_A_ROW:
                    raise NoWorkingTime(local.date())
            day -= ONE_DAY

    def _add_working_time(self, local: datetime, amount: timedelta) -> datetime:
        remaining = amount
        day = local.date()
        cursor = local
        rest_days = 0
        while True:
            if self.is_working_day(day):
                rest_days = 0
                for start, end in self._periods_of(day):
                    begin = max(start, cursor)
                    if begin >= end:
                        continue
                    available = end - begin
                    if remaining <= available:
                        # A deadline that uses up a period ends at its close, not the next
                        # morning: "by 17:30" is what the person was told.
                        return begin + remaining
                    remaining -= available
            else:
                rest_days += 1
                if rest_days > MAX_REST_DAYS_IN_A_ROW:
                    raise NoWorkingTime(local.date())
            day += ONE_DAY
            cursor = _midnight(day)

    def _add_working_days(self, local: datetime, count: int) -> datetime:
        anchor = self._working_anchor(local)
        day = anchor.date()
        clock = anchor - _midnight(day)
        rest_days = 0
        found = 0
        while found < count:
            day += ONE_DAY
            if self.is_working_day(day):
                found += 1
                rest_days = 0
            else:
                rest_days += 1
                if rest_days > MAX_REST_DAYS_IN_A_ROW:
                    raise NoWorkingTime(anchor.date())
        return _midnight(day) + clock

    def deadline_after(self, start: datetime, amount: int, unit: DurationUnit | str) -> datetime:
        """The moment ``amount`` ``unit`` after ``start``, as an aware UTC datetime."""
        unit = DurationUnit(unit)
        if amount < 0:
            raise ValueError("A time limit cannot be negative")
        if amount > LONGEST_LIMIT[unit]:
            raise TimeLimitTooLong(amount, unit)
        local = to_local(start)
        if amount == 0:
            return _to_utc(local)
        try:
            return self._deadline_after(local, amount, unit)
        except OverflowError:
            # Only a start near the end of the calendar (year 9999) gets here.
            raise TimeLimitTooLong(amount, unit) from None

    def _deadline_after(self, local: datetime, amount: int, unit: DurationUnit) -> datetime:
        if unit == DurationUnit.NATURAL_MINUTES:
            return _to_utc(local + timedelta(minutes=amount))
        if unit == DurationUnit.NATURAL_HOURS:
            return _to_utc(local + timedelta(hours=amount))
        if unit == DurationUnit.NATURAL_DAYS:
            return _to_utc(local + timedelta(days=amount))
        if unit == DurationUnit.WORKING_HOURS:
            return _to_utc(self._add_working_time(local, timedelta(hours=amount)))
        return _to_utc(self._add_working_days(local, amount))

    def compute(self, start: datetime, amount: int, unit: DurationUnit | str) -> ComputedDeadline:
        """The deadline as ``deadline_after`` gives it, with the unknown years it assumed."""
        unit = DurationUnit(unit)
        at = self.deadline_after(start, amount, unit)
        computed = ComputedDeadline(at=at, start=_to_utc(start), amount=amount, unit=unit.value)
        if not is_working_unit(unit) or amount == 0:
            return computed
        local = to_local(start)
        # The days the arithmetic looked at: from the start (working days: from the working
        # moment it was moved back to) to the deadline's own day.
        first = local.date()
        if unit == DurationUnit.WORKING_DAYS:
            first = self._working_anchor(local).date()
        last = to_local(at).date()
        if all(self.knows_year(year) for year in range(first.year, last.year + 1)):
            return computed
        assumed = sorted(
            {day.date.year for day in self.days(first, last) if day.source == DaySource.ASSUMED}
        )
        return ComputedDeadline(
            at=at,
            start=computed.start,
            amount=amount,
            unit=unit.value,
            assumed_years=tuple(assumed),
        )

    def opening(self, day: date) -> datetime:
        """The start of the first working period on ``day`` (aware UTC), working day or not."""
        return _to_utc(_midnight(day) + self.periods[0][0])

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to ``end``; negative when ``end`` comes first."""
        if end < start:
            return -self.working_time_between(end, start)
        low, high = to_local(start), to_local(end)
        total = timedelta()
        day = low.date()
        while day <= high.date():
            overlap = timedelta()
            for period_start, period_end in self._periods_of(day):
                begin, finish = max(period_start, low), min(period_end, high)
                if finish > begin:
                    overlap += finish - begin
            # A day is looked up only when some of its working periods fall inside the span,
            # so an end at midnight on 1 January does not need the new year's schedule.
            if overlap and self.is_working_day(day):
                total += overlap
            day += ONE_DAY
        return total

    def explain(
        self, start: datetime, amount: int, unit: DurationUnit | str
    ) -> DeadlineExplanation:
        unit = DurationUnit(unit)
        deadline = self.deadline_after(start, amount, unit)
        start_utc = _to_utc(to_local(start))
        if not is_working_unit(unit) or amount == 0:
            return DeadlineExplanation(start_utc, amount, unit, deadline, start_utc)
        counting_from = self.next_working_moment(start)
        counted: list[tuple[date, timedelta]] = []
        skipped: list[DayStatus] = []
        assumed: set[int] = set()
        low, high = to_local(start), to_local(deadline)
        for status in self.days(low.date(), high.date()):
            if status.source == DaySource.ASSUMED:
                assumed.add(status.date.year)
            if not status.is_workday:
                skipped.append(status)
                continue
            day_start = max(low, _midnight(status.date))
            day_end = min(high, _midnight(status.date) + WHOLE_DAY)
            spent = self.working_time_between(day_start, day_end)
            if spent:
                counted.append((status.date, spent))
        return DeadlineExplanation(
            start=start_utc,
            amount=amount,
            unit=unit,
            deadline=deadline,
            counting_from=counting_from,
            counted=counted,
            skipped=skipped,
            assumed_years=sorted(assumed),
        )


_cache: dict[int | None, tuple[float, WorkingCalendar]] = {}


def _district_of(jurisdiction: Jurisdiction | None) -> Jurisdiction | None:
    if jurisdiction is None or jurisdiction.level == Jurisdiction.Level.DISTRICT:
        return jurisdiction
    district = jurisdiction.district
    if district is None:
        # A city-level node: only the city-wide calendar applies.
        return None
    return district


def calendar_for(district: Jurisdiction | None) -> WorkingCalendar:
    """The calendar of a district (or of the whole city for None), from the process cache.

    A township or community is answered with the calendar of its district.
    """
    district = _district_of(district)
    key = district.pk if district is not None else None
    now = monotonic_clock.monotonic()
    hit = _cache.get(key)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    loaded = WorkingCalendar.load(district)
    _cache[key] = (now, loaded)
    return loaded


def clear_cache(**_signal: Any) -> None:
    """Forget every loaded calendar and every warning already logged.

    Saving or deleting a CalendarDay, CalendarYear, DistrictPolicy or Jurisdiction does this
    by itself; call it after writing such rows in bulk (bulk_create, update), which sends no
    signal.
    """
    _cache.clear()
    _warned_years.clear()


def connect_signals() -> None:
    """Called from the policies app's ready()."""
    # A Jurisdiction is included because a new district may reuse the id of one whose rows
    # were deleted or rolled back, which sends no signal of its own.
    for model in (CalendarDay, CalendarYear, DistrictPolicy, Jurisdiction):
        uid = f"whistle.policies.calendar.{model.__name__}"
        post_save.connect(clear_cache, sender=model, dispatch_uid=f"{uid}.save")
        post_delete.connect(clear_cache, sender=model, dispatch_uid=f"{uid}.delete")
    # Tests switch settings between cases, and a test's rows vanish at rollback unannounced.
    setting_changed.connect(clear_cache, dispatch_uid="whistle.policies.calendar.settings")


def is_working_day(day: date, district: Jurisdiction | None) -> bool:
    return calendar_for(district).is_working_day(day)


def day_status(day: date, district: Jurisdiction | None) -> DayStatus:
    return calendar_for(district).day(day)


def deadline_after(
    start: datetime, amount: int, unit: DurationUnit | str, district: Jurisdiction | None
) -> datetime:
    """The deadline ``amount`` ``unit`` after ``start`` in the district's calendar (aware UTC).

    Natural units are plain additions. Working hours count only the district's working
    periods on working days; working days land on the same clock time of the Nth following
    working day. See docs/calendar.md for the exact rules at the edges.
    """
    return calendar_for(district).deadline_after(start, amount, unit)


def compute_deadline(
    start: datetime, amount: int, unit: DurationUnit | str, district: Jurisdiction | None
) -> ComputedDeadline:
    """``deadline_after`` with what it was computed from and the unknown years it assumed
    (docs/calendar.md, "Deadlines computed on an assumed calendar")."""
    return calendar_for(district).compute(start, amount, unit)


def working_time_between(
    start: datetime, end: datetime, district: Jurisdiction | None
) -> timedelta:
    """The working time elapsed from ``start`` to ``end`` (e.g. how late a response was)."""
    return calendar_for(district).working_time_between(start, end)


def explain_deadline(
    start: datetime, amount: int, unit: DurationUnit | str, district: Jurisdiction | None
) -> DeadlineExplanation:
    """The deadline with the working time counted on each day and the rest days skipped."""
    return calendar_for(district).explain(start, amount, unit)


@dataclass(frozen=True)
class HorizonWarning:
    """The calendar is about to run out (or has run out) of known years for some districts."""

    year: int
    days_left: int
    districts: Sequence[str]
    every_district: bool

    @property
    def message(self) -> str:
        params = {
            "year": self.year,
            "days": self.days_left,
            "date": date(self.year, 1, 1).isoformat(),
            "districts": self.districts_text,
        }
        if self.days_left <= 0:
            return (
                gettext(
                    "The official working calendar of %(year)s is not known (%(districts)s), "
                    "and %(year)s has begun. Enter next year's official schedule of holidays "
                    "and moved workdays now."
                )
                % params
            )
        return (
            gettext(
                "The working calendar knows no official schedule for %(year)s "
                "(%(districts)s); %(date)s is %(days)s days away. Enter next year's official "
                "schedule of holidays and moved workdays."
            )
            % params
        )

    @property
    def hint(self) -> str:
        return self.advice()

    def advice(self, *, in_admin: bool = False) -> str:
        """What the missing year means and how to enter it (`how_to_enter`)."""
        if settings.WHISTLE_CALENDAR_UNKNOWN_YEAR == "error":
            consequence = gettext("Until then, deadlines that reach into it cannot be computed.")
        else:
            consequence = gettext(
                "Until then, deadlines that reach into it count only weekends as rest days."
            )
        return join_sentences(consequence, how_to_enter(self.year, in_admin=in_admin))

    @property
    def districts_text(self) -> str:
        if self.every_district:
            return gettext("every district")
        return gettext(", ").join(self.districts)


def years_with_rest_days() -> dict[int | None, set[int]]:
    """The years with at least one entered rest day, by district id (None: every district)."""
    found: dict[int | None, set[int]] = {}
    rows = (
        CalendarDay.objects.filter(is_workday=False)
        .annotate(year=ExtractYear("date"))
        .values_list("district_id", "year")
        .distinct()
    )
    for owner, year in rows:
        found.setdefault(owner, set()).add(year)
    return found


def lacks_rest_days(year: int, district: Jurisdiction | None) -> bool:
    """True when `year`, unknown to the package, has no rest day entered that the calendar
    of `district` (None: every district) would use: entering it as a CalendarYear would
    count its public holidays as working days."""
    if package_knows(year):
        return False
    scope = Q(district__isnull=True)
    if district is not None:
        scope |= Q(district=district)
    days = CalendarDay.objects.filter(scope, is_workday=False, date__year=year)
    return not days.exists()


def local_today() -> date:
    return timezone.now().astimezone(LOCAL_TIME_ZONE).date()


def horizon_warnings(today: date | None = None) -> list[HorizonWarning]:
    """Warnings for every year that is unknown to some district and starts within
    HORIZON_WARNING_DAYS (or has already started). Pages show these; so does the system
    check and ``whistle calendar status``."""
    today = today or local_today()
    entered: dict[int | None, set[int]] = {}
    for owner, year in CalendarYear.objects.values_list("district_id", "year"):
        entered.setdefault(owner, set()).add(year)
    city_years = entered.get(None, set())
    rested = years_with_rest_days()
    city_rested = rested.get(None, set())
    districts = list(
        Jurisdiction.objects.filter(level=Jurisdiction.Level.DISTRICT)
        .order_by("code")
        .values_list("id", "name")
    )
    scopes: list[tuple[int | None, str]] = list(districts) or [(None, "")]
    unknown_in: dict[int, list[str]] = {}
    for district_id, name in scopes:
        # An entered year counts only with a rest day of its own (as in WorkingCalendar.load).
        known = (city_years | entered.get(district_id, set())) & (
            city_rested | rested.get(district_id, set())
        )
        year = today.year
        while package_knows(year) or year in known:
            year += 1
        days_left = (date(year, 1, 1) - ONE_DAY - today).days
        if days_left <= HORIZON_WARNING_DAYS:
            unknown_in.setdefault(year, []).append(name)
    warnings = []
    for year, names in sorted(unknown_in.items()):
        warnings.append(
            HorizonWarning(
                year=year,
                days_left=(date(year, 1, 1) - today).days,
                districts=[n for n in names if n],
                every_district=len(names) == len(scopes),
            )
        )
    return warnings


def known_years_summary() -> dict[str, list[int]]:
    """Entered years by scope name ("" for the whole city), for the status command."""
    summary: dict[str, list[int]] = {}
    rows = CalendarYear.objects.select_related("district").order_by("district__code", "year")
    for row in rows:
        scope = row.district.name if row.district is not None else ""
        summary.setdefault(scope, []).append(row.year)
    return summary


# --- Changes to the calendar, as the trail of a moved deadline records them ----------------

CHANGE_WORDS = {"added": _("entered"), "changed": _("changed"), "removed": _("removed")}


def calendar_change(day: CalendarDay, change: str) -> dict[str, Any]:
    """A calendar day entered, changed or removed (`change`), as data for a trail event."""
    return {
        "date": day.date.isoformat(),
        "workday": bool(day.is_workday),
        "name": day.name,
        "district": day.district.code if day.district is not None else None,
        "change": change,
    }


def describe_calendar_change(changes: Sequence[dict[str, Any]]) -> str:
    """Calendar changes in the active language: "2026-12-10 rest day 冬至 (entered)"."""
    parts = []
    for change in changes:
        state = gettext("working day") if change.get("workday") else gettext("rest day")
        what = CHANGE_WORDS.get(str(change.get("change")), str(change.get("change", "")))
        text = " ".join(p for p in (str(change.get("date", "")), state, change.get("name")) if p)
        parts.append(gettext("%(day)s (%(change)s)") % {"day": text, "change": what})
    return gettext("; ").join(parts)


def pointless_workday(day: date, district: Jurisdiction | None) -> bool:
    """An entered working day on `day` for `district` (None: the whole city) would change
    nothing: the day is a working day already (a weekday that is no holiday)."""
    if day.weekday() >= 5:
        return False
    return calendar_for(district).works_beneath(day, of_district=district is not None)
