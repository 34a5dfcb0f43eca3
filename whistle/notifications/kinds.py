"""What each kind of notification is: its name in words, and whether it is urgent.

The outbox knows kinds only as codes (``summons.created``); the domain that raises them
registers each one here once, when its app is ready. An urgent kind reaches a person at once
on every channel, through their quiet hours; any other kind waits on the outside channels
until the quiet hours end (the in-app inbox always gets it at once). Urgency is a property of
the kind, read from here, so that no call site decides it on its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NotificationKind:
    code: str
    label: str | Promise
    urgent: bool = False


_KINDS: dict[str, NotificationKind] = {}


def register_kinds(kinds: Iterable[NotificationKind]) -> None:
    """Make these kinds known (again: a later registration of a code replaces the earlier)."""
    for kind in kinds:
        _KINDS[kind.code] = kind


def kind_of(code: str) -> NotificationKind:
    """The registered kind, or an unknown one named by its code and never urgent."""
    return _KINDS.get(code) or NotificationKind(code, code)


def is_urgent(code: str) -> bool:
    return kind_of(code).urgent


def urgent_kinds() -> list[NotificationKind]:
    return sorted((k for k in _KINDS.values() if k.urgent), key=lambda k: k.code)


ROBOT_TEST = NotificationKind("robot.test", _("test message to a work-chat group"))

register_kinds([ROBOT_TEST])
