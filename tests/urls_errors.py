"""The product's URLs plus views that fail in each way a page can, for the error-page tests
(`@pytest.mark.urls("tests.urls_errors")`) and the browser tests' 500."""

from __future__ import annotations

from django.core.exceptions import SuspiciousOperation
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import path
from django.views.decorators.http import require_POST

from whistle.cases.errors import ActionRefused, InvalidInput, PermissionRefused
from whistle.urls import handler400, handler403, handler404, handler500, urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a page")


class DatabaseGone(RuntimeError):
    pass


def _refuse_query(*args: object) -> None:
    raise DatabaseGone("the database is gone")


def crash_with_the_database_gone(request: HttpRequest) -> HttpResponse:
    """A bug in a page, after which every query fails (the test removes the blocker)."""
    connection.execute_wrappers.append(_refuse_query)
    raise RuntimeError("a bug in a page")


def refuse_permission(request: HttpRequest) -> HttpResponse:
    raise PermissionRefused("只有街乡指挥中心调度员可以吹哨。")


def refuse_input(request: HttpRequest) -> HttpResponse:
    raise InvalidInput("lon", "经度须在 -180 到 180 之间。")


def refuse_state(request: HttpRequest) -> HttpResponse:
    raise ActionRefused("案件已结案，不能再吹哨。")


def suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("a tampered signature")


def empty_bad_request(request: HttpRequest) -> HttpResponse:
    return HttpResponseBadRequest()


@require_POST
def post_only(request: HttpRequest) -> HttpResponse:
    return HttpResponse("posted")


def json_refusal(request: HttpRequest) -> HttpResponse:
    raise PermissionRefused("只有街乡指挥中心调度员可以吹哨。")


urlpatterns = [
    path("test-errors/crash/", crash),
    path("test-errors/crash-database-gone/", crash_with_the_database_gone),
    path("test-errors/refuse-permission/", refuse_permission),
    path("test-errors/refuse-input/", refuse_input),
    path("test-errors/refuse-state/", refuse_state),
    path("test-errors/suspicious/", suspicious),
    path("test-errors/empty-400/", empty_bad_request),
    path("test-errors/post-only/", post_only),
    path("test-errors/refusal.json", json_refusal),
    *urlpatterns,
]
