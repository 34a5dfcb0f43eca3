"""The database triggers that give the map a new revision token (`MapRevision`) whenever a
table the map is read from changes: by the admin, an import, `QuerySet.update()`, raw SQL
or another program. Used by the migrations that install them.

On SQLite, a later migration that alters one of these tables rebuilds it without its
triggers, and a flush (as after a transactional test) empties the token's table. `ensure`
puts back what is missing; it runs after every `migrate` and every flush (the
`post_migrate` signal, connected in the app's config), so no migration has to remember it
(tests/test_places.py).
"""

from __future__ import annotations

import uuid
from typing import Any

REVISION_TABLE = "organisation_maprevision"
# Every table the map is read from; the last belongs to the policies app (a district's lane
# matching distance), named here only as a table.
MAP_TABLES = (
    "organisation_jurisdiction",
    "organisation_lane",
    "organisation_gridcell",
    "policies_districtpolicy",
)
_OPERATIONS = ("insert", "update", "delete")


def install(schema_editor: Any, table: str) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"""
            CREATE OR REPLACE FUNCTION {REVISION_TABLE}_bump() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE {REVISION_TABLE} SET token = md5(random()::text || clock_timestamp()::text);
                RETURN NULL;
            END;
            $$
            """,
            params=None,
        )
        # Once per statement: a bulk insert of 50,000 lanes changes the token once.
        schema_editor.execute(
            f"CREATE OR REPLACE TRIGGER {table}_map_revision "
            "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {REVISION_TABLE}_bump()"
        )
    elif vendor == "sqlite":
        for operation in _OPERATIONS:
            schema_editor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {table}_map_revision_{operation} "
                f"AFTER {operation.upper()} "
                f"ON {table} BEGIN UPDATE {REVISION_TABLE} SET token = lower(hex(randomblob(16))); "
                "END"
            )
    else:
        raise NotImplementedError(f"no map revision triggers for the {vendor} database")


def uninstall(schema_editor: Any, table: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_map_revision ON {table}")
    else:
        for operation in _OPERATIONS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_map_revision_{operation}")


class _Statements:
    """What `install` needs of a schema editor, on a plain connection: SQLite's schema
    editor refuses to open inside a transaction, and a trigger needs none of its work."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def execute(self, sql: str, params: Any = None) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)


def _trigger_names(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [f"{table}_map_revision"]
    return [f"{table}_map_revision_{operation}" for operation in _OPERATIONS]


def missing(connection: Any) -> list[str]:
    """The map's tables, among those that exist, that lack one of their triggers."""
    tables = set(connection.introspection.table_names())
    if REVISION_TABLE not in tables:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
    return [
        table
        for table in MAP_TABLES
        if table in tables
        and not all(name in present for name in _trigger_names(connection.vendor, table))
    ]


def ensure(connection: Any) -> list[str]:
    """Install the triggers a table rebuild dropped and put back the token a flush removed;
    the tables whose triggers were missing."""
    if connection.vendor not in ("postgresql", "sqlite"):
        return []
    gone = missing(connection)
    for table in gone:
        install(_Statements(connection), table)
    if REVISION_TABLE in connection.introspection.table_names():
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {REVISION_TABLE} (token) SELECT %s "
                f"WHERE NOT EXISTS (SELECT 1 FROM {REVISION_TABLE})",
                [uuid.uuid4().hex],
            )
    return gone
