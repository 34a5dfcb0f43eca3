"""Sustained intake through the REST API, against a bare Django endpoint writing the same rows.

Loads the demo city into a throwaway database, serves it with gunicorn (several sync
workers), and lets CLIENTS concurrent clients post new cases for a while: through
`POST /api/v1/cases` as the demo dispatcher (token, locating the point in its township, lane
and grid cell, the category and its policy, the case, its trail event with its hash, the
outbox rows, the rate limit), then through a bare view that writes one case, one event and
one in-app notification in one transaction with no checks at all. The two alternate, ROUNDS
times each, in the same run. Prints requests per second, p50 and p99 for both, and ratios.

    .venv/bin/python benchmarks/api_intake.py [--clients 16] [--seconds 15] [--workers 4]

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
import tempfile
import threading
import time
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BARE = "/bench/bare-intake"
API = "/api/v1/cases"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15.0, help="per round and side")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=8791)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
    import django
    from django.conf import settings

    with tempfile.TemporaryDirectory() as scratch:
        database = settings.DATABASES["default"]
        sqlite = str(database["ENGINE"]).endswith("sqlite3")
        if sqlite:
            database["TEST"] = {"NAME": str(Path(scratch) / "benchmark.sqlite3")}
        django.setup()
        from django.db import connection

        original_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            secret, body = seed()
            url = (
                f"sqlite:///{database['NAME']}"
                if sqlite
                else os.environ["DATABASE_URL"].rsplit("/", 1)[0] + f"/{database['NAME']}"
            )
            connection.close()
            run(args, url=url, secret=secret, body=body, vendor=connection.vendor)
        finally:
            connection.creation.destroy_test_db(original_name, verbosity=0)


def seed() -> tuple[str, dict[str, Any]]:
    """The demo city, a token for its dispatcher, and a report inside the dispatcher's
    township with one of the district's categories."""
    from django.core.management import call_command

    from whistle.api import tokens
    from whistle.cases.models import Case
    from whistle.organisation.models import Person, RoleAssignment

    call_command("seed_demo", stdout=StringIO())
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
    return secret, body


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


def hammer(
    args: argparse.Namespace, path: str, headers: dict[str, str], body: bytes
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    stop = time.monotonic() + args.seconds

    def client() -> None:
        nonlocal failures
        mine: list[float] = []
        bad = 0
        while time.monotonic() < stop:
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
            started = time.perf_counter()
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status == 201:
                mine.append(time.perf_counter() - started)
            else:
                bad += 1
        with lock:
            latencies.extend(mine)
            failures += bad

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
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
    args: argparse.Namespace, *, url: str, secret: str, body: dict[str, Any], vendor: str
) -> None:
    server = serve(args, url)
    payload = json.dumps(body).encode()
    api_headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    bare_headers = {"Content-Type": "application/json"}
    results: dict[str, tuple[list[float], int, float]] = {
        "api": ([], 0, 0.0),
        "bare": ([], 0, 0.0),
    }
    try:
        # Warm the workers (imports, connections) before measuring.
        hammer(argparse.Namespace(**{**vars(args), "seconds": 2.0}), API, api_headers, payload)
        for _round in range(args.rounds):
            for side, path, headers in (
                ("api", API, api_headers),
                ("bare", BARE, bare_headers),
            ):
                found, failed, elapsed = hammer(args, path, headers, payload)
                kept = results[side]
                results[side] = (kept[0] + found, kept[1] + failed, kept[2] + elapsed)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    api = summary(results["api"][0], results["api"][2])
    bare = summary(results["bare"][0], results["bare"][2])
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; database: {vendor}")
    print(
        f"{args.clients} clients, gunicorn {args.workers} workers, "
        f"{args.rounds} × {args.seconds:.0f} s per side"
    )
    print("| | requests/s | p50 ms | p99 ms | failed |")
    print("|---|---|---|---|---|")
    for side, row in (("API intake", api), ("bare endpoint", bare)):
        failed = results["api" if side == "API intake" else "bare"][1]
        print(
            f"| {side} | {row['rps']:.1f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {failed} |"
        )
    if bare["rps"]:
        print(f"ratio API / bare (requests/s): {api['rps'] / bare['rps']:.2f}")


if __name__ == "__main__":
    main()
