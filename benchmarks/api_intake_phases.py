"""Where a 12345 order's time goes through the API, in-process: the CPU time and the
statements of each part of its path, against the bare endpoint of benchmarks/api_intake.py
through the same Django stack, in the same run, alternating in rounds.

Loads the demo city with a grid district beside it bringing the lanes to LANES
(benchmarks/lane_lookup.py), and with Django's test client (every middleware, no network)
posts, as the demo dispatcher with a token:

- `POST /api/v1/hotline/orders`: the whole request;
- `take_hotline_order` alone: the action the endpoint calls;
- `tokens.authenticate` alone: the token's check;
- the bare endpoint (`/bench/bare-intake`, benchmarks/api_intake_app.py) and its bare
  transaction alone (benchmarks/bare_intake.py).

Prints for each the CPU time (time.process_time) per request, on PostgreSQL the CPU time of
the server process serving the connection (read from /proc, where it runs on this machine),
the statements Django counts and the revision tokens read on the driver's own cursor (which
Django does not count), and the ratios of the order's request to the bare endpoint's.

    .venv/bin/python benchmarks/api_intake_phases.py [--lanes 50000] [--count 300]
        [--rounds 3] [--quick]

`--quick` runs among 5,000 lanes, 100 requests per round and side.

It runs in a throwaway database made beside the configured one: a temporary SQLite file by
default, or a test database on the server that DATABASE_URL=postgresql://… names.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reporting import report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lanes", type=int, default=50_000)
    parser.add_argument("--count", type=int, default=300, help="requests per round and side")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="5,000 lanes, 100 requests")
    args = parser.parse_args()
    if args.quick:
        args.lanes, args.count = 5_000, 100

    os.environ["WHISTLE_API_RATE_LIMIT"] = "100000000"
    from scratch import run_in_throwaway

    run_in_throwaway(run, args)


def run(args: argparse.Namespace, vendor: str) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from benchmarks.api_intake import BARE, ORDERS, seed
    from benchmarks.bare_intake import Filings, bare_intake
    from whistle.api import tokens
    from whistle.cases.actions.hotline import take_hotline_order
    from whistle.organisation import map_triggers

    secret, body, lanes = seed(args.lanes)
    # The bare endpoint's application reads what it needs at import: after the seed.
    import benchmarks.api_intake_app as app

    filings = Filings()
    dispatcher = filings.dispatcher
    client = Client(SERVER_NAME="127.0.0.1")
    numbers = iter(range(10**9))
    order_fields = Filings.CALLER

    def through_api() -> None:
        answer = client.post(
            ORDERS,
            data=json.dumps({**body, **order_fields, "order_number": f"B{next(numbers)}"}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
        )
        assert answer.status_code == 201, answer.content

    def action() -> None:
        take_hotline_order(
            dispatcher,
            number=f"B{next(numbers)}",
            description=body["description"],
            lon=body["lon"],
            lat=body["lat"],
            category=filings.category,
            **order_fields,
        )

    def token() -> None:
        tokens.authenticate(secret)

    def bare_view() -> None:
        answer = client.post(BARE, data=json.dumps(body), content_type="application/json")
        assert answer.status_code == 201, answer.content

    def bare() -> None:
        bare_intake(body["description"], body["lon"], body["lat"], app.TOWNSHIP, dispatcher)

    sides: dict[str, tuple[str, Callable[[], None]]] = {
        "order": ("12345 order, the request", through_api),
        "action": ("take_hotline_order alone", action),
        "token": ("the token's check alone", token),
        "bare_view": ("bare endpoint, the request", bare_view),
        "bare": ("bare transaction alone", bare),
    }
    # Revision tokens are read on the driver's own cursor, which Django does not count.
    reads = [0]
    reader = getattr(map_triggers, "read_tokens", None) or map_triggers.read_token
    name = reader.__name__

    def counted(*given: Any) -> Any:
        reads[0] += 1
        return reader(*given)

    statements: dict[str, tuple[int, int]] = {}
    setattr(map_triggers, name, counted)
    try:
        for side, (_, call) in sides.items():
            call()  # warm: the map, the directory, the token, the translations
            reads[0] = 0
            with CaptureQueriesContext(connection) as queries:
                call()
            statements[side] = (len(queries.captured_queries), reads[0])
    finally:
        setattr(map_triggers, name, reader)
    server = server_clock(connection)
    cpu = dict.fromkeys(sides, 0.0)
    served = dict.fromkeys(sides, 0.0)
    for _round in range(args.rounds):
        for side, (_, call) in sides.items():
            started, serving = time.process_time(), server()
            for _ in range(args.count):
                call()
            cpu[side] += time.process_time() - started
            served[side] += server() - serving
    each = {side: cpu[side] / (args.count * args.rounds) for side in sides}
    server_each = {side: served[side] / (args.count * args.rounds) for side in sides}
    both = {side: each[side] + server_each[side] for side in sides}
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; database: {vendor}")
    print(f"{lanes} lanes; {args.rounds} rounds × {args.count} requests per side")
    print(
        "| | CPU µs each | the server's CPU µs | statements | revision reads | "
        "× the bare endpoint's CPU | with the server's |"
    )
    print("|---|---|---|---|---|---|---|")
    for side, (label, _) in sides.items():
        done, read = statements[side]
        print(
            f"| {label} | {each[side] * 1e6:,.0f} | {server_each[side] * 1e6:,.0f} | {done} | "
            f"{read} | {each[side] / each['bare_view']:.2f} | "
            f"{both[side] / both['bare_view']:.2f} |"
        )
    if served["bare_view"]:
        print(
            "the order's request × the bare endpoint's, per CPU second of this process and the "
            f"server together: {both['bare_view'] / both['order']:.2f}; "
            f"take_hotline_order × the bare transaction: {both['bare'] / both['action']:.2f}"
        )
    report(
        "api_intake_phases_order",
        1 / each["order"],
        "requests per CPU second",
        database=vendor,
        baseline=1 / each["bare_view"],
        note=f"12345 order through the API in-process against the bare endpoint, {lanes} lanes; "
        f"the action alone {each['action'] * 1e6:.0f} µs, the bare transaction "
        f"{each['bare'] * 1e6:.0f} µs, the token's check {each['token'] * 1e6:.0f} µs",
    )


def server_clock(connection: Any) -> Callable[[], float]:
    """The CPU seconds so far of the server process serving `connection`, read from /proc
    where it runs on this machine (PostgreSQL); else always 0."""
    if connection.vendor != "postgresql":
        return lambda: 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")
    if not stat.exists():
        return lambda: 0.0
    tick = os.sysconf("SC_CLK_TCK")

    def clock() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    return clock


if __name__ == "__main__":
    main()
