"""Serve the pages with gunicorn and run the deadline worker beside them; Ctrl-C stops both.

One gunicorn process answers with a few threads: the default cache (``locmem://``) is that
process's own memory, so the residents' rate limits, captchas and kept photos stay in one
place, and SQLite in WAL mode with immediate transactions lets the threads' writes wait for
each other instead of failing (docs/deployment.md, "One machine"). ``--dev`` runs Django's
development server instead, reloading when the code changes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

# Threads of the one server process: enough that a slow page does not hold up the others,
# few enough that SQLite's single writer keeps up (docs/deployment.md, "One machine").
THREADS = 4
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def web_command(host: str, port: int, *, threads: int, dev: bool) -> list[str]:
    """The command line of the web server: gunicorn, or Django's reloading server."""
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if dev:
        return [sys.executable, "-m", "whistle", "runserver", bind]
    return [
        *(sys.executable, "-m", "gunicorn", "whistle.wsgi", "--bind", bind),
        *("--workers", "1", "--worker-class", "gthread", "--threads", str(threads)),
        *("--timeout", "60", "--graceful-timeout", "5", "--no-control-socket"),
    ]


class Command(BaseCommand):
    help = "Serve the pages and run the deadline worker beside them until interrupted."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-worker", action="store_true", help="serve pages only")
        parser.add_argument(
            "--threads",
            type=int,
            default=THREADS,
            help=f"threads of the server process answering requests (default {THREADS})",
        )
        parser.add_argument(
            "--dev",
            action="store_true",
            help="Django's development server, reloading when the code changes",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        if options["threads"] < 1:
            raise CommandError(_("--threads must be at least 1."))
        commands = {
            _("The web server"): web_command(
                host, port, threads=options["threads"], dev=options["dev"]
            )
        }
        if not options["no_worker"] and "worker" in get_commands():
            commands[_("The deadline worker")] = [sys.executable, "-m", "whistle", "worker"]
        # Each in a process group of its own, stopped as a whole: the reloading server's
        # child goes with it, and Ctrl-C reaches this process alone, which stops the others.
        children = {
            name: subprocess.Popen(command, start_new_session=True)
            for name, command in commands.items()
        }
        shown_host = f"[{host}]" if ":" in host else host
        address = f"http://{shown_host}:{port}/"
        self.stdout.write(_("Serving on %(address)s (Ctrl-C stops).") % {"address": address})
        if host not in LOOPBACK:
            # Without debug mode Django answers only to the names it is told.
            self.stdout.write(
                _(
                    "Reached by another name or address, the pages answer only to those in "
                    "WHISTLE_ALLOWED_HOSTS (now: %(hosts)s)."
                )
                % {"hosts": ", ".join(settings.ALLOWED_HOSTS)}
            )

        asked_to_stop = False

        def stop(*_args: Any) -> None:
            nonlocal asked_to_stop
            asked_to_stop = True
            for child in children.values():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        try:
            while all(child.poll() is None for child in children.values()):
                time.sleep(0.5)
        except KeyboardInterrupt:
            asked_to_stop = True
        stopped_alone = [
            (name, child.returncode)
            for name, child in children.items()
            if not asked_to_stop and child.poll() is not None
        ]
        stop()
        for child in children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        if stopped_alone:
            name, status = stopped_alone[0]
            raise CommandError(
                _("%(process)s stopped on its own (exit status %(status)s); serving has ended.")
                % {"process": name, "status": status}
            )
