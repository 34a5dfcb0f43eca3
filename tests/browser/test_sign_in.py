"""Signing in, in a real browser: an assessor sets up the authenticator app, signs in with its
code and with a recovery code; a steward is locked out after five wrong passwords; no page
trips the Content-Security-Policy."""

from __future__ import annotations

import re
import time
from base64 import b32decode

import pytest
import time_machine
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, WALL, csp_errors, open_menu
from tests.conftest import make_person
from tests.totp import totp
from whistle.organisation.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REQUIRED = ["township_assessor", "district_assessor", "chiefs_office", "administrator"]


@pytest.fixture(autouse=True)
def _the_roles_that_require_it(settings):
    settings.WHISTLE_TWO_FACTOR_ROLES = REQUIRED
    settings.WHISTLE_DEMO_MODE = False
    settings.WHISTLE_SESSION_IDLE_MINUTES = 30
    settings.WHISTLE_SESSION_FIELD_IDLE_MINUTES = 720


HOME = re.compile(r"^https?://[^/]+/$")


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def password_step(page, username: str, password: str = "pw-123456") -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    # The answer is a new page whatever it says: wait for it, not for the old one's parts.
    with page.expect_navigation():
        page.click("form.form button[type=submit]")


def test_an_assessor_sets_up_the_app_and_signs_in_with_its_code(new_page, shots, small_city):
    make_person("li-na", Role.DISTRICT_ASSESSOR, jurisdiction=small_city.district)
    page = new_page(PHONE)
    blocked = csp_errors(page)

    password_step(page, "li-na")
    page.wait_for_url("**/accounts/two-factor/**")
    assert page.locator("h1").inner_text() == "设置两步验证"
    assert page.locator(".qr-code svg").is_visible()
    assert fits_the_screen(page)
    shots(page, "1-set-up", full_page=True)

    # The app reads the key from the QR code; the test reads the same key where it is typed.
    key = b32decode(page.inner_text("#totp-secret").replace(" ", ""))
    enrolled_at = time.time()
    page.fill("#id_code", totp(key, enrolled_at))
    page.click("button:has-text('开启两步验证')")
    page.wait_for_selector(".recovery-codes")
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert fits_the_screen(page)
    shots(page, "2-recovery-codes", full_page=True)
    page.click("a:has-text('我已保存，继续')")
    page.wait_for_url(HOME)

    open_menu(page)
    page.click("button:has-text('退出')")
    password_step(page, "li-na")
    page.wait_for_url("**/accounts/verify/**")
    assert page.locator("h1").inner_text() == "两步验证"
    page.fill("#id_code", "000000")
    page.click("button:has-text('确认')")
    expect(page.locator(".field")).to_contain_text("验证码不正确，或已经用过", use_inner_text=True)
    shots(page, "3-wrong-code", full_page=True)

    # After a wrong code the authenticator waits a second before it tries another; the
    # person types the app's next code (the one set up with is used).
    with time_machine.travel(time.time() + 2):
        page.fill("#id_code", totp(key, enrolled_at + 30))
        page.click("button:has-text('确认')")
        page.wait_for_url(HOME)
    open_menu(page)
    assert "li-na" in page.locator(".who-name").inner_text()
    page.goto("/accounts/security/")
    assert "剩余 10 个恢复码。" in page.locator("main").inner_text()
    assert "连续 30 分钟未使用吹哨报到，将自动退出登录。" in page.locator("main").inner_text()
    shots(page, "4-security", full_page=True)
    assert blocked == []


def test_an_assessor_whose_phone_is_lost_signs_in_once_with_a_recovery_code(
    new_page, shots, small_city
):
    make_person("li-na", Role.DISTRICT_ASSESSOR, jurisdiction=small_city.district)
    page = new_page(WALL, locale="en-GB")
    page.goto("/")
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": page.url}])
    blocked = csp_errors(page)
    password_step(page, "li-na")
    page.wait_for_url("**/accounts/two-factor/**")
    key = b32decode(page.inner_text("#totp-secret").replace(" ", ""))
    page.fill("#id_code", totp(key, time.time()))
    page.click("button:has-text('Turn on two-factor sign-in')")
    page.locator(".recovery-codes code").first.wait_for()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.click("a:has-text('I have kept them: continue')")
    page.click("button:has-text('Sign out')")

    password_step(page, "li-na")
    page.wait_for_url("**/accounts/verify/**")
    assert page.locator("h1").inner_text() == "Two-factor sign-in"
    page.fill("#id_code", codes[0])
    page.click("button:has-text('Confirm')")
    page.wait_for_url(HOME)
    assert "You signed in with a recovery code; 9 are left." in page.locator("main").inner_text()
    shots(page, "1-signed-in-with-a-recovery-code", full_page=True)

    page.click("button:has-text('Sign out')")
    password_step(page, "li-na")
    page.fill("#id_code", codes[0])
    page.click("button:has-text('Confirm')")
    page.locator(".form-errors, .form-refusal").first.wait_for()
    assert "This code is not right, or it was used already." in page.locator("main").inner_text()
    shots(page, "2-the-used-code-refused", full_page=True)
    assert blocked == []


@pytest.mark.parametrize(
    ("locale", "language", "paused"),
    [("zh-CN", "zh-hans", "登录已暂停"), ("en-GB", "en", "Sign-in paused")],
    ids=["zh", "en"],
)
def test_five_wrong_passwords_pause_signing_in(
    new_page, shots, small_city, locale, language, paused
):
    make_person("wang-fang", Role.STEWARD, lane=small_city.renmin_lane)
    page = new_page(PHONE, locale=locale)
    page.goto("/")
    page.context.add_cookies([{"name": "django_language", "value": language, "url": page.url}])
    blocked = csp_errors(page)
    for _ in range(4):
        password_step(page, "wang-fang", "wrong-password")
        assert page.locator(".form-errors").is_visible()
    shots(page, "1-wrong-password", full_page=True)
    password_step(page, "wang-fang", "wrong-password")
    assert page.locator("h1").inner_text() == paused
    assert fits_the_screen(page)
    shots(page, "2-paused", full_page=True)
    # The right password does not help while the pause lasts.
    password_step(page, "wang-fang")
    assert page.locator("h1").inner_text() == paused
    assert blocked == []


def test_the_pages_a_steward_uses_pass_the_content_security_policy(new_page, small_city):
    make_person("wang-fang", Role.STEWARD, lane=small_city.renmin_lane)
    page = new_page(PHONE)
    blocked = csp_errors(page)
    password_step(page, "wang-fang")
    page.wait_for_url(HOME)
    for url in ("/", "/patrol/", "/report/", "/accounts/security/", "/accounts/two-factor/"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
    assert blocked == []
