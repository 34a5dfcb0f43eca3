"""Two actions of the assessment that the pages call.

- `create_scheme_version`: a new version of a district's scheme from a month on, validated
  with the model's own `full_clean` while holding the scoring lock (so a period cannot be
  closed between the check and the insert); then the months it covers are rescored.
- `appeal_with_photos`: `actions.file_appeal` with new evidence photos, stored as the
  case's attachments through the case actions' photo checks in the same transaction as
  the appeal, so a refused appeal leaves no photo behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from whistle.assessment.actions import AssessmentError, file_appeal
from whistle.assessment.engine import SchemeBook, lock_scoring, refresh_cases, store_results
from whistle.assessment.models import Appeal, DepartmentResult, Scheme, SchemeComponent
from whistle.assessment.periods import Period
from whistle.cases.actions import PhotoBatch, atomic, moment
from whistle.cases.models import Attachment, Summons
from whistle.organisation.models import Jurisdiction, Role, RoleAssignment

BEIJING = ZoneInfo("Asia/Shanghai")


def may_edit_schemes(person: Any, district: Jurisdiction) -> bool:
    if getattr(person, "is_superuser", False):
        return True
    return RoleAssignment.objects.filter(
        person=person, role=Role.DISTRICT_ASSESSOR, jurisdiction=district
    ).exists()


def create_scheme_version(
    person: Any,
    district: Jurisdiction,
    values: dict[str, Any],
    components: Iterable[dict[str, Any]] = (),
) -> Scheme:
    """A new scheme of the district from `values["valid_from"]` (a month's first day) on,
    with its other score components (code, name, weight). Raises ValidationError (the
    model's messages) or AssessmentError; writes nothing then."""
    if not may_edit_schemes(person, district):
        raise AssessmentError(_("Only the district's assessors may change the scheme"))
    components = list(components)
    with transaction.atomic():
        lock_scoring()
        valid_from: date = values["valid_from"]
        if Scheme.objects.filter(district=district, valid_from=valid_from).exists():
            raise ValidationError(
                _(
                    "A version of the scheme already starts in %(month)s; choose another "
                    "month, or correct that version in the administration while no closed "
                    "period uses it."
                )
                % {"month": f"{valid_from:%Y-%m}"}
            )
        scheme = Scheme(district=district, **values)
        scheme.full_clean()
        scheme.save()
        codes: set[str] = set()
        for item in components:
            component = SchemeComponent(scheme=scheme, **item)
            if component.code in codes:
                raise ValidationError(
                    _("The component code %(code)s is used twice") % {"code": component.code}
                )
            codes.add(component.code)
            component.full_clean()
            component.save()
        scheme.check_shares(str(item["weight"]) for item in components)
        rescore_from(district, valid_from)
    return scheme


def rescore_from(district: Jurisdiction, first_month: date) -> None:
    """Rescore the records summoned from the scheme's first month on, and the scores of the
    periods that reach into those months (a quarter or year is scored month by month under
    each month's scheme; some periods have component scores only)."""
    start = datetime(first_month.year, first_month.month, 1, tzinfo=BEIJING)
    case_ids = (
        Summons.objects.filter(department__district=district, summoned_at__gte=start)
        .values_list("case_id", flat=True)
        .distinct()
    )
    book = SchemeBook()
    refresh_cases(list(case_ids), book, every_department=True)
    keys = (
        DepartmentResult.objects.filter(district=district, frozen=False)
        .values_list("period", flat=True)
        .distinct()
    )
    later = sorted(p for p in map(Period.parse, keys) if p.last_month >= first_month)
    store_results(district.pk, later, book)


def appeal_with_photos(
    person: Any,
    summons: Summons,
    part: str,
    requested: dict[str, Any],
    reason: str,
    evidence: str = "",
    files: Iterable[Attachment] = (),
    photos: Iterable[bytes] = (),
    now: datetime | None = None,
) -> Appeal:
    """File the appeal with the chosen photos of the case and newly uploaded ones.

    Photos are checked (format, size, pixels) before anything is written; they are stored
    as the case's appeal attachments inside the appeal's transaction, after the scoring
    lock, which is the order `file_appeal` takes its locks in.
    """
    at = moment(now)
    batch = PhotoBatch(list(photos), field="photos")
    with atomic(batch):
        lock_scoring()
        stored = (
            batch.store(
                summons.case, Attachment.Purpose.APPEAL, actor=person, now=at, summons=summons
            )
            if batch
            else []
        )
        return file_appeal(
            person,
            summons,
            part,
            requested,
            reason,
            evidence=evidence,
            attachments=[*files, *stored],
            now=at,
        )
