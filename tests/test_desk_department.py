"""A department's desk: its summonses with their countdowns, acknowledging from the list,
answering supervision notices, past summonses; who may open it; query counts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import make_person
from tests.fixtures_cases import (
    beijing,
    filed_case,
    on_site,
    reported_on_site,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from tests.fixtures_desk import post_op
from whistle.cases import actions
from whistle.cases.models import Summons
from whistle.organisation.models import Role

NOW = beijing(2026, 3, 10, 10, 0)
DESK = "/department/"
S = Summons.Status


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.mark.parametrize("who", ["urban_officer", "urban_head"])
def test_the_desk_opens_for_the_departments_officers_and_head(client, whistle_city, who):
    client.force_login(getattr(whistle_city, who))
    html = html_of(client.get(DESK))
    assert "东城区城管执法局" in html


@pytest.mark.parametrize("who", ["dispatcher", "steward", "assessor", "resident"])
def test_the_desk_refuses_everyone_else(client, whistle_city, who):
    client.force_login(getattr(whistle_city, who))
    assert client.get(DESK).status_code == 403


def test_a_stranger_is_sent_to_sign_in(client, whistle_city):
    response = client.get(DESK)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_home_page_links_to_the_desk(client, whistle_city):
    client.force_login(whistle_city.urban_officer)
    assert 'href="/department/"' in html_of(client.get("/"))


def test_incoming_summonses_come_with_their_countdowns_nearest_first(client, whistle_city):
    city = whistle_city
    routine = filed_case(city)
    actions.dispatch_case(city.dispatcher, routine, department=city.urban)
    case, _whistle, summonses = whistled_case(city, kind="emergency")
    client.force_login(city.urban_officer)
    html = html_of(client.get(DESK))
    # The emergency whistle (acknowledge by 10:05) before the routine dispatch (12:00).
    assert html.index(case.reference) < html.index(routine.reference)
    assert 'data-deadline="2026-03-10T02:05:00+00:00"' in html
    assert "应急哨" in html and "日常派遣" in html
    # Police summonses are not this department's.
    assert summonses[city.police.pk].uuid.hex not in html


def test_an_overdue_summons_is_marked(client, whistle_city, _clock):
    city = whistle_city
    whistled_case(city)
    _clock.move_to(NOW + timedelta(minutes=11))
    client.force_login(city.urban_officer)
    html = html_of(client.get(DESK))
    assert re.search(r'class="card summons-card[^"]* is-overdue', html)
    assert "已超时" in html


def test_acknowledging_from_the_list(client, whistle_city):
    city = whistle_city
    _case, _whistle, summonses = whistled_case(city)
    summons = summonses[city.urban.pk]
    client.force_login(city.urban_officer)
    response = post_op(client, DESK, "acknowledge", summons, note="")
    assert response.status_code == 302 and response["Location"] == DESK
    assert Summons.objects.get(pk=summons.pk).status == S.ACKNOWLEDGED
    html = html_of(client.get(DESK))
    assert "已签收" in html
    # Now the way on is the check-in, on the case's page.
    assert "到场报到" in html


def test_acknowledging_twice_from_the_list_says_why_not(client, whistle_city):
    city = whistle_city
    _case, _whistle, summonses = whistled_case(city)
    summons = summonses[city.urban.pk]
    actions.acknowledge(city.urban_officer, summons)
    client.force_login(city.urban_officer)
    html = html_of(post_op(client, DESK, "acknowledge", summons, note=""))
    assert 'class="message message-error"' in html


def test_another_departments_summons_cannot_be_acknowledged(client, whistle_city):
    city = whistle_city
    _case, _whistle, summonses = whistled_case(city)
    police = summonses[city.police.pk]
    client.force_login(city.urban_officer)
    assert post_op(client, DESK, "acknowledge", police, note="").status_code == 400
    assert post_op(client, DESK, "acknowledge", "not-a-uuid", note="").status_code == 400
    assert Summons.objects.get(pk=police.pk).status == S.SUMMONED


def test_answering_a_supervision_notice_from_the_desk(client, whistle_city):
    city = whistle_city
    case, _whistle, _summonses = whistled_case(city)
    notice = actions.issue_supervision_notice(
        city.township_chief,
        case,
        department=city.urban,
        text="限期清理占道物品",
        due_at=NOW + timedelta(hours=4),
    )
    client.force_login(city.urban_officer)
    html = html_of(client.get(DESK))
    assert "限期清理占道物品" in html and 'data-deadline="2026-03-10T06:00:00+00:00"' in html
    html = html_of(post_op(client, DESK, "answer", notice, answer="  "))
    assert "这个字段是必填项" in html
    assert post_op(client, DESK, "answer", notice, answer="今日 16 时前清理").status_code == 302
    notice.refresh_from_db()
    assert notice.answer == "今日 16 时前清理"
    html = html_of(client.get(DESK))
    assert "近 30 天已答复的督办" in html


def test_past_summonses_are_listed_and_a_department_on_site_stays_on_hand(client, whistle_city):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city, departments=[city.urban])
    summons = summonses[city.urban.pk]
    reported_on_site(city, summons, result="游商已劝离")
    client.force_login(city.urban_officer)
    html = html_of(client.get(DESK))
    incoming = html[html.index('id="incoming"') : html.index('id="notices"')]
    assert case.reference in incoming  # done, but still on site: it must check out
    actions.mark_handled(city.dispatcher, case)
    actions.check_out(city.urban_officer, summons)
    html = html_of(client.get(DESK))
    incoming = html[html.index('id="incoming"') : html.index('id="notices"')]
    past = html[html.index('id="past"') :]
    assert case.reference not in incoming and case.reference in past
    assert "游商已劝离" in past


def test_the_desk_runs_a_fixed_number_of_queries(
    client, whistle_city, django_assert_max_num_queries
):
    city = whistle_city

    def add(rounds):
        for _n in range(rounds):
            case, _whistle, summonses = whistled_case(city)
            actions.acknowledge(city.urban_officer, summonses[city.urban.pk])
            actions.issue_supervision_notice(
                city.township_chief,
                case,
                department=city.urban,
                text="限期清理",
                due_at=NOW + timedelta(hours=4),
            )
            routine = filed_case(city)
            summons = actions.dispatch_case(city.dispatcher, routine, department=city.urban)
            actions.acknowledge(city.urban_officer, summons)
            actions.report_result(city.urban_officer, summons, result="已处理")

    add(1)
    client.force_login(city.urban_officer)

    def count():
        with CaptureQueriesContext(connection) as context:
            html_of(client.get(DESK))
        return len(context.captured_queries)

    few = count()
    add(12)
    assert Summons.objects.filter(department=city.urban).count() == 26
    assert count() == few
    # The header's unread count and the department's rosters on duty are one query each.
    with django_assert_max_num_queries(13):
        html = html_of(client.get(DESK))
    assert html.count('class="card summons-card') == 13


def test_a_department_head_of_two_departments_sees_both(client, whistle_city):
    city = whistle_city
    both = make_person("two-hats", Role.DEPARTMENT_HEAD, department=city.urban)
    from whistle.organisation.models import RoleAssignment

    RoleAssignment.objects.create(person=both, role=Role.DEPARTMENT_HEAD, department=city.police)
    whistled_case(city)
    client.force_login(both)
    html = html_of(client.get(DESK))
    assert html.count('class="card summons-card') == 2


# On a phone: new summonses first, impossible to miss -------------------------------------------


def _incoming(html: str) -> str:
    return html[html.index('id="incoming"') : html.index('id="notices"')]


def _title(html: str) -> str:
    return html[html.index("<title>") + 7 : html.index("</title>")]


def test_running_countdowns_come_first_then_overdue_then_the_rest(client, whistle_city, _clock):
    city = whistle_city
    _clock.move_to(NOW - timedelta(minutes=30))
    late, _whistle, _summonses = whistled_case(city, departments=[city.urban])
    _clock.move_to(NOW)
    waiting, _whistle, on_site = whistled_case(city, departments=[city.urban])
    summons = on_site[city.urban.pk]
    reported_on_site(city, summons)
    routine = filed_case(city)
    actions.dispatch_case(city.dispatcher, routine, department=city.urban)
    fresh, _whistle, _summonses = whistled_case(city, departments=[city.urban])
    _clock.move_to(NOW + timedelta(minutes=1))
    client.force_login(city.urban_officer)
    html = _incoming(html_of(client.get(DESK)))
    order = [html.index(c.reference) for c in (fresh, routine, late, waiting)]
    assert order == sorted(order)
    running = html.index("截止时间未到")
    overdue = html.index("已超时 <span")
    rest = html.index("等待街乡或签退")
    assert running < order[0] and order[1] < overdue < order[2] < rest < order[3]


def test_the_title_counts_the_summonses_waiting_for_the_department(client, whistle_city):
    city = whistle_city
    client.force_login(city.urban_officer)
    assert _title(html_of(client.get(DESK))) == "本部门的召集"
    whistled_case(city)
    routine = filed_case(city)
    actions.dispatch_case(city.dispatcher, routine, department=city.urban)
    # Declined: the township has the next move, not the department.
    _case, _whistle, summonses = whistled_case(city, departments=[city.urban])
    actions.decline(city.urban_officer, summonses[city.urban.pk], reason="非本部门职责")
    assert _title(html_of(client.get(DESK))) == "(2) 本部门的召集"


def test_the_check_out_shows_on_the_desk_once_the_department_is_let_go(client, whistle_city):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city)
    summons = summonses[city.urban.pk]
    on_site(city, summons)
    client.force_login(city.urban_officer)
    card = _incoming(html_of(client.get(DESK)))
    # On site and not let go: no check-out on the list (事不完、人不撤), and the rule said.
    assert 'value="check_out"' not in card
    assert "街乡标记案件已处置或解除本部门任务后，方可签退" in card
    actions.release(city.dispatcher, summons, note="游商已离开")
    html = html_of(client.get(DESK))
    card = _incoming(html)
    card = card[card.index(f'id="summons-{summons.uuid.hex}"') :]
    card = card[: card.index("</article>")]
    # A button in plain sight, not folded away.
    assert f'id="op-check_out-{summons.uuid.hex}"' in card
    assert "<details" not in card
    assert 'action="/department/#op-check_out-' in html
    assert _title(html) == "(1) 本部门的召集"
    response = post_op(client, DESK, "check_out", summons)
    assert response.status_code == 302
    assert Summons.objects.get(pk=summons.pk).status == S.LEFT
    assert case.reference not in _incoming(html_of(client.get(DESK)))


def _version(html: str) -> str:
    found = re.search(r'hx-get="/department/live/\?v=([0-9a-f]+)"', html)
    assert found is not None
    return found.group(1)


def test_the_list_is_sent_again_only_when_it_changed(client, whistle_city, _clock):
    city = whistle_city
    whistled_case(city)
    client.force_login(city.urban_officer)
    version = _version(html_of(client.get(DESK)))
    unchanged = client.get(f"{DESK}live/?v={version}")
    assert unchanged.status_code == 204
    assert unchanged["Cache-Control"] == "private, no-store"
    _clock.move_to(NOW + timedelta(minutes=2))
    case, _whistle, _summonses = whistled_case(city, kind="emergency")
    changed = client.get(f"{DESK}live/?v={version}")
    assert changed.status_code == 200
    part = changed.content.decode()
    assert part.startswith('<section id="incoming"') or part.lstrip().startswith("<section")
    assert case.reference in part and 'data-to-act="2"' in part
    assert _version(part) != version
    # Its forms post to the desk, not to the address it was polled from.
    assert 'action="/department/#op-acknowledge-' in part
    assert "/department/live/#" not in part


def test_the_list_passing_a_deadline_is_sent_again(client, whistle_city, _clock):
    city = whistle_city
    whistled_case(city)
    client.force_login(city.urban_officer)
    version = _version(html_of(client.get(DESK)))
    _clock.move_to(NOW + timedelta(minutes=11))
    response = client.get(f"{DESK}live/?v={version}")
    assert response.status_code == 200
    assert "已超时 <span" in response.content.decode()


def test_a_signed_out_desk_opens_the_sign_in_page_instead_of_looking_live(client, whistle_city):
    response = client.get(
        f"{DESK}live/",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/department/?department=3",
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Fdepartment%2F%3Fdepartment%3D3"


def test_the_polled_list_is_for_department_staff_only(client, whistle_city):
    client.force_login(whistle_city.dispatcher)
    assert client.get(f"{DESK}live/").status_code == 403


def test_the_polled_list_runs_a_fixed_number_of_queries(client, whistle_city):
    city = whistle_city
    whistled_case(city)
    client.force_login(city.urban_officer)

    def count():
        with CaptureQueriesContext(connection) as context:
            assert client.get(f"{DESK}live/").status_code == 200
        return len(context.captured_queries)

    count()  # the first request reads who holds which role into this process's memory
    few = count()
    for _n in range(10):
        whistled_case(city)
    assert count() == few <= 6


def test_the_queue_and_the_case_page_name_the_department_and_township_in_the_readers_language(
    client, whistle_city
):
    city = whistle_city
    city.urban.name_en = "Urban Management Bureau"
    city.urban.save()
    city.longtan.name_en = "Longtan Subdistrict"
    city.longtan.save()
    case, _whistle, _summonses = whistled_case(city, kind="emergency")

    def page(person, url: str, language: str) -> str:
        client.force_login(person)
        return html_of(client.get(url, HTTP_ACCEPT_LANGUAGE=language))

    for url, person in ((DESK, city.urban_officer), (f"/cases/{case.reference}/", city.dispatcher)):
        english, chinese = page(person, url, "en"), page(person, url, "zh-hans")
        assert "Urban Management Bureau" in english
        assert "东城区城管执法局" in chinese and "Urban Management Bureau" not in chinese
        assert "Longtan Subdistrict" in english and "Longtan Subdistrict" not in chinese
    # The queue names no department in Chinese on the English page; the case's trail keeps
    # the names its events recorded.
    assert "东城区城管执法局" not in page(city.urban_officer, DESK, "en")
    card = page(city.dispatcher, f"/cases/{case.reference}/", "en").split(
        'class="card summons-card'
    )
    assert any("Urban Management Bureau" in c for c in card[1:])
    assert not any("东城区城管执法局" in c.split("</section>")[0] for c in card[1:])
