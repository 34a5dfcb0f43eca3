"""Suggestions: the categories that fit a description, possible duplicates of a new case,
and whom to summon.

The category suggestion scores each category by the words of its name and of its keywords
(Category.keywords, comma-separated) found in the text; longer words weigh more, so "井盖"
outranks "破损", and the category's own name counts double. A description written in English
is read against the category's English name too (`Category.name_en`), word by word: the
name's words found in the text, a plural read as its singular and short or common words
left out ("on", "the"), and the whole name counts double when every one of its words is there;
an English keyword (`Category.keywords_en`) counts when all of its words are in the text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Q, QuerySet

from whistle.cases.models import Case
from whistle.cases.rules import district_policy
from whistle.organisation import geo
from whistle.organisation.models import CentreMembership, Department, Jurisdiction, Person
from whistle.policies.models import Category

# Only the start of a long description is read for category words.
DESCRIPTION_SCAN = 4000

_CENTRE_ORDER: dict[str, int] = {
    CentreMembership.Role.CORE: 0,
    CentreMembership.Role.STATIONED: 1,
    CentreMembership.Role.ON_CALL: 2,
}


@dataclass(frozen=True)
class CategorySuggestion:
    category: Category
    score: int
    # The words of the category found in the text, the name first, then longest first.
    matched: tuple[str, ...]


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


_LATIN_WORD = re.compile(r"[a-z0-9]+")
# English words too common, or too short, to say which category a description means.
_COMMON = frozenset(
    {
        "and",
        "are",
        "but",
        "for",
        "from",
        "has",
        "into",
        "its",
        "not",
        "off",
        "other",
        "others",
        "out",
        "the",
        "their",
        "there",
        "this",
        "too",
        "was",
        "were",
        "with",
    }
)


def _stem(word: str) -> str:
    """An English word as matched: a plural read as its singular (lights → light,
    batteries → battery), nothing more."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _english_words(text: str) -> list[str]:
    """The words of a normalised text that can tell categories apart, as matched."""
    words = (_stem(w) for w in _LATIN_WORD.findall(text))
    return [w for w in dict.fromkeys(words) if len(w) > 2 and w not in _COMMON]


def _english_keywords(keywords_en: str) -> list[str]:
    """A category's English keywords (comma-separated), each as matched."""
    phrases = (_normal(p).strip() for p in keywords_en.replace("，", ",").split(","))
    return [p for p in phrases if p]


def suggest_categories(
    text: str, categories: Iterable[Category], limit: int = 3
) -> list[CategorySuggestion]:
    """The categories whose words appear in the text, best first (at most `limit`).

    `categories` are the ones the reporter may choose from (with `major` loaded); full-width
    letters and case do not matter.
    """
    haystack = _normal(text[:DESCRIPTION_SCAN])
    if not haystack.strip():
        return []
    english = set(_english_words(haystack))
    found = []
    for category in categories:
        name = _normal(category.name)
        words = {_normal(w).strip() for w in category.keywords.replace("，", ",").split(",")}
        matched = sorted((w for w in words if w and w in haystack), key=lambda w: (-len(w), w))
        score = sum(len(w) for w in matched)
        if name and name in haystack:
            score += 2 * len(name)
            matched.insert(0, name)
        name_words = _english_words(_normal(category.name_en))
        in_text = [w for w in name_words if w in english and w not in matched]
        if in_text:
            whole = len(in_text) == len(name_words)
            score += sum(len(w) for w in in_text) * (2 if whole else 1)
            matched.extend(sorted(in_text, key=lambda w: (-len(w), w)))
        for phrase in _english_keywords(category.keywords_en):
            phrase_words = _english_words(phrase)
            if phrase_words and phrase not in matched and english.issuperset(phrase_words):
                score += sum(len(w) for w in phrase_words)
                matched.append(phrase)
        if score:
            found.append(CategorySuggestion(category, score, tuple(dict.fromkeys(matched))))
    found.sort(key=lambda s: (-s.score, s.category.major.code, s.category.code))
    return found[:limit]


def clear_best(text: str, categories: Iterable[Category]) -> CategorySuggestion | None:
    """The category that fits the text better than every other, or None when none fits or
    the best ties with another: words shared by many categories ("破损" of every manhole
    cover, the road and the bins) say which kind of problem, not which category, and the
    first of a tie by code is no better a guess than the last."""
    found = suggest_categories(text, categories, limit=2)
    if not found or (len(found) > 1 and found[1].score == found[0].score):
        return None
    return found[0]


def possible_duplicates(case: Case, *, limit: int = 10) -> list[tuple[Case, float]]:
    """Earlier cases that may describe the same problem, nearest first, with their distance.

    Same category (any category while the case has none), within the district's
    duplicate_radius_m and reported within duplicate_window_hours before it; rejected cases
    and cases already merged are left out.
    """
    policy = district_policy(case.district)
    radius = float(policy.duplicate_radius_m)
    dlon, dlat = geo.metres_to_degrees(radius, case.lat)
    candidates = Case.objects.filter(
        lon__range=(case.lon - dlon, case.lon + dlon),
        lat__range=(case.lat - dlat, case.lat + dlat),
        reported_at__gte=case.reported_at - timedelta(hours=policy.duplicate_window_hours),
        reported_at__lte=case.reported_at,
    ).exclude(pk=case.pk)
    candidates = candidates.exclude(status__in=[Case.Status.REJECTED, Case.Status.MERGED])
    if case.category_id is not None:
        candidates = candidates.filter(category_id=case.category_id)
    if case.township_id is not None:
        candidates = candidates.filter(township_id=case.township_id)
    found = []
    for other in candidates.select_related("category", "lane"):
        distance = geo.distance_m((case.lon, case.lat), (other.lon, other.lat))
        if distance <= radius:
            found.append((other, round(distance, 1)))
    found.sort(key=lambda pair: (pair[1], pair[0].reported_at))
    return found[:limit]


def departments_serving(township: Jurisdiction) -> QuerySet[Department]:
    """Active departments that serve the township: named for it or for its district, or
    serving the whole of the township's district (no `serves` entries)."""
    district = township.district
    scope = Q(serves=township)
    if district is not None:
        scope |= Q(serves=district) | Q(district=district, serves__isnull=True)
    return Department.objects.filter(scope, is_active=True).distinct()


def serves(department: Department, township: Jurisdiction) -> bool:
    return departments_serving(township).filter(pk=department.pk).exists()


@dataclass
class DepartmentSuggestion:
    department: Department
    # The department's part in the township's 1+5+N centre, or "" when it is not a member.
    centre_role: str
    # Its people stationed in or on call for the township's centre.
    people: list[Person] = field(default_factory=list)
    # True when its sector is one of the category's responsible sectors.
    responsible: bool = False


def suggest_departments(case: Case) -> list[DepartmentSuggestion]:
    """Whom to summon for a case.

    The departments whose sector the category names as responsible, among the members of
    the township's 1+5+N centre (core, then stationed, then on call, each with its named
    people) and the other departments serving the township. A category without responsible
    sectors suggests the centre's members.
    """
    township = case.township
    if township is None:
        return []
    sector_ids = set(
        case.category.responsible_sectors.values_list("pk", flat=True) if case.category else []
    )
    memberships = {
        m.department_id: m
        for m in CentreMembership.objects.filter(township=township)
        .select_related("department__sector")
        .prefetch_related("people")
    }
    suggestions: dict[int, DepartmentSuggestion] = {}
    for membership in memberships.values():
        department = membership.department
        if not department.is_active:
            continue
        responsible = department.sector_id in sector_ids
        if sector_ids and not responsible:
            continue
        suggestions[department.pk] = DepartmentSuggestion(
            department=department,
            centre_role=membership.role,
            people=sorted(membership.people.all(), key=lambda p: p.username),
            responsible=responsible,
        )
    if sector_ids:
        for department in departments_serving(township).filter(sector_id__in=sector_ids):
            suggestions.setdefault(
                department.pk, DepartmentSuggestion(department, "", [], responsible=True)
            )
    return sorted(
        suggestions.values(),
        key=lambda s: (_CENTRE_ORDER.get(s.centre_role, 3), s.department.name),
    )
