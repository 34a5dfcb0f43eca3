"""A checked photo kept while the rest of its form is put right.

Browsers never refill a file input, so a form sent back with an error would otherwise lose
the photo. The re-encoded photo waits in Django's cache under a random token, tied to the
account or the browser session that sent it; the form carries the token. Where the cache is
per process (the default), another process does not find the token and the page asks for
the photo again.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest

from whistle.cases.images import Photo
from whistle.street import conf

_PREFIX = "street:photo:"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


def _owner(request: HttpRequest) -> str:
    user: Any = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    if not request.session.session_key:
        request.session.save()
    return f"session:{request.session.session_key}"


def keep(request: HttpRequest, photo: Photo, thumbnail: str) -> str:
    token = secrets.token_urlsafe(24)
    cache.set(
        _PREFIX + token,
        {
            "owner": _owner(request),
            "content": photo.content,
            "width": photo.width,
            "height": photo.height,
            "thumbnail": thumbnail,
        },
        timeout=conf.kept_photo_seconds(),
    )
    return token


def find(request: HttpRequest, token: str) -> tuple[Photo, str] | None:
    """The photo kept under the token, with its thumbnail."""
    if not token or not _TOKEN.match(token):
        return None
    entry = cache.get(_PREFIX + token)
    if not isinstance(entry, dict) or entry.get("owner") != _owner(request):
        return None
    if not isinstance(entry.get("content"), bytes):
        return None  # kept in another shape by an earlier version: chosen again
    photo = Photo(content=entry["content"], width=entry["width"], height=entry["height"])
    return photo, entry["thumbnail"]


def drop(token: str) -> None:
    if token and _TOKEN.match(token):
        cache.delete(_PREFIX + token)
