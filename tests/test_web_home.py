"""The home page tells the truth: what is due soon is not yet due, what is overdue says so,
each with a link; an officer sees their own department's work; a signed-in resident sees
their own reports; the maps say what their colours mean."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.conftest import make_person
from tests.fixtures_cases import (
    ON_THE_LANE,
    beijing,
    filed_case,
    reported_on_site,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from tests.fixtures_street import street_fixture  # noqa: F401  (fixture)
from tests.fixtures_web import (  # noqa: F401  (fixtures)
    dispatcher_fixture,
    make_case,
    make_summons,
)
from whistle.cases import actions
from whistle.cases.models import Case
from whistle.organisation.models import Role

NOON = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)  # 12:00 in Beijing
NOW = beijing(2026, 3, 10, 10, 0)


def page(client, url="/", **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, start: str, end: str) -> str:
    part = html[html.index(start) :]
    return part[: part.index(end)]


# Due soon and overdue --------------------------------------------------------------------------


@pytest.fixture
def morning(small_city):
    """In 龙潭 at noon: one summons overdue since 11:50, one due at 12:10, one at 12:40."""
    early = NOON - timedelta(minutes=40)
    late_case = make_case(small_city.longtan, lane=small_city.renmin_lane, at=early)
    late = make_summons(late_case, small_city.police, at=early, arrive_in=timedelta(minutes=30))
    late.acknowledged_at = early + timedelta(minutes=2)
    late.save(update_fields=["acknowledged_at"])
    soon_case = make_case(small_city.longtan, at=NOON)
    make_summons(soon_case, small_city.urban_management, at=NOON, arrive_in=None)
    later_case = make_case(small_city.longtan, at=NOON + timedelta(minutes=30))
    make_summons(later_case, small_city.police, at=NOON + timedelta(minutes=30), arrive_in=None)
    return {"late": late_case, "soon": soon_case, "later": later_case}


def test_due_next_lists_only_what_is_not_yet_due_and_overdue_is_listed_as_overdue(
    client, small_city, dispatcher, morning
):
    client.force_login(dispatcher)
    with time_machine.travel(NOON, tick=False):
        html = page(client, "/live/area-summary/", HTTP_ACCEPT_LANGUAGE="en")
    overdue = section(html, ">Overdue <", "Due next")
    due = section(html, "Due next", 'class="live-updated"')
    assert morning["late"].reference in overdue
    assert "badge-overdue" in overdue
    assert morning["late"].reference not in due
    assert re.findall(r'data-name="(\w+)"', due) == [
        morning["soon"].reference,
        morning["later"].reference,
    ]
    # Each deadline still ahead of noon.
    for deadline in re.findall(r'data-deadline="([^"]+)"', due):
        assert datetime.fromisoformat(deadline) >= NOON
    # Every row links to its case.
    for case in morning.values():
        assert f'href="/cases/{case.reference}/"' in html


def test_with_nothing_overdue_there_is_no_overdue_list(client, small_city, dispatcher, morning):
    client.force_login(dispatcher)
    with time_machine.travel(NOON - timedelta(minutes=15), tick=False):
        html = page(client, "/live/area-summary/", HTTP_ACCEPT_LANGUAGE="en")
    assert ">Overdue <" not in html
    assert morning["late"].reference in section(html, "Due next", 'class="live-updated"')


def test_once_every_deadline_passed_nothing_is_listed_as_due_soon(
    client, small_city, dispatcher, morning
):
    client.force_login(dispatcher)
    with time_machine.travel(NOON + timedelta(days=3), tick=False):
        html = page(client, "/live/area-summary/", HTTP_ACCEPT_LANGUAGE="en")
    due = section(html, "Due next", 'class="live-updated"')
    assert "data-deadline" not in due
    assert "Nothing else is due in your area." in due
    assert all(c.reference in section(html, ">Overdue <", "Due next") for c in morning.values())


# An officer's home: their department's work --------------------------------------------------


def test_an_officers_home_shows_their_own_departments_summonses(client, whistle_city):
    city = whistle_city
    with time_machine.travel(NOW, tick=False):
        case, _whistle, summonses = whistled_case(city)
        police_only, _whistle, _summonses = whistled_case(city, departments=[city.police])
        client.force_login(city.urban_officer)
        html = page(client)
    work = section(html, 'id="department-work"', "</section>")
    assert "本部门手头的召集" in work
    assert f'href="/cases/{case.reference}/#summons-{summonses[city.urban.pk].uuid.hex}"' in work
    assert police_only.reference not in work
    assert "其中 1 项等待本部门处理。" in work
    assert 'href="/department/"' in work
    # First thing on the page, before the list of pages.
    assert html.index('id="department-work"') < html.index('id="pages-title"')


def test_an_officers_home_tells_the_summonses_on_hand_from_those_waiting_for_it(
    client, whistle_city
):
    city = whistle_city
    with time_machine.travel(NOW, tick=False):
        whistled_case(city, departments=[city.urban])
        _case, _whistle, done = whistled_case(city, departments=[city.urban])
        summons = done[city.urban.pk]
        reported_on_site(city, summons)
        client.force_login(city.urban_officer)
        html = page(client, HTTP_ACCEPT_LANGUAGE="en")
    work = section(html, 'id="department-work"', "</section>")
    # Two on hand; one waits for the township, so one waits for the department.
    assert """>Your department's summonses on hand <span class="count">2</span>""" in work
    assert "1 of them waits for your department to act." in work


def test_an_officers_home_lists_running_deadlines_before_overdue_ones(client, whistle_city):
    city = whistle_city
    with time_machine.travel(NOW - timedelta(minutes=30), tick=False):
        late, _whistle, _summonses = whistled_case(city, departments=[city.urban])
    with time_machine.travel(NOW, tick=False):
        fresh, _whistle, _summonses = whistled_case(city, departments=[city.urban])
        client.force_login(city.urban_officer)
        work = section(page(client), 'id="department-work"', "</section>")
    assert work.index(fresh.reference) < work.index(late.reference)
    late_row = work[work.index(late.reference) :]
    assert "badge-overdue" in late_row[: late_row.index("</li>")]


def test_others_see_no_department_section(client, whistle_city):
    client.force_login(whistle_city.dispatcher)
    assert 'id="department-work"' not in page(client)


def test_an_officers_home_costs_a_fixed_number_of_queries(
    client, whistle_city, django_assert_max_num_queries
):
    city = whistle_city
    with time_machine.travel(NOW, tick=False):
        for _n in range(12):
            whistled_case(city)
        client.force_login(city.urban_officer)
        with django_assert_max_num_queries(16):
            html = page(client)
    work = section(html, 'id="department-work"', "</section>")
    assert work.count('class="work-item') == 8


# A resident's home: their reports --------------------------------------------------------------


def test_a_signed_in_residents_report_is_theirs_and_on_their_home_page(client, street):
    zhao = make_person("zhao-lei", Role.RESIDENT)
    client.force_login(zhao)
    lon, lat = ON_THE_LANE
    response = client.post(
        "/report/",
        {
            "description": "夕照寺中街路边堆了很多建筑垃圾",
            "lon": str(lon),
            "lat": str(lat),
            "name": "赵磊",
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.reporter == zhao
    # The trail names the account, in the role of a resident: what lets them rate it later.
    first = case.events.get(seq=1)
    assert first.actor == zhao and first.actor_role == Role.RESIDENT
    html = page(client)
    reports = section(html, 'id="my-reports"', "</section>")
    assert case.reference in reports
    assert "已上报" in reports
    assert f'href="/report/follow/{case.reference}/"' in reports
    # Someone else's home does not list it.
    client.force_login(make_person("qian-hui", Role.RESIDENT))
    assert case.reference not in page(client)


def test_a_report_without_an_account_belongs_to_no_one(client, street):
    lon, lat = ON_THE_LANE
    case = actions.report_resident_case(description="路边堆了建筑垃圾", lon=lon, lat=lat).case
    assert case.reporter is None


def test_a_staff_members_own_report_links_to_its_case_page(client, whistle_city):
    city = whistle_city
    with time_machine.travel(NOW, tick=False):
        case = filed_case(city)
    client.force_login(city.steward)
    reports = section(page(client), 'id="my-reports"', "</section>")
    assert f'href="/cases/{case.reference}/"' in reports


# Maps with a legend -----------------------------------------------------------------------------


def test_the_map_says_what_each_colour_and_line_means(client, small_city, dispatcher):
    client.force_login(dispatcher)
    for url in ("/", "/wall/"):
        html = page(client, url)
        legend = section(html, 'class="map-legend"', "</ul>")
        assert "图例" in legend
        assert 'data-legend="case" data-value="open"' in legend
        assert "已上报、已立案、已派遣" in legend
        assert 'data-legend="case" data-value="summoned"' in legend and "已吹哨" in legend
        assert 'data-legend="case" data-value="backlog"' in legend
        assert 'data-legend="lane"' in legend and "街巷（中心线）" in legend
        assert "街乡边界" in legend and "区界" in legend
    # In English the statuses of a colour are listed with English commas.
    legend = section(page(client, "/", HTTP_ACCEPT_LANGUAGE="en"), 'class="map-legend"', "</ul>")
    assert "Reported, filed, dispatched" in legend and "、" not in legend


def test_a_township_map_names_the_township_and_community_boundaries(client, whistle_city):
    client.force_login(whistle_city.dispatcher)
    html = page(client, "/dispatch/wall/")
    legend = section(html, 'class="map-legend"', "</ul>")
    assert "街乡边界" in legend and "社区/村边界" in legend and "区界" not in legend


def test_a_resident_is_shown_no_figures_or_map_of_an_area_they_do_not_have(client, street):
    client.force_login(make_person("zhao-lei", Role.RESIDENT))
    html = page(client)
    assert 'id="area-summary"' not in html and "data-map" not in html
    assert 'href="/report/follow/"' in html
    assert 'href="/report/"' in html  # the way to report, among their pages
