"""Replaying a case's trail to the state its rows must be in.

Every action writes its rows and its event in one transaction, and each event carries the
status it moved (`data["changes"]["status"]`: [before, after]), for the case, for its
summons, or for the summonses a case event reopened (`data["summonses"]`). Replaying the
trail therefore gives the status every row must have now, and a summons' moments (checked
in, released, checked out) must each have the event that set them. A row that differs was
changed without an event, e.g. a `released_at` written directly so that a check-out passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from whistle.cases.trail import EventKind
from whistle.cases.verify import EventRow, Problem

# Each moment on a summons and the events that set it.
_MOMENTS: dict[str, frozenset[str]] = {
    "arrived_at": frozenset({EventKind.CHECK_IN_ACCEPTED, EventKind.CHECK_IN_FLAGGED}),
    "released_at": frozenset({EventKind.RELEASED, EventKind.DECLINE_UPHELD}),
    "left_at": frozenset({EventKind.CHECK_OUT}),
}


@dataclass(frozen=True)
class SummonsRow:
    uuid: str
    status: str
    arrived_at: datetime | None
    released_at: datetime | None
    left_at: datetime | None


def _status_after(data: Any) -> str | None:
    try:
        after = data["changes"]["status"][1]
    except (KeyError, IndexError, TypeError):
        return None
    return after if isinstance(after, str) else None


def replay(events: list[EventRow]) -> tuple[str | None, dict[str, str], dict[str, set[str]]]:
    """The case's status, each summons' status and each summons' event kinds, from its
    trail alone."""
    case_status: str | None = None
    summons_status: dict[str, str] = {}
    kinds: dict[str, set[str]] = {}
    for row in events:
        after = _status_after(row.data)
        if row.summons is not None:
            kinds.setdefault(row.summons, set()).add(row.kind)
            if after is not None:
                summons_status[row.summons] = after
            continue
        if after is not None:
            case_status = after
        rounds = row.data.get("summonses") if isinstance(row.data, dict) else None
        for item in rounds if isinstance(rounds, list) else []:
            reopened = _status_after(item)
            if isinstance(item, dict) and reopened is not None and "summons" in item:
                summons_status[str(item["summons"])] = reopened
    return case_status, summons_status, kinds


def replay_problems(
    reference: str, events: list[EventRow], status: str, summonses: list[SummonsRow]
) -> list[Problem]:
    """What the rows say that the trail does not."""
    case_status, summons_status, kinds = replay(events)
    problems: list[Problem] = []
    if case_status is not None and case_status != status:
        problems.append(
            Problem(
                reference,
                None,
                "",
                "replay",
                _(
                    "the case is %(row)s but its trail leaves it %(trail)s: the row was "
                    "changed without an event"
                ),
                {"row": status, "trail": case_status},
            )
        )
    for summons in summonses:
        expected = summons_status.get(summons.uuid)
        if expected is not None and expected != summons.status:
            problems.append(
                Problem(
                    reference,
                    None,
                    "",
                    "replay",
                    _(
                        "summons %(summons)s is %(row)s but its trail leaves it %(trail)s: the "
                        "row was changed without an event"
                    ),
                    {"summons": summons.uuid, "row": summons.status, "trail": expected},
                )
            )
        for moment, setters in _MOMENTS.items():
            if (
                getattr(summons, moment) is not None
                and not kinds.get(summons.uuid, set()) & setters
            ):
                problems.append(
                    Problem(
                        reference,
                        None,
                        "",
                        "replay",
                        _(
                            "summons %(summons)s has %(field)s set but no event in its trail "
                            "set it: the row was changed without an event"
                        ),
                        {"summons": summons.uuid, "field": moment},
                    )
                )
    return problems
