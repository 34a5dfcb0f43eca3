"""What a trail checkpoint commits to of the log of the township units
(whistle.cases.checkpoints): a leaf per entry, so that one changed or removed after a
checkpoint is named by `verify-trail --checkpoint`. The units sit below the cases, so the
cases register it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from whistle.cases.checkpoints import entry_leaves
from whistle.organisation.units import UnitLogEntry

UNIT_LOG_LEAVES = entry_leaves(
    "unit_log",
    UnitLogEntry,
    ("township_id", "unit_id", "at", "actor_id", "actor_role", "action", "changes"),
    _("township units log entry %(id)s"),
)
