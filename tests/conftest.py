"""Shared fixtures: a small city with two townships and the people of each role."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from whistle.organisation.models import (
    Department,
    Jurisdiction,
    Lane,
    Person,
    Role,
    RoleAssignment,
    Sector,
)


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def square(lon: float, lat: float, size: float = 0.01) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
        ],
    }


@dataclass
class SmallCity:
    city: Jurisdiction
    district: Jurisdiction
    longtan: Jurisdiction
    dongsi: Jurisdiction
    xizhaosi: Jurisdiction
    chaoyangmen_community: Jurisdiction
    renmin_lane: Lane
    dongsi_lane: Lane
    urban_management: Department
    police: Department


@pytest.fixture
def small_city(db) -> SmallCity:
    city = Jurisdiction.objects.create(level="city", code="110000", name="北京市")
    district = Jurisdiction.objects.create(
        level="district",
        code="110101",
        name="东城区",
        parent=city,
        boundary=square(116.38, 39.85, 0.1),
    )
    longtan = Jurisdiction.objects.create(
        level="township",
        form="street_office",
        code="110101015",
        name="龙潭街道",
        parent=district,
        boundary=square(116.43, 39.87),
    )
    dongsi = Jurisdiction.objects.create(
        level="township",
        form="street_office",
        code="110101006",
        name="东四街道",
        parent=district,
        boundary=square(116.41, 39.92),
    )
    xizhaosi = Jurisdiction.objects.create(
        level="community",
        form="community",
        code="110101015001",
        name="夕照寺社区",
        parent=longtan,
        boundary=square(116.43, 39.87, 0.005),
    )
    dongsi_community = Jurisdiction.objects.create(
        level="community",
        form="community",
        code="110101006001",
        name="东四南社区",
        parent=dongsi,
        boundary=square(116.41, 39.92, 0.005),
    )
    renmin = Lane.objects.create(
        name="人民市场东巷",
        township=longtan,
        community=xizhaosi,
        centre_line={"type": "LineString", "coordinates": [[116.432, 39.872], [116.432, 39.87384]]},
    )
    dongsi_lane = Lane.objects.create(
        name="东四六条",
        township=dongsi,
        community=dongsi_community,
        centre_line={"type": "LineString", "coordinates": [[116.412, 39.925], [116.416, 39.925]]},
    )
    um = Sector.objects.create(code="urban_management", name="城市管理")
    ps = Sector.objects.create(code="public_security", name="公安")
    urban = Department.objects.create(
        code="dc-cgw", name="东城区城管执法局", kind="functional", sector=um, district=district
    )
    police = Department.objects.create(
        code="dc-longtan-pcs", name="龙潭派出所", kind="dispatched", sector=ps, district=district
    )
    police.serves.add(longtan)
    return SmallCity(
        city,
        district,
        longtan,
        dongsi,
        xizhaosi,
        dongsi_community,
        renmin,
        dongsi_lane,
        urban,
        police,
    )


def make_person(username: str, role: str, **scope) -> Person:
    person = Person.objects.create_user(username=username, password="pw-123456", name=username)
    RoleAssignment.objects.create(person=person, role=role, **scope)
    return person


@pytest.fixture
def lane_chief(small_city) -> Person:
    return make_person("lane-chief", Role.LANE_CHIEF, lane=small_city.renmin_lane)

