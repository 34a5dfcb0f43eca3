"""Who is on duty, in a real browser: on the command centre's wall (1920 × 1080) and on an
officer's phone (360 × 740), with the roster page that keeps it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.browser.conftest import PHONE, WALL, sign_in
from tests.fixtures_duty import build_staffed_centre
from whistle.duty.schedule import board

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def on_duty_now(roster) -> str:
    (duty,) = board([roster], timezone.now())
    assert duty.now is not None and duty.now.person is not None
    return duty.now.person.display_name


def test_the_wall_shows_who_is_on_duty_and_still_fits_the_screen(new_page, shots):
    staffed = build_staffed_centre()
    page = new_page(WALL)
    sign_in(page, "li-dispatcher")
    page.goto("/dispatch/wall/")
    panel = page.locator("[data-duty-now]")
    panel.wait_for()
    text = panel.inner_text()
    assert "当前值班与下一班" in text
    assert "指挥中心" in text and on_duty_now(staffed.command) in text
    assert "东城区城管执法局" in text and on_duty_now(staffed.centre) in text
    assert panel.is_visible()
    shots(page, "wall")
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")
    assert no_sideways_scroll(page)


def test_an_officer_sees_the_duty_on_the_phone_desk_and_opens_the_roster(new_page, shots):
    staffed = build_staffed_centre()
    phone = new_page(PHONE)
    sign_in(phone, "wang-officer")
    phone.goto("/department/")
    panel = phone.locator("#incoming [data-duty-now]")
    panel.wait_for()
    assert on_duty_now(staffed.duty.roster) in panel.inner_text()
    assert no_sideways_scroll(phone)
    shots(phone, "1-desk")
    # The department's own roster is listed first, its place in the township's centre after.
    first = panel.locator(".duty-unit").first
    assert first.get_attribute("href") == f"/duty/{staffed.duty.roster.pk}/"
    first.click()
    phone.wait_for_url(f"**/duty/{staffed.duty.roster.pk}/")
    assert "未来几天" in phone.locator("main").inner_text()
    assert no_sideways_scroll(phone)
    shots(phone, "2-roster", full_page=True)


def test_a_head_keeps_the_roster_on_a_wide_screen(new_page, shots):
    staffed = build_staffed_centre()
    page = new_page(WALL)
    sign_in(page, "liu-head")
    page.goto("/")
    page.click('a[href="/duty/"]')
    page.wait_for_url("**/duty/")
    page.click(f'a[href="/duty/{staffed.duty.roster.pk}/"]')
    page.wait_for_selector("#cover")
    assert page.locator("#import").is_visible()
    shots(page, "roster", full_page=True)
