"""`whistle recompute-scores [--check]`: recompute every record and score from the trail."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from whistle.assessment.engine import check_all, recompute_all


class Command(BaseCommand):
    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Translated when the command runs, in the language then active.
        self.help = _(
            "Recompute every assessment record and score from the trail and rewrite them "
            "(closed periods stay as they are); with --check, only compare and name the "
            "differences."
        )
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help=_("exit non-zero, naming each difference, if a stored value disagrees"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["check"]:
            differences = check_all()
            for line in differences:
                self.stderr.write(line)
            if differences:
                raise CommandError(
                    _("%(count)s stored values disagree with the trail")
                    % {"count": len(differences)}
                )
            self.stdout.write(_("Every stored record and score agrees with the trail."))
            return
        written = recompute_all()
        self.stdout.write(_("%(count)s records rewritten from the trail.") % {"count": written})
