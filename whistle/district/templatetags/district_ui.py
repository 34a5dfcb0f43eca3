"""Template filters of the assessment and district pages.

{% load district_ui %}
{{ record.rating|stars }}            ★★★★☆
{{ result.total|points }}            86.19, or — without a value
{{ record|came_text }}               迟到 7 分钟
{{ record|acted_text }}              已处置（返工 1 次）
{{ appeal.requested|correction }}    按时报到
{{ "2026-Q3"|period_name }}          2026年第3季度
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from whistle.assessment.models import Acted, Came
from whistle.assessment.periods import Period
from whistle.district import corrections
from whistle.district.picker import period_label
from whistle.organisation.models import Role

register = template.Library()


@register.filter
def stars(value: Any) -> str:
    if value in (None, ""):
        return "—"
    filled = max(0, min(5, int(value)))
    return "★" * filled + "☆" * (5 - filled)


@register.filter
def points(value: Any) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, Decimal | int | float | str):
        return f"{Decimal(str(value)):.2f}"
    return str(value)


@register.filter
def came_text(record: Any) -> str:
    if record.came == Came.LATE and record.late_minutes:
        return _("late by %(n)s minutes") % {"n": record.late_minutes}
    return str(Came(record.came).label) if record.came in Came.values else str(record.came)


@register.filter
def acted_text(record: Any) -> str:
    text = str(Acted(record.acted).label) if record.acted in Acted.values else str(record.acted)
    if record.rework_count:
        n = record.rework_count
        text += ngettext(" (%(n)s rework)", " (%(n)s reworks)", n) % {"n": n}
    return text


@register.filter
def correction(value: Any) -> str:
    return corrections.describe(value or {}) or "—"


@register.filter
def period_name(key: Any) -> str:
    try:
        return period_label(Period.parse(str(key)))
    except ValidationError:
        return str(key)


@register.filter
def role_name(role: Any) -> str:
    return str(Role(role).label) if role in Role.values else str(role)


@register.filter
def percent(share: Any) -> str:
    """A share (0.5) as a percentage (50%)."""
    if share in (None, ""):
        return "—"
    return f"{(Decimal(str(share)) * 100).normalize():f}%"


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None
