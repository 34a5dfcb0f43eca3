"""The addresses the SMS providers post delivery receipts to.

Neither Alibaba Cloud nor Tencent Cloud signs these requests: the secret token in the path
(``WHISTLE_SMS_RECEIPT_TOKEN``) is what keeps others out. Without it, or with another one,
the address does not exist (404). Each answer is the acknowledgement the provider expects;
a body that is not a batch of reports is refused (400) and nothing of it is recorded.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from whistle.notifications.actions import record_sms_receipts
from whistle.notifications.conf import sms_receipt_token
from whistle.notifications.receipts import (
    Receipt,
    aliyun_receipts,
    tencent_receipts,
)

log = logging.getLogger("whistle.notifications")


def _receive(
    request: HttpRequest,
    token: str,
    *,
    provider: str,
    read: Callable[[Any], list[Receipt]],
    answer: Callable[[str], dict[str, Any]],
) -> HttpResponse:
    expected = sms_receipt_token()
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        receipts = read(json.loads(request.body.decode("utf-8")))
    except (UnicodeDecodeError, ValueError) as exc:
        # MalformedReceipts is a ValueError, and so is a body that is not JSON.
        log.warning("%s posted receipts that cannot be read: %s", provider, exc)
        return JsonResponse(answer(f"malformed: {exc}"), status=400)
    recorded = record_sms_receipts(receipts)
    log.info(
        "%s receipts: %d delivered, %d failed, %d unchanged, %d unknown",
        provider,
        recorded.delivered,
        recorded.failed,
        recorded.unchanged,
        recorded.unknown,
    )
    return JsonResponse(answer(""))


@csrf_exempt
def aliyun(request: HttpRequest, token: str) -> HttpResponse:
    """Alibaba Cloud's ``SmsReport`` in HTTP batch push mode; it wants ``{"code": 0}``."""
    return _receive(
        request,
        token,
        provider="Alibaba Cloud SMS",
        read=aliyun_receipts,
        answer=lambda error: {"code": 1 if error else 0, "msg": error or "接收成功"},
    )


@csrf_exempt
def tencent(request: HttpRequest, token: str) -> HttpResponse:
    """Tencent Cloud's status callback; it wants ``{"result": 0, "errmsg": "OK"}``."""
    return _receive(
        request,
        token,
        provider="Tencent Cloud SMS",
        read=tencent_receipts,
        answer=lambda error: {"result": 1 if error else 0, "errmsg": error or "OK"},
    )
