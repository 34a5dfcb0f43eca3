"""The phone pages as an installable app that opens without signal.

- `manifest`: the web app manifest (name in the reader's language and the other, icons, the
  start page), so the phone offers to install Whistle on its home screen.
- `icon`: the app's icon as a PNG, drawn here from the favicon's shapes (a whistle on the
  brand's red), at the sizes the manifest names; the "maskable" variant keeps the whistle in
  the middle 80 % that every launcher's mask leaves visible.
- `service_worker`: the one service worker of the site, at `/sw.js` so its scope is the
  whole site. It keeps the app shell (styles, scripts, icons) and the phone pages the person
  opened or `pages` names, answers from them when the network does not (saying when each
  was made), shows the "no signal" page in the person's language otherwise, and carries the
  Web Push handlers (`static/notifications/push-sw.js`), so no second worker competes.
- `pages`: the phone pages of the signed-in person to keep for a dead zone: my lanes, the
  report form, my reports, the open patrol, the page of a patrol started without signal on
  each of the person's lanes, a resident's report form, the department's desk and the case
  page of each summons still on its hands (its check-in, progress, result and check-out are
  there). Beside them, `data`: what those pages fetch to draw themselves (the layers of a
  steward's report map, the lanes of a resident's), kept the same way.

What is done without signal waits in the browser (`static/whistle/offline.js`, IndexedDB)
and is sent to the API with its Idempotency-Key when the connection returns (docs/street.md,
"Without signal").
"""

from __future__ import annotations

import hashlib
import io
import json
import posixpath
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from PIL import Image, ImageDraw

from whistle.cases.models import Summons
from whistle.organisation.models import Person, Role, RoleAssignment
from whistle.patrols.actions import PATROL_ROLES, open_patrol, patrol_lanes
from whistle.web.chrome import html_lang
from whistle.web.places import district_lanes_url, lane_districts, own_lanes, picker_district
from whistle.web.templatetags.whistle_ui import map_layer_url

ICON_SIZES = (192, 512)
# The layers of the map on the report page of stewards and chiefs of lanes (`patrol:report`,
# template street/partials/place_fields.html).
STAFF_REPORT_MAP_LAYERS = ("lanes", "cases")
# Lanes whose page for a patrol started without signal is kept (a township's chief of lanes
# may patrol every lane of the township: the first ones by name).
OFFLINE_WALK_LANES = 30
BRAND = (0x8E, 0x1B, 0x1B)
WHITE = (0xFF, 0xFF, 0xFF)

# What the worker keeps at installation, whoever is signed in: the shell every page needs.
SHELL = (
    "whistle/whistle.css",
    "whistle/whistle.js",
    "whistle/textlimit.js",
    "whistle/countdown.js",
    "whistle/geolocate.js",
    "whistle/inbox.js",
    "whistle/offline.js",
    "whistle/once.js",
    "whistle/drafts.js",
    "whistle/place.js",
    "whistle/map.js",
    "whistle/gcj02.js",
    "whistle/favicon.svg",
    "whistle/favicon.png",
    "vendor/htmx/htmx.min.js",
    "street/street.css",
    "street/street.js",
    "street/patrol.js",
    "desk/desk.css",
    "desk/desk.js",
    "desk/checkin.js",
    "notifications/push-sw.js",
)

# The store of the phone pages kept for the signed-in person (the worker's, read by the
# "no signal" page to list those this phone holds).
PAGES_CACHE = "whistle-pages"

# The phone pages (`phone_pages`) the "no signal" page offers, each shown only where this
# phone keeps it: the page itself names nobody.
KEPT_PAGE_LINKS = (
    ("patrol:home", gettext_lazy("My lanes")),
    ("patrol:report", gettext_lazy("Report a problem")),
    ("patrol:mine", gettext_lazy("Your reports")),
    ("reports:new", gettext_lazy("Report a problem")),
    ("department:home", gettext_lazy("My department's summonses")),
)

# Summonses still on a department's hands: their case page holds the check-in.
_ON_HAND = (
    Summons.Status.SUMMONED,
    Summons.Status.ACKNOWLEDGED,
    Summons.Status.ON_SITE,
    Summons.Status.DONE,
)


def _url(name: str, *args: Any) -> str | None:
    """A page's URL, or None where its app is not installed (resolve or hide)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _draw(size: int, *, maskable: bool) -> bytes:
    """The favicon's whistle, drawn at `size` pixels (its shapes are on a 64-unit grid)."""
    # Transparent corners around the rounded square; a maskable icon fills its square.
    image = Image.new("RGBA", (size, size), (*BRAND, 255) if maskable else (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if not maskable:
        draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size * 14 // 64, fill=BRAND)
    # A maskable icon's launcher may crop to a circle of 80 %: keep the drawing inside it.
    scale = size / 64 * (0.72 if maskable else 1.0)
    offset = (size - 64 * scale) / 2

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        return (offset + x0 * scale, offset + y0 * scale, offset + x1 * scale, offset + y1 * scale)

    draw.ellipse(box(8, 20, 38, 50), fill=WHITE)
    draw.rounded_rectangle(box(23, 20, 57, 32), radius=3 * scale, fill=WHITE)
    draw.ellipse(box(17, 29, 29, 41), fill=BRAND)
    draw.rectangle(box(38, 20, 45, 25), fill=BRAND)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


@lru_cache(maxsize=8)
def icon_png(size: int, maskable: bool) -> bytes:
    return _draw(size, maskable=maskable)


@require_GET
def icon(request: HttpRequest, size: int, purpose: str = "any") -> HttpResponse:
    if size not in ICON_SIZES or purpose not in ("any", "maskable"):
        raise Http404
    response = HttpResponse(icon_png(size, purpose == "maskable"), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def _icons() -> list[dict[str, str]]:
    icons = []
    for size in ICON_SIZES:
        for purpose in ("any", "maskable"):
            icons.append(
                {
                    "src": reverse("web:app-icon", args=[size, purpose]),
                    "sizes": f"{size}x{size}",
                    "type": "image/png",
                    "purpose": purpose,
                }
            )
    return icons


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    """The name in the page's language first, the other language after it."""
    with translation.override("zh-hans"):
        chinese = _("Whistle")
    with translation.override("en"):
        english = _("Whistle")
    language = translation.get_language() or "zh-hans"
    first, second = (english, chinese) if language.startswith("en") else (chinese, english)
    body = {
        "name": f"{first} · {second}",
        "short_name": first,
        "lang": "en" if language.startswith("en") else "zh-CN",
        "start_url": reverse("web:home"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#f5f6f8",
        "theme_color": "#8e1b1b",
        "icons": _icons(),
    }
    response = JsonResponse(body, content_type="application/manifest+json")
    response["Cache-Control"] = "no-cache"
    response["Vary"] = "Accept-Language, Cookie"
    return response


def offline_pages() -> dict[str, str]:
    """The "no signal" page in each language, by the `lang` of the pages in it: the worker
    keeps them all and shows the one of the last page the person opened."""
    url = reverse("web:offline")
    return {html_lang(code): f"{url}?lang={code}" for code, _name in settings.LANGUAGES}


def shell_urls() -> list[str]:
    return [static(path) for path in SHELL] + [item["src"] for item in _icons()]


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The worker's script. Its version is a digest of the shell's URLs and the script
    itself: a new deployment (new hashed static names) replaces the kept shell."""
    shell = shell_urls()
    # The folder of a case page and of the map layers, whatever the URL configuration.
    folders = [_url("case:detail", "0"), _url("web:map-lanes"), _url("reports:lanes")]
    prefixes = [_url("patrol:home"), _url("department:home")] + [
        posixpath.dirname(url.rstrip("/")) + "/" for url in folders if url
    ]
    context = {
        "shell_json": json.dumps(shell),
        "push_worker_json": json.dumps(static("notifications/push-sw.js")),
        "pages_url_json": json.dumps(reverse("web:offline-pages")),
        "pages_cache_json": json.dumps(PAGES_CACHE),
        "offline_pages_json": json.dumps(offline_pages()),
        "default_language_json": json.dumps(html_lang(settings.LANGUAGE_CODE)),
        "static_prefix_json": json.dumps(settings.STATIC_URL),
        "kept_prefixes_json": json.dumps([url for url in prefixes if url]),
    }
    script = render_to_string("web/sw.js", {**context, "version": "", "version_json": '""'})
    version = hashlib.sha256(script.encode()).hexdigest()[:12]
    script = render_to_string(
        "web/sw.js", {**context, "version": version, "version_json": json.dumps(version)}
    )
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    # Browsers check the worker at most daily anyway; never serve a stale one from a cache.
    response["Cache-Control"] = "no-cache"
    return response


def phone_pages(person: Person) -> list[str]:
    """The person's phone pages to keep for a dead zone."""
    held = RoleAssignment.objects.held_by(person)
    urls: list[str | None] = []
    if held.filter(role__in=PATROL_ROLES).exists():
        urls += [_url("patrol:home"), _url("patrol:report"), _url("patrol:mine")]
        patrol = open_patrol(person)
        if patrol is not None:
            urls.append(_url("patrol:walk", patrol.uuid))
        # The page of a patrol started without signal, one per lane (its checklist).
        lanes = patrol_lanes(person).order_by("township__code", "name").values_list("pk", flat=True)
        urls += [_url("patrol:walk-offline", pk) for pk in lanes[:OFFLINE_WALK_LANES]]
    if held.filter(role=Role.RESIDENT).exists():
        # A resident's report form: a report made there without signal waits in the queue.
        urls.append(_url("reports:new"))
    departments = sorted(set(held.exclude(department=None).values_list("department_id", flat=True)))
    if departments:
        urls.append(_url("department:home"))
        references = (
            Summons.objects.filter(department_id__in=departments, status__in=_ON_HAND)
            .order_by("summoned_at")
            .values_list("case__reference", flat=True)[:20]
        )
        urls += [_url("case:detail", reference) for reference in references]
    return list(dict.fromkeys(url for url in urls if url))


def phone_data(person: Person) -> list[str]:
    """What the person's kept pages fetch to draw themselves: the layers of the map of a
    steward's (a lane chief's) report page, which the server scopes to the person's own
    lanes or township, and the lanes the map and the lane list of a resident's report form
    show (one district's, the one the form opens on)."""
    urls: list[str] = []
    held = RoleAssignment.objects.held_by(person)
    if _url("patrol:report") and held.filter(role__in=PATROL_ROLES).exists():
        # The map draws only once every layer has come: all of them are kept.
        urls += [map_layer_url(name) for name in STAFF_REPORT_MAP_LAYERS]
    lanes_url = _url("reports:lanes")
    if lanes_url and held.filter(role=Role.RESIDENT).exists():
        district = picker_district(own_lanes(person), lane_districts())
        if district is not None:
            urls.append(district_lanes_url(lanes_url, district))
    return urls


@require_GET
@login_required
def pages(request: HttpRequest) -> HttpResponse:
    person: Person = request.user  # type: ignore[assignment]
    # The worker keeps the pages for `owner`, as each page names them (data-offline-owner).
    response = JsonResponse(
        {"owner": str(person.pk), "pages": phone_pages(person), "data": phone_data(person)}
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def ping(request: HttpRequest) -> HttpResponse:
    """Whether the server can be reached: the queue asks before sending a form, since a
    phone's "online" flag says nothing of a signal too weak to carry a request."""
    response = HttpResponse(status=204)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """What the worker shows for a page it does not keep while there is no signal, in the
    language `?lang=` names (the worker keeps one per language, fetched without cookies:
    nothing on it is anyone's). Its top bar offers neither signing in nor a name, and it
    lists the phone pages this phone keeps (offline.js shows those the worker holds)."""
    language = request.GET.get("lang", "")
    if language not in dict(settings.LANGUAGES):
        language = translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(language):
        links = [(url, label) for name, label in KEPT_PAGE_LINKS if (url := _url(name))]
        return render(request, "web/offline.html", {"links": links, "pages_cache": PAGES_CACHE})
