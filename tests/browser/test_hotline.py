"""The work-order page (接诉即办) in a real browser: the dispatcher types in an order taken
by phone, choosing the place by the lane's name, lands on its case, then imports the
platform's export, first with a bad row and then corrected."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import WALL, sign_in, submit
from tests.fixtures_cases import whistle_city_fixture  # noqa: F401  (fixture)
from tests.test_hotline_import import csv_bytes, row
from whistle.cases.models import HotlineOrder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_dispatcher_takes_an_order_by_phone_and_imports_the_export(
    new_page, shots, whistle_city, tmp_path
):
    page = new_page(WALL)
    sign_in(page, "longtan-dispatcher")
    page.goto("/dispatch/hotline/")
    page.wait_for_selector("#report-map[data-map-ready=true]")
    shots(page, "1-order-page", full_page=True)

    page.fill("#id_number", "2026051200001")
    page.check("input[name=deadline_class][value=emergency]")
    page.fill("#id_caller_name", "王小明")
    page.fill("#id_caller_phone", "13812341234")
    page.fill("#id_description", "人民市场东巷有游商占道经营，堵住了消防通道")
    search = page.locator("#lane-search")
    search.scroll_into_view_if_needed()
    search.type("人民市场")
    page.wait_for_selector(".lane-result")
    page.locator(".lane-result").first.click()
    page.wait_for_function(
        "() => document.querySelector('[data-place-chosen]').textContent.includes('人民市场东巷')"
    )
    shots(page, "2-order-filled", full_page=True)
    submit(page, "#take-order button[type=submit]")
    page.wait_for_selector(".message-success")
    order = HotlineOrder.objects.get(number="2026051200001")
    assert page.url.endswith(f"/cases/{order.case.reference}/")
    card = page.locator("#order").inner_text()
    assert "2026051200001" in card and "13812341234" in card and "紧急" in card
    assert order.case.lane == whistle_city.lane
    shots(page, "3-case-with-order", full_page=True)

    page.goto("/dispatch/hotline/")
    bad = tmp_path / "12345导出.csv"
    bad.write_bytes(csv_bytes([row("2026051200002"), row("2026 0512"), row("2026051200004")]))
    page.set_input_files("#id_export", str(bad))
    submit(page, "#import-orders button[type=submit]")
    page.wait_for_selector(".import-problems")
    problems = page.locator(".import-problems").inner_text()
    assert "未导入任何工单：有 1 行出错" in problems and "2026 0512" in problems
    assert HotlineOrder.objects.count() == 1
    shots(page, "4-import-refused", full_page=True)

    good = tmp_path / "12345导出-改正.csv"
    good.write_bytes(csv_bytes([row("2026051200001"), row("2026051200002")]))
    page.set_input_files("#id_export", str(good))
    submit(page, "#import-orders button[type=submit]")
    page.wait_for_selector(".message-success")
    assert "已导入 1 个工单并建立案件；1 个此前已受理" in page.locator(".messages").inner_text()
    assert page.locator("#order-2026051200002").is_visible()
    assert HotlineOrder.objects.count() == 2
    shots(page, "5-imported", full_page=True)


@pytest.mark.parametrize(
    ("locale", "button", "browser_words"),
    [("zh-CN", "选择文件", "未选择任何文件"), ("en-US", "Choose a file", "No file chosen")],
)
def test_the_export_is_chosen_with_the_page_s_own_button_in_the_page_s_language(
    new_page, shots, whistle_city, tmp_path, locale, button, browser_words
):
    page = new_page(WALL, locale=locale)
    sign_in(page, "longtan-dispatcher")
    if locale == "en-US" and page.evaluate("document.documentElement.lang") != "en":
        submit(page, ".language-switch button[value=en]")
        page.wait_for_function("document.documentElement.lang === 'en'")
    page.goto("/dispatch/hotline/")
    form = page.locator("#import-orders")
    chooser = form.locator("label.photo-button")
    assert chooser.inner_text().strip() == button
    file_input = form.locator("input[type=file]")
    assert file_input.evaluate("el => getComputedStyle(el).opacity") == "0"
    # The browser's own button and its "no file chosen" are not seen.
    assert browser_words not in form.inner_text()
    file_input.focus()
    assert chooser.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"
    export = tmp_path / "12345-export.csv"
    export.write_bytes(csv_bytes([row("2026051200009")]))
    file_input.set_input_files(str(export))
    expect(form.locator("[data-photo-name]")).to_have_text("12345-export.csv", use_inner_text=True)
    shots(page, f"export-chosen-{locale}")
