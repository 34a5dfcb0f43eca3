"""The deadline sweep: overdue, reminders and escalation, with exact boundaries on a frozen
clock. T0 is the moment the whistle is blown; the department (东城区城管执法局) must
acknowledge within 10 minutes, arrive within 30 and resolve within 4 hours."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from tests.conftest import drop_the_connection
from tests.fixtures_deadlines import (
    OVERDUE_KINDS,
    SweepCity,
    build_sweep_city,
    chain_is_valid,
    make_case,
    make_summons,
    reschedule,
)
from tests.lanes import lane_running_east
from whistle.cases import deadlines, trail
from whistle.cases.bulk import among
from whistle.cases.deadlines import next_check_for, next_check_for_notice, sweep
from whistle.cases.models import Case, Event, HotlineOrder, Summons, SupervisionNotice
from whistle.cases.trail import EventKind, append_event
from whistle.cases.verify import EventRow
from whistle.desk.timeline import entries as timeline_entries
from whistle.notifications import texts
from whistle.notifications.models import Channel, Notification, WebhookEndpoint
from whistle.notifications.outbox import Outbox
from whistle.notifications.outbox import inbox as inbox_of
from whistle.organisation.models import Jurisdiction, Lane, Person
from whistle.policies.calendar import deadline_after
from whistle.policies.models import ChainTarget, DurationUnit

BEIJING = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 5, 12, 9, 0, tzinfo=BEIJING)
MIN = timedelta(minutes=1)
SEC = timedelta(seconds=1)
MICROSECOND = timedelta(microseconds=1)


@pytest.fixture
def city(db) -> SweepCity:
    return build_sweep_city()


def sweep_at(moment: datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return sweep(timezone.now(), batch=500)


def events(summons: Summons, kind: str) -> list[Event]:
    return list(Event.objects.filter(summons=summons, kind=kind).order_by("seq"))


def inbox(kind: str, person=None) -> list[Notification]:
    """The inbox entries of this kind: all of them, or those the person sees in their inbox
    (their own and those their audiences share)."""
    if person is not None:
        return list(inbox_of(person).filter(kind=kind).order_by("id"))
    rows = Notification.objects.filter(kind=kind, channel=Channel.INBOX)
    return list(rows.order_by("id"))


def readers(city: SweepCity, kind: str) -> set[Person]:
    """The city's people who see an entry of this kind in their inbox."""
    people = [value for value in vars(city).values() if isinstance(value, Person)]
    return {person for person in people if inbox_of(person).filter(kind=kind).exists()}


def acknowledged(city: SweepCity, **fields) -> Summons:
    """A summons already acknowledged two minutes in, so that arrival is the obligation left."""
    return make_summons(
        city,
        T0,
        status=Summons.Status.ACKNOWLEDGED,
        acknowledged_at=T0 + 2 * MIN,
        acknowledged_by=city.officer,
        **fields,
    )


# --- Boundaries of the 30-minute arrival ------------------------------------------------------


def test_nothing_is_overdue_29_minutes_59_seconds_after_the_whistle(city):
    summons = acknowledged(city)
    sweep_at(T0 + 29 * MIN + 59 * SEC)
    summons.refresh_from_db()
    assert summons.arrive_overdue_at is None
    assert not Event.objects.filter(kind__in=OVERDUE_KINDS).exists()
    assert summons.escalated_to_township_at is None


def test_at_exactly_30_minutes_the_arrival_is_due_but_not_yet_overdue(city):
    summons = acknowledged(city)
    sweep_at(T0 + 30 * MIN)
    summons.refresh_from_db()
    assert summons.arrive_overdue_at is None
    assert not events(summons, EventKind.ARRIVE_OVERDUE)
    # The sweep comes back at the first instant after the deadline.
    assert summons.next_check_at == T0 + 30 * MIN + MICROSECOND


@pytest.mark.parametrize("after", [MICROSECOND, SEC], ids=["30:00.000001", "30:01"])
def test_any_instant_after_30_minutes_the_arrival_is_recorded_overdue_once(city, after):
    summons = acknowledged(city)
    now = T0 + 30 * MIN + after
    sweep_at(now)
    summons.refresh_from_db()
    assert summons.arrive_overdue_at == now
    [event] = events(summons, EventKind.ARRIVE_OVERDUE)
    assert event.at == now
    assert event.actor is None
    assert event.actor_role == "system"
    assert event.data["obligation"] == "arrive"
    assert event.data["due_at"] == "2026-05-12T01:30:00.000000+00:00"
    assert event.data["late_seconds"] == round(after.total_seconds(), 3)
    assert event.data["met_at"] is None
    # One entry, shared by the department's officers and head.
    told = inbox(EventKind.ARRIVE_OVERDUE)
    assert [(n.recipient, n.audience) for n in told] == [(None, f"department:{city.department.pk}")]
    assert readers(city, EventKind.ARRIVE_OVERDUE) == {city.officer, city.department_head}
    assert told[0].link == f"/cases/{summons.case.reference}/#summons-{summons.uuid.hex}"
    assert told[0].payload == {
        "case": summons.case.reference,
        "seq": event.seq,
        "kind": event.kind,
        "message": {
            "subject": deadlines._OVERDUE,
            "params": {
                "department": {"name": summons.department.name, "name_en": ""},
                "duty": {"msgid": "arrive on site"},
                "reference": summons.case.reference,
                "due": "2026-05-12 09:30",
            },
        },
    }


def test_an_arrival_at_exactly_30_minutes_is_on_time(city):
    summons = acknowledged(city)
    reschedule(summons, T0 + 30 * MIN, status=Summons.Status.ON_SITE, arrived_at=T0 + 30 * MIN)
    sweep_at(T0 + 30 * MIN + SEC)
    summons.refresh_from_db()
    assert summons.arrive_overdue_at is None
    assert not events(summons, EventKind.ARRIVE_OVERDUE)
    assert summons.escalated_to_township_at is None


def test_a_late_arrival_the_sweep_did_not_see_in_time_is_still_recorded_late(city):
    summons = acknowledged(city)
    reschedule(summons, T0 + 30 * MIN + 40 * SEC, arrived_at=T0 + 30 * MIN + 40 * SEC)
    sweep_at(T0 + 31 * MIN)
    [event] = events(summons, EventKind.ARRIVE_OVERDUE)
    assert event.data["met_at"] == "2026-05-12T01:30:40.000000+00:00"
    summons.refresh_from_db()
    # The department is there now: nobody is told to chase it, nothing escalates.
    assert not inbox(EventKind.ARRIVE_OVERDUE)
    assert summons.escalated_to_township_at is None


def test_arriving_counts_as_acknowledging(city):
    summons = make_summons(city, T0)
    reschedule(summons, T0 + 8 * MIN, status=Summons.Status.ON_SITE, arrived_at=T0 + 8 * MIN)
    sweep_at(T0 + 11 * MIN)
    assert not events(summons, EventKind.ACKNOWLEDGE_OVERDUE)


def test_a_cancelled_summons_is_never_overdue(city):
    summons = make_summons(city, T0)
    Summons.objects.filter(pk=summons.pk).update(status=Summons.Status.CANCELLED)
    assert sweep_at(T0 + 5 * 60 * MIN) == 1
    summons.refresh_from_db()
    assert not Event.objects.exists()
    assert summons.next_check_at is None


def test_a_summons_whose_next_check_is_ahead_is_left_alone(city):
    summons = acknowledged(city)
    assert summons.next_check_at == T0 + 15 * MIN  # half-time of the arrival
    assert sweep_at(T0 + 15 * MIN - MICROSECOND) == 0
    summons.refresh_from_db()
    assert summons.swept_through_at is None


# --- Working time and the National Day holiday ------------------------------------------------


@pytest.mark.parametrize(
    ("periods", "expected"),
    [
        ("09:00-12:00,13:30-17:30", datetime(2025, 10, 9, 15, 0, tzinfo=BEIJING)),
        ("08:30-12:00,13:00-17:00", datetime(2025, 10, 9, 14, 30, tzinfo=BEIJING)),
    ],
)
def test_a_resolve_deadline_in_working_hours_falls_due_after_the_national_day_holiday(
    city, periods, expected
):
    city.policy.working_periods = periods
    city.policy.save(update_fields=["working_periods"])
    summoned = datetime(2025, 9, 30, 14, 0, tzinfo=BEIJING)
    # 8 working hours from Tuesday 30 September, 14:00: the 1–8 October holiday does not count.
    resolve_due = deadline_after(summoned, 8, DurationUnit.WORKING_HOURS, city.district)
    assert resolve_due == expected
    summons = make_summons(
        city,
        summoned,
        resolve_due_at=resolve_due,
        status=Summons.Status.ON_SITE,
        acknowledged_at=summoned + 3 * MIN,
        arrived_at=summoned + 20 * MIN,
    )
    for moment in (
        datetime(2025, 10, 1, 9, 0, tzinfo=BEIJING),
        datetime(2025, 10, 5, 12, 0, tzinfo=BEIJING),
        datetime(2025, 10, 8, 23, 59, tzinfo=BEIJING),
        expected,
    ):
        sweep_at(moment)
        summons.refresh_from_db()
        assert summons.resolve_overdue_at is None, moment
    sweep_at(expected + SEC)
    summons.refresh_from_db()
    assert summons.resolve_overdue_at == expected + SEC
    assert len(events(summons, EventKind.RESOLVE_OVERDUE)) == 1


# --- Reminders --------------------------------------------------------------------------------


def arrival_reminders(summons: Summons) -> list[str]:
    return [
        e.data["reminder_at"]
        for e in events(summons, EventKind.REMINDER)
        if e.data["obligation"] == "arrive"
    ]


def test_reminders_go_out_at_half_time_and_five_minutes_before_each_exactly_once(city):
    summons = acknowledged(city)
    for moment in (14 * MIN + 59 * SEC, 15 * MIN, 15 * MIN + SEC, 20 * MIN, 24 * MIN + 59 * SEC):
        sweep_at(T0 + moment)
    assert arrival_reminders(summons) == ["2026-05-12T01:15:00.000000+00:00"]
    for moment in (25 * MIN, 25 * MIN + SEC, 29 * MIN + 59 * SEC, 30 * MIN):
        sweep_at(T0 + moment)
    assert arrival_reminders(summons) == [
        "2026-05-12T01:15:00.000000+00:00",
        "2026-05-12T01:25:00.000000+00:00",
    ]
    [half_time, five_before] = events(summons, EventKind.REMINDER)
    assert half_time.at == T0 + 15 * MIN
    assert five_before.data["minutes_left"] == 5
    assert half_time.data["recipients"] == 2
    assert len(inbox(EventKind.REMINDER, city.officer)) == 2
    assert readers(city, EventKind.REMINDER) == {city.officer, city.department_head}
    assert summons.case.reference in inbox(EventKind.REMINDER, city.officer)[1].subject


def test_no_reminder_goes_out_once_the_department_has_arrived(city):
    summons = acknowledged(city)
    sweep_at(T0 + 15 * MIN)
    reschedule(summons, T0 + 20 * MIN, status=Summons.Status.ON_SITE, arrived_at=T0 + 20 * MIN)
    sweep_at(T0 + 25 * MIN)
    sweep_at(T0 + 31 * MIN)
    assert arrival_reminders(summons) == ["2026-05-12T01:15:00.000000+00:00"]
    assert not events(summons, EventKind.ARRIVE_OVERDUE)


def test_a_worker_that_was_down_sends_only_the_latest_reminder_still_ahead_of_the_deadline(city):
    summons = acknowledged(city)
    sweep_at(T0 + 26 * MIN)
    assert arrival_reminders(summons) == ["2026-05-12T01:25:00.000000+00:00"]


def test_a_worker_that_was_down_past_the_deadline_sends_no_stale_reminder(city):
    summons = acknowledged(city)
    sweep_at(T0 + 31 * MIN)
    assert arrival_reminders(summons) == []
    assert len(events(summons, EventKind.ARRIVE_OVERDUE)) == 1


def test_reminders_follow_the_district_policy(city):
    city.policy.reminder_fractions = "0.25,0.75"
    city.policy.reminder_minutes_before = ""
    city.policy.save(update_fields=["reminder_fractions", "reminder_minutes_before"])
    summons = acknowledged(city)
    for minute in range(0, 31):
        sweep_at(T0 + minute * MIN)
    assert arrival_reminders(summons) == [
        "2026-05-12T01:07:30.000000+00:00",
        "2026-05-12T01:22:30.000000+00:00",
    ]


def test_a_reminder_under_a_minute_before_the_deadline_never_says_none_is_left(city):
    city.policy.reminder_fractions = ""
    city.policy.reminder_minutes_before = "1"
    city.policy.save(update_fields=["reminder_fractions", "reminder_minutes_before"])
    summons = acknowledged(city)
    # The worker gets to the reminder one second late: 59 seconds are left.
    sweep_at(T0 + 29 * MIN + SEC)
    [reminder] = events(summons, EventKind.REMINDER)
    assert reminder.data["minutes_left"] == 1
    [entry] = inbox(EventKind.REMINDER)
    assert entry.subject.endswith("（还剩 1 分钟）")
    with translation.override("en"):
        [line] = [x for x in timeline_entries([reminder])[0].lines if x.label == "Time left"]
        assert line.value == "1 min"


def test_a_reminder_with_hours_left_says_them_in_hours_and_minutes_in_the_readers_language(city):
    city.policy.reminder_fractions = ""
    city.policy.reminder_minutes_before = "1"
    city.policy.save(update_fields=["reminder_fractions", "reminder_minutes_before"])
    summons = acknowledged(city)
    sweep_at(T0 + 29 * MIN)
    [reminder] = events(summons, EventKind.REMINDER)
    [entry] = inbox(EventKind.REMINDER)
    assert entry.payload["message"]["params"]["left"] == {"minutes": 1}
    # The same reminder, had it gone out 788 minutes ahead.
    entry.payload["message"]["params"]["left"] = {"minutes": 788}
    reminder.data["minutes_left"] = 788
    for language, said, left in (
        ("en", "(13 h 8 min left)", "13 h 8 min"),
        ("zh-hans", "（还剩 13 小时 8 分钟）", "13 小时 8 分钟"),
    ):
        with translation.override(language):
            assert texts.subject_of(entry.payload, entry.subject).endswith(said)
            lines = timeline_entries([reminder])[0].lines
            assert [x.value for x in lines if x.label == translation.gettext("Time left")] == [left]


def test_an_escalation_seconds_after_the_deadline_is_overdue_by_less_than_a_minute(city):
    summons = acknowledged(city)
    sweep_at(T0 + 30 * MIN + SEC)
    [escalated] = events(summons, EventKind.ESCALATED)
    assert escalated.data["overdue_minutes"] == 0
    for language, label, words in (
        ("en", "Overdue by", "Less than a minute"),
        ("zh-hans", "超时", "不到 1 分钟"),
    ):
        with translation.override(language):
            [entry] = timeline_entries([escalated])
            assert [x.value for x in entry.lines if x.label == label] == [words]


# --- Escalation -------------------------------------------------------------------------------


def escalations(summons: Summons) -> list[str]:
    return [e.data["level"] for e in events(summons, EventKind.ESCALATED)]


def test_an_overdue_arrival_escalates_to_the_township_at_once_and_an_hour_later_to_the_district(
    city,
):
    summons = acknowledged(city)
    sweep_at(T0 + 30 * MIN + SEC)
    summons.refresh_from_db()
    case = Case.objects.get(pk=summons.case_id)
    assert summons.escalated_to_township_at == T0 + 30 * MIN + SEC
    assert case.escalation == Case.Escalation.TOWNSHIP
    assert escalations(summons) == ["township"]
    assert readers(city, EventKind.ESCALATED) == {
        city.dispatcher,
        city.township_office,
        city.township_chief,
    }
    assert [n.audience for n in inbox(EventKind.ESCALATED)] == [
        f"township-escalation:{city.township.pk}"
    ]

    sweep_at(T0 + 90 * MIN)
    summons.refresh_from_db()
    assert summons.escalated_to_district_at is None
    sweep_at(T0 + 90 * MIN + SEC)
    summons.refresh_from_db()
    case.refresh_from_db()
    assert summons.escalated_to_district_at == T0 + 90 * MIN + SEC
    assert case.escalation == Case.Escalation.DISTRICT
    assert escalations(summons) == ["township", "district"]
    assert readers(city, EventKind.ESCALATED) == {
        city.dispatcher,
        city.township_office,
        city.township_chief,
        city.district_office,
        city.district_chief,
    }
    assert [n.audience for n in inbox(EventKind.ESCALATED, city.district_chief)] == [
        f"district-escalation:{city.district.pk}"
    ]


def test_no_district_escalation_when_the_department_arrives_in_between(city):
    summons = acknowledged(city)
    sweep_at(T0 + 30 * MIN + SEC)
    reschedule(summons, T0 + 50 * MIN, status=Summons.Status.ON_SITE, arrived_at=T0 + 50 * MIN)
    sweep_at(T0 + 91 * MIN)
    summons.refresh_from_db()
    assert summons.escalated_to_district_at is None
    assert escalations(summons) == ["township"]
    assert Case.objects.get(pk=summons.case_id).escalation == Case.Escalation.TOWNSHIP


def test_a_worker_back_after_two_and_a_half_hours_catches_up_in_order(city):
    summons = acknowledged(city)
    sweep_at(T0 + 150 * MIN)
    kinds = [e.kind for e in Event.objects.filter(summons=summons).order_by("seq")]
    # The arrival reminders are stale and dropped; the resolution's half-time one is not.
    assert kinds == [
        EventKind.ARRIVE_OVERDUE,
        EventKind.ESCALATED,
        EventKind.ESCALATED,
        EventKind.REMINDER,
    ]
    assert escalations(summons) == ["township", "district"]


def test_a_case_already_at_the_district_stays_there_when_another_summons_escalates(city):
    summons = acknowledged(city)
    Case.objects.filter(pk=summons.case_id).update(escalation=Case.Escalation.DISTRICT)
    sweep_at(T0 + 31 * MIN)
    assert Case.objects.get(pk=summons.case_id).escalation == Case.Escalation.DISTRICT
    [event] = events(summons, EventKind.ESCALATED)
    assert event.data == {
        "level": "township",
        "previous": "district",
        "obligation": "arrive",
        "due_at": "2026-05-12T01:30:00.000000+00:00",
        "overdue_minutes": 1,
    }


def test_the_sweeps_events_reach_the_webhooks_that_want_them(city):
    WebhookEndpoint.objects.create(
        name="12345热线平台", url="https://hotline.example/hooks", event_kinds=["case.escalated"]
    )
    summons = acknowledged(city)
    sweep_at(T0 + 31 * MIN)
    sweep_at(T0 + 31 * MIN)
    [hook] = Notification.objects.filter(channel=Channel.WEBHOOK)
    assert hook.kind == EventKind.ESCALATED
    assert hook.payload["summons"] == str(summons.uuid)
    assert hook.payload["data"]["level"] == "township"


def test_no_webhook_is_made_while_no_endpoint_wants_the_event(city, monkeypatch):
    WebhookEndpoint.objects.create(
        name="12345热线平台", url="https://hotline.example/hooks", event_kinds=["case.escalated"]
    )
    WebhookEndpoint.objects.create(
        name="旧平台", url="https://old.example/hooks", event_kinds=[], is_active=False
    )
    made = []
    payload = trail._webhook_payload

    def counted(event):
        made.append(event)
        return payload(event)

    monkeypatch.setattr(trail, "_webhook_payload", counted)
    summons = acknowledged(city)
    sweep_at(T0 + 31 * MIN)
    # The overdue event is wanted by no active endpoint: no payload made, no row; the
    # escalation is offered as before.
    assert [event.kind for event in made] == [EventKind.ESCALATED]
    [hook] = Notification.objects.filter(channel=Channel.WEBHOOK)
    assert hook.kind == EventKind.ESCALATED
    assert hook.payload["summons"] == str(summons.uuid)
    assert len(events(summons, EventKind.ARRIVE_OVERDUE)) == 1


def after_the_first_chunk(monkeypatch, sql: str, params: list[Any]) -> None:
    """The sweep takes one row a chunk, and another program runs `sql` after the first
    chunk: no model code runs in this process, only the directory's triggers."""
    monkeypatch.setattr(deadlines, "CHUNK", 1)
    claim = deadlines._claim_summonses
    claims = []

    def claim_after(now, **kwargs):
        claims.append(now)
        if len(claims) == 2:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
        return claim(now, **kwargs)

    monkeypatch.setattr(deadlines, "_claim_summonses", claim_after)


def test_an_endpoint_added_by_sql_between_two_chunks_gets_the_next_chunks_events(city, monkeypatch):
    first, second = acknowledged(city), acknowledged(city)
    after_the_first_chunk(
        monkeypatch,
        "INSERT INTO notifications_webhookendpoint "
        "(name, url, secret, is_active, event_kinds, created_at) "
        "VALUES (%s, %s, %s, %s, '[]', %s)",
        ["12345热线平台", "https://hotline.example/hooks", "s" * 40, True, T0],
    )
    sweep_at(T0 + 31 * MIN)
    hooks = Notification.objects.filter(channel=Channel.WEBHOOK)
    # The first chunk found no endpoint and offered nothing; the second offered both of
    # its events (the overdue and the escalation) to the new one.
    assert sorted((hook.payload["summons"], hook.kind) for hook in hooks) == sorted(
        [(str(second.uuid), EventKind.ARRIVE_OVERDUE), (str(second.uuid), EventKind.ESCALATED)]
    )
    for summons in (first, second):
        assert len(events(summons, EventKind.ARRIVE_OVERDUE)) == 1
        assert len(events(summons, EventKind.ESCALATED)) == 1


def test_a_township_chief_deactivated_by_sql_between_two_chunks_is_not_told_by_the_next(
    city, monkeypatch
):
    # An e-mail address, so that the chief gets a message of their own besides the inbox
    # entry the township's command centre shares.
    Person.objects.filter(pk=city.township_chief.pk).update(email="chen@example.org")
    first, second = acknowledged(city), acknowledged(city)
    after_the_first_chunk(
        monkeypatch,
        "UPDATE organisation_person SET is_active = %s WHERE id = %s",
        [False, city.township_chief.pk],
    )
    sweep_at(T0 + 31 * MIN)
    told = Notification.objects.filter(
        kind=EventKind.ESCALATED, channel=Channel.EMAIL, recipient=city.township_chief
    )
    assert [message.payload["case"] for message in told] == [first.case.reference]
    # A deactivated account sees no entry its audiences share.
    assert inbox(EventKind.ESCALATED, city.township_chief) == []
    assert len(inbox(EventKind.ESCALATED, city.dispatcher)) == 2
    # The second summons was escalated all the same, and its department told.
    assert len(events(second, EventKind.ESCALATED)) == 1
    assert len(inbox(EventKind.ARRIVE_OVERDUE, city.officer)) == 2


def test_a_later_pass_reads_no_staff_again_while_the_directory_is_unchanged(city):
    acknowledged(city)
    assert sweep_at(T0 + 31 * MIN) == 1
    acknowledged(city)
    with CaptureQueriesContext(connection) as later:
        assert sweep_at(T0 + 31 * MIN) == 1
    people = [q["sql"] for q in later if '"organisation_person"' in q["sql"]]
    assert people == []
    assert len(inbox(EventKind.ESCALATED, city.township_chief)) == 2


def test_a_swept_events_stored_data_and_hash_agree_with_the_verifier(city):
    summons = acknowledged(city)
    assert sweep_at(T0 + 31 * MIN) == 1
    swept = events(summons, EventKind.ARRIVE_OVERDUE) + events(summons, EventKind.ESCALATED)
    assert len(swept) == 2
    for event in swept:
        assert event.data  # what the sweep recorded, read back from the database
        assert _row(event).computed_hash(str(summons.case.uuid)) == event.hash
    out = io.StringIO()
    with translation.override("en"):
        call_command("verify_trail", "--case", summons.case.reference, stdout=out)
    assert "intact" in out.getvalue()


def test_a_batched_events_data_is_stored_as_the_text_its_hash_covers(city):
    case = make_summons(city, T0).case
    data = {"zeta": [1, -0.0, 2.5], "地址": "人民市场东巷", "alpha": {"b": None, "a": True}}
    with time_machine.travel(T0, tick=False), transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        batch = trail.TrailBatch(Outbox())
        recorded = batch.record(
            locked, EventKind.ESCALATED, actor=None, role="system", at=T0, data=data
        )
        batch.flush()
    stored = Event.objects.get(case=case, seq=recorded.seq)
    assert stored.data == {
        "alpha": {"a": True, "b": None},
        "zeta": [1, 0.0, 2.5],
        "地址": "人民市场东巷",
    }
    assert stored.hash == recorded.hash
    assert _row(stored).computed_hash(str(case.uuid)) == stored.hash


def _row(event: Event) -> EventRow:
    return EventRow(
        seq=event.seq,
        at=event.at,
        kind=event.kind,
        actor=event.actor_id,
        role=event.actor_role,
        summons=str(event.summons.uuid) if event.summons is not None else None,
        data=event.data,
        lon=event.lon,
        lat=event.lat,
        prev_hash=event.prev_hash,
        hash=event.hash,
    )


# --- Supervision notices ----------------------------------------------------------------------


def make_notice(city: SweepCity, summons: Summons, due_at: datetime) -> SupervisionNotice:
    notice = SupervisionNotice(
        case=summons.case,
        department=city.department,
        summons=summons,
        issued_by=city.township_office,
        issued_at=T0 + 40 * MIN,
        text="请于今日12:00前完成围挡修复并书面答复",
        due_at=due_at,
    )
    notice.next_check_at = next_check_for_notice(notice)
    notice.save(force_insert=True)
    return notice


def test_an_unanswered_supervision_notice_is_recorded_overdue_once(city):
    summons = make_summons(city, T0, status=Summons.Status.DECLINED, acknowledged_at=T0 + MIN)
    Summons.objects.filter(pk=summons.pk).update(next_check_at=None)
    notice = make_notice(city, summons, due_at=T0 + 3 * 60 * MIN)
    assert notice.next_check_at == T0 + 3 * 60 * MIN + MICROSECOND
    assert sweep_at(T0 + 3 * 60 * MIN) == 0
    assert sweep_at(T0 + 3 * 60 * MIN + SEC) == 1
    sweep_at(T0 + 3 * 60 * MIN + SEC)
    sweep_at(T0 + 5 * 60 * MIN)
    notice.refresh_from_db()
    assert notice.overdue_at == T0 + 3 * 60 * MIN + SEC
    assert notice.next_check_at is None
    [event] = Event.objects.filter(kind=EventKind.SUPERVISION_OVERDUE)
    assert event.summons == summons
    assert event.data["notice"] == notice.pk
    assert readers(city, EventKind.SUPERVISION_OVERDUE) == {
        city.officer,
        city.department_head,
        city.township_office,
    }
    # The department's officers and head share one entry; the issuer has one by name.
    assert sorted(
        (n.audience or "", n.recipient_id or 0) for n in inbox(EventKind.SUPERVISION_OVERDUE)
    ) == [("", city.township_office.pk), (f"department:{city.department.pk}", 0)]


def test_a_supervision_notice_answered_in_time_is_never_overdue(city):
    summons = acknowledged(city)
    notice = make_notice(city, summons, due_at=T0 + 3 * 60 * MIN)
    SupervisionNotice.objects.filter(pk=notice.pk).update(
        answered_at=T0 + 2 * 60 * MIN, answer="已修复围挡"
    )
    sweep_at(T0 + 4 * 60 * MIN)
    notice.refresh_from_db()
    assert notice.overdue_at is None
    assert notice.next_check_at is None
    assert not Event.objects.filter(kind=EventKind.SUPERVISION_OVERDUE).exists()


# --- Exactly once -----------------------------------------------------------------------------


def snapshot() -> tuple[int, int, list[tuple]]:
    rows = list(
        Summons.objects.order_by("pk").values_list(
            "acknowledge_overdue_at",
            "arrive_overdue_at",
            "resolve_overdue_at",
            "escalated_to_township_at",
            "escalated_to_district_at",
        )
    )
    return Event.objects.count(), Notification.objects.count(), rows


def test_a_second_sweep_at_the_same_instant_records_nothing_new(city):
    make_summons(city, T0)
    acknowledged(city)
    now = T0 + 100 * MIN
    assert sweep_at(now) == 2
    before = snapshot()
    assert before[0] > 0
    assert sweep_at(now) == 0
    # Even when told to look again (as an action may do), the sweep finds nothing new.
    Summons.objects.update(next_check_at=now)
    assert sweep_at(now) == 2
    assert snapshot() == before


def test_a_failure_in_the_middle_of_a_row_leaves_nothing_behind_and_the_next_sweep_records_once(
    city, monkeypatch
):
    first = acknowledged(city)
    second = acknowledged(city)
    real_notify = deadlines.notify

    def dies_on_the_first(*args, **kwargs):
        if str(first.uuid) in kwargs["dedupe_key"]:
            raise RuntimeError("the process dies here")
        real_notify(*args, **kwargs)

    monkeypatch.setattr(deadlines, "notify", dies_on_the_first)
    assert sweep_at(T0 + 30 * MIN + SEC) == 1
    first.refresh_from_db()
    # The overdue event and field were written before the failure, and rolled back with it.
    assert first.arrive_overdue_at is None
    assert not Event.objects.filter(summons=first).exists()
    assert first.next_check_at == T0 + 15 * MIN  # as it was before the failed sweep
    assert len(events(second, EventKind.ARRIVE_OVERDUE)) == 1

    monkeypatch.setattr(deadlines, "notify", real_notify)
    sweep_at(T0 + 30 * MIN + 2 * SEC)
    sweep_at(T0 + 30 * MIN + 2 * SEC)
    assert len(events(first, EventKind.ARRIVE_OVERDUE)) == 1
    assert len(events(second, EventKind.ARRIVE_OVERDUE)) == 1
    assert escalations(first) == ["township"]
    assert Case.objects.get(pk=first.case_id).escalation == Case.Escalation.TOWNSHIP


def test_the_sweeps_events_keep_the_cases_hash_chain_valid(city):
    summons = make_summons(city, T0)
    case = summons.case
    with transaction.atomic():
        append_event(
            case,
            EventKind.SUMMONED,
            actor=city.dispatcher,
            actor_role="dispatcher",
            summons=summons,
            at=T0,
        )
    for minutes in (5, 11, 15, 25, 31, 71, 120, 300):
        sweep_at(T0 + minutes * MIN)
    case.refresh_from_db()
    assert case.events.count() == 10
    assert chain_is_valid(case)
    last = case.events.order_by("-seq").first()
    assert last is not None
    assert case.trail_head == last.hash


def test_two_summonses_of_one_case_overdue_at_once_follow_each_other_on_its_trail(city):
    first = acknowledged(city)
    case = first.case
    second = acknowledged(city, case=case)
    with transaction.atomic():
        append_event(
            case,
            EventKind.SUMMONED,
            actor=city.dispatcher,
            actor_role="dispatcher",
            summons=first,
            at=T0,
        )
    assert sweep_at(T0 + 31 * MIN) == 2
    case.refresh_from_db()
    trail = [(e.seq, e.kind, e.summons_id) for e in case.events.order_by("seq")]
    assert trail == [
        (1, EventKind.SUMMONED, first.pk),
        (2, EventKind.ARRIVE_OVERDUE, first.pk),
        (3, EventKind.ESCALATED, first.pk),
        (4, EventKind.ARRIVE_OVERDUE, second.pk),
        (5, EventKind.ESCALATED, second.pk),
    ]
    assert chain_is_valid(case)
    assert case.trail_length == 5
    assert case.trail_head == case.events.get(seq=5).hash
    assert case.escalation == Case.Escalation.TOWNSHIP


def test_a_chunk_of_five_overdue_summonses_takes_as_many_statements_as_one(city):
    acknowledged(city)
    with CaptureQueriesContext(connection) as one:
        assert sweep_at(T0 + 31 * MIN) == 1
    for _ in range(5):
        acknowledged(city)
    with CaptureQueriesContext(connection) as five:
        assert sweep_at(T0 + 31 * MIN) == 5
    # Not one more; fewer, as the second sweep finds the people to tell already read.
    assert len(five) <= len(one)
    assert Event.objects.filter(kind=EventKind.ARRIVE_OVERDUE).count() == 6
    assert len(inbox(EventKind.ESCALATED, city.township_chief)) == 6


def test_a_full_chunk_of_overdue_summonses_takes_as_many_statements_as_half_a_chunk(city):
    # Each row brings two events and five messages: a full chunk's inserts run well past
    # SQLite's 999 parameters of one statement, and still take one statement each.
    half = deadlines.CHUNK // 2
    for _ in range(half):
        acknowledged(city)
    with CaptureQueriesContext(connection) as fewer:
        assert sweep_at(T0 + 31 * MIN) == half
    for _ in range(2 * half):
        acknowledged(city)
    with CaptureQueriesContext(connection) as more:
        assert sweep_at(T0 + 31 * MIN) == 2 * half
    # Not one more; fewer, as the second sweep finds the people to tell already read.
    assert len(more) <= len(fewer)
    assert Event.objects.filter(kind=EventKind.ARRIVE_OVERDUE).count() == 3 * half
    assert len(inbox(EventKind.ESCALATED, city.township_chief)) == 3 * half
    assert len(inbox(EventKind.ARRIVE_OVERDUE, city.officer)) == 3 * half


def looked_up(monkeypatch) -> list[int]:
    """How many messages each look-up of the stored keys (`unqueued`) was given."""
    calls: list[int] = []
    unqueued = deadlines.unqueued

    def counted(rows):
        calls.append(len(rows))
        return unqueued(rows)

    monkeypatch.setattr(deadlines, "unqueued", counted)
    return calls


def test_a_chunk_of_new_messages_is_written_without_looking_up_their_keys(city, monkeypatch):
    calls = looked_up(monkeypatch)
    for _ in range(3):
        acknowledged(city)
    assert sweep_at(T0 + 31 * MIN) == 3
    assert len(inbox(EventKind.ESCALATED, city.township_chief)) == 3
    # On PostgreSQL the COPY went through at once; SQLite's inserts skip a conflict.
    assert calls == []


def test_a_message_already_queued_under_the_same_key_is_skipped_and_the_rest_written(
    city, caplog, monkeypatch
):
    calls = looked_up(monkeypatch)
    summons = acknowledged(city)
    Notification.objects.create(
        channel=Channel.INBOX,
        audience=f"department:{city.department.pk}",
        kind=EventKind.ARRIVE_OVERDUE,
        subject="到场已超时（先前写入）",
        dedupe_key=f"summons:{summons.uuid}:arrive:overdue",
    )
    assert sweep_at(T0 + 31 * MIN) == 1
    for person in (city.officer, city.department_head):
        assert [n.subject for n in inbox(EventKind.ARRIVE_OVERDUE, person)] == [
            "到场已超时（先前写入）"
        ]
    # The rest of the chunk's messages were written: the township's entry.
    assert len(inbox(EventKind.ESCALATED, city.township_chief)) == 1
    assert len(events(summons, EventKind.ARRIVE_OVERDUE)) == 1
    # Skipped, not refused: the chunk did not fail and go row by row. On PostgreSQL the
    # COPY was refused under its savepoint and sent again without the stored message.
    assert "a chunk of" not in caplog.text
    assert calls == ([2] if connection.vendor == "postgresql" else [])


def test_twice_as_many_overdue_supervision_notices_take_as_many_statements(city):
    def overdue_notices(count: int) -> None:
        for _ in range(count):
            summons = make_summons(
                city, T0, status=Summons.Status.DECLINED, acknowledged_at=T0 + MIN
            )
            Summons.objects.filter(pk=summons.pk).update(next_check_at=None)
            make_notice(city, summons, due_at=T0 + 3 * 60 * MIN)

    overdue_notices(3)
    with CaptureQueriesContext(connection) as fewer:
        assert sweep_at(T0 + 3 * 60 * MIN + SEC) == 3
    overdue_notices(6)
    with CaptureQueriesContext(connection) as more:
        assert sweep_at(T0 + 3 * 60 * MIN + SEC) == 6
    # Not one more; fewer, as the second sweep finds the people to tell already read.
    assert len(more) <= len(fewer)
    # The issuer hears of it besides the department, without a query of its own.
    assert len(inbox(EventKind.SUPERVISION_OVERDUE, city.township_office)) == 9


def test_a_pass_with_no_notice_review_or_reply_due_claims_none_of_them(city):
    """The kinds of row a pass rarely finds due are looked for together in one statement;
    a claim (and its transaction) follows only for a kind that has a row due."""
    acknowledged(city)
    with CaptureQueriesContext(connection) as seen:
        assert sweep_at(T0 + 31 * MIN) == 1
    rare = ("cases_supervisionnotice", "cases_hotlineorder", "backlog_review_reminder_at")
    looks = [q["sql"] for q in seen if any(name in q["sql"] for name in rare)]
    assert len(looks) == 1 and all(name in looks[0] for name in rare), looks
    assert "FOR UPDATE" not in looks[0].upper()
    # A notice falling due is still claimed and handled by the same pass.
    summons = make_summons(city, T0, status=Summons.Status.DECLINED, acknowledged_at=T0 + MIN)
    Summons.objects.filter(pk=summons.pk).update(next_check_at=None)
    make_notice(city, summons, due_at=T0 + 3 * 60 * MIN)
    with CaptureQueriesContext(connection) as seen:
        sweep_at(T0 + 3 * 60 * MIN + SEC)
    claims = [q["sql"] for q in seen if 'FROM "cases_supervisionnotice"' in q["sql"]]
    assert len(claims) >= 2, claims
    assert len(inbox(EventKind.SUPERVISION_OVERDUE, city.township_office)) == 1


# --- When to look again -----------------------------------------------------------------------


def test_next_check_walks_through_every_reminder_overdue_and_escalation_in_order(city):
    summons = make_summons(city, T0)
    seen = []
    moment = summons.next_check_at
    while moment is not None:
        seen.append(moment - T0)
        sweep_at(moment)
        summons.refresh_from_db()
        moment = summons.next_check_at
    assert seen == [
        5 * MIN,  # acknowledgement: half-time and 5 minutes before coincide
        10 * MIN + MICROSECOND,  # acknowledgement overdue, township escalation
        15 * MIN,  # arrival half-time
        25 * MIN,  # arrival 5 minutes before
        30 * MIN + MICROSECOND,  # arrival overdue
        70 * MIN + MICROSECOND,  # district escalation, an hour after the first overdue
        120 * MIN,  # resolution half-time
        235 * MIN,  # resolution 5 minutes before
        240 * MIN + MICROSECOND,  # resolution overdue
    ]
    kinds = [e.kind for e in Event.objects.filter(summons=summons).order_by("seq")]
    assert kinds.count(EventKind.REMINDER) == 5
    assert kinds.count(EventKind.ESCALATED) == 2
    assert [k for k in kinds if k in OVERDUE_KINDS] == list(OVERDUE_KINDS)


def test_next_check_for_ignores_what_is_met_and_what_is_recorded(city):
    summons = acknowledged(city)
    assert pending(summons) == [T0 + 30 * MIN, T0 + 4 * 60 * MIN]
    summons.arrived_at = T0 + 12 * MIN
    summons.status = Summons.Status.ON_SITE
    assert pending(summons) == [T0 + 4 * 60 * MIN]
    assert next_check_for(summons, T0 + 12 * MIN) == T0 + 2 * 60 * MIN
    summons.done_at = T0 + 60 * MIN
    summons.status = Summons.Status.DONE
    assert pending(summons) == []
    assert next_check_for(summons, T0 + 60 * MIN) is None


def pending(summons: Summons) -> list[datetime]:
    return deadlines.pending_deadlines(summons)


def test_a_reminder_policy_with_bad_entries_keeps_the_good_ones(city):
    city.policy.reminder_fractions = "0.5, abc, 1.5"
    city.policy.reminder_minutes_before = "5,-3,x"
    times = deadlines.reminder_times(T0, T0 + 30 * MIN, city.policy)
    assert times == [T0 + 15 * MIN, T0 + 25 * MIN]


@pytest.mark.parametrize(
    ("language", "fractions", "minutes"),
    [
        (
            "en",
            "Enter fractions between 0 and 1, comma-separated.",
            "Enter minutes, comma-separated.",
        ),
        ("zh-hans", "应为 0 到 1 之间的小数，逗号分隔。", "应为分钟数，逗号分隔。"),
    ],
)
def test_a_reminder_policy_with_bad_entries_is_refused_in_whole_sentences(
    city, language, fractions, minutes
):
    city.policy.reminder_fractions = "0.5, 1.5"
    city.policy.reminder_minutes_before = "5,x"
    with translation.override(language):
        with pytest.raises(ValidationError) as refused:
            city.policy.full_clean()
        assert refused.value.message_dict["reminder_fractions"] == [fractions]
        assert refused.value.message_dict["reminder_minutes_before"] == [minutes]


def test_a_district_without_a_policy_row_uses_the_defaults(city):
    city.policy.delete()
    summons = acknowledged(city)
    assert summons.next_check_at == T0 + 15 * MIN
    sweep_at(T0 + 91 * MIN)
    summons.refresh_from_db()
    assert summons.escalated_to_district_at == T0 + 91 * MIN


def test_sweeping_until_idle_takes_batch_after_batch_and_stops_when_nothing_is_left(city):
    acknowledged(city)
    acknowledged(city)
    with time_machine.travel(T0 + 31 * MIN, tick=False):
        assert deadlines.sweep_until_idle(batch=1) == 2
    assert Event.objects.filter(kind=EventKind.ARRIVE_OVERDUE).count() == 2


def test_rows_due_at_the_same_moment_are_claimed_a_chunk_at_a_time_by_id(city):
    # A whistle's departments share their deadlines: several summonses due together.
    case = make_case(city, T0)
    summonses = [acknowledged(city, case=case) for _ in range(5)]
    assert len({summons.next_check_at for summons in summonses}) == 1
    ids = sorted(summons.pk for summons in summonses)
    moment = T0 + 31 * MIN
    with transaction.atomic():
        first = [row.pk for row, _case in deadlines._claim(Summons, moment, limit=2)]
        rest = [row.pk for row, _case in deadlines._claim(Summons, moment, exclude=first, limit=10)]
    assert (first, rest) == (ids[:2], ids[2:])


@pytest.mark.parametrize(
    ("model", "index"),
    [
        (Summons, "summons_next_check"),
        (SupervisionNotice, "supervision_next_check"),
        (Case, "case_backlog_review"),
        (HotlineOrder, "hotline_reply_check"),
    ],
)
def test_each_claim_reads_its_rows_from_an_index_in_the_order_it_takes_them(db, model, index):
    """Each claim is served by an index of (moment, id) that holds only the rows with a
    moment: it reads the rows it takes and stops, however many more fell due at the same
    moment. Over an index of the moment alone PostgreSQL read every row due at that moment
    and sorted them (an incremental sort) to take one chunk."""
    sql, params = deadlines._due(model, T0, connection, exclude=[1, 2], only=None, limit=200)
    table = connection.ops.quote_name(model._meta.db_table)
    statement = f"SELECT {table}.{connection.ops.quote_name('id')} {sql}"
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The tables are empty: without this the planner would rather read them whole.
            cursor.execute("SET LOCAL enable_seqscan = off")
            # As the claim reads them (a bitmap and a sort otherwise: see the next test).
            with deadlines._in_index_order(connection):
                cursor.execute(f"EXPLAIN {statement}", params)
            plan = "\n".join(line for (line,) in cursor.fetchall())
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [index])
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {statement}", params)
            plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [index])
        (definition,) = cursor.fetchone()
    assert index in plan, plan
    assert "sort" not in plan.lower() and "b-tree" not in plan.lower(), plan
    assert "WHERE" in definition.upper() and "NOT NULL" in definition.upper(), definition


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_a_claim_and_only_the_claim_reads_without_bitmap_scans(city, monkeypatch):
    """The planner's statistics are gathered before a burst falls due: they say few rows
    are due, and a bitmap of the index and a sort of everything due then looks cheapest
    (docs/benchmarks.md). The claim turns bitmap scans off, so that the due rows are read
    in the index's order (the plan: the test above), and back on for the rest of the
    chunk's transaction."""
    for _ in range(3):
        acknowledged(city)
    seen = []
    claim = deadlines._claim_summonses

    def claim_and_look(*args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SHOW enable_bitmapscan")
            seen.append(cursor.fetchone()[0])
        return claim(*args, **kwargs)

    monkeypatch.setattr(deadlines, "_claim_summonses", claim_and_look)
    with transaction.atomic(), connection.cursor() as cursor:
        assert len(deadlines._claim(Summons, T0 + 31 * MIN, limit=200)) == 3
        cursor.execute("SHOW enable_bitmapscan")
        assert cursor.fetchone() == ("on",)
    assert seen == ["off"]
    assert sweep_at(T0 + 31 * MIN) == 3


# --- A connection the database drops under the sweep --------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_a_chunk_whose_connection_the_database_drops_is_done_again_on_a_new_one(monkeypatch):
    city = build_sweep_city()
    summons = acknowledged(city)
    handle = deadlines._process_summons
    dropped: list[int] = []
    handled: list[int] = []

    def drop_the_connection_once(row: Summons, case: Case, context: deadlines._Pass) -> bool:
        handled.append(row.pk)
        if not dropped:
            dropped.append(row.pk)
            drop_the_connection()
        return handle(row, case, context)

    monkeypatch.setattr(deadlines, "_process_summons", drop_the_connection_once)
    now = T0 + 30 * MIN + SEC
    assert sweep_at(now) == 1

    # Handled in the chunk that failed, then again on its own on a new connection.
    assert dropped == [summons.pk]
    assert handled == [summons.pk, summons.pk]
    summons.refresh_from_db()
    assert summons.arrive_overdue_at == now
    assert len(events(summons, EventKind.ARRIVE_OVERDUE)) == 1
    assert chain_is_valid(summons.case)


def test_the_next_check_the_sweep_stores_is_the_one_worked_out_afresh_from_the_row(city):
    # The sweep works out a row's points once and takes the next check from them; it must
    # be what `next_check_for` says of the row as written, at every step of every shape.
    chain = [
        {"target": ChainTarget.BACKUP, "before_due_us": 7 * 60 * 1_000_000},
        {"target": ChainTarget.DEPARTMENT_HEAD, "before_due_us": 4 * 60 * 1_000_000},
    ]
    shapes = [
        make_summons(city, T0),
        make_summons(city, T0, acknowledgement_chain=chain, on_duty_backup=city.officer),
        acknowledged(city),
        make_summons(city, T0, arrive_within=None),
        make_summons(
            city,
            T0,
            status=Summons.Status.ON_SITE,
            acknowledged_at=T0 + 12 * MIN,
            arrived_at=T0 + 40 * MIN,
        ),
    ]
    checked = 0
    for minutes in (1, 3, 5, 6, 8, 10, 11, 26, 31, 45, 71, 130, 236, 241, 300):
        moment = T0 + minutes * MIN
        sweep_at(moment)
        for summons in shapes:
            summons.refresh_from_db()
            assert summons.next_check_at == next_check_for(summons, moment), (minutes, summons)
            checked += 1
    assert checked == 75
    assert Event.objects.filter(kind=EventKind.CHAIN_STEP).count() == 2
    assert all(chain_is_valid(summons.case) for summons in shapes)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_the_last_events_of_a_chunks_cases_are_looked_up_a_case_at_a_time(city):
    """However small the statistics make the event table look (here it is), the last event
    of each case is one look-up of the (case, number) index: never a read of every event
    hashed against the cases, which the sweep would repeat for every chunk."""
    cases = [make_case(city, T0) for _ in range(3)]
    with transaction.atomic():
        for case in cases:
            append_event(case, EventKind.CASE_FILED, actor_role="dispatcher", at=T0)
            append_event(case, EventKind.WHISTLE_BLOWN, actor_role="dispatcher", at=T0 + SEC)
    sql, _reader = trail._tails_query(connection.alias)
    quote = connection.ops.quote_name
    chosen, params = among(
        connection, f"{quote('cases_case')}.{quote('id')}", Case, [c.pk for c in cases]
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_event")
        cursor.execute("ANALYZE cases_case")
        # The tables are a page each: a case's events would be read whole rather than by
        # the index, still once a case.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql % chosen}", params)
        plan = "\n".join(line for (line,) in cursor.fetchall())
    # A loop over the cases, each reading its own events by the (case, number) index (in
    # order or through a bitmap, as the statistics make it cheaper), never a hash of them all.
    assert "Nested Loop" in plan and "event_unique_seq" in plan, plan
    assert "Hash" not in plan and "Seq Scan on cases_event" not in plan, plan
    tails = trail._tails([case.pk for case in cases])
    assert {case.pk: tails[case.pk].seq for case in cases} == {case.pk: 2 for case in cases}


def test_a_claimed_row_holds_what_the_orm_reads_of_it(city):
    """The claim reads the summons and its case by hand: moments by the driver's own loader
    on PostgreSQL, the acknowledgement chain converted only when used. Each value, and each
    moment's zone offset, is what the ORM gives; the trail's last event is the ORM's too."""
    chain = [{"target": ChainTarget.BACKUP, "before_due_us": 7 * 60 * 1_000_000}]
    summons = make_summons(
        city,
        T0,
        acknowledgement_chain=chain,
        on_duty_backup=city.officer,
        acknowledged_at=T0 + 2 * MIN,
        status=Summons.Status.ACKNOWLEDGED,
    )
    append_in = summons.case
    with transaction.atomic():
        append_event(append_in, EventKind.CASE_FILED, actor_role="dispatcher", at=T0)
        append_event(append_in, EventKind.WHISTLE_BLOWN, actor_role="dispatcher", at=T0 + SEC)
    with transaction.atomic():
        [(claimed, case)] = deadlines._claim(Summons, T0 + 5 * 60 * MIN, limit=5)
        assert case is not None
        tails = trail._tails([case.pk, append_in.pk + 1000])
    stored = Summons.objects.get(pk=summons.pk)
    # Not converted yet: read raw, converted on first use (and then kept).
    assert "acknowledgement_chain" not in vars(claimed)
    assert claimed.acknowledgement_chain == chain == stored.acknowledgement_chain
    assert vars(claimed)["acknowledgement_chain"] == chain
    for name in deadlines._SUMMONS_COLUMNS:
        value = getattr(claimed, name)
        assert value == getattr(stored, name if name != "id" else "pk"), name
        if isinstance(value, datetime):
            assert value.utcoffset() == timedelta(0), name
    stored_case = Case.objects.get(pk=summons.case_id)
    for name in deadlines._CASE_COLUMNS:
        assert getattr(case, name) == getattr(stored_case, name), name
    last = Event.objects.filter(case=stored_case).order_by("-seq").first()
    assert last is not None and last.kind == EventKind.WHISTLE_BLOWN
    # A case without events has no tail.
    assert tails == {case.pk: trail._Tail(last.seq, last.hash, last.at)}
    moment = tails[case.pk].at
    assert moment is not None and moment.utcoffset() == timedelta(0)
    with pytest.raises(AttributeError):
        _ = claimed.not_a_column


@pytest.mark.django_db(transaction=True)
def test_a_pass_on_sqlite_keeps_to_the_calling_thread(settings):
    """SQLite lets one transaction write at a time: lanes would only wait for each other."""
    settings.WHISTLE_SWEEP_LANES = 2
    expected = 2 if connection.vendor == "postgresql" else 1
    assert deadlines.sweep_lanes(400) == expected


def test_the_sweeps_messages_are_read_in_the_readers_language_and_sent_in_the_deployments(city):
    """Written in Chinese (the deployment's language): the inbox shows an English reader the
    English words, duty and level included; the stored text, which is what leaves the
    system, stays Chinese."""

    summons = acknowledged(city)
    with translation.override("zh-hans"):
        sweep_at(T0 + 31 * MIN)
    [overdue] = inbox(EventKind.ARRIVE_OVERDUE, city.officer)
    [escalated] = inbox(EventKind.ESCALATED)[:1]
    reference = summons.case.reference
    assert "超时" in overdue.subject and "到场" in overdue.subject
    with translation.override("en"):
        shown = texts.subject_of(overdue.payload, overdue.subject)
        assert shown == (
            f"Overdue: {summons.department.name} did not arrive on site for case {reference} "
            "by 2026-05-12 09:30"
        )
        assert texts.subject_of(escalated.payload, escalated.subject).startswith(
            "Escalated to the township chiefs' office: "
        )
    with translation.override("zh-hans"):
        assert texts.subject_of(overdue.payload, overdue.subject) == overdue.subject
        assert texts.subject_of(escalated.payload, escalated.subject) == escalated.subject


def test_an_escalation_names_the_cases_place_as_the_pages_do(city):
    """The address; else the lane, else the community; else the point, longitude first."""
    community = Jurisdiction.objects.create(
        level="community", code="110101015001", name="西草市社区", parent=city.township
    )
    lanes = [
        Lane.objects.create(
            name=f"人民市场东巷{n}",
            township=city.township,
            centre_line={
                "type": "LineString",
                "coordinates": [[116.432, 39.872 + n / 1000], [116.433, 39.872 + n / 1000]],
            },
        )
        for n in range(5)
    ]
    by_address = acknowledged(city)
    by_lane = [
        acknowledged(city, case=make_case(city, T0, address="", lane=lane)) for lane in lanes
    ]
    by_community = acknowledged(city, case=make_case(city, T0, address="", community=community))
    by_point = acknowledged(city, case=make_case(city, T0, address="", lon=116.44575, lat=39.88485))
    sweep_at(T0 + 31 * MIN)

    def place(summons: Summons) -> str:
        reference = Case.objects.get(pk=summons.case_id).reference
        told = inbox(EventKind.ESCALATED, city.township_chief)
        [body] = [n.body for n in told if reference in n.subject]
        return body.split("\n")[0]

    assert place(by_address) == "人民市场东巷12号"
    assert [place(s) for s in by_lane] == [lane.name for lane in lanes]
    assert place(by_community) == "西草市社区"
    assert place(by_point) == "116.445750, 39.884850"


def test_the_cases_lanes_take_no_statement_of_their_own(city):
    plain = [acknowledged(city, case=make_case(city, T0, address="")) for _ in range(5)]
    with CaptureQueriesContext(connection) as without_lanes:
        assert sweep_at(T0 + 31 * MIN) == len(plain)
    for n in range(5):
        lane = lane_running_east(city.township, f"东四{n}条", 116.41, 39.92 + n / 1000, to=116.42)
        acknowledged(city, case=make_case(city, T0, address="", lane=lane))
    with CaptureQueriesContext(connection) as with_lanes:
        assert sweep_at(T0 + 31 * MIN) == 5
    assert len(with_lanes) <= len(without_lanes)
