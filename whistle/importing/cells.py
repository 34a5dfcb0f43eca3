"""Reading one cell: text, codes, numbers, yes/no, choices, lists, dates and geometry.

Every reader takes the raw value a file gave (text from CSV, numbers and dates from a
spreadsheet, any JSON value from GeoJSON properties) and either returns a Python value or
raises ``CellError`` with a message for the person who wrote the file. Blank cells never
reach a reader: the pipeline turns them into ``None`` first.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from django.db.models import TextChoices
from django.utils import translation
from django.utils.translation import gettext as _

from whistle.organisation import geo

Reader = Callable[[Any], Any]


class CellError(ValueError):
    """A cell's value cannot be read; the message is shown to the person as it is."""


def join(items: Iterable[Any]) -> str:
    """Items of a list in a message, separated as the report's language separates them."""
    return _(", ").join(str(item) for item in items)


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | dict) and not value


def as_text(value: Any) -> str:
    """The text of a cell; a whole number from a spreadsheet loses its ``.0``."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def text(value: Any) -> str:
    return as_text(value)


def digits(*lengths: int) -> Reader:
    """An official code: only digits, of one of the given lengths."""
    allowed = "/".join(str(n) for n in lengths)

    def read(value: Any) -> str:
        code = as_text(value)
        if not code.isascii() or not code.isdigit() or len(code) not in lengths:
            raise CellError(
                _("“%(value)s” is not a code of %(lengths)s digits")
                % {"value": code, "lengths": allowed}
            )
        return code

    return read


def positive_integer(value: Any) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = value
    else:
        raw = as_text(value)
        try:
            number = float(raw) if "." in raw else int(raw)
        except ValueError:
            raise CellError(_("“%(value)s” is not a whole number") % {"value": raw}) from None
    if isinstance(number, float):
        if not number.is_integer():
            raise CellError(_("“%(value)s” is not a whole number") % {"value": as_text(value)})
        number = int(number)
    if number < 1:
        raise CellError(_("Enter a whole number of 1 or more"))
    return number


_YES = {"1", "y", "yes", "true", "t", "on", "是", "有", "启用", "对", "√", "✓"}
_NO = {"0", "n", "no", "false", "f", "off", "否", "无", "停用", "不", "×", "✗"}


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raw = as_text(value).lower()
    if raw in _YES:
        return True
    if raw in _NO:
        return False
    raise CellError(_("“%(value)s” is neither yes (是) nor no (否)") % {"value": as_text(value)})


def _normal(word: str) -> str:
    return re.sub(r"[\s_\-]+", "", word).lower()


@functools.cache
def _choice_words(choices: type[TextChoices], extra: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Every spelling of every choice: its value, its English and Chinese labels, extras."""
    words: dict[str, str] = {}
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for value, label in choices.choices:
                if value:
                    words[_normal(str(label))] = value
    for value in choices.values:
        if value:
            words[_normal(value)] = value
    for word, value in extra:
        words[_normal(word)] = value
    return words


def choice(choices: type[TextChoices], extra: Mapping[str, str] | None = None) -> Reader:
    """One of a model's choices, by value (``township``) or label in English or Chinese."""
    extras = tuple(sorted((extra or {}).items()))

    def read(value: Any) -> str:
        raw = as_text(value)
        found = _choice_words(choices, extras).get(_normal(raw))
        if found is None:
            accepted = join(
                value
                if _normal(str(label)) == _normal(value)
                else _("%(label)s (%(value)s)") % {"label": label, "value": value}
                for value, label in choices.choices
                if value
            )
            raise CellError(
                _("“%(value)s” is not one of: %(accepted)s") % {"value": raw, "accepted": accepted}
            )
        return found

    return read


_ITEM_SEPARATORS = re.compile(r"[,，、;；|\n]+")


def split_items(value: Any) -> list[str]:
    """A list: JSON lists from GeoJSON, or text separated by , ， 、 ; ； | or new lines."""
    parts: Iterable[Any] = value if isinstance(value, list) else _ITEM_SEPARATORS.split(str(value))
    items: list[str] = []
    for part in parts:
        item = as_text(part) if part is not None else ""
        if item and item not in items:
            items.append(item)
    return items


_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")
_COMPACT_DATE = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")


def day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = as_text(value)
    match = _DATE.match(raw) or _COMPACT_DATE.match(raw)
    if match:
        year, month, dom = (int(g) for g in match.groups())
        try:
            return date(year, month, dom)
        except ValueError:
            pass
    raise CellError(
        _("“%(value)s” is not a date; write it like 2027-01-01 or 2027年1月1日") % {"value": raw}
    )


def _geometry_value(value: Any) -> Any:
    if isinstance(value, dict):
        return value
    try:
        return json.loads(as_text(value))
    except json.JSONDecodeError as exc:
        raise CellError(_("Not valid GeoJSON: %(error)s") % {"error": exc.msg}) from None


def _bare(geometry: dict[str, Any]) -> dict[str, Any]:
    # Only the members that describe the shape are kept, so that an equal shape from
    # another file compares equal.
    return {"type": geometry["type"], "coordinates": geometry["coordinates"]}


def _where(text: str) -> str:
    if match := re.match(r"^position (\d+)$", text):
        return _("position %(n)s") % {"n": match[1]}
    if match := re.match(r"^polygon (\d+) ring (\d+)$", text):
        return _("ring %(ring)s of polygon %(polygon)s") % {"polygon": match[1], "ring": match[2]}
    return text


# The geometry module explains its errors in English; these say the same to the reader of
# the report in their language. A message not listed here is shown as it is.
_GEOMETRY_ERRORS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(r"^polygon (\d+) ring (\d+) needs at least four positions$"),
        lambda m: (
            _("ring %(ring)s of polygon %(polygon)s needs at least four positions")
            % {"polygon": m[1], "ring": m[2]}
        ),
    ),
    (
        re.compile(r"^polygon (\d+) ring (\d+) is not closed$"),
        lambda m: (
            _("ring %(ring)s of polygon %(polygon)s does not end where it starts")
            % {"polygon": m[1], "ring": m[2]}
        ),
    ),
    (
        re.compile(r"^polygon (\d+) has no rings$"),
        lambda m: _("polygon %(polygon)s has no rings") % {"polygon": m[1]},
    ),
    (
        re.compile(r"^(.*): a position must be \[longitude, latitude\]$"),
        lambda m: (
            _("%(where)s: a position must be [longitude, latitude]") % {"where": _where(m[1])}
        ),
    ),
    (
        re.compile(r"^(.*): \[(.*)\] is outside WGS-84 longitude/latitude$"),
        lambda m: (
            _("%(where)s: [%(position)s] is not a WGS-84 longitude and latitude")
            % {"where": _where(m[1]), "position": m[2]}
        ),
    ),
    (
        re.compile(r"^a LineString needs at least two positions$"),
        lambda m: _("a line needs at least two positions"),
    ),
    (
        re.compile(r"^expected a GeoJSON LineString$"),
        lambda m: _("the shape is not a line"),
    ),
    (
        re.compile(r"^expected a GeoJSON Polygon or MultiPolygon$"),
        lambda m: _("the shape is not a polygon"),
    ),
    (
        re.compile(r"^a polygon needs coordinates$"),
        lambda m: _("the polygon has no coordinates"),
    ),
)


def _geometry_detail(error: geo.GeometryError) -> str:
    text = str(error)
    for pattern, say in _GEOMETRY_ERRORS:
        match = pattern.match(text)
        if match:
            return say(match)
    return text


def polygon(value: Any) -> dict[str, Any]:
    geometry = _geometry_value(value)
    try:
        geo.polygon_rings(geometry)
    except geo.GeometryError as exc:
        raise CellError(
            _("Not a valid GeoJSON Polygon or MultiPolygon: %(error)s")
            % {"error": _geometry_detail(exc)}
        ) from None
    return _bare(geometry)


def line(value: Any) -> dict[str, Any]:
    geometry = _geometry_value(value)
    try:
        geo.line_positions(geometry)
    except geo.GeometryError as exc:
        raise CellError(
            _("Not a valid GeoJSON LineString: %(error)s") % {"error": _geometry_detail(exc)}
        ) from None
    return _bare(geometry)
