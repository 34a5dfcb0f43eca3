"""Recruiting alley stewards in a real browser: a resident applies on a 360 × 740 phone
without an account (the age checked, the captcha answered) and follows the application by its
reference; the township's chief of lanes accepts it on a desktop."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser.conftest import PHONE, sign_in, submit
from tests.browser.test_street import fits_the_phone
from tests.conftest import make_person
from whistle.organisation.models import Role, RoleAssignment
from whistle.street import captcha
from whistle.township.recruitment import publish_call
from whistle.township.recruitment_models import StewardApplication

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_call(small_city):
    office = make_person("longtan-office", Role.CHIEFS_OFFICE, jurisdiction=small_city.longtan)
    today = timezone.localdate()
    return publish_call(
        office,
        small_city.longtan,
        title="龙潭街道公开招募小巷管家",
        description="巡查街巷、沟通邻里、反映问题，每周不少于三次。",
        lanes=[small_city.renmin_lane],
        opens_on=today,
        closes_on=today + timedelta(days=14),
    )


def solve(page) -> str:
    """What a person reads in the picture: the browser's open question, solved."""
    [cookie] = [c for c in page.context.cookies() if c["name"] == captcha.COOKIE]
    challenge = captcha.opened(cookie["value"])
    assert challenge is not None
    return str(challenge.answer)


def test_a_resident_applies_on_a_phone_and_the_township_accepts(new_page, shots, small_city):
    call = open_call(small_city)
    page = new_page(PHONE)
    # The first page of a live server collects nothing but may be slow on a loaded machine.
    page.set_default_timeout(60_000)
    page.goto("/report/stewards/")
    assert "龙潭街道公开招募小巷管家" in page.inner_text("main")
    fits_the_phone(page)
    shots(page, "1-calls", full_page=True)

    page.click(".steward-call a.btn-primary")
    page.wait_for_url(f"**/report/stewards/{call.pk}/apply/")
    page.fill("#id_name", "梁萍")
    page.fill("#id_phone", "13800138000")
    # Seventeen: refused with the reason.
    young = timezone.localdate().replace(year=timezone.localdate().year - 17)
    page.fill("#id_birth_date", young.isoformat())
    page.check("#id_healthy")
    page.check("#id_communicates")
    page.check("#id_party_member")
    page.check("input[name=lanes]")
    page.fill("#id_captcha", solve(page))
    shots(page, "2-form", full_page=True)
    submit(page, "form.form button[type=submit]:not([name])")
    assert "尚未年满 18 周岁" in page.inner_text("main")
    fits_the_phone(page)
    shots(page, "3-too-young", full_page=True)

    page.fill("#id_birth_date", "1960-03-02")
    if page.locator("#id_captcha").count():
        page.fill("#id_captcha", solve(page))
    page.click("form.form button[type=submit]:not([name])")
    page.wait_for_url("**/report/stewards/status/*/")
    application = StewardApplication.objects.get()
    assert application.reference in page.inner_text("[data-reference]")
    assert page.inner_text("[data-status]") == "待审核"
    fits_the_phone(page)
    shots(page, "4-status")

    chief = make_person("sun-chief", Role.TOWNSHIP_CHIEF, jurisdiction=small_city.longtan)
    desk = new_page()
    desk.set_default_timeout(60_000)
    sign_in(desk, "sun-chief")
    desk.goto("/township/recruitment/")
    assert "梁萍" in desk.inner_text(".applications-table")
    submit(desk, f"text={application.reference}")
    assert "13800138000" in desk.inner_text(".applicant")
    desk.check("input[name=decision][value=accept]")
    desk.fill("#id_new_team", "人民市场东巷管家团")
    shots(desk, "5-review", full_page=True)
    submit(desk, "form.form button[type=submit]")
    desk.wait_for_selector("text=报名已审核，已告知报名者。")
    shots(desk, "6-accepted", full_page=True)
    application.refresh_from_db()
    assert application.status == "accepted" and chief == application.reviewed_by
    assert RoleAssignment.objects.filter(
        person=application.steward, role=Role.STEWARD, lane=small_city.renmin_lane
    ).exists()

    page.reload()
    assert page.inner_text("[data-status]") == "已通过"
    assert "人民市场东巷管家团" in page.inner_text("main")
    shots(page, "7-accepted-on-the-phone")
