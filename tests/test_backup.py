"""`whistle backup` and `whistle restore`: a month of cases with their trails and scores goes
into a backup and comes back into a fresh database with every trail intact and every score
the same (whistle.web.backup, docs/operations.md)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation

from tests.fixtures_assessment import Month, july_fixture, scheme_one_third  # noqa: F401
from whistle.assessment.engine import recompute_all
from whistle.web import backup as backups

ON_POSTGRES = str(settings.DATABASES["default"]["ENGINE"]).endswith("postgresql")

# What must come back unchanged: each event's hash in its trail, each summons' score, each
# department's result.
WHAT_COUNTS = {
    "trail": "SELECT case_id, seq, hash FROM cases_event ORDER BY case_id, seq",
    "records": (
        "SELECT summons_id, came_score, acted_score, quality_score, total "
        "FROM assessment_summonsassessment ORDER BY summons_id"
    ),
    "results": (
        "SELECT period, department_id, total, township_score, rank "
        "FROM assessment_departmentresult ORDER BY period, department_id"
    ),
}


def _counted(cursor: Any) -> dict[str, list[tuple[str, ...]]]:
    found = {}
    for name, query in WHAT_COUNTS.items():
        cursor.execute(query)
        # As text: the two drivers hand decimals back as different types.
        found[name] = [tuple(str(value) for value in row) for row in cursor.fetchall()]
    return found


def _scored_month(july: Month) -> dict[str, list[tuple[str, ...]]]:
    scheme_one_third(july.district)
    assert recompute_all() > 0
    with connection.cursor() as cursor:
        counted = _counted(cursor)
    assert counted["trail"] and counted["records"] and counted["results"]
    return counted


def _whistle(database_url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "whistle", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        timeout=300,
    )


@pytest.mark.django_db(transaction=True)
def test_a_sqlite_backup_restores_into_a_fresh_database_with_trails_and_scores_unchanged(
    july, tmp_path
):
    if ON_POSTGRES:
        pytest.skip("the PostgreSQL round trip is its own test")
    before = _scored_month(july)
    saved = tmp_path / "whistle.sqlite3.backup"
    call_command("backup", str(saved))
    fresh = tmp_path / "fresh.sqlite3"

    restored = _whistle(f"sqlite:///{fresh}", "restore", str(saved))

    assert restored.returncode == 0, restored.stderr
    assert f"{len({row[0] for row in before['trail']})}" in restored.stdout
    with sqlite3.connect(fresh) as copy:
        assert _counted(copy.cursor()) == before
    again = _whistle(f"sqlite:///{fresh}", "restore", str(saved))
    assert again.returncode != 0 and "--force" in again.stderr
    forced = _whistle(f"sqlite:///{fresh}", "restore", "--force", str(saved))
    assert forced.returncode == 0, forced.stderr


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_a_postgresql_backup_restores_into_a_fresh_database_with_trails_and_scores_unchanged(
    july, tmp_path
):
    import psycopg

    before = _scored_month(july)
    saved = tmp_path / "whistle.dump"
    call_command("backup", str(saved))
    database: dict[str, Any] = connection.settings_dict
    fresh = f"{database['NAME']}_restored"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{fresh}"')
        cursor.execute(f'CREATE DATABASE "{fresh}"')
    user, password = database.get("USER") or "", database.get("PASSWORD") or ""
    where = f"{database.get('HOST') or 'localhost'}:{database.get('PORT') or 5432}"
    url = f"postgresql://{user}:{password}@{where}/{fresh}"
    try:
        restored = _whistle(url, "restore", str(saved))
        assert restored.returncode == 0, restored.stderr
        with psycopg.connect(
            dbname=fresh,
            user=user,
            password=password,
            host=database.get("HOST") or "localhost",
            port=database.get("PORT") or 5432,
        ) as copy:
            assert _counted(copy.cursor()) == before
        again = _whistle(url, "restore", str(saved))
        assert again.returncode != 0 and "--force" in again.stderr
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')


@pytest.mark.django_db
def test_a_backup_never_overwrites_a_file(tmp_path):
    taken = tmp_path / "taken.backup"
    taken.write_bytes(b"an older backup")
    with pytest.raises(CommandError, match="已存在"):
        call_command("backup", str(taken))
    assert taken.read_bytes() == b"an older backup"


@pytest.mark.django_db
def test_restore_refuses_a_file_that_is_no_backup_and_leaves_the_database_alone(tmp_path):
    stray = tmp_path / "notes.txt"
    stray.write_text("not a database", encoding="utf-8")
    with pytest.raises(CommandError, match="不是用 whistle backup 制作的"):
        call_command("restore", str(stray), "--force")
    assert connection.introspection.table_names()


@pytest.mark.django_db
def test_restore_refuses_an_sqlite_file_that_holds_no_whistle_database(tmp_path):
    if ON_POSTGRES:
        pytest.skip("an SQLite file is refused on PostgreSQL before this")
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).execute("CREATE TABLE notes (text)").connection.close()
    with pytest.raises(CommandError, match="不是 Whistle 数据库"):
        call_command("restore", str(empty), "--force")
    assert "cases_event" in connection.introspection.table_names()


@pytest.mark.parametrize(("language", "words"), [("en", "was not found"), ("zh-hans", "未找到")])
def test_a_missing_pg_dump_is_named_with_what_to_install(monkeypatch, language, words):
    monkeypatch.setattr(backups.shutil, "which", lambda name: None)
    with translation.override(language), pytest.raises(backups.BackupError) as missing:
        backups._pg_program("pg_dump")
    assert "pg_dump" in str(missing.value) and words in str(missing.value)
    assert "postgresql-client" in str(missing.value)
