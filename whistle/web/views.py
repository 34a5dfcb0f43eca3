from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from whistle.organisation.models import Jurisdiction, Lane
from whistle.organisation.scoping import visible_lanes


def home(request: HttpRequest) -> HttpResponse:
    districts = Jurisdiction.objects.filter(level=Jurisdiction.Level.DISTRICT)
    context = {
        "districts": districts,
        "township_count": Jurisdiction.objects.filter(level=Jurisdiction.Level.TOWNSHIP).count(),
        "lane_count": Lane.objects.count(),
        "my_lanes": (
            visible_lanes(request.user).select_related("township")[:20]
            if request.user.is_authenticated
            else []
        ),
    }
    return render(request, "web/home.html", context)
