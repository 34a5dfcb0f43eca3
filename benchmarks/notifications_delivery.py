"""How fast the outbox delivers, measured against a plain UPDATE of the same rows.

Queues ROWS notification rows, half in-app and half SMS (one in-app and one SMS row per
notification, the console SMS gateway with its output thrown away), drains them with the
delivery sweep as one worker would, then times one plain UPDATE that marks the same rows
delivered: the cost of writing the outcome and nothing else. Prints both rates and their ratio.

    .venv/bin/python benchmarks/notifications_delivery.py [--rows 10000] [--batch 200] [--quick]

`--quick` queues 2,000 rows.

It runs in a throwaway database made beside the configured one: a temporary SQLite file by
default, or a test database on the server that DATABASE_URL=postgresql://… names.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from contextlib import redirect_stdout

from reporting import report
from scratch import throwaway_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rows to queue (even)")
    parser.add_argument("--batch", type=int, default=None, help="rows per sweep")
    parser.add_argument("--quick", action="store_true", help="2,000 rows")
    args = parser.parse_args()
    if args.quick:
        args.rows = 2_000
    if args.rows < 2:
        parser.error("--rows must be at least 2")

    from scratch import set_up_django

    set_up_django()
    from django.conf import settings

    settings.WHISTLE_SMS_BACKEND = "whistle.notifications.sms.ConsoleSmsBackend"
    # One summary line per sweep would be measured too.
    logging.getLogger("whistle").setLevel(logging.WARNING)
    batch = args.batch or int(getattr(settings, "WHISTLE_WORKER_BATCH", 200))
    with throwaway_database() as vendor:
        measure(rows=args.rows, batch=batch, vendor=vendor)


def measure(*, rows: int, batch: int, vendor: str) -> None:
    from django.db import transaction
    from django.utils import timezone

    from whistle.notifications.delivery import sweep
    from whistle.notifications.models import Channel, Notification, Status
    from whistle.notifications.outbox import notify
    from whistle.organisation.models import Person

    people = Person.objects.bulk_create(
        Person(username=f"officer-{n:03d}", name=f"执法队员{n:03d}", phone=f"139{n:08d}")
        for n in range(100)
    )
    notifications = rows // 2

    started = time.perf_counter()
    with transaction.atomic():
        for n in range(notifications):
            notify(
                people[n % len(people)],
                kind="summons.created",
                subject="龙潭街道吹哨：人民市场东巷占道经营",
                body="请于30分钟内到场报到。",
                link=f"/summons/{n}/",
                channels=[Channel.INBOX, Channel.SMS],
                dedupe_key=f"benchmark:{n}",
            )
    queued = time.perf_counter() - started

    sweeps = 0
    started = time.perf_counter()
    with open(os.devnull, "w", encoding="utf-8") as silence, redirect_stdout(silence):
        while sweep(timezone.now(), batch=batch):
            sweeps += 1
    delivered = time.perf_counter() - started

    statuses = set(Notification.objects.values_list("status", flat=True))
    if statuses != {Status.SENT}:
        raise SystemExit(f"not every row was delivered: {sorted(statuses)}")
    ids = list(Notification.objects.values_list("id", flat=True))
    Notification.objects.update(status=Status.PENDING, sent_at=None)

    started = time.perf_counter()
    with transaction.atomic():
        Notification.objects.filter(id__in=ids).update(status=Status.SENT, sent_at=timezone.now())
    baseline = time.perf_counter() - started

    total = queued + delivered
    end_to_end = len(ids) / total
    plain = len(ids) / baseline
    print(f"database: {vendor}; {len(ids)} rows ({notifications} in-app, {notifications} SMS)")
    print(f"queue:    {queued:8.3f} s  {len(ids) / queued:10.0f} rows/s (in-app rows delivered)")
    print(
        f"sweep:    {delivered:8.3f} s  {notifications / delivered:10.0f} SMS/s "
        f"({sweeps} sweeps of up to {batch})"
    )
    print(f"total:    {total:8.3f} s  {end_to_end:10.0f} deliveries/s")
    print(f"baseline: {baseline:8.3f} s  {plain:10.0f} rows/s (one UPDATE of the same rows)")
    print(f"ratio:    the plain UPDATE is {plain / end_to_end:.1f} times faster")
    report(
        "notifications_delivery",
        end_to_end,
        "deliveries per second",
        database=vendor,
        baseline=plain,
        note=f"queue and deliver {len(ids)} rows, against one UPDATE of the same rows",
    )


if __name__ == "__main__":
    main()
