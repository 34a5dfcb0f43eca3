"""The throwaway database a benchmark runs in, made beside the configured one.

A temporary SQLite file by default, or a test database on the PostgreSQL server that
``DATABASE_URL=postgresql://…`` names: the configured database itself is never written.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def throwaway_database() -> Iterator[str]:
    """Create the throwaway database, migrated, for the block; drop it after. Django must be
    set up; nothing may have queried the database yet. Yields the database's vendor."""
    from django.db import connection

    with tempfile.TemporaryDirectory() as scratch:
        if connection.vendor == "sqlite":
            connection.settings_dict.setdefault("TEST", {})["NAME"] = str(
                Path(scratch) / "benchmark.sqlite3"
            )
        original_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            yield connection.vendor
        finally:
            connection.creation.destroy_test_db(original_name, verbosity=0)
