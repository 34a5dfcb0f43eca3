"""Sessions: how long an idle one lasts for whom, the record of who is signed in where, and
the worker's sweep that deletes expired sessions."""

from __future__ import annotations

import logging
from datetime import datetime
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.http import HttpRequest

from whistle.accounts.models import SignedInSession
from whistle.organisation.models import RoleAssignment

log = logging.getLogger("whistle.accounts")

_CLEARED_KEY = "accounts:sessions-cleared"


def idle_seconds(person: Any) -> int:
    """How long the person's session lasts without a request. Someone whose roles are all
    out on the street keeps a shift-long session; any desk role brings the short one."""
    roles = set(RoleAssignment.objects.filter(person=person).values_list("role", flat=True))
    field = set(settings.WHISTLE_SESSION_FIELD_ROLES)
    if roles and roles <= field and not person.is_staff:
        return int(settings.WHISTLE_SESSION_FIELD_IDLE_MINUTES) * 60
    return int(settings.WHISTLE_SESSION_IDLE_MINUTES) * 60


def remember(request: HttpRequest, person: Any) -> None:
    """Record the request's session as one the person is signed in with."""
    key = request.session.session_key
    if not key:
        return
    SignedInSession.objects.update_or_create(
        session_key=key,
        defaults={
            "person": person,
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:200],
        },
    )


def forget(session_key: str | None) -> None:
    if session_key:
        SignedInSession.objects.filter(session_key=session_key).delete()


def sweep(now: datetime, *, batch: int) -> int:
    """Every WHISTLE_SESSION_CLEAR_SECONDS: delete expired sessions through the session
    engine, then the records of sessions that no longer exist. Returns how many records
    went; a worker that finds the interval claimed by another does nothing."""
    if not cache.add(_CLEARED_KEY, now.isoformat(), timeout=settings.WHISTLE_SESSION_CLEAR_SECONDS):
        return 0
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    ended = SignedInSession.objects.exclude(
        session_key__in=Session.objects.filter(expire_date__gt=now).values("session_key")
    )
    count, _by_model = ended.delete()
    if count:
        log.info("records of %d ended sessions deleted", count)
    return count
