from pathlib import Path

import pytest

from whistle.env import ImproperSetting, database_from_url, env_bool, env_int


def test_it_reads_booleans_strictly(monkeypatch):
    monkeypatch.setenv("X_FLAG", "yes")
    assert env_bool("X_FLAG", False) is True
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperSetting, match="X_FLAG"):
        env_bool("X_FLAG", False)


def test_it_refuses_a_number_below_its_minimum(monkeypatch):
    monkeypatch.setenv("X_N", "0")
    with pytest.raises(ImproperSetting, match="at least 1"):
        env_int("X_N", 5, minimum=1)


def test_it_defaults_sqlite_to_a_file_with_wal_and_immediate_transactions():
    db = database_from_url("sqlite:///var/x.sqlite3", base_dir=Path("/srv/whistle"))
    assert db["NAME"] == "/srv/whistle/var/x.sqlite3"
    options = db["OPTIONS"]
    assert isinstance(options, dict)
    assert options["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in options["init_command"]


def test_it_parses_a_postgresql_url():
    db = database_from_url(
        "postgresql://u:p%40ss@db.example:5433/whistle?sslmode=require", base_dir=Path("/")
    )
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "u",
        "p@ss",
        "db.example",
        "5433",
        "whistle",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_it_refuses_an_unknown_database_scheme():
    with pytest.raises(ImproperSetting, match="DATABASE_URL"):
        database_from_url("mysql://x/y", base_dir=Path("/"))
