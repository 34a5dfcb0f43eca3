"""Sweeps that the worker runs in a separate process during tests/test_worker.py."""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

from django.db import connection, transaction


def _note(line: str) -> None:
    with Path(os.environ["WHISTLE_TEST_TICK_LOG"]).open("a", encoding="utf-8") as log:
        log.write(line + "\n")


def slow_sweep(now: datetime, *, batch: int) -> int:
    """Writes one row in a transaction that stays open for 0.3 s, noting when it begins and ends."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS worker_ticks (id INTEGER PRIMARY KEY, at TEXT NOT NULL)"
        )
        _note("begin")
        time.sleep(0.3)
        cursor.execute("INSERT INTO worker_ticks (at) VALUES (%s)", [now.isoformat()])
    _note("end")
    return 1
