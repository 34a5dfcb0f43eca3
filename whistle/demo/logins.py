"""The demo logins: one memorable username per role, all around 龙潭街道 and 人民市场东巷,
and two in 西城区 to show that districts are kept apart.

This list is the single source for the people ``whistle seed-demo`` creates under these
usernames, for ``whistle demo-logins`` and for any documentation generated from
``demo_login_rows()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import DatabaseError
from django.utils import translation
from django.utils.translation import gettext as _

from whistle.demo.data import places, services
from whistle.organisation.models import Person, Role, Scope

DEMO_SLUG = places.township(places.DEMO_TOWNSHIP).slug


@dataclass(frozen=True)
class Place:
    """Where a role applies, named by the demo data's natural keys."""

    scope: Scope
    township: str = ""  # township code, for a township or a lane
    lane: str = ""
    department: str = ""  # department code
    district: str = places.DISTRICT_CODE  # for a district

    def label(self) -> str:
        if self.scope == Scope.DISTRICT:
            return places.district(self.district).name
        if self.scope == Scope.TOWNSHIP:
            return places.township(self.township).full_name
        if self.scope == Scope.LANE:
            return f"{places.township(self.township).full_name} · {self.lane}"
        if self.scope == Scope.DEPARTMENT:
            return _department_names()[self.department]
        return ""


@cache
def _department_names() -> dict[str, str]:
    return {d.code: d.name for d in services.departments()}


DISTRICT = Place(Scope.DISTRICT)
DEMO_TOWNSHIP = Place(Scope.TOWNSHIP, places.DEMO_TOWNSHIP)
XICHENG = Place(Scope.DISTRICT, district=places.XICHENG_CODE)
XICHENG_TOWNSHIP = Place(Scope.TOWNSHIP, places.XICHENG_DEMO_TOWNSHIP)
NO_SCOPE = Place(Scope.NONE)


def _lane(name: str) -> Place:
    return Place(Scope.LANE, places.DEMO_TOWNSHIP, name)


def _department(suffix: str) -> Place:
    return Place(Scope.DEPARTMENT, department=f"{places.DISTRICT_SLUG}-{suffix}")


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: Role
    name: str
    places: tuple[Place, ...]
    is_staff: bool = False
    is_superuser: bool = False

    def scope_label(self) -> str:
        if self.is_superuser:
            return _("everything (superuser)")
        labels = [p.label() for p in self.places if p.label()]
        return _(", ").join(labels) if labels else _("none")


DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin(
        "steward",
        Role.STEWARD,
        "梁萍",
        (_lane(places.DEMO_LANE), _lane(places.DEMO_STEWARD_LANE)),
    ),
    DemoLogin("lane-chief", Role.LANE_CHIEF, "刘跃明", (_lane(places.DEMO_LANE),)),
    DemoLogin(
        "street-chief",
        Role.STREET_CHIEF,
        "何志强",
        (_lane(places.DEMO_STREET), _lane(places.DEMO_LANE)),
    ),
    DemoLogin("township-chief", Role.TOWNSHIP_CHIEF, "李卫东", (DEMO_TOWNSHIP,)),
    DemoLogin("dispatcher", Role.DISPATCHER, "孙晓雯", (DEMO_TOWNSHIP,)),
    DemoLogin("township-assessor", Role.TOWNSHIP_ASSESSOR, "赵静", (DEMO_TOWNSHIP,)),
    DemoLogin(
        "officer-urban", Role.DEPARTMENT_OFFICER, "杨帆", (_department(f"{DEMO_SLUG}-cgzfd"),)
    ),
    DemoLogin(
        "officer-police", Role.DEPARTMENT_OFFICER, "马骁", (_department(f"{DEMO_SLUG}-pcs"),)
    ),
    # The head of the team the demo township summons most, so that signing in shows its
    # summonses, records, scores and the messages of its lateness and appeals.
    DemoLogin(
        "department-head",
        Role.DEPARTMENT_HEAD,
        "郭振华",
        (_department(f"{DEMO_SLUG}-cgzfd"),),
    ),
    DemoLogin("chiefs-office", Role.CHIEFS_OFFICE, "王海燕", (DISTRICT,), is_staff=True),
    # A second member of the office: whoever ruled on an appeal of a record does not rule on
    # the department's next appeal of it, the other member does.
    DemoLogin("chiefs-office-2", Role.CHIEFS_OFFICE, "刘思远", (DISTRICT,), is_staff=True),
    DemoLogin("district-assessor", Role.DISTRICT_ASSESSOR, "陈立新", (DISTRICT,), is_staff=True),
    DemoLogin("district-chief", Role.DISTRICT_CHIEF, "张建国", (DISTRICT,), is_staff=True),
    DemoLogin(
        "admin", Role.ADMINISTRATOR, "系统管理员", (NO_SCOPE,), is_staff=True, is_superuser=True
    ),
    # 蔡阿姨 of the article, who walks the lane with its chief.
    DemoLogin("resident", Role.RESIDENT, "蔡秀英", (NO_SCOPE,)),
    DemoLogin("xicheng-dispatcher", Role.DISPATCHER, "周丽娜", (XICHENG_TOWNSHIP,)),
    # An administrator of one district: the admin lets them change Xicheng's data only.
    DemoLogin("xicheng-admin", Role.ADMINISTRATOR, "吴建华", (XICHENG,), is_staff=True),
)


@dataclass(frozen=True)
class DemoLoginRow:
    """One line of the table of demo logins, ready to print or to put in a document."""

    role: str
    role_zh: str
    role_en: str
    username: str
    password: str
    name: str
    scope: str


def demo_login_rows() -> list[DemoLoginRow]:
    """The demo logins with their password and a readable scope, in a sensible order."""
    rows = []
    for login in DEMO_LOGINS:
        with translation.override("zh-hans"):
            role_zh = str(login.role.label)
        with translation.override("en"):
            role_en = str(login.role.label)
        rows.append(
            DemoLoginRow(
                role=login.role.value,
                role_zh=role_zh,
                role_en=role_en,
                username=login.username,
                password=settings.WHISTLE_DEMO_PASSWORD,
                name=login.name,
                scope=login.scope_label(),
            )
        )
    return rows


def missing_demo_logins() -> list[str] | None:
    """Usernames of the demo logins that cannot sign in here (absent or deactivated), in
    the table's order; None when the database cannot be read (not migrated yet)."""
    usernames = [login.username for login in DEMO_LOGINS]
    try:
        active = set(
            Person.objects.filter(username__in=usernames, is_active=True).values_list(
                "username", flat=True
            )
        )
    except DatabaseError:
        return None
    return [username for username in usernames if username not in active]
