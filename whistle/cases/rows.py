"""Inserting one new row of a model as `save(force_insert=True)` does, without the ORM's
query building.

A filing inserts a case, its first trail event and, for a work order, the order: one row
each. `Model.save` builds an `InsertQuery`, compiles it and prepares every value through the
compiler on each call, which costs more than the insert itself. `insert_new` keeps the
statement per model and database, and prepares each value with its field
(`pre_save`, then `get_db_prep_save`) as the compiler does; the key the database gives is
set on the object, which then counts as saved. A model with `pre_save` or `post_save`
receivers is saved through the ORM, so that they still run.

Each field's value is read by a function made once per field and database (`_preparer`):
a value the field would send as it is (text, a number, a key, None), or an aware moment the
backend adapts, skips the field's generic path of `pre_save`, `get_db_prep_save`,
`get_db_prep_value`, `get_prep_value` and `to_python`; any other value goes that way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import connections, router, transaction
from django.db.models import DateTimeField, Field, ForeignKey, Model
from django.db.models.base import ModelState
from django.db.models.fields.related import ForeignObjectRel
from django.db.models.signals import post_init, post_save, pre_init, pre_save

from whistle.cases.bulk import Values, bound_cursor, kept_cursor, unchanged_types
from whistle.organisation import map_triggers

M = TypeVar("M", bound=Model)
if TYPE_CHECKING:
    Prepare = Callable[[Model], Any]
    Plan = tuple[str, list[Field[Any, Any]], Field[Any, Any] | None, list[Prepare]]
# (database alias, model) → the INSERT, the fields it fills in order, the key the database
# gives (None: the model's key is set before the insert), and each field's `_preparer`.
_PLANS: dict[tuple[str, type[Model]], Plan] = {}


class _Text(str):
    """A `str` subclass, as a TextChoices member is."""


def _sent_as_given(field: Field[Any, Any], connection: Any, types: tuple[type, ...]) -> bool:
    """Whether the field gives None and a value of each of `types` back as the very object
    given, on this database (PostgreSQL's backend wraps some integers in a type of
    psycopg's; a database that stores the empty text as NULL gives None for a key's "")."""
    if field.get_db_prep_save(None, connection) is not None:
        return False
    samples: dict[type, tuple[Any, ...]] = {
        str: ("text", "", _Text("text")),
        int: (12_345,),
        float: (1.5,),
        bool: (True,),
    }
    return all(
        field.get_db_prep_save(sample, connection) is sample
        for kind in types
        for sample in samples.get(kind, (object(),))
    )


def _preparer(field: Field[Any, Any], connection: Any) -> Prepare:
    """A function of a new instance giving what `save` sends for `field`:
    `field.get_db_prep_save(field.pre_save(obj, True), connection)`. Where the field's type
    says what that is, without the generic path: the value itself for None or a value of a
    type the field gives back unchanged on this database (`bulk.unchanged_types`, checked by
    `_sent_as_given`), the backend's adaptation for an aware moment of a `DateTimeField`
    that does not set itself (`auto_now`, `auto_now_add`)."""

    def generic(obj: Model) -> Any:
        return field.get_db_prep_save(field.pre_save(obj, True), connection)

    attname = field.attname
    if type(field) is DateTimeField:
        if field.auto_now or field.auto_now_add:
            return generic
        adapt = connection.ops.adapt_datetimefield_value

        def moment(obj: Model) -> Any:
            value = getattr(obj, attname)
            if value is None:
                return None
            if type(value) is datetime and value.utcoffset() is not None:
                return adapt(value)
            # A naive moment is made aware by the field, with its warning.
            return field.get_db_prep_save(value, connection)

        return moment
    types = unchanged_types(field)
    if (
        not types
        or type(field).pre_save is not Field.pre_save
        or not _sent_as_given(field, connection, types)
    ):
        return generic
    # A `str` subclass (a TextChoices member) is sent as itself too.
    text = types == (str,)

    def plain(obj: Model) -> Any:
        value = getattr(obj, attname)
        kind = type(value)
        if value is None or kind in types or (text and issubclass(kind, str)):
            return value
        return field.get_db_prep_save(value, connection)

    return plain


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
    return sql, fields, returned, [_preparer(field, connection) for field in fields]


# Model → its foreign keys, for `_check_related`; None: a model with private relations
# (generic foreign keys), which Django's own check looks at.
_RELATIONS: dict[type[Model], list[Any] | None] = {}


def _check_related(obj: Model) -> None:
    """What `save` checks of the related objects assigned to a new instance
    (`Model._prepare_related_fields_for_save`), looking only at its foreign keys: one
    assigned unsaved is refused (and dropped from the cache), one saved since its assignment
    gives its key, one whose key changed since is no longer cached."""
    model = type(obj)
    if model not in _RELATIONS:
        meta = model._meta
        _RELATIONS[model] = (
            None
            if any(field.is_relation for field in meta.private_fields)
            else [field for field in meta.concrete_fields if field.is_relation]
        )
    relations = _RELATIONS[model]
    if relations is None:
        obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
        return
    cache = obj._state.fields_cache
    for field in relations:
        if field.cache_name not in cache:
            continue
        related = cache[field.cache_name]
        if not related:
            continue
        if not related._is_pk_set():
            if not field.remote_field.multiple:
                field.remote_field.delete_cached_value(related)
            raise ValueError(
                f"save() prohibited to prevent data loss due to unsaved related object "
                f"'{field.name}'."
            )
        if getattr(obj, field.attname) in field.empty_values:
            setattr(obj, field.name, related)
        if getattr(related, field.target_field.attname) != getattr(obj, field.attname):
            field.delete_cached_value(obj)


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
    sql, _fields, returned, prepares = plan
    connection = connections[alias]
    # What `save` checks first: a related object assigned unsaved is refused, one saved
    # since its assignment gives its key.
    _check_related(obj)
    params = [prepare(obj) for prepare in prepares]
    with transaction.mark_for_rollback_on_error(using=alias), kept_cursor(connection) as cursor:
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


# Model → for each field `Model.__init__` fills: its name, its attname, whether it refers to
# another row (set through its descriptor when given as an object), whether its value is
# written through a descriptor of its own, and the function giving its default.
_Slot = tuple[str, str, bool, bool, Callable[[], Any]]
_INITS: dict[type[Model], list[_Slot]] = {}
_NOT_GIVEN = object()


def _slots(model: type[Model]) -> list[_Slot]:
    slots = []
    for field in model._meta.fields:
        if field.column is None or field.generated:
            continue
        related = isinstance(field.remote_field, ForeignObjectRel)
        # A field's own descriptor with `__set__` (a file's) is written through it; a
        # foreign key's attname (`ForeignKeyDeferredAttribute`) only drops a cached object,
        # which a new instance does not have.
        descriptor = model.__dict__.get(field.attname)
        own_setter = not related and descriptor is not None and hasattr(type(descriptor), "__set__")
        default = field.get_default
        if type(field).get_default is Field.get_default:
            # The same function `get_default` calls, taken once.
            default = field._get_default  # type: ignore[attr-defined]
        slots.append((field.name, field.attname, related, own_setter, default))
    return slots


def new_row(model: type[M], /, **values: Any) -> M:
    """`model(**values)`, made without the generic path of `Model.__init__` for a model with
    no parents and no `pre_init` or `post_init` receivers: each field's value given by its
    name (a related object, set through its descriptor as `__init__` sets it: checked, cached,
    the router asked) or its attname, else its default; any other keyword (a property) goes
    through `__init__` itself."""
    if model._meta.parents or pre_init.has_listeners(model) or post_init.has_listeners(model):
        return model(**values)
    slots = _INITS.get(model)
    if slots is None:
        slots = _INITS[model] = _slots(model)
    obj = model.__new__(model)
    obj._state = ModelState()
    own = obj.__dict__
    given = len(values)
    used = 0
    for name, attname, related, own_setter, default in slots:
        if related:
            value = values.get(name, _NOT_GIVEN)
            if value is not _NOT_GIVEN:
                used += 1
                setattr(obj, name, value)
                continue
        value = values.get(attname, _NOT_GIVEN)
        if value is _NOT_GIVEN:
            value = default()
        else:
            used += 1
        if own_setter:
            setattr(obj, attname, value)
        else:
            own[attname] = value
    if used != given:
        # A keyword that is no field's name or attname: `__init__` says what it is.
        return model(**values)
    return obj


# A filing's statement with `%s` placeholders → the same with `$1`, `$2`, …: a few shapes
# (the number of messages varies), each numbered once.
_NUMBERED: dict[str, str] = {}


def _numbered(statement: str) -> str:
    """`statement`, made here of quoted names and `%s` placeholders only, with its
    placeholders numbered as PostgreSQL's own (`$1`, `$2`, …)."""
    numbered = _NUMBERED.get(statement)
    if numbered is None:
        pieces = statement.split("%s")
        numbered = pieces[0] + "".join(
            f"${index}{piece}" for index, piece in enumerate(pieces[1:], start=1)
        )
        if len(_NUMBERED) >= 64:
            _NUMBERED.clear()
        _NUMBERED[statement] = numbered
    return numbered


def _link_to(child: Model, first: Model) -> Field[Any, Any]:
    """The foreign key of `child` that holds `first`; the other objects it holds must be
    saved (a row that refers to an unsaved one is refused, as by `save`)."""
    link = None
    for field in child._meta.concrete_fields:
        if not isinstance(field, ForeignKey) or not field.is_cached(child):
            continue
        related = field.get_cached_value(child)
        if related is first:
            link = field
        elif related is not None:
            target = field.target_field
            key = getattr(related, target.attname)
            if key is None:
                raise ValueError(
                    f"save() prohibited to prevent data loss due to unsaved related object "
                    f"'{field.name}'."
                )
            if getattr(child, field.attname) is None:
                setattr(child, field.attname, key)
    if link is None:
        raise ValueError(f"{type(child).__name__} does not refer to the row inserted with it.")
    return link


def insert_together(first: Model, children: Sequence[Model], also: Values | None = None) -> None:
    """Insert `first`, a new instance, and `children`, new instances that each refer to it
    by a foreign key, then the rows of `also` (a filing: the case, its first trail event and
    its work order, then its messages and webhooks), each as `insert_new` and
    `insert_values` would.

    On PostgreSQL that is one statement, each insert a data-modifying `WITH` whose child
    rows take the key of `first` from its `RETURNING`: one round trip instead of one per
    table, its parameters bound by the server (`bound_cursor`). An error of any row refuses
    them all and marks the transaction for rollback, as the separate inserts would.
    Elsewhere, or for a model with receivers or keys not given by the database, the rows go
    in one statement each."""
    alias = router.db_for_write(type(first), instance=first)
    connection = connections[alias]
    models: list[type[Model]] = [type(first), *(type(child) for child in children)]
    plans = [
        _PLANS.get((alias, model)) or _PLANS.setdefault((alias, model), _plan(model, alias))
        for model in models
    ]
    one_statement = (
        connection.vendor == "postgresql"
        and all(plan[2] is not None for plan in plans)
        and not any(
            model._meta.parents or pre_save.has_listeners(model) or post_save.has_listeners(model)
            for model in models
        )
    )
    # Every child must refer to `first`, and only to saved rows besides it, on every path.
    links = [_link_to(child, first) for child in children]
    if not one_statement:
        insert_new(first)
        for child in children:
            insert_new(child)
        if also is not None:
            also.insert()
        return
    quote = connection.ops.quote_name
    _check_related(first)
    first_key = quote(plans[0][2].column)  # type: ignore[union-attr]
    parts: list[str] = []
    params: list[Any] = []
    keys: list[str] = []
    rows = [first, *children]
    for index, (obj, (sql, fields, returned, prepares)) in enumerate(zip(rows, plans, strict=True)):
        assert returned is not None
        name = f"row{index}"
        link = links[index - 1] if index else None
        values = []
        for field, prepare in zip(fields, prepares, strict=True):
            if field is link:
                # The key `first` is given, read from its insert's RETURNING.
                values.append(f"(SELECT {first_key} FROM row0)")
            else:
                values.append("%s")
                params.append(prepare(obj))
        head = sql.split(" VALUES ", 1)[0]
        parts.append(
            f"{name} AS ({head} VALUES ({', '.join(values)}) RETURNING {quote(returned.column)})"
        )
        keys.append(f"(SELECT {quote(returned.column)} FROM {name})")
    if also is not None and also.rows:
        extra, extra_params = also.statement(alias)
        parts.append(f"messages AS ({extra})")
        params.extend(extra_params)
    # A filing working under the tokens its process saw last reads the current ones here,
    # beside its inserts: when they differ it is rolled back and done again
    # (`map_triggers.RevisionsChanged`).
    expected = map_triggers.pending()
    if expected is not None:
        keys.extend(map_triggers.token_columns(*map_triggers.FILING_REVISIONS))
    statement = _numbered(f"WITH {', '.join(parts)} SELECT {', '.join(keys)}")
    with (
        transaction.mark_for_rollback_on_error(using=alias),
        bound_cursor(connection, numbered=True) as cursor,
    ):
        cursor.execute(statement, params)
        row = cursor.fetchone()
    if expected is not None:
        expected.settle(row[len(rows) :])
        row = row[: len(rows)]
    for obj, (_sql, _fields, returned, _prepares), key in zip(rows, plans, row, strict=True):
        assert returned is not None
        setattr(obj, returned.attname, key)
        obj._state.adding = False
        obj._state.db = alias
    for child, link in zip(children, links, strict=True):
        setattr(child, link.attname, first.pk)
