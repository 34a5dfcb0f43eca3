"""Work orders (接诉即办): the township takes an order of the 12345 hotline, or one handed
down by a superior, and replies to the caller. The call-back is `record_resident_callback`.

An order becomes a case in the normal workflow (reported, then filed, whistled, closed…)
with the order's number, its channel and the two limits of its deadline class: the reply
to the caller by `respond_due_at` (the sweep records it overdue) and the resolution by
`resolve_due_at`. An order number is taken once per district: a second intake of the same
number, even at the same moment, returns the case of the first. An order from another
channel (a caller who phoned the township itself) may come without a number: the intake
gives it one (`assign_order_number`). The caller's phone is kept in its normal form
(`clean_caller_phone`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from whistle.cases.actions._common import (
    DESCRIPTION_MAX,
    RESULT_MAX,
    PhotoBatch,
    atomic,
    clean_accuracy,
    clean_caller_phone,
    clean_position,
    clean_text,
    deadline,
    iso,
    local_text,
    minutes_late,
    moment,
    notify,
    people_with_role,
    record,
)
from whistle.cases.actions.intake import (
    DISTRICT_REPORTERS,
    TOWNSHIP_REPORTERS,
    _clean_category,
    _locate_or_refuse,
    _open_case,
    _write_filing,
)
from whistle.cases.deadlines import next_reply_check
from whistle.cases.errors import ActionRefused, InvalidInput, PermissionRefused
from whistle.cases.hotline import ANSWERS_MAX, HOTLINE_PLATFORM_ROLE, answered_orders, queue_answer
from whistle.cases.models import Case, HotlineOrder, OrderNumberSequence
from whistle.cases.permissions import (
    Scoped,
    request_handled,
    require,
    require_grant,
    require_role,
)
from whistle.cases.rows import new_row
from whistle.cases.rules import hotline_deadline_classes
from whistle.cases.trail import EventKind, lock_case
from whistle.cases.trail import clock_skew as trail_clock_skew
from whistle.notifications.outbox import Outbox
from whistle.organisation import directory, personal_data, places
from whistle.organisation.models import Jurisdiction, Person, Role
from whistle.policies.models import Category, HotlineDeadlineClass

Channel = HotlineOrder.Channel

# The case's source for each channel.
CASE_SOURCES = {
    Channel.HOTLINE: Case.Source.HOTLINE,
    Channel.SUPERIOR: Case.Source.SUPERIOR,
    Channel.OTHER: Case.Source.OTHER,
}
# The channels' values, looked up at each intake.
CHANNELS = frozenset(Channel.values)
# Letters, digits and the separators order numbers are written with; no spaces.
ORDER_NUMBER = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._/-]{0,63}$")


@dataclass(frozen=True)
class TakenOrder:
    """The case of an order, and whether this intake created it (False: the order number
    was taken before, and this is that case)."""

    case: Case
    order: HotlineOrder
    created: bool


def clean_order_number(value: Any) -> str:
    number = clean_text(value, "number", _("The order number"), max_length=64, required=False)
    if not number:
        raise InvalidInput(
            "number",
            _(
                "An order of the 12345 hotline or from a superior has a number: give it. "
                "Only an order from another channel may come without one."
            ),
        )
    if not ORDER_NUMBER.match(number):
        raise InvalidInput(
            "number",
            _(
                "%(number)s is not an order number: letters and digits, with . _ / - between "
                "them, no spaces."
            ),
            number=number,
        )
    return number


def check_order_number(channel: Any, value: Any) -> str:
    """The order's number as it is kept, or "" for an order from another channel given
    without one (numbered at its intake)."""
    return clean_order_number(value) if _number_given(channel, value) else ""


def check_caller_given(channel: Any, caller_name: str, caller_phone: str) -> None:
    """A 12345 order needs the caller's name or phone."""
    if channel == Channel.HOTLINE and not (caller_name or caller_phone):
        raise InvalidInput(
            "caller_name", _("Give the name or the phone number of the person who called.")
        )


def _number_given(channel: str, value: Any) -> bool:
    """Whether the order comes with a number of its own: always from the hotline and from a
    superior; from another channel, unless it was left empty."""
    if channel != Channel.OTHER:
        return True
    return not (value is None or (isinstance(value, str) and not value.strip()))


def _next_in_sequence(township: Jurisdiction, day: date) -> int:
    """The next number of the township's sequence on `day` (1 on a new day): one statement
    that inserts the township's row or moves it on, and holds it until the transaction
    ends, so that an intake at the same moment waits and takes the number after."""
    connection = connections[router.db_for_write(OrderNumberSequence)]
    quote = connection.ops.quote_name
    table = quote(OrderNumberSequence._meta.db_table)
    column = {f.name: quote(f.column) for f in OrderNumberSequence._meta.fields}
    township_id, on, last = column["township"], column["day"], column["last"]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({township_id}, {on}, {last}) VALUES (%s, %s, 1) "
            f"ON CONFLICT ({township_id}) DO UPDATE SET "
            f"{last} = CASE WHEN {table}.{on} = excluded.{on} THEN {table}.{last} + 1 ELSE 1 END, "
            f"{on} = excluded.{on} RETURNING {last}",
            [township.pk, connection.ops.adapt_datefield_value(day)],
        )
        row = cursor.fetchone()
    return int(row[0])


def assign_order_number(township: Jurisdiction, now: datetime) -> str:
    """A number for an order that came without one, unique in the district and readable:
    the township's code, the day (Beijing time) and the day's sequence,
    110101015-20260512-001. Run inside the intake's transaction; a number the district
    already holds (typed in by hand) is passed over."""
    day = timezone.localdate(now)
    while True:
        sequence = _next_in_sequence(township, day)
        number = f"{township.code}-{day:%Y%m%d}-{sequence:03d}"
        taken = HotlineOrder.objects.filter(district_id=township.parent_id, number=number)
        if not taken.exists():
            return number


def deadline_class_for(district: Any, code: Any) -> HotlineDeadlineClass:
    """The district's deadline class by its code; its default class when none is given."""
    classes = hotline_deadline_classes(district)
    if code in (None, ""):
        chosen = next((c for c in classes if c.is_default), None)
        if chosen is None:
            raise InvalidInput("deadline_class", _("Choose the order's deadline class."))
        return chosen
    chosen = next((c for c in classes if c.code == code), None)
    if chosen is None:
        raise InvalidInput(
            "deadline_class",
            _("%(code)s is not a deadline class of this district; the classes are: %(classes)s."),
            code=code,
            classes=_(", ").join(f"{c.name} ({c.code})" for c in classes),
        )
    return chosen


def clean_called_at(value: Any, now: datetime) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInput("called_at", _("Give the time of the call with its time zone."))
    if value > now + trail_clock_skew():
        raise InvalidInput("called_at", _("The time of the call lies in the future."))
    return value


def _existing(district: Any, number: str) -> TakenOrder | None:
    # A new number is the common case: ask for the key alone, read the order only if found.
    found = list(
        HotlineOrder.objects.filter(district=district, number=number)
        .order_by()
        .values_list("pk", flat=True)[:1]
    )
    if not found:
        return None
    order = HotlineOrder.objects.select_related("case", "district").get(pk=found[0])
    return TakenOrder(order.case, order, created=False)


@directory.pinned_with_map()
def take_hotline_order(
    actor: Person | None,
    *,
    number: str,
    description: str,
    lon: float,
    lat: float,
    channel: str = Channel.HOTLINE,
    deadline_class: str | None = None,
    accuracy_m: float | None = None,
    address: str = "",
    category: Category | None = None,
    caller_name: str = "",
    caller_phone: str = "",
    called_at: datetime | None = None,
    photos: Any = None,
    now: datetime | None = None,
    look_first: bool = False,
) -> TakenOrder:
    """The township takes a work order: a case, reported, with the order beside it.

    Taken by the dispatchers, the township chief of lanes or the chiefs' office of the
    township where the problem lies, or by the district's chief or chiefs' office; or, with
    no `actor`, handed over by the hotline platform itself (an import of its export). A 12345
    order needs the caller's name or phone; the trail records neither, only a commitment to
    them (`whistle.organisation.personal_data`); the phone is kept in its normal form, and
    a number that is neither a mobile nor a fixed line with its area code is refused
    (`clean_caller_phone`). The order's limits follow from its deadline class (the
    district's default class when none is given), counted from now.

    An order from another channel given without a number is numbered in the intake's
    transaction (`assign_order_number`); it is a new order at every intake.

    Idempotent by order number within the district: when the number was taken before, the
    earlier case is returned (`created` False) and nothing is written, also when two
    intakes of one number run at once. The database's unique constraint decides: a new
    number, the common case, costs no read before the insert, and a number taken before
    rolls back what its intake wrote. With `look_first` (a batch, where numbers taken
    before are common: an export read again) or photos (stored before the insert), the
    number is looked up first.
    """
    now = moment(now)
    if not isinstance(channel, str) or channel not in CHANNELS:
        raise InvalidInput(
            "channel",
            _("Choose where the order comes from: %(channels)s."),
            channels=_(", ").join(str(label) for label in Channel.labels),
        )
    # Empty: the order is numbered inside the transaction.
    number = check_order_number(channel, number)
    description = clean_text(
        description, "description", _("The description"), max_length=DESCRIPTION_MAX
    )
    position = clean_position(lon, lat)
    accuracy = clean_accuracy(accuracy_m)
    address = clean_text(address, "address", _("The address"), max_length=200, required=False)
    caller_name = clean_text(
        caller_name, "caller_name", _("The caller's name"), max_length=60, required=False
    )
    caller_phone = clean_caller_phone(caller_phone)
    check_caller_given(channel, caller_name, caller_phone)
    called_at = clean_called_at(called_at, now)
    location = _locate_or_refuse(*position)
    district = location.district
    if actor is None:
        role, role_scope = HOTLINE_PLATFORM_ROLE, ""
    else:
        role, scope = require_grant(
            actor,
            _("take a work order here"),
            Scoped(TOWNSHIP_REPORTERS, jurisdiction=location.township),
            Scoped(DISTRICT_REPORTERS, jurisdiction=district),
        )
        role_scope = scope.level
    if number and (look_first or photos):
        # Photos are stored before the order's insert: not for a number taken before.
        existing = _existing(district, number)
        if existing is not None:
            return existing
    try:
        category = _clean_category(category, district)
        limits = deadline_class_for(district, deadline_class)
        respond_due_at = deadline(now, limits.respond_within, limits.respond_unit, district).at
        resolve_due_at = deadline(now, limits.resolve_within, limits.resolve_unit, district).at
        batch = PhotoBatch(photos)
    except ActionRefused:
        # A number taken before returns its case, whatever else this intake says.
        existing = _existing(district, number) if number else None
        if existing is None:
            raise
        return existing
    salt = personal_data.new_salt()
    outbox = Outbox()
    given = bool(number)
    try:
        with atomic(batch):
            if not given:
                assert location.township is not None  # `_locate_or_refuse` found one
                number = assign_order_number(location.township, now)
            case, event = _open_case(
                outbox=outbox,
                actor=actor,
                role=role,
                source=CASE_SOURCES[Channel(channel)],
                location=location,
                description=description,
                position=position,
                accuracy_m=accuracy,
                address=address,
                category=category,
                photos=batch,
                reporter_name=caller_name,
                reporter_phone=caller_phone,
                external_id=number,
                role_scope=role_scope,
                now=now,
                reporter_in_trail={
                    "caller": personal_data.commitment(salt, caller_name, caller_phone)
                },
                order_data={
                    "channel": channel,
                    "deadline_class": limits.code,
                    "deadline_class_name": limits.name,
                    "respond_due_at": iso(respond_due_at),
                    "resolve_due_at": iso(resolve_due_at),
                    "called_at": iso(called_at),
                },
                order_due={"respond_due_at": respond_due_at, "resolve_due_at": resolve_due_at},
                deferred=True,
            )
            order = new_row(
                HotlineOrder,
                case=case,
                district=district,
                channel=channel,
                number=number,
                deadline_class=limits.code,
                deadline_class_name=limits.name,
                called_at=called_at,
                received_at=now,
                respond_due_at=respond_due_at,
                resolve_due_at=resolve_due_at,
                caller_salt=salt if (caller_name or caller_phone) else "",
            )
            order.reply_check_at = next_reply_check(order)
            notify(
                people_with_role(Role.DISPATCHER, case.township),
                event,
                _("Work order %(number)s: reply to the caller by %(due)s (case %(case)s)"),
                _("%(place)s: %(description)s"),
                number=number,
                due=local_text(respond_due_at),
                place=case.lane or case.township,
                description=description[:140],
                outbox=outbox,
            )
            _write_filing(case, event, outbox, order)
    except IntegrityError:
        # The number was taken before, or by another intake that committed first: the
        # order's unique number refused the insert, and everything this intake wrote is
        # rolled back. A number this intake gave is no earlier order's.
        existing = _existing(district, number) if given else None
        if existing is None:
            raise
        return existing
    return TakenOrder(case, order, created=True)


def clean_reply_kind(value: Any) -> str:
    if not isinstance(value, str) or value not in HotlineOrder.ReplyKind.values:
        raise InvalidInput(
            "kind",
            _("Say what the reply is: %(kinds)s."),
            kinds=_(", ").join(str(label) for label in HotlineOrder.ReplyKind.labels),
        )
    return value


def clean_final_reply_kind(value: Any) -> str:
    final = [HotlineOrder.ReplyKind(kind) for kind in HotlineOrder.FINAL_REPLY_KINDS]
    if not isinstance(value, str) or value not in {kind.value for kind in final}:
        raise InvalidInput(
            "kind",
            _("Say what the result is: %(kinds)s."),
            kinds=_(", ").join(str(kind.label) for kind in final),
        )
    return value


# How far past the order's resolve deadline (or now, when that has passed) a reply "in
# progress" may promise the result: beyond it the time is taken for a mistake.
PROMISE_BEYOND = timedelta(days=90)


def clean_promised_by(value: Any, kind: str, order: HotlineOrder, now: datetime) -> datetime | None:
    """The time a reply "in progress" promises the result by: required for that kind, in
    the future, at most `PROMISE_BEYOND` after the order's resolve deadline (or after now,
    once that has passed); refused with any other kind, which gives the result itself."""
    if kind != HotlineOrder.ReplyKind.IN_PROGRESS:
        if value not in (None, ""):
            raise InvalidInput(
                "promised_by",
                _(
                    "Only a reply “in progress” says by when the result comes: leave the time "
                    "out, or choose “in progress”."
                ),
            )
        return None
    if value in (None, ""):
        raise InvalidInput(
            "promised_by",
            _("Say by when the township expects to be done: a reply “in progress” needs it."),
        )
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInput(
            "promised_by", _("Give the time the result is promised by with its time zone.")
        )
    if value <= now:
        raise InvalidInput("promised_by", _("The time the result is promised by has passed."))
    latest = max(order.resolve_due_at, now) + PROMISE_BEYOND
    if value > latest:
        raise InvalidInput(
            "promised_by",
            _(
                "%(promised)s is too far off: promise the result by %(latest)s at the latest "
                "(%(days)s days after the order's resolve deadline)."
            ),
            promised=local_text(value),
            latest=local_text(latest),
            days=PROMISE_BEYOND.days,
        )
    return value


def usual_reply_kind(case: Case) -> str:
    """The kind a reply to the caller usually is, where nobody chose one (the reply form's
    first choice, an API call without `kind`): done once the township is done with the case
    (`request_handled`), in progress before."""
    if request_handled(case):
        return HotlineOrder.ReplyKind.DONE
    return HotlineOrder.ReplyKind.IN_PROGRESS


def usual_promise(case: Case, now: datetime | None = None) -> datetime | None:
    """The time a reply "in progress" usually promises the result by, where nobody chose
    one (the reply form's first value, an API call without `kind`): the order's resolve
    deadline while it is ahead; None once it has passed, when the township must say."""
    order = HotlineOrder.objects.filter(case=case).only("resolve_due_at").first()
    if order is None or order.resolve_due_at <= moment(now):
        return None
    return order.resolve_due_at


def _locked_order(case: Case) -> HotlineOrder:
    order = (
        HotlineOrder.objects.select_for_update(of=("self",))
        .select_related("district")
        .get(case=case)
    )
    order.case = case
    return order


def _save_answer(order: HotlineOrder, now: datetime, **fields: Any) -> None:
    """Store a reply's fields on the order with the moment the platform's answer changed,
    and the sweep's next look at it (`next_reply_check`)."""
    for name, value in fields.items():
        setattr(order, name, value)
    order.answered_at = now
    order.reply_check_at = next_reply_check(order)
    order.save(update_fields=[*fields, "answered_at", "reply_check_at"])


def record_hotline_reply(
    actor: Person,
    case: Case,
    *,
    kind: str,
    reply: str,
    promised_by: datetime | None = None,
    now: datetime | None = None,
) -> Case:
    """The township's reply to the caller (反馈), saying what it is (`kind`): done, with the
    result (办理结果); in progress, with what is being done and, in `promised_by`, by when
    the township expects to be done (`clean_promised_by`); not the township's duty, with
    whose it is; or cannot be solved for now, with why. Any kind is the response the
    order's respond limit asks for: on time when recorded by it. Once per order, by the
    township's dispatchers or chief of lanes. The hotline platform is sent the order's
    answer. The caller is called back once the request is handled: a final kind, the final
    reply after "in progress" (`record_hotline_final_reply`), or the case resolved
    (`record_resident_callback`)."""
    now = moment(now)
    kind = clean_reply_kind(kind)
    reply = clean_text(reply, "reply", _("The reply"), max_length=RESULT_MAX)
    with atomic():
        case = lock_case(case.pk)
        role = require(actor, "record_hotline_reply", case)
        order = _locked_order(case)
        promised_by = clean_promised_by(promised_by, kind, order, now)
        late = minutes_late(now, order.respond_due_at)
        _save_answer(
            order,
            now,
            replied_at=now,
            reply=reply,
            reply_kind=kind,
            promised_by=promised_by,
        )
        data: dict[str, Any] = {
            "order": order.number,
            "reply_kind": kind,
            "reply": reply,
            "respond_due_at": iso(order.respond_due_at),
            "on_time": late == 0,
            "minutes_late": late,
        }
        if promised_by is not None:
            data["promised_by"] = iso(promised_by)
        event = record(case, EventKind.HOTLINE_REPLIED, actor=actor, role=role, at=now, data=data)
        queue_answer(order, "reply", event.seq)
    return case


def record_hotline_final_reply(
    actor: Person, case: Case, *, kind: str, reply: str, now: datetime | None = None
) -> Case:
    """The result given to the caller (办结反馈) after a reply "in progress": done, with the
    result; not the township's duty, with whose it is; or cannot be solved for now, with
    why. Once per order, by those who give the reply. The first reply stays the response:
    the reply deadline and the response rate read it, not this one. The request is then
    handled (`request_handled`): the caller may be called back. The hotline platform is
    sent the order's answer."""
    now = moment(now)
    kind = clean_final_reply_kind(kind)
    reply = clean_text(reply, "reply", _("The reply"), max_length=RESULT_MAX)
    with atomic():
        case = lock_case(case.pk)
        role = require(actor, "record_hotline_final_reply", case)
        order = _locked_order(case)
        _save_answer(order, now, final_replied_at=now, final_reply=reply, final_reply_kind=kind)
        promised_by = order.promised_by
        event = record(
            case,
            EventKind.HOTLINE_FINAL_REPLIED,
            actor=actor,
            role=role,
            at=now,
            data={
                "order": order.number,
                "reply_kind": kind,
                "reply": reply,
                "promised_by": iso(promised_by),
                "promise_kept": promised_by is None or now <= promised_by,
            },
        )
        queue_answer(order, "final_reply", event.seq)
    return case


@dataclass(frozen=True)
class OrderProblem:
    """What is wrong with one order of a batch: its place in the batch (a file's row
    number, a list's index), the field the action names (empty: the order as a whole), the
    message, and whether the refusal is for who took it rather than for the order."""

    at: int
    field: str
    message: str
    refused: bool = False


@dataclass
class HotlineBatch:
    """The outcome of a batch of orders: each order's case in the batch's order (with
    `created` False for a number taken before), and the problems. With any problem nothing
    was written and `orders` is empty."""

    orders: list[TakenOrder] = field(default_factory=list)
    problems: list[OrderProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class _Discard(Exception):
    """Raised to roll the whole batch back when an order is bad."""


@places.batch()
def take_hotline_orders(
    actor: Person | None,
    orders: Iterable[tuple[int, Callable[[], dict[str, Any]]]],
    *,
    district: Jurisdiction | None = None,
    now: datetime | None = None,
) -> HotlineBatch:
    """Take a batch of orders in one transaction: all of them, or none when any order is
    bad, and then every bad order is reported. Each order is given by its place in the
    batch and a function that makes the arguments of `take_hotline_order` (reading them
    may itself find the order bad). Every order is taken by `take_hotline_order`, so it is
    checked, scoped, recorded and idempotent by its number exactly as one typed in; a
    number taken before, also earlier in the same batch, returns its case. With `district`,
    an order placed in another district is refused. The orders are located on one map, its
    revision token read once for the batch (`places.batch`)."""
    outcome = HotlineBatch()
    try:
        with transaction.atomic():
            for at, arguments in orders:
                try:
                    taken = take_hotline_order(actor, **arguments(), now=now, look_first=True)
                except ActionRefused as refused:
                    outcome.problems.append(
                        OrderProblem(
                            at,
                            getattr(refused, "field", ""),
                            str(refused),
                            refused=isinstance(refused, PermissionRefused),
                        )
                    )
                    continue
                if district is not None and taken.order.district_id != district.pk:
                    outcome.problems.append(
                        OrderProblem(
                            at,
                            "position",
                            str(_("The place lies outside %(district)s.")) % {"district": district},
                        )
                    )
                    continue
                outcome.orders.append(taken)
            if outcome.problems:
                raise _Discard
    except _Discard:
        outcome.orders = []
    return outcome


def read_hotline_answers(
    actor: Person,
    district: Jurisdiction,
    since: datetime | None = None,
    *,
    after_order: uuid.UUID | None = None,
    limit: int = ANSWERS_MAX,
) -> list[HotlineOrder]:
    """The answers the hotline platform pulls (`answered_orders`): for those who hand the
    district's orders over, the district's chief of lanes and chiefs' office (the
    platform's own account holds the latter). The answers hold no personal data."""
    require_role(
        actor,
        _("read the answers to the district's work orders"),
        Scoped(DISTRICT_REPORTERS, jurisdiction=district),
    )
    return answered_orders(district, since, after_order=after_order, limit=limit)
