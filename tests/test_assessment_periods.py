"""Quarters and years are scored month by month under each month's scheme, and the months
combined as the latest scheme of the period says; months without a scheme are reported.

July is `july` (tests/fixtures_assessment.py), rated, appealed and inspected as in
tests/test_assessment.py, under the one-third scheme A (in force from January). From August
the 40% scheme B (lateness in bands) is in force, and two more whistles are assessed:

a1 龙潭 05 Aug 09:00 → 城管 checks in 09:20, result 10:00, closed 11:00; not rated:
   came 100, acted 100: (30 + 40) / .7 = 100.00
a2 龙潭 12 Aug 09:00 → 派出所 checks in 09:45, 15 minutes late (band ≤ 30: −30), result,
   closed; not rated: came 70, acted 100: (21 + 40) / .7 = 87.142… → 87.14

The district inspection is entered for July only, so the third quarter's is July's (城管 90,
派出所 80, 市场监管 70). Each version scores its months:

         July under A (1/3)                        August under B (40%)
城管     78.56 (4 records): 78.56/3 + 60 = 86.19     100.00 (1 record): 40 + 54 = 94.00
派出所   94.90 (2 records): (94.90 + 160)/3 = 84.97  87.14 (1 record): 34.856 + 48 = 82.86
市场监管 68.50 (2 records): (68.50 + 140)/3 = 69.50  no record

Weighted by records (the default): the third quarter and the year are
城管     township (4 × 78.56 + 100)/5 = 82.848 → 82.85; total (4 × 86.19 + 94)/5 = 87.752 → 87.75
派出所   township (2 × 94.90 + 87.14)/3 = 92.313 → 92.31; total (2 × 84.97 + 82.86)/3 = 84.27
市场监管 68.50; 69.50
Each month the same: 城管 (78.56 + 100)/2 = 89.28, (86.19 + 94)/2 = 90.095 → 90.10;
派出所 (94.90 + 87.14)/2 = 91.02, (84.97 + 82.86)/2 = 83.915 → 83.92; 市场监管 as before.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.utils import translation

from tests.fixtures_assessment import (
    Month,
    Story,
    bj,
    july_fixture,  # noqa: F401  (fixture)
    scheme_forty_percent,
    scheme_one_third,
)
from tests.fixtures_district import RANKINGS
from tests.test_assessment import appeal_c3_urban, import_inspection, rate_all, scores
from whistle.assessment.components import import_component_scores
from whistle.assessment.engine import check_all, recompute_all, update_scores
from whistle.assessment.explain import explain_result
from whistle.assessment.models import DepartmentResult, Scheme, SchemeComponent
from whistle.assessment.periods import Period
from whistle.cases.trail import EventKind
from whistle.district.tables import ranking

D = Decimal


def august(m: Month) -> None:
    a1 = Story(m.longtan, bj(5, 8, 50, month=8), m.longtan_assessor)
    (urban,) = a1.whistle(bj(5, 9, month=8), m.urban)
    a1.event(EventKind.CHECK_IN_ACCEPTED, bj(5, 9, 20, month=8), urban)
    a1.event(EventKind.RESULT, bj(5, 10, month=8), urban)
    a1.close(bj(5, 11, month=8))
    a2 = Story(m.longtan, bj(12, 8, 50, month=8), m.longtan_assessor)
    (police,) = a2.whistle(bj(12, 9, month=8), m.police)
    a2.event(EventKind.CHECK_IN_ACCEPTED, bj(12, 9, 45, month=8), police)
    a2.event(EventKind.RESULT, bj(12, 10, 30, month=8), police)
    a2.close(bj(12, 11, month=8))


def scheme_change_in_august(m: Month, tmp_path: Path, weighting: str = "records") -> Scheme:
    first = scheme_one_third(m.district)
    later = scheme_forty_percent(m.district, valid_from=date(2026, 8, 1))
    Scheme.objects.filter(pk=later.pk).update(month_weighting=weighting)
    rate_all(m)
    august(m)
    update_scores()
    import_inspection(m, tmp_path)
    appeal_c3_urban(m)
    return first


@pytest.mark.django_db
def test_a_quarter_spanning_two_schemes_is_scored_month_by_month_weighted_by_records(
    july, tmp_path
):
    m = july
    first = scheme_change_in_august(m, tmp_path)
    expected = {
        "dc-cgw": (D("82.85"), D("87.75"), 1),
        "dc-longtan-pcs": (D("92.31"), D("84.27"), 2),
        "dc-scjgj": (D("68.50"), D("69.50"), 3),
    }
    for period in ("2026-Q3", "2026"):
        assert scores(m, period) == expected, period
    # Each month alone under its own scheme: July as in tests/test_assessment.py.
    assert scores(m, "2026-07")["dc-cgw"] == (D("78.56"), D("86.19"), 1)
    urban = DepartmentResult.objects.get(department=m.urban, period="2026-Q3")
    later = Scheme.objects.get(valid_from=date(2026, 8, 1))
    assert urban.scheme_id == later.pk
    assert urban.parts == [
        {
            "months": ["2026-07"],
            "scheme": first.pk,
            "records": 4,
            "township_score": "78.56",
            "total": "86.19",
            "complete": True,
        },
        {
            "months": ["2026-08", "2026-09"],
            "scheme": later.pk,
            "records": 1,
            "township_score": "100.00",
            "total": "94.00",
            "complete": True,
        },
    ]
    assert check_all() == []


@pytest.mark.django_db
def test_a_scheme_may_weigh_each_month_the_same(july, tmp_path):
    m = july
    scheme_change_in_august(m, tmp_path, weighting="months")
    expected = {
        "dc-cgw": (D("89.28"), D("90.10"), 1),
        "dc-longtan-pcs": (D("91.02"), D("83.92"), 2),
        "dc-scjgj": (D("68.50"), D("69.50"), 3),
    }
    for period in ("2026-Q3", "2026"):
        assert scores(m, period) == expected, period
    urban = DepartmentResult.objects.get(department=m.urban, period="2026-Q3")
    assert [(p["months"], p["records"]) for p in urban.parts] == [
        (["2026-07"], 4),
        (["2026-08"], 1),
        (["2026-09"], 0),
    ]
    before = list(DepartmentResult.objects.order_by("pk").values_list("total", "parts"))
    recompute_all()
    assert list(DepartmentResult.objects.order_by("pk").values_list("total", "parts")) == before
    assert check_all() == []


@pytest.mark.django_db
def test_the_drill_down_shows_each_versions_formula_and_how_they_combine(july, tmp_path):
    m = july
    scheme_change_in_august(m, tmp_path)
    drill = explain_result(m.urban, "2026-Q3")
    assert drill["formula"] == "(4 × 86.19 + 1 × 94.00) / 5 = 87.75"
    assert drill["township_formula"] == "(4 × 78.56 + 1 × 100.00) / 5 = 82.85"
    assert [(p["months"], p["formula"]) for p in drill["pieces"]] == [
        ("2026-07", "1/3 × 78.56 (township evaluation) + 2/3 × 90.00 (区级检查) = 86.19"),
        (
            "2026-08 – 2026-09",
            "40% × 100.00 (township evaluation) + 0.6 × 90.00 (区级检查) = 94.00",
        ),
    ]


@pytest.mark.django_db
def test_the_rankings_and_drill_down_pages_show_the_combined_quarter(client, july, tmp_path):
    m = july
    scheme_change_in_august(m, tmp_path)
    with time_machine.travel(bj(28, 10, month=9), tick=False):
        client.force_login(m.district_assessor)
        html = client.get(RANKINGS, {"period": "2026-Q3"}).content.decode()
        drill = client.get(RANKINGS + "2026-Q3/dc-cgw/").content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert (
        "按各月适用的方案版本逐月计分：2026-07 适用“2026年度考核（街乡评价占三分之一）”；"
        "2026-08 – 2026-09 适用“2026年度考核（街乡评价占40%）”。各月按考核记录数加权合并。"
    ) in text
    assert "1 东城区城管执法局 5 82.85" in text and "87.75" in text
    drill_text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", drill))
    assert "1/3 × 78.56 (街乡评价) + 2/3 × 90.00 (区级检查) = 86.19" in drill_text
    assert "40% × 100.00 (街乡评价) + 0.6 × 90.00 (区级检查) = 94.00" in drill_text
    assert "按考核记录数加权： (4 × 86.19 + 1 × 94.00) / 5 = 87.75" in drill_text


def scheme_from_november(m: Month, tmp_path: Path) -> None:
    """The district adopts its scheme in November: July's whistles are not scored; one
    November whistle is (城管 on time and handled, unrated: 100.00), with November's
    inspection 90: 100/3 + 2 × 90/3 = 93.333… → 93.33."""
    scheme = Scheme.objects.create(
        district=m.district, name="2026年11月起考核", valid_from=date(2026, 11, 1)
    )
    SchemeComponent.objects.create(scheme=scheme, code="inspection", name="区级检查", weight="2/3")
    story = Story(m.longtan, bj(10, 8, 50, month=11), m.longtan_assessor)
    (urban,) = story.whistle(bj(10, 9, month=11), m.urban)
    story.event(EventKind.CHECK_IN_ACCEPTED, bj(10, 9, 20, month=11), urban)
    story.event(EventKind.RESULT, bj(10, 10, month=11), urban)
    story.close(bj(10, 11, month=11))
    update_scores()
    path = tmp_path / "inspection.csv"
    path.write_text("department,component,period,score\ndc-cgw,inspection,2026-11,90\n")
    assert import_component_scores(path, m.district).errors == []


def scores_csv(*periods: str) -> tuple[list[list[str]], str]:
    out, err = io.StringIO(), io.StringIO()
    args = [f"--period={p}" for p in periods]
    with translation.override("en"):
        call_command("scores", *args, "--format=csv", stdout=out, stderr=err)
    return list(csv.reader(io.StringIO(out.getvalue()))), err.getvalue()


@pytest.mark.django_db
def test_a_scheme_adopted_in_november_still_gives_a_year_and_a_quarter(july, tmp_path):
    m = july
    scheme_from_november(m, tmp_path)
    rows, _err = scores_csv("2026", "2026-Q4")
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Period", "District", "Rank"] and header[-1] == "Note"
    assert [(r[0], r[2], r[3], r[7], r[-4], r[-1]) for r in body] == [
        (
            "2026",
            "1",
            "dc-cgw",
            "100.00",
            "93.33",
            "no scheme in force in 2026-01 – 2026-10: not scored",
        ),
        ("2026-Q4", "1", "dc-cgw", "100.00", "93.33", "no scheme in force in 2026-10: not scored"),
    ]
    assert check_all() == []


@pytest.mark.django_db
def test_a_period_without_any_scheme_says_so(july, tmp_path):
    scheme_from_november(july, tmp_path)
    rows, err = scores_csv("2026-Q1")
    assert len(rows) == 1
    assert "No scheme is in force in 2026-Q1: nothing is scored." in err


@pytest.mark.django_db
def test_the_rankings_page_reports_the_months_without_a_scheme(client, july, tmp_path):
    m = july
    scheme_from_november(m, tmp_path)
    with time_machine.travel(bj(28, 10, month=12), tick=False):
        client.force_login(m.district_assessor)
        response = client.get(RANKINGS, {"period": "2026"})
    assert response.status_code == 200, response
    html = response.content.decode()
    assert "2026-01 – 2026-10 没有适用的考核方案：这些月份不计分。" in html
    assert 'id="rank-dc-cgw"' in html


@pytest.mark.django_db
def test_a_score_stored_without_its_pieces_still_explains_its_parts(july, tmp_path):
    m = july
    scheme_one_third(m.district)
    rate_all(m)
    import_inspection(m, tmp_path)
    # As a period closed before the pieces were kept stores it.
    DepartmentResult.objects.filter(period="2026-07").update(parts=[])
    board = ranking(m.district, Period.parse("2026-07"))
    police = next(r for r in board.rows if r.department == m.police)
    # 94.90/3 = 31.63 and 2/3 × 80 = 53.33, as the page showed them before.
    assert [p.contribution for p in police.parts] == [D("31.63"), D("53.33")]
    assert board.versions == [] and board.unscored_months == []
