"""The outbox's settings, each with its default, read when used so tests can override them.

Every name here may be set in ``whistle/settings.py``; until then the default applies.
"""

from __future__ import annotations

from django.conf import settings

DEFAULT_SMS_BACKEND = "whistle.notifications.sms.ConsoleSmsBackend"


def sms_backend_path() -> str:
    """Dotted path of the SMS gateway class (see ``whistle.notifications.sms``)."""
    return str(getattr(settings, "WHISTLE_SMS_BACKEND", DEFAULT_SMS_BACKEND))


def max_attempts() -> int:
    """Deliveries tried before a notification is marked failed."""
    return max(1, int(getattr(settings, "WHISTLE_NOTIFY_MAX_ATTEMPTS", 8)))


def retry_base_seconds() -> float:
    """The wait after the first failure; each later failure doubles it."""
    return float(getattr(settings, "WHISTLE_NOTIFY_RETRY_SECONDS", 60.0))


def lease_seconds() -> float:
    """How long a claimed notification stays reserved for the worker that claimed it."""
    return float(getattr(settings, "WHISTLE_NOTIFY_LEASE_SECONDS", 300.0))


def sweep_budget_seconds() -> float:
    """How long one delivery sweep may keep starting deliveries before it hands back."""
    return float(getattr(settings, "WHISTLE_NOTIFY_SWEEP_SECONDS", 1.0))


def webhook_timeout_seconds() -> float:
    """Connect and read timeout of one webhook request."""
    return float(getattr(settings, "WHISTLE_WEBHOOK_TIMEOUT_SECONDS", 5.0))


def site_url() -> str:
    """Where links in e-mails and SMS point: relative links are joined to it."""
    return str(getattr(settings, "SITE_URL", "http://127.0.0.1:8000")).rstrip("/")
