"""The throwaway database a benchmark runs in, made beside the configured one.

A temporary SQLite file by default, or a test database on the PostgreSQL server that
``DATABASE_URL=postgresql://…`` names: the configured database itself is never written.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def set_up_django(*, plain_static_files: bool = False, **settings: Any) -> None:
    """Make the product importable and set Django up with its settings (the database from
    ``DATABASE_URL``), each of `settings` replacing the setting of its name first.
    `plain_static_files`: pages name static files by their plain names, as in the tests,
    so that nothing needs collecting first."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
    import django
    from django.conf import settings as configured

    for name, value in settings.items():
        setattr(configured, name, value)
    if plain_static_files:
        configured.STORAGES = {
            **configured.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    django.setup()


def run_in_throwaway(
    run: Callable[[argparse.Namespace, str], None], args: argparse.Namespace
) -> None:
    """Set Django up and call ``run(args, vendor)`` in the throwaway database."""
    set_up_django()
    with throwaway_database() as vendor:
        run(args, vendor)


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
