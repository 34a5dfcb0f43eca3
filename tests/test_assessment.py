"""The assessment of summonses (一次一考核): records from the trail, ratings, scores under two
schemes, the appeal, recomputation.

The scenario is `july` (tests/fixtures_assessment.py). Its hand computation, with
the default record weights came 0.3, acted 0.4, how well 0.3; 1 star = 20 points; rework −10;
overruled decline −20; resident's satisfaction half of "how well"; a late arrival never below
20 points:

record       came                 acted            how well            total (1/3 | 40%)
c1 城管      on time 100          handled 100      5★ 100              100.00 | 100.00
c1 派出所    7 min late           handled 100      4★ 80
             1/3: 100−7×2 = 86                                         .3×86+40+24 = 89.80
             40%: band ≤10: 90                                         .3×90+40+24 = 91.00
c2 市场监管  40 min late: 20      1 rework: 90     3★ 60, resident not
             (floor; beyond the                    satisfied 0:
             last band: floor)                     .5×60+.5×0 = 30     6+36+9 = 51.00 | 51.00
c3 城管      never came 0         never acted 0    1★ 20               0+0+6 = 6.00
             after the upheld appeal: came on time 100                 30+0+6 = 36.00
c3 市场监管  on time 100          overruled 80     4★ 80               30+32+24 = 86.00
c4 派出所    decline upheld       upheld 100       not rated           only acted: 100.00
             in time: n/a
c5 城管      routine: n/a         handled 100      4★ 80               (40+24)/.7 = 91.43
c6 派出所    still open: not counted
c7 城管      12 min late          handled 100      4★ 80
             1/3: 100−24 = 76                                          22.8+40+24 = 86.80
             40%: band ≤30: 70                                         21+40+24 = 85.00

Township evaluation of July (mean of the settled records, rounded half up to cents):
  城管     1/3: (100 + 36 + 91.43 + 86.80)/4 = 314.23/4 = 78.5575 → 78.56
           40%: (100 + 36 + 91.43 + 85.00)/4 = 312.43/4 = 78.1075 → 78.11
           before the appeal (1/3): (100 + 6 + 91.43 + 86.80)/4 = 71.0575 → 71.06
  派出所   1/3: (89.80 + 100)/2 = 94.90        40%: (91.00 + 100)/2 = 95.50
  市场监管 both: (51 + 86)/2 = 68.50

District inspection for July: 城管 90, 派出所 80, 市场监管 70.
Total, 1/3: 城管 78.56/3 + 2×90/3 = 26.1867 + 60 = 86.1867 → 86.19 (rank 1)
            派出所 94.90/3 + 160/3 = 31.6333 + 53.3333 = 84.9667 → 84.97 (rank 2)
            市场监管 68.50/3 + 140/3 = 22.8333 + 46.6667 = 69.50 (rank 3)
Total, 40%: 城管 0.4×78.11 + 0.6×90 = 31.244 + 54 = 85.244 → 85.24 (rank 2)
            派出所 0.4×95.50 + 0.6×80 = 38.20 + 48 = 86.20 (rank 1)
            市场监管 0.4×68.50 + 0.6×70 = 27.40 + 42 = 69.40 (rank 3)
Only July has whistles, so 2026-Q3 and 2026 equal July (the inspection of the quarter and the
year is the mean of the months entered: July alone).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation

from tests.fixtures_assessment import (
    INSPECTION_JULY,
    Month,
    bj,
    cells_by_hand,
    july_fixture,  # noqa: F401  (fixture)
    records_by_hand,
    scheme_forty_percent,
    scheme_one_third,
    stored_cells,
    stored_records,
)
from whistle.assessment.actions import (
    AssessmentError,
    close_period,
    file_appeal,
    rate_summons,
    rule_on_appeal,
)
from whistle.assessment.components import import_component_scores
from whistle.assessment.engine import check_all, recompute_all, update_scores
from whistle.assessment.explain import department_view, explain_result, township_view
from whistle.assessment.models import (
    Acted,
    Came,
    DepartmentResult,
    ScoreCell,
    SummonsAssessment,
)
from whistle.assessment.scoring import AssessmentEventKind, competition_ranks
from whistle.cases.models import Event
from whistle.cases.trail import EventKind

D = Decimal


@pytest.fixture(autouse=True)
def _in_english():
    """Messages are matched in English here; one test checks the Chinese."""
    with translation.override("en"):
        yield


def rate_all(m: Month) -> None:
    """Each case's summonses rated on the morning after the case's last event."""
    s = m.summonses
    with time_machine.travel(bj(7, 9), tick=False):
        rate_summons(m.longtan_assessor, s["c1_urban"], 5, "到场快，处置彻底")
        rate_summons(m.longtan_assessor, s["c1_police"], 4, "")
    with time_machine.travel(bj(11, 9), tick=False):
        rate_summons(m.longtan_assessor, s["c2_market"], 3, "返工一次")
    with time_machine.travel(bj(16, 9), tick=False):
        rate_summons(m.dongsi_dispatcher, s["c3_urban"], 1, "未到场")
        rate_summons(m.dongsi_dispatcher, s["c3_market"], 4, "")
    with time_machine.travel(bj(23, 9), tick=False):
        rate_summons(m.longtan_assessor, s["c5_urban"], 4, "")
    with time_machine.travel(bj(25, 9), tick=False):
        rate_summons(m.dongsi_dispatcher, s["c7_urban"], 4, "")
    # The worker's pass picks up the cases nobody rated (c4, c6).
    update_scores()


def import_inspection(m: Month, tmp_path: Path, period: str = "2026-07") -> None:
    path = tmp_path / "inspection.csv"
    lines = ["department,component,period,score"]
    lines += [f"{code},inspection,{period},{score}" for code, score in INSPECTION_JULY.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_component_scores(path, m.district)
    assert report.errors == []


def appeal_c3_urban(m: Month) -> None:
    with time_machine.travel(bj(20, 10), tick=False):
        appeal = file_appeal(
            m.urban_officer,
            m.summonses["c3_urban"],
            "came",
            {"came": "on_time"},
            "执法队员10:20已到场，定位信号弱未能签到",
            evidence="现场执法记录仪视频 10:20",
        )
    with time_machine.travel(bj(21, 15), tick=False):
        rule_on_appeal(m.chiefs_office, appeal, True, "记录仪视频证明按时到场")


def scores(m: Month, period: str) -> dict[str, tuple[Decimal | None, Decimal | None, int | None]]:
    return {
        r.department.code: (r.township_score, r.total, r.rank)
        for r in DepartmentResult.objects.filter(district=m.district, period=period).select_related(
            "department"
        )
    }


def record(summons) -> SummonsAssessment:
    return SummonsAssessment.objects.get(summons=summons)


def snapshot() -> dict[str, list[tuple]]:
    records = SummonsAssessment.objects.order_by("summons_id").values_list(
        "summons_id",
        "came",
        "late_minutes",
        "acted",
        "rework_count",
        "rating",
        "came_score",
        "acted_score",
        "quality_score",
        "total",
        "settled",
        "corrected",
        "event_ids",
    )
    cells = ScoreCell.objects.order_by("department_id", "township_id", "month").values_list(
        "department_id", "township_id", "month", "records", "total_sum", "came_sum", "rating_sum"
    )
    results = DepartmentResult.objects.order_by("period", "department_id").values_list(
        "period", "department_id", "records", "township_score", "components", "total", "rank"
    )
    return {"records": list(records), "cells": list(cells), "results": list(results)}


@pytest.mark.django_db
def test_the_records_read_the_trail_as_the_hand_computation_says(july):
    m = july
    scheme_one_third(m.district)
    rate_all(m)
    s = m.summonses
    c1_police = record(s["c1_police"])
    assert (c1_police.came, c1_police.late_minutes, c1_police.came_score) == (
        Came.LATE,
        7,
        D("86.00"),
    )
    assert c1_police.total == D("89.80")
    c2 = record(s["c2_market"])
    assert (c2.came, c2.late_minutes, c2.came_score) == (Came.LATE, 40, D("20.00"))
    assert (c2.rework_count, c2.acted_score, c2.quality_score) == (1, D("90.00"), D("30.00"))
    assert c2.total == D("51.00")
    c3_urban = record(s["c3_urban"])
    assert (c3_urban.came, c3_urban.acted, c3_urban.total) == (
        Came.NO_SHOW,
        Acted.ABANDONED,
        D("6.00"),
    )
    c3_market = record(s["c3_market"])
    assert (c3_market.acted, c3_market.acted_score, c3_market.total) == (
        Acted.DECLINE_OVERRULED,
        D("80.00"),
        D("86.00"),
    )
    c4 = record(s["c4_police"])
    assert (c4.came, c4.acted, c4.quality_score, c4.total) == (
        Came.NOT_APPLICABLE,
        Acted.DECLINE_UPHELD,
        None,
        D("100.00"),
    )
    c5 = record(s["c5_urban"])
    assert (c5.came, c5.came_score, c5.total) == (Came.NOT_APPLICABLE, None, D("91.43"))
    assert record(s["c7_urban"]).total == D("86.80")
    c6 = record(s["c6_police"])
    assert (c6.settled, c6.came) == (False, Came.ON_TIME)


@pytest.mark.django_db
def test_scores_under_the_one_third_scheme_match_the_hand_computation(july, tmp_path):
    m = july
    scheme_one_third(m.district)
    rate_all(m)
    import_inspection(m, tmp_path)
    assert scores(m, "2026-07")["dc-cgw"] == (D("71.06"), D("83.69"), 2)
    # Before the appeal: 城管 71.06/3 + 60 = 23.6867 + 60 = 83.6867 → 83.69, behind 派出所.
    appeal_c3_urban(m)
    assert record(m.summonses["c3_urban"]).total == D("36.00")
    expected = {
        "dc-cgw": (D("78.56"), D("86.19"), 1),
        "dc-longtan-pcs": (D("94.90"), D("84.97"), 2),
        "dc-scjgj": (D("68.50"), D("69.50"), 3),
    }
    for period in ("2026-07", "2026-Q3", "2026"):
        assert scores(m, period) == expected, period
    assert check_all() == []


@pytest.mark.django_db
def test_scores_under_the_forty_percent_scheme_match_the_hand_computation(july, tmp_path):
    m = july
    scheme_forty_percent(m.district)
    rate_all(m)
    import_inspection(m, tmp_path)
    appeal_c3_urban(m)
    assert record(m.summonses["c1_police"]).total == D("91.00")
    assert record(m.summonses["c7_urban"]).total == D("85.00")
    expected = {
        "dc-cgw": (D("78.11"), D("85.24"), 2),
        "dc-longtan-pcs": (D("95.50"), D("86.20"), 1),
        "dc-scjgj": (D("68.50"), D("69.40"), 3),
    }
    for period in ("2026-07", "2026-Q3", "2026"):
        assert scores(m, period) == expected, period
    assert check_all() == []


@pytest.mark.django_db
def test_recomputing_every_record_from_the_trail_gives_identical_results(july, tmp_path):
    m = july
    scheme_one_third(m.district)
    rate_all(m)
    import_inspection(m, tmp_path)
    appeal_c3_urban(m)
    before = snapshot()
    assert len(before["records"]) == 9
    recompute_all()
    assert snapshot() == before
    SummonsAssessment.objects.all().delete()
    ScoreCell.objects.all().delete()
    DepartmentResult.objects.all().delete()
    recompute_all()
    assert snapshot() == before
    assert check_all() == []
    assert stored_records() == records_by_hand()
    assert stored_cells() == cells_by_hand()


@pytest.mark.django_db
def test_an_incremental_update_after_one_new_record_matches_a_full_recompute(july, tmp_path):
    from tests.fixtures_assessment import Story

    m = july
    scheme_one_third(m.district)
    rate_all(m)
    import_inspection(m, tmp_path)
    update_scores()
    story = Story(m.longtan, bj(29, 8), m.longtan_assessor)
    (summons,) = story.whistle(bj(29, 9), m.market)
    story.event(EventKind.CHECK_IN_ACCEPTED, bj(29, 9, 29), summons)
    story.event(EventKind.RESULT, bj(29, 11), summons)
    story.close(bj(29, 12))
    assert update_scores() == 1
    # 市场监管 now (51 + 86 + 100×.3+100×.4 … unrated: (30 + 40)/.7 = 100) / 3 = 79.00
    assert scores(m, "2026-07")["dc-scjgj"][0] == D("79.00")
    incremental = snapshot()
    SummonsAssessment.objects.all().delete()
    ScoreCell.objects.all().delete()
    DepartmentResult.objects.all().delete()
    recompute_all()
    assert snapshot() == incremental
    assert update_scores() == 0


@pytest.mark.django_db
def test_a_changed_stored_record_is_named_by_the_check(july):
    m = july
    scheme_one_third(m.district)
    rate_all(m)
    SummonsAssessment.objects.filter(summons=m.summonses["c1_urban"]).update(total=D("99.00"))
    with translation.override("en"):
        differences = check_all()
    assert any(
        f"assessment record of summons {m.summonses['c1_urban'].pk}: total is 99.00" in d
        for d in differences
    )
    recompute_all()
    assert check_all() == []


@pytest.mark.django_db
def test_a_township_assessor_rates_a_closed_case_and_the_rating_joins_the_trail(
    july,
):
    m = july
    scheme_one_third(m.district)
    with time_machine.travel(bj(25, 9), tick=False):
        rate_summons(m.longtan_assessor, m.summonses["c1_urban"], 5, "处置彻底")
    event = Event.objects.filter(summons=m.summonses["c1_urban"]).order_by("-seq").first()
    assert event is not None
    assert event.kind == AssessmentEventKind.RATED
    assert event.data == {"rating": 5, "comment": "处置彻底"}
    assert event.actor == m.longtan_assessor
    previous = Event.objects.get(case=event.case, seq=event.seq - 1)
    assert event.prev_hash == previous.hash
    assert record(m.summonses["c1_urban"]).rating == 5


@pytest.mark.django_db
def test_it_refuses_a_rating_before_the_case_is_closed(july):
    m = july
    scheme_one_third(m.district)
    with pytest.raises(AssessmentError, match="closed"):
        rate_summons(m.dongsi_dispatcher, m.summonses["c6_police"], 4, "")
    assert not Event.objects.filter(kind=AssessmentEventKind.RATED).exists()


@pytest.mark.django_db
def test_it_refuses_a_rating_from_another_township_or_a_department(july):
    m = july
    scheme_one_third(m.district)
    with pytest.raises(AssessmentError):
        rate_summons(m.dongsi_dispatcher, m.summonses["c1_urban"], 4, "")
    with pytest.raises(AssessmentError):
        rate_summons(m.urban_officer, m.summonses["c1_urban"], 5, "")
    with pytest.raises(AssessmentError, match="1 to 5"):
        rate_summons(m.longtan_assessor, m.summonses["c1_urban"], 6, "")
    assert not Event.objects.filter(kind=AssessmentEventKind.RATED).exists()


@pytest.mark.django_db
def test_it_refuses_an_appeal_after_five_working_days(july):
    m = july
    scheme_one_third(m.district)
    rate_all(m)
    # c3 closed on Wednesday 15 July 12:00; five working days later is Wednesday 22 July 12:00.
    with (
        time_machine.travel(bj(22, 12, 1), tick=False),
        pytest.raises(AssessmentError, match="ended"),
    ):
        file_appeal(m.urban_officer, m.summonses["c3_urban"], "came", {"came": "on_time"}, "迟")
    with time_machine.travel(bj(22, 11, 59), tick=False):
        appeal = file_appeal(
            m.urban_officer, m.summonses["c3_urban"], "came", {"came": "on_time"}, "已到场"
        )
    assert Event.objects.filter(kind=AssessmentEventKind.APPEALED, summons=appeal.summons).exists()


@pytest.mark.django_db
def test_a_rejected_appeal_leaves_the_record_and_is_in_the_trail(july):
    m = july
    scheme_one_third(m.district)
    rate_all(m)
    with time_machine.travel(bj(20, 10), tick=False):
        appeal = file_appeal(
            m.urban_officer, m.summonses["c3_urban"], "came", {"came": "on_time"}, "已到场"
        )
    with pytest.raises(AssessmentError, match="district chiefs"):
        rule_on_appeal(m.police_officer, appeal, True, "同意")
    with time_machine.travel(bj(21, 10), tick=False):
        rule_on_appeal(m.chiefs_office, appeal, False, "无到场证据")
    assert record(m.summonses["c3_urban"]).total == D("6.00")
    kinds = list(Event.objects.filter(summons=appeal.summons).values_list("kind", flat=True))
    assert kinds[-2:] == [AssessmentEventKind.APPEALED, AssessmentEventKind.APPEAL_REJECTED]
    with pytest.raises(AssessmentError, match="already"):
        rule_on_appeal(m.chiefs_office, appeal, True, "改判")


@pytest.mark.django_db
def test_only_the_department_itself_may_appeal_and_only_what_the_part_allows(july):
    m = july
    scheme_one_third(m.district)
    rate_all(m)
    with time_machine.travel(bj(20, 10), tick=False):
        with pytest.raises(AssessmentError, match="officers"):
            file_appeal(m.police_officer, m.summonses["c3_urban"], "came", {"came": "on_time"}, "x")
        with pytest.raises(AssessmentError, match="fit"):
            file_appeal(m.urban_officer, m.summonses["c3_urban"], "came", {"acted": "handled"}, "x")
        with pytest.raises(AssessmentError, match="reason"):
            file_appeal(m.urban_officer, m.summonses["c3_urban"], "came", {"came": "on_time"}, " ")


@pytest.mark.django_db
def test_a_closed_period_keeps_its_scores_and_its_scheme(july, tmp_path):
    m = july
    scheme = scheme_one_third(m.district)
    rate_all(m)
    import_inspection(m, tmp_path)
    with time_machine.travel(bj(31, 18), tick=False):
        close_period(m.district_assessor, m.district, "2026-07")
    frozen = snapshot()
    assert DepartmentResult.objects.filter(period="2026-07", frozen=True).count() == 3
    with pytest.raises(AssessmentError, match="closed"):
        rate_summons(m.longtan_assessor, m.summonses["c1_urban"], 1, "改评")
    scheme.handled_points = D("50")
    with pytest.raises(ValidationError):
        scheme.full_clean()
    recompute_all()
    assert snapshot()["records"] == frozen["records"]
    assert [r for r in snapshot()["results"] if r[0] == "2026-07"] == [
        r for r in frozen["results"] if r[0] == "2026-07"
    ]
    assert check_all() == []


@pytest.mark.django_db
def test_every_score_explains_itself_down_to_the_trail(july, tmp_path):
    m = july
    scheme_one_third(m.district)
    rate_all(m)
    import_inspection(m, tmp_path)
    appeal_c3_urban(m)
    drill = explain_result(m.urban, "2026")
    assert drill["total"] == D("86.19")
    assert drill["formula"] == "1/3 × 78.56 (township evaluation) + 2/3 × 90.00 (区级检查) = 86.19"
    assert drill["township_formula"] == "314.23 / 4 = 78.56"
    assert [r["total"] for r in drill["records"]] == [
        D("100.00"),
        D("36.00"),
        D("91.43"),
        D("86.80"),
    ]
    c3 = next(r for r in drill["records"] if r["summons"] == m.summonses["c3_urban"].pk)
    assert c3["corrected_on_appeal"] is True
    kinds = [e["kind"] for e in c3["events"]]
    assert EventKind.CLOSED in kinds and AssessmentEventKind.APPEAL_UPHELD in kinds
    assert AssessmentEventKind.RATED in kinds


@pytest.mark.django_db
def test_the_township_and_department_views_split_the_scores(july):
    m = july
    scheme_one_third(m.district)
    rate_all(m)
    longtan = {r["department_id"]: r for r in township_view(m.longtan, "2026-07")}
    # 城管 in 龙潭: c1 100 and c5 91.43 → 95.715 → 95.72
    assert longtan[m.urban.pk]["score"] == D("95.72")
    assert longtan[m.urban.pk]["mean_rating"] == D("4.50")
    by_township = {r["township_id"]: r for r in department_view(m.urban, "2026-07")}
    # 城管 in 东四: c3 6.00 and c7 86.80 → 46.40; neither of its two arrivals on time
    assert by_township[m.dongsi.pk]["score"] == D("46.40")
    assert by_township[m.dongsi.pk]["on_time_rate"] == D("0.00")
    assert by_township[m.longtan.pk]["on_time_rate"] == D("100.00")


def test_equal_totals_share_a_rank_and_the_next_rank_skips():
    ranks = competition_ranks(
        [("a", D("90.00")), ("b", D("95.00")), ("c", D("90.00")), ("d", None), ("e", D("80"))]
    )
    assert ranks == {"b": 1, "a": 2, "c": 2, "e": 4, "d": None}


@pytest.mark.django_db
def test_a_bad_component_file_writes_nothing_and_names_every_bad_row(july, tmp_path):
    m = july
    scheme_one_third(m.district)
    path = tmp_path / "bad.csv"
    path.write_text(
        "department,component,period,score\n"
        "dc-cgw,inspection,2026-07,90\n"
        "dc-nowhere,inspection,2026-07,80\n"
        "dc-scjgj,inspection,2026-13,70\n"
        "dc-longtan-pcs,inspection,2026-07,120\n",
        encoding="utf-8",
    )
    report = import_component_scores(path, m.district)
    assert report.written == 0
    assert [e.split(":")[0] for e in report.errors] == ["row 3", "row 4", "row 5"]
    from whistle.assessment.models import ComponentScore

    assert not ComponentScore.objects.exists()


@pytest.mark.django_db
def test_a_rework_round_does_not_rewrite_how_late_the_first_arrival_was(july):
    from tests.fixtures_assessment import Story
    from whistle.cases.models import Case, Summons

    m = july
    scheme_one_third(m.district)
    story = Story(m.dongsi, bj(27, 8, 50), m.dongsi_dispatcher)
    (summons,) = story.whistle(bj(27, 9), m.police)
    story.event(EventKind.CHECK_IN_ACCEPTED, bj(27, 9, 45), summons)
    story.event(EventKind.RESULT, bj(27, 10), summons)
    story.event(EventKind.CHECK_OUT, bj(27, 10, 30), summons)
    story.event(EventKind.REWORK, bj(27, 14))
    # The rework's new round moves the summons' deadline; the trail keeps the first one.
    Summons.objects.filter(pk=summons.pk).update(arrive_due_at=bj(27, 14, 30))
    story.event(EventKind.CHECK_IN_ACCEPTED, bj(27, 14, 10), summons)
    story.event(EventKind.RESULT, bj(27, 15), summons)
    story.close(bj(27, 16))
    Case.objects.filter(pk=story.case.pk).update(township_rating=3)
    story.event(EventKind.EVALUATED, bj(27, 17))
    update_scores()
    assessed = record(summons)
    assert (assessed.came, assessed.late_minutes) == (Came.LATE, 15)
    assert assessed.rework_count == 1
    # The case's evaluation (3★) stands in for a rating of this summons.
    assert assessed.rating == 3
    # came 100 − 30 = 70; acted 100 − 10 = 90; how well 60: 21 + 36 + 18 = 75.00
    assert assessed.total == D("75.00")


@pytest.mark.django_db
def test_a_refusal_reads_in_chinese_by_default(july):
    m = july
    scheme_one_third(m.district)
    with translation.override("zh-hans"), pytest.raises(AssessmentError) as refused:
        rate_summons(m.dongsi_dispatcher, m.summonses["c6_police"], 4, "")
    assert str(refused.value) == "案件结案后才能对报到部门评分。"


@pytest.mark.django_db
def test_a_new_scheme_applies_from_its_month_on(july, tmp_path):
    from datetime import date

    m = july
    first = scheme_one_third(m.district)
    later = scheme_forty_percent(m.district, valid_from=date(2026, 7, 1))
    rate_all(m)
    import_inspection(m, tmp_path)
    appeal_c3_urban(m)
    # July's records are scored with the July scheme (bands): 派出所 c1 91.00.
    assert record(m.summonses["c1_police"]).scheme_id == later.pk
    assert record(m.summonses["c1_police"]).total == D("91.00")
    assert scores(m, "2026-07")["dc-longtan-pcs"] == (D("95.50"), D("86.20"), 1)
    # The year is scored month by month under each month's scheme: January to June under
    # the 1/3 scheme have no records, July to December under the 40% one hold them all, so
    # the year is July's: 派出所 86.20 leads 城管 85.24.
    year = scores(m, "2026")
    assert year["dc-longtan-pcs"] == (D("95.50"), D("86.20"), 1)
    assert year["dc-cgw"] == (D("78.11"), D("85.24"), 2)
    police = DepartmentResult.objects.get(department=m.police, period="2026")
    assert [(p["months"][0], p["months"][-1], p["scheme"], p["records"]) for p in police.parts] == [
        ("2026-01", "2026-06", first.pk, 0),
        ("2026-07", "2026-12", later.pk, 2),
    ]
    assert police.scheme_id == later.pk
    assert check_all() == []


def test_a_scheme_that_counts_a_summons_nobody_rated_as_three_stars_scores_it_so(july):
    """Counted as 3 stars (60 points) until the township rates it: 城管's c1, on time and
    handled, 0.3 × 100 + 0.4 × 100 + 0.3 × 60 = 88.00; 市场监管's c2, a resident's case the
    resident was not satisfied with, half 60 and half 0; 派出所's c4, its decline upheld, did
    not have to come and is not counted. The records keep no rating; the cells count none."""
    m, s = july, july.summonses
    scheme_one_third(m.district, unrated_stars=3)
    update_scores()
    c1 = record(s["c1_urban"])
    assert (c1.rating, c1.quality_score, c1.total) == (None, D("60.00"), D("88.00"))
    c2 = record(s["c2_market"])
    assert (c2.rating, c2.resident_satisfied, c2.quality_score) == (None, False, D("30.00"))
    c4 = record(s["c4_police"])
    assert c4.excused and (c4.rating, c4.quality_score) == (None, None)
    assert not ScoreCell.objects.filter(rating_count__gt=0).exists()
    # The township's own rating replaces the stand-in.
    with time_machine.travel(bj(7, 9), tick=False):
        rate_summons(m.longtan_assessor, s["c1_urban"], 5, "")
    update_scores()
    c1 = record(s["c1_urban"])
    assert (c1.rating, c1.quality_score, c1.total) == (5, D("100.00"), D("100.00"))
    assert check_all() == []


@pytest.mark.django_db
def test_a_scheme_cannot_start_inside_a_closed_period(july):
    from datetime import date

    from whistle.assessment.models import Scheme

    m = july
    scheme_one_third(m.district)
    with time_machine.travel(bj(1, 10, month=8), tick=False):
        close_period(m.district_assessor, m.district, "2026-06")
    too_early = Scheme(district=m.district, name="六月起新方案", valid_from=date(2026, 6, 1))
    with pytest.raises(ValidationError):
        too_early.full_clean()
    in_time = Scheme(district=m.district, name="七月起新方案", valid_from=date(2026, 7, 1))
    in_time.full_clean()


@pytest.mark.django_db
def test_component_scores_import_from_a_workbook(july, tmp_path):
    from openpyxl import Workbook

    from whistle.assessment.models import ComponentScore

    m = july
    scheme_one_third(m.district)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["department", "component", "period", "score", "note"])
    sheet.append(["dc-cgw", "inspection", "2026", 88.5, "年度检查"])
    path = tmp_path / "inspection.xlsx"
    book.save(path)
    report = import_component_scores(path, m.district)
    assert (report.written, report.errors) == (1, [])
    stored = ComponentScore.objects.get()
    assert (stored.period, stored.score, stored.source) == ("2026", D("88.50"), "年度检查")


@pytest.mark.django_db
def test_a_cancelled_summons_loses_its_record_on_recompute(july):
    from whistle.cases.models import Summons

    m = july
    scheme_one_third(m.district)
    rate_all(m)
    summons = m.summonses["c4_police"]
    Summons.objects.filter(pk=summons.pk).update(status=Summons.Status.CANCELLED)
    with translation.override("en"):
        assert f"assessment record of summons {summons.pk}: should not exist" in check_all()
    recompute_all()
    assert not SummonsAssessment.objects.filter(summons=summons).exists()
    # 派出所 keeps c1 only: 89.80.
    assert scores(m, "2026-07")["dc-longtan-pcs"][0] == D("89.80")
    assert check_all() == []


@pytest.mark.django_db
def test_the_indicators_of_a_department_and_the_whistle_rate_of_townships(july):
    from whistle.assessment.indicators import indicators, whistle_rate

    m = july
    scheme_one_third(m.district)
    rate_all(m)
    urban = indicators(m.district, "2026-07", department=m.urban)
    # 城管: c1 on time (20 min), c3 never came, c5 no obligation, c7 late (42 min).
    assert urban.records == 4
    assert urban.on_time_arrival_rate == D("33.33")  # 1 of 3
    assert (urban.mean_minutes_to_arrive, urban.p90_minutes_to_arrive) == (D("31.00"), D("42.00"))
    assert urban.mean_minutes_to_acknowledge is None  # no acknowledgements in this trail
    # Results by the deadline: c1, c5, c7 yes; c3 never acted: 3 of 4.
    assert urban.on_time_result_rate == D("75.00")
    assert urban.rework_rate == D("0.00")
    market = indicators(m.district, "2026-07", department=m.market)
    # 市场监管: c2 reworked once, c3 not: 1 of 2 handled.
    assert market.rework_rate == D("50.00")
    # 龙潭: c1, c2 whistled, c5 dispatched: 2 of 3. 东四: c3, c4, c6, c7 all whistled.
    assert whistle_rate(m.longtan, "2026-07") == D("66.67")
    assert whistle_rate(m.dongsi, "2026-07") == D("100.00")
    assert whistle_rate(m.dongsi, "2026-08") is None


@pytest.mark.django_db
def test_the_worker_sweep_brings_the_scores_up_to_date(july):
    from whistle.assessment.engine import sweep

    m = july
    scheme_one_third(m.district)
    # Seven cases, and c6's summons has a record too although it is not settled yet.
    assert sweep(bj(31, 23), batch=200) == 7
    assert SummonsAssessment.objects.count() == 9
    assert sweep(bj(31, 23), batch=200) == 0


@pytest.mark.django_db
def test_a_records_case_places_and_department_are_those_its_summons_holds(july):
    """The database checks a record's summons and scheme only (docs/assessment.md, "The
    records' keys and indexes"): its case, district, township and department must be the
    ones the summons' own checked keys hold, as every path that writes records writes them."""
    from django.db import connection
    from django.db.models.deletion import ProtectedError

    from whistle.assessment.actions import township_of

    m = july
    scheme_one_third(m.district)
    rate_all(m)
    recompute_all()
    records = list(
        SummonsAssessment.objects.select_related(
            "summons__case", "summons__whistle", "summons__department"
        )
    )
    assert len(records) == 9
    for r in records:
        summons = r.summons
        township = township_of(summons)
        assert township is not None
        assert (r.case_id, r.department_id, r.district_id, r.township_id) == (
            summons.case_id,
            summons.department_id,
            summons.department.district_id,
            township.pk,
        )
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, SummonsAssessment._meta.db_table
        )
    checked = sorted(c["columns"][0] for c in constraints.values() if c["foreign_key"])
    assert checked == ["scheme_id", "summons_id"]
    # Django still refuses to delete what a record refers to.
    with pytest.raises(ProtectedError) as refused:
        records[0].summons.department.delete()
    assert records[0] in refused.value.protected_objects


@pytest.mark.django_db
def test_a_summons_past_its_handling_deadline_and_unfinished_counts_as_not_acted(july, tmp_path):
    """派出所 ranks first in July while c6 is open. Once the sweep records c6 past its handling
    deadline, the record counts: came on time 100, acted 0 (not rated): 30 / 0.7 = 42.86;
    派出所 (89.80 + 100 + 42.86) / 3 = 77.55, total 77.55/3 + 160/3 = 79.18, now behind 城管.
    When it checks out, the record is derived as usual: 100.00."""
    m = july
    scheme_one_third(m.district)
    rate_all(m)
    import_inspection(m, tmp_path)
    c6 = m.summonses["c6_police"]
    assert not record(c6).settled
    assert scores(m, "2026-07")["dc-longtan-pcs"] == (D("94.90"), D("84.97"), 1)

    overdue = m.stories["c6"].event(EventKind.RESOLVE_OVERDUE, bj(28, 13, 1), c6)
    update_scores()
    r = record(c6)
    assert (r.settled, r.settled_at, r.came, r.acted) == (
        True,
        bj(28, 13, 1),
        Came.ON_TIME,
        Acted.ABANDONED,
    )
    assert (r.came_score, r.acted_score, r.quality_score, r.total) == (
        D("100.00"),
        D("0.00"),
        None,
        D("42.86"),
    )
    assert overdue.pk in r.event_ids
    assert r.provisional
    july_scores = scores(m, "2026-07")
    assert july_scores["dc-longtan-pcs"] == (D("77.55"), D("79.18"), 2)
    assert july_scores["dc-cgw"] == (D("71.06"), D("83.69"), 1)
    before = snapshot()
    recompute_all()
    assert snapshot() == before
    assert check_all() == []

    check_out = m.stories["c6"].event(EventKind.CHECK_OUT, bj(29, 10), c6)
    update_scores()
    r = record(c6)
    assert (r.settled_at, r.acted, r.total) == (bj(29, 10), Acted.HANDLED, D("100.00"))
    assert not r.provisional
    assert check_out.pk in r.event_ids and overdue.pk not in r.event_ids
    assert scores(m, "2026-07")["dc-longtan-pcs"] == (D("96.60"), D("85.53"), 1)
    assert check_all() == []


@pytest.mark.django_db
def test_a_summons_past_its_handling_deadline_is_no_show_only_by_its_own_rule(july):
    """Counted from the handling-overdue event, a summons that has neither arrived nor been
    recorded late for arrival is not marked "never came": that part is left out."""
    m = july
    scheme_one_third(m.district)
    story = m.stories["c6"]
    (summons,) = story.whistle(bj(28, 10), m.market)
    story.event(EventKind.RESOLVE_OVERDUE, bj(28, 14, 1), summons)
    update_scores()
    r = record(summons)
    assert (r.settled, r.came, r.came_score, r.acted, r.total) == (
        True,
        Came.PENDING,
        None,
        Acted.ABANDONED,
        D("0.00"),
    )
    assert check_all() == []


@pytest.mark.django_db
def test_a_correction_already_ruled_on_cannot_be_appealed_again(july):
    m = july
    scheme_one_third(m.district)
    rate_all(m)
    summons = m.summonses["c3_urban"]
    with time_machine.travel(bj(20, 10), tick=False):
        appeal = file_appeal(m.urban_officer, summons, "came", {"came": "on_time"}, "已到场")
    with time_machine.travel(bj(21, 10), tick=False):
        rule_on_appeal(m.chiefs_office, appeal, False, "无到场证据")
    with time_machine.travel(bj(21, 11), tick=False):
        with pytest.raises(AssessmentError, match=r"already ruled on \(rejected, 2026-07-21\)"):
            file_appeal(m.urban_officer, summons, "came", {"came": "on_time"}, "确已到场")
        with (
            translation.override("zh-hans"),
            pytest.raises(AssessmentError, match=r"不能再次提出相同的申诉。$"),
        ):
            file_appeal(m.urban_officer, summons, "came", {"came": "on_time"}, "确已到场")
        # Another correction of the record is a new appeal.
        other = file_appeal(m.urban_officer, summons, "came", {"late_minutes": 5}, "迟到5分钟")
    assert other.status == "pending"
    assert summons.appeals.count() == 2
