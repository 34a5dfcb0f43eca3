"""What the routers share: the caller, finding objects within the caller's scope (404
outside it), reading photos and codes, and turning rows into the answers' shapes."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from typing import Any, TypeVar, cast

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import Model, Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from whistle.api import auth
from whistle.api.errors import ApiError, not_found
from whistle.cases.callers import shown_actor, shown_event_data
from whistle.cases.errors import InvalidInput
from whistle.cases.models import Case, Event, Summons, SupervisionNotice, Whistle
from whistle.cases.permissions import RULES, may
from whistle.cases.public_timeline import RATABLE, own_report, result_photos, timeline
from whistle.cases.scoping import visible_cases
from whistle.organisation import directory, map_triggers, places
from whistle.organisation.models import Department, Jurisdiction, Person
from whistle.policies.models import Category

T = TypeVar("T")

# The responses every operation may give besides its own.
ERROR_STATUSES = frozenset({400, 401, 403, 404, 409, 413, 422, 429, 500})


def caller(request: HttpRequest) -> Person:
    return cast(Person, request.auth)  # type: ignore[attr-defined]


SENT_AT_HEADER = "X-Whistle-Sent-At"


def sent_at(request: HttpRequest) -> datetime | None:
    """The device's time when it sent a request it had queued without signal
    (`X-Whistle-Sent-At`, ISO 8601 with its offset): a header, not the body, so a resend
    carries the same body under its Idempotency-Key."""
    value = request.headers.get(SENT_AT_HEADER)
    if value is None:
        return None
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        parsed = None
    if parsed is None or timezone.is_naive(parsed):
        raise ApiError(
            400,
            "invalid",
            _("%(header)s is a time with its offset, e.g. 2026-12-04T09:30:00+08:00.")
            % {"header": SENT_AT_HEADER},
            field=SENT_AT_HEADER,
        )
    return parsed


def errors(*own: int) -> dict[frozenset[int], Any]:
    """The error answers of an operation, but for the statuses it describes itself."""
    from whistle.api.schemas import ErrorOut

    return {ERROR_STATUSES - set(own): ErrorOut}


# Scope ----------------------------------------------------------------------------------------


def cases_of(person: Person) -> QuerySet[Case]:
    """The cases the caller may see: those of the pages' scope, and their own reports (which
    they see as the follow page shows them, `case_answer`)."""
    return Case.objects.filter(Q(pk__in=visible_cases(person).values("pk")) | Q(reporter=person))


def worked_cases(person: Person) -> QuerySet[Case]:
    """The cases the caller sees on the case pages (their scope), whose summonses, whistles,
    supervision notices, assessment records and work orders they may read. A resident's own
    report is not one of them: they follow it as its follow page shows it."""
    return Case.objects.filter(pk__in=visible_cases(person).values("pk"))


def sees_trail(person: Person, case: Case) -> bool:
    """Whether the person sees the case's trail: those who see the case on its page do; its
    reporter, who sees only the follow page, reads the public timeline instead."""
    return visible_cases(person).filter(pk=case.pk).exists()


def parse_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise not_found() from None


def find_case(person: Person, reference: str) -> Case:
    case = (
        cases_of(person)
        .filter(reference=reference.strip().upper())
        .select_related("category__major", "district", "township", "community", "lane")
        .first()
    )
    if case is None:
        raise not_found()
    return case


def find_summons(person: Person, public_id: str) -> Summons:
    summons = (
        Summons.objects.filter(uuid=parse_uuid(public_id), case__in=worked_cases(person))
        .select_related("case", "department", "whistle", "named_department")
        .first()
    )
    if summons is None:
        raise not_found()
    return summons


def find_whistle(person: Person, public_id: str) -> Whistle:
    whistle = (
        Whistle.objects.filter(uuid=parse_uuid(public_id), case__in=worked_cases(person))
        .select_related("case", "township")
        .first()
    )
    if whistle is None:
        raise not_found()
    return whistle


def find_notice(person: Person, public_id: str) -> SupervisionNotice:
    notice = (
        SupervisionNotice.objects.filter(uuid=parse_uuid(public_id), case__in=worked_cases(person))
        .select_related("case", "department", "summons")
        .first()
    )
    if notice is None:
        raise not_found()
    return notice


# Codes in the request -------------------------------------------------------------------------


def department_by_code(code: str, field: str = "department") -> Department:
    department = Department.objects.filter(code=code, is_active=True).first()
    if department is None:
        raise ApiError(
            422, "invalid", _("No department has the code %(code)s.") % {"code": code}, field=field
        )
    return department


def filing(request: HttpRequest, work: Callable[[], T]) -> T:
    """Run a filing's `work` (its category by code, its action, its answer) under the map's
    and the directory's revision tokens, pinned once: the district of its category, the
    action's own look-ups (the place, the caller's roles, the unit, who is told) and the
    answer's (who may see the caller) share them. A filing changes neither.

    A request that came with a token had them read with its check (`auth.bearer`): those
    are used, not read again. On PostgreSQL a filing reads none before it starts: it works
    under those of the map and the directory its process holds (`auth.revisions`), and the
    statement that writes it reads the current ones (`map_triggers.pending`; a filing that
    writes nothing, or fails, reads them at its end). When they changed, what it wrote is
    rolled back and the request is done again as if it had just come in: its token checked
    and the filing made under the tokens read first. `work` takes the caller from the
    request (`caller`) each time."""
    tokens, unconfirmed = auth.revisions(request)
    if unconfirmed:
        try:
            return _pinned(tokens, work, confirm=True)
        except map_triggers.RevisionsChanged:
            tokens = auth.renew(request)
    return _pinned(tokens, work, confirm=False)


def _pinned(tokens: tuple[str | None, ...], work: Callable[[], T], *, confirm: bool) -> T:
    map_token, directory_token = tokens
    with places.pinned_at(map_token), directory.pinned_at(directory_token):
        if not confirm:
            return work()
        connection = connections[DEFAULT_DB_ALIAS]
        with map_triggers.expecting(tokens):
            try:
                result = work()
            except map_triggers.RevisionsChanged:
                raise
            except Exception:
                # A refusal or an error found under tokens that changed is found again
                # under the current ones.
                with suppress(DatabaseError):
                    map_triggers.confirm(connection)
                raise
            map_triggers.confirm(connection)
            return result


def category_by_code(
    district: Jurisdiction | None, code: str, kind: str | None, field: str = "category"
) -> Category:
    """A category of the district by its 4-digit code (major class and subclass); the kind
    (component or event) tells two apart that share a code."""
    found = (
        list(_categories(district.pk, code))
        if district is not None and len(code) == 4 and code.isascii() and code.isdigit()
        else []
    )
    if kind is not None:
        found = [c for c in found if c.major.kind == kind]
    # InvalidInput rather than ApiError: in a batch of work orders it is one order's problem.
    if not found:
        raise InvalidInput(
            field, _("The district has no category with the code %(code)s."), code=code
        )
    if len(found) > 1:
        raise InvalidInput(
            field, _("Two categories have the code %(code)s: give category_kind."), code=code
        )
    return found[0]


def _categories(district_id: int, code: str) -> tuple[Category, ...]:
    """The district's categories with the 4-digit code, with their major classes, kept
    under the directory's token (the tables of categories change it)."""

    def load() -> tuple[Category, ...]:
        return tuple(
            Category.objects.filter(
                major__district=district_id, major__code=code[:2], code=code[2:]
            )
            .select_related("major")
            .order_by("pk")
        )

    return directory.kept(("category_by_code", district_id, code), load)


def photos(items: list[str] | None, field: str = "photos") -> list[bytes]:
    decoded = []
    for number, text in enumerate(items or [], start=1):
        try:
            decoded.append(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            raise InvalidInput(
                f"{field}.{number - 1}", _("Photo %(n)s is not base64."), n=number
            ) from None
    return decoded


# Answers --------------------------------------------------------------------------------------


def code_of(jurisdiction: Jurisdiction | None) -> str | None:
    return None if jurisdiction is None else jurisdiction.code


def department_ref(department: Department) -> dict[str, str]:
    return {"code": department.code, "name": department.name}


def english_name(name_en: str) -> str | None:
    """An optional English name as the API gives it: null when none was given."""
    return (name_en or "").strip() or None


def category_ref(category: Category | None) -> dict[str, str | None] | None:
    if category is None:
        return None
    return {
        "code": category.full_code,
        "kind": category.major.kind,
        "name": category.name,
        "name_en": english_name(category.name_en),
    }


def summons_out(summons: Summons) -> dict[str, Any]:
    return {
        "uuid": summons.uuid,
        "case": summons.case.reference,
        "whistle": summons.whistle.uuid if summons.whistle_id and summons.whistle else None,
        "department": department_ref(summons.department),
        "named_department": (
            department_ref(summons.named_department) if summons.named_department else None
        ),
        "check_in_flag_reasons": list(summons.check_in_flag_reasons or []),
        **{
            name: getattr(summons, name)
            for name in (
                "status",
                "summoned_at",
                "acknowledge_due_at",
                "arrive_due_at",
                "resolve_due_at",
                "acknowledged_at",
                "arrived_at",
                "arrived_distance_m",
                "check_in_flag",
                "done_at",
                "result",
                "decline_reason",
                "ruling",
                "released_at",
                "left_at",
                "acknowledge_overdue_at",
                "arrive_overdue_at",
                "resolve_overdue_at",
            )
        },
    }


def notice_out(notice: SupervisionNotice) -> dict[str, Any]:
    return {
        "uuid": notice.uuid,
        "case": notice.case.reference,
        "department": department_ref(notice.department),
        "summons": notice.summons.uuid if notice.summons_id and notice.summons else None,
        "issued_at": notice.issued_at,
        "text": notice.text,
        "due_at": notice.due_at,
        "answered_at": notice.answered_at,
        "answer": notice.answer,
        "overdue_at": notice.overdue_at,
    }


def case_out(case: Case) -> dict[str, Any]:
    return {
        "reference": case.reference,
        "uuid": case.uuid,
        "status": case.status,
        "source": case.source,
        "category": category_ref(case.category),
        "description": case.description,
        "lon": case.lon,
        "lat": case.lat,
        "address": case.address,
        "district": code_of(case.district),
        "township": code_of(case.township),
        "community": code_of(case.community),
        "lane": (
            {"township": case.lane.township.code, "name": case.lane.name} if case.lane else None
        ),
        "escalation": case.escalation,
        "rework_count": case.rework_count,
        "merged_into": case.merged_into.reference if case.merged_into else None,
        "reported_at": case.reported_at,
        "filed_at": case.filed_at,
        "resolve_due_at": case.resolve_due_at,
        "handled_at": case.handled_at,
        "checked_at": case.checked_at,
        "closed_at": case.closed_at,
        "township_rating": case.township_rating,
        "resident_satisfied": case.resident_satisfied,
    }


CASE_LIST_RELATED = (
    "category__major",
    "district",
    "township",
    "community",
    "lane__township",
    "merged_into",
)

# The rules that take the case itself (the others take a summons or a notice).
CASE_RULES = tuple(
    name
    for name in RULES
    if name
    not in {
        "answer_supervision_notice",
        "rule_on_decline",
        "rule_on_check_in",
        "release",
        "acknowledge",
        "check_in",
        "report_progress",
        "report_result",
        "decline",
        "check_out",
    }
)


def followed_case_out(case: Case, person: Person) -> dict[str, Any]:
    """The case as its follow page shows it (`whistle/street` for a resident): its status,
    category, place, times and the public timeline, the result's photos and whether it takes
    a rating; no names, notes, meeting points, departments' work or the trail. What was
    reported, the description and the photos, only to the resident who reported it, as the
    page shows it to them (`own_report`)."""
    own = own_report(case, person)
    return {
        "reference": case.reference,
        "status": case.status,
        "category": category_ref(case.category),
        "place": {
            "township": case.township.name if case.township else None,
            "lane": case.lane.name if case.lane else None,
        },
        "reported_at": case.reported_at,
        "resolve_due_at": case.resolve_due_at if case.is_open else None,
        "merged_into": case.merged_into.reference if case.merged_into else None,
        "timeline": [{"at": e.at, "text": e.text} for e in timeline(case)],
        "result_photos": [
            reverse("reports:photo", args=[case.reference, photo.pk])
            for photo in result_photos(case)
        ],
        "rating": {
            "open": case.source == Case.Source.RESIDENT and case.status in RATABLE,
            "rated": case.resident_rated_at is not None,
            "called_back": case.resident_called_back_at is not None,
        },
        "description": own.description if own else None,
        "report_photos": (
            [
                reverse("api-v1:get_followed_photo", args=[case.reference, p.sha256])
                for p in own.photos
            ]
            if own
            else None
        ),
    }


def case_answer(person: Person, case: Case) -> dict[str, Any]:
    """A case as the caller may read it: as the case page shows it to those who see it there
    (`case_detail`), as its follow page shows it to the resident who reported it."""
    if sees_trail(person, case):
        return case_detail(person, case)
    return followed_case_out(case, person)


def case_detail(person: Person, case: Case) -> dict[str, Any]:
    """The case as the case page shows it, with what the caller may do to it now."""
    case = (
        Case.objects.select_related(*CASE_LIST_RELATED)
        .prefetch_related(
            Prefetch(
                "summonses",
                queryset=Summons.objects.select_related(
                    "department", "whistle", "named_department"
                ).order_by("summoned_at", "uuid"),
            ),
            Prefetch("whistles", queryset=Whistle.objects.select_related("township")),
            Prefetch(
                "supervision_notices",
                queryset=SupervisionNotice.objects.select_related("department", "summons"),
            ),
        )
        .get(pk=case.pk)
    )
    return _detail(person, case)


def new_case_detail(person: Person, case: Case) -> dict[str, Any]:
    """`case_detail` of a case the request has just reported (`report_case`,
    `report_resident_case`), built from the case the action returned instead of read again:
    a case that is only reported has no summons, whistle, supervision notice or work order
    yet, and the action set its related rows and its trail's length and head."""
    case._prefetched_objects_cache = {  # type: ignore[attr-defined]
        "summonses": _none(Summons),
        "whistles": _none(Whistle),
        "supervision_notices": _none(SupervisionNotice),
    }
    # No work order: `order_of` answers None without asking the database.
    Case.hotline_order.related.set_cached_value(case, None)
    return _detail(person, case)


def _none(model: type[Model]) -> QuerySet[Any]:
    """An empty prefetched list, as `prefetch_related` leaves it: no SQL built or run."""
    rows: QuerySet[Any] = model._default_manager.none()
    rows._result_cache = []
    rows._prefetch_done = True  # type: ignore[attr-defined]
    return rows


def _detail(person: Person, case: Case) -> dict[str, Any]:
    summonses = list(case.summonses.all())
    for summons in summonses:
        summons.case = case
    whistles = sorted(case.whistles.all(), key=lambda w: (w.blown_at, str(w.uuid)))
    notices = list(case.supervision_notices.all())
    for notice in notices:
        notice.case = case
    return {
        **case_out(case),
        "whistles": [
            {
                "uuid": w.uuid,
                "case": case.reference,
                "kind": w.kind,
                "township": w.township.code,
                "blown_at": w.blown_at,
                "meeting_point": w.meeting_point,
                "meeting_lon": w.meeting_lon,
                "meeting_lat": w.meeting_lat,
                "note": w.note,
                "closed_at": w.closed_at,
                "summonses": [summons_out(s) for s in summonses if s.whistle_id == w.pk],
            }
            for w in whistles
        ],
        "summonses": [summons_out(s) for s in summonses],
        "supervision_notices": [notice_out(n) for n in notices],
        "allowed_actions": [name for name in CASE_RULES if may(person, name, case)],
        "trail_length": case.trail_length,
        "trail_head": case.trail_head,
    }


def event_out(person: Person, case: Case, event: Event) -> dict[str, Any]:
    """A trail event as the person may see it: a resident who acted with an account named as
    on the case page (`shown_actor`), a reporter's name in an old event masked."""
    return {
        "seq": event.seq,
        "at": event.at,
        "kind": event.kind,
        "actor": event.actor_id,
        "actor_name": shown_actor(person, case, event.actor, event.actor_role) or None,
        "role": event.actor_role,
        "summons": event.summons.uuid if event.summons_id and event.summons else None,
        "data": shown_event_data(person, case, event.data or {}, event.kind),
        "lon": event.lon,
        "lat": event.lat,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }
