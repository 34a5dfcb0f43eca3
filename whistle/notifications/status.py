"""Where each message of an event stands, per person (or group) and channel: what the pages
show beside a summons.

Rows are found by the key the message was queued under (``dedupe_key``): the domain queues
every message about a trail event under :func:`event_key` of the event's hash.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django.db.models import Min
from django.utils.translation import gettext_lazy as _

from whistle.notifications import audiences
from whistle.notifications.conf import channel_order
from whistle.notifications.models import (
    Channel,
    GroupRobot,
    InboxRead,
    InboxReadThrough,
    Notification,
    Status,
)
from whistle.organisation.models import Person, RoleAssignment


class DeliveryState(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENT = "sent", _("sent")
    DELIVERED = "delivered", _("delivered")
    # An inbox entry: in the person's inbox, not opened yet. The inbox reaches a person only
    # when they look, so it is never "delivered".
    UNREAD = "unread", _("unread")
    READ = "read", _("read")
    FAILED = "failed", _("failed")


def event_key(event_hash: str) -> str:
    """The key under which the messages about one trail event are queued."""
    return f"event:{event_hash}"


@dataclass(frozen=True)
class Delivery:
    """One message on one channel to one person or group."""

    key: str
    recipient: Person | None
    robot: GroupRobot | None
    channel: str
    state: str
    # When the message reached its state (queued: when it was queued); not kept for failed.
    at: datetime | None
    # Why it failed, or why the last attempt failed while it waits for the next.
    reason: str
    attempts: int
    # Failed here, and passed to the recipient's next channel.
    passed_on: bool
    # The channel took it before it failed: an SMS the operator reported undelivered.
    handed_over: bool = False
    # An inbox entry shared by an audience: who they are, in words (`audiences.describe`).
    audience: str = ""
    # A person's inbox entry, and nothing else of the message goes to them: no SMS, e-mail
    # or Web Push could reach them (none on file, the inbox chosen alone, an account
    # switched off), so only a call tells them now.
    inbox_only: bool = False

    @property
    def channel_label(self) -> str:
        return str(Channel(self.channel).label)

    @property
    def state_label(self) -> str:
        if self.state == DeliveryState.FAILED and self.handed_over:
            return str(_("not delivered"))
        return str(DeliveryState(self.state).label)

    @property
    def who(self) -> str:
        if self.robot is not None:
            return self.robot.name
        return self.recipient.display_name if self.recipient is not None else self.audience


def delivery_status(keys: Iterable[str]) -> list[Delivery]:
    """Every message queued under these keys to a person or a group robot (webhooks are for
    machines and left out), by person, then in the order the channels are tried, groups
    last. One query; three more when an inbox entry shared by an audience is among them
    (its members' readings, `_shared_read_at`)."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return []
    rows = (
        Notification.objects.filter(dedupe_key__in=wanted)
        .exclude(channel=Channel.WEBHOOK)
        .select_related("recipient", "robot")
        .order_by("id")
    )
    rank = {channel: index for index, channel in enumerate([Channel.INBOX, *channel_order()])}
    listed = list(rows)
    described = audiences.describe({row.audience for row in listed if row.audience})
    shared_read = _shared_read_at([row for row in listed if row.audience])
    # Who is told outside the inbox, under each key.
    outside = {
        (row.dedupe_key, row.recipient_id)
        for row in listed
        if row.recipient_id is not None and row.channel != Channel.INBOX
    }
    found = [
        _delivery(
            row,
            described.get(row.audience or "", ""),
            read_at=shared_read.get(row.pk) if row.audience else row.read_at,
            inbox_only=(
                row.channel == Channel.INBOX
                and row.recipient_id is not None
                and (row.dedupe_key, row.recipient_id) not in outside
            ),
        )
        for row in listed
    ]
    found.sort(
        key=lambda d: (
            d.robot is not None,
            d.who,
            d.recipient.pk if d.recipient is not None else 0,
            rank.get(d.channel, len(rank)),
        )
    )
    return found


def delivery_status_by_key(keys: Iterable[str]) -> dict[str, list[Delivery]]:
    """:func:`delivery_status` grouped by key, for a page that shows several events."""
    grouped: dict[str, list[Delivery]] = {}
    for delivery in delivery_status(keys):
        grouped.setdefault(delivery.key, []).append(delivery)
    return grouped


def _shared_read_at(rows: list[Notification]) -> dict[int, datetime]:
    """When an inbox entry shared by an audience was first read by one of its members: opened
    or marked read one by one (`InboxRead`), or covered by the "mark all read" of someone who
    belongs to the audience now (`InboxReadThrough`)."""
    if not rows:
        return {}
    ids = [row.pk for row in rows]
    first: dict[int, datetime] = {}
    readings = (
        InboxRead.objects.filter(notification_id__in=ids)
        .values("notification_id")
        .annotate(first=Min("read_at"))
        .order_by()
    )
    for reading in readings:
        first[reading["notification_id"]] = reading["first"]
    marks = list(
        InboxReadThrough.objects.filter(through_id__gte=min(ids)).values_list(
            "person_id", "through_id", "read_at"
        )
    )
    if not marks:
        return first
    held: dict[int, list[tuple[str, int | None, int | None]]] = {}
    for person_id, role, department_id, jurisdiction_id in RoleAssignment.objects.filter(
        person_id__in={person_id for person_id, _through, _at in marks}, person__is_active=True
    ).values_list("person_id", "role", "department_id", "jurisdiction_id"):
        held.setdefault(person_id, []).append((role, department_id, jurisdiction_id))
    member_of = {person_id: audiences.audiences_of(roles) for person_id, roles in held.items()}
    for row in rows:
        for person_id, through_id, at in marks:
            covered = through_id >= row.pk and row.audience in member_of.get(person_id, ())
            if covered and (row.pk not in first or at < first[row.pk]):
                first[row.pk] = at
    return first


def _delivery(
    row: Notification, audience: str, *, read_at: datetime | None, inbox_only: bool
) -> Delivery:
    state, at = _state(row, read_at)
    return Delivery(
        key=row.dedupe_key or "",
        recipient=row.recipient,
        robot=row.robot,
        channel=row.channel,
        state=state,
        at=at,
        reason=row.last_error if state in (DeliveryState.FAILED, DeliveryState.QUEUED) else "",
        attempts=row.attempts,
        passed_on=row.fell_through_at is not None,
        handed_over=row.status == Status.FAILED and row.sent_at is not None,
        audience=audience,
        inbox_only=inbox_only,
    )


def _state(row: Notification, read_at: datetime | None) -> tuple[str, datetime | None]:
    if row.status == Status.FAILED:
        return DeliveryState.FAILED, None
    if row.status != Status.SENT:
        return DeliveryState.QUEUED, row.created_at
    if row.channel == Channel.INBOX:
        # Read (when), or waiting in the inbox since it arrived.
        if read_at is not None:
            return DeliveryState.READ, read_at
        return DeliveryState.UNREAD, row.created_at
    if row.read_at is not None:
        return DeliveryState.READ, row.read_at
    if row.delivered_at is not None:
        return DeliveryState.DELIVERED, row.delivered_at
    return DeliveryState.SENT, row.sent_at or row.created_at
