"""A person's own channels, their order and quiet hours: what the outbox and the delivery
sweep make of them, urgent kinds that ignore quiet hours, and the settings page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import time, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone, translation

from tests.conftest import make_person
from tests.fixtures_cases import (
    beijing,
    filed_case,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from tests.gateways import (
    RECORDING_SMS,
    REFUSING_SMS,
    RecordingSms,
    recording_gateways_fixture,  # noqa: F401  (fixture)
)
from whistle.cases import actions
from whistle.cases.trail import URGENT_KINDS, EventKind
from whistle.notifications.actions import (
    PreferenceRefused,
    Preferences,
    set_notification_preferences,
)
from whistle.notifications.delivery import sweep
from whistle.notifications.kinds import is_urgent, kind_of, urgent_kinds
from whistle.notifications.models import Channel, Notification, NotificationPreference, Status
from whistle.notifications.outbox import notify
from whistle.organisation.models import Person, Role

SETTINGS = "/settings/"


@pytest.fixture(autouse=True)
def _gateways(settings, recording_gateways: None) -> None:
    settings.WHISTLE_NOTIFY_CHANNEL_ORDER = ["push", "sms", "email"]
    settings.WHISTLE_NOTIFY_RETRY_SECONDS = 60


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """23:00 in Beijing, the evening of 10 March 2026; tests move it forward only."""
    with time_machine.travel(beijing(2026, 3, 10, 23, 0), tick=False) as traveller:
        yield traveller


@pytest.fixture
def officer(whistle_city) -> Person:
    """The urban-management officer, with a phone and an e-mail address on the profile."""
    person = whistle_city.urban_officer
    person.email = "officer@cgw.dongcheng.example"
    person.save(update_fields=["email"])
    return person


def prefer(person: Person, *, channels: list[str] | None, quiet: str = "") -> None:
    start, end = (time.fromisoformat(t) for t in quiet.split("-")) if quiet else (None, None)
    set_notification_preferences(
        person, Preferences(channels=channels, quiet_from=start, quiet_until=end)
    )


def say(person: Person, kind: str = EventKind.CLOSED, **extra: Any) -> None:
    notify(
        person,
        kind=kind,
        subject="案件已结案",
        body="人民市场东巷的案件已结案。",
        link="/cases/7KX2M9QH4T/",
        channels=[Channel.INBOX, Channel.SMS, Channel.EMAIL],
        **extra,
    )


def rows(person: Person, channel: str) -> list[Notification]:
    return list(Notification.objects.filter(recipient=person, channel=channel).order_by("id"))


def deliver() -> int:
    return sweep(timezone.now(), batch=50)


# --- Urgent kinds ----------------------------------------------------------------------------


def test_urgency_is_a_property_of_the_kind(whistle_city):
    assert is_urgent(EventKind.SUMMONED) and kind_of(EventKind.SUMMONED).urgent
    assert is_urgent(EventKind.ARRIVE_OVERDUE) and is_urgent(EventKind.ESCALATED)
    assert not is_urgent(EventKind.CLOSED) and not is_urgent(EventKind.CHECK_IN_ACCEPTED)
    assert not is_urgent("something.unknown")
    assert {k.code for k in urgent_kinds()} == {str(k) for k in URGENT_KINDS}


def test_every_trail_event_is_a_kind_with_its_name_in_words(whistle_city):
    for event_kind in EventKind:
        assert kind_of(event_kind.value).label == event_kind.label


# --- Quiet hours -------------------------------------------------------------------------------


def test_a_non_urgent_email_at_23_00_waits_until_07_00_and_the_inbox_gets_it_at_once(
    officer, clock
):
    prefer(officer, channels=[Channel.EMAIL], quiet="22:00-07:00")
    say(officer)

    [entry] = rows(officer, Channel.INBOX)
    assert entry.status == Status.SENT and entry.delivered_at == beijing(2026, 3, 10, 23, 0)
    [email] = rows(officer, Channel.EMAIL)
    assert email.status == Status.PENDING
    assert email.next_attempt_at == beijing(2026, 3, 11, 7, 0)

    clock.move_to(beijing(2026, 3, 11, 7, 0) - timedelta(seconds=1))
    assert deliver() == 0 and mail.outbox == []
    clock.move_to(beijing(2026, 3, 11, 7, 0))
    assert deliver() == 1
    assert [m.to for m in mail.outbox] == [["officer@cgw.dongcheng.example"]]
    email.refresh_from_db()
    assert email.status == Status.SENT and email.attempts == 1


def test_a_whistle_at_23_00_goes_out_at_once_through_quiet_hours(whistle_city, officer, clock):
    city = whistle_city
    prefer(officer, channels=[Channel.SMS, Channel.EMAIL], quiet="22:00-07:00")
    case = filed_case(city)
    clock.shift(timedelta(minutes=1))
    actions.blow_whistle(city.dispatcher, case, kind="routine", departments=[city.urban])

    [sms] = rows(officer, Channel.SMS)
    assert sms.kind == EventKind.SUMMONED
    assert sms.next_attempt_at == beijing(2026, 3, 10, 23, 1)
    assert rows(officer, Channel.INBOX)[0].status == Status.SENT
    assert deliver() >= 1
    assert [m.phone for m in RecordingSms.sent] == ["13800000001"]


def test_quiet_hours_start_inclusive_and_end_exclusive(whistle_city):
    preference = NotificationPreference(quiet_from=time(22, 0), quiet_until=time(7, 0))
    assert preference.quiet_hours_end(beijing(2026, 3, 10, 21, 59)) is None
    assert preference.quiet_hours_end(beijing(2026, 3, 10, 22, 0)) == beijing(2026, 3, 11, 7, 0)
    assert preference.quiet_hours_end(beijing(2026, 3, 11, 0, 30)) == beijing(2026, 3, 11, 7, 0)
    assert preference.quiet_hours_end(beijing(2026, 3, 11, 6, 59)) == beijing(2026, 3, 11, 7, 0)
    assert preference.quiet_hours_end(beijing(2026, 3, 11, 7, 0)) is None


def test_quiet_hours_within_one_day(whistle_city):
    preference = NotificationPreference(quiet_from=time(12, 0), quiet_until=time(14, 0))
    assert preference.quiet_hours_end(beijing(2026, 3, 10, 11, 59)) is None
    assert preference.quiet_hours_end(beijing(2026, 3, 10, 12, 0)) == beijing(2026, 3, 10, 14, 0)
    assert preference.quiet_hours_end(beijing(2026, 3, 10, 14, 0)) is None
    assert preference.quiet_hours_end(beijing(2026, 3, 10, 23, 0)) is None


def test_a_retry_that_falls_due_in_quiet_hours_waits_without_counting_an_attempt(
    settings, officer, clock
):
    prefer(officer, channels=[Channel.SMS], quiet="22:00-07:00")
    clock.move_to(beijing(2026, 3, 11, 21, 59))
    settings.WHISTLE_SMS_BACKEND = REFUSING_SMS
    say(officer)
    assert deliver() == 1
    [sms] = rows(officer, Channel.SMS)
    assert (sms.status, sms.attempts) == (Status.PENDING, 1)
    assert sms.next_attempt_at == beijing(2026, 3, 11, 22, 0)

    settings.WHISTLE_SMS_BACKEND = RECORDING_SMS
    clock.move_to(beijing(2026, 3, 11, 22, 0))
    deliver()
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == (Status.PENDING, 1)
    assert sms.next_attempt_at == beijing(2026, 3, 12, 7, 0)
    assert RecordingSms.sent == []
    clock.move_to(beijing(2026, 3, 12, 7, 0))
    deliver()
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == (Status.SENT, 2)


def test_setting_quiet_hours_after_queueing_holds_what_falls_due_in_them(officer, clock):
    say(officer)
    prefer(officer, channels=[Channel.SMS, Channel.EMAIL], quiet="22:00-07:00")
    deliver()
    [sms] = rows(officer, Channel.SMS)
    assert sms.status == Status.PENDING and sms.next_attempt_at == beijing(2026, 3, 11, 7, 0)
    assert RecordingSms.sent == []


def test_ending_quiet_hours_releases_the_messages_held_for_them(officer, clock):
    prefer(officer, channels=[Channel.SMS], quiet="22:00-07:00")
    say(officer)
    clock.shift(timedelta(minutes=10))
    prefer(officer, channels=[Channel.SMS])
    [sms] = rows(officer, Channel.SMS)
    assert sms.next_attempt_at == beijing(2026, 3, 10, 23, 10)
    assert deliver() == 1 and len(RecordingSms.sent) == 1


def test_robots_and_webhooks_ignore_a_persons_quiet_hours(whistle_city, officer, clock):
    from whistle.notifications.models import GroupRobot

    GroupRobot.objects.create(
        name="城管执法队群", platform="wecom", department=whistle_city.urban, key="k-1"
    )
    prefer(officer, channels=[Channel.SMS], quiet="22:00-07:00")
    notify(officer, kind=EventKind.CLOSED, subject="结案", body="已结案。")
    [robot] = Notification.objects.filter(channel=Channel.ROBOT)
    assert robot.next_attempt_at == beijing(2026, 3, 10, 23, 0)


# --- Channels and their order ------------------------------------------------------------------


def test_without_a_choice_the_deployments_order_applies(officer, clock):
    say(officer)
    [sms] = rows(officer, Channel.SMS)
    assert sms.fallback_channels == [Channel.EMAIL]
    assert rows(officer, Channel.EMAIL) == []


def test_the_persons_own_order_replaces_the_deployments(officer, clock):
    prefer(officer, channels=[Channel.EMAIL, Channel.SMS])
    say(officer)
    [email] = rows(officer, Channel.EMAIL)
    assert email.address == "officer@cgw.dongcheng.example"
    assert email.fallback_channels == [Channel.SMS]
    assert rows(officer, Channel.SMS) == []


def test_a_channel_left_out_of_the_persons_order_is_never_used(officer, clock):
    prefer(officer, channels=[Channel.EMAIL])
    say(officer)
    [email] = rows(officer, Channel.EMAIL)
    assert email.fallback_channels == []
    assert rows(officer, Channel.SMS) == []


def test_no_channel_at_all_means_the_inbox_only(officer, clock):
    prefer(officer, channels=[])
    say(officer, kind=EventKind.SUMMONED)
    assert set(
        Notification.objects.filter(recipient=officer).values_list("channel", flat=True)
    ) == {Channel.INBOX}


def test_a_failure_falls_through_to_the_persons_next_channel(settings, officer, clock):
    prefer(officer, channels=[Channel.SMS, Channel.EMAIL])
    settings.WHISTLE_SMS_BACKEND = REFUSING_SMS
    say(officer, kind=EventKind.SUMMONED)
    deliver()
    [email] = rows(officer, Channel.EMAIL)
    assert email.status == Status.PENDING and email.fallback_channels == []
    deliver()
    assert [m.to for m in mail.outbox] == [["officer@cgw.dongcheng.example"]]


def test_a_channel_dropped_since_queueing_is_not_fallen_through_to(settings, officer, clock):
    prefer(officer, channels=[Channel.SMS, Channel.EMAIL])
    settings.WHISTLE_SMS_BACKEND = REFUSING_SMS
    say(officer, kind=EventKind.SUMMONED)
    prefer(officer, channels=[Channel.SMS])
    deliver()
    assert rows(officer, Channel.EMAIL) == []


# --- The action's checks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preferences", "field"),
    [
        (Preferences(channels=["sms", "sms"]), "channels"),
        (Preferences(channels=["fax"]), "channels"),
        (Preferences(channels=["push"]), "channels"),
        (Preferences(channels=None, quiet_from=time(22, 0)), "quiet_until"),
        (Preferences(channels=None, quiet_until=time(7, 0)), "quiet_from"),
        (Preferences(channels=None, quiet_from=time(7, 0), quiet_until=time(7, 0)), "quiet_until"),
    ],
)
def test_preferences_that_cannot_work_are_refused_and_nothing_is_kept(officer, preferences, field):
    with pytest.raises(PreferenceRefused) as refused:
        set_notification_preferences(officer, preferences)
    assert refused.value.field == field
    assert not NotificationPreference.objects.filter(person=officer).exists()


def test_sms_is_refused_to_someone_without_a_phone(whistle_city):
    with translation.override("en"), pytest.raises(PreferenceRefused, match="mobile phone"):
        set_notification_preferences(whistle_city.steward, Preferences(channels=["sms"]))


# --- The settings page -------------------------------------------------------------------------


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_settings_page_shows_the_profiles_addresses_and_the_usual_order(client, officer):
    client.force_login(officer)
    html = html_of(client.get(SETTINGS))
    assert "13800000001" in html and "officer@cgw.dongcheng.example" in html
    assert "系统默认顺序：网页推送 → 短信 → 电子邮件" in html
    assert re.search(r'<input type="radio" name="order" value="default"[^>]*checked', html)
    # Web Push is not offered on a server without VAPID keys.
    assert '<option value="push"' not in html
    assert "督办超时" in html  # an urgent kind, named


def test_a_residents_settings_page_says_how_they_are_told_and_lists_no_staff_events(
    client, db, monkeypatch
):
    resident = make_person("settings-resident", Role.RESIDENT)
    client.force_login(resident)
    html = html_of(client.get(SETTINGS))
    assert "管理员" not in html  # a resident has no administrator to ask
    assert "您反映的问题立案、街乡召集相关部门、结案" in html
    assert "站内消息仍会立即收到每一条" in html
    for staff_only in ("督办超时", str(kind_of(EventKind.WHISTLE_BLOWN).label)):
        assert staff_only not in html
    # Without Web Push set up the page does not offer it; with it, it says how to turn it on.
    assert "开启通知" not in html
    monkeypatch.setattr(
        "whistle.web.preferences.offered_channels", lambda: ["push", "sms", "email"]
    )
    assert "如需在未打开本系统时也在这部手机或电脑上收到通知" in html_of(client.get(SETTINGS))
    english = html_of(client.get(SETTINGS, HTTP_ACCEPT_LANGUAGE="en"))
    assert "Whistle is not open, turn on notifications here." in english
    assert "administrator" not in english


def test_account_security_and_api_tokens_are_reached_from_the_settings_page_not_the_top_bar(
    client, officer
):
    client.force_login(officer)
    html = html_of(client.get(SETTINGS))
    links = html[html.index('id="account-links"') :]
    assert 'href="/accounts/security/"' in links and "账号安全" in links
    assert 'href="/settings/api-tokens/"' in links
    top_bar = html_of(client.get("/"))
    top_bar = top_bar[top_bar.index('class="account"') : top_bar.index("</header>")]
    assert 'href="/settings/"' in top_bar
    assert "/accounts/security/" not in top_bar and "/settings/api-tokens/" not in top_bar


def test_saving_the_settings_page_keeps_the_order_and_quiet_hours(client, officer):
    client.force_login(officer)
    response = client.post(
        SETTINGS,
        {
            "order": "mine",
            "first": "email",
            "second": "sms",
            "third": "",
            "quiet_from": "22:00",
            "quiet_until": "07:00",
        },
        follow=True,
    )
    html = html_of(response)
    assert "通知设置已保存。" in html
    preference = NotificationPreference.objects.get(person=officer)
    assert preference.channels == ["email", "sms"]
    assert (preference.quiet_from, preference.quiet_until) == (time(22, 0), time(7, 0))
    assert re.search(r'<input type="radio" name="order" value="mine"[^>]*checked', html)
    assert 'value="22:00"' in html and 'value="07:00"' in html


def test_going_back_to_the_usual_order_forgets_ones_own(client, officer):
    prefer(officer, channels=["email"])
    client.force_login(officer)
    client.post(SETTINGS, {"order": "default", "first": "email"})
    assert NotificationPreference.objects.get(person=officer).channels is None


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        ({"order": "mine", "first": "sms", "second": "sms"}, "短信 选了两次：每个渠道只能选一次。"),
        (
            {"order": "default", "quiet_from": "22:00"},
            "免打扰时段的开始和结束时间须同时填写或同时留空。",
        ),
        (
            {"order": "default", "quiet_from": "07:00", "quiet_until": "07:00"},
            "免打扰时段的开始和结束时间不能相同。",
        ),
        (
            {"order": "default", "quiet_from": "25:00", "quiet_until": "07:00"},
            "输入一个有效的时间。",
        ),
        ({"order": "sometimes"}, "选择一个有效的选项"),
        ({"order": "mine", "first": "fax"}, "选择一个有效的选项"),
        ({}, "这个字段是必填项。"),
    ],
)
def test_the_settings_page_says_what_is_wrong_in_chinese_and_keeps_nothing(
    client, officer, data, complaint
):
    client.force_login(officer)
    html = html_of(client.post(SETTINGS, data))
    assert complaint in html
    assert 'class="form-errors"' in html
    assert not NotificationPreference.objects.filter(person=officer).exists()


def test_someone_without_a_phone_is_told_sms_cannot_reach_them(client, whistle_city):
    client.force_login(whistle_city.steward)
    html = html_of(client.post(SETTINGS, {"order": "mine", "first": "sms"}))
    assert "您的资料中没有手机号码，无法用短信通知您。" in html
    assert "资料中没有" in html
