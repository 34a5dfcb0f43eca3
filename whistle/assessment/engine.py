"""Computing, storing and checking records, cells and department scores.

Three ways in, one arithmetic:

- `refresh_cases` recomputes the records of some cases and moves their contributions
  between cells (the actions of this app call it; `update_scores` calls it for every case
  whose trail grew);
- `recompute_all` rewrites every record, cell and score that is not frozen;
- `check_all` recomputes everything in memory and names what the stored rows disagree with.
"""

from __future__ import annotations

import operator
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from functools import reduce
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet, FieldDoesNotExist
from django.db import connection, models, transaction
from django.db.models import F, Max, Min, OuterRef, Q, Subquery, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from whistle.assessment.models import (
    RECORD_FIELDS,
    STATIONED_COMPONENT,
    ClosedPeriod,
    ComponentScore,
    DepartmentResult,
    Scheme,
    SchemeComponent,
    SchemeRevision,
    ScoreCell,
    ScoringState,
    SummonsAssessment,
)
from whistle.assessment.periods import Period, PeriodKind, month_start
from whistle.assessment.scoring import (
    AssessmentEventKind,
    Facts,
    Scores,
    SummonsFacts,
    TrailEvent,
    competition_ranks,
    derive_facts,
    exact_rounded,
    mean,
    score,
    score_inputs,
)
from whistle.cases.bulk import insert_values, update_each
from whistle.cases.models import Event, Summons
from whistle.cases.trail import EventKind
from whistle.organisation.models import Department, Jurisdiction

CHUNK = 500
# Events whose ids lie this far below the last one read are read again by the incremental
# update, because a transaction that took a smaller id may have committed later.
OVERLAP = 1000

RELEVANT_KINDS = (
    EventKind.SUMMONED,
    EventKind.EVALUATED,
    EventKind.CHECK_IN_ACCEPTED,
    EventKind.CHECK_IN_FLAGGED,
    EventKind.CHECK_IN_CONFIRMED,
    EventKind.DECLINED,
    EventKind.DECLINE_UPHELD,
    EventKind.DECLINE_INSISTED,
    EventKind.RELEASED,
    EventKind.RESULT,
    EventKind.CHECK_OUT,
    EventKind.ARRIVE_OVERDUE,
    EventKind.RESOLVE_OVERDUE,
    EventKind.REWORK,
    EventKind.CLOSED,
    EventKind.RESIDENT_CALLBACK,
    EventKind.RESIDENT_RATED,
    AssessmentEventKind.RATED,
    AssessmentEventKind.APPEAL_UPHELD,
    # The case's time on the backlog does not count against a department.
    EventKind.BACKLOG,
    EventKind.BACKLOG_RESUMED,
)

# The columns a new record is written with (`RecordWrites`).
INSERTED_FIELDS = ("summons_id", "computed_at", *RECORD_FIELDS)

CELL_SUMS = (
    "records",
    "total_sum",
    "came_sum",
    "came_count",
    "acted_sum",
    "acted_count",
    "quality_sum",
    "quality_count",
    "rating_sum",
    "rating_count",
    "on_time_count",
    "late_count",
    "no_show_count",
    "rework_sum",
)

CellKey = tuple[int, int, date]  # department, township, month

# The events whose data `derive_facts`, the backlog's pauses and the what-if replay read;
# `trail_events` gives the others empty data, so a rule that reads another kind's data adds
# it here (`tests.fixtures_assessment.records_by_hand` reads every event's data).
DATA_KINDS = (
    EventKind.SUMMONED,
    EventKind.CHECK_IN_CONFIRMED,
    EventKind.BACKLOG_RESUMED,
    AssessmentEventKind.RATED,
    AssessmentEventKind.APPEAL_UPHELD,
)

# What the rules read of a summons and of its case, in one row (`summons_rows`).
SUMMONS_VALUES = (
    "id",
    "uuid",
    "case_id",
    "department_id",
    "department__district_id",
    "whistle__township_id",
    "status",
    "summoned_at",
    "arrive_due_at",
    "case__source",
    "case__resident_satisfied",
    "case__township_id",
    "case__township_rating",
)


class SchemeBook:
    """Every district's schemes (or those of the `districts` given), to find the one in force
    in a month without a query each."""

    def __init__(self, districts: Iterable[int] | None = None) -> None:
        self._by_district: dict[int, list[Scheme]] = defaultdict(list)
        self._scores: dict[tuple[Any, ...], tuple[Scheme, Scores]] = {}
        schemes = Scheme.objects.prefetch_related("components").order_by("valid_from")
        if districts is not None:
            schemes = schemes.filter(district_id__in=sorted(set(districts)))
        for scheme in schemes:
            self._by_district[scheme.district_id].append(scheme)

    def in_force(self, district_id: int, month: date) -> Scheme | None:
        found = None
        for scheme in self._by_district.get(district_id, []):
            if scheme.valid_from <= month:
                found = scheme
        return found

    def districts(self) -> list[int]:
        return list(self._by_district)

    def by_district(self) -> dict[int, list[Scheme]]:
        """Each district's schemes, in the order `in_force` reads them."""
        return {district: list(schemes) for district, schemes in self._by_district.items()}

    def score(self, facts: Facts, scheme: Scheme) -> Scores:
        """`score`, remembered for the book's life: the points depend on a few facts
        (`score_inputs`) and a year's records share a few hundred combinations of them."""
        key = (id(scheme), *score_inputs(facts))
        found = self._scores.get(key)
        if found is None:
            # The scheme is kept beside its scores so that its id stays its own.
            found = self._scores[key] = (scheme, score(facts, scheme))
        return found[1]


# The schemes the incremental update read, with the token of `SchemeRevision` they were read
# under (`scheme_book`): one process's, replaced whole (no lock needed between threads).
_kept_book: tuple[str, SchemeBook] | None = None


def scheme_book(token: str | None) -> SchemeBook:
    """Every district's schemes as read under the schemes' revision token, which the caller
    has just read (`_lock_reading_schemes_token`): the book kept from an earlier read under the
    same token, else a new one, kept for the next. Database triggers give the token a new
    value with every change to the schemes and their components, whoever makes it; the
    token is random, so a change rolled back never leaves a book under a token that comes
    back. Without a token (its row missing, as after a flush) nothing is kept. A book is read
    after its token, so it is never older than the token says; the scores it remembers
    (`SchemeBook.score`) depend only on its schemes."""
    global _kept_book
    kept = _kept_book
    if token is not None and kept is not None and kept[0] == token:
        return kept[1]
    book = SchemeBook()
    if token is not None:
        _kept_book = (token, book)
    return book


class FrozenMonths:
    def __init__(self) -> None:
        self._cache: dict[int, set[date]] = {}
        self._every_district = False

    def __call__(self, district_id: int, month: date) -> bool:
        if district_id not in self._cache:
            if self._every_district:
                return False
            self._cache[district_id] = ClosedPeriod.frozen_months(district_id)
        return month in self._cache[district_id]

    @property
    def read(self) -> bool:
        """Whether every district's closed periods are known (`take`)."""
        return self._every_district

    @staticmethod
    def every_district() -> models.QuerySet[ClosedPeriod, tuple[Any, ...]]:
        """The closed periods of every district (a few a year each), for `take`."""
        return ClosedPeriod.objects.order_by().values_list("district_id", "period")

    def take(self, rows: Iterable[tuple[int, str]]) -> None:
        """Know every district's frozen months from the rows of `every_district`."""
        for district_id, key in rows:
            self._cache.setdefault(district_id, set()).update(Period.parse(key).months())
        self._every_district = True


# A chunk creates its records with `COPY` from this many on (PostgreSQL): below it, a plain
# insert is one round trip less, and can go with the chunk's other writes (`writing_together`).
COPY_FROM = 20


@contextmanager
def writing_together(wanted: bool = True) -> Iterator[None]:
    """On PostgreSQL, send the writes made inside without waiting for each one's answer: they
    reach the server in one round trip when the block ends, and run in order there (psycopg's
    pipeline mode). Only for writes whose results are not read inside (no `COPY`, no rows
    returned, no counts relied on). Elsewhere, or not `wanted`, nothing changes."""
    if not wanted or connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield


def read_together(
    *querysets: models.QuerySet[Any, Any] | None,
) -> list[list[tuple[Any, ...]]]:
    """The rows of several reads that do not depend on one another, each as the tuples its
    `values_list()` (or `values()`) names, Django's converters applied; None reads nothing.

    On PostgreSQL the statements go to the server together and their results come back
    together (psycopg's pipeline mode): one round trip instead of one each. The server still
    runs them one after another, in the order given, each seeing what was committed before it
    started, as it would one at a time. Elsewhere they run one after another. The statements
    are logged as Django logs its own (`connection.queries`)."""
    compiled: list[tuple[Any, str, Any, list[int] | None] | None] = []
    for queryset in querysets:
        if queryset is None:
            compiled.append(None)
            continue
        query = queryset.query
        compiler = query.get_compiler(using=queryset.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            compiled.append(None)
            continue
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
        wanted = list(getattr(queryset, "_fields", None) or names)
        order = None if wanted == names else [names.index(name) for name in wanted]
        compiled.append((compiler, sql, params, order))
    found: list[list[Any]] = []
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        raw = connection.connection
        began = time.monotonic()
        with connection.wrap_database_errors:
            cursors = []
            with raw.pipeline():
                for item in compiled:
                    cursor = None
                    if item is not None:
                        cursor = raw.cursor()
                        cursor.execute(item[1], item[2])
                    cursors.append(cursor)
            for cursor in cursors:
                found.append([] if cursor is None else cursor.fetchall())
                if cursor is not None:
                    cursor.close()
        if connection.queries_logged:
            spent = f"{time.monotonic() - began:.3f}"
            for item in compiled:
                if item is not None:
                    connection.queries_log.append({"sql": f"(together) {item[1]}", "time": spent})
    else:
        for item in compiled:
            if item is None:
                found.append([])
                continue
            with connection.cursor() as cursor:
                cursor.execute(item[1], item[2])
                found.append(cursor.fetchall())
    results: list[list[tuple[Any, ...]]] = []
    for item, rows in zip(compiled, found, strict=True):
        if item is None:
            results.append([])
            continue
        compiler, _sql, _params, order = item
        width = compiler.col_count
        converted = compiler.results_iter(
            results=[[row[:width] for row in rows]], tuple_expected=True
        )
        if order is not None:
            converted = (tuple(row[i] for i in order) for row in converted)
        results.append(list(converted))
    return results


@dataclass(frozen=True)
class StoredRecord:
    """A stored record as the engine compares it: its id and the values of `RECORD_FIELDS`."""

    pk: int
    values: dict[str, Any]


def stored_record_rows(case_ids: list[int]) -> models.QuerySet[SummonsAssessment, Any]:
    """The read of `stored_records`."""
    return (
        SummonsAssessment.objects.filter(case_id__in=case_ids)
        .order_by()
        .values_list("pk", "summons_id", *RECORD_FIELDS)
    )


def stored_records(
    case_ids: list[int], rows: Iterable[tuple[Any, ...]] | None = None
) -> dict[int, StoredRecord]:
    """The stored records of the cases by summons id, read as plain values (no model
    instances: a recompute reads every record once); the rows of `stored_record_rows`
    when given."""
    if rows is None:
        rows = stored_record_rows(case_ids)
    return {
        summons_id: StoredRecord(pk, dict(zip(RECORD_FIELDS, values, strict=True)))
        for pk, summons_id, *values in rows
    }


def trail_rows(case_ids: Iterable[int]) -> models.QuerySet[Event, Any]:
    """The read of `trail_events`."""
    read_data = models.Case(
        models.When(kind__in=DATA_KINDS, then=F("data")),
        default=None,
        output_field=models.JSONField(),
    )
    return (
        Event.objects.filter(case_id__in=list(case_ids), kind__in=RELEVANT_KINDS)
        .order_by("case_id", "seq")
        .annotate(read_data=read_data)
        .values_list("case_id", "id", "seq", "at", "kind", "summons_id", "read_data")
    )


def trail_events(
    case_ids: Iterable[int], rows: Iterable[tuple[Any, ...]] | None = None
) -> dict[int, list[TrailEvent]]:
    """The events of the cases' trails that the assessment reads, by case, in order; from
    the rows of `trail_rows` when given.

    Only the events whose data the assessment reads (`DATA_KINDS`) carry it; the others'
    is read as empty: decoding every check-in's and result's data cost more than the rest
    of the read."""
    events: dict[int, list[TrailEvent]] = defaultdict(list)
    if rows is None:
        rows = trail_rows(case_ids)
    for case_id, event_id, seq, at, kind, summons_id, data in rows:
        events[case_id].append(TrailEvent(event_id, seq, at, kind, summons_id, data or {}))
    return events


def summons_facts(row: dict[str, Any]) -> SummonsFacts:
    return SummonsFacts(
        summons_id=row["id"],
        status=row["status"],
        arrive_due_at=row["arrive_due_at"],
        case_source=row["case__source"],
        resident_satisfied=row["case__resident_satisfied"],
        case_rating=row["case__township_rating"],
        uuid=str(row["uuid"]),
    )


def summons_rows(case_ids: list[int]) -> models.QuerySet[Summons, dict[str, Any]]:
    """The summonses of the cases that are not cancelled, each with what the rules read of
    it and of its case (`SUMMONS_VALUES`) and its case's last trail sequence number
    (`trail_seq`, None without events): one query."""
    last_seq = Event.objects.filter(case_id=OuterRef("case_id")).order_by("-seq").values("seq")
    return (
        Summons.objects.filter(case_id__in=case_ids)
        .exclude(status=Summons.Status.CANCELLED)
        .annotate(trail_seq=Subquery(last_seq[:1]))
        .values(*SUMMONS_VALUES, "trail_seq")
    )


def facts_of(summons: Summons) -> Facts:
    """What the trail says about one summons as it stands, whether or not a scheme scores it."""
    row = Summons.objects.filter(pk=summons.pk).values(*SUMMONS_VALUES).get()
    return derive_facts(summons_facts(row), trail_events([row["case_id"]])[row["case_id"]])


def compute_records(
    case_ids: Iterable[int],
    book: SchemeBook,
    events: dict[int, list[TrailEvent]] | None = None,
) -> dict[int, dict[str, Any]]:
    """The record values of every assessable summons of the given cases, by summons id.

    A summons is assessable when it is not cancelled, it has a township (the whistle's, else
    the case's) and its department's district has a scheme in force in its month. The
    trails are read unless given (a what-if replays them with other deadlines).
    """
    case_ids = list(case_ids)
    # The summonses before the trail: the last trail position stored with a record is then
    # never one that the events it was derived from do not reach (an event committed in
    # between makes the case look unseen to the next update, not seen).
    rows = list(summons_rows(case_ids))
    if events is None:
        events = trail_events(case_ids)
    return records_from(rows, events, book)


def records_from(
    rows: Iterable[dict[str, Any]], events: dict[int, list[TrailEvent]], book: SchemeBook
) -> dict[int, dict[str, Any]]:
    """`compute_records` from its summonses (`summons_rows`) and their trails, read already."""
    values: dict[int, dict[str, Any]] = {}
    for row in rows:
        township_id = row["whistle__township_id"] or row["case__township_id"]
        district_id = row["department__district_id"]
        month = month_start(row["summoned_at"])
        scheme = book.in_force(district_id, month)
        if township_id is None or scheme is None:
            continue
        facts = derive_facts(summons_facts(row), events[row["case_id"]])
        scores = book.score(facts, scheme)
        values[row["id"]] = {
            "case_id": row["case_id"],
            "district_id": district_id,
            "township_id": township_id,
            "department_id": row["department_id"],
            "month": month,
            "scheme_id": scheme.pk,
            "settled": facts.settled,
            "settled_at": facts.settled_at,
            "came": facts.came,
            "late_minutes": facts.late_minutes,
            "acted": facts.acted,
            "rework_count": facts.rework_count,
            "rating": facts.rating,
            "rating_comment": facts.rating_comment,
            "resident_satisfied": facts.resident_satisfied,
            "excused": facts.excused,
            "provisional": facts.provisional,
            "came_score": scores.came,
            "acted_score": scores.acted,
            "quality_score": scores.quality,
            "total": scores.total,
            "corrected": facts.corrected,
            "trail_seq": row["trail_seq"] or 0,
            "event_ids": facts.event_ids,
        }
    return values


def contribution(values: dict[str, Any]) -> dict[str, Any] | None:
    """What one record adds to its cell: nothing until it is settled and has a total."""
    if not values["settled"] or values["total"] is None:
        return None
    zero = Decimal(0)
    return {
        "records": 1,
        "total_sum": values["total"],
        "came_sum": values["came_score"] if values["came_score"] is not None else zero,
        "came_count": int(values["came_score"] is not None),
        "acted_sum": values["acted_score"] if values["acted_score"] is not None else zero,
        "acted_count": int(values["acted_score"] is not None),
        "quality_sum": values["quality_score"] if values["quality_score"] is not None else zero,
        "quality_count": int(values["quality_score"] is not None),
        "rating_sum": values["rating"] or 0,
        "rating_count": int(values["rating"] is not None),
        "on_time_count": int(values["came"] == "on_time"),
        "late_count": int(values["came"] == "late"),
        "no_show_count": int(values["came"] == "no_show"),
        "rework_sum": values["rework_count"],
    }


def cell_key(values: dict[str, Any]) -> CellKey:
    return (values["department_id"], values["township_id"], values["month"])


@dataclass
class CellTotals:
    district_id: int
    sums: dict[str, Any] = field(default_factory=lambda: dict.fromkeys(CELL_SUMS, 0))

    def add(self, part: dict[str, Any], sign: int = 1) -> None:
        for name in CELL_SUMS:
            self.sums[name] += sign * part[name]


def add_to_cells(cells: dict[CellKey, CellTotals], values: dict[str, Any]) -> None:
    part = contribution(values)
    if part is not None:
        cells.setdefault(cell_key(values), CellTotals(values["district_id"])).add(part)


# ---------------------------------------------------------------------------------------------
# Department scores of a period


@dataclass
class ResultRow:
    department_id: int
    scheme_id: int
    records: int
    township_score: Decimal | None
    components: dict[str, str]
    total: Decimal | None
    complete: bool
    parts: list[dict[str, Any]] = field(default_factory=list)
    rank: int | None = None

    def comparable(self) -> dict[str, Any]:
        return asdict(self)


EnteredScores = list[tuple[int, str, str, Decimal]]  # department, component, period, score


def component_scores_for(
    district_id: int, period: Period, entered_rows: EnteredScores | None = None
) -> dict[tuple[int, str], tuple[Decimal, list[str]]]:
    """Each department's score in each component for a period: the score entered for the
    period itself; else the mean of the scores entered for its quarters; else of its months.
    The district's entered scores are read unless given (`entered_scores`)."""
    keys = [period.key]
    quarters = [p for p in _quarters(period)]
    months = [Period.month_of(m).key for m in period.months()] if period.kind != "month" else []
    wanted = {*keys, *quarters, *months}
    rows: Iterable[tuple[int, str, str, Decimal]]
    if entered_rows is None:
        rows = entered_scores(district_id, wanted)
    else:
        rows = [row for row in entered_rows if row[2] in wanted]
    found: dict[tuple[int, str], dict[str, list[tuple[str, Decimal]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for department_id, component, key, value in rows:
        level = "own" if key == period.key else ("quarter" if key in quarters else "month")
        found[(department_id, component)][level].append((key, value))
    chosen: dict[tuple[int, str], tuple[Decimal, list[str]]] = {}
    for pair, levels in found.items():
        for level in ("own", "quarter", "month"):
            if levels.get(level):
                entries = levels[level]
                average = exact_rounded(
                    sum((Fraction(v) for _, v in entries), Fraction(0)) / len(entries)
                )
                chosen[pair] = (average, sorted(k for k, _ in entries))
                break
    return chosen


def entered_scores(
    district_id: int, period_keys: Iterable[str], departments: Iterable[int] | None = None
) -> EnteredScores:
    """The component scores entered for the district in the periods with the given keys (of
    the given departments only, when given)."""
    return list(entered_score_rows(district_id, period_keys, departments))


def entered_score_rows(
    district_id: int, period_keys: Iterable[str], departments: Iterable[int] | None = None
) -> models.QuerySet[ComponentScore, Any]:
    """The read of `entered_scores`."""
    rows = ComponentScore.objects.filter(district_id=district_id, period__in=list(period_keys))
    if departments is not None:
        rows = rows.filter(department_id__in=sorted(departments))
    return rows.order_by().values_list("department_id", "component", "period", "score")


def _quarters(period: Period) -> list[str]:
    if period.kind != PeriodKind.YEAR:
        return []
    return [Period(period.year, PeriodKind.QUARTER, n).key for n in range(1, 5)]


def own_components(scheme: Scheme) -> list[SchemeComponent]:
    """The components the district names in a scheme: a stored scheme's rows, or those a
    proposal that is never saved carries along (`whistle.assessment.what_if`)."""
    if scheme.pk is None:
        return list(getattr(scheme, "proposed_components", []))
    return list(scheme.components.all())


def stationed_component(scheme: Scheme) -> SchemeComponent | None:
    """The townships' assessment of the department's stationed staff as a component of the
    scheme, when its share is not 0; its scores are the months' means written by the
    township (`whistle.township.stationed_actions`)."""
    if not scheme.stationed_part:
        return None
    return SchemeComponent(
        code=STATIONED_COMPONENT,
        name=_("Stationed staff's assessment"),
        weight=scheme.stationed_share.strip(),
    )


def scheme_components(scheme: Scheme) -> list[SchemeComponent]:
    """Every component of a scheme beside the township evaluation, as the engine, the
    what-if replay and the explanations read them: the district's own, then the stationed
    staff's assessment when its share is not 0."""
    found = own_components(scheme)
    stationed = stationed_component(scheme)
    if stationed is not None:
        found.append(stationed)
    return found


def combine(
    scheme: Scheme, township_score: Decimal | None, components: dict[str, Decimal | None]
) -> tuple[Decimal | None, bool]:
    """The total: share × township evaluation + Σ weight × component; a missing component
    counts 0 and makes the total incomplete. No township evaluation, no total."""
    if township_score is None:
        return None, False
    complete = True
    total = scheme.share * Fraction(township_score)
    shares = scheme.share
    for component in scheme_components(scheme):
        value = components.get(component.code)
        shares += component.share
        if value is None:
            complete = False
            continue
        total += component.share * Fraction(value)
    if shares != 1:
        complete = False
    return exact_rounded(total), complete


@dataclass(frozen=True)
class PeriodPiece:
    """Months of a period scored together: under one scheme, or under none."""

    months: tuple[date, ...]
    scheme: Scheme | None

    @property
    def keys(self) -> list[str]:
        return [Period.month_of(month).key for month in self.months]


def period_pieces(district_id: int, period: Period, book: SchemeBook) -> list[PeriodPiece]:
    """The months of a period as they are scored: each under the scheme in force in it.

    Consecutive months without a scheme make one piece, reported and never scored. Months
    under one scheme pool their records in one piece when the latest scheme of the period
    weighs months by their records; when it weighs each month the same, each month is a
    piece of its own.
    """
    schemes = [(month, book.in_force(district_id, month)) for month in period.months()]
    latest = next((scheme for _, scheme in reversed(schemes) if scheme is not None), None)
    pooled = latest is None or latest.month_weighting == Scheme.MonthWeighting.RECORDS
    pieces: list[PeriodPiece] = []
    for month, scheme in schemes:
        if pieces and pieces[-1].scheme == scheme and (scheme is None or pooled):
            pieces[-1] = PeriodPiece((*pieces[-1].months, month), scheme)
        else:
            pieces.append(PeriodPiece((month,), scheme))
    return pieces


@dataclass
class PieceScore:
    """One department's score over one piece of a period."""

    piece: PeriodPiece
    records: int = 0
    township_score: Decimal | None = None
    total: Decimal | None = None
    complete: bool = False

    def stored(self) -> dict[str, Any]:
        return {
            "months": self.piece.keys,
            "scheme": self.piece.scheme.pk if self.piece.scheme is not None else None,
            "records": self.records,
            "township_score": _text(self.township_score),
            "total": _text(self.total),
            "complete": self.complete,
        }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def score_piece(
    piece: PeriodPiece, by_month: dict[date, list[Any]], entered: dict[str, Decimal]
) -> PieceScore:
    """The mean of the piece's records, combined with the period's other components by the
    piece's scheme."""
    found = PieceScore(piece)
    if piece.scheme is None:
        return found
    found.records = sum(by_month[m][0] for m in piece.months if m in by_month)
    total_sum = sum((by_month[m][1] for m in piece.months if m in by_month), Decimal(0))
    found.township_score = mean(total_sum, found.records)
    found.total, found.complete = combine(piece.scheme, found.township_score, dict(entered))
    return found


def weighted_mean(values: Iterable[tuple[Decimal, Fraction]]) -> Decimal:
    pairs = list(values)
    weight = sum((w for _, w in pairs), Fraction(0))
    return exact_rounded(sum((Fraction(v) * w for v, w in pairs), Fraction(0)) / weight)


# Each month's sums of the district's cells by department: records and sum of totals.
MonthSums = dict[date, dict[int, tuple[int, Decimal]]]


def stored_month_sums(
    district_id: int, months: Iterable[date], departments: Iterable[int] | None = None
) -> MonthSums:
    """The stored cells of the district in the months (of the given departments only, when
    given), summed over townships: one read for every period made of those months; from the
    rows of `month_sum_rows` when given."""
    return month_sums_from(month_sum_rows(district_id, months, departments))


def month_sum_rows(
    district_id: int, months: Iterable[date], departments: Iterable[int] | None = None
) -> models.QuerySet[ScoreCell, Any]:
    """The read of `stored_month_sums`."""
    cells = ScoreCell.objects.filter(district_id=district_id, month__in=sorted(set(months)))
    if departments is not None:
        cells = cells.filter(department_id__in=sorted(departments))
    return (
        cells.order_by()
        .values("department_id", "month")
        .annotate(n=Sum("records"), s=Sum("total_sum"))
        .values_list("department_id", "month", "n", "s")
    )


def month_sums_from(rows: Iterable[tuple[Any, ...]]) -> MonthSums:
    """`stored_month_sums` from the rows of `month_sum_rows`."""
    found: MonthSums = defaultdict(dict)
    for department_id, month, count, subtotal in rows:
        found[month][department_id] = (count, subtotal)
    return found


def compute_results(
    district_id: int,
    period: Period,
    book: SchemeBook,
    cells: dict[CellKey, CellTotals] | None = None,
    *,
    month_sums: MonthSums | None = None,
    entered_rows: EnteredScores | None = None,
) -> list[ResultRow]:
    """Every department's score in a period, from the cells: those given, else the month
    sums given (`stored_month_sums`), else the stored cells. The entered component scores
    are read unless given (`entered_scores`).

    Each piece of the period (`period_pieces`) is scored under its own scheme; the period's
    township evaluation and total are the means of the pieces', weighted as the latest
    scheme of the period says (by their records, or each month the same). A period under one
    scheme weighed by records is scored exactly as one piece. Only complete results rank.
    """
    pieces = period_pieces(district_id, period, book)
    schemes = [piece.scheme for piece in pieces if piece.scheme is not None]
    if not schemes:
        return []
    latest = schemes[-1]
    by_records = latest.month_weighting == Scheme.MonthWeighting.RECORDS
    sums: dict[int, dict[date, list[Any]]] = defaultdict(dict)
    rows: Iterable[tuple[int, date, int, Decimal]]
    if cells is None:
        if month_sums is None:
            month_sums = stored_month_sums(district_id, period.months())
        rows = [
            (department_id, month, count, subtotal)
            for month in period.months()
            for department_id, (count, subtotal) in month_sums.get(month, {}).items()
        ]
    else:
        rows = [
            (key[0], key[2], cell.sums["records"], cell.sums["total_sum"])
            for key, cell in cells.items()
            if cell.district_id == district_id and period.contains(key[2])
        ]
    for department_id, month, count, subtotal in rows:
        month_total = sums[department_id].setdefault(month, [0, Decimal(0)])
        month_total[0] += count
        month_total[1] += subtotal
    entered: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for (department_id, code), (value, _periods) in component_scores_for(
        district_id, period, entered_rows
    ).items():
        entered[department_id][code] = value
    codes = {c.code for scheme in schemes for c in scheme_components(scheme)}
    results = []
    for department_id in sorted(set(sums) | set(entered)):
        scores = [
            score_piece(p, sums.get(department_id, {}), entered[department_id]) for p in pieces
        ]
        # (township evaluation, total, weight) of each piece with a total.
        counted = [
            (s.township_score, s.total, Fraction(s.records) if by_records else Fraction(1))
            for s in scores
            if s.township_score is not None and s.total is not None
        ]
        township_score = total = None
        if counted:
            township_score = weighted_mean((t, w) for t, _total, w in counted)
            total = weighted_mean((v, w) for _t, v, w in counted)
        results.append(
            ResultRow(
                department_id=department_id,
                scheme_id=latest.pk,
                records=sum(s.records for s in scores),
                township_score=township_score,
                components={
                    code: str(value)
                    for code, value in sorted(entered[department_id].items())
                    if code in codes
                },
                total=total,
                complete=bool(counted) and all(s.complete for s in scores if s.total is not None),
                parts=[s.stored() for s in scores],
            )
        )
    ranks = competition_ranks((r.department_id, r.total if r.complete else None) for r in results)
    for row in results:
        row.rank = ranks[row.department_id]
    return results


RESULT_FIELDS = (
    "scheme_id",
    "records",
    "township_score",
    "components",
    "total",
    "complete",
    "parts",
    "rank",
)


def store_results(
    district_id: int,
    periods: Iterable[Period],
    book: SchemeBook,
    *,
    departments: Iterable[int] | None = None,
) -> None:
    """Rewrite the stored scores of the district's periods, except frozen ones. Only rows
    that changed are written (a new record usually moves a few ranks, not all).

    The cells, the entered component scores and the stored scores of all the periods are
    read once, the new and changed scores written together: a year's months, quarters and
    the year cost a few queries, not a few per period.

    With `departments`, only those departments' cells changed since the stored scores were
    written (the incremental update): their scores are computed again from their own cells
    and every department is ranked again, the others by their stored totals, which their
    unchanged cells and component scores still give."""
    with transaction.atomic():
        lock_scoring()
        _store_results(district_id, periods, book, departments)


@dataclass
class StoredResult:
    """A stored score as `_store_results` reads it: plain values, no model instance."""

    pk: int
    frozen: bool
    row: ResultRow


def stored_result_rows(
    district_id: int, periods: list[Period]
) -> models.QuerySet[DepartmentResult, Any]:
    """The stored scores of the district in the periods, as `stored_results_from` reads them."""
    return (
        DepartmentResult.objects.filter(
            district_id=district_id, period__in=[p.key for p in periods]
        )
        .order_by()
        .values_list("pk", "period", "department_id", "frozen", *RESULT_FIELDS)
    )


def stored_results_from(rows: Iterable[tuple[Any, ...]]) -> dict[str, dict[int, StoredResult]]:
    """The stored scores by period key and department, from `stored_result_rows`."""
    found: dict[str, dict[int, StoredResult]] = defaultdict(dict)
    for pk, period, department_id, frozen, *values in rows:
        row = ResultRow(department_id, **dict(zip(RESULT_FIELDS, values, strict=True)))
        found[period][department_id] = StoredResult(pk, frozen, row)
    return found


def _store_results(
    district_id: int,
    periods: Iterable[Period],
    book: SchemeBook,
    departments: Iterable[int] | None,
) -> None:
    """`store_results` inside a transaction that holds the scoring lock."""
    periods = sorted(set(periods))
    if not periods:
        return
    only = set(departments) if departments is not None else None
    now = timezone.now()
    # Three reads that do not depend on one another, together.
    sum_rows, entered, result_rows = read_together(
        month_sum_rows(district_id, {m for p in periods for m in p.months()}, only),
        entered_score_rows(district_id, _entered_keys(periods), only),
        stored_result_rows(district_id, periods),
    )
    month_sums = month_sums_from(sum_rows)
    existing = stored_results_from(result_rows)
    created: list[tuple[Any, ...]] = []
    # Only the scores that changed become (unsaved) instances, to carry their values.
    changed: list[DepartmentResult] = []
    gone: list[int] = []

    def change(pk: int, row: ResultRow) -> None:
        values = {name: getattr(row, name) for name in RESULT_FIELDS}
        changed.append(
            DepartmentResult(
                pk=pk,
                district_id=district_id,
                department_id=row.department_id,
                computed_at=now,
                **values,
            )
        )

    for period in periods:
        stored = existing.get(period.key, {})
        if any(r.frozen for r in stored.values()):
            continue
        rows = compute_results(
            district_id, period, book, month_sums=month_sums, entered_rows=entered
        )
        # A period no scheme scores keeps no score, as `compute_results` says for all.
        if only is not None and any(book.in_force(district_id, m) for m in period.months()):
            kept = {d: r for d, r in stored.items() if d not in only}
            for department_id in kept:
                del stored[department_id]
            for reranked in _rank_again(rows, kept):
                change(reranked.pk, reranked.row)
        for row in rows:
            result = stored.pop(row.department_id, None)
            if result is None:
                values = [getattr(row, name) for name in RESULT_FIELDS]
                created.append((district_id, row.department_id, period.key, now, *values))
            elif result.row != row:
                change(result.pk, row)
        gone += [r.pk for r in stored.values()]
    if gone:
        DepartmentResult.objects.filter(pk__in=gone).delete()
    update_each(DepartmentResult, changed, [*RESULT_FIELDS, "computed_at"])
    insert_values(
        DepartmentResult,
        ("district_id", "department_id", "period", "computed_at", *RESULT_FIELDS),
        created,
    )


def _rank_again(rows: list[ResultRow], kept: dict[int, StoredResult]) -> list[StoredResult]:
    """Rank the computed rows together with the stored scores kept as they are, as
    `compute_results` ranks a whole period; returns the kept scores whose rank moved (set)."""
    ranks = competition_ranks(
        [(r.department_id, r.total if r.complete else None) for r in rows]
        + [(d, r.row.total if r.row.complete else None) for d, r in kept.items()]
    )
    for row in rows:
        row.rank = ranks[row.department_id]
    moved = []
    for department_id, result in kept.items():
        if result.row.rank != ranks[department_id]:
            result.row.rank = ranks[department_id]
            moved.append(result)
    return moved


def _entered_keys(periods: Iterable[Period]) -> set[str]:
    """The keys of every period whose entered component scores count in the periods."""
    keys: set[str] = set()
    for period in periods:
        keys.add(period.key)
        keys.update(_quarters(period))
        if period.kind != PeriodKind.MONTH:
            keys.update(Period.month_of(m).key for m in period.months())
    return keys


def stored_result_row(result: DepartmentResult) -> ResultRow:
    return ResultRow(
        department_id=result.department_id,
        scheme_id=result.scheme_id,
        records=result.records,
        township_score=result.township_score,
        components=result.components,
        total=result.total,
        complete=result.complete,
        parts=result.parts,
        rank=result.rank,
    )


def periods_of_months(months: Iterable[date]) -> list[Period]:
    found: set[Period] = set()
    for month in months:
        found.update(Period.month_of(month).enclosing())
    return sorted(found)


# ---------------------------------------------------------------------------------------------
# Writing records and cells


def add_to_stored_cells(deltas: dict[tuple[int, CellKey], CellTotals]) -> None:
    """Add each delta to its stored cell; a cell left without records is removed.

    A delta that only adds is inserted, or added to the cell that exists, by one upsert; one
    that takes anything away updates its cell, which holds what is taken. Each kind is one
    statement (`executemany`), whatever the number of cells. The decimal sums are rounded
    to their cents in the database as they are stored (SQLite adds them as floating point)."""
    meta = ScoreCell._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns: dict[str, Any] = {f.name: f for f in meta.concrete_fields}
    keys = [columns[name] for name in ("department", "township", "month")]
    sums = [columns[name] for name in CELL_SUMS]
    district = columns["district"]

    def added(column: Any) -> str:
        plus = f"{table}.{quote(column.column)} + %s"
        if isinstance(column, models.DecimalField):
            plus = f"ROUND({plus}, {column.decimal_places})"
        return f"{quote(column.column)} = {plus}"

    adding = ", ".join(added(column) for column in sums)
    key_columns = [quote(column.column) for column in keys]
    inserted = [quote(district.column), *key_columns, *(quote(c.column) for c in sums)]
    upsert = (
        f"INSERT INTO {table} ({', '.join(inserted)}) VALUES ({', '.join(['%s'] * len(inserted))})"
        f" ON CONFLICT ({', '.join(key_columns)}) DO UPDATE SET {adding}"
    )
    update = f"UPDATE {table} SET {adding} WHERE " + " AND ".join(f"{c} = %s" for c in key_columns)
    gains: list[list[Any]] = []
    losses: list[list[Any]] = []
    emptied: list[Q] = []
    for (district_id, key), delta in sorted(deltas.items(), key=lambda item: item[0][1]):
        if not any(delta.sums.values()):
            continue
        values = [c.get_db_prep_save(delta.sums[c.name], connection) for c in sums]
        where = [c.get_db_prep_save(v, connection) for c, v in zip(keys, key, strict=True)]
        if all(delta.sums[name] >= 0 for name in CELL_SUMS):
            gains.append([district_id, *where, *values, *values])
        else:
            losses.append([*values, *where])
        if delta.sums["records"] < 0:
            emptied.append(Q(department_id=key[0], township_id=key[1], month=key[2]))
    with connection.cursor() as cursor:
        if gains:
            cursor.executemany(upsert, gains)
        if losses:
            cursor.executemany(update, losses)
    if emptied:
        ScoreCell.objects.filter(reduce(operator.or_, emptied), records=0).delete()


def lock_scoring() -> ScoringState:
    """Take the lock every writer of records, cells and scores holds until it commits.

    Lock order: this row, then cases (the actions of this app), then cells, then scores.
    The case actions of `whistle.cases` never take it, so they never wait on the scoring.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_scoring must run inside a transaction")
    state, _created = ScoringState.objects.select_for_update().get_or_create(pk=1)
    return state


def _lock_reading_schemes_token() -> models.QuerySet[ScoringState, Any]:
    """`lock_scoring`'s read, as `update_scores` makes it: the last event read and the
    schemes' revision token (`scheme_book`, None when its row is missing), in one row (none
    when the state's row is missing)."""
    token = RawSQL(
        f"SELECT token FROM {SchemeRevision._meta.db_table} ORDER BY id LIMIT 1",
        (),
        output_field=models.CharField(),
    )
    return (
        ScoringState.objects.select_for_update()
        .filter(pk=1)
        .annotate(schemes_token=token)
        .values_list("last_event_id", "schemes_token")
    )


class RecordWrites:
    """The records a chunk creates, changes and removes, written together by `flush`: one
    `executemany` of inserts (plain tuples, no model instances), one of updates and one
    delete, whatever the chunk's size."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.created: list[tuple[Any, ...]] = []
        self.changed: list[SummonsAssessment] = []
        self.removed: list[int] = []

    def put(
        self, summons_id: int, record: StoredRecord | None, values: dict[str, Any] | None
    ) -> None:
        """Make the summons' record hold `values` (None: no record)."""
        if record is None:
            if values is not None:
                self.created.append(
                    (summons_id, self.now, *(values[name] for name in RECORD_FIELDS))
                )
        elif values is None:
            self.removed.append(record.pk)
        else:
            # An unsaved instance only carries the values to `update_each`.
            self.changed.append(
                SummonsAssessment(
                    pk=record.pk, summons_id=summons_id, computed_at=self.now, **values
                )
            )

    def flush(self) -> None:
        SummonsAssessment.objects.filter(pk__in=self.removed).delete()
        update_each(SummonsAssessment, self.changed, [*RECORD_FIELDS, "computed_at"])
        copy = len(self.created) >= COPY_FROM
        insert_values(SummonsAssessment, INSERTED_FIELDS, self.created, copy=copy)
        self.created, self.changed, self.removed = [], [], []


@dataclass
class Moved:
    """What a refresh changed in one district: the months whose scores are to be stored
    again, and the departments whose cells moved (None: every department's scores)."""

    months: set[date] = field(default_factory=set)
    departments: set[int] | None = field(default_factory=set)


def refresh_cases(
    case_ids: Iterable[int], book: SchemeBook | None = None, *, every_department: bool = False
) -> set[tuple[int, date]]:
    """Recompute the records of the cases, adjust their cells and the scores of the affected
    periods. Returns the (district, month) pairs whose scores were stored again.

    The scores are those of the months whose cells changed, of the departments whose cells
    changed, the others ranked again by their stored totals (`store_results`). After a
    change of scheme, which makes every stored score stale, `every_department` stores the
    scores of every department in the months of every record that changed."""
    with transaction.atomic():
        lock_scoring()
        moved = _refresh(case_ids, book or SchemeBook(), every_department=every_department)
    return {(district_id, month) for district_id, m in moved.items() for month in m.months}


def _refresh(
    case_ids: Iterable[int], book: SchemeBook, *, every_department: bool = False
) -> dict[int, Moved]:
    """`refresh_cases` inside a transaction that holds the scoring lock."""
    case_ids = sorted(set(case_ids))
    frozen = FrozenMonths()
    moved: dict[int, Moved] = defaultdict(Moved)
    for start in range(0, len(case_ids), CHUNK):
        _refresh_chunk(case_ids[start : start + CHUNK], book, frozen, moved, every_department)
    for district_id, found in sorted(moved.items()):
        departments = None if every_department else found.departments
        _store_results(district_id, periods_of_months(found.months), book, departments)
    return moved


def _refresh_chunk(
    case_ids: list[int],
    book: SchemeBook,
    frozen: FrozenMonths,
    moved: dict[int, Moved],
    every_department: bool,
) -> None:
    # The summonses before the trail, as `compute_records` reads them; the stored records and
    # (the first time) every district's closed periods beside them: one round trip.
    summonses, trail, stored_rows, closed = read_together(
        summons_rows(case_ids),
        trail_rows(case_ids),
        stored_record_rows(case_ids),
        None if frozen.read else FrozenMonths.every_district(),
    )
    if not frozen.read:
        frozen.take(closed)
    names = (*SUMMONS_VALUES, "trail_seq")
    fresh = records_from(
        [dict(zip(names, row, strict=True)) for row in summonses],
        trail_events(case_ids, trail),
        book,
    )
    stored = stored_records(case_ids, stored_rows)
    writes = RecordWrites(timezone.now())
    deltas: dict[tuple[int, CellKey], CellTotals] = {}

    def move(values: dict[str, Any], sign: int) -> None:
        part = contribution(values)
        key = (values["district_id"], cell_key(values))
        if every_department:
            moved[values["district_id"]].months.add(values["month"])
        if part is not None:
            deltas.setdefault(key, CellTotals(values["district_id"])).add(part, sign)

    for summons_id in sorted(set(fresh) | set(stored)):
        new = fresh.get(summons_id)
        record = stored.get(summons_id)
        old = record.values if record is not None else None
        if new == old:
            continue
        if (old is not None and frozen(old["district_id"], old["month"])) or (
            new is not None and frozen(new["district_id"], new["month"])
        ):
            continue
        if old is not None:
            move(old, -1)
        if new is not None:
            move(new, +1)
        writes.put(summons_id, record, new)
    with writing_together(len(writes.created) < COPY_FROM):
        writes.flush()
        add_to_stored_cells(deltas)
    for (district_id, (department_id, _township_id, month)), delta in deltas.items():
        if any(delta.sums.values()):
            found = moved[district_id]
            found.months.add(month)
            if found.departments is not None:
                found.departments.add(department_id)


# The last event id this process's latest update stored (`update_scores`); any value is safe.
_last_stored: int | None = None


def _window(last: int) -> models.QuerySet[Event, Any]:
    """For each case with an event above `last` less the overlap: its last sequence number,
    its newest event id and the lowest sequence number its stored records were computed at."""
    seen = (
        SummonsAssessment.objects.filter(case_id=OuterRef("case_id"))
        .order_by()
        .values("case_id")
        .annotate(seq=Min("trail_seq"))
        .values("seq")
    )
    return (
        Event.objects.filter(id__gt=max(0, last - OVERLAP))
        .order_by()
        .values("case_id")
        .annotate(top=Max("seq"), newest=Max("id"), seen=Subquery(seen))
        .values_list("case_id", "top", "newest", "seen")
    )


def update_scores() -> int:
    """Bring records, cells and scores up to date with the trail; returns the number of cases
    recomputed. Reads only the events added since the last run, and an overlap below it for
    transactions that took a smaller event id but committed after the last run.

    One query reads, for each case with an event in that window, its last sequence number,
    its newest event id and the lowest sequence number its stored records were computed at:
    a case is recomputed when it has an event newer than the last run, or one its records
    have not seen.

    The window is read together with the scoring lock (`read_together`), from where this
    process's latest update stopped: the lock is granted before the window is read, as one
    after the other. Where the state says the last run stopped further on (another process
    ran since), the window read is wider than needed, which recomputes no case that has
    nothing new; where it says less (a restored database), the window is read again from
    there."""
    global _last_stored
    with transaction.atomic():
        guess = _last_stored
        locked, window = read_together(
            _lock_reading_schemes_token(), None if guess is None else _window(guess)
        )
        if locked:
            ((last, schemes_token),) = locked
        else:
            last, schemes_token = lock_scoring().last_event_id, None
        if guess is None or guess > last:
            window = list(_window(last))
        if window:
            newest = max(newest_id for _case, _top, newest_id, _seen in window)
        else:
            newest = Event.objects.aggregate(m=Max("id"))["m"] or 0
        # `last` is the lower bound where the window read was wider.
        cases = {
            case_id
            for case_id, top, newest_id, seen_seq in window
            if newest_id > last or (seen_seq is not None and top > seen_seq)
        }
        if cases:
            _refresh(cases, scheme_book(schemes_token))
        ScoringState.objects.filter(pk=1).update(last_event_id=newest, updated_at=timezone.now())
    _last_stored = newest
    return len(cases)


def sweep(now: datetime, *, batch: int) -> int:
    """The worker's hook (WHISTLE_WORKER_SWEEPS): bring the scores up to date."""
    return update_scores()


def _case_chunks(district_id: int | None = None) -> Iterator[list[int]]:
    cases = Summons.objects.order_by("case_id").values_list("case_id", flat=True).distinct()
    if district_id is not None:
        cases = cases.filter(department__district_id=district_id)
    chunk: list[int] = []
    for case_id in cases.iterator(chunk_size=5000):
        chunk.append(case_id)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def recompute_all(*, in_sql: bool | None = None, workers: int | None = None) -> int:
    """Rewrite every record, cell and score from the trail, except frozen periods. Returns the
    number of records written.

    On PostgreSQL the records are derived in set-based SQL (`whistle.assessment.derive_sql`,
    which leaves the trails it does not express to `derive_facts`), on `workers` connections
    side by side (by default `WHISTLE_ASSESSMENT_WORKERS`); elsewhere, or with
    `in_sql=False`, case by case in Python. Called inside a transaction that is already
    open, it derives on its own connection alone: the others would not see what that
    transaction wrote."""
    if in_sql is None:
        in_sql = connection.vendor == "postgresql"
    if workers is None:
        workers = settings.WHISTLE_ASSESSMENT_WORKERS
    if connection.in_atomic_block:
        workers = 1
    book = SchemeBook()
    frozen = FrozenMonths()
    written = 0
    now = timezone.now()
    with transaction.atomic():
        state = lock_scoring()
        newest = Event.objects.aggregate(m=Max("id"))["m"] or 0
        if in_sql:
            from whistle.assessment.derive_sql import derive_all

            written = derive_all(book, now, compute_records, workers=workers)
        else:
            cells: dict[CellKey, CellTotals] = {}
            for chunk in _case_chunks():
                written += _recompute_chunk(chunk, book, frozen, now, cells)
            _rewrite_cells(cells, frozen)
        for district_id in _districts_with_data():
            months = ScoreCell.objects.filter(district_id=district_id).values_list(
                "month", flat=True
            )
            periods = periods_of_months(set(months))
            stale = DepartmentResult.objects.filter(district_id=district_id, frozen=False)
            stale.exclude(period__in=[p.key for p in periods]).delete()
            store_results(district_id, periods, book)
        state.last_event_id = newest
        state.updated_at = now
        state.save(update_fields=["last_event_id", "updated_at"])
    return written


def _recompute_chunk(
    chunk: list[int],
    book: SchemeBook,
    frozen: FrozenMonths,
    now: datetime,
    cells: dict[CellKey, CellTotals],
) -> int:
    """Rewrite the records of a chunk of cases in Python and add them to the cells; returns
    the number of records written."""
    written = 0
    fresh = compute_records(chunk, book)
    stored = stored_records(chunk)
    writes = RecordWrites(now)
    for summons_id, gone in stored.items():
        if summons_id not in fresh and not frozen(gone.values["district_id"], gone.values["month"]):
            writes.put(summons_id, gone, None)
    for summons_id, values in fresh.items():
        record = stored.get(summons_id)
        if frozen(values["district_id"], values["month"]) or (
            record is not None and frozen(record.values["district_id"], record.values["month"])
        ):
            continue
        add_to_cells(cells, values)
        if record is None or record.values != values:
            writes.put(summons_id, record, values)
            written += 1
    writes.flush()
    return written


def _districts_with_data() -> list[int]:
    ids = set(ScoreCell.objects.values_list("district_id", flat=True).distinct())
    ids |= set(DepartmentResult.objects.values_list("district_id", flat=True).distinct())
    ids |= set(ComponentScore.objects.values_list("district_id", flat=True).distinct())
    return sorted(ids)


def _rewrite_cells(cells: dict[CellKey, CellTotals], frozen: FrozenMonths) -> None:
    kept = [
        pk
        for pk, district_id, month in ScoreCell.objects.values_list("pk", "district_id", "month")
        if frozen(district_id, month)
    ]
    ScoreCell.objects.exclude(pk__in=kept).delete()
    insert_values(
        ScoreCell,
        ("district_id", "department_id", "township_id", "month", *CELL_SUMS),
        [
            (totals.district_id, *key, *(totals.sums[name] for name in CELL_SUMS))
            for key, totals in cells.items()
            if not frozen(totals.district_id, key[2])
        ],
    )


# ---------------------------------------------------------------------------------------------
# Checking


def check_all() -> list[str]:
    """Recompute every record, cell and score in memory and describe each stored row that
    disagrees, in words of the active language. Frozen periods are left out: they keep what
    they were scored with."""
    book = SchemeBook()
    frozen = FrozenMonths()
    found: list[Difference] = []
    cells: dict[CellKey, CellTotals] = {}
    for chunk in _case_chunks():
        fresh = compute_records(chunk, book)
        stored = stored_records(chunk)
        for summons_id in sorted(set(fresh) | set(stored)):
            new = fresh.get(summons_id)
            record = stored.get(summons_id)
            month_owner = new if new is not None else record.values  # type: ignore[union-attr]
            if frozen(month_owner["district_id"], month_owner["month"]):
                continue
            if new is not None:
                add_to_cells(cells, new)
            subject = ("record", summons_id)
            if record is None:
                found.append(Difference(subject))
                continue
            if new is None:
                found.append(Difference(subject, stored=True))
                continue
            old = record.values
            for name in RECORD_FIELDS:
                if old[name] != new[name]:
                    found.append(Difference(subject, True, name, old[name], new[name]))
    stored_cells = {
        (c.department_id, c.township_id, c.month): c
        for c in ScoreCell.objects.all()
        if not frozen(c.district_id, c.month)
    }
    for key in sorted(set(cells) | set(stored_cells)):
        cell = ("cell", *key)
        mine, theirs = cells.get(key), stored_cells.get(key)
        if mine is None:
            found.append(Difference(cell, stored=True))
        elif theirs is None:
            found.append(Difference(cell))
        else:
            for name in CELL_SUMS:
                if Decimal(getattr(theirs, name)) != Decimal(mine.sums[name]):
                    found.append(
                        Difference(cell, True, name, getattr(theirs, name), mine.sums[name])
                    )

    all_cells = dict(cells)
    for c in ScoreCell.objects.all():
        if frozen(c.district_id, c.month):
            totals = CellTotals(c.district_id)
            totals.sums = {name: getattr(c, name) for name in CELL_SUMS}
            all_cells[(c.department_id, c.township_id, c.month)] = totals
    districts = set(_districts_with_data()) | {t.district_id for t in all_cells.values()}
    for district_id in sorted(districts):
        months = {key[2] for key, t in all_cells.items() if t.district_id == district_id}
        periods = {p.key: p for p in periods_of_months(months)}
        stored_results: dict[str, dict[int, DepartmentResult]] = defaultdict(dict)
        for result in DepartmentResult.objects.filter(district_id=district_id):
            stored_results[result.period][result.department_id] = result
        for period_key in sorted(set(periods) | set(stored_results)):
            theirs_by_department = stored_results.get(period_key, {})
            if any(r.frozen for r in theirs_by_department.values()):
                continue
            period = periods.get(period_key) or Period.parse(period_key)
            mine_rows = {
                r.department_id: r
                for r in compute_results(district_id, period, book, cells=all_cells)
            }
            for department_id in sorted(set(mine_rows) | set(theirs_by_department)):
                scored = ("result", department_id, period_key)
                mine_row = mine_rows.get(department_id)
                stored_row = theirs_by_department.get(department_id)
                if mine_row is None:
                    found.append(Difference(scored, stored=True))
                elif stored_row is None:
                    found.append(Difference(scored))
                else:
                    a, b = stored_result_row(stored_row).comparable(), mine_row.comparable()
                    for name in a:
                        if a[name] != b[name]:
                            found.append(Difference(scored, True, name, a[name], b[name]))
    return describe_differences(found)


@dataclass(frozen=True)
class Difference:
    """A stored row that disagrees with the trail: missing (not stored), one that should
    not exist (stored, no field), or a field whose stored value is not the computed one.

    `subject` is ("record", summons id), ("cell", department id, township id, month) or
    ("result", department id, period key)."""

    subject: tuple[Any, ...]
    stored: bool = False
    field: str = ""
    value: Any = None
    computed: Any = None


_MODEL_OF = {"record": SummonsAssessment, "cell": ScoreCell, "result": DepartmentResult}


def describe_differences(found: list[Difference]) -> list[str]:
    """Each difference as a line a person reads: places by name, fields by their labels,
    choices by their labels, numbers as numbers."""
    departments = {
        d.pk: d.display_name
        for d in Department.objects.filter(
            pk__in={x.subject[1] for x in found if x.subject[0] != "record"}
        ).only("name", "name_en")
    }
    townships = {
        t.pk: t.display_name
        for t in Jurisdiction.objects.filter(
            pk__in={x.subject[2] for x in found if x.subject[0] == "cell"}
        ).only("name", "name_en")
    }
    lines = []
    for difference in found:
        kind, *key = difference.subject
        if kind == "record":
            subject = _("assessment record of summons %(summons)s") % {"summons": key[0]}
        elif kind == "cell":
            subject = _("score cell of %(department)s in %(township)s, %(month)s") % {
                "department": departments.get(key[0], key[0]),
                "township": townships.get(key[1], key[1]),
                "month": f"{key[2]:%Y-%m}",
            }
        else:
            subject = _("score of %(department)s in %(period)s") % {
                "department": departments.get(key[0], key[0]),
                "period": key[1],
            }
        if not difference.stored:
            lines.append(_("%(subject)s: missing") % {"subject": subject})
        elif not difference.field:
            lines.append(_("%(subject)s: should not exist") % {"subject": subject})
        else:
            model = _MODEL_OF[kind]
            lines.append(
                _("%(subject)s: %(field)s is %(stored)s, should be %(computed)s")
                % {
                    "subject": subject,
                    "field": _field_label(model, difference.field),
                    "stored": _shown(model, difference.field, difference.value),
                    "computed": _shown(model, difference.field, difference.computed),
                }
            )
    return lines


def _model_field(model: type[models.Model], name: str) -> Any:
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _field_label(model: type[models.Model], name: str) -> str:
    found = _model_field(model, name)
    return str(getattr(found, "verbose_name", name)) if found is not None else name


def _shown(model: type[models.Model], name: str, value: Any) -> str:
    """A stored or computed value in words: a choice by its label, not its enum's name."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    choices = dict(getattr(_model_field(model, name), "flatchoices", None) or ())
    if choices and value in choices:
        return str(choices[value])
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
