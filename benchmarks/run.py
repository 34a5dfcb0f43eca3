"""`make bench`: run every benchmark script that takes part, gather benchmarks/results.json.

A script takes part when it imports `reporting` (benchmarks/reporting.py says what that
asks of it). Each runs in its own process, one after the other, on the database that
`DATABASE_URL` names (a throwaway one: each script makes its own test database or file);
`--quick` is passed on. The results file maps each measurement ("name@database") to its
value, unit, database, date, baseline and ratio, and records the machine and the command;
a run replaces the entries it measured and keeps the others.

    .venv/bin/python benchmarks/run.py [--quick] [--only NAME ...] [--timeout 1800]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
OWN = {"run.py", "reporting.py", "scratch.py", "__init__.py"}
# `from reporting import report`, `from benchmarks.reporting import print_machine, report`, …
IMPORTS_REPORT = re.compile(r"^\s*from (?:benchmarks\.)?reporting import [^\n]*\breport\b", re.M)


def taking_part() -> list[Path]:
    return sorted(
        path
        for path in HERE.glob("*.py")
        if path.name not in OWN and IMPORTS_REPORT.search(path.read_text(encoding="utf-8"))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="*", default=None, help="script names without .py")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per script")
    args = parser.parse_args()
    scripts = [p for p in taking_part() if args.only is None or p.stem in args.only]
    results: dict[str, dict[str, object]] = {}
    if RESULTS.exists():
        results = json.loads(RESULTS.read_text(encoding="utf-8")).get("results", {})
    failed = []
    with tempfile.TemporaryDirectory() as scratch:
        lines = Path(scratch) / "results.jsonl"
        for script in scripts:
            command = [sys.executable, str(script), *(["--quick"] if args.quick else [])]
            print(f"== {script.name}", flush=True)
            began = time.monotonic()
            env = {**os.environ, "WHISTLE_BENCH_RESULTS": str(lines)}
            try:
                done = subprocess.run(command, env=env, timeout=args.timeout, check=False)
                if done.returncode != 0:
                    failed.append(script.name)
            except subprocess.TimeoutExpired:
                failed.append(script.name)
            print(f"   ({time.monotonic() - began:.1f} s)", flush=True)
        if lines.exists():
            for line in lines.read_text(encoding="utf-8").splitlines():
                measured = json.loads(line)
                # One entry per measurement and database: a PostgreSQL run keeps SQLite's.
                results[f"{measured.pop('name')}@{measured['database']}"] = measured
    load = os.getloadavg()
    document = {
        "machine": f"{platform.platform()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["benchmarks/run.py", *sys.argv[1:]]),
        "load_average": [round(x, 2) for x in load],
        "results": dict(sorted(results.items())),
    }
    RESULTS.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(f"wrote {RESULTS.relative_to(HERE.parent)} ({len(results)} measurements)")
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
