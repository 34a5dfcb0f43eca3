"""Benchmark: the 30-minute reach of every township of a Beijing-sized simulated city.

In a throwaway database (a temporary SQLite file, or a test database on the PostgreSQL server
that DATABASE_URL names) it builds the Beijing preset of `whistle simulate` at --scale
(343 townships and about 50,000 lanes at 1) and gives every township's 1+5+N centre ten of
its district's departments (one core, five stationed, four on call) at random stations among
its lanes. Then it measures, each against a raw baseline in the same run:

1. `Model(township).at(8)` for every township (`whistle.assessment.reachability`: the
   centre's members and their stations, the rosters of the day, the district's rules, every
   lane's way from every station, sorted), against the raw baseline: one SQL read of the same
   lanes and stations and a plain Python loop over the same (lane, station) pairs with the
   same geodesic distance (`geo.distance_to_positions_m`), counting the lanes no one reaches
   in time;
2. the suggestion of one more station (`suggest`, midpoints and a 500 m grid) for every
   township, against the same raw loop (it has no cheaper equivalent; the ratio says how many
   reachability computations one suggestion costs);
3. the lanes unreached for every group of categories, at 08:00 and through the 24 hours
   (`by_category`, as the page shows them), against the same raw loop;
4. then, with duty rosters given to six of the ten members of every township's centre (a day
   and a night shift on working days, one shift on rest days, each with its on-duty
   position), everything the page (district:reachability) asks of the model for one
   township (ten townships spread over the city) — the hour, the suggestion, the measured
   arrivals, the 24 hours, the groups of categories through the day — as the model is and
   as it was (`model_as_before`: each shift asking its roster's rotations and members again,
   for every hour of every group), on the same data, the answers compared and the queries
   counted.

    .venv/bin/python benchmarks/reachability.py [--scale 1] [--quick] [--seed 2018]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from collections import defaultdict
from typing import Any

from reporting import print_machine, report

# How many townships the page's questions are asked for, as the model is and as it was.
PAGE_TOWNSHIPS = 10
RAW_LANES = "SELECT township_id, centre_line FROM organisation_lane"
RAW_STATIONS = """
SELECT township_id, station_lon, station_lat FROM organisation_centremembership
WHERE station_lon IS NOT NULL AND station_lat IS NOT NULL
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="of the Beijing preset")
    parser.add_argument("--quick", action="store_true", help="a tenth of --scale")
    parser.add_argument("--seed", type=int, default=2018)
    args = parser.parse_args()
    scale = args.scale / 10 if args.quick else args.scale

    from scratch import set_up_django, throwaway_database

    set_up_django()
    with throwaway_database():
        measure(scale=scale, seed=args.seed)


def place_centres(city: Any, seed: int) -> int:
    """Ten of the district's departments in every township's centre, at random points of
    the township's lanes' extent."""
    from whistle.organisation.models import CentreMembership, Department

    rng = random.Random(f"{seed}|stations")
    departments: dict[int, list[Department]] = defaultdict(list)
    for department in Department.objects.order_by("pk"):
        departments[department.district_id].append(department)
    roles = ["core"] + ["stationed"] * 5 + ["on_call"] * 4
    rows = []
    for township in city.townships:
        lons = [lane.lon for lane in township.lanes]
        lats = [lane.lat for lane in township.lanes]
        chosen = rng.sample(departments[township.district_id], len(roles))
        for department, role in zip(chosen, roles, strict=True):
            rows.append(
                CentreMembership(
                    township_id=township.pk,
                    department=department,
                    role=role,
                    station_lon=rng.uniform(min(lons), max(lons)),
                    station_lat=rng.uniform(min(lats), max(lats)),
                )
            )
    CentreMembership.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def add_categories(city: Any) -> int:
    """In every district, two categories of problem per sector of the simulated departments
    (each with that sector responsible) and one with no responsible sector: nine groups of
    categories per township."""
    from whistle.organisation.models import Sector
    from whistle.policies.models import Category, MajorClass

    sectors = list(Sector.objects.filter(code__startswith="sim-").order_by("code"))
    count = 0
    for district in {township.district_id for township in city.townships}:
        major = MajorClass.objects.create(
            district_id=district, kind="event", code="01", name="综合"
        )
        for n, sector in enumerate(sectors):
            for k in range(2):
                category = Category.objects.create(
                    major=major, code=f"{2 * n + k + 1:02d}", name=f"{sector.name}问题{k + 1}"
                )
                category.responsible_sectors.set([sector])
                count += 1
        Category.objects.create(major=major, code="99", name="其他")
        count += 1
    return count


def add_rosters(city: Any, seed: int) -> int:
    """Duty rosters in every township's centre for its core and stationed members: on
    working days a day shift from 08:00 and a night shift from 20:00, on rest days one shift
    from 09:00, each rotation with its on-duty position among the township's lanes and the
    department's officer on duty."""
    from datetime import date

    from whistle.duty.models import Roster, Rotation, RotationMember
    from whistle.organisation.models import CentreMembership

    rng = random.Random(f"{seed}|rosters")
    officers = {d.pk: d.officer_id for ds in city.departments.values() for d in ds}
    members = CentreMembership.objects.filter(role__in=["core", "stationed"]).order_by("pk")
    by_township = {township.pk: township for township in city.townships}
    rosters = Roster.objects.bulk_create(
        [Roster(department_id=m.department_id, township_id=m.township_id) for m in members]
    )
    rotations = []
    for roster in rosters:
        lanes = by_township[roster.township_id].lanes
        for days, handovers in (("working_days", "08:00,20:00"), ("rest_days", "09:00")):
            lane = rng.choice(lanes)
            rotations.append(
                Rotation(
                    roster=roster,
                    days=days,
                    handovers=handovers,
                    turn="day",
                    starts_on=date(2025, 1, 1),
                    post_lon=lane.lon,
                    post_lat=lane.lat,
                )
            )
    Rotation.objects.bulk_create(rotations, batch_size=2000)
    RotationMember.objects.bulk_create(
        [
            RotationMember(
                rotation=rotation, position=1, person_id=officers[rotation.roster.department_id]
            )
            for rotation in rotations
        ],
        batch_size=2000,
    )
    return len(rosters)


def page_answers(model_class: type, township: Any, hour: int) -> tuple[Any, ...]:
    """What the page asks of the model for a township at an hour, as comparable values."""
    from whistle.assessment.reachability import (
        by_category,
        day_profile,
        measured_arrivals,
        suggest,
    )

    model = model_class(township)
    result = model.at(hour)
    return (
        [
            (
                row.lane.pk,
                [(r.station.department.pk, r.station.position, r.minutes) for r in row.reaches],
            )
            for row in result.lanes
        ],
        [(s.department.pk, s.position, s.source) for s in result.stations],
        suggest(model, result).words(),
        [(a.summons_id, a.modelled) for a in measured_arrivals(model).arrivals],
        day_profile(model),
        [
            (
                [c.pk for c in row.categories],
                [(s.department.pk, s.position) for s in row.stations],
                [lane.pk for lane in row.unreached],
                row.hours,
            )
            for row in by_category(model, hour)
        ],
    )


def model_as_before() -> type:
    """The model as it was before the schedule's rosters were kept: the rosters looked up
    apart from the schedule's (so every shift asked its roster's rotations and members
    again) and each hour's shift worked out again for every group of categories."""
    from datetime import timedelta

    from whistle.assessment.reachability import Model, _moment
    from whistle.duty.models import Roster

    class ModelAsBefore(Model):
        def __init__(self, township: Any, **kwargs: Any) -> None:
            super().__init__(township, **kwargs)
            self.rosters = {
                r.department_id: r
                for r in Roster.objects.filter(
                    township=township, department__isnull=False
                ).select_related("department")
            }

        def _shift(self, roster: Any, hour: int) -> Any:
            at = _moment(self.day, hour)
            return next(iter(self.schedule.shifts(roster, at, at + timedelta(seconds=1))), None)

    return ModelAsBefore


def raw_unreached(limit_m: float) -> tuple[int, int]:
    """The baseline: the lanes and stations in two SQL reads, then every pair's geodesic
    distance in a plain loop; (lanes reached by no one, pairs measured)."""
    from django.db import connection

    from whistle.organisation import geo

    with connection.cursor() as cursor:
        cursor.execute(RAW_STATIONS)
        stations: dict[int, list[tuple[float, float]]] = defaultdict(list)
        for township_id, lon, lat in cursor.fetchall():
            stations[township_id].append((lon, lat))
        cursor.execute(RAW_LANES)
        lanes = cursor.fetchall()
    unreached = pairs = 0
    for township_id, line in lanes:
        coordinates = json.loads(line)["coordinates"] if isinstance(line, str) else line
        positions = [(float(x), float(y)) for x, y in coordinates]
        best = math.inf
        for station in stations[township_id]:
            best = min(best, geo.distance_to_positions_m(positions, station))
            pairs += 1
        unreached += best > limit_m
    return unreached, pairs


def measure(*, scale: float, seed: int) -> None:
    from django.db import connection, transaction

    from whistle.assessment.reachability import Model, by_category, suggest
    from whistle.organisation.models import Jurisdiction
    from whistle.simulation.city import build_city
    from whistle.simulation.presets import PRESETS

    vendor = print_machine()
    shape = PRESETS["beijing"].scaled(scale)
    began = time.perf_counter()
    with transaction.atomic():
        city = build_city(shape, seed)
        members = place_centres(city, seed)
        categories = add_categories(city)
    print(
        f"city: Beijing × {scale}: {shape.townships} townships, {shape.lanes:,} lanes, "
        f"{members:,} centre members, {categories} categories of problem, built in "
        f"{time.perf_counter() - began:.1f} s",
        flush=True,
    )
    townships = list(Jurisdiction.objects.filter(level="township").order_by("code"))

    began = time.perf_counter()
    models = [Model(township) for township in townships]
    results = [model.at(8) for model in models]
    model_s = time.perf_counter() - began
    unreached = sum(len(r.unreached) for r in results)
    lanes = sum(len(r.lanes) for r in results)
    # The same limit in straight-line metres: minutes × metres a minute ÷ detour.
    first = results[0]
    limit_m = first.limit_minutes * first.speed_kmh * 1000 / 60 / first.detour_factor
    began = time.perf_counter()
    raw, pairs = raw_unreached(limit_m)
    raw_s = time.perf_counter() - began
    assert raw == unreached, (raw, unreached)
    print(
        f"reachability at 08:00: {len(townships)} townships, {lanes:,} lanes, {pairs:,} "
        f"(lane, station) pairs, {unreached:,} lanes reached by no one in time; "
        f"model {model_s:.2f} s, raw loop {raw_s:.2f} s",
        flush=True,
    )
    report(
        "reachability.all_townships_s",
        model_s,
        "s",
        database=vendor,
        baseline=raw_s,
        note=f"{len(townships)} townships, {pairs} pairs; raw: 2 SQL reads + distance loop",
    )

    began = time.perf_counter()
    picks = [suggest(model, result) for model, result in zip(models, results, strict=True)]
    suggest_s = time.perf_counter() - began
    tried = sum(p.candidates for p in picks)
    print(
        f"suggestion: {tried:,} places tried, {sum(len(p.picks) for p in picks)} picks, "
        f"{suggest_s:.2f} s",
        flush=True,
    )
    report(
        "reachability.suggest_all_townships_s",
        suggest_s,
        "s",
        database=vendor,
        baseline=raw_s,
        note="greedy cover over midpoints and a 500 m grid; raw: the reachability loop",
    )

    began = time.perf_counter()
    groups = [by_category(model, 8) for model in models]
    by_category_s = time.perf_counter() - began
    rows = sum(len(g) for g in groups)
    print(
        f"by category: {rows:,} groups of categories in all, each with its 24 hours, "
        f"{by_category_s:.2f} s",
        flush=True,
    )
    report(
        "reachability.by_category_all_townships_s",
        by_category_s,
        "s",
        database=vendor,
        baseline=raw_s,
        note=f"{rows} groups × 24 hours; raw: the reachability loop",
    )

    with transaction.atomic():
        rosters = add_rosters(city, seed)
    before_class = model_as_before()
    times = {Model: 0.0, before_class: 0.0}
    queries = {Model: 0, before_class: 0}
    # Ten townships spread over the city: the model as it was takes seconds a township.
    sample = townships[:: max(1, len(townships) // PAGE_TOWNSHIPS)][:PAGE_TOWNSHIPS]
    for n, township in enumerate(sample):
        answers = []
        # Interleaved, each first in turn, so that both meet the same load.
        for model_class in (before_class, Model)[:: 1 if n % 2 else -1]:
            counted = [0]

            def count(execute: Any, *args: Any, counted: list[int] = counted) -> Any:
                counted[0] += 1
                return execute(*args)

            began = time.perf_counter()
            with connection.execute_wrapper(count):
                answers.append(page_answers(model_class, township, 8))
            times[model_class] += time.perf_counter() - began
            queries[model_class] += counted[0]
        assert answers[0] == answers[1], township.code
    print(
        f"the page's questions with {rosters} duty rosters, {len(sample)} townships, the "
        f"same answers: as it was {times[before_class]:.2f} s, {queries[before_class]:,} "
        f"queries; now {times[Model]:.2f} s, {queries[Model]:,} queries",
        flush=True,
    )
    report(
        "reachability.page_with_rosters_all_townships_s",
        times[Model],
        "s",
        database=vendor,
        baseline=times[before_class],
        note=(
            f"{len(sample)} townships, {rosters} rosters; now {queries[Model]} queries; "
            f"baseline: the model as it was ({queries[before_class]} queries), the same answers"
        ),
    )


if __name__ == "__main__":
    main()
