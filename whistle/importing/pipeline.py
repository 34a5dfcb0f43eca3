"""Run one import: read the file, check every row, and write everything or nothing."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from whistle.importing import cells
from whistle.importing.base import BATCH, Column, Importer, Problem, Row, Tally, header_key
from whistle.importing.registry import importer_class
from whistle.importing.sources import Record, Source, SourceError, open_source
from whistle.importing.writing import write
from whistle.organisation.models import Jurisdiction


@dataclass
class ImportResult:
    kind: str
    title: str
    file: str
    dry_run: bool
    unit: str = "row"
    rows: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tallies: list[Tally] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def error_lines(self) -> list[str]:
        return [problem.describe(self.unit) for problem in self.errors]

    def warning_lines(self) -> list[str]:
        return [problem.describe(self.unit) for problem in self.warnings]


def run_import(
    kind: str,
    path: Path | str,
    *,
    district: str | None = None,
    update: bool = False,
    dry_run: bool = False,
    sheet: str | None = None,
    options: dict[str, Any] | None = None,
) -> ImportResult:
    """Import one file of one kind. Messages are in the language active when called."""
    path = Path(path)
    cls = importer_class(kind)
    result = ImportResult(kind=kind, title=str(cls.title), file=path.name, dry_run=dry_run)
    try:
        source = open_source(path, sheet=sheet)
    except SourceError as exc:
        result.errors.append(Problem(None, None, str(exc)))
        return result
    result.unit = source.unit
    result.notes.extend(source.notes)
    try:
        _run(cls, source, district, update, dry_run, options, result)
    finally:
        # Closes the file even when a header error stopped the reading early.
        source.records.close()
    return result


def _run(
    cls: type[Importer],
    source: Source,
    district: str | None,
    update: bool,
    dry_run: bool,
    options: dict[str, Any] | None,
    result: ImportResult,
) -> None:
    try:
        with transaction.atomic():
            importer = _start(cls, district, update, options, result)
            if importer is not None:
                _check_every_row(importer, source, result)
            if importer is not None and result.ok:
                if not dry_run:
                    write(importer.changes)
                    importer.on_written()
                    result.written = True
                importer.after_write()
                result.notes.extend(importer.notes)
                result.tallies = list(importer.tallies.values())
    except SourceError as exc:
        result.errors.append(Problem(None, None, str(exc)))
    except DatabaseError as exc:
        # Another writer changed the same rows between the check and the write.
        result.errors.append(
            Problem(None, None, _("The database refused the import: %(error)s") % {"error": exc})
        )
        result.written = False


def _start(
    cls: type[Importer],
    district_code: str | None,
    update: bool,
    options: dict[str, Any] | None,
    result: ImportResult,
) -> Importer | None:
    district = None
    if district_code:
        if not cls.takes_district:
            result.errors.append(
                Problem(None, None, _("--district does not apply to this kind of import"))
            )
            return None
        district = Jurisdiction.objects.filter(
            code=district_code, level=Jurisdiction.Level.DISTRICT
        ).first()
        if district is None:
            result.errors.append(
                Problem(
                    None,
                    None,
                    _("There is no district with code %(code)s") % {"code": district_code},
                )
            )
            return None
    return cls(district=district, update=update, options=options)


def _map_headers(importer: Importer, source: Source) -> tuple[dict[str, Column], list[Problem]]:
    by_key: dict[str, Column] = {}
    for column in importer.columns:
        for spelling in (column.name, *column.aliases):
            by_key[header_key(spelling)] = column
    mapping: dict[str, Column] = {}
    errors: list[Problem] = []
    for header in source.headers:
        if not header or not str(header).strip():
            continue
        found = by_key.get(header_key(str(header)))
        if found is None:
            importer.warnings.append(
                Problem(
                    1 if source.unit == "row" else None,
                    str(header),
                    _("This import does not read this column; it was ignored"),
                )
            )
        elif found.name in importer.headers:
            errors.append(
                Problem(
                    1 if source.unit == "row" else None,
                    str(header),
                    _("The column “%(other)s” already gives %(name)s")
                    % {"other": importer.headers[found.name], "name": found.name},
                )
            )
        else:
            mapping[header] = found
            importer.headers[found.name] = str(header)
    geojson = source.unit == "feature"
    geometry = next((c for c in importer.columns if c.geometry), None)
    if geojson and geometry is not None and geometry.name not in importer.headers:
        importer.headers[geometry.name] = "geometry"
    for column in importer.columns:
        if column.required and column.name not in importer.headers:
            if column.geometry and geojson:
                continue
            errors.append(
                Problem(
                    1 if source.unit == "row" else None,
                    None,
                    _("The required column “%(name)s” (or “%(alias)s”) is missing")
                    % {"name": column.name, "alias": column.chinese},
                )
            )
    return mapping, errors


def _read_row(
    importer: Importer, record: Record, mapping: dict[str, Column], geometry: Column | None
) -> Row | None:
    """Read every cell of a record; None for a blank row, which is skipped."""
    # A short row or a feature without some property has empty cells there.
    raw: dict[str, Any] = {column.name: record.cells.get(h) for h, column in mapping.items()}
    # A feature's geometry fills the geometry column; a property of that name is read only
    # when the feature has no geometry.
    if (
        geometry is not None
        and record.has_geometry
        and (record.geometry is not None or geometry.name not in raw)
    ):
        raw[geometry.name] = record.geometry
    blank = all(cells.is_blank(v) for v in raw.values())
    if blank and record.problem is None and not record.overflow:
        return None
    row = Row(record.number, {}, importer.label)
    if record.problem:
        row.error(None, record.problem)
        return row
    if record.overflow:
        row.error(None, _("This row has more cells than the header has columns"))
    for column in importer.columns:
        if column.name not in raw:
            continue
        value = raw[column.name]
        if cells.is_blank(value):
            row.values[column.name] = None
            if column.required:
                row.error(column.name, _("This cell must not be empty"))
            continue
        try:
            row.values[column.name] = column.read(value)
        except cells.CellError as exc:
            row.values[column.name] = None
            row.error(column.name, str(exc))
    return row


def _batches(records: Iterator[Record]) -> Iterator[list[Record]]:
    while batch := list(itertools.islice(records, BATCH)):
        yield batch


def _check_every_row(importer: Importer, source: Source, result: ImportResult) -> None:
    mapping, header_errors = _map_headers(importer, source)
    if header_errors:
        result.errors.extend(header_errors)
        result.warnings.extend(importer.warnings)
        return
    geometry = next((c for c in importer.columns if c.geometry), None)
    if geometry is None and source.unit == "feature":
        importer.warnings.append(
            Problem(
                None, None, _("This import reads no shapes; the features' geometry was ignored")
            )
        )
    for batch in _batches(source.records):
        rows = [row for record in batch if (row := _read_row(importer, record, mapping, geometry))]
        importer.prefetch([row for row in rows if not row.errors])
        for row in rows:
            result.rows += 1
            if row.errors:
                importer.reserve(row)
            else:
                importer.check(row)
            result.errors.extend(row.errors)
    result.errors.extend(importer.finish())
    if result.rows == 0 and result.ok:
        result.errors.append(Problem(None, None, _("The file has no rows to import")))
    result.warnings.extend(importer.warnings)
