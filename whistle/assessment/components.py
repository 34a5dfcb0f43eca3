"""Importing the district's other score components (e.g. its own inspections) from CSV or XLSX.

Columns, with a header row: department (code), component (code), period (2026, 2026-Q3 or
2026-07), score (0–100); an optional note column is kept as the source. Either every row is
valid and all are written, or nothing is written and every problem is reported with its row.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from whistle.assessment.engine import SchemeBook, store_results
from whistle.assessment.models import (
    STATIONED_COMPONENT,
    ClosedPeriod,
    ComponentScore,
    SchemeComponent,
)
from whistle.assessment.periods import Period
from whistle.organisation.models import Department, Jurisdiction

COLUMNS = ("department", "component", "period", "score")


@dataclass
class ImportReport:
    written: int = 0
    errors: list[str] = field(default_factory=list)


def _rows_from_file(path: Path) -> list[dict[str, Any]]:
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True, data_only=True).active
        if sheet is None:
            return []
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    else:
        text = path.read_bytes().decode("utf-8-sig")
        rows = [list(r) for r in csv.reader(io.StringIO(text))]
    if not rows:
        return []
    header = [str(h or "").strip().lower() for h in rows[0]]
    return [
        dict(zip(header, row, strict=False))
        for row in rows[1:]
        if any(c not in (None, "") for c in row)
    ]


def import_component_scores(path: Path, district: Jurisdiction, person: Any = None) -> ImportReport:
    report = ImportReport()
    try:
        rows = _rows_from_file(path)
    except (OSError, UnicodeDecodeError, ValueError, KeyError) as exc:
        report.errors.append(_("Cannot read %(file)s: %(error)s") % {"file": path, "error": exc})
        return report
    if rows and not set(COLUMNS) <= set(rows[0]):
        report.errors.append(
            _("The header must name the columns: %(columns)s") % {"columns": ", ".join(COLUMNS)}
        )
        return report
    departments = {d.code: d for d in Department.objects.filter(district=district)}
    codes = set(
        SchemeComponent.objects.filter(scheme__district=district).values_list("code", flat=True)
    )
    frozen = ClosedPeriod.frozen_months(district.pk)
    valid: list[tuple[Department, str, Period, Decimal, str]] = []
    for number, row in enumerate(rows, start=2):
        code = str(row.get("department") or "").strip()
        component = str(row.get("component") or "").strip()
        department = departments.get(code)
        problems = []
        if department is None:
            problems.append(
                _("no department with the code %(code)s in this district") % {"code": code}
            )
        if component not in codes:
            problems.append(_("no component with the code %(code)s") % {"code": component})
        period = None
        try:
            period = Period.parse(str(row.get("period") or ""))
        except ValidationError as exc:
            problems.append(" ".join(exc.messages))
        # A year stays open for its annual components while some of its months are closed.
        if period is not None and all(m in frozen for m in period.months()):
            problems.append(_("the period %(period)s is closed") % {"period": period.key})
        try:
            score = Decimal(str(row.get("score")).strip())
            if not score.is_finite() or not 0 <= score <= 100:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            problems.append(_("the score must be a number from 0 to 100"))
            score = Decimal(0)
        if problems:
            report.errors.append(
                _("row %(row)s: %(problems)s") % {"row": number, "problems": "; ".join(problems)}
            )
        elif department is not None and period is not None:
            note = str(row.get("note") or "").strip() or path.name
            valid.append((department, component, period, score.quantize(Decimal("0.01")), note))
    if report.errors:
        return report
    now = timezone.now()
    with transaction.atomic():
        for department, component, period, score, note in valid:
            ComponentScore.objects.update_or_create(
                department=department,
                component=component,
                period=period.key,
                defaults={
                    "district": district,
                    "score": score,
                    "source": note[:200],
                    "entered_at": now,
                    "entered_by": person,
                },
            )
            report.written += 1
        periods: set[Period] = set()
        for _d, _c, period, _s, _n in valid:
            periods.update(Period.month_of(period.first_month).enclosing())
            periods.add(period)
        store_results(district.pk, sorted(periods), SchemeBook())
    return report


def record_stationed_score(
    district: Jurisdiction,
    department: Department,
    month: Any,
    score: Decimal | None,
    *,
    source: str,
    person: Any = None,
    now: Any = None,
) -> None:
    """The department's stationed staff's score for a month (`STATIONED_COMPONENT`): the
    mean of the townships' assessments of its people, as `whistle.township` computed it;
    None removes it. The periods that contain the month are scored again. Called inside
    the township's action, in its transaction."""
    period = Period.month_of(month)
    if period.first_month in ClosedPeriod.frozen_months(district.pk):
        raise ValidationError(_("the period %(period)s is closed") % {"period": period.key})
    rows = ComponentScore.objects.filter(
        department=department, component=STATIONED_COMPONENT, period=period.key
    )
    if score is None:
        rows.delete()
    else:
        ComponentScore.objects.update_or_create(
            department=department,
            component=STATIONED_COMPONENT,
            period=period.key,
            defaults={
                "district": district,
                "score": score.quantize(Decimal("0.01")),
                "source": source[:200],
                "entered_at": now or timezone.now(),
                "entered_by": person,
            },
        )
    store_results(district.pk, period.enclosing(), SchemeBook())
