"""The kinds of import, in the order a new district loads them."""

from __future__ import annotations

from whistle.importing.base import Importer
from whistle.importing.calendar import CalendarImporter
from whistle.importing.categories import CategoryImporter
from whistle.importing.departments import CentreImporter, DepartmentImporter, SectorImporter
from whistle.importing.people import PeopleImporter
from whistle.importing.places import GridCellImporter, JurisdictionImporter, LaneImporter

IMPORTERS: tuple[type[Importer], ...] = (
    JurisdictionImporter,
    GridCellImporter,
    LaneImporter,
    SectorImporter,
    DepartmentImporter,
    PeopleImporter,
    CentreImporter,
    CategoryImporter,
    CalendarImporter,
)

KINDS: dict[str, type[Importer]] = {importer.kind: importer for importer in IMPORTERS}


def importer_class(kind: str) -> type[Importer]:
    return KINDS[kind]
