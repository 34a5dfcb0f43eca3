"""Files as rows: CSV, XLSX and GeoJSON, read one row at a time.

A source gives its column headers as written and then its records, each numbered the way a
person finds it: in a spreadsheet the header is row 1 and the first data row is row 2; in
GeoJSON the first feature is feature 1.
"""

from __future__ import annotations

import codecs
import csv
import json
import logging
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from whistle.importing import cells

logger = logging.getLogger(__name__)


class SourceError(Exception):
    """The file as a whole cannot be read; nothing in it is looked at."""


@dataclass
class Record:
    number: int
    cells: dict[str, Any]
    geometry: Any = None
    has_geometry: bool = False
    overflow: bool = False  # more cells than the header has columns
    problem: str | None = None  # the record itself is malformed (a GeoJSON feature)


@dataclass
class Source:
    name: str
    unit: str  # "row" or "feature"
    headers: list[str]
    records: Generator[Record, None, None]
    notes: list[str] = field(default_factory=list)


SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".geojson", ".json")


def open_source(path: Path, *, sheet: str | None = None) -> Source:
    suffix = path.suffix.lower()
    if not path.is_file():
        raise SourceError(_("There is no file at %(path)s") % {"path": path})
    if suffix in (".csv", ".txt"):
        return _csv_source(path)
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_source(path, sheet)
    if suffix in (".geojson", ".json"):
        return _geojson_source(path)
    raise SourceError(
        _("Cannot read %(name)s: use a .csv, .xlsx or .geojson file") % {"name": path.name}
    )


# --- CSV -----------------------------------------------------------------------------------


def _csv_encoding(path: Path) -> str:
    """UTF-8 (with or without a byte-order mark) when every byte decodes so, else GB18030."""
    with path.open("rb") as stream:
        head = stream.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        stream.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for chunk in iter(lambda: stream.read(1 << 16), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8-sig"


def _delimiter(first_line: str) -> str:
    counts = {sep: first_line.count(sep) for sep in (",", "\t", ";")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _csv_source(path: Path) -> Source:
    encoding = _csv_encoding(path)
    stream = path.open(encoding=encoding, newline="")
    try:
        first_line = stream.readline()
        stream.seek(0)
        reader = csv.reader(stream, delimiter=_delimiter(first_line))
        try:
            headers = next(reader, None)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise SourceError(_("Cannot read the header row: %(error)s") % {"error": exc}) from exc
    except BaseException:
        stream.close()
        raise
    if not headers or not any(h.strip() for h in headers):
        stream.close()
        raise SourceError(_("The file is empty: the first row must name the columns"))
    notes = []
    if encoding == "gb18030":
        notes.append(_("The file is not UTF-8; it was read as GB18030."))

    def records() -> Generator[Record, None, None]:
        number = 1
        try:
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except (UnicodeDecodeError, csv.Error) as exc:
                    raise SourceError(
                        _("Cannot read row %(row)s: %(error)s") % {"row": number + 1, "error": exc}
                    ) from exc
                number += 1
                yield _record(number, headers, row)
        finally:
            stream.close()

    return Source(path.name, "row", headers, records(), notes)


def _record(number: int, headers: list[str], values: tuple[Any, ...] | list[Any]) -> Record:
    cells = {h: v for h, v in zip(headers, values, strict=False) if h is not None}
    overflow = any(v not in (None, "") for v in values[len(headers) :])
    return Record(number, cells, overflow=overflow)


# --- XLSX ----------------------------------------------------------------------------------


def _xlsx_source(path: Path, sheet: str | None) -> Source:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        # Its own words ("File is not a zip file") say nothing to the person: logged only.
        logger.info("workbook unreadable: %s: %s: %s", path.name, type(exc).__name__, exc)
        raise SourceError(
            _(
                "%(name)s is not an Excel workbook (.xlsx), or it is damaged: save it from "
                "Excel as an .xlsx or .csv file."
            )
            % {"name": path.name}
        ) from exc
    if sheet is None:
        worksheet = workbook.worksheets[0]
    elif sheet in workbook.sheetnames:
        worksheet = workbook[sheet]
    else:
        names = cells.join(workbook.sheetnames)
        workbook.close()
        raise SourceError(
            _("The workbook has no sheet named “%(sheet)s”; its sheets are: %(names)s")
            % {"sheet": sheet, "names": names}
        )
    # Some programs write a wrong dimension into the sheet; reading every cell is safer.
    worksheet.reset_dimensions()
    rows = worksheet.iter_rows(min_row=1, values_only=True)
    header_row = next(rows, None)
    if header_row is None or all(v is None or str(v).strip() == "" for v in header_row):
        workbook.close()
        raise SourceError(_("The sheet is empty: the first row must name the columns"))
    headers = [str(v).strip() if v is not None else "" for v in header_row]
    while headers and not headers[-1]:
        headers.pop()

    def records() -> Generator[Record, None, None]:
        try:
            for number, row in enumerate(rows, start=2):
                yield _record(number, headers, row)
        finally:
            workbook.close()

    return Source(f"{path.name}", "row", headers, records())


# --- GeoJSON -------------------------------------------------------------------------------

_WGS84_NAMES = {
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "urn:ogc:def:crs:OGC::CRS84",
    "urn:ogc:def:crs:EPSG::4326",
    "EPSG:4326",
}


def _geojson_source(path: Path) -> Source:
    # A GeoJSON document is one JSON value, so it is parsed whole; its features are then
    # handed on one at a time like rows.
    try:
        with path.open(encoding="utf-8-sig") as stream:
            document = json.load(stream)
    except UnicodeDecodeError as exc:
        raise SourceError(_("A GeoJSON file must be UTF-8: %(error)s") % {"error": exc}) from exc
    except json.JSONDecodeError as exc:
        raise SourceError(
            _("Not valid JSON at line %(line)s, column %(col)s: %(error)s")
            % {"line": exc.lineno, "col": exc.colno, "error": exc.msg}
        ) from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise SourceError(_("A GeoJSON file must hold one FeatureCollection"))
    crs = document.get("crs")
    if isinstance(crs, dict):
        name = (crs.get("properties") or {}).get("name")
        if name not in _WGS84_NAMES:
            raise SourceError(
                _(
                    "The coordinates must be WGS-84 longitude and latitude; this file says "
                    "its coordinate system is %(crs)s"
                )
                % {"crs": name}
            )
    features = document.get("features")
    if not isinstance(features, list):
        raise SourceError(_("The FeatureCollection has no list of features"))
    headers: list[str] = []
    seen: set[str] = set()
    for feature in features:
        properties = feature.get("properties") if isinstance(feature, dict) else None
        if isinstance(properties, dict):
            for key in properties:
                if key not in seen:
                    seen.add(key)
                    headers.append(key)

    def records() -> Generator[Record, None, None]:
        for number, feature in enumerate(features, start=1):
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                yield Record(number, {}, problem=_("This is not a GeoJSON Feature"))
                continue
            properties = feature.get("properties") or {}
            if not isinstance(properties, dict):
                yield Record(number, {}, problem=_("The feature's properties are not an object"))
                continue
            yield Record(
                number,
                dict(properties),
                geometry=feature.get("geometry"),
                has_geometry=True,
            )

    return Source(path.name, "feature", headers, records())
