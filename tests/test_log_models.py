"""The append-only logs of changes share one shape: when, by whom, in which role; a row
written once, then refused any change or removal by the model itself and by the database."""

import re
from pathlib import Path

import pytest
from django.apps import apps

from whistle.accounts.models import ContactLogEntry
from whistle.cases.triggers import LOG_TABLES, TRAIL_TABLES, missing_triggers
from whistle.duty.models import RosterLogEntry
from whistle.organisation.logs import AppendOnlyLog
from whistle.organisation.units import UnitLogEntry
from whistle.patrols.models import AppointmentEvent
from whistle.township.models import RecruitmentEvent, TownshipLogEntry

LOGS = [
    TownshipLogEntry,
    RecruitmentEvent,
    UnitLogEntry,
    RosterLogEntry,
    AppointmentEvent,
    ContactLogEntry,
]


@pytest.mark.parametrize("log", LOGS, ids=lambda log: log.__name__)
def test_each_log_records_when_who_and_in_which_role(log):
    assert issubclass(log, AppendOnlyLog)
    names = {field.name for field in log._meta.get_fields()}
    assert {"at", "actor", "actor_role"} <= names
    assert log._meta.get_field("at").get_internal_type() == "DateTimeField"


def test_every_log_is_listed_and_the_database_keeps_each_append_only(db):
    logs = [model for model in apps.get_models() if issubclass(model, AppendOnlyLog)]
    assert sorted(logs, key=str) == sorted(LOGS, key=str)
    assert {log._meta.db_table for log in logs} <= set(LOG_TABLES)
    assert missing_triggers() == []


def test_the_least_privilege_sketch_takes_every_log_and_the_trail_out_of_the_apps_reach():
    """docs/trail.md's `REVOKE` line for the application's database role names every table
    the database keeps append-only, so that an operator copying it leaves none changeable."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "trail.md").read_text()
    revoke = re.search(r"REVOKE UPDATE, DELETE, TRUNCATE ON (.*?) FROM whistle_app;", text, re.S)
    assert revoke is not None
    named = {name.strip() for name in revoke.group(1).split(",")}
    assert named == {*TRAIL_TABLES, *LOG_TABLES}


@pytest.mark.parametrize("log", LOGS, ids=lambda log: log.__name__)
def test_a_written_entry_is_neither_changed_nor_removed(log):
    entry = log(pk=1)
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()


def test_an_appointment_always_names_who_made_it_and_an_application_may_come_from_nobody():
    assert AppointmentEvent._meta.get_field("actor").null is False
    assert RecruitmentEvent._meta.get_field("actor").null is True
    assert RecruitmentEvent._meta.get_field("actor_role").blank is True
    assert TownshipLogEntry._meta.get_field("actor_role").blank is False
