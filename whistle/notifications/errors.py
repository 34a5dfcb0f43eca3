"""What a channel raises when a message could not be delivered."""

from __future__ import annotations


class DeliveryError(Exception):
    """The message was not delivered this time; the worker tries again later."""


class PermanentDeliveryError(DeliveryError):
    """The message can never be delivered as queued; the worker marks it failed at once."""
