"""Run the web server and the deadline worker together; Ctrl-C stops both."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import get_commands
from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = "Serve the pages and run the deadline worker beside them until interrupted."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-worker", action="store_true", help="serve pages only")

    def handle(self, *args: Any, **options: Any) -> None:
        whistle = [sys.executable, "-m", "whistle"]
        commands = [[*whistle, "runserver", f"{options['host']}:{options['port']}", "--noreload"]]
        if not options["no_worker"] and "worker" in get_commands():
            commands.append([*whistle, "worker"])
        children = [subprocess.Popen(cmd) for cmd in commands]
        address = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(_("Serving on %(address)s (Ctrl-C stops).") % {"address": address})
        if options["host"] not in {"127.0.0.1", "localhost", "::1"}:
            # Without debug mode Django answers only to the names it is told.
            self.stdout.write(
                _(
                    "Reached by another name or address, the pages answer only to those in "
                    "WHISTLE_ALLOWED_HOSTS (now: %(hosts)s)."
                )
                % {"hosts": ", ".join(settings.ALLOWED_HOSTS)}
            )

        def stop(*_: Any) -> None:
            for child in children:
                if child.poll() is None:
                    child.terminate()

        signal.signal(signal.SIGTERM, stop)
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            stop()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
