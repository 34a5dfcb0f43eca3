"""The sizes of a simulated city: Beijing's published figures, Dongcheng's share of them.

Beijing (docs/domain.md, "Scale to design for"): 16 districts, 343 townships, about 7,000
communities, about 50,000 lanes, about 15,000 chiefs and 20,000 stewards, 21.4 million
hotline requests in 2023 and about 20 million summonses a year. Dongcheng has 17 street
offices and about 180 communities; its lanes, people and cases are Beijing's in proportion
to its townships (17 of 343). `scaled` shrinks or grows every count by one factor, so that a
test or a laptop runs the same city in miniature.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class CityShape:
    """How many of each thing a simulated city has, and how many cases a year it sees."""

    districts: int
    townships: int
    communities: int
    lanes: int
    departments_per_district: int
    chiefs: int
    stewards: int
    cases_per_year: int

    def scaled(self, factor: float) -> CityShape:
        """Every count times `factor`, with at least one of each thing below its parent
        (and at least as many townships as districts, communities as townships)."""
        if factor <= 0:
            raise ValueError("the scale must be above 0")
        counts = {f.name: max(1, math.ceil(getattr(self, f.name) * factor)) for f in fields(self)}
        # A district always has its full set of departments: the assessment ranks them.
        counts["departments_per_district"] = self.departments_per_district
        counts["townships"] = max(counts["townships"], counts["districts"])
        counts["communities"] = max(counts["communities"], counts["townships"])
        counts["lanes"] = max(counts["lanes"], counts["communities"])
        return replace(self, **counts)


BEIJING = CityShape(
    districts=16,
    townships=343,
    communities=7_000,
    lanes=50_000,
    departments_per_district=40,
    chiefs=14_900,
    stewards=20_000,
    cases_per_year=21_400_000,
)


def _share_of_beijing(townships: int, communities: int) -> CityShape:
    share = townships / BEIJING.townships
    return CityShape(
        districts=1,
        townships=townships,
        communities=communities,
        lanes=round(BEIJING.lanes * share),
        departments_per_district=BEIJING.departments_per_district,
        chiefs=round(BEIJING.chiefs * share),
        stewards=round(BEIJING.stewards * share),
        cases_per_year=round(BEIJING.cases_per_year * share),
    )


PRESETS: dict[str, CityShape] = {
    "dongcheng": _share_of_beijing(townships=17, communities=180),
    "beijing": BEIJING,
}

# What `--quick` multiplies a preset by: a city that builds and lives a year in seconds.
QUICK_SCALE = 0.001
