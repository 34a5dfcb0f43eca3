"""`whistle simulate`: a synthetic city with a year of history in bulk, and live traffic
through the actions; the trail it writes verifies and the assessment reads it."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import transaction

from tests.fixtures_assessment import cells_by_hand, records_by_hand, stored_cells, stored_records
from tests.fixtures_cases import (
    beijing,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from whistle.assessment.engine import check_all, recompute_all, refresh_cases
from whistle.assessment.models import DepartmentResult, Scheme, ScoreCell, SummonsAssessment
from whistle.cases.models import Case, Event, Summons, Whistle
from whistle.cases.trail import EventKind
from whistle.cases.verify import verify_database
from whistle.organisation.models import Department, Jurisdiction, Lane
from whistle.simulation import live
from whistle.simulation.city import Behaviour, build_city
from whistle.simulation.history import Year
from whistle.simulation.presets import PRESETS

# Two days after the history's last day: every course has ended.
NOW = beijing(2026, 6, 17, 9, 0)
END = "2026-06-15"
# About 50 cases over a year in one township with one lane.
TINY = ["--preset", "dongcheng", "--scale", "0.00005", "--end", END, "--seed", "7"]

pytestmark = pytest.mark.django_db


def simulate(*arguments: str) -> str:
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("simulate", *arguments, stdout=out)
    return out.getvalue()


def test_the_presets_carry_beijing_and_dongchengs_numbers():
    beijing_city, dongcheng = PRESETS["beijing"], PRESETS["dongcheng"]
    assert (beijing_city.districts, beijing_city.townships) == (16, 343)
    assert (beijing_city.communities, beijing_city.lanes) == (7_000, 50_000)
    assert (beijing_city.chiefs, beijing_city.stewards) == (14_900, 20_000)
    assert beijing_city.cases_per_year == 21_400_000
    assert (dongcheng.districts, dongcheng.townships, dongcheng.communities) == (1, 17, 180)
    # Dongcheng's lanes, people and cases are Beijing's share by townships (17 of 343).
    assert dongcheng.lanes == round(50_000 * 17 / 343)


def test_a_scaled_city_keeps_one_of_each_place_and_its_departments():
    shape = PRESETS["beijing"].scaled(0.0001)
    assert shape.districts == 1
    assert shape.townships == 1
    assert shape.communities == 1
    assert shape.departments_per_district == 40
    assert shape.cases_per_year == 2_140


def test_the_simulated_year_is_written_with_a_trail_that_verifies():
    out = simulate(*TINY)
    cases = Case.objects.count()
    assert cases == PRESETS["dongcheng"].scaled(0.00005).cases_per_year == 54
    assert Jurisdiction.objects.filter(level=Jurisdiction.Level.TOWNSHIP).count() == 1
    assert Lane.objects.count() == 1
    assert Department.objects.count() == 40
    assert Whistle.objects.exists()
    report = verify_database()
    assert report.problems == []
    assert report.cases == cases
    assert report.events == Event.objects.count() > cases * 5
    assert str(Event.objects.count()) in out


def test_the_history_lies_within_its_days_and_every_course_is_finished():
    simulate(*TINY, "--days", "30")
    first = Case.objects.order_by("reported_at").first()
    assert first is not None
    end = beijing(2026, 6, 15, 8, 0)  # 2026-06-15 00:00 UTC
    assert first.reported_at >= end - timedelta(days=30)
    assert Event.objects.order_by("-at").values_list("at", flat=True)[0] <= NOW
    assert set(Case.objects.values_list("status", flat=True)) <= {
        Case.Status.CLOSED,
        Case.Status.EVALUATED,
    }
    assert not Summons.objects.filter(status__in=Summons.OPEN_STATUSES).exists()


def test_no_event_of_the_year_falls_after_its_end():
    with time_machine.travel(NOW, tick=False), transaction.atomic():
        city = build_city(PRESETS["dongcheng"].scaled(0.00005), seed=11)
        end = beijing(2026, 6, 15, 8, 0)
        year = Year(city, start=end - timedelta(days=6), end=end, cases=300)
        courses = [course for chunk in year.courses() for course in chunk]
    # Cases were reported up to the last two days, some of them dispatched to a slow
    # department, and evaluated up to two days after their closing, were there time.
    assert max(c.case.reported_at for c in courses) > end - timedelta(days=2, hours=6)
    assert all(c.case.status == Case.Status.EVALUATED for c in courses if c.summonses)
    late = [c for c in courses if c.case.closed_at and c.case.closed_at > end - timedelta(days=2)]
    assert late
    # Every event, the evaluations of the last cases among them, falls by the year's end.
    assert max(step.at for c in courses for step in c.steps) <= end
    assert max(c.case.evaluated_at for c in late if c.case.evaluated_at) <= end


def test_a_course_that_would_run_past_the_end_is_refused_not_written():
    glacial = Behaviour("glacial", (1, 5), (600, 900), 0.0)
    with time_machine.travel(NOW, tick=False), transaction.atomic():
        city = build_city(PRESETS["dongcheng"].scaled(0.00005), seed=11)
        for departments in city.departments.values():
            for department in departments:
                department.behaviour = glacial
        end = beijing(2026, 6, 15, 8, 0)
        year = Year(city, start=end - timedelta(days=6), end=end, cases=300)
        with pytest.raises(ValueError, match="after the year's end"):
            year.write()
    assert not Case.objects.exists()


def test_the_same_seed_draws_the_same_year_and_another_seed_another():
    with time_machine.travel(NOW, tick=False), transaction.atomic():
        city = build_city(PRESETS["dongcheng"].scaled(0.00005), seed=7)
        start, end = beijing(2026, 1, 1, 8, 0), beijing(2026, 6, 15, 8, 0)

        def drawn(seed: int) -> list[tuple[object, ...]]:
            city.seed = seed
            year = Year(city, start=start, end=end, cases=40)
            return [
                (
                    c.case.reference,
                    c.case.uuid,
                    c.case.reported_at,
                    [(s.at, s.kind) for s in c.steps],
                )
                for chunk in year.courses()
                for c in chunk
            ]

        assert drawn(7) == drawn(7)
        assert drawn(7) != drawn(8)


def test_punctual_departments_are_never_late_and_the_often_absent_miss_whistles():
    with time_machine.travel(NOW, tick=False), transaction.atomic():
        city = build_city(PRESETS["dongcheng"].scaled(0.00005), seed=3)
        year = Year(city, start=beijing(2025, 6, 1, 8, 0), end=beijing(2026, 6, 1, 8, 0), cases=600)
        behaviour = {d.pk: d.behaviour.name for ds in city.departments.values() for d in ds}
        year.write()
    overdue = Event.objects.filter(kind=EventKind.ARRIVE_OVERDUE).select_related("summons")
    late = {behaviour[e.summons.department_id] for e in overdue if e.summons is not None}
    assert "punctual" not in late
    assert "often_absent" in late
    never_came = Summons.objects.filter(whistle__isnull=False, arrived_at__isnull=True)
    assert {behaviour[s.department_id] for s in never_came} <= {"slow", "often_absent"}
    assert never_came.filter(status=Summons.Status.RELEASED).count() == never_came.count() > 0


def test_it_refuses_a_second_simulated_city_in_the_same_database():
    simulate(*TINY, "--days", "10")
    with pytest.raises(CommandError):
        simulate(*TINY, "--days", "10")
    assert Jurisdiction.objects.filter(level=Jurisdiction.Level.CITY).count() == 1


def test_it_refuses_a_scale_of_zero():
    with pytest.raises(CommandError):
        simulate("--scale", "0")
    assert not Case.objects.exists()


def test_the_assessment_of_a_simulated_year_is_the_same_by_every_path():
    simulate(*TINY)

    def stored() -> tuple[list[Any], list[Any], list[Any]]:
        records = sorted(
            SummonsAssessment.objects.values_list(
                "summons_id", "came", "late_minutes", "acted", "total", "settled", "event_ids"
            )
        )
        cells = sorted(
            ScoreCell.objects.values_list(
                "department_id", "township_id", "month", "records", "total_sum", "no_show_count"
            )
        )
        results = sorted(
            DepartmentResult.objects.values_list("department_id", "period", "total", "rank")
        )
        return records, cells, results

    with time_machine.travel(NOW, tick=False):
        # Case by case, as the worker brings the scores up to date…
        refresh_cases(Case.objects.values_list("pk", flat=True))
        incremental = stored()
        # …and all at once, as after a change of scheme.
        assert recompute_all() == 0
        assert stored() == incremental
        assert check_all() == []
    records, cells, _results = incremental
    assert len(records) == Summons.objects.count() > 0
    assert {r[1] for r in records} >= {"on_time", "late"}
    assert sum(c[3] for c in cells) == len([r for r in records if r[5] and r[4] is not None])


def test_every_record_and_cell_of_a_simulated_year_is_what_its_own_trail_gives():
    simulate(*TINY)
    with time_machine.travel(NOW, tick=False):
        written = recompute_all()
    by_hand = records_by_hand()
    assert written == len(by_hand) == Summons.objects.count() > 0
    assert stored_records() == by_hand
    assert {r["came"] for r in by_hand.values()} >= {"on_time", "late"}
    assert stored_cells() == cells_by_hand() != {}
    assert check_all() == []


def test_live_traffic_plays_cases_through_the_actions(whistle_city):
    with time_machine.travel(NOW, tick=True), transaction.atomic():
        played = live.play(seed=5, hours=4, cases_per_hour=3)
    assert played.cases == Case.objects.count() > 0
    assert played.steps > played.cases * 3
    reported = Event.objects.filter(kind=EventKind.CASE_REPORTED).count()
    assert reported == played.cases
    assert Summons.objects.exists()
    assert verify_database().problems == []


def test_live_traffic_needs_the_demo_city():
    with pytest.raises(CommandError):
        simulate("--live", "--hours", "1")
    assert not Case.objects.exists()


def test_the_simulated_districts_scheme_has_an_english_name():
    with transaction.atomic():
        build_city(PRESETS["dongcheng"].scaled(0.00005), seed=7)
    (scheme,) = Scheme.objects.all()
    assert (scheme.name, scheme.name_en) == ("模拟1区考核", "Assessment of simulated district 1")
