"""Which cases a person may see: those in the area their roles cover and those their
department is summoned to. Residents follow their own reports by reference number on the
public pages, which leave out the names of the people at work."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from whistle.cases.models import Case, Summons
from whistle.organisation.scoping import area_of


def visible_cases(person: Any) -> QuerySet[Case]:
    if not getattr(person, "is_authenticated", False):
        return Case.objects.none()
    area = area_of(person)
    if area.everything:
        return Case.objects.all()
    q = area.q(code="township__code", lane="lane_id")
    districts = sorted(p for p in area.prefixes if len(p) == 6)
    if districts:
        # A case outside every township polygon still belongs to its district.
        q |= Q(township__isnull=True, district__code__in=districts)
    if area.department_ids:
        summoned = Summons.objects.filter(department_id__in=sorted(area.department_ids))
        q |= Q(pk__in=summoned.values("case_id"))
    return Case.objects.filter(q)


def can_see_case(person: Any, case: Case) -> bool:
    return visible_cases(person).filter(pk=case.pk).exists()
