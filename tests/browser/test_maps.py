"""The maps in a real browser: how they are reached by keyboard, what they open on, how
they draw lanes and cases close together."""

from __future__ import annotations

import pytest

from tests.browser.conftest import WALL, sign_in
from tests.fixtures_cases import (  # noqa: F401
    ON_THE_LANE,
    filed_case,
    reported_case,
    whistle_city_fixture,
)
from tests.fixtures_street import street_fixture  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Where the focus is: the element's tag, its class and its text, to say where Tab went.
FOCUSED = """() => {
  const el = document.activeElement;
  return {
    tag: el.tagName.toLowerCase(),
    cls: String(el.getAttribute("class") || ""),
    submit: el.matches("form[data-report-form] button[type=submit]:not([name])"),
  };
}"""


def test_the_lanes_on_the_report_map_are_no_tab_stops_and_still_take_a_click(
    new_page, shots, street
):
    page = new_page(WALL)
    sign_in(page, "wang-fang")
    page.goto("/report/")
    page.wait_for_selector("#report-map[data-map-ready=true]")
    lanes = page.locator("#report-map path.whistle-lane")
    assert lanes.count() == 2  # the district's lanes: 人民市场东巷 and 东四六条

    stops = []
    for _n in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        stops.append(focused)
        if focused["submit"]:
            break
    shots(page, "submit-focused")
    assert stops[-1]["submit"], stops
    # The map is one stop; nothing drawn on it is one.
    assert [s for s in stops if s["tag"] in {"path", "svg", "g"}] == []
    assert sum("leaflet-container" in s["cls"] for s in stops) == 1

    # A click on a lane still places the pin where it was clicked.
    assert page.locator("#id_lon").input_value() == ""
    on_the_line = page.evaluate(
        """() => {
          const el = document.querySelector('#report-map');
          const handle = el._whistleMap;
          const lane = Object.values(handle.overlays)[0].getLayers()
            .find((drawn) => drawn.feature.properties.name === '人民市场东巷');
          const point = handle.map.latLngToContainerPoint(lane.getCenter());
          const box = el.getBoundingClientRect();
          return {x: box.left + point.x, y: box.top + point.y};
        }"""
    )
    page.mouse.click(on_the_line["x"], on_the_line["y"])
    page.wait_for_selector("#report-map .map-pin")
    assert page.locator("#id_lon").input_value() != ""


# The page's box of each element the selector finds.
BOXES = """(selector) => [...document.querySelectorAll(selector)].map((el) => {
  const r = el.getBoundingClientRect();
  return {left: r.left, top: r.top, right: r.right, bottom: r.bottom,
          x: r.left + r.width / 2, y: r.top + r.height / 2};
})"""


def test_several_cases_on_one_lane_are_each_drawn_apart_and_each_opens_its_popup(
    new_page, shots, whistle_city
):
    city = whistle_city
    # Four cases a few metres apart on 人民市场东巷: one dot on top of another at any zoom
    # that shows the township.
    cases = [
        reported_case(city, description=f"游商占道经营 {n}", lat=ON_THE_LANE[1] + n * 0.00002)
        for n in range(4)
    ]
    page = new_page(WALL)
    sign_in(page, "longtan-dispatcher")
    page.goto("/dispatch/")
    page.wait_for_selector("[data-map][data-map-ready=true]")
    dots = page.evaluate(BOXES, "path.whistle-case")
    assert len(dots) == 4
    for i, a in enumerate(dots):
        for b in dots[i + 1 :]:
            assert ((a["x"] - b["x"]) ** 2 + (a["y"] - b["y"]) ** 2) ** 0.5 >= 16, dots

    opened = set()
    for dot in dots:
        page.mouse.click(dot["x"], dot["y"])
        popup = page.wait_for_selector(".leaflet-popup-content")
        opened.add(popup.inner_text().split("\n")[0].strip())
        page.click(".leaflet-popup-close-button")
        page.wait_for_selector(".leaflet-popup-content", state="detached")
    assert opened == {case.reference for case in cases}
    shots(page, "1-cases-apart")


def test_the_hot_spots_map_opens_on_the_whole_district(new_page, shots, whistle_city):
    city = whistle_city
    for n in range(3):
        filed_case(city, description=f"游商占道经营 {n}", lat=ON_THE_LANE[1] + n * 0.0002)
    page = new_page(WALL)
    sign_in(page, "dongcheng-office")
    page.goto("/district/hotspots/")
    page.wait_for_selector("#hotspot-map[data-hotspots-drawn]")
    shots(page, "1-hot-spots")
    (box,) = page.evaluate(BOXES, "#hotspot-map")
    drawn = page.evaluate(BOXES, "#hotspot-map path.whistle-boundary")
    assert drawn
    for shape in drawn:
        assert shape["left"] >= box["left"] and shape["right"] <= box["right"], (box, shape)
        assert shape["top"] >= box["top"] and shape["bottom"] <= box["bottom"], (box, shape)


def test_lanes_are_thin_over_a_district_and_full_width_up_close(new_page, whistle_city):
    page = new_page(WALL)
    sign_in(page, "dongcheng-office")
    page.goto("/district/hotspots/")
    page.wait_for_selector("#hotspot-map[data-map-ready=true]")
    weight = (
        "() => Number(document.querySelector('#hotspot-map path.whistle-lane')"
        ".getAttribute('stroke-width'))"
    )
    handle = "document.querySelector('#hotspot-map')._whistleMap.map"
    page.evaluate(f"() => {handle}.setZoom(12, {{animate: false}})")
    assert page.evaluate(weight) < 2
    page.evaluate(f"() => {handle}.setZoom(17, {{animate: false}})")
    assert page.evaluate(weight) == 5


def test_a_stewards_report_map_opens_on_the_stewards_own_lane(new_page, shots, street):
    page = new_page(WALL)
    sign_in(page, "ma-lin")  # the steward of 东四六条
    page.goto("/report/")
    page.wait_for_selector("#report-map[data-map-ready=true]")
    shots(page, "1-own-lane")
    in_view = page.evaluate(
        """() => {
          const handle = document.querySelector('#report-map')._whistleMap;
          const seen = {};
          Object.values(handle.overlays).forEach((layer) => layer.eachLayer((lane) => {
            seen[lane.feature.properties.name] = handle.map.getBounds().contains(lane.getBounds());
          }));
          return seen;
        }"""
    )
    # 东四六条 in view, 人民市场东巷 (two kilometres south) out of it.
    assert in_view == {"东四六条": True, "人民市场东巷": False}
