"""Template helpers of the street pages.

{% load street_ui %}
{% case_link case %}            the reference, linked to the case page when it exists
{{ distance_m|metres }}         "1.2 公里" / "350 米"
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from whistle.street.links import case_url

register = template.Library()


@register.inclusion_tag("street/partials/case_link.html")
def case_link(case: Any) -> dict[str, Any]:
    return {"reference": getattr(case, "reference", case), "url": case_url(case)}


@register.filter
def metres(value: Any) -> str:
    try:
        distance = float(value)
    except (TypeError, ValueError):
        return ""
    if distance >= 1000:
        return _("%(km)s km") % {"km": f"{distance / 1000:.1f}"}
    return _("%(m)s m") % {"m": f"{distance:.0f}"}


@register.filter
def percent(value: Any) -> str:
    try:
        return f"{float(value) * 100:.0f}%"
    except (TypeError, ValueError):
        return "—"
