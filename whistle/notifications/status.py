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
from django.utils.translation import gettext_lazy as _

from whistle.notifications import audiences
from whistle.notifications.conf import channel_order
from whistle.notifications.models import Channel, GroupRobot, Notification, Status
from whistle.organisation.models import Person


class DeliveryState(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENT = "sent", _("sent")
    DELIVERED = "delivered", _("delivered")
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
    last. One query."""
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
    found = [_delivery(row, described.get(row.audience or "", "")) for row in listed]
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


def _delivery(row: Notification, audience: str) -> Delivery:
    state, at = _state(row)
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
    )


def _state(row: Notification) -> tuple[str, datetime | None]:
    if row.status == Status.FAILED:
        return DeliveryState.FAILED, None
    if row.status != Status.SENT:
        return DeliveryState.QUEUED, row.created_at
    if row.read_at is not None:
        return DeliveryState.READ, row.read_at
    if row.delivered_at is not None:
        return DeliveryState.DELIVERED, row.delivered_at
    return DeliveryState.SENT, row.sent_at or row.created_at
