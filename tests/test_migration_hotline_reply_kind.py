"""The migration that gives each reply its kind: a reply recorded before replies said what
they are was the result, and is read as done; an order not yet replied to has no kind."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.fixtures_cases import ON_THE_LANE, beijing, whistle_city_fixture  # noqa: F401
from whistle.cases import actions
from whistle.cases.models import HotlineOrder

BEFORE = [("cases", "0025_case_status_rated")]
AFTER = [("cases", "0026_hotline_reply_kind")]


def take(city, number: str):
    return actions.take_hotline_order(
        city.dispatcher,
        number=number,
        description="人民市场东巷有游商占道经营",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
        caller_phone="13812341234",
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("latest_schema_after")
def test_replies_recorded_before_kinds_existed_are_done(whistle_city):
    with time_machine.travel(beijing(2026, 5, 12, 9, 0), tick=False) as clock:
        replied = take(whistle_city, "M-1").case
        take(whistle_city, "M-2")
        clock.shift(60)
        actions.record_hotline_reply(
            whistle_city.dispatcher,
            replied,
            kind="in_progress",
            reply="已处理",
            promised_by=beijing(2026, 5, 15, 18, 0),
        )
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    kinds = dict(HotlineOrder.objects.values_list("number", "reply_kind"))
    assert kinds == {"M-1": "done", "M-2": ""}
