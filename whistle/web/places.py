"""Choosing the place of a problem: the picker of the residents' report page and of the
command centre's work-order page (templates `web/components/place_picker.html`, script
`static/whistle/place.js`), and what it shows: the city's lanes (names and centre lines, as
on any street map) and where a point goes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.utils.translation import gettext as _

from whistle.cases.locate import locate
from whistle.organisation import geo
from whistle.organisation.models import Jurisdiction, Lane
from whistle.organisation.names import in_reader_language
from whistle.organisation.scoping import area_of
from whistle.web.basemap import basemap_config


def lane_districts() -> list[Jurisdiction]:
    """The districts that have lanes, in the order of their codes."""
    return list(
        Jurisdiction.objects.filter(
            level=Jurisdiction.Level.DISTRICT, pk__in=Lane.objects.values("township__parent")
        ).order_by("code")
    )


def own_lanes(person: Any) -> list[Lane]:
    """The lanes a person looks after one by one (a steward's, a lane chief's), for the
    picker's map to open on; none for someone signed out or looking after whole areas."""
    if not getattr(person, "is_authenticated", False):
        return []
    lane_ids = area_of(person).lane_ids
    if not lane_ids:
        return []
    return list(Lane.objects.filter(pk__in=lane_ids).select_related("township").order_by("pk"))


def picker_district(lanes: list[Lane], districts: list[Jurisdiction]) -> Jurisdiction | None:
    """The district whose lanes the picker's map opens on: that of the person's own lanes
    (`own_lanes`, a steward's), else the first district with lanes."""
    homes = [d for d in districts if lanes and d.pk == lanes[0].township.parent_id]
    return homes[0] if homes else (districts[0] if districts else None)


def district_lanes_url(lanes_url: str, district: Jurisdiction) -> str:
    """The address of a district's lanes: the picker's map and lane list fetch it, and the
    phone keeps it for a dead zone (`whistle.web.offline.phone_data`)."""
    return f"{lanes_url}?{urlencode({'district': district.code})}"


def lanes_geojson(district: Jurisdiction | None) -> dict[str, Any]:
    """The district's lanes: centre line, name, township, length, and the point halfway
    along it where a report on the lane is placed."""
    rows = (
        Lane.objects.filter(township__parent=district)
        .order_by("township__code", "name")
        .values_list("pk", "name", "township__name", "township__name_en", "length_m", "centre_line")
        if district is not None
        else []
    )
    features = []
    for pk, name, township, township_en, length_m, line in rows:
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
                    "township": in_reader_language(township, township_en),
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
            % {"lane": location.lane.name, "township": location.township.display_name},
        )
    return PlaceWords(
        True,
        str(_("The report goes to %(township)s; no lane is near this point."))
        % {"township": location.township.display_name},
    )


def picker_words() -> dict[str, str]:
    """The words of the lane list (static/whistle/place.js)."""
    return {
        "lanesHint": _("Type part of the name, e.g. 市场."),
        "lanesNone": _("No lane of this district has this in its name."),
        "lanesAll": _("%(n)s lanes found: choose one."),
        "lanesSome": _("%(n)s lanes found, the first %(shown)s shown: type more of the name."),
        "laneChosen": _("%(lane)s chosen: the pin is halfway along it; drag it to the spot."),
        "laneWhere": _("%(township)s · %(m)s m"),
        "lanesFailed": _("The list of lanes could not be loaded. Reload the page to retry."),
    }


def place_picker(
    *,
    lanes_url: str,
    place_url: str,
    districts: list[Jurisdiction],
    district: Jurisdiction | None,
    own_position: bool = True,
    focus: list[int] | None = None,
) -> dict[str, Any]:
    """What the picker's template needs: the districts to choose the lanes of (a choice
    only when there are several), each with the address of its lanes, the map showing the
    chosen district's lanes (lanes are public, cases are not: no cases on this map), where
    to ask what a point is, and the words of the lane list. With ``own_position`` the
    picker offers the device's position too: where the person reporting stands at the
    problem; not at a desk taking someone else's report (the 12345 order form). The map
    opens on the lanes ``focus`` names (a steward's own) when it draws any of them, else
    on the whole district."""

    def url_of(d: Jurisdiction) -> str:
        return district_lanes_url(lanes_url, d)

    layers = []
    if district is not None:
        layers.append({"name": "lanes", "url": url_of(district), "title": str(_("Lanes"))})
    return {
        "districts": [
            {"code": d.code, "name": d.display_name, "url": url_of(d), "chosen": d == district}
            for d in districts
        ],
        "lanes_url": url_of(district) if district is not None else "",
        "place_url": place_url,
        "own_position": own_position,
        "map": {
            "basemap": basemap_config(),
            "layers": layers,
            "refresh": 0,
            "focus": sorted(focus or []),
        },
        "words": picker_words(),
    }
