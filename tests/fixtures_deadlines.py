"""A small city for the deadline sweep: one district, one township, one department, and the
people who hear of reminders and escalations. Rows are made with the ORM directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from whistle.cases.deadlines import next_check_for
from whistle.cases.models import Case, Summons, Whistle
from whistle.cases.trail import EventKind, compute_hash, event_content
from whistle.organisation.models import (
    Department,
    Jurisdiction,
    Person,
    Role,
    RoleAssignment,
    Sector,
)
from whistle.policies.models import DistrictPolicy, WhistleKind


@dataclass
class SweepCity:
    district: Jurisdiction
    township: Jurisdiction
    department: Department
    policy: DistrictPolicy
    officer: Person
    department_head: Person
    dispatcher: Person
    township_office: Person
    township_chief: Person
    district_office: Person
    district_chief: Person


def person(username: str, name: str, role: str, **scope: Any) -> Person:
    someone = Person.objects.create_user(username=username, password="pw-123456", name=name)
    RoleAssignment.objects.create(person=someone, role=role, **scope)
    return someone


def build_sweep_city() -> SweepCity:
    city = Jurisdiction.objects.create(level="city", code="110000", name="北京市")
    district = Jurisdiction.objects.create(
        level="district", code="110101", name="东城区", parent=city
    )
    township = Jurisdiction.objects.create(
        level="township", form="street_office", code="110101015", name="龙潭街道", parent=district
    )
    sector = Sector.objects.create(code="urban_management", name="城市管理")
    department = Department.objects.create(
        code="dc-cgw", name="东城区城管执法局", kind="functional", sector=sector, district=district
    )
    policy = DistrictPolicy.objects.create(district=district)
    return SweepCity(
        district=district,
        township=township,
        department=department,
        policy=policy,
        officer=person("zhang-officer", "张卫东", Role.DEPARTMENT_OFFICER, department=department),
        department_head=person("liu-head", "刘建国", Role.DEPARTMENT_HEAD, department=department),
        dispatcher=person("li-dispatcher", "李晓梅", Role.DISPATCHER, jurisdiction=township),
        township_office=person("wang-office", "王丽", Role.CHIEFS_OFFICE, jurisdiction=township),
        township_chief=person("chen-chief", "陈志强", Role.TOWNSHIP_CHIEF, jurisdiction=township),
        district_office=person("zhao-office", "赵敏", Role.CHIEFS_OFFICE, jurisdiction=district),
        district_chief=person("sun-chief", "孙海", Role.DISTRICT_CHIEF, jurisdiction=district),
    )


def make_case(city: SweepCity, reported_at: datetime, **fields: Any) -> Case:
    values: dict[str, Any] = {
        "source": Case.Source.STEWARD,
        "status": Case.Status.WHISTLED,
        "description": "人民市场东巷路面塌陷，围挡倒伏",
        "lon": 116.432,
        "lat": 39.873,
        "address": "人民市场东巷12号",
        "district": city.district,
        "township": city.township,
        "reported_at": reported_at,
    }
    values.update(fields)
    return Case.objects.create(**values)


def make_summons(
    city: SweepCity,
    summoned_at: datetime,
    *,
    case: Case | None = None,
    acknowledge_within: timedelta = timedelta(minutes=10),
    arrive_within: timedelta | None = timedelta(minutes=30),
    resolve_due_at: datetime | None = None,
    **fields: Any,
) -> Summons:
    """A whistle's summons of the city's department, scheduled as an action would."""
    if case is None:
        case = make_case(city, summoned_at)
    whistle = Whistle.objects.create(
        case=case,
        kind=WhistleKind.ROUTINE,
        township=city.township,
        blown_by=city.dispatcher,
        blown_at=summoned_at,
    )
    summons = Summons(
        case=case,
        whistle=whistle,
        department=city.department,
        summoned_at=summoned_at,
        acknowledge_due_at=summoned_at + acknowledge_within,
        arrive_due_at=summoned_at + arrive_within if arrive_within is not None else None,
        resolve_due_at=resolve_due_at or summoned_at + timedelta(hours=4),
        **fields,
    )
    summons.next_check_at = next_check_for(summons, summoned_at)
    summons.save(force_insert=True)
    return summons


def reschedule(summons: Summons, now: datetime, **changes: Any) -> Summons:
    """Change a summons and store its next check, as an action does."""
    for name, value in changes.items():
        setattr(summons, name, value)
    summons.next_check_at = next_check_for(summons, now)
    summons.save(update_fields=[*changes, "next_check_at"])
    return summons


def chain_is_valid(case: Case) -> bool:
    """Recompute every hash of the case's trail and check that each links to the one before."""
    previous = "0" * 64
    for number, event in enumerate(case.events.order_by("seq"), start=1):
        content = event_content(
            case_uuid=str(case.uuid),
            seq=event.seq,
            at=event.at,
            kind=event.kind,
            actor_id=event.actor_id,
            actor_role=event.actor_role,
            summons_uuid=str(event.summons.uuid) if event.summons else None,
            data=event.data,
            lon=event.lon,
            lat=event.lat,
        )
        if event.seq != number or event.prev_hash != previous:
            return False
        if event.hash != compute_hash(content, previous):
            return False
        previous = event.hash
    return True


OVERDUE_KINDS = (
    EventKind.ACKNOWLEDGE_OVERDUE,
    EventKind.ARRIVE_OVERDUE,
    EventKind.RESOLVE_OVERDUE,
)
