"""What anyone may see: of a case, with its reference number, its status, a timeline in plain
words without names, notes or phone numbers, and the photos of the result; of the city, its
lanes (names and centre lines, as on any street map), for residents to choose a place."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from whistle.cases.locate import locate
from whistle.cases.models import Attachment, Case
from whistle.cases.trail import EventKind
from whistle.organisation import geo
from whistle.organisation.models import Jurisdiction, Lane

REFERENCE = re.compile(r"^[2-9A-HJ-NP-Z]{10}$")

ARRIVED = _("%(department)s arrived on site")

# The trail events shown to the public and how they read. Refused check-ins, reminders and
# deadlines missed stay on the township's pages: they are about people's work, not the
# problem's progress. A flagged check-in reads as the arrival only once the township
# confirmed it (`timeline`).
PUBLIC_EVENTS: dict[str, Promise] = {
    EventKind.CASE_REPORTED: _("Problem reported"),
    EventKind.CASE_FILED: _("Taken up by the township"),
    EventKind.CASE_REJECTED: _("Not taken up by the township"),
    EventKind.CASE_MERGED: _("Joined to an earlier report of the same problem"),
    EventKind.SOLVED_ON_SPOT: _("Solved on the spot"),
    EventKind.DISPATCHED: _("Sent to the department responsible"),
    EventKind.WHISTLE_BLOWN: _("The township blew the whistle"),
    EventKind.SUMMONED: _("%(department)s summoned"),
    EventKind.CHECK_IN_ACCEPTED: ARRIVED,
    EventKind.CHECK_IN_FLAGGED: ARRIVED,
    EventKind.RESULT: _("%(department)s reported its work done"),
    EventKind.HANDLED: _("Resolved, waiting for the check on site"),
    EventKind.CHECK_PASSED: _("Checked on site"),
    EventKind.REWORK: _("Sent back: not solved yet"),
    EventKind.CLOSED: _("Case closed"),
    EventKind.BACKLOG: _("Needs longer: kept on the open backlog"),
    EventKind.BACKLOG_RESUMED: _("Work resumed"),
    EventKind.ESCALATED: _("Escalated to the chiefs' office"),
    EventKind.EVALUATED: _("Handling assessed by the township"),
    EventKind.RESIDENT_CALLBACK: _("The township called the resident back"),
    EventKind.RESIDENT_RATED: _("The resident rated the result"),
}

RESULT_PURPOSES = (Attachment.Purpose.RESULT, Attachment.Purpose.CHECK)


def normal_reference(text: str) -> str:
    """A reference as typed (spaces, dashes, lower case) in its stored form."""
    return re.sub(r"[\s-]+", "", text or "").upper()


@dataclass(frozen=True)
class PublicEntry:
    at: datetime
    text: str


def timeline(case: Case) -> list[PublicEntry]:
    events = list(
        case.events.filter(kind__in=[*PUBLIC_EVENTS, EventKind.CHECK_IN_CONFIRMED])
        .select_related("summons__department")
        .order_by("seq")
    )
    # A flagged check-in that the township rejected, or has not ruled on yet, is no arrival.
    confirmed = {
        event.data.get("check_in_seq")
        for event in events
        if event.kind == EventKind.CHECK_IN_CONFIRMED
    }
    entries = []
    for event in events:
        if event.kind == EventKind.CHECK_IN_CONFIRMED or (
            event.kind == EventKind.CHECK_IN_FLAGGED and event.seq not in confirmed
        ):
            continue
        department = event.summons.department.name if event.summons else ""
        text = str(PUBLIC_EVENTS[event.kind]) % {"department": department or _("A department")}
        entries.append(PublicEntry(event.at, text))
    return entries


def result_photos(case: Case) -> list[Attachment]:
    return list(
        Attachment.objects.filter(case=case, purpose__in=RESULT_PURPOSES).order_by(
            "uploaded_at", "pk"
        )
    )


def lane_districts() -> list[Jurisdiction]:
    """The districts that have lanes, in the order of their codes."""
    return list(
        Jurisdiction.objects.filter(
            level=Jurisdiction.Level.DISTRICT, pk__in=Lane.objects.values("township__parent")
        ).order_by("code")
    )


def lanes_geojson(district: Jurisdiction | None) -> dict[str, Any]:
    """The district's lanes: centre line, name, township, length, and the point halfway
    along it where a report on the lane is placed."""
    rows = (
        Lane.objects.filter(township__parent=district)
        .order_by("township__code", "name")
        .values_list("pk", "name", "township__name", "length_m", "centre_line")
        if district is not None
        else []
    )
    features = []
    for pk, name, township, length_m, line in rows:
        try:
            lon, lat = geo.halfway(line)
        except geo.GeometryError:
            # A line imported without checks; the lane stays off the map rather than
            # breaking it for everyone.
            continue
        features.append(
            {
                "type": "Feature",
                "id": pk,
                "geometry": line,
                "properties": {
                    "name": name,
                    "township": township,
                    "length_m": round(length_m),
                    "point": [round(lon, 7), round(lat, 7)],
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


@dataclass(frozen=True)
class PlaceWords:
    inside: bool
    text: str


def describe_place(lon: float, lat: float) -> PlaceWords:
    """Where a report from this point goes, as the report will place it: the lane within
    the district's snapping distance (`whistle.cases.locate`), else the township."""
    location = locate(lon, lat)
    if location.township is None:
        return PlaceWords(
            False, str(_("This place is not inside any township of the city: choose another."))
        )
    if location.lane is not None:
        return PlaceWords(
            True,
            str(_("The report goes to %(lane)s, %(township)s."))
            % {"lane": location.lane.name, "township": location.township.name},
        )
    return PlaceWords(
        True,
        str(_("The report goes to %(township)s; no lane is near this point."))
        % {"township": location.township.name},
    )
