"""Who may do what to a case: a suitable role held in the right scope.

Each action names the scopes that qualify (`Scoped`), in order of preference; the first role
the person holds decides the role written into the trail event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from whistle.cases.errors import PermissionRefused
from whistle.organisation.models import (
    CentreMembership,
    Department,
    Jurisdiction,
    Lane,
    Role,
    RoleAssignment,
)

LANE_ROLES = (Role.STEWARD, Role.LANE_CHIEF, Role.STREET_CHIEF)
TOWNSHIP_OFFICE = (Role.DISPATCHER, Role.TOWNSHIP_CHIEF)
DEPARTMENT_STAFF = (Role.DEPARTMENT_OFFICER, Role.DEPARTMENT_HEAD)


@dataclass(frozen=True)
class Scoped:
    """Some roles held in one scope: a district or township, a lane, or a department."""

    roles: tuple[str, ...]
    jurisdiction: Jurisdiction | None = None
    lane: Lane | None = None
    department: Department | None = None

    @property
    def key(self) -> tuple[int | None, int | None, int | None]:
        return (
            self.jurisdiction.pk if self.jurisdiction is not None else None,
            self.lane.pk if self.lane is not None else None,
            self.department.pk if self.department is not None else None,
        )

    @property
    def target(self) -> Any:
        return self.lane or self.department or self.jurisdiction


class _Joined:
    """Words joined when shown, so that each is translated into the language of that moment."""

    def __init__(self, items: list[Any], separator: str | Promise) -> None:
        self.items = items
        self.separator = separator

    def __str__(self) -> str:
        return str(self.separator).join(str(item) for item in self.items)


class _Who:
    """ "township dispatcher or township chief of lanes of 龙潭街道", built when shown."""

    def __init__(self, scope: Scoped) -> None:
        self.scope = scope

    def __str__(self) -> str:
        roles = _Joined([Role(r).label for r in self.scope.roles], _(" or "))
        return str(_("%(roles)s of %(scope)s")) % {"roles": roles, "scope": self.scope.target}


def held_roles(person: Any) -> set[tuple[str, int | None, int | None, int | None]]:
    if person is None or not getattr(person, "is_active", False) or not person.pk:
        return set()
    return set(
        RoleAssignment.objects.filter(person=person).values_list(
            "role", "jurisdiction_id", "lane_id", "department_id"
        )
    )


def acting_grant(person: Any, *scopes: Scoped) -> tuple[str, Scoped] | None:
    """The first role, in the order given, that the person holds in its scope, with the
    scope it was found in."""
    held = held_roles(person)
    for scope in scopes:
        if scope.target is None:
            continue
        for role in scope.roles:
            if (role, *scope.key) in held:
                return role, scope
    return None


def acting_role(person: Any, *scopes: Scoped) -> str | None:
    grant = acting_grant(person, *scopes)
    return grant[0] if grant else None


def refusal(action: str | Promise, *scopes: Scoped) -> PermissionRefused:
    """The error that names who may do the action instead."""
    scoped = [_Who(s) for s in scopes if s.target is not None]
    if not scoped:
        return PermissionRefused(
            _("You may not %(action)s: the case lies outside every township."), action=action
        )
    who = _Joined(scoped, _(", or "))
    return PermissionRefused(
        _("You may not %(action)s: this is for the %(who)s."), action=action, who=who
    )


def require_role(person: Any, action: str | Promise, *scopes: Scoped) -> str:
    """The role the person acts in; PermissionRefused when they hold none that qualifies."""
    role = acting_role(person, *scopes)
    if role is None:
        raise refusal(action, *scopes)
    return role


# Nobody judges their own -------------------------------------------------------------------


def member_department_ids(person: Any) -> set[int]:
    """The departments a person belongs to: a role held in the department, or a duty named
    for it in a township's enforcement centre (1+5+N)."""
    if person is None or not getattr(person, "pk", None):
        return set()
    held = RoleAssignment.objects.filter(person=person, department__isnull=False)
    found = set(held.values_list("department_id", flat=True))
    found.update(
        CentreMembership.objects.filter(people=person).values_list("department_id", flat=True)
    )
    return found


def partiality(
    person: Any,
    action: str | Promise,
    departments: Iterable[Department] = (),
    *,
    filed_by_id: int | None = None,
    member_of: set[int] | None = None,
) -> PermissionRefused | None:
    """Why the person may not make this judgement (a ruling, an evaluation, a rating): it
    judges a department they belong to, or decides on something they filed themself. None
    when they may. Pages that already know the person's departments pass them in
    `member_of`, so that a list asks the database once."""
    if filed_by_id is not None and filed_by_id == getattr(person, "pk", None):
        return PermissionRefused(
            _("You may not %(action)s: you filed it yourself, so someone else decides."),
            action=action,
        )
    own = member_department_ids(person) if member_of is None else member_of
    for department in departments:
        if department.pk in own:
            return PermissionRefused(
                _("You may not %(action)s: you belong to %(department)s, which it judges."),
                action=action,
                department=department.name,
            )
    return None


def require_impartial(
    person: Any,
    action: str | Promise,
    departments: Iterable[Department] = (),
    *,
    filed_by_id: int | None = None,
) -> None:
    refused = partiality(person, action, departments, filed_by_id=filed_by_id)
    if refused is not None:
        raise refused
