"""The WSGI application of benchmarks/api_intake.py: the product, plus the bare baseline
endpoint that writes one case, one trail event and one outbox row in one transaction, with
no authentication, no locating, no policy and no hash chain."""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
settings.ROOT_URLCONF = __name__

from django.db import transaction  # noqa: E402
from django.http import HttpRequest, HttpResponse, JsonResponse  # noqa: E402
from django.urls import URLPattern, URLResolver, path  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

from whistle.cases.models import Case, Event  # noqa: E402
from whistle.notifications.models import Notification  # noqa: E402
from whistle.organisation.models import Person  # noqa: E402
from whistle.urls import urlpatterns as product  # noqa: E402

SAMPLE = Case.objects.select_related("township").filter(township__isnull=False).first()
TOWNSHIP = SAMPLE.township if SAMPLE else None
RECIPIENT = Person.objects.filter(username="dispatcher").first()


@csrf_exempt
def bare_intake(request: HttpRequest) -> HttpResponse:
    body = json.loads(request.body)
    now = timezone.now()
    assert TOWNSHIP is not None
    with transaction.atomic():
        case = Case.objects.create(
            source=Case.Source.STEWARD,
            status=Case.Status.REPORTED,
            description=body["description"],
            lon=body["lon"],
            lat=body["lat"],
            district_id=TOWNSHIP.parent_id,
            township=TOWNSHIP,
            reported_at=now,
        )
        Event.objects.create(
            case=case,
            seq=1,
            at=now,
            kind="case.reported",
            data={"description": body["description"]},
            prev_hash="0" * 64,
            hash=uuid.uuid4().hex * 2,
        )
        Notification.objects.create(channel="inapp", recipient=RECIPIENT, kind="case.reported")
    return JsonResponse({"reference": case.reference}, status=201)


urlpatterns: list[URLPattern | URLResolver] = [
    path("bench/bare-intake", bare_intake),
    *product,
]
