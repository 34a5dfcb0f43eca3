"""Nobody judges their own: a person who belongs to a department (a role in it, or a duty
named for it in a township's 1+5+N centre) does not rule on its decline or its appeal, does
not evaluate a case it was summoned to nor rate its work; nobody decides on an appeal they
filed. The actions refuse with a clear reason and write nothing; the pages do not offer the
button."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import translation

from tests.fixtures_assessment import (
    Month,
    bj,
    july_fixture,  # noqa: F401  (fixture)
    scheme_one_third,
)
from tests.fixtures_cases import (
    WhistleCity,
    beijing,
    device_fix,
    give_role,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from tests.fixtures_desk import case_url
from tests.fixtures_district import APPEALS, HOME
from whistle.assessment.actions import AssessmentError, file_appeal, rate_summons, rule_on_appeal
from whistle.assessment.engine import update_scores
from whistle.assessment.models import Appeal
from whistle.assessment.scoring import AssessmentEventKind
from whistle.cases import actions
from whistle.cases.models import Case, Event, Summons
from whistle.cases.permissions import member_department_ids
from whistle.cases.trail import EventKind
from whistle.organisation.models import CentreMembership, Role, RoleAssignment

NOW = beijing(2026, 3, 10, 10, 0)
S = Summons.Status


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


def minutes(n: int):
    return NOW + timedelta(minutes=n)


def declined_police(city: WhistleCity) -> tuple[Case, Summons]:
    case, _whistle, summonses = whistled_case(city, at=NOW)
    police = actions.decline(
        city.police_officer, summonses[city.police.pk], reason="不涉及治安", now=minutes(3)
    )
    return case, police


def closed_whistle(city: WhistleCity) -> Case:
    """Urban management and the police come, report and are let go; the case is closed."""
    case, _whistle, summonses = whistled_case(city, at=NOW)
    pairs = [
        (summonses[city.urban.pk], city.urban_officer),
        (summonses[city.police.pk], city.police_officer),
    ]
    for summons, officer in pairs:
        actions.acknowledge(officer, summons, now=minutes(5))
    for summons, officer in pairs:
        actions.check_in(officer, summons, **device_fix(at=minutes(10)), now=minutes(10))
    for summons, officer in pairs:
        actions.report_result(officer, summons, result="已处置", now=minutes(30))
    actions.mark_handled(city.dispatcher, case, now=minutes(40))
    actions.check_passed(city.dispatcher, case, now=minutes(50))
    return actions.close_case(city.dispatcher, case, now=minutes(60))


# Whom a person belongs to -------------------------------------------------------------------


def test_a_person_belongs_to_the_departments_of_their_roles_and_centre_duties(whistle_city):
    city = whistle_city
    assert member_department_ids(city.urban_officer) == {city.urban.pk}
    assert member_department_ids(city.dispatcher) == set()
    CentreMembership.objects.get(department=city.police).people.add(city.dispatcher)
    give_role(city.dispatcher, Role.DEPARTMENT_HEAD, department=city.fire)
    assert member_department_ids(city.dispatcher) == {city.police.pk, city.fire.pk}


# The case domain --------------------------------------------------------------------------


def test_a_dispatcher_with_a_role_in_the_declining_department_may_not_rule_on_its_decline(
    whistle_city,
):
    city = whistle_city
    case, police = declined_police(city)
    give_role(city.dispatcher, Role.DEPARTMENT_OFFICER, department=city.police)
    with pytest.raises(actions.PermissionRefused) as refused:
        actions.rule_on_decline(city.dispatcher, police, uphold=True, now=minutes(5))
    assert str(refused.value) == (
        "You may not rule on this decline: you belong to 龙潭派出所, which it judges."
    )
    police.refresh_from_db()
    assert police.status == S.DECLINED
    assert not Event.objects.filter(case=case, kind=EventKind.DECLINE_UPHELD).exists()
    # The township chief, who belongs to no department, rules.
    police = actions.rule_on_decline(city.township_chief, police, uphold=True, now=minutes(6))
    assert police.ruling == Summons.Ruling.UPHELD


def test_a_dispatcher_on_the_departments_centre_duty_may_not_rule_on_its_decline(whistle_city):
    city = whistle_city
    _case, police = declined_police(city)
    CentreMembership.objects.get(department=city.police).people.add(city.dispatcher)
    with pytest.raises(actions.PermissionRefused) as refused:
        actions.rule_on_decline(
            city.dispatcher, police, uphold=False, note="须到场处置", now=minutes(5)
        )
    with translation.override("zh-hans"):
        assert (
            str(refused.value) == "无权对本次退回申请作出裁定：您属于龙潭派出所，不能评判本部门。"
        )


def test_an_assessor_belonging_to_a_summoned_department_may_not_evaluate_the_case(whistle_city):
    city = whistle_city
    case = closed_whistle(city)
    CentreMembership.objects.get(department=city.urban).people.add(city.assessor)
    with pytest.raises(actions.PermissionRefused, match="you belong to 东城区城管执法局"):
        actions.evaluate_case(city.assessor, case, rating=5, now=minutes(70))
    case.refresh_from_db()
    assert (case.status, case.township_rating) == (Case.Status.CLOSED, None)
    case = actions.evaluate_case(city.dispatcher, case, rating=4, now=minutes(71))
    assert case.township_rating == 4


def test_the_case_page_does_not_offer_a_ruling_to_a_member_of_the_declining_department(
    client, whistle_city
):
    city = whistle_city
    case, police = declined_police(city)
    give_role(city.dispatcher, Role.DEPARTMENT_OFFICER, department=city.police)
    button = f'id="op-rule-{police.uuid.hex}"'
    with time_machine.travel(minutes(4), tick=False):
        client.force_login(city.dispatcher)
        assert button not in client.get(case_url(case)).content.decode()
        client.force_login(city.township_chief)
        assert button in client.get(case_url(case)).content.decode()


def test_the_case_page_explains_the_evaluation_and_hides_it_from_a_member(client, whistle_city):
    city = whistle_city
    case = closed_whistle(city)
    button = f'id="op-evaluate-{case.reference}"'
    with time_machine.travel(minutes(65), tick=False):
        client.force_login(city.assessor)
        html = client.get(case_url(case)).content.decode()
        assert button in html
        assert "街乡对案件办理情况的总体评价" in html
        CentreMembership.objects.get(department=city.police).people.add(city.assessor)
        assert button not in client.get(case_url(case)).content.decode()


# The assessment ---------------------------------------------------------------------------


def rated_by_longtan(m: Month) -> None:
    scheme_one_third(m.district)
    update_scores()


@pytest.mark.django_db
def test_a_township_assessor_on_a_departments_duty_may_not_rate_its_work(july):
    m = july
    rated_by_longtan(m)
    centre = CentreMembership.objects.create(township=m.longtan, department=m.urban, role="core")
    centre.people.add(m.longtan_assessor)
    with time_machine.travel(bj(25, 9), tick=False):
        with pytest.raises(AssessmentError) as refused:
            rate_summons(m.longtan_assessor, m.summonses["c1_urban"], 5, "")
        rate_summons(m.longtan_assessor, m.summonses["c1_police"], 4, "")
    assert str(refused.value) == (
        "You may not rate this department's work: you belong to 东城区城管执法局, which it judges."
    )
    rated = Event.objects.filter(kind=AssessmentEventKind.RATED)
    assert list(rated.values_list("summons_id", flat=True)) == [m.summonses["c1_police"].pk]


@pytest.mark.django_db
def test_the_rating_page_does_not_offer_stars_for_ones_own_department(
    client, july, settings, tmp_path
):
    m = july
    settings.MEDIA_ROOT = str(tmp_path / "media")
    rated_by_longtan(m)
    give_role(m.longtan_assessor, Role.DEPARTMENT_OFFICER, department=m.police)
    client.force_login(m.longtan_assessor)
    with time_machine.travel(bj(25, 9), tick=False):
        html = client.get(HOME).content.decode()
    waiting = html[html.index('id="to-rate"') : html.index('id="township-view"')]
    assert f'id="rate-{m.summonses["c1_urban"].uuid.hex}"' in waiting
    assert m.summonses["c1_police"].uuid.hex not in waiting


def appeal_of_c3_urban(m: Month) -> Appeal:
    with time_machine.travel(bj(20, 10), tick=False):
        return file_appeal(
            m.urban_officer, m.summonses["c3_urban"], "came", {"came": "on_time"}, "已到场"
        )


@pytest.mark.django_db
def test_a_chiefs_office_member_with_a_role_in_the_department_may_not_rule_on_its_appeal(july):
    m = july
    rated_by_longtan(m)
    appeal = appeal_of_c3_urban(m)
    give_role(m.chiefs_office, Role.DEPARTMENT_HEAD, department=m.urban)
    with (
        time_machine.travel(bj(21, 10), tick=False),
        pytest.raises(AssessmentError, match="you belong to 东城区城管执法局"),
    ):
        rule_on_appeal(m.chiefs_office, appeal, True, "同意")
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.PENDING
    assert not Event.objects.filter(kind=AssessmentEventKind.APPEAL_UPHELD).exists()


@pytest.mark.django_db
def test_nobody_rules_on_an_appeal_they_filed_even_after_leaving_the_department(july):
    m = july
    rated_by_longtan(m)
    appeal = appeal_of_c3_urban(m)
    RoleAssignment.objects.filter(person=m.urban_officer).delete()
    give_role(m.urban_officer, Role.CHIEFS_OFFICE, jurisdiction=m.district)
    with (
        time_machine.travel(bj(21, 10), tick=False),
        pytest.raises(AssessmentError, match="you filed it yourself"),
    ):
        rule_on_appeal(m.urban_officer, appeal, True, "同意")
    with time_machine.travel(bj(21, 11), tick=False):
        rule_on_appeal(m.chiefs_office, appeal, False, "无到场证据")
    appeal.refresh_from_db()
    assert (appeal.status, appeal.ruled_by) == (Appeal.Status.REJECTED, m.chiefs_office)


@pytest.mark.django_db
def test_the_appeals_page_tells_a_member_why_someone_else_rules(client, july):
    m = july
    rated_by_longtan(m)
    appeal = appeal_of_c3_urban(m)
    give_role(m.chiefs_office, Role.DEPARTMENT_OFFICER, department=m.urban)
    client.force_login(m.chiefs_office)
    with time_machine.travel(bj(21, 10), tick=False), translation.override("zh-hans"):
        html = client.get(APPEALS).content.decode()
    card = html[html.index(f'id="appeal-{appeal.pk}"') :]
    card = card[: card.index("</article>")]
    assert "ruling-form" not in card
    assert "无权裁定本申诉：您属于东城区城管执法局，不能评判本部门。" in card
