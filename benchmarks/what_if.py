"""Benchmark: a what-if replay over a year of a Dongcheng-sized district.

Builds (in a throwaway database beside the one DATABASE_URL names, a temporary SQLite file
when unset; with --reuse in the scratch database DATABASE_URL names, or
/tmp/whistle-what-if-bench.sqlite3) a year of whistles:
`--cases` closed cases, each summoning two of 40 departments from 17 townships, with a
trail of the events the assessment reads (summoned with its 30-minute deadline, a check-in
5–45 minutes later, a result, the closure). The trail rows are bulk-inserted with made-up
hashes: the assessment never reads the hash chain, and appending them one by one through
`trail.append_event` would take hours.

Then measures, median of --repeat runs in the same process:

1. `what_if` for the year under a proposal (township share 40%, arrival within 20 minutes):
   every record derived twice from the trail, both rankings, the summonses that change;
2. the raw baseline: one SQL query reading the same arrivals (summons, deadline, first
   check-in) and a Python loop counting, per department, the arrivals on time within 20
   minutes; a floor for anything that reads the trail.

Usage:
    .venv/bin/python benchmarks/what_if.py [--cases 20000] [--repeat 3] [--reuse] [--quick]
    DATABASE_URL=postgresql://… .venv/bin/python benchmarks/what_if.py
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/whistle-what-if-bench.sqlite3")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from benchmarks.assessment_scores import FastInserter, timed  # noqa: E402
from benchmarks.reporting import print_machine, report  # noqa: E402
from benchmarks.scratch import throwaway_database  # noqa: E402
from whistle.assessment.models import Scheme, SchemeComponent  # noqa: E402
from whistle.assessment.periods import Period  # noqa: E402
from whistle.assessment.what_if import Proposal, proposed_scheme, what_if  # noqa: E402
from whistle.cases.models import Case, Event, Summons, Whistle  # noqa: E402
from whistle.cases.trail import GENESIS, EventKind  # noqa: E402
from whistle.organisation.models import Department, Jurisdiction, Person, Sector  # noqa: E402

YEAR = 2026
TOWNSHIPS = 17
DEPARTMENTS = 40
BATCH = 2000

BASELINE_SQL = """
SELECT s.department_id, s.summoned_at, MIN(e.at)
FROM cases_summons s
JOIN cases_event e ON e.summons_id = s.id AND e.kind = %s
JOIN organisation_department d ON d.id = s.department_id
WHERE d.district_id = %s AND s.summoned_at >= %s AND s.summoned_at < %s
GROUP BY s.id, s.department_id, s.summoned_at
"""


def aware(value: datetime | str) -> datetime:
    """SQLite gives MIN() of a datetime as text, and raw rows without a time zone."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def baseline(district_id: int, minutes: int) -> dict[int, int]:
    limit = timedelta(minutes=minutes)
    on_time: dict[int, int] = defaultdict(int)
    start = datetime(YEAR - 1, 12, 31, 16, tzinfo=UTC)
    end = datetime(YEAR, 12, 31, 16, tzinfo=UTC)
    with connection.cursor() as cursor:
        cursor.execute(BASELINE_SQL, [EventKind.CHECK_IN_ACCEPTED, district_id, start, end])
        for department_id, summoned_at, arrived_at in cursor.fetchall():
            if aware(arrived_at) <= aware(summoned_at) + limit:
                on_time[department_id] += 1
    return on_time


def trail_of(case: Case, summonses: list[Summons], rng: random.Random) -> list[Event]:
    """Reported, summoned (due in 30 minutes), checked in 5–45 minutes later, a result each,
    closed; made-up hashes chained as the database requires (the assessment never reads them)."""
    at = case.reported_at
    steps: list[tuple[str, datetime, Summons | None, dict[str, str]]] = [
        (EventKind.CASE_REPORTED, at, None, {})
    ]
    due = {"arrive_due_at": (at + timedelta(minutes=30)).isoformat()}
    steps += [(EventKind.SUMMONED, at, s, due) for s in summonses]
    steps += [
        (EventKind.CHECK_IN_ACCEPTED, at + timedelta(minutes=rng.randint(5, 45)), s, {})
        for s in summonses
    ]
    steps += [(EventKind.RESULT, at + timedelta(hours=1), s, {}) for s in summonses]
    steps.append((EventKind.CLOSED, at + timedelta(hours=2), None, {}))
    events = []
    previous = GENESIS
    for seq, (kind, when, summons, data) in enumerate(steps, start=1):
        digest = hashlib.sha256(f"{case.pk}:{seq}".encode()).hexdigest()
        events.append(
            Event(
                case=case,
                seq=seq,
                at=when,
                kind=kind,
                summons=summons,
                data=data,
                prev_hash=previous,
                hash=digest,
            )
        )
        previous = digest
    return events


def generate(cases: int) -> None:
    rng = random.Random(20261204)
    city = Jurisdiction.objects.create(level="city", code="110000", name="北京市")
    district = Jurisdiction.objects.create(
        level="district", code="110101", name="东城区", parent=city
    )
    townships = [
        Jurisdiction.objects.create(
            level="township", code=f"110101{n:03d}", name=f"第{n}街道", parent=district
        )
        for n in range(1, TOWNSHIPS + 1)
    ]
    sector = Sector.objects.create(code="bench", name="综合")
    departments = [
        Department.objects.create(
            code=f"dc-{n:02d}",
            name=f"东城区第{n}委办局",
            kind="functional",
            sector=sector,
            district=district,
        )
        for n in range(1, DEPARTMENTS + 1)
    ]
    blower = Person.objects.create_user(username="bench-dispatcher", password=None)
    scheme = Scheme.objects.create(
        district=district, name="东城区2026年度考核", valid_from=date(YEAR, 1, 1)
    )
    SchemeComponent.objects.create(scheme=scheme, code="inspection", name="区级检查", weight="2/3")
    inserters = {m: FastInserter(m) for m in (Case, Whistle, Summons, Event)}
    start_of_year = datetime(YEAR, 1, 1, tzinfo=UTC)
    made = 0
    while made < cases:
        size = min(BATCH, cases - made)
        with transaction.atomic():
            batch = []
            for _ in range(size):
                at = start_of_year + timedelta(seconds=rng.randint(0, 363 * 86400))
                batch.append(
                    Case(
                        source="patrol",
                        status=Case.Status.CLOSED,
                        description="基准测试",
                        lon=116.41,
                        lat=39.93,
                        district=district,
                        township=rng.choice(townships),
                        reported_at=at,
                        closed_at=at + timedelta(hours=3),
                    )
                )
            inserters[Case].insert(batch)
            whistles = [
                Whistle(
                    case=c,
                    kind="routine",
                    township=c.township,
                    blown_by=blower,
                    blown_at=c.reported_at,
                )
                for c in batch
            ]
            inserters[Whistle].insert(whistles)
            summonses = [
                Summons(
                    case=w.case,
                    whistle=w,
                    department=d,
                    status=Summons.Status.LEFT,
                    summoned_at=w.blown_at,
                    acknowledge_due_at=w.blown_at + timedelta(minutes=10),
                    arrive_due_at=w.blown_at + timedelta(minutes=30),
                    resolve_due_at=w.blown_at + timedelta(hours=4),
                )
                for w in whistles
                for d in rng.sample(departments, 2)
            ]
            inserters[Summons].insert(summonses)
            events = []
            by_case = defaultdict(list)
            for s in summonses:
                by_case[s.case.pk].append(s)
            for case in batch:
                events += trail_of(case, by_case[case.pk], rng)
            events.sort(key=lambda e: (e.case.pk, e.seq))
            inserters[Event].insert(events)
        made += size
    for inserter in inserters.values():
        inserter.finish()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="use data generated before")
    parser.add_argument("--quick", action="store_true", help="2,000 cases")
    args = parser.parse_args()
    if args.quick:
        args.cases = 2_000
    if args.reuse:
        call_command("migrate", verbosity=0)
        measure(args)
    else:
        with throwaway_database():
            measure(args)


def measure(args: argparse.Namespace) -> None:
    vendor = print_machine()
    existing = Case.objects.count()
    if existing and not args.reuse:
        sys.exit(f"the database already holds {existing:,} cases: use --reuse or a new one")
    if not existing:
        began = time.perf_counter()
        generate(args.cases)
        print(f"generated {args.cases:,} cases in {time.perf_counter() - began:,.1f} s")
    district = Jurisdiction.objects.get(code="110101")
    events = Event.objects.count()
    summonses = Summons.objects.count()
    print(f"summonses: {summonses:,}; trail events: {events:,}")
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    base = Scheme.objects.get(district=district)
    proposal = Proposal(
        scheme=proposed_scheme(
            base,
            {"township_share": "40%"},
            [{"code": "inspection", "name": "区级检查", "weight": "60%"}],
        ),
        arrive_within=20,
    )
    year = Period.parse(str(YEAR))
    result = what_if(district, year, proposal)
    print(
        f"what-if: {result.records:,} settled records, {result.changed_records:,} judged "
        f"differently, {len(result.moved)} departments change rank"
    )
    ours = timed(lambda: what_if(district, year, proposal), args.repeat)
    raw = timed(lambda: baseline(district.pk, 20), args.repeat)
    print(f"{'measurement':<36}{'what-if':>12}{'raw SQL':>12}{'ratio':>8}")
    print(f"{'year replay, wall ms':<36}{ours[0]:>12,.0f}{raw[0]:>12,.0f}{ours[0] / raw[0]:>8.1f}")
    print(f"{'year replay, CPU ms':<36}{ours[1]:>12,.0f}{raw[1]:>12,.0f}{ours[1] / raw[1]:>8.1f}")
    print(f"records derived per second (twice each): {2 * summonses / (ours[0] / 1000):,.0f}")
    report(
        "what_if_year",
        ours[1],
        "CPU ms",
        database=vendor,
        baseline=raw[1],
        note=f"a year's replay under a proposal, {summonses:,} summonses, against one raw SQL read",
    )


if __name__ == "__main__":
    main()
