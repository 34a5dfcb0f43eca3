"""Every change to a person's sign-in: one function each, in one transaction, logged.

These change no case, so they leave no trail event; each is written to the
``whistle.accounts`` log with the person's username (never a code or a secret).
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import transaction
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from whistle.accounts.models import RecoveryCodeDevice, SignedInSession
from whistle.accounts.twofactor import RECOVERY_CODE_COUNT, required

log = logging.getLogger("whistle.accounts")


class SecondFactorRefused(Exception):
    """A change to two-factor sign-in that the rules do not allow."""


def begin_enrolment(person: Any) -> TOTPDevice:
    """The authenticator being set up: the one already begun, or a new secret."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=person, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=person, name="authenticator", confirmed=False)
    return device


def confirm_enrolment(person: Any, token: str) -> list[str] | None:
    """Confirm the authenticator being set up by its first code. It replaces any earlier
    one, and a new sheet of recovery codes is issued: returned to be shown once. None when
    the code is wrong (the failure counts towards the device's throttle)."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=person, confirmed=False).first()
        if device is None or not device.verify_token(token):
            return None
        TOTPDevice.objects.filter(user=person, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _issue_recovery_codes(person)
    log.info("two-factor sign-in set up by %s", person.username)
    return codes


def new_recovery_codes(person: Any) -> list[str]:
    """A new sheet of recovery codes; the earlier codes stop working."""
    with transaction.atomic():
        if not TOTPDevice.objects.filter(user=person, confirmed=True).exists():
            raise SecondFactorRefused("no authenticator is set up")
        codes = _issue_recovery_codes(person)
    log.info("new recovery codes issued to %s", person.username)
    return codes


def _issue_recovery_codes(person: Any) -> list[str]:
    sheet, _created = RecoveryCodeDevice.objects.get_or_create(
        user=person, defaults={"name": "recovery codes", "confirmed": True}
    )
    return sheet.issue(RECOVERY_CODE_COUNT)


def turn_off_two_factor(person: Any) -> None:
    """Remove the authenticator and the recovery codes of a person who need not use them."""
    if required(person):
        raise SecondFactorRefused("two-factor sign-in is required of this person's roles")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=person).delete()
        RecoveryCodeDevice.objects.filter(user=person).delete()
    log.info("two-factor sign-in turned off by %s", person.username)


def verify_second_factor(person: Any, token: str) -> Device | None:
    """The device that accepts the code: six digits are the authenticator's, anything
    longer a recovery code. Each device throttles its own failures."""
    text = "".join(token.split())
    model: type[Device] = TOTPDevice if text.isdigit() and len(text) <= 8 else RecoveryCodeDevice
    with transaction.atomic():
        device = model.objects.select_for_update().filter(user=person, confirmed=True).first()
        if device is None or not device.verify_token(text):
            return None
    if isinstance(device, RecoveryCodeDevice):
        log.warning("%s signed in with a recovery code", person.username)
    return device


def sign_out_everywhere(person: Any, *, keep: str | None = None) -> int:
    """End every session the person is signed in with, but the one to keep (if any)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    with transaction.atomic():
        rows = list(
            SignedInSession.objects.select_for_update()
            .filter(person=person)
            .exclude(session_key=keep or "")
        )
        for row in rows:
            store(session_key=row.session_key).delete()
        SignedInSession.objects.filter(pk__in=[row.pk for row in rows]).delete()
    log.info("%s signed out of %d sessions", person.username, len(rows))
    return len(rows)
