"""The patrol page and the one-tap report form on a 360 × 740 phone, as a patrol uses them:
the route's note when the position is lost for a moment, the ticks seen again after the
back button, the form that finds the position by itself, a long description, a file that is
no picture, and what fits on the screen."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.conftest import PHONE, sign_in, standing_at, submit
from tests.fixtures_street import ON_THE_LANE, png_bytes, street_fixture  # noqa: F401
from whistle.cases.models import Case
from whistle.patrols.models import CheckResult, Patrol

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The phone's watch of the position, handed to the test, which answers as the phone would.
PLAYED_POSITIONS = """
(() => {
  const watchers = [];
  window.playedWatchers = watchers;
  navigator.geolocation.watchPosition = (found, failed) => {
    watchers.push({ found, failed });
    return watchers.length;
  };
  navigator.geolocation.clearWatch = () => {};
})();
"""


def start_a_patrol(page, username: str = "wang-fang") -> Patrol:
    sign_in(page, username)
    page.goto("/patrol/")
    submit(page, "button:has-text('开始巡查')")
    page.wait_for_selector("[data-patrol]")
    return Patrol.objects.get(person__username=username, ended_at__isnull=True)


def play(page, answer: str) -> None:
    page.evaluate(f"window.playedWatchers.forEach((w) => {answer})")


def found_at(lon: float, lat: float) -> str:
    coords = f"{{longitude: {lon}, latitude: {lat}, accuracy: 6}}"
    return f"w.found({{coords: {coords}, timestamp: Date.now()}})"


def test_a_position_found_again_takes_away_the_note_that_it_could_not_be_found(
    new_page, shots, street
):
    page = new_page(PHONE, **standing_at(ON_THE_LANE))
    page.add_init_script(PLAYED_POSITIONS)
    start_a_patrol(page)
    status = page.locator("[data-patrol-status]")
    play(page, found_at(*ON_THE_LANE))
    page.evaluate("window.Whistle.patrol.flush()")
    page.wait_for_function(
        "() => Number(document.querySelector('[data-patrol-points]').textContent) === 1"
    )
    assert "正在记录巡查路线" in status.inner_text()

    play(page, "w.failed({code: 2, message: 'no fix'})")
    assert "暂时无法获取您的位置" in status.inner_text()
    assert "is-error" in (status.get_attribute("class") or "")
    shots(page, "1-position-lost")

    play(page, found_at(ON_THE_LANE[0], ON_THE_LANE[1] + 0.0002))
    assert "正在记录巡查路线" in status.inner_text()
    assert "is-error" not in (status.get_attribute("class") or "")
    shots(page, "2-position-back")


def test_back_from_an_items_report_form_the_patrol_page_shows_the_ticks_saved(
    new_page, shots, street
):
    page = new_page(PHONE, **standing_at(ON_THE_LANE))
    patrol = start_a_patrol(page)
    parking = page.locator("#item-no-illegal-parking")
    parking.locator("button[value=ok]").click()
    page.wait_for_selector("#item-no-illegal-parking.is-ok")
    trading = page.locator("#item-no-road-trading")
    trading.locator("button[value=problem]").click()
    page.wait_for_selector("#item-no-road-trading .problem-actions")
    assert CheckResult.objects.filter(patrol=patrol).count() == 2

    submit(page, trading.locator("text=上报问题"))
    page.wait_for_selector("[data-report-form]")
    page.go_back()
    page.wait_for_selector("[data-patrol]")
    page.wait_for_selector("#item-no-illegal-parking.is-ok")
    page.wait_for_selector("#item-no-road-trading.is-problem")
    assert parking.locator("button[value=ok]").get_attribute("aria-pressed") == "true"
    assert "还有 11 项未勾选" in page.locator("#unticked").inner_text()
    shots(page, "1-back-to-the-patrol")

    # Sent from the item's form, the report ticks a third item on the server: two steps back,
    # the patrol page shows that tick too, however the browser kept the page.
    page.go_forward()
    page.wait_for_selector("[data-report-form]")
    page.fill("#id_description", "人民市场东巷：占道经营，巷口有水果摊")
    page.wait_for_function("() => document.querySelector('#id_lon').value !== ''")
    submit(page, "button:has-text('提交上报')")
    page.wait_for_selector("text=上报成功")
    assert CheckResult.objects.get(patrol=patrol, item="no-road-trading").outcome == "reported"
    page.go_back()
    page.go_back()
    page.wait_for_selector("[data-patrol]")
    case = Case.objects.get(reporter=street.steward)
    page.wait_for_selector(f"#item-no-road-trading >> text={case.reference}")
    page.wait_for_selector("#item-no-illegal-parking.is-ok")
    shots(page, "2-back-after-the-report")


def test_the_report_form_finds_the_position_by_itself_right_after_the_start(
    new_page, shots, street
):
    page = new_page(PHONE, **standing_at(ON_THE_LANE, 6))
    patrol = start_a_patrol(page)
    assert patrol.points.count() == 0
    trading = page.locator("#item-no-road-trading")
    trading.locator("button[value=problem]").click()
    page.wait_for_selector("#item-no-road-trading .problem-actions")
    submit(page, trading.locator("text=上报问题"))
    # No tap on "Use my position": the form asks the phone and says what it found.
    page.wait_for_function("() => document.querySelector('#id_lon').value !== ''")
    assert float(page.input_value("#id_lat")) == pytest.approx(ON_THE_LANE[1])
    assert "已定位" in page.locator(".geolocate-status").inner_text()
    shots(page, "located", full_page=True)
    submit(page, "button:has-text('提交上报')")
    page.wait_for_selector("text=上报成功")
    case = Case.objects.get(reporter=street.steward)
    assert (case.lon, case.lat) == pytest.approx(ON_THE_LANE)


def test_a_pin_placed_while_the_form_locates_is_kept(new_page, street):
    page = new_page(PHONE, **standing_at(ON_THE_LANE))
    page.add_init_script(PLAYED_POSITIONS)
    sign_in(page, "wang-fang")
    page.goto("/patrol/report/")
    page.wait_for_function("() => window.playedWatchers.length === 1")
    assert page.locator("[data-geolocating]").count() == 1
    page.evaluate(
        "() => { document.querySelector('#id_lon').value = '116.4300000';"
        " document.querySelector('#id_lat').value = '39.8700000'; }"
    )
    play(page, found_at(*ON_THE_LANE))
    page.wait_for_selector("[data-geolocating]", state="detached")
    assert page.input_value("#id_lon") == "116.4300000"


def described(url: str) -> str:
    """The description a request for suggested categories sent ("" for another request)."""
    if "/patrol/report/suggest/" not in url:
        return ""
    return parse_qs(urlparse(url).query).get("description", [""])[0]


def test_a_long_description_asks_for_suggestions_with_its_start_only(new_page, street):
    page = new_page(PHONE, **standing_at(ON_THE_LANE))
    sign_in(page, "wang-fang")
    page.goto("/patrol/report/")
    text = "巷口有小贩摆摊" + "说" * 5993
    with page.expect_response(lambda r: bool(described(r.url))) as answer:
        page.fill("#id_description", text)
    response = answer.value
    assert response.status == 200
    # 222 Chinese characters take 1,998 bytes of the address (9 each): the request line stays
    # well under the 4,094 bytes gunicorn accepts (500 of them took 4,500 and got a 414).
    sent = described(response.url)
    assert sent == text[:222]
    parts = urlparse(response.url)
    assert len(f"GET {parts.path}?{parts.query} HTTP/1.1") < 2200
    page.wait_for_selector(f"[data-pick-category='{street.vending.pk}']")


def test_a_long_english_description_sends_its_first_500_characters(new_page, street):
    page = new_page(PHONE, **standing_at(ON_THE_LANE))
    sign_in(page, "wang-fang")
    page.goto("/patrol/report/")
    text = "Vendor at the lane's mouth " + "x" * 5973
    with page.expect_response(lambda r: bool(described(r.url))) as answer:
        page.fill("#id_description", text)
    assert answer.value.status == 200
    assert described(answer.value.url) == text[:500]


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("zh-CN", "“notes.jpg”不是 JPEG、PNG 或 WebP 图片，请选择一张照片。"),
        ("en-US", "“notes.jpg” is not a JPEG, PNG or WebP picture: choose a photo."),
    ],
)
def test_a_file_that_is_no_picture_is_said_on_the_photo_field_at_once(
    new_page, shots, street, locale, said
):
    page = new_page(PHONE, locale=locale, **standing_at(ON_THE_LANE))
    sign_in(page, "wang-fang")
    page.goto("/patrol/report/")
    note = page.locator("[data-photo-error]")
    assert note.is_hidden()
    page.set_input_files(
        "#id_photo", {"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"a list of notes"}
    )
    note.wait_for(state="visible")
    assert note.inner_text() == said
    # Not sent: the file input is emptied, and nothing is previewed.
    assert page.evaluate("document.querySelector('#id_photo').files.length") == 0
    assert page.locator("[data-photo-preview]").is_hidden()
    shots(page, "no-picture")
    page.set_input_files(
        "#id_photo", {"name": "lane.png", "mimeType": "image/png", "buffer": png_bytes()}
    )
    note.wait_for(state="hidden")
    assert page.locator("[data-photo-name]").inner_text() == "lane.png"


def test_the_four_patrol_tabs_keep_their_words_on_one_line_in_english(new_page, shots, street):
    page = new_page(PHONE, locale="en-US")
    sign_in(page, "wang-fang")
    page.goto("/patrol/report/")
    heights = page.evaluate(
        "[...document.querySelectorAll('.subnav .btn')]"
        ".map((a) => a.getBoundingClientRect().height)"
    )
    assert len(heights) == 4 and len(set(heights)) == 1, heights
    lines = page.evaluate(
        """[...document.querySelectorAll('.subnav .btn')].map((a) => {
            const range = document.createRange();
            range.selectNodeContents(a);
            return range.getClientRects().length;
        })"""
    )
    assert lines == [1, 1, 1, 1], lines
    shots(page, "tabs")


def test_the_desks_search_box_shows_its_placeholder_whole(new_page, street):
    page = new_page({"width": 1366, "height": 900}, locale="en-US")
    sign_in(page, "zhang-wei")
    page.goto("/dispatch/")
    room = page.evaluate(
        """() => {
            const input = document.querySelector('#case-find-q');
            const style = getComputedStyle(input);
            const context = document.createElement('canvas').getContext('2d');
            context.font = style.font;
            const text = context.measureText(input.placeholder).width;
            const inside = input.clientWidth - parseFloat(style.paddingLeft)
                - parseFloat(style.paddingRight);
            return [input.placeholder, text, inside];
        }"""
    )
    placeholder, needed, inside = room
    assert placeholder == "Case reference or words"
    assert needed <= inside, room
