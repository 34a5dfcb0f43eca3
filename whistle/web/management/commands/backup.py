"""``whistle backup PATH``: a consistent copy of the whole database, also while the product
runs (whistle.web.backup; docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from whistle.web.backup import BackupError, backup


class Command(BaseCommand):
    help = "Write a backup of the database to a new file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the new backup file")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        try:
            backup(path)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        size = path.stat().st_size
        self.stdout.write(
            _("Backup written to %(path)s (%(size)s bytes).") % {"path": path, "size": size}
        )
