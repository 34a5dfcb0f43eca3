"""A summoned department at work: acknowledge, check in on site, report, decline, leave.

事不完、人不撤: a department that checked in stays until the township marks the case
resolved or releases it. A refused check-in and an attempt to leave early stay in the
trail. A check-in whose position does not prove the arrival by itself (whistle.cases.proof)
is accepted flagged, and the township confirms or rejects it (`rule_on_check_in`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from whistle.cases import proof
from whistle.cases.actions._common import (
    NOTE_MAX,
    REASON_MAX,
    RESULT_MAX,
    PhotoBatch,
    atomic,
    changes,
    clean_accuracy,
    clean_optional_position,
    clean_position,
    clean_text,
    department_people,
    iso,
    local_text,
    minutes_late,
    moment,
    notify,
    people_with_role,
    photo_data,
    record,
    rounded,
    set_next_check,
)
from whistle.cases.actions.summoning import (
    clean_departments,
    dispatch_case,
    kept_department,
    sounding_whistle,
    summon_more,
)
from whistle.cases.device_time import device_time as device_time_of
from whistle.cases.errors import ActionRefused, CheckInRefused, CheckOutRefused, InvalidInput
from whistle.cases.models import Attachment, Case, Event, Summons
from whistle.cases.permissions import may_leave, require, require_impartial
from whistle.cases.rules import district_policy
from whistle.cases.trail import EventKind, lock_summons
from whistle.notifications.texts import Named, Sentence
from whistle.organisation import geo
from whistle.organisation.models import Department, Person, Role
from whistle.policies.models import DistrictPolicy

S = Summons.Status
Flag = Summons.CheckInFlag


def _save(summons: Summons, now: datetime, *fields: str) -> None:
    set_next_check(summons, now)
    summons.save(update_fields=[*fields, "next_check_at"])


def _timeliness(case: Case, done: datetime, due: datetime | None) -> dict[str, Any]:
    """On time or how late, as the assessment judges it: time on the backlog is not held
    against the department."""
    late = minutes_late(done, due, case)
    return {"due_at": iso(due), "on_time": late == 0, "minutes_late": late}


def acknowledge(
    actor: Person, summons: Summons, *, note: str = "", now: datetime | None = None
) -> Summons:
    """The department confirms it has received the summons."""
    now = moment(now)
    note = clean_text(note, "note", _("The note"), max_length=NOTE_MAX, required=False)
    with atomic():
        case, summons = lock_summons(summons.pk)
        role = require(actor, "acknowledge", summons)
        summons.status = S.ACKNOWLEDGED
        summons.acknowledged_at = now
        summons.acknowledged_by = actor
        _save(summons, now, "status", "acknowledged_at", "acknowledged_by")
        record(
            case,
            EventKind.ACKNOWLEDGED,
            actor=actor,
            role=role,
            at=now,
            summons=summons,
            data={
                "changes": changes(status=(S.SUMMONED, S.ACKNOWLEDGED)),
                **_timeliness(case, now, summons.acknowledge_due_at),
                "note": note,
            },
        )
    return summons


def check_in_target(case: Case, summons: Summons) -> tuple[tuple[float, float], str]:
    """Where a department must be to check in: the whistle's meeting point when it has
    coordinates, otherwise the case's position."""
    whistle = summons.whistle
    if whistle is not None and whistle.meeting_lon is not None and whistle.meeting_lat is not None:
        return (whistle.meeting_lon, whistle.meeting_lat), "meeting_point"
    return (case.lon, case.lat), "case"


# The check-in page's device id: a UUID, or 32 hex digits where the browser has no UUIDs.
DEVICE_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


def _clean_source(value: Any) -> str:
    if value not in proof.PositionSource.values:
        raise InvalidInput("source", _("Say where the position came from."))
    return str(value)


def _clean_device_time(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise InvalidInput("device_time", _("The time of the position is not a valid time."))
    return value.astimezone(UTC)


def _clean_device_id(value: Any) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or not DEVICE_ID.match(value):
        raise InvalidInput("device_id", _("The device id is not valid."))
    return value


def _provenance(
    source: str,
    accuracy: float | None,
    device_time: datetime | None,
    device_id: str,
    now: datetime,
    policy: DistrictPolicy,
) -> dict[str, Any]:
    """Where a position came from, as its trail event keeps it: the source, the fix's
    accuracy, the device's time of the fix beside the server's and their difference, the
    device's id."""
    return {
        "source": source,
        "accuracy_m": accuracy,
        "device_time": iso(device_time),
        "server_time": iso(now),
        "clock_skew_s": proof.skew_seconds(device_time, now)
        if source == proof.PositionSource.DEVICE
        else None,
        "max_skew_s": policy.checkin_max_skew_s,
        "device_id": device_id,
    }


def _refusal(
    judgement: proof.Judgement,
    measured: proof.Measured,
    target_kind: str,
    policy: DistrictPolicy,
    event_seq: int,
) -> CheckInRefused:
    """The refusal in words: why, with the figures the officer can act on."""
    target = _("the meeting point") if target_kind == "meeting_point" else _("the case's position")
    figures: dict[str, Any] = {
        "distance_m": measured.distance_m,
        "distance": geo.shown_metres(measured.distance_m),
        "radius": measured.radius_m,
        "target": target,
        "accuracy": (
            geo.shown_metres(measured.accuracy_m) if measured.accuracy_m is not None else None
        ),
        "skew": abs(measured.skew_s) if measured.skew_s is not None else None,
        "max_skew": policy.checkin_max_skew_s,
    }
    reason = judgement.refused_for
    if reason == proof.Reason.TOO_FAR:
        message = _(
            "Check-in refused: you are %(distance)s m from %(target)s; check in within "
            "%(radius)s m."
        )
    elif reason == proof.Reason.IMPRECISE:
        message = _(
            "Check-in refused: your position is %(distance)s m from %(target)s but only "
            "accurate to ± %(accuracy)s m, which reaches beyond the %(radius)s m allowed. "
            "Wait for a better fix in the open and try again."
        )
    elif reason == proof.Reason.ACCURACY_UNKNOWN:
        message = _("Check-in refused: the position came without its accuracy.")
    elif reason == proof.Reason.CLOCK_SKEW:
        message = _(
            "Check-in refused: the time of your position differs from the server's by "
            "%(skew)s seconds (at most %(max_skew)s). Find your position again just before "
            "checking in, and check the phone's clock."
        )
    elif reason == proof.Reason.DEVICE_TIME_UNKNOWN:
        message = _("Check-in refused: the position came without the device's time.")
    else:
        message = _("Check-in refused: only a position from the device's location is accepted.")
    return CheckInRefused(message, event_seq=event_seq, **figures)


def check_in(
    actor: Person,
    summons: Summons,
    *,
    lon: float,
    lat: float,
    source: str,
    accuracy_m: float | None = None,
    device_time: datetime | None = None,
    device_id: str = "",
    photo: Any = None,
    happened_at: datetime | None = None,
    sent_at: datetime | None = None,
    now: datetime | None = None,
) -> Summons:
    """The department reports on site (报到) with a position and its provenance: where it
    came from (`proof.PositionSource`), its accuracy, the device's time of the fix and the
    device's id. The action's time is the server's.

    A check-in recorded on the phone without signal comes later with `happened_at` (the
    device's time of the check-in) and `sent_at` (the device's time of sending): it is
    judged, and counts as the arrival, at the time it happened (`whistle.cases.device_time`),
    and one received more than the district's minutes after is flagged for the township.

    `whistle.cases.proof` judges it by the district's rules: clean (the arrival), flagged
    (on site, counted as the arrival only once the township confirms it) or refused. A
    refused attempt is committed to the trail before CheckInRefused is raised.
    """
    now = moment(now)
    position = clean_position(lon, lat)
    accuracy = clean_accuracy(accuracy_m)
    source = _clean_source(source)
    device_time = _clean_device_time(device_time)
    device_id = _clean_device_id(device_id)
    offline = device_time_of(happened_at, sent_at, now)
    # The moment the check-in was made: the server's time, or the corrected device time of
    # one recorded without signal.
    made_at = offline.happened_at if offline is not None else now
    batch = PhotoBatch([photo] if photo is not None else [], field="photo")
    refused: CheckInRefused | None = None
    with atomic(batch):
        case, summons = lock_summons(summons.pk)
        role = require(actor, "check_in", summons)
        if made_at < summons.summoned_at:
            raise InvalidInput(
                "happened_at", _("The time recorded on the device is before the summons.")
            )
        target, target_kind = check_in_target(case, summons)
        policy = district_policy(case.district)
        previous = proof.previous_position(actor, position, accuracy, made_at)
        skew: float | None = None
        if source == proof.PositionSource.DEVICE:
            skew = (
                proof.offline_skew_seconds(
                    device_time, offline.device_happened_at, offline.clock_offset_s
                )
                if offline is not None
                else proof.skew_seconds(device_time, now)
            )
        measured = proof.Measured(
            source=source,
            distance_m=round(geo.distance_m(position, target), 1),
            radius_m=policy.checkin_radius_m,
            accuracy_m=accuracy,
            skew_s=skew,
            previous=previous,
            shared_device=proof.device_used_elsewhere(device_id, summons, made_at, policy),
            delay_s=offline.delay_s if offline is not None else None,
            late_after_s=policy.checkin_offline_confirm_after_minutes * 60.0,
        )
        judgement = proof.judge(measured, policy)
        place = {
            **_provenance(source, accuracy, device_time, device_id, now, policy),
            "clock_skew_s": skew,
            **(offline.trail() if offline is not None else {}),
            "distance_m": measured.distance_m,
            "radius_m": measured.radius_m,
            "target": target_kind,
            "previous_at": iso(previous.at) if previous is not None else None,
            "previous_distance_m": previous.distance_m if previous is not None else None,
            # Which event recorded it: a refused attempt counts too.
            "previous_kind": previous.kind if previous is not None else None,
            "speed_kmh": previous.speed_kmh if previous is not None else None,
            "speed_limit_kmh": policy.checkin_speed_limit_kmh,
            "verdict": judgement.verdict,
            "reasons": judgement.reasons,
        }
        if judgement.verdict == proof.Verdict.REFUSED:
            event = record(
                case,
                EventKind.CHECK_IN_REFUSED,
                actor=actor,
                role=role,
                at=now,
                summons=summons,
                lon=position[0],
                lat=position[1],
                data={**place, "reason": judgement.refused_for},
            )
            refused = _refusal(judgement, measured, target_kind, policy, event.seq)
        else:
            flagged = judgement.verdict == proof.Verdict.FLAGGED
            attachments = batch.store(
                case, Attachment.Purpose.CHECK_IN, actor=actor, now=now, summons=summons
            )
            flag_before = summons.check_in_flag
            summons.status = S.ON_SITE
            summons.arrived_at = made_at
            summons.arrived_lon, summons.arrived_lat = position
            summons.arrived_accuracy_m = accuracy
            summons.arrived_distance_m = measured.distance_m
            summons.check_in_flag = Flag.PENDING if flagged else Flag.NONE
            summons.check_in_flag_reasons = judgement.reasons
            _save(summons, now, *ARRIVAL_FIELDS)
            timeliness = _timeliness(case, made_at, summons.arrive_due_at)
            status_change: dict[str, tuple[str, str]] = {"status": (S.ACKNOWLEDGED, S.ON_SITE)}
            if flag_before != summons.check_in_flag:
                status_change["check_in_flag"] = (flag_before, summons.check_in_flag)
            event = record(
                case,
                EventKind.CHECK_IN_FLAGGED if flagged else EventKind.CHECK_IN_ACCEPTED,
                actor=actor,
                role=role,
                at=now,
                summons=summons,
                lon=position[0],
                lat=position[1],
                data={
                    "changes": changes(**status_change),
                    **place,
                    **timeliness,
                    "photos": photo_data(attachments),
                },
            )
            if flagged:
                notify(
                    people_with_role(Role.DISPATCHER, case.township),
                    event,
                    _("Check-in to confirm: %(case)s"),
                    _(
                        "%(department)s checked in on case %(case)s, but the check-in is "
                        "flagged (%(reasons)s). Confirm or reject it on the case's page; until "
                        "then it does not count as the arrival."
                    ),
                    department=Named.of(summons.department),
                    reasons=proof.ReasonList(judgement.reasons, place),
                )
            else:
                if timeliness["on_time"]:
                    body = _("%(department)s checked in on site for case %(case)s, on time.")
                else:
                    body = _(
                        "%(department)s checked in on site for case %(case)s, %(late)s minutes "
                        "late."
                    )
                notify(
                    people_with_role(Role.DISPATCHER, case.township),
                    event,
                    _("%(department)s on site: %(case)s"),
                    body,
                    department=Named.of(summons.department),
                    late=timeliness["minutes_late"],
                )
    if refused is not None:
        raise refused
    return summons


# What a check-in writes on the summons, and a rejected one takes back.
ARRIVAL_FIELDS = (
    "status",
    "arrived_at",
    "arrived_lon",
    "arrived_lat",
    "arrived_accuracy_m",
    "arrived_distance_m",
    "check_in_flag",
    "check_in_flag_reasons",
)


def rule_on_check_in(
    actor: Person,
    summons: Summons,
    *,
    confirm: bool,
    note: str = "",
    now: datetime | None = None,
) -> Summons:
    """The township confirms a flagged check-in (it counts as the arrival, at the time it
    was made) or rejects it (it never counts; a department still on site goes back to
    acknowledged and may check in again, and its arrival deadline judges it as before).

    Nobody rules on a check-in they made, nor on one of a department they belong to. A
    rejection needs a reason.
    """
    now = moment(now)
    if not isinstance(confirm, bool):
        raise InvalidInput("confirm", _("Say whether the check-in is confirmed."))
    note = clean_text(note, "note", _("The reason"), max_length=NOTE_MAX, required=not confirm)
    with atomic():
        case, summons = lock_summons(summons.pk)
        flagged: Event | None = None
        if summons.check_in_flag == Flag.PENDING:
            flagged = (
                Event.objects.filter(summons=summons, kind=EventKind.CHECK_IN_FLAGGED)
                .order_by("-seq")
                .first()
            )
        if flagged is not None:
            # Not the one who made it, even after leaving the department; the rule refuses
            # those who belong to the department.
            require_impartial(actor, _("rule on this check-in"), filed_by_id=flagged.actor_id)
        role = require(actor, "rule_on_check_in", summons)
        if flagged is None:
            raise ActionRefused(
                _("No check-in of %(department)s awaits the township's decision."),
                department=Named.of(summons.department),
            )
        before = summons.status
        summons.check_in_flag = Flag.CONFIRMED if confirm else Flag.REJECTED
        if confirm:
            kind = EventKind.CHECK_IN_CONFIRMED
            subject = _("Check-in confirmed: %(case)s")
            body = _(
                "%(township)s confirmed the check-in of %(department)s on case %(case)s: it "
                "counts as the arrival at %(at)s."
            )
            _save(summons, now, "check_in_flag")
        else:
            kind = EventKind.CHECK_IN_REJECTED
            subject = _("Check-in rejected: %(case)s")
            body = _(
                "%(township)s rejected the check-in of %(department)s on case %(case)s: "
                "%(note)s It does not count as the arrival; check in again on site."
            )
            if summons.status == S.ON_SITE:
                summons.status = S.ACKNOWLEDGED
            summons.arrived_at = None
            summons.arrived_lon = summons.arrived_lat = None
            summons.arrived_accuracy_m = summons.arrived_distance_m = None
            _save(summons, now, *ARRIVAL_FIELDS)
        status_change: dict[str, tuple[Any, Any]] = {
            "check_in_flag": (Flag.PENDING, summons.check_in_flag)
        }
        if before != summons.status:
            status_change["status"] = (before, summons.status)
        event = record(
            case,
            kind,
            actor=actor,
            role=role,
            at=now,
            summons=summons,
            data={
                "changes": changes(**status_change),
                "check_in_seq": flagged.seq,
                "checked_in_at": iso(flagged.at),
                "reasons": list(flagged.data.get("reasons", [])),
                "note": note,
            },
        )
        notify(
            department_people(summons.department, case.township),
            event,
            subject,
            body,
            township=Named.of(case.township),
            department=Named.of(summons.department),
            at=local_text(flagged.at),
            note=Sentence(note),
        )
    return summons


def _not_before_summons(summons: Summons, offline: Any) -> None:
    if offline is not None and offline.happened_at < summons.summoned_at:
        raise InvalidInput(
            "happened_at", _("The time recorded on the device is before the summons.")
        )


@dataclass(frozen=True)
class _WrittenAt:
    """Where the phone was when progress or a result was written, if it had a fix."""

    lon: float | None
    lat: float | None
    accuracy_m: float | None

    def trail(self) -> dict[str, Any]:
        return {} if self.lon is None else {"accuracy_m": self.accuracy_m}


def _written_at(lon: Any, lat: Any, accuracy_m: Any) -> _WrittenAt:
    position_lon, position_lat = clean_optional_position(lon, lat)
    if position_lon is None:
        return _WrittenAt(None, None, None)
    return _WrittenAt(position_lon, position_lat, clean_accuracy(accuracy_m))


def report_progress(
    actor: Person,
    summons: Summons,
    *,
    text: str,
    photos: Any = None,
    lon: float | None = None,
    lat: float | None = None,
    accuracy_m: float | None = None,
    happened_at: datetime | None = None,
    sent_at: datetime | None = None,
    now: datetime | None = None,
) -> Summons:
    """The department tells the township how the work is going. One written on the phone
    without signal comes later with the device's times, which its event keeps, as it keeps
    where the phone was (and the fix's accuracy) when it had a position."""
    now = moment(now)
    text = clean_text(text, "text", _("The progress report"), max_length=RESULT_MAX)
    place = _written_at(lon, lat, accuracy_m)
    offline = device_time_of(happened_at, sent_at, now)
    batch = PhotoBatch(photos)
    with atomic(batch):
        case, summons = lock_summons(summons.pk)
        role = require(actor, "report_progress", summons)
        _not_before_summons(summons, offline)
        attachments = batch.store(
            case, Attachment.Purpose.PROGRESS, actor=actor, now=now, summons=summons
        )
        record(
            case,
            EventKind.PROGRESS,
            actor=actor,
            role=role,
            at=now,
            summons=summons,
            lon=place.lon,
            lat=place.lat,
            data={
                "text": text,
                "photos": photo_data(attachments),
                **place.trail(),
                **(offline.trail() if offline is not None else {}),
            },
        )
    return summons


def report_result(
    actor: Person,
    summons: Summons,
    *,
    result: str,
    photos: Any = None,
    lon: float | None = None,
    lat: float | None = None,
    accuracy_m: float | None = None,
    happened_at: datetime | None = None,
    sent_at: datetime | None = None,
    now: datetime | None = None,
) -> Summons:
    """The department reports what it did, with evidence. On a whistle it must be on site;
    it stays there until the township resolves the case or releases it.

    A result written on the phone without signal comes later with the device's times: like a
    report, it counts when it reaches the township (nobody could check it before), and its
    event keeps when it was written (`whistle.cases.device_time`) and, when the phone had a
    fix, where and how precisely."""
    now = moment(now)
    result = clean_text(result, "result", _("The result"), max_length=RESULT_MAX)
    place = _written_at(lon, lat, accuracy_m)
    offline = device_time_of(happened_at, sent_at, now)
    batch = PhotoBatch(photos)
    with atomic(batch):
        case, summons = lock_summons(summons.pk)
        role = require(actor, "report_result", summons)
        _not_before_summons(summons, offline)
        attachments = batch.store(
            case, Attachment.Purpose.RESULT, actor=actor, now=now, summons=summons
        )
        before = summons.status
        summons.status = S.DONE
        summons.done_at = now
        summons.result = result
        _save(summons, now, "status", "done_at", "result")
        event = record(
            case,
            EventKind.RESULT,
            actor=actor,
            role=role,
            at=now,
            summons=summons,
            lon=place.lon,
            lat=place.lat,
            data={
                "changes": changes(status=(before, S.DONE)),
                "result": result,
                **_timeliness(case, now, summons.resolve_due_at),
                "photos": photo_data(attachments),
                **place.trail(),
                **(offline.trail() if offline is not None else {}),
            },
        )
        notify(
            people_with_role(Role.DISPATCHER, case.township),
            event,
            _("%(department)s reports a result: %(case)s"),
            _("%(department)s on case %(case)s: %(result)s"),
            department=Named.of(summons.department),
            result=result[:140],
        )
    return summons


# The department a decline names as responsible: the action's argument, the summons' field
# and the key of the DECLINED event's data.
NAMED = "named_department"


def _clean_named(case: Case, summons: Summons, department: Any) -> Department | None:
    """The department a decline names as responsible: another one the township could
    summon on this case now (`clean_departments`), or none."""
    if department is None:
        return None
    if not isinstance(department, Department):
        raise InvalidInput(NAMED, _("Choose departments from the list."))
    if department.pk == summons.department_id:
        raise InvalidInput(
            NAMED,
            _("%(department)s cannot name itself: name the department responsible instead."),
            department=department.display_name,
        )
    (department,) = clean_departments(case, [department], field=NAMED)
    return department


def decline(
    actor: Person,
    summons: Summons,
    *,
    reason: str,
    named_department: Department | None = None,
    now: datetime | None = None,
) -> Summons:
    """The department says the matter is not its responsibility; the township rules on it.
    It may name the department it holds responsible (one the township could summon on the
    case, not itself): the township may then uphold the decline and summon that department
    in one step (`rule_on_decline`). Departments never hand a case over themselves.

    Declining answers the summons: one not acknowledged yet is acknowledged by it, at the
    decline's moment and by whoever declined (the event records the change), so its
    acknowledgement deadline cannot turn overdue while the township rules. Its arrival and
    resolution deadlines keep running until the ruling: declining does not stop the clock."""
    now = moment(now)
    reason = clean_text(reason, "reason", _("The reason"), max_length=REASON_MAX)
    with atomic():
        case, summons = lock_summons(summons.pk)
        role = require(actor, "decline", summons)
        named = _clean_named(case, summons, named_department)
        before = summons.status
        moved: dict[str, tuple[Any, Any]] = {"status": (before, S.DECLINED)}
        fields = ["status", "decline_reason", NAMED]
        if summons.acknowledged_at is None:
            summons.acknowledged_at = now
            summons.acknowledged_by = actor
            moved["acknowledged_at"] = (None, iso(now))
            fields += ["acknowledged_at", "acknowledged_by"]
        summons.status = S.DECLINED
        summons.decline_reason = reason
        summons.named_department = named
        _save(summons, now, *fields)
        data: dict[str, Any] = {"changes": changes(**moved), "reason": reason}
        if named is not None:
            data[NAMED] = kept_department(named)
            body = _(
                "%(department)s says case %(case)s is not its responsibility: %(reason)s It "
                "names %(named)s as responsible. Rule on it."
            )
        else:
            body = _(
                "%(department)s says case %(case)s is not its responsibility: %(reason)s "
                "Rule on it."
            )
        event = record(
            case,
            EventKind.DECLINED,
            actor=actor,
            role=role,
            at=now,
            summons=summons,
            data=data,
        )
        notify(
            people_with_role(Role.DISPATCHER, case.township),
            event,
            _("%(department)s declines case %(case)s"),
            body,
            department=Named.of(summons.department),
            reason=Sentence(reason),
            named=Named.of(named) if named is not None else "",
        )
    return summons


def _status_before_decline(summons: Summons) -> str:
    if summons.arrived_at is not None:
        return S.ON_SITE
    if summons.acknowledged_at is not None:
        return S.ACKNOWLEDGED
    return S.SUMMONED


def _summon_named(actor: Person, case: Case, summons: Summons, note: str, now: datetime) -> Any:
    """Summon the department the decline named, by the township's own summoning action: on
    the whistle sounding on the case, or by a routine dispatch."""
    named = summons.named_department
    if named is None:
        raise InvalidInput("summon_named", _("The decline names no department to summon."))
    if case.status == Case.Status.WHISTLED:
        whistle = sounding_whistle(case)
        if whistle is None:
            raise ActionRefused(_("No whistle is sounding on this case."))
        return summon_more(actor, whistle, departments=[named], note=note, now=now)
    return dispatch_case(actor, case, department=named, note=note, now=now)


def rule_on_decline(
    actor: Person,
    summons: Summons,
    *,
    uphold: bool,
    summon_named: bool = False,
    note: str = "",
    now: datetime | None = None,
) -> Summons:
    """The township rules on a decline: uphold it (the department is released and another
    can be summoned) or insist (the summons goes on where it was). Insisting needs a note:
    the department gave its reason and must be told why it acts all the same.

    With `summon_named`, an upheld decline that named a department summons it in the same
    transaction, with its own deadlines and trail events (`summon_more` on the sounding
    whistle, or `dispatch_case`); if that summons is refused, nothing of the ruling is
    written."""
    now = moment(now)
    if not isinstance(uphold, bool):
        raise InvalidInput("uphold", _("Say whether the decline is upheld."))
    if not isinstance(summon_named, bool):
        raise InvalidInput("summon_named", _("Say whether to summon the department named."))
    if summon_named and not uphold:
        raise InvalidInput(
            "summon_named", _("Only an upheld decline hands the case to the department named.")
        )
    note = clean_text(note, "note", _("The reason"), max_length=NOTE_MAX, required=not uphold)
    with atomic():
        case, summons = lock_summons(summons.pk)
        role = require(actor, "rule_on_decline", summons)
        if uphold:
            after: str = S.RELEASED
            summons.ruling = Summons.Ruling.UPHELD
            summons.released_at = now
            kind = EventKind.DECLINE_UPHELD
            subject = _("Decline upheld: %(case)s")
            body = _("%(township)s upheld the decline of %(department)s on case %(case)s.")
        else:
            after = _status_before_decline(summons)
            summons.ruling = Summons.Ruling.INSISTED
            kind = EventKind.DECLINE_INSISTED
            subject = _("Decline not accepted: %(case)s")
            body = _("%(township)s insists that %(department)s acts on case %(case)s: %(note)s")
        summons.status = after
        _save(summons, now, "status", "ruling", "released_at")
        event = record(
            case,
            kind,
            actor=actor,
            role=role,
            at=now,
            summons=summons,
            data={
                "changes": changes(status=(S.DECLINED, after)),
                "reason": summons.decline_reason,
                "note": note,
            },
        )
        notify(
            department_people(summons.department, case.township),
            event,
            subject,
            body,
            township=Named.of(case.township),
            department=Named.of(summons.department),
            note=Sentence(note),
        )
        if summon_named:
            _summon_named(actor, case, summons, note, now)
    return summons


def release(
    actor: Person, summons: Summons, *, note: str = "", now: datetime | None = None
) -> Summons:
    """The township lets a department go before the case is resolved (its part is done,
    or it is not needed after all)."""
    now = moment(now)
    note = clean_text(note, "note", _("The note"), max_length=NOTE_MAX, required=False)
    with atomic():
        case, summons = lock_summons(summons.pk)
        role = require(actor, "release", summons)
        before = summons.status
        summons.status = S.RELEASED
        summons.released_at = now
        _save(summons, now, "status", "released_at")
        event = record(
            case,
            EventKind.RELEASED,
            actor=actor,
            role=role,
            at=now,
            summons=summons,
            data={"changes": changes(status=(before, S.RELEASED)), "note": note},
        )
        notify(
            department_people(summons.department, case.township),
            event,
            _("Released from case %(case)s"),
            _("%(township)s released %(department)s from case %(case)s. %(note)s"),
            township=Named.of(case.township),
            department=Named.of(summons.department),
            note=note,
        )
    return summons


def _may_leave_at(case: Case, summons: Summons, made_at: datetime | None) -> bool:
    """事不完、人不撤 at the moment of a check-out: now for one made live; for one made without
    signal, the township's release or resolution must have come before it was made."""
    if not may_leave(summons):
        return False
    if made_at is None:
        return True
    if summons.released_at is not None and summons.released_at <= made_at:
        return True
    return case.handled_at is not None and case.handled_at <= made_at


def check_out(
    actor: Person,
    summons: Summons,
    *,
    lon: float | None = None,
    lat: float | None = None,
    source: str | None = None,
    accuracy_m: float | None = None,
    device_time: datetime | None = None,
    device_id: str = "",
    happened_at: datetime | None = None,
    sent_at: datetime | None = None,
    now: datetime | None = None,
) -> Summons:
    """The department leaves the site. 事不完、人不撤: only once the township has marked the
    case resolved or released the department; an earlier attempt is refused, and the
    refusal is committed to the trail before CheckOutRefused is raised.

    The position is optional (nobody is kept on site by a phone without a fix); when there
    is one it comes with its provenance as at the check-in (`source`, accuracy, the device's
    time of the fix, the device's id), which the event keeps. Only a position from the
    device counts as where the officer stood for the next check-in's speed check
    (`whistle.cases.proof.previous_position`).

    A check-out made on the phone without signal comes later with the device's times
    (`whistle.cases.device_time`): it is dated when it was made, and the rule is applied at
    that moment — the township must have released the department or marked the case
    resolved before it, not merely before it arrived."""
    now = moment(now)
    offline = device_time_of(happened_at, sent_at, now)
    made_at = offline.happened_at if offline is not None else now
    position_lon, position_lat = clean_optional_position(lon, lat)
    point = None if position_lon is None or position_lat is None else (position_lon, position_lat)
    accuracy: float | None = None
    if point is not None:
        source = _clean_source(source)
        accuracy = clean_accuracy(accuracy_m)
        device_time = _clean_device_time(device_time)
        device_id = _clean_device_id(device_id)
    refused: CheckOutRefused | None = None
    with atomic():
        case, summons = lock_summons(summons.pk)
        role = require(actor, "check_out", summons)
        assert summons.arrived_at is not None  # the rule requires a check-in
        if made_at < summons.arrived_at:
            raise InvalidInput(
                "happened_at", _("The time recorded on the device is before the check-in.")
            )
        minutes_on_site = round((made_at - summons.arrived_at).total_seconds() / 60)
        place: dict[str, Any] = {}
        if point is not None:
            target, target_kind = check_in_target(case, summons)
            policy = district_policy(case.district)
            place = {
                **_provenance(str(source), accuracy, device_time, device_id, now, policy),
                "distance_m": rounded(geo.distance_m(point, target)),
                "target": target_kind,
            }
        if not _may_leave_at(case, summons, made_at if offline is not None else None):
            event = record(
                case,
                EventKind.CHECK_OUT_REFUSED,
                actor=actor,
                role=role,
                at=now,
                summons=summons,
                lon=position_lon,
                lat=position_lat,
                data={
                    "reason": "case_not_resolved",
                    "case_status": case.status,
                    "minutes_on_site": minutes_on_site,
                    **place,
                    **(offline.trail() if offline is not None else {}),
                },
            )
            refused = CheckOutRefused(
                _(
                    "You cannot leave yet: case %(case)s is not resolved and the township has "
                    "not released %(department)s. Stay until the matter is done (事不完、人不撤)."
                ),
                event_seq=event.seq,
                case=case.reference,
                department=Named.of(summons.department),
            )
        else:
            before = summons.status
            summons.status = S.LEFT
            summons.left_at = made_at
            _save(summons, now, "status", "left_at")
            record(
                case,
                EventKind.CHECK_OUT,
                actor=actor,
                role=role,
                at=now,
                summons=summons,
                lon=position_lon,
                lat=position_lat,
                data={
                    "changes": changes(status=(before, S.LEFT)),
                    "minutes_on_site": minutes_on_site,
                    "distance_m": None,
                    **place,
                    **(offline.trail() if offline is not None else {}),
                },
            )
    if refused is not None:
        raise refused
    return summons
