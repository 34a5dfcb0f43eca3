"""What a channel raises when a message could not be delivered."""

from __future__ import annotations

from datetime import datetime


class DeliveryError(Exception):
    """The message was not delivered this time; the worker tries again later."""


class PermanentDeliveryError(DeliveryError):
    """The message can never be delivered as queued; the worker marks it failed at once."""


class DeliveryDeferred(Exception):
    """The channel may not take the message before ``until`` (a rate limit): the worker puts
    it back without counting an attempt."""

    def __init__(self, until: datetime, reason: str) -> None:
        super().__init__(reason)
        self.until = until
