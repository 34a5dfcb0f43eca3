"""What the 12345 hotline platform is told about its work orders (接诉即办), pushed and pulled.

The township answers each order twice: its reply to the caller (办理结果; after a reply "in
progress", with the by-when, the final reply with the result: 办结反馈) and the call-back
(回访: was the caller reached, is the problem solved, are they satisfied). Both are actions
with their trail events (`whistle.cases.actions.hotline`, `record_resident_callback`); each
also queues the order's **answer** — one JSON document per order, as it stands after the
change — to the webhook endpoints that want the kind ``hotline.answer`` (signed as every
webhook, `whistle.notifications.webhooks`). A platform that asks instead of listening calls
`hotline_answers(district, since)`, which returns the same documents. docs/hotline.md
describes the document field by field.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q

from whistle.cases.models import Case, HotlineOrder
from whistle.notifications.outbox import notify_webhooks
from whistle.organisation.models import Jurisdiction

# The webhook kind of an order's answer.
HOTLINE_ANSWER = "hotline.answer"
# The role written on the trail when the hotline platform hands an order over by itself
# (an import of its export, a service): no person of the township took it.
HOTLINE_PLATFORM_ROLE = "hotline_platform"
# The most answers one call of `hotline_answers` returns.
ANSWERS_MAX = 1000


def order_of(case: Case) -> HotlineOrder | None:
    """The case's hotline order, or None when it did not come as one."""
    try:
        return case.hotline_order
    except ObjectDoesNotExist:
        return None


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def answer_document(order: HotlineOrder, *, answer: str | None = None) -> dict[str, Any]:
    """The order as the hotline platform sees it. `answer` names what just changed
    (``reply``, ``final_reply``, ``callback``); pulled documents have none. No personal
    data: the platform has the caller's, and the township's people stay unnamed."""
    case = order.case
    reply = None
    if order.replied_at is not None:
        reply = {
            "text": order.reply,
            "kind": order.reply_kind,
            "replied_at": _iso(order.replied_at),
            "on_time": order.replied_at <= order.respond_due_at,
            "promised_by": _iso(order.promised_by),
        }
    final_reply = None
    if order.final_replied_at is not None:
        final_reply = {
            "text": order.final_reply,
            "kind": order.final_reply_kind,
            "replied_at": _iso(order.final_replied_at),
            "promise_kept": order.promised_by is None
            or order.final_replied_at <= order.promised_by,
        }
    callback = None
    if order.called_back_at is not None:
        callback = {
            "called_back_at": _iso(order.called_back_at),
            "contacted": order.callback_contacted,
            "resolved": order.callback_resolved,
            "satisfied": order.callback_satisfied,
        }
    return {
        "order_number": order.number,
        "district": order.district.code,
        "township": case.township.code if case.township else None,
        "channel": order.channel,
        "case": case.reference,
        "case_status": case.status,
        "deadline_class": order.deadline_class,
        "received_at": _iso(order.received_at),
        "respond_due_at": _iso(order.respond_due_at),
        "resolve_due_at": _iso(order.resolve_due_at),
        "reply": reply,
        "reply_overdue": order.reply_overdue_at is not None,
        "final_reply": final_reply,
        "promise_overdue": order.promise_overdue_at is not None,
        "callback": callback,
        "answered_at": _iso(order.answered_at),
        "answer": answer,
    }


def queue_answer(order: HotlineOrder, answer: str, seq: int) -> None:
    """Queue the order's answer to the webhooks that want it, in the action's transaction:
    a rolled-back reply sends nothing. `seq` is the trail event's, so each change is sent
    once, however often the delivery is retried."""
    notify_webhooks(
        HOTLINE_ANSWER,
        answer_document(order, answer=answer),
        dedupe_key=f"hotline:{order.uuid}:{answer}:{seq}",
    )


def answered_orders(
    district: Jurisdiction,
    since: datetime | None = None,
    *,
    after_order: uuid.UUID | None = None,
    limit: int = ANSWERS_MAX,
) -> list[HotlineOrder]:
    """The district's orders whose last answer came after `since`, oldest change first
    (orders answered at the same moment by their public id), at most `limit` (1,000 at
    most). `after_order` continues a page that stopped between two orders answered at
    `since`: the orders answered then whose public id follows it come too."""
    limit = max(1, min(limit, ANSWERS_MAX))
    orders = HotlineOrder.objects.filter(district=district, answered_at__isnull=False)
    if since is not None:
        later = Q(answered_at__gt=since)
        if after_order is not None:
            later |= Q(answered_at=since, uuid__gt=after_order)
        orders = orders.filter(later)
    rows = orders.select_related("case__township", "district").order_by("answered_at", "uuid")
    return list(rows[:limit])


def hotline_answers(
    district: Jurisdiction, since: datetime | None = None, *, limit: int = ANSWERS_MAX
) -> list[dict[str, Any]]:
    """The answers of the district's orders that changed after `since` (all answered
    orders when None), oldest change first, at most `limit` (1,000 at most). To follow
    along, ask again with the last document's `answered_at` as `since`."""
    return [answer_document(order) for order in answered_orders(district, since, limit=limit)]
