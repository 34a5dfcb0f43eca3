"""Replay of deadlines: every action that sets or moves a stored deadline records the new
due times in its trail event, `verify-trail` replays them and names a deadline changed
without an event.

On a frozen clock. T0 = Tuesday 12 May 2026, 09:00 Beijing time: 龙潭街道 files a case of
无照经营游商 and blows a routine whistle for 城管 and 派出所 (acknowledge within 10 minutes,
arrive within 30, resolve within 4 working hours). After each kind of change the deadlines
replayed from the trail are exactly those of the rows, every one of them known.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from tests.fixtures_cases import (
    beijing,
    device_fix,
    reported_case,
    trail_rows,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from tests.fixtures_street import ON_THE_LANE
from tests.test_duty_chain import T0 as NIGHT
from tests.test_duty_chain import chained, whistle_at  # noqa: F401  (fixture)
from whistle.cases import actions
from whistle.cases.deadlines import sweep
from whistle.cases.models import Case, Event, HotlineOrder, Summons
from whistle.cases.rules import CASE_DEADLINE_FIELDS, DEADLINE_FIELDS, ORDER_DEADLINE_FIELDS
from whistle.cases.trail import EventKind
from whistle.cases.verify import (
    EventRow,
    SummonsRow,
    replay_deadlines,
    replay_problems,
    verify_database,
)
from whistle.policies.models import BacklogResumeRule, CalendarDay, CalendarYear

T0 = beijing(2026, 5, 12, 9, 0)
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _parsed(values: dict[str, str | None]) -> dict[str, datetime | None]:
    return {k: None if v is None else datetime.fromisoformat(v) for k, v in values.items()}


def assert_replay_holds_every_deadline(case: Case) -> None:
    """Every stored deadline of the case, its work order and its summonses is known from the
    trail and equal to the row; and `verify_database` finds nothing wrong with the case."""
    case = Case.objects.get(pk=case.pk)
    replayed = replay_deadlines(trail_rows(case))
    assert _parsed(replayed.case) == {f: getattr(case, f) for f in CASE_DEADLINE_FIELDS}
    order = HotlineOrder.objects.filter(case=case).first()
    stored_order = {} if order is None else {f: getattr(order, f) for f in ORDER_DEADLINE_FIELDS}
    assert _parsed(replayed.hotline_order) == stored_order
    stored = {
        str(s.uuid): {f: getattr(s, f) for f in DEADLINE_FIELDS}
        for s in Summons.objects.filter(case_id=case.pk)
    }
    assert {uuid: _parsed(v) for uuid, v in replayed.summonses.items()} == stored
    assert replayed.moved_from_elsewhere == []
    report = verify_database(references=[case.reference])
    assert report.ok, [str(p) for p in report.problems]


def problems_of(case: Case) -> list[str]:
    with translation.override("en"):
        return [str(p) for p in verify_database(references=[case.reference]).problems]


@pytest.fixture
def whistled(whistle_city, clock):
    case, _whistle, summonses = whistled_case(whistle_city)
    return case, summonses[whistle_city.urban.pk], summonses[whistle_city.police.pk]


# Each kind of change ---------------------------------------------------------------------


def test_reporting_and_filing_leave_the_case_s_deadline_as_replayed(whistle_city, clock):
    case = reported_case(whistle_city)
    assert_replay_holds_every_deadline(case)  # no deadline yet, and the trail says so
    clock.move_to(T0 + 5 * MIN)
    case = actions.file_case(whistle_city.dispatcher, case, category=whistle_city.street_vending)
    assert case.resolve_due_at is not None
    assert_replay_holds_every_deadline(case)


def test_a_work_order_s_deadlines_are_replayed(whistle_city, clock):
    taken = actions.take_hotline_order(
        whistle_city.dispatcher,
        number="2026051200001",
        description="人民市场东巷有游商占道经营",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
        caller_name="王小明",
    )
    assert taken.order.respond_due_at is not None
    assert_replay_holds_every_deadline(taken.case)


def test_summoning_by_whistle_and_by_dispatch_is_replayed(whistle_city, clock, whistled):
    case, _urban, _police = whistled
    assert_replay_holds_every_deadline(case)
    other = reported_case(whistle_city)
    other = actions.file_case(whistle_city.dispatcher, other, category=whistle_city.street_vending)
    actions.dispatch_case(whistle_city.dispatcher, other, department=whistle_city.urban)
    assert Summons.objects.filter(case=other, arrive_due_at__isnull=True).count() == 1
    assert_replay_holds_every_deadline(other)


def test_rework_renews_the_deadlines_as_replayed(whistle_city, clock, whistled):
    city = whistle_city
    case, urban, police = whistled
    clock.move_to(T0 + 5 * MIN)
    actions.acknowledge(city.urban_officer, urban)
    actions.acknowledge(city.police_officer, police)
    clock.move_to(T0 + 20 * MIN)
    actions.check_in(city.urban_officer, urban, **device_fix())
    actions.check_in(city.police_officer, police, **device_fix())
    clock.move_to(T0 + 40 * MIN)
    actions.report_result(city.urban_officer, urban, result="游商已劝离")
    actions.report_result(city.police_officer, police, result="已配合处置")
    actions.mark_handled(city.dispatcher, case)
    clock.move_to(T0 + 50 * MIN)
    actions.check_out(city.urban_officer, urban, **device_fix())  # 城管 must come back
    clock.move_to(T0 + 2 * HOUR)
    before = Summons.objects.get(pk=urban.pk).arrive_due_at
    actions.send_back_for_rework(city.dispatcher, case, reason="仍有游商")
    urban.refresh_from_db()
    police.refresh_from_db()
    assert urban.arrive_due_at != before  # a new round, with a new arrival deadline
    assert police.status == Summons.Status.ON_SITE  # still there: no new arrival deadline
    assert_replay_holds_every_deadline(case)


def test_the_backlog_pause_and_a_resumption_keeping_the_remaining_time_are_replayed(
    whistle_city, clock, whistled
):
    city = whistle_city
    case, urban, _police = whistled
    clock.move_to(T0 + 5 * MIN)
    actions.acknowledge(city.urban_officer, urban)
    clock.move_to(T0 + 20 * MIN)
    case = actions.put_on_backlog(
        city.dispatcher, case, reason="需区里协调拆除", review_on=date(2026, 5, 20)
    )
    assert_replay_holds_every_deadline(case)
    clock.move_to(T0 + timedelta(days=3))
    before = Summons.objects.get(pk=urban.pk).arrive_due_at
    case = actions.resume_from_backlog(city.dispatcher, case)
    assert Summons.objects.get(pk=urban.pk).arrive_due_at != before
    assert_replay_holds_every_deadline(case)


def test_a_resumption_with_fresh_limits_is_replayed(whistle_city, clock, whistled):
    city = whistle_city
    city.policy.backlog_resume_rule = BacklogResumeRule.FRESH_LIMITS
    city.policy.save(update_fields=["backlog_resume_rule"])
    case, _urban, _police = whistled
    clock.move_to(T0 + 20 * MIN)
    case = actions.put_on_backlog(
        city.dispatcher, case, reason="需区里协调拆除", review_on=date(2026, 5, 20)
    )
    clock.move_to(T0 + timedelta(days=2))
    case = actions.resume_from_backlog(city.dispatcher, case)
    assert case.resolve_due_at is not None and case.resolve_due_at > T0 + timedelta(days=2)
    assert_replay_holds_every_deadline(case)


def test_a_calendar_recomputation_is_replayed(whistle_city, clock):
    filed = beijing(2026, 12, 31, 16, 0)
    clock.move_to(filed)
    case, _whistle, _summonses = whistled_case(whistle_city)
    assert Case.objects.get(pk=case.pk).assumed_calendar  # reaches into 2027, unknown
    CalendarDay.objects.create(date=date(2027, 1, 1), is_workday=False, name="元旦")
    CalendarYear.objects.create(year=2027, source="国务院办公厅通知")
    clock.move_to(filed + 10 * MIN)
    summary = actions.recompute_assumed_deadlines(years=[2027], trigger="command")
    assert summary.changed > 0
    assert_replay_holds_every_deadline(case)


def test_the_sweep_s_overdue_reminders_and_escalations_move_no_deadline(
    whistle_city, clock, whistled
):
    case, _urban, _police = whistled
    for later in (5 * MIN, 11 * MIN, 31 * MIN, 3 * HOUR, timedelta(days=2)):
        clock.move_to(T0 + later)
        sweep(timezone.now(), batch=100)
    kinds = set(Event.objects.filter(case=case).values_list("kind", flat=True))
    assert {EventKind.ACKNOWLEDGE_OVERDUE, EventKind.ESCALATED} <= kinds
    assert_replay_holds_every_deadline(case)


def test_the_acknowledgement_chain_s_steps_move_no_deadline(chained):  # noqa: F811
    summons = whistle_at(chained, NIGHT)
    with time_machine.travel(NIGHT + 9 * MIN, tick=False):
        sweep(timezone.now(), batch=100)
    assert Event.objects.filter(summons=summons, kind=EventKind.CHAIN_STEP).count() == 3
    assert_replay_holds_every_deadline(summons.case)


# A deadline changed without an event ----------------------------------------------------


def test_a_summons_deadline_moved_in_the_database_is_named(whistle_city, clock, whistled):
    case, urban, _police = whistled
    later = urban.arrive_due_at + HOUR
    Summons.objects.filter(pk=urban.pk).update(arrive_due_at=later)
    [problem] = problems_of(case)
    assert problem == (
        f"case {case.reference}: summons {urban.uuid} has arrive_due_at {later.isoformat()} but "
        f"its trail leaves it {urban.arrive_due_at.isoformat()}: the deadline was changed "
        "without an event"
    )
    with pytest.raises(CommandError) as failed, translation.override("en"):
        call_command("verify_trail", stdout=io.StringIO(), stderr=io.StringIO())
    assert f"summons {urban.uuid} has arrive_due_at" in str(failed.value)


def test_a_case_deadline_and_a_work_order_deadline_moved_in_the_database_are_named(
    whistle_city, clock, whistled
):
    case, _urban, _police = whistled
    Case.objects.filter(pk=case.pk).update(resolve_due_at=case.resolve_due_at + HOUR)
    assert [p.split(": ", 1)[1].split(" is ")[0] for p in problems_of(case)] == [
        "the case's resolve_due_at"
    ]
    taken = actions.take_hotline_order(
        whistle_city.dispatcher,
        number="2026051200002",
        description="人民市场东巷有游商占道经营",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
        caller_name="王小明",
    )
    HotlineOrder.objects.filter(pk=taken.order.pk).update(respond_due_at=T0 + timedelta(days=30))
    [problem] = problems_of(taken.case)
    assert "the case's work order has respond_due_at" in problem
    assert "the deadline was changed without an event" in problem


def test_a_deadline_moved_in_the_database_and_then_moved_by_an_action_is_named(
    whistle_city, clock, whistled
):
    """Resuming moves the tampered deadline on, and records it: the move starts from a value
    the trail never left, and that event is named."""
    city = whistle_city
    case, urban, _police = whistled
    clock.move_to(T0 + 20 * MIN)
    case = actions.put_on_backlog(
        city.dispatcher, case, reason="需区里协调拆除", review_on=date(2026, 5, 20)
    )
    Summons.objects.filter(pk=urban.pk).update(resolve_due_at=urban.resolve_due_at + HOUR)
    clock.move_to(T0 + timedelta(days=1))
    actions.resume_from_backlog(city.dispatcher, case)
    [problem] = problems_of(case)
    assert f"({EventKind.BACKLOG_RESUMED}): the event moved resolve_due_at of summons" in problem
    assert "the deadline was changed without an event before it" in problem


# Events written before they recorded their deadlines ------------------------------------


def _event(seq: int, kind: str, data: dict[str, Any], summons: str | None = None) -> EventRow:
    at = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=seq)
    return EventRow(seq, at, kind, None, "system", summons, data, None, None, "", "")


def test_old_events_without_due_times_raise_no_false_alarm():
    """A trail from before events recorded their deadlines: nothing is known of them, so
    nothing is compared, whatever the rows hold."""
    old = [
        _event(1, EventKind.CASE_REPORTED, {"changes": {"status": [None, "reported"]}}),
        _event(2, EventKind.CASE_FILED, {"resolve_due_at": "2025-01-01T08:00:00+00:00"}),
        _event(3, EventKind.SUMMONED, {"resolve_due_at": "2025-01-01T08:00:00+00:00"}, "s-1"),
    ]
    row_due = {"resolve_due_at": datetime(2025, 3, 1, tzinfo=UTC)}
    summons = _summons_row("s-1", {f: datetime(2025, 3, 1, tzinfo=UTC) for f in DEADLINE_FIELDS})
    assert replay_problems("X", old, "reported", [summons], None, row_due) == []


def test_an_old_event_forgets_what_earlier_due_times_said_and_a_later_one_is_compared():
    due = "2025-01-02T00:00:00+00:00"
    trail = [
        _event(1, EventKind.CASE_REPORTED, {"due_times": {"case": {"resolve_due_at": due}}}),
        # Written before due times: it may have moved the case's deadline.
        _event(2, EventKind.BACKLOG_RESUMED, {"rule": "remaining_time"}),
    ]
    moved = {"resolve_due_at": datetime(2025, 2, 1, tzinfo=UTC)}
    assert replay_problems("X", trail, "filed", [], None, moved) == []
    trail.append(_event(3, EventKind.CASE_FILED, {"due_times": {"case": {"resolve_due_at": due}}}))
    [problem] = replay_problems("X", trail, "filed", [], None, moved)
    assert problem.code == "replay" and problem.params["field"] == "resolve_due_at"


def _summons_row(uuid: str, deadlines: Mapping[str, datetime | None]) -> SummonsRow:
    return SummonsRow(uuid, "summoned", None, None, None, deadlines)
