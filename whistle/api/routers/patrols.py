"""Patrols of stewards and chiefs: start on one of their lanes, send positions, tick the
checklist, finish (whistle.patrols.actions). A patrol is its person's own."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_noop
from ninja import Body, Query, Router, Schema, Status
from pydantic import Field

from whistle.api import schemas as s
from whistle.api.errors import NOT_FOUND, ApiError, not_found
from whistle.api.pagination import paginate
from whistle.api.shared import caller, cases_of, errors, parse_uuid, sent_at
from whistle.organisation.models import Lane, Person
from whistle.patrols import actions
from whistle.patrols.models import Patrol

router = Router(tags=[gettext_noop("patrols")])


def _patrol_out(patrol: Patrol) -> dict[str, Any]:
    return {
        "uuid": patrol.uuid,
        "lane": {"township": patrol.lane.township.code, "name": patrol.lane.name},
        "role": patrol.role,
        "started_at": patrol.started_at,
        "ended_at": patrol.ended_at,
        "location": patrol.location,
        "point_count": patrol.point_count,
        "counted_point_count": patrol.counted_point_count,
        "distance_m": patrol.distance_m,
        "covered_ratio": patrol.covered_ratio,
        "checklist": list(patrol.checklist or []),
        "checks": [
            {
                "item": c.item,
                "label": c.label,
                "result": c.result,
                "outcome": c.outcome,
                "case": c.case.reference if c.case_id and c.case else None,
                "note": c.note,
                "checked_at": c.checked_at,
            }
            for c in patrol.checks.select_related("case").order_by("checked_at", "item")
        ],
    }


def _mine(person: Person, public_id: str) -> Patrol:
    patrol = (
        Patrol.objects.filter(uuid=parse_uuid(public_id), person=person)
        .select_related("lane__township")
        .first()
    )
    if patrol is None:
        raise not_found()
    return patrol


class PatrolFilters(Schema):
    cursor: str | None = Field(default=None, max_length=200)
    limit: int | None = Field(default=None, ge=1, le=500)


@router.get(
    "",
    response={200: s.PatrolPage, **errors()},
    operation_id="list_patrols",
    summary=gettext_noop("List patrols"),
    description=gettext_noop("The caller's own patrols, newest first."),
)
def list_patrols(request: HttpRequest, filters: Query[PatrolFilters]) -> dict[str, Any]:
    rows = Patrol.objects.filter(person=caller(request)).select_related("lane__township")
    page = paginate(rows, cursor=filters.cursor, limit=filters.limit, time_field="started_at")
    return {"items": [_patrol_out(p) for p in page.items], "next_cursor": page.next_cursor}


@router.post(
    "",
    response={201: s.PatrolOut, **errors()},
    operation_id="start_patrol",
    summary=gettext_noop("Start a patrol"),
)
def start_patrol(request: HttpRequest, data: s.PatrolStartIn) -> Status[dict[str, Any]]:
    person = caller(request)
    lane = (
        Lane.objects.filter(township__code=data.township, name=data.lane)
        .select_related("township")
        .first()
    )
    if lane is None:
        raise ApiError(422, "invalid", NOT_FOUND, field="lane")
    patrol = actions.start_patrol(
        person,
        lane=lane,
        key=data.uuid,
        lon=data.lon,
        lat=data.lat,
        accuracy_m=data.accuracy_m,
        happened_at=data.happened_at,
        sent_at=sent_at(request),
    )
    return Status(201, _patrol_out(_mine(person, str(patrol.uuid))))


@router.get(
    "/{uuid}",
    response={200: s.PatrolOut, **errors()},
    operation_id="get_patrol",
    summary=gettext_noop("Read a patrol"),
)
def get_patrol(request: HttpRequest, uuid: str) -> dict[str, Any]:
    return _patrol_out(_mine(caller(request), uuid))


@router.post(
    "/{uuid}/positions",
    response={200: s.PositionsOut, **errors()},
    operation_id="record_patrol_positions",
    summary=gettext_noop("Record a patrol's positions"),
    description=gettext_noop(
        "A batch of positions; a position whose `seq` is already stored is skipped, so a "
        "batch sent again does no harm."
    ),
)
def record_positions(request: HttpRequest, uuid: str, data: s.PositionsIn) -> dict[str, Any]:
    person = caller(request)
    recorded = actions.record_positions(
        person,
        _mine(person, uuid),
        points=[p.model_dump() for p in data.points],
        location=data.location,
    )
    return {
        "accepted": recorded.accepted,
        "duplicates": recorded.duplicates,
        "patrol": _patrol_out(_mine(person, uuid)),
    }


@router.post(
    "/{uuid}/checks",
    response={200: s.PatrolOut, **errors()},
    operation_id="record_patrol_check",
    summary=gettext_noop("Tick a checklist item"),
    description=gettext_noop(
        "Tick one item of the lane's checklist; a problem reported links the caller's case."
    ),
)
def record_check(request: HttpRequest, uuid: str, data: s.PatrolCheckIn) -> dict[str, Any]:
    person = caller(request)
    case = None
    if data.case:
        case = cases_of(person).filter(reference=data.case.strip().upper()).first()
        if case is None:
            raise ApiError(422, "invalid", NOT_FOUND, field="case")
    actions.record_check(
        person,
        _mine(person, uuid),
        item=data.item,
        result=data.result,
        outcome=data.outcome,
        case=case,
        note=data.note,
        lon=data.lon,
        lat=data.lat,
        accuracy_m=data.accuracy_m,
        happened_at=data.happened_at,
        sent_at=sent_at(request),
    )
    return _patrol_out(_mine(person, uuid))


@router.post(
    "/{uuid}/finish",
    response={200: s.PatrolOut, **errors()},
    operation_id="finish_patrol",
    summary=gettext_noop("Finish a patrol"),
    description=gettext_noop(
        "End the patrol; one ended on the device without signal sends `happened_at`. An end "
        "sent again after the patrol ended answers the ended patrol."
    ),
)
def finish_patrol(
    request: HttpRequest, uuid: str, data: Body[s.PatrolEndIn | None] = None
) -> dict[str, Any]:
    person = caller(request)
    patrol = _mine(person, uuid)
    happened_at = data.happened_at if data is not None else None
    if patrol.ended_at is not None and happened_at is not None:
        return _patrol_out(patrol)
    actions.end_patrol(
        person,
        patrol,
        lon=data.lon if data is not None else None,
        lat=data.lat if data is not None else None,
        accuracy_m=data.accuracy_m if data is not None else None,
        happened_at=happened_at,
        sent_at=sent_at(request),
    )
    return _patrol_out(_mine(person, uuid))
