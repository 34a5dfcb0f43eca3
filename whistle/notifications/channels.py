"""How one queued notification leaves the system on its channel."""

from __future__ import annotations

from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend

from whistle.notifications import webhooks
from whistle.notifications.conf import webhook_timeout_seconds
from whistle.notifications.errors import DeliveryError, PermanentDeliveryError
from whistle.notifications.models import Channel, Notification
from whistle.notifications.sms import SmsBackend, SmsMessage, get_sms_backend


def email_text(notification: Notification) -> str:
    return "\n\n".join(part for part in (notification.body, notification.absolute_link) if part)


def sms_text(notification: Notification) -> str:
    parts = (notification.subject, notification.body, notification.absolute_link)
    return "\n".join(part for part in parts if part)


class Couriers:
    """The senders of one delivery sweep, each made when first needed and closed at the end."""

    def __init__(self) -> None:
        self._sms: SmsBackend | None = None
        self._mail: BaseEmailBackend | None = None

    def deliver(self, notification: Notification) -> None:
        if notification.channel == Channel.EMAIL:
            self._email(notification)
        elif notification.channel == Channel.SMS:
            self._text(notification)
        elif notification.channel == Channel.WEBHOOK:
            self._webhook(notification)
        elif notification.channel != Channel.INBOX:
            raise PermanentDeliveryError(f"unknown channel {notification.channel!r}")

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

    def _text(self, notification: Notification) -> None:
        if not notification.address:
            raise PermanentDeliveryError("the recipient has no phone number")
        if self._sms is None:
            self._sms = get_sms_backend()
        self._sms.send(
            SmsMessage(
                phone=notification.address,
                text=sms_text(notification),
                kind=notification.kind,
                delivery_id=str(notification.uuid),
                payload=notification.payload,
            )
        )

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
