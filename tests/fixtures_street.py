"""Fixtures of the street pages' and patrols' tests: the people who walk 人民市场东巷, two
categories with keywords, photos of every kind, and cases written as the actions write them.

Import the ``*_fixture`` names; tests ask for ``street`` (a `StreetCity`).

Built on the shared `small_city` (tests/conftest.py): 龙潭街道 with 人民市场东巷, a 204 m
centre line running north from 116.432, 39.872; 东四街道 with 东四六条.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from PIL import Image

from tests.conftest import SmallCity, make_person
from whistle.cases.actions import report_case
from whistle.cases.models import Case
from whistle.cases.signing import init_key
from whistle.organisation.models import Person, Role
from whistle.policies.models import Category, CategoryKind, DistrictPolicy, MajorClass

# Thursday 26 November 2026, 10:00 in Beijing.
MORNING = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
# On 人民市场东巷, a few metres east of its centre line.
ON_THE_LANE = (116.4321, 39.8729)
# 东四六条, in 东四街道.
IN_DONGSI = (116.413, 39.9251)


def png_bytes(size: tuple[int, int] = (8, 8), color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def noisy_jpeg(
    size: tuple[int, int], *, quality: int = 95, exif: bytes | None = None, sigma: int = 20
) -> bytes:
    """A photo-like JPEG: noisy pixels compress about as badly as a phone's photo."""
    image = Image.effect_noise(size, sigma).convert("RGB")
    buffer = io.BytesIO()
    options: dict[str, object] = {"quality": quality}
    if exif is not None:
        options["exif"] = exif
    image.save(buffer, format="JPEG", **options)
    return buffer.getvalue()


def gps_exif() -> bytes:
    """EXIF with a camera make and a GPS position (about 39.87 N, 116.43 E)."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {  # GPSInfo
        1: "N",
        2: (39.0, 52.0, 21.0),
        3: "E",
        4: (116.0, 25.0, 55.0),
    }
    return exif.tobytes()


@dataclass
class StreetCity:
    city: SmallCity
    vending: Category
    garbage: Category
    steward: Person
    lane_chief: Person
    street_chief: Person
    township_chief: Person
    dispatcher: Person
    officer: Person
    assessor: Person
    dongsi_steward: Person

    @property
    def lane(self):
        return self.city.renmin_lane

    @property
    def longtan(self):
        return self.city.longtan


@pytest.fixture(name="street")
def street_fixture(small_city: SmallCity, settings, tmp_path) -> StreetCity:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.WHISTLE_SIGNING_KEY_FILE = str(tmp_path / "keys" / "signing-key.pem")
    init_key()
    cache.clear()
    district = small_city.district
    DistrictPolicy.objects.create(district=district)
    order = MajorClass.objects.create(
        district=district, kind=CategoryKind.EVENT, code="05", name="街面秩序"
    )
    appearance = MajorClass.objects.create(
        district=district, kind=CategoryKind.EVENT, code="01", name="市容环境"
    )
    vending = Category.objects.create(
        major=order, code="01", name="无照经营游商", keywords="游商,小贩,摆摊,占道经营"
    )
    garbage = Category.objects.create(
        major=appearance, code="02", name="暴露垃圾", keywords="垃圾,堆物,渣土"
    )
    lane = small_city.renmin_lane
    return StreetCity(
        city=small_city,
        vending=vending,
        garbage=garbage,
        # Wang Fang, alley steward of 人民市场东巷.
        steward=make_person("wang-fang", Role.STEWARD, lane=lane),
        # Liu Qiang, lane chief of 人民市场东巷.
        lane_chief=make_person("liu-qiang", Role.LANE_CHIEF, lane=lane),
        street_chief=make_person("chen-jing", Role.STREET_CHIEF, lane=lane),
        # Sun Li, chief of lanes of 龙潭街道: every lane of the township.
        township_chief=make_person("sun-li", Role.TOWNSHIP_CHIEF, jurisdiction=small_city.longtan),
        dispatcher=make_person("zhang-wei", Role.DISPATCHER, jurisdiction=small_city.longtan),
        officer=make_person(
            "zhou-min", Role.DEPARTMENT_OFFICER, department=small_city.urban_management
        ),
        assessor=make_person("li-na", Role.DISTRICT_ASSESSOR, jurisdiction=district),
        dongsi_steward=make_person("ma-lin", Role.STEWARD, lane=small_city.dongsi_lane),
    )


def reported(person: Person, description: str = "人民市场东巷有游商占道经营", **extra) -> Case:
    """A case reported through the action, on 人民市场东巷 unless told otherwise."""
    lon, lat = extra.pop("position", ON_THE_LANE)
    return report_case(person, description=description, lon=lon, lat=lat, **extra)
