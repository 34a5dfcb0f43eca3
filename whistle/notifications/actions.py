"""The changes a person makes to how they are reached: each one function, one transaction."""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from whistle.notifications.conf import is_push_service
from whistle.notifications.models import PushSubscription
from whistle.notifications.webpush import b64url_decode
from whistle.organisation.models import Person

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
