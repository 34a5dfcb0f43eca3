"""The REST API, version 1 (`/api/v1/`): django-ninja, typed schemas, the OpenAPI document at
`/api/v1/openapi.json` and interactive docs at `/api/v1/docs` from local static files."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext, gettext_noop
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger
from ninja.openapi.schema import OpenAPISchema

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


def _translated(node: Any, key: str = "") -> Any:
    """A copy of a part of the document with the words a reader reads in the active language:
    the summaries, descriptions and tags, written in English and marked with `gettext_noop`
    where they are made (the operations, the routers, the schemas' fields). A group (tag) is
    shown with a capital ("Cases"); its name in the code stays as it is. The answers'
    descriptions are HTTP's own phrases ("OK", "Not Found") and stay as they are."""
    if isinstance(node, dict):
        if key == "responses":
            return node
        return {k: _translated(v, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_translated(v, key) for v in node]
    if isinstance(node, str) and node and key in ("summary", "description", "tags"):
        # A group's name heads its section of the docs page, so it begins with a capital.
        return capfirst(gettext(node)) if key == "tags" else gettext(node)
    return node


class LocalSwagger(Swagger):
    """Swagger UI from the server's own static files, on a page in the reader's language: its
    ``lang`` and, above the console, a line on what its English controls do."""

    template = "api/docs.html"


class WhistleAPI(NinjaAPI):
    """The API whose document is in the reader's language (the request's, as on every page:
    the language cookie, then Accept-Language), built once per language and path and kept."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._documents: dict[tuple[str, str], OpenAPISchema] = {}

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        key = (get_language() or "", path_prefix)
        document = self._documents.get(key)
        if document is None:
            document = super().get_openapi_schema(path_prefix=path_prefix)
            # The document is a dict of its own parts: each part is replaced by a translated
            # copy, so the operations' own lists (their tags) keep their English words.
            for part, value in document.items():
                document[part] = _translated(value, part)
            self._documents[key] = document
        return document


def build() -> NinjaAPI:
    api = WhistleAPI(
        title="Whistle API",
        version="1",
        description=gettext_noop(
            "Every action of the pages, through the same action functions and permission "
            "rules. Authenticate with a bearer token (Authorization: Bearer wst_…) or a "
            "signed-in browser session with its CSRF token. Errors are "
            '{"code", "message", "field"}. The API guide is docs/api.md in Whistle\'s source '
            "code."
        ),
        urls_namespace="api-v1",
        auth=[TokenAuth(), BrowserSession()],
        throttle=[TokenThrottle()],
        # No online validator: the docs page calls nothing outside the server.
        docs=LocalSwagger(settings={"validatorUrl": None, "persistAuthorization": True}),
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    for kind in HANDLED:
        api.add_exception_handler(kind, handle)  # type: ignore[arg-type]
    for module, attribute, prefix in ROUTERS:
        api.add_router(prefix, getattr(import_module(f"whistle.api.routers.{module}"), attribute))
    return api


api = build()


@csrf_exempt
def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Anything under /api/v1/ that is no operation: answered as the API answers, also to a
    request without the pages' CSRF cookie (the API's callers send tokens)."""
    error = not_found()
    return error_response(error.status, error.code, error.message)


def by_first_segment(
    patterns: list[URLPattern | URLResolver],
) -> list[URLPattern | URLResolver]:
    """The operations' patterns with those that share their first segment (`hotline/…`,
    `cases/…`) behind one pattern of that segment: a request is resolved against the dozen
    segments and then its own segment's operations, not against every operation before it
    (a 12345 order's path was the 60th of 66). The same paths, names and views; the
    operations of one segment keep their order. A route whose first segment holds a
    parameter stays as it is."""
    groups: dict[str, list[URLPattern]] = {}
    placed: list[URLPattern | URLResolver | str] = []
    for pattern in patterns:
        segment, slash, rest = str(pattern.pattern).partition("/")
        if not isinstance(pattern, URLPattern) or not slash or not rest or "<" in segment:
            placed.append(pattern)
            continue
        if segment not in groups:
            groups[segment] = []
            placed.append(segment)
        # A pattern without a name keeps None (Django's `path` takes it; the stubs say str).
        name: Any = pattern.name
        groups[segment].append(path(rest, pattern.callback, pattern.default_args, name))
    return [
        path(f"{item}/", include(groups[item])) if isinstance(item, str) else item
        for item in placed
    ]


def urlpatterns() -> list[URLPattern | URLResolver]:
    patterns, app_name, namespace = api.urls
    return [
        path("api/v1/", include((by_first_segment(patterns), app_name), namespace=namespace)),
        # Any character, a line break included (an escaped %0A in a path is no operation
        # either, and answers as the API does, not with the pages' JSON).
        re_path(r"^api/(?P<rest>[\s\S]*)\Z", unknown),
    ]
