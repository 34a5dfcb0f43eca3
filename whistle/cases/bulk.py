"""Writing many rows of one table at once, each with its own values.

The ORM's `bulk_update` builds a CASE expression per field through the query machinery, and
its `bulk_create` one placeholder per value of a multi-row INSERT, cut into several statements
where the database limits the parameters of one (999 on SQLite); both cost far more than the
write itself for the deadline sweep's chunks. `update_each` sends one parametrised UPDATE per
row and `insert_values` one INSERT per row, each through a single `executemany`, with the
values prepared by the model's fields as the ORM would prepare them: one statement per chunk,
whatever its size. `insert_values` takes plain values, not model instances: building one
costs more than preparing and writing its row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connections, router
from django.db.models import DateTimeField, Field, Model
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


def insert_values(
    model: type[Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
    copy: bool = False,
) -> int:
    """Insert one row per tuple of values of `fields` (field names, in that order) and return
    how many were sent; every other column gets its field's default (a callable default is
    called for each row, as for a new model instance). Values go through the fields'
    preparation (`get_db_prep_save`), each distinct object once per column. With
    `ignore_conflicts`, a row that would break a unique constraint is skipped. With `copy`,
    PostgreSQL receives the rows through one `COPY … FROM STDIN` (not with `ignore_conflicts`;
    other databases get the `executemany`).
    """
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    given = [_field(model, name) for name in fields]
    named = {field.name for field in given}
    rest = [
        field
        for field in meta.concrete_fields
        if field.name not in named
        and not (field.primary_key and getattr(field, "db_returning", False))
    ]
    # A default that is not callable is prepared once; a callable one for each row.
    fixed: list[Any] = []
    made: list[tuple[int, Callable[[], Any], Field[Any, Any]]] = []
    for index, field in enumerate(rest):
        if field.has_default() and callable(field.default):
            made.append((index, field.default, field))
            fixed.append(None)
        else:
            fixed.append(field.get_db_prep_save(field.get_default(), connection))
    columns = [*given, *rest]
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    names = ", ".join(quote(column.column) for column in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    insert = connection.ops.insert_statement(on_conflict=on_conflict)
    sql = f"{insert} {quote(meta.db_table)} ({names}) VALUES ({placeholders})"
    suffix = connection.ops.on_conflict_suffix_sql(columns, on_conflict, None, None)
    if suffix:
        sql = f"{sql} {suffix}"
    # Rows share most values (a message's subject and payload, its moment): each distinct
    # object is prepared once per column, the cache holding it so that its id stays its own.
    # Moments are prepared alike in every column: those share one cache (a message's moment
    # is its row's creation, sending and delivery).
    moments: dict[int, tuple[Any, Any]] = {}
    prepared = [moments if type(field) is DateTimeField else {} for field in given]
    preparers = [field.get_db_prep_save for field in given]
    params = []
    for row in rows:
        values = []
        for index, value in enumerate(row):
            cache = prepared[index]
            found = cache.get(id(value))
            if found is None:
                found = cache[id(value)] = (value, preparers[index](value, connection))
            values.append(found[1])
        tail = list(fixed)
        for index, default, field in made:
            tail[index] = field.get_db_prep_save(default(), connection)
        values.extend(tail)
        params.append(values)
    if not params:
        return 0
    if copy and connection.vendor == "postgresql" and not ignore_conflicts:
        # COPY streams the rows in one statement; an executemany of as many INSERTs spends
        # more time adapting each row's parameters in Python than the server spends on them.
        copy_sql = f"COPY {quote(meta.db_table)} ({names}) FROM STDIN"
        with (
            connection.cursor() as cursor,
            connection.wrap_database_errors,
            cursor.cursor.copy(copy_sql) as stream,
        ):
            for values in params:
                stream.write_row(values)
        return len(params)
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(params)
