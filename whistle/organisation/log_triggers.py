"""The database triggers that keep a log append-only: UPDATE and DELETE refused, and
TRUNCATE on PostgreSQL (row triggers do not see it). A model may refuse a second save too,
but only the database stops a bulk update, raw SQL or another program. Used by the
migrations that install them, in every app (this module imports nothing of the project).

whistle.cases.triggers lists the tables. Trail checkpoints commit to every entry of most of
these logs (whistle.cases.checkpoints, docs/trail.md), so an entry changed or removed with
the triggers out of the way is named by `verify-trail --checkpoint`; the log of changes to
contact addresses and the chiefs' appointment log have the triggers only. On SQLite, a later
migration that alters such a table rebuilds it without its triggers: that migration must
create them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AppendOnly:
    """The triggers of one table; ``message`` is what a refused statement reports."""

    table: str
    message: str

    def install(self, apps: Any, schema_editor: Any) -> None:
        table, message = self.table, self.message
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(
                f"""
                CREATE OR REPLACE FUNCTION {table}_refuse_change() RETURNS trigger
                LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION '{message}: % on {table} refused', TG_OP
                        USING ERRCODE = 'integrity_constraint_violation';
                END;
                $$
                """,
                # No parameters: the % of RAISE is PL/pgSQL's, not a placeholder.
                params=None,
            )
            for operation in ("update", "delete"):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{operation} BEFORE {operation.upper()} "
                    f"ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change()"
                )
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse_change()"
            )
        elif vendor == "sqlite":
            for operation in ("update", "delete"):
                refused = f"{message}: {operation.upper()} on {table} refused"
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{operation} BEFORE {operation.upper()} "
                    f"ON {table} BEGIN SELECT RAISE(ABORT, '{refused}'); END"
                )
        else:
            raise NotImplementedError(f"no append-only triggers for the {vendor} database")

    def uninstall(self, apps: Any, schema_editor: Any) -> None:
        table = self.table
        postgresql = schema_editor.connection.vendor == "postgresql"
        operations = ("update", "delete", "truncate") if postgresql else ("update", "delete")
        for operation in operations:
            suffix = f" ON {table}" if postgresql else ""
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}{suffix}")
        if postgresql:
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_refuse_change()")
