"""System checks of the policies: warn before the working calendar runs out of known years.

The check reads the database, so like Django's own database checks it runs when a command
names a database: ``whistle migrate`` (every deployment) and ``whistle check --database
default``. Pages call ``whistle.policies.calendar.horizon_warnings`` for the same warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.db import DatabaseError

from whistle.policies.calendar import horizon_warnings

CALENDAR_RUNS_OUT = "policies.W001"
CALENDAR_RAN_OUT = "policies.W002"


def check_calendar_horizon(
    app_configs: Sequence[AppConfig] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[checks.CheckMessage]:
    if not databases or "default" not in databases:
        return []
    if app_configs is not None and not any(c.label == "policies" for c in app_configs):
        return []
    try:
        warnings = horizon_warnings()
    except DatabaseError:
        # Before the first migration the tables do not exist yet; migrate runs the checks
        # before it creates them.
        return []
    return [
        checks.Warning(
            warning.message,
            hint=warning.hint,
            id=CALENDAR_RAN_OUT if warning.days_left <= 0 else CALENDAR_RUNS_OUT,
        )
        for warning in warnings
    ]


def register_checks() -> None:
    checks.register(check_calendar_horizon, checks.Tags.database, "calendar")
