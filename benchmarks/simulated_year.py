"""Benchmark: a simulated year (`whistle simulate`) written, verified and assessed.

In a throwaway database (a temporary SQLite file, or a test database on the PostgreSQL server
that DATABASE_URL names) it builds the Dongcheng preset at --scale and writes a year of its
history in bulk, then measures, each against a raw baseline in the same run:

1. writing the history: trail events per second (the baseline: inserting the same number of
   already-hashed event rows with a plain `executemany`);
2. `whistle verify-trail` over it, against a plain read of the same event rows;
3. deriving and storing every assessment record, cell and score (`recompute_all`), against a
   plain read of the trail events the assessment reads; then again after the scheme gives
   fewer points for arriving on time (every on-time record rewritten), against the same read;
4. every department's scores of the year from the stored cells (`compute_results`), against
   one raw SQL aggregate over the records.

    .venv/bin/python benchmarks/simulated_year.py [--scale 0.01] [--quick] [--seed 2018]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from reporting import print_machine, report

RAW_SCORES = """
SELECT department_id, COUNT(*), SUM(total)
FROM assessment_summonsassessment
WHERE district_id = %s AND month >= %s AND month <= %s AND settled AND total IS NOT NULL
GROUP BY department_id
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.01, help="of the Dongcheng preset")
    parser.add_argument("--quick", action="store_true", help="a tenth of --scale")
    parser.add_argument("--seed", type=int, default=2018)
    args = parser.parse_args()
    scale = args.scale / 10 if args.quick else args.scale

    from scratch import set_up_django, throwaway_database

    set_up_django()

    with throwaway_database():
        measure(scale=scale, seed=args.seed)


def median_ms(function: Callable[[], Any], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def measure(*, scale: float, seed: int) -> None:
    from django.db import connection, transaction
    from django.db.models import F

    from whistle.assessment.engine import RELEVANT_KINDS, SchemeBook, compute_results
    from whistle.assessment.engine import recompute_all as recompute
    from whistle.assessment.models import Scheme, SummonsAssessment
    from whistle.assessment.periods import Period
    from whistle.cases.models import Event
    from whistle.cases.verify import verify_database
    from whistle.simulation.city import build_city
    from whistle.simulation.history import Year
    from whistle.simulation.presets import PRESETS

    vendor = print_machine()
    shape = PRESETS["dongcheng"].scaled(scale)
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    print(f"city: Dongcheng × {scale} ({shape.cases_per_year:,} cases a year)", flush=True)
    with transaction.atomic():
        city = build_city(shape, seed)
        year = Year(city, start=end - timedelta(days=365), end=end, cases=shape.cases_per_year)
        began = time.perf_counter()
        written = year.write()
        history_s = time.perf_counter() - began
    events = written.events
    print(
        f"history: {written.cases:,} cases, {written.summonses:,} summonses, "
        f"{events:,} events in {history_s:.1f} s",
        flush=True,
    )
    raw_insert_s = _raw_event_inserts(events)
    report(
        "simulate.history_events_per_s",
        events / history_s,
        "events/s",
        database=vendor,
        baseline=events / raw_insert_s,
        note="bulk history vs executemany of as many hashed event rows",
    )

    began = time.perf_counter()
    verified = verify_database()
    verify_s = time.perf_counter() - began
    assert verified.ok and verified.events == events, verified.problems[:3]
    began = time.perf_counter()
    read = sum(
        1
        for _ in Event.objects.order_by("case_id", "seq")
        .values_list("case_id", "seq", "at", "kind", "data", "prev_hash", "hash")
        .iterator(chunk_size=5000)
    )
    read_s = time.perf_counter() - began
    report(
        "simulate.verify_trail_events_per_s",
        events / verify_s,
        "events/s",
        database=vendor,
        baseline=read / read_s,
        note="verify-trail vs a plain read of the event rows",
    )

    began = time.perf_counter()
    records = recompute()
    recompute_s = time.perf_counter() - began
    assert records == SummonsAssessment.objects.count() > 0
    began = time.perf_counter()
    relevant = sum(
        1
        for _ in Event.objects.filter(kind__in=RELEVANT_KINDS)
        .order_by("case_id", "seq")
        .values_list("case_id", "id", "seq", "at", "kind", "summons_id", "data")
        .iterator(chunk_size=5000)
    )
    relevant_s = time.perf_counter() - began
    report(
        "assessment.recompute_all_records_per_s",
        records / recompute_s,
        "records/s",
        database=vendor,
        baseline=records / relevant_s,
        note=f"{records:,} records; baseline: reading the {relevant:,} events they come from",
    )

    Scheme.objects.update(on_time_points=F("on_time_points") - 5)
    began = time.perf_counter()
    rewritten = recompute()
    rewrite_s = time.perf_counter() - began
    assert 0 < rewritten <= records
    report(
        "assessment.recompute_after_scheme_change_records_per_s",
        records / rewrite_s,
        "records/s",
        database=vendor,
        baseline=records / relevant_s,
        note=f"{records:,} records read, {rewritten:,} rewritten; baseline as above",
    )

    book = SchemeBook()
    district_id = city.districts[0]
    period = Period.parse(str((end - timedelta(days=1)).year))

    def raw() -> list[tuple[int, float]]:
        with connection.cursor() as cursor:
            cursor.execute(RAW_SCORES, [district_id, period.first_month, period.last_month])
            return [(d, float(s) / n) for d, n, s in cursor.fetchall()]

    ours = {r.department_id: r for r in compute_results(district_id, period, book)}
    theirs = raw()
    assert len(ours) == len(theirs)
    for department_id, value in theirs:
        assert abs(float(ours[department_id].township_score or 0) - value) < 0.01
    report(
        "assessment.year_scores_ms",
        median_ms(lambda: compute_results(district_id, period, book)),
        "ms",
        database=vendor,
        baseline=median_ms(raw),
        note="every department's year from the cells vs a raw aggregate over the records",
    )


def _raw_event_inserts(count: int) -> float:
    """Seconds to insert `count` event rows, hashes computed beforehand, with a plain
    `executemany` into a table of the same columns (then dropped)."""
    from django.db import connection, transaction

    from whistle.cases.models import Event

    columns = [f.column for f in Event._meta.concrete_fields if f.column != "id"]
    moment = datetime(2026, 1, 1, tzinfo=UTC).isoformat()

    def row(n: int) -> tuple[Any, ...]:
        values = {
            "case_id": 1,
            "seq": n,
            "at": moment,
            "kind": "case.filed",
            "actor_role": "dispatcher",
            "data": "{}",
            "prev_hash": "0" * 64,
            "hash": f"{n:064d}",
        }
        return tuple(values.get(column) for column in columns)

    rows = [row(n) for n in range(count)]
    marks = ", ".join(["%s"] * len(columns))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE raw_events (id integer, "
            + ", ".join(f"{c} text" for c in columns)
            + ")"
        )
        began = time.perf_counter()
        cursor.executemany(
            f"INSERT INTO raw_events ({', '.join(columns)}) VALUES ({marks})",
            rows,
        )
        elapsed = time.perf_counter() - began
        cursor.execute("DROP TABLE raw_events")
    return elapsed


if __name__ == "__main__":
    main()
