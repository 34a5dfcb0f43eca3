"""The township calls departments: a routine dispatch, a whistle, more departments later."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from whistle.cases.actions._common import (
    NOTE_MAX,
    assumed_calendar_data,
    atomic,
    changes,
    clean_optional_position,
    clean_text,
    deadline,
    department_people,
    iso,
    local_text,
    moment,
    notify,
    record,
    set_deadline,
    set_next_check,
)
from whistle.cases.errors import ActionRefused, InvalidInput
from whistle.cases.models import Case, Summons, Whistle
from whistle.cases.permissions import require
from whistle.cases.rules import DEADLINE_FIELDS, summons_limits
from whistle.cases.suggest import departments_serving
from whistle.cases.trail import EventKind, lock_case
from whistle.organisation.models import Department, Person
from whistle.policies.models import WhistleKind

Status = Case.Status
MAX_DEPARTMENTS = 20


def _department_data(department: Department) -> dict[str, str]:
    return {"code": department.code, "name": department.name}


def _clean_departments(case: Case, departments: Iterable[Department]) -> list[Department]:
    """The departments to summon: serving the case's township, not already summoned on it."""
    chosen = list(departments or [])
    if not chosen:
        raise InvalidInput("departments", _("Choose at least one department to summon."))
    if len(chosen) > MAX_DEPARTMENTS:
        raise InvalidInput(
            "departments", _("At most %(max)s departments at a time."), max=MAX_DEPARTMENTS
        )
    if any(not isinstance(d, Department) for d in chosen):
        raise InvalidInput("departments", _("Choose departments from the list."))
    if len({d.pk for d in chosen}) != len(chosen):
        raise InvalidInput("departments", _("A department is chosen twice."))
    if case.township is None:
        raise ActionRefused(_("The case lies outside every township."))
    serving = set(
        departments_serving(case.township)
        .filter(pk__in=[d.pk for d in chosen])
        .values_list("pk", flat=True)
    )
    for department in chosen:
        if department.pk not in serving:
            raise InvalidInput(
                "departments",
                _("%(department)s does not serve %(township)s."),
                department=department.name,
                township=case.township,
            )
    already = set(
        case.summonses.filter(department__in=chosen, status__in=Summons.OPEN_STATUSES).values_list(
            "department__name", flat=True
        )
    )
    if already:
        raise InvalidInput(
            "departments",
            _("Already summoned on this case: %(departments)s."),
            departments="、".join(sorted(already)),
        )
    return chosen


def _summon(
    case: Case,
    department: Department,
    *,
    whistle: Whistle | None,
    actor: Person,
    role: str,
    note: str,
    now: datetime,
) -> Summons:
    """One summons with its deadlines (`summons_limits`)."""
    if case.category is None:
        raise ActionRefused(_("The case has no category: file it first."))
    summons = Summons(
        case=case,
        whistle=whistle,
        department=department,
        status=Summons.Status.SUMMONED,
        summoned_at=now,
    )
    for field, (amount, unit) in summons_limits(case, whistle).items():
        set_deadline(summons, field, deadline(now, amount, unit, case.district))
    acknowledge_due_at = summons.acknowledge_due_at
    arrive_due_at = summons.arrive_due_at
    resolve_due_at = summons.resolve_due_at
    set_next_check(summons, now)
    summons.save(force_insert=True)
    event = record(
        case,
        EventKind.SUMMONED,
        actor=actor,
        role=role,
        at=now,
        summons=summons,
        data={
            "changes": changes(status=(None, Summons.Status.SUMMONED)),
            "department": _department_data(department),
            "whistle": whistle.kind if whistle is not None else None,
            "acknowledge_due_at": iso(acknowledge_due_at),
            "arrive_due_at": iso(arrive_due_at),
            "resolve_due_at": iso(resolve_due_at),
            "note": note,
            **assumed_calendar_data(summons, *DEADLINE_FIELDS),
        },
    )
    if whistle is not None:
        place = whistle.meeting_point or case.address or case.lane or case.township
        notify(
            department_people(department, case.township),
            event,
            _("Whistle %(case)s: report on site by %(arrive)s"),
            _(
                "%(township)s blew a %(kind)s for case %(case)s: %(description)s. Meet at "
                "%(place)s. Acknowledge by %(acknowledge)s, arrive by %(arrive)s, resolve by "
                "%(resolve)s."
            ),
            township=case.township,
            kind=WhistleKind(whistle.kind).label,
            description=case.description[:100],
            place=place,
            acknowledge=local_text(acknowledge_due_at),
            arrive=local_text(arrive_due_at) if arrive_due_at else "",
            resolve=local_text(resolve_due_at),
        )
    else:
        notify(
            department_people(department, case.township),
            event,
            _("Case %(case)s dispatched to you"),
            _(
                "%(township)s dispatched case %(case)s: %(description)s. Acknowledge by "
                "%(acknowledge)s, resolve by %(resolve)s."
            ),
            township=case.township,
            description=case.description[:100],
            acknowledge=local_text(acknowledge_due_at),
            resolve=local_text(resolve_due_at),
        )
    return summons


def dispatch_case(
    actor: Person,
    case: Case,
    *,
    department: Department,
    note: str = "",
    now: datetime | None = None,
) -> Summons:
    """The routine channel: the township sends a filed case to one department, which must
    acknowledge and resolve it by the category's time limits (no arrival on site). A case
    already dispatched can be sent to one more department (after a decline was upheld)."""
    now = moment(now)
    note = clean_text(note, "note", _("The note"), max_length=NOTE_MAX, required=False)
    with atomic():
        case = lock_case(case.pk)
        role = require(actor, "dispatch_case", case)
        (department,) = _clean_departments(case, [department])
        before = case.status
        if before != Status.DISPATCHED:
            case.status = Status.DISPATCHED
            case.save(update_fields=["status"])
            record(
                case,
                EventKind.DISPATCHED,
                actor=actor,
                role=role,
                at=now,
                data={
                    "changes": changes(status=(before, Status.DISPATCHED)),
                    "department": _department_data(department),
                    "note": note,
                },
            )
        return _summon(case, department, whistle=None, actor=actor, role=role, note=note, now=now)


def blow_whistle(
    actor: Person,
    case: Case,
    *,
    kind: str,
    departments: Iterable[Department],
    meeting_point: str = "",
    meeting_lon: float | None = None,
    meeting_lat: float | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Whistle:
    """The township blows the whistle (吹哨) on a filed or dispatched case and summons
    departments to it.

    With meeting-point coordinates, departments check in against the meeting point;
    without, against the case's position.
    """
    now = moment(now)
    if kind not in WhistleKind.values:
        raise InvalidInput("kind", _("Choose the kind of whistle."))
    meeting_point = clean_text(
        meeting_point, "meeting_point", _("The meeting point"), max_length=200, required=False
    )
    meeting_lon, meeting_lat = clean_optional_position(
        meeting_lon, meeting_lat, field="meeting_point"
    )
    note = clean_text(note, "note", _("The note"), max_length=NOTE_MAX, required=False)
    with atomic():
        case = lock_case(case.pk)
        role = require(actor, "blow_whistle", case)
        chosen = _clean_departments(case, departments)
        assert case.township is not None  # the role check needs one
        whistle = Whistle.objects.create(
            case=case,
            kind=kind,
            township=case.township,
            blown_by=actor,
            blown_at=now,
            meeting_point=meeting_point,
            meeting_lon=meeting_lon,
            meeting_lat=meeting_lat,
            note=note,
        )
        before = case.status
        case.status = Status.WHISTLED
        case.save(update_fields=["status"])
        record(
            case,
            EventKind.WHISTLE_BLOWN,
            actor=actor,
            role=role,
            at=now,
            lon=meeting_lon,
            lat=meeting_lat,
            data={
                "changes": changes(status=(before, Status.WHISTLED)),
                "kind": kind,
                "departments": [_department_data(d) for d in chosen],
                "meeting_point": meeting_point,
                "note": note,
            },
        )
        for department in chosen:
            _summon(case, department, whistle=whistle, actor=actor, role=role, note=note, now=now)
    return whistle


def summon_more(
    actor: Person,
    whistle: Whistle,
    *,
    departments: Iterable[Department],
    note: str = "",
    now: datetime | None = None,
) -> list[Summons]:
    """More departments are summoned on a whistle still sounding."""
    now = moment(now)
    note = clean_text(note, "note", _("The note"), max_length=NOTE_MAX, required=False)
    with atomic():
        case = lock_case(whistle.case_id)
        whistle = Whistle.objects.get(pk=whistle.pk)
        role = require(actor, "summon_more", case)
        if whistle.case_id != case.pk or whistle.closed_at is not None:
            raise ActionRefused(_("This whistle has ended."))
        chosen = _clean_departments(case, departments)
        return [
            _summon(case, d, whistle=whistle, actor=actor, role=role, note=note, now=now)
            for d in chosen
        ]
