"""A department's records and scores: each record with the three questions, its part scores
and what it lost; the appeal within the scheme's working days, with evidence photos,
through `file_appeal`; the department's appeals; who may open it; query counts.

东城区城管执法局 in July 2026 (tests/fixtures_assessment.py): c1 on time and handled (龙潭),
c3 never came and never acted (东四, closed 15 Jul 12:00), c5 a routine dispatch (龙潭), c7
12 minutes late (东四).
"""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from tests.conftest import make_person
from tests.fixtures_assessment import bj, july_fixture  # noqa: F401  (fixture)
from tests.fixtures_district import (
    DEPARTMENT,
    jpeg_upload,
    more_departments,
    rated_july_fixture,  # noqa: F401  (fixture)
    scored_july_fixture,  # noqa: F401  (fixture)
)
from whistle.assessment.editing import create_scheme_version
from whistle.assessment.engine import update_scores
from whistle.assessment.models import Appeal, Scheme
from whistle.cases.actions._common import PhotoBatch
from whistle.cases.models import Attachment, Event
from whistle.cases.trail import EventKind
from whistle.district.forms import SCHEME_FIELDS
from whistle.organisation.models import Role


@pytest.fixture(autouse=True)
def _clock():
    # The day after c3 closed: its five working days to appeal run until 22 July.
    with time_machine.travel(bj(16, 9), tick=False) as traveller:
        yield traveller


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def record_html(html: str, summons) -> str:
    """The record's card, its moments (`<time>`) read as their words."""
    part = html[html.index(f'id="record-{summons.uuid.hex}"') :]
    return re.sub(r"</?time\b[^>]*>", "", part[: part.index("</article>")])


def appeal(client, summons, files=None, **fields):
    prefix = f"appeal-{summons.uuid.hex}"
    data = {"op": "appeal", "target": summons.uuid.hex}
    data.update({f"{prefix}-{name}": value for name, value in fields.items()})
    if files is not None:
        data[f"{prefix}-photos"] = files
    return client.post(DEPARTMENT + "?period=2026-07", data)


def test_the_officer_sees_each_record_with_its_parts_and_what_it_lost(client, rated):
    m, s = rated, rated.summonses
    client.force_login(m.urban_officer)
    html = html_of(client.get(DEPARTMENT, {"period": "2026-07"}))
    c3 = record_html(html, s["c3_urban"])
    assert "未报到" in c3 and "未处置" in c3 and "6.00" in c3
    assert "未报到 −100" in c3 and "未处置 −100" in c3
    c7 = record_html(html, s["c7_urban"])
    assert "迟到 12 分钟 −24" in c7 and "86.80" in c7
    c1 = record_html(html, s["c1_urban"])
    assert "扣分" not in c1 and "★★★★★" in c1
    # Scores of the period: total, rank among the three, each township's view.
    scores = html[html.index('id="scores-title"') : html.index('id="records"')]
    assert "83.69" in scores and "第 2 名（共 3 个）" in scores
    assert "东四街道" in scores and "46.40" in scores
    # Only 派出所's records are the police's.
    assert s["c1_police"].uuid.hex not in html


@pytest.mark.parametrize(
    ("language", "words"),
    [("zh-hans", "未评分（按方案不计入）"), ("en", "not rated (left out by the scheme)")],
)
def test_a_record_nobody_rated_says_beside_its_quality_score_that_the_scheme_leaves_it_out(
    client, scored, language, words
):
    client.force_login(scored.urban_officer)
    html = html_of(client.get(DEPARTMENT, {"period": "2026-07"}, HTTP_ACCEPT_LANGUAGE=language))
    c1 = record_html(html, scored.summonses["c1_urban"])
    assert words in c1 and "★" not in c1 and "☆" not in c1
    # Its case and the way to the period's score are touch targets of their own.
    assert 'class="score-link"' in html


def test_a_record_of_a_department_that_did_not_have_to_come_says_so_instead_of_a_rating(
    client, scored
):
    client.force_login(scored.police_officer)
    html = html_of(client.get(DEPARTMENT, {"period": "2026-07"}))
    c4 = record_html(html, scored.summonses["c4_police"])
    assert "未评分（无须到场）" in c4 and "按方案不计入" not in c4


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", "未评分（按方案计 3 星）"),
        ("en", "not rated (counted as 3 stars by the scheme)"),
    ],
)
def test_a_record_nobody_rated_that_the_scheme_counts_as_three_stars_still_says_so(
    client, scored, language, words
):
    current = Scheme.objects.get()
    values = {name: getattr(current, name) for name in SCHEME_FIELDS}
    values |= {"name": "未评分按三星计", "valid_from": date(2026, 7, 1), "unrated_stars": 3}
    inspection = {"code": "inspection", "name": "区级检查", "weight": "2/3"}
    create_scheme_version(scored.district_assessor, scored.district, values, [inspection])
    client.force_login(scored.urban_officer)
    html = html_of(client.get(DEPARTMENT, {"period": "2026-07"}, HTTP_ACCEPT_LANGUAGE=language))
    c1 = record_html(html, scored.summonses["c1_urban"])
    assert words in c1 and "60.00" in c1 and "88.00" in c1
    assert "★" not in c1 and "☆" not in c1
    assert "尚未评价" not in c1 and "not rated yet" not in c1


def test_only_a_record_that_lost_points_offers_the_appeal(client, rated):
    m, s = rated, rated.summonses
    client.force_login(m.urban_officer)
    html = html_of(client.get(DEPARTMENT, {"period": "2026-07"}))
    assert "对这条记录申诉" in record_html(html, s["c3_urban"])
    assert "（截至 2026-07-22 12:00）" in record_html(html, s["c3_urban"])
    # c5, a routine dispatch handled in time, lost nothing that could be corrected.
    c5 = record_html(html, s["c5_urban"])
    assert "对这条记录申诉" not in c5 and "没有可通过申诉更正的扣分" in c5
    # c1 settled on 6 July: its five working days ended on the 13th.
    assert "申诉期限已于 2026-07-13 10:30 截止。" in record_html(html, s["c1_urban"])


def test_an_appeal_with_an_evidence_photo_joins_the_trail(client, rated):
    m, s = rated, rated.summonses
    summons = s["c3_urban"]
    client.force_login(m.urban_officer)
    response = appeal(
        client,
        summons,
        files=[jpeg_upload()],
        correction="came:on_time",
        reason="执法队员10:20已到场，定位信号弱未能签到",
        evidence="执法记录仪视频 10:20",
    )
    assert response.status_code == 302
    assert response["Location"] == DEPARTMENT + "?period=2026-07#my-appeals"
    filed = Appeal.objects.get(summons=summons)
    assert (filed.part, filed.requested, filed.status) == ("came", {"came": "on_time"}, "pending")
    assert filed.filed_by == m.urban_officer and filed.evidence == "执法记录仪视频 10:20"
    (photo,) = filed.attachments.all()
    assert (photo.purpose, photo.case_id, photo.summons_id) == (
        "appeal",
        summons.case_id,
        summons.pk,
    )
    assert default_storage.exists(photo.file.name)
    event = Event.objects.get(summons=summons, kind=EventKind.APPEALED)
    assert event.data["attachments"] == [photo.sha256]
    html = html_of(client.get(DEPARTMENT, {"period": "2026-07"}))
    assert "案件 " + summons.case.reference + " 的申诉已提交" in html
    mine = html[html.index('id="my-appeals"') :]
    assert summons.case.reference in mine and "待裁定" in mine and "按时报到" in mine
    # One appeal at a time: the form is gone while it waits.
    assert "对这条记录申诉" not in record_html(html, summons)


def test_an_appeal_may_name_photos_the_case_already_has(client, rated, _clock):
    m, s = rated, rated.summonses
    # After c7 was rated (25 July 09:00), within its days to appeal.
    _clock.move_to(bj(25, 10))
    summons = s["c7_urban"]
    batch = PhotoBatch([jpeg_upload().read()])
    with transaction.atomic():
        (kept,) = batch.store(
            summons.case, Attachment.Purpose.CHECK_IN, actor=m.urban_officer, now=bj(24, 9, 42)
        )
    client.force_login(m.urban_officer)
    html = html_of(client.get(DEPARTMENT, {"period": "2026-07"}))
    assert "作为证据的案件照片" in record_html(html, summons)
    response = appeal(
        client,
        summons,
        correction="came:late",
        number="2",
        reason="09:32 已到巷口，签到照片为证",
        case_photos=[str(kept.pk)],
    )
    assert response.status_code == 302
    filed = Appeal.objects.get(summons=summons)
    assert filed.requested == {"late_minutes": 2}
    assert list(filed.attachments.all()) == [kept]


def test_a_faulty_appeal_comes_back_with_its_errors_and_writes_nothing(client, rated):
    m, s = rated, rated.summonses
    summons = s["c7_urban"]
    client.force_login(m.urban_officer)
    html = html_of(appeal(client, summons, correction="came:late", reason=""))
    form = record_html(html, summons)
    assert '<details class="folded appeal" open>' in form
    assert "请填写分钟数或返工次数。" in form and "这个字段是必填项。" in form
    html = html_of(appeal(client, summons, correction="came:late", number="12", reason="太晚"))
    assert "申请的迟到分钟数须少于已记录的 12 分钟。" in html
    not_a_photo = SimpleUploadedFile("photo.jpg", b"<script>", content_type="image/jpeg")
    html = html_of(
        appeal(client, summons, files=[not_a_photo], correction="came:on_time", reason="按时")
    )
    assert "photo.jpg：该文件不是可读取的 JPEG、PNG 或 WebP 图片。" in html
    html = html_of(appeal(client, summons, correction="acted:handled", reason="已处置"))
    assert "选择一个有效的选项" in html
    assert not Appeal.objects.exists()
    assert not Attachment.objects.exists()


def test_after_the_working_days_the_appeal_is_refused(client, rated, _clock):
    m, s = rated, rated.summonses
    _clock.move_to(bj(23, 9))
    client.force_login(m.urban_officer)
    html = html_of(client.get(DEPARTMENT, {"period": "2026-07"}))
    c3 = record_html(html, s["c3_urban"])
    assert "对这条记录申诉" not in c3 and "申诉期限已于 2026-07-22 12:00 截止。" in c3
    html = html_of(
        appeal(client, s["c3_urban"], files=[jpeg_upload()], correction="came:on_time", reason="x")
    )
    assert "申诉期限已于 2026-07-22 12:00 截止" in html
    assert not Appeal.objects.exists() and not Attachment.objects.exists()


def test_another_departments_record_cannot_be_appealed(client, rated):
    m, s = rated, rated.summonses
    client.force_login(m.urban_officer)
    response = appeal(client, s["c1_police"], correction="came:on_time", reason="x")
    assert response.status_code == 400
    assert client.post(DEPARTMENT, {"op": "appeal", "target": "nope"}).status_code == 400
    assert client.post(DEPARTMENT, {"op": "other"}).status_code == 400


@pytest.mark.parametrize("who", ["longtan_assessor", "district_assessor", "chiefs_office"])
def test_the_page_is_for_department_staff_only(client, rated, who):
    client.force_login(getattr(rated, who))
    assert client.get(DEPARTMENT).status_code == 403


def test_the_department_page_runs_a_fixed_number_of_queries_with_thirty_records(
    client, rated, django_assert_max_num_queries
):
    (department,) = more_departments(rated, 1, cases_each=30)
    officer = make_person("extra-officer", Role.DEPARTMENT_OFFICER, department=department)
    client.force_login(officer)
    with django_assert_max_num_queries(22):
        html = html_of(client.get(DEPARTMENT, {"period": "2026-07"}))
    assert html.count('class="card record-card') == 30


PROVISIONAL = "未完成，暂按未处置计分"


def test_a_record_counted_before_its_summons_settled_says_so(client, rated):
    """c6 (派出所, 东四) checked in and is still open: not counted. Once the sweep records it
    past its handling deadline it counts as "never acted", and its card says that this is for
    now; c1, settled, says nothing of the kind. Checked out, the badge goes."""
    m, s = rated, rated.summonses
    client.force_login(m.police_officer)
    c6 = s["c6_police"]
    html = html_of(client.get(DEPARTMENT, {"period": "2026-07"}))
    assert PROVISIONAL not in html

    m.stories["c6"].event(EventKind.RESOLVE_OVERDUE, bj(28, 13, 1), c6)
    update_scores()
    html = html_of(client.get(DEPARTMENT, {"period": "2026-07"}))
    card = record_html(html, c6)
    assert PROVISIONAL in card and "未处置" in card
    assert "已超过处置时限且尚未完成" in card
    assert PROVISIONAL not in record_html(html, s["c1_police"])
    # What to do: report the result on the case page, where the summons is; the appeal period
    # starts again once the summons settles.
    case_link = f'href="/cases/{c6.case.reference}/#summons-{c6.uuid.hex}"'
    assert case_link in card and "案件页面</a>报告处置结果" in card
    assert "申诉期自那时起重新计算" in card
    assert case_link not in record_html(html, s["c1_police"])
    html = html_of(client.get(DEPARTMENT, {"period": "2026-07"}, HTTP_ACCEPT_LANGUAGE="en"))
    assert "Unfinished: counted as not acted for now" in record_html(html, c6)
    assert "report its result on" in record_html(html, c6)
    assert "the period to appeal starts again from then" in record_html(html, c6)

    m.stories["c6"].event(EventKind.CHECK_OUT, bj(29, 10), c6)
    update_scores()
    html = html_of(client.get(DEPARTMENT, {"period": "2026-07"}))
    assert PROVISIONAL not in html
