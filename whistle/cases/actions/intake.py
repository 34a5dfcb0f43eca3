"""A problem comes in: reported, then filed, rejected, merged, or solved on the spot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from whistle.cases import rating_keys
from whistle.cases.actions._common import (
    DESCRIPTION_MAX,
    NOTE_MAX,
    REASON_MAX,
    PhotoBatch,
    assumed_calendar_data,
    atomic,
    changes,
    clean_accuracy,
    clean_caller_phone,
    clean_position,
    clean_text,
    deadline,
    due_times,
    iso,
    local_text,
    moment,
    notify,
    outbox_values,
    people_with_role,
    photo_data,
    record,
    reporter_to_tell,
    set_deadline,
    write_outbox,
)
from whistle.cases.device_time import DeviceTime, device_time
from whistle.cases.errors import InvalidInput, PermissionRefused
from whistle.cases.locate import Location, locate
from whistle.cases.models import Attachment, Case, Event
from whistle.cases.permissions import (
    LANE_ROLES,
    TOWNSHIP_OFFICE,
    Scoped,
    acting_grant,
    refusal,
    require,
)
from whistle.cases.rows import insert_new, insert_together, new_row
from whistle.cases.trail import (
    EventKind,
    first_event,
    insert_with_first_event,
    lock_case,
    lock_cases,
)
from whistle.notifications import texts
from whistle.notifications.outbox import Outbox
from whistle.organisation import directory, map_triggers, personal_data
from whistle.organisation.models import Person, Role, RoleAssignment, Scope, TownshipUnit
from whistle.policies.attributes import AnswerRefused, clean_answers
from whistle.policies.models import Category
from whistle.policies.routing import office_for

Source = Case.Source
Status = Case.Status

# The sources each role may report under; the first is the default.
SOURCES_BY_ROLE: dict[str, tuple[str, ...]] = {
    Role.STEWARD: (Source.STEWARD, Source.PATROL),
    Role.LANE_CHIEF: (Source.CHIEF, Source.PATROL),
    Role.STREET_CHIEF: (Source.CHIEF, Source.PATROL),
    Role.TOWNSHIP_CHIEF: (
        Source.CHIEF,
        Source.PATROL,
        Source.STEWARD,
        Source.HOTLINE,
        Source.RESIDENT,
        Source.SUPERIOR,
    ),
    Role.DISPATCHER: (
        Source.PATROL,
        Source.STEWARD,
        Source.CHIEF,
        Source.HOTLINE,
        Source.RESIDENT,
        Source.SUPERIOR,
    ),
    Role.CHIEFS_OFFICE: (Source.PATROL, Source.CHIEF, Source.HOTLINE, Source.SUPERIOR),
}
DISTRICT_REPORTERS = (Role.DISTRICT_CHIEF, Role.CHIEFS_OFFICE)
TOWNSHIP_REPORTERS = (*TOWNSHIP_OFFICE, Role.CHIEFS_OFFICE)


def _clean_category(category: Category | None, district: Any) -> Category | None:
    if category is None:
        return None
    if not isinstance(category, Category):
        raise InvalidInput("category", _("Choose a category from the list."))
    if not category.is_active:
        raise InvalidInput(
            "category", _("The category %(name)s is no longer in use."), name=category
        )
    if district is None or category.major.district_id != district.pk:
        raise InvalidInput(
            "category", _("The category %(name)s belongs to another district."), name=category
        )
    return category


def _open_case(
    *,
    actor: Person | None,
    role: str,
    source: str,
    location: Any,
    description: str,
    position: tuple[float, float],
    accuracy_m: float | None,
    address: str,
    category: Category | None,
    photos: PhotoBatch,
    reporter_name: str,
    reporter_phone: str,
    external_id: str,
    now: datetime,
    resident_key_hash: str = "",
    role_scope: str = "",
    reporter_in_trail: dict[str, Any] | None = None,
    order_data: dict[str, Any] | None = None,
    order_due: dict[str, datetime] | None = None,
    service_attributes: list[dict[str, Any]] | None = None,
    offline: DeviceTime | None = None,
    outbox: Outbox | None = None,
    deferred: bool = False,
) -> tuple[Case, Event]:
    """Create the case and its first event (its webhooks queued in `outbox`, to be written
    with the filing's messages). Runs inside the caller's transaction. With `deferred` and
    no photo, the case and its event are made but not inserted: the filing inserts them
    with its other rows (`_write_filing`).

    The trail records a commitment to the reporter's name and phone, salted with a salt kept
    on the case, unless `reporter_in_trail` says what it records instead (a work order's
    commitment to its caller, salted on the order); `order_data` adds a work order's fields
    to the event, and `order_due` its deadlines. `role_scope` is the kind of scope (`Scope`)
    staff held their role in when they reported: a district's order from above is the
    district's own, one the township typed in is not (`reporter_to_tell`)."""
    lon, lat = position
    reporter_salt = ""
    if reporter_in_trail is None:
        reporter_salt = personal_data.new_salt() if (reporter_name or reporter_phone) else ""
        reporter_in_trail = {
            "reporter": personal_data.commitment(reporter_salt, reporter_name, reporter_phone)
        }
    office = office_for(location.township.pk, category.pk if category else None)
    case = new_row(
        Case,
        source=source,
        status=Status.REPORTED,
        category=category,
        office=office,
        description=description,
        lon=lon,
        lat=lat,
        accuracy_m=accuracy_m,
        address=address,
        district=location.district,
        township=location.township,
        community=location.community,
        lane=location.lane,
        grid_cell=location.grid_cell,
        reporter=actor,
        reporter_name=reporter_name,
        reporter_phone=reporter_phone,
        reporter_salt=reporter_salt,
        external_id=external_id,
        resident_key_hash=resident_key_hash,
        service_attributes=service_attributes or [],
        reported_at=now,
    )

    def data(attachments: list[Attachment]) -> dict[str, Any]:
        return {
            "changes": changes(status=(None, Status.REPORTED)),
            "source": source,
            "description": description,
            "address": address,
            "category": category.full_code if category else None,
            **({"office": office.name} if office is not None else {}),
            "township": location.township.code,
            "community": location.community.code if location.community else None,
            "lane": location.lane.name if location.lane else None,
            "lane_distance_m": location.lane_distance_m,
            "grid_cell": location.grid_cell.code if location.grid_cell else None,
            "accuracy_m": accuracy_m,
            **reporter_in_trail,
            "external_id": external_id,
            **({"role_scope": role_scope} if role_scope else {}),
            "photos": photo_data(attachments),
            **(order_data or {}),
            **({"attributes": service_attributes} if service_attributes else {}),
            **(offline.trail() if offline is not None else {}),
            **due_times(case, order=order_due),
        }

    if not photos:
        first: dict[str, Any] = {
            "actor": actor,
            "role": role,
            "at": now,
            "lon": lon,
            "lat": lat,
            "data": data([]),
        }
        if deferred and outbox is not None:
            # The filing inserts the case and its event with its other rows (`_write_filing`).
            return case, first_event(case, EventKind.CASE_REPORTED, outbox=outbox, **first)
        # No photo to store under the case's key: the case goes in with its first event.
        return case, insert_with_first_event(case, EventKind.CASE_REPORTED, outbox=outbox, **first)
    # Inserting the row locks it until the transaction ends: nobody else can see it, let
    # alone append to its trail, so "lock, then append" holds without reading it again.
    case.save(force_insert=True)
    attachments = photos.store(case, Attachment.Purpose.REPORT, actor=actor, now=now)
    event = record(
        case,
        EventKind.CASE_REPORTED,
        actor=actor,
        role=role,
        at=now,
        lon=lon,
        lat=lat,
        new_case=True,
        outbox=outbox,
        data=data(attachments),
    )
    return case, event


def _clean_answers(
    category: Category | None, given: Mapping[str, Sequence[str]]
) -> list[dict[str, Any]]:
    if category is None:
        if given:
            raise InvalidInput("attributes", _("Answers need the category they belong to."))
        return []
    try:
        return clean_answers(category, given)
    except AnswerRefused as refused:
        raise InvalidInput(
            f"attribute[{refused.code}]", refused.message, **refused.params
        ) from None


def _write_filing(case: Case, event: Event, outbox: Outbox, *rows: Model) -> None:
    """Write what a filing has left to write: the case and its first event when they are
    not in yet (`_open_case` deferred them; a case with photos went in first), the `rows`
    that refer to the case (a work order), then the outbox's messages and webhooks in one
    insert. On PostgreSQL a new case goes in with all of them in one statement
    (`insert_together`)."""
    if case._state.adding:
        insert_together(case, [event, *rows], outbox_values(outbox))
    else:
        for row in rows:
            insert_new(row)
        write_outbox(outbox)
    # Inside the filing's transaction: a filing whose tokens its statement did not read
    # (`map_triggers.confirm`) reads them now, and is rolled back when they changed.
    map_triggers.confirm(connections[case._state.db or DEFAULT_DB_ALIAS])


def _tell_dispatchers(case: Case, event: Event, description: str, outbox: Outbox) -> None:
    """Queue the new case's message to the township's dispatchers, and write it with the
    case and the filing's webhooks (`_write_filing`)."""
    notify(
        people_with_role(Role.DISPATCHER, case.township),
        event,
        _("New problem %(case)s in %(place)s"),
        _("%(place)s: %(description)s"),
        place=case.lane or case.township,
        description=description[:140],
        outbox=outbox,
    )
    _write_filing(case, event, outbox)


def _locate_or_refuse(lon: float, lat: float) -> Location:
    location = locate(lon, lat)
    if location.township is None:
        raise InvalidInput(
            "position",
            _("The position %(lon)s, %(lat)s is not inside any township of the city."),
            lon=lon,
            lat=lat,
        )
    return location


@directory.pinned_with_map()
def report_case(
    actor: Person,
    *,
    description: str,
    lon: float,
    lat: float,
    accuracy_m: float | None = None,
    address: str = "",
    category: Category | None = None,
    source: str | None = None,
    photos: Any = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    external_id: str = "",
    happened_at: datetime | None = None,
    sent_at: datetime | None = None,
    now: datetime | None = None,
) -> Case:
    """A steward, chief or township or district office reports a problem at a place.

    A report written on the phone without signal comes later with `happened_at` and
    `sent_at` (the device's times, `whistle.cases.device_time`): the trail keeps when it was
    written beside when it arrived; the case counts as reported when it arrived, since
    nobody could act on it before.

    Stewards and chiefs report on their own lanes (or, where no lane is near, anywhere in
    the townships of their lanes); the township's dispatchers, chief and chiefs' office
    anywhere in the township; the district's chief and chiefs' office anywhere in the
    district. `source` defaults from the role (a steward's report, a chief's, a patrol
    finding, an order from above); hotline and resident reports entered by the township
    carry the caller's name and phone.
    """
    now = moment(now)
    description = clean_text(
        description, "description", _("The description"), max_length=DESCRIPTION_MAX
    )
    position = clean_position(lon, lat)
    accuracy = clean_accuracy(accuracy_m)
    address = clean_text(address, "address", _("The address"), max_length=200, required=False)
    external_id = clean_text(
        external_id, "external_id", _("The external id"), max_length=64, required=False
    )
    reporter_name = clean_text(
        reporter_name, "reporter_name", _("The reporter's name"), max_length=60, required=False
    )
    reporter_phone = clean_caller_phone(reporter_phone, "reporter_phone")
    location = _locate_or_refuse(*position)
    district_scope = Scoped(DISTRICT_REPORTERS, jurisdiction=location.district)
    scopes = [
        Scoped(LANE_ROLES, lane=location.lane),
        Scoped(TOWNSHIP_REPORTERS, jurisdiction=location.township),
        district_scope,
    ]
    grant = acting_grant(actor, *scopes)
    role, role_scope = (grant[0], grant[1].level) if grant else (None, Scope.LANE)
    if role is None and location.lane is None and actor is not None and actor.is_active:
        # Ground near no lane: the stewards and chiefs of the township's lanes may report it.
        role = (
            RoleAssignment.objects.held_by(actor)
            .filter(role__in=LANE_ROLES, lane__township=location.township)
            .order_by("role")
            .values_list("role", flat=True)
            .first()
        )
    if role is None:
        raise refusal(_("report a problem here"), *scopes)
    if grant is not None and grant[1] is district_scope:
        allowed: tuple[str, ...] = (Source.SUPERIOR, Source.HOTLINE)
    else:
        allowed = SOURCES_BY_ROLE.get(role, ())
    if source is None:
        source = allowed[0]
    if source not in allowed:
        raise InvalidInput(
            "source",
            _("As %(role)s you cannot report with the source %(source)s."),
            role=Role(role).label,
            source=Source(source).label if source in Source.values else source,
        )
    if source in (Source.HOTLINE, Source.RESIDENT) and not (reporter_name or reporter_phone):
        raise InvalidInput(
            "reporter_name", _("Give the name or the phone number of the person who called.")
        )
    category = _clean_category(category, location.district)
    offline = device_time(happened_at, sent_at, now)
    photos_batch = PhotoBatch(photos)
    outbox = Outbox()
    with atomic(photos_batch):
        case, event = _open_case(
            offline=offline,
            actor=actor,
            role=role,
            source=source,
            location=location,
            description=description,
            position=position,
            accuracy_m=accuracy,
            address=address,
            category=category,
            photos=photos_batch,
            reporter_name=reporter_name,
            reporter_phone=reporter_phone,
            external_id=external_id,
            role_scope=role_scope,
            now=now,
            outbox=outbox,
            deferred=True,
        )
        _tell_dispatchers(case, event, description, outbox)
    return case


@dataclass(frozen=True)
class ResidentReport:
    """A resident's new case and the key that lets its reporter rate the result: give the
    key to the reporter once (the follow link carries it); the case keeps only its digest."""

    case: Case
    rating_key: str


@directory.pinned()
def report_resident_case(
    *,
    name: str = "",
    phone: str = "",
    description: str,
    lon: float,
    lat: float,
    accuracy_m: float | None = None,
    address: str = "",
    photos: Any = None,
    reporter: Person | None = None,
    category: Category | None = None,
    attributes: Mapping[str, Sequence[str]] | None = None,
    happened_at: datetime | None = None,
    sent_at: datetime | None = None,
    now: datetime | None = None,
) -> ResidentReport:
    """A resident reports a problem, without an account or signed in with one (`reporter`:
    the case is then theirs, listed on their home page). The name and the phone number are
    optional, kept only for the township's call-back; a phone number, when given, must be
    one. The phone number stays on the case only, out of the unchangeable trail. Without a
    phone number the township cannot call back; the resident may still rate the result on
    the case's page with the key returned here, or signed in as the reporter
    (`record_resident_rating`). A channel that lets the resident choose a category of the
    district (Open311's service) passes it, with the answers to the category's questions
    (`attributes`: code → values, checked by `whistle.policies.attributes`); the township
    still files the case.

    A report written on the resident's phone without signal comes later with `happened_at`
    and `sent_at` (the device's times, as for `report_case`): the trail keeps when it was
    written beside when it arrived; the case counts as reported when it arrived."""
    now = moment(now)
    if reporter is not None and not (isinstance(reporter, Person) and reporter.is_active):
        raise PermissionRefused(_("This account may not report: it is not active."))
    name = clean_text(name, "name", _("Your name"), max_length=60, required=False)
    phone = clean_caller_phone(phone, "phone")
    description = clean_text(
        description, "description", _("The description"), max_length=DESCRIPTION_MAX
    )
    position = clean_position(lon, lat)
    accuracy = clean_accuracy(accuracy_m)
    address = clean_text(address, "address", _("The address"), max_length=200, required=False)
    location = _locate_or_refuse(*position)
    category = _clean_category(category, location.district)
    answers = _clean_answers(category, attributes or {})
    offline = device_time(happened_at, sent_at, now)
    key, key_digest = rating_keys.new_key()
    photos_batch = PhotoBatch(photos)
    outbox = Outbox()
    with atomic(photos_batch):
        case, event = _open_case(
            actor=reporter,
            role=Role.RESIDENT,
            source=Source.RESIDENT,
            location=location,
            description=description,
            position=position,
            accuracy_m=accuracy,
            address=address,
            category=category,
            photos=photos_batch,
            reporter_name=name,
            reporter_phone=phone,
            external_id="",
            resident_key_hash=key_digest,
            service_attributes=answers,
            offline=offline,
            now=now,
            outbox=outbox,
            deferred=True,
        )
        _tell_dispatchers(case, event, description, outbox)
    return ResidentReport(case, key)


def file_case(
    actor: Person,
    case: Case,
    *,
    category: Category | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Case:
    """The township files (立案) a reported case, choosing or confirming its category; the
    case's resolution deadline follows from the category's time limit."""
    now = moment(now)
    note = clean_text(note, "note", _("The note"), max_length=NOTE_MAX, required=False)
    with atomic():
        case = lock_case(case.pk)
        role = require(actor, "file_case", case)
        chosen = _clean_category(category, case.district) if category is not None else None
        if chosen is None and case.category_id is not None:
            chosen = _clean_category(case.category, case.district)
        if chosen is None:
            raise InvalidInput("category", _("Choose the category before filing the case."))
        before_category = case.category.full_code if case.category else None
        # Components and events share the 4-digit codes: the kinds say which each one is.
        kinds = [case.category.major.kind if case.category else None, chosen.major.kind]
        resolve = deadline(now, chosen.resolve_within, chosen.resolve_unit, case.district)
        before_office = case.office.name if case.office else None
        office = office_for(case.township_id, chosen.pk)
        case.category = chosen
        case.office = office
        case.status = Status.FILED
        case.filed_at = now
        set_deadline(case, "resolve_due_at", resolve)
        resolve_due_at = resolve.at
        case.save(
            update_fields=[
                "category",
                "office",
                "status",
                "filed_at",
                "resolve_due_at",
                "assumed_calendar",
                "deadline_basis",
            ]
        )
        after_office = office.name if office else None
        routed = {"office": (before_office, after_office)} if before_office != after_office else {}
        event = record(
            case,
            EventKind.CASE_FILED,
            actor=actor,
            role=role,
            at=now,
            data={
                "changes": changes(
                    status=(Status.REPORTED, Status.FILED),
                    category=(before_category, chosen.full_code),
                    **routed,
                ),
                "category_kinds": kinds,
                "resolve_due_at": iso(resolve_due_at),
                "note": note,
                **assumed_calendar_data(case, "resolve_due_at"),
                **due_times(case),
            },
        )
        notify(
            reporter_to_tell(case, actor),
            event,
            _("Case %(case)s filed"),
            _("Your report %(case)s was filed as %(category)s; to be resolved by %(due)s."),
            category=texts.Named(chosen.name, chosen.name_en),
            due=local_text(resolve_due_at),
        )
    return case


def route_case(
    actor: Person,
    case: Case,
    office: TownshipUnit | None,
    *,
    note: str = "",
    now: datetime | None = None,
) -> Case:
    """The township routes a case to another unit of its street office than its category's
    (or to none); the people of the new unit are told."""
    now = moment(now)
    note = clean_text(note, "note", _("The note"), max_length=NOTE_MAX, required=False)
    with atomic():
        case = lock_case(case.pk)
        role = require(actor, "route_case", case)
        if office is not None:
            office = TownshipUnit.objects.filter(pk=office.pk).first()
            if office is None or office.township_id != case.township_id or not office.is_active:
                raise InvalidInput("office", _("Choose an office of the case's township."))
        if office == case.office:
            raise InvalidInput("office", _("The case is already with this office."))
        before = case.office.name if case.office else None
        case.office = office
        case.save(update_fields=["office"])
        event = record(
            case,
            EventKind.CASE_ROUTED,
            actor=actor,
            role=role,
            at=now,
            data={
                "changes": changes(office=(before, office.name if office else None)),
                "note": note,
            },
        )
        if office is not None:
            notify(
                office.members.filter(is_active=True),
                event,
                _("Case %(case)s routed to %(office)s"),
                _("Case %(case)s was routed to %(office)s."),
                office=texts.Named.of(office),
            )
    return case


def reject_case(actor: Person, case: Case, *, reason: str, now: datetime | None = None) -> Case:
    """The township rejects a report (not a problem of the city, outside its remit…)."""
    now = moment(now)
    reason = clean_text(reason, "reason", _("The reason"), max_length=REASON_MAX)
    with atomic():
        case = lock_case(case.pk)
        role = require(actor, "reject_case", case)
        case.status = Status.REJECTED
        case.rejection_reason = reason
        case.save(update_fields=["status", "rejection_reason"])
        event = record(
            case,
            EventKind.CASE_REJECTED,
            actor=actor,
            role=role,
            at=now,
            data={"changes": changes(status=(Status.REPORTED, Status.REJECTED)), "reason": reason},
        )
        notify(
            reporter_to_tell(case, actor),
            event,
            _("Case %(case)s not taken up"),
            _("Your report %(case)s was not taken up: %(reason)s"),
            reason=reason,
        )
    return case


def merge_case(
    actor: Person, case: Case, *, into: Case, note: str = "", now: datetime | None = None
) -> Case:
    """The township merges a new report into an existing case that describes the same
    problem. Both trails record it."""
    now = moment(now)
    note = clean_text(note, "note", _("The note"), max_length=NOTE_MAX, required=False)
    if not isinstance(into, Case) or into.pk == case.pk:
        raise InvalidInput("into", _("Choose another case to merge this one into."))
    with atomic():
        case, target = lock_cases(case.pk, into.pk)
        role = require(actor, "merge_case", case)
        if target.status in (Status.REJECTED, Status.MERGED):
            raise InvalidInput(
                "into",
                _("Case %(target)s has the status “%(status)s” and cannot take duplicates."),
                target=target.reference,
                status=capfirst(Status(target.status).label),
            )
        if target.township_id != case.township_id:
            raise InvalidInput(
                "into", _("Case %(target)s is in another township."), target=target.reference
            )
        case.status = Status.MERGED
        case.merged_into = target
        case.save(update_fields=["status", "merged_into"])
        event = record(
            case,
            EventKind.CASE_MERGED,
            actor=actor,
            role=role,
            at=now,
            data={
                "changes": changes(status=(Status.REPORTED, Status.MERGED)),
                "into": target.reference,
                "note": note,
            },
        )
        record(
            target,
            EventKind.DUPLICATE_MERGED_IN,
            actor=actor,
            role=role,
            at=now,
            data={"duplicate": case.reference, "note": note},
        )
        notify(
            reporter_to_tell(case, actor),
            event,
            _("Case %(case)s merged"),
            _("Your report %(case)s describes the same problem as case %(target)s and follows it."),
            target=target.reference,
        )
    return case


def solve_on_spot(
    actor: Person,
    case: Case,
    *,
    note: str,
    photos: Any = None,
    now: datetime | None = None,
) -> Case:
    """The problem was fixed on the spot by the township or the lane's people; it still goes
    through the check on site before it is closed."""
    now = moment(now)
    note = clean_text(note, "note", _("What was done"), max_length=NOTE_MAX)
    batch = PhotoBatch(photos)
    with atomic(batch):
        case = lock_case(case.pk)
        role = require(actor, "solve_on_spot", case)
        attachments = batch.store(case, Attachment.Purpose.RESULT, actor=actor, now=now)
        case.status = Status.HANDLED
        case.handled_at = now
        case.save(update_fields=["status", "handled_at"])
        record(
            case,
            EventKind.SOLVED_ON_SPOT,
            actor=actor,
            role=role,
            at=now,
            data={
                "changes": changes(status=(Status.FILED, Status.HANDLED)),
                "note": note,
                "photos": photo_data(attachments),
            },
        )
    return case
