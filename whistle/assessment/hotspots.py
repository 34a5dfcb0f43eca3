"""Hot spots: problems that keep coming back to the same lane, candidates for root-cause work
(每月一题: each month one theme, solved at the root rather than case by case).

A candidate is a lane × category with at least `min_cases` cases reported in the period and,
unless asked otherwise, more than in the previous period of the same kind (June for July,
Q2 for Q3, 2025 for 2026). Rejected reports (not a problem) and duplicates merged into
another case are not counted; cases without a lane or a category cannot be placed.

Candidates are ranked by cases in the period, then by the rise against the previous period,
then by lane and category. Each lists the cases behind it, their months and the hour of the
day (Beijing time) most of them were reported in.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from django.db.models import Count, QuerySet

from whistle.assessment.measures import period_bounds, previous_period, rate
from whistle.assessment.periods import BEIJING, Period, month_start
from whistle.cases.models import Case
from whistle.organisation.models import Jurisdiction, Lane
from whistle.policies.models import Category

DEFAULT_MIN_CASES = 3
NOT_COUNTED = (Case.Status.REJECTED, Case.Status.MERGED)

Pair = tuple[int, int]  # lane id, category id


@dataclass(frozen=True)
class HotSpotCase:
    """A case behind a hot spot, enough to list it and link to it."""

    id: int
    uuid: UUID
    reference: str
    reported_at: datetime
    status: str
    description: str


@dataclass(frozen=True)
class HotSpot:
    """One candidate for root-cause work: a category of problem recurring on one lane."""

    rank: int
    lane: Lane
    category: Category
    cases: int
    previous_cases: int
    # The periods compared, e.g. "2026-07" and "2026-06".
    period: str
    previous_period: str
    # Each month of the period with its cases (one month for a monthly period).
    by_month: tuple[tuple[date, int], ...]
    # The hour of the day (0–23, Beijing time) with the most reports; the earliest of equals.
    busiest_hour: int
    case_list: tuple[HotSpotCase, ...]

    @property
    def township(self) -> Jurisdiction:
        return self.lane.township

    @property
    def change(self) -> int:
        return self.cases - self.previous_cases

    @property
    def growth_rate(self) -> Decimal | None:
        """The rise against the previous period in percent; None when it had no cases."""
        return rate(self.change, self.previous_cases)


def _counted_cases(
    district: Jurisdiction, period: Period, township: Jurisdiction | None
) -> QuerySet[Case]:
    start, end = period_bounds(period)
    cases = Case.objects.filter(
        district=district,
        reported_at__gte=start,
        reported_at__lt=end,
        lane__isnull=False,
        category__isnull=False,
    ).exclude(status__in=NOT_COUNTED)
    if township is not None:
        cases = cases.filter(township=township)
    return cases


def _counts(cases: QuerySet[Case], at_least: int = 1) -> dict[Pair, int]:
    """Cases per lane × category, those with at least `at_least` (a HAVING clause)."""
    rows = cases.values("lane_id", "category_id").annotate(n=Count("pk"))
    if at_least > 1:
        rows = rows.filter(n__gte=at_least)
    return {(row["lane_id"], row["category_id"]): row["n"] for row in rows}


def hot_spots(
    district: Jurisdiction,
    period_key: str,
    *,
    township: Jurisdiction | None = None,
    min_cases: int = DEFAULT_MIN_CASES,
    rising_only: bool = True,
    limit: int | None = None,
) -> list[HotSpot]:
    """The hot spots of a district (or one township) in a period, ranked. `min_cases`: the
    least cases a lane × category needs in the period; `rising_only`: keep only those with
    more cases than in the previous period; `limit`: at most this many. Five queries."""
    if min_cases < 1:
        raise ValueError("min_cases must be at least 1")
    period = Period.parse(period_key)
    before = previous_period(period)
    current = _counted_cases(district, period, township)
    counts = _counts(current, min_cases)
    if not counts:
        return []
    lane_ids = {lane for lane, _ in counts}
    category_ids = {category for _, category in counts}
    previous = _counts(
        _counted_cases(district, before, township).filter(
            lane_id__in=lane_ids, category_id__in=category_ids
        )
    )
    pairs = [pair for pair, n in counts.items() if not rising_only or n > previous.get(pair, 0)]
    lanes = Lane.objects.select_related("township").in_bulk(lane_ids)
    categories = Category.objects.select_related("major").in_bulk(category_ids)
    pairs.sort(
        key=lambda pair: (
            -counts[pair],
            -(counts[pair] - previous.get(pair, 0)),
            lanes[pair[0]].name,
            categories[pair[1]].full_code,
            pair,
        )
    )
    if limit is not None:
        pairs = pairs[:limit]
    behind = _cases_behind(current, pairs)
    return [
        _hot_spot(
            rank,
            lanes[pair[0]],
            categories[pair[1]],
            counts[pair],
            previous.get(pair, 0),
            period,
            before,
            behind[pair],
        )
        for rank, pair in enumerate(pairs, start=1)
    ]


def _cases_behind(current: QuerySet[Case], pairs: list[Pair]) -> dict[Pair, list[HotSpotCase]]:
    """The cases of the chosen candidates, oldest first: one query, bounded by the
    candidates' own cases."""
    wanted = set(pairs)
    behind: dict[Pair, list[HotSpotCase]] = defaultdict(list)
    if not wanted:
        return behind
    rows = (
        current.filter(
            lane_id__in={lane for lane, _ in wanted},
            category_id__in={category for _, category in wanted},
        )
        .order_by("reported_at", "pk")
        .values_list(
            "lane_id",
            "category_id",
            "pk",
            "uuid",
            "reference",
            "reported_at",
            "status",
            "description",
        )
    )
    for lane_id, category_id, pk, uuid, reference, reported_at, status, description in rows:
        pair = (lane_id, category_id)
        if pair in wanted:
            behind[pair].append(
                HotSpotCase(pk, uuid, reference, reported_at, status, description[:140])
            )
    return behind


def _hot_spot(
    rank: int,
    lane: Lane,
    category: Category,
    cases: int,
    previous_cases: int,
    period: Period,
    before: Period,
    behind: list[HotSpotCase],
) -> HotSpot:
    months = Counter(month_start(case.reported_at) for case in behind)
    hours = Counter(case.reported_at.astimezone(BEIJING).hour for case in behind)
    busiest = max(sorted(hours), key=lambda hour: hours[hour])
    return HotSpot(
        rank=rank,
        lane=lane,
        category=category,
        cases=cases,
        previous_cases=previous_cases,
        period=period.key,
        previous_period=before.key,
        by_month=tuple((month, months.get(month, 0)) for month in period.months()),
        busiest_hour=busiest,
        case_list=tuple(behind),
    )
