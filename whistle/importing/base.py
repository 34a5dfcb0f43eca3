"""What every kind of import shares: columns, rows with their errors, look-ups by natural
key, and the plan of changes that is written only when every row is valid."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any, ClassVar, Generic, TypeVar, cast

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from whistle.importing import cells
from whistle.organisation.models import Jurisdiction

K = TypeVar("K")
M = TypeVar("M")

# Rows are read, looked up and checked in batches of this many, so that a large file costs a
# few queries per batch instead of a few per row.
BATCH = 500


@dataclass(frozen=True)
class Column:
    """A column a kind of import reads: its English name, other spellings, and its reader."""

    name: str
    aliases: tuple[str, ...] = ()
    read: cells.Reader = cells.text
    required: bool = False
    geometry: bool = False  # a GeoJSON feature's geometry fills this column

    @property
    def chinese(self) -> str:
        return next((a for a in self.aliases if not a.isascii()), self.name)


def header_key(header: str) -> str:
    """A header reduced for matching: no marks of required columns, no notes in brackets."""
    text = header.strip().strip("*＊").strip()
    text = re.sub(r"\s*[（(][^（()）]*[)）]\s*$", "", text).strip().strip("*＊").strip()
    return re.sub(r"[\s\-]+", "_", text).lower()


@dataclass(frozen=True)
class Problem:
    """An error or warning: where it is (row or feature number, column as written) and what."""

    row: int | None
    column: str | None
    message: str

    def describe(self, unit: str) -> str:
        if self.row is None:
            if self.column and unit == "feature":
                return _("Property “%(column)s”: %(message)s") % {
                    "column": self.column,
                    "message": self.message,
                }
            if self.column:
                return _("Column “%(column)s”: %(message)s") % {
                    "column": self.column,
                    "message": self.message,
                }
            return self.message
        if unit == "feature":
            if self.column:
                return _("Feature %(row)s, property “%(column)s”: %(message)s") % {
                    "row": self.row,
                    "column": self.column,
                    "message": self.message,
                }
            return _("Feature %(row)s: %(message)s") % {"row": self.row, "message": self.message}
        if self.column:
            return _("Row %(row)s, column “%(column)s”: %(message)s") % {
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        return _("Row %(row)s: %(message)s") % {"row": self.row, "message": self.message}


class Row:
    """One record of the file with its cells read, and the errors found in it so far."""

    def __init__(
        self, number: int, values: dict[str, Any], label: Callable[[str | None], str | None]
    ) -> None:
        self.number = number
        self.values = values
        self.errors: list[Problem] = []
        # Set when the row depends on an earlier row that has errors of its own: the row is
        # not checked further, and the earlier row's error says what is wrong.
        self.blocked = False
        self._label = label

    def __getitem__(self, column: str) -> Any:
        return self.values.get(column)

    def given(self, column: str) -> bool:
        """True when the file has this column at all (its cell may still be empty)."""
        return column in self.values

    def error(self, column: str | None, message: str) -> None:
        self.errors.append(Problem(self.number, self._label(column), message))

    @property
    def failed(self) -> bool:
        return bool(self.errors) or self.blocked


class Lookup(Generic[K, M]):
    """Rows by natural key: fetched from the database in batches, and added from the file.

    ``want`` notes the keys a batch of rows needs, ``load`` fetches the ones not known yet
    in one query (per 500 keys), and ``get`` answers from memory. A key that a row of the
    file defines but could not be checked is *spoiled*: rows that refer to it are blocked
    rather than reported again.
    """

    def __init__(self, fetch: Callable[[list[K]], Iterable[tuple[K, M]]]) -> None:
        self._fetch = fetch
        self._known: dict[K, M | None] = {}
        self._wanted: set[K] = set()
        self._spoiled: set[K] = set()

    def want(self, *keys: K | None) -> None:
        for key in keys:
            if key is not None and key not in self._known:
                self._wanted.add(key)

    def load(self) -> None:
        wanted = list(self._wanted)
        self._wanted.clear()
        for start in range(0, len(wanted), BATCH):
            part = wanted[start : start + BATCH]
            for key in part:
                self._known.setdefault(key, None)
            for key, value in self._fetch(part):
                self._known[key] = value

    def get(self, key: K | None) -> M | None:
        if key is None:
            return None
        if key not in self._known:
            self.want(key)
            self.load()
        return self._known.get(key)

    def put(self, key: K, value: M) -> None:
        self._known[key] = value
        self._spoiled.discard(key)

    def spoil(self, key: K | None) -> None:
        if key is not None and self._known.get(key) is None:
            self._spoiled.add(key)

    def spoiled(self, key: K | None) -> bool:
        return key in self._spoiled


class Action(Enum):
    CREATE = "create"
    UPDATE = "update"


@dataclass
class Change:
    instance: models.Model
    action: Action
    fields: list[str] = field(default_factory=list)
    relations: dict[str, list[models.Model]] = field(default_factory=dict)


@dataclass
class Tally:
    label: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def model_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    return cast("models.Field[Any, Any]", model._meta.get_field(name))


def field_label(model: type[models.Model], name: str) -> str:
    return str(model_field(model, name).verbose_name)


def describe_value(value: Any, field_name: str = "") -> str:
    if field_name == "password":
        return _("(a password hash)")
    if value is None or value == "" or value == []:
        return _("(empty)")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return _("(a shape)")
    if isinstance(value, list | tuple | set):
        return cells.join(sorted(describe_value(v) for v in value))
    if isinstance(value, models.Model):
        return str(getattr(value, "code", None) or getattr(value, "username", None) or value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class Importer:
    """One kind of import. Subclasses name their columns and check one row at a time.

    ``check`` looks a row up, reports what is wrong with it, and plans its change with
    ``plan``; nothing is written until every row of the file has been checked.
    """

    kind: ClassVar[str]
    title: ClassVar[Promise]
    columns: ClassVar[tuple[Column, ...]]
    takes_district: ClassVar[bool] = True
    # Model fields whose errors belong to a column of another name.
    field_columns: ClassVar[dict[str, str]] = {"is_active": "active"}

    def __init__(
        self,
        *,
        district: Jurisdiction | None = None,
        update: bool = False,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.district = district
        self.update = update
        self.options = options or {}
        self.changes: list[Change] = []
        self.tallies: dict[type[models.Model], Tally] = {}
        self.warnings: list[Problem] = []
        self.notes: list[str] = []
        self.headers: dict[str, str] = {}  # column name → header as written in the file
        self.setup()

    # --- hooks -----------------------------------------------------------------------------

    def setup(self) -> None:
        """Create the look-ups the kind needs."""

    def prefetch(self, rows: list[Row]) -> None:
        """Fetch in bulk what the rows of one batch refer to."""

    def check(self, row: Row) -> None:
        raise NotImplementedError

    def reserve(self, row: Row) -> None:
        """A row whose cells could not be read: spoil the keys it would define."""

    def finish(self) -> list[Problem]:
        """Checks that need every row; called after the last row."""
        return []

    def after_write(self) -> None:
        """Notes that only make sense once the rows are written (or would be)."""

    def on_written(self) -> None:
        """What follows from the rows once they are written (not on a dry run), in the
        import's transaction."""

    # --- for subclasses -------------------------------------------------------------------

    def label(self, column: str | None) -> str | None:
        if column is None:
            return None
        if column in self.headers:
            return self.headers[column]
        spec = next((c for c in self.columns if c.name == column), None)
        if spec is not None and (translation.get_language() or "").startswith("zh"):
            return spec.chinese
        return column

    def tally(self, model: type[models.Model]) -> Tally:
        if model not in self.tallies:
            self.tallies[model] = Tally(str(model._meta.verbose_name_plural))
        return self.tallies[model]

    def in_district(self, code: str) -> bool:
        return self.district is None or code.startswith(self.district.code)

    def outside_district(self, row: Row, column: str, code: str) -> bool:
        """Report and return True when ``--district`` was given and the code lies outside."""
        if self.in_district(code):
            return False
        assert self.district is not None
        row.error(
            column,
            _("%(code)s is not in %(district)s (%(district_code)s), the district being imported")
            % {"code": code, "district": self.district.name, "district_code": self.district.code},
        )
        return True

    def find(
        self,
        row: Row,
        lookup: Lookup[K, M],
        key: K,
        column: str,
        missing: Callable[[K], str],
    ) -> M | None:
        """Look a key up; report ``missing(key)`` when neither the database nor the file
        has it."""
        found = lookup.get(key)
        if found is None:
            if lookup.spoiled(key):
                row.blocked = True
            else:
                row.error(column, missing(key))
        return found

    def plan(
        self,
        row: Row,
        model: type[models.Model],
        existing: models.Model | None,
        values: dict[str, Any],
        *,
        key_column: str,
        relations: dict[str, list[Any]] | None = None,
        columns: dict[str, str] | None = None,
    ) -> Any:
        """Plan the creation or update of one object, or count it unchanged.

        Returns the object later rows should refer to, or None when the row is in error.
        Without ``--update`` an existing object with other values is a conflict. ``columns``
        names the column of a model field whose column has another name.
        """
        relations = relations or {}
        if existing is None:
            instance = model(**values)
            if not self.validate(row, instance, key_column, columns):
                return None
            self.changes.append(Change(instance, Action.CREATE, relations=relations))
            self.tally(model).created += 1
            return instance
        changed = [name for name, value in values.items() if not _same(existing, name, value)]
        relations_changed = {
            name: items
            for name, items in relations.items()
            if not _same_set(getattr(existing, name).all(), items)
        }
        if not changed and not relations_changed:
            self.tally(model).unchanged += 1
            return existing
        if not self.update:
            differences = [
                _("%(field)s “%(old)s” → “%(new)s”")
                % {
                    "field": field_label(model, name),
                    "old": describe_value(getattr(existing, name), name),
                    "new": describe_value(values[name], name),
                }
                for name in changed
            ] + [
                _("%(field)s “%(old)s” → “%(new)s”")
                % {
                    "field": field_label(model, name),
                    "old": describe_value(list(getattr(existing, name).all())),
                    "new": describe_value(items),
                }
                for name, items in relations_changed.items()
            ]
            row.error(
                key_column,
                _(
                    "This already exists with other values (%(differences)s); use --update to "
                    "overwrite them"
                )
                % {"differences": _("; ").join(differences)},
            )
            return None
        instance = copy.copy(existing)
        for name, value in values.items():
            setattr(instance, name, value)
        if not self.validate(row, instance, key_column, columns):
            return None
        self.changes.append(Change(instance, Action.UPDATE, changed, relations_changed))
        self.tally(model).updated += 1
        return instance

    def validate(
        self,
        row: Row,
        instance: models.Model,
        key_column: str | None = None,
        columns: dict[str, str] | None = None,
    ) -> bool:
        """The model's own checks, without the look-ups the importer has already done.

        Errors about the whole object are reported in ``key_column``.
        """
        skipped = {f.name for f in instance._meta.fields if f.is_relation}
        try:
            instance.full_clean(exclude=skipped, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            errors: dict[str, list[str]] = (
                dict(exc.message_dict)
                if hasattr(exc, "error_dict")
                else {NON_FIELD_ERRORS: exc.messages}
            )
            for name, messages in errors.items():
                if name == NON_FIELD_ERRORS:
                    column = key_column
                else:
                    column = (columns or self.field_columns).get(name, name)
                for message in messages:
                    row.error(column, message)
            return False
        return True


def _same(existing: models.Model, name: str, value: Any) -> bool:
    model_field = existing._meta.get_field(name)
    if model_field.many_to_one or model_field.one_to_one:
        if value is None:
            return getattr(existing, model_field.attname) is None  # type: ignore[union-attr]
        return (
            value.pk is not None and getattr(existing, model_field.attname) == value.pk  # type: ignore[union-attr]
        )
    current = getattr(existing, name)
    return bool(current == value)


def _same_set(current: Iterable[models.Model], wanted: list[Any]) -> bool:
    if any(item.pk is None for item in wanted):
        return False
    return {item.pk for item in current} == {item.pk for item in wanted}
