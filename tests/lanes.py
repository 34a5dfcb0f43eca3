"""Lanes drawn for a test: a straight centre line running east from a point."""

from whistle.organisation.models import Jurisdiction, Lane


def lane_running_east(
    township: Jurisdiction, name: str, lon: float, lat: float, *, to: float
) -> Lane:
    """A lane of the township whose centre line runs along latitude `lat` from longitude `lon`
    to longitude `to`."""
    return Lane.objects.create(
        name=name,
        township=township,
        centre_line={"type": "LineString", "coordinates": [[lon, lat], [to, lat]]},
    )
