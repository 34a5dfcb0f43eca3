"""The scheme editor's preview in a real browser: an assessor fills in a proposal (township
share 40%, arrival within 20 minutes), previews the recent month under it on a desktop and
on a phone, and opens the summonses judged differently; nothing is saved."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PHONE, WALL, sign_in, submit
from tests.fixtures_district import recent_month
from whistle.assessment.models import DepartmentResult, Scheme

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def month(small_city, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return recent_month(small_city, tmp_path)


def propose(page, period_key: str) -> None:
    page.goto("/assessment/scheme/")
    page.fill("#id_scheme-township_share", "40%")
    page.fill("#id_components-0-weight", "60%")
    page.select_option("#id_whatif-replay", period_key)
    page.fill("#id_whatif-arrive_within", "20")
    submit(page, "button[value=preview]")
    page.wait_for_selector("#preview")


@pytest.mark.parametrize("viewport", [WALL, PHONE], ids=["desktop", "phone"])
def test_an_assessor_previews_a_proposal_before_adopting_it(new_page, shots, month, viewport):
    m, period = month
    results = list(DepartmentResult.objects.values_list("department_id", "total", "rank"))
    schemes = Scheme.objects.count()
    page = new_page(viewport)
    sign_in(page, "he-assessor")
    propose(page, period.key)
    preview = page.locator("#preview")
    assert "1/3 → 40%" in preview.inner_text()
    police = page.locator("#what-if-dc-longtan-pcs")
    assert "1 次召集评定改变" in police.inner_text()
    police.locator("summary").click()
    changes = police.locator(".what-if-changes").inner_text()
    assert "迟到 7 分钟 → 迟到 17 分钟" in changes
    assert m.stories["c1"].case.reference in changes
    # The form keeps the proposal, ready to adopt.
    assert page.input_value("#id_scheme-township_share") == "40%"
    shots(page, "what-if", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert list(DepartmentResult.objects.values_list("department_id", "total", "rank")) == results
    assert Scheme.objects.count() == schemes
