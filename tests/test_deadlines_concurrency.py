"""The deadline sweep under several real worker processes, and under SIGKILL, on PostgreSQL.

Each test fills the test database with thousands of summonses whose acknowledgement and
arrival are both overdue (or of backlog cases whose review date has come), runs `whistle
worker --sweep whistle.cases.deadlines.sweep` in subprocesses against it, and counts what was
recorded: every overdue, escalation and backlog review exactly once, every notification once,
every case's hash chain intact.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from tests.fixtures_deadlines import SweepCity, build_sweep_city, person
from whistle.cases import deadlines
from whistle.cases.deadlines import next_check_for, sweep
from whistle.cases.models import Case, Event, Summons, Whistle
from whistle.cases.trail import EventKind, compute_hash, event_content
from whistle.notifications.models import Channel, Notification
from whistle.organisation.models import Department, Role
from whistle.policies.models import WhistleKind

ON_POSTGRES = "postgresql" in str(settings.DATABASES["default"]["ENGINE"])
REPO = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL)"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def city(transactional_db) -> SweepCity:
    return build_sweep_city()


@pytest.fixture
def police(city) -> Department:
    department = Department.objects.create(
        code="dc-longtan-pcs",
        name="龙潭派出所",
        kind="dispatched",
        sector=city.department.sector,
        district=city.district,
    )
    person("zhou-officer", "周警官", Role.DEPARTMENT_OFFICER, department=department)
    return department


def overdue_summonses(city: SweepCity, departments: list[Department], cases: int) -> int:
    """`cases` whistles, each summoning every department 40 minutes ago. Neither the
    acknowledgement (due after 10 minutes) nor the arrival (30) has come: two overdue
    obligations per summons, and an escalation to the township."""
    now = timezone.now()
    summoned = now - timedelta(minutes=40)
    made = Case.objects.bulk_create(
        Case(
            source=Case.Source.STEWARD,
            status=Case.Status.WHISTLED,
            description=f"井盖缺失 {n}",
            lon=116.432,
            lat=39.873,
            district=city.district,
            township=city.township,
            reported_at=summoned,
        )
        for n in range(cases)
    )
    whistles = Whistle.objects.bulk_create(
        Whistle(
            case=case,
            kind=WhistleKind.ROUTINE,
            township=city.township,
            blown_by=city.dispatcher,
            blown_at=summoned,
        )
        for case in made
    )
    summonses = []
    for whistle in whistles:
        for department in departments:
            summons = Summons(
                case=whistle.case,
                whistle=whistle,
                department=department,
                summoned_at=summoned,
                acknowledge_due_at=summoned + timedelta(minutes=10),
                arrive_due_at=summoned + timedelta(minutes=30),
                resolve_due_at=summoned + timedelta(hours=4),
            )
            summons.next_check_at = next_check_for(summons, now, policy=city.policy)
            summonses.append(summons)
    Summons.objects.bulk_create(summonses, batch_size=2000)
    return len(summonses)


def database_url() -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "")
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgresql://{user}{password}@{host}{port}/{db['NAME']}"


def start_worker(log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "WHISTLE_WORKER_INTERVAL_SECONDS": "0.2",
        "WHISTLE_WORKER_BATCH": "200",
        "WHISTLE_LOG_LEVEL": "INFO",
        # As in production: no query log kept in memory.
        "WHISTLE_DEBUG": "0",
        "WHISTLE_SECRET_KEY": "deadline-sweep-concurrency-test-only",
    }
    command = [sys.executable, "-m", "whistle", "worker"]
    command += ["--sweep", "whistle.cases.deadlines.sweep", "--max-seconds", "900"]
    with log.open("ab") as output:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=output)


def due_count() -> int:
    return Summons.objects.filter(next_check_at__lte=timezone.now()).count()


def wait_until_idle(workers: list[subprocess.Popen], timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while due_count():
        assert time.monotonic() < deadline, "the workers did not finish in time"
        assert all(w.poll() is None for w in workers), "a worker exited early"
        time.sleep(0.2)


def stop(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        worker.wait(timeout=30)


def duplicates() -> list[dict]:
    return list(
        Event.objects.filter(summons__isnull=False)
        .values("summons_id", "kind", "data__level")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )


def every_chain_is_valid() -> bool:
    previous: dict[int, str] = {}
    rows = Event.objects.select_related("case", "summons").order_by("case_id", "seq")
    for event in rows.iterator(chunk_size=2000):
        prev_hash = previous.get(event.case_id, "0" * 64)
        content = event_content(
            case_uuid=str(event.case.uuid),
            seq=event.seq,
            at=event.at,
            kind=event.kind,
            actor_id=event.actor_id,
            actor_role=event.actor_role,
            summons_uuid=str(event.summons.uuid) if event.summons else None,
            data=event.data,
            lon=event.lon,
            lat=event.lat,
        )
        if event.prev_hash != prev_hash or event.hash != compute_hash(content, prev_hash):
            return False
        previous[event.case_id] = event.hash
    return True


def assert_each_recorded_exactly_once(summonses: int) -> None:
    kinds = Counter(Event.objects.values_list("kind", flat=True))
    assert kinds == {
        EventKind.ACKNOWLEDGE_OVERDUE: summonses,
        EventKind.ARRIVE_OVERDUE: summonses,
        EventKind.ESCALATED: summonses,
    }
    assert duplicates() == []
    for name in ("acknowledge_overdue_at", "arrive_overdue_at", "escalated_to_township_at"):
        assert not Summons.objects.filter(**{f"{name}__isnull": True}).exists(), name
    inbox = Notification.objects.filter(channel=Channel.INBOX)
    # One entry per message, shared by its audience: each overdue by the summoned
    # department's people, each escalation by the township's (never one twice).
    overdue = inbox.filter(kind__in=[EventKind.ACKNOWLEDGE_OVERDUE, EventKind.ARRIVE_OVERDUE])
    assert overdue.count() == 2 * summonses
    assert not overdue.filter(audience__isnull=True).exists()
    assert inbox.filter(kind=EventKind.ESCALATED).count() == summonses
    assert not inbox.values("audience", "dedupe_key").annotate(n=Count("id")).filter(n__gt=1)
    assert every_chain_is_valid()


def test_two_workers_record_10_000_overdue_obligations_each_exactly_once(city, police, tmp_path):
    summonses = overdue_summonses(city, [city.department, police], cases=2500)
    assert summonses == 5000  # with 10,000 overdue obligations
    assert due_count() == summonses
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    workers = [start_worker(log) for log in logs]
    try:
        wait_until_idle(workers)
    finally:
        stop(workers)
    assert_each_recorded_exactly_once(summonses)
    # Both processes did part of the work.
    for log in logs:
        assert "whistle.cases.deadlines.sweep:" in log.read_text(), log.read_text()[-2000:]


def test_a_worker_killed_mid_run_and_restarted_loses_and_repeats_nothing(city, police, tmp_path):
    total = overdue_summonses(city, [city.department, police], cases=1000)
    log = tmp_path / "worker.log"
    first = start_worker(log)
    try:
        deadline = time.monotonic() + 60
        while Event.objects.count() < 600:
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.02)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)

    # Right after the kill: every summons is either fully recorded or not touched at all.
    recorded = Summons.objects.filter(arrive_overdue_at__isnull=False)
    assert 0 < recorded.count() < total
    assert Summons.objects.filter(acknowledge_overdue_at__isnull=False).count() == recorded.count()
    for kind in (EventKind.ACKNOWLEDGE_OVERDUE, EventKind.ARRIVE_OVERDUE, EventKind.ESCALATED):
        touched = Event.objects.filter(kind=kind).values_list("summons_id", flat=True)
        assert sorted(touched) == sorted(recorded.values_list("pk", flat=True)), kind
    assert duplicates() == []

    workers = [start_worker(tmp_path / "worker-2.log"), start_worker(tmp_path / "worker-3.log")]
    try:
        wait_until_idle(workers)
    finally:
        stop(workers)
    assert_each_recorded_exactly_once(total)


def backlog_cases_due_for_review(city: SweepCity, cases: int) -> None:
    """`cases` cases on the backlog since a week ago, whose review reminder is due now."""
    now = timezone.now()
    Case.objects.bulk_create(
        Case(
            source=Case.Source.STEWARD,
            status=Case.Status.BACKLOG,
            description=f"违建待拆除 {n}",
            lon=116.432,
            lat=39.873,
            district=city.district,
            township=city.township,
            reported_at=now - timedelta(days=8),
            backlog_reason="需区里统一组织拆除",
            backlog_since=now - timedelta(days=7),
            backlog_review_on=timezone.localdate(now),
            backlog_review_reminder_at=now - timedelta(minutes=1),
        )
        for n in range(cases)
    )


def test_two_workers_remind_of_each_backlog_review_exactly_once(city, tmp_path):
    cases = 3000
    backlog_cases_due_for_review(city, cases)
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    workers = [start_worker(log) for log in logs]
    try:
        deadline = time.monotonic() + 600
        while Case.objects.filter(backlog_review_reminder_at__isnull=False).exists():
            assert time.monotonic() < deadline, "the workers did not finish in time"
            assert all(w.poll() is None for w in workers), "a worker exited early"
            time.sleep(0.2)
    finally:
        stop(workers)
    reviews = Event.objects.filter(kind=EventKind.BACKLOG_REVIEW_DUE)
    assert reviews.count() == cases
    assert reviews.values("case_id").distinct().count() == cases
    # The township's dispatcher and chief of lanes hear of each, once: one entry they share.
    told = Notification.objects.filter(kind=EventKind.BACKLOG_REVIEW_DUE, channel=Channel.INBOX)
    assert told.count() == cases
    assert set(told.values_list("audience", flat=True)) == {f"township-desk:{city.township.pk}"}
    assert not told.values("audience", "dedupe_key").annotate(n=Count("id")).filter(n__gt=1)
    assert every_chain_is_valid()
    for log in logs:
        assert "whistle.cases.deadlines.sweep:" in log.read_text(), log.read_text()[-2000:]


def _hold_case_lock(case_id: int, locked: threading.Event, release: threading.Event) -> None:
    try:
        with transaction.atomic():
            Case.objects.select_for_update().get(pk=case_id)
            locked.set()
            release.wait(10)
    finally:
        connection.close()


def test_a_busy_case_is_skipped_without_waiting_and_swept_once_released(city):
    overdue_summonses(city, [city.department], cases=1)
    summons = Summons.objects.get()
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_case_lock, args=(summons.case_id, locked, release))
    holder.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        assert sweep(timezone.now(), batch=10) == 0
        assert time.monotonic() - started < 2
        summons.refresh_from_db()
        assert summons.arrive_overdue_at is None
    finally:
        release.set()
        holder.join(10)
    assert sweep(timezone.now(), batch=10) == 1
    assert Event.objects.filter(kind=EventKind.ARRIVE_OVERDUE, summons=summons).count() == 1
    assert Event.objects.filter(kind=EventKind.ACKNOWLEDGE_OVERDUE, summons=summons).count() == 1


def test_one_pass_in_two_lanes_has_two_chunks_in_flight_and_records_each_once(
    city, police, monkeypatch, settings
):
    """A pass shares its rows between two lanes (threads with connections of their own):
    both hold a claimed chunk at the same time, and what they record together is what one
    transaction after another would: each overdue once, every chain intact."""
    settings.WHISTLE_SWEEP_LANES = 2
    summonses = overdue_summonses(city, [city.department, police], cases=300)
    both_claimed = threading.Barrier(2, timeout=20)
    threads: set[str] = set()
    handle = deadlines._handle

    def meeting(rows, context, handler):
        if rows:
            threads.add(threading.current_thread().name)
            # Each lane waits, its chunk claimed and locked, until the other has one too.
            both_claimed.wait()
        return handle(rows, context, handler)

    monkeypatch.setattr(deadlines, "_handle", meeting)
    assert deadlines.sweep_lanes(600) == 2
    monkeypatch.setattr(deadlines, "CHUNK", 300)
    assert sweep(timezone.now(), batch=600) == summonses
    assert len(threads) == 2
    assert due_count() == 0
    assert_each_recorded_exactly_once(summonses)


def test_a_lane_whose_chunk_fails_leaves_its_rows_due_and_the_other_lanes_written(
    city, monkeypatch, settings
):
    """A chunk is all or nothing in its own lane: a lane's failure rolls back its chunk and
    retries its rows one by one (here failing again), while the other lane's chunk stays."""
    settings.WHISTLE_SWEEP_LANES = 2
    overdue_summonses(city, [city.department], cases=200)
    both_claimed = threading.Barrier(2, timeout=20)
    failing: list[str] = []
    handle = deadlines._handle

    def one_fails(rows, context, handler):
        if len(rows) > 1:
            both_claimed.wait()
            if not failing:
                failing.append(threading.current_thread().name)
        if rows and threading.current_thread().name in failing:
            raise RuntimeError("the chunk fails")
        return handle(rows, context, handler)

    monkeypatch.setattr(deadlines, "_handle", one_fails)
    assert sweep(timezone.now(), batch=200) == 100
    assert due_count() == 100
    assert Event.objects.filter(kind=EventKind.ARRIVE_OVERDUE).count() == 100
    assert duplicates() == []
    assert every_chain_is_valid()


def test_a_pass_inside_a_transaction_or_on_one_lane_keeps_to_the_calling_thread(city, settings):
    settings.WHISTLE_SWEEP_LANES = 2
    assert deadlines.sweep_lanes(200) == 2
    # Each lane's chunk would be under the smallest worth a lane.
    assert deadlines.sweep_lanes(60) == 1
    with transaction.atomic():
        # Other connections could not see what this transaction has not committed.
        assert deadlines.sweep_lanes(200) == 1
    settings.WHISTLE_SWEEP_LANES = 1
    assert deadlines.sweep_lanes(200) == 1
