"""Who is on duty: rotations across a handover, past midnight, on public holidays and moved
workdays (the 2026 National Day: 10-01 to 10-07 rest, Saturday 10-10 a working day), and
weekly turns; with exact boundaries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.fixtures_duty import DutyCity, bj, build_duty_city
from whistle.duty import actions
from whistle.duty.models import Rotation
from whistle.duty.schedule import Schedule, on_duty

MICROSECOND = timedelta(microseconds=1)


@pytest.fixture
def duty(db) -> DutyCity:
    return build_duty_city()


@pytest.fixture
def autumn(db) -> DutyCity:
    """Working days from Monday 09-28 (王芳 the first day shift), rest days from Saturday
    09-26 (孙丽 first), around the National Day holiday."""
    return build_duty_city(working_from=date(2026, 9, 28), rest_from=date(2026, 9, 26))


def who(duty: DutyCity, moment):
    [now] = [d.now for d in on_duty(duty.city.department, moment)]
    return now.person if now is not None else None


def test_the_day_shift_hands_over_to_the_night_shift_at_exactly_20_00(duty):
    # Tuesday 05-12: the third working-day shift is 钱伟's day, the fourth 王芳's night.
    assert who(duty, bj(2026, 5, 12, 19, 59, 59, microsecond=999999)) == duty.qian
    assert who(duty, bj(2026, 5, 12, 20, 0)) == duty.wang


def test_the_night_shift_belongs_to_its_evening_and_runs_until_the_morning_handover(duty):
    assert who(duty, bj(2026, 5, 12, 23, 59)) == duty.wang
    assert who(duty, bj(2026, 5, 13, 0, 30)) == duty.wang
    assert who(duty, bj(2026, 5, 13, 7, 59, 59)) == duty.wang
    assert who(duty, bj(2026, 5, 13, 8, 0)) == duty.zhao


def test_now_and_next_name_the_shift_and_the_one_after_it(duty):
    [board] = on_duty(duty.city.department, bj(2026, 5, 12, 15))
    assert board.now is not None and board.next is not None
    assert board.now.person == duty.qian
    assert (board.now.starts_at, board.now.ends_at) == (bj(2026, 5, 12, 8), bj(2026, 5, 12, 20))
    # The backup is the member whose turn comes next.
    assert board.now.backup == duty.wang
    assert board.next.person == duty.wang
    assert board.next.starts_at == bj(2026, 5, 12, 20)


def test_on_a_public_holiday_the_rest_day_rotation_applies_from_its_own_handover(autumn):
    # Wednesday 09-30 is a working day: its night (the sixth turn, 钱伟) runs until the
    # holiday's duty begins at 09:00, not at 08:00.
    assert who(autumn, bj(2026, 9, 30, 21)) == autumn.qian
    assert who(autumn, bj(2026, 10, 1, 8, 30)) == autumn.qian
    # 10-01 is the third rest day since 09-26 (09-26, 09-27, 10-01): 孙丽 again.
    assert who(autumn, bj(2026, 10, 1, 9, 0)) == autumn.sun
    assert who(autumn, bj(2026, 10, 1, 23, 59)) == autumn.sun
    assert who(autumn, bj(2026, 10, 2, 9, 0)) == autumn.zhou


def test_a_holiday_on_a_weekday_is_not_a_working_day_for_the_working_rotation(autumn):
    schedule = Schedule.load([autumn.roster], bj(2026, 10, 1), bj(2026, 10, 9))
    working = {
        s.day: s.is_working_day
        for s in schedule.shifts(autumn.roster, bj(2026, 10, 1), bj(2026, 10, 9))
    }
    assert working[date(2026, 10, 1)] is False  # Thursday, National Day
    assert working[date(2026, 10, 7)] is False  # Wednesday, holiday
    assert working[date(2026, 10, 8)] is True  # Thursday, back to work
    # The last holiday's duty runs until the first working day's 08:00 handover.
    assert who(autumn, bj(2026, 10, 8, 7, 59)) == autumn.sun  # 10-07: the ninth rest day
    assert who(autumn, bj(2026, 10, 8, 8, 0)) == autumn.wang  # the seventh working turn


def test_a_moved_workday_on_a_saturday_follows_the_working_day_rotation(autumn):
    # Saturday 10-10 is worked (调休): the working rotation's eleventh and twelfth turns.
    assert who(autumn, bj(2026, 10, 10, 10)) == autumn.zhao
    assert who(autumn, bj(2026, 10, 10, 21)) == autumn.qian
    # Sunday 10-11 rests again: the tenth rest day, from 09:00.
    assert who(autumn, bj(2026, 10, 11, 8, 59)) == autumn.qian
    assert who(autumn, bj(2026, 10, 11, 9, 0)) == autumn.zhou


def test_the_rest_day_backup_is_the_one_named_for_the_turn(autumn):
    [board] = on_duty(autumn.city.department, bj(2026, 10, 1, 12))
    assert board.now is not None
    assert board.now.person == autumn.sun
    assert board.now.backup == autumn.zhou  # named for 孙丽's turns
    [board] = on_duty(autumn.city.department, bj(2026, 10, 2, 12))
    assert board.now is not None
    assert board.now.backup == autumn.sun  # 周明's backup: the next member


def test_a_weekly_turn_passes_on_at_the_first_handover_of_the_week(db):
    duty = build_duty_city(rest_from=None)
    actions.remove_rotation(
        duty.city.department_head,
        duty.roster.rotations.get(days=Rotation.Days.WORKING_DAYS),
        now=bj(2026, 5, 1, 11),
    )
    actions.save_rotation(
        duty.city.department_head,
        duty.roster,
        days=Rotation.Days.EVERY_DAY,
        handovers="08:30",
        turn=Rotation.Turn.WEEK,
        starts_on=date(2026, 5, 4),  # a Monday
        members=[(duty.wang, None), (duty.zhao, None)],
        now=bj(2026, 5, 1, 12),
    )
    assert who(duty, bj(2026, 5, 11, 8, 29)) == duty.wang
    assert who(duty, bj(2026, 5, 11, 8, 30)) == duty.zhao
    assert who(duty, bj(2026, 5, 17, 23)) == duty.zhao
    assert who(duty, bj(2026, 5, 18, 8, 30)) == duty.wang


def test_before_a_rotation_begins_nobody_is_on_duty(duty):
    # The working-day rotation begins on 05-11; Friday 05-08 has no turn yet.
    assert who(duty, bj(2026, 5, 8, 10)) is None


def test_the_township_board_lists_its_own_roster_then_its_centre_members(db):
    from whistle.organisation.models import CentreMembership, Department

    duty = build_duty_city()
    city = duty.city
    police = Department.objects.create(
        code="dc-longtan-pcs",
        name="龙潭派出所",
        kind="dispatched",
        sector=city.department.sector,
        district=city.district,
    )
    CentreMembership.objects.create(
        township=city.township, department=police, role=CentreMembership.Role.STATIONED
    )
    core = CentreMembership.objects.create(
        township=city.township, department=city.department, role=CentreMembership.Role.CORE
    )
    core.people.add(duty.wang)
    at = bj(2026, 5, 1, 12)
    for department in (police, city.department):
        actions.start_roster(city.dispatcher, department=department, township=city.township, now=at)
    actions.start_roster(city.dispatcher, township=city.township, now=at)
    board = on_duty(city.township, bj(2026, 5, 12, 10))
    # The command centre first, then the core team before the stationed department.
    assert [d.roster.department_id for d in board] == [None, city.department.pk, police.pk]
    assert all(d.roster.township_id == city.township.pk for d in board)
