"""Who is looking at a desk page: the roles they hold, read once per request.

The actions in `whistle.cases.actions` decide what a person may do and refuse everything
else; the pages only need to know which forms to offer. `Viewer` answers that from one
query of the person's roles, so that a list of fifty cases does not ask the database fifty
times whether the same person is a dispatcher.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from whistle.cases.permissions import DEPARTMENT_STAFF, LANE_ROLES, TOWNSHIP_OFFICE
from whistle.organisation.models import Department, Jurisdiction, Person, Role, RoleAssignment

# The roles that open the township's command centre, and those of them held at district
# level that open every township of the district.
DESK_ROLES = (Role.DISPATCHER, Role.TOWNSHIP_CHIEF, Role.CHIEFS_OFFICE)
CHIEFS = (Role.TOWNSHIP_CHIEF, Role.CHIEFS_OFFICE)
DISTRICT_CHIEFS = (Role.DISTRICT_CHIEF, Role.CHIEFS_OFFICE)

# (role, jurisdiction id, lane id, department id)
Grant = tuple[str, int | None, int | None, int | None]


@dataclass(frozen=True)
class Viewer:
    person: Person
    grants: frozenset[Grant]

    @classmethod
    def of(cls, person: Any) -> Viewer:
        cached = getattr(person, "_desk_viewer", None)
        if cached is not None:
            return cached
        grants: frozenset[Grant] = frozenset()
        if getattr(person, "is_authenticated", False) and person.is_active:
            grants = frozenset(
                RoleAssignment.objects.filter(person=person).values_list(
                    "role", "jurisdiction_id", "lane_id", "department_id"
                )
            )
        viewer = cls(person, grants)
        person._desk_viewer = viewer
        return viewer

    def holds(
        self,
        roles: Iterable[str],
        *,
        jurisdiction: int | None = None,
        lane: int | None = None,
        department: int | None = None,
    ) -> bool:
        """Whether one of the roles is held in exactly this scope (an empty scope never
        qualifies, as in `whistle.cases.permissions`)."""
        if jurisdiction is None and lane is None and department is None:
            return False
        return any((role, jurisdiction, lane, department) in self.grants for role in roles)

    def roles(self) -> set[str]:
        return {grant[0] for grant in self.grants}

    # The scopes the actions check, by name ---------------------------------------------

    def township_office(self, township_id: int | None) -> bool:
        return self.holds(TOWNSHIP_OFFICE, jurisdiction=township_id)

    def township_chiefs(self, township_id: int | None) -> bool:
        return self.holds(CHIEFS, jurisdiction=township_id)

    def district_chiefs(self, district_id: int | None) -> bool:
        return self.holds(DISTRICT_CHIEFS, jurisdiction=district_id)

    def lane_people(self, lane_id: int | None, roles: Iterable[str] = LANE_ROLES) -> bool:
        return self.holds(roles, lane=lane_id)

    def department_staff(self, department_id: int | None) -> bool:
        return self.holds(DEPARTMENT_STAFF, department=department_id)

    def holds_role(self, role: str, jurisdiction_id: int | None) -> bool:
        return self.holds((role,), jurisdiction=jurisdiction_id)

    # What the desk pages open ------------------------------------------------------------

    def desk_jurisdiction_ids(self) -> tuple[set[int], set[int]]:
        """Townships and districts in which the person holds a command-centre role."""
        ids = {grant[1] for grant in self.grants if grant[0] in DESK_ROLES and grant[1]}
        levels = dict(Jurisdiction.objects.filter(pk__in=ids).values_list("pk", "level"))
        townships = {pk for pk, level in levels.items() if level == Jurisdiction.Level.TOWNSHIP}
        districts = {pk for pk, level in levels.items() if level == Jurisdiction.Level.DISTRICT}
        return townships, districts

    def desk_townships(self) -> QuerySet[Jurisdiction]:
        """The townships whose command centre this person may open: those where they
        dispatch, chief or work in the chiefs' office, and every township of a district
        whose chiefs' office they work in."""
        townships, districts = self.desk_jurisdiction_ids()
        return Jurisdiction.objects.filter(level=Jurisdiction.Level.TOWNSHIP).filter(
            pk__in=townships
        ) | Jurisdiction.objects.filter(level=Jurisdiction.Level.TOWNSHIP, parent_id__in=districts)

    def department_ids(self) -> set[int]:
        return {grant[3] for grant in self.grants if grant[0] in DEPARTMENT_STAFF and grant[3]}

    def departments(self) -> QuerySet[Department]:
        return Department.objects.filter(pk__in=sorted(self.department_ids()))
