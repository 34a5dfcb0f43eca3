"""The street pages' settings, each read with its default so that a deployment sets only
what it changes (docs/street.md lists them)."""

from __future__ import annotations

from django.conf import settings

from whistle.cases import report_limits


def _int(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def kept_photo_seconds() -> int:
    """How long a checked photo waits for the rest of its form to be put right."""
    return _int("WHISTLE_PHOTO_KEEP_SECONDS", 3600)


def lane_closed_days() -> int:
    """How far back a lane's public page lists the problems closed."""
    return _int("WHISTLE_LANE_CLOSED_DAYS", 30)


def reports_per_ip() -> tuple[int, int]:
    """Resident reports from one IP address: (how many, per seconds)."""
    return (
        _int("WHISTLE_RESIDENT_REPORTS_PER_IP", 10),
        _int("WHISTLE_RESIDENT_REPORTS_IP_WINDOW", 3600),
    )


def reports_per_phone() -> tuple[int, int]:
    """Resident reports under one phone number (or one account): (how many, per seconds)."""
    return report_limits.per_phone()


def captcha_failures_per_ip() -> tuple[int, int]:
    """Wrong captcha answers from one IP address before its reports are refused."""
    return (
        _int("WHISTLE_CAPTCHA_FAILURES_PER_IP", 20),
        _int("WHISTLE_CAPTCHA_FAILURES_WINDOW", 3600),
    )


def follow_misses_per_ip() -> tuple[int, int]:
    """Look-ups of reference numbers that do not exist, from one IP address."""
    return (
        _int("WHISTLE_FOLLOW_MISSES_PER_IP", 30),
        _int("WHISTLE_FOLLOW_MISSES_WINDOW", 3600),
    )


def captcha_seconds() -> int:
    """How long a captcha challenge stays valid."""
    return _int("WHISTLE_CAPTCHA_SECONDS", 600)


def trusted_proxies() -> int:
    """Reverse proxies in front of the server that append to X-Forwarded-For (0: none, the
    connecting address is the client's)."""
    return _int("WHISTLE_TRUSTED_PROXIES", 0)
