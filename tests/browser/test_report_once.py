"""A report form tapped twice on a phone files one case: the page sends it once and shows
it busy, the server files its one-time key once, and the back button after sending brings
an empty form that says the report was sent."""

from __future__ import annotations

import threading

import pytest

from tests.browser.conftest import PHONE, sign_in, standing_at, submit
from tests.fixtures_street import ON_THE_LANE, street_fixture  # noqa: F401
from whistle.cases.models import Case
from whistle.street import views_patrol

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BUTTON = "[data-report-form] button:has-text('提交上报')"


@pytest.fixture
def held(monkeypatch) -> tuple[list[str], threading.Event]:
    """The staff's filings, each held until the test lets them go: the first sending is
    still on its way while the page is tapped again."""
    filed: list[str] = []
    go = threading.Event()

    def report_case(*args, **kwargs):
        filed.append(kwargs["description"])
        go.wait(10)
        return original(*args, **kwargs)

    original = views_patrol.report_case
    monkeypatch.setattr(views_patrol, "report_case", report_case)
    return filed, go


def test_a_double_tap_on_the_staff_report_files_one_case_and_back_brings_an_empty_form(
    new_page, street, held
):
    filed, go = held
    page = new_page(PHONE, **standing_at(ON_THE_LANE, 6))
    sign_in(page, "wang-fang")
    page.goto("/patrol/report/")
    page.fill("#id_description", "人民市场东巷口有小贩摆摊卖水果")
    page.click("[data-geolocate-button]")
    page.wait_for_function("() => document.getElementById('id_lon').value !== ''")

    # What the page does while the request is on its way, written where the next page of
    # the tab reads it (a page navigating away answers no script).
    page.evaluate(
        """() => {
            const form = document.querySelector("[data-report-form]");
            const button = form.querySelector("button[type=submit]");
            const seen = [];
            new MutationObserver(() => {
                seen.push([button.disabled, button.getAttribute("aria-busy"), button.textContent]);
                sessionStorage.setItem("seen", JSON.stringify(seen));
            }).observe(button, {attributes: true, childList: true, characterData: true});
            window.addEventListener("submit", (event) => {
                if (event.defaultPrevented) return;
                const sent = Number(sessionStorage.getItem("sent") || 0) + 1;
                sessionStorage.setItem("sent", String(sent));
                // A third tap, by script, once the first is on its way.
                setTimeout(() => form.requestSubmit(), 50);
            });
        }"""
    )
    page.dblclick(BUTTON, no_wait_after=True)
    page.wait_for_timeout(800)
    assert filed == ["人民市场东巷口有小贩摆摊卖水果"]
    go.set()
    page.wait_for_selector("text=上报成功")
    assert page.evaluate("sessionStorage.getItem('sent')") == "1"
    assert [True, "true", "发送中……"] in page.evaluate("JSON.parse(sessionStorage.getItem('seen'))")
    case = Case.objects.get()
    assert case.reference in page.locator("main").inner_text()

    page.go_back()
    note = page.locator("[data-form-sent-note]")
    note.wait_for()
    assert "您的上报已提交" in note.inner_text()
    assert page.input_value("#id_description") == ""
    assert not page.locator(BUTTON).is_disabled()
    assert Case.objects.count() == 1


def test_a_residents_another_question_still_works_under_the_guard(new_page, street):
    page = new_page(PHONE)
    page.goto("/report/")
    page.fill("#id_description", "夕照寺中街路边堆了很多建筑垃圾")
    first = page.locator(".captcha-image").get_attribute("src")
    submit(page, "button:has-text('换一题')")
    assert page.locator(".captcha-image").get_attribute("src") != first
    assert page.input_value("#id_description") == "夕照寺中街路边堆了很多建筑垃圾"
    assert page.locator(".form-errors").count() == 0
    assert not Case.objects.exists()
