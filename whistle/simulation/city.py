"""A synthetic city of any size, written with bulk inserts.

`build_city(shape, seed)` lays out districts, townships, communities and lanes on a grid
over Beijing's extent (the demo city's partition of an extent into blocks), gives each
district its departments, rules and assessment scheme, and each township its dispatcher,
each department an officer, the lanes their chiefs and stewards. Every name, code, shape and
behaviour follows from the seed. Codes start with 99 (a province code no place has), so a
simulated city never collides with a real one loaded beside it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from django.contrib.auth.hashers import make_password
from django.db import models

from whistle.assessment.models import Scheme
from whistle.demo.city import WHISTLE_ACKNOWLEDGE_MINUTES, WHISTLE_ARRIVE_MINUTES
from whistle.demo.geometry import Extent, extent_polygon, inset, partition
from whistle.organisation.models import (
    Department,
    Jurisdiction,
    Lane,
    Person,
    Role,
    RoleAssignment,
    Sector,
)
from whistle.policies.models import DistrictPolicy, DurationUnit, WhistleRule
from whistle.simulation.presets import CityShape

CITY_CODE = "990000"
# West, south, east, north: about Beijing's built-up area.
CITY_EXTENT: Extent = (115.95, 39.60, 116.85, 40.25)
BATCH = 2000
SECTORS = (
    ("sim-urban", "城市管理", "Urban management"),
    ("sim-police", "公安", "Public security"),
    ("sim-traffic", "交通", "Traffic"),
    ("sim-market", "市场监管", "Market regulation"),
    ("sim-housing", "住房和城乡建设", "Housing and construction"),
    ("sim-parks", "园林绿化", "Parks and greening"),
    ("sim-water", "水务", "Water"),
    ("sim-environment", "生态环境", "Ecology and environment"),
)

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Behaviour:
    """How a department answers a whistle: minutes to acknowledge and to arrive (drawn
    uniformly between the bounds), and how often it never comes at all."""

    name: str
    acknowledge_minutes: tuple[float, float]
    arrive_minutes: tuple[float, float]
    absent_share: float


PUNCTUAL = Behaviour("punctual", (1, 6), (8, 26), 0.0)
SLOW = Behaviour("slow", (4, 15), (20, 55), 0.02)
OFTEN_ABSENT = Behaviour("often_absent", (5, 25), (25, 70), 0.3)
# Shares of the departments with each behaviour.
BEHAVIOURS: tuple[tuple[Behaviour, float], ...] = (
    (PUNCTUAL, 0.6),
    (SLOW, 0.3),
    (OFTEN_ABSENT, 0.1),
)


@dataclass
class SimDepartment:
    pk: int
    district_id: int
    officer_id: int
    behaviour: Behaviour


@dataclass
class SimLane:
    pk: int
    township_id: int
    community_id: int
    # A point on the lane, where its problems are reported.
    lon: float
    lat: float


@dataclass
class SimTownship:
    pk: int
    district_id: int
    dispatcher_id: int
    lanes: list[SimLane] = field(default_factory=list)
    # Chiefs and stewards of the township's lanes: who reports what they find.
    reporters: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class SimCity:
    seed: int
    shape: CityShape
    city_id: int
    districts: list[int]
    townships: list[SimTownship]
    departments: dict[int, list[SimDepartment]]  # by district

    def behaviour_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for department in (d for ds in self.departments.values() for d in ds):
            counts[department.behaviour.name] = counts.get(department.behaviour.name, 0) + 1
        return counts


def spread(total: int, parts: int) -> list[int]:
    """`total` split into `parts` counts that differ by at most one."""
    base, extra = divmod(total, parts)
    return [base + (1 if n < extra else 0) for n in range(parts)]


def _insert(model: type[M], rows: Sequence[M]) -> list[M]:
    return model._default_manager.bulk_create(rows, batch_size=BATCH)


def behaviour_of(rng: random.Random) -> Behaviour:
    return rng.choices([b for b, _ in BEHAVIOURS], [w for _, w in BEHAVIOURS])[0]


def simulated_city_exists() -> bool:
    return Jurisdiction.objects.filter(code=CITY_CODE).exists()


def build_city(shape: CityShape, seed: int) -> SimCity:
    """Write the city; call inside a transaction on a database without one."""
    rng = random.Random(f"{seed}|city")
    password = make_password(None)
    city = Jurisdiction.objects.create(
        level=Jurisdiction.Level.CITY,
        code=CITY_CODE,
        name="模拟市",
        name_en="Simulated City",
        boundary=extent_polygon(CITY_EXTENT),
    )
    district_extents = partition(CITY_EXTENT, shape.districts, rng)
    districts = _insert(
        Jurisdiction,
        [
            _place(
                Jurisdiction.Level.DISTRICT,
                f"99{n + 1:02d}00",
                (f"模拟{n + 1}区", f"Simulated District {n + 1}"),
                city,
                extent,
            )
            for n, extent in enumerate(district_extents)
        ],
    )
    township_rows, township_extents = [], []
    for district, extent, count in zip(
        districts, district_extents, spread(shape.townships, shape.districts), strict=True
    ):
        for n, block in enumerate(partition(inset(extent, 0.0005), count, rng)):
            township_rows.append(
                _place(
                    Jurisdiction.Level.TOWNSHIP,
                    f"{district.code}{n + 1:03d}",
                    (f"{district.name}第{n + 1}街道", f"{district.name_en} Subdistrict {n + 1}"),
                    district,
                    block,
                    form=Jurisdiction.Form.STREET_OFFICE,
                )
            )
            township_extents.append(block)
    townships = _insert(Jurisdiction, township_rows)
    community_rows, community_extents = [], []
    for township, extent, count in zip(
        townships, township_extents, spread(shape.communities, len(townships)), strict=True
    ):
        for n, block in enumerate(partition(inset(extent, 0.00015), count, rng)):
            community_rows.append(
                _place(
                    Jurisdiction.Level.COMMUNITY,
                    f"{township.code}{n + 1:03d}",
                    (f"{township.name}第{n + 1}社区", f"{township.name_en} Community {n + 1}"),
                    township,
                    block,
                    form=Jurisdiction.Form.COMMUNITY,
                )
            )
            community_extents.append(block)
    communities = _insert(Jurisdiction, community_rows)
    lanes = _lanes(shape, communities, community_extents, rng)
    sim_townships = _people(shape, townships, lanes, password)
    departments = _departments(shape, districts, rng, password)
    _rules(districts)
    return SimCity(
        seed=seed,
        shape=shape,
        city_id=city.pk,
        districts=[d.pk for d in districts],
        townships=sim_townships,
        departments=departments,
    )


def _place(
    level: str,
    code: str,
    names: tuple[str, str],
    parent: Jurisdiction,
    extent: Extent,
    form: str = "",
) -> Jurisdiction:
    """A place with its name and English name."""
    place = Jurisdiction(
        level=level,
        code=code,
        name=names[0],
        name_en=names[1],
        parent=parent,
        form=form,
        boundary=extent_polygon(extent),
    )
    place.derive_fields()
    return place


def _lanes(
    shape: CityShape,
    communities: list[Jurisdiction],
    extents: list[Extent],
    rng: random.Random,
) -> list[Lane]:
    rows = []
    for community, extent, count in zip(
        communities, extents, spread(shape.lanes, len(communities)), strict=True
    ):
        west, south, east, north = inset(extent, 0.0001)
        for n in range(count):
            # East–west lanes, evenly spaced from north to south, each of its own length.
            lat = round(north - (n + 0.5) * (north - south) / count, 6)
            start = round(west + rng.uniform(0, 0.3) * (east - west), 6)
            end = round(east - rng.uniform(0, 0.3) * (east - west), 6)
            lane = Lane(
                name=f"{community.name}{n + 1}号胡同",
                township=community.parent,
                community=community,
                centre_line={"type": "LineString", "coordinates": [[start, lat], [end, lat]]},
            )
            lane.derive_fields()
            rows.append(lane)
    return _insert(Lane, rows)


def _person(username: str, name: str, password: str) -> Person:
    return Person(username=username, name=name, password=password, is_active=True)


def _people(
    shape: CityShape, townships: list[Jurisdiction], lanes: list[Lane], password: str
) -> list[SimTownship]:
    dispatchers = _insert(
        Person,
        [_person(f"sim-dispatcher-{t.code}", f"{t.name}调度员", password) for t in townships],
    )
    roles = [
        RoleAssignment(person=person, role=Role.DISPATCHER, jurisdiction=township)
        for person, township in zip(dispatchers, townships, strict=True)
    ]
    by_township = {
        t.pk: SimTownship(t.pk, t.parent_id or 0, d.pk)
        for t, d in zip(townships, dispatchers, strict=True)
    }
    for lane in lanes:
        assert lane.centre_line is not None
        (west, lat), (east, _lat) = lane.centre_line["coordinates"]
        by_township[lane.township_id].lanes.append(
            SimLane(lane.pk, lane.township_id, lane.community_id or 0, (west + east) / 2, lat)
        )
    # Chiefs and stewards go round the lanes in order: a lane has one of each or none.
    people, their_lanes, their_roles = [], [], []
    for role, count, title in (
        (Role.LANE_CHIEF, shape.chiefs, "巷长"),
        (Role.STEWARD, shape.stewards, "小巷管家"),
    ):
        for n in range(count):
            lane = lanes[n % len(lanes)]
            people.append(_person(f"sim-{role}-{n + 1}", f"{title}{n + 1}", password))
            their_lanes.append(lane)
            their_roles.append(role)
    people = _insert(Person, people)
    for person, lane, role in zip(people, their_lanes, their_roles, strict=True):
        roles.append(RoleAssignment(person=person, role=role, lane=lane))
        by_township[lane.township_id].reporters.append((person.pk, role))
    _insert(RoleAssignment, roles)
    return list(by_township.values())


def _departments(
    shape: CityShape, districts: list[Jurisdiction], rng: random.Random, password: str
) -> dict[int, list[SimDepartment]]:
    sectors = [
        Sector.objects.get_or_create(code=code, defaults={"name": name, "name_en": name_en})[0]
        for code, name, name_en in SECTORS
    ]
    rows = []
    for district in districts:
        for n in range(shape.departments_per_district):
            sector = sectors[n % len(sectors)]
            rows.append(
                Department(
                    code=f"sim-{district.code}-{n + 1:02d}",
                    name=f"{district.name}{sector.name}第{n // len(sectors) + 1}局",
                    name_en=(f"{district.name_en} {sector.name_en} Bureau {n // len(sectors) + 1}"),
                    kind=Department.Kind.FUNCTIONAL,
                    sector=sector,
                    district=district,
                )
            )
    departments = _insert(Department, rows)
    officers = _insert(
        Person,
        [_person(f"sim-officer-{d.code}", f"{d.name}值班员", password) for d in departments],
    )
    _insert(
        RoleAssignment,
        [
            RoleAssignment(person=officer, role=Role.DEPARTMENT_OFFICER, department=department)
            for officer, department in zip(officers, departments, strict=True)
        ],
    )
    found: dict[int, list[SimDepartment]] = {d.pk: [] for d in districts}
    for department, officer in zip(departments, officers, strict=True):
        assert department.district_id is not None
        found[department.district_id].append(
            SimDepartment(department.pk, department.district_id, officer.pk, behaviour_of(rng))
        )
    return found


def _rules(districts: list[Jurisdiction]) -> None:
    """The rules every district starts with: the product's defaults, the article's 30
    minutes, and a scheme that scores the year (township evaluation 40%, as in Miyun)."""
    _insert(DistrictPolicy, [DistrictPolicy(district=d) for d in districts])
    _insert(
        WhistleRule,
        [
            WhistleRule(
                district=d,
                kind=kind,
                acknowledge_within=minutes,
                acknowledge_unit=DurationUnit.NATURAL_MINUTES,
                arrive_within=WHISTLE_ARRIVE_MINUTES,
                arrive_unit=DurationUnit.NATURAL_MINUTES,
            )
            for d in districts
            for kind, minutes in WHISTLE_ACKNOWLEDGE_MINUTES.items()
        ],
    )
    _insert(
        Scheme,
        [
            Scheme(
                district=d,
                name=f"{d.name}考核",
                name_en=f"Assessment of simulated district {n}",
                valid_from=date(2000, 1, 1),
                township_share="100%",
            )
            for n, d in enumerate(districts, start=1)
        ],
    )


def counts(city: SimCity) -> dict[str, Any]:
    return {
        "districts": len(city.districts),
        "townships": len(city.townships),
        "communities": city.shape.communities,
        "lanes": sum(len(t.lanes) for t in city.townships),
        "departments": sum(len(d) for d in city.departments.values()),
        "people": sum(len(t.reporters) + 1 for t in city.townships)
        + sum(len(d) for d in city.departments.values()),
    }
