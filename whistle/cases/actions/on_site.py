"""A summoned department at work: acknowledge, check in on site, report, decline, leave.

事不完、人不撤: a department that checked in stays until the township marks the case
resolved or releases it. A check-in too far from the place and an attempt to leave early
are refused, and the refused attempt stays in the trail.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

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
    minutes_late,
    moment,
    notify,
    people_with_role,
    photo_data,
    record,
    rounded,
    set_next_check,
)
from whistle.cases.errors import CheckInRefused, CheckOutRefused, InvalidInput
from whistle.cases.models import Attachment, Case, Summons
from whistle.cases.permissions import may_leave, require
from whistle.cases.rules import district_policy
from whistle.cases.trail import EventKind, lock_summons
from whistle.organisation import geo
from whistle.organisation.models import Person, Role

S = Summons.Status


def _save(summons: Summons, now: datetime, *fields: str) -> None:
    set_next_check(summons, now)
    summons.save(update_fields=[*fields, "next_check_at"])


def _timeliness(done: datetime, due: datetime | None) -> dict[str, Any]:
    late = minutes_late(done, due)
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
                **_timeliness(now, summons.acknowledge_due_at),
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


def check_in(
    actor: Person,
    summons: Summons,
    *,
    lon: float,
    lat: float,
    accuracy_m: float | None = None,
    photo: Any = None,
    now: datetime | None = None,
) -> Summons:
    """The department reports on site (报到) with its GPS position.

    Accepted within the district's check-in radius (DistrictPolicy.checkin_radius_m, 300 m
    by default) of the meeting point or the case. Further away it is refused with the
    distance, and the refused attempt is committed to the trail before CheckInRefused is
    raised.
    """
    now = moment(now)
    position = clean_position(lon, lat)
    accuracy = clean_accuracy(accuracy_m)
    batch = PhotoBatch([photo] if photo is not None else [], field="photo")
    refused: CheckInRefused | None = None
    with atomic(batch):
        case, summons = lock_summons(summons.pk)
        role = require(actor, "check_in", summons)
        target, target_kind = check_in_target(case, summons)
        distance = round(geo.distance_m(position, target), 1)
        radius = district_policy(case.district).checkin_radius_m
        place = {
            "distance_m": distance,
            "radius_m": radius,
            "accuracy_m": accuracy,
            "target": target_kind,
        }
        if distance > radius:
            event = record(
                case,
                EventKind.CHECK_IN_REFUSED,
                actor=actor,
                role=role,
                at=now,
                summons=summons,
                lon=position[0],
                lat=position[1],
                data={**place, "reason": "too_far"},
            )
            refused = CheckInRefused(
                _(
                    "Check-in refused: you are %(distance)s m from %(target)s; check in within "
                    "%(radius)s m."
                ),
                event_seq=event.seq,
                distance=distance,
                radius=radius,
                target=(
                    _("the meeting point")
                    if target_kind == "meeting_point"
                    else _("the case's position")
                ),
            )
        else:
            attachments = batch.store(
                case, Attachment.Purpose.CHECK_IN, actor=actor, now=now, summons=summons
            )
            summons.status = S.ON_SITE
            summons.arrived_at = now
            summons.arrived_lon, summons.arrived_lat = position
            summons.arrived_accuracy_m = accuracy
            summons.arrived_distance_m = distance
            _save(
                summons,
                now,
                "status",
                "arrived_at",
                "arrived_lon",
                "arrived_lat",
                "arrived_accuracy_m",
                "arrived_distance_m",
            )
            timeliness = _timeliness(now, summons.arrive_due_at)
            event = record(
                case,
                EventKind.CHECK_IN_ACCEPTED,
                actor=actor,
                role=role,
                at=now,
                summons=summons,
                lon=position[0],
                lat=position[1],
                data={
                    "changes": changes(status=(S.ACKNOWLEDGED, S.ON_SITE)),
                    **place,
                    **timeliness,
                    "photos": photo_data(attachments),
                },
            )
            if timeliness["on_time"]:
                body = _("%(department)s checked in on site for case %(case)s, on time.")
            else:
                body = _(
                    "%(department)s checked in on site for case %(case)s, %(late)s minutes late."
                )
            notify(
                people_with_role(Role.DISPATCHER, case.township),
                event,
                _("%(department)s on site: %(case)s"),
                body,
                department=summons.department.name,
                late=timeliness["minutes_late"],
            )
    if refused is not None:
        raise refused
    return summons


def report_progress(
    actor: Person,
    summons: Summons,
    *,
    text: str,
    photos: Any = None,
    now: datetime | None = None,
) -> Summons:
    """The department tells the township how the work is going."""
    now = moment(now)
    text = clean_text(text, "text", _("The progress report"), max_length=RESULT_MAX)
    batch = PhotoBatch(photos)
    with atomic(batch):
        case, summons = lock_summons(summons.pk)
        role = require(actor, "report_progress", summons)
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
            data={"text": text, "photos": photo_data(attachments)},
        )
    return summons


def report_result(
    actor: Person,
    summons: Summons,
    *,
    result: str,
    photos: Any = None,
    now: datetime | None = None,
) -> Summons:
    """The department reports what it did, with evidence. On a whistle it must be on site;
    it stays there until the township resolves the case or releases it."""
    now = moment(now)
    result = clean_text(result, "result", _("The result"), max_length=RESULT_MAX)
    batch = PhotoBatch(photos)
    with atomic(batch):
        case, summons = lock_summons(summons.pk)
        role = require(actor, "report_result", summons)
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
            data={
                "changes": changes(status=(before, S.DONE)),
                "result": result,
                **_timeliness(now, summons.resolve_due_at),
                "photos": photo_data(attachments),
            },
        )
        notify(
            people_with_role(Role.DISPATCHER, case.township),
            event,
            _("%(department)s reports a result: %(case)s"),
            _("%(department)s on case %(case)s: %(result)s"),
            department=summons.department.name,
            result=result[:140],
        )
    return summons


def decline(
    actor: Person, summons: Summons, *, reason: str, now: datetime | None = None
) -> Summons:
    """The department says the matter is not its responsibility; the township rules on it.
    Its deadlines keep running until the ruling."""
    now = moment(now)
    reason = clean_text(reason, "reason", _("The reason"), max_length=REASON_MAX)
    with atomic():
        case, summons = lock_summons(summons.pk)
        role = require(actor, "decline", summons)
        before = summons.status
        summons.status = S.DECLINED
        summons.decline_reason = reason
        _save(summons, now, "status", "decline_reason")
        event = record(
            case,
            EventKind.DECLINED,
            actor=actor,
            role=role,
            at=now,
            summons=summons,
            data={"changes": changes(status=(before, S.DECLINED)), "reason": reason},
        )
        notify(
            people_with_role(Role.DISPATCHER, case.township),
            event,
            _("%(department)s declines case %(case)s"),
            _(
                "%(department)s says case %(case)s is not its responsibility: %(reason)s. "
                "Rule on it."
            ),
            department=summons.department.name,
            reason=reason,
        )
    return summons


def _status_before_decline(summons: Summons) -> str:
    if summons.arrived_at is not None:
        return S.ON_SITE
    if summons.acknowledged_at is not None:
        return S.ACKNOWLEDGED
    return S.SUMMONED


def rule_on_decline(
    actor: Person,
    summons: Summons,
    *,
    uphold: bool,
    note: str = "",
    now: datetime | None = None,
) -> Summons:
    """The township rules on a decline: uphold it (the department is released and another
    can be summoned) or insist (the summons goes on where it was)."""
    now = moment(now)
    if not isinstance(uphold, bool):
        raise InvalidInput("uphold", _("Say whether the decline is upheld."))
    note = clean_text(note, "note", _("The note"), max_length=NOTE_MAX, required=False)
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
            township=case.township,
            department=summons.department.name,
            note=note,
        )
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
            township=case.township,
            department=summons.department.name,
            note=note,
        )
    return summons


def check_out(
    actor: Person,
    summons: Summons,
    *,
    lon: float | None = None,
    lat: float | None = None,
    now: datetime | None = None,
) -> Summons:
    """The department leaves the site. 事不完、人不撤: only once the township has marked the
    case resolved or released the department; an earlier attempt is refused, and the
    refusal is committed to the trail before CheckOutRefused is raised."""
    now = moment(now)
    position_lon, position_lat = clean_optional_position(lon, lat)
    refused: CheckOutRefused | None = None
    with atomic():
        case, summons = lock_summons(summons.pk)
        role = require(actor, "check_out", summons)
        assert summons.arrived_at is not None  # the rule requires a check-in
        minutes_on_site = round((now - summons.arrived_at).total_seconds() / 60)
        if not may_leave(summons):
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
                },
            )
            refused = CheckOutRefused(
                _(
                    "You cannot leave yet: case %(case)s is not resolved and the township has "
                    "not released %(department)s (事不完、人不撤)."
                ),
                event_seq=event.seq,
                case=case.reference,
                department=summons.department.name,
            )
        else:
            before = summons.status
            summons.status = S.LEFT
            summons.left_at = now
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
                    "distance_m": rounded(
                        geo.distance_m(
                            (position_lon, position_lat), check_in_target(case, summons)[0]
                        )
                    )
                    if position_lon is not None and position_lat is not None
                    else None,
                },
            )
    if refused is not None:
        raise refused
    return summons
