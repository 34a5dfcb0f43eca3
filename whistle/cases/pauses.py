"""A deadline net of the case's time on the backlog: how late something done at a moment is.

While a case is on the backlog (挂账) its deadlines pause; when it is resumed they start
again by the district's rule, and the resume event records each summons' old and new
deadlines (`whistle.cases.actions.resume_from_backlog`). Read from the trail alone, the
department is late by the time from the deadline in force to the moment it acted, where:

- the deadline in force is the one recorded when it was summoned, replaced by each resume
  before that moment that moved it (remaining time: moved by the paused time; fresh limits:
  the full limit again from the resumption);
- something done while the case was on the backlog (an arrival, a decline, a release)
  counts as done when the case went on the backlog: the paused time after it is not held
  against anyone.

One rule for everything that judges lateness: the actions write it into their trail events
(`PausableDeadline.now_for`: a check-in while the case is on the backlog), and the
assessment reads it from the trail (`arrival_deadline`), so both say the same.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from whistle.cases.deadlines import is_paused
from whistle.cases.models import Case
from whistle.cases.trail import EventKind


class TrailEvent(Protocol):
    """What is read of a trail event: a stored `Event` or the assessment's copy of one."""

    @property
    def kind(self) -> str: ...

    @property
    def at(self) -> datetime: ...

    @property
    def data(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class PausableDeadline:
    due_at: datetime
    # (resumed at, the deadline from then on), in trail order.
    moves: tuple[tuple[datetime, datetime], ...] = ()
    # (put on the backlog at, resumed at; None while still on it), in trail order.
    pauses: tuple[tuple[datetime, datetime | None], ...] = ()

    @classmethod
    def now_for(cls, due_at: datetime, case: Case) -> PausableDeadline:
        """The deadline as it stands for something done now: the stored deadline (already
        moved by any earlier resumption), paused since the case went on the backlog if it
        is on it now."""
        if is_paused(case) and case.backlog_since is not None:
            return cls(due_at, pauses=((case.backlog_since, None),))
        return cls(due_at)

    def in_force(self, moment: datetime) -> datetime:
        due = self.due_at
        for resumed_at, moved_to in self.moves:
            if resumed_at <= moment:
                due = moved_to
        return due

    def counted(self, moment: datetime) -> datetime:
        """The moment as the clock counts it: the start of the pause it falls in, if any."""
        for paused_at, resumed_at in self.pauses:
            if paused_at <= moment and (resumed_at is None or moment < resumed_at):
                return paused_at
        return moment

    def lateness(self, moment: datetime) -> timedelta:
        """How late something done at `moment` is; zero or less is in time."""
        return self.counted(moment) - self.in_force(moment)

    def minutes_late(self, moment: datetime) -> int:
        """Whole minutes late, rounded up; 0 when in time."""
        late = self.lateness(moment)
        if late <= timedelta(0):
            return 0
        return math.ceil(late.total_seconds() / 60)


def arrival_deadline(
    due_at: datetime | None, summons_uuid: str, events: Iterable[TrailEvent]
) -> PausableDeadline | None:
    """The first round's arrival deadline of a summons with the backlog's pauses and moves
    from its case's trail (events in sequence order); None without an arrival deadline."""
    if due_at is None:
        return None
    moves: list[tuple[datetime, datetime]] = []
    pauses: list[tuple[datetime, datetime | None]] = []
    current = due_at
    for event in events:
        if event.kind == EventKind.BACKLOG:
            pauses.append((event.at, None))
        elif event.kind == EventKind.BACKLOG_RESUMED and pauses and pauses[-1][1] is None:
            paused_at = pauses[-1][0]
            pauses[-1] = (paused_at, event.at)
            moved = _moved_arrival(event, summons_uuid, current, paused_at)
            if moved is not None:
                current = moved
                moves.append((event.at, moved))
    return PausableDeadline(due_at, tuple(moves), tuple(pauses))


def _moved_arrival(
    event: TrailEvent, summons_uuid: str, current: datetime, paused_at: datetime
) -> datetime | None:
    if "rule" not in event.data:
        # Resumed before deadlines were moved on resumption: the remaining time is kept.
        return current + (event.at - paused_at)
    for entry in event.data.get("summonses") or []:
        if entry.get("summons") == summons_uuid and isinstance(entry.get("arrive_due_at"), list):
            return datetime.fromisoformat(entry["arrive_due_at"][1])
    return None
