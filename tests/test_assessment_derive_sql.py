"""The set-based derivation of records (PostgreSQL) against `derive_facts`, field for field.

The corpus: the July month of the assessment tests, and a few hundred random trails drawn
from every event kind the assessment reads (in any order, for any summons or the whole
case), with backlog pauses, upheld appeals and confirmed check-ins among them (which the SQL
leaves to Python), cancelled summonses, cases without a township, a district without a
scheme, a change of scheme in August (which counts a summons nobody rated as 3 stars) and a
closed July. The comparisons run with the SQL on one connection and on several side by side
(`workers`), and the two ways of the SQL are held to each other.
"""

from __future__ import annotations

import io
import random
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction

from tests.fixtures_assessment import bj, scheme_forty_percent, scheme_one_third
from whistle.assessment import derive_sql
from whistle.assessment.actions import close_period
from whistle.assessment.engine import RECORD_FIELDS, RELEVANT_KINDS, check_all, recompute_all
from whistle.assessment.models import (
    DepartmentResult,
    ScoreCell,
    SummonsAssessment,
)
from whistle.assessment.scoring import AssessmentEventKind
from whistle.cases.models import Case, Summons, Whistle
from whistle.cases.trail import EventKind, append_event, lock_case
from whistle.organisation.models import Department, Jurisdiction, Sector
from whistle.policies.models import WhistleKind

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the set-based derivation is PostgreSQL's"
    ),
]

# The kinds a random trail draws from, with the data each carries; those marked True name
# a summons, the others the whole case.
OWN_KINDS = [
    EventKind.CHECK_IN_ACCEPTED,
    EventKind.CHECK_IN_FLAGGED,
    EventKind.CHECK_IN_CONFIRMED,
    EventKind.DECLINED,
    EventKind.DECLINE_UPHELD,
    EventKind.DECLINE_INSISTED,
    EventKind.RELEASED,
    EventKind.RESULT,
    EventKind.CHECK_OUT,
    EventKind.ARRIVE_OVERDUE,
    EventKind.RESOLVE_OVERDUE,
    EventKind.REWORK,
    EventKind.CLOSED,
    AssessmentEventKind.RATED,
    AssessmentEventKind.APPEAL_UPHELD,
]
CASE_KINDS = [
    EventKind.REWORK,
    EventKind.CLOSED,
    EventKind.EVALUATED,
    EventKind.RESIDENT_CALLBACK,
    EventKind.RESIDENT_RATED,
    EventKind.BACKLOG,
    EventKind.BACKLOG_RESUMED,
]
# Kinds that leave their case to `derive_facts`: rarer, so that most cases take the SQL.
LEFT_TO_PYTHON = {
    EventKind.BACKLOG,
    EventKind.CHECK_IN_CONFIRMED,
    AssessmentEventKind.APPEAL_UPHELD,
}
CORRECTIONS = [
    {"came": "on_time"},
    {"came": "not_applicable"},
    {"late_minutes": 0},
    {"late_minutes": 12},
    {"acted": "handled"},
    {"acted": "decline_upheld"},
    {"rework_count": 0},
]


@pytest.fixture(
    params=[
        pytest.param(1, id="serial"),
        pytest.param(3, id="parallel", marks=pytest.mark.django_db(transaction=True)),
    ]
)
def workers(request: Any, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many connections the SQL path derives on. Side by side, the ranges are a few
    cases each, so that every worker has several; and the test runs outside a transaction,
    as the workers see only what was committed."""
    if request.param > 1:
        monkeypatch.setattr(derive_sql, "CASE_RANGE", 7)
    return int(request.param)


def test_the_corpus_draws_every_kind_the_assessment_reads():
    assert set(RELEVANT_KINDS) - {EventKind.SUMMONED} <= set(OWN_KINDS) | set(CASE_KINDS)


def build_corpus(city: Any, seed: int, cases: int) -> None:
    """Random trails in June, July and August 2026 of the small city's two townships."""
    rng = random.Random(seed)
    district = city.district
    scheme_one_third(district)
    # From August a summons nobody rated counts as 3 stars; June and July leave it out.
    scheme_forty_percent(district, valid_from=date(2026, 8, 1), unrated_stars=3)
    elsewhere = Jurisdiction.objects.create(
        level="district", code="110119", name="延庆区", parent=district.parent
    )
    sector = Sector.objects.create(code="fuzz", name="综合")
    departments = [
        city.urban_management,
        city.police,
        Department.objects.create(
            code="yq-1", name="延庆区某局", kind="functional", sector=sector, district=elsewhere
        ),
    ]
    townships = [city.longtan, city.dongsi]
    blower = city_person(city)
    for n in range(cases):
        start = datetime(2026, rng.choice([6, 7, 8]), rng.randint(1, 28), 1, tzinfo=UTC)
        start += timedelta(minutes=rng.randint(0, 600))
        fuzz_case(rng, n, start, townships, departments, blower)


def city_person(city: Any) -> Any:
    from tests.conftest import make_person
    from whistle.organisation.models import Role

    return make_person("fuzz-dispatcher", Role.DISPATCHER, jurisdiction=city.longtan)


def fuzz_case(
    rng: random.Random,
    n: int,
    start: datetime,
    townships: list[Jurisdiction],
    departments: list[Department],
    blower: Any,
) -> None:
    township = rng.choice(townships)
    no_township = rng.random() < 0.05
    case = Case.objects.create(
        source=rng.choice(["patrol", "resident", "hotline"]),
        description=f"随机案件{n}",
        lon=116.43,
        lat=39.87,
        district=township.parent,
        township=None if no_township else township,
        reported_at=start,
        status=Case.Status.FILED,
        township_rating=rng.choice([None, 3, 4, 5]),
        resident_satisfied=rng.choice([None, True, False]),
    )
    whistle = None
    if not no_township and rng.random() < 0.8:
        whistle = Whistle.objects.create(
            case=case,
            kind=WhistleKind.ROUTINE,
            township=township,
            blown_by=blower,
            blown_at=start,
        )
    at = start
    summonses = []
    with transaction.atomic():
        locked = lock_case(case.pk)
        append_event(locked, EventKind.CASE_REPORTED, at=at, new_case=True)
        for department in rng.sample(departments, rng.randint(1, 3)):
            due = at + timedelta(minutes=30) if whistle is not None else None
            summons = Summons.objects.create(
                case=case,
                whistle=whistle,
                department=department,
                summoned_at=at,
                acknowledge_due_at=at + timedelta(minutes=10),
                arrive_due_at=due,
                resolve_due_at=at + timedelta(hours=4),
            )
            data: dict[str, Any] = {}
            shape = rng.random()
            if due is not None and shape < 0.7:
                data["arrive_due_at"] = due.isoformat()
            elif shape < 0.75:
                data["arrive_due_at"] = None
            append_event(locked, EventKind.SUMMONED, summons=summons, data=data, at=at)
            summonses.append(summons)
        flagged: list[int] = []
        for _ in range(rng.randint(0, 12)):
            step = rng.choice([0, 1, 3, 5, 11, 25, 40, 90])
            at += timedelta(minutes=step, seconds=rng.randint(0, 59))
            named: Summons | None = None
            if rng.random() < 0.6:
                kind = rng.choice(OWN_KINDS)
                named = rng.choice(summonses)
            else:
                kind = rng.choice(CASE_KINDS)
            if kind in LEFT_TO_PYTHON and rng.random() < 0.75:
                continue
            event_data: dict[str, Any] = {}
            if kind == AssessmentEventKind.RATED:
                event_data = {"rating": rng.randint(1, 5), "comment": rng.choice(["", "及时"])}
            elif kind == AssessmentEventKind.APPEAL_UPHELD:
                event_data = {"correction": rng.choice(CORRECTIONS)}
            elif kind == EventKind.CHECK_IN_CONFIRMED:
                event_data = {"check_in_seq": rng.choice(flagged) if flagged else 999}
            elif kind == EventKind.BACKLOG_RESUMED:
                event_data = rng.choice([{}, {"rule": "remaining", "summonses": []}])
            event = append_event(locked, kind, summons=named, data=event_data, at=at)
            if kind == EventKind.CHECK_IN_FLAGGED:
                flagged.append(event.seq)
        if rng.random() < 0.08:
            Summons.objects.filter(pk=summonses[0].pk).update(status=Summons.Status.CANCELLED)


def snapshot() -> dict[str, Any]:
    records = {
        r["summons_id"]: r for r in SummonsAssessment.objects.values("summons_id", *RECORD_FIELDS)
    }
    cells = {
        (c["department_id"], c["township_id"], c["month"]): {
            name: value for name, value in c.items() if name != "id"
        }
        for c in ScoreCell.objects.values().order_by()
    }
    results = {
        (r["district_id"], r["department_id"], r["period"]): {
            name: value for name, value in r.items() if name not in ("id", "computed_at")
        }
        for r in DepartmentResult.objects.values().order_by()
    }
    return {"records": records, "cells": cells, "results": results}


def assert_same(sql: dict[str, Any], python: dict[str, Any]) -> None:
    for part in ("records", "cells", "results"):
        assert sql[part].keys() == python[part].keys(), part
        for key, row in python[part].items():
            assert sql[part][key] == row, (part, key)


def corrupt() -> None:
    """Stored rows the recompute must put right: a changed record, a missing one, a cell
    that should not exist."""
    first = SummonsAssessment.objects.order_by("pk").filter(month__gte=date(2026, 8, 1)).first()
    assert first is not None
    SummonsAssessment.objects.filter(pk=first.pk).update(rework_count=7, event_ids=[1])
    SummonsAssessment.objects.filter(
        pk=SummonsAssessment.objects.filter(month=date(2026, 6, 1)).order_by("-pk").values("pk")[:1]
    ).delete()
    ScoreCell.objects.filter(month=date(2026, 6, 1)).update(total_sum=1)


def test_the_sql_and_python_paths_write_the_same_records_cells_and_scores(small_city, workers):
    build_corpus(small_city, seed=2026, cases=300)
    assert recompute_all(in_sql=False) > 0
    python = snapshot()
    assert python["records"] and python["cells"] and python["results"]
    corrupt()
    recompute_all(in_sql=True, workers=workers)
    assert_same(snapshot(), python)
    assert check_all() == []

    # The other way: the SQL from nothing, then Python finds nothing to write.
    SummonsAssessment.objects.all().delete()
    ScoreCell.objects.all().delete()
    DepartmentResult.objects.all().delete()
    written = recompute_all(in_sql=True, workers=workers)
    assert written == len(python["records"])
    assert_same(snapshot(), python)
    assert recompute_all(in_sql=False) == 0
    assert recompute_all(in_sql=True, workers=workers) == 0
    assert check_all() == []


def test_a_simulated_year_is_derived_in_sql_as_in_python(workers):
    """The simulator's year, not drawn at random but as a city's history runs (arrivals on
    time and late, no-shows, whistles, departments of every habit): the SQL
    writes every record, cell and department score as the Python path does."""
    end = datetime(2026, 6, 17, 1, 0, tzinfo=UTC)
    with time_machine.travel(end, tick=False):
        call_command(
            "simulate",
            *("--preset", "dongcheng", "--scale", "0.0002", "--end", "2026-06-15"),
            *("--seed", "5"),
            stdout=io.StringIO(),
        )
        assert recompute_all(in_sql=False) > 0
        python = snapshot()
        came = {record["came"] for record in python["records"].values()}
        assert {"on_time", "late", "no_show"} <= came
        SummonsAssessment.objects.all().delete()
        ScoreCell.objects.all().delete()
        DepartmentResult.objects.all().delete()
        assert recompute_all(in_sql=True, workers=workers) == len(python["records"])
        assert_same(snapshot(), python)
        assert recompute_all(in_sql=False) == 0


def test_only_the_records_that_changed_or_are_missing_are_written(small_city, workers):
    """Stored records are updated where a value differs and inserted where missing; the
    others keep their row and the moment they were computed."""
    build_corpus(small_city, seed=5, cases=120)
    with time_machine.travel(datetime(2026, 9, 10, tzinfo=UTC), tick=False):
        recompute_all(in_sql=True, workers=workers)
    before = dict(SummonsAssessment.objects.values_list("summons_id", "computed_at"))
    rows = dict(SummonsAssessment.objects.values_list("summons_id", "pk"))
    changed, missing = sorted(before)[:2]
    right = SummonsAssessment.objects.get(summons_id=changed).rework_count
    SummonsAssessment.objects.filter(summons_id=changed).update(rework_count=right + 3)
    SummonsAssessment.objects.filter(summons_id=missing).delete()
    with time_machine.travel(datetime(2026, 9, 11, tzinfo=UTC), tick=False):
        assert recompute_all(in_sql=True, workers=workers) == 2
    after = dict(SummonsAssessment.objects.values_list("summons_id", "computed_at"))
    assert after.keys() == before.keys()
    assert {k for k in after if after[k] != before[k]} == {changed, missing}
    assert SummonsAssessment.objects.get(summons_id=changed).rework_count == right
    kept = dict(SummonsAssessment.objects.values_list("summons_id", "pk"))
    assert {k for k in kept if kept[k] != rows[k]} == {missing}


def test_a_recompute_that_finds_everything_up_to_date_writes_no_row(small_city, workers):
    """A recompute that finds the records up to date writes none of them and leaves every
    cell's row as it was; a missing record is written again."""
    build_corpus(small_city, seed=9, cases=80)
    written = recompute_all(in_sql=True, workers=workers)
    assert written > 0
    last = SummonsAssessment.objects.order_by("-pk").values_list("pk", "summons_id").first()
    assert last is not None
    cells = sorted(ScoreCell.objects.values_list("pk", "month", "records", "total_sum"))
    assert cells
    assert recompute_all(in_sql=True, workers=workers) == 0
    assert recompute_all(in_sql=True, workers=workers) == 0
    assert sorted(ScoreCell.objects.values_list("pk", "month", "records", "total_sum")) == cells
    SummonsAssessment.objects.filter(pk=last[0]).delete()
    assert recompute_all(in_sql=True, workers=workers) == 1
    assert SummonsAssessment.objects.filter(summons_id=last[1]).exists()
    assert SummonsAssessment.objects.count() == written


def test_the_corpus_covers_what_the_rules_tell_apart(small_city):
    """The corpus is not all one kind of summons: every outcome the records tell appears."""
    build_corpus(small_city, seed=2026, cases=300)
    recompute_all(in_sql=True)
    records = SummonsAssessment.objects.all()
    came = set(records.values_list("came", flat=True))
    acted = set(records.values_list("acted", flat=True))
    assert came == {"on_time", "late", "no_show", "not_applicable", "pending"}
    assert acted == {
        "handled",
        "decline_upheld",
        "decline_overruled",
        "abandoned",
        "not_applicable",
        "pending",
    }
    assert records.filter(excused=True).exists()
    assert records.filter(corrected=True).exists()
    assert records.filter(rework_count__gt=0).exists()
    assert records.filter(rating__isnull=False).exclude(rating_comment="").exists()
    assert records.filter(resident_satisfied__isnull=False).exists()
    assert records.filter(scheme__valid_from=date(2026, 8, 1)).exists()
    # Nobody rated them and no resident answered: "how well" is left out before August and
    # counts as 3 stars from then on, but never for a department that did not have to come.
    unrated = records.filter(rating__isnull=True, resident_satisfied__isnull=True)
    assert unrated.filter(month__lt=date(2026, 8, 1), quality_score__isnull=True).exists()
    august = unrated.filter(month=date(2026, 8, 1))
    assert august.filter(excused=False, quality_score=60).exists()
    assert august.filter(excused=True, quality_score__isnull=True).exists()
    assert not august.filter(excused=False, quality_score__isnull=True).exists()
    cancelled = Summons.objects.filter(status=Summons.Status.CANCELLED)
    assert cancelled.exists() and not records.filter(summons__in=cancelled).exists()
    assert not records.filter(department__code="yq-1").exists()
    assert Summons.objects.filter(department__code="yq-1").exists()
    without_township = Summons.objects.filter(whistle__isnull=True, case__township__isnull=True)
    assert without_township.exists()
    assert not records.filter(summons__in=without_township).exists()


def test_a_closed_month_keeps_its_rows_under_the_sql_path(small_city, workers):
    build_corpus(small_city, seed=7, cases=200)
    recompute_all(in_sql=False)
    from tests.conftest import make_person
    from whistle.organisation.models import Role

    assessor = make_person(
        "fuzz-assessor", Role.DISTRICT_ASSESSOR, jurisdiction=small_city.district
    )
    with time_machine.travel(bj(31, 18, month=8), tick=False):
        close_period(assessor, small_city.district, "2026-07")
    closed = snapshot()
    july = [k for k, r in closed["records"].items() if r["month"] == date(2026, 7, 1)]
    assert july
    SummonsAssessment.objects.filter(summons_id=july[0]).update(rework_count=9)
    recompute_all(in_sql=True, workers=workers)
    sql_after = snapshot()
    assert sql_after["records"][july[0]]["rework_count"] == 9
    SummonsAssessment.objects.filter(summons_id=july[0]).update(
        rework_count=closed["records"][july[0]]["rework_count"]
    )
    recompute_all(in_sql=False)
    python_after = snapshot()
    recompute_all(in_sql=True, workers=workers)
    assert_same(snapshot(), python_after)
    assert_same(python_after, closed)


def watch_threads(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The names of the threads that derive a range from now on."""
    threads: set[str] = set()
    derive = derive_sql.Derivation.derive

    def watched(self: Any, lo: int, hi: int, compute_records: Any) -> int:
        threads.add(threading.current_thread().name)
        return derive(self, lo, hi, compute_records)

    monkeypatch.setattr(derive_sql.Derivation, "derive", watched)
    return threads


@pytest.mark.django_db(transaction=True)
def test_the_parallel_path_writes_what_the_serial_one_does(small_city, monkeypatch):
    build_corpus(small_city, seed=11, cases=250)
    monkeypatch.setattr(derive_sql, "CASE_RANGE", 5)
    threads = watch_threads(monkeypatch)
    written = recompute_all(in_sql=True, workers=1)
    assert threads == {threading.current_thread().name}
    serial = snapshot()
    assert serial["records"] and serial["cells"] and serial["results"]

    SummonsAssessment.objects.all().delete()
    ScoreCell.objects.all().delete()
    DepartmentResult.objects.all().delete()
    threads.clear()
    assert recompute_all(in_sql=True, workers=4) == written
    assert threads == {"derive-0", "derive-1", "derive-2", "derive-3"}
    assert_same(snapshot(), serial)

    # Stored rows put right side by side too, and nothing left for either path to write.
    corrupt()
    assert recompute_all(in_sql=True, workers=2) == 2
    assert_same(snapshot(), serial)
    assert recompute_all(in_sql=True, workers=1) == 0
    assert recompute_all(in_sql=False) == 0
    assert check_all() == []


def test_a_recompute_inside_an_open_transaction_derives_on_its_own_connection(
    small_city, monkeypatch
):
    """Other connections would not see what the transaction wrote: no workers then."""
    build_corpus(small_city, seed=3, cases=40)
    monkeypatch.setattr(derive_sql, "CASE_RANGE", 5)
    threads = watch_threads(monkeypatch)
    assert connection.in_atomic_block
    assert recompute_all(in_sql=True, workers=4) > 0
    assert threads == {threading.current_thread().name}


def test_the_workers_setting_leaves_a_pooled_connection_to_the_recompute(monkeypatch):
    from tests.test_cache_settings import settings_read_from
    from whistle.env import ImproperSetting

    server = "postgresql://whistle@127.0.0.1:5432/whistle"
    read = settings_read_from(monkeypatch, DATABASE_URL=server, WHISTLE_ASSESSMENT_WORKERS="8")
    assert read["WHISTLE_ASSESSMENT_WORKERS"] == 8
    read = settings_read_from(monkeypatch, WHISTLE_DB_POOL="2:4")
    assert read["WHISTLE_ASSESSMENT_WORKERS"] == 3
    read = settings_read_from(monkeypatch, WHISTLE_DB_POOL="1:1")
    assert read["WHISTLE_ASSESSMENT_WORKERS"] == 1
    monkeypatch.delenv("WHISTLE_DB_POOL")
    with pytest.raises(ImproperSetting, match="WHISTLE_ASSESSMENT_WORKERS"):
        settings_read_from(monkeypatch, WHISTLE_ASSESSMENT_WORKERS="0")
