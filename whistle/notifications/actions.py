"""The changes a person makes to how they are reached and to their inbox: each one function,
one transaction."""

from __future__ import annotations

import binascii
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from whistle.notifications.conf import OUTSIDE_CHANNELS, is_push_service, setting
from whistle.notifications.delivery import fall_through
from whistle.notifications.models import (
    Channel,
    Notification,
    NotificationPreference,
    PushSubscription,
    Status,
)
from whistle.notifications.outbox import inbox, mark_read
from whistle.notifications.receipts import Receipt
from whistle.notifications.webpush import b64url_decode
from whistle.organisation.models import Person

log = logging.getLogger("whistle.notifications")

_ENDPOINT = URLValidator(schemes=["https"])
_ENDPOINT_MAX = PushSubscription._meta.get_field("endpoint").max_length or 1000
_USER_AGENT_MAX = PushSubscription._meta.get_field("user_agent").max_length or 300


class SubscriptionRefused(ValueError):
    """The browser's subscription cannot be used; the message says why (in English, for the
    log: the page shows its own translated text)."""


@dataclass(frozen=True)
class BrowserSubscription:
    """What the Push API's ``PushSubscription.toJSON()`` gives."""

    endpoint: str
    p256dh: str
    auth: str

    def check(self) -> None:
        if len(self.endpoint) > _ENDPOINT_MAX:
            raise SubscriptionRefused("the endpoint is too long")
        try:
            _ENDPOINT(self.endpoint)
        except ValidationError:
            raise SubscriptionRefused("the endpoint is not an https URL") from None
        if not is_push_service(urlsplit(self.endpoint).hostname or ""):
            raise SubscriptionRefused("the endpoint is not a known push service")
        try:
            public_key = b64url_decode(self.p256dh)
            secret = b64url_decode(self.auth)
        except (binascii.Error, ValueError):
            raise SubscriptionRefused("the keys are not base64url") from None
        # An uncompressed P-256 point and a 16-byte secret (RFC 8291).
        if len(public_key) != 65 or public_key[0] != 4 or len(secret) != 16:
            raise SubscriptionRefused("the keys are not a P-256 key and a 16-byte secret")


def subscribe_push(
    person: Person, subscription: BrowserSubscription, *, user_agent: str = ""
) -> PushSubscription:
    """Keep a browser's subscription for the person signed in on it.

    An endpoint belongs to one browser profile: if someone else signed in there before, the
    subscription now reaches this person instead.
    """
    subscription.check()
    with transaction.atomic():
        row, _created = PushSubscription.objects.update_or_create(
            endpoint=subscription.endpoint,
            defaults={
                "person": person,
                "p256dh": subscription.p256dh,
                "auth": subscription.auth,
                "user_agent": user_agent[:_USER_AGENT_MAX],
            },
            create_defaults={
                "person": person,
                "p256dh": subscription.p256dh,
                "auth": subscription.auth,
                "user_agent": user_agent[:_USER_AGENT_MAX],
                "created_at": timezone.now(),
            },
        )
    return row


def unsubscribe_push(person: Person, endpoint: str) -> bool:
    """Forget the person's subscription at this endpoint; True if there was one."""
    with transaction.atomic():
        deleted, _ = PushSubscription.objects.filter(person=person, endpoint=endpoint).delete()
    return deleted > 0


class PreferenceRefused(ValueError):
    """A choice on the settings page that cannot stand; ``field`` names it and the message is
    built in the language active where it is shown."""

    def __init__(self, field: str, message: str | Promise, **params: Any) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.params = params

    def __str__(self) -> str:
        text = str(self.message)
        return text % self.params if self.params else text


@dataclass(frozen=True)
class Preferences:
    """What a person chooses: outside channels in order (None: the deployment's order) and
    quiet hours in Beijing time (both or neither)."""

    channels: list[str] | None
    quiet_from: time | None = None
    quiet_until: time | None = None


def check_preferences(person: Person, preferences: Preferences) -> None:
    """Raise :class:`PreferenceRefused` for the first choice that cannot stand."""
    if preferences.channels is not None:
        seen: set[str] = set()
        for channel in preferences.channels:
            if channel not in OUTSIDE_CHANNELS:
                raise PreferenceRefused(
                    "channels", _("There is no channel %(channel)s."), channel=channel
                )
            if channel in seen:
                raise PreferenceRefused(
                    "channels",
                    _("%(channel)s is chosen twice: choose each channel once."),
                    channel=Channel(channel).label,
                )
            seen.add(channel)
        if Channel.PUSH in seen and not setting("WHISTLE_VAPID_PRIVATE_KEY"):
            raise PreferenceRefused("channels", _("Web Push is not set up on this server."))
        if Channel.SMS in seen and not person.phone:
            raise PreferenceRefused(
                "channels",
                _("Your profile has no mobile phone number, so SMS cannot reach you."),
            )
        if Channel.EMAIL in seen and not person.email:
            raise PreferenceRefused(
                "channels", _("Your profile has no e-mail address, so e-mail cannot reach you.")
            )
    start, end = preferences.quiet_from, preferences.quiet_until
    if (start is None) != (end is None):
        raise PreferenceRefused(
            "quiet_until" if end is None else "quiet_from",
            _("Give both the start and the end of the quiet hours, or neither."),
        )
    if start is not None and start == end:
        raise PreferenceRefused(
            "quiet_until", _("Quiet hours must start and end at different times.")
        )


def set_notification_preferences(
    person: Person, preferences: Preferences
) -> NotificationPreference:
    """Keep the person's channels and quiet hours.

    Messages already waiting for quiet hours to end are looked at again at once: the
    delivery sweep holds them anew under the new hours, or sends them.
    """
    check_preferences(person, preferences)
    now = timezone.now()
    with transaction.atomic():
        row, _created = NotificationPreference.objects.update_or_create(
            person=person,
            defaults={
                "channels": preferences.channels,
                "quiet_from": preferences.quiet_from,
                "quiet_until": preferences.quiet_until,
                "updated_at": now,
            },
        )
        # Held messages were never tried (attempts 0) and wait in the future; a message waiting
        # to be retried after a failure has tried at least once and keeps its schedule.
        Notification.objects.filter(
            recipient=person,
            channel__in=OUTSIDE_CHANNELS,
            status=Status.PENDING,
            attempts=0,
            next_attempt_at__gt=now,
        ).update(next_attempt_at=now)
    return row


def read_notification(person: Person, public_id: uuid.UUID) -> Notification:
    """Mark one of the person's own inbox entries read (once: the first reading is kept) and
    return it; raise ``Notification.DoesNotExist`` for an id that is not theirs."""
    with transaction.atomic():
        mark_read(person, [public_id])
        return inbox(person).get(uuid=public_id)


def read_all(person: Person) -> int:
    """Mark every unread inbox entry of the person read; return how many."""
    with transaction.atomic():
        return mark_read(person)


@dataclass(frozen=True)
class ReceiptsRecorded:
    """What one batch of SMS receipts changed."""

    delivered: int
    failed: int
    # Reports about messages already delivered or failed: repeats, or late ones.
    unchanged: int
    # Reports whose id is no message of ours (another system on the same account, or rows
    # since deleted).
    unknown: int


def record_sms_receipts(receipts: Sequence[Receipt]) -> ReceiptsRecorded:
    """Mark the SMS messages the provider reports on delivered, or failed with the operator's
    reason; one transaction for the batch.

    Only a message that is sent and not yet delivered moves: a report never takes a delivered
    or failed message back, so repeats change nothing. A failed message passes on to the
    recipient's next channel, as one that fails while being sent does.
    """
    now = timezone.now()
    delivered = failed = unchanged = unknown = 0
    with transaction.atomic():
        rows: dict[str, list[Notification]] = {}
        for row in Notification.objects.filter(
            channel=Channel.SMS, provider_ref__in={r.provider_ref for r in receipts}
        ).select_related("recipient"):
            rows.setdefault(row.provider_ref, []).append(row)
        for receipt in receipts:
            matched = rows.get(receipt.provider_ref)
            if not matched:
                log.info("SMS receipt for an unknown message %s ignored", receipt.provider_ref)
                unknown += 1
                continue
            for row in matched:
                waiting = Notification.objects.filter(
                    pk=row.pk, status=Status.SENT, delivered_at__isnull=True
                )
                if receipt.delivered:
                    # A provider's clock ahead of ours must not date a delivery in the future.
                    at = min(receipt.at, now) if receipt.at is not None else now
                    changed = waiting.update(delivered_at=at)
                    delivered += changed
                else:
                    changed = waiting.update(status=Status.FAILED, last_error=receipt.reason)
                    if changed:
                        failed += 1
                        fall_through(row, at=now)
                unchanged += 1 - changed
    return ReceiptsRecorded(
        delivered=delivered, failed=failed, unchanged=unchanged, unknown=unknown
    )
