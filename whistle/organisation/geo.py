"""Geometry on WGS-84 coordinates stored as GeoJSON.

Lengths and distances are geodesic (on the WGS-84 ellipsoid, through pyproj's
implementation of Karney's algorithms). Point-in-polygon and nearest-segment tests work
on longitude/latitude directly with a local metric scale, which is accurate to well under
a metre at the scale of a city.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Any

from pyproj import Geod

WGS84 = Geod(ellps="WGS84")

Position = tuple[float, float]  # (longitude, latitude), GeoJSON order

# The WGS-84 extent a position must lie in to be accepted at all.
_LON_RANGE = (-180.0, 180.0)
_LAT_RANGE = (-90.0, 90.0)


class GeometryError(ValueError):
    """A GeoJSON geometry is malformed or of the wrong type."""


def _position(value: Any, where: str) -> Position:
    if (
        not isinstance(value, list | tuple)
        or len(value) < 2
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in value[:2])
    ):
        raise GeometryError(f"{where}: a position must be [longitude, latitude]")
    lon, lat = float(value[0]), float(value[1])
    if not (_LON_RANGE[0] <= lon <= _LON_RANGE[1] and _LAT_RANGE[0] <= lat <= _LAT_RANGE[1]):
        raise GeometryError(f"{where}: [{lon}, {lat}] is outside WGS-84 longitude/latitude")
    return lon, lat


def line_positions(geometry: Any) -> list[Position]:
    """Validate a GeoJSON LineString and return its positions."""
    if not isinstance(geometry, dict) or geometry.get("type") != "LineString":
        raise GeometryError("expected a GeoJSON LineString")
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or len(coords) < 2:
        raise GeometryError("a LineString needs at least two positions")
    return [_position(c, f"position {i + 1}") for i, c in enumerate(coords)]


def polygon_rings(geometry: Any) -> list[list[list[Position]]]:
    """Validate a GeoJSON Polygon or MultiPolygon; return a list of polygons (lists of rings)."""
    if not isinstance(geometry, dict) or geometry.get("type") not in {"Polygon", "MultiPolygon"}:
        raise GeometryError("expected a GeoJSON Polygon or MultiPolygon")
    coords = geometry.get("coordinates")
    polygons = [coords] if geometry["type"] == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        raise GeometryError("a polygon needs coordinates")
    result: list[list[list[Position]]] = []
    for p, polygon in enumerate(polygons):
        if not isinstance(polygon, list) or not polygon:
            raise GeometryError(f"polygon {p + 1} has no rings")
        rings: list[list[Position]] = []
        for r, ring in enumerate(polygon):
            if not isinstance(ring, list) or len(ring) < 4:
                raise GeometryError(f"polygon {p + 1} ring {r + 1} needs at least four positions")
            positions = [_position(c, f"polygon {p + 1} ring {r + 1}") for c in ring]
            if positions[0] != positions[-1]:
                raise GeometryError(f"polygon {p + 1} ring {r + 1} is not closed")
            rings.append(positions)
        result.append(rings)
    return result


def line_length_m(geometry: Any) -> float:
    """Geodesic length of a LineString in metres."""
    positions = line_positions(geometry)
    lons = [p[0] for p in positions]
    lats = [p[1] for p in positions]
    return float(WGS84.line_length(lons, lats))


def distance_m(a: Position, b: Position) -> float:
    """Geodesic distance in metres between two (lon, lat) positions."""
    _, _, dist = WGS84.inv(a[0], a[1], b[0], b[1])
    return float(dist)


def bounding_box(positions: Iterable[Position]) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat)."""
    lons, lats = zip(*positions, strict=True)
    return min(lons), min(lats), max(lons), max(lats)


def geometry_bbox(geometry: Any) -> tuple[float, float, float, float]:
    if isinstance(geometry, dict) and geometry.get("type") == "LineString":
        return bounding_box(line_positions(geometry))
    return bounding_box(p for polygon in polygon_rings(geometry) for ring in polygon for p in ring)


def _in_ring(point: Position, ring: Sequence[Position]) -> bool:
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        if (y1 > y) != (y2 > y):
            cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < cross:
                inside = not inside
    return inside


def polygon_contains(geometry: Any, point: Position) -> bool:
    """True when the point lies inside the (multi)polygon, holes excluded."""
    return polygons_contain(polygon_rings(geometry), point)


def polygons_contain(polygons: Sequence[Sequence[Sequence[Position]]], point: Position) -> bool:
    """`polygon_contains` on polygons already checked by `polygon_rings`."""
    for polygon in polygons:
        outer, holes = polygon[0], polygon[1:]
        if _in_ring(point, outer) and not any(_in_ring(point, hole) for hole in holes):
            return True
    return False


def distance_to_line_m(geometry: Any, point: Position) -> float:
    """Shortest distance in metres from a point to a LineString.

    Projects onto each segment in a local equirectangular frame centred on the point, then
    measures the geodesic distance to the foot of the perpendicular.
    """
    return distance_to_positions_m(line_positions(geometry), point)


def distance_to_positions_m(positions: Sequence[Position], point: Position) -> float:
    """`distance_to_line_m` on positions already checked by `line_positions`."""
    lon0, lat0 = point
    kx = math.cos(math.radians(lat0))
    best = math.inf
    for (ax, ay), (bx, by) in itertools.pairwise(positions):
        ux, uy = (bx - ax) * kx, by - ay
        px, py = (lon0 - ax) * kx, lat0 - ay
        seg2 = ux * ux + uy * uy
        t = 0.0 if seg2 == 0 else max(0.0, min(1.0, (px * ux + py * uy) / seg2))
        foot = (ax + (bx - ax) * t, ay + (by - ay) * t)
        best = min(best, distance_m(point, foot))
    return best


def halfway(geometry: Any) -> Position:
    """The point of a LineString halfway along its geodesic length."""
    positions = line_positions(geometry)
    steps = [distance_m(a, b) for a, b in itertools.pairwise(positions)]
    remaining = sum(steps) / 2
    for (a, b), step in zip(itertools.pairwise(positions), steps, strict=True):
        if remaining <= step and step > 0:
            # Within one segment of a lane, degrees are proportional to metres to well
            # under a metre.
            t = remaining / step
            return a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t
        remaining -= step
    return positions[-1]


def metres_to_degrees(metres: float, latitude: float) -> tuple[float, float]:
    """An upper bound of (Δlon, Δlat) in degrees covering ``metres`` around ``latitude``."""
    dlat = metres / 110_574.0
    dlon = metres / (111_320.0 * max(math.cos(math.radians(latitude)), 1e-6))
    return dlon * 1.01, dlat * 1.01
