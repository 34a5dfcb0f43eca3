"""The page of a case: who may open it, what it shows (facts, summonses, photos, the
timeline read from the trail), and every action posted from it."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from html import unescape

import pytest
import time_machine

from tests.conftest import make_person
from tests.fixtures_cases import (
    FAR_NORTH,
    ON_THE_LANE,
    beijing,
    device_fix,
    filed_case,
    officer_on_site,
    on_site,
    reported_case,
    reported_on_site,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from tests.fixtures_desk import case_url, not_a_photo, op_data, photo_upload, post_op
from whistle.cases import actions
from whistle.cases.models import Attachment, Case, Event, Summons
from whistle.cases.trail import EventKind, record
from whistle.organisation.models import Role
from whistle.policies.models import Category, CategoryKind, MajorClass

NOW = beijing(2026, 3, 10, 10, 0)
S = Summons.Status


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def text_of(response) -> str:
    """The page's words without tags, for assertions on what a reader sees."""
    html = html_of(response)
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


# Who may open it ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who",
    [
        "dispatcher",
        "township_chief",
        "township_office",
        "lane_chief",
        "district_office",
        "police_officer",
        "assessor",
    ],
)
def test_the_case_page_opens_for_everyone_whose_scope_covers_the_case(client, whistle_city, who):
    case, _whistle, _summonses = whistled_case(whistle_city)
    client.force_login(getattr(whistle_city, who))
    html = html_of(client.get(case_url(case)))
    assert case.reference in html
    assert "人民市场东巷有游商占道" in html


def test_a_dispatcher_of_dongsi_cannot_open_a_longtan_case(client, whistle_city):
    case = reported_case(whistle_city)
    client.force_login(whistle_city.dongsi_dispatcher)
    assert client.get(case_url(case)).status_code == 404
    # Nor act on it: the same answer as for a case that does not exist.
    response = post_op(client, case_url(case), "reject", case, reason="不是问题")
    assert response.status_code == 404
    assert Case.objects.get(pk=case.pk).status == Case.Status.REPORTED


def test_a_department_summoned_outside_its_area_sees_the_case(client, whistle_city):
    city = whistle_city
    # The housing bureau serves only 东四 here, yet it is summoned to a 龙潭 case.
    city.housing.serves.add(city.city.dongsi)
    city.housing.serves.add(city.longtan)
    case, _whistle, _summonses = whistled_case(city, departments=[city.housing])
    city.housing.serves.remove(city.longtan)
    officer = make_person("housing-officer", Role.DEPARTMENT_OFFICER, department=city.housing)
    client.force_login(officer)
    assert client.get(case_url(case)).status_code == 200


def test_residents_and_strangers_get_nothing(client, whistle_city):
    case = reported_case(whistle_city)
    client.force_login(whistle_city.resident)
    assert client.get(case_url(case)).status_code == 404
    client.logout()
    response = client.get(case_url(case))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_unknown_reference_is_not_found(client, whistle_city):
    client.force_login(whistle_city.dispatcher)
    assert client.get("/cases/NOSUCHCASE/").status_code == 404


# What it shows --------------------------------------------------------------------------------


def test_the_timeline_reads_the_trail_in_words(client, whistle_city):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city)
    summons = summonses[city.urban.pk]
    actions.acknowledge(city.urban_officer, summons)
    with pytest.raises(actions.CheckInRefused):
        actions.check_in(city.urban_officer, summons, **device_fix(FAR_NORTH))
    with time_machine.travel(NOW + timedelta(minutes=42), tick=False):
        actions.check_in(city.urban_officer, summons, **device_fix())
        client.force_login(city.dispatcher)
        text = text_of(client.get(case_url(case)))
    # Labels of the kinds, the actor and the role, Beijing time.
    for words in ("问题上报", "立案", "已吹哨", "签收任务", "报到未被接受", "到场报到"):
        assert words in text, words
    assert "urban-officer · 部门执法人员" in text
    assert "longtan-dispatcher · 街乡指挥中心调度员" in text
    assert "2026-03-10 10:00" in text and "2026-03-10 10:42" in text
    # Before and after, in words.
    assert "已上报 → 已立案" in text
    assert "已签收 → 已到场" in text
    # The refused check-in: how far and why.
    assert re.search(r"距离 [89]\d\d 米（以案件位置为准）", text), text
    assert "超出报到范围" in text
    assert "允许范围 300 米以内" in text
    # Twelve minutes after the 30-minute limit.
    assert "迟到 12 分钟" in text


def test_the_page_shows_the_summonses_with_deadlines_and_the_map_features(client, whistle_city):
    city = whistle_city
    case, _whistle, summonses = whistled_case(
        city, meeting_point="市场东口", meeting_lon=116.4322, meeting_lat=39.8731
    )
    on_site(city, summonses[city.urban.pk], city.urban_officer)
    client.force_login(city.dispatcher)
    html = html_of(client.get(case_url(case)))
    assert html.count('class="card summons-card') == 2
    # The police still owe an arrival by 10:30: a countdown; urban management came on time.
    assert 'data-deadline="2026-03-10T02:30:00+00:00"' in html
    assert "准时" in html
    features = re.search(
        r'<script id="case-map-features" type="application/json">(.*?)</script>', html
    )
    assert features is not None
    drawn = json.loads(features.group(1))
    assert drawn["meeting"] == [{"lon": 116.4322, "lat": 39.8731, "label": "市场东口"}]
    assert [c["accepted"] for c in drawn["check_ins"]] == [True]
    assert drawn["lane"]["label"] == "人民市场东巷"


def test_photos_are_served_through_the_page_with_permission_checks(client, whistle_city):
    city = whistle_city
    case = reported_case(city, photos=[photo_upload().read()])
    attachment = Attachment.objects.get(case=case)
    client.force_login(city.dispatcher)
    html = html_of(client.get(case_url(case)))
    photo_url = f"/cases/{case.reference}/photos/{attachment.pk}/"
    assert photo_url in html
    assert "/media/" not in html
    response = client.get(photo_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, max-age=3600"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    client.force_login(city.dongsi_dispatcher)
    assert client.get(photo_url).status_code == 404
    client.logout()
    assert client.get(photo_url).status_code == 404


def test_another_cases_photo_cannot_be_fetched_through_this_case(client, whistle_city):
    city = whistle_city
    mine = reported_case(city)
    other = reported_case(city, photos=[photo_upload().read()])
    attachment = Attachment.objects.get(case=other)
    client.force_login(city.dispatcher)
    assert client.get(f"/cases/{mine.reference}/photos/{attachment.pk}/").status_code == 404


def test_the_reporters_phone_is_for_the_township_office_only(client, whistle_city):
    city = whistle_city
    case = actions.report_case(
        city.dispatcher,
        description="热线反映井盖缺失",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
        source="hotline",
        reporter_name="王先生",
        reporter_phone="13900001111",
    )
    client.force_login(city.dispatcher)
    assert "13900001111" in html_of(client.get(case_url(case)))
    client.force_login(city.lane_chief)
    assert "13900001111" not in html_of(client.get(case_url(case)))


def test_the_page_speaks_complete_english(client, whistle_city):
    city = whistle_city
    case, _whistle, _summonses = whistled_case(city)
    client.force_login(city.dispatcher)
    text = text_of(client.get(case_url(case), HTTP_ACCEPT_LANGUAGE="en"))
    for words in (
        "What you can do",
        "Mark resolved",
        "Departments summoned",
        "Timeline",
        "Acknowledge",
        "arrive on site by",
        "Whistle blown",
        "Township dispatcher",
    ):
        assert words in text, words
    for chinese in ("签收", "时间线", "状态", "立案", "召集", "部门"):
        assert chinese not in text.replace("人民市场东巷有游商占道", ""), chinese


def test_values_shown_alone_begin_with_a_capital_in_english_and_read_as_before_in_chinese(
    client, whistle_city
):
    city = whistle_city
    client.force_login(city.dispatcher)
    reported = reported_case(city)
    english = text_of(client.get(case_url(reported), HTTP_ACCEPT_LANGUAGE="en"))
    assert "Category Not yet chosen" in english
    assert "分类 尚未确定" in text_of(client.get(case_url(reported)))
    case, _whistle, summonses = whistled_case(city)
    summons = summonses[city.urban.pk]
    actions.acknowledge(city.urban_officer, summons)
    with pytest.raises(actions.CheckInRefused):
        actions.check_in(city.urban_officer, summons, **device_fix(FAR_NORTH))
    actions.check_in(city.urban_officer, summons, **device_fix())
    english = text_of(client.get(case_url(case), HTTP_ACCEPT_LANGUAGE="en"))
    # A change, from → to, and a value alone beside its label.
    assert "Reported → Filed" in english and "Acknowledged → On site" in english
    assert "Allowed Within 300 m" in english and "Timeliness On time" in english
    assert "reported → filed" not in english and "within 300 m" not in english
    chinese = text_of(client.get(case_url(case)))
    assert "已上报 → 已立案" in chinese and "已签收 → 已到场" in chinese
    assert "允许范围 300 米以内" in chinese


def test_a_viewer_sees_only_the_buttons_of_their_role(client, whistle_city):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city)
    client.force_login(city.urban_officer)
    html = html_of(client.get(case_url(case)))
    urban = summonses[city.urban.pk].uuid.hex
    police = summonses[city.police.pk].uuid.hex
    assert f'id="op-acknowledge-{urban}"' in html
    assert f'id="op-acknowledge-{police}"' not in html
    assert 'name="op" value="mark_handled"' not in html
    client.force_login(city.dispatcher)
    html = html_of(client.get(case_url(case)))
    assert f'id="op-release-{police}"' in html
    assert 'name="op" value="acknowledge"' not in html
    # Nobody has come yet: the township cannot mark the case resolved, and is told why.
    assert 'name="op" value="mark_handled"' not in html
    assert f'id="op-mark_handled-{case.reference}"' in html
    assert "东城区城管执法局、龙潭派出所" in html


# The township's buttons ---------------------------------------------------------------------


def test_filing_a_case_with_its_category(client, whistle_city):
    city = whistle_city
    case = reported_case(city)
    client.force_login(city.dispatcher)
    response = post_op(
        client, case_url(case), "file", case, category=city.street_vending.pk, note="核实属实"
    )
    assert response.status_code == 302 and response["Location"] == case_url(case)
    case.refresh_from_db()
    assert case.status == Case.Status.FILED and case.category == city.street_vending
    assert "案件" in html_of(client.get(case_url(case)))


def test_filing_without_a_category_says_so_and_writes_nothing(client, whistle_city):
    city = whistle_city
    case = reported_case(city)
    client.force_login(city.dispatcher)
    response = post_op(client, case_url(case), "file", case, category="", note="核实属实")
    html = html_of(response)
    assert 'class="form-errors" role="alert"' in html
    assert "立案前请先选择问题分类" in html
    # The note typed is still there.
    assert "核实属实</textarea>" in html
    assert Case.objects.get(pk=case.pk).status == Case.Status.REPORTED
    assert Event.objects.filter(case=case).count() == 1


def test_a_category_of_another_list_is_refused(client, whistle_city):
    case = reported_case(whistle_city)
    client.force_login(whistle_city.dispatcher)
    html = html_of(post_op(client, case_url(case), "file", case, category="99999"))
    assert "选择一个有效的选项" in html


def test_rejecting_needs_a_reason(client, whistle_city):
    city = whistle_city
    case = reported_case(city)
    client.force_login(city.dispatcher)
    html = html_of(post_op(client, case_url(case), "reject", case, reason="   "))
    assert "这个字段是必填项" in html
    assert Case.objects.get(pk=case.pk).status == Case.Status.REPORTED
    response = post_op(client, case_url(case), "reject", case, reason="属于物业管理范围")
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.REJECTED
    assert case.rejection_reason == "属于物业管理范围"


def test_merging_into_a_suggested_duplicate(client, whistle_city):
    city = whistle_city
    first = reported_case(city)
    with time_machine.travel(NOW + timedelta(minutes=10), tick=False):
        second = reported_case(city)
        client.force_login(city.dispatcher)
        html = html_of(client.get(case_url(second)))
        assert f'value="{first.pk}"' in html  # offered as a duplicate
        response = post_op(client, case_url(second), "merge", second, into=first.pk)
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.status == Case.Status.MERGED and second.merged_into == first


def test_merging_into_nothing_or_an_unknown_case_is_refused(client, whistle_city):
    city = whistle_city
    case = reported_case(city)
    client.force_login(city.dispatcher)
    html = html_of(post_op(client, case_url(case), "merge", case))
    assert "选择要合并进的案件" in html
    html = html_of(post_op(client, case_url(case), "merge", case, reference="ZZZZZZZZZZ"))
    assert "您的辖区内没有案件 ZZZZZZZZZZ" in html
    assert Case.objects.get(pk=case.pk).status == Case.Status.REPORTED


def test_solving_on_the_spot_with_a_photo(client, whistle_city):
    city = whistle_city
    case = filed_case(city)
    client.force_login(city.dispatcher)
    response = client.post(
        case_url(case),
        {
            "op": "solve",
            "target": case.reference,
            f"solve-{case.reference}-note": "已劝离游商",
            f"solve-{case.reference}-photos": [
                photo_upload("a.jpg"),
                photo_upload("b.png", image_format="PNG"),
            ],
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.HANDLED
    # Both re-encoded as JPEG, the PNG too.
    assert sorted(Attachment.objects.filter(case=case).values_list("content_type", flat=True)) == [
        "image/jpeg",
        "image/jpeg",
    ]


def test_a_file_that_is_not_a_photo_loses_nothing_else_of_the_form(client, whistle_city):
    city = whistle_city
    case = filed_case(city)
    client.force_login(city.dispatcher)
    html = html_of(
        client.post(
            case_url(case),
            {
                "op": "solve",
                "target": case.reference,
                f"solve-{case.reference}-note": "已劝离游商，现场清理完毕",
                f"solve-{case.reference}-photos": [not_a_photo("evil.jpg")],
            },
        )
    )
    assert "evil.jpg：该文件不是可读取的 JPEG、PNG 或 WebP 图片。" in html
    assert "已劝离游商，现场清理完毕</textarea>" in html
    assert Case.objects.get(pk=case.pk).status == Case.Status.FILED
    assert not Attachment.objects.filter(case=case).exists()


def test_dispatching_to_one_department(client, whistle_city):
    city = whistle_city
    case = filed_case(city)
    client.force_login(city.dispatcher)
    html = html_of(post_op(client, case_url(case), "dispatch", case, department=""))
    assert "请选择部门" in html
    response = post_op(client, case_url(case), "dispatch", case, department=city.urban.pk)
    assert response.status_code == 302
    summons = Summons.objects.get(case=case)
    assert summons.department == city.urban and summons.whistle is None


def test_summoning_more_departments_on_a_sounding_whistle(client, whistle_city):
    city = whistle_city
    case, _whistle, _summonses = whistled_case(city)
    client.force_login(city.dispatcher)
    html = html_of(client.get(case_url(case)))
    # Only those not yet summoned are offered.
    assert f'value="{city.fire.pk}"' in html
    html = html_of(post_op(client, case_url(case), "summon_more", case))
    assert "请至少选择一个召集部门" in html
    response = post_op(client, case_url(case), "summon_more", case, departments=[city.fire.pk])
    assert response.status_code == 302
    assert Summons.objects.filter(case=case, department=city.fire).exists()


def test_marking_resolved_is_refused_while_a_department_has_not_come(client, whistle_city):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city)
    on_site(city, summonses[city.urban.pk], city.urban_officer)
    client.force_login(city.dispatcher)
    html = html_of(post_op(client, case_url(case), "mark_handled", case, note=""))
    assert "仍在等待龙潭派出所" in html
    assert Case.objects.get(pk=case.pk).status == Case.Status.WHISTLED
    police = summonses[city.police.pk]
    assert post_op(client, case_url(case), "release", police, note="无需到场").status_code == 302
    assert post_op(client, case_url(case), "mark_handled", case, note="").status_code == 302
    assert Case.objects.get(pk=case.pk).status == Case.Status.HANDLED


def test_release_refuses_a_note_too_long(client, whistle_city):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city)
    client.force_login(city.dispatcher)
    police = summonses[city.police.pk]
    html = html_of(post_op(client, case_url(case), "release", police, note="长" * 1001))
    assert "1001" in html  # Django's "at most 1000 characters (it has 1001)"
    assert Summons.objects.get(pk=police.pk).status == S.SUMMONED


def resolved_case(city):
    case, _whistle, summonses = whistled_case(city, departments=[city.urban])
    summons = summonses[city.urban.pk]
    reported_on_site(city, summons, result="游商已劝离")
    actions.mark_handled(city.dispatcher, case)
    return case


def test_once_resolved_the_township_is_offered_the_check_not_marking_resolved(client, whistle_city):
    city = whistle_city
    case = resolved_case(city)
    client.force_login(city.dispatcher)
    for language in ("zh-hans", "en"):
        html = html_of(client.get(case_url(case), HTTP_ACCEPT_LANGUAGE=language))
        assert f'id="op-mark_handled-{case.reference}"' not in html
        assert 'class="op-waiting' not in html
        assert f'id="op-check_passed-{case.reference}"' in html
        assert 'name="op" value="check_passed"' in html


def test_check_passed_then_close(client, whistle_city):
    city = whistle_city
    case = resolved_case(city)
    client.force_login(city.dispatcher)
    html = html_of(post_op(client, case_url(case), "check_passed", case, lon="东经", lat=""))
    assert "输入一个数字" in html
    response = post_op(
        client,
        case_url(case),
        "check_passed",
        case,
        note="现场无游商",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
    )
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).status == Case.Status.CHECKED
    html = html_of(post_op(client, case_url(case), "close", case, note="结" * 1001))
    assert Case.objects.get(pk=case.pk).status == Case.Status.CHECKED
    assert post_op(client, case_url(case), "close", case, note="").status_code == 302
    assert Case.objects.get(pk=case.pk).status == Case.Status.CLOSED


def test_sending_back_for_rework_needs_a_reason(client, whistle_city):
    city = whistle_city
    case = resolved_case(city)
    client.force_login(city.dispatcher)
    html = html_of(post_op(client, case_url(case), "rework", case, reason=""))
    assert "这个字段是必填项" in html
    assert post_op(client, case_url(case), "rework", case, reason="仍有游商").status_code == 302
    case.refresh_from_db()
    assert case.rework_count == 1 and case.status == Case.Status.WHISTLED


def closed_case(city, **report):
    case = resolved_case(city) if not report else None
    if case is None:
        case = actions.report_case(
            city.dispatcher, lon=ON_THE_LANE[0], lat=ON_THE_LANE[1], **report
        )
        actions.file_case(city.dispatcher, case, category=city.street_vending)
        actions.solve_on_spot(city.dispatcher, case, note="已处理")
    actions.check_passed(city.dispatcher, case)
    return actions.close_case(city.dispatcher, case)


def test_rating_a_closed_case(client, whistle_city):
    city = whistle_city
    case = closed_case(city)
    client.force_login(city.assessor)
    html = html_of(post_op(client, case_url(case), "evaluate", case, rating=""))
    assert "这个字段是必填项" in html
    assert post_op(client, case_url(case), "evaluate", case, rating=4).status_code == 302
    case.refresh_from_db()
    assert case.township_rating == 4 and case.status == Case.Status.EVALUATED


def test_recording_the_residents_call_back(client, whistle_city):
    city = whistle_city
    case = closed_case(city, description="热线：占道经营", source="hotline", reporter_name="王先生")
    client.force_login(city.dispatcher)
    html = html_of(post_op(client, case_url(case), "callback", case, satisfied="maybe"))
    assert "选择一个有效的选项" in html
    response = post_op(client, case_url(case), "callback", case, satisfied="yes")
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).resident_satisfied is True


def test_the_backlog_needs_a_review_date_after_today(client, whistle_city):
    city = whistle_city
    case = filed_case(city)
    client.force_login(city.township_office)
    html = html_of(
        post_op(
            client, case_url(case), "backlog", case, reason="需拆除违建", review_on="2026-03-10"
        )
    )
    assert "复查日期须晚于今天" in html
    response = post_op(
        client, case_url(case), "backlog", case, reason="需拆除违建", review_on="2026-04-10"
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.BACKLOG and case.backlog_review_on == date(2026, 4, 10)
    html = html_of(post_op(client, case_url(case), "resume", case, note="复" * 1001))
    assert Case.objects.get(pk=case.pk).status == Case.Status.BACKLOG
    assert post_op(client, case_url(case), "resume", case, note="").status_code == 302
    assert Case.objects.get(pk=case.pk).status == Case.Status.FILED


def test_escalating_needs_a_reason(client, whistle_city):
    city = whistle_city
    case = filed_case(city)
    client.force_login(city.township_chief)
    html = html_of(post_op(client, case_url(case), "escalate", case, reason=""))
    assert "这个字段是必填项" in html
    assert post_op(client, case_url(case), "escalate", case, reason="反复发生").status_code == 302
    assert Case.objects.get(pk=case.pk).escalation == Case.Escalation.TOWNSHIP


def test_issuing_a_supervision_notice_with_a_deadline(client, whistle_city):
    city = whistle_city
    case, _whistle, _summonses = whistled_case(city)
    client.force_login(city.township_chief)
    html = html_of(
        post_op(
            client,
            case_url(case),
            "supervise",
            case,
            department=city.urban.pk,
            text="限期清理",
            due_at="2026-03-09T10:00",
        )
    )
    assert "时限须晚于当前时间" in html
    response = post_op(
        client,
        case_url(case),
        "supervise",
        case,
        department=city.urban.pk,
        text="限期清理",
        due_at="2026-03-11T18:00",
    )
    assert response.status_code == 302
    notice = case.supervision_notices.get()
    assert notice.due_at == beijing(2026, 3, 11, 18, 0)


def test_ruling_on_a_decline(client, whistle_city):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city)
    police = summonses[city.police.pk]
    actions.decline(city.police_officer, police, reason="非本部门职责")
    client.force_login(city.dispatcher)
    # The decline acknowledged the summons, and the timeline says so.
    assert "<dt>签收时间</dt><dd>— → " in html_of(client.get(case_url(case)))
    html = html_of(post_op(client, case_url(case), "rule", police, decision="maybe"))
    assert "选择一个有效的选项" in html
    assert Summons.objects.get(pk=police.pk).status == S.DECLINED
    # Insisting says why, on the note's field; nothing is recorded without it.
    html = html_of(post_op(client, case_url(case), "rule", police, decision="insist", note=" "))
    errors = re.search(r'<ul class="field-errors" id="([^"]+)-errors">(.*?)</ul>', html, re.S)
    assert errors and errors[1].endswith("note") and "请填写理由。" in errors[2]
    assert "说明（不同意退回时必填）" in html
    assert Summons.objects.get(pk=police.pk).status == S.DECLINED
    response = post_op(client, case_url(case), "rule", police, decision="insist", note="需配合")
    assert response.status_code == 302
    police.refresh_from_db()
    # The decline answered the summons: it goes on as acknowledged.
    assert police.status == S.ACKNOWLEDGED and police.ruling == Summons.Ruling.INSISTED


# The department's buttons ---------------------------------------------------------------------


def test_acknowledging_twice_says_why_not(client, whistle_city):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city)
    summons = summonses[city.urban.pk]
    client.force_login(city.urban_officer)
    assert post_op(client, case_url(case), "acknowledge", summons, note="").status_code == 302
    assert Summons.objects.get(pk=summons.pk).status == S.ACKNOWLEDGED
    html = html_of(post_op(client, case_url(case), "acknowledge", summons, note=""))
    assert 'class="message message-error"' in html
    assert "已签收" in html


def device_fields(point, at, accuracy_m: float = 8) -> dict:
    """The hidden fields the check-in page's script fills from the phone's fix."""
    return {
        "lon": point[0],
        "lat": point[1],
        "accuracy_m": accuracy_m,
        "device_time": round(at.timestamp() * 1000),
        "device_id": "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b",
    }


def urban_acknowledged(client, city):
    """A whistled case whose summons of the urban management team its officer has
    acknowledged, signed in on the client: (case, summons)."""
    case, _whistle, summonses = whistled_case(city)
    summons = summonses[city.urban.pk]
    actions.acknowledge(city.urban_officer, summons)
    client.force_login(city.urban_officer)
    return case, summons


def test_a_check_in_900_m_away_is_refused_with_the_distance_and_recorded(
    client, whistle_city, _clock
):
    city = whistle_city
    case, summons = urban_acknowledged(client, city)
    html = html_of(
        post_op(
            client,
            case_url(case),
            "check_in",
            summons,
            follow=True,
            **device_fields(FAR_NORTH, NOW, accuracy_m=12),
        )
    )
    assert re.search(r"报到未被接受：您距离案件位置 [89]\d\d(\.\d)? 米", html), html
    assert "这次尝试已记入案件记录" in html
    assert Summons.objects.get(pk=summons.pk).status == S.ACKNOWLEDGED
    assert Event.objects.filter(case=case, kind=EventKind.CHECK_IN_REFUSED).count() == 1
    # The refused position is drawn on the map and listed beside it.
    assert '"accepted": false' in html
    # Ten minutes' walk later, on the lane.
    _clock.move_to(NOW + timedelta(minutes=10))
    later = NOW + timedelta(minutes=10)
    response = post_op(
        client, case_url(case), "check_in", summons, **device_fields(ON_THE_LANE, later)
    )
    assert response.status_code == 302
    arrived = Summons.objects.get(pk=summons.pk)
    assert (arrived.status, arrived.check_in_flag) == (S.ON_SITE, Summons.CheckInFlag.NONE)
    event = Event.objects.get(case=case, kind=EventKind.CHECK_IN_ACCEPTED)
    assert (event.data["source"], event.data["clock_skew_s"]) == ("device", 0.0)
    assert event.data["device_id"] == "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"


def refusal_of(html: str) -> str:
    """The refusal the page shows on a form, or nothing."""
    if 'class="form-refusal"' not in html:
        return ""
    refusal = html[html.index('class="form-refusal"') :]
    return refusal[: refusal.index("</div>")]


def test_a_refused_check_in_answers_with_a_redirect_to_the_page_that_shows_the_refusal_once(
    client, whistle_city, _clock
):
    city = whistle_city
    case, summons = urban_acknowledged(client, city)
    response = post_op(
        client, case_url(case), "check_in", summons, **device_fields(FAR_NORTH, NOW, accuracy_m=12)
    )
    assert response.status_code in (302, 303)
    assert response["Location"] == f"{case_url(case)}#op-check_in-{summons.uuid.hex}"
    assert Event.objects.filter(case=case, kind=EventKind.CHECK_IN_REFUSED).count() == 1
    # The page after it shows the refusal on the check-in form, with the distance and the
    # radius it was compared with, and that the attempt is kept.
    page = html_of(client.get(case_url(case)))
    refusal = refusal_of(page)
    assert re.search(
        r"报到未被接受：您距离案件位置 [89]\d\d(\.\d)? 米，须在 300 米范围内报到。", refusal
    )
    assert "这次尝试已记入案件记录" in refusal
    form = page[page.index(f'id="op-check_in-{summons.uuid.hex}"') :]
    assert form.index('class="form-refusal"') < form.index("</form>")
    # The position sent is not on the page to be sent again.
    fields = form[: form.index("</form>")]
    assert re.search(r'name="check_in-[0-9a-f]{32}-lat"', fields)
    assert not re.search(r'name="check_in-[0-9a-f]{32}-(lon|lat)" value=', fields)
    # Reloading shows the page without the refusal and records nothing more.
    again = html_of(client.get(case_url(case)))
    assert refusal_of(again) == ""
    assert f'id="op-check_in-{summons.uuid.hex}"' in again
    assert Event.objects.filter(case=case, kind=EventKind.CHECK_IN_REFUSED).count() == 1
    assert Summons.objects.get(pk=summons.pk).status == S.ACKNOWLEDGED


def test_a_refused_check_in_shows_its_refusal_in_english_after_the_redirect(
    client, whistle_city, _clock
):
    city = whistle_city
    case, summons = urban_acknowledged(client, city)
    response = client.post(
        case_url(case),
        op_data("check_in", summons, **device_fields(FAR_NORTH, NOW, accuracy_m=12)),
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    refusal = refusal_of(html_of(response))
    assert re.search(r"Check-in refused: you are [89]\d\d(\.\d)? m from the case", refusal)
    assert "The attempt is kept in the case&#x27;s record." in refusal


def test_a_refusal_kept_for_the_case_page_waits_for_that_page(client, whistle_city, _clock):
    city = whistle_city
    case, summons = urban_acknowledged(client, city)
    other, _w, _s = whistled_case(city)
    post_op(
        client, case_url(case), "check_in", summons, **device_fields(FAR_NORTH, NOW, accuracy_m=12)
    )
    assert refusal_of(html_of(client.get(case_url(other)))) == ""
    assert "报到未被接受" in refusal_of(html_of(client.get(case_url(case))))


def test_a_check_in_without_a_position_asks_for_one(client, whistle_city):
    city = whistle_city
    case, summons = urban_acknowledged(client, city)
    html = html_of(post_op(client, case_url(case), "check_in", summons, lon="", lat=""))
    assert "请先获取您的位置" in html
    assert not Event.objects.filter(case=case, kind=EventKind.CHECK_IN_REFUSED).exists()


def test_progress_and_result_with_photos(client, whistle_city):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city)
    summons = summonses[city.urban.pk]
    on_site(city, summons, city.urban_officer)
    client.force_login(city.urban_officer)
    key = summons.uuid.hex
    html = html_of(
        client.post(
            case_url(case),
            {
                "op": "progress",
                "target": key,
                f"progress-{key}-text": "正在劝离",
                f"progress-{key}-photos": [not_a_photo("x.png")],
            },
        )
    )
    assert "x.png：该文件不是可读取的" in html and "正在劝离</textarea>" in html
    response = client.post(
        case_url(case),
        {
            "op": "progress",
            "target": key,
            f"progress-{key}-text": "正在劝离",
            f"progress-{key}-photos": [photo_upload()],
        },
    )
    assert response.status_code == 302
    html = html_of(post_op(client, case_url(case), "result", summons, result=""))
    assert "这个字段是必填项" in html
    response = client.post(
        case_url(case),
        {
            "op": "result",
            "target": key,
            f"result-{key}-result": "游商已劝离，占道物品已清除",
            f"result-{key}-photos": [photo_upload("after.jpg")],
        },
    )
    assert response.status_code == 302
    summons.refresh_from_db()
    assert summons.status == S.DONE
    assert Attachment.objects.filter(summons=summons).count() == 2


def test_declining_needs_a_reason(client, whistle_city):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city)
    police = summonses[city.police.pk]
    client.force_login(city.police_officer)
    html = html_of(post_op(client, case_url(case), "decline", police, reason=""))
    assert "这个字段是必填项" in html
    # A value to correct, under the heading that asks for it, not as a refusal.
    assert "请更正以下内容" in html and 'class="form-refusal"' not in html
    assert (
        post_op(client, case_url(case), "decline", police, reason="非本所辖区").status_code == 302
    )
    assert Summons.objects.get(pk=police.pk).status == S.DECLINED


def test_checking_out_before_the_township_lets_go_is_refused_with_the_reason(client, whistle_city):
    city = whistle_city
    case, summons = officer_on_site(city)
    client.force_login(city.urban_officer)
    response = post_op(client, case_url(case), "check_out", summons, lon="", lat="")
    # Answered with a redirect: a reload of the page after it sends nothing again.
    assert response.status_code == 302
    assert response["Location"] == f"{case_url(case)}#op-check_out-{summons.uuid.hex}"
    html = html_of(client.get(case_url(case)))
    # A refusal by the rules, stating its reason: there is nothing to correct.
    refusal = refusal_of(html)
    assert "事不完、人不撤" in refusal
    assert "这次尝试已记入案件记录" in refusal
    assert "请更正以下内容" not in html and 'class="form-errors"' not in html
    assert refusal_of(html_of(client.get(case_url(case)))) == ""
    assert Event.objects.filter(case=case, kind=EventKind.CHECK_OUT_REFUSED).count() == 1
    assert Summons.objects.get(pk=summons.pk).status == S.ON_SITE
    actions.report_result(city.urban_officer, summons, result="已处理")
    actions.mark_handled(city.dispatcher, case)
    response = post_op(
        client, case_url(case), "check_out", summons, lon=ON_THE_LANE[0], lat=ON_THE_LANE[1]
    )
    assert response.status_code == 302
    assert Summons.objects.get(pk=summons.pk).status == S.LEFT


def summons_card(html: str, summons) -> str:
    card = html[html.index(f'id="summons-{summons.uuid.hex}"') :]
    return card[: card.index("</article>")]


def test_after_the_result_the_officers_card_says_what_comes_next_and_offers_no_plain_check_out(
    client, whistle_city
):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city, departments=[city.urban])
    summons = summonses[city.urban.pk]
    reported_on_site(city, summons)
    client.force_login(city.urban_officer)
    card = summons_card(html_of(client.get(case_url(case), HTTP_ACCEPT_LANGUAGE="en")), summons)
    assert (
        "Result reported. The township now reviews it: once it marks the case resolved or "
        "releases your department, you check out. Until then your department stays on site "
        "(事不完、人不撤)." in card
    )
    # Leaving early is a deliberate step, folded away and named for what it does.
    early = "Record an early check-out (it will be refused)"
    assert f"<summary>{early}</summary>" in card
    assert f'type="submit">{early}</button>' in card
    assert ">Check out</button>" not in card and "<summary>Check out</summary>" not in card
    assert "Stay until the matter is done (事不完、人不撤): you may leave once" in card
    # It does not promise the check-out goes through without a position.
    assert "it cannot be typed." in card and "check out all the same" not in card
    zh = summons_card(html_of(client.get(case_url(case))), summons)
    assert "结果已上报。街乡将审核结果" in zh
    assert "<summary>记录提前签退（将被拒绝）</summary>" in zh
    assert "照样签退" not in zh

    actions.release(city.dispatcher, summons, note="游商已离开")
    card = summons_card(html_of(client.get(case_url(case), HTTP_ACCEPT_LANGUAGE="en")), summons)
    assert "The township has let you go: check out when you leave the site." in card
    assert 'btn-primary btn-large" type="submit">Check out</button>' in card
    assert early not in card and "op-folded" not in card
    assert "Without a fix you check out all the same." in card


def test_the_next_step_is_said_only_to_the_departments_own_people(client, whistle_city):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city, departments=[city.urban])
    summons = summonses[city.urban.pk]
    reported_on_site(city, summons)
    client.force_login(city.dispatcher)
    card = summons_card(html_of(client.get(case_url(case))), summons)
    assert "已劝离" in card
    assert 'class="summons-next-step"' not in card


def test_an_early_check_out_is_refused_in_english_with_the_rule_glossed(client, whistle_city):
    city = whistle_city
    case, summons = officer_on_site(city)
    client.force_login(city.urban_officer)
    response = client.post(
        case_url(case),
        op_data("check_out", summons, lon="", lat=""),
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    html = html_of(response)
    refusal = refusal_of(html)
    assert (
        f"has not released {city.urban.name}. Stay until the matter is done (事不完、人不撤)."
        in refusal
    )
    assert "The attempt is kept in the case&#x27;s record." in refusal
    # Before the result: the card says when checking out becomes possible.
    card = summons_card(html, summons)
    assert (
        "You check out once the township has marked the case resolved or released your "
        "department; until then your department stays on site (事不完、人不撤)." in card
    )
    assert Event.objects.filter(case=case, kind=EventKind.CHECK_OUT_REFUSED).count() == 1


def test_the_case_facts_start_with_a_capital_in_english(client, whistle_city):
    city = whistle_city
    case, _whistle, _summonses = whistled_case(city, departments=[city.urban])
    client.force_login(city.dispatcher)
    html = html_of(client.get(case_url(case), HTTP_ACCEPT_LANGUAGE="en"))
    assert "<dt>Status</dt><dd>Whistle blown</dd>" in html


def timeline_entries(response, kind_title: str) -> list[str]:
    """The words of each timeline entry titled `kind_title`, tags taken out."""
    html = html_of(response)
    timeline = html[html.index('<ol class="timeline">') :]
    entries = re.findall(r'<li class="timeline-entry.*?</li>', timeline, flags=re.S)
    texts = [unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", e))) for e in entries]
    return [t for t in texts if kind_title.lower() in t.lower()]


def a_component_of_the_same_code(category: Category, name: str) -> Category:
    """A component whose 4-digit code is `category`'s: components and events share codes."""
    major = MajorClass.objects.create(
        district=category.major.district,
        kind=CategoryKind.COMPONENT,
        code=category.major.code,
        name="部件大类",
    )
    return Category.objects.create(major=major, code=category.code, name=name)


@pytest.mark.parametrize(
    ("language", "title", "label", "reported", "filed"),
    [
        ("zh-hans", "立案", "问题分类", "0102 暴露垃圾", "0501 无照经营游商"),
        ("en", "case filed", "Category", "0102 Exposed rubbish", "0501 Street vending"),
    ],
)
def test_the_filing_names_the_categories_it_changes_in_the_readers_language(
    client, whistle_city, language, title, label, reported, filed
):
    city = whistle_city
    Category.objects.filter(pk=city.exposed_garbage.pk).update(name_en="Exposed rubbish")
    Category.objects.filter(pk=city.street_vending.pk).update(name_en="Street vending")
    # A component shares the street vending's code: the case's own category is the event.
    a_component_of_the_same_code(city.street_vending, "路名牌")
    case = reported_case(city, category=city.exposed_garbage)
    actions.file_case(city.dispatcher, case, category=city.street_vending)
    client.force_login(city.dispatcher)
    response = client.get(case_url(case), headers={"accept-language": language})
    (filing,) = timeline_entries(response, title)
    assert f"{label} {reported} → {filed}" in filing
    assert "路名牌" not in filing


def test_a_category_deleted_since_shows_its_code_and_a_shared_code_names_its_own_kind(
    client, whistle_city
):
    city = whistle_city
    gone = Category.objects.create(major=city.exposed_garbage.major, code="09", name="旧分类")
    first = reported_case(city, category=gone)
    actions.file_case(city.dispatcher, first, category=city.street_vending)
    gone.delete()
    # Reported as 0102, filed as 0501: 0102 is also a component's code. The filing keeps
    # the kinds, so the event 0102 is named, not the component; the case's own category
    # (0501) would not tell them apart.
    a_component_of_the_same_code(city.exposed_garbage, "路灯")
    second = reported_case(city, category=city.exposed_garbage)
    actions.file_case(city.dispatcher, second, category=city.street_vending)
    filing_data = second.events.get(kind=EventKind.CASE_FILED).data
    assert filing_data["category_kinds"] == [CategoryKind.EVENT, CategoryKind.EVENT]
    client.force_login(city.dispatcher)
    (filing,) = timeline_entries(client.get(case_url(first)), "立案")
    assert "问题分类 0109 → 0501 无照经营游商" in filing
    (filing,) = timeline_entries(client.get(case_url(second)), "立案")
    assert "问题分类 0102 暴露垃圾 → 0501 无照经营游商" in filing
    assert "路灯" not in filing and "category_kinds" not in filing
    # Filed under the category it was reported with: no change to show.
    third = reported_case(city, category=city.street_vending)
    actions.file_case(city.dispatcher, third, category=city.street_vending)
    (filing,) = timeline_entries(client.get(case_url(third)), "立案")
    assert "问题分类" not in filing and "无照经营游商" not in filing


def test_a_filing_kept_without_the_kinds_names_both_kinds_of_a_shared_code(client, whistle_city):
    city = whistle_city
    a_component_of_the_same_code(city.exposed_garbage, "路灯")
    case = reported_case(city, category=city.street_vending)
    # A filing as the trail kept it before the kinds: the codes alone.
    record(
        case,
        EventKind.CASE_FILED,
        actor=city.dispatcher,
        role=Role.DISPATCHER,
        at=case.reported_at,
        data={"changes": {"category": ["0102", "0501"]}},
    )
    client.force_login(city.dispatcher)
    (filing,) = timeline_entries(client.get(case_url(case)), "立案")
    assert "问题分类 部件 0102 路灯 / 事件 0102 暴露垃圾 → 0501 无照经营游商" in filing


@pytest.mark.parametrize(
    ("language", "titles", "device", "map_pick"),
    [
        ("zh-hans", ("提前离场被拒", "部门签退"), "位置来源 设备定位", "位置来源 地图选点"),
        (
            "en",
            ("early check-out refused", "department checked out"),
            "Position from The device's location",
            "Position from Picked on a map",
        ),
    ],
)
def test_the_timeline_says_where_a_check_out_position_came_from_in_words(
    client, whistle_city, language, titles, device, map_pick
):
    city = whistle_city
    case, summons = officer_on_site(city)
    with pytest.raises(actions.CheckOutRefused):
        actions.check_out(city.urban_officer, summons, **device_fix())
    actions.report_result(city.urban_officer, summons, result="已处理")
    actions.mark_handled(city.dispatcher, case)
    fix = {**device_fix(), "source": "map_pick"}
    actions.check_out(city.urban_officer, summons, **fix)
    client.force_login(city.dispatcher)
    response = client.get(case_url(case), headers={"accept-language": language})
    refused, left = titles
    (refusal,) = timeline_entries(response, refused)
    (check_out,) = [t for t in timeline_entries(response, left) if refused not in t]
    assert device in refusal
    assert map_pick in check_out
    for raw in ("device", "map_pick", "Source"):
        assert f" {raw} " not in refusal + check_out


def test_answering_a_supervision_notice(client, whistle_city):
    city = whistle_city
    case, _whistle, _summonses = whistled_case(city)
    notice = actions.issue_supervision_notice(
        city.township_chief,
        case,
        department=city.urban,
        text="限期清理",
        due_at=NOW + timedelta(days=1),
    )
    client.force_login(city.urban_officer)
    html = html_of(post_op(client, case_url(case), "answer", notice, answer=""))
    assert "这个字段是必填项" in html
    assert post_op(client, case_url(case), "answer", notice, answer="明日清理").status_code == 302
    notice.refresh_from_db()
    assert notice.answer == "明日清理"


def test_a_post_naming_a_summons_of_another_case_is_refused(client, whistle_city):
    city = whistle_city
    case, _whistle, _summonses = whistled_case(city)
    _other, _whistle2, others = whistled_case(city)
    client.force_login(city.urban_officer)
    response = post_op(client, case_url(case), "acknowledge", others[city.urban.pk], note="")
    assert response.status_code == 400
    response = client.post(case_url(case), {"op": "no-such-thing", "target": case.reference})
    assert response.status_code == 400
    assert Summons.objects.get(pk=others[city.urban.pk].pk).status == S.SUMMONED


def test_the_case_page_runs_a_fixed_number_of_queries(
    client, whistle_city, django_assert_max_num_queries
):
    city = whistle_city
    case, _whistle, summonses = whistled_case(
        city, departments=[city.urban, city.police, city.fire]
    )
    for summons, officer in (
        (summonses[city.urban.pk], city.urban_officer),
        (summonses[city.police.pk], city.police_officer),
    ):
        actions.acknowledge(officer, summons)
        for _attempt in range(3):
            with pytest.raises(actions.CheckInRefused):
                actions.check_in(officer, summons, **device_fix(FAR_NORTH))
        actions.check_in(officer, summons, **device_fix())
        for n in range(3):
            actions.report_progress(
                officer, summons, text=f"进展 {n}", photos=[photo_upload().read()]
            )
    assert Event.objects.filter(case=case).count() > 20
    client.force_login(city.dispatcher)
    # 18: the header's unread count is one query on every page; the units to route to one more.
    with django_assert_max_num_queries(18):
        html = html_of(client.get(case_url(case)))
    assert html.count('class="timeline-entry') == Event.objects.filter(case=case).count()
