"""The assessment and district pages in a real browser: the rankings with their ECharts drawn,
the period picker swapping the page by htmx, the drill-down to a record's trail, and an
appeal filed on a phone with an evidence photo and upheld by the district chiefs' office."""

from __future__ import annotations

import json
import re

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, WALL, csp_errors, sign_in, submit
from tests.fixtures_cases import ON_THE_LANE, filed_case, whistle_city_fixture  # noqa: F401
from tests.fixtures_district import recent_month
from whistle.assessment.models import Appeal, SummonsAssessment
from whistle.organisation.models import Department

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# How many pixels of a canvas are not background: a drawn chart has thousands.
PAINTED_PIXELS = """(selector) => {
  const canvas = document.querySelector(selector + ' canvas');
  if (!canvas) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 0; i < data.length; i += 4) {
    const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
    if (a > 0 && (r < 235 || g < 235 || b < 235)) painted += 1;
  }
  return painted;
}"""


# The texts a chart drew that read `text`, each as its box in the chart's pixels, and the
# chart's width: to tell whether a label was drawn whole or ran off the edge.
DRAWN_TEXT = """([selector, text]) => {
  const chart = echarts.getInstanceByDom(document.querySelector(selector));
  const boxes = chart.getZr().storage.getDisplayList(true)
    .filter((el) => el.style && el.style.text === text)
    .map((el) => {
      const box = el.getBoundingRect().clone();
      if (el.transform) box.applyTransform(el.transform);
      return { x: box.x, width: box.width };
    });
  return { boxes, width: chart.getWidth() };
}"""


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def evidence_photo(path) -> str:
    Image.effect_noise((640, 480), 30).convert("RGB").save(path, format="JPEG")
    return str(path)


@pytest.fixture
def month(small_city, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return recent_month(small_city, tmp_path)


def test_the_rankings_draw_their_charts_and_drill_down_to_the_trail(new_page, shots, month):
    m, period = month
    page = new_page(WALL)
    sign_in(page, "he-assessor")
    page.goto(f"/district/rankings/?period={period.key}")
    page.wait_for_selector("[data-chart=ranking][data-chart-ready=true]")
    page.wait_for_selector("[data-chart=trend][data-chart-ready=true]")
    assert page.locator("[data-chart=ranking] canvas").count() == 1
    assert page.evaluate(PAINTED_PIXELS, "[data-chart=ranking]") > 2000
    assert page.evaluate(PAINTED_PIXELS, "[data-chart=trend]") > 500
    rows = page.locator(".ranking-table tbody tr")
    assert rows.count() == 3
    assert "龙潭派出所" in rows.nth(0).inner_text()
    shots(page, "1-rankings", full_page=True)

    # The period picker swaps the page in place and the charts are drawn again.
    page.select_option("#period-select", f"{period.year}")
    page.wait_for_url(re.compile(rf"period={period.year}(&|$)"))
    page.wait_for_selector(f"#ranking-title:has-text('{period.year}年全年')")
    page.wait_for_selector("[data-chart=ranking][data-chart-ready=true]")
    assert page.evaluate(PAINTED_PIXELS, "[data-chart=ranking]") > 2000
    assert f"{period.year}年全年" in page.locator("#ranking-title").inner_text()

    # Down to 城管's records, and from its c3 record to the trail events behind it.
    page.goto(f"/district/rankings/?period={period.key}")
    page.click("text=东城区城管执法局")
    page.wait_for_url(f"**/district/rankings/{period.key}/dc-cgw/")
    assert "1/3 ×" in page.locator("#formula").inner_text()
    c3 = m.stories["c3"].case.reference
    record = page.locator(".record-card", has_text=c3)
    record.locator("summary").click()
    trail = record.locator(".trail-events").inner_text()
    assert "到场超时" in trail and "结案" in trail and "街乡对部门工作评分" in trail
    shots(page, "2-drill-down", full_page=True)
    record.locator("text=案件完整时间线").click()
    page.wait_for_url(re.compile(f"/cases/{c3}/#timeline$"))
    assert c3 in page.locator("h1").inner_text()

    # On a phone the table stacks and the charts shrink; nothing scrolls sideways.
    phone = new_page(PHONE)
    sign_in(phone, "he-assessor")
    # Opened without a period, the rankings show the month under way: it is ranked.
    phone.goto("/district/rankings/")
    assert phone.locator("#period-select").input_value() == period.key
    assert phone.locator(".opened-on").count() == 0
    phone.wait_for_selector("[data-chart=ranking][data-chart-ready=true]")
    assert no_sideways_scroll(phone)
    assert phone.evaluate(PAINTED_PIXELS, "[data-chart=ranking]") > 1000
    shots(phone, "3-rankings-on-a-phone", full_page=True)
    phone.goto("/assessment/")
    assert no_sideways_scroll(phone)


@pytest.mark.parametrize("device", ["wall", "phone"])
def test_the_monthly_chart_names_its_axis_whole_in_english(new_page, shots, month, device):
    _m, period = month
    page = new_page(WALL if device == "wall" else PHONE, locale="en-US")
    sign_in(page, "he-assessor")
    page.goto(f"/district/rankings/?period={period.key}")
    page.wait_for_selector("[data-chart=trend][data-chart-ready=true]")
    drawn = page.evaluate(DRAWN_TEXT, ["[data-chart=trend]", "Month"])
    assert len(drawn["boxes"]) == 1
    box = drawn["boxes"][0]
    assert box["x"] >= 0 and box["x"] + box["width"] <= drawn["width"]
    page.locator("[data-chart=trend]").scroll_into_view_if_needed()
    shots(page, f"trend-{device}")


# The texts drawn on a chart's canvas, each with its box: which words a reader sees there.
DRAWN_TEXTS = """(selector) => {
  const chart = echarts.getInstanceByDom(document.querySelector(selector));
  return chart.getZr().storage.getDisplayList(true)
    .filter((el) => el.style && typeof el.style.text === "string" && el.style.text)
    .map((el) => {
      const box = el.getBoundingRect().clone();
      if (el.transform) box.applyTransform(el.transform);
      return { text: el.style.text, x: box.x, y: box.y, width: box.width, height: box.height };
    });
}"""


def test_a_lone_months_totals_are_drawn_inside_the_plot_and_written_beside_their_points(
    new_page, shots, month
):
    _m, period = month
    page = new_page(WALL, locale="en-US")
    sign_in(page, "he-assessor")
    page.goto(f"/district/rankings/?period={period.key}")
    page.wait_for_selector("[data-chart=trend][data-chart-ready=true]")
    chart = json.loads(page.locator("#chart-data").text_content() or "{}")
    # Only the month under way has totals: each department's point stands alone.
    totals = {f"{s['data'][-1]:.2f}" for s in chart["trend"]["series"]}
    assert totals and all(
        s["data"][:-1] == [None] * (len(s["data"]) - 1) for s in chart["trend"]["series"]
    )
    width = page.evaluate(
        "echarts.getInstanceByDom(document.querySelector('[data-chart=trend]')).getWidth()"
    )
    drawn = [t for t in page.evaluate(DRAWN_TEXTS, "[data-chart=trend]") if t["text"] in totals]
    assert {t["text"] for t in drawn} == totals
    # Written whole, inside the chart and clear of its right edge.
    assert all(t["x"] >= 0 and t["x"] + t["width"] <= width - 8 for t in drawn)
    page.locator("[data-chart=trend]").scroll_into_view_if_needed()
    shots(page, "trend-lone-month")


def test_a_long_department_name_wraps_beside_its_bar_and_shows_whole_on_hover(
    new_page, shots, month
):
    m, period = month
    long_name = "东城区城市管理综合行政执法局龙潭街道执法队"
    Department.objects.filter(pk=m.urban.pk).update(name=long_name)
    page = new_page(WALL, locale="en-US")
    sign_in(page, "he-assessor")
    page.goto(f"/district/rankings/?period={period.key}")
    page.wait_for_selector("[data-chart=ranking][data-chart-ready=true]")
    texts = page.evaluate(DRAWN_TEXTS, "[data-chart=ranking]")
    # Written whole on two lines beside its bar, nothing cut off.
    lines = sorted((t for t in texts if t["text"] in long_name), key=lambda t: t["y"])
    assert len(lines) == 2 and "".join(t["text"] for t in lines) == long_name
    assert all(t["x"] >= 0 for t in lines)
    # Hovering the name shows the tooltip, with the name whole on its first line.
    assert long_name not in [t["text"] for t in texts]
    page.locator("[data-chart=ranking]").scroll_into_view_if_needed()
    box = page.locator("[data-chart=ranking]").bounding_box()
    assert box is not None
    first = lines[0]
    page.mouse.move(
        box["x"] + first["x"] + first["width"] / 2, box["y"] + first["y"] + first["height"] / 2
    )
    page.wait_for_function(
        """(name) => echarts.getInstanceByDom(document.querySelector('[data-chart=ranking]'))
          .getZr().storage.getDisplayList(true)
          .some((el) => el.style && el.style.text === name)""",
        arg=long_name,
    )
    shots(page, "ranking-long-name")


def test_an_appeal_filed_on_a_phone_and_upheld_by_the_chiefs_office(
    new_page, shots, month, tmp_path
):
    m, _period = month
    summons = m.summonses["c3_urban"]
    reference = m.stories["c3"].case.reference

    # The urban-management officer, on a phone, appeals the "never came" of c3.
    phone = new_page(PHONE)
    sign_in(phone, "wang-officer")
    phone.goto("/assessment/")
    phone.wait_for_url("**/assessment/department/")
    card = phone.locator(f"#record-{summons.uuid.hex}")
    assert "未报到" in card.inner_text()
    assert no_sideways_scroll(phone)
    shots(phone, "3-department-records", full_page=True)
    card.locator("summary", has_text="对这条记录申诉").click()
    prefix = f"#id_appeal-{summons.uuid.hex}"
    phone.select_option(f"{prefix}-correction", "came:on_time")
    phone.fill(f"{prefix}-reason", "执法队员10:20已到场，定位信号弱未能签到")
    phone.fill(f"{prefix}-evidence", "执法记录仪视频 10:20")
    phone.set_input_files(f"{prefix}-photos", evidence_photo(tmp_path / "camera.jpg"))
    card.locator("button[type=submit]").scroll_into_view_if_needed()
    shots(phone, "4-appeal-form")
    submit(phone, card.locator("button[type=submit]"))
    phone.wait_for_selector(".message-success")
    assert reference in phone.locator("#my-appeals").inner_text()
    assert no_sideways_scroll(phone)
    filed = Appeal.objects.get(summons=summons)
    assert filed.attachments.count() == 1

    # The district chiefs' office sees the evidence and upholds the appeal.
    desk = new_page(WALL)
    sign_in(desk, "chen-office")
    desk.goto("/assessment/appeals/")
    appeal = desk.locator(f"#appeal-{filed.pk}")
    photo = appeal.locator(".evidence-photos img")
    photo.scroll_into_view_if_needed()
    desk.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=photo.element_handle()
    )
    appeal.locator("label", has_text="申诉成立").click()
    appeal.locator("textarea").fill("记录仪视频证明按时到场")
    shots(desk, "5-appeal-to-rule", full_page=True)
    submit(desk, appeal.locator("button[type=submit]"))
    desk.wait_for_selector(".message-success")
    assert "申诉成立，记录已更正" in desk.locator(".messages").inner_text()
    filed.refresh_from_db()
    assert filed.status == Appeal.Status.UPHELD
    assert SummonsAssessment.objects.get(summons=summons).came == "on_time"

    # The officer sees the ruling and the corrected record.
    phone.reload()
    assert "申诉成立" in phone.locator("#my-appeals").inner_text()
    assert "经申诉更正" in phone.locator(f"#record-{summons.uuid.hex}").inner_text()
    shots(phone, "6-appeal-upheld", full_page=True)


def test_the_hot_spots_draw_the_cases_on_the_map_and_list_the_candidates(
    new_page, shots, whistle_city
):
    city = whistle_city
    for n, offset in enumerate((0.0, 0.0002, 0.0004, 0.0009)):
        filed_case(city, description=f"游商占道经营 {n}", lat=ON_THE_LANE[1] + offset)
    filed_case(city, description="暴露垃圾", category=city.exposed_garbage, lon=116.4335)
    page = new_page(WALL)
    sign_in(page, "dongcheng-office")
    page.goto("/district/hotspots/")
    page.wait_for_selector("#hotspot-map[data-hotspots-drawn]")
    assert int(page.get_attribute("#hotspot-map", "data-hotspots-drawn")) >= 2
    assert page.locator("#hotspot-map path.hotspot-cell").count() >= 2
    spot = page.locator("#spot-1")
    assert "人民市场东巷" in spot.inner_text() and "4 件" in spot.inner_text()
    shots(page, "1-hot-spots", full_page=True)

    # The chiefs and stewards: the district by township, then one township's people.
    page.goto("/district/chiefs/")
    assert "龙潭街道" in page.locator("#townships").inner_text()
    shots(page, "2-chiefs-by-township", full_page=True)
    page.click("#townships a:has-text('龙潭街道')")
    expect(page.locator("#chiefs")).to_contain_text("liu-yueming", use_inner_text=True)
    expect(page.locator("#stewards")).to_contain_text("liang-ping", use_inner_text=True)
    shots(page, "3-chiefs-of-a-township", full_page=True)


# Where the chart draws a point of its first series with a value: [x, y] in the page, the
# value and the name of its series.
A_POINT = """(selector) => {
  const el = document.querySelector(selector);
  const chart = echarts.getInstanceByDom(el);
  const option = chart.getOption();
  const box = el.getBoundingClientRect();
  for (let s = 0; s < option.series.length; s += 1) {
    const data = option.series[s].data;
    for (let i = 0; i < data.length; i += 1) {
      if (data[i] === null || data[i] === undefined) continue;
      const [x, y] = chart.convertToPixel({ seriesIndex: s }, [i, data[i]]);
      return { x: box.left + x, y: box.top + y, value: data[i], name: option.series[s].name };
    }
  }
  return null;
}"""

# Every text the chart shows: its tooltip drawn on the canvas or in the page.
CHART_TEXTS = """(selector) => {
  const el = document.querySelector(selector);
  const chart = echarts.getInstanceByDom(el);
  const texts = chart.getZr().storage.getDisplayList(true)
    .map((shape) => (shape.style && shape.style.text) || '');
  return texts.join('\\n') + '\\n' + el.innerText;
}"""


def test_the_monthly_chart_tooltip_shows_the_values_within_the_security_policy(
    new_page, shots, month
):
    _m, period = month
    page = new_page(WALL)
    blocked = csp_errors(page)
    sign_in(page, "he-assessor")
    page.goto(f"/district/rankings/?period={period.key}")
    page.wait_for_selector("[data-chart=trend][data-chart-ready=true]")
    page.locator("[data-chart=trend]").scroll_into_view_if_needed()
    point = page.evaluate(A_POINT, "[data-chart=trend]")
    assert point is not None
    page.mouse.move(point["x"], point["y"])
    value = f"{point['value']}"
    page.wait_for_function(
        "([selector, value]) => (" + CHART_TEXTS + ")(selector).includes(value)",
        arg=["[data-chart=trend]", value],
    )
    shown = page.evaluate(CHART_TEXTS, "[data-chart=trend]")
    assert point["name"] in shown
    shots(page, "tooltip")
    assert blocked == []


def test_printed_rankings_leave_out_the_navigation_and_the_controls(new_page, shots, month):
    _m, period = month
    page = new_page(WALL)
    sign_in(page, "he-assessor")
    page.goto(f"/district/rankings/?period={period.key}")
    page.wait_for_selector("[data-chart=ranking][data-chart-ready=true]")
    hidden = (".topbar", ".skip-link", ".footer", ".period-picker", ".downloads", ".subnav")
    assert page.locator(".topbar").is_visible() and page.locator(".period-picker").is_visible()
    page.emulate_media(media="print")
    for selector in hidden:
        assert page.locator(selector).count() > 0, selector
        assert not page.locator(selector).first.is_visible(), selector
    assert page.locator(".ranking-table").is_visible()
    assert page.locator("[data-chart=ranking] canvas").is_visible()
    assert page.locator("[data-chart=trend] canvas").is_visible()
    shots(page, "8-rankings-printed", full_page=True)


# Every text a chart has drawn (its tooltip too, drawn on the canvas), joined.
ALL_DRAWN_TEXT = """(selector) => {
  const chart = echarts.getInstanceByDom(document.querySelector(selector));
  return chart.getZr().storage.getDisplayList(true)
    .filter((el) => el.style && typeof el.style.text === 'string')
    .map((el) => el.style.text).join('\\n');
}"""


def test_the_ranking_charts_tooltip_counts_a_departments_unfinished_records(new_page, shots, month):
    m, period = month
    # One of 派出所's records counts as "never acted" before its summons settled.
    record = SummonsAssessment.objects.filter(department=m.police, settled=True).first()
    assert record is not None
    SummonsAssessment.objects.filter(pk=record.pk).update(provisional=True)
    page = new_page(WALL)
    sign_in(page, "he-assessor")
    page.goto(f"/district/rankings/?period={period.key}")
    page.wait_for_selector("[data-chart=ranking][data-chart-ready=true]")
    row = page.locator(".ranking-table tbody tr", has_text="龙潭派出所")
    assert "含 1 条未完成记录（暂按未处置计分）" in row.inner_text()
    # Hover over 派出所's bar (ECharts' axis runs bottom-up: the last category).
    point = page.evaluate(
        """() => {
          const chart = echarts.getInstanceByDom(document.querySelector('[data-chart=ranking]'));
          const names = chart.getOption().yAxis[0].data;
          const index = names.indexOf('龙潭派出所');
          return chart.convertToPixel({ gridIndex: 0 }, [10, index]);
        }"""
    )
    box = page.locator("[data-chart=ranking]").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + point[0], box["y"] + point[1])
    page.wait_for_function(
        "(s) => echarts.getInstanceByDom(document.querySelector(s)).getZr().storage"
        ".getDisplayList(true).some((el) => el.style && String(el.style.text).includes('未完成'))",
        arg="[data-chart=ranking]",
    )
    drawn = page.evaluate(ALL_DRAWN_TEXT, "[data-chart=ranking]")
    assert "未完成记录（暂按未处置计分）：1 条" in drawn
    shots(page, "ranking-tooltip-unfinished")


LAPTOP = {"width": 1366, "height": 900}
# A table's width against the width of the box that scrolls it.
TABLE_AND_BOX = """(selector) => {
  const table = document.querySelector(selector);
  return [table.scrollWidth, table.parentElement.clientWidth];
}"""


def test_the_chiefs_tables_fit_a_laptop_in_english(new_page, shots, whistle_city):
    page = new_page(LAPTOP, locale="en-US")
    sign_in(page, "dongcheng-office")
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": page.url}])
    page.goto("/district/chiefs/")
    headings = page.locator(".townships-table thead")
    expect(headings).to_contain_text("Patrolled every lane as required")
    width, box = page.evaluate(TABLE_AND_BOX, ".townships-table")
    assert width <= box
    shots(page, "chiefs-by-township-en", full_page=True)
    page.click("#townships a:has-text('龙潭街道')")
    expect(page.locator("#chiefs")).to_contain_text("liu-yueming", use_inner_text=True)
    width, box = page.evaluate(TABLE_AND_BOX, ".chiefs-table")
    assert width <= box
    shots(page, "chiefs-of-a-township-en", full_page=True)


def test_the_assessment_overviews_ranking_shows_its_totals_in_english_beside_unfinished_records(
    new_page, shots, month
):
    _, period = month
    # Every department's ranking row carries the long "Includes 1 unfinished record" badge.
    settled = SummonsAssessment.objects.filter(settled=True).order_by("pk")
    first_of_each: dict[int, int] = {}
    for record in settled:
        first_of_each.setdefault(record.department_id, record.pk)
    SummonsAssessment.objects.filter(pk__in=first_of_each.values()).update(provisional=True)
    page = new_page(LAPTOP, locale="en-US")
    sign_in(page, "he-assessor")
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": page.url}])
    page.goto(f"/assessment/?period={period.key}")
    expect(page.locator(".ranking-table").first).to_contain_text("Includes 1 unfinished record")
    width, box = page.evaluate(TABLE_AND_BOX, ".ranking-table")
    assert width <= box
    shots(page, "assessment-overview-unfinished-en", full_page=True)


def test_the_annual_report_prints_by_its_button_within_the_security_policy(
    new_page, shots, whistle_city
):
    page = new_page(WALL)
    blocked = csp_errors(page)
    sign_in(page, "dongcheng-office")
    page.goto(f"/district/report/{timezone.localdate().year}/")
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    page.click("button[data-print]")
    assert page.evaluate("() => window.printed") == 1
    # The row under its title marks the annual report as the page shown.
    assert page.locator(".subnav [aria-current]").inner_text() == "年度报告"
    shots(page, "annual-report")
    assert blocked == []
