"""No English on the Chinese pages: signed in as each demo login, the pages its navigation
reaches (and the pages those link to) show no untranslated English word.

The demo city is built once for the module (as in tests/test_demo_city.py) and rolled back
at the end. A word is a run of two or more Latin letters standing alone: letters joined to
digits are codes (case references, grid codes), not words. The few words allowed are listed
with their reason below.
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from io import StringIO
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from whistle.demo.logins import DEMO_LOGINS

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# Words a Chinese page may show, and why.
ALLOWED = {
    "English": "the language switch names the other language in that language",
    "XLSX": "a file format on a download button",
    "CSV": "a file format on a download button",
    "GPS": "what Chinese readers call satellite positioning too",
    "UTC": "the time zone in the footer",
    "km": "the unit of distances",
    "MB": "the unit of file sizes",
    "JPEG": "a photo format the upload accepts",
    "PNG": "a photo format the upload accepts",
    "WebP": "a photo format the upload accepts",
    "Ctrl": "a key name",
    "N": "the 1+5+N enforcement centre, the mechanism's own name",
}
# Pages that are not the product's own words or not pages: Django's admin (its own
# translations), the API's interactive docs (Swagger UI's own words), downloads, photos, map
# data, the language switch and signing out.
SKIPPED = re.compile(
    r"^/(admin|i18n|static|media|accounts/logout)/|^/api/v1/docs|export|/photos?/|\.geojson$"
)
MAX_PAGES = 40
DEPTH = 2
WORD = re.compile(r"(?<![A-Za-z0-9_/-])[A-Za-z]{2,}(?![A-Za-z0-9_/-])")


class Page(HTMLParser):
    """The visible text (with the labels a screen reader or a hover shows) and the links."""

    SILENT = {"script", "style", "template", "noscript"}
    SHOWN_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self.nav_links: list[str] = []
        self._silent = 0
        self._nav = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in self.SILENT:
            self._silent += 1
        if tag == "nav":
            self._nav += 1
        for name in self.SHOWN_ATTRIBUTES:
            if values.get(name):
                self.text.append(str(values[name]))
        if tag == "input" and values.get("type") in {"submit", "button"} and values.get("value"):
            self.text.append(str(values["value"]))
        if tag == "a" and values.get("href"):
            (self.nav_links if self._nav else self.links).append(str(values["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SILENT:
            self._silent = max(0, self._silent - 1)
        if tag == "nav":
            self._nav = max(0, self._nav - 1)

    def handle_data(self, data: str) -> None:
        if not self._silent:
            self.text.append(data)


def english_words(text: str, codes: frozenset[str] = frozenset()) -> set[str]:
    return {w for w in WORD.findall(text) if w not in ALLOWED and w not in codes}


def codes_in_the_database() -> frozenset[str]:
    """Codes that are data, not words: case references and steward applications' references
    (letters and digits, sometimes letters only), the codes a district gives its scheme's
    components, the words of the English names it gives its schemes and their components
    (shown beside the Chinese names in the scheme editor), and the groups of an
    authenticator's key shown for typing when two-factor sign-in is set up."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from whistle.accounts.twofactor import secret_for_typing
    from whistle.assessment.models import Scheme, SchemeComponent
    from whistle.cases.models import Case
    from whistle.township.recruitment_models import StewardApplication

    keys = frozenset(
        group for device in TOTPDevice.objects.all() for group in secret_for_typing(device).split()
    )
    english_names = [
        *Scheme.objects.values_list("name_en", flat=True),
        *SchemeComponent.objects.values_list("name_en", flat=True),
    ]
    return (
        frozenset(word for name in english_names for word in WORD.findall(name))
        | frozenset(Case.objects.values_list("reference", flat=True))
        | frozenset(StewardApplication.objects.values_list("reference", flat=True))
        | frozenset(SchemeComponent.objects.values_list("code", flat=True))
        | keys
    )


def internal(base: str, href: str) -> str | None:
    url = urljoin(base, href)
    parts = urlsplit(url)
    if parts.scheme not in {"", "http"} or parts.netloc not in {"", "testserver"}:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return None if SKIPPED.search(parts.path) else path


def crawl(client) -> dict[str, set[str]]:
    """English words per page, breadth first from the home page and its navigation."""
    found: dict[str, set[str]] = {}
    queue: deque[tuple[str, int]] = deque([("/", 0)])
    seen = {"/"}
    while queue and len(found) < MAX_PAGES:
        url, depth = queue.popleft()
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code in {200, 302}, (url, response.status_code)
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue
        page = Page()
        page.feed(response.content.decode())
        # Read after each page: opening the two-factor set-up makes a key.
        found[url] = english_words(" ".join(page.text), codes_in_the_database())
        if depth >= DEPTH:
            continue
        # The menu first, so that every page of the role is reached before the page limit.
        for href in [*page.nav_links, *page.links]:
            target = internal(url, href)
            if target and target not in seen:
                seen.add(target)
                queue.append((target, depth + 1))
    return found


@pytest.fixture(scope="module")
def demo_city(django_db_setup, django_db_blocker):
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=fast),
        transaction.atomic(),
    ):
        call_command("seed_demo", stdout=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.mark.parametrize("username", [login.username for login in DEMO_LOGINS])
def test_the_pages_a_demo_login_reaches_show_no_english_words(client, demo_city, username):
    from whistle.organisation.models import Person

    client.force_login(Person.objects.get(username=username))
    pages = crawl(client)
    assert len(pages) >= 2, pages  # the home page and at least one of the role's pages
    untranslated = {url: sorted(words) for url, words in pages.items() if words}
    assert untranslated == {}


def test_the_check_finds_an_english_word_and_lets_codes_pass():
    assert english_words("巡查 rating 7KX2M9QH4T 110101015 km UTC") == {"rating"}
    assert english_words("Kind.CAME 已确认") == {"Kind", "CAME"}
    assert english_words("dc-cgzfj /district/chiefs/") == set()
    assert english_words("案件 GWXAYUGDGQ", frozenset({"GWXAYUGDGQ"})) == set()
