"""Changing where a person is reached: their mobile phone and their e-mail address.

A new address becomes the person's only once they prove it reaches them: a six-digit code
goes to the new address (never the old one) through the product's SMS gateway or mail
server, valid `CODE_MINUTES`; `MAX_WRONG_TRIES` wrong codes void it. Until then the profile
keeps the old address, and every message goes there. Codes are rate-limited per person: one
every `RESEND_SECONDS`, at most `CODES_PER_HOUR` in an hour, whichever address they go to.
In the demo, where no gateway delivers the code, the page is handed it to show
(`Sent.demo_code`); never with a real gateway or outside the demo.

Each step is one function, in one transaction with its entry in `ContactLogEntry`, which
names neither the code nor an address. Only a keyed digest of the code is kept (HMAC under
the server's secret key, so that the digest cannot be tried against every six digits).

A new address is kept no longer than its purpose needs: the worker's `sweep` forgets it
`FORGOTTEN_AFTER` its code expired, and `whistle erase-personal-data --phone` erases a
number waiting for its code (`erase_on_request`, a receiver of `erasure_requested`).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from whistle.accounts.models import ContactKind, ContactLogEntry, PendingContact
from whistle.notifications.conf import sms_backend_path
from whistle.notifications.direct import send_now
from whistle.notifications.errors import DeliveryError
from whistle.notifications.models import Channel
from whistle.organisation.models import Person
from whistle.organisation.personal_data import mask_phone, normal_phone

CODE_DIGITS = 6
CODE_MINUTES = 10
MAX_WRONG_TRIES = 5
RESEND_SECONDS = 60
CODES_PER_HOUR = 5
# The kind an SMS template is chosen by in WHISTLE_SMS_TEMPLATES; its parameter `code`.
CODE_KIND = "account.contact_code"
# How long an address whose code expired stays, so that the person still sees why it did
# not become theirs, before the worker forgets it.
FORGOTTEN_AFTER = timedelta(days=1)
# The role a person acts in when they change their own profile; the role of the worker and
# of the erasure command, which act for no one.
OWN_ROLE = "self"
SYSTEM_ROLE = "system"

_CHANNEL = {ContactKind.PHONE: Channel.SMS, ContactKind.EMAIL: Channel.EMAIL}
_HMAC_SALT = "whistle.accounts.contact-code"
# The backends that deliver nothing: the message goes to the server's output or memory only.
_NO_GATEWAY = {
    "whistle.notifications.sms.ConsoleSmsBackend",
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
}


class ContactRefused(Exception):
    """A change of address the rules do not allow; the message says why in the person's
    language."""


@dataclass(frozen=True)
class Sent:
    """A code went out: where to, and until when it works. `demo_code` is the code itself,
    only in the demo (`WHISTLE_DEMO_MODE`) when no gateway delivered it (`delivers_nothing`),
    so that the page can show it; empty otherwise."""

    address: str
    expires_at: datetime
    demo_code: str = ""


def mainland_mobile(text: str) -> str | None:
    """The mainland mobile number (11 digits, 1[3-9]…) however it was typed: with spaces,
    hyphens or brackets, with +86 or 0086 in front. None for anything else."""
    return normal_phone(text, mobile_only=True)


def clean_address(kind: str, text: str) -> str:
    """The address as it is kept, or `ContactRefused` saying what is wrong with it."""
    text = (text or "").strip()
    if kind == ContactKind.PHONE:
        phone = mainland_mobile(text)
        if phone is None:
            raise ContactRefused(
                _(
                    "Enter a mainland mobile number: 11 digits starting with 13 to 19, "
                    "e.g. 13812345678."
                )
            )
        return phone
    try:
        validate_email(text)
    except ValidationError:
        raise ContactRefused(_("Enter an e-mail address such as name@example.com.")) from None
    return BaseUserManager.normalize_email(text)


def current_address(person: Person, kind: str) -> str:
    return person.phone if kind == ContactKind.PHONE else person.email


def masked_address(kind: str, address: str) -> str:
    """138****5678 for a phone number, n***@example.com for an e-mail address."""
    if kind == ContactKind.PHONE:
        return mask_phone(address)
    local, at, domain = address.partition("@")
    return f"{local[:1]}***{at}{domain}" if local else ""


def delivers_nothing(kind: str) -> bool:
    """Whether a message of this kind only reaches the server's output or memory: the
    console SMS backend, Django's console or in-memory mail backend."""
    backend = sms_backend_path() if kind == ContactKind.PHONE else settings.EMAIL_BACKEND
    return backend in _NO_GATEWAY


def code_digest(pending: PendingContact, code: str) -> str:
    message = f"{pending.salt}:{pending.person_id}:{pending.kind}:{pending.address}:{code}"
    return salted_hmac(_HMAC_SALT, message, algorithm="sha256").hexdigest()


def _log(person: Person, kind: str, step: str, now: datetime) -> None:
    ContactLogEntry.objects.create(
        at=now, actor=person, actor_role=OWN_ROLE, person=person, kind=kind, step=step
    )


def _forget(rows: list[tuple[int, int, str]], step: str, now: datetime, **still: Any) -> int:
    """Forget the waiting addresses `rows` (id, person's id, kind) that still match `still`,
    each in its own transaction with its log entry; returns how many went. The person is
    locked first, as the person's own steps do, so that neither waits on the other."""
    forgotten = 0
    for pk, person_id, kind in rows:
        with transaction.atomic():
            list(Person.objects.select_for_update().filter(pk=person_id).values_list("pk"))
            deleted, _by_model = PendingContact.objects.filter(pk=pk, **still).delete()
            if deleted:
                ContactLogEntry.objects.create(
                    at=now,
                    actor=None,
                    actor_role=SYSTEM_ROLE,
                    person_id=person_id,
                    kind=kind,
                    step=step,
                )
                forgotten += 1
    return forgotten


def forget_expired(now: datetime, *, limit: int | None = None) -> int:
    """Forget the new addresses whose code expired more than `FORGOTTEN_AFTER` ago (at most
    `limit`, the longest expired first); returns how many went. Running it again forgets
    nothing more: a row is deleted only while its code is still that old, so an address
    given again meanwhile stays."""
    cutoff = now - FORGOTTEN_AFTER
    rows = PendingContact.objects.filter(expires_at__lt=cutoff).order_by("expires_at", "pk")
    found = list(rows.values_list("pk", "person_id", "kind")[:limit])
    return _forget(found, ContactLogEntry.Step.EXPIRED, now, expires_at__lt=cutoff)


def sweep(now: datetime, *, batch: int) -> int:
    """The worker's sweep (WHISTLE_WORKER_SWEEPS): forget a batch of long-expired addresses."""
    return forget_expired(now, limit=batch)


def erase_on_request(*, phone: str = "", expired: bool = False, now: datetime, **_: Any) -> int:
    """The receiver of `whistle.organisation.personal_data.erasure_requested`: a phone number
    waiting for its code, however it was written, is erased (its owner may not be the
    person who typed it, so the account itself stays); with `expired`, the long-expired
    addresses. Returns how many went."""
    count = 0
    # A waiting number is kept as `mainland_mobile` writes it; no other number can wait.
    wanted = mainland_mobile(phone)
    if wanted:
        rows = PendingContact.objects.filter(kind=ContactKind.PHONE, address=wanted)
        found = list(rows.values_list("pk", "person_id", "kind"))
        count += _forget(found, ContactLogEntry.Step.ERASED, now, address=wanted)
    if expired:
        count += forget_expired(now)
    return count


def _check_rate(person: Person, now: datetime) -> None:
    sent = list(
        ContactLogEntry.objects.filter(
            person=person,
            step=ContactLogEntry.Step.CODE_SENT,
            at__gt=now - timedelta(hours=1),
        )
        .order_by("-at")
        .values_list("at", flat=True)
    )
    if sent and now - sent[0] < timedelta(seconds=RESEND_SECONDS):
        wait = RESEND_SECONDS - int((now - sent[0]).total_seconds())
        raise ContactRefused(
            _("A code was sent a moment ago. Ask for another in %(n)s seconds.") % {"n": wait}
        )
    if len(sent) >= CODES_PER_HOUR:
        again = timezone.localtime(sent[-1] + timedelta(hours=1))
        raise ContactRefused(
            _("You asked for %(n)s codes within an hour. Ask for another after %(time)s.")
            % {"n": CODES_PER_HOUR, "time": again.strftime("%H:%M")}
        )


def _message(kind: str, code: str) -> tuple[str, str]:
    subject = _("Your Whistle verification code")
    if kind == ContactKind.PHONE:
        body = _(
            "Your Whistle verification code is %(code)s, valid for %(minutes)s minutes. "
            "If you did not ask for it, ignore this message."
        )
    else:
        body = _(
            "Your Whistle verification code is %(code)s, valid for %(minutes)s minutes. "
            "Enter it on your settings page to receive Whistle's messages at this address. "
            "If you did not ask for it, ignore this message: nothing changes."
        )
    return subject, body % {"code": code, "minutes": CODE_MINUTES}


def send_code(person: Person, kind: str, text: str, *, now: datetime | None = None) -> Sent:
    """Send a new code to the new address `text`; it waits for the code, replacing any
    address of this kind that was waiting. The profile keeps its address meanwhile.
    Refused for a malformed address, the address already on the profile, too many codes,
    or a gateway that did not take the message (then nothing is kept)."""
    kind = ContactKind(kind)
    address = clean_address(kind, text)
    now = now or timezone.now()
    with transaction.atomic():
        # One code at a time per person: the rate is counted under the person's lock.
        person = Person.objects.select_for_update().get(pk=person.pk)
        if address == current_address(person, kind):
            raise ContactRefused(_("This is already the address on your profile."))
        _check_rate(person, now)
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        pending = PendingContact.objects.filter(person=person, kind=kind).first() or (
            PendingContact(person=person, kind=kind)
        )
        pending.address = address
        pending.salt = secrets.token_hex(16)
        pending.digest = code_digest(pending, code)
        pending.sent_at = now
        pending.expires_at = now + timedelta(minutes=CODE_MINUTES)
        pending.wrong_tries = 0
        pending.save()
        _log(person, kind, ContactLogEntry.Step.CODE_SENT, now)
        subject, body = _message(kind, code)
        try:
            send_now(
                _CHANNEL[kind],
                address,
                kind=CODE_KIND,
                subject=subject,
                body=body,
                payload={"code": code, "minutes": CODE_MINUTES},
            )
        except DeliveryError:
            raise ContactRefused(
                _("The code could not be sent just now. Try again in a few minutes.")
            ) from None
    shown = settings.WHISTLE_DEMO_MODE and delivers_nothing(kind)
    return Sent(address=address, expires_at=pending.expires_at, demo_code=code if shown else "")


def send_again(person: Person, kind: str, *, now: datetime | None = None) -> Sent:
    """A new code to the address waiting for one (the earlier code stops working)."""
    pending = PendingContact.objects.filter(person=person, kind=kind).first()
    if pending is None:
        raise ContactRefused(_nothing_waiting())
    return send_code(person, kind, pending.address, now=now)


def _nothing_waiting() -> str:
    return _("No new address is waiting for a code: enter the new address first.")


def confirm(person: Person, kind: str, code: str, *, now: datetime | None = None) -> str:
    """The code came back: the waiting address replaces the profile's, and is returned.
    A wrong code counts (the fifth voids it); an expired one does not."""
    kind = ContactKind(kind)
    now = now or timezone.now()
    typed = "".join((code or "").split())
    refusal: ContactRefused | None = None
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        pending = PendingContact.objects.filter(person=person, kind=kind).first()
        if pending is None:
            raise ContactRefused(_nothing_waiting())
        if pending.wrong_tries >= MAX_WRONG_TRIES:
            raise ContactRefused(_too_many())
        if now >= pending.expires_at:
            raise ContactRefused(
                _("This code has expired (after %(n)s minutes). Ask for a new one.")
                % {"n": CODE_MINUTES}
            )
        right = len(typed) == CODE_DIGITS and typed.isdigit()
        if right:
            right = hmac.compare_digest(pending.digest, code_digest(pending, typed))
        if right:
            if kind == ContactKind.PHONE:
                person.phone = pending.address
            else:
                person.email = pending.address
            person.save(update_fields=[kind])
            pending.delete()
            _log(person, kind, ContactLogEntry.Step.CHANGED, now)
            return person.phone if kind == ContactKind.PHONE else person.email
        # The wrong try is kept: the refusal is raised once the transaction is written.
        pending.wrong_tries += 1
        pending.save(update_fields=["wrong_tries"])
        left = MAX_WRONG_TRIES - pending.wrong_tries
        if left:
            refusal = ContactRefused(_("This code is not right. %(n)s tries left.") % {"n": left})
        else:
            _log(person, kind, ContactLogEntry.Step.TOO_MANY_TRIES, now)
            refusal = ContactRefused(_too_many())
    raise refusal


def _too_many() -> str:
    return _("The code was entered wrongly %(n)s times and no longer works. Ask for a new one.") % {
        "n": MAX_WRONG_TRIES
    }


def give_up(person: Person, kind: str, *, now: datetime | None = None) -> bool:
    """Forget the address waiting for its code; False when none was waiting."""
    now = now or timezone.now()
    with transaction.atomic():
        deleted, _by_model = PendingContact.objects.filter(person=person, kind=kind).delete()
        if deleted:
            _log(person, kind, ContactLogEntry.Step.CANCELLED, now)
    return bool(deleted)


def forget_pending_of_inactive(sender: Any, instance: Person, **kwargs: Any) -> None:
    """An account that can no longer sign in keeps no address waiting for a code: erasing a
    person's data (which deactivates the account) erases it with the rest."""
    if not instance.is_active:
        PendingContact.objects.filter(person=instance).delete()
