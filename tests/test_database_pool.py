"""WHISTLE_DB_POOL: each process's pool of PostgreSQL connections (Django's psycopg pool),
read strictly at start-up, and a pooled server answering requests with no more connections
than its pool holds (docs/deployment.md, "Connection pooling")."""

from __future__ import annotations

import runpy
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import build_small_city, make_person
from tests.test_faults import (
    ON_POSTGRES,
    environment,
    free_port,
    query,
    shared_database,
    start,
    terminate,
    wait_for,
)
from whistle.api import tokens
from whistle.env import ImproperSetting, database_from_url, env_database_pool
from whistle.organisation.models import Role

SETTINGS = Path(settings.BASE_DIR) / "whistle" / "settings.py"
POSTGRES = "postgresql://whistle@db.example:5432/whistle"


# Reading the setting --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "sizes"),
    [
        ("2:8", {"min_size": 2, "max_size": 8}),
        ("4", {"min_size": 4, "max_size": 4}),
        ("0:3", {"min_size": 0, "max_size": 3}),
        (" 1:2 ", {"min_size": 1, "max_size": 2}),
    ],
)
def test_it_reads_the_pool_s_sizes(monkeypatch, raw, sizes):
    monkeypatch.setenv("WHISTLE_DB_POOL", raw)
    assert env_database_pool("WHISTLE_DB_POOL") == sizes


def test_unset_or_empty_is_no_pool(monkeypatch):
    monkeypatch.delenv("WHISTLE_DB_POOL", raising=False)
    assert env_database_pool("WHISTLE_DB_POOL") is None
    monkeypatch.setenv("WHISTLE_DB_POOL", "")
    assert env_database_pool("WHISTLE_DB_POOL") is None


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("two", "MIN:MAX"),
        ("2-8", "MIN:MAX"),
        ("2:8:1", "MIN:MAX"),
        ("-1:4", "MIN:MAX"),
        ("2:", "MIN:MAX"),
        ("1.5", "MIN:MAX"),
        ("0", "at least 1 connection"),
        ("0:0", "at least 1 connection"),
        ("8:2", "smallest size \\(8\\) is above its largest \\(2\\)"),
    ],
)
def test_a_bad_pool_is_refused_naming_the_setting(monkeypatch, raw, says):
    monkeypatch.setenv("WHISTLE_DB_POOL", raw)
    with pytest.raises(ImproperSetting, match=f"WHISTLE_DB_POOL.*{says}"):
        env_database_pool("WHISTLE_DB_POOL")


def test_a_pooled_postgresql_entry_gives_its_connections_back_after_each_request():
    pooled = database_from_url(
        POSTGRES + "?sslmode=require", base_dir=Path("/"), pool={"min_size": 2, "max_size": 8}
    )
    assert pooled["OPTIONS"] == {"sslmode": "require", "pool": {"min_size": 2, "max_size": 8}}
    assert pooled["CONN_MAX_AGE"] == 0 and pooled["CONN_HEALTH_CHECKS"] is True
    kept = database_from_url(POSTGRES, base_dir=Path("/"))
    assert "pool" not in kept["OPTIONS"]  # type: ignore[operator]
    assert kept["CONN_MAX_AGE"] == 60


def test_a_pool_on_sqlite_is_refused():
    with pytest.raises(ImproperSetting, match="WHISTLE_DB_POOL is for PostgreSQL"):
        database_from_url("sqlite:///var/x.sqlite3", base_dir=Path("/"), pool={"max_size": 2})


def _settings_with(monkeypatch, **environment: str) -> dict:
    """whistle/settings.py run again with these variables, as a new process reads it."""
    for name in ("WHISTLE_DB_POOL", "WHISTLE_REPLICA_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_the_settings_pool_the_database_and_its_replica(monkeypatch):
    read = _settings_with(
        monkeypatch,
        DATABASE_URL=POSTGRES,
        WHISTLE_REPLICA_DATABASE_URL="postgresql://reader@replica.example/whistle",
        WHISTLE_DB_POOL="2:8",
    )
    for alias in ("default", "replica"):
        database = read["DATABASES"][alias]
        assert database["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 8}, alias
        assert database["CONN_MAX_AGE"] == 0, alias


@pytest.mark.parametrize(
    ("environment", "says"),
    [
        ({"DATABASE_URL": POSTGRES, "WHISTLE_DB_POOL": "8:2"}, "WHISTLE_DB_POOL"),
        ({"DATABASE_URL": "sqlite:///var/x.sqlite3", "WHISTLE_DB_POOL": "2:8"}, "PostgreSQL"),
    ],
)
def test_a_bad_pool_stops_the_process_at_start_up(monkeypatch, environment, says):
    with pytest.raises(ImproperSetting, match=says):
        _settings_with(monkeypatch, **environment)


# A pooled server ------------------------------------------------------------------------------

APPLICATION = "whistle-pool-test"


def _connections(url: str) -> int:
    return int(
        query(
            url,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            APPLICATION,
        )
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL)")
def test_a_pooled_server_answers_concurrent_requests_on_the_pool_s_connections(tmp_path):
    """One gunicorn process with eight threads and a pool of two connections: twenty-four
    requests sent eight at a time are all answered, and the process holds its two
    connections throughout, between requests too."""
    person = make_person(
        "longtan-dispatcher", Role.DISPATCHER, jurisdiction=build_small_city().longtan
    )
    secret = tokens.issue_token(person, person=person, name="连接池").secret
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with shared_database(tmp_path) as url:
        pooled_url = f"{url}?application_name={APPLICATION}"
        env = environment(pooled_url, WHISTLE_DB_POOL="2:2", WHISTLE_ALLOWED_HOSTS="127.0.0.1")
        command = [sys.executable, "-m", "gunicorn", "whistle.wsgi", "--workers", "1"]
        command += ["--worker-class", "gthread", "--threads", "8", "--no-control-socket"]
        server = start([*command, "--bind", f"127.0.0.1:{port}", "--timeout", "120"], env, log)
        statuses: list[int] = []

        def ask() -> None:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/me",
                headers={"Authorization": f"Bearer {secret}"},
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as answer:
                    statuses.append(answer.status)
            except urllib.error.HTTPError as refused:
                statuses.append(refused.code)

        def answering() -> bool:
            try:
                ask()
            except (urllib.error.URLError, ConnectionError, OSError):
                return False
            return True

        try:
            wait_for(answering, log.read_text, timeout=120)
            for _round in range(3):
                callers = [threading.Thread(target=ask) for _n in range(8)]
                for caller in callers:
                    caller.start()
                for caller in callers:
                    caller.join(timeout=120)
                assert _connections(url) == 2, log.read_text()
        finally:
            terminate(server)
    assert statuses == [200] * 25, log.read_text()[-3000:]
