"""The caller's in-app notifications (the inbox): list, and mark read."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_noop
from ninja import Query, Router, Schema
from pydantic import Field

from whistle.api import schemas as s
from whistle.api.pagination import paginate
from whistle.api.shared import caller, errors
from whistle.notifications import texts
from whistle.notifications.models import Notification
from whistle.notifications.outbox import inbox, mark_read, unread_count

router = Router(tags=[gettext_noop("notifications")])


def _out(row: Notification) -> dict[str, Any]:
    payload = row.payload if isinstance(row.payload, dict) else {}
    case = payload.get("case")
    return {
        "uuid": row.uuid,
        "kind": row.kind,
        # In the caller's language where the message keeps its words.
        "subject": texts.subject_of(payload, row.subject),
        "body": texts.body_of(payload, row.body),
        "case": case if isinstance(case, str) else None,
        "created_at": row.created_at,
        # When the caller read it: the annotation `inbox` gives each row.
        "read_at": getattr(row, "seen_at", row.read_at),
    }


class InboxFilters(Schema):
    unread: bool = False
    cursor: str | None = Field(default=None, max_length=200)
    limit: int | None = Field(default=None, ge=1, le=500)


@router.get(
    "",
    response={200: s.NotificationPage, **errors()},
    operation_id="list_notifications",
    summary=gettext_noop("List notifications"),
)
def list_notifications(request: HttpRequest, filters: Query[InboxFilters]) -> dict[str, Any]:
    person = caller(request)
    page = paginate(
        inbox(person, unread_only=filters.unread),
        cursor=filters.cursor,
        limit=filters.limit,
        time_field="created_at",
    )
    return {
        "items": [_out(n) for n in page.items],
        "next_cursor": page.next_cursor,
        "unread": unread_count(person),
    }


@router.post(
    "/mark-read",
    response={200: s.MarkedOut, **errors()},
    operation_id="mark_notifications_read",
    summary=gettext_noop("Mark notifications read"),
    description=gettext_noop(
        "Mark these notifications read (all unread ones without `ids`); others' are ignored."
    ),
)
def mark_notifications_read(request: HttpRequest, data: s.MarkReadIn) -> dict[str, Any]:
    return {"marked": mark_read(caller(request), data.ids)}
