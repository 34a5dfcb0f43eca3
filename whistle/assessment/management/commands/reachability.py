"""`whistle reachability`: which lanes of a township its enforcement centre's departments (or
those that handle a category) reach within the arrival limit (of a routine whistle, or the
--kind given) at an hour, as GeoJSON (lanes, stations, suggested places) or XLSX (one row per
lane, the measured arrivals, and the lanes unreached by category of problem and hour), with
the suggestion of one more station, the lanes unreached by category and the measured
arrivals beside the model in words, from `whistle.assessment.reachability`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from whistle.assessment.reachability import (
    GRID_M,
    HOURS,
    Calibration,
    CategoryCoverage,
    Model,
    Reachability,
    as_geojson,
    by_category,
    measured_arrivals,
    suggest,
)
from whistle.organisation.models import Jurisdiction
from whistle.policies.models import Category, WhistleKind


class Command(BaseCommand):
    help = (
        "Which lanes of a township the departments of its enforcement centre reach within "
        "the arrival limit at an hour (Beijing time), as GeoJSON or XLSX."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--township", required=True, help="the township's 9-digit code")
        parser.add_argument("--hour", required=True, type=int, help="hour of day, 0 to 23")
        parser.add_argument(
            "--category",
            default="",
            help="only the departments that handle this category: its 4-digit code "
            "(component:0101 or event:0101 when both kinds have it)",
        )
        parser.add_argument(
            "--kind",
            choices=WhistleKind.values,
            default=WhistleKind.ROUTINE,
            help="the kind of whistle whose arrival limit applies (routine by default)",
        )
        parser.add_argument(
            "--grid",
            type=float,
            default=GRID_M,
            help="metres between the grid points a suggestion tries beside the lanes' midpoints",
        )
        parser.add_argument("--format", choices=["geojson", "xlsx"], default="geojson")
        parser.add_argument("--output", required=True, help="the file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        township = Jurisdiction.objects.filter(
            code=options["township"], level=Jurisdiction.Level.TOWNSHIP
        ).first()
        if township is None:
            raise CommandError(
                _("No township has the code %(code)s") % {"code": options["township"]}
            )
        if options["hour"] not in HOURS:
            raise CommandError(_("Choose an hour from 0 to 23."))
        if not options["grid"] > 0:
            raise CommandError(_("The grid's spacing is a number of metres above 0."))
        category = _category(township, options["category"]) if options["category"] else None
        model = Model(township, category=category, kind=options["kind"])
        result = model.at(options["hour"])
        suggestion = suggest(model, result, grid_m=options["grid"])
        calibration = measured_arrivals(model)
        groups = by_category(model, result.hour)
        path = Path(options["output"])
        try:
            if options["format"] == "geojson":
                path.write_text(
                    json.dumps(as_geojson(result, suggestion), ensure_ascii=False, indent=1),
                    encoding="utf-8",
                )
            else:
                _write_xlsx(result, calibration, groups, path)
        except OSError as exc:
            raise CommandError(
                _("Cannot write %(file)s: %(error)s") % {"file": path, "error": exc}
            ) from None
        self.stdout.write(
            _(
                "%(township)s at %(hour)s:00: %(unreached)s of %(lanes)s lanes reached by no "
                "one in time"
            )
            % {
                "township": township.display_name,
                "hour": result.hour,
                "unreached": len(result.unreached),
                "lanes": len(result.lanes),
            }
        )
        self.stdout.write(
            _("Ways along the district's road network")
            if result.by_road
            else _("Ways as the straight line times the detour factor (no road network there)")
        )
        for group in groups:
            if not group.worst_count:
                self.stdout.write(
                    _("%(categories)s: every lane reached in time at every hour")
                    % {"categories": _categories(group)}
                )
                continue
            self.stdout.write(
                _(
                    "%(categories)s: %(unreached)s of %(lanes)s lanes reached by no one in "
                    "time; the most, %(worst)s, at %(hour)s:00"
                )
                % {
                    "categories": _categories(group),
                    "unreached": len(group.unreached),
                    "lanes": group.lanes,
                    "worst": group.worst_count,
                    "hour": f"{group.worst_hour:02d}",
                }
            )
        for line in suggestion.words():
            self.stdout.write(line)
        self.stdout.write(calibration.words())


def _category(township: Jurisdiction, text: str) -> Category:
    kind, _sep, code = text.rpartition(":")
    found = [
        c
        for c in Category.objects.filter(major__district=township.parent).select_related("major")
        if c.full_code == code and (not kind or c.major.kind == kind)
    ]
    if not found:
        raise CommandError(_("No category of the district has the code %(code)s") % {"code": text})
    if len(found) > 1:
        raise CommandError(
            _(
                "Several categories have the code %(code)s: write component:%(code)s or "
                "event:%(code)s"
            )
            % {"code": code}
        )
    return found[0]


def _categories(group: CategoryCoverage) -> str:
    return _(", ").join(f"{c.full_code} {c.display_name}" for c in group.categories)


def _write_xlsx(
    result: Reachability, calibration: Calibration, groups: list[CategoryCoverage], path: Path
) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Reachability")
    sheet.append(
        [
            _("Lane"),
            _("Reached in time"),
            _("Reached in time by"),
            _("Nearest"),
            _("Minutes from the nearest"),
        ]
    )
    for row in result.lanes:
        fastest = row.fastest
        sheet.append(
            [
                row.lane.name,
                _("yes") if row.reached else _("no"),
                _(", ").join(
                    f"{r.station.department.display_name} {r.minutes:.1f}" for r in row.in_time
                ),
                fastest.station.department.display_name if fastest else "",
                round(fastest.minutes, 1) if fastest else None,
            ]
        )
    measured = book.create_sheet(_("Measured arrivals"))
    measured.append(
        [
            _("Department"),
            _("Lane"),
            _("Arrivals"),
            _("Measured (median)"),
            _("Modelled (median)"),
            _("Measured ÷ modelled"),
        ]
    )
    for c in [*calibration.departments, *calibration.department_lanes]:
        measured.append(
            [
                c.department.display_name if c.department else "",
                c.lane.name if c.lane else "",
                c.count,
                round(c.measured, 1),
                round(c.modelled, 1) if c.modelled is not None else None,
                round(c.ratio, 2) if c.ratio is not None else None,
            ]
        )
    by_hour = book.create_sheet(_("By category"))
    by_hour.append(
        [
            _("Categories of problem"),
            _("Responsible sectors"),
            _("Departments counted"),
            _("Reached by no one in time at %(hour)s:00") % {"hour": f"{result.hour:02d}"},
            *[f"{hour:02d}:00" for hour in HOURS],
        ]
    )
    for group in groups:
        by_hour.append(
            [
                _categories(group),
                _(", ").join(s.display_name for s in group.sectors),
                _(", ").join(s.department.display_name for s in group.stations),
                _(", ").join(lane.name for lane in group.unreached),
                *group.hours,
            ]
        )
    book.save(path)
