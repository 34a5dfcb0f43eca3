"""A written address placed on the district's lanes (no outside geocoder): the lane it names,
halfway along; lanes of the same name told apart by the township or community named; an
address naming no lane, or two, places nothing."""

from __future__ import annotations

import pytest

from whistle.organisation.addresses import AddressNotPlaced, Gazetteer, place_address
from whistle.organisation.models import Lane

# 人民市场东巷 runs north from (116.432, 39.872) to (116.432, 39.87384).
RENMIN_HALFWAY = (116.432, 39.87292)


def test_the_lane_an_address_names_places_it_halfway_along(small_city):
    placed = place_address(small_city.district, "北京市东城区人民市场东巷3号门前")
    assert placed.lane == small_city.renmin_lane
    assert (placed.lon, placed.lat) == pytest.approx(RENMIN_HALFWAY, abs=1e-6)


def test_full_width_digits_and_spaces_do_not_hide_the_lane(small_city):
    placed = place_address(small_city.district, "东城区 人民 市场东巷 ３号")
    assert placed.lane == small_city.renmin_lane


def test_a_longer_name_wins_over_a_name_inside_it(small_city):
    Lane.objects.create(
        name="东四",
        township=small_city.dongsi,
        centre_line={"type": "LineString", "coordinates": [[116.41, 39.92], [116.411, 39.92]]},
    )
    assert place_address(small_city.district, "东四六条5号").lane == small_city.dongsi_lane


def test_lanes_of_one_name_are_told_apart_by_the_township_or_community(small_city):
    twin = Lane.objects.create(
        name="人民市场东巷",
        township=small_city.dongsi,
        centre_line={"type": "LineString", "coordinates": [[116.41, 39.92], [116.411, 39.92]]},
    )
    with pytest.raises(AddressNotPlaced, match="人民市场东巷"):
        place_address(small_city.district, "人民市场东巷3号")
    assert place_address(small_city.district, "东四街道人民市场东巷3号").lane == twin
    by_community = place_address(small_city.district, "夕照寺社区人民市场东巷3号")
    assert by_community.lane == small_city.renmin_lane


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("", "地址"),
        ("   ", "地址"),
        ("东城区某某路1号", "没有本区的街巷"),
        ("人民市场东巷与东四六条交叉口", "人民市场东巷、东四六条"),
    ],
)
def test_an_address_naming_no_lane_or_two_places_nothing(small_city, address, says):
    with pytest.raises(AddressNotPlaced) as refused:
        Gazetteer(small_city.district).place(address)
    assert says in str(refused.value)


def test_only_the_districts_own_lanes_are_read(small_city):
    from whistle.organisation.models import Jurisdiction

    other = Jurisdiction.objects.create(
        level="district", code="110102", name="西城区", parent=small_city.city
    )
    with pytest.raises(AddressNotPlaced):
        place_address(other, "人民市场东巷3号")
