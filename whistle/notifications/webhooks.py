"""Signed webhook requests, sent with the standard library.

Each request is a POST of a JSON document with these headers (docs/notifications.md shows
how a receiver checks them):

- ``X-Whistle-Event``: the event kind, e.g. ``summons.overdue``;
- ``X-Whistle-Delivery``: the notification's public id, the same on every retry;
- ``X-Whistle-Timestamp``: seconds since 1970-01-01 UTC when this attempt was signed;
- ``X-Whistle-Signature``: ``sha256=`` and the lowercase hex HMAC-SHA256, keyed with the
  endpoint's secret, of the timestamp, a full stop and the raw body bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from whistle.notifications import http
from whistle.notifications.errors import DeliveryError

EVENT_HEADER = "X-Whistle-Event"
DELIVERY_HEADER = "X-Whistle-Delivery"
TIMESTAMP_HEADER = "X-Whistle-Timestamp"
SIGNATURE_HEADER = "X-Whistle-Signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def body_for(
    *, delivery_id: str, event: str, created_at_iso: str, payload: dict[str, Any]
) -> bytes:
    document = {"id": delivery_id, "event": event, "created_at": created_at_iso, "payload": payload}
    return json.dumps(
        document, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"), sort_keys=True
    ).encode("utf-8")


def post(
    url: str, *, secret: str, body: bytes, event: str, delivery_id: str, timeout: float
) -> None:
    """Send one signed request; return when the receiver answered 2xx, raise otherwise."""
    timestamp = int(timezone.now().timestamp())
    answer = http.post(
        url,
        body=body,
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Whistle-Webhooks/1",
            EVENT_HEADER: event,
            DELIVERY_HEADER: delivery_id,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(secret, timestamp, body),
        },
        timeout=timeout,
    )
    if not answer.ok:
        raise DeliveryError(f"the receiver answered HTTP {answer.status}")
