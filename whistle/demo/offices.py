"""The demo's street-office units: every township of Dongcheng gets the units the reform
set up — six offices, the discipline committee, the comprehensive enforcement team and four
centres — each with its English name and its responsibility list, and the district's
categories routed to the office or team that handles them. In the demo township the
dispatcher works in the grid centre and the township assessor in the general office.

Runs first among the steps (whistle.demo.builders.BUILDERS), so that the history's cases
are routed to their offices as they are reported. Written through
`whistle.policies.offices.import_units` (logged as an import); running it again changes
nothing.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from whistle.organisation.models import Jurisdiction, Person, TownshipUnit
from whistle.policies.models import Category, CategoryKind
from whistle.policies.offices import ImportedUnit, UnitInput, import_units

OFFICE = TownshipUnit.Kind.OFFICE
C, E = CategoryKind.COMPONENT, CategoryKind.EVENT

# (kind, name, English name, responsibility list, categories as (component or event, 4-digit
# code)). The English names are the common official translations.
UNITS: list[tuple[str, str, str, list[str], list[tuple[str, str]]]] = [
    (
        OFFICE,
        "综合保障办公室",
        "General Affairs Office",
        [
            "机关日常运转、文电会务、机要保密和档案管理",
            "财务、资产和后勤保障",
            "人事管理和干部考核",
            "统计、信息化建设和政务公开",
        ],
        [],
    ),
    (
        OFFICE,
        "党群工作办公室",
        "Party-Masses Work Office",
        [
            "基层党组织建设、党员教育管理",
            "宣传思想、统一战线和精神文明建设",
            "工会、共青团、妇联等群团工作",
            "志愿服务组织和社会动员",
        ],
        [],
    ),
    (
        OFFICE,
        "社区建设办公室",
        "Community Building Office",
        [
            "社区建设和社区治理，指导社区居委会工作",
            "物业管理指导和老旧小区综合整治",
            "社区服务和社会组织培育",
            "文化、教育和全民健身",
        ],
        [(E, "0607"), (E, "0612")],
    ),
    (
        OFFICE,
        "民生保障办公室",
        "Livelihood Security Office",
        [
            "社会保障、就业和社会救助",
            "民政、残疾人和老龄工作",
            "卫生健康和计划生育服务",
            "退役军人服务保障",
        ],
        [(E, "0507")],
    ),
    (
        OFFICE,
        "社区平安办公室",
        "Community Safety Office",
        [
            "社会治安综合治理和矛盾纠纷排查化解",
            "安全生产和消防安全监管",
            "应急管理、防汛和突发事件处置",
            "流动人口和出租房屋管理",
            "信访和维护稳定",
        ],
        [
            (C, "0122"),
            (C, "0501"),
            (C, "0502"),
            (C, "0503"),
            (C, "0601"),
            (E, "0403"),
            (E, "0605"),
            (E, "0608"),
            (E, "0610"),
            (E, "0611"),
        ],
    ),
    (
        OFFICE,
        "城市管理办公室",
        "Urban Management Office",
        [
            "环境卫生、垃圾分类和街巷环境整治",
            "街巷长制和背街小巷精细化管理",
            "市政设施、园林绿化和架空线管理",
            "停车秩序和交通设施协调",
            "工地和施工管理协调",
        ],
        [
            (C, "0101"),
            (C, "0102"),
            (C, "0103"),
            (C, "0104"),
            (C, "0105"),
            (C, "0107"),
            (C, "0110"),
            (C, "0111"),
            (C, "0116"),
            (C, "0203"),
            (C, "0210"),
            (C, "0211"),
            (C, "0214"),
            (C, "0301"),
            (C, "0303"),
            (C, "0307"),
            (C, "0401"),
            (C, "0402"),
            (C, "0405"),
            (C, "0602"),
            (E, "0102"),
            (E, "0103"),
            (E, "0104"),
            (E, "0105"),
            (E, "0106"),
            (E, "0107"),
            (E, "0108"),
            (E, "0202"),
            (E, "0205"),
            (E, "0301"),
            (E, "0302"),
            (E, "0303"),
            (E, "0304"),
            (E, "0305"),
            (E, "0401"),
            (E, "0402"),
            (E, "0404"),
            (E, "0405"),
            (E, "0406"),
            (E, "0407"),
            (E, "0504"),
            (E, "0505"),
            (E, "0603"),
            (E, "0604"),
            (E, "0606"),
            (E, "0609"),
        ],
    ),
    (
        TownshipUnit.Kind.DISCIPLINE,
        "纪工委",
        "Discipline Inspection Work Committee",
        [
            "监督执纪问责，党风廉政建设",
            "受理对党员干部的检举控告",
            "监督派驻部门和工作人员履职",
        ],
        [],
    ),
    (
        TownshipUnit.Kind.ENFORCEMENT,
        "综合执法队",
        "Comprehensive Law Enforcement Team",
        [
            "以城管执法为主体，统一行使下沉的执法权",
            "违法建设、占道经营、无照经营的查处",
            "牵头公安、市场监管、交通、消防等部门联合执法",
        ],
        [
            (E, "0101"),
            (E, "0201"),
            (E, "0203"),
            (E, "0204"),
            (E, "0501"),
            (E, "0502"),
            (E, "0503"),
            (E, "0506"),
            (E, "0601"),
            (E, "0602"),
        ],
    ),
    (
        TownshipUnit.Kind.CENTRE,
        "党群服务中心",
        "Party-Masses Service Centre",
        ["党员活动和教育阵地", "群众诉求收集和志愿服务对接"],
        [],
    ),
    (
        TownshipUnit.Kind.CENTRE,
        "市民服务中心",
        "Citizen Service Centre",
        ["政务服务事项一站式受理", "社会保障、民政、计生等服务窗口"],
        [],
    ),
    (
        TownshipUnit.Kind.CENTRE,
        "网格化服务管理中心",
        "Grid Service Management Centre",
        [
            "网格巡查和问题发现",
            "接诉即办：12345 工单的受理、派遣和回访",
            "吹哨报到的指挥调度",
        ],
        [],
    ),
    (
        TownshipUnit.Kind.CENTRE,
        "综治中心",
        "Comprehensive Governance Centre",
        ["综治维稳信息汇集研判", "矛盾纠纷多元调解", "视频监控和群防群治"],
        [],
    ),
]

# In the demo township: the unit a demo login works in.
MEMBERS = {"网格化服务管理中心": ["dispatcher"], "综合保障办公室": ["township-assessor"]}


def build(city: Any) -> str:
    district = city.district
    categories = {
        (c.major.kind, c.full_code): c
        for c in Category.objects.filter(major__district=district).select_related("major")
    }
    townships = list(
        Jurisdiction.objects.filter(parent=district, level=Jurisdiction.Level.TOWNSHIP).order_by(
            "code"
        )
    )
    people = {
        p.username: p
        for p in Person.objects.filter(username__in=[u for us in MEMBERS.values() for u in us])
    }
    # An English name the district gave a unit since is left alone.
    named = set(
        TownshipUnit.objects.filter(township__in=townships)
        .exclude(name_en="")
        .values_list("township_id", "name")
    )
    rows: list[ImportedUnit] = []
    for township in townships:
        for position, (kind, name, name_en, duties, routed) in enumerate(UNITS, start=1):
            members: list[Person] = []
            if township.pk == city.demo_township.pk:
                members = [people[u] for u in MEMBERS.get(name, []) if u in people]
            rows.append(
                ImportedUnit(
                    line=len(rows) + 1,
                    township=township,
                    data=UnitInput(
                        kind=kind,
                        name=name,
                        name_en=None if (township.pk, name) in named else name_en,
                        responsibilities=duties,
                        categories=[categories[key] for key in routed if key in categories],
                        members=members,
                        position=position,
                    ),
                )
            )
    problems = import_units(rows)
    if problems:
        raise RuntimeError("; ".join(f"{line}: {message}" for line, message in problems))
    return _("Street-office units: %(units)s in %(townships)s townships.") % {
        "units": len(rows),
        "townships": len(townships),
    }
