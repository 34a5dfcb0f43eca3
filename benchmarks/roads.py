"""The shortest way along a road network: one source to every node (Dijkstra with heapq,
`whistle.organisation.roads.RoadGraph.distances`), in full and cut off at a distance,
against a plain breadth-first search of the same graph (the least any search that visits
every node and edge once costs in Python), in the same run.

The graph is a synthetic grid of SIDE × SIDE junctions about 100 m apart (SIDE 160: 25,600
nodes, 50,880 edges), each edge's length jittered by up to 20% so that the shortest way is
not the one with the fewest edges. Sources are drawn at random (seeded); the cut-off is 3 km,
the distance a car covers in 30 minutes at 6 km/h, the slowest hour a district might set.

    .venv/bin/python benchmarks/roads.py [--side 160] [--sources 20] [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")

import django

django.setup()

from reporting import report  # noqa: E402

from whistle.organisation.roads import RoadGraph  # noqa: E402

STEP = 0.001  # degrees: about 85 m east-west and 111 m north-south at 39.9°
ORIGIN = (116.3, 39.8)
CUT_OFF_M = 3000.0


def grid(side: int, seed: int = 7) -> RoadGraph:
    jitter = random.Random(seed)
    graph = RoadGraph(revision=None)
    lon0, lat0 = ORIGIN
    for x in range(side):
        for y in range(side):
            here = (lon0 + x * STEP, lat0 + y * STEP)
            if x + 1 < side:
                graph.add(
                    here, (lon0 + (x + 1) * STEP, lat0 + y * STEP), 85 * jitter.uniform(1, 1.2)
                )
            if y + 1 < side:
                graph.add(
                    here, (lon0 + x * STEP, lat0 + (y + 1) * STEP), 111 * jitter.uniform(1, 1.2)
                )
    return graph


def breadth_first(graph: RoadGraph, source: int) -> int:
    neighbours = graph.neighbours
    seen = {source}
    queue = deque([source])
    while queue:
        node = queue.popleft()
        for other, _length in neighbours[node]:
            if other not in seen:
                seen.add(other)
                queue.append(other)
    return len(seen)


def timed(function: Callable[[int], object], sources: list[int]) -> float:
    """CPU milliseconds per source: the machine is shared, and the search uses one core."""
    began = time.process_time()
    for source in sources:
        function(source)
    return (time.process_time() - began) / len(sources) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=160)
    parser.add_argument("--sources", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="10 sources")
    args = parser.parse_args()
    count = 10 if args.quick else args.sources
    graph = grid(args.side)
    edges = sum(len(n) for n in graph.neighbours) // 2
    print(
        f"{platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(f"grid {args.side}×{args.side}: {len(graph.positions):,} nodes, {edges:,} edges")
    sources = random.Random(11).sample(range(len(graph.positions)), count)
    bfs = timed(lambda s: breadth_first(graph, s), sources)
    full = timed(lambda s: graph.distances(s), sources)
    cut = timed(lambda s: graph.distances(s, CUT_OFF_M), sources)
    reached = sum(len(graph.distances(s, CUT_OFF_M)) for s in sources) / count
    note = f"{len(graph.positions)} nodes, {edges} edges, {count} sources"
    report(
        "roads.dijkstra_full", full, "CPU ms per source", database="memory", baseline=bfs, note=note
    )
    report(
        "roads.dijkstra_3km",
        cut,
        "CPU ms per source",
        database="memory",
        baseline=bfs,
        note=f"{note}; {reached:,.0f} nodes within 3 km on average",
    )


if __name__ == "__main__":
    main()
