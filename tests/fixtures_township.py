"""The people of the township's powers in the small city: the district that registers
matters and decides on recommendations, and the townships that answer and recommend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.conftest import SmallCity, make_person
from whistle.organisation.models import Person, Role
from whistle.township import actions
from whistle.township.models import MajorMatter

BEIJING = ZoneInfo("Asia/Shanghai")


def bj(day: int, hour: int, minute: int = 0, month: int = 9) -> datetime:
    """A moment of September 2026 (unless told) in Beijing time, as aware UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


@dataclass
class Powers:
    city: SmallCity
    district_chief: Person
    district_office: Person
    longtan_chief: Person
    longtan_office: Person
    longtan_dispatcher: Person
    dongsi_chief: Person


@pytest.fixture(name="powers")
def powers_fixture(small_city) -> Powers:
    city = small_city
    return Powers(
        city,
        make_person("zhang-district-chief", Role.DISTRICT_CHIEF, jurisdiction=city.district),
        make_person("wang-district-office", Role.CHIEFS_OFFICE, jurisdiction=city.district),
        make_person("li-longtan-chief", Role.TOWNSHIP_CHIEF, jurisdiction=city.longtan),
        make_person("zhou-longtan-office", Role.CHIEFS_OFFICE, jurisdiction=city.longtan),
        make_person("sun-longtan-dispatcher", Role.DISPATCHER, jurisdiction=city.longtan),
        make_person("xun-dongsi-chief", Role.TOWNSHIP_CHIEF, jurisdiction=city.dongsi),
    )


def register_market_plan(p: Powers) -> MajorMatter:
    """On 1 September the district asks 龙潭 and 东四 about a market's relocation: opinions
    by 10 September 18:00, its responses by 20 September 18:00."""
    with time_machine.travel(bj(1, 9), tick=False):
        return actions.register_matter(
            p.district_office,
            p.city.district,
            kind="plan",
            title="光明楼农贸市场搬迁规划",
            description="市场拟迁至左安门内大街以东，征求沿线街道意见。",
            townships=[p.city.longtan, p.city.dongsi],
            opinions_due_at=bj(10, 18),
            responses_due_at=bj(20, 18),
        )
