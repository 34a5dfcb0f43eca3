"""The township's command centre: who may open it, the live board and its polling, the
work queues and their buttons, the whistle page, the wall, and query counts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import make_person
from tests.fixtures_cases import (
    OFF_ANY_LANE,
    ON_THE_LANE,
    beijing,
    filed_case,
    officer_on_site,
    reported_case,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from tests.fixtures_desk import post_op
from whistle.cases import actions
from whistle.cases.models import Case, Summons, Whistle
from whistle.cases.suggest import possible_duplicates
from whistle.desk.boards import (
    BOARD_GROUP_LIMIT,
    QUEUE_PAGE,
    QUEUES,
    TownshipQueues,
    duplicates_for,
)
from whistle.desk.views.dispatch import FILE_INLINE
from whistle.organisation.models import Jurisdiction, Role
from whistle.policies.models import Category, CategoryKind, MajorClass

NOW = beijing(2026, 3, 10, 10, 0)
HOME = "/dispatch/"
BOARD = "/dispatch/board/"
# What htmx sends when it asks for the board.
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# Who may open it --------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["dispatcher", "township_chief", "township_office"])
def test_the_command_centre_opens_for_the_township(client, whistle_city, who):
    client.force_login(getattr(whistle_city, who))
    html = html_of(client.get(HOME))
    assert "指挥中心" in html and "龙潭街道" in html
    assert 'hx-get="/dispatch/board/?township=110101015"' in html
    assert 'hx-trigger="every 5s" data-poll' in html


@pytest.mark.parametrize("who", ["urban_officer", "steward", "lane_chief", "assessor", "resident"])
def test_the_command_centre_refuses_other_roles(client, whistle_city, who):
    client.force_login(getattr(whistle_city, who))
    assert client.get(HOME).status_code == 403
    assert client.get(BOARD, **HX).status_code == 403


def test_a_stranger_is_sent_to_sign_in_and_the_board_stops_polling(client, whistle_city):
    response = client.get(HOME)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    # The board's poll takes the whole page to sign in, back to the command centre after.
    polled = client.get(BOARD, HTTP_HX_CURRENT_URL="http://testserver/dispatch/", **HX)
    assert polled.status_code == 204
    assert polled["HX-Redirect"] == "/accounts/login/?next=%2Fdispatch%2F"
    # Opened in the browser, the board's address sends the stranger to sign in too.
    response = client.get(BOARD)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_board_opened_in_the_browser_is_the_whole_page_it_belongs_to(client, whistle_city):
    client.force_login(whistle_city.dispatcher)
    fragment = client.get(BOARD, **HX)
    assert "<html" not in html_of(fragment)
    assert "HX-Request" in fragment["Vary"]
    for url, page in ((BOARD, HOME), (f"{BOARD}?layout=wall", "/dispatch/wall/")):
        response = client.get(url)
        html = html_of(response)
        assert "HX-Request" in response["Vary"]
        # The layout with its style sheet and menu, and the page around the board.
        assert "<html" in html and 'rel="stylesheet"' in html and 'id="board"' in html
        assert title_of(html) == title_of(html_of(client.get(page)))


def title_of(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found is not None
    return found.group(1).strip()


def test_a_dispatcher_of_dongsi_cannot_open_longtan(client, whistle_city):
    client.force_login(whistle_city.dongsi_dispatcher)
    assert "东四街道" in html_of(client.get(HOME))
    assert client.get(HOME + "?township=110101015").status_code == 404
    assert client.get(BOARD + "?township=110101015", **HX).status_code == 404


def test_the_district_chiefs_office_chooses_among_the_townships(client, whistle_city):
    client.force_login(whistle_city.district_office)
    html = html_of(client.get(HOME))
    assert 'href="/dispatch/?township=110101006"' in html
    assert 'href="/dispatch/?township=110101015"' in html
    html = html_of(client.get(HOME + "?township=110101015"))
    assert "龙潭街道" in html


def test_the_home_page_links_to_the_command_centre(client, whistle_city):
    client.force_login(whistle_city.dispatcher)
    html = html_of(client.get("/"))
    assert 'href="/dispatch/"' in html


# The live board ----------------------------------------------------------------------------


def test_the_board_lists_whistles_and_cases_by_state_and_turns_overdue_red(
    client, whistle_city, _clock
):
    city = whistle_city
    reported = reported_case(city)
    case, _whistle, summonses = whistled_case(city)
    actions.acknowledge(city.urban_officer, summonses[city.urban.pk])
    client.force_login(city.dispatcher)
    html = html_of(client.get(BOARD, **HX))
    assert reported.reference in html and case.reference in html
    assert "正在吹哨" in html and "东城区城管执法局" in html and "龙潭派出所" in html
    assert 'class="figure figure-alert"' not in html
    # Eleven minutes later the police have not acknowledged (due 10:10).
    _clock.move_to(NOW + timedelta(minutes=11))
    response = client.get(BOARD, **HX)
    html = html_of(response)
    assert response["Cache-Control"] == "private, no-store"
    assert 'class="figure figure-alert"' in html
    assert 'class="chip is-overdue"' in html
    assert re.search(r"<dt>超时的召集</dt><dd>1</dd>", html)
    assert "已超时" in html


def test_the_board_lists_the_first_cases_of_each_state_and_says_how_many_more(client, whistle_city):
    city = whistle_city
    cases = [reported_case(city, description=f"问题 {n}") for n in range(BOARD_GROUP_LIMIT + 2)]
    whistled = [whistled_case(city)[0] for _n in range(BOARD_GROUP_LIMIT + 1)]
    client.force_login(city.dispatcher)
    html = html_of(client.get(BOARD, **HX))
    listed = html[html.index("按状态列出的未结案件") :]
    for case in cases[:BOARD_GROUP_LIMIT]:
        assert f">{case.reference}</a>" in listed
    for case in cases[BOARD_GROUP_LIMIT:]:
        assert case.reference not in html
    assert "另有 2 件未结案件未列出。" in listed
    assert '<a href="/dispatch/queue/reported/?township=110101015">到队列中查看</a>' in listed
    # The state's heading counts all its cases.
    assert re.search(r'已上报</span>\s*<span class="count">12</span></h4>', listed)
    # The whistles sounding are all listed: their deadlines run.
    for case in whistled:
        assert f">{case.reference}</a>" in html
    assert re.search(r"<dt>待立案</dt><dd>12</dd>", html)
    # On the wall screen, where nobody clicks, the heading says it all: the state's count
    # and, beside it, how many of its cases are not shown (the wall's script counts again
    # as it trims the rows to the screen: data-count is all the state's cases); the ten
    # oldest listed, no line under them and no link to the queue.
    for wall in (
        html_of(client.get("/dispatch/wall/")),
        html_of(client.get(f"{BOARD}?layout=wall", **HX)),
    ):
        listed = wall[wall.index("按状态列出的未结案件") :]
        assert re.search(
            r'已上报</span>\s*<span class="count">12</span> <span class="wall-group-more" '
            r'data-fit-group-more data-count="12" data-template="另有 %\(n\)s 件未显示">'
            r"另有 2 件未显示</span></h4>",
            listed,
        )
        assert [c.reference for c in cases if f">{c.reference}</a>" in listed] == [
            c.reference for c in cases[:BOARD_GROUP_LIMIT]
        ]
        assert "board-group-more" not in listed and "未列出" not in listed
        assert "/dispatch/queue/" not in wall and "到队列中查看" not in wall


def busy_township(city, rounds: int) -> None:
    """Cases in every state the command centre lists, `rounds` of each."""
    for n in range(rounds):
        reported_case(city, description=f"问题 {n}")
        filed_case(city, description=f"已立案 {n}")
        actions.blow_whistle(
            city.dispatcher,
            filed_case(city, description=f"吹哨 {n}"),
            kind="routine",
            departments=[city.urban, city.police],
        )
        backlog = filed_case(city, description=f"挂账 {n}")
        actions.put_on_backlog(
            city.dispatcher, backlog, reason="需协调", review_on=NOW.date() + timedelta(days=30)
        )
        _case, _whistle, summonses = whistled_case(city)
        actions.decline(city.police_officer, summonses[city.police.pk], reason="非本所职责")
        actions.issue_supervision_notice(
            city.township_chief,
            _case,
            department=city.urban,
            text="限期清理",
            due_at=NOW + timedelta(hours=4),
        )


def queries_of(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        html_of(client.get(url, **(HX if url == BOARD else {})))
    return len(context.captured_queries)


def test_the_board_and_the_home_page_run_a_fixed_number_of_queries(
    client, whistle_city, django_assert_max_num_queries
):
    city = whistle_city
    busy_township(city, 1)
    client.force_login(city.township_chief)
    few = {url: queries_of(client, url) for url in (BOARD, HOME)}
    busy_township(city, 9)
    assert Case.objects.count() == 50
    many = {url: queries_of(client, url) for url in (BOARD, HOME)}
    assert many == few
    # One of them reads the township's duty rosters (their rotations only when there are).
    with django_assert_max_num_queries(11):
        html_of(client.get(BOARD, **HX))
    # The home page's header reads the unread count, its duty panel the rosters, its filter
    # the units.
    with django_assert_max_num_queries(32):
        html = html_of(client.get(HOME))
    assert html.count('class="card queue-item"') >= 40


# The queues --------------------------------------------------------------------------------


def test_filing_from_the_queue_comes_back_to_the_queue(client, whistle_city):
    city = whistle_city
    case = reported_case(city)
    client.force_login(city.dispatcher)
    response = post_op(client, HOME, "file", case, category=city.street_vending.pk)
    # Back to the case's row, now among the filed cases.
    assert response.status_code == 302
    assert response["Location"] == f"/dispatch/#q-{case.reference}"
    assert Case.objects.get(pk=case.pk).status == Case.Status.FILED
    html = html_of(client.get(HOME))
    assert f"案件 {case.reference} 已立案" in html
    filed = html[html.index('id="filed"') :]
    assert f'id="q-{case.reference}"' in filed


def test_a_bad_post_from_the_queue_shows_the_error_in_its_row(client, whistle_city):
    city = whistle_city
    case = reported_case(city)
    client.force_login(city.dispatcher)
    html = html_of(post_op(client, HOME, "reject", case, reason=""))
    row = html[html.index(f'id="q-{case.reference}"') :]
    row = row[: row.index("</article>")]
    assert '<details class="op-folded" open>' in row
    assert "这个字段是必填项" in row
    assert Case.objects.get(pk=case.pk).status == Case.Status.REPORTED


LAZY = re.compile(r'<details class="op-folded" hx-get="(/dispatch/op/([a-z_]+)/([^/]+)/[^"]*)"')


def test_folded_operations_load_their_forms_only_when_opened(client, whistle_city):
    city = whistle_city
    busy_township(city, 1)
    case = Case.objects.filter(status=Case.Status.REPORTED).get()
    client.force_login(city.dispatcher)
    html = html_of(client.get(HOME))
    row = html[html.index(f'id="q-{case.reference}"') :]
    row = row[: row.index("</article>")]
    # The filing form stays open in the row; rejecting and merging are folded, unloaded.
    assert f'name="file-{case.reference}-category"' in row
    assert f'name="reject-{case.reference}-reason"' not in row
    url = f"/dispatch/op/reject/{case.reference}/?township=110101015"
    assert f'hx-get="{url}" hx-trigger="toggle once"' in row
    # Opened, it loads the very form the row used to carry, posting back to the queue.
    form = html_of(client.get(url))
    assert f'name="reject-{case.reference}-reason"' in form
    assert f'action="/dispatch/#op-reject-{case.reference}"' in form
    # Every folded operation of every queue loads a form of its own.
    found = LAZY.findall(html)
    assert {name for _url, name, _key in found} >= {"merge", "reject", "release", "resume"}
    for link, name, key in found:
        assert f'<input type="hidden" name="op" value="{name}">' in html_of(client.get(link))
        assert f'<input type="hidden" name="target" value="{key}">' in html_of(client.get(link))
    # And posting it works as it did.
    response = post_op(client, HOME, "reject", case, reason="不是问题")
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).status == Case.Status.REJECTED


def test_a_folded_form_is_only_loaded_where_it_could_be_posted(client, whistle_city):
    city = whistle_city
    case = reported_case(city)
    _whistled, _whistle, summonses = whistled_case(city)
    dongsi_case = actions.report_case(
        city.dongsi_steward, description="东四六条垃圾", lon=116.414, lat=39.925
    )
    client.force_login(city.dispatcher)
    release = summonses[city.urban.pk].uuid.hex
    assert client.get(f"/dispatch/op/release/{release}/").status_code == 200
    for url in (
        "/dispatch/op/no_such_op/{case}/",
        "/dispatch/op/release/not-a-uuid/",
        "/dispatch/op/release/" + "0" * 32 + "/",
        # An operation the case is not in a state for, or that names a summons by a case.
        "/dispatch/op/resume/{case}/",
        "/dispatch/op/release/{case}/",
        # A case of another township, through this one or by asking for it.
        "/dispatch/op/reject/{dongsi}/",
        "/dispatch/op/reject/{dongsi}/?township=110101001",
    ):
        response = client.get(url.format(case=case.reference, dongsi=dongsi_case.reference))
        assert response.status_code == 404, url
        assert "错误" in response.content.decode() or "找不到" in response.content.decode()
    # Someone without the command centre, and a stranger.
    client.force_login(city.urban_officer)
    assert client.get(f"/dispatch/op/reject/{case.reference}/").status_code == 403
    client.logout()
    response = client.get(f"/dispatch/op/reject/{case.reference}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Case.objects.get(pk=case.pk).status == Case.Status.REPORTED


def test_a_case_of_another_township_cannot_be_posted_through_this_one(client, whistle_city):
    city = whistle_city
    dongsi_case = actions.report_case(
        city.dongsi_steward, description="东四六条垃圾", lon=116.414, lat=39.925
    )
    client.force_login(city.dispatcher)
    response = post_op(client, HOME, "reject", dongsi_case, reason="不是问题")
    assert response.status_code == 400
    assert Case.objects.get(pk=dongsi_case.pk).status == Case.Status.REPORTED


def test_the_queue_suggests_the_same_duplicates_as_the_case_actions(client, whistle_city):
    city = whistle_city
    first = reported_case(city)
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        second = reported_case(city)
    with time_machine.travel(NOW + timedelta(minutes=9), tick=False):
        far = reported_case(city, lon=OFF_ANY_LANE[0], lat=OFF_ANY_LANE[1])
        third = reported_case(city, lon=ON_THE_LANE[0] + 0.0002, lat=ON_THE_LANE[1])
        cases = list(Case.objects.filter(status=Case.Status.REPORTED).order_by("reported_at"))
        bulk = duplicates_for(cases)
        for case in cases:
            assert bulk[case.pk] == possible_duplicates(case), case
        assert [c for c, _d in bulk[third.pk]] == [first, second]
        assert far.pk not in [c.pk for c, _d in bulk[third.pk]]
        client.force_login(city.dispatcher)
        html = html_of(client.get(HOME))
        english = html_of(client.get(HOME, HTTP_ACCEPT_LANGUAGE="en"))
    assert "2 件可能重复" in html
    # The distance after each reference: a full-width bracket takes no space before it in
    # Chinese, the English one is spaced from the reference.
    after = re.compile(rf'{first.reference}</a><span class="muted">([^<]*)</span>')
    chinese_distance = after.search(html)
    english_distance = after.search(english)
    assert chinese_distance and re.fullmatch(r"（相距 \d+ 米）", chinese_distance[1])
    assert english_distance and re.fullmatch(r" \(\d+ m away\)", english_distance[1])


def test_ruling_on_a_decline_from_the_queue(client, whistle_city):
    city = whistle_city
    _case, _whistle, summonses = whistled_case(city)
    police = summonses[city.police.pk]
    actions.decline(city.police_officer, police, reason="非本所职责")
    client.force_login(city.dispatcher)
    html = html_of(client.get(HOME))
    assert "非本所职责" in html and f'id="op-rule-{police.uuid.hex}"' in html
    response = post_op(client, HOME, "rule", police, decision="uphold", note="")
    assert response.status_code == 302
    police.refresh_from_db()
    assert police.status == Summons.Status.RELEASED and police.ruling == Summons.Ruling.UPHELD


def test_check_and_close_from_the_queue(client, whistle_city):
    city = whistle_city
    case, _summons = officer_on_site(city)
    client.force_login(city.dispatcher)
    assert post_op(client, HOME, "mark_handled", case, note="").status_code == 302
    assert post_op(client, HOME, "check_passed", case, note="已核查").status_code == 302
    assert post_op(client, HOME, "close", case, note="").status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED


def test_the_backlog_and_the_oversight_lists(client, whistle_city):
    city = whistle_city
    backlog = filed_case(city)
    actions.put_on_backlog(
        city.township_office, backlog, reason="需拆除违建", review_on=NOW.date() + timedelta(days=5)
    )
    escalated = filed_case(city)
    actions.escalate(city.township_chief, escalated, reason="反复发生")
    whistled, _whistle, _summonses = whistled_case(city)
    actions.issue_supervision_notice(
        city.township_chief,
        whistled,
        department=city.urban,
        text="限期清理",
        due_at=NOW + timedelta(hours=4),
    )
    client.force_login(city.township_chief)
    html = html_of(client.get(HOME))
    assert "需拆除违建" in html and "限期清理" in html
    # Both are folded in their rows and load their forms when opened.
    for name, case in (("supervise", escalated), ("resume", backlog)):
        url = f"/dispatch/op/{name}/{case.reference}/?township=110101015"
        assert f'hx-get="{url}"' in html
        assert f'id="op-{name}-{case.reference}"' in html_of(client.get(url))
    assert post_op(client, HOME, "resume", backlog, note="").status_code == 302
    assert Case.objects.get(pk=backlog.pk).status == Case.Status.FILED


# Long queues --------------------------------------------------------------------------------

QUEUE = "/dispatch/queue/reported/"


def reports(city, n: int) -> list[Case]:
    """`n` reported cases, in the order the queue lists them (oldest first)."""
    return [reported_case(city, description=f"第{k + 1}处游商占道") for k in range(n)]


def rows_of(html: str, listing: str) -> list[str]:
    """The references of the rows in one list of a page, in order."""
    start = html.index(f'id="list-{listing}"')
    end = (
        html.index('class="queue-pager"', start) if 'class="queue-pager"' in html[start:] else None
    )
    return re.findall(r'<article class="card queue-item" id="q-([A-Z0-9-]+)"', html[start:end])


def test_a_long_queue_shows_its_first_page_its_count_and_the_next_page(client, whistle_city):
    city = whistle_city
    cases = reports(city, QUEUE_PAGE + 3)
    client.force_login(city.dispatcher)
    html = html_of(client.get(HOME))
    # The first page, and how many there are in all: in the nav, the heading and the pager.
    assert rows_of(html, "reported") == [c.reference for c in cases[:QUEUE_PAGE]]
    assert '<a href="#reported">待立案 <span class="count">23</span></a>' in html
    assert "第 1–20 件，共 23 件" in html
    # The next page is a link that works without JavaScript and, with htmx, takes the
    # list's place.
    nxt = f"{QUEUE}?township=110101015&amp;page=2"
    assert (
        f'<a class="btn" rel="next" href="{nxt}" hx-get="{nxt}" hx-target="#list-reported" '
        'hx-select="#list-reported" hx-swap="outerHTML show:#list-reported:top">后 3 件</a>'
    ) in html
    page = html_of(client.get(f"{QUEUE}?township=110101015&page=2"))
    assert "<title>待立案 · 指挥中心 · 龙潭街道" in page
    assert rows_of(page, "reported") == [c.reference for c in cases[QUEUE_PAGE:]]
    assert "第 21–23 件，共 23 件" in page and 'rel="prev"' in page and 'rel="next"' not in page
    # Its forms post back to it.
    assert f'action="{QUEUE}?township=110101015&amp;page=2#op-file-' in page
    # Asked by htmx, the answer is the list alone.
    response = client.get(f"{QUEUE}?township=110101015&page=2", headers={"HX-Request": "true"})
    fragment = html_of(response)
    assert fragment.lstrip().startswith('<div class="queue-list" id="list-reported">')
    assert "<html" not in fragment
    assert rows_of(fragment, "reported") == [c.reference for c in cases[QUEUE_PAGE:]]
    assert "HX-Request" in response["Vary"] and response["Cache-Control"] == "private, no-store"


def test_a_page_past_the_end_or_not_a_number_shows_the_last_or_the_first(client, whistle_city):
    city = whistle_city
    cases = reports(city, QUEUE_PAGE + 1)
    client.force_login(city.dispatcher)
    last = html_of(client.get(f"{QUEUE}?page=99"))
    assert rows_of(last, "reported") == [cases[-1].reference]
    for asked in ("0", "-1", "二", ""):
        first = html_of(client.get(f"{QUEUE}?page={asked}"))
        assert rows_of(first, "reported")[0] == cases[0].reference, asked
    empty = html_of(client.get("/dispatch/queue/backlog/"))
    assert "该队列中没有待办事项" in empty and 'class="queue-pager"' not in empty


def test_only_the_first_reports_carry_their_filing_form_open(client, whistle_city):
    city = whistle_city
    cases = reports(city, FILE_INLINE + 2)
    client.force_login(city.dispatcher)
    html = html_of(client.get(HOME))
    for n, case in enumerate(cases):
        row = html[html.index(f'id="q-{case.reference}"') :]
        row = row[: row.index("</article>")]
        lazy = f'hx-get="/dispatch/op/file/{case.reference}/?township=110101015"'
        if n < FILE_INLINE:
            assert f'name="file-{case.reference}-category"' in row and lazy not in row
        else:
            # Folded: loaded when opened, or, without JavaScript, filed on the case's page.
            assert f'name="file-{case.reference}-category"' not in row
            assert f'{lazy} hx-trigger="toggle once"' in row
            assert f'<a class="btn" href="/cases/{case.reference}/">' in row
    late = cases[-1]
    form = html_of(client.get(f"/dispatch/op/file/{late.reference}/?township=110101015"))
    assert f'name="file-{late.reference}-category"' in form
    assert f'<option value="{city.street_vending.pk}"' in form
    # A filing posted from a folded row that fails comes back open in its row, with the error.
    html = html_of(post_op(client, HOME, "file", late, category=""))
    row = html[html.index(f'id="q-{late.reference}"') :]
    row = row[: row.index("</article>")]
    assert '<details class="op-folded" open>' in row and "立案前请先选择问题分类" in row
    response = post_op(client, HOME, "file", late, category=city.street_vending.pk)
    assert response.status_code == 302
    assert Case.objects.get(pk=late.pk).status == Case.Status.FILED


def test_a_page_of_a_queue_files_and_comes_back_to_itself(client, whistle_city):
    city = whistle_city
    cases = reports(city, QUEUE_PAGE + 2)
    client.force_login(city.dispatcher)
    url = f"{QUEUE}?township=110101015&page=2"
    late = cases[-1]
    html = html_of(post_op(client, url, "file", late, category=""))
    row = html[html.index(f'id="q-{late.reference}"') :]
    assert "立案前请先选择问题分类" in row[: row.index("</article>")]
    response = post_op(client, url, "file", late, category=city.street_vending.pk)
    assert response.status_code == 302
    assert response["Location"] == f"{url}#q-{late.reference}"
    assert Case.objects.get(pk=late.pk).status == Case.Status.FILED
    page = html_of(client.get(url))
    assert f"案件 {late.reference} 已立案" in page
    assert rows_of(page, "reported") == [cases[QUEUE_PAGE].reference]
    # A case of another township is not posted through this one.
    dongsi_case = actions.report_case(
        city.dongsi_steward, description="东四六条垃圾", lon=116.414, lat=39.925
    )
    assert post_op(client, url, "reject", dongsi_case, reason="不是").status_code == 400
    assert Case.objects.get(pk=dongsi_case.pk).status == Case.Status.REPORTED


def row_of(html: str, case: Case) -> str:
    row = html[html.index(f'id="q-{case.reference}"') :]
    return row[: row.index("</article>")]


def test_a_folded_form_opened_past_the_first_page_posts_back_to_its_page(client, whistle_city):
    city = whistle_city
    cases = reports(city, QUEUE_PAGE + FILE_INLINE + 2)
    client.force_login(city.dispatcher)
    late = cases[QUEUE_PAGE + FILE_INLINE]
    url = f"{QUEUE}?township=110101015&page=2"
    lazy = f"/dispatch/op/file/{late.reference}/?township=110101015&queue=reported&page=2"
    # The second page, as its own page (without htmx) and as the list htmx puts in place of
    # the command centre's: the folded filing form is loaded for that page.
    for headers in ({}, {"HX-Request": "true"}):
        row = row_of(html_of(client.get(url, headers=headers)), late)
        assert f'name="file-{late.reference}-category"' not in row
        assert f'hx-get="{lazy.replace("&", "&amp;")}" hx-trigger="toggle once"' in row
    # Opened, it posts back to that page, as the open forms above it do.
    form = html_of(client.get(lazy))
    assert f'action="{QUEUE}?township=110101015&amp;page=2#op-file-{late.reference}"' in form
    # A refusal shows in its row on that page, the form open; nothing at the top.
    html = html_of(post_op(client, url, "file", late, category=""))
    assert rows_of(html, "reported") == [c.reference for c in cases[QUEUE_PAGE:]]
    row = row_of(html, late)
    assert '<details class="op-folded" open>' in row and "立案前请先选择问题分类" in row
    assert "立案前请先选择问题分类" not in html[: html.index('id="list-reported"')]
    # Filed, the dispatcher is back on that page, at the row's place.
    response = post_op(client, url, "file", late, category=city.street_vending.pk)
    assert response["Location"] == f"{url}#q-{late.reference}"
    assert Case.objects.get(pk=late.pk).status == Case.Status.FILED
    # A folded form of the command centre's first page still posts to the command centre;
    # one asked for a queue that does not exist is not found.
    first = cases[FILE_INLINE]
    row = row_of(html_of(client.get(HOME)), first)
    assert f'hx-get="/dispatch/op/file/{first.reference}/?township=110101015"' in row
    form = html_of(client.get(f"/dispatch/op/file/{first.reference}/?township=110101015"))
    assert f'action="/dispatch/#op-file-{first.reference}"' in form
    missing = f"/dispatch/op/file/{first.reference}/?township=110101015&queue=nothing"
    assert client.get(missing).status_code == 404
    # A page number that is not one is the first page.
    odd = html_of(client.get(f"/dispatch/op/file/{first.reference}/?queue=reported&page=x"))
    assert f'action="{QUEUE}?township=110101015#op-file-{first.reference}"' in odd


def another_dispatcher(city):
    """A second dispatcher of the township, acting while the first has a page open."""
    return make_person("longtan-dispatcher-2", Role.DISPATCHER, jurisdiction=city.longtan)


def top_of(html: str) -> str:
    """The page above its first list: where a refusal without a row shows."""
    return html[: html.index('class="queue-list"')]


def test_a_refusal_for_a_case_moved_to_another_page_names_it_at_the_top(client, whistle_city):
    city = whistle_city
    cases = reports(city, QUEUE_PAGE + 5)
    client.force_login(city.dispatcher)
    url = f"{QUEUE}?township=110101015&page=2"
    moved = cases[QUEUE_PAGE]
    assert moved.reference in rows_of(html_of(client.get(url)), "reported")
    # Another dispatcher files three cases of the first page: the case opened on the
    # second page moves up to the first.
    other = another_dispatcher(city)
    for case in cases[:3]:
        actions.file_case(other, case, category=city.street_vending)
    html = html_of(post_op(client, url, "reject", moved, reason=""))
    assert moved.reference not in rows_of(html, "reported")
    top = top_of(html)
    assert 'class="op-refusal"' in top and 'role="alert"' in top
    assert (
        f'案件 <a class="mono" href="/cases/{moved.reference}/">{moved.reference}</a> '
        "的“不予立案”未能执行。" in top
    )
    assert "这个字段是必填项" in top
    assert "队列已有变化：该案件已不在本页，现为“已上报”。" in top
    assert f'<a class="btn" href="/cases/{moved.reference}/">打开案件 {moved.reference}</a>' in top
    # Said once: not again among the page's messages.
    assert top.count("这个字段是必填项") == 1
    assert Case.objects.get(pk=moved.pk).status == Case.Status.REPORTED


def test_a_refusal_for_a_case_that_left_the_queue_names_it_in_english(client, whistle_city):
    city = whistle_city
    cases = reports(city, QUEUE_PAGE + 2)
    client.force_login(city.dispatcher)
    client.cookies["django_language"] = "en"
    url = f"{QUEUE}?township=110101015&page=2"
    gone = cases[-1]
    actions.file_case(another_dispatcher(city), gone, category=city.street_vending)
    html = html_of(post_op(client, url, "reject", gone, reason="不是城市管理问题"))
    assert gone.reference not in rows_of(html, "reported")
    top = top_of(html)
    assert (
        f'“Reject the report” was not done on case <a class="mono" href="/cases/{gone.reference}/">'
        f"{gone.reference}</a>." in top
    )
    assert "You cannot reject this case: the case has the status “Filed”." in top
    assert "the case is no longer on this page and is now “filed”" in top
    assert f'<a class="btn" href="/cases/{gone.reference}/">Open case {gone.reference}</a>' in top
    assert Case.objects.get(pk=gone.pk).status == Case.Status.FILED


def test_a_refusal_for_a_case_still_on_the_page_shows_in_its_row(client, whistle_city):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city)
    urban = summonses[city.urban.pk]
    client.force_login(city.dispatcher)
    # Another dispatcher releases the department first: the button is gone from the row,
    # the case is still at work.
    actions.release(another_dispatcher(city), urban, note="已处置完毕")
    html = html_of(post_op(client, HOME, "release", urban, note=""))
    row = row_of(html, case)
    assert 'class="op-refusal"' in row and "“解除任务”未能执行。" in row
    assert 'class="op-refusal"' not in top_of(html)
    assert f'id="refusal-{case.reference}"' in row and "autofocus" in row
    # Where the form was: among the row's operations, in the released department's line,
    # not under the case's summary nor in the other department's line.
    summary, ops = row.split('<div class="queue-ops">')
    assert "op-refusal" not in summary
    assert 'class="op-refusal"' in line_of(ops, city.urban.name)
    assert "op-refusal" not in line_of(ops, city.police.name)


def line_of(ops: str, department: str) -> str:
    """A department's line among the operations of a row of the cases at work."""
    line = ops[ops.index(f'<li class="queue-summons"><span>{department} ') :]
    return line[: line.index("</li>")]


def test_a_refused_case_operation_shows_above_where_its_form_was(client, whistle_city):
    city = whistle_city
    case, _whistle, _summonses = whistled_case(city)
    client.force_login(city.dispatcher)
    # Posted from a page kept open: neither department has come, the case cannot be
    # marked resolved; the row says so where its form stood, above what the page offers
    # now in its place.
    html = html_of(post_op(client, HOME, "mark_handled", case, note="已处置"))
    row = row_of(html, case)
    summary, ops = row.split('<div class="queue-ops">')
    assert "op-refusal" not in summary
    assert "op-refusal" not in ops[: ops.index("</ul>")]
    refusal = ops.index('class="op-refusal"')
    assert ops.index("</ul>") < refusal < ops.index('class="op-waiting muted"')
    assert "“标记已处置”未能执行。" in ops
    assert 'role="alert"' in ops[refusal - 200 : refusal + 200]
    assert Case.objects.get(pk=case.pk).status == Case.Status.WHISTLED


def test_a_queue_page_is_for_the_command_centre_of_its_township(client, whistle_city):
    city = whistle_city
    reports(city, 1)
    client.force_login(city.dispatcher)
    assert client.get("/dispatch/queue/no_such_queue/").status_code == 404
    assert client.get(f"{QUEUE}?township=110101001").status_code == 404
    for name in QUEUES:
        assert client.get(f"/dispatch/queue/{name}/").status_code == 200, name
    client.force_login(city.urban_officer)
    assert client.get(QUEUE).status_code == 403
    client.logout()
    response = client.get(QUEUE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_queue_is_counted_from_its_rows_or_apart_when_they_fill_the_page(whistle_city):
    city = whistle_city
    for text in ("限期清理", "限期整改"):
        whistled, _whistle, _summonses = whistled_case(city)
        actions.issue_supervision_notice(
            city.township_chief,
            whistled,
            department=city.urban,
            text=text,
            due_at=NOW + timedelta(hours=4),
        )
    queues = TownshipQueues(city.township_chief, city.longtan, NOW)
    with CaptureQueriesContext(connection) as roomy:
        page = queues.page("notices", 1, size=5)
    assert (page.count, len(page.rows), len(roomy.captured_queries)) == (2, 2, 1)
    with CaptureQueriesContext(connection) as full:
        page = queues.page("notices", 1, size=1)
    assert (page.count, len(page.rows), page.pages, len(full.captured_queries)) == (2, 1, 2, 2)
    second = queues.page("notices", 2, size=1)
    assert (second.first, second.last, second.has_previous, second.has_next) == (2, 2, True, False)
    assert queues.case_counts()["at_work"] == 2 == queues.count("at_work")
    # An empty queue is counted from its empty first page.
    with CaptureQueriesContext(connection) as empty:
        page = queues.page("declines", 1)
    assert (page.count, page.rows, len(empty.captured_queries)) == (0, [], 1)


def test_every_queue_page_runs_a_fixed_number_of_queries(client, whistle_city):
    city = whistle_city
    busy_township(city, 1)
    client.force_login(city.township_chief)
    few = {name: queries_of(client, f"/dispatch/queue/{name}/") for name in QUEUES}
    busy_township(city, 4)
    many = {name: queries_of(client, f"/dispatch/queue/{name}/") for name in QUEUES}
    assert many == few


# The whistle --------------------------------------------------------------------------------


def whistle_url(case) -> str:
    return f"/dispatch/whistle/{case.reference}/"


def test_the_whistle_page_suggests_core_then_stationed_then_on_call_with_people(
    client, whistle_city
):
    city = whistle_city
    city.street_vending.responsible_sectors.add(city.fire.sector)
    case = filed_case(city)
    client.force_login(city.dispatcher)
    html = html_of(client.get(whistle_url(case)))
    urban, police, fire = (html.index(d.name) for d in (city.urban, city.police, city.fire))
    assert urban < police < fire
    assert "urban-officer" in html and "13800000001" in html  # on duty, with the phone
    assert "police-officer" in html and "fire-officer" in html
    assert "30 自然分钟内到场" in html  # the district's rule for routine whistles
    assert "15 自然分钟内到场" in html  # and for emergencies


def test_the_whistle_page_in_english_names_the_kinds_and_their_time_limits_plainly(
    client, whistle_city
):
    city = whistle_city
    case = filed_case(city)
    client.force_login(city.dispatcher)
    html = html_of(client.get(whistle_url(case), HTTP_ACCEPT_LANGUAGE="en"))
    assert "<strong>Routine whistle</strong>" in html
    assert "acknowledge within 10 minutes, arrive on site within 30 minutes" in html
    assert "natural" not in html


def test_blowing_the_whistle_on_two_departments_with_a_meeting_point(client, whistle_city):
    city = whistle_city
    case = filed_case(city)
    client.force_login(city.dispatcher)
    response = post_op(
        client,
        whistle_url(case),
        "whistle",
        case,
        kind="emergency",
        departments=[city.urban.pk, city.police.pk],
        meeting_point="市场东口",
        meeting_lon="116.4322",
        meeting_lat="39.8731",
        note="请带执法记录仪",
    )
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.reference}/"
    whistle = Whistle.objects.get(case=case)
    assert whistle.kind == "emergency" and whistle.meeting_lon == pytest.approx(116.4322)
    assert set(whistle.summonses.values_list("department_id", flat=True)) == {
        city.urban.pk,
        city.police.pk,
    }


def test_a_whistle_without_departments_or_with_half_a_pin_is_refused(client, whistle_city):
    city = whistle_city
    case = filed_case(city)
    client.force_login(city.dispatcher)
    html = html_of(
        post_op(client, whistle_url(case), "whistle", case, kind="routine", note="请带记录仪")
    )
    assert "请至少选择一个召集部门" in html and "请带记录仪</textarea>" in html
    html = html_of(
        post_op(
            client,
            whistle_url(case),
            "whistle",
            case,
            kind="routine",
            departments=[city.urban.pk],
            meeting_lon="116.43",
            meeting_lat="",
        )
    )
    assert "请在地图上标出集合点，或清除标记" in html
    # The department chosen stays chosen.
    assert re.search(rf'value="{city.urban.pk}"[^>]*checked', html)
    html = html_of(
        post_op(
            client, whistle_url(case), "whistle", case, kind="loud", departments=[city.urban.pk]
        )
    )
    assert "选择一个有效的选项" in html
    assert not Whistle.objects.filter(case=case).exists()


def test_the_whistle_page_is_for_the_township_office_and_filed_cases(client, whistle_city):
    city = whistle_city
    case = filed_case(city)
    client.force_login(city.urban_officer)
    assert client.get(whistle_url(case)).status_code == 403
    client.force_login(city.dongsi_dispatcher)
    assert client.get(whistle_url(case)).status_code == 404
    client.force_login(city.dispatcher)
    reported = reported_case(city)
    response = client.get(whistle_url(reported))
    assert response.status_code == 302 and response["Location"] == f"/cases/{reported.reference}/"


# The wall -----------------------------------------------------------------------------------


def test_the_wall_shows_the_map_and_the_board_full_screen(client, whistle_city):
    city = whistle_city
    whistled_case(city)
    client.force_login(city.dispatcher)
    html = html_of(client.get("/dispatch/wall/"))
    assert '<body class="layout-wall"' in html
    assert "data-map" in html
    assert 'hx-get="/dispatch/board/?township=110101015&amp;layout=wall"' in html
    client.force_login(city.urban_officer)
    assert client.get("/dispatch/wall/").status_code == 403


def test_the_wall_has_no_site_bar_or_navigation_only_a_small_way_back_to_the_command_centre(
    client, whistle_city
):
    city = whistle_city
    client.force_login(city.dispatcher)
    for language, title, back in (
        ("zh-hans", f"指挥中心 · {city.longtan.name}", "返回指挥中心"),
        ("en", f"Command centre · {city.longtan.name}", "Back to the command centre"),
    ):
        html = html_of(client.get("/dispatch/wall/", HTTP_ACCEPT_LANGUAGE=language))
        assert 'class="topbar"' not in html and "<nav" not in html and "sitemenu" not in html
        assert f'<h1 class="wall-title">{title}</h1>' in html
        assert f'<a class="wall-back" href="/dispatch/">{back}</a>' in html
        # The board in it still polls itself.
        assert 'hx-trigger="every 5s"' in html
    # The command centre itself keeps the site's bar and its menus.
    home = html_of(client.get(HOME))
    assert 'class="topbar"' in home and "<nav" in home and "wall-back" not in home


def listed_references(html: str, start: str, end: str | None = None) -> list[str]:
    part = html[html.index(start) :]
    if end is not None:
        part = part[: part.index(end)]
    return re.findall(r'<a class="mono" href="/cases/[^"]+/">([^<]+)</a>', part)


def test_the_board_and_the_wall_list_the_most_urgent_first(client, whistle_city, _clock):
    city = whistle_city
    # Whistled now on a case reported 50 minutes ago: its deadlines are still ahead.
    early = filed_case(city, at=NOW - timedelta(minutes=50))
    actions.blow_whistle(city.dispatcher, early, kind="routine", departments=[city.urban])
    # Reported and whistled 40 minutes ago, never acknowledged: overdue, so it leads.
    late = whistled_case(city, at=NOW - timedelta(minutes=40))[0]
    # More filed cases than a state lists; the last reported falls due first, the first
    # reported last: the board lists those nearest their time limit, nearest first.
    filed = [filed_case(city, at=NOW - timedelta(minutes=30 - n)) for n in range(12)]
    for n, case in enumerate(filed):
        Case.objects.filter(pk=case.pk).update(resolve_due_at=NOW + timedelta(days=12 - n))
    client.force_login(city.dispatcher)
    for html in (
        html_of(client.get(BOARD, **HX)),
        html_of(client.get(f"{BOARD}?layout=wall", **HX)),
        html_of(client.get("/dispatch/wall/")),
    ):
        whistles = listed_references(html, "board-whistles", "按状态列出的未结案件")
        assert whistles == [late.reference, early.reference]
        listed = listed_references(html, "按状态列出的未结案件")
        assert listed == [c.reference for c in reversed(filed)][:BOARD_GROUP_LIMIT]


def test_the_command_centre_speaks_english(client, whistle_city):
    city = whistle_city
    reported_case(city)
    client.force_login(city.dispatcher)
    html = html_of(client.get(HOME, HTTP_ACCEPT_LANGUAGE="en"))
    for words in (
        "Command centre",
        "Reported: file, reject or merge",
        "File the case",
        "Whistles sounding",
        "Open backlog",
    ):
        assert words in html, words
    for chinese in ("指挥中心", "立案", "挂账", "正在吹哨"):
        assert chinese not in html, chinese


def test_a_chiefs_office_clerk_sees_the_lists_without_the_dispatchers_buttons(client, whistle_city):
    city = whistle_city
    case = reported_case(city)
    clerk = make_person("office-clerk", Role.CHIEFS_OFFICE, jurisdiction=city.longtan)
    client.force_login(clerk)
    html = html_of(client.get(HOME))
    assert case.reference in html
    assert f'id="op-file-{case.reference}"' not in html


# The category picker -------------------------------------------------------------------------


def _picker(html: str, case) -> str:
    start = html.index(f'name="file-{case.reference}-category"')
    return html[start : html.index("</select>", start)]


def _options(picker: str) -> list[tuple[str, str, bool]]:
    """(value, text, selected) of each option that names a category."""
    return [
        (value, text.strip(), bool(selected))
        for value, selected, text in re.findall(
            r'<option value="(\d+)"( selected)?>([^<]*)</option>', picker
        )
    ]


def test_the_category_picker_groups_by_major_class_with_each_line_unique(client, whistle_city):
    city = whistle_city
    # A component class with the same 2-digit codes as the events' 05: its 0501 is another
    # problem.
    buildings = MajorClass.objects.create(
        district=city.district, kind=CategoryKind.COMPONENT, code="05", name="房屋土地"
    )
    shelters = Category.objects.create(major=buildings, code="01", name="人防工事")
    # Another district with the very same codes.
    chaoyang = Jurisdiction.objects.create(
        level="district", code="110105", name="朝阳区", parent=city.city.city
    )
    elsewhere = MajorClass.objects.create(
        district=chaoyang, kind=CategoryKind.EVENT, code="05", name="街面秩序"
    )
    Category.objects.create(major=elsewhere, code="01", name="朝阳的无照经营")
    case = reported_case(city)
    client.force_login(city.dispatcher)
    picker = _picker(html_of(client.get(HOME)), case)
    groups = re.findall(r'<optgroup label="([^"]*)">', picker)
    # Components before events, each by its code, as the national standard lists them.
    assert groups == ["部件 05 房屋土地", "事件 01 市容环境", "事件 05 街面秩序"]
    texts = [text for _value, text, _selected in _options(picker)]
    assert len(texts) == len(set(texts)) == 3
    assert "事件 0501 无照经营游商" in texts and "部件 0501 人防工事" in texts
    assert f'value="{shelters.pk}"' in picker
    assert "朝阳" not in picker


def test_the_category_the_description_suggests_comes_chosen(client, whistle_city):
    city = whistle_city
    city.street_vending.keywords = "游商,摆摊"
    city.street_vending.save(update_fields=["keywords"])
    city.exposed_garbage.keywords = "垃圾"
    city.exposed_garbage.save(update_fields=["keywords"])
    case = reported_case(city, description="人民市场东巷有游商摆摊占道")
    client.force_login(city.dispatcher)
    html = html_of(client.get(HOME))
    chosen = [value for value, _text, selected in _options(_picker(html, case)) if selected]
    assert chosen == [str(city.street_vending.pk)]
    assert "根据描述推荐（摆摊、游商）" in html


def test_the_category_the_reporter_chose_comes_chosen_over_the_suggestion(client, whistle_city):
    city = whistle_city
    city.street_vending.keywords = "游商"
    city.street_vending.save(update_fields=["keywords"])
    case = reported_case(city, description="游商留下的垃圾", category=city.exposed_garbage)
    client.force_login(city.dispatcher)
    html = html_of(client.get(HOME))
    chosen = [value for value, _text, selected in _options(_picker(html, case)) if selected]
    assert chosen == [str(city.exposed_garbage.pk)]
    assert "根据描述推荐" not in html


def test_without_a_suggestion_nothing_comes_chosen(client, whistle_city):
    city = whistle_city
    case = reported_case(city, description="这里有个问题")
    client.force_login(city.dispatcher)
    picker = _picker(html_of(client.get(HOME)), case)
    assert not any(selected for _value, _text, selected in _options(picker))
