"""A pending appeal of the rated July (tests/fixtures_district.py): 东城区城管执法局 appeals
its c3 record (never came) on 20 July 2026 at 10:00, Beijing time, and what the tests of
appeals and of who may rule on them share.
"""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from tests.conftest import make_person
from tests.fixtures_assessment import Month, bj
from tests.fixtures_district import jpeg_upload, rate_july
from whistle.assessment.actions import rule_on_appeal
from whistle.assessment.editing import appeal_with_photos
from whistle.assessment.models import Appeal
from whistle.notifications.outbox import inbox
from whistle.organisation.models import Person, Role, RoleAssignment

# The trail events of an appeal that nobody may rule on, and of one that found a ruler.
NOBODY = "summons.appeal_nobody_rules"
FOUND = "summons.appeal_ruler_found"


@pytest.fixture(name="_clock", autouse=True)
def july_20_clock_fixture():
    with time_machine.travel(bj(20, 10), tick=False) as traveller:
        yield traveller


@pytest.fixture(name="appealed")
def appealed_fixture(scored: Month) -> Month:
    """The rated July with the c3 record appealed: "came on time", with a photo."""
    rate_july(scored)
    appeal_with_photos(
        scored.urban_officer,
        scored.summonses["c3_urban"],
        "came",
        {"came": "on_time"},
        "执法队员10:20已到场，定位信号弱未能签到",
        evidence="现场执法记录仪视频 10:20",
        photos=[jpeg_upload().read()],
    )
    return scored


@pytest.fixture(name="staffed")
def staffed_fixture(appealed: Any) -> Any:
    """The appealed July with the people who hear that nobody may rule: the district chief
    (`chief`) and a superuser (`root`); 陈 (`chiefs_office`) is the only member of the
    district chiefs' office."""
    appealed.chief = make_person(
        "dongcheng-chief", Role.DISTRICT_CHIEF, jurisdiction=appealed.district
    )
    appealed.root = Person.objects.create_superuser(
        username="root", password="pw-123456", name="root"
    )
    return appealed


def told(person: Person, kind: str = NOBODY) -> list[Any]:
    return list(inbox(person).filter(kind=kind))


def office_role(person: Person, district) -> RoleAssignment:
    return RoleAssignment.objects.get(person=person, role=Role.CHIEFS_OFFICE, jurisdiction=district)


def filed_with_nobody_to_rule(m: Month) -> Appeal:
    """陈 rejects the first appeal of the record, so nobody may rule on the next one."""
    rule_on_appeal(m.chiefs_office, Appeal.objects.get(), False, "无到场记录")
    with time_machine.travel(bj(20, 11), tick=False):
        later = appeal_with_photos(
            m.urban_officer, m.summonses["c3_urban"], "came", {"late_minutes": 5}, "迟到5分钟"
        )
    later.refresh_from_db()
    assert later.nobody_rules_since == bj(20, 11)
    return later
