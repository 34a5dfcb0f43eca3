"""The 12345 hotline's three rates (三率) and their weighted score, for the hotline's work
orders.

The requests of a period are the district's work orders from the 12345 hotline
(`HotlineOrder`, channel ``hotline``) received in it, in Beijing time: orders handed down by
a superior or from another channel are not the hotline's. Each order counts, also one whose
case was merged into another as a duplicate or not taken up: each has its own caller, who
is owed a reply and a call-back. The rates read the trail:

- response rate 响应率: orders whose reply to the caller (`hotline.replied`) was recorded
  by the order's respond limit (`HotlineOrder.respond_due_at`, from its deadline class) ÷
  orders received;
- resolution rate 解决率: orders whose caller, reached on the call-back
  (`case.resident_callback` with ``contacted``), says the problem is solved ÷ orders whose
  caller was reached;
- satisfaction rate 满意率: orders whose caller, reached on the call-back, is satisfied ÷
  orders whose caller was reached.

No rate reads the kind of the reply (`HotlineOrder.reply_kind`): any kind recorded by the
limit is the response, and the call-backs the other two count come only once a request is
handled (a final reply, or the case resolved or closed), so they answer for a handled request.

The score is the weighted mean of the three rates, each rounded to cents first, with the
district's weights (`HotlineScheme`; default 30% / 35% / 35%). A rate that cannot be computed
yet (nobody reached on a call-back) is left out with its weight, as parts are in a record's
total.

Rates reflect the orders as they stand: a period's numbers settle once all its orders are
replied to and called back.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery

from whistle.assessment.measures import period_bounds, rate
from whistle.assessment.models import (
    DEFAULT_HOTLINE_RESOLUTION_WEIGHT,
    DEFAULT_HOTLINE_RESPONSE_WEIGHT,
    DEFAULT_HOTLINE_SATISFACTION_WEIGHT,
    HotlineScheme,
    parse_share,
)
from whistle.assessment.periods import Period
from whistle.assessment.scoring import competition_ranks, exact_rounded
from whistle.cases.models import Case, Event, HotlineOrder
from whistle.cases.trail import EventKind
from whistle.organisation.models import Jurisdiction


@dataclass(frozen=True)
class HotlineWeights:
    """The weights of the three rates, adding up to 1."""

    response: Fraction
    resolution: Fraction
    satisfaction: Fraction
    # The scheme they come from, or None for the defaults.
    scheme_id: int | None = None

    @classmethod
    def defaults(cls) -> HotlineWeights:
        return cls(
            parse_share(DEFAULT_HOTLINE_RESPONSE_WEIGHT),
            parse_share(DEFAULT_HOTLINE_RESOLUTION_WEIGHT),
            parse_share(DEFAULT_HOTLINE_SATISFACTION_WEIGHT),
        )


def hotline_weights(district: Jurisdiction, period_key: str) -> HotlineWeights:
    """The district's hotline scheme in force in the period's first month, else the
    defaults (30% / 35% / 35%)."""
    period = Period.parse(period_key)
    scheme = (
        HotlineScheme.objects.filter(district=district, valid_from__lte=period.first_month)
        .order_by("-valid_from")
        .first()
    )
    if scheme is None:
        return HotlineWeights.defaults()
    return HotlineWeights(
        parse_share(scheme.response_weight),
        parse_share(scheme.resolution_weight),
        parse_share(scheme.satisfaction_weight),
        scheme.pk,
    )


@dataclass(frozen=True)
class HotlineRates:
    """The three rates of a set of hotline orders, with the counts they come from:
    `called_back` are the orders whose caller was reached on the call-back."""

    received: int
    responded: int
    resolved: int
    called_back: int
    satisfied: int
    response_rate: Decimal | None
    resolution_rate: Decimal | None
    satisfaction_rate: Decimal | None
    # Weighted mean of the rates that apply; None when none applies.
    score: Decimal | None
    # All three rates apply.
    complete: bool
    weights: HotlineWeights

    @classmethod
    def from_counts(cls, counts: dict[str, int], weights: HotlineWeights) -> HotlineRates:
        received = counts.get("hotline_received") or 0
        responded = counts.get("hotline_responded") or 0
        resolved = counts.get("hotline_resolved") or 0
        called_back = counts.get("hotline_called_back") or 0
        satisfied = counts.get("hotline_satisfied") or 0
        rates = (
            (rate(responded, received), weights.response),
            (rate(resolved, called_back), weights.resolution),
            (rate(satisfied, called_back), weights.satisfaction),
        )
        applying = [(value, weight) for value, weight in rates if value is not None]
        weight_sum = sum((weight for _, weight in applying), Fraction(0))
        score = (
            exact_rounded(
                sum((Fraction(value) * weight for value, weight in applying), Fraction(0))
                / weight_sum
            )
            if applying and weight_sum
            else None
        )
        return cls(
            received=received,
            responded=responded,
            resolved=resolved,
            called_back=called_back,
            satisfied=satisfied,
            response_rate=rates[0][0],
            resolution_rate=rates[1][0],
            satisfaction_rate=rates[2][0],
            score=score,
            complete=len(applying) == 3,
            weights=weights,
        )


def hotline_alias(case_ref: str) -> dict[str, Any]:
    """The per-case values the counts filter on, from the trail: pass them to `.alias()`
    before aggregating with `hotline_aggregates`. `case_ref` is "pk" for a queryset of cases
    and "case_id" for rows that point at a case."""

    def callback(**answers: bool) -> Exists:
        return Exists(
            Event.objects.filter(
                case_id=OuterRef(case_ref),
                kind=EventKind.RESIDENT_CALLBACK,
                **{f"data__{key}": value for key, value in answers.items()},
            )
        )

    first_reply = Subquery(
        Event.objects.filter(case_id=OuterRef(case_ref), kind=EventKind.HOTLINE_REPLIED)
        .order_by("seq")
        .values("at")[:1]
    )
    return {
        "hotline_replied_at": first_reply,
        "hotline_reached": callback(contacted=True),
        "hotline_said_resolved": callback(contacted=True, resolved=True),
        "hotline_said_satisfied": callback(contacted=True, satisfied=True),
    }


def hotline_aggregates(case_ref: str) -> dict[str, Any]:
    """The counts behind the three rates as aggregate expressions (each case counted once),
    for a queryset aliased with `hotline_alias(case_ref)`. Used by `hotline_rates`, the
    township ranking and the indicators table."""
    prefix = "" if case_ref == "pk" else "case__"

    def count(condition: Q) -> Count:
        if prefix:
            return Count("case", filter=condition, distinct=True)
        return Count("pk", filter=condition)

    received = Q(**{f"{prefix}hotline_order__channel": HotlineOrder.Channel.HOTLINE})
    respond_due_at = F(f"{prefix}hotline_order__respond_due_at")
    return {
        "hotline_received": count(received),
        "hotline_responded": count(received & Q(hotline_replied_at__lte=respond_due_at)),
        "hotline_resolved": count(received & Q(hotline_said_resolved=True)),
        "hotline_called_back": count(received & Q(hotline_reached=True)),
        "hotline_satisfied": count(received & Q(hotline_said_satisfied=True)),
    }


def _hotline_cases(district: Jurisdiction, period: Period) -> QuerySet[Case]:
    start, end = period_bounds(period)
    return Case.objects.filter(
        district=district,
        reported_at__gte=start,
        reported_at__lt=end,
        hotline_order__channel=HotlineOrder.Channel.HOTLINE,
    )


def hotline_rates(
    district: Jurisdiction, period_key: str, *, township: Jurisdiction | None = None
) -> HotlineRates:
    """The three rates and the score of the hotline orders received in the period in the
    district, or in one of its townships. One query (and one for the weights)."""
    period = Period.parse(period_key)
    weights = hotline_weights(district, period.key)
    cases = _hotline_cases(district, period)
    if township is not None:
        cases = cases.filter(township=township)
    counts = cases.annotate(**hotline_alias("pk")).aggregate(**hotline_aggregates("pk"))
    return HotlineRates.from_counts(counts, weights)


@dataclass(frozen=True)
class TownshipHotline:
    """One township's line of the monthly hotline ranking."""

    township: Jurisdiction
    rates: HotlineRates
    rank: int | None


def township_hotline_ranking(district: Jurisdiction, period_key: str) -> list[TownshipHotline]:
    """Every township of the district with its hotline rates in the period, ranked by score
    (standard competition ranking, "1224"); townships without orders have no rank and come
    last. Three queries whatever the number of townships."""
    period = Period.parse(period_key)
    weights = hotline_weights(district, period.key)
    grouped = {
        row["township_id"]: row
        for row in _hotline_cases(district, period)
        .alias(**hotline_alias("pk"))
        .values("township_id")
        .annotate(**hotline_aggregates("pk"))
    }
    townships = Jurisdiction.objects.filter(parent=district, level=Jurisdiction.Level.TOWNSHIP)
    lines = [
        (township, HotlineRates.from_counts(grouped.get(township.pk, {}), weights))
        for township in townships.order_by("code")
    ]
    ranks = competition_ranks((township.pk, rates.score) for township, rates in lines)
    lines.sort(key=lambda line: (line[1].score is None, -(line[1].score or 0), line[0].code))
    return [TownshipHotline(township, rates, ranks[township.pk]) for township, rates in lines]
