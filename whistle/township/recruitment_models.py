"""The township's public calls for alley stewards (小巷管家), the applications they receive,
the steward teams (管家团) accepted applicants join, and the recruitment log.

An application holds the applicant's personal data (name, phone, date or year of birth,
health declaration): it stays on this row, shown in full only to the township that reviews
it, never copied into a log or the trail, and erased on request or, for a refused
application, when the district's retention period ends (`whistle.township.recruitment`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from whistle.organisation.logs import AppendOnlyLog
from whistle.organisation.models import Jurisdiction, Lane

DEFAULT_MIN_AGE = 18
DEFAULT_MAX_AGE = 75


class StewardTeam(models.Model):
    """A township's steward team (管家团): the stewards who look after lanes together."""

    township = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("township"),
        on_delete=models.PROTECT,
        related_name="steward_teams",
    )
    name = models.CharField(_("name"), max_length=60)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("members"),
        related_name="steward_teams",
        blank=True,
    )

    class Meta:
        verbose_name = _("steward team")
        verbose_name_plural = _("steward teams")
        ordering = ["township_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["township", "name"], name="one_team_name_per_township")
        ]

    def __str__(self) -> str:
        return self.name


class StewardCall(models.Model):
    """A public call for alley stewards, with its conditions, the lanes that need stewards
    and the closing date. Ages are in full years (周岁) on the call's date."""

    township = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("township"),
        on_delete=models.PROTECT,
        related_name="steward_calls",
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("what a steward does"), blank=True)
    lanes = models.ManyToManyField(
        Lane, verbose_name=_("lanes needing stewards"), related_name="steward_calls"
    )
    opens_on = models.DateField(_("date of the call"))
    closes_on = models.DateField(_("closing date"))
    min_age = models.PositiveSmallIntegerField(_("youngest age"), default=DEFAULT_MIN_AGE)
    max_age = models.PositiveSmallIntegerField(_("oldest age"), default=DEFAULT_MAX_AGE)
    party_preferred = models.BooleanField(_("Party members preferred"), default=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"))

    class Meta:
        verbose_name = _("call for stewards")
        verbose_name_plural = _("calls for stewards")
        ordering = ["-opens_on", "-pk"]

    def __str__(self) -> str:
        return self.title


class StewardApplication(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("awaiting review")
        ACCEPTED = "accepted", pgettext_lazy("steward application", "accepted")
        REFUSED = "refused", _("not accepted")

    call = models.ForeignKey(
        StewardCall,
        verbose_name=_("call"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    # The public reference the applicant follows the application by.
    reference = models.CharField(_("application reference"), max_length=12, unique=True)
    # Personal data: shown in full only to the reviewing township; erased on request or
    # after the retention period (then empty, with `erased_at`).
    name = models.CharField(_("full name"), max_length=60, blank=True)
    phone = models.CharField(_("mobile phone"), max_length=40, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)
    healthy = models.BooleanField(_("declares good health"), default=False)
    party_member = models.BooleanField(_("Party member"), default=False)
    preferred_lanes = models.ManyToManyField(
        Lane, verbose_name=_("preferred lanes"), related_name="+", blank=True
    )
    # The account the applicant was signed in with, if any: its holder may not review it.
    applicant_account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant's account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_reason = models.CharField(_("reason"), max_length=500, blank=True)
    # The steward the accepted applicant became, and the team they joined.
    steward = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("steward"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    team = models.ForeignKey(
        StewardTeam,
        verbose_name=_("steward team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    erased_at = models.DateTimeField(_("personal data erased at"), null=True, blank=True)

    class Meta:
        verbose_name = _("application to be a steward")
        verbose_name_plural = _("applications to be a steward")
        ordering = ["-submitted_at", "-pk"]
        indexes = [models.Index(fields=["status", "reviewed_at"])]

    def __str__(self) -> str:
        return self.reference


class RecruitmentEvent(AppendOnlyLog):
    """The recruitment log, append-only: who published a call, that an application arrived,
    who accepted or refused it and why, when its personal data was erased. It names the
    application by its reference, never the applicant."""

    class Kind(models.TextChoices):
        PUBLISHED = "published", _("call published")
        APPLIED = "applied", _("application received")
        ACCEPTED = "accepted", _("application accepted")
        REFUSED = "refused", _("application not accepted")
        ERASED = "erased", _("personal data erased")

    log_name = "the recruitment log"

    call = models.ForeignKey(
        StewardCall, verbose_name=_("call"), on_delete=models.PROTECT, related_name="events"
    )
    application = models.ForeignKey(
        StewardApplication,
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
    )
    kind = models.CharField(_("what"), max_length=16, choices=Kind.choices)
    # An application arrives from the public, in no role.
    actor_role = models.CharField(_("in the role of"), max_length=32, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("recruitment log entry")
        verbose_name_plural = _("recruitment log")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.at:%Y-%m-%d}"
