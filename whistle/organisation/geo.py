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


_PLAIN_NUMBERS = (float, int)


def _positions(coords: list[Any], where: str, numbered: bool) -> list[Position]:
    """`_position` of each of the coordinates, at `where` (followed by the position's number
    when `numbered`).

    Plain lists of two plain numbers in range (what JSON gives) are taken as they are; anything
    else goes through `_position`, which accepts or rejects it."""
    positions: list[Position] = []
    append = positions.append
    for number, value in enumerate(coords, 1):
        if type(value) is list and len(value) >= 2:
            lon, lat = value[0], value[1]
            if (
                type(lon) in _PLAIN_NUMBERS
                and type(lat) in _PLAIN_NUMBERS
                and _LON_RANGE[0] <= lon <= _LON_RANGE[1]
                and _LAT_RANGE[0] <= lat <= _LAT_RANGE[1]
            ):
                append((float(lon), float(lat)))
                continue
        append(_position(value, f"{where} {number}" if numbered else where))
    return positions


def line_positions(geometry: Any) -> list[Position]:
    """Validate a GeoJSON LineString and return its positions."""
    if not isinstance(geometry, dict) or geometry.get("type") != "LineString":
        raise GeometryError("expected a GeoJSON LineString")
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or len(coords) < 2:
        raise GeometryError("a LineString needs at least two positions")
    return _positions(coords, "position", numbered=True)


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
            positions = _positions(ring, f"polygon {p + 1} ring {r + 1}", numbered=False)
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


def shown_metres(metres: float) -> int:
    """A distance or an accuracy as a message writes it: in whole metres, rounded up, so that
    a position beyond a radius of whole metres never reads as on it. The check-in page's
    preview (`static/desk/checkin.js`) measures and writes it the same way."""
    return math.ceil(metres)


def bounding_box(positions: Iterable[Position]) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat)."""
    lons, lats = zip(*positions, strict=True)
    return min(lons), min(lats), max(lons), max(lats)


def geometry_bbox(geometry: Any) -> tuple[float, float, float, float]:
    if isinstance(geometry, dict) and geometry.get("type") == "LineString":
        return bounding_box(line_positions(geometry))
    return bounding_box(p for polygon in polygon_rings(geometry) for ring in polygon for p in ring)


# An edge of a ring as the ray test reads it: x1, y1, y2, x2 - x1, y2 - y1.
Edge = tuple[float, float, float, float, float]
# A polygon's outer ring and its holes, as edges.
EdgedPolygon = tuple[tuple[Edge, ...], tuple[tuple[Edge, ...], ...]]


def ring_edges(ring: Sequence[Position]) -> tuple[Edge, ...]:
    """The edges of a ring that a horizontal ray can cross: a horizontal edge never is."""
    return tuple(
        (x1, y1, y2, x2 - x1, y2 - y1)
        for (x1, y1), (x2, y2) in itertools.pairwise(ring)
        if y1 != y2
    )


def edged_polygons(polygons: Sequence[Sequence[Sequence[Position]]]) -> list[EdgedPolygon]:
    """Polygons checked by `polygon_rings`, as edges, for testing many points."""
    return [
        (ring_edges(polygon[0]), tuple(ring_edges(hole) for hole in polygon[1:]))
        for polygon in polygons
    ]


def _edges_enclose(edges: Sequence[Edge], x: float, y: float) -> bool:
    # A ray from the point towards the east crosses the ring an odd number of times when the
    # point is inside: a point on a west or south edge is inside, on an east or north edge not.
    inside = False
    for x1, y1, y2, dx, dy in edges:
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * dx / dy:
            inside = not inside
    return inside


def edged_polygons_contain(polygons: Sequence[EdgedPolygon], x: float, y: float) -> bool:
    """True when the point lies inside one of the polygons, outside its holes."""
    for outer, holes in polygons:
        if _edges_enclose(outer, x, y):
            for hole in holes:
                if _edges_enclose(hole, x, y):
                    break
            else:
                return True
    return False


def polygon_contains(geometry: Any, point: Position) -> bool:
    """True when the point lies inside the (multi)polygon, holes excluded."""
    return polygons_contain(polygon_rings(geometry), point)


def polygons_contain(polygons: Sequence[Sequence[Sequence[Position]]], point: Position) -> bool:
    """`polygon_contains` on polygons already checked by `polygon_rings`."""
    return edged_polygons_contain(edged_polygons(polygons), *point)


def distance_to_line_m(geometry: Any, point: Position) -> float:
    """Shortest distance in metres from a point to a LineString.

    Projects onto each segment in a local equirectangular frame centred on the point, then
    measures the geodesic distance to the foot of the perpendicular.
    """
    return distance_to_positions_m(line_positions(geometry), point)


def distance_to_positions_m(positions: Sequence[Position], point: Position) -> float:
    """`distance_to_line_m` on positions already checked by `line_positions`."""
    lon, lat = point
    return distance_to_segments_m(line_segments(positions), lon, lat, math.cos(math.radians(lat)))


# A segment of a line: ax, ay, bx - ax, by - ay.
Segment = tuple[float, float, float, float]


def line_segments(positions: Sequence[Position]) -> tuple[Segment, ...]:
    """The segments of a line checked by `line_positions`, for measuring many points."""
    return tuple((ax, ay, bx - ax, by - ay) for (ax, ay), (bx, by) in itertools.pairwise(positions))


def distance_to_segments_m(
    segments: Sequence[Segment], lon: float, lat: float, scale: float
) -> float:
    """`distance_to_line_m` on a line's segments; `scale` is cos(radians(lat)), which the
    caller measuring many lines from one point computes once."""
    best = math.inf
    for ax, ay, dx, dy in segments:
        ux, uy = dx * scale, dy
        px, py = (lon - ax) * scale, lat - ay
        seg2 = ux * ux + uy * uy
        t = 0.0
        if seg2 != 0:
            t = (px * ux + py * uy) / seg2
            t = t if t < 1.0 else 1.0
            t = t if t > 0.0 else 0.0
        _, _, distance = WGS84.inv(lon, lat, ax + dx * t, ay + dy * t)
        if distance < best:
            best = distance
    return float(best)


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
