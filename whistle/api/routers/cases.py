"""Cases: the list and one case, reporting, filing, rejecting, merging, solving on the spot,
dispatching, blowing the whistle, finishing, the backlog, escalation, supervision notices,
ratings of the case, and the trail with its hashes."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja import Path, Query, Router, Schema, Status
from pydantic import AwareDatetime, Field

from whistle.api import schemas as s
from whistle.api.auth import FILING_AUTH
from whistle.api.errors import NOT_FOUND, ApiError, not_found
from whistle.api.pagination import paginate
from whistle.api.shared import (
    CASE_LIST_RELATED,
    caller,
    case_answer,
    case_detail,
    case_out,
    cases_of,
    category_by_code,
    department_by_code,
    errors,
    event_out,
    filing,
    find_case,
    followed_case_out,
    new_case_detail,
    notice_out,
    photos,
    sees_trail,
    sent_at,
    summons_out,
    worked_cases,
)
from whistle.cases import actions, report_limits
from whistle.cases.images import CONTENT_TYPE
from whistle.cases.locate import locate
from whistle.cases.models import Case, Summons
from whistle.cases.public_photos import PHOTO_HEADERS, followed_photo
from whistle.cases.public_timeline import timeline as public_timeline
from whistle.organisation.models import Person

router = Router(tags=[gettext_noop("cases")])


class CaseFilters(Schema):
    status: list[str] = Field(default_factory=list)
    # A jurisdiction's code: cases in it (a district, township or community).
    jurisdiction: str | None = Field(default=None, max_length=12)
    department: str | None = Field(default=None, max_length=60)
    category: str | None = Field(default=None, max_length=4)
    reported_after: AwareDatetime | None = None
    reported_before: AwareDatetime | None = None
    cursor: str | None = Field(default=None, max_length=200)
    limit: int | None = Field(default=None, ge=1, le=500)


@router.get(
    "",
    response={200: s.CasePage, **errors()},
    operation_id="list_cases",
    summary=gettext_noop("List cases"),
    description=gettext_noop(
        "The cases the caller may see, newest first. A case the caller sees only as the "
        "resident who reported it is given as its follow page shows it."
    ),
)
def list_cases(request: HttpRequest, filters: Query[CaseFilters]) -> dict[str, Any]:
    person = caller(request)
    rows = cases_of(person).select_related(*CASE_LIST_RELATED)
    if filters.status:
        rows = rows.filter(status__in=filters.status)
    if filters.jurisdiction:
        code = filters.jurisdiction
        rows = rows.filter(
            Q(township__code__startswith=code) | Q(district__code=code) | Q(community__code=code)
        )
    if filters.department:
        rows = rows.filter(
            pk__in=Summons.objects.filter(department__code=filters.department).values("case_id")
        )
    if filters.category:
        rows = rows.filter(
            category__major__code=filters.category[:2], category__code=filters.category[2:]
        )
    if filters.reported_after:
        rows = rows.filter(reported_at__gte=filters.reported_after)
    if filters.reported_before:
        rows = rows.filter(reported_at__lt=filters.reported_before)
    # A case the caller sees only as the resident who reported it is listed as its follow
    # page shows it.
    rows = rows.annotate(worked=Exists(worked_cases(person).filter(pk=OuterRef("pk"))))
    page = paginate(rows, cursor=filters.cursor, limit=filters.limit, time_field="reported_at")
    return {
        "items": [
            case_out(c) if getattr(c, "worked", False) else followed_case_out(c, person)
            for c in page.items
        ],
        "next_cursor": page.next_cursor,
    }


@router.post(
    "",
    response={201: s.CaseAnswer, **errors()},
    operation_id="report_case",
    auth=FILING_AUTH,
    summary=gettext_noop("Report a problem"),
    description=gettext_noop(
        "A steward, chief, township or district office reports a problem at a place."
    ),
)
def report_case(request: HttpRequest, data: s.ReportIn) -> Status[dict[str, Any]]:
    def report() -> Status[dict[str, Any]]:
        person = caller(request)
        category = None
        if data.category is not None:
            category = category_by_code(
                locate(data.lon, data.lat).district, data.category, data.category_kind
            )
        case = actions.report_case(
            person,
            description=data.description,
            lon=data.lon,
            lat=data.lat,
            accuracy_m=data.accuracy_m,
            address=data.address,
            category=category,
            source=data.source,
            photos=photos(data.photos),
            reporter_name=data.reporter_name,
            reporter_phone=data.reporter_phone,
            external_id=data.external_id,
            happened_at=data.happened_at,
            sent_at=sent_at(request),
        )
        return Status(201, _new_case(person, case))

    return filing(request, report)


def _new_case(person: Person, case: Case) -> dict[str, Any]:
    """The case just reported, as reading it gives it to the caller: whole to those who see
    it on its page, as its follow page shows it to one who sees it only as its reporter."""
    if sees_trail(person, case):
        return new_case_detail(person, case)
    return followed_case_out(case, person)


@router.post(
    "/resident-reports",
    response={201: s.ResidentReportOut, **errors()},
    operation_id="report_resident_case",
    summary=gettext_noop("Report a problem as a resident"),
    description=gettext_noop(
        "A resident with an account reports a problem; the answer carries the key that lets "
        "them rate the result, once. A report kept on the phone without signal carries "
        "`happened_at` (and `X-Whistle-Sent-At`), as a steward's does. The reports under one "
        "phone number (or, without one, one account) are limited as on the report form: over "
        "the limit, 429 `report_limit_reached` with `Retry-After`, a refusal of this report."
    ),
)
def report_resident_case(request: HttpRequest, data: s.ResidentReportIn) -> Status[dict[str, Any]]:
    person = caller(request)
    limit = report_limits.reports_by_phone()
    counted = report_limits.resident_key(data.phone, person)
    if counted and limit.exceeded(counted):
        raise ApiError(
            429,
            "report_limit_reached",
            report_limits.refusal(counted),
            field=None if counted.startswith(report_limits.ACCOUNT) else "phone",
            headers={"Retry_After": str(limit.retry_after())},
        )
    report = actions.report_resident_case(
        name=data.name,
        phone=data.phone,
        description=data.description,
        lon=data.lon,
        lat=data.lat,
        accuracy_m=data.accuracy_m,
        address=data.address,
        photos=photos(data.photos),
        reporter=person,
        happened_at=data.happened_at,
        sent_at=sent_at(request),
    )
    if counted:
        limit.hit(counted)
    return Status(201, {"case": _new_case(person, report.case), "rating_key": report.rating_key})


@router.get(
    "/{reference}",
    response={200: s.CaseAnswer, **errors()},
    operation_id="get_case",
    summary=gettext_noop("Read a case"),
    description=gettext_noop(
        "The case as its page shows it to those who see it there. The resident who reported "
        "it reads it as its follow page shows it: status, category, place, times, the public "
        "timeline, the result's photos, whether it takes a rating, and what they reported "
        "(the description and the addresses of its photos)."
    ),
)
def get_case(request: HttpRequest, reference: str) -> dict[str, Any]:
    person = caller(request)
    return case_answer(person, find_case(person, reference))


@router.get(
    "/{reference}/trail",
    response={200: s.TrailOut, **errors()},
    operation_id="get_trail",
    summary=gettext_noop("Read a case's trail"),
    description=gettext_noop(
        "The case's trail: every event with the hash that chains it to the one before "
        "(docs/cases.md §5), from the event after `after` on. For those who see the case on "
        "its page; a resident who reported it reads its public timeline instead (403)."
    ),
)
def get_trail(
    request: HttpRequest,
    reference: str,
    after: int = Query(0, ge=0, le=10**9),
    limit: int = Query(200, ge=1, le=1000),
) -> dict[str, Any]:
    person = caller(request)
    case = find_case(person, reference)
    if not sees_trail(person, case):
        # The reporter follows the case as on the follow page, never through its trail.
        raise ApiError(
            403,
            "permission_refused",
            _(
                "The trail of a case is for those who work on it. Follow your report at "
                "/api/v1/cases/%(reference)s/timeline."
            )
            % {"reference": case.reference},
        )
    events = list(
        case.events.filter(seq__gt=after)
        .select_related("actor", "summons")
        .order_by("seq")[: limit + 1]
    )
    more = len(events) > limit
    events = events[:limit]
    return {
        "case": case.reference,
        "uuid": case.uuid,
        "length": case.trail_length,
        "head": case.trail_head,
        "events": [event_out(person, case, e) for e in events],
        "next_after": events[-1].seq if more else None,
    }


@router.get(
    "/{reference}/timeline",
    response={200: s.PublicTimelineOut, **errors()},
    operation_id="get_public_timeline",
    summary=gettext_noop("Follow a case"),
    description=gettext_noop(
        "What a resident sees of the case on its follow page: its status and each step in "
        "plain words, without names, notes, positions or phone numbers. For the resident who "
        "reported it and for everyone who may see the case."
    ),
)
def get_public_timeline(request: HttpRequest, reference: str) -> dict[str, Any]:
    case = find_case(caller(request), reference)
    return {
        "case": case.reference,
        "status": case.status,
        "entries": [{"at": e.at, "text": e.text} for e in public_timeline(case)],
    }


@router.get(
    "/{reference}/photos/{sha256}",
    response={200: None, **errors()},
    operation_id="get_followed_photo",
    summary=gettext_noop("Fetch a photo of a followed case"),
    description=gettext_noop(
        "A photo the case's follow page shows the caller, re-encoded without EXIF: one of "
        "the result, or one sent with the report, which only the resident who reported the "
        "case with their account fetches (until the case's personal data is erased). Not "
        "found for anyone else."
    ),
    openapi_extra={
        "responses": {
            200: {
                "description": "OK",
                "content": {CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def get_followed_photo(
    request: HttpRequest, reference: str, sha256: str = Path(..., pattern="^[0-9a-f]{64}$")
) -> HttpResponse:
    person = caller(request)
    case = find_case(person, reference)
    shown = followed_photo(case.reference, person, sha256=sha256)
    if shown is None:
        raise not_found()
    content, content_type = shown
    return HttpResponse(content, content_type=content_type, headers=PHOTO_HEADERS)


def _detail(request: HttpRequest, case: Case) -> dict[str, Any]:
    return case_detail(caller(request), case)


@router.post(
    "/{reference}/file",
    response={200: s.CaseDetailOut, **errors()},
    operation_id="file_case",
    summary=gettext_noop("File a case"),
)
def file_case(request: HttpRequest, reference: str, data: s.FileIn) -> dict[str, Any]:
    person = caller(request)
    case = find_case(person, reference)
    category = (
        category_by_code(case.district, data.category, data.category_kind)
        if data.category is not None
        else None
    )
    return _detail(request, actions.file_case(person, case, category=category, note=data.note))


@router.post(
    "/{reference}/reject",
    response={200: s.CaseDetailOut, **errors()},
    operation_id="reject_case",
    summary=gettext_noop("Reject a report"),
)
def reject_case(request: HttpRequest, reference: str, data: s.ReasonIn) -> dict[str, Any]:
    person = caller(request)
    case = actions.reject_case(person, find_case(person, reference), reason=data.reason)
    return _detail(request, case)


@router.post(
    "/{reference}/merge",
    response={200: s.CaseDetailOut, **errors()},
    operation_id="merge_case",
    summary=gettext_noop("Merge a duplicate into another case"),
)
def merge_case(request: HttpRequest, reference: str, data: s.MergeIn) -> dict[str, Any]:
    person = caller(request)
    case = find_case(person, reference)
    into = worked_cases(person).filter(reference=data.into.strip().upper()).first()
    if into is None:
        raise ApiError(422, "invalid", NOT_FOUND, field="into")
    return _detail(request, actions.merge_case(person, case, into=into, note=data.note))


@router.post(
    "/{reference}/solve-on-spot",
    response={200: s.CaseDetailOut, **errors()},
    operation_id="solve_on_spot",
    summary=gettext_noop("Solve on the spot"),
)
def solve_on_spot(request: HttpRequest, reference: str, data: s.SolveIn) -> dict[str, Any]:
    person = caller(request)
    case = actions.solve_on_spot(
        person, find_case(person, reference), note=data.note, photos=photos(data.photos)
    )
    return _detail(request, case)


@router.post(
    "/{reference}/dispatch",
    response={201: s.SummonsOut, **errors()},
    operation_id="dispatch_case",
    summary=gettext_noop("Dispatch to one department"),
    description=gettext_noop("The routine channel: one department, no arrival on site."),
)
def dispatch_case(
    request: HttpRequest, reference: str, data: s.DispatchIn
) -> Status[dict[str, Any]]:
    person = caller(request)
    case = find_case(person, reference)
    summons = actions.dispatch_case(
        person, case, department=department_by_code(data.department), note=data.note
    )
    return Status(201, summons_out(summons))


@router.post(
    "/{reference}/whistles",
    response={201: s.WhistleOut, **errors()},
    operation_id="blow_whistle",
    summary=gettext_noop("Blow the whistle"),
)
def blow_whistle(request: HttpRequest, reference: str, data: s.WhistleIn) -> Status[dict[str, Any]]:
    person = caller(request)
    case = find_case(person, reference)
    departments = [
        department_by_code(code, f"departments.{n}") for n, code in enumerate(data.departments)
    ]
    whistle = actions.blow_whistle(
        person,
        case,
        kind=data.kind,
        departments=departments,
        meeting_point=data.meeting_point,
        meeting_lon=data.meeting_lon,
        meeting_lat=data.meeting_lat,
        note=data.note,
    )
    detail = case_detail(person, case)
    return Status(201, next(w for w in detail["whistles"] if w["uuid"] == whistle.uuid))


@router.post(
    "/{reference}/mark-handled",
    response={200: s.CaseDetailOut, **errors()},
    operation_id="mark_handled",
    summary=gettext_noop("Mark the problem handled"),
)
def mark_handled(request: HttpRequest, reference: str, data: s.NoteIn) -> dict[str, Any]:
    person = caller(request)
    return _detail(
        request, actions.mark_handled(person, find_case(person, reference), note=data.note)
    )


@router.post(
    "/{reference}/check-passed",
    response={200: s.CaseDetailOut, **errors()},
    operation_id="check_passed",
    summary=gettext_noop("Confirm the check on site"),
)
def check_passed(request: HttpRequest, reference: str, data: s.CheckPassedIn) -> dict[str, Any]:
    person = caller(request)
    case = actions.check_passed(
        person,
        find_case(person, reference),
        note=data.note,
        lon=data.lon,
        lat=data.lat,
        photos=photos(data.photos),
    )
    return _detail(request, case)


@router.post(
    "/{reference}/close",
    response={200: s.CaseDetailOut, **errors()},
    operation_id="close_case",
    summary=gettext_noop("Close a case"),
)
def close_case(request: HttpRequest, reference: str, data: s.NoteIn) -> dict[str, Any]:
    person = caller(request)
    return _detail(
        request, actions.close_case(person, find_case(person, reference), note=data.note)
    )


@router.post(
    "/{reference}/rework",
    response={200: s.CaseDetailOut, **errors()},
    operation_id="send_back_for_rework",
    summary=gettext_noop("Send back for rework"),
)
def send_back_for_rework(request: HttpRequest, reference: str, data: s.ReasonIn) -> dict[str, Any]:
    person = caller(request)
    case = actions.send_back_for_rework(person, find_case(person, reference), reason=data.reason)
    return _detail(request, case)


@router.post(
    "/{reference}/evaluation",
    response={200: s.CaseDetailOut, **errors()},
    operation_id="evaluate_case",
    summary=gettext_noop("Rate the result"),
)
def evaluate_case(request: HttpRequest, reference: str, data: s.EvaluateIn) -> dict[str, Any]:
    person = caller(request)
    case = actions.evaluate_case(
        person, find_case(person, reference), rating=data.rating, note=data.note
    )
    return _detail(request, case)


@router.post(
    "/{reference}/callback",
    response={200: s.CaseDetailOut, **errors()},
    operation_id="record_resident_callback",
    summary=gettext_noop("Record the call-back to the resident"),
)
def record_resident_callback(
    request: HttpRequest, reference: str, data: s.CallbackIn
) -> dict[str, Any]:
    person = caller(request)
    case = actions.record_resident_callback(
        person, find_case(person, reference), satisfied=data.satisfied, note=data.note
    )
    return _detail(request, case)


@router.post(
    "/{reference}/resident-rating",
    response={200: s.CaseAnswer, **errors()},
    operation_id="record_resident_rating",
    summary=gettext_noop("Record the resident's rating"),
    description=gettext_noop(
        "The resident who reported the case, signed in with the account they reported with, "
        "rates the result."
    ),
)
def record_resident_rating(
    request: HttpRequest, reference: str, data: s.ResidentRatingIn
) -> dict[str, Any]:
    person = caller(request)
    case = actions.record_resident_rating(
        find_case(person, reference), rating=data.rating, comment=data.comment, person=person
    )
    return case_answer(person, case)


@router.post(
    "/{reference}/backlog",
    response={200: s.CaseDetailOut, **errors()},
    operation_id="put_on_backlog",
    summary=gettext_noop("Put on the open backlog"),
)
def put_on_backlog(request: HttpRequest, reference: str, data: s.BacklogIn) -> dict[str, Any]:
    person = caller(request)
    case = actions.put_on_backlog(
        person, find_case(person, reference), reason=data.reason, review_on=data.review_on
    )
    return _detail(request, case)


@router.post(
    "/{reference}/resume",
    response={200: s.CaseDetailOut, **errors()},
    operation_id="resume_from_backlog",
    summary=gettext_noop("Resume from the backlog"),
)
def resume_from_backlog(request: HttpRequest, reference: str, data: s.NoteIn) -> dict[str, Any]:
    person = caller(request)
    case = actions.resume_from_backlog(person, find_case(person, reference), note=data.note)
    return _detail(request, case)


@router.post(
    "/{reference}/escalation",
    response={200: s.CaseDetailOut, **errors()},
    operation_id="escalate",
    summary=gettext_noop("Escalate"),
)
def escalate(request: HttpRequest, reference: str, data: s.ReasonIn) -> dict[str, Any]:
    person = caller(request)
    return _detail(
        request, actions.escalate(person, find_case(person, reference), reason=data.reason)
    )


@router.post(
    "/{reference}/supervision-notices",
    response={201: s.NoticeOut, **errors()},
    operation_id="issue_supervision_notice",
    summary=gettext_noop("Issue a supervision notice"),
)
def issue_supervision_notice(
    request: HttpRequest, reference: str, data: s.NoticeIn
) -> Status[dict[str, Any]]:
    person = caller(request)
    notice = actions.issue_supervision_notice(
        person,
        find_case(person, reference),
        department=department_by_code(data.department),
        text=data.text,
        due_at=data.due_at,
    )
    notice = type(notice).objects.select_related("case", "department", "summons").get(pk=notice.pk)
    return Status(201, notice_out(notice))
