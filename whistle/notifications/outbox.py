"""Queue notifications inside the caller's transaction, and read the in-app inbox.

Queueing only inserts rows. Nothing leaves the system until the caller's transaction has
committed and the worker's delivery sweep picks the rows up, so a rolled-back action sends
nothing. The in-app row is the inbox entry itself and counts as delivered once committed.

Outside the inbox a person gets each message on one channel: the first of their own order
of channels (their settings page; without one, ``WHISTLE_NOTIFY_CHANNEL_ORDER``) they can be
reached on. The row remembers the channels after it; if delivery there fails, the worker
queues the message on the next one. A message of a kind that is not urgent waits there until
the person's quiet hours end; the inbox entry is written at once whatever the hour. The
work-chat group robots of the recipients' departments and townships get one message each,
besides.
"""

from __future__ import annotations

import hashlib
import operator
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections, router
from django.db.models import (
    Case,
    DateTimeField,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from whistle.notifications import audiences, texts
from whistle.notifications.conf import OUTSIDE_CHANNELS, channel_order, setting
from whistle.notifications.kinds import is_urgent
from whistle.notifications.models import (
    Channel,
    GroupRobot,
    InboxRead,
    InboxReadThrough,
    Notification,
    NotificationPreference,
    PushSubscription,
    Status,
    WebhookEndpoint,
)
from whistle.organisation import directory
from whistle.organisation.models import CentreMembership, Jurisdiction, Person, RoleAssignment

# The channels a person can be reached on.
PERSON_CHANNELS: tuple[str, ...] = (Channel.INBOX, Channel.PUSH, Channel.SMS, Channel.EMAIL)
# What a caller may ask for: a person's channels, and the groups the recipients belong to.
QUEUEABLE_CHANNELS: tuple[str, ...] = (*PERSON_CHANNELS, Channel.ROBOT)

# A person's key, read as the attribute it is (`Model.pk` is a property that looks the
# field up again on every call; a chunk of the deadline sweep asks tens of thousands of times).
_key = operator.attrgetter(Person._meta.pk.attname)

# Lengths of the text columns a caller fills in, checked before the insert.
_LIMITS = {
    name: Notification._meta.get_field(name).max_length or 0  # type: ignore[union-attr]
    for name in ("kind", "subject", "link", "dedupe_key", "audience")
}


def notify(
    recipient: Person,
    *,
    kind: str,
    subject: str,
    body: str,
    link: str = "",
    channels: Iterable[str] | None = None,
    dedupe_key: str | None = None,
    payload: dict[str, Any] | None = None,
    urgent: bool | None = None,
) -> None:
    """Queue one message to one person: the inbox entry, the first outside channel of the
    person's order they can be reached on (the rest kept for falling through; held until
    their quiet hours end unless the kind is urgent), and the robots of the person's groups.

    ``channels`` narrows the choice (the person's reach and preferences still apply);
    ``dedupe_key`` names the event so that queueing it again, by any process, adds nothing;
    ``urgent`` marks a message that must go out at any hour (a whistle, an escalation);
    left out, the kind decides (`kinds.is_urgent`), so a caller may say a routine summons is not.
    """
    notify_many(
        [recipient],
        kind=kind,
        subject=subject,
        body=body,
        link=link,
        channels=channels,
        dedupe_key=dedupe_key,
        payload=payload,
        urgent=urgent,
    )


def notify_many(
    recipients: Iterable[Person],
    *,
    kind: str,
    subject: str,
    body: str,
    link: str = "",
    channels: Iterable[str] | None = None,
    dedupe_key: str | None = None,
    payload: dict[str, Any] | None = None,
    urgent: bool | None = None,
    audience: str | None = None,
) -> None:
    """:func:`notify` for several people at once, in one insert. With ``audience`` (a key of
    `whistle.notifications.audiences`, the audience the recipients make up) their inbox
    entry is one, shared by the audience; outside the inbox each still gets their own."""
    outbox = Outbox()
    outbox.notify_many(
        recipients,
        kind=kind,
        subject=subject,
        body=body,
        link=link,
        channels=channels,
        dedupe_key=dedupe_key,
        payload=payload,
        urgent=urgent,
        audience=audience,
    )
    outbox.flush()


def notify_webhooks(event_kind: str, payload: dict[str, Any], dedupe_key: str) -> None:
    """Queue one signed POST of ``payload`` to every active endpoint that wants the event."""
    outbox = Outbox()
    outbox.notify_webhooks(event_kind, payload, dedupe_key)
    outbox.flush()


@dataclass
class _Message:
    people: list[Person]
    requested: list[str]
    fields: dict[str, Any]
    now: datetime
    audience: str | None = None


@dataclass
class _Webhook:
    kind: str
    payload: dict[str, Any]
    dedupe_key: str
    now: datetime


class Outbox:
    """Messages queued by one transaction's work and written together.

    Each message is checked when it is queued, as :func:`notify_many` checks it; `flush`
    then looks up the recipients' preferences, push subscriptions and group robots and the
    webhook endpoints once for all of them (as the process keeps them under the directory's
    token, `whistle.organisation.directory`), and inserts every row at once. The deadline
    sweep queues a chunk's messages here; a single action's message goes through the same
    path with one message.
    """

    def __init__(self) -> None:
        self._messages: list[_Message] = []
        self._webhooks: list[_Webhook] = []
        # The active endpoints as read once for the queued webhooks (`_endpoints`), and
        # whether any of them wants each kind of event.
        self._endpoints_read: tuple[WebhookEndpoint, ...] | None = None
        self._offered: dict[str, bool] = {}

    def notify_many(
        self,
        recipients: Iterable[Person],
        *,
        kind: str,
        subject: str,
        body: str,
        link: str = "",
        channels: Iterable[str] | None = None,
        dedupe_key: str | None = None,
        payload: dict[str, Any] | None = None,
        urgent: bool | None = None,
        now: datetime | None = None,
        audience: str | None = None,
    ) -> None:
        """Queue :func:`notify_many`'s message, to be written by `flush`. Its moment (the
        rows' creation, and the sending of those sent at once) is `now`, given by a caller
        that queues several messages of one moment, or the clock's."""
        people = list({_key(person): person for person in recipients}.values())
        requested = _requested_channels(channels)
        _check_lengths(kind=kind, link=link, dedupe_key=dedupe_key)
        if audience is not None and len(audience) > _LIMITS["audience"]:
            raise ValueError(f"audience is longer than {_LIMITS['audience']} characters")
        if not people:
            return
        if len(subject) > _LIMITS["subject"]:
            subject = subject[: _LIMITS["subject"] - 1] + "…"
        fields = {
            "kind": kind,
            "subject": subject,
            "body": body,
            "link": link,
            "payload": payload,
            "dedupe_key": dedupe_key,
            "urgent": is_urgent(kind) if urgent is None else urgent,
        }
        self._messages.append(
            _Message(people, requested, fields, timezone.now() if now is None else now, audience)
        )

    def offers_webhooks(self, event_kind: str) -> bool:
        """Whether an active endpoint wants events of this kind: a caller that queues many
        events need not make the payloads of those nobody receives. The endpoints are read
        once (one read of the directory's token, in the caller's transaction), and the
        queued webhooks' rows are made for the same endpoints; the next outbox, or this one
        after `take_rows`, reads them again."""
        offered = self._offered.get(event_kind)
        if offered is None:
            wanting = (endpoint.wants(event_kind) for endpoint in self._endpoints())
            offered = self._offered[event_kind] = any(wanting)
        return offered

    def _endpoints(self) -> tuple[WebhookEndpoint, ...]:
        if self._endpoints_read is None:
            self._endpoints_read = directory.kept(("webhook_endpoints",), _active_endpoints)
        return self._endpoints_read

    def notify_webhooks(self, event_kind: str, payload: dict[str, Any], dedupe_key: str) -> None:
        """Queue :func:`notify_webhooks`' POST, to be written by `flush`."""
        _check_lengths(kind=event_kind, link="", dedupe_key=dedupe_key)
        self._webhooks.append(_Webhook(event_kind, payload, dedupe_key, timezone.now()))

    def flush(self) -> None:
        """Insert every queued row, in the caller's transaction, and start empty again."""
        rows = self.take_rows()
        if rows:
            Notification.objects.bulk_create(rows, ignore_conflicts=True)

    def take_rows(self) -> list[Notification]:
        """The rows `flush` would insert, not saved, and start empty again: for a caller that
        writes them its own way (`take_values` gives them as plain values). A row whose
        recipient, channel and dedupe key are already taken must be skipped, not refused."""
        rows = [*self._message_rows(_row), *self._webhook_rows(_row)]
        self._start_again()
        return rows

    def take_values(self) -> list[tuple[Any, ...]]:
        """`take_rows` as plain values of `ROW_FIELDS` (ids for the recipient, endpoint and
        robot), no model instance made: for `whistle.cases.bulk.insert_values`."""
        rows = [*self._message_rows(_values), *self._webhook_rows(_values)]
        self._start_again()
        return rows

    def _start_again(self) -> None:
        self._messages, self._webhooks = [], []
        self._endpoints_read, self._offered = None, {}

    def _message_rows(self, make: Any) -> list[Any]:
        if not self._messages:
            return []
        ids = list({_key(person) for message in self._messages for person in message.people})
        # Preferences, subscriptions and robots as the process keeps them while the
        # directory's token stands (`whistle.organisation.directory`).
        kept = directory.generation()
        preferences = _preferences(kept, ids)
        wants_push = any(Channel.PUSH in message.requested for message in self._messages)
        push_ready = wants_push and bool(setting("WHISTLE_VAPID_PRIVATE_KEY"))
        subscribed = _subscribed(kept, ids) if push_ready else set()
        robots: dict[frozenset[int], list[GroupRobot]] = {}
        # A person's channels for the messages asking for the same ones, chosen once.
        chosen: dict[tuple[int, bool, tuple[str, ...]], list[str]] = {}
        rows: list[Any] = []
        for message in self._messages:
            requested, now, fields = message.requested, message.now, message.fields
            asked = tuple(requested)
            inbox = Channel.INBOX in requested
            asks_push = Channel.PUSH in requested
            # The message's own words (`texts.KEY`) are for the inbox, which shows them in
            # the reader's language; what goes outside carries the text as written.
            outside_fields = _without_words(fields)
            if inbox and message.audience is not None:
                # One entry that the audience shares, in place of one for each of them.
                rows.append(
                    make(Channel.INBOX, audience=message.audience, address="", now=now, **fields)
                )
                inbox = False
            # As values, the message's inbox rows differ only in their recipient: made once.
            template = (
                _values(Channel.INBOX, address="", now=now, **fields)
                if inbox and make is _values
                else None
            )
            for person in message.people:
                pk = _key(person)
                if template is not None:
                    rows.append((*template[:_RECIPIENT], pk, *template[_RECIPIENT + 1 :]))
                elif inbox:
                    rows.append(
                        make(Channel.INBOX, recipient=person, address="", now=now, **fields)
                    )
                preference = preferences.get(pk)
                push = asks_push and pk in subscribed
                # Keyed by the object, which the message holds until the rows are made.
                outside = chosen.get((id(person), push, asked))
                if outside is None:
                    outside = chosen[(id(person), push, asked)] = outside_channels(
                        person, preference, push=push, requested=requested
                    )
                if outside:
                    held_until = None
                    if not fields["urgent"] and preference is not None:
                        held_until = preference.quiet_hours_end(now)
                    rows.append(
                        make(
                            outside[0],
                            recipient=person,
                            address=_address(person, outside[0]),
                            fallback_channels=outside[1:],
                            now=now,
                            due=held_until,
                            **outside_fields,
                        )
                    )
            if Channel.ROBOT in requested:
                group = frozenset(map(_key, message.people))
                if group not in robots:
                    robots[group] = _group_robots(kept, group)
                rows.extend(
                    make(Channel.ROBOT, robot=robot, address=robot.name, now=now, **outside_fields)
                    for robot in robots[group]
                    if robot.wants(fields["kind"])
                )
        return rows

    def _webhook_rows(self, make: Any) -> list[Any]:
        if not self._webhooks:
            return []
        endpoints = self._endpoints()
        return [
            make(
                Channel.WEBHOOK,
                endpoint=endpoint,
                address=endpoint.url,
                kind=webhook.kind,
                subject=webhook.kind,
                body="",
                link="",
                payload=webhook.payload,
                dedupe_key=webhook.dedupe_key,
                now=webhook.now,
            )
            for webhook in self._webhooks
            for endpoint in endpoints
            if endpoint.wants(webhook.kind)
        ]


def _without_words(fields: dict[str, Any]) -> dict[str, Any]:
    """A message's fields without the words kept for the inbox (`texts.KEY`), the same
    object when it keeps none."""
    payload = fields["payload"]
    if not payload or texts.KEY not in payload:
        return fields
    return {**fields, "payload": {k: v for k, v in payload.items() if k != texts.KEY}}


def notify_robots(robots: Iterable[GroupRobot], *, kind: str, subject: str, body: str) -> int:
    """Queue one message straight to these robots (an administrator's test message);
    return how many were queued."""
    _check_lengths(kind=kind, link="", dedupe_key=None)
    now = timezone.now()
    rows = [
        _row(
            Channel.ROBOT,
            robot=robot,
            address=robot.name,
            kind=kind,
            subject=subject,
            body=body,
            link="",
            payload={},
            dedupe_key=None,
            now=now,
        )
        for robot in robots
    ]
    Notification.objects.bulk_create(rows)
    return len(rows)


def wanted_channels(preference: NotificationPreference | None) -> list[str]:
    """The person's outside channels in the order to try them: their own choice if they
    made one, else the deployment's ``WHISTLE_NOTIFY_CHANNEL_ORDER``."""
    if preference is not None and preference.channels is not None:
        return [str(c) for c in preference.channels if c in OUTSIDE_CHANNELS]
    return channel_order()


def reachable_channels(person: Person, *, push: bool = False) -> set[str]:
    """In-app always; Web Push with a subscribed browser (``push``) once VAPID is set up, SMS
    with a phone, e-mail with an address.

    A deactivated account keeps its inbox but gets nothing outside the system.
    """
    channels: set[str] = {Channel.INBOX}
    if person.is_active:
        if push and setting("WHISTLE_VAPID_PRIVATE_KEY"):
            channels.add(Channel.PUSH)
        if person.phone:
            channels.add(Channel.SMS)
        if person.email:
            channels.add(Channel.EMAIL)
    return channels


def outside_channels(
    person: Person,
    preference: NotificationPreference | None,
    *,
    push: bool = False,
    requested: Iterable[str] | None = None,
) -> list[str]:
    """The outside channels a message to this person goes on, in order: those they want
    that they can be reached on (and that the caller asked for)."""
    reachable = reachable_channels(person, push=push)
    allowed = reachable if requested is None else reachable & set(requested)
    return [channel for channel in wanted_channels(preference) if channel in allowed]


def group_robots_of(person_ids: list[int]) -> QuerySet[GroupRobot]:
    """The active robots of the groups these people belong to: their departments' (as
    officers, heads or people named in a township's enforcement centre) and their
    townships' (a role held at the township)."""
    departments = RoleAssignment.objects.filter(
        person__in=person_ids, department__isnull=False
    ).values("department")
    centre_departments = CentreMembership.objects.filter(people__in=person_ids).values("department")
    townships = RoleAssignment.objects.filter(
        person__in=person_ids, jurisdiction__level=Jurisdiction.Level.TOWNSHIP
    ).values("jurisdiction")
    return GroupRobot.objects.filter(is_active=True).filter(
        Q(department__in=departments)
        | Q(department__in=centre_departments)
        | Q(township__in=townships)
    )


def inbox(
    person: Person, *, unread_only: bool = False, reading: Reading | None = None
) -> QuerySet[Notification]:
    """The person's in-app notifications, newest first: their own entries and those shared by
    the audiences their roles make them part of now (`audiences.audiences_of`). Each row
    carries ``seen_at``: when this person read it, None while unread.
    A page that asks more than once passes the person's `Reading`, read once."""
    if reading is None:
        reading = Reading.of(person)
    own = Q(recipient=person, channel=Channel.INBOX)
    if unread_only:
        own &= Q(read_at__isnull=True)
    # The own and the shared entries each read through its index (`notification_inbox` or
    # `notification_unread`, `notification_audience`): PostgreSQL does so for an OR (a
    # bitmap of both); SQLite reads the whole table for one, so there the ids are found
    # apart and joined (`UNION ALL`).
    condition = own
    shared = reading.shared(unread_only=unread_only)
    if shared is not None:
        if connections[router.db_for_read(Notification)].vendor == "postgresql":
            condition = own | shared
        else:
            ids = Notification.objects.filter(own).values("id").order_by()
            shared_ids = Notification.objects.filter(shared).values("id").order_by()
            condition = Q(pk__in=ids.union(shared_ids, all=True))
    # The unread ones are unread: no reading to look up for each.
    seen_at = Value(None, output_field=DateTimeField()) if unread_only else reading.seen_at()
    return Notification.objects.filter(condition).annotate(seen_at=seen_at)


@dataclass(frozen=True)
class Reading:
    """What a person's inbox queries need to know of them: the audiences they belong to, and
    how far they marked every shared entry read (one query, `of`)."""

    person: Person
    memberships: frozenset[str]
    through_id: int

    @classmethod
    def of(cls, person: Person) -> Reading:
        """The person's audiences as their roles (those they act in, `held_by`) and their
        account stand now, whatever the object the caller holds says, and their mark.
        Written out: every open page's poll asks it, and the ORM's building of it cost
        several times the query."""
        connection = connections[router.db_for_read(RoleAssignment)]
        name = connection.ops.quote_name
        limit = getattr(person, "role_limit", None)
        if limit is not None and not limit:
            return cls(person, frozenset(), 0)
        only = ""
        params: list[Any] = [person.pk, person.pk]
        if limit is not None:
            only = f" AND ra.id IN ({', '.join(['%s'] * len(limit))})"
            params += sorted(limit)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT ra.role, ra.department_id, ra.jurisdiction_id, "
                f"(SELECT through_id FROM {name(InboxReadThrough._meta.db_table)} "
                "WHERE person_id = %s) "
                f"FROM {name(RoleAssignment._meta.db_table)} ra "
                f"JOIN {name(Person._meta.db_table)} p ON p.id = ra.person_id "
                f"WHERE ra.person_id = %s AND p.is_active{only}",
                params,
            )
            rows = cursor.fetchall()
        found = frozenset(audiences.audiences_of(row[:3] for row in rows))
        return cls(person, found, (rows[0][3] or 0) if rows else 0)

    def _read(self) -> QuerySet[InboxRead]:
        return InboxRead.objects.filter(person=self.person, notification=OuterRef("pk"))

    def shared(self, *, unread_only: bool) -> Any:
        """The entries the person's audiences share (the unread ones: after their mark and
        not read one by one), or None when they belong to none."""
        if not self.memberships:
            return None
        part: Any = Q(audience__in=sorted(self.memberships), channel=Channel.INBOX)
        if unread_only:
            part &= Q(pk__gt=self.through_id) & ~Exists(self._read())
        return part

    def seen_at(self) -> Any:
        """When the person read each row: its own `read_at`, or for a shared entry the mark
        of every entry up to `through_id`, or their reading of it."""
        if not self.memberships:
            return F("read_at")
        cases = [When(audience__isnull=True, then=F("read_at"))]
        if self.through_id:
            mark = InboxReadThrough.objects.filter(person=self.person).values("read_at")[:1]
            cases.append(When(pk__lte=self.through_id, then=Subquery(mark)))
        return Case(
            *cases,
            default=Subquery(self._read().values("read_at")[:1]),
            output_field=DateTimeField(),
        )


def unread_count(person: Person, *, reading: Reading | None = None) -> int:
    return _unread(person, reading)[0]


def _unread(person: Person, reading: Reading | None = None) -> tuple[int, int]:
    """The count of the person's unread entries and the newest one's id (every open page
    polls it): their own through `notification_unread`, and those their audiences share
    after their mark through `notification_audience`, with the audiences and the mark read
    first (`Reading.of`), so that both databases plan with the values. Written out: the
    ORM's building of it cost several times the query, and asked as one OR SQLite would scan
    the table to count."""
    if reading is None:
        reading = Reading.of(person)
    connection = connections[router.db_for_read(Notification)]
    name = connection.ops.quote_name
    entries = name(Notification._meta.db_table)
    statement = (
        f"SELECT id FROM {entries} WHERE recipient_id = %s AND channel = %s AND read_at IS NULL"
    )
    params: list[Any] = [person.pk, Channel.INBOX]
    if reading.memberships:
        keys = sorted(reading.memberships)
        statement += (
            f" UNION ALL SELECT s.id FROM {entries} s"
            f" WHERE s.audience IN ({', '.join(['%s'] * len(keys))})"
            " AND s.channel = %s AND s.id > %s"
            f" AND NOT EXISTS (SELECT 1 FROM {name(InboxRead._meta.db_table)} r"
            " WHERE r.person_id = %s AND r.notification_id = s.id)"
        )
        params += [*keys, Channel.INBOX, reading.through_id, person.pk]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), MAX(id) FROM ({statement}) unread", params)
        count, newest = cursor.fetchone()
    return count or 0, newest or 0


@dataclass(frozen=True)
class InboxState:
    """What the header shows of a person's inbox, and a short token that changes whenever an
    entry arrives or the unread count moves, for the page that polls it. Entries arrive
    unread, so the newest unread entry and the unread count tell both."""

    unread: int
    newest_unread: int

    @property
    def version(self) -> str:
        return hashlib.sha256(f"{self.unread}:{self.newest_unread}".encode()).hexdigest()[:12]


def inbox_state(person: Person) -> InboxState:
    """The unread count and the newest unread entry, in two short queries (`Reading.of`, then
    `_unread`) that read the unread entries alone: the person's own through the partial
    index `notification_unread`, however many read ones they keep; the shared ones after
    their last "mark all read", through `notification_audience`."""
    unread, newest = _unread(person)
    return InboxState(unread=unread, newest_unread=newest)


def mark_read(person: Person, public_ids: Iterable[uuid.UUID | str] | None = None) -> int:
    """Mark the person's unread inbox entries read: all of them, or those with these public ids.

    Ids that are malformed or belong to someone else are ignored. Returns how many changed.
    A shared entry is read for this person alone (`InboxRead`); marking all of them read
    moves the person's mark (`InboxReadThrough`) past the newest one they see, whose readings
    it then makes unneeded.
    """
    now = timezone.now()
    wanted: list[uuid.UUID] | None = None
    if public_ids is not None:
        wanted = []
        for value in public_ids:
            try:
                wanted.append(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
            except ValueError:
                continue
    own = Notification.objects.filter(recipient=person, channel=Channel.INBOX, read_at__isnull=True)
    if wanted is not None:
        own = own.filter(uuid__in=wanted)
    changed = own.update(read_at=now)
    reading = Reading.of(person)
    unread = reading.shared(unread_only=True)
    if unread is None:
        return changed
    if wanted is not None:
        ids = list(
            Notification.objects.filter(unread, uuid__in=wanted).values_list("pk", flat=True)
        )
        InboxRead.objects.bulk_create(
            [InboxRead(person=person, notification_id=pk, read_at=now) for pk in ids],
            ignore_conflicts=True,
        )
        return changed + len(ids)
    count = Notification.objects.filter(unread).count()
    seen = reading.shared(unread_only=False)
    newest = Notification.objects.filter(seen).aggregate(newest=Max("id"))["newest"]
    # An entry whose id was taken before this mark but that commits after it counts as read
    # without having been seen: ids are taken at the insert, and the transactions that write
    # shared entries (the sweep's chunks) commit within a second of it.
    if newest is not None and newest > reading.through_id:
        InboxReadThrough.objects.update_or_create(
            person=person, defaults={"through_id": newest, "read_at": now}
        )
        InboxRead.objects.filter(person=person, notification_id__lte=newest).delete()
    return changed + count


def _requested_channels(channels: Iterable[str] | None) -> list[str]:
    if channels is None:
        return list(QUEUEABLE_CHANNELS)
    requested = list(dict.fromkeys(channels))
    unknown = [c for c in requested if c not in QUEUEABLE_CHANNELS]
    if unknown:
        names = ", ".join(map(repr, unknown))
        raise ValueError(f"a person cannot be notified on {names}")
    return requested


def _check_lengths(*, kind: str, link: str, dedupe_key: str | None) -> None:
    for name, value in (("kind", kind), ("link", link), ("dedupe_key", dedupe_key)):
        limit = _LIMITS[name]
        if value is not None and len(value) > limit:
            raise ValueError(f"{name} is longer than {limit} characters")
    if not kind:
        raise ValueError("a notification needs a kind")


def requeue_on(
    failed: Notification, channel: str, *, fallback_channels: list[str], now: datetime
) -> Notification | None:
    """Queue the message of a failed row again, to the same person, on another channel."""
    person = failed.recipient
    if person is None:
        return None
    row = _row(
        channel,
        recipient=person,
        address=_address(person, channel),
        fallback_channels=fallback_channels,
        kind=failed.kind,
        subject=failed.subject,
        body=failed.body,
        link=failed.link,
        payload=failed.payload,
        dedupe_key=failed.dedupe_key,
        urgent=failed.urgent,
        now=now,
    )
    created = Notification.objects.bulk_create([row], ignore_conflicts=True)
    return created[0] if created else None


def _preferences(
    kept: directory.Generation, person_ids: list[int]
) -> dict[int, NotificationPreference | None]:
    def load(ids: list[int]) -> dict[int, NotificationPreference | None]:
        return {p.person_id: p for p in NotificationPreference.objects.filter(person__in=ids)}

    return kept.get_many(person_ids, load, "preference", None)


def _subscribed(kept: directory.Generation, person_ids: list[int]) -> set[int]:
    def load(ids: list[int]) -> dict[int, bool]:
        found = PushSubscription.objects.filter(person__in=ids).order_by()
        return dict.fromkeys(found.values_list("person_id", flat=True), True)

    subscribed = kept.get_many(person_ids, load, "subscribed", False)
    return {person_id for person_id, has in subscribed.items() if has}


# What a message needs of a robot and of a webhook endpoint (the columns whose updates the
# directory's triggers watch); the delivery reads the rest.
_ROBOT_FIELDS = ("id", "name", "department_id", "township_id", "event_kinds", "is_active")
_ENDPOINT_FIELDS = ("id", "url", "event_kinds", "is_active")


def _group_robots(kept: directory.Generation, group: frozenset[int]) -> list[GroupRobot]:
    def load() -> tuple[GroupRobot, ...]:
        return tuple(group_robots_of(sorted(group)).order_by("pk").only(*_ROBOT_FIELDS))

    return list(kept.get(("group_robots", group), load))


def _active_endpoints() -> tuple[WebhookEndpoint, ...]:
    return tuple(
        WebhookEndpoint.objects.filter(is_active=True).order_by("pk").only(*_ENDPOINT_FIELDS)
    )


def _address(person: Person, channel: str) -> str:
    if channel == Channel.SMS:
        return person.phone
    if channel == Channel.EMAIL:
        return person.email
    return ""


# The columns `_values` fills, in its order; the others keep their defaults.
ROW_FIELDS = (
    "channel",
    "status",
    "recipient_id",
    "endpoint_id",
    "robot_id",
    "audience",
    "address",
    "fallback_channels",
    "kind",
    "subject",
    "body",
    "link",
    "payload",
    "dedupe_key",
    "urgent",
    "created_at",
    "next_attempt_at",
    "sent_at",
    "delivered_at",
)


# Where `_values` puts the recipient.
_RECIPIENT = ROW_FIELDS.index("recipient_id")
# A row's key in `_values`' rows, as the `notification_dedupe` constraint compares it (a
# missing recipient, endpoint or robot is None here and 0 there: no row's id is 0), and its
# dedupe key alone.
_KEY_OF = operator.itemgetter(
    *(
        ROW_FIELDS.index(name)
        for name in ("recipient_id", "endpoint_id", "robot_id", "audience", "channel", "dedupe_key")
    )
)
_DEDUPE_OF = operator.itemgetter(ROW_FIELDS.index("dedupe_key"))
# How many keys one look-up of `unqueued` sends on SQLite (whose limit of parameters is 999
# in old versions; PostgreSQL gets them as one array).
_KEYS_AT_ONCE = 900


def unqueued(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The rows of `Outbox.take_values` whose message is not queued yet, in their order: a
    row whose recipient (or endpoint, or robot), channel and dedupe key are those of a stored
    row, or of an earlier row of the list, is left out, as the `notification_dedupe`
    constraint would refuse it. The stored keys are read by the rows' dedupe keys (the
    leading column of that constraint's index), in the caller's transaction; a row without
    a dedupe key never conflicts. For a caller that then inserts the rest without skipping
    conflicts (PostgreSQL's plain `COPY`, `whistle.cases.deadlines`): a message queued by
    another transaction in between still breaks the constraint, and the caller's transaction
    fails rather than writing it twice."""
    dedupe_keys = list(map(_DEDUPE_OF, rows))
    wanted = set(dedupe_keys)
    wanted.discard(None)
    if not wanted:
        return rows
    taken = _stored_keys(list(wanted))
    # Nothing stored and no key twice (the usual case): every row, without a step per row.
    if not taken and None not in dedupe_keys and len(set(map(_KEY_OF, rows))) == len(rows):
        return rows
    fresh: list[tuple[Any, ...]] = []
    for row, dedupe_key in zip(rows, dedupe_keys, strict=True):
        if dedupe_key is None:
            fresh.append(row)
            continue
        key = _KEY_OF(row)
        if key not in taken:
            taken.add(key)
            fresh.append(row)
    return fresh


def _stored_keys(dedupe_keys: list[str]) -> set[tuple[Any, ...]]:
    """The keys (as `_KEY_OF` gives them) of the stored rows under these dedupe keys."""
    connection = connections[router.db_for_write(Notification)]
    table = connection.ops.quote_name(Notification._meta.db_table)
    select = (
        f"SELECT recipient_id, endpoint_id, robot_id, audience, channel, dedupe_key FROM {table}"
    )
    taken: set[tuple[Any, ...]] = set()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One parameter, the text of the array (its elements quoted and escaped), read by
            # the server: not a list for the driver to spell out element by element.
            items = ",".join(
                '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"' for key in dedupe_keys
            )
            parts = [("dedupe_key = ANY(%s::varchar[])", ["{" + items + "}"])]
        else:
            parts = [
                (f"dedupe_key IN ({', '.join(['%s'] * len(part))})", part)
                for part in (
                    dedupe_keys[at : at + _KEYS_AT_ONCE]
                    for at in range(0, len(dedupe_keys), _KEYS_AT_ONCE)
                )
            ]
        for condition, params in parts:
            cursor.execute(f"{select} WHERE {condition}", params)
            taken.update(map(tuple, cursor.fetchall()))
    return taken


# Shared by the rows that have none (never changed; prepared once per chunk).
_NONE_NEXT: tuple[str, ...] = ()
_NO_PAYLOAD: dict[str, Any] = {}


def _values(
    channel: str,
    *,
    now: datetime,
    due: datetime | None = None,
    recipient: Person | None = None,
    endpoint: WebhookEndpoint | None = None,
    robot: GroupRobot | None = None,
    audience: str | None = None,
    address: str,
    fallback_channels: list[str] | None = None,
    payload: dict[str, Any] | None,
    **fields: Any,
) -> tuple[Any, ...]:
    """The row `_row` makes, as the values of `ROW_FIELDS`."""
    inbox = channel == Channel.INBOX
    return (
        channel,
        Status.SENT if inbox else Status.PENDING,
        recipient.pk if recipient is not None else None,
        endpoint.pk if endpoint is not None else None,
        robot.pk if robot is not None else None,
        audience,
        address,
        fallback_channels if fallback_channels is not None else _NONE_NEXT,
        fields["kind"],
        fields["subject"],
        fields["body"],
        fields["link"],
        payload if payload is not None else _NO_PAYLOAD,
        fields["dedupe_key"],
        fields.get("urgent", False),
        now,
        now if inbox else due or now,
        now if inbox else None,
        now if inbox else None,
    )


def _row(
    channel: str, *, now: datetime, due: datetime | None = None, **fields: Any
) -> Notification:
    if fields.get("payload") is None:
        fields["payload"] = {}
    if channel == Channel.INBOX:
        # Nothing to send: the committed row is the delivery.
        return Notification(
            channel=channel,
            status=Status.SENT,
            created_at=now,
            sent_at=now,
            delivered_at=now,
            **fields,
        )
    return Notification(
        channel=channel,
        status=Status.PENDING,
        created_at=now,
        next_attempt_at=due or now,
        **fields,
    )
