"""One outgoing HTTPS request, the way every outside channel sends: standard library only,
a timeout, no redirects followed, the usual proxy variables honoured."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from whistle.notifications.errors import DeliveryError, PermanentDeliveryError

# Answers are small JSON documents; a receiver that sends more is not read further.
_MAX_ANSWER = 1 << 20


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The answer's JSON document, or None when it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # A redirected POST would arrive as a GET without its body: report it instead.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def post(
    url: str, *, body: bytes, headers: dict[str, str], timeout: float, who: str = "the receiver"
) -> Answer:
    """POST ``body`` once; return the answer whatever its status.

    Raises :class:`DeliveryError` when no answer came (refused, timed out, broken off), naming
    ``who`` was called, and :class:`PermanentDeliveryError` for a URL that is not http(s).
    """
    if urlsplit(url).scheme not in {"http", "https"}:
        raise PermanentDeliveryError(f"not an http or https URL: {url}")
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    opener = urllib.request.build_opener(_RefuseRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            return Answer(response.status, response.read(_MAX_ANSWER), dict(response.headers))
    except urllib.error.HTTPError as exc:
        with exc:
            return Answer(exc.code, exc.read(_MAX_ANSWER), dict(exc.headers or {}))
    except urllib.error.URLError as exc:
        raise DeliveryError(f"could not reach {who}: {exc.reason}") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryError(f"the request to {who} failed: {exc!r}") from exc
