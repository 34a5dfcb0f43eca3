"""A month of whistles in 东城区 for the assessment tests, written straight into the trail.

Three departments (城管执法局, 龙潭派出所, 市场监管局), two townships (龙潭街道, 东四街道). The
trail is built with `trail.append_event` and the event kinds the case actions write, so these
tests do not depend on the case actions themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction

from tests.conftest import make_person
from whistle.assessment.engine import RECORD_FIELDS, RELEVANT_KINDS
from whistle.assessment.models import Scheme, SchemeComponent, ScoreCell, SummonsAssessment
from whistle.assessment.periods import month_start
from whistle.assessment.scoring import SummonsFacts, TrailEvent, derive_facts, score
from whistle.cases.models import Case, Event, Summons, Whistle
from whistle.cases.trail import EventKind, append_event, lock_case
from whistle.organisation.models import Department, Jurisdiction, Person, Role, Sector
from whistle.policies.models import WhistleKind

BEIJING = ZoneInfo("Asia/Shanghai")


def bj(day: int, hour: int, minute: int = 0, month: int = 7) -> datetime:
    """A moment of July 2026 (unless told) in Beijing time, as aware UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


def record_event(
    case: Case, kind: str, at: datetime, summons: Summons | None = None, **data: Any
) -> Event:
    """Append an event as it was appended then: with the clock at `at`."""
    with time_machine.travel(at, tick=False), transaction.atomic():
        locked = lock_case(case.pk)
        return append_event(locked, kind, summons=summons, data=data, at=at)


class Story:
    """One case and what happened to it, told event by event."""

    def __init__(
        self, township: Jurisdiction, at: datetime, blower: Person, source: str = "patrol"
    ) -> None:
        self.township = township
        self.blower = blower
        self.case = Case.objects.create(
            source=source,
            description="占道经营、乱堆物料",
            lon=116.432,
            lat=39.872,
            district=township.parent,
            township=township,
            reported_at=at,
            status=Case.Status.FILED,
        )
        record_event(self.case, EventKind.CASE_REPORTED, at)

    def whistle(self, at: datetime, *departments: Department) -> list[Summons]:
        whistle = Whistle.objects.create(
            case=self.case,
            kind=WhistleKind.ROUTINE,
            township=self.township,
            blown_by=self.blower,
            blown_at=at,
        )
        record_event(self.case, EventKind.WHISTLE_BLOWN, at)
        summonses = []
        arrive_due_at = at + timedelta(minutes=30)
        for department in departments:
            summons = Summons.objects.create(
                case=self.case,
                whistle=whistle,
                department=department,
                summoned_at=at,
                acknowledge_due_at=at + timedelta(minutes=10),
                arrive_due_at=arrive_due_at,
                resolve_due_at=at + timedelta(hours=4),
            )
            record_event(
                self.case,
                EventKind.SUMMONED,
                at,
                summons,
                arrive_due_at=arrive_due_at.isoformat(),
            )
            summonses.append(summons)
        Case.objects.filter(pk=self.case.pk).update(status=Case.Status.WHISTLED)
        return summonses

    def dispatch(self, at: datetime, department: Department) -> Summons:
        """A routine dispatch: no whistle, so no obligation to arrive."""
        summons = Summons.objects.create(
            case=self.case,
            department=department,
            summoned_at=at,
            acknowledge_due_at=at + timedelta(hours=1),
            resolve_due_at=at + timedelta(days=1),
        )
        record_event(self.case, EventKind.DISPATCHED, at)
        record_event(self.case, EventKind.SUMMONED, at, summons)
        return summons

    def event(self, kind: str, at: datetime, summons: Summons | None = None, **data: Any) -> Event:
        return record_event(self.case, kind, at, summons, **data)

    def close(self, at: datetime) -> None:
        record_event(self.case, EventKind.CLOSED, at)
        Case.objects.filter(pk=self.case.pk).update(status=Case.Status.CLOSED, closed_at=at)
        self.case.refresh_from_db()


@dataclass
class Month:
    district: Jurisdiction
    longtan: Jurisdiction
    dongsi: Jurisdiction
    urban: Department
    police: Department
    market: Department
    longtan_assessor: Person
    dongsi_dispatcher: Person
    urban_officer: Person
    police_officer: Person
    chiefs_office: Person
    district_assessor: Person
    stories: dict[str, Story]
    summonses: dict[str, Summons]


def scheme_one_third(
    district: Jurisdiction, valid_from: date = date(2026, 1, 1), **settings: Any
) -> Scheme:
    """The usual scheme: the township evaluation is 1/3 of the score, the district's own
    inspection 2/3; lateness costs 2 points a minute (other `settings` as given)."""
    scheme = Scheme.objects.create(
        district=district,
        name="2026年度考核（街乡评价占三分之一）",
        valid_from=valid_from,
        **settings,
    )
    SchemeComponent.objects.create(scheme=scheme, code="inspection", name="区级检查", weight="2/3")
    return scheme


def scheme_forty_percent(
    district: Jurisdiction, valid_from: date = date(2026, 1, 1), **settings: Any
) -> Scheme:
    """Miyun's weighting: 40% township evaluation, 60% inspection; lateness in bands (other
    `settings` as given)."""
    scheme = Scheme.objects.create(
        district=district,
        name="2026年度考核（街乡评价占40%）",
        valid_from=valid_from,
        township_share="40%",
        late_mode=Scheme.LateMode.BANDS,
        late_bands=[[10, 10], [30, 30]],
        **settings,
    )
    SchemeComponent.objects.create(scheme=scheme, code="inspection", name="区级检查", weight="0.6")
    return scheme


@pytest.fixture(name="july")
def july_fixture(small_city) -> Month:
    """The trail of July 2026 (the rating and the appeal are left to the tests):

    c1 龙潭 06 Jul 09:00 whistle → 城管 checks in 09:20, result, checks out; 派出所 checks in
       09:37 (7 min late), result. Closed 11:00.
    c2 龙潭 08 Jul 14:00, from a resident, whistle → 市场监管 overdue at 14:30, checks in 15:10
       (40 min late), result, sent back for rework, result again. Closed; resident not
       satisfied.
    c3 东四 15 Jul 10:00 whistle → 城管 never checks in (overdue 10:30), no result; 市场监管
       checks in 10:25, declines 10:30, 东四 insists 10:40, result 12:00. Closed 12:00.
    c4 东四 20 Jul 09:00 whistle → 派出所 declines 09:10, upheld 09:40. Closed 10:00.
    c5 龙潭 22 Jul 09:00 routine dispatch (no whistle) → 城管 result 15:00. Closed 16:00.
    c6 东四 28 Jul 09:00 whistle → 派出所 checks in 09:20; still open.
    c7 东四 24 Jul 09:00 whistle → 城管 checks in 09:42 (12 min late), result. Closed 11:00.
    """
    city = small_city
    market_sector = Sector.objects.create(code="market", name="市场监管")
    market = Department.objects.create(
        code="dc-scjgj",
        name="东城区市场监管局",
        kind="functional",
        sector=market_sector,
        district=city.district,
    )
    longtan_assessor = make_person(
        "liu-assessor", Role.TOWNSHIP_ASSESSOR, jurisdiction=city.longtan
    )
    dongsi_dispatcher = make_person("zhao-dispatcher", Role.DISPATCHER, jurisdiction=city.dongsi)
    urban_officer = make_person(
        "wang-officer", Role.DEPARTMENT_OFFICER, department=city.urban_management
    )
    police_officer = make_person("sun-officer", Role.DEPARTMENT_OFFICER, department=city.police)
    chiefs_office = make_person("chen-office", Role.CHIEFS_OFFICE, jurisdiction=city.district)
    district_assessor = make_person(
        "he-assessor", Role.DISTRICT_ASSESSOR, jurisdiction=city.district
    )
    urban, police = city.urban_management, city.police
    stories: dict[str, Story] = {}
    s: dict[str, Summons] = {}

    c1 = stories["c1"] = Story(city.longtan, bj(6, 8, 50), longtan_assessor)
    s["c1_urban"], s["c1_police"] = c1.whistle(bj(6, 9), urban, police)
    c1.event(EventKind.CHECK_IN_ACCEPTED, bj(6, 9, 20), s["c1_urban"])
    c1.event(EventKind.CHECK_IN_ACCEPTED, bj(6, 9, 37), s["c1_police"])
    c1.event(EventKind.RESULT, bj(6, 10), s["c1_urban"])
    c1.event(EventKind.RESULT, bj(6, 10, 5), s["c1_police"])
    c1.event(EventKind.CHECK_OUT, bj(6, 10, 30), s["c1_urban"])
    c1.close(bj(6, 11))

    c2 = stories["c2"] = Story(city.longtan, bj(8, 13, 30), longtan_assessor, source="resident")
    (s["c2_market"],) = c2.whistle(bj(8, 14), market)
    c2.event(EventKind.ARRIVE_OVERDUE, bj(8, 14, 30), s["c2_market"])
    c2.event(EventKind.CHECK_IN_ACCEPTED, bj(8, 15, 10), s["c2_market"])
    c2.event(EventKind.RESULT, bj(8, 16), s["c2_market"])
    c2.event(EventKind.REWORK, bj(8, 17))
    c2.event(EventKind.RESULT, bj(9, 10), s["c2_market"])
    c2.close(bj(9, 11))
    # The call-back as the action writes it: the answer among the event's changes.
    c2.event(
        EventKind.RESIDENT_CALLBACK,
        bj(10, 9),
        satisfied=False,
        changes={"resident_satisfied": [None, False]},
    )
    Case.objects.filter(pk=c2.case.pk).update(resident_satisfied=False)

    c3 = stories["c3"] = Story(city.dongsi, bj(15, 9, 40), dongsi_dispatcher)
    s["c3_urban"], s["c3_market"] = c3.whistle(bj(15, 10), urban, market)
    c3.event(EventKind.CHECK_IN_ACCEPTED, bj(15, 10, 25), s["c3_market"])
    c3.event(EventKind.DECLINED, bj(15, 10, 30), s["c3_market"], reason="非本部门职责")
    c3.event(EventKind.ARRIVE_OVERDUE, bj(15, 10, 30), s["c3_urban"])
    c3.event(EventKind.DECLINE_INSISTED, bj(15, 10, 40), s["c3_market"])
    c3.event(EventKind.RESULT, bj(15, 12), s["c3_market"])
    c3.close(bj(15, 12))

    c4 = stories["c4"] = Story(city.dongsi, bj(20, 8, 50), dongsi_dispatcher)
    (s["c4_police"],) = c4.whistle(bj(20, 9), police)
    c4.event(EventKind.DECLINED, bj(20, 9, 10), s["c4_police"], reason="属交通部门职责")
    c4.event(EventKind.DECLINE_UPHELD, bj(20, 9, 40), s["c4_police"])
    c4.close(bj(20, 10))

    c5 = stories["c5"] = Story(city.longtan, bj(22, 8, 30), longtan_assessor)
    s["c5_urban"] = c5.dispatch(bj(22, 9), urban)
    c5.event(EventKind.RESULT, bj(22, 15), s["c5_urban"])
    c5.close(bj(22, 16))

    c6 = stories["c6"] = Story(city.dongsi, bj(28, 8, 50), dongsi_dispatcher)
    (s["c6_police"],) = c6.whistle(bj(28, 9), police)
    c6.event(EventKind.CHECK_IN_ACCEPTED, bj(28, 9, 20), s["c6_police"])

    c7 = stories["c7"] = Story(city.dongsi, bj(24, 8, 50), dongsi_dispatcher)
    (s["c7_urban"],) = c7.whistle(bj(24, 9), urban)
    c7.event(EventKind.CHECK_IN_ACCEPTED, bj(24, 9, 42), s["c7_urban"])
    c7.event(EventKind.RESULT, bj(24, 10, 30), s["c7_urban"])
    c7.close(bj(24, 11))

    return Month(
        district=city.district,
        longtan=city.longtan,
        dongsi=city.dongsi,
        urban=urban,
        police=police,
        market=market,
        longtan_assessor=longtan_assessor,
        dongsi_dispatcher=dongsi_dispatcher,
        urban_officer=urban_officer,
        police_officer=police_officer,
        chiefs_office=chiefs_office,
        district_assessor=district_assessor,
        stories=stories,
        summonses=s,
    )


INSPECTION_JULY = {
    "dc-cgw": Decimal("90"),
    "dc-longtan-pcs": Decimal("80"),
    "dc-scjgj": Decimal("70"),
}


def records_by_hand() -> dict[int, dict[str, Any]]:
    """Every assessable summons' record as the scoring rules give it, worked out one summons
    at a time from its own case's full trail and the scheme found by date: none of the
    engine's batching, reading or remembering. What the stored records must equal."""
    found: dict[int, dict[str, Any]] = {}
    summonses = Summons.objects.exclude(status=Summons.Status.CANCELLED).select_related(
        "case", "whistle", "department"
    )
    for summons in summonses:
        case = summons.case
        township_id = (
            summons.whistle.township_id if summons.whistle is not None else None
        ) or case.township_id
        month = month_start(summons.summoned_at)
        scheme = (
            Scheme.objects.filter(district_id=summons.department.district_id, valid_from__lte=month)
            .order_by("-valid_from")
            .first()
        )
        if township_id is None or scheme is None:
            continue
        trail = Event.objects.filter(case=case).order_by("seq")
        events = [
            TrailEvent(e.pk, e.seq, e.at, e.kind, e.summons_id, e.data)
            for e in trail
            if e.kind in RELEVANT_KINDS
        ]
        facts = derive_facts(
            SummonsFacts(
                summons_id=summons.pk,
                status=summons.status,
                arrive_due_at=summons.arrive_due_at,
                case_source=case.source,
                resident_satisfied=case.resident_satisfied,
                case_rating=case.township_rating,
                uuid=str(summons.uuid),
            ),
            events,
        )
        scores = score(facts, scheme)
        found[summons.pk] = {
            "case_id": case.pk,
            "district_id": summons.department.district_id,
            "township_id": township_id,
            "department_id": summons.department_id,
            "month": month,
            "scheme_id": scheme.pk,
            "settled": facts.settled,
            "settled_at": facts.settled_at,
            "came": facts.came,
            "late_minutes": facts.late_minutes,
            "acted": facts.acted,
            "rework_count": facts.rework_count,
            "rating": facts.rating,
            "rating_comment": facts.rating_comment,
            "resident_satisfied": facts.resident_satisfied,
            "excused": facts.excused,
            "provisional": facts.provisional,
            "came_score": scores.came,
            "acted_score": scores.acted,
            "quality_score": scores.quality,
            "total": scores.total,
            "corrected": facts.corrected,
            "trail_seq": max((e.seq for e in trail), default=0),
            "event_ids": facts.event_ids,
        }
    return found


def stored_records() -> dict[int, dict[str, Any]]:
    """The stored records as plain values, by summons id."""
    return {
        row["summons_id"]: {name: row[name] for name in RECORD_FIELDS}
        for row in SummonsAssessment.objects.values("summons_id", *RECORD_FIELDS)
    }


def cells_by_hand() -> dict[tuple[int, int, date], tuple[int, Decimal, int, int]]:
    """Each cell's records, sum of totals, no-shows and reworks, summed from the stored
    settled records with a total."""
    found: dict[tuple[int, int, date], tuple[int, Decimal, int, int]] = {}
    for record in SummonsAssessment.objects.filter(settled=True, total__isnull=False):
        key = (record.department_id, record.township_id, record.month)
        records, total, no_shows, reworks = found.get(key, (0, Decimal(0), 0, 0))
        found[key] = (
            records + 1,
            total + (record.total or 0),
            no_shows + (record.came == "no_show"),
            reworks + record.rework_count,
        )
    return found


def stored_cells() -> dict[tuple[int, int, date], tuple[int, Decimal, int, int]]:
    return {
        (c.department_id, c.township_id, c.month): (
            c.records,
            c.total_sum,
            c.no_show_count,
            c.rework_sum,
        )
        for c in ScoreCell.objects.all()
    }
