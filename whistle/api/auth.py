"""Who is calling: a bearer token, or a signed-in browser (its session, with Django's CSRF
token on every change).

The token is read once per request (`bearer`), by whichever asks first: the idempotency
middleware, which runs before the view, or the view's authentication; with it the map's and
the directory's revision tokens, in one statement, which a filing then pins.
"""

from __future__ import annotations

from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from whistle.api import tokens
from whistle.api.errors import CSRF_FAILED, TOKEN_MESSAGES, ApiError
from whistle.api.models import ApiToken
from whistle.organisation import directory, map_triggers
from whistle.organisation.models import Person

_UNREAD = object()


def bearer(request: HttpRequest) -> tuple[ApiToken, Person] | None:
    """The request's token and its person, or None without an Authorization header.
    Raises ApiError (401) for a token that does not open the API."""
    cached = getattr(request, "_whistle_bearer", _UNREAD)
    if cached is not _UNREAD:
        if isinstance(cached, ApiError):
            raise cached
        return cast("tuple[ApiToken, Person] | None", cached)
    header = request.headers.get("Authorization", "")
    scheme, _space, secret = header.partition(" ")
    result: tuple[ApiToken, Person] | None = None
    if header:
        if scheme.lower() != "bearer":
            refused = ApiError(401, "token_invalid", TOKEN_MESSAGES["token_invalid"])
            request._whistle_bearer = refused  # type: ignore[attr-defined]
            raise refused
        # The map's token is read with the directory's, in one statement: a filing's request
        # pins both for its action (`shared.filing`) without reading them again.
        revisions = map_triggers.read_tokens(
            connections[DEFAULT_DB_ALIAS], map_triggers.MAP, map_triggers.DIRECTORY
        )
        request._whistle_revisions = revisions  # type: ignore[attr-defined]
        try:
            with directory.pinned_at(revisions[1]):
                result = tokens.authenticate(secret.strip())
        except tokens.TokenRefused as exc:
            refused = ApiError(401, exc.code, TOKEN_MESSAGES[exc.code])
            request._whistle_bearer = refused  # type: ignore[attr-defined]
            raise refused from None
    request._whistle_bearer = result  # type: ignore[attr-defined]
    return result


def api_token(request: HttpRequest) -> ApiToken | None:
    found = getattr(request, "_whistle_bearer", None)
    return found[0] if isinstance(found, tuple) else None


class TokenAuth(HttpBearer):
    def __call__(self, request: HttpRequest) -> Any:
        found = bearer(request)
        return found[1] if found is not None else None

    def authenticate(self, request: HttpRequest, token: str) -> Any:  # pragma: no cover
        raise NotImplementedError  # __call__ reads the header itself


class BrowserSession(SessionAuth):
    """The signed-in browser. A request that carries a token is the token's, never the
    session's."""

    def __call__(self, request: HttpRequest) -> Any:
        if request.headers.get("Authorization"):
            return None
        if not request.user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise ApiError(403, "csrf_failed", CSRF_FAILED)
        return request.user

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:  # pragma: no cover
        raise NotImplementedError


def owner_key(request: HttpRequest) -> str | None:
    """Whose idempotency keys and rate counters a request uses: its token's, or its signed-in
    person's."""
    found = bearer(request)
    if found is not None:
        return f"token:{found[0].uuid}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and not request.headers.get("Authorization"):
        return f"person:{user.pk}"
    return None
