"""What every benchmark script shares with `make bench` (benchmarks/run.py).

A script takes part in `make bench` when it

1. accepts `--quick` (a size that runs in a minute or two on a laptop), and
2. hands each measurement to `report(...)` below, with the raw baseline it was compared with
   in the same run.

`report` prints the measurement and, when the runner started the script, adds it as one JSON
line to the file that `WHISTLE_BENCH_RESULTS` names; the runner gathers those lines into
benchmarks/results.json. Run alone, a script just prints.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime

RESULTS_ENV = "WHISTLE_BENCH_RESULTS"


def report(
    name: str,
    value: float,
    unit: str,
    *,
    database: str,
    baseline: float | None = None,
    note: str = "",
) -> None:
    """One measurement: `value` of the product's path and `baseline` of the raw one, in the
    same `unit`; the ratio is value / baseline."""
    ratio = value / baseline if baseline else None
    line = {
        "name": name,
        "value": round(value, 6),
        "unit": unit,
        "database": database,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "baseline": round(baseline, 6) if baseline is not None else None,
        "ratio": round(ratio, 4) if ratio is not None else None,
        "note": note,
    }
    shown = f"{name}: {value:,.3f} {unit}"
    if baseline is not None:
        shown += f" (baseline {baseline:,.3f}, ratio {ratio:.3f})"
    print(shown, flush=True)
    target = os.environ.get(RESULTS_ENV)
    if target:
        with open(target, "a", encoding="utf-8") as results:
            results.write(json.dumps(line, ensure_ascii=False) + "\n")


def print_machine() -> str:
    """Print the date and the machine a run measures on (the database's version and the load
    included) and return the database's vendor."""
    import platform

    from django.db import connection

    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute("select sqlite_version()" if vendor == "sqlite" else "show server_version")
        version = cursor.fetchone()[0]
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {vendor} {version}; load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    return vendor


def alternate(
    actions: dict[str, Callable[[], object]], *, rounds: int, count: int
) -> dict[str, tuple[float, float]]:
    """Run each side's action `count` times in turn, for `rounds` rounds (the sides share the
    machine's moods alike); per side, the calls a second by the clock and per CPU second of
    this process."""
    totals = {side: [0.0, 0.0] for side in actions}
    for _round in range(rounds):
        for side, action in actions.items():
            started, cpu = time.perf_counter(), time.process_time()
            for _ in range(count):
                action()
            totals[side][0] += time.perf_counter() - started
            totals[side][1] += time.process_time() - cpu
    done = count * rounds
    return {side: (done / wall, done / cpu) for side, (wall, cpu) in totals.items()}


def print_sides(
    names: dict[str, str],
    rates: dict[str, tuple[float, float]],
    statements: dict[str, int],
    *,
    baseline: str,
    unit: str,
    against: str,
) -> None:
    """The sides side by side as a Markdown table: the rate by the clock and per CPU second,
    the statements of one call and both ratios to the `baseline` side (named `against`)."""
    print(f"| | {unit}/s | per CPU second | statements | × {against} | × {against} (CPU) |")
    print("|---|---|---|---|---|---|")
    base_wall, base_cpu = rates[baseline]
    for side, name in names.items():
        wall, cpu = rates[side]
        print(
            f"| {name} | {wall:.0f} | {cpu:.0f} | {statements[side]} | "
            f"{wall / base_wall:.2f} | {cpu / base_cpu:.2f} |"
        )
