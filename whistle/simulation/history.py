"""A year of the simulated city's history, written in bulk.

Each case follows one of three courses: solved on the spot by whoever found it, dispatched
through the routine channel to one department, or a whistle that summons two or three
departments to the site. Every department answers as its behaviour says (punctual, slow,
often absent): its acknowledgement and arrival times are drawn from its profile, a
department that does not arrive in time gets the arrival-overdue event the worker would
have written at the deadline, and one that never comes leaves nothing but that. Then the
township checks, closes and evaluates the case.

Rows go in chunk by chunk: the cases, whistles and summonses with one bulk insert each, and
their trail events through `TrailBatch`, the deadline sweep's way of hashing a chunk's
events in order per case and inserting them together. The trail written here is the same
hash chain the actions write, so `whistle verify-trail` checks it and the assessment reads
it. The same seed, shape and end give the same history, row for row.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from whistle.cases.models import Case, Summons, Whistle
from whistle.cases.trail import EventKind, TrailBatch
from whistle.notifications.outbox import Outbox
from whistle.organisation.models import Person, Role
from whistle.policies.models import WhistleKind
from whistle.simulation.city import SimCity, SimDepartment, SimTownship

CHUNK = 1000
# No case is reported in the year's last two days, so that every course ends by its end.
LAST_REPORT_BEFORE_END = timedelta(days=2)
# What becomes of a case found on a lane (shares): about one summons a case, as in Beijing.
SOLVED_ON_SPOT = 0.15
WHISTLED = 0.10
# Reference numbers of simulated cases: S and nine digits (a real one never starts with S).
REFERENCE = "S{:09d}"
DESCRIPTIONS = (
    "巷口有流动摊贩占道经营",
    "路边堆放生活垃圾无人清运",
    "共享单车堆在巷口占了盲道",
    "楼道灭火器过期",
    "墙上贴满小广告",
    "私家车停在消防通道上",
    "门前堆放装修材料占道",
    "临街外墙墙皮脱落",
)


@dataclass
class Step:
    """One event of a case's course, before it is hashed onto the trail."""

    at: datetime
    kind: str
    actor_id: int | None
    role: str
    summons: Summons | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Course:
    """One case with its whistle, summonses and the events of its course."""

    case: Case
    township: SimTownship
    whistle: Whistle | None = None
    summonses: list[Summons] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)

    def add(self, at: datetime, kind: str, actor_id: int | None, role: str, **more: Any) -> None:
        self.steps.append(Step(at, kind, actor_id, role, **more))


@dataclass
class Written:
    cases: int = 0
    whistles: int = 0
    summonses: int = 0
    events: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _minutes(rng: random.Random, bounds: tuple[float, float]) -> timedelta:
    return timedelta(minutes=round(rng.uniform(*bounds), 2))


class Year:
    """Plans and writes the year: `write` inserts `cases` cases reported between `start` and
    `end` (every course finished by `end`), `progress` hears how far it got."""

    def __init__(self, city: SimCity, *, start: datetime, end: datetime, cases: int) -> None:
        self.city = city
        self.start, self.end, self.total = start, end, cases
        self.rng = random.Random(f"{city.seed}|history")
        self.township_weights = [len(t.lanes) for t in city.townships]
        self._people: dict[int, Person] = {}

    def courses(self) -> Iterator[list[Course]]:
        """The year's courses, chunk by chunk, in the order they were reported."""
        # Reported moments in order, so that case ids run with time as in a real city. None
        # in the last two days: the longest course, to its closing and check-outs, takes
        # about 32 hours (a slow department's dispatch); the evaluation comes in the time left.
        span = (self.end - self.start - LAST_REPORT_BEFORE_END).total_seconds()
        offsets = sorted(self.rng.uniform(0, span) for _ in range(self.total))
        for first in range(0, self.total, CHUNK):
            yield [
                self._course(first + n + 1, self.start + timedelta(seconds=offset))
                for n, offset in enumerate(offsets[first : first + CHUNK])
            ]

    def write(self, progress: Callable[[Written], None] | None = None) -> Written:
        """Write the year; call inside a transaction (the trail's rule)."""
        written = Written()
        for chunk in self.courses():
            self._insert(chunk, written)
            if progress is not None:
                progress(written)
        return written

    # Planning ------------------------------------------------------------------------------

    def _course(self, number: int, reported_at: datetime) -> Course:
        rng = self.rng
        township = rng.choices(self.city.townships, self.township_weights)[0]
        lane = rng.choice(township.lanes)
        reporter_id, reporter_role = (
            rng.choice(township.reporters)
            if township.reporters
            else (township.dispatcher_id, Role.DISPATCHER)
        )
        case = Case(
            uuid=uuid.UUID(int=rng.getrandbits(128), version=4),
            reference=REFERENCE.format(number),
            source=Case.Source.STEWARD if reporter_role == Role.STEWARD else Case.Source.CHIEF,
            description=rng.choice(DESCRIPTIONS),
            lon=round(lane.lon + rng.uniform(-0.0003, 0.0003), 6),
            lat=round(lane.lat + rng.uniform(-0.00005, 0.00005), 6),
            accuracy_m=round(rng.uniform(4, 20), 1),
            district_id=township.district_id,
            township_id=township.pk,
            community_id=lane.community_id,
            lane_id=lane.pk,
            reporter_id=reporter_id,
            reported_at=reported_at,
        )
        course = Course(case, township)
        course.add(
            reported_at,
            EventKind.CASE_REPORTED,
            reporter_id,
            reporter_role,
            data={"source": case.source, "description": case.description},
        )
        draw = rng.random()
        if draw < SOLVED_ON_SPOT:
            self._solved_on_spot(course, reporter_id, reporter_role)
            return self._within_the_year(course)
        filed = reported_at + _minutes(rng, (3, 40))
        case.status, case.filed_at = Case.Status.FILED, filed
        course.add(filed, EventKind.CASE_FILED, township.dispatcher_id, Role.DISPATCHER)
        departments = self.city.departments[township.district_id]
        if draw < SOLVED_ON_SPOT + WHISTLED:
            chosen = rng.sample(departments, rng.choice((2, 2, 3)))
            done = self._whistle(course, township, chosen, filed + _minutes(rng, (1, 10)))
        else:
            done = self._dispatch(course, township, rng.choice(departments), filed)
        self._close(course, township, done)
        return self._within_the_year(course)

    def _within_the_year(self, course: Course) -> Course:
        """The course, whose every step falls by the year's end: a trail never runs ahead of
        the clock, and a history that ends now must not hold tomorrow's events."""
        last = max(course.steps, key=lambda step: step.at)
        if last.at > self.end:
            raise ValueError(
                f"{course.case.reference}: {last.kind} at {last.at.isoformat()}, "
                f"after the year's end ({self.end.isoformat()})"
            )
        return course

    def _solved_on_spot(self, course: Course, actor_id: int, role: str) -> None:
        case = course.case
        case.status = Case.Status.CLOSED
        case.closed_at = case.reported_at + _minutes(self.rng, (5, 30))
        course.add(
            case.closed_at, EventKind.SOLVED_ON_SPOT, actor_id, role, data={"note": "已现场解决"}
        )

    def _summons(
        self,
        course: Course,
        department: SimDepartment,
        at: datetime,
        *,
        acknowledge_within: timedelta,
        arrive_within: timedelta | None,
        resolve_within: timedelta,
    ) -> Summons:
        summons = Summons(
            uuid=uuid.UUID(int=self.rng.getrandbits(128), version=4),
            case=course.case,
            whistle=course.whistle,
            department_id=department.pk,
            status=Summons.Status.SUMMONED,
            summoned_at=at,
            acknowledge_due_at=at + acknowledge_within,
            arrive_due_at=at + arrive_within if arrive_within is not None else None,
            resolve_due_at=at + resolve_within,
        )
        course.summonses.append(summons)
        return summons

    def _acknowledge(self, course: Course, summons: Summons, department: SimDepartment) -> None:
        summons.acknowledged_at = summons.summoned_at + _minutes(
            self.rng, department.behaviour.acknowledge_minutes
        )
        if summons.acknowledged_at > summons.acknowledge_due_at:
            summons.acknowledge_overdue_at = summons.acknowledge_due_at
            course.add(
                summons.acknowledge_due_at,
                EventKind.ACKNOWLEDGE_OVERDUE,
                None,
                "",
                summons=summons,
            )
        summons.acknowledged_by_id = department.officer_id
        summons.status = Summons.Status.ACKNOWLEDGED
        course.add(
            summons.acknowledged_at,
            EventKind.ACKNOWLEDGED,
            department.officer_id,
            Role.DEPARTMENT_OFFICER,
            summons=summons,
        )

    def _whistle(
        self,
        course: Course,
        township: SimTownship,
        departments: list[SimDepartment],
        blown_at: datetime,
    ) -> datetime:
        rng, case = self.rng, course.case
        kind = rng.choices(
            (WhistleKind.ROUTINE, WhistleKind.TOUGH, WhistleKind.EMERGENCY), (80, 15, 5)
        )[0]
        course.whistle = Whistle(
            uuid=uuid.UUID(int=rng.getrandbits(128), version=4),
            case=case,
            kind=kind,
            township_id=township.pk,
            blown_by_id=township.dispatcher_id,
            blown_at=blown_at,
            meeting_point="巷口",
        )
        case.status = Case.Status.WHISTLED
        course.add(
            blown_at,
            EventKind.WHISTLE_BLOWN,
            township.dispatcher_id,
            Role.DISPATCHER,
            data={"kind": kind, "departments": [d.pk for d in departments]},
        )
        finished = blown_at
        for department in departments:
            finished = max(finished, self._answer_whistle(course, department, blown_at))
        return finished

    def _answer_whistle(self, course: Course, department: SimDepartment, at: datetime) -> datetime:
        """The department's side of a whistle, as its behaviour says; when it is done."""
        rng, behaviour = self.rng, department.behaviour
        summons = self._summons(
            course,
            department,
            at,
            acknowledge_within=timedelta(minutes=10),
            arrive_within=timedelta(minutes=30),
            resolve_within=timedelta(hours=4),
        )
        self._summoned(course, summons)
        self._acknowledge(course, summons, department)
        arrive_due = summons.arrive_due_at
        assert arrive_due is not None
        absent = rng.random() < behaviour.absent_share
        arrives = None if absent else at + _minutes(rng, behaviour.arrive_minutes)
        if arrives is None or arrives > arrive_due:
            summons.arrive_overdue_at = arrive_due
            course.add(arrive_due, EventKind.ARRIVE_OVERDUE, None, "", summons=summons)
        if arrives is None:
            # What the worker records when the work is not done in time either.
            summons.resolve_overdue_at = summons.resolve_due_at
            course.add(summons.resolve_due_at, EventKind.RESOLVE_OVERDUE, None, "", summons=summons)
            return summons.resolve_due_at
        summons.arrived_at = arrives
        summons.status = Summons.Status.ON_SITE
        distance = round(rng.uniform(5, 150), 1)
        summons.arrived_distance_m = distance
        course.add(
            arrives,
            EventKind.CHECK_IN_ACCEPTED,
            department.officer_id,
            Role.DEPARTMENT_OFFICER,
            summons=summons,
            data={"distance_m": distance, "source": "device"},
        )
        return self._result(course, summons, department, arrives + _minutes(rng, (20, 150)))

    def _dispatch(
        self, course: Course, township: SimTownship, department: SimDepartment, filed: datetime
    ) -> datetime:
        rng, case = self.rng, course.case
        at = filed + _minutes(rng, (2, 30))
        case.status = Case.Status.DISPATCHED
        course.add(
            at, EventKind.DISPATCHED, township.dispatcher_id, Role.DISPATCHER, data={"note": ""}
        )
        summons = self._summons(
            course,
            department,
            at,
            acknowledge_within=timedelta(hours=1),
            arrive_within=None,
            resolve_within=timedelta(days=1),
        )
        self._summoned(course, summons)
        self._acknowledge(course, summons, department)
        # A slow department takes as many times longer over the work as over its arrival.
        factor = department.behaviour.arrive_minutes[1] / 26
        return self._result(course, summons, department, at + _minutes(rng, (60, 600 * factor)))

    def _summoned(self, course: Course, summons: Summons) -> None:
        whistle = course.whistle
        course.add(
            summons.summoned_at,
            EventKind.SUMMONED,
            course.township.dispatcher_id,
            Role.DISPATCHER,
            summons=summons,
            data={
                "whistle": whistle.kind if whistle is not None else None,
                "acknowledge_due_at": _iso(summons.acknowledge_due_at),
                "arrive_due_at": _iso(summons.arrive_due_at),
                "resolve_due_at": _iso(summons.resolve_due_at),
            },
        )

    def _result(
        self, course: Course, summons: Summons, department: SimDepartment, at: datetime
    ) -> datetime:
        if at > summons.resolve_due_at:
            summons.resolve_overdue_at = summons.resolve_due_at
            course.add(summons.resolve_due_at, EventKind.RESOLVE_OVERDUE, None, "", summons=summons)
        summons.done_at, summons.status = at, Summons.Status.DONE
        summons.result = "已处置完毕"
        course.add(
            at,
            EventKind.RESULT,
            department.officer_id,
            Role.DEPARTMENT_OFFICER,
            summons=summons,
            data={"result": summons.result},
        )
        return at

    def _close(self, course: Course, township: SimTownship, done: datetime) -> None:
        rng, case = self.rng, course.case
        dispatcher = township.dispatcher_id
        case.handled_at = done + _minutes(rng, (5, 60))
        case.checked_at = case.handled_at + _minutes(rng, (10, 120))
        case.closed_at = case.checked_at + _minutes(rng, (1, 30))
        # A department that never came is let go first: the case cannot be resolved with
        # a summons still waiting for its arrival (mark_handled).
        for summons in course.summonses:
            if summons.arrive_due_at is not None and summons.arrived_at is None:
                summons.status, summons.released_at = Summons.Status.RELEASED, case.handled_at
                course.add(
                    case.handled_at,
                    EventKind.RELEASED,
                    dispatcher,
                    Role.DISPATCHER,
                    summons=summons,
                    data={"note": "未到场，解除"},
                )
        course.add(case.handled_at, EventKind.HANDLED, dispatcher, Role.DISPATCHER)
        course.add(case.checked_at, EventKind.CHECK_PASSED, dispatcher, Role.DISPATCHER)
        course.add(case.closed_at, EventKind.CLOSED, dispatcher, Role.DISPATCHER)
        if course.whistle is not None:
            course.whistle.closed_at = case.closed_at
        for summons in course.summonses:
            if summons.status == Summons.Status.DONE and summons.arrived_at is not None:
                summons.left_at = case.closed_at + _minutes(rng, (1, 20))
                summons.status = Summons.Status.LEFT
                course.add(
                    summons.left_at,
                    EventKind.CHECK_OUT,
                    None,
                    Role.DEPARTMENT_OFFICER,
                    summons=summons,
                )
        case.status = Case.Status.EVALUATED
        # Up to two days after the closing, or by the end when it comes sooner: the last
        # cases are evaluated in the time left (at least the 16 hours the courses leave).
        left = (self.end - case.closed_at).total_seconds() / 60
        drawn = case.closed_at + _minutes(rng, (60, min(60 * 48, left)))
        case.evaluated_at = min(drawn, self.end)  # the draw is rounded to 0.01 minute
        case.township_rating = rng.choices((5, 4, 3, 2), (50, 35, 12, 3))[0]
        course.add(
            case.evaluated_at,
            EventKind.EVALUATED,
            dispatcher,
            Role.DISPATCHER,
            data={"rating": case.township_rating},
        )

    # Writing -------------------------------------------------------------------------------

    def _person(self, pk: int | None) -> Person | None:
        """An unsaved stand-in with the actor's id: the trail needs nothing else of it."""
        if pk is None:
            return None
        if pk not in self._people:
            self._people[pk] = Person(pk=pk)
        return self._people[pk]

    def _insert(self, courses: list[Course], written: Written) -> None:
        cases = Case.objects.bulk_create([c.case for c in courses])
        whistles = [c.whistle for c in courses if c.whistle is not None]
        Whistle.objects.bulk_create(whistles)
        summonses = [s for c in courses for s in c.summonses]
        for summons in summonses:
            # bulk_create read the ids back into the case and whistle objects.
            summons.case_id = summons.case.pk
            summons.whistle_id = summons.whistle.pk if summons.whistle is not None else None
        Summons.objects.bulk_create(summonses)
        # A past year is no news for the webhooks: what the batch queues there is dropped.
        batch = TrailBatch(Outbox())
        batch.load(cases)
        events = 0
        for course in courses:
            for step in sorted(course.steps, key=lambda s: s.at):
                if step.summons is not None:
                    step.summons.case = course.case
                batch.record(
                    course.case,
                    step.kind,
                    actor=self._person(step.actor_id),
                    role=step.role,
                    at=step.at,
                    summons=step.summons,
                    data=step.data,
                )
                events += 1
        batch.flush()
        written.cases += len(cases)
        written.whistles += len(whistles)
        written.summonses += len(summonses)
        written.events += events
