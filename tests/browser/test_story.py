"""The whole story of the product, in a real browser, one screenshot per step
(test-artifacts/screenshots/story-*.png):

1. the alley steward of 人民市场东巷 reports street vendors from a 360 × 740 phone, with the
   phone's position and a photo;
2. the 龙潭 command centre, on a 1920 × 1080 screen, files the case and
3. blows the whistle, summoning urban management and the police;
4. each department's officer acknowledges and checks in on site from a phone;
5. the township marks the case resolved, checks it, closes it, and rates both departments;
6. the case's page tells the whole story;
7. the district assessor, once the worker's sweep has run, finds both departments in the
   month's ranking.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone
from PIL import Image

from tests.browser.conftest import (
    PHONE,
    SCREENSHOTS,
    WALL,
    capture,
    sign_in,
    standing_at,
    submit,
)
from tests.conftest import make_person
from tests.fixtures_cases import ON_THE_LANE, whistle_city_fixture  # noqa: F401  (fixture)
from whistle.assessment.components import import_component_scores
from whistle.assessment.engine import sweep
from whistle.assessment.models import DepartmentResult, Scheme, SchemeComponent
from whistle.assessment.periods import Period
from whistle.cases.models import Case, Summons
from whistle.organisation.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def story_shot(page, step: str, *, full_page: bool = False) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return capture(page, SCREENSHOTS / f"story-{step}.png", full_page=full_page)


def street_photo(path: Path) -> str:
    """A photo-like picture of a stall in the lane: noise over a few coloured shapes."""
    image = Image.effect_noise((800, 600), 25).convert("RGB")
    stall = Image.new("RGB", (360, 220), (196, 64, 48))
    image.paste(stall, (220, 260))
    image.save(path, format="JPEG", quality=85)
    return str(path)


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def city(whistle_city, tmp_path):
    """龙潭街道 of the case tests, with the district's scheme, the district's own inspection
    of this month already entered, and its assessor."""
    scheme = Scheme.objects.create(
        district=whistle_city.district, name="2026年度考核", valid_from=date(2026, 1, 1)
    )
    SchemeComponent.objects.create(scheme=scheme, code="inspection", name="区级检查", weight="2/3")
    month = Period.month_of(timezone.localdate()).key
    inspection = tmp_path / "inspection.csv"
    inspection.write_text(
        f"department,component,period,score\ndc-cgw,inspection,{month},88\n"
        f"dc-longtan-pcs,inspection,{month},85\n",
        encoding="utf-8",
    )
    assert import_component_scores(inspection, whistle_city.district).errors == []
    make_person("dongcheng-assessor", Role.DISTRICT_ASSESSOR, jurisdiction=whistle_city.district)
    # The server's clock moves on through the story while the phones' fixes keep the real
    # time: the district allows the difference, or every check-in would be flagged.
    whistle_city.policy.checkin_max_skew_s = 24 * 3600
    whistle_city.policy.save(update_fields=["checkin_max_skew_s"])
    return whistle_city


def check_in_on_a_phone(new_page, username: str, clock, minutes: int) -> object:
    """The officer acknowledges on the department desk, walks `minutes` to the lane, checks
    in with the phone's position and, a little later, reports the result."""
    phone = new_page(
        PHONE,
        **standing_at(ON_THE_LANE),
    )
    sign_in(phone, username)
    phone.goto("/department/")
    submit(phone, phone.locator("#incoming .op-acknowledge button[type=submit]").first)
    phone.wait_for_selector(".message-success")
    clock.shift(timedelta(minutes=minutes))
    submit(phone, phone.locator("#incoming a", has_text="到场报到").first)
    phone.wait_for_selector(".op-check_in")
    check_in = phone.locator(".op-check_in")
    check_in.locator("[data-geolocate-button]").click()
    phone.wait_for_function(
        "() => document.querySelector('.op-check_in input[name$=\"-lat\"]').value !== ''"
    )
    submit(phone, check_in.locator("button[type=submit]"))
    phone.wait_for_selector(".message-success")
    assert no_sideways_scroll(phone)
    return phone


def report_the_result(phone, clock, minutes: int, text: str) -> None:
    clock.shift(timedelta(minutes=minutes))
    result = phone.locator(".summons-card.is-mine .op-result")
    result.locator("textarea").fill(text)
    # The phone's queue first asks whether the server is reachable, then posts the form.
    submit(phone, result.locator("button[type=submit]"))
    phone.wait_for_selector(".message-success")


def test_the_story_from_a_stewards_report_to_the_district_ranking(new_page, city, tmp_path):
    # The story takes an hour and a half; the server's clock moves on between the steps
    # (only forward, so the browser's session cookie stays valid).
    with time_machine.travel(timezone.now(), tick=True) as clock:
        tell_the_story(new_page, city, tmp_path, clock)


def tell_the_story(new_page, city, tmp_path, clock) -> None:
    # 1. The steward reports from the lane, with a photo and the phone's position.
    steward = new_page(
        PHONE,
        **standing_at(ON_THE_LANE, 6),
    )
    sign_in(steward, "liang-ping")
    steward.goto("/patrol/report/")
    steward.set_input_files("#id_photo", street_photo(tmp_path / "stall.jpg"))
    steward.fill("#id_description", "人民市场东巷北口有无照游商占道摆摊，堵住了消防通道")
    steward.select_option("#id_category", str(city.street_vending.pk))
    steward.click("[data-geolocate-button]")
    steward.wait_for_function("() => document.querySelector('#id_lat').value !== ''")
    assert no_sideways_scroll(steward)
    story_shot(steward, "1-steward-report", full_page=True)
    submit(steward, "button:has-text('提交上报')")
    steward.wait_for_selector("text=上报成功")
    case = Case.objects.get(reporter=city.steward)
    assert case.lane == city.lane and case.attachments.count() == 1

    # 2. The command centre files it.
    desk = new_page(WALL)
    sign_in(desk, "longtan-dispatcher")
    desk.goto("/dispatch/")
    desk.wait_for_selector("[data-map][data-map-ready=true]")
    clock.shift(timedelta(minutes=4))
    desk.reload()
    desk.wait_for_selector("[data-map][data-map-ready=true]")
    story_shot(desk, "2-command-centre")
    row = desk.locator(f"#q-{case.reference}")
    submit(desk, row.locator(f"#op-file-{case.reference} button[type=submit]"))
    desk.wait_for_selector(".message-success")
    assert Case.objects.get(pk=case.pk).status == Case.Status.FILED

    # 3. It blows the whistle for urban management and the police.
    clock.shift(timedelta(minutes=2))
    desk.locator(f"#q-{case.reference} a", has_text="吹哨").click()
    desk.wait_for_selector("#whistle-map[data-case-drawn=true]")
    desk.check(f"input[value='{city.urban.pk}']")
    desk.check(f"input[value='{city.police.pk}']")
    desk.fill("input[name$='meeting_point']", "人民市场东巷北口")
    desk.fill("textarea[name$='note']", "请携带执法记录仪，注意疏导围观群众")
    story_shot(desk, "3-whistle", full_page=True)
    desk.locator("form.whistle-form button[type=submit]").click()
    desk.wait_for_url(f"**/cases/{case.reference}/")
    assert Summons.objects.filter(case=case).count() == 2

    # 4. Each department's officer acknowledges and checks in on site.
    urban = check_in_on_a_phone(new_page, "urban-officer", clock, 12)
    story_shot(urban, "4-department-check-in")
    police = check_in_on_a_phone(new_page, "police-officer", clock, 9)
    report_the_result(urban, clock, 25, "已劝离游商 3 名，清理占道摊位，消防通道已畅通")
    report_the_result(police, clock, 2, "现场秩序已恢复，对当事人进行了教育")
    assert set(Summons.objects.filter(case=case).values_list("status", flat=True)) == {
        Summons.Status.DONE
    }

    # 5. The township marks it resolved, checks, closes and rates both departments.
    clock.shift(timedelta(minutes=5))
    desk.goto("/dispatch/#at-work")
    submit(desk, f"#op-mark_handled-{case.reference} button[type=submit]")
    desk.wait_for_selector(".message-success")
    clock.shift(timedelta(minutes=20))
    submit(desk, f"#op-check_passed-{case.reference} button[type=submit]")
    desk.wait_for_selector(".message-success")
    submit(desk, f"#op-close-{case.reference} button[type=submit]")
    desk.wait_for_selector(".message-success")
    assert Case.objects.get(pk=case.pk).status == Case.Status.CLOSED

    clock.shift(timedelta(minutes=15))
    assessor = new_page(WALL)
    sign_in(assessor, "longtan-assessor")
    assessor.goto("/assessment/")
    for summons, stars, comment in (
        (Summons.objects.get(case=case, department=city.urban), "5", "12 分钟到场，清理彻底"),
        (Summons.objects.get(case=case, department=city.police), "4", "配合疏导到位"),
    ):
        card = assessor.locator(f"#rate-{summons.uuid.hex}")
        card.locator(f"label[for$='rating_{5 - int(stars)}']").click()
        card.locator("textarea").fill(comment)
        if stars == "4":
            story_shot(assessor, "5-township-rates", full_page=True)
        card.locator("button[type=submit]").click()
        assessor.wait_for_selector(f"#rate-{summons.uuid.hex}[data-rated]")
    assert (
        "★★★★★"
        in assessor.locator(
            f"#rate-{Summons.objects.get(case=case, department=city.urban).uuid.hex}"
        ).inner_text()
    )

    # 6. The case's page tells the whole story.
    desk.goto(f"/cases/{case.reference}/")
    desk.wait_for_selector("#case-map[data-case-drawn=true]")
    timeline = desk.locator("#timeline").inner_text()
    for step in ("问题上报", "立案", "已吹哨", "签收任务", "到场报到", "标记已处置", "结案"):
        assert step in timeline, step
    story_shot(desk, "6-case-timeline", full_page=True)

    # 7. The worker's sweep brings the scores up to date; the district sees the ranking.
    sweep(timezone.now(), batch=100)
    summoned = Summons.objects.filter(case=case).first()
    assert summoned is not None
    month = Period.month_of(timezone.localtime(summoned.summoned_at).date())
    ranked = DepartmentResult.objects.filter(period=month.key).select_related("department")
    assert {r.department.name for r in ranked} == {"东城区城管执法局", "龙潭派出所"}
    district = new_page(WALL)
    sign_in(district, "dongcheng-assessor")
    district.goto(f"/district/rankings/?period={month.key}")
    district.wait_for_selector("[data-chart=ranking][data-chart-ready=true]")
    table = district.locator(".ranking-table").inner_text()
    assert "东城区城管执法局" in table and "龙潭派出所" in table
    story_shot(district, "7-district-rankings", full_page=True)
