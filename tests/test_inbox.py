"""The notification centre: the unread count in every page's header, the inbox with its
filters, marking read (one's own only), and the count that open pages poll."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import make_person
from tests.fixtures_cases import (
    beijing,
    filed_case,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from whistle.cases import actions
from whistle.notifications.models import Channel, Notification
from whistle.notifications.outbox import inbox_state, notify, unread_count
from whistle.organisation.models import Role

NOW = beijing(2026, 3, 10, 10, 0)
INBOX = "/inbox/"
BADGE = "/inbox/badge/"


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def header_count(html: str) -> int | None:
    """The unread count the header's inbox link shows, None without one."""
    link = re.search(r'<a class="inbox-link[^"]*" id="inbox-link".*?</a>', html, re.S)
    if link is None:
        return None
    shown = re.search(r'data-unread="(\d+)"', link.group(0))
    return int(shown.group(1)) if shown else None


def entry_ids(html: str) -> list[str]:
    return re.findall(r'id="n-([0-9a-f]{32})"', html)


def own_entries(person) -> list[Notification]:
    return list(Notification.objects.filter(recipient=person, channel=Channel.INBOX))


def say(person, subject: str, *, kind: str = "case.closed", case: str = "") -> Notification:
    """One message to the person, as an action would queue it; its inbox entry."""
    notify(
        person,
        kind=kind,
        subject=subject,
        body=f"{subject}。",
        link=f"/cases/{case}/" if case else "",
        payload={"case": case} if case else {},
        channels=[Channel.INBOX],
    )
    return Notification.objects.filter(recipient=person, channel=Channel.INBOX).latest(
        "created_at", "id"
    )


# --- The header --------------------------------------------------------------------------


def test_the_header_of_every_page_shows_the_persons_unread_count(client, whistle_city):
    city = whistle_city
    whistled_case(city)
    client.force_login(city.urban_officer)
    # The whistle summons urban management: one entry for its officer.
    expected = unread_count(city.urban_officer)
    assert expected == 1
    for page in ("/", "/department/", INBOX, "/settings/"):
        html = html_of(client.get(page))
        assert header_count(html) == expected, page
        assert 'href="/inbox/"' in html and 'href="/settings/"' in html


def test_the_header_count_takes_one_query_however_many_notifications(client, whistle_city):
    city = whistle_city
    person = city.steward
    client.force_login(person)
    say(person, "一条通知")

    def queries_of_home() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            html_of(client.get("/patrol/reports/"))
        inbox_queries = [q for q in captured.captured_queries if "notifications_" in q["sql"]]
        return len(captured.captured_queries), len(inbox_queries)

    few = queries_of_home()
    for n in range(60):
        say(person, f"第 {n} 条通知")
    many = queries_of_home()
    assert many == few
    # The person's roles with their mark of entries read (which audiences' shared entries
    # they see), then the count.
    assert few[1] == 2


def test_a_stranger_sees_no_inbox_in_the_header(client, whistle_city):
    html = html_of(client.get("/"))
    assert header_count(html) is None and 'id="inbox-link"' not in html


@pytest.mark.parametrize(
    "who",
    [
        "steward",
        "lane_chief",
        "dispatcher",
        "township_chief",
        "assessor",
        "district_chief",
        "district_office",
        "urban_officer",
        "urban_head",
        "resident",
    ],
)
def test_every_role_reaches_its_inbox_and_settings_from_the_navigation(client, whistle_city, who):
    client.force_login(getattr(whistle_city, who))
    html = html_of(client.get("/"))
    assert 'id="inbox-link"' in html and 'href="/inbox/"' in html
    assert 'href="/settings/"' in html
    assert client.get(INBOX).status_code == 200
    assert client.get("/settings/").status_code == 200


def test_signed_out_the_inbox_and_settings_ask_to_sign_in(client, whistle_city):
    for page in (INBOX, "/settings/"):
        response = client.get(page)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- The polled count ----------------------------------------------------------------------


def test_the_polled_count_answers_no_content_while_nothing_changed(client, whistle_city):
    person = whistle_city.urban_officer
    say(person, "旧通知")
    client.force_login(person)
    version = inbox_state(person).version
    with CaptureQueriesContext(connection) as captured:
        response = client.get(BADGE, {"v": version})
    assert response.status_code == 204
    assert response["Cache-Control"] == "private, no-store"
    # The session, the person, their roles and mark of entries read, the inbox's count.
    assert len(captured.captured_queries) <= 4


def test_a_new_notification_changes_the_polled_count_and_tells_the_page(client, whistle_city):
    city = whistle_city
    person = city.urban_officer
    client.force_login(person)
    version = inbox_state(person).version
    whistled_case(city)
    response = client.get(BADGE, {"v": version}, HTTP_HX_CURRENT_URL="http://testserver/")
    html = html_of(response)
    assert header_count(html) == unread_count(person) == 1
    assert json.loads(response["HX-Trigger"]) == {"inbox-changed": {"unread": 1}}
    # The new link polls with the new version: the next poll is quiet again.
    assert f"v={inbox_state(person).version}" in html
    assert client.get(BADGE, {"v": inbox_state(person).version}).status_code == 204


def test_reading_elsewhere_changes_the_polled_count_too(client, whistle_city):
    person = whistle_city.urban_officer
    entry = say(person, "一条通知")
    client.force_login(person)
    version = inbox_state(person).version
    client.post(f"/inbox/{entry.uuid}/read/")
    response = client.get(BADGE, {"v": version})
    assert header_count(html_of(response)) == 0


def test_one_read_and_one_arrived_between_two_polls_still_change_the_version(client, whistle_city):
    person = whistle_city.urban_officer
    first = say(person, "第一条")
    client.force_login(person)
    version = inbox_state(person).version
    client.post(f"/inbox/{first.uuid}/read/")
    say(person, "第二条")
    assert inbox_state(person).unread == 1
    response = client.get(BADGE, {"v": version})
    assert response.status_code == 200 and header_count(html_of(response)) == 1


def test_the_polled_state_counts_ones_own_unread_inbox_entries_only(whistle_city):
    person, other = whistle_city.urban_officer, whistle_city.police_officer
    kept = [say(person, f"已读{n}") for n in range(5)]
    Notification.objects.filter(pk__in=[k.pk for k in kept]).update(read_at=timezone.now())
    unread = say(person, "未读")
    say(other, "别人的")
    Notification.objects.create(
        channel=Channel.SMS, recipient=person, kind="summons", subject="短信", body="短信"
    )
    state = inbox_state(person)
    assert (state.unread, state.newest_unread) == (1, unread.pk)


def test_the_polled_count_tells_a_signed_out_page_to_stop(client, whistle_city):
    assert client.get(BADGE, {"v": "x"}).status_code == 286


# --- The list ------------------------------------------------------------------------------


def test_the_inbox_lists_ones_own_notifications_newest_first_with_links(
    client, whistle_city, _clock
):
    city = whistle_city
    first = say(city.urban_officer, "较早的通知", case="AAAA222222")
    _clock.shift(timedelta(minutes=5))
    second = say(city.urban_officer, "较新的通知", case="BBBB333333")
    others = say(city.police_officer, "派出所的通知")
    client.force_login(city.urban_officer)
    html = html_of(client.get(INBOX))
    assert entry_ids(html) == [second.uuid.hex, first.uuid.hex]
    assert others.uuid.hex not in html and "派出所的通知" not in html
    assert f'href="/inbox/{second.uuid}/"' in html
    assert "BBBB333333" in html and "结案" in html  # the kind, in words
    assert html.count("未读") >= 2


def test_the_inbox_list_takes_a_fixed_number_of_queries(client, whistle_city):
    person = whistle_city.urban_officer
    client.force_login(person)
    say(person, "一条通知", case="AAAA222222")
    with CaptureQueriesContext(connection) as one:
        html_of(client.get(INBOX))
    for n in range(30):
        say(person, f"第 {n} 条", kind="summons.reminder", case=f"CASE{n:06d}")
    with CaptureQueriesContext(connection) as thirty:
        html_of(client.get(INBOX))
    assert len(thirty.captured_queries) == len(one.captured_queries)
    assert len(one.captured_queries) <= 12


def test_the_inbox_filters_by_unread_kind_and_case(client, whistle_city):
    person = whistle_city.urban_officer
    read = say(person, "已读的结案通知", case="AAAA222222")
    reminder = say(person, "提醒", kind="summons.reminder", case="AAAA222222")
    other_case = say(person, "另一件案子", case="BBBB333333")
    Notification.objects.filter(pk=read.pk).update(read_at=NOW)
    client.force_login(person)

    unread = entry_ids(html_of(client.get(INBOX, {"state": "unread"})))
    assert unread == [other_case.uuid.hex, reminder.uuid.hex]
    by_kind = entry_ids(html_of(client.get(INBOX, {"kind": "case.closed"})))
    assert by_kind == [other_case.uuid.hex, read.uuid.hex]
    # A reference typed in lower case finds the case all the same.
    by_case = entry_ids(html_of(client.get(INBOX, {"case": " aaaa222222 "})))
    assert by_case == [reminder.uuid.hex, read.uuid.hex]
    both = entry_ids(html_of(client.get(INBOX, {"case": "AAAA222222", "state": "unread"})))
    assert both == [reminder.uuid.hex]


def test_an_empty_inbox_shows_no_filter_card_until_there_is_something_to_filter(
    client, whistle_city
):
    person = whistle_city.street_chief
    client.force_login(person)
    html = html_of(client.get(INBOX))
    assert "inbox-filters" not in html and "筛选" not in html
    assert "暂无通知。" in html
    # A filter set by its address keeps the card, to clear it.
    filtered = html_of(client.get(INBOX, {"state": "unread"}))
    assert 'class="card inbox-filters" open' in filtered and "清除筛选" in filtered
    say(person, "一条通知")
    html = html_of(client.get(INBOX))
    card = re.search(r'<details class="card inbox-filters".*?</details>', html, re.S)
    assert card is not None
    assert '<select name="state"' in card.group(0) and '<select name="kind"' in card.group(0)


def test_the_kind_filter_offers_the_kinds_in_ones_inbox_in_words(client, whistle_city):
    person = whistle_city.urban_officer
    say(person, "提醒", kind="summons.reminder")
    client.force_login(person)
    html = html_of(client.get(INBOX))
    kind_select = re.search(r'<select name="kind".*?</select>', html, re.S)
    assert kind_select is not None
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)<', kind_select.group(0))
    assert options == [("", "全部类型"), ("summons.reminder", "发送提醒")]


def test_the_inbox_filters_by_beijing_dates_with_exact_edges(client, whistle_city, _clock):
    person = whistle_city.urban_officer
    _clock.move_to(beijing(2026, 3, 10, 23, 59))
    late = say(person, "3月10日最后一分钟")
    _clock.move_to(beijing(2026, 3, 11, 0, 0))
    midnight = say(person, "3月11日零点")
    _clock.move_to(beijing(2026, 3, 12, 8, 0))
    later = say(person, "3月12日")
    client.force_login(person)

    day = entry_ids(html_of(client.get(INBOX, {"since": "2026-03-11", "until": "2026-03-11"})))
    assert day == [midnight.uuid.hex]
    until = entry_ids(html_of(client.get(INBOX, {"until": "2026-03-10"})))
    assert until == [late.uuid.hex]
    since = entry_ids(html_of(client.get(INBOX, {"since": "2026-03-11"})))
    assert since == [later.uuid.hex, midnight.uuid.hex]


@pytest.mark.parametrize(
    ("query", "complaint"),
    [
        ({"case": "7KX2-M9QH"}, "案件编号只含字母和数字。"),
        ({"case": "A" * 13}, "案件编号最多 12 个字符。"),
        ({"since": "2026-03-10", "until": "2026-03-09"}, "截止日期早于起始日期。"),
        ({"since": "2026-02-30"}, "输入一个有效的日期。"),
        ({"kind": "no.such.kind"}, "选择一个有效的选项"),
        ({"state": "maybe"}, "选择一个有效的选项"),
    ],
)
def test_a_filter_that_cannot_be_read_is_said_in_chinese_and_left_out(
    client, whistle_city, query, complaint
):
    person = whistle_city.urban_officer
    entry = say(person, "一条通知")
    client.force_login(person)
    html = html_of(client.get(INBOX, query))
    assert complaint in html
    assert 'class="form-errors"' in html
    assert entry_ids(html) == [entry.uuid.hex]


def test_the_list_alone_is_sent_to_the_page_that_refreshes_it(client, whistle_city):
    person = whistle_city.urban_officer
    entry = say(person, "一条通知")
    client.force_login(person)
    response = client.get(
        INBOX, {"state": "unread"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="inbox-list"
    )
    html = html_of(response)
    assert html.lstrip().startswith('<section id="inbox-list"')
    assert "<header" not in html
    assert entry_ids(html) == [entry.uuid.hex]
    assert 'hx-trigger="inbox-changed from:body"' in html


# --- Marking read ----------------------------------------------------------------------------


def test_marking_one_read_lowers_the_count_and_keeps_the_filters(client, whistle_city):
    person = whistle_city.urban_officer
    entry = say(person, "一条通知")
    say(person, "另一条通知")
    client.force_login(person)
    response = client.post(f"/inbox/{entry.uuid}/read/", {"next": "/inbox/?state=unread"})
    assert response.status_code == 302 and response["Location"] == "/inbox/?state=unread"
    entry.refresh_from_db()
    assert entry.read_at == NOW
    assert unread_count(person) == 1
    html = html_of(client.get("/inbox/?state=unread"))
    assert header_count(html) == 1 and entry.uuid.hex not in entry_ids(html)


@pytest.mark.parametrize(
    ("language", "name", "visible"),
    [
        ("zh-hans", "标为已读：案件 A12 已立案", "标为已读"),
        ("en", "Mark read: 案件 A12 已立案", "Mark read"),
    ],
)
def test_the_mark_read_button_is_named_with_its_entry_in_the_readers_punctuation(
    client, whistle_city, language, name, visible
):
    person = whistle_city.urban_officer
    say(person, "案件 A12 已立案")
    client.force_login(person)
    html = html_of(client.get(INBOX, HTTP_ACCEPT_LANGUAGE=language))
    form = re.search(r'<form class="inbox-read".*?</form>', html, re.S)
    assert form is not None
    button = re.search(r'<button [^>]*aria-label="([^"]*)"[^>]*>(.*?)</button>', form.group(0))
    assert button is not None
    assert button.groups() == (name, visible)
    # No ASCII colon in a Chinese page, and no hidden text beside the button.
    assert (": 案件 A12" in html) == (language == "en")
    assert 'visually-hidden">:' not in html


def test_reading_again_keeps_the_first_reading(client, whistle_city, _clock):
    person = whistle_city.urban_officer
    entry = say(person, "一条通知")
    client.force_login(person)
    client.post(f"/inbox/{entry.uuid}/read/")
    _clock.shift(timedelta(hours=1))
    client.post(f"/inbox/{entry.uuid}/read/")
    entry.refresh_from_db()
    assert entry.read_at == NOW


def test_another_persons_notification_is_not_found_and_stays_unread(client, whistle_city):
    city = whistle_city
    theirs = say(city.police_officer, "派出所的通知", case="AAAA222222")
    client.force_login(city.urban_officer)
    assert client.post(f"/inbox/{theirs.uuid}/read/").status_code == 404
    assert client.get(f"/inbox/{theirs.uuid}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_an_id_that_is_no_notification_is_not_found(client, whistle_city):
    client.force_login(whistle_city.urban_officer)
    assert client.post("/inbox/00000000-0000-4000-8000-000000000000/read/").status_code == 404
    assert client.post("/inbox/not-a-uuid/read/").status_code == 404


def test_marking_read_takes_a_post(client, whistle_city):
    person = whistle_city.urban_officer
    entry = say(person, "一条通知")
    client.force_login(person)
    assert client.get(f"/inbox/{entry.uuid}/read/").status_code == 405
    assert client.get("/inbox/read/").status_code == 405
    entry.refresh_from_db()
    assert entry.read_at is None


def test_mark_all_read_reads_only_ones_own(client, whistle_city):
    city = whistle_city
    for n in range(3):
        say(city.urban_officer, f"第 {n} 条")
    theirs = say(city.police_officer, "派出所的通知")
    client.force_login(city.urban_officer)
    response = client.post("/inbox/read/", {"next": "/inbox/"}, follow=True)
    assert "已将 3 条通知标为已读。" in html_of(response)
    assert unread_count(city.urban_officer) == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_next_address_off_the_inbox_is_not_followed(client, whistle_city):
    person = whistle_city.urban_officer
    entry = say(person, "一条通知")
    client.force_login(person)
    for target in ("https://evil.example/inbox/", "//evil.example/inbox/", "/admin/"):
        response = client.post(f"/inbox/{entry.uuid}/read/", {"next": target})
        assert response["Location"] == "/inbox/", target


def test_opening_a_notification_reads_it_and_goes_to_its_summons(client, whistle_city):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city)
    entry = Notification.objects.get(
        recipient=city.urban_officer, channel=Channel.INBOX, kind="summons.created"
    )
    client.force_login(city.urban_officer)
    response = client.get(f"/inbox/{entry.uuid}/")
    summons = summonses[city.urban.pk]
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.reference}/#summons-{summons.uuid.hex}"
    entry.refresh_from_db()
    assert entry.read_at == NOW


def test_a_notification_about_a_case_links_to_the_case(client, whistle_city):
    city = whistle_city
    case = filed_case(city)
    actions.dispatch_case(city.dispatcher, case, department=city.urban)
    client.force_login(city.dispatcher)
    entries = own_entries(city.dispatcher)
    assert entries, "the dispatcher hears of the reported case"
    reported = next(e for e in entries if e.kind == "case.reported")
    assert reported.link == f"/cases/{case.reference}/"


# --- The demo officer's inbox ----------------------------------------------------------------


def test_a_whistle_reaches_the_officers_inbox_and_count_at_once(client, whistle_city):
    city = whistle_city
    officer = make_person("night-officer", Role.DEPARTMENT_OFFICER, department=city.urban)
    client.force_login(officer)
    assert header_count(html_of(client.get("/department/"))) == 0
    case, _whistle, _summonses = whistled_case(city)
    html = html_of(client.get("/department/"))
    assert header_count(html) == 1
    listed = html_of(client.get(INBOX))
    assert case.reference in listed


@pytest.mark.parametrize(("language", "between"), [("zh-hans", "、"), ("en", ", ")])
def test_the_settings_list_the_urgent_kinds_as_the_language_writes_a_list(
    client, whistle_city, language, between
):
    client.force_login(whistle_city.urban_officer)
    html = html_of(client.get("/settings/", HTTP_ACCEPT_LANGUAGE=language))
    help_text = re.search(r'id="quiet-hours">.*?<p class="help">(.*?)</p>', html, re.S)
    assert help_text is not None
    kinds = help_text.group(1).rsplit(":", 1)[-1].rsplit("：", 1)[-1]
    assert kinds.count(between) >= 2
    assert ("、" in kinds) == (language == "zh-hans")


def test_the_inbox_shows_each_message_in_the_readers_language(client, whistle_city):
    """A whistle's message is written in Chinese, the deployment's language, and stays so
    for the channels outside; the inbox shows it in English to someone reading in English,
    and an entry that keeps no words of its own (an older row) as it was stored."""
    city = whistle_city
    case, _whistle, _summonses = whistled_case(city)
    entry = Notification.objects.get(
        recipient=city.urban_officer, channel=Channel.INBOX, kind="summons.created"
    )
    old = say(city.urban_officer, "旧的消息：没有留下原文")
    assert re.search("[\u4e00-\u9fff]", entry.subject), entry.subject
    outside = Notification.objects.filter(kind="summons.created").exclude(channel=Channel.INBOX)
    assert outside and all(row.subject == entry.subject for row in outside)
    # Only the inbox keeps the message's own words; what went outside stays as it was sent.
    assert "message" in entry.payload
    assert not any("message" in row.payload for row in outside)
    client.force_login(city.urban_officer)
    english = html_of(client.get(INBOX, HTTP_ACCEPT_LANGUAGE="en"))
    assert entry.subject not in english
    listed = re.search(rf'id="n-{entry.uuid.hex}".*?</li>', english, re.S)
    assert listed is not None
    subject = re.search(r'class="inbox-subject"><a [^>]*>(.*?)</a>', listed.group(0), re.S)
    assert subject is not None
    assert case.reference in subject.group(1)
    assert not re.search("[\u4e00-\u9fff]", subject.group(1).replace(city.urban.name, ""))
    assert old.subject in english
    # The entry's kind, shown alone beside its badges, and the filter's choice of it begin
    # with a capital in English.
    assert "<span>Department summoned</span>" in listed.group(0)
    assert ">Department summoned</option>" in english
    chinese = html_of(client.get(INBOX, HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert entry.subject in chinese
