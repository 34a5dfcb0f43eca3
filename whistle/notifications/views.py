"""The JSON endpoints a phone page calls to ring for new messages (Web Push).

Both take a POST from the signed-in person's own page, with Django's CSRF token in the
``X-CSRFToken`` header, and answer JSON; a refusal names its reason in the person's language.
"""

from __future__ import annotations

import json
from typing import Any, cast

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from whistle.notifications.actions import (
    BrowserSubscription,
    SubscriptionRefused,
    subscribe_push,
    unsubscribe_push,
)
from whistle.organisation.models import Person

# A subscription is a few hundred bytes; anything much larger is not one.
_MAX_BODY = 8 * 1024


def _refuse(message: str, status: int) -> JsonResponse:
    return JsonResponse({"ok": False, "error": message}, status=status)


def _document(request: HttpRequest) -> dict[str, Any] | None:
    if len(request.body) > _MAX_BODY:
        return None
    try:
        document = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def _signed_in(request: HttpRequest) -> JsonResponse | None:
    if not request.user.is_authenticated:
        return _refuse(_("Sign in to receive notifications on this device."), 401)
    return None


@require_POST
def subscribe(request: HttpRequest) -> JsonResponse:
    refused = _signed_in(request)
    if refused is not None:
        return refused
    document = _document(request)
    keys = document.get("keys") if document is not None else None
    endpoint = document.get("endpoint") if document is not None else None
    if not isinstance(keys, dict) or not isinstance(endpoint, str):
        return _refuse(_("This browser sent a subscription that cannot be read."), 400)
    subscription = BrowserSubscription(
        endpoint=endpoint, p256dh=str(keys.get("p256dh", "")), auth=str(keys.get("auth", ""))
    )
    try:
        subscribe_push(
            cast(Person, request.user),
            subscription,
            user_agent=request.headers.get("User-Agent", ""),
        )
    except SubscriptionRefused:
        return _refuse(_("This browser sent a subscription that cannot be used."), 400)
    return JsonResponse({"ok": True})


@require_POST
def unsubscribe(request: HttpRequest) -> JsonResponse:
    refused = _signed_in(request)
    if refused is not None:
        return refused
    document = _document(request)
    endpoint = document.get("endpoint") if document is not None else None
    if not isinstance(endpoint, str):
        return _refuse(_("This browser sent a subscription that cannot be read."), 400)
    removed = unsubscribe_push(cast(Person, request.user), endpoint)
    return JsonResponse({"ok": True, "removed": removed})
