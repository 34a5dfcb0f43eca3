"""The worker's look at pending appeals (`whistle.assessment.ruler_checks.sweep`): a change
of people or roles that announces nothing (a raw `.update()`, as a shell, SQL or another
program makes it) is found within the hour (`RULER_CHECK_EVERY`), and told exactly as an
announced one, once; a ruled appeal is not looked at. The migration that brings the look in
marks the appeals whose filing told the staffers already, so nothing is told twice.

东城区城管执法局 appeals its c3 record (never came) of July 2026 at 10:00 on the 20th; 陈
(chen-office) is the only member of the district chiefs' office (tests/test_appeal_staffing.py).
"""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.conftest import make_person
from tests.fixtures_appeals import (  # noqa: F401  (fixtures)
    FOUND,
    NOBODY,
    appealed_fixture,
    filed_with_nobody_to_rule,
    july_20_clock_fixture,
    office_role,
    staffed_fixture,
    told,
)
from tests.fixtures_assessment import bj, july_fixture  # noqa: F401  (fixture)
from tests.fixtures_district import scored_july_fixture  # noqa: F401  (fixture)
from whistle.assessment.actions import rule_on_appeal
from whistle.assessment.editing import appeal_with_photos
from whistle.assessment.models import RULER_CHECK_EVERY, Appeal
from whistle.assessment.ruler_checks import sweep
from whistle.cases.models import Event
from whistle.cases.trail import EventKind
from whistle.organisation.models import Person, Role, RoleAssignment

BEFORE = [("assessment", "0014_appeal_nobody_rules_since")]
AFTER = [("assessment", "0015_appeal_ruler_check")]


def look(at) -> int:
    with time_machine.travel(at, tick=False):
        return sweep(at, batch=200)


def leave_the_office_unannounced(person: Person, district) -> None:
    """The role changed under the admin's feet: no `staffing_changed`."""
    changed = RoleAssignment.objects.filter(pk=office_role(person, district).pk).update(
        role=Role.RESIDENT, jurisdiction=None
    )
    assert changed == 1


def test_filing_sets_the_first_look_an_hour_on(staffed):
    appeal = Appeal.objects.get()
    assert RULER_CHECK_EVERY.total_seconds() == 3600
    assert appeal.ruler_check_at == bj(20, 11)


def test_the_last_ruler_removed_unannounced_is_found_by_the_sweep_once(staffed):
    m = staffed
    leave_the_office_unannounced(m.chiefs_office, m.district)
    assert told(m.root) == [] and not Event.objects.filter(kind=NOBODY).exists()
    # Not yet due: nothing is looked at.
    assert look(bj(20, 10, 59)) == 0
    assert told(m.root) == []

    assert look(bj(20, 11, 5)) == 1
    appeal = Appeal.objects.get()
    event = Event.objects.get(kind=NOBODY)
    assert event.summons == appeal.summons and event.data == {"appeal": appeal.pk}
    assert event.at == bj(20, 11, 5) and event.actor_id is None
    assert appeal.nobody_rules_since == bj(20, 11, 5)
    assert appeal.ruler_check_at == bj(20, 12, 5)
    # The same message as on filing and on an announced change.
    (entry,) = told(m.root)
    assert entry.link == (
        f"/admin/organisation/roleassignment/add/?role=chiefs_office&jurisdiction={m.district.pk}"
    )
    assert len(told(m.chief)) == 1 and told(m.urban_officer) == []

    # The next looks tell nothing while nobody may rule.
    assert look(bj(20, 12, 5)) == 1
    assert look(bj(21, 9)) == 1
    assert len(told(m.root)) == 1 and len(told(m.chief)) == 1
    assert Event.objects.filter(kind=NOBODY).count() == 1
    assert Appeal.objects.get().ruler_check_at == bj(21, 10)


def test_a_ruler_added_unannounced_is_asked_by_the_sweep_once(staffed):
    m = staffed
    later = filed_with_nobody_to_rule(m)
    assert later.ruler_check_at == bj(20, 12)
    lin = make_person("lin", Role.RESIDENT)
    RoleAssignment.objects.filter(person=lin).update(
        role=Role.CHIEFS_OFFICE, jurisdiction=m.district
    )
    assert told(lin, FOUND) == []

    assert look(bj(20, 12)) == 1
    (entry,) = told(lin, FOUND)
    assert entry.link == f"/assessment/appeals/#appeal-{later.pk}"
    assert len(told(m.urban_officer, FOUND)) == 1
    assert told(m.chiefs_office, FOUND) == []
    event = Event.objects.get(kind=FOUND)
    assert event.data == {"appeal": later.pk} and event.at == bj(20, 12)
    later.refresh_from_db()
    assert later.nobody_rules_since is None

    assert look(bj(20, 13)) == 1
    assert len(told(lin, FOUND)) == 1 and len(told(m.urban_officer, FOUND)) == 1
    assert Event.objects.filter(kind=FOUND).count() == 1


def test_an_announced_change_is_not_told_again_by_the_sweep(client, staffed):
    m = staffed
    client.force_login(m.root)
    with time_machine.travel(bj(20, 10, 30), tick=False):
        response = client.post(
            f"/admin/organisation/roleassignment/{office_role(m.chiefs_office, m.district).pk}"
            "/delete/",
            {"post": "yes"},
        )
    assert response.status_code == 302
    assert len(told(m.root)) == 1
    assert look(bj(20, 11)) == 1
    assert len(told(m.root)) == 1 and Event.objects.filter(kind=NOBODY).count() == 1


def test_a_ruled_appeal_is_not_looked_at(staffed):
    m = staffed
    appeal = rule_on_appeal(m.chiefs_office, Appeal.objects.get(), False, "无到场记录")
    appeal.refresh_from_db()
    assert appeal.ruler_check_at is None
    leave_the_office_unannounced(m.chiefs_office, m.district)
    assert look(bj(21, 9)) == 0
    assert told(m.root) == [] and not Event.objects.filter(kind=NOBODY).exists()


def test_an_appeal_ruled_behind_the_sweeps_back_is_no_longer_looked_at(staffed):
    m = staffed
    Appeal.objects.update(status=Appeal.Status.REJECTED)
    leave_the_office_unannounced(m.chiefs_office, m.district)
    assert look(bj(20, 11)) == 1
    assert Appeal.objects.get().ruler_check_at is None
    assert look(bj(21, 9)) == 0
    assert told(m.root) == [] and not Event.objects.filter(kind=NOBODY).exists()


def test_the_sweep_stops_at_its_batch(staffed):
    m = staffed
    market = make_person(
        "market-officer", Role.DEPARTMENT_OFFICER, department=m.summonses["c3_market"].department
    )
    appeal_with_photos(market, m.summonses["c3_market"], "came", {"came": "on_time"}, "已到场")
    assert sweep(bj(20, 11), batch=1) == 1
    assert sweep(bj(20, 11), batch=1) == 1
    assert sweep(bj(20, 11), batch=1) == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("latest_schema_after")
def test_the_migration_marks_the_appeals_whose_filing_told_the_staffers(staffed):
    m = staffed
    market = make_person(
        "market-officer", Role.DEPARTMENT_OFFICER, department=m.summonses["c3_market"].department
    )
    # 陈 ruled on the first c3 appeal of 城管, so its filing of the second tells the staffers.
    stuck = filed_with_nobody_to_rule(m)
    # 陈 may rule on the market's appeal: its filing asks the office, not the staffers.
    with time_machine.travel(bj(20, 11), tick=False):
        asked = appeal_with_photos(
            market, m.summonses["c3_market"], "came", {"came": "on_time"}, "已到场"
        )
    ruled = Appeal.objects.get(status=Appeal.Status.REJECTED)
    assert len(told(m.root, EventKind.APPEALED)) == 1

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    # Before 0014 no appeal kept a mark.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE assessment_appeal SET nobody_rules_since = NULL")
    executor.loader.build_graph()
    with time_machine.travel(bj(20, 11, 30), tick=False):
        executor.migrate(AFTER)

    stuck.refresh_from_db()
    asked.refresh_from_db()
    ruled.refresh_from_db()
    assert stuck.nobody_rules_since == bj(20, 11)
    assert asked.nobody_rules_since is None
    assert stuck.ruler_check_at == asked.ruler_check_at == bj(20, 11, 30)
    assert ruled.ruler_check_at is None

    # 陈 leaves the office unannounced: the first look tells about the market's appeal only,
    # and says nothing more of 城管's, whose filing told already.
    leave_the_office_unannounced(m.chiefs_office, m.district)
    assert look(bj(20, 11, 30)) == 2
    (event,) = Event.objects.filter(kind=NOBODY)
    assert event.data == {"appeal": asked.pk}
    assert len(told(m.root)) == 1 and len(told(m.chief)) == 1
    assert len(told(m.root, EventKind.APPEALED)) == 1
