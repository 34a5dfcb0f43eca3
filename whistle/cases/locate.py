"""Where a problem is: its lane, community, grid cell, township and district from a point.

The lane whose centre line is nearest, within the district's matching distance
(DistrictPolicy.lane_snap_m, or settings.WHISTLE_LANE_SNAP_METRES without a policy), decides
the township and usually the community. Otherwise the polygons that contain the point do.
Candidates are chosen by their bounding boxes from the map each process keeps in memory
(`whistle.organisation.places`); only those are measured exactly. The rows returned are the
map's, shared by every look-up: never change or save them.
"""

from __future__ import annotations

from dataclasses import dataclass

from whistle.cases.rules import district_lane_snap_metres, lane_snap_or_default
from whistle.organisation.models import GridCell, Jurisdiction, Lane
from whistle.organisation.places import CityMap, city_map

Level = Jurisdiction.Level
_LAST = "last located"


@dataclass(frozen=True)
class Location:
    district: Jurisdiction | None
    township: Jurisdiction | None
    community: Jurisdiction | None
    lane: Lane | None
    grid_cell: GridCell | None
    # Distance from the point to the lane's centre line, when a lane was found.
    lane_distance_m: float | None = None


def _lane_snap_metres(city: CityMap, district: Jurisdiction | None) -> float:
    """The district's matching distance, kept with the map: a change to the district
    policies gives the map a new revision."""
    key = ("lane_snap_m", district.pk if district is not None else None)
    if key not in city.memo:
        city.memo[key] = district_lane_snap_metres(district)
    return lane_snap_or_default(city.memo[key])


def _grid_cell(
    city: CityMap, lon: float, lat: float, community: Jurisdiction | None
) -> GridCell | None:
    inside = city.grid_cells(lon, lat)
    for cell in inside:
        if community is not None and cell.community_id == community.pk:
            return cell
    return inside[0] if inside else None


def locate(lon: float, lat: float) -> Location:
    """Everything the city knows about the place at (lon, lat), WGS-84."""
    city = city_map()
    # The last point each map located, answered again without looking: an API filing asks
    # for its point twice (its category's district, then the action's place). The
    # deployment's matching distance is part of the question (a district's own is part of
    # the map).
    asked = (lon, lat, lane_snap_or_default(None))
    last = city.memo.get(_LAST)
    if last is not None and last[0] == asked:
        return last[1]
    location = _locate(city, lon, lat)
    city.memo[_LAST] = (asked, location)
    return location


def _locate(city: CityMap, lon: float, lat: float) -> Location:
    containing = city.containing(lon, lat)
    district = containing.get(Level.DISTRICT)
    township = containing.get(Level.TOWNSHIP)
    community = containing.get(Level.COMMUNITY)
    if community is not None and township is not None and community.parent_id != township.pk:
        community = None
    lane: Lane | None = None
    lane_distance: float | None = None
    snapped = city.nearest_lane(lon, lat, _lane_snap_metres(city, district))
    if snapped is not None:
        lane, lane_distance = snapped
        if township is None or lane.township_id != township.pk:
            township = lane.township
            community = None
        if lane.community is not None:
            community = lane.community
    if township is not None and (district is None or not township.code.startswith(district.code)):
        district = township.district
    return Location(
        district=district,
        township=township,
        community=community,
        lane=lane,
        grid_cell=_grid_cell(city, lon, lat, community),
        lane_distance_m=None if lane_distance is None else round(lane_distance, 1),
    )
