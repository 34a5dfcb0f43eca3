"""Chiefs' offices appoint street and lane chiefs to lanes and end their appointments.

A chiefs' office of the lane's district or township decides; nobody appoints themselves or
ends their own appointment (the same office assesses the chiefs it appoints, and a chief's
record must not be of their own making). Each action runs in one transaction, keeps the
chief's role on the lane (`RoleAssignment`) in step with the running appointments, and
appends its log row (`AppointmentEvent`). Days are Beijing days; an appointment may be
recorded from a past day (appointments made on paper before the product), never from a day
still to come, so the role on the lane is never granted ahead of time.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from whistle.cases.errors import ActionRefused, InvalidInput, PermissionRefused
from whistle.notifications.texts import Named
from whistle.organisation.models import Lane, Person, Role, RoleAssignment
from whistle.patrols.models import AppointmentEvent, ChiefAppointment
from whistle.policies.calendar import LOCAL_TIME_ZONE

CHIEF_ROLES = (Role.STREET_CHIEF, Role.LANE_CHIEF)
REASON_MAX = 200


def beijing_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TIME_ZONE).date()


def office_jurisdictions(person: Any) -> set[int]:
    """The districts and townships whose chiefs' office the person staffs."""
    if not getattr(person, "is_authenticated", False):
        return set()
    return set(
        RoleAssignment.objects.held_by(person)
        .filter(role=Role.CHIEFS_OFFICE, jurisdiction__isnull=False)
        .values_list("jurisdiction_id", flat=True)
    )


def appoints_on(lane: Lane, offices: set[int]) -> bool:
    """Whether one of these chiefs' offices (`office_jurisdictions`) is the lane's township's
    or its district's."""
    return lane.township_id in offices or lane.township.parent_id in offices


def office_role(person: Any, lane: Lane) -> str | None:
    """The chiefs' office role the person holds over the lane (its township's or its
    district's), or None."""
    return Role.CHIEFS_OFFICE if appoints_on(lane, office_jurisdictions(person)) else None


def may_appoint(person: Any, lane: Lane) -> bool:
    return (
        bool(getattr(person, "is_authenticated", False)) and office_role(person, lane) is not None
    )


def _require_office(actor: Person, lane: Lane, chief: Person) -> str:
    role = office_role(actor, lane)
    if role is None:
        raise PermissionRefused(
            _("Only the chiefs' office of %(township)s or of its district appoints its chiefs."),
            township=Named.of(lane.township),
        )
    if chief.pk == actor.pk:
        raise PermissionRefused(_("Nobody appoints themselves or ends their own appointment."))
    return role


def running(lane: Lane) -> QuerySet[ChiefAppointment]:
    return ChiefAppointment.objects.filter(lane=lane, ends_on__isnull=True)


def held_without_appointment(lane: Lane) -> QuerySet[RoleAssignment]:
    """The lane's street and lane chiefs (active accounts) whose post no running appointment
    holds: given in the administration, or before the chiefs' office recorded appointments.
    Recording their appointment (`appoint_chief` for the same person and post) keeps the
    role as it is and starts the appointment's record."""
    appointed = running(lane).filter(person=OuterRef("person"), role=OuterRef("role"))
    return (
        RoleAssignment.objects.filter(lane=lane, role__in=CHIEF_ROLES, person__is_active=True)
        .filter(~Exists(appointed))
        .select_related("person")
        .order_by("role", "pk")
    )


def appoint_chief(
    actor: Person,
    *,
    person: Person,
    lane: Lane,
    role: str,
    starts_on: date,
    now: datetime | None = None,
) -> ChiefAppointment:
    """Appoint `person` as street or lane chief of `lane` from `starts_on`. A lane may have
    several chiefs; the same person twice in the same role while one runs is refused."""
    now = now or timezone.now()
    if role not in CHIEF_ROLES:
        raise InvalidInput("role", _("Choose street chief or lane chief."))
    if starts_on > beijing_day(now):
        raise InvalidInput(
            "starts_on", _("An appointment is recorded from today or an earlier day.")
        )
    with transaction.atomic():
        lane = Lane.objects.select_for_update().select_related("township").get(pk=lane.pk)
        actor_role = _require_office(actor, lane, person)
        if not person.is_active:
            raise InvalidInput("person", _("This account is closed."))
        if running(lane).filter(person=person, role=role).exists():
            raise ActionRefused(
                _("%(person)s is already %(role)s of %(lane)s."),
                person=person.display_name,
                role=Role(role).label,
                lane=lane.name,
            )
        if ChiefAppointment.objects.filter(
            lane=lane, person=person, role=role, ends_on__gte=starts_on
        ).exists():
            raise InvalidInput(
                "starts_on",
                _("An earlier appointment of this person to this lane ran until after this day."),
            )
        appointment = ChiefAppointment.objects.create(
            person=person, lane=lane, role=role, starts_on=starts_on
        )
        RoleAssignment.objects.get_or_create(person=person, role=role, lane=lane)
        AppointmentEvent.objects.create(
            appointment=appointment,
            kind=AppointmentEvent.Kind.APPOINTED,
            actor=actor,
            actor_role=actor_role,
            at=now,
            data={"starts_on": starts_on.isoformat(), "role": role},
        )
    return appointment


def end_appointment(
    actor: Person,
    appointment: ChiefAppointment,
    *,
    ends_on: date,
    reason: str,
    now: datetime | None = None,
) -> ChiefAppointment:
    """End a running appointment on `ends_on` (the last day held), with the reason. The
    chief keeps the role on the lane only while another of their appointments there runs."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason", _("Give the reason for ending the appointment."))
    if len(reason) > REASON_MAX:
        raise InvalidInput("reason", _("The reason is at most %(n)s characters."), n=REASON_MAX)
    with transaction.atomic():
        appointment = (
            ChiefAppointment.objects.select_for_update()
            .select_related("lane__township", "person")
            .get(pk=appointment.pk)
        )
        actor_role = _require_office(actor, appointment.lane, appointment.person)
        if not appointment.is_running:
            raise ActionRefused(_("This appointment has already ended."))
        if ends_on < appointment.starts_on or ends_on > beijing_day(now):
            raise InvalidInput(
                "ends_on",
                _("The last day is between the first day of the appointment and today."),
            )
        appointment.ends_on = ends_on
        appointment.end_reason = reason
        appointment.save(update_fields=["ends_on", "end_reason"])
        still = running(appointment.lane).filter(person=appointment.person, role=appointment.role)
        if not still.exists():
            RoleAssignment.objects.filter(
                person=appointment.person, role=appointment.role, lane=appointment.lane
            ).delete()
        AppointmentEvent.objects.create(
            appointment=appointment,
            kind=AppointmentEvent.Kind.ENDED,
            actor=actor,
            actor_role=actor_role,
            at=now,
            data={"ends_on": ends_on.isoformat(), "reason": reason},
        )
    return appointment


def held_in(first_day: date, last_day: date) -> Q:
    """Appointments that cover at least one day from `first_day` to `last_day`."""
    return Q(starts_on__lte=last_day) & (Q(ends_on__isnull=True) | Q(ends_on__gte=first_day))
