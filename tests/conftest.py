"""Shared fixtures: a small city with two townships and the people of each role."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import override_settings
from django.utils import translation

from whistle.cases import deadlines
from whistle.cases.triggers import LOG_TABLES, TRAIL_TABLES
from whistle.organisation.models import (
    Department,
    Jurisdiction,
    Lane,
    Person,
    Role,
    RoleAssignment,
    Sector,
)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """On SQLite, a session that runs browser tests keeps its test database in a file.

    With the usual in-memory test database, pytest-django (like Django's LiveServerTestCase)
    hands the live server's threads the test thread's own connection, and two threads using
    one SQLite connection can deadlock: one holds the connection's lock and waits for the
    GIL, the other holds the GIL and waits for the lock. A file gives the server its own
    connections; SQLite's WAL journal and busy timeout (whistle.env) order the writers. Other
    sessions keep the faster in-memory database.
    """
    database: dict[str, Any] = settings.DATABASES["default"]
    browser = any(item.get_closest_marker("browser") for item in request.session.items)
    if browser and str(database["ENGINE"]).endswith("sqlite3"):
        folder = tmp_path_factory.mktemp("database")
        test_database: dict[str, Any] = database.setdefault("TEST", {})
        test_database["NAME"] = str(folder / "whistle.sqlite3")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """On PostgreSQL, no autovacuum in the test database.

    The tests' rows live in transactions that are rolled back, so autovacuum meets tables
    whose pages hold only dead rows and records them as empty (pages > 0, rows 0). The
    planner then takes every table for one row, whatever a test's open transaction has put
    in it, and joins thousands of rows by nested loops: seeding the demo city in a test took
    minutes after other tests, seconds alone. Never analysed, a table is estimated from its
    size on disk, which is what a test's data makes it.
    """
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) "
                "FROM pg_tables WHERE schemaname = current_schema()"
            )
            for (table,) in cursor.fetchall():
                cursor.execute(
                    f"ALTER TABLE {table} SET "
                    "(autovacuum_enabled = false, toast.autovacuum_enabled = false)"
                )


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the product's default language, whatever the last one chose."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True, scope="session")
def _static_files_where_they_lie():
    """Pages link static files by their plain names, found in static/ and node_modules/ as
    in debug mode: the hashed copies `whistle collectstatic` writes for `make run` may be
    missing or stale while the tests run."""
    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    with override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain}):
        yield


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _second_factor_where_it_is_tested(settings):
    """Personas sign in with `force_login` as after both steps of sign-in; the second step
    and the roles that require it are tested in tests/test_two_factor.py."""
    settings.WHISTLE_TWO_FACTOR_ROLES = []


@pytest.fixture(autouse=True)
def _no_web_push_unless_set_up(settings):
    """`make run` writes a Web Push key into the development .env; the tests start from a
    server without one, as a fresh checkout is, and the tests of Web Push set their own."""
    settings.WHISTLE_VAPID_PRIVATE_KEY = ""
    settings.WHISTLE_VAPID_SUBJECT = ""


@pytest.fixture(autouse=True)
def _sessions_open_through_time_travel(settings):
    """Tests move the clock by hours, days and months between a persona's requests; the
    idle timeout is tested with the real settings in tests/test_sign_in.py."""
    settings.WHISTLE_SESSION_IDLE_MINUTES = 400 * 24 * 60
    settings.WHISTLE_SESSION_FIELD_IDLE_MINUTES = 400 * 24 * 60


# What Django's flush after a transactional test meets: DELETE on SQLite, TRUNCATE on
# PostgreSQL.
_GUARDED_TABLES = (*TRAIL_TABLES, *LOG_TABLES)
_FLUSH_REFUSERS = {
    "sqlite": tuple(f"{table}_no_delete" for table in _GUARDED_TABLES),
    "postgresql": tuple(f"{table}_no_truncate" for table in _GUARDED_TABLES),
}


def drop_the_connection() -> None:
    """PostgreSQL terminates the backend of this process's connection, as a restart of the
    server or an administrator does; Django learns of it at its next query."""
    import psycopg

    with contextlib.suppress(psycopg.OperationalError):
        connection.connection.execute("SELECT pg_terminate_backend(pg_backend_pid())")


def _table_of(trigger: str) -> str:
    from whistle.cases.triggers import table_of

    return table_of(trigger)


_triggers_seen_after_migrating = False


def _restore_trail_triggers() -> None:
    from whistle.cases.triggers import missing_triggers

    global _triggers_seen_after_migrating
    missing = missing_triggers()
    if not _triggers_seen_after_migrating:
        # The first look of this process comes straight after the migrations, before any
        # test or flush could lift a trigger: one missing then was lost by a migration (a
        # rebuilt SQLite table drops its triggers), and a real database would lack it too.
        _triggers_seen_after_migrating = True
        if missing:
            pytest.fail(
                "The migrations leave these trail triggers missing: " + ", ".join(missing),
                pytrace=False,
            )
    if not missing:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for name in missing:
                cursor.execute(f"ALTER TABLE {_table_of(name)} ENABLE TRIGGER {name}")
        return
    from tests.fixtures_cases import TriggerEditor, trail_trigger_migrations

    for migration in trail_trigger_migrations():
        migration.uninstall(django_apps, TriggerEditor())
        migration.install(django_apps, TriggerEditor())


@pytest.fixture(autouse=True)
def _flush_past_the_trail_triggers(request):
    """After a transactional test Django empties the tables (DELETE on SQLite, TRUNCATE on
    PostgreSQL), which the trail's append-only triggers refuse. Lift those triggers for that
    flush only, and put them back before the next test that uses the database."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    uses_db = marker is not None or names & {"db", "transactional_db", "live_server"}
    transactional = bool(
        names & {"transactional_db", "live_server"}
        or (marker is not None and marker.kwargs.get("transaction"))
    )
    if not uses_db:
        yield
        return
    if transactional:
        # Set up before this fixture, so torn down (flushed) after it.
        request.getfixturevalue("transactional_db")
    else:
        request.getfixturevalue("db")
    _restore_trail_triggers()
    yield
    # The deadline sweep's lanes have connections of their own (PostgreSQL, outside a
    # transaction): closed, so that nothing but this thread's is open when the test database
    # is emptied or dropped.
    deadlines.close_lanes()
    if transactional:
        with connection.cursor() as cursor:
            for name in _FLUSH_REFUSERS[connection.vendor]:
                if connection.vendor == "postgresql":
                    cursor.execute(f"ALTER TABLE {_table_of(name)} DISABLE TRIGGER {name}")
                else:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def square(lon: float, lat: float, size: float = 0.01) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
        ],
    }


@dataclass
class SmallCity:
    city: Jurisdiction
    district: Jurisdiction
    longtan: Jurisdiction
    dongsi: Jurisdiction
    xizhaosi: Jurisdiction
    chaoyangmen_community: Jurisdiction
    renmin_lane: Lane
    dongsi_lane: Lane
    urban_management: Department
    police: Department


@pytest.fixture
def small_city(db) -> SmallCity:
    return build_small_city()


def build_small_city() -> SmallCity:
    city = Jurisdiction.objects.create(level="city", code="110000", name="北京市")
    district = Jurisdiction.objects.create(
        level="district",
        code="110101",
        name="东城区",
        parent=city,
        boundary=square(116.38, 39.85, 0.1),
    )
    longtan = Jurisdiction.objects.create(
        level="township",
        form="street_office",
        code="110101015",
        name="龙潭街道",
        parent=district,
        boundary=square(116.43, 39.87),
    )
    dongsi = Jurisdiction.objects.create(
        level="township",
        form="street_office",
        code="110101006",
        name="东四街道",
        parent=district,
        boundary=square(116.41, 39.92),
    )
    xizhaosi = Jurisdiction.objects.create(
        level="community",
        form="community",
        code="110101015001",
        name="夕照寺社区",
        parent=longtan,
        boundary=square(116.43, 39.87, 0.005),
    )
    dongsi_community = Jurisdiction.objects.create(
        level="community",
        form="community",
        code="110101006001",
        name="东四南社区",
        parent=dongsi,
        boundary=square(116.41, 39.92, 0.005),
    )
    renmin = Lane.objects.create(
        name="人民市场东巷",
        township=longtan,
        community=xizhaosi,
        centre_line={"type": "LineString", "coordinates": [[116.432, 39.872], [116.432, 39.87384]]},
    )
    dongsi_lane = Lane.objects.create(
        name="东四六条",
        township=dongsi,
        community=dongsi_community,
        centre_line={"type": "LineString", "coordinates": [[116.412, 39.925], [116.416, 39.925]]},
    )
    um = Sector.objects.create(code="urban_management", name="城市管理")
    ps = Sector.objects.create(code="public_security", name="公安")
    urban = Department.objects.create(
        code="dc-cgw", name="东城区城管执法局", kind="functional", sector=um, district=district
    )
    police = Department.objects.create(
        code="dc-longtan-pcs", name="龙潭派出所", kind="dispatched", sector=ps, district=district
    )
    police.serves.add(longtan)
    return SmallCity(
        city,
        district,
        longtan,
        dongsi,
        xizhaosi,
        dongsi_community,
        renmin,
        dongsi_lane,
        urban,
        police,
    )


def make_person(username: str, role: str, **scope) -> Person:
    person = Person.objects.create_user(username=username, password="pw-123456", name=username)
    RoleAssignment.objects.create(person=person, role=role, **scope)
    return person


@pytest.fixture
def lane_chief(small_city) -> Person:
    return make_person("lane-chief", Role.LANE_CHIEF, lane=small_city.renmin_lane)


@pytest.fixture
def namesakes(small_city: SmallCity) -> tuple[Person, Person]:
    """Two people called 王芳: one in 东城区, one in 西城区 (the admin's person pickers)."""
    xicheng = Jurisdiction.objects.create(
        level="district", code="110102", name="西城区", parent=small_city.city
    )
    first = make_person("hotline-110101", Role.CHIEFS_OFFICE, jurisdiction=small_city.district)
    second = make_person("hotline-110102", Role.CHIEFS_OFFICE, jurisdiction=xicheng)
    Person.objects.filter(pk__in=[first.pk, second.pk]).update(name="王芳")
    first.refresh_from_db()
    second.refresh_from_db()
    return first, second


# How the admin's person pickers name the two namesakes, a district's role without its district.
NAMESAKE_LABELS = [
    "王芳 · hotline-110101 · 东城区（街巷长办公室工作人员）",
    "王芳 · hotline-110102 · 西城区（街巷长办公室工作人员）",
]


def picker_finds_namesakes(
    admin_client: Any, people_url: str, search: dict[str, str], namesakes: tuple[Person, Person]
) -> None:
    """The picker at `people_url` finds both namesakes by name, told apart, and the second
    alone by username."""
    answer = admin_client.get(people_url, {**search, "term": "王芳"})
    assert answer.status_code == 200
    assert sorted(row["text"] for row in answer.json()["results"]) == NAMESAKE_LABELS
    by_username = admin_client.get(people_url, {**search, "term": "hotline-110102"}).json()
    assert [row["id"] for row in by_username["results"]] == [str(namesakes[1].pk)]


def elsewhere(change: Callable[[], object]) -> None:
    """Run the change on another connection to the database (a thread has its own), as
    another process would, and commit it."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            change()
        except BaseException as error:  # reported to the test below
            failure.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


T = TypeVar("T")


def at_once(
    n: int, call: Callable[[], T], *, timeout: float = 60
) -> tuple[list[T], list[BaseException]]:
    """Make `call` n times, each on a thread with its own connection to the database, all let
    go at the same moment, as n requests or workers would; what the calls returned and what
    they raised."""
    start = threading.Barrier(n, timeout=timeout)
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            results.append(call())
        except BaseException as error:  # reported to the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results, errors


@pytest.fixture
def latest_schema_after() -> Any:
    """For a test that takes the database back to an older migration and on to the one it
    tests only: afterwards every later migration is applied again (also those of other apps
    that depend on the ones undone), whether the test passed or not, so that the tests after
    it meet the whole schema."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
