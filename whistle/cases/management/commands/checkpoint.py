"""``whistle checkpoint [--output FILE]``: write a signed checkpoint of every trail now.

The worker writes one every WHISTLE_CHECKPOINT_INTERVAL_MINUTES; this one is on demand. The
file is what an archive or witness keeps, and `whistle verify-trail --checkpoint FILE`
checks the database against. With WHISTLE_TIMESTAMP_URL set, the time-stamping authority's
token over the checkpoint is asked for at once and written beside the file (FILE.tst).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from whistle.cases.checkpoints import create_checkpoint
from whistle.cases.signing import SigningKeyMissing
from whistle.cases.timestamps import TimestampError, stamp, token_beside


def write_json(path: Path, document: Any) -> None:
    """Write a JSON file whole or not at all."""
    write_bytes(path, (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode())


def write_bytes(path: Path, data: bytes) -> None:
    """Write a binary file whole or not at all."""
    try:
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_bytes(data)
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
        token = None
        if settings.WHISTLE_TIMESTAMP_URL:
            try:
                token = bytes(stamp(checkpoint, now=timezone.now()).token)
            except TimestampError as exc:
                self.stderr.write(
                    _("No timestamp for checkpoint #%(number)s: %(error)s")
                    % {"number": checkpoint.number, "error": exc}
                )
        if options["output"]:
            path = Path(options["output"])
            write_json(path, checkpoint.document)
            if token is not None:
                write_bytes(token_beside(path), token)
        counts = checkpoint.document["counts"]
        self.stdout.write(
            _(
                "Checkpoint #%(number)s: %(cases)s cases, %(events)s events, root %(root)s, "
                "hash %(hash)s, signed by %(key)s"
            )
            % {
                "number": checkpoint.number,
                "cases": counts["cases"],
                "events": counts["events"],
                "root": checkpoint.root,
                "hash": checkpoint.hash,
                "key": checkpoint.document["signature"]["fingerprint"],
            }
        )
