"""Writing many rows of one table at once, each with its own values.

The ORM's `bulk_update` builds a CASE expression per field through the query machinery, which
costs far more than the write itself for the deadline sweep's chunks. `update_each` sends one
parametrised UPDATE per row through a single `executemany`, with the values prepared by the
model's fields as the ORM would prepare them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, router
from django.db.models import Field, Model


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
