"""Pieces of every request: the idle timeout, the second factor, and the way to the sign-in
page of a person whose session lapsed."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _

from whistle.accounts import sessions, twofactor
from whistle.same_site import page_of_ours

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


# A cookie that says only that this browser was signed in: it outlives the session, so a
# browser whose session lapsed (idle time, signing out everywhere, a changed password) is
# told so on the sign-in page. Signing out removes it.
WAS_SIGNED_IN_COOKIE = "whistle_was_signed_in"
SIGNED_OUT_FLAG = "_whistle_signed_out"
# Set on a request whose view never needs a signed-in person (`login_not_required`).
OPEN_TO_ALL_FLAG = "_whistle_open_to_all"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


def _in_the_background(request: HttpRequest) -> bool:
    """Whether a script sent the request rather than the person opening a page or sending a
    form: a fetch by the page or its service worker (which keeps pages for use without
    signal and may be fetching them just as the session ends). A browser that does not say
    (no Sec-Fetch-Mode) counts as the person."""
    mode = request.headers.get("Sec-Fetch-Mode")
    return mode is not None and mode != "navigate"


class SignInNeededMiddleware:
    """When a page sends a signed-out person to the sign-in page: a person whose session
    lapsed is told so there, and a form sent without a session brings the person back,
    once signed in, to the page the form was on (the Referer, when it is one of ours, else
    the home page), never to the address that takes the form only. A view open to everyone
    (`login_not_required`: the language switch, the sign-in page) that leads to the sign-in
    page leads there because the person asked to go there (the language switch on the
    sign-in page returns to it), never because a session lapsed.

    A request htmx sends for the page is answered with HX-Redirect, so that the whole page
    goes to the sign-in page. Other requests a script sends in the background neither leave
    the notice (nobody would read it: the script follows the redirect itself) nor use up one
    waiting for the sign-in page the person is about to open."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if getattr(view, "login_required", True) is False:
            setattr(request, OPEN_TO_ALL_FLAG, True)
        return None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user: Any = getattr(request, "user", None)
        if getattr(request, SIGNED_OUT_FLAG, False):
            response.delete_cookie(WAS_SIGNED_IN_COOKIE)
            return response
        if user is not None and user.is_authenticated:
            if not request.COOKIES.get(WAS_SIGNED_IN_COOKIE):
                response.set_cookie(
                    WAS_SIGNED_IN_COOKIE,
                    "1",
                    secure=settings.SESSION_COOKIE_SECURE,
                    httponly=True,
                    samesite="Lax",
                )
            return response
        login_path = resolve_url(settings.LOGIN_URL)
        htmx = request.headers.get("HX-Request") == "true"
        if not htmx and _in_the_background(request):
            if request.path == login_path:
                # Showing the sign-in page to a script read the waiting messages: keep them.
                waiting: Any = messages.get_messages(request)
                if hasattr(waiting, "used"):
                    waiting.used = False
            return response
        if response.status_code != 302 or getattr(request, OPEN_TO_ALL_FLAG, False):
            return response
        location = urlsplit(response.get("Location", ""))
        if location.path != login_path:
            return response
        form_sent = request.method not in SAFE_METHODS
        lapsed = (
            form_sent
            or htmx
            or bool(request.COOKIES.get(WAS_SIGNED_IN_COOKIE))
            or bool(request.COOKIES.get(settings.SESSION_COOKIE_NAME))
        )
        if form_sent or htmx:
            # htmx names the page it works in; a form's page is its Referer.
            came_from = request.headers.get("HX-Current-URL" if htmx else "Referer", "")
            back = page_of_ours(request, came_from)
            if back is None or urlsplit(back).path == login_path:
                back = reverse("web:home")
            query = parse_qs(location.query)
            query["next"] = [back]
            response["Location"] = f"{login_path}?{urlencode(query, doseq=True)}"
        if htmx:
            # htmx would follow the redirect and put the sign-in page inside the page (a
            # board's poll, a rating): the whole page goes to the sign-in page instead.
            redirect_to = response["Location"]
            response = HttpResponse(status=204)
            response["HX-Redirect"] = redirect_to
        if lapsed:
            notice = _("Your session has ended. Sign in again to go on.")
            # A page's script may send the form twice (a reachability check, then the form):
            # the notice is said once.
            waiting = messages.get_messages(request)
            said = any(str(message) == notice for message in waiting)
            if hasattr(waiting, "used"):
                waiting.used = False
            if not said:
                messages.info(request, notice)
            response.delete_cookie(WAS_SIGNED_IN_COOKIE)
        return response
