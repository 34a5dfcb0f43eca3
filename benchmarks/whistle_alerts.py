"""How soon a whistle reaches the people it summons, against a bare insert of the same rows.

Builds a small city in a throwaway database (one township, one department with an officer
who has a phone and its head, a dispatcher; `build_sweep_city` of the deadline tests) and
2 × WHISTLES filed cases, then runs two sides one after the other, each WHISTLES whistles
spread evenly over SECONDS:

1. the product: the dispatcher blows the whistle through `blow_whistle`, the action the
   command centre calls (role check, the case locked, whistle, summons with its deadlines,
   both trail events hash-chained, the outbox rows: an inbox entry for the officer and the
   head, an SMS for the officer);
2. bare: the same rows written in one transaction with no action logic (the case's status,
   the whistle, the summons, two events with random hashes, copies of the notification rows
   the product wrote for its first whistle).

On both sides a real `whistle worker` (the deployment's sweeps, its usual tick) delivers the
SMS through the console gateway (its output goes to a scratch file), and the officer's desk
page is open twice, as two signed-in sessions against the product served in a subprocess
(`inbox_live.py --serve`, a threaded WSGI server): each polls the header's count,
``GET /inbox/badge/?v=<version>``, one every WHISTLE_INBOX_POLL_SECONDS as the page does, one
every FAST_POLL seconds to see the server side without the page's wait.

Measured from each whistle's moment (the event's recorded time; the moment the bare insert
began): the commit (the action returned), each inbox row's recorded `sent_at`, each SMS's
`sent_at` (handed to the gateway), and the moment each page received the count that includes
the whistle. Printed as p50, p99 and max for both sides, with the ratio product / bare.

    .venv/bin/python benchmarks/whistle_alerts.py [--whistles 100] [--seconds 60] [--quick]

`--quick` blows 20 whistles over 15 seconds per side.
    DATABASE_URL=postgresql://… .venv/bin/python benchmarks/whistle_alerts.py

The throwaway database is a temporary SQLite file by default, or a test database on the
server that DATABASE_URL=postgresql://… names; it is removed at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import platform
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
DESK_PAGE = "/department/"
_VERSION = re.compile(r"\?v=([0-9a-f]+)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--whistles", type=int, default=100, help="whistles per side")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds they spread over")
    parser.add_argument(
        "--fast-poll", type=float, default=0.5, help="the second page's poll interval (s)"
    )
    parser.add_argument("--port", type=int, default=18741, help="port of the served product")
    parser.add_argument("--quick", action="store_true", help="20 whistles over 15 s")
    args = parser.parse_args()
    if args.quick:
        args.whistles, args.seconds = 20, 15.0
    if args.whistles < 1:
        parser.error("--whistles must be at least 1")

    sys.path[:0] = [str(ROOT), str(HERE)]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
    import django
    from django.conf import settings

    with tempfile.TemporaryDirectory() as scratch:
        database = settings.DATABASES["default"]
        if str(database["ENGINE"]).endswith("sqlite3"):
            database["TEST"] = {"NAME": str(Path(scratch) / "benchmark.sqlite3")}
        django.setup()
        from django.db import connection

        logging.getLogger("whistle").setLevel(logging.WARNING)
        # As in production: no query log kept in memory.
        settings.DEBUG = False
        # Seven people are made; the hasher's cost is not what is measured.
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        original_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            run(args, Path(scratch))
        finally:
            connection.creation.destroy_test_db(original_name, verbosity=0)


# --- The city -------------------------------------------------------------------------------


@dataclass
class Town:
    city: Any
    product_cases: list[Any]
    bare_cases: list[Any]


def build(whistles: int) -> Town:
    """The sweep tests' city, a category, the officer's phone, and filed cases."""
    from tests.fixtures_deadlines import build_sweep_city
    from whistle.cases.models import Case
    from whistle.policies.models import Category, CategoryKind, DurationUnit, MajorClass

    city = build_sweep_city()
    city.officer.phone = "13800000001"
    city.officer.save(update_fields=["phone"])
    order = MajorClass.objects.create(
        district=city.district, kind=CategoryKind.EVENT, code="05", name="街面秩序"
    )
    category = Category.objects.create(
        major=order,
        code="01",
        name="无照经营游商",
        resolve_within=4,
        resolve_unit=DurationUnit.NATURAL_HOURS,
    )
    now = _now()
    cases = Case.objects.bulk_create(
        Case(
            source=Case.Source.STEWARD,
            status=Case.Status.FILED,
            description=f"人民市场东巷游商占道 {n}",
            lon=116.432,
            lat=39.873,
            address="人民市场东巷12号",
            district=city.district,
            township=city.township,
            category=category,
            reported_at=now,
        )
        for n in range(2 * whistles)
    )
    return Town(city=city, product_cases=cases[:whistles], bare_cases=cases[whistles:])


def blow(town: Town) -> Callable[[Any, datetime], None]:
    from whistle.cases.actions import blow_whistle
    from whistle.policies.models import WhistleKind

    def whistle(case: Any, at: datetime) -> None:
        blow_whistle(
            town.city.dispatcher,
            case,
            kind=WhistleKind.ROUTINE,
            departments=[town.city.department],
            now=at,
        )

    return whistle


def bare_insert(town: Town, sample_case: Any) -> Callable[[Any, datetime], None]:
    """Writes what a whistle writes, and nothing else: the notification rows are copies of
    those the product wrote for `sample_case`."""
    from django.db import transaction

    from whistle.cases.models import Case, Event, Summons, Whistle
    from whistle.cases.trail import GENESIS, EventKind
    from whistle.notifications.models import Channel, Notification, Status
    from whistle.policies.models import WhistleKind

    city = town.city
    copied = ["channel", "recipient_id", "address", "kind", "subject", "body", "link"]
    copied += ["fallback_channels", "urgent"]
    sample = list(Notification.objects.filter(payload__case=sample_case.reference).values(*copied))

    def insert(case: Any, at: datetime) -> None:
        with transaction.atomic():
            Case.objects.filter(pk=case.pk).update(status=Case.Status.WHISTLED)
            whistle = Whistle.objects.create(
                case=case,
                kind=WhistleKind.ROUTINE,
                township=city.township,
                blown_by=city.dispatcher,
                blown_at=at,
            )
            summons = Summons.objects.create(
                case=case,
                whistle=whistle,
                department=city.department,
                status=Summons.Status.SUMMONED,
                summoned_at=at,
                acknowledge_due_at=at + timedelta(minutes=10),
                arrive_due_at=at + timedelta(minutes=30),
                resolve_due_at=at + timedelta(hours=4),
            )
            first, second = secrets.token_hex(32), secrets.token_hex(32)
            events = [
                (EventKind.WHISTLE_BLOWN, None, GENESIS, first),
                (EventKind.SUMMONED, summons, first, second),
            ]
            Event.objects.bulk_create(
                Event(
                    case=case,
                    seq=seq,
                    at=at,
                    kind=kind,
                    actor=city.dispatcher,
                    summons=of,
                    prev_hash=previous,
                    hash=own,
                )
                for seq, (kind, of, previous, own) in enumerate(events, start=1)
            )
            now = _now()
            Notification.objects.bulk_create(
                # The inbox entry is delivered once committed, the rest waits for the worker.
                Notification(
                    **row,
                    payload={"case": case.reference},
                    created_at=now,
                    status=Status.SENT,
                    sent_at=now,
                    delivered_at=now,
                )
                if row["channel"] == Channel.INBOX
                else Notification(
                    **row,
                    payload={"case": case.reference},
                    created_at=now,
                    status=Status.PENDING,
                    next_attempt_at=now,
                )
                for row in sample
            )

    return insert


# --- The open pages (threads of this process) -----------------------------------------------


@dataclass
class Page:
    """The officer's desk page, open in a browser: the counts its header received, and when."""

    interval: float
    cookie: str
    counts: list[tuple[datetime, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def keep_polling(self, port: int, stop: threading.Event) -> None:
        version = ""
        while not stop.is_set():
            asked = time.monotonic()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request(
                    "GET",
                    f"/inbox/badge/?v={version}",
                    headers={
                        "Cookie": self.cookie,
                        "HX-Request": "true",
                        "HX-Current-URL": f"http://127.0.0.1:{port}{DESK_PAGE}",
                        "Connection": "close",
                    },
                )
                response = connection.getresponse()
                body = response.read().decode()
                connection.close()
            except OSError as exc:
                self.errors.append(str(exc))
            else:
                received = datetime.now(UTC)
                if response.status == 200:
                    changed = json.loads(response.getheader("HX-Trigger") or "{}")
                    self.counts.append((received, int(changed["inbox-changed"]["unread"])))
                    found = _VERSION.search(body)
                    version = found.group(1) if found else version
                elif response.status != 204:
                    self.errors.append(f"HTTP {response.status}")
            stop.wait(max(0.0, self.interval - (time.monotonic() - asked)))

    def seen_after(self, whistles: list[datetime]) -> list[float]:
        """Seconds from each whistle to the first count that includes it: the page's first
        count is what it showed before, and each whistle adds one entry."""
        if not self.counts:
            return []
        base = self.counts[0][1]
        latencies = []
        for n, blown in enumerate(whistles, start=1):
            seen = next((at for at, unread in self.counts if unread >= base + n), None)
            if seen is not None:
                latencies.append((seen - blown).total_seconds())
        return latencies


# --- One side -------------------------------------------------------------------------------


@dataclass
class Side:
    name: str
    load: float
    committed: list[float]
    inbox: list[float]
    outside: list[float]
    outside_rows: int
    pages: list[list[float]]
    late_starts: int
    failed_polls: int


def run_side(
    name: str,
    write: Callable[[Any, datetime], None],
    cases: list[Any],
    args: argparse.Namespace,
    pages: list[Page],
) -> Side:
    from whistle.notifications.models import Channel, Notification, Status

    stop = threading.Event()
    threads = [
        threading.Thread(target=page.keep_polling, args=(args.port, stop), daemon=True)
        for page in pages
    ]
    for thread in threads:
        thread.start()
    ends = time.monotonic() + 30
    while any(not page.counts for page in pages) and time.monotonic() < ends:
        time.sleep(0.05)
    if any(not page.counts for page in pages):
        raise SystemExit(f"{name}: a page never got its count: {[p.errors for p in pages]}")
    load = os.getloadavg()[0]

    blown: list[datetime] = []
    committed: list[float] = []
    late_starts = 0
    started = time.monotonic()
    for n, case in enumerate(cases):
        due = started + args.seconds * n / len(cases)
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        elif wait < -0.1:
            late_starts += 1
        at = _now()
        write(case, at)
        committed.append((_now() - at).total_seconds())
        blown.append(at)

    moments = {case.reference: at for case, at in zip(cases, blown, strict=True)}
    rows = Notification.objects.filter(created_at__gte=blown[0])
    outside = rows.exclude(channel=Channel.INBOX)
    ends = time.monotonic() + 120
    while outside.exclude(status=Status.SENT).exists() and time.monotonic() < ends:
        time.sleep(0.2)
    # The slower page's next poll after the last whistle, and a margin.
    ends = time.monotonic() + max(page.interval for page in pages) + 2
    while time.monotonic() < ends and any(
        page.counts[-1][1] < page.counts[0][1] + len(cases) for page in pages
    ):
        time.sleep(0.1)
    stop.set()
    for thread in threads:
        thread.join(timeout=35)

    def since_whistle(channel_rows: Any) -> list[float]:
        return [
            (sent - moments[payload["case"]]).total_seconds()
            for payload, sent in channel_rows.values_list("payload", "sent_at")
            if sent is not None
        ]

    return Side(
        name=name,
        load=load,
        committed=committed,
        inbox=since_whistle(rows.filter(channel=Channel.INBOX)),
        outside=since_whistle(outside),
        outside_rows=outside.count(),
        pages=[page.seen_after(blown) for page in pages],
        late_starts=late_starts,
        failed_polls=sum(len(page.errors) for page in pages),
    )


# --- The run --------------------------------------------------------------------------------


def run(args: argparse.Namespace, scratch: Path) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from overdue_sweep import database_url, server_version, start, stop, wait_for_start

    town = build(args.whistles)
    # The lock-out's record of a sign-in wants the client's address, which the test client's
    # sign-in has none of (PostgreSQL refuses the placeholder); the sign-in is not measured.
    settings.AXES_ENABLED = False
    cookies = []
    for _ in range(2):
        client = Client()
        client.force_login(town.city.officer)
        cookies.append(f"sessionid={client.cookies['sessionid'].value}")
    poll = float(settings.WHISTLE_INBOX_POLL_SECONDS)

    # The served product reads sessions signed with this process's key.
    server_env = {**os.environ, "DATABASE_URL": database_url(), "WHISTLE_DEBUG": "0"}
    with (scratch / "server.log").open("wb") as server_log:
        server = subprocess.Popen(
            [sys.executable, str(HERE / "inbox_live.py"), "--serve", str(args.port)],
            cwd=ROOT,
            env=server_env,
            stdout=server_log,
            stderr=subprocess.STDOUT,
        )
    worker_log = scratch / "worker.log"
    worker = start([sys.executable, "-m", "whistle", "worker", "--max-seconds", "900"], worker_log)
    try:
        wait_for_server(server, args.port, scratch / "server.log")
        wait_for_start(worker, worker_log, "worker")
        product = run_side(
            "whistle action",
            blow(town),
            town.product_cases,
            args,
            [Page(poll, cookies[0]), Page(args.fast_poll, cookies[1])],
        )
        bare = run_side(
            "bare insert",
            bare_insert(town, town.product_cases[0]),
            town.bare_cases,
            args,
            [Page(poll, cookies[0]), Page(args.fast_poll, cookies[1])],
        )
    finally:
        stop(worker)
        server.terminate()
        server.wait(timeout=10)
    if "Traceback" in worker_log.read_text(errors="replace"):
        print(
            f"warning: the worker logged an error; see its log:\n{worker_log.read_text()[-3000:]}"
        )
    print_report(
        args,
        poll=poll,
        vendor=connection.vendor,
        version=server_version(),
        sweeps=list(settings.WHISTLE_WORKER_SWEEPS),
        interval=float(settings.WHISTLE_WORKER_INTERVAL_SECONDS),
        sides=(product, bare),
    )


def wait_for_server(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    ends = time.monotonic() + 60
    while time.monotonic() < ends:
        if server.poll() is not None:
            raise SystemExit(f"the server exited early:\n{log.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/favicon.ico")
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not answer within 60 s")


# --- Report ---------------------------------------------------------------------------------


def print_report(
    args: argparse.Namespace,
    *,
    poll: float,
    vendor: str,
    version: str,
    sweeps: list[str],
    interval: float,
    sides: tuple[Side, Side],
) -> None:
    from overdue_sweep import percentile, ratio

    product, bare = sides
    uname = " ".join(platform.uname())
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"Whistle to alert benchmark, {_now():%Y-%m-%d %H:%M} UTC")
    print(f"machine: {uname}; {os.cpu_count()} CPUs; load average {load} at the end")
    print(
        f"load average (1 min) as each side began: {product.name} {product.load:.2f}, "
        f"{bare.name} {bare.load:.2f}"
    )
    print(f"database: {version} ({vendor}); Python {platform.python_version()}")
    print(
        f"{args.whistles} whistles over {args.seconds:g} s per side (one every "
        f"{args.seconds / args.whistles:.2f} s), one department each; "
        f"{product.outside_rows} outside rows (product), {bare.outside_rows} (bare)"
    )
    print(f"worker: every {interval:g} s, sweeps {', '.join(s.rsplit('.', 2)[-2] for s in sweeps)}")
    print(
        f"pages: /inbox/badge/ polled every {poll:g} s (WHISTLE_INBOX_POLL_SECONDS) "
        f"and every {args.fast_poll:g} s"
    )
    print()
    print(
        f"seconds from the whistle to …                {product.name:>15} {bare.name:>12}   ratio"
    )
    measures = [
        ("committed", product.committed, bare.committed),
        ("inbox row, recorded sent_at", product.inbox, bare.inbox),
        ("SMS handed to the gateway", product.outside, bare.outside),
        (f"count seen, page polling every {poll:g} s", product.pages[0], bare.pages[0]),
        (
            f"count seen, page polling every {args.fast_poll:g} s",
            product.pages[1],
            bare.pages[1],
        ),
    ]
    for label, ours, theirs in measures:
        for share, name in ((0.50, "p50"), (0.99, "p99"), (1.0, "max")):
            mine, base = percentile(ours, share), percentile(theirs, share)
            text = f"{label}, {name}"
            print(f"  {text:<43} {mine:15.3f} {base:12.3f} {ratio(mine, base):7.2f}")
        print(f"  {'':<43} {len(ours):>15} {len(theirs):>12}   samples")
    from reporting import report

    for name, (label, ours, theirs) in zip(
        ("committed", "inbox", "sms", "page", "page_fast"), measures, strict=True
    ):
        report(
            f"whistle_alert_{name}_p99",
            percentile(ours, 0.99),
            "seconds",
            database=vendor,
            baseline=percentile(theirs, 0.99),
            note=f"from the whistle to: {label}; p99 of {len(ours)}, against the bare insert",
        )
    for side in sides:
        if side.late_starts:
            print(f"note: {side.name}: {side.late_starts} whistles began over 0.1 s late")
        if side.failed_polls:
            print(f"note: {side.name}: {side.failed_polls} polls failed")


def _now() -> datetime:
    from django.utils import timezone

    return timezone.now()


if __name__ == "__main__":
    main()
