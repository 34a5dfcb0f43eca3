"""Which categories a person reports under, and which fit a description best.

The suggestion scores each active category of the district by the words of its name and of
its keywords (Category.keywords, comma-separated) found in the text; longer words weigh
more, so "井盖" outranks "破损", and the category's own name counts double.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from whistle.organisation.models import Lane
from whistle.organisation.scoping import area_of
from whistle.policies.models import Category

DESCRIPTION_SCAN = 4000


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


@dataclass(frozen=True)
class Suggestion:
    category: Category
    score: int
    matched: tuple[str, ...]


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def suggest(text: str, categories: Iterable[Category], limit: int = 3) -> list[Suggestion]:
    """The categories whose words appear in the text, best first."""
    haystack = _normal(text[:DESCRIPTION_SCAN])
    if not haystack.strip():
        return []
    found = []
    for category in categories:
        name = _normal(category.name)
        words = {_normal(w).strip() for w in category.keywords.replace("，", ",").split(",")}
        matched = sorted((w for w in words if w and w in haystack), key=lambda w: (-len(w), w))
        score = sum(len(w) for w in matched)
        if name and name in haystack:
            score += 2 * len(name)
            matched.insert(0, name)
        if score:
            found.append(Suggestion(category, score, tuple(dict.fromkeys(matched))))
    found.sort(key=lambda s: (-s.score, s.category.major.code, s.category.code))
    return found[:limit]
