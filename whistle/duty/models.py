"""Duty rosters (值班表): who answers, at any hour, for a department, for a department's part
in a township's 1+5+N enforcement centre, or for a township's command centre.

A roster has rotations: the people who take turns, for every day or separately for working
days and rest days (weekends and public holidays, from the district's working calendar), with
the handovers of each day and how often the turn passes on. Approved swaps and covers lie
over the rotations. Every change is written by `whistle.duty.actions`, which keeps a log of
it (`RosterLogEntry`): who, when, what before and after. How a moment's duty is worked out is
`whistle.duty.schedule`; the rules are written out in docs/duty.md.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from whistle.organisation.logs import AppendOnlyLog
from whistle.organisation.models import Department, Jurisdiction

_HANDOVER = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
# More handovers than this in a day is not a roster anyone keeps.
MAX_HANDOVERS = 6


def parse_handovers(text: str) -> list[time]:
    """Read "08:00,20:00" into the times of day at which the duty changes hands, in order.

    The first is when the duty day begins: a night shift from 20:00 to 08:00 belongs to the
    day it started on.
    """
    chunks = [c for c in (text or "").replace("，", ",").replace("、", ",").split(",")]
    if not any(c.strip() for c in chunks):
        raise ValidationError(_("Give at least one handover time, e.g. 08:00."))
    found: list[time] = []
    for chunk in chunks:
        match = _HANDOVER.match(chunk)
        if not match:
            raise ValidationError(
                _("Handover times look like 08:00,20:00; cannot read: %(chunk)s"),
                params={"chunk": chunk.strip()},
            )
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour > 23 or minute > 59:
            raise ValidationError(_("Invalid time: %(chunk)s"), params={"chunk": chunk.strip()})
        moment = time(hour, minute)
        if found and moment <= found[-1]:
            raise ValidationError(_("Handover times must be in order within one day."))
        found.append(moment)
    if len(found) > MAX_HANDOVERS:
        raise ValidationError(_("At most %(max)s handovers a day."), params={"max": MAX_HANDOVERS})
    return found


def format_handovers(times: list[time]) -> str:
    return ",".join(t.strftime("%H:%M") for t in times)


def _validate_handovers(value: str) -> None:
    parse_handovers(value)


class Roster(models.Model):
    """Who is on duty for one unit. Exactly one of three owners:

    - a department alone: its own duty, wherever it is summoned;
    - a department and a township: the department's people in the township's enforcement
      centre (the township's 1+5+N, `CentreMembership`), who answer its summonses there;
    - a township alone: the township's own command centre.
    """

    class Kind(models.TextChoices):
        DEPARTMENT = "department", _("department")
        CENTRE = "centre", _("department in a township's enforcement centre")
        TOWNSHIP = "township", _("township command centre")

    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rosters",
    )
    township = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("township"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rosters",
        limit_choices_to={"level": Jurisdiction.Level.TOWNSHIP},
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("duty roster")
        verbose_name_plural = _("duty rosters")
        ordering = ["township__code", "department__name", "pk"]
        constraints = [
            models.UniqueConstraint(
                Coalesce("department", 0), Coalesce("township", 0), name="roster_unique_owner"
            ),
            models.CheckConstraint(
                condition=Q(department__isnull=False) | Q(township__isnull=False),
                name="roster_has_owner",
            ),
        ]

    def __str__(self) -> str:
        # Named in the reader's language: the roster's pages and downloads head with it.
        township = self.township.display_name if self.township is not None else ""
        if self.department is not None:
            department = self.department.display_name
            return f"{township} · {department}" if township else department
        return str(_("%(township)s command centre") % {"township": township})

    @property
    def kind(self) -> str:
        if self.department_id and self.township_id:
            return self.Kind.CENTRE
        if self.department_id:
            return self.Kind.DEPARTMENT
        return self.Kind.TOWNSHIP

    @property
    def district(self) -> Jurisdiction | None:
        """Whose working calendar the roster follows."""
        if self.department_id:
            assert self.department is not None
            return self.department.district
        return self.township.parent if self.township is not None else None


class Rotation(models.Model):
    """People taking turns on duty, for every day or for one kind of day.

    The day begins at the first handover; each handover starts a shift, the last one running
    to the next day's first. The turn passes on each shift, each day (of this rotation's
    kind) or each week, counted from `starts_on`, on which the first member is on duty; the
    rotation applies until `ends_on` (its last duty day) when one is set.
    """

    class Days(models.TextChoices):
        EVERY_DAY = "every_day", _("every day")
        WORKING_DAYS = "working_days", _("working days")
        REST_DAYS = "rest_days", _("rest days (weekends and public holidays)")

    class Turn(models.TextChoices):
        SHIFT = "shift", _("each shift")
        DAY = "day", _("each day")
        WEEK = "week", _("each week")

    roster = models.ForeignKey(
        Roster, verbose_name=_("duty roster"), on_delete=models.CASCADE, related_name="rotations"
    )
    days = models.CharField(_("days"), max_length=16, choices=Days.choices)
    handovers = models.CharField(
        _("handover times"),
        max_length=60,
        validators=[_validate_handovers],
        help_text=_("Beijing time, e.g. 08:00,20:00 for a day and a night shift"),
    )
    turn = models.CharField(_("the turn passes on"), max_length=8, choices=Turn.choices)
    starts_on = models.DateField(
        _("starts on"), help_text=_("The first member is on duty on this day")
    )
    ends_on = models.DateField(
        _("ends on"),
        null=True,
        blank=True,
        help_text=_("The last duty day of the rotation; blank: until it is changed"),
    )
    # Where the person on duty waits during this rotation's shifts (WGS-84), for the
    # reachability model (whistle.assessment.reachability); empty means the station of the
    # department or of its place in the centre.
    post_lon = models.FloatField(
        _("on-duty position longitude"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    post_lat = models.FloatField(
        _("on-duty position latitude"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )

    class Meta:
        verbose_name = _("rotation")
        verbose_name_plural = _("rotations")
        ordering = ["roster", "days"]
        constraints = [
            models.UniqueConstraint(fields=["roster", "days"], name="rotation_unique_days")
        ]

    def __str__(self) -> str:
        return f"{self.roster} · {self.get_days_display()}"

    def clean(self) -> None:
        if (self.post_lon is None) != (self.post_lat is None):
            raise ValidationError(
                _("Enter both the longitude and the latitude of the on-duty position")
            )

    @property
    def handover_times(self) -> list[time]:
        return parse_handovers(self.handovers)

    @property
    def post(self) -> tuple[float, float] | None:
        """Where the person on duty waits during the rotation's shifts, if set."""
        if self.post_lon is None or self.post_lat is None:
            return None
        return (self.post_lon, self.post_lat)


class RotationMember(models.Model):
    """One turn of a rotation: who is on duty, and who backs them up (by default the member
    whose turn comes next)."""

    rotation = models.ForeignKey(
        Rotation, verbose_name=_("rotation"), on_delete=models.CASCADE, related_name="members"
    )
    position = models.PositiveSmallIntegerField(_("order"))
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("on duty"),
        on_delete=models.PROTECT,
        related_name="duty_turns",
    )
    backup = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("backup"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("rotation member")
        verbose_name_plural = _("rotation members")
        ordering = ["rotation", "position"]
        constraints = [
            models.UniqueConstraint(fields=["rotation", "position"], name="rotation_member_order")
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.person}"


class DutyChange(models.Model):
    """A swap or a cover laid over the rotations, requested by someone and decided by a
    manager of the roster.

    A cover gives the duty from `starts_at` to `ends_at` to `person`. A swap does that too,
    and gives `replaces` (whose duty it was) the other period, `swap_starts_at` to
    `swap_ends_at`, that was `person`'s.
    """

    class Kind(models.TextChoices):
        COVER = "cover", _("cover")
        SWAP = "swap", _("swap")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("awaiting approval")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")
        WITHDRAWN = "withdrawn", _("withdrawn")
        CANCELLED = "cancelled", _("cancelled")

    uuid = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    roster = models.ForeignKey(
        Roster, verbose_name=_("duty roster"), on_delete=models.PROTECT, related_name="changes"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("takes the duty"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    replaces = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("instead of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    swap_starts_at = models.DateTimeField(_("in return, from"), null=True, blank=True)
    swap_ends_at = models.DateTimeField(_("in return, until"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("swap or cover")
        verbose_name_plural = _("swaps and covers")
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["roster", "status", "ends_at"], name="duty_change_live")]

    def __str__(self) -> str:
        return f"{self.roster} · {self.get_kind_display()} · {self.get_status_display()}"

    def periods(self) -> list[tuple[datetime, datetime, int]]:
        """(from, until, person id) for each period the change hands over."""
        found = [(self.starts_at, self.ends_at, self.person_id)]
        if (
            self.kind == self.Kind.SWAP
            and self.swap_starts_at is not None
            and self.swap_ends_at is not None
            and self.replaces_id is not None
        ):
            found.append((self.swap_starts_at, self.swap_ends_at, self.replaces_id))
        return found


class RosterLogEntry(AppendOnlyLog):
    """One change of a roster, as it was made: who, when, in which role, and the values
    before and after. Written by the actions only, never changed or removed."""

    class Action(models.TextChoices):
        ROSTER_STARTED = "roster.started", _("roster started")
        ROTATION_SAVED = "rotation.saved", _("rotation saved")
        ROTATION_REMOVED = "rotation.removed", _("rotation removed")
        CHANGE_REQUESTED = "change.requested", _("swap or cover requested")
        CHANGE_APPROVED = "change.approved", _("swap or cover approved")
        CHANGE_REFUSED = "change.refused", _("swap or cover refused")
        CHANGE_WITHDRAWN = "change.withdrawn", _("swap or cover withdrawn")
        CHANGE_CANCELLED = "change.cancelled", _("swap or cover cancelled")
        COVER_SET = "cover.set", _("cover set")
        SWAP_SET = "swap.set", _("shifts swapped by a keeper")

    log_name = "the roster log"

    roster = models.ForeignKey(
        Roster, verbose_name=_("duty roster"), on_delete=models.PROTECT, related_name="log"
    )
    # The actor's role is "import" for `whistle import` and "system" for the demo.
    action = models.CharField(_("what"), max_length=24, choices=Action.choices)
    change = models.ForeignKey(
        DutyChange,
        verbose_name=_("swap or cover"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="log",
    )
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)

    class Meta:
        verbose_name = _("roster log entry")
        verbose_name_plural = _("roster log")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["roster", "-at"], name="roster_log_recent")]

    def __str__(self) -> str:
        return f"{self.roster} · {self.get_action_display()}"
