"""Who must sign in with a second factor, and where a signed-in session stands with it.

A session's standing is decided once, when the password is accepted (`standing_at_sign_in`),
and kept in the session: `TwoFactorMiddleware` reads it on every request without a query.
A person whose roles change is held to the new rule from their next sign-in.
"""

from __future__ import annotations

from base64 import b32encode
from enum import StrEnum
from typing import Any

import segno
from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from whistle.accounts.models import RecoveryCodeDevice
from whistle.organisation.models import Role, RoleAssignment

SESSION_KEY = "accounts_two_factor"
RECOVERY_CODE_COUNT = 10


class Standing(StrEnum):
    # The password was right; the code from the authenticator app is still to come.
    VERIFY = "verify"
    # The person must use two-factor sign-in and has not set it up yet.
    ENROL = "enrol"


def demo_usernames() -> set[str]:
    from whistle.demo.logins import DEMO_LOGINS

    return {login.username for login in DEMO_LOGINS}


def required(person: Any) -> bool:
    """Whether the person must sign in with a second factor."""
    if not getattr(person, "is_authenticated", False):
        return False
    if settings.WHISTLE_DEMO_MODE and person.username in demo_usernames():
        return False
    roles = set(settings.WHISTLE_TWO_FACTOR_ROLES)
    if person.is_superuser and Role.ADMINISTRATOR in roles:
        return True
    return RoleAssignment.objects.filter(person=person, role__in=roles).exists()


def authenticator(person: Any) -> TOTPDevice | None:
    """The person's confirmed authenticator app, if they set one up."""
    return TOTPDevice.objects.filter(user=person, confirmed=True).first()


def recovery_sheet(person: Any) -> RecoveryCodeDevice | None:
    return RecoveryCodeDevice.objects.filter(user=person, confirmed=True).first()


def standing_at_sign_in(person: Any) -> Standing | None:
    """What the session still needs after the password: a code, a set-up, or nothing."""
    if authenticator(person) is not None:
        return Standing.VERIFY
    if required(person):
        return Standing.ENROL
    return None


def pending(session: Any) -> Standing | None:
    raw = session.get(SESSION_KEY)
    return Standing(raw) if raw in set(Standing) else None


def qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// address as an inline SVG QR code, drawn on the server."""
    return str(segno.make(device.config_url, error="m").svg_inline(scale=5, border=2, dark="#111"))


def secret_for_typing(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for apps where it is typed in."""
    text = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))
