"""The admin speaks the page's language throughout, django-axes's sign-in records and
django-otp's TOTP devices included: the names of their apps and models, the headings of
their lists' columns and filters, and the admin's own headings (whistle.accounts.admin_words,
docs/security.md, "The admin")."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

# The lists of the two apps' models, each filled with a row so that its columns show.
THEIR_LISTS = (
    "/admin/axes/accessattempt/",
    "/admin/axes/accesslog/",
    "/admin/axes/accessfailurelog/",
    "/admin/otp_totp/totpdevice/",
)
# Latin words a Chinese heading may hold: names of techniques, not words to translate.
ALLOWED = {"TOTP", "REST", "Webhook", "IP"}
WORD = re.compile(r"(?<![A-Za-z0-9_/-])[A-Za-z]{2,}(?![A-Za-z0-9_/-])")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


class Headings(HTMLParser):
    """The words of a page that name things rather than show rows: the title, headings,
    the index's app captions and model names, column headings (those read out by screen
    readers too), filter titles, breadcrumbs, the search box's help and the actions."""

    TAGS = {"title", "caption", "thead", "h1", "h2", "h3", "summary", "option"}
    CLASSES = {"breadcrumbs", "help"}

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        classes = set((values.get("class") or "").split())
        if (
            tag in self.TAGS
            or classes & self.CLASSES
            or (tag == "th" and values.get("scope") == "row")
        ):
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open and data.strip():
            self.text.append(" ".join(data.split()))


def headings(client, url: str, language: str) -> list[str]:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, url
    page = Headings()
    page.feed(response.content.decode())
    return page.text


@pytest.fixture
def their_rows(admin_user):
    now = timezone.now()
    where = {"ip_address": "10.0.0.1", "user_agent": "Firefox", "path_info": "/accounts/login/"}
    AccessAttempt.objects.create(username="wang", failures_since_start=2, **where)
    AccessLog.objects.create(username="wang", logout_time=now, **where)
    AccessFailureLog.objects.create(username="wang", locked_out=True, **where)
    TOTPDevice.objects.create(user=admin_user, name="phone")


def test_the_chinese_admin_names_the_sign_in_records_and_devices_in_chinese(
    admin_client, their_rows
):
    index = headings(admin_client, "/admin/", "zh-hans")
    for name in ("登录记录", "登录尝试", "登录失败", "登录日志", "两步验证", "身份验证器（TOTP）"):
        assert name in index, name
    english = {
        url: set(WORD.findall(" | ".join(headings(admin_client, url, "zh-hans")))) - ALLOWED
        for url in ("/admin/", *THEIR_LISTS)
    }
    assert english == {url: set() for url in english}
    attempts = " | ".join(headings(admin_client, "/admin/axes/accessattempt/", "zh-hans"))
    for heading in ("尝试时间", "用户名", "路径", "失败次数", "状态", "以 已锁定"):
        assert heading in attempts, heading
    devices = " | ".join(headings(admin_client, "/admin/otp_totp/totpdevice/", "zh-hans"))
    for heading in ("用户", "创建时间", "最近使用时间", "以 已确认", "按用户的用户名"):
        assert heading in devices, heading


def test_the_english_admin_names_them_in_english(admin_client, their_rows):
    index = headings(admin_client, "/admin/", "en")
    for name in ("Sign-in records", "Access attempts", "Two-factor sign-in", "TOTP devices"):
        assert name in index, name
    for url in ("/admin/", *THEIR_LISTS):
        chinese = [text for text in headings(admin_client, url, "en") if CHINESE.search(text)]
        assert chinese == [], url
    attempts = " | ".join(headings(admin_client, "/admin/axes/accessattempt/", "en"))
    for heading in ("Attempt Time", "Username", "Failed Logins", "Status", "By Locked Out"):
        assert heading in attempts, heading
    devices = " | ".join(headings(admin_client, "/admin/otp_totp/totpdevice/", "en"))
    for heading in ("User", "Created at", "By confirmed", "Search by the user's username"):
        assert heading in devices, heading


def title(client, url: str, language: str) -> str:
    """The tab title of the admin's answer to an empty form sent to `url`."""
    response = client.post(url, {}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, url
    found = re.search(r"<title>(.*?)</title>", response.content.decode(), re.S)
    assert found
    return " ".join(found.group(1).split())


def test_a_form_with_errors_says_so_in_the_tab_title_in_the_pages_language(admin_client):
    assert title(admin_client, "/admin/otp_totp/totpdevice/add/", "zh-hans").startswith("错误：")
    assert title(admin_client, "/admin/otp_totp/totpdevice/add/", "en").startswith("Error: ")


@pytest.mark.parametrize(
    ("language", "sector", "district"),
    [("en", "Urban management", "Dongcheng District"), ("zh-hans", "城市管理", "东城区")],
)
def test_the_admins_choices_of_places_and_sectors_read_in_the_pages_language(
    admin_client, small_city, language, sector, district
):
    from whistle.organisation.models import Sector

    Sector.objects.filter(code="urban_management").update(
        name="城市管理", name_en="Urban management"
    )
    small_city.district.name_en = "Dongcheng District"
    small_city.district.save()
    page = admin_client.get(
        "/admin/organisation/department/add/", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    assert re.search(rf"<option value=\"\d+\">{sector}</option>", page)
    assert re.search(rf"<option value=\"\d+\"[^>]*>{district}</option>", page)
