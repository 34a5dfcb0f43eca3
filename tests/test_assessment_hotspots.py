"""Hot spots: lanes × categories that keep coming back, candidates for root-cause work
(每月一题), with the cases behind them.

August 2026 against July, in 东城区 (all times Beijing time):

lane × category           August                                   July  in August's list?
人民市场东巷 × 暴露垃圾   4 (02 07:30, 09 07:45, 16 08:10, 23 19:00)   1     yes, +3 (300.00%)
                          + 1 rejected + 1 merged: not counted
夕照寺中街 × 无照经营     3 (01 00:00, 15 12:00, 31 23:59)             0     yes, +3 (no growth
                          (01 Sep 00:00 is September's)                       rate: July had none)
东四六条 × 无照经营       5 (evenings)                                 5     not rising
东四六条 × 暴露垃圾       3                                            4     falling
人民市场东巷 × 无照经营   2                                            0     fewer than 3
no lane (3) or no category (3): cannot be placed
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from tests.fixtures_measures import Tale, bj, categories
from whistle.assessment.hotspots import hot_spots
from whistle.organisation.models import Jurisdiction, Lane
from whistle.policies.models import Category

pytestmark = pytest.mark.django_db


@dataclass
class Spots:
    district: Jurisdiction
    longtan: Jurisdiction
    renmin: Lane
    xizhaosi: Lane
    dongsi_lane: Lane
    garbage: Category
    trading: Category
    renmin_garbage: list[Tale]


@pytest.fixture
def spots(small_city) -> Spots:
    city = small_city
    garbage, trading = categories(city.district)
    xizhaosi = Lane.objects.create(
        name="夕照寺中街",
        township=city.longtan,
        community=city.xizhaosi,
        centre_line={"type": "LineString", "coordinates": [[116.434, 39.872], [116.437, 39.872]]},
    )
    renmin, dongsi_lane = city.renmin_lane, city.dongsi_lane

    def case(lane: Lane | None, category: Category | None, at) -> Tale:
        township = lane.township if lane else city.dongsi
        return Tale(township, at, category=category, lane=lane)

    renmin_garbage = [
        case(renmin, garbage, bj(8, 2, 7, 30)),
        case(renmin, garbage, bj(8, 9, 7, 45)),
        case(renmin, garbage, bj(8, 16, 8, 10)),
        case(renmin, garbage, bj(8, 23, 19)),
    ]
    case(renmin, garbage, bj(8, 24, 9)).reject(bj(8, 24, 10))
    case(renmin, garbage, bj(8, 25, 9)).merge(bj(8, 25, 10), into=renmin_garbage[-1].case)
    case(renmin, garbage, bj(7, 12, 8))

    for at in (bj(8, 1, 0), bj(8, 15, 12), bj(8, 31, 23, 59)):
        case(xizhaosi, trading, at)
    case(xizhaosi, trading, bj(9, 1, 0))

    for day in (3, 8, 13, 18, 28):
        case(dongsi_lane, trading, bj(8, day, 18))
        case(dongsi_lane, trading, bj(7, day, 18))
    for day in (4, 14, 24):
        case(dongsi_lane, garbage, bj(8, day, 10))
    for day in (4, 11, 18, 25):
        case(dongsi_lane, garbage, bj(7, day, 10))
    case(renmin, trading, bj(8, 5, 10))
    case(renmin, trading, bj(8, 6, 10))
    for day in (5, 6, 7):
        case(None, garbage, bj(8, day, 10))
        case(renmin, None, bj(8, day, 11))

    return Spots(
        city.district,
        city.longtan,
        renmin,
        xizhaosi,
        dongsi_lane,
        garbage,
        trading,
        renmin_garbage,
    )


def summary(found) -> list[tuple]:
    return [
        (s.rank, s.lane.name, s.category.name, s.cases, s.previous_cases, s.change) for s in found
    ]


def test_rising_recurring_problems_are_ranked_by_cases_then_rise(spots):
    found = hot_spots(spots.district, "2026-08")
    assert summary(found) == [
        (1, "人民市场东巷", "暴露垃圾", 4, 1, 3),
        (2, "夕照寺中街", "无照经营游商", 3, 0, 3),
    ]
    assert found[0].growth_rate == Decimal("300.00")
    assert found[1].growth_rate is None
    assert (found[0].period, found[0].previous_period) == ("2026-08", "2026-07")
    assert found[0].township == spots.longtan


def test_each_hot_spot_lists_the_cases_behind_it_and_when_they_come(spots):
    garbage, trading = hot_spots(spots.district, "2026-08")
    assert [c.reference for c in garbage.case_list] == [
        t.case.reference for t in spots.renmin_garbage
    ]
    assert garbage.case_list[0].uuid == spots.renmin_garbage[0].case.uuid
    # Reported at 07:30, 07:45, 08:10 and 19:00.
    assert garbage.busiest_hour == 7
    assert garbage.by_month == ((date(2026, 8, 1), 4),)
    # 00:00, 12:00 and 23:59 once each: the earliest.
    assert trading.busiest_hour == 0
    assert len(trading.case_list) == 3


def test_without_the_rising_filter_steady_and_falling_problems_are_listed_too(spots):
    found = hot_spots(spots.district, "2026-08", rising_only=False)
    assert summary(found) == [
        (1, "东四六条", "无照经营游商", 5, 5, 0),
        (2, "人民市场东巷", "暴露垃圾", 4, 1, 3),
        (3, "夕照寺中街", "无照经营游商", 3, 0, 3),
        (4, "东四六条", "暴露垃圾", 3, 4, -1),
    ]
    assert found[3].growth_rate == Decimal("-25.00")
    assert summary(hot_spots(spots.district, "2026-08", min_cases=5, rising_only=False)) == [
        (1, "东四六条", "无照经营游商", 5, 5, 0)
    ]


def test_a_township_or_a_limit_narrows_the_list(spots):
    assert [s.lane for s in hot_spots(spots.district, "2026-08", township=spots.longtan)] == [
        spots.renmin,
        spots.xizhaosi,
    ]
    assert summary(hot_spots(spots.district, "2026-08", limit=1)) == [
        (1, "人民市场东巷", "暴露垃圾", 4, 1, 3)
    ]


def test_a_quarter_is_compared_with_the_quarter_before_and_split_by_month(spots):
    found = hot_spots(spots.district, "2026-Q3")
    # Q2 has no cases: every lane × category with 3 or more in Q3 is rising.
    assert summary(found) == [
        (1, "东四六条", "无照经营游商", 10, 0, 10),
        (2, "东四六条", "暴露垃圾", 7, 0, 7),
        (3, "人民市场东巷", "暴露垃圾", 5, 0, 5),
        (4, "夕照寺中街", "无照经营游商", 4, 0, 4),
    ]
    assert found[2].by_month == (
        (date(2026, 7, 1), 1),
        (date(2026, 8, 1), 4),
        (date(2026, 9, 1), 0),
    )
    assert found[3].previous_period == "2026-Q2"


def test_a_quiet_period_has_no_hot_spots(spots, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert hot_spots(spots.district, "2026-06") == []
    with pytest.raises(ValueError):
        hot_spots(spots.district, "2026-08", min_cases=0)


def test_hot_spots_take_the_same_queries_whatever_their_number(spots, django_assert_num_queries):
    with django_assert_num_queries(5):
        assert len(hot_spots(spots.district, "2026-08", rising_only=False, min_cases=1)) == 5
