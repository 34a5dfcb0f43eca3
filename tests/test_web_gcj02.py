import itertools

import pytest

from whistle.organisation.geo import distance_m
from whistle.web.gcj02 import gcj02_to_wgs84, in_china, wgs84_to_gcj02

TIANANMEN_WGS84 = (116.391275, 39.90723)
# Tiananmen in GCJ-02 as usually quoted, to six decimals (about 0.1 m of rounding each), from
# a source whose own input was rounded too: it agrees with the formula to about 0.7 m.
TIANANMEN_GCJ02_QUOTED = (116.397521, 39.908626)
# The pair in the README of a widely used conversion library (wandergis/coordtransform),
# printed to full double precision.
LIBRARY_WGS84 = (116.404, 39.915)
LIBRARY_GCJ02 = (116.41024449916938, 39.91640428150164)


def test_tiananmen_shifts_to_its_quoted_gcj02_position_within_a_metre():
    shifted = wgs84_to_gcj02(*TIANANMEN_WGS84)
    assert distance_m(shifted, TIANANMEN_GCJ02_QUOTED) < 1.0


def test_the_published_library_pair_matches_to_the_last_digits():
    lon, lat = wgs84_to_gcj02(*LIBRARY_WGS84)
    assert lon == pytest.approx(LIBRARY_GCJ02[0], abs=1e-11)
    assert lat == pytest.approx(LIBRARY_GCJ02[1], abs=1e-11)


def test_the_shift_in_beijing_is_a_few_hundred_metres_to_the_north_east():
    lon, lat = wgs84_to_gcj02(*TIANANMEN_WGS84)
    assert lon > TIANANMEN_WGS84[0] and lat > TIANANMEN_WGS84[1]
    assert 450 < distance_m(TIANANMEN_WGS84, (lon, lat)) < 650


CHINA_GRID = [
    (lon + 0.37, lat + 0.21)
    for lon, lat in itertools.product(range(75, 135, 6), range(18, 54, 5))
    if in_china(lon + 0.37, lat + 0.21)
]


@pytest.mark.parametrize("position", [TIANANMEN_WGS84, LIBRARY_WGS84, *CHINA_GRID])
def test_the_inverse_round_trips_within_half_a_metre(position):
    back = gcj02_to_wgs84(*wgs84_to_gcj02(*position))
    assert distance_m(back, position) < 0.5
    # In practice the iteration lands within a millimetre.
    assert distance_m(back, position) < 0.001


def test_the_inverse_recovers_the_library_pair_from_its_gcj02_side():
    back = gcj02_to_wgs84(*LIBRARY_GCJ02)
    assert distance_m(back, LIBRARY_WGS84) < 0.001


@pytest.mark.parametrize(
    "position",
    [(-0.1276, 51.5072), (139.6917, 35.6895), (151.2093, -33.8688), (72.0, 40.0)],
    ids=["london", "tokyo", "sydney", "just-west-of-the-box"],
)
def test_positions_outside_china_pass_through_unchanged(position):
    assert wgs84_to_gcj02(*position) == position
    assert gcj02_to_wgs84(*position) == position
