"""Who holds which role changed: the apps above are told.

People, their accounts and their roles change in the admin (a role added, changed or
removed; an account deactivated or deleted; the people of a township's enforcement centre)
and through the import of people. Some apps above depend on who holds a role — whether
anyone may still rule on a pending appeal (`whistle.assessment.actions.after_staffing_changed`)
— and this app cannot call them. So every path that changes people or roles calls
`announce_staffing_changed` in its own transaction once its rows are written; it sends
`staffing_changed`, whose receivers act in that same transaction (a change rolled back tells
nobody).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import Signal

from whistle.organisation.models import RoleAssignment

# Sent with `trigger` ("admin" or "import") and `by` (who changed it, or None).
staffing_changed = Signal()


def announce_staffing_changed(*, trigger: str, by: Any = None) -> None:
    """Tell every receiver that people or their roles changed. Call it inside the change's
    transaction, after its rows are written."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("announce_staffing_changed must run inside the change's transaction")
    staffing_changed.send(sender=RoleAssignment, trigger=trigger, by=by)
