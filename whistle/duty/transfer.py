"""A roster's rotations as a file (CSV or XLSX) and back.

One row per member of a rotation: which days the rotation is for, its handover times, how
often the turn passes on, the day the first member is on duty, the member's place in the
order, the member and their backup (by username; the names beside them are for the reader
and are not read back), the rotation's last day and its on-duty position (where the person on
duty waits, for the 30-minute reach; a file without those two columns leaves each rotation's
position as it was). Importing replaces the roster's rotations with those of the file,
through the roster's own actions and in one transaction: every row is checked first, and a
file with any bad row changes nothing. Swaps and covers are not part of the file; they stay
as they were approved.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from whistle.duty import actions
from whistle.duty.errors import DutyRefused
from whistle.duty.models import Roster, Rotation, RotationMember
from whistle.duty.permissions import eligible_people
from whistle.duty.schedule import days_ahead
from whistle.organisation.models import Person
from whistle.organisation.tables import TableUnreadable, cell_text, read_table
from whistle.policies.calendar import to_local

COLUMNS = (
    "days",
    "handovers",
    "turn",
    "starts_on",
    "position",
    "person",
    "person_name",
    "backup",
    "backup_name",
    "ends_on",
    "post_lon",
    "post_lat",
)
# The headers the export writes, in the reader's language; each is read back in either.
HEADERS = {
    "days": pgettext_lazy("roster file column", "days"),
    "handovers": pgettext_lazy("roster file column", "handover times"),
    "turn": pgettext_lazy("roster file column", "the turn passes on"),
    "starts_on": pgettext_lazy("roster file column", "starts on"),
    "position": pgettext_lazy("roster file column", "order"),
    "person": pgettext_lazy("roster file column", "on duty (username)"),
    "person_name": pgettext_lazy("roster file column", "on duty (name)"),
    "backup": pgettext_lazy("roster file column", "backup (username)"),
    "backup_name": pgettext_lazy("roster file column", "backup (name)"),
    "ends_on": pgettext_lazy("roster file column", "ends on"),
    "post_lon": pgettext_lazy("roster file column", "on-duty position longitude"),
    "post_lat": pgettext_lazy("roster file column", "on-duty position latitude"),
}
# The Chinese headers a spreadsheet kept by hand may use instead.
HEADER_ALIASES = {
    "日期类型": "days",
    "适用日": "days",
    "交班时间": "handovers",
    "轮换": "turn",
    "轮换方式": "turn",
    "起始日": "starts_on",
    "开始日期": "starts_on",
    "结束日": "ends_on",
    "结束日期": "ends_on",
    "顺序": "position",
    "值班人": "person",
    "值班人账号": "person",
    "值班人姓名": "person_name",
    "备班": "backup",
    "备班账号": "backup",
    "备班姓名": "backup_name",
    "值班位置经度": "post_lon",
    "值班位置纬度": "post_lat",
    # Whose roster a row is for, in a file of many (`whistle import rosters`).
    "部门": "department",
    "部门代码": "department",
    "街乡": "township",
    "街乡代码": "township",
}
REQUIRED = ("days", "handovers", "turn", "starts_on", "person")
MAX_ROWS = 500
MAX_BYTES = 2 * 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


class UnreadableFile(Exception):
    """The file as a whole cannot be read; nothing in it was looked at."""


class RefusedRotation(Exception):
    """A roster action refused a rotation of the file: its first row and the reason."""

    def __init__(self, row: int, message: str) -> None:
        super().__init__(row, message)
        self.row = row
        self.message = message


# --- Export --------------------------------------------------------------------------------


def header(column: str) -> str:
    """A column's header in the active language, as the export writes it and the errors
    name it."""
    return capfirst(str(HEADERS[column]))


def header_row() -> list[str]:
    """The file's headers in the active language, as the rankings export writes its own."""
    return [header(column) for column in COLUMNS]


def rows_of(roster: Roster) -> list[list[Any]]:
    """The roster's rotations as the file's rows, header first, in the active language: the
    days and the turn by their labels, the dates, the order and the position as values (a
    date or a number cell in XLSX)."""
    rotations = (
        Rotation.objects.filter(roster=roster)
        .prefetch_related("members__person", "members__backup")
        .order_by("days")
    )
    rows: list[list[Any]] = [header_row()]
    for rotation in rotations:
        for member in sorted(rotation.members.all(), key=lambda m: m.position):
            rows.append(_member_row(rotation, member))
    return rows


def _member_row(rotation: Rotation, member: RotationMember) -> list[Any]:
    backup = member.backup
    return [
        rotation.get_days_display(),
        rotation.handovers,
        rotation.get_turn_display(),
        rotation.starts_on,
        member.position,
        member.person.username,
        member.person.display_name,
        backup.username if backup is not None else "",
        backup.display_name if backup is not None else "",
        rotation.ends_on or "",
        rotation.post_lon if rotation.post_lon is not None else "",
        rotation.post_lat if rotation.post_lat is not None else "",
    ]


SHIFT_COLUMNS = (
    pgettext_lazy("roster file column", "duty day"),
    pgettext_lazy("roster file column", "from"),
    pgettext_lazy("roster file column", "until"),
    pgettext_lazy("roster file column", "on duty (username)"),
    pgettext_lazy("roster file column", "on duty (name)"),
    pgettext_lazy("roster file column", "backup (username)"),
    pgettext_lazy("roster file column", "backup (name)"),
    pgettext_lazy("roster file column", "swap or cover"),
)


def shift_rows(roster: Roster, first: date, count: int) -> list[list[Any]]:
    """Who is on duty on the roster's coming `count` duty days from `first`, one row per
    shift with the approved swaps and covers laid over (Beijing time), header first: for
    the reader, not read back."""
    rows: list[list[Any]] = [[capfirst(str(c)) for c in SHIFT_COLUMNS]]
    for day in days_ahead(roster, first, count):
        for shift in day.shifts:
            person, backup = shift.person, shift.backup
            rows.append(
                [
                    day.day,
                    _local_time(shift.starts_at),
                    _local_time(shift.ends_at),
                    person.username if person is not None else "",
                    person.display_name if person is not None else "",
                    backup.username if backup is not None else "",
                    backup.display_name if backup is not None else "",
                    shift.change.get_kind_display() if shift.change is not None else "",
                ]
            )
    return rows


def _local_time(moment: datetime) -> str:
    return f"{to_local(moment):%Y-%m-%d %H:%M}"


def _cell_text(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def to_csv(rows: Iterable[list[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel reads the Chinese names."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([_cell_text(v) for v in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(rows: Iterable[list[Any]], title: str) -> bytes:
    """One sheet; dates as date cells, numbers as number cells."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    # A sheet title is at most 31 characters and cannot hold []:*?/\.
    sheet.title = "".join(c for c in title if c not in "[]:*?/\\")[:31] or "roster"
    for row in rows:
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- Import --------------------------------------------------------------------------------


@dataclass
class ImportReport:
    rotations: int = 0
    members: int = 0
    # (row number as a spreadsheet shows it, message); row 0 is the file as a whole.
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def read_rows(name: str, content: bytes) -> list[tuple[int, dict[str, Any]]]:
    """The data rows of an uploaded CSV or XLSX file, numbered as a spreadsheet numbers
    them (the header is row 1), keyed by column name; blank rows left out."""
    if len(content) > MAX_BYTES:
        raise UnreadableFile(_("The file is larger than 2 MB: a roster is much smaller."))
    try:
        table = read_table(name, content, max_rows=MAX_ROWS)
    except TableUnreadable as exc:
        raise UnreadableFile(str(exc)) from exc
    headers = [_column(c) for c in table[0]]
    missing = [c for c in REQUIRED if c not in headers]
    if missing:
        raise UnreadableFile(
            _("The first row must name the columns %(columns)s; missing: %(missing)s.")
            % {
                "columns": ", ".join(header_row()),
                "missing": ", ".join(header(c) for c in missing),
            }
        )
    found = []
    for number, values in enumerate(table[1:], start=2):
        if not any(cell_text(v) for v in values):
            continue
        found.append((number, {h: v for h, v in zip(headers, values, strict=False) if h}))
    if len(found) > MAX_ROWS:
        raise UnreadableFile(
            _("The file has %(n)s rows; a roster has at most %(max)s.")
            % {"n": len(found), "max": MAX_ROWS}
        )
    return found


def _in_every_language(text: Any) -> list[str]:
    """A text of the product as each of its languages writes it, lower case."""
    found = []
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            found.append(str(text).strip().lower())
    return found


@functools.cache
def _headers_read() -> dict[str, str]:
    """Every header the file may have, lower case, to its column: the keys, the exported
    headers in every language, and the Chinese ones of sheets kept by hand."""
    read = {key.lower(): column for key, column in HEADER_ALIASES.items()}
    for column, label in HEADERS.items():
        read.update(dict.fromkeys(_in_every_language(label), column))
    return read


def _column(value: Any) -> str:
    text = str(value if value is not None else "").strip().lower()
    return _headers_read().get(text, text)


def _choice(value: Any, choices: Any) -> str | None:
    """A choice by its code or by its label in any of the product's languages."""
    text = cell_text(value).lower()
    for code, label in choices.choices:
        if text == code or text in _in_every_language(label):
            return str(code)
    return None


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(cell_text(value).replace("/", "-"))
    except ValueError:
        return None


@dataclass
class PlannedRotation:
    first_row: int
    handovers: str
    turn: str
    starts_on: date
    ends_on: date | None
    members: list[tuple[int, int, Person, Person | None]] = field(default_factory=list)
    # The on-duty position (longitude, latitude), when the file has the columns
    # (`post_given`); a file without them leaves each rotation's position as it is.
    post: tuple[float, float] | None = None
    post_given: bool = False


def _post(cells: dict[str, Any]) -> tuple[tuple[float, float] | None, str | None]:
    """A row's on-duty position, or the reason it is not one: both columns blank is none."""
    texts = [cell_text(cells.get("post_lon")), cell_text(cells.get("post_lat"))]
    if not any(texts):
        return None, None
    columns = {"lon": header("post_lon"), "lat": header("post_lat")}
    if not all(texts):
        return None, _("%(lon)s and %(lat)s go together: fill in both, or neither") % columns
    try:
        lon, lat = (float(text) for text in texts)
    except ValueError:
        return None, _("%(lon)s and %(lat)s must be numbers such as 116.40 and 39.90") % columns
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None, _("%(lon)s and %(lat)s lie outside the longitudes and latitudes") % columns
    return (lon, lat), None


def _not_a_choice(column: str, choices: Any) -> str:
    """A choice column's value is none of its choices: the column and the choices named as
    the export writes them, in the reader's language (the keys are read too, unnamed)."""
    return _("%(column)s must be one of %(choices)s") % {
        "column": header(column),
        "choices": _(", ").join(f"“{label}”" for label in choices.labels),
    }


def plan_rotations(
    roster: Roster, rows: list[tuple[int, dict[str, Any]]], report: ImportReport
) -> dict[str, PlannedRotation]:
    """Check the rows of one roster's rotations; each bad row goes into `report` by its
    number. Nothing is written."""
    people = {p.username: p for p in eligible_people(roster)}
    planned: dict[str, PlannedRotation] = {}
    for number, cells in rows:
        problems: list[str] = []
        days = _choice(cells.get("days"), Rotation.Days)
        if days is None:
            problems.append(_not_a_choice("days", Rotation.Days))
        turn = _choice(cells.get("turn"), Rotation.Turn)
        if turn is None:
            problems.append(_not_a_choice("turn", Rotation.Turn))
        starts_on = _day(cells.get("starts_on"))
        if starts_on is None:
            problems.append(
                _("%(column)s must be a date such as %(example)s")
                % {"column": header("starts_on"), "example": "2026-05-11"}
            )
        ends_on = _day(cells.get("ends_on")) if cell_text(cells.get("ends_on")) else None
        if cell_text(cells.get("ends_on")) and ends_on is None:
            problems.append(
                _("%(column)s must be a date such as %(example)s, or blank")
                % {"column": header("ends_on"), "example": "2026-06-30"}
            )
        handovers = cell_text(cells.get("handovers"))
        position_text = cell_text(cells.get("position"))
        position = int(position_text) if position_text.isdigit() else None
        if position_text and position is None:
            problems.append(_("%(column)s must be a whole number") % {"column": header("position")})
        person = people.get(cell_text(cells.get("person")))
        if person is None:
            problems.append(
                _("%(user)s is not among the people who may stand on this roster")
                % {"user": cell_text(cells.get("person")) or "—"}
            )
        backup_name = cell_text(cells.get("backup"))
        backup = people.get(backup_name) if backup_name else None
        if backup_name and backup is None:
            problems.append(
                _("the backup %(user)s is not among the people who may stand on this roster")
                % {"user": backup_name}
            )
        post_given = "post_lon" in cells or "post_lat" in cells
        post, post_problem = _post(cells)
        if post_problem:
            problems.append(post_problem)
        if problems:
            report.errors.extend((number, p) for p in problems)
            continue
        assert days is not None and turn is not None and starts_on is not None
        assert person is not None
        plan = planned.setdefault(
            days,
            PlannedRotation(
                number, handovers, turn, starts_on, ends_on, post=post, post_given=post_given
            ),
        )
        if (plan.handovers, plan.turn, plan.starts_on, plan.ends_on) != (
            handovers,
            turn,
            starts_on,
            ends_on,
        ):
            report.errors.append(
                (
                    number,
                    _("%(columns)s differ from row %(row)s of the same rotation")
                    % {
                        "columns": _(", ").join(
                            header(c) for c in ("handovers", "turn", "starts_on", "ends_on")
                        ),
                        "row": plan.first_row,
                    },
                )
            )
            continue
        if plan.post != post:
            report.errors.append(
                (
                    number,
                    _("the on-duty position differs from row %(row)s of the same rotation")
                    % {"row": plan.first_row},
                )
            )
            continue
        plan.members.append((position or len(plan.members) + 1, number, person, backup))
    return planned


def apply_rotations(
    actor: Person | None,
    roster: Roster,
    planned: dict[str, PlannedRotation],
    report: ImportReport,
    *,
    system_role: str | None = None,
) -> None:
    """Replace the roster's rotations with the checked ones, through the roster's actions.
    Raises `RefusedRotation` when an action refuses; the caller's transaction then changes
    nothing."""
    # Rotations the file leaves out go first, so that an every-day rotation can replace
    # working-day and rest-day ones and the other way round.
    for rotation in Rotation.objects.filter(roster=roster).exclude(days__in=planned):
        try:
            actions.remove_rotation(actor, rotation, system_role=system_role)
        except DutyRefused as exc:
            raise RefusedRotation(0, str(exc)) from exc
    # A file without the on-duty position's columns: a rotation it replaces keeps its own.
    posts = {r.days: r.post for r in Rotation.objects.filter(roster=roster)}
    for days, plan in sorted(planned.items(), key=lambda kv: kv[1].first_row):
        members = [(p, b) for _pos, _n, p, b in sorted(plan.members, key=lambda m: m[:2])]
        try:
            actions.save_rotation(
                actor,
                roster,
                days=days,
                handovers=plan.handovers,
                turn=plan.turn,
                starts_on=plan.starts_on,
                ends_on=plan.ends_on,
                members=members,
                post=plan.post if plan.post_given else posts.get(days),
                system_role=system_role,
            )
        except DutyRefused as exc:
            raise RefusedRotation(plan.first_row, str(exc)) from exc
        report.rotations += 1
        report.members += len(members)


def import_roster(
    actor: Person, roster: Roster, rows: list[tuple[int, dict[str, Any]]]
) -> ImportReport:
    """Replace the roster's rotations with the file's, all or nothing (an `ImportReport`)."""
    report = ImportReport()
    if not rows:
        report.errors.append((0, _("The file has no rotation rows.")))
        return report
    planned = plan_rotations(roster, rows, report)
    if report.errors:
        return report
    try:
        with transaction.atomic():
            apply_rotations(actor, roster, planned, report)
    except RefusedRotation as exc:
        report.errors.append((exc.row, exc.message))
        report.rotations = report.members = 0
    return report
