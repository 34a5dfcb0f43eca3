"""Every change of a roster: starting it, its rotations, swaps and covers.

Each action takes the acting person (None only for `whistle import` and the demo, which name
themselves with `system_role`), checks their role, validates its input, and in one
transaction locks the roster, changes it and appends its log entry (`RosterLogEntry`: who,
when, in which role, before and after). Messages to the people concerned go through the
outbox in the same transaction. A refusal raises `DutyRefused` (or `InvalidDutyInput`) and
writes nothing.

A change never rewrites the past: a cover starts at the earliest now, a swap only trades
shifts that have not begun, and a change that has begun cannot be cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from whistle.duty.errors import DutyRefused, InvalidDutyInput
from whistle.duty.models import (
    DutyChange,
    Roster,
    RosterLogEntry,
    Rotation,
    RotationMember,
    format_handovers,
    parse_handovers,
)
from whistle.duty.permissions import (
    IMPORT_ROLE,
    SYSTEM_ROLE,
    eligible_people,
    manager_role,
    managers_of,
    viewer_role,
)
from whistle.duty.schedule import Schedule, Shift
from whistle.notifications import texts
from whistle.notifications.outbox import notify_many
from whistle.organisation.models import CentreMembership, Department, Jurisdiction, Person

Action = RosterLogEntry.Action
Status = DutyChange.Status

REASON_MAX = 500
MAX_MEMBERS = 60
# A cover longer than this is a new rotation, not a cover.
MAX_COVER = timedelta(days=31)
# How far ahead a swap may reach.
MAX_SWAP_AHEAD = timedelta(days=92)


def roster_link(roster: Roster) -> str:
    return f"/duty/{roster.pk}/"


def _moment(now: datetime | None) -> datetime:
    if now is None:
        return timezone.now()
    if timezone.is_naive(now):
        raise ValueError("an action's `now` must be timezone-aware")
    return now.astimezone(UTC)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _who(person: Person | None) -> dict[str, Any] | None:
    if person is None:
        return None
    return {"username": person.username, "name": person.display_name}


def _lock(roster: Roster) -> Roster:
    return (
        Roster.objects.select_for_update(of=("self",))
        .select_related("department", "township")
        .get(pk=roster.pk)
    )


def _log(
    roster: Roster,
    action: str,
    *,
    actor: Person | None,
    role: str,
    at: datetime,
    before: Any = None,
    after: Any = None,
    change: DutyChange | None = None,
) -> RosterLogEntry:
    return RosterLogEntry.objects.create(
        roster=roster,
        at=at,
        actor=actor,
        actor_role=role,
        action=action,
        change=change,
        before=before,
        after=after,
    )


def _acting_role(actor: Person | None, roster: Roster, system_role: str | None) -> str:
    """The role in which `actor` keeps the roster; refused when they do not."""
    if actor is None:
        if system_role not in (IMPORT_ROLE, SYSTEM_ROLE):
            raise DutyRefused(_("A roster is changed by a person who keeps it."))
        return str(system_role)
    role = manager_role(actor, roster, fresh=True)
    if role is None:
        raise DutyRefused(_("You do not keep this roster."))
    return role


def _clean_reason(value: Any) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidDutyInput("reason", _("The reason must be text."))
    text = value.strip()
    if "\x00" in text:
        raise InvalidDutyInput("reason", _("The reason contains a NUL character."))
    if len(text) > REASON_MAX:
        raise InvalidDutyInput(
            "reason", _("The reason is too long: at most %(max)s characters."), max=REASON_MAX
        )
    return text


def _clean_moment(value: Any, field: str) -> datetime:
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise InvalidDutyInput(field, _("Give a date and a time."))
    return value.astimezone(UTC)


# --- Rosters and rotations ---------------------------------------------------------------


def start_roster(
    actor: Person | None,
    *,
    department: Department | None = None,
    township: Jurisdiction | None = None,
    system_role: str | None = None,
    now: datetime | None = None,
) -> Roster:
    """Start the roster of a department, of a department in a township's enforcement
    centre, or of a township's command centre (an existing one is returned as it is)."""
    now = _moment(now)
    if department is None and township is None:
        raise InvalidDutyInput("department", _("Choose a department or a township."))
    if township is not None and township.level != Jurisdiction.Level.TOWNSHIP:
        raise InvalidDutyInput("township", _("Choose a township."))
    if (
        department is not None
        and township is not None
        and not CentreMembership.objects.filter(township=township, department=department).exists()
    ):
        raise InvalidDutyInput(
            "department",
            _("%(department)s is not a member of the enforcement centre of %(township)s."),
            department=texts.Named.of(department),
            township=texts.Named.of(township),
        )
    with transaction.atomic():
        roster = Roster(department=department, township=township)
        role = _acting_role(actor, roster, system_role)
        existing = Roster.objects.filter(department=department, township=township).first()
        if existing is not None:
            return existing
        roster.created_at = now
        roster.save(force_insert=True)
        _log(
            roster,
            Action.ROSTER_STARTED,
            actor=actor,
            role=role,
            at=now,
            after={"roster": str(roster), "kind": roster.kind},
        )
    return roster


def rotation_snapshot(rotation: Rotation | None) -> dict[str, Any] | None:
    """A rotation as the log keeps it."""
    if rotation is None:
        return None
    members = sorted(rotation.members.all(), key=lambda m: m.position)
    return {
        "days": rotation.days,
        "handovers": rotation.handovers,
        "turn": rotation.turn,
        "starts_on": rotation.starts_on.isoformat(),
        "ends_on": rotation.ends_on.isoformat() if rotation.ends_on else None,
        "post": list(rotation.post) if rotation.post is not None else None,
        "members": [
            {"person": _who(m.person), "backup": _who(m.backup) if m.backup else None}
            for m in members
        ],
    }


def _clean_members(
    roster: Roster, members: Sequence[tuple[Person, Person | None]]
) -> list[tuple[Person, Person | None]]:
    chosen = list(members or [])
    if not chosen:
        raise InvalidDutyInput("members", _("Put at least one person on the rotation."))
    if len(chosen) > MAX_MEMBERS:
        raise InvalidDutyInput(
            "members", _("At most %(max)s people on a rotation."), max=MAX_MEMBERS
        )
    if any(
        not isinstance(p, Person) or (b is not None and not isinstance(b, Person))
        for p, b in chosen
    ):
        raise InvalidDutyInput("members", _("Choose people from the list."))
    wanted = {p.pk for p, b in chosen} | {b.pk for _p, b in chosen if b is not None}
    allowed = set(eligible_people(roster).filter(pk__in=wanted).values_list("pk", flat=True))
    strangers = sorted(
        {p.display_name for p, b in chosen if p.pk not in allowed}
        | {b.display_name for _p, b in chosen if b is not None and b.pk not in allowed}
    )
    if strangers:
        raise InvalidDutyInput(
            "members",
            _("Not among the people who may stand on this roster: %(names)s."),
            names=_(", ").join(strangers),
        )
    for person, backup in chosen:
        if backup is not None and backup.pk == person.pk:
            raise InvalidDutyInput(
                "members",
                _("%(name)s cannot be their own backup."),
                name=person.display_name,
            )
    return chosen


def _clean_post(post: Any) -> tuple[float, float] | None:
    """An on-duty position: (longitude, latitude) in WGS-84, or None."""
    if post is None:
        return None
    try:
        lon, lat = (float(v) for v in post)
    except (TypeError, ValueError):
        raise InvalidDutyInput(
            "post", _("Enter both the longitude and the latitude of the on-duty position.")
        ) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidDutyInput(
            "post", _("The on-duty position lies outside the longitudes and latitudes.")
        )
    return (lon, lat)


def save_rotation(
    actor: Person | None,
    roster: Roster,
    *,
    days: str,
    handovers: str,
    turn: str,
    starts_on: date,
    members: Sequence[tuple[Person, Person | None]],
    ends_on: date | None = None,
    post: tuple[float, float] | None = None,
    system_role: str | None = None,
    now: datetime | None = None,
) -> Rotation:
    """Set the roster's rotation for every day, for working days or for rest days: the
    handover times, how often the turn passes on, the day the first member is on duty (and
    the last day of the rotation, if it ends), the members in their order, each with a
    backup (by default the next member), and where the person on duty waits (`post`,
    longitude and latitude, or None for the station of the department)."""
    now = _moment(now)
    if days not in Rotation.Days.values:
        raise InvalidDutyInput("days", _("Choose which days the rotation is for."))
    if turn not in Rotation.Turn.values:
        raise InvalidDutyInput("turn", _("Choose how often the turn passes on."))
    try:
        times = parse_handovers(handovers if isinstance(handovers, str) else "")
    except ValidationError as exc:
        raise InvalidDutyInput("handovers", "%(error)s", error=" ".join(exc.messages)) from None
    if isinstance(starts_on, datetime) or not isinstance(starts_on, date):
        raise InvalidDutyInput("starts_on", _("Give the first day as a date."))
    if ends_on is not None and (isinstance(ends_on, datetime) or not isinstance(ends_on, date)):
        raise InvalidDutyInput("ends_on", _("Give the last day as a date."))
    if ends_on is not None and ends_on < starts_on:
        raise InvalidDutyInput("ends_on", _("The rotation cannot end before it starts."))
    post = _clean_post(post)
    with transaction.atomic():
        roster = _lock(roster)
        role = _acting_role(actor, roster, system_role)
        chosen = _clean_members(roster, members)
        rotations = {r.days: r for r in roster.rotations.prefetch_related("members__person")}
        others = set(rotations) - {days}
        if days == Rotation.Days.EVERY_DAY and others:
            raise InvalidDutyInput(
                "days",
                _(
                    "The roster has rotations for working days or rest days: remove them "
                    "before setting one for every day."
                ),
            )
        if days != Rotation.Days.EVERY_DAY and Rotation.Days.EVERY_DAY in others:
            raise InvalidDutyInput(
                "days",
                _("The roster has a rotation for every day: remove it first."),
            )
        existing = rotations.get(days)
        before = rotation_snapshot(existing)
        rotation = Rotation(roster=roster, days=days) if existing is None else existing
        rotation.handovers = format_handovers(times)
        rotation.turn = turn
        rotation.starts_on = starts_on
        rotation.ends_on = ends_on
        rotation.post_lon, rotation.post_lat = post if post is not None else (None, None)
        if existing is None:
            rotation.save(force_insert=True)
        else:
            rotation.save(
                update_fields=["handovers", "turn", "starts_on", "ends_on", "post_lon", "post_lat"]
            )
            rotation.members.all().delete()
        RotationMember.objects.bulk_create(
            RotationMember(rotation=rotation, position=n, person=p, backup=b)
            for n, (p, b) in enumerate(chosen, start=1)
        )
        rotation = Rotation.objects.prefetch_related("members__person", "members__backup").get(
            pk=rotation.pk
        )
        after = rotation_snapshot(rotation)
        if after != before:
            _log(
                roster,
                Action.ROTATION_SAVED,
                actor=actor,
                role=role,
                at=now,
                before=before,
                after=after,
            )
    return rotation


def remove_rotation(
    actor: Person | None,
    rotation: Rotation,
    *,
    system_role: str | None = None,
    now: datetime | None = None,
) -> None:
    """Take a rotation off its roster (the log keeps what it was)."""
    now = _moment(now)
    with transaction.atomic():
        roster = _lock(rotation.roster)
        role = _acting_role(actor, roster, system_role)
        current = (
            Rotation.objects.filter(pk=rotation.pk, roster=roster)
            .prefetch_related("members__person", "members__backup")
            .first()
        )
        if current is None:
            raise DutyRefused(_("This rotation is no longer on the roster."))
        before = rotation_snapshot(current)
        current.delete()
        _log(roster, Action.ROTATION_REMOVED, actor=actor, role=role, at=now, before=before)


# --- Swaps and covers ------------------------------------------------------------------


def change_snapshot(change: DutyChange) -> dict[str, Any]:
    """A swap or cover as the log keeps it."""
    return {
        "kind": change.kind,
        "status": change.status,
        "starts_at": _iso(change.starts_at),
        "ends_at": _iso(change.ends_at),
        "person": _who(change.person),
        "replaces": _who(change.replaces),
        "swap_starts_at": _iso(change.swap_starts_at),
        "swap_ends_at": _iso(change.swap_ends_at),
        "reason": change.reason,
        "requested_by": _who(change.requested_by),
        "decided_by": _who(change.decided_by),
    }


def _tell(people: Sequence[Person | None], roster: Roster, subject: Any, **params: Any) -> None:
    """An inbox message about the roster to each person, in the deployment's language."""
    recipients = [p for p in people if p is not None]
    if not recipients:
        return
    with translation.override(settings.LANGUAGE_CODE):
        values = {"roster": str(roster), **{k: str(v) for k, v in params.items()}}
        notify_many(
            recipients,
            kind="duty.change",
            subject=str(subject) % values,
            body="",
            link=roster_link(roster),
            channels=["inbox"],
            payload=texts.payload(subject, {"roster": roster, **params}),
        )


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%m-%d %H:%M")


def _decided_by_keeper(
    roster: Roster, action: str, *, actor: Person, role: str, at: datetime, **fields: Any
) -> DutyChange:
    """A change a keeper makes directly: approved as it is made, by the one who made it, and
    logged with what it is."""
    change = DutyChange.objects.create(
        roster=roster,
        status=Status.APPROVED,
        requested_by=actor,
        requested_at=at,
        decided_by=actor,
        decided_at=at,
        **fields,
    )
    _log(
        roster, action, actor=actor, role=role, at=at, change=change, after=change_snapshot(change)
    )
    return change


def cover_shift(
    actor: Person,
    roster: Roster,
    *,
    starts_at: datetime,
    ends_at: datetime,
    person: Person,
    reason: str = "",
    now: datetime | None = None,
) -> DutyChange:
    """A keeper of the roster puts someone on duty from `starts_at` to `ends_at` (a cover,
    approved as it is made). It starts now at the earliest: the past is not rewritten.

    Nobody rules on their own case: a cover that puts the keeper on duty, or takes them off,
    is a request that another keeper (one the cover leaves alone) approves or refuses, and is
    refused when the roster has no such keeper."""
    now = _moment(now)
    starts_at = _clean_moment(starts_at, "starts_at")
    ends_at = _clean_moment(ends_at, "ends_at")
    reason = _clean_reason(reason)
    if ends_at <= now:
        raise InvalidDutyInput("ends_at", _("A cover must end in the future."))
    starts_at = max(starts_at, now)
    if ends_at <= starts_at:
        raise InvalidDutyInput("ends_at", _("A cover must end after it starts."))
    if ends_at - starts_at > MAX_COVER:
        raise InvalidDutyInput(
            "ends_at",
            _("A cover lasts at most %(days)s days; change the rotation instead."),
            days=MAX_COVER.days,
        )
    with transaction.atomic():
        roster = _lock(roster)
        role = _acting_role(actor, roster, None)
        if (
            not isinstance(person, Person)
            or not eligible_people(roster).filter(pk=person.pk).exists()
        ):
            raise InvalidDutyInput("person", _("Choose someone who may stand on this roster."))
        schedule = Schedule.load([roster], starts_at, ends_at)
        covered = [s.person for s in schedule.shifts(roster, starts_at, ends_at) if s.person]
        replaced = next(iter(covered), None)
        fields: dict[str, Any] = {
            "kind": DutyChange.Kind.COVER,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "person": person,
            "replaces": replaced if replaced is not None and replaced.pk != person.pk else None,
            "reason": reason,
        }
        concerned = {person.pk, *(p.pk for p in covered)}
        if actor.pk not in concerned:
            change = _decided_by_keeper(
                roster, Action.COVER_SET, actor=actor, role=role, at=now, **fields
            )
            _tell(
                [person],
                roster,
                _("You are on duty on %(roster)s from %(start)s to %(end)s"),
                start=_local(starts_at),
                end=_local(ends_at),
            )
            return change
        deciders = [k for k in managers_of(roster) if k.pk not in concerned]
        if not deciders:
            raise InvalidDutyInput(
                "person",
                _(
                    "This cover puts you on duty or takes you off it, and nobody rules on "
                    "their own case: the roster has no other keeper to approve it."
                ),
            )
        change = DutyChange.objects.create(
            roster=roster, status=Status.REQUESTED, requested_by=actor, requested_at=now, **fields
        )
        _log(
            roster,
            Action.CHANGE_REQUESTED,
            actor=actor,
            role=role,
            at=now,
            change=change,
            after=change_snapshot(change),
        )
        _tell(
            deciders,
            roster,
            _("%(who)s asks for a cover on %(roster)s: %(name)s on duty from %(start)s to %(end)s"),
            who=actor.display_name,
            name=person.display_name,
            start=_local(starts_at),
            end=_local(ends_at),
        )
    return change


def _shift_at(schedule: Schedule, roster: Roster, moment: datetime) -> Shift | None:
    return next(
        (s for s in schedule.shifts(roster, moment, moment + timedelta(microseconds=1))), None
    )


def request_swap(
    actor: Person,
    roster: Roster,
    *,
    mine_at: datetime,
    theirs_at: datetime,
    reason: str = "",
    now: datetime | None = None,
) -> DutyChange:
    """Someone on the roster asks to trade their shift (the one running at `mine_at`) for a
    colleague's (the one running at `theirs_at`). A keeper of the roster decides."""
    now = _moment(now)
    mine_at = _clean_moment(mine_at, "mine_at")
    theirs_at = _clean_moment(theirs_at, "theirs_at")
    reason = _clean_reason(reason)
    if max(mine_at, theirs_at) > now + MAX_SWAP_AHEAD:
        raise InvalidDutyInput(
            "theirs_at",
            _("A swap reaches at most %(days)s days ahead."),
            days=MAX_SWAP_AHEAD.days,
        )
    with transaction.atomic():
        roster = _lock(roster)
        role = viewer_role(actor, roster, fresh=True)
        if role is None:
            raise DutyRefused(_("You are not on this roster."))
        schedule = Schedule.load([roster], min(mine_at, theirs_at), max(mine_at, theirs_at))
        mine = _shift_at(schedule, roster, mine_at)
        theirs = _shift_at(schedule, roster, theirs_at)
        if mine is None or mine.person_id != actor.pk:
            raise InvalidDutyInput("mine_at", _("You are not on duty in that shift."))
        if theirs is None or theirs.person is None or theirs.person_id == actor.pk:
            raise InvalidDutyInput("theirs_at", _("Choose a shift of someone else."))
        if mine.starts_at <= now or theirs.starts_at <= now:
            raise InvalidDutyInput("mine_at", _("Only shifts that have not begun can be swapped."))
        # Nobody rules on their own case: a keeper other than the two it concerns decides,
        # and a request that no one could decide would wait for ever.
        deciders = [k for k in managers_of(roster) if k.pk not in {actor.pk, theirs.person_id}]
        if not deciders:
            raise InvalidDutyInput(
                "theirs_at",
                _(
                    "Nobody could approve this swap: the roster has no keeper other than the "
                    "two people it concerns."
                ),
            )
        change = DutyChange.objects.create(
            roster=roster,
            kind=DutyChange.Kind.SWAP,
            status=Status.REQUESTED,
            starts_at=mine.starts_at,
            ends_at=mine.ends_at,
            person=theirs.person,
            replaces=actor,
            swap_starts_at=theirs.starts_at,
            swap_ends_at=theirs.ends_at,
            reason=reason,
            requested_by=actor,
            requested_at=now,
        )
        _log(
            roster,
            Action.CHANGE_REQUESTED,
            actor=actor,
            role=role,
            at=now,
            change=change,
            after=change_snapshot(change),
        )
        _tell(
            [*deciders, theirs.person],
            roster,
            _("%(who)s asks to swap duty on %(roster)s: %(mine)s for %(theirs)s"),
            who=actor.display_name,
            mine=_local(mine.starts_at),
            theirs=_local(theirs.starts_at),
        )
    return change


def swap_shifts(
    actor: Person,
    roster: Roster,
    *,
    first_at: datetime,
    second_at: datetime,
    reason: str = "",
    now: datetime | None = None,
) -> DutyChange:
    """A keeper of the roster trades two other people's coming shifts (the ones running at
    `first_at` and `second_at`) without a request: approved as it is made, with the keeper
    recorded as the one who approved it. A keeper never hands a shift to or from themselves
    this way; they ask for a swap like anyone else."""
    now = _moment(now)
    first_at = _clean_moment(first_at, "first_at")
    second_at = _clean_moment(second_at, "second_at")
    reason = _clean_reason(reason)
    if max(first_at, second_at) > now + MAX_SWAP_AHEAD:
        raise InvalidDutyInput(
            "second_at",
            _("A swap reaches at most %(days)s days ahead."),
            days=MAX_SWAP_AHEAD.days,
        )
    with transaction.atomic():
        roster = _lock(roster)
        role = _acting_role(actor, roster, None)
        schedule = Schedule.load([roster], min(first_at, second_at), max(first_at, second_at))
        first = _shift_at(schedule, roster, first_at)
        second = _shift_at(schedule, roster, second_at)
        if first is None or first.person is None:
            raise InvalidDutyInput("first_at", _("Nobody is on duty in that shift."))
        if second is None or second.person is None:
            raise InvalidDutyInput("second_at", _("Nobody is on duty in that shift."))
        if first.person_id == second.person_id:
            raise InvalidDutyInput(
                "second_at", _("Choose a shift of someone else: both shifts are the same person's.")
            )
        if actor.pk in (first.person_id, second.person_id):
            raise InvalidDutyInput(
                "first_at",
                _(
                    "A keeper does not swap their own shifts: ask for a swap, and another "
                    "keeper decides."
                ),
            )
        if first.starts_at <= now or second.starts_at <= now:
            raise InvalidDutyInput("first_at", _("Only shifts that have not begun can be swapped."))
        change = _decided_by_keeper(
            roster,
            Action.SWAP_SET,
            actor=actor,
            role=role,
            at=now,
            kind=DutyChange.Kind.SWAP,
            starts_at=first.starts_at,
            ends_at=first.ends_at,
            person=second.person,
            replaces=first.person,
            swap_starts_at=second.starts_at,
            swap_ends_at=second.ends_at,
            reason=reason,
        )
        _tell(
            [first.person, second.person],
            roster,
            _("%(who)s swapped duty on %(roster)s: %(first)s and %(second)s"),
            who=actor.display_name,
            first=_local(first.starts_at),
            second=_local(second.starts_at),
        )
    return change


def _move(
    roster: Roster,
    change: DutyChange,
    status: str,
    action: str,
    *,
    actor: Person,
    role: str,
    at: datetime,
    also: dict[str, Any] | None = None,
) -> None:
    """Give a swap or cover its new status (and the values in `also`) and log the move with
    the change as it was and as it is."""
    before = change_snapshot(change)
    change.status = status
    for field, value in (also or {}).items():
        setattr(change, field, value)
    change.save(update_fields=["status", *(also or {})])
    _log(
        roster,
        action,
        actor=actor,
        role=role,
        at=at,
        change=change,
        before=before,
        after=change_snapshot(change),
    )


def _locked_change(change: DutyChange) -> tuple[Roster, DutyChange]:
    roster = _lock(change.roster)
    current = (
        DutyChange.objects.select_for_update(of=("self",))
        .select_related("person", "replaces", "requested_by", "decided_by")
        .get(pk=change.pk)
    )
    return roster, current


def decide_change(
    actor: Person, change: DutyChange, *, approve: bool, now: datetime | None = None
) -> DutyChange:
    """A keeper of the roster approves or refuses a requested swap or cover; nobody decides
    on a request they made or that puts them on duty or takes them off. A swap whose shifts
    have begun can no longer be approved; a cover whose start has passed is approved from
    now (the past is not rewritten), and no longer once it has ended."""
    now = _moment(now)
    with transaction.atomic():
        roster, change = _locked_change(change)
        role = _acting_role(actor, roster, None)
        if change.status != Status.REQUESTED:
            raise DutyRefused(
                _("This request is no longer waiting: it is %(status)s."),
                status=change.get_status_display(),
            )
        if actor.pk in (change.requested_by_id, change.replaces_id, change.person_id):
            raise DutyRefused(_("Nobody decides on their own request."))
        also: dict[str, Any] = {"decided_by": actor, "decided_at": now}
        cover = change.kind == DutyChange.Kind.COVER
        if approve and cover:
            if change.ends_at <= now:
                raise DutyRefused(_("This cover has ended: it can no longer be approved."))
            if change.starts_at < now:
                also["starts_at"] = now
        elif approve:
            starts = [m for m in (change.starts_at, change.swap_starts_at) if m is not None]
            if min(starts) <= now:
                raise DutyRefused(
                    _("A shift of this swap has begun: it can no longer be approved.")
                )
        _move(
            roster,
            change,
            Status.APPROVED if approve else Status.REFUSED,
            Action.CHANGE_APPROVED if approve else Action.CHANGE_REFUSED,
            actor=actor,
            role=role,
            at=now,
            also=also,
        )
        subjects = {
            (False, True): _("Swap on %(roster)s approved by %(who)s"),
            (False, False): _("Swap on %(roster)s refused by %(who)s"),
            (True, True): _("Cover on %(roster)s approved by %(who)s"),
            (True, False): _("Cover on %(roster)s refused by %(who)s"),
        }
        subject = subjects[(cover, approve)]
        _tell([change.requested_by, change.person], roster, subject, who=actor.display_name)
    return change


def withdraw_change(
    actor: Person, change: DutyChange, *, now: datetime | None = None
) -> DutyChange:
    """The person who asked for a swap takes the request back before it is decided."""
    now = _moment(now)
    with transaction.atomic():
        roster, change = _locked_change(change)
        if change.requested_by_id != actor.pk:
            raise DutyRefused(_("Only the person who asked can withdraw the request."))
        if change.status != Status.REQUESTED:
            raise DutyRefused(
                _("This request is no longer waiting: it is %(status)s."),
                status=change.get_status_display(),
            )
        role = viewer_role(actor, roster, fresh=True) or "duty"
        _move(
            roster,
            change,
            Status.WITHDRAWN,
            Action.CHANGE_WITHDRAWN,
            actor=actor,
            role=role,
            at=now,
        )
    return change


def cancel_change(actor: Person, change: DutyChange, *, now: datetime | None = None) -> DutyChange:
    """A keeper of the roster cancels an approved swap or cover that has not begun."""
    now = _moment(now)
    with transaction.atomic():
        roster, change = _locked_change(change)
        role = _acting_role(actor, roster, None)
        if change.status != Status.APPROVED:
            raise DutyRefused(
                _("Only an approved swap or cover can be cancelled; this one is %(status)s."),
                status=change.get_status_display(),
            )
        starts = [m for m in (change.starts_at, change.swap_starts_at) if m is not None]
        if min(starts) <= now:
            raise DutyRefused(
                _("It has begun and cannot be cancelled; set a cover for the rest instead.")
            )
        _move(
            roster,
            change,
            Status.CANCELLED,
            Action.CHANGE_CANCELLED,
            actor=actor,
            role=role,
            at=now,
        )
        _tell(
            [change.person, change.replaces],
            roster,
            _("A swap or cover on %(roster)s was cancelled by %(who)s"),
            who=actor.display_name,
        )
    return change
