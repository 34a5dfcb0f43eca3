"""A moment shown on a page stays on one line, in Beijing time, with its exact value beside it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.template import engines

RENDER = engines["django"].from_string


def test_a_moment_is_written_in_beijing_time_on_one_line():
    at = datetime(2026, 3, 10, 2, 30, tzinfo=UTC)
    html = RENDER('{% load whistle_ui %}<p>due {{ at|moment:"m-d H:i" }}</p>').render({"at": at})
    assert html == (
        '<p>due <time class="nowrap" datetime="2026-03-10T10:30:00+08:00">03-10 10:30</time></p>'
    )


def test_the_shape_defaults_to_the_full_date_and_minute():
    at = datetime(2026, 12, 31, 16, 5, tzinfo=UTC)
    html = RENDER("{% load whistle_ui %}{{ at|moment }}").render({"at": at})
    assert ">2027-01-01 00:05</time>" in html


def test_a_day_and_nothing_are_written_as_they_are():
    html = RENDER("{% load whistle_ui %}[{{ day|moment:'Y-m-d' }}][{{ none|moment }}]").render(
        {"day": date(2026, 5, 1), "none": None}
    )
    assert html.startswith('[<time class="nowrap" datetime="2026-05-01">2026-05-01</time>]')
    assert html.endswith("[]")


def test_inside_a_translated_sentence_the_moment_is_not_escaped():
    at = datetime(2026, 3, 10, 2, 30, tzinfo=UTC)
    html = RENDER(
        '{% load i18n whistle_ui %}{% blocktranslate with at=at|moment:"H:i" %}arrive by {{ at }}'
        "{% endblocktranslate %}"
    ).render({"at": at})
    assert html == '<time class="nowrap" datetime="2026-03-10T10:30:00+08:00">10:30</time> 前到场'
