"""Assessment periods: a month ("2026-07"), a quarter ("2026-Q3") or a year ("2026").

A summons belongs to the month, in Beijing time, in which it was summoned. Quarters and
years are unions of months; their scores are computed from the records of all their months,
not as an average of monthly scores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

BEIJING = ZoneInfo("Asia/Shanghai")

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


class PeriodKind(models.TextChoices):
    MONTH = "month", _("month")
    QUARTER = "quarter", _("quarter")
    YEAR = "year", _("year")


@dataclass(frozen=True, order=True)
class Period:
    year: int
    kind: str
    # Month 1–12, quarter 1–4, or 0 for a year.
    number: int

    @classmethod
    def parse(cls, text: str) -> Period:
        text = (text or "").strip()
        if match := _YEAR.match(text):
            return cls(int(match.group(1)), PeriodKind.YEAR, 0)
        if match := _QUARTER.match(text):
            return cls(int(match.group(1)), PeriodKind.QUARTER, int(match.group(2)))
        if (match := _MONTH.match(text)) and 1 <= int(match.group(2)) <= 12:
            return cls(int(match.group(1)), PeriodKind.MONTH, int(match.group(2)))
        raise ValidationError(
            _("A period looks like 2026, 2026-Q3 or 2026-07; cannot read: %(text)s"),
            params={"text": text},
        )

    @classmethod
    def month_of(cls, day: date) -> Period:
        return cls(day.year, PeriodKind.MONTH, day.month)

    @property
    def key(self) -> str:
        if self.kind == PeriodKind.YEAR:
            return f"{self.year}"
        if self.kind == PeriodKind.QUARTER:
            return f"{self.year}-Q{self.number}"
        return f"{self.year}-{self.number:02d}"

    def __str__(self) -> str:
        return self.key

    @property
    def first_month(self) -> date:
        return self.months()[0]

    @property
    def last_month(self) -> date:
        return self.months()[-1]

    def months(self) -> list[date]:
        """The first days of the months this period covers."""
        if self.kind == PeriodKind.YEAR:
            numbers = list(range(1, 13))
        elif self.kind == PeriodKind.QUARTER:
            numbers = [3 * self.number - 2, 3 * self.number - 1, 3 * self.number]
        else:
            numbers = [self.number]
        return [date(self.year, n, 1) for n in numbers]

    def contains(self, month: date) -> bool:
        return self.first_month <= month <= self.last_month

    def enclosing(self) -> list[Period]:
        """This month's quarter and year (or this quarter's year), this period first."""
        periods = [self]
        if self.kind == PeriodKind.MONTH:
            periods.append(Period(self.year, PeriodKind.QUARTER, (self.number - 1) // 3 + 1))
        if self.kind != PeriodKind.YEAR:
            periods.append(Period(self.year, PeriodKind.YEAR, 0))
        return periods


def month_start(moment: datetime) -> date:
    """The first day of the Beijing-time month of an aware datetime."""
    local = moment.astimezone(BEIJING)
    return date(local.year, local.month, 1)


def validate_month_start(value: date) -> None:
    if value.day != 1:
        raise ValidationError(_("Choose the first day of a month"))
