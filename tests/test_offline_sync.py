"""Field work recorded without signal and sent later: both times in the trail, the device's
clock measured at sync, a late check-in flagged for the township, and a resend that never
acts twice."""

from __future__ import annotations

import base64
import io
import json
import re
import uuid
from datetime import UTC, timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from tests.fixtures_api import Api, api_city_fixture  # noqa: F401  (fixture)
from tests.fixtures_cases import (
    ON_THE_LANE,
    beijing,
    device_fix,
    png_bytes,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from whistle.api import idempotency
from whistle.api.models import IdempotentRequest
from whistle.cases import actions
from whistle.cases.errors import InvalidInput
from whistle.cases.models import Case, Event, Summons
from whistle.cases.trail import EventKind
from whistle.patrols import actions as patrols
from whistle.patrols.models import CheckResult, Patrol, PatrolEvent

NOW = beijing(2026, 3, 10, 10, 0)
S = Summons.Status
Flag = Summons.CheckInFlag
LANE = {"lon": ON_THE_LANE[0], "lat": ON_THE_LANE[1]}


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


def minutes(n: float):
    return NOW + timedelta(minutes=n)


def acknowledged(city):
    _case, _whistle, summonses = whistled_case(city, at=NOW)
    return actions.acknowledge(city.urban_officer, summonses[city.urban.pk], now=minutes(1))


def offline_check_in(city, summons, *, made, received, clock_ahead_s=0.0):
    """A check-in made at `made` on a phone whose clock runs `clock_ahead_s` ahead, with its
    fix taken two seconds before, and sent at `received`."""
    ahead = timedelta(seconds=clock_ahead_s)
    return actions.check_in(
        city.urban_officer,
        summons,
        **device_fix(at=made - timedelta(seconds=2) + ahead),
        happened_at=made + ahead,
        sent_at=received + ahead,
        now=received,
    )


def last_event(summons: Summons) -> Event:
    event = Event.objects.filter(summons=summons).order_by("-seq").first()
    assert event is not None
    return event


# Check-ins ----------------------------------------------------------------------------------


def test_a_check_in_sent_minutes_later_counts_at_the_time_it_was_made(whistle_city):
    city = whistle_city
    summons = offline_check_in(
        city, acknowledged(city), made=minutes(10), received=minutes(25), clock_ahead_s=40
    )
    assert (summons.status, summons.check_in_flag) == (S.ON_SITE, Flag.NONE)
    assert summons.arrived_at == minutes(10)
    event = last_event(summons)
    assert event.kind == EventKind.CHECK_IN_ACCEPTED
    assert event.at == minutes(25)
    assert event.data["happened_at"] == minutes(10).astimezone(UTC).isoformat()
    assert event.data["received_at"] == minutes(25).astimezone(UTC).isoformat()
    assert event.data["device_happened_at"] == (
        (minutes(10) + timedelta(seconds=40)).astimezone(UTC).isoformat()
    )
    assert event.data["clock_offset_s"] == 40.0
    assert event.data["delay_s"] == 900.0
    assert event.data["verdict"] == "clean"


def test_a_check_in_received_two_hours_after_it_was_made_is_flagged_for_the_township(
    whistle_city,
):
    city = whistle_city
    summons = offline_check_in(city, acknowledged(city), made=minutes(10), received=minutes(130))
    assert (summons.status, summons.check_in_flag) == (S.ON_SITE, Flag.PENDING)
    assert summons.check_in_flag_reasons == ["late_sync"]
    assert summons.arrived_at == minutes(10)
    assert last_event(summons).kind == EventKind.CHECK_IN_FLAGGED


def test_the_late_limit_is_the_districts_and_its_boundary_is_not_late(whistle_city):
    city = whistle_city
    city.policy.checkin_offline_confirm_after_minutes = 45
    city.policy.save(update_fields=["checkin_offline_confirm_after_minutes"])
    summons = acknowledged(city)
    other = Summons.objects.exclude(pk=summons.pk).get(case=summons.case)
    actions.acknowledge(city.police_officer, other, now=minutes(2))
    summons = offline_check_in(city, summons, made=minutes(10), received=minutes(55))
    assert summons.check_in_flag == Flag.NONE
    later = actions.check_in(
        city.police_officer,
        other,
        **device_fix(at=minutes(10) - timedelta(seconds=2)),
        happened_at=minutes(10),
        sent_at=minutes(55) + timedelta(seconds=1),
        now=minutes(55) + timedelta(seconds=1),
    )
    assert later.check_in_flag_reasons == ["late_sync"]


def test_a_device_clock_off_by_more_than_the_district_allows_is_flagged_as_skewed(whistle_city):
    city = whistle_city
    summons = offline_check_in(
        city, acknowledged(city), made=minutes(10), received=minutes(12), clock_ahead_s=600
    )
    assert summons.check_in_flag_reasons == ["clock_skew"]
    assert last_event(summons).data["clock_skew_s"] == 600.0


def test_a_fix_older_than_the_check_in_by_more_than_the_skew_is_flagged(whistle_city):
    city = whistle_city
    summons = actions.check_in(
        city.urban_officer,
        acknowledged(city),
        **device_fix(at=minutes(4)),
        happened_at=minutes(10),
        sent_at=minutes(12),
        now=minutes(12),
    )
    assert summons.check_in_flag_reasons == ["clock_skew"]
    assert last_event(summons).data["clock_skew_s"] == -360.0


def test_it_refuses_a_check_in_dated_before_the_summons_and_writes_nothing(whistle_city):
    city = whistle_city
    summons = acknowledged(city)
    before = Event.objects.filter(case=summons.case).count()
    with pytest.raises(actions.InvalidInput) as refused:
        offline_check_in(city, summons, made=minutes(-5), received=minutes(12))
    assert refused.value.field == "happened_at"
    assert Event.objects.filter(case=summons.case).count() == before


def test_it_refuses_a_time_after_its_sending(whistle_city):
    city = whistle_city
    with pytest.raises(actions.InvalidInput) as refused:
        actions.check_in(
            city.urban_officer,
            acknowledged(city),
            **device_fix(at=minutes(12)),
            happened_at=minutes(13),
            sent_at=minutes(12),
            now=minutes(12),
        )
    assert refused.value.field == "happened_at"


# Reports and checklist ticks ----------------------------------------------------------------


def test_a_report_written_without_signal_keeps_both_times_and_counts_when_received(
    whistle_city,
):
    city = whistle_city
    case = actions.report_case(
        city.steward,
        description="人民市场东巷有游商占道",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
        happened_at=minutes(-30),
        sent_at=minutes(0),
        now=minutes(0),
    )
    assert case.reported_at == minutes(0)
    event = Event.objects.get(case=case, kind=EventKind.CASE_REPORTED)
    assert event.data["happened_at"] == minutes(-30).astimezone(UTC).isoformat()
    assert event.data["received_at"] == minutes(0).astimezone(UTC).isoformat()


def test_a_tick_made_without_signal_is_dated_when_made_and_a_newer_answer_stands(
    whistle_city,
):
    city = whistle_city
    patrol = patrols.start_patrol(city.steward, lane=city.lane, now=minutes(0))
    item = patrol.checklist[0]["key"]
    patrols.record_check(city.steward, patrol, item=item, result="problem", now=minutes(5))
    check = patrols.record_check(
        city.steward,
        patrol,
        item=item,
        result="ok",
        happened_at=minutes(2),
        sent_at=minutes(8),
        now=minutes(8),
    )
    assert (check.result, check.checked_at) == ("problem", minutes(5))
    late = PatrolEvent.objects.filter(patrol=patrol, kind=PatrolEvent.Kind.CHECKED).last()
    assert late is not None and late.data["superseded"] is True
    assert late.data["happened_at"] == minutes(2).astimezone(UTC).isoformat()
    other = patrol.checklist[1]["key"]
    fresh = patrols.record_check(
        city.steward,
        patrol,
        item=other,
        result="ok",
        happened_at=minutes(6),
        sent_at=minutes(9),
        now=minutes(9),
    )
    assert (fresh.result, fresh.checked_at) == ("ok", minutes(6))
    assert CheckResult.objects.filter(patrol=patrol).count() == 2


# The API: the queue's requests ---------------------------------------------------------------


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def sent_twice(client: Api, path: str, body: dict[str, Any], key: str) -> tuple[Any, Any]:
    """A queued report sent, then sent again with the same key (the answer was lost): both
    answers, the first one a created case."""
    headers = {"Idempotency-Key": key, "X-Whistle-Sent-At": NOW.isoformat()}
    first = client.post(path, body, **headers)
    assert first.status_code == 201, first.content
    return first, client.post(path, body, **headers)


def test_a_queued_report_sent_twice_with_its_key_makes_one_case(api_city, clock):
    body = {
        "description": "人民市场东巷有游商占道",
        **LANE,
        "happened_at": minutes(-20).isoformat(),
    }
    first, again = sent_twice(api_city.as_("steward"), "/cases", body, "queue-report-1")
    assert again.status_code == 201
    assert again.json()["reference"] == first.json()["reference"]
    assert Case.objects.count() == 1


def test_a_residents_queued_report_keeps_both_times_and_sent_twice_makes_one_case(api_city, clock):
    body = {
        "description": "人民市场东巷路边堆了建筑垃圾",
        **LANE,
        "name": "赵磊",
        "happened_at": minutes(-20).isoformat(),
    }
    first, again = sent_twice(
        api_city.as_("resident"), "/cases/resident-reports", body, "queue-resident-1"
    )
    assert again.json()["case"]["reference"] == first.json()["case"]["reference"]
    case = Case.objects.get()
    assert case.source == Case.Source.RESIDENT and case.reported_at == NOW
    reported = Event.objects.get(case=case, kind=EventKind.CASE_REPORTED)
    assert reported.data["happened_at"] == minutes(-20).astimezone(UTC).isoformat()
    assert reported.data["received_at"] == NOW.astimezone(UTC).isoformat()


def test_a_residents_queued_reports_are_limited_per_number_and_account_as_on_the_form(
    api_city, clock, settings
):
    cache.clear()
    settings.WHISTLE_RESIDENT_REPORTS_PER_PHONE = 1
    resident = api_city.as_("resident")
    body = {
        "description": "人民市场东巷路边堆了建筑垃圾",
        **LANE,
        "phone": "13800138000",
        "happened_at": minutes(-20).isoformat(),
    }
    first = resident.post("/cases/resident-reports", body, **queued("limit-1"))
    assert first.status_code == 201, first.content
    # The answer was lost: the same report again is the same case, not a second report.
    assert resident.post("/cases/resident-reports", body, **queued("limit-1")).status_code == 201
    # The same number written otherwise: refused, with the reason the phone shows.
    again = {**body, "phone": "+86 138-0013-8000", "description": "巷口又堆了渣土"}
    refused = resident.post("/cases/resident-reports", again, **queued("limit-2"))
    assert refused.status_code == 429, refused.content
    assert refused.json() == {
        "code": "report_limit_reached",
        "message": "该号码今天的上报次数已达上限，请拨打 12345 热线。",
        "field": "phone",
    }
    assert 0 < int(refused["Retry-After"]) <= 86401
    # Without a number the account counts: one report a day here too.
    bare = {**body, "phone": ""}
    assert resident.post("/cases/resident-reports", bare, **queued("limit-3")).status_code == 201
    english = Api(resident.secret, language="en")
    over = english.post("/cases/resident-reports", bare, **queued("limit-4"))
    assert over.status_code == 429
    assert over.json()["message"] == (
        "Your account has sent the most reports allowed for today. Call 12345 instead."
    )
    assert Case.objects.count() == 2
    # The next day the number may report again.
    clock.shift(timedelta(days=1))
    later = resident.post("/cases/resident-reports", again, **queued("limit-5", timezone.now()))
    assert later.status_code == 201, later.content


def test_it_answers_400_to_a_sending_time_without_its_offset(api_city, clock):
    steward = api_city.as_("steward")
    answer = steward.post(
        "/cases",
        {"description": "人民市场东巷有游商占道", **LANE, "happened_at": NOW.isoformat()},
        **{"X-Whistle-Sent-At": "2026-03-10T10:00:00"},
    )
    assert answer.status_code == 400
    assert answer.json()["field"] == "X-Whistle-Sent-At"
    assert Case.objects.count() == 0


# Patrols started and ended without signal ------------------------------------------------------


def test_a_patrol_started_without_signal_keeps_its_key_and_times_and_ends_when_ended(
    whistle_city,
):
    city = whistle_city
    key = uuid.uuid4()
    patrol = patrols.start_patrol(
        city.steward,
        lane=city.lane,
        key=key,
        happened_at=minutes(-40) + timedelta(seconds=30),
        sent_at=minutes(0) + timedelta(seconds=30),
        now=minutes(0),
    )
    assert patrol.uuid == key and patrol.started_at == minutes(-40)
    started = PatrolEvent.objects.get(patrol=patrol, kind=PatrolEvent.Kind.STARTED)
    assert started.data["happened_at"] == minutes(-40).astimezone(UTC).isoformat()
    assert started.data["clock_offset_s"] == 30.0
    # The same start sent again (another key, the same patrol) makes nothing new.
    again = patrols.start_patrol(
        city.steward, lane=city.lane, key=key, happened_at=minutes(-40), now=minutes(1)
    )
    assert again.pk == patrol.pk
    recorded = patrols.record_positions(
        city.steward,
        patrol,
        points=[
            {"seq": 1, **LANE, "accuracy_m": 5.0, "at": minutes(-39).isoformat()},
            {"seq": 2, **LANE, "accuracy_m": 5.0, "at": minutes(-30).isoformat()},
        ],
        now=minutes(1),
    )
    assert recorded.accepted == 2
    item = patrol.checklist[0]["key"]
    check = patrols.record_check(
        city.steward,
        patrol,
        item=item,
        result="ok",
        happened_at=minutes(-35),
        sent_at=minutes(1),
        now=minutes(1),
    )
    assert check.checked_at == minutes(-35)
    ended = patrols.end_patrol(
        city.steward, patrol, happened_at=minutes(-20), sent_at=minutes(2), now=minutes(2)
    )
    assert ended.ended_at == minutes(-20)
    unticked = CheckResult.objects.filter(patrol=patrol).exclude(item=item)
    assert {c.checked_at for c in unticked} == {minutes(-20)}
    end = PatrolEvent.objects.get(patrol=patrol, kind=PatrolEvent.Kind.ENDED)
    assert end.at == minutes(2)
    assert end.data["happened_at"] == minutes(-20).astimezone(UTC).isoformat()


def test_a_patrols_start_tick_and_end_keep_where_the_phone_was(whistle_city):
    city = whistle_city
    here: dict[str, Any] = {**LANE, "accuracy_m": 6.66}
    patrol = patrols.start_patrol(
        city.steward,
        lane=city.lane,
        key=uuid.uuid4(),
        **here,
        happened_at=minutes(-40),
        now=minutes(0),
    )
    item = patrol.checklist[0]["key"]
    patrols.record_check(
        city.steward,
        patrol,
        item=item,
        result="ok",
        **here,
        happened_at=minutes(-35),
        now=minutes(1),
    )
    # A tick without a fix keeps no position rather than a made-up one.
    patrols.record_check(
        city.steward, patrol, item=patrol.checklist[1]["key"], result="ok", now=minutes(1)
    )
    patrols.end_patrol(city.steward, patrol, **here, happened_at=minutes(-20), now=minutes(2))
    kept = {"lon": LANE["lon"], "lat": LANE["lat"], "accuracy_m": 6.7}
    events = PatrolEvent.objects.filter(patrol=patrol).order_by("pk")
    assert [event.data.get("position") for event in events] == [kept, kept, None, kept]


@pytest.mark.parametrize(
    "where",
    [
        {"lon": LANE["lon"]},
        {"accuracy_m": 5.0},
        {**LANE, "accuracy_m": -1.0},
        {"lon": 200.0, "lat": 0.0},
    ],
)
def test_a_patrol_start_with_a_broken_position_is_refused_and_writes_nothing(whistle_city, where):
    city = whistle_city
    with pytest.raises(InvalidInput):
        patrols.start_patrol(city.steward, lane=city.lane, **where, now=minutes(0))
    assert not Patrol.objects.exists() and not PatrolEvent.objects.exists()


def test_a_patrol_key_of_someone_elses_patrol_is_refused(whistle_city):
    city = whistle_city
    theirs = patrols.start_patrol(city.lane_chief, lane=city.lane, now=minutes(0))
    before = PatrolEvent.objects.count()
    with pytest.raises(actions.ActionRefused):
        patrols.start_patrol(city.steward, lane=city.lane, key=theirs.uuid, now=minutes(1))
    assert PatrolEvent.objects.count() == before


def test_a_patrol_ended_without_signal_before_it_started_is_refused(whistle_city):
    city = whistle_city
    patrol = patrols.start_patrol(city.steward, lane=city.lane, now=minutes(0))
    with pytest.raises(actions.InvalidInput) as refused:
        patrols.end_patrol(
            city.steward, patrol, happened_at=minutes(-5), sent_at=minutes(1), now=minutes(1)
        )
    assert refused.value.field == "happened_at"
    patrol.refresh_from_db()
    assert patrol.ended_at is None


# Progress, result and check-out without signal ---------------------------------------------------


def on_site(city):
    summons = acknowledged(city)
    return actions.check_in(
        city.urban_officer, summons, **device_fix(at=minutes(5)), now=minutes(5)
    )


def test_progress_and_a_result_written_without_signal_keep_both_times(whistle_city):
    city = whistle_city
    summons = on_site(city)
    actions.report_progress(
        city.urban_officer,
        summons,
        text="正在劝离",
        happened_at=minutes(10),
        sent_at=minutes(40),
        now=minutes(40),
    )
    progress = last_event(summons)
    assert progress.kind == EventKind.PROGRESS and progress.at == minutes(40)
    assert progress.data["happened_at"] == minutes(10).astimezone(UTC).isoformat()
    summons = actions.report_result(
        city.urban_officer,
        summons,
        result="游商已劝离",
        happened_at=minutes(20),
        sent_at=minutes(41),
        now=minutes(41),
    )
    # Like a report, the result counts when it reaches the township.
    assert summons.done_at == minutes(41)
    result = last_event(summons)
    assert result.kind == EventKind.RESULT
    assert result.data["happened_at"] == minutes(20).astimezone(UTC).isoformat()
    assert result.data["delay_s"] == 21 * 60.0


def test_progress_and_a_result_keep_where_the_phone_was_and_how_precisely(whistle_city):
    city = whistle_city
    summons = on_site(city)
    actions.report_progress(
        city.urban_officer,
        summons,
        text="正在劝离",
        lon=LANE["lon"],
        lat=LANE["lat"],
        accuracy_m=12.34,
        happened_at=minutes(10),
        sent_at=minutes(40),
        now=minutes(40),
    )
    progress = last_event(summons)
    assert (progress.lon, progress.lat) == (LANE["lon"], LANE["lat"])
    assert progress.data["accuracy_m"] == 12.3
    # Without a fix nothing is made up: no position, no accuracy.
    actions.report_result(
        city.urban_officer, summons, result="游商已劝离", happened_at=minutes(20), now=minutes(41)
    )
    result = last_event(summons)
    assert (result.lon, result.lat) == (None, None) and "accuracy_m" not in result.data


def test_half_a_position_on_a_progress_report_is_refused_and_writes_nothing(whistle_city):
    city = whistle_city
    summons = on_site(city)
    events = Event.objects.filter(summons=summons).count()
    with pytest.raises(InvalidInput) as refused:
        actions.report_progress(
            city.urban_officer, summons, text="正在劝离", lon=LANE["lon"], now=minutes(40)
        )
    assert refused.value.field == "position"
    assert Event.objects.filter(summons=summons).count() == events


def test_a_check_out_made_without_signal_before_the_release_is_refused_even_after_it(
    whistle_city,
):
    city = whistle_city
    summons = on_site(city)
    actions.release(city.dispatcher, summons, now=minutes(30))
    with pytest.raises(actions.CheckOutRefused):
        actions.check_out(
            city.urban_officer,
            summons,
            happened_at=minutes(20),
            sent_at=minutes(35),
            now=minutes(35),
        )
    summons.refresh_from_db()
    assert summons.left_at is None
    refused = last_event(summons)
    assert refused.kind == EventKind.CHECK_OUT_REFUSED
    assert refused.data["happened_at"] == minutes(20).astimezone(UTC).isoformat()
    left = actions.check_out(
        city.urban_officer,
        summons,
        happened_at=minutes(31),
        sent_at=minutes(36),
        now=minutes(36),
    )
    assert (left.status, left.left_at) == (S.LEFT, minutes(31))
    assert last_event(left).data["minutes_on_site"] == 26


def test_something_recorded_more_days_ago_than_accepted_is_refused(whistle_city, settings):
    settings.WHISTLE_OFFLINE_MAX_DAYS = 3
    city = whistle_city
    summons = on_site(city)
    with pytest.raises(actions.InvalidInput) as refused:
        actions.report_progress(
            city.urban_officer,
            summons,
            text="正在劝离",
            happened_at=minutes(10),
            now=minutes(10) + timedelta(days=3, seconds=1),
        )
    assert refused.value.field == "happened_at"
    assert "3 days" in str(refused.value)


def queued(key: str, at=None) -> dict[str, str]:
    """The headers of a request sent from the phone's queue."""
    return {"Idempotency-Key": key, "X-Whistle-Sent-At": (at or NOW).isoformat()}


def test_a_patrol_made_without_signal_reaches_the_server_complete_and_in_order(api_city, clock):
    steward = api_city.as_("steward")
    key = str(uuid.uuid4())
    start = {
        "township": api_city.lane.township.code,
        "lane": api_city.lane.name,
        "uuid": key,
        **LANE,
        "accuracy_m": 7,
        "happened_at": minutes(-30).isoformat(),
    }
    first = steward.post("/patrols", start, **queued("q-start"))
    assert first.status_code == 201, first.content
    assert first.json()["uuid"] == key
    # The answer was lost and the retry went out under a new key: still one patrol.
    assert steward.post("/patrols", start, **queued("q-start-retry")).json()["uuid"] == key
    points = steward.post(
        f"/patrols/{key}/positions",
        {"points": [{"seq": 1, **LANE, "accuracy_m": 5, "at": minutes(-29).isoformat()}]},
        **queued("q-points"),
    )
    assert points.status_code == 200, points.content
    item = first.json()["checklist"][0]["key"]
    tick = {"item": item, "result": "problem", "outcome": "fixed"}
    ticked = steward.post(
        f"/patrols/{key}/checks",
        {**tick, **LANE, "accuracy_m": 8, "happened_at": minutes(-25).isoformat()},
        **queued("q-tick"),
    )
    assert ticked.status_code == 200, ticked.content
    end = {**LANE, "accuracy_m": 9, "happened_at": minutes(-10).isoformat()}
    ended = steward.post(f"/patrols/{key}/finish", end, **queued("q-end"))
    assert ended.status_code == 200, ended.content
    assert steward.post(f"/patrols/{key}/finish", end, **queued("q-end-retry")).status_code == 200
    patrol = Patrol.objects.get(uuid=key)
    assert (patrol.started_at, patrol.ended_at) == (minutes(-30), minutes(-10))
    assert patrol.point_count == 1
    assert CheckResult.objects.get(patrol=patrol, item=item).checked_at == minutes(-25)
    kinds = list(
        PatrolEvent.objects.filter(patrol=patrol).order_by("pk").values_list("kind", flat=True)
    )
    assert kinds == ["started", "location", "checked", "ended"]
    accuracies = [
        event.data["position"]["accuracy_m"]
        for event in PatrolEvent.objects.filter(patrol=patrol).exclude(kind="location")
    ]
    assert sorted(accuracies) == [7, 8, 9]


def test_a_finish_without_a_body_still_ends_the_patrol(api_city, clock):
    steward = api_city.as_("steward")
    start = {"township": api_city.lane.township.code, "lane": api_city.lane.name}
    key = steward.post("/patrols", start).json()["uuid"]
    clock.shift(timedelta(minutes=5))
    ended = steward.post(f"/patrols/{key}/finish")
    assert ended.status_code == 200, ended.content
    assert ended.json()["ended_at"] is not None


def test_a_patrol_started_with_signal_and_ended_without_ends_once_when_it_was_ended(
    api_city, clock
):
    steward = api_city.as_("steward")
    start = {"township": api_city.lane.township.code, "lane": api_city.lane.name}
    key = steward.post("/patrols", start).json()["uuid"]
    clock.shift(timedelta(minutes=40))
    # Ended in the lane without signal 25 minutes ago; the queue sends it now, and again.
    end = {**LANE, "accuracy_m": 9, "happened_at": minutes(15).isoformat()}
    sent = minutes(40)
    ended = steward.post(f"/patrols/{key}/finish", end, **queued("q-end-live", sent))
    assert ended.status_code == 200, ended.content
    again = steward.post(f"/patrols/{key}/finish", end, **queued("q-end-live", sent))
    assert again.json() == ended.json()
    retry = steward.post(f"/patrols/{key}/finish", end, **queued("q-end-live-2", sent))
    assert retry.status_code == 200
    patrol = Patrol.objects.get(uuid=key)
    assert (patrol.started_at, patrol.ended_at) == (NOW, minutes(15))
    (event,) = PatrolEvent.objects.filter(patrol=patrol, kind=PatrolEvent.Kind.ENDED)
    assert event.at == minutes(40)
    assert event.data["happened_at"] == minutes(15).astimezone(UTC).isoformat()
    assert event.data["position"]["accuracy_m"] == 9


def test_an_end_made_longer_ago_than_the_queue_keeps_is_refused(api_city, clock, settings):
    settings.WHISTLE_OFFLINE_MAX_DAYS = 3
    steward = api_city.as_("steward")
    start = {"township": api_city.lane.township.code, "lane": api_city.lane.name}
    key = steward.post("/patrols", start).json()["uuid"]
    clock.shift(timedelta(days=3, minutes=2))
    end = {"happened_at": minutes(1).isoformat()}
    refused = steward.post(f"/patrols/{key}/finish", end, **queued("q-end-old", timezone.now()))
    assert refused.status_code == 422, refused.content
    assert refused.json()["field"] == "happened_at"
    assert Patrol.objects.get(uuid=key).ended_at is None


def summons_on_site(api_city) -> str:
    _case, _whistle, summonses = whistled_case(api_city.city, at=minutes(-60))
    summons = actions.acknowledge(
        api_city.urban_officer, summonses[api_city.urban.pk], now=minutes(-59)
    )
    actions.check_in(
        api_city.urban_officer, summons, **device_fix(at=minutes(-50)), now=minutes(-50)
    )
    return str(summons.uuid)


def test_queued_progress_result_and_check_out_sent_twice_act_once(api_city, clock):
    officer, dispatcher = api_city.as_("urban_officer"), api_city.as_("dispatcher")
    summons = summons_on_site(api_city)
    photo = base64.b64encode(png_bytes()).decode()
    progress = {
        "text": "正在劝离",
        **LANE,
        "accuracy_m": 9,
        "happened_at": minutes(-40).isoformat(),
    }
    result = {"result": "游商已劝离", "photos": [photo], "happened_at": minutes(-30).isoformat()}
    for _ in range(2):
        assert (
            officer.post(
                f"/summonses/{summons}/progress", progress, **queued("q-progress")
            ).status_code
            == 200
        )
        answer = officer.post(f"/summonses/{summons}/result", result, **queued("q-result"))
        assert answer.status_code == 200, answer.content
    row = Summons.objects.get(uuid=summons)
    written = Event.objects.get(summons=row, kind=EventKind.PROGRESS)
    assert (written.lon, written.lat, written.data["accuracy_m"]) == (LANE["lon"], LANE["lat"], 9)
    assert Event.objects.filter(summons=row, kind=EventKind.RESULT).count() == 1
    assert row.attachments.count() == 1
    # Left before the township released the department: refused, and refused again.
    check_out = {**LANE, "accuracy_m": 8, "happened_at": minutes(-20).isoformat()}
    early = officer.post(f"/summonses/{summons}/check-out", check_out, **queued("q-out"))
    assert early.status_code == 409 and early.json()["code"] == "check_out_too_early"
    dispatcher.post(f"/summonses/{summons}/release", {"note": "可以撤离"})
    again = officer.post(f"/summonses/{summons}/check-out", check_out, **queued("q-out"))
    assert again.status_code == 409
    assert Event.objects.filter(summons=row, kind=EventKind.CHECK_OUT_REFUSED).count() == 1
    clock.shift(timedelta(minutes=10))
    later = {**LANE, "accuracy_m": 8, "happened_at": minutes(5).isoformat()}
    for _ in range(2):
        left = officer.post(
            f"/summonses/{summons}/check-out", later, **queued("q-out-2", minutes(10))
        )
        assert left.status_code == 200, left.content
        assert left.json()["status"] == "left"
    row.refresh_from_db()
    assert row.left_at == minutes(5)
    assert Event.objects.filter(summons=row, kind=EventKind.CHECK_OUT).count() == 1


def test_a_queued_request_sent_again_days_later_is_recognised(api_city, clock, settings):
    settings.WHISTLE_OFFLINE_MAX_DAYS = 14
    steward = api_city.as_("steward")
    body = {"description": "人民市场东巷有游商占道", **LANE, "happened_at": minutes(-5).isoformat()}
    first = steward.post("/cases", body, **queued("q-days"))
    assert first.status_code == 201
    clock.shift(timedelta(days=10))
    again = steward.post("/cases", body, **queued("q-days", NOW + timedelta(days=10)))
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["reference"] == first.json()["reference"]
    assert Case.objects.count() == 1
    # Past the days accepted the key is gone, and what it carried is refused: never twice.
    clock.shift(timedelta(days=5, minutes=1))
    late = steward.post("/cases", body, **queued("q-days", NOW + timedelta(days=15)))
    assert late.status_code == 422, late.content
    assert late.json()["field"] == "happened_at"
    assert Case.objects.count() == 1


def test_a_live_requests_key_lives_the_ordinary_hours(api_city, clock):
    steward = api_city.as_("steward")
    body = {"description": "人民市场东巷有游商占道", **LANE}
    steward.post("/cases", body, **{"Idempotency-Key": "live-1"})
    row = IdempotentRequest.objects.get(key="live-1")
    assert row.kept_until == NOW + timedelta(hours=24)
    steward.post("/cases", {**body, "happened_at": NOW.isoformat()}, **queued("queued-1"))
    assert IdempotentRequest.objects.get(key="queued-1").kept_until == NOW + timedelta(days=31)


def test_by_default_a_phone_back_after_four_weeks_is_recognised_not_duplicated(api_city, clock):
    steward = api_city.as_("steward")
    made = minutes(-5)
    body = {"description": "人民市场东巷有游商占道", **LANE, "happened_at": made.isoformat()}
    first = steward.post("/cases", body, **queued("q-weeks"))
    assert first.status_code == 201
    # The answer was lost; the phone sat in a drawer for four weeks and sends it again.
    clock.shift(timedelta(days=28))
    again = steward.post("/cases", body, **queued("q-weeks", NOW + timedelta(days=28)))
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["reference"] == first.json()["reference"]
    assert Case.objects.count() == 1
    # Something made four weeks ago and never sent before is still taken, at its own time.
    late = {**body, "description": "人民市场东巷有堆物", "happened_at": made.isoformat()}
    fresh = steward.post("/cases", late, **queued("q-weeks-2", NOW + timedelta(days=28)))
    assert fresh.status_code == 201, fresh.content
    assert Case.objects.count() == 2


def keep_row(owner: str, key: str, *, created, kept_until) -> IdempotentRequest:
    return IdempotentRequest.objects.create(
        owner=owner,
        key=key,
        fingerprint="0" * 64,
        status=201,
        created_at=created,
        kept_until=kept_until,
    )


def test_the_worker_prunes_every_owners_expired_keys_and_no_other(db, settings):
    settings.WHISTLE_API_IDEMPOTENCY_HOURS = 24
    keep_row("person:1", "past", created=minutes(-60 * 24 * 31), kept_until=minutes(-1))
    keep_row("token:x", "past-too", created=minutes(-60 * 25), kept_until=minutes(-60))
    keep_row("person:2", "boundary", created=minutes(-60 * 24 * 31), kept_until=NOW)
    keep_row("person:2", "queued", created=minutes(-60 * 24 * 20), kept_until=minutes(60 * 24))
    # Written before keys had an end: the ordinary lifetime from their first attempt.
    keep_row("person:3", "old-live", created=minutes(-60 * 24 - 1), kept_until=None)
    keep_row("person:3", "new-live", created=minutes(-60 * 23), kept_until=None)
    assert idempotency.sweep(NOW, batch=2) == 2
    assert idempotency.sweep(NOW, batch=2) == 1
    assert idempotency.sweep(NOW, batch=2) == 0
    left = set(IdempotentRequest.objects.values_list("key", flat=True))
    assert left == {"boundary", "queued", "new-live"}
    assert idempotency.sweep(minutes(1), batch=10) == 1
    assert set(IdempotentRequest.objects.values_list("key", flat=True)) == {"queued", "new-live"}


def test_a_resend_after_its_key_was_pruned_is_refused_not_done_again(api_city, clock, settings):
    settings.WHISTLE_OFFLINE_MAX_DAYS = 30
    steward = api_city.as_("steward")
    body = {"description": "人民市场东巷有游商占道", **LANE, "happened_at": minutes(-5).isoformat()}
    assert steward.post("/cases", body, **queued("q-pruned")).status_code == 201
    clock.shift(timedelta(days=30))
    assert idempotency.sweep(timezone.now(), batch=10) == 0
    clock.shift(timedelta(days=1, minutes=1))
    assert idempotency.sweep(timezone.now(), batch=10) == 1
    assert not IdempotentRequest.objects.filter(key="q-pruned").exists()
    late = steward.post("/cases", body, **queued("q-pruned", timezone.now()))
    assert late.status_code == 422, late.content
    assert late.json()["field"] == "happened_at"
    assert Case.objects.count() == 1


def test_the_worker_prunes_keys_by_default(settings):
    assert "whistle.api.idempotency.sweep" in settings.WHISTLE_WORKER_SWEEPS


# The installable app --------------------------------------------------------------------------


def test_the_manifest_names_the_app_in_both_languages_and_its_icons_are_pngs(client):
    with translation.override("zh-hans"):
        manifest = client.get("/manifest.webmanifest", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert manifest["name"] == "吹哨报到 · Whistle"
    assert manifest["display"] == "standalone" and manifest["scope"] == "/"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert sizes == {
        ("192x192", "any"),
        ("192x192", "maskable"),
        ("512x512", "any"),
        ("512x512", "maskable"),
    }
    for entry in manifest["icons"]:
        answer = client.get(entry["src"])
        assert answer["Content-Type"] == "image/png"
        picture = Image.open(io.BytesIO(answer.content))
        assert f"{picture.width}x{picture.height}" == entry["sizes"]
    assert client.get("/app-icon-64-any.png").status_code == 404


def test_the_service_worker_keeps_the_shell_and_carries_the_push_handlers(client):
    answer = client.get("/sw.js")
    script = answer.content.decode()
    assert answer["Content-Type"].startswith("text/javascript")
    assert answer["Cache-Control"] == "no-cache"
    assert 'importScripts("/static/notifications/push-sw.js")' in script
    assert '"/static/whistle/offline.js"' in script and '"/static/desk/checkin.js"' in script
    assert '"/static/whistle/drafts.js"' in script
    assert '"/patrol/"' in script and '"/cases/"' in script


def test_the_no_signal_page_offers_neither_signing_in_nor_a_name_but_the_kept_pages(db, client):
    """Kept on the phone for whoever uses it, fetched without cookies: its top bar must not
    tell someone signed in to sign in, and nothing on it is anyone's."""
    login = reverse("login")
    store = re.search(r'const PAGES_CACHE = "([^"]+)";', client.get("/sw.js").content.decode())
    assert store is not None
    languages = (
        ("zh-hans", "无信号", "我的街巷", "本部门的召集"),
        ("en", "No signal", "My lanes", "My department&#x27;s summonses"),
    )
    for language, title, lanes, department in languages:
        page = client.get(f"/offline/?lang={language}").content.decode()
        assert f"<h1>{title}</h1>" in page
        assert f'href="{login}"' not in page
        assert 'class="who' not in page and 'data-offline-owner=""' in page
        # Its heading says there is no signal; no banner repeats it about typing.
        assert "data-offline-banner" not in page
        # The phone pages it offers, each shown by offline.js only where the worker's store
        # (the one the page names) holds it.
        assert f'data-kept-pages="{store[1]}"' in page
        kept = re.findall(r'<li hidden><a class="btn btn-primary" href="([^"]+)">([^<]+)</a>', page)
        assert kept[0] == ("/patrol/", lanes)
        assert [url for url, _label in kept] == [
            "/patrol/",
            "/patrol/report/",
            "/patrol/reports/",
            "/report/",
            "/department/",
        ]
        assert kept[-1] == ("/department/", department)
        # Its brand and "Home" are marked for offline.js to lead to the first kept page.
        assert '<a class="brand" href="/" data-kept-home>' in page
        assert re.search(r'<a class="btn" href="/" data-kept-home>[^<]+</a>', page)
        # The language switch stays: the page follows it once the signal returns.
        assert 'class="language-switch"' in page


def test_the_pages_kept_for_a_dead_zone_are_the_persons_phone_pages(whistle_city, client):
    city = whistle_city
    _case, _whistle, summonses = whistled_case(city, at=NOW)
    client.force_login(city.steward)
    assert client.get("/offline/pages.json").json()["pages"] == [
        "/patrol/",
        "/patrol/report/",
        "/patrol/reports/",
        f"/patrol/walk/lane/{city.lane.pk}/",
    ]
    client.force_login(city.urban_officer)
    reference = summonses[city.urban.pk].case.reference
    assert client.get("/offline/pages.json").json()["pages"] == [
        "/department/",
        f"/cases/{reference}/",
    ]
    # A signed-in resident's report form: a report made on it without signal waits.
    client.force_login(city.resident)
    assert client.get("/offline/pages.json").json()["pages"] == ["/report/"]


def test_the_data_kept_for_a_dead_zone_is_what_the_persons_pages_fetch(whistle_city, client):
    city = whistle_city
    client.force_login(city.steward)
    answer = client.get("/offline/pages.json").json()
    # The worker keeps the pages for the person they are for, as each page names them.
    assert answer["owner"] == str(city.steward.pk)
    assert f'data-offline-owner="{city.steward.pk}"' in client.get("/patrol/").content.decode()
    # A steward's report page draws its map from every layer it fetches, each scoped by the
    # server to the steward's own lanes: exactly those addresses are kept.
    assert answer["data"] == ["/map/lanes.geojson", "/map/cases.geojson"]
    assert map_layers(client.get("/patrol/report/").content.decode()) == answer["data"]
    lanes = client.get(answer["data"][0]).json()["features"]
    assert [lane["properties"]["name"] for lane in lanes] == [city.lane.name]
    # A signed-in resident's report form draws its district's lanes, on the map and in the
    # lane list: exactly the address the form fetches is kept.
    client.force_login(city.resident)
    kept = client.get("/offline/pages.json").json()["data"]
    assert kept == [f"/report/lanes.geojson?district={city.district.code}"]
    form = client.get("/report/").content.decode()
    assert map_layers(form) == kept
    assert f'data-url="{kept[0]}"' in form
    # Signed out, a page says nobody is signed in: the worker then keeps nothing.
    client.logout()
    assert 'data-offline-owner=""' in client.get("/report/").content.decode()


def map_layers(page: str) -> list[str]:
    """The addresses the report map of `page` fetches its layers from."""
    config = re.search(
        r'<script id="report-map-config" type="application/json">(.*?)</script>', page
    )
    assert config is not None
    return [layer["url"] for layer in json.loads(config.group(1))["layers"]]
