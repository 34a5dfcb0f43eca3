"""The admin's lists name places, departments and sectors in the page's language, in their
columns and in their filters, as its forms' choices do (`ScopedLists` in
whistle/organisation/admin_scope.py); a place without an English name keeps its name."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from whistle.organisation.models import CentreMembership, Jurisdiction, Lane, Sector
from whistle.policies.models import CategoryKind, MajorClass

pytestmark = pytest.mark.django_db


@pytest.fixture
def english_names(small_city):
    small_city.longtan.name_en = "Longtan Subdistrict"
    small_city.longtan.save()
    small_city.xizhaosi.name_en = "Xizhaosi Community"
    small_city.xizhaosi.save()
    small_city.district.name_en = "Dongcheng District"
    small_city.district.save()
    small_city.police.name_en = "Longtan Police Station"
    small_city.police.save()
    Sector.objects.filter(code="public_security").update(name_en="Public security")
    return small_city


def column(html: str, name: str) -> list[str]:
    """The texts of a list's column, row by row."""
    cells = re.findall(rf'<t[dh] class="field-{name}[^"]*">(.*?)</t[dh]>', html, re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


def filter_choices(html: str, title: str) -> list[str]:
    """The choices of the filter titled `title` ("By township"), "All" left out."""
    found = re.search(rf"<summary>\s*{title}\s*</summary>(.*?)</details>", html, re.S)
    assert found, title
    return [text for text in re.findall(r'<a href="[^"]*">([^<]*)</a>', found.group(1))][1:]


def page(client, url: str, language: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, url
    return response.content.decode()


def test_an_english_list_names_townships_and_communities_in_english_in_its_columns_and_filter(
    admin_client, english_names
):
    html = page(admin_client, "/admin/organisation/lane/?o=1", "en")
    # 东四街道 and 东四南社区 have no English name: they keep their names.
    assert column(html, "township") == ["东四街道", "Longtan Subdistrict"]
    assert column(html, "community") == ["东四南社区", "Xizhaosi Community"]
    assert sorted(filter_choices(html, "By township")) == ["Longtan Subdistrict", "东四街道"]


def test_a_chinese_list_names_them_as_before(admin_client, english_names):
    html = page(admin_client, "/admin/organisation/lane/?o=1", "zh-hans")
    assert column(html, "township") == ["东四街道", "龙潭街道"]
    assert column(html, "community") == ["东四南社区", "夕照寺社区"]
    assert sorted(filter_choices(html, "以 街乡")) == ["东四街道", "龙潭街道"]
    assert "Longtan" not in html and "Xizhaosi" not in html


@pytest.mark.parametrize(
    ("language", "district", "police", "sector", "by_district", "by_sector"),
    [
        ("en", "Dongcheng District", "Longtan Police Station", "Public security", "By district",
         "By sector"),
        ("zh-hans", "东城区", "龙潭派出所", "公安", "以 区", "以 职能领域"),
    ],
)  # fmt: skip
def test_lists_of_every_app_name_districts_departments_and_sectors_in_the_pages_language(
    admin_client, english_names, language, district, police, sector, by_district, by_sector
):
    city = english_names
    # 西城区 has no English name: it keeps its name.
    xicheng = Jurisdiction.objects.create(
        level="district", code="110102", name="西城区", parent=city.city
    )
    html = page(admin_client, "/admin/organisation/department/?o=1", language)
    assert column(html, "district") == [district, district]
    assert sector in column(html, "sector")
    assert sector in filter_choices(html, by_sector)
    assert sorted(filter_choices(html, by_district)) == sorted([district, "西城区"])
    CentreMembership.objects.create(
        township=city.longtan, department=city.police, role=CentreMembership.Role.STATIONED
    )
    html = page(admin_client, "/admin/organisation/centremembership/", language)
    assert column(html, "department") == [police]
    for place in (city.district, xicheng):
        MajorClass.objects.create(
            district=place, kind=CategoryKind.EVENT, code="05", name="街面秩序"
        )
    html = page(admin_client, "/admin/policies/majorclass/", language)
    assert sorted(column(html, "district")) == sorted([district, "西城区"])
    # A category's district, by its major class.
    html = page(admin_client, "/admin/policies/category/", language)
    assert sorted(filter_choices(html, by_district)) == sorted([district, "西城区"])


def test_a_list_sorts_by_a_named_column_as_by_the_field(admin_client, english_names):
    html = page(admin_client, "/admin/organisation/lane/?o=-2", "en")
    assert column(html, "township") == ["Longtan Subdistrict", "东四街道"]
    html = page(admin_client, "/admin/organisation/lane/?o=2", "en")
    assert column(html, "township") == ["东四街道", "Longtan Subdistrict"]


def test_a_list_reads_its_named_columns_without_a_query_per_row(admin_client, english_names):
    def queries() -> int:
        with CaptureQueriesContext(connection) as read:
            page(admin_client, "/admin/organisation/lane/", "en")
        return len(read.captured_queries)

    before = queries()
    for number in range(3):
        Lane.objects.create(
            name=f"新巷{number}",
            township=english_names.dongsi,
            community=english_names.chaoyangmen_community,
            centre_line={"type": "LineString", "coordinates": [[116.41, 39.92], [116.411, 39.92]]},
        )
    assert queries() == before
