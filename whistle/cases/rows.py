"""Inserting one new row of a model as `save(force_insert=True)` does, without the ORM's
query building.

A filing inserts a case, its first trail event and, for a work order, the order: one row
each. `Model.save` builds an `InsertQuery`, compiles it and prepares every value through the
compiler on each call, which costs more than the insert itself. `insert_new` keeps the
statement per model and database, and prepares each value with its field
(`pre_save`, then `get_db_prep_save`) as the compiler does; the key the database gives is
set on the object, which then counts as saved. A model with `pre_save` or `post_save`
receivers is saved through the ORM, so that they still run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connections, router, transaction
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save

if TYPE_CHECKING:
    Plan = tuple[str, list[Field[Any, Any]], Field[Any, Any] | None]
# (database alias, model) → the INSERT, the fields it fills in order, and the key the
# database gives (None: the model's key is set before the insert).
_PLANS: dict[tuple[str, type[Model]], Plan] = {}


def _plan(model: type[Model], alias: str) -> Plan:
    connection = connections[alias]
    meta = model._meta
    quote = connection.ops.quote_name
    pk = meta.pk
    returned = pk if pk is not None and getattr(pk, "db_returning", False) else None
    fields = [
        field
        for field in meta.local_concrete_fields
        if field is not returned and not getattr(field, "generated", False)
    ]
    names = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    insert = connection.ops.insert_statement(on_conflict=None)
    sql = f"{insert} {quote(meta.db_table)} ({names}) VALUES ({placeholders})"
    if returned is not None and connection.features.can_return_columns_from_insert:
        returning, _params = connection.ops.return_insert_columns([returned])
        sql = f"{sql} {returning}"
    return sql, fields, returned


def insert_new(obj: Model) -> None:
    """Insert `obj`, a new instance, in one statement, as `obj.save(force_insert=True)`
    would: its foreign keys taken from the objects assigned to them (refused when one is
    not saved), each field's `pre_save` (the moments of `auto_now_add`), its key set from
    the database's, the instance then saved on that database. An error of the database
    marks the transaction for rollback, as the ORM does."""
    model = type(obj)
    if model._meta.parents or pre_save.has_listeners(model) or post_save.has_listeners(model):
        obj.save(force_insert=True)
        return
    alias = router.db_for_write(model, instance=obj)
    plan = _PLANS.get((alias, model))
    if plan is None:
        plan = _PLANS[(alias, model)] = _plan(model, alias)
    sql, fields, returned = plan
    connection = connections[alias]
    # What `save` checks first: a related object assigned unsaved is refused, one saved
    # since its assignment gives its key.
    obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    params = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
    with transaction.mark_for_rollback_on_error(using=alias), connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returned is not None:
            if connection.features.can_return_columns_from_insert:
                row = cursor.fetchone()
                key = row[0]
            else:
                key = connection.ops.last_insert_id(cursor, model._meta.db_table, returned.column)
            setattr(obj, returned.attname, key)
    obj._state.adding = False
    obj._state.db = alias
