"""The reachability model on a small grid, computed by hand.

天坛街道 (a township added to the small city) has four lanes and two stations:

- 东城区城管执法局 at the core, stationed in the centre at (116.40, 39.90) — its department's
  own base elsewhere is not where it sets out from for this township;
- 龙潭派出所 stationed, from its department's base at (116.50, 39.90);
- 天坛消防救援站 on call, with no station anywhere: not placed, counted nowhere.

The district sets a detour factor of 1.5, 30 km/h from midnight and 12 km/h from 7:00, and a
routine whistle's arrival limit of 10 minutes. Geodesic distances on the WGS-84 ellipsoid
(pyproj) from each station to each lane's nearest point:

| lane | from 城管 | from 派出所 |
|---|---|---|
| 北一条 (39.91, 116.39–116.41) | 1110.33 m (due north) | 7775.77 m (to its east end) |
| 北二条 (39.92, 116.39–116.41) | 2220.66 m (due north) | 8009.52 m |
| 东一条 (39.905, 116.49–116.51) | 7716.36 m | 555.16 m (due north) |
| 远巷 (39.95, 116.44–116.46) | 6520.26 m (west end) | 6520.26 m (east end) |

Minutes = distance × 1.5 / (km/h × 1000 / 60). At 03:00 (500 m a minute): 北一条 3.33 by
城管, 北二条 6.66 by 城管, 东一条 1.67 by 派出所, 远巷 19.56 at best: reached by no one.
At 08:00 (200 m a minute): 北一条 8.33 by 城管, 北二条 16.65 (no one), 东一条 4.16 by 派出所,
远巷 48.90 (no one).
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from tests.conftest import make_person
from tests.fixtures_assessment import Story, bj
from tests.fixtures_reachability import grid_fixture, row_fixture  # noqa: F401  (fixtures)
from whistle.assessment.reachability import (
    Model,
    as_geojson,
    by_category,
    day_profile,
    measured_arrivals,
    reachability,
    suggest,
)
from whistle.cases.trail import EventKind
from whistle.duty.models import Roster, Rotation, RotationMember
from whistle.duty.schedule import Schedule
from whistle.organisation.models import Department, Role, Sector
from whistle.policies.calendar import LOCAL_TIME_ZONE
from whistle.policies.models import (
    Category,
    MajorClass,
    WhistleRule,
    parse_travel_speeds,
)

pytestmark = pytest.mark.django_db


def coverage(result) -> dict[str, list[tuple[str, float]]]:
    return {
        row.lane.name: [(r.station.department.name, round(r.minutes, 2)) for r in row.in_time]
        for row in result.lanes
    }


def test_it_finds_who_reaches_each_lane_in_a_quiet_hour(grid):
    result = reachability(grid, 3)
    assert (result.limit_minutes, result.detour_factor, result.speed_kmh) == (10, 1.5, 30)
    assert coverage(result) == {
        "远巷": [],
        "北一条": [("东城区城管执法局", 3.33)],
        "北二条": [("东城区城管执法局", 6.66)],
        "东一条": [("龙潭派出所", 1.67)],
    }
    assert [row.lane.name for row in result.unreached] == ["远巷"]
    fastest = result.lanes[0].fastest
    assert fastest is not None and round(fastest.minutes, 2) == 19.56


def test_the_morning_rush_leaves_a_second_lane_unreached_and_lists_those_first(grid):
    result = reachability(grid, 8)
    assert result.speed_kmh == 12
    assert coverage(result) == {
        "北二条": [],
        "远巷": [],
        "北一条": [("东城区城管执法局", 8.33)],
        "东一条": [("龙潭派出所", 4.16)],
    }
    assert [row.lane.name for row in result.lanes] == ["北二条", "远巷", "东一条", "北一条"]
    fastest = result.lanes[0].fastest
    assert fastest is not None and round(fastest.minutes, 2) == 16.65


def test_the_centre_station_comes_before_the_department_base_and_no_station_is_not_placed(grid):
    result = reachability(grid, 3)
    positions = {s.department.name: s.position for s in result.stations}
    assert positions == {"东城区城管执法局": (116.40, 39.90), "龙潭派出所": (116.50, 39.90)}
    assert [m.department.name for m in result.not_placed] == ["天坛消防救援站"]


def test_a_longer_arrival_limit_from_the_whistle_rule_reaches_more(grid):
    WhistleRule.objects.filter(kind="routine").update(arrive_within=20)
    result = reachability(grid, 8)
    assert [row.lane.name for row in result.unreached] == ["远巷"]


def test_without_a_policy_it_uses_the_defaults(small_city):
    result = reachability(small_city.longtan, 12)
    assert (result.limit_minutes, result.detour_factor, result.speed_kmh) == (30, 1.4, 25)
    assert result.stations == [] and [row.reached for row in result.lanes] == [False]


def test_it_refuses_an_hour_outside_the_day(grid):
    with pytest.raises(ValueError):
        reachability(grid, 24)


@pytest.mark.parametrize(
    "text", ["", "7:15", "0:30,0:20", "0:30,9:0", "0:fast", "0-30", "0:30,24:10"]
)
def test_it_refuses_speeds_that_are_not_hour_bands(text):
    with pytest.raises(ValidationError):
        parse_travel_speeds(text)


def test_a_station_needs_both_coordinates(small_city):
    police = small_city.police
    police.station_lon = 116.5
    with pytest.raises(ValidationError):
        police.full_clean()


def test_the_geojson_has_each_lane_with_its_coverage_and_each_station(grid):
    data = as_geojson(reachability(grid, 8))
    lanes = {
        f["properties"]["name"]: f["properties"]
        for f in data["features"]
        if f["properties"]["kind"] == "lane"
    }
    assert lanes["北二条"]["reached"] is False and lanes["北二条"]["in_time"] == []
    assert lanes["东一条"]["in_time"] == [{"department": "龙潭派出所", "minutes": 4.2}]
    stations = [f for f in data["features"] if f["properties"]["kind"] == "station"]
    assert sorted(f["geometry"]["coordinates"][0] for f in stations) == [116.40, 116.50]
    assert data["properties"]["limit_minutes"] == 10


PAGE = "/district/reachability/"


def test_the_district_sees_the_unreached_lanes_first_with_who_reaches_the_others(client, grid):
    assessor = make_person("reach-assessor", Role.DISTRICT_ASSESSOR, jurisdiction=grid.parent)
    client.force_login(assessor)
    response = client.get(PAGE, {"township": grid.code, "hour": "8"})
    assert response.status_code == 200
    html = response.content.decode()
    table = html[html.index("reach-table") :]
    assert (
        table.index("北二条") < table.index("远巷") < table.index("东一条") < table.index("北一条")
    )
    assert "4 条街巷中 2 条无人能按时到达" in html
    assert "东城区城管执法局 8.3" in table and "龙潭派出所 4.2" in table
    assert "天坛消防救援站" in html  # named as not placed
    assert 'id="reach-geojson"' in html and "data-reach-map" in html
    # A full-width colon is its own space: nothing follows it before the names.
    assert "出发地点：龙潭派出所" in html or "出发地点：东城区" in html
    assert "未计入：天坛消防救援站" in html
    assert "： " not in html
    # The list of the unplaced is a message that wraps, not a badge held to one line.
    assert '<p class="message message-warning reach-not-placed">' in html
    # The heading says the limit in force (this district's is 10 minutes); the menu's name
    # for the page says none.
    assert "<title>10 分钟可达 · " in html and "10 分钟可达 · 天坛街道</h1>" in html
    assert 'aria-current="page">到场可达</a>' in html and "30 分钟可达" not in html


def test_a_township_sees_its_own_township_and_not_another(client, grid, small_city):
    dispatcher = make_person("reach-dispatcher", Role.DISPATCHER, jurisdiction=grid)
    client.force_login(dispatcher)
    assert client.get(PAGE).status_code == 200
    assert client.get(PAGE, {"township": small_city.longtan.code}).status_code == 404


def test_a_bad_hour_is_named_on_the_page_not_a_crash(client, grid):
    assessor = make_person("reach-assessor", Role.DISTRICT_ASSESSOR, jurisdiction=grid.parent)
    client.force_login(assessor)
    with time_machine.travel(datetime(2026, 7, 1, 1, 30, tzinfo=UTC), tick=False):
        response = client.get(PAGE, {"township": grid.code, "hour": "25"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html
    # The hour in Beijing (09:30) is shown instead.
    assert '<option value="9" selected>' in html


def test_a_steward_may_not_open_the_page(client, grid):
    steward = make_person("reach-steward", Role.STEWARD, lane=grid.lanes.first())
    client.force_login(steward)
    assert client.get(PAGE).status_code == 403


def test_the_command_writes_the_geojson_and_the_workbook(grid, tmp_path):
    geojson, workbook = tmp_path / "reach.geojson", tmp_path / "reach.xlsx"
    out = io.StringIO()
    call_command("reachability", township=grid.code, hour=8, output=str(geojson), stdout=out)
    data = json.loads(geojson.read_text(encoding="utf-8"))
    reached = {
        f["properties"]["name"]: f["properties"]["reached"]
        for f in data["features"]
        if f["properties"]["kind"] == "lane"
    }
    assert reached == {"北二条": False, "远巷": False, "北一条": True, "东一条": True}
    call_command(
        "reachability", township=grid.code, hour=8, format="xlsx", output=str(workbook), stdout=out
    )
    rows = list(load_workbook(workbook).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["北二条", "远巷", "东一条", "北一条"]
    assert rows[4][2] == "东城区城管执法局 8.3" and rows[4][4] == 8.3


def test_the_command_refuses_an_unknown_township_and_a_bad_hour(grid, tmp_path):
    with pytest.raises(CommandError):
        call_command("reachability", township="110101999", hour=8, output=str(tmp_path / "x"))
    with pytest.raises(CommandError):
        call_command("reachability", township=grid.code, hour=24, output=str(tmp_path / "x"))
    assert not (tmp_path / "x").exists()


# --- The category of problem ---------------------------------------------------------------
#
# A category counts only the departments of its responsible sectors (whistle.cases.suggest):
# 公安 (public security) in 天坛街道 is 龙潭派出所 (stationed) and 天坛消防救援站 (on call, of the
# same sector in the small city, not placed); 城市管理 is 城管 alone.


def category(district, code: str, *sectors: Sector) -> Category:
    major, _new = MajorClass.objects.get_or_create(
        district=district, kind="event", code="01", defaults={"name": "市容环境"}
    )
    found = Category.objects.create(major=major, code=code, name=f"问题{code}")
    found.responsible_sectors.set(sectors)
    return found


def test_a_category_counts_only_the_departments_that_handle_it(grid, small_city):
    police = category(grid.parent, "01", small_city.police.sector)
    result = reachability(grid, 3, category=police)
    # From 派出所 at 03:00: 北一条 7775.77 m × 1.5 / 500 = 23.33 min, 北二条 24.03, 远巷 19.56:
    # only 东一条 (1.67) in time.
    assert coverage(result) == {
        "北一条": [],
        "北二条": [],
        "远巷": [],
        "东一条": [("龙潭派出所", 1.67)],
    }
    assert [m.department.name for m in result.not_placed] == ["天坛消防救援站"]
    urban = category(grid.parent, "02", small_city.urban_management.sector)
    # From 城管 at 03:00: 东一条 7716.36 m → 23.15 min, no longer in time.
    assert [row.lane.name for row in reachability(grid, 3, category=urban).unreached] == [
        "东一条",
        "远巷",
    ]
    # A category without responsible sectors keeps the whole centre.
    anyone = category(grid.parent, "03")
    assert [row.lane.name for row in reachability(grid, 3, category=anyone).unreached] == ["远巷"]


def test_a_department_of_the_sector_serving_the_township_outside_the_centre_counts(
    grid, small_city
):
    traffic = Department.objects.create(
        code="dc-tiantan-jj",
        name="天坛交通队",
        kind="dispatched",
        sector=small_city.police.sector,
        district=grid.parent,
        station_lon=116.40,
        station_lat=39.91,
    )
    traffic.serves.add(grid)
    police = category(grid.parent, "01", small_city.police.sector)
    result = reachability(grid, 3, category=police)
    # On 北一条 itself (0 min), 1110.33 m from 北二条 (3.33 min).
    assert coverage(result)["北二条"] == [("天坛交通队", 3.33)]
    assert [row.lane.name for row in result.unreached] == ["远巷"]
    assert {s.department.name: (s.role, s.source) for s in result.stations} == {
        "天坛交通队": ("", "department"),
        "龙潭派出所": ("stationed", "department"),
    }
    # Without the category it is no member of the centre and does not count.
    assert "天坛交通队" not in {s.department.name for s in reachability(grid, 3).stations}


# --- The on-duty position ----------------------------------------------------------------


def test_the_rotation_s_on_duty_position_is_the_station_during_its_shifts(grid, small_city):
    officer = make_person("reach-officer", Role.DEPARTMENT_OFFICER, department=small_city.police)
    roster = Roster.objects.create(department=small_city.police, township=grid)
    rotation = Rotation.objects.create(
        roster=roster,
        days="every_day",
        handovers="08:00",
        turn="day",
        starts_on=date(2026, 7, 1),
        post_lon=116.40,
        post_lat=39.915,
    )
    RotationMember.objects.create(rotation=rotation, position=1, person=officer)
    day = date(2026, 7, 1)
    # From 08:00 the person on duty waits at (116.40, 39.915), 555.16 m from 北一条 and from
    # 北二条 (4.16 min each at 08:00); 东一条 is 7.7 km away and no longer reached.
    morning = reachability(grid, 8, day=day)
    police = next(s for s in morning.stations if s.department == small_city.police)
    assert (police.position, police.source, police.on_duty) == ((116.40, 39.915), "duty", officer)
    assert coverage(morning)["北二条"] == [("龙潭派出所", 4.16)]
    assert [row.lane.name for row in morning.unreached] == ["东一条", "远巷"]
    # At 03:00 that day the rotation has not begun: the department's station.
    night = reachability(grid, 3, day=day)
    police = next(s for s in night.stations if s.department == small_city.police)
    assert (police.position, police.source) == ((116.50, 39.90), "department")


# --- One more station ---------------------------------------------------------------------
#
# 试验街道 at 08:00 (tests/fixtures_reachability.py): 1333.33 m of straight line within the
# limit. 城管 at 丁巷's midpoint reaches 丁巷 alone (甲巷 lies 3330.99 m south). The lanes'
# midpoints, in the lanes' order (丁 丙 乙 戊 甲), reach:
#
# | midpoint | 甲巷 | 乙巷 | 丙巷 | 丁巷 | 戊巷 |
# |---|---|---|---|---|---|
# | 丁巷 (116.301, 39.93) | 3330.99 m | | | 0 | 9092.87 m |
# | 丙巷 (116.325, 39.90) | 1966.92 m | 940.70 m ✓ | 0 ✓ | | |
# | 乙巷 (116.313, 39.90) | 940.70 m ✓ | 0 ✓ | 940.70 m ✓ | | |
# | 戊巷 (116.401, 39.96) | | | | 9092.87 m | 0 ✓ |
# | 甲巷 (116.301, 39.90) | 0 ✓ | 940.70 m ✓ | 1966.92 m | | |
#
# Greedy: 乙巷's midpoint reaches three of the four unreached lanes (甲 乙 丙), 戊巷 remains;
# then 戊巷's midpoint reaches it, none remains. Moving 城管 to 乙巷's midpoint gains three
# and loses 丁巷, which only it reaches: two remain (丁巷, 戊巷); moving it to 戊巷's gains
# one and loses one, no better.


def test_the_suggestion_covers_the_most_unreached_lanes_first(row):
    model = Model(row)
    result = model.at(8)
    assert [r.lane.name for r in result.unreached] == ["丙巷", "乙巷", "戊巷", "甲巷"]
    found = suggest(model, result, grid_m=None)
    assert found.candidates == 5
    assert [
        (p.candidate.midpoint_of.name, [lane.name for lane in p.covers], p.remaining)
        for p in found.picks
        if p.candidate.midpoint_of is not None
    ] == [("乙巷", ["丙巷", "乙巷", "甲巷"], 1), ("戊巷", ["戊巷"], 0)]
    move = found.move
    assert move is not None and move.station.department.name == "东城区城管执法局"
    assert move.candidate.midpoint_of is not None and move.candidate.midpoint_of.name == "乙巷"
    assert [lane.name for lane in move.loses] == ["丁巷"] and move.remaining == 2
    words = found.words()
    assert words[0] == (
        "再在乙巷的中点（116.31300, 39.90000）设一个站点，可按时到达 3 条无人能按时到达的街巷："
        "丙巷、乙巷、甲巷。"
    )
    assert words[1] == "仍有 1 条街巷无人能按时到达。"
    assert "不再能按时到达丁巷" in " ".join(words)


def test_with_the_grid_the_greedy_picks_cover_as_many(row):
    model = Model(row)
    result = model.at(8)
    found = suggest(model, result)
    assert found.candidates > 5
    assert [(len(p.covers), p.remaining) for p in found.picks] == [(3, 1), (1, 0)]


def test_nothing_is_suggested_when_every_lane_is_reached(grid):
    model = Model(grid)
    WhistleRule.objects.filter(kind="routine").update(arrive_within=60)
    model = Model(grid)
    found = suggest(model, model.at(3))
    assert (found.unreached, found.picks, found.move) == (0, [], None)
    assert found.words() == ["每条街巷都有部门能按时到达，不缺站点。"]


# --- Measured arrivals ----------------------------------------------------------------------
#
# Three whistled summonses of 天坛街道 arrived with a clean check-in:
#
# | case | lane | summoned | clean check-in | measured | modelled | ratio |
# |---|---|---|---|---|---|---|
# | 1 | 东一条 | 07-01 03:00 派出所 | 03:05 | 5 | 555.16 × 1.5 / 500 = 1.665 | 3.002 |
# | 2 | 东一条 | 07-02 08:00 派出所 | 08:10 | 10 | 555.16 × 1.5 / 200 = 4.164 | 2.402 |
# | 3 | 北一条 | 07-03 08:00 城管 | 08:20 (a flagged one at 08:03) | 20 | 8.327 | 2.402 |
#
# A routine dispatch that arrived, and a summons that never checked in, are not counted.
# Overall: median 10 measured, 4.16 modelled, ratio 2.402: detour 1.5 × 2.402 = 3.60.


def test_the_measured_arrivals_stand_beside_the_model(grid, small_city):
    blower = make_person("reach-blower", Role.DISPATCHER, jurisdiction=grid)
    lanes = {lane.name: lane for lane in grid.lanes.all()}
    police, urban = small_city.police, small_city.urban_management

    def whistled(at, lane, department, *arrivals):
        story = Story(grid, at, blower)
        story.case.lane = lanes[lane]
        story.case.save(update_fields=["lane"])
        (summons,) = story.whistle(at, department)
        for kind, minutes in arrivals:
            story.event(kind, at + timedelta(minutes=minutes), summons)
        return story

    whistled(bj(1, 3), "东一条", police, (EventKind.CHECK_IN_ACCEPTED, 5))
    whistled(bj(2, 8), "东一条", police, (EventKind.CHECK_IN_ACCEPTED, 10))
    whistled(
        bj(3, 8),
        "北一条",
        urban,
        (EventKind.CHECK_IN_FLAGGED, 3),
        (EventKind.CHECK_IN_ACCEPTED, 20),
        (EventKind.CHECK_IN_ACCEPTED, 25),
    )
    whistled(bj(4, 8), "北一条", urban)
    dispatched = Story(grid, bj(5, 8), blower)
    summons = dispatched.dispatch(bj(5, 8), police)
    dispatched.event(EventKind.CHECK_IN_ACCEPTED, bj(5, 8, 2), summons)

    found = measured_arrivals(Model(grid, day=date(2026, 7, 10)))
    assert [round(a.measured, 2) for a in found.arrivals] == [5, 10, 20]
    assert [round(a.modelled or 0, 2) for a in found.arrivals] == [1.67, 4.16, 8.33]
    overall = found.overall
    assert overall is not None
    assert (overall.count, overall.measured, round(overall.modelled or 0, 2)) == (3, 10, 4.16)
    assert round(overall.ratio or 0, 3) == 2.402
    assert round(found.suggested_detour or 0, 2) == 3.60
    assert [
        (c.department.name, c.count, c.measured, round(c.ratio or 0, 2))
        for c in found.departments
        if c.department is not None
    ] == [("东城区城管执法局", 1, 20, 2.4), ("龙潭派出所", 2, 7.5, 2.7)]
    assert [(c.lane.name, c.count, c.measured) for c in found.lanes if c.lane] == [
        ("东一条", 2, 7.5),
        ("北一条", 1, 20),
    ]
    assert "3 次到场" in found.words() and "3.60" in found.words()
    # Outside the period: nothing.
    assert measured_arrivals(Model(grid, day=date(2026, 12, 1))).overall is None


def test_the_page_shows_the_hours_the_suggestion_and_the_category(client, row, small_city):
    assessor = make_person("reach-assessor", Role.DISTRICT_ASSESSOR, jurisdiction=row.parent)
    client.force_login(assessor)
    urban = category(row.parent, "02", small_city.urban_management.sector)
    response = client.get(PAGE, {"township": row.code, "hour": "8", "category": urban.pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{urban.pk}" selected>' in html
    assert "再在" in html and "仍有 0 条街巷无人能按时到达" in html
    assert html.count('class="reach-hour"') == 24
    assert '"kind": "suggestion"' in html
    bad = client.get(PAGE, {"township": row.code, "category": "x"})
    assert bad.status_code == 200 and 'role="alert"' in bad.content.decode()


def test_each_categorys_sectors_read_in_the_readers_language(client, row, small_city):
    sector = small_city.urban_management.sector
    sector.name_en = "Urban management"
    sector.save()
    category(row.parent, "02", sector)
    client.force_login(
        make_person("reach-assessor", Role.DISTRICT_ASSESSOR, jurisdiction=row.parent)
    )

    def sectors_named(language: str) -> list[str]:
        html = client.get(
            PAGE, {"township": row.code, "hour": "8"}, HTTP_ACCEPT_LANGUAGE=language
        ).content.decode()
        table = html[html.index('class="table table-stack reach-category-table"') :]
        return re.findall(r'<span class="muted">([^<]+)</span></div></td>', table)

    assert "Urban management" in sectors_named("en")
    assert sector.name not in sectors_named("en")
    assert sector.name in sectors_named("zh-hans")
    # A sector without an English name keeps its name on an English page.
    sector.name_en = ""
    sector.save()
    assert sector.name in sectors_named("en")


def test_the_command_takes_a_category_and_says_the_suggestion(row, small_city, tmp_path):
    category(row.parent, "02", small_city.urban_management.sector)
    out = io.StringIO()
    target = tmp_path / "reach.geojson"
    call_command(
        "reachability", township=row.code, hour=8, category="0102", output=str(target), stdout=out
    )
    text = out.getvalue()
    assert "再在" in text and "仍有 0 条街巷无人能按时到达。" in text
    assert "本街乡还没有哪次吹哨报到以合格签到到场。" in text
    kinds = [f["properties"]["kind"] for f in json.loads(target.read_text())["features"]]
    assert kinds.count("suggestion") == 2 and kinds.count("move") == 1
    with pytest.raises(CommandError):
        call_command("reachability", township=row.code, hour=8, category="9999", output=str(target))


# --- By category of problem and by hour -----------------------------------------------------
#
# 天坛街道 with three categories: 公安 (派出所 counts; 消防 not placed), 城市管理 (城管 alone)
# and one without responsible sectors (the whole centre). From the table at the top, with
# 500 m a minute from midnight and 200 m a minute from 07:00:
#
# | group | 00:00–06:59 unreached | 07:00–23:59 unreached |
# |---|---|---|
# | 公安 (派出所) | 北一条 23.33, 北二条 24.03, 远巷 19.56 | the same three (东一条 4.16 in time) |
# | 城市管理 (城管) | 东一条 23.15, 远巷 19.56 | and 北二条 16.65 |
# | none (the centre) | 远巷 | 北二条, 远巷 |


def test_the_lanes_unreached_by_category_and_by_hour(grid, small_city):
    police = category(grid.parent, "01", small_city.police.sector)
    urban = category(grid.parent, "02", small_city.urban_management.sector)
    anyone = category(grid.parent, "03")
    # A second category of 城市管理 shares the first's row.
    urban_too = category(grid.parent, "04", small_city.urban_management.sector)
    rows = by_category(Model(grid), 3)
    assert [
        (
            [c.name for c in row.categories],
            [s.name for s in row.sectors],
            [lane.name for lane in row.unreached],
        )
        for row in rows
    ] == [
        (["问题01"], [small_city.police.sector.name], ["北一条", "北二条", "远巷"]),
        (["问题02", "问题04"], [small_city.urban_management.sector.name], ["东一条", "远巷"]),
        (["问题03"], [], ["远巷"]),
    ]
    by_name = {row.categories[0]: row for row in rows}
    assert by_name[police].hours == [3] * 24
    assert (by_name[police].worst_hour, by_name[police].worst_count) == (0, 3)
    assert [m.department.name for m in by_name[police].not_placed] == ["天坛消防救援站"]
    assert by_name[urban].hours == [2] * 7 + [3] * 17
    assert (by_name[urban].worst_hour, by_name[urban].worst_count) == (7, 3)
    assert [s.department.name for s in by_name[urban].stations] == ["东城区城管执法局"]
    assert by_name[anyone].hours == [1] * 7 + [2] * 17
    assert urban_too in by_name[urban].categories
    # Only the categories asked for.
    assert [row.categories for row in by_category(Model(grid), 8, [urban])] == [[urban]]


def test_the_unreached_lanes_without_the_detail_are_the_model_s(grid, small_city):
    officer = make_person("reach-officer", Role.DEPARTMENT_OFFICER, department=small_city.police)
    roster = Roster.objects.create(department=small_city.police, township=grid)
    rotation = Rotation.objects.create(
        roster=roster,
        days="every_day",
        handovers="08:00",
        turn="day",
        starts_on=date(2026, 7, 1),
        post_lon=116.40,
        post_lat=39.915,
    )
    RotationMember.objects.create(rotation=rotation, position=1, person=officer)
    model = Model(grid, day=date(2026, 7, 1))
    for hour in range(24):
        assert model.unreached_lanes(hour) == sorted(
            (row.lane for row in model.at(hour).unreached), key=model.lanes.index
        )
    # 03:00 from the base (远巷), 08:00 from the on-duty position (东一条, 远巷).
    assert [lane.name for lane in model.unreached_lanes(3)] == ["远巷"]
    assert [lane.name for lane in model.unreached_lanes(8)] == ["东一条", "远巷"]


# --- The rosters read once ------------------------------------------------------------------
#
# 龙潭派出所's roster in 天坛街道: on working days a day shift from 08:00 and a night shift from
# 20:00, waiting at (116.40, 39.915); on rest days one shift from 09:00, waiting at
# (116.45, 39.945). Saturday 4 July 2026: until 09:00 Friday's night shift runs (the working
# days' position), from 09:00 Saturday's (the rest days').


def two_rotations(grid, small_city):
    first = make_person("reach-first", Role.DEPARTMENT_OFFICER, department=small_city.police)
    second = make_person("reach-second", Role.DEPARTMENT_OFFICER, department=small_city.police)
    roster = Roster.objects.create(department=small_city.police, township=grid)
    for days, handovers, lon, lat in (
        ("working_days", "08:00,20:00", 116.40, 39.915),
        ("rest_days", "09:00", 116.45, 39.945),
    ):
        rotation = Rotation.objects.create(
            roster=roster,
            days=days,
            handovers=handovers,
            turn="shift",
            starts_on=date(2026, 6, 1),
            post_lon=lon,
            post_lat=lat,
        )
        RotationMember.objects.create(rotation=rotation, position=1, person=first)
        RotationMember.objects.create(rotation=rotation, position=2, person=second)
    return roster


def test_each_hour_s_station_is_the_one_the_schedule_read_afresh_gives(grid, small_city):
    roster = two_rotations(grid, small_city)
    day = date(2026, 7, 4)
    model = Model(grid, day=day)
    # The groups of categories first: their models share the shifts worked out.
    category(grid.parent, "01", small_city.police.sector)
    by_category(model, 8)
    placed = []
    for hour in range(24):
        # As the model placed the department before it kept the shifts: the roster read
        # again, its shifts worked out for that moment alone.
        at = datetime.combine(day, time(hour), tzinfo=LOCAL_TIME_ZONE)
        fresh = Roster.objects.get(pk=roster.pk)
        shift = Schedule.load([fresh], at, at + timedelta(days=1)).shifts(
            fresh, at, at + timedelta(seconds=1)
        )[0]
        police = next(s for s in model.stations(hour)[0] if s.department == small_city.police)
        assert (police.position, police.on_duty) == (shift.position, shift.person)
        placed.append(police.position)
    assert placed == [(116.40, 39.915)] * 9 + [(116.45, 39.945)] * 15


def test_the_hours_and_the_groups_of_categories_ask_the_database_nothing_more(
    grid, small_city, django_assert_num_queries
):
    two_rotations(grid, small_city)
    category(grid.parent, "01", small_city.police.sector)
    category(grid.parent, "02", small_city.urban_management.sector)
    category(grid.parent, "03")
    model = Model(grid, day=date(2026, 7, 4))
    # The first hour reads the district's working calendar (its days, its years, its working
    # periods); no other hour and no other question reads anything.
    with django_assert_num_queries(3):
        model.stations(0)
    with django_assert_num_queries(0):
        day_profile(model)
        for hour in range(24):
            model.unreached_lanes(hour)
    # The district's categories, read again with their sectors, and the departments serving
    # the township: however many hours and groups.
    with django_assert_num_queries(4):
        rows = by_category(model, 8)
    # Until 09:00 the police wait by 北一条 and 北二条; then by 远巷, and 北二条 (16.65 min from
    # 城管) is no longer reached in time.
    whole = next(row for row in rows if not row.sectors)
    assert sorted(lane.name for lane in whole.unreached) == ["东一条", "远巷"]
    assert sorted(lane.name for lane in model.unreached_lanes(9)) == ["东一条", "北二条"]


# --- The arrival limit of another kind of whistle -------------------------------------------
#
# An emergency whistle of the district arrives within 20 minutes: at 08:00 北二条 (16.65 min
# from 城管) is reached in time, 远巷 (48.90) still is not.


def test_another_kind_of_whistle_has_its_own_arrival_limit(grid):
    WhistleRule.objects.create(district=grid.parent, kind="emergency", arrive_within=20)
    result = reachability(grid, 8, kind="emergency")
    assert (result.limit_minutes, result.kind) == (20, "emergency")
    assert [row.lane.name for row in result.unreached] == ["远巷"]
    assert as_geojson(result)["properties"]["whistle_kind"] == "emergency"
    # A tough-problem whistle without a rule of its own: the default 30 minutes.
    assert reachability(grid, 8, kind="tough").limit_minutes == 30
    with pytest.raises(ValueError):
        Model(grid, kind="loud")


def test_the_page_shows_the_categories_and_takes_a_kind_of_whistle(client, grid, small_city):
    assessor = make_person("reach-assessor", Role.DISTRICT_ASSESSOR, jurisdiction=grid.parent)
    client.force_login(assessor)
    category(grid.parent, "01", small_city.police.sector)
    WhistleRule.objects.create(district=grid.parent, kind="emergency", arrive_within=20)
    response = client.get(PAGE, {"township": grid.code, "hour": "8", "kind": "emergency"})
    html = response.content.decode()
    assert '<option value="emergency" selected>' in html
    assert "4 条街巷中 1 条无人能按时到达" in html
    # The district's limit for the kind, not a fixed 30 minutes.
    assert "20 分钟可达 · " in html and "30 分钟可达" not in html
    section = html[html.index("reach-category-table") :]
    # 公安 at 08:00 within 20 minutes: 北一条 (11663.7 m at 200 m a minute, 58.32 min), 北二条
    # and 远巷 unreached; 东一条 (4.16) in time.
    assert '<span class="reach-category-count">3</span> / 4' in section
    assert "问题01" in section and "&amp;kind=emergency" in section
    # A tough-problem whistle arriving within 10 hours: every lane in time at every hour.
    WhistleRule.objects.create(district=grid.parent, kind="tough", arrive_within=600)
    relaxed = client.get(PAGE, {"township": grid.code, "hour": "8", "kind": "tough"})
    section = relaxed.content.decode()
    section = section[section.index("reach-category-table") :]
    assert '<span class="reach-category-count">0</span> / 4' in section and "全天都没有" in section
    bad = client.get(PAGE, {"township": grid.code, "kind": "loud"})
    assert bad.status_code == 200 and 'role="alert"' in bad.content.decode()


def test_the_workbook_has_the_lanes_unreached_by_category_and_hour(grid, small_city, tmp_path):
    category(grid.parent, "02", small_city.urban_management.sector)
    workbook = tmp_path / "reach.xlsx"
    out = io.StringIO()
    call_command(
        "reachability", township=grid.code, hour=3, format="xlsx", output=str(workbook), stdout=out
    )
    rows = list(load_workbook(workbook)["按问题分类"].iter_rows(values_only=True))
    assert rows[0][:4] == ("问题分类", "责任职能领域", "计入的部门", "03:00 无人能按时到达")
    assert rows[1][:4] == (
        "0102 问题02",
        small_city.urban_management.sector.name,
        "东城区城管执法局",
        "东一条、远巷",
    )
    assert list(rows[1][4:]) == [2] * 7 + [3] * 17
    assert "0102 问题02：4 条街巷中 2 条无人能按时到达；最多 3 条，在 07:00" in out.getvalue()
    call_command(
        "reachability",
        township=grid.code,
        hour=8,
        kind="emergency",
        output=str(workbook),
        stdout=out,
    )
    assert json.loads(workbook.read_text())["properties"]["whistle_kind"] == "emergency"
    WhistleRule.objects.create(district=grid.parent, kind="tough", arrive_within=600)
    out = io.StringIO()
    call_command(
        "reachability", township=grid.code, hour=8, kind="tough", output=str(workbook), stdout=out
    )
    assert "0102 问题02：每条街巷全天都有部门能按时到达" in out.getvalue()
