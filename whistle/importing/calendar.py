"""Import of the official working calendar: holidays and moved workdays (调休).

The State Council publishes each year's schedule in November or December. A district that
enters it here can mark the year as entered in full (``--complete``), after which deadlines
in that year are computed from these days rather than refused or estimated.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import models
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from whistle.importing import cells
from whistle.importing.base import Column, Importer, Lookup, Row
from whistle.importing.places import fetch_places, no_such_place, wrong_level
from whistle.organisation.models import Jurisdiction
from whistle.policies.models import CalendarDay, CalendarYear
from whistle.policies.signals import announce_calendar_entered


class DayType(models.TextChoices):
    HOLIDAY = "holiday", gettext_lazy("holiday (rest day)")
    WORKDAY = "workday", gettext_lazy("moved workday")


DAY_WORDS = {
    "休": DayType.HOLIDAY,
    "休息": DayType.HOLIDAY,
    "休息日": DayType.HOLIDAY,
    "放假": DayType.HOLIDAY,
    "节假日": DayType.HOLIDAY,
    "假日": DayType.HOLIDAY,
    "rest": DayType.HOLIDAY,
    "off": DayType.HOLIDAY,
    "班": DayType.WORKDAY,
    "上班": DayType.WORKDAY,
    "补班": DayType.WORKDAY,
    "调休上班": DayType.WORKDAY,
    "工作日": DayType.WORKDAY,
    "work": DayType.WORKDAY,
}

DayKey = tuple[str | None, date]  # district code (None: every district), date
YearKey = tuple[str | None, int]


def fetch_days(keys: list[DayKey]) -> Iterable[tuple[DayKey, CalendarDay]]:
    days = CalendarDay.objects.filter(date__in={d for _c, d in keys}).select_related("district")
    return (((d.district.code if d.district else None, d.date), d) for d in days)


def fetch_years(keys: list[YearKey]) -> Iterable[tuple[YearKey, CalendarYear]]:
    years = CalendarYear.objects.filter(year__in={y for _c, y in keys}).select_related("district")
    return (((y.district.code if y.district else None, y.year), y) for y in years)


class CalendarImporter(Importer):
    kind = "calendar"
    title = gettext_lazy("calendar days")
    columns = (
        Column("date", ("日期",), cells.day, required=True),
        Column("type", ("类型", "休或班", "kind"), cells.choice(DayType, DAY_WORDS), required=True),
        Column("name", ("名称", "说明", "备注", "节日", "note")),
        Column("district", ("所属区", "区代码", "区"), cells.digits(6)),
    )

    def setup(self) -> None:
        self.places: Lookup[str, Jurisdiction] = Lookup(fetch_places)
        self.days: Lookup[DayKey, CalendarDay] = Lookup(fetch_days)
        self.years: Lookup[YearKey, CalendarYear] = Lookup(fetch_years)
        self.seen: dict[DayKey, int] = {}
        self.years_seen: set[YearKey] = set()

    def _district_code(self, row: Row) -> str | None:
        code: str | None = row["district"]
        return code or (self.district.code if self.district is not None else None)

    def prefetch(self, rows: list[Row]) -> None:
        for row in rows:
            code = self._district_code(row)
            self.places.want(code)
            self.days.want((code, row["date"]))
            self.years.want((code, row["date"].year))
        for lookup in (self.places, self.days, self.years):
            lookup.load()

    def check(self, row: Row) -> None:
        day: date = row["date"]
        code = self._district_code(row)
        key = (code, day)
        if key in self.seen:
            row.error("date", _("This day is already on row %(row)s") % {"row": self.seen[key]})
            return
        self.seen[key] = row.number
        if code is not None and self.outside_district(row, "district", code):
            return
        district = None
        if code is not None:
            district = self.find(row, self.places, code, "district", no_such_place)
            if district is not None and district.level != Jurisdiction.Level.DISTRICT:
                row.error("district", wrong_level(district, Jurisdiction.Level.DISTRICT))
        is_workday = row["type"] == DayType.WORKDAY
        if is_workday and day.weekday() < 5:
            row.error(
                "type",
                _("A moved workday is a Saturday or Sunday; %(date)s is a %(weekday)s")
                % {"date": day.isoformat(), "weekday": date_format(day, "l")},
            )
        if row.failed:
            return
        values: dict[str, Any] = {"district": district, "date": day, "is_workday": is_workday}
        if row.given("name"):
            values["name"] = row["name"] or ""
        self.plan(row, CalendarDay, self.days.get(key), values, key_column="date")
        if self.options.get("complete") and (code, day.year) not in self.years_seen:
            self._complete_year(row, (code, day.year), district)

    def _complete_year(self, row: Row, key: YearKey, district: Jurisdiction | None) -> None:
        """Mark the year of this row as entered in full, on the first row of that year."""
        self.years_seen.add(key)
        values: dict[str, Any] = {"district": district, "year": key[1]}
        source = self.options.get("source")
        if source is not None:
            values["source"] = source
        self.plan(row, CalendarYear, self.years.get(key), values, key_column="date")

    def on_written(self) -> None:
        """Deadlines computed while these years were unknown are computed again."""
        by_district: dict[str | None, set[int]] = {}
        for code, day in self.seen:
            by_district.setdefault(code, set()).add(day.year)
        for code, years in sorted(by_district.items(), key=lambda item: item[0] or ""):
            district = self.places.get(code) if code is not None else None
            self.notes += announce_calendar_entered(
                years=years, district=district, trigger="import"
            )

    def after_write(self) -> None:
        if self.options.get("complete"):
            return
        years = sorted({(code, day.year) for code, day in self.seen})
        unmarked = [str(year) for code, year in years if self.years.get((code, year)) is None]
        if unmarked:
            self.notes.append(
                _(
                    "Not marked as entered in full: %(years)s. When a year's schedule is "
                    "complete, import it again with --complete."
                )
                % {"years": cells.join(sorted(set(unmarked)))}
            )
