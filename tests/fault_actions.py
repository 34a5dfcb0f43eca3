"""Actions played in a process of their own by tests/test_faults.py, against the database in
DATABASE_URL: `python -m tests.fault_actions PLAN.json`.

The plan names the persons and summonses by id. Each step is one action; an action that
meets a dropped connection (the database restarted, or its backend terminated) is tried
again on a new connection, as a person would press the button again; so is one refused
because another process recorded on the same case at a later moment in between. What the process did
is written to the plan's `out` file: how many actions succeeded and every error it saw.

`python -m tests.fault_actions --setup OUT.json` builds the test city in a database of its
own (a throwaway cluster the test restarts), with a summons on site and webhooks queued
for the worker, and writes the ids the plans need to OUT.json.

`python -m tests.fault_actions --setup-clients OUT.json WEBHOOK_URL` builds the same city
for clients that act through the HTTP API (tests/test_scale_out.py): a routine whistle must be
acknowledged within one minute, so deadlines pass while they act, and the steward, the
township's dispatcher and the urban management officer each get an API token, written with
what the clients need to OUT.json.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any


def main(plan_path: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
    import django

    django.setup()
    from django.db import DatabaseError, connection

    from tests.fixtures_street import ON_THE_LANE
    from whistle.cases import actions
    from whistle.cases.errors import MomentRefused
    from whistle.cases.models import Summons
    from whistle.organisation.models import Person

    plan: dict[str, Any] = json.loads(Path(plan_path).read_text())
    officer = Person.objects.get(pk=plan["officer"])
    steward = Person.objects.get(pk=plan["steward"])
    done, retried, errors, refused = 0, 0, [], 0
    # With "until" (a file), the process goes on past its steps until the file appears, so
    # that a fast machine cannot finish before the test has done what it waits for.
    until = Path(plan["until"]) if plan.get("until") else None
    steps = 0
    kinds = {"progress": 0, "report": 0}
    while steps < plan["steps"] or (
        until is not None and not until.exists() and steps < 50 * plan["steps"]
    ):
        n = steps
        steps += 1
        for _attempt in range(50):
            try:
                if n % 2:
                    summons = Summons.objects.get(pk=plan["summons"])
                    actions.report_progress(officer, summons, text=f"{plan['name']} 第{n}次进展")
                else:
                    actions.report_case(
                        steward,
                        description=f"{plan['name']} 第{n}次上报：人行道井盖缺失",
                        lon=ON_THE_LANE[0],
                        lat=ON_THE_LANE[1],
                    )
                done += 1
                kinds["progress" if n % 2 else "report"] += 1
                break
            except MomentRefused:
                # Another process recorded on the same case in between, at a later moment
                # than this action took before it waited for the case's lock: refused,
                # nothing written; pressed again.
                refused += 1
                time.sleep(0.05)
            except DatabaseError as exc:
                retried += 1
                errors.append(f"{type(exc).__name__}: {exc}"[:300])
                connection.close()
                time.sleep(0.1)
    Path(plan["out"]).write_text(
        json.dumps(
            {
                "done": done,
                "steps": steps,
                **kinds,
                "retried": retried,
                "errors": errors,
                "refused": refused,
            }
        )
    )


def setup(out_path: str, webhook_url: str, webhooks: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
    import django

    django.setup()
    from tests.conftest import build_small_city
    from tests.fixtures_cases import build_whistle_city, officer_on_site
    from whistle.notifications.models import WebhookEndpoint
    from whistle.notifications.outbox import notify_webhooks

    city = build_whistle_city(build_small_city())
    _case, summons = officer_on_site(city, departments=[city.urban, city.police])
    WebhookEndpoint.objects.create(name="区网格化中心", url=webhook_url)
    for n in range(webhooks):
        notify_webhooks("summons.overdue", {"summons": n}, f"summons:{n}:overdue")
    ids = {
        "officer": city.urban_officer.pk,
        "steward": city.steward.pk,
        "summons": summons.pk,
        "case": summons.case_id,
    }
    Path(out_path).write_text(json.dumps(ids))


def setup_clients(out_path: str, webhook_url: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
    import django

    django.setup()
    from tests.conftest import build_small_city
    from tests.fixtures_cases import ON_THE_LANE, build_whistle_city
    from whistle.api.tokens import issue_token
    from whistle.notifications.models import WebhookEndpoint
    from whistle.policies.models import DurationUnit, WhistleKind, WhistleRule

    city = build_whistle_city(build_small_city())
    WhistleRule.objects.filter(district=city.district, kind=WhistleKind.ROUTINE).update(
        acknowledge_within=1, acknowledge_unit=DurationUnit.NATURAL_MINUTES
    )
    WebhookEndpoint.objects.create(name="区网格化中心", url=webhook_url)

    def secret(person: Any) -> str:
        return issue_token(person, person=person, name="负载测试").secret

    ids = {
        "steward": secret(city.steward),
        "dispatcher": secret(city.dispatcher),
        "officer": secret(city.urban_officer),
        "department": city.urban.code,
        "district": city.district.code,
        "lon": ON_THE_LANE[0],
        "lat": ON_THE_LANE[1],
    }
    Path(out_path).write_text(json.dumps(ids))


if __name__ == "__main__":
    if sys.argv[1] == "--setup-clients":
        setup_clients(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "--setup":
        setup(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main(sys.argv[1])
