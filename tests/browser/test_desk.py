"""The desk pages in a real browser: a whistle from the command centre's wall screen to the
department officer's phone and back, ending in the case's timeline."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, WALL, sign_in, standing_at, submit
from tests.conftest import make_person
from tests.fixtures_cases import (
    FAR_NORTH,
    ON_THE_LANE,
    filed_case,
    reported_case,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from whistle.cases import actions
from whistle.cases.models import Case, Event, Summons
from whistle.cases.trail import EventKind
from whistle.desk.boards import QUEUE_PAGE
from whistle.desk.views.dispatch import FILE_INLINE
from whistle.notifications.delivery import sweep
from whistle.organisation.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def small_touch_targets(page, selector: str) -> list[str]:
    """Visible links, buttons and summaries under ``selector`` less than 44 px high: on the
    map, its zoom buttons (its markers and its attribution are the map's own)."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(
                selector + ' a, ' + selector + ' button, ' + selector + ' summary')]
            .filter((el) => el.offsetParent !== null)
            .filter((el) => !el.closest('.leaflet-container') || el.closest('.leaflet-bar'))
            .filter((el) => el.getBoundingClientRect().height < 44)
            .map((el) => el.outerHTML.slice(0, 100))""",
        selector,
    )


def test_a_whistle_from_the_wall_screen_to_the_officers_phone_and_back(
    new_page, shots, whistle_city
):
    city = whistle_city
    case = reported_case(city, description="人民市场东巷有游商占道，堵塞消防通道")

    # The command centre, on the wall screen, files the reported case.
    desk = new_page(WALL)
    sign_in(desk, "longtan-dispatcher")
    desk.goto("/dispatch/")
    desk.wait_for_selector("#board [data-countdown], #board .board-case")
    desk.wait_for_selector("[data-map][data-map-ready=true]")
    assert case.reference in desk.locator("#board").inner_text()
    shots(desk, "1-command-centre", full_page=True)

    row = desk.locator(f"#q-{case.reference}")
    row.locator("select").select_option(str(city.street_vending.pk))
    submit(desk, row.locator(f"#op-file-{case.reference} button[type=submit]"))
    desk.wait_for_selector(".message-success")
    assert f"案件 {case.reference} 已立案" in desk.locator(".messages").inner_text()
    assert Case.objects.get(pk=case.pk).status == Case.Status.FILED
    shots(desk, "2-filed")

    # It blows the whistle, summoning urban management and the police.
    desk.locator(f"#q-{case.reference} a", has_text="吹哨").click()
    desk.wait_for_selector("#whistle-map[data-case-drawn=true]")
    suggested = desk.locator(".departments").first.inner_text()
    assert suggested.index("东城区城管执法局") < suggested.index("龙潭派出所")
    assert "urban-officer" in suggested  # the people on duty
    desk.check(f"input[value='{city.urban.pk}']")
    desk.check(f"input[value='{city.police.pk}']")
    desk.fill("input[name$='meeting_point']", "人民市场东巷北口")
    # A tap on the map pins the meeting point; clearing the pin empties it again.
    box = desk.locator("#whistle-map").bounding_box()
    desk.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    desk.wait_for_function(
        "() => document.querySelector(\"input[name$='meeting_lon']\").value !== ''"
    )
    shots(desk, "3-whistle-form", full_page=True)
    desk.click("[data-pin-clear]")
    expect(desk.locator("input[name$='meeting_lon']")).to_have_value("")
    desk.fill("textarea[name$='note']", "请携带执法记录仪")
    desk.locator("form.whistle-form button[type=submit]").click()
    desk.wait_for_url(f"**/cases/{case.reference}/")
    assert desk.locator(".summons-card").count() == 2
    assert "已吹哨" in desk.locator(".case-state").inner_text()
    shots(desk, "4-case-whistled", full_page=True)

    # The urban-management officer, on a phone 900 m away, acknowledges and checks in.
    phone = new_page(
        PHONE,
        **standing_at(FAR_NORTH, 10),
    )
    sign_in(phone, "urban-officer")
    phone.goto("/department/")
    assert case.reference in phone.locator("#incoming").inner_text()
    assert no_sideways_scroll(phone)
    assert small_touch_targets(phone, "main") == []
    shots(phone, "5-department-desk", full_page=True)

    submit(phone, "#incoming .op-acknowledge button[type=submit]")
    phone.wait_for_selector(".message-success")
    submit(phone, phone.locator("#incoming a", has_text="到场报到"))
    phone.wait_for_selector(".op-check_in")
    check_in = phone.locator(".op-check_in")
    check_in.locator("[data-geolocate-button]").click()
    phone.wait_for_function(
        "() => document.querySelector('.op-check_in input[name$=\"-lon\"]').value !== ''"
    )
    shots(phone, "6-position-900m-away")
    submit(phone, check_in.locator("button[type=submit]"))
    phone.wait_for_selector(".op-check_in .form-refusal")
    refusal = phone.locator(".op-check_in .form-refusal").inner_text()
    assert "报到未被接受" in refusal and "米" in refusal
    assert "这次尝试已记入案件记录" in refusal
    assert Event.objects.filter(case=case, kind=EventKind.CHECK_IN_REFUSED).count() == 1
    assert no_sideways_scroll(phone)
    phone.locator(".op-check_in .form-refusal").scroll_into_view_if_needed()
    shots(phone, "7-check-in-refused")

    phone.context.set_geolocation(
        {"longitude": ON_THE_LANE[0], "latitude": ON_THE_LANE[1], "accuracy": 8}
    )
    phone.locator(".op-check_in [data-geolocate-button]").click()
    phone.wait_for_function(
        f"() => document.querySelector('.op-check_in input[name$=\"-lat\"]').value.startsWith("
        f"'{ON_THE_LANE[1]}')"
    )
    submit(phone, ".op-check_in button[type=submit]")
    phone.wait_for_selector(".message-success")
    urban = Summons.objects.get(case=case, department=city.urban)
    assert urban.status == Summons.Status.ON_SITE
    assert urban.arrived_distance_m is not None and urban.arrived_distance_m < 50
    # Seconds after a fix 900 m away: too fast to be true, the township must confirm it.
    assert urban.check_in_flag_reasons == ["too_fast"]
    assert "存疑" in phone.locator(".message-warning").inner_text()
    assert no_sideways_scroll(phone)
    shots(phone, "8-checked-in", full_page=True)

    # The command centre confirms the check-in (the officer is on the video feed), lets the
    # police go, marks the case resolved, checks it and closes.
    desk.goto(f"/cases/{case.reference}/")
    ruling = desk.locator(f"#op-rule_check_in-{urban.uuid.hex}")
    ruling.locator("textarea").fill("视频核实已到场")
    submit(desk, ruling.locator("button[value=confirm]"))
    desk.wait_for_selector(".message-success")
    assert Summons.objects.get(pk=urban.pk).check_in_flag == Summons.CheckInFlag.CONFIRMED
    desk.goto("/dispatch/#at-work")
    police = Summons.objects.get(case=case, department=city.police)
    # Releasing is folded in the queue; its form loads when it is opened.
    folded = desk.locator(f'details[hx-get*="/op/release/{police.uuid.hex}/"]')
    assert folded.locator(f"#op-release-{police.uuid.hex}").count() == 0
    folded.locator("summary").click()
    submit(desk, f"#op-release-{police.uuid.hex} button[type=submit]")
    desk.wait_for_selector(".message-success")
    submit(desk, f"#op-mark_handled-{case.reference} button[type=submit]")
    desk.wait_for_selector(".message-success")
    assert Case.objects.get(pk=case.pk).status == Case.Status.HANDLED
    submit(desk, f"#op-check_passed-{case.reference} button[type=submit]")
    desk.wait_for_selector(".message-success")
    submit(desk, f"#op-close-{case.reference} button[type=submit]")
    desk.wait_for_selector(".message-success")
    assert Case.objects.get(pk=case.pk).status == Case.Status.CLOSED
    shots(desk, "9-closed")

    # The case's page tells the whole story.
    desk.goto(f"/cases/{case.reference}/")
    desk.wait_for_selector("#case-map[data-case-drawn=true]")
    timeline = desk.locator("#timeline").inner_text()
    for step in (
        "问题上报",
        "立案",
        "已吹哨",
        "签收任务",
        "报到未被接受",
        "已报到，存疑待街乡认定",
        "街乡确认报到",
        "解除部门任务",
        "标记已处置",
        "现场核查通过",
        "结案",
    ):
        assert step in timeline, step
    assert desk.locator("path.desk-check-in-refused").count() == 1
    # The flagged check-in the township confirmed is drawn as a check-in that counts, no
    # longer as one waiting for the township.
    assert desk.locator("path.desk-check-in-flagged").count() == 0
    assert desk.locator("path.desk-check-in").count() == 1
    shots(desk, "10-case-timeline", full_page=True)

    phone.goto(f"/cases/{case.reference}/")
    assert no_sideways_scroll(phone)
    shots(phone, "11-case-on-the-phone", full_page=True)


def test_the_wall_variant_fills_the_screen_and_shows_overdue_in_red(new_page, shots, whistle_city):
    city = whistle_city
    reported_case(city)
    # A whistle blown 40 minutes ago: the arrival (30 minutes) is overdue for both.
    late, _whistle, summonses = whistled_case(city, at=timezone.now() - timedelta(minutes=40))
    actions.acknowledge(city.urban_officer, summonses[city.urban.pk])
    fresh = filed_case(city, description="楼道堆物")
    actions.blow_whistle(city.dispatcher, fresh, kind="emergency", departments=[city.fire])
    page = new_page(WALL)
    sign_in(page, "longtan-dispatcher")
    page.goto("/dispatch/wall/")
    page.wait_for_selector("[data-map][data-map-ready=true]")
    page.wait_for_selector("#board .chip [data-countdown][data-state]")
    assert page.locator(".wall-map .map").bounding_box()["height"] > 700
    assert page.locator("#board .chip.is-overdue").count() == 2
    overdue = page.locator("#board .chip.is-overdue [data-countdown]").first
    assert overdue.get_attribute("data-state") == "overdue"
    assert overdue.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(179, 38, 30)"
    assert late.reference in page.locator("#board").inner_text()
    assert no_sideways_scroll(page)
    shots(page, "wall")


WALL_1366 = {"width": 1366, "height": 768}


@pytest.mark.parametrize(
    ("screen", "locale", "busy"),
    [
        (WALL, "zh-CN", True),
        (WALL, "en-US", True),
        (WALL_1366, "zh-CN", True),
        (WALL_1366, "en-US", False),
        (WALL, "zh-CN", False),
    ],
    ids=["1920-zh-busy", "1920-en-busy", "1366-zh-busy", "1366-en-few", "1920-zh-few"],
)
def test_the_wall_screen_reads_across_the_room_and_says_what_it_leaves_out(
    new_page, shots, whistle_city, screen, locale, busy
):
    city = whistle_city
    # Departments' English names are long: on an English wall they are cut, never the deadline.
    for department, english in (
        (city.urban, "Longtan Subdistrict Urban Management and Law Enforcement Team"),
        (city.police, "Dongcheng District Public Security Sub-bureau Longtan Police Station"),
    ):
        department.name_en = english
        department.save(update_fields=["name_en"])
    now = timezone.now()
    # Whistled now on a case reported before the others: its deadlines are ahead.
    early = filed_case(city, at=now - timedelta(minutes=50))
    actions.blow_whistle(city.dispatcher, early, kind="routine", departments=[city.urban])
    late = whistled_case(city, at=now - timedelta(minutes=40))[0]
    reported = [reported_case(city, description=f"人民市场东巷第 {n} 处游商占道") for n in range(2)]
    if busy:
        for n in range(14):
            reported_case(city, description=f"夕照寺西里第 {n} 处堆物")
        for n in range(6):
            whistled_case(city, at=now - timedelta(minutes=3 * n))
    page = new_page(screen, locale=locale)
    sign_in(page, "longtan-dispatcher")
    page.goto("/dispatch/wall/")
    page.wait_for_selector("[data-map][data-map-ready=true]")
    page.wait_for_selector("#board .chip [data-countdown][data-state]")
    shots(page, "wall")
    # No site bar, no menus: one small way back to the command centre.
    assert page.locator(".topbar, nav, .sitemenu").count() == 0
    back = page.locator(".wall-back")
    assert back.is_visible() and back.get_attribute("href") == "/dispatch/"
    # The screen is the page: nothing scrolls, and the column shows what fits.
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")
    assert no_sideways_scroll(page)
    side = page.locator(".wall-side")
    assert side.evaluate("el => el.scrollHeight <= el.clientHeight + 1")
    # Each department's line of a whistle ends, deadline and all, inside the column.
    beyond = side.evaluate(
        """side => [...side.querySelectorAll('.board-whistles .chip')]
          .filter(chip => chip.offsetParent !== null)
          .map(chip => chip.getBoundingClientRect().right - side.getBoundingClientRect().right)
          .filter(past => past > 1)"""
    )
    assert beyond == [], beyond
    # Large type on a 1920 wall: a case's line in 21 px (16 px on a 1366 laptop).
    row = page.locator("#board .board-case").first
    size = float(row.evaluate("el => parseFloat(getComputedStyle(el).fontSize)"))
    assert size >= (20 if screen == WALL else 15), size
    # The most urgent first: the overdue whistle before the one reported earlier.
    whistles = page.locator("#board .board-whistles > li:visible").all_inner_texts()
    assert late.reference in whistles[0]
    assert any(early.reference in text for text in whistles) or busy
    said = page.locator(
        "#board [data-fit-group-more]:visible, #board [data-fit-more]:visible"
    ).all_inner_texts()
    if busy:
        # More open cases than fit: each state says how many of its own are not shown.
        more = (
            r"另有 \d+ (件|项)未显示。?"
            if locale == "zh-CN"
            else r"And \d+ more not shown\.|\d+ more not shown"
        )
        assert said and all(re.fullmatch(more, text) for text in said), said
    else:
        assert said == []
        listed = page.locator("#board").inner_text()
        assert all(case.reference in listed for case in (early, late, *reported))


def test_the_command_centre_and_the_whistle_form_work_on_a_phone(new_page, shots, whistle_city):
    city = whistle_city
    reported = reported_case(city)
    filed = reported_case(city, description="井盖缺失")
    actions.file_case(city.dispatcher, filed, category=city.street_vending)
    page = new_page(PHONE)
    sign_in(page, "longtan-dispatcher")
    page.goto("/dispatch/")
    page.wait_for_selector("[data-map][data-map-ready=true]")
    assert reported.reference in page.locator("#reported").inner_text()
    assert no_sideways_scroll(page)
    assert small_touch_targets(page, "main") == []
    shots(page, "1-command-centre", full_page=True)

    # Rejecting is folded in the row: opened, its form comes from the server, posts as ever.
    row = page.locator(f"#q-{reported.reference}")
    row.locator('details[hx-get*="/op/reject/"] summary').click()
    form = page.locator(f"#op-reject-{reported.reference}")
    form.locator("textarea").fill("重复上报，已在东巷处理")
    assert small_touch_targets(page, f"#q-{reported.reference}") == []
    form.scroll_into_view_if_needed()
    shots(page, "1b-reject-opened")
    submit(page, form.locator("button[type=submit]"))
    page.wait_for_selector(".message-success")
    assert Case.objects.get(pk=reported.pk).status == Case.Status.REJECTED

    page.goto(f"/dispatch/whistle/{filed.reference}/")
    page.wait_for_selector("#whistle-map[data-case-drawn=true]")
    submit(page, "form.whistle-form button[type=submit]")
    page.wait_for_selector(".form-errors")
    assert "请至少选择一个召集部门" in page.locator(".form-errors").inner_text()
    assert no_sideways_scroll(page)
    assert small_touch_targets(page, "main") == []
    shots(page, "2-whistle-refused", full_page=True)


def test_the_delivery_fold_and_the_pin_clearing_button_fit_a_phone(
    new_page, shots, whistle_city, settings
):
    city = whistle_city
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.WHISTLE_SMS_BACKEND = "tests.test_notifications_status.AcceptingSmsBackend"
    case, _whistle, _summonses = whistled_case(city)
    sweep(timezone.now(), batch=100)
    page = new_page(PHONE)
    sign_in(page, "longtan-dispatcher")

    # How the summons was delivered: a fold whose summary is a full touch target, opening
    # and closing as before.
    page.goto(f"/cases/{case.reference}/")
    fold = page.locator(".delivery-status").first
    summary = fold.locator("summary")
    summary.scroll_into_view_if_needed()
    assert summary.bounding_box()["height"] >= 44
    summary.click()
    assert fold.evaluate("(el) => el.open")
    assert fold.locator("li.delivery").count() >= 1
    shots(page, "1-delivery-opened")
    summary.click()
    assert not fold.evaluate("(el) => el.open")

    # The whistle form's "clear the pin": on a line of its own, in line with the fields.
    filed = reported_case(city, description="井盖缺失")
    actions.file_case(city.dispatcher, filed, category=city.street_vending)
    page.goto(f"/dispatch/whistle/{filed.reference}/")
    clear = page.locator("[data-pin-clear]")
    clear.scroll_into_view_if_needed()
    lon = page.locator(".position-fields input").first.bounding_box()
    box = clear.bounding_box()
    words_left = clear.evaluate(
        """(el) => { const r = document.createRange(); r.selectNodeContents(el);
                    return r.getBoundingClientRect().left; }"""
    )
    label_left = page.locator(".position-fields .label").first.bounding_box()["x"]
    assert abs(words_left - label_left) <= 1  # the button's transparent border
    assert box["y"] > lon["y"] + lon["height"]
    assert box["height"] >= 44
    assert no_sideways_scroll(page)
    shots(page, "2-clear-the-pin")


def test_a_long_queue_turns_its_pages_in_place_and_files_from_a_folded_form(
    new_page, shots, whistle_city
):
    city = whistle_city
    total = QUEUE_PAGE + FILE_INLINE + 1
    cases = [reported_case(city, description=f"第{n + 1}处游商占道") for n in range(total)]
    page = new_page(PHONE)
    sign_in(page, "longtan-dispatcher")
    page.goto("/dispatch/")
    # The board lists the oldest ten and says how many more, with a way to the queue.
    more = page.locator("#board .board-group-more")
    assert f"另有 {total - 10} 件未结案件未列出" in more.inner_text()
    more.scroll_into_view_if_needed()
    assert small_touch_targets(page, "#board .board-group-more") == []
    shots(page, "0-board-says-how-many-more")
    listed = page.locator("#list-reported")
    assert listed.locator("article.queue-item").count() == QUEUE_PAGE
    assert str(total) in page.locator(".queue-nav a[href='#reported'] .count").inner_text()
    assert f"第 1–20 件，共 {total} 件" in listed.locator(".queue-pager").inner_text()
    listed.locator(".queue-pager").scroll_into_view_if_needed()
    assert small_touch_targets(page, "#list-reported .queue-pager") == []
    shots(page, "1-first-page-and-pager")

    # The next page takes the list's place on the command centre itself.
    listed.locator("a[rel=next]").click()
    page.wait_for_selector(f"#list-reported #q-{cases[-1].reference}")
    assert page.url.endswith("/dispatch/")
    assert page.locator("#list-reported article.queue-item").count() == total - QUEUE_PAGE
    assert (
        f"第 21–{total} 件，共 {total} 件"
        in page.locator("#list-reported .queue-pager").inner_text()
    )
    assert no_sideways_scroll(page)
    shots(page, "2-second-page-in-place")

    # The sixth report of that page has its filing form folded: opened and posted without a
    # category, it comes back open in its row on that page of the queue, with the error.
    last = cases[-1]
    row = page.locator(f"#q-{last.reference}")
    assert row.locator("select").count() == 0
    row.locator(f'details[hx-get*="/op/file/{last.reference}/"] summary').click()
    form = page.locator(f"#op-file-{last.reference}")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/dispatch/queue/reported/?township=110101015&page=2#op-file-*")
    row = page.locator(f"#q-{last.reference}")
    assert "立案前请先选择问题分类" in row.locator(".form-errors").inner_text()
    assert page.locator(".messages", has_text="立案前请先选择问题分类").count() == 0
    row.locator(".form-errors").scroll_into_view_if_needed()
    assert no_sideways_scroll(page)
    shots(page, "3-refused-filing-in-its-row-on-page-2")
    row.locator("select").select_option(str(city.street_vending.pk))
    submit(page, row.locator("button[type=submit]"))
    page.wait_for_selector(".message-success")
    assert page.url.endswith(
        f"/dispatch/queue/reported/?township=110101015&page=2#q-{last.reference}"
    )
    assert f"案件 {last.reference} 已立案" in page.locator(".messages").inner_text()
    assert Case.objects.get(pk=last.pk).status == Case.Status.FILED

    page.goto("/dispatch/")
    # The sixth report's filing form is folded: opened, it loads and files the case.
    late = cases[FILE_INLINE]
    row = page.locator(f"#q-{late.reference}")
    assert row.locator("select").count() == 0
    row.locator(f'details[hx-get*="/op/file/{late.reference}/"] summary').click()
    form = page.locator(f"#op-file-{late.reference}")
    form.locator("select").select_option(str(city.street_vending.pk))
    form.scroll_into_view_if_needed()
    shots(page, "4-folded-filing-form-opened")
    submit(page, form.locator("button[type=submit]"))
    page.wait_for_selector(".message-success")
    assert f"案件 {late.reference} 已立案" in page.locator(".messages").inner_text()
    assert Case.objects.get(pk=late.pk).status == Case.Status.FILED


# Where an element of a queue's row stands within the row, in CSS pixels.
RELATIVE_TO_ROW = """(el) => {
    const box = el.getBoundingClientRect();
    const row = el.closest('.queue-item').getBoundingClientRect();
    return {left: box.left - row.left, top: box.top - row.top};
}"""


def test_a_refusal_shows_where_the_dispatcher_looks_when_the_queue_moved_meanwhile(
    new_page, shots, whistle_city
):
    city = whistle_city
    other = make_person("longtan-dispatcher-2", Role.DISPATCHER, jurisdiction=city.longtan)
    cases = [reported_case(city, description=f"第{n + 1}处游商占道") for n in range(QUEUE_PAGE + 5)]
    page = new_page({"width": 1440, "height": 900})
    sign_in(page, "longtan-dispatcher")
    second = "/dispatch/queue/reported/?township=110101015&page=2"
    page.goto(second)

    # The dispatcher opens the folded "reject" of the first report on page 2; meanwhile
    # another dispatcher files three reports of page 1, and the report moves up to page 1.
    moved = cases[QUEUE_PAGE]
    row = page.locator(f"#q-{moved.reference}")
    row.locator(f'details[hx-get*="/op/reject/{moved.reference}/"] summary').click()
    form = page.locator(f"#op-reject-{moved.reference}")
    form.locator("textarea").wait_for()
    for case in cases[:3]:
        actions.file_case(other, case, category=city.street_vending)
    submit(page, form.locator("button[type=submit]"))
    refusal = page.locator(".op-refusal")
    refusal.wait_for()
    # Page 2 no longer lists the report: the refusal is at the top, names the report, links
    # to it and says why, and has the focus.
    assert page.locator(f"#q-{moved.reference}").count() == 0
    text = refusal.inner_text()
    assert f"案件 {moved.reference} 的“不予立案”未能执行。" in text
    assert "这个字段是必填项" in text and "该案件已不在本页，现为“已上报”" in text
    assert refusal.locator(f'a[href="/cases/{moved.reference}/"]').count() == 2
    assert refusal.evaluate("el => el === document.activeElement")
    assert refusal.bounding_box()["y"] < page.locator(".queue-list").bounding_box()["y"]
    assert small_touch_targets(page, ".op-refusal") == []
    shots(page, "1-moved-to-page-1-refusal-at-the-top")

    # A report that left the queue altogether (filed by the other dispatcher) is named the
    # same way, with the action's reason.
    page.goto(second)
    gone = cases[-1]
    row = page.locator(f"#q-{gone.reference}")
    row.locator(f'details[hx-get*="/op/reject/{gone.reference}/"] summary').click()
    form = page.locator(f"#op-reject-{gone.reference}")
    form.locator("textarea").fill("不是城市管理问题")
    actions.file_case(other, gone, category=city.street_vending)
    submit(page, form.locator("button[type=submit]"))
    refusal = page.locator(".op-refusal")
    refusal.wait_for()
    assert f"案件 {gone.reference} 的“不予立案”未能执行。" in refusal.inner_text()
    assert "现为“已立案”" in refusal.inner_text()
    shots(page, "2-left-the-queue-refusal-at-the-top")
    refusal.locator("a.btn").click()
    page.wait_for_url(f"**/cases/{gone.reference}/")
    assert Case.objects.get(pk=gone.pk).status == Case.Status.FILED

    # A department released by the other dispatcher while the form to release it was open:
    # the case is still at work on the page, so the refusal shows in its row, where the
    # form was: in the operations' column, in the department's line, at the form's height.
    case, _whistle, summonses = whistled_case(city)
    urban = summonses[city.urban.pk]
    page.goto("/dispatch/#at_work")
    row = page.locator(f"#q-{case.reference}")
    folded = row.locator(f'details[hx-get*="/op/release/{urban.uuid.hex}/"]')
    folded.locator("summary").click()
    form = page.locator(f"#op-release-{urban.uuid.hex}")
    form.locator("button[type=submit]").wait_for()
    was = folded.evaluate(RELATIVE_TO_ROW)
    actions.release(other, urban, note="已处置完毕")
    submit(page, form.locator("button[type=submit]"))
    refusal = page.locator(f"#q-{case.reference} .op-refusal")
    refusal.wait_for()
    assert "“解除任务”未能执行。" in refusal.inner_text()
    assert page.locator("main > .desk > .op-refusal").count() == 0
    assert refusal.get_attribute("role") == "alert"
    assert refusal.evaluate("el => el === document.activeElement")
    line = row.locator(".queue-summons", has_text=city.urban.name)
    assert line.locator(".op-refusal").count() == 1
    now = refusal.evaluate(RELATIVE_TO_ROW)
    summary = row.locator(".queue-description").bounding_box()
    assert refusal.bounding_box()["x"] >= summary["x"] + summary["width"]
    assert abs(now["left"] - was["left"]) <= 1 and abs(now["top"] - was["top"]) <= 16, (was, now)
    assert no_sideways_scroll(page)
    shots(page, "3-released-meanwhile-refusal-in-its-row")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_home_s_overdue_summonses_keep_their_deadline_inside_the_card(
    new_page, shots, whistle_city, language
):
    city = whistle_city
    long_ago = timezone.now() - timedelta(days=3)
    for _ in range(2):
        _case, _whistle, summonses = whistled_case(city, at=long_ago, departments=[city.urban])
        actions.decline(
            city.urban_officer, summonses[city.urban.pk], reason="不属于本部门职责", now=long_ago
        )
    page = new_page({"width": 1440, "height": 900})
    sign_in(page, "longtan-dispatcher")
    if language == "en" and page.evaluate("document.documentElement.lang") != "en":
        submit(page, ".language-switch button[value=en]")
        page.wait_for_function("document.documentElement.lang === 'en'")
    region = page.locator(".table-scroll:has(.due-table .is-overdue)").first
    region.scroll_into_view_if_needed()
    assert region.locator(".badge").count() > 0
    # The table fits its narrow card: the deadline column is seen without scrolling.
    widths = region.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert widths[0] <= widths[1], widths
    shots(page, f"overdue-{language}")
