"""What a trail checkpoint commits to of the log of the township units
(whistle.cases.checkpoints): a leaf per entry, so that one changed or removed after a
checkpoint is named by `verify-trail --checkpoint`. The units sit below the cases, so the
cases register it."""

from __future__ import annotations

from django.utils.translation import gettext as _

from whistle.cases.checkpoints import entry_leaves
from whistle.organisation.units import UnitLogEntry


def _label(pk: int) -> str:
    return _("township units log entry %(id)s") % {"id": pk}


UNIT_LOG_LEAVES = entry_leaves(
    "unit_log",
    UnitLogEntry,
    ("township_id", "unit_id", "at", "actor_id", "actor_role", "action", "changes"),
    _label,
)
