"""A message sent at once to an address nobody's profile holds yet: the code that proves a
new phone number or e-mail address reaches the person who typed it.

It leaves through the same SMS gateway (``WHISTLE_SMS_BACKEND``, its template for the kind
in ``WHISTLE_SMS_TEMPLATES``) and mail server as every notification, but not through the
outbox: an outbox row would keep the code in its payload, readable, long after it was used.
Nothing of the message is kept; the caller keeps only a keyed digest of the code.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.mail import EmailMessage

from whistle.notifications.errors import DeliveryError
from whistle.notifications.models import Channel
from whistle.notifications.sms import SmsMessage, get_sms_backend


def send_now(
    channel: str, address: str, *, kind: str, subject: str, body: str, payload: dict[str, Any]
) -> None:
    """Hand the message to the gateway of the channel (SMS or e-mail) now. Raises
    `DeliveryError` when the gateway or the mail server does not take it."""
    try:
        if channel == Channel.SMS:
            get_sms_backend().send(
                SmsMessage(
                    phone=address,
                    text=body,
                    kind=kind,
                    delivery_id=str(uuid.uuid4()),
                    payload=payload,
                    subject=subject,
                    body=body,
                )
            )
        elif channel == Channel.EMAIL:
            if EmailMessage(subject=subject, body=body, to=[address]).send() != 1:
                raise DeliveryError("the mail server did not accept the message")
        else:
            raise ValueError(f"a message cannot be sent at once on {channel!r}")
    except OSError as exc:
        # The mail server or the gateway could not be reached.
        raise DeliveryError(str(exc)) from exc
