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


class Filings:
    """What the intake benchmarks file with, in a city already made: the demo dispatcher, their
    township, a case of theirs with a category (its place reused) and the three filings each
    benchmark compares: `report_case`, `take_hotline_order` (a fresh order number each time)
    and the bare transaction."""

    CALLER = {"caller_name": "王女士", "caller_phone": "13800000000"}

    def __init__(self, description: str = "人民市场东巷有游商占道") -> None:
        from whistle.cases.models import Case
        from whistle.organisation.models import Person, RoleAssignment

        self.dispatcher = Person.objects.get(username="dispatcher")
        assignment = RoleAssignment.objects.filter(person=self.dispatcher).first()
        assert assignment is not None
        self.township = assignment.jurisdiction
        sample = Case.objects.filter(township=self.township, category__isnull=False).first()
        assert sample is not None
        self.category = sample.category
        self.place: dict[str, Any] = {
            "description": description,
            "lon": sample.lon,
            "lat": sample.lat,
        }
        self._numbers = iter(range(10**9))

    def report(self) -> Any:
        from whistle.cases.actions import report_case

        return report_case(self.dispatcher, category=self.category, **self.place)

    def order(self, number: str | None = None) -> Any:
        from whistle.cases.actions.hotline import take_hotline_order

        return take_hotline_order(
            self.dispatcher,
            number=number or f"B{next(self._numbers)}",
            category=self.category,
            **self.CALLER,
            **self.place,
        )

    def bare(self) -> Case:
        return bare_intake(
            self.place["description"],
            self.place["lon"],
            self.place["lat"],
            self.township,
            self.dispatcher,
        )
