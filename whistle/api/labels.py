"""What an input of the API is called in a message: the field's name in the caller's language
("问题描述" for `description`), so that an error reads as a sentence. The answer's `field` keeps
the input's own name for the client's program."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

FIELD_LABELS: dict[str, Any] = {
    "accuracy_m": _("position accuracy"),
    "address": _("address"),
    "answer": _("answer"),
    "at": _("time"),
    "called_at": _("call time"),
    "caller_name": _("caller's name"),
    "caller_phone": _("caller's phone"),
    "case": _("case"),
    "category": _("category"),
    "category_kind": _("category kind"),
    "channel": _("channel"),
    "comment": _("comment"),
    "confirm": _("confirmation"),
    "contacted": _("caller reached"),
    "correction": _("correction"),
    "deadline_class": _("deadline class"),
    "department": _("department"),
    "departments": _("departments"),
    "description": _("description"),
    "device_id": _("device"),
    "device_time": _("device time"),
    "due_at": _("due time"),
    "evidence": _("evidence"),
    "external_id": _("external number"),
    "happened_at": _("time written"),
    "ids": _("notification numbers"),
    "into": _("case merged into"),
    "item": _("checklist item"),
    "kind": _("kind"),
    "lane": _("lane"),
    "lat": _("latitude"),
    "location": _("location"),
    "lon": _("longitude"),
    "meeting_lat": _("meeting point latitude"),
    "meeting_lon": _("meeting point longitude"),
    "meeting_point": _("meeting point"),
    "name": _("reporter's name"),
    "note": _("note"),
    "order_number": _("order number"),
    "orders": _("orders"),
    "outcome": _("outcome"),
    "part": _("part"),
    "phone": _("reporter's phone"),
    "photo": _("photo"),
    "photos": _("photos"),
    "points": _("points"),
    "promised_by": _("promised time"),
    "rating": _("rating"),
    "reason": _("reason"),
    "reply": _("reply"),
    "reporter_name": _("reporter's name"),
    "reporter_phone": _("reporter's phone"),
    "requested": _("requested change"),
    "resolved": _("solved"),
    "result": _("result"),
    "review_on": _("review date"),
    "satisfied": _("satisfied"),
    "seq": _("sequence number"),
    "source": _("source"),
    "text": _("text"),
    "township": _("township"),
    "upheld": _("upheld"),
    "uphold": _("uphold"),
    "uuid": _("identifier"),
}


def field_label(field: str) -> Any:
    """The input's name in the caller's language: its label, the label of its last named
    part with the path beside it for an input inside a list or object
    ("工单编号（orders.0.order_number）"), or the input's own name, quoted, when it has no
    label (an input the API does not have)."""
    parts = [part for part in field.split(".") if not part.isdigit()]
    label = FIELD_LABELS.get(parts[-1]) if parts else None
    if label is None:
        # An input the API does not have (refused as not one of its inputs), quoted as sent.
        return _("“%(field)s”") % {"field": field}
    if field == parts[-1]:
        return label
    return _("%(label)s (%(field)s)") % {"label": label, "field": field}
