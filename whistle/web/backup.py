"""Backups of the whole database, and restoring one (`whistle backup`, `whistle restore`).

SQLite is copied with its online backup API: one consistent snapshot, page by page, while
the product goes on writing (WAL lets readers and the writer pass each other). PostgreSQL is
dumped by `pg_dump` in its custom format, a snapshot too, and restored by `pg_restore` in a
single transaction, so that a failed restore leaves the database as it was.

A backup holds everything the database holds: residents' data, the webhook signing secrets
and the robots' keys. Keep backups as the database itself is kept (docs/security.md).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
# A backup without it is not of a Whistle database, or of one never migrated.
TRAIL_TABLE = "cases_event"


class BackupError(Exception):
    """Why a backup or a restore did not happen, in the reader's language."""


def engine() -> str:
    vendor = connection.vendor
    if vendor not in {"sqlite", "postgresql"}:
        raise BackupError(
            _("Backups support SQLite and PostgreSQL, not %(vendor)s.") % {"vendor": vendor}
        )
    return vendor


def backup(target: Path) -> None:
    """Write a backup of the configured database to `target`, which must not exist yet. The
    file appears whole or not at all."""
    if target.exists():
        raise BackupError(
            _("%(path)s exists already: choose a new name, a backup never overwrites one.")
            % {"path": target}
        )
    if not target.parent.is_dir():
        raise BackupError(_("The folder %(path)s does not exist.") % {"path": target.parent})
    kind = engine()
    with tempfile.NamedTemporaryFile(
        dir=target.parent, prefix=f".{target.name}.", delete=False
    ) as unfinished:
        partial = Path(unfinished.name)
    try:
        if kind == "sqlite":
            _sqlite_backup(partial)
        else:
            _pg_dump(partial)
        partial.rename(target)
    finally:
        partial.unlink(missing_ok=True)


def restore(source: Path, *, force: bool) -> None:
    """Replace the configured database with the backup in `source`. Refuses a database that
    already holds tables unless `force`."""
    try:
        with source.open("rb") as file:
            start = file.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(
            _("Cannot read %(path)s: %(error)s") % {"path": source, "error": exc.strerror}
        ) from exc
    kind = engine()
    expected = SQLITE_MAGIC if kind == "sqlite" else PG_CUSTOM_MAGIC
    if not start.startswith(expected):
        raise BackupError(
            _("%(path)s is not a backup of a %(engine)s database made by whistle backup.")
            % {"path": source, "engine": "SQLite" if kind == "sqlite" else "PostgreSQL"}
        )
    held = _sqlite_tables(source) if kind == "sqlite" else _pg_dump_tables(source)
    if TRAIL_TABLE not in held:
        raise BackupError(
            _("%(path)s holds no Whistle database (no trail table): nothing to restore.")
            % {"path": source}
        )
    tables = _tables()
    if tables and not force:
        raise BackupError(
            _(
                "The database is not empty (%(count)s tables): restoring replaces everything "
                "in it. Give --force to do so."
            )
            % {"count": len(tables)}
        )
    if kind == "sqlite":
        _sqlite_restore(source)
    else:
        _pg_restore(source, clean=bool(tables))


def _tables() -> list[str]:
    connection.ensure_connection()
    with connection.cursor() as cursor:
        return list(connection.introspection.table_names(cursor))


# SQLite


def _raw_sqlite() -> sqlite3.Connection:
    connection.ensure_connection()
    raw = connection.connection
    assert isinstance(raw, sqlite3.Connection)
    return raw


def _sqlite_backup(target: Path) -> None:
    copy = sqlite3.connect(target)
    try:
        # All pages in one step: a consistent snapshot even while others write.
        _raw_sqlite().backup(copy, pages=-1)
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()


def _sqlite_tables(source: Path) -> set[str]:
    backup_file = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        rows = backup_file.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}
    except sqlite3.DatabaseError as exc:
        raise BackupError(
            _("%(path)s is damaged: %(problem)s") % {"path": source, "problem": exc}
        ) from exc
    finally:
        backup_file.close()


def _sqlite_restore(source: Path) -> None:
    backup_file = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        ok = backup_file.execute("PRAGMA quick_check").fetchone()
        if not ok or ok[0] != "ok":
            raise sqlite3.DatabaseError(ok[0] if ok else "quick_check")
        # Into the live connection, in one step: the destination is replaced as a whole.
        backup_file.backup(_raw_sqlite(), pages=-1)
    except sqlite3.DatabaseError as exc:
        raise BackupError(
            _("%(path)s is damaged: %(problem)s") % {"path": source, "problem": exc}
        ) from exc
    finally:
        backup_file.close()


# PostgreSQL


def _pg_program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            _(
                "%(program)s was not found: install the PostgreSQL client programs "
                "(the postgresql-client package, of the server's version or newer) and put "
                "them on PATH."
            )
            % {"program": name}
        )
    return found


def _pg_connection() -> tuple[list[str], dict[str, str]]:
    """Arguments and environment that point pg_dump and pg_restore at the database; the
    password travels in the environment, not on the command line others can read."""
    settings: dict[str, Any] = connection.settings_dict
    arguments = [f"--dbname={settings['NAME']}"]
    if settings.get("HOST"):
        arguments.append(f"--host={settings['HOST']}")
    if settings.get("PORT"):
        arguments.append(f"--port={settings['PORT']}")
    if settings.get("USER"):
        arguments.append(f"--username={settings['USER']}")
    environment = {**os.environ}
    if settings.get("PASSWORD"):
        environment["PGPASSWORD"] = str(settings["PASSWORD"])
    return arguments, environment


def _run(command: list[str], environment: dict[str, str]) -> None:
    finished = subprocess.run(command, env=environment, capture_output=True, text=True)
    if finished.returncode != 0:
        raise BackupError(
            _("%(program)s failed: %(error)s")
            % {"program": Path(command[0]).name, "error": finished.stderr.strip()}
        )


def _pg_dump(target: Path) -> None:
    arguments, environment = _pg_connection()
    command = [_pg_program("pg_dump"), "--format=custom", f"--file={target}", *arguments]
    _run(command, environment)


def _pg_dump_tables(source: Path) -> set[str]:
    """The tables a custom-format dump holds, from its table of contents."""
    finished = subprocess.run(
        [_pg_program("pg_restore"), "--list", str(source)], capture_output=True, text=True
    )
    if finished.returncode != 0:
        raise BackupError(
            _("%(path)s is damaged: %(problem)s")
            % {"path": source, "problem": finished.stderr.strip()}
        )
    # A line of the list: "215; 1259 16390 TABLE public cases_event whistle".
    return {
        words[words.index("TABLE") + 2]
        for words in (line.split() for line in finished.stdout.splitlines())
        if "TABLE" in words and len(words) > words.index("TABLE") + 2
    }


def _pg_restore(source: Path, *, clean: bool) -> None:
    arguments, environment = _pg_connection()
    command = [
        _pg_program("pg_restore"),
        "--single-transaction",
        "--exit-on-error",
        "--no-owner",
        *(["--clean", "--if-exists"] if clean else []),
        *arguments,
        str(source),
    ]
    # Django's open connection would hold locks the restore's DROP statements wait for.
    connection.close()
    _run(command, environment)
