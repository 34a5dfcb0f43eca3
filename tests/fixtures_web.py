"""Fixtures of the web pages' tests: the people of the small city and cases to show them.

Import the ``*_fixture`` names; tests ask for the plain names (``dispatcher``, ``steward``…).

Cases and summonses are written directly: these tests read them, the actions that create
them are tested in the cases app.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.conftest import SmallCity, make_person
from whistle.cases.models import Case, Summons
from whistle.organisation.models import Department, Jurisdiction, Lane, Person, Role


def make_case(
    township: Jurisdiction,
    *,
    at: datetime,
    lane: Lane | None = None,
    status: str = Case.Status.FILED,
    lon: float = 116.432,
    lat: float = 39.873,
) -> Case:
    return Case.objects.create(
        source=Case.Source.STEWARD,
        status=status,
        description="井盖破损",
        lon=lon,
        lat=lat,
        district=township.parent,
        township=township,
        lane=lane,
        reported_at=at,
    )


def make_summons(
    case: Case, department: Department, *, at: datetime, arrive_in: timedelta | None
) -> Summons:
    return Summons.objects.create(
        case=case,
        department=department,
        summoned_at=at,
        acknowledge_due_at=at + timedelta(minutes=10),
        arrive_due_at=at + arrive_in if arrive_in is not None else None,
        resolve_due_at=at + timedelta(days=2),
    )


@pytest.fixture(name="dispatcher")
def dispatcher_fixture(small_city: SmallCity) -> Person:
    """Zhang Wei dispatches for 龙潭街道."""
    return make_person("zhang-wei", Role.DISPATCHER, jurisdiction=small_city.longtan)


@pytest.fixture(name="assessor")
def assessor_fixture(small_city: SmallCity) -> Person:
    """Li Na assesses for the whole of 东城区."""
    return make_person("li-na", Role.DISTRICT_ASSESSOR, jurisdiction=small_city.district)


@pytest.fixture(name="steward")
def steward_fixture(small_city: SmallCity) -> Person:
    """Wang Fang is the alley steward of 人民市场东巷."""
    return make_person("wang-fang", Role.STEWARD, lane=small_city.renmin_lane)


@pytest.fixture(name="resident")
def resident_fixture(small_city: SmallCity) -> Person:
    """Zhao Lei lives in 龙潭 and holds only the resident role."""
    return make_person("zhao-lei", Role.RESIDENT)
