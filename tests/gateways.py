"""SMS gateways for tests: one that keeps what it is given, one that refuses it. The
`recording_gateways` fixture sends SMS to the first and e-mail to Django's outbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from whistle.notifications.errors import DeliveryError
from whistle.notifications.sms import SmsMessage

RECORDING_SMS = "tests.gateways.RecordingSms"
REFUSING_SMS = "tests.gateways.RefusingSms"


class RecordingSms:
    sent: list[SmsMessage] = []

    def send(self, message: SmsMessage) -> None:
        RecordingSms.sent.append(message)


class RefusingSms:
    def send(self, message: SmsMessage) -> None:
        raise DeliveryError("gateway busy: code 503")


@pytest.fixture(name="recording_gateways")
def recording_gateways_fixture(settings) -> Iterator[None]:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.WHISTLE_SMS_BACKEND = RECORDING_SMS
    RecordingSms.sent.clear()
    yield
    RecordingSms.sent.clear()
