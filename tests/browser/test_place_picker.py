"""The shared place picker with a position that is no number: a tampered form's hidden
longitude and latitude (NaN) leave the map without a pin and throw nothing."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PHONE
from tests.fixtures_street import street_fixture  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "abc"])
def test_a_position_that_is_no_number_is_ignored_by_the_place_picker(new_page, street, value):
    page = new_page(PHONE)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def tampered(route, request):
        answer = route.fetch()
        html = answer.text()
        for name in ("lon", "lat"):
            html = re.sub(
                rf'<input([^>]*?)id="id_{name}"',
                rf'<input\1id="id_{name}" value="{value}"',
                html,
            )
        route.fulfill(response=answer, body=html)

    page.route(re.compile(r".*/report/$"), tampered)
    page.goto("/report/")
    assert page.locator("#id_lon").get_attribute("value") == value
    page.wait_for_function("() => document.querySelector('#report-map')._whistleMap")
    # Waited for after the picker's own wait for the map, so its pin (if any) is placed.
    assert page.evaluate(
        "() => document.querySelector('#report-map')._whistleMap.ready.then(() => true)"
    )
    assert errors == []
    assert page.locator("#report-map .leaflet-marker-icon").count() == 0
