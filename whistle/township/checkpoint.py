"""What a trail checkpoint commits to of the township's powers log and of the steward
recruitment log (whistle.cases.checkpoints): a leaf per entry, so that one changed or
removed after a checkpoint is named by `verify-trail --checkpoint`."""

from __future__ import annotations

from django.utils.translation import gettext as _

from whistle.cases.checkpoints import entry_leaves
from whistle.township.models import TownshipLogEntry
from whistle.township.recruitment_models import RecruitmentEvent


def _label(pk: int) -> str:
    return _("township powers log entry %(id)s") % {"id": pk}


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
    _label,
)


def _recruitment_label(pk: int) -> str:
    return _("recruitment log entry %(id)s") % {"id": pk}


RECRUITMENT_LOG_LEAVES = entry_leaves(
    "recruitment_log",
    RecruitmentEvent,
    ("call_id", "application_id", "kind", "actor_id", "actor_role", "at", "data"),
    _recruitment_label,
)
