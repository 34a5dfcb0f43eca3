"""The incremental update (`update_scores`): what it writes after a few kinds of change to the
trail, compared each time with a full recompute from the trail, and how many statements it
takes.

The scenario is `july` (tests/fixtures_assessment.py) under the one-third scheme, rated, with
the district's inspection imported and no appeal: 派出所 84.97 (rank 1), 城管 83.69 (rank 2),
市场监管 69.50 (rank 3) in July, its quarter and its year (tests/test_assessment.py).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import elsewhere
from tests.fixtures_assessment import (
    Month,
    Story,
    bj,
    cells_by_hand,
    july_fixture,  # noqa: F401  (fixture)
    records_by_hand,
    scheme_one_third,
    stored_cells,
    stored_records,
)
from tests.test_assessment import import_inspection, rate_all, scores, snapshot
from whistle.assessment import engine
from whistle.assessment.engine import (
    SchemeBook,
    check_all,
    compute_results,
    recompute_all,
    update_scores,
)
from whistle.assessment.models import (
    DepartmentResult,
    Scheme,
    SchemeComponent,
    SchemeRevision,
    ScoreCell,
    ScoringState,
    SummonsAssessment,
)
from whistle.assessment.periods import Period
from whistle.cases.models import Event, Summons
from whistle.cases.trail import EventKind
from whistle.organisation import map_triggers

D = Decimal
PERIODS = ("2026-07", "2026-Q3", "2026")


@pytest.fixture
def rated(july, tmp_path) -> Month:
    scheme_one_third(july.district)
    rate_all(july)
    import_inspection(july, tmp_path)
    update_scores()
    return july


def same_as_a_full_recompute() -> None:
    """The stored records, cells and scores are those a recompute from nothing writes."""
    incremental = snapshot()
    SummonsAssessment.objects.all().delete()
    ScoreCell.objects.all().delete()
    DepartmentResult.objects.all().delete()
    recompute_all()
    assert snapshot() == incremental
    assert check_all() == []


def settled_on_time(m: Month, day: int) -> Summons:
    """A new whistle in 龙潭 for 城管, who comes in 20 minutes and handles it; not rated."""
    story = Story(m.longtan, bj(day, 8), m.longtan_assessor)
    (summons,) = story.whistle(bj(day, 9), m.urban)
    story.event(EventKind.CHECK_IN_ACCEPTED, bj(day, 9, 20), summons)
    story.event(EventKind.RESULT, bj(day, 11), summons)
    story.close(bj(day, 12))
    return summons


@pytest.mark.django_db
def test_a_new_record_ranks_the_departments_it_did_not_touch_again(rated):
    m = rated
    assert scores(m, "2026-07")["dc-longtan-pcs"] == (D("94.90"), D("84.97"), 1)
    settled_on_time(m, 29)
    assert update_scores() == 1
    # 城管: (100 + 6 + 91.43 + 86.80 + 100)/5 = 76.846 → 76.85; 76.85/3 + 60 = 85.6167 → 85.62.
    # 派出所's cells did not move: its score stands and only its rank does.
    expected = {
        "dc-cgw": (D("76.85"), D("85.62"), 1),
        "dc-longtan-pcs": (D("94.90"), D("84.97"), 2),
        "dc-scjgj": (D("68.50"), D("69.50"), 3),
    }
    for period in PERIODS:
        assert scores(m, period) == expected, period
    same_as_a_full_recompute()


@pytest.mark.django_db
def test_a_cancelled_summons_leaves_its_cell(rated):
    m = rated
    summons = m.summonses["c4_police"]
    # c4 is 派出所's only record in 东四: its cell goes with it.
    assert ScoreCell.objects.filter(department=m.police, township=m.dongsi).exists()
    Summons.objects.filter(pk=summons.pk).update(status=Summons.Status.CANCELLED)
    m.stories["c4"].event(EventKind.ATTACHMENT_ADDED, bj(30, 9))
    assert update_scores() == 1
    assert not SummonsAssessment.objects.filter(summons=summons).exists()
    assert not ScoreCell.objects.filter(department=m.police, township=m.dongsi).exists()
    # 派出所 keeps c1 only: 89.80; 89.80/3 + 160/3 = 83.2667 → 83.27, now behind 城管.
    assert scores(m, "2026-07")["dc-longtan-pcs"] == (D("89.80"), D("83.27"), 2)
    assert scores(m, "2026-07")["dc-cgw"][2] == 1
    same_as_a_full_recompute()


@pytest.mark.django_db
def test_a_change_that_moves_no_cell_stores_no_score(rated):
    m = rated
    # c6 is still open: its result changes its record, which counts nowhere until it settles.
    m.stories["c6"].event(EventKind.RESULT, bj(28, 11), m.summonses["c6_police"])
    with CaptureQueriesContext(connection) as queries:
        assert update_scores() == 1
    assert SummonsAssessment.objects.get(summons=m.summonses["c6_police"]).acted == "handled"
    written = [q["sql"] for q in queries.captured_queries]
    assert not [sql for sql in written if "assessment_scorecell" in sql]
    assert not [sql for sql in written if "assessment_departmentresult" in sql]
    same_as_a_full_recompute()


@pytest.mark.django_db
def test_ratings_and_appeals_keep_every_stored_number_true(rated):
    """The actions move their records' cells and scores the same way (`refresh_cases`)."""
    from tests.test_assessment import appeal_c3_urban

    m = rated
    appeal_c3_urban(m)
    assert scores(m, "2026-07")["dc-cgw"] == (D("78.56"), D("86.19"), 1)
    assert stored_records() == records_by_hand()
    assert stored_cells() == cells_by_hand()
    same_as_a_full_recompute()


@pytest.mark.django_db
def test_the_update_after_one_new_record_takes_a_fixed_number_of_statements(
    rated, django_assert_max_num_queries
):
    settled_on_time(rated, 29)
    # The scoring lock with the schemes' token, the window of new events with what the
    # stored records have seen, the trail, the summonses with their cases, the stored
    # records, the closed periods, the new record, the cell, the department's month sums, the
    # component scores, the stored scores, the changed scores, the last event read, and the
    # two savepoints of the test's transaction; the schemes were kept from the last update.
    with django_assert_max_num_queries(15):
        assert update_scores() == 1
    # With nothing new: the lock, the window, the last event read, the savepoints.
    with django_assert_max_num_queries(5):
        assert update_scores() == 0


# The schemes kept between updates ---------------------------------------------------------


def reads_schemes(queries: CaptureQueriesContext) -> bool:
    return any('FROM "assessment_scheme"' in q["sql"] for q in queries.captured_queries)


def urban_total_as_computed_afresh(m: Month) -> Decimal | None:
    rows = compute_results(m.district.pk, Period.parse("2026-07"), SchemeBook())
    (row,) = [r for r in rows if r.department_id == m.urban.pk]
    return row.total


@pytest.mark.django_db
def test_the_schemes_are_kept_until_they_change(rated):
    m = rated
    settled_on_time(m, 28)
    assert update_scores() == 1
    with CaptureQueriesContext(connection) as queries:
        settled_on_time(m, 29)
        assert update_scores() == 1
    assert not reads_schemes(queries)
    # The district now weighs the township evaluation and its inspection half and half, and
    # its scheme is in force from August: raw updates, which only the triggers see.
    Scheme.objects.filter(district=m.district).update(township_share="1/2")
    SchemeComponent.objects.filter(scheme__district=m.district).update(weight="1/2")
    settled_on_time(m, 30)
    with CaptureQueriesContext(connection) as queries:
        assert update_scores() == 1
    assert reads_schemes(queries)
    urban = scores(m, "2026-07")["dc-cgw"][1]
    assert urban == urban_total_as_computed_afresh(m)
    assert urban is not None and urban != D("85.62")
    Scheme.objects.filter(district=m.district).update(valid_from=date(2026, 8, 1))
    late = settled_on_time(m, 31)
    assert update_scores() == 1
    assert not SummonsAssessment.objects.filter(summons=late).exists()


@pytest.mark.django_db
def test_without_the_schemes_token_nothing_is_kept(rated):
    m = rated
    SchemeRevision.objects.all().delete()
    for day in (28, 29):
        settled_on_time(m, day)
        with CaptureQueriesContext(connection) as queries:
            assert update_scores() == 1
        assert reads_schemes(queries)
    map_triggers.ensure(connection)
    assert SchemeRevision.objects.count() == 1


def test_the_schemes_have_their_triggers_after_the_migrations(db):
    assert map_triggers.missing(connection, map_triggers.SCHEMES) == []


@pytest.mark.django_db(transaction=True)
def test_a_scheme_changed_by_another_connection_is_read_again(july, tmp_path):
    m = july
    scheme_one_third(m.district)
    update_scores()
    settled_on_time(m, 28)
    assert update_scores() == 1
    kept = engine._kept_book
    assert kept is not None
    elsewhere(
        lambda: SchemeComponent.objects.filter(scheme__district=m.district).update(weight="1/2")
    )
    elsewhere(lambda: Scheme.objects.filter(district=m.district).update(township_share="1/2"))
    settled_on_time(m, 29)
    with CaptureQueriesContext(connection) as queries:
        assert update_scores() == 1
    assert reads_schemes(queries)
    assert engine._kept_book is not None and engine._kept_book[0] != kept[0]
    assert scores(m, "2026-07")["dc-cgw"][1] == urban_total_as_computed_afresh(m)
    elsewhere(
        lambda: Scheme.objects.filter(district=m.district).update(valid_from=date(2026, 8, 1))
    )
    late = settled_on_time(m, 30)
    assert update_scores() == 1
    assert not SummonsAssessment.objects.filter(summons=late).exists()


# Where the window of new events starts -------------------------------------------------------


@pytest.mark.django_db
def test_a_state_set_back_is_read_from_where_it_says(rated, monkeypatch):
    """As after a restore: the state says less than this process stored last."""
    monkeypatch.setattr(engine, "OVERLAP", 0)
    assert engine._last_stored is not None and engine._last_stored > 0
    ScoringState.objects.update(last_event_id=0)
    with_events = Event.objects.values("case_id").distinct().count()
    assert update_scores() == with_events
    same_as_a_full_recompute()


@pytest.mark.django_db
def test_a_window_read_wider_than_needed_recomputes_only_what_is_new(rated, monkeypatch):
    """As when another process ran the update since: this process read less than the state
    says."""
    monkeypatch.setattr(engine, "OVERLAP", 0)
    monkeypatch.setattr(engine, "_last_stored", 0)
    settled_on_time(rated, 29)
    assert update_scores() == 1
    same_as_a_full_recompute()
