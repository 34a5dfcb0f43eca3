"""Editing a township's units and the categories routed to them, with their log.

Who may: the township's chief of lanes, an administrator of its district, a superuser. Every
change is one action: one transaction, the acting person's role read afresh, one
`UnitLogEntry` per unit changed (what each field was and became). A refusal
(`UnitRefused`, naming the field) writes nothing. An import (`import_units`) checks every
row before it writes any and reports every bad row.

Who sees a township's units: the editors, the township's command-centre and chiefs' office
roles, and the people of its units (each sees the queue of their own unit).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from whistle.organisation.models import Jurisdiction, Person, Role, RoleAssignment
from whistle.organisation.names import in_reader_language
from whistle.organisation.units import (
    RESPONSIBILITIES_MAX,
    RESPONSIBILITY_MAX,
    TownshipUnit,
    UnitLogEntry,
)
from whistle.policies.models import Category
from whistle.policies.routing import CategoryRoute

NAME_MAX = 60
NAME_EN_MAX = 100
IMPORT_ROLE = "import"
EDITOR_ROLES = (Role.TOWNSHIP_CHIEF,)
READER_ROLES = (
    Role.TOWNSHIP_CHIEF,
    Role.CHIEFS_OFFICE,
    Role.DISPATCHER,
    Role.TOWNSHIP_ASSESSOR,
)
# Held in a district, these see the units of every township of the district.
DISTRICT_READER_ROLES = (Role.ADMINISTRATOR, Role.CHIEFS_OFFICE, Role.DISTRICT_CHIEF)


class UnitRefused(Exception):
    """The change is refused; `field` names the input at fault (or "")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class UnitInput:
    """What a unit is given. `name_en`, its English name, is None where the input does not
    say it (an import without the column): a unit keeps the English name it has."""

    kind: str
    name: str
    responsibilities: list[str] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)
    members: list[Person] = field(default_factory=list)
    position: int = 0
    is_active: bool = True
    name_en: str | None = None


# --- Who ---------------------------------------------------------------------------------


def editor_role(person: Any, township: Jurisdiction) -> str | None:
    """The role in which the person may edit the township's units, read afresh, or None."""
    if person is None or not getattr(person, "is_active", False) or not person.pk:
        return None
    if person.is_superuser:
        return str(Role.ADMINISTRATOR)
    held = set(RoleAssignment.objects.held_by(person).values_list("role", "jurisdiction_id"))
    if (Role.TOWNSHIP_CHIEF, township.pk) in held:
        return str(Role.TOWNSHIP_CHIEF)
    if (Role.ADMINISTRATOR, township.parent_id) in held:
        return str(Role.ADMINISTRATOR)
    return None


def readable_townships(person: Any) -> QuerySet[Jurisdiction]:
    """The townships whose units the person may see."""
    townships = Jurisdiction.objects.filter(level=Jurisdiction.Level.TOWNSHIP)
    if person is None or not getattr(person, "is_active", False) or not person.pk:
        return townships.none()
    if person.is_superuser:
        return townships
    held = RoleAssignment.objects.held_by(person)
    by_role = held.filter(role__in=READER_ROLES).values("jurisdiction_id")
    districts = held.filter(role__in=DISTRICT_READER_ROLES).values("jurisdiction_id")
    units = TownshipUnit.objects.filter(members=person).values("township_id")
    return townships.filter(
        Q(pk__in=by_role) | Q(parent_id__in=districts) | Q(pk__in=units)
    ).distinct()


def reads_whole_township(person: Any, township: Jurisdiction) -> bool:
    """Whether the person sees every unit's queue of the township (not only their own)."""
    if editor_role(person, township) is not None:
        return True
    held = RoleAssignment.objects.held_by(person)
    return held.filter(
        Q(role__in=READER_ROLES, jurisdiction=township)
        | Q(role__in=DISTRICT_READER_ROLES, jurisdiction_id=township.parent_id)
    ).exists()


def units_of(township: Jurisdiction) -> QuerySet[TownshipUnit]:
    return TownshipUnit.objects.filter(township=township).order_by("position", "pk")


# --- Checking ----------------------------------------------------------------------------


def _clean(
    township: Jurisdiction,
    data: UnitInput,
    unit: TownshipUnit | None,
    taken: dict[int, str],
) -> UnitInput:
    """The input, cleaned; `taken` maps the categories other units hold to their names."""
    if data.kind not in TownshipUnit.Kind.values:
        raise UnitRefused("kind", _("Choose the kind of unit from the list."))
    name = " ".join((data.name or "").split())
    if not name:
        raise UnitRefused("name", _("The unit needs a name."))
    if len(name) > NAME_MAX:
        raise UnitRefused("name", _("The name is longer than %(n)s characters.") % {"n": NAME_MAX})
    clash = TownshipUnit.objects.filter(township=township, name=name)
    if unit is not None:
        clash = clash.exclude(pk=unit.pk)
    if clash.exists():
        raise UnitRefused(
            "name",
            _("%(township)s already has a unit named %(name)s.")
            % {"township": township.display_name, "name": name},
        )
    name_en = None if data.name_en is None else " ".join(data.name_en.split())
    if name_en is not None and len(name_en) > NAME_EN_MAX:
        raise UnitRefused(
            "name_en",
            _("The English name is longer than %(n)s characters.") % {"n": NAME_EN_MAX},
        )
    items = [" ".join(str(item).split()) for item in data.responsibilities]
    items = [item for item in items if item]
    if len(items) > RESPONSIBILITIES_MAX:
        raise UnitRefused(
            "responsibilities",
            _("A responsibility list has at most %(n)s items.") % {"n": RESPONSIBILITIES_MAX},
        )
    for item in items:
        if len(item) > RESPONSIBILITY_MAX:
            raise UnitRefused(
                "responsibilities",
                _("An item of the responsibility list is longer than %(n)s characters.")
                % {"n": RESPONSIBILITY_MAX},
            )
    categories: list[Category] = []
    for category in data.categories:
        if category.major.district_id != township.parent_id:
            raise UnitRefused(
                "categories",
                _("The category %(name)s belongs to another district.") % {"name": category},
            )
        if category.pk in taken:
            raise UnitRefused(
                "categories",
                _("The category %(name)s is already handled by %(unit)s.")
                % {"name": category, "unit": taken[category.pk]},
            )
        if category not in categories:
            categories.append(category)
    in_township = RoleAssignment.objects.filter(
        Q(jurisdiction=township) | Q(lane__township=township)
    )
    members: list[Person] = []
    for person in data.members:
        if not person.is_active or not in_township.filter(person=person).exists():
            raise UnitRefused(
                "members",
                _("%(person)s holds no role in %(township)s.")
                % {"person": person.display_name, "township": township.display_name},
            )
        if person not in members:
            members.append(person)
    if not 0 <= data.position <= 999:
        raise UnitRefused("position", _("The position is a number from 0 to 999."))
    return UnitInput(
        kind=data.kind,
        name=name,
        name_en=name_en,
        responsibilities=items,
        categories=categories,
        members=members,
        position=data.position,
        is_active=bool(data.is_active),
    )


def _taken(township: Jurisdiction, unit: TownshipUnit | None) -> dict[int, TownshipUnit]:
    """The categories the township's other units hold, each with its unit."""
    routes = CategoryRoute.objects.filter(township=township).select_related("unit")
    if unit is not None:
        routes = routes.exclude(unit=unit)
    return {r.category_id: r.unit for r in routes}


# --- Writing -----------------------------------------------------------------------------


def _snapshot(unit: TownshipUnit | None) -> dict[str, Any]:
    if unit is None or unit.pk is None:
        return {}
    return {
        "kind": unit.kind,
        "name": unit.name,
        "name_en": unit.name_en,
        "responsibilities": list(unit.responsibilities),
        "categories": sorted(
            f"{r.category.major.code}{r.category.code} {r.category.name}"
            for r in unit.routes.select_related("category__major")
        ),
        "members": sorted(unit.members.values_list("pk", flat=True)),
        "position": unit.position,
        "is_active": unit.is_active,
    }


def _write(
    township: Jurisdiction,
    data: UnitInput,
    unit: TownshipUnit | None,
    *,
    actor: Person | None,
    role: str,
    now: datetime,
    action: str | None = None,
    before: dict[str, Any] | None = None,
) -> TownshipUnit:
    before = _snapshot(unit) if before is None else before
    created = unit is None
    if unit is None:
        unit = TownshipUnit(township=township)
    unit.kind = data.kind
    unit.name = data.name
    if data.name_en is not None:
        unit.name_en = data.name_en
    unit.responsibilities = data.responsibilities
    unit.position = data.position
    unit.is_active = data.is_active
    unit.save()
    unit.members.set(data.members)
    CategoryRoute.objects.filter(unit=unit).exclude(category__in=data.categories).delete()
    held = set(CategoryRoute.objects.filter(unit=unit).values_list("category_id", flat=True))
    CategoryRoute.objects.bulk_create(
        [
            CategoryRoute(township=township, category=c, unit=unit)
            for c in data.categories
            if c.pk not in held
        ]
    )
    after = _snapshot(unit)
    diff = {
        key: [before.get(key), value] for key, value in after.items() if before.get(key) != value
    }
    if diff:
        UnitLogEntry(
            township=township,
            unit=unit,
            at=now,
            actor=actor,
            actor_role=role,
            action=action
            or (UnitLogEntry.Action.CREATED if created else UnitLogEntry.Action.CHANGED),
            changes=diff,
        ).save(force_insert=True)
    return unit


def save_unit(
    actor: Person,
    township: Jurisdiction,
    data: UnitInput,
    *,
    unit: TownshipUnit | None = None,
    now: datetime | None = None,
) -> TownshipUnit:
    """Create a unit of the township, or change one: its kind, name and English name,
    responsibility list, the categories it handles, its people, its place in the list,
    whether it is in use."""
    now = now or timezone.now()
    with transaction.atomic():
        role = editor_role(actor, township)
        if role is None:
            raise UnitRefused(
                "",
                _("You may not change the units of %(township)s.")
                % {"township": township.display_name},
            )
        if unit is not None:
            unit = TownshipUnit.objects.select_for_update().filter(pk=unit.pk).first()
            if unit is None or unit.township_id != township.pk:
                raise UnitRefused(
                    "",
                    _("The unit is not one of %(township)s.") % {"township": township.display_name},
                )
        taken = {c: held.display_name for c, held in _taken(township, unit).items()}
        cleaned = _clean(township, data, unit, taken)
        return _write(township, cleaned, unit, actor=actor, role=role, now=now)


@dataclass
class ImportedUnit:
    """One row of an import, already read: its line, township and input."""

    line: int
    township: Jurisdiction
    data: UnitInput


def import_units(
    rows: Sequence[ImportedUnit], *, now: datetime | None = None
) -> list[tuple[int, str]]:
    """Create or change the units the rows name (by township and name), all or nothing.

    Returns the problems, one per bad row (its line and what is wrong), and writes nothing
    if there is any; otherwise writes every row, each with its log entry."""
    now = now or timezone.now()
    problems: list[tuple[int, str]] = []
    with transaction.atomic():
        claimed: dict[tuple[int, int], str] = {}
        seen: set[tuple[int, str]] = set()
        plan: list[tuple[ImportedUnit, UnitInput, TownshipUnit | None]] = []
        for row in rows:
            key = (row.township.pk, " ".join(row.data.name.split()))
            if key in seen:
                problems.append(
                    (
                        row.line,
                        _("The unit %(name)s is named twice in the file.") % {"name": key[1]},
                    )
                )
                continue
            seen.add(key)
            unit = TownshipUnit.objects.filter(township=row.township, name=key[1]).first()
            taken = {
                c: held.display_name
                for c, held in _taken(row.township, unit).items()
                # A unit of the file may give a category away to another of the file.
                if not _named_in(rows, row.township, held.name)
            }
            taken.update({c: n for (t, c), n in claimed.items() if t == row.township.pk})
            try:
                cleaned = _clean(row.township, row.data, unit, taken)
            except UnitRefused as exc:
                problems.append((row.line, exc.message))
                continue
            english = cleaned.name_en if cleaned.name_en is not None else ""
            if cleaned.name_en is None and unit is not None:
                english = unit.name_en
            for category in cleaned.categories:
                claimed[(row.township.pk, category.pk)] = in_reader_language(cleaned.name, english)
            plan.append((row, cleaned, unit))
        if problems:
            return problems
        befores = [_snapshot(unit) for _row, _cleaned, unit in plan]
        # Routes given away first, so that no two units hold a category at any moment.
        for _row, cleaned, unit in plan:
            if unit is not None:
                CategoryRoute.objects.filter(unit=unit).exclude(
                    category__in=cleaned.categories
                ).delete()
        for (row, cleaned, unit), before in zip(plan, befores, strict=True):
            _write(
                row.township,
                cleaned,
                unit,
                actor=None,
                role=IMPORT_ROLE,
                now=now,
                action=UnitLogEntry.Action.IMPORTED,
                before=before,
            )
    return []


def _named_in(rows: Iterable[ImportedUnit], township: Jurisdiction, name: str) -> bool:
    return any(r.township.pk == township.pk and r.data.name.strip() == name for r in rows)
