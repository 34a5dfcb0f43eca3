"""The corrections an appeal may ask for, as the forms offer them and as people read them.

`whistle.assessment` stores a correction as a dict (`{"came": "on_time"}`,
`{"late_minutes": 5}`, `{"acted": "handled"}`, `{"rework_count": 0}`); the forms offer one
choice and, for lateness and reworks, a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from whistle.assessment.models import Acted, Appeal, Came, SummonsAssessment


@dataclass(frozen=True)
class Choice:
    key: str
    part: str
    label: str | Promise
    # The correction's value; None when the number field gives it.
    fixed: dict[str, Any] | None = None
    number_key: str = ""


CHOICES: tuple[Choice, ...] = (
    Choice("came:on_time", Appeal.Part.CAME, _("Came on time"), {"came": Came.ON_TIME.value}),
    Choice(
        "came:not_applicable",
        Appeal.Part.CAME,
        _("Did not have to come"),
        {"came": Came.NOT_APPLICABLE.value},
    ),
    Choice(
        "came:late", Appeal.Part.CAME, _("Came late by fewer minutes"), number_key="late_minutes"
    ),
    Choice(
        "acted:handled", Appeal.Part.ACTED, _("Handled the problem"), {"acted": Acted.HANDLED.value}
    ),
    Choice(
        "acted:decline_upheld",
        Appeal.Part.ACTED,
        _("The decline was justified"),
        {"acted": Acted.DECLINE_UPHELD.value},
    ),
    Choice(
        "acted:not_applicable",
        Appeal.Part.ACTED,
        _("Was released before it had to act"),
        {"acted": Acted.NOT_APPLICABLE.value},
    ),
    Choice("rework:fewer", Appeal.Part.REWORK, _("Fewer reworks"), number_key="rework_count"),
)
BY_KEY = {c.key: c for c in CHOICES}

CAME_CONTESTABLE = (Came.LATE, Came.NO_SHOW)
ACTED_CONTESTABLE = (Acted.ABANDONED, Acted.DECLINE_OVERRULED)


def choices_for_record(record: SummonsAssessment) -> list[Choice]:
    """What this record's department may ask to correct: only what cost it points."""
    found = []
    if record.came in CAME_CONTESTABLE:
        found += [BY_KEY["came:on_time"], BY_KEY["came:not_applicable"], BY_KEY["came:late"]]
    if record.acted in ACTED_CONTESTABLE:
        found += [
            BY_KEY[k] for k in ("acted:handled", "acted:decline_upheld", "acted:not_applicable")
        ]
    if record.rework_count > 0:
        found.append(BY_KEY["rework:fewer"])
    return found


def choices_for_part(part: str) -> list[Choice]:
    return [c for c in CHOICES if c.part == part]


def build(choice: Choice, number: int | None) -> dict[str, Any]:
    if choice.fixed is not None:
        return dict(choice.fixed)
    return {choice.number_key: number}


def choice_of(correction: dict[str, Any]) -> tuple[str, int | None]:
    """The form's choice and number for a stored correction (to prefill a ruling)."""
    for choice in CHOICES:
        if choice.fixed is not None and correction == choice.fixed:
            return choice.key, None
        if choice.number_key and choice.number_key in correction:
            return choice.key, correction[choice.number_key]
    return "", None


def describe(correction: dict[str, Any]) -> str:
    """A correction in words: 按时报到 · 迟到 5 分钟 · 返工 0 次."""
    parts = []
    if "came" in correction:
        parts.append(
            str(Came(correction["came"]).label)
            if correction["came"] in Came.values
            else str(correction["came"])
        )
    if "late_minutes" in correction:
        minutes = correction["late_minutes"]
        parts.append(
            str(_("came on time"))
            if not minutes
            else str(_("late by %(n)s minutes")) % {"n": minutes}
        )
    if "acted" in correction:
        value = correction["acted"]
        parts.append(str(Acted(value).label) if value in Acted.values else str(value))
    if "rework_count" in correction:
        parts.append(str(_("reworks: %(n)s")) % {"n": correction["rework_count"]})
    return " · ".join(parts)
