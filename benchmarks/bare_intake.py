"""The baseline of the intake benchmarks: one case, one trail event and one in-app
notification inserted in one transaction, with no authentication, no locating, no policy and
no hash chain."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from whistle.cases.models import Case, Event
from whistle.notifications.models import Notification


def bare_intake(description: str, lon: float, lat: float, township: Any, recipient: Any) -> Case:
    now = timezone.now()
    with transaction.atomic():
        case = Case.objects.create(
            source=Case.Source.STEWARD,
            status=Case.Status.REPORTED,
            description=description,
            lon=lon,
            lat=lat,
            district_id=township.parent_id,
            township=township,
            reported_at=now,
        )
        Event.objects.create(
            case=case,
            seq=1,
            at=now,
            kind="case.reported",
            data={"description": description},
            prev_hash="0" * 64,
            hash=uuid.uuid4().hex * 2,
        )
        Notification.objects.create(channel="inapp", recipient=recipient, kind="case.reported")
    return case
