"""Who may open which assessment and district page, read from the person's roles once.

The assessment's actions decide what a person may do and refuse everything else; the pages
only need to know what to show. `Reader` answers that from one query of the person's roles
(with the level of each role's jurisdiction), so a list of fifty records does not ask the
database fifty times whether the same person is an assessor.

- township view and rating: township assessors, dispatchers and township chiefs rate; the
  township chiefs' office reads;
- district overview, rankings, drill-down, downloads: district assessors, the district
  chiefs' office, the district chief; department staff see their district's rankings and
  drill into their own department only;
- department records and appeals: department officers and heads;
- appeals to rule on: the district chiefs' office;
- scheme editor: district assessors (closing a period: also the district chiefs' office);
- 1+5+N staffing: district readers for every township of the district, township roles
  for their own township.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from whistle.assessment.actions import APPEAL_ROLES, RATING_ROLES
from whistle.organisation.models import Department, Jurisdiction, Role, RoleAssignment

DISTRICT = Jurisdiction.Level.DISTRICT
TOWNSHIP = Jurisdiction.Level.TOWNSHIP

# District-level roles that read the district's scores.
DISTRICT_READERS = (Role.DISTRICT_ASSESSOR, Role.CHIEFS_OFFICE, Role.DISTRICT_CHIEF)
# Township-level roles that read the township's view of the departments.
TOWNSHIP_READERS = (*RATING_ROLES, Role.CHIEFS_OFFICE)
# Township-level roles that see their township's 1+5+N centre.
CENTRE_READERS = (*TOWNSHIP_READERS,)
SCHEME_EDITORS = (Role.DISTRICT_ASSESSOR,)
PERIOD_CLOSERS = (Role.DISTRICT_ASSESSOR, Role.CHIEFS_OFFICE)
RULERS = (Role.CHIEFS_OFFICE,)


@dataclass(frozen=True)
class Grant:
    role: str
    jurisdiction_id: int | None
    level: str | None
    department_id: int | None
    department_district_id: int | None


@dataclass(frozen=True)
class Reader:
    person: Any
    grants: tuple[Grant, ...]
    everything: bool = False

    @classmethod
    def of(cls, person: Any) -> Reader:
        cached = getattr(person, "_assessment_reader", None)
        if cached is not None:
            return cached
        grants: tuple[Grant, ...] = ()
        everything = False
        if getattr(person, "is_authenticated", False) and person.is_active:
            grants = tuple(
                Grant(*row)
                for row in RoleAssignment.objects.filter(person=person).values_list(
                    "role",
                    "jurisdiction_id",
                    "jurisdiction__level",
                    "department_id",
                    "department__district_id",
                )
            )
            # Superusers and administrators without a scope read every district; they rate,
            # appeal and rule only through the roles the actions ask for.
            everything = bool(person.is_superuser) or any(
                g.role == Role.ADMINISTRATOR and g.jurisdiction_id is None for g in grants
            )
        reader = cls(person, grants, everything)
        person._assessment_reader = reader
        return reader

    def _jurisdictions(self, roles: Iterable[str], level: str) -> set[int]:
        wanted = set(roles)
        return {
            g.jurisdiction_id
            for g in self.grants
            if g.role in wanted and g.level == level and g.jurisdiction_id is not None
        }

    # Townships -------------------------------------------------------------------------

    def rating_township_ids(self) -> set[int]:
        return self._jurisdictions(RATING_ROLES, TOWNSHIP)

    def township_ids(self) -> set[int]:
        """Townships whose view of the departments this person reads."""
        return self._jurisdictions(TOWNSHIP_READERS, TOWNSHIP)

    def townships(self) -> QuerySet[Jurisdiction]:
        return Jurisdiction.objects.filter(level=TOWNSHIP, pk__in=sorted(self.township_ids()))

    # Districts -------------------------------------------------------------------------

    def district_ids(self) -> set[int]:
        """Districts whose scores, rankings and records this person reads in full."""
        return self._jurisdictions(DISTRICT_READERS, DISTRICT)

    def districts(self) -> QuerySet[Jurisdiction]:
        districts = Jurisdiction.objects.filter(level=DISTRICT)
        if self.everything:
            return districts
        return districts.filter(pk__in=sorted(self.district_ids()))

    def ranking_districts(self) -> QuerySet[Jurisdiction]:
        """Districts whose rankings this person sees: the district readers' and the
        districts of the departments they work for."""
        districts = Jurisdiction.objects.filter(level=DISTRICT)
        if self.everything:
            return districts
        ids = self.district_ids() | {
            g.department_district_id for g in self.department_grants() if g.department_district_id
        }
        return districts.filter(pk__in=sorted(ids))

    def reads_district(self, district_id: int | None) -> bool:
        return district_id is not None and (self.everything or district_id in self.district_ids())

    def ruling_district_ids(self) -> set[int]:
        return self._jurisdictions(RULERS, DISTRICT)

    def scheme_district_ids(self) -> set[int]:
        return self._jurisdictions(SCHEME_EDITORS, DISTRICT)

    def closing_district_ids(self) -> set[int]:
        return self._jurisdictions(PERIOD_CLOSERS, DISTRICT)

    def scheme_districts(self) -> QuerySet[Jurisdiction]:
        districts = Jurisdiction.objects.filter(level=DISTRICT)
        if self.person.is_superuser:
            return districts
        return districts.filter(pk__in=sorted(self.scheme_district_ids()))

    # Departments -----------------------------------------------------------------------

    def department_grants(self) -> list[Grant]:
        return [g for g in self.grants if g.role in APPEAL_ROLES and g.department_id]

    def department_ids(self) -> set[int]:
        return {g.department_id for g in self.department_grants() if g.department_id}

    def departments(self) -> QuerySet[Department]:
        return Department.objects.filter(pk__in=sorted(self.department_ids()))

    def reads_department(self, department: Department) -> bool:
        """The drill-down of one department: its district's readers and its own staff."""
        return self.reads_district(department.district_id) or department.pk in (
            self.department_ids()
        )

    # The 1+5+N centres -----------------------------------------------------------------

    def centre_townships(self) -> QuerySet[Jurisdiction]:
        townships = Jurisdiction.objects.filter(level=TOWNSHIP)
        if self.everything:
            return townships
        own = self._jurisdictions(CENTRE_READERS, TOWNSHIP)
        return townships.filter(
            Q(pk__in=sorted(own)) | Q(parent_id__in=sorted(self.district_ids()))
        )

    # What the home page shows -----------------------------------------------------------

    @property
    def opens_anything(self) -> bool:
        return bool(
            self.everything or self.township_ids() or self.district_ids() or self.department_ids()
        )
