"""The organisation, read only: jurisdictions, lanes, departments and categories the caller
may see, by their codes."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext_noop
from ninja import Query, Router, Schema
from pydantic import Field

from whistle.api import schemas as s
from whistle.api.auth import api_token
from whistle.api.shared import caller, english_name, errors
from whistle.organisation.models import Department, Jurisdiction, Person, Role, RoleAssignment
from whistle.organisation.scoping import area_of, visible_jurisdictions, visible_lanes
from whistle.policies.models import Category

router = Router(tags=[gettext_noop("organisation")])
me = Router(tags=[gettext_noop("me")])


class JurisdictionFilters(Schema):
    level: str | None = Field(default=None, max_length=16)
    parent: str | None = Field(default=None, max_length=12)


@router.get(
    "/jurisdictions",
    response={200: list[s.JurisdictionOut], **errors()},
    operation_id="list_jurisdictions",
    summary=gettext_noop("List jurisdictions"),
)
def list_jurisdictions(
    request: HttpRequest, filters: Query[JurisdictionFilters]
) -> list[dict[str, Any]]:
    rows = visible_jurisdictions(caller(request)).select_related("parent")
    if filters.level:
        rows = rows.filter(level=filters.level)
    if filters.parent:
        rows = rows.filter(parent__code=filters.parent)
    return [
        {
            "code": j.code,
            "name": j.name,
            "level": j.level,
            "parent": j.parent.code if j.parent else None,
        }
        for j in rows.order_by("code")
    ]


class LaneFilters(Schema):
    township: str | None = Field(default=None, max_length=12)


@router.get(
    "/lanes",
    response={200: list[s.LaneOut], **errors()},
    operation_id="list_lanes",
    summary=gettext_noop("List lanes"),
)
def list_lanes(request: HttpRequest, filters: Query[LaneFilters]) -> list[dict[str, Any]]:
    rows = visible_lanes(caller(request)).select_related("township", "community")
    if filters.township:
        rows = rows.filter(township__code=filters.township)
    return [
        {
            "township": lane.township.code,
            "name": lane.name,
            "community": lane.community.code if lane.community else None,
            "length_m": lane.length_m,
        }
        for lane in rows.order_by("township__code", "name")
    ]


def _districts(person: Person) -> list[str]:
    """The districts the caller works in: those of their areas and their departments."""
    area = area_of(person)
    if area.everything:
        return list(
            Jurisdiction.objects.filter(level=Jurisdiction.Level.DISTRICT).values_list(
                "code", flat=True
            )
        )
    codes = {prefix[:6] for prefix in area.prefixes}
    codes.update(
        Department.objects.filter(pk__in=sorted(area.department_ids)).values_list(
            "district__code", flat=True
        )
    )
    lane_townships = visible_lanes(person).values_list("township__code", flat=True)
    codes.update(code[:6] for code in lane_townships)
    return sorted(codes)


class DepartmentFilters(Schema):
    township: str | None = Field(default=None, max_length=12)


@router.get(
    "/departments",
    response={200: list[s.DepartmentOut], **errors()},
    operation_id="list_departments",
    summary=gettext_noop("List departments"),
    description=gettext_noop(
        "The departments of the caller's districts (those serving a township, with `township`)."
    ),
)
def list_departments(
    request: HttpRequest, filters: Query[DepartmentFilters]
) -> list[dict[str, Any]]:
    rows = Department.objects.filter(
        district__code__in=_districts(caller(request)), is_active=True
    ).select_related("sector", "district")
    if filters.township:
        rows = rows.filter(Q(serves__code=filters.township) | Q(serves__isnull=True)).distinct()
    return [
        {
            "code": d.code,
            "name": d.name,
            "kind": d.kind,
            "sector": d.sector.code,
            "district": d.district.code,
            "serves": sorted(j.code for j in d.serves.all()),
        }
        for d in rows.prefetch_related("serves").order_by("code")
    ]


@router.get(
    "/categories",
    response={200: list[s.CategoryOut], **errors()},
    operation_id="list_categories",
    summary=gettext_noop("List problem categories"),
    description=gettext_noop(
        "The problem categories of the caller's districts, with their time limits."
    ),
)
def list_categories(request: HttpRequest) -> list[dict[str, Any]]:
    rows = Category.objects.filter(
        major__district__code__in=_districts(caller(request)), is_active=True
    ).select_related("major__district")
    return [
        {
            "code": c.full_code,
            "kind": c.major.kind,
            "name": c.name,
            "name_en": english_name(c.name_en),
            "major": c.major.name,
            "major_name_en": english_name(c.major.name_en),
            "district": c.major.district.code,
            "resolve_within": c.resolve_within,
            "resolve_unit": c.resolve_unit,
        }
        for c in rows.order_by("major__district__code", "major__kind", "major__code", "code")
    ]


@me.get(
    "",
    response={200: s.MeOut, **errors()},
    operation_id="get_me",
    summary=gettext_noop("Read the caller and their roles"),
    description=gettext_noop(
        "The caller, and the roles this request acts in (a token's, or all of the person's)."
    ),
)
def get_me(request: HttpRequest) -> dict[str, Any]:
    person = caller(request)
    token = api_token(request)
    rows = RoleAssignment.objects.held_by(person).select_related(
        "jurisdiction", "lane__township", "department"
    )
    roles = []
    for row in rows:
        scope = None
        if row.jurisdiction is not None:
            scope = row.jurisdiction.code
        elif row.department is not None:
            scope = row.department.code
        elif row.lane is not None:
            scope = f"{row.lane.township.code}/{row.lane.name}"
        roles.append({"role": row.role, "label": str(Role(row.role).label), "scope": scope})
    return {
        "username": person.username,
        "name": person.display_name,
        "roles": roles,
        "token": token.prefix if token else None,
        "token_expires_at": token.expires_at if token else None,
    }
