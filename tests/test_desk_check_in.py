"""The check-in on the case page: the position comes from the phone, nothing to type; a
flagged check-in tells the officer, and the township sees it on the case page, the board
and the department's records, and confirms or rejects it there."""

from __future__ import annotations

import json
import re
from datetime import UTC, timedelta

import pytest
import time_machine
from django.utils import translation

from tests.fixtures_assessment import scheme_one_third
from tests.fixtures_cases import (
    ON_THE_LANE,
    beijing,
    device_fix,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from tests.fixtures_desk import case_url, post_op
from whistle.assessment.engine import update_scores
from whistle.cases import actions
from whistle.cases.models import Event, Summons
from whistle.cases.trail import EventKind
from whistle.notifications import texts
from whistle.notifications.models import Notification
from whistle.organisation import geo

NOW = beijing(2026, 3, 10, 10, 0)
DESK = "/department/"
Flag = Summons.CheckInFlag


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def point_at(distance_m: float) -> tuple[float, float]:
    lon, lat, _back = geo.WGS84.fwd(ON_THE_LANE[0], ON_THE_LANE[1], 90, distance_m)
    return lon, lat


def phone_fields(point, *, accuracy_m: float = 8, at=NOW) -> dict:
    """The hidden fields the page's script fills from the phone's fix."""
    return {
        "lon": point[0],
        "lat": point[1],
        "accuracy_m": accuracy_m,
        "device_time": round(at.timestamp() * 1000),
        "device_id": "5d0f6b3a-2c1e-4a7b-8e9d-0a1b2c3d4e5f",
    }


@pytest.fixture
def acknowledged(whistle_city):
    case, _whistle, summonses = whistled_case(whistle_city)
    urban = actions.acknowledge(whistle_city.urban_officer, summonses[whistle_city.urban.pk])
    return case, urban


@pytest.fixture
def flagged(whistle_city, acknowledged):
    """Urban management on site with a coarse fix: 100 m away, ± 400 m."""
    case, urban = acknowledged
    urban = actions.check_in(
        whistle_city.urban_officer, urban, **device_fix(point_at(100), accuracy_m=400)
    )
    return case, urban


def check_in_form(html: str) -> str:
    match = re.search(r'<form[^>]*class="[^"]*op-check_in[^"]*".*?</form>', html, re.S)
    assert match is not None, "no check-in form"
    return match.group(0)


def test_the_check_in_form_offers_no_coordinates_to_type(client, whistle_city, acknowledged):
    case, urban = acknowledged
    client.force_login(whistle_city.urban_officer)
    form = check_in_form(html_of(client.get(case_url(case))))
    for name in ("lon", "lat", "accuracy_m", "device_time", "device_id"):
        field = re.search(rf'<input[^>]*name="check_in-{urban.uuid.hex}-{name}"[^>]*>', form)
        assert field is not None and 'type="hidden"' in field.group(0), name
    # Every other input is the photo, the token and the operation's own.
    visible = re.findall(r'<input(?![^>]*type="hidden")[^>]*>', form)
    assert len(visible) == 1 and 'type="file"' in visible[0]
    assert "<textarea" not in form and "<select" not in form
    # What the script needs to show the distance: the place and the district's radius.
    assert f'data-target-lon="{ON_THE_LANE[0]:.7f}"' in form
    assert 'data-radius="300"' in form
    assert "300 米" in form and "不能手工输入" in form
    assert "获取我的位置" in form


def test_a_flagged_check_in_warns_the_officer_and_tells_the_dispatchers(
    client, whistle_city, acknowledged
):
    case, urban = acknowledged
    client.force_login(whistle_city.urban_officer)
    response = post_op(
        client,
        case_url(case),
        "check_in",
        urban,
        follow=True,
        **phone_fields(point_at(250), accuracy_m=5000),
    )
    html = html_of(response)
    assert "message-warning" in html
    assert "您的报到已记录，但存疑（定位精度超出报到范围）" in html
    urban.refresh_from_db()
    assert (urban.status, urban.check_in_flag) == (Summons.Status.ON_SITE, Flag.PENDING)
    assert Notification.objects.filter(
        kind=EventKind.CHECK_IN_FLAGGED, recipient=whistle_city.dispatcher
    ).exists()


def test_the_dispatcher_sees_the_flag_and_confirms_it_on_the_case_page(
    client, whistle_city, flagged, _clock
):
    case, urban = flagged
    client.force_login(whistle_city.urban_officer)
    officer_html = html_of(client.get(case_url(case)))
    assert 'data-check-in-flag="pending"' in officer_html
    assert "op-rule_check_in" not in officer_html

    client.force_login(whistle_city.dispatcher)
    html = html_of(client.get(case_url(case)))
    assert "存疑，待街乡认定" in html and "存疑原因：定位精度超出报到范围" in html
    assert f'id="op-rule_check_in-{urban.uuid.hex}"' in html
    assert "存疑的报到" in html
    assert "已报到，存疑待街乡认定" in html  # the timeline

    _clock.move_to(NOW + timedelta(minutes=15))
    response = post_op(
        client, case_url(case), "rule_check_in", urban, decision="confirm", note="电话核实"
    )
    assert response.status_code == 302
    urban.refresh_from_db()
    assert urban.check_in_flag == Flag.CONFIRMED
    html = html_of(client.get(case_url(case)))
    assert "街乡确认报到" in html and "op-rule_check_in" not in html


def test_a_rejection_needs_a_reason_on_the_page(client, whistle_city, flagged):
    case, urban = flagged
    client.force_login(whistle_city.township_chief)
    html = html_of(post_op(client, case_url(case), "rule_check_in", urban, decision="reject"))
    assert "请填写理由。" in html
    assert Summons.objects.get(pk=urban.pk).check_in_flag == Flag.PENDING
    assert not Event.objects.filter(case=case, kind=EventKind.CHECK_IN_REJECTED).exists()


def test_the_board_lists_the_check_ins_awaiting_the_township(client, whistle_city, flagged):
    case, urban = flagged
    client.force_login(whistle_city.dispatcher)
    html = html_of(client.get("/dispatch/board/"))
    board = html[html.index("data-flagged-check-ins") :]
    assert "待认定的报到" in board
    assert f"/cases/{case.reference}/#summons-{urban.uuid.hex}" in board
    assert "定位精度超出报到范围" in board
    actions.rule_on_check_in(whistle_city.dispatcher, urban, confirm=True)
    assert "data-flagged-check-ins" not in html_of(client.get("/dispatch/board/"))


def test_the_departments_record_shows_the_flag(client, whistle_city, flagged):
    scheme_one_third(whistle_city.district)
    update_scores()
    client.force_login(whistle_city.urban_officer)
    html = html_of(client.get("/assessment/department/?period=2026-03"))
    assert 'data-check-in-flag="pending"' in html
    assert "街乡确认之前，不算到场" in html


# The check-out ---------------------------------------------------------------------------


def check_out_form(html: str) -> str:
    match = re.search(r'<form[^>]*class="[^"]*op-check_out[^"]*".*?</form>', html, re.S)
    assert match is not None, "no check-out form"
    return match.group(0)


@pytest.fixture
def released(whistle_city, acknowledged, _clock):
    """Urban management checked in at the lane at 10:00 and released at 10:10."""
    case, urban = acknowledged
    urban = actions.check_in(whistle_city.urban_officer, urban, **device_fix())
    _clock.move_to(NOW + timedelta(minutes=10))
    return case, actions.release(whistle_city.dispatcher, urban, note="游商已离开")


@pytest.mark.parametrize("page", ["case", "desk"])
def test_the_check_out_form_offers_no_coordinates_to_type(client, whistle_city, released, page):
    case, urban = released
    client.force_login(whistle_city.urban_officer)
    form = check_out_form(html_of(client.get(case_url(case) if page == "case" else DESK)))
    for name in ("lon", "lat", "accuracy_m", "device_time", "device_id"):
        field = re.search(rf'<input[^>]*name="check_out-{urban.uuid.hex}-{name}"[^>]*>', form)
        assert field is not None and 'type="hidden"' in field.group(0), name
    assert re.findall(r'<input(?![^>]*type="hidden")[^>]*>', form) == []
    assert "<textarea" not in form and "<select" not in form
    # The check-in's script finds the fix; the check-out goes without one if it must.
    assert "data-check-in data-optional" in form and "data-radius" not in form
    assert f'data-target-lon="{ON_THE_LANE[0]:.7f}"' in form
    assert "附上我的位置" in form and "不能手工输入" in form


def test_the_check_out_keeps_the_phones_fix_with_its_provenance(
    client, whistle_city, released, _clock
):
    _case, urban = released
    client.force_login(whistle_city.urban_officer)
    at = NOW + timedelta(minutes=15)
    _clock.move_to(at)
    fields = phone_fields(point_at(40), accuracy_m=12, at=at - timedelta(seconds=3))
    response = post_op(client, DESK, "check_out", urban, **fields)
    assert response.status_code == 302
    assert Summons.objects.get(pk=urban.pk).status == Summons.Status.LEFT
    event = Event.objects.get(summons=urban, kind=EventKind.CHECK_OUT)
    assert (event.lon, event.lat) == pytest.approx(point_at(40))
    assert {key: event.data[key] for key in ("source", "accuracy_m", "distance_m")} == {
        "source": "device",
        "accuracy_m": 12.0,
        "distance_m": 40.0,
    }
    assert (event.data["clock_skew_s"], event.data["device_id"]) == (-3.0, fields["device_id"])
    assert event.data["server_time"] == at.astimezone(UTC).isoformat()


def test_a_check_out_without_a_fix_goes_through_without_a_position(client, whistle_city, released):
    case, urban = released
    client.force_login(whistle_city.urban_officer)
    response = post_op(client, case_url(case), "check_out", urban)
    assert response.status_code == 302
    event = Event.objects.get(summons=urban, kind=EventKind.CHECK_OUT)
    assert event.lon is None and "source" not in event.data


# The public page -------------------------------------------------------------------------


def test_the_public_page_shows_a_flagged_arrival_only_once_the_township_confirmed_it(
    client, whistle_city, flagged, _clock
):
    city = whistle_city
    case, urban = flagged
    police = Summons.objects.get(case=case, department=city.police)
    police = actions.acknowledge(city.police_officer, police)
    police = actions.check_in(
        city.police_officer, police, **device_fix(point_at(120), accuracy_m=400)
    )
    assert police.check_in_flag == Flag.PENDING
    public = f"/report/follow/{case.reference}/"
    urban_arrived = f"{city.urban.name}已到场报到"
    police_arrived = f"{city.police.name}已到场报到"
    html = html_of(client.get(public))
    assert urban_arrived not in html and police_arrived not in html

    _clock.move_to(NOW + timedelta(minutes=15))
    actions.rule_on_check_in(city.dispatcher, urban, confirm=True)
    actions.rule_on_check_in(city.dispatcher, police, confirm=False, note="定位与现场不符")
    html = html_of(client.get(public))
    assert html.count(urban_arrived) == 1
    assert police_arrived not in html


def map_features(html: str) -> dict:
    found = re.search(
        r'<script id="case-map-features" type="application/json">(.*?)</script>', html
    )
    assert found is not None
    return json.loads(found.group(1))


def map_legend(html: str) -> str:
    found = re.search(r"<ul class=\"map-legend\" data-map-legend>(.*?)</ul>", html, re.S)
    assert found is not None
    return found.group(1)


def test_the_map_shows_a_ruled_check_in_as_the_township_ruled(
    client, whistle_city, flagged, _clock
):
    city = whistle_city
    case, urban = flagged
    police = actions.acknowledge(
        city.police_officer, Summons.objects.get(case=case, department=city.police)
    )
    police = actions.check_in(
        city.police_officer, police, **device_fix(point_at(120), accuracy_m=400)
    )
    client.force_login(city.dispatcher)
    html = html_of(client.get(case_url(case)))
    assert [c["state"] for c in map_features(html)["check_ins"]] == ["flagged", "flagged"]
    assert map_legend(html).count("存疑的报到") == 2

    _clock.move_to(NOW + timedelta(minutes=15))
    actions.rule_on_check_in(city.dispatcher, urban, confirm=True)
    actions.rule_on_check_in(city.dispatcher, police, confirm=False, note="定位与现场不符")
    html = html_of(client.get(case_url(case)))
    states = {c["label"]: c["state"] for c in map_features(html)["check_ins"]}
    assert states == {city.urban.name: "confirmed", city.police.name: "rejected"}
    legend = map_legend(html)
    assert "存疑的报到" not in legend
    assert f"街乡已确认的报到：{city.urban.name}" in legend
    assert f"街乡不予认可的报到：{city.police.name}" in legend


def test_a_check_in_flagged_too_fast_after_a_refused_attempt_says_it_was_compared_with_it(
    client, whistle_city, acknowledged, _clock
):
    case, urban = acknowledged
    client.force_login(whistle_city.urban_officer)
    # 3,780.8 m away: refused, and kept in the trail.
    far = post_op(
        client, case_url(case), "check_in", urban, follow=True, **phone_fields(point_at(3780.8))
    )
    refused = Event.objects.get(summons=urban, kind=EventKind.CHECK_IN_REFUSED)
    # The refusal writes the distance in whole metres, rounded up, as the page's preview does.
    assert refused.data["distance_m"] == 3780.8
    assert "报到未被接受：您距离案件位置 3781 米" in html_of(far)
    # A minute later, 20 m from the case: 3.8 km in a minute is too fast.
    _clock.move_to(NOW + timedelta(minutes=1))
    near = post_op(
        client,
        case_url(case),
        "check_in",
        urban,
        follow=True,
        **phone_fields(point_at(20), at=NOW + timedelta(minutes=1)),
    )
    said = (
        "与该人员上一位置相比移动过快：上一位置是其 03-10 10:00:00 被拒绝的报到尝试，相距 3761 米"
    )
    assert f"您的报到已记录，但存疑（{said}）" in html_of(near)
    flagged = Event.objects.get(summons=urban, kind=EventKind.CHECK_IN_FLAGGED)
    assert flagged.data["previous_kind"] == EventKind.CHECK_IN_REFUSED
    assert flagged.data["previous_at"] == refused.at.astimezone(UTC).isoformat()
    assert flagged.data["previous_distance_m"] == 3760.8

    # The dispatchers read the same on the case page, the board and in their inbox.
    client.force_login(whistle_city.dispatcher)
    assert f"存疑原因：{said}" in html_of(client.get(case_url(case)))
    assert said in html_of(client.get("/dispatch/board/"))
    told = Notification.objects.get(
        kind=EventKind.CHECK_IN_FLAGGED, recipient=whistle_city.dispatcher, channel="inbox"
    )
    assert said in told.body
    with translation.override("en"):
        body = texts.body_of(told.payload, told.body)
    assert (
        "too fast from the officer's previous position: their refused check-in attempt at "
        "03-10 10:00:00, 3761 m away"
    ) in body, body


def test_a_check_in_refused_from_the_department_desk_shows_there_once_after_a_redirect(
    client, whistle_city, acknowledged
):
    """The desk does not offer the check-in; a refused one sent there all the same is said
    at the top of the desk, once."""
    case, urban = acknowledged
    client.force_login(whistle_city.urban_officer)
    response = post_op(client, DESK, "check_in", urban, **phone_fields(point_at(3780.8)))
    assert response.status_code == 302
    assert response["Location"] == f"{DESK}#op-check_in-{urban.uuid.hex}"
    desk = html_of(client.get(DESK))
    assert "报到未被接受：您距离案件位置 3781 米" in desk
    assert "报到未被接受" not in html_of(client.get(DESK))
    assert Event.objects.filter(case=case, kind=EventKind.CHECK_IN_REFUSED).count() == 1
