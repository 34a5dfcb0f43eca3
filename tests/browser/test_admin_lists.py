"""The admin's list of problem categories fits beside the admin's menu and its filters on a
1366 × 768 screen, in Chinese and in English: each category's names, major class, code and
both time limits are read without scrolling sideways."""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.fixtures_cases import WhistleCity, whistle_city_fixture  # noqa: F401
from whistle.organisation.models import Person
from whistle.policies.models import Category, CategoryKind, DurationUnit, MajorClass

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREEN = {"width": 1366, "height": 768}
# A table's width against the width of the box that scrolls it.
TABLE_AND_BOX = """(selector) => {
  const table = document.querySelector(selector);
  return [table.scrollWidth, table.parentElement.clientWidth];
}"""


def long_names(city: WhistleCity) -> None:
    """Categories with the demo city's longest names, in both languages."""
    culture = MajorClass.objects.create(
        district=city.city.district,
        kind=CategoryKind.COMPONENT,
        code="03",
        name="市容环境",
        name_en="Cityscape and environment",
    )
    for code, name, name_en in [
        ("01", "无证演出和文化经营", "Unlicensed performance or cultural business"),
        ("02", "消防设施缺失或过期", "Missing or expired fire equipment"),
        ("03", "街头散发广告", "Handing out flyers in the street"),
    ]:
        Category.objects.create(
            major=culture,
            code=code,
            name=name,
            name_en=name_en,
            acknowledge_within=30,
            acknowledge_unit=DurationUnit.NATURAL_MINUTES,
            resolve_within=2,
            resolve_unit=DurationUnit.WORKING_DAYS,
        )


@pytest.mark.parametrize(
    ("language", "headers", "limits"),
    [
        ("zh-hans", ["名称", "问题大类", "签收时限", "处置时限"], ["30 自然分钟", "2 工作日"]),
        ("en", ["Name", "Major class", "Acknowledge within", "Resolve within"], ["30 minutes"]),
    ],
)
def test_the_category_list_fits_beside_the_menu_and_filters_at_1366_px(
    new_page, live_server, shots, whistle_city, language, headers, limits
):
    long_names(whistle_city)
    root = Person.objects.create_superuser("root", password="pw-123456")
    client = Client()
    client.force_login(root)
    page = new_page(SCREEN)
    session = client.cookies["sessionid"].value
    page.context.add_cookies(
        [
            {"name": "sessionid", "value": session, "url": live_server.url},
            {"name": "django_language", "value": language, "url": live_server.url},
        ]
    )
    page.goto("/admin/policies/category/")
    expect(page.locator("#changelist-filter")).to_be_visible()
    width, box = page.evaluate(TABLE_AND_BOX, "#result_list")
    assert width <= box
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # The last column, the time limits before it, lies inside the screen.
    right = page.locator("#result_list thead th").last.evaluate(
        "el => el.getBoundingClientRect().right"
    )
    assert right <= SCREEN["width"]
    head = page.locator("#result_list thead")
    for header in headers:
        expect(head).to_contain_text(header, ignore_case=True)
    row = page.locator("#result_list tbody tr", has_text="无证演出和文化经营")
    expect(row).to_contain_text("Unlicensed performance or cultural business")
    for limit in limits:
        expect(row).to_contain_text(limit)
    shots(page, f"category-list-{language}")
