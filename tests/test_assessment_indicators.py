"""Indicators per district, township, department and category: arrival, acknowledgement,
results, closure on time, rework, whistles and the hotline; the table; `scores --indicators`.

The scenario is August 2026 in 东城区 (clock: 10 Sep 2026), written into the trail:

case  township category source    what happened
k1    龙潭     暴露垃圾 patrol    filed 03 Aug 09:30, due 13:30; whistle 09:40 → 城管 ack +5 min,
                                   check-in +20 (on time), result +60; 派出所 summoned and
                                   cancelled; check passed; closed 12:00 (on time)
k2    龙潭     暴露垃圾 hotline   reported 05 Aug 10:00, filed 20:00 (10 h), due 06 Aug 12:00;
                                   dispatched → 城管 ack +60, result 06 Aug 13:00 (after the
                                   first round's deadline 12:00; the rework moved the summons'
                                   own deadline to 07 Aug 12:00); rework; result; check passed;
                                   closed 07 Aug 09:00 (late); replied to the caller in time;
                                   caller reached: solved, satisfied
k3    龙潭     无照经营 hotline   reported 10 Aug 08:00, filed 11 Aug 09:00 (25 h), due 12 Aug
                                   18:00; on the backlog; emergency order replied late
k4    东四     无照经营 hotline   reported 12 Aug 09:00, rejected 10:00 (1 h), replied in time;
                                   caller reached: not solved, not satisfied
k5    东四     无照经营 hotline   reported 21 Aug 09:00, merged into k6, replied in time;
                                   caller not reached
k6    东四     暴露垃圾 resident  filed 20 Aug 09:10, due 20 Sep; whistle 09:20 → 派出所 ack +3,
                                   check-in +25; still open
k7    东四     无照经营 hotline   reported 25 Aug 09:00, filed 09:05 (5 min), due 26 Aug 09:05;
                                   whistle 09:10 → 城管 ack +12, check-in +40 (late), result
                                   +2 h; check passed; closed 26 Aug 09:00 (on time); reply
                                   late; caller reached: solved, not satisfied
k8    龙潭     (none)   hotline   reported 31 Jul 23:30 Beijing time: July
k9    东四     (none)   patrol    reported 01 Sep 00:00 Beijing time: September

Settled records of August (scheme 1/3): 城管 on k1, k2, k7. 派出所 on k6 is not settled (the
case is open), on k1 cancelled.

District, summonses: 3 records; arrivals k1 on time, k7 late: 1/2 = 50.00%; minutes to
acknowledge 5, 60, 12: mean 77/3 = 25.67, p90 the ⌈2.7⌉ = 3rd smallest = 60.00; to arrive
20, 40: mean 30.00, p90 the 2nd = 40.00; results by the first round's deadline k1, k7 of 3 =
66.67%; records reworked k2 of 3 = 33.33%.

District, cases (k1–k7): whistled k1, k6, k7: 3/7 = 42.86%; filed k1, k2, k3, k6, k7, closed
k1, k2, k7: 3/5 = 60.00%; due (deadline passed or closed) k1, k2, k3, k7 = 4, deferred k3 =
1, closed on time k1, k7: 2/(4 − 1) = 66.67%; checked k1, k2, k7, failed k2: 33.33%.
Hotline (tests/test_assessment_hotline.py): orders received k2, k3, k4, k5, k7 = 5; replied
by their limits k2, k4, k5: 60.00%; callers reached k2, k4, k7, saying solved k2, k7:
66.67%, satisfied k2: 33.33%; score 0.30 × 60 + 0.35 × 66.67 + 0.35 × 33.33 = 53.00.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from tests.fixtures_measures import Tale, august_fixture, bj  # noqa: F401  (fixture)
from whistle.assessment.indicators import indicator_table, indicators, whistle_rate
from whistle.assessment.measures import duration, p90_by_group
from whistle.cases.models import Case

D = Decimal
NOW = bj(9, 10, 12)

pytestmark = pytest.mark.django_db


def summons_part(i) -> tuple:
    return (
        i.records,
        i.on_time_arrival_rate,
        i.mean_minutes_to_acknowledge,
        i.p90_minutes_to_acknowledge,
        i.mean_minutes_to_arrive,
        i.p90_minutes_to_arrive,
        i.on_time_result_rate,
        i.rework_rate,
    )


def case_part(i) -> tuple:
    return (
        i.cases,
        i.whistle_rate,
        i.closure_rate,
        (i.due, i.deferred, i.closed_on_time),
        i.on_time_closure_rate,
        i.case_rework_rate,
    )


def hotline_part(h) -> tuple:
    return (h.received, h.response_rate, h.resolution_rate, h.satisfaction_rate, h.score)


def test_the_district_indicators_of_august_match_the_hand_computation(august):
    i = indicators(august.district, "2026-08", now=NOW)
    assert summons_part(i) == (
        3,
        D("50.00"),
        D("25.67"),
        D("60.00"),
        D("30.00"),
        D("40.00"),
        D("66.67"),
        D("33.33"),
    )
    assert case_part(i) == (7, D("42.86"), D("60.00"), (4, 1, 2), D("66.67"), D("33.33"))
    assert (i.filed, i.closed, i.checked, i.failed_check) == (5, 3, 3, 1)
    assert hotline_part(i.hotline) == (5, D("60.00"), D("66.67"), D("33.33"), D("53.00"))
    assert i.hotline.complete


def test_a_result_after_the_first_rounds_deadline_is_late_although_a_rework_moved_it(august):
    # k2's summons now says 07 Aug 12:00, but its first result (06 Aug 13:00) came after the
    # deadline its summons event recorded (06 Aug 12:00).
    longtan = indicators(august.district, "2026-08", township=august.longtan, now=NOW)
    assert longtan.on_time_result_rate == D("50.00")


def test_each_township_has_its_own_indicators(august):
    longtan = indicators(august.district, "2026-08", township=august.longtan, now=NOW)
    assert summons_part(longtan) == (
        2,
        D("100.00"),
        D("32.50"),
        D("60.00"),
        D("20.00"),
        D("20.00"),
        D("50.00"),
        D("50.00"),
    )
    assert case_part(longtan) == (3, D("33.33"), D("66.67"), (3, 1, 1), D("50.00"), D("50.00"))
    assert hotline_part(longtan.hotline) == (2, D("50.00"), D("100.00"), D("100.00"), D("85.00"))
    dongsi = indicators(august.district, "2026-08", township=august.dongsi, now=NOW)
    assert summons_part(dongsi) == (
        1,
        D("0.00"),
        D("12.00"),
        D("12.00"),
        D("40.00"),
        D("40.00"),
        D("100.00"),
        D("0.00"),
    )
    assert case_part(dongsi) == (4, D("50.00"), D("50.00"), (1, 0, 1), D("100.00"), D("0.00"))
    assert hotline_part(dongsi.hotline) == (3, D("66.67"), D("50.00"), D("0.00"), D("37.50"))


def test_a_department_counts_the_cases_it_was_summoned_to_but_not_a_cancelled_summons(august):
    urban = indicators(august.district, "2026-08", department=august.urban, now=NOW)
    assert urban.records == 3
    assert case_part(urban) == (3, D("66.67"), D("100.00"), (3, 0, 2), D("66.67"), D("33.33"))
    # k2 and k7: k2 replied in time, k7 late (50.00); both callers say solved (100.00), k2's
    # is satisfied (50.00): 15 + 35 + 17.5 = 67.50.
    assert hotline_part(urban.hotline) == (2, D("50.00"), D("100.00"), D("50.00"), D("67.50"))
    police = indicators(august.district, "2026-08", department=august.police, now=NOW)
    # k6 only: its summons on k6 is not settled, the one on k1 was cancelled.
    assert summons_part(police) == (0, None, None, None, None, None, None, None)
    assert case_part(police) == (1, D("100.00"), D("0.00"), (0, 0, 0), None, None)
    assert hotline_part(police.hotline) == (0, None, None, None, None)
    assert not police.hotline.complete


def test_each_category_has_its_own_indicators(august):
    garbage = indicators(august.district, "2026-08", category=august.garbage, now=NOW)
    assert garbage.records == 2
    assert case_part(garbage) == (3, D("66.67"), D("66.67"), (2, 0, 1), D("50.00"), D("50.00"))
    assert hotline_part(garbage.hotline) == (
        1,
        D("100.00"),
        D("100.00"),
        D("100.00"),
        D("100.00"),
    )
    trading = indicators(august.district, "2026-08", category=august.trading, now=NOW)
    assert trading.records == 1
    assert case_part(trading) == (4, D("25.00"), D("50.00"), (2, 1, 1), D("100.00"), D("0.00"))
    # k3, k4, k5, k7: replied in time k4, k5 (50.00); reached k4, k7, solved k7 (50.00),
    # none satisfied: 0.30 × 50 + 0.35 × 50 + 0.35 × 0 = 15 + 17.5 = 32.50.
    assert hotline_part(trading.hotline) == (4, D("50.00"), D("50.00"), D("0.00"), D("32.50"))


def test_an_open_case_becomes_due_when_its_deadline_passes(august):
    # On 25 Sep k6 (due 20 Sep, still open, not on the backlog) is due too: 2 / (5 − 1).
    later = indicators(august.district, "2026-08", now=bj(9, 25, 12))
    assert (later.due, later.deferred, later.closed_on_time) == (5, 1, 2)
    assert later.on_time_closure_rate == D("50.00")


def test_the_cases_of_a_period_are_those_reported_in_it_in_beijing_time(august):
    july = indicators(august.district, "2026-07", now=NOW)
    september = indicators(august.district, "2026-09", now=NOW)
    quarter = indicators(august.district, "2026-Q3", now=NOW)
    assert (july.cases, september.cases, quarter.cases) == (1, 1, 9)
    assert july.hotline.received == 1
    assert whistle_rate(august.longtan, "2026-08") == D("33.33")


def test_the_indicators_take_one_scope_at_most(august):
    with pytest.raises(ValueError):
        indicators(august.district, "2026-08", township=august.longtan, department=august.urban)


def test_the_table_lists_the_district_townships_departments_and_categories(august):
    with CaptureQueriesContext(connection) as queries:
        rows = indicator_table(august.district, "2026-08", now=NOW)
    labels = [(r.dimension, r.code) for r in rows]
    assert labels == [
        ("district", "110101"),
        ("township", "110101006"),
        ("township", "110101015"),
        ("department", "dc-cgw"),
        ("department", "dc-longtan-pcs"),
        ("category", "0104"),
        ("category", "0701"),
    ]
    by_code = {r.code: r.indicators for r in rows}
    assert by_code["110101"] == indicators(august.district, "2026-08", now=NOW)
    assert by_code["110101015"] == indicators(
        august.district, "2026-08", township=august.longtan, now=NOW
    )
    assert by_code["dc-cgw"] == indicators(
        august.district, "2026-08", department=august.urban, now=NOW
    )
    assert by_code["0701"] == indicators(
        august.district, "2026-08", category=august.trading, now=NOW
    )
    first = len(queries)
    # More cases, townships and departments add rows, not queries.
    for n in range(3):
        Tale(august.dongsi, bj(8, 28, 9 + n), category=august.garbage).file(
            bj(8, 28, 10 + n), due=bj(8, 29, 10)
        )
    with CaptureQueriesContext(connection) as again:
        indicator_table(august.district, "2026-08", now=NOW)
    assert len(again) == first <= 30


def test_the_90th_percentile_is_the_nearest_rank_computed_in_the_database(small_city):
    # 10 cases in 龙潭 filed 1…10 minutes after the report: the 9th smallest is 9 minutes.
    # 11 in 东四, 1…11 minutes: ⌈9.9⌉ = the 10th.
    start = bj(8, 3, 9)
    for township, count in ((small_city.longtan, 10), (small_city.dongsi, 11)):
        for minutes in range(count, 0, -1):
            tale = Tale(township, start)
            tale.file(start + timedelta(minutes=minutes), due=start + timedelta(days=1))
    found = p90_by_group(Case.objects.all(), duration("filed_at", "reported_at"), "township_id")
    assert found == {
        small_city.longtan.pk: timedelta(minutes=9),
        small_city.dongsi.pk: timedelta(minutes=10),
    }
    overall = p90_by_group(Case.objects.all(), duration("filed_at", "reported_at"), None)
    # 21 values: ⌈18.9⌉ = the 19th smallest of 1,1,2,2,…,10,10,11 is 10 minutes.
    assert overall == {None: timedelta(minutes=10)}


def run(*args: str) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_scores_prints_the_indicators_table_as_csv(august, time_machine):
    time_machine.move_to(NOW, tick=False)
    text = run(
        "scores", "--period", "2026-08", "--district", "110101", "--indicators", "--format", "csv"
    )
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert header[:5] == ["period", "district", "level", "code", "name"]
    district = dict(zip(header, rows[1], strict=True))
    assert district["level"] == "district" and district["code"] == "110101"
    assert district["on-time arrival rate %"] == "50.00"
    assert district["p90 minutes to acknowledge"] == "60.00"
    assert district["whistle rate %"] == "42.86"
    assert district["on-time closure rate %"] == "66.67"
    assert district["rework rate %"] == "33.33"
    assert district["hotline score"] == "53.00"
    assert [r[3] for r in rows[1:]] == [
        "110101",
        "110101006",
        "110101015",
        "dc-cgw",
        "dc-longtan-pcs",
        "0104",
        "0701",
    ]
    police = dict(zip(header, rows[5], strict=True))
    assert police["on-time arrival rate %"] == "" and police["cases reported"] == "1"


def test_scores_writes_the_indicators_to_a_workbook_in_chinese(august, tmp_path, time_machine):
    from openpyxl import load_workbook

    time_machine.move_to(NOW, tick=False)
    path = tmp_path / "indicators.xlsx"
    with translation.override("zh-hans"):
        call_command(
            "scores",
            "--period",
            "2026-08",
            "--indicators",
            "--format",
            "xlsx",
            "--output",
            str(path),
            stdout=io.StringIO(),
        )
    sheet = load_workbook(path).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert "按期结案率 %" in rows[0]
    assert rows[1][3] == "110101" and rows[1][2] == "区"
    assert rows[1][rows[0].index("按期结案率 %")] == pytest.approx(66.67)
