"""The period picker of the assessment pages: which month, quarter or year a page shows.

`?period=2026-07`, `2026-Q3` or `2026`; without one, the current month in Beijing time (or
the page's own default, such as the rankings' latest ranked month). A period that cannot be
read is not an error page: the page shows the current month and says why. A page may name
the first year that can have anything to show (the rankings: the district's first year with
a score); the picker then offers no year before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from whistle.assessment.measures import previous_period
from whistle.assessment.periods import Period, PeriodKind

# Years a page may show: wide enough for any real history, narrow enough that every date
# arithmetic on them stays valid.
FIRST_YEAR = 2000
LAST_YEAR = 2100


def current_month() -> Period:
    return Period.month_of(timezone.localdate())


def has_begun(period: Period) -> bool:
    """Whether the period's first month has come (Beijing time): a period still to come
    has nothing to show, and the picker does not offer it."""
    return period.first_month <= current_month().first_month


def period_label(period: Period) -> str:
    """The period in words: 2026年7月, 2026年第3季度, 2026年全年 (in English 7/2026,
    Q3 2026, 2026, whole year)."""
    if period.kind == PeriodKind.MONTH:
        return _("%(month)s/%(year)s") % {"year": period.year, "month": period.number}
    if period.kind == PeriodKind.QUARTER:
        return _("Q%(quarter)s %(year)s") % {"year": period.year, "quarter": period.number}
    return _("%(year)s, whole year") % {"year": period.year}


@dataclass(frozen=True)
class Picked:
    period: Period
    error: str = ""
    # The first year that can have anything to show; None: any year.
    first_year: int | None = None

    def offers(self, period: Period) -> bool:
        """Whether the picker offers the period: it has begun, and its year can have
        something to show (the period shown is always among the choices)."""
        if period == self.period:
            return True
        return has_begun(period) and (self.first_year is None or period.year >= self.first_year)

    @property
    def key(self) -> str:
        return self.period.key

    @property
    def label(self) -> str:
        return period_label(self.period)

    def groups(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """The choices of the picker: the year, its quarters and months, and the same for
        the years before and after, as far as they are offered (`offers`)."""
        groups = []
        for year in (self.period.year - 1, self.period.year, self.period.year + 1):
            periods = [Period(year, PeriodKind.YEAR, 0)]
            periods += [Period(year, PeriodKind.QUARTER, n) for n in range(1, 5)]
            periods += [Period(year, PeriodKind.MONTH, n) for n in range(1, 13)]
            labelled = [
                (period.key, period_label(period)) for period in periods if self.offers(period)
            ]
            if labelled:
                groups.append((str(year), labelled))
        return groups

    def neighbours(self) -> tuple[Period, Period]:
        """The period before and after, of the same kind."""
        p = self.period
        if p.kind == PeriodKind.YEAR:
            return previous_period(p), Period(p.year + 1, p.kind, 0)
        last = 12 if p.kind == PeriodKind.MONTH else 4
        after = (
            Period(p.year, p.kind, p.number + 1)
            if p.number < last
            else Period(p.year + 1, p.kind, 1)
        )
        return previous_period(p), after

    def context(self) -> dict[str, Any]:
        before, after = self.neighbours()
        # The next period is offered once it has begun, the one before while its year can
        # have something to show; beyond them, there is nothing to show.
        return {
            "period": self.period,
            "period_key": self.key,
            "period_label": self.label,
            "period_groups": self.groups(),
            "period_error": self.error,
            "period_before": before if self.offers(before) else None,
            "period_before_label": period_label(before),
            "period_after": after if self.offers(after) else None,
            "period_after_label": period_label(after),
        }


def asked_period(request: HttpRequest, name: str = "period") -> bool:
    """Whether the request names a period (a page may choose its own default when not)."""
    return bool(request.GET.get(name, "").strip())


def pick_period(
    request: HttpRequest,
    name: str = "period",
    default: Period | None = None,
    first_year: int | None = None,
) -> Picked:
    """The period the request asks for; `first_year`, the first year that can have anything
    to show, bounds what the picker offers (`Picked.offers`)."""
    text = request.GET.get(name, "").strip()
    if not text:
        return Picked(default or current_month(), first_year=first_year)
    try:
        period = Period.parse(text)
    except ValidationError as exc:
        return Picked(current_month(), " ".join(exc.messages), first_year)
    if not FIRST_YEAR <= period.year <= LAST_YEAR:
        return Picked(
            current_month(),
            _("Choose a period between %(first)s and %(last)s.")
            % {"first": FIRST_YEAR, "last": LAST_YEAR},
            first_year,
        )
    if not has_begun(period):
        return Picked(
            current_month(),
            _("%(period)s has not begun yet: the current month is shown.")
            % {"period": period_label(period)},
            first_year,
        )
    return Picked(period, first_year=first_year)
