"""The errors the case actions raise. Each carries a translatable message.

Messages are built when shown (`str(error)`), so a page or an API response reads in the
language active there, whatever the language was when the action ran.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise


class ActionRefused(Exception):
    """The action is not allowed: wrong role or scope, or not in the case's current state.

    Nothing was written, except where a refusal itself must stay on the record (a check-in
    too far away, an early check-out): see `RecordedRefusal`.
    """

    code = "refused"

    def __init__(self, message: str | Promise, /, **params: Any) -> None:
        super().__init__(message, params)
        self.message = message
        self.params = params

    def __str__(self) -> str:
        text = str(self.message)
        return text % self.params if self.params else text


class PermissionRefused(ActionRefused):
    """The acting person does not hold a suitable role in the right scope."""

    code = "permission"


class StateRefused(ActionRefused):
    """The case or the summons is not in a state the action applies to (already past it, or
    not there yet): a page does not offer the action at all, rather than explain why."""


class InvalidInput(ActionRefused):
    """A value given to the action is missing, malformed or out of range."""

    code = "invalid"

    def __init__(self, field: str, message: str | Promise, /, **params: Any) -> None:
        super().__init__(message, **params)
        self.field = field


class MomentRefused(ActionRefused):
    """The action's moment cannot stand in the trail: it lies before the last event recorded
    (a trail never goes back in time) or too far ahead of the server's clock."""

    code = "moment"


class RecordedRefusal(ActionRefused):
    """Refused, and the refused attempt has been committed to the trail.

    `event_seq` is the sequence number of the trail event that records the attempt.
    """

    code = "recorded_refusal"

    def __init__(self, message: str | Promise, /, *, event_seq: int, **params: Any) -> None:
        super().__init__(message, **params)
        self.event_seq = event_seq


class CheckInRefused(RecordedRefusal):
    """The check-in position is too far from the place of the summons."""

    code = "check_in_too_far"

    @property
    def distance_m(self) -> float:
        """The distance as measured; the message writes it in whole metres."""
        return float(self.params["distance_m"])


class CheckOutRefused(RecordedRefusal):
    """事不完、人不撤: the department tried to leave before the township let it go."""

    code = "check_out_too_early"
