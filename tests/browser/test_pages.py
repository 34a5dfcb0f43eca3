"""The pages in a real browser: layout on a phone and a wall screen, the map, the language
switch, the countdown, live updates, geolocation and the GCJ-02 conversion."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.utils import timezone

from tests.browser.conftest import PHONE, WALL, open_menu, sign_in, standing_at, submit
from tests.conftest import make_person
from tests.fixtures_web import make_case, make_summons
from whistle.organisation.models import Person, Role
from whistle.web.gcj02 import gcj02_to_wgs84, wgs84_to_gcj02

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RED = "rgb(179, 38, 30)"  # --tone-overdue-bg
AMBER = "rgb(255, 224, 138)"  # --near-bg


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def small_touch_targets(page, selector: str) -> list[str]:
    """Visible links and buttons under ``selector`` smaller than 44 px in height."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector + ' a, ' + selector + ' button')]
            .filter((el) => el.offsetParent !== null)
            .filter((el) => el.getBoundingClientRect().height < 44)
            .map((el) => el.outerHTML.slice(0, 80))""",
        selector,
    )


@pytest.mark.parametrize("viewport", [PHONE, WALL], ids=["phone-360", "wall-1920"])
def test_the_landing_and_sign_in_pages_fit_the_screen(new_page, shots, small_city, viewport):
    make_person("wang-fang", Role.STEWARD, lane=small_city.renmin_lane)
    page = new_page(viewport)
    page.goto("/")
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.locator("h1").inner_text() == "街乡吹哨、部门报到"
    assert no_sideways_scroll(page)
    assert small_touch_targets(page, ".topbar") == []
    assert small_touch_targets(page, "main") == []
    shots(page, "1-landing", full_page=True)

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").is_visible()
    shots(page, "2-skip-link")

    page.goto("/accounts/login/")
    page.fill("#id_username", "wang-fang")
    page.fill("#id_password", "not-the-password")
    submit(page, "form.form button[type=submit]")
    page.wait_for_selector(".form-errors", state="visible")
    assert no_sideways_scroll(page)
    shots(page, "3-sign-in-refused", full_page=True)

    sign_in(page, "wang-fang")
    open_menu(page)
    assert "wang-fang" in page.locator(".who-name").inner_text()
    assert "人民市场东巷" in page.locator(".who-roles").inner_text()
    assert no_sideways_scroll(page)
    page.wait_for_selector("[data-map][data-map-ready=true]")
    shots(page, "4-home", full_page=True)


def test_the_map_draws_the_lanes_with_no_base_map_and_no_internet(new_page, shots, small_city):
    make_person("li-na", Role.DISTRICT_ASSESSOR, jurisdiction=small_city.district)
    page = new_page(WALL)
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname or ""))
    sign_in(page, "li-na")
    page.wait_for_selector("[data-map][data-map-ready=true]")

    assert page.locator("path.whistle-lane").count() == 2  # 人民市场东巷 and 东四六条
    assert page.locator("path.whistle-boundary").count() == 3  # the district, two townships
    assert page.locator("img.leaflet-tile").count() == 0
    drawn = page.evaluate("Object.keys(document.querySelector('[data-map]')._whistleMap.overlays)")
    assert len(drawn) == 3
    assert hosts == {"localhost"} or hosts == {"127.0.0.1"}
    # The map's own buttons speak the page's language; the library is credited by name.
    assert page.locator(".leaflet-control-zoom-in").get_attribute("title") == "放大"
    assert page.locator(".leaflet-control-zoom-out").get_attribute("title") == "缩小"
    assert page.locator(".leaflet-control-attribution").inner_text().strip() == "Leaflet"
    shots(page, "map")

    page.locator("path.whistle-lane").first.click(force=True)
    popup = page.wait_for_selector(".leaflet-popup-content")
    assert "m" in popup.inner_text()
    shots(page, "lane-popup")


def test_the_language_switch_turns_every_word_english(new_page, shots, small_city):
    make_person("wang-fang", Role.STEWARD, lane=small_city.renmin_lane)
    page = new_page(PHONE)
    sign_in(page, "wang-fang")
    open_menu(page)
    submit(page, "button[name=language][value=en]")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert "Hello, wang-fang" in page.locator("h1").inner_text()
    open_menu(page)
    assert "Alley steward" in page.locator(".who-roles").inner_text()
    assert page.locator("button[name=language][value=zh-hans]").inner_text() == "简体中文"
    page.wait_for_selector("[data-map][data-map-ready=true]")
    assert page.locator(".leaflet-control-zoom-in").get_attribute("title") == "Zoom in"
    layers = page.locator(".leaflet-control-layers-toggle")
    assert layers.get_attribute("title") == "Map layers"
    assert layers.get_attribute("aria-label") == "Map layers"
    shots(page, "english-home", full_page=True)

    open_menu(page)
    submit(page, "button[name=language][value=zh-hans]")
    page.wait_for_function("() => document.documentElement.lang === 'zh-CN'")
    page.wait_for_selector("[data-map][data-map-ready=true]")
    assert page.locator(".leaflet-control-layers-toggle").get_attribute("title") == "地图图层"
    open_menu(page)
    assert "退出" in page.locator(".account").inner_text()


def test_a_countdown_turns_amber_then_red_after_its_deadline(new_page, shots, small_city):
    make_person("zhang-wei", Role.DISPATCHER, jurisdiction=small_city.longtan)
    page = new_page(PHONE)
    sign_in(page, "zhang-wei")
    page.evaluate(
        """() => {
            const deadline = new Date(Date.now() + 1000).toISOString();
            document.querySelector('main').insertAdjacentHTML('afterbegin',
              '<p id="probe"><span class="countdown" data-countdown data-name="7KX2M9QH4T"' +
              ' data-warn="300" data-deadline="' + deadline + '">' +
              '<span class="countdown-label">到场时限</span> ' +
              '<span class="countdown-clock" aria-hidden="true"></span>' +
              '<span class="countdown-spoken visually-hidden"></span></span></p>');
            Whistle.countdown.init(document.getElementById('probe'));
        }"""
    )
    countdown = page.locator("#probe .countdown")
    assert countdown.get_attribute("data-state") == "near"
    assert countdown.evaluate("el => getComputedStyle(el).backgroundColor") == AMBER
    assert countdown.locator(".countdown-spoken").inner_text() == "剩余 不到 1 分钟"
    shots(page, "1-amber")

    page.wait_for_selector("#probe .countdown.is-overdue", timeout=4000)
    assert countdown.evaluate("el => getComputedStyle(el).backgroundColor") == RED
    assert countdown.locator(".countdown-spoken").inner_text() == "已超时 不到 1 分钟"
    assert countdown.locator(".countdown-clock").get_attribute("data-overdue") == "已超时"
    assert countdown.locator(".countdown-clock").inner_text().startswith("+00:0")
    page.wait_for_function("() => document.getElementById('live-announcer').textContent !== ''")
    assert "7KX2M9QH4T" in page.locator("#live-announcer").inner_text()
    shots(page, "2-red")


def test_the_wall_polls_and_shows_a_new_summons_and_its_case_within_seconds(
    new_page, shots, small_city
):
    make_person("zhang-wei", Role.DISPATCHER, jurisdiction=small_city.longtan)
    page = new_page(WALL)
    sign_in(page, "zhang-wei")
    page.goto("/wall/")
    page.wait_for_selector("[data-map][data-map-ready=true]")
    assert page.locator(".wall-map .map").bounding_box()["height"] > 700
    assert page.locator("#area-summary [data-countdown]").count() == 0
    shots(page, "1-quiet")

    now = timezone.now()
    case = make_case(small_city.longtan, lane=small_city.renmin_lane, at=now)
    make_summons(case, small_city.police, at=now, arrive_in=timedelta(minutes=30))
    # The countdown script marks the new element's state right after htmx swaps it in.
    page.wait_for_selector("#area-summary [data-countdown][data-state]", timeout=9000)
    assert page.locator("#area-summary [data-countdown]").get_attribute("data-state") == "ok"
    assert case.reference in page.locator("#area-summary").inner_text()
    # The wall's map reloads its case points every 10 seconds.
    page.wait_for_selector("path.whistle-case", timeout=13000)
    shots(page, "2-summoned")


def test_the_gcj02_conversion_in_the_browser_matches_python(new_page, small_city):
    make_person("zhang-wei", Role.DISPATCHER, jurisdiction=small_city.longtan)
    page = new_page(PHONE)
    sign_in(page, "zhang-wei")
    positions = [(116.391275, 39.90723), (116.432, 39.872), (121.4737, 31.2304), (87.6, 43.8)]
    results = page.evaluate(
        """(positions) => positions.map(([lon, lat]) => {
            const there = Whistle.gcj02.fromWgs84(lon, lat);
            return [there, Whistle.gcj02.toWgs84(there[0], there[1])];
        })""",
        positions,
    )
    for position, (there, back) in zip(positions, results, strict=True):
        assert there == pytest.approx(wgs84_to_gcj02(*position), abs=1e-12)
        assert back == pytest.approx(gcj02_to_wgs84(*there), abs=1e-12)
        assert back == pytest.approx(position, abs=1e-8)
    assert page.evaluate("Whistle.gcj02.fromWgs84(-0.1276, 51.5072)") == [-0.1276, 51.5072]


def test_on_gcj02_tiles_the_map_shifts_what_it_draws_and_unshifts_clicks(
    new_page, shots, small_city, settings, live_server
):
    settings.WHISTLE_BASEMAP = "custom"
    settings.WHISTLE_BASEMAP_URL = live_server.url + "/no-tiles-here/{z}/{x}/{y}.png"
    settings.WHISTLE_BASEMAP_CRS = "gcj02"
    make_person("zhang-wei", Role.DISPATCHER, jurisdiction=small_city.longtan)
    page = new_page(WALL)
    sign_in(page, "zhang-wei")
    page.wait_for_selector("[data-map][data-map-ready=true]")
    handle = "document.querySelector('[data-map]')._whistleMap"
    assert page.evaluate(f"{handle}.crs") == "gcj02"

    lane_start = (116.432, 39.872)
    drawn = page.evaluate(
        f"""() => {{
            const lane = Object.values({handle}.overlays)[1].getLayers()[0];
            const first = lane.getLatLngs()[0];
            return [first.lng, first.lat];
        }}"""
    )
    assert drawn == pytest.approx(wgs84_to_gcj02(*lane_start), abs=1e-12)

    # A click on the drawn (GCJ-02) start of the lane reports its stored WGS-84 position.
    page.evaluate(
        f"""() => {{
            window.clicked = null;
            document.querySelector('[data-map]').addEventListener('whistle:map-click',
                (event) => {{ window.clicked = event.detail; }});
            {handle}.map.setView(L.latLng({drawn[1]}, {drawn[0]}), 18, {{animate: false}});
        }}"""
    )
    box = page.locator("[data-map]").bounding_box()
    point = page.evaluate(
        f"""() => {{
            const p = {handle}.map.latLngToContainerPoint(L.latLng({drawn[1]}, {drawn[0]}));
            return [p.x, p.y];
        }}"""
    )
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    page.wait_for_function("() => window.clicked !== null")
    clicked = page.evaluate("window.clicked")
    # One pixel at zoom 18 is about 0.5 m: the click lands within a couple of metres.
    assert clicked["lon"] == pytest.approx(lane_start[0], abs=3e-5)
    assert clicked["lat"] == pytest.approx(lane_start[1], abs=3e-5)
    shots(page, "gcj02-zoomed")


def test_the_geolocation_helper_fills_the_position_and_its_accuracy(new_page, shots, small_city):
    Person.objects.create_user("designer", password="pw-123456", is_staff=True)
    page = new_page(
        PHONE,
        **standing_at((116.4321, 39.8725), 12),
    )
    sign_in(page, "designer")
    page.goto("/ui/")
    page.click("[data-geolocate-button]")
    page.wait_for_function("() => document.getElementById('id_lon').value !== ''")
    assert float(page.input_value("#id_lon")) == pytest.approx(116.4321)
    assert float(page.input_value("#id_lat")) == pytest.approx(39.8725)
    assert page.input_value("#id_accuracy_m") == "12"
    assert "12" in page.locator(".geolocate-status").inner_text()
    shots(page, "components", full_page=True)


def test_a_stacked_table_cell_keeps_all_its_elements_beside_the_label(new_page, small_city):
    Person.objects.create_user("designer", password="pw-123456", is_staff=True)
    page = new_page(PHONE)
    sign_in(page, "designer")
    page.goto("/ui/")
    # A status and, after it, its escalation (as on a steward's list of reports), and a
    # reference over its township (as on a department's past summonses).
    lefts = page.evaluate(
        """() => {
            const cell = document.querySelector('.table-stack td[data-label] .badge').closest('td');
            const extra = document.createElement('span');
            extra.className = 'badge badge-backlog';
            extra.textContent = '区街巷长办公室';
            cell.append(' ', extra, document.createElement('br'), 'x');
            const [first, second] = cell.querySelectorAll('.badge');
            return [first.getBoundingClientRect().left, second.getBoundingClientRect().left,
                    second.getBoundingClientRect().top > first.getBoundingClientRect().bottom - 1];
        }"""
    )
    assert lefts[0] == lefts[1] and lefts[2]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's in-memory test database")
def test_the_live_server_has_its_own_database_connection(live_server):
    """A shared SQLite connection between the server's threads and the test's can deadlock;
    the test database is a file, so the server opens connections of its own."""
    assert Path(connection.settings_dict["NAME"]).is_file()
    assert live_server.thread.connections_override == {}
