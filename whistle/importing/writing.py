"""Writing a checked plan: new rows in bulk where that is safe, the rest one by one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection, models

from whistle.importing.base import BATCH, Action, Change
from whistle.organisation.models import (
    CentreMembership,
    Department,
    GridCell,
    Jurisdiction,
    Lane,
    Person,
    RoleAssignment,
    Sector,
)
from whistle.policies.models import CalendarDay, CalendarYear, Category, MajorClass


def _derive(instance: Any) -> None:
    # save() derives lengths and extents; bulk_create does not call save().
    instance.derive_fields()


# Models whose new rows may be inserted in bulk, with what their save() would derive.
# A model missing here is saved row by row.
BULK: dict[type[models.Model], Callable[[Any], None] | None] = {
    Jurisdiction: _derive,
    GridCell: _derive,
    Lane: _derive,
    Sector: None,
    Department: None,
    Person: None,
    RoleAssignment: None,
    CentreMembership: None,
    MajorClass: None,
    Category: None,
    CalendarDay: None,
    CalendarYear: None,
}


def _refers_to(instance: models.Model, pending: set[int]) -> bool:
    """True when the instance points at an object that is still waiting to be inserted."""
    for field in instance._meta.concrete_fields:
        if field.is_relation and field.is_cached(instance):  # type: ignore[attr-defined]
            related = field.get_cached_value(instance)  # type: ignore[attr-defined]
            if related is not None and id(related) in pending:
                return True
    return False


class _Batch:
    """New rows of one model waiting to be inserted together."""

    def __init__(self) -> None:
        self.changes: list[Change] = []
        self.ids: set[int] = set()

    def accepts(self, instance: models.Model) -> bool:
        if not self.changes:
            return True
        same_model = type(self.changes[0].instance) is type(instance)
        return same_model and not _refers_to(instance, self.ids)

    def add(self, change: Change) -> None:
        self.changes.append(change)
        self.ids.add(id(change.instance))

    def flush(self) -> None:
        if not self.changes:
            return
        model = type(self.changes[0].instance)
        model._default_manager.bulk_create([c.instance for c in self.changes], batch_size=BATCH)
        for change in self.changes:
            _set_relations(change)
        self.changes.clear()
        self.ids.clear()


def _set_relations(change: Change) -> None:
    for name, items in change.relations.items():
        getattr(change.instance, name).set(items)


def write(changes: list[Change]) -> None:
    """Save the planned changes in the order they were planned (parents before children)."""
    bulk = connection.features.can_return_rows_from_bulk_insert
    batch = _Batch()
    for change in changes:
        instance = change.instance
        model = type(instance)
        if change.action is Action.CREATE and bulk and model in BULK:
            if not batch.accepts(instance):
                batch.flush()
            derive = BULK[model]
            if derive is not None:
                derive(instance)
            batch.add(change)
            continue
        batch.flush()
        if change.action is Action.CREATE:
            instance.save(force_insert=True)
        elif change.fields:
            instance.save(update_fields=change.fields)
        _set_relations(change)
    batch.flush()
