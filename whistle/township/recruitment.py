"""The township recruits alley stewards (小巷管家) by public call, as 龙潭街道 did on
25 April 2017: age 18 to 75 (周岁), in good health, able to communicate well, Party members
preferred.

- The township's chief of lanes or its chiefs' office publishes a call: its conditions, the
  lanes that need stewards, its date and closing date (`publish_call`).
- Anyone applies on the public page, without an account (`apply`): name, phone, date or
  year of birth, a health declaration, Party membership, preferred lanes. The conditions are
  checked on the call's date; an applicant outside the ages is refused with the reason, and
  a year of birth that leaves the age undecided asks for the date. The township's reviewers
  are told in their inbox.
- A reviewer of the township accepts or refuses, with a reason for a refusal (`review`);
  nobody reviews their own application (their account, or their own phone number). An
  accepted applicant becomes an alley steward: an account holding the steward's role on the
  lanes chosen, optionally in a steward team (管家团), told in the inbox and by SMS through
  their channels; anyone follows an application by its reference on the public page.

The applicant's personal data stays on the application: in full only for the reviewing
township (`sees_personal_data`), masked elsewhere, never in the log (`RecruitmentEvent`
names the application by its reference) nor in the cases' trail. `erase_application` erases
it on request (`whistle erase-personal-data --phone`); a refused application's data goes
when the district's retention period after the review ends (`erase_expired_applications`,
run by the worker's daily personal-data sweep and `--expired`).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from whistle.notifications import texts
from whistle.notifications.kinds import NotificationKind
from whistle.notifications.outbox import notify_many
from whistle.organisation.models import Jurisdiction, Lane, Person, Role, RoleAssignment
from whistle.organisation.personal_data import mask_name, mask_phone, phone_digits
from whistle.policies.calendar import LOCAL_TIME_ZONE
from whistle.policies.models import DistrictPolicy
from whistle.township.errors import InvalidTownshipInput, TownshipRefused
from whistle.township.permissions import people_with, role_in
from whistle.township.recruitment_models import (
    RecruitmentEvent,
    StewardApplication,
    StewardCall,
    StewardTeam,
)

Kind = RecruitmentEvent.Kind
Status = StewardApplication.Status

# The township's chief of lanes and its chiefs' office publish calls and review applications.
RECRUITERS = (Role.TOWNSHIP_CHIEF, Role.CHIEFS_OFFICE)
TITLE_MAX = 120
TEXT_MAX = 2000
NAME_MAX = 60
REASON_MAX = 500
TEAM_MAX = 60
# Unambiguous characters for references read out on the phone (no 0/O, 1/I/L).
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_LENGTH = 10
DEFAULT_RETENTION_DAYS = 180

APPLICATION_KIND = NotificationKind(
    "township.steward_application", _("an application to be an alley steward arrived")
)
ACCEPTED_KIND = NotificationKind(
    "township.steward_accepted", _("your application to be an alley steward was accepted")
)
NOTIFICATION_KINDS = (APPLICATION_KIND, ACCEPTED_KIND)


def beijing_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TIME_ZONE).date()


def review_link(application: StewardApplication) -> str:
    return f"/township/recruitment/applications/{application.pk}/"


def status_link(application: StewardApplication) -> str:
    return f"/report/stewards/status/{application.reference}/"


# Conditions ---------------------------------------------------------------------------------


def full_years(born: date, on: date) -> int:
    """Age in full years (周岁) on a day: one more on each birthday (29 February's children
    on 1 March in other years)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def age_range(birth_date: date | None, birth_year: int | None, on: date) -> tuple[int, int]:
    """The youngest and oldest the applicant can be on the day: exact from a date of birth,
    one of two ages from a year alone (before or after the birthday)."""
    if birth_date is not None:
        age = full_years(birth_date, on)
        return age, age
    if birth_year is None:
        raise InvalidTownshipInput("birth_date", _("Give your date or year of birth."))
    return on.year - birth_year - 1, on.year - birth_year


def check_age(call: StewardCall, birth_date: date | None, birth_year: int | None) -> int | None:
    """Refuses an applicant outside the call's ages on the call's date, with the reason;
    returns the age when it is known."""
    on = call.opens_on
    if birth_date is not None and birth_date > on:
        raise InvalidTownshipInput("birth_date", _("The date of birth lies after the call."))
    if birth_date is None and birth_year is not None and not 1900 <= birth_year <= on.year:
        raise InvalidTownshipInput("birth_year", _("Give a year of birth such as 1968."))
    youngest, oldest = age_range(birth_date, birth_year, on)
    field = "birth_date" if birth_date is not None else "birth_year"
    limits = {"min": call.min_age, "max": call.max_age, "day": on.isoformat()}
    if oldest < call.min_age:
        raise InvalidTownshipInput(
            field,
            _(
                "Stewards are %(min)s to %(max)s years old on the day of the call "
                "(%(day)s): you are not yet %(min)s."
            ),
            **limits,
        )
    if youngest > call.max_age:
        raise InvalidTownshipInput(
            field,
            _(
                "Stewards are %(min)s to %(max)s years old on the day of the call "
                "(%(day)s): you are over %(max)s."
            ),
            **limits,
        )
    if youngest != oldest and (youngest < call.min_age or oldest > call.max_age):
        raise InvalidTownshipInput(
            "birth_date",
            _(
                "Your year of birth leaves it open whether you are %(min)s to %(max)s years "
                "old on the day of the call (%(day)s): give your date of birth."
            ),
            **limits,
        )
    return youngest if youngest == oldest else None


# Who may ------------------------------------------------------------------------------------


def recruiter_role(person: Any, township_id: int, *, fresh: bool = False) -> str | None:
    return role_in(person, RECRUITERS, township_id, fresh=fresh)


def recruiting_townships(person: Any) -> QuerySet[Jurisdiction]:
    if not getattr(person, "is_authenticated", False) or not person.is_active:
        return Jurisdiction.objects.none()
    ids = (
        RoleAssignment.objects.held_by(person)
        .filter(role__in=RECRUITERS, jurisdiction__level=Jurisdiction.Level.TOWNSHIP)
        .values("jurisdiction_id")
    )
    return Jurisdiction.objects.filter(pk__in=ids).order_by("code")


def sees_personal_data(person: Any, application: StewardApplication) -> bool:
    """Only the township that reviews the application reads the applicant's data in full."""
    return recruiter_role(person, application.call.township_id) is not None


def is_own(person: Any, application: StewardApplication) -> bool:
    """The person applied themselves: with their account, or with their own phone number."""
    if application.applicant_account_id is not None and application.applicant_account_id == (
        person.pk
    ):
        return True
    mine = phone_digits(getattr(person, "phone", "") or "")
    return bool(mine) and mine == phone_digits(application.phone)


@dataclass(frozen=True)
class Shown:
    """What a page shows of an applicant: in full, or masked (王*, 138****1234, the year)."""

    name: str
    phone: str
    born: str
    full: bool


def shown(application: StewardApplication, *, full: bool) -> Shown:
    if application.erased_at is not None:
        return Shown("", "", "", full)
    if full:
        born = (
            application.birth_date.isoformat()
            if application.birth_date
            else str(application.birth_year or "")
        )
        return Shown(application.name, application.phone, born, True)
    return Shown(mask_name(application.name), mask_phone(application.phone), "", False)


# Shared steps -------------------------------------------------------------------------------


def _log(
    call: StewardCall,
    kind: str,
    now: datetime,
    *,
    application: StewardApplication | None = None,
    actor: Person | None = None,
    role: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    RecruitmentEvent.objects.create(
        call=call,
        application=application,
        kind=kind,
        actor=actor,
        actor_role=role,
        at=now,
        data=data or {},
    )


def _tell(
    people: Iterable[Person],
    kind: NotificationKind,
    subject: Any,
    link: str,
    key: str,
    **params: Any,
) -> None:
    recipients = list(people)
    if not recipients:
        return
    with translation.override(settings.LANGUAGE_CODE):
        values = {k: str(v) for k, v in params.items()}
        notify_many(
            recipients,
            kind=kind.code,
            subject=str(subject) % values,
            body="",
            link=link,
            dedupe_key=key,
            payload=texts.payload(subject, params),
        )


def _text(field: str, value: str, limit: int, missing: Any = None) -> str:
    value = (value or "").strip()
    if not value and missing is not None:
        raise InvalidTownshipInput(field, missing)
    if len(value) > limit:
        raise InvalidTownshipInput(field, _("At most %(n)s characters."), n=limit)
    return value


# Calls --------------------------------------------------------------------------------------


@transaction.atomic
def publish_call(
    actor: Person,
    township: Jurisdiction,
    *,
    title: str,
    description: str,
    lanes: Iterable[Lane],
    opens_on: date,
    closes_on: date,
    party_preferred: bool = True,
    now: datetime | None = None,
) -> StewardCall:
    """Publish a call for stewards of the township's lanes, open from `opens_on` (today or
    later) until `closes_on` inclusive."""
    now = now or timezone.now()
    role = recruiter_role(actor, township.pk, fresh=True)
    if role is None:
        raise TownshipRefused(
            _("Only the chief of lanes or the chiefs' office of %(township)s publishes its calls."),
            township=texts.Named.of(township),
        )
    title = _text("title", title, TITLE_MAX, _("Give the call a title."))
    description = _text("description", description, TEXT_MAX)
    chosen = list(lanes)
    if not chosen:
        raise InvalidTownshipInput("lanes", _("Choose the lanes that need stewards."))
    if any(lane.township_id != township.pk for lane in chosen):
        raise InvalidTownshipInput(
            "lanes", _("Choose lanes of %(township)s."), township=texts.Named.of(township)
        )
    if opens_on < beijing_day(now):
        raise InvalidTownshipInput("opens_on", _("A call opens today or on a later day."))
    if closes_on < opens_on:
        raise InvalidTownshipInput(
            "closes_on", _("The closing date comes on or after the call's date.")
        )
    call = StewardCall.objects.create(
        township=township,
        title=title,
        description=description,
        opens_on=opens_on,
        closes_on=closes_on,
        party_preferred=party_preferred,
        published_by=actor,
        published_at=now,
    )
    call.lanes.set(chosen)
    _log(
        call,
        Kind.PUBLISHED,
        now,
        actor=actor,
        role=role,
        data={
            "title": title,
            "lanes": sorted(lane.pk for lane in chosen),
            "opens_on": opens_on.isoformat(),
            "closes_on": closes_on.isoformat(),
        },
    )
    return call


def open_calls(now: datetime | None = None) -> QuerySet[StewardCall]:
    """The calls taking applications on this Beijing day."""
    today = beijing_day(now or timezone.now())
    return (
        StewardCall.objects.filter(opens_on__lte=today, closes_on__gte=today)
        .select_related("township")
        .prefetch_related("lanes")
        .order_by("closes_on", "pk")
    )


def is_open(call: StewardCall, now: datetime) -> bool:
    return call.opens_on <= beijing_day(now) <= call.closes_on


# Applications -------------------------------------------------------------------------------


def _new_reference() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(REFERENCE_LENGTH))


def apply(
    call: StewardCall,
    *,
    name: str,
    phone: str,
    birth_date: date | None,
    birth_year: int | None,
    healthy: bool,
    communicates: bool,
    party_member: bool,
    lanes: Iterable[Lane],
    account: Any = None,
    now: datetime | None = None,
) -> StewardApplication:
    """An application to a call, from the public page. The conditions are checked first;
    nothing is written when one is not met."""
    now = now or timezone.now()
    if not is_open(call, now):
        raise (
            TownshipRefused(_("This call closed on %(day)s."), day=call.closes_on.isoformat())
            if beijing_day(now) > call.closes_on
            else TownshipRefused(_("This call opens on %(day)s."), day=call.opens_on.isoformat())
        )
    name = _text("name", name, NAME_MAX, _("Give your full name."))
    digits = phone_digits(phone)
    if not 11 <= len(digits) <= 13:
        raise InvalidTownshipInput("phone", _("Give a mobile number, e.g. 13800138000."))
    if birth_date is None and birth_year is None:
        raise InvalidTownshipInput("birth_date", _("Give your date or year of birth."))
    check_age(call, birth_date, birth_year)
    if not healthy:
        raise InvalidTownshipInput(
            "healthy",
            _("A steward walks the lanes every day: declare that your health allows it."),
        )
    if not communicates:
        raise InvalidTownshipInput(
            "communicates",
            _("A steward talks with residents and the township: declare that you can."),
        )
    chosen = list(lanes)
    allowed = set(call.lanes.values_list("pk", flat=True))
    if any(lane.pk not in allowed for lane in chosen):
        raise InvalidTownshipInput("lanes", _("Choose among the lanes of this call."))
    signed_in = account if getattr(account, "is_authenticated", False) else None
    for _attempt in range(5):
        try:
            with transaction.atomic():
                application = StewardApplication.objects.create(
                    call=call,
                    reference=_new_reference(),
                    name=name,
                    phone=phone.strip(),
                    birth_date=birth_date,
                    birth_year=birth_date.year if birth_date else birth_year,
                    healthy=True,
                    party_member=party_member,
                    applicant_account=signed_in,
                    submitted_at=now,
                )
                application.preferred_lanes.set(chosen)
                _log(
                    call,
                    Kind.APPLIED,
                    now,
                    application=application,
                    data={"reference": application.reference},
                )
                _tell(
                    people_with(RECRUITERS, [call.township_id]),
                    APPLICATION_KIND,
                    _("A new application to be an alley steward (%(reference)s) for “%(call)s”"),
                    review_link(application),
                    f"township.steward_application:{application.pk}",
                    reference=application.reference,
                    call=call.title,
                )
                return application
        except IntegrityError:
            # Two references alike: draw again.
            continue
    raise TownshipRefused(_("The application could not be saved. Try again."))


def _team(township: Jurisdiction, team: StewardTeam | None, new_team: str) -> StewardTeam | None:
    new_team = _text("new_team", new_team, TEAM_MAX)
    if team is not None and new_team:
        raise InvalidTownshipInput("new_team", _("Choose a team or name a new one, not both."))
    if team is not None:
        if team.township_id != township.pk:
            raise InvalidTownshipInput(
                "team", _("Choose a team of %(township)s."), township=texts.Named.of(township)
            )
        return team
    if new_team:
        found, _created = StewardTeam.objects.get_or_create(township=township, name=new_team)
        return found
    return None


def _username(reference: str) -> str:
    return f"steward-{reference.lower()}"


@transaction.atomic
def review(
    actor: Person,
    application: StewardApplication,
    *,
    accept: bool,
    reason: str = "",
    lanes: Iterable[Lane] = (),
    team: StewardTeam | None = None,
    new_team: str = "",
    now: datetime | None = None,
) -> StewardApplication:
    """Accept or refuse an application, once. Accepting makes the applicant an alley
    steward of the chosen lanes (the township's), optionally in a team; refusing needs a
    reason. Nobody reviews their own application."""
    now = now or timezone.now()
    application = (
        StewardApplication.objects.select_for_update(of=("self",))
        .select_related("call__township")
        .get(pk=application.pk)
    )
    call = application.call
    township = call.township
    role = recruiter_role(actor, township.pk, fresh=True)
    if role is None:
        raise TownshipRefused(
            _(
                "Only the chief of lanes or the chiefs' office of %(township)s reviews its "
                "applications."
            ),
            township=texts.Named.of(township),
        )
    if is_own(actor, application):
        raise TownshipRefused(_("Nobody reviews their own application."))
    if application.status != Status.SUBMITTED:
        raise TownshipRefused(_("This application has been reviewed already."))
    if application.erased_at is not None:
        raise TownshipRefused(_("The applicant's data has been erased."))
    reason = _text("reason", reason, REASON_MAX)
    if not accept:
        if not reason:
            raise InvalidTownshipInput("reason", _("Give the reason for not accepting."))
        application.status = Status.REFUSED
        application.review_reason = reason
        application.reviewed_by = actor
        application.reviewed_at = now
        application.save(update_fields=["status", "review_reason", "reviewed_by", "reviewed_at"])
        _log(
            call,
            Kind.REFUSED,
            now,
            application=application,
            actor=actor,
            role=role,
            data={"reference": application.reference, "reason": reason},
        )
        return application
    chosen = list(lanes) or list(application.preferred_lanes.all())
    if not chosen:
        raise InvalidTownshipInput("lanes", _("Choose the lanes the steward looks after."))
    if any(lane.township_id != township.pk for lane in chosen):
        raise InvalidTownshipInput(
            "lanes", _("Choose lanes of %(township)s."), township=texts.Named.of(township)
        )
    joined = _team(township, team, new_team)
    steward = Person.objects.create(
        username=_username(application.reference),
        name=application.name,
        phone=application.phone,
        # The township gives the steward a way to sign in (a password set in the admin, or
        # a reset); until then the account cannot.
        password=make_password(None),
    )
    for lane in chosen:
        RoleAssignment.objects.create(person=steward, role=Role.STEWARD, lane=lane)
    if joined is not None:
        joined.members.add(steward)
    application.status = Status.ACCEPTED
    application.review_reason = reason
    application.reviewed_by = actor
    application.reviewed_at = now
    application.steward = steward
    application.team = joined
    application.save(
        update_fields=["status", "review_reason", "reviewed_by", "reviewed_at", "steward", "team"]
    )
    _log(
        call,
        Kind.ACCEPTED,
        now,
        application=application,
        actor=actor,
        role=role,
        data={
            "reference": application.reference,
            "steward": steward.pk,
            "lanes": sorted(lane.pk for lane in chosen),
            "team": joined.pk if joined else None,
        },
    )
    _tell(
        [steward],
        ACCEPTED_KIND,
        _("%(township)s accepted you as an alley steward of %(lanes)s. Welcome!"),
        status_link(application),
        f"township.steward_accepted:{application.pk}",
        township=texts.Named.of(township),
        lanes=_(", ").join(lane.name for lane in chosen),
    )
    return application


# Personal data ------------------------------------------------------------------------------


def erase_application(
    application: StewardApplication, *, reason: str, now: datetime | None = None
) -> bool:
    """Erase the applicant's name, phone, birth and health declaration. Returns False when
    they were erased already. The steward account an accepted applicant became is erased
    on its own (`erase_private_person`)."""
    now = now or timezone.now()
    with transaction.atomic():
        application = StewardApplication.objects.select_for_update().get(pk=application.pk)
        if application.erased_at is not None:
            return False
        application.name = application.phone = ""
        application.birth_date = None
        application.birth_year = None
        application.healthy = False
        application.party_member = False
        application.erased_at = now
        application.save(
            update_fields=[
                "name",
                "phone",
                "birth_date",
                "birth_year",
                "healthy",
                "party_member",
                "erased_at",
            ]
        )
        application.preferred_lanes.clear()
        _log(application.call, Kind.ERASED, now, application=application, data={"why": reason})
    return True


def applications_with_phone(phone: str) -> list[StewardApplication]:
    wanted = phone_digits(phone)
    if not wanted:
        return []
    return [
        a
        for a in StewardApplication.objects.filter(erased_at__isnull=True).exclude(phone="")
        if phone_digits(a.phone) == wanted
    ]


def expired_applications(now: datetime) -> list[StewardApplication]:
    """Refused applications whose review lies the district's retention period
    (`DistrictPolicy.personal_data_retention_days`) or more in the past."""
    retention: dict[int | None, int] = dict(
        DistrictPolicy.objects.values_list("district_id", "personal_data_retention_days")
    )
    rows = StewardApplication.objects.filter(
        status=Status.REFUSED, erased_at__isnull=True, reviewed_at__isnull=False
    ).select_related("call__township")
    return [
        a
        for a in rows
        if a.reviewed_at is not None
        and a.reviewed_at
        <= now - timedelta(days=retention.get(a.call.township.parent_id, DEFAULT_RETENTION_DAYS))
    ]


def erase_expired_applications(now: datetime | None = None) -> int:
    now = now or timezone.now()
    return sum(
        1 for a in expired_applications(now) if erase_application(a, reason="retention", now=now)
    )


def erase_on_request(*, phone: str = "", expired: bool = False, now: datetime, **_: Any) -> int:
    """The township's receiver of `whistle.organisation.personal_data.erasure_requested`."""
    count = 0
    if phone:
        for application in applications_with_phone(phone):
            count += erase_application(application, reason="request", now=now)
    if expired:
        count += erase_expired_applications(now)
    return count
