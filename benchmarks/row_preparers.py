"""A filing's columns read by their preparers against the fields' generic path, in one
process: `take_hotline_order` with each column of its case, event and order prepared by the
function `whistle.cases.rows` makes per field ("preparers"), then by
`field.get_db_prep_save(field.pre_save(obj, True), connection)` for every column ("generic",
as before the preparers), then the bare transaction (benchmarks/bare_intake.py), alternating
in rounds, so that the load of a shared machine falls on all three alike.

Loads the demo city with a grid district beside it bringing the lanes to LANES
(benchmarks/lane_lookup.py) and files work orders as the demo dispatcher. Prints the CPU
time (time.process_time) per filing and the ratios.

    .venv/bin/python benchmarks/row_preparers.py [--lanes 5000] [--count 100] [--rounds 10]

It runs in a throwaway database made beside the configured one: a temporary SQLite file by
default, or a test database on the server that DATABASE_URL=postgresql://… names.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lanes", type=int, default=5_000)
    parser.add_argument("--count", type=int, default=100, help="filings per round and side")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()

    from scratch import run_in_throwaway

    run_in_throwaway(run, args)


def run(args: argparse.Namespace, vendor: str) -> None:
    from benchmarks.bare_intake import Filings
    from benchmarks.lane_lookup import demo_city_with_lanes
    from whistle.cases import rows

    lanes = demo_city_with_lanes(args.lanes)
    filings = Filings()
    preparer = rows._preparer

    def generic(field: Any, connection: Any) -> Callable[[Any], Any]:
        def prepare(obj: Any) -> Any:
            return field.get_db_prep_save(field.pre_save(obj, True), connection)

        return prepare

    def prepared_by(made: Callable[..., Any]) -> None:
        rows._PLANS.clear()
        rows._preparer = made

    sides: dict[str, tuple[Callable[..., Any] | None, Callable[[], Any]]] = {
        "take_hotline_order, preparers": (preparer, filings.order),
        "take_hotline_order, generic": (generic, filings.order),
        "bare transaction": (None, filings.bare),
    }
    cpu = dict.fromkeys(sides, 0.0)
    try:
        for _round in range(-1, args.rounds):  # the first round warms, untimed
            for side, (made, call) in sides.items():
                if made is not None:
                    prepared_by(made)
                    call()  # the plans made again, untimed
                started = time.process_time()
                for _ in range(args.count):
                    call()
                if _round >= 0:
                    cpu[side] += time.process_time() - started
    finally:
        prepared_by(preparer)
    each = {side: cpu[side] / (args.count * args.rounds) for side in sides}
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; database: {vendor}")
    print(f"{lanes} lanes; {args.rounds} rounds × {args.count} filings per side")
    print("| | CPU µs each | × bare (per CPU second) |")
    print("|---|---|---|")
    for side in sides:
        print(f"| {side} | {each[side] * 1e6:,.0f} | {each['bare transaction'] / each[side]:.2f} |")
    ratio = each["take_hotline_order, preparers"] / each["take_hotline_order, generic"]
    print(f"preparers / generic, CPU per filing: {ratio:.3f}")


if __name__ == "__main__":
    main()
