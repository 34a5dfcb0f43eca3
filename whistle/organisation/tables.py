"""Tables people upload: the first sheet of an Excel workbook, or a CSV text file.

Excel writes "CSV UTF-8" with a byte-order mark and plain "CSV" in GB18030 on a Chinese
Windows; both are read. Rows come back as lists of cell values, the header row first, so
that the caller numbers them as the spreadsheet does (the header is row 1).
"""

from __future__ import annotations

import csv
import io
import logging
from typing import Any

from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

NOT_A_WORKBOOK = _(
    "The file is not an Excel workbook (.xlsx), or it is damaged: save it from Excel as an "
    ".xlsx or .csv file."
)


class TableUnreadable(ValueError):
    """The file as a whole cannot be read as a table."""


def read_table(name: str, content: bytes, *, max_rows: int | None = None) -> list[list[Any]]:
    """Every row of an .xlsx or .csv file given as bytes (at most `max_rows` after the
    header, when given: a larger file is refused by the caller on its count)."""
    suffix = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    if suffix in ("xlsx", "xlsm"):
        rows = _xlsx_rows(content, max_rows)
    elif suffix in ("csv", "txt"):
        rows = _csv_rows(content)
    else:
        raise TableUnreadable(
            _("Cannot read %(name)s: use an .xlsx or .csv file.") % {"name": name or "—"}
        )
    if not rows or not any(cell_text(value) for value in rows[0]):
        raise TableUnreadable(_("The file is empty: the first row must name the columns."))
    return rows


def cell_text(value: Any) -> str:
    """A cell as text: a number Excel stored as 2026051200001.0 is 2026051200001."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _xlsx_rows(content: bytes, max_rows: int | None) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        # Its own words ("File is not a zip file") say nothing to the person: logged only.
        logger.info("workbook unreadable: %s: %s", type(exc).__name__, exc)
        raise TableUnreadable(str(NOT_A_WORKBOOK)) from exc
    try:
        sheet = workbook.worksheets[0]
        # Some programs write a wrong dimension into the sheet; reading every cell is safer.
        sheet.reset_dimensions()
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(list(row))
            # One row past the limit is enough for the caller to see the file is too long.
            if max_rows is not None and len(rows) > max_rows + 1:
                break
        return rows
    finally:
        workbook.close()


def _csv_rows(content: bytes) -> list[list[Any]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise TableUnreadable(_("The file is neither UTF-8 nor GB18030 text."))
    if "\x00" in text:
        raise TableUnreadable(_("The file is not a CSV text file."))
    try:
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise TableUnreadable(_("Cannot read the file as CSV: %(error)s") % {"error": exc}) from exc
