"""Which categories a person reports under. Which of them fit a description best is the
domain's: `whistle.cases.suggest.suggest_categories`."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from whistle.organisation.models import Lane
from whistle.organisation.scoping import area_of
from whistle.policies.models import Category


def categories_for(person: Any) -> QuerySet[Category]:
    """Active categories of the districts where the person works."""
    rows = Category.objects.filter(is_active=True).select_related("major")
    area = area_of(person)
    if area.everything:
        return rows.order_by("major__district__code", "major__kind", "major__code", "code")
    codes = {code[:6] for code in area.prefixes}
    # Lanes of township roles are covered by the prefixes; single lanes are not.
    codes.update(
        code[:6]
        for code in Lane.objects.filter(pk__in=sorted(area.lane_ids)).values_list(
            "township__code", flat=True
        )
    )
    return rows.filter(major__district__code__in=sorted(codes)).order_by(
        "major__district__code", "major__kind", "major__code", "code"
    )
