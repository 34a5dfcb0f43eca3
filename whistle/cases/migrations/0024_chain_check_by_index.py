"""On PostgreSQL, the check that inserted events extend their case's chain looks up each
event's predecessor by the (case, number) index, whatever the sizes of the tables.

The check of cases 0022 asks, for each event of the statement, whether its predecessor exists
with the hash it names, in an `EXISTS` subquery. PostgreSQL may run such a subquery "hashed":
read the whole event table once and keep it in memory, instead of one look-up an event. It
chose that whenever the event table looked small beside the statement's rows, for example for
every chunk of the deadline sweep (hundreds of events in one `COPY`) while the table held tens
of thousands of events: each chunk then read every event. `OFFSET 0` in the subquery keeps it
a subquery run once an event (the planner does not turn a subquery with an offset into a
hashed one), so that each predecessor is one look-up of `event_unique_seq`. The condition is
unchanged. SQLite keeps its row trigger.
"""

from importlib import import_module

from django.db import migrations

# The check's function and the other steps of cases 0022 (a migration's name starts with a
# digit: imported by name).
CHECKED_PER_STATEMENT = "whistle.cases.migrations.0022_event_chain_checked_per_statement"
# Written on a line of its own after the predecessor's conditions.
FENCE = "\n                        OFFSET 0"


def by_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    check = import_module(CHECKED_PER_STATEMENT).statement_check(FENCE)
    schema_editor.execute(check, params=None)


def as_before(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    import_module(CHECKED_PER_STATEMENT).per_statement(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0023_claims_in_index_order"),
    ]

    operations = [migrations.RunPython(by_index, as_before, elidable=False)]
