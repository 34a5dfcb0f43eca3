"""The street pages in a real browser on a 360 × 740 phone: a steward's patrol from start to
end with a one-tap report, and a resident's report and its follow-up without an account."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, open_menu, sign_in, standing_at, submit
from tests.conftest import make_person
from tests.fixtures_cases import device_fix
from tests.fixtures_street import ON_THE_LANE, noisy_jpeg, reported, street_fixture  # noqa: F401
from whistle.cases.actions import (
    acknowledge,
    blow_whistle,
    check_in,
    check_passed,
    close_case,
    escalate,
    file_case,
    release,
    report_resident_case,
    report_result,
    solve_on_spot,
)
from whistle.cases.models import Case, Summons
from whistle.organisation.models import Role
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
    """No sideways scrolling, and every tap target at least 44 px high, and 44 px wide when
    it stands alone."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    small = page.evaluate(
        """() => [...document.querySelectorAll('main a, main button, main select, main input')]
            .filter((el) => el.offsetParent !== null && el.type !== 'hidden')
            .filter((el) => !['radio', 'checkbox'].includes(el.type))
            .filter((el) => !el.closest('.leaflet-container'))
            // A file input stands invisible under the label that is its button.
            .filter((el) => getComputedStyle(el).opacity !== '0')
            .filter((el) => {
                const box = el.getBoundingClientRect();
                // A link inside running text is as wide as its words; one standing alone
                // (styled as a target, not inline) is tapped with a finger.
                const alone = getComputedStyle(el).display !== "inline";
                return box.height < 44 || (alone && box.width < 44);
            })
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
        **standing_at(WALK[0], 6),
    )
    sign_in(page, "wang-fang")
    open_menu(page)
    page.click("text=巡查我的街巷")
    page.wait_for_selector("[data-map][data-map-ready=true]")
    assert "人民市场东巷" in page.locator("main h3").first.inner_text()
    fits_the_phone(page)
    shots(page, "1-my-lanes", full_page=True)

    submit(page, "button:has-text('开始巡查')")
    page.wait_for_selector("[data-patrol]")
    assert page.locator(".check-item").count() == 13
    # Walk north: each new position reaches the page's watch.
    for lon, lat in WALK[1:]:
        page.wait_for_timeout(1100)
        page.context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 6})
    page.wait_for_function("() => window.Whistle.patrol.queue().length >= 3")
    page.evaluate("window.Whistle.patrol.flush()")
    page.wait_for_function(
        "() => document.querySelector('[data-patrol-distance]').textContent.trim() !== '0 米'"
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
    expect(parking.locator("button[value=ok]")).to_be_focused()
    trading = page.locator("#item-no-road-trading")
    trading.locator("button[value=problem]").click()
    page.wait_for_selector("#item-no-road-trading .problem-actions")
    trading.scroll_into_view_if_needed()
    shots(page, "3-checklist-problem")

    submit(page, trading.locator("text=上报问题"))
    page.wait_for_selector("[data-report-form]")
    assert page.input_value("#id_description") == "人民市场东巷：占道经营"
    page.set_input_files("#id_photo", phone_png(tmp_path / "stall.png"))
    page.fill("#id_description", "人民市场东巷：占道经营，巷口有小贩摆摊卖水果")
    page.wait_for_selector("[data-pick-category]")
    page.click("[data-pick-category]")
    expect(page.locator("#id_category")).to_have_value(str(street.vending.pk))
    page.click("[data-geolocate-button]")
    page.wait_for_function(
        "() => document.querySelector('.geolocate-status').textContent.includes('6')"
    )
    assert float(page.input_value("#id_lat")) == pytest.approx(WALK[-1][1])
    fits_the_phone(page)
    shots(page, "4-report-form", full_page=True)

    submit(page, "button:has-text('提交上报')")
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
    submit(page, "button:has-text('结束巡查')")
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
    # Once it says so, the page tells the server the position is denied.
    with page.expect_response(
        lambda response: (
            "/positions/" in response.url and "denied" in (response.request.post_data or "")
        )
    ):
        submit(page, "button:has-text('开始巡查')")
        page.wait_for_url("**/patrol/walk/**")
        page.wait_for_function(
            "() => document.querySelector('[data-patrol-status]')?.textContent.includes('未获得')"
        )
    assert Patrol.objects.get(person=street.steward).location == "denied"
    page.locator("#item-dog-waste button[value=ok]").click()
    page.wait_for_selector("#item-dog-waste.is-ok")
    shots(page, "denied")


def test_a_resident_reports_without_an_account_and_follows_it(new_page, shots, street, tmp_path):
    page = new_page(
        PHONE,
        **standing_at((116.4321, 39.8729), 15),
    )
    page.goto("/report/")
    assert page.get_attribute("html", "lang") == "zh-CN"
    fits_the_phone(page)
    shots(page, "1-form", full_page=True)

    page.set_input_files("#id_photo", phone_png(tmp_path / "rubbish.png"))
    page.fill("#id_description", "夕照寺中街路边堆了很多建筑垃圾")
    page.click("[data-geolocate-button]")
    page.wait_for_function("() => document.getElementById('id_lon').value !== ''")
    page.fill("#id_name", "赵磊")
    page.fill("#id_phone", "1380013800")  # one digit short
    page.click("summary:has-text('看不清图片')")
    wrong = open_challenge(page).answer + 100
    page.fill("#id_captcha", str(wrong))
    shots(page, "2-captcha-text", full_page=True)
    submit(page, "button:has-text('提交上报')")
    page.wait_for_selector(".form-errors")
    assert "答案不正确" in page.locator(".form-errors").inner_text()
    assert page.input_value("#id_description") == "夕照寺中街路边堆了很多建筑垃圾"
    # A photo is opened only once the question is answered: the form asks for it again.
    assert "请先回答问题，再重新选择照片。" in page.locator(".photo-field").inner_text()
    fits_the_phone(page)
    shots(page, "3-refused-values-kept", full_page=True)

    page.set_input_files("#id_photo", phone_png(tmp_path / "rubbish.png"))
    page.fill("#id_phone", "13800138000")
    page.fill("#id_captcha", str(open_challenge(page).answer))
    submit(page, "button:has-text('提交上报')")
    page.wait_for_selector("[data-reference]")
    case = Case.objects.get(source="resident")
    assert page.locator("[data-reference]").inner_text() == case.reference
    assert case.attachments.count() == 1
    fits_the_phone(page)
    shots(page, "4-reference", full_page=True)

    other = new_page(PHONE)
    other.goto("/report/follow/")
    other.fill("#id_reference", case.reference.lower())
    submit(other, "button:has-text('查看进度')")
    other.wait_for_selector(".timeline")
    assert "问题已上报" in other.locator(".timeline").inner_text()
    assert "赵磊" not in other.content() and "13800138000" not in other.content()
    fits_the_phone(other)
    shots(other, "5-follow", full_page=True)


def open_challenge(page) -> captcha.Challenge:
    """The question the browser holds, read as the server reads it."""
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    challenge = captcha.opened(cookies[captcha.COOKIE])
    assert challenge is not None
    return challenge


def solve_the_captcha(page) -> None:
    """Type the answer to the browser's open question, as a person reading it would."""
    page.fill("#id_captcha", str(open_challenge(page).answer))


def close_through_the_township(street, case: Case) -> Case:
    """The township files the resident's case, clears it on the spot, checks and closes it."""
    file_case(street.dispatcher, case, category=street.garbage)
    solve_on_spot(street.dispatcher, case, note="已清运")
    check_passed(street.dispatcher, case)
    return close_case(street.dispatcher, case)


def test_a_resident_taps_the_map_reports_and_rates_with_the_follow_link(new_page, shots, street):
    page = new_page(PHONE)
    page.goto("/report/")
    page.wait_for_selector("#report-map[data-map-ready=true]")
    fits_the_phone(page)

    # A long description: the counter counts as the resident types, nothing is cut.
    page.fill("#id_description", "夕照寺中街路边堆了很多建筑垃圾。" * 266)
    counter = page.locator("#id_description-count")
    assert counter.inner_text() == "4256 / 4000 · 超出 256 个字"
    assert "is-over" in (counter.get_attribute("class") or "")
    assert page.evaluate("document.getElementById('id_description').value.length") == 4256
    page.locator("#id_description").scroll_into_view_if_needed()
    shots(page, "1-counter-over-the-limit")
    page.fill("#id_description", "夕照寺中街路边堆了很多建筑垃圾，已经好几天了")
    assert counter.inner_text() == "22 / 4000"

    # A tap on the map where the rubbish lies, a few metres from 人民市场东巷.
    page.locator("#report-map").scroll_into_view_if_needed()
    x, y = page.evaluate(
        """([lon, lat]) => {
            const el = document.getElementById('report-map');
            const handle = el._whistleMap;
            handle.map.setView([lat, lon], 17, {animate: false});
            const p = handle.map.latLngToContainerPoint([lat, lon]);
            const box = el.getBoundingClientRect();
            return [box.left + p.x + 4, box.top + p.y];
        }""",
        [116.432, 39.8729],
    )
    page.mouse.click(x, y)
    page.wait_for_function("() => document.getElementById('id_lon').value !== ''")
    chosen = page.locator("[data-place-chosen]")
    chosen.wait_for()
    page.wait_for_function(
        "() => document.querySelector('[data-place-chosen]').textContent.includes('人民市场东巷')"
    )
    assert chosen.inner_text() == "将上报至：龙潭街道 · 人民市场东巷。"
    assert page.input_value("#id_accuracy_m") == ""
    fits_the_phone(page)
    shots(page, "2-tapped-the-map")

    solve_the_captcha(page)
    submit(page, "button:has-text('提交上报')")
    page.wait_for_selector("[data-follow-link]")
    case = Case.objects.get(source="resident")
    assert case.lane == street.lane
    link = page.locator("[data-copy-text]").inner_text()
    assert link.startswith(f"{page.url.split('/report/')[0]}/report/follow/{case.reference}/?key=")
    assert page.locator("text=此链接只显示一次。").is_visible()
    assert page.locator("[data-copy]").is_visible()
    fits_the_phone(page)
    shots(page, "3-thanks-with-the-follow-link", full_page=True)

    submit(page, "a:has-text('查询办理进度')")
    page.wait_for_selector(".timeline")
    assert "key=" in page.url
    assert page.locator("input[name=rating]").count() == 0
    shots(page, "4-followed-while-open", full_page=True)

    close_through_the_township(street, case)
    page.reload()
    page.wait_for_selector("input[name=rating]")
    fits_the_phone(page)
    shots(page, "5-rating-form", full_page=True)
    page.locator("label.rating-option:has-text('5 · 非常满意')").click()
    page.fill("#id_comment", "清理得很及时，谢谢")
    submit(page, "button:has-text('提交评价')")
    page.wait_for_selector("text=谢谢！您的评价已记录。")
    case.refresh_from_db()
    assert (case.resident_rating, case.resident_satisfied) == (5, True)
    shots(page, "6-rated", full_page=True)


def test_someone_with_only_the_reference_sees_no_rating_form(new_page, shots, street):
    lon, lat = 116.4321, 39.8729
    report = report_resident_case(description="路边堆了建筑垃圾", lon=lon, lat=lat)
    close_through_the_township(street, report.case)
    page = new_page(PHONE)
    page.goto("/report/follow/")
    page.fill("#id_reference", report.case.reference)
    submit(page, "button:has-text('查看进度')")
    page.wait_for_selector(".timeline")
    assert "已结案" in page.locator("main").inner_text()
    assert page.locator("input[name=rating]").count() == 0
    assert page.locator("[data-rating-reporter-only]").is_visible()
    fits_the_phone(page)
    shots(page, "1-reference-only", full_page=True)
    page.goto(f"/report/follow/{report.case.reference}/?key=a-guessed-key")
    assert page.locator("[data-wrong-key]").is_visible()
    assert page.locator("input[name=rating]").count() == 0
    shots(page, "2-wrong-key", full_page=True)


def test_a_signed_in_resident_sees_on_a_phone_what_they_reported(new_page, shots, street):
    zhao = make_person("zhao-lei", Role.RESIDENT)
    lon, lat = 116.4321, 39.8729
    report = report_resident_case(
        # A long run without a space, as typed on a phone, wraps within the screen.
        description="夕照寺中街路边堆了很多建筑垃圾" * 8 + "\nhttps://example.com/" + "x" * 80,
        lon=lon,
        lat=lat,
        photos=[noisy_jpeg((640, 480))],
        reporter=zhao,
    )
    reference = report.case.reference
    page = new_page(PHONE)
    sign_in(page, "zhao-lei")
    page.goto(f"/report/follow/{reference}/")
    section = page.locator("[data-own-report]")
    expect(section.locator("h2")).to_have_text("您上报的内容")
    assert "夕照寺中街路边堆了很多建筑垃圾" in section.inner_text()
    thumbnail = section.locator("img")
    expect(thumbnail).to_have_attribute("alt", "您上传的照片 1")
    thumbnail.scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelector('[data-own-report] img').naturalWidth > 0")
    fits_the_phone(page)
    shots(page, "1-what-i-reported", full_page=True)

    other = new_page(PHONE)
    other.goto(f"/report/follow/{reference}/")
    other.wait_for_selector(".timeline")
    assert other.locator("[data-own-report]").count() == 0
    assert "夕照寺中街" not in other.locator("main").inner_text()


RELEASED = {
    "zh-CN": "街乡已解除龙潭派出所在本案中的任务",
    "en-US": "The township released 龙潭派出所 from this case",
}


@pytest.mark.parametrize("locale", RELEASED)
def test_a_resident_reads_on_a_phone_which_department_the_township_released(
    new_page, shots, street, locale
):
    report = report_resident_case(description="路边有人摆摊", lon=116.4321, lat=39.8729)
    case = file_case(street.dispatcher, report.case, category=street.vending)
    whistle = blow_whistle(
        street.dispatcher,
        case,
        kind="routine",
        departments=[street.city.urban_management, street.city.police],
    )
    urban, police = (
        Summons.objects.get(whistle=whistle, department=d)
        for d in (street.city.urban_management, street.city.police)
    )
    acknowledge(street.officer, urban)
    check_in(street.officer, urban, **device_fix())
    report_result(street.officer, urban, result="已劝离")
    release(street.dispatcher, police, note="派出所另有警情")
    page = new_page(PHONE, locale=locale)
    page.goto(f"/report/follow/{case.reference}/")
    if locale == "en-US" and page.evaluate("document.documentElement.lang") != "en":
        open_menu(page)
        submit(page, ".language-switch button[value=en]")
        page.wait_for_function("document.documentElement.lang === 'en'")
    steps = page.locator(".timeline li")
    last = steps.nth(steps.count() - 1)
    expect(last).to_contain_text(RELEASED[locale])
    assert "另有警情" not in page.locator("main").inner_text()
    fits_the_phone(page)
    last.scroll_into_view_if_needed()
    shots(page, f"released-{locale}", full_page=True)


def test_a_resident_chooses_the_lane_from_the_list_on_a_phone(new_page, shots, street):
    page = new_page(PHONE)
    page.goto("/report/")
    page.wait_for_selector("#report-map[data-map-ready=true]")
    page.fill("#id_description", "东四六条路灯不亮")
    search = page.locator("#lane-search")
    search.scroll_into_view_if_needed()
    search.type("东四")
    page.wait_for_selector(".lane-result")
    assert page.locator(".lane-result").count() == 1
    assert page.locator("#lane-count").inner_text() == "找到 1 条街巷，请选择一条。"
    assert "东四街道 · 342 米" in page.locator(".lane-result").inner_text()
    fits_the_phone(page)
    shots(page, "1-lane-list")
    # Enter picks the first lane and does not send the form.
    search.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('[data-place-chosen]').textContent.includes('东四六条')"
    )
    assert page.url.endswith("/report/")
    assert page.input_value("#lane-search") == "东四六条"
    assert page.locator(".lane-result").count() == 0
    assert page.locator("[data-place-chosen]").inner_text() == "将上报至：东四街道 · 东四六条。"
    page.locator("#report-map").scroll_into_view_if_needed()
    shots(page, "2-lane-chosen")
    solve_the_captcha(page)
    submit(page, "button:has-text('提交上报')")
    page.wait_for_selector("[data-follow-link]")
    case = Case.objects.get(source="resident")
    assert (case.lane, case.township) == (street.city.dongsi_lane, street.city.dongsi)
    assert case.accuracy_m is None


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_open_problems_of_a_lane_line_up_the_same_way_on_a_phone(
    new_page, shots, street, locale
):
    reported(street.steward, description="人民市场东巷12号门口堆放大量装修垃圾，占用一半路面")
    reported(street.steward, description="游商")
    page = new_page({"width": 390, "height": 844}, locale=locale)
    sign_in(page, "wang-fang")
    if locale == "en-US" and page.evaluate("document.documentElement.lang") != "en":
        open_menu(page)
        submit(page, ".language-switch button[value=en]")
        page.wait_for_function("document.documentElement.lang === 'en'")
    page.goto("/patrol/")
    rows = page.locator(".case-list li")
    assert rows.count() == 2
    # Each case: its reference and state on the first line, what it is below with the time
    # at the end of that line, whatever the length of the text.
    layout = rows.evaluate_all(
        """(rows) => rows.map((row) => {
            const box = (sel) => row.querySelector(sel).getBoundingClientRect();
            const [line, what, when] = [box('.case-line'), box('.case-what'), box('time')];
            return {below: what.top >= line.bottom - 1, right: Math.round(when.right),
                    beside: when.top < what.bottom && when.left >= what.right - 1};
        })"""
    )
    assert all(row["below"] and row["beside"] for row in layout), layout
    assert len({row["right"] for row in layout}) == 1, layout
    fits_the_phone(page)
    rows.first.scroll_into_view_if_needed()
    shots(page, f"open-problems-{locale}")


def badges_cut_off(page) -> list[str]:
    """The badges of the page whose words run past the screen's right edge or their own."""
    return page.evaluate(
        """() => [...document.querySelectorAll('main .badge')]
            .filter((el) => el.offsetParent !== null)
            .filter((el) => el.getBoundingClientRect().right > window.innerWidth
                || el.scrollWidth > el.clientWidth)
            .map((el) => el.textContent)"""
    )


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_a_chiefs_escalated_reports_and_standing_keep_every_word_on_a_phone(
    new_page, shots, street, locale
):
    case = reported(street.lane_chief, position=ON_THE_LANE, category=street.vending)
    file_case(street.dispatcher, case)
    escalate(street.lane_chief, case, reason="游商每天傍晚复出")
    escalate(street.township_chief, case, reason="街乡协调不动")
    page = new_page(PHONE, locale=locale)
    sign_in(page, "liu-qiang")
    page.goto("/patrol/reports/")
    if locale == "en-US" and page.evaluate("document.documentElement.lang") != "en":
        open_menu(page)
        submit(page, ".language-switch button[value=en]")
        page.wait_for_function("document.documentElement.lang === 'en'")
    escalated = {"en-US": "Escalated to the district chiefs' office", "zh-CN": "区街巷长办公室"}
    expect(page.locator("main .badge-backlog")).to_contain_text(escalated[locale])
    assert badges_cut_off(page) == []
    fits_the_phone(page)
    shots(page, f"my-reports-{locale}", full_page=True)
    page.goto(f"/patrol/reports/{case.reference}/")
    assert badges_cut_off(page) == []
    fits_the_phone(page)
    page.goto("/patrol/history/")
    if locale == "en-US":
        # How many patrols are needed so far depends on the day and hour the test runs at.
        needed = (
            r"(no patrol needed yet|0 of 1 patrol needed so far|0 of \d+ patrols needed so far)"
        )
        expect(page.locator(".my-standing li").first).to_have_text(
            re.compile(rf"^人民市场东巷: {needed} \(0 patrols in all\)")
        )
    fits_the_phone(page)
    shots(page, f"my-patrols-{locale}", full_page=True)
