"""Sectors, the districts' departments and the township 1+5+N enforcement centres.

Department names follow Dongcheng's usage around 2018, when the mechanism started: the
district's functional departments (委办局), their agencies dispatched to the townships
(派出所, 市场监管所, 食药所, fire stations, traffic teams) and one urban-management
enforcement team (城管执法队) per township, the core of its centre. Xicheng, the small
second district, has the same per-township agencies and only a few functional departments.
"""

from __future__ import annotations

from dataclasses import dataclass

from whistle.demo.data import places
from whistle.demo.data.places import (
    DISTRICT_SLUG,
    TOWNSHIPS,
    XICHENG_SLUG,
    XICHENG_TOWNSHIPS,
    TownshipData,
    district,
)

# code → (name, English name)
SECTORS: dict[str, tuple[str, str]] = {
    "urban_management": ("城市管理", "Urban management"),
    "public_security": ("公安", "Public security"),
    "fire": ("消防", "Fire and rescue"),
    "traffic": ("交通", "Traffic"),
    "market_regulation": ("市场监管", "Market regulation"),
    "food_drugs": ("食品药品", "Food and drugs"),
    "housing": ("房屋管理", "Housing"),
    "planning_land": ("规划国土", "Planning and land"),
    "parks": ("园林绿化", "Parks and greening"),
    "culture": ("文化", "Culture"),
    "water": ("水务", "Water"),
    "environment": ("生态环境", "Ecology and environment"),
    "construction": ("住建", "Housing and construction"),
    "health": ("卫生健康", "Health"),
    "civil_affairs": ("民政", "Civil affairs"),
    "power": ("供电", "Power supply"),
    "gas": ("燃气", "Gas"),
    "heating": ("热力", "Heating"),
    "telecom": ("通信", "Telecommunications"),
}


@dataclass(frozen=True)
class FunctionalDepartment:
    code: str  # appended to the district's slug: "dc-" + code
    name: str
    name_en: str
    sector: str


FUNCTIONAL_DEPARTMENTS: list[FunctionalDepartment] = [
    FunctionalDepartment(
        "cgzfj",
        "东城区城管执法局",
        "Dongcheng District Urban Management and Law Enforcement Bureau",
        "urban_management",
    ),
    FunctionalDepartment(
        "gafj", "东城区公安分局", "Dongcheng District Public Security Sub-bureau", "public_security"
    ),
    FunctionalDepartment(
        "xfjyzd", "东城区消防救援支队", "Dongcheng District Fire and Rescue Detachment", "fire"
    ),
    FunctionalDepartment(
        "jtzd", "东城区交通支队", "Dongcheng District Traffic Management Detachment", "traffic"
    ),
    FunctionalDepartment(
        "scjgj",
        "东城区市场监管局",
        "Dongcheng District Administration for Market Regulation",
        "market_regulation",
    ),
    FunctionalDepartment(
        "syjgj",
        "东城区食品药品监管局",
        "Dongcheng District Food and Drug Administration",
        "food_drugs",
    ),
    FunctionalDepartment(
        "fgj", "东城区房管局", "Dongcheng District Housing Administration Bureau", "housing"
    ),
    FunctionalDepartment(
        "ghzrzyfj",
        "东城区规划和自然资源分局",
        "Dongcheng District Branch of the Planning and Natural Resources Commission",
        "planning_land",
    ),
    FunctionalDepartment(
        "ylj", "东城区园林绿化局", "Dongcheng District Landscaping and Greening Bureau", "parks"
    ),
    FunctionalDepartment(
        "whlyj", "东城区文化和旅游局", "Dongcheng District Culture and Tourism Bureau", "culture"
    ),
    FunctionalDepartment("swj", "东城区水务局", "Dongcheng District Water Authority", "water"),
    FunctionalDepartment(
        "sthjj",
        "东城区生态环境局",
        "Dongcheng District Ecology and Environment Bureau",
        "environment",
    ),
    FunctionalDepartment(
        "zjw",
        "东城区住建委",
        "Dongcheng District Housing and Urban-Rural Development Commission",
        "construction",
    ),
    FunctionalDepartment(
        "wjw", "东城区卫生健康委", "Dongcheng District Health Commission", "health"
    ),
    FunctionalDepartment(
        "mzj", "东城区民政局", "Dongcheng District Civil Affairs Bureau", "civil_affairs"
    ),
    FunctionalDepartment(
        "gdgs", "国网东城供电公司", "State Grid Dongcheng Power Supply Company", "power"
    ),
    FunctionalDepartment("rqgs", "燃气集团东城分公司", "Beijing Gas Group Dongcheng Branch", "gas"),
    FunctionalDepartment(
        "rlgs", "热力集团东城分公司", "Beijing District Heating Group Dongcheng Branch", "heating"
    ),
    FunctionalDepartment(
        "txbz", "东城区通信保障中心", "Dongcheng District Communications Support Centre", "telecom"
    ),
]


XICHENG_FUNCTIONAL_DEPARTMENTS: list[FunctionalDepartment] = [
    FunctionalDepartment(
        "cgzfj",
        "西城区城管执法局",
        "Xicheng District Urban Management and Law Enforcement Bureau",
        "urban_management",
    ),
    FunctionalDepartment(
        "gafj", "西城区公安分局", "Xicheng District Public Security Sub-bureau", "public_security"
    ),
    FunctionalDepartment(
        "scjgj",
        "西城区市场监管局",
        "Xicheng District Administration for Market Regulation",
        "market_regulation",
    ),
    FunctionalDepartment(
        "fgj", "西城区房管局", "Xicheng District Housing Administration Bureau", "housing"
    ),
    FunctionalDepartment(
        "ylj", "西城区园林绿化局", "Xicheng District Landscaping and Greening Bureau", "parks"
    ),
    FunctionalDepartment(
        "ghzrzyfj",
        "西城区规划和自然资源分局",
        "Xicheng District Branch of the Planning and Natural Resources Commission",
        "planning_land",
    ),
    FunctionalDepartment(
        "whlyj", "西城区文化和旅游局", "Xicheng District Culture and Tourism Bureau", "culture"
    ),
    FunctionalDepartment("swj", "西城区水务局", "Xicheng District Water Authority", "water"),
]


@dataclass(frozen=True)
class PerTownshipAgency:
    """An agency with one unit in every township, named after it."""

    suffix: str  # department code: f"{district slug}-{township slug}-{suffix}"
    name: str  # formatted with the township's short name
    name_en: str  # formatted with the township's short name in pinyin
    sector: str
    kind: str  # Department.Kind value


TOWNSHIP_TEAM = PerTownshipAgency(
    "cgzfd",
    "{township}街道城管执法队",
    "{township} Subdistrict Urban Management and Law Enforcement Team",
    "urban_management",
    "township_team",
)
PER_TOWNSHIP_AGENCIES: list[PerTownshipAgency] = [
    PerTownshipAgency(
        "pcs", "{township}派出所", "{township} Police Station", "public_security", "dispatched"
    ),
    PerTownshipAgency(
        "scjgs",
        "{township}市场监管所",
        "{township} Market Regulation Office",
        "market_regulation",
        "dispatched",
    ),
    PerTownshipAgency(
        "sys", "{township}食药所", "{township} Food and Drug Office", "food_drugs", "dispatched"
    ),
]


@dataclass(frozen=True)
class SharedAgency:
    """A dispatched agency serving several townships, such as a fire station."""

    code: str  # appended to the district's slug
    name: str
    name_en: str
    sector: str
    serves: tuple[str, ...]  # township serials in the agency's district


SHARED_AGENCIES: list[SharedAgency] = [
    SharedAgency(
        "xfz-hepingli",
        "和平里消防救援站",
        "Hepingli Fire and Rescue Station",
        "fire",
        ("010", "004", "003"),
    ),
    SharedAgency(
        "xfz-dongzhimen",
        "东直门消防救援站",
        "Dongzhimen Fire and Rescue Station",
        "fire",
        ("009", "005", "006", "007"),
    ),
    SharedAgency(
        "xfz-wangfujing",
        "王府井消防救援站",
        "Wangfujing Fire and Rescue Station",
        "fire",
        ("001", "002", "008"),
    ),
    SharedAgency(
        "xfz-chongwenmen",
        "崇文门消防救援站",
        "Chongwenmen Fire and Rescue Station",
        "fire",
        ("011", "012", "013"),
    ),
    SharedAgency(
        "xfz-tiantan",
        "天坛消防救援站",
        "Tiantan Fire and Rescue Station",
        "fire",
        ("016", "015", "014", "017"),
    ),
    SharedAgency(
        "jtdd-hepingli",
        "东城交通支队和平里大队",
        "Hepingli Brigade of the Dongcheng Traffic Management Detachment",
        "traffic",
        ("010", "004", "003", "005"),
    ),
    SharedAgency(
        "jtdd-dongzhimen",
        "东城交通支队东直门大队",
        "Dongzhimen Brigade of the Dongcheng Traffic Management Detachment",
        "traffic",
        ("009", "007", "006", "002"),
    ),
    SharedAgency(
        "jtdd-dongdan",
        "东城交通支队东单大队",
        "Dongdan Brigade of the Dongcheng Traffic Management Detachment",
        "traffic",
        ("001", "008", "011", "012"),
    ),
    SharedAgency(
        "jtdd-tiantan",
        "东城交通支队天坛大队",
        "Tiantan Brigade of the Dongcheng Traffic Management Detachment",
        "traffic",
        ("013", "014", "015", "016", "017"),
    ),
]

XICHENG_SHARED_AGENCIES: list[SharedAgency] = [
    SharedAgency(
        "xfz-fuyoujie",
        "府右街消防救援站",
        "Fuyoujie Fire and Rescue Station",
        "fire",
        ("001", "003", "007"),
    ),
    SharedAgency(
        "jtdd-xidan",
        "西城交通支队西单大队",
        "Xidan Brigade of the Xicheng Traffic Management Detachment",
        "traffic",
        ("001", "003", "007"),
    ),
]

# The five sectors with people stationed in every township's centre (the "5" of 1+5+N).
STATIONED_SECTORS: tuple[str, ...] = (
    "public_security",
    "fire",
    "traffic",
    "market_regulation",
    "food_drugs",
)

# The district departments with named people on call for every centre (the "N").
ON_CALL_DEPARTMENTS: tuple[str, ...] = (
    "fgj",
    "ghzrzyfj",
    "ylj",
    "whlyj",
    "swj",
    "sthjj",
    "zjw",
    "gdgs",
    "rqgs",
)

# Officers each department has in the demo (more would only slow the demo down).
OFFICERS_PER_DEPARTMENT = 2


@dataclass(frozen=True)
class DepartmentData:
    code: str
    name: str
    name_en: str
    kind: str  # Department.Kind value
    sector: str
    serves: tuple[str, ...]  # township codes; empty for the whole district
    district: str  # the district's code


def departments() -> list[DepartmentData]:
    """Every department of the demo districts, each district's functional ones first."""
    return _departments(
        DISTRICT_SLUG, FUNCTIONAL_DEPARTMENTS, TOWNSHIPS, SHARED_AGENCIES
    ) + _departments(
        XICHENG_SLUG, XICHENG_FUNCTIONAL_DEPARTMENTS, XICHENG_TOWNSHIPS, XICHENG_SHARED_AGENCIES
    )


def _departments(
    slug: str,
    functional: list[FunctionalDepartment],
    townships: list[TownshipData],
    shared: list[SharedAgency],
) -> list[DepartmentData]:
    code = townships[0].district
    result = [
        DepartmentData(f"{slug}-{d.code}", d.name, d.name_en, "functional", d.sector, (), code)
        for d in functional
    ]
    for township in townships:
        for agency in (TOWNSHIP_TEAM, *PER_TOWNSHIP_AGENCIES):
            result.append(
                DepartmentData(
                    township_department_code(township, agency),
                    agency.name.format(township=township.name),
                    agency.name_en.format(township=township.short_name_en),
                    agency.kind,
                    agency.sector,
                    (township.code,),
                    code,
                )
            )
    result.extend(
        DepartmentData(
            f"{slug}-{a.code}",
            a.name,
            a.name_en,
            "dispatched",
            a.sector,
            tuple(code + serial for serial in a.serves),
            code,
        )
        for a in shared
    )
    return result


def township_department_code(township: TownshipData, agency: PerTownshipAgency) -> str:
    return f"{district(township.district).slug}-{township.slug}-{agency.suffix}"


def station_of(data: DepartmentData) -> tuple[float, float] | None:
    """Where a department of 东城区 sets out from in the demo, for the 30-minute reach: the
    middle of the townships it serves, or of the whole district for a district-wide one. The
    demo's other districts leave their stations unknown."""
    if data.district != places.DISTRICT_CODE:
        return None
    served = [t for t in places.TOWNSHIPS if not data.serves or t.code in data.serves]
    middles = [places.centre_of(t.extent) for t in served]
    return (
        round(sum(lon for lon, _lat in middles) / len(middles), 5),
        round(sum(lat for _lon, lat in middles) / len(middles), 5),
    )
