"""What every open page's poll of the inbox costs as a person's kept entries grow.

`inbox_state` (the unread count and the newest unread entry, the header's version) reads only
the unread entries through the partial index `notification_unread`. The baseline is the same
answer aggregated over the person's whole inbox (every kept entry, read or not), as the poll
read it before that index. Both run in this process on the same people, interleaved: PEOPLE
people with ENTRIES inbox entries each, one in a hundred unread.

    .venv/bin/python benchmarks/inbox_state.py [--people 20] [--entries 5000] [--quick]
    DATABASE_URL=postgresql://… .venv/bin/python benchmarks/inbox_state.py

Then the same for entries shared by an audience (a township's command centre: PEOPLE
dispatchers sharing ENTRIES entries): each person read all but the newest one in a hundred,
one by one, and then marked all read up to there; `inbox_state` looks only at the entries
after the mark, the baseline at every shared entry against the person's readings.

The throwaway database is a temporary SQLite file by default, or a test database on the
server that DATABASE_URL=postgresql://… names.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from reporting import report

ROUNDS = 400


def timed(
    name: str,
    persons: list[Any],
    ours: Callable[[Any], object],
    baseline: Callable[[Any], object],
    *,
    vendor: str,
    note: str,
) -> None:
    """ROUNDS polls of `ours` and of `baseline`, interleaved over the people; reports the
    p50 and p95 of each, in milliseconds."""
    mine: list[float] = []
    raw: list[float] = []
    for n in range(ROUNDS):
        person = persons[n % len(persons)]
        began = time.perf_counter()
        ours(person)
        mine.append(time.perf_counter() - began)
        began = time.perf_counter()
        baseline(person)
        raw.append(time.perf_counter() - began)
    mine.sort()
    raw.sort()
    for share, label in ((0.5, "p50"), (0.95, "p95")):
        at = int(share * ROUNDS)
        report(
            f"{name}_{label}",
            mine[at] * 1000,
            "ms",
            database=vendor,
            baseline=raw[at] * 1000,
            note=note,
        )


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
    timed(
        "inbox_state",
        persons,
        inbox_state,
        whole_inbox,
        vendor=vendor,
        note=f"{entries:,} kept entries a person, 1 % unread; baseline aggregates them all",
    )


def shared_without_mark(person: Any, key: str) -> tuple[int, int]:
    """The baseline for shared entries: the unread count and the newest unread entry found
    among all the audience's entries, each checked against the person's readings."""
    from django.db.models import Count, Exists, Max, OuterRef

    from whistle.notifications.models import Channel, InboxRead, Notification

    read = InboxRead.objects.filter(person=person, notification=OuterRef("pk"))
    found = (
        Notification.objects.filter(audience=key, channel=Channel.INBOX)
        .exclude(Exists(read))
        .aggregate(unread=Count("id"), newest=Max("id"))
    )
    return found["unread"] or 0, found["newest"] or 0


def measure_shared(people: int, entries: int, vendor: str) -> None:
    from django.db import connection
    from django.utils import timezone

    from whistle.notifications import audiences
    from whistle.notifications.models import (
        Channel,
        InboxRead,
        InboxReadThrough,
        Notification,
        Status,
    )
    from whistle.notifications.outbox import inbox_state
    from whistle.organisation.models import Jurisdiction, Person, Role, RoleAssignment

    now = timezone.now()
    township = Jurisdiction.objects.create(level="township", code="110101001", name="龙潭街道")
    key = audiences.TOWNSHIP_DESK.key(township.pk)
    persons = [
        Person.objects.create_user(username=f"desk-{n}", password=None) for n in range(people)
    ]
    RoleAssignment.objects.bulk_create(
        [RoleAssignment(person=p, role=Role.DISPATCHER, jurisdiction=township) for p in persons]
    )
    Notification.objects.bulk_create(
        [
            Notification(
                channel=Channel.INBOX,
                status=Status.SENT,
                audience=key,
                kind="backlog.review_due",
                subject="挂账复查到期",
                body="请复查。" * 10,
                created_at=now,
                sent_at=now,
                delivered_at=now,
            )
            for _ in range(entries)
        ],
        batch_size=1000,
    )
    ids = list(
        Notification.objects.filter(audience=key).order_by("id").values_list("id", flat=True)
    )
    read = ids[: len(ids) - len(ids) // 100]
    for person in persons:
        InboxRead.objects.bulk_create(
            [InboxRead(person=person, notification_id=pk, read_at=now) for pk in read],
            batch_size=1000,
        )
        InboxReadThrough.objects.create(person=person, through_id=read[-1], read_at=now)
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE notifications_notification")
            cursor.execute("ANALYZE notifications_inboxread")
    for person in persons:
        state = inbox_state(person)
        assert (state.unread, state.newest_unread) == shared_without_mark(person, key), (
            "answers differ"
        )
        assert state.unread == len(ids) // 100
    timed(
        "inbox_state_shared",
        persons,
        inbox_state,
        lambda person: shared_without_mark(person, key),
        vendor=vendor,
        note=(
            f"{entries:,} entries shared by {people} people, 1 % unread after their mark; "
            "baseline checks every shared entry against their readings"
        ),
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
        measure_shared(args.people, args.entries, vendor)


if __name__ == "__main__":
    main()
