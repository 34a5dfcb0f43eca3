"""``whistle import KIND FILE``: load a district's structure from CSV, XLSX or GeoJSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from whistle.importing import offices, roads, rosters
from whistle.importing.pipeline import ImportResult, run_import
from whistle.importing.registry import KINDS


class Command(BaseCommand):
    help = (
        "Import jurisdictions, grid cells, lanes, sectors, departments, people, enforcement "
        "centres, categories, calendar days, duty rosters, townships' units or a district's "
        "road network from a .csv, .xlsx or .geojson file. Every row is checked first; a file "
        "with any error imports nothing. See docs/import.md and docs/duty.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "kind",
            choices=[*KINDS, rosters.KIND, offices.KIND, roads.KIND],
            help="what the file holds",
        )
        parser.add_argument("file", type=Path, help="a .csv, .xlsx or .geojson file")
        parser.add_argument(
            "--district",
            metavar="CODE",
            help="the district being imported: fills an empty district column and refuses "
            "rows outside it",
        )
        parser.add_argument(
            "--update",
            action="store_true",
            help="overwrite existing rows whose values differ (default: report them as "
            "conflicts and import nothing)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and report, write nothing"
        )
        parser.add_argument("--sheet", help="the worksheet of an .xlsx file (default: the first)")
        parser.add_argument(
            "--complete",
            action="store_true",
            help="calendar only: mark every year in the file as entered in full",
        )
        parser.add_argument(
            "--source",
            help="calendar only, with --complete: where the schedule comes from "
            "(e.g. the State Council notice)",
        )
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            default=settings.LANGUAGE_CODE,
            help="the language of the report (default: %(default)s)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["language"]):
            self._import(options)

    def _import(self, options: dict[str, Any]) -> None:
        kind = options["kind"]
        if kind != "calendar" and (options["complete"] or options["source"]):
            raise CommandError(_("--complete and --source are for the calendar only"))
        if options["source"] is not None and not options["complete"]:
            raise CommandError(_("--source goes with --complete"))
        if kind == offices.KIND:
            if options["sheet"] or options["update"]:
                raise CommandError(
                    _("--sheet and --update do not apply to offices: the first sheet is read")
                )
            result = offices.import_offices(
                options["file"], district=options["district"], dry_run=options["dry_run"]
            )
        elif kind == rosters.KIND:
            if options["sheet"]:
                raise CommandError(_("--sheet does not apply to rosters: the first sheet is read"))
            result = rosters.import_rosters(
                options["file"],
                district=options["district"],
                update=options["update"],
                dry_run=options["dry_run"],
            )
        elif kind == roads.KIND:
            if options["sheet"]:
                raise CommandError(_("--sheet does not apply to roads: they are read from GeoJSON"))
            result = roads.import_roads(
                options["file"],
                district=options["district"],
                update=options["update"],
                dry_run=options["dry_run"],
            )
        else:
            result = run_import(
                kind,
                options["file"],
                district=options["district"],
                update=options["update"],
                dry_run=options["dry_run"],
                sheet=options["sheet"],
                options={"complete": options["complete"], "source": options["source"]},
            )
        for line in result.warning_lines():
            self.stderr.write(self.style.WARNING(_("Warning: %(line)s") % {"line": line}))
        if not result.ok:
            for line in result.error_lines():
                self.stderr.write(line)
            count = len(result.errors)
            raise CommandError(
                ngettext(
                    "%(count)s error in %(file)s; nothing was imported.",
                    "%(count)s errors in %(file)s; nothing was imported.",
                    count,
                )
                % {"count": count, "file": result.file}
            )
        self._report(result)

    def _report(self, result: ImportResult) -> None:
        if result.dry_run:
            self.stdout.write(
                _("Dry run of %(file)s (%(what)s): every row is valid; nothing was written.")
                % {"file": result.file, "what": result.title}
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Imported %(file)s (%(what)s, %(rows)s rows).")
                    % {"file": result.file, "what": result.title, "rows": result.rows}
                )
            )
        if result.dry_run:
            template = _(
                "%(what)s: would create %(created)s, update %(updated)s, "
                "leave %(unchanged)s unchanged"
            )
        else:
            template = _(
                "%(what)s: created %(created)s, updated %(updated)s, unchanged %(unchanged)s"
            )
        for tally in result.tallies:
            counts = {
                "what": tally.label,
                "created": tally.created,
                "updated": tally.updated,
                "unchanged": tally.unchanged,
            }
            self.stdout.write("  " + template % counts)
        for note in result.notes:
            self.stdout.write(_("Note: %(note)s") % {"note": note})
