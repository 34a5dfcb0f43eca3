"""The open backlog (挂账): a case's deadlines pause while it is on it, its review date
reminds the township once, and resuming starts the clock again by the district's rule.

On a frozen clock, with the actions. T0 = Tuesday 12 May 2026, 09:00 Beijing time: 龙潭街道
blows a routine whistle for 城管 and 派出所 (acknowledge within 10 minutes, arrive within 30,
resolve within 4 working hours: by 14:30); the case is put on the backlog at 09:20, before
the arrival is due, with a review on Wednesday 20 May.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.fixtures_cases import (
    beijing,
    device_fix,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from whistle.cases import actions
from whistle.cases.deadlines import sweep
from whistle.cases.models import Case, Event
from whistle.cases.trail import EventKind
from whistle.notifications.models import Channel, Notification
from whistle.notifications.outbox import inbox
from whistle.policies.calendar import deadline_after
from whistle.policies.models import BacklogResumeRule, DurationUnit

T0 = beijing(2026, 5, 12, 9, 0)
MIN = timedelta(minutes=1)
MICROSECOND = timedelta(microseconds=1)
ON_THE_BACKLOG = T0 + 20 * MIN
REVIEW_ON = date(2026, 5, 20)
# Three days on the backlog, to the minute.
RESUMED = ON_THE_BACKLOG + timedelta(days=3)
SWEEP_KINDS = (
    EventKind.ACKNOWLEDGE_OVERDUE,
    EventKind.ARRIVE_OVERDUE,
    EventKind.RESOLVE_OVERDUE,
    EventKind.REMINDER,
    EventKind.ESCALATED,
    EventKind.SUPERVISION_OVERDUE,
)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def sweep_at(clock, moment: datetime) -> int:
    clock.move_to(moment)
    return sweep(timezone.now(), batch=500)


def utc(moment: datetime) -> str:
    """A moment as the actions write it in the trail."""
    return moment.astimezone(UTC).isoformat()


def swept(moment: datetime) -> str:
    """A moment as the sweep writes it in the trail."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@pytest.fixture
def backlog(whistle_city, clock):
    """The whistled case, both departments acknowledged at 09:05, a supervision notice to 城管
    due at 10:15, and the case on the backlog at 09:20."""
    city = whistle_city
    case, _whistle, summonses = whistled_case(city)
    urban, police = summonses[city.urban.pk], summonses[city.police.pk]
    clock.move_to(T0 + 5 * MIN)
    actions.acknowledge(city.urban_officer, urban)
    actions.acknowledge(city.police_officer, police)
    clock.move_to(T0 + 15 * MIN)
    notice = actions.issue_supervision_notice(
        city.township_office,
        case,
        department=city.urban,
        text="请尽快到场处置",
        due_at=T0 + 75 * MIN,
    )
    clock.move_to(ON_THE_BACKLOG)
    case = actions.put_on_backlog(
        city.dispatcher, case, reason="需区里协调拆除", review_on=REVIEW_ON
    )
    return case, urban, police, notice


def refresh(*rows):
    for row in rows:
        row.refresh_from_db()


# While on the backlog ---------------------------------------------------------------------


def test_nothing_is_recorded_while_on_the_backlog_when_the_sweep_runs_past_the_old_deadlines(
    whistle_city, clock, backlog
):
    case, urban, police, notice = backlog
    refresh(urban, police, notice)
    # The sweep does not even claim them.
    assert [urban.next_check_at, police.next_check_at, notice.next_check_at] == [None] * 3
    for moment in (
        T0 + 30 * MIN + MICROSECOND,  # the old arrival deadline
        T0 + 75 * MIN + MICROSECOND,  # the notice's
        T0 + 91 * MIN,  # the district escalation an overdue arrival would have had
        beijing(2026, 5, 12, 14, 30) + MICROSECOND,  # the old resolve deadline
        beijing(2026, 5, 14, 9, 0),
    ):
        assert sweep_at(clock, moment) == 0
    assert not Event.objects.filter(case=case, kind__in=SWEEP_KINDS).exists()
    assert not Notification.objects.filter(kind__in=SWEEP_KINDS).exists()
    case.refresh_from_db()
    assert case.escalation == ""


def test_an_action_on_a_summons_while_on_the_backlog_keeps_it_paused(whistle_city, clock):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city, departments=[city.police])
    police = summonses[city.police.pk]
    clock.move_to(T0 + 5 * MIN)
    actions.put_on_backlog(city.dispatcher, case, reason="待协调", review_on=REVIEW_ON)
    clock.move_to(T0 + 8 * MIN)
    actions.acknowledge(city.police_officer, police)
    police.refresh_from_db()
    assert police.next_check_at is None
    assert sweep_at(clock, T0 + 31 * MIN) == 0


# The review date --------------------------------------------------------------------------


def test_the_review_date_reminds_the_township_once_at_the_opening_of_the_day(
    whistle_city, clock, backlog
):
    city = whistle_city
    case = backlog[0]
    opening = beijing(2026, 5, 20, 9, 0)
    assert case.backlog_review_reminder_at == opening
    assert sweep_at(clock, opening - MICROSECOND) == 0
    assert not Event.objects.filter(kind=EventKind.BACKLOG_REVIEW_DUE).exists()

    assert sweep_at(clock, opening) == 1
    [event] = Event.objects.filter(kind=EventKind.BACKLOG_REVIEW_DUE)
    assert (event.case_id, event.at, event.actor, event.actor_role) == (
        case.pk,
        opening,
        None,
        "system",
    )
    assert event.data == {"review_on": "2026-05-20", "reminder_at": swept(opening)}
    # One entry, shared by the township's dispatchers and chief; each sees it.
    told = Notification.objects.filter(kind=EventKind.BACKLOG_REVIEW_DUE, channel=Channel.INBOX)
    assert list(told.values_list("audience", flat=True)) == [f"township-desk:{case.township_id}"]
    for person in (city.dispatcher, city.township_chief):
        assert inbox(person).filter(kind=EventKind.BACKLOG_REVIEW_DUE).count() == 1
    assert told[0].link == f"/cases/{case.reference}/"

    assert sweep_at(clock, opening) == 0
    assert sweep_at(clock, opening + timedelta(hours=3)) == 0
    assert Event.objects.filter(kind=EventKind.BACKLOG_REVIEW_DUE).count() == 1
    assert told.count() == 1
    case.refresh_from_db()
    assert (case.status, case.backlog_review_reminder_at) == (Case.Status.BACKLOG, None)


def test_the_review_reminder_follows_the_district_s_working_day(whistle_city, clock):
    city = whistle_city
    city.policy.working_periods = "08:30-12:00,13:30-17:30"
    city.policy.save(update_fields=["working_periods"])
    case, _whistle, _summonses = whistled_case(city)
    case = actions.put_on_backlog(city.dispatcher, case, reason="待协调", review_on=REVIEW_ON)
    assert case.backlog_review_reminder_at == beijing(2026, 5, 20, 8, 30)


def test_a_case_resumed_before_its_review_date_is_not_reminded(whistle_city, clock, backlog):
    case = backlog[0]
    clock.move_to(RESUMED)
    case = actions.resume_from_backlog(whistle_city.dispatcher, case)
    assert case.backlog_review_reminder_at is None
    sweep_at(clock, beijing(2026, 5, 20, 9, 0))
    assert not Event.objects.filter(kind=EventKind.BACKLOG_REVIEW_DUE).exists()


# Resuming: remaining time (the default) ---------------------------------------------------


def test_resuming_keeps_the_remaining_time_and_records_old_and_new_deadlines(
    whistle_city, clock, backlog
):
    city = whistle_city
    case, urban, police, notice = backlog
    assert city.policy.backlog_resume_rule == BacklogResumeRule.REMAINING_TIME
    clock.move_to(RESUMED)
    case = actions.resume_from_backlog(city.dispatcher, case, note="协调完毕")
    refresh(urban, police, notice)
    paused = RESUMED - ON_THE_BACKLOG
    assert paused == timedelta(days=3)
    assert urban.arrive_due_at == T0 + 30 * MIN + paused
    assert urban.resolve_due_at == beijing(2026, 5, 15, 14, 30)
    assert case.resolve_due_at == beijing(2026, 5, 15, 14, 30)
    assert notice.due_at == T0 + 75 * MIN + paused
    # The acknowledgement was met before the backlog: it stays as it was.
    assert urban.acknowledge_due_at == T0 + 10 * MIN
    [resumed] = Event.objects.filter(case=case, kind=EventKind.BACKLOG_RESUMED)
    assert resumed.data["rule"] == "remaining_time"
    assert resumed.data["paused_minutes"] == 3 * 24 * 60
    assert resumed.data["changes"]["resolve_due_at"] == [
        utc(beijing(2026, 5, 12, 14, 30)),
        utc(beijing(2026, 5, 15, 14, 30)),
    ]
    entry = next(r for r in resumed.data["summonses"] if r["summons"] == str(urban.uuid))
    assert entry["arrive_due_at"] == [utc(T0 + 30 * MIN), utc(T0 + 30 * MIN + paused)]
    assert "acknowledge_due_at" not in entry
    assert resumed.data["notices"] == [
        {
            "notice": notice.pk,
            "department": city.urban.code,
            "due_at": [utc(T0 + 75 * MIN), utc(T0 + 75 * MIN + paused)],
        }
    ]
    told = Notification.objects.filter(kind=EventKind.BACKLOG_RESUMED, channel=Channel.INBOX)
    assert {n.recipient for n in told} >= {city.urban_officer, city.police_officer}


def test_after_resuming_the_moved_deadline_turns_overdue_at_its_new_boundary(
    whistle_city, clock, backlog
):
    case, urban, _police, _notice = backlog
    clock.move_to(RESUMED)
    actions.resume_from_backlog(whistle_city.dispatcher, case)
    new_arrival = T0 + 30 * MIN + timedelta(days=3)
    urban.refresh_from_db()
    assert urban.next_check_at is not None
    # Reminder points that fell while the case was paused are not sent late.
    sweep_at(clock, RESUMED + MIN)
    assert not Event.objects.filter(kind=EventKind.REMINDER).exists()
    # The reminder five minutes before the new deadline goes out, for each department.
    sweep_at(clock, new_arrival - 5 * MIN)
    reminders = Event.objects.filter(kind=EventKind.REMINDER)
    assert [e.data["reminder_at"] for e in reminders] == [swept(new_arrival - 5 * MIN)] * 2
    sweep_at(clock, new_arrival)
    assert not Event.objects.filter(kind=EventKind.ARRIVE_OVERDUE).exists()
    sweep_at(clock, new_arrival + MICROSECOND)
    overdue = Event.objects.filter(kind=EventKind.ARRIVE_OVERDUE, summons=urban)
    assert [e.data["due_at"] for e in overdue] == [swept(new_arrival)]


def test_an_obligation_overdue_before_the_backlog_escalates_to_the_district_only_after_the_pause(
    whistle_city, clock
):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city, departments=[city.police])
    police = summonses[city.police.pk]
    sweep_at(clock, T0 + 11 * MIN)  # the acknowledgement is recorded overdue
    police.refresh_from_db()
    assert police.escalated_to_township_at == T0 + 11 * MIN
    clock.move_to(ON_THE_BACKLOG)
    case = actions.put_on_backlog(city.dispatcher, case, reason="待协调", review_on=REVIEW_ON)
    clock.move_to(RESUMED)
    actions.resume_from_backlog(city.dispatcher, case)
    # 60 minutes after the overdue instant, moved by the three days on the backlog.
    district_at = T0 + 10 * MIN + MICROSECOND + 60 * MIN + timedelta(days=3)
    sweep_at(clock, district_at - MICROSECOND)
    assert not Event.objects.filter(kind=EventKind.ESCALATED, data__level="district").exists()
    sweep_at(clock, district_at)
    assert Event.objects.filter(kind=EventKind.ESCALATED, data__level="district").count() == 1
    # The acknowledgement overdue is recorded once, before the backlog.
    assert Event.objects.filter(kind=EventKind.ACKNOWLEDGE_OVERDUE, summons=police).count() == 1


# Resuming: fresh limits ------------------------------------------------------------------


def test_resuming_with_fresh_limits_counts_the_full_limits_again_from_the_resumption(
    whistle_city, clock
):
    city = whistle_city
    city.policy.backlog_resume_rule = BacklogResumeRule.FRESH_LIMITS
    city.policy.save(update_fields=["backlog_resume_rule"])
    case, _whistle, summonses = whistled_case(city)
    urban, police = summonses[city.urban.pk], summonses[city.police.pk]
    clock.move_to(T0 + 5 * MIN)
    actions.acknowledge(city.urban_officer, urban)
    sweep_at(clock, T0 + 11 * MIN)  # 派出所's acknowledgement is recorded overdue
    clock.move_to(ON_THE_BACKLOG)
    case = actions.put_on_backlog(city.dispatcher, case, reason="待协调", review_on=REVIEW_ON)
    clock.move_to(RESUMED)
    case = actions.resume_from_backlog(city.dispatcher, case)
    refresh(urban, police)
    assert urban.arrive_due_at == RESUMED + 30 * MIN
    # 4 working hours from Friday 09:20: 2 h 40 min to 12:00, 1 h 20 min from 13:30.
    assert urban.resolve_due_at == beijing(2026, 5, 15, 14, 50)
    assert urban.resolve_due_at == deadline_after(RESUMED, 4, DurationUnit.WORKING_HOURS, None)
    assert case.resolve_due_at == beijing(2026, 5, 15, 14, 50)
    assert urban.acknowledge_due_at == T0 + 10 * MIN  # met before the backlog
    assert police.acknowledge_due_at == RESUMED + 10 * MIN
    # A new deadline is a new chance: the acknowledgement is watched again.
    assert police.acknowledge_overdue_at is None
    [resumed] = Event.objects.filter(kind=EventKind.BACKLOG_RESUMED)
    assert resumed.data["rule"] == "fresh_limits"
    entry = next(r for r in resumed.data["summonses"] if r["summons"] == str(police.uuid))
    assert entry["acknowledge_due_at"] == [utc(T0 + 10 * MIN), utc(RESUMED + 10 * MIN)]
    sweep_at(clock, RESUMED + 10 * MIN)
    assert Event.objects.filter(kind=EventKind.ACKNOWLEDGE_OVERDUE).count() == 1
    sweep_at(clock, RESUMED + 10 * MIN + MICROSECOND)
    assert Event.objects.filter(kind=EventKind.ACKNOWLEDGE_OVERDUE).count() == 2
    # Each level is reached once per summons: the township heard of it before the backlog.
    assert Event.objects.filter(kind=EventKind.ESCALATED, data__level="township").count() == 1


def test_resuming_moves_nothing_for_a_department_that_has_done_its_part(whistle_city, clock):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city)
    police = summonses[city.police.pk]
    clock.move_to(T0 + 5 * MIN)
    actions.release(city.dispatcher, police)
    clock.move_to(ON_THE_BACKLOG)
    case = actions.put_on_backlog(city.dispatcher, case, reason="待协调", review_on=REVIEW_ON)
    clock.move_to(RESUMED)
    actions.resume_from_backlog(city.dispatcher, case)
    before = police.resolve_due_at
    police.refresh_from_db()
    assert police.resolve_due_at == before
    [resumed] = Event.objects.filter(kind=EventKind.BACKLOG_RESUMED)
    assert [r["department"] for r in resumed.data["summonses"]] == [city.urban.code]


def test_an_arrival_made_on_the_backlog_after_the_old_deadline_is_never_recorded_overdue(
    client, whistle_city, clock, backlog
):
    city = whistle_city
    case, urban, police, _notice = backlog
    # 城管 comes at 11:00, while the case is on the backlog, after its old deadline (09:30).
    clock.move_to(T0 + 120 * MIN)
    actions.check_in(city.urban_officer, urban, **device_fix())
    clock.move_to(RESUMED)
    actions.resume_from_backlog(city.dispatcher, case)
    urban.refresh_from_db()
    # Its deadline moves with the pause, like the deadlines still owed.
    assert urban.arrive_due_at == T0 + 30 * MIN + (RESUMED - ON_THE_BACKLOG)
    [resumed] = Event.objects.filter(kind=EventKind.BACKLOG_RESUMED)
    moved = {r["department"]: r for r in resumed.data["summonses"]}
    assert moved[city.urban.code]["arrive_due_at"] == [
        utc(T0 + 30 * MIN),
        utc(urban.arrive_due_at),
    ]
    sweep_at(clock, RESUMED + timedelta(days=1))
    assert not Event.objects.filter(summons=urban, kind=EventKind.ARRIVE_OVERDUE).exists()
    assert Event.objects.filter(summons=police, kind=EventKind.ARRIVE_OVERDUE).exists()
    # The case page says it was done on time.
    client.force_login(city.dispatcher)
    html = client.get(f"/cases/{case.reference}/").content.decode()
    card = html[html.index(f'id="summons-{urban.uuid.hex}"') :]
    card = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", card[: card.index("</article>")]))
    assert "11:00 完成，准时" in card


def test_resuming_tells_only_departments_that_still_owe_something(whistle_city, clock, backlog):
    city = whistle_city
    case, urban, _police, _notice = backlog
    clock.move_to(T0 + 120 * MIN)
    actions.check_in(city.urban_officer, urban, **device_fix())
    actions.report_result(city.urban_officer, urban, result="已清理")
    clock.move_to(RESUMED)
    actions.resume_from_backlog(city.dispatcher, case)
    told = set(
        Notification.objects.filter(kind=EventKind.BACKLOG_RESUMED).values_list(
            "recipient__username", flat=True
        )
    )
    assert "police-officer" in told
    assert not told & {"urban-officer", "urban-head"}


def test_the_case_page_reads_the_backlog_in_words(client, whistle_city, clock, backlog):
    city = whistle_city
    case, _urban, _police, _notice = backlog
    sweep_at(clock, beijing(2026, 5, 20, 9, 0))
    clock.move_to(beijing(2026, 5, 20, 10, 0))
    actions.resume_from_backlog(city.dispatcher, case)
    client.force_login(city.dispatcher)
    html = client.get(f"/cases/{case.reference}/").content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "挂账复查到期" in text
    assert "销账后的时限 剩余时间：时限顺延挂账期间的时长" in text
    assert "暂停时长 192 小时 40 分钟" in text
    assert "东城区城管执法局 · 到场时限 2026-05-12 09:30 → 2026-05-20 10:10" in text
    assert "督办 · 东城区城管执法局 2026-05-12 10:15 → 2026-05-20 10:55" in text


def test_the_case_page_shows_the_departments_deadlines_paused(client, whistle_city, clock, backlog):
    case = backlog[0]
    clock.move_to(T0 + timedelta(hours=2))  # past the old arrival deadline
    client.force_login(whistle_city.dispatcher)
    html = client.get(f"/cases/{case.reference}/").content.decode()
    section = html[
        html.index('id="summonses"') : html.index("</section>", html.index('id="summonses"'))
    ]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))
    assert text.count("挂账暂停（原定 05-12 09:30 到期）") == 2
    assert "已超时" not in text
