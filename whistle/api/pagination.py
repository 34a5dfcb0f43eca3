"""Cursor pagination: newest first, by a time and the row's public id.

The cursor is opaque to the caller (base64 of the last item's time and public id), stable
while rows are added (a new row never shifts a page) and names no database id.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db.models import Model, Q, QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from whistle.api.errors import ApiError

M = TypeVar("M", bound=Model)
MAX_LIMIT = 500


def page_size() -> int:
    return int(settings.WHISTLE_API_PAGE_SIZE)


def _bad_cursor() -> ApiError:
    return ApiError(
        400, "invalid_cursor", _("The cursor is not one this API gave."), field="cursor"
    )


def encode(at: datetime, public_id: uuid.UUID) -> str:
    raw = json.dumps([at.isoformat(), public_id.hex]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at_text, id_text = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        at = parse_datetime(at_text)
        public_id = uuid.UUID(hex=id_text)
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        raise _bad_cursor() from None
    if at is None or at.tzinfo is None:
        raise _bad_cursor()
    return at, public_id


@dataclass(frozen=True)
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None


def paginate(
    rows: QuerySet[M],
    *,
    cursor: str | None,
    limit: int | None,
    time_field: str,
    id_field: str = "uuid",
    time_of: Callable[[M], datetime] | None = None,
    id_of: Callable[[M], Any] | None = None,
) -> Page[M]:
    """One page of `rows`, newest `time_field` first; `next_cursor` is None on the last."""
    size = min(limit or page_size(), MAX_LIMIT)
    if cursor:
        at, public_id = decode(cursor)
        rows = rows.filter(
            Q(**{f"{time_field}__lt": at}) | Q(**{time_field: at, f"{id_field}__lt": public_id})
        )
    found = list(rows.order_by(f"-{time_field}", f"-{id_field}")[: size + 1])
    if len(found) <= size:
        return Page(found, None)
    last = found[size - 1]
    last_at = time_of(last) if time_of else getattr(last, time_field)
    last_id = id_of(last) if id_of else getattr(last, id_field)
    return Page(found[:size], encode(last_at, last_id))
