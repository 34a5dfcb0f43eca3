"""The chiefs' and stewards' assessment (district:chiefs): for the whole district, one row
per township (its chiefs and stewards summed); for a township, each street and lane chief's
patrols against the district's requirement, lane by lane, and the problems they found, and
each alley steward's contribution, a page of each at a time; from
`whistle.assessment.chiefs`."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from whistle.assessment.chiefs import chiefs_and_stewards, patrol_requirements, township_summaries
from whistle.district.access import Reader
from whistle.district.picker import pick_period
from whistle.district.views.common import choose, page_context
from whistle.organisation.models import Jurisdiction


@login_required
@require_GET
def chiefs(request: HttpRequest) -> HttpResponse:
    reader = Reader.of(request.user)
    districts = list(reader.districts().order_by("code"))
    own_townships = list(reader.townships().select_related("parent").order_by("code"))
    if not districts and not own_townships:
        raise PermissionDenied
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
        if township.parent is None:
            raise Http404
        district = township.parent
    picked = pick_period(request)
    now = timezone.now()
    requirements = patrol_requirements(district)
    keep = [("district", district.code)] if len(districts) > 1 else []
    lists: dict[str, object] = {}
    if township is None:
        lists["summaries"] = township_summaries(district, picked.key, now=now)
    else:
        keep.append(("township", township.code))
        size = settings.WHISTLE_PAGE_SIZE
        chiefs, stewards = chiefs_and_stewards(district, picked.key, township=township, now=now)
        lists["chiefs"] = Paginator(chiefs, size).get_page(request.GET.get("page"))
        lists["stewards"] = Paginator(stewards, size).get_page(request.GET.get("stewards_page"))
    context = page_context(
        reader,
        "chiefs",
        district=district,
        districts=districts,
        townships=townships,
        township=township,
        may_choose_all=bool(districts),
        requirements=list(requirements.values()),
        keep=keep,
        **lists,
        **picked.context(),
    )
    return render(request, "district/district/chiefs.html", context)
