"""On PostgreSQL, the check that inserted events extend their case's chain runs once per
statement over the rows it inserted, instead of once per row.

The check is the same: each inserted event's predecessor in its case (sequence number one
less, among the stored events and those of the same statement) must exist and carry the hash
the event names as its `prev_hash`, and the first event of a case must name the genesis hash.
With the unique (case, seq) index and no event ever removed, that is what the row trigger of
cases 0014 asked (the next number after the last, and the last's hash): a gap, a repeated
number or a wrong hash is refused, now at the end of the statement rather than at its row.
The sweep inserts hundreds of events in one statement (`COPY`). The trigger keeps its name,
which whistle.cases.triggers checks.

SQLite has no statement triggers and keeps the row trigger of cases 0014. There the event
table was rebuilt by cases 0019 (a changed index of a column), and the rebuilt table had lost
the triggers of cases 0003 and 0014; they are made again here.
"""

from importlib import import_module

from django.db import migrations

# The trail's triggers on SQLite, as cases 0003 and 0014 make them.
SQLITE_TRIGGERS = (
    "cases_event_no_update",
    "cases_event_no_delete",
    "cases_event_extends_chain",
    "cases_checkpoint_no_update",
    "cases_checkpoint_no_delete",
)

GENESIS = "0" * 64
MESSAGE = "trail events must extend the chain of their case"


def trail_triggers_on_sqlite(apps, schema_editor):
    for name in SQLITE_TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
    for migration in ("0003_event_append_only", "0014_trail_chain_and_truncate_triggers"):
        import_module(f"whistle.cases.migrations.{migration}").install(apps, schema_editor)


def statement_check(predecessor_suffix: str = "") -> str:
    """The check's function as this migration makes it; cases 0024 makes it again with
    `OFFSET 0` after the predecessor's conditions (`predecessor_suffix`)."""
    return f"""
        CREATE OR REPLACE FUNCTION cases_event_statement_extends_chain() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            refused record;
        BEGIN
            SELECT added.seq, added.case_id INTO refused FROM cases_event_added added
                WHERE NOT CASE WHEN added.seq = 1 THEN added.prev_hash = '{GENESIS}'
                    ELSE EXISTS (
                        SELECT FROM cases_event previous
                        WHERE previous.case_id = added.case_id
                            AND previous.seq = added.seq - 1
                            AND previous.hash = added.prev_hash{predecessor_suffix}
                    ) END
                LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION '{MESSAGE}: event #% of case % refused', refused.seq,
                    refused.case_id USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NULL;
        END;
        $$
        """


def per_statement(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        trail_triggers_on_sqlite(apps, schema_editor)
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(statement_check(), params=None)
    schema_editor.execute("DROP TRIGGER IF EXISTS cases_event_extends_chain ON cases_event")
    schema_editor.execute(
        "CREATE TRIGGER cases_event_extends_chain AFTER INSERT ON cases_event "
        "REFERENCING NEW TABLE AS cases_event_added FOR EACH STATEMENT "
        "EXECUTE FUNCTION cases_event_statement_extends_chain()"
    )


def per_row(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP TRIGGER IF EXISTS cases_event_extends_chain ON cases_event")
    schema_editor.execute(
        "CREATE TRIGGER cases_event_extends_chain BEFORE INSERT ON cases_event "
        "FOR EACH ROW EXECUTE FUNCTION cases_event_extends_chain()"
    )
    schema_editor.execute("DROP FUNCTION IF EXISTS cases_event_statement_extends_chain()")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0021_fewer_null_index_entries"),
    ]

    operations = [migrations.RunPython(per_statement, per_row, elidable=False)]
