"""What every open page's poll of the inbox costs as a person's kept entries grow.

`inbox_state` (the unread count and the newest unread entry, the header's version) reads only
the unread entries through the partial index `notification_unread`. The baseline is the same
answer aggregated over the person's whole inbox (every kept entry, read or not), as the poll
read it before that index. Both run in this process on the same people, interleaved: PEOPLE
people with ENTRIES inbox entries each, one in a hundred unread.

    .venv/bin/python benchmarks/inbox_state.py [--people 20] [--entries 5000] [--quick]
    DATABASE_URL=postgresql://… .venv/bin/python benchmarks/inbox_state.py

The throwaway database is a temporary SQLite file by default, or a test database on the
server that DATABASE_URL=postgresql://… names.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime
from typing import Any

from reporting import report

ROUNDS = 400


def whole_inbox(person: Any) -> tuple[int, int]:
    """The baseline: count the unread and find the newest among all the person's entries."""
    from django.db.models import Count, Max, Q

    from whistle.notifications.outbox import inbox

    found = inbox(person).aggregate(
        unread=Count("id", filter=Q(read_at__isnull=True)),
        newest=Max("id", filter=Q(read_at__isnull=True)),
    )
    return found["unread"] or 0, found["newest"] or 0


def measure(people: int, entries: int, vendor: str) -> None:
    from django.db import connection
    from django.utils import timezone

    from whistle.notifications.models import Channel, Notification
    from whistle.notifications.outbox import inbox_state
    from whistle.organisation.models import Person

    now = timezone.now()
    persons = [
        Person.objects.create_user(username=f"inbox-{n}", password=None) for n in range(people)
    ]
    for person in persons:
        Notification.objects.bulk_create(
            [
                Notification(
                    channel=Channel.INBOX,
                    recipient=person,
                    kind="summons",
                    subject="接报",
                    body="请于30分钟内到场。" * 10,
                    read_at=None if n % 100 == 0 else now,
                )
                for n in range(entries)
            ],
            batch_size=1000,
        )
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE notifications_notification")
    for person in persons:
        state = inbox_state(person)
        assert (state.unread, state.newest_unread) == whole_inbox(person), "answers differ"
    ours: list[float] = []
    raw: list[float] = []
    for n in range(ROUNDS):
        person = persons[n % people]
        began = time.perf_counter()
        inbox_state(person)
        ours.append(time.perf_counter() - began)
        began = time.perf_counter()
        whole_inbox(person)
        raw.append(time.perf_counter() - began)
    ours.sort()
    raw.sort()
    for share, label in ((0.5, "p50"), (0.95, "p95")):
        at = int(share * ROUNDS)
        report(
            f"inbox_state_{label}",
            ours[at] * 1000,
            "ms",
            database=vendor,
            baseline=raw[at] * 1000,
            note=f"{entries:,} kept entries a person, 1 % unread; baseline aggregates them all",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--entries", type=int, default=5000, help="inbox entries a person")
    parser.add_argument("--quick", action="store_true", help="a fifth of the entries")
    args = parser.parse_args()
    if args.quick:
        args.entries //= 5

    from scratch import set_up_django, throwaway_database

    set_up_django()

    load = os.getloadavg()[0]
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load {load:.1f}", flush=True)
    with throwaway_database() as vendor:
        measure(args.people, args.entries, vendor)


if __name__ == "__main__":
    main()
