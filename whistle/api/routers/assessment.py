"""The assessment (一次一考核): records of each summons (read), the township's rating,
appeals and their rulings, scores by period (read). Records are read where their case may
be seen: the trail the case page shows holds the same ratings and rulings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from ninja import Query, Router, Schema, Status
from pydantic import Field

from whistle.api import schemas as s
from whistle.api.errors import ApiError, not_found
from whistle.api.pagination import paginate
from whistle.api.shared import (
    caller,
    department_ref,
    errors,
    find_summons,
    parse_uuid,
    worked_cases,
)
from whistle.assessment import actions
from whistle.assessment.models import Appeal, DepartmentResult, SummonsAssessment
from whistle.assessment.periods import Period
from whistle.organisation.models import Jurisdiction, Person
from whistle.organisation.scoping import area_of, visible_jurisdictions

router = Router(tags=[gettext_noop("assessment")])


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _record_out(record: SummonsAssessment) -> dict[str, Any]:
    return {
        "summons": record.summons.uuid,
        "case": record.case.reference,
        "department": department_ref(record.department),
        "township": record.township.code if record.township_id else None,
        "month": record.month,
        "settled": record.settled,
        "settled_at": record.settled_at,
        "came": record.came,
        "late_minutes": record.late_minutes,
        "acted": record.acted,
        "rework_count": record.rework_count,
        "rating": record.rating,
        "rating_comment": record.rating_comment,
        "resident_satisfied": record.resident_satisfied,
        "excused": record.excused,
        "provisional": record.provisional,
        "came_score": _text(record.came_score),
        "acted_score": _text(record.acted_score),
        "quality_score": _text(record.quality_score),
        "total": _text(record.total),
        "corrected": record.corrected,
    }


RECORD_RELATED = ("summons", "case", "department", "township")


def _records(person: Person) -> Any:
    return SummonsAssessment.objects.filter(case__in=worked_cases(person)).select_related(
        *RECORD_RELATED
    )


class RecordFilters(Schema):
    department: str | None = Field(default=None, max_length=60)
    township: str | None = Field(default=None, max_length=12)
    month_from: date | None = None
    month_to: date | None = None
    cursor: str | None = Field(default=None, max_length=200)
    limit: int | None = Field(default=None, ge=1, le=500)


@router.get(
    "/records",
    response={200: s.RecordPage, **errors()},
    operation_id="list_records",
    summary=gettext_noop("List assessment records"),
    description=gettext_noop(
        "Assessment records (came, acted, how well) of the summonses the caller may see, "
        "newest summons first."
    ),
)
def list_records(request: HttpRequest, filters: Query[RecordFilters]) -> dict[str, Any]:
    rows = _records(caller(request))
    if filters.department:
        rows = rows.filter(department__code=filters.department)
    if filters.township:
        rows = rows.filter(township__code=filters.township)
    if filters.month_from:
        rows = rows.filter(month__gte=filters.month_from.replace(day=1))
    if filters.month_to:
        rows = rows.filter(month__lte=filters.month_to)
    page = paginate(
        rows,
        cursor=filters.cursor,
        limit=filters.limit,
        time_field="summons__summoned_at",
        id_field="summons__uuid",
        time_of=lambda r: r.summons.summoned_at,
        id_of=lambda r: r.summons.uuid,
    )
    return {"items": [_record_out(r) for r in page.items], "next_cursor": page.next_cursor}


def _record(person: Person, summons_id: str) -> SummonsAssessment:
    record = _records(person).filter(summons__uuid=parse_uuid(summons_id)).first()
    if record is None:
        raise not_found()
    return record


@router.get(
    "/records/{summons}",
    response={200: s.RecordOut, **errors()},
    operation_id="get_record",
    summary=gettext_noop("Read an assessment record"),
)
def get_record(request: HttpRequest, summons: str) -> dict[str, Any]:
    return _record_out(_record(caller(request), summons))


@router.post(
    "/records/{summons}/rating",
    response={200: s.RecordOut, **errors()},
    operation_id="rate_summons",
    summary=gettext_noop("Rate a department's work"),
    description=gettext_noop(
        "The township rates how well the department did (1–5), once the case is closed."
    ),
)
def rate_summons(request: HttpRequest, summons: str, data: s.RateIn) -> dict[str, Any]:
    person = caller(request)
    actions.rate_summons(person, find_summons(person, summons), data.rating, data.comment)
    return _record_out(_record(person, summons))


def _appeal_out(appeal: Appeal, stuck: set[int]) -> dict[str, Any]:
    """An appeal as the API gives it; `stuck` holds the appeals of the answer that nobody may
    rule on (`actions.stuck_appeal_ids`, read once for a page)."""
    return {
        "uuid": appeal.uuid,
        "summons": appeal.summons.uuid,
        "case": appeal.summons.case.reference,
        "department": department_ref(appeal.department),
        "part": appeal.part,
        "requested": appeal.requested,
        "reason": appeal.reason,
        "evidence": appeal.evidence,
        "filed_at": appeal.filed_at,
        "status": appeal.status,
        "ruled_at": appeal.ruled_at,
        "ruling_note": appeal.ruling_note,
        "correction": appeal.correction,
        "awaiting_ruler": appeal.pk in stuck,
    }


def _one_appeal_out(appeal: Appeal) -> dict[str, Any]:
    return _appeal_out(appeal, actions.stuck_appeal_ids([appeal]))


def _appeals(person: Person) -> Any:
    return Appeal.objects.filter(summons__case__in=worked_cases(person)).select_related(
        "summons__case", "department"
    )


@router.post(
    "/records/{summons}/appeals",
    response={201: s.AppealOut, **errors()},
    operation_id="file_appeal",
    summary=gettext_noop("Appeal a record"),
    description=gettext_noop(
        "The department appeals (申诉) its record within the scheme's working days."
    ),
)
def file_appeal(request: HttpRequest, summons: str, data: s.AppealIn) -> Status[dict[str, Any]]:
    person = caller(request)
    appeal = actions.file_appeal(
        person,
        find_summons(person, summons),
        data.part,
        data.requested,
        data.reason,
        evidence=data.evidence,
    )
    return Status(201, _one_appeal_out(_appeals(person).get(pk=appeal.pk)))


class AppealFilters(Schema):
    status: str | None = Field(default=None, max_length=16)
    department: str | None = Field(default=None, max_length=60)
    cursor: str | None = Field(default=None, max_length=200)
    limit: int | None = Field(default=None, ge=1, le=500)


@router.get(
    "/appeals",
    response={200: s.AppealPage, **errors()},
    operation_id="list_appeals",
    summary=gettext_noop("List appeals"),
)
def list_appeals(request: HttpRequest, filters: Query[AppealFilters]) -> dict[str, Any]:
    rows = _appeals(caller(request))
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.department:
        rows = rows.filter(department__code=filters.department)
    page = paginate(rows, cursor=filters.cursor, limit=filters.limit, time_field="filed_at")
    stuck = actions.stuck_appeal_ids(page.items)
    return {"items": [_appeal_out(a, stuck) for a in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/appeals/{uuid}/ruling",
    response={200: s.AppealOut, **errors()},
    operation_id="rule_on_appeal",
    summary=gettext_noop("Rule on an appeal"),
    description=gettext_noop(
        "The district chiefs' office upholds (with the correction asked for, or another) or "
        "rejects an appeal."
    ),
)
def rule_on_appeal(request: HttpRequest, uuid: str, data: s.AppealRulingIn) -> dict[str, Any]:
    person = caller(request)
    appeal = _appeals(person).filter(uuid=parse_uuid(uuid)).first()
    if appeal is None:
        raise not_found()
    actions.rule_on_appeal(person, appeal, data.upheld, data.note, correction=data.correction)
    return _one_appeal_out(_appeals(person).get(pk=appeal.pk))


class ScoreFilters(Schema):
    period: str = Field(max_length=8, description=gettext_noop("2026, 2026-Q3 or 2026-07"))
    district: str = Field(max_length=6)


@router.get(
    "/scores",
    response={200: list[s.ScoreOut], **errors()},
    operation_id="list_scores",
    summary=gettext_noop("List departments' scores"),
    description=gettext_noop(
        "Departments' scores and ranks for a month, quarter or year: the whole district for "
        "the district's people, a department's own rows for its people."
    ),
)
def list_scores(request: HttpRequest, filters: Query[ScoreFilters]) -> list[dict[str, Any]]:
    person = caller(request)
    try:
        period = Period.parse(filters.period)
    except DjangoValidationError:
        raise ApiError(
            422, "invalid", _("A period looks like 2026, 2026-Q3 or 2026-07."), field="period"
        ) from None
    district = Jurisdiction.objects.filter(
        code=filters.district, level=Jurisdiction.Level.DISTRICT
    ).first()
    if district is None:
        raise not_found()
    rows = DepartmentResult.objects.filter(district=district, period=period.key).select_related(
        "department", "district"
    )
    if not visible_jurisdictions(person).filter(pk=district.pk).exists():
        own = area_of(person).department_ids
        if not own or not district.departments.filter(pk__in=sorted(own)).exists():
            raise not_found()
        rows = rows.filter(department_id__in=sorted(own))
    return [
        {
            "district": r.district.code,
            "department": department_ref(r.department),
            "period": r.period,
            "records": r.records,
            "township_score": _text(r.township_score),
            "components": r.components,
            "total": _text(r.total),
            "rank": r.rank,
            "complete": r.complete,
            "frozen": r.frozen,
        }
        for r in rows.order_by(F("rank").asc(nulls_last=True), "department__code")
    ]
