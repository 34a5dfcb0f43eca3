"""The reachability page in a real browser, on a desktop and on a phone: the district's
assessor picks 天坛街道 and 08:00 (tests/fixtures_reachability.py), sees the two lanes no one
reaches in time at the top of the table, the map draws the four lanes, the two stations and
the two places suggested for one more station (北二条's midpoint, then 远巷's: 4.7 km apart,
no place reaches both within 1333.33 m), the day's 24 hours with the lanes unreached at each,
the suggestion in words, and the lanes unreached for the categories of 公安 (派出所 alone:
北一条, 北二条, 远巷) and of 城市管理 (城管 alone: 北二条, 东一条, 远巷 at 08:00)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PHONE, WALL, sign_in
from tests.conftest import make_person
from tests.fixtures_reachability import grid_fixture  # noqa: F401  (fixture)
from whistle.organisation.models import Role
from whistle.policies.models import Category, MajorClass

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [WALL, PHONE], ids=["desktop", "phone"])
def test_an_assessor_sees_which_lanes_no_one_reaches_in_the_morning(
    new_page, shots, grid, small_city, viewport
):
    make_person("reach-assessor", Role.DISTRICT_ASSESSOR, jurisdiction=grid.parent)
    major = MajorClass.objects.create(district=grid.parent, kind="event", code="01", name="市容")
    for code, name, department in (
        ("01", "治安秩序", small_city.police),
        ("02", "占道经营", small_city.urban_management),
    ):
        found = Category.objects.create(major=major, code=code, name=name)
        found.responsible_sectors.set([department.sector])
    page = new_page(viewport)
    sign_in(page, "reach-assessor")
    page.goto("/district/reachability/")
    page.select_option("#township-select", grid.code)
    page.select_option("#hour-select", "8")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("[data-reach-drawn='4']")
    rows = page.locator(".reach-table tbody tr")
    assert [rows.nth(i).locator("td").first.inner_text().split()[0] for i in range(4)] == [
        "北二条",
        "远巷",
        "东一条",
        "北一条",
    ]
    assert page.locator(".reach-table tr.is-unreached").count() == 2
    assert page.locator("path.reach-lane.is-unreached").count() == 2
    assert page.locator("path.reach-station").count() == 2
    assert page.locator("path.reach-suggestion").count() == 2
    hours = page.locator(".reach-hours li")
    assert hours.count() == 24
    # 北二条 is reached at 03:00 (6.66 min), not at 08:00 (16.65).
    assert hours.nth(3).locator(".reach-count").inner_text() == "1"
    assert hours.nth(8).locator(".reach-count").inner_text() == "2"
    suggestion = page.locator("section.reach-advice").inner_text()
    assert "北二条的中点" in suggestion and "仍有 1 条街巷无人能按时到达" in suggestion
    assert "天坛消防救援站" in page.locator("main").inner_text()
    categories = page.locator(".reach-category-table tbody tr")
    assert categories.count() == 2
    assert [categories.nth(i).locator(".reach-category-count").inner_text() for i in (0, 1)] == [
        "3",
        "3",
    ]
    assert "0101 治安秩序" in categories.nth(0).inner_text()
    shots(page, "reachability", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
