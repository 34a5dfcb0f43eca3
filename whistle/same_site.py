"""Whether an address the browser sent (a Referer, htmx's current page, a form's `next`) is a
page of this site, for the pages and the sign-in code that send a person back to it."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def page_of_ours(request: HttpRequest, address: str) -> str | None:
    """The address as a path on this site (with its query), or None when it is empty or
    another site's."""
    try:
        ours = bool(address) and url_has_allowed_host_and_scheme(
            address, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    except DisallowedHost:
        return None
    if not ours:
        return None
    parts = urlsplit(address)
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")
