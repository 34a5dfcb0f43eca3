"""Pieces shared by the indicators, the chiefs' assessment, the hotline and the hot spots:
the time window of a period, rates and durations as rounded Decimals, and the nearest-rank
90th percentile computed in the database.

Everything here is computed with aggregate queries that run on SQLite and PostgreSQL alike:
durations are sums of datetime differences (exact microseconds on both), the percentile uses
the window functions ROW_NUMBER and COUNT, which both databases have.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db.models import (
    Count,
    DurationField,
    Expression,
    ExpressionWrapper,
    F,
    QuerySet,
    Window,
)
from django.db.models.functions import RowNumber

from whistle.assessment.periods import BEIJING, Period, PeriodKind
from whistle.assessment.scoring import exact_rounded

MICROSECONDS_PER_MINUTE = 60_000_000
MICROSECONDS_PER_HOUR = 3_600_000_000


def period_bounds(period: Period) -> tuple[datetime, datetime]:
    """The first moment of the period and the first moment after it, Beijing time, as UTC."""
    first, last = period.first_month, period.last_month
    start = datetime(first.year, first.month, 1, tzinfo=BEIJING)
    end = datetime(last.year + (last.month == 12), last.month % 12 + 1, 1, tzinfo=BEIJING)
    return start.astimezone(UTC), end.astimezone(UTC)


def previous_period(period: Period) -> Period:
    """The period of the same kind just before: June before July, Q2 before Q3, 2025 before
    2026."""
    if period.kind == PeriodKind.YEAR:
        return Period(period.year - 1, PeriodKind.YEAR, 0)
    last = 4 if period.kind == PeriodKind.QUARTER else 12
    if period.number == 1:
        return Period(period.year - 1, period.kind, last)
    return Period(period.year, period.kind, period.number - 1)


def elapsed_days(period: Period, now: datetime) -> int:
    """Whole days of the period that have passed by `now` (all of them once it is over)."""
    start, end = period_bounds(period)
    if now >= end:
        return (end - start).days
    if now <= start:
        return 0
    return (now - start) // timedelta(days=1)


def rate(part: int, whole: int) -> Decimal | None:
    """part ÷ whole in percent, rounded half up to cents; None when there is no whole."""
    return exact_rounded(Fraction(100 * part, whole)) if whole else None


def _microseconds(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def in_minutes(delta: timedelta) -> Decimal:
    return exact_rounded(Fraction(_microseconds(delta), MICROSECONDS_PER_MINUTE))


def in_hours(delta: timedelta) -> Decimal:
    return exact_rounded(Fraction(_microseconds(delta), MICROSECONDS_PER_HOUR))


def mean_duration(total: timedelta | None, count: int, unit: int) -> Decimal | None:
    """The mean of `count` durations that add up to `total`, in minutes or hours (`unit`
    microseconds), exactly, then rounded half up to cents."""
    if not count or total is None:
        return None
    return exact_rounded(Fraction(_microseconds(total), count * unit))


def duration(later: Any, earlier: Any) -> ExpressionWrapper:
    """later − earlier as a duration the database can sum and order."""
    left = F(later) if isinstance(later, str) else later
    right = F(earlier) if isinstance(earlier, str) else earlier
    return ExpressionWrapper(left - right, output_field=DurationField())


def p90_by_group(
    queryset: QuerySet[Any], value: Expression, group: str | None
) -> dict[Any, timedelta]:
    """The nearest-rank 90th percentile of `value` (a duration) per `group` value: the
    ⌈0.9 n⌉-th smallest of the n non-null values. One query; without a group, the single
    result is under the key None.

    The rank r = ⌈0.9 n⌉ is the one with 10 r ≥ 9 n > 10 (r − 1), which keeps the arithmetic
    in integers on every database.
    """
    partition = [F(group)] if group else None
    ranked = (
        queryset.annotate(p90_value=value)
        .filter(p90_value__isnull=False)
        .annotate(
            p90_rank=Window(
                RowNumber(),
                partition_by=partition,
                order_by=[F("p90_value").asc(), F("pk").asc()],
            ),
            p90_count=Window(Count("pk"), partition_by=partition),
        )
        .annotate(p90_rank_10=F("p90_rank") * 10, p90_prev_10=(F("p90_rank") - 1) * 10)
        .annotate(p90_count_9=F("p90_count") * 9)
        .filter(p90_rank_10__gte=F("p90_count_9"), p90_prev_10__lt=F("p90_count_9"))
    )
    fields = [group, "p90_value"] if group else ["p90_value"]
    return {row.get(group) if group else None: row["p90_value"] for row in ranked.values(*fields)}
