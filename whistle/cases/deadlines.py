"""Deadlines of summonses and supervision notices: when to look again, and the sweep.

Actions call `next_check_for` whenever they change a summons, and store the result in
`Summons.next_check_at`; the worker's `sweep` claims the rows whose `next_check_at` has
passed.
"""

from __future__ import annotations

from datetime import datetime

from whistle.cases.models import Summons


def pending_deadlines(summons: Summons) -> list[datetime]:
    """The deadlines the department has not met yet and that are not yet recorded overdue."""
    pending: list[datetime] = []
    if summons.status not in Summons.OPEN_STATUSES:
        return pending
    if summons.acknowledged_at is None and summons.acknowledge_overdue_at is None:
        pending.append(summons.acknowledge_due_at)
    if (
        summons.arrive_due_at is not None
        and summons.arrived_at is None
        and summons.arrive_overdue_at is None
    ):
        pending.append(summons.arrive_due_at)
    if summons.done_at is None and summons.resolve_overdue_at is None:
        pending.append(summons.resolve_due_at)
    return pending


def next_check_for(summons: Summons, now: datetime) -> datetime | None:
    """The earliest moment after `summons.swept_through_at` that needs the sweep's attention."""
    after = summons.swept_through_at
    candidates = [d for d in pending_deadlines(summons) if after is None or d > after]
    return min(candidates) if candidates else None
