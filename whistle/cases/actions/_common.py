"""What the case actions share: checking input, storing photos, writing the trail event,
computing deadlines and queuing notifications."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from whistle.cases.bulk import Values
from whistle.cases.deadlines import next_check_for
from whistle.cases.errors import ActionRefused, InvalidInput
from whistle.cases.images import Photo, prepare
from whistle.cases.models import Attachment, Case, Event, Summons
from whistle.cases.pauses import PausableDeadline
from whistle.cases.rules import CASE_DEADLINE_FIELDS, DEADLINE_FIELDS, ORDER_DEADLINE_FIELDS
from whistle.cases.trail import EventKind, event_link
from whistle.cases.trail import record as record  # the action modules take it from here
from whistle.notifications import texts
from whistle.notifications.models import Notification
from whistle.notifications.outbox import ROW_FIELDS, Outbox, notify_many
from whistle.notifications.status import event_key
from whistle.organisation import directory
from whistle.organisation.models import (
    ROLE_SCOPES,
    Department,
    Jurisdiction,
    Person,
    Role,
    Scope,
)
from whistle.organisation.personal_data import normal_phone
from whistle.policies.calendar import (
    CalendarError,
    ComputedDeadline,
    compute_deadline,
    is_working_unit,
    to_local,
)

# Lengths of the free texts the actions accept.
REASON_MAX = 1000
NOTE_MAX = 1000
RESULT_MAX = 4000
DESCRIPTION_MAX = 4000

MAX_PHOTOS = 9

ZERO = timedelta()


def moment(now: datetime | None) -> datetime:
    """The time of the action: `now` when given (tests, the demo's history), else the clock."""
    if now is None:
        return timezone.now()
    if timezone.is_naive(now):
        raise ValueError("an action's `now` must be timezone-aware")
    return now.astimezone(UTC)


def clean_text(
    value: Any, field: str, label: str | Promise, *, max_length: int, required: bool = True
) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(field, _("%(label)s must be text."), label=label)
    text = value.strip()
    if "\x00" in text:
        raise InvalidInput(field, _("%(label)s contains a NUL character."), label=label)
    if required and not text:
        raise InvalidInput(field, _("%(label)s is required."), label=label)
    if len(text) > max_length:
        raise InvalidInput(
            field,
            _("%(label)s is too long: %(length)s characters, at most %(max)s."),
            label=label,
            length=len(text),
            max=max_length,
        )
    return text


def _number(value: Any, field: str, label: str | Promise) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(field, _("%(label)s must be a number."), label=label)
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInput(field, _("%(label)s must be a finite number."), label=label)
    return number


def clean_position(lon: Any, lat: Any, *, field: str = "position") -> tuple[float, float]:
    """A WGS-84 position in degrees, longitude first."""
    x = _number(lon, f"{field}.lon", _("The longitude"))
    y = _number(lat, f"{field}.lat", _("The latitude"))
    if not -180.0 <= x <= 180.0:
        raise InvalidInput(
            f"{field}.lon", _("The longitude %(value)s is not between -180 and 180."), value=x
        )
    if not -90.0 <= y <= 90.0:
        raise InvalidInput(
            f"{field}.lat", _("The latitude %(value)s is not between -90 and 90."), value=y
        )
    return x, y


def clean_accuracy(value: Any, field: str = "accuracy_m") -> float | None:
    if value is None:
        return None
    accuracy = _number(value, field, _("The position accuracy"))
    if not 0 <= accuracy <= 100_000:
        raise InvalidInput(field, _("The position accuracy must be between 0 and 100,000 metres."))
    return round(accuracy, 1)


def clean_optional_position(
    lon: Any, lat: Any, *, field: str = "position"
) -> tuple[float | None, float | None]:
    if lon is None and lat is None:
        return None, None
    if lon is None or lat is None:
        raise InvalidInput(field, _("Give both the longitude and the latitude, or neither."))
    return clean_position(lon, lat, field=field)


def clean_caller_phone(value: Any, field: str = "caller_phone") -> str:
    """A caller's phone number as it is kept (`normal_phone`): a mainland mobile or a fixed
    line with its area code, however it was typed; "" when none was given. Anything else
    is refused, saying what a number to call back looks like."""
    text = clean_text(value, field, _("The phone number"), max_length=40, required=False)
    if not text:
        return ""
    phone = normal_phone(text)
    if phone is None:
        raise InvalidInput(
            field,
            _(
                "%(phone)s is not a number to call back: give a mobile number (11 digits, "
                "e.g. 13812345678) or a fixed line with its area code (e.g. 010-65123456)."
            ),
            phone=text,
        )
    return phone


def rounded(value: float | None, places: int = 1) -> float | None:
    return None if value is None else round(value, places)


# Photos ---------------------------------------------------------------------------------


def _photo_label_text(number: int) -> str:
    return gettext("Photo %(n)s") % {"n": number}


# Built when a refusal is shown, in the language active there.
_photo_label = lazy(_photo_label_text, str)


class PhotoBatch:
    """Photos checked and re-encoded (`whistle.cases.images`) before the transaction starts;
    stored inside it; removed from storage again when the transaction fails (storage writes
    cannot be rolled back).

    Takes uploads (bytes or files), and photos a form already passed through
    `images.prepare`, which are stored as they are.
    """

    def __init__(self, photos: Iterable[Any] | None, field: str = "photos") -> None:
        self.field = field
        photos = list(photos or [])
        # Counted before decoding: a tenth file costs nothing to refuse.
        if len(photos) > MAX_PHOTOS:
            raise InvalidInput(field, _("At most %(max)s photos at a time."), max=MAX_PHOTOS)
        self.items = [self._prepared(p, n) for n, p in enumerate(photos, start=1)]
        self.stored: list[str] = []

    def _prepared(self, photo: Any, number: int) -> Photo:
        if isinstance(photo, Photo):
            return photo
        return prepare(photo, label=_photo_label(number), field=self.field)

    def __bool__(self) -> bool:
        return bool(self.items)

    def store(
        self,
        case: Case,
        purpose: str,
        *,
        actor: Person | None,
        now: datetime,
        summons: Summons | None = None,
    ) -> list[Attachment]:
        attachments = []
        for photo in self.items:
            attachment = Attachment(
                case=case,
                summons=summons,
                purpose=purpose,
                content_type=photo.content_type,
                sha256=photo.sha256,
                size=len(photo.content),
                uploaded_by=actor,
                uploaded_at=now,
            )
            attachment.file.save(
                f"{uuid.uuid4().hex}.{photo.extension}", ContentFile(photo.content), save=False
            )
            self.stored.append(attachment.file.name)
            attachment.save(force_insert=True)
            attachments.append(attachment)
        return attachments

    def discard(self) -> None:
        for name in self.stored:
            Attachment._meta.get_field("file").storage.delete(name)
        self.stored.clear()


def photo_data(attachments: list[Attachment]) -> list[dict[str, Any]]:
    """What the trail keeps of each photo: its hash, so the file cannot be swapped unseen."""
    return [{"sha256": a.sha256, "type": a.content_type, "size": a.size} for a in attachments]


@contextmanager
def atomic(*batches: PhotoBatch) -> Iterator[None]:
    """The action's transaction; photos already stored are removed if it fails."""
    try:
        with transaction.atomic():
            yield
    except BaseException:
        for batch in batches:
            batch.discard()
        raise


# The trail, deadlines and notifications -------------------------------------------------


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def set_next_check(summons: Summons, now: datetime) -> None:
    summons.next_check_at = next_check_for(summons, now)


def deadline(
    start: datetime, amount: int, unit: str, district: Jurisdiction | None
) -> ComputedDeadline:
    """A deadline from a time limit, refused in the user's language when the calendar cannot
    give one. Store it with `set_deadline`, which also keeps its assumed calendar."""
    try:
        return compute_deadline(start, amount, unit, district)
    except CalendarError as exc:
        raise ActionRefused(_("The deadline cannot be computed: %(reason)s"), reason=exc) from exc


def set_deadline(
    row: Case | Summons, field: str, computed: ComputedDeadline, *, shift: timedelta = ZERO
) -> None:
    """Store a computed deadline (moved by `shift`) in `field`, and remember in
    `assumed_calendar` whether it was computed on an assumed calendar, with what it takes to
    compute it again once the year is entered (docs/calendar.md)."""
    setattr(row, field, computed.at + shift)
    basis = {
        "start": iso(computed.start),
        "amount": computed.amount,
        "unit": computed.unit,
        "shift_seconds": shift.total_seconds(),
    }
    marks = dict(row.assumed_calendar or {})
    if computed.assumed_years:
        marks[field] = {"years": list(computed.assumed_years), **basis}
    else:
        marks.pop(field, None)
    row.assumed_calendar = marks
    # A deadline in working time depends on the calendar: keep what it was computed from,
    # so that it can be computed again when a holiday is entered or removed.
    bases = dict(row.deadline_basis or {})
    if is_working_unit(computed.unit):
        bases[field] = basis
    else:
        bases.pop(field, None)
    row.deadline_basis = bases


def compute_again(
    basis: dict[str, Any], district: Jurisdiction | None
) -> tuple[ComputedDeadline, timedelta]:
    """A deadline computed again, on the calendar as it now stands, from what `set_deadline`
    kept of it (its basis or its assumed-calendar mark), with the shift to store it with."""
    start = datetime.fromisoformat(basis["start"])
    computed = compute_deadline(start, int(basis["amount"]), basis["unit"], district)
    return computed, timedelta(seconds=float(basis.get("shift_seconds", 0)))


def shift_deadline(row: Case | Summons, field: str, shift: timedelta) -> None:
    """Move a stored deadline by `shift`; an assumed one keeps its mark, moved along."""
    setattr(row, field, getattr(row, field) + shift)
    for attribute in ("assumed_calendar", "deadline_basis"):
        marks = getattr(row, attribute) or {}
        if field in marks:
            mark = dict(marks[field])
            mark["shift_seconds"] = mark.get("shift_seconds", 0) + shift.total_seconds()
            setattr(row, attribute, {**marks, field: mark})


def assumed_calendar_data(row: Case | Summons, *fields: str) -> dict[str, Any]:
    """For a trail event that sets deadlines: {"assumed_calendar": {field: [years]}} for
    those computed on an assumed calendar; nothing when none was."""
    marks = row.assumed_calendar or {}
    assumed = {field: marks[field]["years"] for field in fields if field in marks}
    return {"assumed_calendar": assumed} if assumed else {}


def due_times(
    case: Case | None = None,
    summonses: Iterable[Summons] = (),
    *,
    order: dict[str, datetime] | None = None,
) -> dict[str, Any]:
    """For a trail event that sets or moves deadlines: {"due_times": ...} with every deadline
    the rows hold after it, the case's (`CASE_DEADLINE_FIELDS`), a work order's
    (`ORDER_DEADLINE_FIELDS`) and each given summons' (`DEADLINE_FIELDS`, by its uuid), so
    that `verify-trail` replays them and names a deadline changed without an event."""
    due: dict[str, Any] = {}
    if case is not None:
        due["case"] = {name: iso(getattr(case, name)) for name in CASE_DEADLINE_FIELDS}
    if order is not None:
        due["hotline_order"] = {name: iso(order[name]) for name in ORDER_DEADLINE_FIELDS}
    rows = {
        str(s.uuid): {name: iso(getattr(s, name)) for name in DEADLINE_FIELDS} for s in summonses
    }
    if rows:
        due["summonses"] = rows
    return {"due_times": due}


def local_text(value: datetime) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M")


def minutes_late(done: datetime, due: datetime | None, case: Case | None = None) -> int:
    """Whole minutes after the deadline, rounded up; 0 when on time or without a deadline.
    With the `case`, net of its time on the backlog as the assessment counts it
    (`whistle.cases.pauses`): done while the case is on it, as if done when it went on it."""
    if due is None:
        return 0
    deadline = PausableDeadline.now_for(due, case) if case is not None else PausableDeadline(due)
    return deadline.minutes_late(done)


def department_people(department: Department, township: Jurisdiction | None) -> list[Person]:
    """The officers and head of a department, and its people named in the township's centre."""
    people = {
        p.pk: p
        for p in Person.objects.filter(
            is_active=True,
            roles__department=department,
            roles__role__in=[Role.DEPARTMENT_OFFICER, Role.DEPARTMENT_HEAD],
        )
    }
    if township is not None:
        for person in Person.objects.filter(
            is_active=True,
            centre_duties__township=township,
            centre_duties__department=department,
        ):
            people.setdefault(person.pk, person)
    return list(people.values())


def people_with_role(role: str, jurisdiction: Jurisdiction | None) -> list[Person]:
    """The active people who hold the role in the jurisdiction, as the process keeps them
    (`whistle.organisation.directory`): enough of each person to tell them."""
    return directory.people_with_role(role, jurisdiction.pk if jurisdiction is not None else None)


def lane_chiefs(lane_id: int | None) -> list[Person]:
    """The active lane and street chiefs of a lane (none without one), as the process keeps
    them (`whistle.organisation.directory`)."""
    if lane_id is None:
        return []
    return list(directory.lane_chiefs([lane_id])[lane_id])


# The sources of reports made for someone outside the process: a resident (at the township's
# desk or on the street pages), a hotline caller, a work order of another channel.
FOR_SOMEONE_ELSE = (Case.Source.RESIDENT, Case.Source.HOTLINE, Case.Source.OTHER)


def _report_event(case: Case, person: Person) -> Event | None:
    """The case's report event, when it is `person`'s."""
    return (
        case.events.filter(kind=EventKind.CASE_REPORTED, actor=person)
        .only("actor_role", "data")
        .first()
    )


def reported_as_resident(case: Case, person: Person) -> bool:
    """Whether `person` reported the case as a resident, with their own account: the trail's
    report event is theirs, in the role of a resident. A dispatcher who typed in a
    resident's report is its reporter, not the resident."""
    if case.source != Case.Source.RESIDENT:
        return False
    event = _report_event(case, person)
    return event is not None and event.actor_role == Role.RESIDENT


def gave_the_order(event: Event) -> bool:
    """Whether the report event of an order from above (`Case.Source.SUPERIOR`) is the order
    given: taken in by the district's chief or chiefs' office, in a role held for the district
    (the event's `role_scope`; an event written before it was recorded counts by its role, so
    the district chief, whose role is the district's alone, gave the order, and a chiefs'
    office, which may be the township's, did not). A township's dispatcher, chief or chiefs'
    office who typed in an order a superior sent did not give it."""
    scope = event.data.get("role_scope") if isinstance(event.data, dict) else None
    if scope is None:
        scopes = ROLE_SCOPES.get(event.actor_role, ())
        scope = scopes[0] if len(scopes) == 1 else None
    return scope == Scope.DISTRICT


def reported_for_themselves(case: Case, person: Person) -> bool:
    """Whether the case's report is `person`'s own, not typed in by them for someone else:
    a report for someone outside the process (`FOR_SOMEONE_ELSE`) only when they reported it
    as a resident (`reported_as_resident`), an order from above only when they gave it
    (`gave_the_order`), any other report always."""
    if case.source in FOR_SOMEONE_ELSE:
        return reported_as_resident(case, person)
    if case.source == Case.Source.SUPERIOR:
        event = _report_event(case, person)
        return event is not None and gave_the_order(event)
    return True


def reporter_to_tell(case: Case, actor: Person | None) -> list[Person]:
    """The person who reported the case, to be told what becomes of their report (none
    without an account): not the one acting, who knows, such as a dispatcher who reports a
    problem and files it. A report typed in for someone else — a resident at the desk, a
    caller on the phone, another channel's work order, an order a superior sent — is theirs,
    not the typist's: the staff who typed it in are not told as its reporter (their role's
    messages reach them as ever). Only a resident who reported with their own account, and
    the district's chief or chiefs' office who gave an order from above, are
    (`reported_for_themselves`)."""
    reporter = case.reporter
    if reporter is None or (actor is not None and reporter.pk == actor.pk):
        return []
    if not reported_for_themselves(case, reporter):
        return []
    return [reporter]


def notify(
    people: Iterable[Person | None],
    event: Event,
    subject: str | Promise,
    body: str | Promise,
    *,
    channels: list[str] | None = None,
    urgent: bool | None = None,
    outbox: Outbox | None = None,
    link: str | None = None,
    **params: Any,
) -> None:
    """Queue one message about a trail event, in the deployment's language, to each person
    (at most once each). Queued in the action's transaction: a rolled-back action sends
    nothing. `channels` narrows where it goes (the outbox's channels); `urgent` marks a
    message that goes out at any hour (a whistle, an escalation). With `outbox` the rows
    wait there for the action's one insert of all its messages (`Outbox.flush`). The
    message links to the event's case page (`event_link`) unless `link` names the page
    where its readers act (the assessment's appeals)."""
    recipients = {p.pk: p for p in people if p is not None}
    if not recipients:
        return
    case = event.case
    payload: dict[str, Any] = {"case": case.reference, "seq": event.seq, "kind": event.kind}
    message = texts.kept(subject, {"case": case.reference, **params}, body=body)
    if message is not None:
        payload[texts.KEY] = message
    with translation.override(settings.LANGUAGE_CODE):
        values = {k: str(v) for k, v in params.items()}
        values.setdefault("case", case.reference)
        (notify_many if outbox is None else outbox.notify_many)(
            recipients.values(),
            kind=event.kind,
            subject=str(subject) % values,
            body=str(body) % values,
            link=event_link(event) if link is None else link,
            dedupe_key=event_key(event.hash),
            payload=payload,
            channels=channels,
            urgent=urgent,
        )


def write_outbox(outbox: Outbox) -> None:
    """Insert the outbox's queued rows in the action's transaction, as `Outbox.flush` does
    (a row whose recipient, channel and dedupe key are taken is skipped), from plain values
    prepared once per column instead of model instances (`insert_values`)."""
    values = outbox_values(outbox)
    if values is not None:
        values.insert()


def outbox_values(outbox: Outbox) -> Values | None:
    """The outbox's queued rows as plain values, to be inserted as `write_outbox` inserts
    them (None: nothing queued)."""
    rows = outbox.take_values()
    if not rows:
        return None
    return Values(Notification, tuple(ROW_FIELDS), list(rows), ignore_conflicts=True)


def changes(**pairs: tuple[Any, Any]) -> dict[str, list[Any]]:
    """Before and after values for the trail: {"status": ["filed", "whistled"], ...}."""
    return {name: [before, after] for name, (before, after) in pairs.items()}


# Messages written before their typed text brought its own full stop (`texts.Sentence`) and
# before a whistle's message was one sentence per kind: the inbox entries that keep them are
# still shown in the reader's language.
EARLIER_TEXTS = (
    gettext_noop(
        "%(township)s blew a %(kind)s for case %(case)s: %(description)s. Meet at "
        "%(place)s. Acknowledge by %(acknowledge)s, arrive by %(arrive)s, resolve by "
        "%(resolve)s."
    ),
    gettext_noop(
        "%(township)s dispatched case %(case)s: %(description)s. Acknowledge by "
        "%(acknowledge)s, resolve by %(resolve)s."
    ),
    gettext_noop(
        "%(department)s says case %(case)s is not its responsibility: %(reason)s. Rule on it."
    ),
    gettext_noop("The check on site of case %(case)s failed: %(reason)s. New deadlines are set."),
)
