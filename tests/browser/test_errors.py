"""The error pages in a real browser: in Chinese, in the layout, with the signed-in person's
menu and a way home, on a phone and a wall screen; and the 500 page of a failing view."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, WALL, open_menu, sign_in
from tests.conftest import make_person
from whistle.organisation.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def loaded_stylesheet(page) -> bool:
    """The layout's stylesheet applied: the top bar is the brand's red, not a bare page."""
    colour = page.evaluate("getComputedStyle(document.querySelector('.topbar')).backgroundColor")
    return colour == "rgb(142, 27, 27)"


@pytest.mark.parametrize("viewport", [PHONE, WALL], ids=["phone-360", "wall-1920"])
def test_a_steward_at_a_district_page_sees_a_403_in_chinese_with_her_menu(
    new_page, shots, small_city, viewport
):
    make_person("wang-fang", Role.STEWARD, lane=small_city.renmin_lane)
    page = new_page(viewport)
    sign_in(page, "wang-fang")
    response = page.goto("/district/chiefs/")
    assert response is not None and response.status == 403
    assert page.title() == "您无权打开此页面 · 吹哨报到"
    assert page.locator("h1").inner_text() == "您无权打开此页面"
    assert page.locator(".error-code").inner_text() == "错误 403"
    open_menu(page)
    assert "wang-fang" in page.locator(".who-name").inner_text()
    assert page.locator(".topnav a[href='/patrol/']").count() == 1
    assert loaded_stylesheet(page) and fits_the_screen(page)
    shots(page, "403", full_page=True)

    page.click("text=返回首页")
    page.wait_for_url("**/")
    expect(page.locator("h1")).to_have_text(re.compile(r"^您好"), use_inner_text=True)


def test_a_dispatcher_at_an_unknown_address_sees_a_404_in_chinese_with_his_menu(
    new_page, shots, small_city
):
    make_person("zhang-wei", Role.DISPATCHER, jurisdiction=small_city.longtan)
    page = new_page(WALL)
    sign_in(page, "zhang-wei")
    page.goto("/dispatch/")
    # Followed from the dispatch desk, as a stale bookmark or link would be.
    with page.expect_navigation() as navigation:
        page.evaluate("location.href = '/dispatch/no-such-page/'")
    response = navigation.value
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "找不到此页面"
    body = page.locator("main").inner_text()
    assert "URLconf" not in body and "Page not found" not in body
    assert page.locator(".topnav a[href='/dispatch/']").count() == 1
    assert page.locator("a:has-text('返回上一页')").get_attribute("href").endswith("/dispatch/")
    assert loaded_stylesheet(page) and fits_the_screen(page)
    shots(page, "404", full_page=True)


@pytest.mark.urls("tests.urls_errors")
def test_a_failing_view_gives_the_500_page_in_the_layout(new_page, shots, small_city):
    make_person("zhang-wei", Role.DISPATCHER, jurisdiction=small_city.longtan)
    page = new_page(PHONE)
    sign_in(page, "zhang-wei")
    response = page.goto("/test-errors/crash/")
    assert response is not None and response.status == 500
    assert page.locator("h1").inner_text() == "服务器出了问题"
    assert page.get_attribute("html", "lang") == "zh-CN"
    text = page.locator("main").inner_text()
    assert "RuntimeError" not in text and "Traceback" not in text
    assert "时间（北京时间）：20" in text
    assert loaded_stylesheet(page) and fits_the_screen(page)
    shots(page, "500", full_page=True)
    page.click("text=返回首页")
    page.wait_for_url("**/")


def test_the_favicon_is_shown_from_static(new_page, small_city):
    page = new_page(PHONE)
    page.goto("/")
    icon = page.locator("link[rel=icon][type='image/svg+xml']").get_attribute("href")
    assert icon == "/static/whistle/favicon.svg"
    response = page.request.get("/favicon.ico")
    assert response.status == 200
    assert response.headers["content-type"] in {"image/x-icon", "image/vnd.microsoft.icon"}
