"""Who may register, answer, recommend and decide, and who may see what.

- Major matters are registered, and opinions on them answered, by the district's chief of
  lanes and its chiefs' office (the district's coordinating office). The township's chief of
  lanes (its principal leader) and its chiefs' office file the township's opinion; its
  dispatchers read the matters too.
- A personnel recommendation is filed by the township's chief of lanes, who leads the
  township Party committee whose power it is, and decided by the district chief of lanes,
  the district's principal leader, in whose name the district Party committee decides on
  cadres. Nobody else sees it: not the dispatchers, not either chiefs' office, not the
  department concerned (the pages answer 404).

The actions read the roles afresh; the pages read them once per request.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from whistle.organisation.models import Role, RoleAssignment
from whistle.township.models import MajorMatter, PersonnelRecommendation

# (role, jurisdiction id)
Grant = tuple[str, int | None]

MATTER_KEEPERS = (Role.DISTRICT_CHIEF, Role.CHIEFS_OFFICE)
OPINION_FILERS = (Role.TOWNSHIP_CHIEF, Role.CHIEFS_OFFICE)
MATTER_READERS = (*OPINION_FILERS, Role.DISPATCHER)
RECOMMENDERS = (Role.TOWNSHIP_CHIEF,)
DECIDERS = (Role.DISTRICT_CHIEF,)


def grants(person: Any, *, fresh: bool = False) -> frozenset[Grant]:
    """The person's roles with their district or township; kept on the person object for
    one request unless `fresh`."""
    if person is None or not getattr(person, "is_active", False) or not person.pk:
        return frozenset()
    cached = None if fresh else getattr(person, "_township_grants", None)
    if cached is None:
        cached = frozenset(
            RoleAssignment.objects.held_by(person).values_list("role", "jurisdiction_id")
        )
        person._township_grants = cached
    return cached


def role_in(
    person: Any, roles: tuple[str, ...], jurisdiction_id: int | None, *, fresh: bool = False
) -> str | None:
    """The first of `roles` the person holds in the district or township, or None."""
    held = grants(person, fresh=fresh)
    for role in roles:
        if (role, jurisdiction_id) in held:
            return str(role)
    return None


def jurisdictions_of(person: Any, roles: tuple[str, ...]) -> set[int]:
    wanted = set(roles)
    return {j for role, j in grants(person) if role in wanted and j is not None}


def visible_matters(person: Any) -> QuerySet[MajorMatter]:
    """The matters of the districts the person keeps them for, and those that ask the
    opinion of a township whose matters the person reads."""
    districts = sorted(jurisdictions_of(person, MATTER_KEEPERS))
    townships = sorted(jurisdictions_of(person, MATTER_READERS))
    return MajorMatter.objects.filter(
        Q(district_id__in=districts) | Q(opinions__township_id__in=townships)
    ).distinct()


def visible_recommendations(person: Any) -> QuerySet[PersonnelRecommendation]:
    """Those the person's township filed, as its chief, and those the person decides."""
    townships = sorted(jurisdictions_of(person, RECOMMENDERS))
    districts = sorted(jurisdictions_of(person, DECIDERS))
    return PersonnelRecommendation.objects.filter(
        Q(township_id__in=townships) | Q(township__parent_id__in=districts)
    )


def people_with(roles: tuple[str, ...], jurisdiction_ids: list[int]) -> list[Any]:
    """Everyone who holds one of the roles in one of the districts or townships."""
    rows = RoleAssignment.objects.filter(
        role__in=roles, jurisdiction_id__in=jurisdiction_ids, person__is_active=True
    ).select_related("person")
    people = {row.person.pk: row.person for row in rows}
    return [people[pk] for pk in sorted(people)]
