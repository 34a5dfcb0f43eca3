"""Which of the trail's database triggers are in place.

They are made by the migrations 0003 (events: no UPDATE, no DELETE) and 0014 (events: only
an INSERT that extends the chain; checkpoints: no UPDATE, no DELETE; PostgreSQL: no
TRUNCATE of either). Someone with the rights to drop a trigger can still do all of it; the
checkpoints kept outside the database are what shows it afterwards (docs/trail.md).
"""

from __future__ import annotations

from django.db import connection

_BOTH = (
    "cases_event_no_update",
    "cases_event_no_delete",
    "cases_event_extends_chain",
    "cases_checkpoint_no_update",
    "cases_checkpoint_no_delete",
)
_POSTGRESQL_ONLY = ("cases_event_no_truncate", "cases_checkpoint_no_truncate")


def expected_triggers() -> tuple[str, ...]:
    return _BOTH + (_POSTGRESQL_ONLY if connection.vendor == "postgresql" else ())


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
