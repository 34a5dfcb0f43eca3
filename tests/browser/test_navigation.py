"""The top bar in a real browser: a person with many pages finds them in a few menus, on a
phone as on the wall screen, with the mouse or the keyboard."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.browser.conftest import PHONE, WALL, open_menu, sign_in, submit
from tests.conftest import make_person
from whistle.organisation.models import Role, RoleAssignment
from whistle.web.dashboards import FLAT_NAV_MAX, dashboards_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def visible_menu_links(page) -> list[str]:
    return page.evaluate(
        """() => [...document.querySelectorAll('.navmenu-list a')]
            .filter((el) => el.checkVisibility())
            .map((el) => el.getAttribute('href'))"""
    )


def short_targets(page) -> list[str]:
    return page.evaluate(
        """() => [...document.querySelectorAll('.topnav a, .topnav summary')]
            .filter((el) => el.checkVisibility())
            .filter((el) => el.getBoundingClientRect().height < 44)
            .map((el) => el.outerHTML.slice(0, 80))"""
    )


def test_a_township_chief_opens_a_menu_on_a_phone_and_follows_a_link_in_it(
    new_page, shots, small_city
):
    chief = make_person("li-weidong", Role.TOWNSHIP_CHIEF, jurisdiction=small_city.longtan)
    links = dashboards_for(chief)
    assert len(links) > FLAT_NAV_MAX
    page = new_page(PHONE)
    sign_in(page, "li-weidong")

    # Every page is in the top bar, in a handful of items; the menus start closed.
    items = page.locator(".topnav-items > li")
    assert items.count() <= FLAT_NAV_MAX
    assert page.locator(".topnav a").count() == len(links)
    assert visible_menu_links(page) == []
    assert no_sideways_scroll(page)
    shots(page, "1-menus-closed")

    duty = reverse("duty:home")
    command = page.locator("details[data-navmenu=command]")
    open_menu(page)
    command.locator("summary").click()
    assert command.get_attribute("open") is not None
    assert duty in visible_menu_links(page)
    assert short_targets(page) == []
    assert no_sideways_scroll(page)
    shots(page, "2-command-menu-open")

    # Opening another menu closes the first; Escape closes it and gives the focus back.
    township = page.locator("details[data-navmenu=township]")
    township.locator("summary").click()
    assert command.get_attribute("open") is None
    assert reverse("township:home") in visible_menu_links(page)
    page.keyboard.press("Escape")
    assert township.get_attribute("open") is None
    assert page.evaluate("document.activeElement.closest('[data-navmenu]').dataset.navmenu") == (
        "township"
    )

    # With the keyboard: Enter on the title opens the menu, Tab walks its links.
    command.locator("summary").focus()
    page.keyboard.press("Enter")
    assert command.get_attribute("open") is not None
    while page.evaluate("document.activeElement.getAttribute('href')") != duty:
        page.keyboard.press("Tab")
        assert page.evaluate("!!document.activeElement.closest('[data-navmenu=command]')")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{duty}")

    # On the page it opened, the menu's title and the link say where the person is.
    assert "is-current" in (command.locator("summary").get_attribute("class") or "")
    assert command.locator(f"a[href='{duty}']").get_attribute("aria-current") == "page"
    assert command.get_attribute("open") is None
    shots(page, "3-duty-page")


def test_the_menus_drop_down_on_the_wall_screen_above_the_map(new_page, shots, small_city):
    make_person("zhang-min", Role.DISPATCHER, jurisdiction=small_city.longtan)
    page = new_page(WALL)
    sign_in(page, "zhang-min")
    page.goto(reverse("dispatch:home"))
    page.wait_for_selector("[data-map][data-map-ready=true]")
    command = page.locator("details[data-navmenu=command]")
    command.locator("summary").click()
    hotline = command.locator(f"a[href='{reverse('dispatch:hotline')}']")
    assert hotline.is_visible()
    # Nothing on the page covers the menu: the topmost element at its link is the link.
    box = hotline.bounding_box()
    assert box is not None
    on_top = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).closest('a')?.getAttribute('href')",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert on_top == reverse("dispatch:hotline")
    shots(page, "1-command-menu-over-the-desk")

    # A click outside closes it.
    page.locator("main h1").first.click()
    assert command.get_attribute("open") is None


def test_a_steward_with_few_pages_sees_them_without_menus(new_page, small_city):
    make_person("wang-fang", Role.STEWARD, lane=small_city.renmin_lane)
    page = new_page(PHONE)
    sign_in(page, "wang-fang")
    assert page.locator(".topnav details").count() == 0
    open_menu(page)
    assert page.locator(".topnav a[href='/patrol/']").is_visible()


DESK_1366 = {"width": 1366, "height": 768}

# The middles of the top bar's parts: the brand, each entry shown, the bell and each part
# of the account (name and roles, settings, sign out, the language).
BAR_MIDDLES = """() => {
    const bar = document.querySelector('.topbar-inner');
    const parts = [bar.querySelector('.brand'),
        ...bar.querySelectorAll(".topnav-items > li"),
        bar.querySelector('.inbox-link'), ...bar.querySelector('.account').children];
    return parts.filter((el) => el && !el.hidden).map((el) => {
        const box = el.getBoundingClientRect();
        return Math.round(box.top + box.height / 2);
    });
}"""


def in_english(page) -> None:
    submit(page, ".language-switch button[value=en]")
    page.wait_for_function("document.documentElement.lang === 'en'")


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize(
    ("username", "role", "where"),
    [
        ("sun-xiaowen", Role.DISPATCHER, "longtan"),
        ("chen-lixin", Role.DISTRICT_ASSESSOR, "district"),
    ],
)
def test_the_top_bar_keeps_one_row_on_a_1366_screen_with_every_page_in_reach(
    new_page, shots, small_city, language, username, role, where
):
    person = make_person(username, role, jurisdiction=getattr(small_city, where))
    links = {link.url for link in dashboards_for(person)}
    page = new_page(DESK_1366)
    sign_in(page, username)
    if language == "en":
        in_english(page)
    page.goto(reverse("dispatch:home") if role == Role.DISPATCHER else "/")
    middles = page.evaluate(BAR_MIDDLES)
    assert max(middles) - min(middles) <= 4, middles
    assert page.locator(".topbar").bounding_box()["height"] < 70
    # Nothing is left out: every page is a link of the bar, in it or under "more".
    hrefs = page.eval_on_selector_all(".topnav a", "els => els.map((a) => a.getAttribute('href'))")
    assert set(hrefs) == links
    assert short_targets(page) == []
    assert no_sideways_scroll(page)
    shots(page, "1-one-row")
    more = page.locator("details[data-navmenu=more]")
    if language == "zh":
        # Chinese titles fit: no "more", and the bell keeps its word.
        assert not more.is_visible()
        assert page.locator(".inbox-label").bounding_box()["width"] > 20
        return
    # The bell's word is read out whether or not the bar has room to show it.
    assert page.locator(".inbox-link").evaluate("el => el.textContent").count("Notifications")
    if role != Role.DISPATCHER:
        return
    # English titles are longer: for the dispatcher's many pages the bell shows only its
    # count and the last entries go under "more".
    assert page.locator(".inbox-label").bounding_box()["width"] <= 1
    more.locator("> summary").click()
    moved = more.locator("a").evaluate_all("els => els.map((a) => a.getAttribute('href'))")
    assert moved and set(moved) <= links
    # A menu moved under "more" opens in place, and "more" stays open with it.
    inner = more.locator("details[data-navmenu]")
    if inner.count():
        inner.first.locator("summary").click()
        assert more.get_attribute("open") is not None
    assert moved[-1] in visible_menu_links(page)
    shots(page, "2-more-open")
    page.locator(f"details[data-navmenu=more] a[href='{moved[-1]}']").click()
    page.wait_for_url(f"**{moved[-1]}")
    middles = page.evaluate(BAR_MIDDLES)
    assert max(middles) - min(middles) <= 4, middles


DESK_1920 = {"width": 1920, "height": 1080}


@pytest.mark.parametrize(
    ("username", "role", "where"),
    [
        ("sun-xiaowen", Role.DISPATCHER, "longtan"),
        ("chen-lixin", Role.DISTRICT_ASSESSOR, "district"),
    ],
)
def test_on_a_1920_screen_the_english_top_bar_shows_every_entry_in_one_row(
    new_page, shots, small_city, username, role, where
):
    """There is room on a wide screen: nothing goes under "more", the bell keeps its word."""
    person = make_person(username, role, jurisdiction=getattr(small_city, where))
    links = {link.url for link in dashboards_for(person)}
    page = new_page(DESK_1920)
    sign_in(page, username)
    in_english(page)
    page.goto(reverse("dispatch:home") if role == Role.DISPATCHER else "/")
    middles = page.evaluate(BAR_MIDDLES)
    assert max(middles) - min(middles) <= 4, middles
    assert not page.locator("details[data-navmenu=more]").is_visible()
    assert page.locator(".inbox-label").bounding_box()["width"] > 20
    hrefs = page.eval_on_selector_all(".topnav a", "els => els.map((a) => a.getAttribute('href'))")
    assert set(hrefs) == links
    assert no_sideways_scroll(page)
    shots(page, "one-row")


@pytest.mark.parametrize(("language", "between"), [("zh", "；"), ("en", ",\u00a0")])
def test_a_person_s_roles_are_separated_as_the_language_writes_them(
    new_page, small_city, language, between
):
    steward = make_person("wang-fang", Role.STEWARD, lane=small_city.renmin_lane)
    RoleAssignment.objects.create(person=steward, role=Role.LANE_CHIEF, lane=small_city.renmin_lane)
    page = new_page(DESK_1366)
    sign_in(page, "wang-fang")
    if language == "en":
        in_english(page)
    roles = page.locator(".who-role")
    assert roles.count() == 2
    separators = roles.evaluate_all(
        "els => els.map((el) => getComputedStyle(el, '::after').content)"
    )
    assert separators == [f'"{between}"', "none"]
