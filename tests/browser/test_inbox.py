"""The notification centre in a real browser, in the demo city: the officer's unread count in
the header, the inbox and its filters, a notification followed to its summons, marking read,
a new notification arriving without a reload, and quiet hours on the officer's own page."""

from __future__ import annotations

from datetime import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, open_menu, sign_in
from whistle.notifications.models import Channel, Notification, NotificationPreference
from whistle.notifications.outbox import notify, unread_count
from whistle.organisation.models import Person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}
DEMO_PASSWORD = "whistle-demo-2026"


@pytest.fixture
def demo_city(settings):
    # Pages poll the count every second here, so that the new notification shows soon.
    settings.WHISTLE_INBOX_POLL_SECONDS = 1
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        call_command("seed_demo", stdout=StringIO())
    return Person.objects.get(username="officer-urban")


def header_count(page) -> str:
    return page.locator("#inbox-link .inbox-count").inner_text()


def shown(count: int) -> str:
    return "99+" if count > 99 else str(count)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_demo_officer_reads_their_notifications_and_sets_quiet_hours(
    new_page, shots, demo_city, viewport
):
    officer = demo_city
    unread = unread_count(officer)
    assert unread > 0  # the demo's history summoned the officer's department

    page = new_page(viewport)
    sign_in(page, "officer-urban", DEMO_PASSWORD)
    page.goto("/")
    assert header_count(page) == shown(unread)
    shots(page, "1-header")

    # The inbox, from the header.
    page.click("#inbox-link")
    page.wait_for_url("**/inbox/")
    assert page.locator("#inbox-link").get_attribute("aria-current") == "page"
    assert page.locator(".inbox-entry.is-unread").count() > 0
    shots(page, "2-inbox", full_page=True)
    # "Mark read" starts where the subject and the body above it start, not indented.
    starts = page.locator(".inbox-entry.is-unread:has(.inbox-body)").first.evaluate(
        """(entry) => ['.inbox-subject a', '.inbox-body', '.inbox-read button'].map((s) => {
            const range = document.createRange();
            range.selectNodeContents(entry.querySelector(s).firstChild);
            return Math.round(range.getBoundingClientRect().left);
        })"""
    )
    assert max(starts) - min(starts) <= 1, starts
    settings_link = page.locator(".inbox-page .page-head a")
    assert settings_link.bounding_box()["height"] >= 44

    # A notification queued while the page is open shows without a reload.
    page.evaluate("window.notReloaded = true")
    notify(officer, kind="case.closed", subject="测试：新的通知", body="", channels=[Channel.INBOX])
    page.wait_for_function(
        "(n) => document.querySelector('#inbox-link .inbox-count').textContent.trim() === n",
        arg=shown(unread + 1),
    )
    page.locator(".inbox-entry", has_text="测试：新的通知").wait_for()
    assert page.evaluate("window.notReloaded") is True
    shots(page, "3-arrived")

    # Filtered to one case, the newest notification about a summons leads to its card.
    entry = (
        Notification.objects.filter(
            recipient=officer, channel=Channel.INBOX, link__contains="#summons-"
        )
        .order_by("-created_at", "-id")
        .first()
    )
    assert entry is not None
    case = entry.payload["case"]
    if not page.locator("details.inbox-filters").get_attribute("open"):
        page.click("details.inbox-filters summary")
    page.fill("#id_case", case)
    page.click(".inbox-filters button[type=submit]")
    page.wait_for_url(f"**/inbox/?*case={case}*")
    assert page.locator(".inbox-entry").count() >= 1
    shots(page, "4-filtered", full_page=True)
    page.click(f"#n-{entry.uuid.hex} .inbox-subject a")
    summons = entry.link.split("#", 1)[1]
    page.wait_for_url(f"**/cases/{case}/#{summons}")
    assert page.locator(f"#{summons}").is_visible()
    entry.refresh_from_db()
    assert entry.read_at is not None
    shots(page, "5-summons")

    # Back in the inbox: one marked read, then all of them.
    page.goto("/inbox/?state=unread")
    before = unread_count(officer)
    first = page.locator(".inbox-entry.is-unread").first
    with page.expect_navigation():
        first.locator(".inbox-read button").click()
    assert unread_count(officer) == before - 1
    assert header_count(page) == shown(before - 1)
    page.click(".inbox-list-head button[type=submit]")
    page.wait_for_selector(".message-success")
    assert unread_count(officer) == 0
    assert page.locator("#inbox-link .inbox-count").count() == 0
    shots(page, "6-all-read")

    # Quiet hours, on the officer's own settings page in the header.
    open_menu(page)
    page.click("header a[href='/settings/']")
    page.wait_for_url("**/settings/")
    page.fill("#id_quiet_from", "22:00")
    page.fill("#id_quiet_until", "07:00")
    shots(page, "7-settings", full_page=True)
    page.click("#notification-settings button[type=submit]")
    page.wait_for_selector(".message-success")
    preference = NotificationPreference.objects.get(person=officer)
    assert (preference.quiet_from, preference.quiet_until) == (time(22, 0), time(7, 0))
    assert page.input_value("#id_quiet_from") == "22:00"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shots(page, "8-saved")


def test_a_form_sent_after_the_session_ended_leads_back_to_its_page(new_page, demo_city):
    page = new_page(DESKTOP)
    sign_in(page, "officer-urban", DEMO_PASSWORD)
    page.goto("/inbox/")
    unread = page.locator(".inbox-entry.is-unread").count()
    assert unread > 0
    # The session lapsed: the browser dropped its cookie.
    page.context.clear_cookies(name="sessionid")
    page.click("form[action='/inbox/read/'] button")
    page.wait_for_url("**/accounts/login/?next=%2Finbox%2F")
    assert page.locator(".messages").inner_text().strip() == "您的登录已失效，请重新登录后继续。"
    page.fill("#id_username", "officer-urban")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/inbox/")
    assert "405" not in page.title()
    # Nothing was marked read: the person sends the form again, now signed in.
    assert page.locator(".inbox-entry.is-unread").count() == unread


def test_the_command_centre_whose_session_ended_opens_the_sign_in_page_whole(new_page, demo_city):
    """The board polls every 5 s: once the session has ended, the whole page goes to the
    sign-in page and says why, instead of showing the sign-in form inside the board."""
    page = new_page(DESKTOP)
    sign_in(page, "dispatcher", DEMO_PASSWORD)
    page.goto("/dispatch/")
    page.wait_for_selector("[data-poll]")
    log = []
    page.on(
        "response",
        lambda r: log.append(
            (r.request.method, r.url, r.status, r.request.headers.get("hx-request"))
        ),
    )
    page.context.clear_cookies(name="sessionid")
    page.wait_for_url("**/accounts/login/?next=%2Fdispatch%2F", timeout=20_000)
    expect(page.locator(".messages")).to_have_text("您的登录已失效，请重新登录后继续。")
    assert page.locator("form.form #id_username").count() == 1
