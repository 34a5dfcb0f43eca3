"""The chiefs' office assesses street and lane chiefs and recognises alley stewards: patrols
against the district's required frequency, problems found, confirmed, solved on the spot,
whistled, and how fast.

The scenario is August 2026 (31 days; clock 10 Sep) in 东城区:

李巷长, lane chief of 人民市场东巷 and 夕照寺中街 (龙潭). Default requirement: every 7 days →
⌊31 / 7⌋ = 4 patrols per lane, each covering at least half the lane.
  人民市场东巷: 5 finished patrols, coverage 1.0, 0.8, 0.6, 0.4, none (positions denied),
  204 + 180 + 150 + 90 + 0 m → 3 count, 3 < 4: not covered. (Not counted at all: a patrol
  on 31 Jul 23:00 Beijing time and one still open.)
  夕照寺中街: 4 patrols, coverage 0.9, 300 m each → 4 count: covered.
  Patrols 9, 1,824 m = 1.82 km; lanes covered 1 of 2 = 50.00%.
  Cases he reported as lane chief in August:
    c1 04 Aug 10:00, filed 10:30 (0.5 h), solved on the spot by him, closed 14:00 (4 h);
    c2 06 Aug 09:00, filed 11:00 (2 h), whistle 12:00 (3 h), closed 07 Aug 09:00 (24 h);
    c3 08 Aug rejected; c4 09 Aug merged into c2; c5 12 Aug 09:00, filed 10:00 (1 h), open.
  (A case of 31 Jul is July's.) Reported 5, confirmed 3, whistled 1, closed 2.
  His first patrol's checklist: illegal parking noted, dog waste fixed on the spot, road
  trading reported as c2 (already a case). Found 5 + 2 = 7; solved on the spot 1 + 1 = 2.
  Mean hours to file (0.5 + 2 + 1) / 3 = 1.17; to the whistle 3.00; to close
  (4 + 24) / 2 = 14.00.
张街长, street chief of 东四六条 (东四): every 14 days → ⌊31 / 14⌋ = 2; patrols with coverage
  0.7 and exactly 0.5 (400 + 350 m) both count: covered, 100.00%, 0.75 km.
Stewards: 王芳 (人民市场东巷) 3 patrols of 200 m, 4 reports of which 2 filed, 1 rejected, 1
  merged, one item fixed on the spot; 赵大爷 (人民市场东巷) 1 patrol, 1 report filed; 孙阿姨
  (东四六条) 5 patrols, no reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.conftest import make_person
from tests.fixtures_measures import Tale, bj, categories
from whistle.assessment.chiefs import (
    chief_scores,
    chiefs_and_stewards,
    patrol_requirements,
    required_patrols,
    steward_contributions,
    township_summaries,
)
from whistle.assessment.models import PatrolRequirement
from whistle.assessment.periods import Period
from whistle.organisation.models import Jurisdiction, Lane, Person, Role
from whistle.patrols.actions import end_patrol, record_positions, start_patrol
from whistle.patrols.models import CheckResult, Patrol
from whistle.policies.models import Category

D = Decimal
NOW = bj(9, 10, 12)

pytestmark = pytest.mark.django_db


@dataclass
class Chiefs:
    district: Jurisdiction
    longtan: Jurisdiction
    dongsi: Jurisdiction
    renmin: Lane
    xizhaosi: Lane
    dongsi_lane: Lane
    li: Person
    zhang: Person
    wang: Person
    zhao: Person
    sun: Person
    garbage: Category
    trading: Category


def patrol(
    person: Person,
    lane: Lane,
    role: str,
    start,
    *,
    metres: float,
    coverage: float | None,
    ended: bool = True,
) -> Patrol:
    return Patrol.objects.create(
        person=person,
        lane=lane,
        role=role,
        started_at=start,
        ended_at=start + timedelta(minutes=40) if ended else None,
        last_activity_at=start + timedelta(minutes=40),
        distance_m=metres,
        covered_ratio=coverage,
    )


def check(patrol: Patrol, item: str, outcome: str = "", case=None) -> CheckResult:
    return CheckResult.objects.create(
        patrol=patrol,
        item=item,
        label=item,
        result=CheckResult.Result.PROBLEM,
        outcome=outcome,
        case=case,
        checked_at=patrol.started_at + timedelta(minutes=10),
    )


@pytest.fixture
def chiefs(small_city) -> Chiefs:
    city = small_city
    garbage, trading = categories(city.district)
    xizhaosi = Lane.objects.create(
        name="夕照寺中街",
        township=city.longtan,
        community=city.xizhaosi,
        centre_line={"type": "LineString", "coordinates": [[116.434, 39.872], [116.437, 39.872]]},
    )
    li = make_person("li-lane-chief", Role.LANE_CHIEF, lane=city.renmin_lane)
    li.roles.create(role=Role.LANE_CHIEF, lane=xizhaosi)
    zhang = make_person("zhang-street-chief", Role.STREET_CHIEF, lane=city.dongsi_lane)
    wang = make_person("wang-steward", Role.STEWARD, lane=city.renmin_lane)
    zhao = make_person("zhao-steward", Role.STEWARD, lane=city.renmin_lane)
    sun = make_person("sun-steward", Role.STEWARD, lane=city.dongsi_lane)
    renmin, dongsi_lane = city.renmin_lane, city.dongsi_lane
    lane_chief, street_chief, steward = Role.LANE_CHIEF, Role.STREET_CHIEF, Role.STEWARD

    first = None
    for day, metres, coverage in (
        (3, 204, 1.0),
        (10, 180, 0.8),
        (17, 150, 0.6),
        (24, 90, 0.4),
        (30, 0, None),
    ):
        made = patrol(li, renmin, lane_chief, bj(8, day, 9), metres=metres, coverage=coverage)
        first = first or made
    patrol(li, renmin, lane_chief, bj(7, 31, 23), metres=204, coverage=1.0)
    patrol(li, renmin, lane_chief, bj(8, 31, 9), metres=50, coverage=None, ended=False)
    for day in (2, 9, 16, 23):
        patrol(li, xizhaosi, lane_chief, bj(8, day, 15), metres=300, coverage=0.9)
    patrol(zhang, dongsi_lane, street_chief, bj(8, 5, 9), metres=400, coverage=0.7)
    patrol(zhang, dongsi_lane, street_chief, bj(8, 19, 9), metres=350, coverage=0.5)
    for day in (1, 11, 21):
        patrol(wang, renmin, steward, bj(8, day, 7), metres=200, coverage=1.0)
    patrol(zhao, renmin, steward, bj(8, 6, 7), metres=150, coverage=0.9)
    for day in (1, 5, 9, 13, 17):
        patrol(sun, dongsi_lane, steward, bj(8, day, 8), metres=120, coverage=0.8)

    def by_li(at, category) -> Tale:
        return Tale(city.longtan, at, category=category, lane=renmin, reporter=li, role=lane_chief)

    c1 = by_li(bj(8, 4, 10), garbage).file(bj(8, 4, 10, 30), due=bj(8, 4, 14, 30))
    c1.solve_on_spot(bj(8, 4, 11), li, lane_chief).check_passed(bj(8, 4, 13))
    c1.close(bj(8, 4, 14))
    c2 = by_li(bj(8, 6, 9), trading).file(bj(8, 6, 11), due=bj(8, 7, 11))
    c2.whistle(bj(8, 6, 12), city.urban_management)
    c2.check_passed(bj(8, 7, 8)).close(bj(8, 7, 9))
    by_li(bj(8, 8, 9), trading).reject(bj(8, 8, 10))
    by_li(bj(8, 9, 9), trading).merge(bj(8, 9, 9, 30), into=c2.case)
    by_li(bj(8, 12, 9), garbage).file(bj(8, 12, 10), due=bj(8, 13, 10))
    by_li(bj(7, 31, 9), garbage).file(bj(7, 31, 10), due=bj(8, 1, 10))
    assert first is not None
    check(first, "no-illegal-parking")
    check(first, "dog-waste", outcome=CheckResult.Outcome.FIXED)
    check(first, "no-road-trading", outcome=CheckResult.Outcome.REPORTED, case=c2.case)

    def by_steward(person, at) -> Tale:
        return Tale(city.longtan, at, category=garbage, lane=renmin, reporter=person, role=steward)

    w1 = by_steward(wang, bj(8, 1, 7, 30)).file(bj(8, 1, 8), due=bj(8, 1, 12))
    by_steward(wang, bj(8, 11, 7, 30)).file(bj(8, 11, 8), due=bj(8, 11, 12))
    by_steward(wang, bj(8, 12, 7, 30)).reject(bj(8, 12, 8))
    by_steward(wang, bj(8, 13, 7, 30)).merge(bj(8, 13, 8), into=w1.case)
    wang_patrol = Patrol.objects.filter(person=wang).order_by("started_at").first()
    assert wang_patrol is not None
    check(wang_patrol, "shared-bikes", outcome=CheckResult.Outcome.FIXED)
    by_steward(zhao, bj(8, 6, 7, 30)).file(bj(8, 6, 8), due=bj(8, 6, 12))

    return Chiefs(
        city.district,
        city.longtan,
        city.dongsi,
        renmin,
        xizhaosi,
        dongsi_lane,
        li,
        zhang,
        wang,
        zhao,
        sun,
        garbage,
        trading,
    )


def test_chiefs_are_listed_by_township_street_chiefs_first(chiefs):
    scores = chief_scores(chiefs.district, "2026-08", now=NOW)
    assert [(s.township.name, s.person.username, s.role) for s in scores] == [
        ("东四街道", "zhang-street-chief", Role.STREET_CHIEF),
        ("龙潭街道", "li-lane-chief", Role.LANE_CHIEF),
    ]


def test_a_lane_chief_is_held_to_weekly_patrols_of_each_lane(chiefs):
    li = chief_scores(chiefs.district, "2026-08", role=Role.LANE_CHIEF, now=NOW)[0]
    assert li.requirement.every_days == 7 and not li.requirement.from_district
    lanes = {
        lane.lane.name: (lane.patrols, lane.counted, lane.required, lane.covered)
        for lane in li.lanes
    }
    assert lanes == {"人民市场东巷": (5, 3, 4, False), "夕照寺中街": (4, 4, 4, True)}
    assert (li.activity.patrols, li.activity.distance_km) == (9, D("1.82"))
    assert (li.lanes_covered, li.lane_coverage_rate) == (1, D("50.00"))


def test_a_lane_chiefs_problems_and_how_fast_they_moved(chiefs):
    li = chief_scores(chiefs.district, "2026-08", role=Role.LANE_CHIEF, now=NOW)[0].activity
    assert (li.reported, li.confirmed, li.whistled, li.closed) == (5, 3, 1, 2)
    assert (li.found, li.solved_on_spot) == (7, 2)
    assert (li.mean_hours_to_file, li.mean_hours_to_whistle, li.mean_hours_to_close) == (
        D("1.17"),
        D("3.00"),
        D("14.00"),
    )


def test_a_street_chief_patrols_fortnightly_and_half_the_lane_is_enough(chiefs):
    zhang = chief_scores(chiefs.district, "2026-08", role=Role.STREET_CHIEF, now=NOW)[0]
    (lane,) = zhang.lanes
    assert (lane.patrols, lane.counted, lane.required, lane.covered) == (2, 2, 2, True)
    assert (zhang.lane_coverage_rate, zhang.activity.distance_km) == (D("100.00"), D("0.75"))
    assert zhang.activity.reported == 0 and zhang.activity.mean_hours_to_file is None


def test_the_district_sets_its_own_patrol_frequency_and_coverage(chiefs):
    PatrolRequirement.objects.create(
        district=chiefs.district, role=Role.STREET_CHIEF, every_days=10, min_coverage=D("0.6")
    )
    PatrolRequirement.objects.create(
        district=chiefs.district, role=Role.LANE_CHIEF, every_days=14, min_coverage=D("0")
    )
    requirements = patrol_requirements(chiefs.district)
    assert requirements[Role.STREET_CHIEF].from_district
    zhang, li = chief_scores(chiefs.district, "2026-08", now=NOW)
    # ⌊31 / 10⌋ = 3 required; only the 0.7 patrol covers 60% of the lane.
    (lane,) = zhang.lanes
    assert (lane.counted, lane.required, lane.covered) == (1, 3, False)
    # Fortnightly, and every finished patrol counts (even without positions): 5 and 4 ≥ 2.
    assert [(lane.counted, lane.required) for lane in li.lanes] == [(5, 2), (4, 2)]
    assert li.lane_coverage_rate == D("100.00")


def test_a_running_period_requires_only_the_days_elapsed(chiefs):
    requirements = patrol_requirements(chiefs.district)
    august = Period.parse("2026-08")
    # 15 Aug 12:00 Beijing time: 14 whole days have passed.
    halfway = bj(8, 15, 12)
    assert required_patrols(requirements[Role.LANE_CHIEF], august, halfway) == 2
    assert required_patrols(requirements[Role.STREET_CHIEF], august, halfway) == 1
    assert required_patrols(requirements[Role.LANE_CHIEF], august, bj(8, 1, 0)) == 0
    quarter = Period.parse("2026-Q3")
    assert required_patrols(requirements[Role.LANE_CHIEF], quarter, NOW + timedelta(days=60)) == 13


def test_one_township_and_its_chiefs_only(chiefs):
    scores = chief_scores(chiefs.district, "2026-08", township=chiefs.longtan, now=NOW)
    assert [s.person for s in scores] == [chiefs.li]


def test_a_patrol_walked_with_the_patrol_actions_counts_for_the_lane_chief(small_city):
    city = small_city
    chief = make_person("liu-lane-chief", Role.LANE_CHIEF, lane=city.renmin_lane)
    start = bj(8, 3, 10)
    walk = start_patrol(chief, lane=city.renmin_lane, now=start)
    south, north = 39.872, 39.87384
    points = [
        {
            "seq": i,
            "lon": 116.432,
            "lat": south + (north - south) * i / 11,
            "accuracy_m": 5.0,
            "at": (start + timedelta(seconds=20 * i)).isoformat(),
        }
        for i in range(12)
    ]
    record_positions(chief, walk, points=points, now=start + timedelta(minutes=4))
    walk = end_patrol(chief, walk, now=start + timedelta(minutes=5))
    assert walk.covered_ratio is not None and walk.covered_ratio >= 0.5
    (score,) = chief_scores(city.district, "2026-08", now=NOW)
    (lane,) = score.lanes
    assert (lane.patrols, lane.counted, lane.required) == (1, 1, 4)
    expected_km = (D(str(walk.distance_m)) / 1000).quantize(D("0.01"))
    assert score.activity.distance_km == expected_km > 0


def test_stewards_are_recognised_for_confirmed_problems_then_patrols(chiefs):
    records = steward_contributions(chiefs.district, "2026-08")
    assert [
        (
            r.person.username,
            r.activity.confirmed,
            r.activity.reported,
            r.activity.patrols,
            r.activity.distance_km,
            r.activity.solved_on_spot,
        )
        for r in records
    ] == [
        ("wang-steward", 2, 4, 3, D("0.60"), 1),
        ("zhao-steward", 1, 1, 1, D("0.15"), 0),
        ("sun-steward", 0, 0, 5, D("0.60"), 0),
    ]
    assert [lane.name for lane in records[0].lanes] == ["人民市场东巷"]
    dongsi = steward_contributions(chiefs.district, "2026-08", township=chiefs.dongsi)
    assert [r.person for r in dongsi] == [chiefs.sun]


def test_a_chiefs_cases_reported_as_a_steward_are_the_stewards(chiefs):
    # Wang Fang becomes a lane chief of 东四六条 too: her steward reports stay a steward's.
    chiefs.wang.roles.create(role=Role.LANE_CHIEF, lane=chiefs.dongsi_lane)
    scores = {
        (s.person.username, s.role): s for s in chief_scores(chiefs.district, "2026-08", now=NOW)
    }
    wang = scores[("wang-steward", Role.LANE_CHIEF)]
    assert (wang.activity.reported, wang.activity.patrols) == (0, 0)
    assert [lane.lane for lane in wang.lanes] == [chiefs.dongsi_lane]
    (steward,) = [
        r for r in steward_contributions(chiefs.district, "2026-08") if r.person == chiefs.wang
    ]
    assert steward.activity.reported == 4


def test_the_chiefs_assessment_takes_a_few_queries_whatever_the_number_of_chiefs(
    chiefs, django_assert_max_num_queries
):
    # Two of them read the training sessions attended and the recognitions.
    with django_assert_max_num_queries(10):
        chief_scores(chiefs.district, "2026-08", now=NOW)
    for n in range(5):
        make_person(f"chief-{n}", Role.LANE_CHIEF, lane=chiefs.xizhaosi)
    with django_assert_max_num_queries(10):
        assert len(chief_scores(chiefs.district, "2026-08", now=NOW)) == 7


def test_each_township_sums_its_chiefs_and_stewards(chiefs):
    rows = township_summaries(chiefs.district, "2026-08", now=NOW)
    assert [r.township for r in rows] == [chiefs.dongsi, chiefs.longtan]
    dongsi, longtan = rows
    # 李巷长 covers 夕照寺中街 but not 人民市场东巷: not every lane.
    assert (longtan.chiefs.people, longtan.chiefs_covering, longtan.coverage_rate) == (1, 0, 0)
    c = longtan.chiefs
    assert (c.patrols, c.distance_km, c.reported, c.confirmed) == (9, D("1.82"), 5, 3)
    assert (c.found, c.solved_on_spot, c.whistled, c.closed) == (7, 2, 1, 2)
    w = longtan.stewards
    assert (w.people, w.patrols, w.distance_km, w.reported, w.confirmed) == (2, 4, D("0.75"), 5, 3)
    assert (dongsi.chiefs.people, dongsi.chiefs_covering, dongsi.coverage_rate) == (1, 1, 100)
    assert (dongsi.chiefs.patrols, dongsi.chiefs.distance_km) == (2, D("0.75"))
    assert (dongsi.stewards.people, dongsi.stewards.patrols, dongsi.stewards.reported) == (1, 5, 0)


def test_a_townships_summary_adds_up_the_rows_of_its_drill_down(chiefs):
    chiefs.wang.roles.create(role=Role.LANE_CHIEF, lane=chiefs.dongsi_lane)
    for row in township_summaries(chiefs.district, "2026-08", now=NOW):
        people, stewards = chiefs_and_stewards(
            chiefs.district, "2026-08", township=row.township, now=NOW
        )
        assert row.chiefs.people == len(people)
        assert row.chiefs_covering == sum(1 for p in people if p.lanes_covered == len(p.lanes))
        for name in ("patrols", "distance_km", "found", "solved_on_spot", "whistled"):
            assert getattr(row.chiefs, name) == sum(getattr(p.activity, name) for p in people)
        assert row.stewards.people == len(stewards)
        for name in ("patrols", "reported", "confirmed"):
            assert getattr(row.stewards, name) == sum(getattr(s.activity, name) for s in stewards)


def test_chiefs_and_stewards_together_are_the_two_lists_apart(chiefs):
    together = chiefs_and_stewards(chiefs.district, "2026-08", township=chiefs.longtan, now=NOW)
    apart = (
        chief_scores(chiefs.district, "2026-08", township=chiefs.longtan, now=NOW),
        steward_contributions(chiefs.district, "2026-08", township=chiefs.longtan),
    )
    assert together == apart


def test_the_township_summaries_take_a_few_queries_whatever_the_number_of_people(
    chiefs, django_assert_max_num_queries
):
    # The chiefs' lanes come from their appointments and from roles given without one
    # (`held_lanes`, two queries), the stewards from their roles.
    with django_assert_max_num_queries(9):
        township_summaries(chiefs.district, "2026-08", now=NOW)
    for n in range(10):
        make_person(f"chief-{n}", Role.LANE_CHIEF, lane=chiefs.xizhaosi)
        make_person(f"steward-{n}", Role.STEWARD, lane=chiefs.dongsi_lane)
    with django_assert_max_num_queries(9):
        rows = township_summaries(chiefs.district, "2026-08", now=NOW)
    assert [(r.chiefs.people, r.stewards.people) for r in rows] == [(1, 11), (11, 2)]


def test_a_period_that_cannot_be_read_or_a_role_that_is_no_chief_is_refused(chiefs):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        chief_scores(chiefs.district, "2026-8-1", now=NOW)
    with pytest.raises(ValueError):
        chief_scores(chiefs.district, "2026-08", role=Role.STEWARD, now=NOW)


def test_before_any_patrol_window_has_ended_nothing_is_required_and_no_share_is_given(chiefs):
    # 3 August: two days of the month have passed, less than any chief's window.
    early = bj(8, 3, 12)
    scores = chief_scores(chiefs.district, "2026-08", now=early)
    assert scores and all(s.lanes for s in scores)
    for s in scores:
        assert (s.lanes_due, s.lanes_covered, s.lane_coverage_rate) == ((), 0, None)
        assert not any(lane.due for lane in s.lanes)
    for row in township_summaries(chiefs.district, "2026-08", now=early):
        assert (row.chiefs_due, row.chiefs_covering, row.coverage_rate) == (0, 0, None)
    # Once a week has passed the lane chief's lanes are due, the street chief's not yet.
    week = bj(8, 8, 12)
    li = chief_scores(chiefs.district, "2026-08", role=Role.LANE_CHIEF, now=week)[0]
    assert li.lanes_due == li.lanes and li.lane_coverage_rate is not None
    zhang = chief_scores(chiefs.district, "2026-08", role=Role.STREET_CHIEF, now=week)[0]
    assert zhang.lane_coverage_rate is None
