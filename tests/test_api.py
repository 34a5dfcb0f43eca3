"""The REST API (/api/v1/): a case's whole life through it, and what every answer shares —
the error shape in the caller's language, scope (404 outside it), cursor pagination,
filters, the Idempotency-Key, rate limits, and the OpenAPI document with its local docs."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from tests.conftest import make_person
from tests.fixtures_api import BASE, Api, api_city_fixture  # noqa: F401  (fixture)
from tests.fixtures_cases import (
    FAR_NORTH,
    OFF_ANY_LANE,
    ON_THE_LANE,
    beijing,
    png_bytes,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from whistle.api import auth, throttle
from whistle.api.labels import FIELD_LABELS, field_label
from whistle.api.models import IdempotentRequest
from whistle.api.schemas import In
from whistle.cases.models import Attachment, Case, Event, Summons
from whistle.notifications.models import Notification
from whistle.organisation.models import Department, Role

START = beijing(2026, 3, 10, 9, 0)
LANE = {"lon": ON_THE_LANE[0], "lat": ON_THE_LANE[1]}


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def step(clock, minutes: int = 1) -> None:
    clock.shift(timedelta(minutes=minutes))


def report(api_city, persona="steward", **extra):
    answer = api_city.as_(persona).post(
        "/cases", {"description": "人民市场东巷有游商占道", **LANE, **extra}
    )
    assert answer.status_code == 201, answer.content
    return answer.json()


def assert_error(answer, status: int, code: str, field: str | None = None) -> dict:
    assert answer.status_code == status, answer.content
    body = answer.json()
    assert set(body) == {"code", "message", "field"}
    assert body["code"] == code
    assert body["field"] == field
    assert body["message"]
    return body


def test_a_case_goes_from_report_to_evaluation_through_the_api(api_city, clock):
    dispatcher, officer = api_city.as_("dispatcher"), api_city.as_("urban_officer")
    photo = base64.b64encode(png_bytes()).decode()
    case = report(api_city, photos=[photo], address="人民市场东巷 12 号")
    ref = case["reference"]
    assert case["status"] == "reported" and case["lane"]["name"] == "人民市场东巷"
    assert "file_case" not in case["allowed_actions"]
    step(clock)
    filed = dispatcher.post(f"/cases/{ref}/file", {"category": "0501"}).json()
    assert filed["status"] == "filed" and filed["category"]["code"] == "0501"
    assert "blow_whistle" in filed["allowed_actions"]
    step(clock)
    whistle = dispatcher.post(
        f"/cases/{ref}/whistles", {"kind": "routine", "departments": ["dc-cgw"]}
    )
    assert whistle.status_code == 201, whistle.content
    summons = whistle.json()["summonses"][0]["uuid"]
    step(clock)
    more = dispatcher.post(
        f"/whistles/{whistle.json()['uuid']}/summonses", {"departments": ["dc-longtan-pcs"]}
    )
    assert more.status_code == 201 and more.json()[0]["department"]["code"] == "dc-longtan-pcs"
    police = more.json()[0]["uuid"]
    step(clock)
    assert officer.post(f"/summonses/{summons}/acknowledge").json()["status"] == "acknowledged"
    step(clock)
    device_time = beijing(2026, 3, 10, 9, 4).isoformat()
    checked = officer.post(
        f"/summonses/{summons}/check-in",
        {**LANE, "source": "device", "accuracy_m": 5, "device_time": device_time},
    )
    assert checked.status_code == 200, checked.content
    assert checked.json()["verdict"] == "clean"
    assert checked.json()["summons"]["status"] == "on_site"
    step(clock)
    progress = officer.post(f"/summonses/{summons}/progress", {"text": "正在劝离"})
    assert progress.status_code == 200
    step(clock)
    early = officer.post(f"/summonses/{summons}/check-out", {})
    assert_error(early, 409, "check_out_too_early")
    assert Event.objects.filter(kind="summons.check_out_refused").count() == 1
    step(clock)
    assert officer.post(f"/summonses/{summons}/result", {"result": "游商已劝离"}).status_code == 200
    step(clock)
    released = dispatcher.post(f"/summonses/{police}/release", {"note": "无需到场"})
    assert released.json()["status"] == "released"
    step(clock)
    handled = dispatcher.post(f"/cases/{ref}/mark-handled", {})
    assert handled.json()["status"] == "handled", handled.content
    step(clock)
    assert officer.post(f"/summonses/{summons}/check-out", {}).json()["status"] == "left"
    step(clock)
    dispatcher.post(f"/cases/{ref}/check-passed", {"note": "现场已无游商"})
    step(clock)
    closed = dispatcher.post(f"/cases/{ref}/close", {})
    assert closed.json()["status"] == "closed"
    step(clock)
    evaluated = api_city.as_("assessor").post(f"/cases/{ref}/evaluation", {"rating": 5})
    assert evaluated.json()["status"] == "evaluated", evaluated.content
    trail = dispatcher.get(f"/cases/{ref}/trail").json()
    assert trail["length"] == len(trail["events"]) == Case.objects.get().trail_length
    assert trail["events"][0]["prev_hash"] == "0" * 64
    assert all(
        later["prev_hash"] == earlier["hash"]
        for earlier, later in zip(trail["events"], trail["events"][1:], strict=False)
    )
    assert trail["head"] == trail["events"][-1]["hash"]
    assert trail["events"][0]["data"]["photos"][0]["sha256"]
    page = dispatcher.get(f"/cases/{ref}/trail", {"after": 2, "limit": 3}).json()
    assert [e["seq"] for e in page["events"]] == [3, 4, 5] and page["next_after"] == 5


def test_a_typed_check_in_position_is_flagged_and_the_township_rules_on_it(api_city, clock):
    case = report(api_city)
    dispatcher, officer = api_city.as_("dispatcher"), api_city.as_("urban_officer")
    step(clock)
    dispatcher.post(f"/cases/{case['reference']}/file", {"category": "0501"})
    step(clock)
    whistle = dispatcher.post(
        f"/cases/{case['reference']}/whistles", {"kind": "routine", "departments": ["dc-cgw"]}
    ).json()
    summons = whistle["summonses"][0]["uuid"]
    step(clock)
    officer.post(f"/summonses/{summons}/acknowledge")
    step(clock)
    typed = officer.post(f"/summonses/{summons}/check-in", {**LANE, "source": "typed"}).json()
    assert typed["verdict"] == "flagged"
    assert "typed" in typed["reasons"] and typed["summons"]["check_in_flag"] == "pending"
    step(clock)
    ruled = dispatcher.post(
        f"/summonses/{summons}/check-in-ruling", {"confirm": False, "note": "位置为手输"}
    )
    assert ruled.json()["status"] == "acknowledged", ruled.content


def test_a_check_in_too_far_away_is_refused_and_kept_in_the_trail(api_city, clock):
    case = report(api_city)
    dispatcher, officer = api_city.as_("dispatcher"), api_city.as_("urban_officer")
    dispatcher.post(f"/cases/{case['reference']}/file", {"category": "0501"})
    whistle = dispatcher.post(
        f"/cases/{case['reference']}/whistles", {"kind": "routine", "departments": ["dc-cgw"]}
    ).json()
    summons = whistle["summonses"][0]["uuid"]
    officer.post(f"/summonses/{summons}/acknowledge")
    far = officer.post(
        f"/summonses/{summons}/check-in",
        {
            "lon": FAR_NORTH[0],
            "lat": FAR_NORTH[1],
            "source": "device",
            "accuracy_m": 5,
            "device_time": START.isoformat(),
        },
    )
    assert_error(far, 409, "check_in_too_far")
    assert Event.objects.filter(kind="summons.check_in_refused").count() == 1
    assert Summons.objects.get(uuid=summons).status == "acknowledged"


def test_a_routine_dispatch_a_decline_and_its_ruling(api_city, clock):
    case = report(api_city)
    dispatcher, officer = api_city.as_("dispatcher"), api_city.as_("urban_officer")
    dispatcher.post(f"/cases/{case['reference']}/file", {"category": "0501"})
    step(clock)
    dispatched = dispatcher.post(f"/cases/{case['reference']}/dispatch", {"department": "dc-cgw"})
    assert dispatched.status_code == 201 and dispatched.json()["whistle"] is None
    step(clock)
    declined = officer.post(
        f"/summonses/{dispatched.json()['uuid']}/decline", {"reason": "不属于本部门职责"}
    )
    assert declined.json()["status"] == "declined"
    assert declined.json()["acknowledged_at"] is not None
    step(clock)
    # Insisting needs a note saying why; upholding does not.
    unsaid = dispatcher.post(
        f"/summonses/{dispatched.json()['uuid']}/decline-ruling", {"uphold": False, "note": ""}
    )
    assert assert_error(unsaid, 422, "invalid", "note")["message"] == "请填写理由。"
    upheld = dispatcher.post(
        f"/summonses/{dispatched.json()['uuid']}/decline-ruling", {"uphold": True}
    )
    assert upheld.json()["status"] == "released"


def test_a_decline_names_the_department_responsible_by_its_code(api_city, clock):
    case = report(api_city)
    dispatcher, officer = api_city.as_("dispatcher"), api_city.as_("urban_officer")
    dispatcher.post(f"/cases/{case['reference']}/file", {"category": "0501"})
    step(clock)
    dispatched = dispatcher.post(f"/cases/{case['reference']}/dispatch", {"department": "dc-cgw"})
    decline = f"/summonses/{dispatched.json()['uuid']}/decline"
    step(clock)
    unknown = officer.post(decline, {"reason": "不属于本部门职责", "named_department": "dc-nope"})
    assert assert_error(unknown, 422, "invalid", "named_department")["message"] == (
        "没有代码为 dc-nope 的部门。"
    )
    Department.objects.filter(code="dc-cgw").update(name_en="Urban Management Bureau")
    english = Api(officer.secret, language="en")
    itself = english.post(decline, {"reason": "not ours", "named_department": "dc-cgw"})
    assert assert_error(itself, 422, "invalid", "named_department")["message"] == (
        "Urban Management Bureau cannot name itself: name the department responsible instead."
    )
    chinese = officer.post(decline, {"reason": "非本部门", "named_department": "dc-cgw"})
    assert assert_error(chinese, 422, "invalid", "named_department")["message"] == (
        "东城区城管执法局不能指定本部门，请指定应负责的部门。"
    )
    assert Summons.objects.get(uuid=dispatched.json()["uuid"]).status == "summoned"
    declined = officer.post(
        decline, {"reason": "消防通道占用", "named_department": "dc-xfz-tiantan"}
    )
    assert declined.status_code == 200, declined.content
    assert declined.json()["named_department"] == {
        "code": "dc-xfz-tiantan",
        "name": "天坛消防救援站",
    }
    step(clock)
    upheld = dispatcher.post(
        f"/summonses/{dispatched.json()['uuid']}/decline-ruling",
        {"uphold": True, "summon_named": True, "note": "请消防处置"},
    )
    assert upheld.status_code == 200, upheld.content
    assert (upheld.json()["status"], upheld.json()["ruling"]) == ("released", "upheld")
    detail = dispatcher.get(f"/cases/{case['reference']}").json()
    assert [(s["department"]["code"], s["status"]) for s in detail["summonses"]] == [
        ("dc-cgw", "released"),
        ("dc-xfz-tiantan", "summoned"),
    ]


def test_a_report_is_rejected_or_merged_and_another_solved_on_the_spot(api_city, clock):
    dispatcher = api_city.as_("dispatcher")
    first, second, third = report(api_city), report(api_city), report(api_city)
    step(clock)
    merged = dispatcher.post(
        f"/cases/{second['reference']}/merge", {"into": first["reference"]}
    ).json()
    assert merged["status"] == "merged" and merged["merged_into"] == first["reference"]
    rejected = dispatcher.post(f"/cases/{third['reference']}/reject", {"reason": "重复"})
    assert rejected.json()["status"] == "rejected"
    dispatcher.post(f"/cases/{first['reference']}/file", {"category": "0501"})
    step(clock)
    solved = api_city.as_("lane_chief").post(
        f"/cases/{first['reference']}/solve-on-spot", {"note": "已劝离"}
    )
    assert solved.json()["status"] == "handled"


def test_backlog_escalation_and_a_supervision_notice_answered(api_city, clock):
    case = report(api_city)
    ref = case["reference"]
    dispatcher = api_city.as_("dispatcher")
    dispatcher.post(f"/cases/{ref}/file", {"category": "0501"})
    step(clock)
    escalated = api_city.as_("lane_chief").post(f"/cases/{ref}/escalation", {"reason": "需协调"})
    assert escalated.json()["escalation"] == "township"
    step(clock)
    notice = api_city.as_("township_office").post(
        f"/cases/{ref}/supervision-notices",
        {"department": "dc-cgw", "text": "请于明日前处理", "due_at": "2026-03-11T09:00:00+08:00"},
    )
    assert notice.status_code == 201, notice.content
    step(clock)
    listed = api_city.as_("urban_officer").get("/supervision-notices", {"answered": False})
    assert [n["uuid"] for n in listed.json()["items"]] == [notice.json()["uuid"]]
    answered = api_city.as_("urban_officer").post(
        f"/supervision-notices/{notice.json()['uuid']}/answer", {"answer": "已安排"}
    )
    assert answered.json()["answered_at"] is not None
    step(clock)
    backlog = dispatcher.post(
        f"/cases/{ref}/backlog", {"reason": "待拆迁", "review_on": "2026-06-01"}
    )
    assert backlog.json()["status"] == "backlog", backlog.content
    step(clock)
    assert dispatcher.post(f"/cases/{ref}/resume", {}).json()["status"] == "filed"


def test_a_patrol_starts_records_ticks_and_finishes(api_city, clock):
    steward = api_city.as_("steward")
    started = steward.post("/patrols", {"township": "110101015", "lane": "人民市场东巷"})
    assert started.status_code == 201, started.content
    patrol = started.json()["uuid"]
    item = started.json()["checklist"][0]["key"]
    step(clock)
    points = [
        {
            "seq": n,
            "lon": 116.432,
            "lat": 39.872 + n * 0.0003,
            "accuracy_m": 5,
            "at": (START + timedelta(seconds=20 * n)).isoformat(),
        }
        for n in range(3)
    ]
    recorded = steward.post(f"/patrols/{patrol}/positions", {"points": points})
    assert recorded.json()["accepted"] == 3
    again = steward.post(f"/patrols/{patrol}/positions", {"points": points})
    assert again.json() == {**again.json(), "accepted": 0, "duplicates": 3}
    step(clock)
    ticked = steward.post(f"/patrols/{patrol}/checks", {"item": item, "result": "ok"})
    assert ticked.json()["checks"][0]["result"] == "ok"
    step(clock)
    finished = steward.post(f"/patrols/{patrol}/finish")
    assert finished.json()["ended_at"] is not None
    assert api_city.as_("lane_chief").get(f"/patrols/{patrol}").status_code == 404


def test_the_inbox_lists_the_callers_notifications_and_marks_them_read(api_city, clock):
    report(api_city)
    dispatcher = api_city.as_("dispatcher")
    inbox = dispatcher.get("/notifications").json()
    assert inbox["unread"] == 1 and inbox["items"][0]["case"]
    assert api_city.as_("steward").get("/notifications").json()["items"] == []
    marked = dispatcher.post("/notifications/mark-read", {"ids": [inbox["items"][0]["uuid"]]})
    assert marked.json() == {"marked": 1}
    assert Notification.objects.filter(channel="inbox", read_at__isnull=True).count() == 0


def test_the_inbox_reads_each_message_in_the_callers_language(api_city, clock):
    case = report(api_city)
    chinese = api_city.as_("dispatcher").get("/notifications").json()["items"][0]
    english_api = Api(api_city.as_("dispatcher").secret, language="en")
    english = english_api.get("/notifications").json()["items"][0]
    assert case["reference"] in chinese["subject"] and case["reference"] in english["subject"]
    assert re.search("[\u4e00-\u9fff]", chinese["subject"])
    assert english["subject"].startswith("New problem "), english["subject"]
    assert not chinese["subject"].startswith("New problem ")
    # As stored (and as sent outside): the deployment's language.
    stored = Notification.objects.get(uuid=chinese["uuid"])
    assert stored.subject == chinese["subject"]


def test_the_organisation_is_read_by_codes(api_city):
    dispatcher = api_city.as_("dispatcher")
    lanes = dispatcher.get("/organisation/lanes").json()
    assert [lane["name"] for lane in lanes] == ["人民市场东巷"]
    codes = {d["code"] for d in dispatcher.get("/organisation/departments").json()}
    assert {"dc-cgw", "dc-longtan-pcs"} <= codes
    categories = {c["code"] for c in dispatcher.get("/organisation/categories").json()}
    assert categories == {"0501", "0102"}
    jurisdictions = dispatcher.get("/organisation/jurisdictions").json()
    assert [j["code"] for j in jurisdictions] == ["110101015", "110101015001"]
    me = dispatcher.get("/me").json()
    assert me["roles"] == [
        {"role": "dispatcher", "label": "街乡指挥中心调度员", "scope": "110101015"}
    ]


# Errors ---------------------------------------------------------------------------------


def test_errors_have_one_shape_in_the_callers_language(api_city, clock):
    case = report(api_city)
    zh = api_city.as_("steward").post(f"/cases/{case['reference']}/file", {"category": "0501"})
    body = assert_error(zh, 403, "permission_refused")
    assert "街乡指挥中心调度员" in body["message"]
    english = Api(api_city.as_("steward").secret, language="en")
    en = english.post(f"/cases/{case['reference']}/file", {"category": "0501"})
    assert "township dispatcher" in assert_error(en, 403, "permission_refused")["message"]
    unauthenticated = assert_error(api_city.as_("anonymous").get("/cases"), 401, "unauthenticated")
    assert unauthenticated["message"] != "Unauthorized"


def test_bad_input_is_refused_with_the_field_at_fault(api_city, clock):
    steward = api_city.as_("steward")
    assert_error(steward.post_raw("/cases", "{not json"), 400, "malformed_body")
    assert_error(
        steward.post("/cases", {"description": "x", "lon": 500, "lat": 39.8}), 422, "invalid", "lon"
    )
    assert_error(steward.post("/cases", {"lon": 116.4, "lat": 39.8}), 422, "invalid", "description")
    assert_error(
        steward.post("/cases", {"description": "x", **LANE, "colour": "red"}),
        422,
        "invalid",
        "colour",
    )
    assert_error(
        steward.post("/cases", {"description": "x\x00", **LANE}), 422, "invalid", "description"
    )
    assert_error(
        steward.post("/cases", {"description": "x", **LANE, "photos": ["***"]}),
        422,
        "invalid",
        "photos.0",
    )
    outside = steward.post("/cases", {"description": "x", "lon": 0.0, "lat": 0.0})
    assert_error(outside, 422, "invalid", "position")
    assert_error(steward.get("/cases", {"cursor": "!!"}), 400, "invalid_cursor", "cursor")
    assert Case.objects.count() == 0


def test_a_refused_input_is_named_in_the_callers_language(api_city, clock):
    steward = api_city.as_("steward")
    missing = assert_error(steward.post("/cases", {**LANE}), 422, "invalid", "description")
    assert missing["message"] == "问题描述为必填项。"
    wrong = assert_error(
        steward.post("/cases", {"description": "x", "lon": 500, "lat": 39.8}), 422, "invalid", "lon"
    )
    assert wrong["message"] == "经度无效：过大"
    # An input inside a list is named with its path.
    with translation.override("zh-hans"):
        assert str(field_label("orders.0.order_number")) == "工单编号（orders.0.order_number）"
    english = Api(steward.secret, language="en")
    missing = assert_error(english.post("/cases", {**LANE}), 422, "invalid", "description")
    assert missing["message"] == "Description is required."
    wrong = english.post("/cases", {"description": "x", "lon": 500, "lat": 39.8})
    assert (
        assert_error(wrong, 422, "invalid", "lon")["message"] == "Longitude is not valid: too large"
    )


def test_every_input_of_the_api_has_a_name_in_both_languages():
    def inputs(schema: type) -> set[str]:
        names = set(schema.model_fields)  # type: ignore[attr-defined]
        for sub in schema.__subclasses__():
            names |= inputs(sub)
        return names

    assert sorted(inputs(In) - set(FIELD_LABELS)) == []
    with translation.override("zh-hans"):
        untranslated = [n for n, label in FIELD_LABELS.items() if str(label).isascii()]
    assert untranslated == []


def test_a_token_s_refusal_reads_as_written_chinese(api_city, clock):
    answer = Api("wst_not-a-token").get("/me")
    assert assert_error(answer, 401, "token_invalid")["message"] == "此接口令牌无效。"


def test_a_request_over_the_size_limit_is_told_the_limit_photos_or_not(api_city, clock, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 3 * 1024 * 1024
    body = {"description": "很长" * 800_000, **LANE}
    zh = assert_error(api_city.as_("steward").post("/cases", body), 413, "too_large")
    assert zh["message"].startswith("请求过大：每个请求最多 3 MB。")
    english = Api(api_city.as_("steward").secret, language="en")
    en = assert_error(english.post("/cases", body), 413, "too_large")
    assert "at most 3 MB a request" in en["message"]
    assert Case.objects.count() == 0


def test_objects_outside_the_callers_area_are_not_found(api_city, clock):
    case = report(api_city)
    outsider = api_city.as_("dongsi_dispatcher")
    assert_error(outsider.get(f"/cases/{case['reference']}"), 404, "not_found")
    assert_error(outsider.post(f"/cases/{case['reference']}/file", {}), 404, "not_found")
    assert_error(outsider.get("/summonses/not-a-uuid"), 404, "not_found")
    assert outsider.get("/cases").json()["items"] == []
    assert_error(outsider.get("/no/such/thing"), 404, "not_found")


def test_a_state_that_does_not_allow_the_action_is_a_conflict(api_city, clock):
    case = report(api_city)
    answer = api_city.as_("dispatcher").post(f"/cases/{case['reference']}/close", {})
    assert_error(answer, 409, "state_conflict")


# Lists ----------------------------------------------------------------------------------


def test_lists_page_by_an_opaque_cursor_newest_first(api_city, clock):
    references = []
    for _ in range(5):
        references.append(report(api_city)["reference"])
        step(clock)
    dispatcher = api_city.as_("dispatcher")
    first = dispatcher.get("/cases", {"limit": 2}).json()
    second = dispatcher.get("/cases", {"limit": 2, "cursor": first["next_cursor"]}).json()
    third = dispatcher.get("/cases", {"limit": 2, "cursor": second["next_cursor"]}).json()
    seen = [c["reference"] for page in (first, second, third) for c in page["items"]]
    assert seen == list(reversed(references))
    assert third["next_cursor"] is None


def test_lists_filter_by_status_jurisdiction_department_category_and_time(api_city, clock):
    dispatcher = api_city.as_("dispatcher")
    early = report(api_city)
    step(clock, 60)
    late = report(api_city)
    dispatcher.post(f"/cases/{late['reference']}/file", {"category": "0501"})
    dispatcher.post(f"/cases/{late['reference']}/dispatch", {"department": "dc-cgw"})

    def refs(**params):
        return [c["reference"] for c in dispatcher.get("/cases", params).json()["items"]]

    assert refs(status="reported") == [early["reference"]]
    assert refs(status=["reported", "dispatched"]) == [late["reference"], early["reference"]]
    assert refs(jurisdiction="110101015") == [late["reference"], early["reference"]]
    assert refs(jurisdiction="110101006") == []
    assert refs(department="dc-cgw") == [late["reference"]]
    assert refs(category="0501") == [late["reference"]]
    assert refs(reported_after=(START + timedelta(minutes=30)).isoformat()) == [late["reference"]]
    assert refs(reported_before=(START + timedelta(minutes=30)).isoformat()) == [early["reference"]]


def test_a_list_costs_the_same_queries_for_one_case_or_ten(
    api_city, clock, django_assert_max_num_queries
):
    report(api_city)
    dispatcher = api_city.as_("dispatcher")
    dispatcher.get("/cases")
    for _ in range(9):
        report(api_city)
    with django_assert_max_num_queries(8):
        assert len(dispatcher.get("/cases").json()["items"]) == 10


@pytest.mark.parametrize(
    ("persona", "path", "extra"),
    [
        ("steward", "/cases", {}),
        ("steward", "/cases", {"lon": OFF_ANY_LANE[0], "lat": OFF_ANY_LANE[1]}),
        ("dispatcher", "/cases", {"category": "0501", "address": "东巷口"}),
        (
            "district_chief",
            "/cases",
            {"source": "hotline", "reporter_name": "王女士", "reporter_phone": "13800000000"},
        ),
        ("resident", "/cases/resident-reports", {"name": "李先生"}),
        ("dispatcher", "/cases/resident-reports", {}),
    ],
)
def test_the_answer_to_a_report_is_the_new_case_as_it_is_read_back(
    api_city, clock, persona, path, extra
):
    """The answer is built from the case the filing returned, not read again: it is the case
    as reading it shows it, with what the caller may do to it, for every kind of reporter (a
    reporter who does not see the case on its page reads it as its follow page shows it)."""
    client = api_city.as_(persona)
    answer = client.post(path, {"description": "人民市场东巷有游商占道", **LANE, **extra})
    assert answer.status_code == 201, answer.content
    body = answer.json()
    case = body["case"] if path.endswith("resident-reports") else body
    if "timeline" in case:
        assert persona == "resident" or "lon" in extra
        assert [entry["text"] for entry in case["timeline"]] == ["问题已上报"]
    else:
        assert case["trail_length"] == 1 and case["trail_head"]
    if persona == "dispatcher":
        assert "file_case" in case["allowed_actions"]
    read = client.get(f"/cases/{case['reference']}")
    assert read.status_code == 200, read.content
    assert case == read.json()


# Idempotency and rate limits ---------------------------------------------------------------


def test_a_retried_post_with_the_same_idempotency_key_acts_once(api_city, clock):
    steward = api_city.as_("steward")
    body = {"description": "游商", **LANE}
    first = steward.post("/cases", body, **{"Idempotency-Key": "report-1"})
    again = steward.post("/cases", body, **{"Idempotency-Key": "report-1"})
    assert first.status_code == again.status_code == 201
    assert again.json()["reference"] == first.json()["reference"]
    assert again["Idempotent-Replayed"] == "true"
    assert Case.objects.count() == 1
    other = steward.post(
        "/cases", {**body, "description": "另一件"}, **{"Idempotency-Key": "report-1"}
    )
    assert_error(other, 422, "idempotency_key_reused", "Idempotency-Key")
    # Keys are the token's own: another caller's same key is another request.
    api_city.as_("lane_chief").post("/cases", body, **{"Idempotency-Key": "report-1"})
    assert Case.objects.count() == 2


def test_an_idempotency_key_is_forgotten_after_its_lifetime(api_city, clock, settings):
    settings.WHISTLE_API_IDEMPOTENCY_HOURS = 1
    steward = api_city.as_("steward")
    steward.post("/cases", {"description": "游商", **LANE}, **{"Idempotency-Key": "k"})
    step(clock, 61)
    steward.post("/cases", {"description": "游商", **LANE}, **{"Idempotency-Key": "k"})
    assert Case.objects.count() == 2
    assert IdempotentRequest.objects.count() == 1


def test_a_token_over_its_rate_limit_is_told_when_to_retry(api_city, clock, settings):
    settings.WHISTLE_API_RATE_LIMIT = 3
    settings.WHISTLE_API_RATE_WINDOW = 60
    steward = api_city.as_("steward")
    assert [steward.get("/me").status_code for _ in range(3)] == [200, 200, 200]
    refused = steward.get("/me")
    assert_error(refused, 429, "rate_limited")
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert api_city.as_("lane_chief").get("/me").status_code == 200
    step(clock, 1)
    assert steward.get("/me").status_code == 200


class _NotedCache:
    """The cache, noting each operation on a rate counter; `made_meanwhile` makes `add` find
    the entry made by another request just before."""

    def __init__(self, made_meanwhile: bool = False) -> None:
        self.done: list[str] = []
        self.made_meanwhile = made_meanwhile

    def add(self, key: str, value: Any, timeout: Any = None) -> bool:
        self.done.append("add")
        if self.made_meanwhile:
            cache.add(key, 1, timeout=timeout)
            return False
        return bool(cache.add(key, value, timeout=timeout))

    def incr(self, key: str) -> Any:
        self.done.append("incr")
        return cache.incr(key)

    def set(self, key: str, value: Any, timeout: Any = None) -> None:
        self.done.append("set")
        cache.set(key, value, timeout=timeout)


def test_a_rate_counter_costs_one_operation_of_the_cache_after_the_window_s_first(
    api_city, clock, settings, monkeypatch
):
    settings.WHISTLE_API_RATE_LIMIT = 3
    settings.WHISTLE_API_RATE_WINDOW = 60
    noted = _NotedCache()
    monkeypatch.setattr(throttle, "cache", noted)
    steward = api_city.as_("steward")
    per_request = []
    for _ in range(4):
        noted.done.clear()
        status = steward.get("/me").status_code
        per_request.append((status, list(noted.done)))
    # The window's first request finds no entry and makes it; the others count in one step.
    assert per_request == [
        (200, ["incr", "add"]),
        (200, ["incr"]),
        (200, ["incr"]),
        (429, ["incr"]),
    ]


def test_a_rate_counter_made_by_another_request_first_is_counted_on(monkeypatch):
    key = "api:rate:test:1"
    cache.delete(key)
    monkeypatch.setattr(throttle, "cache", _NotedCache(made_meanwhile=True))
    assert throttle._counted(key, 61) == 2
    monkeypatch.setattr(throttle, "cache", _NotedCache())
    assert throttle._counted(key, 61) == 3
    cache.delete(key)


# The document ------------------------------------------------------------------------------


def test_the_openapi_document_and_its_docs_page_are_served_without_a_cdn(api_city):
    document = api_city.as_("anonymous").client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/cases/{reference}/file" in document["paths"]
    page = api_city.as_("anonymous").client.get("/api/v1/docs")
    html = page.content.decode()
    assert page.status_code == 200 and "/static/ninja/swagger-ui-bundle.js" in html
    # Every script, style and link from this site (a CSRF token may spell "cdn" by chance).
    sources = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert sources and all(s.startswith(("/", "#")) and not s.startswith("//") for s in sources)
    assert "https://" not in html and "http://" not in html
    assert '"validatorUrl": null' in html


def test_the_docs_page_speaks_the_readers_language_and_explains_the_consoles_controls(
    api_city,
):
    client = api_city.as_("anonymous").client
    chinese = client.get("/api/v1/docs", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<html lang="zh-CN">' in chinese
    note = chinese.split('<p class="api-docs-note">', 1)[1].split("</p>", 1)[0]
    assert "下方调试台的按钮保留英文" in note and "“Authorize”（授权）" in note
    assert "“Try it out”（试用）" in note and '<a href="/settings/api-tokens/">接口令牌</a>' in note
    english = client.get("/api/v1/docs", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in english
    assert "The console below keeps its own controls in English" in english
    assert "/static/whistle/api-docs.css" in english


def test_the_document_is_in_the_readers_language(api_city):
    client = api_city.as_("anonymous").client
    chinese = client.get("/api/v1/openapi.json", HTTP_ACCEPT_LANGUAGE="zh-CN").json()
    english = client.get("/api/v1/openapi.json", HTTP_ACCEPT_LANGUAGE="en").json()
    take = ("/api/v1/hotline/orders", "post")
    report = ("/api/v1/cases/resident-reports", "post")

    def operation(document: dict, where: tuple[str, str]) -> dict:
        return document["paths"][where[0]][where[1]]

    assert operation(chinese, take)["summary"] == "受理一张 12345 工单"
    assert operation(chinese, take)["description"].startswith("受理一张工单：返回 201")
    assert operation(chinese, take)["tags"] == ["12345 热线"]
    assert operation(chinese, report)["summary"] == "居民上报问题"
    assert operation(english, take)["summary"] == "Take a 12345 work order"
    assert operation(english, take)["description"].startswith("Take one work order: 201")
    assert operation(english, take)["tags"] == ["Hotline"]
    assert operation(english, report)["summary"] == "Report a problem as a resident"
    body = chinese["components"]["schemas"]["NotificationOut"]["properties"]["body"]
    assert body["description"] == "使用调用者的语言，与主题相同"
    assert chinese["info"]["description"].startswith("页面上的每项操作")
    assert english["info"]["description"].startswith("Every action of the pages")
    # It says where its guide is, and each group heads its section with a capital.
    assert english["info"]["description"].endswith("docs/api.md in Whistle's source code.")
    assert chinese["info"]["description"].endswith("接口指南见 Whistle 源代码中的 docs/api.md。")
    assert operation(english, report)["tags"] == ["Cases"]
    assert operation(chinese, report)["tags"] == ["案件"]
    # Every operation reads in Chinese, its summary and its group alike.
    han = re.compile(r"[\u4e00-\u9fff]")
    for item in chinese["paths"].values():
        for each in item.values():
            assert han.search(each["summary"]), each["operationId"]
            assert all(han.search(tag) for tag in each["tags"]), each["operationId"]
    # The language cookie chooses as on the pages; the document is kept per language.
    client.cookies["django_language"] = "en"
    by_cookie = client.get("/api/v1/openapi.json", HTTP_ACCEPT_LANGUAGE="zh-CN").json()
    assert operation(by_cookie, take)["summary"] == "Take a 12345 work order"
    client.cookies["django_language"] = "zh-hans"
    again = client.get("/api/v1/openapi.json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert operation(again, take)["summary"] == "受理一张 12345 工单"


def test_the_document_names_objects_by_public_identifiers_never_database_ids(api_city):
    document = api_city.as_("anonymous").client.get("/api/v1/openapi.json").json()
    names: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            names.update(node.get("properties", {}))
            names.update(p["name"] for p in node.get("parameters", []))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    # The device's own id and the hotline's order number are others' identifiers.
    suspicious = {n for n in names if n in {"id", "pk"} or n.endswith(("_id", "_pk"))}
    assert suspicious == {"device_id", "external_id"}
    assert {"reference", "uuid"} <= names


# The operations' paths, grouped by their first segment --------------------------------------


def test_every_operation_resolves_to_its_view_and_reverses_to_its_path_behind_its_segment():
    from django.urls import URLPattern, resolve, reverse

    from whistle.api.main import api, by_first_segment

    listed, _app, _namespace = api.urls
    grouped = by_first_segment(listed)
    # Fewer patterns to try at the top: one per shared first segment.
    assert len(grouped) < len(listed) / 3
    flat = [pattern for pattern in listed if isinstance(pattern, URLPattern)]
    assert len(flat) == len(listed)
    # The operations of one path under several names (GET and POST /cases) share one view:
    # a path resolves to its first name, as before.
    first: dict[str, str | None] = {}
    for pattern in flat:
        first.setdefault(str(pattern.pattern), pattern.name)
    for pattern in flat:
        arguments = {name: f"x{index}" for index, name in enumerate(pattern.pattern.converters)}

        def argument(match: re.Match[str], given: dict[str, str] = arguments) -> str:
            return given[match.group(1)]

        expected = "/api/v1/" + re.sub(r"<(?:\w+:)?(\w+)>", argument, str(pattern.pattern))
        assert reverse(f"api-v1:{pattern.name}", kwargs=arguments) == expected
        found = resolve(expected)
        # The same operation (its views are made anew at each reading of `api.urls`).
        assert found.view_name == f"api-v1:{first[str(pattern.pattern)]}", expected
        assert found.route == f"api/v1/{pattern.pattern}" and found.kwargs == arguments


@pytest.mark.django_db
def test_a_path_under_a_segment_that_is_no_operation_is_the_api_s_404(api_city):
    dispatcher = api_city.as_("dispatcher")
    for path in (
        "/hotline/nothing",
        "/hotline/orders/extra",
        "/cases/a/b/c/d",
        "/hotline/orders/abc%0Adef/callback",
    ):
        assert_error(dispatcher.post(path, {}), 404, "not_found")
    # Also for a caller without the pages' CSRF cookie, as the API's callers are.
    strict = Client(enforce_csrf_checks=True)
    answer = strict.post("/api/v1/hotline/orders/abc%0Adef/callback", {}, "application/json")
    assert_error(answer, 404, "not_found")


# The revision tokens changed since the process read them last ----------------------------------


def _newcomer_told_of(api_city, monkeypatch, post) -> None:
    """`post` files a report after a dispatcher joined the township, the process still holding
    the tokens it read before: the report is written once, and the newcomer told of it."""
    report(api_city)  # the process reads the tokens and keeps the dispatchers under them
    seen = auth.held()
    newcomer = make_person("longtan-dispatcher-2", Role.DISPATCHER, jurisdiction=api_city.longtan)
    assert auth.held() == seen  # the process still holds what it read before the change
    cases, events = Case.objects.count(), Event.objects.count()
    photos, told = Attachment.objects.count(), Notification.objects.count()
    answer = post({"description": "人民市场东巷有游商占道", **LANE, "photos": [PHOTO]})
    assert answer.status_code == 201, answer.content
    case = Case.objects.get(reference=answer.json()["reference"])
    assert Case.objects.count() == cases + 1
    assert Event.objects.count() - events == case.events.count()
    assert Attachment.objects.count() == photos + 1
    new = list(
        Notification.objects.order_by("pk")[told:].values_list("recipient_id", "channel", "kind")
    )
    assert len(new) == len(set(new))
    assert newcomer.pk in {recipient for recipient, _channel, _kind in new}
    assert auth.held() != seen


PHOTO = base64.b64encode(png_bytes()).decode()


def test_a_report_with_a_photo_under_old_tokens_is_done_again_and_written_once(
    api_city, clock, monkeypatch
):
    _newcomer_told_of(
        api_city, monkeypatch, lambda body: api_city.as_("steward").post("/cases", body)
    )


def test_a_signed_in_browsers_report_under_old_tokens_is_done_again_and_written_once(
    api_city, clock, monkeypatch
):
    browser = Client()
    browser.force_login(api_city.steward)

    def post(body: dict[str, Any]) -> Any:
        return browser.post(BASE + "/cases", data=json.dumps(body), content_type="application/json")

    _newcomer_told_of(api_city, monkeypatch, post)
