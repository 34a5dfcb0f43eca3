"""The 1+5+N staffing of the townships: core, stationed and on-call departments with their
named people; the district sees every township, a township its own; query counts.

龙潭街道's centre (tests/fixtures_cases.py): 城管 at the core with urban-officer
(13800000001), 龙潭派出所 stationed with police-officer, 天坛消防救援站 on call with
fire-officer. 东四街道 has no centre yet.
"""

from __future__ import annotations

import pytest

from tests.conftest import make_person
from tests.fixtures_cases import whistle_city_fixture  # noqa: F401  (fixture)
from tests.fixtures_district import CENTRES
from whistle.organisation.models import (
    CentreMembership,
    Department,
    Jurisdiction,
    Person,
    Role,
    Sector,
)

pytestmark = pytest.mark.django_db


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def centre_html(html: str, township: Jurisdiction) -> str:
    part = html[html.index(f'id="centre-{township.code}"') :]
    return part[: part.index("</section>")]


def test_the_district_sees_every_townships_centre_with_its_people(client, whistle_city):
    city = whistle_city
    client.force_login(city.district_office)
    html = html_of(client.get(CENTRES))
    longtan = centre_html(html, city.longtan)
    assert "1 + 1 + 1" in longtan
    for words in (
        "东城区城管执法局",
        "urban-officer",
        "13800000001",
        "龙潭派出所",
        "police-officer",
    ):
        assert words in longtan, words
    assert longtan.index("主体（城管）") < longtan.index("常驻") < longtan.index("天坛消防救援站")
    assert 'href="tel:13800000001"' in longtan
    dongsi = centre_html(html, city.city.dongsi)
    assert "0 + 0 + 0" in dongsi and "缺少核心执法队" in dongsi
    assert "尚未登记综合执法中心成员。" in dongsi and "<table" not in dongsi


def test_a_member_without_named_people_is_flagged(client, whistle_city):
    city = whistle_city
    CentreMembership.objects.create(township=city.longtan, department=city.housing, role="on_call")
    client.force_login(city.district_office)
    longtan = centre_html(html_of(client.get(CENTRES)), city.longtan)
    assert "1 个成员单位未明确专人" in longtan and "未明确专人" in longtan
    assert "1 + 1 + 2" in longtan


@pytest.mark.parametrize("who", ["assessor", "dispatcher", "township_chief", "township_office"])
def test_a_township_sees_its_own_centre_only(client, whistle_city, who):
    city = whistle_city
    client.force_login(getattr(city, who))
    html = html_of(client.get(CENTRES))
    assert f'id="centre-{city.longtan.code}"' in html
    assert f'id="centre-{city.city.dongsi.code}"' not in html


@pytest.mark.parametrize("who", ["urban_officer", "steward", "resident", "lane_chief"])
def test_the_centres_page_refuses_everyone_else(client, whistle_city, who):
    client.force_login(getattr(whistle_city, who))
    assert client.get(CENTRES).status_code == 403


def test_the_centres_page_runs_a_fixed_number_of_queries_with_twenty_townships(
    client, whistle_city, django_assert_max_num_queries
):
    city = whistle_city
    sector = Sector.objects.create(code="culture", name="文化")
    departments = [
        Department.objects.create(
            code=f"dc-n-{n}",
            name=f"东城区部门{n}",
            kind="functional",
            sector=sector,
            district=city.district,
        )
        for n in range(7)
    ]
    people = [
        Person.objects.create_user(username=f"duty-{n}", password="x", name=f"值班员{n}")
        for n in range(14)
    ]
    for t in range(20):
        township = Jurisdiction.objects.create(
            level="township", code=f"110101{200 + t}", name=f"测试街道{t}", parent=city.district
        )
        for index, department in enumerate(departments):
            role = "core" if index == 0 else ("stationed" if index < 6 else "on_call")
            membership = CentreMembership.objects.create(
                township=township, department=department, role=role
            )
            membership.people.add(people[index], people[index + 7])
    office = make_person("office-2", Role.CHIEFS_OFFICE, jurisdiction=city.district)
    client.force_login(office)
    with django_assert_max_num_queries(10):
        html = html_of(client.get(CENTRES))
    assert html.count('class="card centre"') == 22
    assert "1 + 5 + 1" in html
