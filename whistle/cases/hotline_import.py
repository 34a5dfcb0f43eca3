"""Work orders in bulk: the hotline platform's export (XLSX or CSV) taken as one batch.

Which column fills which field of an order is the district's data
(`whistle.policies.models.hotline_columns`). Every row is taken by the same action as an
order typed in by a dispatcher (`take_hotline_order`), so it is checked, scoped and recorded
the same way; all rows run in one transaction, and a file with any bad row writes nothing
and reports every bad row. An order number taken before (by an earlier import, a
dispatcher, or a row above in the same file) returns its case and writes nothing, so a
file can be imported again safely.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from whistle.cases.actions.hotline import Channel, TakenOrder, take_hotline_orders
from whistle.cases.errors import ActionRefused, InvalidInput
from whistle.cases.rules import hotline_deadline_classes
from whistle.organisation import geo
from whistle.organisation.addresses import AddressNotPlaced, Gazetteer
from whistle.organisation.models import Jurisdiction, Lane, Person
from whistle.organisation.tables import TableUnreadable, cell_text, read_table
from whistle.policies.models import Category, hotline_columns

# The fields without which a row cannot be an order; its place is the longitude and latitude,
# a lane, or an address that names a lane.
REQUIRED_FIELDS = ("order_number", "description")
POSITION_FIELDS = ("lon", "lat")
# The most rows one file may hold; a larger export is split by the platform's own filter.
ROWS_MAX = 5000
# Formats of a time written as text, Beijing time unless it says otherwise.
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")
# How an export may write the channel of an order, beside the channel's code and label.
CHANNEL_WORDS = {
    Channel.HOTLINE: ("12345", "热线", "市民热线"),
    Channel.SUPERIOR: ("上级交办", "交办", "上级"),
    Channel.OTHER: ("其他",),
}


class ExportUnreadable(ActionRefused):
    """The file as a whole cannot be read as an export: nothing in it is looked at."""

    code = "unreadable"


@dataclass(frozen=True)
class RowProblem:
    """What is wrong with one row: its number as the spreadsheet shows it, the column
    (empty when the row as a whole), and the message."""

    row: int
    column: str
    message: str


@dataclass
class HotlineImport:
    """The outcome of one file: the orders it created, those taken before, and the
    problems. With any problem nothing was written."""

    rows: int = 0
    created: list[TakenOrder] = field(default_factory=list)
    existing: list[TakenOrder] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# Reading ---------------------------------------------------------------------------------


def read_export(name: str, content: bytes) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    """The header row and the numbered data rows (the header is row 1) of an .xlsx or .csv
    file given as bytes."""
    try:
        header, *rows = read_table(name, content)
    except TableUnreadable as exc:
        raise ExportUnreadable(str(exc)) from exc
    numbered = ((number, row) for number, row in enumerate(rows, start=2))
    return [cell_text(v) for v in header], numbered


# Checking --------------------------------------------------------------------------------


def _header_map(headers: list[str], district: Jurisdiction) -> dict[str, int]:
    """The column index of each order field found among the headers."""
    wanted = hotline_columns(district)
    found: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = header.strip().lower()
        for name, names in wanted.items():
            if name not in found and key in (n.strip().lower() for n in names):
                found[name] = index
    missing = [name for name in REQUIRED_FIELDS if name not in found]
    if "lane" not in found and "address" not in found:
        missing += [name for name in POSITION_FIELDS if name not in found]
    if missing:
        raise ExportUnreadable(
            _(
                "The file has no column for %(fields)s. Its columns are: %(headers)s. The "
                "district's column names are set in the administration (hotline import "
                "columns)."
            ),
            fields=_(", ").join(" / ".join(wanted[name]) for name in missing),
            headers=_(", ").join(h for h in headers if h),
        )
    return found


def _number(value: Any, label: str | Promise) -> float:
    try:
        return float(cell_text(value))
    except ValueError:
        raise InvalidInput("position", _("%(label)s is not a number."), label=label) from None


def _position(
    cells: dict[str, Any], lanes: dict[str, list[Lane]], gazetteer: Gazetteer | None
) -> tuple[float, float]:
    """The longitude and latitude given, else the point halfway along the lane named, else
    along the lane the address names (a platform that keeps no coordinates writes the lane,
    or only the address)."""
    lane_column, address = "lane" in cells, cell_text(cells.get("address"))
    coordinates = cell_text(cells.get("lon")) or cell_text(cells.get("lat"))
    if coordinates or not (lane_column or gazetteer):
        return _number(cells.get("lon"), _("The longitude")), _number(
            cells.get("lat"), _("The latitude")
        )
    name = cell_text(cells.get("lane"))
    if not name and gazetteer is not None and address:
        try:
            placed = gazetteer.place(address)
        except AddressNotPlaced as exc:
            raise InvalidInput("address", str(exc)) from None
        return placed.lon, placed.lat
    if not name:
        raise InvalidInput(
            "position", _("Give the longitude and latitude, the lane, or the address.")
        )
    found = lanes.get(name, [])
    if len(found) != 1:
        raise InvalidInput(
            "lane",
            _("%(name)s is not a lane of this district: give its name as in the lane list.")
            if not found
            else _(
                "%(name)s is the name of lanes in several townships: give the longitude and "
                "latitude instead."
            ),
            name=name,
        )
    return geo.halfway(found[0].centre_line)


def _called_at(value: Any) -> datetime | None:
    beijing = timezone.get_default_timezone()
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=beijing)
    text = cell_text(value)
    for pattern in TIME_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=beijing)
        except ValueError:
            continue
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            "called_at",
            _("%(value)s is not a time: write it as 2026-05-12 09:00."),
            value=text,
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=beijing)


def _channel(value: Any) -> str:
    text = cell_text(value)
    if not text:
        return Channel.HOTLINE
    for channel in Channel:
        if text in (channel.value, str(channel.label), *CHANNEL_WORDS[channel]):
            return channel.value
    # Unknown words are passed on, for the action to refuse with the list of channels.
    return text


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


def _category_words(category: Category) -> set[str]:
    """What a cell may write for the category, folded (`_folded`): its 4-digit code, its
    name or its English name, each alone or after the code, as the platform's export and the
    category list write them, whatever the language of the person importing."""
    names = [category.name, category.name_en]
    words = {category.full_code}
    for name in filter(None, (n.strip() for n in names)):
        words |= {name, f"{category.full_code} {name}"}
    return {_folded(word) for word in words}


def _category(value: Any, categories: list[Category]) -> Category | None:
    text = cell_text(value)
    if not text:
        return None
    wanted = _folded(text)
    matches = [c for c in categories if wanted in _category_words(c)]
    if len(matches) != 1:
        raise InvalidInput(
            "category",
            _(
                "%(value)s is not one category of this district: write its 4-digit code, "
                "its name or its English name."
            )
            if not matches
            else _("%(value)s names several categories: write the one meant by its 4-digit code."),
            value=text,
        )
    return matches[0]


def _deadline_class(value: Any, district: Jurisdiction) -> str | None:
    text = cell_text(value)
    if not text:
        return None
    wanted = text.lower()
    classes = hotline_deadline_classes(district)
    # A class's code or name before another's other name: a district's own class named
    # 特急 wins over the built-in class that has 特急 among its other names.
    for limits in classes:
        if wanted in (limits.code.lower(), limits.name.lower()):
            return limits.code
    for limits in classes:
        if wanted in (w.lower() for w in limits.words):
            return limits.code
    return text


def _arguments(
    cells: dict[str, Any],
    district: Jurisdiction,
    categories: list[Category],
    lanes: dict[str, list[Lane]],
    gazetteer: Gazetteer | None,
) -> dict[str, Any]:
    number = cell_text(cells.get("order_number"))
    if not number:
        # An order numbered at its intake would be new again at every import of the file.
        raise InvalidInput(
            "number",
            _(
                "Give the order's number: an export is imported again safely only by the "
                "numbers of its orders."
            ),
        )
    lon, lat = _position(cells, lanes, gazetteer)
    return {
        "number": number,
        "description": cell_text(cells.get("description")),
        "lon": lon,
        "lat": lat,
        "address": cell_text(cells.get("address")),
        "caller_name": cell_text(cells.get("caller_name")),
        "caller_phone": cell_text(cells.get("caller_phone")),
        "called_at": _called_at(cells.get("called_at")),
        "channel": _channel(cells.get("channel")),
        "deadline_class": _deadline_class(cells.get("deadline_class"), district),
        "category": _category(cells.get("category"), categories),
    }


# The field an action names → the order field (and so the column) it comes from.
_ACTION_FIELDS = {"number": "order_number"}


def import_hotline_orders(
    actor: Person | None,
    district: Jurisdiction,
    headers: list[str],
    rows: Iterable[tuple[int, list[Any]]],
    *,
    now: datetime | None = None,
) -> HotlineImport:
    """Take every order of an export in one transaction (`take_hotline_orders`): all of
    them, or none when any row is bad (then every bad row is reported). `actor` None is the
    hotline platform itself; a person takes only orders in their scope, as on the order
    page. `headers` and `rows` come from `read_export` (or any reader that numbers rows the
    same way)."""
    columns = _header_map(headers, district)
    labels = {name: headers[index] for name, index in columns.items()}
    # A problem with the place is shown on the longitude's column, or the lane's.
    labels["position"] = labels.get("lon") or labels.get("lane") or labels.get("address", "")
    categories = list(
        Category.objects.filter(major__district=district, is_active=True).select_related("major")
    )
    lanes: dict[str, list[Lane]] = {}
    if "lane" in columns:
        for lane in Lane.objects.filter(township__parent=district).only("name", "centre_line"):
            lanes.setdefault(lane.name, []).append(lane)
    # Without coordinates, an order's address may name its lane.
    gazetteer = Gazetteer(district) if "address" in columns else None
    outcome = HotlineImport()

    def orders() -> Iterator[tuple[int, Callable[[], dict[str, Any]]]]:
        for number, values in rows:
            if not any(cell_text(v) for v in values):
                continue
            outcome.rows += 1
            if outcome.rows > ROWS_MAX:
                raise ExportUnreadable(
                    _("The file holds more than %(max)s orders: import it in parts."),
                    max=ROWS_MAX,
                )
            cells = {
                name: values[index] if index < len(values) else None
                for name, index in columns.items()
            }
            yield number, partial(_arguments, cells, district, categories, lanes, gazetteer)

    batch = take_hotline_orders(actor, orders(), district=district, now=now)
    for problem in batch.problems:
        field_name = "position" if problem.field.startswith("position") else problem.field
        column = labels.get(_ACTION_FIELDS.get(field_name, field_name), "")
        outcome.problems.append(RowProblem(problem.at, column, problem.message))
    for taken in batch.orders:
        (outcome.created if taken.created else outcome.existing).append(taken)
    return outcome
