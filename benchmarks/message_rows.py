"""A filing's message rows prepared by `whistle.cases.bulk` against another version of that
module, in one process: the rows `take_hotline_order` hands to `_row_params` (its
dispatchers' messages) are captured once, then prepared by this tree's `bulk.py` and by the
`--baseline` file's, alternating in rounds, so that the load of a shared machine falls on
both alike. Both are loaded afresh from their files, as modules of their own, so that
neither runs as the imported package's copy. Prints the CPU time (time.process_time) per
preparation and the ratio.

    git show main:whistle/cases/bulk.py > /tmp/bulk_before.py
    .venv/bin/python benchmarks/message_rows.py --baseline /tmp/bulk_before.py

It runs in a throwaway database made beside the configured one: a temporary SQLite file by
default, or a test database on the server that DATABASE_URL=postgresql://… names.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="a bulk.py to compare with")
    parser.add_argument("--count", type=int, default=5_000, help="preparations per round")
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()

    from scratch import run_in_throwaway

    run_in_throwaway(run, args)


def _loaded(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def run(args: argparse.Namespace, vendor: str) -> None:
    from benchmarks.bare_intake import Filings
    from benchmarks.lane_lookup import demo_city_with_lanes
    from whistle.cases import bulk

    demo_city_with_lanes(200)
    filings = Filings()
    captured: list[tuple[Any, ...]] = []
    prepare = bulk._row_params

    def capture(*given: Any, **named: Any) -> Any:
        captured.append(given)
        return prepare(*given, **named)

    bulk._row_params = capture
    try:
        filings.order("B1")
    finally:
        bulk._row_params = prepare
    plan, rows, connection = captured[0]
    sides = {
        "after": _loaded("bulk_after", ROOT / "whistle" / "cases" / "bulk.py")._row_params,
        "before": _loaded("bulk_before", Path(args.baseline))._row_params,
    }
    # Both give the same parameters but for the random public ids.
    kept = [index for index, field in enumerate(plan.columns) if field.name != "uuid"]
    made = [
        [[row[index] for index in kept] for row in side(plan, rows, connection)]
        for side in sides.values()
    ]
    assert made[0] == made[1]
    cpu = dict.fromkeys(sides, 0.0)
    for _round in range(-1, args.rounds):  # the first round warms, untimed
        for side, call in sides.items():
            started = time.process_time()
            for _ in range(args.count):
                call(plan, rows, connection)
            if _round >= 0:
                cpu[side] += time.process_time() - started
    each = {side: cpu[side] / (args.count * args.rounds) for side in sides}
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; database: {vendor}; {len(rows)} rows")
    print(f"CPU µs each: after {each['after'] * 1e6:.1f}, before {each['before'] * 1e6:.1f}")
    print(f"after / before: {each['after'] / each['before']:.3f}")


if __name__ == "__main__":
    main()
