"""Erasing residents' and volunteers' personal data, on request or when the district's
retention period ends (PIPL: kept no longer than its purpose needs).

A case's reporter (resident or hotline caller) loses the name, the phone number and the
salt of the trail's commitment to them; the case gets a `case.personal_data_erased` event,
which holds why and nothing else, so the trail still verifies and says that the data went.
A volunteer (an alley steward) or a resident with an account loses the name, phone, e-mail
and sign-in; the trail refers to people by their id, so nothing in it changes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from whistle.cases.actions._common import moment, record
from whistle.cases.deadlines import SYSTEM_ROLE
from whistle.cases.errors import ActionRefused
from whistle.cases.models import Case, HotlineOrder
from whistle.cases.trail import EventKind, lock_case
from whistle.organisation.models import Person, Role, RoleAssignment
from whistle.organisation.personal_data import erasure_requested, phone_digits
from whistle.policies.models import DistrictPolicy

log = logging.getLogger("whistle.personal_data")

_SWEPT_KEY = "cases:personal-data-swept"

# The roles whose holders give their data as private people: a volunteer steward, a
# resident with an account. Staff data belongs to their employer's records.
PRIVATE_ROLES = frozenset({Role.STEWARD, Role.RESIDENT})


def erase_elsewhere(*, now: datetime, phone: str = "", expired: bool = False) -> int:
    """Ask the other apps to erase what a phone number gave, or what has expired; returns
    how many records they erased."""
    answers = erasure_requested.send(sender=None, phone=phone, expired=expired, now=now)
    return sum(int(n or 0) for _receiver, n in answers)


class ErasureReason(models.TextChoices):
    REQUEST = "request", _("at the person's request")
    RETENTION = "retention", _("the retention period ended")


def _holds_data(case: Case, order_salt: str) -> bool:
    return bool(
        case.reporter_name
        or case.reporter_phone
        or case.reporter_salt
        or case.resident_comment
        or order_salt
    )


def erase_reporter_data(case_id: int, *, reason: str, now: datetime | None = None) -> bool:
    """Erase the reporter's (or caller's) name and phone of one case, the comment of their
    rating and the salt of the trail's commitments to them, in one transaction with its trail
    event. Returns False when the case held none (running it again changes nothing)."""
    if reason not in ErasureReason.values:
        raise ValueError(f"unknown reason {reason!r}")
    now = moment(now)
    with transaction.atomic():
        case = lock_case(case_id)
        order = HotlineOrder.objects.select_for_update().filter(case=case).first()
        if not _holds_data(case, order.caller_salt if order else ""):
            return False
        case.reporter_name = ""
        case.reporter_phone = ""
        case.reporter_salt = ""
        # The resident's comment on their rating may name them; the rating itself stays.
        case.resident_comment = ""
        case.personal_data_erased_at = now
        case.save(
            update_fields=[
                "reporter_name",
                "reporter_phone",
                "reporter_salt",
                "resident_comment",
                "personal_data_erased_at",
            ]
        )
        if order is not None and order.caller_salt:
            order.caller_salt = ""
            order.save(update_fields=["caller_salt"])
        record(
            case,
            EventKind.PERSONAL_DATA_ERASED,
            actor=None,
            role=SYSTEM_ROLE,
            at=now,
            data={"erased_because": reason},
            follow_trail=True,
        )
    return True


def cases_with_phone(phone: str) -> list[int]:
    """The cases whose reporter gave this phone number, however either was written (the
    normal form of `phone_digits`: 010-6512 3456 finds a caller kept as 01065123456)."""
    wanted = phone_digits(phone)
    if not wanted:
        return []
    rows = Case.objects.exclude(reporter_phone="").values_list("pk", "reporter_phone")
    return [pk for pk, given in rows.iterator() if phone_digits(given) == wanted]


def people_with_phone(phone: str) -> list[Person]:
    """The accounts that gave this phone number, however either was written."""
    wanted = phone_digits(phone)
    if not wanted:
        return []
    return [p for p in Person.objects.exclude(phone="") if phone_digits(p.phone) == wanted]


def erase_private_person(person: Person, *, now: datetime | None = None) -> None:
    """Erase a volunteer's or a resident's account data: the name, phone and e-mail go, the
    account can no longer sign in. Refused for staff, whose records their employer keeps."""
    now = moment(now)
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        roles = set(RoleAssignment.objects.filter(person=person).values_list("role", flat=True))
        if person.is_staff or person.is_superuser or not roles <= PRIVATE_ROLES:
            raise ActionRefused(
                _("%(username)s works for the city; the administrator keeps their data."),
                username=person.username,
            )
        person.username = f"erased-{person.pk}"
        person.name = person.phone = person.email = ""
        person.first_name = person.last_name = ""
        person.is_active = False
        person.set_unusable_password()
        person.save(
            update_fields=[
                "username",
                "name",
                "phone",
                "email",
                "first_name",
                "last_name",
                "is_active",
                "password",
            ]
        )
    # People have no trail of their own; the log says when an account was erased.
    log.info("personal data of account %s erased at %s", person.pk, now.isoformat())


def expired_cases(now: datetime, *, districts: Iterable[int] | None = None) -> list[int]:
    """The cases, no longer open, whose reporter's data has outlived the district's
    retention period: counted from the closing, or from the report for a case never closed
    (not taken up, merged). Data kept for exactly the period is erased."""
    policies = {p.district_id: p.personal_data_retention_days for p in DistrictPolicy.objects.all()}
    default = DistrictPolicy().personal_data_retention_days
    found: list[int] = []
    holds_data = (
        ~Q(reporter_name="")
        | ~Q(reporter_phone="")
        | ~Q(reporter_salt="")
        | ~Q(resident_comment="")
        | Q(hotline_order__caller_salt__gt="")
    )
    candidates = Case.objects.exclude(status__in=Case.OPEN_STATUSES).filter(holds_data)
    district_ids = (
        list(districts)
        if districts is not None
        else list(candidates.values_list("district_id", flat=True).distinct())
    )
    for district_id in district_ids:
        cutoff = now - timedelta(days=policies.get(district_id, default))
        due = candidates.filter(district_id=district_id).filter(
            Q(closed_at__lte=cutoff) | Q(closed_at__isnull=True, reported_at__lte=cutoff)
        )
        found.extend(due.values_list("pk", flat=True).distinct())
    return sorted(found)


def erase_expired(now: datetime | None = None, *, limit: int | None = None) -> int:
    """Erase the reporter's data of every case past the retention period (at most `limit`
    cases); returns how many were erased."""
    now = moment(now)
    erased = 0
    for case_id in expired_cases(now)[:limit]:
        if erase_reporter_data(case_id, reason=ErasureReason.RETENTION, now=now):
            erased += 1
    return erased


def sweep(now: datetime, *, batch: int) -> int:
    """The worker's daily pass (every WHISTLE_PERSONAL_DATA_SWEEP_SECONDS): erase the data
    past the retention period, a batch at a time; a worker that finds the period claimed by
    another does nothing."""
    if not cache.add(
        _SWEPT_KEY, now.isoformat(), timeout=settings.WHISTLE_PERSONAL_DATA_SWEEP_SECONDS
    ):
        return 0
    erased = erase_expired(now, limit=batch)
    erase_elsewhere(now=now, expired=True)
    if erased >= batch:
        # More are due: the next pass carries on at once instead of tomorrow.
        cache.delete(_SWEPT_KEY)
    return erased
