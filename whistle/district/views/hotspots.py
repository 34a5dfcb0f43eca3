"""Where problems keep coming back (district:hotspots): the cases of a period on the map,
counted in cells of about 100 m (optionally of one category or one township), and the
candidates for root-cause work, each month's one theme (每月一题), from
`whistle.assessment.hotspots.hot_spots`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from whistle.assessment.hotspots import DEFAULT_MIN_CASES, hot_spots
from whistle.district import tables
from whistle.district.access import Reader
from whistle.district.picker import pick_period
from whistle.district.views.common import choose, page_context
from whistle.organisation.models import Jurisdiction
from whistle.policies.models import Category
from whistle.web.replica import reads_replica

MAX_MIN_CASES = 100


def _whole_number(text: str, default: int, low: int, high: int) -> tuple[int, bool]:
    """A whole number from the query; the default (and False) when it is not one in range."""
    if not text:
        return default, True
    if not text.isdigit() or not low <= int(text) <= high:
        return default, False
    return int(text), True


@login_required
@require_GET
@reads_replica
def hotspots(request: HttpRequest) -> HttpResponse:
    reader = Reader.of(request.user)
    districts = list(reader.districts().order_by("code"))
    own_townships = list(reader.townships().select_related("parent").order_by("code"))
    if not districts and not own_townships:
        raise PermissionDenied
    errors = []
    if districts:
        district = choose(request, districts, "district")
        townships = list(
            Jurisdiction.objects.filter(
                parent=district, level=Jurisdiction.Level.TOWNSHIP
            ).order_by("code")
        )
        code = request.GET.get("township", "")
        township = next((t for t in townships if t.code == code), None)
        if code and township is None:
            raise Http404
    else:
        township = choose(request, own_townships, "township")
        townships = own_townships
        district = township.parent  # type: ignore[assignment]
        if district is None:
            raise Http404
    picked = pick_period(request)
    if picked.error:
        errors.append(picked.error)
    categories = list(
        Category.objects.filter(major__district=district, is_active=True)
        .select_related("major")
        .order_by("major__kind", "major__code", "code")
    )
    wanted = request.GET.get("category", "")
    category = next((c for c in categories if str(c.pk) == wanted), None)
    if wanted and category is None:
        errors.append(_("Choose a category of the list."))
    min_cases, fine = _whole_number(
        request.GET.get("min_cases", ""), DEFAULT_MIN_CASES, 1, MAX_MIN_CASES
    )
    if not fine:
        errors.append(
            _("The least number of cases is a whole number from 1 to %(max)s.")
            % {"max": MAX_MIN_CASES}
        )
    # A bare page load looks for rising problems; a submitted form says so itself.
    rising = request.GET.get("rising") == "on" or "period" not in request.GET
    spots = hot_spots(
        district, picked.key, township=township, min_cases=min_cases, rising_only=rising
    )
    if category is not None:
        spots = [s for s in spots if s.category.pk == category.pk]
    cells, counted = tables.case_cells(district, picked.period, township, category)
    context = page_context(
        reader,
        "hotspots",
        district=district,
        districts=districts,
        townships=townships,
        township=township,
        may_choose_all=bool(districts),
        categories=categories,
        category=category,
        min_cases=min_cases,
        rising=rising,
        spots=spots,
        cells=cells,
        counted=counted,
        errors=errors,
        **picked.context(),
    )
    return render(request, "district/district/hotspots.html", context)
