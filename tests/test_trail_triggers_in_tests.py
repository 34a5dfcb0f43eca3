"""The test suite's own plumbing around the trail's triggers keeps them in force."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from whistle.cases.models import Case
from whistle.cases.trail import append_event


def _case(small_city) -> Case:
    return Case.objects.create(
        source=Case.Source.STEWARD,
        description="井盖缺失",
        lon=116.432,
        lat=39.873,
        township=small_city.longtan,
        reported_at=timezone.now(),
    )


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_can_write_events_and_still_be_flushed(small_city):
    case = _case(small_city)
    with transaction.atomic():
        append_event(case, "case.reported")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_event")


def test_the_next_test_still_finds_the_triggers_in_force(small_city):
    case = _case(small_city)
    append_event(case, "case.reported")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE cases_event SET kind = 'x'")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the rebuilt table is SQLite's")
def test_the_migrations_make_the_trail_triggers_again_on_sqlite(small_city):
    """cases 0019 rebuilt SQLite's event table without its triggers; cases 0022 makes them
    again (this suite puts missing triggers back before each test, which hid it)."""
    from importlib import import_module

    from django.apps import apps

    from tests.fixtures_cases import TriggerEditor
    from whistle.cases.triggers import missing_triggers

    with connection.cursor() as cursor:
        for name in ("cases_event_no_update", "cases_event_no_delete", "cases_event_extends_chain"):
            cursor.execute(f"DROP TRIGGER {name}")
    assert "cases_event_extends_chain" in missing_triggers()
    migration = import_module("whistle.cases.migrations.0022_event_chain_checked_per_statement")
    migration.per_statement(apps, TriggerEditor())
    assert missing_triggers() == []
    case = _case(small_city)
    append_event(case, "case.reported")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE cases_event SET kind = 'x'")
