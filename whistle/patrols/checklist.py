"""What a patrol checks on a lane: the lane's own list, or the "ten noes" with the steward's
three items.

Default items have stable keys and translatable labels; a lane's own items (Lane.checklist,
Chinese text entered by the township) are keyed by a digest of their text, so a result stays
attached to its item when the list is reordered.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from whistle.organisation.models import Lane

KEY_MAX = 40
LABEL_MAX = 100


@dataclass(frozen=True)
class Item:
    key: str
    # What a good lane looks like ("No illegal parking").
    label: str | Promise
    # The problem when the item fails ("Illegal parking"); the start of a report.
    problem: str | Promise


# 十无: the alley stewards' "ten noes".
TEN_NOES: tuple[Item, ...] = (
    Item("no-illegal-building", _("No illegal building"), _("Illegal building")),
    Item("no-holes-in-walls", _("No holes knocked in walls"), _("Hole knocked in a wall")),
    Item("no-illegal-parking", _("No illegal parking"), _("Illegal parking")),
    Item("no-road-trading", _("No trading on the road"), _("Trading on the road")),
    Item("no-loose-cables", _("No loose overhead cables"), _("Loose overhead cables")),
    Item("no-damaged-facades", _("No damaged facades"), _("Damaged facade")),
    Item("no-illegal-signs", _("No illegal signs or plaques"), _("Illegal sign or plaque")),
    Item("no-damaged-road", _("No damaged road"), _("Damaged road")),
    Item("no-illegal-business", _("No illegal business"), _("Illegal business")),
    Item("no-piled-materials", _("No piled materials"), _("Piled materials")),
)

# What the article's steward also looks after on each round.
STEWARD_ITEMS: tuple[Item, ...] = (
    Item(
        "fire-extinguishers",
        _("Fire extinguishers present and in date"),
        _("Fire extinguisher missing or expired"),
    ),
    Item("shared-bikes", _("Shared bikes parked in order"), _("Shared bikes parked badly")),
    Item("dog-waste", _("Dog waste cleared"), _("Dog waste not cleared")),
)

DEFAULT_ITEMS: tuple[Item, ...] = TEN_NOES + STEWARD_ITEMS
_DEFAULT_BY_KEY = {item.key: item for item in DEFAULT_ITEMS}


def custom_key(label: str) -> str:
    return "lane-" + hashlib.sha256(label.encode("utf-8")).hexdigest()[:12]


def lane_items(lane: Lane) -> list[Item]:
    """The items of a lane's own checklist, or the default list when it has none."""
    raw = lane.checklist if isinstance(lane.checklist, list) else []
    items: list[Item] = []
    seen: set[str] = set()
    for entry in raw:
        label = str(entry).strip()[:LABEL_MAX] if entry is not None else ""
        key = custom_key(label)
        if not label or key in seen:
            continue
        seen.add(key)
        items.append(Item(key, label, label.removeprefix("无") or label))
    return items or list(DEFAULT_ITEMS)


def snapshot(items: list[Item]) -> list[dict[str, str]]:
    """The checklist as a patrol keeps it: keys and labels in the deployment's language, so
    the record reads the same after the lane's list changes."""
    with translation.override(settings.LANGUAGE_CODE):
        return [
            {"key": item.key, "label": str(item.label), "problem": str(item.problem)}
            for item in items
        ]


def from_snapshot(entries: Any) -> list[Item]:
    """A patrol's checklist, with the default items' words in the current language."""
    items = []
    for entry in entries if isinstance(entries, list) else []:
        key = str(entry.get("key", ""))
        default = _DEFAULT_BY_KEY.get(key)
        if default is not None:
            items.append(default)
        else:
            label = str(entry.get("label", ""))
            items.append(Item(key, label, str(entry.get("problem", "")) or label))
    return items
