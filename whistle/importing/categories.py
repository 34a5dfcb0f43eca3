"""Import of problem categories: major classes and subclasses with their time limits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from whistle.importing import cells
from whistle.importing.base import Column, Importer, Lookup, Row, model_field
from whistle.importing.departments import SectorIndex
from whistle.importing.places import fetch_places, no_such_place, wrong_level
from whistle.organisation.models import Jurisdiction
from whistle.policies.models import Category, CategoryKind, DurationUnit, MajorClass

UNIT_WORDS = {
    "分钟": DurationUnit.NATURAL_MINUTES,
    "分": DurationUnit.NATURAL_MINUTES,
    "minutes": DurationUnit.NATURAL_MINUTES,
    "min": DurationUnit.NATURAL_MINUTES,
    "小时": DurationUnit.NATURAL_HOURS,
    "hours": DurationUnit.NATURAL_HOURS,
    "h": DurationUnit.NATURAL_HOURS,
    "天": DurationUnit.NATURAL_DAYS,
    "日": DurationUnit.NATURAL_DAYS,
    "days": DurationUnit.NATURAL_DAYS,
    "工作时": DurationUnit.WORKING_HOURS,
    "工作天": DurationUnit.WORKING_DAYS,
}
KIND_WORDS = {"部件类": CategoryKind.COMPONENT, "事件类": CategoryKind.EVENT}

# Each time limit: (column of the number, column of its unit).
LIMITS = (
    ("acknowledge_within", "acknowledge_unit"),
    ("resolve_within", "resolve_unit"),
)

MajorKey = tuple[str, str, str]  # district code, component or event, major class code
CategoryKey = tuple[str, str, str, str]  # … and subclass code


def fetch_majors(keys: list[MajorKey]) -> Iterable[tuple[MajorKey, MajorClass]]:
    majors = MajorClass.objects.filter(
        district__code__in={k[0] for k in keys}, code__in={k[2] for k in keys}
    ).select_related("district")
    return (((m.district.code, m.kind, m.code), m) for m in majors)


def fetch_categories(keys: list[CategoryKey]) -> Iterable[tuple[CategoryKey, Category]]:
    categories = (
        Category.objects.filter(
            major__district__code__in={k[0] for k in keys},
            major__code__in={k[2] for k in keys},
            code__in={k[3] for k in keys},
        )
        .select_related("major__district")
        .prefetch_related("responsible_sectors")
    )
    return (((c.major.district.code, c.major.kind, c.major.code, c.code), c) for c in categories)


class CategoryImporter(Importer):
    kind = "categories"
    title = gettext_lazy("categories")
    columns = (
        Column("district", ("所属区", "区代码", "区"), cells.digits(6)),
        Column(
            "kind",
            ("部件或事件", "类别", "类型"),
            cells.choice(CategoryKind, KIND_WORDS),
            required=True,
        ),
        Column("major_code", ("大类代码",), cells.digits(2)),
        Column("major_name", ("大类名称", "大类")),
        Column("major_name_en", ("大类英文名称",)),
        Column("code", ("小类代码", "代码"), cells.digits(2, 4), required=True),
        Column("name", ("小类名称", "名称"), required=True),
        Column("name_en", ("小类英文名称", "英文名称")),
        Column("keywords", ("关键词",), cells.split_items),
        Column("keywords_en", ("英文关键词",), cells.split_items),
        Column(
            "responsible_sectors",
            ("通常负责的职能领域", "责任领域", "主责领域", "职能领域"),
            cells.split_items,
        ),
        Column("acknowledge_within", ("签收时限",), cells.positive_integer),
        Column("acknowledge_unit", ("签收时限单位",), cells.choice(DurationUnit, UNIT_WORDS)),
        Column("resolve_within", ("处置时限",), cells.positive_integer),
        Column("resolve_unit", ("处置时限单位",), cells.choice(DurationUnit, UNIT_WORDS)),
        Column("active", ("启用", "是否启用"), cells.boolean),
    )

    def setup(self) -> None:
        self.places: Lookup[str, Jurisdiction] = Lookup(fetch_places)
        self.majors: Lookup[MajorKey, MajorClass] = Lookup(fetch_majors)
        self.categories: Lookup[CategoryKey, Category] = Lookup(fetch_categories)
        self.sectors = SectorIndex()
        self.major_rows: dict[MajorKey, tuple[int, str | None]] = {}
        self.seen: dict[CategoryKey, int] = {}

    def _key(self, row: Row) -> CategoryKey | None:
        district_code: str | None = row["district"] or (
            self.district.code if self.district is not None else None
        )
        code: str = row["code"]
        major_code: str | None = row["major_code"] or (code[:2] if len(code) == 4 else None)
        if district_code is None or major_code is None:
            return None
        return (district_code, row["kind"], major_code, code[-2:])

    def prefetch(self, rows: list[Row]) -> None:
        for row in rows:
            key = self._key(row)
            if key is not None:
                self.places.want(key[0])
                self.majors.want(key[:3])
                self.categories.want(key)
        for lookup in (self.places, self.majors, self.categories):
            lookup.load()

    def check(self, row: Row) -> None:
        code: str = row["code"]
        if row["district"] is None and self.district is None:
            row.error("district", _("Give the district's code, or import with --district"))
        if len(code) == 2 and row["major_code"] is None:
            row.error("major_code", _("Give the major class code, or a 4-digit subclass code"))
        if len(code) == 4 and row["major_code"] not in (None, code[:2]):
            row.error(
                "code",
                _("The 4-digit code %(code)s does not start with the major class code %(major)s")
                % {"code": code, "major": row["major_code"]},
            )
        key = self._key(row)
        if key is None or row.failed:
            return
        if key in self.seen:
            row.error("code", _("This code is already on row %(row)s") % {"row": self.seen[key]})
            return
        self.seen[key] = row.number
        if self.outside_district(row, "district", key[0]):
            return
        district = self.find(row, self.places, key[0], "district", no_such_place)
        if district is not None and district.level != Jurisdiction.Level.DISTRICT:
            row.error("district", wrong_level(district, Jurisdiction.Level.DISTRICT))
        sectors = self.sectors.resolve(row, "responsible_sectors", row["responsible_sectors"] or [])
        if row.failed:
            return
        major = self._major(row, key[:3], district)
        if major is None:
            return
        values: dict[str, Any] = {"major": major, "code": key[3], "name": row["name"]}
        if row.given("name_en"):
            values["name_en"] = row["name_en"] or ""
        if row.given("keywords"):
            values["keywords"] = ",".join(row["keywords"] or [])
        if row.given("keywords_en"):
            values["keywords_en"] = ",".join(row["keywords_en"] or [])
        for number, unit in LIMITS:
            for column in (number, unit):
                if row.given(column):
                    values[column] = row[column] or model_field(Category, column).get_default()
        if row.given("active"):
            values["is_active"] = True if row["active"] is None else row["active"]
        relations = {"responsible_sectors": sectors} if row.given("responsible_sectors") else {}
        category = self.plan(
            row,
            Category,
            self.categories.get(key),
            values,
            key_column="code",
            relations=relations,
        )
        if category is not None:
            self.categories.put(key, category)

    def _major(self, row: Row, key: MajorKey, district: Jurisdiction | None) -> MajorClass | None:
        """The row's major class: planned by the first row that names it, then shared."""
        name: str | None = row["major_name"]
        if key in self.major_rows:
            first_row, first_name = self.major_rows[key]
            if name and first_name and name != first_name:
                row.error(
                    "major_name",
                    _("Row %(row)s names this major class “%(name)s”")
                    % {"row": first_row, "name": first_name},
                )
                return None
            major = self.majors.get(key)
            if major is None:
                row.blocked = True
            return major
        self.major_rows[key] = (row.number, name)
        existing = self.majors.get(key)
        if existing is None and not name:
            row.error(
                "major_name",
                _("Major class %(code)s does not exist yet; give its name") % {"code": key[2]},
            )
            self.majors.spoil(key)
            return None
        values: dict[str, Any] = {"district": district, "kind": key[1], "code": key[2]}
        if name:
            values["name"] = name
        if row.given("major_name_en"):
            values["name_en"] = row["major_name_en"] or ""
        major = self.plan(
            row,
            MajorClass,
            existing,
            values,
            key_column="major_code",
            columns={
                "name": "major_name",
                "name_en": "major_name_en",
                "code": "major_code",
                "kind": "kind",
            },
        )
        if major is None:
            self.majors.spoil(key)
        else:
            self.majors.put(key, major)
        return major
