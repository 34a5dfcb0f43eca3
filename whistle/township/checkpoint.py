"""What a trail checkpoint commits to of the township's powers log and of the steward
recruitment log (whistle.cases.checkpoints): a leaf per entry, so that one changed or
removed after a checkpoint is named by `verify-trail --checkpoint`."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from whistle.cases.checkpoints import entry_leaves
from whistle.township.models import TownshipLogEntry
from whistle.township.recruitment_models import RecruitmentEvent

TOWNSHIP_LOG_LEAVES = entry_leaves(
    "township_log",
    TownshipLogEntry,
    (
        "at",
        "actor_id",
        "actor_role",
        "action",
        "matter_id",
        "opinion_id",
        "recommendation_id",
        "data",
    ),
    _("township powers log entry %(id)s"),
)

RECRUITMENT_LOG_LEAVES = entry_leaves(
    "recruitment_log",
    RecruitmentEvent,
    ("call_id", "application_id", "kind", "actor_id", "actor_role", "at", "data"),
    _("recruitment log entry %(id)s"),
)
