"""The township's powers in a real browser: the township chief files the opinion on a
major matter from a phone (360 × 740) and the district's chiefs' office reads it on a
desktop with what is overdue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser.conftest import PHONE, WALL, sign_in
from tests.fixtures_township import Powers, powers_fixture  # noqa: F401  (fixture)
from whistle.township import actions
from whistle.township.models import MatterOpinion

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
    page.click("form.form button[type=submit]")
    page.wait_for_selector(".form-errors", state="visible")
    page.fill("#id_text", "同意搬迁，但需保障早市。")
    page.fill("#id_proposals", "过渡期设临时摊位")
    shots(page, "opinion-form", full_page=True)
    page.click("form.form button[type=submit]")
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
