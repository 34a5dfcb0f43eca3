"""One shape for every error the API answers: {"code", "message", "field"}.

`code` is a stable machine code; `message` is in the caller's language (Accept-Language,
Simplified Chinese by default); `field` names the input at fault, or is null. The domain's
refusals keep their own words: a refusal for who the caller is answers 403, a value at
fault 422, a state that does not allow the action 409. A write the database refuses because
it would repeat a row already there (two requests at once) answers 409 too, never 500.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from whistle.api.labels import field_label
from whistle.assessment.actions import AssessmentError, AssessmentPermissionError
from whistle.cases.errors import ActionRefused, InvalidInput, PermissionRefused

logger = logging.getLogger("whistle.api")


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str | Promise,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}


NOT_FOUND = _("Not found, or outside your area.")
DUPLICATE = _(
    "This was already recorded, perhaps by a request sent at the same moment: reload it "
    "and try again if it is still needed."
)
CSRF_FAILED = _("The browser's CSRF token is missing or wrong.")
TOKEN_MESSAGES = {
    "token_invalid": _("This API token is not valid."),
    "token_expired": _("This API token has expired."),
    "token_revoked": _("This API token has been revoked."),
    "person_inactive": _("The account of this API token is not active."),
}


def error_response(
    status: int, code: str, message: Any, field: str | None = None, **headers: str
) -> JsonResponse:
    response = JsonResponse(
        {"code": code, "message": str(message), "field": field},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def too_large_message() -> Any:
    """What a request over the server's size limit is told: the limit, and how to keep
    within it, with photos or without."""
    size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
    return _(
        "The request is too large: at most %(size)s MB a request. Send fewer or smaller "
        "photos, or split the data over several requests."
    ) % {"size": f"{size:.1f}".removesuffix(".0")}


def not_found() -> ApiError:
    return ApiError(404, "not_found", NOT_FOUND)


def _field(loc: Any) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "payload")]
    # ninja names the parameter that holds the body or the filters: leave it out.
    if len(parts) > 1 and parts[0] in ("data", "filters"):
        parts = parts[1:]
    return ".".join(parts) or None


def validation_error(exc: ValidationError) -> JsonResponse:
    errors = list(exc.errors or [])
    first = errors[0] if errors else {}
    if first.get("type", "") == "json_invalid":
        return error_response(400, "malformed_body", _("The request body is not valid JSON."))
    field, message = described(first)
    return error_response(422, "invalid", message, field)


def described(error: Any) -> tuple[str | None, Any]:
    """The field and the message of one error of pydantic's (`ValidationError.errors()`)."""
    field = _field(error.get("loc", ()))
    kind = error.get("type", "")
    # The message names the input in the caller's language; `field` keeps its own name.
    label = field_label(field) if field else None
    if kind == "missing":
        return field, capfirst(_("%(field)s is required.") % {"field": label or "?"})
    return field, capfirst(
        _("%(field)s is not valid: %(problem)s")
        % {"field": label or _("the request"), "problem": _problem(kind)}
    )


_PROBLEMS = {
    "string_too_long": _("too long"),
    "string_too_short": _("too short"),
    "too_long": _("too many items"),
    "less_than_equal": _("too large"),
    "greater_than_equal": _("too small"),
    "less_than": _("too large"),
    "greater_than": _("too small"),
    "timezone_aware": _("give the time with its offset, e.g. +08:00"),
    "finite_number": _("not a finite number"),
    "enum": _("not one of the allowed values"),
    "literal_error": _("not one of the allowed values"),
    "extra_forbidden": _("not an input of this request"),
}


def _problem(kind: str) -> Any:
    return _PROBLEMS.get(kind, _("wrong type or format"))


# Every kind of error ninja has its own handler for, so that this one answers them all.
HANDLED = (Exception, Http404, HttpError, ValidationError, AuthenticationError, Throttled)


def handle(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The API's answer to anything raised while handling a request."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.field, **exc.headers)
    if isinstance(exc, ValidationError):
        return validation_error(exc)
    if isinstance(exc, AuthenticationError):
        return error_response(
            401,
            "unauthenticated",
            _("Sign in, or send an API token: Authorization: Bearer wst_…"),
        )
    if isinstance(exc, Throttled):
        return error_response(
            429,
            "rate_limited",
            _("Too many requests with this token: wait and try again."),
            Retry_After=str(getattr(request, "_whistle_retry_after", 1)),
        )
    if isinstance(exc, RequestDataTooBig):
        return error_response(413, "too_large", too_large_message())
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        return error_response(404, "not_found", NOT_FOUND)
    if isinstance(exc, InvalidInput):
        return error_response(422, "invalid", exc, exc.field)
    if isinstance(exc, PermissionRefused):
        return error_response(403, "permission_refused", exc)
    if isinstance(exc, ActionRefused):
        code = exc.code if exc.code != "refused" else "state_conflict"
        return error_response(409, code, exc)
    if isinstance(exc, AssessmentPermissionError):
        return error_response(403, "permission_refused", exc)
    if isinstance(exc, AssessmentError):
        return error_response(409, "state_conflict", exc)
    if isinstance(exc, IntegrityError):
        logger.warning(
            "API request refused by the database: %s %s: %s", request.method, request.path, exc
        )
        return error_response(409, "duplicate", DUPLICATE)
    if isinstance(exc, HttpError):
        if exc.status_code == 400:
            return error_response(400, "malformed_body", _("The request body is not valid JSON."))
        if exc.status_code == 403:
            return error_response(403, "csrf_failed", CSRF_FAILED)
        return error_response(exc.status_code, "http_error", str(exc))
    logger.exception("API request failed: %s %s", request.method, request.path)
    return error_response(500, "server_error", _("Something went wrong on the server."))
