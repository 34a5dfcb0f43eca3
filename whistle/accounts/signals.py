"""Sign-in and sign-out, whichever page did them (the sign-in page, the admin, a test), an
account deactivated (by the admin or by the erasure of its data) and the erasure of the data
a phone number gave (`whistle erase-personal-data --phone`)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save
from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY

from whistle.accounts import sessions, twofactor
from whistle.accounts.contact import erase_on_request, forget_pending_of_inactive
from whistle.accounts.middleware import SEEN_KEY, SIGNED_OUT_FLAG
from whistle.organisation.personal_data import erasure_requested


def signed_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    standing = twofactor.standing_at_sign_in(user)
    if standing is not None:
        # A password alone never carries over a second factor proven earlier.
        request.session.pop(DEVICE_ID_SESSION_KEY, None)
        request.session[twofactor.SESSION_KEY] = standing.value
    # The idle time starts now (SessionPolicyMiddleware moves it on with activity).
    request.session[SEEN_KEY] = int(time.time())
    request.session.set_expiry(sessions.idle_seconds(user))
    sessions.remember(request, user)


def signed_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if request is not None:
        # The browser no longer counts as one whose session lapsed.
        setattr(request, SIGNED_OUT_FLAG, True)
    session = getattr(request, "session", None)
    if session is not None:
        sessions.forget(session.session_key)


def connect() -> None:
    user_logged_in.connect(signed_in, dispatch_uid="whistle.accounts.signed_in")
    user_logged_out.connect(signed_out, dispatch_uid="whistle.accounts.signed_out")
    post_save.connect(
        forget_pending_of_inactive,
        sender=settings.AUTH_USER_MODEL,
        dispatch_uid="whistle.accounts.forget_pending_of_inactive",
    )
    erasure_requested.connect(erase_on_request, dispatch_uid="whistle.accounts.erase_on_request")
