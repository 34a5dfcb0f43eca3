"""The API's permission matrix: every operation of the OpenAPI document, called by every
persona, answers the status the pages' rules give (whistle.cases.permissions and the
patrols' and the assessment's own): success for who may, 403 for who sees the target but may
not, 404 for who does not see it (or another's patrol), 401 without a token.

The targets are built once per operation, in every state an operation needs; each persona's
call runs in a savepoint that is rolled back, so every persona meets the same state. A
refused call writes nothing (the row counts of the domain tables stay as they were), except
the refusals the mechanism keeps in the trail. An operation added to the API without a row
here fails `test_every_operation_has_a_row`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import time_machine
from django.db import transaction

from tests.conftest import make_person
from tests.fixtures_api import ApiCity, api_city_fixture  # noqa: F401  (fixture)
from tests.fixtures_assessment import scheme_one_third
from tests.fixtures_cases import (
    ON_THE_LANE,
    beijing,
    png_bytes,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from tests.fixtures_cases import on_site as checked_in
from whistle.api.main import api
from whistle.assessment import actions as assessment
from whistle.assessment.engine import update_scores
from whistle.assessment.models import Appeal
from whistle.cases import actions
from whistle.cases.models import (
    Attachment,
    Case,
    Event,
    HotlineOrder,
    Summons,
    SupervisionNotice,
    Whistle,
)
from whistle.notifications.models import Notification
from whistle.organisation.models import Role
from whistle.patrols import actions as patrols
from whistle.patrols.models import CheckResult, Patrol, RoutePoint

START = beijing(2026, 3, 10, 8, 0)
NOW = beijing(2026, 3, 10, 11, 0)
PERSONAS = (
    "anonymous",
    "steward",
    "lane_chief",
    "dispatcher",
    "urban_officer",
    "fire_officer",
    "assessor",
    "district_assessor",
    "township_office",
    "district_office",
    "district_chief",
    "resident",
    "dongsi_dispatcher",
    "chaoyang_dispatcher",
)
# Those who do not see the cases of 龙潭街道.
OUTSIDE = frozenset({"resident", "dongsi_dispatcher", "chaoyang_dispatcher"})
LANE: dict[str, Any] = {"lon": ON_THE_LANE[0], "lat": ON_THE_LANE[1]}
DOMAIN_TABLES = (
    Case,
    Event,
    Summons,
    Whistle,
    SupervisionNotice,
    Attachment,
    Notification,
    Patrol,
    RoutePoint,
    CheckResult,
    Appeal,
    HotlineOrder,
)
# Refusals that are kept on the record (a trail event) on purpose.
RECORDED = frozenset({"check_in_too_far", "check_out_too_early"})


def row(ok: set[str], status: int = 200, hidden: frozenset[str] = OUTSIDE, **cells: int):
    expected = {p: status if p in ok else 404 if p in hidden else 403 for p in PERSONAS}
    expected["anonymous"] = 401
    expected.update(cells)
    return expected


EVERYONE = set(PERSONAS) - {"anonymous"}


class Clock:
    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> Any:
        self.at += timedelta(minutes=1)
        assert self.at < NOW
        return self.at


@dataclass
class Scene:
    """Targets in every state the operations need, by name."""

    refs: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)


def build(city: ApiCity) -> Scene:
    c = city.city
    tick = Clock()
    scene = Scene()
    scheme_one_third(c.district)

    def reported(name: str, **kw: Any) -> Case:
        case = actions.report_case(c.steward, description="占道", **LANE, now=tick(), **kw)
        scene.refs[name] = case.reference
        return case

    def filed(name: str) -> Case:
        case = reported(name)
        return actions.file_case(c.dispatcher, case, category=c.street_vending, now=tick())

    def whistled(name: str) -> Summons:
        case = filed(name)
        whistle = actions.blow_whistle(
            c.dispatcher, case, kind="routine", departments=[c.urban], now=tick()
        )
        scene.ids[f"{name}_whistle"] = str(whistle.uuid)
        summons = Summons.objects.get(whistle=whistle)
        scene.ids[name] = str(summons.uuid)
        return summons

    def on_site(name: str) -> Summons:
        return checked_in(c, whistled(name), acknowledged_at=tick(), at=tick())

    def closed(name: str) -> Summons:
        summons = on_site(name)
        actions.report_result(c.urban_officer, summons, result="已处理", now=tick())
        case = Case.objects.get(pk=summons.case_id)
        actions.mark_handled(c.dispatcher, case, now=tick())
        actions.check_passed(c.dispatcher, case, now=tick())
        actions.close_case(c.dispatcher, case, now=tick())
        return summons

    reported("reported")
    reported("other_reported")
    filed("filed")
    whistled("summoned")
    summons = whistled("acknowledged")
    actions.acknowledge(c.urban_officer, summons, now=tick())
    on_site("on_site")
    summons = on_site("released")
    actions.release(c.dispatcher, summons, now=tick())
    summons = whistled("flagged")
    actions.acknowledge(c.urban_officer, summons, now=tick())
    actions.check_in(c.urban_officer, summons, **LANE, source="typed", now=tick())
    case = filed("declined")
    summons = actions.dispatch_case(c.dispatcher, case, department=c.urban, now=tick())
    actions.decline(c.urban_officer, summons, reason="非本部门职责", now=tick())
    scene.ids["declined"] = str(summons.uuid)
    summons = on_site("handled")
    actions.report_result(c.urban_officer, summons, result="已处理", now=tick())
    actions.mark_handled(c.dispatcher, Case.objects.get(pk=summons.case_id), now=tick())
    summons = on_site("checked")
    actions.report_result(c.urban_officer, summons, result="已处理", now=tick())
    case = Case.objects.get(pk=summons.case_id)
    actions.mark_handled(c.dispatcher, case, now=tick())
    actions.check_passed(c.dispatcher, case, now=tick())
    closed("closed")
    case = filed("backlog")
    actions.put_on_backlog(
        c.dispatcher, case, reason="待拆迁", review_on=(NOW + timedelta(days=30)).date(), now=tick()
    )
    resident = actions.report_resident_case(
        name="王女士",
        description="垃圾",
        **LANE,
        reporter=c.resident,
        photos=[png_bytes()],
        now=tick(),
    ).case
    scene.refs["resident_closed"] = resident.reference
    scene.ids["resident_photo"] = resident.attachments.get().sha256
    actions.file_case(c.dispatcher, resident, category=c.exposed_garbage, now=tick())
    actions.solve_on_spot(c.dispatcher, resident, note="已清理", now=tick())
    actions.check_passed(c.dispatcher, resident, now=tick())
    actions.close_case(c.dispatcher, resident, now=tick())
    # 12345 work orders: one awaiting its reply, one replied to and awaiting the call-back.
    for name in ("hotline_in_progress", "hotline_awaiting", "hotline_replied"):
        taken = actions.take_hotline_order(
            c.dispatcher,
            number=f"ORDER-{name}",
            description="游商占道",
            caller_phone="13812341234",
            **LANE,
            now=tick(),
        )
        scene.ids[name] = taken.order.number
        if name == "hotline_in_progress":
            actions.record_hotline_reply(
                c.dispatcher,
                taken.case,
                kind="in_progress",
                reply="正在处理",
                promised_by=NOW + timedelta(days=3),
                now=tick(),
            )
    actions.record_hotline_reply(c.dispatcher, taken.case, kind="done", reply="已处理", now=tick())
    notice = actions.issue_supervision_notice(
        c.township_office,
        Case.objects.get(reference=scene.refs["filed"]),
        department=c.urban,
        text="请处理",
        due_at=NOW + timedelta(days=1),
        now=tick(),
    )
    scene.ids["notice"] = str(notice.uuid)
    at = tick()
    with time_machine.travel(at, tick=False):
        patrol = patrols.start_patrol(c.steward, lane=c.lane, now=at)
    scene.ids["patrol"] = str(patrol.uuid)
    scene.ids["patrol_item"] = patrol.checklist[0]["key"]
    # The assessment: the closed case's record, and an appeal of another closed one.
    summons = closed("appealed")
    at = tick()
    with time_machine.travel(at, tick=False):
        update_scores()
        head = make_person("urban-head-2", Role.DEPARTMENT_HEAD, department=c.urban)
        appeal = assessment.file_appeal(
            head, summons, "came", {"came": "on_time"}, "当时已到场", now=at
        )
    scene.ids["appeal"] = str(appeal.uuid)
    return scene


@dataclass(frozen=True)
class Op:
    method: str
    path: str
    expected: dict[str, int]
    body: Callable[[Scene], Any] | None = None


def fill(path: str, scene: Scene) -> str:
    # A case is named by its reference; everything under it (a summons, its record) by its UUID.
    if path.startswith("/cases/"):
        return path.format(**{**scene.ids, **scene.refs})
    return path.format(**{**scene.refs, **scene.ids})


def empty_body(scene: Scene) -> Any:
    return {}


SUMMONS_OK = row({"urban_officer"})
# Who takes 12345 work orders: the township's office where the problem lies, the district's
# chief and chiefs' office (the hotline platform's service account is the latter).
HOTLINE_TAKERS = {"dispatcher", "township_office", "district_office", "district_chief"}
HOTLINE_ORDER = {
    "order_number": "ORDER-NEW",
    "description": "游商占道",
    "caller_phone": "13812341234",
    **LANE,
}
TOWNSHIP_OK = row({"dispatcher"})

OPERATIONS: dict[str, Op] = {
    "list_cases": Op("GET", "/cases", row(EVERYONE)),
    "report_case": Op(
        "POST",
        "/cases",
        row(
            {
                "steward",
                "lane_chief",
                "dispatcher",
                "township_office",
                "district_office",
                "district_chief",
            },
            201,
            hidden=frozenset(),
        ),
        lambda s: {"description": "新问题", **LANE},
    ),
    "report_resident_case": Op(
        "POST",
        "/cases/resident-reports",
        row(EVERYONE, 201),
        lambda s: {"description": "新问题", **LANE},
    ),
    "get_case": Op("GET", "/cases/{reported}", row(EVERYONE - OUTSIDE)),
    "get_trail": Op("GET", "/cases/{reported}/trail", row(EVERYONE - OUTSIDE)),
    "get_public_timeline": Op("GET", "/cases/{reported}/timeline", row(EVERYONE - OUTSIDE)),
    # A photo sent with the report: its reporter's alone, as on the follow page.
    "get_followed_photo": Op(
        "GET",
        "/cases/{resident_closed}/photos/{resident_photo}",
        row({"resident"}, hidden=frozenset(EVERYONE)),
    ),
    "file_case": Op("POST", "/cases/{reported}/file", TOWNSHIP_OK, lambda s: {"category": "0501"}),
    "reject_case": Op(
        "POST", "/cases/{reported}/reject", TOWNSHIP_OK, lambda s: {"reason": "非城市问题"}
    ),
    "merge_case": Op(
        "POST", "/cases/{reported}/merge", TOWNSHIP_OK, lambda s: {"into": s.refs["other_reported"]}
    ),
    "solve_on_spot": Op(
        "POST",
        "/cases/{filed}/solve-on-spot",
        row({"dispatcher", "steward", "lane_chief"}),
        lambda s: {"note": "已劝离"},
    ),
    "dispatch_case": Op(
        "POST",
        "/cases/{filed}/dispatch",
        row({"dispatcher"}, 201),
        lambda s: {"department": "dc-cgw"},
    ),
    "blow_whistle": Op(
        "POST",
        "/cases/{filed}/whistles",
        row({"dispatcher"}, 201),
        lambda s: {"kind": "routine", "departments": ["dc-cgw"]},
    ),
    "mark_handled": Op("POST", "/cases/{on_site}/mark-handled", TOWNSHIP_OK, empty_body),
    "check_passed": Op("POST", "/cases/{handled}/check-passed", TOWNSHIP_OK, empty_body),
    "close_case": Op("POST", "/cases/{checked}/close", TOWNSHIP_OK, empty_body),
    "send_back_for_rework": Op(
        "POST", "/cases/{handled}/rework", TOWNSHIP_OK, lambda s: {"reason": "未清理干净"}
    ),
    "evaluate_case": Op(
        "POST",
        "/cases/{closed}/evaluation",
        row({"dispatcher", "assessor"}),
        lambda s: {"rating": 4},
    ),
    "record_resident_callback": Op(
        "POST",
        "/cases/{resident_closed}/callback",
        row({"dispatcher", "assessor"}, hidden=OUTSIDE - {"resident"}),
        lambda s: {"satisfied": True},
    ),
    "record_resident_rating": Op(
        "POST",
        "/cases/{resident_closed}/resident-rating",
        row({"resident"}, hidden=OUTSIDE - {"resident"}),
        lambda s: {"rating": 5},
    ),
    "put_on_backlog": Op(
        "POST",
        "/cases/{filed}/backlog",
        row({"dispatcher", "township_office"}),
        lambda s: {"reason": "待拆迁", "review_on": "2026-05-01"},
    ),
    "resume_from_backlog": Op(
        "POST", "/cases/{backlog}/resume", row({"dispatcher", "township_office"}), empty_body
    ),
    "escalate": Op(
        "POST",
        "/cases/{filed}/escalation",
        row({"lane_chief", "township_office"}),
        lambda s: {"reason": "需协调"},
    ),
    "issue_supervision_notice": Op(
        "POST",
        "/cases/{filed}/supervision-notices",
        row({"township_office", "district_office", "district_chief"}, 201),
        lambda s: {"department": "dc-cgw", "text": "请处理", "due_at": "2026-03-11T09:00:00+08:00"},
    ),
    "list_summonses": Op("GET", "/summonses", row(EVERYONE)),
    "get_summons": Op("GET", "/summonses/{summoned}", row(EVERYONE - OUTSIDE)),
    "acknowledge": Op("POST", "/summonses/{summoned}/acknowledge", SUMMONS_OK, empty_body),
    "check_in": Op(
        "POST",
        "/summonses/{acknowledged}/check-in",
        SUMMONS_OK,
        lambda s: {**LANE, "source": "device", "accuracy_m": 5, "device_time": NOW.isoformat()},
    ),
    "report_progress": Op(
        "POST", "/summonses/{acknowledged}/progress", SUMMONS_OK, lambda s: {"text": "已出发"}
    ),
    "report_result": Op(
        "POST", "/summonses/{on_site}/result", SUMMONS_OK, lambda s: {"result": "已处理"}
    ),
    "decline": Op(
        "POST", "/summonses/{summoned}/decline", SUMMONS_OK, lambda s: {"reason": "非职责"}
    ),
    "rule_on_decline": Op(
        "POST", "/summonses/{declined}/decline-ruling", TOWNSHIP_OK, lambda s: {"uphold": True}
    ),
    "rule_on_check_in": Op(
        "POST", "/summonses/{flagged}/check-in-ruling", TOWNSHIP_OK, lambda s: {"confirm": True}
    ),
    "release": Op("POST", "/summonses/{summoned}/release", TOWNSHIP_OK, empty_body),
    "check_out": Op("POST", "/summonses/{released}/check-out", SUMMONS_OK, empty_body),
    "get_whistle": Op("GET", "/whistles/{summoned_whistle}", row(EVERYONE - OUTSIDE)),
    "summon_more": Op(
        "POST",
        "/whistles/{summoned_whistle}/summonses",
        row({"dispatcher"}, 201),
        lambda s: {"departments": ["dc-xfz-tiantan"]},
    ),
    "list_supervision_notices": Op("GET", "/supervision-notices", row(EVERYONE)),
    "get_supervision_notice": Op("GET", "/supervision-notices/{notice}", row(EVERYONE - OUTSIDE)),
    "answer_supervision_notice": Op(
        "POST", "/supervision-notices/{notice}/answer", SUMMONS_OK, lambda s: {"answer": "已安排"}
    ),
    "list_patrols": Op("GET", "/patrols", row(EVERYONE)),
    "start_patrol": Op(
        "POST",
        "/patrols",
        # The steward is already walking the scene's patrol: one patrol at a time.
        row({"lane_chief", "township_office"}, 201, hidden=frozenset(), steward=409),
        lambda s: {"township": "110101015", "lane": "人民市场东巷"},
    ),
    "get_patrol": Op("GET", "/patrols/{patrol}", row({"steward"}, hidden=frozenset(EVERYONE))),
    "record_patrol_positions": Op(
        "POST",
        "/patrols/{patrol}/positions",
        row({"steward"}, hidden=frozenset(EVERYONE)),
        lambda s: {"points": [{"seq": 1, **LANE, "accuracy_m": 5, "at": NOW.isoformat()}]},
    ),
    "record_patrol_check": Op(
        "POST",
        "/patrols/{patrol}/checks",
        row({"steward"}, hidden=frozenset(EVERYONE)),
        lambda s: {"item": s.ids["patrol_item"], "result": "ok"},
    ),
    "finish_patrol": Op(
        "POST", "/patrols/{patrol}/finish", row({"steward"}, hidden=frozenset(EVERYONE))
    ),
    "list_records": Op("GET", "/assessment/records", row(EVERYONE)),
    "get_record": Op("GET", "/assessment/records/{closed}", row(EVERYONE - OUTSIDE)),
    "rate_summons": Op(
        "POST",
        "/assessment/records/{closed}/rating",
        row({"dispatcher", "assessor"}),
        lambda s: {"rating": 4},
    ),
    "file_appeal": Op(
        "POST",
        "/assessment/records/{closed}/appeals",
        row({"urban_officer"}, 201),
        lambda s: {"part": "came", "requested": {"came": "on_time"}, "reason": "已按时到场"},
    ),
    "list_appeals": Op("GET", "/assessment/appeals", row(EVERYONE)),
    "rule_on_appeal": Op(
        "POST",
        "/assessment/appeals/{appeal}/ruling",
        row({"district_office"}),
        lambda s: {"upheld": False, "note": "证据不足"},
    ),
    "list_scores": Op(
        "GET",
        "/assessment/scores?period=2026-03&district=110101",
        row(
            {
                "district_assessor",
                "district_office",
                "district_chief",
                "urban_officer",
                "fire_officer",
            },
            hidden=frozenset(EVERYONE),
        ),
    ),
    "take_hotline_order": Op(
        "POST",
        "/hotline/orders",
        row(HOTLINE_TAKERS, 201, hidden=frozenset()),
        lambda s: HOTLINE_ORDER,
    ),
    "take_hotline_orders": Op(
        "POST",
        "/hotline/orders/batch",
        row(HOTLINE_TAKERS, 201, hidden=frozenset()),
        lambda s: {"orders": [HOTLINE_ORDER]},
    ),
    "list_hotline_answers": Op(
        "GET",
        "/hotline/answers?district=110101",
        row({"district_office", "district_chief"}, hidden=frozenset()),
    ),
    "record_hotline_reply": Op(
        "POST",
        "/hotline/orders/110101/{hotline_awaiting}/reply",
        TOWNSHIP_OK,
        lambda s: {"kind": "done", "reply": "已处理"},
    ),
    "record_hotline_final_reply": Op(
        "POST",
        "/hotline/orders/110101/{hotline_in_progress}/final-reply",
        TOWNSHIP_OK,
        lambda s: {"kind": "done", "reply": "已处理"},
    ),
    "record_hotline_callback": Op(
        "POST",
        "/hotline/orders/110101/{hotline_replied}/callback",
        row({"dispatcher", "assessor"}),
        lambda s: {"contacted": True, "resolved": True, "satisfied": True},
    ),
    "list_jurisdictions": Op("GET", "/organisation/jurisdictions", row(EVERYONE)),
    "list_lanes": Op("GET", "/organisation/lanes", row(EVERYONE)),
    "list_departments": Op("GET", "/organisation/departments", row(EVERYONE)),
    "list_categories": Op("GET", "/organisation/categories", row(EVERYONE)),
    "get_me": Op("GET", "/me", row(EVERYONE)),
    "list_notifications": Op("GET", "/notifications", row(EVERYONE)),
    "mark_notifications_read": Op("POST", "/notifications/mark-read", row(EVERYONE), empty_body),
}


def test_every_operation_has_a_row():
    document = api.get_openapi_schema()
    operations = {
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
    }
    assert operations == set(OPERATIONS)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in DOMAIN_TABLES}


class Rollback(Exception):
    pass


def answers(api_city: ApiCity, scene: Scene, op: Op) -> dict[str, int]:
    """Each persona's status for one operation; every call is rolled back."""
    path = fill(op.path, scene)
    found: dict[str, int] = {}
    for persona in PERSONAS:
        client = api_city.as_(persona)
        before = counts()
        try:
            with transaction.atomic():
                if op.method == "GET":
                    answer = client.client.get("/api/v1" + path, headers=client.headers())
                else:
                    answer = client.post(path, op.body(scene) if op.body else None)
                found[persona] = answer.status_code
                if answer.status_code >= 400:
                    body = answer.json()
                    assert set(body) == {"code", "message", "field"}, body
                    if body["code"] not in RECORDED:
                        assert counts() == before, (persona, body)
                raise Rollback
        except Rollback:
            pass
    return found


def test_each_persona_gets_the_status_the_rules_give(api_city, settings):
    # One scene for the whole matrix: building it is the slow part, and every call is rolled
    # back, so each operation meets the same state.
    settings.WHISTLE_API_RATE_LIMIT = 10_000
    # The scene's moments lie between START and NOW; the clock stands at NOW so none is ahead.
    with time_machine.travel(NOW, tick=False):
        scene = build(api_city)
        found = {name: answers(api_city, scene, op) for name, op in OPERATIONS.items()}
    wrong = {
        name: {
            p: (found[name][p], op.expected[p])
            for p in PERSONAS
            if found[name][p] != op.expected[p]
        }
        for name, op in OPERATIONS.items()
    }
    assert {name: cells for name, cells in wrong.items() if cells} == {}
