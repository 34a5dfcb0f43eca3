"""The set-based derivation (PostgreSQL) against `derive_facts` at the edges of every time rule.

The random trails of tests/test_assessment_derive_sql.py rarely land on a boundary, so a
deadline off by a second or by ten minutes can pass them. Here each trail is built by hand
at one boundary of one rule: an arrival, a release or a decline exactly at, just before and
just after the arrival deadline; lateness that rounds up at a part of a second or lands on
whole minutes; results and check-outs at the resolve deadline; reworks of the whole case at
the moment of the work; the last second of a month in Beijing time; events at the same
moment, told apart by their sequence. Each trail's record says what the rules say (checked
on the Python path, so the boundary is really hit) and the SQL path writes the same record,
field for field, and the same cells and scores. The arrival deadline as the summons event
wrote it, in every form: the SQL reads a text only where PostgreSQL reads the moment
Python's `fromisoformat` reads, and leaves the rest to `derive_facts`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from datetime import timezone as dt_timezone
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from tests.conftest import make_person
from tests.fixtures_assessment import bj, scheme_forty_percent, scheme_one_third
from tests.test_assessment_derive_sql import assert_same, snapshot, workers
from whistle.assessment.derive_sql import DERIVE, READABLE_DUE, Derivation
from whistle.assessment.engine import RECORD_FIELDS, SchemeBook, check_all, recompute_all
from whistle.assessment.models import DepartmentResult, ScoreCell, SummonsAssessment
from whistle.assessment.periods import BEIJING
from whistle.assessment.scoring import AssessmentEventKind
from whistle.cases.models import Case, Event, Summons, Whistle
from whistle.cases.trail import EventKind, append_event, lock_case
from whistle.organisation.models import Department, Jurisdiction, Person, Role
from whistle.policies.models import WhistleKind

# The imported fixture: the boundary comparison runs serial and with workers side by side.
__all__ = ["workers"]

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the set-based derivation is PostgreSQL's"
    ),
]

K = EventKind
SECOND = timedelta(seconds=1)
MICRO = timedelta(microseconds=1)
MINUTE = timedelta(minutes=1)
# Summoned at 09:00 on 10 July 2026, Beijing time: to arrive by 09:30, to resolve by 13:00.
SUMMONED = bj(10, 9)
DUE = SUMMONED + timedelta(minutes=30)
RESOLVE = SUMMONED + timedelta(hours=4)


@dataclass
class Trail:
    """One case with one whistled summons (or a routine dispatch) and its trail."""

    name: str
    case: Case
    summons: Summons
    due: datetime | None
    events: dict[str, Event] = field(default_factory=dict)
    # What the record says (the rules, as docs/assessment.md tells them).
    expect: dict[str, Any] = field(default_factory=dict)
    # Named events the record is derived from, and named events it is not.
    uses: set[str] = field(default_factory=set)
    ignores: set[str] = field(default_factory=set)

    def own(self, kind: str, at: datetime, name: str = "", **data: Any) -> Event:
        return self._append(kind, at, self.summons, name, data)

    def whole_case(self, kind: str, at: datetime, name: str = "", **data: Any) -> Event:
        return self._append(kind, at, None, name, data)

    def _append(
        self, kind: str, at: datetime, summons: Summons | None, name: str, data: dict[str, Any]
    ) -> Event:
        with transaction.atomic():
            event = append_event(lock_case(self.case.pk), kind, summons=summons, data=data, at=at)
        if name:
            self.events[name] = event
        return event


class Corpus:
    def __init__(self, township: Jurisdiction, department: Department, blower: Person) -> None:
        self.township = township
        self.department = department
        self.blower = blower
        self.trails: list[Trail] = []

    def trail(
        self,
        name: str,
        summoned: datetime = SUMMONED,
        *,
        whistled: bool = True,
        due_text: Callable[[datetime], str] | None = None,
        recorded: bool = True,
        **expect: Any,
    ) -> Trail:
        """A case summoning the department at `summoned` (arrival due 30 minutes later);
        `due_text` is what the summons event records as the deadline (by default the
        deadline in ISO form; `recorded=False`: nothing, as trails written before it was),
        `whistled=False` a routine dispatch with no deadline."""
        case = Case.objects.create(
            source="patrol",
            description=f"边界案件：{name}",
            lon=116.43,
            lat=39.87,
            district=self.township.parent,
            township=self.township,
            reported_at=summoned,
            status=Case.Status.WHISTLED,
        )
        whistle = None
        due = None
        if whistled:
            whistle = Whistle.objects.create(
                case=case,
                kind=WhistleKind.ROUTINE,
                township=self.township,
                blown_by=self.blower,
                blown_at=summoned,
            )
            due = summoned + timedelta(minutes=30)
        summons = Summons.objects.create(
            case=case,
            whistle=whistle,
            department=self.department,
            summoned_at=summoned,
            acknowledge_due_at=summoned + timedelta(minutes=10),
            arrive_due_at=due,
            resolve_due_at=summoned + timedelta(hours=4),
        )
        data: dict[str, Any] = {}
        if due is not None and recorded:
            data["arrive_due_at"] = due_text(due) if due_text is not None else due.isoformat()
        with transaction.atomic():
            locked = lock_case(case.pk)
            append_event(locked, K.CASE_REPORTED, at=summoned)
            append_event(locked, K.SUMMONED, summons=summons, data=data, at=summoned)
        trail = Trail(name, case, summons, due, expect=expect)
        self.trails.append(trail)
        return trail


def arrivals(corpus: Corpus) -> None:
    """Did it come: the first arrival against the deadline, and lateness rounded up."""
    on_time: dict[str, Any] = {"came": "on_time", "late_minutes": None}
    for name, offset, expect in [
        ("check-in one second before the deadline", -SECOND, on_time),
        ("check-in one microsecond before the deadline", -MICRO, on_time),
        ("check-in exactly at the deadline", timedelta(0), on_time),
        ("check-in one microsecond after the deadline", MICRO, {"late_minutes": 1}),
        ("check-in one second after the deadline", SECOND, {"late_minutes": 1}),
        ("check-in 59.9 seconds late", timedelta(seconds=59.9), {"late_minutes": 1}),
        ("check-in exactly one minute late", MINUTE, {"late_minutes": 1}),
        ("check-in a minute and a microsecond late", MINUTE + MICRO, {"late_minutes": 2}),
        ("check-in exactly ten minutes late", 10 * MINUTE, {"late_minutes": 10}),
        ("check-in ten minutes and a second late", 10 * MINUTE + SECOND, {"late_minutes": 11}),
        (
            "check-in a day and a microsecond late",
            timedelta(days=1) + MICRO,
            {"late_minutes": 1441},
        ),
    ]:
        trail = corpus.trail(name, came="late")
        trail.expect.update(expect)
        trail.own(K.CHECK_IN_ACCEPTED, DUE + offset, "check-in")
        left = DUE + offset + timedelta(hours=1)
        trail.own(K.CHECK_OUT, left, "check-out")
        trail.expect.update(acted="handled", settled=True, settled_at=left)
        trail.uses |= {"check-in", "check-out"}

    trail = corpus.trail("two check-ins at the same moment", came="late", late_minutes=1)
    trail.own(K.CHECK_IN_ACCEPTED, DUE + SECOND, "first")
    trail.own(K.CHECK_IN_ACCEPTED, DUE + SECOND, "second")
    trail.uses, trail.ignores = {"first"}, {"second"}

    trail = corpus.trail("a late check-in after one in time", came="on_time")
    trail.own(K.CHECK_IN_ACCEPTED, DUE, "in time")
    trail.own(K.CHECK_IN_ACCEPTED, DUE + SECOND, "late")
    trail.uses, trail.ignores = {"in time"}, {"late"}

    # A flagged check-in the township has not confirmed is no arrival.
    trail = corpus.trail("flagged in time, clean one second late", came="late", late_minutes=1)
    trail.own(K.CHECK_IN_FLAGGED, DUE - SECOND, "flagged")
    trail.own(K.CHECK_IN_ACCEPTED, DUE + SECOND, "clean")
    trail.uses, trail.ignores = {"clean"}, {"flagged"}

    trail = corpus.trail("overdue written at the deadline, then a check-in at it")
    trail.own(K.ARRIVE_OVERDUE, DUE, "overdue")
    trail.own(K.CHECK_IN_ACCEPTED, DUE, "check-in")
    trail.expect.update(came="on_time", late_minutes=None)
    trail.uses, trail.ignores = {"check-in"}, {"overdue"}

    trail = corpus.trail("overdue one second after the deadline", came="no_show", settled=False)
    trail.own(K.ARRIVE_OVERDUE, DUE + SECOND, "overdue")
    trail.uses = {"overdue"}

    trail = corpus.trail("routine dispatch arriving a day late", whistled=False)
    trail.own(K.CHECK_IN_ACCEPTED, DUE + timedelta(days=1), "check-in")
    trail.expect.update(came="not_applicable", late_minutes=None)
    trail.ignores = {"check-in"}


def deadlines_as_written(corpus: Corpus) -> None:
    """The deadline as the summons event wrote it, in other forms of the same moment."""
    beijing: dict[str, Any] = {"came": "on_time"}
    for name, text, offset, expect in [
        ("deadline in Beijing's offset, check-in at it", "+08", timedelta(0), beijing),
        ("deadline in Beijing's offset, one second late", "+08", SECOND, {"late_minutes": 1}),
        ("deadline written with Z, check-in at it", "Z", timedelta(0), beijing),
        ("deadline written with Z, one microsecond late", "Z", MICRO, {"late_minutes": 1}),
        ("deadline without seconds, check-in at it", "hh:mm", timedelta(0), beijing),
        ("deadline without seconds, one second late", "hh:mm", SECOND, {"late_minutes": 1}),
        ("deadline with a space, one second early", " ", -SECOND, beijing),
        ("deadline half a second in, check-in at it", ".5", timedelta(0), beijing),
        (
            "deadline half a second in, a minute after it",
            ".5",
            timedelta(seconds=60),
            {"late_minutes": 1},
        ),
    ]:
        trail = corpus.trail(name, due_text=_written(text), came="late")
        trail.expect.update(expect)
        due = _parsed(trail.due, text)
        trail.own(K.CHECK_IN_ACCEPTED, due + offset, "check-in")
        trail.uses = {"check-in"}

    # A rework moved the summons' own deadline; "did it come" reads the recorded one.
    trail = corpus.trail("deadline moved on the summons after it was recorded", came="on_time")
    Summons.objects.filter(pk=trail.summons.pk).update(arrive_due_at=DUE - timedelta(minutes=10))
    trail.own(K.CHECK_IN_ACCEPTED, DUE, "check-in")

    # A trail written before the summons event recorded it: the summons' own deadline.
    trail = corpus.trail("deadline not recorded, check-in one second late", recorded=False)
    trail.own(K.CHECK_IN_ACCEPTED, DUE + SECOND, "check-in")
    trail.expect.update(came="late", late_minutes=1)

    trail = corpus.trail("deadline recorded empty", due_text=lambda due: "", came="not_applicable")
    trail.own(K.CHECK_IN_ACCEPTED, DUE + timedelta(hours=1), "check-in")


def _written(form: str) -> Callable[[datetime], str]:
    def write(due: datetime) -> str:
        if form == "+08":
            return bj_text(due)
        if form == "Z":
            return due.astimezone(UTC).isoformat().replace("+00:00", "Z")
        if form == "hh:mm":
            return bj_text(due)[:16] + "+08:00"
        if form == " ":
            return due.isoformat(sep=" ")
        return (due + timedelta(milliseconds=500)).isoformat()

    return write


def _parsed(due: datetime | None, form: str) -> datetime:
    assert due is not None
    return due + timedelta(milliseconds=500) if form == ".5" else due


def bj_text(moment: datetime) -> str:
    return moment.astimezone(BEIJING).isoformat()


def releases(corpus: Corpus) -> None:
    """Released before the deadline frees the department from coming; after it, it never came."""
    free: dict[str, Any] = {"came": "not_applicable", "excused": True}
    never: dict[str, Any] = {"came": "no_show", "excused": True}
    for name, offset, expect in [
        ("released ten minutes before the deadline", -10 * MINUTE, free),
        ("released five minutes before the deadline", -5 * MINUTE, free),
        ("released one second before the deadline", -SECOND, free),
        ("released exactly at the deadline", timedelta(0), free),
        ("released one microsecond after the deadline", MICRO, never),
        ("released one second after the deadline", SECOND, never),
        ("released five minutes after the deadline", 5 * MINUTE, never),
        ("released ten minutes after the deadline", 10 * MINUTE, never),
        ("released ten minutes and a second after", 10 * MINUTE + SECOND, never),
    ]:
        trail = corpus.trail(name, acted="not_applicable", settled=True)
        trail.expect.update(expect)
        trail.own(K.RELEASED, DUE + offset, "released")
        trail.expect["settled_at"] = DUE + offset
        trail.uses = {"released"}

    # Excused unless it arrived at or before the release.
    for name, arrived, excused in [
        ("check-in at the moment of the release", timedelta(0), False),
        ("check-in one second after the release", SECOND, True),
    ]:
        trail = corpus.trail(name, excused=excused, acted="not_applicable")
        trail.own(K.RELEASED, DUE - MINUTE, "released")
        trail.own(K.CHECK_IN_ACCEPTED, DUE - MINUTE + arrived, "check-in")
        trail.expect["came"] = "on_time"

    trail = corpus.trail("check-in one second before the release", excused=False)
    trail.own(K.CHECK_IN_ACCEPTED, DUE + 5 * MINUTE - SECOND, "check-in")
    trail.own(K.RELEASED, DUE + 5 * MINUTE, "released")
    trail.expect.update(came="late", late_minutes=5, acted="not_applicable")

    # A check-out is work done only before the release, by sequence at the same moment.
    trail = corpus.trail("check-out then release at the same moment", acted="handled")
    trail.own(K.CHECK_IN_ACCEPTED, DUE, "check-in")
    trail.own(K.CHECK_OUT, DUE + MINUTE, "check-out")
    trail.own(K.RELEASED, DUE + MINUTE, "released")
    trail.uses = {"check-out"}
    trail.expect["settled_at"] = DUE + MINUTE

    trail = corpus.trail("release then check-out at the same moment", acted="not_applicable")
    trail.own(K.CHECK_IN_ACCEPTED, DUE, "check-in")
    trail.own(K.RELEASED, DUE + MINUTE, "released")
    trail.own(K.CHECK_OUT, DUE + MINUTE, "check-out")
    trail.uses, trail.ignores = {"released"}, {"check-out"}


def declines(corpus: Corpus) -> None:
    """A decline made by the deadline and upheld frees the department from coming."""
    for name, offset, came in [
        ("decline one second before the deadline, upheld", -SECOND, "not_applicable"),
        ("decline exactly at the deadline, upheld", timedelta(0), "not_applicable"),
        ("decline one microsecond after the deadline, upheld", MICRO, "no_show"),
        ("decline one second after the deadline, upheld", SECOND, "no_show"),
        ("decline ten minutes after the deadline, upheld", 10 * MINUTE, "no_show"),
    ]:
        trail = corpus.trail(name, came=came, acted="decline_upheld", excused=True, settled=True)
        trail.own(K.DECLINED, DUE + offset, "declined")
        # The ruling itself may come at any time: here exactly at the deadline or after.
        trail.own(K.DECLINE_UPHELD, max(DUE, DUE + offset), "upheld")
        trail.uses = {"upheld"}

    trail = corpus.trail("decline in time, insisted then upheld at the same moment")
    trail.own(K.DECLINED, DUE - SECOND, "declined")
    trail.own(K.DECLINE_INSISTED, DUE, "insisted")
    trail.own(K.DECLINE_UPHELD, DUE, "upheld")
    trail.expect.update(came="not_applicable", acted="decline_upheld", excused=True)
    trail.uses = {"declined", "upheld"}

    trail = corpus.trail("decline in time, upheld then insisted at the same moment")
    trail.own(K.DECLINED, DUE - SECOND, "declined")
    trail.own(K.DECLINE_UPHELD, DUE, "upheld")
    trail.own(K.DECLINE_INSISTED, DUE, "insisted")
    trail.own(K.CHECK_IN_ACCEPTED, DUE + SECOND, "check-in")
    trail.expect.update(came="late", late_minutes=1, acted="abandoned", excused=False)
    trail.expect.update(settled=True, settled_at=DUE)
    trail.uses = {"insisted", "check-in"}

    # Insisted: the work after the ruling, by sequence at the same moment, is what counts.
    trail = corpus.trail("result then insisted at the same moment, then closed")
    trail.own(K.DECLINED, DUE - SECOND, "declined")
    trail.own(K.RESULT, DUE, "result")
    trail.own(K.DECLINE_INSISTED, DUE, "insisted")
    trail.whole_case(K.CLOSED, DUE, "closed")
    trail.expect.update(acted="abandoned", settled=True, settled_at=DUE, came="no_show")
    trail.ignores = {"result"}

    trail = corpus.trail("insisted then result at the same moment")
    trail.own(K.DECLINED, DUE - SECOND, "declined")
    trail.own(K.DECLINE_INSISTED, DUE, "insisted")
    trail.own(K.RESULT, DUE, "result")
    trail.expect.update(acted="decline_overruled", settled=False)
    trail.uses = {"insisted", "result"}


def work_and_reworks(corpus: Corpus) -> None:
    """Results and check-outs at the resolve deadline, and reworks around the work."""
    for name, kind, offset in [
        ("result one second before the resolve deadline", K.RESULT, -SECOND),
        ("result exactly at the resolve deadline", K.RESULT, timedelta(0)),
        ("result one second after the resolve deadline", K.RESULT, SECOND),
        ("check-out exactly at the resolve deadline", K.CHECK_OUT, timedelta(0)),
        ("check-out one second after the resolve deadline", K.CHECK_OUT, SECOND),
    ]:
        trail = corpus.trail(name, acted="handled", came="on_time")
        trail.own(K.CHECK_IN_ACCEPTED, DUE, "check-in")
        trail.own(kind, RESOLVE + offset, "work")
        trail.uses = {"work"}

    trail = corpus.trail("result and check-out at the same moment", acted="handled")
    trail.own(K.CHECK_IN_ACCEPTED, DUE, "check-in")
    trail.own(K.CHECK_OUT, RESOLVE, "check-out")
    trail.own(K.RESULT, RESOLVE, "result")
    trail.uses, trail.ignores = {"check-out"}, {"result"}
    trail.expect.update(settled=True, settled_at=RESOLVE)

    # The whole case's reworks count from after the first work, by sequence.
    trail = corpus.trail("case rework at the moment of the result, before it", rework_count=0)
    trail.own(K.CHECK_IN_ACCEPTED, DUE, "check-in")
    trail.whole_case(K.REWORK, RESOLVE, "rework")
    trail.own(K.RESULT, RESOLVE, "result")
    trail.ignores = {"rework"}

    trail = corpus.trail("case rework at the moment of the result, after it", rework_count=1)
    trail.own(K.CHECK_IN_ACCEPTED, DUE, "check-in")
    trail.own(K.RESULT, RESOLVE, "result")
    trail.whole_case(K.REWORK, RESOLVE, "rework")
    trail.uses = {"rework"}

    trail = corpus.trail("own rework before any work, then handled", rework_count=3)
    trail.own(K.CHECK_IN_ACCEPTED, DUE, "check-in")
    trail.own(K.REWORK, DUE, "own rework")
    trail.whole_case(K.REWORK, DUE, "early case rework")
    trail.own(K.RESULT, RESOLVE, "result")
    trail.own(K.REWORK, RESOLVE, "own rework after")
    trail.whole_case(K.REWORK, RESOLVE, "case rework")
    trail.own(K.CHECK_OUT, RESOLVE + SECOND, "check-out")
    trail.uses = {"own rework", "own rework after", "case rework", "result", "check-out"}
    trail.ignores = {"early case rework"}

    trail = corpus.trail("rework of a summons that never acted", rework_count=0)
    trail.own(K.REWORK, DUE, "rework")
    trail.whole_case(K.CLOSED, RESOLVE, "closed")
    trail.expect.update(acted="abandoned", came="no_show", settled_at=RESOLVE)
    trail.ignores = {"rework"}

    # Closed and checked out at the same moment: settled by the first, by sequence.
    trail = corpus.trail("closed and checked out at the same moment")
    trail.own(K.CHECK_IN_ACCEPTED, DUE, "check-in")
    trail.whole_case(K.CLOSED, RESOLVE, "closed")
    trail.own(K.CHECK_OUT, RESOLVE, "check-out")
    trail.expect.update(settled_at=RESOLVE, acted="handled")
    trail.uses = {"closed", "check-out"}

    trail = corpus.trail("checked out, then the case closed a second later")
    trail.own(K.CHECK_IN_ACCEPTED, DUE, "check-in")
    trail.own(K.CHECK_OUT, RESOLVE - SECOND, "check-out")
    trail.whole_case(K.CLOSED, RESOLVE, "closed")
    trail.expect.update(settled_at=RESOLVE - SECOND, acted="handled")
    trail.uses, trail.ignores = {"check-out"}, {"closed"}

    # Past the handling deadline and unfinished: counted from the sweep's event, not acted;
    # "did it come" by its own rule; derived as usual once it settles.
    trail = corpus.trail("handling overdue, unfinished", came="on_time", acted="abandoned")
    trail.own(K.CHECK_IN_ACCEPTED, DUE, "check-in")
    trail.own(K.RESOLVE_OVERDUE, RESOLVE + MICRO, "handling overdue")
    trail.expect.update(settled=True, settled_at=RESOLVE + MICRO)
    trail.uses = {"check-in", "handling overdue"}

    trail = corpus.trail("handling overdue, never arrived nor recorded late", came="pending")
    trail.own(K.RESOLVE_OVERDUE, RESOLVE + SECOND, "handling overdue")
    trail.expect.update(settled=True, settled_at=RESOLVE + SECOND, acted="abandoned")
    trail.uses = {"handling overdue"}

    trail = corpus.trail("handling overdue after arrival overdue", came="no_show")
    trail.own(K.ARRIVE_OVERDUE, DUE + SECOND, "arrival overdue")
    trail.own(K.RESOLVE_OVERDUE, RESOLVE + SECOND, "handling overdue")
    trail.expect.update(settled=True, settled_at=RESOLVE + SECOND, acted="abandoned")
    trail.uses = {"arrival overdue", "handling overdue"}

    trail = corpus.trail("handling overdue, then a result", acted="handled")
    trail.own(K.CHECK_IN_ACCEPTED, DUE, "check-in")
    trail.own(K.RESOLVE_OVERDUE, RESOLVE + SECOND, "handling overdue")
    trail.own(K.RESULT, RESOLVE + MINUTE, "result")
    trail.expect.update(settled=True, settled_at=RESOLVE + SECOND)
    trail.uses = {"handling overdue", "result"}

    trail = corpus.trail("handling overdue, then checked out", acted="handled")
    trail.own(K.CHECK_IN_ACCEPTED, DUE, "check-in")
    trail.own(K.RESOLVE_OVERDUE, RESOLVE + SECOND, "handling overdue")
    trail.own(K.CHECK_OUT, RESOLVE + MINUTE, "check-out")
    trail.expect.update(settled=True, settled_at=RESOLVE + MINUTE)
    trail.uses, trail.ignores = {"check-out"}, {"handling overdue"}

    # The township's latest rating, by sequence at the same moment.
    trail = corpus.trail("two ratings at the same moment", rating=2, rating_comment="后者")
    trail.own(K.CHECK_IN_ACCEPTED, DUE, "check-in")
    trail.own(K.RESULT, RESOLVE, "result")
    trail.whole_case(K.CLOSED, RESOLVE, "closed")
    trail.own(AssessmentEventKind.RATED, RESOLVE + MINUTE, "first", rating=5, comment="前者")
    trail.own(AssessmentEventKind.RATED, RESOLVE + MINUTE, "second", rating=2, comment="后者")
    trail.uses, trail.ignores = {"second"}, {"first"}


def months(corpus: Corpus) -> None:
    """A record belongs to the Beijing month of the summons, and to that month's scheme."""
    for name, summoned, month in [
        ("summoned 23:59:59 on 31 July, Beijing", datetime(2026, 7, 31, 15, 59, 59, tzinfo=UTC), 7),
        (
            "summoned 23:59:59.999999 on 31 July",
            datetime(2026, 7, 31, 15, 59, 59, 999999, tzinfo=UTC),
            7,
        ),
        ("summoned 00:00:00 on 1 August, Beijing", datetime(2026, 7, 31, 16, 0, 0, tzinfo=UTC), 8),
        ("summoned 23:59:59 on 30 June, Beijing", datetime(2026, 6, 30, 15, 59, 59, tzinfo=UTC), 6),
        ("summoned 00:00:00 on 1 July, Beijing", datetime(2026, 6, 30, 16, 0, 0, tzinfo=UTC), 7),
        (
            "summoned 23:59:59 on 28 February, Beijing",
            datetime(2026, 2, 28, 15, 59, 59, tzinfo=UTC),
            2,
        ),
        ("summoned 07:59:59 on 1 March, Beijing", datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC), 3),
    ]:
        trail = corpus.trail(name, summoned, month=date(2026, month, 1), came="on_time")
        assert trail.due is not None
        trail.own(K.CHECK_IN_ACCEPTED, trail.due, "check-in")
        trail.own(K.CHECK_OUT, trail.due + MINUTE, "check-out")
        trail.uses = {"check-in", "check-out"}
    # Before 1992 Beijing had summer time some years (UTC+9 from April to September 1991):
    # the SQL reads those months from the time zone's rules, later ones with the fixed offset.
    for name, summoned, first in [
        (
            "summoned 00:30 on 1 August 1991, summer time",
            datetime(1991, 7, 31, 15, 30, tzinfo=UTC),
            date(1991, 8, 1),
        ),
        (
            "summoned 23:59:59 on 31 December 1991",
            datetime(1991, 12, 31, 15, 59, 59, tzinfo=UTC),
            date(1991, 12, 1),
        ),
        (
            "summoned 00:00 on 1 January 1992",
            datetime(1991, 12, 31, 16, 0, tzinfo=UTC),
            date(1992, 1, 1),
        ),
    ]:
        trail = corpus.trail(name, summoned, month=first, came="on_time")
        assert trail.due is not None
        trail.own(K.CHECK_IN_ACCEPTED, trail.due, "check-in")
        trail.own(K.CHECK_OUT, trail.due + MINUTE, "check-out")
        trail.uses = {"check-in", "check-out"}


BUILDERS = (arrivals, deadlines_as_written, releases, declines, work_and_reworks, months)


def build(city: Any) -> list[Trail]:
    scheme_one_third(city.district, valid_from=date(1991, 1, 1))
    scheme_forty_percent(city.district, valid_from=date(2026, 8, 1))
    blower = make_person("edge-dispatcher", Role.DISPATCHER, jurisdiction=city.longtan)
    corpus = Corpus(city.longtan, city.urban_management, blower)
    for builder in BUILDERS:
        builder(corpus)
    return corpus.trails


def left_to_python() -> list[int]:
    """The cases the SQL hands to `derive_facts` (marked by the derivation itself)."""
    with transaction.atomic():
        Derivation(SchemeBook(), timezone.now()).create_tables()
        with connection.cursor() as cursor:
            cursor.execute(DERIVE, {"lo": 0, "hi": 2**62})
            cursor.execute("SELECT case_id FROM whistle_odd")
            return [row[0] for row in cursor.fetchall()]


def differences(
    trails: list[Trail], sql: dict[int, dict[str, Any]], python: dict[int, dict[str, Any]]
) -> list[str]:
    found = []
    for trail in trails:
        key = trail.summons.pk
        if (key in sql) != (key in python):
            found.append(f"{trail.name}: a record on one path only")
            continue
        for name in RECORD_FIELDS:
            if sql[key][name] != python[key][name]:
                found.append(f"{trail.name}: {name} {sql[key][name]!r} ≠ {python[key][name]!r}")
    return found


def surprises(trail: Trail, record: dict[str, Any]) -> list[str]:
    """What the Python record says that the trail was built not to."""
    found = [
        f"{trail.name}: {name} is {record[name]!r}, expected {value!r}"
        for name, value in trail.expect.items()
        if record[name] != value
    ]
    used = set(record["event_ids"])
    for name in trail.uses:
        if trail.events[name].pk not in used:
            found.append(f"{trail.name}: does not use {name}")
    for name in trail.ignores:
        if trail.events[name].pk in used:
            found.append(f"{trail.name}: uses {name}")
    return found


def test_the_sql_path_agrees_with_derive_facts_at_every_time_boundary(small_city, workers):
    trails = build(small_city)
    assert len({trail.name for trail in trails}) == len(trails)
    # Every trail here is one the SQL derives itself.
    assert left_to_python() == []

    assert recompute_all(in_sql=False) == len(trails)
    python = snapshot()
    records = python["records"]
    assert [s for t in trails for s in surprises(t, records[t.summons.pk])] == []

    SummonsAssessment.objects.all().delete()
    ScoreCell.objects.all().delete()
    DepartmentResult.objects.all().delete()
    assert recompute_all(in_sql=True, workers=workers) == len(trails)
    sql = snapshot()
    assert differences(trails, sql["records"], records) == []
    assert_same(sql, python)
    assert recompute_all(in_sql=False) == 0
    assert check_all() == []


def test_the_corpus_tells_apart_what_the_boundaries_decide(small_city):
    """Both sides of each boundary are in the corpus: the records differ where they should."""
    trails = build(small_city)
    recompute_all(in_sql=True)
    records = SummonsAssessment.objects.all()
    assert set(records.values_list("came", flat=True)) == {
        "on_time",
        "late",
        "no_show",
        "not_applicable",
        "pending",
    }
    assert set(records.filter(came="late").values_list("late_minutes", flat=True)) >= {
        1,
        2,
        5,
        10,
        11,
        1441,
    }
    months = set(records.values_list("month", flat=True))
    assert {date(2026, m, 1) for m in (2, 3, 6, 7, 8)} <= months
    assert records.values("scheme_id").distinct().count() == 2
    assert len(trails) == records.count()


# Deadline texts of every form the summons event could hold: the SQL reads a text itself only
# where PostgreSQL reads the moment Python's `datetime.fromisoformat` reads, and leaves the
# rest (those Python refuses with them) to `derive_facts`.
REFUSED_BY_PYTHON = [
    "2026-07-10T24:00+08:00",
    "2026-07-10T24:00:00+08:00",
    "2026-07-10T24:00:00.000000+08:00",
    "2026-07-10T09:29:60+08:00",
    "2026-12-31T23:59:60Z",
    "2026-07-10T09:60+08:00",
    "2026-02-29T09:30+08:00",
    "2026-04-31T09:30+08:00",
    "2026-13-10T09:30+08:00",
    "0000-07-10T09:30+08:00",
]
# Python reads these; PostgreSQL reads no offset of 16 hours or more, nor 60 minutes or more.
READ_BY_PYTHON_ALONE = [
    "2026-07-10T17:30+16:00",
    "2026-07-10T09:30+23:59",
    "2026-07-10T10:45+09:75",
]


def deadline_texts(rng: random.Random, count: int) -> list[str]:
    """Texts in the ISO form with each field drawn in and just out of its range."""
    texts = [*REFUSED_BY_PYTHON, *READ_BY_PYTHON_ALONE, "2028-02-29T23:59:59.999999+15:59"]
    for _ in range(count):
        year = rng.choice(["0000", "0001", "1970", "2024", "2026", "2028", "2100", "9999"])
        month = rng.choice(["00", "01", "02", "04", "09", "12", "13"])
        day = rng.choice(["00", "01", "28", "29", "30", "31", "32"])
        hour = rng.choice(["00", "09", "23", "24", "25"])
        minute = rng.choice(["00", "59", "60"])
        second = rng.choice(["", ":00", ":59", ":60", ":30.5", ":30.123456", ":30.1234567"])
        offset = rng.choice(["Z", "+08:00", "-05:30", "+15:59", "+16:00", "+08:60", "-00:00", ""])
        sep = rng.choice(["T", " "])
        texts.append(f"{year}-{month}-{day}{sep}{hour}:{minute}{second}{offset}")
    return texts


def python_reading(text: str) -> int | None:
    """Microseconds since 1970, as `derive_facts` reads the text; None where it refuses it
    or reads no offset (a moment without one is no instant to compare)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // MICRO


def test_the_sql_reads_a_deadline_text_only_as_python_reads_it():
    texts = deadline_texts(random.Random(2026), 3000)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT t, CASE WHEN {READABLE_DUE} THEN (extract(epoch FROM
                (e.data ->> 'arrive_due_at')::timestamptz) * 1000000)::bigint END
            FROM (SELECT t, jsonb_build_object('arrive_due_at', t) AS data
                FROM unnest(%s::text[]) AS t) AS e""",
            [texts],
        )
        read_in_sql = dict(cursor.fetchall())
    python = {text: python_reading(text) for text in texts}
    assert [t for t, us in read_in_sql.items() if us is not None and us != python[t]] == []
    for text in REFUSED_BY_PYTHON:
        assert python[text] is None and read_in_sql[text] is None, text
    for text in READ_BY_PYTHON_ALONE:
        assert python[text] is not None and read_in_sql[text] is None, text
    # The draw holds all three: read in SQL, refused by Python, read by Python alone.
    assert sum(us is not None for us in read_in_sql.values()) > 100
    assert sum(us is None for us in python.values()) > 100
    assert sum(read_in_sql[t] is None and python[t] is not None for t in texts) > 50


@pytest.mark.parametrize("text", ["2026-07-10T24:00+08:00", "2026-07-10T09:29:60+08:00"])
def test_a_deadline_text_python_refuses_fails_both_paths_alike(small_city, text):
    """`T24:00` and a 60th second, which PostgreSQL would read: the case is left to
    `derive_facts`, whose `fromisoformat` refuses the text on either path, and neither
    writes a record."""
    corpus = edge_corpus(small_city)
    plain = corpus.trail("deadline as written", came="on_time")
    plain.own(K.CHECK_IN_ACCEPTED, DUE, "check-in")
    trail = corpus.trail(f"deadline written {text}", due_text=lambda _due: text)
    trail.own(K.CHECK_IN_ACCEPTED, DUE, "check-in")
    assert left_to_python() == [trail.case.pk]
    refusals = []
    for in_sql in (False, True):
        with pytest.raises(ValueError) as refused:
            recompute_all(in_sql=in_sql)
        refusals.append(str(refused.value))
        assert not SummonsAssessment.objects.exists()
    assert refusals[0] == refusals[1]
    with pytest.raises(ValueError, match=re.escape(refusals[0])):
        datetime.fromisoformat(text)


def test_a_deadline_offset_postgresql_does_not_read_is_read_by_python(small_city):
    """The same moment with an offset of 16 hours or more: Python reads it, PostgreSQL would
    stop the statement; the case is left to `derive_facts` and both paths agree."""
    corpus = edge_corpus(small_city)
    far: list[Trail] = []
    for hours, minutes in ((16, 0), (23, 59)):
        zone = timezone_of(hours, minutes)
        trail = corpus.trail(
            f"deadline written at +{hours}:{minutes:02}",
            due_text=written_in(zone),
            came="on_time",
        )
        trail.own(K.CHECK_IN_ACCEPTED, DUE, "check-in")
        late = corpus.trail(
            f"deadline written at +{hours}:{minutes:02}, one second late",
            due_text=written_in(zone),
            came="late",
            late_minutes=1,
        )
        late.own(K.CHECK_IN_ACCEPTED, DUE + SECOND, "check-in")
        far += [trail, late]
    plain = corpus.trail("deadline as written, one second late", came="late", late_minutes=1)
    plain.own(K.CHECK_IN_ACCEPTED, DUE + SECOND, "check-in")
    assert sorted(left_to_python()) == sorted(t.case.pk for t in far)

    assert recompute_all(in_sql=False) == len(corpus.trails)
    python = snapshot()
    records = python["records"]
    assert [s for t in corpus.trails for s in surprises(t, records[t.summons.pk])] == []
    SummonsAssessment.objects.all().delete()
    ScoreCell.objects.all().delete()
    DepartmentResult.objects.all().delete()
    assert recompute_all(in_sql=True) == len(corpus.trails)
    assert_same(snapshot(), python)


def edge_corpus(city: Any) -> Corpus:
    scheme_one_third(city.district)
    blower = make_person("edge-dispatcher", Role.DISPATCHER, jurisdiction=city.longtan)
    return Corpus(city.longtan, city.urban_management, blower)


def timezone_of(hours: int, minutes: int) -> tzinfo:
    return dt_timezone(timedelta(hours=hours, minutes=minutes))


def written_in(zone: tzinfo) -> Callable[[datetime], str]:
    return lambda due: due.astimezone(zone).isoformat()


def test_events_with_ids_beyond_what_the_sql_packs_leave_their_cases_to_python(small_city):
    """The SQL reads an event's sequence and id as one number, which holds ids below 2^40:
    a case with an event beyond that is derived by `derive_facts`, and its records are the
    same either way."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Event._meta.db_table])
        sequence = cursor.fetchone()[0]
        cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
        last_value, is_called = cursor.fetchone()
        cursor.execute("SELECT setval(%s, %s, false)", [sequence, 2**40])
    try:
        trails = build(small_city)
        assert min(event.pk for trail in trails for event in trail.events.values()) >= 2**40
        recompute_all(in_sql=False)
        python = snapshot()
        assessed = set(SummonsAssessment.objects.values_list("case_id", flat=True))
        assert assessed and set(left_to_python()) == assessed
        SummonsAssessment.objects.all().delete()
        ScoreCell.objects.all().delete()
        DepartmentResult.objects.all().delete()
        recompute_all(in_sql=True)
        assert_same(snapshot(), python)
    finally:
        # A sequence is not rolled back with the test's transaction.
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(%s, %s, %s)", [sequence, last_value, is_called])
