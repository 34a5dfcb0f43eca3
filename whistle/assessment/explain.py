"""Every score explains itself: from a department's total down to each record, and from each
record down to the trail events it was computed from. Also the two views the townships and
departments read: how the departments served one township, how each township rated one
department."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db.models import F, Sum
from django.utils.translation import gettext as _

from whistle.assessment.engine import component_scores_for, scheme_components, weighted_mean
from whistle.assessment.models import DepartmentResult, Scheme, ScoreCell, SummonsAssessment
from whistle.assessment.periods import Period
from whistle.assessment.scoring import exact_rounded, mean
from whistle.cases.models import Event
from whistle.organisation.models import Department, Jurisdiction


def explain_record(record: SummonsAssessment) -> dict[str, Any]:
    scheme = record.scheme
    events = list(
        Event.objects.filter(pk__in=record.event_ids)
        .order_by("seq")
        .values("id", "seq", "at", "kind", "summons_id", "data", "hash")
    )
    parts = []
    for name, value, weight in (
        ("came", record.came_score, scheme.weight_came),
        ("acted", record.acted_score, scheme.weight_acted),
        ("quality", record.quality_score, scheme.weight_quality),
    ):
        parts.append({"part": name, "score": value, "weight": weight, "counted": value is not None})
    counted = [p for p in parts if p["counted"] and p["weight"] > 0]
    formula = " + ".join(f"{p['weight']} × {p['score']}" for p in counted)
    weights = sum((p["weight"] for p in counted), Decimal(0))
    return {
        "summons": record.summons_id,
        "case": record.case_id,
        "township": record.township_id,
        "month": f"{record.month:%Y-%m}",
        "settled": record.settled,
        "came": record.came,
        "late_minutes": record.late_minutes,
        "acted": record.acted,
        "rework_count": record.rework_count,
        "rating": record.rating,
        "rating_comment": record.rating_comment,
        "resident_satisfied": record.resident_satisfied,
        "corrected_on_appeal": record.corrected,
        "parts": parts,
        "total": record.total,
        "formula": f"({formula}) / {weights} = {record.total}" if counted else "",
        "events": events,
    }


@dataclass
class ScoredPiece:
    """Months of a period scored under one scheme (or under none), with one department's
    score over them, as stored in `DepartmentResult.parts`."""

    months: list[str]
    scheme: Scheme | None
    records: int
    township_score: Decimal | None
    total: Decimal | None
    complete: bool
    # What the piece weighs in the period's total: its records, or 1 for each month; 0
    # when it has no total.
    weight: int

    @property
    def span(self) -> str:
        return month_span(self.months)


def month_span(keys: Sequence[str]) -> str:
    return keys[0] if len(keys) == 1 else f"{keys[0]} – {keys[-1]}"


def _decimal(text: str | None) -> Decimal | None:
    return None if text in (None, "") else Decimal(str(text))


def schemes_of(results: Iterable[DepartmentResult]) -> dict[int, Scheme]:
    """The schemes that scored the results (every piece's, and the latest), with their
    components, in two queries."""
    ids = set()
    for result in results:
        ids.add(result.scheme_id)
        ids.update(part["scheme"] for part in result.parts if part.get("scheme"))
    return Scheme.objects.prefetch_related("components").in_bulk(sorted(ids))


def pieces_of(result: DepartmentResult, schemes: dict[int, Scheme]) -> list[ScoredPiece]:
    by_records = schemes[result.scheme_id].month_weighting == Scheme.MonthWeighting.RECORDS
    if not result.parts:
        # Stored before the pieces were kept (a closed period keeps such a row): the
        # whole period was scored under its one scheme.
        return [
            ScoredPiece(
                months=[Period.month_of(m).key for m in Period.parse(result.period).months()],
                scheme=schemes[result.scheme_id],
                records=result.records,
                township_score=result.township_score,
                total=result.total,
                complete=result.complete,
                weight=0 if result.total is None else max(result.records, 1),
            )
        ]
    pieces = []
    for part in result.parts:
        total = _decimal(part.get("total"))
        records = int(part.get("records") or 0)
        pieces.append(
            ScoredPiece(
                months=list(part["months"]),
                scheme=schemes.get(part["scheme"]) if part.get("scheme") else None,
                records=records,
                township_score=_decimal(part.get("township_score")),
                total=total,
                complete=bool(part.get("complete")),
                weight=0 if total is None else (records if by_records else 1),
            )
        )
    return pieces


def counted_pieces(pieces: Iterable[ScoredPiece]) -> list[ScoredPiece]:
    return [p for p in pieces if p.weight and p.scheme is not None]


def unscored_months(pieces: Iterable[ScoredPiece]) -> list[str]:
    """The spans of the period's months that no scheme was in force in."""
    return [p.span for p in pieces if p.scheme is None]


def combination_formula(pieces: Sequence[ScoredPiece], attribute: str) -> str:
    """How the period's township evaluation or total follows from its pieces':
    `(4 × 86.19 + 1 × 94.00) / 5 = 87.75`."""
    counted = counted_pieces(pieces)
    weight = sum(p.weight for p in counted)
    terms = " + ".join(f"{p.weight} × {getattr(p, attribute)}" for p in counted)
    value = weighted_mean((getattr(p, attribute), Fraction(p.weight)) for p in counted)
    return f"({terms}) / {weight} = {value}"


def total_formula(
    scheme: Scheme,
    township_score: Decimal | None,
    components: dict[tuple[int, str], tuple[Decimal, list[str]]],
    department_id: int,
    total: Decimal | None,
) -> str:
    lines = [f"{scheme.township_share} × {township_score} (township evaluation)"]
    for component in scheme_components(scheme):
        found = components.get((department_id, component.code))
        lines.append(f"{component.weight} × {found[0] if found else 0} ({component.display_name})")
    return " + ".join(lines) + f" = {total}"


def contributions(
    result: DepartmentResult, pieces: Sequence[ScoredPiece], codes: Iterable[str]
) -> dict[str, Decimal | None]:
    """What the township evaluation ("township") and each component add to the total: its
    share times its score, the shares of the pieces weighted as the pieces are."""
    counted = counted_pieces(pieces)
    found: dict[str, Decimal | None] = dict.fromkeys(["township", *codes])
    weight = sum(p.weight for p in counted)
    if not weight:
        return found
    township = sum(
        (
            p.weight * p.scheme.share * Fraction(p.township_score)
            for p in counted
            if p.scheme is not None and p.township_score is not None
        ),
        Fraction(0),
    )
    found["township"] = exact_rounded(township / weight)
    for code in codes:
        text = result.components.get(code)
        if text in (None, ""):
            continue
        share = sum(
            (
                p.weight * c.share
                for p in counted
                if p.scheme is not None
                for c in scheme_components(p.scheme)
                if c.code == code
            ),
            Fraction(0),
        )
        found[code] = exact_rounded(share * Fraction(Decimal(text)) / weight)
    return found


def incomplete_reasons(result: DepartmentResult, pieces: Sequence[ScoredPiece]) -> list[str]:
    """Why a result is incomplete, in words (empty when it is complete)."""
    if result.complete:
        return []
    if result.township_score is None:
        return [_("no settled record")]
    reasons = []
    for piece in counted_pieces(pieces):
        assert piece.scheme is not None
        for component in scheme_components(piece.scheme):
            missing = _("%(component)s missing") % {"component": component.display_name}
            if component.code not in result.components and missing not in reasons:
                reasons.append(missing)
    return reasons or [_("the shares of the scheme do not add up to 100%")]


def result_notes(result: DepartmentResult, pieces: Sequence[ScoredPiece]) -> list[str]:
    """What a reader of the result must know beside its numbers: why it is not ranked, and
    which months of the period no scheme was in force in."""
    notes = []
    reasons = incomplete_reasons(result, pieces)
    if reasons:
        notes.append(_("incomplete, not ranked: %(reasons)s") % {"reasons": _(", ").join(reasons)})
    for span in unscored_months(pieces):
        notes.append(_("no scheme in force in %(months)s: not scored") % {"months": span})
    return notes


def explain_result(department: Department, period_key: str) -> dict[str, Any]:
    """The drill-down of one department's score: the formula of the total, the components,
    the township evaluation as the mean of its records, and each record with its events.
    A period scored under several schemes also shows each piece's formula and how the
    pieces combine."""
    period = Period.parse(period_key)
    result = DepartmentResult.objects.select_related("scheme").get(
        department=department, period=period.key
    )
    schemes = schemes_of([result])
    scheme = schemes[result.scheme_id]
    components = component_scores_for(result.district_id, period)
    pieces = pieces_of(result, schemes)
    counted = counted_pieces(pieces)
    used: dict[str, Any] = {}
    for piece_scheme in [p.scheme for p in counted if p.scheme is not None] or [scheme]:
        for component in scheme_components(piece_scheme):
            used.setdefault(component.code, component)
    parts = []
    for component in used.values():
        found = components.get((department.pk, component.code))
        parts.append(
            {
                "code": component.code,
                "name": component.display_name,
                "weight": component.weight,
                "score": found[0] if found else None,
                "from_periods": found[1] if found else [],
            }
        )
    records = (
        SummonsAssessment.objects.filter(
            department=department,
            district_id=result.district_id,
            month__in=period.months(),
            settled=True,
            total__isnull=False,
        )
        .select_related("scheme")
        .order_by("month", "summons_id")
    )
    explained = [explain_record(r) for r in records]
    total_sum = sum((r["total"] for r in explained), Decimal(0))
    if len(counted) > 1:
        formula = combination_formula(pieces, "total")
        township_formula = combination_formula(pieces, "township_score")
    else:
        formula = total_formula(
            counted[0].scheme if counted and counted[0].scheme else scheme,
            result.township_score,
            components,
            department.pk,
            result.total,
        )
        township_formula = f"{total_sum} / {len(explained)} = {result.township_score}"
    return {
        "department": department.code,
        "period": period.key,
        "scheme": str(scheme),
        "total": result.total,
        "rank": result.rank,
        "complete": result.complete,
        "incomplete": incomplete_reasons(result, pieces),
        "frozen": result.frozen,
        "formula": formula,
        "township_score": result.township_score,
        "township_formula": township_formula,
        "pieces": [
            {
                "months": piece.span,
                "scheme": str(piece.scheme),
                "records": piece.records,
                "weight": piece.weight,
                "formula": total_formula(
                    piece.scheme, piece.township_score, components, department.pk, piece.total
                ),
            }
            for piece in counted
            if piece.scheme is not None
        ],
        "unscored_months": unscored_months(pieces),
        "components": parts,
        "records": explained,
    }


def _rows(cells: Any, group: str) -> list[dict[str, Any]]:
    rows = []
    for row in cells.values(group).annotate(
        n=Sum("records"),
        s=Sum("total_sum"),
        cs=Sum("came_sum"),
        cn=Sum("came_count"),
        a_s=Sum("acted_sum"),
        an=Sum("acted_count"),
        qs=Sum("quality_sum"),
        qn=Sum("quality_count"),
        rs=Sum("rating_sum"),
        rn=Sum("rating_count"),
        ontime=Sum("on_time_count"),
        late=Sum("late_count"),
        noshow=Sum("no_show_count"),
        rework=Sum("rework_sum"),
    ):
        arrivals = row["ontime"] + row["late"] + row["noshow"]
        rows.append(
            {
                group: row[group],
                "records": row["n"],
                "score": mean(row["s"], row["n"]),
                "came": mean(row["cs"], row["cn"]),
                "acted": mean(row["a_s"], row["an"]),
                "quality": mean(row["qs"], row["qn"]),
                "mean_rating": mean(Decimal(row["rs"]), row["rn"]),
                "on_time_rate": (
                    mean(Decimal(row["ontime"]) * 100, arrivals) if arrivals else None
                ),
                "reworks": row["rework"],
            }
        )
    return rows


def township_view(township: Jurisdiction, period_key: str) -> list[dict[str, Any]]:
    """How each department served this township in the period."""
    period = Period.parse(period_key)
    cells = ScoreCell.objects.filter(township=township, month__in=period.months())
    return sorted(_rows(cells, "department_id"), key=lambda r: r["department_id"])


def department_view(department: Department, period_key: str) -> list[dict[str, Any]]:
    """How each township rated this department in the period."""
    period = Period.parse(period_key)
    cells = ScoreCell.objects.filter(department=department, month__in=period.months())
    return sorted(_rows(cells, "township_id"), key=lambda r: r["township_id"])


def district_table(district: Jurisdiction, period_key: str) -> list[DepartmentResult]:
    period = Period.parse(period_key)
    return list(
        DepartmentResult.objects.filter(district=district, period=period.key)
        .select_related("department")
        .order_by(F("rank").asc(nulls_last=True), "department__code")
    )
