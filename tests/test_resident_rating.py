"""A resident without an account rates the result of a closed case, from 1 to 5 with a
comment: once, only for resident and hotline cases, not after the township's call-back;
4 and 5 count as satisfied. The township's desk shows the rating and stops offering the
call-back; a dissatisfied rating tells the township's dispatchers."""

from __future__ import annotations

import hashlib
from datetime import UTC, timedelta
from typing import Any, cast

import pytest
from django.utils import translation

from tests.conftest import make_person
from tests.fixtures_cases import (
    ON_THE_LANE,
    beijing,
    filed_case,
    typed_in_and_filed,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from tests.fixtures_desk import case_url, post_op
from whistle.cases import actions
from whistle.cases.actions import NOTE_MAX
from whistle.cases.export import case_document
from whistle.cases.models import Case, Event
from whistle.cases.trail import EventKind
from whistle.cases.verify import verify_database
from whistle.notifications.models import Notification
from whistle.notifications.outbox import inbox
from whistle.organisation import personal_data
from whistle.organisation.models import Role

NOW = beijing(2026, 3, 10, 10, 0)
Status = Case.Status


def minutes(n: int):
    return NOW + timedelta(minutes=n)


def residents_case(
    city, *, name: str = "蔡阿姨", phone: str = "13912345678", reporter=None
) -> actions.ResidentReport:
    """蔡阿姨 reports rubbish in the lane; the township files it and clears it on the spot."""
    report = actions.report_resident_case(
        name=name,
        phone=phone,
        description="人民市场东巷口有暴露垃圾",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
        reporter=reporter,
        now=NOW,
    )
    actions.file_case(city.dispatcher, report.case, category=city.exposed_garbage, now=minutes(1))
    actions.solve_on_spot(city.dispatcher, report.case, note="已清运", now=minutes(30))
    return report


def closed(city, report: actions.ResidentReport) -> actions.ResidentReport:
    actions.check_passed(city.dispatcher, report.case, now=minutes(40))
    case = actions.close_case(city.dispatcher, report.case, now=minutes(45))
    return actions.ResidentReport(case, report.rating_key)


def rate(report: actions.ResidentReport, **kwargs: Any) -> Case:
    """The reporter rates with the key from the follow link."""
    return actions.record_resident_rating(report.case, key=report.rating_key, **kwargs)


def events_of(case: Case) -> list[str]:
    return list(Event.objects.filter(case=case).order_by("seq").values_list("kind", flat=True))


def test_a_resident_rates_a_closed_case_with_a_comment(whistle_city):
    report = closed(whistle_city, residents_case(whistle_city))
    case = rate(report, rating=5, comment="  清理得很及时，谢谢  ", now=minutes(180))
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
    # The comment stays on the case, where it can be erased; the trail holds a commitment.
    assert event.data == {
        "changes": {"resident_rating": [None, 5], "resident_satisfied": [None, True]},
        "comment_commitment": personal_data.text_commitment(
            stored.reporter_salt, "清理得很及时，谢谢"
        ),
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


def test_the_case_keeps_only_a_digest_of_the_reporters_key(whistle_city):
    report = residents_case(whistle_city)
    stored = Case.objects.get(pk=report.case.pk)
    assert len(report.rating_key) >= 24
    assert stored.resident_key_hash == hashlib.sha256(report.rating_key.encode()).hexdigest()
    assert report.rating_key not in str(list(Event.objects.filter(case=stored).values()))
    assert report.rating_key not in str(case_document(stored))
    assert stored.resident_key_hash not in str(case_document(stored))
    # Every report gets its own key.
    assert residents_case(whistle_city).rating_key != report.rating_key


@pytest.mark.parametrize(
    "attempt",
    [
        pytest.param({}, id="the reference alone"),
        pytest.param({"key": "not-the-key"}, id="a wrong key"),
        pytest.param({"key": "x" * 10_000}, id="a key of ten thousand characters"),
        pytest.param({"key": cast(Any, 42)}, id="a key that is not text"),
        pytest.param("officer", id="the summoned department's officer"),
        pytest.param("head", id="the department's head"),
        pytest.param("dispatcher", id="the township's dispatcher"),
        pytest.param("other key", id="the key of another case"),
    ],
)
def test_only_the_reporter_may_rate_and_a_refusal_writes_nothing(whistle_city, attempt):
    city = whistle_city
    report = closed(city, residents_case(city))
    people = {"officer": city.urban_officer, "head": city.urban_head, "dispatcher": city.dispatcher}
    if attempt == "other key":
        attempt = {"key": residents_case(city).rating_key}
    elif isinstance(attempt, str):
        attempt = {"person": people[attempt]}
    before = events_of(report.case)
    with pytest.raises(actions.PermissionRefused) as refused:
        actions.record_resident_rating(report.case, rating=1, now=minutes(60), **attempt)
    with translation.override("zh-hans"):
        assert str(refused.value) == (
            "只有反映问题的人才能评价处置结果：请打开上报时收到的链接，或登录上报时使用的账号。"
        )
    stored = Case.objects.get(pk=report.case.pk)
    assert (stored.resident_rating, stored.resident_satisfied, stored.resident_rated_at) == (
        None,
        None,
        None,
    )
    assert events_of(stored) == before
    assert not actions.resident_may_rate(stored, **attempt)
    assert actions.resident_may_rate(stored, key=report.rating_key)


def test_a_signed_in_resident_who_reported_rates_without_the_key(whistle_city):
    city = whistle_city
    report = closed(city, residents_case(city, reporter=city.resident))
    case = report.case
    assert case.reporter == city.resident
    reported = Event.objects.get(case=case, kind=EventKind.CASE_REPORTED)
    assert (reported.actor, reported.actor_role) == (city.resident, Role.RESIDENT)
    other = make_person("another-resident", Role.RESIDENT)
    with pytest.raises(actions.PermissionRefused):
        actions.record_resident_rating(case, rating=5, person=other, now=minutes(60))
    case = actions.record_resident_rating(case, rating=5, person=city.resident, now=minutes(61))
    assert (case.resident_rating, case.resident_satisfied) == (5, True)
    event = Event.objects.get(case=case, kind=EventKind.RESIDENT_RATED)
    assert (event.actor, event.actor_role, event.at) == (city.resident, Role.RESIDENT, minutes(61))


def test_a_dispatcher_who_typed_in_a_residents_report_is_not_its_reporter(whistle_city):
    city = whistle_city
    typed = typed_in_and_filed(city, NOW)
    actions.solve_on_spot(city.dispatcher, typed, note="已清运", now=minutes(30))
    actions.check_passed(city.dispatcher, typed, now=minutes(40))
    typed = actions.close_case(city.dispatcher, typed, now=minutes(45))
    assert typed.reporter == city.dispatcher
    with pytest.raises(actions.PermissionRefused):
        actions.record_resident_rating(typed, rating=5, person=city.dispatcher, now=minutes(60))
    assert Case.objects.get(pk=typed.pk).resident_rated_at is None


def test_staff_who_typed_in_a_residents_report_are_not_asked_to_rate_it(whistle_city):
    city = whistle_city
    typed = typed_in_and_filed(city, NOW, typist=city.township_chief)
    actions.solve_on_spot(city.dispatcher, typed, note="已清运", now=minutes(30))
    actions.check_passed(city.dispatcher, typed, now=minutes(40))
    closed_case = actions.close_case(city.dispatcher, typed, now=minutes(45))
    assert closed_case.reporter == city.township_chief
    assert not actions.resident_may_rate(closed_case, person=city.township_chief)
    # Neither "rate the result" nor "the problem you reported has been solved".
    assert not Notification.objects.filter(
        recipient=city.township_chief, payload__case=closed_case.reference
    ).exists()


def test_an_inactive_account_cannot_report_as_a_resident(whistle_city):
    city = whistle_city
    city.resident.is_active = False
    city.resident.save(update_fields=["is_active"])
    with pytest.raises(actions.PermissionRefused):
        residents_case(city, reporter=city.resident)
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("rating", "satisfied"), [(1, False), (2, False), (3, False), (4, True), (5, True)]
)
def test_4_and_5_count_as_satisfied_and_3_or_less_as_not(whistle_city, rating, satisfied):
    case = rate(closed(whistle_city, residents_case(whistle_city)), rating=rating, now=minutes(60))
    assert (case.resident_rating, case.resident_satisfied) == (rating, satisfied)
    assert case.resident_comment == ""


def test_a_second_rating_is_refused_and_changes_nothing(whistle_city):
    report = closed(whistle_city, residents_case(whistle_city))
    case = rate(report, rating=2, comment="太慢了", now=minutes(60))
    before = events_of(case)
    with pytest.raises(actions.ActionRefused) as refused:
        rate(report, rating=5, now=minutes(61))
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
    report = closed(whistle_city, residents_case(whistle_city))
    case = report.case
    before = events_of(case)
    with pytest.raises(actions.InvalidInput) as refused:
        rate(report, rating=cast(Any, rating))
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
    report = closed(whistle_city, residents_case(whistle_city))
    case = report.case
    with pytest.raises(actions.InvalidInput) as refused:
        rate(report, rating=4, comment=comment)
    assert refused.value.field == "comment"
    with translation.override("zh-hans"):
        assert str(refused.value) == chinese
    assert Case.objects.get(pk=case.pk).resident_rated_at is None


def test_a_comment_of_the_longest_length_is_kept_whole(whistle_city):
    case = rate(
        closed(whistle_city, residents_case(whistle_city)), rating=4, comment="好" * NOTE_MAX
    )
    assert len(case.resident_comment) == NOTE_MAX


@pytest.mark.parametrize("stage", ["reported", "filed", "handled", "checked"])
def test_a_case_not_yet_closed_cannot_be_rated(whistle_city, stage):
    city = whistle_city
    report = actions.report_resident_case(
        description="路灯不亮", lon=ON_THE_LANE[0], lat=ON_THE_LANE[1], now=NOW
    )
    case = report.case
    if stage != "reported":
        actions.file_case(city.dispatcher, case, category=city.exposed_garbage, now=minutes(1))
    if stage in ("handled", "checked"):
        actions.solve_on_spot(city.dispatcher, case, note="已修复", now=minutes(30))
    if stage == "checked":
        actions.check_passed(city.dispatcher, case, now=minutes(40))
    with pytest.raises(actions.ActionRefused) as refused:
        rate(report, rating=5, now=minutes(50))
    status = Case.objects.get(pk=case.pk).status
    assert status == stage
    with translation.override("zh-hans"):
        label = str(Status(status).label)
        assert str(refused.value) == f"案件结案后才能评价，当前状态为“{label}”。"
    assert Event.objects.filter(case=case, kind=EventKind.RESIDENT_RATED).count() == 0


def test_an_evaluated_case_can_still_be_rated_and_evaluation_follows_a_rating(whistle_city):
    city = whistle_city
    first_report = closed(city, residents_case(city))
    actions.evaluate_case(city.assessor, first_report.case, rating=4, now=minutes(60))
    first = rate(first_report, rating=5, now=minutes(70))
    assert (first.status, first.township_rating, first.resident_rating) == (
        Status.EVALUATED,
        4,
        5,
    )
    second_report = closed(city, residents_case(city, name="", phone=""))
    rate(second_report, rating=1, now=minutes(60))
    second = actions.evaluate_case(city.assessor, second_report.case, rating=3, now=minutes(70))
    assert (second.status, second.resident_rating, second.township_rating) == (
        Status.EVALUATED,
        1,
        3,
    )


def test_hotline_cases_are_not_rated_online_and_cases_found_on_patrol_not_at_all(whistle_city):
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
    actions.check_passed(city.dispatcher, hotline, now=minutes(40))
    hotline = actions.close_case(city.dispatcher, hotline, now=minutes(45))
    # The caller got no key, and the dispatcher who typed the call in is not the caller:
    # the township's call-back records the caller's satisfaction.
    for attempt in ({"key": "anything"}, {"person": city.dispatcher}):
        with pytest.raises(actions.PermissionRefused):
            actions.record_resident_rating(hotline, rating=4, now=minutes(60), **attempt)
    assert Case.objects.get(pk=hotline.pk).resident_satisfied is None

    patrol = filed_case(city, at=NOW)
    actions.solve_on_spot(city.dispatcher, patrol, note="已劝离", now=minutes(20))
    actions.check_passed(city.dispatcher, patrol, now=minutes(40))
    patrol = actions.close_case(city.dispatcher, patrol, now=minutes(45))
    with pytest.raises(actions.ActionRefused) as refused:
        actions.record_resident_rating(patrol, rating=4, key="anything", now=minutes(60))
    with translation.override("zh-hans"):
        assert str(refused.value) == "只有居民或 12345 热线反映的案件才能由居民评价。"
    assert Case.objects.get(pk=patrol.pk).resident_satisfied is None


def test_the_satisfaction_is_recorded_once_by_a_call_back_or_by_a_rating(whistle_city):
    city = whistle_city
    called_report = closed(city, residents_case(city))
    called = called_report.case
    actions.record_resident_callback(city.assessor, called, satisfied=False, now=minutes(60))
    with pytest.raises(actions.ActionRefused) as refused:
        rate(called_report, rating=5, now=minutes(70))
    with translation.override("zh-hans"):
        assert str(refused.value) == "街乡已在电话回访时记录了您的满意情况。"
    called.refresh_from_db()
    assert (called.resident_satisfied, called.resident_rating) == (False, None)

    rated = rate(closed(city, residents_case(city)), rating=5, now=minutes(60))
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
    ).case
    assert (case.source, case.reporter_name, case.reporter_phone) == (
        Case.Source.RESIDENT,
        "",
        "",
    )
    only_a_name = actions.report_resident_case(
        name="蔡阿姨", description="路灯不亮", lon=ON_THE_LANE[0], lat=ON_THE_LANE[1], now=NOW
    ).case
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
    waiting = closed(city, residents_case(city)).case
    client.force_login(city.dispatcher)
    assert 'name="op" value="callback"' in client.get(case_url(waiting)).content.decode()

    rated = rate(closed(city, residents_case(city)), rating=2, comment="处理太慢", now=minutes(180))
    html = client.get(case_url(rated)).content.decode()
    assert 'name="op" value="callback"' not in html
    assert "居民评分" in html and "2 / 5" in html and "处理太慢" in html
    # The trail names the resident's role and the rating, in words.
    assert "居民评价处置结果" in html
    # The comment is shown from the case, where it is erased with the reporter's data; the
    # trail holds only a commitment to it.
    assert html.count("处理太慢") == 1
    response = post_op(client, case_url(rated), "callback", rated, satisfied="yes")
    assert Case.objects.get(pk=rated.pk).resident_called_back_at is None
    assert response.status_code == 200


@pytest.mark.parametrize(("rating", "level"), [(2, "不满意"), (1, "非常不满意")])
def test_a_dissatisfied_rating_tells_the_townships_dispatchers(client, whistle_city, rating, level):
    city = whistle_city
    report = closed(city, residents_case(city))
    case = rate(report, rating=rating, comment="垃圾又堆起来了，电话13912345678", now=minutes(180))
    (entry,) = inbox(city.dispatcher).filter(kind=EventKind.RESIDENT_RATED)
    assert entry.link == f"/cases/{case.reference}/"
    # Neither the resident's name or phone nor their comment, which may hold them.
    for told in (entry.subject, entry.body, str(entry.payload)):
        assert "蔡阿姨" not in told and "13912345678" not in told and "垃圾又堆" not in told
    # Only the dispatchers of the case's own township.
    assert not inbox(city.dongsi_dispatcher).filter(kind=EventKind.RESIDENT_RATED).exists()
    assert not inbox(city.urban_officer).filter(kind=EventKind.RESIDENT_RATED).exists()

    client.force_login(city.dispatcher)
    page = client.get("/inbox/").content.decode()
    assert f"居民不满意：案件 {case.reference}" in page
    assert f"评为 {rating} 分（满分 5 分，{level}）" in page
    english = client.get("/inbox/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Resident dissatisfied: case {case.reference}" in english
    opened = client.get(f"/inbox/{entry.uuid}/")
    assert opened.status_code == 302 and opened["Location"] == entry.link


@pytest.mark.parametrize("rating", [3, 4, 5])
def test_a_rating_of_3_or_more_tells_nobody(whistle_city, rating):
    city = whistle_city
    rate(closed(city, residents_case(city)), rating=rating, now=minutes(180))
    assert not Notification.objects.filter(kind=EventKind.RESIDENT_RATED).exists()
