"""What the page layout (templates/base.html) shows around every page.

The layout's own words are here, translated with the web app's messages, so that
templates/base.html holds structure only. Role pages add their links through
`whistle.web.dashboards`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from whistle.notifications.outbox import InboxState, inbox_state
from whistle.organisation.models import RoleAssignment
from whistle.same_site import page_of_ours
from whistle.web.dashboards import DashboardLink, NavEntry, dashboards_for, navigation

LABELS = {
    "product": _("Whistle"),
    "skip": _("Skip to main content"),
    "main_nav": _("Main"),
    "account": _("Account"),
    "signed_in_as": _("Signed in as"),
    "roles": _("Roles:"),
    "no_roles": _("No role assigned yet"),
    "sign_in": _("Sign in"),
    "sign_out": _("Sign out"),
    "security": _("Account security"),
    "api_tokens": _("API tokens"),
    "language": _("Language"),
    "messages": _("Messages"),
    "inbox": _("Notifications"),
    "settings": _("My settings"),
    # The phone's top bar: the button that opens the navigation and the account.
    "menu": _("Menu"),
    "footer_time": _("Times are Beijing time (UTC+8)."),
    "footer_about": _(
        'Whistle runs the "townships whistle, departments report" mechanism: every '
        "summons is traced and assessed."
    ),
}


@dataclass
class RoleLine:
    role: str
    target: str

    def __str__(self) -> str:
        return f"{self.role} · {self.target}" if self.target else self.role


@dataclass
class Chrome:
    labels: dict[str, Any]
    roles: list[RoleLine] = field(default_factory=list)
    links: list[DashboardLink] = field(default_factory=list)
    # The same links as the top bar shows them: on their own, or in menus.
    nav: list[NavEntry] = field(default_factory=list)
    languages: list[tuple[str, str]] = field(default_factory=list)
    language: str = ""
    # Where the language switch brings the person back (`language_return`).
    language_return: str = ""
    # The signed-in person's inbox, for the header's count (one query per page).
    inbox: InboxState | None = None


def person_roles(person: Any) -> list[RoleLine]:
    if not getattr(person, "is_authenticated", False):
        return []
    rows = RoleAssignment.objects.filter(person=person).select_related(
        "jurisdiction", "lane", "department"
    )
    lines = []
    for row in rows:
        unit = row.department or row.jurisdiction
        target = row.lane.name if row.lane else unit.display_name if unit else ""
        lines.append(RoleLine(str(row.get_role_display()), target))
    return lines


def language_return(request: HttpRequest | None, form_page: str = "") -> str:
    """The page the language switch brings the person back to, in the other language: this
    one when it was opened as a page is (GET). A page that answers a sent form (a form with
    errors, a refusal) may stand at an address that takes forms only, which would refuse to
    be opened again: the switch returns to the page the form belongs to, as the view names
    it (`form_page` in the page's context), else to the page the browser says the form was
    sent from (the Referer), when either is one of ours, else to the home page. A form sent
    again from its own answer names that answer's address as its Referer, so a view whose
    address takes forms only names its form's page."""
    if request is None:
        return reverse("web:home")
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    for address in (form_page, request.headers.get("Referer", "")):
        found = page_of_ours(request, address)
        if found is not None:
            return found
    return reverse("web:home")


def chrome_for(person: Any, request: HttpRequest | None = None, form_page: str = "") -> Chrome:
    current = get_language() or settings.LANGUAGE_CODE
    links = dashboards_for(person)
    return Chrome(
        labels=LABELS,
        roles=person_roles(person),
        links=links,
        nav=navigation(links),
        languages=[(code, name) for code, name in settings.LANGUAGES if code != current],
        language=current,
        language_return=language_return(request, form_page),
        inbox=inbox_state(person) if getattr(person, "is_authenticated", False) else None,
    )


def inbox_badge(state: InboxState, page_path: str) -> dict[str, Any]:
    """What the header's inbox link needs: the count, how often to ask again, and whether
    the page is the inbox itself."""
    return {
        "state": state,
        "poll": settings.WHISTLE_INBOX_POLL_SECONDS,
        "current": page_path == reverse("web:inbox"),
    }


def html_lang(language_code: str) -> str:
    """The BCP 47 tag for the ``lang`` attribute: Django's zh-hans is zh-Hans (zh-CN reads too)."""
    if language_code.lower() in {"zh-hans", "zh-cn", "zh"}:
        return "zh-CN"
    return language_code


def js_strings() -> dict[str, Any]:
    """The words static/whistle/*.js needs, in the page's language, and the time zone its
    times are said in."""
    return {
        "countdownLeft": str(_("%(time)s left")),
        "countdownOverdue": str(_("overdue by %(time)s")),
        "countdownOverdueNow": str(_("%(label)s: overdue")),
        "overdue": str(_("Overdue")),
        "lessThanAMinute": str(_("less than a minute")),
        "minute": [
            ngettext("%(n)s minute", "%(n)s minutes", 1),
            ngettext("%(n)s minute", "%(n)s minutes", 2),
        ],
        "hour": [
            ngettext("%(n)s hour", "%(n)s hours", 1),
            ngettext("%(n)s hour", "%(n)s hours", 2),
        ],
        "day": [ngettext("%(n)s day", "%(n)s days", 1), ngettext("%(n)s day", "%(n)s days", 2)],
        "dayShort": str(_("%(n)sd")),
        "geoUnsupported": str(_("This browser cannot tell where you are.")),
        "geoDenied": str(
            _("Location is turned off for this site. Allow it in the browser's settings.")
        ),
        "geoUnavailable": str(_("Your position could not be found. Move to open sky and retry.")),
        "geoTimeout": str(_("Finding your position took too long. Try again.")),
        "geoLocating": str(_("Finding your position…")),
        "geoFound": str(_("Position found, accurate to about %(m)s m.")),
        "mapNoData": str(_("Nothing to show on the map in your area yet.")),
        "mapLoadFailed": str(_("The map layers could not be loaded. Reload the page to retry.")),
        "mapZoomIn": str(_("Zoom in")),
        "mapZoomOut": str(_("Zoom out")),
        "mapLayers": str(_("Map layers")),
        "liveStale": str(_("Connection lost; showing the last figures received.")),
        "limitOver": str(_("%(n)s over the limit")),
        "limitReached": str(_("The text is longer than the limit of %(max)s characters.")),
        "inboxNew": str(_("New notification: %(n)s unread.")),
        "navMore": str(_("More")),
        # The field of several photos (web/components/photo_field.html).
        "photosChosen": [
            ngettext("%(n)s photo chosen", "%(n)s photos chosen", 1),
            ngettext("%(n)s photo chosen", "%(n)s photos chosen", 2),
        ],
        "photosMore": str(_("Add more photos")),
        "photosOver": str(_("At most %(max)s photos: the last ones chosen were left out.")),
        "photoRemove": str(_("Remove")),
        # A chosen file that is no picture, said on the field at once (whistle.js).
        "photoNotPicture": str(_("“%(name)s” is not a JPEG, PNG or WebP picture: choose a photo.")),
        "photoRemoveNamed": str(_("Remove %(name)s")),
        # A form's text put back after signing in again (static/whistle/drafts.js).
        "draftRestored": str(
            _(
                "What you typed before your session ended has been put back. Check it and "
                "send it again."
            )
        ),
        # A form sent once (static/whistle/once.js): its button while it is sent, and the
        # form's page opened again by the back button after sending.
        "sending": str(_("Sending…")),
        "formSentBefore": str(
            _(
                "Your report was sent. This form is empty again: fill it in only to report "
                "another problem."
            )
        ),
        # A copy button (static/whistle/copy.js): a new API token's secret.
        "copyDone": str(_("Copied.")),
        "copyByHand": str(
            _("The token is selected: copy it with Ctrl+C (⌘C on a Mac) or the context menu.")
        ),
        # The zone the pages' times are said in (Beijing time), whatever the device's own.
        "timeZone": settings.TIME_ZONE,
        **offline_strings(),
    }


def offline_strings() -> dict[str, str]:
    """The words of the queue kept on the phone (static/whistle/offline.js)."""
    return {
        "offlineQueued": str(
            _("No signal: kept on this phone, and sent when the connection returns.")
        ),
        "offlineNotKept": str(_("This could not be kept on this phone. Try again.")),
        "offlineNeedsDescription": str(_("Describe the problem in a sentence or two.")),
        "offlineNeedsPlace": str(_("Give the place: use your position or tap the map.")),
        "offlineNeedsPhone": str(
            _("Enter a phone number the township can call back, or leave it empty.")
        ),
        "offlinePhotoAgain": str(
            _("Without signal the photo chosen before cannot be read: choose it again.")
        ),
        "offlineHeld": str(
            _(
                "No signal: this was not sent, and will not be sent by itself. What you "
                "typed is still here: tap again once the connection returns."
            )
        ),
        "offlineWaiting": str(_("%(n)s not sent yet.")),
        "offlineAllSent": str(_("Everything has been sent.")),
        # A page the worker answered from the phone's store: how old it is, and what waits.
        "offlineKeptAt": str(
            _("This page is the copy saved on this phone at %(time)s: it may be out of date.")
        ),
        "offlineKept": str(_("This page is a copy saved on this phone: it may be out of date.")),
        "offlineKeptWaiting": str(
            _("%(n)s records on this phone are not sent yet and may not show on it.")
        ),
        "offlineStatus_waiting": str(_("waiting")),
        "offlineStatus_sent": str(_("sent")),
        "offlineStatus_failed": str(_("failed")),
        "offlineKind_tick": str(_("Checklist")),
        "offlineKind_report": str(_("Problem report")),
        "offlineKind_resident-report": str(_("Problem report")),
        "offlineKind_check-in": str(_("Check-in")),
        "offlineKind_progress": str(_("Progress")),
        "offlineKind_result": str(_("Result")),
        "offlineKind_check-out": str(_("Check-out")),
        "offlineKind_patrol-start": str(_("Patrol started")),
        "offlineKind_positions": str(_("Route")),
        "offlineKind_patrol-end": str(_("Patrol ended")),
        "offlinePositions": str(_("%(n)s positions")),
        "offlineNeedsText": str(_("Write a sentence or two first.")),
        "offlineLeft": str(_("checked out")),
        "offlineMadeAt": str(_("made at %(time)s")),
        "offlineAccuracy": str(_("position ± %(m)s m")),
        "offlinePlaced": str(_("place picked on the map")),
        "offlinePhoto": str(_("with a photo")),
        "offlineRetry": str(_("Try again")),
        "offlineDiscard": str(_("Discard")),
        "offlineDiscardConfirm": str(
            _("Discard this record? It was not accepted and will not be sent.")
        ),
        "offlineSignIn": str(_("Sign in again to send it.")),
        "offlineRefused": str(_("Refused by the server (%(status)s).")),
        "offlineVerdict_clean": str(_("counts as the arrival")),
        "offlineVerdict_flagged": str(_("accepted, flagged for the township")),
    }
