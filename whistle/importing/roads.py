"""``whistle import roads FILE --district CODE``: a district's road network from GeoJSON.

The file is a FeatureCollection as OSM exports give it (osmtogeojson, Overpass, QGIS): each
LineString or MultiLineString feature with a ``highway`` property is a road (one way when
its ``oneway`` is yes, true or 1, in the line's direction, or -1 or reverse, against it; a
roundabout is one way unless ``oneway`` is no; any other value counts both ways); every other
feature (buildings, points such as traffic signals, areas, ways without ``highway``, roads
only planned or under construction) is skipped and counted. The roads are joined where their
positions coincide within a metre (`whistle.organisation.roads.build`) and stored as the
stretches between junctions, with their geodesic lengths. Every feature is checked first and
each bad one reported by its number; a file with any bad feature writes nothing. The import
replaces the district's network whole: without ``--update`` a district that already has one
is reported instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from whistle.importing import cells
from whistle.importing.base import Problem, Tally
from whistle.importing.pipeline import ImportResult
from whistle.importing.sources import SourceError, open_source
from whistle.organisation import roads
from whistle.organisation.models import Jurisdiction, RoadNetwork, RoadSegment

KIND = "roads"
TITLE = gettext_lazy("road network")

# Values of ``highway`` that are no road one can travel on (yet, or any more).
NOT_ROADS = frozenset(
    {"proposed", "construction", "abandoned", "disused", "razed", "platform", "raceway"}
)
LINES = ("LineString", "MultiLineString")
# Values of ``oneway``: travelled along the line, against it, or both ways.
ONEWAY_ALONG = frozenset({"yes", "true", "1"})
ONEWAY_AGAINST = frozenset({"-1", "reverse"})
ONEWAY_NOT = frozenset({"no", "false", "0"})
NAME_LENGTH = RoadSegment._meta.get_field("name").max_length or 200
HIGHWAY_LENGTH = RoadSegment._meta.get_field("highway").max_length or 40


class _Rollback(Exception):
    """Undoes a dry run once everything has been written."""


def import_roads(
    path: Path | str,
    *,
    district: str | None = None,
    update: bool = False,
    dry_run: bool = False,
) -> ImportResult:
    """Import a district's road network, all or nothing."""
    path = Path(path)
    result = ImportResult(
        kind=KIND, title=str(TITLE), file=path.name, dry_run=dry_run, unit="feature"
    )
    if not district:
        result.errors.append(Problem(None, None, _("Name the district of the roads: --district")))
        return result
    area = Jurisdiction.objects.filter(code=district, level=Jurisdiction.Level.DISTRICT).first()
    if area is None:
        result.errors.append(
            Problem(None, None, _("There is no district with code %(code)s") % {"code": district})
        )
        return result
    if path.suffix.lower() not in (".geojson", ".json"):
        result.errors.append(
            Problem(None, None, _("Roads are read from a .geojson file (an OSM export)"))
        )
        return result
    try:
        source = open_source(path)
    except SourceError as exc:
        result.errors.append(Problem(None, None, str(exc)))
        return result
    found: list[roads.Road] = []
    skipped = 0
    for record in source.records:
        result.rows += 1
        if record.problem:
            result.errors.append(Problem(record.number, None, record.problem))
            continue
        road = _road(record.number, record.cells, record.geometry, result)
        if road is None:
            skipped += 1
        elif road:
            found.extend(road)
    existing = RoadNetwork.objects.filter(district=area).first()
    if existing is not None and not update:
        result.errors.append(
            Problem(
                None,
                None,
                _(
                    "%(district)s already has a road network (%(segments)s road segments, "
                    "imported from %(source)s); use --update to replace it"
                )
                % {
                    "district": area.name,
                    "segments": existing.segment_count,
                    "source": existing.source,
                },
            )
        )
    if result.ok and not found:
        result.errors.append(
            Problem(
                None,
                None,
                _(
                    "The file has no roads: no LineString or MultiLineString with a highway "
                    "property"
                ),
            )
        )
    if not result.ok:
        return result
    built = roads.build(found)
    try:
        with transaction.atomic():
            _write(area, existing, built, path.name)
            if dry_run:
                raise _Rollback
        result.written = True
    except _Rollback:
        pass
    except DatabaseError as exc:
        result.errors.append(
            Problem(None, None, _("The database refused the import: %(error)s") % {"error": exc})
        )
        return result
    tally = Tally(str(RoadSegment._meta.verbose_name_plural), created=len(built.pieces))
    result.tallies = [tally]
    result.notes.append(
        _(
            "%(district)s: %(nodes)s junctions and ends, %(segments)s road segments, "
            "%(km).1f km of road"
        )
        % {
            "district": area.name,
            "nodes": built.nodes,
            "segments": len(built.pieces),
            "km": built.length_m / 1000,
        }
    )
    if skipped:
        result.notes.append(
            ngettext(
                "%(count)s feature is not a road and was skipped",
                "%(count)s features are not roads and were skipped",
                skipped,
            )
            % {"count": skipped}
        )
    if existing is not None:
        replaced = (
            _("The earlier network (%(segments)s road segments) would be replaced")
            if dry_run
            else _("The earlier network (%(segments)s road segments) is replaced")
        )
        result.notes.append(replaced % {"segments": existing.segment_count})
    return result


def _road(
    number: int, properties: dict[str, Any], geometry: Any, result: ImportResult
) -> list[roads.Road] | None:
    """The roads of one feature; None when it is no road, [] when it is a bad one (reported)."""
    highway = properties.get("highway")
    if cells.is_blank(highway) or not isinstance(highway, str):
        return None
    highway = highway.strip()
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if highway in NOT_ROADS or (geometry is not None and kind not in LINES):
        return None
    problems = []
    if geometry is None:
        problems.append(Problem(number, None, _("A road needs a line; this one has none")))
        parts: list[Any] = []
    elif kind == "LineString":
        parts = [geometry.get("coordinates")]
    else:
        coordinates = geometry.get("coordinates")
        parts = coordinates if isinstance(coordinates, list) else []
        if not parts:
            problems.append(Problem(number, None, _("The MultiLineString has no lines")))
    lines = []
    for index, coordinates in enumerate(parts, start=1):
        try:
            shape = cells.line({"type": "LineString", "coordinates": coordinates})
        except cells.CellError as exc:
            where = str(exc)
            if len(parts) > 1:
                where = _("line %(n)s: %(error)s") % {"n": index, "error": exc}
            problems.append(Problem(number, None, where))
            continue
        lines.append([(float(p[0]), float(p[1])) for p in shape["coordinates"]])
    name = properties.get("name")
    name = cells.as_text(name) if not cells.is_blank(name) else ""
    if len(name) > NAME_LENGTH:
        problems.append(
            Problem(
                number,
                "name",
                _("A name has at most %(n)s characters") % {"n": NAME_LENGTH},
            )
        )
    if len(highway) > HIGHWAY_LENGTH:
        problems.append(
            Problem(
                number,
                "highway",
                _("A kind of road has at most %(n)s characters") % {"n": HIGHWAY_LENGTH},
            )
        )
    if problems:
        result.errors.extend(problems)
        return []
    direction = _direction(properties)
    if direction < 0:
        lines = [list(reversed(positions)) for positions in lines]
    return [roads.Road(positions, highway, name, direction != 0) for positions in lines]


def _direction(properties: dict[str, Any]) -> int:
    """1 when the road is travelled along its line only, -1 against it only, 0 both ways."""
    value = properties.get("oneway")
    text = cells.as_text(value).strip().lower() if not cells.is_blank(value) else ""
    if text in ONEWAY_ALONG:
        return 1
    if text in ONEWAY_AGAINST:
        return -1
    if not text and str(properties.get("junction", "")).strip().lower() == "roundabout":
        return 1
    return 0


def _write(
    district: Jurisdiction, existing: RoadNetwork | None, built: roads.Built, source: str
) -> None:
    if existing is not None:
        existing.delete()
    network = RoadNetwork.objects.create(
        district=district,
        source=source[:255],
        imported_at=timezone.now(),
        node_count=built.nodes,
        segment_count=len(built.pieces),
        length_m=round(built.length_m, 1),
    )
    RoadSegment.objects.bulk_create(
        (
            RoadSegment(
                network=network,
                start_lon=piece.start[0],
                start_lat=piece.start[1],
                end_lon=piece.end[0],
                end_lat=piece.end[1],
                length_m=piece.length_m,
                highway=piece.highway,
                name=piece.name,
                line={"type": "LineString", "coordinates": [list(p) for p in piece.positions]},
                oneway=piece.oneway,
            )
            for piece in built.pieces
        ),
        batch_size=1000,
    )
