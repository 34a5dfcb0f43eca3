"""What the assessment and district pages list, each in a fixed number of queries.

The numbers come from `whistle.assessment` as stored (records, cells, department scores);
nothing here computes a score. It only arranges them for a page: who is left to rate, a
ranking with each part's contribution to the total, a department's records with their
deductions and the trail events they were derived from.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Round
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from whistle.assessment.actions import CLOSED_CASE, appeal_deadline, stuck_appeal_ids
from whistle.assessment.engine import SchemeBook, scheme_components
from whistle.assessment.explain import (
    ScoredPiece,
    contributions,
    department_view,
    incomplete_reasons,
    pieces_of,
    schemes_of,
    township_view,
    unscored_months,
)
from whistle.assessment.hotspots import NOT_COUNTED as HOT_SPOT_NOT_COUNTED
from whistle.assessment.measures import period_bounds
from whistle.assessment.models import (
    Acted,
    Appeal,
    Came,
    ClosedPeriod,
    DepartmentResult,
    Scheme,
    ScoreCell,
    SummonsAssessment,
)
from whistle.assessment.periods import Period, month_start
from whistle.assessment.scoring import AssessmentEventKind, exact_rounded
from whistle.cases.models import Attachment, Case, Event, Summons
from whistle.cases.trail import EventKind
from whistle.district.corrections import choices_for_record, describe
from whistle.district.picker import current_month
from whistle.organisation.models import CentreMembership, Department, Jurisdiction
from whistle.policies.models import Category

# How many rows a list shows at most; the page says when there are more.
LIST_LIMIT = 200


def frozen_months(district_ids: Iterable[int]) -> dict[int, set[date]]:
    """The closed months of each district, in one query."""
    found: dict[int, set[date]] = defaultdict(set)
    for district_id, key in ClosedPeriod.objects.filter(
        district_id__in=sorted(set(district_ids))
    ).values_list("district_id", "period"):
        found[district_id].update(Period.parse(key).months())
    return found


# ---------------------------------------------------------------------------------------
# Rating: the township's summonses of closed cases


def township_summonses(township_ids: Iterable[int]) -> QuerySet[Summons]:
    """Summonses a township assesses: those of its whistles, and routine dispatches of its
    cases (as `whistle.assessment.actions.township_of` decides). Departments that did not
    have to come (their record says so) are not rated."""
    ids = sorted(set(township_ids))
    return (
        Summons.objects.filter(
            Q(whistle__township_id__in=ids) | Q(whistle__isnull=True, case__township_id__in=ids),
            case__status__in=CLOSED_CASE,
        )
        .exclude(status=Summons.Status.CANCELLED)
        .exclude(assessment__excused=True)
        .select_related(
            "case__township", "case__lane", "department", "whistle__township", "assessment"
        )
    )


@dataclass(frozen=True)
class StandIn:
    """What "how well" counts for a summons the township has not rated, as its scoring reads
    it: the case's evaluation when the case has one, else what the scheme in force for the
    department's district in the summons' month counts for a summons nobody rated
    (`Scheme.counted_stars`: so many stars, or None: left out). No scheme in force: the
    summons is not scored. The township may rate it until the district closes that month
    (`rating_lists` leaves the summonses of closed months out, `rate_summons` refuses them)."""

    month: Period
    scheme: Scheme | None
    case_rating: int | None

    @property
    def stars(self) -> int | None:
        if self.scheme is None:
            return None
        return self.scheme.counted_stars(self.case_rating, excused=False)


@dataclass
class RatingRow:
    summons: Summons
    township: Jurisdiction
    record: SummonsAssessment | None
    rated_at: datetime | None = None
    # For a summons waiting for its first rating: what counts until it is rated.
    stand_in: StandIn | None = None


def with_stand_ins(rows: list[RatingRow]) -> list[RatingRow]:
    """The rows, each with what counts until it is rated (`StandIn`), the schemes found as
    scoring finds them (`SchemeBook.in_force`), in one read of the districts' schemes."""
    if rows:
        book = SchemeBook(districts={row.summons.department.district_id for row in rows})
        for row in rows:
            month = month_start(row.summons.summoned_at)
            row.stand_in = StandIn(
                Period.month_of(month),
                book.in_force(row.summons.department.district_id, month),
                row.summons.case.township_rating,
            )
    return rows


def summons_township(summons: Summons) -> Jurisdiction:
    if summons.whistle is not None:
        return summons.whistle.township
    return summons.case.township  # type: ignore[return-value]


def record_of(summons: Summons) -> SummonsAssessment | None:
    try:
        return summons.assessment
    except SummonsAssessment.DoesNotExist:
        return None


def _rated() -> Exists:
    return Exists(Event.objects.filter(summons_id=OuterRef("pk"), kind=AssessmentEventKind.RATED))


def rating_row(township_ids: Iterable[int], summons_id: int) -> RatingRow:
    """The row of one summons the townships rate, as its card shows it: with what counts
    until it is rated while nobody has rated it."""
    summons = township_summonses(township_ids).annotate(rated=_rated()).get(pk=summons_id)
    row = RatingRow(summons, summons_township(summons), record_of(summons))
    return row if summons.rated else with_stand_ins([row])[0]


def rating_lists(
    township_ids: Iterable[int], limit: int = LIST_LIMIT, member_of: Iterable[int] = ()
) -> tuple[list[RatingRow], list[RatingRow], bool]:
    """(to rate, rated recently, more to rate than shown). Summonses of closed months are
    left out: the assessment refuses to change them; so are those of the departments the
    reader belongs to (`member_of`): nobody rates their own."""
    ids = sorted(set(township_ids))
    if not ids:
        return [], [], False
    last_rating = (
        Event.objects.filter(summons_id=OuterRef("pk"), kind=AssessmentEventKind.RATED)
        .values("summons_id")
        .annotate(last=Max("at"))
        .values("last")
    )
    base = (
        township_summonses(ids)
        .exclude(department_id__in=sorted(set(member_of)))
        .annotate(rated=_rated())
    )
    waiting = list(base.filter(rated=False).order_by("-case__closed_at", "pk")[: limit + 1])
    recent = list(
        base.filter(rated=True)
        .annotate(rated_at=Subquery(last_rating))
        .order_by("-rated_at", "pk")[:20]
    )
    frozen = frozen_months({s.department.district_id for s in [*waiting, *recent]})

    def rows(summonses: Sequence[Summons]) -> list[RatingRow]:
        found = []
        for s in summonses:
            if month_start(s.summoned_at) in frozen.get(s.department.district_id, set()):
                continue
            found.append(
                RatingRow(s, summons_township(s), record_of(s), getattr(s, "rated_at", None))
            )
        return found

    return with_stand_ins(rows(waiting[:limit])), rows(recent), len(waiting) > limit


# ---------------------------------------------------------------------------------------
# How the departments served one township; how the townships rated one department


def named_rows(rows: list[dict[str, Any]], key: str, names: dict[int, Any]) -> list[dict[str, Any]]:
    for row in rows:
        row["name"] = names.get(row[key])
    return sorted(rows, key=lambda r: (-(r["score"] or 0), str(r["name"])))


def township_table(township: Jurisdiction, period: Period) -> list[dict[str, Any]]:
    rows = township_view(township, period.key)
    names = Department.objects.in_bulk([r["department_id"] for r in rows])
    return named_rows(rows, "department_id", names)


def department_table(department: Department, period: Period) -> list[dict[str, Any]]:
    rows = department_view(department, period.key)
    names = Jurisdiction.objects.in_bulk([r["township_id"] for r in rows])
    return named_rows(rows, "township_id", names)


def townships_overview(district: Jurisdiction, period: Period) -> list[dict[str, Any]]:
    """Per township of the district: records settled in the period, and the mean score it
    gave (from the cells, one query each)."""
    sums = {
        row["township_id"]: row
        for row in ScoreCell.objects.filter(district=district, month__in=period.months())
        .values("township_id")
        .annotate(n=Sum("records"), s=Sum("total_sum"), r=Sum("rating_sum"), rn=Sum("rating_count"))
    }
    townships = Jurisdiction.objects.filter(
        parent=district, level=Jurisdiction.Level.TOWNSHIP
    ).order_by("code")
    rows = []
    for township in townships:
        row = sums.get(township.pk) or {"n": 0, "s": 0, "r": 0, "rn": 0}
        records = row["n"]
        rows.append(
            {
                "township": township,
                "records": records,
                "mean": exact_rounded(Fraction(row["s"]) / records) if records else None,
                "mean_rating": (
                    exact_rounded(Fraction(row["r"], row["rn"])) if row["rn"] else None
                ),
            }
        )
    return rows


# ---------------------------------------------------------------------------------------
# Rankings


@dataclass
class Part:
    """One part of a department's total: its score, its share and what it adds."""

    code: str
    name: str
    share_text: str
    score: Decimal | None
    contribution: Decimal | None


@dataclass
class RankingRow:
    result: DepartmentResult
    parts: list[Part]
    # Why the result is incomplete and therefore not ranked (empty when it is ranked).
    incomplete: list[str] = field(default_factory=list)
    # Its records counted before their summons settled, as "never acted" for now.
    provisional: int = 0

    @property
    def department(self) -> Department:
        return self.result.department


@dataclass
class Ranking:
    district: Jurisdiction
    period: Period
    scheme: Scheme | None
    rows: list[RankingRow] = field(default_factory=list)
    # The versions of the scheme that scored the period (months, scheme), when there are
    # more than one, and the months no scheme was in force in.
    versions: list[tuple[str, Scheme]] = field(default_factory=list)
    unscored_months: list[str] = field(default_factory=list)
    trend_months: list[str] = field(default_factory=list)
    trend: dict[int, list[Decimal | None]] = field(default_factory=dict)

    @property
    def frozen(self) -> bool:
        return any(r.result.frozen for r in self.rows)

    @property
    def ranked(self) -> list[RankingRow]:
        return [r for r in self.rows if r.result.rank is not None]

    def part_names(self) -> list[Part]:
        return self.rows[0].parts if self.rows else []

    def chart(self) -> dict[str, Any]:
        """The data of the two charts, for json_script: a stacked bar of each part's
        contribution to the total, in rank order (ranked results only), and the monthly
        totals of the year."""
        ranked = self.ranked
        names = [r.department.display_name for r in ranked]
        series = []
        for index, part in enumerate(self.part_names()):
            series.append(
                {
                    "name": _("%(part)s (%(share)s)")
                    % {"part": part.name, "share": part.share_text},
                    "data": [_number(r.parts[index].contribution) for r in ranked],
                }
            )
        by_id = {r.department.pk: r.department.display_name for r in self.rows}
        return {
            "departments": names,
            "totals": [_number(r.result.total) for r in ranked],
            "provisional": [r.provisional for r in ranked],
            "series": series,
            "trend": {
                "months": self.trend_months,
                "ticks": [str(Period.parse(key).number) for key in self.trend_months],
                "series": [
                    {"name": by_id[pk], "data": [_number(v) for v in values]}
                    for pk, values in self.trend.items()
                    # A department without a total in any month has nothing to draw: it
                    # stays out of the lines and the legend.
                    if pk in by_id and any(v is not None for v in values)
                ],
            },
            "labels": {
                "total": _("Total"),
                "month": _("Month"),
                "empty": _("No scores for this period yet."),
                # {n}: the number of records; the chart's script fills it in.
                "provisional": _("Unfinished records, counted as not acted for now: {n}"),
            },
        }


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def part_columns(scheme: Scheme, pieces: Sequence[ScoredPiece]) -> list[Part]:
    """The parts of the totals, as column heads: the township evaluation and every other
    component, with the shares of the scheme (of the latest scheme that has them)."""
    columns = {"township": Part("township", _("Township evaluation"), "", None, None)}
    for source in [*(p.scheme for p in pieces if p.scheme is not None), scheme]:
        columns["township"].share_text = source.township_share.strip()
        for component in scheme_components(source):
            columns[component.code] = Part(
                component.code, component.display_name, component.weight.strip(), None, None
            )
    return list(columns.values())


def result_parts(
    result: DepartmentResult, columns: Sequence[Part], pieces: Sequence[ScoredPiece]
) -> list[Part]:
    """Each part of one result: its score and what it adds to the total."""
    added = contributions(result, pieces, [c.code for c in columns if c.code != "township"])
    parts = []
    for column in columns:
        if column.code == "township":
            value = result.township_score
        else:
            text = result.components.get(column.code)
            value = Decimal(text) if text not in (None, "") else None
        parts.append(
            Part(column.code, column.name, column.share_text, value, added.get(column.code))
        )
    return parts


@dataclass
class PieceLine:
    """One piece of a period scored under several versions of the scheme, for the page:
    its months, its version, its records and its total as share × score terms."""

    piece: ScoredPiece
    terms: list[Part]


def piece_lines(result: DepartmentResult, pieces: Sequence[ScoredPiece]) -> list[PieceLine]:
    lines = []
    for piece in pieces:
        if piece.scheme is None:
            continue
        terms = [
            Part(
                "township",
                _("Township evaluation"),
                piece.scheme.township_share.strip(),
                piece.township_score,
                None,
            )
        ]
        for component in scheme_components(piece.scheme):
            text = result.components.get(component.code)
            terms.append(
                Part(
                    component.code,
                    component.display_name,
                    component.weight.strip(),
                    Decimal(text) if text not in (None, "") else Decimal(0),
                    None,
                )
            )
        lines.append(PieceLine(piece, terms))
    return lines


def provisional_counts(district_id: int, period: Period) -> dict[int, int]:
    """How many of each department's records counted in the period are provisional (counted
    as "never acted" before their summons settled), in one query."""
    return dict(
        SummonsAssessment.objects.filter(
            district_id=district_id,
            month__in=period.months(),
            settled=True,
            provisional=True,
        )
        .values("department_id")
        .annotate(n=Count("pk"))
        .values_list("department_id", "n")
    )


def latest_ranked_month(district: Jurisdiction, until: Period) -> Period | None:
    """The latest month up to `until` in which the district ranked at least one department
    (None when it never has): the rankings open on the latest finished one, since the month
    under way has few settled records and entered components until it ends."""
    key = (
        DepartmentResult.objects.filter(
            district=district, period__lte=until.key, period__contains="-", rank__isnull=False
        )
        .exclude(period__contains="Q")
        .order_by("-period")
        .values_list("period", flat=True)
        .first()
    )
    return Period.parse(key) if key else None


def first_scored_year(district: Jurisdiction) -> int:
    """The first year that can have scores of the district: the year of its earliest score
    of any period (a year's key, "2025", sorts before its months and quarters), else the
    current year (Beijing time), the first a score may still come for. The rankings and the
    annual report offer no year before it."""
    key = (
        DepartmentResult.objects.filter(district=district)
        .order_by("period")
        .values_list("period", flat=True)
        .first()
    )
    return Period.parse(key).year if key else current_month().year


def ranking(district: Jurisdiction, period: Period) -> Ranking:
    """The district's results of the period: the ranked first, then the incomplete."""
    results = list(
        DepartmentResult.objects.filter(district=district, period=period.key)
        .select_related("department")
        .order_by(F("rank").asc(nulls_last=True), "department__code")
    )
    board = Ranking(district, period, None)
    if results:
        schemes = schemes_of(results)
        board.scheme = schemes[results[0].scheme_id]
        pieces = pieces_of(results[0], schemes)
        columns = part_columns(board.scheme, pieces)
        board.unscored_months = unscored_months(pieces)
        versions = [(p.span, p.scheme) for p in pieces if p.scheme is not None]
        if len({scheme.pk for _span, scheme in versions}) > 1:
            board.versions = versions
        provisional = provisional_counts(district.pk, period)
        for result in results:
            own = pieces_of(result, schemes)
            board.rows.append(
                RankingRow(
                    result,
                    result_parts(result, columns, own),
                    incomplete_reasons(result, own),
                    provisional.get(result.department_id, 0),
                )
            )
    months = [Period.month_of(m) for m in Period(period.year, "year", 0).months()]
    months = [m for m in months if m.first_month <= period.last_month]
    board.trend_months = [m.key for m in months]
    trend: dict[int, dict[str, Decimal | None]] = defaultdict(dict)
    for department_id, key, total in DepartmentResult.objects.filter(
        district=district, period__in=board.trend_months
    ).values_list("department_id", "period", "total"):
        trend[department_id][key] = total
    board.trend = {
        pk: [values.get(key) for key in board.trend_months] for pk, values in sorted(trend.items())
    }
    return board


# ---------------------------------------------------------------------------------------
# Records: a department's, with their deductions, appeals and trail events


@dataclass
class Deduction:
    label: str
    points: Decimal


def deductions(record: SummonsAssessment, scheme: Scheme) -> list[Deduction]:
    """The points a record lost against a perfect arrival and handling, and why."""
    found = []
    if record.came_score is not None and record.came in (Came.LATE, Came.NO_SHOW):
        lost = scheme.on_time_points - record.came_score
        if lost > 0:
            label = (
                _("late by %(n)s minutes") % {"n": record.late_minutes}
                if record.came == Came.LATE
                else _("never came")
            )
            found.append(Deduction(label, lost))
    if record.acted_score is not None and record.acted in (
        Acted.HANDLED,
        Acted.DECLINE_OVERRULED,
        Acted.ABANDONED,
    ):
        if record.acted == Acted.ABANDONED:
            lost = scheme.handled_points - record.acted_score
            if lost > 0:
                found.append(Deduction(_("never acted"), lost))
        else:
            ceiling = scheme.handled_points
            if record.acted == Acted.DECLINE_OVERRULED:
                found.append(Deduction(_("decline overruled"), scheme.decline_overruled_deduction))
                ceiling -= scheme.decline_overruled_deduction
            if record.rework_count:
                # The score never goes below 0, so the reworks cost at most what was left.
                reworks = min(
                    scheme.rework_deduction * record.rework_count,
                    max(ceiling - record.acted_score, Decimal(0)),
                )
                n = record.rework_count
                said = ngettext("%(n)s rework", "%(n)s reworks", n) % {"n": n}
                found.append(Deduction(said, reworks))
    return found


@dataclass
class RecordRow:
    record: SummonsAssessment
    deductions: list[Deduction]
    appeals: list[Appeal] = field(default_factory=list)
    appeal_until: datetime | None = None
    may_appeal: bool = False
    # Within the scheme's working days after the record settled.
    in_window: bool = False
    # Something in it cost points and can be corrected (the rating cannot).
    contestable: bool = False
    frozen: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)
    photos: list[Attachment] = field(default_factory=list)
    # The appeal form the page shows, and whether it is unfolded (posted with errors).
    form: Any = None
    open: bool = False
    # Its pending appeal waits for someone in the chiefs' office who may rule on it.
    nobody_rules: bool = False

    @property
    def pending_appeal(self) -> Appeal | None:
        return next((a for a in self.appeals if a.status == Appeal.Status.PENDING), None)


def department_records(
    department_ids: Iterable[int], period: Period, now: datetime | None = None
) -> tuple[list[RecordRow], bool]:
    """The records of the departments in the period, newest first, with their appeals and
    whether each may still be appealed (settled, not frozen, within the scheme's working
    days, no appeal pending, something to contest)."""
    now = now or timezone.now()
    records = list(
        SummonsAssessment.objects.filter(
            department_id__in=sorted(set(department_ids)), month__in=period.months()
        )
        .select_related("case", "township", "scheme", "district", "department", "summons__whistle")
        .order_by("-summons__summoned_at", "-summons_id")[: LIST_LIMIT + 1]
    )
    more = len(records) > LIST_LIMIT
    records = records[:LIST_LIMIT]
    appeals: dict[int, list[Appeal]] = defaultdict(list)
    for appeal in Appeal.objects.filter(summons_id__in=[r.summons_id for r in records]).order_by(
        "filed_at"
    ):
        appeals[appeal.summons_id].append(appeal)
    frozen = frozen_months({r.district_id for r in records})
    rows = []
    for record in records:
        row = RecordRow(record, deductions(record, record.scheme), appeals[record.summons_id])
        row.frozen = record.month in frozen.get(record.district_id, set())
        if record.settled and not row.frozen:
            row.appeal_until = appeal_deadline(record)
            row.in_window = now <= row.appeal_until
            row.contestable = bool(choices_for_record(record))
            row.may_appeal = row.in_window and row.contestable and row.pending_appeal is None
        if row.pending_appeal is not None:
            row.pending_appeal.department = record.department
        rows.append(row)
    stuck = stuck_appeal_ids(r.pending_appeal for r in rows if r.pending_appeal is not None)
    for row in rows:
        row.nobody_rules = row.pending_appeal is not None and row.pending_appeal.pk in stuck
    appealable = [r.record.case_id for r in rows if r.may_appeal]
    photos: dict[int, list[Attachment]] = defaultdict(list)
    for attachment in Attachment.objects.filter(case_id__in=appealable).order_by(
        "uploaded_at", "pk"
    ):
        photos[attachment.case_id].append(attachment)
    for row in rows:
        if row.may_appeal:
            row.photos = photos[row.record.case_id]
    return rows, more


def result_records(department: Department, district_id: int, period: Period) -> list[RecordRow]:
    """The settled records behind a department's township evaluation, with their events."""
    records = list(
        SummonsAssessment.objects.filter(
            department=department,
            district_id=district_id,
            month__in=period.months(),
            settled=True,
            total__isnull=False,
        )
        .select_related("case", "township", "scheme", "summons__whistle")
        .order_by("month", "summons_id")
    )
    ids = sorted({pk for r in records for pk in r.event_ids})
    events = {
        e["id"]: e
        for e in Event.objects.filter(pk__in=ids).values(
            "id", "seq", "at", "kind", "summons_id", "data", "hash", "case_id"
        )
    }
    rows = []
    for record in records:
        row = RecordRow(record, deductions(record, record.scheme))
        row.events = sorted(
            (describe_event(events[pk]) for pk in record.event_ids if pk in events),
            key=lambda e: e["seq"],
        )
        rows.append(row)
    return rows


# What a trail event's values mean, for the drill-down (the case page tells them in full).
EVENT_VALUES = {
    "arrive_due_at": lambda: _("arrive by"),
    "resolve_due_at": lambda: _("resolve by"),
    "rating": lambda: _("stars"),
    "comment": lambda: _("comment"),
    "reason": lambda: _("reason"),
    "note": lambda: _("note"),
    "distance_m": lambda: _("distance (m)"),
    "checked_in_at": lambda: _("checked in at"),
    "minutes_late": lambda: _("minutes late"),
    "satisfied": lambda: _("resident satisfied"),
    "correction": lambda: _("correction"),
    "requested": lambda: _("requested correction"),
}


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return describe(value) or "—"
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and "T" in value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
    return str(value)


def describe_event(event: Mapping[str, Any]) -> dict[str, Any]:
    data = event.get("data") or {}
    values = [
        (str(label()), _value_text(data[key]))
        for key, label in EVENT_VALUES.items()
        if key in data and data[key] not in (None, "", {}, [])
    ]
    kind = event["kind"]
    return {
        "seq": event["seq"],
        "at": event["at"],
        "kind": kind,
        "label": EventKind(kind).label if kind in EventKind.values else kind,
        "values": values,
        "hash": event["hash"],
    }


# ---------------------------------------------------------------------------------------
# Appeals to rule on


@dataclass
class AppealRow:
    appeal: Appeal
    record: SummonsAssessment | None
    # Who ruled on an earlier appeal of the same record (they do not rule on this one).
    earlier_rulers: set[int] = field(default_factory=set)


def appeals_to_rule(district_ids: Iterable[int]) -> tuple[list[AppealRow], list[Appeal]]:
    """(pending appeals, the last 30 ruled) of the departments of the districts."""
    ids = sorted(set(district_ids))
    related = ("summons__case__township", "department", "filed_by", "ruled_by")
    pending = list(
        Appeal.objects.filter(status=Appeal.Status.PENDING, department__district_id__in=ids)
        .select_related(*related)
        .prefetch_related("attachments")
        .order_by("filed_at", "pk")
    )
    records = {
        r.summons_id: r
        for r in SummonsAssessment.objects.filter(
            summons_id__in=[a.summons_id for a in pending]
        ).select_related("scheme")
    }
    ruled = list(
        Appeal.objects.filter(department__district_id__in=ids)
        .exclude(status=Appeal.Status.PENDING)
        .select_related(*related)
        .order_by("-ruled_at", "-pk")[:30]
    )
    earlier: dict[int, set[int]] = {}
    for summons_id, ruler_id in Appeal.objects.filter(
        summons_id__in=[a.summons_id for a in pending], ruled_by__isnull=False
    ).values_list("summons_id", "ruled_by_id"):
        earlier.setdefault(summons_id, set()).add(ruler_id)
    rows = [
        AppealRow(a, records.get(a.summons_id), earlier.get(a.summons_id, set())) for a in pending
    ]
    return rows, ruled


def my_appeals(department_ids: Iterable[int]) -> list[Appeal]:
    return list(
        Appeal.objects.filter(department_id__in=sorted(set(department_ids)))
        .select_related("summons__case", "department", "filed_by", "ruled_by")
        .order_by("-filed_at", "-pk")[:50]
    )


# ---------------------------------------------------------------------------------------
# 1+5+N staffing


@dataclass
class CentreRow:
    township: Jurisdiction
    core: list[CentreMembership] = field(default_factory=list)
    stationed: list[CentreMembership] = field(default_factory=list)
    on_call: list[CentreMembership] = field(default_factory=list)

    @property
    def groups(self) -> list[tuple[str, list[CentreMembership]]]:
        roles = CentreMembership.Role
        return [
            (str(roles.CORE.label), self.core),
            (str(roles.STATIONED.label), self.stationed),
            (str(roles.ON_CALL.label), self.on_call),
        ]

    @property
    def members(self) -> list[CentreMembership]:
        return [*self.core, *self.stationed, *self.on_call]

    @property
    def unnamed(self) -> list[CentreMembership]:
        """Members without anyone named: nobody to call when the whistle blows."""
        return [m for m in self.members if not m.people.all()]


def centres(townships: QuerySet[Jurisdiction]) -> list[CentreRow]:
    rows = {t.pk: CentreRow(t) for t in townships.select_related("parent").order_by("code")}
    memberships = (
        CentreMembership.objects.filter(township_id__in=list(rows))
        .select_related("department")
        .prefetch_related("people")
        .order_by("department__name")
    )
    for membership in memberships:
        row = rows[membership.township_id]
        if membership.role == CentreMembership.Role.CORE:
            row.core.append(membership)
        elif membership.role == CentreMembership.Role.STATIONED:
            row.stationed.append(membership)
        else:
            row.on_call.append(membership)
    return list(rows.values())


# ---------------------------------------------------------------------------------------
# Where the cases were: points for the hot-spot map


# Cases are counted in cells of a thousandth of a degree (about 100 m × 85 m in Beijing).
CELL_DIGITS = 3
MAX_CELLS = 5000


def case_cells(
    district: Jurisdiction,
    period: Period,
    township: Jurisdiction | None = None,
    category: Category | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """The cases reported in the period, counted per map cell (WGS-84 centre and count),
    the densest first, and the number of cases; the same cases the hot spots count
    (rejected reports and merged duplicates left out). One query."""
    start, end = period_bounds(period)
    cases = Case.objects.filter(
        district=district, reported_at__gte=start, reported_at__lt=end
    ).exclude(status__in=HOT_SPOT_NOT_COUNTED)
    if township is not None:
        cases = cases.filter(township=township)
    if category is not None:
        cases = cases.filter(category=category)
    rows = (
        cases.annotate(x=Round("lon", CELL_DIGITS), y=Round("lat", CELL_DIGITS))
        .values("x", "y")
        .annotate(n=Count("pk"))
        .order_by("-n", "x", "y")
    )
    cells = [{"lon": float(r["x"]), "lat": float(r["y"]), "n": r["n"]} for r in rows[:MAX_CELLS]]
    return cells, sum(c["n"] for c in cells)
