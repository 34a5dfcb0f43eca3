"""Reachability (30 分钟可达性): which lanes of a township each department of its enforcement
centre can reach within the arrival limit, at a given hour.

A model, not a measurement: the way from a department's station to a lane is the shortest
way along the district's road network where it has one (`whistle.organisation.roads`), else
the straight-line geodesic distance to the lane's nearest point times the district's detour
factor, driven at the district's speed for that hour (`DistrictPolicy.travel_detour_factor`,
`travel_speeds`). The limit is the district's arrival limit of a routine whistle
(`WhistleRule`, 30 minutes unless the district set another). Every member of the township's
centre (core, stationed, on call) counts from its station in the centre, else from its
department's station; a member with neither is listed as not placed, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from whistle.cases.rules import district_policy, whistle_rule
from whistle.organisation import geo, roads
from whistle.organisation.models import CentreMembership, Jurisdiction, Lane
from whistle.policies.chains import shortest_time
from whistle.policies.models import WhistleKind

HOURS = range(24)


@dataclass(frozen=True)
class Station:
    """A member of the township's centre and where its people set out from."""

    membership: CentreMembership
    position: geo.Position

    @property
    def department(self) -> Any:
        return self.membership.department


@dataclass(frozen=True)
class Reach:
    """The model's way from one station to one lane."""

    station: Station
    # Metres of the way: by road, or the straight line times the detour factor.
    distance_m: float
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
    # Members of the centre without a station position anywhere.
    not_placed: list[CentreMembership]
    # The unreached lanes first, then by name.
    lanes: list[LaneReach] = field(default_factory=list)
    # True when some way was measured on the district's road network (else every way is
    # the straight line times the detour factor).
    by_road: bool = False

    @property
    def unreached(self) -> list[LaneReach]:
        return [lane for lane in self.lanes if not lane.reached]


def travel_minutes(distance_m: float, detour_factor: float, speed_kmh: float) -> float:
    """Minutes to cover a straight-line distance by road at a speed."""
    return distance_m * detour_factor / 1000 / speed_kmh * 60


def arrival_limit(district: Jurisdiction | None) -> timedelta:
    """The arrival limit of a routine whistle in the district, as the least natural time."""
    rule = whistle_rule(district, WhistleKind.ROUTINE)
    return shortest_time(rule.arrive_within, rule.arrive_unit)


def reachability(township: Jurisdiction, hour: int) -> Reachability:
    """Who reaches which lane of the township in time, at `hour` (0–23, Beijing time)."""
    if hour not in HOURS:
        raise ValueError(f"hour {hour} is not 0–23")
    district = township.parent
    policy = district_policy(district)
    detour = float(policy.travel_detour_factor)
    speed = policy.travel_speed_kmh(hour)
    limit = arrival_limit(district).total_seconds() / 60
    stations, not_placed = [], []
    memberships = CentreMembership.objects.filter(
        township=township, department__is_active=True
    ).select_related("department")
    for membership in memberships:
        position = membership.station
        if position is None:
            not_placed.append(membership)
        else:
            stations.append(Station(membership, position))
    township_lanes = list(Lane.objects.filter(township=township).order_by("name"))
    ways = _ways(district, stations, township_lanes, detour)
    lanes = []
    for index, lane in enumerate(township_lanes):
        reaches = [
            Reach(station, way.metres, way.metres / 1000 / speed * 60, way.by_road)
            for station, station_ways in zip(stations, ways, strict=True)
            if (way := station_ways[index]) is not None
        ]
        reaches.sort(key=lambda r: (r.minutes, r.station.department.name))
        lanes.append(LaneReach(lane, reaches, limit))
    lanes.sort(key=lambda lane: lane.reached)
    result = Reachability(township, hour, limit, detour, speed, stations, not_placed, lanes)
    result.by_road = any(r.by_road for lane in lanes for r in lane.reaches)
    return result


def _ways(
    district: Jurisdiction | None, stations: list[Station], lanes: list[Lane], detour: float
) -> list[list[roads.Way | None]]:
    """Every station's way to every lane: by road where the district has a road network
    and both lie on it, else the straight line times the detour factor
    (`whistle.organisation.roads`)."""
    targets = [geo.line_positions(lane.centre_line) for lane in lanes]
    return [
        roads.travel_metres(district, station.position, targets, detour_factor=detour)
        for station in stations
    ]


def as_geojson(result: Reachability) -> dict[str, Any]:
    """The lanes (reached or not, who reaches them in how many minutes) and the stations as
    a GeoJSON FeatureCollection in WGS-84."""
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
                        {"department": r.station.department.name, "minutes": round(r.minutes, 1)}
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
                    "name": station.department.name,
                    "role": station.membership.role,
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "properties": {
            "township": result.township.code,
            "hour": result.hour,
            "limit_minutes": result.limit_minutes,
            "detour_factor": result.detour_factor,
            "speed_kmh": result.speed_kmh,
            "model": "road" if result.by_road else "straight",
        },
        "features": features,
    }
