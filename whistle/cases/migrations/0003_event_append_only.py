"""Database triggers that refuse UPDATE and DELETE on the trail's event table.

The model refuses too (Event.save/delete), but only the database can stop a bulk
``QuerySet.update()``, raw SQL from a shell, or another program writing to the table.

On SQLite, a later migration that alters the event table rebuilds it, and the rebuilt table
has no triggers: such a migration must create them again (tests/test_trail.py checks that
an update is refused).
"""

from django.db import migrations

MESSAGE = "trail events are append-only"


def _table(apps):
    return apps.get_model("cases", "Event")._meta.db_table


def install(apps, schema_editor):
    table = _table(apps)
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"""
            CREATE OR REPLACE FUNCTION {table}_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}: % on {table} refused', TG_OP
                    USING ERRCODE = 'integrity_constraint_violation';
            END;
            $$
            """,
            # No parameters: the % of RAISE is PL/pgSQL's, not a placeholder.
            params=None,
        )
        for operation in ("update", "delete"):
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_{operation} BEFORE {operation.upper()} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change()"
            )
    elif vendor == "sqlite":
        for operation in ("update", "delete"):
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_{operation} BEFORE {operation.upper()} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {operation.upper()} on {table} refused'); "
                "END"
            )
    else:
        raise NotImplementedError(f"no append-only triggers for the {vendor} database")


def uninstall(apps, schema_editor):
    table = _table(apps)
    vendor = schema_editor.connection.vendor
    for operation in ("update", "delete"):
        suffix = f" ON {table}" if vendor == "postgresql" else ""
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}{suffix}")
    if vendor == "postgresql":
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_refuse_change()")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_case_check_evaluation_and_trail_head"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
