"""Every score explains itself: from a department's total down to each record, and from each
record down to the trail events it was computed from. Also the two views the townships and
departments read: how the departments served one township, how each township rated one
department."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Sum

from whistle.assessment.engine import component_scores_for
from whistle.assessment.models import DepartmentResult, ScoreCell, SummonsAssessment
from whistle.assessment.periods import Period
from whistle.assessment.scoring import mean
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


def explain_result(department: Department, period_key: str) -> dict[str, Any]:
    """The drill-down of one department's score: the formula of the total, the components,
    the township evaluation as the mean of its records, and each record with its events."""
    period = Period.parse(period_key)
    result = DepartmentResult.objects.select_related("scheme").get(
        department=department, period=period.key
    )
    scheme = result.scheme
    components = component_scores_for(result.district_id, period)
    lines = [f"{scheme.township_share} × {result.township_score} (township evaluation)"]
    parts = []
    for component in scheme.components.all():
        found = components.get((department.pk, component.code))
        parts.append(
            {
                "code": component.code,
                "name": component.name,
                "weight": component.weight,
                "score": found[0] if found else None,
                "from_periods": found[1] if found else [],
            }
        )
        lines.append(f"{component.weight} × {found[0] if found else 0} ({component.name})")
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
    return {
        "department": department.code,
        "period": period.key,
        "scheme": str(scheme),
        "total": result.total,
        "rank": result.rank,
        "complete": result.complete,
        "frozen": result.frozen,
        "formula": " + ".join(lines) + f" = {result.total}",
        "township_score": result.township_score,
        "township_formula": f"{total_sum} / {len(explained)} = {result.township_score}",
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
        .order_by("rank", "department__code")
    )
