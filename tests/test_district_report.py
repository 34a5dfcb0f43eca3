"""The printable annual report of a district (district:annual-report): the year's headline
figures, the departments' ranking of the year with each part of the total, the indicators
(those with nothing to count folded away), the hotline's three rates, the hot spots and the
chiefs' patrols; who may open it; the print stylesheet; query count.

July 2026 in 东城区 rated as in tests/test_assessment.py: the only scored month of 2026, so
the year ranks 派出所 84.97 (1st), 城管 83.69 (2nd), 市场监管 69.50 (3rd).
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import make_person, square
from tests.fixtures_assessment import bj, july_fixture  # noqa: F401  (fixture)
from tests.fixtures_district import (
    RANKINGS,
    july_28_clock_fixture,  # noqa: F401  (fixture, used by every test)
    more_departments,
    rated_july_fixture,  # noqa: F401  (fixture)
    scored_july_fixture,  # noqa: F401  (fixture)
)
from tests.fixtures_measures import Tale
from whistle.assessment.hotline import HotlineRates, HotlineWeights
from whistle.assessment.indicators import indicator_table
from whistle.assessment.models import DepartmentResult
from whistle.district.views.report import indicator_lines
from whistle.organisation.models import Department, Jurisdiction, Lane, Role, Sector
from whistle.patrols.models import CheckResult, Patrol

REPORT = "/district/report/2026/"


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def text_of(html: str) -> str:
    """The page's words as a reader sees them: an inline element (a moment's `<time>`) adds no
    space; any other tag does."""
    inline = re.sub(r"</?(?:time|span|strong|em|b|a)\b[^>]*>", "", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", inline))


def ranking_rows(html: str) -> list[str]:
    table = html[html.index('<table class="table table-stack numbers ranking-table">') :]
    table = table[: table.index("</table>")]
    return [text_of(row[row.index(">") + 1 :]).strip() for row in table.split("<tr")[2:]]


def test_the_district_assessor_reads_the_years_ranking_with_its_parts(client, rated):
    client.force_login(rated.district_assessor)
    html = html_of(client.get(REPORT))
    rows = ranking_rows(html)
    assert rows[0].startswith("1 龙潭派出所 2 94.90 +31.63 80.00 +53.33 84.97")
    assert rows[1].startswith("2 东城区城管执法局 4 71.06 +23.69 90.00 +60.00 83.69")
    assert rows[2].startswith("3 东城区市场监管局 2 68.50 +22.83 70.00 +46.67 69.50")
    stored = DepartmentResult.objects.filter(district=rated.district, period="2026")
    assert sorted(str(r.total) for r in stored) == ["69.50", "83.69", "84.97"]
    assert '街乡评价<br><span class="share">占 1/3</span>' in html
    assert "<title>年度考核报告 · 东城区 · 2026年" in html
    assert "东城区2026年度考核报告" in html


def test_the_report_holds_every_section_in_chinese_and_prints_on_a4(client, rated):
    client.force_login(rated.chiefs_office)
    html = html_of(client.get(REPORT))
    text = text_of(html)
    for heading in (
        "一、2026年度部门排名",
        "二、考核指标",
        "三、12345热线“三率”",
        "四、高频问题点位",
        "五、街长巷长",
    ):
        assert heading in text
    # The indicators table starts with the district, then its townships and departments.
    indicators = html[html.index('id="report-indicators"') : html.index('id="report-hotline"')]
    names = re.findall(r'<tr class="indicator-(\w+)">\s*<th scope="row">([^<]+)</th>', indicators)
    assert names[0] == ("district", "东城区")
    assert ("township", "龙潭街道") in names and ("department", "东城区城管执法局") in names
    assert "按时报到率" in text and "响应率" in text and "解决率" in text and "满意率" in text
    # The print button is bound by a script: the page's policy refuses inline handlers.
    assert 'type="button" data-print>打印</button>' in html and "onclick" not in html
    assert "whistle/print.js" in html
    assert "district/report-print.css" in html
    # The row of the district's pages under its title names the report as the page shown.
    subnav = html[html.index('<nav class="subnav"') :]
    subnav = subnav[: subnav.index("</nav>")]
    assert "排名" in subnav
    assert '<a href="/district/report/" aria-current="page">年度报告</a>' in subnav
    assert "生成于 2026-07-28 10:00（北京时间）" in text


def quiet_township_and_department(rated) -> None:
    """A township and a department of the district with nothing at all in 2026."""
    Jurisdiction.objects.create(
        level="township",
        form="street_office",
        code="110101001",
        name="东华门街道",
        parent=rated.district,
        boundary=square(116.40, 39.91),
    )
    Department.objects.create(
        code="dc-water",
        name="东城区水务局",
        kind="functional",
        sector=Sector.objects.create(code="water", name="水务"),
        district=rated.district,
    )


def indicator_names(html: str) -> list[str]:
    return re.findall(r'<tr class="indicator-\w+">\s*<th scope="row">([^<]+)</th>', html)


def test_townships_and_departments_with_nothing_to_count_are_folded_under_one_line(client, rated):
    quiet_township_and_department(rated)
    client.force_login(rated.district_assessor)
    html = html_of(client.get(REPORT))
    section = html[html.index('id="report-indicators"') : html.index('id="report-hotline"')]
    listed, folded = section.split('<details class="folded quiet-lines">')
    # Those with records or cases stay in the table, the district first.
    assert indicator_names(listed) == [
        "东城区",
        "东四街道",
        "龙潭街道",
        "东城区城管执法局",
        "龙潭派出所",
        "东城区市场监管局",
    ]
    # The two with nothing are behind one line that counts them and opens them.
    assert indicator_names(folded) == ["东华门街道", "东城区水务局"]
    assert "另有 2 个街乡和部门本年度没有可统计的数据（各项均为零），未列出。" in text_of(folded)
    assert '<span class="no-print fold-show">显示</span>' in folded
    assert "0 — — — 0 — — —" in text_of(folded)
    english = html_of(client.get(REPORT, HTTP_ACCEPT_LANGUAGE="en"))
    assert (
        "2 townships and departments had nothing to count this year (every figure zero) and "
        "are left out. Show them" in text_of(english)
    )


def test_the_indicators_fold_nothing_when_every_line_counts_something(client, rated):
    client.force_login(rated.district_assessor)
    html = html_of(client.get(REPORT))
    assert "quiet-lines" not in html and "未列出" not in html
    assert len(indicator_names(html)) == 6


def test_a_line_counts_when_any_figure_is_above_zero_and_the_district_always_stands(rated):
    quiet_township_and_department(rated)
    # 2025: nothing happened anywhere, yet the district's line stands alone.
    listed, folded = indicator_lines(indicator_table(rated.district, "2025"))
    assert [line.row.name for line in listed] == ["东城区"]
    assert {line.row.name for line in folded} >= {"东华门街道", "东城区水务局", "龙潭街道"}
    # 2026: 龙潭派出所 arrived on time on none of its records (0.00%), but it had records.
    listed, folded = indicator_lines(indicator_table(rated.district, "2026"))
    police = next(line for line in listed if line.row.name == "龙潭派出所")
    assert police.figures[1].column.name == "on_time_arrival_rate"
    assert police.figures[1].value == 0 and police.counted
    assert [line.row.name for line in folded] == ["东华门街道", "东城区水务局"]


def test_the_years_headline_figures_come_before_the_ranking(client, rated):
    client.force_login(rated.district_assessor)
    html = html_of(client.get(REPORT))
    headline = html[html.index('id="report-headline"') : html.index('id="report-ranking"')]
    figures = re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", headline)
    assert figures == [
        ("记录数", "8"),
        ("按时报到率", "33.33%"),
        ("按时处置率", "85.71%"),
        ("记录返工率", "16.67%"),
        ("案件", "7"),
        ("吹哨率", "85.71%"),
        ("结案率", "—"),
        ("按期结案率", "—"),
    ]
    assert "2026年度概况" in text_of(headline)
    assert "排名第一：龙潭派出所，84.97分（2条记录）。" in text_of(headline)
    english = html_of(client.get(REPORT, HTTP_ACCEPT_LANGUAGE="en"))
    headline = english[english.index('id="report-headline"') : english.index('id="report-ranking"')]
    assert "The year 2026 at a glance" in text_of(headline)
    assert "Ranked first: 龙潭派出所, 84.97 points from 2 records." in text_of(headline)
    assert "<dt>On-time arrival rate</dt><dd>33.33%</dd>" in headline


def test_the_chiefs_summary_counts_those_meeting_the_patrol_requirement(client, rated):
    lane = Lane.objects.filter(township=rated.longtan).order_by("pk").first()
    assert lane is not None
    make_person("zhou-lane-chief", Role.LANE_CHIEF, lane=lane)
    client.force_login(rated.district_assessor)
    text = text_of(html_of(client.get(REPORT)))
    # Never patrolled in seven months: short of the requirement.
    assert "1 名街巷长中，0 名按要求巡查了全部街巷。" in text
    assert "巡查 0 次。发现问题 0 个" in text


def test_the_chiefs_problems_found_say_where_they_come_from_in_both_languages(client, rated):
    lane = Lane.objects.filter(township=rated.longtan).order_by("pk").first()
    assert lane is not None
    chief = make_person("zhou-lane-chief", Role.LANE_CHIEF, lane=lane)
    # Two cases reported as lane chief without any patrol, one patrol whose checklist noted a
    # problem without a case (and one item reported as the second case).
    Tale(rated.longtan, bj(3, 9), lane=lane, reporter=chief, role=Role.LANE_CHIEF)
    second = Tale(rated.longtan, bj(5, 9), lane=lane, reporter=chief, role=Role.LANE_CHIEF)
    walked = Patrol.objects.create(
        person=chief,
        lane=lane,
        role=Role.LANE_CHIEF,
        started_at=bj(5, 8),
        ended_at=bj(5, 8, 40),
        last_activity_at=bj(5, 8, 40),
        distance_m=200,
        covered_ratio=1.0,
    )
    for item, case in (("dog-waste", None), ("no-road-trading", second.case)):
        CheckResult.objects.create(
            patrol=walked,
            item=item,
            label=item,
            result=CheckResult.Result.PROBLEM,
            case=case,
            checked_at=bj(5, 8, 10),
        )
    client.force_login(rated.district_assessor)
    text = text_of(html_of(client.get(REPORT)))
    assert "巡查 1 次。发现问题 3 个（上报案件 2 个，含巡查以外上报的；" in text
    assert "巡查检查项记录、未上报为案件的 1 个）。" in text
    english = text_of(html_of(client.get(REPORT, HTTP_ACCEPT_LANGUAGE="en")))
    assert (
        "Patrols: 1. Problems found: 3 (2 reported as cases, on patrol or not; 1 noted on "
        "patrol checklists without a case)." in english
    )


def test_each_hotline_rate_stands_beside_the_counts_it_divides(client, rated, monkeypatch):
    # Three orders received, two replied to in time, one caller reached, solved and satisfied.
    counts = {
        "hotline_received": 3,
        "hotline_responded": 2,
        "hotline_resolved": 1,
        "hotline_called_back": 1,
        "hotline_satisfied": 1,
    }
    rates = HotlineRates.from_counts(counts, HotlineWeights.defaults())
    monkeypatch.setattr(
        "whistle.district.views.report.hotline_rates", lambda district, period_key: rates
    )
    client.force_login(rated.district_assessor)
    html = html_of(client.get(REPORT))
    hotline = text_of(html[html.index('id="report-hotline"') : html.index('id="report-hotspots"')])
    assert "响应率 66.67% 2 / 3" in hotline
    assert "解决率 100.00% 1 / 1" in hotline
    assert "满意率 100.00% 1 / 1" in hotline


def test_the_report_reads_in_english_when_the_language_is_english(client, rated):
    client.force_login(rated.district_assessor)
    html = html_of(client.get(REPORT, HTTP_ACCEPT_LANGUAGE="en"))
    assert '<html lang="en">' in html and "年度考核报告" not in html
    assert "东城区: assessment report for 2026" in html
    assert ">Print</button>" in html and "(Beijing time)" in html


def test_the_district_chief_opens_the_report(client, rated):
    chief = make_person("wu-district-chief", Role.DISTRICT_CHIEF, jurisdiction=rated.district)
    client.force_login(chief)
    assert "一、2026年度部门排名" in text_of(html_of(client.get(REPORT)))


@pytest.mark.parametrize("who", ["urban_officer", "longtan_assessor", "dongsi_dispatcher"])
def test_department_staff_and_townships_are_refused(client, rated, who):
    client.force_login(getattr(rated, who))
    assert client.get(REPORT).status_code == 403


def test_a_visitor_is_sent_to_sign_in(client, rated):
    response = client.get(REPORT)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_another_district_or_a_year_out_of_range_is_not_found(client, rated):
    client.force_login(rated.district_assessor)
    assert client.get(REPORT, {"district": "110105"}).status_code == 404
    assert client.get("/district/report/1999/").status_code == 404
    assert client.get("/district/report/2101/").status_code == 404


def test_a_year_that_has_not_begun_has_no_report_yet(client, rated, _clock):
    client.force_login(rated.district_assessor)
    assert client.get("/district/report/2027/").status_code == 404
    assert "/district/report/2027/" not in html_of(client.get(RANKINGS, {"period": "2027"}))
    # Its first hour in Beijing (31 December, 16:00 UTC) opens it.
    _clock.move_to("2026-12-31T16:00:00+00:00")
    assert client.get("/district/report/2027/").status_code == 200
    assert "/district/report/2027/" in html_of(client.get(RANKINGS, {"period": "2027"}))


def test_the_rankings_year_view_links_to_the_report_for_district_readers_only(client, rated):
    client.force_login(rated.district_assessor)
    link = 'href="/district/report/2026/?district=110101"'
    assert link in html_of(client.get(RANKINGS, {"period": "2026"}))
    assert link not in html_of(client.get(RANKINGS, {"period": "2026-07"}))
    client.force_login(rated.urban_officer)
    assert link not in html_of(client.get(RANKINGS, {"period": "2026"}))


def test_the_report_runs_a_fixed_number_of_queries_with_twenty_five_departments(
    client, rated, django_assert_max_num_queries
):
    more_departments(rated, 22)
    client.force_login(rated.district_assessor)
    # 37: the header's unread count is two queries on every page (the reader's roles, which
    # say the entries shared with them, and the count).
    # 39 with the chiefs' appointments, a second source of the lanes each chief held.
    # 40 with the count of each department's unfinished records counted as not acted.
    # 41 with the district's first scored year, from which the report links the years.
    with django_assert_max_num_queries(41):
        html = html_of(client.get(REPORT))
    assert len(ranking_rows(html)) == 25


def an_earlier_score(rated, period: str) -> None:
    """A score of the district in an earlier period: its year can have a report."""
    result = DepartmentResult.objects.filter(district=rated.district, period="2026").first()
    assert result is not None
    result.pk = None
    result.period = period
    result.save()


def test_the_report_of_the_year_under_way_opens_from_the_menu_and_the_district_pages(client, rated):
    client.force_login(rated.district_assessor)
    rankings = html_of(client.get(RANKINGS))
    subnav = rankings[rankings.index('<nav class="subnav"') :]
    assert '<a href="/district/report/">年度报告</a>' in subnav[: subnav.index("</nav>")]
    # The top bar's assessment menu holds it too.
    top = rankings[: rankings.index("<main")]
    assert 'href="/district/report/"' in top and "年度报告" in top
    # Without a year, the report of the year under way (28 July 2026).
    html = html_of(client.get("/district/report/"))
    assert "东城区2026年度考核报告" in html
    assert "一、2026年度部门排名" in text_of(html)
    # Department staff and townships see no link to it.
    client.force_login(rated.urban_officer)
    assert "/district/report/" not in html_of(client.get(RANKINGS))
    assert client.get("/district/report/").status_code == 403


def test_the_report_links_only_the_years_from_the_districts_first_score_on(client, rated):
    client.force_login(rated.district_assessor)
    # Only 2026 is scored: no other year to open.
    assert 'aria-label="年份"' not in html_of(client.get(REPORT))
    an_earlier_score(rated, "2025-11")
    html = html_of(client.get(REPORT))
    years = html[html.index('aria-label="年份"') :]
    years = years[: years.index("</nav>")]
    assert re.findall(r'href="/district/report/(\d+)/\?district=110101"', years) == [
        "2026",
        "2025",
    ]
    assert 'href="/district/report/2026/?district=110101" aria-current="page">2026' in years


def test_a_year_with_nothing_recorded_says_there_is_no_record_instead_of_zeros(client, rated):
    lane = Lane.objects.filter(township=rated.longtan).order_by("pk").first()
    assert lane is not None
    make_person("zhou-lane-chief", Role.LANE_CHIEF, lane=lane)
    client.force_login(rated.district_assessor)
    text = text_of(html_of(client.get("/district/report/2025/")))
    assert "2025年没有记录" in text
    assert "系统中没有东城区2025年的案件、考核成绩、热线工单或巡查记录，无可报告的内容。" in text
    # Not a page of zeros that reads as a year of failures.
    assert "名按要求巡查了全部街巷" not in text and "一、2025年度部门排名" not in text
    english = text_of(html_of(client.get("/district/report/2025/", HTTP_ACCEPT_LANGUAGE="en")))
    assert "No record for 2025" in english
    assert "chiefs patrolled every lane as required" not in english
    # The year with records reports them.
    assert "名按要求巡查了全部街巷" in text_of(html_of(client.get(REPORT)))
