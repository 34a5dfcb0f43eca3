"""Rate limits per token (and per signed-in browser): a number of requests in a fixed window
of `WHISTLE_API_RATE_WINDOW` seconds, counted in Django's cache. A service token has its own,
higher limit. Over the limit: 429 with Retry-After, the seconds until the window ends.

With the default per-process cache each server process counts on its own; a deployment with
several processes configures a shared cache (`WHISTLE_CACHE_URL=db://…`, docs/api.md).
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from whistle.api.auth import api_token, owner_key
from whistle.api.models import ApiToken


def limit_for(token: ApiToken | None) -> int:
    if token is not None and token.kind == ApiToken.Kind.SERVICE:
        return int(settings.WHISTLE_API_SERVICE_RATE_LIMIT)
    return int(settings.WHISTLE_API_RATE_LIMIT)


def _counted(key: str, timeout: int) -> int:
    """The window's count with this request: one operation of the cache for every request
    but the window's first (which finds no entry and makes it)."""
    try:
        return int(cache.incr(key))
    except ValueError:
        pass
    if cache.add(key, 1, timeout=timeout):
        return 1
    # Another request of the window made the entry first.
    try:
        return int(cache.incr(key))
    except ValueError:
        # The entry expired between add and incr: the first request of a new window.
        cache.set(key, 1, timeout=timeout)
        return 1


class TokenThrottle(BaseThrottle):
    def allow_request(self, request: HttpRequest) -> bool:
        owner = owner_key(request)
        if owner is None:
            return True
        window = int(settings.WHISTLE_API_RATE_WINDOW)
        now = time.time()
        key = f"api:rate:{owner}:{int(now // window)}"
        count = _counted(key, window + 1)
        request._whistle_retry_after = math.ceil(window - now % window)  # type: ignore[attr-defined]
        return count <= limit_for(api_token(request))

    def wait(self) -> float | None:
        return None
