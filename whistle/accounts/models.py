"""What sign-in keeps besides Django's sessions and django-otp's TOTP devices: the recovery
codes of a person's second factor (hashed) and the sessions a person is signed in with."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin

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
