"""The SMS gateway interface.

A gateway is a class named by the setting ``WHISTLE_SMS_BACKEND`` (a dotted path). The worker
makes one instance per delivery sweep and calls :meth:`SmsBackend.send` once per message. A
gateway returns normally when the provider has accepted the message and raises
:class:`~whistle.notifications.errors.DeliveryError` (retried with backoff) or
:class:`~whistle.notifications.errors.PermanentDeliveryError` (marked failed at once)
otherwise. Any other exception is treated like ``DeliveryError``.

Delivery is at least once: after a crash the same message may be sent again.
``SmsMessage.delivery_id`` stays the same across attempts; pass it to providers that accept
a caller's message id so that they can drop the repeat.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from django.utils.module_loading import import_string

from whistle.notifications.conf import sms_backend_path


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str
    kind: str
    delivery_id: str
    payload: dict[str, Any] = field(default_factory=dict)


class SmsBackend(Protocol):
    def send(self, message: SmsMessage) -> None: ...


class ConsoleSmsBackend:
    """Writes each message to standard output instead of sending it: for development."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send(self, message: SmsMessage) -> None:
        # Looked up at each call so that redirecting sys.stdout (tests, benchmarks) works.
        stream = self._stream or sys.stdout
        stream.write(f"SMS to {message.phone} [{message.kind}] {message.delivery_id}\n")
        stream.write(message.text + "\n\n")
        stream.flush()


def get_sms_backend() -> SmsBackend:
    backend_class = import_string(sms_backend_path())
    backend: SmsBackend = backend_class()
    return backend
