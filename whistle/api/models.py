"""API tokens and the answers kept for retried requests.

A token's secret is shown once, when it is made; the database keeps only its SHA-256 digest
and a short prefix that names it in lists. A token acts for its person with the roles it
carries, never more than the person still holds (`RoleAssignment.objects.held_by`). A
service token is the token of a system account an administrator set up with the roles a
connected system needs (the 12345 platform, a city dashboard).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from whistle.organisation.models import RoleAssignment


class ApiToken(models.Model):
    class Kind(models.TextChoices):
        PERSONAL = "personal", _("personal token")
        SERVICE = "service", _("service token")

    uuid = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acts as"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    # The first characters of the secret, to recognise a token in a list or a log.
    prefix = models.CharField(_("prefix"), max_length=16, db_index=True, editable=False)
    digest = models.CharField(
        _("SHA-256 of the secret"), max_length=64, unique=True, editable=False
    )
    roles = models.ManyToManyField(
        RoleAssignment, verbose_name=_("roles it carries"), related_name="+", blank=True
    )
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class IdempotentRequest(models.Model):
    """The first answer to a POST sent with an Idempotency-Key, replayed to its retries.

    `owner` is the token (`token:<uuid>`) or the signed-in person (`person:<id>`) that sent
    it; a row without a status is a request still running."""

    owner = models.CharField(_("owner"), max_length=60)
    key = models.CharField(_("key"), max_length=200)
    fingerprint = models.CharField(_("fingerprint of the request"), max_length=64)
    status = models.PositiveSmallIntegerField(_("status"), null=True, blank=True)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    body = models.BinaryField(_("body"), blank=True, default=b"")
    created_at = models.DateTimeField(_("created at"))
    # Until when the answer is replayed: WHISTLE_API_IDEMPOTENCY_HOURS after the first attempt,
    # or, for a request sent from a phone's queue, as long as such a request is accepted.
    kept_until = models.DateTimeField(_("kept until"), null=True, blank=True)

    class Meta:
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotent_request_unique")
        ]
        indexes = [
            models.Index(fields=["owner", "created_at"]),
            models.Index(fields=["owner", "kept_until"]),
            # The worker's pruning of every owner's expired keys.
            models.Index(fields=["kept_until"]),
        ]

    def __str__(self) -> str:
        return f"{self.owner} · {self.key}"
