"""Writing many rows of one table at once from plain values (`whistle.cases.bulk`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Field
from django.test.utils import CaptureQueriesContext

from whistle.cases import bulk
from whistle.cases.bulk import _array, insert_values, update_each
from whistle.notifications.models import Channel, Notification, Status
from whistle.notifications.outbox import ROW_FIELDS, Outbox, unqueued
from whistle.organisation.models import Person

MOMENT = datetime(2026, 5, 12, 1, 0, tzinfo=UTC)
FIELDS = ("channel", "recipient_id", "kind", "subject", "dedupe_key", "created_at", "sent_at")


@pytest.fixture
def people(db) -> list[Person]:
    return [
        Person.objects.create_user(username=f"p{n}", password="pw-123456", name=f"人员{n}")
        for n in range(3)
    ]


@pytest.mark.parametrize("copy", [False, True], ids=["executemany", "copy"])
def test_values_are_written_as_given_and_the_other_columns_get_their_defaults(people, copy):
    sent = insert_values(
        Notification,
        FIELDS,
        [
            (
                Channel.INBOX,
                person.pk,
                "whistle",
                "吹哨：人民市场东巷",
                f"k:{person.pk}",
                MOMENT,
                None,
            )
            for person in people
        ],
        copy=copy,
    )
    assert sent == 3
    rows = list(Notification.objects.order_by("recipient_id"))
    assert [row.recipient_id for row in rows] == [person.pk for person in people]
    assert {row.subject for row in rows} == {"吹哨：人民市场东巷"}
    assert {row.created_at for row in rows} == {MOMENT}
    assert {row.sent_at for row in rows} == {None}
    # Defaults: the constant ones as declared, a callable one made for each row.
    assert {row.status for row in rows} == {Status.PENDING}
    assert {row.attempts for row in rows} == {0}
    assert {tuple(row.fallback_channels) for row in rows} == {()}
    assert len({row.uuid for row in rows}) == 3


def test_a_row_that_breaks_a_unique_constraint_is_skipped_when_asked(people):
    person = people[0]
    first = (Channel.INBOX, person.pk, "whistle", "第一条", "same-key", MOMENT, None)
    insert_values(Notification, FIELDS, [first])
    again = (Channel.INBOX, person.pk, "whistle", "第二条", "same-key", MOMENT, None)
    other = (Channel.INBOX, people[1].pk, "whistle", "第三条", "same-key", MOMENT, None)
    insert_values(Notification, FIELDS, [again, other], ignore_conflicts=True)
    assert sorted(Notification.objects.values_list("subject", flat=True)) == ["第一条", "第三条"]


@pytest.mark.parametrize("copy", [False, True], ids=["executemany", "copy"])
def test_rows_that_break_a_unique_constraint_are_skipped_in_order_and_twice_in_a_transaction(
    people, copy
):
    person = people[0]
    first = (Channel.INBOX, person.pk, "whistle", "第一条", "same-key", MOMENT, None)
    insert_values(Notification, FIELDS, [first])
    rows = [
        (Channel.INBOX, person.pk, "whistle", "已有", "same-key", MOMENT, None),
        (Channel.INBOX, people[1].pk, "whistle", "第二条", "key-2", MOMENT, None),
        (Channel.INBOX, people[1].pk, "whistle", "同批重复", "key-2", MOMENT, None),
        (Channel.INBOX, people[2].pk, "whistle", "第三条", "key-3", MOMENT, None),
    ]
    with transaction.atomic():
        assert insert_values(Notification, FIELDS, rows, ignore_conflicts=True, copy=copy) == 4
        later = (Channel.INBOX, people[2].pk, "whistle", "第四条", "key-4", MOMENT, None)
        insert_values(Notification, FIELDS, [rows[3], later], ignore_conflicts=True, copy=copy)
    subjects = list(Notification.objects.order_by("id").values_list("subject", flat=True))
    assert subjects == ["第一条", "第二条", "第三条", "第四条"]


@pytest.mark.parametrize("copy", [False, True], ids=["executemany", "copy"])
def test_the_messages_already_queued_and_the_repeats_of_a_list_are_left_out_before_writing(
    people, copy
):
    first, second, third = people
    Notification.objects.create(
        channel=Channel.INBOX, recipient=first, kind="whistle", subject="已有", dedupe_key="k-1"
    )
    # Another channel under the same key is another message.
    Notification.objects.create(
        channel=Channel.SMS,
        recipient=second,
        address="13800000000",
        kind="whistle",
        subject="短信",
        dedupe_key="k-1",
    )
    outbox = Outbox()
    outbox.notify_many(
        people, kind="whistle", subject="新的", body="", dedupe_key="k-1", now=MOMENT
    )
    outbox.notify_many(
        [second], kind="whistle", subject="重复", body="", dedupe_key="k-1", now=MOMENT
    )
    outbox.notify_many([first, second], kind="whistle", subject="无键", body="", now=MOMENT)
    outbox.notify_many([first], kind="whistle", subject="无键又一条", body="", now=MOMENT)
    rows = outbox.take_values()
    assert len(rows) == 7
    recipient, subject = ROW_FIELDS.index("recipient_id"), ROW_FIELDS.index("subject")
    fresh = unqueued(rows)
    assert [(row[recipient], row[subject]) for row in fresh] == [
        (second.pk, "新的"),
        (third.pk, "新的"),
        (first.pk, "无键"),
        (second.pk, "无键"),
        (first.pk, "无键又一条"),
    ]
    # What is left goes in without skipping conflicts, and is what skipping them writes.
    with transaction.atomic():
        insert_values(Notification, ROW_FIELDS, rows, ignore_conflicts=True, copy=copy)
        skipped = sorted(Notification.objects.values_list("recipient_id", "subject", "dedupe_key"))
        transaction.set_rollback(True)
    assert insert_values(Notification, ROW_FIELDS, fresh, copy=copy) == 5
    assert sorted(Notification.objects.values_list("recipient_id", "subject", "dedupe_key")) == (
        skipped
    )
    # A message queued in between still breaks the constraint: nothing is written twice.
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_values(Notification, ROW_FIELDS, fresh[:1], copy=copy)


@pytest.mark.parametrize("key", ['a "quoted", {braced} key', "back\\slash", "NULL", "  "])
def test_a_stored_key_of_any_text_is_found(people, key):
    Notification.objects.create(
        channel=Channel.INBOX, recipient=people[0], kind="whistle", subject="已有", dedupe_key=key
    )
    outbox = Outbox()
    outbox.notify_many(people[:2], kind="whistle", subject="新的", body="", dedupe_key=key)
    outbox.notify_many(people[:1], kind="whistle", subject="别的键", body="", dedupe_key="other")
    recipient, subject = ROW_FIELDS.index("recipient_id"), ROW_FIELDS.index("subject")
    assert [(row[recipient], row[subject]) for row in unqueued(outbox.take_values())] == [
        (people[1].pk, "新的"),
        (people[0].pk, "别的键"),
    ]


def test_no_stored_key_leaves_every_row_and_rows_without_a_key_read_nothing(people):
    outbox = Outbox()
    outbox.notify_many(people, kind="whistle", subject="无键", body="", now=MOMENT)
    rows = outbox.take_values()
    with CaptureQueriesContext(connection) as queries:
        assert unqueued(rows) == rows
    assert len(queries) == 0


def test_text_that_copy_escapes_and_a_missing_value_are_written_as_given(people):
    subject = "制表\t换行\n反斜杠\\N 与 \\."
    insert_values(
        Notification,
        FIELDS,
        [(Channel.INBOX, people[0].pk, "whistle", subject, "k", MOMENT, None)],
        copy=True,
    )
    row = Notification.objects.get()
    assert (row.subject, row.sent_at) == (subject, None)


def test_a_row_that_breaks_a_unique_constraint_fails_the_copy_and_writes_nothing(people):
    person = people[0]
    first = (Channel.INBOX, person.pk, "whistle", "第一条", "same-key", MOMENT, None)
    again = (Channel.INBOX, person.pk, "whistle", "第二条", "same-key", MOMENT, None)
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_values(Notification, FIELDS, [first, again], copy=True)
    assert not Notification.objects.exists()


def test_no_rows_write_nothing(db):
    assert insert_values(Notification, FIELDS, []) == 0
    assert not Notification.objects.exists()


def _as_sent(value):
    # A JSON adapter (PostgreSQL) is compared by the text it sends.
    return value.dumps(value.obj) if hasattr(value, "obj") and hasattr(value, "dumps") else value


def test_values_are_prepared_by_type_as_the_fields_prepare_them(db):
    """`insert_values` prepares a column by its type without the fields' generic path: what
    it sends is what `get_db_prep_save` gives, for every kind of column the sweep writes and
    for values that take the generic path (a number as text)."""
    from zoneinfo import ZoneInfo

    from django.db import connection

    from whistle.cases.bulk import _prepare

    shared = {"case": "DC-1", "seq": 3}
    columns = {
        "channel": (Channel.INBOX, "sms", None),
        "kind": ("whistle", "案件", ""),
        "recipient_id": (1, None, 7),
        "attempts": (0, "3", 2),
        "urgent": (True, False, None),
        "payload": (shared, shared, {"列表": [1, 2.5, None]}),
        "fallback_channels": ((), ["sms", "email"], None),
        "created_at": (MOMENT, MOMENT, None),
        "sent_at": (MOMENT.astimezone(ZoneInfo("Asia/Shanghai")), MOMENT, None),
    }
    for name, values in columns.items():
        field = Notification._meta.get_field(name)
        assert isinstance(field, Field)
        expected = [_as_sent(field.get_db_prep_save(value, connection)) for value in values]
        found = [_as_sent(value) for value in _prepare(field, values, connection, {})]
        assert found == expected, name


def test_moments_shared_by_columns_are_prepared_as_the_fields_prepare_them(db, monkeypatch):
    """The columns of a row's moments share one cache (`_prepare`'s `moments`): each column
    is still what `get_db_prep_save` gives, and a moment the backend adapts (SQLite's text)
    is adapted once however many columns hold it."""
    from zoneinfo import ZoneInfo

    from django.db import connection

    from whistle.cases.bulk import _prepare

    local = MOMENT.astimezone(ZoneInfo("Asia/Shanghai"))
    columns = {
        "created_at": (MOMENT, local),
        "next_attempt_at": (MOMENT, None),
        "sent_at": (None, None),
        "delivered_at": (local, MOMENT),
    }
    fields = {name: Notification._meta.get_field(name) for name in columns}
    assert all(isinstance(field, Field) for field in fields.values())
    expected = {
        name: [_as_sent(fields[name].get_db_prep_save(value, connection)) for value in values]  # type: ignore[union-attr]
        for name, values in columns.items()
    }
    adapt = connection.ops.adapt_datetimefield_value
    adapted: list[object] = []

    def counted(value):
        adapted.append(value)
        return adapt(value)

    monkeypatch.setattr(connection.ops, "adapt_datetimefield_value", counted)
    moments: dict[int, tuple[object, object]] = {}
    for name, values in columns.items():
        field = fields[name]
        assert isinstance(field, Field)
        found = [_as_sent(value) for value in _prepare(field, values, connection, moments)]
        assert found == expected[name], name
    if adapt(MOMENT) is not MOMENT:
        moments_adapted = [value for value in adapted if value is not None]
        assert sorted(map(id, moments_adapted)) == sorted([id(MOMENT), id(local)])


@pytest.mark.parametrize(
    ("copy", "ignore"),
    [(False, False), (True, False), (True, True)],
    ids=["executemany", "copy", "copy-staged"],
)
def test_a_random_public_id_is_made_as_a_version_4_uuid(people, copy, ignore):
    """Whether sent as `uuid.UUID` objects or, through `COPY`, as their text."""
    import uuid

    insert_values(
        Notification,
        FIELDS,
        [(Channel.INBOX, people[0].pk, "whistle", "s", f"k{n}", MOMENT, None) for n in range(50)],
        copy=copy,
        ignore_conflicts=ignore,
    )
    made = list(Notification.objects.values_list("uuid", flat=True))
    assert len(set(made)) == 50
    assert all(isinstance(u, uuid.UUID) and u.version == 4 for u in made)
    assert all(u.variant == uuid.RFC_4122 for u in made)


@pytest.mark.parametrize(
    ("arrays", "variables"),
    [(False, None), (True, None), (True, 15)],
    ids=["executemany", "arrays", "arrays-split"],
)
def test_update_each_writes_each_rows_values_where_its_guard_holds(
    people, arrays, variables, monkeypatch
):
    """One UPDATE per row, or one over arrays of the values (PostgreSQL) or a VALUES list
    (SQLite; cut into statements of as many rows as its limit of parameters takes: here two
    rows a statement): the same rows end with the same values, text that an array's text
    must quote and escape included, NULLs among values, columns of other types (flags,
    documents) and a guard that holds NULL."""
    if variables is not None:
        monkeypatch.setattr(bulk, "_variables", lambda connection: variables)
    insert_values(
        Notification,
        FIELDS,
        [
            (Channel.INBOX, person.pk, "whistle", "s", f"k:{person.pk}", MOMENT, None)
            for person in people
        ],
    )
    rows = list(Notification.objects.order_by("recipient_id"))
    first, second, third = rows
    later = datetime(2026, 5, 12, 9, 30, 0, 123456, tzinfo=UTC)
    # Read before the change: the guard's value each row must still hold.
    was = [row.sent_at for row in rows]
    first.sent_at = MOMENT
    second.subject = 'a "quoted", {braced} \\ NULL, 吹哨'
    second.sent_at = later
    third.subject = "NULL"
    third.sent_at = None
    for row, attempts in zip(rows, (0, 7, 2**30), strict=True):
        row.attempts = attempts
        row.urgent = row is second
        row.payload = {"n": row.attempts, "text": row.subject}
    # The third row changed meanwhile: its guard no longer holds, so it is left alone.
    Notification.objects.filter(pk=third.pk).update(sent_at=MOMENT)
    fields = ["subject", "sent_at", "attempts", "urgent", "payload"]
    with transaction.atomic():
        updated = update_each(Notification, rows, fields, guard="sent_at", was=was, arrays=arrays)
    assert updated == 2
    stored = {row.pk: row for row in Notification.objects.all()}
    assert stored[first.pk].sent_at == MOMENT
    assert stored[second.pk].subject == 'a "quoted", {braced} \\ NULL, 吹哨'
    assert stored[second.pk].sent_at == later
    assert (stored[second.pk].attempts, stored[second.pk].urgent) == (7, True)
    assert stored[second.pk].payload == {"n": 7, "text": second.subject}
    assert stored[first.pk].payload == {"n": 0, "text": "s"}
    assert (stored[third.pk].subject, stored[third.pk].sent_at) == ("s", MOMENT)
    # A guard whose value is set matches that value only.
    first.subject = "again"
    assert update_each(Notification, [first], ["subject"], guard="sent_at", was=[None]) == 0
    assert (
        update_each(
            Notification, [first], ["subject"], guard="sent_at", was=[MOMENT], arrays=arrays
        )
        == 1
    )
    assert Notification.objects.get(pk=first.pk).subject == "again"


def test_an_array_of_values_is_text_where_the_types_allow_and_a_list_otherwise():
    """`_array` spells whole numbers, text and aware moments as the array's text, and leaves
    anything else (flags, naive moments, ids) to the driver as a list."""
    assert _array([1, None, 2**40]) == "{1,NULL,1099511627776}"
    assert _array(["a,b", None, 'q"\\', "NULL"]) == '{"a,b",NULL,"q\\"\\\\","NULL"}'
    assert _array([Channel.INBOX]) == '{"inbox"}'
    assert _array([MOMENT, None]) == '{"2026-05-12T01:00:00+00:00",NULL}'
    assert _array([None, None]) == "{NULL,NULL}"
    assert _array([True, False]) == [True, False]
    naive = MOMENT.replace(tzinfo=None)
    assert _array([naive]) == [naive]


@pytest.mark.parametrize("copy", [False, True], ids=["executemany", "copy"])
def test_a_json_column_given_as_its_documents_text_is_stored_as_that_document(people, copy):
    texts = ['{"case":"东城-1","seq":2}', '{"seq":3,"case":"东城-2","nested":[1,0.5,null]}', "{}"]
    rows = [
        (Channel.INBOX, person.pk, "whistle", "吹哨", f"d:{person.pk}", MOMENT, None, text)
        for person, text in zip(people, texts, strict=True)
    ]
    sent = insert_values(
        Notification, (*FIELDS, "payload"), rows, copy=copy, documents=("payload",)
    )
    assert sent == 3
    stored = Notification.objects.filter(dedupe_key__startswith="d:").order_by("recipient_id")
    assert [row.payload for row in stored] == [
        {"case": "东城-1", "seq": 2},
        {"seq": 3, "case": "东城-2", "nested": [1, 0.5, None]},
        {},
    ]


def test_a_document_column_given_anything_but_text_is_refused_before_anything_is_written(people):
    rows = [
        (Channel.INBOX, people[0].pk, "whistle", "吹哨", "e:1", MOMENT, None, '{"a":1}'),
        (Channel.INBOX, people[1].pk, "whistle", "吹哨", "e:2", MOMENT, None, {"a": 1}),
    ]
    with pytest.raises(TypeError):
        insert_values(Notification, (*FIELDS, "payload"), rows, documents=("payload",))
    with pytest.raises(TypeError):
        insert_values(Notification, (*FIELDS, "payload"), rows[:1], documents=("subject",))
    assert not Notification.objects.filter(dedupe_key__startswith="e:").exists()
