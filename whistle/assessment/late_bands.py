"""A scheme's late bands (`Scheme.late_bands`, stored as [[up to minutes, points deducted],
...]) as people read and write them: one band a line, "30 min: 20 points" or "30分钟：扣20分"
(the two numbers are what counts), and in words on the pages ("up to 30 min late: 20 points
off")."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from whistle.assessment.models import HUNDRED
from whistle.policies.models import YEAR_IN_MINUTES

# A minus sign (ASCII, the typographic one or the full-width one a Chinese keyboard types) is
# read with its number, so that a negative band is refused rather than read as positive.
NUMBER = re.compile(r"[-−－]?\d+(?:\.\d+)?")
MINUS = str.maketrans({"−": "-", "－": "-"})


def _number(value: Any) -> str:
    return f"{Decimal(str(value)).normalize():f}"


def band_line(up_to: Any, points: Any) -> str:
    """One band as the form writes it."""
    return _("%(minutes)s min: %(points)s points") % {
        "minutes": _number(up_to),
        "points": _number(points),
    }


def bands_text(bands: Any) -> str:
    """The bands as the form's text, one a line."""
    return "\n".join(band_line(up_to, points) for up_to, points in bands or [])


def bands_in_words(bands: Any) -> str:
    """The bands as the pages show them, or a dash when there are none."""
    if not bands:
        return "—"
    words = [
        _("up to %(minutes)s min late: %(points)s points off")
        % {"minutes": _number(up_to), "points": _number(points)}
        for up_to, points in bands
    ]
    words.append(_("later: the least points for a late arrival"))
    return _("; ").join(words)


def parse_bands(text: str) -> list[list[int | float]]:
    """The bands a person wrote, one a line; a line that cannot be read is named with what
    is wrong with it."""
    bands: list[list[int | float]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        found = NUMBER.findall(line)
        where = {"line": number, "text": line.strip()}
        if len(found) != 2:
            raise ValidationError(
                _(
                    "Line %(line)s, “%(text)s”: write the minutes late, then the points "
                    "deducted, as in “30 min: 20 points”."
                )
                % where
            )
        minutes, points = (Decimal(x.translate(MINUS)) for x in found)
        if minutes != minutes.to_integral_value() or not 1 <= minutes <= YEAR_IN_MINUTES:
            raise ValidationError(
                _("Line %(line)s, “%(text)s”: the minutes are a whole number from 1 to %(most)s.")
                % {**where, "most": YEAR_IN_MINUTES}
            )
        if not 0 <= points <= HUNDRED:
            raise ValidationError(
                _("Line %(line)s, “%(text)s”: a band deducts from 0 to %(most)s points.")
                % {**where, "most": HUNDRED}
            )
        if bands and minutes <= bands[-1][0]:
            raise ValidationError(
                _(
                    "Line %(line)s, “%(text)s”: each band reaches more minutes than the line "
                    "before (%(before)s)."
                )
                % {**where, "before": bands[-1][0]}
            )
        whole = points == points.to_integral_value()
        bands.append([int(minutes), int(points) if whole else float(points)])
    return bands
