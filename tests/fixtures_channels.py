"""Loopback fakes of the outside services the channels talk to.

`fake_service` starts an HTTP server on 127.0.0.1 that records each request and answers
with whatever the test's `answer` function returns; each provider's test module gives it a
function that checks the request the way the provider publishes (signature included), written
from the provider's documentation and never calling Whistle's own signing code.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Received:
    method: str
    target: str  # path and query, as sent
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


# What an answer function returns: status and a JSON document (or raw bytes).
Answer = tuple[int, Any]


@dataclass
class FakeService:
    url: str
    answer: Callable[[Received], Answer]
    requests: list[Received] = field(default_factory=list)


@pytest.fixture(name="fake_service")
def fake_service_fixture(
    monkeypatch,
) -> Iterator[Callable[[Callable[[Received], Answer]], FakeService]]:
    """Start loopback fakes: ``fake_service(answer)`` returns one, stopped after the test."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    servers: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(answer: Callable[[Received], Answer]) -> FakeService:
        service = FakeService(url="", answer=answer)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received = Received("POST", self.path, self.headers, body)
                service.requests.append(received)
                status, document = service.answer(received)
                raw = document if isinstance(document, bytes) else json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        servers.append((server, thread))
        service.url = f"http://127.0.0.1:{server.server_port}"
        return service

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
