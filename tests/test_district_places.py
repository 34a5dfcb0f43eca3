"""Hot spots and the chiefs' assessment: the cases of a period on the map in cells of about
100 m with the recurring-problem candidates (每月一题), and each chief's patrols against the
district's requirement with the problems they found; who may open them; query counts.

In 东城区 (tests/fixtures_cases.py): July 2026 brings four street-vending cases to 人民市场东巷
(June had one, so it rises) and three garbage cases to 东四六条 (as many as in June, so it
does not). The lane chief of 人民市场东巷 patrols it twice in July and reports one case.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
import time_machine

from tests.conftest import make_person
from tests.fixtures_cases import (
    BEIJING,
    ON_THE_LANE,
    filed_case,
    reported_case,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from tests.fixtures_district import CENTRES
from whistle.cases import actions
from whistle.organisation.models import Role
from whistle.patrols.actions import end_patrol, record_positions, start_patrol

HOTSPOTS = "/district/hotspots/"
CHIEFS = "/district/chiefs/"
IN_DONGSI = (116.413, 39.9251)

pytestmark = pytest.mark.django_db


def bj(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BEIJING)


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def july(whistle_city):
    """The cases of June and July 2026; the clock on 3 August."""
    city = whistle_city
    dongsi_garbage = city.exposed_garbage
    for day in (2, 9, 16, 23):
        filed_case(city, at=bj(7, day, 9), description="游商占道经营")
    filed_case(city, at=bj(6, 10, 9), description="游商占道经营")
    dongsi = make_person("dongsi-reporter", Role.STREET_CHIEF, lane=city.city.dongsi_lane)
    for month in (6, 7):
        for day in (3, 13, 23):
            case = actions.report_case(
                dongsi,
                description="六条胡同口暴露垃圾",
                lon=IN_DONGSI[0],
                lat=IN_DONGSI[1],
                now=bj(month, day, 15),
            )
            actions.file_case(
                city.dongsi_dispatcher, case, category=dongsi_garbage, now=bj(month, day, 16)
            )
    # A report the township rejected is not a problem, and counts nowhere.
    rejected = reported_case(city, at=bj(7, 20, 9), description="误报")
    actions.reject_case(city.dispatcher, rejected, reason="重复上报", now=bj(7, 20, 10))
    with time_machine.travel(bj(8, 3, 9), tick=False):
        yield city


def cells_of(html: str) -> list[dict]:
    found = re.search(r'<script id="hotspot-cells" type="application/json">(.*?)</script>', html)
    assert found
    return json.loads(found.group(1))


def test_the_district_sees_the_rising_problems_of_the_month_and_the_cases_on_the_map(client, july):
    client.force_login(july.district_office)
    html = html_of(client.get(HOTSPOTS, {"period": "2026-07", "rising": "on"}))
    spots = html[html.index('id="spots-title"') :]
    assert "人民市场东巷 · 无照经营游商" in spots
    assert "4 件" in spots and "2026年6月：1" in spots and "+3 (+300%)" in spots
    assert "东四六条" not in spots  # three in June, three in July: not rising
    cells = cells_of(html)
    assert sum(c["n"] for c in cells) == 7
    lane = next(c for c in cells if c["n"] == 4)
    assert (lane["lon"], lane["lat"]) == (round(ON_THE_LANE[0], 3), round(ON_THE_LANE[1], 3))
    assert 'data-hotspots data-source="hotspot-cells"' in html


def test_without_rising_only_every_recurring_problem_is_a_candidate(client, july):
    client.force_login(july.district_office)
    html = html_of(client.get(HOTSPOTS, {"period": "2026-07", "min_cases": "3"}))
    spots = html[html.index('id="spots-title"') :]
    assert spots.index("人民市场东巷") < spots.index("东四六条")
    # A quarter counts its months.
    html = html_of(client.get(HOTSPOTS, {"period": "2026-Q3", "min_cases": "3"}))
    assert "2026年7月：4" in html


def test_a_category_and_a_township_narrow_the_map_and_the_list(client, july):
    client.force_login(july.district_office)
    garbage = july.exposed_garbage
    html = html_of(
        client.get(HOTSPOTS, {"period": "2026-07", "category": str(garbage.pk), "min_cases": "3"})
    )
    assert sum(c["n"] for c in cells_of(html)) == 3
    assert "人民市场东巷 · " not in html
    html = html_of(client.get(HOTSPOTS, {"period": "2026-07", "township": july.longtan.code}))
    assert sum(c["n"] for c in cells_of(html)) == 4
    assert client.get(HOTSPOTS, {"township": "110105001"}).status_code == 404


def test_filters_that_cannot_be_read_say_why(client, july):
    client.force_login(july.district_office)
    html = html_of(client.get(HOTSPOTS, {"period": "2026-07", "min_cases": "0", "category": "x"}))
    assert "至少案件数须为 1 至 100 之间的整数。" in html
    assert "请从列表中选择问题分类。" in html


def test_a_township_sees_its_own_hot_spots_only(client, july):
    client.force_login(july.assessor)
    html = html_of(client.get(HOTSPOTS, {"period": "2026-07"}))
    assert sum(c["n"] for c in cells_of(html)) == 4
    assert "东四六条" not in html
    assert client.get(HOTSPOTS, {"township": july.city.dongsi.code}).status_code == 404


def test_the_hot_spots_title_names_the_place_the_heading_names(client, july):
    def title_and_heading(html: str) -> tuple[str, str]:
        title = re.search(r"<title>(.*?)</title>", html, re.S)
        heading = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
        assert title and heading
        return title.group(1), heading.group(1)

    client.force_login(july.dispatcher)
    title, heading = title_and_heading(html_of(client.get(HOTSPOTS, {"period": "2026-07"})))
    assert "龙潭街道" in heading and "龙潭街道" in title
    assert "东城区" not in title
    client.force_login(july.district_office)
    title, heading = title_and_heading(html_of(client.get(HOTSPOTS, {"period": "2026-07"})))
    assert "东城区" in heading and "东城区" in title
    html = html_of(client.get(HOTSPOTS, {"period": "2026-07", "township": july.longtan.code}))
    title, heading = title_and_heading(html)
    assert "龙潭街道" in heading and "龙潭街道" in title


@pytest.mark.parametrize("who", ["urban_officer", "steward", "resident"])
def test_the_hot_spots_and_the_chiefs_refuse_everyone_else(client, july, who):
    client.force_login(getattr(july, who))
    assert client.get(HOTSPOTS).status_code == 403
    assert client.get(CHIEFS).status_code == 403


def test_the_hot_spot_page_runs_a_fixed_number_of_queries(
    client, july, django_assert_max_num_queries
):
    for n in range(30):
        filed_case(july, at=bj(7, 1 + n % 28, 10, n), description=f"游商 {n}")
    client.force_login(july.district_office)
    with django_assert_max_num_queries(16):
        html = html_of(client.get(HOTSPOTS, {"period": "2026-07"}))
    assert "34 件" in html


def walk_the_lane(person, lane, start: datetime) -> None:
    with time_machine.travel(start, tick=False) as clock:
        patrol = start_patrol(person, lane=lane)
        points = [
            {
                "seq": i,
                "lon": 116.432,
                "lat": 39.872 + 0.00184 * i / 9,
                "accuracy_m": 5.0,
                "at": (start + timedelta(seconds=20 * i)).isoformat(),
            }
            for i in range(10)
        ]
        clock.move_to(start + timedelta(minutes=4))
        record_positions(person, patrol, points=points, now=start + timedelta(minutes=4))
        clock.move_to(start + timedelta(minutes=5))
        end_patrol(person, patrol, now=start + timedelta(minutes=5))


def test_the_chiefs_page_shows_each_chiefs_patrols_against_the_requirement(client, july):
    city = july
    walk_the_lane(city.lane_chief, city.lane, bj(7, 5, 8))
    walk_the_lane(city.lane_chief, city.lane, bj(7, 19, 8))
    case = actions.report_case(
        city.lane_chief,
        description="巷内共享单车乱停放",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
        now=bj(7, 19, 8, 3),
    )
    actions.file_case(city.dispatcher, case, category=city.street_vending, now=bj(7, 19, 9))
    client.force_login(city.district_office)
    html = html_of(client.get(CHIEFS, {"period": "2026-07", "township": city.longtan.code}))
    assert "巷长：每条街巷每 7 天巡查一次，巡查覆盖街巷 50% 即计入" in html
    row = html[html.index("liu-yueming") :]
    row = row[: row.index("</tr>")]
    assert "0 / 1" in row  # 2 of the 4 patrols July requires
    assert "人民市场东巷：2 次（共需 4 次，巡查 2 次）" in row
    cells = re.findall(r'data-label="([^"]+)">(?:<div>)?([^<]*)', row)
    values = {label: value.strip() for label, value in cells}
    assert values["巡查次数"] == "2"
    assert values["上报"] == "1" and values["确认"] == "1"
    stewards = html[html.index('id="stewards"') :]
    assert "liang-ping" in stewards


def summary_row(html: str, township: str) -> dict[str, str]:
    table = html[html.index('id="townships"') :]
    row = table[table.index(f">{township}</a>") :]
    row = row[: row.index("</tr>")]
    cells = re.findall(r'data-label="([^"]+)">(?:<strong>)?([^<]*)', row)
    return {label: value.strip() for label, value in cells}


def test_the_whole_district_is_summed_by_township_with_a_link_to_each(client, july):
    city = july
    walk_the_lane(city.lane_chief, city.lane, bj(7, 5, 8))
    client.force_login(city.district_office)
    html = html_of(client.get(CHIEFS, {"period": "2026-07"}))
    assert "liu-yueming" not in html  # people only in a township's drill-down
    longtan = summary_row(html, "龙潭街道")
    assert longtan["街长、巷长"] == "2"  # liu-yueming and the street chief
    assert longtan["全部街巷按要求巡查"] == "0 / 2"
    assert longtan["巡查次数"] == "1"
    assert longtan["小巷管家"] == "1"
    dongsi = summary_row(html, "东四街道")
    assert dongsi["街长、巷长"] == "1" and dongsi["发现问题"] == "3"  # July's three reports
    assert f'href="?period=2026-07&amp;township={city.longtan.code}">龙潭街道</a>' in html


def test_a_month_with_no_patrol_window_ended_yet_shows_no_share(client, july):
    city = july
    client.force_login(city.district_office)
    # 3 July: two days of the month have passed, less than any chief's window.
    with time_machine.travel(bj(7, 3, 10), tick=False):
        html = html_of(client.get(CHIEFS, {"period": "2026-07"}))
        longtan = summary_row(html, "龙潭街道")
        assert longtan["全部街巷按要求巡查"] == "—"
        table = html[html.index('id="townships"') : html.index("</table>")]
        assert "尚无到期的巡查要求" in table and "%" not in table
        html = html_of(client.get(CHIEFS, {"period": "2026-07", "township": city.longtan.code}))
    row = html[html.index("liu-yueming") :]
    row = row[: row.index("</tr>")]
    assert "尚无到期的巡查要求" in row and "%" not in row and "尚未到期" in row


def test_a_township_reads_the_chiefs_of_its_own_lanes(client, july):
    client.force_login(july.township_chief)
    html = html_of(client.get(CHIEFS, {"period": "2026-07"}))
    assert "liu-yueming" in html and "dongsi-reporter" not in html
    assert 'id="townships"' not in html
    client.force_login(july.district_office)
    html = html_of(client.get(CHIEFS, {"period": "2026-07", "township": july.city.dongsi.code}))
    assert "dongsi-reporter" in html and "liu-yueming" not in html


def test_a_townships_chiefs_and_stewards_are_paginated_each_on_its_own(client, july, settings):
    settings.WHISTLE_PAGE_SIZE = 10
    for n in range(14):
        make_person(f"lane-chief-{n:02d}", Role.LANE_CHIEF, lane=july.lane)
    for n in range(4):
        make_person(f"steward-{n:02d}", Role.STEWARD, lane=july.lane)
    client.force_login(july.district_office)
    query = {"period": "2026-07", "township": july.longtan.code}
    first = html_of(client.get(CHIEFS, query))
    chiefs = first[first.index('id="chiefs"') : first.index('id="stewards"')]
    assert '<span class="count">16</span>' in chiefs  # the lane and street chiefs, the 14
    assert chiefs.count('<th scope="row"') == 10
    assert "第 1 页，共 2 页" in chiefs
    assert (
        f'href="?period=2026-07&amp;township={july.longtan.code}&amp;page=2" rel="next"' in chiefs
    )
    stewards = first[first.index('id="stewards"') :]
    assert stewards.count('<th scope="row"') == 5 and 'class="pagination"' not in stewards
    second = html_of(client.get(CHIEFS, {**query, "page": "2"}))
    chiefs = second[second.index('id="chiefs"') : second.index('id="stewards"')]
    assert chiefs.count('<th scope="row"') == 6 and "第 2 页，共 2 页" in chiefs
    assert "steward-03" in second  # the stewards' list keeps its own first page
    assert html_of(client.get(CHIEFS, {**query, "page": "x"})).count("第 1 页") == 1


@pytest.mark.parametrize("township", [False, True], ids=["district", "township"])
def test_the_chiefs_page_runs_a_fixed_number_of_queries(
    client, july, django_assert_max_num_queries, township
):
    client.force_login(july.district_office)
    query = {"period": "2026-07"}
    if township:
        query["township"] = july.longtan.code
    html_of(client.get(CHIEFS, query))  # the session and the reader, once
    # 18 with the chiefs' appointments, a second source of the lanes each chief held; 21 in
    # a township with the training attended and the recognitions of its chiefs and stewards;
    # one more for the header's inbox: the reader's roles, which say the shared entries.
    with django_assert_max_num_queries(22) as few:
        html_of(client.get(CHIEFS, query))
    for n in range(15):
        make_person(f"lane-chief-{n}", Role.LANE_CHIEF, lane=july.lane)
        make_person(f"steward-{n}", Role.STEWARD, lane=july.lane)
        make_person(f"dongsi-chief-{n}", Role.STREET_CHIEF, lane=july.city.dongsi_lane)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = html_of(client.get(CHIEFS, query))
    assert html.count("lane-chief-") == (15 if township else 0)


def test_the_links_of_the_pages_reach_the_places(client, july):
    client.force_login(july.district_office)
    html = html_of(client.get(CENTRES))
    assert 'href="/district/hotspots/"' in html and 'href="/district/chiefs/"' in html
