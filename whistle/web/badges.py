"""The colour tone of each status, shared by the badges (CSS) and the map's case points."""

from __future__ import annotations

# Tone of each status of cases and summonses; the CSS has one badge colour per tone.
STATUS_TONES = {
    # cases
    "reported": "open",
    "filed": "open",
    "dispatched": "open",
    "whistled": "summoned",
    "handled": "done",
    "checked": "done",
    "closed": "closed",
    "evaluated": "closed",
    "backlog": "backlog",
    "rejected": "muted",
    "merged": "muted",
    # summonses
    "summoned": "summoned",
    "acknowledged": "summoned",
    "on_site": "onsite",
    "done": "done",
    "declined": "backlog",
    "released": "closed",
    "left": "closed",
    "cancelled": "muted",
    # deadlines
    "overdue": "overdue",
}


def tone_of(status: str) -> str:
    return STATUS_TONES.get(status, "neutral")
