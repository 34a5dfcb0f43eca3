"""Names kept in Chinese with an optional English name beside them (a scheme, its components,
a problem category and its major class): which one a reader sees, and the field that holds
the English one."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _


def reads_english() -> bool:
    """Whether the page is read in English, where a name shows its English name."""
    return (translation.get_language() or settings.LANGUAGE_CODE).startswith("en")


def in_reader_language(name: Any, name_en: str) -> str:
    """The name as the reader sees it: its English name on an English page when the
    district gave one, else the name (Chinese) it always has."""
    english = (name_en or "").strip()
    if english and reads_english():
        return english
    return str(name)


def english_name_field(max_length: int = 100) -> models.CharField:
    return models.CharField(
        _("English name"),
        max_length=max_length,
        blank=True,
        help_text=_("Shown on English pages and downloads; left empty, they show the name"),
    )
