"""The check-in on site on a 360 × 740 phone, with the browser's geolocation: a real fix at
the place counts, a fix far away is refused, a position rewritten in the page or a fix too
coarse for the radius is flagged, and the township sees the flags and rules on them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, WALL, sign_in, standing_at, submit
from tests.fixtures_cases import (
    FAR_NORTH,
    ON_THE_LANE,
    device_fix,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from whistle.cases import actions
from whistle.cases.models import Event, Summons
from whistle.cases.trail import EventKind
from whistle.organisation import geo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Flag = Summons.CheckInFlag
BEIJING = ZoneInfo("Asia/Shanghai")
# Whistle.geolocate waits up to 15 s for a fix of 30 m or better before taking the best.
COARSE_FIX_WAIT_MS = 25_000
# A 1 × 1 PNG.
ONE_PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944"
    "4154789c63382127070002b6010534a675aa0000000049454e44ae426082"
)


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def phone_at(new_page, username: str, point: tuple[float, float], accuracy: float):
    page = new_page(
        PHONE,
        **standing_at(point, accuracy),
    )
    sign_in(page, username)
    return page


def find_position(page, verdict: str, timeout: int = 10_000) -> str:
    """Press "find my position" and wait for the page's reading of the fix."""
    page.locator(".op-check_in [data-geolocate-button]").click()
    shown = page.locator(f".op-check_in .check-in-verdict.is-{verdict}")
    shown.wait_for(timeout=timeout)
    return page.locator(".op-check_in [data-check-in]").inner_text()


def summons_of(case, department) -> Summons:
    return Summons.objects.get(case=case, department=department)


def test_a_real_fix_counts_a_far_one_is_refused_and_a_spoof_waits_for_the_township(
    new_page, shots, whistle_city
):
    city = whistle_city
    case, _whistle, summonses = whistled_case(
        city, departments=[city.urban, city.police, city.fire]
    )
    for officer, department in (
        (city.urban_officer, city.urban),
        (city.police_officer, city.police),
        (city.fire_officer, city.fire),
    ):
        actions.acknowledge(officer, summonses[department.pk])
    url = f"/cases/{case.reference}/"

    # Urban management at the lane: a fix of ± 8 m, nothing to type, and it counts.
    urban_phone = phone_at(new_page, "urban-officer", ON_THE_LANE, 8)
    urban_phone.goto(url)
    form = urban_phone.locator(".op-check_in")
    assert form.locator("input:not([type=hidden]):not([type=file])").count() == 0
    shown = find_position(urban_phone, "inside")
    assert "± 8 米" in shown and "可以报到" in shown
    assert no_sideways_scroll(urban_phone)
    form.scroll_into_view_if_needed()
    shots(urban_phone, "1-fix-on-site")
    submit(urban_phone, form.locator("button[type=submit]"))
    urban_phone.wait_for_selector(".message-success")
    assert urban_phone.locator(".message-warning").count() == 0
    urban = summons_of(case, city.urban)
    assert (urban.status, urban.check_in_flag) == (Summons.Status.ON_SITE, Flag.NONE)
    arrival = Event.objects.get(summons=urban, kind=EventKind.CHECK_IN_ACCEPTED)
    assert arrival.data["source"] == "device" and abs(arrival.data["clock_skew_s"]) < 60
    assert arrival.data["device_id"] == urban_phone.evaluate(
        "localStorage.getItem('whistle.device')"
    )

    # The police officer's phone, 900 m away: the page says so, the server refuses.
    police_phone = phone_at(new_page, "police-officer", FAR_NORTH, 10)
    police_phone.goto(url)
    shown = find_position(police_phone, "far")
    assert "将不被接受" in shown
    shots(police_phone, "2-fix-900m-away")
    submit(police_phone, ".op-check_in button[type=submit]")
    police_phone.wait_for_selector(".op-check_in .form-refusal")
    assert "报到未被接受" in police_phone.locator(".op-check_in .form-refusal").inner_text()
    police = summons_of(case, city.police)
    assert police.status == Summons.Status.ACKNOWLEDGED
    # The refusal came after a redirect: reloading shows the page without it, sends nothing.
    assert police_phone.url.endswith(f"{url}#op-check_in-{police.uuid.hex}")
    police_phone.reload()
    police_phone.wait_for_selector(".op-check_in [data-geolocate-button]")
    assert police_phone.locator(".op-check_in .form-refusal").count() == 0
    assert Event.objects.filter(summons=police, kind=EventKind.CHECK_IN_REFUSED).count() == 1

    # Still 900 m away, the officer rewrites the hidden fields with the lane's position.
    find_position(police_phone, "far")
    police_phone.evaluate(
        """([lon, lat]) => {
            document.querySelector('.op-check_in input[name$="-lon"]').value = lon;
            document.querySelector('.op-check_in input[name$="-lat"]').value = lat;
        }""",
        list(ON_THE_LANE),
    )
    submit(police_phone, ".op-check_in button[type=submit]")
    police_phone.wait_for_selector(".message-warning")
    assert "存疑" in police_phone.locator(".message-warning").inner_text()
    police = summons_of(case, city.police)
    assert police.check_in_flag == Flag.PENDING
    assert "too_fast" in police.check_in_flag_reasons
    assert no_sideways_scroll(police_phone)
    shots(police_phone, "3-spoof-flagged")

    # The fire station's phone indoors: 250 m away, accurate to ± 5,000 m.
    lon, lat, _back = geo.WGS84.fwd(ON_THE_LANE[0], ON_THE_LANE[1], 90, 250)
    fire_phone = phone_at(new_page, "fire-officer", (lon, lat), 5000)
    fire_phone.goto(url)
    shown = find_position(fire_phone, "imprecise", timeout=COARSE_FIX_WAIT_MS)
    assert "± 5000 米" in shown and "标记存疑" in shown
    fire_phone.locator(".op-check_in").scroll_into_view_if_needed()
    shots(fire_phone, "4-coarse-fix")
    submit(fire_phone, ".op-check_in button[type=submit]", timeout=COARSE_FIX_WAIT_MS)
    fire_phone.wait_for_selector(".message-warning")
    fire = summons_of(case, city.fire)
    assert (fire.check_in_flag, fire.check_in_flag_reasons) == (Flag.PENDING, ["imprecise"])

    # The command centre sees both flags on its board, and rules on the case's page.
    desk = new_page(WALL)
    sign_in(desk, "longtan-dispatcher")
    desk.goto("/dispatch/")
    flags = desk.locator("#board [data-flagged-check-ins]")
    flags.wait_for()
    assert flags.locator("li").count() == 2
    assert "与该人员上一位置相比移动过快" in flags.inner_text()
    shots(desk, "5-board-flags")
    flags.locator("a").first.click()
    desk.wait_for_url(f"**{url}**")
    desk.wait_for_selector("#case-map[data-case-drawn=true]")
    assert desk.locator("path.desk-check-in-flagged").count() == 2
    card = desk.locator(f"#summons-{police.uuid.hex}")
    assert "存疑，待街乡认定" in card.inner_text()
    card.scroll_into_view_if_needed()
    shots(desk, "6-case-flags")
    ruling = desk.locator(f"#op-rule_check_in-{police.uuid.hex}")
    ruling.locator("textarea").fill("视频巡查显示该时段无人到场")
    submit(desk, ruling.locator("button[value=reject]"))
    desk.wait_for_selector(".message-success")
    ruling = desk.locator(f"#op-rule_check_in-{fire.uuid.hex}")
    ruling.locator("textarea").fill("电话核实，在楼内处置")
    submit(desk, ruling.locator("button[value=confirm]"))
    desk.wait_for_selector(".message-success")
    police, fire = summons_of(case, city.police), summons_of(case, city.fire)
    assert (police.status, police.check_in_flag) == (Summons.Status.ACKNOWLEDGED, Flag.REJECTED)
    assert (fire.status, fire.check_in_flag) == (Summons.Status.ON_SITE, Flag.CONFIRMED)
    timeline = desk.locator("#timeline").inner_text()
    assert "街乡不认可报到" in timeline and "街乡确认报到" in timeline
    shots(desk, "7-ruled", full_page=True)

    # Rejected, the police may check in again, from the place.
    police_phone.context.set_geolocation(
        {"longitude": ON_THE_LANE[0], "latitude": ON_THE_LANE[1], "accuracy": 6}
    )
    police_phone.goto(url)
    find_position(police_phone, "inside")
    submit(police_phone, ".op-check_in button[type=submit]")
    police_phone.wait_for_selector(".message-success")
    police = summons_of(case, city.police)
    assert (police.status, police.check_in_flag) == (Summons.Status.ON_SITE, Flag.NONE)


def test_a_phone_that_refuses_its_location_is_told_it_cannot_check_in(
    new_page, shots, whistle_city
):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city)
    actions.acknowledge(city.urban_officer, summonses[city.urban.pk])
    phone = new_page(PHONE)  # location not allowed for the site
    sign_in(phone, "urban-officer")
    phone.goto(f"/cases/{case.reference}/")
    phone.locator(".op-check_in [data-geolocate-button]").click()
    status = phone.locator(".op-check_in .geolocate-status.is-error")
    status.wait_for(timeout=COARSE_FIX_WAIT_MS)
    assert "没有手机定位就无法报到" in status.inner_text()
    # Sending the form without a position only asks for one again; nothing is posted.
    phone.locator(".op-check_in button[type=submit]").click()
    status.wait_for(timeout=COARSE_FIX_WAIT_MS)
    assert not Event.objects.filter(
        case=case, kind__in=[EventKind.CHECK_IN_REFUSED, EventKind.CHECK_IN_ACCEPTED]
    ).exists()
    assert no_sideways_scroll(phone)
    phone.locator(".op-check_in").scroll_into_view_if_needed()
    shots(phone, "location-denied")


def test_a_phone_set_to_another_time_zone_reads_its_fix_s_time_in_beijing_time(
    new_page, shots, whistle_city
):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city, departments=[city.police])
    actions.acknowledge(city.police_officer, summonses[city.police.pk])
    phone = new_page(PHONE, locale="en-US", timezone_id="UTC", **standing_at(ON_THE_LANE, 8))
    sign_in(phone, "police-officer")
    phone.goto(f"/cases/{case.reference}/")
    shown = find_position(phone, "inside")
    assert "Times are Beijing time (UTC+8)." in phone.locator("body").inner_text()
    # The moment of the fix, as the form will send it (milliseconds since 1970).
    taken = int(phone.locator(".op-check_in [name$='-device_time']").input_value())
    beijing = datetime.fromtimestamp(taken / 1000, BEIJING)
    assert phone.locator(".op-check_in [data-fix-time]").inner_text() == (
        beijing.strftime("%H:%M:%S")
    )
    assert "Taken at" in shown
    # Every time the scripts show is said so, midnight included, whatever the device's zone.
    said = phone.evaluate(
        """() => [
            Whistle.timeOfDay("2026-05-12T01:02:03Z", true),
            Whistle.timeOfDay(Date.parse("2026-05-12T16:00:00Z")),
            Whistle.timeOfDay(new Date("2026-05-12T15:59:00Z")),
        ]"""
    )
    assert said == ["09:02:03", "00:00", "23:59"]
    phone.locator(".op-check_in").scroll_into_view_if_needed()
    shots(phone, "fix-in-beijing-time")


PHONE_390 = {"width": 390, "height": 844}


@pytest.mark.parametrize(
    ("locale", "button", "browser_words"),
    [("zh-CN", "拍照或选择照片", "选择文件"), ("en-US", "Take or choose a photo", "Choose File")],
)
def test_the_check_in_photo_is_chosen_with_the_page_s_own_button(
    new_page, shots, whistle_city, locale, button, browser_words
):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city, departments=[city.urban])
    actions.acknowledge(city.urban_officer, summonses[city.urban.pk])
    page = new_page(
        PHONE_390,
        locale=locale,
        **standing_at(ON_THE_LANE),
    )
    sign_in(page, "urban-officer")
    page.goto(f"/cases/{case.reference}/")
    form = page.locator(".op-check_in")
    field = form.locator(".photo-field")
    photo_button = field.locator("label.photo-button")
    assert photo_button.inner_text().strip() == button
    assert photo_button.is_visible()
    # The browser's own button (in the browser's language) is not seen; the label is.
    file_input = field.locator("input[type=file]")
    assert file_input.evaluate("el => getComputedStyle(el).opacity") == "0"
    assert browser_words not in form.inner_text()
    # The label names the input, and the keyboard reaches it and shows where it is.
    assert file_input.evaluate("el => el.labels[0].textContent.trim()") == button
    file_input.focus()
    outline = photo_button.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid"
    assert no_sideways_scroll(page)
    field.scroll_into_view_if_needed()
    shots(page, f"photo-button-{locale}")

    # A chosen photo is named and previewed, as on the report forms.
    file_input.set_input_files(
        {"name": "on-site.png", "mimeType": "image/png", "buffer": ONE_PIXEL_PNG}
    )
    expect(field.locator("[data-photo-name]")).to_have_text("on-site.png", use_inner_text=True)
    field.locator("[data-photo-preview]").wait_for(state="visible")
    shots(page, f"photo-chosen-{locale}")


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_each_duty_of_the_summons_shows_its_state_beside_its_name_on_a_phone(
    new_page, shots, whistle_city, locale
):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city, departments=[city.urban])
    actions.acknowledge(city.urban_officer, summonses[city.urban.pk])
    page = new_page(PHONE_390, locale=locale)
    sign_in(page, "urban-officer")
    page.goto(f"/cases/{case.reference}/")
    rows = page.locator(".obligations .obligation")
    assert rows.count() == 3  # acknowledged; arrive and resolve still counting down
    assert page.locator(".obligations .countdown").count() == 2
    for index in range(rows.count()):
        name = rows.nth(index).locator(".obligation-name").bounding_box()
        state = rows.nth(index).locator(".obligation-state").bounding_box()
        assert name is not None and state is not None
        # Beside its name, not under it.
        assert state["x"] >= name["x"] + name["width"]
        assert state["y"] < name["y"] + name["height"]
    assert no_sideways_scroll(page)
    rows.first.scroll_into_view_if_needed()
    shots(page, f"duties-{locale}")

    # Checked in with a fix too coarse for the radius: the arrival's state is the longest
    # ("Checked in 16:30, awaiting the township"), and wraps within its box.
    actions.check_in(
        city.urban_officer,
        summonses[city.urban.pk],
        **device_fix(ON_THE_LANE, accuracy_m=400),
    )
    page.reload()
    flagged = page.locator(".obligations .obligation.is-flagged")
    assert flagged.count() == 1
    name = flagged.locator(".obligation-name").bounding_box()
    state = flagged.locator(".obligation-state").bounding_box()
    assert name is not None and state is not None
    assert state["x"] >= name["x"] + name["width"]
    assert state["x"] + state["width"] <= page.viewport_size["width"]
    assert no_sideways_scroll(page)
    flagged.scroll_into_view_if_needed()
    shots(page, f"duties-flagged-{locale}")
