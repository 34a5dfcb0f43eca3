"""A resident's report whose hidden longitude and latitude are no numbers (a tampered form)
is refused with the form's one error about the place, and nothing is written."""

from __future__ import annotations

import pytest

from tests.fixtures_street import street_fixture  # noqa: F401
from tests.test_street_residents import send
from whistle.cases.models import Case


@pytest.mark.parametrize("value", ["NaN", "nan", "Infinity", "-inf", "1e999"])
def test_a_position_that_is_no_finite_number_is_refused_as_the_place(client, street, value):
    html = send(client, lon=value, lat=value).content.decode()
    assert 'href="#id_place">问题在哪里？</a>' in html
    assert not Case.objects.exists()
