"""How fast `whistle verify-trail` checks a large trail, against reading the same rows.

Writes CASES cases with EVENTS events each (properly chained, with realistic event data),
then times `verify_database()` (hash and link of every event, two streamed queries) and a
plain read of the same event rows (the cost of fetching them and nothing else).

    .venv/bin/python benchmarks/verify_trail.py [--cases 10000] [--events 10] [--quick]

It runs in a throwaway database made beside the configured one: a temporary SQLite file by
default, or a test database on the server that DATABASE_URL=postgresql://… names.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from reporting import report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=10, help="events per case")
    parser.add_argument("--quick", action="store_true", help="a tenth of the cases")
    args = parser.parse_args()
    if args.quick:
        args.cases //= 10

    from scratch import set_up_django, throwaway_database

    set_up_django()

    with throwaway_database() as vendor:
        measure(cases=args.cases, events=args.events, vendor=vendor)


def measure(*, cases: int, events: int, vendor: str) -> None:
    from django.db import transaction

    from whistle.cases.models import Case, Event
    from whistle.cases.trail import GENESIS, compute_hash, event_content
    from whistle.cases.verify import verify_database

    start = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    kinds = ["case.reported", "case.filed", "whistle.blown", "summons.created"]
    started = time.perf_counter()
    with transaction.atomic():
        for first in range(0, cases, 1000):
            made = Case.objects.bulk_create(
                Case(
                    source="steward",
                    description="人民市场东巷有游商占道经营",
                    lon=116.4321,
                    lat=39.8729,
                    reported_at=start,
                    reference=f"B{n:09d}",
                )
                for n in range(first, min(cases, first + 1000))
            )
            rows = []
            for case in Case.objects.filter(pk__in=[c.pk for c in made]).values("pk", "uuid"):
                previous = GENESIS
                for seq in range(1, events + 1):
                    at = start + timedelta(minutes=seq)
                    kind = kinds[min(seq - 1, len(kinds) - 1)]
                    data = {
                        "changes": {"status": ["reported", "filed"]},
                        "note": "巷内已恢复通行",
                        "distance_m": 42.5,
                        "on_time": True,
                    }
                    content = event_content(
                        case_uuid=str(case["uuid"]),
                        seq=seq,
                        at=at,
                        kind=kind,
                        actor_id=None,
                        actor_role="dispatcher",
                        summons_uuid=None,
                        data=data,
                        lon=116.4321,
                        lat=39.8729,
                    )
                    digest = compute_hash(content, previous)
                    rows.append(
                        Event(
                            case_id=case["pk"],
                            seq=seq,
                            at=at,
                            kind=kind,
                            actor_role="dispatcher",
                            data=data,
                            lon=116.4321,
                            lat=39.8729,
                            prev_hash=previous,
                            hash=digest,
                        )
                    )
                    previous = digest
                # The row as the trail leaves it, or the replay names it changed.
                Case.objects.filter(pk=case["pk"]).update(
                    status=Case.Status.FILED, trail_length=events, trail_head=previous
                )
            Event.objects.bulk_create(rows, batch_size=2000)
    written = time.perf_counter() - started

    started = time.perf_counter()
    checked = verify_database()
    verified = time.perf_counter() - started
    if not checked.ok or checked.events != cases * events:
        raise SystemExit(f"unexpected report: {checked.events} events, {checked.problems[:3]}")

    started = time.perf_counter()
    fetched = sum(
        1
        for _row in Event.objects.order_by("case_id", "seq")
        .values_list("case_id", "seq", "at", "kind", "data", "prev_hash", "hash")
        .iterator(chunk_size=5000)
    )
    baseline = time.perf_counter() - started

    total = cases * events
    print(f"database: {vendor}; {cases} cases, {total} events (written in {written:.1f} s)")
    print(f"verify:   {verified:8.3f} s  {total / verified:10.0f} events/s")
    print(f"baseline: {baseline:8.3f} s  {fetched / baseline:10.0f} events/s (reading the rows)")
    print(f"ratio:    verifying costs {verified / baseline:.1f} times the plain read")
    report(
        "verify_trail.events_per_s",
        total / verified,
        "events/s",
        database=vendor,
        baseline=fetched / baseline,
        note=f"{cases} cases of {events} events; baseline: a plain read of the rows",
    )


if __name__ == "__main__":
    main()
