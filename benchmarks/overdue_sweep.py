"""How soon the deadline sweep records an overdue, and how many obligations it handles a second,
against a plain SQL UPDATE of the same rows.

Fills a throwaway database with OBLIGATIONS open summonses (bulk-created; most due hours from
now), then:

1. latency: gives DUE more summonses an arrival deadline spread over SPREAD seconds ahead
   (20 a second by default: far above a city's rate, within one worker's capacity; a
   shorter spread shows what a burst beyond that capacity does),
   runs a real `whistle worker` (deadline sweep only, the usual 1 s tick) in a subprocess,
   and compares each overdue event with its deadline: by the event's recorded time, and by
   the moment a reader in this process first saw it (polled every 50 ms);
2. the same with a raw loop in a subprocess: every tick one UPDATE that stamps the due rows
   overdue and nothing else (no event, no escalation, no notification);
3. throughput: BACKLOG summonses already overdue, timed once through a plain UPDATE (rolled
   back) and then through the sweep (`sweep_until_idle`, as one worker drains a backlog) in
   a fresh process, counting its SQL statements, its CPU time, its peak memory and (on
   PostgreSQL) the CPU time of the server processes serving it (its lanes' too); with
   `--baseline CHECKOUT`, once more with another checkout's code (same schema) on as many
   fresh rows of the same database, so that two versions are compared in the same run;
4. scale-out (PostgreSQL; `--workers N`, 2 by default there, 1 on SQLite where writers take
   turns): N such processes started together on as many fresh overdue rows, their rate
   taken from the first start to the last end, beside one worker's;
5. exactly once and the trail: every backlog row has exactly one overdue event, and
   `verify_trail`'s checks find no broken chain and nothing wrong that was not wrong before
   the sweeps (the rows are bulk-made without the trail of their earlier steps, which the
   check reports about them before and after alike).

Each overdue the sweep handles costs an overdue event, an escalation to the township, both
hash-chained into the case's trail, and the notifications to the department and the township.

    .venv/bin/python benchmarks/overdue_sweep.py [--obligations 100000] [--due 1000] [--spread 50]
        [--backlog 10000] [--baseline /path/to/other/checkout] [--workers N] [--batch 200] [--quick]
    DATABASE_URL=postgresql://… .venv/bin/python benchmarks/overdue_sweep.py

The throwaway database is a temporary SQLite file by default, or a test database on the
server that DATABASE_URL=postgresql://… names; it is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
RAW_UPDATE = (
    "UPDATE cases_summons SET arrive_overdue_at = %s, swept_through_at = %s, "
    "next_check_at = NULL WHERE next_check_at <= %s"
)
RAW_LOOP = """
import os, sys, time
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
import django
django.setup()
from django.db import connection, transaction
from django.utils import timezone
ends = time.monotonic() + {seconds}
while time.monotonic() < ends:
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute({sql!r}, [now, now, now])
    time.sleep({interval})
"""
# Drains the overdue backlog with the sweep of the checkout at `root`, counting statements and
# the process's peak resident memory (Linux VmHWM, reset before the sweep starts).
SWEEP_RUN = """
import json, os, sys, time
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
import django
django.setup()
import logging
from django.db import connection
from whistle.cases.deadlines import sweep_until_idle
logging.getLogger("whistle").setLevel(logging.WARNING)
def kib(name):
    for line in open("/proc/self/status"):
        if line.startswith(name + ":"):
            return int(line.split()[1])
statements = [0]
def count(execute, sql, params, many, context):
    statements[0] += 1
    return execute(sql, params, many, context)
# The CPU time of the server processes that serve this process (this connection's and any
# the sweep opens besides, in its lanes: all named after this process), where they run on
# this machine (PostgreSQL); None elsewhere. Each counts from when it is first seen.
backends = None
if connection.vendor == "postgresql":
    from django.db import connections
    named = connections.settings[connection.alias]
    named.setdefault("OPTIONS", {{}})["application_name"] = "sweep-%d" % os.getpid()
    # Kept open to the end, so that their server processes can still be read then.
    named["CONN_MAX_AGE"] = None
    connection.settings_dict.update(named)
    backends = "SELECT pid FROM pg_stat_activity WHERE application_name = 'sweep-%d'" % os.getpid()
connection.ensure_connection()
def server_cpu():
    if backends is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(backends)
        pids = [pid for (pid,) in cursor.fetchall()]
    found = {{}}
    for pid in pids:
        try:
            fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found
before = kib("VmRSS")
with open("/proc/self/clear_refs", "w") as reset:
    reset.write("5")
served = server_cpu()
with connection.execute_wrapper(count):
    began = time.time()
    started, cpu = time.perf_counter(), time.process_time()
    processed = sweep_until_idle(batch={batch})
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
if served is not None:
    served = sum(spent - served.get(pid, 0.0) for pid, spent in server_cpu().items())
print(json.dumps(dict(processed=processed, seconds=seconds, statements=statements[0],
                      rss_before_kib=before, peak_kib=kib("VmHWM"), cpu_seconds=cpu,
                      server_cpu_seconds=served, began=began, ended=time.time())))
"""

# The batch each pass of the throughput runs' sweep takes (`--batch`).
BATCH = [200]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--obligations", type=int, default=100_000, help="open summonses")
    parser.add_argument("--due", type=int, default=1000, help="deadlines per latency run")
    parser.add_argument(
        "--spread", type=float, default=50.0, help="seconds the deadlines spread over"
    )
    parser.add_argument("--backlog", type=int, default=10_000, help="overdue rows for throughput")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout of the product (same schema) whose sweep to time on as many rows",
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="sweep processes draining one backlog together (default 2 on PostgreSQL, else 1)",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=200,
        help="rows a pass of the sweep takes at most (the worker's WHISTLE_WORKER_BATCH: 200)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="10,000 obligations, 200 due over 10 s, 2,000 backlog"
    )
    args = parser.parse_args()
    BATCH[0] = args.batch
    if args.quick:
        args.obligations, args.due, args.spread, args.backlog = 10_000, 200, 10.0, 2_000
    sides = (2 if args.baseline else 1) + 1
    if args.obligations < 2 * args.due + sides * args.backlog:
        parser.error("--obligations must cover the due and backlog rows")

    sys.path.insert(0, str(ROOT))
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
        original_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            run(args, Path(scratch))
        finally:
            connection.creation.destroy_test_db(original_name, verbosity=0)


@dataclass
class Latency:
    recorded: list[float]
    seen: list[float]
    # The summonses that fell due.
    ids: list[int]


def run(args: argparse.Namespace, scratch: Path) -> None:
    from django.db import connection

    from tests.fixtures_deadlines import build_sweep_city

    city = build_sweep_city()
    started = time.perf_counter()
    checkouts = [("this checkout", ROOT)]
    if args.baseline:
        checkouts.insert(0, ("baseline", args.baseline.resolve()))
    workers = args.workers or (2 if connection.vendor == "postgresql" else 1)
    sides = len(checkouts) + (1 if workers > 1 else 0)
    background = args.obligations - 2 * args.due - sides * args.backlog
    fill(city, background)
    filled_in = time.perf_counter() - started
    before = trail_problems()

    sweep_latency = latency_run(city, args, scratch, worker_command(), "sweep")
    raw_command = [sys.executable, "-c", raw_loop_source(seconds=args.spread + 60)]
    raw_latency = latency_run(city, args, scratch, raw_command, "raw")
    raw_rate = raw_throughput(city, args.backlog)
    drains = [(name, drain(city, args.backlog, root)) for name, root in checkouts]
    together = drain_together(city, args.backlog, workers) if workers > 1 else None
    # The raw loop stamps its rows overdue without any event: they are left out.
    checks = check_exactly_once(before, leave_out=raw_latency.ids)

    print_report(
        args,
        vendor=connection.vendor,
        version=server_version(),
        filled_in=filled_in,
        sweep_latency=sweep_latency,
        raw_latency=raw_latency,
        drains=drains,
        raw_rate=raw_rate,
        together=together,
        checks=checks,
    )


# --- Rows -------------------------------------------------------------------------------------


def make_rows(city: Any, count: int, shape: Any) -> list[int]:
    """Bulk-create `count` cases, each with a whistle and a summons; `shape(n, summons)` sets
    the summons' times. Returns the summonses' ids."""
    from whistle.cases.deadlines import next_check_for
    from whistle.cases.models import Case, Summons, Whistle
    from whistle.policies.models import WhistleKind

    now = _now()
    cases = Case.objects.bulk_create(
        (
            Case(
                source=Case.Source.STEWARD,
                status=Case.Status.WHISTLED,
                description="人民市场东巷井盖缺失",
                lon=116.432,
                lat=39.873,
                district=city.district,
                township=city.township,
                reported_at=now,
            )
            for _ in range(count)
        ),
        batch_size=2000,
    )
    whistles = Whistle.objects.bulk_create(
        (
            Whistle(
                case=case,
                kind=WhistleKind.ROUTINE,
                township=city.township,
                blown_by=city.dispatcher,
                blown_at=now,
            )
            for case in cases
        ),
        batch_size=2000,
    )
    summonses = []
    for n, whistle in enumerate(whistles):
        summons = Summons(case=whistle.case, whistle=whistle, department=city.department)
        shape(n, summons)
        summons.next_check_at = next_check_for(summons, now, policy=city.policy)
        summonses.append(summons)
    created = Summons.objects.bulk_create(summonses, batch_size=2000)
    return [s.pk for s in created]


def _acknowledged(summons: Any, summoned: datetime) -> None:
    from whistle.cases.models import Summons

    summons.status = Summons.Status.ACKNOWLEDGED
    summons.summoned_at = summoned
    summons.acknowledge_due_at = summoned + timedelta(minutes=10)
    summons.acknowledged_at = summoned + timedelta(minutes=2)


def fill(city: Any, count: int) -> None:
    """Open summonses whose next reminder or deadline is at least an hour away."""
    now = _now()
    rng = random.Random(12345)

    def shape(n: int, summons: Any) -> None:
        _acknowledged(summons, now - timedelta(minutes=rng.uniform(0, 60)))
        summons.status = summons.Status.ON_SITE
        summons.arrive_due_at = summons.summoned_at + timedelta(minutes=30)
        summons.arrived_at = summons.summoned_at + timedelta(minutes=20)
        summons.resolve_due_at = now + timedelta(hours=rng.uniform(3, 72))
        summons.swept_through_at = now

    make_rows(city, count, shape)


def latency_run(
    city: Any, args: argparse.Namespace, scratch: Path, command: list[str], name: str
) -> Latency:
    """Start the worker, then make `args.due` arrivals fall due over the next seconds and
    watch each one being recorded."""
    from whistle.cases.models import Summons

    log = scratch / f"{name}.log"
    worker = start(command, log)
    try:
        wait_for_start(worker, log, name)
        lead = 5.0
        now = _now()

        def shape(n: int, summons: Any) -> None:
            offset = lead + args.spread * n / max(args.due - 1, 1)
            due = now + timedelta(seconds=offset)
            _acknowledged(summons, due - timedelta(minutes=30))
            summons.arrive_due_at = due
            summons.resolve_due_at = due + timedelta(hours=4)
            summons.swept_through_at = now

        ids = make_rows(city, args.due, shape)
        rows = Summons.objects.filter(pk__in=ids).values_list("pk", "arrive_due_at")
        deadlines = {pk: due for pk, due in rows if due is not None}
        if _now() > min(deadlines.values()):
            print(f"warning: {name}: rows were created after their first deadline")
        seen = watch(ids, timeout=args.spread + lead + 90)
        recorded = recorded_times(ids)
    finally:
        stop(worker)
    missing = len(ids) - len(recorded)
    if missing:
        print(f"warning: {name}: {missing} overdue not recorded in time")
    return Latency(
        recorded=[(recorded[pk] - deadlines[pk]).total_seconds() for pk in recorded],
        seen=[(seen[pk] - deadlines[pk]).total_seconds() for pk in seen],
        ids=ids,
    )


def watch(ids: list[int], *, timeout: float) -> dict[int, datetime]:
    """Poll until every summons has its overdue recorded; when each was first seen."""
    from whistle.cases.models import Summons

    # A range scan on the primary key, cheap enough to repeat every 50 ms without slowing
    # the worker it watches.
    recorded = Summons.objects.filter(
        pk__gte=min(ids), pk__lte=max(ids), arrive_overdue_at__isnull=False
    ).values_list("pk", flat=True)
    seen: dict[int, datetime] = {}
    ends = time.monotonic() + timeout
    while len(seen) < len(ids) and time.monotonic() < ends:
        found = list(recorded.all())
        moment = _now()
        for pk in found:
            seen.setdefault(pk, moment)
        time.sleep(0.05)
    return seen


def recorded_times(ids: list[int]) -> dict[int, datetime]:
    from whistle.cases.models import Summons

    rows = Summons.objects.filter(pk__in=ids, arrive_overdue_at__isnull=False)
    return {pk: at for pk, at in rows.values_list("pk", "arrive_overdue_at") if at is not None}


def overdue_backlog(city: Any, count: int) -> list[int]:
    """`count` summonses whose arrival turned overdue half a minute ago."""
    now = _now()

    def shape(n: int, summons: Any) -> None:
        due = now - timedelta(seconds=30)
        _acknowledged(summons, due - timedelta(minutes=30))
        summons.arrive_due_at = due
        summons.resolve_due_at = due + timedelta(hours=4)
        summons.swept_through_at = due - timedelta(seconds=30)

    return make_rows(city, count, shape)


def raw_throughput(city: Any, backlog: int) -> float:
    """Rows per second of one plain UPDATE that stamps an overdue backlog (rolled back)."""
    from django.db import connection, transaction

    ids = overdue_backlog(city, backlog)
    moment = _now()
    with transaction.atomic():
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(RAW_UPDATE, [moment, moment, moment])
            updated = cursor.rowcount
        raw_seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    if updated != backlog:
        print(f"warning: the plain UPDATE touched {updated} rows, not {backlog}")
    # These rows are the first side's backlog.
    del ids
    return updated / raw_seconds


@dataclass
class Drain:
    processed: int
    seconds: float
    statements: int
    rss_before_kib: int
    peak_kib: int
    cpu_seconds: float
    began: float
    ended: float
    # The database server's process for the drain's connection (PostgreSQL on this machine).
    server_cpu_seconds: float | None = None

    @property
    def rate(self) -> float:
        return self.processed / self.seconds


def drain(city: Any, backlog: int, root: Path) -> Drain:
    """The sweep of the checkout at `root` drains an overdue backlog in a fresh process.
    The first side finds the backlog `raw_throughput` left; later sides get fresh rows."""
    from whistle.cases.models import Summons

    if not Summons.objects.filter(next_check_at__lte=_now()).exists():
        overdue_backlog(city, backlog)
    command = [sys.executable, "-c", SWEEP_RUN.format(root=str(root), batch=BATCH[0])]
    env = {**os.environ, **worker_env()}
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"the sweep of {root} failed:\n{result.stderr[-3000:]}")
    found = Drain(**json.loads(result.stdout.strip().splitlines()[-1]))
    if found.processed != backlog:
        print(f"warning: the sweep of {root} processed {found.processed} rows, not {backlog}")
    return found


@dataclass
class Together:
    workers: int
    processed: int
    seconds: float
    each: list[Drain]

    @property
    def rate(self) -> float:
        return self.processed / self.seconds


def drain_together(city: Any, backlog: int, workers: int) -> Together:
    """`workers` sweep processes of this checkout drain one fresh backlog at once; the rate
    runs from the first one's start to the last one's end."""
    overdue_backlog(city, backlog)
    command = [sys.executable, "-c", SWEEP_RUN.format(root=str(ROOT), batch=BATCH[0])]
    env = {**os.environ, **worker_env()}
    running = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(workers)
    ]
    each = []
    for process in running:
        out, err = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"a sweep process failed:\n{err[-3000:]}")
        each.append(Drain(**json.loads(out.strip().splitlines()[-1])))
    processed = sum(found.processed for found in each)
    if processed != backlog:
        print(f"warning: {workers} sweeps processed {processed} rows together, not {backlog}")
    span = max(found.ended for found in each) - min(found.began for found in each)
    return Together(workers, processed, span, each)


@dataclass
class Checks:
    overdue_rows: int
    events_per_row: dict[int, int]
    chain_problems: int
    new_problems: int
    cases: int


# `verify_trail`'s codes for a broken chain (as against a row that disagrees with its trail).
CHAIN_CODES = {"missing", "duplicate", "reordered", "changed", "broken_link", "truncated", "head"}


def trail_problems() -> set[tuple[str, str, str]]:
    from whistle.cases.verify import verify_database

    report = verify_database()
    return {(p.case, p.code, str(p)) for p in report.problems}


def check_exactly_once(before: set[tuple[str, str, str]], *, leave_out: list[int]) -> Checks:
    """Each summons the sweep recorded overdue has exactly one overdue event; the trail
    verifies. `leave_out`: summonses stamped by the raw loop, and their cases."""
    from collections import Counter

    from django.db.models import Count

    from whistle.cases.models import Event, Summons
    from whistle.cases.trail import EventKind
    from whistle.cases.verify import verify_database

    overdue = Summons.objects.filter(arrive_overdue_at__isnull=False).exclude(pk__in=leave_out)
    raw_cases = set(
        Summons.objects.filter(pk__in=leave_out).values_list("case__reference", flat=True)
    )
    events = (
        Event.objects.filter(kind=EventKind.ARRIVE_OVERDUE, summons__in=overdue)
        .order_by()
        .values("summons")
        .annotate(n=Count("pk"))
    )
    per_row = Counter(row["n"] for row in events)
    counted = sum(per_row.values())
    rows = overdue.count()
    if counted != rows:
        per_row[0] = rows - counted
    report = verify_database()
    after = {(p.case, p.code, str(p)) for p in report.problems if p.case not in raw_cases}
    return Checks(
        overdue_rows=rows,
        events_per_row=dict(per_row),
        chain_problems=sum(1 for p in report.problems if p.code in CHAIN_CODES),
        new_problems=len(after - before),
        cases=report.cases,
    )


# --- Processes --------------------------------------------------------------------------------


def database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = quote(db["USER"] or "")
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgresql://{user}{password}@{db['HOST'] or '127.0.0.1'}{port}/{db['NAME']}"


def worker_command() -> list[str]:
    sweep = ["--sweep", "whistle.cases.deadlines.sweep"]
    return [sys.executable, "-m", "whistle", "worker", *sweep, "--max-seconds", "600"]


def raw_loop_source(*, seconds: float) -> str:
    from django.conf import settings

    interval = float(settings.WHISTLE_WORKER_INTERVAL_SECONDS)
    return RAW_LOOP.format(root=str(ROOT), seconds=seconds, sql=RAW_UPDATE, interval=interval)


def worker_env() -> dict[str, str]:
    return {
        "DATABASE_URL": database_url(),
        "WHISTLE_LOG_LEVEL": "INFO",
        # As in production: no query log kept in memory.
        "WHISTLE_DEBUG": "0",
        "WHISTLE_SECRET_KEY": "overdue-sweep-benchmark-only",
    }


def start(command: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, **worker_env()}
    with log.open("wb") as output:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)


def wait_for_start(worker: subprocess.Popen, log: Path, name: str) -> None:
    """The worker logs a line when it starts; the raw loop is ready once Django is loaded,
    which a fixed pause covers."""
    ends = time.monotonic() + 60
    while time.monotonic() < ends:
        if worker.poll() is not None:
            raise SystemExit(f"{name} exited early:\n{log.read_text()[-3000:]}")
        if name == "raw" or "worker started" in log.read_text():
            break
        time.sleep(0.1)
    time.sleep(3.0 if name == "raw" else 0.5)


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()


# --- Report -----------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


def server_version() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def print_report(
    args: argparse.Namespace,
    *,
    vendor: str,
    version: str,
    filled_in: float,
    sweep_latency: Latency,
    raw_latency: Latency,
    drains: list[tuple[str, Drain]],
    raw_rate: float,
    together: Together | None,
    checks: Checks,
) -> None:
    uname = " ".join(platform.uname())
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"Overdue sweep benchmark, {_now():%Y-%m-%d %H:%M} UTC")
    print(f"machine: {uname}; {os.cpu_count()} CPUs; load average {load}")
    print(f"database: {version} ({vendor}); Python {platform.python_version()}")
    print(
        f"open obligations: {args.obligations:,} (filled in {filled_in:.0f} s); "
        f"{args.due:,} deadlines over {args.spread:.0f} s per latency run; "
        f"backlog {args.backlog:,}"
    )
    print()
    print("seconds from deadline to overdue      sweep   raw UPDATE   ratio")
    rows = [
        ("p50, recorded time", sweep_latency.recorded, raw_latency.recorded, 0.50),
        ("p99, recorded time", sweep_latency.recorded, raw_latency.recorded, 0.99),
        ("max, recorded time", sweep_latency.recorded, raw_latency.recorded, 1.0),
        ("p50, seen by a reader", sweep_latency.seen, raw_latency.seen, 0.50),
        ("p99, seen by a reader", sweep_latency.seen, raw_latency.seen, 0.99),
        ("max, seen by a reader", sweep_latency.seen, raw_latency.seen, 1.0),
    ]
    for label, sweep_values, raw_values, share in rows:
        ours, theirs = percentile(sweep_values, share), percentile(raw_values, share)
        print(f"  {label:<32} {ours:8.3f} {theirs:12.3f} {ratio(ours, theirs):7.2f}")
    print(
        f"  recorded: sweep {len(sweep_latency.recorded):,}/{args.due:,}, "
        f"raw {len(raw_latency.recorded):,}/{args.due:,}; "
        f"mean sweep {mean(sweep_latency.recorded):.3f} s"
    )
    print()
    print(f"overdue backlog of {args.backlog:,}, one worker (`sweep_until_idle`)")
    print(
        "  code            obligations/s   per CPU s   raw UPDATE/s   ratio   "
        "statements/obligation   peak RSS"
    )
    for name, found in drains:
        print(
            f"  {name:<15} {found.rate:13.0f} {found.processed / found.cpu_seconds:11.0f} "
            f"{raw_rate:14.0f} {raw_rate / found.rate:7.1f} "
            f"{found.statements / max(found.processed, 1):23.2f} "
            f"{found.peak_kib / 1024:7.1f} MiB (before the sweep {found.rss_before_kib / 1024:.1f})"
        )
    for name, found in drains:
        if found.server_cpu_seconds is not None and found.processed:
            each = 1e6 / found.processed
            print(
                f"  {name:<15} per obligation: {found.seconds * each:.0f} µs by the clock, "
                f"{found.cpu_seconds * each:.0f} µs of the worker's CPU, "
                f"{found.server_cpu_seconds * each:.0f} µs of its server processes' CPU"
            )
    if len(drains) == 2:
        (_, old), (_, new) = drains
        print(f"  this checkout / baseline: {new.rate / old.rate:.2f}× the obligations per second")
        print(
            f"  this checkout / baseline: {cpu_rate(new) / cpu_rate(old):.2f}× the "
            "obligations per CPU second of the worker"
        )
    print("  (ratio: how many times faster the plain UPDATE is; it writes no event,")
    print("   escalation or notification)")
    if together is not None:
        one = drains[-1][1]
        print()
        print(f"overdue backlog of {args.backlog:,}, {together.workers} workers at once")
        print(
            f"  together {together.rate:.0f} obligations/s ({together.processed:,} in "
            f"{together.seconds:.2f} s) = {together.rate / one.rate:.2f}x one worker's "
            f"{one.rate:.0f}; each: "
            + ", ".join(
                f"{found.processed:,} rows, peak RSS {found.peak_kib / 1024:.0f} MiB"
                for found in together.each
            )
        )
    print()
    print(
        f"exactly once: {checks.overdue_rows:,} summonses recorded overdue; overdue events per "
        f"summons: {checks.events_per_row} (count: summonses)"
    )
    print(
        f"trail: {checks.cases:,} cases verified, {checks.chain_problems} broken chains, "
        f"{checks.new_problems} problems not there before the sweeps"
    )
    from reporting import report

    report(
        "overdue_latency_p99",
        percentile(sweep_latency.recorded, 0.99),
        "seconds",
        database=vendor,
        baseline=percentile(raw_latency.recorded, 0.99),
        note=f"deadline to recorded overdue, {args.due:,} deadlines over {args.spread:.0f} s, "
        f"{args.obligations:,} open, against a raw UPDATE",
    )
    name, found = drains[-1]
    report(
        "overdue_throughput",
        found.rate,
        "obligations per second",
        database=vendor,
        baseline=raw_rate,
        note=f"one worker draining a backlog of {args.backlog:,} ({name}), "
        f"{found.processed / found.cpu_seconds:,.0f} per CPU second of the worker, "
        f"peak RSS {found.peak_kib / 1024:.0f} MiB, against one plain UPDATE",
    )
    if together is not None:
        report(
            "overdue_throughput_workers",
            together.rate,
            "obligations per second",
            database=vendor,
            baseline=found.rate,
            note=f"{together.workers} workers draining a backlog of {args.backlog:,} together, "
            "against one worker in the same run",
        )


def cpu_rate(found: Drain) -> float:
    return found.processed / found.cpu_seconds


def ratio(ours: float, theirs: float) -> float:
    return ours / theirs if theirs else float("nan")


def mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def _now() -> datetime:
    from django.utils import timezone

    return timezone.now()


if __name__ == "__main__":
    main()
