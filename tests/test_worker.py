"""`whistle worker`: the loop that runs the sweeps."""

from __future__ import annotations

import logging
import os
import re
import runpy
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.conftest import drop_the_connection
from whistle.notifications.management.commands import worker
from whistle.notifications.models import Notification, Status
from whistle.notifications.outbox import notify
from whistle.organisation.models import Person

# The loop closes stale connections around every pass, as it would in production; that needs
# the database and must not happen inside a test's own transaction.
pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)

calls: list[tuple[str, datetime, int]] = []
NOT_A_SWEEP = 42


def record_sweep(now: datetime, *, batch: int) -> int:
    calls.append(("record", now, batch))
    return 0


def full_twice_then_stop(now: datetime, *, batch: int) -> int:
    calls.append(("full", now, batch))
    if len(calls) < 3:
        return batch
    os.kill(os.getpid(), signal.SIGTERM)
    return 0


def broken_sweep(now: datetime, *, batch: int) -> int:
    calls.append(("broken", now, batch))
    raise RuntimeError("the deadline table is locked")


def forgetful_sweep(now: datetime, *, batch: int) -> int:
    calls.append(("forgetful", now, batch))
    return None  # type: ignore[return-value]


def drop_the_connection_once(now: datetime, *, batch: int) -> int:
    """PostgreSQL terminates the worker's backend, as a restart of the server does; the
    worker learns of it at its next query."""
    # A query first: the pass's health check of the connection is behind it.
    Notification.objects.exists()
    if not any(name == "drop" for name, _, _ in calls):
        drop_the_connection()
    calls.append(("drop", now, batch))
    return 0


def counting_sweep(now: datetime, *, batch: int) -> int:
    calls.append(("count", now, Notification.objects.count()))
    return 0


def stop_from_inside(now: datetime, *, batch: int) -> int:
    calls.append(("stop", now, batch))
    os.kill(os.getpid(), signal.SIGTERM)
    return 0


@pytest.fixture(autouse=True)
def _fresh(settings) -> Iterator[None]:
    calls.clear()
    settings.WHISTLE_WORKER_BATCH = 37
    settings.WHISTLE_WORKER_INTERVAL_SECONDS = 0.05
    yield
    calls.clear()


@pytest.fixture
def worker_log(caplog) -> Iterator[pytest.LogCaptureFixture]:
    """The worker logs under "whistle", which does not pass records up to the root logger."""
    logger = logging.getLogger("whistle")
    logger.addHandler(caplog.handler)
    caplog.handler.setLevel(logging.INFO)
    yield caplog
    logger.removeHandler(caplog.handler)


def test_once_runs_every_sweep_one_time_with_the_current_time_and_the_batch_size(settings):
    settings.WHISTLE_WORKER_SWEEPS = ["tests.test_worker.record_sweep"]
    with time_machine.travel(T0, tick=False):
        call_command("worker", "--once")
    assert calls == [("record", T0, 37)]


def test_the_sweep_option_replaces_the_configured_sweeps(settings):
    settings.WHISTLE_WORKER_SWEEPS = ["tests.test_worker.broken_sweep"]
    call_command("worker", "--once", "--sweep", "tests.test_worker.record_sweep")
    assert [name for name, _, _ in calls] == ["record"]


def test_a_missing_sweep_is_reported_at_start_up_and_nothing_runs(settings):
    settings.WHISTLE_WORKER_SWEEPS = [
        "tests.test_worker.record_sweep",
        "whistle.nowhere.sweep",
        "tests.test_worker.no_such_sweep",
        "tests.test_worker.NOT_A_SWEEP",
    ]
    with pytest.raises(CommandError) as refused:
        call_command("worker", "--once")

    message = str(refused.value)
    assert "whistle.nowhere.sweep" in message
    assert "tests.test_worker.no_such_sweep" in message
    assert "tests.test_worker.NOT_A_SWEEP" in message
    assert calls == []


def test_an_empty_list_of_sweeps_is_refused(settings):
    settings.WHISTLE_WORKER_SWEEPS = []
    with pytest.raises(CommandError, match="WHISTLE_WORKER_SWEEPS"):
        call_command("worker", "--once")


def test_a_negative_time_limit_is_refused(settings):
    settings.WHISTLE_WORKER_SWEEPS = ["tests.test_worker.record_sweep"]
    with pytest.raises(CommandError, match="--max-seconds"):
        call_command("worker", "--max-seconds", "-1")
    assert calls == []


def test_a_sweep_that_raises_is_logged_with_its_traceback_and_the_loop_goes_on(
    settings, worker_log
):
    settings.WHISTLE_WORKER_SWEEPS = [
        "tests.test_worker.broken_sweep",
        "tests.test_worker.record_sweep",
    ]
    call_command("worker", "--max-seconds", "0.5")

    names = [name for name, _, _ in calls]
    assert names.count("broken") >= 2
    assert names.count("record") == names.count("broken")
    failures = [r for r in worker_log.records if r.levelno == logging.ERROR]
    assert (
        failures[0].getMessage() == "tests.test_worker.broken_sweep failed; the worker carries on"
    )
    assert failures[0].exc_info is not None
    assert "the deadline table is locked" in str(failures[0].exc_info[1])


def test_a_sweep_that_returns_no_count_is_reported_as_failed_and_the_worker_goes_on(
    settings, worker_log
):
    settings.WHISTLE_WORKER_SWEEPS = [
        "tests.test_worker.forgetful_sweep",
        "tests.test_worker.record_sweep",
    ]
    call_command("worker", "--once")

    assert [name for name, _, _ in calls] == ["forgetful", "record"]
    [failure] = [r for r in worker_log.records if r.levelno == logging.ERROR]
    assert "returned None instead of how many it processed" in str(failure.exc_info[1])


def test_a_full_batch_is_followed_at_once_by_another_pass(settings):
    settings.WHISTLE_WORKER_INTERVAL_SECONDS = 30
    settings.WHISTLE_WORKER_SWEEPS = ["tests.test_worker.full_twice_then_stop"]
    started = time.monotonic()
    call_command("worker")
    assert len(calls) == 3
    assert time.monotonic() - started < 5


def test_sigterm_lets_the_current_sweep_finish_then_ends_the_loop_normally(settings):
    settings.WHISTLE_WORKER_SWEEPS = [
        "tests.test_worker.stop_from_inside",
        "tests.test_worker.record_sweep",
    ]
    handler_before = signal.getsignal(signal.SIGTERM)
    call_command("worker")

    assert [name for name, _, _ in calls] == ["stop"]
    assert signal.getsignal(signal.SIGTERM) is handler_before


def test_the_worker_closes_stale_connections_around_every_pass(settings, monkeypatch):
    settings.WHISTLE_WORKER_SWEEPS = ["tests.test_worker.record_sweep"]
    closed: list[int] = []
    monkeypatch.setattr(worker, "close_old_connections", lambda: closed.append(len(calls)))
    call_command("worker", "--once")
    assert closed == [0, 1]


def test_the_worker_logs_what_it_did(settings, worker_log):
    settings.WHISTLE_WORKER_SWEEPS = ["tests.test_worker.full_twice_then_stop"]
    call_command("worker")
    messages = [r.getMessage() for r in worker_log.records if r.name == "whistle.worker"]
    assert messages[0].startswith("worker started: every 0.05s, batches of 37")
    assert sum("full_twice_then_stop: 37 processed in" in m for m in messages) == 2
    assert messages[-2:] == ["SIGTERM received: stopping after the current sweep", "worker stopped"]


def test_the_worker_delivers_queued_notifications(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.WHISTLE_WORKER_SWEEPS = ["whistle.notifications.delivery.sweep"]
    officer = Person.objects.create_user(
        username="wang-jianguo", password="pw-123456", email="wang.jianguo@cgw.example"
    )
    notify(officer, kind="summons.created", subject="吹哨", body="请到场报到。", channels=["email"])

    call_command("worker", "--once")

    assert [message.to for message in mail.outbox] == [["wang.jianguo@cgw.example"]]
    assert Notification.objects.get().status == Status.SENT


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)")
def test_a_sweep_that_finds_its_connection_dropped_fails_once_and_the_next_pass_reconnects(
    settings, worker_log
):
    settings.WHISTLE_WORKER_SWEEPS = [
        "tests.test_worker.drop_the_connection_once",
        "tests.test_worker.counting_sweep",
    ]
    call_command("worker", "--max-seconds", "0.5")

    names = [name for name, _, _ in calls]
    assert names[:2] == ["drop", "drop"]  # the first count failed: nothing recorded
    assert names.count("count") == names.count("drop") - 1 >= 1
    [failure] = [r for r in worker_log.records if r.levelno == logging.ERROR]
    assert failure.getMessage() == "tests.test_worker.counting_sweep failed; the worker carries on"


def _start_worker(tmp_path: Path, *arguments: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "WHISTLE_DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
        "WHISTLE_WORKER_SWEEPS": "tests.worker_sweeps.slow_sweep",
        "WHISTLE_WORKER_INTERVAL_SECONDS": "0.05",
        "WHISTLE_TEST_TICK_LOG": str(tmp_path / "ticks.log"),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "whistle", "worker", *arguments],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _ticks(tmp_path: Path) -> list[str]:
    log = tmp_path / "ticks.log"
    return log.read_text(encoding="utf-8").split() if log.exists() else []


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_a_signal_ends_a_running_worker_after_its_sweep_with_exit_code_0(tmp_path, stop_signal):
    process = _start_worker(tmp_path)
    try:
        give_up_at = time.monotonic() + 30
        # Wait until a sweep is inside its transaction, after at least one full one.
        while not (_ticks(tmp_path).count("end") >= 1 and _ticks(tmp_path)[-1:] == ["begin"]):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < give_up_at, "the worker did not start sweeping"
            time.sleep(0.02)
        process.send_signal(stop_signal)
        _, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 0, stderr
    ticks = _ticks(tmp_path)
    assert ticks[-1] == "end"
    assert ticks.count("begin") == ticks.count("end")
    with sqlite3.connect(tmp_path / "worker.sqlite3") as database:
        [(rows,)] = database.execute("SELECT count(*) FROM worker_ticks").fetchall()
    assert rows == ticks.count("end")
    assert "worker stopped" in stderr


def test_a_worker_started_with_a_missing_sweep_exits_at_once_naming_it(tmp_path):
    process = _start_worker(tmp_path, "--sweep", "whistle.cases.no_such_module.sweep")
    try:
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 1
    assert "whistle.cases.no_such_module.sweep" in stderr
    assert "Traceback" not in stderr


def test_the_example_environment_lists_every_default_sweep_in_order(monkeypatch):
    """A deployment that copies .env.example runs the same sweeps as one that sets nothing."""
    root = Path(__file__).resolve().parent.parent
    monkeypatch.delenv("WHISTLE_WORKER_SWEEPS", raising=False)
    defaults = runpy.run_path(str(root / "whistle" / "settings.py"))["WHISTLE_WORKER_SWEEPS"]
    example = (root / ".env.example").read_text(encoding="utf-8")
    [listed] = re.findall(r"^WHISTLE_WORKER_SWEEPS=(.*)$", example, re.MULTILINE)
    assert listed.split(",") == defaults
