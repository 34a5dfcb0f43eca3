"""Writing many rows of one table at once, each with its own values.

The ORM's `bulk_update` builds a CASE expression per field through the query machinery, and
its `bulk_create` one placeholder per value of a multi-row INSERT, cut into several statements
where the database limits the parameters of one (999 on SQLite); both cost far more than the
write itself for the deadline sweep's chunks. `update_each` sends one parametrised UPDATE per
row and `insert_each` one INSERT per row, each through a single `executemany`, with the values
prepared by the model's fields as the ORM would prepare them: one statement per chunk,
whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, router
from django.db.models import Field, Model
from django.db.models.constants import OnConflict


def update_each(
    model: type[Model],
    rows: Sequence[Model],
    fields: Sequence[str],
    *,
    guard: str | None = None,
    was: Sequence[Any] = (),
) -> int:
    """Store `fields` of each row (the values on the object) and return how many rows changed.

    With `guard`, a row is only written while that column still holds its value in `was`
    (same order as `rows`): the caller compares the count with the rows it expected.
    """
    if not rows:
        return 0
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    columns = [_field(model, name) for name in fields]
    assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
    key = quote(_field(model, meta.pk.name).column)
    update = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {key} = %s"
    guard_field = _field(model, guard) if guard is not None else None
    statements: dict[str, list[list[Any]]] = {}
    for index, row in enumerate(rows):
        params = [
            column.get_db_prep_save(getattr(row, column.attname), connection) for column in columns
        ]
        params.append(row.pk)
        sql = update
        if guard_field is not None:
            value = was[index]
            if value is None:
                sql += f" AND {quote(guard_field.column)} IS NULL"
            else:
                sql += f" AND {quote(guard_field.column)} = %s"
                params.append(guard_field.get_db_prep_value(value, connection))
        statements.setdefault(sql, []).append(params)
    updated = 0
    with connection.cursor() as cursor:
        for sql, param_list in statements.items():
            cursor.executemany(sql, param_list)
            updated += cursor.rowcount
    return updated


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    found = model._meta.get_field(name)
    if not isinstance(found, Field):
        raise ValueError(f"{model.__name__}.{name} is not a column")
    return found


def insert_each(
    model: type[Model], rows: Sequence[Model], *, ignore_conflicts: bool = False
) -> int:
    """Insert the rows (the values on the objects; an automatic primary key is left to the
    database and not read back) and return how many were sent.

    With `ignore_conflicts`, a row that would break a unique constraint is skipped, as
    `bulk_create(ignore_conflicts=True)` skips it.
    """
    if not rows:
        return 0
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    columns = [
        field
        for field in meta.concrete_fields
        if not (field.primary_key and getattr(field, "db_returning", False))
    ]
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    names = ", ".join(quote(column.column) for column in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    insert = connection.ops.insert_statement(on_conflict=on_conflict)
    sql = f"{insert} {quote(meta.db_table)} ({names}) VALUES ({placeholders})"
    suffix = connection.ops.on_conflict_suffix_sql(columns, on_conflict, None, None)
    if suffix:
        sql = f"{sql} {suffix}"
    # The rows of a chunk share most values (a message's subject and payload, its moment,
    # the empty columns): each object is prepared once per column. The cache holds the object
    # itself, so that its id cannot pass to another one meanwhile.
    prepared: dict[tuple[int, int], tuple[Any, Any]] = {}
    params = []
    for row in rows:
        values = []
        for index, column in enumerate(columns):
            value = column.pre_save(row, True)
            key = (index, id(value))
            if key not in prepared:
                prepared[key] = (value, column.get_db_prep_save(value, connection))
            values.append(prepared[key][1])
        params.append(values)
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    for row in rows:
        row._state.adding = False
        row._state.db = connection.alias
    return len(rows)
