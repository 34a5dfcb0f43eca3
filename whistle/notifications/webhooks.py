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
import http.client
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from whistle.notifications.errors import DeliveryError, PermanentDeliveryError

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


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # A redirected POST would arrive as a GET without its body: report it instead.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def post(
    url: str, *, secret: str, body: bytes, event: str, delivery_id: str, timeout: float
) -> None:
    """Send one signed request; return when the receiver answered 2xx, raise otherwise."""
    if urlsplit(url).scheme not in {"http", "https"}:
        raise PermanentDeliveryError(f"not an http or https URL: {url}")
    timestamp = int(timezone.now().timestamp())
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Whistle-Webhooks/1",
            EVENT_HEADER: event,
            DELIVERY_HEADER: delivery_id,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(secret, timestamp, body),
        },
    )
    opener = urllib.request.build_opener(_RefuseRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        raise DeliveryError(f"the receiver answered HTTP {exc.code}") from exc
    except urllib.error.URLError as exc:
        raise DeliveryError(f"could not reach the receiver: {exc.reason}") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryError(f"the request failed: {exc!r}") from exc
    if not 200 <= status < 300:
        raise DeliveryError(f"the receiver answered HTTP {status}")
