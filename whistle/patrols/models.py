"""Patrols: a steward or chief walks a lane, the route is recorded, the checklist ticked.

State changes happen only in `whistle.patrols.actions`. What the chiefs' assessment counts
is stored on the patrol itself (its person, lane, role, times, distance, how much of the
lane the route covered) so that counting patrols needs no route points.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from whistle.cases.models import Case
from whistle.organisation.logs import AppendOnlyLog
from whistle.organisation.models import Jurisdiction, Lane, Role


class Patrol(models.Model):
    """One walk of one person along one lane."""

    class Location(models.TextChoices):
        """Whether the browser gave positions for the route."""

        PENDING = "pending", _("waiting for the first position")
        RECORDING = "recording", _("recording the route")
        DENIED = "denied", _("position access denied")
        UNAVAILABLE = "unavailable", _("position unavailable")
        UNSUPPORTED = "unsupported", _("the browser cannot give positions")

    uuid = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="patrols",
    )
    lane = models.ForeignKey(
        Lane, verbose_name=_("lane"), on_delete=models.PROTECT, related_name="patrols"
    )
    # The role the person patrolled in (steward, lane chief…), for the assessment.
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity at"))
    # The items to check, as they were when the patrol started.
    checklist = models.JSONField(_("checklist"), default=list, blank=True)
    location = models.CharField(
        _("positions"), max_length=16, choices=Location.choices, default=Location.PENDING
    )
    point_count = models.PositiveIntegerField(_("positions received"), default=0)
    counted_point_count = models.PositiveIntegerField(_("positions on the route"), default=0)
    distance_m = models.FloatField(_("distance walked (m)"), default=0.0)
    # Share of the lane's centre line the route came near (0–1), computed at the end.
    covered_ratio = models.FloatField(_("share of the lane covered"), null=True, blank=True)

    class Meta:
        verbose_name = _("patrol")
        verbose_name_plural = _("patrols")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(ended_at__isnull=True),
                name="patrol_one_open_per_person",
            )
        ]
        indexes = [
            models.Index(fields=["person", "started_at"]),
            models.Index(fields=["lane", "started_at"]),
            models.Index(fields=["started_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.lane} · {self.person} · {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class RoutePoint(models.Model):
    """A position the browser recorded during a patrol, WGS-84."""

    patrol = models.ForeignKey(
        Patrol, verbose_name=_("patrol"), on_delete=models.CASCADE, related_name="points"
    )
    # The browser's own numbering, so that a batch sent twice is stored once.
    seq = models.PositiveIntegerField(_("sequence"))
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    accuracy_m = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))
    received_at = models.DateTimeField(_("received at"))
    # Part of the walked route: accurate enough, a real step, not an impossible jump.
    counted = models.BooleanField(_("counted in the distance"), default=False)

    class Meta:
        verbose_name = _("route point")
        verbose_name_plural = _("route points")
        ordering = ["patrol", "recorded_at", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["patrol", "seq"], name="route_point_unique_seq")
        ]
        indexes = [models.Index(fields=["patrol", "recorded_at"])]

    def __str__(self) -> str:
        return f"{self.patrol_id}#{self.seq}"


class CheckResult(models.Model):
    """One checklist item on one patrol."""

    class Result(models.TextChoices):
        OK = "ok", _("ok")
        PROBLEM = "problem", _("problem")
        NOT_CHECKED = "not_checked", _("not checked")

    class Outcome(models.TextChoices):
        NONE = "", _("—")
        FIXED = "fixed", _("fixed on the spot")
        REPORTED = "reported", _("reported")

    patrol = models.ForeignKey(
        Patrol, verbose_name=_("patrol"), on_delete=models.CASCADE, related_name="checks"
    )
    item = models.CharField(_("item"), max_length=40)
    label = models.CharField(_("item text"), max_length=100)
    # What the check found (正常/有问题/未检查), not a department's result (处置结果).
    result = models.CharField(
        pgettext_lazy("checklist", "result"), max_length=16, choices=Result.choices
    )
    outcome = models.CharField(
        _("what was done"), max_length=16, choices=Outcome.choices, default="", blank=True
    )
    case = models.ForeignKey(
        Case,
        verbose_name=_("case"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="patrol_checks",
    )
    note = models.TextField(_("note"), blank=True)
    checked_at = models.DateTimeField(_("checked at"))

    class Meta:
        verbose_name = _("check")
        verbose_name_plural = _("checks")
        ordering = ["patrol", "pk"]
        constraints = [models.UniqueConstraint(fields=["patrol", "item"], name="check_unique_item")]

    def __str__(self) -> str:
        return f"{self.label}: {self.get_result_display()}"


class PatrolEvent(models.Model):
    """The patrol's record of what happened: start, each check, positions refused, end."""

    class Kind(models.TextChoices):
        STARTED = "started", _("patrol started")
        CHECKED = "checked", _("item checked")
        LOCATION = "location", _("positions status changed")
        ENDED = "ended", _("patrol ended")

    patrol = models.ForeignKey(
        Patrol, verbose_name=_("patrol"), on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(_("time"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("patrol event")
        verbose_name_plural = _("patrol events")
        ordering = ["patrol", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.patrol_id} {self.kind}"


# The posts a chiefs' office appoints to a lane.
CHIEF_ROLE_CHOICES = [
    (Role.STREET_CHIEF.value, Role.STREET_CHIEF.label),
    (Role.LANE_CHIEF.value, Role.LANE_CHIEF.label),
]


class ChiefAppointment(models.Model):
    """A street or lane chief appointed to a lane by a chiefs' office, from a day to a day.

    A lane may have two or more chiefs at once. The chiefs' assessment counts a chief on a
    lane only for the days the appointment covers (`whistle.assessment.chiefs`); while it
    runs the chief holds the role on the lane (`RoleAssignment`), which lets them patrol it.
    Written only by the actions in `whistle.patrols.appointments`, each with its log row.
    """

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("appointed person"),
        on_delete=models.PROTECT,
        related_name="chief_appointments",
    )
    lane = models.ForeignKey(
        Lane,
        verbose_name=_("lane"),
        on_delete=models.PROTECT,
        related_name="chief_appointments",
    )
    role = models.CharField(_("role"), max_length=32, choices=CHIEF_ROLE_CHOICES)
    starts_on = models.DateField(_("from"))
    # The last day held; empty while the appointment runs.
    ends_on = models.DateField(_("until"), null=True, blank=True)
    end_reason = models.CharField(_("reason for ending"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("chief's appointment")
        verbose_name_plural = _("chiefs' appointments")
        ordering = ["lane_id", "-starts_on", "pk"]
        indexes = [models.Index(fields=["lane", "starts_on"])]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_role_display()} · {self.lane_id}"

    @property
    def is_running(self) -> bool:
        return self.ends_on is None


class AppointmentEvent(AppendOnlyLog):
    """The appointments' log, append-only: who appointed or ended whose appointment, in
    which role, when, and why."""

    class Kind(models.TextChoices):
        APPOINTED = "appointed", _("appointed")
        ENDED = "ended", _("appointment ended")

    log_name = "the appointment log"

    appointment = models.ForeignKey(
        ChiefAppointment,
        verbose_name=_("appointment"),
        on_delete=models.PROTECT,
        related_name="events",
    )
    kind = models.CharField(_("what"), max_length=16, choices=Kind.choices)
    # Every appointment is made by someone, in a role.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_role = models.CharField(_("in the role of"), max_length=32)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("appointment log entry")
        verbose_name_plural = _("appointment log")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.at:%Y-%m-%d}"


class TrainingSession(models.Model):
    """A training session the chiefs' office of a district or township, or the township,
    held for its chiefs and/or alley stewards (街巷长办公室……对街巷长开展培训). Written only
    by `whistle.patrols.training`, with who recorded it and when."""

    class Audience(models.TextChoices):
        CHIEFS = "chiefs", _("street and lane chiefs")
        STEWARDS = "stewards", _("alley stewards")
        BOTH = "both", _("chiefs and stewards")

    organiser = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("held by"),
        on_delete=models.PROTECT,
        related_name="training_sessions",
    )
    topic = models.CharField(_("topic"), max_length=120)
    held_on = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=120)
    trainer = models.CharField(_("trainer"), max_length=60)
    audience = models.CharField(_("for"), max_length=16, choices=Audience.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_role = models.CharField(_("in the role of"), max_length=32)
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")
        ordering = ["-held_on", "-pk"]
        indexes = [models.Index(fields=["organiser", "held_on"])]

    def __str__(self) -> str:
        return f"{self.held_on} · {self.topic}"


class TrainingAttendance(models.Model):
    """One chief's or steward's attendance at a training session, recorded by the office
    that held it (never by the attendee)."""

    session = models.ForeignKey(
        TrainingSession,
        verbose_name=_("training session"),
        on_delete=models.PROTECT,
        related_name="attendances",
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("attendee"),
        on_delete=models.PROTECT,
        related_name="training_attendances",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("training attendance")
        verbose_name_plural = _("training attendances")
        constraints = [
            models.UniqueConstraint(fields=["session", "person"], name="one_attendance_each")
        ]

    def __str__(self) -> str:
        return f"{self.session_id} · {self.person_id}"


class Recognition(models.Model):
    """A recognition (表彰) of a chief or an alley steward by a chiefs' office, with its
    reasons; shown on the chiefs' assessment and on the person's own patrol page."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recognised person"),
        on_delete=models.PROTECT,
        related_name="recognitions",
    )
    role = models.CharField(_("as"), max_length=32)
    office = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("chiefs' office of"),
        on_delete=models.PROTECT,
        related_name="recognitions",
    )
    reasons = models.TextField(_("reasons"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("recognition")
        verbose_name_plural = _("recognitions")
        ordering = ["-recorded_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.person_id} · {self.recorded_at:%Y-%m-%d}"
