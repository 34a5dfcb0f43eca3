"""Imports of places: the jurisdiction tree, grid cells and lanes."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from whistle.importing import cells
from whistle.importing.base import Column, Importer, Lookup, Row
from whistle.organisation.models import GridCell, Jurisdiction, Lane

Level = Jurisdiction.Level

LEVEL_WORDS = {
    "省": Level.CITY,
    "直辖市": Level.CITY,
    "区县": Level.DISTRICT,
    "县": Level.DISTRICT,
    "市辖区": Level.DISTRICT,
    "乡镇": Level.TOWNSHIP,
    "街道": Level.TOWNSHIP,
    "乡": Level.TOWNSHIP,
    "镇": Level.TOWNSHIP,
    "社区": Level.COMMUNITY,
    "村": Level.COMMUNITY,
}
FORM_WORDS = {
    "街道办事处": Jurisdiction.Form.STREET_OFFICE,
    "乡": Jurisdiction.Form.TOWN,
    "镇": Jurisdiction.Form.TOWN,
    "地区": Jurisdiction.Form.TOWN,
    "居委会": Jurisdiction.Form.COMMUNITY,
    "社区居委会": Jurisdiction.Form.COMMUNITY,
    "村委会": Jurisdiction.Form.VILLAGE,
    "行政村": Jurisdiction.Form.VILLAGE,
}


def fetch_places(codes: list[str]) -> Iterable[tuple[str, Jurisdiction]]:
    return ((j.code, j) for j in Jurisdiction.objects.filter(code__in=codes))


def infer_level(code: str, parent_code: str | None) -> str:
    """The level an official code implies: 12 digits a community, 9 a township; 6 digits a
    district, or the city when no parent is given and the code ends in 0000 (GB/T 2260)."""
    if len(code) == 12:
        return Level.COMMUNITY
    if len(code) == 9:
        return Level.TOWNSHIP
    if parent_code is None and code.endswith("0000"):
        return Level.CITY
    return Level.DISTRICT


def nested_parent_code(code: str, level: str) -> str | None:
    """A township's district and a community's township follow from the code's prefix."""
    if level == Level.TOWNSHIP and len(code) == 9:
        return code[:6]
    if level == Level.COMMUNITY and len(code) == 12:
        return code[:9]
    return None


def no_such_place(code: str) -> str:
    return _("No jurisdiction has the code %(code)s, in the database or on an earlier row") % {
        "code": code
    }


def no_such_nested_parent(code: str) -> str:
    return _(
        "Its parent %(code)s (the first digits of its code) is neither in the database nor on "
        "an earlier row"
    ) % {"code": code}


def wrong_level(place: Jurisdiction, expected: str) -> str:
    return _("%(code)s %(name)s is a %(level)s, not a %(expected)s") % {
        "code": place.code,
        "name": place.name,
        "level": place.get_level_display(),
        "expected": Level(expected).label,
    }


class JurisdictionImporter(Importer):
    kind = "jurisdictions"
    title = gettext_lazy("jurisdictions")
    columns = (
        Column("code", ("代码", "行政区划代码", "区划代码"), cells.digits(6, 9, 12), required=True),
        Column("name", ("名称", "区划名称"), required=True),
        Column("name_en", ("英文名称", "区划英文名称")),
        Column("level", ("层级", "级别"), cells.choice(Level, LEVEL_WORDS)),
        Column("form", ("类型", "形态"), cells.choice(Jurisdiction.Form, FORM_WORDS)),
        Column("parent", ("上级代码", "上级"), cells.digits(6, 9)),
        Column("boundary", ("边界", "geometry"), cells.polygon, geometry=True),
    )

    def setup(self) -> None:
        self.places: Lookup[str, Jurisdiction] = Lookup(fetch_places)
        self.seen: dict[str, int] = {}

    def _codes(self, row: Row) -> tuple[str, str, str | None]:
        code: str = row["code"]
        level: str = row["level"] or infer_level(code, row["parent"])
        return code, level, row["parent"] or nested_parent_code(code, level)

    def prefetch(self, rows: list[Row]) -> None:
        for row in rows:
            code, _level, parent_code = self._codes(row)
            self.places.want(code, parent_code)
        self.places.load()

    def reserve(self, row: Row) -> None:
        self.places.spoil(row["code"])

    def check(self, row: Row) -> None:
        code, level, parent_code = self._codes(row)
        if code in self.seen:
            row.error("code", _("This code is already on row %(row)s") % {"row": self.seen[code]})
            return
        self.seen[code] = row.number
        if self.district is not None and code != self.district.code:
            if level in (Level.CITY, Level.DISTRICT):
                row.error(
                    "level",
                    _("Only townships and communities of %(district)s can be imported here")
                    % {"district": self.district.name},
                )
            else:
                self.outside_district(row, "code", code)
        parent = None
        if parent_code is not None:
            missing = no_such_place if row["parent"] else no_such_nested_parent
            parent = self.find(row, self.places, parent_code, "parent", missing)
        if row.failed:
            self.places.spoil(code)
            return
        values = {"code": code, "name": row["name"], "level": level, "parent": parent}
        if row.given("name_en"):
            values["name_en"] = row["name_en"] or ""
        if row.given("form"):
            values["form"] = row["form"] or ""
        if row.given("boundary"):
            values["boundary"] = row["boundary"]
        existing = self.places.get(code)
        place = self.plan(row, Jurisdiction, existing, values, key_column="code")
        if place is None:
            self.places.spoil(code)
        else:
            self.places.put(code, place)


class GridCellImporter(Importer):
    kind = "grid-cells"
    title = gettext_lazy("grid cells")
    columns = (
        Column("code", ("网格编码", "网格代码", "代码"), cells.digits(15), required=True),
        Column("community", ("社区代码", "所属社区"), cells.digits(12)),
        Column("boundary", ("边界", "geometry"), cells.polygon, geometry=True),
    )

    def setup(self) -> None:
        self.places: Lookup[str, Jurisdiction] = Lookup(fetch_places)
        self.cells: Lookup[str, GridCell] = Lookup(
            lambda codes: ((c.code, c) for c in GridCell.objects.filter(code__in=codes))
        )
        self.seen: dict[str, int] = {}

    def prefetch(self, rows: list[Row]) -> None:
        for row in rows:
            self.places.want(row["community"] or row["code"][:12])
            self.cells.want(row["code"])
        self.places.load()
        self.cells.load()

    def check(self, row: Row) -> None:
        code: str = row["code"]
        community_code: str = row["community"] or code[:12]
        if code in self.seen:
            row.error("code", _("This code is already on row %(row)s") % {"row": self.seen[code]})
            return
        self.seen[code] = row.number
        self.outside_district(row, "code", code)
        community = self.find(row, self.places, community_code, "community", no_such_place)
        if community is not None and community.level != Level.COMMUNITY:
            row.error("community", wrong_level(community, Level.COMMUNITY))
        if row.failed:
            return
        values = {"code": code, "community": community}
        if row.given("boundary"):
            values["boundary"] = row["boundary"]
        self.plan(row, GridCell, self.cells.get(code), values, key_column="code")


def fetch_lanes(keys: list[tuple[str, str]]) -> Iterable[tuple[tuple[str, str], Lane]]:
    # The township's code is all a lane's key needs; its whole row (and boundary) is not.
    lanes = Lane.objects.filter(
        township__code__in={t for t, _n in keys}, name__in={n for _t, n in keys}
    ).annotate(township_code=F("township__code"))
    return (((lane.township_code, lane.name), lane) for lane in lanes)


class LaneImporter(Importer):
    kind = "lanes"
    title = gettext_lazy("lanes")
    columns = (
        Column("name", ("名称", "街巷名称", "街巷"), required=True),
        Column("township", ("街乡代码", "街道代码", "乡镇代码", "街乡"), cells.digits(9)),
        Column("community", ("社区代码", "社区"), cells.digits(12)),
        Column(
            "centre_line",
            ("中心线", "center_line", "geometry"),
            cells.line,
            required=True,
            geometry=True,
        ),
        Column("checklist", ("巡查清单", "巡查项目"), cells.split_items),
    )

    def setup(self) -> None:
        self.places: Lookup[str, Jurisdiction] = Lookup(fetch_places)
        self.lanes: Lookup[tuple[str, str], Lane] = Lookup(fetch_lanes)
        self.seen: dict[tuple[str, str], int] = {}

    @staticmethod
    def _township_code(row: Row) -> str | None:
        community: str | None = row["community"]
        return row["township"] or (community[:9] if community else None)

    def prefetch(self, rows: list[Row]) -> None:
        for row in rows:
            township_code = self._township_code(row)
            self.places.want(township_code, row["community"])
            if township_code:
                self.lanes.want((township_code, row["name"]))
        self.places.load()
        self.lanes.load()

    def check(self, row: Row) -> None:
        township_code = self._township_code(row)
        if township_code is None:
            row.error("township", _("Give the township's code (or the community's)"))
            return
        key = (township_code, row["name"])
        if key in self.seen:
            row.error(
                "name",
                _("This lane is already on row %(row)s, in the same township")
                % {"row": self.seen[key]},
            )
            return
        self.seen[key] = row.number
        if self.outside_district(row, "township", township_code):
            return
        township = self.find(row, self.places, township_code, "township", no_such_place)
        if township is not None and township.level != Level.TOWNSHIP:
            row.error("township", wrong_level(township, Level.TOWNSHIP))
        community = None
        if row["community"]:
            community = self.find(row, self.places, row["community"], "community", no_such_place)
            if community is not None and community.level != Level.COMMUNITY:
                row.error("community", wrong_level(community, Level.COMMUNITY))
        if row.failed:
            return
        values = {"name": row["name"], "township": township, "centre_line": row["centre_line"]}
        if row.given("community"):
            values["community"] = community
        if row.given("checklist"):
            values["checklist"] = row["checklist"] or []
        lane = self.plan(row, Lane, self.lanes.get(key), values, key_column="name")
        if lane is not None:
            self.lanes.put(key, lane)
