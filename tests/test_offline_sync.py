"""Field work recorded without signal and sent later: both times in the trail, the device's
clock measured at sync, a late check-in flagged for the township, and a resend that never
acts twice."""

from __future__ import annotations

import io
from datetime import UTC, timedelta

import pytest
import time_machine
from django.utils import translation
from PIL import Image

from tests.fixtures_api import api_city_fixture  # noqa: F401  (fixture)
from tests.fixtures_cases import (
    ON_THE_LANE,
    beijing,
    device_fix,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from whistle.cases import actions
from whistle.cases.models import Case, Event, Summons
from whistle.cases.trail import EventKind
from whistle.patrols import actions as patrols
from whistle.patrols.models import CheckResult, PatrolEvent

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


def test_a_queued_report_sent_twice_with_its_key_makes_one_case(api_city, clock):
    steward = api_city.as_("steward")
    body = {
        "description": "人民市场东巷有游商占道",
        **LANE,
        "happened_at": minutes(-20).isoformat(),
    }
    headers = {"Idempotency-Key": "queue-report-1", "X-Whistle-Sent-At": NOW.isoformat()}
    first = steward.post("/cases", body, **headers)
    assert first.status_code == 201, first.content
    again = steward.post("/cases", body, **headers)
    assert again.status_code == 201
    assert again.json()["reference"] == first.json()["reference"]
    assert Case.objects.count() == 1


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
    assert '"/patrol/"' in script and '"/cases/"' in script


def test_the_pages_kept_for_a_dead_zone_are_the_persons_phone_pages(whistle_city, client):
    city = whistle_city
    _case, _whistle, summonses = whistled_case(city, at=NOW)
    client.force_login(city.steward)
    assert client.get("/offline/pages.json").json()["pages"] == [
        "/patrol/",
        "/patrol/report/",
        "/patrol/reports/",
    ]
    client.force_login(city.urban_officer)
    reference = summonses[city.urban.pk].case.reference
    assert client.get("/offline/pages.json").json()["pages"] == [
        "/department/",
        f"/cases/{reference}/",
    ]
