"""Imports of the bodies that are summoned: sectors, departments and the 1+5+N centres."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from whistle.importing import cells
from whistle.importing.base import Column, Importer, Lookup, Problem, Row
from whistle.importing.places import fetch_places, no_such_place, wrong_level
from whistle.organisation.models import CentreMembership, Department, Jurisdiction, Person, Sector

Level = Jurisdiction.Level


class SectorIndex:
    """Sectors by code and by name. The table is small, so it is read whole, once."""

    def __init__(self) -> None:
        self.by_code: dict[str, Sector] | None = None
        self.by_name: dict[str, list[Sector]] = defaultdict(list)

    def _load(self) -> dict[str, Sector]:
        if self.by_code is None:
            self.by_code = {}
            for sector in Sector.objects.all():
                self._index(self.by_code, sector)
        return self.by_code

    def _index(self, by_code: dict[str, Sector], sector: Sector) -> None:
        by_code[sector.code] = sector
        if sector not in self.by_name[sector.name]:
            self.by_name[sector.name].append(sector)

    def add(self, sector: Sector) -> None:
        self._index(self._load(), sector)

    def get(self, code: str) -> Sector | None:
        return self._load().get(code)

    def resolve(self, row: Row, column: str, words: list[str]) -> list[Sector]:
        """Sectors named by code or by name; reports the words that name none or several."""
        by_code = self._load()
        found: list[Sector] = []
        unknown: list[str] = []
        for word in words:
            sector = by_code.get(word)
            if sector is None:
                named = self.by_name.get(word, [])
                if len(named) > 1:
                    row.error(
                        column,
                        _("Several sectors are named “%(name)s”; give the code instead")
                        % {"name": word},
                    )
                    continue
                sector = named[0] if named else None
            if sector is None:
                unknown.append(word)
            elif sector not in found:
                found.append(sector)
        if unknown:
            row.error(
                column,
                _("No sector has the code or name: %(words)s") % {"words": cells.join(unknown)},
            )
        return found


class SectorImporter(Importer):
    kind = "sectors"
    title = gettext_lazy("sectors")
    takes_district = False
    columns = (
        Column("code", ("代码", "领域代码"), required=True),
        Column("name", ("名称", "领域名称"), required=True),
        Column("name_en", ("英文名称", "领域英文名称")),
    )

    def setup(self) -> None:
        self.sectors = SectorIndex()
        self.seen: dict[str, int] = {}

    def check(self, row: Row) -> None:
        code: str = row["code"]
        if code in self.seen:
            row.error("code", _("This code is already on row %(row)s") % {"row": self.seen[code]})
            return
        self.seen[code] = row.number
        values = {"code": code, "name": row["name"]}
        if row.given("name_en"):
            values["name_en"] = row["name_en"] or ""
        sector = self.plan(row, Sector, self.sectors.get(code), values, key_column="code")
        if sector is not None:
            self.sectors.add(sector)


KIND_WORDS = {
    "职能部门": Department.Kind.FUNCTIONAL,
    "区职能部门": Department.Kind.FUNCTIONAL,
    "委办局": Department.Kind.FUNCTIONAL,
    "派出": Department.Kind.DISPATCHED,
    "执法队": Department.Kind.TOWNSHIP_TEAM,
    "综合执法队": Department.Kind.TOWNSHIP_TEAM,
    "街乡综合执法队": Department.Kind.TOWNSHIP_TEAM,
}


def no_such_department(code: str) -> str:
    return _("No department has the code %(code)s") % {"code": code}


def fetch_departments(codes: list[str]) -> Iterable[tuple[str, Department]]:
    departments = (
        Department.objects.filter(code__in=codes)
        .select_related("district")
        .prefetch_related("serves")
    )
    return ((d.code, d) for d in departments)


class DepartmentImporter(Importer):
    kind = "departments"
    title = gettext_lazy("departments")
    columns = (
        Column("code", ("部门代码", "代码"), required=True),
        Column("name", ("部门名称", "名称"), required=True),
        Column("name_en", ("部门英文名称", "英文名称")),
        Column(
            "kind", ("类别", "部门类别"), cells.choice(Department.Kind, KIND_WORDS), required=True
        ),
        Column("sector", ("职能领域", "领域"), required=True),
        Column("district", ("所属区", "区代码", "区"), cells.digits(6)),
        Column("serves", ("服务范围", "服务街乡"), cells.split_items),
        Column("phone", ("值班电话", "电话")),
        Column("active", ("启用", "是否启用"), cells.boolean),
    )

    def setup(self) -> None:
        self.places: Lookup[str, Jurisdiction] = Lookup(fetch_places)
        self.departments: Lookup[str, Department] = Lookup(fetch_departments)
        self.sectors = SectorIndex()
        self.seen: dict[str, int] = {}

    def _district_code(self, row: Row) -> str | None:
        code: str | None = row["district"]
        return code or (self.district.code if self.district is not None else None)

    def prefetch(self, rows: list[Row]) -> None:
        for row in rows:
            self.departments.want(row["code"])
            self.places.want(self._district_code(row), *(row["serves"] or []))
        self.departments.load()
        self.places.load()

    def check(self, row: Row) -> None:
        code: str = row["code"]
        if code in self.seen:
            row.error("code", _("This code is already on row %(row)s") % {"row": self.seen[code]})
            return
        self.seen[code] = row.number
        district_code = self._district_code(row)
        district = None
        if district_code is None:
            row.error("district", _("Give the district's code, or import with --district"))
        elif not self.outside_district(row, "district", district_code):
            district = self.find(row, self.places, district_code, "district", no_such_place)
            if district is not None and district.level != Level.DISTRICT:
                row.error("district", wrong_level(district, Level.DISTRICT))
        sectors = self.sectors.resolve(row, "sector", [row["sector"]])
        serves = self._serves(row, district) if district is not None else []
        if row.failed:
            return
        values = {
            "code": code,
            "name": row["name"],
            "kind": row["kind"],
            "sector": sectors[0],
            "district": district,
        }
        if row.given("name_en"):
            values["name_en"] = row["name_en"] or ""
        if row.given("phone"):
            values["phone"] = row["phone"] or ""
        if row.given("active"):
            values["is_active"] = True if row["active"] is None else row["active"]
        relations = {"serves": serves} if row.given("serves") else {}
        self.plan(
            row,
            Department,
            self.departments.get(code),
            values,
            key_column="code",
            relations=relations,
        )

    def _serves(self, row: Row, district: Jurisdiction) -> list[Jurisdiction]:
        """The places a department serves: its own district, or townships of it."""
        places: list[Jurisdiction] = []
        unknown: list[str] = []
        elsewhere: list[str] = []
        for code in row["serves"] or []:
            place = self.places.get(code)
            if place is None:
                unknown.append(code)
            elif place.pk == district.pk or (
                place.level == Level.TOWNSHIP and place.parent_id == district.pk
            ):
                places.append(place)
            else:
                elsewhere.append(f"{place.code} {place.name}")
        if unknown:
            row.error(
                "serves",
                _("No jurisdiction has the code: %(codes)s") % {"codes": cells.join(unknown)},
            )
        if elsewhere:
            row.error(
                "serves",
                _("A department serves its own district or townships in it, not: %(places)s")
                % {"places": cells.join(elsewhere)},
            )
        return places


ROLE_WORDS = {
    "1": CentreMembership.Role.CORE,
    "核心": CentreMembership.Role.CORE,
    "主体": CentreMembership.Role.CORE,
    "城管": CentreMembership.Role.CORE,
    "5": CentreMembership.Role.STATIONED,
    "派驻": CentreMembership.Role.STATIONED,
    "进驻": CentreMembership.Role.STATIONED,
    "n": CentreMembership.Role.ON_CALL,
    "随叫": CentreMembership.Role.ON_CALL,
    "值守": CentreMembership.Role.ON_CALL,
    "报到": CentreMembership.Role.ON_CALL,
}


def fetch_memberships(
    keys: list[tuple[str, str]],
) -> Iterable[tuple[tuple[str, str], CentreMembership]]:
    memberships = (
        CentreMembership.objects.filter(
            township__code__in={t for t, _d in keys}, department__code__in={d for _t, d in keys}
        )
        .select_related("township", "department")
        .prefetch_related("people")
    )
    return (((m.township.code, m.department.code), m) for m in memberships)


def fetch_people(usernames: list[str]) -> Iterable[tuple[str, Person]]:
    return ((p.username, p) for p in Person.objects.filter(username__in=usernames))


class CentreImporter(Importer):
    """Who takes part in each township's comprehensive enforcement centre (1+5+N)."""

    kind = "centre"
    title = gettext_lazy("enforcement centre members")
    columns = (
        Column("township", ("街乡代码", "街乡"), cells.digits(9), required=True),
        Column("department", ("部门代码", "部门"), required=True),
        Column(
            "role",
            ("参与方式", "角色"),
            cells.choice(CentreMembership.Role, ROLE_WORDS),
            required=True,
        ),
        Column("people", ("人员", "人员账号", "用户名"), cells.split_items),
    )

    def setup(self) -> None:
        self.places: Lookup[str, Jurisdiction] = Lookup(fetch_places)
        self.departments: Lookup[str, Department] = Lookup(fetch_departments)
        self.people: Lookup[str, Person] = Lookup(fetch_people)
        self.memberships: Lookup[tuple[str, str], CentreMembership] = Lookup(fetch_memberships)
        self.seen: dict[tuple[str, str], int] = {}
        # township code → department code → (row or None when in the database, role)
        self.roles: dict[str, dict[str, tuple[int | None, str]]] = {}

    def prefetch(self, rows: list[Row]) -> None:
        townships = set()
        for row in rows:
            townships.add(row["township"])
            self.places.want(row["township"])
            self.departments.want(row["department"])
            self.people.want(*(row["people"] or []))
            self.memberships.want((row["township"], row["department"]))
        for lookup in (self.places, self.departments, self.people, self.memberships):
            lookup.load()
        new = townships - self.roles.keys()
        for township, department, role in CentreMembership.objects.filter(
            township__code__in=new
        ).values_list("township__code", "department__code", "role"):
            self.roles.setdefault(township, {})[department] = (None, role)

    def check(self, row: Row) -> None:
        key = (row["township"], row["department"])
        if key in self.seen:
            row.error(
                "department",
                _("This department is already on row %(row)s for the same township")
                % {"row": self.seen[key]},
            )
            return
        self.seen[key] = row.number
        if self.outside_district(row, "township", key[0]):
            return
        township = self.find(row, self.places, key[0], "township", no_such_place)
        if township is not None and township.level != Level.TOWNSHIP:
            row.error("township", wrong_level(township, Level.TOWNSHIP))
            township = None
        department = self.find(
            row,
            self.departments,
            key[1],
            "department",
            no_such_department,
        )
        if township is not None and department is not None:
            self._check_district(row, township, department)
        people = self._people(row)
        if row.failed:
            return
        relations = {"people": people} if row.given("people") else {}
        values = {"township": township, "department": department, "role": row["role"]}
        member = self.plan(
            row,
            CentreMembership,
            self.memberships.get(key),
            values,
            key_column="department",
            relations=relations,
        )
        if member is not None:
            self.roles.setdefault(key[0], {})[key[1]] = (row.number, row["role"])

    def _check_district(self, row: Row, township: Jurisdiction, department: Department) -> None:
        if department.district_id != township.parent_id:
            row.error(
                "department",
                _("%(department)s belongs to %(district)s, not to the district of %(township)s")
                % {
                    "department": department.name,
                    "district": department.district.name,
                    "township": township.name,
                },
            )
            return
        served = {place.pk for place in department.serves.all()}
        if served and not served & {township.pk, department.district_id}:
            self.warnings.append(
                Problem(
                    row.number,
                    self.label("department"),
                    _("%(department)s is not marked as serving %(township)s")
                    % {"department": department.name, "township": township.name},
                )
            )

    def _people(self, row: Row) -> list[Person]:
        people = []
        unknown = []
        for username in row["people"] or []:
            person = self.people.get(username)
            if person is None:
                unknown.append(username)
            else:
                people.append(person)
        if unknown:
            row.error(
                "people",
                _("No person has the username: %(names)s; import the people first")
                % {"names": cells.join(unknown)},
            )
        return people

    def finish(self) -> list[Problem]:
        problems = []
        for township, members in self.roles.items():
            cores = {d: r for d, (r, role) in members.items() if role == CentreMembership.Role.CORE}
            if len(cores) < 2:
                continue
            for row in cores.values():
                if row is None:
                    continue
                problems.append(
                    Problem(
                        row,
                        self.label("role"),
                        _(
                            "A township's centre has one core team; %(township)s would have "
                            "%(count)s: %(departments)s"
                        )
                        % {
                            "township": township,
                            "count": len(cores),
                            "departments": cells.join(sorted(cores)),
                        },
                    )
                )
        return problems
