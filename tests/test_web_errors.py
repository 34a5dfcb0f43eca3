"""Error pages: every way a page can fail ends on a page in the product's layout and the
reader's language, with the menu of the signed-in person and a way home; scripts asking for
JSON get JSON; the 500 page needs neither the database nor the static manifest."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from django.db import connection
from django.test import Client

from tests.conftest import SmallCity, make_person
from tests.fixtures_web import (
    dispatcher_fixture,  # noqa: F401  (fixture)
    resident_fixture,  # noqa: F401  (fixture)
    steward_fixture,  # noqa: F401  (fixture)
)
from whistle.organisation.models import Jurisdiction, Person, Role

pytestmark = pytest.mark.django_db

TECHNICAL = ("Traceback", "URLconf", "Using the URLconf", "Django", "DEBUG = True", "Forbidden")


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def assert_error_page(response, status: int, title: str) -> str:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    text = visible_text(html)
    assert f'<h1 id="error-title">{title}</h1>' in html
    assert f"错误 {status}" in text
    assert 'class="topbar"' in html
    assert 'href="/" class="btn btn-primary"' in html or 'class="btn btn-primary" href="/"' in html
    for word in TECHNICAL:
        assert word not in text, word
    return html


def test_a_steward_opening_a_district_page_gets_a_403_in_chinese_with_her_menu(client, steward):
    client.force_login(steward)
    html = assert_error_page(client.get("/district/chiefs/"), 403, "您无权打开此页面")
    assert "wang-fang" in html  # the top bar: who is signed in
    assert 'href="/patrol/"' in html  # her own pages, in the menu and under the message


def refusal_advice(client: Client, address: str, language: str) -> str:
    """The sentence under the 403 page's title, in ``language``."""
    response = client.get(address, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 403
    html = response.content.decode()
    text = html.split("</h1>", 1)[1].split('<p class="actions">', 1)[0]
    return unescape(visible_text(text))


def district_person(small_city: SmallCity, role: str) -> Person:
    person = make_person(f"dongcheng-{role}", role, jurisdiction=small_city.district)
    person.is_staff = True
    person.save(update_fields=["is_staff"])
    return person


def with_xicheng(request: pytest.FixtureRequest, person: Person) -> Person:
    """`person`, in a city that has a second district, 西城区 (110102)."""
    small_city = request.getfixturevalue("small_city")
    Jurisdiction.objects.create(
        level="district", code="110102", name="西城区", parent=small_city.city
    )
    return person


# Who is refused, where, and what the advice says and must not say, in Chinese and English.
REFUSED = "/test-errors/refuse-permission/"
ADVICE = [
    pytest.param(
        lambda request: request.getfixturevalue("steward"),
        "/district/chiefs/",
        (["请联系所在街乡的管理员核对角色"], []),
        (["ask your township's administrator to check your roles"], []),
        id="a township's staff: their township's administrator",
    ),
    pytest.param(
        lambda request: district_person(request.getfixturevalue("small_city"), Role.DISTRICT_CHIEF),
        "/dispatch/",
        (["请联系本区的管理员核对角色"], ["街乡"]),
        (["ask your district's administrator"], ["township"]),
        id="a district's staff: their district's administrator",
    ),
    pytest.param(
        lambda request: make_person(
            "cg-officer",
            Role.DEPARTMENT_OFFICER,
            department=request.getfixturevalue("small_city").police,
        ),
        "/district/chiefs/",
        (["请联系本区的管理员"], []),
        (["ask your district's administrator"], []),
        id="a department's officer: the district's administrator",
    ),
    pytest.param(
        lambda request: district_person(request.getfixturevalue("small_city"), Role.ADMINISTRATOR),
        "/assessment/scheme/",
        (["角色由全市的系统管理员授予", "区的系统管理员不能授予"], ["街乡", "此页面属于"]),
        (
            ["Roles are given by the city's system administrator", "not by a district's"],
            ["township", "belongs to"],
        ),
        id="a district's administrator: the whole city's system administrator",
    ),
    pytest.param(
        lambda request: with_xicheng(
            request, district_person(request.getfixturevalue("small_city"), Role.ADMINISTRATOR)
        ),
        "/assessment/scheme/?district=110102",
        (["此页面属于西城区，您在该区没有角色。您的角色不包括", "由全市的系统管理员授予"], []),
        (
            [
                "This page belongs to 西城区, a district in which you hold no role. Your roles",
                "given by the city's system administrator",
            ],
            [],
        ),
        id="a district's administrator on another district's page: whose page it is",
    ),
    pytest.param(
        lambda request: district_person(request.getfixturevalue("small_city"), Role.ADMINISTRATOR),
        "/assessment/scheme/?district=110101",
        (["角色由全市的系统管理员授予"], ["此页面属于"]),
        (["Roles are given by the city's system administrator"], ["belongs to"]),
        id="a district's administrator on their own district's page: nothing of another",
    ),
    pytest.param(
        lambda request: with_xicheng(
            request,
            make_person(
                "longtan-dispatcher",
                Role.DISPATCHER,
                jurisdiction=request.getfixturevalue("small_city").longtan,
            ),
        ),
        "/district/rankings/?district=110102",
        (["此页面属于西城区", "请联系所在街乡的管理员"], []),
        (["This page belongs to 西城区", "ask your township's administrator"], []),
        id="a township's staff on another district's page: whose page it is",
    ),
    pytest.param(
        lambda request: request.getfixturevalue("resident"),
        "/dispatch/",
        (["作为居民，您可以上报问题"], ["管理员"]),
        (["As a resident you can report a problem"], ["administrator"]),
        id="a resident: what is open to residents",
    ),
    pytest.param(
        lambda request: Person.objects.create_user(username="newcomer", password="pw-123456"),
        "/dispatch/",
        (["您的账号尚未被授予角色"], []),
        (["Your account holds no role yet"], []),
        id="no role at all: ask for roles",
    ),
    pytest.param(
        lambda request: None,
        REFUSED,
        (["请用您的账号登录", "无需账号"], ["管理员"]),
        (["sign in with your account", "you need no account"], []),
        id="signed out: sign in, or report without an account",
        marks=pytest.mark.urls("tests.urls_errors"),
    ),
    pytest.param(
        lambda request: Person.objects.create_superuser(username="root", password="pw-123456"),
        REFUSED,
        (["请在管理后台（城市与组织 › 角色）中为自己授予该角色"], []),
        (["give it to yourself in the administration"], []),
        id="a superuser: where roles are given",
        marks=pytest.mark.urls("tests.urls_errors"),
    ),
]


@pytest.mark.parametrize(("who", "address", "chinese", "english"), ADVICE)
def test_the_403_page_tells_whoever_is_refused_whom_to_ask_or_what_is_open_to_them(
    client, request, who, address, chinese, english
):
    person = who(request)
    if person is not None:
        client.force_login(person)
    for language, (said, unsaid) in (("zh-hans", chinese), ("en", english)):
        advice = refusal_advice(client, address, language)
        for words in said:
            assert words in advice, (language, words)
        for words in unsaid:
            assert words not in advice, (language, words)


def test_a_dispatcher_at_an_unknown_address_gets_a_404_in_chinese_with_his_menu(client, dispatcher):
    client.force_login(dispatcher)
    html = assert_error_page(client.get("/dispatch/no-such-page/"), 404, "找不到此页面")
    assert "zhang-wei" in html
    assert 'href="/dispatch/"' in html


def test_a_case_outside_the_area_is_a_404_page_not_a_technical_one(client, dispatcher):
    client.force_login(dispatcher)
    assert_error_page(client.get("/cases/ZZZZZZZZZZ/"), 404, "找不到此页面")


def test_someone_signed_out_is_offered_to_sign_in_from_the_error_page(client):
    html = assert_error_page(client.get("/nowhere/"), 404, "找不到此页面")
    assert 'href="/accounts/login/?next=/nowhere/"' in html


def test_the_error_pages_speak_english_when_asked(client, steward):
    client.force_login(steward)
    response = client.get("/district/chiefs/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "You may not open this page" in response.content.decode()
    assert "Error 403" in visible_text(response.content.decode())


def test_an_expired_form_gets_a_403_page_that_says_what_to_do(steward):
    client = Client(enforce_csrf_checks=True)
    client.force_login(steward)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = assert_error_page(response, 403, "表单已过期")
    assert "重新加载" in visible_text(html)


def test_a_link_back_is_offered_only_to_a_page_of_this_site(client, dispatcher):
    client.force_login(dispatcher)
    ours = client.get("/nowhere/", HTTP_REFERER="http://testserver/dispatch/")
    assert 'href="http://testserver/dispatch/"' in ours.content.decode()
    theirs = client.get("/nowhere/", HTTP_REFERER="https://elsewhere.example/")
    assert "elsewhere.example" not in theirs.content.decode()


def test_a_request_for_another_host_gets_the_400_page(client):
    assert_error_page(client.get("/", HTTP_HOST="whistle.elsewhere.example"), 400, "请求无法处理")


@pytest.mark.urls("tests.urls_errors")
class TestErrorsRaisedByPages:
    def test_an_uncaught_permission_refusal_of_an_action_is_a_403_naming_the_rule(
        self, client, steward
    ):
        client.force_login(steward)
        html = assert_error_page(
            client.get("/test-errors/refuse-permission/"), 403, "您无权打开此页面"
        )
        assert '<p class="error-detail" role="alert">只有街乡指挥中心调度员可以吹哨。</p>' in html

    def test_an_uncaught_invalid_input_is_a_400_with_its_message(self, client, steward):
        client.force_login(steward)
        html = assert_error_page(client.get("/test-errors/refuse-input/"), 400, "请求无法处理")
        assert "经度须在 -180 到 180 之间。" in html

    def test_an_uncaught_refusal_by_state_is_a_409_with_its_message(self, client, steward):
        client.force_login(steward)
        html = assert_error_page(client.get("/test-errors/refuse-state/"), 409, "无法完成此操作")
        assert "案件已结案，不能再吹哨。" in html

    def test_a_suspicious_request_is_a_400_page(self, client, steward):
        client.force_login(steward)
        html = assert_error_page(client.get("/test-errors/suspicious/"), 400, "请求无法处理")
        assert "tampered" not in html

    def test_an_empty_bad_request_from_a_view_gets_the_400_page(self, client, steward):
        client.force_login(steward)
        assert_error_page(client.get("/test-errors/empty-400/"), 400, "请求无法处理")

    def test_a_get_to_a_post_only_address_is_a_405_page_keeping_the_allowed_methods(
        self, client, steward
    ):
        client.force_login(steward)
        response = client.get("/test-errors/post-only/")
        assert_error_page(response, 405, "此页面不能这样打开")
        assert response["Allow"] == "POST"

    def test_a_bug_gives_the_500_page_in_the_layout_without_touching_the_database(self, steward):
        client = Client(raise_request_exception=False)
        client.force_login(steward)
        # The signed-in person's session and idle time are read before the page runs; once it
        # has failed, every query fails too, and the 500 page must not need one.
        try:
            response = client.get("/test-errors/crash-database-gone/")
        finally:
            connection.execute_wrappers.clear()
        assert response.status_code == 500
        html = response.content.decode()
        assert '<html lang="zh-CN">' in html
        assert 'class="topbar"' in html and 'href="/static/whistle/whistle.css"' in html
        text = visible_text(html)
        assert "服务器出了问题" in text and "错误 500" in text and "返回首页" in text
        assert "a bug in a page" not in text and "RuntimeError" not in text

    def test_the_500_page_renders_even_when_the_static_files_were_never_collected(
        self, steward, settings, tmp_path
    ):
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
        }
        settings.STATIC_ROOT = tmp_path
        client = Client(raise_request_exception=False)
        client.force_login(steward)
        # The normal pages cannot name their static files now: each fails into the 500.
        response = client.get("/nowhere/")
        assert response.status_code == 500
        assert "服务器出了问题" in visible_text(response.content.decode())
        assert "stylesheet" not in response.content.decode()

    def test_scripts_asking_for_json_get_json_errors(self, steward):
        client = Client(raise_request_exception=False)
        client.force_login(steward)
        refused = client.get("/test-errors/refusal.json")
        assert refused.status_code == 403
        assert json.loads(refused.content) == {"error": "只有街乡指挥中心调度员可以吹哨。"}
        missing = client.get("/map/nothing.geojson", HTTP_ACCEPT="application/geo+json")
        assert missing.status_code == 404
        assert json.loads(missing.content) == {"error": "找不到此页面"}
        crashed = client.get("/test-errors/crash/", HTTP_ACCEPT="application/json")
        assert crashed.status_code == 500
        assert json.loads(crashed.content) == {"error": "服务器出了问题"}
        posted = client.post("/test-errors/empty-400/", "{}", content_type="application/json")
        assert posted.status_code == 400 and "error" in json.loads(posted.content)


def test_a_refusal_is_one_line_in_the_log_with_the_path_and_the_person(steward, caplog):
    client = Client(raise_request_exception=False)
    client.force_login(steward)
    with caplog.at_level("WARNING", logger="django.request"):
        assert client.get("/district/chiefs/").status_code == 403
    refusals = [r for r in caplog.records if r.name == "django.request"]
    assert len(refusals) == 1
    refusal = refusals[0]
    assert refusal.levelname == "WARNING"
    assert refusal.getMessage() == f"refused (403): GET /district/chiefs/, person {steward.pk}"
    assert refusal.exc_info is None
    assert "Traceback" not in caplog.text
    caplog.clear()
    assert Client(raise_request_exception=False).get("/district/chiefs/").status_code == 302
    assert not [r for r in caplog.records if r.name == "django.request"]


@pytest.mark.urls("tests.urls_errors")
def test_a_bug_keeps_its_traceback_in_the_log(steward, caplog):
    client = Client(raise_request_exception=False)
    client.force_login(steward)
    with caplog.at_level("WARNING", logger="django.request"):
        assert client.get("/test-errors/crash/").status_code == 500
    errors = [r for r in caplog.records if r.name == "django.request"]
    assert len(errors) == 1
    assert errors[0].levelname == "ERROR" and errors[0].exc_info is not None
    assert "Traceback" in caplog.text and "a bug in a page" in caplog.text
