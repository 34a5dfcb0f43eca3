"""A resident without an account rates the result of a closed case, from 1 to 5 with a
comment: once, only for resident and hotline cases, not after the township's call-back;
4 and 5 count as satisfied. The township's desk shows the rating and stops offering the
call-back."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any, cast

import pytest
from django.utils import translation

from tests.fixtures_cases import (
    ON_THE_LANE,
    beijing,
    filed_case,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from tests.fixtures_desk import case_url, post_op
from whistle.cases import actions
from whistle.cases.actions import NOTE_MAX
from whistle.cases.export import case_document
from whistle.cases.models import Case, Event
from whistle.cases.trail import EventKind
from whistle.cases.verify import verify_database
from whistle.organisation.models import Role

NOW = beijing(2026, 3, 10, 10, 0)
Status = Case.Status


def minutes(n: int):
    return NOW + timedelta(minutes=n)


def residents_case(city, *, name: str = "蔡阿姨", phone: str = "13912345678") -> Case:
    """蔡阿姨 reports rubbish in the lane; the township files it and clears it on the spot."""
    case = actions.report_resident_case(
        name=name,
        phone=phone,
        description="人民市场东巷口有暴露垃圾",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
        now=NOW,
    )
    actions.file_case(city.dispatcher, case, category=city.exposed_garbage, now=minutes(1))
    actions.solve_on_spot(city.dispatcher, case, note="已清运", now=minutes(30))
    return case


def closed(city, case: Case) -> Case:
    actions.check_passed(city.dispatcher, case, now=minutes(40))
    return actions.close_case(city.dispatcher, case, now=minutes(45))


def events_of(case: Case) -> list[str]:
    return list(Event.objects.filter(case=case).order_by("seq").values_list("kind", flat=True))


def test_a_resident_rates_a_closed_case_with_a_comment(whistle_city):
    case = closed(whistle_city, residents_case(whistle_city))
    case = actions.record_resident_rating(
        case, rating=5, comment="  清理得很及时，谢谢  ", now=minutes(180)
    )
    stored = Case.objects.get(pk=case.pk)
    assert (
        stored.resident_rating,
        stored.resident_comment,
        stored.resident_satisfied,
        stored.resident_rated_at,
        stored.status,
    ) == (5, "清理得很及时，谢谢", True, minutes(180), Status.CLOSED)
    # Rating is not a call-back: the township has not called.
    assert stored.resident_called_back_at is None
    event = Event.objects.get(case=case, kind=EventKind.RESIDENT_RATED)
    assert (event.actor, event.actor_role, event.at) == (None, Role.RESIDENT, minutes(180))
    assert event.data == {
        "changes": {"resident_rating": [None, 5], "resident_satisfied": [None, True]},
        "comment": "清理得很及时，谢谢",
    }
    assert events_of(case)[-1] == EventKind.RESIDENT_RATED
    assert verify_database(references=[case.reference]).ok
    document = case_document(case)
    assert (
        document["case"]["resident_rating"],
        document["case"]["resident_comment"],
        document["case"]["resident_rated_at"],
    ) == (5, "清理得很及时，谢谢", minutes(180).astimezone(UTC).isoformat())
    assert "13912345678" not in str(document)


@pytest.mark.parametrize(
    ("rating", "satisfied"), [(1, False), (2, False), (3, False), (4, True), (5, True)]
)
def test_4_and_5_count_as_satisfied_and_3_or_less_as_not(whistle_city, rating, satisfied):
    case = closed(whistle_city, residents_case(whistle_city))
    case = actions.record_resident_rating(case, rating=rating, now=minutes(60))
    assert (case.resident_rating, case.resident_satisfied) == (rating, satisfied)
    assert case.resident_comment == ""


def test_a_second_rating_is_refused_and_changes_nothing(whistle_city):
    case = closed(whistle_city, residents_case(whistle_city))
    actions.record_resident_rating(case, rating=2, comment="太慢了", now=minutes(60))
    before = events_of(case)
    with pytest.raises(actions.ActionRefused) as refused:
        actions.record_resident_rating(case, rating=5, now=minutes(61))
    assert not isinstance(refused.value, actions.InvalidInput)
    stored = Case.objects.get(pk=case.pk)
    assert (stored.resident_rating, stored.resident_comment, stored.resident_satisfied) == (
        2,
        "太慢了",
        False,
    )
    assert events_of(case) == before
    with translation.override("zh-hans"):
        assert str(refused.value) == "该案件已经评价过，每个案件只能评价一次。"
    with translation.override("en"):
        assert str(refused.value) == "This case has already been rated: a case is rated once."


@pytest.mark.parametrize("rating", [0, 6, -1, 4.5, True, "5", None])
def test_a_rating_outside_1_to_5_is_refused_with_the_field_named(whistle_city, rating):
    case = closed(whistle_city, residents_case(whistle_city))
    before = events_of(case)
    with pytest.raises(actions.InvalidInput) as refused:
        actions.record_resident_rating(case, rating=cast(Any, rating))
    assert refused.value.field == "rating"
    with translation.override("zh-hans"):
        assert str(refused.value) == "评分须为 1 到 5 的整数。"
    assert Case.objects.get(pk=case.pk).resident_rated_at is None
    assert events_of(case) == before


@pytest.mark.parametrize(
    ("comment", "chinese"),
    [
        ("好" * (NOTE_MAX + 1), f"评价意见太长：{NOTE_MAX + 1} 个字，最多 {NOTE_MAX} 个字。"),
        ("很好\x00", "评价意见含有空字符（NUL）。"),
        (42, "评价意见必须是文字。"),
    ],
)
def test_a_comment_too_long_or_not_text_is_refused(whistle_city, comment, chinese):
    case = closed(whistle_city, residents_case(whistle_city))
    with pytest.raises(actions.InvalidInput) as refused:
        actions.record_resident_rating(case, rating=4, comment=comment)
    assert refused.value.field == "comment"
    with translation.override("zh-hans"):
        assert str(refused.value) == chinese
    assert Case.objects.get(pk=case.pk).resident_rated_at is None


def test_a_comment_of_the_longest_length_is_kept_whole(whistle_city):
    case = closed(whistle_city, residents_case(whistle_city))
    case = actions.record_resident_rating(case, rating=4, comment="好" * NOTE_MAX)
    assert len(case.resident_comment) == NOTE_MAX


@pytest.mark.parametrize("stage", ["reported", "filed", "handled", "checked"])
def test_a_case_not_yet_closed_cannot_be_rated(whistle_city, stage):
    city = whistle_city
    case = actions.report_resident_case(
        description="路灯不亮", lon=ON_THE_LANE[0], lat=ON_THE_LANE[1], now=NOW
    )
    if stage != "reported":
        actions.file_case(city.dispatcher, case, category=city.exposed_garbage, now=minutes(1))
    if stage in ("handled", "checked"):
        actions.solve_on_spot(city.dispatcher, case, note="已修复", now=minutes(30))
    if stage == "checked":
        actions.check_passed(city.dispatcher, case, now=minutes(40))
    with pytest.raises(actions.ActionRefused) as refused:
        actions.record_resident_rating(case, rating=5, now=minutes(50))
    status = Case.objects.get(pk=case.pk).status
    assert status == stage
    with translation.override("zh-hans"):
        label = str(Status(status).label)
        assert str(refused.value) == f"案件结案后才能评价，当前状态为：{label}。"
    assert Event.objects.filter(case=case, kind=EventKind.RESIDENT_RATED).count() == 0


def test_an_evaluated_case_can_still_be_rated_and_evaluation_follows_a_rating(whistle_city):
    city = whistle_city
    first = closed(city, residents_case(city))
    actions.evaluate_case(city.assessor, first, rating=4, now=minutes(60))
    first = actions.record_resident_rating(first, rating=5, now=minutes(70))
    assert (first.status, first.township_rating, first.resident_rating) == (
        Status.EVALUATED,
        4,
        5,
    )
    second = closed(city, residents_case(city, name="", phone=""))
    actions.record_resident_rating(second, rating=1, now=minutes(60))
    second = actions.evaluate_case(city.assessor, second, rating=3, now=minutes(70))
    assert (second.status, second.resident_rating, second.township_rating) == (
        Status.EVALUATED,
        1,
        3,
    )


def test_hotline_cases_are_rated_and_cases_found_on_patrol_are_not(whistle_city):
    city = whistle_city
    hotline = actions.report_case(
        city.dispatcher,
        source=Case.Source.HOTLINE,
        reporter_name="王先生",
        description="热线：巷口有游商",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
        now=NOW,
    )
    actions.file_case(city.dispatcher, hotline, category=city.street_vending, now=minutes(1))
    actions.solve_on_spot(city.dispatcher, hotline, note="已劝离", now=minutes(20))
    hotline = actions.record_resident_rating(closed(city, hotline), rating=4, now=minutes(60))
    assert hotline.resident_satisfied is True

    patrol = filed_case(city, at=NOW)
    actions.solve_on_spot(city.dispatcher, patrol, note="已劝离", now=minutes(20))
    patrol = closed(city, patrol)
    with pytest.raises(actions.ActionRefused) as refused:
        actions.record_resident_rating(patrol, rating=4, now=minutes(60))
    with translation.override("zh-hans"):
        assert str(refused.value) == "只有居民或 12345 热线反映的案件才能由居民评价。"
    assert Case.objects.get(pk=patrol.pk).resident_satisfied is None


def test_the_satisfaction_is_recorded_once_by_a_call_back_or_by_a_rating(whistle_city):
    city = whistle_city
    called = closed(city, residents_case(city))
    actions.record_resident_callback(city.assessor, called, satisfied=False, now=minutes(60))
    with pytest.raises(actions.ActionRefused) as refused:
        actions.record_resident_rating(called, rating=5, now=minutes(70))
    with translation.override("zh-hans"):
        assert str(refused.value) == "街乡已在电话回访时记录了您的满意情况。"
    called.refresh_from_db()
    assert (called.resident_satisfied, called.resident_rating) == (False, None)

    rated = closed(city, residents_case(city))
    actions.record_resident_rating(rated, rating=5, now=minutes(60))
    with pytest.raises(actions.ActionRefused) as refused:
        actions.record_resident_callback(city.assessor, rated, satisfied=False, now=minutes(70))
    with translation.override("zh-hans"):
        assert str(refused.value) == "居民已在案件页面上评价了处置结果。"
    rated.refresh_from_db()
    assert (rated.resident_satisfied, rated.resident_called_back_at) == (True, None)


def test_a_resident_reports_without_a_name_or_a_phone_number(whistle_city):
    case = actions.report_resident_case(
        name="  ",
        phone="",
        description="路灯不亮",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
        now=NOW,
    )
    assert (case.source, case.reporter_name, case.reporter_phone) == (
        Case.Source.RESIDENT,
        "",
        "",
    )
    only_a_name = actions.report_resident_case(
        name="蔡阿姨", description="路灯不亮", lon=ON_THE_LANE[0], lat=ON_THE_LANE[1], now=NOW
    )
    assert (only_a_name.reporter_name, only_a_name.reporter_phone) == ("蔡阿姨", "")
    for phone in ("call me", "12", 13912345678):
        with pytest.raises(actions.InvalidInput) as refused:
            actions.report_resident_case(
                phone=cast(Any, phone),
                description="路灯不亮",
                lon=ON_THE_LANE[0],
                lat=ON_THE_LANE[1],
            )
        assert refused.value.field == "phone"
    assert Case.objects.count() == 2


def test_the_desk_shows_the_residents_rating_and_offers_no_call_back(client, whistle_city):
    city = whistle_city
    waiting = closed(city, residents_case(city))
    client.force_login(city.dispatcher)
    assert 'name="op" value="callback"' in client.get(case_url(waiting)).content.decode()

    rated = closed(city, residents_case(city))
    actions.record_resident_rating(rated, rating=2, comment="处理太慢", now=minutes(180))
    html = client.get(case_url(rated)).content.decode()
    assert 'name="op" value="callback"' not in html
    assert "居民评分" in html and "2 / 5" in html and "处理太慢" in html
    # The trail names the resident's role and the rating, in words.
    assert "居民评价处置结果" in html
    assert "评价意见" in html
    response = post_op(client, case_url(rated), "callback", rated, satisfied="yes")
    assert Case.objects.get(pk=rated.pk).resident_called_back_at is None
    assert response.status_code == 200
