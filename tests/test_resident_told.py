"""A resident who reported a problem with an account is told, in the inbox and on their
channels, the steps of their report they care about: filed, departments called (once,
whistle or dispatch), closed with an invitation to rate, not taken up, merged. Not the
internal steps, and nobody is told of their own step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import translation

from tests.fixtures_cases import (
    ON_THE_LANE,
    beijing,
    typed_in_and_filed,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from whistle.cases import actions
from whistle.cases.actions._common import gave_the_order
from whistle.cases.models import Case, Event
from whistle.notifications.models import Channel, Notification
from whistle.notifications.texts import body_of, subject_of
from whistle.organisation.models import Role

NOW = beijing(2026, 3, 10, 10, 0)


def minutes(n: int):
    return NOW + timedelta(minutes=n)


def resident_report(city, description: str, at) -> Case:
    """蔡阿姨 reports a problem in the lane, signed in with her account."""
    return actions.report_resident_case(
        name="蔡阿姨",
        phone="13912345678",
        description=description,
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
        reporter=city.resident,
        now=at,
    ).case


def filed_report(city) -> Case:
    case = resident_report(city, "人民市场东巷口有暴露垃圾", NOW)
    return actions.file_case(city.dispatcher, case, category=city.exposed_garbage, now=minutes(1))


def inbox_of(person, case: Case) -> list[Notification]:
    return list(
        Notification.objects.filter(
            recipient=person, channel=Channel.INBOX, payload__case=case.reference
        ).order_by("pk")
    )


def test_the_resident_hears_once_that_the_township_called_the_departments(whistle_city):
    city = whistle_city
    case = filed_report(city)
    whistle = actions.blow_whistle(
        city.dispatcher, case, kind="routine", departments=[city.urban], now=minutes(5)
    )
    actions.summon_more(city.dispatcher, whistle, departments=[city.police], now=minutes(9))
    kinds = [n.kind for n in inbox_of(city.resident, case)]
    assert kinds == ["case.filed", "whistle.blown"]
    entry = inbox_of(city.resident, case)[-1]
    assert entry.body == f"街乡已召集负责您反映的问题（{case.reference}）的相关部门。"
    assert entry.link == f"/cases/{case.reference}/"
    with translation.override("en"):
        assert subject_of(entry.payload, entry.subject) == (
            f"Case {case.reference}: departments called"
        )
    # Not urgent: it waits for the end of the resident's quiet hours.
    assert not entry.urgent


def test_a_routine_dispatch_tells_the_resident_and_a_later_whistle_does_not(whistle_city):
    city = whistle_city
    case = filed_report(city)
    actions.dispatch_case(city.dispatcher, case, department=city.urban, now=minutes(5))
    actions.blow_whistle(
        city.dispatcher, case, kind="routine", departments=[city.police], now=minutes(9)
    )
    kinds = [n.kind for n in inbox_of(city.resident, case)]
    assert kinds == ["case.filed", "case.dispatched"]


def test_closing_invites_the_resident_to_rate_with_the_link_to_the_rating(client, whistle_city):
    city = whistle_city
    case = filed_report(city)
    actions.solve_on_spot(city.dispatcher, case, note="已清运", now=minutes(30))
    actions.check_passed(city.dispatcher, case, now=minutes(40))
    actions.close_case(city.dispatcher, case, now=minutes(45))
    entry = inbox_of(city.resident, case)[-1]
    assert entry.kind == "case.closed"
    assert entry.link == f"/cases/{case.reference}/#rate-title"
    assert entry.subject == f"案件 {case.reference} 已结案，请您评价"
    with translation.override("en"):
        assert body_of(entry.payload, entry.body).endswith("rate the result.")
    # No internal step reached the resident: solved on the spot and checked are not told.
    assert [n.kind for n in inbox_of(city.resident, case)] == ["case.filed", "case.closed"]
    # The link lands on the resident's page of the case, where the rating form is.
    client.force_login(city.resident)
    opened = client.get(reverse("web:inbox-open", args=[entry.uuid]), follow=True)
    assert opened.redirect_chain[-1][0] == f"/report/follow/{case.reference}/"
    assert f'action="/report/follow/{case.reference}/rate/"' in opened.content.decode()


def test_not_taken_up_and_merged_say_why(whistle_city):
    city = whistle_city
    first = filed_report(city)
    rejected = resident_report(city, "楼上装修太吵", minutes(2))
    merged = resident_report(city, "巷口垃圾还在", minutes(3))
    actions.reject_case(city.dispatcher, rejected, reason="不属于城市管理问题", now=minutes(4))
    actions.merge_case(city.dispatcher, merged, into=first, now=minutes(5))
    (told,) = inbox_of(city.resident, rejected)
    assert "不属于城市管理问题" in told.body
    (told,) = inbox_of(city.resident, merged)
    assert first.reference in told.body


def test_a_dispatcher_is_not_told_of_the_steps_of_a_report_they_typed_in(whistle_city):
    city = whistle_city
    typed = typed_in_and_filed(city, NOW)
    actions.blow_whistle(
        city.dispatcher, typed, kind="routine", departments=[city.urban], now=minutes(5)
    )
    assert not Notification.objects.filter(
        recipient=city.dispatcher, kind__in=["case.filed", "whistle.blown"]
    ).exists()


@pytest.mark.parametrize(
    ("typist", "source"),
    [("township_chief", Case.Source.RESIDENT), ("township_office", Case.Source.HOTLINE)],
)
def test_staff_who_typed_in_a_report_for_someone_are_not_told_of_it_as_its_reporter(
    whistle_city, typist, source
):
    city = whistle_city
    staff = getattr(city, typist)
    typed = typed_in_and_filed(city, NOW, typist=staff, source=source)
    assert typed.reporter == staff
    actions.dispatch_case(city.dispatcher, typed, department=city.urban, now=minutes(5))
    # Filed and dispatched by the dispatcher: nothing for the typist, on any channel.
    assert not Notification.objects.filter(recipient=staff, payload__case=typed.reference).exists()


def order_from_above(city, typist, intake: str) -> Case:
    """An order from above taken in by `typist` at the desk (a report with the source
    "order from above") or as a work order of the superior channel, and filed."""
    number = "SJ-2026-0310" if intake == "work order" else ""
    return typed_in_and_filed(city, NOW, typist=typist, source=Case.Source.SUPERIOR, number=number)


def done(actor, case: Case) -> Case:
    """The township solves the case on the spot, checks it and closes it."""
    actions.solve_on_spot(actor, case, note="已清运", now=minutes(30))
    actions.check_passed(actor, case, now=minutes(40))
    return actions.close_case(actor, case, now=minutes(45))


def role_scope_recorded(case: Case) -> str:
    return case.events.get(kind="case.reported").data["role_scope"]


@pytest.mark.parametrize("intake", ["desk", "work order"])
@pytest.mark.parametrize("typist", ["dispatcher", "township_chief", "township_office"])
def test_township_staff_who_typed_in_an_order_from_above_are_not_told_of_it_as_its_reporter(
    whistle_city, typist, intake
):
    city = whistle_city
    staff = getattr(city, typist)
    order = order_from_above(city, staff, intake)
    assert (order.source, order.reporter) == (Case.Source.SUPERIOR, staff)
    assert role_scope_recorded(order) == "township"
    # Filed by the dispatcher; done by someone other than the typist.
    closed = done(city.township_chief if typist == "dispatcher" else city.dispatcher, order)
    assert not actions.resident_may_rate(closed, person=staff)
    assert not Notification.objects.filter(
        recipient=staff, payload__case=order.reference, kind__in=["case.filed", "case.closed"]
    ).exists()


@pytest.mark.parametrize("intake", ["desk", "work order"])
@pytest.mark.parametrize("giver", ["district_chief", "district_office"])
def test_the_district_person_who_gives_an_order_is_told_when_it_is_filed_and_done(
    whistle_city, giver, intake
):
    city = whistle_city
    district = getattr(city, giver)
    order = order_from_above(city, district, intake)
    assert role_scope_recorded(order) == "district"
    closed = done(city.dispatcher, order)
    assert [n.kind for n in inbox_of(district, closed)] == ["case.filed", "case.closed"]
    told = inbox_of(district, closed)[-1]
    # Told it is done, not asked to rate: an order from above is not rated.
    assert told.subject == f"案件 {closed.reference} 已结案"
    assert not actions.resident_may_rate(closed, person=district)


@pytest.mark.parametrize(
    ("role", "data", "gave"),
    [
        (Role.DISTRICT_CHIEF, {}, True),
        (Role.CHIEFS_OFFICE, {}, False),
        (Role.CHIEFS_OFFICE, {"role_scope": "district"}, True),
        (Role.CHIEFS_OFFICE, {"role_scope": "township"}, False),
        (Role.DISPATCHER, {}, False),
    ],
)
def test_an_order_reported_before_the_scope_was_recorded_counts_as_given_by_its_role(
    role, data, gave
):
    assert gave_the_order(Event(kind="case.reported", actor_role=role, data=data)) is gave
