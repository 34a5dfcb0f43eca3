"""A district's road network as a graph: built from lines (`build`), stored as
`RoadSegment` rows, kept in memory per process (`graph`), and the travel distance from one
point to many places along it (`travel_metres`).

The graph's nodes are the junctions and ends of the roads: every position where two lines
(or one line twice) meet within `JOIN_WITHIN_M` of each other, and each line's two ends. Its
edges are the stretches between them, with their geodesic length on the WGS-84 ellipsoid;
a road counts both ways unless it is one way (`Road.oneway`, from OSM's ``oneway`` tag or a
roundabout), then only from its start to its end. A point is snapped to the nearest node
within `SNAP_WITHIN_M` and the snapping distance is added as a straight line; a place (a
lane's centre line, or a point) is reached at any node within `SNAP_WITHIN_M` of it, plus
that node's straight-line distance to it. A point or place farther than that from every node
is off the graph, and so is every place of a district without roads: its way is the
straight line times the district's detour factor.

Each process keeps a district's graph while the network's revision (`RoadNetwork.revision`,
new with every import) is the one it was read under; every call reads the revision first
(one indexed single-row read).
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from whistle.organisation import geo
from whistle.organisation.models import Jurisdiction, RoadNetwork, RoadSegment

Position = geo.Position
# Positions of two lines this close are one junction: OSM exports give a shared node the
# same coordinates in every way, other tools may round them differently.
JOIN_WITHIN_M = 1.0
# A point farther than this from every node of the graph is off the graph.
SNAP_WITHIN_M = 300.0
# The side of a bucket of the nodes' index, in degrees (about 300 m).
BUCKET_DEGREES = 0.003
# Places whose nodes are remembered per graph; the lanes of a district are far fewer.
MEMO_LIMIT = 50_000

_A = 6_378_137.0  # WGS-84 semi-major axis
_E2 = 6.694_379_990_14e-3  # WGS-84 first eccentricity squared


def metres_per_degree(latitude: float) -> tuple[float, float]:
    """Metres per degree of longitude and of latitude at a latitude, on the WGS-84 ellipsoid.
    Within a few hundred metres the plane they define is within centimetres of the
    geodesic."""
    phi = math.radians(latitude)
    w = math.sqrt(1 - _E2 * math.sin(phi) ** 2)
    prime_vertical = _A / w
    meridional = _A * (1 - _E2) / w**3
    return math.radians(1) * prime_vertical * math.cos(phi), math.radians(1) * meridional


def _distance_to_positions(positions: Sequence[Position], point: Position) -> float:
    """Metres from a point to a line (or to a single position), in the local plane."""
    mx, my = metres_per_degree(point[1])
    px, py = point
    if len(positions) == 1:
        (ax, ay) = positions[0]
        return math.hypot((ax - px) * mx, (ay - py) * my)
    best = math.inf
    for (ax, ay), (bx, by) in itertools.pairwise(positions):
        ux, uy = (bx - ax) * mx, (by - ay) * my
        vx, vy = (px - ax) * mx, (py - ay) * my
        seg2 = ux * ux + uy * uy
        t = 0.0 if seg2 == 0 else max(0.0, min(1.0, (vx * ux + vy * uy) / seg2))
        best = min(best, math.hypot(vx - ux * t, vy - uy * t))
    return best


# --- building the graph from lines ---------------------------------------------------------


@dataclass(frozen=True)
class Road:
    """One line of a file: its positions (already checked), kind and name."""

    positions: list[Position]
    highway: str
    name: str = ""
    # Travelled only in the order of its positions.
    oneway: bool = False


@dataclass
class Piece:
    """A stretch of one road between two nodes."""

    start: Position
    end: Position
    positions: list[Position]
    length_m: float
    highway: str
    name: str
    oneway: bool = False


@dataclass
class Built:
    nodes: int
    pieces: list[Piece] = field(default_factory=list)

    @property
    def length_m(self) -> float:
        return sum(piece.length_m for piece in self.pieces)


def build(roads: Sequence[Road], join_within_m: float = JOIN_WITHIN_M) -> Built:
    """The junctions and ends of the roads, and the stretches between them.

    Positions within `join_within_m` of an earlier one are taken as that one (the first seen
    stands for the junction); a position is a node when it ends a road or when roads pass
    through it more than once.
    """
    if not roads:
        return Built(0)
    latitude = roads[0].positions[0][1]
    mx, my = metres_per_degree(latitude)
    side_x, side_y = join_within_m / mx, join_within_m / my
    cells: dict[tuple[int, int], list[int]] = defaultdict(list)
    representatives: list[Position] = []

    def junction(position: Position) -> int:
        lon, lat = position
        cx, cy = math.floor(lon / side_x), math.floor(lat / side_y)
        for x in (cx - 1, cx, cx + 1):
            for y in (cy - 1, cy, cy + 1):
                for index in cells.get((x, y), ()):
                    rx, ry = representatives[index]
                    if math.hypot((rx - lon) * mx, (ry - lat) * my) <= join_within_m:
                        return index
        representatives.append(position)
        cells[cx, cy].append(len(representatives) - 1)
        return len(representatives) - 1

    clustered = [[junction(p) for p in road.positions] for road in roads]
    uses: dict[int, int] = defaultdict(int)
    ends: set[int] = set()
    for indices in clustered:
        ends.update((indices[0], indices[-1]))
        previous = None
        for index in indices:
            if index != previous:
                uses[index] += 1
            previous = index
    nodes = {index for index, count in uses.items() if count > 1} | ends
    built = Built(len(nodes))
    for road, indices in zip(roads, clustered, strict=True):
        lons = [p[0] for p in road.positions]
        lats = [p[1] for p in road.positions]
        steps = geo.WGS84.line_lengths(lons, lats)
        start = indices[0]
        positions = [representatives[start]]
        length = 0.0
        for i in range(1, len(indices)):
            index = indices[i]
            length += float(steps[i - 1])
            if index == indices[i - 1]:
                continue
            if index in nodes:
                positions.append(representatives[index])
                if index != start or length > join_within_m:
                    built.pieces.append(
                        Piece(
                            representatives[start],
                            representatives[index],
                            positions,
                            length,
                            road.highway,
                            road.name,
                            road.oneway,
                        )
                    )
                start, positions, length = index, [representatives[index]], 0.0
            else:
                positions.append(road.positions[i])
    return built


# --- the graph in memory -------------------------------------------------------------------


class RoadGraph:
    """The network as it stood under one revision: nodes by number, their neighbours with
    the length of the way to each, and an index of the nodes by position. Shared by every
    caller of the process: read it, never change it."""

    def __init__(self, revision: Any) -> None:
        self.revision = revision
        self.positions: list[Position] = []
        self.neighbours: list[list[tuple[int, float]]] = []
        self._numbers: dict[Position, int] = {}
        self._buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
        self._memo: dict[tuple[Position, ...], list[tuple[int, float]]] = {}
        self._memo_lock = threading.Lock()

    def node(self, position: Position) -> int:
        number = self._numbers.get(position)
        if number is None:
            number = len(self.positions)
            self._numbers[position] = number
            self.positions.append(position)
            self.neighbours.append([])
            self._buckets[self._bucket(position)].append(number)
        return number

    def add(self, start: Position, end: Position, length_m: float, *, oneway: bool = False) -> None:
        """A stretch of road between two positions, both ways unless `oneway` (then from
        `start` to `end` only)."""
        a, b = self.node(start), self.node(end)
        if a != b:
            self.neighbours[a].append((b, length_m))
            if not oneway:
                self.neighbours[b].append((a, length_m))

    @classmethod
    def read(cls, network: RoadNetwork) -> RoadGraph:
        graph = cls(network.revision)
        rows = RoadSegment.objects.filter(network=network).order_by("pk")
        for start_lon, start_lat, end_lon, end_lat, length, oneway in rows.values_list(
            "start_lon", "start_lat", "end_lon", "end_lat", "length_m", "oneway"
        ).iterator(chunk_size=5000):
            graph.add((start_lon, start_lat), (end_lon, end_lat), length, oneway=oneway)
        return graph

    @staticmethod
    def _bucket(position: Position) -> tuple[int, int]:
        return math.floor(position[0] / BUCKET_DEGREES), math.floor(position[1] / BUCKET_DEGREES)

    def _near(self, positions: Sequence[Position], within_m: float) -> list[tuple[int, float]]:
        """Every node within `within_m` of the positions (a point or a line), with its
        distance."""
        box = geo.bounding_box(positions)
        dlon, dlat = geo.metres_to_degrees(within_m, box[1])
        (x0, y0), (x1, y1) = (
            self._bucket((box[0] - dlon, box[1] - dlat)),
            self._bucket((box[2] + dlon, box[3] + dlat)),
        )
        found = []
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                for number in self._buckets.get((x, y), ()):
                    distance = _distance_to_positions(positions, self.positions[number])
                    if distance <= within_m:
                        found.append((number, distance))
        return found

    def snap(self, point: Position) -> tuple[int, float] | None:
        """The nearest node within `SNAP_WITHIN_M` and its distance (of nodes equally near,
        the first read)."""
        near = self._near([point], SNAP_WITHIN_M)
        return min(near, key=lambda found: (found[1], found[0])) if near else None

    def entries(self, positions: Sequence[Position]) -> list[tuple[int, float]]:
        """The nodes a place is reached from, with their straight-line distance to it;
        empty when the place is off the graph. Remembered per place."""
        key = tuple(positions)
        entries = self._memo.get(key)
        if entries is None:
            entries = self._near(positions, SNAP_WITHIN_M)
            with self._memo_lock:
                if len(self._memo) >= MEMO_LIMIT:
                    self._memo.clear()
                self._memo[key] = entries
        return entries

    def distances(self, source: int, max_metres: float | None = None) -> dict[int, float]:
        """Shortest road distance from a node to every node within `max_metres` of it
        (Dijkstra, one to many, stopping past the cut-off)."""
        limit = math.inf if max_metres is None else max_metres
        neighbours = self.neighbours
        done: dict[int, float] = {}
        best = {source: 0.0}
        heap = [(0.0, source)]
        pop, push = heapq.heappop, heapq.heappush
        while heap:
            distance, node = pop(heap)
            if node in done:
                continue
            done[node] = distance
            for other, length in neighbours[node]:
                through = distance + length
                if through <= limit and other not in done and through < best.get(other, math.inf):
                    best[other] = through
                    push(heap, (through, other))
        return done


_lock = threading.Lock()
_graphs: dict[int, RoadGraph] = {}


def graph(district: Jurisdiction) -> RoadGraph | None:
    """The district's road graph as it stands now, read again only when a new network was
    imported; None when the district has no roads."""
    network = RoadNetwork.objects.filter(district=district).only("pk", "revision").first()
    if network is None:
        _graphs.pop(district.pk, None)
        return None
    current = _graphs.get(district.pk)
    if current is not None and current.revision == network.revision:
        return current
    with _lock:
        current = _graphs.get(district.pk)
        if current is None or current.revision != network.revision:
            current = RoadGraph.read(network)
            _graphs[district.pk] = current
    return current


# --- travel --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Way:
    """The model's way to one place: its length in metres, by road or else in a straight
    line times the detour factor."""

    metres: float
    by_road: bool


def straight_metres(origin: Position, positions: Sequence[Position]) -> float:
    """The geodesic distance from a point to the nearest point of a place."""
    if len(positions) == 1:
        return geo.distance_m(origin, positions[0])
    return geo.distance_to_positions_m(positions, origin)


def travel_metres(
    district: Jurisdiction | None,
    origin: Position,
    targets: Sequence[Sequence[Position]],
    *,
    detour_factor: float,
    max_metres: float | None = None,
) -> list[Way | None]:
    """The way from `origin` to each target (a point as one position, a line as its
    positions), in the targets' order: by road where the district has roads and both ends
    are on the graph, else the straight line times `detour_factor`. None when the target
    cannot be reached by road (another part of the network) or lies beyond `max_metres`."""
    road_graph = graph(district) if district is not None else None
    snapped = road_graph.snap(origin) if road_graph is not None else None
    reached: dict[int, float] = {}
    if road_graph is not None and snapped is not None:
        source, snap_m = snapped
        budget = None if max_metres is None else max_metres - snap_m
        if budget is None or budget >= 0:
            reached = road_graph.distances(source, budget)
    ways: list[Way | None] = []
    for positions in targets:
        entries = road_graph.entries(positions) if road_graph is not None else []
        if snapped is None or not entries:
            metres = straight_metres(origin, positions) * detour_factor
            ways.append(Way(metres, False) if max_metres is None or metres <= max_metres else None)
            continue
        best = min(
            (reached[node] + distance for node, distance in entries if node in reached),
            default=None,
        )
        if best is not None:
            best += snapped[1]
        ways.append(
            Way(best, True)
            if best is not None and (max_metres is None or best <= max_metres)
            else None
        )
    return ways
