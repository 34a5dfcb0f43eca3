"""The chiefs who answer for a lane (its lane and street chiefs, 街巷长制) hear when a case on
it is escalated, by the sweep or by hand: once each, besides the level's own audience, and
a chief of another lane does not."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from tests.conftest import make_person
from tests.fixtures_cases import (
    filed_case,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from tests.fixtures_deadlines import SweepCity, build_sweep_city, make_case, make_summons
from tests.lanes import lane_running_east
from whistle.cases import actions
from whistle.cases.deadlines import sweep
from whistle.cases.models import Case, Summons
from whistle.cases.trail import EventKind
from whistle.notifications import texts
from whistle.notifications.models import Channel, Notification
from whistle.notifications.outbox import inbox
from whistle.organisation.models import Lane, Person, Role, RoleAssignment

BEIJING = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 5, 12, 9, 0, tzinfo=BEIJING)
MIN = timedelta(minutes=1)


def new_lane(city: SweepCity, name: str, n: int) -> Lane:
    return lane_running_east(city.township, name, 116.432, 39.872 + n / 1000, to=116.433)


def late_on(city: SweepCity, lane: Lane) -> Summons:
    """A summons on a case of the lane, acknowledged, whose arrival falls overdue at T0+30."""
    return make_summons(
        city,
        T0,
        case=make_case(city, T0, lane=lane),
        status=Summons.Status.ACKNOWLEDGED,
        acknowledged_at=T0 + 2 * MIN,
        acknowledged_by=city.officer,
    )


def sweep_at(moment: datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return sweep(timezone.now(), batch=500)


def escalations_seen(person: Person) -> list[Notification]:
    return list(inbox(person).filter(kind=EventKind.ESCALATED).order_by("id"))


@pytest.fixture
def city(db) -> SweepCity:
    return build_sweep_city()


def test_a_sweep_escalation_tells_the_lanes_chiefs_once_each_and_no_other_lanes(city):
    lane, other = new_lane(city, "人民市场东巷", 1), new_lane(city, "人民市场西巷", 2)
    lane_chief = make_person("liu-yueming", Role.LANE_CHIEF, lane=lane)
    street_chief = make_person("street-chief", Role.STREET_CHIEF, lane=lane)
    RoleAssignment.objects.create(person=street_chief, role=Role.STREET_CHIEF, lane=other)
    other_chief = make_person("other-lane-chief", Role.LANE_CHIEF, lane=other)
    # The township's chief of lanes is a lane chief here too: told once, by the township's
    # entry.
    RoleAssignment.objects.create(person=city.township_chief, role=Role.LANE_CHIEF, lane=lane)
    summons = late_on(city, lane)

    sweep_at(T0 + 31 * MIN)
    for chief in (lane_chief, street_chief):
        [told] = escalations_seen(chief)
        assert told.recipient == chief
        assert told.urgent
        assert told.payload["case"] == summons.case.reference
        assert told.link
    assert escalations_seen(other_chief) == []
    [shared] = escalations_seen(city.township_chief)
    assert shared.audience == f"township-escalation:{city.township.pk}"
    # In the reader's language, as the township's entry.
    with translation.override("en"):
        subject = texts.subject_of(shared.payload, shared.subject)
        assert texts.subject_of(escalations_seen(lane_chief)[0].payload, "") == subject
        assert subject.startswith("Escalated to the township chiefs' office")

    # On to the district an hour later: the lane's chiefs hear of that too, once more.
    sweep_at(T0 + 90 * MIN + MIN)
    assert Case.objects.get(pk=summons.case_id).escalation == Case.Escalation.DISTRICT
    for chief in (lane_chief, street_chief, city.township_chief):
        assert len(escalations_seen(chief)) == 2
    assert escalations_seen(other_chief) == []
    # Nobody has two messages of one escalation on any channel.
    rows = Notification.objects.filter(kind=EventKind.ESCALATED, recipient__isnull=False)
    keys = [(n.recipient_id, n.channel, n.dedupe_key) for n in rows]
    assert len(keys) == len(set(keys))


def test_a_case_on_no_lane_or_a_lane_without_chiefs_tells_the_audience_alone(city):
    late_on(city, new_lane(city, "无人巷", 1))
    make_summons(
        city,
        T0,
        status=Summons.Status.ACKNOWLEDGED,
        acknowledged_at=T0 + 2 * MIN,
        acknowledged_by=city.officer,
    )
    sweep_at(T0 + 31 * MIN)
    told = Notification.objects.filter(kind=EventKind.ESCALATED, channel=Channel.INBOX)
    assert {n.audience for n in told} == {f"township-escalation:{city.township.pk}"}
    assert told.count() == 2


def test_the_chiefs_of_a_chunks_lanes_are_read_in_one_statement(city):
    lanes = [new_lane(city, f"东四{n}条", n) for n in range(5)]
    chiefs = [make_person(f"chief-{n}", Role.LANE_CHIEF, lane=lane) for n, lane in enumerate(lanes)]
    for lane in lanes:
        late_on(city, lane)
    with CaptureQueriesContext(connection) as queries:
        assert sweep_at(T0 + 31 * MIN) == 5
    lane_reads = [
        q["sql"]
        for q in queries
        if "organisation_roleassignment" in q["sql"] and '"lane_id" IN' in q["sql"]
    ]
    assert len(lane_reads) == 1
    for chief in chiefs:
        assert len(escalations_seen(chief)) == 1


def test_an_escalation_by_hand_tells_the_lanes_chiefs_but_not_the_one_who_escalated(
    whistle_city,
):
    city = whistle_city
    other = Lane.objects.create(
        name="人民市场西巷",
        township=city.longtan,
        centre_line={"type": "LineString", "coordinates": [[116.43, 39.88], [116.431, 39.88]]},
    )
    other_chief = make_person("other-lane-chief", Role.LANE_CHIEF, lane=other)
    case = filed_case(city)
    assert case.lane_id == city.lane.pk

    actions.escalate(city.lane_chief, case, reason="巷长协调不了")
    told = Notification.objects.filter(kind=EventKind.ESCALATED, channel=Channel.INBOX)
    assert {n.recipient for n in told} == {city.township_office, city.street_chief}
    [to_street_chief] = told.filter(recipient=city.street_chief)
    with translation.override("zh-hans"):
        assert texts.subject_of(to_street_chief.payload, "") == (
            f"您所负责街巷的案件 {case.reference} 已上报至街乡街巷长办公室"
        )
    with translation.override("en"):
        assert texts.subject_of(to_street_chief.payload, "") == (
            f"Case {case.reference} on your lane was escalated to the township chiefs' office"
        )

    first = {n.pk for n in told}
    actions.escalate(city.township_chief, case, reason="需区级协调")
    district = told.exclude(pk__in=first)
    assert {n.recipient for n in district} == {
        city.district_office,
        city.lane_chief,
        city.street_chief,
    }
    assert not told.filter(recipient=other_chief).exists()
    # One each: a chief who also sits in the chiefs' office is told once.
    keys = [(n.recipient_id, n.dedupe_key) for n in told]
    assert len(keys) == len(set(keys))


def test_a_chief_who_is_also_in_the_chiefs_office_is_told_once_by_hand(whistle_city):
    city = whistle_city
    RoleAssignment.objects.create(
        person=city.township_office, role=Role.STREET_CHIEF, lane=city.lane
    )
    case = filed_case(city)
    actions.escalate(city.lane_chief, case, reason="巷长协调不了")
    told = Notification.objects.filter(kind=EventKind.ESCALATED, channel=Channel.INBOX)
    mine = told.filter(recipient=city.township_office)
    assert mine.count() == 1
    with translation.override("en"):
        assert texts.subject_of(mine.get().payload, "") == f"Case {case.reference} escalated to you"
