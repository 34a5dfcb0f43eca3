"""The demo's assessment: a scheme, the township's ratings and the district's inspections, so
that a newcomer sees rankings on first start.

Runs after the case history (whistle.demo.builders.BUILDERS). Everything goes through the
assessment's own functions: the scheme through `create_scheme_version` (which refuses
shares that do not add up), ratings through `rate_summons`, the department head's appeal
through `file_appeal` and its ruling through `rule_on_appeal`, inspection scores through the
component import, scores through `update_scores`.
"""

from __future__ import annotations

import csv
import random
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from whistle.assessment.actions import (
    AssessmentError,
    appeal_deadline,
    file_appeal,
    rate_summons,
    rule_on_appeal,
)
from whistle.assessment.components import import_component_scores
from whistle.assessment.editing import create_scheme_version
from whistle.assessment.engine import update_scores
from whistle.assessment.models import Appeal, Scheme, SchemeComponent, SummonsAssessment
from whistle.cases.models import Case, Summons
from whistle.demo.history import done_at
from whistle.organisation.models import Person, Role

BEIJING = ZoneInfo("Asia/Shanghai")
# The demo scheme's name and its inspection component's, stored in Chinese with their
# English names beside them.
SCHEME_NAME = gettext_noop("Annual assessment (township evaluation one third)")
INSPECTION = "inspection"
INSPECTION_NAME = gettext_noop("District inspection")
COMMENTS = {
    5: "到场迅速，处置彻底，群众满意",
    4: "按时到场，处置到位",
    3: "处置基本到位，反馈不够及时",
}
# A department the deadline sweep found late is rated for it, never praised for its speed.
LATE_ARRIVAL = (3, "超时到场，经催办后处置到位")
LATE_RESULT = (3, "已处置，但超出处置时限才反馈结果")
# Nor praised for satisfying residents that the call-back found unsatisfied.
UNSATISFIED = (3, "已按要求处置，但回访居民不满意，问题反复")


def _rating(summons: Summons, rng: random.Random) -> tuple[int, str]:
    """The township assessor's rating of a summons (its case at hand) and its comment, as
    the record shows."""
    if summons.acknowledge_overdue_at is not None or summons.arrive_overdue_at is not None:
        return LATE_ARRIVAL
    if summons.resolve_overdue_at is not None:
        return LATE_RESULT
    if summons.case.resident_satisfied is False:
        return UNSATISFIED
    rating = rng.choice((3, 4, 4, 5, 5))
    return rating, COMMENTS[rating]


def _months(first: date, last: date) -> list[date]:
    months = []
    month = first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _rating_moment(case: Case) -> datetime:
    """Two hours after the case closed, or an hour after the last event of its trail (an
    evaluation, a call-back, an earlier rating) when that is later; never after the clock."""
    assert case.closed_at is not None
    last = case.events.order_by("-seq").values_list("at", flat=True).first()
    moment = case.closed_at + timedelta(hours=2)
    if last is not None:
        moment = max(moment, last + timedelta(hours=1))
    return min(moment, timezone.now())


def _after_the_trail(case: Case, moment: datetime) -> datetime:
    """The moment, or an hour after the last event of the case's trail when that is later;
    never after the clock."""
    last = case.events.order_by("-seq").values_list("at", flat=True).first()
    if last is not None:
        moment = max(moment, last + timedelta(hours=1))
    return min(moment, timezone.now())


def _appeal(city: Any) -> int:
    """The demo's department head appeals the rework counted against its team on the latest
    such record, and the district chiefs' office rejects the appeal, so that the head finds
    an appeal and its ruling on the records page and in the inbox. The number of appeals."""
    head = city.logins["department-head"]
    office = city.logins["chiefs-office"]
    team = head.roles.filter(role=Role.DEPARTMENT_HEAD).values_list("department", flat=True)
    record = (
        SummonsAssessment.objects.filter(department__in=team, settled=True, rework_count__gt=0)
        .select_related("summons", "case", "scheme", "district")
        .order_by("-settled_at", "-pk")
        .first()
    )
    if record is None or record.settled_at is None:
        return 0
    filed_at = _after_the_trail(record.case, record.settled_at + timedelta(hours=3))
    if filed_at > appeal_deadline(record):
        return 0
    appeal = done_at(
        filed_at,
        file_appeal,
        head,
        record.summons,
        Appeal.Part.REWORK,
        {"rework_count": 0},
        "游商是处置后换了时段重新出摊，属新发情况，本队首次处置已到位，请不计返工。",
    )
    # Ruled the same afternoon: the office's record of the rework check is at hand.
    done_at(
        _after_the_trail(record.case, filed_at + timedelta(hours=2)),
        rule_on_appeal,
        office,
        appeal,
        False,
        "核查时游商仍在原处占道，属首次处置未巩固到位，返工计入无误。",
    )
    return 1


def _names(message: str) -> tuple[str, str]:
    """A name of the demo in Chinese and in English, whatever language the command runs in."""
    with translation.override("zh-hans"):
        chinese = _(message)
    with translation.override("en"):
        english = _(message)
    return chinese, english


def _name_in_english(city: Any) -> int:
    """Give the demo scheme and its inspection component their English names where an
    older demo database made them without: the rows still named as the demo names them
    (in either language) and without an English name. The number of rows named."""
    scheme_names = _names(SCHEME_NAME)
    inspection_names = _names(INSPECTION_NAME)
    schemes = Scheme.objects.filter(
        district=city.district, name__in=scheme_names, name_en=""
    ).update(name_en=scheme_names[1])
    components = SchemeComponent.objects.filter(
        scheme__district=city.district, code=INSPECTION, name__in=inspection_names, name_en=""
    ).update(name_en=inspection_names[1])
    city.updated[Scheme._meta.label] += schemes
    city.updated[SchemeComponent._meta.label] += components
    return schemes + components


def build(city: Any) -> str:
    district = city.district
    if Scheme.objects.filter(district=district).exists():
        if _name_in_english(city):
            return _("Assessment: a scheme is there already; its English names filled in.")
        return _("Assessment: a scheme is there already, left as it is.")
    cases = Case.objects.filter(district=district)
    first = cases.order_by("reported_at").values_list("reported_at", flat=True).first()
    if first is None:
        return _("Assessment: no cases to assess.")
    start = first.astimezone(BEIJING).date().replace(day=1)
    # An annual scheme, as a district sets it: in force from the first of January, so that
    # the year's months before the demo's history are scored (with nothing to score), not
    # reported as months without a scheme.
    year_start = start.replace(month=1)
    district_assessor = (
        Person.objects.filter(roles__role=Role.DISTRICT_ASSESSOR, roles__jurisdiction=district)
        .order_by("pk")
        .first()
    )
    scheme_name, scheme_name_en = _names(SCHEME_NAME)
    inspection_name, inspection_name_en = _names(INSPECTION_NAME)
    create_scheme_version(
        district_assessor,
        district,
        {"name": scheme_name, "name_en": scheme_name_en, "valid_from": year_start},
        [
            {
                "code": INSPECTION,
                "name": inspection_name,
                "name_en": inspection_name_en,
                "weight": "2/3",
            }
        ],
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
        rating, comment = _rating(summons, rng)
        try:
            rate_summons(assessor, summons, rating, comment, now=_rating_moment(summons.case))
        except AssessmentError:
            continue  # not assessable (e.g. released before it acted): nothing to rate
        rated += 1
    appeals = _appeal(city)

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
                    writer.writerow([code, INSPECTION, f"{month:%Y-%m}", rng.randint(78, 96)])
        report = import_component_scores(path, district)
    if report.errors:
        raise AssessmentError("; ".join(str(e) for e in report.errors))
    update_scores()
    return _(
        "Assessment: a scheme, %(rated)s ratings, %(appeals)s appeals ruled, inspection scores "
        "of %(departments)s departments."
    ) % {
        "rated": rated,
        "appeals": appeals,
        "departments": len(departments),
    }
