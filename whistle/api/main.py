"""The REST API, version 1 (`/api/v1/`): django-ninja, typed schemas, the OpenAPI document at
`/api/v1/openapi.json` and interactive docs at `/api/v1/docs` from local static files."""

from __future__ import annotations

from importlib import import_module

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path, re_path
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger

from whistle.api.auth import BrowserSession, TokenAuth
from whistle.api.errors import HANDLED, error_response, handle, not_found
from whistle.api.throttle import TokenThrottle

# (module in whistle.api.routers, its router's attribute, where it is mounted)
ROUTERS: tuple[tuple[str, str, str], ...] = (
    ("cases", "router", "/cases"),
    ("summonses", "router", "/summonses"),
    ("summonses", "whistles", "/whistles"),
    ("notices", "router", "/supervision-notices"),
    ("patrols", "router", "/patrols"),
    ("assessment", "router", "/assessment"),
    ("organisation", "router", "/organisation"),
    ("organisation", "me", "/me"),
    ("notifications", "router", "/notifications"),
    ("hotline", "router", "/hotline"),
)


def build() -> NinjaAPI:
    api = NinjaAPI(
        title="Whistle API",
        version="1",
        description=str(
            _(
                "Every action of the pages, through the same action functions and permission "
                "rules. Authenticate with a bearer token (Authorization: Bearer wst_…) or a "
                "signed-in browser session with its CSRF token. Errors are "
                '{"code", "message", "field"}. See docs/api.md.'
            )
        ),
        urls_namespace="api-v1",
        auth=[TokenAuth(), BrowserSession()],
        throttle=[TokenThrottle()],
        # No online validator: the docs page calls nothing outside the server.
        docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": True}),
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    for kind in HANDLED:
        api.add_exception_handler(kind, handle)  # type: ignore[arg-type]
    for module, attribute, prefix in ROUTERS:
        api.add_router(prefix, getattr(import_module(f"whistle.api.routers.{module}"), attribute))
    return api


api = build()


def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Anything under /api/v1/ that is no operation."""
    error = not_found()
    return error_response(error.status, error.code, error.message)


def urlpatterns() -> list[URLPattern | URLResolver]:
    return [path("api/v1/", api.urls), re_path(r"^api/(?P<rest>.*)$", unknown)]
