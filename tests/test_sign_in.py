"""Sign-in: lock-out after repeated failures (per account and address, and per address),
password rules, idle sessions, sessions a person can end, visitors without sessions, and the
headers every page is sent with."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from axes.models import AccessAttempt, AccessLog
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client

from tests.fixtures_web import assessor_fixture, steward_fixture  # noqa: F401  (fixtures)
from whistle.accounts import sessions
from whistle.accounts.models import SignedInSession
from whistle.organisation.models import Person
from whistle.web.headers import _tile_origin

PASSWORD = "pw-123456"
NOON = datetime(2026, 9, 14, 4, 0, tzinfo=UTC)
HOME = "/accounts/security/"  # a page that needs a signed-in person
HERE = "10.0.0.7"
ELSEWHERE = "10.0.9.9"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _the_idle_times_a_district_gets(settings):
    settings.WHISTLE_SESSION_IDLE_MINUTES = 30
    settings.WHISTLE_SESSION_FIELD_IDLE_MINUTES = 720


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def sign_in(client: Client, person: Person, password: str = PASSWORD, address: str = HERE):
    return client.post(
        "/accounts/login/",
        {"username": person.username, "password": password},
        REMOTE_ADDR=address,
    )


def signed_in(client: Client) -> bool:
    return client.get(HOME).status_code == 200


def test_five_wrong_passwords_lock_the_account_from_that_address_even_for_the_right_one(
    client, steward, clock
):
    for attempt in range(4):
        response = sign_in(client, steward, "wrong-password")
        assert response.status_code == 200, attempt
        assert "请输入一个正确的用户名和密码" in response.content.decode()
    fifth = sign_in(client, steward, "wrong-password")
    assert fifth.status_code == 429
    html = fifth.content.decode()
    assert "登录已暂停" in html
    assert "请在 12:15（北京时间）之后重试。" in html
    assert '<header class="topbar">' in html  # the product's own layout

    right = sign_in(client, steward)
    assert right.status_code == 429
    assert not signed_in(client)


def test_the_lock_out_ends_just_after_the_time_the_page_names(client, steward, clock):
    for _ in range(5):
        sign_in(client, steward, "wrong-password")
    clock.move_to(NOON + timedelta(minutes=15))
    assert sign_in(client, steward).status_code == 429
    clock.move_to(NOON + timedelta(minutes=15, seconds=1))
    assert sign_in(client, steward).status_code == 302
    assert signed_in(client)


def test_the_person_still_signs_in_from_another_address(client, steward, clock):
    for _ in range(5):
        sign_in(client, steward, "wrong-password")
    elsewhere = Client()
    assert sign_in(elsewhere, steward, address=ELSEWHERE).status_code == 302
    assert signed_in(elsewhere)


def test_a_right_password_clears_the_failures_before_the_limit(client, steward, clock):
    for _ in range(4):
        sign_in(client, steward, "wrong-password")
    assert sign_in(client, steward).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(4):
        assert sign_in(client, steward, "wrong-password").status_code == 200
    assert sign_in(client, steward).status_code == 302


def test_an_address_trying_many_accounts_is_locked_out_for_every_account(
    client, steward, assessor, clock, settings
):
    settings.WHISTLE_LOGIN_FAILURES_PER_ADDRESS = 6
    for n in range(5):
        response = client.post(
            "/accounts/login/",
            {"username": f"guess-{n}", "password": "wrong-password"},
            REMOTE_ADDR=HERE,
        )
        assert response.status_code == 200, n
    sixth = sign_in(client, steward, "wrong-password")
    assert sixth.status_code == 429
    # Even a right password of an account never tried from here.
    assert sign_in(client, assessor).status_code == 429
    assert sign_in(Client(), assessor, address=ELSEWHERE).status_code == 302


def test_the_lock_out_page_speaks_english_to_an_english_visitor(client, steward, clock):
    client.cookies["django_language"] = "en"
    for _ in range(5):
        response = sign_in(client, steward, "wrong-password")
    html = response.content.decode()
    assert response.status_code == 429
    assert "Sign-in paused" in html
    assert "Try again after 12:15 (Beijing time)." in html


def test_a_sign_in_without_a_readable_address_is_counted_as_0_0_0_0(client, steward, clock):
    # No address at all (a unix socket), then a proxy header that is not an address.
    for _n in range(5):
        sign_in(client, steward, password="wrong", address="")
    assert AccessAttempt.objects.get().ip_address == "0.0.0.0"
    assert sign_in(client, steward, address="not-an-address").status_code == 429


def test_a_sign_in_made_by_the_code_itself_is_logged_without_an_address(steward):
    # Django's own login of a person (a test client's force_login, a command) has no request
    # address; the sign-in log must still take it on every database.
    client = Client()
    client.force_login(steward)
    assert signed_in(client)
    assert AccessLog.objects.get(username=steward.username).ip_address == "0.0.0.0"


def test_the_admin_signs_in_through_the_products_sign_in_page(client):
    response = client.get("/admin/login/?next=/admin/cases/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Fcases%2F"


def test_someone_signed_in_without_the_right_to_the_admin_is_told_so(client, steward, clock):
    sign_in(client, steward)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert response.redirect_chain[-1][0] == "/admin/login/?next=/admin/"
    html = response.content.decode()
    assert "您无权打开此页面" in html and 'name="password"' not in html


def test_a_new_password_must_pass_every_rule(client, steward, clock):
    sign_in(client, steward)
    for weak, reason in [
        ("a1b2c3d4", "密码太短，至少需要 10 个字符。"),
        ("1234567890", "这个密码太常见了。"),
        ("8364019275", "密码只包含数字。"),
        ("wang-fang-1", "密码跟 用户名 太相似了。"),
    ]:
        response = client.post(
            "/accounts/password/",
            {"old_password": PASSWORD, "new_password1": weak, "new_password2": weak},
        )
        assert response.status_code == 200, weak
        assert reason in response.content.decode(), weak
    steward.refresh_from_db()
    assert steward.check_password(PASSWORD)


def test_a_changed_password_ends_the_other_sessions_and_keeps_this_one(client, steward, clock):
    other = Client()
    sign_in(other, steward, address=ELSEWHERE)
    sign_in(client, steward)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "lantern-orchard-42",
            "new_password2": "lantern-orchard-42",
        },
    )
    assert response.status_code == 302
    assert signed_in(client)
    assert not signed_in(other)
    assert SignedInSession.objects.filter(person=steward).count() == 1


def test_a_desk_session_ends_after_thirty_minutes_without_a_request(client, assessor, clock):
    sign_in(client, assessor)
    clock.move_to(NOON + timedelta(minutes=30) - timedelta(seconds=1))
    assert signed_in(client)
    # That request moved the end on: thirty minutes from it.
    clock.move_to(NOON + timedelta(minutes=60) - timedelta(seconds=2))
    assert signed_in(client)
    clock.move_to(NOON + timedelta(minutes=90) - timedelta(seconds=2))
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_steward_on_the_street_keeps_a_shift_long_session(steward, clock):
    early, late = Client(), Client()
    sign_in(early, steward)
    sign_in(late, steward)
    clock.move_to(NOON + timedelta(hours=12) - timedelta(seconds=1))
    assert signed_in(early)
    clock.move_to(NOON + timedelta(hours=12))
    assert not signed_in(late)


def test_the_worker_deletes_expired_sessions_and_their_records(steward, assessor, clock, settings):
    settings.WHISTLE_SESSION_CLEAR_SECONDS = 24 * 3600
    sign_in(Client(), steward)
    sign_in(Client(), assessor)
    assert Session.objects.count() == 2
    assert SignedInSession.objects.count() == 2

    later = NOON + timedelta(minutes=30, seconds=1)
    clock.move_to(later)
    assert sessions.sweep(later, batch=200) == 1
    assert list(SignedInSession.objects.values_list("person__username", flat=True)) == [
        steward.username
    ]
    assert Session.objects.count() == 1
    # Within the interval the sweep has been done: the steward's session, ended since,
    # waits for the next one.
    clock.move_to(NOON + timedelta(hours=13))
    assert sessions.sweep(NOON + timedelta(hours=13), batch=200) == 0
    assert SignedInSession.objects.count() == 1
    next_interval = later + timedelta(hours=24)
    clock.move_to(next_interval)
    assert sessions.sweep(next_interval, batch=200) == 1
    assert not Session.objects.exists()


def test_signing_out_everywhere_ends_every_browsers_session(client, steward, clock):
    other = Client()
    sign_in(other, steward, address=ELSEWHERE)
    sign_in(client, steward)
    html = client.get(HOME).content.decode()
    moment = '<time class="nowrap" datetime="2026-09-14T12:00:00+08:00">2026-09-14 12:00</time>'
    assert html.count(f'<tr><td class="nowrap">{moment}</td>') == 2
    assert "当前浏览器" in html
    response = client.post("/accounts/security/sign-out-everywhere/")
    assert response.status_code == 302
    assert not signed_in(client)
    assert not signed_in(other)
    assert not SignedInSession.objects.exists()


def test_the_security_page_speaks_english_to_an_english_visitor(client, steward, clock):
    client.cookies["django_language"] = "en"
    sign_in(client, steward)
    html = client.get(HOME).content.decode()
    assert "Where you are signed in" in html
    assert "You are signed out after 720 minutes without using Whistle." in html
    assert "this browser" in html


def test_visitors_of_the_public_pages_leave_no_session_behind(client, small_city):
    for url in ("/", "/report/", "/report/captcha.png", "/accounts/login/", "/report/follow/"):
        response = client.get(url)
        assert response.status_code == 200, url
    assert "whistle_captcha" in client.cookies
    assert "sessionid" not in client.cookies
    assert not Session.objects.exists()


def test_every_page_forbids_inline_scripts_and_framing(client):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize(
    ("template", "origin"),
    [
        ("https://t{s}.tianditu.gov.cn/vec_w/wmts?TILEMATRIX={z}", "https://*.tianditu.gov.cn"),
        ("https://webrd0{s}.is.autonavi.com/appmaptile?x={x}", "https://*.is.autonavi.com"),
        ("http://tiles.example.org:8080/{z}/{x}/{y}.png", "http://tiles.example.org:8080"),
    ],
)
def test_the_base_maps_tile_server_is_the_only_other_image_origin(template, origin):
    assert _tile_origin(template) == origin


def check_deploy(**env: str) -> set[str]:
    """The issues `whistle check --deploy` reports, in a process of its own as a deployment
    runs it. The reminder to collect the static files depends on this checkout, not on the
    settings, and the production steps include collecting them."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("WHISTLE_", "DJANGO_"))}
    environment.update(
        {
            "WHISTLE_SECRET_KEY": "s" * 20 + "k2Jq8vWmXo7RtLpE9yBn4cZa6HdUfG3i5Ts1Qw0Ve",
            "WHISTLE_DEBUG": "0",
            "WHISTLE_ALLOWED_HOSTS": "whistle.example.org",
            "WHISTLE_SITE_URL": "https://whistle.example.org",
            **env,
        }
    )
    result = subprocess.run(
        [sys.executable, "-m", "whistle", "check", "--deploy"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    return set(re.findall(r"\((\w+\.[EW]\d+)\)", result.stdout + result.stderr)) - {"whistle.W001"}


def test_check_deploy_with_the_production_settings_reports_nothing():
    assert check_deploy(WHISTLE_SECURE_COOKIES="1") == set()


def test_check_deploy_names_what_is_missing_without_https():
    # No HSTS, no redirect to HTTPS, cookies sent over plain HTTP.
    assert {"security.W004", "security.W008", "security.W012", "security.W016"} <= check_deploy()


def test_check_deploy_warns_when_https_behind_a_proxy_would_redirect_forever():
    assert check_deploy(WHISTLE_HTTPS="1", WHISTLE_TRUSTED_PROXIES="1") == {"whistle.W003"}
    named = check_deploy(
        WHISTLE_HTTPS="1", WHISTLE_TRUSTED_PROXIES="1", WHISTLE_PROXY_SSL_HEADER="X-Forwarded-Proto"
    )
    assert named == set()


def test_check_deploy_warns_while_the_demo_logins_skip_the_second_factor():
    assert check_deploy(WHISTLE_SECURE_COOKIES="1", WHISTLE_DEMO_MODE="1") == {"whistle.W002"}


def test_no_template_asks_htmx_to_run_script_text():
    """htmx evaluates trigger filters, hx-on and js: values as script text, which the policy
    refuses (no 'unsafe-eval'): the page would silently stop updating."""
    from django.conf import settings

    roots = [
        Path(settings.BASE_DIR) / "templates",
        *Path(settings.BASE_DIR).glob("whistle/*/templates"),
    ]
    offending = [
        str(path)
        for root in roots
        for path in root.rglob("*.html")
        if re.search(r'hx-trigger="[^"]*\[|hx-on|hx-vals="js:|hx-vars', path.read_text())
    ]
    assert offending == []


ENDED_ZH = "您的登录已失效，请重新登录后继续。"
ENDED_EN = "Your session has ended. Sign in again to go on."


def test_a_form_sent_after_the_session_lapsed_brings_the_person_back_to_its_page(
    client, assessor, clock
):
    sign_in(client, assessor)
    assert client.get("/inbox/").status_code == 200
    clock.move_to(NOON + timedelta(minutes=31))
    response = client.post("/inbox/read/", HTTP_REFERER="http://testserver/inbox/?page=2")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Finbox%2F%3Fpage%3D2"
    page = client.get(response["Location"]).content.decode()
    assert ENDED_ZH in page
    assert 'name="next" value="/inbox/?page=2"' in page
    back = client.post(
        "/accounts/login/",
        {"username": assessor.username, "password": PASSWORD, "next": "/inbox/?page=2"},
        REMOTE_ADDR=HERE,
    )
    assert back["Location"] == "/inbox/?page=2"
    assert client.get(back["Location"]).status_code == 200


@pytest.mark.parametrize(
    "referer", ["", "https://elsewhere.example/inbox/", "http://testserver/accounts/login/"]
)
def test_a_form_sent_without_a_session_from_no_page_of_ours_returns_home(client, referer):
    client.cookies["django_language"] = "en"
    headers = {"HTTP_REFERER": referer} if referer else {}
    response = client.post("/inbox/read/", **headers)
    assert response["Location"] == "/accounts/login/?next=%2F"
    assert ENDED_EN in client.get(response["Location"]).content.decode()


def test_a_page_opened_after_the_session_lapsed_says_so_on_the_sign_in_page(
    client, assessor, clock
):
    sign_in(client, assessor)
    # The browser dropped the session's cookie when the session lapsed.
    del client.cookies["sessionid"]
    client.cookies["django_language"] = "en"
    response = client.get("/inbox/")
    assert response["Location"] == "/accounts/login/?next=/inbox/"
    assert ENDED_EN in client.get(response["Location"]).content.decode()
    # Told once.
    assert ENDED_EN not in client.get(client.get("/inbox/")["Location"]).content.decode()


def test_a_newcomer_or_someone_who_signed_out_is_not_told_of_an_ended_session(
    client, assessor, clock
):
    page = client.get(client.get("/inbox/")["Location"]).content.decode()
    assert ENDED_ZH not in page
    sign_in(client, assessor)
    client.post("/accounts/logout/")
    page = client.get(client.get("/inbox/")["Location"]).content.decode()
    assert ENDED_ZH not in page


def test_a_page_fetched_by_a_script_neither_leaves_nor_uses_up_the_notice(client, assessor, clock):
    """The service worker keeps pages for use without signal and may be fetching them as the
    session ends; it follows the redirect to the sign-in page itself, where nobody reads it."""
    sign_in(client, assessor)
    del client.cookies["sessionid"]
    client.cookies["django_language"] = "en"
    fetched = client.get("/inbox/", HTTP_SEC_FETCH_MODE="cors")
    assert fetched.status_code == 302
    assert (
        ENDED_EN not in client.get(fetched["Location"], HTTP_SEC_FETCH_MODE="cors").content.decode()
    )
    # The person sends a form; while the sign-in page loads, the script fetches it too.
    sent = client.post(
        "/inbox/read/", HTTP_REFERER="http://testserver/inbox/", HTTP_SEC_FETCH_MODE="navigate"
    )
    fetched_again = client.get(
        client.get("/lanes/", HTTP_SEC_FETCH_MODE="cors")["Location"], HTTP_SEC_FETCH_MODE="cors"
    )
    assert fetched_again.status_code == 200
    page = client.get(sent["Location"], HTTP_SEC_FETCH_MODE="navigate").content.decode()
    assert page.count(ENDED_EN) == 1


def test_an_htmx_request_after_the_session_lapsed_takes_the_whole_page_to_sign_in(
    client, assessor, clock
):
    sign_in(client, assessor)
    assert client.get("/inbox/").status_code == 200
    clock.move_to(NOON + timedelta(minutes=31))
    client.cookies["django_language"] = "en"
    response = client.get(
        "/inbox/",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/inbox/?state=unread",
        HTTP_SEC_FETCH_MODE="cors",
    )
    assert response.status_code == 204
    assert response.content == b""
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Finbox%2F%3Fstate%3Dunread"
    page = client.get(response["HX-Redirect"]).content.decode()
    assert page.count(ENDED_EN) == 1
    assert 'name="next" value="/inbox/?state=unread"' in page
    # A page of another site named as the current one is not where the person returns.
    again = client.get(
        "/inbox/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="https://elsewhere.example/x/"
    )
    assert again["HX-Redirect"] == "/accounts/login/?next=%2F"
