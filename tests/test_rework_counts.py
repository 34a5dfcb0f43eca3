"""A record's reworks are counted in words that agree with their number, in both languages."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.utils import translation

from whistle.assessment.models import Acted
from whistle.district.templatetags.district_ui import acted_text


@pytest.mark.parametrize(
    ("language", "count", "said"),
    [
        ("en", 0, "handled"),
        ("en", 1, "handled (1 rework)"),
        ("en", 2, "handled (2 reworks)"),
        ("zh-hans", 1, "已处置（返工 1 次）"),
        ("zh-hans", 3, "已处置（返工 3 次）"),
    ],
)
def test_a_records_reworks_agree_with_their_number(language, count, said):
    record = SimpleNamespace(acted=Acted.HANDLED, rework_count=count)
    with translation.override(language):
        assert acted_text(record) == said
