"""``whistle restore PATH [--force]``: replace the database with a backup, then check every
case's trail (``whistle verify-trail``). Stop the web server and the worker first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from whistle.web.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restore the database from a backup made by whistle backup, then verify the trails."
    # The database may be empty until the backup is in: nothing here needs the checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="a file written by whistle backup")
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace a database that is not empty",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        try:
            restore(path, force=options["force"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(_("Restored from %(path)s.") % {"path": path})
        call_command("verify_trail", stdout=self.stdout, stderr=self.stderr)
