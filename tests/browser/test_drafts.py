"""What a person typed into a form outlives their session's end: sent once the session has
lapsed, the form leads to the sign-in page, and back on its page the text is there again
(static/whistle/drafts.js). Only for the same person, and never after the form went
through."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, sign_in, standing_at, submit
from tests.fixtures_street import street_fixture  # noqa: F401
from whistle.cases.models import Case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ON_THE_LANE = (116.43205, 39.8731)
REPORT = "/patrol/report/"
DESCRIPTION = "人民市场东巷北口有游商占道经营，三个摊位堵住了消防通道，劝说后仍不离开"
RESTORED = "您在登录失效前填写的内容已恢复，请检查后重新提交。"
# The sign-in page, leading back to the report form.
SIGN_IN_BACK_TO_REPORT = re.compile(r"/accounts/login/\?next=(/|%2F)patrol(/|%2F)report(/|%2F)$")
DRAFTS = "() => Object.keys(sessionStorage).filter((key) => key.startsWith('whistle.draft:'))"


def sign_in_again(page, username: str, landing: str) -> None:
    """On the sign-in page the lapsed session led to: the password, then back to the page."""
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-123456")
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"**{landing}")


def write_a_report_and_lose_the_session(page, street) -> None:
    page.goto(REPORT)
    page.wait_for_selector("[data-report-form]")
    # The categories suggested for the words come first (htmx asks as the person types).
    with page.expect_response(lambda response: "/suggest/?description=%E4" in response.url):
        page.fill("#id_description", DESCRIPTION)
    page.select_option("#id_category", str(street.vending.pk))
    # The session lapsed: the browser dropped its cookie.
    page.context.clear_cookies(name="sessionid")
    submit(page, "button:has-text('提交上报')")
    page.wait_for_url(SIGN_IN_BACK_TO_REPORT)
    expect(page.locator(".messages")).to_have_text("您的登录已失效，请重新登录后继续。")


def test_a_report_written_as_the_session_ended_is_there_again_after_signing_in(
    new_page, shots, street
):
    page = new_page(PHONE, **standing_at(ON_THE_LANE, 6))
    sign_in(page, "wang-fang")
    write_a_report_and_lose_the_session(page, street)
    assert page.evaluate(DRAFTS) != []
    sign_in_again(page, "wang-fang", REPORT)

    form = page.locator("[data-report-form]")
    expect(form.locator("[data-draft-restored]")).to_have_text(RESTORED)
    expect(page.locator("#id_description")).to_have_value(DESCRIPTION)
    expect(page.locator("#id_category")).to_have_value(str(street.vending.pk))
    expect(page.locator("#id_description")).to_be_focused()
    # Put back once: the draft is gone from the tab.
    assert page.evaluate(DRAFTS) == []
    # Nothing went into the phone's queue, and nothing reached the server.
    expect(page.locator("[data-offline-panel]")).to_be_hidden()
    assert Case.objects.count() == 0
    shots(page, "1-restored", full_page=True)

    # Sent again, signed in, with the place: the report goes through.
    page.click("[data-geolocate-button]")
    page.wait_for_function("() => document.getElementById('id_lat').value !== ''")
    submit(page, "button:has-text('提交上报')")
    expect(page.locator("main")).to_contain_text("上报成功")
    assert Case.objects.get(reporter=street.steward).description == DESCRIPTION
    assert page.evaluate(DRAFTS) == []

    # The next time the session lapses, the report form opens empty: what was sent is not
    # offered again.
    page.context.clear_cookies(name="sessionid")
    page.goto(REPORT)
    page.wait_for_url(SIGN_IN_BACK_TO_REPORT)
    sign_in_again(page, "wang-fang", REPORT)
    expect(page.locator("#id_description")).to_have_value("")
    expect(page.locator("[data-draft-restored]")).to_have_count(0)


def test_another_person_signing_in_on_the_same_phone_never_sees_the_text(new_page, shots, street):
    page = new_page(PHONE, **standing_at(ON_THE_LANE, 6))
    sign_in(page, "wang-fang")
    write_a_report_and_lose_the_session(page, street)
    assert page.evaluate(DRAFTS) != []

    # Another steward takes the phone and signs in: the sign-in page leads to the report form.
    sign_in_again(page, "ma-lin", REPORT)
    expect(page.locator("#id_description")).to_have_value("")
    expect(page.locator("[data-draft-restored]")).to_have_count(0)
    assert DESCRIPTION not in page.content()
    # And it is gone, not waiting for its author.
    assert page.evaluate(DRAFTS) == []
    shots(page, "another-person")


def test_a_report_being_typed_as_the_session_ends_is_there_again_after_signing_in(new_page, street):
    """The categories suggested as the person types find the session ended and take the
    whole page to the sign-in page, the report unsent: its text comes back all the same."""
    page = new_page(PHONE, **standing_at(ON_THE_LANE, 6))
    sign_in(page, "wang-fang")
    page.goto(REPORT)
    page.wait_for_selector("[data-report-form]")
    page.context.clear_cookies(name="sessionid")
    page.fill("#id_description", DESCRIPTION)
    page.wait_for_url(SIGN_IN_BACK_TO_REPORT)
    sign_in_again(page, "wang-fang", REPORT)
    expect(page.locator("[data-draft-restored]")).to_have_text(RESTORED)
    expect(page.locator("#id_description")).to_have_value(DESCRIPTION)
    assert Case.objects.count() == 0
