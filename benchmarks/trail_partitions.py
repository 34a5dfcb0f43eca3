"""What partitioning the trail by month costs and saves on PostgreSQL, measured before it is
switched on (docs/deployment.md, "Partitioning the trail").

Builds two tables of the trail's shape in a throwaway database, side by side in the same run:
`plain` as `cases_event` is today (one table, primary key `id`, unique `(case_id, seq)` and
`hash`, index `(kind, at)`), and `monthly`, range-partitioned by month of `at` with the keys
the design names (primary key `(id, at)`, unique `(case_id, seq, at)` and `(hash, at)`, index
`(kind, at)`). Both get the same rows: ROWS events over twelve months, EVENTS to a case, each
case living a few hours. Then it times, each on both tables, with random cases:

- the trail of one case (the case page), on `monthly` without a time range, with
  `at >= reported_at` (an open case), and with `at BETWEEN reported_at AND closed_at` (a
  closed one);
- the assessment's incremental read (`id > last`, 500 rows), without and with `at >=` its
  last run;
- one month's check-ins counted by kind (the month pages);
- appending one event a statement, as the actions do;
- retiring the oldest month: `DELETE` on `plain`, `DETACH PARTITION` on `monthly`.

    DATABASE_URL=postgresql://… .venv/bin/python benchmarks/trail_partitions.py \
        [--rows 2000000] [--quick]

PostgreSQL only: on SQLite it says so and exits (SQLite has no partitioning).
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from reporting import report

MONTHS = 12
START = datetime(2026, 1, 1, tzinfo=UTC)
KINDS = ("reported", "whistle_blown", "summoned", "acknowledged", "checked_in", "progress")

COLUMNS = """
    case_id bigint NOT NULL,
    seq integer NOT NULL,
    at timestamptz NOT NULL,
    kind varchar(40) NOT NULL,
    actor_id bigint,
    actor_role varchar(32) NOT NULL DEFAULT '',
    summons_id bigint,
    data jsonb NOT NULL,
    lon double precision,
    lat double precision,
    prev_hash varchar(64) NOT NULL,
    hash varchar(64) NOT NULL
"""


def month_start(n: int) -> datetime:
    return datetime(
        START.year + (START.month - 1 + n) // 12, (START.month - 1 + n) % 12 + 1, 1, tzinfo=UTC
    )


def schema(cursor: Any) -> None:
    cursor.execute(
        f"CREATE TABLE plain (id bigint PRIMARY KEY, {COLUMNS},"
        " UNIQUE (case_id, seq), UNIQUE (hash))"
    )
    cursor.execute("CREATE INDEX plain_kind_at ON plain (kind, at)")
    cursor.execute(
        f"CREATE TABLE monthly (id bigint NOT NULL, {COLUMNS}, PRIMARY KEY (id, at),"
        " UNIQUE (case_id, seq, at), UNIQUE (hash, at)) PARTITION BY RANGE (at)"
    )
    cursor.execute("CREATE INDEX monthly_kind_at ON monthly (kind, at)")
    for n in range(MONTHS + 1):
        cursor.execute(
            f"CREATE TABLE monthly_{n:02d} PARTITION OF monthly FOR VALUES FROM (%s) TO (%s)",
            [month_start(n), month_start(n + 1)],
        )


def rows_sql(table: str, first: int, count: int, cases: int, events: int) -> str:
    """An INSERT … SELECT of `count` events from id `first`: case g / events, its events
    ten minutes apart, the cases spread evenly over the twelve months."""
    span = (month_start(MONTHS) - START).total_seconds() - events * 600
    kinds = "ARRAY[" + ",".join(f"'{k}'" for k in KINDS) + "]"
    return f"""
        INSERT INTO {table} (id, case_id, seq, at, kind, actor_role, data, prev_hash, hash)
        SELECT g, g / {events}, g % {events},
               timestamptz '{START.isoformat()}'
                 + make_interval(secs => (g / {events}) * {span / cases}
                                        + (g % {events}) * 600),
               ({kinds})[(g % {events}) % {len(KINDS)} + 1], 'officer',
               jsonb_build_object('note', 'event ' || g),
               md5((g - 1)::text) || md5((g - 1)::text || 'p'),
               md5(g::text) || md5(g::text || 'p')
        FROM generate_series({first}, {first + count - 1}) AS g
    """


def timed(run: Callable[[], Any]) -> float:
    began = time.perf_counter()
    run()
    return time.perf_counter() - began


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def repeat(cursor: Any, sql: str, params: list[list[Any]]) -> list[float]:
    """Milliseconds of each execution of `sql` with each parameter list (all rows fetched)."""
    times = []
    for values in params:
        began = time.perf_counter()
        cursor.execute(sql, values)
        cursor.fetchall()
        times.append((time.perf_counter() - began) * 1000)
    return times


def partitions_read(cursor: Any, sql: str, values: list[Any]) -> int:
    """How many partitions the plan of `sql` reads (run, not only planned: pruning at
    execution shows as partitions never executed)."""
    cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, FORMAT JSON) " + sql, values)
    plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        import json

        plan = json.loads(plan)
    read = 0

    def walk(node: dict[str, Any]) -> None:
        nonlocal read
        if node.get("Relation Name", "").startswith("monthly_") and node.get("Actual Loops", 0):
            read += 1
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return read


def compare(
    name: str,
    cursor: Any,
    plain_sql: str,
    monthly_sql: str,
    monthly_params: list[list[Any]],
    plain_takes: int | None = None,
) -> None:
    """Interleaved rounds of the same look-ups on both tables, p50 and p95 in ms. `plain`
    takes the first `plain_takes` parameters of each look-up (all by default): the time
    range is `monthly`'s alone."""
    params = [values[:plain_takes] for values in monthly_params]
    plain: list[float] = []
    monthly: list[float] = []
    for start in range(0, len(params), 50):
        plain += repeat(cursor, plain_sql, params[start : start + 50])
        monthly += repeat(cursor, monthly_sql, monthly_params[start : start + 50])
    read = max(partitions_read(cursor, monthly_sql, values) for values in monthly_params[:20])
    print(f"  {name}: reads up to {read} of {MONTHS + 1} partitions", flush=True)
    for share, label in ((0.5, "p50"), (0.95, "p95")):
        report(
            f"trail_partitions_{name}_{label}",
            percentile(monthly, share),
            "ms",
            database="postgresql",
            baseline=percentile(plain, share),
            note=f"monthly partitions (reads up to {read} of {MONTHS + 1}) against one table",
        )


def measure(rows: int, events: int, lookups: int) -> None:
    from django.db import connection

    cases = rows // events
    rng = random.Random(14)
    with connection.cursor() as cursor:
        schema(cursor)
        chunk = 200_000
        fill = {"plain": 0.0, "monthly": 0.0}
        for first in range(0, rows, chunk):
            count = min(chunk, rows - first)
            for table in ("plain", "monthly"):
                sql = rows_sql(table, first, count, cases, events)
                began = time.perf_counter()
                cursor.execute(sql)
                fill[table] += time.perf_counter() - began
        report(
            "trail_partitions_bulk_insert",
            rows / fill["monthly"],
            "rows/s",
            database="postgresql",
            baseline=rows / fill["plain"],
            note=f"{rows:,} events generated in SQL, chunks of {chunk:,}",
        )
        cursor.execute("ANALYZE plain")
        cursor.execute("ANALYZE monthly")
        cursor.execute("SELECT pg_total_relation_size('plain')")
        print(f"plain: {cursor.fetchone()[0] / 2**20:,.0f} MiB with indexes", flush=True)

        # The trail of one case, as the case page reads it.
        picked = [rng.randrange(cases) for _ in range(lookups)]
        cursor.execute(
            "SELECT case_id, min(at), max(at) FROM plain WHERE case_id = ANY(%s) GROUP BY case_id",
            [picked],
        )
        lived = {case: (first, last) for case, first, last in cursor.fetchall()}
        trail = "SELECT id, seq, at, kind, data, hash FROM {} WHERE case_id = %s{} ORDER BY seq"
        variants: list[tuple[str, str, list[list[Any]]]] = [
            ("case_trail", "", [[case] for case in picked]),
            ("case_trail_ranged", " AND at >= %s", [[case, lived[case][0]] for case in picked]),
            ("case_trail_closed", " AND at BETWEEN %s AND %s", [[c, *lived[c]] for c in picked]),
        ]
        for name, extra, values in variants:
            plain_sql = trail.format("plain", "")
            compare(name, cursor, plain_sql, trail.format("monthly", extra), values, 1)

        # The assessment's incremental read: what came after the last event it read.
        lasts = [rng.randrange(rows - rows // MONTHS, rows - 600) for _ in range(lookups)]
        cursor.execute("SELECT id, at FROM plain WHERE id = ANY(%s)", [lasts])
        last_at = dict(cursor.fetchall())
        since = "SELECT id, case_id, kind, at FROM {} WHERE id > %s{} ORDER BY id LIMIT 500"
        variants = [
            ("incremental", "", [[last] for last in lasts]),
            ("incremental_ranged", " AND at >= %s", [[last, last_at[last]] for last in lasts]),
        ]
        for name, extra, values in variants:
            plain_sql = since.format("plain", "")
            compare(name, cursor, plain_sql, since.format("monthly", extra), values, 1)

        # One month's check-ins, as the month pages count them.
        months = [rng.randrange(MONTHS) for _ in range(max(20, lookups // 10))]
        count = "SELECT count(*) FROM {} WHERE kind = 'checked_in' AND at >= %s AND at < %s"
        params = [[month_start(m), month_start(m + 1)] for m in months]
        compare("month_count", cursor, count.format("plain"), count.format("monthly"), params)

        # Appending one event a statement, as the actions do (in a later month).
        append = (
            "INSERT INTO {} (id, case_id, seq, at, kind, data, prev_hash, hash)"
            " VALUES (%s, %s, 0, %s, 'reported', '{{}}', %s, %s)"
        )
        late = month_start(MONTHS) + timedelta(days=3)
        spent = {"plain": 0.0, "monthly": 0.0}
        appended = 2_000
        for start in range(0, appended, 100):
            for table in ("plain", "monthly"):
                began = time.perf_counter()
                for n in range(start, start + 100):
                    key = rows + n
                    cursor.execute(
                        append.format(table),
                        [key, cases + n, late, f"{key - 1:064d}", f"{key:064d}"],
                    )
                spent[table] += time.perf_counter() - began
        report(
            "trail_partitions_append",
            appended / spent["monthly"],
            "events/s",
            database="postgresql",
            baseline=appended / spent["plain"],
            note="one INSERT a statement, autocommit",
        )

        # Retiring the oldest month: the partition is detached (kept, for an archive that
        # verify-trail still reads); the one table can only delete its rows.
        deleted = timed(lambda: cursor.execute("DELETE FROM plain WHERE at < %s", [month_start(1)]))
        detached = timed(lambda: cursor.execute("ALTER TABLE monthly DETACH PARTITION monthly_00"))
        report(
            "trail_partitions_retire_month",
            detached * 1000,
            "ms",
            database="postgresql",
            baseline=deleted * 1000,
            note=f"DETACH PARTITION against DELETE of a month ({rows // MONTHS:,} events)",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--events", type=int, default=10, help="events per case")
    parser.add_argument("--lookups", type=int, default=500, help="look-ups of each kind")
    parser.add_argument("--quick", action="store_true", help="a tenth of the rows")
    args = parser.parse_args()
    if args.quick:
        args.rows //= 10
        args.lookups //= 2

    from scratch import set_up_django

    set_up_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        print("trail_partitions: PostgreSQL only (SQLite has no partitioning); nothing measured")
        return
    from scratch import throwaway_database

    load = os.getloadavg()
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load {load[0]:.1f}, {args.rows:,} events",
        flush=True,
    )
    with throwaway_database():
        measure(args.rows, args.events, args.lookups)
        print(f"load after: {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
