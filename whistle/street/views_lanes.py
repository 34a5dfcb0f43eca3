"""Lanes in public: each lane's page and its printable signboard (公示牌), open to anyone
without signing in, and the list of lanes with their signboards for the township, the
district and the chiefs (docs/street.md, "Lane pages and signboards")."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from whistle.cases.models import Case
from whistle.organisation.models import Lane
from whistle.organisation.scoping import visible_lanes
from whistle.patrols.appointments import appoints_on, office_jurisdictions
from whistle.street.lanes import board, open_problems, qr_svg
from whistle.web.dashboards import DASHBOARDS, may_open

# The list is open to whoever finds it in their navigation (the district and township, the
# chiefs and stewards).
LANE_LIST = next(d for d in DASHBOARDS if d.url_name == "lanes:index")
LANES_PER_PAGE = 50
SIGNBOARD_SIZES = {"a4": "A4", "a3": "A3"}


def report_url(lane: Lane) -> str:
    """The residents' report form with the place set on this lane."""
    return f"{reverse('reports:new')}?lane={lane.pk}"


def _lane(pk: int) -> Lane:
    return get_object_or_404(Lane.objects.select_related("township", "community"), pk=pk)


@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    lane = _lane(pk)
    context: dict[str, Any] = {
        "board": board(lane),
        "report_url": report_url(lane),
        "sizes": SIGNBOARD_SIZES,
    }
    return render(request, "street/lanes/detail.html", context)


@require_GET
def signboard(request: HttpRequest, pk: int, size: str) -> HttpResponse:
    lane = _lane(pk)
    lane_board = board(lane)
    context = {
        "board": lane_board,
        "size": size,
        "size_label": SIGNBOARD_SIZES[size],
        "sizes": SIGNBOARD_SIZES,
        "qr": qr_svg(
            lane_board.url, title=_("QR code: the page of %(lane)s") % {"lane": lane.name}
        ),
    }
    return render(request, "street/lanes/signboard.html", context)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    person: Any = request.user
    if not person.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not may_open(person, LANE_LIST):
        raise PermissionDenied(
            _("Only chiefs, stewards and township or district staff list lanes.")
        )
    lanes = (
        visible_lanes(person)
        .select_related("township")
        .annotate(
            open_count=Count("cases", filter=open_problems()),
            awaiting_count=Count("cases", filter=Q(cases__status=Case.Status.REPORTED)),
        )
        .order_by("township__code", "name")
    )
    page = Paginator(lanes, LANES_PER_PAGE).get_page(request.GET.get("page"))
    offices = office_jurisdictions(person)
    rows = [(lane, appoints_on(lane, offices)) for lane in page]
    return render(
        request,
        "street/lanes/index.html",
        {
            "page": page,
            "rows": rows,
            "appoints_any": any(a for _, a in rows),
            "sizes": SIGNBOARD_SIZES,
        },
    )
