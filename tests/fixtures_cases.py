"""A small city for the case tests: 龙潭街道 with its 1+5+N centre, categories with time
limits, the district's rules, and one person for each role.

Built on the shared `small_city` fixture (tests/conftest.py): 东城区, 龙潭街道 and 东四街道,
夕照寺社区, 人民市场东巷 (a 204 m centre line running north from 116.432, 39.872), the
district's urban-management bureau and 龙潭派出所.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from tests.conftest import SmallCity, make_person
from whistle.cases.models import Case, Event
from whistle.cases.signing import init_key
from whistle.cases.verify import EventRow
from whistle.organisation.models import (
    CentreMembership,
    Department,
    Person,
    Role,
    RoleAssignment,
    Sector,
)
from whistle.policies.models import (
    Category,
    CategoryKind,
    DistrictPolicy,
    DurationUnit,
    MajorClass,
    WhistleKind,
    WhistleRule,
)

BEIJING = ZoneInfo("Asia/Shanghai")

# On 人民市场东巷, about 8 m east of its centre line.
ON_THE_LANE = (116.4321, 39.8729)
# In 龙潭街道 and 夕照寺社区 but more than 50 m from any lane.
OFF_ANY_LANE = (116.4345, 39.8745)
# About 900 m north of ON_THE_LANE.
FAR_NORTH = (116.4321, 39.8810)


def beijing(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING)


def png_bytes(size: tuple[int, int] = (8, 8), color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class WhistleCity:
    city: SmallCity
    policy: DistrictPolicy
    street_vending: Category
    exposed_garbage: Category
    fire: Department
    housing: Department
    # People, named after their role.
    steward: Person
    lane_chief: Person
    street_chief: Person
    dispatcher: Person
    township_chief: Person
    township_office: Person
    assessor: Person
    district_chief: Person
    district_office: Person
    urban_officer: Person
    urban_head: Person
    police_officer: Person
    fire_officer: Person
    dongsi_dispatcher: Person
    dongsi_steward: Person
    resident: Person

    @property
    def district(self):
        return self.city.district

    @property
    def longtan(self):
        return self.city.longtan

    @property
    def lane(self):
        return self.city.renmin_lane

    @property
    def urban(self):
        return self.city.urban_management

    @property
    def police(self):
        return self.city.police


@pytest.fixture(name="whistle_city")
def whistle_city_fixture(small_city, settings, tmp_path) -> WhistleCity:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.WHISTLE_SIGNING_KEY_FILE = str(tmp_path / "keys" / "signing-key.pem")
    init_key()
    return build_whistle_city(small_city)


def build_whistle_city(small_city: SmallCity) -> WhistleCity:
    district = small_city.district
    longtan = small_city.longtan
    policy = DistrictPolicy.objects.create(district=district)
    WhistleRule.objects.create(
        district=district,
        kind=WhistleKind.ROUTINE,
        acknowledge_within=10,
        arrive_within=30,
    )
    WhistleRule.objects.create(
        district=district,
        kind=WhistleKind.EMERGENCY,
        acknowledge_within=5,
        arrive_within=15,
    )
    order = MajorClass.objects.create(
        district=district, kind=CategoryKind.EVENT, code="05", name="街面秩序"
    )
    appearance = MajorClass.objects.create(
        district=district, kind=CategoryKind.EVENT, code="01", name="市容环境"
    )
    urban_sector = Sector.objects.get(code="urban_management")
    police_sector = Sector.objects.get(code="public_security")
    fire_sector = Sector.objects.create(code="fire", name="消防")
    housing_sector = Sector.objects.create(code="housing", name="房屋管理")
    street_vending = Category.objects.create(
        major=order,
        code="01",
        name="无照经营游商",
        resolve_within=4,
        resolve_unit=DurationUnit.WORKING_HOURS,
        acknowledge_within=2,
        acknowledge_unit=DurationUnit.NATURAL_HOURS,
    )
    street_vending.responsible_sectors.set([urban_sector, police_sector])
    exposed_garbage = Category.objects.create(
        major=appearance,
        code="02",
        name="暴露垃圾",
        resolve_within=4,
        resolve_unit=DurationUnit.WORKING_HOURS,
    )
    exposed_garbage.responsible_sectors.set([urban_sector])
    fire = Department.objects.create(
        code="dc-xfz-tiantan",
        name="天坛消防救援站",
        kind="dispatched",
        sector=fire_sector,
        district=district,
    )
    fire.serves.add(longtan)
    housing = Department.objects.create(
        code="dc-fgj",
        name="东城区房管局",
        kind="functional",
        sector=housing_sector,
        district=district,
    )
    lane = small_city.renmin_lane
    people = {
        "steward": make_person("liang-ping", Role.STEWARD, lane=lane),
        "lane_chief": make_person("liu-yueming", Role.LANE_CHIEF, lane=lane),
        "street_chief": make_person("street-chief", Role.STREET_CHIEF, lane=lane),
        "dispatcher": make_person("longtan-dispatcher", Role.DISPATCHER, jurisdiction=longtan),
        "township_chief": make_person("longtan-chief", Role.TOWNSHIP_CHIEF, jurisdiction=longtan),
        "township_office": make_person("longtan-office", Role.CHIEFS_OFFICE, jurisdiction=longtan),
        "assessor": make_person("longtan-assessor", Role.TOWNSHIP_ASSESSOR, jurisdiction=longtan),
        "district_chief": make_person(
            "dongcheng-chief", Role.DISTRICT_CHIEF, jurisdiction=district
        ),
        "district_office": make_person(
            "dongcheng-office", Role.CHIEFS_OFFICE, jurisdiction=district
        ),
        "urban_officer": make_person(
            "urban-officer", Role.DEPARTMENT_OFFICER, department=small_city.urban_management
        ),
        "urban_head": make_person(
            "urban-head", Role.DEPARTMENT_HEAD, department=small_city.urban_management
        ),
        "police_officer": make_person(
            "police-officer", Role.DEPARTMENT_OFFICER, department=small_city.police
        ),
        "fire_officer": make_person("fire-officer", Role.DEPARTMENT_OFFICER, department=fire),
        "dongsi_dispatcher": make_person(
            "dongsi-dispatcher", Role.DISPATCHER, jurisdiction=small_city.dongsi
        ),
        "dongsi_steward": make_person("dongsi-steward", Role.STEWARD, lane=small_city.dongsi_lane),
        "resident": make_person("resident", Role.RESIDENT),
    }
    people["urban_officer"].phone = "13800000001"
    people["urban_officer"].save(update_fields=["phone"])
    core = CentreMembership.objects.create(
        township=longtan, department=small_city.urban_management, role="core"
    )
    core.people.add(people["urban_officer"])
    stationed = CentreMembership.objects.create(
        township=longtan, department=small_city.police, role="stationed"
    )
    stationed.people.add(people["police_officer"])
    on_call = CentreMembership.objects.create(township=longtan, department=fire, role="on_call")
    on_call.people.add(people["fire_officer"])
    return WhistleCity(
        city=small_city,
        policy=policy,
        street_vending=street_vending,
        exposed_garbage=exposed_garbage,
        fire=fire,
        housing=housing,
        **people,
    )


def device_fix(
    point: tuple[float, float] = ON_THE_LANE,
    at: datetime | None = None,
    *,
    accuracy_m: float | None = 5.0,
    device_id: str = "",
) -> dict[str, Any]:
    """What the check-in page sends from a phone: the position from the device, its
    accuracy and the device's time of the fix (`at`, else the clock's now)."""
    from django.utils import timezone

    return {
        "lon": point[0],
        "lat": point[1],
        "source": "device",
        "accuracy_m": accuracy_m,
        "device_time": at if at is not None else timezone.now(),
        "device_id": device_id,
    }


def give_role(person: Person, role: str, **scope) -> None:
    RoleAssignment.objects.create(person=person, role=role, **scope)


def reported_case(city: WhistleCity, *, at: datetime | None = None, **overrides):
    from whistle.cases import actions

    fields: dict[str, Any] = {
        "description": "人民市场东巷有游商占道",
        "lon": ON_THE_LANE[0],
        "lat": ON_THE_LANE[1],
    }
    fields.update(overrides)
    return actions.report_case(city.steward, now=at, **fields)


def filed_case(city: WhistleCity, *, at: datetime | None = None, category=None, **overrides):
    from whistle.cases import actions

    case = reported_case(city, at=at, **overrides)
    return actions.file_case(
        city.dispatcher, case, category=category or city.street_vending, now=at
    )


def typed_in_and_filed(
    city: WhistleCity,
    at: datetime,
    *,
    typist: Person | None = None,
    source: str = Case.Source.RESIDENT,
    number: str = "",
):
    """蔡阿姨 comes to the township's desk (or calls, or a superior sends her complaint down
    as an order: `source`) about rubbish in the lane:
    `typist` (the dispatcher unless named) types in her report at `at`, or, given a work
    order's `number`, takes it in as a work order of the `source` channel; the dispatcher
    files it a minute later."""
    from whistle.cases import actions

    typist = typist or city.dispatcher
    where: dict[str, Any] = {
        "description": "居民来访：巷口有暴露垃圾",
        "lon": ON_THE_LANE[0],
        "lat": ON_THE_LANE[1],
        "now": at,
    }
    if number:
        typed = actions.take_hotline_order(typist, number=number, channel=source, **where).case
    else:
        typed = actions.report_case(typist, source=source, reporter_name="蔡阿姨", **where)
    return actions.file_case(
        city.dispatcher, typed, category=city.exposed_garbage, now=at + timedelta(minutes=1)
    )


def whistled_case(
    city: WhistleCity, *, at: datetime | None = None, departments=None, kind="routine", **whistle
):
    """A filed case with a whistle blown for urban management and the police."""
    from whistle.cases import actions
    from whistle.cases.models import Summons

    case = filed_case(city, at=at)
    blown = actions.blow_whistle(
        city.dispatcher,
        case,
        kind=kind,
        departments=departments or [city.urban, city.police],
        now=at,
        **whistle,
    )
    summonses = {s.department_id: s for s in Summons.objects.filter(whistle=blown)}
    return case, blown, summonses


def on_site(
    city: WhistleCity,
    summons,
    officer: Person | None = None,
    *,
    at: datetime | None = None,
    acknowledged_at: datetime | None = None,
):
    """`officer` (urban management's unless named) acknowledges `summons` and checks in on
    the lane, at `at` (else the clock's now); with `acknowledged_at`, the acknowledgement is
    made then, before the check-in."""
    from whistle.cases import actions

    officer = officer or city.urban_officer
    actions.acknowledge(officer, summons, now=acknowledged_at or at)
    return actions.check_in(officer, summons, **device_fix(at=at), now=at)


def officer_on_site(city: WhistleCity, *, departments: list[Department] | None = None):
    """A case whistled to the urban-management department (alone, unless `departments` names
    others with it), its officer checked in on site: the case and the department's summons."""
    case, _whistle, summonses = whistled_case(city, departments=departments or [city.urban])
    summons = summonses[city.urban.pk]
    on_site(city, summons)
    return case, summons


def reported_on_site(
    city: WhistleCity, summons, *, result: str = "已劝离", officer: Person | None = None
):
    """`officer` (urban management's unless named) acknowledges `summons`, checks in on the
    lane and reports `result`: the department stays on site until the township lets it go."""
    from whistle.cases import actions

    officer = officer or city.urban_officer
    on_site(city, summons, officer)
    return actions.report_result(officer, summons, result=result)


class TriggerEditor:
    """What the trigger migrations need of a schema editor (`execute`, `connection`), usable
    inside a test's transaction, where SQLite's own schema editor is not."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection

    def execute(self, sql: str, params: Any = None) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)


def trail_trigger_migrations() -> list[Any]:
    """The migrations that install the trail's triggers and every log's listed in
    whistle.cases.triggers.LOG_TABLES (found by their name's ending)."""
    from importlib import import_module
    from pathlib import Path

    from whistle.cases.triggers import LOG_TABLES

    names = [
        "cases.migrations.0003_event_append_only",
        "cases.migrations.0014_trail_chain_and_truncate_triggers",
    ]
    root = Path(__file__).resolve().parent.parent / "whistle"
    for app, ending in LOG_TABLES.values():
        (found,) = sorted((root / app / "migrations").glob(f"*_{ending}.py"))
        names.append(f"{app}.migrations.{found.stem}")
    return [import_module(f"whistle.{name}") for name in names]


def assert_the_database_keeps(model: Any) -> None:
    """A raw UPDATE and DELETE of `model`'s table, TRUNCATE on PostgreSQL, and a bulk update
    and delete past the model, are each refused by the database, and its rows stay as they
    were. The table has at least one row."""
    from django.db import DatabaseError, connection, transaction

    table = model._meta.db_table
    before = list(model.objects.order_by("pk").values_list())
    assert before
    statements = [f"UPDATE {table} SET actor_role = 'x'", f"DELETE FROM {table}"]
    if connection.vendor == "postgresql":
        statements.append(f"TRUNCATE {table}")
    for statement in statements:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    with pytest.raises(DatabaseError), transaction.atomic():
        model.objects.update(actor_role="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        model.objects.all().delete()
    assert list(model.objects.order_by("pk").values_list()) == before


def play_the_dba(*statements: tuple[str, list]) -> None:
    """Edit the trail's tables directly, as a DBA with full rights would: every trigger of
    the trail out of the way (dropped on SQLite, disabled on PostgreSQL), then put back as
    they were, inside the test's transaction so that everything comes back afterwards."""
    from django.apps import apps
    from django.db import connection

    from whistle.cases.triggers import LOG_TABLES, TRAIL_TABLES

    tables = (*TRAIL_TABLES, *LOG_TABLES)
    if connection.vendor == "sqlite":
        for migration in trail_trigger_migrations():
            migration.uninstall(apps, TriggerEditor())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE refuses while deferred foreign-key checks are pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for sql, params in statements:
            cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    if connection.vendor == "sqlite":
        for migration in trail_trigger_migrations():
            migration.install(apps, TriggerEditor())


def trail_rows(case: Any) -> list[EventRow]:
    """The case's stored trail as the verifier reads it, in order."""
    return [
        EventRow(
            seq=e.seq,
            at=e.at,
            kind=e.kind,
            actor=e.actor_id,
            role=e.actor_role,
            summons=str(e.summons.uuid) if e.summons else None,
            data=e.data,
            lon=e.lon,
            lat=e.lat,
            prev_hash=e.prev_hash,
            hash=e.hash,
        )
        for e in Event.objects.filter(case_id=case.pk).order_by("seq").select_related("summons")
    ]
