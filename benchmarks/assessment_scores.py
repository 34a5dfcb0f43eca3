"""Benchmark: annual department scores of a district with a million assessment records.

Measures, in a throwaway database beside the one DATABASE_URL names (a temporary SQLite
file when unset; with --reuse in the scratch database DATABASE_URL names, or
/tmp/whistle-assessment-bench.sqlite3):

1. the scores of every department in a year, a quarter and a month, from the stored score
   cells (what `whistle` does), against a raw SQL aggregate over the records (the baseline);
2. the time to bring everything up to date after one new summons is settled
   (`update_scores`: its record, its cell, and the month, quarter and year scores of the
   district), against the same raw SQL aggregate;
3. how fast records are derived from a real trail (`compute_records`), on a smaller set of
   cases written with `trail.append_event`.

Usage:
    .venv/bin/python benchmarks/assessment_scores.py [--records 1000000] [--reuse] [--quick]
    DATABASE_URL=postgresql://… .venv/bin/python benchmarks/assessment_scores.py

With --reuse the database must be a scratch one: the script migrates it, fills it, and uses
the data a previous run generated there the next time. Generation uses bulk inserts.
`--quick` measures 50,000 records and 100 trail cases.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/whistle-assessment-bench.sqlite3")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.core.management.color import no_style  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from benchmarks.reporting import print_machine, report  # noqa: E402
from benchmarks.scratch import throwaway_database  # noqa: E402
from whistle.assessment.engine import (  # noqa: E402
    CellTotals,
    SchemeBook,
    cell_key,
    compute_records,
    compute_results,
    contribution,
    store_results,
    update_scores,
)
from whistle.assessment.models import (  # noqa: E402
    Came,
    Scheme,
    SchemeComponent,
    ScoreCell,
    ScoringState,
    SummonsAssessment,
)
from whistle.assessment.periods import Period, month_start  # noqa: E402
from whistle.assessment.scoring import Facts, score  # noqa: E402
from whistle.cases.models import Case, Event, Summons, Whistle  # noqa: E402
from whistle.cases.trail import EventKind, append_event, lock_case  # noqa: E402
from whistle.organisation.models import Department, Jurisdiction, Person, Sector  # noqa: E402

YEAR = 2026
TOWNSHIPS = 30
DEPARTMENTS = 40
SUMMONSES_PER_CASE = 2
BATCH = 5000

BASELINE_SQL = """
SELECT department_id, COUNT(*), SUM(total)
FROM assessment_summonsassessment
WHERE district_id = %s AND month >= %s AND month <= %s AND settled AND total IS NOT NULL
GROUP BY department_id
"""


def timed(function: Callable[[], Any], repeat: int = 5) -> tuple[float, float]:
    """Median wall time and median CPU time of this process, in milliseconds. The machine
    may be shared: the CPU time of the process is the steadier number on SQLite."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def baseline(district_id: int, period: Period) -> list[tuple[int, float]]:
    """Scores straight from the records with one aggregate query, ranked in Python."""
    with connection.cursor() as cursor:
        cursor.execute(BASELINE_SQL, [district_id, period.first_month, period.last_month])
        rows = cursor.fetchall()
    scores = [(department_id, float(total) / count) for department_id, count, total in rows]
    return sorted(scores, key=lambda r: -r[1])


def build_city() -> tuple[Jurisdiction, list[Jurisdiction], list[Department], Person]:
    city = Jurisdiction.objects.create(level="city", code="110000", name="北京市")
    district = Jurisdiction.objects.create(
        level="district", code="110118", name="密云区", parent=city
    )
    townships = [
        Jurisdiction.objects.create(
            level="township", code=f"110118{n:03d}", name=f"第{n}镇", parent=district
        )
        for n in range(1, TOWNSHIPS + 1)
    ]
    sector = Sector.objects.create(code="bench", name="综合")
    departments = [
        Department.objects.create(
            code=f"my-{n:02d}",
            name=f"密云区第{n}委办局",
            kind="functional",
            sector=sector,
            district=district,
        )
        for n in range(1, DEPARTMENTS + 1)
    ]
    dispatcher = Person.objects.create_user(username="bench-dispatcher", password=None)
    scheme = Scheme.objects.create(
        district=district,
        name="密云区2026年度考核",
        valid_from=date(YEAR, 1, 1),
        township_share="40%",
    )
    SchemeComponent.objects.create(scheme=scheme, code="inspection", name="区级检查", weight="0.6")
    return district, townships, departments, dispatcher


def fact_samples(rng: random.Random) -> list[Facts]:
    samples = []
    for _ in range(400):
        came = rng.choices(
            [Came.ON_TIME, Came.LATE, Came.NO_SHOW, Came.NOT_APPLICABLE], [70, 15, 5, 10]
        )[0]
        samples.append(
            Facts(
                settled=rng.random() < 0.97,
                came=came,
                late_minutes=rng.randint(1, 60) if came == Came.LATE else None,
                acted=rng.choices(
                    ["handled", "decline_upheld", "decline_overruled", "abandoned"], [85, 6, 5, 4]
                )[0],
                rework_count=rng.choices([0, 1, 2], [88, 10, 2])[0],
                rating=rng.choice([None, 3, 4, 4, 5, 5]),
            )
        )
    return samples


class FastInserter:
    """Plain multi-row INSERTs with ids given here: Django's bulk_create on SQLite splits rows
    into statements of at most 999 parameters, which makes a million rows take minutes."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.fields = model._meta.concrete_fields
        self.next_id = (model.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        columns = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        self.sql = f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({marks})"

    def insert(self, objects: list[Any]) -> None:
        rows = []
        for obj in objects:
            obj.pk = self.next_id
            self.next_id += 1
            rows.append(
                tuple(f.get_db_prep_save(f.pre_save(obj, True), connection) for f in self.fields)
            )
        with connection.cursor() as cursor:
            cursor.executemany(self.sql, rows)

    def finish(self) -> None:
        sequences = connection.ops.sequence_reset_sql(no_style(), [self.model])
        with connection.cursor() as cursor:
            for sql in sequences:
                cursor.execute(sql)


def generate(records: int) -> None:
    rng = random.Random(20260726)
    district, townships, departments, _dispatcher = build_city()
    scheme = Scheme.objects.get(district=district)
    samples = [(f, score(f, scheme)) for f in fact_samples(rng)]
    start_of_year = datetime(YEAR, 1, 1, tzinfo=UTC)
    cells: dict[tuple[int, int, date], CellTotals] = {}
    inserters = {m: FastInserter(m) for m in (Case, Summons, SummonsAssessment)}
    written = 0
    began = time.perf_counter()
    now = datetime.now(UTC)
    while written < records:
        size = min(BATCH, (records - written) // SUMMONSES_PER_CASE)
        with transaction.atomic():
            cases = []
            for _ in range(size):
                moment = start_of_year + timedelta(seconds=rng.randint(0, 364 * 86400 - 7200))
                cases.append(
                    Case(
                        source="patrol",
                        status=Case.Status.CLOSED,
                        description="基准测试",
                        lon=116.84,
                        lat=40.37,
                        district=district,
                        township=rng.choice(townships),
                        reported_at=moment,
                        closed_at=moment + timedelta(hours=3),
                    )
                )
            inserters[Case].insert(cases)
            summonses = [
                Summons(
                    case=case,
                    department=department,
                    status=Summons.Status.LEFT,
                    summoned_at=case.reported_at,
                    acknowledge_due_at=case.reported_at + timedelta(minutes=10),
                    arrive_due_at=case.reported_at + timedelta(minutes=30),
                    resolve_due_at=case.reported_at + timedelta(hours=4),
                )
                for case in cases
                for department in rng.sample(departments, SUMMONSES_PER_CASE)
            ]
            inserters[Summons].insert(summonses)
            assessments = []
            for summons in summonses:
                facts, scores = rng.choice(samples)
                values: dict[str, Any] = {
                    "case_id": summons.case.pk,
                    "district_id": district.pk,
                    "township_id": summons.case.township_id,
                    "department_id": summons.department_id,
                    "month": month_start(summons.summoned_at),
                    "scheme_id": scheme.pk,
                    "settled": facts.settled,
                    "settled_at": summons.summoned_at + timedelta(hours=3)
                    if facts.settled
                    else None,
                    "came": facts.came,
                    "late_minutes": facts.late_minutes,
                    "acted": facts.acted,
                    "rework_count": facts.rework_count,
                    "rating": facts.rating,
                    "rating_comment": "",
                    "resident_satisfied": None,
                    "came_score": scores.came,
                    "acted_score": scores.acted,
                    "quality_score": scores.quality,
                    "total": scores.total,
                    "corrected": False,
                    "trail_seq": 0,
                    "event_ids": [],
                }
                part = contribution(values)
                if part is not None:
                    cells.setdefault(cell_key(values), CellTotals(district.pk)).add(part)
                assessments.append(
                    SummonsAssessment(summons_id=summons.pk, computed_at=now, **values)
                )
            inserters[SummonsAssessment].insert(assessments)
        written += len(summonses)
        if written % 100_000 < len(summonses):
            rate = written / (time.perf_counter() - began)
            print(f"  generated {written:,} records ({rate:,.0f}/s)", flush=True)
    for inserter in inserters.values():
        inserter.finish()
    ScoreCell.objects.bulk_create(
        [
            ScoreCell(
                district_id=t.district_id,
                department_id=k[0],
                township_id=k[1],
                month=k[2],
                **t.sums,
            )
            for k, t in cells.items()
        ],
        batch_size=BATCH,
    )
    book = SchemeBook()
    periods = sorted(
        {p for m in Period.parse(str(YEAR)).months() for p in Period.month_of(m).enclosing()}
    )
    store_results(district.pk, periods, book)
    newest = Event.objects.aggregate(m=Max("id"))["m"] or 0
    ScoringState.objects.update_or_create(pk=1, defaults={"last_event_id": newest})
    print(f"  generation took {time.perf_counter() - began:,.1f} s", flush=True)


def settle_one_new_summons(district: Jurisdiction, n: int) -> None:
    """A whistle, an on-time check-in, a result and the closure, through the trail."""
    township = Jurisdiction.objects.filter(parent=district).order_by("code")[0]
    department = Department.objects.filter(district=district).order_by("code")[0]
    dispatcher = Person.objects.get(username="bench-dispatcher")
    at = datetime(YEAR, 7, 15, 1, 0, tzinfo=UTC) + timedelta(minutes=n)
    with transaction.atomic():
        case = Case.objects.create(
            source="patrol",
            description="增量测试",
            lon=116.84,
            lat=40.37,
            district=district,
            township=township,
            reported_at=at,
            status=Case.Status.CLOSED,
        )
        whistle = Whistle.objects.create(
            case=case, kind="routine", township=township, blown_by=dispatcher, blown_at=at
        )
        summons = Summons.objects.create(
            case=case,
            whistle=whistle,
            department=department,
            summoned_at=at,
            acknowledge_due_at=at + timedelta(minutes=10),
            arrive_due_at=at + timedelta(minutes=30),
            resolve_due_at=at + timedelta(hours=4),
        )
        case = lock_case(case.pk)
        append_event(case, EventKind.WHISTLE_BLOWN, at=at)
        append_event(
            case,
            EventKind.SUMMONED,
            summons=summons,
            at=at,
            data={"arrive_due_at": (at + timedelta(minutes=30)).isoformat()},
        )
        append_event(
            case, EventKind.CHECK_IN_ACCEPTED, summons=summons, at=at + timedelta(minutes=20)
        )
        append_event(case, EventKind.RESULT, summons=summons, at=at + timedelta(hours=1))
        append_event(case, EventKind.CLOSED, at=at + timedelta(hours=2))


def trail_throughput(district: Jurisdiction, cases: int) -> float:
    for n in range(cases):
        settle_one_new_summons(district, 10_000 + n)
    ids = list(Case.objects.filter(description="增量测试").values_list("id", flat=True))
    book = SchemeBook()
    start = time.perf_counter()
    computed = compute_records(ids, book)
    elapsed = time.perf_counter() - start
    return len(computed) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="use data generated before")
    parser.add_argument("--trail-cases", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="50,000 records, 100 trail cases")
    args = parser.parse_args()
    if args.quick:
        args.records, args.trail_cases = 50_000, 100
    if args.reuse:
        call_command("migrate", verbosity=0)
        measure(args)
    else:
        with throwaway_database():
            measure(args)


def measure(args: argparse.Namespace) -> None:
    vendor = print_machine()

    existing = SummonsAssessment.objects.count()
    if existing and not args.reuse:
        sys.exit(f"the database already holds {existing:,} records: use --reuse or a new one")
    if not existing:
        print(f"generating {args.records:,} records (bulk inserts)…", flush=True)
        generate(args.records)
    district = Jurisdiction.objects.get(code="110118")
    total = SummonsAssessment.objects.filter(district=district).count()
    print(f"records in the district: {total:,}; cells: {ScoreCell.objects.count():,}")
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    book = SchemeBook()
    year, month = Period.parse(str(YEAR)), Period.parse(f"{YEAR}-07")
    quarter = Period.parse(f"{YEAR}-Q3")
    mine = {r.department_id: r for r in compute_results(district.pk, year, book)}
    theirs = baseline(district.pk, year)
    assert len(mine) == len(theirs), "the two ways disagree on the departments"
    for department_id, value in theirs:
        assert abs(float(mine[department_id].township_score or 0) - value) < 0.01

    rows: list[tuple[str, tuple[float, float], tuple[float, float]]] = []
    for label, period in (("year", year), ("quarter", quarter), ("month", month)):
        ours = timed(functools.partial(compute_results, district.pk, period, book))
        raw = timed(functools.partial(baseline, district.pk, period))
        rows.append((f"{label} scores, all departments", ours, raw))

    state = {"n": 0}

    def settle() -> None:
        state["n"] += 1
        settle_one_new_summons(district, state["n"])

    def update() -> None:
        assert update_scores() == 1

    update_scores()  # catch up with any trail a previous run left behind
    walls, cpus = [], []
    for _ in range(5):
        settle()
        wall, cpu = time.perf_counter(), time.process_time()
        update()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    ours = (statistics.median(walls), statistics.median(cpus))
    settle()
    with CaptureQueriesContext(connection) as statements:
        update()
    raw = timed(lambda: baseline(district.pk, year))
    rows.append(
        ("update after one new record (record, cell, month/quarter/year, ranks)", ours, raw)
    )

    print()
    print(
        f"{'measurement':72} {'whistle ms':>11} {'raw SQL ms':>11} {'ratio':>7}"
        f" {'whistle cpu':>12} {'raw cpu':>9}"
    )
    for label, ours, raw in rows:
        print(
            f"{label:72} {ours[0]:11.2f} {raw[0]:11.2f} {ours[0] / raw[0]:7.3f}"
            f" {ours[1]:12.2f} {raw[1]:9.2f}"
        )
    print("(wall-clock medians of 5 runs; ratio = whistle / raw SQL aggregate over the records;")
    print(" cpu = this process only, so it leaves out a PostgreSQL server's work)")
    print(
        f"statements of one update: {len(statements)} (as Django counts them: the transaction's"
        " own and a PostgreSQL COPY are not among them)"
    )
    load = os.getloadavg()
    print(f"load average during the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    rate = trail_throughput(district, args.trail_cases)
    print(
        f"records derived from the trail: {rate:,.0f} per second "
        f"({args.trail_cases} cases with 5 events each)"
    )
    names = ("assessment_year_scores", "assessment_quarter_scores", "assessment_month_scores")
    for name, (label, ours, raw) in zip((*names, "assessment_update_one"), rows, strict=True):
        report(
            name,
            ours[0],
            "ms (median)",
            database=vendor,
            baseline=raw[0],
            note=f"{label}, {total:,} records, against a raw SQL aggregate",
        )
    report(
        "assessment_records_from_trail",
        rate,
        "records per second",
        database=vendor,
        note=f"compute_records over {args.trail_cases} cases with 5 events each",
    )


if __name__ == "__main__":
    main()
