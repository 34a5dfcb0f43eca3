"""``whistle export-case REF [--output FILE]``: a case's whole history, signed with Ed25519."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from whistle.cases.export import export_case
from whistle.cases.models import Case
from whistle.cases.signing import SigningKeyMissing


class Command(BaseCommand):
    help = "Write a case's history (case, summonses, trail with hashes) as a signed JSON document."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("reference", metavar="REF", help="the case reference")
        parser.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        reference = options["reference"].strip().upper()
        case = Case.objects.filter(reference=reference).first()
        if case is None:
            raise CommandError(_("No case with the reference %(ref)s.") % {"ref": reference})
        try:
            document = export_case(case)
        except SigningKeyMissing as exc:
            raise CommandError(str(exc)) from exc
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
        if not options["output"]:
            self.stdout.write(text, ending="")
            return
        path = Path(options["output"])
        try:
            temporary = path.with_name(f".{path.name}.tmp")
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, path)
        except OSError as exc:
            raise CommandError(
                _("Cannot write %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
            ) from exc
        self.stderr.write(
            _("Case %(ref)s: %(events)s events written to %(path)s, signed by %(key)s")
            % {
                "ref": reference,
                "events": len(document["events"]),
                "path": path,
                "key": document["signature"]["fingerprint"],
            }
        )
