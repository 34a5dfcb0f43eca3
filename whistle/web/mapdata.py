"""What the map and the live summaries show a person: GeoJSON and counts, scoped.

Every query starts from `whistle.organisation.scoping`, so a person never receives a
boundary, a lane or a case outside the area their roles cover. Each builder runs a fixed
number of queries whatever the number of features (the tests assert it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import Count, F, Q, Value, When

from whistle.cases.deadlines import PAUSING_STATUS
from whistle.cases.models import Case, Summons
from whistle.cases.scoping import visible_cases
from whistle.organisation.models import Jurisdiction
from whistle.organisation.names import in_reader_language
from whistle.organisation.scoping import visible_jurisdictions, visible_lanes
from whistle.web.badges import tone_of

# More points than this make a phone's map sluggish; the newest are kept.
MAX_CASE_POINTS = 2000


def feature_collection(features: list[dict[str, Any]], **members: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features, **members}


def jurisdictions_geojson(person: Any, township: Jurisdiction | None) -> dict[str, Any]:
    """Visible districts and townships, or one township and its communities."""
    rows = visible_jurisdictions(person).filter(boundary__isnull=False)
    if township is None:
        rows = rows.filter(level__in=[Jurisdiction.Level.DISTRICT, Jurisdiction.Level.TOWNSHIP])
    else:
        rows = rows.filter(Q(pk=township.pk) | Q(parent=township))
    features = [
        {
            "type": "Feature",
            "id": code,
            "geometry": boundary,
            "properties": {
                "code": code,
                "name": in_reader_language(name, name_en),
                "level": level,
                "level_label": str(Jurisdiction.Level(level).label),
            },
        }
        for code, name, name_en, level, boundary in rows.order_by("code").values_list(
            "code", "name", "name_en", "level", "boundary"
        )
        if boundary
    ]
    return feature_collection(features)


def lanes_geojson(person: Any, township: Jurisdiction | None) -> dict[str, Any]:
    rows = visible_lanes(person)
    if township is not None:
        rows = rows.filter(township=township)
    features = [
        {
            "type": "Feature",
            "id": pk,
            "geometry": line,
            "properties": {
                "name": name,
                "township": in_reader_language(township_name, township_name_en),
                "length_m": length_m,
            },
        }
        for pk, name, township_name, township_name_en, length_m, line in rows.order_by(
            "township__code", "name"
        ).values_list(
            "pk", "name", "township__name", "township__name_en", "length_m", "centre_line"
        )
    ]
    return feature_collection(features)


def cases_geojson(
    person: Any, township: Jurisdiction | None, *, open_only: bool = True
) -> dict[str, Any]:
    cases = visible_cases(person)
    if township is not None:
        cases = cases.filter(township=township)
    if open_only:
        cases = cases.filter(status__in=Case.OPEN_STATUSES)
    points = list(
        cases.order_by("-reported_at").values_list(
            "reference",
            "status",
            "lon",
            "lat",
            "category__name",
            "category__name_en",
            "reported_at",
        )[: MAX_CASE_POINTS + 1]
    )
    features = [
        {
            "type": "Feature",
            "id": reference,
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {
                "reference": reference,
                "status": status,
                "status_label": str(Case.Status(status).label),
                "tone": tone_of(status),
                "category": in_reader_language(category or "", category_en),
                "reported_at": reported_at.isoformat(),
            },
        }
        for reference, status, lon, lat, category, category_en, reported_at in points[
            :MAX_CASE_POINTS
        ]
    ]
    return feature_collection(features, truncated=len(points) > MAX_CASE_POINTS)


# The deadline a summons must meet next. Deadlines come in this order by construction
# (acknowledge ≤ arrive ≤ resolve), so the first unmet one is the nearest.
_NEXT_DUE = models.Case(
    When(acknowledged_at__isnull=True, then=F("acknowledge_due_at")),
    When(arrive_due_at__isnull=False, arrived_at__isnull=True, then=F("arrive_due_at")),
    default=F("resolve_due_at"),
)
_NEXT_DUE_KIND = models.Case(
    When(acknowledged_at__isnull=True, then=Value("acknowledge")),
    When(arrive_due_at__isnull=False, arrived_at__isnull=True, then=Value("arrive")),
    default=Value("resolve"),
    output_field=models.CharField(),
)


@dataclass(frozen=True)
class AreaSummary:
    open_cases: int
    cases_by_status: list[tuple[str, str, int]]  # (status, label, count)
    open_summonses: int
    overdue_summonses: int
    # Summonses whose next deadline has passed, longest overdue first.
    overdue: Sequence[Summons]
    # Summonses whose next deadline is still ahead, nearest first: what is due soon.
    due_next: Sequence[Summons]
    at: datetime
    # Open summonses of cases on the backlog: their deadlines are paused, so they are in
    # neither list above.
    paused_summonses: int = 0


def area_summary(person: Any, now: datetime, *, due_limit: int = 8) -> AreaSummary:
    """Counts of open cases and summonses in a person's area; the overdue summonses and
    those due next, apart, at most `due_limit` of each. Summonses of cases on the backlog
    are neither: their deadlines are paused (`whistle.cases.deadlines.is_paused`), and they
    are counted apart."""
    cases = visible_cases(person).filter(status__in=Case.OPEN_STATUSES)
    counts = dict(
        cases.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    by_status = [
        (status.value, str(status.label), counts[status.value])
        for status in Case.Status
        if counts.get(status.value)
    ]
    summonses = Summons.objects.filter(
        case__in=visible_cases(person).values("pk"), status__in=Summons.OPEN_STATUSES
    ).annotate(next_due_at=_NEXT_DUE, next_due_kind=_NEXT_DUE_KIND)
    paused = Q(case__status=PAUSING_STATUS)
    totals = summonses.aggregate(
        open=Count("pk"),
        overdue=Count("pk", filter=Q(next_due_at__lt=now) & ~paused),
        paused=Count("pk", filter=paused),
    )
    listed = summonses.exclude(paused).select_related("case", "department", "case__township")
    return AreaSummary(
        open_cases=sum(counts.values()),
        cases_by_status=by_status,
        open_summonses=totals["open"],
        overdue_summonses=totals["overdue"],
        overdue=list(listed.filter(next_due_at__lt=now).order_by("next_due_at", "pk")[:due_limit]),
        due_next=list(
            listed.filter(next_due_at__gte=now).order_by("next_due_at", "pk")[:due_limit]
        ),
        at=now,
        paused_summonses=totals["paused"],
    )
