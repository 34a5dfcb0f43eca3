"""Training sessions for chiefs and alley stewards, their attendance, and recognitions.

The chiefs' offices of the district and of the township (街巷长办公室), and the township's
chief of lanes for the township, record the training sessions they hold (topic, date, place,
trainer, for chiefs and/or stewards) and who attended; the chiefs' office records a
recognition (表彰) of a chief or steward with its reasons. The chiefs' assessment counts the
sessions each person attended in a period and shows their recognitions
(`whistle.assessment.chiefs`).

A record that judges someone is not of their own making: nobody records their own
attendance or recognises themselves. Each action runs in one transaction, reads the actor's
roles afresh and writes who recorded the row and when; a refusal writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from whistle.cases.errors import InvalidInput, PermissionRefused
from whistle.organisation.models import Jurisdiction, Person, Role, RoleAssignment
from whistle.patrols.appointments import beijing_day
from whistle.patrols.models import Recognition, TrainingAttendance, TrainingSession

TRAINERS = (Role.CHIEFS_OFFICE, Role.TOWNSHIP_CHIEF)
RECOGNISERS = (Role.CHIEFS_OFFICE,)
CHIEF_ROLES = (Role.STREET_CHIEF, Role.LANE_CHIEF)
STREET_ROLES = (*CHIEF_ROLES, Role.STEWARD)
TEXT_MAX = 120
TRAINER_MAX = 60
REASONS_MAX = 1000

AUDIENCE_ROLES: dict[str, tuple[str, ...]] = {
    TrainingSession.Audience.CHIEFS: CHIEF_ROLES,
    TrainingSession.Audience.STEWARDS: (Role.STEWARD,),
    TrainingSession.Audience.BOTH: STREET_ROLES,
}


def offices(person: Any, roles: tuple[str, ...] = TRAINERS) -> dict[int, str]:
    """The districts and townships whose training (or recognitions) the person records, with
    the role they do it in. A township chief of lanes records for their township only."""
    if not getattr(person, "is_authenticated", False) or not person.is_active:
        return {}
    found: dict[int, str] = {}
    rows = RoleAssignment.objects.held_by(person).filter(role__in=roles, jurisdiction__isnull=False)
    for role, jurisdiction_id in rows.values_list("role", "jurisdiction_id"):
        found.setdefault(jurisdiction_id, role)
    return found


def _under(jurisdiction_id: int) -> Q:
    """Lanes of the township, or of every township of the district."""
    return Q(lane__township_id=jurisdiction_id) | Q(lane__township__parent_id=jurisdiction_id)


def eligible_people(organiser: Jurisdiction, roles: Iterable[str]) -> QuerySet[Person]:
    """The active people holding one of the street roles on a lane of the organiser."""
    ids = RoleAssignment.objects.filter(_under(organiser.pk), role__in=list(roles)).values(
        "person_id"
    )
    return Person.objects.filter(pk__in=ids, is_active=True).order_by("name", "username", "pk")


def _text(field: str, value: str, limit: int, missing: Any) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(field, missing)
    if len(value) > limit:
        raise InvalidInput(field, _("At most %(n)s characters."), n=limit)
    return value


def _require(actor: Person, organiser: Jurisdiction, roles: tuple[str, ...]) -> str:
    role = offices(actor, roles).get(organiser.pk)
    if role is None:
        raise PermissionRefused(
            _("Only the chiefs' office of %(office)s records this."), office=organiser.name
        )
    return role


def record_training(
    actor: Person,
    *,
    organiser: Jurisdiction,
    topic: str,
    held_on: date,
    place: str,
    trainer: str,
    audience: str,
    now: datetime | None = None,
) -> TrainingSession:
    """Record a training session held (today or on an earlier day) by the organiser."""
    now = now or timezone.now()
    topic = _text("topic", topic, TEXT_MAX, _("Give the topic."))
    place = _text("place", place, TEXT_MAX, _("Give the place."))
    trainer = _text("trainer", trainer, TRAINER_MAX, _("Give the trainer."))
    if audience not in AUDIENCE_ROLES:
        raise InvalidInput("audience", _("Choose who the session was for."))
    if held_on > beijing_day(now):
        raise InvalidInput("held_on", _("Record a session once it has been held."))
    with transaction.atomic():
        role = _require(actor, organiser, TRAINERS)
        return TrainingSession.objects.create(
            organiser=organiser,
            topic=topic,
            held_on=held_on,
            place=place,
            trainer=trainer,
            audience=audience,
            recorded_by=actor,
            recorded_role=role,
            recorded_at=now,
        )


def record_attendance(
    actor: Person,
    session: TrainingSession,
    *,
    people: Iterable[int],
    now: datetime | None = None,
) -> int:
    """Record who attended: each of `people` must hold a role the session was for on a lane
    of the organiser; already recorded attendees are kept once. Returns how many were
    added."""
    now = now or timezone.now()
    wanted = sorted(set(people))
    if not wanted:
        raise InvalidInput("people", _("Choose who attended."))
    with transaction.atomic():
        session = (
            TrainingSession.objects.select_for_update()
            .select_related("organiser")
            .get(pk=session.pk)
        )
        _require(actor, session.organiser, TRAINERS)
        if actor.pk in wanted:
            raise PermissionRefused(_("Nobody records their own attendance."))
        eligible = set(
            eligible_people(session.organiser, AUDIENCE_ROLES[session.audience])
            .filter(pk__in=wanted)
            .values_list("pk", flat=True)
        )
        if eligible != set(wanted):
            raise InvalidInput(
                "people", _("Only the chiefs or stewards this session was for can attend it.")
            )
        present = set(session.attendances.values_list("person_id", flat=True))
        new = [pk for pk in wanted if pk not in present]
        TrainingAttendance.objects.bulk_create(
            TrainingAttendance(session=session, person_id=pk, recorded_by=actor, recorded_at=now)
            for pk in new
        )
    return len(new)


def recognise(
    actor: Person,
    *,
    office: Jurisdiction,
    person: Person,
    reasons: str,
    now: datetime | None = None,
) -> Recognition:
    """A chiefs' office recognises one of its chiefs or stewards, with reasons."""
    now = now or timezone.now()
    reasons = _text("reasons", reasons, REASONS_MAX, _("Give the reasons for the recognition."))
    with transaction.atomic():
        _require(actor, office, RECOGNISERS)
        if person.pk == actor.pk:
            raise PermissionRefused(_("Nobody recognises themselves."))
        held = list(
            RoleAssignment.objects.filter(_under(office.pk), person=person, role__in=STREET_ROLES)
            .order_by("role")
            .values_list("role", flat=True)
        )
        if not held or not person.is_active:
            raise InvalidInput(
                "person", _("Choose a chief or an alley steward of %(office)s."), office=office.name
            )
        role = next((r for r in STREET_ROLES if r in held), held[0])
        return Recognition.objects.create(
            person=person,
            role=role,
            office=office,
            reasons=reasons,
            recorded_by=actor,
            recorded_at=now,
        )
