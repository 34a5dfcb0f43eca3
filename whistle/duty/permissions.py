"""Who may keep a roster, who may see it, and who may stand on it.

A department's own roster is kept by its head; the rosters of a township (its command centre
and its enforcement centre's members) by its dispatchers and its township chief of lanes,
who manage the staff stationed in the township day to day. Everyone who may be put on a
roster, and the staff of its department or township, may see it and ask for a swap.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from whistle.duty.models import Roster
from whistle.organisation.models import Person, Role, RoleAssignment

# (role, jurisdiction id, department id)
Grant = tuple[str, int | None, int | None]

DEPARTMENT_MANAGERS = (Role.DEPARTMENT_HEAD,)
TOWNSHIP_MANAGERS = (Role.DISPATCHER, Role.TOWNSHIP_CHIEF)
DEPARTMENT_STAFF = (Role.DEPARTMENT_OFFICER, Role.DEPARTMENT_HEAD)
TOWNSHIP_STAFF = (Role.DISPATCHER, Role.TOWNSHIP_CHIEF, Role.CHIEFS_OFFICE)
# Who may stand on a township command centre's roster.
TOWNSHIP_DUTY = (Role.DISPATCHER, Role.TOWNSHIP_CHIEF, Role.CHIEFS_OFFICE, Role.TOWNSHIP_ASSESSOR)
# The role written in the log of a change made by an import or by the demo.
IMPORT_ROLE = "import"
SYSTEM_ROLE = "system"


def grants(person: Any, *, fresh: bool = False) -> frozenset[Grant]:
    """The person's roles; kept on the person object for one request unless `fresh`."""
    if person is None or not getattr(person, "is_active", False) or not person.pk:
        return frozenset()
    cached = None if fresh else getattr(person, "_duty_grants", None)
    if cached is None:
        cached = frozenset(
            RoleAssignment.objects.filter(person=person).values_list(
                "role", "jurisdiction_id", "department_id"
            )
        )
        person._duty_grants = cached
    return cached


def _held(held: frozenset[Grant], roles: tuple[str, ...], roster: Roster) -> str | None:
    """The first of the roles the person holds for the roster: a department's roles in its
    department, a township's in its township."""
    for role in roles:
        if role in DEPARTMENT_STAFF:
            key: Grant = (role, None, roster.department_id)
        else:
            key = (role, roster.township_id, None)
        if key in held:
            return role
    return None


def manager_role(person: Any, roster: Roster, *, fresh: bool = False) -> str | None:
    """The role in which the person keeps the roster, or None."""
    roles = DEPARTMENT_MANAGERS if roster.township_id is None else TOWNSHIP_MANAGERS
    return _held(grants(person, fresh=fresh), roles, roster)


def viewer_role(person: Any, roster: Roster, *, fresh: bool = False) -> str | None:
    """The role in which the person may see the roster and ask for swaps on it, or None:
    its managers, the staff of its department or township, anyone who may stand on it."""
    held = grants(person, fresh=fresh)
    role = manager_role(person, roster, fresh=fresh)
    if role is None and roster.department_id is not None:
        role = _held(held, DEPARTMENT_STAFF, roster)
    if role is None and roster.township_id is not None:
        role = _held(held, TOWNSHIP_STAFF, roster)
    if role is None and eligible_people(roster).filter(pk=person.pk).exists():
        role = "duty"
    return role


def eligible_people(roster: Roster) -> QuerySet[Person]:
    """The active people who may be put on the roster: for a department, its officers and
    head and the people named for it in any enforcement centre; for a department in a
    township's centre, those named for it there and its officers and head; for a township's
    command centre, the people holding a role at the township."""
    if roster.department_id is not None:
        scope = Q(roles__role__in=DEPARTMENT_STAFF, roles__department_id=roster.department_id) | Q(
            centre_duties__department_id=roster.department_id
        )
        if roster.township_id is not None:
            scope = Q(
                roles__role__in=DEPARTMENT_STAFF, roles__department_id=roster.department_id
            ) | Q(
                centre_duties__department_id=roster.department_id,
                centre_duties__township_id=roster.township_id,
            )
    else:
        scope = Q(roles__role__in=TOWNSHIP_DUTY, roles__jurisdiction_id=roster.township_id)
    return Person.objects.filter(scope, is_active=True).distinct().order_by("name", "username")


def managers_of(roster: Roster) -> list[Person]:
    """The active people who keep the roster, for the requests waiting for them."""
    if roster.township_id is None:
        scope = Q(roles__role__in=DEPARTMENT_MANAGERS, roles__department_id=roster.department_id)
    else:
        scope = Q(roles__role__in=TOWNSHIP_MANAGERS, roles__jurisdiction_id=roster.township_id)
    return list(Person.objects.filter(scope, is_active=True).distinct().order_by("pk"))
