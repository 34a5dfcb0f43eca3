"""District rankings: the departments of a period with the total and its parts, the chart
and trend data, the downloads (the same file as `whistle scores`), the drill-down of one
department to its records and their trail events; who may open what; query counts.

July 2026 in 东城区 rated as in tests/test_assessment.py, before any appeal:
派出所 94.90 → 84.97 (1st), 城管 71.06 → 83.69 (2nd), 市场监管 68.50 → 69.50 (3rd).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from tests.conftest import make_person
from tests.fixtures_assessment import bj, july_fixture  # noqa: F401  (fixture)
from tests.fixtures_district import (
    RANKINGS,
    july_28_clock_fixture,  # noqa: F401  (fixture, used by every test)
    more_departments,
    rated_july_fixture,  # noqa: F401  (fixture)
    scored_july_fixture,  # noqa: F401  (fixture)
)
from whistle.assessment.engine import update_scores
from whistle.assessment.models import DepartmentResult, Scheme
from whistle.cases.trail import EventKind
from whistle.organisation.models import Role


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def chart_of(html: str) -> dict:
    found = re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', html)
    assert found, "no chart data"
    return json.loads(found.group(1))


def table_rows(html: str) -> list[str]:
    table = html[html.index('<table class="table table-stack numbers ranking-table">') :]
    table = table[: table.index("</table>")]
    rows = [row[row.index(">") + 1 :] for row in table.split("<tr")[2:]]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]


def test_the_district_assessor_sees_the_departments_ranked_with_the_parts_of_their_total(
    client, rated
):
    client.force_login(rated.district_assessor)
    html = html_of(client.get(RANKINGS, {"period": "2026-07"}))
    rows = table_rows(html)
    assert rows[0].startswith("1 龙潭派出所 2 94.90 +31.63 80.00 +53.33 84.97")
    assert rows[1].startswith("2 东城区城管执法局 4 71.06 +23.69 90.00 +60.00 83.69")
    assert rows[2].startswith("3 东城区市场监管局 2 68.50 +22.83 70.00 +46.67 69.50")
    assert '街乡评价<br><span class="share">占 1/3</span>' in html
    assert '区级检查<br><span class="share">占 2/3</span>' in html
    assert 'href="/district/rankings/2026-07/dc-cgw/"' in html
    assert "考核方案：2026年度考核（街乡评价占三分之一）" in html


def test_the_chart_data_holds_each_parts_contribution_in_rank_order_and_the_monthly_trend(
    client, rated
):
    client.force_login(rated.district_assessor)
    html = html_of(client.get(RANKINGS, {"period": "2026-07"}))
    chart = chart_of(html)
    assert chart["departments"] == ["龙潭派出所", "东城区城管执法局", "东城区市场监管局"]
    assert chart["totals"] == [84.97, 83.69, 69.5]
    assert [s["name"] for s in chart["series"]] == ["街乡评价（1/3）", "区级检查（2/3）"]
    assert chart["series"][0]["data"] == [31.63, 23.69, 22.83]
    assert chart["series"][1]["data"] == [53.33, 60.0, 46.67]
    assert chart["trend"]["months"] == [f"2026-{n:02d}" for n in range(1, 8)]
    trend = {s["name"]: s["data"] for s in chart["trend"]["series"]}
    assert trend["东城区城管执法局"] == [None] * 6 + [83.69]
    assert 'data-chart="ranking"' in html and 'data-chart="trend"' in html
    assert "vendor/echarts/echarts.min.js" in html


def test_the_monthly_chart_leaves_out_the_departments_without_any_score(client, rated, tmp_path):
    from whistle.assessment.components import import_component_scores
    from whistle.assessment.engine import recompute_all
    from whistle.organisation.models import Department, Sector

    empty = Department.objects.create(
        code="dc-empty",
        name="东城区无考核部门",
        kind="functional",
        sector=Sector.objects.create(code="extra", name="其他"),
        district=rated.district,
    )
    # Inspected in July but never summoned: listed in the ranking without a total.
    inspection = tmp_path / "inspection.csv"
    inspection.write_text("department,component,period,score\ndc-empty,inspection,2026-07,75\n")
    assert import_component_scores(inspection, rated.district).errors == []
    recompute_all()
    assert DepartmentResult.objects.get(department=empty, period="2026-07").total is None
    client.force_login(rated.district_assessor)
    chart = chart_of(html_of(client.get(RANKINGS, {"period": "2026-07"})))
    trend = {s["name"]: s["data"] for s in chart["trend"]["series"]}
    assert set(trend) == {"龙潭派出所", "东城区城管执法局", "东城区市场监管局"}
    assert all(any(v is not None for v in data) for data in trend.values())


def test_the_period_picker_offers_no_period_that_has_not_begun(client, rated):
    client.force_login(rated.district_assessor)
    # 28 July 2026: the month, its quarter and its year have begun, August has not.
    now = html_of(client.get(RANKINGS, {"period": "2026-07"}))
    assert 'rel="next"' not in now
    assert 'rel="prev"' in now and "?period=2026-06" in now
    for begun in ("2026-07", "2026-Q3", "2026", "2026-01"):
        assert f'<option value="{begun}"' in now, begun
    for coming in ("2026-08", "2026-Q4", "2027", "2027-01"):
        assert f'<option value="{coming}"' not in now, coming
    assert '<optgroup label="2027">' not in now
    june = html_of(client.get(RANKINGS, {"period": "2026-06"}))
    assert re.search(r'href="\?period=2026-07[^"]*" rel="next"', june)
    # Asked for all the same, the page shows this month and says why.
    asked = html_of(client.get(RANKINGS, {"period": "2026-08"}))
    assert "2026年8月尚未开始，现显示本月。" in asked
    assert '<option value="2026-07" selected>' in asked
    # Nor is a download of it made: refused as a period that cannot be read is.
    export = client.get(RANKINGS + "export/", {"period": "2026-08", "format": "csv"})
    assert export.status_code == 400


def test_a_quarter_and_a_year_rank_the_records_of_all_their_months(client, rated):
    client.force_login(rated.district_assessor)
    for period in ("2026-Q3", "2026"):
        rows = table_rows(html_of(client.get(RANKINGS, {"period": period})))
        assert [r.split()[1] for r in rows] == [
            "龙潭派出所",
            "东城区城管执法局",
            "东城区市场监管局",
        ]
    html = html_of(client.get(RANKINGS, {"period": "2026-06"}))
    assert "本期尚无考核分数。" in html and "chart-data" not in html


def test_the_csv_download_is_what_whistle_scores_writes(client, rated, tmp_path):
    client.force_login(rated.district_assessor)
    response = client.get(RANKINGS + "export/", {"period": "2026-07", "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="whistle-scores-110101-2026-07.csv"' in response["Content-Disposition"]
    path = Path(tmp_path) / "by-command.csv"
    call_command(
        "scores", "--period=2026-07", "--district=110101", "--format=csv", f"--output={path}"
    )
    assert response.content == path.read_bytes()
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["考核期", "区", "排名", "部门代码"]
    assert [r[3] for r in rows[1:]] == ["dc-longtan-pcs", "dc-cgw", "dc-scjgj"]


def test_the_xlsx_download_is_a_workbook_of_the_same_table(client, rated):
    client.force_login(rated.district_assessor)
    response = client.get(RANKINGS + "export/", {"period": "2026-07", "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][3] == "dc-longtan-pcs" and rows[1][-4] == pytest.approx(84.97)


def download_header(client, file_format: str, language: str) -> list[str]:
    response = client.get(
        RANKINGS + "export/",
        {"period": "2026-07", "format": file_format},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 200
    if file_format == "csv":
        return next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [str(v) for v in next(sheet.iter_rows(values_only=True))]


def test_the_departments_and_the_district_are_named_in_the_readers_language(client, rated):
    from whistle.organisation.models import Department

    Department.objects.filter(code="dc-cgw").update(name_en="Urban Management Bureau")
    rated.district.name_en = "Dongcheng District"
    rated.district.save()
    client.force_login(rated.district_assessor)

    def page(language: str) -> str:
        return html_of(client.get(RANKINGS, {"period": "2026-07"}, HTTP_ACCEPT_LANGUAGE=language))

    english, chinese = page("en"), page("zh-hans")
    assert table_rows(english)[1].startswith("2 Urban Management Bureau 4 71.06")
    assert chart_of(english)["departments"][1] == "Urban Management Bureau"
    assert "Rankings · Dongcheng District · " in english
    assert table_rows(chinese)[1].startswith("2 东城区城管执法局 4 71.06")
    assert chart_of(chinese)["departments"][1] == "东城区城管执法局"
    assert "Urban Management Bureau" not in chinese and "Dongcheng District" not in chinese
    # A department without an English name keeps its name on the English page.
    assert table_rows(english)[0].startswith("1 龙潭派出所")
    for language, name, district in (
        ("en", "Urban Management Bureau", "Dongcheng District"),
        ("zh-hans", "东城区城管执法局", "东城区"),
    ):
        response = client.get(
            RANKINGS + "export/",
            {"period": "2026-07", "format": "csv"},
            HTTP_ACCEPT_LANGUAGE=language,
        )
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert [(r[1], r[4]) for r in rows[1:] if r[3] == "dc-cgw"] == [(district, name)]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_downloads_head_each_component_with_its_name_as_the_page_does(
    client, rated, file_format
):
    client.force_login(rated.district_assessor)
    assert download_header(client, file_format, "zh-hans")[7:10] == ["街乡评价", "区级检查", "总分"]
    # The district's own component is named as the district named it, in either language.
    english = download_header(client, file_format, "en")
    assert english[7:10] == ["Township evaluation", "区级检查", "Total"]
    assert "inspection" not in english


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_stationed_staffs_assessment_is_a_column_in_the_readers_language(
    client, rated, file_format
):
    # The scheme gives the stationed staff's assessment a share (its scores are the townships').
    Scheme.objects.update(stationed_share="1/6")
    client.force_login(rated.district_assessor)
    assert download_header(client, file_format, "zh-hans")[8:11] == [
        "区级检查",
        "派驻人员考核",
        "总分",
    ]
    english = download_header(client, file_format, "en")
    assert english[8:11] == ["区级检查", "Stationed staff's assessment", "Total"]


def test_a_download_in_an_unknown_format_or_period_is_refused(client, rated):
    client.force_login(rated.district_assessor)
    assert (
        client.get(RANKINGS + "export/", {"period": "2026-07", "format": "pdf"}).status_code == 400
    )
    assert client.get(RANKINGS + "export/", {"period": "July", "format": "csv"}).status_code == 400


def test_the_drill_down_explains_the_total_down_to_each_record_and_its_trail(client, rated):
    m = rated
    client.force_login(m.district_assessor)
    html = html_of(client.get(RANKINGS + "2026-07/dc-cgw/"))
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "1/3 × 71.06 (街乡评价) + 2/3 × 90.00 (区级检查) = 83.69" in text
    assert "记录得分的平均值：284.23 / 4 = 71.06" in text
    assert "第 2 名（共 3 个）" in text
    c3 = m.stories["c3"].case.reference
    record = html[html.index(f'href="/cases/{c3}/"') :]
    record = record[: record.index("</article>")]
    assert "未到场" in record and "未处置" in record and "★☆☆☆☆" in record
    # The points it lost, and the trail events it was computed from.
    assert "扣分：" in record and "未报到 −100" in record
    assert "到场超时" in record and "结案" in record and "街乡对部门工作评分" in record
    assert f'href="/cases/{c3}/#timeline"' in record
    # How each township rated it: 东四 (c3 6.00, c7 86.80) and 龙潭 (c1 100, c5 91.43).
    assert "46.40" in html and "95.72" in html


def test_department_staff_see_the_ranking_and_drill_into_their_own_department_only(client, rated):
    m = rated
    client.force_login(m.urban_officer)
    html = html_of(client.get(RANKINGS, {"period": "2026-07"}))
    assert 'href="/district/rankings/2026-07/dc-cgw/"' in html
    assert 'href="/district/rankings/2026-07/dc-longtan-pcs/"' not in html
    assert client.get(RANKINGS + "2026-07/dc-cgw/").status_code == 200
    assert client.get(RANKINGS + "2026-07/dc-longtan-pcs/").status_code == 404


def test_a_drill_down_of_an_unknown_department_or_period_is_not_found(client, rated):
    client.force_login(rated.district_assessor)
    assert client.get(RANKINGS + "2026-07/no-such/").status_code == 404
    assert client.get(RANKINGS + "2026-13/dc-cgw/").status_code == 404
    html = html_of(client.get(RANKINGS + "2026-05/dc-cgw/"))
    assert "本期尚无分数。" in html


@pytest.mark.parametrize("who", ["longtan_assessor", "dongsi_dispatcher"])
def test_townships_do_not_open_the_rankings(client, rated, who):
    client.force_login(getattr(rated, who))
    assert client.get(RANKINGS).status_code == 403
    assert client.get(RANKINGS + "export/", {"format": "csv"}).status_code == 403
    assert client.get(RANKINGS + "2026-07/dc-cgw/").status_code == 403


def test_a_district_outside_ones_own_is_not_found(client, rated):
    other = make_person("chaoyang", Role.DISTRICT_ASSESSOR, jurisdiction=rated.district)
    client.force_login(other)
    assert client.get(RANKINGS, {"district": "110105"}).status_code == 404


def test_the_rankings_run_a_fixed_number_of_queries_with_twenty_five_departments(
    client, rated, django_assert_max_num_queries
):
    more_departments(rated, 22)
    client.force_login(rated.district_assessor)
    with django_assert_max_num_queries(14):
        html = html_of(client.get(RANKINGS, {"period": "2026-07"}))
    assert len(table_rows(html)) == 25


def test_the_drill_down_runs_a_fixed_number_of_queries_with_thirty_records(
    client, rated, django_assert_max_num_queries
):
    (department,) = more_departments(rated, 1, cases_each=30)
    client.force_login(rated.district_assessor)
    with django_assert_max_num_queries(16):
        html = html_of(client.get(RANKINGS + f"2026-07/{department.code}/"))
    assert html.count('class="card record-card"') == 30


def test_incomplete_results_follow_the_ranked_ones_unranked_and_labelled(client, rated):
    # Two more departments came and handled, but the district has not entered their
    # inspection: their totals are incomplete (the missing part counts 0).
    more_departments(rated, 2)
    client.force_login(rated.district_assessor)
    html = html_of(client.get(RANKINGS, {"period": "2026-07"}))
    rows = table_rows(html)
    assert [r.split()[0] for r in rows] == ["1", "2", "3", "—", "—"]
    assert rows[3].startswith("— 不排名 东城区测试部门00 数据不全，不排名 缺少区级检查 1 100.00")
    assert rows[4].startswith("— 不排名 东城区测试部门01 数据不全，不排名 缺少区级检查")
    assert chart_of(html)["departments"] == ["龙潭派出所", "东城区城管执法局", "东城区市场监管局"]
    response = client.get(RANKINGS + "export/", {"period": "2026-07", "format": "csv"})
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r[2], r[3], r[-1]) for r in lines[1:]] == [
        ("1", "dc-longtan-pcs", ""),
        ("2", "dc-cgw", ""),
        ("3", "dc-scjgj", ""),
        ("", "dc-extra-00", "数据不全，不排名：缺少区级检查"),
        ("", "dc-extra-01", "数据不全，不排名：缺少区级检查"),
    ]
    response = client.get(RANKINGS + "export/", {"period": "2026-07", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [(r[2], r[3]) for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert cells[-2:] == [(None, "dc-extra-00"), (None, "dc-extra-01")]
    # In English the reasons, shown alone under the department's name, begin with a capital:
    # a department's result without a settled record of the township says so.
    DepartmentResult.objects.filter(period="2026-07", department__code="dc-extra-01").update(
        township_score=None
    )
    english = html_of(client.get(RANKINGS, {"period": "2026-07"}, HTTP_ACCEPT_LANGUAGE="en"))
    why = re.findall(r'<span class="muted unranked-why">([^<]*)</span>', english)
    assert why == ["区级检查 missing", "No settled record"]


def test_without_a_period_the_rankings_open_on_the_latest_ranked_month_and_say_so(
    client, rated, _clock
):
    # On 5 August the page opens on July, the last finished month, says so, and links to
    # August so far: even with a department of August ranked already, and a month to come
    # (wrongly) ranked.
    _clock.move_to(bj(5, 9, month=8))
    DepartmentResult.objects.filter(period="2026").update(period="2026-09")
    early = DepartmentResult.objects.filter(period="2026-Q3").order_by("rank")[:1]
    DepartmentResult.objects.filter(pk__in=list(early.values_list("pk", flat=True))).update(
        period="2026-08"
    )
    client.force_login(rated.district_assessor)
    html = html_of(client.get(RANKINGS))
    assert table_rows(html)[0].startswith("1 龙潭派出所")
    assert '<option value="2026-07" selected>' in html
    assert "显示2026年7月，即最近一个已结束且有排名的月份。" in html
    assert 'href="?district=110101&amp;period=2026-08"' in html
    # Asked for, August is shown as it is, without the note.
    html = html_of(client.get(RANKINGS, {"period": "2026-08"}))
    assert len(table_rows(html)) == 1 and "有排名的月份" not in html


def test_the_rankings_open_on_the_month_under_way_once_it_ranks_or_when_none_ever_did(
    client, rated
):
    # In July no earlier month is ranked: the month under way is opened, without a note.
    client.force_login(rated.district_assessor)
    html = html_of(client.get(RANKINGS))
    assert '<option value="2026-07" selected>' in html
    assert "有排名的月份" not in html
    # With July unranked, its quarter and year ranked do not count as a month: nothing is
    # ranked, so the page opens on the month under way.
    assert DepartmentResult.objects.filter(period="2026-Q3", rank__isnull=False).exists()
    DepartmentResult.objects.filter(period="2026-07").update(rank=None)
    html = html_of(client.get(RANKINGS))
    assert '<option value="2026-07" selected>' in html
    assert "有排名的月份" not in html


PROVISIONAL = "含 1 条未完成记录（暂按未处置计分）"


def test_a_department_ranked_on_unfinished_records_is_marked_on_the_page_chart_and_downloads(
    client, rated
):
    """c6 (派出所) is past its handling deadline and unfinished: its record counts as "never
    acted" for now. The ranking row, the department's result page, the chart's data and
    both downloads say how many such records the total holds; the other departments none."""
    m = rated
    client.force_login(m.district_assessor)
    html = html_of(client.get(RANKINGS, {"period": "2026-07"}))
    assert "未完成记录" not in html
    assert chart_of(html)["provisional"] == [0, 0, 0]

    m.stories["c6"].event(EventKind.RESOLVE_OVERDUE, bj(28, 9, 30), m.summonses["c6_police"])
    update_scores()
    html = html_of(client.get(RANKINGS, {"period": "2026-07"}))
    rows = {row.split()[1]: row for row in table_rows(html)}
    assert PROVISIONAL in rows["龙潭派出所"]
    assert "未完成记录" not in rows["东城区城管执法局"] + rows["东城区市场监管局"]
    chart = chart_of(html)
    marked = dict(zip(chart["departments"], chart["provisional"], strict=True))
    assert marked == {"龙潭派出所": 1, "东城区城管执法局": 0, "东城区市场监管局": 0}
    assert chart["labels"]["provisional"] == "未完成记录（暂按未处置计分）：{n} 条"
    english = html_of(client.get(RANKINGS, {"period": "2026-07"}, HTTP_ACCEPT_LANGUAGE="en"))
    assert "Includes 1 unfinished record (counted as not acted for now)" in english

    result = html_of(client.get(RANKINGS + "2026-07/dc-longtan-pcs/"))
    assert PROVISIONAL in result and "已在下方标出" in result
    assert "未完成记录" not in html_of(client.get(RANKINGS + "2026-07/dc-cgw/"))

    response = client.get(RANKINGS + "export/", {"period": "2026-07", "format": "csv"})
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0][5:7] == ["记录数", "未完成记录数（暂按未处置计分）"]
    assert {r[3]: r[6] for r in lines[1:]} == {
        "dc-longtan-pcs": "1",
        "dc-cgw": "0",
        "dc-scjgj": "0",
    }
    response = client.get(RANKINGS + "export/", {"period": "2026-07", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = {r[3]: r[6] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert cells == {"dc-longtan-pcs": 1, "dc-cgw": 0, "dc-scjgj": 0}
    # The quarter and the year count it too.
    response = client.get(RANKINGS + "export/", {"period": "2026-Q3", "format": "csv"})
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {r[3]: r[6] for r in lines[1:]}["dc-longtan-pcs"] == "1"


def test_the_period_picker_offers_no_year_before_the_districts_first_score(client, rated):
    client.force_login(rated.district_assessor)
    # July 2026 is the district's only scored month: 2025 cannot have a score.
    january = html_of(client.get(RANKINGS, {"period": "2026-01"}))
    assert 'rel="prev"' not in january and '<option value="2025' not in january
    year = html_of(client.get(RANKINGS, {"period": "2026"}))
    assert 'rel="prev"' not in year and '<option value="2025"' not in year
    # A score of December 2025 brings that year back.
    result = DepartmentResult.objects.filter(district=rated.district, period="2026").first()
    assert result is not None
    result.pk = None
    result.period = "2025-12"
    result.save()
    january = html_of(client.get(RANKINGS, {"period": "2026-01"}))
    assert re.search(r'href="\?period=2025-12[^"]*" rel="prev"', january)
    assert '<option value="2025"' in january
    # Asked by its address, an earlier year still shows, saying it has no score.
    asked = html_of(client.get(RANKINGS, {"period": "2023"}))
    assert '<option value="2023" selected>' in asked and 'rel="prev"' not in asked
