"""Day-to-day management of stationed enforcement staff (派驻人员日常管理考核权).

The township keeps its own roster of the people each department stations in its 1+5+N
enforcement centre (`Stationing`, on the department's `CentreMembership`), their daily
attendance (`StationedAttendance`), their leave (`StationedLeave`) and its monthly
assessment of each of them (`StationedAssessment`), which the department sees and which
feeds the department's score (`Scheme.stationed_share`).

Every change is an action of `whistle.township.stationed_actions` that appends a
`TownshipLogEntry`.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from whistle.organisation.models import CentreMembership, Department, Jurisdiction


class StationingQuerySet(models.QuerySet["Stationing"]):
    def active_on(self, day: date) -> StationingQuerySet:
        """The stationings that cover the day: begun on or before it and not ended before."""
        return self.filter(Q(ended_on__isnull=True) | Q(ended_on__gte=day), started_on__lte=day)


class Stationing(models.Model):
    """One person a department stations in a township's enforcement centre, from one day to
    another (open while it lasts)."""

    membership = models.ForeignKey(
        CentreMembership,
        verbose_name=_("department in the centre"),
        on_delete=models.PROTECT,
        related_name="stationings",
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("stationed person"),
        on_delete=models.PROTECT,
        related_name="stationings",
    )
    post = models.CharField(_("post in the centre"), max_length=60, blank=True)
    started_on = models.DateField(_("stationed from"))
    ended_on = models.DateField(_("stationed until"), null=True, blank=True)
    end_reason = models.CharField(_("why the stationing ended"), max_length=200, blank=True)

    objects = StationingQuerySet.as_manager()

    class Meta:
        verbose_name = _("stationed person")
        verbose_name_plural = _("stationed people")
        ordering = ["membership__township__code", "membership__department__name", "started_on"]
        indexes = [models.Index(fields=["person", "started_on"], name="stationing_person")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="stationing_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.membership.department} · {self.membership.township}"

    @property
    def township(self) -> Jurisdiction:
        return self.membership.township

    @property
    def department(self) -> Department:
        return self.membership.department

    def covers(self, day: date) -> bool:
        return self.started_on <= day and (self.ended_on is None or day <= self.ended_on)


class StationedAttendance(models.Model):
    """The person was at the centre that day: signed in on their phone, or recorded by the
    township's centre keeper."""

    class How(models.TextChoices):
        SELF = "self", _("signed in on the phone")
        KEEPER = "keeper", _("recorded by the centre keeper")

    stationing = models.ForeignKey(
        Stationing,
        verbose_name=_("stationed person"),
        on_delete=models.PROTECT,
        related_name="attendance",
    )
    day = models.DateField(_("day"))
    signed_at = models.DateTimeField(_("time of sign-in"))
    how = models.CharField(_("how"), max_length=8, choices=How.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("attendance at the centre")
        verbose_name_plural = _("attendance at the centre")
        ordering = ["-day", "stationing"]
        constraints = [
            models.UniqueConstraint(fields=["stationing", "day"], name="attendance_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.stationing} · {self.day}"


class StationedLeave(models.Model):
    """Leave a stationed person asks for, from one day to another, and the township's
    decision on it."""

    class State(models.TextChoices):
        ASKED = "asked", _("awaiting the township")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("not approved")

    stationing = models.ForeignKey(
        Stationing,
        verbose_name=_("stationed person"),
        on_delete=models.PROTECT,
        related_name="leaves",
    )
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))
    reason = models.TextField(_("reason"))
    asked_at = models.DateTimeField(_("asked at"))
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default="asked")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decision_note = models.TextField(_("the township's note"), blank=True)

    class Meta:
        verbose_name = _("leave of a stationed person")
        verbose_name_plural = _("leave of stationed people")
        ordering = ["-first_day", "-pk"]
        indexes = [models.Index(fields=["state", "first_day"], name="leave_state")]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__gte=models.F("first_day")), name="leave_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.stationing} · {self.first_day}–{self.last_day}"


class StationedAssessment(models.Model):
    """The township's assessment of one stationed person for one month: a score (0–100)
    with its reasons and the facts it was based on. Published once; the person's
    department sees it."""

    stationing = models.ForeignKey(
        Stationing,
        verbose_name=_("stationed person"),
        on_delete=models.PROTECT,
        related_name="assessments",
    )
    month = models.DateField(_("month"))
    score = models.DecimalField(
        _("score"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    reasons = models.TextField(_("reasons"))
    # The month's attendance and summonses as the assessor saw them (counts only).
    facts = models.JSONField(_("facts"), default=dict, blank=True)
    published_at = models.DateTimeField(_("published at"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("monthly assessment of a stationed person")
        verbose_name_plural = _("monthly assessments of stationed people")
        ordering = ["-month", "stationing"]
        constraints = [
            models.UniqueConstraint(
                fields=["stationing", "month"], name="stationed_assessment_once_a_month"
            )
        ]

    def __str__(self) -> str:
        return f"{self.stationing} · {self.month:%Y-%m}: {self.score}"
