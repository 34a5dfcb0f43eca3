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


@register(deploy=True)
def check_demo_mode_is_off(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    if not getattr(settings, "WHISTLE_DEMO_MODE", False):
        return []
    return [
        Warning(
            "WHISTLE_DEMO_MODE is on: the demo city's logins (admin, the assessors, the "
            "chiefs' office) sign in without a second factor.",
            hint="Never turn it on in production: unset WHISTLE_DEMO_MODE.",
            id="whistle.W002",
        )
    ]


@register(deploy=True)
def check_https_behind_a_proxy(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Behind a proxy that ends TLS every request arrives as plain HTTP: redirecting it to
    HTTPS without believing the proxy's header sends the browser round in circles."""
    if (
        settings.SECURE_SSL_REDIRECT
        and getattr(settings, "WHISTLE_TRUSTED_PROXIES", 0) > 0
        and not getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    ):
        return [
            Warning(
                "WHISTLE_HTTPS redirects to HTTPS behind a reverse proxy, but the proxy's "
                "header is not named: every page would redirect to itself.",
                hint="Set WHISTLE_PROXY_SSL_HEADER=X-Forwarded-Proto and have nginx set it "
                "(proxy_set_header X-Forwarded-Proto $scheme;).",
                id="whistle.W003",
            )
        ]
    return []
