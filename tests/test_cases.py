"""Cases: where they are, who reports them, filing, duplicates, closing, evaluation, the
backlog, escalation and supervision notices — and refusals that write nothing."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date, timedelta
from typing import Any, cast

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from tests.fixtures_cases import (
    OFF_ANY_LANE,
    ON_THE_LANE,
    beijing,
    filed_case,
    png_bytes,
    reported_case,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from whistle.cases import actions
from whistle.cases.locate import locate
from whistle.cases.models import Attachment, Case, Event, SupervisionNotice
from whistle.cases.trail import EventKind
from whistle.notifications.models import Notification
from whistle.organisation.models import GridCell, Role

NOW = beijing(2026, 3, 10, 10, 0)
Status = Case.Status


def minutes(n: int):
    return NOW + timedelta(minutes=n)


def nothing_written() -> bool:
    return not Case.objects.exists() and not Event.objects.exists()


# Where a problem is ---------------------------------------------------------------------


def test_a_point_near_a_lane_belongs_to_the_lane_its_community_and_township(whistle_city):
    place = locate(*ON_THE_LANE)
    assert place.lane == whistle_city.lane
    assert (place.community, place.township, place.district) == (
        whistle_city.city.xizhaosi,
        whistle_city.longtan,
        whistle_city.district,
    )
    assert place.lane_distance_m is not None and 5 < place.lane_distance_m < 12


def test_away_from_every_lane_the_polygons_decide(whistle_city):
    cell = GridCell.objects.create(
        code="110101015001001",
        community=whistle_city.city.xizhaosi,
        boundary={
            "type": "Polygon",
            "coordinates": [
                [
                    [116.434, 39.874],
                    [116.435, 39.874],
                    [116.435, 39.875],
                    [116.434, 39.875],
                    [116.434, 39.874],
                ]
            ],
        },
    )
    place = locate(*OFF_ANY_LANE)
    assert place.lane is None
    assert (place.community, place.township, place.grid_cell) == (
        whistle_city.city.xizhaosi,
        whistle_city.longtan,
        cell,
    )


def test_the_lane_matching_distance_is_the_districts(whistle_city):
    whistle_city.policy.lane_snap_m = 5
    whistle_city.policy.save(update_fields=["lane_snap_m"])
    assert locate(*ON_THE_LANE).lane is None


def test_without_a_policy_the_setting_gives_the_lane_matching_distance(whistle_city, settings):
    whistle_city.policy.delete()
    settings.WHISTLE_LANE_SNAP_METRES = 5.0
    assert locate(*ON_THE_LANE).lane is None
    settings.WHISTLE_LANE_SNAP_METRES = 20.0
    assert locate(*ON_THE_LANE).lane == whistle_city.lane


# Reporting ------------------------------------------------------------------------------


def test_a_steward_reports_a_problem_on_her_lane(whistle_city):
    case = reported_case(whistle_city, at=NOW, accuracy_m=6, address="人民市场东巷12号")
    assert (case.source, case.status, case.reporter) == (
        Case.Source.STEWARD,
        Status.REPORTED,
        whistle_city.steward,
    )
    [event] = Event.objects.filter(case=case)
    assert (event.kind, event.actor_role, event.at) == (
        EventKind.CASE_REPORTED,
        Role.STEWARD,
        NOW,
    )
    assert (event.lon, event.lat) == ON_THE_LANE
    assert event.data["lane"] == "人民市场东巷"
    assert event.data["changes"] == {"status": [None, "reported"]}
    told = Notification.objects.get(kind=EventKind.CASE_REPORTED)
    assert told.recipient == whistle_city.dispatcher and "人民市场东巷" in told.subject


def test_a_steward_of_another_township_cannot_report_here_and_nothing_is_written(whistle_city):
    with pytest.raises(actions.PermissionRefused) as refused:
        actions.report_case(
            whistle_city.dongsi_steward,
            description="占道",
            lon=ON_THE_LANE[0],
            lat=ON_THE_LANE[1],
        )
    with translation.override("en"):
        message = str(refused.value)
    assert "report a problem here" in message and "人民市场东巷" in message
    assert nothing_written()


def test_a_steward_may_report_ground_near_no_lane_in_her_township(whistle_city):
    case = actions.report_case(
        whistle_city.steward,
        description="绿地里有暴露垃圾",
        lon=OFF_ANY_LANE[0],
        lat=OFF_ANY_LANE[1],
    )
    assert case.lane is None and case.township == whistle_city.longtan


def test_each_role_reports_under_its_own_source(whistle_city):
    city = whistle_city
    by_chief = actions.report_case(
        city.lane_chief, description="井盖缺失", lon=ON_THE_LANE[0], lat=ON_THE_LANE[1]
    )
    by_district = actions.report_case(
        city.district_office, description="市级督查交办", lon=ON_THE_LANE[0], lat=ON_THE_LANE[1]
    )
    hotline = actions.report_case(
        city.dispatcher,
        description="12345 市民反映夜间施工扰民",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
        source=Case.Source.HOTLINE,
        reporter_name="王女士",
        reporter_phone="13900000000",
        external_id="12345-20260310-0001",
    )
    assert [c.source for c in (by_chief, by_district, hotline)] == ["chief", "superior", "hotline"]
    with pytest.raises(actions.InvalidInput):
        actions.report_case(
            city.steward,
            description="上级交办",
            lon=ON_THE_LANE[0],
            lat=ON_THE_LANE[1],
            source=Case.Source.SUPERIOR,
        )
    with pytest.raises(actions.InvalidInput):
        actions.report_case(
            city.dispatcher,
            description="12345 来电",
            lon=ON_THE_LANE[0],
            lat=ON_THE_LANE[1],
            source=Case.Source.HOTLINE,
        )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"lon": 200.0}, "position.lon"),
        ({"lat": float("nan")}, "position.lat"),
        ({"lon": True}, "position.lon"),
        ({"lon": "116.43"}, "position.lon"),
        ({"description": "  "}, "description"),
        ({"description": "占" * 4001}, "description"),
        ({"description": "a\x00b"}, "description"),
        ({"accuracy_m": -1}, "accuracy_m"),
        ({"lon": 116.0, "lat": 40.5}, "position"),
    ],
)
def test_bad_input_is_refused_with_the_field_named_and_nothing_written(whistle_city, fields, field):
    with pytest.raises(actions.InvalidInput) as refused:
        reported_case(whistle_city, **fields)
    assert refused.value.field == field
    assert str(refused.value)
    assert nothing_written()


def test_a_resident_reports_without_an_account_and_the_phone_stays_out_of_the_trail(
    whistle_city,
):
    case = actions.report_resident_case(
        name="蔡阿姨",
        phone="+86 139-1234-5678",
        description="楼道里堆放杂物",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
        now=NOW,
    ).case
    assert (case.source, case.reporter, case.reporter_name, case.reporter_phone) == (
        Case.Source.RESIDENT,
        None,
        "蔡阿姨",
        "13912345678",  # kept in its normal form, however it was typed
    )
    event = Event.objects.get(case=case)
    assert event.actor is None and event.actor_role == Role.RESIDENT
    # The trail holds a commitment, whose hex digits may hold any short run of digits.
    stored = json.dumps(event.data, ensure_ascii=False)
    assert "蔡阿姨" not in stored and "12345678" not in stored and "1234-5678" not in stored
    with pytest.raises(actions.InvalidInput) as refused:
        actions.report_resident_case(
            name="蔡阿姨", phone="call me", description="杂物", lon=116.4321, lat=39.8729
        )
    assert refused.value.field == "phone"


# Photos ---------------------------------------------------------------------------------


def test_photos_are_stored_re_encoded_with_their_hash_in_the_trail(whistle_city):
    upload = SimpleUploadedFile("IMG_0001.jpeg", png_bytes(), content_type="image/jpeg")
    case = reported_case(whistle_city, at=NOW, photos=[upload])
    [photo] = Attachment.objects.filter(case=case)
    assert (photo.content_type, photo.purpose, photo.uploaded_by) == (
        "image/jpeg",
        Attachment.Purpose.REPORT,
        whistle_city.steward,
    )
    assert photo.file.name.endswith(".jpg") and default_storage.exists(photo.file.name)
    with photo.file.open("rb") as stored:
        content = stored.read()
    assert content.startswith(b"\xff\xd8") and hashlib.sha256(content).hexdigest() == photo.sha256
    assert Event.objects.get(case=case).data["photos"] == [
        {"sha256": photo.sha256, "type": "image/jpeg", "size": len(content)}
    ]


def test_a_file_that_is_not_a_photo_is_refused_and_nothing_is_stored(whistle_city, settings):
    with pytest.raises(actions.InvalidInput) as refused:
        reported_case(whistle_city, photos=[io.BytesIO(b"%PDF-1.4 not an image")])
    assert refused.value.field == "photos"
    settings.WHISTLE_PHOTO_UPLOAD_MAX_BYTES = 50
    with pytest.raises(actions.InvalidInput):
        reported_case(whistle_city, photos=[png_bytes((64, 64))])
    assert nothing_written() and not Attachment.objects.exists()


def test_photos_stored_by_an_action_that_fails_are_removed_again(whistle_city):
    city = whistle_city
    case = filed_case(city, at=NOW)
    with pytest.raises(actions.PermissionRefused):
        actions.solve_on_spot(city.dongsi_dispatcher, case, note="已清理", photos=[png_bytes()])
    assert not Attachment.objects.exists()
    listing = (
        default_storage.listdir(f"cases/{case.uuid}")
        if default_storage.exists(f"cases/{case.uuid}")
        else ([], [])
    )
    assert listing[1] == []


# Filing, rejecting, merging -------------------------------------------------------------


def test_filing_sets_the_category_and_the_deadline_from_its_time_limit(whistle_city):
    case = reported_case(whistle_city, at=NOW)
    case = actions.file_case(
        whistle_city.dispatcher, case, category=whistle_city.exposed_garbage, now=minutes(5)
    )
    assert (case.status, case.category, case.filed_at) == (
        Status.FILED,
        whistle_city.exposed_garbage,
        minutes(5),
    )
    assert case.resolve_due_at == beijing(2026, 3, 10, 15, 35)
    filed = Event.objects.get(case=case, kind=EventKind.CASE_FILED)
    assert filed.data["changes"] == {
        "status": ["reported", "filed"],
        "category": [None, "0102"],
    }
    assert Notification.objects.filter(
        kind=EventKind.CASE_FILED, recipient=whistle_city.steward
    ).exists()


def test_only_the_townships_office_files_and_only_once(whistle_city):
    city = whistle_city
    case = reported_case(city, at=NOW)
    for outsider in (city.steward, city.dongsi_dispatcher, city.urban_officer):
        with pytest.raises(actions.PermissionRefused):
            actions.file_case(outsider, case, category=city.street_vending)
    with pytest.raises(actions.InvalidInput):
        actions.file_case(city.dispatcher, case)
    actions.file_case(city.township_chief, case, category=city.street_vending, now=minutes(1))
    with pytest.raises(actions.ActionRefused) as refused:
        actions.file_case(city.dispatcher, case, category=city.street_vending)
    with translation.override("en"):
        assert "the case has the status “Filed”" in str(refused.value)
    assert Event.objects.filter(case=case).count() == 2


def test_a_rejection_needs_a_reason_and_tells_the_reporter(whistle_city):
    case = reported_case(whistle_city, at=NOW)
    with pytest.raises(actions.InvalidInput):
        actions.reject_case(whistle_city.dispatcher, case, reason="")
    case = actions.reject_case(
        whistle_city.dispatcher, case, reason="属于物业管理范围", now=minutes(3)
    )
    assert (case.status, case.rejection_reason) == (Status.REJECTED, "属于物业管理范围")
    told = Notification.objects.get(kind=EventKind.CASE_REJECTED)
    assert told.recipient == whistle_city.steward and "属于物业管理范围" in told.body


def test_nearby_recent_reports_of_the_same_category_are_suggested_as_duplicates(whistle_city):
    city = whistle_city
    first = reported_case(city, at=NOW, category=city.street_vending)
    reported_case(city, at=NOW, category=city.exposed_garbage)
    reported_case(city, at=NOW - timedelta(days=4), category=city.street_vending)
    reported_case(
        city, at=NOW, category=city.street_vending, lon=OFF_ANY_LANE[0], lat=OFF_ANY_LANE[1]
    )
    second = actions.report_case(
        city.lane_chief,
        description="又有游商",
        lon=116.4322,
        lat=39.8730,
        category=city.street_vending,
        now=minutes(30),
    )
    [(duplicate, distance)] = actions.possible_duplicates(second)
    assert duplicate == first and distance < 20
    second = actions.merge_case(city.dispatcher, second, into=first, now=minutes(31))
    assert (second.status, second.merged_into) == (Status.MERGED, first)
    assert (
        Event.objects.get(case=first, kind=EventKind.DUPLICATE_MERGED_IN).data["duplicate"]
        == second.reference
    )
    with pytest.raises(actions.InvalidInput):
        actions.merge_case(city.dispatcher, first, into=second)


# Solving, checking, closing, evaluating ---------------------------------------------------


def test_a_problem_solved_on_the_spot_is_checked_closed_and_evaluated(whistle_city):
    city = whistle_city
    case = filed_case(city, at=NOW, category=city.exposed_garbage)
    case = actions.solve_on_spot(
        city.steward, case, note="已清扫", photos=[png_bytes()], now=minutes(10)
    )
    assert case.status == Status.HANDLED
    with pytest.raises(actions.ActionRefused):
        actions.close_case(city.dispatcher, case, now=minutes(20))
    case = actions.check_passed(city.dispatcher, case, note="现场整洁", now=minutes(20))
    case = actions.close_case(city.dispatcher, case, now=minutes(25))
    assert (case.status, case.closed_at) == (Status.CLOSED, minutes(25))
    closed = Event.objects.get(case=case, kind=EventKind.CLOSED)
    assert (closed.data["on_time"], closed.data["minutes_late"]) == (True, 0)
    for rating in (0, 6, 4.5, True):
        with pytest.raises(actions.InvalidInput):
            actions.evaluate_case(city.assessor, case, rating=cast(Any, rating))
    case = actions.evaluate_case(city.assessor, case, rating=5, now=minutes(60))
    assert (case.status, case.township_rating) == (Status.EVALUATED, 5)
    assert list(Event.objects.filter(case=case).values_list("kind", flat=True)) == [
        EventKind.CASE_REPORTED,
        EventKind.CASE_FILED,
        EventKind.SOLVED_ON_SPOT,
        EventKind.CHECK_PASSED,
        EventKind.CLOSED,
        EventKind.EVALUATED,
    ]


def test_a_case_whose_result_was_rated_reads_rated_in_english_and_in_chinese(whistle_city, client):
    """The last state of a case: "rated" in English (the value stays `evaluated`), 已评价 in
    Chinese, on the case page's badge and in its trail."""
    city = whistle_city
    case = filed_case(city, at=NOW, category=city.exposed_garbage)
    case = actions.solve_on_spot(city.dispatcher, case, note="已清扫", now=minutes(10))
    case = actions.check_passed(city.dispatcher, case, note="现场整洁", now=minutes(20))
    case = actions.close_case(city.dispatcher, case, now=minutes(25))
    case = actions.evaluate_case(city.assessor, case, rating=5, now=minutes(60))
    assert case.status == "evaluated"
    client.force_login(city.dispatcher)
    for language, status, event in (
        ("en", "Rated", "Result rated"),
        ("zh-hans", "已评价", "已评价"),
    ):
        client.cookies["django_language"] = language
        html = client.get(reverse("case:detail", args=[case.reference])).content.decode()
        assert f'<span class="badge badge-closed">{status}</span>' in html, language
        assert event in html, language
        assert ">evaluated<" not in html and "evaluated</" not in html, language


def test_a_case_closed_after_its_deadline_is_recorded_late(whistle_city):
    city = whistle_city
    case = filed_case(city, at=NOW, category=city.exposed_garbage)
    actions.solve_on_spot(city.dispatcher, case, note="已清扫", now=minutes(10))
    actions.check_passed(city.dispatcher, case, now=minutes(20))
    late = beijing(2026, 3, 10, 16, 0)
    case = actions.close_case(city.dispatcher, case, now=late)
    closed = Event.objects.get(case=case, kind=EventKind.CLOSED)
    assert (closed.data["on_time"], closed.data["minutes_late"]) == (False, 30)


def test_residents_and_hotline_callers_are_called_back_once(whistle_city):
    city = whistle_city
    case = actions.report_resident_case(
        name="蔡阿姨", phone="13912345678", description="垃圾", lon=116.4321, lat=39.8729, now=NOW
    ).case
    actions.file_case(city.dispatcher, case, category=city.exposed_garbage, now=minutes(1))
    actions.solve_on_spot(city.dispatcher, case, note="已清运", now=minutes(30))
    actions.check_passed(city.dispatcher, case, now=minutes(40))
    with pytest.raises(actions.ActionRefused):
        actions.record_resident_callback(city.dispatcher, case, satisfied=True, now=minutes(41))
    actions.close_case(city.dispatcher, case, now=minutes(45))
    case = actions.record_resident_callback(
        city.assessor, case, satisfied=False, note="希望加强巡查", now=minutes(120)
    )
    assert (case.resident_satisfied, case.resident_called_back_at) == (False, minutes(120))
    with pytest.raises(actions.ActionRefused):
        actions.record_resident_callback(city.assessor, case, satisfied=True)
    steward_case = filed_case(city, at=NOW, category=city.exposed_garbage)
    with pytest.raises(actions.ActionRefused):
        actions.record_resident_callback(city.dispatcher, steward_case, satisfied=True)


# The backlog ----------------------------------------------------------------------------


def test_a_case_goes_on_the_backlog_with_a_reason_and_a_review_date_and_comes_back(
    whistle_city,
):
    city = whistle_city
    case, _whistle, _summonses = whistled_case(city, at=NOW)
    for review_on in (date(2026, 3, 10), date(2029, 1, 1), "2026-04-01"):
        with pytest.raises(actions.InvalidInput):
            actions.put_on_backlog(
                city.dispatcher,
                case,
                reason="涉及产权纠纷",
                review_on=cast(Any, review_on),
                now=NOW,
            )
    case = actions.put_on_backlog(
        city.township_office,
        case,
        reason="涉及产权纠纷，需区里协调",
        review_on=date(2026, 4, 1),
        now=minutes(5),
    )
    assert (case.status, case.backlog_review_on) == (Status.BACKLOG, date(2026, 4, 1))
    with pytest.raises(actions.PermissionRefused):
        actions.resume_from_backlog(city.steward, case)
    case = actions.resume_from_backlog(city.dispatcher, case, now=minutes(60))
    assert (case.status, case.backlog_review_on) == (Status.WHISTLED, None)
    resumed = Event.objects.get(case=case, kind=EventKind.BACKLOG_RESUMED)
    assert resumed.data["changes"]["status"] == ["backlog", "whistled"]


# Escalation and supervision notices -------------------------------------------------------


def test_a_chief_escalates_to_the_township_office_and_then_to_the_district(whistle_city):
    city = whistle_city
    case = filed_case(city, at=NOW)
    with pytest.raises(actions.PermissionRefused):
        actions.escalate(city.steward, case, reason="久拖不决")
    case = actions.escalate(city.lane_chief, case, reason="巷长协调不了", now=minutes(1))
    assert case.escalation == Case.Escalation.TOWNSHIP
    with pytest.raises(actions.PermissionRefused):
        actions.escalate(city.lane_chief, case, reason="再报")
    case = actions.escalate(city.township_chief, case, reason="需区级协调", now=minutes(2))
    assert case.escalation == Case.Escalation.DISTRICT
    with pytest.raises(actions.ActionRefused):
        actions.escalate(city.district_chief, case, reason="再报")
    escalated = Event.objects.filter(case=case, kind=EventKind.ESCALATED)
    assert [e.data["changes"]["escalation"] for e in escalated] == [
        ["", "township"],
        ["township", "district"],
    ]
    told = Notification.objects.filter(kind=EventKind.ESCALATED, channel="inbox")
    # The chiefs' offices, and the lane's chiefs but the one who escalated it himself.
    assert sorted((n.payload["seq"], n.recipient_id) for n in told) == sorted(
        [
            (escalated[0].seq, city.township_office.pk),
            (escalated[0].seq, city.street_chief.pk),
            (escalated[1].seq, city.district_office.pk),
            (escalated[1].seq, city.street_chief.pk),
            (escalated[1].seq, city.lane_chief.pk),
        ]
    )


def test_a_supervision_notice_is_issued_to_a_department_and_answered(whistle_city):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city, at=NOW)
    due = beijing(2026, 3, 12, 17, 0)
    with pytest.raises(actions.PermissionRefused):
        actions.issue_supervision_notice(
            city.dispatcher, case, department=city.police, text="限期处置", due_at=due, now=NOW
        )
    with pytest.raises(actions.InvalidInput):
        actions.issue_supervision_notice(
            city.district_office, case, department=city.police, text="限期处置", due_at=NOW, now=NOW
        )
    notice = actions.issue_supervision_notice(
        city.district_office,
        case,
        department=city.police,
        text="请于3月12日前完成整治并书面报告",
        due_at=due,
        now=minutes(5),
    )
    assert notice.summons == summonses[city.police.pk]
    assert notice.next_check_at is not None and notice.next_check_at >= due
    with pytest.raises(actions.PermissionRefused):
        actions.answer_supervision_notice(city.urban_officer, notice, answer="收到", now=NOW)
    notice = actions.answer_supervision_notice(
        city.police_officer, notice, answer="已完成整治，每日巡查", now=minutes(600)
    )
    assert (notice.answered_at, notice.next_check_at) == (minutes(600), None)
    with pytest.raises(actions.ActionRefused):
        actions.answer_supervision_notice(city.police_officer, notice, answer="再答")
    answered = Event.objects.get(case=case, kind=EventKind.SUPERVISION_ANSWERED)
    assert answered.data["on_time"] is True
    assert SupervisionNotice.objects.get().answer == "已完成整治，每日巡查"


def test_refusals_read_in_chinese_by_default(whistle_city):
    case = reported_case(whistle_city, at=NOW)
    with pytest.raises(actions.PermissionRefused) as refused:
        actions.file_case(whistle_city.steward, case, category=whistle_city.street_vending)
    with translation.override("zh-hans"):
        message = str(refused.value)
    assert "立案" in message and "龙潭街道" in message and "调度员" in message


def test_the_admin_shows_a_case_with_its_trail_but_offers_no_way_to_change_it(
    whistle_city, admin_client
):
    case, _whistle, _summonses = whistled_case(whistle_city, at=NOW)
    listing = admin_client.get("/admin/cases/case/")
    assert listing.status_code == 200 and case.reference in listing.content.decode()
    assert "/admin/cases/case/add/" not in listing.content.decode()
    page = admin_client.get(f"/admin/cases/case/{case.pk}/change/").content.decode()
    assert "吹哨" in page and "留痕记录" in page and "召集部门" in page
    assert 'name="_save"' not in page
    assert admin_client.post(f"/admin/cases/case/{case.pk}/delete/").status_code == 403
