"""From a summons and its case's trail to an assessment record, and from records to scores.

Pure functions: nothing here reads or writes the database, so the same code scores a record
when the trail grows, when everything is recomputed, and in `--check`.

Rounding: every score is a Decimal rounded half up to 2 decimal places, and each stage uses
the rounded values of the stage before it (part scores → record total → township evaluation
of a period → total with the other components), so every number shown can be checked by hand
from the numbers shown beside it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from whistle.assessment.models import Acted, Came, Scheme
from whistle.cases.models import Case
from whistle.cases.pauses import arrival_deadline
from whistle.cases.trail import EventKind

CENT = Decimal("0.01")
HUNDRED = Decimal("100")


class AssessmentEventKind:
    """The trail events the assessment writes (their labels live in `EventKind`)."""

    RATED = EventKind.SUMMONS_RATED
    APPEALED = EventKind.APPEALED
    APPEAL_UPHELD = EventKind.APPEAL_UPHELD
    APPEAL_REJECTED = EventKind.APPEAL_REJECTED
    APPEAL_NOBODY_RULES = EventKind.APPEAL_NOBODY_RULES
    APPEAL_RULER_FOUND = EventKind.APPEAL_RULER_FOUND


# Cases that come from a resident: their call-back satisfaction counts in "how well".
RESIDENT_SOURCES = (Case.Source.RESIDENT, Case.Source.HOTLINE)

# What an upheld appeal may set, and to which values.
CORRECTABLE: dict[str, Any] = {
    "came": {Came.ON_TIME.value, Came.NOT_APPLICABLE.value},
    "late_minutes": int,
    "acted": {Acted.HANDLED.value, Acted.DECLINE_UPHELD.value, Acted.NOT_APPLICABLE.value},
    "rework_count": int,
}


def rounded(value: Decimal | Fraction) -> Decimal:
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def exact_rounded(value: Fraction) -> Decimal:
    """Round a fraction half up to cents without going through a finite-precision division."""
    cents = value * 100
    whole = math.floor(cents)
    if cents - whole >= Fraction(1, 2):
        whole += 1
    return Decimal(whole).scaleb(-2).quantize(CENT)


@dataclass(frozen=True)
class TrailEvent:
    """The few fields of a trail event the assessment reads."""

    id: int
    seq: int
    at: datetime
    kind: str
    summons_id: int | None
    data: dict[str, Any]


@dataclass(frozen=True)
class SummonsFacts:
    """The fields of a summons and its case the assessment reads."""

    summons_id: int
    status: str
    arrive_due_at: datetime | None
    case_source: str
    resident_satisfied: bool | None
    # The case's own rating from its evaluation (evaluate_case), used when the township has
    # not rated this summons by itself.
    case_rating: int | None = None
    # How the trail names the summons (resume events list their summonses by it).
    uuid: str = ""


@dataclass
class Facts:
    """What the trail says about one summons, before any points."""

    settled: bool = False
    settled_at: datetime | None = None
    came: str = Came.PENDING
    late_minutes: int | None = None
    acted: str = Acted.PENDING
    rework_count: int = 0
    rating: int | None = None
    rating_comment: str = ""
    resident_satisfied: bool | None = None
    # Let go before it arrived (its decline upheld, or released before its first accepted
    # check-in): it did not have to come, so there is nothing of its own to rate.
    excused: bool = False
    # Counted before it settled (see `provisional`): "never acted" for now, until it settles.
    provisional: bool = False
    corrected: bool = False
    event_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Scores:
    came: Decimal | None
    acted: Decimal | None
    quality: Decimal | None
    total: Decimal | None


def derive_facts(summons: SummonsFacts, events: Sequence[TrailEvent]) -> Facts:
    """Read the case's trail (in sequence order) for one summons.

    Depends on nothing but the trail and the summons (not on the clock), so recomputing gives
    the same record at any time: an open summons counts as "never came" only once the sweep
    has written its arrival-overdue event.
    """
    own = [e for e in events if e.summons_id == summons.summons_id]
    facts = Facts()
    used: list[int] = []

    def first(kind: str) -> TrailEvent | None:
        return next((e for e in own if e.kind == kind), None)

    terminal = [
        e
        for e in events
        if (e.summons_id == summons.summons_id and e.kind in _SUMMONS_TERMINAL)
        or (e.kind == EventKind.CLOSED and e.summons_id in (None, summons.summons_id))
    ]
    # Past its handling deadline and unfinished, by the sweep's event: it counts from then
    # on, not acted until it reports its work, as if it had settled.
    handling_overdue = first(EventKind.RESOLVE_OVERDUE)
    finished = bool(terminal)
    if terminal:
        facts.settled = True
        facts.settled_at = terminal[0].at
        used.append(terminal[0].id)
    elif handling_overdue is not None:
        facts.settled = True
        facts.settled_at = handling_overdue.at
        used.append(handling_overdue.id)

    arrival = first_arrival(own)
    declined = first(EventKind.DECLINED)
    rulings = [e for e in own if e.kind in (EventKind.DECLINE_UPHELD, EventKind.DECLINE_INSISTED)]
    ruling = rulings[-1] if rulings else None
    released = first(EventKind.RELEASED)
    # Lateness counts no time the case spent on the backlog (whistle.cases.pauses).
    due = arrival_deadline(
        first_arrival_deadline(summons, first(EventKind.SUMMONED)), summons.uuid, events
    )
    upheld = ruling if ruling is not None and ruling.kind == EventKind.DECLINE_UPHELD else None
    facts.excused = upheld is not None or (
        released is not None and (arrival is None or arrival[0] > released.at)
    )

    # Did it come?
    if due is None:
        facts.came = Came.NOT_APPLICABLE
    elif arrival is not None:
        arrived_at, arrival_ids = arrival
        used += arrival_ids
        late = due.minutes_late(arrived_at)
        if late == 0:
            facts.came = Came.ON_TIME
        else:
            facts.came = Came.LATE
            facts.late_minutes = late
    elif declined is not None and due.lateness(declined.at) <= timedelta(0) and upheld is not None:
        # A decline made in time and upheld frees the department from coming.
        used += [declined.id, upheld.id]
        facts.came = Came.NOT_APPLICABLE
    elif released is not None and due.lateness(released.at) <= timedelta(0):
        used.append(released.id)
        facts.came = Came.NOT_APPLICABLE
    else:
        overdue = first(EventKind.ARRIVE_OVERDUE)
        if overdue is not None:
            used.append(overdue.id)
            facts.came = Came.NO_SHOW
        elif finished:
            facts.came = Came.NO_SHOW

    # Did it act? A check-out after the release only ends the stay: it is no work done.
    work = [
        e
        for e in own
        if e.kind == EventKind.RESULT
        or (e.kind == EventKind.CHECK_OUT and (released is None or e.seq < released.seq))
    ]
    if upheld is not None:
        used.append(upheld.id)
        facts.acted = Acted.DECLINE_UPHELD
    elif ruling is not None:
        used.append(ruling.id)
        after = [e for e in work if e.seq > ruling.seq]
        if after:
            used.append(after[0].id)
            facts.acted = Acted.DECLINE_OVERRULED
        elif facts.settled:
            facts.acted = Acted.ABANDONED
    elif work:
        used.append(work[0].id)
        facts.acted = Acted.HANDLED
    elif released is not None:
        used.append(released.id)
        facts.acted = Acted.NOT_APPLICABLE
    elif facts.settled:
        facts.acted = Acted.ABANDONED

    # Reworks: those naming this summons, and those of the whole case after this summons had
    # reported its work.
    if facts.acted in (Acted.HANDLED, Acted.DECLINE_OVERRULED):
        first_work = work[0].seq if work else None
        for event in events:
            if event.kind != EventKind.REWORK:
                continue
            if event.summons_id == summons.summons_id or (
                event.summons_id is None and first_work is not None and event.seq > first_work
            ):
                facts.rework_count += 1
                used.append(event.id)

    # How well. A department that did not have to come did nothing of its own to rate:
    # neither the case's evaluation nor the resident's satisfaction speaks for it.
    if not facts.excused:
        _read_how_well(facts, summons, own, events, used)

    # Upheld appeals correct the facts, in the order they were ruled.
    for event in own:
        if event.kind == AssessmentEventKind.APPEAL_UPHELD:
            apply_correction(facts, event.data.get("correction", {}))
            facts.corrected = True
            used.append(event.id)

    facts.provisional = provisional(settled=facts.settled, finished=finished, acted=facts.acted)
    facts.event_ids = sorted(set(used))
    return facts


def provisional(*, settled: bool, finished: bool, acted: str) -> bool:
    """Whether a record counts before its summons settled: counted from the handling-overdue
    event (`summons.resolve_overdue`) and, unfinished, scored "never acted" for now, until the
    summons settles or reports its work. The pages and the API say so beside the record
    (`SummonsAssessment.provisional`); derive_sql writes the same."""
    return settled and not finished and acted == Acted.ABANDONED


def _read_how_well(
    facts: Facts,
    summons: SummonsFacts,
    own: Sequence[TrailEvent],
    events: Sequence[TrailEvent],
    used: list[int],
) -> None:
    """The township's latest rating of the summons, else the case's evaluation; and, for a
    resident's case, the resident's satisfaction."""
    ratings = [e for e in own if e.kind == AssessmentEventKind.RATED]
    if ratings:
        facts.rating = int(ratings[-1].data["rating"])
        facts.rating_comment = str(ratings[-1].data.get("comment", ""))
        used.append(ratings[-1].id)
    elif summons.case_rating is not None:
        evaluated = next((e for e in reversed(events) if e.kind == EventKind.EVALUATED), None)
        if evaluated is not None:
            facts.rating = summons.case_rating
            used.append(evaluated.id)
    if summons.case_source in RESIDENT_SOURCES and summons.resident_satisfied is not None:
        facts.resident_satisfied = summons.resident_satisfied
        callback = next(
            (
                e
                for e in reversed(events)
                if e.kind in (EventKind.RESIDENT_CALLBACK, EventKind.RESIDENT_RATED)
            ),
            None,
        )
        if callback is not None:
            used.append(callback.id)


def first_arrival(own: Sequence[TrailEvent]) -> tuple[datetime, list[int]] | None:
    """When the department arrived, by the trail, and the events that say so: its first
    clean check-in, or a flagged check-in the township confirmed (at the time it was made).
    A flagged check-in still awaiting the township, or rejected, is no arrival."""
    flagged = {e.seq: e for e in own if e.kind == EventKind.CHECK_IN_FLAGGED}
    arrivals = [(e.at, [e.id]) for e in own if e.kind == EventKind.CHECK_IN_ACCEPTED]
    for event in own:
        if event.kind != EventKind.CHECK_IN_CONFIRMED:
            continue
        seq = event.data.get("check_in_seq")
        check_in = flagged.get(seq) if isinstance(seq, int) else None
        if check_in is not None:
            arrivals.append((check_in.at, [check_in.id, event.id]))
    return min(arrivals, key=lambda pair: pair[0]) if arrivals else None


def first_arrival_deadline(summons: SummonsFacts, summoned: TrailEvent | None) -> datetime | None:
    """The arrival deadline of the first round, as the summons event recorded it.

    A rework gives the department a new round and moves `Summons.arrive_due_at`; the
    assessment of "did it come" is about the first call, so it reads the deadline from the
    trail and uses the field only for a trail that did not record it.
    """
    if summoned is not None and "arrive_due_at" in summoned.data:
        text = summoned.data["arrive_due_at"]
        return datetime.fromisoformat(text) if text else None
    return summons.arrive_due_at


_SUMMONS_TERMINAL = (EventKind.DECLINE_UPHELD, EventKind.RELEASED, EventKind.CHECK_OUT)


def apply_correction(facts: Facts, correction: dict[str, Any]) -> None:
    if "came" in correction:
        facts.came = correction["came"]
        facts.late_minutes = None
    if "late_minutes" in correction:
        minutes = int(correction["late_minutes"])
        facts.came = Came.LATE if minutes > 0 else Came.ON_TIME
        facts.late_minutes = minutes if minutes > 0 else None
    if "acted" in correction:
        facts.acted = correction["acted"]
        if facts.acted != Acted.HANDLED:
            facts.rework_count = 0
    if "rework_count" in correction:
        facts.rework_count = min(facts.rework_count, int(correction["rework_count"]))


def validate_correction(correction: Any) -> list[str]:
    """Problems with a correction, as untranslated keys; empty when it can be applied."""
    if not isinstance(correction, dict) or not correction:
        return ["empty"]
    problems = []
    for key, value in correction.items():
        allowed = CORRECTABLE.get(key)
        if allowed is None:
            problems.append(f"unknown:{key}")
        elif allowed is int:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                problems.append(f"value:{key}")
        elif value not in allowed:
            problems.append(f"value:{key}")
    return problems


def came_score(facts: Facts, scheme: Scheme) -> Decimal | None:
    if facts.came == Came.ON_TIME:
        return rounded(scheme.on_time_points)
    if facts.came == Came.NO_SHOW:
        return rounded(scheme.no_show_points)
    if facts.came != Came.LATE:
        return None
    minutes = facts.late_minutes or 0
    floor = scheme.late_floor_points
    if scheme.late_mode == Scheme.LateMode.BANDS:
        deduction = None
        for up_to, points in scheme.late_bands:
            if minutes <= up_to:
                deduction = Decimal(str(points))
                break
        if deduction is None:
            return rounded(floor)
    else:
        deduction = scheme.late_points_per_minute * minutes
    return rounded(max(scheme.on_time_points - deduction, floor))


def acted_score(facts: Facts, scheme: Scheme) -> Decimal | None:
    reworks = scheme.rework_deduction * facts.rework_count
    if facts.acted == Acted.HANDLED:
        points = scheme.handled_points - reworks
    elif facts.acted == Acted.DECLINE_OVERRULED:
        points = scheme.handled_points - scheme.decline_overruled_deduction - reworks
    elif facts.acted == Acted.DECLINE_UPHELD:
        points = scheme.decline_upheld_points
    elif facts.acted == Acted.ABANDONED:
        points = scheme.abandoned_points
    else:
        return None
    return rounded(max(points, Decimal(0)))


def quality_score(facts: Facts, scheme: Scheme) -> Decimal | None:
    """The township's rating (or, for a summons nobody rated, the stars the scheme counts
    for it: `Scheme.counted_stars`) and, for a resident's case, the resident's
    satisfaction; None when neither is there."""
    stars = scheme.counted_stars(facts.rating, facts.excused)
    rated = scheme.points_per_star * stars if stars is not None else None
    resident = None
    if facts.resident_satisfied is not None:
        resident = HUNDRED if facts.resident_satisfied else Decimal(0)
    if rated is not None and resident is not None:
        share = scheme.resident_share
        return rounded(min((1 - share) * rated + share * resident, HUNDRED))
    if rated is not None:
        return rounded(min(rated, HUNDRED))
    if resident is not None:
        return rounded(resident)
    return None


def score_inputs(facts: Facts) -> tuple[Any, ...]:
    """Every fact `score` reads: records with the same ones score the same under a scheme."""
    return (
        facts.came,
        facts.late_minutes,
        facts.acted,
        facts.rework_count,
        facts.rating,
        facts.resident_satisfied,
        facts.excused,
    )


def score(facts: Facts, scheme: Scheme) -> Scores:
    """The three part scores and the record's total: the weighted mean of the parts that
    apply, the weights of the others left out."""
    parts = (
        (came_score(facts, scheme), scheme.weight_came),
        (acted_score(facts, scheme), scheme.weight_acted),
        (quality_score(facts, scheme), scheme.weight_quality),
    )
    weighted = [(value, weight) for value, weight in parts if value is not None and weight > 0]
    total = None
    if weighted:
        numerator = sum((Fraction(v) * Fraction(w) for v, w in weighted), Fraction(0))
        denominator = sum((Fraction(w) for _, w in weighted), Fraction(0))
        total = exact_rounded(numerator / denominator)
    return Scores(parts[0][0], parts[1][0], parts[2][0], total)


def mean(total: Decimal, count: int) -> Decimal | None:
    if not count:
        return None
    return exact_rounded(Fraction(total) / count)


def competition_ranks(totals: Iterable[tuple[Any, Decimal | None]]) -> dict[Any, int | None]:
    """Standard competition ranking ("1224"): equal totals share a rank and the next rank
    skips as many places as shared; no total, no rank."""
    pairs = list(totals)
    ordered = sorted(((t, key) for key, t in pairs if t is not None), key=lambda p: -p[0])
    ranks: dict[Any, int | None] = {key: None for key, t in pairs if t is None}
    previous: Decimal | None = None
    rank = 0
    for position, (total, key) in enumerate(ordered, start=1):
        if total != previous:
            rank = position
            previous = total
        ranks[key] = rank
    return ranks
