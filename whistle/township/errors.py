"""The errors the township's actions raise, each with a message translated when shown."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise


class TownshipRefused(Exception):
    """The change is not allowed (role, scope, or the record's state); nothing was written."""

    def __init__(self, message: str | Promise, /, **params: Any) -> None:
        super().__init__(message, params)
        self.message = message
        self.params = params
        self.field: str | None = None

    def __str__(self) -> str:
        text = str(self.message)
        return text % self.params if self.params else text


class InvalidTownshipInput(TownshipRefused):
    """A value given to the action is missing, malformed or out of range."""

    def __init__(self, field: str, message: str | Promise, /, **params: Any) -> None:
        super().__init__(message, **params)
        self.field = field
