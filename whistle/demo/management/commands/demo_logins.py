"""``whistle demo-logins``: the table of demo logins, one per role, and where to sign in."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from whistle.demo.logins import DEMO_LOGINS, demo_login_rows, missing_demo_logins


def _width(text: str) -> int:
    """Columns a text takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


class Command(BaseCommand):
    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Translated when the command runs, in the language then active.
        self.help = _("List the demo logins: role, username, password and scope.")
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--markdown",
            action="store_true",
            help=_("print a Markdown table, for the README"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        header = [_("role"), _("role (English)"), _("username"), _("password"), _("scope")]
        rows = [
            [row.role_zh, row.role_en, row.username, row.password, row.scope]
            for row in demo_login_rows()
        ]
        if options["markdown"]:
            self.stdout.write("| " + " | ".join(header) + " |")
            self.stdout.write("|" + "---|" * len(header))
            for role_zh, role_en, username, password, scope in rows:
                cells = [role_zh, role_en, f"`{username}`", f"`{password}`", scope]
                self.stdout.write("| " + " | ".join(cells) + " |")
            return
        widths = [max(_width(cells[k]) for cells in [header, *rows]) for k in range(len(header))]
        self.stdout.write(self._heading())
        for cells in [header, ["-" * w for w in widths], *rows]:
            line = "  ".join(_pad(cell, w) for cell, w in zip(cells, widths, strict=True))
            self.stdout.write(line.rstrip())
        self.stdout.write(_("Sign in at %(url)s") % {"url": f"{settings.SITE_URL.rstrip('/')}/"})

    def _heading(self) -> str:
        """Whether these logins work in this database: it may hold the demo city, another
        district, or nothing yet."""
        missing = missing_demo_logins()
        if missing == []:
            return _("Demo logins:")
        if missing is None or len(missing) == len(DEMO_LOGINS):
            return _(
                "The demo logins are not in this database: run whistle seed-demo to load the "
                "demo city, then sign in with:"
            )
        return _(
            "Demo logins (missing or deactivated here: %(usernames)s; whistle seed-demo "
            "creates them again):"
        ) % {"usernames": ", ".join(missing)}
