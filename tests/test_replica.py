"""The read replica (docs/deployment.md, "Read replica for the read-heavy pages"): with
`WHISTLE_REPLICA_DATABASE_URL` the district's rankings, hot spots and annual report read the
domain's rows from the `replica` alias; people, roles, sessions and every write stay on
`default`, as does every page not declared; without the setting nothing changes.

The pages' tests add the alias for the test's own duration, pointing at the test database
itself (what `TEST: {"MIRROR": "default"}` does when the setting is given), and count the
queries each connection ran. A second connection sees only committed rows, so the pages'
tests are transactional, and on PostgreSQL only (SQLite's test database lives in this
process's memory).
"""

from __future__ import annotations

import runpy
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from tests.fixtures_assessment import bj, july_fixture  # noqa: F401  (fixture)
from tests.fixtures_district import (
    rated_july_fixture,  # noqa: F401  (fixture)
    scored_july_fixture,  # noqa: F401  (fixture)
)
from whistle.assessment.models import DepartmentResult
from whistle.policies.models import Category
from whistle.web.replica import REPLICA, ReplicaRouter, reads_replica, replica_reads

ON_POSTGRES = connection.vendor == "postgresql"
SETTINGS = Path(settings.BASE_DIR) / "whistle" / "settings.py"

# The declared pages, and a district page that is not.
DECLARED = {
    "rankings": ("/district/rankings/", {"period": "2026-07"}),
    "rankings export": ("/district/rankings/export/", {"period": "2026-07", "format": "csv"}),
    "department result": ("/district/rankings/2026-07/dc-cgw/", {}),
    "hot spots": ("/district/hotspots/", {"period": "2026-07"}),
    "annual report": ("/district/report/2026/", {}),
}
UNDECLARED = ("/district/chiefs/", {"period": "2026-07"})
# Tables that hold who a person is and what they may do, or what they just wrote.
PRIMARY_TABLES = (
    "organisation_person",
    "organisation_roleassignment",
    "django_session",
    "whistle_cache",
    "api_",
)


@contextmanager
def replica_alias() -> Iterator[None]:
    """The `replica` alias, on the test database itself, for as long as the block runs."""
    connections.settings[REPLICA] = {**connections["default"].settings_dict}
    try:
        yield
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


# Routing, without a replica and with one ---------------------------------------------------


def test_without_the_setting_there_is_no_replica_and_everything_reads_the_default(monkeypatch):
    monkeypatch.delenv("WHISTLE_REPLICA_DATABASE_URL", raising=False)
    read = runpy.run_path(str(SETTINGS))
    assert set(read["DATABASES"]) == {"default"}
    router = ReplicaRouter()
    with replica_reads():
        assert router.db_for_read(Category) == "default"
        assert router.db_for_write(Category) == "default"


def test_the_setting_adds_a_replica_alias_mirroring_the_default_in_tests(monkeypatch):
    monkeypatch.setenv(
        "WHISTLE_REPLICA_DATABASE_URL", "postgresql://reader@10.0.0.2:5433/whistle?sslmode=require"
    )
    read = runpy.run_path(str(SETTINGS))
    replica = read["DATABASES"]["replica"]
    assert (replica["ENGINE"], replica["HOST"], replica["PORT"], replica["USER"]) == (
        "django.db.backends.postgresql",
        "10.0.0.2",
        "5433",
        "reader",
    )
    assert replica["OPTIONS"] == {"sslmode": "require"}
    assert replica["TEST"] == {"MIRROR": "default"}
    assert read["DATABASE_ROUTERS"] == ["whistle.web.replica.ReplicaRouter"]


def test_a_replica_that_is_not_postgresql_stops_the_process_with_the_settings_name(monkeypatch):
    from whistle.env import ImproperSetting

    monkeypatch.setenv("WHISTLE_REPLICA_DATABASE_URL", "sqlite:///var/replica.sqlite3")
    with pytest.raises(ImproperSetting, match="WHISTLE_REPLICA_DATABASE_URL"):
        runpy.run_path(str(SETTINGS))


@pytest.mark.django_db(transaction=True)
def test_only_a_declared_views_reads_of_the_domain_go_to_the_replica():
    from whistle.organisation.models import Person, RoleAssignment

    router = ReplicaRouter()
    with replica_alias():
        # Outside a declared view: the primary.
        assert router.db_for_read(DepartmentResult) == "default"
        with replica_reads():
            assert router.db_for_read(DepartmentResult) == REPLICA
            assert router.db_for_read(Category) == REPLICA
            # Who the person is and what they may see; never seconds old.
            assert router.db_for_read(Person) == "default"
            assert router.db_for_read(RoleAssignment) == "default"
            # Every write, whatever the view.
            assert router.db_for_write(DepartmentResult) == "default"
        assert router.allow_migrate("default", "assessment") is True
        assert router.allow_migrate(REPLICA, "assessment") is False


@pytest.mark.django_db(transaction=True)
def test_a_read_inside_a_transaction_goes_to_the_primary():
    router = ReplicaRouter()
    with replica_alias(), replica_reads():
        assert router.db_for_read(DepartmentResult) == REPLICA
        with transaction.atomic():
            assert router.db_for_read(DepartmentResult) == "default"


@pytest.mark.django_db(transaction=True)
def test_the_decorator_sets_the_replica_reads_for_the_view_only():
    router = ReplicaRouter()
    seen = []

    @reads_replica
    def view() -> None:
        seen.append(router.db_for_read(DepartmentResult))

    with replica_alias():
        view()
        assert router.db_for_read(DepartmentResult) == "default"
    assert seen == [REPLICA]


# The pages ---------------------------------------------------------------------------------


def page_queries(client, path: str, params: dict[str, str]) -> tuple[list[str], list[str]]:
    """The statements the page ran on the primary and on the replica."""
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as replica,
    ):
        response = client.get(path, params)
    assert response.status_code == 200, (path, response.status_code)
    return [q["sql"] for q in primary], [q["sql"] for q in replica]


@pytest.fixture(scope="class")
def replica_for_the_class(django_db_setup, django_db_blocker) -> Iterator[None]:
    with django_db_blocker.unblock(), replica_alias():
        yield


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL)")
@pytest.mark.usefixtures("replica_for_the_class")
class TestPagesWithAReplica:
    """The alias exists for the class, before the test's database access is set up (a
    class-scoped fixture comes first), so the test may declare it among its databases."""

    @pytest.mark.django_db(transaction=True, databases=["default", REPLICA])
    def test_the_declared_pages_read_the_domain_from_the_replica_and_the_person_from_the_primary(
        self, client, rated
    ):
        read_the_pages(client, rated)


def read_the_pages(client, rated) -> None:
    client.force_login(rated.district_assessor)
    with time_machine.travel(bj(28, 10), tick=False):
        for name, (path, params) in DECLARED.items():
            primary, replica = page_queries(client, path, params)
            assert replica, f"{name}: nothing read from the replica"
            verbs = {sql.lstrip().split(None, 1)[0].upper() for sql in replica}
            assert verbs == {"SELECT"}, f"{name}: {verbs} on the replica"
            on_replica, on_primary = "\n".join(replica), "\n".join(primary)
            # Read as such, never: a query of records may join a person's name to them.
            for table in PRIMARY_TABLES:
                assert f'FROM "{table}' not in on_replica, f"{name}: {table} read from the replica"
            assert '"django_session"' in on_primary, name
            assert '"organisation_roleassignment"' in on_primary, name
        # The ranking's rows came from the replica.
        _primary, replica = page_queries(client, *DECLARED["rankings"])
        assert '"assessment_departmentresult"' in "\n".join(replica)
        # A page that is not declared reads nothing from the replica.
        primary, replica = page_queries(client, *UNDECLARED)
        assert replica == []
        assert primary
