"""The chiefs' office appoints street and lane chiefs to a lane and ends their appointments
(`whistle.patrols.appointments`); the page shows the lane's chiefs now (those appointed, and
those who hold the post without an appointment, whose appointment the office records in one
step) with the log of appointments."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST

from whistle.cases.errors import ActionRefused
from whistle.organisation.models import Lane, Person, Role, RoleAssignment
from whistle.patrols.appointments import (
    CHIEF_ROLES,
    appoint_chief,
    end_appointment,
    held_without_appointment,
    may_appoint,
    running,
)
from whistle.patrols.models import AppointmentEvent, ChiefAppointment
from whistle.street.forms import (
    AppointForm,
    EndAppointmentForm,
    RecordAppointmentForm,
    show_refusal,
)

# Said when an appointment leaves the lane with more than one chief in the post.
SEVERAL = {
    Role.LANE_CHIEF: _lazy(
        "%(lane)s now has %(count)s lane chiefs: %(names)s. If this is a handover, end the "
        "earlier chief's appointment; for one who holds the post without an appointment, "
        "record it first."
    ),
    Role.STREET_CHIEF: _lazy(
        "%(lane)s now has %(count)s street chiefs: %(names)s. If this is a handover, end the "
        "earlier chief's appointment; for one who holds the post without an appointment, "
        "record it first."
    ),
}


def _office_lane(request: HttpRequest, pk: int) -> Lane:
    lane = get_object_or_404(Lane.objects.select_related("township"), pk=pk)
    if not may_appoint(request.user, lane):
        raise PermissionDenied(
            _("Only the chiefs' office of the lane's township or district appoints its chiefs.")
        )
    return lane


def _page(
    request: HttpRequest,
    lane: Lane,
    *,
    appoint: AppointForm | None = None,
    ending: tuple[int, EndAppointmentForm] | None = None,
    recording: tuple[int, RecordAppointmentForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    appointed = running(lane).select_related("person").order_by("starts_on", "pk")
    today = timezone.localdate()

    def end_form(appointment: ChiefAppointment) -> EndAppointmentForm:
        if ending is not None and ending[0] == appointment.pk:
            return ending[1]
        return EndAppointmentForm(initial={"ends_on": today}, prefix=f"end-{appointment.pk}")

    def record_form(row: RoleAssignment) -> RecordAppointmentForm:
        if recording is not None and recording[0] == row.pk:
            return recording[1]
        return RecordAppointmentForm(initial={"starts_on": today}, prefix=f"record-{row.pk}")

    context: dict[str, Any] = {
        "lane": lane,
        "running": [(a, end_form(a)) for a in appointed],
        "held": [(row, record_form(row)) for row in held_without_appointment(lane)],
        "appoint": appoint or AppointForm(initial={"starts_on": today}),
        "log": AppointmentEvent.objects.filter(appointment__lane=lane)
        .select_related("actor", "appointment__person")
        .order_by("-at", "-pk"),
        # The answers to its forms stand at addresses that take forms only.
        "form_page": reverse("lanes:appointments", args=[lane.pk]),
    }
    return render(request, "street/lanes/appointments.html", context, status=status)


def _signed_in(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return None


@require_GET
def appointments(request: HttpRequest, pk: int) -> HttpResponse:
    return _signed_in(request) or _page(request, _office_lane(request, pk))


@require_POST
def appoint(request: HttpRequest, pk: int) -> HttpResponse:
    if (refused := _signed_in(request)) is not None:
        return refused
    lane = _office_lane(request, pk)
    form = AppointForm(request.POST)
    if not form.is_valid():
        return _page(request, lane, appoint=form, status=400)
    person = Person.objects.filter(username=form.cleaned_data["username"].strip()).first()
    if person is None:
        form.add_error("username", _("No account has this name."))
        return _page(request, lane, appoint=form, status=400)
    try:
        appoint_chief(
            request.user,  # type: ignore[arg-type]
            person=person,
            lane=lane,
            role=form.cleaned_data["role"],
            starts_on=form.cleaned_data["starts_on"],
        )
    except ActionRefused as error:
        show_refusal(form, error)
        return _page(request, lane, appoint=form, status=409)
    messages.success(
        request,
        _("%(person)s is appointed to %(lane)s.")
        % {"person": person.display_name, "lane": lane.name},
    )
    _say_if_shared(request, lane, form.cleaned_data["role"])
    return redirect("lanes:appointments", pk=lane.pk)


def _say_if_shared(request: HttpRequest, lane: Lane, role: str) -> None:
    """Name every chief in the post when an appointment leaves the lane with more than one,
    appointed or not: a lane may have several, but a handover ends the earlier one's post."""
    names = [
        row.person.display_name
        for row in RoleAssignment.objects.filter(lane=lane, role=role, person__is_active=True)
        .select_related("person")
        .order_by("pk")
    ]
    if len(names) > 1:
        messages.warning(
            request,
            str(SEVERAL[Role(role)])
            % {"lane": lane.name, "count": len(names), "names": _(", ").join(names)},
        )


@require_POST
def record(request: HttpRequest, pk: int, held: int) -> HttpResponse:
    """Record the appointment of a chief who holds the post on the lane without one."""
    if (refused := _signed_in(request)) is not None:
        return refused
    lane = _office_lane(request, pk)
    row = get_object_or_404(
        RoleAssignment.objects.select_related("person"),
        pk=held,
        lane=lane,
        role__in=CHIEF_ROLES,
    )
    form = RecordAppointmentForm(request.POST, prefix=f"record-{row.pk}")
    if not form.is_valid():
        return _page(request, lane, recording=(row.pk, form), status=400)
    try:
        appoint_chief(
            request.user,  # type: ignore[arg-type]
            person=row.person,
            lane=lane,
            role=row.role,
            starts_on=form.cleaned_data["starts_on"],
        )
    except ActionRefused as error:
        if not held_without_appointment(lane).filter(pk=row.pk).exists():
            # Recorded meanwhile (a second tap, or another member of the office).
            messages.error(request, str(error))
            return redirect("lanes:appointments", pk=lane.pk)
        show_refusal(form, error)
        return _page(request, lane, recording=(row.pk, form), status=409)
    messages.success(
        request,
        _("The appointment of %(person)s as %(role)s is recorded.")
        % {"person": row.person.display_name, "role": Role(row.role).label},
    )
    return redirect("lanes:appointments", pk=lane.pk)


@require_POST
def end(request: HttpRequest, pk: int, appointment: int) -> HttpResponse:
    if (refused := _signed_in(request)) is not None:
        return refused
    lane = _office_lane(request, pk)
    row = get_object_or_404(ChiefAppointment, pk=appointment, lane=lane)
    form = EndAppointmentForm(request.POST, prefix=f"end-{row.pk}")
    if not form.is_valid():
        return _page(request, lane, ending=(row.pk, form), status=400)
    try:
        end_appointment(
            request.user,  # type: ignore[arg-type]
            row,
            ends_on=form.cleaned_data["ends_on"],
            reason=form.cleaned_data["reason"],
        )
    except ActionRefused as error:
        show_refusal(form, error)
        return _page(request, lane, ending=(row.pk, form), status=409)
    messages.success(request, _("The appointment has ended."))
    return redirect("lanes:appointments", pk=lane.pk)
