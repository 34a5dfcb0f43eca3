"""The trail (一次一留痕): appending hash-chained events and checking the chain.

`append_event` must run inside the transaction of the change it records, with the case row
locked (`lock_case`), so that two writers cannot both take the same sequence number. Every
event passes through it, so it is also where the trail's time rule is kept: an event is never
recorded before the case's last one, nor further ahead of the server's clock than
`WHISTLE_CLOCK_SKEW_SECONDS`. `record` appends the event of an action or of the deadline
sweep and offers it to the webhooks.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from json.encoder import encode_basestring
from typing import Any

from django.conf import settings
from django.db import connections, models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from whistle.cases.bulk import Reader, among, insert_values, reader, update_each
from whistle.cases.errors import MomentRefused
from whistle.cases.models import Case, Event, Summons
from whistle.cases.rows import insert_new, new_row
from whistle.notifications.kinds import NotificationKind
from whistle.notifications.outbox import Outbox, notify_webhooks
from whistle.notifications.status import event_key
from whistle.organisation.models import Person

GENESIS = "0" * 64


class EventKind(models.TextChoices):
    CASE_REPORTED = "case.reported", _("problem reported")
    CASE_FILED = "case.filed", _("case filed")
    CASE_REJECTED = "case.rejected", _("case rejected")
    CASE_MERGED = "case.merged", _("merged as a duplicate")
    DUPLICATE_MERGED_IN = "case.duplicate_merged_in", _("a duplicate was merged in")
    CASE_RECATEGORISED = "case.recategorised", _("category changed")
    CASE_ROUTED = "case.routed", _("routed to an office")
    SOLVED_ON_SPOT = "case.solved_on_spot", _("solved on the spot")
    DISPATCHED = "case.dispatched", _("dispatched through the routine channel")
    WHISTLE_BLOWN = "whistle.blown", _("whistle blown")
    SUMMONED = "summons.created", _("department summoned")
    ACKNOWLEDGED = "summons.acknowledged", _("summons acknowledged")
    CHECK_IN_ACCEPTED = "summons.check_in", _("checked in on site")
    CHECK_IN_REFUSED = "summons.check_in_refused", _("check-in refused")
    CHECK_IN_FLAGGED = "summons.check_in_flagged", _("checked in, flagged for the township")
    CHECK_IN_CONFIRMED = "summons.check_in_confirmed", _("check-in confirmed by the township")
    CHECK_IN_REJECTED = "summons.check_in_rejected", _("check-in rejected by the township")
    PROGRESS = "summons.progress", _("progress reported")
    RESULT = "summons.result", _("result reported")
    DECLINED = "summons.declined", _("summons declined")
    DECLINE_UPHELD = "summons.decline_upheld", _("decline upheld")
    DECLINE_INSISTED = "summons.decline_insisted", _("township insists")
    RELEASED = "summons.released", _("department released")
    CHECK_OUT = "summons.checked_out", _("department checked out")
    CHECK_OUT_REFUSED = "summons.check_out_refused", _("early check-out refused")
    ACKNOWLEDGE_OVERDUE = "summons.acknowledge_overdue", _("acknowledgement overdue")
    ARRIVE_OVERDUE = "summons.arrive_overdue", _("arrival overdue")
    RESOLVE_OVERDUE = "summons.resolve_overdue", _("resolution overdue")
    REMINDER = "summons.reminder", _("reminder sent")
    CHAIN_STEP = "summons.chain_step", _("passed along the acknowledgement chain")
    ESCALATED = "case.escalated", _("escalated")
    SUPERVISION_ISSUED = "supervision.issued", _("supervision notice issued")
    SUPERVISION_ANSWERED = "supervision.answered", _("supervision notice answered")
    SUPERVISION_OVERDUE = "supervision.overdue", _("supervision notice overdue")
    HANDLED = "case.handled", _("marked resolved")
    CHECK_PASSED = "case.check_passed", _("on-site check passed")
    REWORK = "case.rework", _("sent back for rework")
    CLOSED = "case.closed", _("case closed")
    BACKLOG = "case.backlog", _("put on the open backlog")
    BACKLOG_RESUMED = "case.backlog_resumed", _("taken off the backlog")
    BACKLOG_REVIEW_DUE = "case.backlog_review_due", _("backlog review due")
    DEADLINES_RECOMPUTED = "case.deadlines_recomputed", _("deadlines recomputed on the calendar")
    EVALUATED = "case.evaluated", _("result rated")
    RESIDENT_CALLBACK = "case.resident_callback", _("resident called back")
    RESIDENT_RATED = "case.resident_rated", _("resident rated the result")
    ATTACHMENT_ADDED = "case.attachment", _("attachment added")
    PERSONAL_DATA_ERASED = "case.personal_data_erased", _("reporter's personal data erased")
    # A work order of the 12345 hotline (whistle.cases.actions.hotline).
    HOTLINE_REPLIED = "hotline.replied", _("reply to the caller recorded")
    HOTLINE_REPLY_OVERDUE = "hotline.reply_overdue", _("reply to the caller overdue")
    HOTLINE_FINAL_REPLIED = "hotline.final_replied", _("result given to the caller")
    HOTLINE_PROMISE_OVERDUE = "hotline.promise_overdue", _("result promised to the caller overdue")
    # Written by the assessment (whistle.assessment.actions).
    SUMMONS_RATED = "summons.rated", _("township rated the department's work")
    APPEALED = "summons.appealed", _("department appealed its assessment")
    APPEAL_UPHELD = "summons.appeal_upheld", _("appeal upheld, assessment corrected")
    APPEAL_REJECTED = "summons.appeal_rejected", _("appeal rejected")
    APPEAL_NOBODY_RULES = "summons.appeal_nobody_rules", _("nobody left who may rule on the appeal")
    APPEAL_RULER_FOUND = "summons.appeal_ruler_found", _("someone may now rule on the appeal")


# The events whose messages must reach a person at once, through their quiet hours: a
# department summoned or told to come after all, a deadline passed or near, an escalation.
URGENT_KINDS = frozenset(
    {
        EventKind.SUMMONED,
        EventKind.DECLINE_INSISTED,
        EventKind.REMINDER,
        EventKind.ACKNOWLEDGE_OVERDUE,
        EventKind.ARRIVE_OVERDUE,
        EventKind.RESOLVE_OVERDUE,
        EventKind.SUPERVISION_OVERDUE,
        EventKind.HOTLINE_REPLY_OVERDUE,
        EventKind.ESCALATED,
    }
)


def notification_kinds() -> list[NotificationKind]:
    """Every trail event as a kind of notification, urgent or not."""
    return [NotificationKind(k.value, k.label, urgent=k in URGENT_KINDS) for k in EventKind]


def lock_case(case_id: int) -> Case:
    """Lock a case row for the rest of the transaction and return it fresh.

    Every action that changes a case or its summonses locks the case first, so locks are
    always taken in the same order (case, then its summonses) and sequence numbers of the
    trail cannot collide.
    """
    return Case.objects.select_for_update().get(pk=case_id)


def lock_cases(*case_ids: int) -> list[Case]:
    """Lock several cases, always in ascending id order so that two actions that lock the
    same pair (a merge) cannot deadlock; returned in the order asked."""
    locked = {case_id: lock_case(case_id) for case_id in sorted(set(case_ids))}
    return [locked[case_id] for case_id in case_ids]


def lock_summons(summons_id: int) -> tuple[Case, Summons]:
    """Lock a summons' case, then the summons itself, and return both fresh."""
    case_id = Summons.objects.values_list("case_id", flat=True).get(pk=summons_id)
    case = lock_case(case_id)
    summons = (
        Summons.objects.select_for_update(of=("self",))
        .select_related("department", "whistle")
        .get(pk=summons_id)
    )
    summons.case = case
    return case, summons


# `json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))`, made once.
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _canonical(value: Any) -> str:
    return _CANONICAL.encode(value)


def _text(value: str) -> str:
    """`_canonical(value)` of text: the encoder's own function for text (`ensure_ascii`
    off), without its checks of the value's type."""
    if type(value) is not str:
        return _canonical(value)
    return encode_basestring(value)


def _scalar(value: Any) -> str:
    """`_canonical(value)` of a value the hashed content holds beside the data (none, a whole
    number, text, a finite float): written as the encoder writes it, without an encoder pass
    made for each (its `encode` sets one up at every call for what is not text); anything
    else goes through `_canonical`."""
    if value is None:
        return "null"
    kind = type(value)
    if kind is int:
        return int.__repr__(value)
    if kind is str:
        return encode_basestring(value)
    if kind is float and math.isfinite(value):
        return float.__repr__(value)
    return _canonical(value)


def event_content(
    *,
    case_uuid: str,
    seq: int,
    at: datetime,
    kind: str,
    actor_id: int | None,
    actor_role: str,
    summons_uuid: str | None,
    data: dict[str, Any],
    lon: float | None,
    lat: float | None,
) -> dict[str, Any]:
    """The fields that the hash covers, in a form that survives a JSON round trip."""
    return {
        "case": case_uuid,
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "kind": kind,
        "actor": actor_id,
        "role": actor_role,
        "summons": summons_uuid,
        "data": data,
        "lon": lon,
        "lat": lat,
    }


def compute_hash(content: dict[str, Any], prev_hash: str) -> str:
    """The SHA-256 of `_canonical({"content": content, "prev": prev_hash})`: its two keys
    are written in their sorted order around the content's own canonical form, and the
    previous hash (text) as the encoder writes text without escaping what is not ASCII."""
    return _chained(_canonical(content), prev_hash)


def _chained(content_text: str, prev_hash: str) -> str:
    """`compute_hash` of the content already in its canonical form."""
    payload = f'{{"content":{content_text},"prev":{_text(prev_hash)}}}'
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _content_text(
    *,
    case_uuid: str,
    seq: int,
    at: datetime,
    kind: str,
    actor_id: int | None,
    actor_role: str,
    summons_uuid: str | None,
    data_text: str,
    lon: float | None,
    lat: float | None,
) -> str:
    """`_canonical(event_content(...))` around the data's own canonical text (`data_text`,
    `_canonical(data)`), written as the encoder writes it: the keys in their sorted order,
    each value as the encoder gives it. A batch inserts the same text as the event's data
    (`insert_values`' `documents`), so the data is written out once for both."""
    moment = at.astimezone(UTC).isoformat(timespec="microseconds")
    return (
        f'{{"actor":{_scalar(actor_id)},"at":{_text(moment)},"case":{_text(case_uuid)},'
        f'"data":{data_text},"kind":{_text(kind)},"lat":{_scalar(lat)},'
        f'"lon":{_scalar(lon)},"role":{_text(actor_role)},"seq":{_scalar(seq)},'
        f'"summons":{_scalar(summons_uuid)}}}'
    )


def clock_skew() -> timedelta:
    """How far ahead of the server's clock a moment may lie: a device or a second server
    whose clock runs slightly fast."""
    return timedelta(seconds=settings.WHISTLE_CLOCK_SKEW_SECONDS)


def _shown(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def check_moment(
    at: datetime,
    last: datetime | None,
    *,
    clock: datetime | None = None,
    skew: timedelta | None = None,
) -> None:
    """Refuse a moment earlier than `last` (the latest moment already on the record) or more
    than the allowed skew ahead of the clock; MomentRefused says which. `clock` is the
    server's clock as the caller has just read it (else it is read here), `skew` the allowed
    skew as the caller has read it (else `clock_skew()`)."""
    if last is not None and at < last:
        raise MomentRefused(
            _(
                "This cannot be recorded at %(at)s: the last event was recorded at %(last)s, "
                "and the record never goes back in time."
            ),
            at=_shown(at),
            last=_shown(last),
        )
    if clock is None:
        clock = timezone.now()
    if at > clock + (clock_skew() if skew is None else skew):
        raise MomentRefused(
            _(
                "This cannot be recorded at %(at)s: that is ahead of the server's clock "
                "(%(clock)s)."
            ),
            at=_shown(at),
            clock=_shown(clock),
        )


@dataclass(frozen=True)
class _Tail:
    """Where a case's trail ends: its last event's number, hash and moment."""

    seq: int
    hash: str
    at: datetime | None


_EMPTY = _Tail(0, GENESIS, None)


def _tails(case_ids: Iterable[int]) -> dict[int, _Tail]:
    """The last event of each of these cases' trails, in one query (a case without events is
    left out)."""
    ids = list(case_ids)
    if not ids:
        return {}
    connection = connections[router.db_for_read(Event)]
    sql, moment = _tails_query(connection.alias)
    cases = connection.ops.quote_name(Case._meta.db_table)
    chosen, params = among(connection, f"{cases}.{connection.ops.quote_name('id')}", Case, ids)
    found = {}
    # Written by hand (the ORM's building of the same query cost more than running it; the
    # deadline sweep runs it for every chunk); the moment read as `Reader` reads it.
    with connection.cursor() as cursor:
        for case_id, seq, hash_, at in moment.execute(cursor, sql % chosen, params):
            found[case_id] = _Tail(seq, hash_, at)
    return found


@functools.cache
def _tails_query(alias: str) -> tuple[str, Reader]:
    """The statement of `_tails` (its condition on the case ids left as `%s`, to fill in
    with `among`'s) and the reader of its columns: for each case its last event (by
    number), found by the index on (case, number), one look-up a case.

    On PostgreSQL each case's look-up is a `LATERAL` subquery with its own `LIMIT`, which
    the planner can only run once a case. Written as one subquery over all the cases, it
    was free to read the whole event table and hash it instead, and did so whenever its
    statistics made the table look small (each chunk of the sweep read every event). SQLite
    has no `LATERAL`; its planner runs the subquery once a case."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    events = quote(Event._meta.db_table)
    cases = quote(Case._meta.db_table)
    last, each = quote("last_event"), quote("e")
    read = ("case_id", "seq", "hash", "at")
    moment = reader(Event, read, alias, "last_event")
    if connection.vendor == "postgresql":
        columns = ", ".join(f"{each}.{quote(name)}" for name in read)
        sql = (
            f"SELECT {moment.columns} FROM {cases} CROSS JOIN LATERAL (SELECT {columns} "
            f"FROM {events} AS {each} WHERE {each}.{quote('case_id')} = {cases}.{quote('id')} "
            f"ORDER BY {each}.{quote('seq')} DESC LIMIT 1) AS {last} WHERE %s"
        )
        return sql, moment
    sql = (
        f"SELECT {moment.columns} FROM {events} AS {last} "
        f"WHERE {last}.{quote('id')} IN (SELECT (SELECT {each}.{quote('id')} "
        f"FROM {events} AS {each} WHERE {each}.{quote('case_id')} = "
        f"{cases}.{quote('id')} ORDER BY {each}.{quote('seq')} DESC LIMIT 1) "
        f"FROM {cases} WHERE %s)"
    )
    return sql, moment


def _stored_form(value: Any) -> Any:
    """The data as the database gives it back, so that the hash verifies after the round
    trip: PostgreSQL's jsonb has no negative zero (a clock skew of -0.0 s comes back 0.0)."""
    if isinstance(value, float) and value == 0.0:
        return 0.0
    if isinstance(value, dict):
        return {key: _stored_form(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_stored_form(item) for item in value]
    return value


# What `_plain_copy` says of a value that is not its own stored form.
_NOT_PLAIN: Any = object()
# The values that are their own stored form whatever they hold.
_AS_THEY_ARE = frozenset({str, int, bool, type(None)})


def _plain_copy(value: Any) -> Any:
    """The value as `_stored_form(json.loads(_canonical(value)))` gives it back, made without
    the round trip when the value is plain JSON already (objects with text keys, arrays,
    text or a subclass of it, whole numbers, finite numbers other than -0.0, true, false,
    null): a copy with each object's keys in the canonical (sorted) order and each text as
    plain `str`. Anything else (a tuple, a key that
    is not text, a date) gives `_NOT_PLAIN`, and the round trip decides."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        if math.isfinite(value) and (value != 0.0 or math.copysign(1.0, value) > 0):
            return value
        return _NOT_PLAIN
    if kind is dict:
        for key in value:
            if type(key) is not str:
                return _NOT_PLAIN
        copied = {}
        for key in sorted(value):
            item = value[key]
            # Text, whole numbers, flags and null are their own copy (as above).
            if type(item) not in _AS_THEY_ARE:
                item = _plain_copy(item)
                if item is _NOT_PLAIN:
                    return _NOT_PLAIN
            copied[key] = item
        return copied
    if kind is list:
        items = [_plain_copy(item) for item in value]
        return _NOT_PLAIN if any(item is _NOT_PLAIN for item in items) else items
    if isinstance(value, str):
        # A text subclass (a TextChoices member, as a filing's source and status are): the
        # round trip gives its text back as plain `str`.
        return str.__str__(value)
    return _NOT_PLAIN


@dataclass(frozen=True)
class _Link:
    """What the next event of a trail is, hashed onto its tail: its number, moment, data as
    stored (and as the canonical text the hash covers), and the hashes it chains."""

    seq: int
    at: datetime
    data: dict[str, Any]
    data_text: str
    prev_hash: str
    hash: str


def _link(
    tail: _Tail,
    *,
    case_uuid: str,
    kind: str,
    actor_id: int | None,
    actor_role: str,
    summons_uuid: str | None,
    data: dict[str, Any] | None,
    lon: float | None,
    lat: float | None,
    at: datetime,
    follow_trail: bool,
    clock: datetime | None = None,
    skew: timedelta | None = None,
) -> _Link:
    """The event that follows `tail`: its data in stored form, its moment checked against the
    trail's last (moved up to it with `follow_trail`) and against the clock (`clock`, as
    just read; else read here), its number and its hash. Every way of appending (one
    event, a new case's first, a batch) goes through here."""
    stored = _plain_copy(data or {})
    if stored is _NOT_PLAIN:
        stored = _stored_form(json.loads(_canonical(data or {})))
    if tail.at is not None and follow_trail:
        at = max(at, tail.at)
    check_moment(at, tail.at, clock=clock, skew=skew)
    seq = tail.seq + 1
    data_text = _canonical(stored)
    content = _content_text(
        case_uuid=case_uuid,
        seq=seq,
        at=at,
        kind=kind,
        actor_id=actor_id,
        actor_role=actor_role,
        summons_uuid=summons_uuid,
        data_text=data_text,
        lon=lon,
        lat=lat,
    )
    return _Link(seq, at, stored, data_text, tail.hash, _chained(content, tail.hash))


def _next_event(
    case: Case,
    tail: _Tail,
    kind: str,
    *,
    actor: Any,
    actor_role: str,
    summons: Summons | None,
    data: dict[str, Any] | None,
    lon: float | None,
    lat: float | None,
    at: datetime | None,
    follow_trail: bool,
) -> Event:
    """The event that follows `tail` on the case's trail, hashed onto it; not saved."""
    actor_id = actor.pk if actor is not None else None
    link = _link(
        tail,
        case_uuid=str(case.uuid),
        kind=kind,
        actor_id=actor_id,
        actor_role=actor_role,
        summons_uuid=str(summons.uuid) if summons is not None else None,
        data=data,
        lon=lon,
        lat=lat,
        at=at or timezone.now(),
        follow_trail=follow_trail,
    )
    return new_row(
        Event,
        case=case,
        seq=link.seq,
        at=link.at,
        kind=kind,
        actor_id=actor_id,
        actor_role=actor_role,
        summons=summons,
        data=link.data,
        lon=lon,
        lat=lat,
        prev_hash=link.prev_hash,
        hash=link.hash,
    )


def append_event(
    case: Case,
    kind: str,
    *,
    actor: Any = None,
    actor_role: str = "",
    summons: Summons | None = None,
    data: dict[str, Any] | None = None,
    lon: float | None = None,
    lat: float | None = None,
    at: datetime | None = None,
    follow_trail: bool = False,
    new_case: bool = False,
) -> Event:
    """Append one event to the case's trail. Call with the case locked, inside the change's
    transaction. `data` must be JSON-serialisable (before/after values, reasons, distances).
    `new_case` says the case was inserted in this transaction: its trail is empty, and
    nobody else can have appended to it.

    An `at` before the case's last event is refused (`MomentRefused`), and so is one too far
    ahead of the clock. With `follow_trail` (the deadline sweep, whose moment is only when
    it looked) an earlier `at` is moved up to the last event's moment instead.
    """
    _require_transaction()
    event = _next_event(
        case,
        _EMPTY if new_case else _tails([case.pk]).get(case.pk, _EMPTY),
        kind,
        actor=actor,
        actor_role=actor_role,
        summons=summons,
        data=data,
        lon=lon,
        lat=lat,
        at=at,
        follow_trail=follow_trail,
    )
    event.save(force_insert=True)
    Case.objects.filter(pk=case.pk).update(trail_length=event.seq, trail_head=event.hash)
    case.trail_length, case.trail_head = event.seq, event.hash
    return event


def insert_with_first_event(
    case: Case,
    kind: str,
    *,
    actor: Person | None,
    role: str,
    at: datetime,
    data: dict[str, Any] | None = None,
    lon: float | None = None,
    lat: float | None = None,
    outbox: Outbox | None = None,
) -> Event:
    """Insert a new case with its first trail event, inside the change's transaction: the
    event hashes the case's uuid, not its key, so it is hashed onto the empty trail before
    the case's insert, and the case is inserted with its trail's length and head already
    set (no update after). The event's insert is refused by the database like any other
    that does not extend the chain; `verify-trail` checks the case's head as always."""
    queued = Outbox() if outbox is None else outbox
    event = first_event(
        case, kind, actor=actor, role=role, at=at, data=data, lon=lon, lat=lat, outbox=queued
    )
    insert_new(case)
    insert_new(event)
    if outbox is None:
        queued.flush()
    return event


def first_event(
    case: Case,
    kind: str,
    *,
    actor: Person | None,
    role: str,
    at: datetime,
    outbox: Outbox,
    data: dict[str, Any] | None = None,
    lon: float | None = None,
    lat: float | None = None,
) -> Event:
    """The first trail event of a new case, not yet inserted, inside the change's
    transaction: hashed onto the empty trail (it hashes the case's uuid, not its key), the
    case given its trail's length and head, the webhooks queued in `outbox`. The caller
    inserts the case, then the event (`insert_with_first_event`, or
    `whistle.cases.rows.insert_together` with the filing's other rows)."""
    _require_transaction()
    event = _next_event(
        case,
        _EMPTY,
        kind,
        actor=actor,
        actor_role=role,
        summons=None,
        data=data,
        lon=lon,
        lat=lat,
        at=at,
        follow_trail=False,
    )
    case.trail_length, case.trail_head = event.seq, event.hash
    event.case = case
    outbox.notify_webhooks(kind, _webhook_payload(event), dedupe_key=event_key(event.hash))
    return event


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("trail events must be appended inside the transaction of the change")


def record(
    case: Case,
    kind: str,
    *,
    actor: Person | None,
    role: str,
    at: datetime,
    summons: Summons | None = None,
    data: dict[str, Any] | None = None,
    lon: float | None = None,
    lat: float | None = None,
    follow_trail: bool = False,
    new_case: bool = False,
    outbox: Outbox | None = None,
) -> Event:
    """Append the trail event of an action or of the sweep and offer it to the webhooks that
    want it: queued in `outbox`, when the action writes its messages together, else at once."""
    event = append_event(
        case,
        kind,
        actor=actor,
        actor_role=role,
        summons=summons,
        data=data,
        lon=lon,
        lat=lat,
        at=at,
        follow_trail=follow_trail,
        new_case=new_case,
    )
    if outbox is None:
        notify_webhooks(kind, _webhook_payload(event), dedupe_key=event_key(event.hash))
    else:
        outbox.notify_webhooks(kind, _webhook_payload(event), dedupe_key=event_key(event.hash))
    return event


def _webhook_payload(event: Event | BatchedEvent) -> dict[str, Any]:
    summons = event.summons if event.summons_id else None
    return {
        "case": event.case.reference,
        "case_id": str(event.case.uuid),
        "seq": event.seq,
        "kind": event.kind,
        "at": event.at.astimezone(UTC).isoformat(),
        "summons": str(summons.uuid) if summons is not None else None,
        "data": event.data,
        "hash": event.hash,
    }


@dataclass(slots=True)
class BatchedEvent:
    """An event of a `TrailBatch`, hashed but not yet written: the values of its row, with
    the case and summons objects it was recorded with (what messages about it need). Its
    data is kept as the document and as the canonical text its hash covers, which is the
    text inserted."""

    case: Any
    seq: int
    at: datetime
    kind: str
    actor_id: int | None
    actor_role: str
    summons: Any
    data: dict[str, Any]
    data_text: str
    prev_hash: str
    hash: str

    @property
    def summons_id(self) -> int | None:
        return self.summons.pk if self.summons is not None else None

    def row(self) -> tuple[Any, ...]:
        return (
            self.case.pk,
            self.seq,
            self.at,
            self.kind,
            self.actor_id,
            self.actor_role,
            self.summons_id,
            self.data_text,
            None,
            None,
            self.prev_hash,
            self.hash,
        )


_BATCHED_FIELDS = (
    "case_id",
    "seq",
    "at",
    "kind",
    "actor_id",
    "actor_role",
    "summons_id",
    "data",
    "lon",
    "lat",
    "prev_hash",
    "hash",
)


class TrailBatch:
    """Events appended to the trails of several locked cases within one transaction, written
    together: the deadline sweep's chunk.

    `record` builds each event as `record` does, hashed in memory onto the previous event of
    its case (the case's last stored event, then those recorded before it in the batch), and
    queues its webhooks in `outbox` when an active endpoint wants its kind (the endpoints
    as the outbox reads them once, inside the transaction: an endpoint added meanwhile by
    any process is seen by the next batch); `flush` inserts every event in one statement and moves
    each case's `trail_length` and `trail_head` once. Call both with the cases locked, inside
    the transaction; nothing is written before `flush`. The events are kept as their rows'
    values (`BatchedEvent`), not model instances; a case may be any object with the case's
    columns as attributes (`pk`, `uuid`, `reference`, `trail_length`, `trail_head`, ...).
    """

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self._tails: dict[int, _Tail] = {}
        self._events: list[BatchedEvent] = []
        self._cases: dict[int, Any] = {}
        self._connection = transaction.get_connection()
        # The clock as last read, and how far ahead of it a moment may lie (`_clock_for`).
        self._clock: datetime | None = None
        self._skew = clock_skew()

    def _clock_for(self, at: datetime) -> datetime:
        """The clock to check `at` against, read again only when `at` lies more than the
        skew ahead of the clock as last read: the clock only moves on, so a moment within
        the skew of an earlier reading is within it of the current one."""
        clock = self._clock
        if clock is None or at > clock + self._skew:
            clock = self._clock = timezone.now()
        return clock

    def load(self, cases: Iterable[Any]) -> None:
        """Read where each of these cases' trails ends, in one query."""
        ids = [case.pk for case in cases if case.pk not in self._tails]
        found = _tails(ids)
        self._tails.update({case_id: found.get(case_id, _EMPTY) for case_id in ids})

    def record(
        self,
        case: Any,
        kind: str,
        *,
        actor: Person | None,
        role: str,
        at: datetime,
        summons: Any = None,
        data: dict[str, Any] | None = None,
        follow_trail: bool = False,
    ) -> BatchedEvent:
        if not self._connection.in_atomic_block:
            _require_transaction()
        if case.pk not in self._tails:
            self.load([case])
        actor_id = actor.pk if actor is not None else None
        tail = self._tails[case.pk]
        # The moment `_link` checks against the clock.
        checked = max(at, tail.at) if follow_trail and tail.at is not None else at
        link = _link(
            tail,
            case_uuid=str(case.uuid),
            kind=kind,
            actor_id=actor_id,
            actor_role=role,
            summons_uuid=str(summons.uuid) if summons is not None else None,
            data=data,
            lon=None,
            lat=None,
            at=at,
            follow_trail=follow_trail,
            clock=self._clock_for(checked),
            skew=self._skew,
        )
        event = BatchedEvent(
            case,
            link.seq,
            link.at,
            kind,
            actor_id,
            role,
            summons,
            link.data,
            link.data_text,
            link.prev_hash,
            link.hash,
        )
        self._tails[case.pk] = _Tail(event.seq, event.hash, event.at)
        case.trail_length, case.trail_head = event.seq, event.hash
        self._events.append(event)
        self._cases[case.pk] = case
        if self.outbox.offers_webhooks(kind):
            self.outbox.notify_webhooks(
                kind, _webhook_payload(event), dedupe_key=event_key(event.hash)
            )
        return event

    def flush(self, *, case_fields: Iterable[str] = ()) -> None:
        """Insert the events and store each case's new trail head, with the other
        `case_fields` the caller changed on the same case objects."""
        _require_transaction()
        if self._events:
            # On PostgreSQL through one COPY (the trail's triggers check each row as for an
            # INSERT; an event that does not extend its chain fails the whole batch).
            # The data goes as the text its hash was computed over (`documents`).
            insert_values(
                Event,
                _BATCHED_FIELDS,
                (event.row() for event in self._events),
                copy=True,
                documents=("data",),
            )
            update_each(
                Case,
                list(self._cases.values()),
                ["trail_length", "trail_head", *case_fields],
                arrays=True,
            )
        self._events, self._cases = [], {}


def case_link(case: Case, summons: Summons | None = None) -> str:
    """Where the case's page is, for the messages that tell people about its events: at the
    summons' card when the event concerns one."""
    page = f"/cases/{case.reference}/"
    return f"{page}#summons-{summons.uuid.hex}" if summons is not None else page


def event_link(event: Event | BatchedEvent) -> str:
    """The page of an event's case, at its summons' card if it has one (already in memory:
    the event was just recorded with it)."""
    return case_link(event.case, event.summons if event.summons_id else None)
