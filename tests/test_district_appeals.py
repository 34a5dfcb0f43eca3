"""Appeals to rule on: the district chiefs' office upholds with the correction asked for (or
another) or rejects, with its grounds, through `rule_on_appeal`; the scores follow; who may
rule; who is told of an appeal and of its ruling, in their inbox; query counts.

东城区城管执法局 appeals its c3 record (never came) of July 2026: with the appeal upheld its
township evaluation rises from 71.06 to 78.56 and its total from 83.69 (2nd) to 86.19 (1st),
as tests/test_assessment.py computes by hand.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import make_person
from tests.fixtures_appeals import (  # noqa: F401  (fixtures)
    appealed_fixture,
    july_20_clock_fixture,
)
from tests.fixtures_assessment import bj, july_fixture  # noqa: F401  (fixture)
from tests.fixtures_district import (
    APPEALS,
    DEPARTMENT,
    jpeg_upload,
    more_departments,
    rate_july,
    scored_july_fixture,  # noqa: F401  (fixture)
)
from whistle.assessment.actions import AssessmentPermissionError, rule_on_appeal
from whistle.assessment.editing import appeal_with_photos
from whistle.assessment.models import Appeal, DepartmentResult, SummonsAssessment
from whistle.cases.models import Event
from whistle.cases.trail import EventKind
from whistle.notifications.outbox import inbox
from whistle.organisation.models import Person, Role, RoleAssignment


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def rule(client, appeal: Appeal, **fields):
    data = {"op": "rule", "target": str(appeal.pk)}
    data.update({f"rule-{appeal.pk}-{name}": value for name, value in fields.items()})
    return client.post(APPEALS, data)


def urban_july() -> DepartmentResult:
    return DepartmentResult.objects.get(department__code="dc-cgw", period="2026-07")


def test_the_chiefs_office_sees_the_appeal_with_the_record_and_the_evidence(client, appealed):
    m = appealed
    filed = Appeal.objects.get()
    client.force_login(m.chiefs_office)
    html = html_of(client.get(APPEALS))
    card = html[html.index(f'id="appeal-{filed.pk}"') :]
    card = card[: card.index("</article>")]
    assert "东城区城管执法局" in card and m.stories["c3"].case.reference in card
    assert "未报到" in card and "按时报到" in card
    assert "执法队员10:20已到场" in card and "现场执法记录仪视频 10:20" in card
    photo = filed.attachments.get()
    url = f"/cases/{m.stories['c3'].case.reference}/photos/{photo.pk}/"
    assert f'src="{url}"' in card
    assert client.get(url).status_code == 200
    # The ruling's correction is prefilled with the one asked for.
    assert '<option value="came:on_time" selected>' in card


def test_upholding_corrects_the_record_and_the_ranking(client, appealed):
    m = appealed
    filed = Appeal.objects.get()
    assert (urban_july().total, urban_july().rank) == (Decimal("83.69"), 2)
    client.force_login(m.chiefs_office)
    response = rule(
        client, filed, decision="uphold", correction="came:on_time", note="记录仪视频证明按时到场"
    )
    assert response.status_code == 302 and response["Location"] == APPEALS
    filed.refresh_from_db()
    assert (filed.status, filed.correction) == ("upheld", {"came": "on_time"})
    assert filed.ruled_by == m.chiefs_office
    record = SummonsAssessment.objects.get(summons=m.summonses["c3_urban"])
    assert (record.came, record.total, record.corrected) == ("on_time", Decimal("36.00"), True)
    assert (urban_july().total, urban_july().rank) == (Decimal("86.19"), 1)
    assert Event.objects.filter(kind=EventKind.APPEAL_UPHELD, summons=filed.summons).count() == 1
    html = html_of(client.get(APPEALS))
    assert "对案件" in html and "申诉成立，记录已更正。" in html
    assert "没有等待裁定的申诉。" in html
    ruled = html[html.index('id="ruled"') :]
    assert "记录仪视频证明按时到场" in ruled and "申诉成立" in ruled


def test_the_office_may_uphold_with_another_correction(client, appealed):
    m = appealed
    filed = Appeal.objects.get()
    client.force_login(m.chiefs_office)
    response = rule(
        client, filed, decision="uphold", correction="came:late", number="5", note="10:35 到场"
    )
    assert response.status_code == 302
    filed.refresh_from_db()
    assert filed.correction == {"late_minutes": 5}
    record = SummonsAssessment.objects.get(summons=m.summonses["c3_urban"])
    assert (record.came, record.late_minutes, record.came_score) == ("late", 5, Decimal("90.00"))


def test_rejecting_leaves_the_record_as_it_was(client, appealed):
    m = appealed
    filed = Appeal.objects.get()
    client.force_login(m.chiefs_office)
    response = rule(client, filed, decision="reject", correction="came:on_time", note="无到场记录")
    assert response.status_code == 302
    filed.refresh_from_db()
    assert (filed.status, filed.correction, filed.ruling_note) == ("rejected", {}, "无到场记录")
    record = SummonsAssessment.objects.get(summons=m.summonses["c3_urban"])
    assert (record.came, record.total) == ("no_show", Decimal("6.00"))
    assert Event.objects.filter(kind=EventKind.APPEAL_REJECTED).count() == 1


def test_a_ruling_without_grounds_or_decision_comes_back_with_the_errors(client, appealed):
    m = appealed
    filed = Appeal.objects.get()
    client.force_login(m.chiefs_office)
    html = html_of(rule(client, filed, correction="came:on_time", note=""))
    assert "请选择申诉成立或驳回。" in html and "这个字段是必填项。" in html
    html = html_of(rule(client, filed, decision="uphold", correction="", note="理由"))
    assert "请选择要采用的更正内容。" in html
    html = html_of(rule(client, filed, decision="uphold", correction="acted:handled", note="x"))
    assert "选择一个有效的选项" in html
    filed.refresh_from_db()
    assert filed.status == "pending"


def test_an_appeal_already_ruled_is_not_ruled_twice(client, appealed):
    m = appealed
    filed = Appeal.objects.get()
    client.force_login(m.chiefs_office)
    rule(client, filed, decision="reject", correction="came:on_time", note="无到场记录")
    response = rule(client, filed, decision="uphold", correction="came:on_time", note="改判")
    assert response.status_code == 302
    html = html_of(client.get(APPEALS))
    assert "该申诉已经裁定。" in html
    filed.refresh_from_db()
    assert filed.status == "rejected"


@pytest.mark.parametrize("who", ["district_assessor", "urban_officer", "longtan_assessor"])
def test_only_the_district_chiefs_office_rules(client, appealed, who):
    client.force_login(getattr(appealed, who))
    assert client.get(APPEALS).status_code == 403
    township_office = make_person(
        "longtan-office", Role.CHIEFS_OFFICE, jurisdiction=appealed.longtan
    )
    client.force_login(township_office)
    assert client.get(APPEALS).status_code == 403
    filed = Appeal.objects.get()
    assert rule(client, filed, decision="uphold", note="x").status_code == 403


def test_an_appeal_of_another_district_cannot_be_ruled(client, appealed):
    filed = Appeal.objects.get()
    other = make_person(
        "elsewhere", Role.CHIEFS_OFFICE, jurisdiction=appealed.longtan.parent.parent
    )
    client.force_login(other)
    assert client.get(APPEALS).status_code == 403
    client.force_login(appealed.chiefs_office)
    assert client.post(APPEALS, {"op": "rule", "target": "x"}).status_code == 400
    assert client.post(APPEALS, {"op": "rule", "target": str(filed.pk + 99)}).status_code == 400


def test_the_appeals_page_runs_a_fixed_number_of_queries_with_twenty_appeals(
    client, appealed, django_assert_max_num_queries
):
    for department in more_departments(appealed, 19):
        officer = make_person(
            f"officer-{department.code}", Role.DEPARTMENT_OFFICER, department=department
        )
        record = SummonsAssessment.objects.get(department=department)
        appeal_with_photos(
            officer,
            record.summons,
            "rework",
            {"rework_count": 0},
            "返工不应计入",
            photos=[jpeg_upload().read()],
        )
    client.force_login(appealed.chiefs_office)
    with django_assert_max_num_queries(16):
        html = html_of(client.get(APPEALS))
    assert html.count('class="card appeal-card"') == 20


def told(person, kind: str):
    return list(inbox(person).filter(kind=kind))


def test_the_chiefs_office_is_told_of_an_appeal_except_whoever_filed_it(client, scored):
    m = scored
    rate_july(m)
    # Someone of the chiefs' office who is also an officer of 城管 files the appeal: the rest
    # of the office rules on it, and only they are told.
    filer = make_person("office-and-urban", Role.CHIEFS_OFFICE, jurisdiction=m.district)
    RoleAssignment.objects.create(person=filer, role=Role.DEPARTMENT_OFFICER, department=m.urban)
    other = make_person("lin-office", Role.CHIEFS_OFFICE, jurisdiction=m.district)
    appeal_with_photos(
        filer,
        m.summonses["c3_urban"],
        "came",
        {"came": "on_time"},
        "执法队员10:20已到场，定位信号弱未能签到",
    )
    filed = Appeal.objects.get()
    reference = m.stories["c3"].case.reference
    for ruler in (m.chiefs_office, other):
        (entry,) = told(ruler, EventKind.APPEALED)
        assert entry.link == f"/assessment/appeals/#appeal-{filed.pk}"
        assert entry.payload["case"] == reference
    assert told(filer, EventKind.APPEALED) == []
    assert told(m.urban_officer, EventKind.APPEALED) == []
    assert told(m.longtan_assessor, EventKind.APPEALED) == []

    client.force_login(m.chiefs_office)
    html = html_of(client.get("/inbox/"))
    assert f"待裁定申诉：东城区城管执法局，案件 {reference}" in html
    assert "提出申诉（来没来）。理由：执法队员10:20已到场" in html
    english = html_of(client.get("/inbox/", HTTP_ACCEPT_LANGUAGE="en"))
    assert f"Appeal to rule on: 东城区城管执法局, case {reference}" in english
    assert "(did it come). Reason: 执法队员10:20已到场" in english
    (entry,) = told(m.chiefs_office, EventKind.APPEALED)
    opened = client.get(f"/inbox/{entry.uuid}/")
    assert opened.status_code == 302 and opened["Location"] == entry.link
    assert f'id="appeal-{filed.pk}"' in html_of(client.get(APPEALS))


@pytest.mark.parametrize(
    ("decision", "kind", "subject", "body"),
    [
        ("uphold", EventKind.APPEAL_UPHELD, "申诉成立：案件", "申诉成立，考核记录已更正。"),
        ("reject", EventKind.APPEAL_REJECTED, "申诉被驳回：案件", "的申诉，考核记录不变。"),
    ],
)
def test_the_department_is_told_of_the_ruling(client, appealed, decision, kind, subject, body):
    m = appealed
    head = make_person("urban-head", Role.DEPARTMENT_HEAD, department=m.urban)
    filed = Appeal.objects.get()
    client.force_login(m.chiefs_office)
    response = rule(client, filed, decision=decision, correction="came:on_time", note="视频为证")
    assert response.status_code == 302
    reference = m.stories["c3"].case.reference
    summons = m.summonses["c3_urban"]
    for person in (m.urban_officer, head):
        (entry,) = told(person, kind)
        assert entry.link == f"/assessment/department/?period=2026-07#record-{summons.uuid.hex}"
    # Nobody else: not another department, not the office that ruled.
    assert told(m.police_officer, kind) == []
    assert told(m.chiefs_office, kind) == []

    client.force_login(head)
    html = html_of(client.get("/inbox/"))
    assert f"{subject} {reference}" in html and body in html and "理由：视频为证" in html
    (entry,) = told(head, kind)
    opened = client.get(f"/inbox/{entry.uuid}/")
    assert opened.status_code == 302 and opened["Location"] == entry.link
    page = html_of(client.get(entry.link))
    card = page[page.index(f'id="record-{summons.uuid.hex}"') :]
    assert "视频为证" in card[: card.index("</article>")]


EARLIER_RULER = "您已裁定过该记录的上一次申诉，须由其他人员裁定。"
NOBODY_RULES = "办公室内暂无可以裁定此申诉的人员"


def appeal_again(m) -> Appeal:
    """城管's first appeal of c3 (came on time) is rejected by 陈; it then appeals another
    correction of the same record (5 minutes late)."""
    first = Appeal.objects.get()
    rule_on_appeal(m.chiefs_office, first, False, "无到场记录")
    with time_machine.travel(bj(20, 11), tick=False):
        return appeal_with_photos(
            m.urban_officer, m.summonses["c3_urban"], "came", {"late_minutes": 5}, "迟到5分钟"
        )


def appeal_card(html: str, appeal: Appeal) -> str:
    card = html[html.index(f'id="appeal-{appeal.pk}"') :]
    return card[: card.index("</article>")]


def test_whoever_ruled_on_an_earlier_appeal_of_the_record_does_not_rule_on_a_later_one(
    client, appealed
):
    m = appealed
    other = make_person("lin-office", Role.CHIEFS_OFFICE, jurisdiction=m.district)
    later = appeal_again(m)
    link = f"/assessment/appeals/#appeal-{later.pk}"
    # The notice of the later appeal goes to whoever may rule on it.
    assert [e.link for e in told(other, EventKind.APPEALED)][-1] == link
    assert link not in [e.link for e in told(m.chiefs_office, EventKind.APPEALED)]

    with time_machine.travel(bj(20, 12), tick=False):
        with pytest.raises(AssessmentPermissionError, match=EARLIER_RULER):
            rule_on_appeal(m.chiefs_office, later, True, "迟到5分钟属实")
        client.force_login(m.chiefs_office)
        card = appeal_card(html_of(client.get(APPEALS)), later)
        assert EARLIER_RULER in card and 'class="form ruling-form"' not in card
        assert NOBODY_RULES not in card
        # Posted anyway: refused, the appeal still waits.
        response = rule(client, later, decision="reject", note="维持原记录")
        assert EARLIER_RULER in html_of(response)
        later.refresh_from_db()
        assert later.status == "pending"

        client.force_login(other)
        card = appeal_card(html_of(client.get(APPEALS)), later)
        assert 'class="form ruling-form"' in card and EARLIER_RULER not in card
        assert rule(client, later, decision="reject", note="维持原记录").status_code == 302
    later.refresh_from_db()
    assert (later.status, later.ruled_by) == ("rejected", other)


def test_the_office_is_shown_when_nobody_may_rule_on_a_later_appeal(client, appealed):
    m = appealed
    later = appeal_again(m)
    # 陈, the office's only member, ruled on the first appeal: nobody is told of the later one,
    # and the page says that nobody in the office may rule on it.
    link = f"/assessment/appeals/#appeal-{later.pk}"
    assert link not in [e.link for e in told(m.chiefs_office, EventKind.APPEALED)]
    client.force_login(m.chiefs_office)
    card = appeal_card(html_of(client.get(APPEALS)), later)
    assert EARLIER_RULER in card and NOBODY_RULES in card
    english = html_of(client.get(APPEALS, HTTP_ACCEPT_LANGUAGE="en"))
    card = appeal_card(english, later)
    assert "You ruled on an earlier appeal of this record" in card
    assert "Nobody in the office may rule on this appeal" in card


NOBODY_TOLD = "无人可以裁定申诉：东城区城管执法局，案件"
WAITS = "区街巷长办公室暂无可以裁定此申诉的人员，已通知区里增派人员。"


def test_when_nobody_may_rule_the_superusers_and_the_district_chief_are_told(client, appealed):
    m = appealed
    chief = make_person("dongcheng-chief", Role.DISTRICT_CHIEF, jurisdiction=m.district)
    root = Person.objects.create_superuser(username="root", password="pw-123456", name="root")
    # The first appeal had someone to rule on it: neither was told of it.
    assert told(chief, EventKind.APPEALED) == [] and told(root, EventKind.APPEALED) == []
    later = appeal_again(m)
    reference = m.stories["c3"].case.reference
    (entry,) = told(root, EventKind.APPEALED)
    district = m.district.pk
    assert entry.link == (
        f"/admin/organisation/roleassignment/add/?role=chiefs_office&jurisdiction={district}"
    )
    assert entry.payload["case"] == reference
    (entry,) = told(chief, EventKind.APPEALED)
    assert reference in entry.link  # the case's page, which the district chief reads
    # 陈, who may not rule on it, was told of the first appeal only.
    (entry,) = told(m.chiefs_office, EventKind.APPEALED)
    assert entry.link == f"/assessment/appeals/#appeal-{Appeal.objects.earliest('pk').pk}"
    assert told(m.urban_officer, EventKind.APPEALED) == []

    client.force_login(chief)
    html = html_of(client.get("/inbox/"))
    assert f"{NOBODY_TOLD} {reference}" in html
    assert "请为区街巷长办公室增配此类人员" in html
    english = html_of(client.get("/inbox/", HTTP_ACCEPT_LANGUAGE="en"))
    assert f"Nobody may rule on the appeal: 东城区城管执法局, case {reference}" in english
    client.force_login(root)
    (entry,) = told(root, EventKind.APPEALED)
    form = html_of(client.get(entry.link))
    assert 'value="chiefs_office" selected' in form
    # The office's card still says so, decided by the same rule.
    client.force_login(m.chiefs_office)
    assert NOBODY_RULES in appeal_card(html_of(client.get(APPEALS)), later)


def test_the_department_sees_that_nobody_may_rule_on_its_appeal_yet(client, appealed):
    m = appealed
    first = Appeal.objects.get()
    rule_on_appeal(m.chiefs_office, first, False, "无到场记录")
    summons = m.summonses["c3_urban"]
    prefix = f"appeal-{summons.uuid.hex}"
    client.force_login(m.urban_officer)
    with time_machine.travel(bj(20, 11), tick=False):
        response = client.post(
            f"{DEPARTMENT}?period=2026-07",
            {
                "op": "appeal",
                "target": summons.uuid.hex,
                f"{prefix}-correction": "came:late",
                f"{prefix}-number": "5",
                f"{prefix}-reason": "迟到5分钟",
            },
            follow=True,
        )
    html = html_of(response)
    reference = m.stories["c3"].case.reference
    assert f"案件 {reference} 的申诉已提交。{WAITS}" in html
    assert Appeal.objects.filter(status="pending").count() == 1
    card = html[html.index(f'id="record-{summons.uuid.hex}"') :]
    assert WAITS in card[: card.index("</article>")]
    english = html_of(client.get(DEPARTMENT + "?period=2026-07", HTTP_ACCEPT_LANGUAGE="en"))
    card = english[english.index(f'id="record-{summons.uuid.hex}"') :]
    assert (
        "Nobody in the district chiefs' office may rule on this appeal yet"
        in (card[: card.index("</article>")])
    )
    # Once someone who may rule is in the office, the card no longer says so.
    make_person("lin-office", Role.CHIEFS_OFFICE, jurisdiction=m.district)
    html = html_of(client.get(DEPARTMENT + "?period=2026-07"))
    card = html[html.index(f'id="record-{summons.uuid.hex}"') :]
    assert WAITS not in card[: card.index("</article>")]


def test_a_first_appeal_with_someone_to_rule_says_nothing_of_the_kind(client, appealed):
    m = appealed
    client.force_login(m.urban_officer)
    html = html_of(client.get(DEPARTMENT + "?period=2026-07"))
    assert WAITS not in html


def test_the_records_page_reads_who_may_rule_in_a_fixed_number_of_queries(client, appealed):
    m = appealed
    appeal_again(m)
    client.force_login(m.urban_officer)
    with CaptureQueriesContext(connection) as one:
        # The record's card and its row in "My appeals" say so.
        assert html_of(client.get(DEPARTMENT + "?period=2026-07")).count(WAITS) == 2
    c7 = m.summonses["c7_urban"]
    with time_machine.travel(bj(27, 10), tick=False):
        appeal_with_photos(m.urban_officer, c7, "came", {"came": "on_time"}, "按时到场")
        rule_on_appeal(m.chiefs_office, Appeal.objects.get(summons=c7), False, "无到场记录")
    with time_machine.travel(bj(27, 11), tick=False):
        appeal_with_photos(m.urban_officer, c7, "came", {"late_minutes": 5}, "迟到5分钟")
    with CaptureQueriesContext(connection) as two:
        assert html_of(client.get(DEPARTMENT + "?period=2026-07")).count(WAITS) == 4
    # A second stuck appeal reads nothing more (the first page also read c7's photos for
    # its appeal form, which the second no longer shows).
    assert len(two.captured_queries) <= len(one.captured_queries)


def test_the_departments_record_shows_the_rulings_time_beside_the_verdict(client, appealed):
    m = appealed
    with time_machine.travel(bj(21, 9, 30), tick=False):
        rule_on_appeal(m.chiefs_office, Appeal.objects.get(), False, "无到场记录")
    client.force_login(m.urban_officer)
    html = html_of(client.get(DEPARTMENT, {"period": "2026-07"}))
    card = html[html.index(f'id="record-{m.summonses["c3_urban"].uuid.hex}"') :]
    start = card.index('class="appeal-line"')
    line = card[start : card.index("</p>", start)]
    assert ">驳回</span>" in line
    ruled = line.index("裁定于 <time")
    assert "07-21 09:30</time>" in line[ruled:]
    filed = line.index("申诉提交于 <time")
    assert ruled < filed and "07-20 10:00</time>" in line[filed:]
    assert "无到场记录" in line


def test_the_district_assessor_reads_who_rules_on_the_appeals_waiting(client, appealed):
    m = appealed
    client.force_login(m.district_assessor)
    html = html_of(client.get("/assessment/", {"period": "2026-07"}))
    view = html[html.index('id="district-view"') :]
    assert "<dt>待裁定申诉</dt><dd>1</dd>" in view
    assert "部门的申诉由区街巷长办公室在其申诉页面裁定" in view
    assert APPEALS not in view
    assert client.get(APPEALS).status_code == 403
    # The office that rules goes to its appeals from the count.
    client.force_login(m.chiefs_office)
    view = html_of(client.get("/assessment/", {"period": "2026-07"}))
    assert f'<dd><a href="{APPEALS}">1</a></dd>' in view
    assert "部门的申诉由区街巷长办公室在其申诉页面裁定" not in view
