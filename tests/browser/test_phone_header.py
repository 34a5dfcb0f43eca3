"""The top bar on a phone (390 × 844): one row with the logo, the bell and "Menu"; the menu
holds every page of the bar, the person and their roles, settings, sign out and the
language, with or without the script."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in, submit
from tests.conftest import make_person
from whistle.organisation.models import Role
from whistle.web.dashboards import dashboards_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_390 = {"width": 390, "height": 844}


def shown(page, selector: str) -> list[str]:
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)]
            .filter((el) => el.checkVisibility())
            .map((el) => el.getAttribute('href'))""",
        selector,
    )


def make(city, who: str):
    if who == "officer":
        return make_person(
            "officer-urban", Role.DEPARTMENT_OFFICER, department=city.urban_management
        )
    if who == "steward":
        return make_person("wang-fang", Role.STEWARD, lane=city.renmin_lane)
    return make_person("lane-chief", Role.LANE_CHIEF, lane=city.renmin_lane)


@pytest.mark.parametrize("language", ["zh-CN", "en-US"])
@pytest.mark.parametrize("who", ["officer", "steward", "lane-chief"])
def test_the_phone_top_bar_is_one_row_and_its_menu_holds_everything(
    new_page, shots, small_city, language, who
):
    person = make(small_city, who)
    links = {link.url for link in dashboards_for(person)}
    assert links
    page = new_page(PHONE_390, locale=language)
    sign_in(page, person.username)
    if language == "en-US" and page.evaluate("document.documentElement.lang") != "en":
        # The language button is in the menu, as on every page.
        page.locator(".sitemenu-button").click()
        submit(page, ".language-switch button[value=en]")
        page.wait_for_function("document.documentElement.lang === 'en'")
    menu_word = "菜单" if language == "zh-CN" else "Menu"
    settings_word = "我的设置" if language == "zh-CN" else "My settings"
    sign_out_word = "退出" if language == "zh-CN" else "Sign out"

    # Closed: one row, the content right under it; nothing of the menu shows.
    button = page.locator(".sitemenu-button")
    assert button.inner_text().strip() == menu_word
    expect(button).to_have_attribute("aria-expanded", "false")
    assert button.get_attribute("aria-controls") == "site-menu"
    box = button.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    assert page.locator(".topbar").bounding_box()["height"] <= 70
    assert page.locator(".inbox-link").is_visible()
    assert page.locator("main").bounding_box()["y"] <= 70
    assert shown(page, ".topnav a") == []
    assert not page.locator(".account").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shots(page, f"{who}-{language}-1-closed")

    # Open: every page of the bar, the person, settings, sign out and the language.
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    panel = page.locator("#site-menu")
    assert panel.is_visible()
    page.evaluate(
        """() => document.querySelectorAll('#site-menu details[data-navmenu]')
            .forEach((menu) => { menu.open = true; })"""
    )
    assert set(shown(page, "#site-menu .topnav a")) == links
    assert panel.locator(".who-name").is_visible()
    assert panel.locator(".who-role").first.is_visible()
    assert panel.get_by_role("link", name=settings_word).is_visible()
    assert panel.get_by_role("button", name=sign_out_word).is_visible()
    assert panel.locator(".language-switch button").first.is_visible()
    short = page.evaluate(
        """() => [...document.querySelectorAll(
            '#site-menu a, #site-menu summary, #site-menu button')]
            .filter((el) => el.checkVisibility())
            .filter((el) => el.getBoundingClientRect().height < 44)
            .map((el) => el.outerHTML.slice(0, 80))"""
    )
    assert short == []
    shots(page, f"{who}-{language}-2-open")

    # Escape closes it, the focus back on the button; the keyboard opens it again.
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(panel).to_be_visible()

    # A link in it works.
    target = sorted(links)[0]
    link = panel.locator(f".topnav a[href='{target}']")
    if not link.is_visible():
        link.locator("xpath=ancestor::details[1]/summary").click()
    link.click()
    page.wait_for_url(f"**{target}")
    assert not page.locator("#site-menu").is_visible()


def test_the_phone_menu_opens_without_the_script(new_page, small_city):
    make(small_city, "officer")
    page = new_page(PHONE_390, java_script_enabled=False)
    sign_in(page, "officer-urban")
    assert page.locator(".topbar").bounding_box()["height"] <= 70
    assert not page.locator("#site-menu").is_visible()
    page.locator(".sitemenu-button").click()
    assert page.locator("#site-menu").is_visible()
    assert page.locator("#site-menu .account").is_visible()
