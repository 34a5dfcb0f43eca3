"""Indicators beside the scores, read from the records and the trail of a period.

- on-time arrival rate: arrivals on time ÷ summonses with an arrival obligation that
  settled (on time + late + never came);
- mean and p90 minutes from the summons to its acknowledgement and to the first check-in
  (p90 by the nearest-rank method: the ⌈0.9 n⌉-th smallest);
- on-time result rate: results reported by the deadline of the first round ÷ records that
  handled the problem or never acted;
- rework rate: handled records with at least one rework ÷ handled records;
- whistle rate (吹哨率) of townships: cases reported in the period that had a whistle ÷ cases
  reported.

Rates are percentages; all numbers are Decimals rounded half up to 2 places.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from whistle.assessment.models import Acted, Came, SummonsAssessment
from whistle.assessment.periods import BEIJING, Period
from whistle.assessment.scoring import exact_rounded
from whistle.cases.models import Case, Event, Summons
from whistle.cases.trail import EventKind
from whistle.organisation.models import Jurisdiction


@dataclass(frozen=True)
class Indicators:
    records: int
    on_time_arrival_rate: Decimal | None
    mean_minutes_to_acknowledge: Decimal | None
    p90_minutes_to_acknowledge: Decimal | None
    mean_minutes_to_arrive: Decimal | None
    p90_minutes_to_arrive: Decimal | None
    on_time_result_rate: Decimal | None
    rework_rate: Decimal | None


def rate(part: int, whole: int) -> Decimal | None:
    return exact_rounded(Fraction(100 * part, whole)) if whole else None


def p90(values: list[Fraction]) -> Decimal | None:
    if not values:
        return None
    ordered = sorted(values)
    return exact_rounded(ordered[math.ceil(Fraction(9, 10) * len(ordered)) - 1])


def mean_of(values: list[Fraction]) -> Decimal | None:
    return exact_rounded(sum(values, Fraction(0)) / len(values)) if values else None


def _minutes(later: datetime, earlier: datetime) -> Fraction:
    return Fraction((later - earlier) // timedelta(microseconds=1), 60_000_000)


def indicators(district: Jurisdiction, period_key: str, **scope: Any) -> Indicators:
    """The indicators of the settled records of a district in a period, optionally of one
    department (`department=`) or one township (`township=`)."""
    period = Period.parse(period_key)
    records = list(
        SummonsAssessment.objects.filter(
            district=district, month__in=period.months(), settled=True, **scope
        ).values("summons_id", "came", "acted", "rework_count")
    )
    ids = [r["summons_id"] for r in records]
    summoned = dict(Summons.objects.filter(pk__in=ids).values_list("pk", "summoned_at"))
    resolve_due = dict(Summons.objects.filter(pk__in=ids).values_list("pk", "resolve_due_at"))
    first: dict[tuple[int, str], Event] = {}
    for event in Event.objects.filter(
        summons_id__in=ids,
        kind__in=[
            EventKind.SUMMONED,
            EventKind.ACKNOWLEDGED,
            EventKind.CHECK_IN_ACCEPTED,
            EventKind.RESULT,
            EventKind.CHECK_OUT,
        ],
    ).order_by("seq"):
        assert event.summons_id is not None
        first.setdefault((event.summons_id, event.kind), event)

    to_acknowledge, to_arrive = [], []
    result_on_time = result_due = 0
    for pk in ids:
        start = summoned[pk]
        if (ack := first.get((pk, EventKind.ACKNOWLEDGED))) is not None:
            to_acknowledge.append(_minutes(ack.at, start))
        if (arrival := first.get((pk, EventKind.CHECK_IN_ACCEPTED))) is not None:
            to_arrive.append(_minutes(arrival.at, start))
    for record in records:
        if record["acted"] not in (Acted.HANDLED, Acted.DECLINE_OVERRULED, Acted.ABANDONED):
            continue
        pk = record["summons_id"]
        result_due += 1
        done = first.get((pk, EventKind.RESULT)) or first.get((pk, EventKind.CHECK_OUT))
        call = first.get((pk, EventKind.SUMMONED))
        due_text = call.data.get("resolve_due_at") if call is not None else None
        due = datetime.fromisoformat(due_text) if due_text else resolve_due[pk]
        if done is not None and done.at <= due:
            result_on_time += 1

    arrivals = [r for r in records if r["came"] in (Came.ON_TIME, Came.LATE, Came.NO_SHOW)]
    handled = [r for r in records if r["acted"] in (Acted.HANDLED, Acted.DECLINE_OVERRULED)]
    return Indicators(
        records=len(records),
        on_time_arrival_rate=rate(
            sum(1 for r in arrivals if r["came"] == Came.ON_TIME), len(arrivals)
        ),
        mean_minutes_to_acknowledge=mean_of(to_acknowledge),
        p90_minutes_to_acknowledge=p90(to_acknowledge),
        mean_minutes_to_arrive=mean_of(to_arrive),
        p90_minutes_to_arrive=p90(to_arrive),
        on_time_result_rate=rate(result_on_time, result_due),
        rework_rate=rate(sum(1 for r in handled if r["rework_count"] > 0), len(handled)),
    )


def whistle_rate(township: Jurisdiction, period_key: str) -> Decimal | None:
    """Cases reported in the township in the period that had a whistle, in percent."""
    period = Period.parse(period_key)
    first = datetime(period.year, period.first_month.month, 1, tzinfo=BEIJING)
    last = period.last_month
    end = datetime(last.year + (last.month == 12), last.month % 12 + 1, 1, tzinfo=BEIJING)
    cases = Case.objects.filter(township=township, reported_at__gte=first, reported_at__lt=end)
    whistled = cases.filter(whistles__isnull=False).distinct().count()
    return rate(whistled, cases.count())
