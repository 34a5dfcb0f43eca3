from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_safe

from whistle.cases.models import Case, Summons
from whistle.cases.permissions import DEPARTMENT_STAFF, grants_of
from whistle.cases.scoping import visible_cases
from whistle.cases.worklists import WorkItem, in_order, on_hand
from whistle.organisation.models import Jurisdiction
from whistle.organisation.scoping import area_of, visible_jurisdictions, visible_lanes
from whistle.web import mapdata
from whistle.web.dashboards import DASHBOARDS, dashboards_for, may_open
from whistle.web.forms import GalleryForm

# htmx stops polling when a response has this status: a signed-out page stops asking.
HTMX_STOP_POLLING = 286

# ASCII digits only: `\d` would take "１" or "²", and `$` a trailing newline.
_TOWNSHIP_CODE = re.compile(r"[0-9]{9}")

GEOJSON = "application/geo+json"


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def geojson_endpoint(view: Callable[..., dict[str, Any]]) -> Callable[..., HttpResponse]:
    """Signed-in GET only; ``?township=CODE`` must be a township the person sees."""

    @wraps(view)
    def wrapped(request: HttpRequest) -> HttpResponse:
        if request.method != "GET":
            return _error(_("Only GET is allowed here."), 405)
        if not request.user.is_authenticated:
            return _error(_("Sign in to see the map."), 403)
        code = request.GET.get("township", "")
        township = None
        if code:
            if not _TOWNSHIP_CODE.fullmatch(code):
                return _error(_("A township code has 9 digits."), 400)
            township = (
                visible_jurisdictions(request.user)
                .filter(level=Jurisdiction.Level.TOWNSHIP, code=code)
                .first()
            )
            if township is None:
                return _error(_("No township with this code in your area."), 404)
        try:
            data = view(request, township)
        except ValueError as exc:
            return _error(str(exc), 400)
        response = JsonResponse(data, content_type=GEOJSON)
        response["Cache-Control"] = "private, no-store"
        return response

    return wrapped


@geojson_endpoint
def jurisdictions_geojson(request: HttpRequest, township: Jurisdiction | None) -> dict[str, Any]:
    return mapdata.jurisdictions_geojson(request.user, township)


@geojson_endpoint
def lanes_geojson(request: HttpRequest, township: Jurisdiction | None) -> dict[str, Any]:
    return mapdata.lanes_geojson(request.user, township)


@geojson_endpoint
def cases_geojson(request: HttpRequest, township: Jurisdiction | None) -> dict[str, Any]:
    status = request.GET.get("status", "open")
    if status not in {"open", "all"}:
        raise ValueError(_("status must be open or all."))
    return mapdata.cases_geojson(request.user, township, open_only=status == "open")


# How many rows the home page lists of the department's work and of one's own reports.
HOME_LIMIT = 8


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "web/landing.html")
    now = timezone.now()
    area = area_of(request.user)
    # A resident's roles cover no area: no figures, lanes or map of nothing.
    has_area = bool(area.everything or area.prefixes or area.lane_ids or area.department_ids)
    context: dict[str, Any] = {
        "links": dashboards_for(request.user),
        "has_area": has_area,
        "work": department_work(request.user, now),
        "reports": own_reports(request.user),
    }
    if has_area:
        context["my_lanes"] = list(
            visible_lanes(request.user)
            .select_related("township")
            .order_by("township__code", "name")[:20]
        )
        context["summary"] = mapdata.area_summary(request.user, now)
    return render(request, "web/home.html", context)


@dataclass(frozen=True)
class DepartmentWork:
    """A department officer's or head's own departments' summonses on hand."""

    items: list[WorkItem]
    total: int
    to_act: int


def department_work(person: Any, now: datetime) -> DepartmentWork | None:
    """What the person's departments have on their hands, in the desk's order; None for
    someone who works in no department."""
    departments = {
        grant[3] for grant in grants_of(person) if grant[0] in DEPARTMENT_STAFF and grant[3]
    }
    if not departments:
        return None
    items = in_order(on_hand(departments), now)
    return DepartmentWork(
        items=items[:HOME_LIMIT],
        total=len(items),
        to_act=sum(1 for item in items if item.to_act),
    )


@dataclass(frozen=True)
class OwnReport:
    case: Case
    # The case's page where the person may open it, else the public page that follows it.
    url: str


def own_reports(person: Any) -> list[OwnReport]:
    """The cases the person reported, newest first."""
    cases = list(
        Case.objects.filter(reporter=person)
        .select_related("category", "lane", "township")
        .order_by("-reported_at", "-pk")[:HOME_LIMIT]
    )
    if not cases:
        return []
    seen = set(
        visible_cases(person).filter(pk__in=[c.pk for c in cases]).values_list("pk", flat=True)
    )
    return [
        OwnReport(
            case,
            reverse("case:detail", args=[case.reference])
            if case.pk in seen
            else reverse("reports:case", args=[case.reference]),
        )
        for case in cases
    ]


@login_required
@require_GET
def wall(request: HttpRequest) -> HttpResponse:
    wall_page = next(d for d in DASHBOARDS if d.url_name == "web:wall")
    if not may_open(request.user, wall_page):
        raise PermissionDenied
    return render(
        request,
        "web/wall.html",
        {"summary": mapdata.area_summary(request.user, timezone.now(), due_limit=12)},
    )


@require_GET
def area_summary(request: HttpRequest) -> HttpResponse:
    """The live part of the home page and the wall, polled by htmx every few seconds. A
    signed-out poll is sent to sign in, which takes the whole page there: a wall that went
    on showing its last figures would look live."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    due_limit = 12 if request.GET.get("layout") == "wall" else 8
    summary = mapdata.area_summary(request.user, timezone.now(), due_limit=due_limit)
    response = render(request, "web/partials/area_summary.html", {"summary": summary})
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def components(request: HttpRequest) -> HttpResponse:
    """Every element of the design system on one page, for the people building role pages."""
    if not request.user.is_staff:
        raise PermissionDenied
    messages.info(request, _("An information message."))
    messages.success(request, _("A success message: the summons was acknowledged."))
    messages.warning(request, _("A warning message: the deadline is near."))
    messages.error(request, _("An error message: the check-in is too far from the case."))
    now = timezone.now()
    form = GalleryForm(data={"description": "", "phone": "12345"})
    form.is_valid()
    context = {
        "form": form,
        "far": now + timedelta(hours=2, minutes=5),
        "near": now + timedelta(minutes=4),
        "past": now - timedelta(minutes=3),
        "case_statuses": Case.Status.choices,
        "summons_statuses": Summons.Status.choices,
    }
    return render(request, "web/components.html", context)


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers and tools ask for /favicon.ico without reading a page's links. Not a
    permanent redirect: the collected file's hashed name changes with its content."""
    response = HttpResponseRedirect(static("whistle/favicon.ico"))
    response["Cache-Control"] = "public, max-age=86400"
    return response
