"""What a person may see, decided by the scopes of the roles they hold.

A district role sees the whole district, a township role its township, a lane role its
lanes, a department role the townships its department serves. Superusers and
administrators without a scope see everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from whistle.organisation.models import Jurisdiction, Lane, Role, RoleAssignment


def _assignments(person: Any) -> list[RoleAssignment]:
    if not getattr(person, "is_authenticated", False):
        return []
    cached = getattr(person, "_role_cache", None)
    if cached is None:
        cached = list(
            RoleAssignment.objects.held_by(person)
            .select_related("jurisdiction", "lane__township", "department__district")
            .prefetch_related("department__serves")
        )
        person._role_cache = cached
    return cached


def sees_everything(person: Any) -> bool:
    if not getattr(person, "is_authenticated", False):
        return False
    # A token carries roles, not the superuser's flag.
    if person.is_superuser and getattr(person, "role_limit", None) is None:
        return True
    return any(
        a.role == Role.ADMINISTRATOR and a.jurisdiction_id is None for a in _assignments(person)
    )


@dataclass(frozen=True)
class Area:
    """What a person's roles cover: everything, whole areas by code prefix, single lanes,
    and the departments they work for."""

    everything: bool = False
    prefixes: frozenset[str] = field(default_factory=frozenset)
    lane_ids: frozenset[int] = field(default_factory=frozenset)
    department_ids: frozenset[int] = field(default_factory=frozenset)

    def q(self, *, code: str, lane: str) -> Q:
        """A filter for rows whose jurisdiction code field is `code` and lane id field is
        `lane` (e.g. ``code="township__code", lane="lane_id"``)."""
        if self.everything:
            return Q()
        return _prefix_q(code, set(self.prefixes)) | Q(**{f"{lane}__in": sorted(self.lane_ids)})


def area_of(person: Any) -> Area:
    if sees_everything(person):
        return Area(everything=True)
    prefixes, lane_ids = _code_prefixes(person)
    departments = {a.department.pk for a in _assignments(person) if a.department is not None}
    return Area(
        prefixes=frozenset(prefixes),
        lane_ids=frozenset(lane_ids),
        department_ids=frozenset(departments),
    )


def _code_prefixes(person: Any) -> tuple[set[str], set[int]]:
    """Code prefixes of the areas a person sees whole, and ids of single lanes they see."""
    prefixes: set[str] = set()
    lane_ids: set[int] = set()
    for a in _assignments(person):
        if a.jurisdiction is not None:
            prefixes.add(a.jurisdiction.code)
        elif a.lane is not None:
            lane_ids.add(a.lane.pk)
        elif a.department is not None:
            served = list(a.department.serves.all())
            if served:
                prefixes.update(j.code for j in served)
            else:
                prefixes.add(a.department.district.code)
    return prefixes, lane_ids


def _prefix_q(field: str, prefixes: set[str]) -> Q:
    q = Q(pk__in=[])
    for prefix in sorted(prefixes):
        q |= Q(**{f"{field}__startswith": prefix})
    return q


def visible_lanes(person: Any) -> QuerySet[Lane]:
    if sees_everything(person):
        return Lane.objects.all()
    prefixes, lane_ids = _code_prefixes(person)
    return Lane.objects.filter(_prefix_q("township__code", prefixes) | Q(pk__in=lane_ids))


def visible_jurisdictions(person: Any) -> QuerySet[Jurisdiction]:
    if sees_everything(person):
        return Jurisdiction.objects.all()
    prefixes, lane_ids = _code_prefixes(person)
    lane_townships = Lane.objects.filter(pk__in=lane_ids).values("township_id")
    return Jurisdiction.objects.filter(_prefix_q("code", prefixes) | Q(pk__in=lane_townships))


def has_role(person: Any, *roles: str) -> bool:
    return any(a.role in roles for a in _assignments(person))


def has_role_at(person: Any, level: str, *roles: str) -> bool:
    """One of the roles, held for a district or township of this level (a chiefs' office is
    a district's or a township's)."""
    return any(
        a.role in roles and a.jurisdiction is not None and a.jurisdiction.level == level
        for a in _assignments(person)
    )
