"""The maps in a real browser: how they are reached by keyboard, what they open on, how
they draw lanes and cases close together."""

from __future__ import annotations

import pytest

from tests.browser.conftest import WALL, sign_in
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
    lanes.first.click(force=True)
    page.wait_for_selector("#report-map .map-pin")
    assert page.locator("#id_lon").input_value() != ""
