"""The township's recruitment of alley stewards (`/township/recruitment/`): publish a call,
read the applications, accept or refuse each. The township's chief of lanes and its chiefs'
office review and read the applicants' data in full; the district's chiefs' office reads
its townships' applications with the data masked; anyone else gets 403 (404 for an
application). Every change goes through `whistle.township.recruitment`."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from whistle.organisation.models import Jurisdiction, Lane, Person, Role, RoleAssignment
from whistle.township import recruitment
from whistle.township.errors import InvalidTownshipInput, TownshipRefused
from whistle.township.recruitment_models import StewardApplication, StewardCall, StewardTeam
from whistle.web.forms import DateInput, Textarea, place_action_error

Status = StewardApplication.Status


def _person(request: HttpRequest) -> Person:
    return cast(Person, request.user)


def _district_offices(person: Any) -> list[int]:
    return list(
        RoleAssignment.objects.held_by(person)
        .filter(role=Role.CHIEFS_OFFICE, jurisdiction__level=Jurisdiction.Level.DISTRICT)
        .values_list("jurisdiction_id", flat=True)
    )


def _readable(person: Any) -> tuple[list[Jurisdiction], set[int]]:
    """The townships whose applications the person reads, and those they review."""
    reviewing = list(recruitment.recruiting_townships(person))
    districts = _district_offices(person)
    townships = {t.pk: t for t in reviewing}
    if districts:
        for t in Jurisdiction.objects.filter(
            parent_id__in=districts, level=Jurisdiction.Level.TOWNSHIP
        ).order_by("code"):
            townships.setdefault(t.pk, t)
    ordered = sorted(townships.values(), key=lambda t: t.code)
    return ordered, {t.pk for t in reviewing}


class CallForm(forms.Form):
    township = forms.TypedChoiceField(label=gettext_lazy("Township"), coerce=int)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=recruitment.TITLE_MAX)
    description = forms.CharField(
        label=gettext_lazy("What a steward does"),
        required=False,
        max_length=recruitment.TEXT_MAX,
        widget=Textarea(attrs={"rows": 4}),
    )
    lanes = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Lanes needing stewards"),
        queryset=Lane.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    opens_on = forms.DateField(label=gettext_lazy("Date of the call"), widget=DateInput())
    closes_on = forms.DateField(label=gettext_lazy("Closing date"), widget=DateInput())
    party_preferred = forms.BooleanField(
        label=gettext_lazy("Party members preferred"), required=False, initial=True
    )

    def __init__(self, *args: Any, townships: list[Jurisdiction], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["township"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(t.pk, t.display_name) for t in townships]
        self.fields["lanes"].queryset = Lane.objects.filter(  # type: ignore[attr-defined]
            township__in=townships
        ).order_by("township__code", "name")


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[("accept", gettext_lazy("Accept")), ("refuse", gettext_lazy("Do not accept"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=recruitment.REASON_MAX,
        widget=Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Required when not accepting; the applicant reads it."),
    )
    lanes = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Lanes the steward looks after"),
        queryset=Lane.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None chosen: the lanes the applicant preferred."),
    )
    team = forms.ModelChoiceField(
        label=gettext_lazy("Steward team"),
        queryset=StewardTeam.objects.none(),
        required=False,
    )
    new_team = forms.CharField(
        label=gettext_lazy("Or a new steward team"),
        required=False,
        max_length=recruitment.TEAM_MAX,
    )

    def __init__(self, *args: Any, township: Jurisdiction, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lanes"].queryset = Lane.objects.filter(  # type: ignore[attr-defined]
            township=township
        ).order_by("name")
        self.fields["team"].queryset = StewardTeam.objects.filter(  # type: ignore[attr-defined]
            township=township
        )


@login_required
@require_http_methods(["GET"])
def home(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    townships, reviewing = _readable(person)
    if not townships:
        raise PermissionDenied
    calls = list(
        StewardCall.objects.filter(township__in=townships)
        .select_related("township")
        .annotate(
            waiting=Count("applications", filter=Q(applications__status=Status.SUBMITTED)),
            accepted=Count("applications", filter=Q(applications__status=Status.ACCEPTED)),
            refused=Count("applications", filter=Q(applications__status=Status.REFUSED)),
        )
        .order_by("-opens_on", "-pk")[:50]
    )
    applications = list(
        StewardApplication.objects.filter(call__township__in=townships)
        .select_related("call", "call__township")
        .order_by("status", "-submitted_at", "-pk")[:200]
    )
    for a in applications:
        a.shown = recruitment.shown(a, full=a.call.township_id in reviewing)  # type: ignore[attr-defined]
    return render(
        request,
        "desk/recruitment/home.html",
        {
            "calls": calls,
            "applications": applications,
            "may_publish": bool(reviewing),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def call_new(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    townships = list(recruitment.recruiting_townships(person))
    if not townships:
        raise PermissionDenied
    today = timezone.localdate()
    form = CallForm(
        request.POST if request.method == "POST" else None,
        townships=townships,
        initial={"opens_on": today, "title": _("Alley stewards wanted")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        township = next((t for t in townships if t.pk == data["township"]), None)
        try:
            if township is None:
                raise TownshipRefused(_("Choose one of your townships."))
            recruitment.publish_call(
                person,
                township,
                title=data["title"],
                description=data["description"],
                lanes=data["lanes"],
                opens_on=data["opens_on"],
                closes_on=data["closes_on"],
                party_preferred=data["party_preferred"],
            )
        except TownshipRefused as exc:
            place_action_error(form, exc, exc.field, invalid=isinstance(exc, InvalidTownshipInput))
        else:
            messages.success(request, _("The call is published on the public page."))
            return HttpResponseRedirect(reverse("township:recruitment"))
    status = 400 if request.method == "POST" else 200
    return render(request, "desk/recruitment/call_form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def application(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request)
    townships, reviewing = _readable(person)
    found = (
        StewardApplication.objects.filter(pk=pk, call__township__in=townships)
        .select_related("call", "call__township", "reviewed_by", "team", "steward")
        .first()
    )
    if found is None:
        raise Http404
    township = found.call.township
    full = township.pk in reviewing
    own = recruitment.is_own(person, found)
    may_review = full and not own and found.status == Status.SUBMITTED and found.erased_at is None
    form = ReviewForm(request.POST if request.method == "POST" else None, township=township)
    if request.method == "POST":
        if not may_review:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                recruitment.review(
                    person,
                    found,
                    accept=data["decision"] == "accept",
                    reason=data["reason"],
                    lanes=data["lanes"],
                    team=data["team"],
                    new_team=data["new_team"],
                )
            except TownshipRefused as exc:
                place_action_error(
                    form, exc, exc.field, invalid=isinstance(exc, InvalidTownshipInput)
                )
            else:
                messages.success(request, _("The application is reviewed; the applicant is told."))
                return HttpResponseRedirect(reverse("township:application", args=[found.pk]))
    preferred = list(found.preferred_lanes.order_by("name"))
    age = None
    if full and found.erased_at is None and (found.birth_date or found.birth_year):
        try:
            low, high = recruitment.age_range(
                found.birth_date, found.birth_year, found.call.opens_on
            )
        except TownshipRefused:
            pass
        else:
            age = str(low) if low == high else f"{low}–{high}"
    return render(
        request,
        "desk/recruitment/application.html",
        {
            "application": found,
            "shown": recruitment.shown(found, full=full),
            "preferred": preferred,
            "age": age,
            "form": form,
            "may_review": may_review,
            "own": own,
        },
        status=400 if request.method == "POST" else 200,
    )
