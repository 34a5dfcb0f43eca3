"""Problem categories after the national standard of digital urban management.

Major classes and their 2-digit codes are those of GB/T 30428.2 (components: 01 公用设施 …
06 其他设施; events: 01 市容环境 … 06 扩展事件). The subclasses live in
``categories.csv``, one a row: kind, 4-digit code (major + subclass), name, English name,
the sectors usually responsible (space-separated codes), the time limit to resolve, how
urgent the first response is, keywords (space-separated) and English keywords
(comma-separated, for they hold spaces). Subclass codes follow the standard's
numbering where it is well known (the manhole covers 0101–0111, for instance); the
extension events (06xx) are local, as the standard intends, and hold the items of the alley
stewards' "ten noes" list and of the source article.

Time limits follow common practice in Beijing: road cleaning 2 working hours, exposed
garbage 4 working hours, an illegal building stopped within 4 working hours, emergencies
in natural minutes and hours.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from whistle.policies.models import CategoryKind, DurationUnit

# (kind, code, name, English name)
MAJOR_CLASSES: list[tuple[CategoryKind, str, str, str]] = [
    (CategoryKind.COMPONENT, "01", "公用设施", "Public utilities"),
    (CategoryKind.COMPONENT, "02", "道路交通", "Roads and traffic"),
    (CategoryKind.COMPONENT, "03", "市容环境", "Cityscape and environment"),
    (CategoryKind.COMPONENT, "04", "园林绿化", "Parks and greenery"),
    (CategoryKind.COMPONENT, "05", "房屋土地", "Buildings and land"),
    (CategoryKind.COMPONENT, "06", "其他设施", "Other facilities"),
    (CategoryKind.EVENT, "01", "市容环境", "Cityscape and environment"),
    (CategoryKind.EVENT, "02", "宣传广告", "Advertising"),
    (CategoryKind.EVENT, "03", "施工管理", "Construction"),
    (CategoryKind.EVENT, "04", "突发事件", "Emergencies"),
    (CategoryKind.EVENT, "05", "街面秩序", "Street order"),
    (CategoryKind.EVENT, "06", "扩展事件", "Local events"),
]

Limit = tuple[int, DurationUnit]

# How fast the responsible department must acknowledge a case and be on site.
URGENCY: dict[str, Limit] = {
    "routine": (30, DurationUnit.NATURAL_MINUTES),
    "urgent": (10, DurationUnit.NATURAL_MINUTES),
    "emergency": (5, DurationUnit.NATURAL_MINUTES),
}

CSV_PATH = Path(__file__).with_name("categories.csv")


@dataclass(frozen=True)
class CategoryData:
    kind: CategoryKind
    major: str
    code: str
    name: str
    name_en: str
    sectors: tuple[str, ...]
    acknowledge: Limit
    resolve: Limit
    keywords: str  # comma-separated, as Category.keywords stores them
    keywords_en: str  # comma-separated, as Category.keywords_en stores them


@cache
def categories() -> tuple[CategoryData, ...]:
    with CSV_PATH.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    result = []
    for row in rows:
        result.append(
            CategoryData(
                kind=CategoryKind(row["kind"]),
                major=row["code"][:2],
                code=row["code"][2:],
                name=row["name"],
                name_en=row["name_en"],
                sectors=tuple(row["sectors"].split()),
                acknowledge=URGENCY[row["urgency"]],
                resolve=(int(row["resolve_within"]), DurationUnit(row["resolve_unit"])),
                keywords=",".join(row["keywords"].split()),
                keywords_en=row["keywords_en"],
            )
        )
    return tuple(result)
