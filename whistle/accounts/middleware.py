"""Two pieces of every signed-in request: the idle timeout, and the second factor."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from whistle.accounts import sessions, twofactor

# The session's expiry moves on at most once a minute: a write per request would cost more
# than the minute of idleness it saves.
SEEN_KEY = "accounts_seen"
REFRESH_SECONDS = 60


class SessionPolicyMiddleware:
    """A signed-in session ends after the person's idle time without a request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user: Any = request.user
        if user.is_authenticated:
            now = int(time.time())
            seen = request.session.get(SEEN_KEY)
            if not isinstance(seen, int) or now - seen >= REFRESH_SECONDS:
                request.session[SEEN_KEY] = now
                request.session.set_expiry(sessions.idle_seconds(user))
        return self.get_response(request)


# What a session waiting for its second factor may still open.
OPEN_WHILE_PENDING = {
    "accounts:verify",
    "accounts:enrol",
    "login",
    "logout",
    "set_language",
    "web:favicon",
}


class TwoFactorMiddleware:
    """After the password, a person with an authenticator gives its code, and a person who
    must use one and has none sets it up, before any other page opens."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        standing = twofactor.pending(request.session)
        if standing is None:
            return None
        match = request.resolver_match
        if match is not None and match.view_name in OPEN_WHILE_PENDING:
            return None
        target = "accounts:verify" if standing == twofactor.Standing.VERIFY else "accounts:enrol"
        next_url = request.get_full_path() if request.method == "GET" else "/"
        return redirect(f"{reverse(target)}?{urlencode({'next': next_url})}")
