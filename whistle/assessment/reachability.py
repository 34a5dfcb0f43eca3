"""Reachability (30 分钟可达性): which lanes of a township each department of its enforcement
centre can reach within the arrival limit, at a given hour.

A model, not a measurement: the way from a department's station to a lane is the
straight-line geodesic distance to the lane's nearest point times the district's detour
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
from whistle.organisation import geo
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
    distance_m: float
    minutes: float


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
    lanes = []
    for lane in Lane.objects.filter(township=township).order_by("name"):
        reaches = []
        for station in stations:
            distance = geo.distance_to_line_m(lane.centre_line, station.position)
            reaches.append(Reach(station, distance, travel_minutes(distance, detour, speed)))
        reaches.sort(key=lambda r: (r.minutes, r.station.department.name))
        lanes.append(LaneReach(lane, reaches, limit))
    lanes.sort(key=lambda lane: lane.reached)
    return Reachability(township, hour, limit, detour, speed, stations, not_placed, lanes)


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
        },
        "features": features,
    }
