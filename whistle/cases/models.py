"""Cases, whistles, summons, supervision notices and the trail (一次一留痕).

State changes happen only in `whistle.cases.actions`; every one of them appends an `Event`
in the same transaction. Deadlines are stored, indexed datetimes; the worker's sweep
(`whistle.cases.deadlines`) claims rows whose `next_check_at` has passed.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from whistle.organisation.models import Department, GridCell, Jurisdiction, Lane, TownshipUnit
from whistle.policies.models import Category, WhistleKind, shown_class_name

_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def where_set(field: str, name: str) -> models.Index:
    """An index of `field` holding only the rows where it is set: a row written anew without
    it adds no entry. (No bound parameter in the condition: SQLite matches `IS NOT NULL` as
    written.)"""
    return models.Index(
        fields=[field], name=name, condition=models.Q(**{f"{field}__isnull": False})
    )


def claim_index(field: str, name: str) -> models.Index:
    """The deadline sweep's index of a moment it claims rows by (`<= now`, oldest first,
    then by id: `whistle.cases.deadlines._due`): the rows that have one, in the order the
    claim takes them, so that a claim reads only the rows it takes, however many fell due at
    the same moment (a whistle's departments share their deadlines), without sorting them
    all. (`<= now` implies a value: both databases use the partial index.)"""
    return models.Index(
        fields=[field, "id"], name=name, condition=models.Q(**{f"{field}__isnull": False})
    )


def new_reference() -> str:
    """A short reference a resident can read out on the phone: no 0/O or 1/I. Ten letters
    of the 32, each as likely as any other: five random bits each, drawn at once."""
    bits = secrets.randbits(50)
    return "".join(_REFERENCE_ALPHABET[(bits >> shift) & 31] for shift in range(0, 50, 5))


class Case(models.Model):
    """A problem found in the city and everything done about it."""

    class Source(models.TextChoices):
        PATROL = "patrol", _("patrol finding")
        STEWARD = "steward", _("alley steward")
        CHIEF = "chief", _("street or lane chief")
        RESIDENT = "resident", _("resident")
        HOTLINE = "hotline", _("12345 hotline")
        SUPERIOR = "superior", _("order from above")
        OTHER = "other", _("other channel")

    class Status(models.TextChoices):
        REPORTED = "reported", _("reported")
        FILED = "filed", _("filed")
        # "rejected" alone is also an appeal's status (驳回); a case is not taken up (不予立案).
        REJECTED = "rejected", pgettext_lazy("case status", "rejected")
        MERGED = "merged", _("merged as duplicate")
        DISPATCHED = "dispatched", _("dispatched")
        WHISTLED = "whistled", _("whistle blown")
        HANDLED = "handled", _("handled, awaiting check")
        CHECKED = "checked", _("checked on site, awaiting closure")
        CLOSED = "closed", _("closed")
        # The result was rated (评价): the last state of a case.
        EVALUATED = "evaluated", pgettext_lazy("case status", "rated")
        BACKLOG = "backlog", _("on the open backlog")

    class Escalation(models.TextChoices):
        NONE = "", _("not escalated")
        TOWNSHIP = "township", _("township chiefs' office")
        DISTRICT = "district", _("district chiefs' office")

    OPEN_STATUSES = (
        Status.REPORTED,
        Status.FILED,
        Status.DISPATCHED,
        Status.WHISTLED,
        Status.HANDLED,
        Status.CHECKED,
        Status.BACKLOG,
    )

    uuid = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(
        _("reference number"), max_length=12, unique=True, default=new_reference, editable=False
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.REPORTED
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        # Served by the (category, reported_at) index, which starts with it.
        db_index=False,
    )
    description = models.TextField(_("description"), max_length=4000)
    # Position in WGS-84, as reported.
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    accuracy_m = models.FloatField(_("position accuracy (m)"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    # Found from the position when the case is reported.
    district = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="district_cases",
        # Served by the (district, status) index, which starts with it.
        db_index=False,
    )
    township = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("township"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="township_cases",
        # Served by the (township, status) index, which starts with it.
        db_index=False,
    )
    community = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="community_cases",
        # Indexed where there is one (`case_community`).
        db_index=False,
    )
    lane = models.ForeignKey(
        Lane,
        verbose_name=_("lane"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        # Served by the (lane, reported_at) index, which starts with it.
        db_index=False,
    )
    grid_cell = models.ForeignKey(
        GridCell,
        verbose_name=_("grid cell"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        # Indexed where there is one (`case_grid_cell`).
        db_index=False,
    )
    # The unit of the township's street office its category is routed to
    # (`whistle.policies.routing`), set when the case is reported or filed.
    office = models.ForeignKey(
        TownshipUnit,
        verbose_name=_("office"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        # Indexed where there is one (`case_office`).
        db_index=False,
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reported_cases",
        # Indexed where there is one (`case_reporter`).
        db_index=False,
    )
    # A reporter without an account (resident, hotline caller).
    reporter_name = models.CharField(_("reporter's name"), max_length=60, blank=True)
    reporter_phone = models.CharField(_("reporter's phone"), max_length=40, blank=True)
    # The salt of the trail's commitment to the reporter's name and phone
    # (whistle.organisation.personal_data); a work order's caller is salted on the order.
    reporter_salt = models.CharField(
        _("salt of the reporter's commitment"), max_length=32, blank=True, editable=False
    )
    # When the reporter's name and phone were erased (on request or after the district's
    # retention period); the trail keeps only its commitment, which then says nothing.
    personal_data_erased_at = models.DateTimeField(
        _("personal data erased at"), null=True, blank=True
    )
    external_id = models.CharField(
        _("external id"), max_length=64, blank=True, help_text=_("e.g. the 12345 order number")
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        # Indexed where there is one (`case_merged_into`): most cases are not duplicates.
        db_index=False,
    )
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    backlog_reason = models.TextField(_("reason for the backlog"), blank=True)
    backlog_review_on = models.DateField(_("backlog review date"), null=True, blank=True)
    # While the case is on the backlog its deadlines pause; resuming moves or recomputes them
    # (DistrictPolicy.backlog_resume_rule) from this moment.
    backlog_since = models.DateTimeField(_("on the backlog since"), null=True, blank=True)
    # When the sweep reminds the township of the review date; cleared in the same transaction
    # as the reminder's trail event, and when the case comes off the backlog. The sweep's
    # index.
    backlog_review_reminder_at = models.DateTimeField(
        _("backlog review reminder at"), null=True, blank=True
    )
    rework_count = models.PositiveIntegerField(_("rework count"), default=0)
    escalation = models.CharField(
        _("escalation"), max_length=16, choices=Escalation.choices, default="", blank=True
    )
    resolve_due_at = models.DateTimeField(_("resolve by"), null=True, blank=True)
    # Deadlines computed while a year they reach into was unknown to the calendar:
    # {"resolve_due_at": {"years": [2027], "start": ISO, "amount": 4, "unit": "working_hours",
    # "shift_seconds": 0}}. Recomputed when the year is entered (docs/calendar.md).
    assumed_calendar = models.JSONField(
        _("deadlines on an assumed calendar"), default=dict, blank=True
    )
    # What each deadline in working time was computed from, to compute it again when the
    # district's calendar changes: {"resolve_due_at": {"start": ISO, "amount": 5, "unit":
    # "working_days", "shift_seconds": 0}} (docs/calendar.md).
    deadline_basis = models.JSONField(_("deadlines in working time"), default=dict, blank=True)
    reported_at = models.DateTimeField(_("reported at"))
    filed_at = models.DateTimeField(pgettext_lazy("case", "filed at"), null=True, blank=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    checked_at = models.DateTimeField(_("checked on site at"), null=True, blank=True)
    closed_at = models.DateTimeField(pgettext_lazy("case", "closed at"), null=True, blank=True)
    # Township's rating after closure (1–5), and the resident's satisfaction: from the
    # township's call-back, or from the resident's own rating (1–5, with a comment) on the
    # public case page; one or the other, once.
    township_rating = models.PositiveSmallIntegerField(_("township rating"), null=True, blank=True)
    evaluated_at = models.DateTimeField(_("evaluated at"), null=True, blank=True)
    resident_satisfied = models.BooleanField(_("resident satisfied"), null=True, blank=True)
    resident_called_back_at = models.DateTimeField(
        _("resident called back at"), null=True, blank=True
    )
    resident_rating = models.PositiveSmallIntegerField(
        _("resident's rating"), null=True, blank=True
    )
    resident_comment = models.TextField(_("resident's comment"), blank=True)
    resident_rated_at = models.DateTimeField(_("resident rated at"), null=True, blank=True)
    # SHA-256 of the secret the resident received when reporting (the follow link carries
    # it): whoever holds only the reference, the assessed department included, cannot rate.
    resident_key_hash = models.CharField(
        _("digest of the resident's rating key"), max_length=64, blank=True, editable=False
    )
    # The answers to the category's questions (Open311 service attributes), each with its
    # question as it was asked (`whistle.policies.attributes.clean_answers`).
    service_attributes = models.JSONField(
        _("answers to the category's questions"), default=list, blank=True
    )
    # The number of trail events and the hash of the last one, written with each event, so
    # that verification also notices events removed from the end of a trail.
    trail_length = models.PositiveIntegerField(_("trail length"), default=0, editable=False)
    trail_head = models.CharField(_("trail head hash"), max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-reported_at"]
        indexes = [
            models.Index(fields=["township", "status"]),
            models.Index(fields=["district", "status"]),
            models.Index(fields=["category", "reported_at"]),
            models.Index(fields=["lane", "reported_at"]),
            # Serves the sweep's claim of the cases due for a backlog review (`<= now`, which
            # implies a value): only the few cases waiting for one, not every case each time
            # its row is written anew. Likewise the keys below, which serve their own rows
            # (`= …`, and the deletion of what they point to) and are often empty.
            claim_index("backlog_review_reminder_at", "case_backlog_review"),
            # Serves the duplicates of a case (and its deletion, which they forbid): only the
            # merged cases, not every case each time its row is written anew.
            where_set("merged_into", "case_merged_into"),
            where_set("community", "case_community"),
            where_set("grid_cell", "case_grid_cell"),
            where_set("office", "case_office"),
            where_set("reporter", "case_reporter"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


def attachment_path(instance: Attachment, filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"cases/{instance.case.uuid}/{uuid.uuid4().hex}.{extension}"


class Attachment(models.Model):
    """A photo or document attached to a case, through Django's storage API."""

    class Purpose(models.TextChoices):
        REPORT = "report", _("report")
        CHECK_IN = "check_in", _("check-in")
        PROGRESS = "progress", _("progress")
        RESULT = "result", _("result")
        CHECK = "check", _("on-site check")
        APPEAL = "appeal", _("appeal")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="attachments"
    )
    summons = models.ForeignKey(
        "Summons",
        verbose_name=_("summons"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attachments",
    )
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return f"{self.case} · {self.get_purpose_display()}"


class Whistle(models.Model):
    """A township's summons of one or more departments to a case (吹哨)."""

    uuid = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="whistles"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=WhistleKind.choices)
    township = models.ForeignKey(
        Jurisdiction, verbose_name=_("township"), on_delete=models.PROTECT, related_name="whistles"
    )
    blown_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("blown by"),
        on_delete=models.PROTECT,
        related_name="whistles_blown",
    )
    blown_at = models.DateTimeField(_("blown at"))
    meeting_point = models.CharField(_("meeting point"), max_length=200, blank=True)
    meeting_lon = models.FloatField(_("meeting point longitude"), null=True, blank=True)
    meeting_lat = models.FloatField(_("meeting point latitude"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    closed_at = models.DateTimeField(pgettext_lazy("whistle", "closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("whistle")
        verbose_name_plural = _("whistles")
        ordering = ["-blown_at"]

    def __str__(self) -> str:
        return f"{self.case} · {self.get_kind_display()}"


class CheckInReason(models.TextChoices):
    """Why a check-in's position did not prove the arrival by itself (whistle.cases.proof)."""

    TOO_FAR = "too_far", _("too far from the place")
    IMPRECISE = "imprecise", _("the position's accuracy reaches beyond the radius")
    ACCURACY_UNKNOWN = "accuracy_unknown", _("the position came without its accuracy")
    CLOCK_SKEW = "clock_skew", _("the device's time differs from the server's")
    DEVICE_TIME_UNKNOWN = "device_time_unknown", _("the position came without the device's time")
    TYPED = "typed", _("the position was typed in, not taken from the device")
    MAP_PICK = "map_pick", _("the position was picked on a map, not taken from the device")
    TOO_FAST = "too_fast", _("too fast from the officer's previous position")
    SHARED_DEVICE = "shared_device", _("the device checked in for another department")
    LATE_SYNC = "late_sync", _("recorded without signal and received long after")


class Summons(models.Model):
    """One department's obligations on one case: through a whistle, or a routine dispatch.

    A whistle's summons must acknowledge, arrive on site and resolve by its deadlines; a
    routine dispatch (no whistle) has no arrival obligation.
    """

    class Status(models.TextChoices):
        SUMMONED = "summoned", _("summoned")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        ON_SITE = "on_site", _("on site")
        DONE = "done", _("result reported")
        DECLINED = "declined", _("declined, awaiting ruling")
        RELEASED = "released", _("released")
        LEFT = "left", _("checked out")
        CANCELLED = "cancelled", _("cancelled")

    # Statuses in which the department still owes something.
    OPEN_STATUSES = (Status.SUMMONED, Status.ACKNOWLEDGED, Status.ON_SITE, Status.DECLINED)

    class Ruling(models.TextChoices):
        NONE = "", _("no ruling")
        UPHELD = "upheld", _("decline upheld")
        INSISTED = "insisted", _("township insists")

    class CheckInFlag(models.TextChoices):
        """The township's decision on a check-in whose position did not prove the arrival
        by itself (whistle.cases.proof)."""

        NONE = "", _("not flagged")
        PENDING = "pending", _("flagged, awaiting the township")
        CONFIRMED = "confirmed", _("confirmed by the township")
        REJECTED = "rejected", _("rejected by the township")

    uuid = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(
        Case,
        verbose_name=_("case"),
        on_delete=models.PROTECT,
        related_name="summonses",
        # Served by the (case, department) index, which starts with it.
        db_index=False,
    )
    whistle = models.ForeignKey(
        Whistle,
        verbose_name=_("whistle"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="summonses",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="summonses",
        # Served by the (department, status) index, which starts with it.
        db_index=False,
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUMMONED
    )
    summoned_at = models.DateTimeField(_("summoned at"))
    acknowledge_due_at = models.DateTimeField(_("acknowledge by"))
    arrive_due_at = models.DateTimeField(_("arrive by"), null=True, blank=True)
    resolve_due_at = models.DateTimeField(_("resolve by"))
    # As Case.assumed_calendar, for the summons' deadlines.
    assumed_calendar = models.JSONField(
        _("deadlines on an assumed calendar"), default=dict, blank=True
    )
    # As Case.deadline_basis, for the summons' deadlines.
    deadline_basis = models.JSONField(_("deadlines in working time"), default=dict, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        # Indexed where there is one (`summons_acknowledged_by`).
        db_index=False,
    )
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    arrived_lon = models.FloatField(_("check-in longitude"), null=True, blank=True)
    arrived_lat = models.FloatField(_("check-in latitude"), null=True, blank=True)
    arrived_accuracy_m = models.FloatField(_("check-in accuracy (m)"), null=True, blank=True)
    arrived_distance_m = models.FloatField(_("check-in distance (m)"), null=True, blank=True)
    # The last check-in's flag and its reasons (whistle.cases.proof.Reason codes); the trail
    # keeps every check-in and ruling.
    check_in_flag = models.CharField(
        _("check-in flag"), max_length=16, choices=CheckInFlag.choices, default="", blank=True
    )
    check_in_flag_reasons = models.JSONField(_("check-in flag reasons"), default=list, blank=True)
    done_at = models.DateTimeField(_("result reported at"), null=True, blank=True)
    result = models.TextField(_("result"), blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    # The department the decline names as responsible, if any: the township may uphold the
    # decline and summon it in one step.
    named_department = models.ForeignKey(
        Department,
        verbose_name=_("department named as responsible"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        # Indexed where there is one (`summons_named_department`).
        db_index=False,
    )
    ruling = models.CharField(
        _("ruling"), max_length=16, choices=Ruling.choices, default="", blank=True
    )
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    left_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    # Set once, by the sweep, in the same transaction as the overdue event.
    acknowledge_overdue_at = models.DateTimeField(
        _("acknowledgement overdue at"), null=True, blank=True
    )
    arrive_overdue_at = models.DateTimeField(_("arrival overdue at"), null=True, blank=True)
    resolve_overdue_at = models.DateTimeField(_("resolution overdue at"), null=True, blank=True)
    escalated_to_township_at = models.DateTimeField(
        _("escalated to the township chiefs' office at"), null=True, blank=True
    )
    escalated_to_district_at = models.DateTimeField(
        _("escalated to the district chiefs' office at"), null=True, blank=True
    )
    # Who was on duty for the department when it was summoned, and their backup
    # (whistle.duty): the summons went to them first.
    on_duty = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("on duty"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        # Indexed where there is one (`summons_on_duty`).
        db_index=False,
    )
    on_duty_backup = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("backup on duty"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        # Indexed where there is one (`summons_on_duty_backup`).
        db_index=False,
    )
    # The acknowledgement chain of the summons (whistle.policies.chains), planned when it was
    # made: [{"target": "backup", "before_due_us": 420000000}, ...], each step that long
    # before the acknowledgement deadline, so that it moves with the deadline.
    acknowledgement_chain = models.JSONField(_("acknowledgement chain"), default=list, blank=True)
    # How many steps of the chain the sweep has taken. Set by the sweep only.
    chain_steps_taken = models.PositiveSmallIntegerField(
        _("acknowledgement chain steps taken"), default=0
    )
    # The earliest moment the sweep must look at this summons again (a deadline, a reminder or
    # an escalation); null when nothing is pending. The sweep's index.
    next_check_at = models.DateTimeField(_("next check at"), null=True, blank=True)
    # Every point in time (deadline, reminder, escalation) up to this one has been handled.
    swept_through_at = models.DateTimeField(_("swept through"), null=True, blank=True)

    class Meta:
        verbose_name = _("summons")
        verbose_name_plural = _("summonses")
        ordering = ["summoned_at"]
        indexes = [
            claim_index("next_check_at", "summons_next_check"),
            models.Index(fields=["department", "status"]),
            # A department's past summonses, newest first (its desk shows the latest few).
            models.Index(
                fields=["department", "-summoned_at", "-id"], name="summons_department_recent"
            ),
            models.Index(fields=["case", "department"]),
            models.Index(
                fields=["check_in_flag"],
                name="summons_check_in_flagged",
                condition=models.Q(check_in_flag="pending"),
            ),
            # Serve their person's rows (and the person's deletion, which they forbid):
            # only the summonses that name one.
            where_set("acknowledged_by", "summons_acknowledged_by"),
            where_set("on_duty", "summons_on_duty"),
            where_set("on_duty_backup", "summons_on_duty_backup"),
            where_set("named_department", "summons_named_department"),
        ]

    def __str__(self) -> str:
        return f"{self.case} · {self.department}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class SupervisionNotice(models.Model):
    """A formal demand (督办) to a department to act on a case by a date."""

    uuid = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="supervision_notices"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="supervision_notices",
    )
    summons = models.ForeignKey(
        Summons,
        verbose_name=_("summons"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supervision_notices",
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("issued at"))
    text = models.TextField(_("demand"))
    due_at = models.DateTimeField(_("act by"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answer = models.TextField(_("answer"), blank=True)
    overdue_at = models.DateTimeField(_("overdue at"), null=True, blank=True)
    next_check_at = models.DateTimeField(_("next check at"), null=True, blank=True)
    swept_through_at = models.DateTimeField(_("swept through"), null=True, blank=True)

    class Meta:
        verbose_name = _("supervision notice")
        verbose_name_plural = _("supervision notices")
        ordering = ["-issued_at"]
        indexes = [claim_index("next_check_at", "supervision_next_check")]

    def __str__(self) -> str:
        return f"{self.case} · {self.department}"


class HotlineOrder(models.Model):
    """A work order taken by the township (接诉即办): from the 12345 hotline, handed down by a
    superior (上级交办) or from another channel. It is a case in the normal workflow, with the
    order's own number and two limits from its deadline class: reply to the caller by
    `respond_due_at`, resolve by `resolve_due_at`. The caller's name and phone stay on the
    case (`reporter_name`, `reporter_phone`), never in the trail, which holds a commitment
    to them (`whistle.cases.callers`).
    """

    class Channel(models.TextChoices):
        HOTLINE = "hotline", _("12345 hotline")
        SUPERIOR = "superior", _("handed down by a superior")
        OTHER = "other", _("other channel")

    class ReplyKind(models.TextChoices):
        """What the reply to the caller says (反馈): the result, the progress when the work
        cannot be finished by the reply deadline, that the request is not the township's
        duty, or that it cannot be solved now. Any of them is the response the deadline
        asks for; all but the progress end the handling, so the caller may be called back."""

        DONE = "done", pgettext_lazy("reply to the caller", "done")
        IN_PROGRESS = "in_progress", pgettext_lazy("reply to the caller", "in progress")
        NOT_OURS = "not_ours", pgettext_lazy("reply to the caller", "not our duty")
        CANNOT_SOLVE = (
            "cannot_solve",
            pgettext_lazy("reply to the caller", "cannot be solved for now"),
        )

    # The kinds of reply after which the request is handled and the caller may be called back.
    FINAL_REPLY_KINDS = (ReplyKind.DONE, ReplyKind.NOT_OURS, ReplyKind.CANNOT_SOLVE)

    uuid = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    case = models.OneToOneField(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="hotline_order"
    )
    district = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="hotline_orders",
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    number = models.CharField(_("order number"), max_length=64)
    deadline_class = models.CharField(_("deadline class"), max_length=20)
    deadline_class_name = models.CharField(_("deadline class name"), max_length=40)
    # When the caller called the hotline, as the platform says; the limits count from
    # `received_at`, when the township received the order.
    called_at = models.DateTimeField(_("called at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"))
    respond_due_at = models.DateTimeField(_("reply by"))
    resolve_due_at = models.DateTimeField(_("resolve by"))
    # Random, kept only while the caller's data is: with both erased the commitment in the
    # trail reveals nothing, since a phone number alone is easy to guess from its hash.
    caller_salt = models.CharField(
        _("salt of the caller's commitment"), max_length=32, blank=True, editable=False
    )
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    reply = models.TextField(_("reply to the caller"), blank=True)
    # What the reply says; empty until the reply is recorded.
    reply_kind = models.CharField(
        _("kind of reply"), max_length=16, choices=ReplyKind.choices, blank=True
    )
    # A reply "in progress" says by when the township expects to be done (required for that
    # kind, empty for the others); the result then comes as the final reply.
    promised_by = models.DateTimeField(_("result promised by"), null=True, blank=True)
    # The final reply (办结反馈) after a reply "in progress": the result, once. The first
    # reply stays the response (响应) the reply deadline and the response rate read.
    final_replied_at = models.DateTimeField(_("final reply at"), null=True, blank=True)
    final_reply = models.TextField(_("final reply to the caller"), blank=True)
    final_reply_kind = models.CharField(
        _("kind of final reply"), max_length=16, choices=ReplyKind.choices, blank=True
    )
    # Set once, by the sweep, when the promised time passed without the final reply.
    promise_overdue_at = models.DateTimeField(_("promise overdue at"), null=True, blank=True)
    # Set once, by the sweep, in the same transaction as its trail event.
    reply_overdue_at = models.DateTimeField(_("reply overdue at"), null=True, blank=True)
    # When the sweep must look at the order: just after the reply deadline, while the reply
    # has not been recorded overdue and was not given in time; else just after the promised
    # time, while the final reply is owed and the promise was not recorded overdue; null
    # otherwise (`next_reply_check`). The sweep's index.
    reply_check_at = models.DateTimeField(_("reply check at"), null=True, blank=True)
    # The call-back (回访): the last attempt, and what the caller said once reached.
    called_back_at = models.DateTimeField(_("called back at"), null=True, blank=True)
    callback_contacted = models.BooleanField(_("caller reached"), null=True, blank=True)
    callback_resolved = models.BooleanField(_("caller says resolved"), null=True, blank=True)
    callback_satisfied = models.BooleanField(_("caller satisfied"), null=True, blank=True)
    # The last change the hotline platform is told of (a reply, a call-back): what
    # `hotline_answers(district, since)` reads.
    answered_at = models.DateTimeField(_("last answer at"), null=True, blank=True)

    class Meta:
        verbose_name = _("hotline order")
        verbose_name_plural = _("hotline orders")
        ordering = ["-received_at"]
        constraints = [
            # Two intakes of the same order, even at the same moment, make one case.
            models.UniqueConstraint(
                fields=["district", "number"], name="hotline_order_unique_number"
            )
        ]
        indexes = [
            claim_index("reply_check_at", "hotline_reply_check"),
            models.Index(fields=["district", "answered_at"], name="hotline_answers"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def reply_is_final(self) -> bool:
        """Whether the replies end the handling: the reply is done, not ours or cannot be
        solved now, or the final reply followed a reply "in progress"."""
        if self.final_replied_at is not None:
            return True
        return self.replied_at is not None and self.reply_kind in self.FINAL_REPLY_KINDS

    @property
    def awaits_final_reply(self) -> bool:
        """Whether the caller was told "in progress" and the result is still owed."""
        return (
            self.replied_at is not None
            and self.reply_kind == self.ReplyKind.IN_PROGRESS
            and self.final_replied_at is None
        )

    @property
    def deadline_class_shown(self) -> str:
        """The class's name as kept at intake, in the reader's language when it is a
        built-in class's (`shown_class_name`)."""
        return shown_class_name(self.deadline_class, self.deadline_class_name)


class OrderNumberSequence(models.Model):
    """Where the numbering of a township's work orders that came without a number of their
    own (another channel) stands: the day and the last number given that day. One row per
    township, moved on in the intake's transaction, which holds it until it commits, so two
    intakes never give one number (`whistle.cases.actions.hotline.assign_order_number`)."""

    township = models.OneToOneField(
        Jurisdiction,
        verbose_name=_("township"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    day = models.DateField(_("day"))
    last = models.PositiveIntegerField(_("last number given"))

    class Meta:
        verbose_name = _("order numbering")
        verbose_name_plural = _("order numberings")

    def __str__(self) -> str:
        return f"{self.township_id} {self.day} {self.last}"


class Event(models.Model):
    """One entry of a case's trail. Append-only and hash-chained per case.

    `hash` is SHA-256 over the canonical JSON of the event's content and `prev_hash` (the
    hash of the case's previous event), so a changed, removed or reordered event breaks the
    chain. No code path updates or deletes events; database triggers refuse it.
    """

    case = models.ForeignKey(
        Case,
        verbose_name=_("case"),
        on_delete=models.PROTECT,
        related_name="events",
        # The unique (case, seq) index starts with the case and serves the same look-ups.
        db_index=False,
    )
    seq = models.PositiveIntegerField(_("sequence"))
    at = models.DateTimeField(_("time"))
    kind = models.CharField(_("kind"), max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        # Indexed where there is an actor (`event_actor`): the sweep's events have none.
        db_index=False,
    )
    actor_role = models.CharField(_("actor's role"), max_length=32, blank=True)
    summons = models.ForeignKey(
        Summons,
        verbose_name=_("summons"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
    )
    data = models.JSONField(_("data"), default=dict, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("trail event")
        verbose_name_plural = _("trail events")
        ordering = ["case_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="event_unique_seq")]
        indexes = [
            models.Index(fields=["kind", "at"]),
            # Serves a person's deletion, which their events forbid (PROTECT): only the events
            # an action wrote, not the sweep's (no actor), each of which would otherwise add
            # an entry. (No bound parameter in the condition: SQLite matches it as written.)
            where_set("actor", "event_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("trail events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("trail events are append-only")


class Checkpoint(models.Model):
    """A signed commitment to every trail at one moment (whistle.cases.checkpoints).

    `document` is the signed checkpoint as published: a Merkle tree over every case's trail
    length and head and every patrol's record, chained to the one before by `previous_hash`.
    The database keeps them so they can be served; the proof lies in the copies kept
    elsewhere. Append-only like the trail.
    """

    number = models.PositiveIntegerField(_("checkpoint number"), unique=True)
    created_at = models.DateTimeField(_("created at"))
    root = models.CharField(_("Merkle root"), max_length=64)
    previous_hash = models.CharField(_("previous checkpoint's hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)
    document = models.JSONField(_("signed document"))

    class Meta:
        verbose_name = _("trail checkpoint")
        verbose_name_plural = _("trail checkpoints")
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"#{self.number} {self.root[:12]}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("checkpoints are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("checkpoints are append-only")


class CheckpointTimestamp(models.Model):
    """An RFC 3161 token from a time-stamping authority over one checkpoint's hash
    (whistle.cases.timestamps): the authority's word that the checkpoint existed by then.
    Append-only like the checkpoint."""

    checkpoint = models.OneToOneField(
        Checkpoint, on_delete=models.PROTECT, related_name="timestamp", verbose_name=_("checkpoint")
    )
    token = models.BinaryField(_("timestamp token (DER)"))
    authority_url = models.CharField(_("time-stamping authority"), max_length=500)
    stamped_at = models.DateTimeField(_("time the authority gave"))
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("checkpoint timestamp")
        verbose_name_plural = _("checkpoint timestamps")

    def __str__(self) -> str:
        return f"#{self.checkpoint_id} {self.stamped_at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("checkpoint timestamps are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("checkpoint timestamps are append-only")
