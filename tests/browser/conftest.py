"""Browser tests: Playwright's sync API driving Debian's headless Chromium.

Never downloads a browser: it launches /usr/bin/chromium (apt-get install chromium
fonts-noto-cjk) and skips, saying so, where that is missing. Screenshots of each step go
to test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test.testcases import QuietWSGIRequestHandler

CHROMIUM = Path(os.environ.get("WHISTLE_CHROMIUM", "/usr/bin/chromium"))
MISSING_CHROMIUM = (
    f"{CHROMIUM} not found: browser tests skipped. "
    "install chromium and fonts-noto-cjk: apt-get install chromium fonts-noto-cjk"
)
# Chromium's own calls home (updates, sync, safe browsing) have nowhere to go on a closed
# network and only slow the start down.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
UNCAPTURED = "Unable to capture screenshot"
PHONE = {"width": 360, "height": 740}
WALL = {"width": 1920, "height": 1080}


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=MISSING_CHROMIUM)
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(MISSING_CHROMIUM)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the tests
    # make between browser steps are ordinary synchronous calls all the same.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield launched
            launched.close()


def capture(page: Any, path: Path, *, full_page: bool = False) -> Path:
    """Save a picture of the page. Chromium now and then refuses one capture ("Unable to
    capture screenshot") and takes the same picture when asked again a moment later. A
    picture is a record of the step, not one of its checks: it is asked once more, and a
    second refusal fails the test."""
    try:
        page.screenshot(path=str(path), full_page=full_page)
    except Exception as refused:
        if UNCAPTURED not in str(refused):
            raise
        page.wait_for_timeout(250)
        page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture
def shots(request: Any) -> Any:
    """shots(page, "step") saves test-artifacts/screenshots/<test>-<step>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^\w-]+", "-", request.node.name).strip("-")

    def take(page: Any, step: str, *, full_page: bool = False) -> Path:
        return capture(page, SCREENSHOTS / f"{test}-{step}.png", full_page=full_page)

    return take


class InFlight:
    """The requests the live server is answering. A page's service worker may still be
    fetching in the background when a test ends: the database is emptied only once those
    requests are answered, or an emptying that meets a request's transaction deadlocks.

    Counted by the server's request handler (`CountingRequestHandler`), from the moment a
    request's head is read until the handler is done with it, however that ends. Django's
    request_started and request_finished signals would not do: request_finished's first
    receiver, close_old_connections, raises for a request that ends once the test has let go
    of the database (pytest-django refuses every thread the database then), and the
    receivers after it are never called."""

    def __init__(self) -> None:
        self.count = 0
        self.changed = threading.Condition()

    def started(self) -> None:
        with self.changed:
            self.count += 1

    def finished(self) -> None:
        with self.changed:
            self.count -= 1
            self.changed.notify_all()

    def wait_until_back_to(self, level: int, timeout: float) -> bool:
        """Wait until no more requests are being answered than at `level`, at most `timeout`
        seconds (a request that never ends must not hold up every later test)."""
        with self.changed:
            return self.changed.wait_for(lambda: self.count <= level, timeout)


IN_FLIGHT = InFlight()


class CountingRequestHandler(QuietWSGIRequestHandler):
    """The live server's request handler, counting in IN_FLIGHT the request it answers."""

    counted = False

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        self.counted = True
        IN_FLIGHT.started()
        return True

    def handle_one_request(self) -> None:
        # A connection kept alive waits here for its next request: not counted until it comes.
        self.counted = False
        try:
            super().handle_one_request()
        finally:
            if self.counted:
                IN_FLIGHT.finished()


@pytest.fixture(scope="session")
def live_server(live_server: Any) -> Any:
    """pytest-django's live server, its requests counted in IN_FLIGHT."""
    server = live_server.thread.httpd
    assert issubclass(CountingRequestHandler, server.RequestHandlerClass)
    server.RequestHandlerClass = CountingRequestHandler
    return live_server


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """new_page(viewport, **context options) opens a page in a fresh context: a browser in
    Chinese set to Beijing time unless `locale` or `timezone_id` say otherwise."""
    contexts = []

    def open_page(viewport: dict[str, int] | None = None, **options: Any) -> Any:
        context = browser.new_context(
            viewport=viewport or WALL,
            locale=options.pop("locale", "zh-CN"),
            timezone_id=options.pop("timezone_id", "Asia/Shanghai"),
            base_url=live_server.url,
            **options,
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    for context in contexts:
        context.close()
    IN_FLIGHT.wait_until_back_to(0, timeout=2)


def standing_at(point: tuple[float, float], accuracy: float = 8) -> dict[str, Any]:
    """The options of a phone standing at `point` (longitude, latitude), its position given
    to the page by the browser: `new_page(PHONE, **standing_at(ON_THE_LANE))`."""
    return {
        "geolocation": {"longitude": point[0], "latitude": point[1], "accuracy": accuracy},
        "permissions": ["geolocation"],
    }


def sign_in(page: Any, username: str, password: str = "pw-123456") -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/")


def submit(page: Any, target: Any, *, timeout: float | None = None) -> None:
    """Click `target` (a selector or a locator: a form's button, a link) and wait until the
    page it leads to has loaded.

    A click returns once the navigation it starts has begun, before the new page is parsed,
    and at once where the page's script sends the form itself (the phone's queue first asks
    whether the server answers): what is read right after it may be the old page, or the new
    one half there."""
    with page.expect_navigation(timeout=timeout):
        if isinstance(target, str):
            page.click(target)
        else:
            target.click()


def open_menu(page: Any) -> None:
    """On a phone, open the top bar's menu (the navigation, the account and the language);
    wider, its content is in the bar already and nothing happens."""
    button = page.locator(".sitemenu-button")
    if button.count() and button.is_visible() and button.get_attribute("aria-expanded") != "true":
        button.click()
        page.locator("#site-menu").wait_for(state="visible")


def csp_errors(page: Any) -> list[str]:
    """The browser's reports, from now on, of anything the page's Content-Security-Policy
    blocked: a list that fills as the page runs."""
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return blocked


def pytest_terminal_summary(terminalreporter: Any) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if not CHROMIUM.exists() and any("browser" in report.keywords for report in skipped):
        terminalreporter.write_line(f"NOTICE: {MISSING_CHROMIUM}", yellow=True, bold=True)
