"""Where a written address lies, from the district's own lane list.

The hotline platform and city apps often send an address and no coordinates ("东城区东四街道
钱粮胡同12号门前"). No outside geocoder is reached (deployments sit on isolated networks):
the address is read against the names of the district's lanes. The lane whose name it
contains gives the place, the point halfway along the lane; a township's or community's name
in the address tells apart lanes of the same name. An address that names no lane, or two
lanes (a crossing), places nothing: the sender is asked for the position instead.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from whistle.organisation import geo
from whistle.organisation.models import Jurisdiction, Lane

# Shorter names ("东巷") turn up inside ordinary words of an address.
SHORTEST_NAME = 2


class AddressNotPlaced(ValueError):
    """The address names no lane of the district, or more than one."""


@dataclass(frozen=True)
class PlacedAddress:
    lane: Lane
    lon: float
    lat: float


def _plain(text: str) -> str:
    """Full-width digits and letters made plain, spaces dropped: "１２号 门前" → "12号门前"."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def _named_in(names: list[str]) -> list[str]:
    """The names found, without those that are only part of a longer name found (an address
    on 东四北大街 names 东四 too)."""
    return [name for name in names if not any(name != other and name in other for other in names)]


class Gazetteer:
    """The lanes of one district by name, read once for many addresses (an import)."""

    def __init__(self, district: Jurisdiction) -> None:
        self.lanes = [
            (_plain(lane.name), lane)
            for lane in Lane.objects.filter(township__parent=district)
            .select_related("township", "community")
            .only("name", "centre_line", "township__name", "community__name")
            if len(_plain(lane.name)) >= SHORTEST_NAME
        ]

    def place(self, address: str) -> PlacedAddress:
        """The lane the address names, and the point halfway along it."""
        text = _plain(address)
        if not text:
            raise AddressNotPlaced(_("Give the address or the position."))
        lanes = [(name, lane) for name, lane in self.lanes if name in text]
        # In the order the address names them.
        names = sorted(_named_in(list({name for name, _lane in lanes})), key=text.find)
        if not names:
            raise AddressNotPlaced(
                _("The address names no lane of this district: give the position instead.")
            )
        if len(names) > 1:
            raise AddressNotPlaced(
                _("The address names several lanes (%(names)s): give the position instead.")
                % {"names": _(", ").join(names)}
            )
        found = [lane for name, lane in lanes if name == names[0]]
        if len(found) > 1:
            # The same name in several townships: the address says which by its township or
            # community.
            found = [
                lane
                for lane in found
                if _plain(lane.township.name) in text
                or (lane.community is not None and _plain(lane.community.name) in text)
            ]
        if len(found) != 1:
            raise AddressNotPlaced(
                _(
                    "%(name)s is the name of lanes in several townships: add the township to "
                    "the address, or give the position."
                )
                % {"name": names[0]}
            )
        lon, lat = geo.halfway(found[0].centre_line)
        return PlacedAddress(lane=found[0], lon=lon, lat=lat)


def place_address(district: Jurisdiction, address: str) -> PlacedAddress:
    """The lane an address names in `district`, and the point halfway along it."""
    return Gazetteer(district).place(address)
