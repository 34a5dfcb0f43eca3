"""The design system's colours keep text readable: contrast of at least 4.5:1 (WCAG AA)."""

import re
from pathlib import Path

import pytest
from django.conf import settings

CSS = Path(settings.BASE_DIR, "static", "whistle", "whistle.css").read_text(encoding="utf-8")
VARIABLES = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\s*;", CSS))

# (text, background) as custom properties of static/whistle/whistle.css, or literal colours.
PAIRS = [
    ("ink", "surface"),
    ("ink", "page"),
    ("muted", "surface"),
    ("muted", "page"),
    ("link", "surface"),
    ("link", "page"),
    ("brand-ink", "brand"),
    ("#ffffff", "primary"),
    ("#ffffff", "primary-hover"),
    ("danger", "surface"),
    ("danger", "#fde8e7"),
    ("ink", "tone-neutral-bg"),
    ("near-ink", "near-bg"),
    *[
        (f"tone-{tone}-ink", f"tone-{tone}-bg")
        for tone in (
            "open",
            "summoned",
            "onsite",
            "done",
            "closed",
            "muted",
            "backlog",
            "overdue",
            "neutral",
        )
    ],
]


def colour(name: str) -> str:
    return name if name.startswith("#") else VARIABLES[name]


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_contrast_formula_gives_the_known_extremes():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize(("text", "background"), PAIRS, ids=[f"{a}-on-{b}" for a, b in PAIRS])
def test_text_colours_keep_a_contrast_of_at_least_4_5(text, background):
    assert contrast(colour(text), colour(background)) >= 4.5


def test_the_focus_ring_stands_out_from_the_page_and_the_top_bar():
    # Non-text contrast (WCAG 1.4.11) asks 3:1.
    assert contrast(colour("focus"), colour("surface")) >= 3
    assert contrast(colour("focus"), colour("page")) >= 3
    assert contrast(colour("focus-on-dark"), colour("brand")) >= 3


def test_the_countdown_and_badges_say_overdue_in_words_not_only_in_red():
    assert re.search(r"\.countdown\.is-overdue \.countdown-clock::before\s*{[^}]*attr\(", CSS)
    assert re.search(r'\.badge-overdue::before\s*{\s*content:\s*"! "', CSS)


def test_every_status_of_cases_and_summonses_has_a_badge_tone():
    from whistle.cases.models import Case, Summons
    from whistle.web.badges import STATUS_TONES

    statuses = {value for value, _ in Case.Status.choices + Summons.Status.choices}
    assert statuses <= set(STATUS_TONES), statuses - set(STATUS_TONES)
    for tone in set(STATUS_TONES.values()):
        assert f".badge-{tone} " in CSS, tone
