"""An officer's phone and the command centre's wall in a real browser: a new summons that
cannot be missed, the check-out once the township lets the department go, and walls that fit
1920 × 1080 with a legend under their maps."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser.conftest import PHONE, WALL, sign_in, standing_at, submit
from tests.fixtures_cases import (
    ON_THE_LANE,
    filed_case,
    on_site,
    reported_case,
    reported_on_site,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from whistle.cases import actions
from whistle.cases.models import Event, Summons
from whistle.cases.trail import EventKind

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "本部门的召集"

# Record what the page asks of the phone's vibration motor; the rest of the page is real.
RECORD_VIBRATION = """
    window.__vibrations = [];
    navigator.vibrate = function (pattern) { window.__vibrations.push(pattern); return true; };
"""


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_officer_sees_a_new_summons_arrive_without_reloading(new_page, shots, whistle_city):
    city = whistle_city
    earlier, _whistle, _summonses = whistled_case(city, departments=[city.urban])
    phone = new_page(PHONE)
    phone.add_init_script(RECORD_VIBRATION)
    sign_in(phone, "urban-officer")
    phone.goto("/department/")
    assert phone.title() == f"(1) {TITLE}"
    assert earlier.reference in phone.locator("#incoming").inner_text()
    # Browsers play sound only after the person touched the page.
    phone.locator("h1").click()
    phone.evaluate("window.__sameDocument = true")
    shots(phone, "1-one-summons")

    case, _whistle, summonses = whistled_case(city, kind="emergency", departments=[city.urban])
    card = f'[data-summons="{summonses[city.urban.pk].uuid.hex}"]'
    phone.wait_for_selector(card, timeout=12_000)
    # The same page, not a reload: the list came by polling.
    assert phone.evaluate("window.__sameDocument") is True
    phone.wait_for_function(f"() => document.title === '(2) {TITLE}'", timeout=2_000)
    alert = phone.evaluate("JSON.parse(document.documentElement.dataset.lastAlert)")
    assert alert["cases"] == [case.reference]
    assert alert["sound"] is True
    assert phone.evaluate("window.__vibrations") == [[300, 120, 300]]
    assert case.reference in phone.locator("#live-announcer").inner_text()
    # The new summons, its deadline still running, comes first and stands out.
    cards = phone.locator("#incoming [data-summons]")
    assert cards.first.get_attribute("data-reference") == case.reference
    assert "is-arrival" in (phone.locator(card).get_attribute("class") or "")
    assert phone.locator(f"{card} [data-countdown]").first.is_visible()
    assert no_sideways_scroll(phone)
    shots(phone, "2-new-summons-arrived")


def test_the_check_out_button_appears_once_the_township_releases_the_department(
    new_page, shots, whistle_city
):
    """…and the check-out takes the phone's position, with nothing to type."""
    city = whistle_city
    case, _whistle, summonses = whistled_case(city)
    summons = summonses[city.urban.pk]
    on_site(city, summons)
    phone = new_page(
        PHONE,
        **standing_at(ON_THE_LANE),
    )
    sign_in(phone, "urban-officer")
    phone.goto("/department/")
    form = f"#op-check_out-{summons.uuid.hex}"
    assert phone.locator(form).count() == 0
    shots(phone, "1-on-site")

    actions.release(city.dispatcher, summons, note="游商已离开")
    phone.wait_for_selector(form, timeout=12_000)
    button = phone.locator(f"{form} button[type=submit]")
    button.scroll_into_view_if_needed()
    assert button.is_visible()
    assert button.evaluate("el => el.closest('details') === null")
    assert button.bounding_box()["height"] >= 44
    assert "街乡已解除您部门的任务" in phone.locator(f"#summons-{summons.uuid.hex}").inner_text()
    assert no_sideways_scroll(phone)
    shots(phone, "2-check-out-shown")
    assert phone.locator(f"{form} input:not([type=hidden])").count() == 0

    # The form that came in with the polled list finds the position like the check-in's.
    phone.locator(f"{form} [data-geolocate-button]").click()
    phone.wait_for_selector(f"{form} [data-check-in-figures]:not([hidden])")
    assert "± 8 米" in phone.locator(f"{form} [data-check-in-figures]").inner_text()
    assert no_sideways_scroll(phone)
    phone.locator(form).scroll_into_view_if_needed()
    shots(phone, "3-check-out-position")

    submit(phone, button)
    phone.wait_for_selector(".message-success")
    assert Summons.objects.get(pk=summons.pk).status == Summons.Status.LEFT
    left = Event.objects.get(summons=summons, kind=EventKind.CHECK_OUT)
    assert (left.data["source"], left.data["accuracy_m"], left.data["distance_m"]) == (
        "device",
        8.0,
        0.0,
    )
    assert left.data["device_id"] == phone.evaluate("localStorage.getItem('whistle.device')")
    assert case.reference not in phone.locator("#incoming").inner_text()
    shots(phone, "4-checked-out")


def busy_township(city) -> None:
    """A morning's work in 龙潭: reports to file, whistles sounding (some late), cases at
    every later stage."""
    now = timezone.now()
    for n in range(6):
        reported_case(city, description=f"人民市场东巷第 {n} 处游商占道")
    for n in range(8):
        at = now - timedelta(minutes=5 * n)
        _case, _whistle, summonses = whistled_case(city, at=at)
        if n % 2:
            actions.acknowledge(city.urban_officer, summonses[city.urban.pk], now=at)
    for n in range(4):
        case = filed_case(city, description=f"夕照寺西里第 {n} 处堆物")
        actions.dispatch_case(city.dispatcher, case, department=city.fire)


@pytest.mark.parametrize("url", ["/wall/", "/dispatch/wall/"], ids=["area-wall", "township-wall"])
def test_a_busy_wall_fits_the_screen_and_its_map_has_a_legend(new_page, shots, whistle_city, url):
    city = whistle_city
    busy_township(city)
    page = new_page(WALL)
    sign_in(page, "longtan-dispatcher")
    page.goto(url)
    page.wait_for_selector("[data-map][data-map-ready=true]")
    page.wait_for_selector("path.whistle-case")
    shots(page, "wall")
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Nothing inside scrolls either: a wall has no one to scroll it.
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('main *')]
            .filter((el) => el.scrollHeight > el.clientHeight + 1
                && ['auto', 'scroll'].includes(getComputedStyle(el).overflowY))
            .map((el) => el.className)"""
    )
    assert overflowing == []
    # What does not fit is left out and counted, not cut off at the bottom.
    side = page.locator(".wall-side")
    assert side.evaluate("el => el.scrollHeight <= el.clientHeight + 1")
    more = side.locator("[data-fit-more]")
    assert more.is_visible() and re.fullmatch(r"另有 \d+ 项未显示。", more.inner_text())
    legend = page.locator(".map-legend")
    assert legend.is_visible()
    assert "图例" in legend.inner_text() and "已吹哨" in legend.inner_text()
    # Each swatch is painted with the colour the map draws: the whistled cases' purple.
    swatch = legend.locator('[data-legend="case"][data-value="summoned"]')
    assert swatch.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(91, 42, 140)"
    drawn = page.locator("path.whistle-case-summoned").first
    assert drawn.get_attribute("fill") == "#5b2a8c"
    box = legend.bounding_box()
    assert box["y"] + box["height"] <= 1080


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_area_wall_at_1366_by_768_shows_several_summonses_within_its_column(
    new_page, shots, whistle_city, locale
):
    busy_township(whistle_city)
    page = new_page({"width": 1366, "height": 768}, locale=locale)
    sign_in(page, "longtan-dispatcher")
    page.goto("/wall/")
    page.wait_for_selector("[data-map][data-map-ready=true]")
    shots(page, f"wall-1366x768-{locale}")
    side = page.locator(".wall-side")
    assert side.evaluate("el => el.scrollHeight <= el.clientHeight + 1")
    assert side.locator(".due-table tbody tr:visible").count() >= 3
    # The table keeps to the column: no deadline cut off at its right edge.
    for table in side.locator(".table-scroll").all():
        assert table.evaluate("el => el.scrollWidth <= el.clientWidth")


@pytest.mark.parametrize(
    ("locale", "next_step", "early"),
    [
        ("zh-CN", "结果已上报。街乡将审核结果", "记录提前签退（将被拒绝）"),
        ("en-US", "Result reported. The township now reviews it", "Record an early check-out"),
    ],
    ids=["zh", "en"],
)
def test_after_the_result_the_phone_says_what_comes_next_and_keeps_leaving_early_folded(
    new_page, shots, whistle_city, locale, next_step, early
):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city, departments=[city.urban])
    summons = summonses[city.urban.pk]
    reported_on_site(city, summons)
    phone = new_page(PHONE, locale=locale, **standing_at(ON_THE_LANE))
    sign_in(phone, "urban-officer")
    phone.goto(f"/cases/{case.reference}/")
    card = phone.locator(f"#summons-{summons.uuid.hex}")
    line = card.locator(".summons-next-step")
    assert next_step in line.inner_text() and line.is_visible()
    # The only way to leave is the folded, named attempt; its button shows once opened.
    folded = card.locator("details.op-folded", has_text=early)
    button = folded.locator("button[type=submit]")
    assert not button.is_visible()
    folded.locator("summary").click()
    assert early in button.inner_text() and button.is_visible()
    assert no_sideways_scroll(phone)
    line.scroll_into_view_if_needed()
    shots(phone, "next-step")
    button.scroll_into_view_if_needed()
    shots(phone, "early-check-out")
    assert Summons.objects.get(pk=summons.pk).status == Summons.Status.DONE
