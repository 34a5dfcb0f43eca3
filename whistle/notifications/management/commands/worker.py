"""``whistle worker``: run the sweeps named in WHISTLE_WORKER_SWEEPS again and again.

Each sweep claims its own work in the database, so the loop keeps nothing between passes:
several workers may run at once and any of them may be killed at any line.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections, connections
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

log = logging.getLogger("whistle.worker")

DEFAULT_SWEEPS = ["whistle.cases.deadlines.sweep", "whistle.notifications.delivery.sweep"]
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass(frozen=True)
class Sweep:
    path: str
    run: Callable[..., int]


def load_sweeps(paths: Iterable[str]) -> list[Sweep]:
    """Import every sweep before the first pass, naming each one that cannot be used."""
    sweeps: list[Sweep] = []
    problems: list[str] = []
    for path in paths:
        try:
            function = import_string(path)
        except Exception as exc:
            problems.append(
                _("The sweep %(path)s cannot be loaded: %(error)s") % {"path": path, "error": exc}
            )
            continue
        if not callable(function):
            problems.append(_("The sweep %(path)s is not a function.") % {"path": path})
            continue
        sweeps.append(Sweep(path, function))
    if problems:
        raise CommandError("\n".join(problems))
    if not sweeps:
        raise CommandError(_("There is no sweep to run: WHISTLE_WORKER_SWEEPS is empty."))
    return sweeps


class Loop:
    def __init__(self, sweeps: list[Sweep], *, interval: float, batch: int) -> None:
        self.sweeps = sweeps
        self.interval = interval
        self.batch = batch
        self.stop_requested = threading.Event()

    def request_stop(self, signum: int, frame: FrameType | None = None) -> None:
        log.info("%s received: stopping after the current sweep", signal.Signals(signum).name)
        self.stop_requested.set()

    @contextmanager
    def stopping_on_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {number: signal.signal(number, self.request_stop) for number in STOP_SIGNALS}
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, signal.SIG_DFL if handler is None else handler)

    def run(self, *, once: bool = False, max_seconds: float | None = None) -> None:
        ends_at = None if max_seconds is None else time.monotonic() + max_seconds
        log.info(
            "worker started: every %ss, batches of %d, sweeps %s",
            self.interval,
            self.batch,
            ", ".join(sweep.path for sweep in self.sweeps),
        )
        try:
            while not self.stop_requested.is_set():
                more_waiting, failed = self.run_pass()
                if once or (ends_at is not None and time.monotonic() >= ends_at):
                    break
                if more_waiting and not failed:
                    continue
                pause = self.interval
                if ends_at is not None:
                    pause = min(pause, max(ends_at - time.monotonic(), 0.0))
                self.stop_requested.wait(pause)
        finally:
            connections.close_all()
            log.info("worker stopped")

    def run_pass(self) -> tuple[bool, bool]:
        """Run each sweep once; tell whether one returned a full batch and whether one failed."""
        more_waiting = failed = False
        close_old_connections()
        for sweep in self.sweeps:
            if self.stop_requested.is_set():
                break
            started = time.monotonic()
            try:
                count = sweep.run(timezone.now(), batch=self.batch)
                if not isinstance(count, int):
                    raise TypeError(f"returned {count!r} instead of how many it processed")
            except Exception:
                failed = True
                log.exception("%s failed; the worker carries on", sweep.path)
                # The failure may have left the connection unusable.
                close_old_connections()
                continue
            if count:
                elapsed_ms = (time.monotonic() - started) * 1000
                log.info("%s: %d processed in %.0f ms", sweep.path, count, elapsed_ms)
            more_waiting = more_waiting or count >= self.batch
        close_old_connections()
        return more_waiting, failed


class Command(BaseCommand):
    help = (
        "Run the sweeps of WHISTLE_WORKER_SWEEPS (deadlines, notification delivery) every "
        "WHISTLE_WORKER_INTERVAL_SECONDS until SIGTERM or Ctrl-C."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run every sweep once and exit")
        parser.add_argument(
            "--max-seconds",
            type=float,
            metavar="N",
            help="stop after about N seconds (for benchmarks)",
        )
        parser.add_argument(
            "--sweep",
            action="append",
            dest="sweeps",
            metavar="DOTTED.PATH",
            help="run this sweep instead of WHISTLE_WORKER_SWEEPS (may be given several times)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        max_seconds = options["max_seconds"]
        if max_seconds is not None and max_seconds < 0:
            raise CommandError(_("--max-seconds cannot be negative."))
        paths = options["sweeps"] or getattr(settings, "WHISTLE_WORKER_SWEEPS", DEFAULT_SWEEPS)
        loop = Loop(
            load_sweeps(paths),
            interval=float(getattr(settings, "WHISTLE_WORKER_INTERVAL_SECONDS", 1.0)),
            batch=int(getattr(settings, "WHISTLE_WORKER_BATCH", 200)),
        )
        with loop.stopping_on_signals():
            loop.run(once=options["once"], max_seconds=max_seconds)
