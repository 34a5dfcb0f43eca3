"""The command centre's list of cases (dispatch:cases): every case of one's townships, open
or not, found by reference, words of the description, lane, category, status, source and
the day it was reported; newest first, a page at a time.

Who opens it and which cases it lists: the roles in `CASE_LIST_ROLES`, each in the township
or district it is held in, and only among the cases the person may see at all
(`whistle.cases.scoping.visible_cases`), so that the list never names a case whose page
would not open. The list shows no reporter's or caller's name or phone: those stay on the
case page, masked there for everyone but the township's call-back.
"""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from whistle.cases.models import Case
from whistle.cases.scoping import visible_cases
from whistle.desk.viewer import DESK_ROLES, Viewer
from whistle.organisation.models import Jurisdiction, Role
from whistle.policies.models import Category
from whistle.web.forms import DateInput, check_day_range, within_days

# The roles that open the list, each in the township or the district it is held in: the
# township's command centre (dispatchers, the chief of lanes, the chiefs' office) and its
# assessor; in a district its chiefs' office, chief of lanes and assessor, for every
# township of the district and the district's cases outside every township.
CASE_LIST_ROLES = (
    Role.DISPATCHER,
    Role.TOWNSHIP_CHIEF,
    Role.TOWNSHIP_ASSESSOR,
    Role.CHIEFS_OFFICE,
    Role.DISTRICT_CHIEF,
    Role.DISTRICT_ASSESSOR,
)
PER_PAGE = 50
# "Every open case", besides each status on its own.
OPEN = "open"
# Case references are upper-case letters and digits (whistle.cases.models.new_reference).
_REFERENCE = re.compile(r"[0-9A-Z]{1,12}")
SEARCH_MAX = 100


class Scope:
    """The townships and districts whose cases the person lists."""

    def __init__(self, viewer: Viewer) -> None:
        ids = {grant[1] for grant in viewer.grants if grant[0] in CASE_LIST_ROLES and grant[1]}
        rows = list(
            Jurisdiction.objects.filter(pk__in=sorted(ids)).values_list("pk", "level", "parent_id")
        )
        self.district_ids = {pk for pk, level, _p in rows if level == Jurisdiction.Level.DISTRICT}
        self.township_ids = {pk for pk, level, _p in rows if level == Jurisdiction.Level.TOWNSHIP}
        # The districts whose categories the townships' cases are filed under.
        self.category_districts = self.district_ids | {
            parent for _pk, level, parent in rows if level == Jurisdiction.Level.TOWNSHIP
        }

    def __bool__(self) -> bool:
        return bool(self.district_ids or self.township_ids)

    def townships(self) -> QuerySet[Jurisdiction]:
        return Jurisdiction.objects.filter(level=Jurisdiction.Level.TOWNSHIP).filter(
            Q(pk__in=sorted(self.township_ids)) | Q(parent_id__in=sorted(self.district_ids))
        )

    def cases(self, person: Any) -> QuerySet[Case]:
        return visible_cases(person).filter(
            Q(township_id__in=sorted(self.township_ids))
            | Q(district_id__in=sorted(self.district_ids))
        )


class CaseSearch(forms.Form):
    q = forms.CharField(
        label=_("Reference or words"),
        required=False,
        max_length=SEARCH_MAX,
        help_text=_("A case reference or its first letters, or words of the description."),
        error_messages={"max_length": _("Search for at most 100 characters.")},
    )
    township = forms.ChoiceField(label=_("Township"), required=False)
    lane = forms.CharField(
        label=_("Lane"),
        required=False,
        max_length=100,
        error_messages={"max_length": _("A lane's name has at most 100 characters.")},
    )
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int)
    status = forms.ChoiceField(label=_("Status"), required=False)
    source = forms.ChoiceField(label=_("Source"), required=False)
    since = forms.DateField(
        label=_("Reported from"),
        required=False,
        widget=DateInput(),
        error_messages={"invalid": _("Enter a date such as 2026-12-06.")},
    )
    until = forms.DateField(
        label=_("Reported until"),
        required=False,
        widget=DateInput(),
        error_messages={"invalid": _("Enter a date such as 2026-12-06.")},
    )

    def __init__(
        self,
        *args: Any,
        townships: list[Jurisdiction],
        categories: list[Category],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        unknown = _("%(value)s is not one of the choices.")
        fields = self.fields
        township = cast(forms.ChoiceField, fields["township"])
        township.choices = [
            ("", _("All townships")),
            *((t.code, t.display_name) for t in townships),
        ]
        category = cast(forms.ChoiceField, fields["category"])
        category.choices = [
            ("", _("All categories")),
            *((c.pk, f"{c.major.display_name} · {c.display_name}") for c in categories),
        ]
        status = cast(forms.ChoiceField, fields["status"])
        status.choices = [
            ("", _("All statuses")),
            (OPEN, _("Open (any open status)")),
            *Case.Status.choices,
        ]
        source = cast(forms.ChoiceField, fields["source"])
        source.choices = [("", _("All sources")), *Case.Source.choices]
        for name in ("township", "category", "status", "source"):
            fields[name].error_messages["invalid_choice"] = unknown
        if len(townships) < 2:
            # One township: nothing to choose.
            fields["township"].widget = forms.HiddenInput()

    def clean_q(self) -> str:
        return " ".join(str(self.cleaned_data.get("q") or "").split())

    def clean_lane(self) -> str:
        return str(self.cleaned_data.get("lane") or "").strip()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        check_day_range(self)
        return cleaned


def searched(cases: QuerySet[Case], values: dict[str, Any]) -> QuerySet[Case]:
    """The cases that match every filter set."""
    text = values.get("q", "")
    if text:
        match = Q(description__icontains=text)
        if _REFERENCE.fullmatch(text.upper()):
            match |= Q(reference__startswith=text.upper())
        cases = cases.filter(match)
    if values.get("township"):
        cases = cases.filter(township__code=values["township"])
    if values.get("lane"):
        cases = cases.filter(lane__name__icontains=values["lane"])
    if values.get("category"):
        cases = cases.filter(category_id=values["category"])
    status = values.get("status", "")
    if status == OPEN:
        cases = cases.filter(status__in=Case.OPEN_STATUSES)
    elif status:
        cases = cases.filter(status=status)
    if values.get("source"):
        cases = cases.filter(source=values["source"])
    return within_days(cases, "reported_at", values.get("since"), values.get("until"))


@login_required
@require_GET
def cases(request: HttpRequest) -> HttpResponse:
    viewer = Viewer.of(request.user)
    scope = Scope(viewer)
    if not scope:
        raise PermissionDenied
    townships = list(scope.townships().order_by("code"))
    categories = list(
        Category.objects.filter(major__district_id__in=sorted(scope.category_districts))
        .select_related("major")
        .order_by("major__district_id", "major__kind", "major__code", "code")
    )
    form = CaseSearch(request.GET or None, townships=townships, categories=categories)
    values: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        values = {name: value for name, value in form.cleaned_data.items() if value}
    found = searched(scope.cases(request.user), values) if not form.errors else Case.objects.none()
    found = found.select_related("category", "lane", "township").order_by("-reported_at", "-pk")
    page = Paginator(found, PER_PAGE).get_page(request.GET.get("page"))
    shown = next((t for t in townships if t.code == values.get("township")), None)
    context = {
        "form": form,
        "page": page,
        "filtered": bool(values),
        "township": shown,
        "townships": townships,
        # The command centre to go back to: the township filtered on, else the first.
        "home_township": shown or (townships[0] if townships else None),
        "several_townships": len(townships) > 1,
        # Whether the person opens the command centre too (assessors do not).
        "at_desk": any(grant[0] in DESK_ROLES for grant in viewer.grants),
    }
    status = 400 if form.errors else 200
    response = render(request, "desk/dispatch/cases.html", context, status=status)
    response["Cache-Control"] = "private, no-store"
    return response
