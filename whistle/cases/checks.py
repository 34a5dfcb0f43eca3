"""System checks for what the trail's proof relies on (docs/trail.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register
from django.db import DatabaseError, connection
from django.db.migrations.recorder import MigrationRecorder

from whistle.cases.signing import key_path
from whistle.cases.triggers import missing_triggers


@register(Tags.database)
def check_trail_triggers(app_configs: Any, databases: Any = None, **kwargs: Any) -> list[Any]:
    """Runs with the database checks (`whistle check --database default`, `migrate`)."""
    if not databases or "default" not in databases:
        return []
    try:
        # Before the migrations that make them (a new database) there is nothing to miss.
        applied = MigrationRecorder(connection).applied_migrations()
        if not any(
            app == "cases" and name.endswith("trail_chain_and_truncate_triggers")
            for app, name in applied
        ):
            return []
        missing = missing_triggers()
    except DatabaseError:
        return []
    if not missing:
        return []
    names = ", ".join(missing)
    return [
        Warning(
            f"The trail's database triggers {names} are missing or disabled: trail events "
            "and checkpoints can be changed, removed or forged without the database refusing.",
            hint="Run `whistle migrate`; if they were dropped, restore them from the "
            "migrations that make them (whistle/cases/migrations/0003 and 0014, and the "
            "…_append_only migrations of the logs whistle/cases/triggers.py lists) and run "
            "`whistle verify-trail --checkpoint` against a checkpoint kept outside.",
            id="whistle.W201",
        )
    ]


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


@register()
def check_signing_key(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """A missing key is reported where it is needed: exports and checkpoints refuse, the
    worker logs it."""
    path = key_path()
    if not path.exists():
        return []
    data = [Path(settings.BASE_DIR) / "var", Path(settings.MEDIA_ROOT)]
    name = str(connection.settings_dict.get("NAME") or "")
    if connection.vendor == "sqlite" and name and name != ":memory:":
        data.append(Path(name).parent)
    if any(_inside(path, folder) for folder in data):
        return [
            Warning(
                f"The signing key {path} lies in the data folder: whoever holds the database "
                "or its backups can sign as this installation.",
                hint="Move it elsewhere and set WHISTLE_SIGNING_KEY_FILE.",
                id="whistle.W202",
            )
        ]
    return []
