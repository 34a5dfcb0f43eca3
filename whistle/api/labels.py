"""What an input of the API is called in a message: the field's name in the caller's language
("问题描述" for `description`), so that an error reads as a sentence. The answer's `field` keeps
the input's own name for the client's program."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

FIELD_LABELS: dict[str, Any] = {
    "accuracy_m": pgettext_lazy("API input", "position accuracy"),
    "address": pgettext_lazy("API input", "address"),
    "answer": pgettext_lazy("API input", "answer"),
    "at": pgettext_lazy("API input", "time"),
    "called_at": pgettext_lazy("API input", "call time"),
    "caller_name": pgettext_lazy("API input", "caller's name"),
    "caller_phone": pgettext_lazy("API input", "caller's phone"),
    "case": pgettext_lazy("API input", "case"),
    "category": pgettext_lazy("API input", "category"),
    "category_kind": pgettext_lazy("API input", "category kind"),
    "channel": pgettext_lazy("API input", "channel"),
    "comment": pgettext_lazy("API input", "comment"),
    "confirm": pgettext_lazy("API input", "confirmation"),
    "contacted": pgettext_lazy("API input", "caller reached"),
    "correction": pgettext_lazy("API input", "correction"),
    "deadline_class": pgettext_lazy("API input", "deadline class"),
    "department": pgettext_lazy("API input", "department"),
    "departments": pgettext_lazy("API input", "departments"),
    "description": pgettext_lazy("API input", "description"),
    "device_id": pgettext_lazy("API input", "device"),
    "device_time": pgettext_lazy("API input", "device time"),
    "due_at": pgettext_lazy("API input", "due time"),
    "evidence": pgettext_lazy("API input", "evidence"),
    "external_id": pgettext_lazy("API input", "external number"),
    "happened_at": pgettext_lazy("API input", "time written"),
    "ids": pgettext_lazy("API input", "notification numbers"),
    "into": pgettext_lazy("API input", "case merged into"),
    "item": pgettext_lazy("API input", "checklist item"),
    "kind": pgettext_lazy("API input", "kind"),
    "lane": pgettext_lazy("API input", "lane"),
    "lat": pgettext_lazy("API input", "latitude"),
    "location": pgettext_lazy("API input", "location"),
    "lon": pgettext_lazy("API input", "longitude"),
    "meeting_lat": pgettext_lazy("API input", "meeting point latitude"),
    "meeting_lon": pgettext_lazy("API input", "meeting point longitude"),
    "meeting_point": pgettext_lazy("API input", "meeting point"),
    "name": pgettext_lazy("API input", "reporter's name"),
    "named_department": pgettext_lazy("API input", "department named as responsible"),
    "note": pgettext_lazy("API input", "note"),
    "order_number": pgettext_lazy("API input", "order number"),
    "orders": pgettext_lazy("API input", "orders"),
    "outcome": pgettext_lazy("API input", "outcome"),
    "part": pgettext_lazy("API input", "part"),
    "phone": pgettext_lazy("API input", "reporter's phone"),
    "photo": pgettext_lazy("API input", "photo"),
    "photos": pgettext_lazy("API input", "photos"),
    "points": pgettext_lazy("API input", "points"),
    "promised_by": pgettext_lazy("API input", "promised time"),
    "rating": pgettext_lazy("API input", "rating"),
    "reason": pgettext_lazy("API input", "reason"),
    "reply": pgettext_lazy("API input", "reply"),
    "reporter_name": pgettext_lazy("API input", "reporter's name"),
    "reporter_phone": pgettext_lazy("API input", "reporter's phone"),
    "requested": pgettext_lazy("API input", "requested change"),
    "resolved": pgettext_lazy("API input", "solved"),
    "result": pgettext_lazy("API input", "result"),
    "review_on": pgettext_lazy("API input", "review date"),
    "satisfied": pgettext_lazy("API input", "satisfied"),
    "seq": pgettext_lazy("API input", "sequence number"),
    "source": pgettext_lazy("API input", "source"),
    "summon_named": pgettext_lazy("API input", "summon the department named"),
    "text": pgettext_lazy("API input", "text"),
    "township": pgettext_lazy("API input", "township"),
    "upheld": pgettext_lazy("API input", "upheld"),
    "uphold": pgettext_lazy("API input", "uphold"),
    "uuid": pgettext_lazy("API input", "identifier"),
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
