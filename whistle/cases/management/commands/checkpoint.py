"""``whistle checkpoint [--output FILE]``: write a signed checkpoint of every trail now.

The worker writes one every WHISTLE_CHECKPOINT_INTERVAL_MINUTES; this one is on demand. The
file is what an archive or witness keeps, and `whistle verify-trail --checkpoint FILE`
checks the database against.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from whistle.cases.checkpoints import create_checkpoint
from whistle.cases.signing import SigningKeyMissing


def write_json(path: Path, document: Any) -> None:
    """Write a JSON file whole or not at all."""
    text = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    try:
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        raise CommandError(
            _("Cannot write %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
        ) from exc


class Command(BaseCommand):
    help = "Write a signed checkpoint of every case's and patrol's trail."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", "-o", metavar="FILE", help="also write it here")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            checkpoint = create_checkpoint(now=timezone.now())
        except SigningKeyMissing as exc:
            raise CommandError(str(exc)) from exc
        if options["output"]:
            write_json(Path(options["output"]), checkpoint.document)
        counts = checkpoint.document["counts"]
        self.stdout.write(
            _(
                "Checkpoint #%(number)s: %(cases)s cases, %(events)s events, root %(root)s, "
                "signed by %(key)s"
            )
            % {
                "number": checkpoint.number,
                "cases": counts["cases"],
                "events": counts["events"],
                "root": checkpoint.root,
                "key": checkpoint.document["signature"]["fingerprint"],
            }
        )
