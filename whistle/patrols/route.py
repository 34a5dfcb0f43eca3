"""The walked route: which recorded positions count, the geodesic distance, and how much of
the lane the route came near.

A phone standing still reports positions a few metres apart, and now and then one far off
(a cell tower fix, a reflection). Counting every step would make a patrol of a coffee break;
so a position counts only when it is accurate enough, at least `min_step_m` from the last
counted one, and reachable from it at `max_speed_mps`. Several impossible jumps in a row
mean the earlier anchor was the bad fix: the route restarts from the newest one (without
adding the jump).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings

from whistle.organisation import geo

# Jumps rejected in a row before the route restarts from the newest position.
RESTART_AFTER_JUMPS = 3


@dataclass(frozen=True)
class Fix:
    lon: float
    lat: float
    accuracy_m: float | None
    recorded_at: datetime


@dataclass(frozen=True)
class RouteRules:
    max_accuracy_m: float
    min_step_m: float
    max_speed_mps: float

    @classmethod
    def from_settings(cls) -> RouteRules:
        return cls(
            max_accuracy_m=float(getattr(settings, "WHISTLE_PATROL_MAX_ACCURACY_M", 50.0)),
            min_step_m=float(getattr(settings, "WHISTLE_PATROL_MIN_STEP_M", 10.0)),
            max_speed_mps=float(getattr(settings, "WHISTLE_PATROL_MAX_SPEED_MPS", 8.0)),
        )


@dataclass
class Walk:
    """The result of walking through positions in time order."""

    distance_m: float
    counted: list[bool]
    anchor: Fix | None


def walk(fixes: Sequence[Fix], rules: RouteRules, anchor: Fix | None = None) -> Walk:
    """Decide for each position (in time order) whether it counts, and add up the distance
    between counted positions. `anchor` is the last counted position before these."""
    total = 0.0
    counted: list[bool] = []
    jumps = 0
    for fix in fixes:
        if fix.accuracy_m is not None and fix.accuracy_m > rules.max_accuracy_m:
            counted.append(False)
            continue
        if anchor is None:
            anchor = fix
            counted.append(True)
            continue
        step = geo.distance_m((anchor.lon, anchor.lat), (fix.lon, fix.lat))
        if step < rules.min_step_m:
            counted.append(False)
            continue
        seconds = (fix.recorded_at - anchor.recorded_at).total_seconds()
        if seconds <= 0 or step / seconds > rules.max_speed_mps:
            jumps += 1
            if jumps >= RESTART_AFTER_JUMPS:
                anchor = fix
                jumps = 0
                counted.append(True)
            else:
                counted.append(False)
            continue
        jumps = 0
        total += step
        anchor = fix
        counted.append(True)
    return Walk(total, counted, anchor)


# Metres per degree of latitude, and of longitude at the equator (WGS-84, rounded).
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON = 111_320.0


def coverage(
    centre_line: Any,
    positions: Iterable[tuple[float, float]],
    *,
    within_m: float = 30.0,
    step_m: float = 10.0,
) -> float:
    """The share (0–1) of a lane's centre line that lies within `within_m` of a position.

    The line is sampled every `step_m`; positions are bucketed in a grid of `within_m`
    cells, so the work grows with the number of samples plus positions, not their product.
    A local flat frame is accurate to centimetres over a lane's length, which is all a
    30 m tolerance needs.
    """
    try:
        line = geo.line_positions(centre_line)
    except geo.GeometryError:
        return 0.0
    lon0, lat0 = line[0]
    kx = _M_PER_DEG_LON * math.cos(math.radians(lat0))

    def local(lon: float, lat: float) -> tuple[float, float]:
        return (lon - lon0) * kx, (lat - lat0) * _M_PER_DEG_LAT

    cells: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for lon, lat in positions:
        x, y = local(lon, lat)
        cells.setdefault((math.floor(x / within_m), math.floor(y / within_m)), []).append((x, y))
    if not cells:
        return 0.0

    samples: list[tuple[float, float]] = []
    for (ax, ay), (bx, by) in itertools.pairwise(line):
        x1, y1 = local(ax, ay)
        x2, y2 = local(bx, by)
        length = math.hypot(x2 - x1, y2 - y1)
        steps = max(1, math.ceil(length / step_m))
        samples.extend(
            (x1 + (x2 - x1) * i / steps, y1 + (y2 - y1) * i / steps) for i in range(steps)
        )
    samples.append(local(*line[-1]))

    limit = within_m * within_m
    near = 0
    for x, y in samples:
        cx, cy = math.floor(x / within_m), math.floor(y / within_m)
        if any(
            (px - x) ** 2 + (py - y) ** 2 <= limit
            for dx in (-1, 0, 1)
            for dy in (-1, 0, 1)
            for px, py in cells.get((cx + dx, cy + dy), ())
        ):
            near += 1
    return round(near / len(samples), 3)
