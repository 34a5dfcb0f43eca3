"""The chiefs' office assesses street and lane chiefs (街长 / 巷长) and recognises alley stewards
(小巷管家). Definitions in docs/assessment.md ("Chiefs and stewards").

For each chief and period:

- **patrols**: finished patrols the person started in the period in that role (count,
  distance), and per lane whether the lane was patrolled as often as the district requires
  (`PatrolRequirement`; default lane chiefs every 7 days, street chiefs every 14): a lane is
  covered when it had at least ⌊elapsed days of the period ÷ every_days⌋ patrols that each came
  near at least `min_coverage` of the lane (default half);
- **problems**: cases the person reported in that role in the period (the role named by the
  case's `case.reported` event), how many the township confirmed (filed: neither rejected
  nor merged), solved on the spot, whistled and closed, plus the problems their patrols'
  checklists noted without a case (found) and fixed on the spot;
- **how fast**: mean hours from the report to filing, to the first whistle and to closure;
- **training**: the training sessions held in the period the person attended, and the
  recognitions (表彰) the chiefs' offices recorded for them in the period
  (`whistle.patrols.training`).

A steward's contribution record counts the same patrols and problems, without requirement.
Every figure comes from a handful of grouped queries for the whole district.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from whistle.assessment.measures import (
    MICROSECONDS_PER_HOUR,
    duration,
    elapsed_days,
    mean_duration,
    period_bounds,
    rate,
)
from whistle.assessment.models import (
    DEFAULT_PATROL_EVERY_DAYS,
    DEFAULT_PATROL_MIN_COVERAGE,
    PatrolRequirement,
)
from whistle.assessment.periods import BEIJING, Period
from whistle.cases.models import Case, Event, Whistle
from whistle.cases.trail import EventKind
from whistle.organisation.models import Jurisdiction, Lane, Person, Role, RoleAssignment
from whistle.patrols.appointments import held_in
from whistle.patrols.models import (
    CheckResult,
    ChiefAppointment,
    Patrol,
    Recognition,
    TrainingAttendance,
)

CHIEF_ROLES = (Role.STREET_CHIEF, Role.LANE_CHIEF)
KILOMETRE = Decimal("1000")
CENT = Decimal("0.01")

PersonRole = tuple[int, str]


@dataclass(frozen=True)
class Requirement:
    """How often each lane of a chief of one role must be patrolled, and how much of the
    lane a patrol must cover to count."""

    role: str
    every_days: int
    min_coverage: Decimal
    # False when the district has not set it and the default applies.
    from_district: bool


def patrol_requirements(district: Jurisdiction) -> dict[str, Requirement]:
    """The district's patrol requirement of each chief role, the defaults filling gaps."""
    found = {
        row.role: Requirement(row.role, row.every_days, row.min_coverage, True)
        for row in PatrolRequirement.objects.filter(district=district)
    }
    return {
        role: found.get(
            role,
            Requirement(role, DEFAULT_PATROL_EVERY_DAYS[role], DEFAULT_PATROL_MIN_COVERAGE, False),
        )
        for role in CHIEF_ROLES
    }


def required_patrols(requirement: Requirement, period: Period, now: datetime) -> int:
    """Patrols of each lane required in the period by `now`: one per whole `every_days` of
    the days elapsed (4 for a lane chief in a 31-day month, 2 for a street chief)."""
    return elapsed_days(period, now) // requirement.every_days


@dataclass(frozen=True)
class LanePatrols:
    """One lane of a chief: its patrols in the period against the requirement."""

    lane: Lane
    patrols: int
    # Patrols that covered enough of the lane to count towards the requirement.
    counted: int
    required: int

    @property
    def due(self) -> bool:
        """Whether a whole patrol window of the lane has ended: until then nothing is
        required of it, and it counts neither for nor against the chief."""
        return self.required > 0

    @property
    def covered(self) -> bool:
        return self.counted >= self.required


@dataclass(frozen=True)
class Activity:
    """What one person did in one role in a period: patrols and the problems they found."""

    patrols: int
    distance_km: Decimal
    # Cases reported in the role; confirmed = filed by the township.
    reported: int
    confirmed: int
    # Problems found: cases reported plus checklist problems noted without a case.
    found: int
    # Cases solved on the spot plus checklist problems fixed on the spot.
    solved_on_spot: int
    whistled: int
    closed: int
    mean_hours_to_file: Decimal | None
    mean_hours_to_whistle: Decimal | None
    mean_hours_to_close: Decimal | None


@dataclass(frozen=True)
class ChiefScore:
    """A street or lane chief's assessment in a period."""

    person: Person
    role: str
    township: Jurisdiction
    requirement: Requirement
    lanes: tuple[LanePatrols, ...]
    activity: Activity
    # Training sessions attended and recognitions received in the period.
    trainings: int = 0
    recognitions: tuple[Recognition, ...] = ()

    @property
    def lanes_due(self) -> tuple[LanePatrols, ...]:
        """The lanes a whole patrol window of which has ended in the period so far."""
        return tuple(lane for lane in self.lanes if lane.due)

    @property
    def lanes_covered(self) -> int:
        return sum(1 for lane in self.lanes_due if lane.covered)

    @property
    def meets_requirement(self) -> bool | None:
        """Whether every lane due so far was patrolled as often as required; None while no
        patrol window has ended (nothing is required yet)."""
        if not self.lanes_due:
            return None
        return self.lanes_covered == len(self.lanes_due)

    @property
    def lane_coverage_rate(self) -> Decimal | None:
        """Lanes patrolled as often as required ÷ the chief's lanes that something is required
        of yet, in percent; None while no patrol window has ended."""
        return rate(self.lanes_covered, len(self.lanes_due))

    @property
    def role_label(self) -> str:
        return str(Role(self.role).label)


@dataclass(frozen=True)
class StewardContribution:
    """An alley steward's contribution record in a period, for recognition."""

    person: Person
    township: Jurisdiction
    lanes: tuple[Lane, ...]
    activity: Activity
    trainings: int = 0
    recognitions: tuple[Recognition, ...] = ()


def chief_scores(
    district: Jurisdiction,
    period_key: str,
    *,
    township: Jurisdiction | None = None,
    role: str | None = None,
    person: Person | None = None,
    now: datetime | None = None,
) -> list[ChiefScore]:
    """Every street and lane chief of the district (or of one township; or of one role; or
    one person alone) with their patrols against the requirement and the problems they
    found, in the period (2026, 2026-Q3, 2026-07). Ordered by township code, street chiefs
    first, then name. `now` decides how much of a running period has elapsed (default: the
    clock)."""
    period = Period.parse(period_key)
    roles = (role,) if role else CHIEF_ROLES
    if any(r not in CHIEF_ROLES for r in roles):
        raise ValueError(f"not a chief role: {role}")
    activities = _activities(district, period, roles)
    return _chief_scores(
        district, period, roles, township, now or timezone.now(), activities, person=person
    )


@dataclass(frozen=True)
class Standing:
    """A chief's own standing in the running month, in one role: the requirement that
    assesses them and how far they meet it, as the chiefs' office reads it."""

    score: ChiefScore
    period: Period
    # Days of the period left, today included.
    days_left: int

    @property
    def requirement(self) -> Requirement:
        return self.score.requirement

    @property
    def met(self) -> bool | None:
        return self.score.meets_requirement


def own_standing(person: Person, *, now: datetime | None = None) -> list[Standing]:
    """The person's standing as a street or lane chief in the running month, per role held:
    `chief_scores` of their district for them alone, the figures of the chiefs' page."""
    now = now or timezone.now()
    today = now.astimezone(BEIJING).date()
    period = Period.month_of(today)
    _start, end = period_bounds(period)
    days_left = (end.astimezone(BEIJING).date() - today).days
    districts = RoleAssignment.objects.filter(
        person=person, role__in=CHIEF_ROLES, lane__isnull=False
    ).values("lane__township__parent_id")
    standings = []
    for district in Jurisdiction.objects.filter(pk__in=districts).order_by("code"):
        for score in chief_scores(district, period.key, person=person, now=now):
            standings.append(Standing(score, period, days_left))
    return standings


def steward_contributions(
    district: Jurisdiction,
    period_key: str,
    *,
    township: Jurisdiction | None = None,
) -> list[StewardContribution]:
    """Every alley steward of the district (or of one township) with their patrols, reports
    and confirmed problems in the period, most confirmed problems first (then most patrols,
    then most reports, then name)."""
    period = Period.parse(period_key)
    activities = _activities(district, period, (Role.STEWARD,))
    return _steward_contributions(district, period, township, activities)


def chiefs_and_stewards(
    district: Jurisdiction,
    period_key: str,
    *,
    township: Jurisdiction | None = None,
    now: datetime | None = None,
) -> tuple[list[ChiefScore], list[StewardContribution]]:
    """`chief_scores` and `steward_contributions` together, reading what people did once."""
    period = Period.parse(period_key)
    activities = _activities(district, period, (*CHIEF_ROLES, Role.STEWARD))
    chiefs = _chief_scores(
        district, period, CHIEF_ROLES, township, now or timezone.now(), activities
    )
    return chiefs, _steward_contributions(district, period, township, activities)


def _chief_scores(
    district: Jurisdiction,
    period: Period,
    roles: tuple[str, ...],
    township: Jurisdiction | None,
    now: datetime,
    activities: dict[PersonRole, Activity],
    *,
    person: Person | None = None,
) -> list[ChiefScore]:
    requirements = patrol_requirements(district)
    lane_patrols = _lane_patrols(district, period, roles, requirements)

    lanes: dict[PersonRole, list[LanePatrols]] = defaultdict(list)
    people: dict[PersonRole, Person] = {}
    for held in held_lanes(district, period, roles, township, now, person=person):
        key = (held.person.pk, held.role)
        people[key] = held.person
        n, counted, _ = lane_patrols.get((*key, held.lane.pk), (0, 0, 0.0))
        required = held.days // requirements[held.role].every_days
        lanes[key].append(LanePatrols(held.lane, n, counted, required))
    trainings, recognitions = training_records(period, {pk for pk, _role in people})
    scores = [
        ChiefScore(
            person=people[key],
            role=key[1],
            township=lanes[key][0].lane.township,
            requirement=requirements[key[1]],
            lanes=tuple(lanes[key]),
            activity=activities.get(key, EMPTY),
            trainings=trainings.get(key[0], 0),
            recognitions=tuple(recognitions.get(key[0], ())),
        )
        for key in people
    ]
    scores.sort(
        key=lambda s: (
            s.township.code,
            CHIEF_ROLES.index(Role(s.role)),
            s.person.display_name,
            s.person.pk,
        )
    )
    return scores


def _steward_contributions(
    district: Jurisdiction,
    period: Period,
    township: Jurisdiction | None,
    activities: dict[PersonRole, Activity],
) -> list[StewardContribution]:
    lanes: dict[int, list[Lane]] = defaultdict(list)
    people: dict[int, Person] = {}
    for assignment in _assignments(district, (Role.STEWARD,), township):
        assert assignment.lane is not None
        people[assignment.person_id] = assignment.person
        lanes[assignment.person_id].append(assignment.lane)
    trainings, recognitions = training_records(period, set(people))
    records = [
        StewardContribution(
            person=person,
            township=lanes[pk][0].township,
            lanes=tuple(lanes[pk]),
            activity=activities.get((pk, Role.STEWARD), EMPTY),
            trainings=trainings.get(pk, 0),
            recognitions=tuple(recognitions.get(pk, ())),
        )
        for pk, person in people.items()
    ]
    records.sort(
        key=lambda r: (
            -r.activity.confirmed,
            -r.activity.patrols,
            -r.activity.reported,
            r.person.display_name,
            r.person.pk,
        )
    )
    return records


def training_records(
    period: Period, people: set[int]
) -> tuple[dict[int, int], dict[int, list[Recognition]]]:
    """Per person: the training sessions held in the period they attended, and the
    recognitions recorded for them in the period, newest first (two queries)."""
    if not people:
        return {}, {}
    start, end = period_bounds(period)
    attended = (
        TrainingAttendance.objects.filter(
            person_id__in=sorted(people),
            session__held_on__gte=start.astimezone(BEIJING).date(),
            session__held_on__lt=end.astimezone(BEIJING).date(),
        )
        .values("person_id")
        .annotate(n=Count("session_id", distinct=True))
    )
    counts = {row["person_id"]: row["n"] for row in attended}
    recognitions: dict[int, list[Recognition]] = defaultdict(list)
    for row in Recognition.objects.filter(
        person_id__in=sorted(people), recorded_at__gte=start, recorded_at__lt=end
    ).select_related("office"):
        recognitions[row.person_id].append(row)
    return counts, recognitions


@dataclass(frozen=True)
class Totals:
    """What a group of people did in a period, added up (the means are not additive)."""

    people: int
    patrols: int = 0
    distance_km: Decimal = Decimal("0.00")
    reported: int = 0
    confirmed: int = 0
    found: int = 0
    solved_on_spot: int = 0
    whistled: int = 0
    closed: int = 0

    def plus(self, activity: Activity) -> Totals:
        return Totals(
            people=self.people,
            patrols=self.patrols + activity.patrols,
            distance_km=self.distance_km + activity.distance_km,
            reported=self.reported + activity.reported,
            confirmed=self.confirmed + activity.confirmed,
            found=self.found + activity.found,
            solved_on_spot=self.solved_on_spot + activity.solved_on_spot,
            whistled=self.whistled + activity.whistled,
            closed=self.closed + activity.closed,
        )


@dataclass(frozen=True)
class TownshipChiefs:
    """One township's street and lane chiefs and alley stewards in a period, summed: the
    rows `chief_scores` and `steward_contributions` list for that township."""

    township: Jurisdiction
    chiefs: Totals
    # Chiefs who patrolled every one of their lanes in the township as often as required.
    chiefs_covering: int
    stewards: Totals
    # Chiefs with at least one lane whose patrol window has ended: the others have nothing
    # required of them yet and count neither way.
    chiefs_due: int = 0

    @property
    def coverage_rate(self) -> Decimal | None:
        """Chiefs patrolling every lane as required ÷ chiefs something is required of yet, in
        percent; None while no patrol window has ended for any of them."""
        return rate(self.chiefs_covering, self.chiefs_due)


def township_summaries(
    district: Jurisdiction, period_key: str, *, now: datetime | None = None
) -> list[TownshipChiefs]:
    """Every township of the district, in code order, with its chiefs' and stewards' figures
    of the period summed. The same figures as `chief_scores` and `steward_contributions` of
    each township, from grouped queries and the lanes each chief held (`held_lanes`)."""
    period = Period.parse(period_key)
    now = now or timezone.now()
    requirements = patrol_requirements(district)
    lane_patrols = _lane_patrols(district, period, CHIEF_ROLES, requirements)
    activities = _activities(district, period, (*CHIEF_ROLES, Role.STEWARD))

    # township → (person, role) → whether each of their lanes there was covered, for the
    # lanes whose patrol window has ended (a chief may have none yet)
    chief_lanes: dict[int, dict[PersonRole, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for held in held_lanes(district, period, CHIEF_ROLES, None, now):
        counted = lane_patrols.get((held.person.pk, held.role, held.lane.pk), (0, 0, 0.0))[1]
        required = held.days // requirements[held.role].every_days
        lanes = chief_lanes[held.lane.township_id][(held.person.pk, held.role)]
        if required > 0:
            lanes.append(counted >= required)
    stewards: dict[int, set[int]] = defaultdict(set)
    for person_id, township_id in (
        RoleAssignment.objects.filter(role=Role.STEWARD, lane__township__parent=district)
        .values_list("person_id", "lane__township_id")
        .order_by()
    ):
        stewards[township_id].add(person_id)

    summaries = []
    for township in (
        Jurisdiction.objects.filter(parent=district, level=Jurisdiction.Level.TOWNSHIP)
        .defer("boundary")
        .order_by("code")
    ):
        chiefs = chief_lanes.get(township.pk, {})
        chief_totals = Totals(people=len(chiefs))
        for key in chiefs:
            chief_totals = chief_totals.plus(activities.get(key, EMPTY))
        steward_totals = Totals(people=len(stewards.get(township.pk, ())))
        for person_id in stewards.get(township.pk, ()):
            steward_totals = steward_totals.plus(activities.get((person_id, Role.STEWARD), EMPTY))
        summaries.append(
            TownshipChiefs(
                township=township,
                chiefs=chief_totals,
                chiefs_covering=sum(1 for lanes in chiefs.values() if lanes and all(lanes)),
                stewards=steward_totals,
                chiefs_due=sum(1 for lanes in chiefs.values() if lanes),
            )
        )
    return summaries


# Queries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """A lane a chief held in a role in a period, and on how many of its elapsed days."""

    person: Person
    role: str
    lane: Lane
    days: int


def held_lanes(
    district: Jurisdiction,
    period: Period,
    roles: tuple[str, ...],
    township: Jurisdiction | None,
    now: datetime,
    *,
    person: Person | None = None,
) -> list[Held]:
    """The lanes each chief (or `person` alone) held in the period, with the days of the
    period elapsed by `now` on which they held them: the days their appointments
    (`ChiefAppointment`) cover. A chief given the role on a lane without any appointment
    there (in the admin, or before appointments were recorded) holds it for the whole
    period. Two queries."""
    start, end = period_bounds(period)
    first_day = start.astimezone(BEIJING).date()
    end_day = end.astimezone(BEIJING).date()
    until = first_day + timedelta(days=elapsed_days(period, now))
    scope = Q(role__in=roles, lane__township__parent=district)
    if township is not None:
        scope &= Q(lane__township=township)
    if person is not None:
        scope &= Q(person=person)
    shapes = ("lane__centre_line", "lane__checklist", "lane__township__boundary")
    days: dict[tuple[int, str, int], int] = defaultdict(int)
    found: dict[tuple[int, str, int], tuple[Person, Lane]] = {}
    for a in (
        ChiefAppointment.objects.filter(scope, held_in(first_day, end_day - timedelta(days=1)))
        .select_related("person", "lane__township")
        .defer(*shapes)
        .order_by()
    ):
        key = (a.person_id, a.role, a.lane_id)
        stop = min(until, a.ends_on + timedelta(days=1)) if a.ends_on else until
        days[key] += max(0, (stop - max(first_day, a.starts_on)).days)
        found[key] = (a.person, a.lane)
    appointed = ChiefAppointment.objects.filter(
        person=OuterRef("person"), role=OuterRef("role"), lane=OuterRef("lane")
    )
    for r in (
        RoleAssignment.objects.filter(scope)
        .annotate(appointed=Exists(appointed))
        .filter(appointed=False)
        .select_related("person", "lane__township")
        .defer(*shapes)
        .order_by()
    ):
        assert r.lane is not None
        key = (r.person_id, r.role, r.lane.pk)
        days[key] = (until - first_day).days
        found[key] = (r.person, r.lane)
    return sorted(
        (Held(person, key[1], lane, days[key]) for key, (person, lane) in found.items()),
        key=lambda h: (h.person.pk, h.role, h.lane.name, h.lane.pk),
    )


def _assignments(
    district: Jurisdiction, roles: tuple[str, ...], township: Jurisdiction | None
) -> QuerySet[RoleAssignment]:
    assignments = RoleAssignment.objects.filter(
        role__in=roles, lane__township__parent=district
    ).select_related("person", "lane__township")
    # The shapes are large and unused here.
    assignments = assignments.defer(
        "lane__centre_line", "lane__checklist", "lane__township__boundary"
    )
    if township is not None:
        assignments = assignments.filter(lane__township=township)
    return assignments.order_by("person_id", "role", "lane__name", "lane_id")


def _patrols(district: Jurisdiction, period: Period, roles: tuple[str, ...]) -> QuerySet[Patrol]:
    start, end = period_bounds(period)
    return Patrol.objects.filter(
        role__in=roles,
        lane__township__parent=district,
        started_at__gte=start,
        started_at__lt=end,
        ended_at__isnull=False,
    )


def _coverage_condition(requirements: dict[str, Requirement], roles: tuple[str, ...]) -> Q:
    condition = Q(pk__in=[])
    for role in roles:
        needed = requirements[role].min_coverage
        if needed > 0:
            condition |= Q(role=role, covered_ratio__gte=float(needed))
        else:
            condition |= Q(role=role)
    return condition


def _lane_patrols(
    district: Jurisdiction,
    period: Period,
    roles: tuple[str, ...],
    requirements: dict[str, Requirement],
) -> dict[tuple[int, str, int], tuple[int, int, float]]:
    """(person, role, lane) → (patrols, patrols that count, metres walked)."""
    rows = (
        _patrols(district, period, roles)
        .values("person_id", "role", "lane_id")
        .annotate(
            n=Count("pk"),
            counted=Count("pk", filter=_coverage_condition(requirements, roles)),
            metres=Sum("distance_m"),
        )
    )
    return {
        (row["person_id"], row["role"], row["lane_id"]): (
            row["n"],
            row["counted"],
            row["metres"] or 0.0,
        )
        for row in rows
    }


def _activities(
    district: Jurisdiction, period: Period, roles: tuple[str, ...]
) -> dict[PersonRole, Activity]:
    """(person, role) → what they did in the period, from three grouped queries."""
    patrols = {
        (row["person_id"], row["role"]): row
        for row in _patrols(district, period, roles)
        .values("person_id", "role")
        .annotate(n=Count("pk"), metres=Sum("distance_m"))
    }
    checks = {
        (row["patrol__person_id"], row["patrol__role"]): row
        for row in CheckResult.objects.filter(
            patrol__in=_patrols(district, period, roles),
            result=CheckResult.Result.PROBLEM,
            case__isnull=True,
        )
        .values("patrol__person_id", "patrol__role")
        .annotate(noted=Count("pk"), fixed=Count("pk", filter=Q(outcome="fixed")))
    }
    cases = {
        (row["reporter_id"], row["reported_role"]): row
        for row in _case_rows(district, period, roles)
    }
    activities: dict[PersonRole, Activity] = {}
    for key in set(patrols) | set(checks) | set(cases):
        p, c, k = patrols.get(key, {}), cases.get(key, {}), checks.get(key, {})
        reported = c.get("reported", 0)
        activities[key] = Activity(
            patrols=p.get("n", 0),
            distance_km=(Decimal(str(p.get("metres") or 0)) / KILOMETRE).quantize(
                CENT, rounding=ROUND_HALF_UP
            ),
            reported=reported,
            confirmed=c.get("confirmed", 0),
            found=reported + k.get("noted", 0),
            solved_on_spot=c.get("solved", 0) + k.get("fixed", 0),
            whistled=c.get("whistled", 0),
            closed=c.get("closed", 0),
            mean_hours_to_file=mean_duration(
                c.get("file_sum"), c.get("file_n", 0), MICROSECONDS_PER_HOUR
            ),
            mean_hours_to_whistle=mean_duration(
                c.get("whistle_sum"), c.get("whistle_n", 0), MICROSECONDS_PER_HOUR
            ),
            mean_hours_to_close=mean_duration(
                c.get("close_sum"), c.get("close_n", 0), MICROSECONDS_PER_HOUR
            ),
        )
    return activities


def _case_rows(district: Jurisdiction, period: Period, roles: tuple[str, ...]) -> Any:
    start, end = period_bounds(period)
    reported_role = Subquery(
        Event.objects.filter(case_id=OuterRef("pk"), kind=EventKind.CASE_REPORTED)
        .order_by("seq")
        .values("actor_role")[:1]
    )
    first_whistle = Subquery(
        Whistle.objects.filter(case_id=OuterRef("pk")).order_by("blown_at").values("blown_at")[:1]
    )
    return (
        Case.objects.filter(
            district=district,
            reporter__isnull=False,
            reported_at__gte=start,
            reported_at__lt=end,
        )
        .annotate(reported_role=reported_role)
        .filter(reported_role__in=roles)
        .alias(
            solved_here=Exists(
                Event.objects.filter(case_id=OuterRef("pk"), kind=EventKind.SOLVED_ON_SPOT)
            ),
            has_whistle=Exists(Whistle.objects.filter(case_id=OuterRef("pk"))),
            to_file=duration("filed_at", "reported_at"),
            to_whistle=duration(first_whistle, "reported_at"),
            to_close=duration("closed_at", "reported_at"),
        )
        .values("reporter_id", "reported_role")
        .annotate(
            reported=Count("pk"),
            confirmed=Count("pk", filter=Q(filed_at__isnull=False)),
            solved=Count("pk", filter=Q(solved_here=True)),
            whistled=Count("pk", filter=Q(has_whistle=True)),
            closed=Count("pk", filter=Q(closed_at__isnull=False)),
            file_sum=Sum("to_file"),
            file_n=Count("to_file"),
            whistle_sum=Sum("to_whistle"),
            whistle_n=Count("to_whistle"),
            close_sum=Sum("to_close"),
            close_n=Count("to_close"),
        )
    )


EMPTY = Activity(
    patrols=0,
    distance_km=Decimal("0.00"),
    reported=0,
    confirmed=0,
    found=0,
    solved_on_spot=0,
    whistled=0,
    closed=0,
    mean_hours_to_file=None,
    mean_hours_to_whistle=None,
    mean_hours_to_close=None,
)
