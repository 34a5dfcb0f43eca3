"""Summonses: a department's list and one summons; acknowledging, checking in on site with
the position's provenance, progress, the result, declining, leaving; the township's release
and its rulings on a decline or a flagged check-in. Whistles: one whistle, summoning more."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_noop
from ninja import Query, Router, Schema, Status
from pydantic import Field

from whistle.api import schemas as s
from whistle.api.pagination import paginate
from whistle.api.shared import (
    caller,
    case_detail,
    department_by_code,
    errors,
    find_summons,
    find_whistle,
    photos,
    sent_at,
    summons_out,
    worked_cases,
)
from whistle.cases import actions
from whistle.cases.models import Event, Summons
from whistle.cases.trail import EventKind
from whistle.organisation.scoping import area_of

router = Router(tags=[gettext_noop("summonses")])
whistles = Router(tags=[gettext_noop("whistles")])


class SummonsFilters(Schema):
    status: list[str] = Field(default_factory=list)
    department: str | None = Field(default=None, max_length=60)
    # Only the summonses of the caller's own departments.
    mine: bool = False
    cursor: str | None = Field(default=None, max_length=200)
    limit: int | None = Field(default=None, ge=1, le=500)


@router.get(
    "",
    response={200: s.SummonsPage, **errors()},
    operation_id="list_summonses",
    summary=gettext_noop("List summonses"),
    description=gettext_noop(
        "The summonses on the cases the caller may see, newest first: a department's desk."
    ),
)
def list_summonses(request: HttpRequest, filters: Query[SummonsFilters]) -> dict[str, Any]:
    person = caller(request)
    rows = Summons.objects.filter(case__in=worked_cases(person)).select_related(
        "case", "department", "whistle", "named_department"
    )
    if filters.status:
        rows = rows.filter(status__in=filters.status)
    if filters.department:
        rows = rows.filter(department__code=filters.department)
    if filters.mine:
        rows = rows.filter(department_id__in=sorted(area_of(person).department_ids))
    page = paginate(rows, cursor=filters.cursor, limit=filters.limit, time_field="summoned_at")
    return {"items": [summons_out(x) for x in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/{uuid}",
    response={200: s.SummonsOut, **errors()},
    operation_id="get_summons",
    summary=gettext_noop("Read a summons"),
)
def get_summons(request: HttpRequest, uuid: str) -> dict[str, Any]:
    return summons_out(find_summons(caller(request), uuid))


def _out(summons: Summons) -> dict[str, Any]:
    return summons_out(
        Summons.objects.select_related("case", "department", "whistle", "named_department").get(
            pk=summons.pk
        )
    )


@router.post(
    "/{uuid}/acknowledge",
    response={200: s.SummonsOut, **errors()},
    operation_id="acknowledge",
    summary=gettext_noop("Acknowledge a summons"),
)
def acknowledge(request: HttpRequest, uuid: str, data: s.NoteIn) -> dict[str, Any]:
    person = caller(request)
    return _out(actions.acknowledge(person, find_summons(person, uuid), note=data.note))


@router.post(
    "/{uuid}/check-in",
    response={200: s.CheckInOut, **errors()},
    operation_id="check_in",
    summary=gettext_noop("Check in on site"),
    description=gettext_noop(
        "The department reports on site (报到) with the position as the device gave it: its "
        'source ("device" from the phone\'s location; "typed" and "map_pick" are never clean),'
        " accuracy, the device's time of the fix and the device's id. The district's rules "
        "judge it (docs/cases.md §4): clean, flagged for the township, or refused — a refusal"
        " (409, code check_in_too_far or the first refusing reason) stays in the trail."
    ),
)
def check_in(request: HttpRequest, uuid: str, data: s.CheckInIn) -> dict[str, Any]:
    person = caller(request)
    summons = find_summons(person, uuid)
    attached = photos([data.photo] if data.photo else [], field="photo")
    summons = actions.check_in(
        person,
        summons,
        lon=data.lon,
        lat=data.lat,
        source=data.source,
        accuracy_m=data.accuracy_m,
        device_time=data.device_time,
        device_id=data.device_id,
        photo=attached[0] if attached else None,
        happened_at=data.happened_at,
        sent_at=sent_at(request),
    )
    event = (
        Event.objects.filter(
            summons=summons,
            kind__in=[EventKind.CHECK_IN_ACCEPTED, EventKind.CHECK_IN_FLAGGED],
        )
        .order_by("-seq")
        .first()
    )
    data_ = event.data if event is not None else {}
    return {
        "summons": _out(summons),
        "verdict": str(data_.get("verdict", "")),
        "reasons": list(data_.get("reasons", [])),
    }


@router.post(
    "/{uuid}/progress",
    response={200: s.SummonsOut, **errors()},
    operation_id="report_progress",
    summary=gettext_noop("Report progress"),
)
def report_progress(request: HttpRequest, uuid: str, data: s.ProgressIn) -> dict[str, Any]:
    person = caller(request)
    summons = actions.report_progress(
        person,
        find_summons(person, uuid),
        text=data.text,
        photos=photos(data.photos),
        lon=data.lon,
        lat=data.lat,
        accuracy_m=data.accuracy_m,
        happened_at=data.happened_at,
        sent_at=sent_at(request),
    )
    return _out(summons)


@router.post(
    "/{uuid}/result",
    response={200: s.SummonsOut, **errors()},
    operation_id="report_result",
    summary=gettext_noop("Report the result"),
)
def report_result(request: HttpRequest, uuid: str, data: s.ResultIn) -> dict[str, Any]:
    person = caller(request)
    summons = actions.report_result(
        person,
        find_summons(person, uuid),
        result=data.result,
        photos=photos(data.photos),
        lon=data.lon,
        lat=data.lat,
        accuracy_m=data.accuracy_m,
        happened_at=data.happened_at,
        sent_at=sent_at(request),
    )
    return _out(summons)


@router.post(
    "/{uuid}/decline",
    response={200: s.SummonsOut, **errors()},
    operation_id="decline",
    summary=gettext_noop("Decline a summons"),
    description=gettext_noop(
        "Not the department's responsibility, with the reason. `named_department`, optional: "
        "the code of the department it holds responsible, another active department that "
        "serves the case's township and is not summoned on it yet (422 otherwise); the "
        "township may uphold the decline and summon it in one step."
    ),
)
def decline(request: HttpRequest, uuid: str, data: s.DeclineIn) -> dict[str, Any]:
    person = caller(request)
    summons = find_summons(person, uuid)
    named = (
        department_by_code(data.named_department, "named_department")
        if data.named_department is not None
        else None
    )
    return _out(actions.decline(person, summons, reason=data.reason, named_department=named))


@router.post(
    "/{uuid}/decline-ruling",
    response={200: s.SummonsOut, **errors()},
    operation_id="rule_on_decline",
    summary=gettext_noop("Rule on a decline"),
    description=gettext_noop(
        "Uphold the decline or insist (with a note). `summon_named` with `uphold`: summon the "
        "department the decline named as well, in the same step, on the whistle sounding on "
        "the case or by a routine dispatch; if it cannot be summoned, nothing is ruled."
    ),
)
def rule_on_decline(request: HttpRequest, uuid: str, data: s.DeclineRulingIn) -> dict[str, Any]:
    person = caller(request)
    summons = actions.rule_on_decline(
        person,
        find_summons(person, uuid),
        uphold=data.uphold,
        summon_named=data.summon_named,
        note=data.note,
    )
    return _out(summons)


@router.post(
    "/{uuid}/check-in-ruling",
    response={200: s.SummonsOut, **errors()},
    operation_id="rule_on_check_in",
    summary=gettext_noop("Rule on a flagged check-in"),
)
def rule_on_check_in(request: HttpRequest, uuid: str, data: s.CheckInRulingIn) -> dict[str, Any]:
    person = caller(request)
    summons = actions.rule_on_check_in(
        person, find_summons(person, uuid), confirm=data.confirm, note=data.note
    )
    return _out(summons)


@router.post(
    "/{uuid}/release",
    response={200: s.SummonsOut, **errors()},
    operation_id="release",
    summary=gettext_noop("Release a department"),
)
def release(request: HttpRequest, uuid: str, data: s.NoteIn) -> dict[str, Any]:
    person = caller(request)
    return _out(actions.release(person, find_summons(person, uuid), note=data.note))


@router.post(
    "/{uuid}/check-out",
    response={200: s.SummonsOut, **errors()},
    operation_id="check_out",
    summary=gettext_noop("Check out"),
    description=gettext_noop(
        "Stay until the matter is done (事不完、人不撤): refused (409, check_out_too_early, kept "
        "in the trail) until the township has marked the case resolved or released the "
        "department. One made on the phone "
        "without signal (`happened_at`) must have been made after the release."
    ),
)
def check_out(request: HttpRequest, uuid: str, data: s.CheckOutIn) -> dict[str, Any]:
    person = caller(request)
    summons = actions.check_out(
        person,
        find_summons(person, uuid),
        lon=data.lon,
        lat=data.lat,
        source=data.source if data.source is not None else "device",
        accuracy_m=data.accuracy_m,
        happened_at=data.happened_at,
        sent_at=sent_at(request),
    )
    return _out(summons)


@whistles.get(
    "/{uuid}",
    response={200: s.WhistleOut, **errors()},
    operation_id="get_whistle",
    summary=gettext_noop("Read a whistle"),
)
def get_whistle(request: HttpRequest, uuid: str) -> dict[str, Any]:
    person = caller(request)
    whistle = find_whistle(person, uuid)
    detail = case_detail(person, whistle.case)
    return next(w for w in detail["whistles"] if w["uuid"] == whistle.uuid)


@whistles.post(
    "/{uuid}/summonses",
    response={201: list[s.SummonsOut], **errors()},
    operation_id="summon_more",
    summary=gettext_noop("Summon more departments"),
    description=gettext_noop("More departments on a whistle still sounding."),
)
def summon_more(
    request: HttpRequest, uuid: str, data: s.SummonMoreIn
) -> Status[list[dict[str, Any]]]:
    person = caller(request)
    whistle = find_whistle(person, uuid)
    departments = [
        department_by_code(code, f"departments.{n}") for n, code in enumerate(data.departments)
    ]
    summoned = actions.summon_more(person, whistle, departments=departments, note=data.note)
    return Status(201, [_out(x) for x in summoned])
