"""Who may do what to a case: a suitable role held in the right scope.

Each action names the scopes that qualify (`Scoped`), in order of preference; the first role
the person holds decides the role written into the trail event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from whistle.cases.errors import PermissionRefused
from whistle.organisation.models import Department, Jurisdiction, Lane, Role, RoleAssignment

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
