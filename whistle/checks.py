"""System checks for invariants the mechanism relies on."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register()
def check_time_is_stored_in_utc(app_configs: Any, **kwargs: Any) -> list[Error]:
    if not settings.USE_TZ:
        return [
            Error(
                "USE_TZ must be True: deadlines are compared as aware UTC datetimes.",
                id="whistle.E001",
            )
        ]
    return []
