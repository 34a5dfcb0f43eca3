"""Deterministic shapes for the demo city: boundaries, community partitions, lane centre lines.

Everything here is pure: the same extent, names and seed give the same coordinates on any
machine. Randomness comes from ``random.Random`` seeded with a string, which Python hashes
with SHA-512 whatever ``PYTHONHASHSEED`` is. Coordinates are rounded to 6 decimals (about
0.1 m) so that they survive a JSON round trip unchanged.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from whistle.organisation.geo import WGS84

Extent = tuple[float, float, float, float]  # west, south, east, north
Geometry = dict[str, Any]

DIGITS = 6
# Communities keep this distance (degrees, about 15 m) from their township's edge, like the
# street between two blocks, so that every community lies strictly inside its township.
COMMUNITY_INSET = 0.00015
# Lanes keep this share of the community's width or height clear at each end.
LANE_MARGIN = 0.12
# Interior cuts between communities move by up to this share of a cell's size.
CUT_JITTER = 0.18
METRES_PER_DEGREE_LAT = 111_000.0


def rng(seed: int, *parts: str) -> random.Random:
    """A random generator for one named thing, independent of the order things are built in."""
    return random.Random("|".join([str(seed), *parts]))


def _round(value: float) -> float:
    return round(value, DIGITS)


def _point(lon: float, lat: float) -> list[float]:
    return [_round(lon), _round(lat)]


def extent_polygon(extent: Extent) -> Geometry:
    """A GeoJSON polygon of an extent, exterior ring counter-clockwise (RFC 7946)."""
    west, south, east, north = extent
    ring = [
        _point(west, south),
        _point(east, south),
        _point(east, north),
        _point(west, north),
        _point(west, south),
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def inset(extent: Extent, margin: float) -> Extent:
    west, south, east, north = extent
    return west + margin, south + margin, east - margin, north - margin


def outline(extents: Sequence[Extent]) -> Geometry:
    """The outline of the union of axis-aligned extents, as one polygon.

    Works on the grid of all their edge coordinates: boundary edges of covered cells,
    oriented with the inside on the left, are chained into one counter-clockwise ring.
    """
    xs = sorted({e[0] for e in extents} | {e[2] for e in extents})
    ys = sorted({e[1] for e in extents} | {e[3] for e in extents})

    def covered(i: int, j: int) -> bool:
        if not (0 <= i < len(xs) - 1 and 0 <= j < len(ys) - 1):
            return False
        x, y = (xs[i] + xs[i + 1]) / 2, (ys[j] + ys[j + 1]) / 2
        return any(w < x < e and s < y < n for w, s, e, n in extents)

    edges: dict[tuple[int, int], tuple[int, int]] = {}

    def add(start: tuple[int, int], end: tuple[int, int]) -> None:
        if start in edges:
            raise ValueError("the extents touch at a single corner; the outline is ambiguous")
        edges[start] = end

    for i in range(len(xs) - 1):
        for j in range(len(ys) - 1):
            if not covered(i, j):
                continue
            if not covered(i, j - 1):
                add((i, j), (i + 1, j))
            if not covered(i + 1, j):
                add((i + 1, j), (i + 1, j + 1))
            if not covered(i, j + 1):
                add((i + 1, j + 1), (i, j + 1))
            if not covered(i - 1, j):
                add((i, j + 1), (i, j))

    start = min(edges)
    ring = [start]
    node = edges.pop(start)
    while node != start:
        ring.append(node)
        node = edges.pop(node)
    if edges:
        raise ValueError("the extents do not form one area without holes")
    corners = [
        p for k, p in enumerate(ring) if not _collinear(ring[k - 1], p, ring[(k + 1) % len(ring)])
    ]
    positions = [_point(xs[i], ys[j]) for i, j in corners]
    return {"type": "Polygon", "coordinates": [[*positions, positions[0]]]}


def _collinear(a: tuple[int, int], b: tuple[int, int], c: tuple[int, int]) -> bool:
    return (a[0] == b[0] == c[0]) or (a[1] == b[1] == c[1])


def _cuts(count: int, rand: random.Random) -> list[float]:
    """Fractions 0 = f0 < f1 < … < f_count = 1, evenly spaced and then jittered."""
    step = 1 / count
    inner = [k * step + rand.uniform(-CUT_JITTER, CUT_JITTER) * step for k in range(1, count)]
    return [0.0, *inner, 1.0]


def partition(extent: Extent, count: int, rand: random.Random) -> list[Extent]:
    """Split an extent into ``count`` blocks, in rows from north to south, west to east.

    Rows are about as tall as blocks are wide on the ground; each row cuts its blocks at
    its own places, as city blocks do.
    """
    west, south, east, north = extent
    # Degrees of longitude shrink with the cosine of the latitude.
    width = (east - west) * math.cos(math.radians((south + north) / 2))
    height = north - south
    columns = max(1, min(count, round(math.sqrt(count * width / height))))
    rows = math.ceil(count / columns)
    per_row = [columns] * (rows - 1) + [count - columns * (rows - 1)]
    row_cuts = _cuts(rows, rand)
    blocks: list[Extent] = []
    for r, in_row in enumerate(per_row):
        top = north - row_cuts[r] * (north - south)
        bottom = north - row_cuts[r + 1] * (north - south)
        column_cuts = _cuts(in_row, rand)
        for c in range(in_row):
            left = west + column_cuts[c] * (east - west)
            right = west + column_cuts[c + 1] * (east - west)
            blocks.append((left, bottom, right, top))
    return blocks


def runs_north_south(name: str) -> bool:
    """Beijing's hutongs mostly run east–west between north–south avenues and roads."""
    return name.endswith(("路", "大街", "小街"))


def lane_lines(
    extent: Extent, names: Sequence[str], rand: random.Random, lengths_m: dict[str, float]
) -> dict[str, Geometry]:
    """Centre lines for the lanes of one community, well inside its extent.

    Lanes of one direction are evenly spaced across the community; each bends a little in
    the middle. A lane with a known length gets a straight line of exactly that length.
    """
    west, south, east, north = extent
    north_south = [n for n in names if runs_north_south(n) or n in lengths_m]
    east_west = [n for n in names if n not in north_south]
    lines: dict[str, Geometry] = {}
    for group, vertical in ((east_west, False), (north_south, True)):
        for k, name in enumerate(group):
            share = (k + 1) / (len(group) + 1)
            if vertical:
                across = west + share * (east - west)
                spacing = (east - west) / (len(group) + 1)
                start, end = south, north
            else:
                across = north - share * (north - south)
                spacing = (north - south) / (len(group) + 1)
                start, end = west, east
            if name in lengths_m:
                lines[name] = _exact_line(across, (south + north) / 2, lengths_m[name], extent)
                continue
            margin = LANE_MARGIN * (end - start)
            bend_along = (start + end) / 2 + rand.uniform(-0.15, 0.15) * (end - start)
            # A gentle bend: never more than a quarter of the way to the next lane.
            bend = min(0.25 * spacing, 0.04 * (end - start))
            bend_across = across + rand.uniform(-bend, bend)
            points = [
                (across, start + margin),
                (bend_across, bend_along),
                (across, end - margin),
            ]
            if not vertical:
                points = [(a, b) for b, a in points]
            lines[name] = {
                "type": "LineString",
                "coordinates": [_point(lon, lat) for lon, lat in points],
            }
    return lines


def _exact_line(lon: float, middle_lat: float, metres: float, extent: Extent) -> Geometry:
    """A north-running line of a given geodesic length, centred on a latitude."""
    start_lat = middle_lat - metres / METRES_PER_DEGREE_LAT / 2
    end_lon, end_lat, _ = WGS84.fwd(lon, start_lat, 0.0, metres)
    if not (extent[1] < start_lat and end_lat < extent[3]):
        raise ValueError(f"a {metres} m lane does not fit in its community")
    return {
        "type": "LineString",
        "coordinates": [_point(lon, start_lat), _point(end_lon, end_lat)],
    }
