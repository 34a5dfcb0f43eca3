"""How the busiest desk pages grow with a year of data: the command centre, a department's
queue, the district ranking and the chiefs' page.

For each --scales factor, in a throwaway database (a temporary SQLite file, or a test
database on the PostgreSQL server that DATABASE_URL=postgresql://… names), it builds the
Dongcheng preset of `whistle simulate` at that factor, writes a year of its history in bulk
and derives its assessment (`recompute_all`), then times whole requests through Django's test
client (middleware, session, the page's queries, the template), signed in as:

- the busiest township's dispatcher: `/dispatch/` (the command centre);
- the officer of the department with the most open summonses: `/department/`;
- a district assessor: `/district/rankings/` and `/district/chiefs/`.

Each page is compared with a raw SQL query, in the same run, that reads the rows the page is
about (the township's open cases, the department's open summonses, the year's scores from
the records, the chiefs per township) and nothing else. Beside each page's wall-clock times
it prints the CPU time of this process per request (Django and, on SQLite, the database),
which a shared machine's load moves less. It prints each page's queries, and
on PostgreSQL every plan (`EXPLAIN`) that scans a whole table of cases, summonses, events or
assessment records: the page's cost should follow what it shows, not the size of the year.

    .venv/bin/python benchmarks/pages.py [--scales 0.002,0.01] [--runs 30] [--quick]

`--quick` is one scale (0.002) and 10 requests of each page.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from reporting import report

# The tables that grow with the year: a plan that reads one of them whole is a page whose
# cost follows the data, not what it shows.
GROWING = (
    "cases_case",
    "cases_summons",
    "cases_event",
    "assessment_summonsassessment",
    "notifications_notification",
)

OPEN_SHARE = 0.02

CLOSED_CASE = ("closed", "evaluated", "rejected", "merged")

RAW = {
    "command centre": (
        "SELECT id, reference, status, category_id, reported_at, resolve_due_at "
        "FROM cases_case WHERE township_id = %s AND status NOT IN ({}) "
        "ORDER BY reported_at DESC LIMIT 100".format(", ".join(f"'{s}'" for s in CLOSED_CASE))
    ),
    "department queue": (
        "SELECT s.id, s.status, s.acknowledge_due_at, s.resolve_due_at, c.reference "
        "FROM cases_summons AS s JOIN cases_case AS c ON c.id = s.case_id "
        "WHERE s.department_id = %s AND s.status IN "
        "('summoned', 'acknowledged', 'on_site', 'declined') "
        "ORDER BY s.resolve_due_at LIMIT 100"
    ),
    "district ranking": (
        "SELECT department_id, COUNT(*), SUM(total) FROM assessment_summonsassessment "
        "WHERE district_id = %s AND settled AND total IS NOT NULL GROUP BY department_id"
    ),
    "chiefs' page": (
        "SELECT lane.township_id, ra.role, COUNT(DISTINCT ra.person_id) "
        "FROM organisation_roleassignment AS ra "
        "JOIN organisation_lane AS lane ON lane.id = ra.lane_id "
        "JOIN organisation_jurisdiction AS township ON township.id = lane.township_id "
        "WHERE township.parent_id = %s "
        "AND ra.role IN ('street_chief', 'lane_chief', 'steward') "
        "GROUP BY lane.township_id, ra.role"
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="0.002,0.01", help="of the Dongcheng preset")
    parser.add_argument("--runs", type=int, default=30, help="timed requests of each page")
    parser.add_argument("--quick", action="store_true", help="scale 0.002, 10 requests")
    parser.add_argument("--seed", type=int, default=2018)
    args = parser.parse_args()
    scales = [float(part) for part in args.scales.split(",") if part.strip()]
    if args.quick:
        scales, args.runs = [0.002], 10

    from scratch import set_up_django, throwaway_database

    set_up_django(
        plain_static_files=True,
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        # Signed in as after both steps of sign-in: the second factor is not what is measured.
        WHISTLE_TWO_FACTOR_ROLES=[],
    )
    from django.test.utils import setup_test_environment

    setup_test_environment()
    for scale in scales:
        with throwaway_database() as vendor:
            measure(scale=scale, seed=args.seed, runs=args.runs, vendor=vendor)


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def timed(runs: int, action: Callable[[], object], cpu: list[float] | None = None) -> list[float]:
    """The wall-clock time of each run, in ms; with `cpu`, the process's own CPU time of
    each run is added to it (on a shared machine the CPU time moves less with the load)."""
    action()  # warm: templates compiled, translations and per-process caches loaded
    times = []
    for _ in range(runs):
        began, began_cpu = time.perf_counter(), time.process_time()
        action()
        times.append((time.perf_counter() - began) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - began_cpu) * 1000)
    return times


def measure(*, scale: float, seed: int, runs: int, vendor: str) -> None:
    from django.db import connection, transaction
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from whistle.assessment.engine import recompute_all
    from whistle.cases.actions import report_case
    from whistle.cases.models import Case, Event, Summons
    from whistle.organisation.models import Jurisdiction, Person, Role, RoleAssignment
    from whistle.simulation.city import build_city
    from whistle.simulation.history import Year
    from whistle.simulation.presets import PRESETS

    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {vendor}; load {os.getloadavg()[0]:.2f}"
    )
    shape = PRESETS["dongcheng"].scaled(scale)
    # The year ends at the last midnight (UTC): every course ends by the year's end, so every
    # moment of the history is in the past.
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    began = time.perf_counter()
    with transaction.atomic():
        city = build_city(shape, seed)
        Year(city, start=end - timedelta(days=365), end=end, cases=shape.cases_per_year).write()
    recompute_all()
    if vendor == "postgresql":
        # The planner's statistics, as a running server's autovacuum keeps them: EXPLAIN
        # below judges the plans a deployment would get.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"city: Dongcheng × {scale}: {Case.objects.count():,} cases, "
        f"{Summons.objects.count():,} summonses, {Event.objects.count():,} events "
        f"(built in {time.perf_counter() - began:.0f} s)",
        flush=True,
    )

    open_cases = Case.objects.exclude(status__in=CLOSED_CASE)
    busiest = {
        row["township_id"]: row["n"]
        for row in Case.objects.values("township_id").order_by().annotate(n=Count("id"))
    }
    township_id = max(busiest, key=busiest.__getitem__)
    township = Jurisdiction.objects.get(pk=township_id)
    district = township.parent
    dispatcher = Person.objects.filter(
        roles__role=Role.DISPATCHER, roles__jurisdiction=township
    ).first()
    queues: dict[int, int] = {}
    for department_id in Summons.objects.filter(status__in=Summons.OPEN_STATUSES).values_list(
        "department_id", flat=True
    ):
        queues[department_id] = queues.get(department_id, 0) + 1
    if not queues:
        for department_id in Summons.objects.values_list("department_id", flat=True):
            queues[department_id] = queues.get(department_id, 0) + 1
    department_id = max(queues, key=queues.__getitem__)
    officer = Person.objects.filter(
        roles__role=Role.DEPARTMENT_OFFICER, roles__department_id=department_id
    ).first()
    # The simulated cases name no category: each district gets the demo city's list (69, in
    # major classes), so that the filing form in every reported case's row offers what a
    # real district's does.
    for district_id in Case.objects.values_list("district_id", flat=True).order_by().distinct():
        _categories_for(district_id)

    # The year's history is settled by its end; what a desk works on is what is still open.
    # A township sees about 2 % of its year open at once (a few days of reports): filed here
    # through the product's own action, as a dispatcher records them.
    sample = Case.objects.filter(township_id=township_id).first()
    assert sample is not None and dispatcher is not None
    for number in range(max(10, round(busiest[township_id] * OPEN_SHARE))):
        report_case(
            dispatcher,
            description=f"路面破损，第{number + 1}处",
            lon=sample.lon,
            lat=sample.lat,
        )
    assessor = Person.objects.create_user(username="bench-assessor", password="x", name="考核员")
    RoleAssignment.objects.create(
        person=assessor, role=Role.DISTRICT_ASSESSOR, jurisdiction=district
    )
    print(
        f"busiest township {township.name}: {busiest[township_id]:,} cases, "
        f"{open_cases.filter(township_id=township_id).count():,} open; "
        f"busiest department: {queues[department_id]:,} open summonses",
        flush=True,
    )

    pages = [
        ("command centre", dispatcher, "/dispatch/", township_id),
        ("department queue", officer, "/department/", department_id),
        ("district ranking", assessor, "/district/rankings/", district.pk),
        ("chiefs' page", assessor, "/district/chiefs/", district.pk),
    ]
    rows = []
    for name, person, url, key in pages:
        client = Client()
        client.force_login(person)
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{name}: {url} answered {response.status_code}")
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        statements = [query["sql"] for query in captured.captured_queries]
        page_cpu: list[float] = []
        page_times = timed(runs, lambda c=client, u=url: c.get(u), page_cpu)

        def raw(sql: str = RAW[name], key: Any = key) -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql, [key])
                cursor.fetchall()

        raw_times = timed(runs, raw)
        rows.append(
            (name, url, len(statements), page_times, page_cpu, raw_times, len(response.content))
        )
        report(
            f"page_p95.{name.replace(' ', '_').replace(chr(39), '')}.dongcheng_x{scale}",
            p95(page_times),
            "ms (p95)",
            database=vendor,
            baseline=p95(raw_times),
            note=f"Dongcheng × {scale}, {runs} requests",
        )
        if vendor == "postgresql":
            for line in whole_scans(statements):
                print(f"  {name}: {line}")

    print(
        "\n| page | queries | size | median | p95 | CPU median, p95 | raw SQL p95 | ratio |\n"
        "|---|---|---|---|---|---|---|---|"
    )
    for name, url, queries, page_times, page_cpu, raw_times, size in rows:
        print(
            f"| {name} `{url}` | {queries} | {size / 1024:.0f} KB "
            f"| {statistics.median(page_times):.1f} ms | {p95(page_times):.1f} ms "
            f"| {statistics.median(page_cpu):.0f}, {p95(page_cpu):.0f} ms "
            f"| {p95(raw_times):.2f} ms | {p95(page_times) / p95(raw_times):.0f} |"
        )
    print(flush=True)


def _categories_for(district_id: int) -> None:
    from whistle.demo.data.categories import categories
    from whistle.policies.models import Category, MajorClass

    majors: dict[tuple[str, str], MajorClass] = {}
    for data in categories():
        key = (data.kind, data.major)
        if key not in majors:
            majors[key], _new = MajorClass.objects.get_or_create(
                district_id=district_id,
                kind=data.kind,
                code=data.major,
                defaults={"name": f"大类{data.major}"},
            )
        Category.objects.get_or_create(
            major=majors[key],
            code=data.code,
            defaults={"name": data.name, "keywords": data.keywords},
        )


def whole_scans(statements: list[str]) -> list[str]:
    """The plans of these statements that scan a growing table whole, one line each."""
    from django.db import connection

    found = []
    with connection.cursor() as cursor:
        for sql in statements:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            for table in GROWING:
                if f"Seq Scan on {table}" in plan:
                    found.append(f"seq scan on {table}: {sql[:160]}")
    return found


if __name__ == "__main__":
    main()
