"""Benchmark: every assessment record derived from a simulated year, in SQL and in Python.

In a throwaway database (a test database on the PostgreSQL server that DATABASE_URL names;
the SQL path is PostgreSQL's: on SQLite only the Python path is measured) it writes a year
of the Dongcheng preset at --scale (--quick: 0.01), then measures, in the same run:

1. `recompute_all(in_sql=False)`: the records derived case by case in Python (the old path),
   from no records;
2. `recompute_all(in_sql=True, workers=1)`: the set-based derivation
   (`whistle.assessment.derive_sql`) on one connection, from no records, after the Python
   path's records, cells and scores were removed;
3. the same with its ranges on --workers connections side by side (by default
   WHISTLE_ASSESSMENT_WORKERS), from no records again; both must write what the Python path
   wrote;
4. each again over stored records that are all up to date (nothing written); for the SQL
   path on one connection, the WAL the server wrote meanwhile (`pg_current_wal_lsn`, every
   database's: other work on the server counts too);
5. the baseline: a plain read of the trail events the records come from (into Python), and,
   for scale, the same events only counted in the server.

With --profile it also prints where the Python path's time goes (cProfile, cumulative); with
--statements, where the SQL path's goes: each step of `recompute_all`, `derive_all` and
`Derivation` (its calls, its own statements, the rest in Python; the commit among them, where
PostgreSQL checks the records' deferred foreign keys), then each statement.

    DATABASE_URL=postgresql://… .venv/bin/python benchmarks/assessment_derive_sql.py --scale 0.2
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import pstats
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import reporting
from reporting import report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1, help="of the Dongcheng preset")
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--profile", action="store_true", help="cProfile the Python path")
    parser.add_argument("--statements", action="store_true", help="time the SQL's statements")
    parser.add_argument("--quick", action="store_true", help="--scale 0.01")
    parser.add_argument(
        "--workers", type=int, default=None, help="connections side by side (a setting's)"
    )
    args = parser.parse_args()
    if args.quick:
        args.scale = 0.01
    from scratch import set_up_django, throwaway_database

    set_up_django()

    with throwaway_database():
        measure(
            scale=args.scale,
            seed=args.seed,
            profile=args.profile,
            statements=args.statements,
            workers=args.workers,
        )


def timed(function: Callable[[], int]) -> tuple[float, int]:
    began = time.perf_counter()
    value = function()
    return time.perf_counter() - began, value


class StepClock:
    """Where the SQL path's time goes: each step of `recompute_all`, `derive_all` and
    `Derivation` (wrapped for the run), the statements each runs (Django's execute wrapper),
    and the rest of each step, spent in Python (or waiting on the commit)."""

    def __init__(self) -> None:
        self.inclusive: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.direct_sql: dict[str, float] = {}
        self.children: dict[str, float] = {}
        self.statements: dict[str, float] = {}
        self.stack: list[str] = []

    def wrap(self, owner: Any, attribute: str, name: str, *, generator: bool = False) -> Any:
        original = getattr(owner, attribute)
        clock = self

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            clock.stack.append(name)
            began = time.perf_counter()
            try:
                value = original(*args, **kwargs)
                return list(value) if generator else value
            finally:
                spent = time.perf_counter() - began
                clock.stack.pop()
                clock.inclusive[name] = clock.inclusive.get(name, 0.0) + spent
                clock.calls[name] = clock.calls.get(name, 0) + 1
                if clock.stack:
                    parent = clock.stack[-1]
                    clock.children[parent] = clock.children.get(parent, 0.0) + spent

        setattr(owner, attribute, wrapped)
        return original

    def statement(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - began
            key = " ".join(sql.split())[:90]
            self.statements[key] = self.statements.get(key, 0.0) + spent
            step = self.stack[-1] if self.stack else "(outside the steps)"
            self.direct_sql[step] = self.direct_sql.get(step, 0.0) + spent

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        from django.db import connection, connections

        from whistle.assessment import derive_sql, engine

        wrapped = [
            (engine, "lock_scoring", "lock_scoring", False),
            (engine, "compute_records", "compute_records (odd cases, Python)", False),
            (engine, "store_results", "store_results (department scores)", False),
            (engine, "_districts_with_data", "_districts_with_data", False),
            (derive_sql, "derive_all", "derive_all", False),
            (derive_sql.Derivation, "__init__", "Derivation() (closed months read)", False),
            (derive_sql.Derivation, "create_tables", "create_tables", False),
            (derive_sql.Derivation, "case_ranges", "case_ranges", True),
            (derive_sql.Derivation, "derive", "derive (per range)", False),
            (derive_sql.Derivation, "_add_derived", "_add_derived (odd cases' rows)", False),
            (derive_sql.Derivation, "_score", "_score", False),
            (derive_sql.Derivation, "_write", "_write", False),
            (derive_sql.Derivation, "rewrite_cells", "rewrite_cells", False),
        ]
        originals = [
            (owner, attribute, self.wrap(owner, attribute, name, generator=generator))
            for owner, attribute, name, generator in wrapped
        ]
        # The commit of the recompute's transaction (atomic's exit calls the connection's).
        wrapper = connections["default"]
        self.wrap(wrapper, "commit", "commit")
        try:
            with connection.execute_wrapper(self.statement):
                yield
        finally:
            for owner, attribute, original in originals:
                setattr(owner, attribute, original)
            del wrapper.commit

    def print(self, total: float) -> None:
        print("steps (inclusive s, calls; of which their own statements; the rest in Python):")
        for name, seconds in sorted(self.inclusive.items(), key=lambda item: -item[1]):
            sql = self.direct_sql.get(name, 0.0)
            rest = seconds - sql - self.children.get(name, 0.0)
            print(
                f"{seconds:8.3f} s  {self.calls[name]:4d}x  {name}: statements {sql:.3f} s, "
                f"rest {rest:.3f} s"
            )
        outside = self.direct_sql.get("(outside the steps)", 0.0)
        stepped = sum(seconds for name, seconds in self.inclusive.items() if name in TOP_STEPS)
        print(
            f"outside the steps: statements {outside:.3f} s, the rest "
            f"{total - stepped - outside:.3f} s"
        )
        print("statements (s):")
        for key, seconds in sorted(self.statements.items(), key=lambda item: -item[1])[:18]:
            print(f"{seconds:8.3f} s  {key}")


# The steps that `recompute_all` itself calls (not nested in one another).
TOP_STEPS = {
    "lock_scoring",
    "derive_all",
    "_districts_with_data",
    "store_results (department scores)",
    "commit",
}


def measure(
    *, scale: float, seed: int, profile: bool, statements: bool, workers: int | None
) -> None:
    from django.conf import settings
    from django.db import connection, transaction

    from whistle.assessment.engine import RELEVANT_KINDS, recompute_all
    from whistle.assessment.models import (
        RECORD_FIELDS,
        DepartmentResult,
        ScoreCell,
        SummonsAssessment,
    )
    from whistle.cases.models import Event
    from whistle.simulation.city import build_city
    from whistle.simulation.history import Year
    from whistle.simulation.presets import PRESETS

    vendor = reporting.print_machine()
    cell_columns = [f.attname for f in ScoreCell._meta.concrete_fields if f.attname != "id"]
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

    if workers is None:
        workers = settings.WHISTLE_ASSESSMENT_WORKERS
    side_by_side = max(workers, 2)

    def wal_position() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()")
            return str(cursor.fetchone()[0])

    def with_wal(label: str, path: Callable[[], int]) -> Callable[[], int]:
        """The path, printing the WAL written while it ran (the server's, all databases)."""

        def run() -> int:
            began = wal_position()
            value = path()
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", [began])
                written = float(cursor.fetchone()[0])
            print(f"WAL while {label}: {written / 1e6:.1f} MB", flush=True)
            return value

        return run

    def sql_path() -> int:
        return recompute_all(in_sql=True, workers=1)

    def parallel_path() -> int:
        return recompute_all(in_sql=True, workers=side_by_side)

    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        python_path()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
        clear()

    if statements:
        steps = StepClock()
        began = time.perf_counter()
        with steps.watching():
            sql_path()
        total = time.perf_counter() - began
        print(f"sql path under the statement clock: {total:.2f} s")
        steps.print(total)
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
    with connection.cursor() as cursor:
        began = time.perf_counter()
        cursor.execute(
            f"SELECT count(*), sum(length(data::text)) FROM {Event._meta.db_table} "
            "WHERE kind = ANY(%s)",
            [list(RELEVANT_KINDS)],
        )
        cursor.fetchall()
        scan_s = time.perf_counter() - began
    print(
        f"baseline: {relevant:,} events read into Python in {read_s:.1f} s, "
        f"counted in the server in {scan_s:.2f} s",
        flush=True,
    )

    def stored() -> list[Any]:
        return sorted(SummonsAssessment.objects.values_list(*RECORD_FIELDS, "summons_id"))

    python_records = stored()
    python_cells = sorted(ScoreCell.objects.values_list(*cell_columns))
    clear()
    sql_s, sql_records = timed(with_wal("the SQL path ran from no records", sql_path))
    print(f"sql path, 1 connection: {sql_records:,} records in {sql_s:.1f} s", flush=True)
    assert sql_records == records
    assert stored() == python_records
    assert sorted(ScoreCell.objects.values_list(*cell_columns)) == python_cells
    sql_again_s, again = timed(with_wal("the SQL path ran again", sql_path))
    assert again == 0
    clear()
    parallel_s, parallel_records = timed(parallel_path)
    print(
        f"sql path, {side_by_side} connections: {parallel_records:,} records in {parallel_s:.1f} s",
        flush=True,
    )
    assert parallel_records == records
    assert stored() == python_records
    assert sorted(ScoreCell.objects.values_list(*cell_columns)) == python_cells
    parallel_again_s, again = timed(parallel_path)
    assert again == 0

    for name, seconds, what in [
        ("assessment.derive_python_records_per_s", python_s, note),
        ("assessment.derive_sql_records_per_s", sql_s, note + "; one connection"),
        (
            "assessment.derive_sql_parallel_records_per_s",
            parallel_s,
            note + f"; {side_by_side} connections side by side",
        ),
        (
            "assessment.derive_python_unchanged_records_per_s",
            python_again_s,
            "again, every stored record up to date",
        ),
        (
            "assessment.derive_sql_unchanged_records_per_s",
            sql_again_s,
            "again, every stored record up to date; one connection",
        ),
        (
            "assessment.derive_sql_parallel_unchanged_records_per_s",
            parallel_again_s,
            f"again, every stored record up to date; {side_by_side} connections",
        ),
    ]:
        report(name, records / seconds, "records/s", database=vendor, baseline=baseline, note=what)
    beijing = 20_000_000
    print(
        f"SQL path {python_s / sql_s:.1f}x the Python path on one connection, "
        f"{python_s / parallel_s:.1f}x on {side_by_side} ({sql_s / parallel_s:.2f}x the one); "
        f"{beijing:,} records: {beijing / (records / sql_s):,.0f} s on one connection, "
        f"{beijing / (records / parallel_s):,.0f} s on {side_by_side}; the read of the events "
        f"into Python alone: {beijing / baseline:,.0f} s"
    )


if __name__ == "__main__":
    main()
