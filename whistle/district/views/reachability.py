"""Which lanes of a township its enforcement centre's departments reach within the arrival
limit at an hour (district:reachability): a table, the unreached lanes first, and the map,
from `whistle.assessment.reachability`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from whistle.assessment.reachability import HOURS, as_geojson
from whistle.assessment.reachability import reachability as reach_of
from whistle.district.access import Reader
from whistle.district.views.common import choose, page_context
from whistle.organisation.models import Jurisdiction


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
    result = reach_of(township, hour)
    context = page_context(
        reader,
        "reachability",
        districts=districts,
        townships=townships,
        township=township,
        hours=HOURS,
        hour=hour,
        result=result,
        geojson=as_geojson(result),
        errors=errors,
    )
    return render(request, "district/district/reachability.html", context)
