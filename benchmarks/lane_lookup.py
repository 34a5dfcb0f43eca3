"""Locating a point to its lane, community, grid cell and township among many lanes: the map
each process keeps in memory (`whistle.cases.locate`, `whistle.organisation.places`) against
the bounding-box queries it replaced, in the same run, on the same points.

Builds a grid city in a throwaway database: one district, TOWNSHIPS² townships, each split
into 4×4 communities and each community into 2×2 grid cells, and a lattice of lanes (one
east-west and one north-south lane from each lattice point) until there are LANES of them,
some lying on the boundaries between communities and townships. Locates POINTS random
points (and every tenth one on a lattice point or a boundary) both ways, and through the map
a second time, and a third in batches of BATCH (`places.batch`: the map's revision token
read once a batch instead of once a look-up, as a 12345 import does), checks the answers are
the same, and prints look-ups per second and the ratios. The map is read once timed and once
more for the memory it holds.

    .venv/bin/python benchmarks/lane_lookup.py [--lanes 50000] [--points 20000] [--batch 100]
        [--quick]

`--quick` locates 5,000 points among 5,000 lanes.

It runs in a throwaway database made beside the configured one: a temporary SQLite file by
default, or a test database on the server that DATABASE_URL=postgresql://… names.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import time
import tracemalloc
from datetime import UTC, datetime
from io import StringIO
from typing import Any

# The lattice's step in degrees (about 200 m) and the district's south-west corner.
STEP = 0.002
ORIGIN = (116.2, 39.8)
COMMUNITIES_PER_SIDE = 4
CELLS_PER_SIDE = 2


def square(lon: float, lat: float, size: float) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
        ],
    }


def build_grid_city(lanes: int, townships_per_side: int) -> dict[str, Any]:
    """A district laid out as a grid, with about `lanes` lanes (see the module's docstring);
    returns its extent and lattice for choosing points."""
    from whistle.organisation.models import GridCell, Jurisdiction, Lane

    side = max(2, math.ceil(math.sqrt(lanes / 2)))
    extent = side * STEP
    lon0, lat0 = ORIGIN
    city = Jurisdiction.objects.create(level="city", code="119900", name="网格市")
    district = Jurisdiction.objects.create(
        level="district",
        code="119901",
        name="网格区",
        parent=city,
        boundary=square(lon0, lat0, extent),
    )
    township_size = extent / townships_per_side
    community_size = township_size / COMMUNITIES_PER_SIDE
    cell_size = community_size / CELLS_PER_SIDE
    townships: list[Jurisdiction] = []
    communities: list[Jurisdiction] = []
    for tx in range(townships_per_side):
        for ty in range(townships_per_side):
            number = tx * townships_per_side + ty + 1
            township = Jurisdiction(
                level="township",
                form="street_office",
                code=f"{district.code}{number:03d}",
                name=f"第{number}街道",
                parent=district,
                boundary=square(
                    lon0 + tx * township_size, lat0 + ty * township_size, township_size
                ),
            )
            township.derive_fields()
            townships.append(township)
    Jurisdiction.objects.bulk_create(townships)
    townships = list(
        Jurisdiction.objects.filter(level="township", parent=district).order_by("code")
    )
    for township in townships:
        assert township.min_lon is not None and township.min_lat is not None
        for cx in range(COMMUNITIES_PER_SIDE):
            for cy in range(COMMUNITIES_PER_SIDE):
                number = cx * COMMUNITIES_PER_SIDE + cy + 1
                community = Jurisdiction(
                    level="community",
                    form="community",
                    code=f"{township.code}{number:03d}",
                    name=f"{township.name}第{number}社区",
                    parent=township,
                    boundary=square(
                        township.min_lon + cx * community_size,
                        township.min_lat + cy * community_size,
                        community_size,
                    ),
                )
                community.derive_fields()
                communities.append(community)
    Jurisdiction.objects.bulk_create(communities, batch_size=500)
    communities = list(
        Jurisdiction.objects.filter(level="community", parent__parent=district).order_by("code")
    )
    cells = []
    for community in communities:
        assert community.min_lon is not None and community.min_lat is not None
        for gx in range(CELLS_PER_SIDE):
            for gy in range(CELLS_PER_SIDE):
                cell = GridCell(
                    code=f"{community.code}{gx * CELLS_PER_SIDE + gy + 1:03d}",
                    community=community,
                    boundary=square(
                        community.min_lon + gx * cell_size,
                        community.min_lat + gy * cell_size,
                        cell_size,
                    ),
                )
                cell.derive_fields()
                cells.append(cell)
    GridCell.objects.bulk_create(cells, batch_size=500)

    def owner(lon: float, lat: float) -> tuple[Jurisdiction, Jurisdiction | None]:
        tx = min(int((lon - lon0) / township_size), townships_per_side - 1)
        ty = min(int((lat - lat0) / township_size), townships_per_side - 1)
        township = townships[tx * townships_per_side + ty]
        cx = min(int((lon - township.min_lon) / community_size), COMMUNITIES_PER_SIDE - 1)  # type: ignore[operator]
        cy = min(int((lat - township.min_lat) / community_size), COMMUNITIES_PER_SIDE - 1)  # type: ignore[operator]
        # Every seventh lane belongs to no community, as lanes between two often do.
        community = None
        if (cx + cy + tx) % 7:
            community = communities[
                townships.index(township) * COMMUNITIES_PER_SIDE**2 + cx * COMMUNITIES_PER_SIDE + cy
            ]
        return township, community

    rows: list[Lane] = []
    for i in range(side):
        for j in range(side):
            lon, lat = lon0 + i * STEP, lat0 + j * STEP
            for direction, end in (("东西", (lon + STEP, lat)), ("南北", (lon, lat + STEP))):
                if len(rows) >= lanes:
                    break
                owner_township, owner_community = owner(lon + STEP / 4, lat + STEP / 4)
                lane = Lane(
                    name=f"{direction}{i}-{j}巷",
                    township=owner_township,
                    community=owner_community,
                    centre_line={"type": "LineString", "coordinates": [[lon, lat], list(end)]},
                )
                lane.derive_fields()
                rows.append(lane)
    Lane.objects.bulk_create(rows, batch_size=1000)
    return {
        "origin": ORIGIN,
        "extent": extent,
        "side": side,
        "boundaries": [
            k * community_size for k in range(townships_per_side * COMMUNITIES_PER_SIDE + 1)
        ],
        "lanes": len(rows),
    }


def demo_city_with_lanes(lanes: int, townships_per_side: int = 8) -> int:
    """The demo city and, beside it, a grid district (`build_grid_city`) bringing the lanes to
    `lanes` (none when the demo city holds as many): filing and intake at a city's count of
    lanes. Returns the number of lanes."""
    from django.core.management import call_command

    from whistle.organisation.models import Lane

    call_command("seed_demo", stdout=StringIO())
    found = Lane.objects.count()
    if lanes > found:
        build_grid_city(lanes - found, townships_per_side=townships_per_side)
    return Lane.objects.count()


def sample_points(grid: dict[str, Any], count: int, seed: int = 2026) -> list[tuple[float, float]]:
    """Random points over the city, and every tenth one on a lattice point, a lane or a
    boundary between communities, where ties and edges are decided."""
    rng = random.Random(seed)
    lon0, lat0 = grid["origin"]
    extent, side = grid["extent"], grid["side"]
    points = []
    for n in range(count):
        if n % 10 == 0:
            i, j = rng.randrange(side), rng.randrange(side)
            boundary = rng.choice(grid["boundaries"])  # from the origin
            points.append(
                rng.choice(
                    [
                        (lon0 + i * STEP, lat0 + j * STEP),
                        (lon0 + i * STEP + STEP / 2, lat0 + j * STEP),
                        (lon0 + boundary, lat0 + j * STEP + STEP / 3),
                        (lon0 + i * STEP + STEP / 2, lat0 + boundary),
                    ]
                )
            )
        else:
            points.append((lon0 + rng.random() * extent, lat0 + rng.random() * extent))
    return points


def locate_by_query(lon: float, lat: float) -> Any:
    """Locating as it was done before the map was kept in memory: a bounding-box query per
    kind of place, the district's policy read each time."""
    from whistle.cases.locate import Location
    from whistle.cases.rules import district_lane_snap_metres, lane_snap_or_default
    from whistle.organisation import geo
    from whistle.organisation.models import GridCell, Jurisdiction, Lane

    level = Jurisdiction.Level
    found: dict[str, Jurisdiction] = {}
    for jurisdiction in Jurisdiction.objects.filter(
        level__in=[level.DISTRICT, level.TOWNSHIP, level.COMMUNITY],
        min_lon__lte=lon,
        max_lon__gte=lon,
        min_lat__lte=lat,
        max_lat__gte=lat,
    ).order_by("code"):
        if jurisdiction.level not in found and jurisdiction.contains_point(lon, lat):
            found[jurisdiction.level] = jurisdiction
    district = found.get(level.DISTRICT)
    township = found.get(level.TOWNSHIP)
    community = found.get(level.COMMUNITY)
    if community is not None and township is not None and community.parent_id != township.pk:
        community = None
    within_m = lane_snap_or_default(district_lane_snap_metres(district))
    snapped = None
    if within_m > 0:
        dlon, dlat = geo.metres_to_degrees(within_m, lat)
        best: tuple[float, str, Lane] | None = None
        for lane in Lane.objects.filter(
            min_lon__lte=lon + dlon,
            max_lon__gte=lon - dlon,
            min_lat__lte=lat + dlat,
            max_lat__gte=lat - dlat,
        ).select_related("township", "community"):
            distance = geo.distance_to_line_m(lane.centre_line, (lon, lat))
            if distance <= within_m and (best is None or (distance, lane.name) < best[:2]):
                best = (distance, lane.name, lane)
        snapped = (best[2], best[0]) if best else None
    lane_found, lane_distance = (None, None) if snapped is None else snapped
    if lane_found is not None:
        if township is None or lane_found.township_id != township.pk:
            township = lane_found.township
            community = None
        if lane_found.community is not None:
            community = lane_found.community
    if township is not None and (district is None or not township.code.startswith(district.code)):
        district = township.district
    inside = [
        c
        for c in GridCell.objects.filter(
            min_lon__lte=lon, max_lon__gte=lon, min_lat__lte=lat, max_lat__gte=lat
        ).order_by("code")
        if c.boundary and geo.polygon_contains(c.boundary, (lon, lat))
    ]
    cell = next(
        (c for c in inside if community is not None and c.community_id == community.pk),
        inside[0] if inside else None,
    )
    return Location(
        district=district,
        township=township,
        community=community,
        lane=lane_found,
        grid_cell=cell,
        lane_distance_m=None if lane_distance is None else round(lane_distance, 1),
    )


def answer(location: Any) -> tuple[Any, ...]:
    """What a location says, by primary key, for comparing two ways of finding it."""
    return (
        *(
            getattr(location, name).pk if getattr(location, name) is not None else None
            for name in ("district", "township", "community", "lane", "grid_cell")
        ),
        location.lane_distance_m,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lanes", type=int, default=50_000)
    parser.add_argument("--townships", type=int, default=8, help="townships per side")
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument(
        "--query-points", type=int, default=2_000, help="points also located by query"
    )
    parser.add_argument(
        "--batch", type=int, default=100, help="look-ups per batch (one read of the token each)"
    )
    parser.add_argument("--quick", action="store_true", help="5,000 lanes and points")
    args = parser.parse_args()
    if args.quick:
        args.lanes, args.points, args.query_points = 5_000, 5_000, 1_000

    from scratch import run_in_throwaway

    run_in_throwaway(run, args)


def run(args: argparse.Namespace, vendor: str) -> None:
    # Here, not at the top: the tests import this module's city builder as a package module.
    from reporting import report

    from whistle.cases.locate import locate
    from whistle.organisation import places

    started = time.perf_counter()
    grid = build_grid_city(args.lanes, args.townships)
    built = time.perf_counter() - started
    points = sample_points(grid, args.points)

    started, cpu = time.perf_counter(), time.process_time()
    places.city_map()
    read = time.perf_counter() - started
    read_cpu = time.process_time() - cpu
    # Its memory from a second read: tracing every allocation slows reading several times over.
    tracemalloc.start()
    kept = places.CityMap.read(places.revision())
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept

    started, cpu = time.perf_counter(), time.process_time()
    by_map = [answer(locate(lon, lat)) for lon, lat in points]
    map_seconds = time.perf_counter() - started
    map_cpu = time.process_time() - cpu

    # The same points again, as a process that has run a while finds them: what they touch of
    # the map is in the processor's caches.
    started, cpu = time.perf_counter(), time.process_time()
    again = [answer(locate(lon, lat)) for lon, lat in points]
    again_seconds = time.perf_counter() - started
    again_cpu = time.process_time() - cpu
    if again != by_map:
        raise SystemExit("the map answered differently the second time")

    # In batches, as an import of orders or an API request locates: the token read once each.
    batches = [points[at : at + args.batch] for at in range(0, len(points), args.batch)]
    started, cpu = time.perf_counter(), time.process_time()
    batched = []
    for chunk in batches:
        with places.batch():
            batched += [answer(locate(lon, lat)) for lon, lat in chunk]
    batch_seconds = time.perf_counter() - started
    batch_cpu = time.process_time() - cpu
    if batched != by_map:
        raise SystemExit("the map answered differently in batches")

    checked = points[: args.query_points]
    started, cpu = time.perf_counter(), time.process_time()
    by_query = [answer(locate_by_query(lon, lat)) for lon, lat in checked]
    query_seconds = time.perf_counter() - started
    query_cpu = time.process_time() - cpu
    differences = sum(a != b for a, b in zip(by_map, by_query, strict=False))

    map_rate = len(points) / map_seconds
    query_rate = len(checked) / query_seconds
    map_cpu_rate = len(points) / map_cpu
    query_cpu_rate = len(checked) / query_cpu
    again_rate = len(points) / again_seconds
    batch_rate = len(points) / batch_seconds
    batch_cpu_rate = len(points) / batch_cpu
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; database: {vendor}")
    print(
        f"{grid['lanes']} lanes, {args.townships**2} townships, city built in {built:.1f} s; "
        f"map read in {read:.2f} s ({read_cpu:.2f} s CPU), holding {held / 2**20:.0f} MiB "
        f"({peak / 2**20:.0f} MiB at its peak while read)"
    )
    # The CPU time of this process: the database's own work (SQLite's, in-process) is in it;
    # a loaded machine stretches the wall clock, not it.
    print("| path | look-ups | look-ups/s | per CPU second | µs each |")
    print("|---|---|---|---|---|")
    for name, count, rate, cpu_rate in (
        ("map in memory", len(points), map_rate, map_cpu_rate),
        ("map in memory, again", len(points), again_rate, len(points) / again_cpu),
        (f"map in memory, batches of {args.batch}", len(points), batch_rate, batch_cpu_rate),
        ("queries", len(checked), query_rate, query_cpu_rate),
    ):
        print(f"| {name} | {count} | {rate:,.0f} | {cpu_rate:,.0f} | {1e6 / rate:.0f} |")
    print(
        f"ratio map / queries: {map_rate / query_rate:.1f} "
        f"(per CPU second: {map_cpu_rate / query_cpu_rate:.1f}); "
        f"batches / queries: {batch_rate / query_rate:.1f} "
        f"(per CPU second: {batch_cpu_rate / query_cpu_rate:.1f}); "
        f"batches / map again (one token read each): {batch_rate / again_rate:.2f}"
    )
    print(f"answers that differ: {differences} of {len(checked)}")
    if differences:
        raise SystemExit("the map and the queries disagree")
    report(
        "lane_lookup",
        map_cpu_rate,
        "look-ups per CPU second",
        database=vendor,
        baseline=query_cpu_rate,
        note=f"the map in memory against bounding-box queries, {grid['lanes']} lanes",
    )
    # By the clock: what batching saves is the wait for the database, which no CPU time of
    # this process shows.
    report(
        "lane_lookup_batch",
        batch_rate,
        "look-ups per second",
        database=vendor,
        baseline=query_rate,
        note=(
            f"the map in memory in batches of {args.batch} (the token read once each; "
            f"{batch_cpu_rate:,.0f} per CPU second; {again_rate:,.0f} a second with one token "
            f"read each) against bounding-box queries by the clock, {grid['lanes']} lanes"
        ),
    )
    report(
        "lane_lookup_map_read",
        read,
        "seconds",
        database=vendor,
        note=(
            f"reading the map of {grid['lanes']} lanes into memory, {read_cpu:.2f} s CPU, "
            f"{held / 2**20:.0f} MiB held, {peak / 2**20:.0f} MiB peak"
        ),
    )


if __name__ == "__main__":
    main()
