"""The staff's report form sent with and without its one-time key, in the same run.

A form sent with a key (whistle/web/once.py) looks the key up before checking, claims it in
the filing's transaction, records the case's reference under it and first deletes the keys
older than a week; a form sent without one (a page drawn before keys existed) files as
before. Both go through the whole page — the session, the form's checks, locating,
`report_case`, the redirect — as the demo steward, with Django's test client, alternating in
rounds. Prints forms filed per second (wall clock and per CPU second of this process), the
statements each costs, and the ratio of the keyed form to the form without a key.

    .venv/bin/python benchmarks/report_form.py [--count 200] [--rounds 3] [--kept 20000]
        [--quick]

`--kept` keys of the past week are in the table before the run (a week of a district's
filings); `--quick` sends 60 forms per round and side with 2,000 kept.

It runs in a throwaway database made beside the configured one: a temporary SQLite file by
default, or a test database on the server that DATABASE_URL=postgresql://… names.
"""

from __future__ import annotations

import argparse
import os
import platform
from datetime import UTC, datetime, timedelta
from functools import partial
from io import StringIO

from reporting import alternate, print_sides, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="forms per round and side")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kept", type=int, default=20_000, help="keys of the past week")
    parser.add_argument("--quick", action="store_true", help="60 forms, 2,000 keys kept")
    args = parser.parse_args()
    if args.quick:
        args.count, args.kept = 60, 2_000

    from scratch import run_in_throwaway

    run_in_throwaway(run, args)


def run(args: argparse.Namespace, vendor: str) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from whistle.cases.models import Case
    from whistle.organisation.models import Person
    from whistle.web import once
    from whistle.web.models import SentForm

    call_command("seed_demo", stdout=StringIO())
    steward = Person.objects.get(username="steward")
    lane = steward.roles.filter(lane__isnull=False).select_related("lane").first()
    assert lane is not None and lane.lane is not None, "the demo steward keeps no lane"
    sample = Case.objects.filter(lane=lane.lane).first() or Case.objects.first()
    assert sample is not None
    now = timezone.now()
    SentForm.objects.bulk_create(
        SentForm(key=once.new_key(), sent_at=now - timedelta(minutes=n % 10_000), reference="")
        for n in range(args.kept)
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(steward)
    numbers = iter(range(10**9))

    def send(keyed: bool) -> None:
        data = {
            "description": f"人民市场东巷有游商摆摊占道，第 {next(numbers)} 次",
            "category": "",
            "lon": str(sample.lon),
            "lat": str(sample.lat),
            "accuracy_m": "8",
        }
        if keyed:
            data[once.FIELD] = once.new_key()
        answer = client.post("/patrol/report/", data)
        assert answer.status_code == 302, answer.content.decode()[:2000]

    sides = {"keyed": ("the form with its key", True), "plain": ("the form without a key", False)}
    statements = {}
    for side, (_, keyed) in sides.items():
        send(keyed)  # warm: the map, the policies, the translations, the templates
        with CaptureQueriesContext(connection) as queries:
            send(keyed)
        statements[side] = len(queries.captured_queries)
    rates = alternate(
        {side: partial(send, keyed) for side, (_, keyed) in sides.items()},
        rounds=args.rounds,
        count=args.count,
    )
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; database: {vendor}")
    print(f"{args.kept} keys kept; {args.rounds} rounds × {args.count} forms per side")
    names = {side: name for side, (name, _) in sides.items()}
    print_sides(names, rates, statements, baseline="plain", unit="forms", against="without a key")
    plain_wall = rates["plain"][0]
    report(
        "report_form_with_key",
        rates["keyed"][0],
        "forms per second",
        database=vendor,
        baseline=plain_wall,
        note="the staff's report form with its one-time key against the same form without one",
    )


if __name__ == "__main__":
    main()
