"""Recommendations on personnel (人事任免建议权): the township's chief recommends appointing,
moving, rewarding or punishing the leader of a dispatched agency serving the township, with
the township's own assessment records of the agency attached; the district chief decides;
nobody else sees it."""

from __future__ import annotations

import pytest
import time_machine

from tests.conftest import make_person
from tests.fixtures_assessment import bj, july_fixture, scheme_one_third  # noqa: F401
from whistle.assessment.engine import recompute_all
from whistle.assessment.models import SummonsAssessment
from whistle.notifications.models import Notification
from whistle.organisation.models import Role
from whistle.township import actions
from whistle.township.errors import InvalidTownshipInput, TownshipRefused
from whistle.township.models import PersonnelRecommendation, TownshipLogEntry
from whistle.township.permissions import visible_recommendations

pytestmark = pytest.mark.django_db
Decision = PersonnelRecommendation.Decision


@pytest.fixture
def month(july):
    scheme_one_third(july.district)
    with time_machine.travel(bj(31, 20), tick=False):
        recompute_all()
    july.longtan_chief = make_person("li-chief", Role.TOWNSHIP_CHIEF, jurisdiction=july.longtan)
    july.dongsi_chief = make_person("xun-chief", Role.TOWNSHIP_CHIEF, jurisdiction=july.dongsi)
    july.district_chief = make_person(
        "zhang-chief", Role.DISTRICT_CHIEF, jurisdiction=july.district
    )
    return july


def recommend_punishing_the_police_chief(m, **changes) -> PersonnelRecommendation:
    values = {
        "department": m.police,
        "leader_name": "赵所长",
        "leader_post": "所长",
        "proposal": "punish",
        "reasons": "7月哨响后迟到，且多次推诿。",
        "records": [SummonsAssessment.objects.get(summons=m.summonses["c1_police"])],
    } | changes
    with time_machine.travel(bj(31, 21), tick=False):
        return actions.file_recommendation(m.longtan_chief, m.longtan, **values)


def test_the_chief_files_a_recommendation_with_the_records_and_the_district_chief_decides(month):
    m = month
    recommendation = recommend_punishing_the_police_chief(m)
    assert [r.summons_id for r in recommendation.records.all()] == [m.summonses["c1_police"].pk]
    told = Notification.objects.get(kind="township.recommendation", channel="inbox")
    assert told.recipient == m.district_chief
    assert "赵所长" not in told.subject
    with time_machine.travel(bj(31, 22), tick=False):
        actions.decide_recommendation(
            m.district_chief, recommendation, decision=Decision.PARTLY, note="予以提醒谈话。"
        )
    recommendation.refresh_from_db()
    assert (recommendation.decision, recommendation.decided_by) == (
        Decision.PARTLY,
        m.district_chief,
    )
    assert Notification.objects.filter(kind="township.decision", recipient=m.longtan_chief).exists()
    assert list(recommendation.log.order_by("at").values_list("action", "actor_role")) == [
        (TownshipLogEntry.Action.RECOMMENDATION_FILED, "township_chief"),
        (TownshipLogEntry.Action.RECOMMENDATION_DECIDED, "district_chief"),
    ]


def test_it_refuses_records_of_another_township_or_agency(month):
    m = month
    dongsi_record = SummonsAssessment.objects.get(summons=m.summonses["c4_police"])
    urban_record = SummonsAssessment.objects.get(summons=m.summonses["c1_urban"])
    for record in (dongsi_record, urban_record):
        with pytest.raises(InvalidTownshipInput) as refused:
            recommend_punishing_the_police_chief(m, records=[record])
        assert refused.value.field == "records"
    assert not PersonnelRecommendation.objects.exists()


def test_it_refuses_a_department_that_is_no_dispatched_agency_of_the_township(month):
    m = month
    with pytest.raises(InvalidTownshipInput) as refused:
        recommend_punishing_the_police_chief(m, department=m.urban, records=[])
    assert refused.value.field == "department"
    with time_machine.travel(bj(31, 21), tick=False), pytest.raises(InvalidTownshipInput):
        actions.file_recommendation(
            m.dongsi_chief,
            m.dongsi,
            department=m.police,
            leader_name="赵所长",
            leader_post="所长",
            proposal="reward",
            reasons="表现好",
        )


def test_only_the_township_chief_recommends_and_only_the_district_chief_decides(month):
    m = month
    with pytest.raises(TownshipRefused), time_machine.travel(bj(31, 21), tick=False):
        actions.file_recommendation(
            m.longtan_assessor,
            m.longtan,
            department=m.police,
            leader_name="赵所长",
            leader_post="所长",
            proposal="reward",
            reasons="表现好",
        )
    recommendation = recommend_punishing_the_police_chief(m)
    for person in (m.chiefs_office, m.district_assessor, m.longtan_chief):
        with pytest.raises(TownshipRefused):
            actions.decide_recommendation(
                person, recommendation, decision=Decision.ACCEPTED, note="同意"
            )
    actions.decide_recommendation(
        m.district_chief, recommendation, decision=Decision.DECLINED, note="证据不足"
    )
    with pytest.raises(TownshipRefused, match="已有决定"):
        actions.decide_recommendation(
            m.district_chief, recommendation, decision=Decision.ACCEPTED, note="改为同意"
        )


def test_the_recommendation_is_seen_by_its_township_chief_and_the_district_chief_alone(month):
    m = month
    recommendation = recommend_punishing_the_police_chief(m)
    assert list(visible_recommendations(m.longtan_chief)) == [recommendation]
    assert list(visible_recommendations(m.district_chief)) == [recommendation]
    for person in (m.dongsi_chief, m.longtan_assessor, m.chiefs_office, m.police_officer):
        assert not visible_recommendations(person).exists()
