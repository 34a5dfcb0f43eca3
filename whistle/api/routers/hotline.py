"""12345 work orders (接诉即办): the hotline platform hands orders over, one at a time or as a
batch, and pulls the answers; the township replies and records the call-back. The same
actions as the order page and the case page (`whistle.cases.actions.hotline`).

Who may call what (docs/hotline.md, "The API"): taking orders is for those who take them on
the page — the township's dispatchers, chief of lanes and chiefs' office where the problem
lies, and the district's chief of lanes and chiefs' office (the hotline platform's service
account holds the district's chiefs' office); the answers are for the district's chief of
lanes and chiefs' office; the reply and the call-back follow the case's rules.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from ninja import Query, Router, Schema, Status
from pydantic import AwareDatetime, Field
from pydantic import ValidationError as PydanticValidationError

from whistle.api import schemas as s
from whistle.api.auth import FILING_AUTH
from whistle.api.errors import ApiError, described, not_found
from whistle.api.pagination import decode, encode, page_size
from whistle.api.shared import caller, category_by_code, errors, filing, photos, worked_cases
from whistle.cases import actions
from whistle.cases.actions.hotline import (
    TakenOrder,
    read_hotline_answers,
    take_hotline_order,
    take_hotline_orders,
    usual_promise,
    usual_reply_kind,
)
from whistle.cases.callers import shown_caller
from whistle.cases.hotline import ANSWERS_MAX, answer_document
from whistle.cases.locate import locate
from whistle.cases.models import Case, HotlineOrder
from whistle.organisation.models import Jurisdiction, Person

router = Router(tags=[gettext_noop("hotline")])

# The cursor of answers that follow a moment: after every order answered then.
_LAST_ID = uuid.UUID(int=2**128 - 1)


def order_out(person: Person, order: HotlineOrder) -> dict[str, Any]:
    name, phone = shown_caller(person, order.case)
    return {
        **answer_document(order),
        "deadline_class_name": order.deadline_class_name,
        "called_at": order.called_at,
        "caller_name": name,
        "caller_phone": phone,
    }


def _taken_out(person: Person, taken: TakenOrder) -> dict[str, Any]:
    order = taken.order
    order.case = taken.case
    return {**order_out(person, order), "created": taken.created}


def _arguments(data: s.HotlineOrderIn, field: str = "category") -> dict[str, Any]:
    category = None
    if data.category is not None:
        category = category_by_code(
            locate(data.lon, data.lat).district, data.category, data.category_kind, field
        )
    return {
        "number": data.order_number,
        "description": data.description,
        "lon": data.lon,
        "lat": data.lat,
        "channel": data.channel,
        "deadline_class": data.deadline_class,
        "accuracy_m": data.accuracy_m,
        "address": data.address,
        "category": category,
        "caller_name": data.caller_name,
        "caller_phone": data.caller_phone,
        "called_at": data.called_at,
        "photos": photos(data.photos),
    }


def _batch_arguments(raw: Any) -> dict[str, Any]:
    """The arguments of one order of a batch, read as one order alone is: an order that is
    malformed or out of range is refused here, as an order of the batch, so that the answer
    names every bad order."""
    try:
        data = s.HotlineOrderIn.model_validate(raw)
    except PydanticValidationError as exc:
        field, message = described(exc.errors()[0])
        if field is None:
            message = _("The order is not a JSON object of an order's fields.")
        raise actions.InvalidInput(field or "", message) from None
    return _arguments(data)


# The field an action names → the field of the request it comes from.
_REQUEST_FIELDS = {"number": "order_number", "position": "lon", "position.lon": "lon"}


def _request_field(name: str) -> str:
    return _REQUEST_FIELDS.get(name, name.removeprefix("position."))


@router.post(
    "/orders",
    response={201: s.HotlineTakenOut, 200: s.HotlineTakenOut, **errors()},
    operation_id="take_hotline_order",
    auth=FILING_AUTH,
    summary=gettext_noop("Take a 12345 work order"),
    description=gettext_noop(
        "Take one work order: 201 with its new case, or 200 with the case of the first intake"
        " when the district has taken the order number before (nothing is written)."
    ),
)
def take_order(request: HttpRequest, data: s.HotlineOrderIn) -> Status[dict[str, Any]]:
    def take() -> Status[dict[str, Any]]:
        person = caller(request)
        taken = take_hotline_order(person, **_arguments(data))
        return Status(201 if taken.created else 200, _taken_out(person, taken))

    try:
        return filing(request, take)
    except actions.InvalidInput as exc:
        raise ApiError(422, "invalid", str(exc), field=_request_field(exc.field)) from None


@router.post(
    "/orders/batch",
    response={
        201: s.HotlineBatchOut,
        200: s.HotlineBatchOut,
        422: s.HotlineBatchErrorOut,
        **errors(422),
    },
    operation_id="take_hotline_orders",
    summary=gettext_noop("Take a batch of 12345 work orders"),
    description=gettext_noop(
        "Take a batch of work orders in one transaction: all of them, or none. With any bad "
        "order nothing is written and the answer (422) lists every bad order by its index in "
        "`orders`; an order the caller may not take refuses the batch (403). An order number "
        "taken before returns its case (`created` false), so a batch may be sent again. 201 "
        "when the batch created an order, 200 when every number was taken before."
    ),
)
def take_orders(request: HttpRequest, data: s.HotlineBatchIn) -> Status[dict[str, Any]]:
    person = caller(request)
    batch = take_hotline_orders(
        person,
        ((index, partial(_batch_arguments, order)) for index, order in enumerate(data.orders)),
    )
    refused = next((p for p in batch.problems if p.refused), None)
    if refused is not None:
        raise ApiError(403, "permission_refused", refused.message, field=f"orders.{refused.at}")
    if batch.problems:
        first = batch.problems[0]
        problems = [
            {
                "index": p.at,
                "field": _request_field(p.field) if p.field else None,
                "message": p.message,
            }
            for p in batch.problems
        ]
        return Status(
            422,
            {
                "code": "invalid",
                "message": str(
                    _("Nothing was taken; refused orders: %(count)s. The first: %(message)s")
                    % {"count": len(problems), "message": first.message}
                ),
                "field": f"orders.{first.at}"
                + (f".{problems[0]['field']}" if problems[0]["field"] else ""),
                "problems": problems,
            },
        )
    created = any(taken.created for taken in batch.orders)
    return Status(
        201 if created else 200,
        {"orders": [_taken_out(person, taken) for taken in batch.orders]},
    )


class AnswerFilters(Schema):
    # The district's code.
    district: str = Field(min_length=1, max_length=12)
    # The answers given after this moment; `cursor`, when given, wins.
    since: AwareDatetime | None = None
    cursor: str | None = Field(default=None, max_length=200)
    limit: int | None = Field(default=None, ge=1, le=ANSWERS_MAX)


@router.get(
    "/answers",
    response={200: s.HotlineAnswerPage, **errors()},
    operation_id="list_hotline_answers",
    summary=gettext_noop("List the answers to work orders"),
    description=gettext_noop(
        "The district's orders whose answer (the reply or the call-back) changed after the "
        "cursor, oldest change first: the documents of the signed `hotline.answer` webhook, "
        "for a platform that asks instead of listening. Keep `next_cursor` and ask again with"
        " it."
    ),
)
def list_answers(request: HttpRequest, filters: Query[AnswerFilters]) -> dict[str, Any]:
    district = Jurisdiction.objects.filter(
        code=filters.district, level=Jurisdiction.Level.DISTRICT
    ).first()
    if district is None:
        raise ApiError(
            422,
            "invalid",
            _("No district has the code %(code)s.") % {"code": filters.district},
            field="district",
        )
    since, after_order = filters.since, _LAST_ID if filters.since else None
    if filters.cursor:
        since, after_order = decode(filters.cursor)
    size = min(filters.limit or page_size(), ANSWERS_MAX)
    orders = read_hotline_answers(
        caller(request), district, since, after_order=after_order, limit=size + 1
    )
    more = len(orders) > size
    orders = orders[:size]
    cursor = None
    if orders:
        last = orders[-1]
        assert last.answered_at is not None
        cursor = encode(last.answered_at, last.uuid)
    elif since is not None and after_order is not None:
        cursor = encode(since, after_order)
    return {
        "items": [answer_document(order) for order in orders],
        "next_cursor": cursor,
        "has_more": more,
    }


def find_order(person: Person, district: str, number: str) -> HotlineOrder:
    """The order of the district by its number, when the caller sees its case (404
    otherwise)."""
    order = (
        HotlineOrder.objects.filter(
            district__code=district, number=number.strip(), case__in=worked_cases(person)
        )
        .select_related("case__township", "district")
        .first()
    )
    if order is None:
        raise not_found()
    return order


def _reloaded(person: Person, order: HotlineOrder) -> dict[str, Any]:
    order = HotlineOrder.objects.select_related("case__township", "district").get(pk=order.pk)
    return order_out(person, order)


def _answered(
    request: HttpRequest,
    district: str,
    order_number: str,
    answer: Callable[[Person, Case], object],
) -> dict[str, Any]:
    """The caller's order after `answer`, one action on its case by the caller (a reply, the
    result or the call-back), as it stands then."""
    person = caller(request)
    order = find_order(person, district, order_number)
    answer(person, order.case)
    return _reloaded(person, order)


@router.post(
    "/orders/{district}/{path:order_number}/reply",
    response={200: s.HotlineOrderOut, **errors()},
    operation_id="record_hotline_reply",
    summary=gettext_noop("Record the reply to the caller"),
    description=gettext_noop(
        "The township's reply to the caller (反馈), once per order, saying what it is: done "
        "(the result), in_progress (what is being done, with `promised_by`: by when), "
        "not_ours (whose duty it is) or cannot_solve (why not now). Without a kind, the reply "
        "is in_progress when `promised_by` is given, else done if the case is marked "
        "resolved, closed or not taken up, in_progress before, promising the result by the "
        "order's resolve deadline while that is ahead."
    ),
)
def record_reply(
    request: HttpRequest, district: str, order_number: str, data: s.HotlineReplyIn
) -> dict[str, Any]:

    def reply(person: Person, case: Case) -> None:
        kind: str
        promised_by = data.promised_by
        if data.kind is not None:
            kind = data.kind
        elif promised_by is not None:
            kind = HotlineOrder.ReplyKind.IN_PROGRESS
        else:
            kind = usual_reply_kind(case)
            if kind == HotlineOrder.ReplyKind.IN_PROGRESS:
                promised_by = usual_promise(case)
        actions.record_hotline_reply(
            person, case, kind=kind, reply=data.reply, promised_by=promised_by
        )

    return _answered(request, district, order_number, reply)


@router.post(
    "/orders/{district}/{path:order_number}/final-reply",
    response={200: s.HotlineOrderOut, **errors()},
    operation_id="record_hotline_final_reply",
    summary=gettext_noop("Give the caller the result"),
    description=gettext_noop(
        "The result after a reply in_progress (办结反馈), once per order: done (the result, "
        "the kind when left out), not_ours (whose duty it is) or cannot_solve (why not now). "
        "The first reply stays the response the reply deadline counts; the call-back is "
        "possible afterwards."
    ),
)
def record_final_reply(
    request: HttpRequest, district: str, order_number: str, data: s.HotlineFinalReplyIn
) -> dict[str, Any]:
    return _answered(
        request,
        district,
        order_number,
        partial(actions.record_hotline_final_reply, kind=data.kind, reply=data.reply),
    )


@router.post(
    "/orders/{district}/{path:order_number}/callback",
    response={200: s.HotlineOrderOut, **errors()},
    operation_id="record_hotline_callback",
    summary=gettext_noop("Record the call-back"),
    description=gettext_noop(
        "The call-back (回访) after the reply: was the caller reached, is the problem solved, "
        "are they satisfied. A caller not reached may be called again."
    ),
)
def record_callback(
    request: HttpRequest, district: str, order_number: str, data: s.HotlineCallbackIn
) -> dict[str, Any]:
    return _answered(
        request,
        district,
        order_number,
        partial(
            actions.record_resident_callback,
            contacted=data.contacted,
            resolved=data.resolved,
            satisfied=data.satisfied,
            note=data.note,
        ),
    )
