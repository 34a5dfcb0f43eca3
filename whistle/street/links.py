"""Links to pages other apps build, only when they exist.

The case page (`case:detail`) and its photos (`case:photo`, for those who may see the case)
belong to the desk app. Until it registers those names, a reference is shown without a link
and a photo not at all, rather than as a link to nowhere (the same rule as
`whistle.web.dashboards`).
"""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse


def case_url(case: Any) -> str | None:
    """The URL of a case's page, by its reference; None while there is no such page."""
    reference = getattr(case, "reference", case)
    if not reference:
        return None
    for args, kwargs in (((), {"reference": reference}), ((reference,), {})):
        try:
            return reverse("case:detail", args=args, kwargs=kwargs)
        except NoReverseMatch:
            continue
    return None


def case_photo_url(case: Any, pk: int) -> str | None:
    """The URL of a case's photo, as the case page serves it; None while there is none."""
    try:
        return reverse("case:photo", args=[case.reference, pk])
    except NoReverseMatch:
        return None
