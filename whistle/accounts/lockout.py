"""Failed sign-ins, counted by django-axes in the database.

Axes locks a username from one address (AXES_LOCKOUT_PARAMETERS); `LoginAttempts` adds a
wider limit per address over every username, against one address trying many accounts.
Wrong second-factor codes count as failed sign-ins too (`whistle.accounts.views.verify`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Max, Sum
from django.http import HttpRequest


class LockoutBackend(AxesStandaloneBackend):
    """Axes' check before the password is tried. A call without a request (a management
    command, the demo's own check of its logins) comes from no address and is not counted."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


class LoginAttempts(AxesDatabaseHandler):
    def address_failures(self, request: HttpRequest) -> int:
        recent = AccessAttempt.objects.filter(
            ip_address=request.axes_ip_address,  # type: ignore[attr-defined]
            attempt_time__gte=get_cool_off_threshold(request),
        )
        return int(recent.aggregate(n=Sum("failures_since_start"))["n"] or 0)

    def address_locked(self, request: HttpRequest) -> bool:
        return self.address_failures(request) >= settings.WHISTLE_LOGIN_FAILURES_PER_ADDRESS

    def is_locked(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
        return super().is_locked(request, credentials) or self.address_locked(request)

    def user_login_failed(
        self,
        sender: Any,
        credentials: dict[str, Any],
        request: HttpRequest | None = None,
        **kwargs: Any,
    ) -> None:
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or getattr(request, "axes_locked_out", False):
            return
        if self.address_locked(request):
            request.axes_locked_out = True  # type: ignore[attr-defined]
            request.axes_credentials = credentials  # type: ignore[attr-defined]
            user_locked_out.send(
                "axes",
                request=request,
                username=get_client_username(request, credentials),
                ip_address=request.axes_ip_address,  # type: ignore[attr-defined]
            )


def locked_until(request: HttpRequest, credentials: dict[str, Any] | None) -> datetime | None:
    """When the lock-out ends: of this username from this address, or else of the address."""
    cool_off = get_cool_off(request)
    if cool_off is None:
        return None
    recent = AccessAttempt.objects.filter(
        ip_address=getattr(request, "axes_ip_address", None),
        attempt_time__gte=get_cool_off_threshold(request),
    )
    own = recent.filter(username=get_client_username(request, credentials)).aggregate(
        n=Sum("failures_since_start"), last=Max("attempt_time")
    )
    if own["last"] is not None and (own["n"] or 0) >= settings.WHISTLE_LOGIN_FAILURE_LIMIT:
        return own["last"] + cool_off
    last = recent.aggregate(last=Max("attempt_time"))["last"]
    return last + cool_off if last is not None else None
