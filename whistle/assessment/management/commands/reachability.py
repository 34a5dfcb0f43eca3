"""`whistle reachability`: which lanes of a township its enforcement centre's departments
reach within the arrival limit at an hour, as GeoJSON (lanes and stations) or XLSX (one row
per lane), from `whistle.assessment.reachability`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from whistle.assessment.reachability import HOURS, Reachability, as_geojson, reachability
from whistle.organisation.models import Jurisdiction


class Command(BaseCommand):
    help = (
        "Which lanes of a township the departments of its enforcement centre reach within "
        "the arrival limit at an hour (Beijing time), as GeoJSON or XLSX."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--township", required=True, help="the township's 9-digit code")
        parser.add_argument("--hour", required=True, type=int, help="hour of day, 0 to 23")
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
        result = reachability(township, options["hour"])
        path = Path(options["output"])
        try:
            if options["format"] == "geojson":
                path.write_text(
                    json.dumps(as_geojson(result), ensure_ascii=False, indent=1), encoding="utf-8"
                )
            else:
                _write_xlsx(result, path)
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
                "township": township.name,
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


def _write_xlsx(result: Reachability, path: Path) -> None:
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
                "、".join(f"{r.station.department.name} {r.minutes:.1f}" for r in row.in_time),
                fastest.station.department.name if fastest else "",
                round(fastest.minutes, 1) if fastest else None,
            ]
        )
    book.save(path)
