"""What a trail checkpoint commits to of the log of changes to contact addresses
(whistle.cases.checkpoints): a leaf per entry, so that one changed or removed after a
checkpoint is named by `verify-trail --checkpoint`.

The leaf holds a digest of the entry, which names the person by id and neither a code nor
an address. Erasing a person changes their account, never an entry of this log, so the
digest of an erased person's entries stays what the checkpoint committed to."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from whistle.accounts.models import ContactLogEntry
from whistle.cases.checkpoints import entry_leaves

CONTACT_LOG_LEAVES = entry_leaves(
    "contact_log",
    ContactLogEntry,
    ("at", "actor_id", "actor_role", "person_id", "kind", "step"),
    _("contact address log entry %(id)s"),
)
