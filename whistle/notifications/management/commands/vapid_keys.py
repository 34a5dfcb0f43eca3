"""``whistle vapid-keys``: a new VAPID key pair for Web Push, printed as settings lines, or
written once into a development ``.env`` (``--env-file``, as `make run` does for the demo)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from whistle.notifications.webpush import generate_vapid_keys

PRIVATE = "WHISTLE_VAPID_PRIVATE_KEY"
SUBJECT = "WHISTLE_VAPID_SUBJECT"


class Command(BaseCommand):
    help = (
        "Generate a VAPID key pair for Web Push and print the lines for .env. Keep the private "
        "key secret; changing it later makes every browser subscribe again."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--subject",
            default="mailto:whistle-admin@example.gov.cn",
            help="the contact the push services may write to (mailto: or https:)",
        )
        parser.add_argument(
            "--env-file",
            help=(
                "append the key to this development .env instead of printing it, unless the "
                "file or the environment already names one (kept as it is, even empty)"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["env_file"]:
            self._write_once(Path(options["env_file"]), options["subject"])
            return
        private, public = generate_vapid_keys()
        self.stdout.write(f"{PRIVATE}={private}")
        self.stdout.write(f"{SUBJECT}={options['subject']}")
        self.stdout.write(f"# The public key (browsers get it from the page): {public}")

    def _write_once(self, path: Path, subject: str) -> None:
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        named = re.search(rf"^\s*{PRIVATE}\s*=", text, flags=re.MULTILINE)
        if named or PRIVATE in os.environ:
            self.stdout.write(_("The Web Push key is kept as it is."))
            return
        private, public = generate_vapid_keys()
        lines = [
            "# Web Push for the demo (whistle vapid-keys); keep the private key secret.",
            f"{PRIVATE}={private}",
        ]
        if not re.search(rf"^\s*{SUBJECT}\s*=", text, flags=re.MULTILINE):
            lines.append(f"{SUBJECT}={subject}")
        start = "" if not text or text.endswith("\n") else "\n"
        try:
            with path.open("a", encoding="utf-8") as file:
                file.write(start + "\n".join(lines) + "\n")
        except OSError as exc:
            raise CommandError(
                _("Could not write the Web Push key into %(path)s: %(error)s")
                % {"path": path, "error": exc.strerror or exc}
            ) from exc
        self.stdout.write(
            _("Web Push key written into %(path)s; its public key: %(public)s")
            % {"path": path, "public": public}
        )
