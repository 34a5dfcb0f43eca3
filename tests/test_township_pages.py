"""The pages of the township's powers: the township files its opinion and its
recommendations, the district registers matters, responds and decides; bad input is
answered in the page with the error; a confidential recommendation is not found by anyone
else; each page is reachable from the role's navigation."""

from __future__ import annotations

import pytest
import time_machine
from django.utils import translation

from tests.conftest import make_person
from tests.fixtures_assessment import july_fixture, scheme_one_third  # noqa: F401
from tests.fixtures_township import bj, powers_fixture, register_market_plan  # noqa: F401
from whistle.assessment.engine import recompute_all
from whistle.assessment.models import SummonsAssessment
from whistle.desk.views.stationed import StationForm
from whistle.organisation.models import Department, Role
from whistle.township import actions
from whistle.township.models import MajorMatter, MatterOpinion, PersonnelRecommendation
from whistle.web.dashboards import dashboards_for

pytestmark = pytest.mark.django_db


def signed_in(client, person):
    client.force_login(person)
    return client


def test_the_township_chief_files_the_opinion_from_the_page(client, powers):
    matter = register_market_plan(powers)
    opinion = MatterOpinion.objects.get(matter=matter, township=powers.city.longtan)
    signed_in(client, powers.longtan_chief)
    with time_machine.travel(bj(3, 9), tick=False):
        home = client.get("/township/")
        assert home.status_code == 200
        assert "光明楼农贸市场搬迁规划" in home.content.decode()
        empty = client.post(f"/township/matters/{opinion.pk}/", {"text": " ", "proposals": ""})
        assert empty.status_code == 400
        assert "form-errors" in empty.content.decode()
        done = client.post(
            f"/township/matters/{opinion.pk}/", {"text": "同意搬迁。", "proposals": "保留早市"}
        )
    assert done.status_code == 302
    opinion.refresh_from_db()
    assert (opinion.opinion, opinion.proposals) == ("同意搬迁。", "保留早市")


def test_a_township_not_asked_does_not_find_the_opinion_and_a_dispatcher_cannot_file(
    client, powers
):
    matter = register_market_plan(powers)
    longtan = MatterOpinion.objects.get(matter=matter, township=powers.city.longtan)
    signed_in(client, powers.dongsi_chief)
    assert client.get(f"/township/matters/{longtan.pk}/").status_code == 404
    signed_in(client, powers.longtan_dispatcher)
    assert client.get(f"/township/matters/{longtan.pk}/").status_code == 200
    with time_machine.travel(bj(3, 9), tick=False):
        refused = client.post(f"/township/matters/{longtan.pk}/", {"text": "同意"})
    assert refused.status_code == 403
    longtan.refresh_from_db()
    assert longtan.filed_at is None


def test_the_district_registers_a_matter_and_responds_from_its_pages(client, powers):
    signed_in(client, powers.district_office)
    form = {
        "kind": "project",
        "title": "龙潭湖公园改造工程",
        "description": "征求意见。",
        "townships": [str(powers.city.longtan.pk)],
        "opinions_due_at": "2026-09-10T18:00",
        "responses_due_at": "2026-09-20T18:00",
    }
    with time_machine.travel(bj(1, 9), tick=False):
        wrong = client.post(
            "/district/matters/new/", form | {"responses_due_at": "2026-09-09T18:00"}
        )
        assert wrong.status_code == 400
        assert 'href="#id_responses_due_at"' in wrong.content.decode()
        assert client.post("/district/matters/new/", form).status_code == 302
    matter = MajorMatter.objects.get()
    assert matter.opinions_due_at == bj(10, 18)
    opinion = matter.opinions.get()
    with time_machine.travel(bj(5, 9), tick=False):
        actions.file_opinion(powers.longtan_chief, opinion, text="同意。")
        page = client.get(f"/district/matters/{matter.pk}/")
        assert "同意。" in page.content.decode()
        answered = client.post(
            f"/district/matters/{matter.pk}/",
            {"target": str(opinion.pk), f"o{opinion.pk}-response": "已采纳。"},
        )
    assert answered.status_code == 302
    opinion.refresh_from_db()
    assert opinion.response == "已采纳。"


def test_the_district_list_shows_overdue_opinions_and_responses(client, powers):
    matter = register_market_plan(powers)
    longtan = MatterOpinion.objects.get(matter=matter, township=powers.city.longtan)
    with time_machine.travel(bj(5, 9), tick=False):
        actions.file_opinion(powers.longtan_chief, longtan, text="同意。")
    signed_in(client, powers.district_chief)
    with time_machine.travel(bj(10, 18), tick=False):
        before = client.get("/district/matters/").content.decode()
    with time_machine.travel(bj(20, 18, 1), tick=False):
        after = client.get("/district/matters/").content.decode()
    assert "township-overdue" not in before
    overdue = after.split('class="plain-list township-overdue"')[1].split("</ul>")[0]
    assert "东四街道" in overdue and "龙潭街道" in overdue


def recommend_punishing(client, department, record):
    """The chief's form, filled in to propose punishing the department's leader over one
    record."""
    return client.post(
        "/township/recommendations/new/",
        {
            "department": department.pk,
            "leader_name": "赵所长",
            "leader_post": "所长",
            "proposal": "punish",
            "reasons": "迟到七分钟。",
            "records": [record.pk],
        },
    )


@pytest.fixture
def filed(july, client):
    scheme_one_third(july.district)
    with time_machine.travel(bj(31, 20, month=7), tick=False):
        recompute_all()
    july.longtan_chief = make_person("li-chief", Role.TOWNSHIP_CHIEF, jurisdiction=july.longtan)
    july.district_chief = make_person(
        "zhang-chief", Role.DISTRICT_CHIEF, jurisdiction=july.district
    )
    record = SummonsAssessment.objects.get(summons=july.summonses["c1_police"])
    signed_in(client, july.longtan_chief)
    page = client.get("/township/recommendations/new/").content.decode()
    assert july.police.name in page and july.urban.name not in page.split("records")[0]
    with time_machine.travel(bj(31, 21, month=7), tick=False):
        missing = client.post("/township/recommendations/new/", {"department": july.police.pk})
        assert missing.status_code == 400
        done = recommend_punishing(client, july.police, record)
    assert done.status_code == 302
    july.recommendation = PersonnelRecommendation.objects.get()
    return july


def test_the_chief_files_a_recommendation_and_the_district_chief_decides_on_its_page(client, filed):
    m = filed
    assert [r.pk for r in m.recommendation.records.all()] == [
        SummonsAssessment.objects.get(summons=m.summonses["c1_police"]).pk
    ]
    signed_in(client, m.district_chief)
    page = client.get(f"/district/recommendations/{m.recommendation.pk}/").content.decode()
    assert "赵所长" in page and m.summonses["c1_police"].case.reference in page
    with time_machine.travel(bj(31, 22, month=7), tick=False):
        decided = client.post(
            f"/district/recommendations/{m.recommendation.pk}/",
            {"decision": "accepted", "note": "同意诫勉谈话。"},
        )
    assert decided.status_code == 302
    m.recommendation.refresh_from_db()
    assert m.recommendation.decision == "accepted"


def test_nobody_else_finds_a_recommendation(client, filed):
    m = filed
    pk = m.recommendation.pk
    for person in (m.longtan_assessor, m.chiefs_office, m.police_officer, m.district_assessor):
        signed_in(client, person)
        assert client.get(f"/township/recommendations/{pk}/").status_code == 404
        assert client.get(f"/district/recommendations/{pk}/").status_code == 404


def test_the_records_to_attach_come_under_their_agency(july, client):
    """市场监管局 is a dispatched agency of 龙潭 too: each agency's records come under its own
    name, so that choosing the agency offers its records alone."""
    m = july
    Department.objects.filter(pk=m.market.pk).update(kind="dispatched")
    scheme_one_third(m.district)
    with time_machine.travel(bj(31, 20, month=7), tick=False):
        recompute_all()
    chief = make_person("li-chief", Role.TOWNSHIP_CHIEF, jurisdiction=m.longtan)
    police = SummonsAssessment.objects.get(summons=m.summonses["c1_police"])
    market = SummonsAssessment.objects.get(summons=m.summonses["c2_market"])
    signed_in(client, chief)
    page = client.get("/township/recommendations/new/").content.decode()
    assert 'data-narrows="#id_records"' in page
    groups = {
        part.split('"', 1)[0]: part.split("</fieldset>", 1)[0]
        for part in page.split('class="township-record-group" data-group="')[1:]
    }
    assert set(groups) == {str(m.police.pk), str(m.market.pk)}
    assert f'value="{police.pk}"' in groups[str(m.police.pk)]
    assert f'value="{market.pk}"' not in groups[str(m.police.pk)]
    assert f'value="{market.pk}"' in groups[str(m.market.pk)]
    assert m.summonses["c2_market"].case.reference in groups[str(m.market.pk)]
    # Without the script the server still refuses another agency's record.
    with time_machine.travel(bj(31, 21, month=7), tick=False):
        refused = recommend_punishing(client, m.police, market)
    assert refused.status_code == 400
    assert "只能附上本街乡对该机构的考核记录。" in refused.content.decode()
    assert not PersonnelRecommendation.objects.exists()


def test_each_role_reaches_its_pages_from_the_navigation(powers, small_city):
    def links(person):
        return {link.dashboard.url_name for link in dashboards_for(person)}

    assert "township:home" in links(powers.longtan_chief)
    assert "township:home" in links(powers.longtan_dispatcher)
    assert {"district:matters", "district:recommendations"} <= links(powers.district_chief)
    assert "district:matters" in links(powers.district_office)
    assert "district:recommendations" not in links(powers.district_office)


def test_the_township_page_opens_the_stationed_roster_under_its_own_name(client, powers):
    client.force_login(powers.longtan_chief)
    html = client.get("/township/").content.decode()
    # 值班表 is the duty roster's name (/duty/); this button opens the stationed staff's.
    section = html[html.index('aria-labelledby="stationed-title"') :]
    section = section[: section.index("</section>")]
    assert '<a class="btn" href="/township/stationed/">派驻名册</a>' in section
    assert "值班表" not in section
    english = client.get("/township/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<a class="btn" href="/township/stationed/">Roster of stationed people</a>' in english


def test_the_forms_examples_of_posts_are_english_on_english_pages(client, powers):
    client.force_login(powers.longtan_chief)
    page = "/township/recommendations/new/"
    assert '<p class="help" id="id_leader_post-help">如：所长、队长</p>' in (
        client.get(page).content.decode()
    )
    english = client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "e.g. station chief, team leader" in english
    assert "所长" not in english and "队长" not in english
    # The form stationing a person in the township's centre.
    post = StationForm(township=powers.city.longtan).fields["post"]
    with translation.override("zh-hans"):
        assert str(post.help_text) == "例如 社区民警、消防监督员"
    with translation.override("en"):
        assert str(post.help_text) == "e.g. community police officer, fire inspector"


@pytest.mark.parametrize("office", ["longtan_office", "district_office"])
def test_every_page_a_chiefs_office_finds_in_its_navigation_opens_for_it(client, powers, office):
    # A township's chiefs' office holds the same role as the district's: the district's
    # rankings, annual report, appeals and major matters are not offered to it.
    person = getattr(powers, office)
    client.force_login(person)
    links = {link.dashboard.url_name: link.url for link in dashboards_for(person)}
    refused = {name for name, url in links.items() if client.get(url).status_code != 200}
    assert refused == set()
    district_pages = {"district:rankings", "district:report", "assessment:appeals"}
    if office == "district_office":
        assert district_pages | {"district:matters"} <= set(links)
    else:
        assert not (district_pages | {"district:matters"}) & set(links)
