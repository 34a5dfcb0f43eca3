"""The Content-Security-Policy every page is sent with.

The pages load scripts and style sheets from this site only, with no inline script, style
element or style attribute, so the policy needs no 'unsafe-inline': a script injected into a
page does not run. Data for scripts travels in ``json_script`` blocks, which browsers never
execute. The only other origins are the base map's tile servers (images).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse

from whistle.web.basemap import basemap_config

HEADER = "Content-Security-Policy"


def _tile_origin(url: str) -> str:
    """The origin a tile URL template loads from, with a wildcard for its "{s}" subdomain."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if "{" in host:
        # t{s}.tianditu.gov.cn: any subdomain of the rest.
        host = "*." + host.split(".", 1)[1] if "." in host else ""
    if not host:
        return ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def policy() -> str:
    tiles = sorted(
        {origin for layer in basemap_config()["layers"] if (origin := _tile_origin(layer["url"]))}
    )
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Leaflet's marker icons and the photo previews are data: and blob: images.
        "img-src": ["'self'", "data:", "blob:", *tiles],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "worker-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # The base map is read from settings when the process starts.
        self.header = policy()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault(HEADER, self.header)
        return response
