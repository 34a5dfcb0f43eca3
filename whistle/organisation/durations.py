"""A length of time in words, in the active language: "13 h 8 min", "13 小时 8 分钟"."""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext


def format_duration(duration: timedelta) -> str:
    """'7 h 30 min' style, in the active language: whole minutes, and the hours from 60 on."""
    minutes = round(duration.total_seconds() / 60)
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    if hours and rest:
        text = gettext("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": rest}
    elif hours:
        text = gettext("%(hours)s h") % {"hours": hours}
    else:
        text = gettext("%(minutes)s min") % {"minutes": rest}
    return sign + text
