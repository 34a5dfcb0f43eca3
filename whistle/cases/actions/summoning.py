"""The township calls departments: a routine dispatch, a whistle, more departments later."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

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
    due_times,
    iso,
    local_text,
    moment,
    notify,
    record,
    reporter_to_tell,
    set_deadline,
    set_next_check,
)
from whistle.cases.errors import ActionRefused, InvalidInput
from whistle.cases.models import Case, Event, Summons, Whistle
from whistle.cases.permissions import require
from whistle.cases.rules import DEADLINE_FIELDS, summons_limits
from whistle.cases.suggest import departments_serving
from whistle.cases.trail import EventKind, lock_case
from whistle.duty.schedule import duty_for
from whistle.notifications.texts import Named, Sentence
from whistle.organisation.models import Department, Person
from whistle.policies.chains import ChainPolicy
from whistle.policies.models import WhistleKind

# The message of a whistle, a whole sentence for each kind (English puts "a" or "an" before
# the kind's name). The description brings its own full stop (`Sentence`).
WHISTLE_BODIES = {
    WhistleKind.ROUTINE: _(
        "%(township)s blew a routine whistle for case %(case)s: %(description)s Meet at "
        "%(place)s. Acknowledge by %(acknowledge)s, arrive by %(arrive)s, resolve by "
        "%(resolve)s."
    ),
    WhistleKind.TOUGH: _(
        "%(township)s blew a tough-problem whistle for case %(case)s: %(description)s Meet "
        "at %(place)s. Acknowledge by %(acknowledge)s, arrive by %(arrive)s, resolve by "
        "%(resolve)s."
    ),
    WhistleKind.EMERGENCY: _(
        "%(township)s blew an emergency whistle for case %(case)s: %(description)s Meet at "
        "%(place)s. Acknowledge by %(acknowledge)s, arrive by %(arrive)s, resolve by "
        "%(resolve)s."
    ),
}

Status = Case.Status
MAX_DEPARTMENTS = 20


def kept_department(department: Department) -> dict[str, Any]:
    """A department as the trail keeps it: its id and code, and its name in both languages
    (`Named.kept`), so that the case page names it in the reader's language."""
    return {"id": department.pk, "code": department.code, **Named.of(department).kept()}


def clean_departments(
    case: Case, departments: Iterable[Department], field: str = "departments"
) -> list[Department]:
    """The departments to summon: serving the case's township, not already summoned on it.
    A refusal names `field`: the departments of a summons, or the one a decline names as
    responsible (`decline`), which must be one the township could summon."""
    chosen = list(departments or [])
    if not chosen:
        raise InvalidInput(field, _("Choose at least one department to summon."))
    if len(chosen) > MAX_DEPARTMENTS:
        raise InvalidInput(field, _("At most %(max)s departments at a time."), max=MAX_DEPARTMENTS)
    if any(not isinstance(d, Department) for d in chosen):
        raise InvalidInput(field, _("Choose departments from the list."))
    if len({d.pk for d in chosen}) != len(chosen):
        raise InvalidInput(field, _("A department is chosen twice."))
    if case.township is None:
        raise ActionRefused(_("The case lies outside every township."))
    for department in chosen:
        if not department.is_active:
            raise InvalidInput(
                field, _("%(department)s is no longer active."), department=department.name
            )
    serving = set(
        departments_serving(case.township)
        .filter(pk__in=[d.pk for d in chosen])
        .values_list("pk", flat=True)
    )
    for department in chosen:
        if department.pk not in serving:
            raise InvalidInput(
                field,
                _("%(department)s does not serve %(township)s."),
                department=Named.of(department),
                township=Named.of(case.township),
            )
    already = set(
        case.summonses.filter(department__in=chosen, status__in=Summons.OPEN_STATUSES).values_list(
            "department__name", flat=True
        )
    )
    if already:
        raise InvalidInput(
            field,
            _("Already summoned on this case: %(departments)s."),
            departments=_(", ").join(sorted(already)),
        )
    return chosen


# The channels of the department's desk: its people's inboxes and its work-chat group.
DESK_CHANNELS = ["inbox", "robot"]
MICROSECOND = timedelta(microseconds=1)


def _first_hearers(
    summons: Summons, case: Case, chain: ChainPolicy | None, now: datetime
) -> dict[str, Any]:
    """Who hears of the summons first, and after whom: the person on duty for the department
    (in the township's enforcement centre, or on its own roster) with their backup, and the
    district's acknowledgement chain fitted to the summons' acknowledgement deadline. Returns
    what the trail keeps of it."""
    duty = duty_for(summons.department, case.township, now)
    shift = duty.now if duty is not None else None
    summons.on_duty = shift.person if shift is not None else None
    summons.on_duty_backup = shift.backup if shift is not None else None
    data: dict[str, Any] = {}
    if summons.on_duty is not None:
        data["on_duty"] = summons.on_duty.display_name
        data["backup"] = summons.on_duty_backup.display_name if summons.on_duty_backup else None
    if chain is None:
        return data
    due = summons.acknowledge_due_at
    plan = chain.plan(now, due)
    summons.acknowledgement_chain = [
        {"target": step.target, "before_due_us": (due - step.at) // MICROSECOND}
        for step in plan.steps
    ]
    data["chain"] = [{"target": step.target, "at": iso(step.at)} for step in plan.steps]
    if plan.fitted:
        data["chain_fitted"] = {
            "rule": plan.fitted,
            "chain_minutes": plan.chain_minutes,
            "limit_minutes": round((due - now).total_seconds() / 60, 2),
            "left_out": list(plan.left_out),
            "factor": plan.factor,
        }
    return data


def _summon(
    case: Case,
    department: Department,
    *,
    whistle: Whistle | None,
    actor: Person,
    role: str,
    note: str,
    now: datetime,
    chain: ChainPolicy | None,
) -> Summons:
    """One summons with its deadlines (`summons_limits`), sent to the person on duty first
    and to the department's desk."""
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
    heard = _first_hearers(summons, case, chain, now)
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
            "department": kept_department(department),
            "whistle": whistle.kind if whistle is not None else None,
            "acknowledge_due_at": iso(acknowledge_due_at),
            "arrive_due_at": iso(arrive_due_at),
            "resolve_due_at": iso(resolve_due_at),
            "note": note,
            **heard,
            **assumed_calendar_data(summons, *DEADLINE_FIELDS),
            **due_times(summonses=[summons]),
        },
    )
    if whistle is not None:
        place = whistle.meeting_point or case.address or case.lane or case.township
        subject = _("Whistle %(case)s: report on site by %(arrive)s")
        body = WHISTLE_BODIES[WhistleKind(whistle.kind)]
        params: dict[str, Any] = {
            "place": place,
            "arrive": local_text(arrive_due_at) if arrive_due_at else "",
        }
    else:
        subject = _("Case %(case)s dispatched to you")
        body = _(
            "%(township)s dispatched case %(case)s: %(description)s Acknowledge by "
            "%(acknowledge)s, resolve by %(resolve)s."
        )
        params = {}
    params.update(
        township=Named.of(case.township),
        description=Sentence(case.description[:100]),
        acknowledge=local_text(acknowledge_due_at),
        resolve=local_text(resolve_due_at),
    )
    desk = department_people(department, case.township)
    urgent = whistle is not None
    if summons.on_duty is not None:
        # The person on duty is reached on their own channel; the rest of the department
        # sees it at the desk, and the chain reaches further if nobody acknowledges.
        notify([summons.on_duty], event, subject, body, urgent=urgent, **params)
        desk = [p for p in desk if p.pk != summons.on_duty.pk]
        notify(desk, event, subject, body, channels=DESK_CHANNELS, urgent=urgent, **params)
    else:
        notify(desk, event, subject, body, urgent=urgent, **params)
    return summons


def _tell_reporter_summoned(case: Case, event: Event, actor: Person) -> None:
    """The reporter hears once that the township called departments to their problem, by a
    whistle or a routine dispatch, whichever came first; not urgent, for it asks nothing of
    them."""
    notify(
        reporter_to_tell(case, actor),
        event,
        _("Case %(case)s: departments called"),
        _(
            "The township has called the departments responsible for the problem you "
            "reported (%(case)s)."
        ),
        urgent=False,
    )


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
        (department,) = clean_departments(case, [department])
        chain = ChainPolicy.of(case.district)
        before = case.status
        if before != Status.DISPATCHED:
            case.status = Status.DISPATCHED
            case.save(update_fields=["status"])
            event = record(
                case,
                EventKind.DISPATCHED,
                actor=actor,
                role=role,
                at=now,
                data={
                    "changes": changes(status=(before, Status.DISPATCHED)),
                    "department": kept_department(department),
                    "note": note,
                },
            )
            if before != Status.WHISTLED:
                _tell_reporter_summoned(case, event, actor)
        return _summon(
            case,
            department,
            whistle=None,
            actor=actor,
            role=role,
            note=note,
            now=now,
            chain=chain,
        )


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
        chosen = clean_departments(case, departments)
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
        event = record(
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
                "departments": [kept_department(d) for d in chosen],
                "meeting_point": meeting_point,
                "note": note,
            },
        )
        if before not in (Status.DISPATCHED, Status.WHISTLED):
            _tell_reporter_summoned(case, event, actor)
        chain = ChainPolicy.of(case.district)
        for department in chosen:
            _summon(
                case,
                department,
                whistle=whistle,
                actor=actor,
                role=role,
                note=note,
                now=now,
                chain=chain,
            )
    return whistle


def sounding_whistle(case: Case) -> Whistle | None:
    """The whistle more departments are summoned on: the latest still sounding."""
    return case.whistles.filter(closed_at__isnull=True).order_by("-blown_at").first()


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
        chosen = clean_departments(case, departments)
        chain = ChainPolicy.of(case.district)
        return [
            _summon(
                case, d, whistle=whistle, actor=actor, role=role, note=note, now=now, chain=chain
            )
            for d in chosen
        ]
