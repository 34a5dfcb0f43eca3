"""`whistle serve` (what `make run` starts): gunicorn answers the pages, static files
included, with the worker beside it; SIGTERM stops both; a server that cannot start ends
the command with an error instead of leaving the worker running alone."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.test_faults import environment, free_port, shared_database, start, wait_for
from whistle.web.management.commands.serve import THREADS, web_command

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def serve(url: str, port: int, log: Path, *extra: str) -> subprocess.Popen:
    # Debug mode lets WhiteNoise find the static files where they lie, with nothing collected.
    env = environment(url, WHISTLE_DEBUG="1", WHISTLE_WORKER_INTERVAL_SECONDS="0.2")
    command = [sys.executable, "-m", "whistle", "serve", "--port", str(port), *extra]
    return start(command, env, log)


def get(address: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(address, timeout=60) as answer:
        return answer.status, answer.headers.get("Server", ""), answer.read()


def test_serve_answers_through_gunicorn_with_static_files_and_sigterm_stops_it_and_the_worker(
    tmp_path,
):
    port = free_port()
    log = tmp_path / "serve.log"
    home = f"http://127.0.0.1:{port}/"

    def answering() -> bool:
        try:
            get(home)
        except OSError:
            return False
        return True

    with shared_database(tmp_path) as url:
        server = serve(url, port, log)
        try:
            wait_for(answering, log.read_text, timeout=120)
            status, software, page = get(home)
            stylesheet = re.search(rb'href="(/static/whistle/whistle[^"]*\.css)"', page)
            assert stylesheet, page[:2000]
            answers: list[tuple[int, str]] = []

            def ask(path: str) -> None:
                answer = get(f"http://127.0.0.1:{port}{path}")
                answers.append(answer[:2])

            askers = [
                threading.Thread(target=ask, args=(path,))
                for path in ["/", "/accounts/login/", stylesheet.group(1).decode()] * 4
            ]
            for asker in askers:
                asker.start()
            for asker in askers:
                asker.join(timeout=120)
            wait_for(lambda: "worker started" in log.read_text(), log.read_text, timeout=120)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        text = log.read_text()
    assert (status, software) == (200, "gunicorn"), text[-3000:]
    assert answers == [(200, "gunicorn")] * 12, text[-3000:]
    assert server.returncode == 0, text[-3000:]
    assert "development server" not in text
    assert "worker stopped" in text
    assert "Shutting down: Master" in text
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass


def test_serve_ends_with_an_error_and_stops_the_worker_when_the_port_is_taken(tmp_path):
    log = tmp_path / "serve.log"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with shared_database(tmp_path) as url:
            server = serve(url, port, log)
            server.wait(timeout=120)
    text = log.read_text()
    assert server.returncode == 1, text[-3000:]
    assert "网页服务器自行停止（退出状态 1），服务已结束。" in text, text[-3000:]
    assert "worker stopped" in text, text[-3000:]


def test_serve_refuses_fewer_than_one_thread():
    with pytest.raises(CommandError, match="--threads"):
        call_command("serve", "--threads", "0")


def test_the_server_is_one_gunicorn_process_with_threads_and_dev_is_the_reloading_server():
    served = web_command("0.0.0.0", 8101, threads=THREADS, dev=False)
    assert served[1:4] == ["-m", "gunicorn", "whistle.wsgi"]
    options = dict(zip(served[4::2], served[5::2], strict=False))
    assert options["--bind"] == "0.0.0.0:8101"
    assert options["--workers"] == "1"
    assert options["--worker-class"] == "gthread"
    assert options["--threads"] == str(THREADS)
    assert web_command("::1", 8000, threads=2, dev=False)[5] == "[::1]:8000"
    assert web_command("127.0.0.1", 8000, threads=2, dev=True)[1:] == [
        "-m",
        "whistle",
        "runserver",
        "127.0.0.1:8000",
    ]


def test_a_web_process_imports_every_page_and_the_api_before_its_first_request():
    # A fresh interpreter loads the WSGI module as gunicorn does, and answers nothing.
    probe = (
        "import sys; import whistle.wsgi; "
        "print(' '.join(m for m in ('whistle.urls', 'whistle.api.main', 'whistle.api.open311') "
        "if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment("sqlite:///:memory:", WHISTLE_DEBUG="1"),
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == ["whistle.urls", "whistle.api.main", "whistle.api.open311"]
