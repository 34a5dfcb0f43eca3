"""The notification outbox: queueing, the inbox, delivery on each channel, retries, claims."""

from __future__ import annotations

import hashlib
import hmac
import json
import runpy
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from tests.conftest import at_once, drop_the_connection
from whistle.env import ImproperSetting
from whistle.notifications import delivery
from whistle.notifications.channels import sms_text
from whistle.notifications.delivery import claim, retry_delay, sweep, take
from whistle.notifications.errors import DeliveryError
from whistle.notifications.models import (
    Channel,
    Notification,
    NotificationPreference,
    Status,
    WebhookEndpoint,
)
from whistle.notifications.outbox import (
    inbox,
    mark_read,
    notify,
    notify_many,
    notify_webhooks,
    unread_count,
)
from whistle.notifications.sms import SmsMessage
from whistle.organisation.models import Person

ON_POSTGRES = str(django_settings.DATABASES["default"]["ENGINE"]).endswith("postgresql")
needs_postgres = pytest.mark.skipif(
    not ON_POSTGRES, reason="needs PostgreSQL: SQLite lets one writer in at a time"
)

# 17:30 in Beijing.
T0 = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


class RecordingSmsBackend:
    """An SMS gateway that keeps what it was given."""

    sent: ClassVar[list[SmsMessage]] = []
    lock = threading.Lock()

    def send(self, message: SmsMessage) -> None:
        with self.lock:
            self.sent.append(message)


class BusyGatewaySmsBackend:
    """A gateway that refuses the next ``refusals`` messages, then accepts the rest."""

    refusals: ClassVar[int] = 0

    def send(self, message: SmsMessage) -> None:
        if BusyGatewaySmsBackend.refusals > 0:
            BusyGatewaySmsBackend.refusals -= 1
            raise DeliveryError("gateway busy: code 503")
        RecordingSmsBackend().send(message)


class SlowSmsBackend:
    """A gateway that takes 50 ms per message."""

    def send(self, message: SmsMessage) -> None:
        time.sleep(0.05)
        RecordingSmsBackend().send(message)


class DroppedConnectionSmsBackend:
    """A gateway that accepts each message while PostgreSQL drops the sending worker's
    connection, as a restart of the server or a terminated backend does; the worker learns
    of it at its next query."""

    def send(self, message: SmsMessage) -> None:
        drop_the_connection()
        RecordingSmsBackend().send(message)


@pytest.fixture(autouse=True)
def _gateways(settings) -> Iterator[None]:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.WHISTLE_SMS_BACKEND = "tests.test_notifications.RecordingSmsBackend"
    settings.SITE_URL = "https://whistle.dongcheng.example"
    settings.WHISTLE_NOTIFY_RETRY_SECONDS = 60
    settings.WHISTLE_NOTIFY_MAX_ATTEMPTS = 8
    settings.WHISTLE_NOTIFY_LEASE_SECONDS = 300
    RecordingSmsBackend.sent.clear()
    BusyGatewaySmsBackend.refusals = 0
    yield
    RecordingSmsBackend.sent.clear()


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """The clock stands still at T0 until the test moves it."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _person(username: str, name: str, *, email: str = "", phone: str = "") -> Person:
    return Person.objects.create_user(
        username=username, password="pw-123456", name=name, email=email, phone=phone
    )


@pytest.fixture
def officer(db) -> Person:
    """王建国, a department officer with a mobile phone and an e-mail address."""
    return _person(
        "wang-jianguo", "王建国", email="wang.jianguo@cgw.dongcheng.example", phone="13800138000"
    )


@pytest.fixture
def steward(db) -> Person:
    """李秀英, an alley steward with neither phone nor e-mail on file."""
    return _person("li-xiuying", "李秀英")


@pytest.fixture
def dispatcher(db) -> Person:
    """张敏, a township dispatcher with a mobile phone only."""
    return _person("zhang-min", "张敏", phone="13911112222")


def _summon(person: Person, **extra: Any) -> None:
    fields: dict[str, Any] = {
        "kind": "summons.created",
        "subject": "龙潭街道吹哨：人民市场东巷占道经营",
        "body": "请于30分钟内到场报到。",
        "link": "/summons/42/",
    }
    fields.update(extra)
    notify(person, **fields)


def _sweep() -> int:
    return sweep(timezone.now(), batch=50)


def _channels(person: Person) -> set[str]:
    return set(Notification.objects.filter(recipient=person).values_list("channel", flat=True))


# Queueing


def test_a_notification_queued_in_a_rolled_back_transaction_sends_nothing(officer):
    with pytest.raises(RuntimeError), transaction.atomic():
        _summon(officer)
        assert Notification.objects.filter(recipient=officer).count() == 2
        raise RuntimeError("the summons was refused")

    assert not Notification.objects.exists()
    assert _sweep() == 0
    assert mail.outbox == []
    assert RecordingSmsBackend.sent == []


def test_an_officer_with_a_phone_and_an_address_gets_the_inbox_and_an_sms_with_email_next(
    officer, clock
):
    _summon(officer)

    rows = {row.channel: row for row in Notification.objects.filter(recipient=officer)}
    assert set(rows) == {Channel.INBOX, Channel.SMS}
    assert rows[Channel.INBOX].status == Status.SENT
    assert rows[Channel.INBOX].sent_at == T0
    assert rows[Channel.SMS].status == Status.PENDING
    assert rows[Channel.SMS].address == "13800138000"
    assert rows[Channel.SMS].next_attempt_at == T0
    assert rows[Channel.SMS].fallback_channels == [Channel.EMAIL]


def test_the_channel_order_setting_decides_which_channel_goes_first(settings, officer):
    settings.WHISTLE_NOTIFY_CHANNEL_ORDER = ["email", "sms"]
    _summon(officer)

    row = Notification.objects.get(recipient=officer, status=Status.PENDING)
    assert (row.channel, row.address) == (Channel.EMAIL, "wang.jianguo@cgw.dongcheng.example")
    assert row.fallback_channels == [Channel.SMS]


@pytest.mark.parametrize(
    ("order", "complaint"),
    [("sms,fax", "may name only push, sms, email; got 'fax'"), ("sms,sms", "names a value twice")],
)
def test_a_channel_order_that_cannot_work_stops_the_start(monkeypatch, order, complaint):
    monkeypatch.setenv("WHISTLE_NOTIFY_CHANNEL_ORDER", order)
    with pytest.raises(ImproperSetting, match=complaint):
        runpy.run_path(str(django_settings.BASE_DIR / "whistle" / "settings.py"))


def test_a_channel_left_out_of_the_order_is_never_used(settings, officer):
    settings.WHISTLE_NOTIFY_CHANNEL_ORDER = ["email"]
    _summon(officer)
    assert _channels(officer) == {Channel.INBOX, Channel.EMAIL}
    assert Notification.objects.get(channel=Channel.EMAIL).fallback_channels == []


def test_a_steward_without_phone_or_email_gets_only_the_inbox_entry(steward):
    _summon(steward)
    assert _channels(steward) == {Channel.INBOX}


def test_a_person_who_switched_off_sms_gets_the_email_but_no_sms(officer):
    NotificationPreference.objects.create(person=officer, channels=["push", "email"])
    _summon(officer)
    assert _channels(officer) == {Channel.INBOX, Channel.EMAIL}


def test_a_deactivated_account_keeps_its_inbox_but_gets_nothing_outside(officer):
    officer.is_active = False
    officer.save(update_fields=["is_active"])
    _summon(officer)
    assert _channels(officer) == {Channel.INBOX}


def test_asking_for_sms_only_queues_only_the_sms_and_only_for_those_with_a_phone(
    officer, dispatcher, steward
):
    notify_many(
        [officer, dispatcher, steward],
        kind="summons.overdue",
        subject="报到超时",
        body="龙潭派出所未在30分钟内报到。",
        channels=[Channel.SMS],
    )
    assert _channels(officer) == {Channel.SMS}
    assert _channels(dispatcher) == {Channel.SMS}
    assert _channels(steward) == set()


def test_an_unknown_channel_is_refused_before_anything_is_written(officer):
    with pytest.raises(ValueError, match="'fax'"):
        _summon(officer, channels=[Channel.INBOX, "fax"])
    assert not Notification.objects.exists()


def test_a_subject_that_is_too_long_is_shortened_rather_than_refused(steward):
    _summon(steward, subject="占道经营" * 100)
    subject = Notification.objects.get(recipient=steward).subject
    assert len(subject) == 200
    assert subject.endswith("…")


def test_the_same_reminder_queued_twice_makes_one_row_per_channel(officer, dispatcher):
    _summon(officer, dedupe_key="summons:42:arrive-overdue")
    _summon(officer, dedupe_key="summons:42:arrive-overdue")
    # The transaction is still usable after the ignored duplicate.
    assert Notification.objects.filter(recipient=officer).count() == 2

    _summon(officer, dedupe_key="summons:43:arrive-overdue")
    _summon(dispatcher, dedupe_key="summons:42:arrive-overdue")
    _summon(officer)
    _summon(officer)
    assert Notification.objects.filter(recipient=officer).count() == 2 * 4
    assert Notification.objects.filter(recipient=dispatcher).count() == 2


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_queueing_the_same_reminder_at_once_make_one_row():
    officer = _person("wang-jianguo", "王建国", phone="13800138000")

    def queue() -> None:
        with transaction.atomic():
            _summon(officer, dedupe_key="summons:42:arrive-overdue")
            # Hold the transaction open so that both inserts overlap.
            time.sleep(0.2)

    _, errors = at_once(2, queue, timeout=20)
    assert errors == []
    assert Notification.objects.filter(recipient=officer, channel=Channel.SMS).count() == 1
    assert Notification.objects.filter(recipient=officer, channel=Channel.INBOX).count() == 1


def test_a_webhook_event_goes_once_to_each_active_endpoint_that_wants_it(db):
    everything = WebhookEndpoint.objects.create(name="区网格化中心", url="https://grid.example/h")
    overdue_only = WebhookEndpoint.objects.create(
        name="12345热线平台", url="https://12345.example/h", event_kinds=["summons.overdue"]
    )
    WebhookEndpoint.objects.create(
        name="已停用的旧系统", url="https://old.example/h", is_active=False
    )
    WebhookEndpoint.objects.create(
        name="考核系统", url="https://assess.example/h", event_kinds=["case.closed"]
    )

    for _ in range(2):
        notify_webhooks("summons.overdue", {"summons": 42}, "summons:42:overdue")

    rows = Notification.objects.filter(channel=Channel.WEBHOOK)
    assert {row.endpoint for row in rows} == {everything, overdue_only}
    assert rows.count() == 2
    assert all(row.status == Status.PENDING and row.recipient is None for row in rows)


# The in-app inbox


def test_the_inbox_lists_a_persons_entries_newest_first_and_marks_only_theirs_read(
    officer, dispatcher, clock
):
    _summon(officer, subject="第一次吹哨")
    clock.shift(timedelta(minutes=5))
    _summon(officer, subject="第二次吹哨")
    _summon(dispatcher, subject="派单提醒")

    entries = list(inbox(officer))
    assert [entry.subject for entry in entries] == ["第二次吹哨", "第一次吹哨"]
    assert unread_count(officer) == 2

    someone_elses = inbox(dispatcher).get()
    changed = mark_read(officer, [entries[1].uuid, someone_elses.uuid, "not-a-uuid"])
    assert changed == 1
    assert [entry.subject for entry in inbox(officer, unread_only=True)] == ["第二次吹哨"]
    assert unread_count(dispatcher) == 1

    assert mark_read(officer) == 1
    assert unread_count(officer) == 0


# Delivery on each channel


def test_an_email_is_delivered_through_djangos_mail_backend(officer, clock):
    _summon(officer, channels=[Channel.EMAIL])
    assert _sweep() == 1

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["wang.jianguo@cgw.dongcheng.example"]
    assert message.subject == "龙潭街道吹哨：人民市场东巷占道经营"
    assert "请于30分钟内到场报到。" in message.body
    assert "https://whistle.dongcheng.example/summons/42/" in message.body
    row = Notification.objects.get(channel=Channel.EMAIL)
    assert (row.status, row.sent_at, row.attempts) == (Status.SENT, T0, 1)
    assert row.claim_token is None


def test_an_sms_goes_to_the_console_gateway_by_default(settings, dispatcher, capsys):
    del settings.WHISTLE_SMS_BACKEND
    _summon(dispatcher)
    assert _sweep() == 1

    printed = capsys.readouterr().out
    assert "SMS to 13911112222 [summons.created]" in printed
    assert "请于30分钟内到场报到。" in printed
    assert Notification.objects.get(channel=Channel.SMS).status == Status.SENT


def test_an_sms_names_the_subject_the_body_and_the_full_link(dispatcher):
    _summon(dispatcher, payload={"summons": 42})
    _sweep()

    [message] = RecordingSmsBackend.sent
    row = Notification.objects.get(channel=Channel.SMS)
    assert message.phone == "13911112222"
    assert message.text == (
        "龙潭街道吹哨：人民市场东巷占道经营\n请于30分钟内到场报到。\n"
        "https://whistle.dongcheng.example/summons/42/"
    )
    assert message.delivery_id == str(row.uuid)
    assert message.payload == {"summons": 42}


def test_a_link_that_is_already_absolute_is_kept_as_it_is(dispatcher):
    _summon(dispatcher, link="https://map.example/?q=人民市场东巷", body="")
    assert sms_text(Notification.objects.get(channel=Channel.SMS)).splitlines() == [
        "龙潭街道吹哨：人民市场东巷占道经营",
        "https://map.example/?q=人民市场东巷",
    ]


@dataclass
class Receiver:
    url: str
    secret: str
    requests: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def receiver(monkeypatch) -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1 that checks the signature as docs/notifications.md says."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    secret = "shared-secret-of-the-12345-platform"
    requests: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            timestamp = self.headers.get("X-Whistle-Timestamp", "")
            digest = hmac.new(
                secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
            ).hexdigest()
            valid = hmac.compare_digest(
                f"sha256={digest}", self.headers.get("X-Whistle-Signature", "")
            )
            requests.append(
                {"path": self.path, "headers": dict(self.headers), "body": body, "valid": valid}
            )
            self.send_response(204 if valid else 401)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield Receiver(f"http://127.0.0.1:{server.server_port}/hooks/whistle", secret, requests)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_a_webhook_is_posted_with_a_signature_the_receiver_can_check(db, receiver, clock):
    endpoint = WebhookEndpoint.objects.create(
        name="12345热线平台", url=receiver.url, secret=receiver.secret
    )
    notify_webhooks(
        "summons.overdue",
        {"summons": 42, "department": "龙潭派出所", "due_at": T0},
        "summons:42:overdue",
    )
    assert _sweep() == 1

    [request] = receiver.requests
    assert request["valid"]
    assert request["path"] == "/hooks/whistle"
    row = Notification.objects.get(endpoint=endpoint)
    assert request["headers"]["X-Whistle-Event"] == "summons.overdue"
    assert request["headers"]["X-Whistle-Delivery"] == str(row.uuid)
    assert request["headers"]["X-Whistle-Timestamp"] == str(int(T0.timestamp()))
    assert json.loads(request["body"]) == {
        "id": str(row.uuid),
        "event": "summons.overdue",
        "created_at": "2026-11-26T09:30:00+00:00",
        "payload": {"summons": 42, "department": "龙潭派出所", "due_at": "2026-11-26T09:30:00Z"},
    }
    assert (row.status, row.sent_at) == (Status.SENT, T0)


def test_a_webhook_the_receiver_refuses_is_retried_later(db, receiver, clock):
    WebhookEndpoint.objects.create(name="配置错误的接收方", url=receiver.url, secret="wrong")
    notify_webhooks("case.closed", {"case": 7}, "case:7:closed")
    assert _sweep() == 1

    [request] = receiver.requests
    assert not request["valid"]
    row = Notification.objects.get()
    assert row.status == Status.PENDING
    assert row.attempts == 1
    assert row.last_error == "the receiver answered HTTP 401"
    assert row.next_attempt_at == T0 + timedelta(seconds=60)


def test_a_webhook_receiver_that_is_down_is_retried_later(db, receiver, settings):
    settings.WHISTLE_WEBHOOK_TIMEOUT_SECONDS = 2
    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = closed.server_port
    closed.server_close()
    WebhookEndpoint.objects.create(name="宕机的接收方", url=f"http://127.0.0.1:{port}/h")
    notify_webhooks("case.closed", {"case": 7}, "case:7:closed")
    assert _sweep() == 1

    row = Notification.objects.get()
    assert row.status == Status.PENDING
    assert row.last_error.startswith("could not reach the receiver")


def test_a_webhook_to_an_endpoint_switched_off_after_queueing_fails_at_once(db):
    endpoint = WebhookEndpoint.objects.create(name="区网格化中心", url="https://grid.example/h")
    notify_webhooks("case.closed", {"case": 7}, "case:7:closed")
    endpoint.is_active = False
    endpoint.save(update_fields=["is_active"])
    assert _sweep() == 1

    row = Notification.objects.get()
    assert (row.status, row.attempts) == (Status.FAILED, 1)
    assert row.last_error == "the webhook endpoint is switched off"


# Retries and failures


def test_the_backoff_doubles_from_one_minute_and_stops_growing_at_six_hours():
    minutes = [retry_delay(n) / timedelta(minutes=1) for n in range(1, 11)]
    assert minutes == [1, 2, 4, 8, 16, 32, 64, 128, 256, 360]
    assert retry_delay(1000) == timedelta(hours=6)


def test_a_failed_sms_is_retried_after_one_two_and_four_minutes(settings, dispatcher, clock):
    settings.WHISTLE_SMS_BACKEND = "tests.test_notifications.BusyGatewaySmsBackend"
    BusyGatewaySmsBackend.refusals = 3
    _summon(dispatcher, channels=[Channel.SMS])
    row = Notification.objects.get()

    retries_at = [T0 + timedelta(seconds=s) for s in (60, 60 + 120, 60 + 120 + 240)]
    for attempt, retry_at in enumerate(retries_at, start=1):
        assert _sweep() == 1
        row.refresh_from_db()
        assert (row.status, row.attempts, row.next_attempt_at) == (
            Status.PENDING,
            attempt,
            retry_at,
        )
        assert row.last_error == "gateway busy: code 503"
        clock.move_to(retry_at - timedelta(seconds=1))
        assert _sweep() == 0
        clock.move_to(retry_at)
    assert _sweep() == 1

    row.refresh_from_db()
    assert (row.status, row.attempts, row.sent_at) == (Status.SENT, 4, T0 + timedelta(seconds=420))
    assert [message.phone for message in RecordingSmsBackend.sent] == ["13911112222"]


def test_after_the_last_attempt_a_notification_is_failed_and_the_admin_can_send_it_again(
    settings, dispatcher, admin_client, clock
):
    settings.WHISTLE_SMS_BACKEND = "tests.test_notifications.BusyGatewaySmsBackend"
    settings.WHISTLE_NOTIFY_MAX_ATTEMPTS = 3
    BusyGatewaySmsBackend.refusals = 100
    _summon(dispatcher, channels=[Channel.SMS])
    row = Notification.objects.get()

    for _ in range(3):
        assert _sweep() == 1
        clock.shift(timedelta(hours=1))
    assert _sweep() == 0

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.FAILED, 3)
    assert row.last_error == "gateway busy: code 503"

    page = admin_client.get("/admin/notifications/notification/?status__exact=failed")
    assert page.status_code == 200
    assert "龙潭街道吹哨：人民市场东巷占道经营" in page.content.decode()

    BusyGatewaySmsBackend.refusals = 0
    response = admin_client.post(
        "/admin/notifications/notification/",
        {"action": "retry", "_selected_action": [row.pk]},
        follow=True,
    )
    assert "1 条通知已重新排队发送" in response.content.decode()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.PENDING, 0)
    assert _sweep() == 1
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_the_retry_action_leaves_sent_notifications_alone(officer):
    _summon(officer)
    count = delivery.retry_failed(Notification.objects.all(), now=timezone.now())
    assert count == 0
    assert Notification.objects.get(channel=Channel.INBOX).status == Status.SENT


# Claims and leases


def test_of_two_workers_that_picked_the_same_rows_only_the_first_to_claim_gets_them(officer):
    _summon(officer)
    now = timezone.now()
    ids = list(Notification.objects.filter(status=Status.PENDING).values_list("id", flat=True))

    assert take(ids, now=now, token=uuid.uuid4()) == 1
    assert take(ids, now=now, token=uuid.uuid4()) == 0


def test_the_claim_reads_only_the_rows_still_to_be_sent_through_their_own_index(officer):
    """The index of due rows holds only the rows still to be sent (an inbox entry is written
    sent), and the claim's queries find it: SQLite uses a partial index only when the query
    states its condition as it is written, not through bound parameters."""
    _summon(officer)
    due = Notification.objects.filter(delivery._due(timezone.now()))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The table is tiny: without this the planner would rather read it whole.
            cursor.execute("SET LOCAL enable_seqscan = off")
        plan = due.order_by("next_attempt_at", "id").explain()
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'notification_due'")
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'notification_due'")
        (definition,) = cursor.fetchone()
    assert "notification_due" in plan, plan
    assert "WHERE" in definition.upper() and "'sending'" in definition, definition
    # The inbox entry is not due; the outside message is, and the claim takes it.
    assert {row.channel for row in due} == {Channel.SMS}
    assert Notification.objects.filter(channel=Channel.INBOX, status=Status.SENT).exists()
    _token, claimed = claim(timezone.now(), batch=10)
    assert [row.channel for row in claimed] == [Channel.SMS]


def test_a_row_claimed_by_a_worker_that_died_is_sent_after_its_lease_runs_out(dispatcher, clock):
    _summon(dispatcher, channels=[Channel.SMS])
    dead_token, [claimed] = claim(timezone.now(), batch=10)
    clock.move_to(T0 + timedelta(seconds=299))
    assert _sweep() == 0
    clock.move_to(T0 + timedelta(seconds=300))
    assert _sweep() == 1

    claimed.refresh_from_db()
    assert (claimed.status, claimed.attempts) == (Status.SENT, 2)
    assert len(RecordingSmsBackend.sent) == 1
    # The dead worker's outcome, should it come back, no longer counts.
    delivery._record(claimed, dead_token, status=Status.FAILED, last_error="late")
    claimed.refresh_from_db()
    assert claimed.status == Status.SENT


def test_a_row_whose_workers_keep_dying_is_given_up_after_the_last_attempt(
    settings, dispatcher, clock
):
    settings.WHISTLE_NOTIFY_MAX_ATTEMPTS = 2
    _summon(dispatcher, channels=[Channel.SMS])
    for _ in range(2):
        claim(timezone.now(), batch=10)
        clock.shift(timedelta(seconds=300))
    assert _sweep() == 1

    row = Notification.objects.get()
    assert row.status == Status.FAILED
    assert "the worker stopped while sending" in row.last_error
    assert RecordingSmsBackend.sent == []


def test_a_sweep_hands_back_what_it_could_not_start_in_its_time(settings, dispatcher):
    settings.WHISTLE_SMS_BACKEND = "tests.test_notifications.SlowSmsBackend"
    settings.WHISTLE_NOTIFY_SWEEP_SECONDS = 0.01
    for number in range(3):
        _summon(dispatcher, channels=[Channel.SMS], dedupe_key=f"summons:{number}")

    assert _sweep() == 1

    statuses = sorted(Notification.objects.values_list("status", "attempts", "claim_token"))
    assert statuses == [
        (Status.PENDING, 0, None),
        (Status.PENDING, 0, None),
        (Status.SENT, 1, None),
    ]
    assert _sweep() == 1


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_at_once_never_deliver_a_row_twice():
    dispatcher = _person("zhang-min", "张敏", phone="13911112222")
    for number in range(300):
        _summon(dispatcher, channels=[Channel.SMS], dedupe_key=f"summons:{number}")
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait(timeout=10)
            while sweep(timezone.now(), batch=7):
                pass
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert errors == []
    delivered = [message.delivery_id for message in RecordingSmsBackend.sent]
    assert len(delivered) == 300
    assert len(set(delivered)) == 300
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.SENT}


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_sweep_whose_connection_the_database_drops_records_each_outcome_on_a_new_one(settings):
    settings.WHISTLE_SMS_BACKEND = "tests.test_notifications.DroppedConnectionSmsBackend"
    dispatcher = _person("zhang-min", "张敏", phone="13911112222")
    for number in range(3):
        _summon(dispatcher, channels=[Channel.SMS], dedupe_key=f"summons:{number}")

    assert _sweep() == 3

    assert len(RecordingSmsBackend.sent) == 3
    rows = Notification.objects.filter(channel=Channel.SMS)
    assert (
        sorted(rows.values_list("status", "attempts", "claim_token"))
        == [(Status.SENT, 1, None)] * 3
    )


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_claim_whose_connection_drops_once_committed_hands_its_rows_back_at_once(monkeypatch):
    dispatcher = _person("zhang-min", "张敏", phone="13911112222")
    for number in range(3):
        _summon(dispatcher, channels=[Channel.SMS], dedupe_key=f"summons:{number}")
    real_take = delivery.take

    def take_then_drop_after_the_commit(ids: list[int], **kwargs: Any) -> int:
        transaction.on_commit(drop_the_connection)
        return real_take(ids, **kwargs)

    monkeypatch.setattr(delivery, "take", take_then_drop_after_the_commit)
    with pytest.raises(OperationalError):
        _sweep()

    rows = Notification.objects.filter(channel=Channel.SMS)
    assert (
        sorted(rows.values_list("status", "attempts", "claim_token"))
        == [(Status.PENDING, 0, None)] * 3
    )
    monkeypatch.undo()
    assert _sweep() == 3


class StoppedSmsBackend:
    """A gateway during whose request the database drops the connection and the worker is
    told to stop at once (SIGINT in a shell): the sweep hands back what it holds."""

    def send(self, message: SmsMessage) -> None:
        DroppedConnectionSmsBackend().send(message)
        raise KeyboardInterrupt


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_sweep_whose_connection_the_database_drops_hands_back_its_rows_on_a_new_one(settings):
    settings.WHISTLE_SMS_BACKEND = "tests.test_notifications.StoppedSmsBackend"
    dispatcher = _person("zhang-min", "张敏", phone="13911112222")
    for number in range(3):
        _summon(dispatcher, channels=[Channel.SMS], dedupe_key=f"summons:{number}")

    with pytest.raises(KeyboardInterrupt):
        _sweep()

    # Due again at once, the attempt not counted: not left claimed until the lease runs out.
    rows = Notification.objects.filter(channel=Channel.SMS)
    assert (
        sorted(rows.values_list("status", "attempts", "claim_token"))
        == [(Status.PENDING, 0, None)] * 3
    )
    assert not rows.filter(next_attempt_at__gt=timezone.now()).exists()


# Admin


def test_the_admin_lists_notifications_by_status_and_channel_in_chinese(officer, admin_client):
    _summon(officer)
    page = admin_client.get("/admin/notifications/notification/?channel__exact=sms").content
    html = page.decode()
    assert "通知" in html and "短信" in html and "等待发送" in html
    assert admin_client.get("/admin/notifications/notification/add/").status_code == 403


def test_the_admin_manages_webhook_endpoints_and_preferences(db, admin_client):
    endpoint = WebhookEndpoint.objects.create(name="区网格化中心", url="https://grid.example/h")
    html = admin_client.get(f"/admin/notifications/webhookendpoint/{endpoint.pk}/change/")
    assert "签名密钥" in html.content.decode()
    assert admin_client.get("/admin/notifications/notificationpreference/").status_code == 200


def test_a_webhook_url_must_be_http_or_https(db):
    endpoint = WebhookEndpoint(name="本地文件", url="file:///etc/passwd")
    with pytest.raises(ValidationError) as refused:
        endpoint.full_clean()
    assert list(refused.value.message_dict) == ["url"]
