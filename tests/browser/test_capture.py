"""The browser tests' pictures (`capture`): Chromium's one-off refusal of a capture is asked
again once; any other error, or a second refusal, fails the test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import UNCAPTURED, capture


class Page:
    """Stands for a Playwright page whose captures fail as told, in turn."""

    def __init__(self, *failures: str | None) -> None:
        self.failures = list(failures)
        self.asked: list[str] = []
        self.waited = 0

    def screenshot(self, *, path: str, full_page: bool) -> None:
        self.asked.append(path)
        failure = self.failures.pop(0) if self.failures else None
        if failure:
            raise RuntimeError(f"Page.screenshot: Protocol error: {failure}")
        Path(path).write_bytes(b"png")

    def wait_for_timeout(self, milliseconds: int) -> None:
        self.waited += milliseconds


def test_a_refused_capture_is_asked_once_more(tmp_path):
    page = Page(UNCAPTURED)
    saved = capture(page, tmp_path / "step.png")
    assert saved.read_bytes() == b"png"
    assert len(page.asked) == 2
    assert page.waited > 0


def test_a_second_refusal_fails(tmp_path):
    page = Page(UNCAPTURED, UNCAPTURED)
    with pytest.raises(RuntimeError, match=UNCAPTURED):
        capture(page, tmp_path / "step.png")
    assert len(page.asked) == 2


def test_any_other_error_fails_at_once(tmp_path):
    page = Page("Target page, context or browser has been closed")
    with pytest.raises(RuntimeError, match="closed"):
        capture(page, tmp_path / "step.png")
    assert len(page.asked) == 1
    assert page.waited == 0
