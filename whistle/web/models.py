"""The one-time keys of the forms that file something (`whistle/web/once.py`)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SentForm(models.Model):
    """A form's one-time key, claimed in the transaction that filed what the form sent, with
    the reference of what it filed. Not personal data: a random key, a time, a reference."""

    key = models.CharField(_("key"), max_length=64, unique=True)
    sent_at = models.DateTimeField(_("sent at"), db_index=True)
    reference = models.CharField(_("reference number"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("sent form")
        verbose_name_plural = _("sent forms")

    def __str__(self) -> str:
        return self.key
