"""A department with a duty roster, on the small city of the deadline sweep: 东城区城管执法局's
officers take turns, a day shift 08:00–20:00 and a night shift 20:00–08:00 on working days,
and one 24-hour duty from 09:00 on rest days. The department head keeps the roster."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from tests.fixtures_deadlines import SweepCity, build_sweep_city, person
from whistle.duty import actions
from whistle.duty.models import Roster, Rotation
from whistle.organisation.models import Person, Role

BEIJING = ZoneInfo("Asia/Shanghai")


def bj(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    microsecond: int = 0,
) -> datetime:
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=BEIJING)


@dataclass
class DutyCity:
    city: SweepCity
    roster: Roster
    # The working-day turns, in order: 王芳 takes the day of 2026-05-11, 赵强 its night…
    wang: Person
    zhao: Person
    qian: Person
    # The rest-day turns.
    sun: Person
    zhou: Person


def build_duty_city(
    *, working_from: date = date(2026, 5, 11), rest_from: date | None = date(2026, 5, 1)
) -> DutyCity:
    """The roster's working-day rotation starts on `working_from` (王芳 the first day shift),
    its rest-day rotation on `rest_from` (孙丽 the first rest day, 周明 her backup)."""
    city = build_sweep_city()
    department = city.department
    wang = person("wang-officer", "王芳", Role.DEPARTMENT_OFFICER, department=department)
    zhao = person("zhao-officer", "赵强", Role.DEPARTMENT_OFFICER, department=department)
    qian = person("qian-officer", "钱伟", Role.DEPARTMENT_OFFICER, department=department)
    sun = person("sun-officer", "孙丽", Role.DEPARTMENT_OFFICER, department=department)
    zhou = person("zhou-officer", "周明", Role.DEPARTMENT_OFFICER, department=department)
    head = city.department_head
    at = bj(2026, 5, 1, 10)
    roster = actions.start_roster(head, department=department, now=at)
    actions.save_rotation(
        head,
        roster,
        days=Rotation.Days.WORKING_DAYS,
        handovers="08:00,20:00",
        turn=Rotation.Turn.SHIFT,
        starts_on=working_from,
        members=[(wang, None), (zhao, None), (qian, None)],
        now=at,
    )
    if rest_from is not None:
        actions.save_rotation(
            head,
            roster,
            days=Rotation.Days.REST_DAYS,
            handovers="09:00",
            turn=Rotation.Turn.DAY,
            starts_on=rest_from,
            members=[(sun, zhou), (zhou, None)],
            now=at,
        )
    return DutyCity(city, roster, wang, zhao, qian, sun, zhou)
