"""Queue notifications inside the caller's transaction, and read the in-app inbox.

Queueing only inserts rows. Nothing leaves the system until the caller's transaction has
committed and the worker's delivery sweep picks the rows up, so a rolled-back action sends
nothing. The in-app row is the inbox entry itself and counts as delivered once committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from whistle.notifications.models import (
    Channel,
    Notification,
    NotificationPreference,
    Status,
    WebhookEndpoint,
)
from whistle.organisation.models import Person

# The channels a person can be reached on, in the order they are written.
PERSON_CHANNELS: tuple[str, ...] = (Channel.INBOX, Channel.SMS, Channel.EMAIL)

# Lengths of the text columns a caller fills in, checked before the insert.
_LIMITS = {
    name: Notification._meta.get_field(name).max_length or 0  # type: ignore[union-attr]
    for name in ("kind", "subject", "link", "dedupe_key")
}


def notify(
    recipient: Person,
    *,
    kind: str,
    subject: str,
    body: str,
    link: str = "",
    channels: Iterable[str] | None = None,
    dedupe_key: str | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Queue one message to one person on each channel the person can be reached on.

    ``channels`` narrows the choice (the person's reach and preferences still apply);
    ``dedupe_key`` names the event so that queueing it again, by any process, adds nothing.
    """
    notify_many(
        [recipient],
        kind=kind,
        subject=subject,
        body=body,
        link=link,
        channels=channels,
        dedupe_key=dedupe_key,
        payload=payload,
    )


def notify_many(
    recipients: Iterable[Person],
    *,
    kind: str,
    subject: str,
    body: str,
    link: str = "",
    channels: Iterable[str] | None = None,
    dedupe_key: str | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """:func:`notify` for several people at once, in one insert."""
    people = list({person.pk: person for person in recipients}.values())
    requested = _requested_channels(channels)
    _check_lengths(kind=kind, link=link, dedupe_key=dedupe_key)
    if not people:
        return
    if len(subject) > _LIMITS["subject"]:
        subject = subject[: _LIMITS["subject"] - 1] + "…"
    preferences = {
        p.person_id: p
        for p in NotificationPreference.objects.filter(person__in=[p.pk for p in people])
    }
    now = timezone.now()
    rows: list[Notification] = []
    for person in people:
        reachable = reachable_channels(person, preferences.get(person.pk))
        rows.extend(
            _row(
                channel,
                recipient=person,
                address=_address(person, channel),
                kind=kind,
                subject=subject,
                body=body,
                link=link,
                payload=payload,
                dedupe_key=dedupe_key,
                now=now,
            )
            for channel in requested
            if channel in reachable
        )
    Notification.objects.bulk_create(rows, ignore_conflicts=True)


def notify_webhooks(event_kind: str, payload: dict[str, Any], dedupe_key: str) -> None:
    """Queue one signed POST of ``payload`` to every active endpoint that wants the event."""
    _check_lengths(kind=event_kind, link="", dedupe_key=dedupe_key)
    now = timezone.now()
    rows = [
        _row(
            Channel.WEBHOOK,
            endpoint=endpoint,
            address=endpoint.url,
            kind=event_kind,
            subject=event_kind,
            body="",
            link="",
            payload=payload,
            dedupe_key=dedupe_key,
            now=now,
        )
        for endpoint in WebhookEndpoint.objects.filter(is_active=True)
        if endpoint.wants(event_kind)
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)


def reachable_channels(person: Person, preference: NotificationPreference | None) -> set[str]:
    """In-app always; SMS with a phone, e-mail with an address, unless switched off.

    A deactivated account keeps its inbox but gets nothing outside the system.
    """
    channels: set[str] = {Channel.INBOX}
    if person.is_active:
        if person.phone and (preference is None or preference.sms):
            channels.add(Channel.SMS)
        if person.email and (preference is None or preference.email):
            channels.add(Channel.EMAIL)
    return channels


def inbox(person: Person, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The person's in-app notifications, newest first."""
    entries = Notification.objects.filter(recipient=person, channel=Channel.INBOX)
    if unread_only:
        entries = entries.filter(read_at__isnull=True)
    return entries


def unread_count(person: Person) -> int:
    return inbox(person, unread_only=True).count()


def mark_read(person: Person, public_ids: Iterable[uuid.UUID | str] | None = None) -> int:
    """Mark the person's unread inbox entries read: all of them, or those with these public ids.

    Ids that are malformed or belong to someone else are ignored. Returns how many changed.
    """
    entries = inbox(person, unread_only=True)
    if public_ids is not None:
        wanted = []
        for value in public_ids:
            try:
                wanted.append(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
            except ValueError:
                continue
        entries = entries.filter(uuid__in=wanted)
    return entries.update(read_at=timezone.now())


def _requested_channels(channels: Iterable[str] | None) -> list[str]:
    if channels is None:
        return list(PERSON_CHANNELS)
    requested = list(dict.fromkeys(channels))
    unknown = [c for c in requested if c not in PERSON_CHANNELS]
    if unknown:
        names = ", ".join(map(repr, unknown))
        raise ValueError(f"a person cannot be notified on {names}")
    return requested


def _check_lengths(*, kind: str, link: str, dedupe_key: str | None) -> None:
    for name, value in (("kind", kind), ("link", link), ("dedupe_key", dedupe_key)):
        limit = _LIMITS[name]
        if value is not None and len(value) > limit:
            raise ValueError(f"{name} is longer than {limit} characters")
    if not kind:
        raise ValueError("a notification needs a kind")


def _address(person: Person, channel: str) -> str:
    if channel == Channel.SMS:
        return person.phone
    if channel == Channel.EMAIL:
        return person.email
    return ""


def _row(channel: str, *, now: datetime, **fields: Any) -> Notification:
    if fields.get("payload") is None:
        fields["payload"] = {}
    if channel == Channel.INBOX:
        # Nothing to send: the committed row is the delivery.
        return Notification(
            channel=channel, status=Status.SENT, created_at=now, sent_at=now, **fields
        )
    return Notification(
        channel=channel, status=Status.PENDING, created_at=now, next_attempt_at=now, **fields
    )
