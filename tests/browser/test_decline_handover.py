"""A department declines on its phone naming the department responsible; the township
upholds the decline and summons that department in one step, on the desk."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PHONE, sign_in, submit
from tests.fixtures_cases import (
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from whistle.cases.models import Summons

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESK = {"width": 1366, "height": 900}


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_department_names_who_should_come_and_the_township_summons_them_at_once(
    new_page, shots, whistle_city
):
    city = whistle_city
    city.street_vending.responsible_sectors.add(city.fire.sector)
    case, _whistle, summonses = whistled_case(city)
    police = summonses[city.police.pk]
    phone = new_page(PHONE)
    sign_in(phone, "police-officer")
    phone.goto(f"/cases/{case.reference}/#summons-{police.uuid.hex}")
    form = phone.locator(f"#op-decline-{police.uuid.hex}")
    form.locator("xpath=ancestor::details").locator("summary").click()
    picker = form.locator("select")
    # The suggestions first, the declining department nowhere.
    groups = picker.locator("optgroup").evaluate_all("gs => gs.map(g => g.label)")
    assert groups == ["建议的部门", "服务本街乡的其他部门"]
    assert "龙潭派出所" not in picker.inner_text()
    form.locator("textarea").fill("消防通道被占用，应由消防处置")
    picker.select_option(label="天坛消防救援站")
    form.scroll_into_view_if_needed()
    assert no_sideways_scroll(phone)
    box = picker.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    shots(phone, "1-decline-naming-on-the-phone")
    submit(phone, form.locator("button[type=submit]"))
    police.refresh_from_db()
    assert (police.status, police.named_department) == (Summons.Status.DECLINED, city.fire)

    desk = new_page(DESK)
    sign_in(desk, "longtan-dispatcher")
    desk.goto(f"/cases/{case.reference}/#summons-{police.uuid.hex}")
    ruling = desk.locator(f"#op-rule-{police.uuid.hex}")
    ruling.scroll_into_view_if_needed()
    button = ruling.locator("button[value=uphold_summon]")
    assert button.inner_text() == "同意退回并召集天坛消防救援站"
    assert "所指应负责部门" in desk.locator(f"#summons-{police.uuid.hex}").inner_text()
    assert no_sideways_scroll(desk)
    shots(desk, "2-desk-ruling")
    ruling.locator("textarea").fill("请天坛消防救援站到场处置")
    submit(desk, button)
    police.refresh_from_db()
    assert police.status == Summons.Status.RELEASED
    fire = Summons.objects.get(case=case, department=city.fire)
    assert fire.status == Summons.Status.SUMMONED
    shots(desk, "3-after-the-ruling")
