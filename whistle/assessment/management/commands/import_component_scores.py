"""`whistle import-component-scores FILE --district CODE`: the district's other components."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from whistle.assessment.components import import_component_scores
from whistle.organisation.models import Jurisdiction


class Command(BaseCommand):
    help = (
        "Import scores of other components (e.g. the district's inspections) from CSV or XLSX "
        "with the columns department, component, period, score; all rows or none."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--district", required=True, help="the district's 6-digit code")

    def handle(self, *args: Any, **options: Any) -> None:
        district = Jurisdiction.objects.filter(
            code=options["district"], level=Jurisdiction.Level.DISTRICT
        ).first()
        if district is None:
            raise CommandError(
                _("No district with the code %(code)s") % {"code": options["district"]}
            )
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("No such file: %(file)s") % {"file": path})
        report = import_component_scores(path, district)
        for line in report.errors:
            self.stderr.write(line)
        if report.errors:
            raise CommandError(_("Nothing imported: the file has errors"))
        self.stdout.write(_("%(count)s scores imported.") % {"count": report.written})
