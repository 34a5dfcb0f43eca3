"""The township's powers in a real browser: the township chief files the opinion on a
major matter from a phone (360 × 740) and the district's chiefs' office reads it on a
desktop with what is overdue."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.browser.conftest import PHONE, WALL, sign_in, submit
from tests.conftest import make_person
from tests.fixtures_assessment import Month, bj, july_fixture, scheme_one_third  # noqa: F401
from tests.fixtures_township import Powers, powers_fixture  # noqa: F401  (fixture)
from whistle.assessment.engine import recompute_all
from whistle.assessment.models import SummonsAssessment
from whistle.organisation.models import Department, Role
from whistle.township import actions
from whistle.township.models import MatterOpinion, PersonnelRecommendation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def register(powers: Powers) -> MatterOpinion:
    now = timezone.now()
    matter = actions.register_matter(
        powers.district_office,
        powers.city.district,
        kind="plan",
        title="光明楼农贸市场搬迁规划",
        description="市场拟迁至左安门内大街以东，征求沿线街道意见。",
        townships=[powers.city.longtan, powers.city.dongsi],
        opinions_due_at=now + timedelta(days=10),
        responses_due_at=now + timedelta(days=20),
    )
    return matter.opinions.get(township=powers.city.longtan)


def test_the_township_chief_files_the_opinion_on_a_phone(new_page, shots, powers):
    opinion = register(powers)
    page = new_page(PHONE)
    sign_in(page, "li-longtan-chief")
    page.goto("/township/")
    assert "光明楼农贸市场搬迁规划" in page.inner_text("main")
    shots(page, "township-home", full_page=True)
    page.click("text=光明楼农贸市场搬迁规划")
    page.wait_for_url(f"**/township/matters/{opinion.pk}/")
    submit(page, "form.form button[type=submit]")
    page.wait_for_selector(".form-errors", state="visible")
    page.fill("#id_text", "同意搬迁，但需保障早市。")
    page.fill("#id_proposals", "过渡期设临时摊位")
    shots(page, "opinion-form", full_page=True)
    submit(page, "form.form button[type=submit]")
    page.wait_for_selector("text=街乡意见已提交。")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shots(page, "opinion-filed", full_page=True)
    opinion.refresh_from_db()
    assert opinion.proposals == "过渡期设临时摊位"


def test_the_district_reads_the_opinions_on_a_desktop(new_page, shots, powers):
    opinion = register(powers)
    actions.file_opinion(powers.longtan_chief, opinion, text="同意。")
    page = new_page(WALL)
    sign_in(page, "wang-district-office")
    page.goto(f"/district/matters/{opinion.matter.pk}/")
    text = page.inner_text("main")
    assert "同意。" in text and "东四街道" in text
    shots(page, "district-matter", full_page=True)


def test_choosing_the_agency_offers_only_its_records_to_attach(new_page, shots, july: Month):
    """龙潭 has a July record of 龙潭派出所 and one of 市场监管局, both dispatched to it: the
    chosen agency's records are the only ones offered, and a tick on the other's is undone."""
    m = july
    Department.objects.filter(pk=m.market.pk).update(kind="dispatched")
    scheme_one_third(m.district)
    with time_machine.travel(bj(31, 20), tick=False):
        recompute_all()
    make_person("li-chief", Role.TOWNSHIP_CHIEF, jurisdiction=m.longtan)
    police = str(SummonsAssessment.objects.get(summons=m.summonses["c1_police"]).pk)
    market = str(SummonsAssessment.objects.get(summons=m.summonses["c2_market"]).pk)

    def offered(page) -> set[str]:
        return set(
            page.eval_on_selector_all(
                "#id_records input[type=checkbox]",
                "boxes => boxes.filter(b => b.checkVisibility() && !b.disabled).map(b => b.value)",
            )
        )

    page = new_page(WALL)
    sign_in(page, "li-chief")
    page.goto("/township/recommendations/new/")
    assert offered(page) == {police, market}
    page.check(f"#id_records input[value='{market}']")
    page.select_option("#id_department", str(m.police.pk))
    assert offered(page) == {police}
    page.select_option("#id_department", str(m.market.pk))
    assert offered(page) == {market}
    assert not page.is_checked(f"#id_records input[value='{market}']")
    page.select_option("#id_department", str(m.police.pk))
    page.fill("#id_leader_name", "赵国强")
    page.fill("#id_leader_post", "所长")
    page.select_option("#id_proposal", "reward")
    page.fill("#id_reasons", "多次30分钟内到场，处置及时。")
    page.check(f"#id_records input[value='{police}']")
    shots(page, "recommendation-narrowed", full_page=True)
    page.click("form.township-form button[type=submit]")
    page.wait_for_url(re.compile(r"/township/recommendations/\d+/$"))
    filed = PersonnelRecommendation.objects.get()
    assert [str(r.pk) for r in filed.records.all()] == [police]

    phone = new_page({"width": 390, "height": 844})
    sign_in(phone, "li-chief")
    phone.goto("/township/recommendations/new/")
    phone.select_option("#id_department", str(m.market.pk))
    assert offered(phone) == {market}
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shots(phone, "recommendation-phone", full_page=True)
