"""How an open page learns that its person's inbox changed: htmx polling against server-sent
events, on a real threaded WSGI server.

Builds a throwaway SQLite database with PAGES people, each with 50 notifications in their
inbox, and serves the product in a subprocess (wsgiref with a thread per connection, the way
a threaded WSGI server such as gunicorn's gthread workers serves it). One open page per
person, each a thread of this process:

- polling: the header's count as the product asks for it, ``GET /inbox/badge/?v=<version>``
  every INTERVAL seconds: 204 while nothing changed, the new count when it did;
- server-sent events: one long ``GET`` per page to a stream (defined here, not in the
  product) that runs the same one-query check (``inbox_state``) every TICK seconds on the
  server and writes an event when the version changed.

While the pages are open a notification is queued for a random person every
DURATION/CHANGES seconds, the way an action queues it. Measured per mode: the time from the
commit of that notification to its page seeing the change (p50, p99), the server's CPU time
and its threads held open, and the requests or checks made. The baseline is the check
itself, ``inbox_state`` run in this process with no HTTP in between.

    .venv/bin/python benchmarks/inbox_live.py [--pages 100] [--duration 60] [--changes 100]
        [--quick]

`--quick` opens 20 pages for 20 changes in 15 seconds.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
STREAM_PATH = "/bench/inbox-stream/"
_VERSION = re.compile(r"\?v=([0-9a-f]+)")


# --- The server (a subprocess of this script) ----------------------------------------------


def _stream(request: Any) -> Any:
    """Server-sent events of one person's inbox: an event whenever its version changes."""
    from django.http import HttpResponse, StreamingHttpResponse

    from whistle.notifications.outbox import inbox_state

    if not request.user.is_authenticated:
        return HttpResponse(status=403)
    person, tick = request.user, float(request.GET.get("tick", "1"))

    def events() -> Iterator[bytes]:
        last = ""
        while True:
            state = inbox_state(person)
            if state.version != last:
                last = state.version
                yield f"event: inbox\ndata: {state.version}\n\n".encode()
            time.sleep(tick)

    response = StreamingHttpResponse(events(), content_type="text/event-stream")
    response["Cache-Control"] = "no-store"
    return response


def _urlpatterns() -> list[Any]:
    from django.urls import path

    from whistle.urls import urlpatterns

    return [path(STREAM_PATH.strip("/") + "/", _stream), *urlpatterns]


def serve(port: int) -> None:
    """The product's WSGI application plus the stream, one thread per connection."""
    import socketserver
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    import django
    from django.conf import settings

    settings.ROOT_URLCONF = "inbox_live"
    # Static files by their plain names, as in the tests: nothing is collected here.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    django.setup()
    from django.core.wsgi import get_wsgi_application

    class Threaded(socketserver.ThreadingMixIn, WSGIServer):
        daemon_threads = True
        request_queue_size = 1024

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    make_server(
        "127.0.0.1", port, get_wsgi_application(), server_class=Threaded, handler_class=Quiet
    ).serve_forever()


# --- The pages (threads of this process) ---------------------------------------------------


class Board:
    """When each person's newest notification was committed, and how long pages took to see
    it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: dict[int, float] = {}
        self.latencies: list[float] = []
        self.requests = 0

    def seen(self, person: int) -> None:
        with self.lock:
            started = self.pending.pop(person, None)
            if started is not None:
                self.latencies.append(time.perf_counter() - started)


def poll_page(
    port: int, cookie: str, person: int, board: Board, interval: float, stop: threading.Event
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    version = ""
    # Pages opened at different moments poll out of step.
    stop.wait(random.uniform(0, interval))
    while not stop.is_set():
        asked = time.perf_counter()
        connection.request(
            "GET",
            f"/inbox/badge/?v={version}",
            headers={"Cookie": cookie, "HX-Request": "true", "Connection": "close"},
        )
        response = connection.getresponse()
        body = response.read().decode()
        connection.close()
        with board.lock:
            board.requests += 1
        if response.status == 200:
            found = _VERSION.search(body)
            version = found.group(1) if found else version
            board.seen(person)
        stop.wait(max(0.0, interval - (time.perf_counter() - asked)))


def stream_page(
    port: int, cookie: str, person: int, board: Board, tick: float, stop: threading.Event
) -> None:
    # A stream stays silent as long as nothing changes: no read timeout.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=None)
    connection.request("GET", f"{STREAM_PATH}?tick={tick}", headers={"Cookie": cookie})
    response = connection.getresponse()
    first = True
    while not stop.is_set():
        line = response.fp.readline()
        if not line:
            return
        if line.startswith(b"data:"):
            with board.lock:
                board.requests += 1
            if first:  # the page's opening state
                first = False
                continue
            board.seen(person)
    connection.close()


# --- The run -------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def threads_of(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def run_mode(
    name: str,
    page: Callable[..., None],
    period: float,
    *,
    port: int,
    server: subprocess.Popen[bytes],
    cookies: dict[int, str],
    duration: float,
    changes: int,
) -> dict[str, Any]:
    from whistle.notifications.models import Channel
    from whistle.notifications.outbox import notify
    from whistle.organisation.models import Person

    people = {p.pk: p for p in Person.objects.filter(pk__in=cookies)}
    board, stop = Board(), threading.Event()
    threads = [
        threading.Thread(target=page, args=(port, cookie, pk, board, period, stop), daemon=True)
        for pk, cookie in cookies.items()
    ]
    for thread in threads:
        thread.start()
    time.sleep(period + 1)  # every page open and settled before the first change
    cpu_before, started = cpu_seconds(server.pid), time.perf_counter()
    requests_before = board.requests
    held = 0
    for _ in range(changes):
        held = max(held, threads_of(server.pid))
        with board.lock:
            free = [pk for pk in cookies if pk not in board.pending]
        person = people[random.choice(free)]
        notify(person, kind="case.closed", subject="基准测试", body="", channels=[Channel.INBOX])
        with board.lock:
            board.pending[person.pk] = time.perf_counter()
        time.sleep(duration / changes)
    time.sleep(period + 1)  # the last changes seen
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(server.pid) - cpu_before
    stop.set()
    return {
        "name": name,
        "seen": len(board.latencies),
        "p50": statistics.median(board.latencies) if board.latencies else float("nan"),
        "p99": percentile(board.latencies, 0.99) if board.latencies else float("nan"),
        "cpu_per_page_minute_ms": cpu / len(cookies) / (elapsed / 60) * 1000,
        "cpu_share": cpu / elapsed,
        "requests_per_s": (board.requests - requests_before) / elapsed,
        "server_threads": held,
    }


def measure(args: argparse.Namespace, database: Path) -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from whistle.notifications.outbox import inbox_state, notify_many
    from whistle.organisation.models import Person

    call_command("migrate", verbosity=0, stdout=StringIO())
    people = [
        Person.objects.create_user(username=f"officer-{i:03d}", password=None, name=f"干部{i}")
        for i in range(args.pages)
    ]
    for i in range(50):
        notify_many(people, kind="case.closed", subject=f"旧消息 {i}", body="", channels=["inbox"])
    cookies = {}
    for person in people:
        client = Client()
        client.force_login(person)
        cookies[person.pk] = f"sessionid={client.cookies['sessionid'].value}"
    check = [inbox_state(people[0]) for _ in range(3)]
    started = time.perf_counter()
    for i in range(200):
        inbox_state(people[i % len(people)])
    baseline_ms = (time.perf_counter() - started) / 200 * 1000
    assert check[0].unread == 50

    port = args.port
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "WHISTLE_DEBUG": "0"}
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)], env=env, cwd=str(ROOT)
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request(
                    "GET", "/favicon.ico"
                )
                break
            except OSError:
                time.sleep(0.1)
        common = {
            "port": port,
            "server": server,
            "cookies": cookies,
            "duration": args.duration,
            "changes": args.changes,
        }
        results = [
            run_mode(f"polling every {args.interval:g} s", poll_page, args.interval, **common),
            run_mode(f"polling every {args.fast:g} s", poll_page, args.fast, **common),
            run_mode(f"events, checked every {args.tick:g} s", stream_page, args.tick, **common),
        ]
    finally:
        server.terminate()
        server.wait(timeout=10)

    load = os.getloadavg()
    print(f"date        {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine     {platform.platform()}, {os.cpu_count()} cores, load {load[0]:.2f}")
    print(f"database    {connection.vendor} {connection.Database.sqlite_version}")
    print(f"open pages  {args.pages}, {args.changes} changes in {args.duration:g} s")
    print(f"baseline    inbox_state in process: {baseline_ms:.2f} ms a check")
    print(
        f"{'mode':<28}{'seen':>6}{'p50 s':>8}{'p99 s':>8}{'req/s':>8}"
        f"{'CPU %':>8}{'CPU ms/page/min':>17}{'threads':>9}"
    )
    for r in results:
        print(
            f"{r['name']:<28}{r['seen']:>6}{r['p50']:>8.2f}{r['p99']:>8.2f}"
            f"{r['requests_per_s']:>8.1f}{r['cpu_share'] * 100:>8.1f}"
            f"{r['cpu_per_page_minute_ms']:>17.1f}{r['server_threads']:>9}"
        )
    from reporting import report

    product = results[0]
    report(
        "inbox_live_polling_p99",
        product["p99"],
        "seconds",
        database=connection.vendor,
        note=f"commit to the page seeing it, {product['name']}, {args.pages} pages",
    )
    report(
        "inbox_live_polling_cpu",
        product["cpu_per_page_minute_ms"],
        "server CPU ms per page per minute",
        database=connection.vendor,
        baseline=baseline_ms * 60 / args.interval,
        note="the product's poll against its one-query check run in process as often",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100, help="open pages, one per person")
    parser.add_argument("--duration", type=float, default=60, help="seconds of changes")
    parser.add_argument("--changes", type=int, default=100, help="notifications queued")
    parser.add_argument("--interval", type=float, default=5, help="the product's poll (s)")
    parser.add_argument("--fast", type=float, default=1, help="a faster poll to compare (s)")
    parser.add_argument("--tick", type=float, default=1, help="the stream's check (s)")
    parser.add_argument("--port", type=int, default=18731)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="20 pages, 20 changes in 15 s")
    args = parser.parse_args()
    if args.quick:
        args.pages, args.changes, args.duration = 20, 20, 15.0

    sys.path[:0] = [str(ROOT), str(HERE)]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
    if args.serve:
        serve(args.serve)
        return
    with tempfile.TemporaryDirectory() as scratch:
        database = Path(scratch) / "inbox_live.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{database}"
        import django
        from django.conf import settings

        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        django.setup()
        measure(args, database)


urlpatterns = _urlpatterns() if __name__ == "inbox_live" else []


if __name__ == "__main__":
    main()
