"""Fixtures of the assessment and district pages' tests, on top of the assessment's July
(tests/fixtures_assessment.py): 东城区 under the one-third scheme, its district inspection
entered for July, the records brought up to date, and helpers to post the pages' forms.

Import ``scored_july_fixture`` and ask for ``scored`` (a `Month`), or import
``rated_july_fixture`` as well and ask for ``rated`` (the same, rated by the townships).
Importing ``july_28_clock_fixture`` stops the module's clock at 28 July 2026, 10:00 in
Beijing, for every test of the module (``_clock``, to move it on).
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from tests.conftest import SmallCity, make_person
from tests.fixtures_assessment import (
    INSPECTION_JULY,
    Month,
    Story,
    bj,
    july_fixture,  # noqa: F401  (fixture)
    scheme_one_third,
)
from whistle.assessment.actions import rate_summons
from whistle.assessment.components import import_component_scores
from whistle.assessment.engine import update_scores
from whistle.assessment.late_bands import bands_text
from whistle.assessment.periods import Period
from whistle.cases.trail import EventKind
from whistle.organisation.models import Department, Role, Sector

# The pages of the two URL modules.
HOME = "/assessment/"
DEPARTMENT = "/assessment/department/"
APPEALS = "/assessment/appeals/"
SCHEME = "/assessment/scheme/"


def scheme_field_posted(name: str, value: Any) -> str:
    """A scheme setting as the new-version form posts it: bands one a line ("10 min: 10
    points"), an empty choice (a summons nobody rated left out) as an empty value."""
    if name == "late_bands":
        return bands_text(value)
    return "" if value is None else str(value)


RANKINGS = "/district/rankings/"
CENTRES = "/district/centres/"


def enter_inspection(month: Month, folder: Path, period: str = "2026-07") -> None:
    path = folder / "inspection.csv"
    lines = ["department,component,period,score"]
    lines += [f"{code},inspection,{period},{score}" for code, score in INSPECTION_JULY.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_component_scores(path, month.district)
    assert report.errors == []


@pytest.fixture(name="scored")
def scored_july_fixture(july: Month, tmp_path, settings) -> Month:
    """July 2026 in 东城区, scored under the one-third scheme with the district's inspection;
    nobody has rated yet (c1…c7 as in tests/fixtures_assessment.py)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    scheme_one_third(july.district)
    update_scores()
    enter_inspection(july, tmp_path)
    return july


def rate_july(month: Month) -> None:
    """The townships' ratings of July, as in tests/test_assessment.py: before any appeal,
    城管 71.06 → 83.69 (2nd), 派出所 94.90 → 84.97 (1st), 市场监管 68.50 → 69.50 (3rd)."""
    s = month.summonses
    # Each case's summonses on the morning after the case's last event.
    with time_machine.travel(bj(7, 9), tick=False):
        rate_summons(month.longtan_assessor, s["c1_urban"], 5, "到场快，处置彻底")
        rate_summons(month.longtan_assessor, s["c1_police"], 4, "")
    with time_machine.travel(bj(11, 9), tick=False):
        rate_summons(month.longtan_assessor, s["c2_market"], 3, "返工一次")
    with time_machine.travel(bj(16, 9), tick=False):
        rate_summons(month.dongsi_dispatcher, s["c3_urban"], 1, "未到场")
        rate_summons(month.dongsi_dispatcher, s["c3_market"], 4, "")
    with time_machine.travel(bj(23, 9), tick=False):
        rate_summons(month.longtan_assessor, s["c5_urban"], 4, "")
    with time_machine.travel(bj(25, 9), tick=False):
        rate_summons(month.dongsi_dispatcher, s["c7_urban"], 4, "")
    update_scores()


@pytest.fixture(name="rated")
def rated_july_fixture(scored: Month) -> Month:
    """July 2026 as ``scored``, rated by the townships (`rate_july`), before any appeal."""
    rate_july(scored)
    return scored


@pytest.fixture(name="_clock", autouse=True)
def july_28_clock_fixture():
    """28 July 2026, 10:00 in Beijing: July's records all rated, the month still open. Used
    by every test of a module that imports it; ask for ``_clock`` to move it on."""
    with time_machine.travel(bj(28, 10), tick=False) as traveller:
        yield traveller


def more_departments(month: Month, count: int, cases_each: int = 1) -> list[Department]:
    """`count` more departments of the district, each summoned by 龙潭 `cases_each` times in
    July, on time and handled, the cases closed; scores brought up to date."""
    sector = Sector.objects.create(code="extra", name="其他")
    made = []
    for n in range(count):
        department = Department.objects.create(
            code=f"dc-extra-{n:02d}",
            name=f"东城区测试部门{n:02d}",
            kind="functional",
            sector=sector,
            district=month.district,
        )
        made.append(department)
        for k in range(cases_each):
            at = bj(19, 8) + timedelta(hours=n % 10, minutes=k)
            story = Story(month.longtan, at, month.longtan_assessor)
            (summons,) = story.whistle(at + timedelta(minutes=5), department)
            story.event(EventKind.CHECK_IN_ACCEPTED, at + timedelta(minutes=20), summons)
            story.event(EventKind.RESULT, at + timedelta(minutes=50), summons)
            story.close(at + timedelta(minutes=55))
    update_scores()
    return made


def recent_month(city: SmallCity, folder: Path) -> tuple[Month, Period]:
    """Two whistles of the last few hours, for the browser tests (whose live server and
    browser share the real clock): c1 in 龙潭 (城管 on time, 派出所 7 minutes late), c3 in 东四
    (城管 never came, 市场监管 on time), both closed and rated three hours ago. Returns the
    people and summonses as a `Month`, and the month they belong to."""
    market = Department.objects.create(
        code="dc-scjgj",
        name="东城区市场监管局",
        kind="functional",
        sector=Sector.objects.create(code="market", name="市场监管"),
        district=city.district,
    )
    people = {
        "longtan_assessor": make_person(
            "liu-assessor", Role.TOWNSHIP_ASSESSOR, jurisdiction=city.longtan
        ),
        "dongsi_dispatcher": make_person(
            "zhao-dispatcher", Role.DISPATCHER, jurisdiction=city.dongsi
        ),
        "urban_officer": make_person(
            "wang-officer", Role.DEPARTMENT_OFFICER, department=city.urban_management
        ),
        "police_officer": make_person(
            "sun-officer", Role.DEPARTMENT_OFFICER, department=city.police
        ),
        "chiefs_office": make_person("chen-office", Role.CHIEFS_OFFICE, jurisdiction=city.district),
        "district_assessor": make_person(
            "he-assessor", Role.DISTRICT_ASSESSOR, jurisdiction=city.district
        ),
    }
    scheme_one_third(city.district)
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=6)

    def minute(n: int) -> datetime:
        return start + timedelta(minutes=n)

    urban, police = city.urban_management, city.police
    s: dict[str, Any] = {}
    c1 = Story(city.longtan, minute(-10), people["longtan_assessor"])
    s["c1_urban"], s["c1_police"] = c1.whistle(minute(0), urban, police)
    c1.event(EventKind.CHECK_IN_ACCEPTED, minute(20), s["c1_urban"])
    c1.event(EventKind.CHECK_IN_ACCEPTED, minute(37), s["c1_police"])
    c1.event(EventKind.RESULT, minute(60), s["c1_urban"])
    c1.event(EventKind.RESULT, minute(65), s["c1_police"])
    c1.close(minute(120))
    c3 = Story(city.dongsi, minute(0), people["dongsi_dispatcher"])
    s["c3_urban"], s["c3_market"] = c3.whistle(minute(10), urban, market)
    c3.event(EventKind.CHECK_IN_ACCEPTED, minute(35), s["c3_market"])
    c3.event(EventKind.ARRIVE_OVERDUE, minute(40), s["c3_urban"])
    c3.event(EventKind.RESULT, minute(90), s["c3_market"])
    c3.close(minute(120))
    rated_at = minute(180)
    rate_summons(people["longtan_assessor"], s["c1_urban"], 5, "到场快，处置彻底", now=rated_at)
    rate_summons(people["longtan_assessor"], s["c1_police"], 4, "", now=rated_at)
    rate_summons(people["dongsi_dispatcher"], s["c3_urban"], 1, "未到场", now=rated_at)
    rate_summons(people["dongsi_dispatcher"], s["c3_market"], 4, "", now=rated_at)
    update_scores()
    month = Period.month_of(timezone.localtime(minute(0)).date())
    built = Month(
        district=city.district,
        longtan=city.longtan,
        dongsi=city.dongsi,
        urban=urban,
        police=police,
        market=market,
        stories={"c1": c1, "c3": c3},
        summonses=s,
        **people,
    )
    enter_inspection(built, folder, month.key)
    return built, month


def post_form(client, url: str, op: str, target: str, prefix: str, **fields: Any):
    data: dict[str, Any] = {"op": op, "target": target}
    for name, value in fields.items():
        data[f"{prefix}-{name}"] = value
    return client.post(url, data)


def jpeg_upload(name: str = "evidence.jpg", size: tuple[int, int] = (80, 60)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


__all__ = [
    "APPEALS",
    "CENTRES",
    "DEPARTMENT",
    "HOME",
    "RANKINGS",
    "SCHEME",
    "bj",
    "enter_inspection",
    "jpeg_upload",
    "july_28_clock_fixture",
    "more_departments",
    "post_form",
    "rate_july",
    "rated_july_fixture",
    "recent_month",
    "scored_july_fixture",
]
