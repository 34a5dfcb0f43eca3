"""A new row inserted by `whistle.cases.rows.insert_new` is the row `save` inserts, and rows
inserted together by `insert_together` are the rows inserted one by one."""

from __future__ import annotations

import hashlib
import warnings
from datetime import UTC
from typing import Any

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from tests.fixtures_cases import beijing, whistle_city_fixture, whistled_case  # noqa: F401
from whistle.cases.bulk import Values, kept_cursor
from whistle.cases.models import _REFERENCE_ALPHABET, Case, Event, HotlineOrder, new_reference
from whistle.cases.rows import (
    _check_related,
    _numbered,
    _plan,
    _preparer,
    insert_new,
    insert_together,
    new_row,
)
from whistle.notifications.models import Notification
from whistle.organisation.models import Jurisdiction, Person

NOW = beijing(2026, 5, 12, 9, 0)
OWN = ("id", "uuid", "reference")


def _like(case: Case) -> Case:
    """A new case with the values of `case`, but its own key, uuid and reference."""
    return Case(
        **{
            field.attname: getattr(case, field.attname)
            for field in Case._meta.concrete_fields
            if field.attname not in OWN
        }
    )


def _stored(case: Case) -> dict[str, Any]:
    row = Case.objects.filter(pk=case.pk).values().get()
    return {name: value for name, value in row.items() if name not in OWN}


@pytest.fixture
def case(whistle_city) -> Case:
    case, _whistle, _summonses = whistled_case(whistle_city, at=NOW)
    return Case.objects.get(pk=case.pk)


def test_a_row_inserted_is_the_row_save_inserts(case):
    saved, inserted = _like(case), _like(case)
    saved.save(force_insert=True)
    insert_new(inserted)
    assert inserted.pk is not None and inserted.pk != saved.pk
    assert not inserted._state.adding and inserted._state.db == "default"
    assert _stored(inserted) == _stored(saved)
    assert Case.objects.get(pk=inserted.pk).uuid == inserted.uuid


def test_a_related_row_not_saved_is_refused(case):
    event = Event(case=_like(case), seq=1, at=NOW, kind="case.reported", prev_hash="0" * 64)
    with pytest.raises(ValueError, match="unsaved related object"):
        insert_new(event)


def test_a_related_row_saved_after_its_assignment_gives_its_key(case):
    new = _like(case)
    event = Event(case=new, seq=1, at=NOW, kind="case.reported", prev_hash="0" * 64, hash="a" * 64)
    with transaction.atomic():
        insert_new(new)
        insert_new(event)
    assert Event.objects.get(pk=event.pk).case_id == new.pk


def test_a_model_with_receivers_is_saved_through_them(case):
    heard: list[tuple[Any, bool]] = []

    def receiver(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
        heard.append((instance, created))

    post_save.connect(receiver, sender=Case, weak=False)
    try:
        new = _like(case)
        insert_new(new)
    finally:
        post_save.disconnect(receiver, sender=Case)
    assert heard == [(new, True)]


def test_a_refused_insert_marks_the_transaction_for_rollback(case):
    twin = _like(case)
    twin.uuid = case.uuid
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            insert_new(twin)
        marked = transaction.get_rollback()
    assert marked
    assert Case.objects.filter(uuid=case.uuid).count() == 1


def _filing(case: Case, number: str, tag: str = "") -> tuple[Case, Event, HotlineOrder, Values]:
    """A new case like `case`, its first event, a work order and two messages about it
    (`tag` makes the event's hash differ for a second filing of one number)."""
    new = _like(case)
    event = Event(
        case=new, seq=1, at=NOW, kind="case.reported", data={"a": [1, "二"]}, prev_hash="0" * 64
    )
    event.hash = hashlib.sha256(f"{number}{tag}".encode()).hexdigest()
    order = HotlineOrder(
        case=new,
        district=case.district,
        number=number,
        deadline_class="normal",
        received_at=NOW,
        respond_due_at=NOW,
        resolve_due_at=NOW,
    )
    people = list(Person.objects.order_by("pk").values_list("pk", flat=True)[:2])
    messages = Values(
        Notification,
        ("channel", "recipient", "kind", "subject", "payload", "dedupe_key"),
        [
            ("inapp", pk, "case.reported", f"新问题 {number}", {"n": number}, number)
            for pk in people
        ],
        ignore_conflicts=True,
    )
    return new, event, order, messages


def _columns(row: Any, *own: str) -> dict[str, Any]:
    stored = type(row).objects.filter(pk=row.pk).values().get()
    return {name: value for name, value in stored.items() if name not in own}


def test_rows_inserted_together_are_the_rows_inserted_one_by_one(case):
    apart, together = _filing(case, "N1"), _filing(case, "N2")
    with transaction.atomic():
        insert_new(apart[0])
        insert_new(apart[1])
        insert_new(apart[2])
        apart[3].insert()
        with CaptureQueriesContext(connection) as queries:
            insert_together(together[0], [together[1], together[2]], together[3])
    sent = [q["sql"] for q in queries.captured_queries]
    if connection.vendor == "postgresql":
        # One statement for the four tables, its parameters numbered for the server to bind.
        assert len(sent) == 1 and sent[0].startswith("WITH ")
        assert "$1," in sent[0] and "%s" not in sent[0]
    for one, other in zip(apart[:3], together[:3], strict=True):
        assert not other._state.adding and other.pk is not None and other.pk != one.pk
    assert together[1].case_id == together[2].case_id == together[0].pk
    assert _columns(together[0], *OWN) == _columns(apart[0], *OWN)
    event_own = ("id", "case_id", "hash")
    assert _columns(together[1], *event_own) == _columns(apart[1], *event_own)
    order_own = ("id", "uuid", "case_id", "number")
    assert _columns(together[2], *order_own) == _columns(apart[2], *order_own)
    messages = {
        number: sorted(
            (row["recipient_id"], row["subject"][-2:], row["payload"], row["status"])
            for row in Notification.objects.filter(dedupe_key=number).values()
        )
        for number in ("N1", "N2")
    }
    assert len(messages["N1"]) == 2
    assert [(r, p["n"], s) for r, _t, p, s in messages["N1"]] == [
        (r, "N1", s) for r, _t, _p, s in messages["N2"]
    ]


def test_a_row_refused_among_rows_inserted_together_refuses_them_all(case):
    first = _filing(case, "N1")
    with transaction.atomic():
        insert_together(first[0], [first[1], first[2]], first[3])
    cases, events = Case.objects.count(), Event.objects.count()
    again = _filing(case, "N1", tag="again")  # the same order number in the same district
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            insert_together(again[0], [again[1], again[2]], again[3])
        assert transaction.get_rollback()
    assert (Case.objects.count(), Event.objects.count()) == (cases, events)
    assert HotlineOrder.objects.filter(number="N1").count() == 1


def test_a_row_inserted_together_that_refers_to_an_unsaved_row_is_refused(case):
    new, event, order, _messages = _filing(case, "N1")
    order.district = Jurisdiction(name="未保存")
    with pytest.raises(ValueError, match="unsaved related object"), transaction.atomic():
        insert_together(new, [event, order])
    assert not Case.objects.filter(uuid=new.uuid).exists()


def test_a_row_inserted_together_must_refer_to_the_first(case):
    new, _event, _order, _messages = _filing(case, "N1")
    stray = Event(case=case, seq=99, at=NOW, kind="case.reported", prev_hash="0" * 64)
    with pytest.raises(ValueError, match="does not refer"), transaction.atomic():
        insert_together(new, [stray])
    assert not Case.objects.filter(uuid=new.uuid).exists()


def test_a_statement_s_placeholders_are_numbered_in_order():
    statement = 'WITH row0 AS (INSERT INTO "t" ("a", "b") VALUES (%s, %s) RETURNING "id") SELECT %s'
    assert _numbered(statement) == (
        'WITH row0 AS (INSERT INTO "t" ("a", "b") VALUES ($1, $2) RETURNING "id") SELECT $3'
    )
    assert _numbered(statement) is _numbered(statement)  # numbered once per shape
    assert _numbered("SELECT 1") == "SELECT 1"


def _sent(value: Any) -> tuple[str, Any]:
    """A parameter as the driver receives it, comparable: psycopg's wrappers (a JSON
    document, a typed integer) by their type and what they wrap."""
    return type(value).__name__, getattr(value, "obj", value)


def _as_save_sends(obj: Any) -> list[tuple[str, Any]]:
    _sql, fields, _returned, _prepares = _plan(type(obj), "default")
    return [
        _sent(field.get_db_prep_save(field.pre_save(obj, True), connection)) for field in fields
    ]


def _as_prepared(obj: Any) -> list[tuple[str, Any]]:
    _sql, _fields, _returned, prepares = _plan(type(obj), "default")
    return [_sent(prepare(obj)) for prepare in prepares]


def test_each_value_is_prepared_as_save_prepares_it(case):
    """Every column of a case, an event and a work order, with text, choices, numbers,
    booleans, keys, documents, None, aware moments in two zones and a naive one: what the
    insert sends is what `save` would send, value and type, on this database."""
    new, event, order, _messages = _filing(case, "N1")
    new.status = Case.Status.FILED  # a TextChoices member
    new.township_rating = 4
    new.resident_satisfied = True
    new.accuracy_m = 12.5
    new.filed_at = NOW  # aware, Beijing time
    new.closed_at = NOW.astimezone(UTC)  # aware, UTC
    new.service_attributes = [{"code": "a", "value": "一"}]
    new.save(force_insert=True)
    order.callback_contacted = False
    order.called_at = NOW
    for obj in (new, event, order):
        assert _as_prepared(obj) == _as_save_sends(obj)
    event.at = NOW.replace(tzinfo=None)  # naive: the field's own path, with its warning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert _as_prepared(event) == _as_save_sends(event)
    order.number = 123  # not text: the field's own path
    assert _as_prepared(order) == _as_save_sends(order)


class _Shouted(models.CharField):
    """A text field that changes what it is given."""

    def get_prep_value(self, value: Any) -> Any:
        return None if value is None else str(value).upper()


def test_a_field_that_changes_its_values_prepares_them_itself(case):
    field = _Shouted(max_length=10)
    field.set_attributes_from_name("reporter_name")
    case.reporter_name = "wang"
    assert _preparer(field, connection)(case) == "WANG"


def _instance_state(obj: models.Model) -> tuple[dict[str, Any], str | None, dict[str, Any]]:
    """An instance's attributes (uuid and reference aside), its database and its cached
    related objects."""
    values = {
        name: value
        for name, value in obj.__dict__.items()
        if name not in ("_state", "uuid", "reference")
    }
    return values, obj._state.db, dict(obj._state.fields_cache)


def test_a_row_made_by_new_row_is_the_instance_init_makes(case):
    given: dict[str, Any] = {
        "source": Case.Source.HOTLINE,
        "description": "占道",
        "lon": case.lon,
        "lat": case.lat,
        "district": case.district,
        "township": case.township,
        "community": case.community,
        "lane": None,
        "grid_cell_id": case.grid_cell_id,
        "category": case.category,
        "reporter": None,
        "external_id": "B1",
        "reported_at": NOW,
    }
    made, init = new_row(Case, **given), Case(**given)
    assert _instance_state(made) == _instance_state(init)
    assert made._state.adding and made.uuid != init.uuid and made.reference != init.reference
    order = new_row(HotlineOrder, case=made, district=case.district, number="B1", received_at=NOW)
    assert _instance_state(order) == _instance_state(
        HotlineOrder(case=made, district=case.district, number="B1", received_at=NOW)
    )


def test_new_row_refuses_what_init_refuses(case):
    with pytest.raises(ValueError, match="must be a"):
        new_row(Case, district=case.reporter)
    with pytest.raises(TypeError, match="unexpected keyword"):
        new_row(Case, description="x", colour="red")
    # A property among the keywords is set by `__init__`, as ever.
    assert new_row(Case, pk=5).pk == 5


def test_new_row_leaves_init_to_a_model_with_init_receivers(case):
    seen: list[Any] = []

    def receiver(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(instance)

    models.signals.post_init.connect(receiver, sender=HotlineOrder)
    try:
        order = new_row(HotlineOrder, case=case, district=case.district, number="B2")
    finally:
        models.signals.post_init.disconnect(receiver, sender=HotlineOrder)
    assert seen == [order]


def test_a_reference_is_ten_letters_of_the_alphabet_each_drawn_alike():
    references = [new_reference() for _ in range(4000)]
    assert all(len(r) == 10 and set(r) <= set(_REFERENCE_ALPHABET) for r in references)
    assert len(set(references)) == len(references)
    # Every letter at every place: 4000 draws of 32 letters, each about 125 times.
    for place in range(10):
        counts = {letter: 0 for letter in _REFERENCE_ALPHABET}
        for reference in references:
            counts[reference[place]] += 1
        assert min(counts.values()) > 60 and max(counts.values()) < 200, (place, counts)


def test_a_kept_cursor_sends_the_statement_as_django_s_own_and_is_logged(case):
    with CaptureQueriesContext(connection) as queries, kept_cursor(connection) as cursor:
        for _ in range(2):
            cursor.execute("SELECT %s, '100%%'", ["x"])
            assert cursor.fetchone() == ("x", "100%")
    assert len(queries.captured_queries) == 2
    assert "'x'" in queries.captured_queries[0]["sql"]


def test_the_related_objects_are_checked_as_save_checks_them(case):
    """`_check_related` leaves an instance as `_prepare_related_fields_for_save` does: a key
    changed after its object was assigned drops the object, a saved one gives its key, an
    unsaved one is refused and dropped."""
    other = Jurisdiction.objects.exclude(pk=case.township_id)[0]
    unsaved = _like(case)

    for check in (_check_related, lambda obj: obj._prepare_related_fields_for_save("save")):
        moved = new_row(Case, township=case.township, district=case.district)
        moved.__dict__["township_id"] = other.pk  # the key changed behind the descriptor
        saved_later = _like(case)
        event = new_row(Event, case=saved_later, seq=1, at=NOW, kind="case.reported")
        saved_later.save(force_insert=True)
        check(moved)
        check(event)
        assert "township" not in moved._state.fields_cache
        assert moved._state.fields_cache["district"] == case.district
        assert event.case_id == saved_later.pk
        assert event._state.fields_cache["case"] is saved_later
        refused = new_row(Event, case=unsaved, seq=1, at=NOW, kind="case.reported")
        with pytest.raises(ValueError, match="unsaved related object 'case'"):
            check(refused)
