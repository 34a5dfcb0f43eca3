"""Ratings, appeals and the incremental update running at the same time (PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.db import connection, transaction

from tests.fixtures_assessment import (
    bj,
    july_fixture,  # noqa: F401  (fixture)
    scheme_one_third,
)
from whistle.assessment.actions import rate_summons
from whistle.assessment.engine import check_all, update_scores
from whistle.assessment.models import ScoreCell, SummonsAssessment
from whistle.cases.trail import EventKind, append_event, lock_case

ON_POSTGRES = "postgresql" in str(settings.DATABASES["default"]["ENGINE"])

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL)"),
    pytest.mark.django_db(transaction=True),
]


def in_threads(*jobs: Callable[[], None]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(len(jobs))

    def run(job: Callable[[], None]) -> None:
        try:
            start.wait()
            job()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a writer is stuck (deadlock?)"
    return errors


def test_concurrent_ratings_and_updates_count_every_record_once(july):
    m = july
    scheme_one_third(m.district)
    update_scores()
    s = m.summonses

    def rate(assessor, summons, stars):
        def job():
            # Re-rating moves the record between values many times, widening the window in
            # which an unserialised writer would move a stale contribution.
            # One moment for all: c1's two summonses share one trail, which never goes back.
            for n in range(8):
                rate_summons(assessor, summons, 1 + (n + stars) % 5, "", now=bj(25, 10))
            rate_summons(assessor, summons, stars, "", now=bj(25, 10))

        return job

    def updates():
        for _ in range(15):
            update_scores()

    def case_actions():
        # What the case actions do meanwhile: events the scoring learns of only by reading
        # the trail (here reworks of c7, each costing 城管 10 points). The clock is one for
        # every thread, so these are appended under the shared clock, not by travelling it.
        for n in range(6):
            with transaction.atomic():
                case = lock_case(m.stories["c7"].case.pk)
                append_event(case, EventKind.REWORK, at=bj(24, 12, n))

    with time_machine.travel(bj(25, 11), tick=False):
        errors = in_threads(
            rate(m.longtan_assessor, s["c1_urban"], 5),
            rate(m.longtan_assessor, s["c1_police"], 4),
            rate(m.longtan_assessor, s["c5_urban"], 4),
            case_actions,
            updates,
            updates,
            updates,
        )
    assert errors == []
    update_scores()
    assert check_all() == []
    # 城管 holds four settled records (c1, c5 in 龙潭; c3, c7 in 东四), each counted once.
    cells = ScoreCell.objects.filter(department=m.urban)
    assert sum(c.records for c in cells) == 4
    assert SummonsAssessment.objects.get(summons=s["c1_urban"]).total == Decimal("100.00")
    assert SummonsAssessment.objects.get(summons=s["c7_urban"]).rework_count == 6
