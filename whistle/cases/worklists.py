"""What a department has on its hands, in the order to deal with it.

A summons stays on a department's hands while the department owes something on it (an open
obligation: acknowledge, arrive, resolve) or is on site and has not checked out. The
department's desk and the home page of its people list them the same way: first those whose
next deadline is still running, nearest first (they can still be met), then the overdue ones,
longest overdue first, then those that owe nothing but the check-out, and last those whose
case is on the backlog: their deadlines are paused, neither running nor overdue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from whistle.cases.deadlines import Obligation, is_paused, obligations
from whistle.cases.models import Summons
from whistle.cases.permissions import may_leave

SS = Summons.Status

ON_HAND = Q(status__in=Summons.OPEN_STATUSES) | Q(
    status__in=[SS.DONE, SS.RELEASED], arrived_at__isnull=False, left_at__isnull=True
)
# The statuses in which the department has the next move (a decline waits for the township).
DEPARTMENT_TO_ACT = (SS.SUMMONED, SS.ACKNOWLEDGED, SS.ON_SITE)

RUNNING, OVERDUE, REST, PAUSED = "running", "overdue", "rest", "paused"


def next_obligation(summons: Summons) -> Obligation | None:
    """The first deadline the summons has not met, while it owes something."""
    if summons.status not in Summons.OPEN_STATUSES:
        return None
    return next((o for o in obligations(summons) if o.met_at is None), None)


@dataclass
class Deadline:
    """A deadline to show with a countdown: what it is for, when, and whether it passed."""

    kind: str  # acknowledge, arrive, resolve, review, answer
    due_at: datetime
    overdue: bool
    # The case is on the backlog: the deadline does not run (and is never overdue) until
    # the case is resumed, when it moves by the district's rule.
    paused: bool = False


def summons_deadline(summons: Summons, now: datetime) -> Deadline | None:
    obligation = next_obligation(summons)
    if obligation is None:
        return None
    if is_paused(summons.case):
        return Deadline(obligation.name, obligation.due_at, overdue=False, paused=True)
    return Deadline(obligation.name, obligation.due_at, obligation.due_at < now)


@dataclass
class WorkItem:
    summons: Summons
    deadline: Deadline | None

    @property
    def group(self) -> str:
        if self.deadline is None:
            return REST
        if self.deadline.paused:
            return PAUSED
        return OVERDUE if self.deadline.overdue else RUNNING

    @property
    def may_leave(self) -> bool:
        """On site, and the township has let the department go: time to check out."""
        s = self.summons
        return s.arrived_at is not None and s.left_at is None and may_leave(s)

    @property
    def to_act(self) -> bool:
        """The department has the next move: acknowledge, arrive, report, or check out. A
        summons paused on the backlog waits for the township to resume the case."""
        return (self.summons.status in DEPARTMENT_TO_ACT and self.group != PAUSED) or self.may_leave


def on_hand(department_ids: Iterable[int]) -> QuerySet[Summons]:
    """The departments' summonses still on their hands, with what a list shows of each."""
    return (
        Summons.objects.filter(ON_HAND, department_id__in=sorted(department_ids))
        .select_related(
            "department", "whistle", "case", "case__township", "case__lane", "case__category"
        )
        .order_by("summoned_at", "pk")
    )


# The order of the groups on the desk and the home page.
GROUPS = (RUNNING, OVERDUE, REST, PAUSED)


def in_order(summonses: Iterable[Summons], now: datetime) -> list[WorkItem]:
    """Running deadlines first (nearest first), then overdue ones (longest overdue first),
    then the rest (ready to check out first), then the paused ones (the earliest deadline
    first)."""
    items = [WorkItem(s, summons_deadline(s, now)) for s in summonses]
    rank = {group: number for number, group in enumerate(GROUPS)}

    def key(item: WorkItem) -> tuple[int, float, int]:
        if item.deadline is not None:
            return (rank[item.group], item.deadline.due_at.timestamp(), item.summons.pk)
        return (rank[REST], 0.0 if item.may_leave else 1.0, item.summons.pk)

    return sorted(items, key=key)
