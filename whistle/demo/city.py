"""Build the demo city: a Dongcheng-like district with its places, departments, rules and
people, and a small part of Xicheng beside it, so that districts are seen to be kept apart.

``build_demo_city(seed)`` is deterministic and idempotent. Every row is found by its
natural key (official codes; a township and a lane name; usernames; a district, kind and
class code) and written only when missing or different, so a second run with the same seed
writes nothing. A run with another seed redraws the shapes and the generated people's
names in place. Passwords are set only when a person is created (or on request), so a
password changed by hand survives a rerun. Nothing is ever deleted, but a demo login's
role on a department an older demo gave it and this one does not, where the login already
holds its role on the department it holds now (otherwise that role is moved).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from whistle.demo import geometry, logins
from whistle.demo.data import categories, people, places, services
from whistle.demo.logins import Place
from whistle.organisation.admin_scope import SuperusersOnly
from whistle.organisation.models import (
    BoundingBoxMixin,
    CentreMembership,
    Department,
    GridCell,
    Jurisdiction,
    Lane,
    Person,
    Role,
    RoleAssignment,
    Scope,
    Sector,
)
from whistle.policies.models import (
    Category,
    DistrictPolicy,
    DurationUnit,
    MajorClass,
    WhistleKind,
    WhistleRule,
)

DEFAULT_SEED = 2018

# Every whistle must be answered on site within 30 minutes (the article); an emergency
# whistle must be acknowledged faster than the others.
WHISTLE_ACKNOWLEDGE_MINUTES = {
    WhistleKind.ROUTINE: 10,
    WhistleKind.TOUGH: 10,
    WhistleKind.EMERGENCY: 5,
}
WHISTLE_ARRIVE_MINUTES = 30

M = TypeVar("M", bound=models.Model)
Named = TypeVar("Named", MajorClass, Category)


@dataclass
class DemoCity:
    """The key objects of the demo city, for the steps that build on it."""

    seed: int
    city: Jurisdiction
    district: Jurisdiction  # Dongcheng, where the demo logins and the history are
    districts: dict[str, Jurisdiction]  # every demo district, by code
    townships: dict[str, Jurisdiction]  # by code
    demo_township: Jurisdiction
    demo_community: Jurisdiction
    demo_lane: Lane
    departments: dict[str, Department]  # by code
    logins: dict[str, Person]  # demo logins by username
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)


@dataclass
class _Slot:
    """A person the city needs, before a demo login may take the place over."""

    username: str
    role: Role
    places: list[Place]
    name: str = ""
    login: logins.DemoLogin | None = None
    # The usernames of the slots a demo login took over.
    claimed: list[str] = field(default_factory=list)


@transaction.atomic
def build_demo_city(seed: int = DEFAULT_SEED, *, reset_passwords: bool = False) -> DemoCity:
    """Create or bring up to date the demo city for ``seed``, in one transaction."""
    return _Builder(seed, reset_passwords).build()


class _Builder:
    def __init__(self, seed: int, reset_passwords: bool) -> None:
        self.seed = seed
        self.reset_passwords = reset_passwords
        self.created: Counter[str] = Counter()
        self.updated: Counter[str] = Counter()
        self.districts: dict[str, Jurisdiction] = {}  # by code, set by build_places
        self.townships: dict[str, Jurisdiction] = {}  # by code
        self.communities: dict[tuple[str, str], Jurisdiction] = {}  # (township code, short name)
        self.lanes: dict[tuple[str, str], Lane] = {}  # (township code, name)
        # (township code, index in township from 1, lane name, community short name)
        self.lane_order: list[tuple[str, int, str, str]] = []
        self.sectors: dict[str, Sector] = {}
        self.departments: dict[str, Department] = {}
        self.people: dict[str, Person] = {}  # by slot username, demo logins included
        # Rows by natural key, and many-to-many links, read once per model.
        self.index: dict[tuple[type[models.Model], Any], dict[Any, Any]] = {}
        self._password = ""  # hashed on first use

    def build(self) -> DemoCity:
        city = self.build_places()
        self.build_services()
        for district in self.districts.values():
            self.build_policies(district)
        demo_logins = self.build_people()
        self.build_centres()
        demo_township = self.townships[places.DEMO_TOWNSHIP]
        return DemoCity(
            seed=self.seed,
            city=city,
            district=self.districts[places.DISTRICT_CODE],
            districts=self.districts,
            townships=self.townships,
            demo_township=demo_township,
            demo_community=self.communities[(places.DEMO_TOWNSHIP, places.DEMO_COMMUNITY)],
            demo_lane=self.lanes[(places.DEMO_TOWNSHIP, places.DEMO_LANE)],
            departments=self.departments,
            logins=demo_logins,
            created=self.created,
            updated=self.updated,
        )

    # Writing rows

    def put(
        self,
        model: type[M],
        lookup: dict[str, Any],
        values: dict[str, Any],
        on_create: dict[str, Any] | None = None,
    ) -> M:
        """Find a row by its natural key; create it, or update the fields that differ."""
        rows = self.rows(model, tuple(lookup))
        key = tuple(_raw(value) for value in lookup.values())
        obj = rows.get(key)
        label = model._meta.label
        # The related rows were just found or written: checking they exist again is waste.
        exclude = [f.name for f in model._meta.fields if isinstance(f, models.ForeignKey)]
        if obj is None:
            obj = model(**lookup, **values, **(on_create or {}))
            obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
            obj.save()
            rows[key] = obj
            self.created[label] += 1
            return obj
        changed = [name for name, value in values.items() if _stored(obj, name) != _raw(value)]
        if changed:
            # Related rows given as objects spare clean() a query for each of them.
            for name, value in {**lookup, **values}.items():
                setattr(obj, name, value)
            obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
            if isinstance(obj, BoundingBoxMixin):
                # GridCell.save does not widen update_fields to its bounding box by itself.
                changed += ["min_lon", "min_lat", "max_lon", "max_lat"]
            obj.save(update_fields=changed)
            self.updated[label] += 1
        return obj

    def rows(self, model: type[M], key_fields: tuple[str, ...]) -> dict[tuple[Any, ...], M]:
        """Every row of a model by its natural key, read once: one query instead of one a row."""
        index_key = (model, key_fields)
        if index_key not in self.index:
            self.index[index_key] = {
                tuple(_stored(obj, name) for name in key_fields): obj
                for obj in model._default_manager.all()
            }
        return self.index[index_key]

    def relate(self, obj: models.Model, name: str, targets: Iterable[models.Model]) -> None:
        """Make a many-to-many field hold exactly ``targets``."""
        links = self.links(type(obj), name)
        current = links.get(obj.pk, set())
        wanted = {t.pk for t in targets}
        if current != wanted:
            getattr(obj, name).set(wanted)
            links[obj.pk] = wanted
            label = f"{obj._meta.label}.{name}"
            self.created[label] += len(wanted - current)
            if current - wanted:
                self.updated[label] += 1

    def links(self, model: type[models.Model], name: str) -> dict[Any, set[Any]]:
        """The targets of a many-to-many field for every row, read once."""
        if (model, name) not in self.index:
            m2m = model._meta.get_field(name)
            assert isinstance(m2m, models.ManyToManyField)
            through = m2m.remote_field.through
            assert through is not None
            pairs = through._default_manager.values_list(
                f"{m2m.m2m_field_name()}_id", f"{m2m.m2m_reverse_field_name()}_id"
            )
            links: dict[Any, set[Any]] = {}
            for source, target in pairs:
                links.setdefault(source, set()).add(target)
            self.index[(model, name)] = links
        return self.index[(model, name)]

    # Places

    def build_places(self) -> Jurisdiction:
        level, form = Jurisdiction.Level, Jurisdiction.Form
        city = self.put(
            Jurisdiction,
            {"code": places.CITY_CODE},
            {
                "level": level.CITY,
                "form": form.NONE,
                "name": places.CITY_NAME,
                "name_en": places.CITY_NAME_EN,
                "parent": None,
            },
        )
        for district_data in places.DISTRICTS:
            district = self.put(
                Jurisdiction,
                {"code": district_data.code},
                {
                    "level": level.DISTRICT,
                    "form": form.NONE,
                    "name": district_data.name,
                    "name_en": district_data.name_en,
                    "parent": city,
                    "boundary": geometry.outline([t.extent for t in district_data.townships]),
                },
            )
            self.districts[district_data.code] = district
            for data in district_data.townships:
                township = self.put(
                    Jurisdiction,
                    {"code": data.code},
                    {
                        "level": level.TOWNSHIP,
                        "form": form.STREET_OFFICE,
                        "name": data.full_name,
                        "name_en": data.full_name_en,
                        "parent": district,
                        "boundary": geometry.extent_polygon(data.extent),
                    },
                )
                self.townships[data.code] = township
                self.build_communities(data, township)
        return city

    def build_communities(self, data: places.TownshipData, township: Jurisdiction) -> None:
        level, form = Jurisdiction.Level, Jurisdiction.Form
        blocks = geometry.partition(
            data.extent, len(data.communities), geometry.rng(self.seed, "communities", data.code)
        )
        lengths = {
            lane: metres
            for (code, lane), metres in places.LANE_LENGTHS_M.items()
            if code == data.code
        }
        for number, ((short_name, lane_names), block) in enumerate(
            zip(data.communities.items(), blocks, strict=True), start=1
        ):
            code = f"{data.code}{number:03d}"
            area = geometry.inset(block, geometry.COMMUNITY_INSET)
            community = self.put(
                Jurisdiction,
                {"code": code},
                {
                    "level": level.COMMUNITY,
                    "form": form.COMMUNITY,
                    "name": f"{short_name}社区",
                    "name_en": places.COMMUNITY_NAMES_EN.get((data.code, short_name), ""),
                    "parent": township,
                    "boundary": geometry.extent_polygon(area),
                },
            )
            self.communities[(data.code, short_name)] = community
            cells = geometry.partition(
                area, places.GRID_CELLS_PER_COMMUNITY, geometry.rng(self.seed, "grid", code)
            )
            for serial, cell in enumerate(cells, start=1):
                self.put(
                    GridCell,
                    {"code": f"{code}{serial:03d}"},
                    {"community": community, "boundary": geometry.extent_polygon(cell)},
                )
            lines = geometry.lane_lines(
                area, lane_names, geometry.rng(self.seed, "lanes", code), lengths
            )
            for name in lane_names:
                if (data.code, name) in self.lanes:
                    raise ValueError(f"{name} appears twice in {data.full_name}")
                self.lanes[(data.code, name)] = self.put(
                    Lane,
                    {"township": township, "name": name},
                    {"community": community, "centre_line": lines[name]},
                )
                index = sum(1 for c, *_ in self.lane_order if c == data.code) + 1
                self.lane_order.append((data.code, index, name, short_name))

    # Sectors and departments

    def build_services(self) -> None:
        for code, (name, name_en) in services.SECTORS.items():
            self.sectors[code] = self.put(
                Sector, {"code": code}, {"name": name, "name_en": name_en}
            )
        for data in services.departments():
            station = services.station_of(data)
            department = self.put(
                Department,
                {"code": data.code},
                {
                    "name": data.name,
                    "name_en": data.name_en,
                    "kind": data.kind,
                    "sector": self.sectors[data.sector],
                    "district": self.districts[data.district],
                    "station_lon": station[0] if station else None,
                    "station_lat": station[1] if station else None,
                },
            )
            self.relate(department, "serves", [self.townships[s] for s in data.serves])
            self.departments[data.code] = department

    # Categories and rules

    def build_policies(self, district: Jurisdiction) -> None:
        majors = {
            (kind, code): self.in_english(
                self.put(
                    MajorClass,
                    {"district": district, "kind": kind, "code": code},
                    {"name": name},
                    on_create={"name_en": name_en},
                ),
                name_en=name_en,
            )
            for kind, code, name, name_en in categories.MAJOR_CLASSES
        }
        for data in categories.categories():
            category = self.put(
                Category,
                {"major": majors[(data.kind, data.major)], "code": data.code},
                {
                    "name": data.name,
                    "keywords": data.keywords,
                    "acknowledge_within": data.acknowledge[0],
                    "acknowledge_unit": data.acknowledge[1],
                    "resolve_within": data.resolve[0],
                    "resolve_unit": data.resolve[1],
                },
                on_create={"name_en": data.name_en, "keywords_en": data.keywords_en},
            )
            self.in_english(category, name_en=data.name_en, keywords_en=data.keywords_en)
            self.relate(category, "responsible_sectors", [self.sectors[s] for s in data.sectors])
        # The district may have tuned its policy since: keep it as it is.
        if not DistrictPolicy.objects.filter(district=district).exists():
            self.put(DistrictPolicy, {"district": district}, {})
        for kind, minutes in WHISTLE_ACKNOWLEDGE_MINUTES.items():
            self.put(
                WhistleRule,
                {"district": district, "kind": kind},
                {
                    "acknowledge_within": minutes,
                    "acknowledge_unit": DurationUnit.NATURAL_MINUTES,
                    "arrive_within": WHISTLE_ARRIVE_MINUTES,
                    "arrive_unit": DurationUnit.NATURAL_MINUTES,
                },
            )

    def in_english(self, row: Named, **english: str) -> Named:
        """Give a major class or a category the demo's English name (and a category its
        English keywords) where an older demo database made it without them; what the
        district gave stays."""
        empty = [field for field in english if not getattr(row, field)]
        if empty:
            for field in empty:
                setattr(row, field, english[field])
            row.save(update_fields=empty)
            self.updated[row._meta.label] += 1
        return row

    # People

    def build_people(self) -> dict[str, Person]:
        slots = self.claim_slots(self.slots())
        persons: dict[str, Person] = {}
        for slot in slots:
            login = slot.login
            is_staff = (
                login.is_staff if login else any(p.scope == Scope.DISTRICT for p in slot.places)
            )
            person = self.put(
                Person,
                {"username": slot.username},
                {
                    "name": slot.name or self.drawn_name(slot.username),
                    "is_staff": is_staff,
                    "is_superuser": bool(login and login.is_superuser),
                },
                on_create={"password": self.password()},
            )
            if (
                login
                and self.reset_passwords
                and not person.check_password(settings.WHISTLE_DEMO_PASSWORD)
            ):
                person.password = self.password()
                person.save(update_fields=["password"])
                self.updated[f"{Person._meta.label}.password"] += 1
            if login:
                self.move_department_roles(person, slot)
            for place in slot.places:
                self.put(
                    RoleAssignment,
                    {"person": person, "role": slot.role, **self.scope(place)},
                    {"public_phone": self.public_phone(slot)} if place.scope == Scope.LANE else {},
                )
            persons[slot.username] = person
        readers = self.district_readers()
        administrators = self.district_administrators()
        for slot in slots:
            person = persons[slot.username]
            if person.is_staff and not person.is_superuser:
                groups = [readers]
                if slot.role == Role.ADMINISTRATOR:
                    groups.append(administrators)
                self.relate(person, "groups", groups)
            for claimed in slot.claimed:
                self.people[claimed] = persons[slot.username]
            self.people.setdefault(slot.username, persons[slot.username])
        return {login.username: persons[login.username] for login in logins.DEMO_LOGINS}

    def move_department_roles(self, person: Person, slot: _Slot) -> None:
        """A demo login's role on a department it no longer holds in the demo — an older
        demo made the department head the head of the district's bureau — moves to the
        department it holds now, so a run on an older demo database leaves the login where
        a new one puts it; a second row, where the older database already holds both,
        goes."""
        wanted = [
            self.departments[p.department] for p in slot.places if p.scope == Scope.DEPARTMENT
        ]
        if not wanted:
            return
        rows = self.rows(RoleAssignment, ("person", "role", "department"))
        label = RoleAssignment._meta.label
        wanted_pks = [department.pk for department in wanted]
        stale = [
            key
            for key in rows
            if key[0] == person.pk
            and key[1] == slot.role
            and key[2] is not None
            and key[2] not in wanted_pks
        ]
        for key in stale:
            obj = rows.pop(key)
            free = [d for d in wanted if (person.pk, slot.role, d.pk) not in rows]
            if free:
                obj.department = free[0]
                obj.save(update_fields=["department"])
                rows[(person.pk, slot.role, free[0].pk)] = obj
            else:
                obj.delete()
            self.updated[label] += 1

    def district_readers(self) -> Group:
        """The group that lets district staff read the city and its rules in the admin:
        the models of those apps whose admin is open to staff, not those kept for
        superusers (people, roles, notifications, patrols)."""
        group = self.put(Group, {"name": people.DISTRICT_STAFF_GROUP}, {})
        models_for_staff = [
            model
            for model, model_admin in admin.site._registry.items()
            if model._meta.app_label in people.DISTRICT_STAFF_READS
            and not isinstance(model_admin, SuperusersOnly)
        ]
        readable = Permission.objects.filter(
            content_type__in=ContentType.objects.get_for_models(*models_for_staff).values(),
            codename__startswith="view_",
        )
        self.relate(group, "permissions", readable)
        return group

    def district_administrators(self) -> Group:
        """The group that lets a district's administrator change the district's own data in
        the admin (policy, categories, calendar, schemes, departments); the admin itself
        keeps them to their district (whistle.organisation.admin_scope)."""
        group = self.put(Group, {"name": people.DISTRICT_ADMINISTRATOR_GROUP}, {})
        models_for_administrators = [
            model
            for model, model_admin in admin.site._registry.items()
            if model._meta.app_label in people.DISTRICT_ADMINISTRATOR_CHANGES
            and not isinstance(model_admin, SuperusersOnly)
        ]
        allowed = Permission.objects.filter(
            content_type__in=ContentType.objects.get_for_models(
                *models_for_administrators
            ).values(),
        )
        self.relate(group, "permissions", allowed)
        return group

    def slots(self) -> list[_Slot]:
        """Everyone the city needs, in a fixed order, before the demo logins take over."""
        none = Place(Scope.NONE)
        slots = []
        for district_data in places.DISTRICTS:
            district = Place(Scope.DISTRICT, district=district_data.code)
            # The first district's people keep the names they had before there were two.
            prefix = "" if district_data.code == places.DISTRICT_CODE else f"{district_data.slug}-"
            slots += [
                _Slot(f"{prefix}district-chief", Role.DISTRICT_CHIEF, [district]),
                _Slot(f"{prefix}district-assessor", Role.DISTRICT_ASSESSOR, [district]),
                _Slot(f"{prefix}chiefs-office", Role.CHIEFS_OFFICE, [district]),
            ]
        slots.append(_Slot("admin", Role.ADMINISTRATOR, [none]))
        slots += [
            _Slot(f"resident-{n}", Role.RESIDENT, [none]) for n in range(1, people.RESIDENTS + 1)
        ]
        for data in self.all_townships():
            here = Place(Scope.TOWNSHIP, data.code)
            s = data.tag
            slots += [
                _Slot(f"township-chief-{s}", Role.TOWNSHIP_CHIEF, [here]),
                _Slot(f"township-assessor-{s}", Role.TOWNSHIP_ASSESSOR, [here]),
                _Slot(f"chiefs-office-{s}", Role.CHIEFS_OFFICE, [here]),
            ]
            slots += [
                _Slot(f"dispatcher-{s}-{n}", Role.DISPATCHER, [here])
                for n in range(1, people.DISPATCHERS_PER_TOWNSHIP + 1)
            ]
        for code, index, name, community in self.lane_order:
            lane = Place(Scope.LANE, code, name)
            tag = places.township(code).tag
            if places.is_street(name):
                slots.append(_Slot(f"street-chief-{tag}-{index:02d}", Role.STREET_CHIEF, [lane]))
            else:
                slots.append(_Slot(f"lane-chief-{tag}-{index:02d}", Role.LANE_CHIEF, [lane]))
            in_demo = (code, community) == (places.DEMO_TOWNSHIP, places.DEMO_COMMUNITY)
            stewards = (
                people.STEWARDS_PER_DEMO_COMMUNITY_LANE if in_demo else people.STEWARDS_PER_LANE
            )
            slots += [
                _Slot(f"steward-{tag}-{index:02d}-{n}", Role.STEWARD, [lane])
                for n in range(1, stewards + 1)
            ]
        for department in services.departments():
            unit = Place(Scope.DEPARTMENT, department=department.code)
            code = department.code
            if department.kind == Department.Kind.DISPATCHED and len(department.serves) > 1:
                # One officer answers for each township the agency serves.
                slots += [
                    _Slot(f"{code}-{places.township(s).tag}", Role.DEPARTMENT_OFFICER, [unit])
                    for s in department.serves
                ]
                continue
            slots += [
                _Slot(f"{code}-{n}", Role.DEPARTMENT_OFFICER, [unit])
                for n in range(1, services.OFFICERS_PER_DEPARTMENT + 1)
            ]
            if department.kind == Department.Kind.FUNCTIONAL:
                slots.append(_Slot(f"{code}-head", Role.DEPARTMENT_HEAD, [unit]))
        return slots

    def all_townships(self) -> list[places.TownshipData]:
        return [t for d in places.DISTRICTS for t in d.townships]

    def claim_slots(self, slots: list[_Slot]) -> list[_Slot]:
        """Let each demo login take over the first slot of its role at each of its places."""
        result = list(slots)
        for login in logins.DEMO_LOGINS:
            claimed: list[str] = []
            for place in login.places:
                match = next(
                    (
                        s
                        for s in result
                        if s.login is None and s.role == login.role and s.places == [place]
                    ),
                    None,
                )
                if match is not None:
                    result.remove(match)
                    claimed.append(match.username)
            result.append(
                _Slot(login.username, login.role, list(login.places), login.name, login, claimed)
            )
        return result

    def password(self) -> str:
        """The demo password, hashed once: hashing is slow on purpose."""
        if not self._password:
            self._password = make_password(settings.WHISTLE_DEMO_PASSWORD)
        return self._password

    def public_phone(self, slot: _Slot) -> str:
        """The number a lane's signboard prints for a chief (the township's office line for
        the lane) and for about half the stewards (those who agreed to publish one)."""
        rand = geometry.rng(self.seed, "public-phone", slot.username)
        if slot.role == Role.STEWARD and rand.random() < 0.5:
            return ""
        return f"010-{rand.randint(6700, 6799)} {rand.randint(0, 9999):04d}"

    def drawn_name(self, username: str) -> str:
        rand = geometry.rng(self.seed, "name", username)
        given = "".join(rand.choices(people.GIVEN_NAME_CHARACTERS, k=rand.choice((1, 2, 2))))
        return rand.choice(people.SURNAMES) + given

    def scope(self, place: Place) -> dict[str, Any]:
        if place.scope == Scope.DISTRICT:
            return {"jurisdiction": self.districts[place.district]}
        if place.scope == Scope.TOWNSHIP:
            return {"jurisdiction": self.townships[place.township]}
        if place.scope == Scope.LANE:
            return {"lane": self.lanes[(place.township, place.lane)]}
        if place.scope == Scope.DEPARTMENT:
            return {"department": self.departments[place.department]}
        return {}

    # The 1+5+N enforcement centres

    def build_centres(self) -> None:
        for district_data in places.DISTRICTS:
            for position, data in enumerate(district_data.townships):
                self.build_centre(district_data, position, data)

    def build_centre(
        self, district_data: places.DistrictData, position: int, data: places.TownshipData
    ) -> None:
        role = CentreMembership.Role
        township = self.townships[data.code]
        team = services.township_department_code(data, services.TOWNSHIP_TEAM)
        # The core team and the stationed agencies work from the centre, in the middle of a
        # 东城 township; the departments on call set out from their own stations.
        office = places.centre_of(data.extent) if data.district == places.DISTRICT_CODE else None
        self.member(township, team, role.CORE, self.officers(team), office)
        for sector in services.STATIONED_SECTORS:
            agencies = [
                d
                for d in services.departments()
                if d.kind == Department.Kind.DISPATCHED
                and d.sector == sector
                and data.code in d.serves
            ]
            if len(agencies) != 1:
                raise ValueError(f"{data.full_name} needs one {sector} agency")
            agency = agencies[0]
            if len(agency.serves) > 1:
                on_duty = [self.people[f"{agency.code}-{data.tag}"]]
            else:
                on_duty = self.officers(agency.code)
            self.member(township, agency.code, role.STATIONED, on_duty, office)
        on_call = [f"{district_data.slug}-{s}" for s in services.ON_CALL_DEPARTMENTS]
        for code in (c for c in on_call if c in self.departments):
            # Townships share the on-call officers of a department in turn.
            officer = self.officers(code)[position % services.OFFICERS_PER_DEPARTMENT]
            self.member(township, code, role.ON_CALL, [officer])

    def officers(self, department_code: str) -> list[Person]:
        return [
            self.people[f"{department_code}-{n}"]
            for n in range(1, services.OFFICERS_PER_DEPARTMENT + 1)
        ]

    def member(
        self,
        township: Jurisdiction,
        department_code: str,
        role: str,
        on_duty: list[Person],
        station: tuple[float, float] | None = None,
    ) -> None:
        membership = self.put(
            CentreMembership,
            {"township": township, "department": self.departments[department_code]},
            {
                "role": role,
                "station_lon": station[0] if station else None,
                "station_lat": station[1] if station else None,
            },
        )
        self.relate(membership, "people", on_duty)


def _stored(obj: models.Model, name: str) -> Any:
    """A field's value as stored: the key of a related row, without loading that row."""
    model_field = obj._meta.get_field(name)
    if isinstance(model_field, models.ForeignKey):
        return getattr(obj, model_field.attname)
    return getattr(obj, name)


def _raw(value: Any) -> Any:
    return value.pk if isinstance(value, models.Model) else value
