"""More of the trail kept by the database itself.

- An inserted event must extend its case's chain: the next sequence number and the last
  event's hash as its `prev_hash` (a forged event slipped in with raw SQL otherwise only
  shows at the next `verify-trail`).
- Checkpoints are append-only like events.
- PostgreSQL refuses TRUNCATE of both tables (row triggers do not see it).

The names are listed in whistle.cases.triggers, which `verify-trail` and the system checks
use to tell whether they are all in place.
"""

from django.db import migrations

GENESIS = "0" * 64
MESSAGE = "trail events must extend the chain of their case"


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"""
            CREATE OR REPLACE FUNCTION cases_event_extends_chain() RETURNS trigger
            LANGUAGE plpgsql AS $$
            DECLARE
                last_seq integer := 0;
                last_hash varchar := '{GENESIS}';
            BEGIN
                SELECT seq, hash INTO last_seq, last_hash FROM cases_event
                    WHERE case_id = NEW.case_id ORDER BY seq DESC LIMIT 1;
                IF NOT FOUND THEN
                    last_seq := 0;
                    last_hash := '{GENESIS}';
                END IF;
                IF NEW.seq <> last_seq + 1 OR NEW.prev_hash <> last_hash THEN
                    RAISE EXCEPTION '{MESSAGE}: event #% of case % refused', NEW.seq,
                        NEW.case_id USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                RETURN NEW;
            END;
            $$
            """,
            params=None,
        )
        schema_editor.execute(
            "CREATE TRIGGER cases_event_extends_chain BEFORE INSERT ON cases_event "
            "FOR EACH ROW EXECUTE FUNCTION cases_event_extends_chain()"
        )
        schema_editor.execute(
            """
            CREATE OR REPLACE FUNCTION cases_checkpoint_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'checkpoints are append-only: % on cases_checkpoint refused',
                    TG_OP USING ERRCODE = 'integrity_constraint_violation';
            END;
            $$
            """,
            params=None,
        )
        for operation in ("update", "delete"):
            schema_editor.execute(
                f"CREATE TRIGGER cases_checkpoint_no_{operation} BEFORE {operation.upper()} "
                "ON cases_checkpoint FOR EACH ROW EXECUTE FUNCTION "
                "cases_checkpoint_refuse_change()"
            )
        for table in ("cases_event", "cases_checkpoint"):
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse_change()"
            )
    elif vendor == "sqlite":
        schema_editor.execute(
            "CREATE TRIGGER cases_event_extends_chain BEFORE INSERT ON cases_event "
            "WHEN NEW.seq != COALESCE("
            "(SELECT MAX(seq) FROM cases_event WHERE case_id = NEW.case_id), 0) + 1 "
            "OR NEW.prev_hash != COALESCE((SELECT hash FROM cases_event "
            f"WHERE case_id = NEW.case_id ORDER BY seq DESC LIMIT 1), '{GENESIS}') "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: INSERT on cases_event refused'); END"
        )
        for operation in ("update", "delete"):
            schema_editor.execute(
                f"CREATE TRIGGER cases_checkpoint_no_{operation} BEFORE {operation.upper()} "
                "ON cases_checkpoint BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only: "
                f"{operation.upper()} on cases_checkpoint refused'); END"
            )
    else:
        raise NotImplementedError(f"no trail triggers for the {vendor} database")


def uninstall(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    names = [
        ("cases_event_extends_chain", "cases_event"),
        ("cases_checkpoint_no_update", "cases_checkpoint"),
        ("cases_checkpoint_no_delete", "cases_checkpoint"),
    ]
    if postgresql:
        names += [
            ("cases_event_no_truncate", "cases_event"),
            ("cases_checkpoint_no_truncate", "cases_checkpoint"),
        ]
    for name, table in names:
        suffix = f" ON {table}" if postgresql else ""
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}{suffix}")
    if postgresql:
        schema_editor.execute("DROP FUNCTION IF EXISTS cases_event_extends_chain()")
        schema_editor.execute("DROP FUNCTION IF EXISTS cases_checkpoint_refuse_change()")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0013_trail_checkpoints"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
