"""How fast the chiefs' and stewards' page renders on the demo city, against a raw query.

Builds the demo city (东城区: 17 townships, about 290 street and lane chiefs and 300 alley
stewards) and its history in a throwaway database, signs in as the district chief, and
times whole requests through Django's test client (middleware, session, the page's
queries, the template):

- the whole district: one row per township (`township_summaries`);
- one township's drill-down (龙潭街道): each chief lane by lane and each steward, a page of
  each;

against a raw SQL baseline that reads what the summary shows (chiefs and stewards per
township and the chiefs' patrols of the month, grouped) with one cursor, and nothing else.

    .venv/bin/python benchmarks/chiefs_page.py [--runs 30] [--quick]

`--quick` times 10 requests of each kind.

It runs in a throwaway database made beside the configured one: a temporary SQLite file by
default, or a test database on the server that DATABASE_URL=postgresql://… names.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from reporting import report

BASELINE_SQL = """
SELECT lane.township_id,
       COUNT(DISTINCT CASE WHEN ra.role IN ('street_chief', 'lane_chief')
                           THEN ra.person_id || ':' || ra.role END) AS chiefs,
       COUNT(DISTINCT CASE WHEN ra.role = 'steward' THEN ra.person_id END) AS stewards,
       (SELECT COUNT(*) FROM patrols_patrol AS p
         JOIN organisation_lane AS pl ON pl.id = p.lane_id
        WHERE pl.township_id = lane.township_id
          AND p.role IN ('street_chief', 'lane_chief')
          AND p.started_at >= %s AND p.started_at < %s
          AND p.ended_at IS NOT NULL) AS patrols
  FROM organisation_roleassignment AS ra
  JOIN organisation_lane AS lane ON lane.id = ra.lane_id
  JOIN organisation_jurisdiction AS township ON township.id = lane.township_id
 WHERE township.parent_id = %s
   AND ra.role IN ('street_chief', 'lane_chief', 'steward')
 GROUP BY lane.township_id
 ORDER BY lane.township_id
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed requests of each kind")
    parser.add_argument("--quick", action="store_true", help="10 requests of each kind")
    args = parser.parse_args()
    if args.quick:
        args.runs = 10

    from scratch import set_up_django, throwaway_database

    set_up_django(
        plain_static_files=True,
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    from django.test.utils import setup_test_environment

    setup_test_environment()
    with throwaway_database() as vendor:
        measure(runs=args.runs, vendor=vendor)


def timed(runs: int, action: Callable[[], object]) -> list[float]:
    action()  # warm: templates compiled, translations loaded
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return times


def percentile_90(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, round(0.9 * len(ordered)) - 1)]


def describe(times: list[float]) -> str:
    return f"median {statistics.median(times):7.1f} ms   p90 {percentile_90(times):7.1f} ms"


def measure(*, runs: int, vendor: str) -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from whistle.assessment.measures import period_bounds
    from whistle.assessment.periods import Period
    from whistle.organisation.models import Jurisdiction, Person, Role, RoleAssignment

    started = time.perf_counter()
    call_command("seed_demo", stdout=StringIO())
    seeded = time.perf_counter() - started
    district = Jurisdiction.objects.get(level=Jurisdiction.Level.DISTRICT, name="东城区")
    longtan = Jurisdiction.objects.get(name="龙潭街道")
    chiefs = (
        RoleAssignment.objects.filter(role__in=(Role.STREET_CHIEF, Role.LANE_CHIEF))
        .values("person_id", "role")
        .distinct()
        .count()
    )
    stewards = RoleAssignment.objects.filter(role=Role.STEWARD).values("person_id").count()

    client = Client()
    client.force_login(Person.objects.get(username="district-chief"))
    whole, township = "/district/chiefs/", f"/district/chiefs/?township={longtan.code}"
    for url in (whole, township):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        print(f"{url}: {len(response.content):,} bytes, {len(queries)} queries")

    start, end = period_bounds(Period.parse(timezone.localdate().strftime("%Y-%m")))

    def baseline() -> list[tuple[object, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(BASELINE_SQL, [start, end, district.pk])
            return cursor.fetchall()

    whole_times = timed(runs, lambda: client.get(whole))
    township_times = timed(runs, lambda: client.get(township))
    baseline_times = timed(runs, baseline)

    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    print()
    print(f"date        {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine     {platform.platform()}, {os.cpu_count()} cores, load {load[0]:.2f}")
    print(
        f"database    {vendor} {connection.Database.sqlite_version if vendor == 'sqlite' else ''}"
    )
    print(f"demo city   seeded in {seeded:.1f} s: {chiefs} chiefs, {stewards} steward roles")
    print(f"runs        {runs} of each")
    print(f"whole district (by township)  {describe(whole_times)}")
    print(f"one township (drill-down)     {describe(township_times)}")
    print(f"raw SQL baseline              {describe(baseline_times)}")
    base = statistics.median(baseline_times)
    print(
        f"ratio to the baseline (median): whole district "
        f"{statistics.median(whole_times) / base:.0f}×, one township "
        f"{statistics.median(township_times) / base:.0f}×"
    )
    for name, times in (
        ("chiefs_page_district", whole_times),
        ("chiefs_page_township", township_times),
    ):
        report(
            name,
            statistics.median(times),
            "ms (median)",
            database=vendor,
            baseline=base,
            note=f"whole request against one raw SQL aggregate; p90 {percentile_90(times):.1f} ms",
        )


if __name__ == "__main__":
    main()
