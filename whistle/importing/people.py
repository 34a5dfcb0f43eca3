"""Import of people with their roles and the scope of each role.

One row gives one role of one person; a person with three roles has three rows, and a row
without a role only creates or updates the person. Passwords are never read in clear: a row
gives a password hash, or the person is created without a usable password and must set one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.hashers import identify_hasher, make_password
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from whistle.importing import cells
from whistle.importing.base import Column, Importer, Lookup, Row
from whistle.importing.departments import fetch_departments, fetch_people, no_such_department
from whistle.importing.places import fetch_lanes, fetch_places, no_such_place
from whistle.organisation.models import (
    Department,
    Jurisdiction,
    Lane,
    Person,
    Role,
    RoleAssignment,
)
from whistle.organisation.staffing import announce_staffing_changed


def password_hash(value: Any) -> str:
    raw = cells.as_text(value)
    try:
        identify_hasher(raw)
    except ValueError:
        raise cells.CellError(
            _(
                "This is not a password hash. Files never carry passwords in clear: give a hash "
                "(argon2$…, pbkdf2_sha256$…) or leave the cell empty and set the password later"
            )
        ) from None
    return raw


ROLE_WORDS = {
    "区总街巷长": Role.DISTRICT_CHIEF,
    "街道总街巷长": Role.TOWNSHIP_CHIEF,
    "乡镇总街巷长": Role.TOWNSHIP_CHIEF,
    "管家": Role.STEWARD,
    "调度员": Role.DISPATCHER,
    "执法人员": Role.DEPARTMENT_OFFICER,
    "街巷长办公室": Role.CHIEFS_OFFICE,
    "管理员": Role.ADMINISTRATOR,
}


def no_such_lane(key: tuple[str, str]) -> str:
    return _("Township %(code)s has no lane named “%(name)s”") % {"code": key[0], "name": key[1]}


PERSON_FIELDS = {"name": "name", "phone": "phone", "email": "email", "active": "is_active"}
SCOPE_COLUMNS = ("jurisdiction", "lane", "department")


def fetch_roles(usernames: list[str]) -> Iterable[tuple[str, list[RoleAssignment]]]:
    roles: dict[str, list[RoleAssignment]] = {}
    for role in RoleAssignment.objects.filter(person__username__in=usernames).select_related(
        "person"
    ):
        roles.setdefault(role.person.username, []).append(role)
    return roles.items()


class PeopleImporter(Importer):
    kind = "people"
    title = gettext_lazy("people")
    columns = (
        Column("username", ("用户名", "账号"), required=True),
        Column("name", ("姓名",)),
        Column("phone", ("手机", "手机号", "电话")),
        Column("email", ("邮箱", "电子邮箱", "e-mail")),
        Column("active", ("启用", "是否启用"), cells.boolean),
        Column("password_hash", ("密码哈希", "password", "密码"), password_hash),
        Column("role", ("角色",), cells.choice(Role, ROLE_WORDS)),
        Column("jurisdiction", ("辖区代码", "区或街乡代码", "辖区"), cells.digits(6, 9)),
        Column("lane", ("街巷", "街巷名称")),
        Column("department", ("部门代码", "部门")),
    )

    def setup(self) -> None:
        self.people: Lookup[str, Person] = Lookup(fetch_people)
        self.roles: Lookup[str, list[RoleAssignment]] = Lookup(fetch_roles)
        self.places: Lookup[str, Jurisdiction] = Lookup(fetch_places)
        self.lanes: Lookup[tuple[str, str], Lane] = Lookup(fetch_lanes)
        self.departments: Lookup[str, Department] = Lookup(fetch_departments)
        # username → (first row, the person's values on it)
        self.first_rows: dict[str, tuple[int, dict[str, Any]]] = {}
        self.role_rows: dict[tuple[Any, ...], int] = {}
        self.without_password = 0

    def prefetch(self, rows: list[Row]) -> None:
        for row in rows:
            self.people.want(row["username"])
            self.roles.want(row["username"])
            self.places.want(row["jurisdiction"])
            self.departments.want(row["department"])
            if row["lane"] and row["jurisdiction"]:
                self.lanes.want((row["jurisdiction"], row["lane"]))
        for lookup in (self.people, self.roles, self.places, self.lanes, self.departments):
            lookup.load()

    def reserve(self, row: Row) -> None:
        if row["username"] and row["username"] not in self.first_rows:
            self.people.spoil(row["username"])

    def check(self, row: Row) -> None:
        person = self._person(row)
        if row["role"] is None:
            if any(row[column] for column in SCOPE_COLUMNS):
                row.error("role", _("Give the role that this scope belongs to"))
            return
        scope = self._scope(row)
        if person is None or scope is None or row.failed:
            return
        key = (row["username"], row["role"], *(s.pk if s else None for s in scope.values()))
        if key in self.role_rows:
            row.error(
                "role",
                _("This role is already on row %(row)s") % {"row": self.role_rows[key]},
            )
            return
        self.role_rows[key] = row.number
        existing = next(
            (
                r
                for r in self.roles.get(row["username"]) or []
                if (r.role, r.jurisdiction_id, r.lane_id, r.department_id) == tuple(key[1:])
            ),
            None,
        )
        self.plan(
            row,
            RoleAssignment,
            existing,
            {"person": person, "role": row["role"], **scope},
            key_column="role",
        )

    def _person(self, row: Row) -> Person | None:
        username: str = row["username"]
        values = {
            field: row[column] for column, field in PERSON_FIELDS.items() if row.given(column)
        }
        for field in ("name", "phone", "email"):
            if field in values and values[field] is None:
                values[field] = ""
        if values.get("is_active", False) is None:
            values["is_active"] = True
        if row["password_hash"]:
            values["password"] = row["password_hash"]
        if username in self.first_rows:
            return self._same_person(row, username, values)
        self.first_rows[username] = (row.number, values)
        existing = self.people.get(username)
        if existing is None:
            values["username"] = username
            if "password" not in values:
                values["password"] = make_password(None)
                self.without_password += 1
        person = self.plan(row, Person, existing, values, key_column="username")
        if person is None:
            self.people.spoil(username)
        else:
            self.people.put(username, person)
        return person

    def _same_person(self, row: Row, username: str, values: dict[str, Any]) -> Person | None:
        """A later row of the same person may repeat its details, but not contradict them."""
        first_row, first = self.first_rows[username]
        for column, field in (*PERSON_FIELDS.items(), ("password_hash", "password")):
            if (
                row[column] not in (None, "")
                and field in first
                and first[field] != values.get(field)
            ):
                row.error(
                    column,
                    _("This differs from row %(row)s of the same person") % {"row": first_row},
                )
        person = self.people.get(username)
        if person is None:
            row.blocked = True
        return person

    def _scope(self, row: Row) -> dict[str, Any] | None:
        """The role's scope: a district or township, a lane, a department, or none."""
        code: str | None = row["jurisdiction"]
        lane_name: str | None = row["lane"]
        department_code: str | None = row["department"]
        scope: dict[str, Any] = {"jurisdiction": None, "lane": None, "department": None}
        if lane_name:
            if code is None:
                row.error("lane", _("Give the lane's township code in the jurisdiction column"))
                return None
            if self.outside_district(row, "jurisdiction", code):
                return None
            scope["lane"] = self.find(
                row,
                self.lanes,
                (code, lane_name),
                "lane",
                no_such_lane,
            )
            if department_code:
                row.error("department", _("A role has one scope only"))
        elif code:
            if self.outside_district(row, "jurisdiction", code):
                return None
            scope["jurisdiction"] = self.find(row, self.places, code, "jurisdiction", no_such_place)
            if department_code:
                row.error("department", _("A role has one scope only"))
        elif department_code:
            department = self.find(
                row,
                self.departments,
                department_code,
                "department",
                no_such_department,
            )
            if (
                department is not None
                and self.district is not None
                and department.district_id != self.district.pk
            ):
                row.error(
                    "department",
                    _("%(department)s is not a department of %(district)s")
                    % {"department": department.name, "district": self.district.name},
                )
            scope["department"] = department
        elif self.district is not None and row["role"] != Role.RESIDENT:
            row.error(
                "jurisdiction",
                _("When importing for one district, every role except resident needs a scope"),
            )
        return None if row.failed else scope

    def on_written(self) -> None:
        # An account deactivated or a role given may change who may rule on a pending appeal.
        announce_staffing_changed(trigger="import")

    def after_write(self) -> None:
        if self.without_password:
            self.notes.append(
                ngettext(
                    "%(count)s new person has no password and cannot sign in until one is "
                    "set, for example with: whistle changepassword USERNAME",
                    "%(count)s new people have no password and cannot sign in until one is "
                    "set, for example with: whistle changepassword USERNAME",
                    self.without_password,
                )
                % {"count": self.without_password}
            )
