"""`whistle scores`, `whistle recompute-scores` and `whistle import-component-scores`."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from openpyxl import load_workbook

from tests.fixtures_assessment import (
    july_fixture,  # noqa: F401  (fixture)
    scheme_one_third,
)
from tests.test_assessment import appeal_c3_urban, rate_all
from whistle.assessment.engine import recompute_all
from whistle.assessment.models import ComponentScore, SummonsAssessment


@pytest.fixture(autouse=True)
def _in_english():
    """Messages are matched in English here; one test checks the Chinese."""
    with translation.override("en"):
        yield


@pytest.fixture
def scored_july(july, tmp_path):
    m = july
    scheme_one_third(m.district)
    rate_all(m)
    path = tmp_path / "inspection.csv"
    path.write_text(
        "department,component,period,score,note\n"
        "dc-cgw,inspection,2026-07,90,7月检查\n"
        "dc-longtan-pcs,inspection,2026-07,80,7月检查\n"
        "dc-scjgj,inspection,2026-07,70,7月检查\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    call_command("import_component_scores", str(path), "--district", "110101", stdout=out)
    assert "3" in out.getvalue()
    appeal_c3_urban(m)
    return m


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_scores_prints_the_ranked_year_as_csv(scored_july):
    text = run("scores", "--period", "2026", "--district", "110101", "--format", "csv")
    rows = list(csv.reader(io.StringIO(text)))
    body = [(r[2], r[3], r[7], r[8], r[9]) for r in rows[1:]]
    # Hand computation in tests/test_assessment.py (scheme 1/3).
    assert body == [
        ("1", "dc-cgw", "78.56", "90.00", "86.19"),
        ("2", "dc-longtan-pcs", "94.90", "80.00", "84.97"),
        ("3", "dc-scjgj", "68.50", "70.00", "69.50"),
    ]


@pytest.mark.django_db
def test_scores_prints_several_periods_as_a_table_in_chinese(scored_july):
    text = run("scores", "--period", "2026-Q3", "--period", "2026-07")
    assert "东城区城管执法局" in text and "2026-Q3" in text and "2026-07" in text
    assert "86.19" in text


@pytest.mark.django_db
def test_scores_writes_a_workbook(scored_july, tmp_path):
    path = tmp_path / "scores.xlsx"
    run("scores", "--period", "2026", "--format", "xlsx", "--output", str(path))
    sheet = load_workbook(path).active
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert values[1][3] == "dc-cgw" and values[1][-4] == pytest.approx(86.19)


@pytest.mark.django_db
def test_scores_refuses_a_period_it_cannot_read(scored_july):
    with pytest.raises(CommandError, match="2026-13"):
        run("scores", "--period", "2026-13")
    with pytest.raises(CommandError, match="999999"):
        run("scores", "--period", "2026", "--district", "999999")


@pytest.mark.django_db
def test_recompute_scores_check_names_a_tampered_record_and_fails(scored_july):
    m = scored_july
    assert "agrees" in run("recompute_scores", "--check")
    summons = m.summonses["c7_urban"]
    SummonsAssessment.objects.filter(summons=summons).update(came_score=Decimal("100.00"))
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 stored values disagree"):
        call_command("recompute_scores", "--check", stdout=io.StringIO(), stderr=err)
    assert (
        f"assessment record of summons {summons.pk}: score: came is 100.00, should be "
        in err.getvalue()
    )
    run("recompute_scores")
    assert "agrees" in run("recompute_scores", "--check")


@pytest.mark.django_db
def test_recompute_scores_check_names_each_difference_in_chinese_words(scored_july):
    from tests.test_no_english import english_words
    from whistle.assessment.models import ScoreCell

    m = scored_july
    summons = m.summonses["c7_urban"]
    SummonsAssessment.objects.filter(summons=summons).update(came="no_show", total=None)
    cell = ScoreCell.objects.filter(department__code="dc-cgw").order_by("township__code").first()
    assert cell is not None
    ScoreCell.objects.filter(pk=cell.pk).update(records=99)
    err = io.StringIO()
    with translation.override("zh-hans"), pytest.raises(CommandError, match="处已存数据"):
        call_command("recompute_scores", "--check", stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    subject = f"报到任务 {summons.pk} 的考核记录"
    assert f"{subject}：来没来为 未报到，应为 迟到" in lines  # c7: 城管 came late
    assert f"{subject}：总分为 —，应为 86.80" in lines
    township = cell.township.name
    assert (
        f"东城区城管执法局在{township} 2026-07 的得分汇总：记录数为 99，应为 {cell.records}"
        in lines
    )
    assert english_words(err.getvalue()) == set()


@pytest.mark.django_db
def test_import_component_scores_refuses_a_file_with_errors(july, tmp_path):
    scheme_one_third(july.district)
    path = tmp_path / "bad.csv"
    path.write_text("department,score\ndc-cgw,90\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Nothing imported"):
        call_command(
            "import_component_scores",
            str(path),
            "--district",
            "110101",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )


@pytest.mark.django_db
def test_the_admin_shows_schemes_records_and_scores_in_chinese(scored_july, admin_client):
    with translation.override("zh-hans"):
        for url, words in (
            ("/admin/assessment/scheme/", "考核方案"),
            ("/admin/assessment/summonsassessment/", "考核记录"),
            ("/admin/assessment/departmentresult/", "部门考核分数"),
            ("/admin/assessment/appeal/", "申诉"),
            ("/admin/assessment/scheme/add/", "“来没来”权重"),
        ):
            response = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
            assert response.status_code == 200, url
            assert words in response.content.decode(), url
    # Records are derived from the trail: nobody adds or edits them in the admin.
    response = admin_client.get("/admin/assessment/summonsassessment/add/")
    assert response.status_code == 403


@pytest.mark.django_db
def test_scores_lists_an_incomplete_result_after_the_ranked_ones_with_the_reason(
    scored_july,
):
    # Without its inspection 派出所's year is incomplete: 94.90/3 = 31.63, not ranked.
    ComponentScore.objects.filter(department=scored_july.police).delete()
    recompute_all()
    text = run("scores", "--period", "2026", "--format", "csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert [(r[2], r[3], r[9], r[-1]) for r in rows[1:]] == [
        ("1", "dc-cgw", "86.19", ""),
        ("2", "dc-scjgj", "69.50", ""),
        ("", "dc-longtan-pcs", "31.63", "incomplete, not ranked: 区级检查 missing"),
    ]
