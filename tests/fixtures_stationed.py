"""The people of the stationed staff's management in the small city: 龙潭街道's chief of
lanes, its chiefs' office and its dispatcher (the centre's keeper), the police station's
head, and two police officers stationed in the townships' enforcement centres."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
import time_machine

from tests.conftest import SmallCity, make_person
from tests.fixtures_township import bj
from whistle.organisation.models import CentreMembership, Department, Person, Role, Sector
from whistle.township import stationed_actions
from whistle.township.stationed import Stationing


@dataclass
class Centre:
    city: SmallCity
    police_in_longtan: CentreMembership
    police_in_dongsi: CentreMembership
    urban_on_call: CentreMembership
    longtan_chief: Person
    longtan_office: Person
    longtan_dispatcher: Person
    longtan_assessor: Person
    dongsi_chief: Person
    police_head: Person
    officer_ma: Person
    officer_niu: Person


@pytest.fixture(name="centre")
def centre_fixture(small_city) -> Centre:
    city = small_city
    return Centre(
        city,
        CentreMembership.objects.create(
            township=city.longtan, department=city.police, role="stationed"
        ),
        CentreMembership.objects.create(
            township=city.dongsi, department=city.police, role="stationed"
        ),
        CentreMembership.objects.create(
            township=city.longtan, department=city.urban_management, role="on_call"
        ),
        make_person("li-longtan-chief", Role.TOWNSHIP_CHIEF, jurisdiction=city.longtan),
        make_person("zhou-longtan-office", Role.CHIEFS_OFFICE, jurisdiction=city.longtan),
        make_person("sun-longtan-dispatcher", Role.DISPATCHER, jurisdiction=city.longtan),
        make_person("liu-longtan-assessor", Role.TOWNSHIP_ASSESSOR, jurisdiction=city.longtan),
        make_person("xun-dongsi-chief", Role.TOWNSHIP_CHIEF, jurisdiction=city.dongsi),
        make_person("zhao-police-head", Role.DEPARTMENT_HEAD, department=city.police),
        make_person("ma-police-officer", Role.DEPARTMENT_OFFICER, department=city.police),
        make_person("niu-police-officer", Role.DEPARTMENT_OFFICER, department=city.police),
    )


def station_ma(c: Centre, started_on: date = date(2026, 9, 1)) -> Stationing:
    """On 31 August 龙潭's chiefs' office stations officer 马 of the police station from
    1 September."""
    with time_machine.travel(bj(31, 10, month=8), tick=False):
        return stationed_actions.station_person(
            c.longtan_office,
            c.police_in_longtan,
            c.officer_ma,
            post="社区民警",
            started_on=started_on,
        )


def fire_in_longtan(c: Centre) -> tuple[CentreMembership, Person]:
    """天坛消防救援站 stations people in 龙潭's centre too; 张建晨 is one of its firefighters."""
    fire = Department.objects.create(
        code="dc-tiantan-fire",
        name="天坛消防救援站",
        kind="dispatched",
        sector=Sector.objects.create(code="fire_rescue", name="消防救援"),
        district=c.city.district,
    )
    membership = CentreMembership.objects.create(
        township=c.city.longtan, department=fire, role="stationed"
    )
    firefighter = make_person("zhang-firefighter", Role.DEPARTMENT_OFFICER, department=fire)
    firefighter.name = "张建晨"
    firefighter.save(update_fields=["name"])
    return membership, firefighter
