"""``{% push_subscribe_button %}``: the button that lets a phone ring for new messages."""

from __future__ import annotations

from typing import Any

from django import template

from whistle.notifications.webpush import configured_vapid

register = template.Library()


@register.inclusion_tag("notifications/push_button.html", takes_context=True)
def push_subscribe_button(context: template.Context) -> dict[str, Any]:
    """Nothing until Web Push is set up; the script shows the button only in a browser that
    can receive pushes."""
    vapid = configured_vapid()
    return {
        "public_key": vapid.public_key if vapid is not None else "",
        "csrf_token": context.get("csrf_token", ""),
    }
