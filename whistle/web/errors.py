"""Error pages in the product's layout and language, whatever raised the error.

Django calls the handlers named in `whistle/urls.py` for `Http404`, `PermissionDenied`,
`SuspiciousOperation` (and `BadRequest`) and for anything uncaught; `CSRF_FAILURE_VIEW`
names `csrf_failure`. `ErrorPageMiddleware` covers the rest: a refusal of a domain action
that a page did not catch, and the empty error responses that views and Django's decorators
return (`HttpResponseBadRequest()`, `require_POST`'s 405).

Requests for JSON (the map layers, the patrol's positions) get `{"error": "…"}` with the
same status instead of a page. The 500 page is rendered without the database, the session
or the request's context processors: any of them may be what failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.templatetags.static import static
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from whistle.cases.errors import ActionRefused, InvalidInput, PermissionRefused
from whistle.organisation.models import Jurisdiction, Role, RoleAssignment, Scope
from whistle.organisation.scoping import visible_jurisdictions
from whistle.policies.calendar import join_sentences

logger = logging.getLogger("whistle.errors")


@dataclass(frozen=True)
class Problem:
    title: str | Promise
    text: str | Promise


PROBLEMS: dict[int, Problem] = {
    400: Problem(
        _("The request could not be understood"),
        _(
            "Something in what was sent to this page is not valid. Go back, check what you "
            "entered and try again, or start again from the home page."
        ),
    ),
    403: Problem(
        _("You may not open this page"),
        _(
            "Your roles do not cover this page or this item. If you think they should, ask "
            "your township's administrator to check your roles."
        ),
    ),
    404: Problem(
        _("Page not found"),
        _(
            "This page or item does not exist, or it is outside your area. Check the address, "
            "or go on from the home page or the menu above."
        ),
    ),
    405: Problem(
        _("This page cannot be opened this way"),
        _(
            "This address takes the buttons and forms of the pages, not a link typed in or "
            "bookmarked. Go back to the page you came from and use its buttons."
        ),
    ),
    409: Problem(
        _("This could not be done"),
        _("The item is not in a state that allows it. Reload the page to see where it stands."),
    ),
}

# What a refused page (403) advises, by who reads it: whoever can change their roles, or what
# is open to them without roles. The township's staff keep the 403 problem's own text.
REFUSAL_ADVICE: dict[str, str | Promise] = {
    "signed_out": _(
        "This page opens only to staff signed in with the roles it needs: sign in with your "
        "account. To report a problem or follow one by its reference number you need no "
        "account."
    ),
    "resident": _(
        "This page is for the staff of the districts, townships and departments. As a "
        "resident you can report a problem and follow your reports from your home page."
    ),
    "no_roles": _(
        "Your account holds no role yet, so no page of the staff is open to it. Ask your "
        "township's or your district's administrator to give you your roles."
    ),
    "district": _(
        "Your roles do not cover this page or this item. If you think they should, ask "
        "your district's administrator to check your roles."
    ),
    "administrator": _(
        "Your roles do not cover this page or this item. Roles are given by the city's "
        "system administrator, who administers the whole system, not by a district's "
        "administrator: if you think yours should cover it, ask the city's system "
        "administrator to check your roles."
    ),
    "superuser": _(
        "This page or this item belongs to a role your account does not hold. If you need "
        "to act in that role, give it to yourself in the administration (City and "
        "organisation › Roles)."
    ),
}


# Said first to staff refused a page about a district (``?district=`` names it) in which they
# hold no role.
ANOTHER_DISTRICT = _("This page belongs to %(district)s, a district in which you hold no role.")


def refusal_advice(request: HttpRequest) -> str | Promise:
    """What the 403 page tells the person signed in to do: a township's staff (a lane's too)
    ask their township's administrator; a district's or a department's staff their
    district's; a district's administrator, who manages no roles, the administrator of the
    whole city's system; a superuser gives roles in the admin; a resident and someone signed
    out learn what is open to them. Staff refused a page about another district than theirs
    are told so first."""
    person: Any = getattr(request, "user", None)
    if not getattr(person, "is_authenticated", False):
        return REFUSAL_ADVICE["signed_out"]
    if person.is_superuser and getattr(person, "role_limit", None) is None:
        return REFUSAL_ADVICE["superuser"]
    rows = list(RoleAssignment.objects.held_by(person).select_related("jurisdiction"))
    roles = {row.role for row in rows}
    scopes = {row.scope for row in rows}
    if Role.ADMINISTRATOR in roles:
        advice = REFUSAL_ADVICE["administrator"]
    elif scopes & {Scope.DISTRICT, Scope.DEPARTMENT}:
        advice = REFUSAL_ADVICE["district"]
    elif scopes & {Scope.TOWNSHIP, Scope.LANE}:
        advice = PROBLEMS[403].text
    elif Role.RESIDENT in roles:
        return REFUSAL_ADVICE["resident"]
    else:
        return REFUSAL_ADVICE["no_roles"]
    district = _another_district(request, person)
    if district is None:
        return advice
    return join_sentences(str(ANOTHER_DISTRICT % {"district": district.display_name}), str(advice))


def _another_district(request: HttpRequest, person: Any) -> Jurisdiction | None:
    """The district the refused page's ``?district=`` names, when the person's roles cover
    nothing in it; None otherwise."""
    code = request.GET.get("district", "").strip()
    if not code:
        return None
    district = Jurisdiction.objects.filter(code=code, level=Jurisdiction.Level.DISTRICT).first()
    if district is None:
        return None
    if visible_jurisdictions(person).filter(code__startswith=district.code).exists():
        return None
    return district


CSRF_PROBLEM = Problem(
    _("The form has expired"),
    _(
        "The page was open for a long time, you signed in or out in another tab, or the "
        "browser refuses cookies for this site. Go back, reload the page and send the form "
        "again."
    ),
)

SERVER_PROBLEM = Problem(
    _("Something went wrong on our side"),
    _(
        "The error has been recorded for the administrators. Try again in a moment; if it "
        "keeps happening, tell your administrator what you were doing and the time below."
    ),
)


def wants_json(request: HttpRequest) -> bool:
    """True for the pages' scripts: the map layers ask for GeoJSON, the patrol posts JSON."""
    accept = request.headers.get("Accept", "")
    if "json" in accept and "text/html" not in accept:
        return True
    if request.content_type == "application/json":
        return True
    return request.path.endswith((".json", ".geojson"))


def _back_link(request: HttpRequest) -> str:
    """The page the person came from, when it is one of ours and not this one."""
    referer = request.headers.get("Referer", "")
    if not referer or not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    return "" if referer == request.build_absolute_uri() else referer


def error_page(
    request: HttpRequest,
    status: int,
    *,
    problem: Problem | None = None,
    detail: str = "",
) -> HttpResponse:
    """The error page for ``status``, in the layout; ``detail`` is a sentence meant for the
    person (an action's refusal), never an exception's technical text."""
    problem = problem or PROBLEMS.get(status) or PROBLEMS[400]
    if wants_json(request):
        return JsonResponse({"error": str(detail or problem.title)}, status=status)
    try:
        back = _back_link(request)
    except Exception:  # a request with a bad Host header has no host to compare with
        back = ""
    text = problem.text
    if problem is PROBLEMS[403]:
        text = refusal_advice(request)
    context = {
        "status": status,
        "title": problem.title,
        "text": text,
        "detail": detail,
        "back": back,
    }
    return HttpResponse(
        loader.render_to_string("web/errors/page.html", context, request), status=status
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    logger.warning("form refused (CSRF): %s %s: %s", request.method, request.path, reason)
    return error_page(request, 403, problem=CSRF_PROBLEM)


def _static_or_blank(path: str) -> str:
    # A missing manifest entry raises here: the page must still render without its styles.
    try:
        return static(path)
    except Exception:
        return ""


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page: no database, no session, no context processors."""
    if wants_json(request):
        return JsonResponse({"error": str(SERVER_PROBLEM.title)}, status=500)
    language = translation.get_language() or settings.LANGUAGE_CODE
    try:
        html = loader.get_template("web/errors/500.html").render(
            {
                "title": SERVER_PROBLEM.title,
                "text": SERVER_PROBLEM.text,
                "product": _("Whistle"),
                "home": _("Back to the home page"),
                "time": _("Time (Beijing time): %(time)s")
                % {"time": timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")},
                "lang": "zh-CN" if language.lower().startswith("zh") else language,
                "stylesheet": _static_or_blank("whistle/whistle.css"),
                "icon": _static_or_blank("whistle/favicon.svg"),
            }
        )
    except Exception:
        logger.exception("the 500 page itself failed; answering with plain text")
        return HttpResponse(
            "500 · 服务器出错，请稍后再试。 Server error, please try again later.",
            status=500,
            content_type="text/plain; charset=utf-8",
        )
    return HttpResponse(html, status=500)


class ErrorPageMiddleware:
    """Turns what would otherwise reach people as a bare or technical page into an error
    page: a domain action's refusal that the page did not catch, and the empty error
    responses of views and decorators."""

    # Empty responses with these statuses are given a page; others are left as they are.
    FILLED = frozenset({400, 403, 404, 405})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code in self.FILLED and not response.streaming and not response.content:
            page = error_page(request, response.status_code)
            if response.has_header("Allow"):
                page["Allow"] = response["Allow"]
            return page
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> Any:
        if not isinstance(exception, ActionRefused):
            return None
        if isinstance(exception, PermissionRefused):
            status = 403
        elif isinstance(exception, InvalidInput):
            status = 400
        else:
            status = 409
        logger.info("refusal reached the page %s: %s", request.path, exception)
        return error_page(request, status, detail=str(exception))
