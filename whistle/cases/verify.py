"""Checking trails: every event's hash, every link of the chain, no gaps, nothing missing at
the end. Works on rows streamed from the database and on exported documents alike. In the
database each trail is also replayed and compared with the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from whistle.cases.models import Case, Event, Summons
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


def replay_problems(
    reference: str,
    events: list[EventRow],
    status: str,
    summonses: list[SummonsRow],
    ratings: dict[str, Any] | None = None,
) -> list[Problem]:
    """What the rows say that the trail does not: statuses, a summons' moments and, when
    given, the case's ratings (`RATINGS`)."""
    case_status, summons_status, kinds = replay(events)
    problems: list[Problem] = (
        [] if ratings is None else _rating_problems(reference, events, ratings)
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
    for case_id, uuid, *rest in summonses.values_list(*columns).iterator(chunk_size=chunk_size):
        yield case_id, SummonsRow(str(uuid), *rest)


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
    trail is then replayed and compared with the rows (`replay_problems`)."""

    cases = Case.objects.order_by("pk")
    case_ids: list[int] | None = None
    if references is not None:
        cases = cases.filter(reference__in=list(references))
        case_ids = list(cases.values_list("pk", flat=True))
    report = Report()
    events = _event_rows(case_ids, chunk_size)
    summonses = _summons_rows(case_ids, chunk_size)
    pending, pending_summons = next(events, None), next(summonses, None)
    case_rows = cases.values_list(
        "pk", "reference", "uuid", "trail_length", "trail_head", "status", *RATINGS
    )
    for case_id, reference, case_uuid, length, head, status, *rated in case_rows.iterator(
        chunk_size=chunk_size
    ):
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
        report.problems.extend(replay_problems(reference, trail, status, rows, ratings))
    return report
