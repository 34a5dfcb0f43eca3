"""The demo's assessment: a scheme, the township's ratings and the district's inspections, so
that a newcomer sees rankings on first start.

Runs after the case history (whistle.demo.builders.BUILDERS). Everything goes through the
assessment's own functions: the scheme through `create_scheme_version` (which refuses
shares that do not add up), ratings through `rate_summons`, inspection scores through the
component import, scores through `update_scores`.
"""

from __future__ import annotations

import csv
import random
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from whistle.assessment.actions import AssessmentError, rate_summons
from whistle.assessment.components import import_component_scores
from whistle.assessment.editing import create_scheme_version
from whistle.assessment.engine import update_scores
from whistle.assessment.models import Scheme
from whistle.cases.models import Case, Summons
from whistle.organisation.models import Person, Role

BEIJING = ZoneInfo("Asia/Shanghai")
COMMENTS = {
    5: "到场迅速，处置彻底，群众满意",
    4: "按时到场，处置到位",
    3: "处置基本到位，反馈不够及时",
}


def _months(first: date, last: date) -> list[date]:
    months = []
    month = first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def build(city: Any) -> str:
    district = city.district
    if Scheme.objects.filter(district=district).exists():
        return _("Assessment: a scheme is there already, left as it is.")
    cases = Case.objects.filter(district=district)
    first = cases.order_by("reported_at").values_list("reported_at", flat=True).first()
    if first is None:
        return _("Assessment: no cases to assess.")
    start = first.astimezone(BEIJING).date().replace(day=1)
    district_assessor = (
        Person.objects.filter(roles__role=Role.DISTRICT_ASSESSOR, roles__jurisdiction=district)
        .order_by("pk")
        .first()
    )
    create_scheme_version(
        district_assessor,
        district,
        {"name": _("Annual assessment (township evaluation one third)"), "valid_from": start},
        [{"code": "inspection", "name": _("District inspection"), "weight": "2/3"}],
    )

    rng = random.Random(city.seed)
    assessor = (
        Person.objects.filter(
            roles__role=Role.TOWNSHIP_ASSESSOR, roles__jurisdiction=city.demo_township
        )
        .order_by("pk")
        .first()
    )
    rated = 0
    closed = Summons.objects.filter(
        case__district=district, case__status__in=(Case.Status.CLOSED, Case.Status.EVALUATED)
    ).select_related("case")
    for summons in closed.order_by("pk"):
        if assessor is None or summons.case.closed_at is None:
            break
        rating = rng.choice((3, 4, 4, 5, 5))
        try:
            rate_summons(
                assessor,
                summons,
                rating,
                COMMENTS[rating],
                now=summons.case.closed_at + timedelta(hours=2),
            )
        except AssessmentError:
            continue  # not assessable (e.g. released before it acted): nothing to rate
        rated += 1

    departments = sorted(
        {
            s.department.code
            for s in Summons.objects.filter(case__district=district).select_related("department")
        }
    )
    last = cases.order_by("-reported_at").values_list("reported_at", flat=True).first() or first
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "inspection.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["department", "component", "period", "score"])
            for month in _months(start, last.astimezone(BEIJING).date()):
                for code in departments:
                    writer.writerow([code, "inspection", f"{month:%Y-%m}", rng.randint(78, 96)])
        report = import_component_scores(path, district)
    if report.errors:
        raise AssessmentError("; ".join(str(e) for e in report.errors))
    update_scores()
    return _(
        "Assessment: a scheme, %(rated)s ratings, inspection scores of %(departments)s departments."
    ) % {
        "rated": rated,
        "departments": len(departments),
    }
