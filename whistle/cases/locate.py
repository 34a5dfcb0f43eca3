"""Where a problem is: its lane, community, grid cell, township and district from a point.

The lane whose centre line is nearest, within the district's matching distance
(DistrictPolicy.lane_snap_m, or settings.WHISTLE_LANE_SNAP_METRES without a policy), decides
the township and usually the community. Otherwise the polygons that contain the point do.
Candidates are chosen in SQL by their bounding-box columns; only those are measured exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from whistle.cases.rules import lane_snap_metres
from whistle.organisation import geo
from whistle.organisation.models import GridCell, Jurisdiction, Lane

Level = Jurisdiction.Level


@dataclass(frozen=True)
class Location:
    district: Jurisdiction | None
    township: Jurisdiction | None
    community: Jurisdiction | None
    lane: Lane | None
    grid_cell: GridCell | None
    # Distance from the point to the lane's centre line, when a lane was found.
    lane_distance_m: float | None = None


def _containing_jurisdictions(lon: float, lat: float) -> dict[str, Jurisdiction]:
    """The district, township and community whose boundary contains the point, by level."""
    candidates = Jurisdiction.objects.filter(
        level__in=[Level.DISTRICT, Level.TOWNSHIP, Level.COMMUNITY],
        min_lon__lte=lon,
        max_lon__gte=lon,
        min_lat__lte=lat,
        max_lat__gte=lat,
    ).order_by("code")
    found: dict[str, Jurisdiction] = {}
    for jurisdiction in candidates:
        if jurisdiction.level not in found and jurisdiction.contains_point(lon, lat):
            found[jurisdiction.level] = jurisdiction
    return found


def nearest_lane(lon: float, lat: float, within_m: float) -> tuple[Lane, float] | None:
    """The lane whose centre line is nearest to the point, if it is within `within_m`."""
    if within_m <= 0:
        return None
    dlon, dlat = geo.metres_to_degrees(within_m, lat)
    candidates = Lane.objects.filter(
        min_lon__lte=lon + dlon,
        max_lon__gte=lon - dlon,
        min_lat__lte=lat + dlat,
        max_lat__gte=lat - dlat,
    ).select_related("township", "community")
    best: tuple[float, str, Lane] | None = None
    for lane in candidates:
        distance = geo.distance_to_line_m(lane.centre_line, (lon, lat))
        if distance <= within_m and (best is None or (distance, lane.name) < best[:2]):
            best = (distance, lane.name, lane)
    return (best[2], best[0]) if best else None


def _grid_cell(lon: float, lat: float, community: Jurisdiction | None) -> GridCell | None:
    candidates = GridCell.objects.filter(
        min_lon__lte=lon, max_lon__gte=lon, min_lat__lte=lat, max_lat__gte=lat
    ).order_by("code")
    inside = [c for c in candidates if c.boundary and geo.polygon_contains(c.boundary, (lon, lat))]
    for cell in inside:
        if community is not None and cell.community_id == community.pk:
            return cell
    return inside[0] if inside else None


def locate(lon: float, lat: float) -> Location:
    """Everything the city knows about the place at (lon, lat), WGS-84."""
    containing = _containing_jurisdictions(lon, lat)
    district = containing.get(Level.DISTRICT)
    township = containing.get(Level.TOWNSHIP)
    community = containing.get(Level.COMMUNITY)
    if community is not None and township is not None and community.parent_id != township.pk:
        community = None
    lane: Lane | None = None
    lane_distance: float | None = None
    snapped = nearest_lane(lon, lat, lane_snap_metres(district))
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
        grid_cell=_grid_cell(lon, lat, community),
        lane_distance_m=None if lane_distance is None else round(lane_distance, 1),
    )
