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
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from tests.conftest import make_person
from tests.fixtures_reachability import grid_fixture  # noqa: F401  (fixture)
from whistle.assessment.reachability import as_geojson, reachability
from whistle.organisation.models import Role
from whistle.policies.models import WhistleRule, parse_travel_speeds

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
