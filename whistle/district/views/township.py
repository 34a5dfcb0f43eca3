"""The township's powers, seen from the district: the major matters it registers and the
townships' opinions on them (respond to each; overdue opinions and overdue responses
first), and the townships' recommendations on personnel that the district chief of lanes
decides.

Every change goes through `whistle.township.actions`; a matter or a recommendation the
person may not see is not found (404).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from whistle.organisation.models import Jurisdiction, Person
from whistle.township import actions
from whistle.township.errors import InvalidTownshipInput, TownshipRefused
from whistle.township.models import MajorMatter, MatterOpinion, PersonnelRecommendation
from whistle.township.permissions import (
    DECIDERS,
    MATTER_KEEPERS,
    jurisdictions_of,
    role_in,
)
from whistle.web.forms import DateTimeInput, Textarea, place_action_error

LOCAL_INPUT = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


def _person(request: HttpRequest) -> Person:
    return cast(Person, request.user)


def _districts(person: Any, roles: tuple[str, ...]) -> list[Jurisdiction]:
    ids = sorted(jurisdictions_of(person, roles))
    return list(
        Jurisdiction.objects.filter(pk__in=ids, level=Jurisdiction.Level.DISTRICT).order_by("code")
    )


def _apply_refusal(form: forms.Form, exc: TownshipRefused) -> None:
    place_action_error(form, exc, exc.field, invalid=isinstance(exc, InvalidTownshipInput))


def _moment(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        widget=DateTimeInput(),
        input_formats=LOCAL_INPUT,
        help_text=gettext_lazy("Beijing time."),
    )


# --- Forms ---------------------------------------------------------------------------------


class MatterForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=MajorMatter.Kind.choices)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=actions.TITLE_MAX)
    description = forms.CharField(
        label=gettext_lazy("What the matter is"),
        max_length=actions.TEXT_MAX,
        widget=Textarea(attrs={"rows": 5}),
    )
    townships = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Townships asked for their opinion"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    opinions_due_at = _moment(gettext_lazy("Opinions due"))
    responses_due_at = _moment(gettext_lazy("Responses due"))

    def __init__(self, *args: Any, district: Jurisdiction, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choosable = {
            t.pk: t
            for t in Jurisdiction.objects.filter(
                parent=district, level=Jurisdiction.Level.TOWNSHIP
            ).order_by("code")
        }
        field = self.fields["townships"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(pk, t.display_name) for pk, t in self.choosable.items()]
        if not self.is_bound:
            start = timezone.localtime().replace(hour=18, minute=0, second=0, microsecond=0)
            self.initial.update(
                opinions_due_at=start + timedelta(days=14),
                responses_due_at=start + timedelta(days=28),
            )


class ResponseForm(forms.Form):
    response = forms.CharField(
        label=gettext_lazy("Response"),
        max_length=actions.TEXT_MAX,
        widget=Textarea(attrs={"rows": 3}),
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision on the recommendation"),
        choices=[c for c in PersonnelRecommendation.Decision.choices if c[0]],
    )
    note = forms.CharField(
        label=gettext_lazy("Reasons for the decision"),
        max_length=actions.TEXT_MAX,
        widget=Textarea(attrs={"rows": 3}),
    )


# --- Major matters -------------------------------------------------------------------------


@login_required
@require_GET
def matters(request: HttpRequest) -> HttpResponse:
    districts = _districts(_person(request), MATTER_KEEPERS)
    if not districts:
        raise PermissionDenied
    now = timezone.now()
    opinions = MatterOpinion.objects.filter(matter__district__in=districts).select_related(
        "matter", "township"
    )
    found = list(
        MajorMatter.objects.filter(district__in=districts)
        .select_related("district")
        .prefetch_related("opinions")
    )
    for matter in found:
        states = [o.state(now) for o in matter.opinions.all()]
        matter.filed_count = sum(  # type: ignore[attr-defined]
            1 for o in matter.opinions.all() if o.filed_at is not None
        )
        matter.asked_count = len(states)  # type: ignore[attr-defined]
        matter.overdue_count = sum(  # type: ignore[attr-defined]
            1
            for s in states
            if s in (MatterOpinion.State.OPINION_OVERDUE, MatterOpinion.State.RESPONSE_OVERDUE)
        )
    return render(
        request,
        "district/township/matters.html",
        {
            "matters": found,
            "overdue_opinions": list(
                opinions.overdue_opinions(now).order_by("matter__opinions_due_at")
            ),
            "overdue_responses": list(
                opinions.overdue_responses(now).order_by("matter__responses_due_at")
            ),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def matter_new(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    districts = _districts(person, MATTER_KEEPERS)
    if not districts:
        raise PermissionDenied
    district = districts[0]
    form = MatterForm(request.POST if request.method == "POST" else None, district=district)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            matter = actions.register_matter(
                person,
                district,
                kind=data["kind"],
                title=data["title"],
                description=data["description"],
                townships=[form.choosable[pk] for pk in data["townships"]],
                opinions_due_at=data["opinions_due_at"],
                responses_due_at=data["responses_due_at"],
            )
        except TownshipRefused as exc:
            _apply_refusal(form, exc)
        else:
            messages.success(request, _("The matter is registered; the townships are told."))
            return HttpResponseRedirect(reverse("district:matter", args=[matter.pk]))
    return render(
        request,
        "district/township/matter_form.html",
        {"form": form, "district": district},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def matter(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request)
    districts = sorted(jurisdictions_of(person, MATTER_KEEPERS))
    found = (
        MajorMatter.objects.filter(pk=pk, district_id__in=districts)
        .select_related("district", "registered_by")
        .first()
    )
    if found is None:
        raise Http404
    now = timezone.now()
    opinions = list(
        found.opinions.select_related("township", "filed_by", "responded_by").order_by(
            "township__code"
        )
    )
    may_respond = role_in(person, MATTER_KEEPERS, found.district_id) is not None
    bound: tuple[int, ResponseForm] | None = None
    if request.method == "POST":
        target = request.POST.get("target", "")
        opinion = next((o for o in opinions if str(o.pk) == target), None)
        if opinion is None or not may_respond:
            raise PermissionDenied
        form = ResponseForm(request.POST, prefix=f"o{opinion.pk}")
        if form.is_valid():
            try:
                actions.respond_to_opinion(person, opinion, **form.cleaned_data)
            except TownshipRefused as exc:
                _apply_refusal(form, exc)
            else:
                messages.success(request, _("The response is recorded; the township is told."))
                return HttpResponseRedirect(reverse("district:matter", args=[found.pk]))
        bound = (opinion.pk, form)
    rows = []
    for opinion in opinions:
        state = opinion.state(now)
        answer: ResponseForm | None = None
        if may_respond and opinion.filed_at is not None and opinion.responded_at is None:
            answer = bound[1] if bound and bound[0] == opinion.pk else None
            answer = answer or ResponseForm(prefix=f"o{opinion.pk}")
        rows.append(
            {
                "opinion": opinion,
                "state": state,
                "label": MatterOpinion.State(state).label,
                "form": answer,
            }
        )
    return render(
        request,
        "district/township/matter.html",
        {"matter": found, "rows": rows, "states": MatterOpinion.State},
        status=400 if bound else 200,
    )


# --- Recommendations on personnel ----------------------------------------------------------


def _recommendations(person: Any) -> Any:
    districts = sorted(jurisdictions_of(person, DECIDERS))
    return PersonnelRecommendation.objects.filter(township__parent_id__in=districts)


@login_required
@require_GET
def recommendations(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    if not jurisdictions_of(person, DECIDERS):
        raise PermissionDenied
    rows = list(_recommendations(person).select_related("township", "department"))
    return render(
        request,
        "district/township/recommendations.html",
        {
            "pending": [r for r in rows if r.decided_at is None],
            "decided": [r for r in rows if r.decided_at is not None],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def recommendation(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request)
    found = (
        _recommendations(person)
        .filter(pk=pk)
        .select_related("township", "department", "filed_by", "decided_by")
        .first()
    )
    if found is None:
        raise Http404
    form = None
    if found.decided_at is None:
        form = DecisionForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                actions.decide_recommendation(person, found, **form.cleaned_data)
            except TownshipRefused as exc:
                _apply_refusal(form, exc)
            else:
                messages.success(request, _("The decision is recorded; the township is told."))
                return HttpResponseRedirect(reverse("district:recommendation", args=[found.pk]))
    elif request.method == "POST":
        raise PermissionDenied
    records = found.records.select_related("department", "case").order_by("-month", "pk")
    return render(
        request,
        "district/township/recommendation.html",
        {"recommendation": found, "records": records, "decision_form": form},
        status=400 if form is not None and form.is_bound else 200,
    )
