"""A case on the backlog (挂账) is paused on every page that lists deadlines: the command
centre's board and wall, the department desk (its order and its title), the home pages and
their live summary. Paused is its own state: never overdue, never due next.

T0 = Tuesday 12 May 2026, 09:00 Beijing time: 龙潭街道 blows a routine whistle for 城管 and
派出所 (acknowledge by 09:10, arrive by 09:30); both acknowledge at 09:05; the chiefs'
office sends 城管 a supervision notice due at 10:15; the case goes on the backlog at 09:20.
At 10:50 a second whistle calls 城管 (arrive by 11:20). The pages are read at 11:00, when
every deadline of the first case has passed.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine

from tests.fixtures_cases import (
    beijing,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from whistle.cases import actions
from whistle.cases.models import Case

T0 = beijing(2026, 5, 12, 9, 0)
MIN = timedelta(minutes=1)
READ_AT = T0 + 120 * MIN
PAUSED = "挂账暂停（原定 05-12 09:30 到期）"


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def township(whistle_city, clock):
    city = whistle_city
    paused, _whistle, summonses = whistled_case(city)
    clock.move_to(T0 + 5 * MIN)
    actions.acknowledge(city.urban_officer, summonses[city.urban.pk])
    actions.acknowledge(city.police_officer, summonses[city.police.pk])
    clock.move_to(T0 + 15 * MIN)
    actions.issue_supervision_notice(
        city.township_office, paused, department=city.urban, text="请尽快到场", due_at=T0 + 75 * MIN
    )
    clock.move_to(T0 + 20 * MIN)
    actions.put_on_backlog(
        city.dispatcher, paused, reason="需区里协调", review_on=date(2026, 5, 20)
    )
    clock.move_to(T0 + 110 * MIN)
    running, _whistle, _summonses = whistled_case(city, departments=[city.urban])
    clock.move_to(READ_AT)
    return paused, running


def html_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def row_of(html: str, reference: str, start: str, end: str) -> str:
    """The markup from the last `start` before the case's reference to the next `end`."""
    at = html.index(reference)
    begin = html.rindex(start, 0, at)
    return html[begin : html.index(end, at)]


def test_the_board_counts_no_paused_summons_overdue_and_says_it_is_paused(
    client, whistle_city, township
):
    paused, running = township
    client.force_login(whistle_city.dispatcher)
    html = html_of(client, "/dispatch/board/")
    assert re.search(r"<dt>超时的召集</dt><dd>0</dd>", html)
    assert "figure-alert" not in html
    row = row_of(html, paused.reference, "<li", "</li>")
    assert PAUSED in text_of(row)
    assert "is-overdue" not in row and "badge-overdue" not in row
    assert "data-countdown" not in row
    # The case still whistling counts down as before.
    assert "data-countdown" in row_of(html, running.reference, "<li", "</li>")


def test_the_wall_shows_the_paused_case_as_paused(client, whistle_city, township):
    paused, _running = township
    client.force_login(whistle_city.dispatcher)
    html = html_of(client, "/dispatch/board/?township=110101015&layout=wall")
    assert PAUSED in text_of(row_of(html, paused.reference, "<li", "</li>"))
    assert "figure-alert" not in html


def test_the_department_desk_puts_paused_summonses_last_and_leaves_them_out_of_its_title(
    client, whistle_city, township
):
    paused, running = township
    client.force_login(whistle_city.urban_officer)
    html = html_of(client, "/department/")
    incoming = html[html.index('id="incoming"') : html.index('id="notices"')]
    heading = incoming.index("时限暂停（案件已挂账）")
    assert incoming.index(running.reference) < heading < incoming.index(paused.reference)
    assert "已超时 <span" not in incoming
    card = row_of(incoming, paused.reference, "<article", "</article>")
    assert "is-overdue" not in card and "badge-overdue" not in card
    assert text_of(card).count(PAUSED) == 2  # the next deadline and the arrival's row
    # Only the running summons waits for the department's move.
    title = html[html.index("<title>") + 7 : html.index("</title>")]
    assert title == "(1) 本部门的召集"
    assert 'data-to-act="1"' in incoming
    # The supervision notice of the paused case does not count down either.
    notices = html[html.index('id="notices"') :]
    assert "挂账暂停（原定 05-12 10:15 到期）" in text_of(notices)


def test_the_command_centre_shows_the_paused_cases_notice_as_paused(client, whistle_city, township):
    _paused, _running = township
    client.force_login(whistle_city.dispatcher)
    html = html_of(client, "/dispatch/")
    row = row_of(html, "请尽快到场", "<tr", "</tr>")
    assert "挂账暂停（原定 05-12 10:15 到期）" in text_of(row)
    assert "data-countdown" not in row
    # In English the badge and the unanswered notice's cell, each shown alone, begin with a
    # capital.
    english = client.get("/dispatch/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    row = text_of(row_of(english, "请尽快到场", "<tr", "</tr>"))
    assert "Paused on the backlog (was due 05-12 10:15" in row
    assert "Not yet answered" in row and "not yet answered" not in row


def test_an_officers_home_shows_the_paused_summons_paused_after_the_running_one(
    client, whistle_city, township
):
    paused, running = township
    client.force_login(whistle_city.urban_officer)
    html = html_of(client, "/")
    work = html[html.index('id="department-work"') :]
    work = work[: work.index("</section>")]
    assert work.index(running.reference) < work.index(paused.reference)
    row = row_of(work, paused.reference, "<li", "</li>")
    assert PAUSED in text_of(row)
    assert "is-overdue" not in row and "badge-overdue" not in row
    assert "其中 1 项等待本部门处理。" in work


@pytest.mark.parametrize("layout", ["", "?layout=wall"])
def test_the_area_summary_lists_paused_summonses_neither_overdue_nor_due_next(
    client, whistle_city, township, layout
):
    paused, running = township
    client.force_login(whistle_city.dispatcher)
    html = html_of(client, f"/live/area-summary/{layout}")
    assert paused.reference not in html
    assert re.search(r"<dt>超时的召集</dt><dd>0</dd>", html)
    assert re.search(r"<dt>挂账暂停的召集</dt><dd>2</dd>", html)
    due = html[html.index("即将到期") :]
    assert running.reference in due
    assert Case.objects.get(pk=paused.pk).status == Case.Status.BACKLOG
