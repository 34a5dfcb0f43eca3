"""Faults the trail must survive: a worker killed with SIGKILL while it delivers, several
processes writing at once (SQLite's single writer), PostgreSQL's backends terminated under
load, and PostgreSQL itself restarted under load (on a cluster the test makes for itself).

The processes are real (`whistle worker`, `python -m tests.fault_actions`). On PostgreSQL they
reach the test database itself; on SQLite, whose test database lives in this process's
memory, `shared_database` copies it to a file for them and copies the file back afterwards,
so that the assertions read what the processes wrote.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from tests.fixtures_cases import (
    WhistleCity,
    officer_on_site,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from whistle.cases.models import Case, Event, Summons
from whistle.cases.trail import EventKind
from whistle.cases.verify import verify_database
from whistle.notifications.models import Notification, Status, WebhookEndpoint
from whistle.notifications.outbox import notify_webhooks

REPO = Path(__file__).resolve().parents[1]
ON_POSTGRES = connection.vendor == "postgresql"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


# Processes against the test database ------------------------------------------------------


def _postgres_url() -> str:
    from urllib.parse import quote

    db = connection.settings_dict
    user = quote(db["USER"] or "")
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgresql://{user}{password}@{host}{port}/{db['NAME']}"


@contextmanager
def shared_database(tmp_path: Path) -> Iterator[str]:
    """The DATABASE_URL other processes use to reach what this test wrote."""
    if connection.vendor == "postgresql":
        yield _postgres_url()
        return
    file = tmp_path / "shared.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(file) as copy:
        connection.connection.backup(copy)
    try:
        yield f"sqlite:///{file}"
    finally:
        with sqlite3.connect(file) as copy:
            copy.backup(connection.connection)


def environment(url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "WHISTLE_DEBUG": "0",
        "WHISTLE_SECRET_KEY": "fault-tests-only",
        "WHISTLE_LOG_LEVEL": "INFO",
        **extra,
    }


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as output:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=output)


def start_worker(
    url: str, log: Path, sweep: str, max_seconds: int = 300, **extra: str
) -> subprocess.Popen:
    env = environment(url, WHISTLE_WORKER_INTERVAL_SECONDS="0.1", WHISTLE_WORKER_BATCH="5", **extra)
    command = [sys.executable, "-m", "whistle", "worker", "--sweep", sweep]
    return start([*command, "--max-seconds", str(max_seconds)], env, log)


def wait_for(condition: Any, what: Any, timeout: float = 300.0) -> None:
    """Wait for the condition; `what` (text, or a function giving it, such as a log's
    reader) says what was waited for. The machine may be busy with other work: generous."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what() if callable(what) else what
        time.sleep(0.05)


def terminate(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)


# A webhook receiver on the loopback ------------------------------------------------------


class Sink:
    """Records the delivery id of every POST it receives, answering each slowly, so that a
    worker can be killed with deliveries in flight."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.received: list[str] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                sink.received.append(str(self.headers.get("X-Whistle-Delivery")))
                time.sleep(sink.delay)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,))
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/whistle"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def sink(monkeypatch) -> Iterator[Sink]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    receiver = Sink(delay=0.3)
    yield receiver
    receiver.close()


def test_a_worker_killed_while_delivering_sends_each_notification_at_least_once_and_records_it_once(
    db, sink, tmp_path
):
    WebhookEndpoint.objects.create(name="区网格化中心", url=sink.url)
    for n in range(12):
        notify_webhooks("summons.overdue", {"summons": n}, f"summons:{n}:overdue")
    queued = set(map(str, Notification.objects.values_list("uuid", flat=True)))
    assert len(queued) == 12
    log = tmp_path / "worker.log"
    sweep = "whistle.notifications.delivery.sweep"
    with shared_database(tmp_path) as url:
        first = start_worker(url, log, sweep)
        try:
            # Killed while the receiver holds a request: sent, but its outcome not written.
            wait_for(lambda: len(sink.received) >= 4, log.read_text)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
        at_the_kill = list(sink.received)
        if connection.vendor == "postgresql":
            taken = Notification.objects.filter(status=Status.SENDING)
            # The lease (30 seconds at least) passes: moved, not waited for.
            assert taken.update(next_attempt_at=timezone.now() - timedelta(seconds=1)) >= 1
        else:
            with sqlite3.connect(url.removeprefix("sqlite:///")) as database:
                assert (
                    database.execute(
                        "UPDATE notifications_notification SET next_attempt_at = ? "
                        "WHERE status = 'sending'",
                        [(timezone.now() - timedelta(seconds=1)).isoformat(sep=" ")[:26]],
                    ).rowcount
                    >= 1
                )
        second = start_worker(url, tmp_path / "worker-2.log", sweep)
        try:
            wait_for(lambda: set(sink.received) >= queued, (tmp_path / "worker-2.log").read_text)
            time.sleep(1.0)  # the last outcomes written
        finally:
            terminate(second)
    # Every notification reached the receiver at least once; only those in flight at the
    # kill came twice, and the receiver tells them apart by their delivery id.
    assert set(sink.received) == queued
    twice = [uuid for uuid, n in Counter(sink.received).items() if n > 1]
    assert set(twice) <= set(at_the_kill)
    # Each is one row, recorded sent once.
    rows = Notification.objects.all()
    assert rows.count() == 12
    assert set(rows.values_list("status", flat=True)) == {Status.SENT}


# Several processes writing at once -------------------------------------------------------


def on_site_summons(city: WhistleCity) -> Summons:
    """Urban management's summons of a case whistled to it and the police, its officer on
    site."""
    _case, summons = officer_on_site(city, departments=[city.urban, city.police])
    return summons


def run_writers(
    city: WhistleCity, summons: Summons, url: str, tmp_path: Path, processes: int, steps: int
) -> list[subprocess.Popen[Any]]:
    writers = []
    for n in range(processes):
        plan = tmp_path / f"plan-{n}.json"
        plan.write_text(
            json.dumps(
                {
                    "name": f"进程{n}",
                    "officer": city.urban_officer.pk,
                    "steward": city.steward.pk,
                    "summons": summons.pk,
                    "steps": steps,
                    "out": str(tmp_path / f"out-{n}.json"),
                }
            )
        )
        command = [sys.executable, "-m", "tests.fault_actions", str(plan)]
        writers.append(start(command, environment(url), tmp_path / f"writer-{n}.log"))
    return writers


def results(tmp_path: Path, processes: int) -> list[dict[str, Any]]:
    return [json.loads((tmp_path / f"out-{n}.json").read_text()) for n in range(processes)]


def test_several_processes_writing_at_once_lose_nothing_and_every_trail_verifies(
    whistle_city, tmp_path
):
    summons = on_site_summons(whistle_city)
    before = Event.objects.filter(case_id=summons.case_id).count()
    cases_before = Case.objects.count()
    processes, steps = 4, 12
    with shared_database(tmp_path) as url:
        writers = run_writers(whistle_city, summons, url, tmp_path, processes, steps)
        for writer in writers:
            writer.wait(timeout=300)
    logs = "".join((tmp_path / f"writer-{n}.log").read_text() for n in range(processes))
    assert [w.returncode for w in writers] == [0] * processes, logs[-3000:]
    done = results(tmp_path, processes)
    # SQLite's writers wait for each other (IMMEDIATE transactions, busy timeout): none
    # failed, none had to be tried again.
    assert [r["errors"] for r in done] == [[]] * processes
    assert sum(r["done"] for r in done) == processes * steps
    progress = Event.objects.filter(case_id=summons.case_id, kind=EventKind.PROGRESS)
    assert progress.count() == processes * steps // 2
    assert Event.objects.filter(case_id=summons.case_id).count() == before + processes * steps // 2
    assert Case.objects.count() == cases_before + processes * steps // 2
    report = verify_database()
    assert report.ok, [str(p) for p in report.problems]


# PostgreSQL's backends terminated under load ---------------------------------------------


def terminate_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL)")
def test_writers_and_the_worker_recover_when_postgresql_drops_their_connections(
    whistle_city, sink, tmp_path
):
    """The test cannot restart the server it was given (shared by others), so it does what
    a restart does to the clients: every other backend of the database is terminated,
    several times, while writers act and the worker delivers."""
    summons = on_site_summons(whistle_city)
    before = Event.objects.filter(case_id=summons.case_id).count()
    WebhookEndpoint.objects.create(name="区网格化中心", url=sink.url)
    # Enough webhooks, answered slowly enough, that the worker is still sending them (rows
    # claimed, outcomes to record) while its connections are dropped.
    for n in range(40):
        notify_webhooks("summons.overdue", {"summons": n}, f"summons:{n}:overdue")
    sink.delay = 0.1
    processes, steps = 3, 30
    with shared_database(tmp_path) as url:
        worker = start_worker(url, tmp_path / "worker.log", "whistle.notifications.delivery.sweep")
        writers = run_writers(whistle_city, summons, url, tmp_path, processes, steps)
        terminated = 0
        try:
            # Once the writers are at work and the worker delivers, their connections are
            # dropped.
            wait_for(
                lambda: (
                    Event.objects.filter(kind=EventKind.PROGRESS).count() >= 3
                    and len(sink.received) >= 1
                ),
                (tmp_path / "writer-0.log").read_text,
            )
            for _round in range(6):
                terminated += terminate_backends()
                time.sleep(0.5)
            for writer in writers:
                writer.wait(timeout=300)
            webhooks = Notification.objects.filter(endpoint__isnull=False)
            wait_for(
                lambda: not webhooks.exclude(status=Status.SENT).exists(),
                (tmp_path / "worker.log").read_text,
            )
            assert worker.poll() is None, "the worker ended when its connection was dropped"
        finally:
            terminate(worker)
    assert terminated > 0
    done = results(tmp_path, processes)
    assert [w.returncode for w in writers] == [0] * processes
    assert sum(r["done"] for r in done) == processes * steps
    # Every action the writers saw succeed is there, whole; one whose commit was not
    # acknowledged before its connection dropped may be there twice, never half.
    progress = Event.objects.filter(case_id=summons.case_id, kind=EventKind.PROGRESS).count()
    retried = sum(r["retried"] for r in done)
    assert processes * steps // 2 <= progress <= processes * steps // 2 + retried
    assert Event.objects.filter(case_id=summons.case_id).count() == before + progress
    report = verify_database()
    assert report.ok, [str(p) for p in report.problems]


# The web process killed mid-request ------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_web_process_killed_mid_request_leaves_nothing_half_written(whistle_city, tmp_path):
    """Officers' phones report progress through the API while gunicorn is killed with SIGKILL
    (master and workers): what was answered 200 is recorded, whole; what was cut off is
    either recorded whole or not at all; every trail verifies."""
    import urllib.error
    import urllib.request

    from whistle.api.tokens import issue_token

    summons = on_site_summons(whistle_city)
    officer = whistle_city.urban_officer
    secret = issue_token(officer, person=officer, name="手机").secret
    before = Event.objects.filter(case_id=summons.case_id, kind=EventKind.PROGRESS).count()
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/v1/summonses/{summons.uuid}/progress"
    answered: list[int] = []
    attempted: list[int] = []
    stop = threading.Event()

    def phone(n: int) -> None:
        while not stop.is_set():
            attempted.append(n)
            body = json.dumps({"text": f"第{len(attempted)}次进展"}).encode()
            request = urllib.request.Request(
                url,
                data=body,
                headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    if response.status == 200:
                        answered.append(n)
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                time.sleep(0.05)

    with shared_database(tmp_path) as url_db:
        env = environment(url_db, WHISTLE_DEBUG="1")
        log = tmp_path / "gunicorn.log"
        command = [sys.executable, "-m", "gunicorn", "whistle.wsgi", "--workers", "2"]
        with log.open("ab") as output:
            server = subprocess.Popen(
                [*command, "--bind", f"127.0.0.1:{port}", "--timeout", "60"],
                cwd=REPO,
                env=env,
                stdout=output,
                stderr=output,
                start_new_session=True,
            )
        phones = [threading.Thread(target=phone, args=(n,)) for n in range(4)]
        try:
            for thread in phones:
                thread.start()
            wait_for(lambda: len(answered) >= 10, log.read_text, timeout=180)
        finally:
            # The server's own process group: the master and its workers, at once.
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
            stop.set()
            for thread in phones:
                thread.join(timeout=60)
    recorded = Event.objects.filter(case_id=summons.case_id, kind=EventKind.PROGRESS).count()
    assert len(answered) <= recorded - before <= len(attempted)
    assert Summons.objects.get(pk=summons.pk).status == Summons.Status.ON_SITE
    report = verify_database()
    assert report.ok, [str(p) for p in report.problems]


# PostgreSQL restarted under load ---------------------------------------------------------

# Where the server's programs are: the PATH's, then Debian's.
_PG_BIN_CANDIDATES = (
    "",
    *sorted(map(str, Path("/usr/lib/postgresql").glob("*/bin")), reverse=True),
)


def postgres_binaries() -> Path | None:
    """The folder holding initdb, pg_ctl, postgres and createdb (a link on the PATH is
    followed to it); None where they are absent."""
    import shutil

    for folder in _PG_BIN_CANDIDATES:
        pg_ctl = shutil.which("pg_ctl", path=folder or None)
        if pg_ctl is None:
            continue
        found = Path(pg_ctl).resolve().parent
        if all((found / name).is_file() for name in ("initdb", "postgres", "createdb")):
            return found
    return None


class Cluster:
    """A PostgreSQL cluster of the test's own, which it may restart. As root (CI), the
    server runs as the `postgres` user, which initdb requires."""

    def __init__(self, binaries: Path, root: Path, port: int) -> None:
        self.binaries, self.root, self.port = binaries, root, port
        self.data = root / "data"
        self.url = f"postgresql://whistle@127.0.0.1:{port}/whistle"

    def run(self, program: str, *args: str) -> None:
        command = [str(self.binaries / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.root / "server.log")
        self.run("pg_ctl", "-D", str(self.data), "-l", log, "-w", "-o", options, *args)


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    import pwd
    import shutil
    import tempfile

    binaries = postgres_binaries()
    if binaries is None:
        pytest.skip("the PostgreSQL server's programs (initdb, pg_ctl) are not installed")
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root without a postgres user to run the server")
    # Not under pytest's tmp_path, which the postgres user cannot reach.
    root = Path(tempfile.mkdtemp(prefix="whistle-restart-pg."))
    if os.geteuid() == 0:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    cluster = Cluster(binaries, root, free_port())
    cluster.run("initdb", "-D", str(cluster.data), "-U", "whistle", "-A", "trust", "-E", "UTF8")
    cluster.pg_ctl("start")
    try:
        cluster.run(
            "createdb", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "whistle", "whistle"
        )
        yield cluster
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            cluster.run("pg_ctl", "-D", str(cluster.data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def query(url: str, sql: str, *params: Any) -> Any:
    """One value from the throwaway cluster (the test's own connection is elsewhere)."""
    import psycopg

    with psycopg.connect(url, connect_timeout=10) as database:
        row = database.execute(sql, params).fetchone()
        return row[0] if row else None


def whistle_command(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "whistle", *args],
        cwd=REPO,
        env=environment(url),
        capture_output=True,
        text=True,
        timeout=600,
    )


# Its cluster is its own, but it runs once: in the suite's PostgreSQL run, not again on SQLite.
@pytest.mark.skipif(not ON_POSTGRES, reason="runs with the suite on PostgreSQL (DATABASE_URL)")
def test_postgresql_restarted_under_load_loses_nothing_and_every_trail_verifies(
    own_cluster, sink, tmp_path
):
    """A cluster of the test's own is restarted (pg_ctl restart, fast shutdown) several
    times while three processes file reports and record progress and two workers sweep
    deadlines and deliver webhooks. Afterwards every action a process saw succeed is there,
    whole; only one whose commit was cut off before it was acknowledged may be there twice;
    every webhook was delivered and recorded sent once; `whistle verify-trail` finds every
    trail intact and replaying to its rows."""
    url = own_cluster.url
    migrated = whistle_command(url, "migrate", "--no-input")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    ids_file = tmp_path / "ids.json"
    made = subprocess.run(
        [sys.executable, "-m", "tests.fault_actions", "--setup", str(ids_file), sink.url, "40"],
        cwd=REPO,
        env=environment(url),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert made.returncode == 0, made.stderr[-3000:]
    ids = json.loads(ids_file.read_text())
    events_of_case = "SELECT count(*) FROM cases_event WHERE case_id = %s"
    progress_of_case = events_of_case + " AND kind = %s"
    before = query(url, events_of_case, ids["case"])
    cases_before = query(url, "SELECT count(*) FROM cases_case")
    sink.delay = 0.1
    processes, steps = 3, 120
    # The writers go on past their steps until the restarts are over.
    stop = tmp_path / "stop"
    writers = []
    for n in range(processes):
        plan = tmp_path / f"plan-{n}.json"
        plan.write_text(
            json.dumps(
                {
                    **ids,
                    "name": f"进程{n}",
                    "steps": steps,
                    "until": str(stop),
                    "out": str(tmp_path / f"out-{n}.json"),
                }
            )
        )
        command = [sys.executable, "-m", "tests.fault_actions", str(plan)]
        writers.append(start(command, environment(url), tmp_path / f"writer-{n}.log"))
    # A delivery whose outcome the restart cut off is sent again after its lease: the
    # shortest the settings allow.
    workers = [
        start_worker(url, tmp_path / "deadlines.log", "whistle.cases.deadlines.sweep", 1200),
        start_worker(
            url,
            tmp_path / "delivery.log",
            "whistle.notifications.delivery.sweep",
            1200,
            WHISTLE_NOTIFY_LEASE_SECONDS="30",
        ),
    ]
    restarts = 0
    try:
        wait_for(
            lambda: (
                query(url, progress_of_case, ids["case"], EventKind.PROGRESS) >= 3
                and len(sink.received) >= 1
            ),
            (tmp_path / "writer-0.log").read_text,
        )
        for _round in range(3):
            assert all(w.poll() is None for w in writers), "the writers ended before a restart"
            own_cluster.pg_ctl("-m", "fast", "restart")
            restarts += 1
            time.sleep(1.0)
        stop.touch()
        for writer in writers:
            writer.wait(timeout=300)
        wait_for(
            lambda: (
                not query(
                    url,
                    "SELECT count(*) FROM notifications_notification "
                    "WHERE endpoint_id IS NOT NULL AND status <> %s",
                    Status.SENT,
                )
            ),
            (tmp_path / "delivery.log").read_text,
        )
        assert all(w.poll() is None for w in workers), "a worker ended when the server restarted"
    finally:
        for worker in workers:
            terminate(worker)
    assert restarts == 3
    logs = "".join((tmp_path / f"writer-{n}.log").read_text() for n in range(processes))
    assert [w.returncode for w in writers] == [0] * processes, logs[-3000:]
    done = results(tmp_path, processes)
    assert all(r["done"] == r["steps"] >= steps for r in done), done
    retried = sum(r["retried"] for r in done)
    assert retried > 0, "no process met the restart: it proved nothing"
    progress = query(url, progress_of_case, ids["case"], EventKind.PROGRESS)
    expected = sum(r["progress"] for r in done)
    assert expected <= progress <= expected + retried
    reported = query(url, "SELECT count(*) FROM cases_case") - cases_before
    expected = sum(r["report"] for r in done)
    assert expected <= reported <= expected + retried
    # The case's trail holds the progress and what the sweep recorded, nothing else.
    swept = query(url, events_of_case + " AND actor_role = 'system'", ids["case"])
    assert query(url, events_of_case, ids["case"]) == before + progress + swept
    # Each webhook (the 40 queued before, one per event since) is one row, recorded sent,
    # and reached the receiver (a delivery cut off by the restart may have come twice, told
    # apart by its delivery id).
    webhooks = "FROM notifications_notification WHERE endpoint_id IS NOT NULL"
    assert query(url, f"SELECT count(*) {webhooks}") == query(
        url, f"SELECT count(DISTINCT dedupe_key) {webhooks}"
    )
    assert query(url, f"SELECT count(*) {webhooks} AND dedupe_key LIKE 'summons:%%'") == 40
    sent = query(
        url,
        "SELECT array_agg(uuid::text) FROM notifications_notification "
        "WHERE endpoint_id IS NOT NULL",
    )
    assert set(sink.received) == set(sent)
    verified = whistle_command(url, "verify-trail")
    assert verified.returncode == 0, verified.stdout[-2000:] + verified.stderr[-2000:]
