"""12345 work orders through the API: the hotline platform's service token hands orders over,
one or a batch (all or none, idempotent by order number), pulls the answers with a cursor;
the township replies and records the call-back by the order's number. The caller's data is
in full only for the township's office.

On a frozen clock. T0 = Tuesday 12 May 2026, 09:00 Beijing time; a general order is replied
to within 7 natural days (by Tuesday 19 May, 09:00).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection

from tests.conftest import make_person
from tests.fixtures_api import Api, ApiCity, api_city_fixture, secret_for  # noqa: F401  (fixture)
from tests.fixtures_cases import (
    OFF_ANY_LANE,
    ON_THE_LANE,
    beijing,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from whistle.api import auth, tokens
from whistle.api.models import ApiToken
from whistle.cases import actions
from whistle.cases.hotline import HOTLINE_ANSWER
from whistle.cases.models import Case, Event, HotlineOrder
from whistle.cases.trail import EventKind
from whistle.notifications.models import Channel, Notification, WebhookEndpoint
from whistle.organisation import map_triggers
from whistle.organisation.models import Jurisdiction, Person, Role, RoleAssignment

T0 = beijing(2026, 5, 12, 9, 0)
REPLY_BY = "2026-05-19T01:00:00Z"
MIN = timedelta(minutes=1)
NAME, PHONE = "王小明", "13812341234"


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def order(number: str = "2026051200001", **fields: Any) -> dict[str, Any]:
    return {
        "order_number": number,
        "description": "人民市场东巷有游商占道经营",
        "lon": ON_THE_LANE[0],
        "lat": ON_THE_LANE[1],
        "caller_name": NAME,
        "caller_phone": PHONE,
        **fields,
    }


@pytest.fixture
def platform(api_city: ApiCity) -> Api:
    """The hotline platform's service account: the district's chiefs' office, with a service
    token an administrator made."""
    account = make_person("hotline-12345", Role.CHIEFS_OFFICE, jurisdiction=api_city.district)
    admin = Person.objects.create_superuser(username="admin", password="pw-123456")
    issued = tokens.issue_token(
        admin, person=account, name="12345 热线平台", kind=ApiToken.Kind.SERVICE
    )
    return Api(issued.secret)


def written() -> tuple[int, int, int]:
    return Case.objects.count(), Event.objects.count(), HotlineOrder.objects.count()


# One order ---------------------------------------------------------------------------------------


def test_a_dispatcher_takes_an_order_and_sees_the_caller_in_full(api_city, clock):
    answer = api_city.as_("dispatcher").post("/hotline/orders", order(deadline_class="general"))
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    case = Case.objects.get(reference=body["case"])
    assert (case.source, case.status, case.reporter_phone) == ("hotline", "reported", PHONE)
    assert body["created"] is True
    assert (body["order_number"], body["district"], body["township"]) == (
        "2026051200001",
        "110101",
        "110101015",
    )
    assert (body["caller_name"], body["caller_phone"]) == (NAME, PHONE)
    assert (body["respond_due_at"], body["resolve_due_at"]) == (REPLY_BY, REPLY_BY)
    assert (body["reply"], body["callback"], body["answer"]) == (None, None, None)


def test_the_same_order_number_again_answers_the_first_case_and_writes_nothing(api_city, clock):
    client = api_city.as_("dispatcher")
    first = client.post("/hotline/orders", order()).json()
    before = written()
    again = client.post("/hotline/orders", order(description="另一段描述"))
    assert again.status_code == 200
    assert (again.json()["case"], again.json()["created"]) == (first["case"], False)
    assert written() == before


def test_an_order_reads_the_revision_tokens_once_the_map_and_directory_in_one_statement(
    api_city, clock, monkeypatch
):
    client = api_city.as_("dispatcher")
    assert client.post("/hotline/orders", order(category="0501")).status_code == 201
    reads: list[tuple[str, ...]] = []
    read_tokens = map_triggers.read_tokens

    def counted(connection: Any, *revisions: Any) -> tuple[str | None, ...]:
        reads.append(tuple(r.name for r in revisions))
        return read_tokens(connection, *revisions)

    monkeypatch.setattr(map_triggers, "read_tokens", counted)
    answer = client.post("/hotline/orders", order("2026051200002", category="0501"))
    assert answer.status_code == 201, answer.json()
    # With the token's check (every read goes through `read_tokens`), for it and the
    # filing: its category's district, the action, the answer. On PostgreSQL none: the
    # filing's statement reads them beside its inserts.
    assert reads == ([] if connection.vendor == "postgresql" else [("map", "directory")])


def test_an_order_from_another_channel_without_a_number_is_numbered_and_answered_with_it(
    api_city, clock
):
    client = api_city.as_("dispatcher")
    body = {key: value for key, value in order(channel="other").items() if key != "order_number"}
    answer = client.post("/hotline/orders", body)
    assert answer.status_code == 201, answer.json()
    assert answer.json()["order_number"] == "110101015-20260512-001"
    # Sent again it is another order: it has no number of its own to be known by.
    again = client.post("/hotline/orders", {**body, "order_number": ""})
    assert again.status_code == 201, again.json()
    assert again.json()["order_number"] == "110101015-20260512-002"


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", "12345 热线工单和上级交办工单都有编号，请填写"),
        ("en", "An order of the 12345 hotline or from a superior has a number: give it."),
    ],
)
def test_a_12345_order_without_its_number_is_refused_on_the_number(
    api_city, clock, language, words
):
    body = {key: value for key, value in order().items() if key != "order_number"}
    answer = api_city.as_("dispatcher").post(
        "/hotline/orders", body, **{"Accept-Language": language}
    )
    assert answer.status_code == 422
    assert answer.json()["field"] == "order_number" and words in answer.json()["message"]
    assert written() == (0, 0, 0)


def test_the_callers_phone_is_taken_in_its_normal_form(api_city, clock):
    answer = api_city.as_("dispatcher").post(
        "/hotline/orders", order(caller_phone="+86 (10) 6512-3456")
    )
    assert answer.status_code == 201, answer.json()
    assert answer.json()["caller_phone"] == "01065123456"
    assert Case.objects.get().reporter_phone == "01065123456"


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", "6512 3456 不是可以回拨的号码"),
        ("en", "6512 3456 is not a number to call back"),
    ],
)
def test_a_malformed_callers_phone_is_refused_on_the_phone(api_city, clock, language, words):
    answer = api_city.as_("dispatcher").post(
        "/hotline/orders", order(caller_phone="6512 3456"), **{"Accept-Language": language}
    )
    assert answer.status_code == 422
    assert answer.json()["field"] == "caller_phone" and words in answer.json()["message"]
    assert written() == (0, 0, 0)


# The revision tokens changed since the process read them last ----------------------------------


def _runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times the endpoint runs its action (once per try)."""
    from whistle.api.routers import hotline as endpoint

    runs: list[int] = []
    action = endpoint.take_hotline_order

    def counted(*args: Any, **kwargs: Any) -> Any:
        runs.append(1)
        return action(*args, **kwargs)

    monkeypatch.setattr(endpoint, "take_hotline_order", counted)
    return runs


def _tries() -> int:
    """A filing under tokens that changed is done again on PostgreSQL; elsewhere the tokens
    are read before it starts."""
    return 2 if connection.vendor == "postgresql" else 1


def test_an_order_filed_under_old_tokens_is_done_again_with_the_new_directory(
    api_city, clock, monkeypatch
):
    client = api_city.as_("dispatcher")
    # The process reads the tokens and keeps the township's dispatchers under them.
    assert client.post("/hotline/orders", order()).status_code == 201
    seen = auth.held()
    newcomer = make_person("longtan-dispatcher-2", Role.DISPATCHER, jurisdiction=api_city.longtan)
    # The process still holds what it read before the directory changed.
    assert auth.held() == seen
    runs = _runs(monkeypatch)
    before, told = written(), Notification.objects.count()
    answer = client.post("/hotline/orders", order("2026051200002"))
    assert answer.status_code == 201, answer.json()
    assert len(runs) == _tries()
    # Written once, with the new dispatcher told.
    assert written() == (before[0] + 1, before[1] + 1, before[2] + 1)
    case = Case.objects.get(reference=answer.json()["case"])
    assert list(case.events.values_list("seq", flat=True)) == [1]
    new = list(
        Notification.objects.order_by("pk")[told:].values_list("recipient_id", "channel", "kind")
    )
    assert len(new) == len(set(new))
    assert newcomer.pk in {recipient for recipient, _channel, _kind in new}
    assert auth.held() != seen


def test_a_refusal_under_old_tokens_is_asked_again_under_the_new_ones(api_city, clock, monkeypatch):
    # A dispatcher of 朝阳区's 建外街道, who may not take an order in 龙潭街道.
    elsewhere = Jurisdiction.objects.get(code="110105001")
    newcomer = make_person("newcomer", Role.DISPATCHER, jurisdiction=elsewhere)
    client = Api(secret_for(newcomer))
    api_city.as_("dispatcher").post("/hotline/orders", order())
    assert client.post("/hotline/orders", order("2026051200002")).status_code == 403
    seen = auth.held()
    # The dispatcher moves to 龙潭街道: the role their token carries is now there.
    RoleAssignment.objects.filter(person=newcomer).update(jurisdiction=api_city.longtan)
    assert auth.held() == seen
    runs = _runs(monkeypatch)
    before = written()
    answer = client.post("/hotline/orders", order("2026051200002"))
    assert answer.status_code == 201, answer.json()
    assert len(runs) == _tries()
    assert written() == (before[0] + 1, before[1] + 1, before[2] + 1)


def test_a_token_revoked_since_the_tokens_were_read_is_refused_and_writes_nothing(
    api_city, clock, monkeypatch
):
    client = api_city.as_("dispatcher")
    assert client.post("/hotline/orders", order()).status_code == 201
    seen = auth.held()
    dispatcher = api_city.dispatcher
    tokens.revoke_token(dispatcher, ApiToken.objects.get(person=dispatcher))
    assert auth.held() == seen
    before = written()
    answer = client.post("/hotline/orders", order("2026051200002"))
    assert (answer.status_code, answer.json()["code"]) == (401, "token_revoked")
    assert written() == before


def test_the_platforms_service_token_takes_orders_anywhere_in_the_district_caller_masked(
    api_city, platform, clock
):
    answer = platform.post("/hotline/orders", order(channel="hotline"))
    assert answer.status_code == 201, answer.json()
    assert (answer.json()["caller_name"], answer.json()["caller_phone"]) == ("王*", "138****1234")
    case = Case.objects.get(reference=answer.json()["case"])
    assert case.events.get(seq=1).actor_role == Role.CHIEFS_OFFICE


def test_an_order_is_refused_where_the_caller_may_not_take_it(api_city, clock):
    answer = api_city.as_("dongsi_dispatcher").post("/hotline/orders", order())
    assert answer.status_code == 403
    assert answer.json()["code"] == "permission_refused"
    assert written() == (0, 0, 0)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"caller_name": "", "caller_phone": ""}, "caller_name"),
        ({"deadline_class": "urgent"}, "deadline_class"),
        ({"order_number": "2026 05"}, "order_number"),
        ({"lon": OFF_ANY_LANE[0] + 5}, "lon"),
        ({"category": "9999"}, "category"),
        ({"called_at": "2026-05-13T09:00:00+08:00"}, "called_at"),
    ],
)
def test_a_bad_order_names_its_field_and_writes_nothing(api_city, clock, fields, field):
    answer = api_city.as_("dispatcher").post("/hotline/orders", order(**fields))
    assert answer.status_code == 422, answer.json()
    assert (answer.json()["code"], answer.json()["field"]) == ("invalid", field)
    assert written() == (0, 0, 0)


# A batch -----------------------------------------------------------------------------------------


def test_a_batch_is_taken_whole_and_again_changes_nothing(api_city, platform, clock):
    batch = {
        "orders": [order("B-1"), order("B-2", channel="superior", caller_name=""), order("B-1")]
    }
    answer = platform.post("/hotline/orders/batch", batch)
    assert answer.status_code == 201, answer.json()
    taken = answer.json()["orders"]
    assert [(o["order_number"], o["created"]) for o in taken] == [
        ("B-1", True),
        ("B-2", True),
        ("B-1", False),
    ]
    assert taken[0]["case"] == taken[2]["case"]
    assert HotlineOrder.objects.count() == 2
    before = written()
    again = platform.post("/hotline/orders/batch", batch)
    assert again.status_code == 200
    assert [o["created"] for o in again.json()["orders"]] == [False, False, False]
    assert [o["case"] for o in again.json()["orders"]] == [o["case"] for o in taken]
    assert written() == before


def test_a_batch_numbers_each_order_from_another_channel_that_came_without_one(
    api_city, platform, clock
):
    unnumbered = order("", channel="other")
    batch = {"orders": [unnumbered, order("B-1"), unnumbered]}
    answer = platform.post("/hotline/orders/batch", batch)
    assert answer.status_code == 201, answer.json()
    assert [(o["order_number"], o["created"]) for o in answer.json()["orders"]] == [
        ("110101015-20260512-001", True),
        ("B-1", True),
        ("110101015-20260512-002", True),
    ]


def refused_batch(platform: Api, orders: list[Any]) -> dict[str, Any]:
    """The answer to a batch refused whole: 422, naming its first refused order's field,
    and nothing written."""
    answer = platform.post("/hotline/orders/batch", {"orders": orders})
    assert answer.status_code == 422, answer.json()
    body: dict[str, Any] = answer.json()
    assert (body["code"], body["field"]) == ("invalid", "orders.1.deadline_class")
    assert written() == (0, 0, 0)
    return body


def test_a_batch_with_bad_orders_writes_nothing_and_reports_each_by_index(
    api_city, platform, clock
):
    body = refused_batch(
        platform,
        [
            order("B-1"),
            order("B-2", deadline_class="urgent"),
            order("B-3", lon=OFF_ANY_LANE[0] + 5),
            order("B-4"),
            order("B-5", caller_name="", caller_phone="", category="9999"),
        ],
    )
    assert [(p["index"], p["field"]) for p in body["problems"]] == [
        (1, "deadline_class"),
        (2, "lon"),
        (4, "category"),
    ]
    assert all(p["message"] for p in body["problems"])


def test_a_batch_with_malformed_orders_reports_each_beside_the_refused_ones(
    api_city, platform, clock
):
    body = refused_batch(
        platform,
        [
            order("B-1"),
            order("B-2", deadline_class="zzz"),
            order("B-3", lon=999),
            order("B-4", lat="x"),
            order("B-5", colour="red"),
            "B-6",
            order("B-7"),
        ],
    )
    assert body["message"].startswith("未受理任何工单；被拒绝的工单：5 个。")
    assert [(p["index"], p["field"]) for p in body["problems"]] == [
        (1, "deadline_class"),
        (2, "lon"),
        (3, "lat"),
        (4, "colour"),
        (5, None),
    ]
    assert [p["message"] for p in body["problems"][1:]] == [
        "经度无效：过大",
        "纬度无效：类型或格式错误",
        "“colour”无效：不是此请求的输入项",
        "该工单不是由工单字段组成的 JSON 对象。",
    ]


def test_a_batch_with_an_order_the_caller_may_not_take_is_refused_whole(api_city, clock):
    batch = {"orders": [order("B-1"), order("B-2")]}
    answer = api_city.as_("dongsi_dispatcher").post("/hotline/orders/batch", batch)
    assert answer.status_code == 403
    assert answer.json()["code"] == "permission_refused"
    assert written() == (0, 0, 0)


def test_a_batch_retried_with_its_idempotency_key_gets_the_first_answer(api_city, platform, clock):
    batch = {"orders": [order("B-1")]}
    first = platform.post("/hotline/orders/batch", batch, **{"Idempotency-Key": "batch-1"})
    again = platform.post("/hotline/orders/batch", batch, **{"Idempotency-Key": "batch-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()


# Answers: reply, call-back, pull -----------------------------------------------------------------


def test_the_township_replies_and_calls_back_by_the_order_number(api_city, clock):
    WebhookEndpoint.objects.create(
        name="12345", url="https://12345.example/hook", secret="s", event_kinds=[HOTLINE_ANSWER]
    )
    client = api_city.as_("dispatcher")
    case_ref = client.post("/hotline/orders", order("BJ/2026/0001")).json()["case"]
    clock.move_to(T0 + 30 * MIN)
    replied = client.post(
        "/hotline/orders/110101/BJ/2026/0001/reply", {"kind": "done", "reply": "城管已到场处置"}
    )
    assert replied.status_code == 200, replied.json()
    assert replied.json()["reply"] == {
        "text": "城管已到场处置",
        "kind": "done",
        "replied_at": "2026-05-12T01:30:00Z",
        "on_time": True,
        "promised_by": None,
    }
    clock.move_to(T0 + 60 * MIN)
    not_reached = client.post("/hotline/orders/110101/BJ/2026/0001/callback", {"contacted": False})
    assert not_reached.json()["callback"]["contacted"] is False
    clock.move_to(T0 + 90 * MIN)
    called = client.post(
        "/hotline/orders/110101/BJ/2026/0001/callback",
        {"contacted": True, "resolved": True, "satisfied": True},
    )
    assert called.status_code == 200, called.json()
    assert called.json()["callback"] == {
        "called_back_at": "2026-05-12T02:30:00Z",
        "contacted": True,
        "resolved": True,
        "satisfied": True,
    }
    kinds = list(Case.objects.get(reference=case_ref).events.values_list("kind", flat=True))
    assert kinds.count(EventKind.HOTLINE_REPLIED) == 1
    assert len(kinds) == 4
    sent = Notification.objects.filter(channel=Channel.WEBHOOK, kind=HOTLINE_ANSWER)
    assert [n.payload["answer"] for n in sent.order_by("pk")] == ["reply", "callback", "callback"]


def test_a_call_back_before_the_reply_is_refused_and_writes_nothing(api_city, clock):
    client = api_city.as_("dispatcher")
    client.post("/hotline/orders", order("C-1"))
    before = written()
    answer = client.post("/hotline/orders/110101/C-1/callback", {"satisfied": True})
    assert (answer.status_code, answer.json()["code"]) == (409, "state_conflict")
    assert written() == before


def test_a_reply_without_a_kind_is_in_progress_before_the_case_is_handled_and_done_after(
    api_city, clock
):
    client = api_city.as_("dispatcher")
    client.post("/hotline/orders", order("U-1"))
    client.post("/hotline/orders", order("U-2"))
    clock.move_to(T0 + 30 * MIN)
    early = client.post("/hotline/orders/110101/U-1/reply", {"reply": "城管已派人前往"})
    assert early.status_code == 200, early.json()
    assert early.json()["reply"]["kind"] == "in_progress"
    # Promised by the order's resolve deadline, as the reply form first proposes.
    resolve_by = HotlineOrder.objects.get(number="U-1").resolve_due_at
    assert resolve_by > T0 + 30 * MIN
    assert datetime.fromisoformat(early.json()["reply"]["promised_by"]) == resolve_by
    case = HotlineOrder.objects.get(number="U-2").case
    Case.objects.filter(pk=case.pk).update(status=Case.Status.HANDLED)
    late = client.post("/hotline/orders/110101/U-2/reply", {"reply": "已清理完毕"})
    assert late.status_code == 200, late.json()
    assert late.json()["reply"]["kind"] == "done"
    assert late.json()["reply"]["promised_by"] is None


def test_a_reply_without_a_kind_past_the_resolve_deadline_must_say_by_when(api_city, clock):
    client = api_city.as_("dispatcher")
    client.post("/hotline/orders", order("U-3"))
    resolve_by = HotlineOrder.objects.get(number="U-3").resolve_due_at
    clock.move_to(resolve_by + MIN)
    before = written()
    unpromised = client.post("/hotline/orders/110101/U-3/reply", {"reply": "城管已派人前往"})
    assert unpromised.status_code == 422, unpromised.json()
    assert unpromised.json()["field"] == "promised_by"
    assert "正在办理" in unpromised.json()["message"]
    assert written() == before
    promised = client.post(
        "/hotline/orders/110101/U-3/reply",
        {"reply": "城管已派人前往", "promised_by": (resolve_by + timedelta(days=1)).isoformat()},
    )
    assert promised.status_code == 200, promised.json()
    assert promised.json()["reply"]["kind"] == "in_progress"


def test_a_reply_names_its_kind_and_an_in_progress_one_holds_the_call_back(api_city, clock):
    client = api_city.as_("dispatcher")
    case_ref = client.post("/hotline/orders", order("K-1")).json()["case"]
    clock.move_to(T0 + 30 * MIN)
    before = written()
    refused = client.post("/hotline/orders/110101/K-1/reply", {"kind": "finished", "reply": "x"})
    assert refused.status_code == 422, refused.json()
    assert (refused.json()["code"], refused.json()["field"]) == ("invalid", "kind")
    assert written() == before
    replied = client.post(
        "/hotline/orders/110101/K-1/reply",
        {
            "kind": "in_progress",
            "reply": "城管已派人，明天前清理",
            "promised_by": "2026-05-13T18:00:00+08:00",
        },
    )
    assert replied.status_code == 200, replied.json()
    assert replied.json()["reply"]["kind"] == "in_progress"
    clock.move_to(T0 + 60 * MIN)
    before = written()
    body: dict[str, Any] = {"contacted": True, "resolved": True, "satisfied": True}
    waiting = client.post("/hotline/orders/110101/K-1/callback", body)
    assert (waiting.status_code, waiting.json()["code"]) == (409, "state_conflict")
    assert "正在办理" in waiting.json()["message"]
    english = client.post("/hotline/orders/110101/K-1/callback", body, **{"Accept-Language": "en"})
    assert (
        "the call-back comes once the result is given to the caller or the case is marked "
        "resolved or closed" in (english.json()["message"])
    )
    assert written() == before
    city = api_city.city
    case = actions.file_case(
        city.dispatcher, Case.objects.get(reference=case_ref), category=city.street_vending
    )
    actions.solve_on_spot(city.dispatcher, case, note="已清理")
    called = client.post("/hotline/orders/110101/K-1/callback", body)
    assert called.status_code == 200, called.json()


def test_the_final_reply_by_the_order_number_gives_the_result_after_in_progress(api_city, clock):
    WebhookEndpoint.objects.create(
        name="12345", url="https://12345.example/hook", secret="s", event_kinds=[HOTLINE_ANSWER]
    )
    client = api_city.as_("dispatcher")
    client.post("/hotline/orders", order("F-1"))
    clock.move_to(T0 + 30 * MIN)
    before = written()
    too_soon = client.post("/hotline/orders/110101/F-1/final-reply", {"reply": "已清理"})
    assert (too_soon.status_code, too_soon.json()["code"]) == (409, "state_conflict")
    for promise, field in (
        ("2026-05-12T08:00:00+08:00", "promised_by"),  # past
        ("2026-05-15T18:00:00", "promised_by"),  # no time zone
    ):
        refused = client.post(
            "/hotline/orders/110101/F-1/reply",
            {"kind": "in_progress", "reply": "城管已派人", "promised_by": promise},
        )
        assert (refused.status_code, refused.json()["field"]) == (422, field), refused.json()
    refused = client.post(
        "/hotline/orders/110101/F-1/reply",
        {"kind": "done", "reply": "已清理", "promised_by": "2026-05-15T18:00:00+08:00"},
    )
    assert (refused.status_code, refused.json()["field"]) == (422, "promised_by")
    assert written() == before
    client.post(
        "/hotline/orders/110101/F-1/reply",
        {"kind": "in_progress", "reply": "城管已派人", "promised_by": "2026-05-15T18:00:00+08:00"},
    )
    clock.move_to(T0 + 60 * MIN)
    wrong = client.post(
        "/hotline/orders/110101/F-1/final-reply", {"kind": "in_progress", "reply": "x"}
    )
    assert (wrong.status_code, wrong.json()["field"]) == (422, "kind")
    final = client.post("/hotline/orders/110101/F-1/final-reply", {"reply": "游商已劝离"})
    assert final.status_code == 200, final.json()
    body = final.json()
    assert body["reply"]["kind"] == "in_progress"
    assert body["reply"]["promised_by"] == "2026-05-15T10:00:00Z"
    assert body["final_reply"] == {
        "text": "游商已劝离",
        "kind": "done",
        "replied_at": "2026-05-12T02:00:00Z",
        "promise_kept": True,
    }
    assert body["promise_overdue"] is False
    again = client.post("/hotline/orders/110101/F-1/final-reply", {"reply": "再说一次"})
    assert (again.status_code, again.json()["code"]) == (409, "state_conflict")
    called = client.post(
        "/hotline/orders/110101/F-1/callback",
        {"contacted": True, "resolved": True, "satisfied": True},
    )
    assert called.status_code == 200, called.json()
    sent = Notification.objects.filter(channel=Channel.WEBHOOK, kind=HOTLINE_ANSWER)
    assert [n.payload["answer"] for n in sent.order_by("pk")] == [
        "reply",
        "final_reply",
        "callback",
    ]


def test_an_order_outside_the_callers_area_is_not_found(api_city, clock):
    api_city.as_("dispatcher").post("/hotline/orders", order("C-1"))
    answer = api_city.as_("chaoyang_dispatcher").post(
        "/hotline/orders/110101/C-1/reply", {"kind": "done", "reply": "已处理"}
    )
    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    unknown = api_city.as_("dispatcher").post(
        "/hotline/orders/110101/C-2/reply", {"kind": "done", "reply": "已处理"}
    )
    assert unknown.status_code == 404


def test_the_platform_pulls_the_webhooks_documents_page_by_page(api_city, platform, clock):
    WebhookEndpoint.objects.create(
        name="12345", url="https://12345.example/hook", secret="s", event_kinds=[HOTLINE_ANSWER]
    )
    city = api_city.city
    cases = {n: actions.take_hotline_order(city.dispatcher, **_domain(n)).case for n in "ABC"}
    empty = platform.get("/hotline/answers", {"district": "110101"}).json()
    assert empty == {"items": [], "next_cursor": None, "has_more": False}
    clock.move_to(T0 + MIN)
    # Two answers at the same moment: a page may end between them.
    actions.record_hotline_reply(city.dispatcher, cases["A"], kind="done", reply="已处理")
    actions.record_hotline_reply(city.dispatcher, cases["B"], kind="done", reply="已处理")
    clock.move_to(T0 + 2 * MIN)
    actions.record_hotline_reply(city.dispatcher, cases["C"], kind="done", reply="已处理")
    first = platform.get("/hotline/answers", {"district": "110101", "limit": 1}).json()
    assert first["has_more"] is True
    second = platform.get(
        "/hotline/answers", {"district": "110101", "cursor": first["next_cursor"]}
    ).json()
    assert second["has_more"] is False
    pulled = [*first["items"], *second["items"]]
    assert sorted(a["order_number"] for a in pulled[:2]) == ["A", "B"]
    assert pulled[2]["order_number"] == "C"
    # The same documents as the webhook's, without naming what just changed.
    pushed = {
        n.payload["order_number"]: n.payload
        for n in Notification.objects.filter(channel=Channel.WEBHOOK, kind=HOTLINE_ANSWER)
    }
    for document in pulled:
        expected = {**pushed[document["order_number"]], "answer": None}
        assert _normalised(document) == _normalised(expected)
    # Nothing new: the cursor stays where it was.
    idle = platform.get(
        "/hotline/answers", {"district": "110101", "cursor": second["next_cursor"]}
    ).json()
    assert idle == {"items": [], "next_cursor": second["next_cursor"], "has_more": False}
    clock.move_to(T0 + 3 * MIN)
    actions.record_resident_callback(city.dispatcher, cases["A"], satisfied=True, resolved=True)
    later = platform.get(
        "/hotline/answers", {"district": "110101", "cursor": second["next_cursor"]}
    ).json()
    assert [(a["order_number"], a["callback"]["satisfied"]) for a in later["items"]] == [
        ("A", True)
    ]
    since = platform.get(
        "/hotline/answers", {"district": "110101", "since": "2026-05-12T09:01:00+08:00"}
    ).json()
    assert [a["order_number"] for a in since["items"]] == ["C", "A"]


def _domain(number: str) -> dict[str, Any]:
    fields = order(number)
    fields["number"] = fields.pop("order_number")
    return fields


def _normalised(document: dict[str, Any]) -> dict[str, Any]:
    """Times compared as instants: the webhook writes +00:00, the API Z."""
    from django.utils.dateparse import parse_datetime

    def value(item: Any) -> Any:
        if isinstance(item, dict):
            return {k: value(v) for k, v in item.items()}
        if isinstance(item, str) and item[:4].isdigit() and "T" in item:
            return parse_datetime(item.replace("Z", "+00:00"))
        return item

    return value(document)


def test_the_answers_are_for_the_districts_chiefs_only(api_city, clock):
    assert (
        api_city.as_("district_chief").get("/hotline/answers", {"district": "110101"}).status_code
        == 200
    )
    refused = api_city.as_("dispatcher").get("/hotline/answers", {"district": "110101"})
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_refused")
    unknown = api_city.as_("district_chief").get("/hotline/answers", {"district": "999999"})
    assert (unknown.status_code, unknown.json()["field"]) == (422, "district")
    bad = api_city.as_("district_chief").get(
        "/hotline/answers", {"district": "110101", "cursor": "not-a-cursor"}
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_cursor")
