"""Template tags of the desk pages.

{% load desk %}
{% deadline_countdown deadline name=case.reference %}   a Deadline from whistle.cases.worklists
{% due_countdown notice.due_at "answer" case=notice.case %}   paused while the case is
                                                           on the backlog
{{ obligation.name|obligation_label }}
{% assumed_calendar summons "arrive_due_at" %}   "assumed calendar" beside such a deadline
{% duty_time shift.ends_at now %}   a handover: "20:00" today, "05-13 08:00" another day
{% duty_log_change entry as change %}   what a rotation's log entry changed, before → after
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from whistle.cases.deadlines import is_paused
from whistle.duty.models import RosterLogEntry, Rotation
from whistle.web.templatetags.whistle_ui import countdown

register = template.Library()

# What a countdown counts down to, by the kind of deadline.
DEADLINE_LABELS = {
    "acknowledge": _("acknowledge by"),
    "arrive": _("arrive on site by"),
    "resolve": _("resolve by"),
    "answer": _("answer by"),
    "review": _("review on"),
    "reply": _("reply to the caller by"),
    "result": _("result promised by"),
}
OBLIGATION_LABELS = {
    "acknowledge": _("Acknowledge"),
    "arrive": _("Arrive on site"),
    "resolve": _("Resolve"),
}
# Warn this many seconds before: five minutes for the half-hour arrival, an hour for the
# rest, whose limits run in hours and days.
WARN_SECONDS = {"acknowledge": 300, "arrive": 300}


@register.inclusion_tag("web/components/countdown.html")
def deadline_countdown(deadline: Any, name: Any = "") -> dict[str, Any]:
    if deadline is None:
        return {"deadline": None}
    return countdown(
        deadline.due_at,
        label=DEADLINE_LABELS.get(deadline.kind, ""),
        warn=WARN_SECONDS.get(deadline.kind, 3600),
        name=name,
        paused=getattr(deadline, "paused", False),
    )


@register.inclusion_tag("web/components/countdown.html")
def due_countdown(due_at: Any, kind: str, name: Any = "", case: Any = None) -> dict[str, Any]:
    """A countdown to one deadline; with the `case` it belongs to, paused while the case is
    on the backlog."""
    return countdown(
        due_at,
        label=DEADLINE_LABELS.get(kind, ""),
        warn=WARN_SECONDS.get(kind, 3600),
        name=name,
        paused=case is not None and is_paused(case),
    )


@register.filter
def duty_name(name: Any) -> SafeString:
    """A name in a line of the duty, in a box of its own: on a narrow wall the name gives
    way (an ellipsis), not the time beside it."""
    return format_html('<span class="duty-name">{}</span>', name)


@register.filter
def times_of_day(times: Any) -> str:
    """Times of day as a list in the page's language: "08:00、20:00", "08:00, 20:00"."""
    return pgettext("between the items of a list", ", ").join(
        moment.strftime("%H:%M") for moment in times
    )


@register.filter
def obligation_label(name: str) -> Any:
    return OBLIGATION_LABELS.get(name, name)


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.simple_tag
def assumed_calendar(row: Any, field: str) -> SafeString | str:
    """ "assumed calendar" beside a deadline computed while a year it reaches into was not
    known to the calendar (`assumed_calendar` of a case or summons)."""
    mark = (getattr(row, "assumed_calendar", None) or {}).get(field)
    if not mark:
        return ""
    years = _(", ").join(str(year) for year in mark.get("years", []))
    return format_html(
        '<span class="badge badge-backlog" title="{}">{}</span>',
        gettext(
            "Computed before the official schedule of %(years)s was entered: only weekends "
            "were taken as rest days. It is computed again when the year is entered."
        )
        % {"years": years},
        gettext("assumed calendar (%(years)s)") % {"years": years},
    )


@register.simple_tag
def duty_time(moment: Any, now: Any) -> str:
    """A handover in Beijing time: the hour alone on the day of `now`, with the date else."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    same_day = now is not None and local.date() == timezone.localtime(now).date()
    return formats.date_format(local, "H:i" if same_day else "m-d H:i")


# The values of a rotation the roster's log shows, in the order a keeper reads them.
ROTATION_VALUES = {
    "handovers": _("handover times"),
    "turn": _("the turn passes on"),
    "starts_on": _("starts on"),
    "ends_on": _("ends on"),
    "post": _("on-duty position"),
    "members": _("members"),
}


def _rotation_value(snapshot: dict[str, Any] | None, key: str) -> str:
    if not snapshot:
        return ""
    if key == "members":
        return _(", ").join(
            (m.get("person") or {}).get("name", "?") for m in snapshot.get("members") or []
        )
    if key == "turn":
        return str(Rotation.Turn(snapshot["turn"]).label) if snapshot.get("turn") else ""
    if key == "post":
        post = snapshot.get("post")
        return f"{post[0]:.5f}, {post[1]:.5f}" if isinstance(post, list) and len(post) == 2 else ""
    return str(snapshot.get(key) or "")


@register.simple_tag
def duty_log_change(entry: Any) -> list[tuple[str, str, str]]:
    """(value, before, after) for each value a rotation's log entry changed; empty for the
    other entries, whose line says enough."""
    if entry.action not in (
        RosterLogEntry.Action.ROTATION_SAVED,
        RosterLogEntry.Action.ROTATION_REMOVED,
    ):
        return []
    before, after = entry.before, entry.after
    found = []
    for key, label in ROTATION_VALUES.items():
        old, new = _rotation_value(before, key), _rotation_value(after, key)
        if old != new:
            found.append((str(label), old, new))
    snapshot = after or before or {}
    days = snapshot.get("days")
    if days in Rotation.Days.values:
        found.insert(0, (str(_("days")), "", str(Rotation.Days(days).label)))
    return found
