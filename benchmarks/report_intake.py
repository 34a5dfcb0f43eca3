"""Filing in-process: `report_case` and `take_hotline_order` against a bare transaction that
inserts the same case, event and notification rows (benchmarks/bare_intake.py), in the same
run, alternating in rounds.

Loads the demo city into a throwaway database and, beside it, a grid district with LANES
lanes (benchmarks/lane_lookup.py) so that locating runs among a city's worth of lanes; then
files reports and work orders as the demo dispatcher at a place of its township. Prints
filings per second (wall clock and per CPU second of this process), the statements each
costs, and the ratios to the bare transaction.

    .venv/bin/python benchmarks/report_intake.py [--lanes 50000] [--count 300] [--rounds 3]
        [--quick]

`--quick` files among 5,000 lanes, 100 filings per round and side.

It runs in a throwaway database made beside the configured one: a temporary SQLite file by
default, or a test database on the server that DATABASE_URL=postgresql://… names.
"""

from __future__ import annotations

import argparse
import os
import platform
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from reporting import alternate, print_sides, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lanes", type=int, default=50_000)
    parser.add_argument("--count", type=int, default=300, help="filings per round and side")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="5,000 lanes, 100 filings")
    args = parser.parse_args()
    if args.quick:
        args.lanes, args.count = 5_000, 100

    from scratch import run_in_throwaway

    run_in_throwaway(run, args)


def run(args: argparse.Namespace, vendor: str) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from benchmarks.bare_intake import Filings
    from benchmarks.lane_lookup import demo_city_with_lanes

    lanes = demo_city_with_lanes(args.lanes)
    filings = Filings()

    sides: dict[str, tuple[str, Callable[[], Any]]] = {
        "report": ("report_case", filings.report),
        "order": ("take_hotline_order", filings.order),
        "bare": ("bare transaction", filings.bare),
    }
    statements = {}
    for side, (_, action) in sides.items():
        action()  # warm: the map, the policies, the translations
        with CaptureQueriesContext(connection) as queries:
            action()
        statements[side] = len(queries.captured_queries)
    rates = alternate(
        {side: action for side, (_, action) in sides.items()}, rounds=args.rounds, count=args.count
    )
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; database: {vendor}")
    print(f"{lanes} lanes; {args.rounds} rounds × {args.count} filings per side")
    names = {side: name for side, (name, _) in sides.items()}
    print_sides(names, rates, statements, baseline="bare", unit="filings", against="bare")
    bare_cpu = rates["bare"][1]
    for side in ("report", "order"):
        report(
            f"intake_in_process_{side}",
            rates[side][1],
            "filings per CPU second",
            database=vendor,
            baseline=bare_cpu,
            note=f"{sides[side][0]} against the bare transaction, {lanes} lanes",
        )


if __name__ == "__main__":
    main()
