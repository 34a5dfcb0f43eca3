"""The time of something recorded on a phone without signal and sent later.

The phone keeps what was done (a checklist tick, a report, a check-in) with the time its
clock showed (`happened_at`) and sends it when the connection returns, with the time its
clock shows at that moment (`sent_at`). The difference between `sent_at` and the server's
time on arrival is the phone's clock offset, measured at sync: the time it happened is the
phone's time corrected by that offset. The trail keeps both times — when it happened and
when the server received it — with the offset, so nobody takes an upload time for the time
something was done, nor a phone's clock for the truth.

Something made more than `WHISTLE_OFFLINE_MAX_DAYS` before it arrives is refused: the
Idempotency-Key of a request from the phone's queue is kept that long and a day more
(`whistle.api.idempotency`), so a resend is either recognised or refused, never done twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from whistle.cases.errors import InvalidInput


@dataclass(frozen=True)
class DeviceTime:
    # The server's time at which it happened: the device's time corrected by the offset.
    happened_at: datetime
    # The time the device's clock showed when it happened.
    device_happened_at: datetime
    received_at: datetime
    # The device's clock minus the server's when the device sent it (positive: ahead);
    # None when the device did not say when it sent it.
    clock_offset_s: float | None

    @property
    def delay_s(self) -> float:
        """How long after it happened the server received it."""
        return round((self.received_at - self.happened_at).total_seconds(), 1)

    def trail(self) -> dict[str, Any]:
        """What a trail event keeps of the two times."""
        return {
            "happened_at": self.happened_at.isoformat(),
            "device_happened_at": self.device_happened_at.isoformat(),
            "received_at": self.received_at.isoformat(),
            "clock_offset_s": self.clock_offset_s,
            "delay_s": self.delay_s,
        }


def max_age_days() -> int:
    """How many days after it was made something recorded without signal is accepted."""
    return int(getattr(settings, "WHISTLE_OFFLINE_MAX_DAYS", 30))


def _aware(value: Any, field: str) -> datetime:
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise InvalidInput(field, _("The time recorded on the device is not a valid time."))
    return value.astimezone(UTC)


def device_time(
    happened_at: datetime | None, sent_at: datetime | None, now: datetime
) -> DeviceTime | None:
    """The two times of something recorded on the device, or None for something done live.

    Refuses a time that, corrected by the measured offset, lies after its arrival: the
    device cannot have done it in the future."""
    if happened_at is None:
        return None
    device_happened = _aware(happened_at, "happened_at")
    offset: float | None = None
    if sent_at is not None:
        offset = round((_aware(sent_at, "sent_at") - now).total_seconds(), 1)
        if device_happened > _aware(sent_at, "sent_at"):
            raise InvalidInput(
                "happened_at", _("The time recorded on the device is later than its sending.")
            )
    happened = device_happened - timedelta(seconds=offset or 0.0)
    if happened > now:
        raise InvalidInput("happened_at", _("The time recorded on the device is in the future."))
    days = max_age_days()
    if now - happened > timedelta(days=days):
        raise InvalidInput(
            "happened_at",
            _(
                "This was recorded on the device more than %(days)s days ago and is no longer "
                "accepted: record it again."
            ),
            days=days,
        )
    return DeviceTime(
        happened_at=happened,
        device_happened_at=device_happened,
        received_at=now,
        clock_offset_s=offset,
    )
