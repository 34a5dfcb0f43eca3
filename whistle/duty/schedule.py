"""Who is on duty at a moment, and who comes next: the rotations worked out on the district's
working calendar, with the approved swaps and covers laid over them.

For a duty day D (Beijing time) the rotation that applies is the roster's every-day rotation,
or else its working-days or rest-days rotation as the calendar has D (public holidays rest,
moved workdays work). D begins at that rotation's first handover and each handover starts a
shift; the last shift runs until the next day begins, by the next day's own rotation. So a
night shift from 20:00 belongs to the day it started on: a summons at 00:30 reaches the
person who took over at 20:00. The member on duty is counted from the rotation's first day:
each shift, each day of the rotation's kind, or each week, in turn. The rules are written out
in docs/duty.md.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from django.db.models import Prefetch, Q
from django.utils.translation import gettext

from whistle.duty.models import DutyChange, Roster, Rotation, RotationMember
from whistle.organisation.models import CentreMembership, Department, Jurisdiction, Person
from whistle.policies.calendar import (
    LOCAL_TIME_ZONE,
    CalendarError,
    DayStatus,
    calendar_for,
    to_local,
)

ONE_DAY = timedelta(days=1)
# How far ahead "next" is looked for: a weekly rotation of one person has no next within it.
HORIZON = timedelta(days=15)
# Changes are loaded this much beyond a window, so that a shift reaching into it is whole.
_MARGIN = timedelta(days=2)
_CENTRE_ORDER: dict[str, int] = {
    CentreMembership.Role.CORE: 0,
    CentreMembership.Role.STATIONED: 1,
    CentreMembership.Role.ON_CALL: 2,
}


def span_text(starts_at: datetime, ends_at: datetime) -> str:
    """A span of time in Beijing time, read from its first day: 08:00–20:00 within a day,
    08:30–次日08:30 ("08:30–08:30 next day") when it ends the next day, and the end's
    date when later still, so that a 24-hour shift never reads as one of no length."""
    start, end = to_local(starts_at), to_local(ends_at)
    days = (end.date() - start.date()).days
    if days == 0:
        until = f"{end:%H:%M}"
    elif days == 1:
        until = gettext("%(time)s next day") % {"time": f"{end:%H:%M}"}
    else:
        until = f"{end:%m-%d %H:%M}"
    return f"{start:%H:%M}–{until}"


@dataclass(frozen=True)
class Shift:
    """A span of time with one person on duty (or nobody, when a rotation has no member)."""

    roster_id: int
    starts_at: datetime
    ends_at: datetime
    person: Person | None
    backup: Person | None
    # The duty day (Beijing time) it belongs to, and whether that is a working day.
    day: date
    is_working_day: bool
    rotation: Rotation | None = None
    # The approved swap or cover that put `person` here; None for the rotation's own turn.
    change: DutyChange | None = None

    def contains(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at

    @property
    def person_id(self) -> int | None:
        return self.person.pk if self.person is not None else None

    @property
    def backup_id(self) -> int | None:
        return self.backup.pk if self.backup is not None else None

    @property
    def span(self) -> str:
        """The shift's times as the pages show them, e.g. 08:30–次日08:30."""
        return span_text(self.starts_at, self.ends_at)

    @property
    def position(self) -> tuple[float, float] | None:
        """Where the person on duty waits (the rotation's on-duty position), if set; a cover
        laid over a rotation's shift keeps the shift's position."""
        return self.rotation.post if self.rotation is not None else None


@dataclass(frozen=True)
class OnDuty:
    """A roster at one moment: the shift running now and the next one with someone else."""

    roster: Roster
    now: Shift | None
    next: Shift | None


class _Days:
    """One district's calendar, read day by day and remembered: which days are working days,
    and how many of a kind lie between two dates."""

    def __init__(self, district: Jurisdiction | None) -> None:
        self.calendar = calendar_for(district)
        self.working: dict[date, bool] = {}
        self.counted: dict[tuple[bool, date], tuple[date, int]] = {}

    def is_working(self, day: date) -> bool:
        if day not in self.working:
            try:
                self.working[day] = self.calendar.is_working_day(day)
            except CalendarError:
                # A roster must answer even where the calendar refuses a deadline: a year
                # not entered counts by the ordinary week.
                self.working[day] = day.weekday() < 5
        return self.working[day]

    def count(self, working: bool, first: date, before: date) -> int:
        """The days of the kind from `first` up to, not including, `before`."""
        if before <= first:
            return 0
        upto, total = self.counted.get((working, first), (first, 0))
        if upto > before:
            upto, total = first, 0
        day = upto
        while day < before:
            total += self.is_working(day) == working
            day += ONE_DAY
        self.counted[(working, first)] = (before, total)
        return total


def _local_start(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=LOCAL_TIME_ZONE)


def _members(rotation: Rotation) -> list[RotationMember]:
    return sorted(rotation.members.all(), key=lambda m: m.position)


class Schedule:
    """Rosters read once (rotations, members, approved changes) for a window of time.

    Build one per page or per summons with `Schedule.load`; its answers hold for moments
    within the window it was loaded for.
    """

    def __init__(self, rosters: Iterable[Roster], changes: Iterable[DutyChange]) -> None:
        self.rosters = list(rosters)
        self._changes: dict[int, list[DutyChange]] = {}
        for change in sorted(changes, key=lambda c: (c.decided_at or c.requested_at, c.pk)):
            self._changes.setdefault(change.roster_id, []).append(change)
        self._days: dict[int | None, _Days] = {}

    @classmethod
    def load(cls, rosters: Iterable[Roster], start: datetime, end: datetime) -> Schedule:
        """Read the rosters' rules and their approved changes for [start, end)."""
        ids = [r.pk for r in rosters]
        loaded = list(
            Roster.objects.filter(pk__in=ids)
            .select_related("department__district", "township__parent")
            .prefetch_related(
                Prefetch(
                    "rotations",
                    queryset=Rotation.objects.prefetch_related(
                        Prefetch(
                            "members",
                            queryset=RotationMember.objects.select_related("person", "backup"),
                        )
                    ),
                )
            )
        )
        order = {pk: n for n, pk in enumerate(ids)}
        loaded.sort(key=lambda r: order[r.pk])
        low, high = start - _MARGIN, end + _MARGIN
        changes = DutyChange.objects.filter(
            roster__in=ids, status=DutyChange.Status.APPROVED
        ).filter(
            Q(starts_at__lt=high, ends_at__gt=low)
            | Q(swap_starts_at__lt=high, swap_ends_at__gt=low)
        )
        return cls(loaded, changes.select_related("person", "replaces"))

    # --- the rotations ------------------------------------------------------------------

    def _days_of(self, roster: Roster) -> _Days:
        district = roster.district
        key = district.pk if district is not None else None
        if key not in self._days:
            self._days[key] = _Days(district)
        return self._days[key]

    def rotation_on(self, roster: Roster, day: date) -> Rotation | None:
        """The rotation that applies on a duty day, if any has begun by then and not ended."""
        rotations = {r.days: r for r in roster.rotations.all()}
        every = rotations.get(Rotation.Days.EVERY_DAY)
        if every is not None:
            chosen: Rotation | None = every
        elif self._days_of(roster).is_working(day):
            chosen = rotations.get(Rotation.Days.WORKING_DAYS)
        else:
            chosen = rotations.get(Rotation.Days.REST_DAYS)
        if chosen is None or chosen.starts_on > day:
            return None
        if chosen.ends_on is not None and chosen.ends_on < day:
            return None
        return chosen

    def _turn(self, roster: Roster, rotation: Rotation, day: date, index: int) -> int:
        """How many turns have passed on `day`'s shift `index` since the rotation began."""
        if rotation.turn == Rotation.Turn.WEEK:
            return (day - rotation.starts_on).days // 7
        if rotation.days == Rotation.Days.EVERY_DAY:
            days = (day - rotation.starts_on).days
        else:
            working = rotation.days == Rotation.Days.WORKING_DAYS
            days = self._days_of(roster).count(working, rotation.starts_on, day)
        if rotation.turn == Rotation.Turn.DAY:
            return days
        return days * len(rotation.handover_times) + index

    def day_start(self, roster: Roster, day: date, fallback: time) -> datetime:
        rotation = self.rotation_on(roster, day)
        first = rotation.handover_times[0] if rotation is not None else fallback
        return _local_start(day, first)

    def _day_shifts(self, roster: Roster, day: date) -> list[Shift]:
        rotation = self.rotation_on(roster, day)
        if rotation is None:
            return []
        handovers = rotation.handover_times
        members = _members(rotation)
        working = self._days_of(roster).is_working(day)
        shifts = []
        for index, moment in enumerate(handovers):
            start = _local_start(day, moment)
            if index + 1 < len(handovers):
                end = _local_start(day, handovers[index + 1])
            else:
                end = self.day_start(roster, day + ONE_DAY, handovers[0])
            person = backup = None
            if members:
                turn = self._turn(roster, rotation, day, index)
                member = members[turn % len(members)]
                person = member.person
                backup = member.backup
                if backup is None and len(members) > 1:
                    backup = members[(turn + 1) % len(members)].person
                if backup is not None and backup.pk == person.pk:
                    backup = None
            shifts.append(
                Shift(roster.pk, start, end, person, backup, day, working, rotation=rotation)
            )
        return shifts

    # --- shifts with the changes laid over ----------------------------------------------

    def shifts(self, roster: Roster, start: datetime, end: datetime) -> list[Shift]:
        """Every shift of the roster that overlaps [start, end), whole, in time order, with
        the approved swaps and covers laid over the rotations (the later decision wins). A
        cover over time no rotation fills is the duty there by itself."""
        first = to_local(start).date() - ONE_DAY
        last = to_local(end).date()
        base: list[Shift] = []
        day = first
        while day <= last:
            base.extend(self._day_shifts(roster, day))
            day += ONE_DAY
        changes = self._changes.get(roster.pk, [])
        periods = [(s, u, pid, c) for c in changes for s, u, pid in c.periods()]
        people = {p.pk: p for c in changes for p in (c.person, c.replaces) if p is not None}
        low = _local_start(first, time(0))
        high = max([_local_start(last + ONE_DAY, time(0)), *(s.ends_at for s in base)])
        cuts = {s.starts_at for s in base} | {s.ends_at for s in base}
        cuts |= {m for s, u, _p, _c in periods for m in (s, u) if low <= m <= high}
        if periods:
            cuts |= {low, high}
        ordered = sorted(cuts)
        pieces: list[Shift] = []
        for since, until in itertools.pairwise(ordered):
            shift = next((s for s in base if s.starts_at <= since < s.ends_at), None)
            covering = [p for p in periods if p[0] <= since < p[1]]
            if covering:
                piece = _covered(shift, covering[-1], people, roster.pk, self)
            elif shift is not None:
                piece = shift
            else:
                continue
            piece = replace(piece, starts_at=since, ends_at=until)
            last_piece = pieces[-1] if pieces else None
            if last_piece is not None and _same_piece(last_piece, piece):
                pieces[-1] = replace(last_piece, ends_at=until)
            else:
                pieces.append(piece)
        return [s for s in pieces if s.starts_at < end and s.ends_at > start]

    def is_working(self, roster: Roster, day: date) -> bool:
        return self._days_of(roster).is_working(day)

    def on_duty(self, roster: Roster, at: datetime) -> OnDuty:
        """The shift running at `at` (with the same person's following shifts joined to it)
        and the next shift with someone else on duty."""
        runs = _runs(self.shifts(roster, at, at + HORIZON))
        now = next((r for r in runs if r.contains(at)), None)
        later = [r for r in runs if r.starts_at > at]
        return OnDuty(roster, now, later[0] if later else None)


def _covered(
    shift: Shift | None,
    period: tuple[datetime, datetime, int, DutyChange],
    people: dict[int, Person],
    roster_id: int,
    schedule: Schedule,
) -> Shift:
    """The duty where an approved change covers it: the change's person on duty, the
    rotation's backup staying (or, should the backup be that person, the one replaced)."""
    since, _until, person_id, change = period
    person = people[person_id]
    if shift is None:
        roster = next(r for r in schedule.rosters if r.pk == roster_id)
        day = to_local(since).date()
        return Shift(
            roster_id,
            since,
            since,
            person,
            None,
            day,
            schedule.is_working(roster, day),
            change=change,
        )
    backup = shift.backup
    if backup is not None and backup.pk == person.pk:
        backup = shift.person if shift.person_id != person.pk else None
    return replace(shift, person=person, backup=backup, change=change)


def _same_piece(a: Shift, b: Shift) -> bool:
    """Two pieces of one shift with nothing between them that differs."""
    return (
        a.ends_at == b.starts_at
        and a.day == b.day
        and a.rotation is b.rotation
        and a.person_id == b.person_id
        and a.backup_id == b.backup_id
        and a.change is b.change
    )


def _runs(shifts: list[Shift]) -> list[Shift]:
    """Shifts with the same person and backup one after another, joined."""
    runs: list[Shift] = []
    for shift in shifts:
        last = runs[-1] if runs else None
        if (
            last is not None
            and last.ends_at == shift.starts_at
            and last.person_id == shift.person_id
            and last.backup_id == shift.backup_id
        ):
            runs[-1] = replace(last, ends_at=shift.ends_at, change=last.change or shift.change)
        else:
            runs.append(shift)
    return runs


# --- Questions the other apps ask ---------------------------------------------------------


def department_rosters(department: Department) -> list[Roster]:
    """The department's own roster and its rosters in townships' enforcement centres."""
    return list(
        Roster.objects.filter(department=department)
        .select_related("department", "township")
        .order_by("township__code")
    )


def township_rosters(township: Jurisdiction) -> list[Roster]:
    """The township's command centre roster, then those of its enforcement centre's
    members: the core team, the stationed departments, the departments on call."""
    rosters = list(
        Roster.objects.filter(township=township).select_related("department", "township")
    )
    if not any(r.department_id for r in rosters):
        return rosters
    roles: dict[int | None, str] = dict(
        CentreMembership.objects.filter(township=township).values_list("department_id", "role")
    )
    return sorted(
        rosters,
        key=lambda r: (
            r.department_id is not None,
            _CENTRE_ORDER.get(roles.get(r.department_id, ""), 3),
            r.department.name if r.department else "",
        ),
    )


def on_duty(unit: Department | Jurisdiction, at: datetime) -> list[OnDuty]:
    """Who is on duty at `at`, and next: for a department, on its own roster; for a
    township, on its command centre's roster and on each centre member's."""
    if isinstance(unit, Department):
        rosters = [r for r in department_rosters(unit) if r.township_id is None]
    else:
        rosters = township_rosters(unit)
    schedule = Schedule.load(rosters, at, at + HORIZON)
    return [schedule.on_duty(roster, at) for roster in schedule.rosters]


def duty_for(department: Department, township: Jurisdiction | None, at: datetime) -> OnDuty | None:
    """The duty that answers a summons of the department to a case in the township: its
    people in the township's enforcement centre when someone is on duty there, else its own
    roster's; None when neither has anyone on duty."""
    rosters = Roster.objects.filter(department=department).filter(
        Q(township__isnull=True) | Q(township=township)
    )
    ordered = sorted(rosters, key=lambda r: r.township_id is None)
    if not ordered:
        return None
    schedule = Schedule.load(ordered, at, at + HORIZON)
    for roster in schedule.rosters:
        duty = schedule.on_duty(roster, at)
        if duty.now is not None and duty.now.person is not None:
            return duty
    return None


def board(rosters: list[Roster], at: datetime) -> list[OnDuty]:
    """Several rosters at one moment, in the order given, read in a few queries."""
    schedule = Schedule.load(rosters, at, at + HORIZON)
    return [schedule.on_duty(r, at) for r in schedule.rosters]


@dataclass(frozen=True)
class DutyDay:
    """One duty day of a roster as its page shows it: the calendar's word on the day
    (None where the calendar refuses a year it does not know) and the shifts that begin on it,
    swaps and covers laid over."""

    day: date
    status: DayStatus | None
    is_working_day: bool
    shifts: list[Shift]


def days_ahead(roster: Roster, first: date, count: int) -> list[DutyDay]:
    """The roster's duty days from `first` (Beijing time), `count` of them."""
    start = _local_start(first, time(0))
    end = _local_start(first + count * ONE_DAY, time(0))
    schedule = Schedule.load([roster], start, end + ONE_DAY)
    (loaded,) = schedule.rosters
    calendar = calendar_for(loaded.district)
    shifts = schedule.shifts(loaded, start, end + ONE_DAY)
    found = []
    for n in range(count):
        day = first + n * ONE_DAY
        try:
            status: DayStatus | None = calendar.day(day)
        except CalendarError:
            status = None
        found.append(
            DutyDay(
                day,
                status,
                schedule.is_working(loaded, day),
                [s for s in shifts if to_local(s.starts_at).date() == day],
            )
        )
    return found
