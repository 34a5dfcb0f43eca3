"""The API's `Idempotency-Key` around every POST under /api/ (whistle.api.idempotency)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from whistle.api import idempotency
from whistle.api.auth import owner_key
from whistle.api.errors import ApiError, error_response
from whistle.api.shared import SENT_AT_HEADER

API_PREFIX = "/api/"


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get("Idempotency-Key")
        if key is None or request.method != "POST" or not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        try:
            owner = owner_key(request)
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.message)
        if owner is None:
            # Not signed in: the view answers 401, and nothing is kept.
            return self.get_response(request)
        key = key.strip()
        if not key or len(key) > idempotency.KEY_MAX or not key.isprintable():
            return error_response(
                400,
                "invalid_idempotency_key",
                _("The Idempotency-Key is 1 to %(max)s printable characters.")
                % {"max": idempotency.KEY_MAX},
                "Idempotency-Key",
            )
        outcome = idempotency.claim(
            owner,
            key,
            idempotency.fingerprint(request),
            idempotency.moment(),
            queued=SENT_AT_HEADER in request.headers,
        )
        if isinstance(outcome, idempotency.Mismatch):
            return error_response(
                422,
                "idempotency_key_reused",
                _("This Idempotency-Key was used for another request."),
                "Idempotency-Key",
            )
        if isinstance(outcome, idempotency.Running):
            return error_response(
                409,
                "idempotency_key_in_use",
                _("A request with this Idempotency-Key is still running: retry shortly."),
                "Idempotency-Key",
            )
        if isinstance(outcome, idempotency.Stored):
            return idempotency.replay(outcome.row)
        try:
            response = self.get_response(request)
        except BaseException:
            idempotency.release(outcome.row)
            raise
        idempotency.keep(outcome.row, response)
        return response
