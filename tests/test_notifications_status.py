"""Delivery status per person and channel: queued, sent, delivered where the channel says so,
read, failed with its reason and passed on to the next channel; shown on the summons card of
the case page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from django.utils import timezone

from tests.fixtures_cases import whistle_city_fixture, whistled_case  # noqa: F401  (fixture)
from tests.fixtures_desk import case_url
from whistle.notifications.actions import record_sms_receipts
from whistle.notifications.delivery import sweep
from whistle.notifications.errors import PermanentDeliveryError
from whistle.notifications.models import Channel, GroupRobot, Notification, Status, WebhookEndpoint
from whistle.notifications.outbox import mark_read, notify_webhooks
from whistle.notifications.receipts import Receipt
from whistle.notifications.sms import SmsMessage
from whistle.notifications.status import DeliveryState, delivery_status, event_key

# 10:00 in Beijing, a Thursday.
T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


class RefusingSmsBackend:
    """A gateway whose provider refuses the number."""

    def send(self, message: SmsMessage) -> None:
        raise PermanentDeliveryError("isv.MOBILE_NUMBER_ILLEGAL 非法手机号")


class AcceptingSmsBackend:
    def send(self, message: SmsMessage) -> str:
        return "9006197469364984400"


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _gateways(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.WHISTLE_SMS_BACKEND = "tests.test_notifications_status.AcceptingSmsBackend"


def _alert_key(summons) -> str:
    event = summons.events.get(kind="summons.created")
    return event_key(event.hash)


def _sweep() -> int:
    return sweep(timezone.now(), batch=100)


def test_the_status_of_a_summons_alert_lists_each_person_and_channel_in_order(whistle_city, clock):
    GroupRobot.objects.create(
        name="城管执法群",
        platform=GroupRobot.Platform.WECOM,
        department=whistle_city.urban,
        key="693a91f6-7f1e-4bc4-97a0-0ec2b1fa5aa1",
        is_active=True,
    )
    _case, _whistle, summonses = whistled_case(whistle_city, at=T0)
    urban = summonses[whistle_city.urban.pk]
    key = _alert_key(urban)
    notify_webhooks("summons.created", {"summons": str(urban.uuid)}, key)

    rows = delivery_status([key])
    assert [(d.who, d.channel, d.state) for d in rows] == [
        ("urban-head", Channel.INBOX, DeliveryState.UNREAD),
        ("urban-officer", Channel.INBOX, DeliveryState.UNREAD),
        ("urban-officer", Channel.SMS, DeliveryState.QUEUED),
        ("城管执法群", Channel.ROBOT, DeliveryState.QUEUED),
    ]
    assert rows[2].at == T0

    # The head has no phone, e-mail or push subscription: the inbox is all that reaches them.
    assert [d.inbox_only for d in rows] == [True, False, False, False]

    clock.move_to(datetime(2026, 11, 26, 2, 7, tzinfo=UTC))
    mark_read(whistle_city.urban_officer)
    rows = delivery_status([key])
    assert (rows[1].state, rows[1].at) == (
        DeliveryState.READ,
        datetime(2026, 11, 26, 2, 7, tzinfo=UTC),
    )
    assert rows[0].state == DeliveryState.UNREAD


def test_an_actions_messages_and_webhooks_are_queued_under_its_events_key(whistle_city, clock):
    WebhookEndpoint.objects.create(name="区网格化中心", url="https://grid.example/h")
    _case, _whistle, summonses = whistled_case(whistle_city, at=T0)
    key = _alert_key(summonses[whistle_city.urban.pk])

    queued = Notification.objects.filter(dedupe_key=key)
    assert set(queued.values_list("channel", flat=True)) >= {Channel.INBOX, Channel.WEBHOOK}
    assert {d.who for d in delivery_status([key])} >= {"urban-officer", "urban-head"}


def test_the_status_is_read_in_one_query(whistle_city, clock, django_assert_num_queries):
    _case, _whistle, summonses = whistled_case(whistle_city, at=T0)
    keys = [_alert_key(s) for s in summonses.values()]
    with django_assert_num_queries(1):
        rows = delivery_status(keys)
        assert {d.who for d in rows} == {
            "urban-head",
            "urban-officer",
            "police-officer",
        }


def test_the_summons_card_shows_how_the_whistle_reached_each_officer(client, whistle_city, clock):
    case, _whistle, _summonses = whistled_case(whistle_city, at=T0)
    _sweep()

    client.force_login(whistle_city.dispatcher)
    html = client.get(case_url(case)).content.decode()
    assert "召集通知的送达情况" in html
    assert "urban-officer</span> · <span>短信</span>" in html
    assert ">已发送</strong>" in html
    # The inbox says whether the entry was read, never that it was "delivered".
    assert "urban-officer</span> · <span>站内消息</span> ·" in html
    assert ">已送达</strong>" not in html
    assert ">未读</strong>" in html
    assert "只能通过站内消息联系urban-head：无法给其发送短信、电子邮件或网页推送。" in html
    assert "只能通过站内消息联系urban-officer" not in html

    clock.move_to(datetime(2026, 11, 26, 2, 7, tzinfo=UTC))
    mark_read(whistle_city.urban_officer)
    html = client.get(case_url(case)).content.decode()
    assert (
        '>已读</strong> <span class="muted"><time class="nowrap" '
        'datetime="2026-11-26T10:07:00+08:00">11-26 10:07</time></span>'
    ) in html


def test_the_summons_card_speaks_english_of_the_inbox(client, whistle_city, clock):
    case, _whistle, _summonses = whistled_case(whistle_city, at=T0)
    client.force_login(whistle_city.dispatcher)
    html = client.get(case_url(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "urban-head</span> · <span>in-app inbox</span> ·" in html
    assert ">unread</strong>" in html
    assert (
        "Only the in-app inbox can reach urban-head: no SMS, e-mail or Web Push is possible"
        " for them. Phone them if they have not read it."
    ) in html


def test_a_failed_sms_shows_its_reason_and_the_email_it_was_passed_on_to(
    settings, client, whistle_city, clock
):
    settings.WHISTLE_SMS_BACKEND = "tests.test_notifications_status.RefusingSmsBackend"
    officer = whistle_city.urban_officer
    officer.email = "urban.officer@cgw.dongcheng.example"
    officer.save(update_fields=["email"])
    case, _whistle, summonses = whistled_case(whistle_city, at=T0)
    _sweep()

    rows = {
        d.channel: d
        for d in delivery_status([_alert_key(summonses[whistle_city.urban.pk])])
        if d.who == "urban-officer"
    }
    assert rows[Channel.SMS].state == DeliveryState.FAILED
    assert rows[Channel.SMS].reason == "isv.MOBILE_NUMBER_ILLEGAL 非法手机号"
    assert rows[Channel.SMS].passed_on
    assert rows[Channel.EMAIL].state == DeliveryState.QUEUED

    client.force_login(whistle_city.dispatcher)
    html = client.get(case_url(case)).content.decode()
    assert "理由：isv.MOBILE_NUMBER_ILLEGAL 非法手机号" in html
    assert "已转至下一个渠道。" in html

    _sweep()
    email = Notification.objects.get(recipient=officer, channel=Channel.EMAIL)
    assert email.status == Status.SENT


def test_the_summons_card_shows_an_sms_the_operator_could_not_deliver_with_its_words(
    client, whistle_city, clock
):
    case, _whistle, summonses = whistled_case(whistle_city, at=T0)
    _sweep()
    record_sms_receipts(
        [Receipt(provider_ref="9006197469364984400", delivered=False, reason="MK:0001 空号", at=T0)]
    )

    [sms] = [
        d
        for d in delivery_status([_alert_key(summonses[whistle_city.urban.pk])])
        if d.channel == Channel.SMS
    ]
    assert (sms.state, sms.reason, sms.handed_over) == (DeliveryState.FAILED, "MK:0001 空号", True)
    client.force_login(whistle_city.dispatcher)
    html = client.get(case_url(case)).content.decode()
    assert ">未送达</strong>" in html
    assert "运营商回执：MK:0001 空号" in html


def test_the_summons_card_shows_when_the_operator_delivered_the_sms(client, whistle_city, clock):
    case, _whistle, summonses = whistled_case(whistle_city, at=T0)
    _sweep()
    clock.move_to(T0.replace(minute=5))
    record_sms_receipts(
        [
            Receipt(
                provider_ref="9006197469364984400",
                delivered=True,
                reason="",
                at=T0.replace(minute=1),
            )
        ]
    )

    [sms] = [
        d
        for d in delivery_status([_alert_key(summonses[whistle_city.urban.pk])])
        if d.channel == Channel.SMS
    ]
    assert (sms.state, sms.at) == (DeliveryState.DELIVERED, T0.replace(minute=1))
    client.force_login(whistle_city.dispatcher)
    html = client.get(case_url(case)).content.decode()
    assert "urban-officer</span> · <span>短信</span> ·" in html
    delivered = '>已送达</strong> <span class="muted"><time class="nowrap" '
    assert delivered + 'datetime="2026-11-26T10:01:00+08:00">11-26 10:01</time></span>' in html
