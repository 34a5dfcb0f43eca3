"""Training of chiefs and stewards, and recognitions (`/district/training/`,
`/district/recognitions/`): the chiefs' offices of the district and of the township, and the
township's chief of lanes, record the sessions they held and who attended; the chiefs'
offices record recognitions. Every change goes through `whistle.patrols.training`; the
chiefs' assessment (`district:chiefs`) counts the attendance and shows the recognitions."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from whistle.cases.errors import ActionRefused, InvalidInput
from whistle.district.access import Reader
from whistle.district.views.common import page_context
from whistle.organisation.models import Jurisdiction, Person, Role
from whistle.patrols import training
from whistle.patrols.models import Recognition, TrainingSession
from whistle.web.forms import DateInput, Textarea, place_action_error


def _person(request: HttpRequest) -> Person:
    return cast(Person, request.user)


def _offices(person: Any, roles: tuple[str, ...]) -> list[Jurisdiction]:
    ids = sorted(training.offices(person, roles))
    return list(Jurisdiction.objects.filter(pk__in=ids).order_by("code"))


def _refused(form: forms.Form, exc: ActionRefused) -> None:
    field = getattr(exc, "field", None)
    place_action_error(form, exc, field, invalid=isinstance(exc, InvalidInput))


class SessionForm(forms.Form):
    organiser = forms.TypedChoiceField(label=gettext_lazy("Held by"), coerce=int)
    topic = forms.CharField(label=gettext_lazy("Topic"), max_length=training.TEXT_MAX)
    held_on = forms.DateField(label=gettext_lazy("Date"), widget=DateInput())
    place = forms.CharField(label=gettext_lazy("Place"), max_length=training.TEXT_MAX)
    trainer = forms.CharField(label=gettext_lazy("Trainer"), max_length=training.TRAINER_MAX)
    audience = forms.ChoiceField(
        label=gettext_lazy("For"), choices=TrainingSession.Audience.choices
    )

    def __init__(self, *args: Any, offices: list[Jurisdiction], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organiser"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(o.pk, o.name) for o in offices]


class AttendanceForm(forms.Form):
    people = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Attended"), coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["people"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices


class RecognitionForm(forms.Form):
    office = forms.TypedChoiceField(label=gettext_lazy("Chiefs' office of"), coerce=int)
    person = forms.TypedChoiceField(label=gettext_lazy("Chief or steward"), coerce=int)
    reasons = forms.CharField(
        label=gettext_lazy("Reasons"),
        max_length=training.REASONS_MAX,
        widget=Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self, *args: Any, offices: list[Jurisdiction], people: list[Person], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        office = self.fields["office"]
        assert isinstance(office, forms.ChoiceField)
        office.choices = [(o.pk, o.name) for o in offices]
        person = self.fields["person"]
        assert isinstance(person, forms.ChoiceField)
        person.choices = [("", "—"), *((p.pk, p.display_name) for p in people)]


@login_required
@require_http_methods(["GET", "POST"])
def sessions(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    offices = _offices(person, training.TRAINERS)
    if not offices:
        raise PermissionDenied
    form = SessionForm(
        request.POST if request.method == "POST" else None,
        offices=offices,
        initial={"held_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        organiser = next(o for o in offices if o.pk == data.pop("organiser"))
        try:
            session = training.record_training(person, organiser=organiser, **data)
        except ActionRefused as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("The session is recorded: now record who attended."))
            return HttpResponseRedirect(reverse("district:training-session", args=[session.pk]))
    rows = list(
        TrainingSession.objects.filter(organiser__in=offices)
        .select_related("organiser")
        .annotate(attended=Count("attendances"))
        .order_by("-held_on", "-pk")[:100]
    )
    context = page_context(
        Reader.of(person),
        "training",
        sessions=rows,
        form=form,
        may_recognise=bool(training.offices(person, training.RECOGNISERS)),
    )
    status = 400 if request.method == "POST" else 200
    return render(request, "district/district/training.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def session(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request)
    offices = _offices(person, training.TRAINERS)
    found = (
        TrainingSession.objects.filter(pk=pk, organiser__in=offices)
        .select_related("organiser")
        .first()
    )
    if found is None:
        raise Http404
    eligible = list(
        training.eligible_people(found.organiser, training.AUDIENCE_ROLES[found.audience])
    )
    attended = set(found.attendances.values_list("person_id", flat=True))
    choices = [
        (p.pk, p.display_name) for p in eligible if p.pk not in attended and p.pk != person.pk
    ]
    form = AttendanceForm(request.POST if request.method == "POST" else None, choices=choices)
    if request.method == "POST" and form.is_valid():
        try:
            added = training.record_attendance(person, found, people=form.cleaned_data["people"])
        except ActionRefused as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("%(n)s attendees recorded.") % {"n": added})
            return HttpResponseRedirect(reverse("district:training-session", args=[found.pk]))
    attendees = [p for p in eligible if p.pk in attended] + list(
        Person.objects.filter(pk__in=sorted(attended - {p.pk for p in eligible}))
    )
    context = page_context(
        Reader.of(person),
        "training",
        session=found,
        attendees=attendees,
        form=form,
        may_add=bool(choices),
    )
    status = 400 if request.method == "POST" else 200
    return render(request, "district/district/training_session.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def recognitions(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    offices = _offices(person, training.RECOGNISERS)
    if not offices:
        raise PermissionDenied
    people: dict[int, Person] = {}
    for office in offices:
        for p in training.eligible_people(office, training.STREET_ROLES):
            if p.pk != person.pk:
                people.setdefault(p.pk, p)
    form = RecognitionForm(
        request.POST if request.method == "POST" else None,
        offices=offices,
        people=sorted(people.values(), key=lambda p: (p.display_name, p.pk)),
        initial={"person": request.GET.get("person", "")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        office = next(o for o in offices if o.pk == data["office"])
        try:
            training.recognise(
                person, office=office, person=people[data["person"]], reasons=data["reasons"]
            )
        except ActionRefused as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("The recognition is recorded."))
            return HttpResponseRedirect(reverse("district:recognitions"))
    rows = list(
        Recognition.objects.filter(office__in=offices)
        .select_related("person", "office", "recorded_by")
        .order_by("-recorded_at", "-pk")[:100]
    )
    context = page_context(Reader.of(person), "training", recognitions=rows, form=form, roles=Role)
    status = 400 if request.method == "POST" else 200
    return render(request, "district/district/recognitions.html", context, status=status)
