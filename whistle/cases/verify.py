"""Checking trails: every event's hash, every link of the chain, no gaps, nothing missing at
the end. Works on rows streamed from the database and on exported documents alike. In the
database each trail is also replayed and compared with the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from whistle.cases.models import Case, Event, Summons
from whistle.cases.rules import CASE_DEADLINE_FIELDS, DEADLINE_FIELDS, ORDER_DEADLINE_FIELDS
from whistle.cases.trail import GENESIS, EventKind, compute_hash, event_content


@dataclass(frozen=True)
class EventRow:
    """An event as stored: the hashed content, its link and its hash."""

    seq: int
    at: datetime
    kind: str
    actor: int | None
    role: str
    summons: str | None
    data: dict[str, Any]
    lon: float | None
    lat: float | None
    prev_hash: str
    hash: str

    def computed_hash(self, case_uuid: str, seq: int | None = None) -> str:
        content = event_content(
            case_uuid=case_uuid,
            seq=self.seq if seq is None else seq,
            at=self.at,
            kind=self.kind,
            actor_id=self.actor,
            actor_role=self.role,
            summons_uuid=self.summons,
            data=self.data,
            lon=self.lon,
            lat=self.lat,
        )
        return compute_hash(content, self.prev_hash)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one case's trail, named by case reference and event."""

    case: str
    seq: int | None
    kind: str
    code: str
    message: str | Promise
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        detail = str(self.message) % self.params if self.params else str(self.message)
        if self.seq is None:
            return str(_("case %(case)s: %(detail)s")) % {"case": self.case, "detail": detail}
        return str(_("case %(case)s, event #%(seq)s (%(kind)s): %(detail)s")) % {
            "case": self.case,
            "seq": self.seq,
            "kind": self.kind,
            "detail": detail,
        }


@dataclass
class Report:
    cases: int = 0
    events: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def broken_cases(self) -> list[str]:
        return list(dict.fromkeys(p.case for p in self.problems))


def check_chain(
    case_uuid: str,
    reference: str,
    events: list[EventRow],
    *,
    expected_length: int | None = None,
    expected_head: str | None = None,
) -> list[Problem]:
    """The problems of one case's trail; `events` in the order of their seq."""
    problems: list[Problem] = []
    previous_hash = GENESIS
    previous_moved = False
    expected_seq = 1
    for row in events:
        gap = row.seq != expected_seq
        if gap:
            problems.append(_missing(reference, row, expected_seq))
        moved_from: int | None = None
        if row.computed_hash(case_uuid) != row.hash:
            moved_from = _recorded_seq(case_uuid, row, len(events) + 2)
            if moved_from is not None:
                problems.append(
                    Problem(
                        reference,
                        row.seq,
                        row.kind,
                        "reordered",
                        _("the event was recorded as #%(original)s: events were reordered"),
                        {"original": moved_from},
                    )
                )
            else:
                problems.append(
                    Problem(
                        reference,
                        row.seq,
                        row.kind,
                        "changed",
                        _("the event's content does not match its hash: it was changed"),
                    )
                )
        # A gap or a moved event already explains a broken link here and just after.
        explained = gap or moved_from is not None or previous_moved
        if row.prev_hash != previous_hash and not explained:
            problems.append(
                Problem(
                    reference,
                    row.seq,
                    row.kind,
                    "broken_link",
                    _(
                        "the event does not follow the one before it: an earlier event was "
                        "removed, changed or reordered"
                    ),
                )
            )
        previous_hash = row.hash
        previous_moved = moved_from is not None
        expected_seq = row.seq + 1
    last = expected_seq - 1
    if expected_length is not None and last < expected_length:
        problems.append(
            Problem(
                reference,
                None,
                "",
                "truncated",
                _(
                    "the trail ends at #%(last)s but %(length)s events were recorded: the last "
                    "events were removed"
                ),
                {"last": last, "length": expected_length},
            )
        )
    elif expected_head and events and expected_head != previous_hash:
        problems.append(
            Problem(
                reference,
                None,
                "",
                "head",
                _("the last event's hash is not the one recorded on the case"),
            )
        )
    return problems


def _missing(reference: str, row: EventRow, expected: int) -> Problem:
    if row.seq < expected:
        return Problem(
            reference,
            row.seq,
            row.kind,
            "duplicate",
            _("the sequence goes back from #%(previous)s to #%(seq)s"),
            {"previous": expected - 1, "seq": row.seq},
        )
    if row.seq == expected + 1:
        return Problem(
            reference,
            row.seq,
            row.kind,
            "missing",
            _("event #%(first)s before it is missing: it was removed"),
            {"first": expected},
        )
    return Problem(
        reference,
        row.seq,
        row.kind,
        "missing",
        _("events #%(first)s to #%(last)s before it are missing: they were removed"),
        {"first": expected, "last": row.seq - 1},
    )


def _recorded_seq(case_uuid: str, row: EventRow, limit: int) -> int | None:
    """The sequence number an intact event was recorded under, when it sits at another one."""
    for seq in range(1, limit + 1):
        if seq != row.seq and row.computed_hash(case_uuid, seq) == row.hash:
            return seq
    return None


# Replay: the state the rows must be in ---------------------------------------------
#
# Every action writes its rows and its event in one transaction, and each event carries the
# status it moved (`data["changes"]["status"]`: [before, after]), for the case, for its
# summons, or for the summonses a case event reopened (`data["summonses"]`). Replaying the
# trail therefore gives the status every row must have now, and a summons' moments (checked
# in, released, checked out) must each have the event that set them. A row that differs was
# changed without an event, e.g. a `released_at` written directly so that a check-out passes.

# Each moment on a summons and the events that set it.
_MOMENTS: dict[str, frozenset[str]] = {
    "arrived_at": frozenset({EventKind.CHECK_IN_ACCEPTED, EventKind.CHECK_IN_FLAGGED}),
    "released_at": frozenset({EventKind.RELEASED, EventKind.DECLINE_UPHELD}),
    "left_at": frozenset({EventKind.CHECK_OUT}),
}


@dataclass(frozen=True)
class SummonsRow:
    uuid: str
    status: str
    arrived_at: datetime | None
    released_at: datetime | None
    left_at: datetime | None
    # The stored deadlines (`DEADLINE_FIELDS`); None when they are not compared.
    deadlines: Mapping[str, datetime | None] | None = None


def _status_after(data: Any) -> str | None:
    try:
        after = data["changes"]["status"][1]
    except (KeyError, IndexError, TypeError):
        return None
    return after if isinstance(after, str) else None


def replay(events: list[EventRow]) -> tuple[str | None, dict[str, str], dict[str, set[str]]]:
    """The case's status, each summons' status and each summons' event kinds, from its
    trail alone."""
    case_status: str | None = None
    summons_status: dict[str, str] = {}
    kinds: dict[str, set[str]] = {}
    for row in events:
        after = _status_after(row.data)
        if row.summons is not None:
            kinds.setdefault(row.summons, set()).add(row.kind)
            if after is not None:
                summons_status[row.summons] = after
            continue
        if after is not None:
            case_status = after
        rounds = row.data.get("summonses") if isinstance(row.data, dict) else None
        for item in rounds if isinstance(rounds, list) else []:
            reopened = _status_after(item)
            if isinstance(item, dict) and reopened is not None and "summons" in item:
                summons_status[str(item["summons"])] = reopened
    return case_status, summons_status, kinds


# The case's judgements, each set by an event that carries it in `data["changes"]`
# ([before, after]); the simulated history's evaluation carries `data["rating"]`.
RATINGS = ("township_rating", "resident_rating", "resident_satisfied")


def replay_ratings(events: list[EventRow]) -> dict[str, Any]:
    """The ratings the trail leaves on the case: only those some event set."""
    values: dict[str, Any] = {}
    for row in events:
        if row.summons is not None or not isinstance(row.data, dict):
            continue
        changed = row.data.get("changes")
        changed = changed if isinstance(changed, dict) else {}
        for name in RATINGS:
            pair = changed.get(name)
            if isinstance(pair, list) and len(pair) == 2:
                values[name] = pair[1]
        simulated = "township_rating" not in changed and "rating" in row.data
        if row.kind == EventKind.EVALUATED and simulated:
            values["township_rating"] = row.data["rating"]
    return values


def _rating_problems(reference: str, events: list[EventRow], row: dict[str, Any]) -> list[Problem]:
    trail = replay_ratings(events)
    problems: list[Problem] = []
    for name in RATINGS:
        if name not in row:
            continue
        value, expected = row[name], trail.get(name)
        if name in trail and value != expected:
            problems.append(
                Problem(
                    reference,
                    None,
                    "",
                    "replay",
                    _(
                        "the case's %(field)s is %(row)s but its trail leaves it %(trail)s: the "
                        "row was changed without an event"
                    ),
                    {"field": name, "row": value, "trail": expected},
                )
            )
        elif name not in trail and value is not None:
            problems.append(
                Problem(
                    reference,
                    None,
                    "",
                    "replay",
                    _(
                        "the case has %(field)s set but no event in its trail set it: the row "
                        "was changed without an event"
                    ),
                    {"field": name},
                )
            )
    return problems


# Deadlines: each event that sets or moves a deadline records in `data["due_times"]` every
# deadline the rows hold after it (`whistle.cases.actions._common.due_times`): the case's,
# its work order's and each summons' it touched, by uuid. Events written before they did so
# carry the deadlines in shapes of their own, or none; after such an event of a kind that
# sets deadlines, the deadlines it may have set are not known from the trail until a later
# event records them, and are not compared (docs/trail.md).
_SETS_DEADLINES = frozenset(
    {
        EventKind.CASE_REPORTED,
        EventKind.CASE_FILED,
        EventKind.SUMMONED,
        EventKind.REWORK,
        EventKind.BACKLOG_RESUMED,
        EventKind.DEADLINES_RECOMPUTED,
    }
)


@dataclass(frozen=True)
class Moved:
    """An event that moved a deadline from a value the trail before it did not leave: the
    row was changed without an event before the move, which then carried the change on."""

    seq: int
    kind: str
    summons: str | None
    field: str
    recorded: str | None
    replayed: str | None


@dataclass
class Deadlines:
    """The deadlines a trail leaves on the rows, as recorded (ISO text or None), by field:
    only those it knows; and the moves that started from another value than the trail's."""

    case: dict[str, str | None] = field(default_factory=dict)
    hotline_order: dict[str, str | None] = field(default_factory=dict)
    summonses: dict[str, dict[str, str | None]] = field(default_factory=dict)
    moved_from_elsewhere: list[Moved] = field(default_factory=list)


def _moves(data: dict[str, Any]) -> Iterator[tuple[str | None, str, Any]]:
    """The [old, new] pairs of deadlines an event moved (the backlog's resumption and the
    calendar's recomputation record them): (summons uuid or None, field, old)."""
    own = data.get("changes")
    for name in CASE_DEADLINE_FIELDS:
        pair = own.get(name) if isinstance(own, dict) else None
        if isinstance(pair, list) and len(pair) == 2:
            yield None, name, pair[0]
    rounds = data.get("summonses")
    for item in rounds if isinstance(rounds, list) else []:
        if not isinstance(item, dict) or "summons" not in item:
            continue
        for name in DEADLINE_FIELDS:
            pair = item.get(name)
            if isinstance(pair, list) and len(pair) == 2:
                yield str(item["summons"]), name, pair[0]


def _recorded(values: Any, names: tuple[str, ...]) -> dict[str, str | None]:
    if not isinstance(values, dict):
        return {}
    return {n: values[n] for n in names if n in values and isinstance(values[n], str | None)}


def replay_deadlines(events: list[EventRow]) -> Deadlines:
    """Every deadline of the case, its work order and its summonses, from its trail alone."""
    found = Deadlines()
    for row in events:
        due = row.data.get("due_times") if isinstance(row.data, dict) else None
        if isinstance(due, dict):
            for summons, name, old in _moves(row.data):
                known = found.case if summons is None else found.summonses.get(summons, {})
                if name in known and _moment(known[name]) != _moment(old):
                    found.moved_from_elsewhere.append(
                        Moved(row.seq, row.kind, summons, name, old, known[name])
                    )
            found.case.update(_recorded(due.get("case"), CASE_DEADLINE_FIELDS))
            found.hotline_order.update(_recorded(due.get("hotline_order"), ORDER_DEADLINE_FIELDS))
            summonses = due.get("summonses")
            for uuid, values in summonses.items() if isinstance(summonses, dict) else ():
                found.summonses.setdefault(str(uuid), {}).update(_recorded(values, DEADLINE_FIELDS))
        elif row.kind in _SETS_DEADLINES:
            # Written before events recorded their deadlines: what it set is not known.
            if row.summons is not None:
                found.summonses.pop(row.summons, None)
            else:
                found = Deadlines(moved_from_elsewhere=found.moved_from_elsewhere)
    return found


def _moment(text: Any) -> Any:
    """A recorded deadline as a moment; anything that is not ISO text as it is."""
    if not isinstance(text, str):
        return text
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return text


def _shown(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return "—" if value is None else str(value)


def _deadline_problems(
    reference: str,
    trail: dict[str, str | None],
    row: Mapping[str, datetime | None],
    summons: str | None = None,
    order: bool = False,
) -> list[Problem]:
    problems = []
    for name, recorded in trail.items():
        if name not in row:
            continue
        expected, value = _moment(recorded), row[name]
        if expected == value:
            continue
        params = {"field": name, "row": _shown(value), "trail": _shown(expected)}
        if summons is not None:
            message = _(
                "summons %(summons)s has %(field)s %(row)s but its trail leaves it %(trail)s: "
                "the deadline was changed without an event"
            )
            params["summons"] = summons
        elif order:
            message = _(
                "the case's work order has %(field)s %(row)s but its trail leaves it "
                "%(trail)s: the deadline was changed without an event"
            )
        else:
            message = _(
                "the case's %(field)s is %(row)s but its trail leaves it %(trail)s: the row "
                "was changed without an event"
            )
        problems.append(Problem(reference, None, "", "replay", message, params))
    return problems


def replay_problems(
    reference: str,
    events: list[EventRow],
    status: str,
    summonses: list[SummonsRow],
    ratings: dict[str, Any] | None = None,
    deadlines: Mapping[str, datetime | None] | None = None,
    order_deadlines: Mapping[str, datetime | None] | None = None,
) -> list[Problem]:
    """What the rows say that the trail does not: statuses, a summons' moments and, when
    given, the case's ratings (`RATINGS`) and the deadlines of the case (`deadlines`), of its
    work order (`order_deadlines`) and of each summons (`SummonsRow.deadlines`)."""
    case_status, summons_status, kinds = replay(events)
    problems: list[Problem] = (
        [] if ratings is None else _rating_problems(reference, events, ratings)
    )
    replayed = replay_deadlines(events)
    for moved in replayed.moved_from_elsewhere:
        params = {
            "field": moved.field,
            "old": _shown(_moment(moved.recorded)),
            "trail": _shown(_moment(moved.replayed)),
        }
        if moved.summons is None:
            message = _(
                "the event moved the case's %(field)s from %(old)s but the trail before it "
                "left %(trail)s: the deadline was changed without an event before it"
            )
        else:
            params["summons"] = moved.summons
            message = _(
                "the event moved %(field)s of summons %(summons)s from %(old)s but the trail "
                "before it left %(trail)s: the deadline was changed without an event before it"
            )
        problems.append(Problem(reference, moved.seq, moved.kind, "replay", message, params))
    if deadlines is not None:
        problems += _deadline_problems(reference, replayed.case, deadlines)
    if order_deadlines is not None:
        problems += _deadline_problems(
            reference, replayed.hotline_order, order_deadlines, order=True
        )
    for summons in summonses:
        if summons.deadlines is not None:
            problems += _deadline_problems(
                reference,
                replayed.summonses.get(summons.uuid, {}),
                summons.deadlines,
                summons=summons.uuid,
            )
    if case_status is not None and case_status != status:
        problems.append(
            Problem(
                reference,
                None,
                "",
                "replay",
                _(
                    "the case is %(row)s but its trail leaves it %(trail)s: the row was "
                    "changed without an event"
                ),
                {"row": status, "trail": case_status},
            )
        )
    for summons in summonses:
        expected = summons_status.get(summons.uuid)
        if expected is not None and expected != summons.status:
            problems.append(
                Problem(
                    reference,
                    None,
                    "",
                    "replay",
                    _(
                        "summons %(summons)s is %(row)s but its trail leaves it %(trail)s: the "
                        "row was changed without an event"
                    ),
                    {"summons": summons.uuid, "row": summons.status, "trail": expected},
                )
            )
        for moment, setters in _MOMENTS.items():
            if (
                getattr(summons, moment) is not None
                and not kinds.get(summons.uuid, set()) & setters
            ):
                problems.append(
                    Problem(
                        reference,
                        None,
                        "",
                        "replay",
                        _(
                            "summons %(summons)s has %(field)s set but no event in its trail "
                            "set it: the row was changed without an event"
                        ),
                        {"summons": summons.uuid, "field": moment},
                    )
                )
    return problems


# The database --------------------------------------------------------------------------

_EVENT_COLUMNS = (
    "case_id",
    "seq",
    "at",
    "kind",
    "actor_id",
    "actor_role",
    "summons__uuid",
    "data",
    "lon",
    "lat",
    "prev_hash",
    "hash",
)


def _event_rows(case_ids: list[int] | None, chunk_size: int) -> Iterator[tuple[int, EventRow]]:
    events = Event.objects.order_by("case_id", "seq")
    if case_ids is not None:
        events = events.filter(case_id__in=case_ids)
    for values in events.values_list(*_EVENT_COLUMNS).iterator(chunk_size=chunk_size):
        case_id, seq, at, kind, actor, role, summons, data, lon, lat, prev_hash, hash_ = values
        yield (
            case_id,
            EventRow(
                seq=seq,
                at=at,
                kind=kind,
                actor=actor,
                role=role,
                summons=str(summons) if summons is not None else None,
                data=data,
                lon=lon,
                lat=lat,
                prev_hash=prev_hash,
                hash=hash_,
            ),
        )


def _summons_rows(case_ids: list[int] | None, chunk_size: int) -> Iterator[tuple[int, Any]]:
    summonses = Summons.objects.order_by("case_id", "pk")
    if case_ids is not None:
        summonses = summonses.filter(case_id__in=case_ids)
    columns = ("case_id", "uuid", "status", "arrived_at", "released_at", "left_at")
    for case_id, uuid, *rest in summonses.values_list(*columns, *DEADLINE_FIELDS).iterator(
        chunk_size=chunk_size
    ):
        status, arrived_at, released_at, left_at, *due = rest
        deadlines = dict(zip(DEADLINE_FIELDS, due, strict=True))
        yield case_id, SummonsRow(str(uuid), status, arrived_at, released_at, left_at, deadlines)


def _take(stream: Iterator[tuple[int, Any]], pending: Any, case_id: int) -> tuple[list[Any], Any]:
    """The items of one case from a stream in case order, and the first item after them."""
    while pending is not None and pending[0] < case_id:
        pending = next(stream, None)
    taken = []
    while pending is not None and pending[0] == case_id:
        taken.append(pending[1])
        pending = next(stream, None)
    return taken, pending


def verify_database(*, references: Iterable[str] | None = None, chunk_size: int = 5000) -> Report:
    """Check every case's trail (or those of the given references) in three streamed
    queries: cases, events and summonses, all in case order, merged as they come. Each
    trail is then replayed and compared with the rows (`replay_problems`), deadlines
    included."""

    cases = Case.objects.order_by("pk")
    case_ids: list[int] | None = None
    if references is not None:
        cases = cases.filter(reference__in=list(references))
        case_ids = list(cases.values_list("pk", flat=True))
    report = Report()
    events = _event_rows(case_ids, chunk_size)
    summonses = _summons_rows(case_ids, chunk_size)
    pending, pending_summons = next(events, None), next(summonses, None)
    order_columns = [f"hotline_order__{name}" for name in ORDER_DEADLINE_FIELDS]
    case_rows = cases.values_list(
        "pk",
        "reference",
        "uuid",
        "trail_length",
        "trail_head",
        "status",
        *RATINGS,
        *CASE_DEADLINE_FIELDS,
        *order_columns,
    )
    for case_id, reference, case_uuid, length, head, status, *rest in case_rows.iterator(
        chunk_size=chunk_size
    ):
        rated, due = rest[: len(RATINGS)], rest[len(RATINGS) :]
        split = len(CASE_DEADLINE_FIELDS)
        own_due = dict(zip(CASE_DEADLINE_FIELDS, due[:split], strict=True))
        order_due = dict(zip(ORDER_DEADLINE_FIELDS, due[split:], strict=True))
        trail, pending = _take(events, pending, case_id)
        rows, pending_summons = _take(summonses, pending_summons, case_id)
        report.cases += 1
        report.events += len(trail)
        report.problems.extend(
            check_chain(
                str(case_uuid), reference, trail, expected_length=length, expected_head=head
            )
        )
        ratings = dict(zip(RATINGS, rated, strict=True))
        report.problems.extend(
            replay_problems(reference, trail, status, rows, ratings, own_due, order_due)
        )
    return report
