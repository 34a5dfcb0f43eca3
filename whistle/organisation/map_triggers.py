"""The database triggers that give the map a new revision token (`MapRevision`) whenever a
table the map is read from changes: by the admin, an import, `QuerySet.update()`, raw SQL
or another program. Used by the migrations that install them.

On SQLite, a later migration that alters one of these tables rebuilds it without its
triggers: such a migration must install them again (tests/test_places.py checks that a bulk
update still changes the token).
"""

from __future__ import annotations

from typing import Any

REVISION_TABLE = "organisation_maprevision"
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
            f"CREATE TRIGGER {table}_map_revision AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {REVISION_TABLE}_bump()"
        )
    elif vendor == "sqlite":
        for operation in _OPERATIONS:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_map_revision_{operation} AFTER {operation.upper()} "
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
