"""Which of the trail's database triggers are in place.

They are made by the migrations cases 0003 (events: no UPDATE, no DELETE) and 0014 (events:
only an INSERT that extends the chain; checkpoints: no UPDATE, no DELETE; PostgreSQL: no
TRUNCATE of either), and by those that keep the other logs append-only: the logs a
checkpoint commits to — the township's powers log (township `…_township_log_append_only`),
the duty roster log (duty `…_roster_log_append_only`), the log of the township units
(organisation `…_unit_log_append_only`) and the steward recruitment log (township
`…_recruitment_log_append_only`) — and the checkpoints' timestamps (cases
`…_checkpoint_timestamp_append_only`), the log of changes to contact addresses (accounts
`…_contact_log_append_only`) and the chiefs' appointment log (patrols
`…_appointment_log_append_only`): no UPDATE, no DELETE, and no TRUNCATE on PostgreSQL, each made
by `whistle.organisation.log_triggers`. Someone with the rights to drop a trigger can still do
all of it; for the logs a checkpoint commits to, the checkpoints kept outside the database
are what shows it afterwards (docs/trail.md).
"""

from __future__ import annotations

from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

_BOTH = (
    "cases_event_no_update",
    "cases_event_no_delete",
    "cases_event_extends_chain",
    "cases_checkpoint_no_update",
    "cases_checkpoint_no_delete",
)
_POSTGRESQL_ONLY = ("cases_event_no_truncate", "cases_checkpoint_no_truncate")

# The append-only logs: table, and the app and name ending of the migration that guards it
# (an installation that has not run it yet misses nothing).
LOG_TABLES: dict[str, tuple[str, str]] = {
    "township_townshiplogentry": ("township", "township_log_append_only"),
    "duty_rosterlogentry": ("duty", "roster_log_append_only"),
    "organisation_unitlogentry": ("organisation", "unit_log_append_only"),
    "township_recruitmentevent": ("township", "recruitment_log_append_only"),
    "cases_checkpointtimestamp": ("cases", "checkpoint_timestamp_append_only"),
    "accounts_contactlogentry": ("accounts", "contact_log_append_only"),
    "patrols_appointmentevent": ("patrols", "appointment_log_append_only"),
}
TRAIL_TABLES = ("cases_event", "cases_checkpoint")


def _log_triggers(table: str) -> tuple[str, ...]:
    names = (f"{table}_no_update", f"{table}_no_delete")
    return (*names, f"{table}_no_truncate") if connection.vendor == "postgresql" else names


def table_of(trigger: str) -> str:
    """The table a trigger of this module is on."""
    for table in (*TRAIL_TABLES, *LOG_TABLES):
        if trigger.startswith(f"{table}_"):
            return table
    raise ValueError(trigger)


def _guarded_logs() -> list[str]:
    applied = MigrationRecorder(connection).applied_migrations()
    return [
        table
        for table, (app, ending) in LOG_TABLES.items()
        if any(label == app and name.endswith(ending) for label, name in applied)
    ]


def expected_triggers() -> tuple[str, ...]:
    trail = _BOTH + (_POSTGRESQL_ONLY if connection.vendor == "postgresql" else ())
    return trail + tuple(name for table in _guarded_logs() for name in _log_triggers(table))


def missing_triggers() -> list[str]:
    """The expected triggers that are absent (or, on PostgreSQL, disabled)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'"
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in expected_triggers() if name not in present]
