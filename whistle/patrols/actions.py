"""Every state change of a patrol: start, record positions, tick an item, end.

Each action takes the acting person first, keyword arguments and an optional aware `now`;
validates its input before writing; runs in one transaction with the patrol row locked;
and writes a `PatrolEvent` for the record (positions are their own record, one row each).
A refusal raises `whistle.cases.errors.ActionRefused` (or `InvalidInput`,
`PermissionRefused`) with a translatable message, and writes nothing.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from whistle.cases.device_time import device_time
from whistle.cases.errors import ActionRefused, InvalidInput, PermissionRefused
from whistle.cases.models import Case
from whistle.cases.permissions import Scoped, acting_role, refusal
from whistle.cases.trail import check_moment
from whistle.organisation.models import Jurisdiction, Lane, Person, Role, RoleAssignment
from whistle.patrols import checklist
from whistle.patrols.models import CheckResult, Patrol, PatrolEvent, RoutePoint
from whistle.patrols.route import Fix, RouteRules, coverage, walk

# Who patrols: the lane's own people, and the township's chiefs for every lane of it.
LANE_ROLES = (Role.STEWARD, Role.LANE_CHIEF, Role.STREET_CHIEF)
TOWNSHIP_ROLES = (Role.TOWNSHIP_CHIEF, Role.CHIEFS_OFFICE)
PATROL_ROLES = (*LANE_ROLES, *TOWNSHIP_ROLES)

NOTE_MAX = 1000
# How far a position's time may lie before the start (a fix taken while the page loaded)
# or after the server's clock (a phone clock running fast).
EARLY_TOLERANCE = timedelta(minutes=5)
LATE_TOLERANCE = timedelta(minutes=2)
ACCURACY_MAX = 100_000.0
SEQ_MAX = 10**9
# What the browser may say about its positions; "pending" is the patrol's own start.
REPORTED_LOCATIONS = frozenset(
    {
        Patrol.Location.DENIED,
        Patrol.Location.UNAVAILABLE,
        Patrol.Location.UNSUPPORTED,
        Patrol.Location.RECORDING,
    }
)


def max_batch() -> int:
    return int(getattr(settings, "WHISTLE_PATROL_MAX_BATCH", 200))


def max_points() -> int:
    return int(getattr(settings, "WHISTLE_PATROL_MAX_POINTS", 20_000))


def _moment(now: datetime | None) -> datetime:
    if now is None:
        return timezone.now()
    if timezone.is_naive(now):
        raise ValueError("an action's `now` must be timezone-aware")
    return now.astimezone(UTC)


def patrol_lanes(person: Any) -> QuerySet[Lane]:
    """The lanes a person patrols: those of their lane roles, and every lane of the
    townships where they are a chief of lanes or in the chiefs' office."""
    if not getattr(person, "is_authenticated", False):
        return Lane.objects.none()
    mine = RoleAssignment.objects.held_by(person)
    by_lane = mine.filter(role__in=LANE_ROLES, lane__isnull=False).values("lane_id")
    by_township = mine.filter(
        role__in=TOWNSHIP_ROLES, jurisdiction__level=Jurisdiction.Level.TOWNSHIP
    ).values("jurisdiction_id")
    return Lane.objects.filter(Q(pk__in=by_lane) | Q(township_id__in=by_township))


def _scopes(lane: Lane) -> list[Scoped]:
    return [Scoped(LANE_ROLES, lane=lane), Scoped(TOWNSHIP_ROLES, jurisdiction=lane.township)]


def patrol_role(person: Any, lane: Lane) -> str | None:
    """The role in which the person may patrol the lane, if any."""
    return acting_role(person, *_scopes(lane))


def open_patrol(person: Any) -> Patrol | None:
    if not getattr(person, "is_authenticated", False):
        return None
    return (
        Patrol.objects.filter(person=person, ended_at__isnull=True)
        .select_related("lane__township")
        .first()
    )


def _local(value: datetime) -> str:
    return timezone.localtime(value).strftime("%H:%M")


def _lock(patrol: Patrol, person: Person, action: Any, now: datetime) -> Patrol:
    """Lock the person's open patrol; `now` must not lie before its last activity (its record
    never goes back in time) nor too far ahead of the clock."""
    locked = (
        Patrol.objects.select_for_update(of=("self",))
        .select_related("lane__township")
        .get(pk=patrol.pk)
    )
    if locked.person_id != person.pk:
        raise PermissionRefused(
            _("You may not %(action)s: this patrol is someone else's."), action=action
        )
    if locked.ended_at is not None:
        raise ActionRefused(
            _("You cannot %(action)s: the patrol ended at %(time)s."),
            action=action,
            time=_local(locked.ended_at),
        )
    check_moment(now, locked.last_activity_at)
    return locked


def _event(patrol: Patrol, kind: str, actor: Person, at: datetime, **data: Any) -> None:
    PatrolEvent.objects.create(patrol=patrol, kind=kind, actor=actor, at=at, data=data)


def _where(lon: Any, lat: Any, accuracy_m: Any) -> dict[str, Any]:
    """Where the phone was when a patrol was started, ticked or ended, for its event: the
    position and the fix's accuracy, or nothing when the phone had no fix."""
    if lon is None and lat is None:
        if accuracy_m is not None:
            raise InvalidInput("position", _("An accuracy needs its position."))
        return {}
    if lon is None or lat is None:
        raise InvalidInput("position", _("Give both the longitude and the latitude, or neither."))
    lon = _number(lon, "position", _("The longitude"))
    lat = _number(lat, "position", _("The latitude"))
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise InvalidInput("position", _("The position is not a WGS-84 position."))
    accuracy = None
    if accuracy_m is not None:
        accuracy = _number(accuracy_m, "accuracy_m", _("The position accuracy"))
        if not 0 <= accuracy <= ACCURACY_MAX:
            raise InvalidInput("accuracy_m", _("The position accuracy is out of range."))
        accuracy = round(accuracy, 1)
    return {"position": {"lon": lon, "lat": lat, "accuracy_m": accuracy}}


def start_patrol(
    person: Person,
    *,
    lane: Lane,
    key: uuid.UUID | None = None,
    lon: float | None = None,
    lat: float | None = None,
    accuracy_m: float | None = None,
    happened_at: datetime | None = None,
    sent_at: datetime | None = None,
    now: datetime | None = None,
) -> Patrol:
    """Start a patrol of one of the person's lanes. One open patrol per person.

    A patrol started on the phone without signal comes later with the key the phone gave it
    (`key`, the patrol's public id, so its positions and ticks queued behind it name it) and
    the device's times (`whistle.cases.device_time`): it starts when it was started. The same
    start sent again returns the patrol it made."""
    now = _moment(now)
    where = _where(lon, lat, accuracy_m)
    offline = device_time(happened_at, sent_at, now)
    made_at = offline.happened_at if offline is not None else now
    if not isinstance(lane, Lane):
        raise InvalidInput("lane", _("Choose one of your lanes."))
    if key is not None and not isinstance(key, uuid.UUID):
        raise InvalidInput("uuid", _("The patrol's key is not a valid key."))
    role = patrol_role(person, lane)
    if role is None:
        raise refusal(_("patrol this lane"), *_scopes(lane))
    check_moment(now, None)
    with transaction.atomic():
        if key is not None:
            same = Patrol.objects.filter(uuid=key).select_related("lane__township").first()
            if same is not None:
                if same.person_id != person.pk or same.lane_id != lane.pk:
                    raise ActionRefused(_("This patrol key is already used by another patrol."))
                return same
        current = open_patrol(person)
        if current is not None:
            raise ActionRefused(
                _("You are already patrolling %(lane)s (since %(time)s): end that patrol first."),
                lane=current.lane.name,
                time=_local(current.started_at),
            )
        patrol = Patrol(
            uuid=key or uuid.uuid4(),
            person=person,
            lane=lane,
            role=role,
            started_at=made_at,
            last_activity_at=now,
            checklist=checklist.snapshot(checklist.lane_items(lane)),
        )
        try:
            # Two starts at once: the partial unique index lets one through.
            with transaction.atomic():
                patrol.save(force_insert=True)
        except IntegrityError:
            raise ActionRefused(
                _("You are already patrolling another lane: end that patrol first.")
            ) from None
        _event(
            patrol,
            PatrolEvent.Kind.STARTED,
            person,
            now,
            lane=lane.name,
            role=role,
            **where,
            **offline.trail() if offline is not None else {},
        )
    return patrol


@dataclass(frozen=True)
class PositionsRecorded:
    accepted: int
    duplicates: int
    patrol: Patrol


def _number(value: Any, field: str, label: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(field, _("%(label)s must be a number."), label=label)
    try:
        number = float(value)
    except OverflowError:
        # A whole number too large for a float (JSON allows any number of digits).
        number = math.inf
    if not math.isfinite(number):
        raise InvalidInput(field, _("%(label)s must be a finite number."), label=label)
    return number


def _recorded_at(at: Any) -> datetime | None:
    """The position's time in UTC, or None when it is not a time with its offset."""
    try:
        recorded = (
            at if isinstance(at, datetime) else parse_datetime(at) if isinstance(at, str) else None
        )
        if recorded is None or timezone.is_naive(recorded):
            return None
        return recorded.astimezone(UTC)
    except (ValueError, OverflowError):
        # A well-formed text naming no real moment: 2026-13-45, an offset of 99 hours, a
        # year 9999 time whose offset carries it past the calendar's end.
        return None


def _clean_point(raw: Any, number: int, earliest: datetime, latest: datetime) -> RoutePoint:
    field = f"points.{number}"
    if not isinstance(raw, dict):
        raise InvalidInput(field, _("Position %(n)s is not an object."), n=number)
    seq = raw.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < SEQ_MAX:
        raise InvalidInput(
            field, _("Position %(n)s needs a whole sequence number (seq)."), n=number
        )
    lon = _number(raw.get("lon"), field, _("The longitude"))
    lat = _number(raw.get("lat"), field, _("The latitude"))
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise InvalidInput(field, _("Position %(n)s is not a WGS-84 position."), n=number)
    accuracy = raw.get("accuracy_m")
    if accuracy is not None:
        accuracy = _number(accuracy, field, _("The position accuracy"))
        if not 0 <= accuracy <= ACCURACY_MAX:
            raise InvalidInput(
                field, _("The accuracy of position %(n)s is out of range."), n=number
            )
        accuracy = round(accuracy, 1)
    recorded = _recorded_at(raw.get("at"))
    if recorded is None:
        raise InvalidInput(
            field, _("Position %(n)s needs a time with its time zone (at)."), n=number
        )
    if not earliest <= recorded <= latest:
        raise InvalidInput(
            field, _("Position %(n)s was recorded outside the patrol's time."), n=number
        )
    return RoutePoint(seq=seq, lon=lon, lat=lat, accuracy_m=accuracy, recorded_at=recorded)


def _fix(point: RoutePoint) -> Fix:
    return Fix(point.lon, point.lat, point.accuracy_m, point.recorded_at)


def _route(patrol: Patrol, new: list[RoutePoint], rules: RouteRules) -> float:
    """Mark which new points count and return the patrol's distance after them.

    Points arriving in time order extend the route from its last counted point; a batch
    that arrives late (older than the route's end) makes the whole route be walked again.
    """
    anchor = (
        RoutePoint.objects.filter(patrol=patrol, counted=True)
        .order_by("-recorded_at", "-seq")
        .first()
    )
    if anchor is None or all(p.recorded_at >= anchor.recorded_at for p in new):
        result = walk([_fix(p) for p in new], rules, _fix(anchor) if anchor else None)
        for point, counted in zip(new, result.counted, strict=True):
            point.counted = counted
        return patrol.distance_m + result.distance_m
    stored = list(RoutePoint.objects.filter(patrol=patrol).order_by("recorded_at", "seq"))
    everything = sorted([*stored, *new], key=lambda p: (p.recorded_at, p.seq))
    result = walk([_fix(p) for p in everything], rules)
    changed = []
    for point, counted in zip(everything, result.counted, strict=True):
        if point.pk is not None and point.counted != counted:
            changed.append(point)
        point.counted = counted
    if changed:
        RoutePoint.objects.bulk_update(changed, ["counted"])
    return result.distance_m


def record_positions(
    person: Person,
    patrol: Patrol,
    *,
    points: Sequence[Any] = (),
    location: str | None = None,
    now: datetime | None = None,
) -> PositionsRecorded:
    """Store a batch of positions from the browser and extend the walked distance.

    Each point is ``{"seq": int, "lon": float, "lat": float, "accuracy_m": float | None,
    "at": ISO 8601 with offset}``. A point whose ``seq`` is already stored is skipped, so a
    batch sent again after a lost answer does no harm. ``location`` records why the browser
    gives no positions ("denied", "unavailable", "unsupported").
    """
    now = _moment(now)
    if not isinstance(points, list | tuple):
        raise InvalidInput("points", _("The positions must be a list."))
    if len(points) > max_batch():
        raise InvalidInput("points", _("At most %(max)s positions at a time."), max=max_batch())
    if location is not None and not (isinstance(location, str) and location in REPORTED_LOCATIONS):
        raise InvalidInput("location", _("Unknown positions status."))
    action = _("record positions on this patrol")
    with transaction.atomic():
        patrol = _lock(patrol, person, action, now)
        earliest = patrol.started_at - EARLY_TOLERANCE
        latest = now + LATE_TOLERANCE
        cleaned = [_clean_point(raw, n, earliest, latest) for n, raw in enumerate(points, 1)]
        unique: dict[int, RoutePoint] = {}
        for point in cleaned:
            unique.setdefault(point.seq, point)
        stored = set(
            RoutePoint.objects.filter(patrol=patrol, seq__in=list(unique)).values_list(
                "seq", flat=True
            )
        )
        new = sorted(
            (p for seq, p in unique.items() if seq not in stored),
            key=lambda p: (p.recorded_at, p.seq),
        )
        if patrol.point_count + len(new) > max_points():
            raise ActionRefused(
                _("This patrol already has %(count)s positions, the most one patrol keeps."),
                count=patrol.point_count,
            )
        fields = ["last_activity_at"]
        if new:
            for point in new:
                point.patrol = patrol
                point.received_at = now
            patrol.distance_m = round(_route(patrol, new, RouteRules.from_settings()), 1)
            RoutePoint.objects.bulk_create(new)
            patrol.point_count += len(new)
            patrol.counted_point_count = RoutePoint.objects.filter(
                patrol=patrol, counted=True
            ).count()
            fields += ["distance_m", "point_count", "counted_point_count"]
            location = Patrol.Location.RECORDING
        if location is not None and location != patrol.location:
            _event(
                patrol,
                PatrolEvent.Kind.LOCATION,
                person,
                now,
                before=patrol.location,
                after=location,
            )
            patrol.location = location
            fields.append("location")
        patrol.last_activity_at = now
        patrol.save(update_fields=fields)
    return PositionsRecorded(len(new), len(cleaned) - len(new), patrol)


def _item_keys(patrol: Patrol) -> dict[str, checklist.Item]:
    return {item.key: item for item in checklist.from_snapshot(patrol.checklist)}


def record_check(
    person: Person,
    patrol: Patrol,
    *,
    item: str,
    result: str,
    outcome: str = "",
    case: Case | None = None,
    note: str = "",
    lon: float | None = None,
    lat: float | None = None,
    accuracy_m: float | None = None,
    happened_at: datetime | None = None,
    sent_at: datetime | None = None,
    now: datetime | None = None,
) -> CheckResult:
    """Tick one checklist item: ok, problem or not checked; a problem may be fixed on the
    spot or reported (with the case). A reported item stays a problem.

    A tick made on the phone without signal comes later with the device's times
    (`whistle.cases.device_time`): it is dated when it was made, and an answer given since
    on the same item stays the answer."""
    now = _moment(now)
    where = _where(lon, lat, accuracy_m)
    offline = device_time(happened_at, sent_at, now)
    made_at = offline.happened_at if offline is not None else now
    if result not in CheckResult.Result.values:
        raise InvalidInput("result", _("Choose ok, problem or not checked."))
    if outcome not in CheckResult.Outcome.values:
        raise InvalidInput("outcome", _("Choose fixed on the spot or reported."))
    if outcome and result != CheckResult.Result.PROBLEM:
        raise InvalidInput("outcome", _("Only a problem can be fixed or reported."))
    if outcome == CheckResult.Outcome.REPORTED and not isinstance(case, Case):
        raise InvalidInput("case", _("A reported problem needs its case."))
    if outcome != CheckResult.Outcome.REPORTED and case is not None:
        raise InvalidInput("case", _("Only a reported problem has a case."))
    if not isinstance(note, str):
        raise InvalidInput("note", _("The note must be text."))
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise InvalidInput(
            "note", _("The note is too long: at most %(max)s characters."), max=NOTE_MAX
        )
    if "\x00" in note:
        raise InvalidInput("note", _("The note contains a NUL character."))
    action = _("tick the checklist of this patrol")
    with transaction.atomic():
        patrol = _lock(patrol, person, action, now)
        if made_at < patrol.started_at:
            raise InvalidInput(
                "happened_at", _("The time recorded on the device is before the patrol.")
            )
        items = _item_keys(patrol)
        if item not in items:
            raise InvalidInput("item", _("This item is not on the patrol's checklist."))
        if case is not None and case.reporter_id != person.pk:
            raise InvalidInput("case", _("Link only a case you reported yourself."))
        existing = CheckResult.objects.filter(patrol=patrol, item=item).first()
        if (
            existing is not None
            and existing.case_id is not None
            and (case is None or case.pk != existing.case_id)
        ):
            raise ActionRefused(
                _("This item was reported as case %(case)s and stays a problem."),
                case=existing.case.reference if existing.case else "",
            )
        if existing is not None and existing.checked_at > made_at:
            # A tick recorded without signal arrives after a newer answer: the trail keeps
            # it, the newer answer stands.
            _event(
                patrol,
                PatrolEvent.Kind.CHECKED,
                person,
                now,
                item=item,
                result=result,
                outcome=outcome,
                case=case.reference if case is not None else None,
                superseded=True,
                **where,
                **offline.trail() if offline is not None else {},
            )
            return existing
        check = existing or CheckResult(patrol=patrol, item=item)
        check.label = str(next(e["label"] for e in patrol.checklist if e["key"] == item))
        check.result = result
        check.outcome = outcome
        check.case = case
        check.note = note
        check.checked_at = made_at
        if existing is None:
            check.save(force_insert=True)
        else:
            check.save(update_fields=["label", "result", "outcome", "case", "note", "checked_at"])
        _event(
            patrol,
            PatrolEvent.Kind.CHECKED,
            person,
            now,
            item=item,
            result=result,
            outcome=outcome,
            case=case.reference if case is not None else None,
            **where,
            **offline.trail() if offline is not None else {},
        )
        patrol.last_activity_at = now
        patrol.save(update_fields=["last_activity_at"])
    return check


def end_patrol(
    person: Person,
    patrol: Patrol,
    *,
    lon: float | None = None,
    lat: float | None = None,
    accuracy_m: float | None = None,
    happened_at: datetime | None = None,
    sent_at: datetime | None = None,
    now: datetime | None = None,
) -> Patrol:
    """End the patrol: items left unticked are recorded as not checked, and the share of
    the lane the route covered is computed.

    An end recorded on the phone without signal comes later with the device's times: the
    patrol ends when it was ended (`whistle.cases.device_time`)."""
    now = _moment(now)
    where = _where(lon, lat, accuracy_m)
    offline = device_time(happened_at, sent_at, now)
    made_at = offline.happened_at if offline is not None else now
    action = _("end this patrol")
    with transaction.atomic():
        patrol = _lock(patrol, person, action, now)
        if made_at < patrol.started_at:
            raise InvalidInput(
                "happened_at", _("The time recorded on the device is before the patrol.")
            )
        ticked = set(CheckResult.objects.filter(patrol=patrol).values_list("item", flat=True))
        CheckResult.objects.bulk_create(
            [
                CheckResult(
                    patrol=patrol,
                    item=entry["key"],
                    label=entry["label"],
                    result=CheckResult.Result.NOT_CHECKED,
                    checked_at=made_at,
                )
                for entry in patrol.checklist
                if entry["key"] not in ticked
            ]
        )
        positions = list(
            RoutePoint.objects.filter(patrol=patrol, counted=True).values_list("lon", "lat")
        )
        patrol.covered_ratio = coverage(patrol.lane.centre_line, positions) if positions else None
        patrol.ended_at = made_at
        patrol.last_activity_at = now
        patrol.save(update_fields=["covered_ratio", "ended_at", "last_activity_at"])
        counts = {value: 0 for value in CheckResult.Result.values}
        for value in CheckResult.objects.filter(patrol=patrol).values_list("result", flat=True):
            counts[value] += 1
        _event(
            patrol,
            PatrolEvent.Kind.ENDED,
            person,
            now,
            distance_m=patrol.distance_m,
            points=patrol.point_count,
            covered_ratio=patrol.covered_ratio,
            checks=counts,
            **where,
            **offline.trail() if offline is not None else {},
        )
    return patrol
