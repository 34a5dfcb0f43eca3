"""The calendar tells the apps that depend on it when a year's schedule has been entered.

Deadlines are computed by the domain above this layer (the cases' actions), so this app
cannot recompute them itself. When calendar days or years are entered or changed (the
admin, ``whistle import calendar``) or an administrator asks for it (``whistle calendar
recompute``), `announce_calendar_entered` sends `calendar_entered`; the cases app answers by
recomputing the open deadlines that were computed on an assumed calendar (docs/calendar.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.dispatch import Signal

from whistle.organisation.models import Jurisdiction
from whistle.policies.calendar import clear_cache
from whistle.policies.models import CalendarYear

# Sent with `years` (sorted list of int, or None for every year), `district` (a district, or
# None for every district), `trigger` ("admin", "import" or "command"), `by` (who entered
# it, or "") and `changes` (the calendar days entered, changed or removed, as
# `whistle.policies.calendar.calendar_change` gives them; empty when not known). A receiver
# returns one line for the person who entered the calendar, or None.
calendar_entered = Signal()
# Sent with `districts` (a list of districts, or None for every district), `move` (False:
# only list them) and `by`. A receiver returns the lines to print for the open deadlines in
# working time that the calendar as it now stands moves (`whistle calendar deadlines`).
calendar_moves_asked = Signal()


def announce_calendar_entered(
    *,
    years: Iterable[int] | None,
    district: Jurisdiction | None,
    trigger: str,
    by: str = "",
    changes: list[dict[str, Any]] | None = None,
) -> list[str]:
    """Tell every receiver that the schedule of `years` (None: any year) changed; return
    their reports.

    Runs in the caller's transaction, so that what the receivers change is written or rolled
    back together with the calendar rows.
    """
    wanted = sorted(set(years)) if years is not None else None
    if wanted == []:
        return []
    # Rows written in bulk (the importer) send no signal that would clear the cache.
    clear_cache()
    responses = calendar_entered.send(
        sender=CalendarYear,
        years=wanted,
        district=district,
        trigger=trigger,
        by=by,
        changes=changes or [],
    )
    return [str(report) for _receiver, report in responses if report]


def ask_calendar_moves(
    *, districts: list[Jurisdiction] | None, move: bool, by: str = ""
) -> list[str]:
    """List (or, with `move`, move) the open deadlines in working time that the calendar as
    it now stands would move; the lines to print."""
    clear_cache()
    responses = calendar_moves_asked.send(
        sender=CalendarYear, districts=districts, move=move, by=by
    )
    return [str(line) for _receiver, lines in responses for line in lines or []]
