"""`whistle scores`: the stored department scores of one or more periods, ranked; with
`--indicators`, the indicators table of the periods instead (district, townships,
departments, categories)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count, F
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from whistle.assessment.engine import SchemeBook, period_pieces, scheme_components
from whistle.assessment.explain import pieces_of, result_notes, schemes_of
from whistle.assessment.indicators import IndicatorRow, indicator_table
from whistle.assessment.models import DepartmentResult, Scheme, SummonsAssessment
from whistle.assessment.periods import Period
from whistle.organisation.models import Jurisdiction


class Command(BaseCommand):
    help = (
        "Print the departments' scores of periods (2026, 2026-Q3 or 2026-07), or with "
        "--indicators the indicators of the district, its townships, departments and categories."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--period", action="append", required=True, help="2026, 2026-Q3 or 2026-07"
        )
        parser.add_argument("--district", help="the district's 6-digit code (default: all)")
        parser.add_argument("--format", choices=["table", "csv", "xlsx"], default="table")
        parser.add_argument("--output", help="write to this file instead of the screen")
        parser.add_argument(
            "--indicators",
            action="store_true",
            help="print the indicators (arrival, closure, rework, whistle and hotline rates)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            periods = [Period.parse(p) for p in options["period"]]
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        district = None
        if options["district"]:
            district = Jurisdiction.objects.filter(
                code=options["district"], level=Jurisdiction.Level.DISTRICT
            ).first()
            if district is None:
                raise CommandError(
                    _("No district with the code %(code)s") % {"code": options["district"]}
                )
        # Columns written as text in a workbook, so that codes such as 110101 or 0104 stay
        # codes: the period, the district, and what each line is about.
        if options["indicators"]:
            header, table = _indicators_table(periods, district)
            sheet_title, text_columns = _("indicators"), {0, 1, 2, 3, 4}
        else:
            header, table = self._scores_table(periods, district)
            sheet_title, text_columns = _("scores"), {0, 1, 3, 4}
        output = options["output"]
        if options["format"] == "xlsx":
            if not output:
                raise CommandError(_("--format xlsx needs --output FILE"))
            self._write_xlsx(Path(output), sheet_title, header, table, text_columns)
            return
        if options["format"] == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(header)
            writer.writerows(table)
            text = buffer.getvalue()
        else:
            text = _format_table([header, *table])
        if output:
            try:
                Path(output).write_text(
                    text, encoding="utf-8-sig" if options["format"] == "csv" else "utf-8"
                )
            except OSError as exc:
                raise CommandError(
                    _("Cannot write %(file)s: %(error)s") % {"file": output, "error": exc}
                ) from None
        else:
            self.stdout.write(text, ending="")

    def _scores_table(
        self, periods: list[Period], district: Jurisdiction | None
    ) -> tuple[list[str], list[list[str]]]:
        """Complete results first, ranked; the incomplete after them, unranked, each with
        the reason in the last column, as are the months no scheme was in force in."""
        results = DepartmentResult.objects.select_related("department", "district").order_by(
            "district__code", "period", F("rank").asc(nulls_last=True), "department__code"
        )
        results = results.filter(period__in=[p.key for p in periods])
        if district is not None:
            results = results.filter(district=district)
        rows = list(results)
        schemes = schemes_of(rows)
        names = _component_names(schemes.values())
        codes = sorted(names)
        provisional = _provisional_counts(periods, district)
        header = [
            _("period"),
            _("district"),
            _("rank"),
            _("department code"),
            _("department"),
            _("records"),
            _("unfinished records (counted as not acted for now)"),
            _("township evaluation"),
            *(names[code] for code in codes),
            _("total"),
            _("complete"),
            _("frozen"),
            _("note"),
        ]
        # Every column is headed alike, with a capital as the rankings page heads it: the
        # command's own columns and the names a district gave its components ("District
        # inspection") never differ in case. Chinese has none.
        header = [capfirst(name) for name in header]
        table = [
            [
                r.period,
                r.district.display_name,
                "" if r.rank is None else str(r.rank),
                r.department.code,
                r.department.display_name,
                str(r.records),
                str(provisional.get((r.period, r.district_id, r.department_id), 0)),
                "" if r.township_score is None else str(r.township_score),
                *[str(r.components.get(code, "")) for code in codes],
                "" if r.total is None else str(r.total),
                _("yes") if r.complete else _("no"),
                _("yes") if r.frozen else _("no"),
                _("; ").join(result_notes(r, pieces_of(r, schemes))),
            ]
            for r in rows
        ]
        if not rows:
            self.stderr.write(self._nothing_scored(periods, district))
        return header, table

    def _nothing_scored(self, periods: list[Period], district: Jurisdiction | None) -> str:
        book = SchemeBook()
        places = (
            [district]
            if district is not None
            else list(Jurisdiction.objects.filter(pk__in=book.districts()).order_by("code"))
        )
        unscored = [
            (period, place)
            for period in periods
            for place in places
            if all(p.scheme is None for p in period_pieces(place.pk, period, book))
        ]
        if len(unscored) == len(periods) * len(places):
            return _("No scheme is in force in %(periods)s: nothing is scored.") % {
                "periods": ", ".join(p.key for p in periods)
            }
        return _("No scores stored for these periods; run `whistle recompute-scores` first.")

    def _write_xlsx(
        self,
        path: Path,
        title: str,
        header: list[str],
        table: list[list[str]],
        text_columns: set[int],
    ) -> None:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = title
        sheet.append(header)
        for row in table:
            sheet.append([v if i in text_columns else _number(v) for i, v in enumerate(row)])
        try:
            book.save(path)
        except OSError as exc:
            raise CommandError(
                _("Cannot write %(file)s: %(error)s") % {"file": path, "error": exc}
            ) from None


def _provisional_counts(
    periods: list[Period], district: Jurisdiction | None
) -> dict[tuple[str, int, int], int]:
    """How many records of each department counted in each period are provisional (counted
    as "never acted" before their summons settled), by (period, district, department): one
    query for all the periods."""
    months = {month for period in periods for month in period.months()}
    records = SummonsAssessment.objects.filter(
        month__in=sorted(months), settled=True, provisional=True
    )
    if district is not None:
        records = records.filter(district=district)
    counts: dict[tuple[str, int, int], int] = {}
    for district_id, department_id, month, n in (
        records.values("district_id", "department_id", "month")
        .annotate(n=Count("pk"))
        .values_list("district_id", "department_id", "month", "n")
    ):
        for period in periods:
            if month in period.months():
                key = (period.key, district_id, department_id)
                counts[key] = counts.get(key, 0) + n
    return counts


def _component_names(schemes: Iterable[Scheme]) -> dict[str, str]:
    """Each component's column head by its code: the name the rankings page gives it, from
    the latest scheme that has it (the stationed staff's assessment in the reader's
    language); a name two codes share is told apart by the code."""
    names: dict[str, str] = {}
    for scheme in sorted(schemes, key=lambda s: (s.valid_from, s.pk)):
        for component in scheme_components(scheme):
            names[component.code] = component.display_name.strip() or component.code
    shared = {name for name in names.values() if list(names.values()).count(name) > 1}
    return {code: f"{name} ({code})" if name in shared else name for code, name in names.items()}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _indicators_table(
    periods: list[Period], district: Jurisdiction | None
) -> tuple[list[str], list[list[str]]]:
    """One line per period, district and row of the indicators table (the district, its
    townships, departments and categories)."""
    districts = (
        [district]
        if district is not None
        else list(Jurisdiction.objects.filter(level=Jurisdiction.Level.DISTRICT).order_by("code"))
    )
    dimension_names = {
        "district": _("district"),
        "township": _("township"),
        "department": _("department"),
        "category": _("category"),
    }
    header = [
        _("period"),
        _("district"),
        _("level"),
        _("code"),
        _("name"),
        _("records"),
        _("on-time arrival rate %"),
        _("mean minutes to acknowledge"),
        _("p90 minutes to acknowledge"),
        _("mean minutes to arrive"),
        _("p90 minutes to arrive"),
        _("on-time result rate %"),
        _("records reworked %"),
        _("cases reported"),
        _("whistle rate %"),
        _("closure rate %"),
        _("on-time closure rate %"),
        _("rework rate %"),
        _("hotline requests"),
        _("response rate %"),
        _("resolution rate %"),
        _("satisfaction rate %"),
        _("hotline score"),
    ]
    table: list[list[str]] = []
    for period in periods:
        for place in districts:
            rows: list[IndicatorRow] = indicator_table(place, period.key)
            for row in rows:
                i = row.indicators
                table.append(
                    [
                        period.key,
                        place.display_name,
                        str(dimension_names[row.dimension]),
                        row.code,
                        row.name,
                        str(i.records),
                        _text(i.on_time_arrival_rate),
                        _text(i.mean_minutes_to_acknowledge),
                        _text(i.p90_minutes_to_acknowledge),
                        _text(i.mean_minutes_to_arrive),
                        _text(i.p90_minutes_to_arrive),
                        _text(i.on_time_result_rate),
                        _text(i.rework_rate),
                        str(i.cases),
                        _text(i.whistle_rate),
                        _text(i.closure_rate),
                        _text(i.on_time_closure_rate),
                        _text(i.case_rework_rate),
                        str(i.hotline.received),
                        _text(i.hotline.response_rate),
                        _text(i.hotline.resolution_rate),
                        _text(i.hotline.satisfaction_rate),
                        _text(i.hotline.score),
                    ]
                )
    return header, table


def _number(value: str) -> Any:
    try:
        return float(value) if value and value.replace(".", "", 1).isdigit() else value
    except ValueError:
        return value


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _format_table(rows: list[list[str]]) -> str:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"
