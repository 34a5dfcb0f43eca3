"""Checking an API token in-process: `tokens.authenticate` while nothing changed (the token as
the process keeps it) and right after a change to the directory (read again), against the raw
read of the token's row by its digest through the driver, in the same run, alternating in
rounds.

Makes a township dispatcher with two roles and a token carrying both in a throwaway database,
then checks the token COUNT times per round and side. The change before each check of the
"read again" side gives the directory's revision a new value, as any change to a token, a
person or a role does; it is made outside the timing. Prints checks per second, the ORM
statements each check costs (the revision's one-row read goes through the driver and is not
among them), and the ratios to the raw read.

    .venv/bin/python benchmarks/api_token.py [--count 2000] [--rounds 3] [--quick]

`--quick` checks 500 times per round and side.

It runs in a throwaway database made beside the configured one: a temporary SQLite file by
default, or a test database on the server that DATABASE_URL=postgresql://… names.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from reporting import report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="checks per round and side")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="500 checks per round and side")
    args = parser.parse_args()
    if args.quick:
        args.count = 500

    from scratch import run_in_throwaway

    run_in_throwaway(run, args)


def run(args: argparse.Namespace, vendor: str) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from whistle.api import tokens
    from whistle.api.models import ApiToken
    from whistle.organisation.map_triggers import DIRECTORY_REVISION_TABLE
    from whistle.organisation.models import Jurisdiction, Person, Role, RoleAssignment

    township = Jurisdiction.objects.create(level="township", code="110101001", name="东华门街道")
    person = Person.objects.create_user(username="dispatcher", password=uuid.uuid4().hex)
    for role in (Role.DISPATCHER, Role.TOWNSHIP_ASSESSOR):
        RoleAssignment.objects.create(person=person, role=role, jurisdiction=township)
    secret = tokens.issue_token(person, person=person, name="benchmark").secret
    digest = tokens.digest_of(secret)
    raw_sql = (
        f"SELECT id, person_id, expires_at, revoked_at FROM {ApiToken._meta.db_table} "
        "WHERE digest = %s"
    )

    def change() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {DIRECTORY_REVISION_TABLE} SET token = %s", [uuid.uuid4().hex])

    def check() -> None:
        tokens.authenticate(secret)

    def raw() -> None:
        connection.ensure_connection()
        cursor = connection.connection.cursor()
        try:
            cursor.execute(raw_sql.replace("%s", "?") if vendor == "sqlite" else raw_sql, [digest])
            cursor.fetchone()
        finally:
            cursor.close()

    sides: dict[str, tuple[Callable[[], None], Callable[[], None] | None]] = {
        "kept": (check, None),
        "read again": (check, change),
        "raw": (raw, None),
    }
    seconds = dict.fromkeys(sides, 0.0)
    statements = {}
    for name, (work, before) in sides.items():
        if before is not None:
            before()
        work()  # warm: the first check writes the token's last use
        if before is not None:
            before()
        with CaptureQueriesContext(connection) as queries:
            work()
        statements[name] = len(queries.captured_queries)
    for _round in range(args.rounds):
        for name, (work, before) in sides.items():
            for _n in range(args.count):
                if before is not None:
                    before()
                started = time.perf_counter()
                work()
                seconds[name] += time.perf_counter() - started
    checks = args.count * args.rounds
    rates = {name: checks / spent for name, spent in seconds.items()}
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; database: {vendor}")
    print(f"{args.rounds} × {args.count} checks per side")
    print("| | checks/s | µs each | ORM statements | × raw |")
    print("|---|---|---|---|---|")
    for name, rate in rates.items():
        print(
            f"| {name} | {rate:,.0f} | {1e6 / rate:,.0f} | {statements[name]} | "
            f"{rate / rates['raw']:.2f} |"
        )
    for name, label in (("kept", "kept"), ("read again", "read_again")):
        report(
            f"api_token_{label}",
            rates[name],
            "checks per second",
            database=vendor,
            baseline=rates["raw"],
            note=f"tokens.authenticate, token {name}, {statements[name]} ORM statements each; "
            "against one raw read of the token's row",
        )


if __name__ == "__main__":
    main()
