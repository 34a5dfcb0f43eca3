"""What the assessment and district views share: choosing among the districts or townships
a person may open, the page's own links, and htmx."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from whistle.assessment.actions import AssessmentError
from whistle.cases.errors import ActionRefused, InvalidInput
from whistle.district.access import Reader
from whistle.patrols.training import TRAINERS
from whistle.web.forms import place_action_error

M = TypeVar("M", bound=Model)

# What an action raises when it refuses: the assessment's own rules, and the cases' (a
# moment before the case's last event, a photo that is not one). Shown on the form that was
# posted, in the reader's language.
REFUSALS = (AssessmentError, ActionRefused)


def show_refusal(form: forms.BaseForm, exc: Exception) -> None:
    """An action's refusal (`REFUSALS`) above the form: a value to correct as an error, a
    refusal by the rules as a refusal stating its reason."""
    place_action_error(form, exc, None, invalid=isinstance(exc, InvalidInput))


class BadPost(Exception):
    """A POST naming no operation, or a target the page does not show."""


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def choose(request: HttpRequest, items: list[M], param: str) -> M:
    """The item whose `code` the query names (``?district=110101``), else the first.

    403 when the person may open none; 404 when the code is not among theirs, so that a
    place outside one's area cannot even be confirmed to exist."""
    if not items:
        raise PermissionDenied
    code = request.GET.get(param, "") or request.POST.get(param, "")
    if not code:
        return items[0]
    found = next((item for item in items if getattr(item, "code", None) == code), None)
    if found is None:
        raise Http404
    return found


def posted_uuid(request: HttpRequest) -> uuid.UUID:
    try:
        return uuid.UUID(hex=request.POST.get("target", ""))
    except ValueError:
        raise BadPost from None


def posted_int(request: HttpRequest) -> int:
    value = request.POST.get("target", "")
    if not value.isdigit():
        raise BadPost
    return int(value)


@dataclass(frozen=True)
class PageLink:
    url: str
    title: str | Promise
    name: str


def page_links(reader: Reader) -> list[PageLink]:
    """The assessment pages this person may open, for the row of links under each page's
    title. The same rules as the views apply; the views still check."""
    links = []
    if reader.township_ids() or reader.district_ids() or reader.everything:
        links.append(PageLink(reverse("assessment:home"), _("Assessment"), "home"))
    if reader.everything or reader.district_ids() or reader.department_ids():
        links.append(PageLink(reverse("district:rankings"), _("Rankings"), "rankings"))
    if reader.department_ids():
        links.append(
            PageLink(
                reverse("assessment:department"),
                # The name the menu gives the page: one page, one name.
                _("My department's records and scores"),
                "department",
            )
        )
    if reader.ruling_district_ids():
        links.append(PageLink(reverse("assessment:appeals"), _("Appeals to rule on"), "appeals"))
    if reader.scheme_district_ids() or reader.closing_district_ids() or reader.person.is_superuser:
        links.append(PageLink(reverse("assessment:scheme"), _("Assessment scheme"), "scheme"))
    if reader.everything or reader.district_ids() or reader.township_ids():
        links.append(PageLink(reverse("district:hotspots"), _("Hot spots"), "hotspots"))
        links.append(PageLink(reverse("district:chiefs"), _("Chiefs and stewards"), "chiefs"))
        links.append(PageLink(reverse("district:centres"), _("1+5+N centres"), "centres"))
        links.append(PageLink(reverse("district:reachability"), _("Arrival reach"), "reachability"))
    # The annual report: the district's readers only, as the report itself.
    if reader.everything or reader.district_ids():
        links.append(PageLink(reverse("district:report"), _("Annual report"), "annual_report"))
    if any(g.role in TRAINERS and g.level in ("district", "township") for g in reader.grants):
        links.append(PageLink(reverse("district:training"), _("Training"), "training"))
    return links


def page_context(reader: Reader, current: str, **extra: Any) -> dict[str, Any]:
    return {"page_links": page_links(reader), "current_page": current, **extra}
