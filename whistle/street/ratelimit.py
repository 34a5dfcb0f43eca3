"""Counting what one address or one phone number does, in fixed windows, in Django's cache
(the count under a phone number or a resident's account is `whistle.cases.report_limits`).

Keys hold a SHA-256 digest of the address or number, never the value itself. With the
default per-process cache each server process counts on its own; a deployment with several
processes configures a shared cache (docs/street.md).
"""

from __future__ import annotations

import ipaddress

from django.http import HttpRequest

from whistle.cases.report_limits import Limit, phone_key, reports_by_phone
from whistle.street import conf

# The limit under one phone number or account is the domain's: the API's resident reports
# apply it too.
__all__ = [
    "Limit",
    "captcha_failures",
    "client_ip",
    "client_ip_address",
    "follow_misses",
    "phone_key",
    "reports_by_ip",
    "reports_by_phone",
]


def reports_by_ip() -> Limit:
    return Limit("reports-ip", *conf.reports_per_ip())


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
