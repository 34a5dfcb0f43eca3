"""天坛街道, a township of the small city with four lanes and two stations on a grid
(tests/test_reachability.py computes its coverage by hand)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import square
from whistle.organisation.models import CentreMembership, Department, Jurisdiction, Lane
from whistle.policies.models import DistrictPolicy, WhistleRule


def line(lat: float, west: float, east: float) -> dict:
    return {"type": "LineString", "coordinates": [[west, lat], [east, lat]]}


@pytest.fixture(name="grid")
def grid_fixture(small_city):
    city = small_city
    tiantan = Jurisdiction.objects.create(
        level="township",
        form="street_office",
        code="110101016",
        name="天坛街道",
        parent=city.district,
        boundary=square(116.38, 39.89, 0.14),
    )
    for name, geometry in (
        ("北一条", line(39.91, 116.39, 116.41)),
        ("北二条", line(39.92, 116.39, 116.41)),
        ("东一条", line(39.905, 116.49, 116.51)),
        ("远巷", line(39.95, 116.44, 116.46)),
    ):
        Lane.objects.create(name=name, township=tiantan, centre_line=geometry)
    urban, police = city.urban_management, city.police
    urban.station_lon, urban.station_lat = 116.60, 39.80
    urban.save()
    police.station_lon, police.station_lat = 116.50, 39.90
    police.save()
    fire = Department.objects.create(
        code="dc-tiantan-xf",
        name="天坛消防救援站",
        kind="dispatched",
        sector=police.sector,
        district=city.district,
    )
    CentreMembership.objects.create(
        township=tiantan, department=urban, role="core", station_lon=116.40, station_lat=39.90
    )
    CentreMembership.objects.create(township=tiantan, department=police, role="stationed")
    CentreMembership.objects.create(township=tiantan, department=fire, role="on_call")
    DistrictPolicy.objects.create(
        district=city.district, travel_detour_factor=Decimal("1.5"), travel_speeds="0:30,7:12"
    )
    WhistleRule.objects.create(district=city.district, kind="routine", arrive_within=10)
    return tiantan


@pytest.fixture(name="row")
def row_fixture(grid, small_city):
    """试验街道, beside 天坛街道 in the same district (detour 1.5, 12 km/h from 7:00, arrival
    within 10 minutes: 1333.33 m of straight line at 08:00): three lanes in a row on 39.90°N
    and two to the north, and 城管 stationed at 丁巷's midpoint (tests/test_reachability.py
    works out where one more station helps)."""
    shiyan = Jurisdiction.objects.create(
        level="township",
        form="street_office",
        code="110101017",
        name="试验街道",
        parent=grid.parent,
        boundary=square(116.29, 39.89, 0.13),
    )
    for name, geometry in (
        ("甲巷", line(39.90, 116.300, 116.302)),
        ("乙巷", line(39.90, 116.312, 116.314)),
        ("丙巷", line(39.90, 116.324, 116.326)),
        ("丁巷", line(39.93, 116.300, 116.302)),
        ("戊巷", line(39.96, 116.400, 116.402)),
    ):
        Lane.objects.create(name=name, township=shiyan, centre_line=geometry)
    CentreMembership.objects.create(
        township=shiyan,
        department=small_city.urban_management,
        role="core",
        station_lon=116.301,
        station_lat=39.93,
    )
    return shiyan
