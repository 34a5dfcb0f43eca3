"""Secrets in the admin are shown once, on the page that follows the save or the action that
made them, and never again: not in a field, not in a message kept in a cookie for the next
page (docs/security.md, "Secrets")."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers


def shown_once(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    title: str,
    secrets: Iterable[tuple[str, str]],
) -> TemplateResponse:
    """A page listing (name, secret) pairs, which no browser or proxy keeps a copy of."""
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "secrets": list(secrets),
    }
    response = TemplateResponse(request, "admin/shown_once.html", context)
    add_never_cache_headers(response)
    return response
