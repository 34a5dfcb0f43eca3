"""Reachability (30 分钟可达性): which lanes of a township the departments of its enforcement
centre can reach within the arrival limit, at a given hour; where one more station would
help; and how the model compares with the arrivals the trail measured.

A model, not a measurement: the way from a station to a lane is measured by `Model.way`
alone: the shortest way along the district's road network where it has one
(`whistle.organisation.roads`), else the straight-line geodesic distance to the lane's
nearest point times the district's detour factor, driven at the district's speed for that
hour (`DistrictPolicy.travel_detour_factor`, `travel_speeds`). The limit is the district's
arrival limit of a routine whistle (`WhistleRule`, 30 minutes unless the district set
another), or of the tough-problem or emergency whistle asked for. Every member of the
township's centre (core, stationed, on call) counts from, in this order: the on-duty
position of the rotation whose shift runs at that hour (`Rotation.post_lon/lat`,
whistle.duty), its station in the centre, its department's station; a member with none
of them is listed as not placed, never guessed.

For a category of problem only the departments that handle it count, as the whistle's
suggestion names them (`whistle.cases.suggest`): the centre's members of the category's
responsible sectors and the other departments of those sectors serving the township (from
their department's station); a category without responsible sectors keeps the whole centre.
`by_category` gives the lanes unreached for every group of categories that count the same
departments, at an hour and through the day.
"""

from __future__ import annotations

import copy
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from whistle.cases.models import Event, Summons
from whistle.cases.rules import district_policy, whistle_rule
from whistle.cases.suggest import departments_serving
from whistle.cases.trail import EventKind
from whistle.duty.models import Roster
from whistle.duty.schedule import Schedule, Shift
from whistle.organisation import geo, roads
from whistle.organisation.models import (
    CentreMembership,
    Department,
    Jurisdiction,
    Lane,
    Person,
    Sector,
)
from whistle.policies.calendar import LOCAL_TIME_ZONE, to_local
from whistle.policies.chains import shortest_time
from whistle.policies.models import Category, WhistleKind

HOURS = range(24)
# The spacing of the grid of places a suggestion tries beside the lanes' midpoints.
GRID_M = 500
# A grid is never finer than this many points: a larger township gets a coarser grid.
GRID_MAX_POINTS = 1600
# How many more stations a suggestion names at most.
MAX_PICKS = 3
# The measured arrivals are read over this many days before the day modelled.
MEASURED_DAYS = 90


class Source:
    """Where a station's position comes from."""

    DUTY = "duty"
    CENTRE = "centre"
    DEPARTMENT = "department"


def travel_minutes(metres: float, speed_kmh: float) -> float:
    """Minutes to travel so many metres at a speed."""
    return metres / 1000 / speed_kmh * 60 if speed_kmh > 0 else math.inf


@dataclass(frozen=True)
class Station:
    """A department that answers in the township and where its people set out from."""

    department: Department
    position: geo.Position
    # Its part in the township's centre, or "" for a department serving the township
    # outside the centre (counted for a category only).
    role: str
    source: str
    # Who is on duty on the rotation whose on-duty position this is.
    on_duty: Person | None = None


@dataclass(frozen=True)
class Unplaced:
    """A department that would count, with no station anywhere."""

    department: Department
    role: str


@dataclass(frozen=True)
class Reach:
    """The model's way from one station to one lane."""

    station: Station
    # Metres of the way: by road, or the straight line times the detour factor.
    way_m: float
    minutes: float
    by_road: bool = False


@dataclass
class LaneReach:
    lane: Lane
    # Every station's way to the lane, fastest first.
    reaches: list[Reach]
    limit_minutes: float

    @property
    def in_time(self) -> list[Reach]:
        return [r for r in self.reaches if r.minutes <= self.limit_minutes]

    @property
    def reached(self) -> bool:
        return bool(self.in_time)

    @property
    def fastest(self) -> Reach | None:
        return self.reaches[0] if self.reaches else None


@dataclass
class Reachability:
    township: Jurisdiction
    hour: int
    limit_minutes: float
    detour_factor: float
    speed_kmh: float
    stations: list[Station]
    # Departments that would count, without a station position anywhere.
    not_placed: list[Unplaced]
    # The unreached lanes first, then by name.
    lanes: list[LaneReach] = field(default_factory=list)
    category: Category | None = None
    day: date | None = None
    # The kind of whistle whose arrival limit applies.
    kind: str = WhistleKind.ROUTINE
    # True when some way was measured on the district's road network (else every way is
    # the straight line times the detour factor).
    by_road: bool = False

    @property
    def unreached(self) -> list[LaneReach]:
        return [lane for lane in self.lanes if not lane.reached]

    @property
    def reach_radius_m(self) -> float:
        """The farthest way (in metres) covered within the limit at this hour."""
        if math.isinf(self.limit_minutes) or self.speed_kmh <= 0:
            return 0.0
        return self.limit_minutes * self.speed_kmh * 1000 / 60


def arrival_limit(district: Jurisdiction | None, kind: str = WhistleKind.ROUTINE) -> timedelta:
    """The arrival limit of a kind of whistle (routine by default) in the district, as the
    least natural time."""
    rule = whistle_rule(district, kind)
    return shortest_time(rule.arrive_within, rule.arrive_unit)


def _moment(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LOCAL_TIME_ZONE)


class Model:
    """A township's inputs to the model read once (lanes, who counts and from where, the
    district's travel settings, the rosters of the day), asked for any hour of that day.
    Ways are remembered, so the hours of a day cost one set of distances."""

    def __init__(
        self,
        township: Jurisdiction,
        *,
        category: Category | None = None,
        day: date | None = None,
        kind: str = WhistleKind.ROUTINE,
    ) -> None:
        if kind not in WhistleKind.values:
            raise ValueError(f"{kind!r} is no kind of whistle")
        self.township = township
        self.category = category
        self.kind = kind
        self.day = day or timezone.localdate()
        district = township.parent
        self.district = district
        self.policy = district_policy(district)
        self.detour = float(self.policy.travel_detour_factor)
        self.limit = arrival_limit(district, kind).total_seconds() / 60
        self.lanes = list(Lane.objects.filter(township=township).order_by("name", "pk"))
        # Each lane's centre line read once: its positions and its extent.
        self.lines = {lane.pk: geo.line_positions(lane.centre_line) for lane in self.lanes}
        self.extents = {pk: geo.bounding_box(line) for pk, line in self.lines.items()}
        # The nearest way to each lane from a set of stations (`unreached_lanes`).
        self._nearest: dict[tuple[geo.Position, ...], list[float]] = {}
        # The centre's active members, read once for every category asked about.
        self._memberships = sorted(
            CentreMembership.objects.filter(
                township=township, department__is_active=True
            ).select_related("department"),
            key=lambda m: (m.department.name, m.pk),
        )
        # The active departments serving the township, read once when a category needs them
        # (shared with the models `for_category` makes).
        self._serving: dict[str, list[Department]] = {}
        # The department rosters of the township's centre and their shifts of the day, read
        # once: only a member's roster is ever looked up.
        rosters = Roster.objects.filter(township=township, department__isnull=False).only("pk")
        start = _moment(self.day, 0)
        self.schedule = Schedule.load(rosters, start, start + timedelta(days=1))
        # The schedule's rosters, read with their rotations and members: the shifts are worked
        # out from them without another query.
        self.rosters = {r.department_id: r for r in self.schedule.rosters}
        # The shift running at each hour, per roster, worked out once for every group of
        # categories and every question about that hour (shared with `for_category`'s models).
        self._shifts: dict[tuple[int, int], Shift | None] = {}
        self.members: list[tuple[Department, str, geo.Position | None]] = []
        self._load_members()
        self.lane_index = {lane.pk: index for index, lane in enumerate(self.lanes)}
        # A way longer than this is not driven within the limit at any hour of the day.
        fastest = max(self.policy.travel_speed_kmh(hour) for hour in HOURS)
        self.reach_m = self.limit / 60 * fastest * 1000
        self._ways: dict[tuple[geo.Position, bool], list[roads.Way | None]] = {}
        self._straight: dict[tuple[geo.Position, int], float] = {}
        self.has_roads = district is not None and roads.graph(district) is not None

    def for_category(self, category: Category | None) -> Model:
        """The same township, day and rules with only the departments that handle
        `category` counted (all the centre's with None), sharing what was read and the ways
        already measured."""
        other = copy.copy(self)
        other.category = category
        other.members = []
        other._load_members()
        return other

    def _load_members(self) -> None:
        sector_ids: set[int] = set()
        if self.category is not None:
            # (`all()`, so that categories read with their sectors prefetched ask nothing.)
            sector_ids = {sector.pk for sector in self.category.responsible_sectors.all()}
        seen = set()
        for membership in self._memberships:
            department = membership.department
            seen.add(department.pk)
            if sector_ids and department.sector_id not in sector_ids:
                continue
            self.members.append((department, membership.role, membership.station))
        if sector_ids:
            if "all" not in self._serving:
                self._serving["all"] = list(
                    departments_serving(self.township).order_by("name", "pk")
                )
            for department in self._serving["all"]:
                if department.sector_id in sector_ids and department.pk not in seen:
                    self.members.append((department, "", department.station))

    def ways(self, position: geo.Position, *, bounded: bool = False) -> list[roads.Way | None]:
        """The ways from a position to every lane of the township, in `self.lanes`' order,
        remembered: by road where the district has roads, else the straight line times the
        detour factor (`roads.travel_metres`); None where no road leads. `bounded` leaves out
        ways too long to drive within the limit at any hour (a cheaper search, for the many
        places a suggestion tries)."""
        key = (position, bounded)
        if key not in self._ways and not self.has_roads:
            # No network to read: every way is the straight line times the detour factor.
            self._ways[key] = [roads.Way(self.way(position, lane), False) for lane in self.lanes]
        if key not in self._ways:
            self._ways[key] = roads.travel_metres(
                self.district,
                position,
                [self.lines[lane.pk] for lane in self.lanes],
                detour_factor=self.detour,
                max_metres=self.reach_m if bounded else None,
            )
        return self._ways[key]

    def way(self, position: geo.Position, lane: Lane, *, bounded: bool = False) -> float:
        """The metres of the way from a position to a lane; infinite where none leads."""
        if not self.has_roads:
            # Without roads each way is measured alone, only for the lanes asked about.
            key = (position, lane.pk)
            if key not in self._straight:
                line = self.lines[lane.pk]
                self._straight[key] = roads.straight_metres(position, line) * self.detour
            return self._straight[key]
        found = self.ways(position, bounded=bounded)[self.lane_index[lane.pk]]
        return math.inf if found is None else found.metres

    def _shift(self, roster: Roster, hour: int) -> Shift | None:
        """The roster's shift running at `hour` of the model's day, remembered."""
        key = (roster.pk, hour)
        if key not in self._shifts:
            at = _moment(self.day, hour)
            running = self.schedule.shifts(roster, at, at + timedelta(seconds=1))
            self._shifts[key] = running[0] if running else None
        return self._shifts[key]

    def stations(self, hour: int) -> tuple[list[Station], list[Unplaced]]:
        """Who counts at `hour` and from where: the on-duty position of the shift running
        then, else the centre's station, else the department's."""
        stations, not_placed = [], []
        for department, role, position in self.members:
            source = Source.CENTRE if role else Source.DEPARTMENT
            if role and position is not None and position == department.station:
                source = Source.DEPARTMENT
            on_duty = None
            roster = self.rosters.get(department.pk)
            if roster is not None:
                shift = self._shift(roster, hour)
                if shift is not None and shift.position is not None:
                    position, source, on_duty = shift.position, Source.DUTY, shift.person
            if position is None:
                not_placed.append(Unplaced(department, role))
            else:
                stations.append(Station(department, position, role, source, on_duty))
        return stations, not_placed

    def unreached_lanes(self, hour: int) -> list[Lane]:
        """The lanes no one reaches in time at `hour`, as `at(hour).unreached` has them (in
        the lanes' order), without the detail: the nearest way to each lane is remembered
        per set of stations, so the hours of a day with the same stations cost one pass."""
        if hour not in HOURS:
            raise ValueError(f"hour {hour} is not 0–23")
        positions = tuple(sorted({station.position for station in self.stations(hour)[0]}))
        if positions not in self._nearest:
            nearest = [math.inf] * len(self.lanes)
            for position in positions:
                for index, found in enumerate(self.ways(position)):
                    if found is not None and found.metres < nearest[index]:
                        nearest[index] = found.metres
            self._nearest[positions] = nearest
        speed = self.policy.travel_speed_kmh(hour)
        return [
            lane
            for lane, metres in zip(self.lanes, self._nearest[positions], strict=True)
            if not travel_minutes(metres, speed) <= self.limit
        ]

    def at(self, hour: int) -> Reachability:
        if hour not in HOURS:
            raise ValueError(f"hour {hour} is not 0–23")
        speed = self.policy.travel_speed_kmh(hour)
        stations, not_placed = self.stations(hour)
        lanes = []
        from_stations = [self.ways(station.position) for station in stations]
        for index, lane in enumerate(self.lanes):
            reaches = []
            for station, ways in zip(stations, from_stations, strict=True):
                found = ways[index]
                if found is None:
                    continue  # no road leads there from this station
                minutes = travel_minutes(found.metres, speed)
                reaches.append(Reach(station, found.metres, minutes, found.by_road))
            reaches.sort(key=lambda r: (r.minutes, r.station.department.name))
            lanes.append(LaneReach(lane, reaches, self.limit))
        lanes.sort(key=lambda lane: lane.reached)
        return Reachability(
            self.township,
            hour,
            self.limit,
            self.detour,
            speed,
            stations,
            not_placed,
            lanes,
            category=self.category,
            day=self.day,
            kind=self.kind,
            by_road=any(r.by_road for lane in lanes for r in lane.reaches),
        )


def reachability(
    township: Jurisdiction,
    hour: int,
    *,
    category: Category | None = None,
    day: date | None = None,
    kind: str = WhistleKind.ROUTINE,
) -> Reachability:
    """Who reaches which lane of the township in time, at `hour` (0–23, Beijing time) of
    `day` (today by default), counting only the departments that handle `category` if one is
    given, within the arrival limit of a `kind` of whistle (routine by default)."""
    if hour not in HOURS:
        raise ValueError(f"hour {hour} is not 0–23")
    return Model(township, category=category, day=day, kind=kind).at(hour)


@dataclass(frozen=True)
class HourCoverage:
    hour: int
    unreached: int
    lanes: int


def day_profile(model: Model) -> list[HourCoverage]:
    """The lanes reached by no one in time, hour by hour through the model's day."""
    found = []
    for hour in HOURS:
        result = model.at(hour)
        found.append(HourCoverage(hour, len(result.unreached), len(result.lanes)))
    return found


# --- By category of problem ------------------------------------------------------------


@dataclass(frozen=True)
class CategoryCoverage:
    """The lanes reached by no one in time when only the departments that handle some
    categories count: the categories with the same responsible sectors, which count the
    same departments (none: the whole centre)."""

    categories: list[Category]
    sectors: list[Sector]
    # Who counts, as at the hour asked for.
    stations: list[Station]
    not_placed: list[Unplaced]
    # The lanes reached by no one in time at the hour asked for, in the lanes' order.
    unreached: list[Lane]
    lanes: int
    # The number of lanes reached by no one in time at each hour of the day (0–23).
    hours: list[int]

    @property
    def worst_hour(self) -> int:
        """The first hour of the day with the most lanes reached by no one in time."""
        return max(HOURS, key=lambda hour: (self.hours[hour], -hour))

    @property
    def worst_count(self) -> int:
        return self.hours[self.worst_hour]


def by_category(
    model: Model, hour: int, categories: Iterable[Category] | None = None
) -> list[CategoryCoverage]:
    """For each group of the district's active categories (or `categories`) that share their
    responsible sectors, the lanes of the model's township reached by no one in time at
    `hour` and the count at every hour of the day, counting only the departments that handle
    them (`Model.for_category`); the group of categories without responsible sectors counts
    the whole centre. The groups with the most lanes unreached at `hour` first, then by the
    first category's code."""
    if hour not in HOURS:
        raise ValueError(f"hour {hour} is not 0–23")
    if categories is None:
        categories = Category.objects.filter(major__district=model.township.parent, is_active=True)
    found = (
        Category.objects.filter(pk__in=[c.pk for c in categories])
        .select_related("major")
        .prefetch_related("responsible_sectors")
        .order_by("major__kind", "major__code", "code", "pk")
    )
    groups: dict[frozenset[int], list[Category]] = defaultdict(list)
    sectors: dict[int, Sector] = {}
    for category in found:
        for sector in category.responsible_sectors.all():
            sectors[sector.pk] = sector
        groups[frozenset(s.pk for s in category.responsible_sectors.all())].append(category)
    rows = []
    for key, members in groups.items():
        counted = model.for_category(members[0] if key else None)
        stations, not_placed = counted.stations(hour)
        rows.append(
            CategoryCoverage(
                members,
                sorted((sectors[pk] for pk in key), key=lambda s: (s.name, s.pk)),
                stations,
                not_placed,
                counted.unreached_lanes(hour),
                len(counted.lanes),
                [len(counted.unreached_lanes(h)) for h in HOURS],
            )
        )
    rows.sort(
        key=lambda row: (
            -len(row.unreached),
            row.categories[0].major.kind,
            row.categories[0].full_code,
        )
    )
    return rows


# --- One more station -------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A place a station could stand: a lane's midpoint, or a point of a grid."""

    position: geo.Position
    # The lane whose midpoint it is; None for a grid point.
    midpoint_of: Lane | None = None

    def words(self) -> str:
        lon, lat = self.position
        if self.midpoint_of is not None:
            return _("the midpoint of %(lane)s (%(lon).5f, %(lat).5f)") % {
                "lane": self.midpoint_of.name,
                "lon": lon,
                "lat": lat,
            }
        return _("the point %(lon).5f, %(lat).5f") % {"lon": lon, "lat": lat}


@dataclass(frozen=True)
class Pick:
    """One more station: where, the unreached lanes it would reach in time, and how many
    would remain reached by no one after it (and the picks before it)."""

    candidate: Candidate
    covers: list[Lane]
    remaining: int


@dataclass(frozen=True)
class Move:
    """A station moved (its on-duty position, or its station): what it would reach that no
    one reaches now, what it alone reaches now and would no longer, and what remains."""

    station: Station
    candidate: Candidate
    covers: list[Lane]
    loses: list[Lane]
    remaining: int


@dataclass
class Suggestion:
    unreached: int
    candidates: int
    picks: list[Pick]
    move: Move | None

    def words(self) -> list[str]:
        """The suggestion in sentences, as the page and the command say it."""
        if not self.unreached:
            return [_("Every lane is reached in time: no station is missing.")]
        lines = []
        if not self.picks:
            lines.append(
                _("No place tried (%(count)s) reaches an unreached lane in time.")
                % {"count": self.candidates}
            )
        for n, pick in enumerate(self.picks):
            values = {
                "place": pick.candidate.words(),
                "lanes": _names(pick.covers),
                "count": len(pick.covers),
                "remaining": pick.remaining,
            }
            if n == 0:
                text = ngettext(
                    "One more station at %(place)s would reach %(count)s unreached lane in "
                    "time: %(lanes)s.",
                    "One more station at %(place)s would reach %(count)s unreached lanes in "
                    "time: %(lanes)s.",
                    len(pick.covers),
                )
            else:
                text = ngettext(
                    "Then a station at %(place)s would reach %(count)s more: %(lanes)s.",
                    "Then a station at %(place)s would reach %(count)s more: %(lanes)s.",
                    len(pick.covers),
                )
            lines.append(text % values)
            lines.append(
                ngettext(
                    "%(remaining)s lane would remain reached by no one in time.",
                    "%(remaining)s lanes would remain reached by no one in time.",
                    pick.remaining,
                )
                % values
            )
        if self.move is not None:
            move = self.move
            values = {
                "department": move.station.department.display_name,
                "place": move.candidate.words(),
                "lanes": _names(move.covers),
                "count": len(move.covers),
                "lost": _names(move.loses),
                "remaining": move.remaining,
            }
            if move.station.source == Source.DUTY:
                text = _(
                    "Or: %(department)s's person on duty waiting at %(place)s would reach "
                    "%(lanes)s in time."
                )
            else:
                text = _(
                    "Or: %(department)s setting out from %(place)s would reach %(lanes)s in time."
                )
            lines.append(text % values)
            if move.loses:
                lines.append(
                    _("It would no longer reach %(lost)s, which no one else reaches in time.")
                    % values
                )
            lines.append(
                ngettext(
                    "%(remaining)s lane would remain reached by no one in time.",
                    "%(remaining)s lanes would remain reached by no one in time.",
                    move.remaining,
                )
                % values
            )
        return lines


def _names(lanes: Iterable[Lane]) -> str:
    return _(", ").join(lane.name for lane in lanes)


def candidates(lanes: Sequence[Lane], grid_m: float | None = GRID_M) -> list[Candidate]:
    """The places a station could stand: the lanes' midpoints, in the lanes' order, then
    the points of a grid over the lanes' extent (west to east, south to north), `grid_m`
    apart (coarser when it would hold more than GRID_MAX_POINTS points; none when None)."""
    found = [Candidate(geo.halfway(lane.centre_line), lane) for lane in lanes]
    if not grid_m or not lanes:
        return found
    west, south, east, north = geo.bounding_box(
        p for lane in lanes for p in geo.line_positions(lane.centre_line)
    )
    middle = (south + north) / 2
    width = geo.distance_m((west, middle), (east, middle))
    height = geo.distance_m((west, south), (west, north))
    step = float(grid_m)
    while (width / step + 1) * (height / step + 1) > GRID_MAX_POINTS:
        step *= 1.5
    columns, rows = int(width // step) + 1, int(height // step) + 1
    dlon = (east - west) * step / width if width else 0.0
    dlat = (north - south) * step / height if height else 0.0
    for row in range(rows):
        for column in range(columns):
            found.append(Candidate((west + column * dlon, south + row * dlat)))
    return found


def suggest(
    model: Model, result: Reachability, *, grid_m: float | None = GRID_M, max_picks: int = MAX_PICKS
) -> Suggestion:
    """Where one more station, or one station moved, would reach most of the lanes no one
    reaches in time at the result's hour: a greedy set cover over the candidate places
    (`candidates`). Each pick is the place that reaches the most lanes still unreached (then
    the fewest minutes in all to them, then the earlier place); picks go on while a place
    adds a lane, at most `max_picks`. A move takes the station and the place that gain the
    most lanes net of the lanes only that station reaches now."""
    unreached = {row.lane.pk: row.lane for row in result.unreached}
    places = candidates(model.lanes, grid_m)
    if not unreached:
        return Suggestion(0, len(places), [], None)
    sole: dict[int, set[int]] = defaultdict(set)
    for row in result.lanes:
        if len(row.in_time) == 1:
            sole[id(row.in_time[0].station)].add(row.lane.pk)
    wanted = set(unreached) | {pk for lanes in sole.values() for pk in lanes}
    by_pk = {lane.pk: lane for lane in model.lanes}
    radius = result.reach_radius_m
    covers: list[dict[int, float]] = []
    for place in places:
        reached: dict[int, float] = {}
        if radius > 0:
            # A road is never shorter than the straight line; without roads the way is the
            # straight line times the detour factor.
            straight_radius = radius if model.has_roads else radius / model.detour
            dlon, dlat = geo.metres_to_degrees(straight_radius, place.position[1])
            for pk in wanted:
                lane = by_pk[pk]
                west, south, east, north = model.extents[pk]
                lon, lat = place.position
                if (
                    lon < west - dlon
                    or lon > east + dlon
                    or lat < south - dlat
                    or lat > north + dlat
                ):
                    continue
                way = model.way(place.position, lane, bounded=True)
                minutes = travel_minutes(way, result.speed_kmh)
                if minutes <= result.limit_minutes:
                    reached[pk] = minutes
        covers.append(reached)
    remaining = set(unreached)
    picks: list[Pick] = []
    while remaining and len(picks) < max_picks:
        best: int | None = None
        best_key: tuple[int, float, int] | None = None
        for index, reached in enumerate(covers):
            gained = remaining & reached.keys()
            if not gained:
                continue
            key = (-len(gained), sum(reached[pk] for pk in gained), index)
            if best_key is None or key < best_key:
                best, best_key = index, key
        if best is None:
            break
        gained = remaining & covers[best].keys()
        remaining -= gained
        picks.append(
            Pick(
                places[best],
                [lane for pk, lane in unreached.items() if pk in gained],
                len(remaining),
            )
        )
    move = None
    move_key: tuple[int, int, float, int, int] | None = None
    for s_index, station in enumerate(result.stations):
        alone = sole.get(id(station), set())
        for index, reached in enumerate(covers):
            gained = set(unreached) & reached.keys()
            if not gained:
                continue
            lost = alone - reached.keys()
            net = len(gained) - len(lost)
            if net <= 0:
                continue
            rank = (-net, -len(gained), sum(reached[pk] for pk in gained), s_index, index)
            if move_key is None or rank < move_key:
                move_key = rank
                move = Move(
                    station,
                    places[index],
                    [lane for pk, lane in unreached.items() if pk in gained],
                    [by_pk[pk] for pk in sorted(lost, key=lambda pk: by_pk[pk].name)],
                    len(unreached) - len(gained) + len(lost),
                )
    return Suggestion(len(unreached), len(places), picks, move)


# --- Measured arrivals ------------------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    """One whistled summons of the township that arrived: from the trail's summons event to
    its first clean check-in, and the model's minutes for the same way at that hour."""

    summons_id: int
    department: Department
    lane: Lane | None
    summoned_at: datetime
    measured: float
    modelled: float | None


@dataclass(frozen=True)
class Comparison:
    """The measured and modelled minutes of a group of arrivals (medians)."""

    department: Department | None
    lane: Lane | None
    count: int
    measured: float
    modelled: float | None
    # Arrivals with a modelled time, of which the ratio is taken.
    compared: int
    # The median of measured ÷ modelled over them.
    ratio: float | None


@dataclass
class Calibration:
    since: datetime
    until: datetime
    detour_factor: float
    arrivals: list[Arrival]
    overall: Comparison | None
    departments: list[Comparison]
    lanes: list[Comparison]
    department_lanes: list[Comparison]

    @property
    def first_day(self) -> date:
        return to_local(self.since).date()

    @property
    def last_day(self) -> date:
        """The last Beijing day of the period (`until` is the moment after it)."""
        return to_local(self.until - timedelta(microseconds=1)).date()

    @property
    def suggested_detour(self) -> float | None:
        """The detour factor that would make the median modelled arrival the measured one."""
        if self.overall is None or self.overall.ratio is None:
            return None
        return self.detour_factor * self.overall.ratio

    def words(self) -> str:
        overall = self.overall
        if overall is None:
            return _("No whistled summons of the township arrived with a clean check-in.")
        values = {
            "count": overall.count,
            "measured": f"{overall.measured:.1f}",
            "modelled": f"{overall.modelled:.1f}" if overall.modelled is not None else "—",
            "detour": f"{self.detour_factor:.2f}",
            "suggested": f"{self.suggested_detour:.2f}" if self.suggested_detour else "—",
        }
        return (
            ngettext(
                "%(count)s arrival measured: median %(measured)s min from the summons to the "
                "first clean check-in, the model says %(modelled)s min; the detour factor "
                "%(detour)s would be %(suggested)s to match.",
                "%(count)s arrivals measured: median %(measured)s min from the summons to the "
                "first clean check-in, the model says %(modelled)s min; the detour factor "
                "%(detour)s would be %(suggested)s to match.",
                overall.count,
            )
            % values
        )


def _compare(
    arrivals: Sequence[Arrival], department: Department | None, lane: Lane | None
) -> Comparison:
    measured = statistics.median(a.measured for a in arrivals)
    modelled_values = [a.modelled for a in arrivals if a.modelled is not None]
    modelled = statistics.median(modelled_values) if modelled_values else None
    ratios = [
        a.measured / a.modelled for a in arrivals if a.modelled is not None and a.modelled > 0
    ]
    ratio = statistics.median(ratios) if ratios else None
    return Comparison(department, lane, len(arrivals), measured, modelled, len(ratios), ratio)


def measured_arrivals(
    model: Model, *, since: datetime | None = None, until: datetime | None = None
) -> Calibration:
    """The whistled summonses of the township's cases (of the model's category, if any)
    summoned in [since, until) — by default the MEASURED_DAYS days before the model's day —
    that arrived with a clean check-in: minutes from the trail's summons event to the first
    clean check-in, beside the model's minutes from the department's station (as the model
    places it at the hour of the summons) to the case's lane. Medians per department, per
    lane, per department and lane, and over the township; the ratio of measured to modelled
    gives the detour factor that would match."""
    if until is None:
        until = _moment(model.day, 0) + timedelta(days=1)
    if since is None:
        since = until - timedelta(days=MEASURED_DAYS)
    summonses = Summons.objects.filter(
        case__township=model.township,
        whistle__isnull=False,
        summoned_at__gte=since,
        summoned_at__lt=until,
    )
    if model.category is not None:
        summonses = summonses.filter(case__category=model.category)
    rows = {
        pk: (department_id, lane_id)
        for pk, department_id, lane_id in summonses.values_list(
            "pk", "department_id", "case__lane_id"
        )
    }
    first: dict[int, dict[str, datetime]] = defaultdict(dict)
    events = Event.objects.filter(
        summons_id__in=list(rows), kind__in=[EventKind.SUMMONED, EventKind.CHECK_IN_ACCEPTED]
    ).values_list("summons_id", "kind", "at")
    for summons_id, kind, at in events:
        seen = first[summons_id]
        if kind not in seen or at < seen[kind]:
            seen[kind] = at
    departments = {
        d.pk: d for d in Department.objects.filter(pk__in={d for d, _lane in rows.values()})
    }
    lanes = {lane.pk: lane for lane in model.lanes}
    stations_at: dict[int, dict[int, Station]] = {}
    arrivals = []
    for summons_id, (department_id, lane_id) in sorted(rows.items()):
        times = first.get(summons_id, {})
        summoned, arrived = times.get(EventKind.SUMMONED), times.get(EventKind.CHECK_IN_ACCEPTED)
        if summoned is None or arrived is None or arrived < summoned:
            continue
        hour = to_local(summoned).hour
        if hour not in stations_at:
            stations_at[hour] = {s.department.pk: s for s in model.stations(hour)[0]}
        station = stations_at[hour].get(department_id)
        lane = lanes.get(lane_id) if lane_id is not None else None
        modelled = None
        if station is not None and lane is not None:
            speed = model.policy.travel_speed_kmh(hour)
            modelled = travel_minutes(model.way(station.position, lane), speed)
        arrivals.append(
            Arrival(
                summons_id,
                departments[department_id],
                lane,
                summoned,
                (arrived - summoned).total_seconds() / 60,
                modelled,
            )
        )
    groups: dict[tuple[int | None, int | None], list[Arrival]] = defaultdict(list)
    for arrival in arrivals:
        lane_pk = arrival.lane.pk if arrival.lane is not None else None
        groups[(arrival.department.pk, None)].append(arrival)
        groups[(None, lane_pk)].append(arrival)
        groups[(arrival.department.pk, lane_pk)].append(arrival)

    def compared(key: tuple[int | None, int | None], with_lane: bool) -> Comparison:
        items = groups[key]
        department = items[0].department if key[0] is not None else None
        return _compare(items, department, items[0].lane if with_lane else None)

    per_department = sorted(
        (compared(k, False) for k in groups if k[0] is not None and k[1] is None),
        key=lambda c: c.department.name if c.department else "",
    )
    per_lane = sorted(
        (compared(k, True) for k in groups if k[0] is None),
        key=lambda c: c.lane.name if c.lane else "",
    )
    per_pair = sorted(
        (compared(k, True) for k in groups if k[0] is not None and k[1] is not None),
        key=lambda c: (
            c.department.name if c.department else "",
            c.lane.name if c.lane else "",
        ),
    )
    overall = _compare(arrivals, None, None) if arrivals else None
    return Calibration(
        since, until, model.detour, arrivals, overall, per_department, per_lane, per_pair
    )


# --- GeoJSON ------------------------------------------------------------------------------


def as_geojson(result: Reachability, suggestion: Suggestion | None = None) -> dict[str, Any]:
    """The lanes (reached or not, who reaches them in how many minutes), the stations and
    the suggested places as a GeoJSON FeatureCollection in WGS-84."""
    features: list[dict[str, Any]] = []
    for lane in result.lanes:
        features.append(
            {
                "type": "Feature",
                "geometry": lane.lane.centre_line,
                "properties": {
                    "kind": "lane",
                    "name": lane.lane.name,
                    "reached": lane.reached,
                    "fastest_minutes": (
                        round(lane.fastest.minutes, 1) if lane.fastest is not None else None
                    ),
                    "in_time": [
                        {
                            "department": r.station.department.display_name,
                            "minutes": round(r.minutes, 1),
                        }
                        for r in lane.in_time
                    ],
                },
            }
        )
    for station in result.stations:
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": list(station.position)},
                "properties": {
                    "kind": "station",
                    "name": station.department.display_name,
                    "role": station.role,
                    "source": station.source,
                },
            }
        )
    if suggestion is not None:
        for n, pick in enumerate(suggestion.picks, start=1):
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": list(pick.candidate.position)},
                    "properties": {
                        "kind": "suggestion",
                        "name": str(n),
                        "covers": [lane.name for lane in pick.covers],
                        "remaining": pick.remaining,
                    },
                }
            )
        if suggestion.move is not None:
            move = suggestion.move
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": list(move.candidate.position)},
                    "properties": {
                        "kind": "move",
                        "name": move.station.department.display_name,
                        "covers": [lane.name for lane in move.covers],
                        "loses": [lane.name for lane in move.loses],
                        "remaining": move.remaining,
                    },
                }
            )
    return {
        "type": "FeatureCollection",
        "properties": {
            "township": result.township.code,
            "hour": result.hour,
            "category": result.category.full_code if result.category is not None else None,
            "whistle_kind": result.kind,
            "limit_minutes": result.limit_minutes,
            "detour_factor": result.detour_factor,
            "speed_kmh": result.speed_kmh,
            "model": "road" if result.by_road else "straight",
        },
        "features": features,
    }
