"""A 12345 work order's life (接诉即办): taken by the township, replied to by its deadline
class's limit, called back, and told back to the hotline platform; the caller's data kept
out of the trail.

On a frozen clock, with the actions. T0 = Tuesday 12 May 2026, 09:00 Beijing time: 龙潭街道's
dispatcher takes order 2026051200001 by phone, a general order (reply and resolve within 7
natural days: by Tuesday 19 May, 09:00), about street vending on 人民市场东巷.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from tests.conftest import at_once, make_person, square
from tests.fixtures_cases import (
    OFF_ANY_LANE,
    ON_THE_LANE,
    beijing,
    png_bytes,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from tests.hotline_classes import deadline_class, superurgent_class
from tests.test_notifications import receiver  # noqa: F401  (fixture)
from whistle.assessment.hotline import hotline_rates
from whistle.cases import actions, callers
from whistle.cases.actions import hotline as hotline_actions
from whistle.cases.deadlines import sweep
from whistle.cases.errors import ActionRefused, InvalidInput, PermissionRefused, StateRefused
from whistle.cases.hotline import HOTLINE_ANSWER, HOTLINE_PLATFORM_ROLE, hotline_answers
from whistle.cases.models import Attachment, Case, Event, HotlineOrder
from whistle.cases.permissions import may
from whistle.cases.rules import hotline_deadline_classes
from whistle.cases.trail import EventKind
from whistle.cases.verify import verify_database
from whistle.notifications import delivery, webhooks
from whistle.notifications.models import Channel, Notification, WebhookEndpoint
from whistle.notifications.outbox import inbox
from whistle.organisation import personal_data
from whistle.organisation.models import Jurisdiction, Role, RoleAssignment
from whistle.policies.models import DurationUnit, HotlineDeadlineClass

T0 = beijing(2026, 5, 12, 9, 0)
REPLY_BY = beijing(2026, 5, 19, 9, 0)
# The result a reply "in progress" promises: Friday 15 May, 18:00.
PROMISED = beijing(2026, 5, 15, 18, 0)
MIN = timedelta(minutes=1)
MICROSECOND = timedelta(microseconds=1)
NAME, PHONE = "王小明", "13812341234"
ON_POSTGRES = "postgresql" in str(settings.DATABASES["default"]["ENGINE"])


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def take(city: Any, number: str | None = "2026051200001", **fields: Any) -> actions.TakenOrder:
    values: dict[str, Any] = {
        "number": number,
        "description": "人民市场东巷有游商占道经营",
        "lon": ON_THE_LANE[0],
        "lat": ON_THE_LANE[1],
        "caller_name": NAME,
        "caller_phone": PHONE,
    }
    values.update(fields)
    actor = values.pop("actor", city.dispatcher)
    return actions.take_hotline_order(actor, **values)


def sweep_at(clock: Any, moment: datetime) -> int:
    clock.move_to(moment)
    return sweep(timezone.now(), batch=500)


def answers_queued() -> list[Notification]:
    return list(
        Notification.objects.filter(channel=Channel.WEBHOOK, kind=HOTLINE_ANSWER).order_by("pk")
    )


# Taking an order ---------------------------------------------------------------------------


def test_an_order_becomes_a_reported_case_with_the_limits_of_its_class(whistle_city, clock):
    taken = take(whistle_city, address="夕照寺中街 12 号", called_at=T0 - 10 * MIN)
    case, order = taken.case, taken.order
    assert taken.created
    assert (case.status, case.source, case.external_id) == ("reported", "hotline", order.number)
    assert (case.township, case.lane) == (whistle_city.longtan, whistle_city.lane)
    assert (order.channel, order.deadline_class, order.district) == (
        "hotline",
        "general",
        whistle_city.district,
    )
    assert (order.received_at, order.called_at) == (T0, T0 - 10 * MIN)
    assert order.respond_due_at == REPLY_BY and order.resolve_due_at == REPLY_BY
    # The sweep looks just after the reply deadline.
    assert order.reply_check_at == REPLY_BY + MICROSECOND
    [event] = Event.objects.filter(case=case)
    assert (event.kind, event.actor, event.actor_role) == (
        EventKind.CASE_REPORTED,
        whistle_city.dispatcher,
        "dispatcher",
    )
    assert event.data["respond_due_at"] == REPLY_BY.astimezone(UTC).isoformat()
    assert event.data["deadline_class"] == "general" and event.data["channel"] == "hotline"


def test_the_callers_data_stays_on_the_case_and_the_trail_holds_a_commitment(whistle_city, clock):
    case, order = take(whistle_city).case, HotlineOrder.objects.get()
    assert (case.reporter_name, case.reporter_phone) == (NAME, PHONE)
    event = Event.objects.get(case=case)
    stored = json.dumps(event.data, ensure_ascii=False)
    assert NAME not in stored and PHONE not in stored
    # Not even the masked number: the phone's last digits appear nowhere but, by chance, in
    # the commitment's random hex, which is left out of this look.
    besides = {key: value for key, value in event.data.items() if key != "caller"}
    assert "1234" not in json.dumps(besides, ensure_ascii=False)
    assert "reporter_name" not in event.data
    # The commitment is checked with the salt kept beside the data …
    assert event.data["caller"] == personal_data.commitment(order.caller_salt, NAME, PHONE)
    assert event.data["caller"] != personal_data.commitment(order.caller_salt, NAME, "13812341235")
    # … and the same caller on another order gets another commitment: no linking by hash.
    other = take(whistle_city, "2026051200002").case
    assert Event.objects.get(case=other).data["caller"] != event.data["caller"]


# The caller's phone, kept in one form ----------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("139 0000 1234", "13900001234"),
        ("+86 139-0000-1234", "13900001234"),
        ("0086 (139) 0000 1234", "13900001234"),
        ("（010）6512－3456", "01065123456"),
        ("+86 10 6512 3456", "01065123456"),
        ("0571-8765432", "05718765432"),
    ],
)
def test_a_callers_phone_is_kept_in_its_normal_form_however_it_was_typed(
    whistle_city, clock, typed, kept
):
    taken = take(whistle_city, caller_phone=typed)
    assert taken.case.reporter_phone == kept
    # The trail's commitment is to the number as kept.
    event = Event.objects.get(case=taken.case)
    assert event.data["caller"] == personal_data.commitment(taken.order.caller_salt, NAME, kept)


@pytest.mark.parametrize("typed", ["6512 3456", "128 1234 5678", "139 0000 123", "010-0123 4567"])
def test_a_malformed_callers_phone_is_refused_in_the_readers_language_and_nothing_is_written(
    whistle_city, clock, typed
):
    for language, words in (
        ("zh-hans", "不是可以回拨的号码：请填写手机号码（11 位"),
        ("en", "is not a number to call back: give a mobile number (11 digits"),
    ):
        with translation.override(language):
            with pytest.raises(InvalidInput) as refused:
                take(whistle_city, caller_phone=typed)
            assert refused.value.field == "caller_phone"
            assert typed in str(refused.value) and words in str(refused.value)
    assert not Case.objects.exists() and not HotlineOrder.objects.exists()


def test_erasing_by_phone_finds_a_caller_however_either_number_was_written(whistle_city, clock):
    fixed = take(whistle_city, caller_phone="010-6512 3456").case
    mobile = take(whistle_city, "2026051200002", caller_phone="0086 139 0000 1234").case
    other = take(whistle_city, "2026051200003", caller_phone="13812341234").case
    call_command("erase_personal_data", "--phone", "+86 10 6512-3456", stdout=io.StringIO())
    call_command("erase_personal_data", "--phone", "139-0000-1234", stdout=io.StringIO())
    erased = set(
        Case.objects.filter(personal_data_erased_at__isnull=False).values_list("pk", flat=True)
    )
    assert erased == {fixed.pk, mobile.pk} and other.pk not in erased


# An order without a number of its own ---------------------------------------------------------


def test_an_order_from_another_channel_without_a_number_is_numbered_by_township_day_and_sequence(
    whistle_city, clock
):
    first = take(whistle_city, "", channel="other")
    second = take(whistle_city, None, channel="other")
    # A number typed in by hand that the sequence would give next is passed over.
    typed = take(whistle_city, "110101015-20260512-003", channel="other")
    third = take(whistle_city, "  ", channel="other")
    assert [t.order.number for t in (first, second, typed, third)] == [
        "110101015-20260512-001",
        "110101015-20260512-002",
        "110101015-20260512-003",
        "110101015-20260512-004",
    ]
    assert all(t.created for t in (first, second, typed, third))
    assert first.case.external_id == first.order.number
    assert Event.objects.get(case=first.case).data["external_id"] == first.order.number
    # The next day, Beijing time, starts again at 1; the numbers stay unique.
    clock.move_to(beijing(2026, 5, 13, 0, 30))
    assert take(whistle_city, "", channel="other").order.number == "110101015-20260513-001"
    assert HotlineOrder.objects.values("number").distinct().count() == 5


def test_an_order_of_the_hotline_or_a_superior_needs_its_own_number(whistle_city, clock):
    for channel in ("hotline", "superior"):
        for language, words in (
            ("zh-hans", "12345 热线工单和上级交办工单都有编号，请填写"),
            ("en", "An order of the 12345 hotline or from a superior has a number: give it."),
        ):
            with translation.override(language):
                with pytest.raises(InvalidInput) as refused:
                    take(whistle_city, "", channel=channel)
                assert refused.value.field == "number" and words in str(refused.value)
    assert not Case.objects.exists() and not HotlineOrder.objects.exists()


def test_a_refused_unnumbered_order_gives_no_number_away(whistle_city, clock):
    with pytest.raises(InvalidInput):
        take(whistle_city, "", channel="other", deadline_class="nonesuch")
    assert take(whistle_city, "", channel="other").order.number == "110101015-20260512-001"


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_unnumbered_orders_taken_at_the_same_moment_get_numbers_of_their_own(whistle_city):
    numbers, errors = at_once(
        4, lambda: take(whistle_city, "", channel="other", now=T0).order.number
    )
    assert errors == []
    assert sorted(numbers) == [f"110101015-20260512-00{n}" for n in range(1, 5)]
    assert HotlineOrder.objects.count() == 4


def test_the_deadline_class_comes_from_the_districts_data(whistle_city, clock):
    district = whistle_city.district
    deadline_class(
        district,
        "emergency",
        "紧急",
        (90, DurationUnit.NATURAL_MINUTES),
        (4, DurationUnit.NATURAL_HOURS),
    )
    deadline_class(
        district,
        "general",
        "一般",
        (5, DurationUnit.NATURAL_DAYS),
        (10, DurationUnit.NATURAL_DAYS),
        is_default=True,
    )
    urgent = take(whistle_city, "A-1", deadline_class="emergency").order
    assert (urgent.respond_due_at, urgent.resolve_due_at) == (T0 + 90 * MIN, T0 + 4 * 60 * MIN)
    assert urgent.deadline_class_name == "紧急"
    plain = take(whistle_city, "A-2").order
    assert (plain.deadline_class, plain.respond_due_at) == ("general", T0 + timedelta(days=5))
    # The built-in classes the district did not enter stay as the rules give them.
    utilities = take(whistle_city, "A-3", deadline_class="utilities").order
    assert utilities.respond_due_at == T0 + timedelta(hours=24)
    with pytest.raises(InvalidInput) as refused:
        take(whistle_city, "A-4", deadline_class="zzz")
    assert refused.value.field == "deadline_class"
    assert "紧急 (emergency)" in str(refused.value) and "(complex)" in str(refused.value)


def test_a_district_adding_a_class_keeps_the_built_in_ones_and_their_default(whistle_city, clock):
    superurgent_class(whistle_city.district)
    classes = hotline_deadline_classes(whistle_city.district)
    assert [c.code for c in classes] == [
        "superurgent",
        "emergency",
        "utilities",
        "general",
        "complex",
    ]
    assert [c.code for c in classes if c.is_default] == ["general"]
    general = take(whistle_city, "D-1", deadline_class="general").order
    assert general.respond_due_at == T0 + timedelta(days=7)
    unnamed = take(whistle_city, "D-2").order
    assert (unnamed.deadline_class, unnamed.respond_due_at) == ("general", REPLY_BY)
    fast = take(whistle_city, "D-3", deadline_class="superurgent").order
    assert fast.respond_due_at == T0 + 30 * MIN
    # A class of the district marked default is the default instead of the built-in one.
    HotlineDeadlineClass.objects.filter(code="superurgent").update(is_default=True)
    assert take(whistle_city, "D-4").order.deadline_class == "superurgent"
    assert [c.code for c in hotline_deadline_classes(whistle_city.district) if c.is_default] == [
        "superurgent"
    ]


def test_without_classes_of_its_own_a_district_has_the_four_of_the_rules(whistle_city, clock):
    limits = {
        code: take(whistle_city, f"B-{code}", deadline_class=code).order.respond_due_at - T0
        for code in ("emergency", "utilities", "general", "complex")
    }
    assert limits == {
        "emergency": timedelta(hours=2),
        "utilities": timedelta(hours=24),
        "general": timedelta(days=7),
        "complex": timedelta(days=15),
    }


def test_the_township_the_district_or_the_platform_may_take_an_order(whistle_city, clock):
    city = whistle_city
    assert take(city, "C-1", actor=city.township_chief).created
    assert take(city, "C-2", actor=city.township_office).created
    assert take(city, "C-3", actor=city.district_office).created
    by_platform = take(city, "C-4", actor=None).case
    event = Event.objects.get(case=by_platform)
    assert (event.actor, event.actor_role) == (None, HOTLINE_PLATFORM_ROLE)
    for person in (city.steward, city.lane_chief, city.urban_officer, city.dongsi_dispatcher):
        with pytest.raises(PermissionRefused):
            take(city, "C-5", actor=person)
    assert not HotlineOrder.objects.filter(number="C-5").exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"number": "2026 0512"}, "number"),
        ({"number": ""}, "number"),
        ({"number": "工单1"}, "number"),
        ({"caller_name": "", "caller_phone": ""}, "caller_name"),
        ({"caller_phone": "call me"}, "caller_phone"),
        ({"channel": "fax"}, "channel"),
        ({"deadline_class": "whenever"}, "deadline_class"),
        ({"called_at": datetime(2026, 5, 12, 9, 0)}, "called_at"),  # noqa: DTZ001  (naive on purpose)
        ({"called_at": T0 + timedelta(hours=1)}, "called_at"),
        ({"lon": 100.0, "lat": 30.0}, "position"),
        ({"description": " "}, "description"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(whistle_city, clock, fields, field):
    with pytest.raises(InvalidInput) as refused:
        take(whistle_city, **fields)
    assert refused.value.field == field
    assert not Case.objects.exists() and not HotlineOrder.objects.exists()


def test_an_order_from_a_superior_needs_no_caller(whistle_city, clock):
    taken = take(whistle_city, "SJ-2026-17", channel="superior", caller_name="", caller_phone="")
    assert (taken.case.source, taken.order.channel, taken.order.caller_salt) == (
        "superior",
        "superior",
        "",
    )
    assert Event.objects.get(case=taken.case).data["caller"] == ""


# Idempotent by order number -----------------------------------------------------------------


def test_a_second_intake_of_the_same_number_returns_the_first_case(whistle_city, clock):
    first = take(whistle_city)
    clock.move_to(T0 + 5 * MIN)
    again = take(whistle_city, description="同一工单再次派来", actor=whistle_city.township_chief)
    assert (again.created, again.case, again.order) == (False, first.case, first.order)
    assert Case.objects.count() == 1 and Event.objects.count() == 1
    assert Case.objects.get().description == "人民市场东巷有游商占道经营"


def test_the_same_number_in_another_district_is_another_order(whistle_city, clock):
    xicheng = Jurisdiction.objects.create(
        level="district",
        code="110102",
        name="西城区",
        parent=whistle_city.city.city,
        boundary=square(116.30, 39.85, 0.05),
    )
    xinjiekou = Jurisdiction.objects.create(
        level="township",
        code="110102001",
        name="新街口街道",
        parent=xicheng,
        boundary=square(116.31, 39.86, 0.01),
    )
    dispatcher = make_person("xinjiekou-dispatcher", Role.DISPATCHER, jurisdiction=xinjiekou)
    take(whistle_city)
    other = take(whistle_city, actor=dispatcher, lon=116.315, lat=39.865)
    assert other.created and other.order.district == xicheng
    assert HotlineOrder.objects.count() == 2


def test_a_new_number_is_taken_without_a_read_of_the_orders_before_the_insert(whistle_city, clock):
    with CaptureQueriesContext(connection) as queries:
        taken = take(whistle_city)
    assert taken.created
    statements = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in statements if s.startswith("SELECT") and '"cases_hotlineorder"' in s]
    assert sum('INSERT INTO "cases_hotlineorder"' in sql for sql in statements) == 1


def test_an_order_writes_its_case_event_order_and_messages_in_one_statement_on_postgresql(
    whistle_city, clock
):
    """On PostgreSQL the case, its first event, the order and the dispatchers' messages go in
    with one statement; elsewhere with one insert per table. The rows are the same."""
    with CaptureQueriesContext(connection) as queries:
        taken = take(whistle_city)
    # An executemany is logged as "2 times: INSERT …".
    sent = [re.sub(r"^\d+ times: ", "", q["sql"]) for q in queries.captured_queries]
    writes = [sql for sql in sent if sql.startswith(("INSERT", "WITH"))]
    tables = ("cases_case", "cases_event", "cases_hotlineorder", "notifications_notification")
    if connection.vendor == "postgresql":
        assert len(writes) == 1 and writes[0].startswith("WITH ")
        assert all(f'INTO "{table}"' in writes[0] for table in tables)
    else:
        assert [next((t for t in tables if f'INTO "{t}"' in sql), sql) for sql in writes] == [
            *tables
        ]
    order = HotlineOrder.objects.select_related("case").get()
    assert (order.pk, order.case.pk) == (taken.order.pk, taken.case.pk)
    [event] = Event.objects.filter(case=order.case)
    assert (order.case.trail_length, order.case.trail_head) == (1, event.hash)
    told = Notification.objects.filter(
        kind=EventKind.CASE_REPORTED, dedupe_key__endswith=event.hash
    )
    dispatchers = RoleAssignment.objects.filter(
        role=Role.DISPATCHER, jurisdiction=order.case.township
    ).values_list("person", flat=True)
    assert whistle_city.dispatcher.pk in set(dispatchers)
    assert set(told.values_list("recipient", flat=True)) == set(dispatchers)
    assert verify_database().ok


def test_a_number_taken_before_is_refused_by_the_database_and_the_intake_rolled_back(
    whistle_city, clock
):
    first = take(whistle_city)
    clock.move_to(T0 + 5 * MIN)
    with CaptureQueriesContext(connection) as queries:
        again = take(whistle_city, description="同一工单再次派来")
    assert (again.created, again.case.pk, again.order.pk) == (False, first.case.pk, first.order.pk)
    statements = [q["sql"] for q in queries.captured_queries]
    # The order's insert was tried and refused, then the first order was read.
    assert any('INSERT INTO "cases_hotlineorder"' in sql for sql in statements)
    assert Case.objects.count() == 1 and Event.objects.count() == 1
    assert HotlineOrder.objects.count() == 1
    assert Notification.objects.filter(kind=EventKind.CASE_REPORTED).count() == 1
    assert Case.objects.get().description == "人民市场东巷有游商占道经营"
    assert verify_database().ok


@pytest.mark.parametrize(
    "fields",
    [{"deadline_class": "no-such-class"}, {"category": "not a category"}],
    ids=["deadline class", "category"],
)
def test_a_number_taken_before_returns_its_case_whatever_else_the_intake_says(
    whistle_city, clock, fields
):
    first = take(whistle_city)
    again = take(whistle_city, **fields)
    assert (again.created, again.case.pk) == (False, first.case.pk)
    with pytest.raises(InvalidInput):
        take(whistle_city, number="2026051200002", **fields)
    assert Case.objects.count() == 1


def test_a_number_taken_before_with_photos_stores_none_of_them(whistle_city, clock):
    first = take(whistle_city)
    stored: list[str] = []
    storage = Attachment._meta.get_field("file").storage
    save = storage.save

    def noted(name: str, *args: Any, **kwargs: Any) -> str:
        stored.append(name)
        return save(name, *args, **kwargs)

    with mock.patch.object(storage, "save", side_effect=noted):
        again = take(whistle_city, photos=[png_bytes()])
        assert (again.created, again.case.pk) == (False, first.case.pk)
        assert stored == [] and Attachment.objects.count() == 0
        # A new number with a photo stores it.
        assert take(whistle_city, number="2026051200002", photos=[png_bytes()]).created
    assert len(stored) == 1 and Attachment.objects.count() == 1


def test_a_batch_looks_each_number_up_before_writing(whistle_city, clock):
    first = take(whistle_city)
    arguments = {
        "number": "2026051200001",
        "description": "人民市场东巷有游商占道经营",
        "lon": ON_THE_LANE[0],
        "lat": ON_THE_LANE[1],
        "caller_name": NAME,
    }
    with CaptureQueriesContext(connection) as queries:
        batch = hotline_actions.take_hotline_orders(
            whistle_city.dispatcher, [(1, lambda: arguments)]
        )
    assert [(t.created, t.case.pk) for t in batch.orders] == [(False, first.case.pk)]
    assert not [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]


def test_two_intakes_that_both_found_the_number_free_make_one_case(
    whistle_city, clock, monkeypatch
):
    """The race, where the number is looked up first (a batch, or photos): the second intake
    checked before the first committed, so it goes on to insert; the unique constraint
    refuses its order, its case and event roll back, and it returns the first intake's
    case."""
    first = take(whistle_city)
    looked: list[str] = []
    found = hotline_actions._existing

    def not_yet(district: Any, number: str) -> Any:
        # The check before writing sees nothing; the look after the refusal sees the first.
        looked.append(number)
        return None if len(looked) == 1 else found(district, number)

    monkeypatch.setattr(hotline_actions, "_existing", not_yet)
    again = take(whistle_city, look_first=True)
    assert len(looked) == 2
    assert (again.created, again.case.pk) == (False, first.case.pk)
    assert Case.objects.count() == 1 and Event.objects.count() == 1
    assert Notification.objects.filter(kind=EventKind.CASE_REPORTED).count() == 1


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_two_intakes_at_the_same_moment_make_one_case(whistle_city):
    results, errors = at_once(4, lambda: take(whistle_city))
    assert errors == []
    assert sorted(r.created for r in results) == [False, False, False, True]
    assert len({r.case.pk for r in results}) == 1
    assert Case.objects.count() == 1 and HotlineOrder.objects.count() == 1


# The reply and its deadline --------------------------------------------------------------------


def test_a_reply_by_the_limit_is_in_time_and_stops_the_watch(whistle_city, clock):
    case = take(whistle_city).case
    clock.move_to(REPLY_BY)
    actions.record_hotline_reply(
        whistle_city.dispatcher, case, kind="done", reply="已联系城管清理，现场已恢复"
    )
    order = HotlineOrder.objects.get()
    assert (order.replied_at, order.answered_at, order.reply_check_at) == (REPLY_BY, REPLY_BY, None)
    event = Event.objects.get(case=case, kind=EventKind.HOTLINE_REPLIED)
    assert (event.data["on_time"], event.data["minutes_late"]) == (True, 0)
    assert sweep_at(clock, REPLY_BY + timedelta(days=1)) == 0
    assert not Event.objects.filter(kind=EventKind.HOTLINE_REPLY_OVERDUE).exists()


def test_a_reply_is_recorded_once_and_only_by_the_township_office(whistle_city, clock):
    case = take(whistle_city).case
    clock.move_to(T0 + 30 * MIN)
    for person in (whistle_city.assessor, whistle_city.urban_officer, whistle_city.district_office):
        with pytest.raises(PermissionRefused):
            actions.record_hotline_reply(person, case, kind="done", reply="已处理")
    actions.record_hotline_reply(whistle_city.township_chief, case, kind="done", reply="已处理")
    with pytest.raises(ActionRefused, match="已经记录"):
        actions.record_hotline_reply(whistle_city.dispatcher, case, kind="done", reply="再答复一次")
    plain = actions.report_case(
        whistle_city.steward, description="路灯不亮", lon=ON_THE_LANE[0], lat=ON_THE_LANE[1]
    )
    with pytest.raises(ActionRefused):
        actions.record_hotline_reply(whistle_city.dispatcher, plain, kind="done", reply="已处理")


def test_the_sweep_records_a_late_reply_once_at_the_exact_boundary(whistle_city, clock):
    case = take(whistle_city).case
    assert sweep_at(clock, REPLY_BY) == 0
    assert not Event.objects.filter(kind=EventKind.HOTLINE_REPLY_OVERDUE).exists()
    assert sweep_at(clock, REPLY_BY + MICROSECOND) == 1
    [overdue] = Event.objects.filter(kind=EventKind.HOTLINE_REPLY_OVERDUE)
    assert (overdue.case, overdue.actor_role, overdue.data["met_at"]) == (case, "system", None)
    order = HotlineOrder.objects.get()
    assert (order.reply_overdue_at, order.reply_check_at) == (REPLY_BY + MICROSECOND, None)
    # The township's dispatchers and chief are told, once: one entry they share.
    told = Notification.objects.filter(kind=EventKind.HOTLINE_REPLY_OVERDUE, channel="inbox")
    assert [n.audience for n in told] == [f"township-desk:{case.township_id}"]
    for person in (whistle_city.dispatcher, whistle_city.township_chief):
        assert inbox(person).filter(kind=EventKind.HOTLINE_REPLY_OVERDUE).count() == 1
    assert sweep_at(clock, REPLY_BY + timedelta(hours=1)) == 0
    assert Event.objects.filter(kind=EventKind.HOTLINE_REPLY_OVERDUE).count() == 1
    # A reply after it is late, and the sweep has nothing more to record.
    actions.record_hotline_reply(whistle_city.dispatcher, case, kind="done", reply="已处理")
    event = Event.objects.get(kind=EventKind.HOTLINE_REPLIED)
    assert (event.data["on_time"], event.data["minutes_late"]) == (False, 60)
    assert sweep_at(clock, REPLY_BY + timedelta(days=2)) == 0


def test_a_late_reply_the_sweep_did_not_see_is_still_recorded_late_without_telling_anyone(
    whistle_city, clock
):
    case = take(whistle_city).case
    clock.move_to(REPLY_BY + 10 * MIN)
    actions.record_hotline_reply(whistle_city.dispatcher, case, kind="done", reply="已处理")
    assert HotlineOrder.objects.get().reply_check_at == REPLY_BY + MICROSECOND
    assert sweep_at(clock, REPLY_BY + 11 * MIN) == 1
    overdue = Event.objects.get(kind=EventKind.HOTLINE_REPLY_OVERDUE)
    assert overdue.data["met_at"] == (REPLY_BY + 10 * MIN).astimezone(UTC).isoformat(
        timespec="microseconds"
    )
    assert not Notification.objects.filter(kind=EventKind.HOTLINE_REPLY_OVERDUE).exists()


def test_the_reply_deadline_runs_on_while_the_case_is_on_the_backlog(whistle_city, clock):
    case = take(whistle_city).case
    clock.move_to(T0 + MIN)
    case = actions.file_case(whistle_city.dispatcher, case, category=whistle_city.street_vending)
    clock.move_to(T0 + 2 * MIN)
    actions.put_on_backlog(
        whistle_city.dispatcher, case, reason="需区里协调", review_on=beijing(2026, 6, 1, 9).date()
    )
    # The caller's reply is the platform's deadline, not a department's: it does not pause.
    assert sweep_at(clock, REPLY_BY + MIN) == 1
    assert Event.objects.filter(kind=EventKind.HOTLINE_REPLY_OVERDUE).count() == 1


# The call-back --------------------------------------------------------------------------------


def test_the_caller_is_called_back_after_the_reply_until_reached(whistle_city, clock):
    case = take(whistle_city).case
    clock.move_to(T0 + 10 * MIN)
    with pytest.raises(ActionRefused, match="答复"):
        actions.record_resident_callback(
            whistle_city.dispatcher, case, satisfied=True, resolved=True
        )
    actions.record_hotline_reply(whistle_city.dispatcher, case, kind="done", reply="已清理")
    clock.move_to(T0 + timedelta(days=1))
    actions.record_resident_callback(whistle_city.dispatcher, case, contacted=False)
    order = HotlineOrder.objects.get()
    assert (order.callback_contacted, order.callback_resolved, order.callback_satisfied) == (
        False,
        None,
        None,
    )
    case.refresh_from_db()
    assert (case.resident_called_back_at, case.resident_satisfied) == (None, None)
    clock.move_to(T0 + timedelta(days=2))
    with pytest.raises(InvalidInput) as refused:
        actions.record_resident_callback(whistle_city.assessor, case, satisfied=True)
    assert refused.value.field == "resolved"
    actions.record_resident_callback(
        whistle_city.assessor, case, satisfied=False, resolved=True, note="摊贩又回来了"
    )
    order.refresh_from_db()
    case.refresh_from_db()
    assert (order.callback_contacted, order.callback_resolved, order.callback_satisfied) == (
        True,
        True,
        False,
    )
    assert (case.resident_called_back_at, case.resident_satisfied) == (
        T0 + timedelta(days=2),
        False,
    )
    data = [
        (e.data["contacted"], e.data["resolved"], e.data["satisfied"])
        for e in Event.objects.filter(kind=EventKind.RESIDENT_CALLBACK).order_by("seq")
    ]
    assert data == [(False, None, None), (True, True, False)]
    with pytest.raises(ActionRefused, match="已回访"):
        actions.record_resident_callback(
            whistle_city.dispatcher, case, satisfied=True, resolved=True
        )


def test_the_reply_says_what_it_is_and_a_reply_without_its_kind_writes_nothing(whistle_city, clock):
    case = take(whistle_city).case
    clock.move_to(T0 + 30 * MIN)
    bad: list[Any] = [None, "", "finished", 1]
    for kind in bad:
        with pytest.raises(InvalidInput) as refused:
            actions.record_hotline_reply(whistle_city.dispatcher, case, kind=kind, reply="已处理")
        assert refused.value.field == "kind"
        assert "已办结" in str(refused.value) and "正在办理" in str(refused.value)
    assert not Event.objects.filter(kind=EventKind.HOTLINE_REPLIED).exists()
    actions.record_hotline_reply(
        whistle_city.dispatcher,
        case,
        kind="in_progress",
        reply="城管已派人，今天 18 点前清理",
        promised_by=PROMISED,
    )
    order = HotlineOrder.objects.get()
    assert (order.reply_kind, order.get_reply_kind_display()) == ("in_progress", "正在办理")
    event = Event.objects.get(kind=EventKind.HOTLINE_REPLIED)
    assert event.data["reply_kind"] == "in_progress"
    # Any kind is the response the reply deadline asks for; the sweep now waits for the
    # promised result only.
    assert (event.data["on_time"], order.reply_check_at) == (True, PROMISED + MICROSECOND)


def test_after_an_in_progress_reply_the_call_back_waits_for_the_case_to_be_handled(
    whistle_city, clock
):
    case = take(whistle_city).case
    clock.move_to(T0 + 10 * MIN)
    case = actions.record_hotline_reply(
        whistle_city.dispatcher,
        case,
        kind="in_progress",
        reply="城管已派人，明天前清理",
        promised_by=PROMISED,
    )
    clock.move_to(T0 + 20 * MIN)
    for person in (whistle_city.dispatcher, whistle_city.assessor):
        assert not may(person, "record_resident_callback", case)
    before = Event.objects.count()
    with pytest.raises(ActionRefused, match=r"正在办理.*已处置、已结案后再回访") as refused:
        actions.record_resident_callback(
            whistle_city.dispatcher, case, satisfied=True, resolved=True
        )
    assert not isinstance(refused.value, StateRefused)  # the page says why
    with translation.override("en"):
        assert (
            "the call-back comes once the result is given to the caller or the case is marked "
            "resolved or closed" in str(refused.value)
        )
    assert Event.objects.count() == before
    assert HotlineOrder.objects.get().called_back_at is None
    # Handled: the township marks it resolved, and the caller may be called back.
    case = actions.file_case(whistle_city.dispatcher, case, category=whistle_city.street_vending)
    case = actions.solve_on_spot(whistle_city.dispatcher, case, note="已清理")
    assert case.status == Case.Status.HANDLED
    assert may(whistle_city.assessor, "record_resident_callback", case)
    actions.record_resident_callback(whistle_city.assessor, case, satisfied=True, resolved=True)
    assert HotlineOrder.objects.get().callback_resolved is True


@pytest.mark.parametrize("kind", ["done", "not_ours", "cannot_solve"])
def test_a_final_reply_on_an_open_case_lets_the_caller_be_called_back(whistle_city, clock, kind):
    case = take(whistle_city).case
    clock.move_to(T0 + 10 * MIN)
    case = actions.record_hotline_reply(
        whistle_city.dispatcher, case, kind=kind, reply="已答复来电人"
    )
    assert case.status == Case.Status.REPORTED
    assert may(whistle_city.dispatcher, "record_resident_callback", case)
    clock.move_to(T0 + 20 * MIN)
    actions.record_resident_callback(whistle_city.dispatcher, case, satisfied=False, resolved=False)
    assert HotlineOrder.objects.get().callback_contacted is True


def test_a_case_not_taken_up_or_merged_into_a_handled_case_is_handled(whistle_city, clock):
    rejected = take(whistle_city, "R-1").case
    first = take(whistle_city, "R-2").case
    duplicate = take(whistle_city, "R-3").case
    clock.move_to(T0 + MIN)
    for case in (rejected, duplicate):
        actions.record_hotline_reply(
            whistle_city.dispatcher,
            case,
            kind="in_progress",
            reply="正在核实",
            promised_by=PROMISED,
        )
    rejected = actions.reject_case(whistle_city.dispatcher, rejected, reason="重复来电")
    assert may(whistle_city.dispatcher, "record_resident_callback", rejected)
    first = actions.file_case(whistle_city.dispatcher, first, category=whistle_city.street_vending)
    duplicate = actions.merge_case(whistle_city.dispatcher, duplicate, into=first)
    assert not may(whistle_city.dispatcher, "record_resident_callback", duplicate)
    actions.solve_on_spot(whistle_city.dispatcher, first, note="已清理")
    duplicate = Case.objects.get(pk=duplicate.pk)
    assert may(whistle_city.dispatcher, "record_resident_callback", duplicate)


def test_a_residents_case_is_still_called_back_once_closed_without_asking_if_solved(
    whistle_city, clock
):
    case = actions.report_resident_case(
        name="李女士",
        phone="13900001111",
        description="夕照寺中街井盖缺失",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
    ).case
    with pytest.raises(ActionRefused):
        actions.record_resident_callback(whistle_city.dispatcher, case, satisfied=True)
    steps = [
        lambda c: actions.file_case(
            whistle_city.dispatcher, c, category=whistle_city.street_vending
        ),
        lambda c: actions.solve_on_spot(whistle_city.dispatcher, c, note="已补装"),
        lambda c: actions.check_passed(whistle_city.dispatcher, c),
        lambda c: actions.close_case(whistle_city.dispatcher, c),
        lambda c: actions.record_resident_callback(whistle_city.dispatcher, c, satisfied=True),
    ]
    for n, step in enumerate(steps, start=1):
        clock.move_to(T0 + n * MIN)
        case = step(case)
    assert (case.resident_satisfied, case.source) == (True, "resident")


# The result after a reply "in progress" --------------------------------------------------------


def reply_in_progress(city: Any, case: Case, promised_by: Any = PROMISED, **fields: Any) -> Case:
    return actions.record_hotline_reply(
        city.dispatcher,
        case,
        kind="in_progress",
        reply=fields.pop("reply", "城管已派人，周五前清理"),
        promised_by=promised_by,
        **fields,
    )


@pytest.mark.parametrize(
    ("kind", "promised_by", "message"),
    [
        ("in_progress", None, "需要写明"),
        ("in_progress", "", "需要写明"),
        ("in_progress", "2026-05-15 18:00", "时区"),
        ("in_progress", datetime(2026, 5, 15, 18, 0), "时区"),  # noqa: DTZ001  (naive)
        ("in_progress", T0, "已经过去"),
        ("in_progress", T0 - timedelta(days=1), "已经过去"),
        # The order's resolve deadline (19 May, 09:00) and 90 days: 17 August, 09:00.
        ("in_progress", beijing(2026, 8, 17, 9, 1), "2026-08-17 09:00"),
        ("done", PROMISED, "只有“正在办理”"),
        ("not_ours", PROMISED, "只有“正在办理”"),
    ],
)
def test_a_reply_in_progress_says_by_when_and_no_other_kind_does(
    whistle_city, clock, kind, promised_by, message
):
    case = take(whistle_city).case
    before = Event.objects.count()
    with pytest.raises(InvalidInput, match=message) as refused:
        actions.record_hotline_reply(
            whistle_city.dispatcher, case, kind=kind, reply="城管已派人", promised_by=promised_by
        )
    assert refused.value.field == "promised_by"
    assert Event.objects.count() == before
    order = HotlineOrder.objects.get()
    assert (order.replied_at, order.promised_by) == (None, None)


def test_a_reply_in_progress_keeps_its_promise_on_the_order_and_in_the_trail(whistle_city, clock):
    case = take(whistle_city).case
    with translation.override("en"), pytest.raises(InvalidInput, match="needs it"):
        reply_in_progress(whistle_city, case, promised_by=None)
    latest = beijing(2026, 8, 17, 9, 0)  # the resolve deadline and 90 days, exactly
    reply_in_progress(whistle_city, case, promised_by=latest)
    order = HotlineOrder.objects.get()
    assert (order.promised_by, order.reply_check_at) == (latest, latest + MICROSECOND)
    event = Event.objects.get(kind=EventKind.HOTLINE_REPLIED)
    assert event.data["promised_by"] == "2026-08-17T01:00:00+00:00"
    # A final kind gives the result at once: no promise, in the trail neither.
    other = take(whistle_city, "2026051200002").case
    actions.record_hotline_reply(whistle_city.dispatcher, other, kind="done", reply="已清理")
    last = Event.objects.filter(kind=EventKind.HOTLINE_REPLIED).order_by("pk").last()
    assert last is not None and "promised_by" not in last.data
    assert HotlineOrder.objects.get(number="2026051200002").promised_by is None


def test_the_final_reply_gives_the_result_and_the_first_reply_stays_the_response(
    whistle_city, clock
):
    city = whistle_city
    case = take(city).case
    clock.move_to(T0 + 10 * MIN)
    case = reply_in_progress(city, case)
    assert not may(city.dispatcher, "record_resident_callback", case)
    # After the reply deadline, even: the response was the first reply, in time.
    clock.move_to(REPLY_BY + timedelta(hours=2))
    with pytest.raises(InvalidInput) as refused:
        actions.record_hotline_final_reply(city.dispatcher, case, kind="in_progress", reply="x")
    assert refused.value.field == "kind" and "已办结" in str(refused.value)
    case = actions.record_hotline_final_reply(
        city.dispatcher, case, kind="done", reply="游商已劝离，市场东巷已恢复通行"
    )
    order = HotlineOrder.objects.get()
    assert (order.replied_at, order.reply_kind, order.reply) == (
        T0 + 10 * MIN,
        "in_progress",
        "城管已派人，周五前清理",
    )
    assert (order.final_replied_at, order.final_reply_kind, order.final_reply) == (
        REPLY_BY + timedelta(hours=2),
        "done",
        "游商已劝离，市场东巷已恢复通行",
    )
    assert (order.answered_at, order.reply_check_at, order.reply_overdue_at) == (
        REPLY_BY + timedelta(hours=2),
        None,
        None,
    )
    first, final = Event.objects.filter(
        kind__in=[EventKind.HOTLINE_REPLIED, EventKind.HOTLINE_FINAL_REPLIED]
    ).order_by("seq")
    assert (first.kind, first.data["reply_kind"], first.data["on_time"]) == (
        EventKind.HOTLINE_REPLIED,
        "in_progress",
        True,
    )
    assert (final.kind, final.data["reply_kind"], final.data["reply"]) == (
        EventKind.HOTLINE_FINAL_REPLIED,
        "done",
        "游商已劝离，市场东巷已恢复通行",
    )
    assert (final.data["promised_by"], final.data["promise_kept"]) == (
        "2026-05-15T10:00:00+00:00",
        False,
    )
    # The request is handled: the caller may be called back, on an open case.
    assert case.status == Case.Status.REPORTED
    assert may(city.assessor, "record_resident_callback", case)
    assert sweep_at(clock, REPLY_BY + timedelta(days=1)) == 0
    actions.record_resident_callback(city.assessor, case, satisfied=True, resolved=True)
    # The response rate reads the first reply.
    rates = hotline_rates(city.district, "2026-05")
    assert (rates.received, rates.responded) == (1, 1)
    assert verify_database(references=[case.reference]).problems == []


def test_the_final_reply_is_given_once_after_in_progress_by_those_who_reply(whistle_city, clock):
    city = whistle_city
    case = take(city).case
    clock.move_to(T0 + 10 * MIN)
    with pytest.raises(ActionRefused, match="先记录答复"):
        actions.record_hotline_final_reply(city.dispatcher, case, kind="done", reply="已处理")
    done = take(city, "2026051200002").case
    actions.record_hotline_reply(city.dispatcher, done, kind="done", reply="已处理")
    with pytest.raises(ActionRefused, match="已结束办理"):
        actions.record_hotline_final_reply(city.dispatcher, done, kind="done", reply="已处理")
    case = reply_in_progress(city, case)
    clock.move_to(T0 + 20 * MIN)
    for person in (city.assessor, city.urban_officer, city.district_office):
        assert not may(person, "record_hotline_final_reply", case)
        with pytest.raises(PermissionRefused):
            actions.record_hotline_final_reply(person, case, kind="done", reply="已处理")
    assert may(city.township_chief, "record_hotline_final_reply", case)
    case = actions.record_hotline_final_reply(
        city.township_chief, case, kind="cannot_solve", reply="需区里协调"
    )
    assert not may(city.dispatcher, "record_hotline_final_reply", case)
    with pytest.raises(ActionRefused, match="已经告知来电人"):
        actions.record_hotline_final_reply(city.dispatcher, case, kind="done", reply="再答复")
    assert Event.objects.filter(kind=EventKind.HOTLINE_FINAL_REPLIED).count() == 1
    plain = actions.report_case(
        city.steward, description="路灯不亮", lon=ON_THE_LANE[0], lat=ON_THE_LANE[1]
    )
    with pytest.raises(ActionRefused):
        actions.record_hotline_final_reply(city.dispatcher, plain, kind="done", reply="已处理")


def test_a_promise_past_without_the_result_is_told_once_at_its_exact_boundary(whistle_city, clock):
    city = whistle_city
    case = take(city).case
    clock.move_to(T0 + 10 * MIN)
    reply_in_progress(city, case)
    assert sweep_at(clock, PROMISED) == 0
    assert sweep_at(clock, PROMISED + MICROSECOND) == 1
    [overdue] = Event.objects.filter(kind=EventKind.HOTLINE_PROMISE_OVERDUE)
    assert (overdue.case, overdue.actor_role) == (case, "system")
    assert overdue.data["promised_by"] == "2026-05-15T10:00:00.000000+00:00"
    order = HotlineOrder.objects.get()
    assert (order.promise_overdue_at, order.reply_check_at, order.reply_overdue_at) == (
        PROMISED + MICROSECOND,
        None,
        None,
    )
    told = Notification.objects.filter(kind=EventKind.HOTLINE_PROMISE_OVERDUE, channel="inbox")
    assert [n.audience for n in told] == [f"township-desk:{case.township_id}"]
    for person in (city.dispatcher, city.township_chief):
        [entry] = inbox(person).filter(kind=EventKind.HOTLINE_PROMISE_OVERDUE)
        assert "2026051200001" in entry.subject and "2026-05-15 18:00" in entry.subject
    assert sweep_at(clock, PROMISED + timedelta(days=1)) == 0
    assert Event.objects.filter(kind=EventKind.HOTLINE_PROMISE_OVERDUE).count() == 1
    # The result, late, is still given; nobody is told again.
    actions.record_hotline_final_reply(city.dispatcher, case, kind="done", reply="已清理")
    assert sweep_at(clock, REPLY_BY + timedelta(days=30)) == 0
    assert Event.objects.filter(kind=EventKind.HOTLINE_PROMISE_OVERDUE).count() == 1


def test_a_promise_kept_or_a_case_resolved_before_it_tells_nobody(whistle_city, clock):
    city = whistle_city
    kept, resolved = take(city).case, take(city, "2026051200002").case
    clock.move_to(T0 + 10 * MIN)
    kept = reply_in_progress(city, kept)
    resolved = reply_in_progress(city, resolved)
    clock.move_to(T0 + 20 * MIN)
    actions.record_hotline_final_reply(city.dispatcher, kept, kind="done", reply="已清理")
    assert HotlineOrder.objects.get(number="2026051200001").reply_check_at is None
    resolved = actions.file_case(city.dispatcher, resolved, category=city.street_vending)
    actions.solve_on_spot(city.dispatcher, resolved, note="已清理")
    assert sweep_at(clock, PROMISED + MIN) == 1  # the resolved case's check, with nothing to say
    assert not Event.objects.filter(kind=EventKind.HOTLINE_PROMISE_OVERDUE).exists()
    assert not Notification.objects.filter(kind=EventKind.HOTLINE_PROMISE_OVERDUE).exists()
    assert HotlineOrder.objects.get(number="2026051200002").reply_check_at is None
    assert sweep_at(clock, PROMISED + timedelta(days=1)) == 0


# Answers back to the hotline platform -----------------------------------------------------------


def test_the_reply_and_the_call_back_are_queued_to_the_platforms_webhook(whistle_city, clock):
    WebhookEndpoint.objects.create(
        name="12345热线平台", url="https://12345.example/hooks", event_kinds=[HOTLINE_ANSWER]
    )
    case = take(whistle_city).case
    assert answers_queued() == []  # taking the order is not an answer
    clock.move_to(T0 + 2 * 60 * MIN)
    actions.record_hotline_reply(
        whistle_city.dispatcher, case, kind="done", reply="已联系城管，摊贩已劝离"
    )
    clock.move_to(T0 + timedelta(days=1))
    actions.record_resident_callback(whistle_city.dispatcher, case, satisfied=True, resolved=True)
    reply, callback = answers_queued()
    assert reply.payload == {
        "order_number": "2026051200001",
        "district": "110101",
        "township": "110101015",
        "channel": "hotline",
        "case": case.reference,
        "case_status": "reported",
        "deadline_class": "general",
        "received_at": "2026-05-12T01:00:00+00:00",
        "respond_due_at": "2026-05-19T01:00:00+00:00",
        "resolve_due_at": "2026-05-19T01:00:00+00:00",
        "reply": {
            "text": "已联系城管，摊贩已劝离",
            "kind": "done",
            "replied_at": "2026-05-12T03:00:00+00:00",
            "on_time": True,
            "promised_by": None,
        },
        "reply_overdue": False,
        "final_reply": None,
        "promise_overdue": False,
        "callback": None,
        "answered_at": "2026-05-12T03:00:00+00:00",
        "answer": "reply",
    }
    assert callback.payload["answer"] == "callback"
    assert callback.payload["callback"] == {
        "called_back_at": "2026-05-13T01:00:00+00:00",
        "contacted": True,
        "resolved": True,
        "satisfied": True,
    }
    # No personal data goes to the platform.
    body = json.dumps([reply.payload, callback.payload], ensure_ascii=False)
    assert NAME not in body and PHONE not in body


def test_the_platform_hears_the_promise_and_then_the_result(whistle_city, clock):
    WebhookEndpoint.objects.create(
        name="12345热线平台", url="https://12345.example/hooks", event_kinds=[HOTLINE_ANSWER]
    )
    case = take(whistle_city).case
    clock.move_to(T0 + 30 * MIN)
    case = reply_in_progress(whistle_city, case)
    clock.move_to(T0 + timedelta(days=2))
    actions.record_hotline_final_reply(
        whistle_city.dispatcher, case, kind="not_ours", reply="属于燃气公司职责，已转交"
    )
    progress, result = answers_queued()
    assert progress.payload["answer"] == "reply"
    assert progress.payload["reply"] == {
        "text": "城管已派人，周五前清理",
        "kind": "in_progress",
        "replied_at": "2026-05-12T01:30:00+00:00",
        "on_time": True,
        "promised_by": "2026-05-15T10:00:00+00:00",
    }
    assert progress.payload["final_reply"] is None
    assert result.payload["answer"] == "final_reply"
    assert result.payload["reply"] == progress.payload["reply"]  # the first reply, as it was
    assert result.payload["final_reply"] == {
        "text": "属于燃气公司职责，已转交",
        "kind": "not_ours",
        "replied_at": "2026-05-14T01:00:00+00:00",
        "promise_kept": True,
    }
    assert (result.payload["answered_at"], result.payload["promise_overdue"]) == (
        "2026-05-14T01:00:00+00:00",
        False,
    )
    assert [d["final_reply"]["kind"] for d in hotline_answers(whistle_city.district)] == [
        "not_ours"
    ]


def test_the_platform_receives_the_answer_signed(whistle_city, receiver, clock):  # noqa: F811
    WebhookEndpoint.objects.create(
        name="12345热线平台", url=receiver.url, secret=receiver.secret, event_kinds=[HOTLINE_ANSWER]
    )
    case = take(whistle_city).case
    clock.move_to(T0 + 30 * MIN)
    actions.record_hotline_reply(whistle_city.dispatcher, case, kind="done", reply="已处理")
    assert delivery.sweep(timezone.now(), batch=10) == 1
    [request] = receiver.requests
    assert request["valid"]
    headers = request["headers"]
    assert headers["X-Whistle-Event"] == HOTLINE_ANSWER
    timestamp = int(headers["X-Whistle-Timestamp"])
    assert headers["X-Whistle-Signature"] == webhooks.signature(
        receiver.secret, timestamp, request["body"]
    )
    document = json.loads(request["body"])
    assert document["event"] == HOTLINE_ANSWER
    assert document["payload"]["order_number"] == "2026051200001"
    assert document["payload"]["reply"]["text"] == "已处理"


def test_the_platform_pulls_the_answers_changed_since_it_last_asked(whistle_city, clock):
    first = take(whistle_city, "P-1").case
    second = take(whistle_city, "P-2").case
    take(whistle_city, "P-3")
    assert hotline_answers(whistle_city.district) == []
    clock.move_to(T0 + MIN)
    actions.record_hotline_reply(whistle_city.dispatcher, second, kind="done", reply="已处理")
    clock.move_to(T0 + 2 * MIN)
    actions.record_hotline_reply(whistle_city.dispatcher, first, kind="done", reply="已处理")
    pulled = hotline_answers(whistle_city.district)
    assert [a["order_number"] for a in pulled] == ["P-2", "P-1"]
    since = datetime.fromisoformat(pulled[0]["answered_at"])
    assert [a["order_number"] for a in hotline_answers(whistle_city.district, since)] == ["P-1"]
    clock.move_to(T0 + 3 * MIN)
    actions.record_resident_callback(whistle_city.dispatcher, second, satisfied=True, resolved=True)
    later = hotline_answers(whistle_city.district, datetime.fromisoformat(pulled[1]["answered_at"]))
    assert [(a["order_number"], a["callback"]["satisfied"]) for a in later] == [("P-2", True)]
    assert hotline_answers(whistle_city.district, limit=1)[0]["order_number"] == "P-1"


# Masking -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [("王小明", "王*"), ("Wang", "W*"), ("", ""), (" 李 ", "李*")],
)
def test_a_name_is_masked_to_its_first_character(value, masked):
    assert personal_data.mask_name(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812341234", "138****1234"),
        ("+86 138-1234-1234", "138****1234"),
        ("010-6512345", "********45"),
        ("12", "**"),
        ("", ""),
    ],
)
def test_a_phone_is_masked_but_for_its_ends(value, masked):
    assert personal_data.mask_phone(value) == masked


def test_only_the_townships_dispatchers_and_chief_see_the_caller(whistle_city, clock):
    city = whistle_city
    case = take(city).case
    full = {city.dispatcher, city.township_chief}
    for person in (
        city.dispatcher,
        city.township_chief,
        city.township_office,
        city.assessor,
        city.district_office,
        city.dongsi_dispatcher,
        city.urban_officer,
    ):
        shown = callers.shown_caller(person, case)
        expected = (NAME, PHONE) if person in full else ("王*", "138****1234")
        assert shown == expected, person.username


# The whole life -----------------------------------------------------------------------------------


def test_an_orders_life_from_intake_to_call_back_counts_in_the_three_rates(whistle_city, clock):
    city = whistle_city
    case = take(city).case
    late = take(city, "2026051200009", lon=OFF_ANY_LANE[0], lat=OFF_ANY_LANE[1]).case
    steps = [
        lambda c: actions.file_case(city.dispatcher, c, category=city.street_vending),
        lambda c: (
            actions.blow_whistle(city.dispatcher, c, kind="routine", departments=[city.urban]).case
        ),
        lambda c: actions.record_hotline_reply(
            city.dispatcher, c, kind="done", reply="城管已到场处置"
        ),
    ]
    for n, step in enumerate(steps, start=1):
        clock.move_to(T0 + n * 10 * MIN)
        case = step(case)
    sweep_at(clock, REPLY_BY + MIN)
    clock.move_to(REPLY_BY + 2 * MIN)
    actions.record_hotline_reply(city.dispatcher, late, kind="done", reply="已处理")
    clock.move_to(REPLY_BY + timedelta(days=1))
    actions.record_resident_callback(city.dispatcher, case, satisfied=True, resolved=True)
    actions.record_resident_callback(city.dispatcher, late, satisfied=False, resolved=False)
    rates = hotline_rates(city.district, "2026-05")
    # Replied in time 1 of 2 (50.00); reached 2, solved 1 (50.00), satisfied 1 (50.00).
    assert (rates.received, rates.responded, rates.called_back) == (2, 1, 2)
    assert (rates.response_rate, rates.resolution_rate, rates.satisfaction_rate) == (
        50,
        50,
        50,
    )
    report = verify_database(references=[case.reference, late.reference])
    assert (report.cases, report.problems) == (2, [])
