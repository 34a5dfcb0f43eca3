"""Building blocks for the tests of the chiefs' assessment, the indicators, the hotline and
the hot spots: cases written with the ORM and their trail with `trail.append_event`, the way
the case actions leave them, so that each test can tell a small story with exact times; and
`august`, the month the indicators and hotline tests share (import ``august_fixture``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from tests.fixtures_assessment import scheme_one_third
from whistle.assessment.engine import recompute_all
from whistle.cases.models import Case, Event, HotlineOrder, Summons, Whistle
from whistle.cases.trail import EventKind, append_event, lock_case
from whistle.organisation.models import Department, Jurisdiction, Lane, Person
from whistle.policies.models import Category, CategoryKind, MajorClass, WhistleKind

BEIJING = ZoneInfo("Asia/Shanghai")


def bj(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    """A moment in Beijing time, as aware UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


def categories(district: Jurisdiction) -> tuple[Category, Category]:
    """Two event categories of the national classes: exposed garbage and street trading."""
    appearance = MajorClass.objects.create(
        district=district, kind=CategoryKind.EVENT, code="01", name="市容环境"
    )
    order = MajorClass.objects.create(
        district=district, kind=CategoryKind.EVENT, code="07", name="街面秩序"
    )
    garbage = Category.objects.create(major=appearance, code="04", name="暴露垃圾")
    trading = Category.objects.create(major=order, code="01", name="无照经营游商")
    return garbage, trading


def trail(
    case: Case,
    kind: str,
    at: datetime,
    *,
    summons: Summons | None = None,
    actor: Person | None = None,
    role: str = "",
    **data: Any,
) -> Event:
    with transaction.atomic():
        locked = lock_case(case.pk)
        return append_event(
            locked, kind, actor=actor, actor_role=role, summons=summons, data=data, at=at
        )


class Tale:
    """One case and what happened to it, told event by event; the case's fields follow
    the events as the case actions would set them."""

    def __init__(
        self,
        township: Jurisdiction,
        at: datetime,
        *,
        category: Category | None = None,
        source: str = Case.Source.PATROL,
        lane: Lane | None = None,
        reporter: Person | None = None,
        role: str = "",
    ) -> None:
        self.township = township
        self.case = Case.objects.create(
            source=source,
            description="人民市场东巷暴露垃圾、游商占道",
            lon=116.432,
            lat=39.872,
            district=township.parent,
            township=township,
            lane=lane,
            category=category,
            reporter=reporter,
            reported_at=at,
        )
        trail(self.case, EventKind.CASE_REPORTED, at, actor=reporter, role=role, source=source)

    def _update(self, **fields: Any) -> None:
        Case.objects.filter(pk=self.case.pk).update(**fields)
        self.case.refresh_from_db()

    def file(self, at: datetime, due: datetime) -> Tale:
        trail(self.case, EventKind.CASE_FILED, at, resolve_due_at=due.isoformat())
        self._update(status=Case.Status.FILED, filed_at=at, resolve_due_at=due)
        return self

    def reject(self, at: datetime) -> Tale:
        trail(self.case, EventKind.CASE_REJECTED, at, reason="不属于城市管理问题")
        self._update(status=Case.Status.REJECTED, rejection_reason="不属于城市管理问题")
        return self

    def merge(self, at: datetime, into: Case) -> Tale:
        trail(self.case, EventKind.CASE_MERGED, at, into=into.reference)
        self._update(status=Case.Status.MERGED, merged_into=into)
        return self

    def whistle(
        self, at: datetime, *departments: Department, resolve_within: timedelta = timedelta(hours=4)
    ) -> list[Summons]:
        whistle = Whistle.objects.create(
            case=self.case,
            kind=WhistleKind.ROUTINE,
            township=self.township,
            blown_by=Person.objects.get_or_create(username="whistle-blower")[0],
            blown_at=at,
        )
        trail(self.case, EventKind.WHISTLE_BLOWN, at)
        arrive_due = at + timedelta(minutes=30)
        summonses = []
        for department in departments:
            summons = Summons.objects.create(
                case=self.case,
                whistle=whistle,
                department=department,
                summoned_at=at,
                acknowledge_due_at=at + timedelta(minutes=10),
                arrive_due_at=arrive_due,
                resolve_due_at=at + resolve_within,
            )
            trail(
                self.case,
                EventKind.SUMMONED,
                at,
                summons=summons,
                arrive_due_at=arrive_due.isoformat(),
                resolve_due_at=(at + resolve_within).isoformat(),
            )
            summonses.append(summons)
        self._update(status=Case.Status.WHISTLED)
        return summonses

    def dispatch(self, at: datetime, department: Department, resolve_due: datetime) -> Summons:
        summons = Summons.objects.create(
            case=self.case,
            department=department,
            summoned_at=at,
            acknowledge_due_at=at + timedelta(hours=1),
            resolve_due_at=resolve_due,
        )
        trail(self.case, EventKind.DISPATCHED, at)
        trail(
            self.case,
            EventKind.SUMMONED,
            at,
            summons=summons,
            resolve_due_at=resolve_due.isoformat(),
        )
        self._update(status=Case.Status.DISPATCHED)
        return summons

    def event(self, kind: str, at: datetime, summons: Summons | None = None, **data: Any) -> Tale:
        trail(self.case, kind, at, summons=summons, **data)
        return self

    def solve_on_spot(self, at: datetime, actor: Person, role: str) -> Tale:
        trail(self.case, EventKind.SOLVED_ON_SPOT, at, actor=actor, role=role, note="当场清理")
        self._update(status=Case.Status.HANDLED, handled_at=at)
        return self

    def check_passed(self, at: datetime) -> Tale:
        trail(self.case, EventKind.CHECK_PASSED, at)
        self._update(status=Case.Status.CHECKED, checked_at=at)
        return self

    def rework(self, at: datetime) -> Tale:
        trail(self.case, EventKind.REWORK, at, reason="现场仍有垃圾")
        self._update(rework_count=self.case.rework_count + 1)
        return self

    def backlog(self, at: datetime) -> Tale:
        trail(self.case, EventKind.BACKLOG, at, reason="需拆除违建，待区里统筹")
        self._update(status=Case.Status.BACKLOG)
        return self

    def close(self, at: datetime) -> Tale:
        trail(self.case, EventKind.CLOSED, at)
        self._update(status=Case.Status.CLOSED, closed_at=at)
        return self

    def order(
        self,
        number: str,
        *,
        reply_by: datetime,
        channel: str = HotlineOrder.Channel.HOTLINE,
        deadline_class: str = "general",
    ) -> Tale:
        """The case came as a work order, received when it was reported."""
        district = self.township.parent
        assert district is not None
        self.hotline_order = HotlineOrder.objects.create(
            case=self.case,
            district=district,
            channel=channel,
            number=number,
            deadline_class=deadline_class,
            deadline_class_name=deadline_class,
            received_at=self.case.reported_at,
            respond_due_at=reply_by,
            resolve_due_at=reply_by,
        )
        return self

    def reply(self, at: datetime) -> Tale:
        order = self.hotline_order
        late = max(0, int((at - order.respond_due_at).total_seconds() // 60))
        trail(
            self.case,
            EventKind.HOTLINE_REPLIED,
            at,
            order=order.number,
            reply_kind="done",
            reply="已处理完毕",
            on_time=at <= order.respond_due_at,
            minutes_late=late,
        )
        HotlineOrder.objects.filter(pk=order.pk).update(
            replied_at=at, reply="已处理完毕", reply_kind="done"
        )
        return self

    def call_back(
        self,
        at: datetime,
        *,
        satisfied: bool | None,
        resolved: bool | None = None,
        contacted: bool = True,
    ) -> Tale:
        trail(
            self.case,
            EventKind.RESIDENT_CALLBACK,
            at,
            contacted=contacted,
            resolved=resolved,
            satisfied=satisfied,
        )
        if contacted:
            self._update(resident_satisfied=satisfied, resident_called_back_at=at)
        HotlineOrder.objects.filter(case=self.case).update(
            called_back_at=at,
            callback_contacted=contacted,
            callback_resolved=resolved,
            callback_satisfied=satisfied,
        )
        return self


@dataclass
class August:
    district: Jurisdiction
    longtan: Jurisdiction
    dongsi: Jurisdiction
    urban: Department
    police: Department
    garbage: Category
    trading: Category
    tales: dict[str, Tale]


@pytest.fixture(name="august")
def august_fixture(small_city) -> August:
    """August 2026 in 东城区: the scenario told in tests/test_assessment_indicators.py."""
    city = small_city
    garbage, trading = categories(city.district)
    urban, police = city.urban_management, city.police
    hotline, resident = Case.Source.HOTLINE, Case.Source.RESIDENT
    t: dict[str, Tale] = {}

    k1 = t["k1"] = Tale(city.longtan, bj(8, 3, 9), category=garbage)
    k1.file(bj(8, 3, 9, 30), due=bj(8, 3, 13, 30))
    u1, p1 = k1.whistle(bj(8, 3, 9, 40), urban, police)
    Summons.objects.filter(pk=p1.pk).update(status=Summons.Status.CANCELLED)
    k1.event(EventKind.ACKNOWLEDGED, bj(8, 3, 9, 45), u1)
    k1.event(EventKind.CHECK_IN_ACCEPTED, bj(8, 3, 10), u1)
    k1.event(EventKind.RESULT, bj(8, 3, 10, 40), u1)
    k1.check_passed(bj(8, 3, 11, 30)).close(bj(8, 3, 12))

    k2 = t["k2"] = Tale(city.longtan, bj(8, 5, 10), category=garbage, source=hotline)
    k2.order("2026080500001", reply_by=bj(8, 12, 10))
    k2.file(bj(8, 5, 20), due=bj(8, 6, 12))
    u2 = k2.dispatch(bj(8, 5, 20, 10), urban, resolve_due=bj(8, 6, 12))
    k2.event(EventKind.ACKNOWLEDGED, bj(8, 5, 21, 10), u2)
    k2.event(EventKind.RESULT, bj(8, 6, 13), u2)
    k2.rework(bj(8, 6, 15))
    Summons.objects.filter(pk=u2.pk).update(resolve_due_at=bj(8, 7, 12))
    k2.event(EventKind.RESULT, bj(8, 7, 8), u2)
    k2.check_passed(bj(8, 7, 8, 30)).close(bj(8, 7, 9)).reply(bj(8, 7, 10))
    k2.call_back(bj(8, 8, 10), satisfied=True, resolved=True)

    k3 = t["k3"] = Tale(city.longtan, bj(8, 10, 8), category=trading, source=hotline)
    k3.order("2026081000002", reply_by=bj(8, 10, 10), deadline_class="emergency")
    k3.reply(bj(8, 10, 11))
    k3.file(bj(8, 11, 9), due=bj(8, 12, 18)).backlog(bj(8, 12, 10))

    k4 = t["k4"] = Tale(city.dongsi, bj(8, 12, 9), category=trading, source=hotline)
    k4.order("2026081200003", reply_by=bj(8, 19, 9))
    k4.reject(bj(8, 12, 10)).reply(bj(8, 12, 10))
    k4.call_back(bj(8, 13, 10), satisfied=False, resolved=False)

    k6 = t["k6"] = Tale(city.dongsi, bj(8, 20, 9), category=garbage, source=resident)
    k6.file(bj(8, 20, 9, 10), due=bj(9, 20, 9, 10))
    (p6,) = k6.whistle(bj(8, 20, 9, 20), police)
    k6.event(EventKind.ACKNOWLEDGED, bj(8, 20, 9, 23), p6)
    k6.event(EventKind.CHECK_IN_ACCEPTED, bj(8, 20, 9, 45), p6)

    k5 = t["k5"] = Tale(city.dongsi, bj(8, 21, 9), category=trading, source=hotline)
    k5.order("2026082100004", reply_by=bj(8, 28, 9))
    k5.merge(bj(8, 21, 9, 30), into=k6.case).reply(bj(8, 21, 9, 30))
    k5.call_back(bj(8, 22, 10), satisfied=None, contacted=False)

    k7 = t["k7"] = Tale(city.dongsi, bj(8, 25, 9), category=trading, source=hotline)
    k7.order("2026082500005", reply_by=bj(8, 26, 9), deadline_class="utilities")
    k7.file(bj(8, 25, 9, 5), due=bj(8, 26, 9, 5))
    (u7,) = k7.whistle(bj(8, 25, 9, 10), urban)
    k7.event(EventKind.ACKNOWLEDGED, bj(8, 25, 9, 22), u7)
    k7.event(EventKind.CHECK_IN_ACCEPTED, bj(8, 25, 9, 50), u7)
    k7.event(EventKind.RESULT, bj(8, 25, 11, 10), u7)
    k7.check_passed(bj(8, 26, 8)).close(bj(8, 26, 9)).reply(bj(8, 26, 10))
    k7.call_back(bj(8, 27, 10), satisfied=False, resolved=True)

    t["k8"] = Tale(city.longtan, bj(7, 31, 23, 30), source=hotline).order(
        "2026073100006", reply_by=bj(8, 7, 23, 30)
    )
    t["k9"] = Tale(city.dongsi, bj(9, 1, 0))

    scheme_one_third(city.district)
    recompute_all()
    return August(city.district, city.longtan, city.dongsi, urban, police, garbage, trading, t)
