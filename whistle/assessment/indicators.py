"""Indicators beside the scores, per district, township, department and category, for any
period (month, quarter, year). The definitions are in docs/assessment.md ("Indicators").

Two sets of things are counted:

- **summonses**: the settled assessment records of the period (the month, in Beijing time, in
  which the department was summoned), with their trail events:
  - on-time arrival rate: arrivals on time ÷ (on time + late + never came);
  - mean and p90 minutes from the summons to its first acknowledgement and to its first
    accepted check-in (p90 by the nearest-rank method: the ⌈0.9 n⌉-th smallest);
  - on-time result rate: results (else check-outs) by the first round's resolve deadline ÷
    records that handled the problem or never acted;
  - rework rate of the records: handled records with at least one rework ÷ handled records;
- **cases**: the cases reported in the period (for a department: those it was summoned to):
  - whistle rate 吹哨率: cases with a whistle ÷ cases;
  - closure rate 结案率: cases closed ÷ cases filed;
  - on-time closure rate 按期结案率: closed by the resolution deadline ÷ (due − deferred), where
    a filed case is due once its deadline has passed or it is closed, and deferred when it
    is on the open backlog (挂账);
  - rework rate 返工率 of the cases: cases that failed the check on site ÷ cases checked;
  - the hotline's three rates and score (`whistle.assessment.hotline`).

Every number comes from a few aggregate queries per table (no loop over records or cases in
Python), and the same SQL runs on SQLite and PostgreSQL. Rates are percentages; all numbers
are Decimals rounded half up to 2 places.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Case as Choose
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from whistle.assessment.hotline import (
    HotlineRates,
    HotlineWeights,
    hotline_aggregates,
    hotline_alias,
    hotline_weights,
)
from whistle.assessment.measures import (
    MICROSECONDS_PER_MINUTE,
    duration,
    in_minutes,
    mean_duration,
    p90_by_group,
    period_bounds,
    rate,
)
from whistle.assessment.models import Acted, Came, SummonsAssessment
from whistle.assessment.periods import Period
from whistle.cases.models import Case, Event, Summons, Whistle
from whistle.cases.trail import EventKind
from whistle.organisation.models import Department, Jurisdiction
from whistle.policies.models import Category

Dimension = Literal["district", "township", "department", "category"]
DIMENSIONS: tuple[Dimension, ...] = ("district", "township", "department", "category")

ARRIVAL_OBLIGATIONS = (Came.ON_TIME, Came.LATE, Came.NO_SHOW)
HANDLED = (Acted.HANDLED, Acted.DECLINE_OVERRULED)
RESULT_OWED = (Acted.HANDLED, Acted.DECLINE_OVERRULED, Acted.ABANDONED)

# How each dimension groups the records and the cases.
RECORD_GROUP: dict[Dimension, str | None] = {
    "district": None,
    "township": "township_id",
    "department": "department_id",
    "category": "case__category_id",
}
CASE_GROUP: dict[Dimension, str | None] = {
    "district": None,
    "township": "township_id",
    "department": "department_id",
    "category": "category_id",
}


@dataclass(frozen=True)
class Indicators:
    """The indicators of one scope (the district, a township, a department or a category)
    in one period, with the counts the rates come from."""

    # Summonses: settled assessment records of the period.
    records: int
    on_time_arrival_rate: Decimal | None
    mean_minutes_to_acknowledge: Decimal | None
    p90_minutes_to_acknowledge: Decimal | None
    mean_minutes_to_arrive: Decimal | None
    p90_minutes_to_arrive: Decimal | None
    on_time_result_rate: Decimal | None
    rework_rate: Decimal | None
    # Cases reported in the period.
    cases: int
    whistled: int
    whistle_rate: Decimal | None
    filed: int
    closed: int
    closure_rate: Decimal | None
    due: int
    deferred: int
    closed_on_time: int
    on_time_closure_rate: Decimal | None
    checked: int
    failed_check: int
    case_rework_rate: Decimal | None
    hotline: HotlineRates


@dataclass(frozen=True)
class IndicatorRow:
    """One line of the indicators table: what it is about, and its indicators."""

    dimension: Dimension
    # The township's, department's or category's id; None for the district line.
    key: int | None
    code: str
    name: str
    indicators: Indicators


# Record (summons) measures --------------------------------------------------------------


def _first_event_at(*kinds: str) -> Subquery:
    return Subquery(
        Event.objects.filter(summons_id=OuterRef("summons_id"), kind__in=kinds)
        .order_by("seq")
        .values("at")[:1]
    )


def _first_round_resolve_due() -> Coalesce:
    """The resolve deadline the summons event recorded (a rework moves the summons' own
    field), else the summons' field."""
    recorded = Subquery(
        Event.objects.filter(summons_id=OuterRef("summons_id"), kind=EventKind.SUMMONED)
        .order_by("seq")
        .annotate(recorded_due=Cast(KeyTextTransform("resolve_due_at", "data"), DateTimeField()))
        .values("recorded_due")[:1]
    )
    return Coalesce(recorded, F("summons__resolve_due_at"), output_field=DateTimeField())


def _ack_time() -> Any:
    return duration(_first_event_at(EventKind.ACKNOWLEDGED), "summons__summoned_at")


def _first_arrival_at() -> Subquery:
    """The first clean check-in, or a flagged one the township confirmed, at the time it was
    made (the confirmation records it); an unconfirmed flagged check-in is no arrival."""
    confirmed_at = Cast(KeyTextTransform("checked_in_at", "data"), DateTimeField())
    return Subquery(
        Event.objects.filter(
            summons_id=OuterRef("summons_id"),
            kind__in=(EventKind.CHECK_IN_ACCEPTED, EventKind.CHECK_IN_CONFIRMED),
        )
        .annotate(
            arrival=Choose(
                When(kind=EventKind.CHECK_IN_CONFIRMED, then=confirmed_at),
                default=F("at"),
                output_field=DateTimeField(),
            )
        )
        .order_by("arrival")
        .values("arrival")[:1]
    )


def _arrive_time() -> Any:
    return duration(_first_arrival_at(), "summons__summoned_at")


def _record_aliases() -> dict[str, Any]:
    first_result = Coalesce(
        _first_event_at(EventKind.RESULT),
        _first_event_at(EventKind.CHECK_OUT),
        output_field=DateTimeField(),
    )
    return {
        "ack_time": _ack_time(),
        "arrive_time": _arrive_time(),
        "result_margin": duration(first_result, _first_round_resolve_due()),
    }


RECORD_AGGREGATES: dict[str, Any] = {
    "records": Count("pk"),
    "arrivals": Count("pk", filter=Q(came__in=ARRIVAL_OBLIGATIONS)),
    "on_time": Count("pk", filter=Q(came=Came.ON_TIME)),
    "handled": Count("pk", filter=Q(acted__in=HANDLED)),
    "reworked": Count("pk", filter=Q(acted__in=HANDLED, rework_count__gt=0)),
    "result_owed": Count("pk", filter=Q(acted__in=RESULT_OWED)),
    "result_on_time": Count("pk", filter=Q(acted__in=RESULT_OWED, result_margin__lte=timedelta(0))),
    "ack_sum": Sum("ack_time"),
    "ack_count": Count("ack_time"),
    "arrive_sum": Sum("arrive_time"),
    "arrive_count": Count("arrive_time"),
}


def _grouped(
    queryset: QuerySet[Any],
    group: str | None,
    per_row: dict[str, Any],
    aggregates: dict[str, Any],
) -> dict[Any, dict[str, Any]]:
    """Aggregate per value of `group` (or over everything, under the key None), with the
    per-row values the aggregates read."""
    if group is None:
        # aggregate() reads per-row values only from a subquery that selects them.
        return {None: queryset.annotate(**per_row).aggregate(**aggregates)}
    return {
        row[group]: row for row in queryset.alias(**per_row).values(group).annotate(**aggregates)
    }


def _record_measures(
    records: QuerySet[SummonsAssessment], group: str | None
) -> dict[Any, dict[str, Any]]:
    counts = _grouped(records, group, _record_aliases(), RECORD_AGGREGATES)
    ack_p90 = p90_by_group(records, _ack_time(), group)
    arrive_p90 = p90_by_group(records, _arrive_time(), group)
    return {
        key: {**row, "ack_p90": ack_p90.get(key), "arrive_p90": arrive_p90.get(key)}
        for key, row in counts.items()
    }


# Case measures ----------------------------------------------------------------------------


def _case_aliases(case_ref: str) -> dict[str, Any]:
    def trail_has(*kinds: str) -> Exists:
        return Exists(Event.objects.filter(case_id=OuterRef(case_ref), kind__in=kinds))

    return {
        "case_whistled": Exists(Whistle.objects.filter(case_id=OuterRef(case_ref))),
        "case_checked": trail_has(EventKind.CHECK_PASSED, EventKind.REWORK),
        "case_failed_check": trail_has(EventKind.REWORK),
        **hotline_alias(case_ref),
    }


def _case_aggregates(case_ref: str, now: datetime) -> dict[str, Any]:
    prefix = "" if case_ref == "pk" else "case__"

    def q(**lookups: Any) -> Q:
        return Q(**{prefix + key: value for key, value in lookups.items()})

    def count(condition: Q | None = None) -> Count:
        if prefix:
            return Count("case", filter=condition, distinct=True)
        return Count("pk", filter=condition)

    filed = q(filed_at__isnull=False, resolve_due_at__isnull=False)
    closed = q(closed_at__isnull=False)
    due = filed & (closed | q(resolve_due_at__lte=now))
    return {
        "cases": count(),
        "whistled": count(Q(case_whistled=True)),
        "filed": count(filed),
        "closed": count(filed & closed),
        "due": count(due),
        "deferred": count(due & q(status=Case.Status.BACKLOG)),
        "closed_on_time": count(due & closed & q(closed_at__lte=F(prefix + "resolve_due_at"))),
        "checked": count(Q(case_checked=True)),
        "failed_check": count(Q(case_failed_check=True)),
        **hotline_aggregates(case_ref),
    }


def _case_measures(
    cases: QuerySet[Any], group: str | None, case_ref: str, now: datetime
) -> dict[Any, dict[str, Any]]:
    return _grouped(cases, group, _case_aliases(case_ref), _case_aggregates(case_ref, now))


# Putting it together --------------------------------------------------------------------


def _build(records: dict[str, Any], cases: dict[str, Any], weights: HotlineWeights) -> Indicators:
    def n(row: dict[str, Any], key: str) -> int:
        return int(row.get(key) or 0)

    ack_p90, arrive_p90 = records.get("ack_p90"), records.get("arrive_p90")
    due, deferred = n(cases, "due"), n(cases, "deferred")
    return Indicators(
        records=n(records, "records"),
        on_time_arrival_rate=rate(n(records, "on_time"), n(records, "arrivals")),
        mean_minutes_to_acknowledge=mean_duration(
            records.get("ack_sum"), n(records, "ack_count"), MICROSECONDS_PER_MINUTE
        ),
        p90_minutes_to_acknowledge=in_minutes(ack_p90) if ack_p90 is not None else None,
        mean_minutes_to_arrive=mean_duration(
            records.get("arrive_sum"), n(records, "arrive_count"), MICROSECONDS_PER_MINUTE
        ),
        p90_minutes_to_arrive=in_minutes(arrive_p90) if arrive_p90 is not None else None,
        on_time_result_rate=rate(n(records, "result_on_time"), n(records, "result_owed")),
        rework_rate=rate(n(records, "reworked"), n(records, "handled")),
        cases=n(cases, "cases"),
        whistled=n(cases, "whistled"),
        whistle_rate=rate(n(cases, "whistled"), n(cases, "cases")),
        filed=n(cases, "filed"),
        closed=n(cases, "closed"),
        closure_rate=rate(n(cases, "closed"), n(cases, "filed")),
        due=due,
        deferred=deferred,
        closed_on_time=n(cases, "closed_on_time"),
        on_time_closure_rate=rate(n(cases, "closed_on_time"), due - deferred),
        checked=n(cases, "checked"),
        failed_check=n(cases, "failed_check"),
        case_rework_rate=rate(n(cases, "failed_check"), n(cases, "checked")),
        hotline=HotlineRates.from_counts(cases, weights),
    )


def _bases(
    district: Jurisdiction, period: Period, dimension: Dimension
) -> tuple[QuerySet[SummonsAssessment], QuerySet[Any], str]:
    """The records and the cases of the district in the period, as this dimension reads
    them, and how the case rows refer to their case."""
    records = SummonsAssessment.objects.filter(
        district=district, month__in=period.months(), settled=True
    )
    start, end = period_bounds(period)
    if dimension == "department":
        summonses = Summons.objects.exclude(status=Summons.Status.CANCELLED).filter(
            department__district=district,
            case__reported_at__gte=start,
            case__reported_at__lt=end,
        )
        return records, summonses, "case_id"
    cases = Case.objects.filter(district=district, reported_at__gte=start, reported_at__lt=end)
    return records, cases, "pk"


def _measure(
    district: Jurisdiction,
    period: Period,
    dimension: Dimension,
    now: datetime,
    scope_id: int | None = None,
) -> tuple[dict[Any, dict[str, Any]], dict[Any, dict[str, Any]], HotlineWeights]:
    """The record and case measures of a dimension, grouped by its rows; or, given
    `scope_id`, of that one row only (under the key None)."""
    records, cases, case_ref = _bases(district, period, dimension)
    group_records, group_cases = RECORD_GROUP[dimension], CASE_GROUP[dimension]
    if scope_id is not None and group_records and group_cases:
        records = records.filter(**{group_records: scope_id})
        cases = cases.filter(**{group_cases: scope_id})
        group_records = group_cases = None
    weights = hotline_weights(district, period.key)
    return (
        _record_measures(records, group_records),
        _case_measures(cases, group_cases, case_ref, now),
        weights,
    )


def indicators(
    district: Jurisdiction,
    period_key: str,
    *,
    department: Department | None = None,
    township: Jurisdiction | None = None,
    category: Category | None = None,
    now: datetime | None = None,
) -> Indicators:
    """The indicators of a district in a period (2026, 2026-Q3, 2026-07), or of one of its
    townships, departments or categories (give at most one). `now` decides which open cases
    are already past their deadline (default: the clock)."""
    period = Period.parse(period_key)
    scopes: list[tuple[Dimension, Any]] = [
        ("department", department),
        ("township", township),
        ("category", category),
    ]
    given = [(dimension, value) for dimension, value in scopes if value is not None]
    if len(given) > 1:
        raise ValueError("indicators() takes at most one of department, township, category")
    dimension: Dimension = given[0][0] if given else "district"
    scope_id: int | None = given[0][1].pk if given else None
    records, cases, weights = _measure(district, period, dimension, now or timezone.now(), scope_id)
    return _build(records.get(None, {}), cases.get(None, {}), weights)


def indicator_table(
    district: Jurisdiction,
    period_key: str,
    *,
    dimensions: tuple[Dimension, ...] = DIMENSIONS,
    now: datetime | None = None,
) -> list[IndicatorRow]:
    """The indicators table of a district in a period: the district first, then each
    township and department of the district (by code) and each category with cases or
    records in the period (by class code). A few aggregate queries per dimension, whatever
    the number of rows."""
    period = Period.parse(period_key)
    now = now or timezone.now()
    rows: list[IndicatorRow] = []
    for dimension in dimensions:
        records, cases, weights = _measure(district, period, dimension, now)
        for key, code, name in _labels(district, dimension, set(records) | set(cases)):
            rows.append(
                IndicatorRow(
                    dimension,
                    key,
                    code,
                    name,
                    _build(records.get(key, {}), cases.get(key, {}), weights),
                )
            )
    return rows


def _labels(
    district: Jurisdiction, dimension: Dimension, keys: set[Any]
) -> list[tuple[int | None, str, str]]:
    """The rows a dimension shows: (id, code, name) in display order."""
    if dimension == "district":
        return [(None, district.code, district.display_name)]
    if dimension == "township":
        townships = Jurisdiction.objects.filter(
            Q(parent=district, level=Jurisdiction.Level.TOWNSHIP) | Q(pk__in=keys - {None})
        )
        return [(t.pk, t.code, t.display_name) for t in townships.order_by("code")]
    if dimension == "department":
        departments = Department.objects.filter(
            Q(district=district, is_active=True) | Q(pk__in=keys - {None})
        )
        return [(d.pk, d.code, d.display_name) for d in departments.order_by("code")]
    categories = Category.objects.filter(pk__in=keys - {None}).select_related("major")
    return sorted(
        ((c.pk, c.full_code, c.display_name) for c in categories), key=lambda label: label[1]
    )


def whistle_rate(township: Jurisdiction, period_key: str) -> Decimal | None:
    """Cases reported in the township in the period that had a whistle, in percent
    (吹哨率: too low, the mechanism is idle; too high, the routine channels fail)."""
    start, end = period_bounds(Period.parse(period_key))
    counts = (
        Case.objects.filter(township=township, reported_at__gte=start, reported_at__lt=end)
        .annotate(has_whistle=Exists(Whistle.objects.filter(case_id=OuterRef("pk"))))
        .aggregate(cases=Count("pk"), whistled=Count("pk", filter=Q(has_whistle=True)))
    )
    return rate(counts["whistled"], counts["cases"])
