"""Who is calling: a bearer token, or a signed-in browser (its session, with Django's CSRF
token on every change).

The token is read once per request (`bearer`), by whichever asks first: the idempotency
middleware, which runs before the view, or the view's authentication; with it the map's and
the directory's revision tokens, in one statement, which a filing then pins. A filing's own
authentication on PostgreSQL reads no tokens: it checks the token under those of the map
and the directory the process holds, and the filing's statement confirms them
(`shared.filing`).
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
from whistle.organisation import directory, map_triggers, places
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
        held = _optimistic(request)
        try:
            if held is not None:
                request._whistle_revisions = held  # type: ignore[attr-defined]
                try:
                    with directory.pinned_at(held[1]):
                        result = tokens.authenticate(secret.strip())
                except tokens.TokenRefused:
                    # Refused under the tokens read last: asked again under the current ones.
                    result = _authenticate(request, secret)
            else:
                result = _authenticate(request, secret)
        except tokens.TokenRefused as exc:
            refused = ApiError(401, exc.code, TOKEN_MESSAGES[exc.code])
            request._whistle_bearer = refused  # type: ignore[attr-defined]
            raise refused from None
    request._whistle_bearer = result  # type: ignore[attr-defined]
    if result is not None:
        # For the server's log of a refused call (whistle.web.logs reads it): who called, and
        # which token by its prefix, never the secret.
        request.whistle_api_caller = (result[1].pk, result[0].prefix)  # type: ignore[attr-defined]
    return result


def read_revisions(request: HttpRequest) -> tuple[str | None, ...]:
    """The map's and the directory's current tokens, read in one statement, for the request
    to pin (`shared.filing`): the token's check and a filing share them."""
    revisions = map_triggers.read_tokens(
        connections[DEFAULT_DB_ALIAS], *map_triggers.FILING_REVISIONS
    )
    request._whistle_revisions = revisions  # type: ignore[attr-defined]
    request._whistle_unconfirmed = False  # type: ignore[attr-defined]
    return revisions


def held() -> tuple[str, str] | None:
    """The tokens of the map and of the directory this process holds in memory, when it
    holds both."""
    map_token, directory_token = places.held_token(), directory.held_token()
    if map_token is None or directory_token is None:
        return None
    return map_token, directory_token


def _optimistic(request: HttpRequest) -> tuple[str, str] | None:
    """The tokens the request works under without reading them first, if it does: a filing
    on PostgreSQL (`TokenAuth(filing=True)`) works under those of the map and the directory
    the process holds (nothing is read again for them), and its own statement reads the
    current ones and has the request done again when they changed (`shared.filing`)."""
    if (
        not getattr(request, "_whistle_filing", False)
        or connections[DEFAULT_DB_ALIAS].vendor != "postgresql"
    ):
        return None
    tokens = held()
    if tokens is not None:
        request._whistle_unconfirmed = True  # type: ignore[attr-defined]
    return tokens


def revisions(request: HttpRequest) -> tuple[tuple[str | None, ...], bool]:
    """The tokens a filing works under, and whether they are still to be confirmed: those
    of the token's check, or for a signed-in browser's filing on PostgreSQL those of what
    the process holds, or else read now."""
    found = getattr(request, "_whistle_revisions", None)
    if found is not None:
        return found, bool(getattr(request, "_whistle_unconfirmed", False))
    request._whistle_filing = True  # type: ignore[attr-defined]
    tokens = _optimistic(request)
    if tokens is not None:
        request._whistle_revisions = tokens  # type: ignore[attr-defined]
        return tokens, True
    return read_revisions(request), False


def renew(request: HttpRequest) -> tuple[str | None, ...]:
    """After `map_triggers.RevisionsChanged`: the tokens read now, and the request's token
    checked again under them (ApiError, 401, when it no longer opens the API), as if the
    request had come in now."""
    request._whistle_filing = False  # type: ignore[attr-defined]
    had_token = isinstance(getattr(request, "_whistle_bearer", None), tuple)
    for name in ("_whistle_bearer", "_whistle_revisions"):
        if hasattr(request, name):
            delattr(request, name)
    if had_token:
        found = bearer(request)
        assert found is not None
        request.auth = found[1]  # type: ignore[attr-defined]
        return cast("tuple[str | None, ...]", request._whistle_revisions)  # type: ignore[attr-defined]
    return read_revisions(request)


def _authenticate(request: HttpRequest, secret: str) -> tuple[ApiToken, Person]:
    """The token checked under the revision tokens read now."""
    revisions = read_revisions(request)
    with directory.pinned_at(revisions[1]):
        return tokens.authenticate(secret.strip())


def api_token(request: HttpRequest) -> ApiToken | None:
    found = getattr(request, "_whistle_bearer", None)
    return found[0] if isinstance(found, tuple) else None


class TokenAuth(HttpBearer):
    """The request's token. For a filing (`filing=True`) on PostgreSQL the token is checked
    under the revision tokens of what the process holds, which the filing confirms
    (`shared.filing`)."""

    def __init__(self, *, filing: bool = False) -> None:
        super().__init__()
        self.filing = filing

    def __call__(self, request: HttpRequest) -> Any:
        if self.filing:
            request._whistle_filing = True  # type: ignore[attr-defined]
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


# A filing's operation: its token checked under the revision tokens its filing confirms.
FILING_AUTH = [TokenAuth(filing=True), BrowserSession()]
