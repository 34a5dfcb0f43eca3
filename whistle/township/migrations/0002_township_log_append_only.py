"""Database triggers that keep the township's powers log append-only: UPDATE and DELETE refused, and TRUNCATE
on PostgreSQL (row triggers do not see it). The model refuses a second save too, but only the
database stops a bulk update, raw SQL or another program.

Trail checkpoints commit to every entry (whistle.cases.checkpoints, docs/trail.md), so an
entry changed or removed with the triggers out of the way is named by `verify-trail
--checkpoint`. The names are listed in whistle.cases.triggers. On SQLite, a later migration
that alters this table rebuilds it without its triggers: such a migration must create them
again.
"""

from django.db import migrations

TABLE = "township_townshiplogentry"
MESSAGE = "the township powers log is append-only"


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"""
            CREATE OR REPLACE FUNCTION {TABLE}_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}: % on {TABLE} refused', TG_OP
                    USING ERRCODE = 'integrity_constraint_violation';
            END;
            $$
            """,
            # No parameters: the % of RAISE is PL/pgSQL's, not a placeholder.
            params=None,
        )
        for operation in ("update", "delete"):
            schema_editor.execute(
                f"CREATE TRIGGER {TABLE}_no_{operation} BEFORE {operation.upper()} ON {TABLE} "
                f"FOR EACH ROW EXECUTE FUNCTION {TABLE}_refuse_change()"
            )
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_refuse_change()"
        )
    elif vendor == "sqlite":
        for operation in ("update", "delete"):
            schema_editor.execute(
                f"CREATE TRIGGER {TABLE}_no_{operation} BEFORE {operation.upper()} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {operation.upper()} on {TABLE} refused'); "
                "END"
            )
    else:
        raise NotImplementedError(f"no append-only triggers for the {vendor} database")


def uninstall(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    operations = ("update", "delete", "truncate") if postgresql else ("update", "delete")
    for operation in operations:
        suffix = f" ON {TABLE}" if postgresql else ""
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{operation}{suffix}")
    if postgresql:
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {TABLE}_refuse_change()")


class Migration(migrations.Migration):
    dependencies = [
        ("township", "0001_matters_opinions_and_personnel_recommendations"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
