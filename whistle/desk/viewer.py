"""Who is looking at a desk page: which command centres and departments they open.

What a person may do to a case is `whistle.cases.permissions.may`; this only answers what
the desk pages list, from the same roles read once per request (`grants_of`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from whistle.cases.permissions import (
    DEPARTMENT_STAFF,
    TOWNSHIP_OFFICE,
    Grant,
    grants_of,
)
from whistle.organisation.models import Department, Jurisdiction, Person, Role

# The roles that open the township's command centre; those held in a district open every
# township of the district.
DESK_ROLES = (Role.DISPATCHER, Role.TOWNSHIP_CHIEF, Role.CHIEFS_OFFICE)


@dataclass(frozen=True)
class Viewer:
    person: Person
    grants: frozenset[Grant]

    @classmethod
    def of(cls, person: Any) -> Viewer:
        return cls(person, grants_of(person))

    def township_office(self, township_id: int | None) -> bool:
        """A dispatcher or the chief of lanes of the township: they see reporters' phones."""
        return township_id is not None and any(
            (role, township_id, None, None) in self.grants for role in TOWNSHIP_OFFICE
        )

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
