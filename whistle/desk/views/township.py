"""The township's powers, seen from the township: the district's major matters that ask its
opinion (file the opinion and proposals, read the district's response) and, for the
township's chief of lanes alone, its recommendations on the leaders of the dispatched
agencies serving it, with the assessment records attached.

Every change goes through `whistle.township.actions`; a matter or a recommendation the
person may not see is not found (404).
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from whistle.assessment.models import SummonsAssessment
from whistle.organisation.models import Department, Jurisdiction, Person
from whistle.organisation.scoping import has_role
from whistle.township import actions
from whistle.township.errors import InvalidTownshipInput, TownshipRefused
from whistle.township.models import MatterOpinion, PersonnelRecommendation
from whistle.township.permissions import (
    MATTER_READERS,
    OPINION_FILERS,
    RECOMMENDERS,
    jurisdictions_of,
    role_in,
    visible_recommendations,
)
from whistle.web.forms import Textarea, place_action_error

# The most recent records of each agency the form offers to attach.
RECORDS_SHOWN = 30


def _person(request: HttpRequest) -> Person:
    return cast(Person, request.user)


def _townships(person: Any, roles: tuple[str, ...]) -> list[Jurisdiction]:
    ids = sorted(jurisdictions_of(person, roles))
    return list(
        Jurisdiction.objects.filter(pk__in=ids, level=Jurisdiction.Level.TOWNSHIP).order_by("code")
    )


def _apply_refusal(form: forms.Form, exc: TownshipRefused) -> None:
    place_action_error(form, exc, exc.field, invalid=isinstance(exc, InvalidTownshipInput))


# --- Forms ---------------------------------------------------------------------------------


class OpinionForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Opinion"),
        max_length=actions.TEXT_MAX,
        widget=Textarea(attrs={"rows": 5}),
    )
    proposals = forms.CharField(
        label=gettext_lazy("Proposals"),
        required=False,
        max_length=actions.TEXT_MAX,
        widget=Textarea(attrs={"rows": 3}),
    )


class RecommendationForm(forms.Form):
    """The records to attach come under the name of their agency; only the chosen agency's
    may be attached, which the action checks. The agency's list narrows the records to its
    own as it changes (static/desk/narrow.js)."""

    department = forms.TypedChoiceField(
        label=gettext_lazy("Dispatched agency"),
        coerce=int,
        widget=forms.Select(attrs={"data-narrows": "#id_records"}),
    )
    leader_name = forms.CharField(label=gettext_lazy("Leader's name"), max_length=actions.NAME_MAX)
    leader_post = forms.CharField(
        label=gettext_lazy("Leader's post"),
        max_length=actions.NAME_MAX,
        help_text=gettext_lazy("e.g. station chief, team leader"),
    )
    proposal = forms.ChoiceField(
        label=gettext_lazy("The township recommends"),
        choices=PersonnelRecommendation.Proposal.choices,
    )
    reasons = forms.CharField(
        label=gettext_lazy("Reasons"),
        max_length=actions.TEXT_MAX,
        widget=Textarea(attrs={"rows": 5}),
    )
    records = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Supporting assessment records"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Only the township's own records of the chosen agency, most recent first."
        ),
    )

    def __init__(self, *args: Any, township: Jurisdiction, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agencies = {
            d.pk: d
            for d in Department.objects.filter(
                district_id=township.parent_id, kind=Department.Kind.DISPATCHED, is_active=True
            ).order_by("name")
            if actions.serves(d, township)
        }
        department = self.fields["department"]
        assert isinstance(department, forms.ChoiceField)
        department.choices = [("", "—"), *((pk, d.display_name) for pk, d in self.agencies.items())]
        latest = Window(
            RowNumber(),
            partition_by=[F("department_id")],
            order_by=[F("month").desc(), F("pk").desc()],
        )
        self.records_shown = list(
            SummonsAssessment.objects.filter(
                township=township, department_id__in=sorted(self.agencies)
            )
            .annotate(latest=latest)
            .filter(latest__lte=RECORDS_SHOWN)
            .select_related("case")
            .order_by("-month", "-pk")
        )
        records = self.fields["records"]
        assert isinstance(records, forms.ChoiceField)
        records.choices = [(r.pk, _record_label(r)) for r in self.records_shown]

    def record_groups(self) -> list[tuple[Department, list[Any]]]:
        """The records' check boxes under their agency, in the agencies' order."""
        boxes = {str(box.data["value"]): box for box in self["records"]}
        groups: dict[int, list[Any]] = {}
        for record in self.records_shown:
            groups.setdefault(record.department_id, []).append(boxes[str(record.pk)])
        return [(d, groups[pk]) for pk, d in self.agencies.items() if pk in groups]


def _record_label(record: SummonsAssessment) -> str:
    total = "—" if record.total is None else f"{record.total}"
    return _("Case %(case)s · %(month)s · %(came)s · score %(total)s") % {
        "case": record.case.reference,
        "month": f"{record.month:%Y-%m}",
        "came": record.get_came_display(),
        "total": total,
    }


# --- Pages ---------------------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    readable = _townships(person, MATTER_READERS)
    recommending = _townships(person, RECOMMENDERS)
    # A district's chiefs' office holds a township role's name without a township: it sees
    # an empty page rather than a refusal, as the navigation offers it the page.
    if not readable and not recommending and not has_role(person, *MATTER_READERS):
        raise PermissionDenied
    now = timezone.now()
    opinions = list(
        MatterOpinion.objects.filter(township__in=readable)
        .select_related("matter", "township", "matter__district")
        .order_by("-matter__opinions_due_at", "township__code")
    )
    for opinion in opinions:
        state = opinion.state(now)
        opinion.current_state = state  # type: ignore[attr-defined]
        opinion.current_label = MatterOpinion.State(state).label  # type: ignore[attr-defined]
    recommendations = list(
        visible_recommendations(person)
        .filter(township__in=recommending)
        .select_related("township", "department")
    )
    return render(
        request,
        "desk/township/home.html",
        {
            "opinions": opinions,
            "recommendations": recommendations,
            "recommending": recommending,
            "states": MatterOpinion.State,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def matter(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request)
    readable = sorted(jurisdictions_of(person, MATTER_READERS))
    opinion = (
        MatterOpinion.objects.filter(pk=pk, township_id__in=readable)
        .select_related("matter", "matter__district", "township", "filed_by", "responded_by")
        .first()
    )
    if opinion is None:
        raise Http404
    may_file = opinion.filed_at is None and role_in(person, OPINION_FILERS, opinion.township_id)
    form = OpinionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not may_file:
            raise PermissionDenied
        if form.is_valid():
            try:
                actions.file_opinion(person, opinion, **form.cleaned_data)
            except TownshipRefused as exc:
                _apply_refusal(form, exc)
            else:
                messages.success(request, _("The township's opinion is filed."))
                return HttpResponseRedirect(reverse("township:matter", args=[opinion.pk]))
    status = 400 if form.is_bound else 200
    state = opinion.state(timezone.now())
    return render(
        request,
        "desk/township/matter.html",
        {
            "opinion": opinion,
            "matter": opinion.matter,
            "state": state,
            "state_label": MatterOpinion.State(state).label,
            "states": MatterOpinion.State,
            "form": form if may_file else None,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def recommendation_new(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    townships = _townships(person, RECOMMENDERS)
    if not townships:
        raise PermissionDenied
    township = townships[0]
    code = request.GET.get("township", "")
    if code:
        chosen_township = next((t for t in townships if t.code == code), None)
        if chosen_township is None:
            raise Http404
        township = chosen_township
    form = RecommendationForm(request.POST if request.method == "POST" else None, township=township)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = {r.pk: r for r in form.records_shown}
        try:
            recommendation = actions.file_recommendation(
                person,
                township,
                department=form.agencies[data["department"]],
                leader_name=data["leader_name"],
                leader_post=data["leader_post"],
                proposal=data["proposal"],
                reasons=data["reasons"],
                records=[chosen[pk] for pk in data["records"]],
            )
        except TownshipRefused as exc:
            _apply_refusal(form, exc)
        else:
            messages.success(request, _("The recommendation is filed with the district."))
            return HttpResponseRedirect(
                reverse("township:recommendation", args=[recommendation.pk])
            )
    return render(
        request,
        "desk/township/recommendation_form.html",
        {"form": form, "township": township},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_GET
def recommendation(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request)
    townships = sorted(jurisdictions_of(person, RECOMMENDERS))
    found = (
        visible_recommendations(person)
        .filter(pk=pk, township_id__in=townships)
        .select_related("township", "department", "filed_by", "decided_by")
        .first()
    )
    if found is None:
        raise Http404
    records = found.records.select_related("department", "case").order_by("-month", "pk")
    return render(
        request,
        "desk/township/recommendation.html",
        {"recommendation": found, "records": records},
    )
