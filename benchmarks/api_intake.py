"""Sustained intake through the REST API, against a bare Django endpoint writing the same rows.

Loads the demo city into a throwaway database, with a grid district beside it bringing the
lanes to LANES (as benchmarks/report_intake.py does, through benchmarks/lane_lookup.py), serves
it with gunicorn (several sync workers, each reading the map before it serves), and lets
CLIENTS concurrent clients post for a while: 12345 work orders through
`POST /api/v1/hotline/orders` as the demo dispatcher (token, locating the point in its
township, lane and grid cell, the category and its policy, the order number's idempotency,
the deadline class and the order's respond and resolve limits on the district's calendar,
the case, its trail event with its hash and the caller's commitment, the order, the outbox
rows, the rate limit), new cases through `POST /api/v1/cases`, then a bare view that writes
one case, one event and one in-app notification in one transaction with no checks at all.
They alternate, ROUNDS times each, in the same run. Prints requests per second, p50 and p99
for each, and the ratios to the bare endpoint.

    .venv/bin/python benchmarks/api_intake.py [--lanes 50000] [--clients 16] [--seconds 15]
        [--workers 4] [--quick]

`--quick` posts among 5,000 lanes for 5 seconds per round and side.

It runs in a throwaway database made beside the configured one: a temporary SQLite file by
default, or a test database on the server that DATABASE_URL=postgresql://… names.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BARE = "/bench/bare-intake"
API = "/api/v1/cases"
ORDERS = "/api/v1/hotline/orders"
READY = "/bench/ready"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lanes", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15.0, help="per round and side")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument(
        "--sides", default="order,case,bare", help="which endpoints, of order, case and bare"
    )
    parser.add_argument(
        "--quick", action="store_true", help="5,000 lanes, 5 seconds per round and side"
    )
    args = parser.parse_args()
    if args.quick:
        args.lanes, args.seconds = 5_000, 5.0

    from scratch import set_up_django

    set_up_django()
    from django.db import connection
    from scratch import throwaway_database

    with throwaway_database() as vendor:
        secret, body, lanes = seed(args.lanes)
        name = connection.settings_dict["NAME"]
        url = (
            f"sqlite:///{name}"
            if vendor == "sqlite"
            else os.environ["DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}"
        )
        connection.close()
        run(args, url=url, secret=secret, body=body, vendor=vendor, lanes=lanes)


def seed(lanes: int) -> tuple[str, dict[str, Any], int]:
    """The demo city with a grid district beside it making up LANES lanes, a token for its
    dispatcher, and a report inside the dispatcher's township with one of the district's
    categories."""
    from benchmarks.lane_lookup import demo_city_with_lanes
    from whistle.api import tokens
    from whistle.cases.models import Case
    from whistle.organisation.models import Person, RoleAssignment

    lanes = demo_city_with_lanes(lanes)
    dispatcher = Person.objects.get(username="dispatcher")
    township = RoleAssignment.objects.filter(person=dispatcher).first().jurisdiction  # type: ignore[union-attr]
    case = Case.objects.filter(township=township, category__isnull=False).first()
    assert case is not None and case.category is not None
    secret = tokens.issue_token(dispatcher, person=dispatcher, name="benchmark").secret
    body = {
        "description": "人民市场东巷有游商占道",
        "lon": case.lon,
        "lat": case.lat,
        "category": case.category.full_code,
        "category_kind": case.category.major.kind,
    }
    return secret, body, lanes


def serve(args: argparse.Namespace, url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "whistle.settings",
        "WHISTLE_API_RATE_LIMIT": "100000000",
        "DEBUG": "false",
        "PYTHONPATH": str(ROOT),
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "benchmarks.api_intake_app:application",
            f"--workers={args.workers}",
            f"--bind=127.0.0.1:{args.port}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", args.port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def wait_for_workers(args: argparse.Namespace) -> None:
    """Until every worker has answered: each reads the map when it starts, which takes a while
    among many lanes, and a worker still reading must not fall into the measured rounds."""
    seen: set[str] = set()
    deadline = time.monotonic() + 600

    def ask() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
        try:
            conn.request("GET", READY)
            response = conn.getresponse()
            if response.status == 200:
                seen.add(response.read().decode())
        except OSError:
            time.sleep(0.2)
        finally:
            conn.close()

    while len(seen) < args.workers:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(seen)} of {args.workers} gunicorn workers answered")
        asking = [threading.Thread(target=ask) for _ in range(args.workers * 2)]
        for t in asking:
            t.start()
        for t in asking:
            t.join()


def hammer(
    args: argparse.Namespace, path: str, headers: dict[str, str], body: Callable[[str], bytes]
) -> tuple[list[float], int, float]:
    """Post bodies to `path` from CLIENTS threads for SECONDS; each body is made from a key
    unique in the run (an order number is taken once)."""
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    stop = time.monotonic() + args.seconds

    def client(number: int) -> None:
        nonlocal failures
        mine: list[float] = []
        bad = 0
        sent = 0
        while time.monotonic() < stop:
            sent += 1
            payload = body(f"{uuid.uuid4().hex[:8]}-{number}-{sent}")
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
            started = time.perf_counter()
            try:
                conn.request("POST", path, body=payload, headers=headers)
                response = conn.getresponse()
                response.read()
            except OSError:
                bad += 1
                continue
            finally:
                conn.close()
            if response.status == 201:
                mine.append(time.perf_counter() - started)
            else:
                bad += 1
                if bad == 1 and number == 0:
                    print(f"{path}: {response.status}", file=sys.stderr)
        with lock:
            latencies.extend(mine)
            failures += bad

    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, failures, time.monotonic() - began


def summary(latencies: list[float], elapsed: float) -> dict[str, float]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0
    return {
        "rps": len(ordered) / elapsed,
        "p50_ms": statistics.median(ordered) * 1000 if ordered else 0.0,
        "p99_ms": p99 * 1000,
    }


def run(
    args: argparse.Namespace,
    *,
    url: str,
    secret: str,
    body: dict[str, Any],
    vendor: str,
    lanes: int,
) -> None:
    server = serve(args, url)
    api_headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    bare_headers = {"Content-Type": "application/json"}
    case_body = json.dumps(body).encode()

    def order(key: str) -> bytes:
        return json.dumps(
            {
                **body,
                "order_number": f"B{key}",
                "caller_name": "王女士",
                "caller_phone": "13800000000",
            }
        ).encode()

    sides = {
        "order": ("12345 order (API)", ORDERS, api_headers, order),
        "case": ("new case (API)", API, api_headers, lambda key: case_body),
        "bare": ("bare endpoint", BARE, bare_headers, lambda key: case_body),
    }
    chosen = [side for side in args.sides.split(",") if side in sides]
    results: dict[str, tuple[list[float], int, float]] = {side: ([], 0, 0.0) for side in chosen}
    try:
        wait_for_workers(args)
        # Warm the workers (imports, connections, the map) before measuring.
        warm = argparse.Namespace(**{**vars(args), "seconds": 2.0})
        for side in chosen:
            hammer(warm, *sides[side][1:])
        for _round in range(args.rounds):
            for side in chosen:
                found, failed, elapsed = hammer(args, *sides[side][1:])
                kept = results[side]
                results[side] = (kept[0] + found, kept[1] + failed, kept[2] + elapsed)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    rows = {side: summary(results[side][0], results[side][2]) for side in chosen}
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; database: {vendor}")
    print(
        f"{lanes} lanes; {args.clients} clients, gunicorn {args.workers} workers, "
        f"{args.rounds} × {args.seconds:.0f} s per side"
    )
    bare = rows.get("bare")
    print("| | requests/s | p50 ms | p99 ms | failed | × bare |")
    print("|---|---|---|---|---|---|")
    for side in chosen:
        row = rows[side]
        ratio = f"{row['rps'] / bare['rps']:.2f}" if bare and bare["rps"] else "–"
        print(
            f"| {sides[side][0]} | {row['rps']:.1f} | {row['p50_ms']:.1f} | "
            f"{row['p99_ms']:.1f} | {results[side][1]} | {ratio} |"
        )
    from reporting import report

    for side in chosen:
        if side == "bare":
            continue
        row = rows[side]
        report(
            f"api_intake_{side}",
            row["rps"],
            "requests per second",
            database=vendor,
            baseline=bare["rps"] if bare else None,
            note=f"{sides[side][0]}, {lanes} lanes, {args.clients} clients, "
            f"gunicorn {args.workers} workers; p50 {row['p50_ms']:.0f} ms, "
            f"p99 {row['p99_ms']:.0f} ms; against the bare endpoint",
        )


if __name__ == "__main__":
    main()
