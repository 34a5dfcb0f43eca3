"""Who keeps and sees the stationed staff, and what a month of attendance says.

- The roster (add, change, end a stationing) is kept by the township's chief of lanes and
  its chiefs' office.
- Attendance is signed by the stationed person on their phone, or recorded by the centre's
  keeper: the township's dispatchers (the command centre runs the enforcement centre's
  hall), its chief of lanes and its chiefs' office.
- Leave is asked by the stationed person and decided by the township's chief of lanes or its
  chiefs' office, never by the person who asked.
- The monthly assessment is published by the township's chief of lanes or its assessors,
  never about oneself. The department's head sees its people's assessments; each stationed
  person sees their own.

A day is a working day by the district's working calendar (`whistle.policies.calendar`). A
working day of a stationing, up to yesterday, with neither a sign-in nor approved leave is an
absence without leave.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Q, QuerySet

from whistle.assessment.models import SummonsAssessment
from whistle.cases.models import Event
from whistle.cases.trail import EventKind
from whistle.organisation.models import Jurisdiction, Role, RoleAssignment
from whistle.policies.calendar import calendar_for
from whistle.township.permissions import grants, jurisdictions_of
from whistle.township.stationed import (
    StationedAttendance,
    StationedLeave,
    Stationing,
)

ROSTER_KEEPERS = (Role.TOWNSHIP_CHIEF, Role.CHIEFS_OFFICE)
CENTRE_KEEPERS = (Role.DISPATCHER, Role.TOWNSHIP_CHIEF, Role.CHIEFS_OFFICE)
LEAVE_DECIDERS = (Role.TOWNSHIP_CHIEF, Role.CHIEFS_OFFICE)
STATIONED_ASSESSORS = (Role.TOWNSHIP_CHIEF, Role.TOWNSHIP_ASSESSOR)
STATIONED_READERS = (
    Role.TOWNSHIP_CHIEF,
    Role.CHIEFS_OFFICE,
    Role.DISPATCHER,
    Role.TOWNSHIP_ASSESSOR,
)
# Who may be stationed: the department's own staff.
DEPARTMENT_STAFF = (Role.DEPARTMENT_OFFICER, Role.DEPARTMENT_HEAD)
# Who sees all the department's people's assessments; each person sees their own.
DEPARTMENT_READERS = (Role.DEPARTMENT_HEAD,)

# The trail events that show a person answered a summons themselves.
OWN_SUMMONS_EVENTS = (
    EventKind.ACKNOWLEDGED,
    EventKind.CHECK_IN_ACCEPTED,
    EventKind.CHECK_IN_FLAGGED,
)


def townships_kept(person: Any, roles: tuple[str, ...] = STATIONED_READERS) -> list[Jurisdiction]:
    ids = sorted(jurisdictions_of(person, roles))
    return list(
        Jurisdiction.objects.filter(pk__in=ids, level=Jurisdiction.Level.TOWNSHIP).order_by("code")
    )


def departments_read(person: Any) -> set[int]:
    """The departments whose stationed people's assessments the person sees."""
    if person is None or not getattr(person, "is_active", False) or not person.pk:
        return set()
    return set(
        RoleAssignment.objects.held_by(person)
        .filter(role__in=DEPARTMENT_READERS, department__isnull=False)
        .values_list("department_id", flat=True)
    )


def visible_stationings(person: Any) -> QuerySet[Stationing]:
    """Those of the townships the person reads the roster of."""
    townships = sorted(jurisdictions_of(person, STATIONED_READERS))
    return Stationing.objects.filter(membership__township_id__in=townships)


def own_stationings(person: Any, day: date) -> QuerySet[Stationing]:
    """The person's own stationings that cover the day."""
    if person is None or not person.pk:
        return Stationing.objects.none()
    return Stationing.objects.filter(person=person).active_on(day)


def holds(person: Any, roles: tuple[str, ...], township_id: int) -> bool:
    held = grants(person)
    return any((role, township_id) in held for role in roles)


def month_days(month: date) -> list[date]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return [first + timedelta(days=n) for n in range((following - first).days)]


@dataclass
class MonthAttendance:
    """A stationing's month: its working days so far, signed, on leave and absent."""

    stationing: Stationing
    working_days: list[date] = field(default_factory=list)
    signed: set[date] = field(default_factory=set)
    on_leave: set[date] = field(default_factory=set)
    absent: list[date] = field(default_factory=list)

    @property
    def facts(self) -> dict[str, Any]:
        return {
            "working_days": len(self.working_days),
            "signed": len(self.signed & set(self.working_days)),
            "on_leave": len(self.on_leave & set(self.working_days)),
            "absent": len(self.absent),
            "absent_days": [d.isoformat() for d in self.absent],
        }


def month_attendance(
    stationings: list[Stationing], month: date, today: date
) -> dict[int, MonthAttendance]:
    """Each stationing's attendance in the month, counting working days up to yesterday
    (today is not over), in three queries whatever the number of people."""
    ids = [s.pk for s in stationings]
    days = month_days(month)
    first, last = days[0], days[-1]
    signed: dict[int, set[date]] = defaultdict(set)
    for stationing_id, day in StationedAttendance.objects.filter(
        stationing_id__in=ids, day__gte=first, day__lte=last
    ).values_list("stationing_id", "day"):
        signed[stationing_id].add(day)
    leave: dict[int, set[date]] = defaultdict(set)
    for stationing_id, start, end in StationedLeave.objects.filter(
        stationing_id__in=ids,
        state=StationedLeave.State.APPROVED,
        first_day__lte=last,
        last_day__gte=first,
    ).values_list("stationing_id", "first_day", "last_day"):
        for day in days:
            if start <= day <= end:
                leave[stationing_id].add(day)
    found = {}
    calendars: dict[int, Any] = {}
    for stationing in stationings:
        district_id = stationing.membership.township.parent_id or 0
        if district_id not in calendars:
            calendars[district_id] = calendar_for(stationing.membership.township)
        calendar = calendars[district_id]
        row = MonthAttendance(
            stationing, signed=signed[stationing.pk], on_leave=leave[stationing.pk]
        )
        row.working_days = [
            d for d in days if d < today and stationing.covers(d) and calendar.is_working_day(d)
        ]
        row.absent = [d for d in row.working_days if d not in row.signed and d not in row.on_leave]
        found[stationing.pk] = row
    return found


def summons_facts(stationing: Stationing, month: date) -> dict[str, Any]:
    """The month's assessment records of the summonses the person answered themselves
    (acknowledged or checked in) for their department in the township."""
    days = month_days(month)
    summons_ids = set(
        Event.objects.filter(
            actor_id=stationing.person_id,
            kind__in=OWN_SUMMONS_EVENTS,
            summons__department_id=stationing.membership.department_id,
            summons__case__township_id=stationing.membership.township_id,
        ).values_list("summons_id", flat=True)
    )
    records = list(
        SummonsAssessment.objects.filter(
            summons_id__in=sorted(summons_ids),
            month=days[0],
            settled=True,
        ).values_list("came", "total")
    )
    totals = [t for _came, t in records if t is not None]
    mean = None if not totals else round(sum(totals) / len(totals), 2)
    return {
        "summonses": len(records),
        "came_late": sum(1 for came, _t in records if came == "late"),
        "no_show": sum(1 for came, _t in records if came == "no_show"),
        "mean_total": None if mean is None else str(mean),
    }


def awaiting_leave(townships: list[int]) -> QuerySet[StationedLeave]:
    return StationedLeave.objects.filter(
        Q(stationing__membership__township_id__in=townships), state=StationedLeave.State.ASKED
    )
