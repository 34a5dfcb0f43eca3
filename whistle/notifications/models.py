"""The notification outbox: one row per message and channel, written in the caller's transaction.

A row is the in-app inbox entry itself (channel ``inbox``), or a message waiting for the worker
to send it by Web Push, SMS, e-mail, a work-chat group robot or a webhook. See
docs/notifications.md for the delivery guarantees.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from whistle.notifications.conf import site_url
from whistle.organisation.models import Department, Jurisdiction


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class Channel(models.TextChoices):
    INBOX = "inbox", _("in-app inbox")
    PUSH = "push", _("Web Push")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("e-mail")
    ROBOT = "robot", _("work-chat group")
    WEBHOOK = "webhook", _("webhook")


class Status(models.TextChoices):
    PENDING = "pending", _("waiting to be sent")
    SENDING = "sending", _("being sent")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


# The statuses the delivery sweep looks at; a row in "sending" is due once its lease runs out.
DUE_STATUSES = [Status.PENDING, Status.SENDING]


class WebhookEndpoint(models.Model):
    """A system that receives signed event notifications by HTTP POST."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(
        _("URL"), max_length=500, validators=[URLValidator(schemes=["http", "https"])]
    )
    # Kept as it is because every delivery is signed with it (HMAC), so it cannot be hashed;
    # not editable, so that no form shows it: the admin shows it once and renews it.
    secret = models.CharField(
        _("signing secret"),
        max_length=200,
        default=new_webhook_secret,
        editable=False,
        help_text=_("Shared with the receiver, which uses it to check the signature header"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    event_kinds = models.JSONField(
        _("event kinds"),
        default=list,
        blank=True,
        help_text=_('A list of event kinds, e.g. ["summons.overdue"]; empty means every event'),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event_kind: str) -> bool:
        return not self.event_kinds or event_kind in self.event_kinds


class GroupRobot(models.Model):
    """A work-chat group's robot that receives what is sent to a department's or a township's
    people: a WeCom (企业微信) or DingTalk (钉钉) custom robot, reached by its webhook."""

    class Platform(models.TextChoices):
        WECOM = "wecom", _("WeCom group robot")
        DINGTALK = "dingtalk", _("DingTalk group robot")

    class Format(models.TextChoices):
        MARKDOWN = "markdown", _("Markdown")
        TEXT = "text", _("plain text")

    name = models.CharField(_("name"), max_length=100)
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="group_robots",
    )
    township = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("township"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="group_robots",
        limit_choices_to={"level": Jurisdiction.Level.TOWNSHIP},
    )
    # Whoever holds the key can post to the group: the admin never shows either value back.
    key = models.CharField(
        _("webhook key"),
        max_length=200,
        help_text=_("WeCom: the key of the webhook URL; DingTalk: its access_token"),
    )
    secret = models.CharField(
        _("signing secret"),
        max_length=200,
        blank=True,
        help_text=_("DingTalk's 加签 secret (starts with SEC); empty for WeCom"),
    )
    message_format = models.CharField(
        _("message format"), max_length=16, choices=Format.choices, default=Format.MARKDOWN
    )
    event_kinds = models.JSONField(
        _("event kinds"),
        default=list,
        blank=True,
        help_text=_('A list of event kinds, e.g. ["summons.created"]; empty means every event'),
    )
    per_minute = models.PositiveSmallIntegerField(
        _("messages per minute"),
        default=20,
        help_text=_("The platform's limit for one robot; more messages wait, none is dropped"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # When the messages of the last minute were handed to the platform (ISO 8601, UTC).
    recent_sends = models.JSONField(default=list, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("work-chat group robot")
        verbose_name_plural = _("work-chat group robots")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(department__isnull=False, township__isnull=True)
                    | models.Q(department__isnull=True, township__isnull=False)
                ),
                name="group_robot_one_target",
                violation_error_message=_("Choose a department or a township, not both."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_platform_display()})"

    @property
    def target(self) -> Department | Jurisdiction | None:
        return self.department or self.township

    def wants(self, event_kind: str) -> bool:
        return not self.event_kinds or event_kind in self.event_kinds


class PushSubscription(models.Model):
    """A browser's Web Push subscription (RFC 8030) for the person signed in on it."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="push_subscriptions",
    )
    endpoint = models.URLField(
        _("push service endpoint"),
        max_length=1000,
        unique=True,
        validators=[URLValidator(schemes=["https"])],
        error_messages={"unique": _("This browser is already subscribed.")},
    )
    # The browser's P-256 public key (65 bytes) and authentication secret (16 bytes), in
    # base64url as the Push API gives them (RFC 8291).
    p256dh = models.CharField(_("public key (p256dh)"), max_length=100)
    auth = models.CharField(_("authentication secret"), max_length=40)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    last_success_at = models.DateTimeField(_("last delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Web Push subscription")
        verbose_name_plural = _("Web Push subscriptions")
        ordering = ["person__username", "-created_at"]

    def __str__(self) -> str:
        return f"{self.person} · {self.user_agent[:40] or self.endpoint[:40]}"


class NotificationPreference(models.Model):
    """How a person wants to be reached outside the in-app inbox, which always gets every
    message at once: the outside channels in the order to try them, and quiet hours."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="notification_preference",
        error_messages={"unique": _("The person already has delivery preferences: change those.")},
    )
    # None: the deployment's order (WHISTLE_NOTIFY_CHANNEL_ORDER); [] means the inbox only.
    channels = models.JSONField(
        _("outside channels, in order"),
        null=True,
        blank=True,
        help_text=_(
            'e.g. ["sms", "email"]: tried in this order, a channel left out is never used; '
            "empty: the in-app inbox only; unset: the deployment's order"
        ),
    )
    # Beijing time (TIME_ZONE); a period that ends before it starts runs over midnight.
    quiet_from = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_until = models.TimeField(_("quiet hours until"), null=True, blank=True)
    updated_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(quiet_from__isnull=True, quiet_until__isnull=True)
                    | (
                        models.Q(quiet_from__isnull=False, quiet_until__isnull=False)
                        & ~models.Q(quiet_from=models.F("quiet_until"))
                    )
                ),
                name="notification_preference_quiet_hours",
                violation_error_message=_(
                    "Quiet hours need a start and an end, and they must differ."
                ),
            ),
        ]

    def __str__(self) -> str:
        return str(self.person)

    def clean(self) -> None:
        channels = self.channels
        if channels is None:
            return
        known = {Channel.PUSH, Channel.SMS, Channel.EMAIL}
        if (
            not isinstance(channels, list)
            or any(c not in known for c in channels)
            or len(set(channels)) != len(channels)
        ):
            raise ValidationError(
                {"channels": _('A list of distinct channels among "push", "sms" and "email".')}
            )

    def quiet_hours_end(self, at: datetime) -> datetime | None:
        """When the quiet hours that ``at`` falls in end (aware, UTC); None outside them.

        The start is inside the quiet hours, the end is not: with 22:00–07:00, 22:00 and
        06:59 are quiet, 07:00 is not.
        """
        if self.quiet_from is None or self.quiet_until is None:
            return None
        zone = ZoneInfo(settings.TIME_ZONE)
        local = at.astimezone(zone)
        start, end = self.quiet_from, self.quiet_until
        moment = local.time()
        if start < end:
            quiet = start <= moment < end
            end_day = local.date()
        else:
            quiet = moment >= start or moment < end
            end_day = local.date() + timedelta(days=1) if moment >= start else local.date()
        if not quiet:
            return None
        return datetime.combine(end_day, end, tzinfo=zone).astimezone(UTC)


class Notification(models.Model):
    """One message on one channel to one person or webhook endpoint.

    While ``status`` is ``sending``, ``next_attempt_at`` is the end of the claiming worker's
    lease: if that worker dies, the row is due again from then on.
    """

    uuid = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        # The inbox index starts with the recipient and serves the same look-ups.
        db_index=False,
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("webhook endpoint"),
        # Deleting an endpoint must not erase the record of what was sent to it.
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
        # Indexed where there is one (`notification_endpoint`).
        db_index=False,
    )
    robot = models.ForeignKey(
        GroupRobot,
        verbose_name=_("work-chat group robot"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
        # Indexed where there is one (`notification_robot`).
        db_index=False,
    )
    # An inbox entry shared by the holders of some roles in one unit (`audiences.py`, e.g.
    # "township-escalation:34") instead of one person's; each of them reads it for
    # themselves (`InboxRead`).
    audience = models.CharField(
        _("audience"),
        max_length=80,
        null=True,
        blank=True,
        help_text=_("The unit's people by role who share this inbox entry"),
    )
    address = models.CharField(
        _("address"),
        max_length=500,
        blank=True,
        help_text=_("E-mail address, phone number or URL at the time the message was queued"),
    )
    kind = models.CharField(_("kind"), max_length=80)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"), blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, null=True, blank=True)
    # A whistle, an escalation, a step of the acknowledgement chain: goes out at any hour,
    # whatever the recipient's quiet hours.
    urgent = models.BooleanField(_("urgent"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    claim_token = models.UUIDField(_("claim token"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(
        _("delivered at"),
        null=True,
        blank=True,
        help_text=_("When the channel reported the message in the recipient's hands"),
    )
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    provider_ref = models.CharField(
        _("provider's message id"),
        max_length=100,
        blank=True,
        help_text=_("The id the SMS provider gave the message (BizId, SerialNo)"),
    )
    fallback_channels = models.JSONField(
        _("next channels"),
        default=list,
        blank=True,
        help_text=_("Where the message goes next, in order, if it fails on this channel"),
    )
    fell_through_at = models.DateTimeField(
        _("passed to the next channel at"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            # Serves the delivery sweep: status IN (pending, sending) AND next_attempt_at <= now,
            # in the order it claims them. Only the rows still to be sent: an inbox entry is
            # written sent, and a row sent or failed leaves it. SQLite matches a partial index
            # only against the same condition written out in the query, not bound parameters
            # (`delivery.DUE_ROWS`, which its queries use).
            models.Index(
                fields=["next_attempt_at", "id"],
                name="notification_due",
                condition=Q(status__in=DUE_STATUSES),
            ),
            # A person's own entries: none for the rows to an audience, an endpoint or a robot.
            # (Both databases take `recipient_id = …` as implying that it is not null.)
            models.Index(
                fields=["recipient", "channel", "-created_at"],
                name="notification_inbox",
                condition=Q(recipient__isnull=False),
            ),
            # Serves the unread count every open page polls: only the unread entries, however
            # many read ones a person keeps. (No bound parameter in the condition: SQLite
            # matches `read_at IS NULL` as written.)
            models.Index(
                fields=["recipient", "channel", "id"],
                name="notification_unread",
                condition=Q(read_at__isnull=True, recipient__isnull=False),
            ),
            # The entries shared by an audience; the unread count reads those after a
            # member's mark (`id > …`) alone.
            models.Index(
                fields=["audience", "id"],
                name="notification_audience",
                condition=Q(audience__isnull=False),
            ),
            # Serve the deletion of an endpoint or a robot (whose rows are then kept without
            # it): only the rows sent to one, not the inbox's, e-mails and texts, each of
            # which would otherwise add an entry to both.
            models.Index(
                fields=["endpoint"],
                name="notification_endpoint",
                condition=Q(endpoint__isnull=False),
            ),
            models.Index(
                fields=["robot"], name="notification_robot", condition=Q(robot__isnull=False)
            ),
        ]
        constraints = [
            # Coalesce so that the missing recipient, endpoint or robot counts as a value:
            # SQLite cannot say NULLS NOT DISTINCT. A NULL dedupe_key never conflicts.
            # The key first: the index also serves the rows queued under a key (the delivery
            # status of an event, the look-up of a chunk's keys before it is queued), so that
            # no second index on the key is written with every message.
            models.UniqueConstraint(
                "dedupe_key",
                Coalesce("recipient", 0),
                Coalesce("endpoint", 0),
                Coalesce("robot", 0),
                Coalesce("audience", Value("")),
                "channel",
                name="notification_dedupe",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.subject or self.kind}"

    @property
    def absolute_link(self) -> str:
        if not self.link or "://" in self.link:
            return self.link
        return f"{site_url()}/{self.link.lstrip('/')}"


class InboxRead(models.Model):
    """One person's reading of an inbox entry shared by their audience (`Notification.audience`;
    a person's own entry keeps its `read_at`)."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    notification = models.ForeignKey(
        Notification,
        verbose_name=_("notification"),
        on_delete=models.CASCADE,
        related_name="readings",
    )
    read_at = models.DateTimeField(_("read at"), default=timezone.now)

    class Meta:
        verbose_name = _("shared entry read")
        verbose_name_plural = _("shared entries read")
        constraints = [
            models.UniqueConstraint("person", "notification", name="inbox_read_once"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} · {self.notification_id}"


class InboxReadThrough(models.Model):
    """Where a person last marked every entry read: the shared entries up to this id count
    as read by them, so that their unread count looks only at the entries after it."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    through_id = models.BigIntegerField(_("read through entry"), default=0)
    read_at = models.DateTimeField(_("read at"), default=timezone.now)

    class Meta:
        verbose_name = _("inbox read through")
        verbose_name_plural = _("inbox read through")

    def __str__(self) -> str:
        return f"{self.person_id} ≤ {self.through_id}"
