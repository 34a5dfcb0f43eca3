"""Benchmark: every assessment record derived from a simulated year, in SQL and in Python.

In a throwaway database (a test database on the PostgreSQL server that DATABASE_URL names;
the SQL path is PostgreSQL's: on SQLite only the Python path is measured) it writes a year
of the Dongcheng preset at --scale (--quick: 0.01), then measures, in the same run:

1. `recompute_all(in_sql=False)`: the records derived case by case in Python (the old path),
   from no records;
2. `recompute_all(in_sql=True)`: the set-based derivation (`whistle.assessment.derive_sql`),
   from no records, after the Python path's records, cells and scores were removed;
3. each again over stored records that are all up to date (nothing written);
4. the baseline: a plain read of the trail events the records come from.

With --profile it also prints where the Python path's time goes (cProfile, cumulative).

    DATABASE_URL=postgresql://… .venv/bin/python benchmarks/assessment_derive_sql.py --scale 0.2
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from reporting import print_machine, report

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1, help="of the Dongcheng preset")
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--profile", action="store_true", help="cProfile the Python path")
    parser.add_argument("--statements", action="store_true", help="time the SQL's statements")
    parser.add_argument("--quick", action="store_true", help="--scale 0.01")
    args = parser.parse_args()
    if args.quick:
        args.scale = 0.01
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
    import django

    django.setup()
    from scratch import throwaway_database

    with throwaway_database():
        measure(scale=args.scale, seed=args.seed, profile=args.profile, statements=args.statements)


def timed(function: Callable[[], int]) -> tuple[float, int]:
    began = time.perf_counter()
    value = function()
    return time.perf_counter() - began, value


def measure(*, scale: float, seed: int, profile: bool, statements: bool) -> None:
    from django.db import connection, transaction

    from whistle.assessment.engine import RELEVANT_KINDS, recompute_all
    from whistle.assessment.models import DepartmentResult, ScoreCell, SummonsAssessment
    from whistle.cases.models import Event
    from whistle.simulation.city import build_city
    from whistle.simulation.history import Year
    from whistle.simulation.presets import PRESETS

    vendor = print_machine()
    shape = PRESETS["dongcheng"].scaled(scale)
    # Ended two days ago: the last cases' trails run on past the end, never past the clock.
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    end -= timedelta(days=2)
    with transaction.atomic():
        city = build_city(shape, seed)
        year = Year(city, start=end - timedelta(days=365), end=end, cases=shape.cases_per_year)
        written = year.write()
    print(
        f"history: {written.cases:,} cases, {written.summonses:,} summonses, "
        f"{written.events:,} events",
        flush=True,
    )
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    def clear() -> None:
        with transaction.atomic():
            SummonsAssessment.objects.all().delete()
            ScoreCell.objects.all().delete()
            DepartmentResult.objects.all().delete()

    def python_path() -> int:
        return recompute_all(in_sql=False)

    def sql_path() -> int:
        return recompute_all(in_sql=True)

    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        python_path()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
        clear()

    if statements:
        spent: dict[str, float] = {}

        def clock(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            began = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                key = " ".join(sql.split())[:90]
                spent[key] = spent.get(key, 0.0) + time.perf_counter() - began

        began = time.perf_counter()
        with connection.execute_wrapper(clock):
            sql_path()
        print(f"sql path under the statement clock: {time.perf_counter() - began:.1f} s")
        for key, seconds in sorted(spent.items(), key=lambda item: -item[1])[:15]:
            print(f"{seconds:8.3f} s  {key}")
        clear()

    python_s, records = timed(python_path)
    print(f"python path: {records:,} records in {python_s:.1f} s", flush=True)
    python_again_s, again = timed(python_path)
    assert again == 0
    began = time.perf_counter()
    relevant = sum(
        1
        for _ in Event.objects.filter(kind__in=RELEVANT_KINDS)
        .order_by("case_id", "seq")
        .values_list("case_id", "id", "seq", "at", "kind", "summons_id", "data")
        .iterator(chunk_size=5000)
    )
    read_s = time.perf_counter() - began
    baseline = records / read_s
    note = f"{records:,} records; baseline: reading the {relevant:,} events they come from"
    if vendor != "postgresql":
        report(
            "assessment.derive_python_records_per_s",
            records / python_s,
            "records/s",
            database=vendor,
            baseline=baseline,
            note=note + "; the SQL path is PostgreSQL's and is not measured here",
        )
        print("the set-based derivation is PostgreSQL's: only the Python path is measured here")
        return
    stored = sorted(SummonsAssessment.objects.values_list("summons_id", "total", "event_ids"))
    clear()
    sql_s, sql_records = timed(sql_path)
    print(f"sql path: {sql_records:,} records in {sql_s:.1f} s", flush=True)
    assert sql_records == records
    assert sorted(SummonsAssessment.objects.values_list("summons_id", "total", "event_ids")) == (
        stored
    )
    sql_again_s, again = timed(sql_path)
    assert again == 0

    report(
        "assessment.derive_python_records_per_s",
        records / python_s,
        "records/s",
        database=vendor,
        baseline=baseline,
        note=note,
    )
    report(
        "assessment.derive_sql_records_per_s",
        records / sql_s,
        "records/s",
        database=vendor,
        baseline=baseline,
        note=note,
    )
    report(
        "assessment.derive_python_unchanged_records_per_s",
        records / python_again_s,
        "records/s",
        database=vendor,
        baseline=baseline,
        note="again, every stored record up to date",
    )
    report(
        "assessment.derive_sql_unchanged_records_per_s",
        records / sql_again_s,
        "records/s",
        database=vendor,
        baseline=baseline,
        note="again, every stored record up to date",
    )
    print(
        f"SQL path {python_s / sql_s:.1f}x the Python path; 20,000,000 records at "
        f"{records / sql_s:,.0f}/s: {20_000_000 / (records / sql_s):,.0f} s"
    )


if __name__ == "__main__":
    main()
