"""Deadlines of summonses, supervision notices and hotline replies: when to look again, and
the sweep.

Actions call `next_check_for` whenever they change a summons, and store the result in
`Summons.next_check_at`; the worker's `sweep` claims the rows whose `next_check_at` has
passed, records what happened in the meantime (overdue, reminders, escalation) and stores
the next moment to look. The model, the claim protocol and the exactly-once argument are
written out in docs/deadlines.md.

Boundaries: an obligation met at or before its deadline is on time. The deadline itself is
"due", not yet overdue: a sweep at exactly the deadline records nothing, a sweep at any later
instant records the overdue. Stored times have microsecond resolution on both databases, so
the first overdue instant is the deadline plus one microsecond (`OVERDUE_STEP`).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import operator
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connections, router, transaction
from django.db.models import F, Field, Model
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from whistle.cases.bulk import among, insert_values, reader, update_each
from whistle.cases.models import Case, HotlineOrder, Summons, SupervisionNotice, Whistle
from whistle.cases.permissions import request_handled
from whistle.cases.trail import BatchedEvent, EventKind, TrailBatch, event_link
from whistle.notifications import audiences, texts
from whistle.notifications.models import Notification
from whistle.notifications.outbox import ROW_FIELDS, Outbox, unqueued
from whistle.organisation import directory
from whistle.organisation.models import Department, Jurisdiction, Lane, Person, Role
from whistle.policies.models import YEAR_IN_MINUTES, ChainTarget, DistrictPolicy

logger = logging.getLogger("whistle.deadlines")

# The first instant after a deadline: the moment it becomes overdue.
OVERDUE_STEP = timedelta(microseconds=1)
# Rows claimed per transaction. A chunk takes the same dozen statements whatever its size, so
# a larger one spreads them over more rows (200 instead of 50: a fifth more obligations a
# second, docs/benchmarks.md); small enough that an action waiting for one of these cases
# (on SQLite, any writer) waits for a fraction of a second at most, not a whole batch.
CHUNK = 200
# The role written on every event the sweep appends (there is no acting person).
SYSTEM_ROLE = "system"

ACKNOWLEDGE = "acknowledge"
ARRIVE = "arrive"
RESOLVE = "resolve"

# Obligation name -> (field that says it was recorded overdue, the event that records it).
_OBLIGATION_FIELDS: dict[str, tuple[str, str]] = {
    ACKNOWLEDGE: ("acknowledge_overdue_at", EventKind.ACKNOWLEDGE_OVERDUE),
    ARRIVE: ("arrive_overdue_at", EventKind.ARRIVE_OVERDUE),
    RESOLVE: ("resolve_overdue_at", EventKind.RESOLVE_OVERDUE),
}

_ESCALATION_RANK: dict[str, int] = {
    Case.Escalation.NONE: 0,
    Case.Escalation.TOWNSHIP: 1,
    Case.Escalation.DISTRICT: 2,
}
_ESCALATION_FIELD: dict[str, str] = {
    Case.Escalation.TOWNSHIP: "escalated_to_township_at",
    Case.Escalation.DISTRICT: "escalated_to_district_at",
}
# Who hears of an escalation to each level; each audience shares one inbox entry
# (`whistle.notifications.audiences`, where the roles of each are named).
_ESCALATION_AUDIENCES: dict[str, audiences.Audience] = {
    Case.Escalation.TOWNSHIP: audiences.TOWNSHIP_ESCALATION,
    Case.Escalation.DISTRICT: audiences.DISTRICT_ESCALATION,
}
_ESCALATION_ROLES: dict[str, tuple[str, ...]] = {
    level: audience.roles for level, audience in _ESCALATION_AUDIENCES.items()
}
_DEPARTMENT_ROLES = audiences.DEPARTMENT.roles
# Who is reminded of a backlog case's review date, and told that a hotline caller's reply is
# overdue: the township's command centre.
_BACKLOG_REVIEW_ROLES = audiences.TOWNSHIP_DESK.roles
_REPLY_OVERDUE_ROLES = audiences.TOWNSHIP_DESK.roles
# Who is told that a decline still waits for the township's ruling while the summons' clock
# runs: the township's dispatchers, told of the decline itself (`actions.on_site.decline`).
_RULING_ROLES = audiences.TOWNSHIP_DISPATCHERS.roles


# --- Obligations and the points in time that follow from them ------------------------------


@dataclass(frozen=True)
class Obligation:
    """One thing a summoned department owes by a deadline."""

    name: str
    due_at: datetime
    # When it was met (None: not yet). Arriving or reporting a result also acknowledges.
    met_at: datetime | None
    # When the sweep recorded it overdue (None: not recorded).
    overdue_at: datetime | None

    @property
    def overdue_from(self) -> datetime:
        return self.due_at + OVERDUE_STEP

    @property
    def due_field(self) -> str:
        return f"{self.name}_due_at"

    @property
    def overdue_field(self) -> str:
        return _OBLIGATION_FIELDS[self.name][0]

    @property
    def overdue_kind(self) -> str:
        return _OBLIGATION_FIELDS[self.name][1]


def obligations(summons: Summons) -> list[Obligation]:
    """Every obligation of the summons, met or not, in the order they fall due."""
    found = [
        Obligation(
            ACKNOWLEDGE,
            summons.acknowledge_due_at,
            _earliest(summons.acknowledged_at, summons.arrived_at, summons.done_at),
            summons.acknowledge_overdue_at,
        )
    ]
    if summons.arrive_due_at is not None:
        found.append(
            Obligation(ARRIVE, summons.arrive_due_at, summons.arrived_at, summons.arrive_overdue_at)
        )
    found.append(
        Obligation(RESOLVE, summons.resolve_due_at, summons.done_at, summons.resolve_overdue_at)
    )
    return found


def _earliest(*moments: datetime | None) -> datetime | None:
    known = [m for m in moments if m is not None]
    return min(known) if known else None


# A case with this status pauses every obligation of its summonses and supervision notices
# (挂账): nothing turns overdue, nobody is reminded, nothing escalates until it is resumed.
PAUSING_STATUS = Case.Status.BACKLOG


def is_paused(case: Case) -> bool:
    """The case's deadlines are paused: it is on the backlog. Paused is neither overdue nor
    due next, on every page."""
    return case.status == PAUSING_STATUS


def is_unmet(summons: Summons, obligation: Obligation) -> bool:
    """The department still owes this, now."""
    return summons.status in Summons.OPEN_STATUSES and obligation.met_at is None


def awaits_ruling(summons: Summons) -> bool:
    """The department declined the summons and the township has not ruled yet: its arrival
    and resolution deadlines keep running meanwhile (`actions.on_site.decline`)."""
    return summons.status == Summons.Status.DECLINED


def was_unmet_at_deadline(summons: Summons, obligation: Obligation) -> bool:
    """The department owed this at the deadline: not met by then, and not let off by then.

    Judged from timestamps, so the answer does not depend on when the sweep looks: an
    arrival at 30:40 after a 30:00 deadline is late whether the sweep ran at 30:01 or only
    after it. A cancelled summons has no timestamp of its cancellation and owes nothing.
    """
    if summons.status == Summons.Status.CANCELLED:
        return False
    due = obligation.due_at
    if obligation.met_at is not None and obligation.met_at <= due:
        return False
    return all(end is None or end > due for end in (summons.released_at, summons.left_at))


def pending_deadlines(summons: Summons) -> list[datetime]:
    """The deadlines the department has not met yet and that are not yet recorded overdue."""
    return [o.due_at for o in obligations(summons) if o.overdue_at is None and is_unmet(summons, o)]


def reminder_times(start: datetime, due: datetime, policy: DistrictPolicy) -> list[datetime]:
    """The reminder points of an obligation summoned at `start` and due at `due`.

    Each fraction of the policy is a point at that share of the natural time from `start` to
    `due`; each "minutes before" is a point that long before `due`. Points outside the open
    interval (start, due) are dropped, and points that coincide count once.
    """
    span = due - start
    points = {start + span * fraction for fraction in _fractions(policy.reminder_fractions)}
    points.update(due - timedelta(minutes=m) for m in _minutes(policy.reminder_minutes_before))
    return sorted(p for p in points if start < p < due)


@functools.cache
def _fractions(text: str) -> tuple[float, ...]:
    # Cached: a bad entry is logged once, not on every row.
    values = []
    for chunk in (text or "").split(","):
        if not chunk.strip():
            continue
        try:
            value = float(chunk)
        except ValueError:
            logger.warning("ignoring reminder fraction %r: not a number", chunk)
            continue
        if 0 < value < 1:
            values.append(value)
        else:
            logger.warning("ignoring reminder fraction %r: not between 0 and 1", chunk)
    return tuple(values)


@functools.cache
def _minutes(text: str) -> tuple[int, ...]:
    values = []
    for chunk in (text or "").split(","):
        if not chunk.strip():
            continue
        if chunk.strip().isdigit() and int(chunk) > 0:
            values.append(int(chunk))
        else:
            logger.warning("ignoring reminder minutes %r: not a positive whole number", chunk)
    return tuple(values)


@dataclass(frozen=True, order=True)
class Point:
    """A moment at which the sweep has something to do for one obligation."""

    at: datetime
    # Order of things due at the same moment: overdue before the escalation it causes.
    rank: int
    what: str = field(compare=False)
    obligation: Obligation = field(compare=False)
    # For a step of the acknowledgement chain: its index in the chain.
    step: int = field(default=0, compare=False)


OVERDUE = "overdue"
REMINDER = "reminder"
CHAIN = "chain"
TOWNSHIP = "township"
DISTRICT = "district"
_RANKS = {REMINDER: 0, CHAIN: 1, OVERDUE: 2, TOWNSHIP: 3, DISTRICT: 4}
_REMINDER_RANK, _CHAIN_RANK, _OVERDUE_RANK = _RANKS[REMINDER], _RANKS[CHAIN], _RANKS[OVERDUE]
_TOWNSHIP_RANK, _DISTRICT_RANK = _RANKS[TOWNSHIP], _RANKS[DISTRICT]


# A point as `_candidates` makes it: (at, rank, what, obligation, step), the fields of
# `Point` in their order, without an object per point (most are not due yet).
_Candidate = tuple[datetime, int, str, Obligation, int]
# Points in `Point`'s order: by moment, then rank (the sort is stable, as with `Point`).
_IN_ORDER = operator.itemgetter(0, 1)


def chain_steps(summons: Summons) -> list[tuple[str, datetime]]:
    """The summons' acknowledgement chain: each step's target and the moment it is planned
    for, counted back from the acknowledgement deadline (so that the chain moves with it)."""
    found = []
    for step in summons.acknowledgement_chain or []:
        before = timedelta(microseconds=int(step["before_due_us"]))
        found.append((str(step["target"]), summons.acknowledge_due_at - before))
    return found


def points_of(summons: Summons, policy: DistrictPolicy, now: datetime) -> list[Point]:
    """Everything still to do for the summons, at any time, in the order it falls due.

    - overdue: once per obligation that was unmet at its deadline and is not recorded;
    - reminders: for obligations unmet now, at reminder points after `swept_through_at`,
      only while the deadline is still ahead of `now` (a reminder can never be sent later);
    - escalation to the township at the overdue instant and to the district the policy's
      minutes after it, for obligations unmet now, while not escalated to that level;
    - each step of the acknowledgement chain not taken yet, at the first instant after its
      planned moment, while nobody has acknowledged and the deadline is still ahead of
      `now` (once it has passed, the overdue and the escalation take over).

    Nothing while the case is on the backlog: its obligations pause until it is resumed.
    """
    return [Point(*candidate) for candidate in _candidates(summons, policy, now)]


def _candidates(summons: Summons, policy: DistrictPolicy, now: datetime) -> list[_Candidate]:
    """`points_of` as plain tuples, in the same order."""
    if is_paused(summons.case):
        return []
    found: list[_Candidate] = []
    append = found.append
    swept = summons.swept_through_at
    # Bounded like the policy's own field, for a row written before the bound existed.
    district_delay = timedelta(
        minutes=min(policy.escalate_to_district_after_minutes, YEAR_IN_MINUTES)
    )
    township = summons.escalated_to_township_at is None
    district = summons.escalated_to_district_at is None
    for obligation in obligations(summons):
        overdue_from = obligation.due_at + OVERDUE_STEP
        if obligation.overdue_at is None and was_unmet_at_deadline(summons, obligation):
            append((overdue_from, _OVERDUE_RANK, OVERDUE, obligation, 0))
        if not is_unmet(summons, obligation):
            continue
        if obligation.due_at > now:
            for at in reminder_times(summons.summoned_at, obligation.due_at, policy):
                if swept is None or at > swept:
                    append((at, _REMINDER_RANK, REMINDER, obligation, 0))
            if obligation.name == ACKNOWLEDGE:
                steps = chain_steps(summons)
                for index in range(summons.chain_steps_taken, len(steps)):
                    planned = steps[index][1]
                    append((planned + OVERDUE_STEP, _CHAIN_RANK, CHAIN, obligation, index))
        if township:
            append((overdue_from, _TOWNSHIP_RANK, TOWNSHIP, obligation, 0))
        if district:
            append((overdue_from + district_delay, _DISTRICT_RANK, DISTRICT, obligation, 0))
    found.sort(key=_IN_ORDER)
    return found


def next_check_for(
    summons: Summons, now: datetime, *, policy: DistrictPolicy | None = None
) -> datetime | None:
    """The earliest moment that needs the sweep's attention: a deadline turning overdue, a
    reminder or an escalation; None when nothing is left to do.

    The answer may lie in the past (something the sweep has not handled yet); the sweep then
    claims the summons at its next tick.
    """
    if policy is None:
        policy = policy_for(summons)
    points = points_of(summons, policy, now)
    return points[0].at if points else None


def next_check_for_notice(notice: SupervisionNotice) -> datetime | None:
    """The moment a supervision notice turns overdue, or None when it cannot any more or
    while its case is on the backlog (paused)."""
    if notice.overdue_at is not None or not _notice_unanswered_at_deadline(notice):
        return None
    if is_paused(notice.case):
        return None
    return notice.due_at + OVERDUE_STEP


def next_reply_check(order: HotlineOrder) -> datetime | None:
    """The next moment the sweep must look at a hotline order: the reply turning overdue
    (`_reply_check`) or the promised result (`_promise_check`), whichever comes first; None
    when neither can any more."""
    due = [at for at in (_reply_check(order), _promise_check(order)) if at is not None]
    return min(due) if due else None


def _reply_check(order: HotlineOrder) -> datetime | None:
    """The moment a hotline order's reply turns overdue, or None when it cannot any more:
    recorded overdue already, or replied in time. A late reply the sweep has not seen yet
    keeps the moment, so that the lateness is recorded all the same."""
    if order.reply_overdue_at is not None:
        return None
    if order.replied_at is not None and order.replied_at <= order.respond_due_at:
        return None
    return order.respond_due_at + OVERDUE_STEP


def _promise_check(order: HotlineOrder) -> datetime | None:
    """The moment the result promised by a reply "in progress" turns overdue, or None when
    it cannot any more: the final reply given, the promise recorded overdue already, or the
    request handled otherwise (the case marked resolved, closed or not taken up)."""
    if order.promised_by is None or order.promise_overdue_at is not None:
        return None
    if not order.awaits_final_reply or request_handled(order.case):
        return None
    return order.promised_by + OVERDUE_STEP


def _notice_unanswered_at_deadline(notice: SupervisionNotice) -> bool:
    return notice.answered_at is None or notice.answered_at > notice.due_at


def policy_for(summons: Summons) -> DistrictPolicy:
    """The policy of the case's district (the department's when the case has none)."""
    district_id = summons.case.district_id or summons.department.district_id
    return _load_policy(district_id)


def _load_policy(district_id: int) -> DistrictPolicy:
    policy = DistrictPolicy.objects.filter(district_id=district_id).first()
    # A district without a policy row works with the defaults.
    return policy if policy is not None else DistrictPolicy(district_id=district_id)


# --- The sweep ----------------------------------------------------------------------------


class _LostClaim(Exception):
    """The row changed under the sweep although it was locked: roll its work back."""


@dataclass
class _RowWrite:
    """A swept row's new fields, to land only on the row as it was read: while `guard` still
    holds the value `was` (belt and braces on top of the lock)."""

    row: Any
    guard: str
    was: Any
    fields: set[str]


class _Chunk:
    """What the rows claimed in one transaction produce, written together at its end: the
    rows' own fields (one conditional update per kind of row), the trail events (one insert,
    each case's trail head moved once), and the notifications and webhooks (one insert).

    Each event and message is still made by the function that defines it (`_record_overdue`,
    `_escalate`, ...); only the writing is shared.
    """

    def __init__(self, lanes: Iterable[int] = ()) -> None:
        self.outbox = Outbox()
        self.trail = TrailBatch(self.outbox)
        self._writes: dict[type[Model], list[_RowWrite]] = {}
        # The lanes of the chunk's cases, and their chiefs once an escalation asks for them
        # (`_Pass.lane_chiefs`: one look-up for the whole chunk).
        self.lanes = frozenset(lanes)
        self.lane_chiefs: dict[int, tuple[Person, ...]] = {}

    def write(self, row: Any, *, guard: str, was: Any, fields: set[str]) -> None:
        model = row.model if isinstance(row, _Claimed) else type(row)
        self._writes.setdefault(model, []).append(_RowWrite(row, guard, was, fields))

    def flush(self) -> None:
        for model, writes in self._writes.items():
            _write_rows(model, writes)
        self._writes = {}
        # The sweep raises `Case.escalation` on the case objects it holds; writing the value
        # back for a case it did not escalate changes nothing, under the same lock.
        self.trail.flush(case_fields=["escalation"])
        # A message already queued (its recipient, channel and dedupe key taken) is skipped.
        # On PostgreSQL the rows go through one COPY straight into the table (`_copy_messages`);
        # elsewhere each INSERT skips a conflict itself, at no extra cost.
        rows = self.outbox.take_values()
        if transaction.get_connection().vendor == "postgresql":
            _copy_messages(rows)
        else:
            insert_values(Notification, ROW_FIELDS, rows, ignore_conflicts=True)


def _copy_messages(rows: list[tuple[Any, ...]]) -> None:
    """COPY a chunk's messages into their table, leaving out any already queued.

    A chunk's messages are new but for a rare one (the same dedupe key queued before: a
    summons sent back and overdue again, a message an action queued meanwhile), so they are
    first sent as they are, under a savepoint; only if the unique constraint refuses one is
    the COPY undone and sent again without the messages already stored (`unqueued`, which
    now sees the other transaction's row, committed before the refusal was given). The
    constraint stays the guard: a message is never written twice, and the chunk does not
    fail for it."""
    if not rows:
        return
    try:
        with transaction.atomic():
            insert_values(Notification, ROW_FIELDS, rows, copy=True)
    except IntegrityError:
        insert_values(Notification, ROW_FIELDS, unqueued(rows), copy=True)


def _write_rows(model: type[Model], writes: list[_RowWrite]) -> None:
    """Update the rows at once, each only if its guard still holds the value read; roll the
    chunk back if any did not."""
    # Rows that did not change a field get back the value read, under the lock.
    fields = sorted(set().union(*(write.fields for write in writes)))
    guards = {write.guard for write in writes}
    (guard,) = guards
    updated = update_each(
        model,
        [write.row for write in writes],
        fields,
        guard=guard,
        was=[write.was for write in writes],
        arrays=True,
    )
    if updated != len(writes):
        raise _LostClaim(
            f"{len(writes) - updated} of {len(writes)} {model.__name__} rows changed while "
            "they were being swept"
        )


@dataclass
class _Pass:
    """What one call of `sweep` keeps while it works: the clock and caches of rarely-changing
    rows (policies, departments). Who holds which role (and a summons' backup) is looked up
    in the process's generation of the directory (`whistle.organisation.directory`), its
    token read once per chunk (`_handle`): kept across chunks and passes while no process
    changes the people or their roles, read again in the chunk after one does."""

    now: datetime
    policies: dict[int, DistrictPolicy] = field(default_factory=dict)
    # The directory's generation of the current chunk (`_handle`); None outside a chunk,
    # when each look-up reads the token.
    kept: directory.Generation | None = None
    departments: dict[int, Department] = field(default_factory=dict)
    # The language the pass writes in (`sweep`), and moments as shown in its messages.
    language: str | None = None
    shown: dict[datetime, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    # What the rows of the current transaction produce (`_handle`).
    chunk: _Chunk = field(default_factory=_Chunk)
    # The moment of the messages about the row being handled: the clock read once for all
    # of them (`notify`), None until the first.
    told_at: datetime | None = None

    def for_lane(self) -> _Pass:
        """A pass of its own for a lane (`_claim_and_process`): its own clock and chunk,
        the caches shared."""
        return _Pass(
            self.now,
            policies=self.policies,
            departments=self.departments,
            language=self.language,
            shown=self.shown,
            labels=self.labels,
        )

    def translated(self, message: str) -> str:
        """`message` (a msgid) in the pass's language, translated once per process."""
        return _translation(self.language or translation.get_language(), message)

    def label(self, level: Case.Escalation) -> str:
        """The level's name in the pass's language, once per pass."""
        found = self.labels.get(level)
        if found is None:
            with translation.override(self.language or translation.get_language()):
                found = self.labels[level] = str(level.label)
        return found

    def local(self, moment: datetime) -> str:
        """`_local(moment)`, worked out once per moment in a pass."""
        found = self.shown.get(moment)
        if found is None:
            found = self.shown[moment] = _local(moment)
        return found

    def policy(self, district_id: int) -> DistrictPolicy:
        if district_id not in self.policies:
            self.policies[district_id] = _load_policy(district_id)
        return self.policies[district_id]

    def department(self, department_id: int) -> Department:
        if department_id not in self.departments:
            self.departments[department_id] = Department.objects.get(pk=department_id)
        return self.departments[department_id]

    def _staff(self, key: tuple[str, int], load: Callable[[], tuple[Person, ...]]) -> list[Person]:
        """The people under `key` in the chunk's generation of the directory (a new list each
        time; the people in it are shared and carry only `directory.PERSON_FIELDS`)."""
        kept = self.kept if self.kept is not None else directory.generation()
        return list(kept.get(("deadlines", *key), load))

    def person(self, person_id: int | None) -> Person | None:
        if person_id is None:
            return None
        found = self._staff(
            ("person", person_id),
            lambda: tuple(Person.objects.filter(pk=person_id).only(*directory.PERSON_FIELDS)),
        )
        return found[0] if found else None

    def department_staff(self, department_id: int) -> list[Person]:
        return self._staff(
            ("department", department_id),
            lambda: _people(_DEPARTMENT_ROLES, department_id=department_id),
        )

    def chain_recipients(self, target: str, summons: Any, case: Any) -> list[Person]:
        """Whom a step of the acknowledgement chain reaches (of a claimed summons)."""
        if target == ChainTarget.BACKUP:
            backup = self.person(summons.on_duty_backup_id)
            return [backup] if backup is not None and backup.is_active else []
        if target == ChainTarget.DEPARTMENT_HEAD:
            department_id = summons.department_id
            return self._staff(
                ("department_head", department_id),
                lambda: _people((Role.DEPARTMENT_HEAD,), department_id=department_id),
            )
        township_id = _township_of(case, summons)
        return self._jurisdiction_staff("township_chief", (Role.TOWNSHIP_CHIEF,), township_id)

    def chain_audience(self, target: str, summons: Any, case: Any) -> str | None:
        """The audience that shares the inbox entry of a step of the acknowledgement chain
        (None for the backup on duty, told by name)."""
        if target == ChainTarget.BACKUP:
            return None
        if target == ChainTarget.DEPARTMENT_HEAD:
            return audiences.DEPARTMENT_HEAD.key(summons.department_id)
        return _key_of(audiences.TOWNSHIP_CHIEF, _township_of(case, summons))

    def escalation_staff(self, level: str, jurisdiction_id: int | None) -> list[Person]:
        return self._jurisdiction_staff(level, _ESCALATION_ROLES[level], jurisdiction_id)

    def lane_chiefs(self, lane_id: int | None) -> list[Person]:
        """The lane and street chiefs of a case's lane. The first asking in a chunk finds
        those of every lane of the chunk's cases at once, in the chunk's generation of the
        directory (`directory.lane_chiefs`: what it keeps is not read again)."""
        if lane_id is None:
            return []
        chunk = self.chunk
        if lane_id not in chunk.lane_chiefs:
            kept = self.kept if self.kept is not None else directory.generation()
            chunk.lane_chiefs.update(directory.lane_chiefs(chunk.lanes | {lane_id}, kept))
        return list(chunk.lane_chiefs[lane_id])

    def dispatchers(self, township_id: int | None) -> list[Person]:
        """The township's dispatchers, who rule on a decline."""
        return self._jurisdiction_staff("dispatchers", _RULING_ROLES, township_id)

    def backlog_reviewers(self, township_id: int | None) -> list[Person]:
        return self._jurisdiction_staff("backlog_review", _BACKLOG_REVIEW_ROLES, township_id)

    def _jurisdiction_staff(
        self, key_name: str, roles: tuple[str, ...], jurisdiction_id: int | None
    ) -> list[Person]:
        if jurisdiction_id is None:
            return []
        return self._staff(
            (key_name, jurisdiction_id),
            lambda: _people(roles, jurisdiction_id=jurisdiction_id),
        )


def _township_of(case: Any, summons: Any) -> int | None:
    """The township a claimed summons answers to: its case's, else its whistle's."""
    return case.township_id or summons.whistle_township_id


def _key_of(audience: audiences.Audience, unit_id: int | None) -> str | None:
    return audience.key(unit_id) if unit_id is not None else None


def _people(roles: Iterable[str], **scope: int) -> tuple[Person, ...]:
    filters = {f"roles__{name}": value for name, value in scope.items()}
    return tuple(
        Person.objects.filter(is_active=True, roles__role__in=list(roles), **filters)
        .distinct()
        .order_by("pk")
        .only(*directory.PERSON_FIELDS)
    )


def sweep(now: datetime, *, batch: int) -> int:
    """Record every overdue, reminder, escalation, backlog review and late reply to a
    hotline caller due by `now`; return the rows processed.

    Looks at up to `batch` due summonses, up to `batch` due supervision notices, up to
    `batch` backlog cases due for review and up to `batch` hotline orders whose reply is
    due. `now` is the moment the pass starts from; while it runs it moves on with the clock,
    never back. Safe to run in several processes at once and to kill at any line
    (docs/deadlines.md).
    """
    context = _Pass(now)
    with translation.override(settings.LANGUAGE_CODE):
        context.language = translation.get_language()
        done = _claim_and_process(Summons, context, batch, _process_summons)
        due = _rare_kinds_due(context)
        for model, handle in _RARE_KINDS.items():
            if model in due:
                done += _claim_and_process(model, context, batch, handle)
    return done


def _rare_kinds_due(context: _Pass) -> set[_Swept]:
    """Which of the kinds of row a pass rarely finds due (`_RARE_KINDS`) have any row due
    by now: one statement for the three, outside any chunk's transaction, so that a pass
    with none due (most passes) takes no transaction, claim or commit for them. The pass's
    clock moves on to now first, as a claim's would; a row falling due after this look is
    taken by the next pass, as one falling due after a claim is."""
    context.now = max(context.now, timezone.now())
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    looks = []
    for model in _RARE_KINDS:
        field = model._meta.get_field(_DUE_FIELD[model])
        assert isinstance(field, Field)
        table, column = quote(model._meta.db_table), quote(field.column)
        looks.append(f"EXISTS (SELECT 1 FROM {table} WHERE {table}.{column} <= %s)")
    moment = connection.ops.adapt_datetimefield_value(context.now)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(looks)}", [moment] * len(looks))
        found = cursor.fetchone()
    return {model for model, any_due in zip(_RARE_KINDS, found, strict=True) if any_due}


def sweep_until_idle(*, batch: int = 200, clock: Callable[[], datetime] = timezone.now) -> int:
    """Sweep at the current time until a pass finds nothing to do; return the total."""
    total = 0
    while True:
        done = sweep(clock(), batch=batch)
        total += done
        if done == 0:
            return total


_Handler = Callable[[Any, Case, _Pass], bool]
_Swept = type[Summons] | type[SupervisionNotice] | type[Case] | type[HotlineOrder]
# The stored moment each kind of row is claimed by (each has an index on it).
_DUE_FIELD: dict[_Swept, str] = {
    Summons: "next_check_at",
    SupervisionNotice: "next_check_at",
    Case: "backlog_review_reminder_at",
    HotlineOrder: "reply_check_at",
}
# What each kind of row is read with besides itself.
_RELATED: dict[_Swept, tuple[str, ...]] = {
    SupervisionNotice: ("department", "summons", "issued_by"),
    HotlineOrder: (),
}


def _claim_and_process(
    model: _Swept,
    context: _Pass,
    batch: int,
    handle: _Handler,
) -> int:
    """Claim up to `batch` due rows, a small chunk per transaction, and hand each row to
    `handle` with its case locked. A chunk that fails is rolled back whole and its rows are
    tried again one per transaction, so that one bad row cannot hold the others back.

    On PostgreSQL, outside a transaction, the rows are shared between `sweep_lanes()` lanes:
    this thread and threads of their own, each with its own connection, each claiming and
    writing whole chunks of its own (SKIP LOCKED keeps them apart, as it keeps workers
    apart). While one lane waits for the server to write its chunk, another works out its
    own in Python: one process keeps the server and itself busy at once.
    """
    lanes = sweep_lanes(batch)
    if lanes == 1:
        return _lane(model, context, _Quota(batch, CHUNK), handle)
    quota = _Quota(batch, min(CHUNK, -(-batch // lanes)))
    contexts = [context.for_lane() for _ in range(lanes)]
    others: list[futures.Future[int]] = []

    def start_others() -> None:
        # Only once this lane's first claim came back full: a pass with less to do (most
        # passes, and every kind of row but the summonses) stays in this thread.
        pool = _lane_pool(lanes - 1)
        others.extend(pool.submit(_in_lane, model, lane, quota, handle) for lane in contexts[1:])

    with _collection_paused():
        try:
            processed = _lane(model, contexts[0], quota, handle, when_full=start_others)
        finally:
            # Every lane ends before the pass does, whatever happens to this one.
            futures.wait(others)
        processed += sum(other.result() for other in others)
    context.now = max(lane.now for lane in contexts)
    return processed


def sweep_lanes(batch: int) -> int:
    """The lanes a pass of `batch` rows uses: `WHISTLE_SWEEP_LANES` on PostgreSQL outside a
    transaction (the lanes' connections could not see what it has not committed), so long
    as each lane gets a chunk of at least `_LANE_CHUNK` rows; otherwise one."""
    wanted = int(getattr(settings, "WHISTLE_SWEEP_LANES", 2))
    connection = transaction.get_connection()
    if wanted <= 1 or connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return max(1, min(wanted, batch // _LANE_CHUNK))


# The smallest chunk worth a lane of its own: below it, the statements each chunk takes
# whatever its size weigh more than the overlap gains.
_LANE_CHUNK = 50


class _Quota:
    """The rows a pass may still claim and those it has passed over, shared by its lanes."""

    def __init__(self, batch: int, chunk: int) -> None:
        self.left = batch
        self.chunk = chunk
        self.passed_over: set[int] = set()
        self._lock = threading.Lock()

    def take(self) -> tuple[int, list[int]]:
        """Reserve the next chunk's rows: how many at most, and the rows to leave out."""
        with self._lock:
            limit = min(self.chunk, self.left)
            self.left -= limit
            return limit, list(self.passed_over)

    def claimed(self, limit: int, pks: list[int]) -> None:
        """The chunk reserved with `limit` claimed `pks`: give back what it did not use."""
        with self._lock:
            self.left += limit - len(pks)
            self.passed_over.update(pks)


def _lane(
    model: _Swept,
    context: _Pass,
    quota: _Quota,
    handle: _Handler,
    *,
    when_full: Callable[[], None] | None = None,
) -> int:
    """Claim and handle chunks until the pass has claimed its batch or nothing is due;
    call `when_full` once a claim comes back with as many rows as it asked for."""
    processed = 0
    while True:
        limit, exclude = quota.take()
        if limit <= 0:
            break
        # A long pass follows the clock (never back), so that what it records carries the
        # moment it was recorded and rows falling due meanwhile are not left for the next.
        context.now = max(context.now, timezone.now())
        chunk: list[int] = []
        try:
            with _collection_paused(), transaction.atomic():
                rows = _claim(model, context.now, exclude=exclude, limit=limit)
                chunk = [row.pk for row, _case in rows]
                quota.claimed(limit, chunk)
                if when_full is not None and len(chunk) == limit:
                    when_full()
                    when_full = None
                done = _handle(rows, context, handle)
        except Exception:
            if not chunk:
                quota.claimed(limit, chunk)
                raise  # the claim itself failed: nothing to retry row by row
            logger.warning("deadline sweep: a chunk of %s failed", model.__name__, exc_info=True)
            done = _one_by_one(model, chunk, context, handle)
        processed += done
        if not chunk:
            break
    return processed


def _in_lane(model: _Swept, context: _Pass, quota: _Quota, handle: _Handler) -> int:
    """`_lane` in a thread of the pool, with its own connection, in the pass's language; the
    connection kept between passes as the worker keeps its own (`CONN_MAX_AGE`), closed if
    it went bad or grew too old, and by `close_lanes`."""
    close_old_connections()
    try:
        with translation.override(context.language):
            return _lane(model, context, quota, handle)
    finally:
        close_old_connections()


_pool: futures.ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _lane_pool(threads: int) -> futures.ThreadPoolExecutor:
    """The process's threads for the lanes beyond the caller's, made on first use (at least
    `threads` of them) and kept, with their connections, until `close_lanes`."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < threads:
            _close_pool()
            _pool = futures.ThreadPoolExecutor(threads, thread_name_prefix="deadline-lane")
        return _pool


def close_lanes() -> None:
    """Close the lanes' connections and end their threads (the next pass makes new ones):
    when the process is done with the database, or before it is dropped (tests)."""
    with _pool_lock:
        _close_pool()


def _close_pool() -> None:
    global _pool
    if _pool is None:
        return
    threads = _pool._max_workers
    # One job per thread: each waits until all have begun, so no thread takes two.
    together = threading.Barrier(threads, timeout=30)

    def close() -> None:
        together.wait()
        connections.close_all()

    jobs = [_pool.submit(close) for _ in range(threads)]
    futures.wait(jobs)
    _pool.shutdown(wait=True)
    _pool = None


@contextlib.contextmanager
def _collection_paused() -> Iterator[None]:
    """Python's collection of reference cycles held off while a chunk is worked, then let
    run as before. A chunk makes tens of thousands of short-lived objects (rows, events,
    messages), freed by their reference counts when it ends; while it runs, the collector
    kept promoting them and, every few chunks, went through every object of the process
    (Django's, the app's) again: a sixth of the sweep's CPU time. A chunk is small (`CHUNK`
    rows), so what it holds meanwhile is too. Left alone where collection is already off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _one_by_one(
    model: _Swept,
    pks: list[int],
    context: _Pass,
    handle: _Handler,
) -> int:
    done = 0
    for pk in pks:
        try:
            with transaction.atomic():
                done += _handle(_claim(model, context.now, only=pk), context, handle)
        except Exception:
            # The row stays due; the log says why until the cause is fixed.
            logger.exception("deadline sweep failed on %s %s", model.__name__, pk)
    return done


def _handle(rows: list[tuple[Any, Case | None]], context: _Pass, handle: _Handler) -> int:
    """Hand each claimed row whose case is held to `handle`, then write everything they
    produced; inside the caller's transaction. Returns the rows handled."""
    held = [(row, case) for row, case in rows if case is not None]
    context.chunk = _Chunk(case.lane_id for _row, case in held if case.lane_id is not None)
    if not held:
        return 0
    # The directory's token read once for the chunk's look-ups of people and the outbox's of
    # their preferences and robots (the sweep changes none of the directory's tables).
    with directory.pinned() as kept:
        context.kept = kept
        try:
            context.chunk.trail.load(case for _row, case in held)
            done = 0
            for row, case in held:
                context.told_at = None
                done += handle(row, case, context)
            context.chunk.flush()
        finally:
            context.kept = None
    return done


def _claim(
    model: _Swept,
    now: datetime,
    *,
    exclude: Iterable[int] = (),
    only: int | None = None,
    limit: int = 1,
) -> list[tuple[Any, Case | None]]:
    """Lock due rows, then their cases, for the rest of the transaction.

    PostgreSQL: both locks are taken with SKIP LOCKED, so the sweep never waits for a lock
    and cannot take part in a deadlock, whatever order others lock in. A row another worker
    holds is not returned; a row whose case is held (by an action, which locks the case
    first, or by another worker) comes back with no case and is left for a later pass.
    A backlog case due for review is its own case: one SKIP LOCKED lock.
    SQLite: every transaction is IMMEDIATE (settings), so the rows are read while no one
    else can write, and stay as read until the transaction ends.
    """
    connection = connections[router.db_for_write(model)]
    if model is Summons:
        with _pipelined(connection), _in_index_order(connection):
            return _claim_summonses(now, exclude=list(exclude), only=only, limit=limit)
    # The due rows are found and locked by a hand-written statement (most passes find none
    # of these); only those found are then read by the ORM, already locked. The setting,
    # the statement and the setting's reset go to the server together, read once back.
    table = connection.ops.quote_name(model._meta.db_table)
    sql, params = _due(model, now, connection, exclude=list(exclude), only=only, limit=limit)
    with connection.cursor() as cursor:
        with _pipelined(connection), _in_index_order(connection):
            cursor.execute(f"SELECT {table}.{connection.ops.quote_name('id')} {sql}", params)
        ids = [found for (found,) in cursor.fetchall()]
    if not ids:
        return []
    rows = model.objects.filter(pk__in=ids).order_by(_DUE_FIELD[model], "pk")
    if model is Case:
        review_due: list[Any] = list(rows.annotate(**_PLACE_NAMES)[:limit])
        return [(case, case) for case in review_due]
    claimed: list[Any] = list(rows.select_related(*_RELATED[model])[:limit])
    cases = (
        Case.objects.select_for_update(skip_locked=True, of=("self",))
        .annotate(**_PLACE_NAMES)
        .in_bulk({row.case_id for row in claimed})
    )
    return [(row, cases.get(row.case_id)) for row in claimed]


class _Claimed:
    """A claimed row read as plain values: each column an attribute named as on a model
    instance (`case_id`, `swept_through_at`, ...), and `pk`. The sweep reads and changes
    these and writes them back with `update_each`; a model instance per row (with its
    department, whistle and backup) cost more than the rest of the row's work."""

    pk: Any

    def __init__(
        self,
        model: type[Model],
        names: tuple[str, ...],
        values: Sequence[Any],
        deferred: dict[str, Callable[[Any], Any]] | None = None,
    ) -> None:
        self.__dict__.update(zip(names, values, strict=True))
        self.model = model
        self.pk = self.__dict__[model._meta.pk.attname]
        if deferred:
            # Read as the database gave them, converted on first use (`__getattr__`).
            self._raw = {name: (self.__dict__.pop(name), deferred[name]) for name in deferred}

    def __getattr__(self, name: str) -> Any:
        # Only for what `__dict__` lacks: a deferred column not used yet.
        raw = self.__dict__.get("_raw")
        if raw is None or name not in raw:
            raise AttributeError(name)
        value, convert = raw.pop(name)
        found = self.__dict__[name] = None if value is None else convert(value)
        return found


# What the sweep reads of a summons (`points_of`, the messages, the chain) and writes back.
_SUMMONS_COLUMNS = (
    "id",
    "uuid",
    "case_id",
    "department_id",
    "on_duty_backup_id",
    "status",
    "summoned_at",
    "acknowledge_due_at",
    "arrive_due_at",
    "resolve_due_at",
    "acknowledged_at",
    "arrived_at",
    "done_at",
    "released_at",
    "left_at",
    "acknowledge_overdue_at",
    "arrive_overdue_at",
    "resolve_overdue_at",
    "escalated_to_township_at",
    "escalated_to_district_at",
    "acknowledgement_chain",
    "chain_steps_taken",
    "swept_through_at",
    "next_check_at",
)

# What the summons path reads of a case: its place and text for the messages, its
# jurisdiction, its state (paused, escalation) and its trail's head.
_CASE_COLUMNS = (
    "id",
    "uuid",
    "reference",
    "status",
    "district_id",
    "township_id",
    "lane_id",
    "address",
    "lat",
    "lon",
    "description",
    "escalation",
    "trail_length",
    "trail_head",
)


# Columns of a claim converted only when used: a summons' acknowledgement chain (a JSON
# document) matters only while its acknowledgement is owed and not yet due.
_DEFERRED = frozenset({"acknowledgement_chain"})


def _claim_summonses(
    now: datetime, *, exclude: list[int], only: int | None, limit: int
) -> list[tuple[Any, Any]]:
    """The due summonses (oldest first, at most `limit`), locked SKIP LOCKED, then their
    cases, locked the same way, as `_Claimed` values; a summons also carries its whistle's
    township (`whistle_township_id`). Its department and backup come from the pass's
    caches. One statement each, written here rather than built by the ORM."""
    connection = connections[router.db_for_write(Summons)]
    quote = connection.ops.quote_name
    table = Summons._meta.db_table
    summons = reader(Summons, _SUMMONS_COLUMNS, connection.alias, table, _DEFERRED)
    whistles = quote(Whistle._meta.db_table)
    join = (
        f"LEFT OUTER JOIN {whistles} "
        f"ON ({quote(table)}.{quote('whistle_id')} = {whistles}.{quote('id')})"
    )
    sql, params = _due(Summons, now, connection, exclude=exclude, only=only, limit=limit, join=join)
    with connection.cursor() as cursor:
        found = summons.execute(
            cursor, f"SELECT {summons.columns}, {whistles}.{quote('township_id')} {sql}", params
        )
    if not found:
        return []
    names = (*_SUMMONS_COLUMNS, "whistle_township_id")
    deferred = summons.deferred
    claimed = [_Claimed(Summons, names, values, deferred) for values in found]
    case_ids = sorted({row.case_id for row in claimed})
    table = Case._meta.db_table
    cases = reader(Case, _CASE_COLUMNS, connection.alias, table)
    held_ids, params = among(connection, f"{quote(table)}.{quote('id')}", Case, case_ids)
    # The names of the case's lane and community, for the messages' place (`_place`), read
    # with the case; only the case's row is locked.
    lanes, communities = quote(Lane._meta.db_table), quote("community")
    joins = (
        f"LEFT OUTER JOIN {lanes} ON ({quote(table)}.{quote('lane_id')} = {lanes}.{quote('id')}) "
        f"LEFT OUTER JOIN {quote(Jurisdiction._meta.db_table)} {communities} "
        f"ON ({quote(table)}.{quote('community_id')} = {communities}.{quote('id')})"
    )
    sql = (
        f"SELECT {cases.columns}, {lanes}.{quote('name')}, {communities}.{quote('name')} "
        f"FROM {quote(table)} {joins} WHERE {held_ids}{_for_update(connection, of=table)}"
    )
    with connection.cursor() as cursor:
        rows = cases.execute(cursor, sql, params)
    read = (*_CASE_COLUMNS, "lane_name", "community_name")
    held = {case.pk: case for case in (_Claimed(Case, read, row) for row in rows)}
    return [(row, held.get(row.case_id)) for row in claimed]


@contextlib.contextmanager
def _pipelined(connection: Any) -> Iterator[None]:
    """On PostgreSQL, the block's statements sent without waiting for each one's answer
    (psycopg's pipeline mode): the answers are read when a result is fetched and when the
    block ends. A claim's setting, its statement and the setting's reset cost one round
    trip to the server instead of three; on a busy machine a round trip is mostly the wait
    for the server's process to be scheduled (docs/benchmarks.md). An error is raised at
    the latest when the block ends, and fails the claim's transaction as before."""
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    with connection.connection.pipeline():
        yield


@contextlib.contextmanager
def _in_index_order(connection: Any) -> Iterator[None]:
    """On PostgreSQL, have the claim read its due rows in the order of their index
    (`cases.models.claim_index`), taking a chunk and stopping, wherever the planner's
    statistics stand.

    The planner guesses how many rows are due (`<= now`) from statistics gathered before
    they fell due: few, just when a burst has made thousands due. It then found them all
    through a bitmap of the index and sorted them to take one chunk, for every chunk of the
    burst (14–18 ms a chunk of 200 out of 8,000 due, against well under 1 ms read in order:
    docs/benchmarks.md). Without bitmap scans the in-order read is its cheapest way. The
    setting is the transaction's (`SET LOCAL`) and is reset after the claim, to the
    session's own (a claim that fails leaves it to the transaction's rollback)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_bitmapscan = off")
    # A claim that fails leaves the transaction to be rolled back, which undoes the setting.
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET enable_bitmapscan")


def _due(
    model: _Swept,
    now: datetime,
    connection: Any,
    *,
    exclude: list[int],
    only: int | None,
    limit: int,
    join: str = "",
) -> tuple[str, list[Any]]:
    """What follows the SELECT list of a claim: the model's rows due by `now` (only the row
    `only`; none of `exclude`), oldest first, at most `limit`, locked SKIP LOCKED."""
    quote = connection.ops.quote_name
    table = model._meta.db_table
    due_field = model._meta.get_field(_DUE_FIELD[model])
    assert isinstance(due_field, Field)
    due = f"{quote(table)}.{quote(due_field.column)}"
    key = f"{quote(table)}.{quote(model._meta.pk.column)}"
    where = [f"{due} <= %s"]
    params: list[Any] = [connection.ops.adapt_datetimefield_value(now)]
    if only is not None:
        where.append(f"{key} = %s")
        params.append(only)
    if exclude:
        passed_over, keys = among(connection, key, model, exclude)
        where.append(f"NOT ({passed_over})")
        params.extend(keys)
    params.append(limit)
    sql = (
        f"FROM {quote(table)} {join} WHERE {' AND '.join(where)} "
        f"ORDER BY {due} ASC, {key} ASC LIMIT %s{_for_update(connection, of=table)}"
    )
    return sql, params


def _for_update(connection: Any, *, of: str | None = None) -> str:
    """The locking clause of a claim (none on SQLite, whose transactions take the whole
    database: see `_claim`)."""
    if not connection.features.has_select_for_update:
        return ""
    locked = f" OF {connection.ops.quote_name(of)}" if of is not None else ""
    return f" FOR UPDATE{locked} SKIP LOCKED"


def _process_summons(summons: Any, case: Any, context: _Pass) -> bool:
    """Handle a claimed summons (`_Claimed` values, as its case)."""
    now = context.now
    summons.case = case
    summons.department = context.department(summons.department_id)
    policy = context.policy(case.district_id or summons.department.district_id)
    previously_swept = summons.swept_through_at
    changed: set[str] = set()
    candidates = _candidates(summons, policy, now)
    # Only the points due now are made `Point`s.
    due = [Point(*candidate) for candidate in candidates if candidate[0] <= now]
    # Of several reminders of one obligation in one window, only the latest goes out.
    latest_reminder = {p.obligation.name: p for p in due if p.what == REMINDER}
    for point in due:
        if point.what == OVERDUE:
            _record_overdue(case, summons, point.obligation, context)
            changed.add(point.obligation.overdue_field)
        elif point.what == REMINDER:
            if latest_reminder[point.obligation.name] is point:
                _remind(case, summons, point, context)
        elif point.what == CHAIN:
            _pass_on(case, summons, point, context)
            summons.chain_steps_taken = point.step + 1
            changed.add("chain_steps_taken")
        elif _still_escalates(summons, point):
            _escalate(case, summons, point, context)
            changed.add(_ESCALATION_FIELD[point.what])
    summons.swept_through_at = max(now, previously_swept) if previously_swept else now
    summons.next_check_at = _next_after(summons, candidates, now)
    changed.update({"swept_through_at", "next_check_at"})
    context.chunk.write(summons, guard="swept_through_at", was=previously_swept, fields=changed)
    return True


def _next_after(summons: Any, points: list[_Candidate], now: datetime) -> datetime | None:
    """What `next_check_for` would say after the due points were handled, from the points
    computed before: the first one after `now`, except an escalation to a level reached
    meanwhile (by this obligation or another of the summons). Every point due by `now` is
    done or dropped; what `points_of` gives after `now` depends on nothing that changed
    but the escalation fields (a reminder's window starts at the new `swept_through_at`,
    `now`, and chain steps after `now` come after every step taken)."""
    for at, _rank, what, _obligation, _step in points:
        if at <= now:
            continue
        if what in _ESCALATION_FIELD and getattr(summons, _ESCALATION_FIELD[what]):
            continue
        return at
    return None


def _still_escalates(summons: Summons, point: Point) -> bool:
    return getattr(summons, _ESCALATION_FIELD[point.what]) is None and is_unmet(
        summons, point.obligation
    )


def _record_overdue(case: Any, summons: Any, obligation: Obligation, context: _Pass) -> None:
    now = context.now
    setattr(summons, obligation.overdue_field, now)
    event = _record(
        context,
        case,
        obligation.overdue_kind,
        summons=summons,
        at=now,
        data={
            "obligation": obligation.name,
            "due_at": _iso(obligation.due_at),
            "late_seconds": round((now - obligation.due_at).total_seconds(), 3),
            "met_at": _iso(obligation.met_at) if obligation.met_at else None,
        },
    )
    if not is_unmet(summons, obligation):
        # Met late before the sweep saw it: the trail records the lateness; nobody needs
        # to be told to act.
        return
    text = _texts(case, summons, obligation, context)
    key = f"summons:{summons.uuid}:{obligation.name}:overdue"
    notify(
        context,
        context.department_staff(summons.department_id),
        event,
        subject=context.translated(_OVERDUE) % text,
        message=_kept(_OVERDUE, text, obligation),
        body=_body(case),
        dedupe_key=key,
        audience=audiences.DEPARTMENT.key(summons.department_id),
    )
    if awaits_ruling(summons):
        _ask_for_ruling(context, case, summons, obligation, event, _RULING_OVERDUE, text, text, key)


def _remind(case: Any, summons: Any, point: Point, context: _Pass) -> None:
    obligation = point.obligation
    recipients = context.department_staff(summons.department_id)
    minutes_left = _minutes_left(obligation.due_at - context.now)
    event = _record(
        context,
        case,
        EventKind.REMINDER,
        summons=summons,
        at=context.now,
        data={
            "obligation": obligation.name,
            "due_at": _iso(obligation.due_at),
            "reminder_at": _iso(point.at),
            "minutes_left": minutes_left,
            "recipients": len(recipients),
        },
    )
    left = texts.Duration(minutes_left)
    text = _texts(case, summons, obligation, context)
    with translation.override(context.language or translation.get_language()):
        shown = text | {"left": str(left)}
    kept = text | {"left": left.kept()}
    key = f"summons:{summons.uuid}:{obligation.name}:reminder:{_iso(point.at)}"
    notify(
        context,
        recipients,
        event,
        subject=context.translated(_REMINDER) % shown,
        message=_kept(_REMINDER, kept, obligation),
        body=_body(case),
        dedupe_key=key,
        audience=audiences.DEPARTMENT.key(summons.department_id),
    )
    if awaits_ruling(summons):
        _ask_for_ruling(
            context, case, summons, obligation, event, _RULING_REMINDER, shown, kept, key
        )


def _ask_for_ruling(
    context: _Pass,
    case: Any,
    summons: Any,
    obligation: Obligation,
    event: BatchedEvent,
    subject: str,
    shown: dict[str, Any],
    kept: dict[str, Any],
    key: str,
) -> None:
    """Tell the township's dispatchers, with the department's reminder or overdue (`event`,
    its dedupe `key`), that the department's decline still waits for their ruling: the
    message links to the summons on the case page, where they rule."""
    township_id = _township_of(case, summons)
    notify(
        context,
        context.dispatchers(township_id),
        event,
        subject=context.translated(subject) % shown,
        message=_kept(subject, kept, obligation),
        body=_body(case),
        dedupe_key=f"{key}:ruling",
        audience=_key_of(audiences.TOWNSHIP_DISPATCHERS, township_id),
    )


def _minutes_left(left: timedelta) -> int:
    """The whole minutes left, rounded up: a reminder 59 seconds before the deadline says one
    minute, never none while there is time."""
    return max(0, -(-left // timedelta(minutes=1)))


def _pass_on(case: Any, summons: Any, point: Point, context: _Pass) -> None:
    """A step of the acknowledgement chain: nobody has acknowledged within its wait, so the
    summons goes on to the step's target (the backup on duty, the department head, the
    township chief of lanes), urgently. The trail names whom it reached, or nobody."""
    steps = chain_steps(summons)
    target, planned = steps[point.step]
    recipients = context.chain_recipients(target, summons, case)
    obligation = point.obligation
    event = _record(
        context,
        case,
        EventKind.CHAIN_STEP,
        summons=summons,
        at=context.now,
        data={
            "step": point.step + 1,
            "steps": len(steps),
            "target": target,
            "planned_at": _iso(planned),
            "due_at": _iso(obligation.due_at),
            "reached": [person.display_name for person in recipients],
        },
    )
    text = _texts(case, summons, obligation, context)
    notify(
        context,
        recipients,
        event,
        subject=context.translated(_NOT_ACKNOWLEDGED) % text,
        message=_kept(_NOT_ACKNOWLEDGED, text, obligation),
        body=_body(case),
        dedupe_key=f"summons:{summons.uuid}:chain:{point.step + 1}",
        urgent=True,
        audience=context.chain_audience(target, summons, case),
    )


def _escalate(case: Any, summons: Any, point: Point, context: _Pass) -> None:
    level = Case.Escalation(point.what)
    now = context.now
    setattr(summons, _ESCALATION_FIELD[level], now)
    previous = case.escalation
    if _ESCALATION_RANK[Case.Escalation(previous)] < _ESCALATION_RANK[level]:
        # Written with the chunk's trail heads (`_Chunk.flush`).
        case.escalation = level
    obligation = point.obligation
    event = _record(
        context,
        case,
        EventKind.ESCALATED,
        summons=summons,
        at=now,
        data={
            "level": level.value,
            "previous": previous,
            "obligation": obligation.name,
            "due_at": _iso(obligation.due_at),
            "overdue_minutes": int((now - obligation.due_at).total_seconds() // 60),
        },
    )
    if level == Case.Escalation.TOWNSHIP:
        jurisdiction_id = _township_of(case, summons)
    else:
        jurisdiction_id = case.district_id or summons.department.district_id
    text = _texts(case, summons, obligation, context) | {"level": context.label(level)}
    staff = context.escalation_staff(level, jurisdiction_id)
    # The chiefs who answer for the case's lane hear that the normal path failed there, by
    # name; one who is also of the level's audience reads its entry and is not told twice.
    told = {person.pk for person in staff}
    chiefs = [person for person in context.lane_chiefs(case.lane_id) if person.pk not in told]
    notify(
        context,
        staff,
        event,
        subject=context.translated(_ESCALATED) % text,
        message=_kept(_ESCALATED, text, obligation, level),
        body=_body(case),
        dedupe_key=f"summons:{summons.uuid}:escalated:{level.value}",
        urgent=True,
        audience=_key_of(_ESCALATION_AUDIENCES[level], jurisdiction_id),
        also=chiefs,
    )


def _process_notice(notice: SupervisionNotice, case: Case, context: _Pass) -> bool:
    now = context.now
    notice.case = case
    previously_swept = notice.swept_through_at
    changed = {"swept_through_at", "next_check_at"}
    due = next_check_for_notice(notice)
    if due is not None and due <= now:
        notice.overdue_at = now
        changed.add("overdue_at")
        event = _record(
            context,
            case,
            EventKind.SUPERVISION_OVERDUE,
            summons=notice.summons,
            at=now,
            data={
                "notice": notice.pk,
                "due_at": _iso(notice.due_at),
                "late_seconds": round((now - notice.due_at).total_seconds(), 3),
                "answered_at": _iso(notice.answered_at) if notice.answered_at else None,
            },
        )
        if notice.answered_at is None:
            recipients = context.department_staff(notice.department_id)
            issuer = notice.issued_by
            # The issuer is told by name, unless the department's entry reaches them.
            also = [issuer] if issuer.is_active and issuer not in recipients else []
            text = {
                "department": texts.Named.of(notice.department),
                "reference": case.reference,
                "due": _local(notice.due_at),
            }
            notify(
                context,
                recipients,
                event,
                subject=context.translated(_NOTICE_OVERDUE) % text,
                message=texts.message(_NOTICE_OVERDUE, text),
                body=notice.text,
                dedupe_key=f"supervision:{notice.pk}:overdue",
                audience=audiences.DEPARTMENT.key(notice.department_id),
                also=also,
            )
    notice.swept_through_at = max(now, previously_swept) if previously_swept else now
    notice.next_check_at = next_check_for_notice(notice)
    context.chunk.write(notice, guard="swept_through_at", was=previously_swept, fields=changed)
    return True


def _process_backlog_review(case: Case, _locked: Case, context: _Pass) -> bool:
    """The review date of a backlog case has come: remind the township, once."""
    now = context.now
    reminder_at = case.backlog_review_reminder_at
    if case.status == Case.Status.BACKLOG and case.backlog_review_on is not None:
        event = _record(
            context,
            case,
            EventKind.BACKLOG_REVIEW_DUE,
            summons=None,
            at=now,
            data={
                "review_on": case.backlog_review_on.isoformat(),
                "reminder_at": _iso(reminder_at) if reminder_at else None,
            },
        )
        review = {
            "reference": case.reference,
            "since": _local(case.backlog_since) if case.backlog_since else "—",
        }
        notify(
            context,
            context.backlog_reviewers(case.township_id),
            event,
            subject=context.translated(_BACKLOG_REVIEW) % review,
            message=texts.message(_BACKLOG_REVIEW, review),
            body=f"{case.backlog_reason[:500]}\n{_body(case)}",
            dedupe_key=f"case:{case.uuid}:backlog-review:{case.backlog_review_on.isoformat()}",
            audience=_key_of(audiences.TOWNSHIP_DESK, case.township_id),
        )
    case.backlog_review_reminder_at = None
    context.chunk.write(
        case,
        guard="backlog_review_reminder_at",
        was=reminder_at,
        fields={"backlog_review_reminder_at"},
    )
    return True


def _tell_township_desk(
    context: _Pass, case: Case, event: Any, order: HotlineOrder, what: str, due: datetime
) -> None:
    """Tell the township's command centre, once (`what` keys it), that an order's reply or
    promised result is overdue: the text names the order, its case and the time it was due
    (the reply deadline, or the promised time)."""
    text = _REPLY_OVERDUE if what == "reply-overdue" else _PROMISE_OVERDUE
    values = {"number": order.number, "reference": case.reference, "due": _local(due)}
    notify(
        context,
        context._jurisdiction_staff("reply", _REPLY_OVERDUE_ROLES, case.township_id),
        event,
        subject=context.translated(text) % values,
        message=texts.message(text, values),
        body=_body(case),
        dedupe_key=f"hotline:{order.uuid}:{what}",
        audience=_key_of(audiences.TOWNSHIP_DESK, case.township_id),
    )


def _process_reply_deadline(order: HotlineOrder, case: Case, context: _Pass) -> bool:
    """A hotline order's reply to the caller is overdue, or the result a reply "in
    progress" promised: record each, once, and tell the township while it is still owed.
    Judged from timestamps like a summons: a late reply the sweep did not see before it
    came is recorded overdue all the same, with its moment. The reply deadline is the
    hotline platform's and does not pause on the backlog; a promise is no longer watched
    once the case is marked resolved, closed or not taken up."""
    now = context.now
    checked = order.reply_check_at
    order.case = case
    due = _reply_check(order)
    if due is not None and due <= now:
        order.reply_overdue_at = now
        event = _record(
            context,
            case,
            EventKind.HOTLINE_REPLY_OVERDUE,
            summons=None,
            at=now,
            data={
                "order": order.number,
                "due_at": _iso(order.respond_due_at),
                "late_seconds": round((now - order.respond_due_at).total_seconds(), 3),
                "met_at": _iso(order.replied_at) if order.replied_at else None,
            },
        )
        if order.replied_at is None:
            _tell_township_desk(context, case, event, order, "reply-overdue", order.respond_due_at)
    promised = _promise_check(order)
    if promised is not None and promised <= now and order.promised_by is not None:
        order.promise_overdue_at = now
        event = _record(
            context,
            case,
            EventKind.HOTLINE_PROMISE_OVERDUE,
            summons=None,
            at=now,
            data={
                "order": order.number,
                "promised_by": _iso(order.promised_by),
                "late_seconds": round((now - order.promised_by).total_seconds(), 3),
            },
        )
        _tell_township_desk(context, case, event, order, "promise-overdue", order.promised_by)
    order.reply_check_at = next_reply_check(order)
    context.chunk.write(
        order,
        guard="reply_check_at",
        was=checked,
        fields={"reply_overdue_at", "promise_overdue_at", "reply_check_at"},
    )
    return True


# --- Trail events, notification texts and the outbox ----------------------------------------


# The texts of the summons path's messages, translated once per language (`_Pass.translated`)
# and filled in for each message.
_DUTIES = {
    ACKNOWLEDGE: gettext_noop("acknowledge the summons"),
    ARRIVE: gettext_noop("arrive on site"),
    RESOLVE: gettext_noop("resolve the problem"),
}
_OVERDUE = gettext_noop(
    "Overdue: %(department)s did not %(duty)s for case %(reference)s by %(due)s"
)
_REMINDER = gettext_noop(
    "Reminder: %(department)s must %(duty)s for case %(reference)s by %(due)s (%(left)s left)"
)
_NOT_ACKNOWLEDGED = gettext_noop(
    "Not acknowledged yet: %(department)s was summoned for case %(reference)s and must "
    "acknowledge by %(due)s"
)
_ESCALATED = gettext_noop(
    "Escalated to the %(level)s: %(department)s did not %(duty)s for case %(reference)s by %(due)s"
)

# To the township's dispatchers while a decline of the summons waits for their ruling.
_RULING_REMINDER = gettext_noop(
    "Decline awaiting your ruling: %(department)s declined case %(reference)s and must still "
    "%(duty)s by %(due)s (%(left)s left). Rule on it on the case page."
)
_RULING_OVERDUE = gettext_noop(
    "Decline awaiting your ruling: %(department)s declined case %(reference)s and did not "
    "%(duty)s by %(due)s. Rule on it on the case page."
)

_NOTICE_OVERDUE = gettext_noop(
    "Supervision notice overdue: %(department)s has not answered for case %(reference)s by %(due)s"
)
_BACKLOG_REVIEW = gettext_noop(
    "Backlog review due: case %(reference)s, on the backlog since %(since)s"
)
_REPLY_OVERDUE = gettext_noop(
    "Reply overdue: the caller of order %(number)s (case %(reference)s) was to "
    "have the reply by %(due)s"
)
_PROMISE_OVERDUE = gettext_noop(
    "Result overdue: the caller of order %(number)s (case %(reference)s) was promised the "
    "result by %(due)s"
)


# The kinds of row a pass claims after the summonses, in this order, each with its handler:
# few of them fall due, so a pass first looks whether any is due at all (`_rare_kinds_due`).
_RARE_KINDS: dict[_Swept, _Handler] = {
    SupervisionNotice: _process_notice,
    Case: _process_backlog_review,
    HotlineOrder: _process_reply_deadline,
}


def _kept(
    subject: str,
    text: dict[str, Any],
    obligation: Obligation,
    level: Case.Escalation | None = None,
) -> dict[str, Any]:
    """The message as the payload keeps it for the inbox (`whistle.notifications.texts`):
    the subject's message id, the duty's and the level's, and the other values as written."""
    params = text | {"duty": texts.text_id(_DUTIES[obligation.name])}
    if level is not None:
        params["level"] = texts.text_id(_level_id(level))
    return texts.message(subject, params)


@functools.cache
def _level_id(level: str) -> str:
    return texts.msgid(Case.Escalation(level).label) or str(level)


@functools.cache
def _translation(language: str | None, message: str) -> str:
    with translation.override(language):
        return str(_(message))


def _texts(case: Case, summons: Summons, obligation: Obligation, context: _Pass) -> dict[str, Any]:
    return {
        "department": texts.Named.of(summons.department),
        "duty": context.translated(_DUTIES[obligation.name]),
        "reference": case.reference,
        "due": context.local(obligation.due_at),
    }


def _body(case: Case) -> str:
    return f"{_place(case)}\n{case.description[:500]}"


# The names the messages' place reads, loaded with the claimed case (`_claim`).
_PLACE_NAMES = {"lane_name": F("lane__name"), "community_name": F("community__name")}


def _place(case: Any) -> str:
    """Where the case is, as the case pages name it: its address, else its lane, else its
    community, else its point (longitude first)."""
    return (
        case.address
        or getattr(case, "lane_name", None)
        or getattr(case, "community_name", None)
        or f"{case.lon:.6f}, {case.lat:.6f}"
    )


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _record(
    context: _Pass,
    case: Case,
    kind: str,
    *,
    summons: Any,
    at: datetime,
    data: dict[str, Any],
) -> BatchedEvent:
    """Append the sweep's trail event to the chunk, offered to the webhooks like every
    action's; never before the case's last event (an action a few seconds ahead of this
    pass's clock)."""
    return context.chunk.trail.record(
        case,
        kind,
        actor=None,
        role=SYSTEM_ROLE,
        at=at,
        summons=summons,
        data=data,
        follow_trail=True,
    )


def notify(
    context: _Pass,
    recipients: Iterable[Person],
    event: BatchedEvent,
    *,
    subject: str,
    body: str,
    dedupe_key: str,
    message: dict[str, Any] | None = None,
    urgent: bool | None = None,
    audience: str | None = None,
    also: Sequence[Person] = (),
) -> None:
    """Queue one message about `event` to each recipient through the chunk's outbox, in the
    caller's transaction.

    The recipients are the `audience` (a key of `whistle.notifications.audiences`) as it
    stands: their inbox entry is one, which each of them reads for themselves, and outside
    the inbox each gets their own message. `also` are people told by name besides them.
    The dedupe key names what happened (not the event), so that even a second event about
    the same overdue could not reach anyone twice: the outbox ignores a second message with
    the same recipient (or audience), channel and key. The messages about one row share one
    moment, the clock's when the first of them is queued.
    """
    people = list(recipients)
    if not people and not also:
        return
    if context.told_at is None:
        context.told_at = timezone.now()
    case = event.case
    fields: dict[str, Any] = {
        "kind": event.kind,
        "subject": subject,
        "body": body,
        "link": event_link(event),
        "dedupe_key": dedupe_key,
        "payload": {
            "case": case.reference,
            "seq": event.seq,
            "kind": event.kind,
            **({texts.KEY: message} if message is not None else {}),
        },
        "urgent": urgent,
        "now": context.told_at,
    }
    if people:
        context.chunk.outbox.notify_many(people, audience=audience, **fields)
    if also:
        context.chunk.outbox.notify_many(also, **fields)
