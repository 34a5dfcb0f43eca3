"""Field work without signal on a 360 × 740 phone: the pages open from the service worker,
a checklist tick, a report with a photo and a check-in wait on the phone, and reach the
server with their original times when the connection returns; the same queue sent again
changes nothing; a check-in that reaches the server two hours after it was made is flagged
for the township."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, open_menu, sign_in, standing_at, submit
from tests.browser.test_street import WALK, fits_the_phone, phone_png, solve_the_captcha
from tests.conftest import make_person
from tests.fixtures_cases import (
    ON_THE_LANE,
    officer_on_site,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from tests.fixtures_street import reported, street_fixture  # noqa: F401
from whistle.cases import actions, report_limits
from whistle.cases.models import Case, Event, Summons
from whistle.cases.trail import EventKind
from whistle.organisation.models import Role, RoleAssignment
from whistle.patrols.actions import start_patrol
from whistle.patrols.models import CheckResult, Patrol, PatrolEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUEUE = "() => Whistle.offline.items()"
BEIJING = ZoneInfo("Asia/Shanghai")


def controlled(page) -> None:
    """Wait until the service worker answers this page's requests."""
    # Installing fetches the whole shell: slow on a busy machine.
    page.wait_for_function(
        "() => navigator.serviceWorker.controller !== null", timeout=30_000, polling=250
    )


def queue(page) -> list[dict]:
    return page.evaluate(QUEUE)


def statuses(page) -> list[str]:
    return [item["status"] for item in queue(page)]


def wait_for_queue(page, condition: str, timeout: float = 10_000) -> None:
    """Wait until the phone's queue, `items`, meets `condition` (a JavaScript expression).

    wait_for_function takes a promise for a truthy answer and does not wait for it: each of
    its polls here starts a reading of the queue and looks at the last one finished."""
    reading = uuid.uuid4().hex
    page.wait_for_function(
        "(reading) => {"
        " const readings = (window.__queueReadings = window.__queueReadings || {});"
        " if (!(reading in readings)) readings[reading] = null;"
        " Whistle.offline.items().then((found) => { readings[reading] = found; });"
        " const items = readings[reading];"
        f" return items !== null && ({condition});"
        "}",
        arg=reading,
        timeout=timeout,
        polling=100,
    )


def wait_all_sent(page, count: int) -> None:
    """A page opened without signal may not hear the connection return: the queue tries
    again every 15 seconds while something waits."""
    for _attempt in range(80):
        if statuses(page) == ["sent"] * count:
            return
        page.wait_for_timeout(500)
    raise AssertionError(f"not all sent: {statuses(page)}")


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_tick_and_a_report_with_a_photo_made_offline_arrive_with_their_times_once(
    new_page, shots, street, tmp_path
):
    patrol = start_patrol(street.steward, lane=street.city.renmin_lane)
    page = new_page(
        PHONE,
        **standing_at(WALK[0], 6),
    )
    sign_in(page, "wang-fang")
    page.goto("/patrol/")
    controlled(page)
    # With signal: the worker keeps the pages as they are opened.
    page.goto("/patrol/report/")
    page.goto(f"/patrol/walk/{patrol.uuid}/")
    page.wait_for_selector("[data-patrol]")

    page.context.set_offline(True)
    page.wait_for_selector("[data-offline-banner]:not([hidden])")
    parking = page.locator("#item-no-illegal-parking")
    parking.locator("button[value=ok]").click()
    page.wait_for_selector("[data-offline-panel]:not([hidden]) [data-status=waiting]")
    expect(parking.locator("button[value=ok]")).to_have_attribute("aria-pressed", "true")
    assert "检查清单" in page.locator("[data-offline-panel]").inner_text()
    fits_the_phone(page)
    shots(page, "1-tick-kept-on-the-phone", full_page=True)

    # The report form opens from the worker, without signal.
    page.goto("/patrol/report/")
    page.wait_for_selector("[data-report-form]")
    page.set_input_files("#id_photo", phone_png(tmp_path / "stall.png"))
    page.fill("#id_description", "人民市场东巷：占道经营，巷口有小贩摆摊卖水果")
    page.select_option("#id_category", str(street.vending.pk))
    page.click("[data-geolocate-button]")
    page.wait_for_function(
        "() => document.querySelector('.geolocate-status').textContent.includes('6')"
    )
    page.click("button:has-text('提交上报')")
    wait_for_queue(page, "items.length === 2")
    kept = queue(page)
    assert [item["kind"] for item in kept] == ["tick", "report"]
    assert all(item["status"] == "waiting" for item in kept)
    report = kept[1]
    assert report["photo"] is True and report["position"]["accuracy_m"] == 6
    # The form starts again empty: its counter and its photo too.
    expect(page.locator("#id_description")).to_have_value("")
    expect(page.locator("#id_description-count")).to_have_text(re.compile(r"^0 / "))
    photo = page.locator("[data-photo-field]").filter(has=page.locator("#id_photo"))
    expect(photo.locator("[data-photo-name]")).to_have_text("")
    expect(photo.locator("[data-photo-preview]")).to_be_hidden()
    assert CheckResult.objects.count() == 0 and Case.objects.count() == 0
    page.locator("[data-offline-panel]").scroll_into_view_if_needed()
    fits_the_phone(page)
    shots(page, "2-report-kept-on-the-phone")

    page.wait_for_timeout(1500)
    page.context.set_offline(False)
    wait_all_sent(page, 2)
    expect(page.locator("[data-offline-status]")).to_have_count(0)
    page.locator("[data-offline-panel]").scroll_into_view_if_needed()
    shots(page, "3-sent")

    check = CheckResult.objects.get(patrol=patrol, item="no-illegal-parking")
    tick_event = PatrolEvent.objects.get(patrol=patrol, kind=PatrolEvent.Kind.CHECKED)
    made = moment(kept[0]["happened_at"])
    assert abs((check.checked_at - made).total_seconds()) < 1
    assert tick_event.at - check.checked_at >= timedelta(seconds=1.5)
    assert tick_event.data["happened_at"] == check.checked_at.isoformat()
    case = Case.objects.get(reporter=street.steward)
    assert case.category == street.vending and case.attachments.count() == 1
    reported = Event.objects.get(case=case, kind=EventKind.CASE_REPORTED)
    written, received = moment(reported.data["happened_at"]), moment(reported.data["received_at"])
    assert abs((written - moment(report["happened_at"])).total_seconds()) < 1
    assert received - written >= timedelta(seconds=1.5)
    expect(page.locator("[data-offline-panel]")).to_contain_text(case.reference)

    # The answers were lost on the way: the phone sends the whole queue again.
    page.evaluate(
        """async () => {
            const db = await new Promise((ok) => {
                const open = indexedDB.open("whistle-offline", 1);
                open.onsuccess = () => ok(open.result);
            });
            const items = await Whistle.offline.items();
            await new Promise((ok) => {
                const tx = db.transaction("queue", "readwrite");
                items.forEach((item) => tx.objectStore("queue").put({...item, status: "waiting"}));
                tx.oncomplete = ok;
            });
            await Whistle.offline.sync();
        }"""
    )
    wait_all_sent(page, 2)
    assert Case.objects.count() == 1
    assert PatrolEvent.objects.filter(patrol=patrol, kind=PatrolEvent.Kind.CHECKED).count() == 1
    assert Event.objects.filter(kind=EventKind.CASE_REPORTED).count() == 1


def check_in_kept_offline(page, case) -> dict:
    """The urban officer opens the case with signal, loses it and taps 报到: the phone keeps
    the check-in, the one thing in its queue, which this returns."""
    sign_in(page, "urban-officer")
    page.goto("/department/")
    controlled(page)
    page.goto(f"/cases/{case.reference}/")
    page.wait_for_selector(".op-check_in")
    page.context.set_offline(True)
    page.reload()
    page.locator(".op-check_in button[type=submit]").click()
    page.wait_for_selector("[data-offline-panel]:not([hidden]) [data-status=waiting]")
    (item,) = queue(page)
    return item


def test_a_check_in_made_offline_and_received_two_hours_later_is_flagged(
    new_page, shots, whistle_city
):
    city = whistle_city
    # Summoned three hours ago: the phone will keep the check-in for two of them.
    summoned = timezone.now() - timedelta(hours=3)
    case, _whistle, summonses = whistled_case(city, at=summoned)
    summons = summonses[city.urban.pk]
    actions.acknowledge(city.urban_officer, summons, now=summoned + timedelta(minutes=1))
    page = new_page(
        PHONE,
        **standing_at(ON_THE_LANE),
    )
    item = check_in_kept_offline(page, case)
    assert item["kind"] == "check-in" and item["position"]["accuracy_m"] == 8
    assert Event.objects.filter(summons=summons, kind__startswith="summons.check_in").count() == 0
    page.locator(".op-check_in").scroll_into_view_if_needed()
    fits_the_phone(page)
    shots(page, "1-check-in-kept-on-the-phone")

    # Two hours in a dead zone: the phone made it two hours before it can send it.
    page.evaluate(
        """async () => {
            const hours2 = 2 * 3600 * 1000;
            const db = await new Promise((ok) => {
                const open = indexedDB.open("whistle-offline", 1);
                open.onsuccess = () => ok(open.result);
            });
            const [item] = await Whistle.offline.items();
            const body = JSON.parse(item.body);
            const earlier = (iso) => new Date(Date.parse(iso) - hours2).toISOString();
            body.happened_at = earlier(body.happened_at);
            body.device_time = earlier(body.device_time);
            await new Promise((ok) => {
                const tx = db.transaction("queue", "readwrite");
                tx.objectStore("queue").put({
                    ...item, body: JSON.stringify(body), happened_at: body.happened_at,
                });
                tx.oncomplete = ok;
            });
        }"""
    )
    page.context.set_offline(False)
    wait_all_sent(page, 1)
    summons.refresh_from_db()
    assert (summons.status, summons.check_in_flag) == (
        Summons.Status.ON_SITE,
        Summons.CheckInFlag.PENDING,
    )
    assert summons.check_in_flag_reasons == ["late_sync"]
    event = Event.objects.get(summons=summons, kind=EventKind.CHECK_IN_FLAGGED)
    assert event.data["delay_s"] >= 2 * 3600
    assert summons.arrived_at == moment(event.data["happened_at"])
    expect(page.locator("[data-offline-panel]")).to_contain_text("已接受，存疑待街乡认定")
    page.locator("[data-offline-panel]").scroll_into_view_if_needed()
    shots(page, "2-check-in-sent-flagged")


def test_what_is_kept_on_a_phone_set_to_another_time_zone_is_timed_in_beijing_time(
    new_page, shots, whistle_city
):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city)
    actions.acknowledge(city.urban_officer, summonses[city.urban.pk])
    page = new_page(PHONE, timezone_id="UTC", **standing_at(ON_THE_LANE))
    item = check_in_kept_offline(page, case)
    made = moment(item["happened_at"]).astimezone(BEIJING)
    panel = page.locator("[data-offline-panel]")
    expect(panel).to_contain_text(f"记录于 {made:%H:%M}")
    panel.scroll_into_view_if_needed()
    shots(page, "kept-in-beijing-time")


def resend_everything(page) -> None:
    """The answers were lost on the way: the phone sends its whole queue again, under the
    same keys."""
    page.evaluate(
        """async () => {
            const db = await new Promise((ok) => {
                const open = indexedDB.open("whistle-offline", 1);
                open.onsuccess = () => ok(open.result);
            });
            const items = await Whistle.offline.items();
            await new Promise((ok) => {
                const tx = db.transaction("queue", "readwrite");
                items.forEach((item) => tx.objectStore("queue").put({...item, status: "waiting"}));
                tx.oncomplete = ok;
            });
            await Whistle.offline.sync();
        }"""
    )


def kept_by_the_worker(page, url: str) -> None:
    for _attempt in range(60):
        if page.evaluate("async (url) => !!(await caches.match(url))", url):
            return
        page.wait_for_timeout(500)
    raise AssertionError(f"{url} not kept")


def test_a_patrol_started_in_a_dead_zone_reaches_the_server_whole_and_in_order(
    new_page, shots, street
):
    lane = street.city.renmin_lane
    page = new_page(
        PHONE,
        **standing_at(WALK[0], 6),
    )
    sign_in(page, "wang-fang")
    page.goto("/patrol/")
    controlled(page)
    walk_page = f"/patrol/walk/lane/{lane.pk}/"
    kept_by_the_worker(page, walk_page)
    kept_by_the_worker(page, "/patrol/")

    page.context.set_offline(True)
    page.goto("/patrol/")
    start = page.locator("form.start-form")
    if start.locator("select[name=lane]").count():
        start.locator("select[name=lane]").select_option(str(lane.pk))
    start.locator("button[type=submit]").click()
    page.wait_for_url(f"**{walk_page}#*")
    page.wait_for_selector("[data-patrol][data-offline-walk]")
    key = page.locator("[data-patrol]").get_attribute("data-patrol-id")
    assert key and key != "00000000-0000-0000-0000-000000000000"
    page.wait_for_timeout(1200)
    for lon, lat in WALK[1:]:
        page.context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 6})
        page.wait_for_timeout(700)
    parking = page.locator("#item-no-illegal-parking")
    parking.locator("button[value=ok]").click()
    wait_for_queue(page, "items.length === 2")
    fits_the_phone(page)
    shots(page, "1-patrol-started-without-signal", full_page=True)
    page.wait_for_timeout(1200)
    page.locator("[data-patrol-end] button[type=submit]").click()
    page.wait_for_url("**/patrol/")
    kept = queue(page)
    assert [item["kind"] for item in kept] == ["patrol-start", "tick", "positions", "patrol-end"]
    assert all(item["status"] == "waiting" for item in kept)
    assert not Patrol.objects.filter(uuid=key).exists()
    page.locator("[data-offline-panel]").scroll_into_view_if_needed()
    shots(page, "2-patrol-kept-on-the-phone")

    page.wait_for_timeout(1500)
    page.context.set_offline(False)
    wait_all_sent(page, 4)
    patrol = Patrol.objects.get(uuid=key)
    started, ticked, ended = (moment(kept[n]["happened_at"]) for n in (0, 1, 3))
    assert patrol.ended_at is not None
    assert abs((patrol.started_at - started).total_seconds()) < 1
    assert abs((patrol.ended_at - ended).total_seconds()) < 1
    assert patrol.point_count >= 2 and patrol.location == "recording"
    check = CheckResult.objects.get(patrol=patrol, item="no-illegal-parking")
    assert check.result == "ok" and abs((check.checked_at - ticked).total_seconds()) < 1
    events = list(PatrolEvent.objects.filter(patrol=patrol).order_by("pk"))
    assert [e.kind for e in events] == ["started", "checked", "location", "ended"]
    assert all(e.at >= moment(e.data["happened_at"]) for e in events if "happened_at" in e.data)
    # The start, the tick and the end keep where the phone was and how precise its fix was.
    placed = [e.data["position"] for e in events if e.kind != "location"]
    assert [p["accuracy_m"] for p in placed] == [6, 6, 6]
    assert placed[0]["lat"] == WALK[0][1] and placed[2]["lat"] == WALK[-1][1]
    page.locator("[data-offline-panel]").scroll_into_view_if_needed()
    shots(page, "3-patrol-sent")

    resend_everything(page)
    wait_all_sent(page, 4)
    assert Patrol.objects.filter(person=street.steward).count() == 1
    assert PatrolEvent.objects.filter(patrol=patrol).count() == len(events)
    patrol.refresh_from_db()
    assert patrol.ended_at is not None
    assert abs((patrol.ended_at - ended).total_seconds()) < 1


def test_a_patrol_started_with_signal_and_ended_in_a_dead_zone_ends_once_when_it_returns(
    new_page, shots, street
):
    lane = street.city.renmin_lane
    page = new_page(PHONE, **standing_at(WALK[0], 6))
    sign_in(page, "wang-fang")
    page.goto("/patrol/")
    controlled(page)
    kept_by_the_worker(page, "/patrol/")
    # With signal: the patrol starts on the server.
    start = page.locator("form.start-form")
    if start.locator("select[name=lane]").count():
        start.locator("select[name=lane]").select_option(str(lane.pk))
    start.locator("button[type=submit]").click()
    page.wait_for_url("**/patrol/walk/*/")
    patrol = Patrol.objects.get(person=street.steward)
    assert patrol.ended_at is None
    page.wait_for_selector("[data-patrol]")
    page.wait_for_timeout(1200)

    # Into the lane, where the signal goes.
    page.context.set_offline(True)
    for lon, lat in WALK[1:]:
        page.context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 6})
        page.wait_for_timeout(700)
    page.locator("#item-no-illegal-parking button[value=ok]").click()
    wait_for_queue(page, "items.length === 1")
    banner = page.locator("[data-offline-banner]")
    expect(banner).to_contain_text("恢复连接后自动发送", use_inner_text=True)
    page.wait_for_timeout(1200)
    page.locator("[data-patrol-end] button[type=submit]").click()
    page.wait_for_url("**/patrol/")
    kept = queue(page)
    assert [item["kind"] for item in kept] == ["tick", "positions", "patrol-end"]
    assert all(item["status"] == "waiting" for item in kept)
    end = kept[2]
    assert end["path"] == f"/api/v1/patrols/{patrol.uuid}/finish"
    assert end["position"]["accuracy_m"] == 6
    patrol.refresh_from_db()
    assert patrol.ended_at is None
    page.locator("[data-offline-panel]").scroll_into_view_if_needed()
    fits_the_phone(page)
    shots(page, "1-end-kept-on-the-phone")

    page.wait_for_timeout(1500)
    page.context.set_offline(False)
    wait_all_sent(page, 3)
    patrol.refresh_from_db()
    ended = moment(end["happened_at"])
    # Ended when it was ended on the phone, not when the end arrived.
    assert patrol.ended_at is not None
    assert abs((patrol.ended_at - ended).total_seconds()) < 1
    assert patrol.point_count >= len(WALK) - 1
    event = PatrolEvent.objects.get(patrol=patrol, kind=PatrolEvent.Kind.ENDED)
    assert event.at - patrol.ended_at >= timedelta(seconds=1.5)
    assert moment(event.data["happened_at"]) == patrol.ended_at
    assert event.data["position"]["lat"] == WALK[-1][1]
    assert event.data["position"]["accuracy_m"] == 6
    check = CheckResult.objects.get(patrol=patrol, item="no-illegal-parking")
    assert check.result == "ok"
    shots(page, "2-end-sent")

    # The answers were lost on the way: the same end sent again ends the patrol once.
    resend_everything(page)
    wait_all_sent(page, 3)
    assert PatrolEvent.objects.filter(patrol=patrol, kind=PatrolEvent.Kind.ENDED).count() == 1
    patrol.refresh_from_db()
    assert abs((patrol.ended_at - ended).total_seconds()) < 1


def minutes_between(start: datetime, end: datetime) -> set[str]:
    """Every time of day, Beijing time, HH:MM, from `start` to `end`."""
    found = set()
    moment = start.astimezone(BEIJING).replace(second=0, microsecond=0)
    while moment <= end:
        found.add(moment.strftime("%H:%M"))
        moment += timedelta(minutes=1)
    return found


KEPT_WORDS = {
    "zh-CN": {
        "in_progress": "巡查进行中",
        "saved": "本页是 {time} 保存在本机的副本，可能不是最新状态。",
        "waiting": "本机还有 {n} 条记录尚未发送，本页可能尚未反映。",
        "between": "",
    },
    "en-US": {
        "in_progress": "Patrol in progress",
        "saved": "This page is the copy saved on this phone at {time}: it may be out of date.",
        "waiting": "{n} records on this phone are not sent yet and may not show on it.",
        "between": " ",
    },
}


@pytest.mark.parametrize("language", ["zh-CN", "en-US"])
def test_a_kept_page_says_when_it_was_saved_and_that_a_patrol_end_waits_to_be_sent(
    new_page, shots, street, language
):
    words = KEPT_WORDS[language]
    patrol = start_patrol(street.steward, lane=street.city.renmin_lane)
    page = new_page(PHONE, locale=language, **standing_at(WALK[0], 6))
    sign_in(page, "wang-fang")
    opened = timezone.now()
    page.goto("/patrol/")
    controlled(page)
    kept_by_the_worker(page, "/patrol/")
    kept_by_the_worker(page, "/patrol/reports/")
    # With signal the page is the server's and says nothing of being kept.
    page.goto("/patrol/")
    expect(page.locator("#current-title")).to_have_text(words["in_progress"])
    expect(page.locator("[data-offline-kept-note]")).to_have_count(0)
    page.goto(f"/patrol/walk/{patrol.uuid}/")
    page.wait_for_selector("[data-patrol]")

    # Ended in a dead zone: the end waits on the phone, and my lanes come from the store,
    # kept while the patrol was running.
    page.context.set_offline(True)
    page.wait_for_timeout(700)
    page.locator("[data-patrol-end] button[type=submit]").click()
    page.wait_for_url("**/patrol/")
    waiting = len(queue(page))
    assert waiting >= 1 and queue(page)[-1]["kind"] == "patrol-end"
    assert all(item["status"] == "waiting" for item in queue(page))
    note = page.locator("[data-offline-kept-note]")
    expect(note).to_be_visible()
    times = minutes_between(opened, timezone.now())
    text = note.inner_text()
    assert any(
        text
        == words["saved"].format(time=at) + words["between"] + words["waiting"].format(n=waiting)
        for at in times
    ), (text, times)
    # The page itself is the copy from before the end: the note above it says so.
    expect(page.locator("#current-title")).to_have_text(words["in_progress"])
    box = note.bounding_box()
    assert box is not None and box["y"] < page.locator("#current-title").bounding_box()["y"]
    fits_the_phone(page)
    shots(page, "1-my-lanes-kept-with-the-end-waiting")
    # Every kept page says it, not only my lanes.
    page.goto("/patrol/reports/")
    page.wait_for_selector("body[data-offline-kept]", state="attached")
    expect(note).to_contain_text(words["waiting"].format(n=waiting))
    shots(page, "2-my-reports-kept")

    # The signal returns: the end is sent; the copy still says it was saved, nothing waits.
    page.context.set_offline(False)
    wait_all_sent(page, waiting)
    expect(note).not_to_contain_text(words["waiting"].format(n=waiting))
    assert any(note.inner_text() == words["saved"].format(time=at) for at in times)
    patrol.refresh_from_db()
    assert patrol.ended_at is not None
    shots(page, "3-sent")


def test_the_no_signal_page_comes_in_the_language_last_chosen_and_shows_nobodys_name(
    new_page, shots, street
):
    page = new_page(PHONE)
    sign_in(page, "wang-fang")
    page.goto("/patrol/")
    controlled(page)
    # Installed in Chinese; she switches to English with signal.
    open_menu(page)
    submit(page, ".language-switch button[value=en]")
    page.wait_for_function("document.documentElement.lang === 'en'")
    page.context.set_offline(True)
    # A page never kept on the phone.
    page.goto("/duty/")
    expect(page.locator("h1")).to_have_text("No signal")
    assert page.evaluate("document.documentElement.lang") == "en"
    # Kept for anyone on the phone: nobody's name, nobody's queue.
    expect(page.locator("body")).to_have_attribute("data-offline-owner", "")
    expect(page.locator(".who-name")).to_have_count(0)
    assert street.steward.display_name not in page.content()
    # She is signed in: the page does not tell her to sign in (which needs signal anyway),
    # and offers the pages this phone keeps for her.
    expect(page.locator(".topbar a[href='/accounts/login/']")).to_have_count(0)
    expect(page.locator(".topbar")).not_to_contain_text("Sign in")
    expect(page.locator("[data-kept-pages] a:visible", has_text="My lanes")).to_have_count(1)
    fits_the_phone(page)
    shots(page, "1-english")
    # The home page is not kept: the brand and "Home" lead to her first kept page, my lanes.
    expect(page.locator(".topbar a.brand")).to_have_attribute("href", "/patrol/")
    page.get_by_role("link", name="Home", exact=True).click()
    expect(page.locator("body[data-offline-kept]")).to_have_count(1)
    expect(page.locator("h1", has_text="No signal")).to_have_count(0)
    assert page.url.endswith("/patrol/")
    page.goto("/duty/")
    page.locator("[data-kept-pages] a", has_text="My lanes").click()
    expect(page.locator("body[data-offline-kept]")).to_have_count(1)
    expect(page.locator("h1", has_text="No signal")).to_have_count(0)

    # And back to Chinese.
    page.context.set_offline(False)
    page.goto("/patrol/")
    open_menu(page)
    submit(page, ".language-switch button[value=zh-hans]")
    page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    page.context.set_offline(True)
    page.goto("/duty/")
    expect(page.locator("h1")).to_have_text("无信号")
    expect(page.locator(".topbar")).not_to_contain_text("登录")
    expect(page.locator("[data-kept-pages] a:visible", has_text="我的街巷")).to_have_count(1)
    shots(page, "2-chinese")


def test_the_language_switch_without_signal_says_it_needs_a_connection_and_works_once_back(
    new_page, shots, street
):
    page = new_page(PHONE)
    sign_in(page, "wang-fang")
    page.goto("/patrol/")
    controlled(page)
    # My lanes, opened with signal, is kept before the signal goes.
    kept_by_the_worker(page, "/patrol/")
    page.context.set_offline(True)
    # A page never kept on the phone: the "no signal" page, in Chinese.
    page.goto("/inbox/")
    expect(page.locator("h1")).to_have_text("无信号")
    note = page.locator("[data-language-offline]")
    expect(note).to_be_visible()
    expect(note).to_have_text("切换语言需要网络连接。")
    english = page.locator(".language-switch button[value=en]")
    expect(english).to_have_attribute("aria-disabled", "true")
    fits_the_phone(page)
    shots(page, "1-language-needs-a-connection")
    # Pressed anyway (a tap reaches it): it stays, says why aloud, and holds no form's
    # "not sent" note.
    english.click(force=True)
    expect(page.locator("#live-announcer")).to_have_text("切换语言需要网络连接。")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    expect(page.locator("h1")).to_have_text("无信号")
    expect(page.locator(".language-switch [data-offline-status]")).to_have_count(0)

    # The signal returns: a press brings the page asked for, whose switch works.
    page.context.set_offline(False)
    with page.expect_navigation():
        english.click(force=True)
    expect(page.locator("h1", has_text="无信号")).to_have_count(0)
    expect(page.locator("[data-language-offline]")).to_be_hidden()
    open_menu(page)
    submit(page, ".language-switch button[value=en]")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.url.endswith("/inbox/")
    # The signal goes at once: my lanes, kept before the switch, still opens, and says it too
    # in the language it was kept in (English once the phone has kept it again, else Chinese).
    page.context.set_offline(True)
    page.goto("/patrol/")
    expect(page.locator("body[data-offline-kept]")).to_have_count(1)
    open_menu(page)
    said = {"en": "Switching language needs a connection.", "zh-CN": "切换语言需要网络连接。"}
    expect(page.locator("[data-language-offline]")).to_have_text(
        said[page.evaluate("document.documentElement.lang")]
    )
    expect(page.locator(".language-switch button").first).to_have_attribute("aria-disabled", "true")
    shots(page, "2-kept-page")


def test_a_page_kept_as_it_was_opened_opens_without_signal_also_at_another_page_of_its_list(
    new_page, street
):
    page = new_page(PHONE)
    sign_in(page, "wang-fang")
    page.goto("/patrol/")
    controlled(page)
    # Opened with signal: the phone keeps it as the browser asked for it (in its language).
    page.goto("/patrol/history/")
    page.wait_for_function(
        "async () => !!(await caches.match('/patrol/history/', {ignoreVary: true}))", polling=250
    )
    page.context.set_offline(True)
    # The list's next page, never opened: the copy kept at its path.
    page.goto("/patrol/history/?page=2")
    expect(page.locator("body[data-offline-kept]")).to_have_count(1)
    expect(page.locator("h1", has_text="无信号")).to_have_count(0)


def test_progress_result_and_check_out_made_offline_and_a_refused_one_retried_and_discarded(
    new_page, shots, whistle_city, tmp_path
):
    city = whistle_city
    case, summons = officer_on_site(city, departments=[city.urban, city.police])
    page = new_page(
        PHONE,
        **standing_at(ON_THE_LANE),
    )
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, "urban-officer")
    page.goto("/department/")
    controlled(page)
    page.goto(f"/cases/{case.reference}/")
    page.wait_for_selector(".op-progress", state="attached")

    page.context.set_offline(True)
    page.reload()
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    hexa = summons.uuid.hex
    progress = page.locator(f"#op-progress-{hexa}")
    progress.locator("textarea").fill("正在劝离，摊主在收拾")
    progress.locator("button[type=submit]").click()
    wait_for_queue(page, "items.length === 1")
    result = page.locator(f"#op-result-{hexa}")
    result.locator("textarea").fill("游商已劝离，巷口已清理")
    result.locator("input[type=file]").set_input_files(phone_png(tmp_path / "done.png"))
    result.locator("button[type=submit]").click()
    wait_for_queue(page, "items.length === 2")
    page.locator(f"#op-check_out-{hexa} button[type=submit]").click()
    wait_for_queue(page, "items.length === 3")
    kept = queue(page)
    assert [item["kind"] for item in kept] == ["progress", "result", "check-out"]
    assert kept[1]["photo"] is True
    assert [item["position"]["accuracy_m"] for item in kept] == [8, 8, 8]
    page.locator("[data-offline-panel]").scroll_into_view_if_needed()
    fits_the_phone(page)
    shots(page, "1-kept-on-the-phone")

    page.wait_for_timeout(1500)
    page.context.set_offline(False)
    for _attempt in range(80):
        if statuses(page) == ["sent", "sent", "failed"]:
            break
        page.wait_for_timeout(500)
    assert statuses(page) == ["sent", "sent", "failed"]
    summons.refresh_from_db()
    assert summons.status == Summons.Status.DONE and summons.left_at is None
    progress_event = Event.objects.get(summons=summons, kind=EventKind.PROGRESS)
    assert (progress_event.lon, progress_event.lat) == ON_THE_LANE
    assert progress_event.data["accuracy_m"] == 8
    written = moment(progress_event.data["happened_at"])
    assert abs((written - moment(kept[0]["happened_at"])).total_seconds()) < 1
    assert progress_event.at - written >= timedelta(seconds=1.5)
    result_event = Event.objects.get(summons=summons, kind=EventKind.RESULT)
    assert len(result_event.data["photos"]) == 1 and result_event.data["accuracy_m"] == 8
    failed = page.locator("[data-offline-panel] [data-status=failed]")
    expect(failed).to_contain_text("事不完、人不撤")
    failed.scroll_into_view_if_needed()
    shots(page, "2-check-out-refused")

    # Retried: a new attempt under a new key, refused again for the same reason.
    old_key = queue(page)[2]["key"]
    failed.locator("[data-offline-retry]").click()
    # The retry takes the item out and puts it back under its new key: read between the two,
    # the queue is one short.
    wait_for_queue(
        page,
        f"items.length === 3 && items[2].key !== '{old_key}' && items[2].status === 'failed'",
        timeout=40_000,
    )
    assert Event.objects.filter(summons=summons, kind=EventKind.CHECK_OUT_REFUSED).count() == 2
    # Discarded by its author: gone from the phone, nothing more on the server.
    page.locator("[data-offline-panel] [data-status=failed] [data-offline-discard]").click()
    wait_for_queue(page, "items.length === 2")
    expect(page.locator("[data-offline-panel] [data-status=failed]")).to_have_count(0)

    # Released by the township; the next check-out, made without signal, counts when made.
    actions.release(city.dispatcher, summons, note="可以撤离")
    page.context.set_offline(True)
    page.reload()
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    page.locator(f"#op-check_out-{hexa} button[type=submit]").click()
    wait_for_queue(page, "items.length === 3")
    page.wait_for_timeout(1500)
    page.context.set_offline(False)
    wait_all_sent(page, 3)
    summons.refresh_from_db()
    made = moment(queue(page)[2]["happened_at"])
    assert summons.status == Summons.Status.LEFT and summons.left_at is not None
    assert abs((summons.left_at - made).total_seconds()) < 1
    page.locator("[data-offline-panel]").scroll_into_view_if_needed()
    shots(page, "3-checked-out")

    resend_everything(page)
    wait_all_sent(page, 3)
    assert Event.objects.filter(summons=summons, kind=EventKind.PROGRESS).count() == 1
    assert Event.objects.filter(summons=summons, kind=EventKind.RESULT).count() == 1
    assert Event.objects.filter(summons=summons, kind=EventKind.CHECK_OUT).count() == 1


def opens_without_signal(page, url: str, selectors: str) -> None:
    """The page at `url` opens from the worker as itself (`selectors`, joined by " & "), not
    as the "no signal" page."""
    page.goto(url)
    for selector in selectors.split(" & "):
        page.wait_for_selector(selector, state="attached")
    assert page.locator("h1", has_text="无信号").count() == 0
    # The page came from the phone's store, and says so even where the browser believes
    # itself online (a weak signal).
    assert page.locator("body[data-offline-kept]").count() == 1
    assert page.locator("[data-offline-banner]:not([hidden])").count() == 1
    fits_the_phone(page)


def test_every_phone_page_the_person_never_opened_still_opens_without_signal(
    new_page, shots, whistle_city
):
    city = whistle_city
    lane = city.lane
    patrol = start_patrol(city.steward, lane=lane)
    steward_pages = {
        "/patrol/": "text=人民市场东巷",
        f"/patrol/walk/{patrol.uuid}/": "#item-no-illegal-parking",
        # The page a patrol started without signal opens on (its key and start after the #).
        f"/patrol/walk/lane/{lane.pk}/": "[data-offline-walk-note] & #item-no-illegal-parking",
        "/patrol/report/": "[data-report-form]",
        "/patrol/reports/": "h1:has-text('我的上报')",
    }
    page = new_page(PHONE)
    sign_in(page, "liang-ping")
    controlled(page)
    # Only the home page was opened with signal: the worker fetched the rest on its own.
    for url in steward_pages:
        kept_by_the_worker(page, url)
    page.context.set_offline(True)
    started = f"#{uuid.uuid4()},{timezone.now().isoformat()}"
    for step, (url, selector) in enumerate(steward_pages.items(), start=1):
        opens_without_signal(page, url + (started if "/lane/" in url else ""), selector)
        shots(page, f"steward-{step}")

    case, _whistle, summonses = whistled_case(city)
    summons = summonses[city.urban.pk]
    actions.acknowledge(city.urban_officer, summons)
    officer = new_page(PHONE)
    sign_in(officer, "urban-officer")
    controlled(officer)
    officer_pages = {
        "/department/": f"text={case.reference}",
        f"/cases/{case.reference}/": ".op-check_in",
    }
    for url in officer_pages:
        kept_by_the_worker(officer, url)
    officer.context.set_offline(True)
    for step, (url, selector) in enumerate(officer_pages.items(), start=1):
        opens_without_signal(officer, url, selector)
        shots(officer, f"officer-{step}")
    # A page that was never kept says so instead of failing.
    officer.goto("/duty/")
    officer.wait_for_selector("h1:has-text('无信号')")


def report_without_signal(page, description: str, category) -> None:
    page.goto("/patrol/report/")
    page.wait_for_selector("[data-report-form]")
    expected = len(queue(page)) + 1
    page.fill("#id_description", description)
    page.select_option("#id_category", str(category.pk))
    page.click("[data-geolocate-button]")
    page.wait_for_function(
        "() => /\\d/.test(document.querySelector('.geolocate-status').textContent)"
    )
    page.click("[data-report-form] .form-actions button[type=submit]")
    wait_for_queue(page, f"items.length === {expected}")


def test_refused_reports_stay_with_their_reasons_until_one_is_retried_and_one_discarded(
    new_page, shots, street
):
    # Ma Lin, steward of 东四六条, helps out on 人民市场东巷 in another street office, where
    # nobody has given her a lane yet.
    ma_lin = street.dongsi_steward
    page = new_page(
        PHONE,
        **standing_at(ON_THE_LANE, 7),
    )
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, "ma-lin")
    controlled(page)
    kept_by_the_worker(page, "/patrol/report/")
    kept_by_the_worker(page, "/patrol/reports/")

    page.context.set_offline(True)
    report_without_signal(page, "人民市场东巷：巷口有小贩摆摊卖水果", street.vending)
    report_without_signal(page, "人民市场东巷：巷尾堆着装修渣土", street.garbage)
    first, second = queue(page)
    page.wait_for_timeout(1500)
    page.context.set_offline(False)
    for _attempt in range(80):
        if statuses(page) == ["failed", "failed"]:
            break
        page.wait_for_timeout(500)
    # Refused for a reason the server gave: shown, kept, never sent again on its own.
    assert statuses(page) == ["failed", "failed"]
    assert Case.objects.count() == 0
    panel = page.locator("[data-offline-panel]")
    for key in (first["key"], second["key"]):
        row = panel.locator(f"[data-offline-item='{key}']")
        expect(row).to_have_attribute("data-status", "failed")
        reason = row.locator(".offline-item-reason").inner_text()
        assert reason.startswith("无权在此处上报问题：此事须由人民市场东巷的小巷管家"), reason
    panel.scroll_into_view_if_needed()
    fits_the_phone(page)
    shots(page, "1-refused-with-the-reason")

    # Nothing is dropped on the way: another page, and a new round of sending, keep both.
    page.goto("/patrol/reports/")
    page.evaluate("() => Whistle.offline.sync()")
    assert statuses(page) == ["failed", "failed"]
    expect(page.locator("[data-offline-panel] [data-status=failed]")).to_have_count(2)
    assert Case.objects.count() == 0

    # The street office gives her the lane; she retries the first report herself.
    RoleAssignment.objects.create(person=ma_lin, role=Role.STEWARD, lane=street.city.renmin_lane)
    panel = page.locator("[data-offline-panel]")
    retried, discarded = first["key"], second["key"]
    panel.locator(f"[data-offline-retry='{retried}']").click()
    wait_for_queue(
        page, "items.map((item) => item.status).join() === 'sent,failed'", timeout=40_000
    )
    case = Case.objects.get(reporter=ma_lin)
    assert case.description == "人民市场东巷：巷口有小贩摆摊卖水果"
    reported = Event.objects.get(case=case, kind=EventKind.CASE_REPORTED)
    # Kept with the time she wrote it, received when she retried it.
    written, received = moment(reported.data["happened_at"]), moment(reported.data["received_at"])
    assert abs(written - moment(first["happened_at"])) < timedelta(seconds=1)
    assert received - written >= timedelta(seconds=1.5)
    expect(panel).to_contain_text(case.reference)

    # The second she no longer wants: discarded by her, after she confirms, and sent nowhere.
    panel.locator(f"[data-offline-discard='{discarded}']").click()
    wait_for_queue(page, "items.length === 1")
    expect(panel.locator("[data-status=failed]")).to_have_count(0)
    page.evaluate("() => Whistle.offline.sync()")
    assert Case.objects.count() == 1
    panel.scroll_into_view_if_needed()
    shots(page, "2-retried-and-discarded")


MY_REPORTS = {
    "zh-CN": {"waiting": "待发送", "empty": "您还没有上报过问题。"},
    "en-US": {"waiting": "Waiting to send", "empty": "You have not reported any problem yet."},
}


@pytest.mark.parametrize("locale", MY_REPORTS)
def test_my_reports_show_a_report_kept_on_the_phone_as_waiting_then_as_sent_once_it_is(
    new_page, shots, street, locale
):
    words = MY_REPORTS[locale]
    page = new_page(PHONE, locale=locale, **standing_at(ON_THE_LANE, 7))
    sign_in(page, "wang-fang")
    controlled(page)
    kept_by_the_worker(page, "/patrol/report/")
    kept_by_the_worker(page, "/patrol/reports/")

    page.context.set_offline(True)
    report_without_signal(page, "人民市场东巷：巷口有小贩摆摊卖水果", street.vending)
    (kept,) = queue(page)
    # My reports, opened from the phone's store: the report waits at the top of the list.
    page.goto("/patrol/reports/")
    waiting = page.locator(f"[data-my-reports] tr[data-waiting-report='{kept['key']}']")
    expect(waiting).to_contain_text("人民市场东巷：巷口有小贩摆摊卖水果")
    expect(waiting).to_contain_text(words["waiting"])
    expect(page.locator("[data-my-reports-empty]")).to_be_hidden()
    fits_the_phone(page)
    shots(page, "1-waiting-to-send", full_page=True)

    # The signal returns on this page: the queue sends it, and the list shows the case.
    page.context.set_offline(False)
    wait_all_sent(page, 1)
    case = Case.objects.get(reporter=street.steward)
    row = page.locator(f"[data-my-reports] tr[data-reference='{case.reference}']")
    expect(row).to_contain_text(case.reference, timeout=15_000)
    expect(row).to_contain_text(street.vending.display_name)
    expect(page.locator("[data-waiting-report]")).to_have_count(0)
    expect(page.locator("[data-my-reports]")).not_to_contain_text(words["empty"])
    fits_the_phone(page)
    shots(page, "2-sent-and-listed", full_page=True)


OFFLINE_LOOKUPS = {
    "zh-CN": (
        "无信号：暂时无法查询推荐类别和附近的问题。"
        "仍可提交上报：上报保存在本机，恢复连接后自动发送。"
    ),
    "en-US": (
        "No signal: suggested categories and problems nearby cannot be looked up now. Send "
        "the report all the same: it is kept on this phone and sent when the connection returns."
    ),
}


def located(page) -> None:
    page.evaluate("() => { document.querySelector('.geolocate-status').textContent = ''; }")
    page.click("[data-geolocate-button]")
    page.wait_for_function(
        "() => /\\d/.test(document.querySelector('.geolocate-status').textContent)"
    )


@pytest.mark.parametrize("locale", OFFLINE_LOOKUPS)
def test_the_report_form_without_signal_says_so_in_the_pages_language_never_undefined(
    new_page, shots, street, locale
):
    near = reported(street.lane_chief, category=street.vending)
    page = new_page(PHONE, locale=locale, **standing_at(ON_THE_LANE, 7))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(repr(error.message)))
    sign_in(page, "wang-fang")
    page.goto("/patrol/report/")
    page.wait_for_selector("[data-report-form]")
    note = page.locator("[data-report-offline]")
    # With signal the position brings the cases nearby.
    located(page)
    expect(page.locator("[data-nearby]")).to_contain_text(near.reference)
    expect(note).to_be_hidden()

    page.context.set_offline(True)
    # Typing asks for suggested categories, the position for cases nearby: neither comes.
    page.fill("#id_description", "人民市场东巷：巷口有小贩摆摊卖水果")
    located(page)
    expect(note).to_be_visible()
    expect(note).to_have_text(OFFLINE_LOOKUPS[locale])
    page.wait_for_timeout(1000)
    assert errors == []
    assert "undefined" not in page.locator("body").inner_text()
    note.scroll_into_view_if_needed()
    fits_the_phone(page)
    shots(page, "1-no-signal-said")

    # With signal again, the next lookup answered takes the note away.
    page.context.set_offline(False)
    page.fill("#id_description", "人民市场东巷：巷口有小贩摆摊卖水果和蔬菜")
    expect(note).to_be_hidden()
    assert errors == []


RESIDENT_AT = (116.4321, 39.8729)


def resident_report_typed(page, tmp_path) -> None:
    """The resident's report form filled in: photo, description, the phone's position,
    address, name and phone."""
    page.goto("/report/")
    page.set_input_files("#id_photo", phone_png(tmp_path / "rubbish.png"))
    page.fill("#id_description", "夕照寺中街路边堆了很多建筑垃圾")
    page.click("[data-geolocate-button]")
    page.wait_for_function("() => document.getElementById('id_lon').value !== ''")
    page.fill("#id_address", "夕照寺中街 12 号门口")
    page.fill("#id_name", "赵磊")
    page.fill("#id_phone", "13800138000")


def test_a_signed_in_residents_report_made_offline_arrives_once_with_its_time_and_place(
    new_page, shots, street, tmp_path
):
    resident = make_person("zhao-lei", Role.RESIDENT)
    page = new_page(PHONE, **standing_at(RESIDENT_AT, 12))
    sign_in(page, "zhao-lei")

    # A page whose forms the queue does not take promises nothing, and holds what was typed.
    page.goto("/report/follow/")
    page.context.set_offline(True)
    banner = page.locator("[data-offline-banner]")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("不会自动发送", use_inner_text=True)
    expect(banner).not_to_contain_text("恢复连接后自动发送", use_inner_text=True)
    page.fill("#id_reference", "CPHWU8XXA2")
    page.click("button:has-text('查看进度')")
    expect(page.locator("[data-offline-status]")).to_contain_text("尚未发送，也不会自动发送")
    assert page.url.endswith("/report/follow/")
    assert page.input_value("#id_reference") == "CPHWU8XXA2"
    page.context.set_offline(False)

    resident_report_typed(page, tmp_path)
    page.context.set_offline(True)
    expect(banner).to_contain_text(
        "您记录的内容保存在本机，恢复连接后自动发送", use_inner_text=True
    )
    expect(banner).not_to_contain_text("不会自动发送", use_inner_text=True)
    page.click("button:has-text('提交上报')")
    wait_for_queue(page, "items.length > 0")
    kept = queue(page)
    assert [(item["kind"], item["status"]) for item in kept] == [("resident-report", "waiting")]
    assert kept[0]["photo"] is True and kept[0]["position"]["accuracy_m"] == 12
    assert page.url.endswith("/report/")
    assert Case.objects.count() == 0
    fits_the_phone(page)
    shots(page, "1-kept-on-the-phone", full_page=True)

    page.wait_for_timeout(1500)
    page.context.set_offline(False)
    wait_all_sent(page, 1)
    case = Case.objects.get()
    assert case.source == Case.Source.RESIDENT and case.reporter == resident
    assert (case.reporter_name, case.reporter_phone) == ("赵磊", "13800138000")
    assert case.address == "夕照寺中街 12 号门口" and case.attachments.count() == 1
    assert (round(case.lon, 4), round(case.lat, 4), case.accuracy_m) == (*RESIDENT_AT, 12)
    reported = Event.objects.get(case=case, kind=EventKind.CASE_REPORTED)
    written, received = moment(reported.data["happened_at"]), moment(reported.data["received_at"])
    assert abs((written - moment(kept[0]["happened_at"])).total_seconds()) < 1
    assert received - written >= timedelta(seconds=1.5)
    expect(page.locator("[data-offline-panel]")).to_contain_text(case.reference)
    shots(page, "2-sent", full_page=True)

    # The answer was lost on the way: the same report sent again is the same case.
    resend_everything(page)
    wait_all_sent(page, 1)
    assert Case.objects.count() == 1
    assert Event.objects.filter(kind=EventKind.CASE_REPORTED).count() == 1


def test_a_signed_in_residents_report_form_never_opened_opens_and_queues_without_signal(
    new_page, shots, street, tmp_path
):
    resident = make_person("zhao-lei", Role.RESIDENT)
    page = new_page(PHONE, **standing_at(RESIDENT_AT, 12))
    sign_in(page, "zhao-lei")
    controlled(page)
    # Only the page after signing in was opened with signal: the worker kept the form.
    kept_by_the_worker(page, "/report/")
    page.context.set_offline(True)
    opens_without_signal(page, "/report/", "form[data-offline=resident-report]")
    shots(page, "1-report-form-without-signal", full_page=True)
    resident_report_typed(page, tmp_path)
    page.click("button:has-text('提交上报')")
    wait_for_queue(page, "items.length === 1")
    kept = queue(page)
    assert [(item["kind"], item["status"]) for item in kept] == [("resident-report", "waiting")]
    assert Case.objects.count() == 0

    page.wait_for_timeout(1500)
    page.context.set_offline(False)
    wait_all_sent(page, 1)
    case = Case.objects.get()
    assert case.reporter == resident and case.reporter_phone == "13800138000"
    assert case.attachments.count() == 1
    expect(page.locator("[data-offline-panel]")).to_contain_text(case.reference)
    shots(page, "2-sent", full_page=True)


def drawn_lanes(page) -> list[str]:
    """The names of the lanes the report page's map drew, once it has drawn or failed."""
    page.wait_for_selector("#report-map[data-map-ready]", state="attached")
    return page.evaluate(
        """() => {
            const handle = document.querySelector('#report-map')._whistleMap;
            return Object.values(handle.overlays).flatMap((layer) =>
                layer.getLayers().map((lane) => lane.feature.properties.name));
        }"""
    )


def test_the_lanes_of_a_residents_report_map_never_opened_show_without_signal(
    new_page, shots, street
):
    make_person("zhao-lei", Role.RESIDENT)
    page = new_page(PHONE, **standing_at(RESIDENT_AT, 12))
    sign_in(page, "zhao-lei")
    controlled(page)
    # Only the page after signing in was opened with signal: the worker kept the form and
    # the lanes its map draws, fetched for this person.
    kept_by_the_worker(page, "/report/")
    lanes = "/report/lanes.geojson?district=" + street.city.district.code
    kept_by_the_worker(page, lanes)
    page.context.set_offline(True)
    opens_without_signal(page, "/report/", "form[data-offline=resident-report]")
    expect(page.locator("#report-map")).to_have_attribute("data-map-ready", "true")
    assert "人民市场东巷" in drawn_lanes(page)
    # The lane list under the map reads the same kept lanes.
    page.fill("[data-lane-search]", "人民市场")
    expect(page.locator("[data-lane-results]")).to_contain_text("人民市场东巷")
    shots(page, "1-report-map-without-signal", full_page=True)
    # Signing out drops them with the pages: the next person on this phone gets neither.
    page.context.set_offline(False)
    open_menu(page)
    submit(page, "button:has-text('退出')")
    for _attempt in range(60):
        if not page.evaluate("async (url) => !!(await caches.match(url))", lanes):
            break
        page.wait_for_timeout(500)
    else:
        raise AssertionError(f"{lanes} still kept after signing out")


def test_the_lanes_of_a_stewards_report_map_never_opened_show_without_signal(
    new_page, shots, street
):
    page = new_page(PHONE, **standing_at(WALK[0], 6))
    sign_in(page, "wang-fang")
    controlled(page)
    # Only the home page was opened with signal: the worker kept the report page and every
    # layer its map fetches, scoped by the server to her own lanes.
    kept_by_the_worker(page, "/patrol/report/")
    kept_by_the_worker(page, "/map/lanes.geojson")
    kept_by_the_worker(page, "/map/cases.geojson")
    page.context.set_offline(True)
    opens_without_signal(page, "/patrol/report/", "[data-report-form]")
    expect(page.locator("#report-map")).to_have_attribute("data-map-ready", "true")
    assert "人民市场东巷" in drawn_lanes(page)
    shots(page, "1-steward-report-map-without-signal", full_page=True)


def stored(page) -> list[str]:
    """The paths of everything the phone's caches hold (the shell, the pages, their data)."""
    return page.evaluate(
        """async () => {
            const paths = [];
            for (const name of await caches.keys()) {
                const requests = await (await caches.open(name)).keys();
                requests.forEach((request) => {
                    const url = new URL(request.url);
                    paths.push(url.pathname + url.search);
                });
            }
            return paths;
        }"""
    )


def test_pages_are_kept_only_for_someone_signed_in_and_dropped_once_nobody_is(
    new_page, shots, street
):
    resident = make_person("zhao-lei", Role.RESIDENT)
    own = actions.report_resident_case(
        description="夕照寺中街路边堆了很多建筑垃圾",
        lon=RESIDENT_AT[0],
        lat=RESIDENT_AT[1],
        reporter=resident,
    ).case
    visitors = actions.report_resident_case(
        name="钱芳",
        phone="13900139000",
        description="夕照寺中街路灯不亮",
        lon=RESIDENT_AT[0],
        lat=RESIDENT_AT[1],
    )
    own_page = f"/report/follow/{own.reference}/"
    page = new_page(PHONE)
    sign_in(page, "zhao-lei")
    controlled(page)
    kept_by_the_worker(page, "/report/")
    # Her own follow page, opened signed in, is kept for her.
    page.goto(own_page)
    page.wait_for_selector(".timeline")
    assert own_page in stored(page)

    open_menu(page)
    submit(page, "button:has-text('退出')")
    for _attempt in range(60):
        if not any(path.startswith("/report/") for path in stored(page)):
            break
        page.wait_for_timeout(500)
    # Signed out, someone else on the same phone follows a report by its link, and opens
    # the report form: nothing of theirs is kept.
    follow_link = f"/report/follow/{visitors.case.reference}/?key={visitors.rating_key}"
    page.goto(follow_link)
    page.wait_for_selector(".timeline")
    assert page.evaluate("() => navigator.serviceWorker.controller !== null")
    page.goto("/report/")
    page.wait_for_selector("#report-map[data-map-ready]", state="attached")
    kept = stored(page)
    assert not [path for path in kept if path.startswith("/report/")], kept

    # Signed in again, her pages are kept; her session lapses (no signing out): the first
    # page that shows nobody signed in drops them.
    sign_in(page, "zhao-lei")
    kept_by_the_worker(page, "/report/")
    page.goto(own_page)
    page.wait_for_selector(".timeline")
    assert own_page in stored(page)
    page.context.clear_cookies()
    page.goto(follow_link)
    page.wait_for_selector(".timeline")
    kept = stored(page)
    assert not [path for path in kept if path.startswith("/report/")], kept
    shots(page, "1-signed-out-nothing-kept", full_page=True)


def test_a_queued_residents_report_over_the_numbers_limit_is_shown_refused_not_dropped(
    new_page, shots, street, tmp_path, settings
):
    settings.WHISTLE_RESIDENT_REPORTS_PER_PHONE = 1
    make_person("zhao-lei", Role.RESIDENT)
    # The number has already sent today's report, from the form.
    report_limits.reports_by_phone().hit(report_limits.phone_key("13800138000"))
    page = new_page(PHONE, **standing_at(RESIDENT_AT, 12))
    sign_in(page, "zhao-lei")
    resident_report_typed(page, tmp_path)
    page.context.set_offline(True)
    page.click("button:has-text('提交上报')")
    wait_for_queue(page, "items.length === 1")
    (kept,) = queue(page)
    page.wait_for_timeout(1500)
    page.context.set_offline(False)
    for _attempt in range(80):
        if statuses(page) == ["failed"]:
            break
        page.wait_for_timeout(500)
    assert statuses(page) == ["failed"]
    row = page.locator(f"[data-offline-panel] [data-offline-item='{kept['key']}']")
    expect(row.locator(".offline-item-reason")).to_have_text(
        "该号码今天的上报次数已达上限，请拨打 12345 热线。"
    )
    expect(row.locator("[data-offline-retry]")).to_be_visible()
    assert Case.objects.count() == 0
    row.scroll_into_view_if_needed()
    fits_the_phone(page)
    shots(page, "1-refused-over-the-limit")
    # Another round of sending keeps it, refused, and sends nothing.
    page.evaluate("() => Whistle.offline.sync()")
    assert statuses(page) == ["failed"]
    assert Case.objects.count() == 0


def test_a_report_without_an_account_is_held_without_signal_with_everything_typed(
    new_page, shots, street, tmp_path
):
    page = new_page(PHONE, **standing_at(RESIDENT_AT, 12))
    resident_report_typed(page, tmp_path)
    solve_the_captcha(page)
    page.context.set_offline(True)
    banner = page.locator("[data-offline-banner]")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("不会自动发送", use_inner_text=True)
    page.click("button:has-text('提交上报')")
    expect(page.locator("[data-offline-status]")).to_contain_text(
        "尚未发送，也不会自动发送。您填写的内容仍在本页，恢复连接后请再点一次。"
    )
    assert page.url.endswith("/report/")
    assert page.input_value("#id_description") == "夕照寺中街路边堆了很多建筑垃圾"
    assert page.input_value("#id_phone") == "13800138000"
    assert page.input_value("#id_lon") != ""
    assert page.evaluate("() => document.getElementById('id_photo').files.length") == 1
    fits_the_phone(page)
    shots(page, "1-held", full_page=True)

    page.context.set_offline(False)
    expect(banner).to_be_hidden()
    # Without an account the form first asks whether the server answers, then is sent.
    submit(page, "button:has-text('提交上报')")
    page.wait_for_selector("[data-reference]")
    case = Case.objects.get()
    assert page.locator("[data-reference]").inner_text() == case.reference
    assert case.reporter_name == "赵磊" and case.attachments.count() == 1
