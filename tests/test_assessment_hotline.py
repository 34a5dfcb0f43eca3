"""The 12345 hotline's three rates (响应率, 解决率, 满意率) from the orders' replies and
call-backs, their weighted score with the district's weights, and the townships' monthly
ranking.

The scenario is `august` (tests/fixtures_measures.py, told in
tests/test_assessment_indicators.py). Its hotline orders:

case  township  received     reply by         reply            call-back
k2    龙潭      05 Aug 10:00 12 Aug 10:00     07 Aug (in time) reached: solved, satisfied
k3    龙潭      10 Aug 08:00 10 Aug 10:00     10 Aug 11:00     —
                             (emergency)      (late)
k4    东四      12 Aug 09:00 19 Aug 09:00     12 Aug (in time, reached: not solved, not
                                              not taken up)    satisfied
k5    东四      21 Aug 09:00 28 Aug 09:00     21 Aug (in time, not reached
                                              merged into k6)
k7    东四      25 Aug 09:00 26 Aug 09:00     26 Aug 10:00     reached: solved, not
                             (utilities)      (late)           satisfied
k8    龙潭      31 Jul 23:30 (July's)

District: received 5; replied in time k2, k4, k5: 3/5 = 60.00%; callers reached k2, k4,
k7: solved k2, k7: 2/3 = 66.67%; satisfied k2: 1/3 = 33.33%; score 0.30 × 60 + 0.35 ×
66.67 + 0.35 × 33.33 = 18 + 23.3345 + 11.6655 = 53.00.
龙潭: 2 received, 1 in time (50.00), k2 reached: 1/1 solved (100.00), 1/1 satisfied
(100.00): 15 + 35 + 35 = 85.00. 东四: 3 received, 2 in time (66.67), 2 reached: 1 solved
(50.00), 0 satisfied (0.00): 20.001 + 17.5 + 0 = 37.501 → 37.50.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from tests.fixtures_measures import Tale, august_fixture, bj  # noqa: F401  (fixture)
from whistle.assessment.hotline import (
    HotlineWeights,
    hotline_rates,
    hotline_weights,
    township_hotline_ranking,
)
from whistle.assessment.models import HotlineScheme
from whistle.cases.models import Case, HotlineOrder
from whistle.organisation.models import Jurisdiction

D = Decimal

pytestmark = pytest.mark.django_db


def test_the_district_rates_and_score_with_the_default_weights(august):
    rates = hotline_rates(august.district, "2026-08")
    assert (rates.received, rates.responded, rates.called_back) == (5, 3, 3)
    assert (rates.resolved, rates.satisfied) == (2, 1)
    assert (rates.response_rate, rates.resolution_rate, rates.satisfaction_rate) == (
        D("60.00"),
        D("66.67"),
        D("33.33"),
    )
    assert (rates.score, rates.complete) == (D("53.00"), True)
    assert rates.weights == HotlineWeights.defaults()
    assert rates.weights.scheme_id is None


def test_each_township_has_its_own_rates(august):
    longtan = hotline_rates(august.district, "2026-08", township=august.longtan)
    dongsi = hotline_rates(august.district, "2026-08", township=august.dongsi)
    assert (longtan.received, longtan.response_rate, longtan.score) == (2, D("50.00"), D("85.00"))
    assert (dongsi.received, dongsi.response_rate, dongsi.resolution_rate) == (
        3,
        D("66.67"),
        D("50.00"),
    )
    assert (dongsi.satisfaction_rate, dongsi.score) == (D("0.00"), D("37.50"))


def test_a_reply_counts_as_a_response_only_by_the_orders_own_limit(small_city):
    # Two general orders due 7 days after they came: one replied at the very deadline, one
    # a second after it.
    on_time = Tale(small_city.longtan, bj(8, 3, 9), source=Case.Source.HOTLINE)
    on_time.order("A-1", reply_by=bj(8, 10, 9)).reply(bj(8, 10, 9))
    late = Tale(small_city.longtan, bj(8, 3, 9), source=Case.Source.HOTLINE)
    late.order("A-2", reply_by=bj(8, 10, 9)).reply(bj(8, 10, 9) + timedelta(seconds=1))
    # A third never replied.
    Tale(small_city.longtan, bj(8, 4, 9), source=Case.Source.HOTLINE).order(
        "A-3", reply_by=bj(8, 11, 9)
    )
    rates = hotline_rates(small_city.district, "2026-08")
    assert (rates.received, rates.responded, rates.response_rate) == (3, 1, D("33.33"))


def test_taking_up_a_request_is_not_a_response_without_the_reply(august):
    # k7 was filed five minutes after it came, but replied an hour after its limit.
    k7 = august.tales["k7"].case
    assert k7.filed_at is not None
    dongsi = hotline_rates(august.district, "2026-08", township=august.dongsi)
    assert dongsi.responded == 2  # k4 and k5, not k7


def test_an_order_merged_or_not_taken_up_still_counts_as_its_callers_request(august):
    # k5 (merged into k6) and k4 (not taken up) each had their reply in time.
    dongsi = hotline_rates(august.district, "2026-08", township=august.dongsi)
    assert (dongsi.received, dongsi.responded) == (3, 2)
    # k4's caller was reached and said it is not solved: it counts against the resolution.
    assert (dongsi.called_back, dongsi.resolved) == (2, 1)


def test_a_caller_not_reached_is_not_rated_until_a_later_call_back_reaches_them(august):
    rates = hotline_rates(august.district, "2026-08")
    assert rates.called_back == 3  # k5's caller was not reached
    august.tales["k5"].call_back(bj(8, 23, 10), satisfied=True, resolved=True)
    rates = hotline_rates(august.district, "2026-08")
    # Reached 4: solved k2, k5, k7 (75.00), satisfied k2, k5 (50.00).
    assert (rates.called_back, rates.resolved, rates.satisfied) == (4, 3, 2)
    assert (rates.resolution_rate, rates.satisfaction_rate) == (D("75.00"), D("50.00"))
    # 0.30 × 60 + 0.35 × 75 + 0.35 × 50 = 18 + 26.25 + 17.5 = 61.75.
    assert rates.score == D("61.75")


def test_a_closed_case_is_not_resolved_until_its_caller_says_so(august):
    k10 = Tale(august.longtan, bj(8, 14, 9), category=august.garbage, source=Case.Source.HOTLINE)
    k10.order("2026081400010", reply_by=bj(8, 21, 9))
    k10.file(bj(8, 14, 9, 10), due=bj(8, 14, 13, 10)).check_passed(bj(8, 14, 12))
    k10.close(bj(8, 14, 12, 30)).reply(bj(8, 14, 13))
    longtan = hotline_rates(august.district, "2026-08", township=august.longtan)
    # Closed and replied in time, but nobody reached the caller yet: a response, not a
    # resolution; the resolution rate is still k2's alone.
    assert (longtan.received, longtan.responded) == (3, 2)
    assert (longtan.called_back, longtan.resolved, longtan.resolution_rate) == (1, 1, D("100.00"))
    k10.call_back(bj(8, 15, 10), satisfied=False, resolved=False)
    longtan = hotline_rates(august.district, "2026-08", township=august.longtan)
    assert (longtan.called_back, longtan.resolved, longtan.resolution_rate) == (2, 1, D("50.00"))


def test_orders_from_a_superior_or_another_channel_are_not_the_hotlines(august):
    k3 = august.tales["k3"].case
    HotlineOrder.objects.filter(case=k3).update(channel=HotlineOrder.Channel.SUPERIOR)
    longtan = hotline_rates(august.district, "2026-08", township=august.longtan)
    assert (longtan.received, longtan.responded, longtan.response_rate) == (1, 1, D("100.00"))


def test_a_hotline_case_that_did_not_come_as_an_order_is_not_counted(small_city):
    Tale(small_city.longtan, bj(8, 3, 9), source=Case.Source.HOTLINE)
    assert hotline_rates(small_city.district, "2026-08").received == 0


def test_a_month_without_requests_has_no_rates(august):
    rates = hotline_rates(august.district, "2026-10")
    assert (rates.received, rates.response_rate, rates.score, rates.complete) == (
        0,
        None,
        None,
        False,
    )


def test_a_rate_without_callers_reached_is_left_out_of_the_score(august):
    # July: k8 came and was never replied to nor called back. Only the response rate
    # applies, and the score is that rate alone.
    july = hotline_rates(august.district, "2026-07")
    assert (july.received, july.response_rate, july.resolution_rate) == (1, D("0.00"), None)
    assert (july.satisfaction_rate, july.score, july.complete) == (None, D("0.00"), False)


def test_the_weights_and_patrol_requirements_are_entered_in_the_admin_in_chinese(
    admin_client, august
):
    html = admin_client.get("/admin/assessment/hotlinescheme/add/").content.decode()
    assert "响应率权重" in html and "满意率权重" in html
    # The time to reply is each order's deadline class, not a setting of the weights.
    assert "respond_within_hours" not in html
    html = admin_client.get("/admin/policies/hotlinedeadlineclass/add/").content.decode()
    assert "答复时限" in html and "处置时限" in html
    html = admin_client.get("/admin/assessment/patrolrequirement/add/").content.decode()
    assert "每条街巷巡查周期（天）" in html


def test_the_weights_are_read_as_typed_on_a_chinese_keyboard(admin_client, august):
    answer = admin_client.post(
        "/admin/assessment/hotlinescheme/add/",
        {
            "district": str(august.district.pk),
            "valid_from": "2026-09-01",
            "response_weight": "３０％",
            "resolution_weight": "０.３５",
            "satisfaction_weight": "７／２０",
        },
    )
    assert answer.status_code == 302, answer.content.decode()
    scheme = HotlineScheme.objects.get(district=august.district, valid_from=date(2026, 9, 1))
    weights = (scheme.response_weight, scheme.resolution_weight, scheme.satisfaction_weight)
    assert weights == ("30%", "0.35", "7/20")


def test_the_hotline_weights_come_from_the_district_scheme_in_force(august):
    HotlineScheme.objects.create(
        district=august.district,
        valid_from=date(2026, 8, 1),
        response_weight="1/3",
        resolution_weight="1/3",
        satisfaction_weight="1/3",
    )
    HotlineScheme.objects.create(
        district=august.district,
        valid_from=date(2026, 9, 1),
        response_weight="50%",
        resolution_weight="25%",
        satisfaction_weight="25%",
    )
    # Equal thirds in August: (60 + 66.67 + 33.33) / 3 = 53.33.
    assert hotline_rates(august.district, "2026-08").score == D("53.33")
    assert hotline_weights(august.district, "2026-07").response == D("0.3")
    assert hotline_weights(august.district, "2026-09").response == D("0.5")


def test_hotline_weights_must_add_up_to_one(august):
    scheme = HotlineScheme(
        district=august.district,
        valid_from=date(2026, 8, 1),
        response_weight="30%",
        resolution_weight="30%",
        satisfaction_weight="30%",
    )
    with pytest.raises(ValidationError):
        scheme.full_clean()
    scheme.satisfaction_weight = "40%"
    scheme.full_clean()
    scheme.response_weight = "a third"
    with pytest.raises(ValidationError):
        scheme.full_clean()


def test_the_townships_are_ranked_by_their_hotline_score(august):
    chaoyangmen = Jurisdiction.objects.create(
        level="township", code="110101003", name="朝阳门街道", parent=august.district
    )
    ranking = township_hotline_ranking(august.district, "2026-08")
    assert [(line.township.name, line.rates.score, line.rank) for line in ranking] == [
        ("龙潭街道", D("85.00"), 1),
        ("东四街道", D("37.50"), 2),
        (chaoyangmen.name, None, None),
    ]


def test_the_rates_take_a_fixed_number_of_queries(august, django_assert_num_queries):
    # The weights, then one aggregate over the orders.
    with django_assert_num_queries(2):
        hotline_rates(august.district, "2026-08")
