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

import dataclasses
import functools
import json
import os
import sqlite3
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connections, router
from django.db.models import (
    BooleanField,
    CharField,
    DateTimeField,
    Field,
    FloatField,
    ForeignKey,
    IntegerField,
    JSONField,
    Model,
    TextField,
    UUIDField,
)
from django.db.models.constants import OnConflict


def update_each(
    model: type[Model],
    rows: Sequence[Model],
    fields: Sequence[str],
    *,
    guard: str | None = None,
    was: Sequence[Any] = (),
    arrays: bool = False,
) -> int:
    """Store `fields` of each row (the values on the object) and return how many rows changed.

    With `guard`, a row is only written while that column still holds its value in `was`
    (same order as `rows`): the caller compares the count with the rows it expected.
    With `arrays` (the rows must be distinct), PostgreSQL gets every row in one
    `UPDATE … FROM unnest(…)` over an array of each column's values (`_update_from_arrays`)
    and SQLite one `UPDATE … FROM (VALUES …)` (`_update_from_values`); other databases, and
    callers without it, get the `executemany` of one UPDATE per row.
    """
    if not rows:
        return 0
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    columns = [_field(model, name) for name in fields]
    guard_field = _field(model, guard) if guard is not None else None
    # Each column prepared at once by its type (`_prepare`), as `insert_values` does.
    moments: dict[int, tuple[Any, Any]] = {}
    prepared = [
        _prepare(column, tuple(getattr(row, column.attname) for row in rows), connection, moments)
        for column in columns
    ]
    keys = [row.pk for row in rows]
    if arrays and connection.vendor == "postgresql":
        return _update_from_arrays(
            model, tuple(fields), guard, connection, prepared, keys, was, moments
        )
    if arrays and connection.vendor == "sqlite" and _updates_from(connection):
        return _update_from_values(
            model, tuple(fields), guard, connection, prepared, keys, was, moments
        )
    assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
    key = quote(_field(model, meta.pk.name).column)
    update = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {key} = %s"
    statements: dict[str, list[list[Any]]] = {}
    for index, values in enumerate(zip(*prepared, keys, strict=True)):
        params = list(values)
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
    with bound_cursor(connection) as cursor:
        for sql, param_list in statements.items():
            cursor.executemany(sql, param_list)
            updated += cursor.rowcount
    return updated


def _update_from_arrays(
    model: type[Model],
    fields: tuple[str, ...],
    guard: str | None,
    connection: Any,
    prepared: list[Sequence[Any]],
    keys: list[Any],
    was: Sequence[Any],
    moments: dict[int, tuple[Any, Any]],
) -> int:
    """`update_each`'s rows in one statement on PostgreSQL: each column's prepared values
    (then the keys, then the guard's values read) sent as one array parameter, joined to
    the table by key; a row is written only where its guard IS NOT DISTINCT FROM the value
    read (NULL matches NULL, as the per-row `IS NULL` does). Sending 2,000 rows of a chunk
    as a handful of arrays costs the driver a fraction of adapting and pipelining 2,000
    statements, and the server one plan instead of 2,000."""
    sql = _array_update_sql(model, fields, guard, connection.alias)
    params: list[Any] = [_array(values) for values in prepared]
    params.append(_array(keys))
    if guard is not None:
        guard_field = _field(model, guard)
        if type(guard_field) is DateTimeField:
            # A moment's `get_db_prep_value` is its `get_db_prep_save`: `_prepare`'s.
            params.append(_array(_prepare(guard_field, tuple(was), connection, moments)))
        else:
            params.append(
                [
                    None if value is None else guard_field.get_db_prep_value(value, connection)
                    for value in was
                ]
            )
    with bound_cursor(connection) as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _updates_from(connection: Any) -> bool:
    """Whether this SQLite takes `UPDATE … FROM` (3.33 and later)."""
    return bool(connection.Database.sqlite_version_info >= (3, 33))


def _variables(connection: Any) -> int:
    """How many parameters one statement of this SQLite takes (the library's own limit, as
    compiled; Django's `max_query_params` assumes the oldest libraries' 999)."""
    connection.ensure_connection()
    try:
        return int(connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    except AttributeError:  # Python before 3.11
        return int(connection.features.max_query_params)


def _update_from_values(
    model: type[Model],
    fields: tuple[str, ...],
    guard: str | None,
    connection: Any,
    prepared: list[Sequence[Any]],
    keys: list[Any],
    was: Sequence[Any],
    moments: dict[int, tuple[Any, Any]],
) -> int:
    """`update_each`'s rows on SQLite in one `UPDATE … FROM (VALUES …)` per as many rows as
    the library's limit of parameters takes (a whole chunk of the sweep): a row is written
    only where its guard IS the value read (NULL matches NULL). Against the `executemany` of
    one UPDATE per row, a fifth less time in `update_each` for the sweep's chunks
    (docs/benchmarks.md)."""
    meta = model._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = [_field(model, name) for name in fields]
    key = _field(model, meta.pk.name)
    columns_given = [*prepared, keys]
    width = len(columns) + 1
    if guard is not None:
        guard_field = _field(model, guard)
        columns_given.append(_prepare(guard_field, tuple(was), connection, moments))
        width += 1
    # SQLite names the columns of a VALUES list column1, column2, ...
    assignments = ", ".join(
        f"{quote(column.column)} = given.column{index + 1}" for index, column in enumerate(columns)
    )
    condition = f"{table}.{quote(key.column)} = given.column{len(columns) + 1}"
    if guard is not None:
        guard_column = quote(_field(model, guard).column)
        condition += f" AND {table}.{guard_column} IS given.column{len(columns) + 2}"
    row = "(" + ", ".join(["%s"] * width) + ")"
    rows = list(zip(*columns_given, strict=True))
    step = max(1, _variables(connection) // width)
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), step):
            part = rows[start : start + step]
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row] * len(part))}) "
                f"AS given WHERE {condition}",
                [value for values in part for value in values],
            )
            updated += cursor.rowcount
    return updated


def _array(values: Sequence[Any]) -> Any:
    """A column's prepared values as one parameter for `_update_from_arrays`: whole numbers,
    text and aware moments (all the sweep's columns) as the text of a PostgreSQL array,
    which the statement casts to the column's array type (each element read by the type's
    own input, as a value sent alone would be); anything else as a list, for psycopg to
    adapt element by element (several times slower, in Python)."""
    types = set(map(type, values))
    types.discard(type(None))
    if types <= {int}:
        items = ["NULL" if value is None else str(value) for value in values]
    elif all(issubclass(kind, str) for kind in types):
        items = ["NULL" if value is None else _quoted(value) for value in values]
    elif types <= {datetime} and None not in map(datetime.utcoffset, filter(None, values)):
        # ISO 8601 with its offset: the instant whatever the session's zone.
        items = ["NULL" if value is None else f'"{value.isoformat()}"' for value in values]
    else:
        return list(values)
    return "{" + ",".join(items) + "}"


def among(
    connection: Any, column: str, model: type[Model], keys: Sequence[Any]
) -> tuple[str, list[Any]]:
    """A condition that `column` (SQL, a key of `model`) is one of `keys`, with its
    parameters: on PostgreSQL `= ANY(…)` of one array parameter (`_array`), so that the
    statement's text does not change with the number of keys and the driver parses it once;
    elsewhere `IN (…)` with a parameter per key."""
    if connection.vendor == "postgresql":
        key_type = _field(model, model._meta.pk.name).db_type(connection)
        return f"{column} = ANY(%s::{key_type}[])", [_array(keys)]
    return f"{column} IN ({', '.join(['%s'] * len(keys))})", list(keys)


def _quoted(text: str) -> str:
    """An element of an array's text, quoted (so that commas, braces, spaces and the word
    NULL stay text) with its backslashes and double quotes escaped."""
    return '"' + str.replace(str.replace(text, "\\", "\\\\"), '"', '\\"') + '"'


@functools.cache
def _array_update_sql(
    model: type[Model], fields: tuple[str, ...], guard: str | None, alias: str
) -> str:
    connection = connections[alias]
    quote = connection.ops.quote_name
    meta = model._meta
    table = quote(meta.db_table)
    columns = [_field(model, name) for name in fields]
    key = _field(model, meta.pk.name)
    given = [*columns, key, *([_field(model, guard)] if guard is not None else [])]
    # Each array cast to its column's type: a column of NULLs alone, or of text sent for
    # a `jsonb` column (`_json`), arrives typed as the column.
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in given)
    names = ", ".join(f"v{index}" for index in range(len(given)))
    assignments = ", ".join(
        f"{quote(column.column)} = given.v{index}" for index, column in enumerate(columns)
    )
    sql = (
        f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS given({names}) "
        f"WHERE {table}.{quote(key.column)} = given.v{len(columns)}"
    )
    if guard is not None:
        guard_column = quote(_field(model, guard).column)
        sql += f" AND {table}.{guard_column} IS NOT DISTINCT FROM given.v{len(columns) + 1}"
    return sql


@dataclass(frozen=True)
class Reader:
    """The columns of a hand-written SELECT of a model's table (`reader`), with the
    database's and the fields' converters of each column, as the ORM would apply them: the
    deadline sweep's claims and trail heads are read hundreds of times a pass, and the ORM's
    building of the same queries cost more than running them."""

    columns: str
    # (position, converters, column expression, whether it is SQLite's moment) of each
    # column that has converters.
    converters: tuple[tuple[int, tuple[Any, ...], Any, bool], ...]
    # The columns whose converters wait until the value is used (`_Claimed.__getattr__`):
    # each name with a function that converts its value (not None).
    deferred: dict[str, Callable[[Any], Any]] = dataclasses.field(default_factory=dict)

    def execute(self, cursor: Any, sql: str, params: Sequence[Any]) -> list[list[Any]]:
        """Run the SELECT on the Django cursor and give the rows converted (`convert`). On
        PostgreSQL the moments are read by psycopg's own loader, in C, instead of Django's
        (its Python subclass of the same loader, which only sets the connection's zone):
        Django sets the session's zone to the connection's, so the values are the same
        instants, in the same zone."""
        connection = cursor.db
        if connection.vendor == "postgresql":
            cursor.cursor.adapters.register_loader("timestamptz", _moment_loader())
        cursor.execute(sql, params)
        return self.convert(cursor.fetchall(), connection)

    def convert(self, rows: Iterable[Any], connection: Any) -> list[list[Any]]:
        found = []
        # SQLite's converter of a moment makes the naive moment its driver gives back aware
        # in the connection's zone (`timezone.make_aware`): done here without its call.
        zone = connection.timezone if settings.USE_TZ else None
        for row in map(list, rows):
            for index, converters, expression, moment in self.converters:
                value = row[index]
                # NULL stays None: no converter of these columns (moments, uuids, JSON,
                # numbers, text) makes anything else of it.
                if value is not None:
                    if moment and zone is not None and type(value) is datetime:
                        if value.tzinfo is None:
                            row[index] = value.replace(tzinfo=zone)
                        continue
                    for converter in converters:
                        value = converter(value, expression, connection)
                    row[index] = value
            found.append(row)
        return found


@functools.cache
def reader(
    model: type[Model],
    names: tuple[str, ...],
    alias: str,
    table: str,
    deferred_names: frozenset[str] = frozenset(),
) -> Reader:
    """The `Reader` of these columns of the model's table (named `table` in the statement),
    on the database `alias`; the columns of `deferred_names` are converted only when used
    (`Reader.deferred`)."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    columns = []
    converters = []
    deferred: dict[str, Callable[[Any], Any]] = {}
    for index, name in enumerate(names):
        column = model._meta.get_field(name)
        assert isinstance(column, Field)
        expression = column.get_col(table)
        found = connection.ops.get_db_converters(expression) + expression.get_db_converters(
            connection
        )
        if found and name in deferred_names:
            deferred[name] = functools.partial(_converted, tuple(found), expression, connection)
        elif found:
            # SQLite's moments: the converter only makes a naive moment aware (`convert`).
            moment = connection.vendor == "sqlite" and found == [
                getattr(connection.ops, "convert_datetimefield_value", None)
            ]
            converters.append((index, tuple(found), expression, moment))
        columns.append(f"{quote(table)}.{quote(column.column)}")
    return Reader(", ".join(columns), tuple(converters), deferred)


def _converted(converters: tuple[Any, ...], expression: Any, connection: Any, value: Any) -> Any:
    for converter in converters:
        value = converter(value, expression, connection)
    return value


@functools.cache
def _moment_loader() -> Any:
    """psycopg's own loader of `timestamptz` values (its C one where installed)."""
    from psycopg import postgres, pq

    return postgres.adapters.get_loader(postgres.types["timestamptz"].oid, pq.Format.TEXT)


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
    documents: Collection[str] = (),
) -> int:
    """Insert one row per tuple of values of `fields` (field names, in that order) and return
    how many were sent; every other column gets its field's default (a callable default is
    called for each row, as for a new model instance). Values are prepared as the fields
    would prepare them (`get_db_prep_save`), a column at a time by its type (`_prepare`).
    With `ignore_conflicts`, a row that would break a unique constraint is skipped. With
    `copy`, PostgreSQL receives the rows through one `COPY … FROM STDIN` (with
    `ignore_conflicts`, into a staging table of the session, then moved by one `INSERT …
    ON CONFLICT DO NOTHING` in the rows' order: `_staged`); other databases get the
    `executemany`. The JSON fields named in `documents` are given as their documents'
    text, already written (as JSON, canonical or not), and sent as it is: on PostgreSQL the
    server reads it as the column's `jsonb`, on SQLite it is what the column stores.
    """
    given_rows = list(rows)
    if not given_rows:
        return 0
    connection = connections[router.db_for_write(model)]
    plan = _plan(model, tuple(fields), connection.alias, ignore_conflicts)
    count = len(given_rows)
    copying = copy and connection.vendor == "postgresql"
    params = _row_params(plan, given_rows, connection, as_text=copying, documents=documents)
    if copying and ignore_conflicts:
        _staged(connection, model, plan, params)
        return count
    if copying:
        # COPY streams the rows in one statement; an executemany of as many INSERTs spends
        # more time adapting each row's parameters in Python than the server spends on them.
        with (
            connection.cursor() as cursor,
            connection.wrap_database_errors,
            cursor.cursor.copy(plan.copy_sql) as stream,
        ):
            for values in params:
                stream.write_row(values)
        return count
    with bound_cursor(connection) as cursor:
        cursor.executemany(plan.sql, params)
    return count


def _row_params(
    plan: _Plan,
    given_rows: list[Sequence[Any]],
    connection: Any,
    *,
    as_text: bool = False,
    documents: Collection[str] = (),
) -> list[Any]:
    """Each row's parameters in the order of the plan's columns, prepared a column at a time,
    the other columns' defaults beside them (`as_text`: for `COPY`, `_defaults`); the
    columns of `documents` (JSON fields given as text) as they are."""
    count = len(given_rows)
    # Moments are prepared alike in every column: those share one cache (a message's moment
    # is its row's creation, sending and delivery).
    moments: dict[int, tuple[Any, Any]] = {}
    columns: list[Any] = [
        _as_text(field, column)
        if field.name in documents
        else _prepare(field, column, connection, moments)
        for field, column in zip(plan.given, zip(*given_rows, strict=True), strict=True)
    ]
    for field, fixed in plan.rest:
        columns.append(
            _defaults(field, count, connection, as_text=as_text)
            if fixed is _CALLED
            else [fixed] * count
        )
    return list(zip(*columns, strict=True))


@dataclass(frozen=True)
class Values:
    """Rows of plain values for `insert_values`, to be written later or with other rows: the
    values of `fields` (field names, in that order) for each row."""

    model: type[Model]
    fields: tuple[str, ...]
    rows: list[Sequence[Any]]
    ignore_conflicts: bool = False

    def insert(self) -> int:
        """Insert the rows as `insert_values` does."""
        return insert_values(
            self.model, self.fields, self.rows, ignore_conflicts=self.ignore_conflicts
        )

    def statement(self, alias: str) -> tuple[str, list[Any]]:
        """One INSERT of all the rows (one VALUES list, the parameters in order), prepared as
        `insert_values` prepares them, for a database that takes the rows' parameters in one
        statement (a few rows: this is not cut to the database's limit of parameters)."""
        connection = connections[alias]
        plan = _plan(self.model, self.fields, alias, self.ignore_conflicts)
        params = _row_params(plan, self.rows, connection)
        sql = f"{plan.head} VALUES {', '.join([plan.row] * len(params))}"
        if plan.suffix:
            sql = f"{sql} {plan.suffix}"
        return sql, [value for row in params for value in row]


def _staged(connection: Any, model: type[Model], plan: _Plan, params: list[Any]) -> None:
    """COPY the rows into the session's staging table of the model's table (a temporary
    table of the same columns and a row number, made the first time; emptied at every
    commit), then move them into the table in their order, those that would break a unique
    constraint skipped: as the `executemany` of `INSERT … ON CONFLICT DO NOTHING` does,
    without adapting each row's parameters in Python."""
    quote = connection.ops.quote_name
    meta = model._meta
    table = quote(meta.db_table)
    stage = quote(f"whistle_stage_{meta.db_table}")
    names = ", ".join(quote(field.column) for field in plan.columns)
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
    ):
        # `to_regclass` first: `IF NOT EXISTS` would send a notice every time.
        cursor.execute("SELECT to_regclass(%s)", [f"pg_temp.whistle_stage_{meta.db_table}"])
        (found,) = cursor.fetchone()
        if found is None:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {stage} ON COMMIT DELETE ROWS AS "
                f"SELECT 0 AS whistle_row, {names} FROM {table} WITH NO DATA"
            )
        with cursor.cursor.copy(f"COPY {stage} (whistle_row, {names}) FROM STDIN") as stream:
            for number, values in enumerate(params):
                stream.write_row((number, *values))
        cursor.execute(
            f"WITH moved AS (DELETE FROM {stage} RETURNING *) "
            f"INSERT INTO {table} ({names}) SELECT {names} FROM moved ORDER BY whistle_row "
            "ON CONFLICT DO NOTHING"
        )


@functools.cache
def _sqlite_cursor_class() -> type:
    from django.db.backends.sqlite3.base import SQLiteCursorWrapper

    # A statement's `%s` placeholders → SQLite's `?`, for the statements made here (a
    # few shapes each: a model's insert, a filing's messages).
    converted: dict[str, str] = {}

    convert = SQLiteCursorWrapper.convert_query  # type: ignore[attr-defined]

    class KeptQmarks(SQLiteCursorWrapper):
        """Django's SQLite cursor, keeping each statement's conversion to SQLite's
        placeholders instead of converting it again at every call."""

        def convert_query(self, query: str, *, param_names: Any = None) -> str:
            if param_names is not None:
                return str(convert(self, query, param_names=param_names))
            done = converted.get(query)
            if done is None:
                done = str(convert(self, query))
                if len(converted) >= 256:
                    converted.clear()
                converted[query] = done
            return done

    return KeptQmarks


def kept_cursor(connection: Any) -> Any:
    """Django's cursor, which on SQLite keeps each statement's conversion to SQLite's `?`
    placeholders (for the statements made here, few and sent again and again: an insert
    of 50 columns took 17 µs to convert). Wrapped like Django's own (errors, execute
    wrappers, the query log)."""
    if connection.vendor != "sqlite":
        return connection.cursor()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        raw = connection.connection.cursor(factory=_sqlite_cursor_class())
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


def bound_cursor(connection: Any, *, numbered: bool = False) -> Any:
    """A cursor whose statements' parameters the server binds, on PostgreSQL (elsewhere
    Django's own, `kept_cursor`). Django's cursors bind them in the client, spelling out
    each statement with its values in Python: for an `executemany` of many rows (the
    deadline sweep) that cost more than everything else it does. With `numbered`, the
    statement comes with its placeholders numbered as PostgreSQL's own (`$1`, `$2`, …) and
    is sent as it is: psycopg does not keep its own numbering of a statement of more than 50
    parameters, and would number a filing's statement again at every call. Wrapped like
    Django's own (errors, execute wrappers, the query log)."""
    if connection.vendor != "postgresql":
        return kept_cursor(connection)
    import psycopg

    connection.ensure_connection()
    connection.validate_thread_sharing()
    kind = psycopg.RawCursor if numbered else psycopg.Cursor
    raw = kind(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


# A default made for each row (a callable), as against one prepared once.
_CALLED = object()


@dataclass(frozen=True)
class _Plan:
    """How `insert_values` writes rows of `fields` into a table: the given fields, the other
    columns with their prepared default (or `_CALLED`), and the statements."""

    given: list[Field[Any, Any]]
    rest: list[tuple[Field[Any, Any], Any]]
    sql: str
    copy_sql: str
    # The pieces of `sql`, for a statement of several rows: `INSERT … (columns)`, one row's
    # placeholders, and what follows the rows (ON CONFLICT …).
    head: str
    row: str
    suffix: str

    @property
    def columns(self) -> list[Field[Any, Any]]:
        return [*self.given, *(field for field, _fixed in self.rest)]


@functools.cache
def _plan(model: type[Model], fields: tuple[str, ...], alias: str, ignore: bool) -> _Plan:
    meta = model._meta
    connection = connections[alias]
    quote = connection.ops.quote_name
    given = [_field(model, name) for name in fields]
    named = {field.name for field in given}
    rest: list[tuple[Field[Any, Any], Any]] = []
    for field in meta.concrete_fields:
        if field.name in named or (field.primary_key and getattr(field, "db_returning", False)):
            continue
        if field.has_default() and callable(field.default):
            rest.append((field, _CALLED))
        else:
            rest.append((field, field.get_db_prep_save(field.get_default(), connection)))
    columns = [*given, *(field for field, _fixed in rest)]
    on_conflict = OnConflict.IGNORE if ignore else None
    names = ", ".join(quote(column.column) for column in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    insert = connection.ops.insert_statement(on_conflict=on_conflict)
    head = f"{insert} {quote(meta.db_table)} ({names})"
    row = f"({placeholders})"
    sql = f"{head} VALUES {row}"
    suffix = connection.ops.on_conflict_suffix_sql(columns, on_conflict, None, None) or ""
    if suffix:
        sql = f"{sql} {suffix}"
    copy_sql = f"COPY {quote(meta.db_table)} ({names}) FROM STDIN"
    return _Plan(given, rest, sql, copy_sql, head, row, suffix)


# Fields whose preparation gives back a value of these exact types unchanged (`to_python`
# and `get_prep_value` return it as it is, and no backend adapts it): a column holding only
# such values (or None) is sent as given.
_AS_GIVEN: tuple[tuple[type[Field[Any, Any]], tuple[type, ...]], ...] = (
    (BooleanField, (bool,)),
    (IntegerField, (int,)),
    (CharField, (str,)),
    (TextField, (str,)),
    (FloatField, (float,)),
)


@functools.cache
def unchanged_types(field: Field[Any, Any]) -> tuple[type, ...]:
    """The types whose values `field` prepares as themselves ((): none known); once per
    field (each column of each insert asks)."""
    target = field.target_field if isinstance(field, ForeignKey) else field
    for kind, types in _AS_GIVEN:
        if isinstance(target, kind):
            return types
    return ()


def _prepare(
    field: Field[Any, Any],
    column: tuple[Any, ...],
    connection: Any,
    moments: dict[int, tuple[Any, Any]],
) -> Sequence[Any]:
    """A column's values as the database receives them: the same as the field's
    `get_db_prep_save` gives, without its generic path where the type says what it does.
    Moments and JSON documents are prepared once per distinct object (rows share them)."""
    types = set(map(type, column))
    types.discard(_NONE)
    unchanged = unchanged_types(field)
    if unchanged:
        if types.issubset(unchanged):
            return column
        if unchanged == (str,):
            # A `str` subclass (a TextChoices member) is prepared as itself too.
            for kind in types:
                if not issubclass(kind, str):
                    break
            else:
                return column
    if type(field) is DateTimeField and types <= {datetime}:
        adapt = connection.ops.adapt_datetimefield_value
        if _aware_as_given(column, adapt, moments):
            return column

        def moment(value: Any) -> Any:
            # A naive moment (made aware by the field, with a warning) goes the field's way.
            if value is None or value.utcoffset() is None:
                return field.get_db_prep_save(value, connection)
            return adapt(value)

        return _each_once(moments, column, moment)
    if isinstance(field, JSONField) and types <= {dict, list, tuple}:
        documents: dict[int, tuple[Any, Any]] = {}
        encoder = field.encoder

        def dump(value: Any) -> Any:
            # None is SQL NULL, as `JSONField.get_db_prep_save` has it.
            return None if value is None else _json(value, encoder, connection)

        return _each_once(documents, column, dump)
    # Anything else goes the fields' own way, each distinct object once.
    cache: dict[int, tuple[Any, Any]] = {}

    def prepare(value: Any) -> Any:
        return field.get_db_prep_save(value, connection)

    return _each_once(cache, column, prepare)


def _as_text(field: Field[Any, Any], column: Sequence[Any]) -> Sequence[Any]:
    """A JSON field's column given as its documents' text (`insert_values`' `documents`):
    sent as it is, a value of another kind refused before anything is written."""
    if not isinstance(field, JSONField):
        raise TypeError(f"{field.name} is not a JSON field")
    for value in column:
        if type(value) is not str:
            raise TypeError(f"{field.name}: a document's text was expected, not {value!r}")
    return column


def _aware_as_given(
    column: Sequence[Any], adapt: Callable[[Any], Any], moments: dict[int, tuple[Any, Any]]
) -> bool:
    """Whether every moment of the column is aware (or None) and the backend sends an aware
    moment as itself (PostgreSQL's adapter gives it back unchanged): then the column is what
    the field would send, checked without a Python step per row. The first moment's
    adaptation is kept in `moments`, the cache of the columns' moments (`_prepare`), so that
    a moment shared by several columns (a row's creation and sending) is adapted once."""
    first = next(filter(None, column), None)
    if first is None:
        return False
    found = moments.get(id(first))
    prepared = adapt(first) if found is None else found[1]
    if prepared is not first:
        if found is None and first.utcoffset() is not None:
            moments[id(first)] = (first, prepared)
        return False
    return None not in map(datetime.utcoffset, filter(None, column))


def _json(value: Any, encoder: Any, connection: Any) -> Any:
    """`connection.ops.adapt_json_value(value, encoder)`, the document dumped once. On
    PostgreSQL the adapter would dump it again for every row that holds it (a message's
    payload is shared by its recipients' rows) and go through psycopg's Python dumper each
    time: the text it would send is sent instead, as a plain string (an untyped parameter,
    or a field of `COPY`'s text, which the server reads as the column's `jsonb`)."""
    prepared = connection.ops.adapt_json_value(value, encoder)
    if connection.vendor != "postgresql":
        return prepared
    return (prepared.dumps or json.dumps)(value)


def _each_once(
    cache: dict[int, tuple[Any, Any]], column: Sequence[Any], prepare: Callable[[Any], Any]
) -> list[Any]:
    """`prepare` of each value of the column, called once per distinct object (rows share
    their moments and documents). The cache holds each object with its prepared value, so
    that its id stays its own while the cache lives."""
    prepared: list[Any] = []
    append = prepared.append
    # Rows next to each other often share a value (a message's rows): looked up once.
    last: Any = _NOTHING
    made: Any = None
    for value in column:
        if value is not last:
            key = id(value)
            found = cache.get(key)
            if found is None:
                found = cache[key] = (value, prepare(value))
            last, made = value, found[1]
        append(made)
    return prepared


# No value of a column (`_each_once`).
_NOTHING = object()
# The type of None, which every column may hold (`_prepare`).
_NONE = type(None)


def _defaults(
    field: Field[Any, Any], count: int, connection: Any, *, as_text: bool = False
) -> list[Any]:
    """A callable default made and prepared for each of `count` rows. A random public id
    (`uuid.uuid4`) stored as text (no native uuid type: SQLite), or sent as text (`as_text`:
    the text of PostgreSQL's `COPY`, which reads the 32 hex digits as the column's uuid), is
    made straight as its text, from one read of the system's random source for all the rows."""
    if (
        field.default is uuid.uuid4
        and isinstance(field, UUIDField)
        and (as_text or not connection.features.has_native_uuid_field)
    ):
        return _uuid4_hex(count)
    if (
        field.default is uuid.uuid4
        and isinstance(field, UUIDField)
        and connection.features.has_native_uuid_field
    ):
        # Sent as the `uuid.UUID` itself (what the field prepares for a native uuid type).
        return _uuid4s(count)
    return [field.get_db_prep_save(field.default(), connection) for _ in range(count)]


# The bits of a random UUID that say its version (4) and variant (RFC 4122), as `uuid.UUID`
# sets them.
_KEEP = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_VERSION_4 = (0x4000 << 64) | (0x8000 << 48)


def _uuid4s(count: int) -> list[uuid.UUID]:
    """`count` random version-4 UUIDs as `uuid.uuid4()` makes them, from one read of the
    system's random source."""
    data = os.urandom(16 * count)
    return [
        uuid.UUID(int=int.from_bytes(data[at : at + 16]) & _KEEP | _VERSION_4)
        for at in range(0, 16 * count, 16)
    ]


def _uuid4_hex(count: int) -> list[str]:
    """`count` random version-4 UUIDs as `uuid.uuid4().hex` gives them."""
    data = os.urandom(16 * count)
    return [
        f"{int.from_bytes(data[at : at + 16]) & _KEEP | _VERSION_4:032x}"
        for at in range(0, 16 * count, 16)
    ]
