"""What sign-in keeps besides Django's sessions and django-otp's TOTP devices: the recovery
codes of a person's second factor (hashed), the sessions a person is signed in with, a new
phone number or e-mail address waiting for its code (the code's keyed digest only) and the
log of changes to where a person is reached."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin

from whistle.organisation.logs import AppendOnlyLog

# Recovery codes are random, not chosen by people, so a salted SHA-256 is as good as a
# slow password hash here: there is nothing to guess from the digest.
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
RECOVERY_LENGTH = 10


def normalise_recovery_code(code: str) -> str:
    """The code as it is stored: upper case, without the spaces and hyphens it was shown with."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def recovery_digest(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{normalise_recovery_code(code)}".encode()).hexdigest()


class RecoveryCodeDevice(ThrottlingMixin, Device):
    """A person's sheet of one-time recovery codes, for when the phone with the
    authenticator app is lost. Each code works once; only digests are stored."""

    class Meta(Device.Meta):
        verbose_name = _("recovery code sheet")
        verbose_name_plural = _("recovery code sheets")

    def issue(self, count: int) -> list[str]:
        """Replace the sheet's codes with ``count`` new ones and return them, to show once."""
        self.codes.all().delete()
        codes = []
        for _n in range(count):
            code = "".join(secrets.choice(RECOVERY_ALPHABET) for _c in range(RECOVERY_LENGTH))
            salt = secrets.token_hex(8)
            RecoveryCode.objects.create(device=self, salt=salt, digest=recovery_digest(salt, code))
            codes.append(f"{code[:5]}-{code[5:]}")
        return codes

    def remaining(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()

    def verify_token(self, token: object) -> bool:
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        text = normalise_recovery_code(str(token))
        match = None
        if len(text) == RECOVERY_LENGTH:
            for code in self.codes.select_for_update().filter(used_at__isnull=True):
                if hmac.compare_digest(code.digest, recovery_digest(code.salt, text)):
                    match = code
        if match is None:
            self.throttle_increment()
            return False
        match.used_at = timezone.now()
        match.save(update_fields=["used_at"])
        self.throttle_reset()
        return True

    def get_throttle_factor(self) -> int:
        return 1


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    salt = models.CharField(max_length=16)
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")

    def __str__(self) -> str:
        # Never the code: only its digest is known.
        return f"{self.device} #{self.pk}"


class SignedInSession(models.Model):
    """A session a person signed in with, so that the person can see where they are signed
    in and end every one of them (the session store itself cannot be searched by person)."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="signed_in_sessions",
    )
    session_key = models.CharField(max_length=40, unique=True)
    signed_in_at = models.DateTimeField(_("signed in at"), default=timezone.now)
    user_agent = models.CharField(_("browser"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("signed-in session")
        verbose_name_plural = _("signed-in sessions")
        ordering = ["-signed_in_at"]

    def __str__(self) -> str:
        return f"{self.person} · {self.signed_in_at:%Y-%m-%d %H:%M}"


class ContactKind(models.TextChoices):
    """Where a person is reached outside the in-app inbox, by SMS or by e-mail."""

    PHONE = "phone", _("mobile phone")
    EMAIL = "email", _("e-mail address")


class PendingContact(models.Model):
    """A new phone number or e-mail address a person gave, not yet theirs: it replaces the
    one on their profile only once the code sent to it comes back. One per person and kind;
    asking again replaces it. Only a keyed digest of the code is kept."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="pending_contacts",
    )
    kind = models.CharField(_("kind"), max_length=8, choices=ContactKind.choices)
    address = models.CharField(_("new address"), max_length=254)
    salt = models.CharField(max_length=32)
    digest = models.CharField(max_length=64)
    sent_at = models.DateTimeField(_("code sent at"))
    expires_at = models.DateTimeField(_("code valid until"))
    wrong_tries = models.PositiveSmallIntegerField(_("wrong codes entered"), default=0)

    class Meta:
        verbose_name = _("new address waiting for its code")
        verbose_name_plural = _("new addresses waiting for their code")
        constraints = [
            models.UniqueConstraint(fields=["person", "kind"], name="pending_contact_one_per_kind")
        ]
        # The worker's sweep looks for the addresses whose code expired long enough ago.
        indexes = [models.Index(fields=["expires_at"], name="pending_contact_expiry")]

    def __str__(self) -> str:
        # Never the code: only its digest is known.
        return f"{self.person} · {self.get_kind_display()}"


class ContactLogEntry(AppendOnlyLog):
    """One step of a change to where a person is reached: a code sent, the address changed,
    the change given up, the new address forgotten (its code long expired, or erased on
    request; no one is named as the actor, the role is "system"). It names neither the code
    nor the addresses, so that it holds no personal data the erasure of a person would have
    to reach."""

    class Step(models.TextChoices):
        CODE_SENT = "code_sent", _("code sent to the new address")
        CHANGED = "changed", _("address changed")
        TOO_MANY_TRIES = "too_many_tries", _("code entered wrongly too often")
        CANCELLED = "cancelled", _("change given up")
        EXPIRED = "expired", _("new address forgotten a day after its code expired")
        ERASED = "erased", _("new number erased at its owner's request")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=8, choices=ContactKind.choices)
    step = models.CharField(_("step"), max_length=16, choices=Step.choices)

    log_name = "the log of changes to contact addresses"

    class Meta:
        verbose_name = _("change of contact address")
        verbose_name_plural = _("changes of contact addresses")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["person", "step", "at"], name="contact_log_person_step")]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_kind_display()} · {self.get_step_display()}"
