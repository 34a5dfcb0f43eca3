"""What if: July replayed under a proposal, nothing written.

The scenario is `july` under the one-third scheme, rated, inspected and with the appeal of
c3 upheld, as in tests/test_assessment.py: now 城管 78.56 → 86.19 (1), 派出所 94.90 → 84.97
(2), 市场监管 68.50 → 69.50 (3).

Township share 40% (inspection 60%), nothing else changed: every record scores the same,
the shares move the totals:
  城管     0.4 × 78.56 + 0.6 × 90 = 31.424 + 54 = 85.424 → 85.42 (2)
  派出所   0.4 × 94.90 + 0.6 × 80 = 37.96 + 48 = 85.96 (1)
  市场监管 0.4 × 68.50 + 0.6 × 70 = 27.40 + 42 = 69.40 (3)

Arrival limit 20 minutes instead of 30 (scheme unchanged, 2 points a minute late):
  c1 城管 checks in 09:20, due 09:20: on time, as before (no change)
  c1 派出所 09:37: 17 min late, came 66: .3 × 66 + 40 + 24 = 83.80 (was 89.80)
  c2 市场监管 15:10: 50 min late instead of 40, floor 20 as before: 51.00 (listed, same total)
  c3 市场监管 10:25: 5 min late, came 90: 27 + 32 + 24 = 83.00 (was 86.00)
  c7 城管 09:42: 22 min late, came 56: 16.8 + 40 + 24 = 80.80 (was 86.80)
  城管     (100 + 36 + 91.43 + 80.80) / 4 = 77.0575 → 77.06; 77.06/3 + 60 = 85.69 (1)
  派出所   (83.80 + 100) / 2 = 91.90; 91.90/3 + 160/3 = 83.97 (2)
  市场监管 (51 + 83) / 2 = 67.00; 67/3 + 140/3 = 69.00 (3)
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from tests.fixtures_assessment import (
    july_fixture,  # noqa: F401  (fixture)
    scheme_one_third,
)
from tests.test_assessment import appeal_c3_urban, import_inspection, rate_all, snapshot
from whistle.assessment.models import DepartmentResult, Scheme
from whistle.assessment.periods import Period
from whistle.assessment.what_if import Proposal, differences, proposed_scheme, what_if

D = Decimal
FORTY = [{"code": "inspection", "name": "区级检查", "weight": "60%"}]


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


@pytest.fixture(name="scored_july")
def scored_july_fixture(july, tmp_path):
    scheme_one_third(july.district)
    rate_all(july)
    import_inspection(july, tmp_path)
    appeal_c3_urban(july)
    return july


def by_code(result) -> dict[str, tuple]:
    return {
        row.department.code: (
            row.now.total,
            row.rank_now,
            row.proposed.total,
            row.rank_proposed,
        )
        for row in result.rows
    }


def writes(queries) -> list[str]:
    verbs = ("INSERT", "UPDATE", "DELETE", "REPLACE")
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(verbs)]


@pytest.mark.django_db
def test_a_forty_percent_share_reranks_july_as_computed_by_hand(scored_july):
    m = scored_july
    base = Scheme.objects.get(district=m.district)
    proposal = Proposal(scheme=proposed_scheme(base, {"township_share": "40%"}, FORTY))
    result = what_if(m.district, Period.parse("2026-07"), proposal)
    assert by_code(result) == {
        "dc-cgw": (D("86.19"), 1, D("85.42"), 2),
        "dc-longtan-pcs": (D("84.97"), 2, D("85.96"), 1),
        "dc-scjgj": (D("69.50"), 3, D("69.40"), 3),
    }
    assert [row.department.code for row in result.rows] == ["dc-longtan-pcs", "dc-cgw", "dc-scjgj"]
    assert {row.department.code for row in result.moved} == {"dc-cgw", "dc-longtan-pcs"}
    # Only the shares change: no summons scores differently, and the reason says so.
    assert result.changed_records == 0
    urban = next(row for row in result.rows if row.department.code == "dc-cgw")
    assert urban.places == -1
    assert urban.why() == ["same township evaluation, weighed by the proposed shares"]
    assert ("share of the township evaluation in the annual score", "1/3", "40%") in (
        result.differences
    )


@pytest.mark.django_db
def test_the_replay_writes_nothing_and_now_equals_the_stored_scores(scored_july):
    m = scored_july
    base = Scheme.objects.get(district=m.district)
    before = snapshot()
    schemes = Scheme.objects.count()
    with CaptureQueriesContext(connection) as queries:
        result = what_if(
            m.district,
            Period.parse("2026-07"),
            Proposal(
                scheme=proposed_scheme(base, {"township_share": "0.4"}, FORTY), arrive_within=20
            ),
        )
    assert writes(queries.captured_queries) == []
    assert snapshot() == before
    assert Scheme.objects.count() == schemes
    stored = DepartmentResult.objects.filter(district=m.district, period="2026-07")
    now = {row.department.code: row.now for row in result.rows}
    assert {code: (row.total, row.rank) for code, row in now.items() if row} == {
        r.department.code: (r.total, r.rank) for r in stored
    }


@pytest.mark.django_db
def test_a_twenty_minute_limit_names_the_summonses_that_come_late(scored_july):
    m = scored_july
    result = what_if(m.district, Period.parse("2026-07"), Proposal(arrive_within=20))
    assert by_code(result) == {
        "dc-cgw": (D("86.19"), 1, D("85.69"), 1),
        "dc-longtan-pcs": (D("84.97"), 2, D("83.97"), 2),
        "dc-scjgj": (D("69.50"), 3, D("69.00"), 3),
    }
    changes = {
        change.summons_id: (
            change.now["late_minutes"],
            change.proposed["came"],
            change.proposed["late_minutes"],
            change.now["total"],
            change.proposed["total"],
        )
        for row in result.rows
        for change in row.changes
    }
    s = m.summonses
    # c1 城管 arrived at 09:20, exactly 20 minutes after the whistle: still on time.
    assert changes == {
        s["c1_police"].pk: (7, "late", 17, D("89.80"), D("83.80")),
        s["c2_market"].pk: (40, "late", 50, D("51.00"), D("51.00")),
        s["c3_market"].pk: (None, "late", 5, D("86.00"), D("83.00")),
        s["c7_urban"].pk: (12, "late", 22, D("86.80"), D("80.80")),
    }
    police = next(row for row in result.rows if row.department.code == "dc-longtan-pcs")
    assert police.why() == [
        "1 summons judged differently",
        "1 arrival counts as later",
        "township evaluation 94.90 → 91.90",
    ]


@pytest.mark.django_db
def test_it_refuses_a_proposal_whose_shares_do_not_add_up(scored_july):
    base = Scheme.objects.get(district=scored_july.district)
    with pytest.raises(ValidationError, match=r"they add up to 106\.67%"):
        proposed_scheme(base, {"township_share": "40%"})
    with pytest.raises(ValidationError, match="must add up to 1"):
        proposed_scheme(base, {"weight_came": D("0.5")})
    with pytest.raises(ValidationError, match="between 1 minute and 24 hours"):
        Proposal(arrive_within=0)


@pytest.mark.django_db
def test_the_command_prints_both_rankings_and_the_changed_summonses_as_csv(scored_july):
    out = io.StringIO()
    call_command(
        "what_if",
        "--district",
        "110101",
        "--period",
        "2026-07",
        "--set",
        "township_share=40%",
        "--component",
        "inspection=60%",
        "--arrive-within",
        "20",
        "--format",
        "csv",
        "--changes",
        stdout=out,
    )
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    header = rows[0]
    ranking = {row[header.index("department code")]: row for row in rows[1:4]}
    police = ranking["dc-longtan-pcs"]
    # 0.4 × 91.90 + 48 = 84.76; 城管 0.4 × 77.06 + 54 = 84.824 → 84.82 stays ahead.
    assert (police[header.index("rank now")], police[header.index("rank proposed")]) == ("2", "2")
    assert police[header.index("total proposed")] == "84.76"
    assert ranking["dc-cgw"][header.index("total proposed")] == "84.82"
    changed = [row for row in rows[4:] if row and row[0].startswith("dc-")]
    assert sorted(row[0] for row in changed) == ["dc-cgw", "dc-longtan-pcs", "dc-scjgj", "dc-scjgj"]


@pytest.mark.django_db
def test_the_command_names_a_bad_setting_without_a_traceback(scored_july):
    with pytest.raises(CommandError, match="no setting"):
        call_command("what_if", "--district", "110101", "--period", "2026-07", "--set", "x=1")
    with pytest.raises(CommandError, match="add up to"):
        call_command(
            "what_if", "--district", "110101", "--period", "2026-07", "--set", "township_share=0.4"
        )


@pytest.mark.django_db
def test_proposed_late_bands_are_listed_in_words_among_the_differences(july):
    base = scheme_one_third(july.district)
    changes = {"late_mode": "bands", "late_bands": [[10, 10], [30, 30]], "township_share": "40%"}
    proposal = Proposal(scheme=proposed_scheme(base, changes, FORTY))
    with translation.override("en"):
        found = differences(base, proposal)
    assert (
        "late bands",
        "—",
        "up to 10 min late: 10 points off; up to 30 min late: 30 points off; later: the least "
        "points for a late arrival",
    ) in found
    assert ("deduction for lateness", "per minute late", "in bands of minutes") in found
