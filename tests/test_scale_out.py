"""Scale-out on one PostgreSQL (docs/deployment.md): two web processes and two workers share a
cluster of the test's own while clients act through the HTTP API, and nothing is lost or
duplicated.

The web processes are two gunicorn servers on two ports, as two machines behind a load
balancer; a request sent again with its Idempotency-Key goes to the other server. The
workers are two `whistle worker` processes running every sweep, as a deployment runs them.
A routine whistle must be acknowledged within a minute, so deadlines pass while the clients
act: the officer acknowledges every other summons, the rest go overdue.

It reuses tests/test_faults.py's machinery (the throwaway cluster, the webhook receiver,
the processes), and like the restart test it runs once, with the suite on PostgreSQL.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.test_faults import (
    ON_POSTGRES,
    REPO,
    environment,
    free_port,
    own_cluster,  # noqa: F401  (fixture)
    query,
    sink,  # noqa: F401  (fixture)
    start,
    terminate,
    wait_for,
    whistle_command,
)
from whistle.cases.trail import EventKind
from whistle.notifications.models import Status

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

STEWARDS = 2
REPORTS = 12  # each steward's, at least: they go on until a deadline has passed
ORDERS = 16
# One cache for every process: rate limits count across the web processes.
CACHE_URL = "db://whistle_cache"


class Client:
    """One person's phone or desk: POSTs JSON to the web processes with their token."""

    def __init__(self, servers: list[str], secret: str) -> None:
        self.servers, self.secret = servers, secret

    def post(self, server: int, path: str, body: dict[str, Any], key: str) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.servers[server % len(self.servers)] + "/api/v1" + path,
            data=json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {self.secret}",
                "Content-Type": "application/json",
                "Idempotency-Key": key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as answer:
            return answer.code, answer.read().decode(errors="replace")[:500]


class Load:
    """What the clients did and saw: every answer they saw succeed, every resend's answer,
    every failure (none is expected: the servers are not harmed)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reports: dict[str, str] = {}  # description -> case reference
        self.orders: dict[str, str] = {}  # order number -> case reference
        self.resent: list[tuple[str, Any, Any]] = []  # (what, first answer, resend's answer)
        self.whistled: list[str] = []  # summons uuids
        self.acknowledged: list[str] = []
        self.failures: list[str] = []
        self.to_file: queue.Queue[str | None] = queue.Queue()
        self.to_acknowledge: queue.Queue[str | None] = queue.Queue()

    def failed(self, what: str, status: int, answer: Any) -> None:
        with self.lock:
            self.failures.append(f"{what}: {status} {answer}")


def steward(load: Load, client: Client, ids: dict[str, Any], n: int, deadline_passed: Any) -> None:
    i = 0
    # Bounded, so that a worker that never records the overdue fails the test, not hangs it.
    while i < REPORTS or (not deadline_passed() and i < 50 * REPORTS and not load.failures):
        description = f"负载测试 巡查员{n} 第{i}次上报：人行道井盖缺失"
        body = {"description": description, "lon": ids["lon"], "lat": ids["lat"]}
        key = f"report-{n}-{i}"
        status, answer = client.post(i, "/cases", body, key)
        if status != 201:
            load.failed(key, status, answer)
        else:
            with load.lock:
                load.reports[description] = answer["reference"]
            load.to_file.put(answer["reference"])
            if i % 3 == 0:
                # The answer was lost on the way: sent again, to the other web process.
                again = client.post(i + 1, "/cases", body, key)
                with load.lock:
                    load.resent.append((key, (201, answer["reference"]), _reference(again)))
        i += 1
        time.sleep(0.2)


def _reference(answer: tuple[int, Any]) -> tuple[int, Any]:
    status, body = answer
    if isinstance(body, dict):
        # A case's answer names it by `reference`, an order's by `case`.
        return status, body.get("reference") or body.get("case")
    return status, body


def hotline(load: Load, client: Client, ids: dict[str, Any]) -> None:
    for i in range(ORDERS):
        number = f"2026120400{i:03d}"
        body = {
            "order_number": number,
            "description": f"负载测试 工单{i}：人民市场东巷有游商占道经营",
            "lon": ids["lon"],
            "lat": ids["lat"],
            "caller_name": "王小明",
            "caller_phone": "13812341234",
        }
        status, answer = client.post(i, "/hotline/orders", body, f"order-{i}")
        if status != 201:
            load.failed(number, status, answer)
            continue
        with load.lock:
            load.orders[number] = answer["case"]
        first = (201, answer["case"])
        if i % 3 == 0:  # sent again with its key: the first answer again
            again = client.post(i + 1, "/hotline/orders", body, f"order-{i}")
            with load.lock:
                load.resent.append((number, first, _reference(again)))
        if i % 4 == 0:  # the platform sends the order again under a new key: taken before
            again = client.post(i + 1, "/hotline/orders", body, f"order-{i}-again")
            with load.lock:
                load.resent.append((number, (200, first[1]), _reference(again)))
        time.sleep(0.2)


def dispatcher(load: Load, client: Client, ids: dict[str, Any]) -> None:
    n = 0
    while (reference := load.to_file.get()) is not None:
        # Keys named by the case: a failed call never lends its key to another case's call.
        status, answer = client.post(
            n, f"/cases/{reference}/file", {"category": "0501"}, f"file-{reference}"
        )
        if status != 200:
            load.failed(f"file {reference}", status, answer)
            continue
        body = {"kind": "routine", "departments": [ids["department"]]}
        status, answer = client.post(
            n + 1, f"/cases/{reference}/whistles", body, f"whistle-{reference}"
        )
        if status != 201:
            load.failed(f"whistle {reference}", status, answer)
            continue
        summons = answer["summonses"][0]["uuid"]
        with load.lock:
            load.whistled.append(summons)
        if n % 2 == 0:
            load.to_acknowledge.put(summons)
        n += 1
    load.to_acknowledge.put(None)


def officer(load: Load, client: Client) -> None:
    n = 0
    while (summons := load.to_acknowledge.get()) is not None:
        status, answer = client.post(
            n, f"/summonses/{summons}/acknowledge", {}, f"acknowledge-{summons}"
        )
        if status != 200:
            load.failed(f"acknowledge {summons}", status, answer)
        else:
            with load.lock:
                load.acknowledged.append(summons)
        n += 1


def client_thread(load: Load, target: Any, *args: Any) -> threading.Thread:
    """A client; anything it did not expect (a crash) counts as a failure."""

    def run() -> None:
        try:
            target(load, *args)
        except Exception as exc:
            load.failed(target.__name__, 0, repr(exc))
            # The clients that wait on this one's queue stop too.
            load.to_file.put(None)
            load.to_acknowledge.put(None)
            raise

    return threading.Thread(target=run)


def start_web(url: str, port: int, log: Path) -> subprocess.Popen:
    env = environment(
        url,
        WHISTLE_ALLOWED_HOSTS="127.0.0.1",
        WHISTLE_CACHE_URL=CACHE_URL,
        # The stewards go on until a deadline has passed, and a fast machine files many cases
        # a minute: the per-token rate limit is not what this test is about.
        WHISTLE_API_RATE_LIMIT="1000000",
    )
    # Two servers on one machine: neither keeps a control socket (they would share its path).
    command = [sys.executable, "-m", "gunicorn", "whistle.wsgi", "--workers", "1"]
    command += ["--no-control-socket", "--bind", f"127.0.0.1:{port}", "--timeout", "120"]
    return start(command, env, log)


def start_worker(url: str, log: Path) -> subprocess.Popen:
    env = environment(
        url,
        WHISTLE_CACHE_URL=CACHE_URL,
        WHISTLE_WORKER_INTERVAL_SECONDS="0.2",
    )
    return start([sys.executable, "-m", "whistle", "worker", "--max-seconds", "1200"], env, log)


def up(server: str) -> bool:
    try:
        with urllib.request.urlopen(server + "/api/v1/openapi.json", timeout=10):
            return True
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


# Its cluster is its own, but it runs once: in the suite's PostgreSQL run, not again on SQLite.
@pytest.mark.skipif(not ON_POSTGRES, reason="runs with the suite on PostgreSQL (DATABASE_URL)")
def test_two_web_processes_and_two_workers_on_one_postgresql_lose_and_duplicate_nothing(
    own_cluster,  # noqa: F811  (the fixture imported above)
    sink,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    """Stewards report, the 12345 platform sends orders, the dispatcher files and whistles,
    the officer acknowledges every other summons, all through the API of two web processes,
    some requests sent again; two workers sweep deadlines and deliver webhooks. Afterwards
    every answer the clients saw is there exactly once, a resend made nothing new, each
    overdue acknowledgement is recorded once, each trail event went out as one webhook row
    delivered once, and `whistle verify-trail` finds every trail intact."""
    for name in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    url = own_cluster.url
    migrated = whistle_command(url, "migrate", "--no-input")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    cache = subprocess.run(
        [sys.executable, "-m", "whistle", "createcachetable"],
        cwd=REPO,
        env=environment(url, WHISTLE_CACHE_URL=CACHE_URL),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert cache.returncode == 0, cache.stderr[-3000:]
    ids_file = tmp_path / "ids.json"
    made = subprocess.run(
        [sys.executable, "-m", "tests.fault_actions", "--setup-clients", str(ids_file), sink.url],
        cwd=REPO,
        env=environment(url),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert made.returncode == 0, made.stderr[-3000:]
    ids = json.loads(ids_file.read_text())
    sink.delay = 0.0
    ports = [free_port(), free_port()]
    servers = [f"http://127.0.0.1:{port}" for port in ports]
    logs = [tmp_path / f"web-{n}.log" for n in range(2)] + [
        tmp_path / f"worker-{n}.log" for n in range(2)
    ]

    def tail() -> str:
        return "\n".join(f"== {log.name}\n{log.read_text()[-1500:]}" for log in logs)

    processes = [start_web(url, port, logs[n]) for n, port in enumerate(ports)]
    processes += [start_worker(url, logs[2 + n]) for n in range(2)]
    overdue = "SELECT count(*) FROM cases_event WHERE kind = %s"
    load = Load()
    try:
        wait_for(lambda: all(up(server) for server in servers), tail)
        stewards = [
            client_thread(
                load,
                steward,
                Client(servers, ids["steward"]),
                ids,
                n,
                lambda: query(url, overdue, EventKind.ACKNOWLEDGE_OVERDUE) > 0,
            )
            for n in range(STEWARDS)
        ]
        others = [
            client_thread(load, hotline, Client(servers, ids["dispatcher"]), ids),
            client_thread(load, dispatcher, Client(servers, ids["dispatcher"]), ids),
            client_thread(load, officer, Client(servers, ids["officer"])),
        ]
        for thread in stewards + others:
            thread.start()
        for thread in stewards:
            thread.join(timeout=900)
        load.to_file.put(None)
        for thread in others:
            thread.join(timeout=900)
        assert not any(t.is_alive() for t in stewards + others), tail()
        # Every summons left unacknowledged passes its deadline and is recorded overdue;
        # every webhook is delivered.
        wait_for(
            lambda: (
                query(
                    url,
                    "SELECT count(*) FROM cases_summons "
                    "WHERE acknowledged_at IS NULL AND acknowledge_overdue_at IS NULL",
                )
                == 0
            ),
            tail,
        )
        wait_for(
            lambda: (
                query(
                    url,
                    "SELECT count(*) FROM notifications_notification "
                    "WHERE endpoint_id IS NOT NULL AND status <> %s",
                    Status.SENT,
                )
                == 0
            ),
            tail,
        )
        assert all(p.poll() is None for p in processes), tail()
    finally:
        for process in processes:
            terminate(process)

    assert load.failures == [], load.failures[:10]
    # Every report the stewards saw succeed is one case, under the reference they were given.
    reported = dict(
        query(
            url,
            "SELECT array_agg(ARRAY[description, reference]) FROM cases_case "
            "WHERE description LIKE '负载测试 巡查员%%'",
        )
        or []
    )
    assert len(load.reports) >= STEWARDS * REPORTS
    assert reported == load.reports
    assert query(
        url, "SELECT count(*) FROM cases_case WHERE description LIKE '负载测试 巡查员%%'"
    ) == (len(load.reports))
    # Every order is one order and one case; a resend, by its key or by its number, answered
    # the first case and made nothing.
    orders = dict(
        query(
            url,
            "SELECT array_agg(ARRAY[o.number, c.reference]) FROM cases_hotlineorder o "
            "JOIN cases_case c ON c.id = o.case_id",
        )
        or []
    )
    assert len(load.orders) == ORDERS
    assert orders == load.orders
    assert query(
        url, "SELECT count(*) FROM cases_case WHERE description LIKE '负载测试 工单%%'"
    ) == (ORDERS)
    assert load.resent, "nothing was sent again: it proved nothing"
    assert [(what, again) for what, first, again in load.resent if again != first] == []
    # Each summons is one row; the deadlines passed during the run and each overdue
    # acknowledgement is recorded once, on the summons that was not acknowledged in time.
    assert query(url, "SELECT count(*) FROM cases_summons") == len(load.whistled)
    late = query(url, "SELECT count(*) FROM cases_summons WHERE acknowledge_overdue_at IS NOT NULL")
    assert late >= len(load.whistled) - len(load.acknowledged) > 0
    assert query(url, overdue, EventKind.ACKNOWLEDGE_OVERDUE) == late
    assert (
        query(
            url,
            "SELECT count(*) FROM (SELECT summons_id FROM cases_event WHERE kind = %s "
            "GROUP BY summons_id HAVING count(*) > 1) twice",
            EventKind.ACKNOWLEDGE_OVERDUE,
        )
        == 0
    )
    # Every trail event went out as one webhook row, sent once; every message to a person
    # is one row for its recipient, channel and event.
    webhooks = "FROM notifications_notification WHERE endpoint_id IS NOT NULL"
    assert query(url, f"SELECT count(*) {webhooks}") == query(
        url, "SELECT count(*) FROM cases_event"
    )
    assert query(url, f"SELECT count(DISTINCT dedupe_key) {webhooks}") == query(
        url, "SELECT count(DISTINCT 'event:' || hash) FROM cases_event"
    )
    assert (
        query(
            url,
            f"SELECT count(*) {webhooks} AND dedupe_key NOT IN "
            "(SELECT 'event:' || hash FROM cases_event)",
        )
        == 0
    )
    sent = query(url, f"SELECT array_agg(uuid::text) {webhooks}")
    assert Counter(sink.received) == Counter(sent)
    assert (
        query(
            url,
            "SELECT count(*) FROM (SELECT 1 FROM notifications_notification "
            "WHERE recipient_id IS NOT NULL GROUP BY recipient_id, channel, dedupe_key "
            "HAVING count(*) > 1) twice",
        )
        == 0
    )
    verified = whistle_command(url, "verify-trail")
    assert verified.returncode == 0, verified.stdout[-2000:] + verified.stderr[-2000:]
