"""The street pages in a real browser on a 360 × 740 phone: a steward's patrol from start to
end with a one-tap report, and a resident's report and its follow-up without an account."""

from __future__ import annotations

import io

import pytest
from django.contrib.sessions.backends.db import SessionStore
from PIL import Image

from tests.browser.conftest import PHONE, sign_in
from tests.fixtures_street import street_fixture  # noqa: F401
from whistle.cases.models import Case
from whistle.patrols.models import CheckResult, Patrol
from whistle.street import captcha

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Walking north along 人民市场东巷 (its centre line runs from 39.872 to 39.87384).
WALK = [(116.43205, 39.8721), (116.43205, 39.8726), (116.43205, 39.8731), (116.43205, 39.8736)]


def phone_png(path) -> str:
    """A small photo-like PNG for the file input."""
    image = Image.effect_noise((320, 240), 40).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    small = page.evaluate(
        """() => [...document.querySelectorAll('main a, main button, main select, main input')]
            .filter((el) => el.offsetParent !== null && el.type !== 'hidden')
            .filter((el) => !['radio', 'checkbox'].includes(el.type))
            .filter((el) => !el.closest('.leaflet-container'))
            .filter((el) => el.getBoundingClientRect().height < 44)
            .map((el) => el.outerHTML.slice(0, 90))"""
    )
    assert small == []


def test_a_steward_patrols_ticks_the_checklist_and_reports_with_a_photo(
    new_page, shots, street, tmp_path, settings
):
    # The test walks 55 m a second to save time; a real walk stays under the default 8 m/s.
    settings.WHISTLE_PATROL_MAX_SPEED_MPS = 100
    page = new_page(
        PHONE,
        geolocation={"longitude": WALK[0][0], "latitude": WALK[0][1], "accuracy": 6},
        permissions=["geolocation"],
    )
    sign_in(page, "wang-fang")
    page.click("text=巡查我的街巷")
    page.wait_for_selector("[data-map][data-map-ready=true]")
    assert "人民市场东巷" in page.locator("main h3").first.inner_text()
    fits_the_phone(page)
    shots(page, "1-my-lanes", full_page=True)

    page.click("button:has-text('开始巡查')")
    page.wait_for_selector("[data-patrol]")
    assert page.locator(".check-item").count() == 13
    # Walk north: each new position reaches the page's watch.
    for lon, lat in WALK[1:]:
        page.wait_for_timeout(1100)
        page.context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 6})
    page.wait_for_function("window.Whistle.patrol.queue().length >= 3")
    page.evaluate("window.Whistle.patrol.flush()")
    page.wait_for_function(
        "document.querySelector('[data-patrol-distance]').textContent.trim() !== '0 米'"
    )
    patrol = Patrol.objects.get(person=street.steward)
    assert patrol.point_count >= 3 and patrol.distance_m > 100
    assert "正在记录巡查路线" in page.locator("[data-patrol-status]").inner_text()
    fits_the_phone(page)
    shots(page, "2-patrol-recording")

    parking = page.locator("#item-no-illegal-parking")
    parking.locator("button[value=ok]").click()
    page.wait_for_selector("#item-no-illegal-parking.is-ok")
    assert parking.locator("button[value=ok]").get_attribute("aria-pressed") == "true"
    assert page.evaluate("document.activeElement.value") == "ok"
    trading = page.locator("#item-no-road-trading")
    trading.locator("button[value=problem]").click()
    page.wait_for_selector("#item-no-road-trading .problem-actions")
    trading.scroll_into_view_if_needed()
    shots(page, "3-checklist-problem")

    trading.locator("text=上报问题").click()
    page.wait_for_selector("[data-report-form]")
    assert page.input_value("#id_description") == "人民市场东巷：占道经营"
    page.set_input_files("#id_photo", phone_png(tmp_path / "stall.png"))
    page.fill("#id_description", "人民市场东巷：占道经营，巷口有小贩摆摊卖水果")
    page.wait_for_selector("[data-pick-category]")
    page.click("[data-pick-category]")
    assert page.input_value("#id_category") == str(street.vending.pk)
    page.click("[data-geolocate-button]")
    page.wait_for_function("document.querySelector('.geolocate-status').textContent.includes('6')")
    assert float(page.input_value("#id_lat")) == pytest.approx(WALK[-1][1])
    fits_the_phone(page)
    shots(page, "4-report-form", full_page=True)

    page.click("button:has-text('提交上报')")
    page.wait_for_selector("text=上报成功")
    case = Case.objects.get(reporter=street.steward)
    assert case.category == street.vending and case.attachments.count() == 1
    assert case.reference in page.locator("main").inner_text()
    shots(page, "5-reported", full_page=True)

    page.click("main >> text=我的上报")
    page.wait_for_url("**/patrol/reports/")
    page.wait_for_selector(f"text={case.reference}")
    fits_the_phone(page)
    shots(page, "6-my-reports", full_page=True)

    page.goto(f"/patrol/walk/{patrol.uuid}/")
    assert case.reference in page.locator("#item-no-road-trading").inner_text()
    page.click("button:has-text('结束巡查')")
    page.wait_for_selector("text=巡查已结束")
    patrol.refresh_from_db()
    assert patrol.ended_at is not None
    checks = dict(CheckResult.objects.filter(patrol=patrol).values_list("item", "outcome"))
    assert checks["no-road-trading"] == "reported" and len(checks) == 13
    shots(page, "7-patrol-ended", full_page=True)


def test_a_patrol_goes_on_when_the_position_is_denied(new_page, shots, street):
    page = new_page(PHONE)  # no geolocation permission: Chromium answers "denied"
    sign_in(page, "wang-fang")
    page.goto("/patrol/")
    page.click("button:has-text('开始巡查')")
    page.wait_for_function(
        "document.querySelector('[data-patrol-status]').textContent.includes('未获得')"
    )
    page.wait_for_timeout(300)
    assert Patrol.objects.get(person=street.steward).location == "denied"
    page.locator("#item-dog-waste button[value=ok]").click()
    page.wait_for_selector("#item-dog-waste.is-ok")
    shots(page, "denied")


def test_a_resident_reports_without_an_account_and_follows_it(new_page, shots, street, tmp_path):
    page = new_page(
        PHONE,
        geolocation={"longitude": 116.4321, "latitude": 39.8729, "accuracy": 15},
        permissions=["geolocation"],
    )
    page.goto("/report/")
    assert page.get_attribute("html", "lang") == "zh-CN"
    fits_the_phone(page)
    shots(page, "1-form", full_page=True)

    page.set_input_files("#id_photo", phone_png(tmp_path / "rubbish.png"))
    page.fill("#id_description", "夕照寺中街路边堆了很多建筑垃圾")
    page.click("[data-geolocate-button]")
    page.wait_for_function("document.getElementById('id_lon').value !== ''")
    page.fill("#id_name", "赵磊")
    page.fill("#id_phone", "1380013800")  # one digit short
    page.click("summary:has-text('看不清图片')")
    raw = {c["name"]: c["value"] for c in page.context.cookies()}
    session = SessionStore(session_key=raw["sessionid"])
    challenge = session.load()[captcha.SESSION_KEY]
    wrong = challenge["a"] + challenge["b"] + 100
    page.fill("#id_captcha", str(wrong))
    shots(page, "2-captcha-text", full_page=True)
    page.click("button:has-text('提交上报')")
    page.wait_for_selector(".form-errors")
    assert "答案不正确" in page.locator(".form-errors").inner_text()
    assert page.input_value("#id_description") == "夕照寺中街路边堆了很多建筑垃圾"
    assert page.locator(".photo-kept img").is_visible()
    fits_the_phone(page)
    shots(page, "3-refused-values-kept", full_page=True)

    challenge = SessionStore(session_key=raw["sessionid"]).load()[captcha.SESSION_KEY]
    solved = (
        challenge["a"] + challenge["b"]
        if challenge["op"] == "+"
        else challenge["a"] - challenge["b"]
    )
    page.fill("#id_phone", "13800138000")
    page.fill("#id_captcha", str(solved))
    page.click("button:has-text('提交上报')")
    page.wait_for_selector("[data-reference]")
    case = Case.objects.get(source="resident")
    assert page.locator("[data-reference]").inner_text() == case.reference
    assert case.attachments.count() == 1
    fits_the_phone(page)
    shots(page, "4-reference", full_page=True)

    other = new_page(PHONE)
    other.goto("/report/follow/")
    other.fill("#id_reference", case.reference.lower())
    other.click("button:has-text('查看进度')")
    other.wait_for_selector(".timeline")
    assert "问题已上报" in other.locator(".timeline").inner_text()
    assert "赵磊" not in other.content() and "13800138000" not in other.content()
    fits_the_phone(other)
    shots(other, "5-follow", full_page=True)
