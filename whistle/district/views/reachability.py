"""Which lanes of a township its enforcement centre's departments (or those that handle a
category) reach within the arrival limit (of a routine whistle, or the kind chosen) at an
hour (district:reachability): a table, the unreached lanes first, the map, the hours of the
day, the lanes unreached for each group of categories of problem, where one more station
would help and the arrivals the trail measured, from `whistle.assessment.reachability`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from whistle.assessment.reachability import (
    HOURS,
    Model,
    as_geojson,
    by_category,
    day_profile,
    measured_arrivals,
    suggest,
)
from whistle.district.access import Reader
from whistle.district.views.common import choose, page_context
from whistle.organisation.models import Jurisdiction
from whistle.policies.models import Category, WhistleKind


@login_required
@require_GET
def reachability(request: HttpRequest) -> HttpResponse:
    reader = Reader.of(request.user)
    districts = list(reader.districts().order_by("code"))
    if districts:
        district = choose(request, districts, "district")
        townships = list(
            Jurisdiction.objects.filter(
                parent=district, level=Jurisdiction.Level.TOWNSHIP
            ).order_by("code")
        )
        if not townships:
            raise Http404
    else:
        townships = list(reader.townships().select_related("parent").order_by("code"))
        if not townships:
            raise PermissionDenied
    township = choose(request, townships, "township")
    errors = []
    hour = timezone.localtime().hour
    wanted = request.GET.get("hour", "")
    if wanted:
        if wanted.isdigit() and int(wanted) in HOURS:
            hour = int(wanted)
        else:
            errors.append(_("Choose an hour from 0 to 23."))
    categories = list(
        Category.objects.filter(major__district=township.parent, is_active=True)
        .select_related("major")
        .order_by("major__kind", "major__code", "code")
    )
    category = None
    wanted = request.GET.get("category", "")
    if wanted:
        category = next((c for c in categories if str(c.pk) == wanted), None)
        if category is None:
            errors.append(_("Choose a category from the list."))
    kind = WhistleKind.ROUTINE
    wanted = request.GET.get("kind", "")
    if wanted:
        if wanted in WhistleKind.values:
            kind = WhistleKind(wanted)
        else:
            errors.append(_("Choose a kind of whistle from the list."))
    model = Model(township, category=category, kind=kind)
    result = model.at(hour)
    suggestion = suggest(model, result)
    calibration = measured_arrivals(model)
    measured = {c.lane.pk: c for c in calibration.lanes if c.lane is not None}
    rows = [(row, measured.get(row.lane.pk)) for row in result.lanes]
    context = page_context(
        reader,
        "reachability",
        districts=districts,
        townships=townships,
        township=township,
        hours=HOURS,
        hour=hour,
        categories=categories,
        category=category,
        kinds=WhistleKind.choices,
        kind=kind,
        result=result,
        profile=day_profile(model),
        categories_coverage=by_category(model, hour, categories),
        suggestion=suggestion,
        calibration=calibration,
        rows=rows,
        geojson=as_geojson(result, suggestion),
        errors=errors,
    )
    return render(request, "district/district/reachability.html", context)
