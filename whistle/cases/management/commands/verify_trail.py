"""``whistle verify-trail``: re-compute the hash chain of every case's trail.

``--case REF`` checks one case (repeatable); ``--file DOC.json`` checks an exported case
history offline (signature and chain) without touching the database. Exits non-zero when
anything is wrong, naming the case and the event.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from whistle.cases.export import verify_document
from whistle.cases.models import Case
from whistle.cases.verify import Report, verify_database

# Problems listed in the error itself; all of them go to stderr.
LISTED_IN_ERROR = 50


class Command(BaseCommand):
    help = "Check that no trail event was changed, removed or reordered."
    # The --file path must work without a database; nothing here needs the system checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--case", action="append", dest="cases", metavar="REF", help="a case reference"
        )
        parser.add_argument("--file", metavar="DOC.json", help="an exported case history")
        parser.add_argument(
            "--fingerprint",
            metavar="SHA256:…",
            help="with --file: the fingerprint the signing key must have",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        if options["file"]:
            if options["cases"]:
                raise CommandError(_("Give either --file or --case, not both."))
            report, signer = self._check_file(Path(options["file"]), options["fingerprint"])
            if signer:
                self.stdout.write(_("Signed by the key %(fingerprint)s") % {"fingerprint": signer})
        else:
            if options["fingerprint"]:
                raise CommandError(_("--fingerprint goes with --file."))
            references = options["cases"]
            if references:
                known = set(
                    Case.objects.filter(reference__in=references).values_list(
                        "reference", flat=True
                    )
                )
                unknown = [r for r in references if r not in known]
                if unknown:
                    raise CommandError(
                        _("No case with the reference %(refs)s.") % {"refs": ", ".join(unknown)}
                    )
            report = verify_database(references=references)
        self._finish(report, time.monotonic() - started)

    def _check_file(self, path: Path, expected: str | None) -> tuple[Report, str | None]:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
            ) from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(
                _("%(path)s is not a JSON document: %(error)s") % {"path": path, "error": exc}
            ) from exc
        return verify_document(document, expected_fingerprint=expected)

    def _finish(self, report: Report, seconds: float) -> None:
        for problem in report.problems:
            self.stderr.write(str(problem))
        summary = {
            "cases": report.cases,
            "events": report.events,
            "seconds": f"{seconds:.1f}",
        }
        if report.ok:
            self.stdout.write(
                _(
                    "Checked %(cases)s cases and %(events)s events in %(seconds)s s: "
                    "every trail is intact."
                )
                % summary
            )
            return
        listed = [str(p) for p in report.problems[:LISTED_IN_ERROR]]
        if len(report.problems) > LISTED_IN_ERROR:
            listed.append(_("… and %(n)s more.") % {"n": len(report.problems) - LISTED_IN_ERROR})
        raise CommandError(
            _("%(problems)s problems in %(broken)s of %(cases)s cases:")
            % {**summary, "problems": len(report.problems), "broken": len(report.broken_cases)}
            + "\n"
            + "\n".join(listed)
        )
