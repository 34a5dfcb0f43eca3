"""How one queued notification leaves the system on its channel."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from whistle.notifications import robots, webhooks, webpush
from whistle.notifications.conf import (
    is_push_service,
    push_ttl_seconds,
    webhook_timeout_seconds,
)
from whistle.notifications.errors import DeliveryError, PermanentDeliveryError
from whistle.notifications.models import Channel, Notification, PushSubscription
from whistle.notifications.sms import SmsBackend, SmsMessage, get_sms_backend

# A push message is read on a lock screen: the body is cut long before the record is full.
_PUSH_BODY_CHARS = 500


@dataclass(frozen=True)
class Handed:
    """What a channel reported when it took a message."""

    provider_ref: str = ""
    # The channel confirmed the message reached its destination, not just its gateway.
    delivered: bool = False


def email_text(notification: Notification) -> str:
    return "\n\n".join(part for part in (notification.body, notification.absolute_link) if part)


def sms_text(notification: Notification) -> str:
    parts = (notification.subject, notification.body, notification.absolute_link)
    return "\n".join(part for part in parts if part)


def push_payload(notification: Notification) -> bytes:
    """What the service worker shows: title, text, the page to open, and a tag so that a
    repeat of the same message replaces the first instead of ringing twice."""
    document = {
        "title": notification.subject or notification.kind,
        "body": notification.body[:_PUSH_BODY_CHARS],
        "url": notification.absolute_link,
        "tag": notification.dedupe_key or str(notification.uuid),
        "id": str(notification.uuid),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Couriers:
    """The senders of one delivery sweep, each made when first needed and closed at the end."""

    def __init__(self) -> None:
        self._sms: SmsBackend | None = None
        self._mail: BaseEmailBackend | None = None

    def deliver(self, notification: Notification) -> Handed:
        if notification.channel == Channel.EMAIL:
            self._email(notification)
        elif notification.channel == Channel.SMS:
            return Handed(provider_ref=self._text(notification))
        elif notification.channel == Channel.PUSH:
            self._push(notification)
        elif notification.channel == Channel.ROBOT:
            self._robot(notification)
            return Handed(delivered=True)
        elif notification.channel == Channel.WEBHOOK:
            self._webhook(notification)
        elif notification.channel != Channel.INBOX:
            raise PermanentDeliveryError(f"unknown channel {notification.channel!r}")
        return Handed()

    def close(self) -> None:
        if self._mail is not None:
            self._mail.close()
            self._mail = None

    def _email(self, notification: Notification) -> None:
        if not notification.address:
            raise PermanentDeliveryError("the recipient has no e-mail address")
        if self._mail is None:
            self._mail = get_connection()
            self._mail.open()
        message = EmailMessage(
            # A line break in a subject is refused by the mail library.
            subject=" ".join(notification.subject.split()),
            body=email_text(notification),
            to=[notification.address],
            headers={webhooks.DELIVERY_HEADER: str(notification.uuid)},
            connection=self._mail,
        )
        if message.send() != 1:
            raise DeliveryError("the mail server did not accept the message")

    def _text(self, notification: Notification) -> str:
        if not notification.address:
            raise PermanentDeliveryError("the recipient has no phone number")
        if self._sms is None:
            self._sms = get_sms_backend()
        reference = self._sms.send(
            SmsMessage(
                phone=notification.address,
                text=sms_text(notification),
                kind=notification.kind,
                delivery_id=str(notification.uuid),
                payload=notification.payload,
                subject=notification.subject,
                body=notification.body,
                link=notification.absolute_link,
            )
        )
        return reference or ""

    def _push(self, notification: Notification) -> None:
        """Send to every browser the person subscribed; taken once any push service took it.

        A push service that answers 404 or 410 has dropped the subscription for good: it is
        forgotten, and when none is left the message fails (and falls through)."""
        vapid = webpush.configured_vapid()
        if vapid is None:
            raise PermanentDeliveryError("Web Push is not set up (WHISTLE_VAPID_PRIVATE_KEY)")
        subscriptions = (
            list(PushSubscription.objects.filter(person_id=notification.recipient_id))
            if notification.recipient_id is not None
            else []
        )
        if not subscriptions:
            raise PermanentDeliveryError("the recipient has no Web Push subscription")
        payload = push_payload(notification)
        taken: list[int] = []
        gone: list[int] = []
        refusals: list[str] = []
        for subscription in subscriptions:
            if not is_push_service(urlsplit(subscription.endpoint).hostname or ""):
                refusals.append("the endpoint is not a known push service")
                continue
            try:
                answer = webpush.post(
                    vapid,
                    endpoint=subscription.endpoint,
                    p256dh=subscription.p256dh,
                    auth=subscription.auth,
                    payload=payload,
                    ttl=push_ttl_seconds(),
                    now=timezone.now(),
                )
            except (DeliveryError, ValueError) as exc:
                refusals.append(str(exc))
                continue
            if answer.ok:
                taken.append(subscription.pk)
            elif answer.status in (404, 410):
                gone.append(subscription.pk)
            else:
                refusals.append(f"the push service answered HTTP {answer.status}")
        if gone:
            PushSubscription.objects.filter(pk__in=gone).delete()
        if taken:
            PushSubscription.objects.filter(pk__in=taken).update(last_success_at=timezone.now())
            return
        if refusals:
            raise DeliveryError("; ".join(refusals))
        raise PermanentDeliveryError("every Web Push subscription of the recipient has expired")

    def _robot(self, notification: Notification) -> None:
        if notification.robot_id is None:
            raise PermanentDeliveryError("the work-chat group robot was deleted")
        now = timezone.now()
        robot = robots.reserve_slot(notification.robot_id, now)
        robots.send(robot, notification, now)

    def _webhook(self, notification: Notification) -> None:
        endpoint = notification.endpoint
        if endpoint is None:
            raise PermanentDeliveryError("the webhook endpoint was deleted")
        if not endpoint.is_active:
            raise PermanentDeliveryError("the webhook endpoint is switched off")
        body = webhooks.body_for(
            delivery_id=str(notification.uuid),
            event=notification.kind,
            created_at_iso=notification.created_at.isoformat(),
            payload=notification.payload,
        )
        webhooks.post(
            endpoint.url,
            secret=endpoint.secret,
            body=body,
            event=notification.kind,
            delivery_id=str(notification.uuid),
            timeout=webhook_timeout_seconds(),
        )
