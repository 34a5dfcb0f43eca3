"""The 12345 hotline's three rates (响应率, 解决率, 满意率), their weighted score with the
district's weights, and the townships' monthly ranking.

The scenario is `august` (tests/fixtures_measures.py, told in
tests/test_assessment_indicators.py). Its hotline requests:

case  township  received         first decision        closed  call-back
k2    龙潭      05 Aug 10:00     filed 20:00 (10 h)    yes     satisfied
k3    龙潭      10 Aug 08:00     filed 11 Aug 09:00    no      —
                                 (25 h), on the backlog
k4    东四      12 Aug 09:00     rejected 10:00 (1 h)  no      —
k5    东四      21 Aug 09:00     merged into k6: counted with k6, not as a request
k7    东四      25 Aug 09:00     filed 09:05           yes     not satisfied
k8    龙潭      31 Jul 23:30     (July's)

District: received 4; responded within 24 h 3 (75.00%); resolved 2 (50.00%); satisfied 1 of
2 called back (50.00%); score 0.30 × 75 + 0.35 × 50 + 0.35 × 50 = 57.50.
龙潭: 2 received, 1 responded (50.00), 1 resolved (50.00), 1 of 1 satisfied (100.00):
0.30 × 50 + 0.35 × 50 + 0.35 × 100 = 67.50. 东四: 2, 2 (100.00), 1 (50.00), 0 of 1 (0.00):
30 + 17.5 + 0 = 47.50.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from tests.fixtures_measures import august_fixture  # noqa: F401  (fixture)
from whistle.assessment.hotline import (
    HotlineWeights,
    hotline_rates,
    hotline_weights,
    township_hotline_ranking,
)
from whistle.assessment.models import HotlineScheme
from whistle.cases.models import Case
from whistle.organisation.models import Jurisdiction

D = Decimal

pytestmark = pytest.mark.django_db


def test_the_district_rates_and_score_with_the_default_weights(august):
    rates = hotline_rates(august.district, "2026-08")
    assert (rates.received, rates.responded, rates.resolved) == (4, 3, 2)
    assert (rates.called_back, rates.satisfied) == (2, 1)
    assert (rates.response_rate, rates.resolution_rate, rates.satisfaction_rate) == (
        D("75.00"),
        D("50.00"),
        D("50.00"),
    )
    assert (rates.score, rates.complete) == (D("57.50"), True)
    assert rates.weights == HotlineWeights.defaults()
    assert rates.weights.scheme_id is None


def test_each_township_has_its_own_rates(august):
    longtan = hotline_rates(august.district, "2026-08", township=august.longtan)
    dongsi = hotline_rates(august.district, "2026-08", township=august.dongsi)
    assert (longtan.received, longtan.response_rate, longtan.score) == (2, D("50.00"), D("67.50"))
    assert (dongsi.received, dongsi.satisfaction_rate, dongsi.score) == (2, D("0.00"), D("47.50"))


def test_a_rejected_request_is_a_response_but_not_a_resolution(august):
    # k4 was rejected within the hour: it counts as answered, not as solved.
    dongsi = hotline_rates(august.district, "2026-08", township=august.dongsi)
    assert (dongsi.responded, dongsi.resolved) == (2, 1)


def test_a_request_merged_as_a_duplicate_is_not_counted_again(august):
    merged = august.tales["k5"].case
    Case.objects.filter(pk=merged.pk).update(status=Case.Status.REPORTED, merged_into=None)
    # Had k5 not been merged it would be a fifth request, answered in time by its merge
    # event: 4 of 5 responded.
    rates = hotline_rates(august.district, "2026-08")
    assert (rates.received, rates.responded, rates.response_rate) == (5, 4, D("80.00"))


def test_a_month_without_requests_has_no_rates(august):
    rates = hotline_rates(august.district, "2026-10")
    assert (rates.received, rates.response_rate, rates.score, rates.complete) == (
        0,
        None,
        None,
        False,
    )


def test_the_weights_and_patrol_requirements_are_entered_in_the_admin_in_chinese(
    admin_client, august
):
    html = admin_client.get("/admin/assessment/hotlinescheme/add/").content.decode()
    assert "响应率权重" in html and "满意率权重" in html and "响应时限（小时）" in html
    html = admin_client.get("/admin/assessment/patrolrequirement/add/").content.decode()
    assert "每条街巷巡查周期（天）" in html


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
        respond_within_hours=26,
    )
    # Equal thirds in August: (75 + 50 + 50) / 3 = 58.33.
    assert hotline_rates(august.district, "2026-08").score == D("58.33")
    assert hotline_weights(august.district, "2026-07").response == D("0.3")
    # In September's scheme k3's 25 hours count as a response.
    september = hotline_weights(august.district, "2026-09")
    assert september.respond_within == timedelta(hours=26)


def test_a_longer_response_time_counts_a_slow_response(august):
    HotlineScheme.objects.create(
        district=august.district,
        valid_from=date(2026, 8, 1),
        respond_within_hours=26,
    )
    rates = hotline_rates(august.district, "2026-08")
    assert (rates.responded, rates.response_rate) == (4, D("100.00"))
    # 0.30 × 100 + 0.35 × 50 + 0.35 × 50 = 65.00.
    assert rates.score == D("65.00")


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
        ("龙潭街道", D("67.50"), 1),
        ("东四街道", D("47.50"), 2),
        (chaoyangmen.name, None, None),
    ]


def test_a_rate_without_cases_is_left_out_of_the_hotline_score(august):
    # 东四 in August without k7's call-back would have no satisfaction rate: the score is
    # the weighted mean of the other two, (0.30 × 100 + 0.35 × 50) / 0.65 = 73.08.
    Case.objects.filter(pk=august.tales["k7"].case.pk).update(resident_satisfied=None)
    rates = hotline_rates(august.district, "2026-08", township=august.dongsi)
    assert (rates.satisfaction_rate, rates.score, rates.complete) == (None, D("73.08"), False)
