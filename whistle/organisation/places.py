"""The city's map in memory: the jurisdictions, lanes and grid cells of the database, with
their geometry already checked, in a bucket grid by bounding box, so that finding what lies
at a point costs no query.

Each process reads the map once and keeps it while the database's map revision token
(`MapRevision`, changed by triggers with every change to those tables) is the one it was read
under; every look-up reads the token first (one indexed single-row read), so a change made by
any process is seen by the next look-up of every other. The answers are those of the
bounding-box queries the map replaces: the same candidates, the same exact tests.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any, Generic, TypeVar

from django.db import connection

from whistle.organisation import geo, map_triggers
from whistle.organisation.models import GridCell, Jurisdiction, Lane

Level = Jurisdiction.Level
Row = TypeVar("Row")

# The side of a bucket in degrees: about 200 m for lanes (a few lanes each, and a look-up's
# matching distance spans one to four), 1 km for grid cells, 2 km for jurisdictions (a
# district spans a few hundred).
LANE_BUCKET_DEGREES = 0.002
CELL_BUCKET_DEGREES = 0.01
JURISDICTION_BUCKET_DEGREES = 0.02

_LEVELS = (Level.DISTRICT, Level.TOWNSHIP, Level.COMMUNITY)


_NONE: list[Any] = []


class _Buckets(Generic[Row]):
    """Rows with a bounding box, found by the buckets their box overlaps."""

    def __init__(self, degrees: float) -> None:
        self.degrees = degrees
        self._rows: dict[tuple[int, int], list[tuple[float, float, float, float, Row]]] = (
            defaultdict(list)
        )

    def _bucket(self, value: float) -> int:
        return math.floor(value / self.degrees)

    def add(self, box: tuple[float, float, float, float], row: Row) -> None:
        min_lon, min_lat, max_lon, max_lat = box
        _bucket = self._bucket
        for x in range(_bucket(min_lon), _bucket(max_lon) + 1):
            for y in range(_bucket(min_lat), _bucket(max_lat) + 1):
                self._rows[x, y].append((*box, row))

    def overlapping(
        self, min_lon: float, min_lat: float, max_lon: float, max_lat: float
    ) -> Iterator[Row]:
        """Each row whose box overlaps the given one (edges included), once."""
        seen: set[int] = set()
        _bucket = self._bucket
        xs = range(_bucket(min_lon), _bucket(max_lon) + 1)
        ys = range(_bucket(min_lat), _bucket(max_lat) + 1)
        if len(xs) * len(ys) > len(self._rows):
            # A box wider than the map (near a pole, a degree is a few metres): look in every
            # bucket there is rather than in every one the box covers.
            buckets: Iterable[list[Any]] = self._rows.values()
        else:
            buckets = (self._rows.get((x, y), _NONE) for x in xs for y in ys)
        for bucket in buckets:
            for row_min_lon, row_min_lat, row_max_lon, row_max_lat, row in bucket:
                if (
                    row_min_lon <= max_lon
                    and row_max_lon >= min_lon
                    and row_min_lat <= max_lat
                    and row_max_lat >= min_lat
                    and id(row) not in seen
                ):
                    seen.add(id(row))
                    yield row


def _box(row: Any) -> tuple[float, float, float, float] | None:
    box = (row.min_lon, row.min_lat, row.max_lon, row.max_lat)
    return None if any(v is None for v in box) else box


class CityMap:
    """The map as it stood under one revision token. Its rows are shared by every look-up of
    the process: read them, never change or save them. Their geometry fields are not loaded
    (reading one costs a query); the checked geometry is kept here."""

    def __init__(self, token: str | None) -> None:
        self.token = token
        # What other layers derive from the map and its policies under this token.
        self.memo: dict[Any, Any] = {}
        self._jurisdictions: _Buckets[tuple[Jurisdiction, list[Any]]] = _Buckets(
            JURISDICTION_BUCKET_DEGREES
        )
        self._lanes: _Buckets[tuple[Lane, list[geo.Position]]] = _Buckets(LANE_BUCKET_DEGREES)
        self._cells: _Buckets[tuple[GridCell, list[Any]]] = _Buckets(CELL_BUCKET_DEGREES)
        self.lane_count = 0

    @classmethod
    def read(cls, token: str | None) -> CityMap:
        """The map from the database, as it stands now."""
        city = cls(token)
        by_pk = {j.pk: j for j in Jurisdiction.objects.order_by("pk")}
        for jurisdiction in by_pk.values():
            boundary = _take_geometry(jurisdiction, "boundary")
            if jurisdiction.parent_id is not None and jurisdiction.parent_id in by_pk:
                jurisdiction.parent = by_pk[jurisdiction.parent_id]
            box = _box(jurisdiction)
            if box is not None and jurisdiction.level in _LEVELS:
                polygons = _polygons(boundary)
                if polygons is not None:
                    city._jurisdictions.add(box, (jurisdiction, polygons))
        for lane in Lane.objects.order_by("pk"):
            line = _take_geometry(lane, "centre_line")
            lane.township = by_pk[lane.township_id]
            lane.community = by_pk.get(lane.community_id) if lane.community_id else None
            box = _box(lane)
            try:
                positions = geo.line_positions(line)
            except geo.GeometryError:
                continue
            if box is not None:
                city._lanes.add(box, (lane, positions))
                city.lane_count += 1
        for cell in GridCell.objects.order_by("pk"):
            boundary = _take_geometry(cell, "boundary")
            box = _box(cell)
            polygons = _polygons(boundary)
            if box is not None and polygons is not None:
                city._cells.add(box, (cell, polygons))
        return city

    def containing(self, lon: float, lat: float) -> dict[str, Jurisdiction]:
        """The district, township and community whose boundary contains the point, by level:
        of several, the one first by code."""
        candidates = sorted(
            self._jurisdictions.overlapping(lon, lat, lon, lat), key=lambda row: row[0].code
        )
        found: dict[str, Jurisdiction] = {}
        for jurisdiction, polygons in candidates:
            if (
                jurisdiction.level not in found
                and polygons
                and geo.polygons_contain(polygons, (lon, lat))
            ):
                found[jurisdiction.level] = jurisdiction
        return found

    def nearest_lane(self, lon: float, lat: float, within_m: float) -> tuple[Lane, float] | None:
        """The lane whose centre line is nearest to the point, if it is within `within_m`;
        of lanes equally near, the first by name, then by its township's code."""
        if within_m <= 0:
            return None
        dlon, dlat = geo.metres_to_degrees(within_m, lat)
        best: tuple[float, str, str, Lane] | None = None
        for lane, positions in self._lanes.overlapping(
            lon - dlon, lat - dlat, lon + dlon, lat + dlat
        ):
            distance = geo.distance_to_positions_m(positions, (lon, lat))
            if distance <= within_m:
                key = (distance, lane.name, lane.township.code)
                if best is None or key < best[:3]:
                    best = (*key, lane)
        return (best[3], best[0]) if best else None

    def grid_cells(self, lon: float, lat: float) -> list[GridCell]:
        """The grid cells whose boundary contains the point, by code."""
        candidates = sorted(
            self._cells.overlapping(lon, lat, lon, lat), key=lambda row: row[0].code
        )
        return [
            cell
            for cell, polygons in candidates
            if polygons and geo.polygons_contain(polygons, (lon, lat))
        ]


def _take_geometry(row: Any, field: str) -> Any:
    """The row's geometry, taken off the row: the map keeps it checked, and the row is left
    as if the field had been deferred, so that the process holds one copy."""
    return row.__dict__.pop(field)


def _polygons(boundary: Any) -> list[Any] | None:
    """The checked polygons of a boundary ([] without one); None when it is malformed: a
    malformed shape contains no point."""
    if not boundary:
        return []
    try:
        return geo.polygon_rings(boundary)
    except geo.GeometryError:
        return None


def revision() -> str | None:
    """The map's current revision token (None when the row is missing)."""
    return map_triggers.read_token(connection, map_triggers.MAP)


_lock = threading.Lock()
_current: CityMap | None = None


def city_map() -> CityMap:
    """The map as it stands in the database now, read again only when it has changed."""
    global _current
    token = revision()
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
