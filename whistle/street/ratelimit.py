"""Counting what one address or one phone number does, in fixed windows, in Django's cache.

Keys hold a SHA-256 digest of the address or number, never the value itself. With the
default per-process cache each server process counts on its own; a deployment with several
processes configures a shared cache (docs/street.md).
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from whistle.street import conf


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int
    window: int  # seconds

    def _key(self, who: str) -> tuple[str, int]:
        digest = hashlib.sha256(f"{settings.SECRET_KEY}:{who}".encode()).hexdigest()[:32]
        window_no = int(time.time() // self.window)
        return f"street:rl:{self.name}:{digest}:{window_no}", window_no

    def count(self, who: str) -> int:
        key, _ = self._key(who)
        return int(cache.get(key, 0))

    def exceeded(self, who: str) -> bool:
        return self.count(who) >= self.limit

    def hit(self, who: str) -> int:
        key, _ = self._key(who)
        cache.add(key, 0, timeout=self.window)
        try:
            return int(cache.incr(key))
        except ValueError:
            # The entry expired between add and incr: this is the first hit of a window.
            cache.set(key, 1, timeout=self.window)
            return 1

    def retry_after(self) -> int:
        """Seconds until the current window ends."""
        return int(self.window - time.time() % self.window) + 1


def reports_by_ip() -> Limit:
    return Limit("reports-ip", *conf.reports_per_ip())


def reports_by_phone() -> Limit:
    return Limit("reports-phone", *conf.reports_per_phone())


def captcha_failures() -> Limit:
    return Limit("captcha-ip", *conf.captcha_failures_per_ip())


def follow_misses() -> Limit:
    return Limit("follow-ip", *conf.follow_misses_per_ip())


def client_ip(request: HttpRequest) -> str:
    """The client's address: the connecting one, or, behind `WHISTLE_TRUSTED_PROXIES`
    proxies, the one the outermost proxy saw (counted from the right of X-Forwarded-For;
    entries further left come from the client and cannot be trusted)."""
    proxies = conf.trusted_proxies()
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    if proxies <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if len(hops) >= proxies:
        return hops[-proxies]
    return hops[0] if hops else remote


def client_ip_address(request: HttpRequest) -> str:
    """`client_ip` as an IP address a database column of that type accepts: a request whose
    address cannot be read (none given, or a proxy header that is not an address) counts as
    0.0.0.0, so all such requests share one count of failed sign-ins."""
    address = client_ip(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return "0.0.0.0"


def phone_key(phone: str) -> str:
    """The same number however it was typed: digits only, without China's +86."""
    digits = "".join(c for c in phone if c.isdigit())
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits
