"""A new row inserted by `whistle.cases.rows.insert_new` is the row `save` inserts."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.db.models.signals import post_save

from tests.fixtures_cases import beijing, whistle_city_fixture, whistled_case  # noqa: F401
from whistle.cases.models import Case, Event
from whistle.cases.rows import insert_new

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
