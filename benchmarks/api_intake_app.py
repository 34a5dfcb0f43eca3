"""The WSGI application of benchmarks/api_intake.py: the product, plus the bare baseline
endpoint that writes one case, one trail event and one outbox row in one transaction
(benchmarks/bare_intake.py), and `/bench/ready`, which answers with the worker's process id.
Each worker reads the map when it loads this module, before it serves."""

from __future__ import annotations

import json
import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
settings.ROOT_URLCONF = __name__

from django.http import HttpRequest, HttpResponse, JsonResponse  # noqa: E402
from django.urls import URLPattern, URLResolver, path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

from benchmarks.bare_intake import bare_intake  # noqa: E402
from whistle.cases.models import Case  # noqa: E402
from whistle.organisation.models import Person  # noqa: E402
from whistle.organisation.places import city_map  # noqa: E402
from whistle.urls import urlpatterns as product  # noqa: E402

SAMPLE = Case.objects.select_related("township").filter(township__isnull=False).first()
TOWNSHIP = SAMPLE.township if SAMPLE else None
RECIPIENT = Person.objects.filter(username="dispatcher").first()
city_map()


@csrf_exempt
def bare_view(request: HttpRequest) -> HttpResponse:
    body = json.loads(request.body)
    assert TOWNSHIP is not None
    case = bare_intake(body["description"], body["lon"], body["lat"], TOWNSHIP, RECIPIENT)
    return JsonResponse({"reference": case.reference}, status=201)


def ready(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(os.getpid()), content_type="text/plain")


urlpatterns: list[URLPattern | URLResolver] = [
    path("bench/bare-intake", bare_view),
    path("bench/ready", ready),
    *product,
]
