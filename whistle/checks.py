"""System checks for invariants the mechanism relies on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.checks import CheckMessage, Error, Warning, register
from django.core.files.storage import storages


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


@register()
def check_static_files_are_collected(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Without debug mode pages name the hashed copies `whistle collectstatic` makes; before
    it has run every page fails."""
    storage = storages["staticfiles"]
    if settings.DEBUG or not isinstance(storage, ManifestFilesMixin):
        return []
    manifest = Path(settings.STATIC_ROOT) / storage.manifest_name
    if manifest.exists():
        return []
    return [
        Warning(
            f"The static files are not collected ({manifest} is missing): without debug "
            "mode every page fails until they are.",
            hint="Run `whistle collectstatic` (`make run` does), or set WHISTLE_DEBUG=1 "
            "for development.",
            id="whistle.W001",
        )
    ]
