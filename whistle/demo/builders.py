"""Further steps of ``whistle seed-demo``, run after the city is built.

``BUILDERS`` lists the dotted paths of functions ``build(city: DemoCity) -> str | None``.
The command calls them in order, after ``build_demo_city`` and inside the same
transaction, so a step that fails leaves no trace of the whole run. Each step must be
deterministic for ``city.seed`` and idempotent like the city itself: running it twice
changes nothing. A returned string is printed as one more line of the summary.

To add a step (a lived-in history of cases, say), write the function in its own module
and append its path here, for example ``"whistle.demo.history.build_history"``; the
command needs no change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from whistle.demo.city import DemoCity

BUILDERS: list[str] = [
    "whistle.demo.offices.build",
    "whistle.demo.history.build",
    "whistle.demo.history.build_xicheng",
    "whistle.demo.scores.build",
    "whistle.demo.duty.build",
    "whistle.demo.township.build",
    "whistle.demo.people.build",
    "whistle.demo.inbox.build",
]


def run_builders(city: DemoCity, paths: Sequence[str] | None = None) -> list[str]:
    """Run the listed steps on the city; return the lines they report."""
    lines = []
    for path in BUILDERS if paths is None else paths:
        builder: Callable[[DemoCity], str | None] = import_string(path)
        line = builder(city)
        if line:
            lines.append(str(line))
    return lines
