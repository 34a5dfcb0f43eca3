"""What a trail checkpoint commits to of the duty roster log (whistle.cases.checkpoints): a
leaf per entry, so that one changed or removed after a checkpoint is named by `verify-trail
--checkpoint`. The rosters sit below the cases, so the cases register it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from whistle.cases.checkpoints import entry_leaves
from whistle.duty.models import RosterLogEntry

ROSTER_LOG_LEAVES = entry_leaves(
    "roster_log",
    RosterLogEntry,
    ("roster_id", "at", "actor_id", "actor_role", "action", "change_id", "before", "after"),
    _("roster log entry %(id)s"),
)
