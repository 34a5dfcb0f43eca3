"""Supervision notices (督办): a department's list, and its answer."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_noop
from ninja import Query, Router, Schema
from pydantic import Field

from whistle.api import schemas as s
from whistle.api.pagination import paginate
from whistle.api.shared import caller, errors, find_notice, notice_out, worked_cases
from whistle.cases import actions
from whistle.cases.models import SupervisionNotice

router = Router(tags=[gettext_noop("supervision notices")])


class NoticeFilters(Schema):
    department: str | None = Field(default=None, max_length=60)
    answered: bool | None = None
    cursor: str | None = Field(default=None, max_length=200)
    limit: int | None = Field(default=None, ge=1, le=500)


@router.get(
    "",
    response={200: s.NoticePage, **errors()},
    operation_id="list_supervision_notices",
    summary=gettext_noop("List supervision notices"),
)
def list_notices(request: HttpRequest, filters: Query[NoticeFilters]) -> dict[str, Any]:
    rows = SupervisionNotice.objects.filter(case__in=worked_cases(caller(request))).select_related(
        "case", "department", "summons"
    )
    if filters.department:
        rows = rows.filter(department__code=filters.department)
    if filters.answered is not None:
        rows = rows.filter(answered_at__isnull=not filters.answered)
    page = paginate(rows, cursor=filters.cursor, limit=filters.limit, time_field="issued_at")
    return {"items": [notice_out(n) for n in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/{uuid}",
    response={200: s.NoticeOut, **errors()},
    operation_id="get_supervision_notice",
    summary=gettext_noop("Read a supervision notice"),
)
def get_notice(request: HttpRequest, uuid: str) -> dict[str, Any]:
    return notice_out(find_notice(caller(request), uuid))


@router.post(
    "/{uuid}/answer",
    response={200: s.NoticeOut, **errors()},
    operation_id="answer_supervision_notice",
    summary=gettext_noop("Answer a supervision notice"),
)
def answer_notice(request: HttpRequest, uuid: str, data: s.AnswerIn) -> dict[str, Any]:
    person = caller(request)
    notice = actions.answer_supervision_notice(
        person, find_notice(person, uuid), answer=data.answer
    )
    return notice_out(find_notice(person, str(notice.uuid)))
