"""The city's map in memory: the jurisdictions, lanes and grid cells of the database, with
their geometry already checked, in a bucket grid by bounding box, so that finding what lies
at a point costs no query.

Each process reads the map once and keeps it while the database's map revision token
(`MapRevision`, changed by triggers with every change to those tables) is the one it was read
under; a look-up reads the token first (one indexed single-row read), so a change made by
any process is seen by the next look-up of every other. Look-ups made together (`batch`: a
12345 batch or import, an API request that locates its point twice, the demo's and the
simulator's stories) read it once among them, at the first; a request that has just read the
token with the directory's in one statement hands it in (`pinned_at`). The answers are those of the
bounding-box queries the map replaces: the same candidates, the same exact tests.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

from whistle.organisation import geo, map_triggers
from whistle.organisation.models import GridCell, Jurisdiction, Lane

Level = Jurisdiction.Level
M = TypeVar("M", bound=Model)

# The side of a bucket in degrees. A point falls in one bucket, and a lane's matching distance
# spans one to four: about 200 m for lanes (a few lanes each), 500 m for grid cells and
# jurisdictions (a handful of cells and communities each, with their townships and district).
LANE_BUCKET_DEGREES = 0.002
CELL_BUCKET_DEGREES = 0.005
JURISDICTION_BUCKET_DEGREES = 0.005

# Rows are read this many at a time, not all at once, so that the rows of a query are not all
# held beside the map being made of them.
_CHUNK = 2000

_LEVELS = (Level.DISTRICT, Level.TOWNSHIP, Level.COMMUNITY)
_LANE_TOWNSHIP = Lane._meta.get_field("township")
_LANE_COMMUNITY = Lane._meta.get_field("community")

Box = tuple[float, float, float, float]
# What a bucket holds of an area: its box, its polygons as edges (None where it covers the
# bucket), and its row (for a jurisdiction, with its level).
Area = tuple[float, float, float, float, list[geo.EdgedPolygon] | None, Any]
# What a bucket holds of a lane: its box, the bucket of its box's south-west corner, its
# segments, its name, its township's code and its row.
LaneEntry = tuple[float, float, float, float, int, int, tuple[geo.Segment, ...], str, str, Lane]


def _span(low: float, high: float, degrees: float) -> range:
    """The buckets from the one holding `low` to the one holding `high`."""
    return range(math.floor(low / degrees), math.floor(high / degrees) + 1)


# How near an edge may come to a bucket (in degrees, about 0.1 mm) for the bucket's points to
# be tested one by one: far beyond the rounding of the ray test, so that in a bucket no edge
# comes as near, every point is on the same side of the boundary.
_EDGE_MARGIN = 1e-9


def _near_buckets(polygons: list[list[list[geo.Position]]], degrees: float) -> set[tuple[int, int]]:
    """The buckets an edge of the polygons comes near: those its box, widened by the margin,
    overlaps."""
    near: set[tuple[int, int]] = set()
    margin = _EDGE_MARGIN
    for polygon in polygons:
        for ring in polygon:
            for (x1, y1), (x2, y2) in itertools.pairwise(ring):
                for x in _span(min(x1, x2) - margin, max(x1, x2) + margin, degrees):
                    for y in _span(min(y1, y2) - margin, max(y1, y2) + margin, degrees):
                        near.add((x, y))
    return near


class _Areas:
    """Polygons found by the point. Each is in every bucket its box overlaps, but those it
    wholly leaves out, so the one bucket holding a point holds every polygon that may contain
    it, in the order of their codes; in a bucket it wholly covers, it is marked to need no
    test."""

    def __init__(self, degrees: float) -> None:
        self.degrees = degrees
        self._buckets: dict[tuple[int, int], list[tuple[str, Area]]] = {}
        self._sorted: dict[tuple[int, int], tuple[Area, ...]] = {}

    def add(self, box: Box, code: str, polygons: list[list[list[geo.Position]]], row: Any) -> None:
        degrees = self.degrees
        edged = geo.edged_polygons(polygons)
        near = _near_buckets(polygons, degrees)
        tested: Area = (*box, edged, row)
        covered: Area = (*box, None, row)
        min_lon, min_lat, max_lon, max_lat = box
        for y in _span(min_lat, max_lat, degrees):
            # Buckets side by side that no edge comes near are all inside or all outside.
            run_inside: bool | None = None
            for x in _span(min_lon, max_lon, degrees):
                if (x, y) in near:
                    run_inside = None
                    area = tested
                else:
                    if run_inside is None:
                        run_inside = geo.edged_polygons_contain(
                            edged, (x + 0.5) * degrees, (y + 0.5) * degrees
                        )
                    if not run_inside:
                        continue
                    area = covered
                self._buckets.setdefault((x, y), []).append((code, area))

    def finish(self) -> None:
        """Order each bucket by code (rows of one code in the order they were added)."""
        self._sorted = {
            key: tuple(area for _, area in sorted(rows, key=lambda row: row[0]))
            for key, rows in self._buckets.items()
        }
        self._buckets = {}

    def at(self, lon: float, lat: float) -> tuple[Area, ...]:
        """The areas whose box may contain the point, by code."""
        degrees = self.degrees
        return self._sorted.get((math.floor(lon / degrees), math.floor(lat / degrees)), ())


def _maker(model: type[M], db: str, names: list[str]) -> Callable[[tuple[Any, ...]], M]:
    """What makes a row of the model from the values of the named fields, as `from_db` makes
    it (the fields not named deferred). When nothing listens for the making of its rows, a row
    is made as one is unpickled, without calling each field's descriptor: a fifth of the time."""
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return lambda values: model.from_db(db, names, values)

    def make(values: tuple[Any, ...]) -> M:
        row = model.__new__(model)
        state = row._state = ModelState()
        state.adding = False
        state.db = db
        row.__dict__.update(zip(names, values, strict=True))
        return row

    return make


def _query(model: type[M], geometry: str) -> tuple[Any, list[str]]:
    """Every row of the model as a tuple of its fields' values with the geometry last, by
    primary key; and the names of the fields before it."""
    names = [f.attname for f in model._meta.concrete_fields if f.name != geometry]
    rows = model._default_manager.order_by("pk").values_list(*names, geometry)
    return rows, names


def _box(values: tuple[Any, ...], at: tuple[int, int, int, int]) -> Box | None:
    box = (values[at[0]], values[at[1]], values[at[2]], values[at[3]])
    return None if None in box else box


def _box_at(names: list[str]) -> tuple[int, int, int, int]:
    return (
        names.index("min_lon"),
        names.index("min_lat"),
        names.index("max_lon"),
        names.index("max_lat"),
    )


class CityMap:
    """The map as it stood under one revision token. Its rows are shared by every look-up of
    the process: read them, never change or save them. Their geometry fields are not loaded
    (reading one costs a query); the checked geometry is kept here."""

    def __init__(self, token: str | None) -> None:
        self.token = token
        # What other layers derive from the map and its policies under this token.
        self.memo: dict[Any, Any] = {}
        self._jurisdictions = _Areas(JURISDICTION_BUCKET_DEGREES)
        self._cells = _Areas(CELL_BUCKET_DEGREES)
        self._lanes: dict[tuple[int, int], Sequence[LaneEntry]] = {}
        self._by_pk: dict[Any, Jurisdiction] = {}
        self.lane_count = 0

    @classmethod
    def read(cls, token: str | None) -> CityMap:
        """The map from the database, as it stands now."""
        city = cls(token)
        city._read_jurisdictions()
        city._read_lanes()
        city._read_cells()
        return city

    def _read_jurisdictions(self) -> None:
        rows, names = _query(Jurisdiction, "boundary")
        box_at = _box_at(names)
        make = _maker(Jurisdiction, rows.db, names)
        by_pk = self._by_pk
        boundaries = []
        for row in rows.iterator(chunk_size=_CHUNK):
            values = row[:-1]
            jurisdiction = make(values)
            by_pk[jurisdiction.pk] = jurisdiction
            boundaries.append((jurisdiction, _box(values, box_at), row[-1]))
        for jurisdiction, box, boundary in boundaries:
            if jurisdiction.parent_id is not None and jurisdiction.parent_id in by_pk:
                jurisdiction.parent = by_pk[jurisdiction.parent_id]
            if box is not None and jurisdiction.level in _LEVELS:
                polygons = _polygons(boundary)
                if polygons:
                    self._jurisdictions.add(
                        box, jurisdiction.code, polygons, (jurisdiction.level, jurisdiction)
                    )
        self._jurisdictions.finish()

    def _relate_lane(self, lane: Lane) -> None:
        # As assigning them would, without checking again what the database already did.
        _LANE_TOWNSHIP.set_cached_value(lane, self._by_pk[lane.township_id])
        _LANE_COMMUNITY.set_cached_value(
            lane, self._by_pk.get(lane.community_id) if lane.community_id else None
        )

    def _read_lanes(self) -> None:
        rows, names = _query(Lane, "centre_line")
        make = _maker(Lane, rows.db, names)
        box_at = _box_at(names)
        name_at, township_at = names.index("name"), names.index("township_id")
        by_pk = self._by_pk
        buckets: dict[tuple[int, int], list[LaneEntry]] = {}
        degrees = LANE_BUCKET_DEGREES
        floor = math.floor
        for row in rows.iterator(chunk_size=_CHUNK):
            values = row[:-1]
            box = _box(values, box_at)
            try:
                positions = geo.line_positions(row[-1])
            except geo.GeometryError:
                continue
            if box is None:
                continue
            lane = make(values)
            self._relate_lane(lane)
            min_lon, min_lat, max_lon, max_lat = box
            first_x, first_y = floor(min_lon / degrees), floor(min_lat / degrees)
            entry = (
                *box,
                first_x,
                first_y,
                geo.line_segments(positions),
                values[name_at],
                by_pk[values[township_at]].code,
                lane,
            )
            for x in range(first_x, floor(max_lon / degrees) + 1):
                for y in range(first_y, floor(max_lat / degrees) + 1):
                    bucket = buckets.get((x, y))
                    if bucket is None:
                        buckets[x, y] = [entry]
                    else:
                        bucket.append(entry)
            self.lane_count += 1
        # Fixed once read: tuples, which take less room than lists grown one entry at a time.
        self._lanes = {key: tuple(bucket) for key, bucket in buckets.items()}

    def _read_cells(self) -> None:
        rows, names = _query(GridCell, "boundary")
        make = _maker(GridCell, rows.db, names)
        box_at = _box_at(names)
        code_at = names.index("code")
        for row in rows.iterator(chunk_size=_CHUNK):
            values = row[:-1]
            box = _box(values, box_at)
            polygons = _polygons(row[-1])
            if box is not None and polygons:
                self._cells.add(box, values[code_at], polygons, make(values))
        self._cells.finish()

    def containing(self, lon: float, lat: float) -> dict[str, Jurisdiction]:
        """The district, township and community whose boundary contains the point, by level:
        of several, the one first by code."""
        found: dict[str, Jurisdiction] = {}
        contain = geo.edged_polygons_contain
        for min_lon, min_lat, max_lon, max_lat, polygons, row in self._jurisdictions.at(lon, lat):
            level = row[0]
            if (
                level not in found
                and min_lon <= lon <= max_lon
                and min_lat <= lat <= max_lat
                and (polygons is None or contain(polygons, lon, lat))
            ):
                found[level] = row[1]
                if len(found) == len(_LEVELS):
                    break
        return found

    def nearest_lane(self, lon: float, lat: float, within_m: float) -> tuple[Lane, float] | None:
        """The lane whose centre line is nearest to the point, if it is within `within_m`;
        of lanes equally near, the first by name, then by its township's code."""
        if within_m <= 0:
            return None
        dlon, dlat = geo.metres_to_degrees(within_m, lat)
        west, south, east, north = lon - dlon, lat - dlat, lon + dlon, lat + dlat
        degrees = LANE_BUCKET_DEGREES
        xs, ys = _span(west, east, degrees), _span(south, north, degrees)
        first_x, first_y = xs.start, ys.start
        buckets = self._lanes
        if len(xs) * len(ys) > len(buckets):
            # A box wider than the map (near a pole, a degree is a few metres): look in every
            # bucket there is rather than in every one the box covers.
            cells: Any = buckets.items()
        else:
            cells = [((x, y), buckets[x, y]) for x in xs for y in ys if (x, y) in buckets]
        scale = math.cos(math.radians(lat))
        distance_to = geo.distance_to_segments_m
        # How far, in degrees, a lane's box may lie from the point and the lane still be as
        # near as the nearest so far (the bound the boxes are chosen by).
        reach_lon, reach_lat = dlon, dlat
        best: tuple[float, str, str] | None = None
        best_lane: Lane | None = None
        for (x, y), bucket in cells:
            for (
                min_lon,
                min_lat,
                max_lon,
                max_lat,
                lane_x,
                lane_y,
                segments,
                name,
                township_code,
                lane,
            ) in bucket:
                if (
                    min_lon > east
                    or max_lon < west
                    or min_lat > north
                    or max_lat < south
                    # A lane in several of the buckets is measured in the first of them.
                    or (lane_x if lane_x > first_x else first_x) != x
                    or (lane_y if lane_y > first_y else first_y) != y
                ):
                    continue
                if best is not None and (
                    min_lon - lon > reach_lon
                    or lon - max_lon > reach_lon
                    or min_lat - lat > reach_lat
                    or lat - max_lat > reach_lat
                ):
                    continue
                distance = distance_to(segments, lon, lat, scale)
                if distance <= within_m:
                    key = (distance, name, township_code)
                    if best is None or key < best:
                        best, best_lane = key, lane
                        reach_lon, reach_lat = geo.metres_to_degrees(distance, lat)
        if best is None or best_lane is None:
            return None
        return best_lane, best[0]

    def grid_cells(self, lon: float, lat: float) -> list[GridCell]:
        """The grid cells whose boundary contains the point, by code."""
        contain = geo.edged_polygons_contain
        return [
            cell
            for min_lon, min_lat, max_lon, max_lat, polygons, cell in self._cells.at(lon, lat)
            if min_lon <= lon <= max_lon
            and min_lat <= lat <= max_lat
            and (polygons is None or contain(polygons, lon, lat))
        ]


def _polygons(boundary: Any) -> list[list[list[geo.Position]]] | None:
    """The checked polygons of a boundary ([] without one); None when it is malformed: a
    malformed shape contains no point."""
    if not boundary:
        return []
    try:
        return geo.polygon_rings(boundary)
    except geo.GeometryError:
        return None


def revision() -> str | None:
    """The map's current revision token (None when the row is missing: then every look-up
    reads the map again)."""
    # The connection itself, once: each use of `connection` looks it up.
    return map_triggers.read_token(connections[DEFAULT_DB_ALIAS], map_triggers.MAP)


_lock = threading.Lock()
_current: CityMap | None = None


class _Batch:
    """The map of the look-ups of one batch: none until the first of them."""

    __slots__ = ("city",)

    def __init__(self) -> None:
        self.city: CityMap | None = None


_batch: ContextVar[_Batch | None] = ContextVar("whistle_map_batch", default=None)


@contextmanager
def batch() -> Iterator[None]:
    """Every look-up inside uses the map as it stood at the first of them: the token is read
    once for all of them, not once each. For look-ups that belong together and change none of
    the map's tables between them (the orders of one 12345 batch or import, the two look-ups
    of one API request, the stories the demo and the simulator play in one transaction): a
    change committed meanwhile is seen by the next batch, and by every look-up outside one.
    Inside another batch, the outer one's map is used. Also a decorator."""
    if _batch.get() is not None:
        yield
        return
    reset = _batch.set(_Batch())
    try:
        yield
    finally:
        _batch.reset(reset)


def batched() -> bool:
    """Whether look-ups now run inside a batch (`batch`, `pinned_at`): on its map."""
    return _batch.get() is not None


def city_map() -> CityMap:
    """The map as it stands in the database now, read again only when it has changed; inside
    a batch, the map of its first look-up."""
    held = _batch.get()
    if held is None:
        return _for(revision())
    if held.city is None:
        held.city = _for(revision())
    return held.city


@contextmanager
def pinned() -> Iterator[CityMap]:
    """A batch whose map is read at its start, and that map: for a request that changes no
    place itself and looks the same point up more than once (an API filing finds its
    category's district, then the action locates the point). Inside another batch, that
    one's map."""
    with batch():
        yield city_map()


@contextmanager
def pinned_at(token: str | None) -> Iterator[CityMap]:
    """`pinned` under a token the caller has just read (with another, in one statement:
    `map_triggers.read_tokens`); inside another batch, that one's map (read under this token
    if it had none yet)."""
    held = _batch.get()
    if held is not None:
        if held.city is None:
            held.city = _for(token)
        yield held.city
        return
    held = _Batch()
    held.city = _for(token)
    reset = _batch.set(held)
    try:
        yield held.city
    finally:
        _batch.reset(reset)


def held_token() -> str | None:
    """The token of the map this process holds (None when it holds none, or one read without
    a token)."""
    current = _current
    return None if current is None else current.token


def _for(token: str | None) -> CityMap:
    global _current
    current = _current
    if current is not None and token is not None and current.token == token:
        return current
    with _lock:
        current = _current
        if current is None or token is None or current.token != token:
            # The token is read before the rows: a change committed in between leaves a map
            # newer than its token, read again at the next look-up, never an older one.
            current = CityMap.read(token)
            _current = current
    return current
