"""Look-ups made together read the map's revision token once among them (`places.batch`):
the orders of a 12345 import, the two look-ups of an API report. A change committed by
another connection is seen by the next batch and the next request; a look-up outside a
batch reads the token itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import build_small_city, elsewhere
from tests.fixtures_api import api_city_fixture  # noqa: F401  (fixture)
from tests.fixtures_cases import (
    ON_THE_LANE,
    beijing,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from tests.test_hotline_import import csv_bytes, row
from tests.test_hotline_import import run as import_export
from whistle.cases import actions
from whistle.cases.actions.hotline import take_hotline_order
from whistle.cases.locate import locate
from whistle.organisation import map_triggers, places
from whistle.organisation.models import Lane

NEW_NAME = "人民市场新巷"


@pytest.fixture
def map_token_reads(monkeypatch) -> Iterator[list[str | None]]:
    """The map's revision tokens read from the database, in order, alone or with another
    revision's in one statement (the read goes through the driver's own cursor, which
    Django's query log does not see)."""
    reads: list[str | None] = []
    read_several = map_triggers.read_tokens  # `read_token` reads through it too

    def counted_several(on: Any, *revisions: map_triggers.Revision) -> tuple[str | None, ...]:
        tokens = read_several(on, *revisions)
        reads.extend(t for r, t in zip(revisions, tokens, strict=True) if r is map_triggers.MAP)
        return tokens

    monkeypatch.setattr(map_triggers, "read_tokens", counted_several)
    yield reads


def _lane_name(lon: float, lat: float) -> str | None:
    lane = locate(lon, lat).lane
    return None if lane is None else lane.name


def _rename_the_lane(pk: int) -> None:
    Lane.objects.filter(pk=pk).update(name=NEW_NAME)


@pytest.mark.django_db
def test_a_batch_reads_the_token_once_and_nothing_else(whistle_city, map_token_reads):
    lane = locate(*ON_THE_LANE).lane  # the map read into memory
    assert lane == whistle_city.lane
    map_token_reads.clear()
    with CaptureQueriesContext(connection) as queries, places.batch():
        found = [locate(*ON_THE_LANE).lane for _ in range(20)]
        with places.batch():  # a batch inside another is the same batch
            found.append(locate(*ON_THE_LANE).lane)
    assert found == [lane] * 21
    assert len(map_token_reads) == 1
    assert queries.captured_queries == []


@pytest.mark.django_db
def test_outside_a_batch_every_look_up_reads_the_token(whistle_city, map_token_reads):
    for _ in range(3):
        assert locate(*ON_THE_LANE).lane == whistle_city.lane
    assert len(map_token_reads) == 3


@pytest.mark.django_db
def test_a_batch_that_looks_nothing_up_reads_nothing(whistle_city, map_token_reads):
    with places.batch():
        pass
    assert map_token_reads == []


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_elsewhere_is_seen_by_the_next_batch():
    city = build_small_city()
    lane = city.renmin_lane
    with places.batch():
        assert _lane_name(*ON_THE_LANE) == lane.name
        elsewhere(lambda: _rename_the_lane(lane.pk))
        # The batch keeps the map of its first look-up.
        assert _lane_name(*ON_THE_LANE) == lane.name
    with places.batch():
        assert _lane_name(*ON_THE_LANE) == NEW_NAME
    elsewhere(lambda: Lane.objects.filter(pk=lane.pk).delete())
    with places.batch():
        assert _lane_name(*ON_THE_LANE) is None


@pytest.mark.django_db(transaction=True)
def test_a_batch_opened_before_a_change_uses_the_map_of_its_first_look_up():
    city = build_small_city()
    with places.batch():
        elsewhere(lambda: _rename_the_lane(city.renmin_lane.pk))
        assert _lane_name(*ON_THE_LANE) == NEW_NAME


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_elsewhere_is_seen_by_the_next_request(client):
    city = build_small_city()
    lane = city.renmin_lane
    place = {"lon": ON_THE_LANE[0], "lat": ON_THE_LANE[1]}
    assert lane.name in client.get("/report/place/", place).json()["text"]
    elsewhere(lambda: _rename_the_lane(lane.pk))
    assert NEW_NAME in client.get("/report/place/", place).json()["text"]
    elsewhere(lambda: Lane.objects.filter(pk=lane.pk).delete())
    answer = client.get("/report/place/", place).json()
    assert answer["inside"] and lane.name not in answer["text"] and NEW_NAME not in answer["text"]


@pytest.mark.django_db
def test_an_export_of_orders_is_located_with_one_read_of_the_token(whistle_city, map_token_reads):
    with time_machine.travel(beijing(2026, 5, 12, 9, 0), tick=False):
        outcome = import_export(
            whistle_city, "export.csv", csv_bytes([row(f"202605120000{n}") for n in range(5)])
        )
    assert outcome.ok and len(outcome.created) == 5
    assert {order.case.lane for order in outcome.created} == {whistle_city.lane}
    assert len(map_token_reads) == 1


@pytest.mark.django_db
def test_an_api_report_with_a_category_reads_the_token_once(api_city, map_token_reads):
    report = {"lon": ON_THE_LANE[0], "lat": ON_THE_LANE[1], "category": "0501"}
    client = api_city.as_("dispatcher")
    with time_machine.travel(beijing(2026, 5, 12, 9, 0), tick=False):
        # The process holds the map and the directory of this database (those it held from
        # an earlier test's are another database's, and a filing under them is done again).
        first = client.post("/cases", {"description": "人民市场东巷有游商占道", **report})
        assert first.status_code == 201, first.content
        map_token_reads.clear()
        answer = client.post("/cases", {"description": "人民市场东巷又有游商占道", **report})
    assert answer.status_code == 201, answer.content
    assert answer.json()["lane"]["name"] == api_city.lane.name
    # Its category's district, the place, the action and the answer share one read; on
    # PostgreSQL none before the filing: its statement reads the tokens beside its inserts.
    assert len(map_token_reads) == (0 if connection.vendor == "postgresql" else 1)


def test_a_filing_reads_the_map_s_and_the_directory_s_tokens_once_in_one_statement(
    whistle_city, monkeypatch
):
    """`report_case` and `take_hotline_order` read both tokens together, and the map they
    read under it is the one their point is located on."""
    c = whistle_city
    description, (lon, lat) = "人民市场东巷有游商占道", ON_THE_LANE
    actions.report_case(
        c.dispatcher, description=description, lon=lon, lat=lat
    )  # the map and the directory read into memory
    reads: list[tuple[str, ...]] = []
    read_several = map_triggers.read_tokens

    def counted(on: Any, *revisions: map_triggers.Revision) -> tuple[str | None, ...]:
        reads.append(tuple(r.name for r in revisions))
        return read_several(on, *revisions)

    monkeypatch.setattr(map_triggers, "read_tokens", counted)
    with time_machine.travel(beijing(2026, 5, 12, 9, 0), tick=False):
        case = actions.report_case(c.dispatcher, description=description, lon=lon, lat=lat)
        taken = take_hotline_order(
            c.dispatcher,
            number="2026051200009",
            caller_name="王女士",
            description=description,
            lon=lon,
            lat=lat,
        )
    assert reads == [("map", "directory"), ("map", "directory")]
    assert case.lane is not None and taken.case.lane == case.lane
    _rename_the_lane(case.lane.pk)
    reads.clear()
    renamed = actions.report_case(c.dispatcher, description=description, lon=lon, lat=lat)
    assert renamed.lane is not None and renamed.lane.name == NEW_NAME
    assert reads == [("map", "directory")]
