"""A department with a duty roster, on the small city of the deadline sweep: 东城区城管执法局's
officers take turns, a day shift 08:00–20:00 and a night shift 20:00–08:00 on working days,
and one 24-hour duty from 09:00 on rest days. The department head keeps the roster."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from tests.fixtures_deadlines import SweepCity, build_sweep_city, person
from whistle.duty import actions
from whistle.duty.models import Roster, Rotation
from whistle.organisation.models import (
    CentreMembership,
    Department,
    Jurisdiction,
    Person,
    Role,
)

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


@dataclass
class StaffedCentre:
    """The duty city with a township side: 龙潭街道's command centre roster (李晓梅 and 陈志强
    take turns daily at 08:30 from 2026-05-01) and the department's own roster in the
    township's enforcement centre (赵强 and 钱伟, daily at 08:00); beside them a department
    and a township with rosters of their own, which the first ones' people must not see."""

    duty: DutyCity
    centre: Roster
    command: Roster
    other_department: Roster
    other_head: Person
    other_township: Roster
    other_dispatcher: Person


def build_staffed_centre(**options: Any) -> StaffedCentre:
    duty = build_duty_city(**options)
    city = duty.city
    at = bj(2026, 5, 1, 10)
    CentreMembership.objects.create(
        township=city.township, department=city.department, role=CentreMembership.Role.CORE
    )
    centre = actions.start_roster(
        city.dispatcher, department=city.department, township=city.township, now=at
    )
    actions.save_rotation(
        city.dispatcher,
        centre,
        days=Rotation.Days.EVERY_DAY,
        handovers="08:00",
        turn=Rotation.Turn.DAY,
        starts_on=date(2026, 5, 1),
        members=[(duty.zhao, None), (duty.qian, None)],
        now=at,
    )
    command = actions.start_roster(city.dispatcher, township=city.township, now=at)
    actions.save_rotation(
        city.dispatcher,
        command,
        days=Rotation.Days.EVERY_DAY,
        handovers="08:30",
        turn=Rotation.Turn.DAY,
        starts_on=date(2026, 5, 1),
        members=[(city.dispatcher, None), (city.township_chief, None)],
        now=at,
    )
    police = Department.objects.create(
        code="dc-gaj",
        name="东城区公安分局",
        kind="functional",
        sector=city.department.sector,
        district=city.district,
    )
    other_head = person("ma-head", "马军", Role.DEPARTMENT_HEAD, department=police)
    other_department = actions.start_roster(other_head, department=police, now=at)
    neighbour = Jurisdiction.objects.create(
        level="township",
        form="street_office",
        code="110101016",
        name="天坛街道",
        parent=city.district,
    )
    other_dispatcher = person("hu-dispatcher", "胡静", Role.DISPATCHER, jurisdiction=neighbour)
    other_township = actions.start_roster(other_dispatcher, township=neighbour, now=at)
    return StaffedCentre(
        duty, centre, command, other_department, other_head, other_township, other_dispatcher
    )


# The clock of the roster pages' tests: Tuesday 2026-05-12 15:00 Beijing time, in the middle
# of the department's day shift.
PAGES_NOW = bj(2026, 5, 12, 15)


@pytest.fixture(name="centre")
def centre_fixture(db) -> StaffedCentre:
    return build_staffed_centre()


@pytest.fixture(name="frozen")
def frozen_fixture():
    with time_machine.travel(PAGES_NOW, tick=False) as traveller:
        yield traveller


def signed_in(someone: Person) -> Client:
    client = Client()
    client.force_login(someone)
    return client
