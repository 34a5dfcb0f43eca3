"""The road network: built from an OSM export, imported all or nothing, and the shortest way
along it, on a small graph computed by hand.

Around a block of the small city (geodesic distances on the WGS-84 ellipsoid, pyproj):

    E (116.400, 39.904)                                  F ──── G  (39.910, another part)
    │ 死胡同 111.03 m
    D (116.400, 39.903) ────── 342.06 m ────── C (116.404, 39.903)
                     the block: no way through     │ 333.10 m
    A (116.400, 39.900) ── 342.07 m ── B (116.404) ── 342.07 m ── Z (116.408)

大街 runs A–B–Z as one line; 东街 starts at B (written 0.43 m off, joined) and runs to C
and D; 死胡同 runs D–E; 飞地 F–G (171.01 m) touches nothing. Nodes: A, B, Z, D, E, F, G (C is
no junction). From A the lane 死胡同 lies 333.10 m in a straight line (466.34 m with a detour
factor of 1.4) but 342.07 + 333.10 + 342.06 = 1017.23 m by road.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from tests.fixtures_reachability import grid_fixture  # noqa: F401  (fixture)
from whistle.assessment.reachability import as_geojson, reachability
from whistle.importing.roads import import_roads
from whistle.organisation import roads
from whistle.organisation.models import RoadNetwork, RoadSegment

pytestmark = pytest.mark.django_db

A, B, C, D = (116.400, 39.900), (116.404, 39.900), (116.404, 39.903), (116.400, 39.903)
E, Z, F, G = (116.400, 39.904), (116.408, 39.900), (116.400, 39.910), (116.402, 39.910)
B_OFF = (116.404005, 39.900)  # 0.43 m east of B


def feature(geometry, **properties):
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def line(*positions):
    return {"type": "LineString", "coordinates": [list(p) for p in positions]}


BLOCK = [
    feature(line(A, B, Z), highway="primary", name="大街", **{"@id": "way/1"}),
    feature(
        {"type": "MultiLineString", "coordinates": [[list(B_OFF), list(C), list(D)]]},
        highway="residential",
        name="东街",
    ),
    feature(line(D, E), highway="service", name="死胡同"),
    feature(line(F, G), highway="footway", name="飞地"),
    # Not roads: a building, a traffic signal, a river, a planned road.
    feature(
        {
            "type": "Polygon",
            "coordinates": [
                [[116.401, 39.901], [116.402, 39.901], [116.402, 39.902], [116.401, 39.901]]
            ],
        },
        building="yes",
    ),
    feature({"type": "Point", "coordinates": list(B)}, highway="traffic_signals"),
    feature(line(A, D), waterway="river"),
    feature(line(A, D), highway="proposed"),
]


def write(tmp_path, features, name="roads.geojson"):
    path = tmp_path / name
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


@pytest.fixture(name="block")
def block_fixture(small_city, tmp_path):
    result = import_roads(write(tmp_path, BLOCK), district=small_city.district.code)
    assert result.ok, result.error_lines()
    return small_city.district


def test_the_import_joins_the_roads_at_their_junctions_and_skips_what_is_no_road(block):
    network = RoadNetwork.objects.get(district=block)
    assert (network.node_count, network.segment_count) == (7, 5)
    segments = {
        (s.name, (s.start_lon, s.start_lat), (s.end_lon, s.end_lat)): round(s.length_m, 2)
        for s in RoadSegment.objects.filter(network=network)
    }
    assert segments == {
        ("大街", A, B): 342.07,
        ("大街", B, Z): 342.07,
        ("东街", B, D): 675.16,  # through C, from B as 大街 has it
        ("死胡同", D, E): 111.03,
        ("飞地", F, G): 171.01,
    }
    east = RoadSegment.objects.get(network=network, name="东街")
    assert east.line["coordinates"] == [list(B), list(C), list(D)]
    assert round(network.length_m) == round(342.07 * 2 + 675.16 + 111.03 + 171.01)


def test_a_lane_behind_the_block_is_out_of_reach_by_road_though_the_straight_line_reaches_it(
    block,
):
    lane = [D, E]
    straight = roads.travel_metres(None, A, [lane], detour_factor=1.4, max_metres=500)
    assert straight[0] is not None and round(straight[0].metres, 2) == 466.34
    assert not straight[0].by_road
    assert roads.travel_metres(block, A, [lane], detour_factor=1.4, max_metres=500) == [None]
    [way] = roads.travel_metres(block, A, [lane], detour_factor=1.4)
    assert way is not None and way.by_road and round(way.metres, 2) == 1017.23


def test_another_part_of_the_network_is_unreachable_and_a_point_off_it_goes_straight(block):
    far = (116.45, 39.95)  # kilometres from every node
    ways = roads.travel_metres(block, A, [[F, G], [Z], [far]], detour_factor=1.4)
    assert ways[0] is None
    assert ways[1] is not None and ways[1].by_road and round(ways[1].metres, 2) == 684.15
    assert ways[2] is not None and not ways[2].by_road
    assert round(ways[2].metres, 2) == round(roads.straight_metres(A, [far]) * 1.4, 2)
    [from_far] = roads.travel_metres(block, far, [[Z]], detour_factor=1.4)
    assert from_far is not None and not from_far.by_road


def test_a_point_snaps_to_the_nearest_node_and_the_snap_counts_as_a_straight_line(block):
    station = (116.400, 39.8995)  # 55.52 m south of A
    graph = roads.graph(block)
    assert graph is not None
    snapped = graph.snap(station)
    assert snapped is not None
    node, metres = snapped
    assert graph.positions[node] == A and round(metres, 1) == 55.5
    [way] = roads.travel_metres(block, station, [[D, E]], detour_factor=1.4)
    assert way is not None and round(way.metres, 2) == 1072.75  # 55.52 + 1017.23
    # A lane is entered at its nearest reachable node, plus that node's way to it: Z lies
    # 342.07 m past B, the lane's end 50 m beyond Z in a straight line.
    beyond = (116.408585, 39.900)
    [way] = roads.travel_metres(block, A, [[beyond]], detour_factor=1.4)
    assert way is not None and round(way.metres) == round(684.15 + 50)


def test_the_graph_is_kept_until_the_next_import(block, tmp_path):
    first = roads.graph(block)
    assert roads.graph(block) is first
    result = import_roads(
        write(tmp_path, BLOCK[:1], "main.geojson"), district=block.code, update=True
    )
    assert result.ok
    second = roads.graph(block)
    assert second is not None
    # 大街 alone: B is no junction any more.
    assert second is not first and second.positions == [A, Z]


def test_the_command_reports_what_it_imported(small_city, tmp_path):
    out = io.StringIO()
    call_command(
        "import",
        "roads",
        str(write(tmp_path, BLOCK)),
        district=small_city.district.code,
        language="en",
        stdout=out,
    )
    text = out.getvalue()
    assert "created 5" in text
    assert "7 junctions and ends, 5 road segments" in text
    assert "4 features are not roads and were skipped" in text


def test_bad_features_are_reported_by_number_and_nothing_is_written(block, tmp_path):
    network = RoadNetwork.objects.get(district=block)
    revision, count = network.revision, RoadSegment.objects.count()
    bad = [
        BLOCK[0],
        feature(line((200, 39.9), A), highway="residential"),
        feature({"type": "LineString", "coordinates": [list(A)]}, highway="residential"),
        feature({"type": "MultiLineString", "coordinates": [[list(A), "x"]]}, highway="service"),
        feature(None, highway="residential"),
        "not a feature",
    ]
    err = io.StringIO()
    with pytest.raises(CommandError, match="5 errors"):
        call_command(
            "import",
            "roads",
            str(write(tmp_path, bad)),
            district=block.code,
            update=True,
            language="en",
            stderr=err,
        )
    lines = err.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "Feature 2",
        "Feature 3",
        "Feature 4",
        "Feature 5",
        "Feature 6",
    ]
    assert "not a WGS-84 longitude and latitude" in lines[0]
    assert "at least two positions" in lines[1]
    network.refresh_from_db()
    assert network.revision == revision and RoadSegment.objects.count() == count


def test_an_existing_network_is_replaced_only_with_update(block, tmp_path):
    path = write(tmp_path, BLOCK[:2])
    result = import_roads(path, district=block.code)
    assert not result.ok and "--update" in result.error_lines()[0]
    assert RoadNetwork.objects.get(district=block).segment_count == 5
    dry = import_roads(path, district=block.code, update=True, dry_run=True)
    assert dry.ok and not dry.written and "将被替换" in dry.notes[-1]
    assert RoadNetwork.objects.get(district=block).segment_count == 5
    done = import_roads(path, district=block.code, update=True)
    assert done.ok and done.written
    assert RoadNetwork.objects.get(district=block).segment_count == 3
    assert RoadSegment.objects.count() == 3


@pytest.mark.parametrize(
    ("district", "name", "features", "message"),
    [
        (None, "roads.geojson", BLOCK, "--district"),
        ("110199", "roads.geojson", BLOCK, "no district with code 110199"),
        ("110101", "roads.csv", BLOCK, ".geojson"),
        ("110101", "roads.geojson", BLOCK[4:], "no roads"),
    ],
)
def test_a_file_or_district_that_cannot_be_read_writes_nothing(
    small_city, tmp_path, district, name, features, message
):
    with translation.override("en"):
        result = import_roads(write(tmp_path, features, name), district=district)
    assert not result.ok and message in " ".join(result.error_lines())
    assert not RoadNetwork.objects.exists()


def test_reachability_goes_by_road_where_the_district_has_roads(grid, tmp_path):
    """天坛街道 of tests/test_reachability.py, with one road due north from 城管's station to
    北一条 (1110.33 m, 2.22 minutes at 30 km/h instead of 3.33 in a straight line times
    1.5) and 北一条 itself; 北二条 lies 1110 m beyond the last node, off the graph."""
    station, lane_west, lane_east = (116.40, 39.90), (116.39, 39.91), (116.41, 39.91)
    features = [
        feature(line(station, (116.40, 39.91)), highway="tertiary"),
        feature(line(lane_west, (116.40, 39.91), lane_east), highway="residential"),
    ]
    assert import_roads(write(tmp_path, features), district=grid.parent.code).ok
    result = reachability(grid, 3)
    assert result.by_road
    lanes = {row.lane.name: row for row in result.lanes}
    north = lanes["北一条"].fastest
    assert north is not None and north.by_road and round(north.minutes, 2) == 2.22
    second = lanes["北二条"].fastest
    assert second is not None and not second.by_road and round(second.minutes, 2) == 6.66
    assert as_geojson(result)["properties"]["model"] == "road"


def test_the_page_and_the_command_say_which_model_they_used(client, grid, tmp_path):
    from tests.conftest import make_person
    from whistle.organisation.models import Role

    assessor = make_person("reach-assessor", Role.DISTRICT_ASSESSOR, jurisdiction=grid.parent)
    client.force_login(assessor)
    html = client.get("/district/reachability/", {"township": grid.code, "hour": "3"})
    assert "直线距离乘以绕行系数计算（该处没有路网）" in html.content.decode()
    features = [feature(line((116.40, 39.90), (116.40, 39.91)), highway="tertiary")]
    assert import_roads(write(tmp_path, features), district=grid.parent.code).ok
    html = client.get("/district/reachability/", {"township": grid.code, "hour": "3"})
    assert "沿本区路网计算路程" in html.content.decode()
    out = io.StringIO()
    call_command(
        "reachability", township=grid.code, hour=3, output=str(tmp_path / "r.geojson"), stdout=out
    )
    assert "按本区路网计算路程" in out.getvalue()


def test_the_example_network_imports_into_dongcheng(small_city):
    path = Path(__file__).resolve().parent.parent / "docs/examples/roads/longtan.geojson"
    out = io.StringIO()
    call_command("import", "roads", str(path), district=small_city.district.code, stdout=out)
    network = RoadNetwork.objects.get(district=small_city.district)
    assert (network.node_count, network.segment_count) == (9, 9)
    assert "3 个要素不是道路，已跳过" in out.getvalue()


# --- One-way roads --------------------------------------------------------------------------
#
# The block again with 大街 one way along its line (A → B → Z, oneway=yes), 东街 one way against
# its line (oneway=-1: D → C → B), 死胡同 both ways, 飞地 a roundabout (one way unless
# oneway=no). From A: B and Z, never D or E (东街 runs only towards B). From E: E → D 111.03,
# D → B 675.16, B → Z 342.07, 1128.26 m in all. From Z nothing leads anywhere.

ONE_WAY = [
    feature(line(A, B, Z), highway="primary", name="大街", oneway="yes"),
    feature(line(B_OFF, C, D), highway="residential", name="东街", oneway="-1"),
    feature(line(D, E), highway="service", name="死胡同", oneway="no"),
    feature(line(F, G), highway="residential", name="飞地", junction="roundabout"),
]


def test_a_one_way_road_is_travelled_only_its_way(small_city, tmp_path):
    district = small_city.district
    assert import_roads(write(tmp_path, ONE_WAY), district=district.code).ok
    segments = {
        s.name: ((s.start_lon, s.start_lat), (s.end_lon, s.end_lat), s.oneway)
        for s in RoadSegment.objects.filter(name__in=["东街", "死胡同", "飞地"])
    }
    # 东街 is stored in the way it is travelled: from D to B.
    assert segments == {"东街": (D, B, True), "死胡同": (D, E, False), "飞地": (F, G, True)}
    assert set(RoadSegment.objects.filter(name="大街").values_list("oneway", flat=True)) == {True}
    assert roads.travel_metres(district, A, [[D, E]], detour_factor=1.4) == [None]
    [to_z] = roads.travel_metres(district, A, [[Z]], detour_factor=1.4)
    assert to_z is not None and round(to_z.metres, 2) == 684.15
    [round_the_block] = roads.travel_metres(district, E, [[Z]], detour_factor=1.4)
    assert round_the_block is not None and round(round_the_block.metres) == 1128
    assert roads.travel_metres(district, Z, [[A], [D, E]], detour_factor=1.4) == [None, None]


def test_a_roundabout_that_says_oneway_no_and_an_unknown_value_count_both_ways(
    small_city, tmp_path
):
    features = [
        feature(line(A, B), highway="residential", junction="roundabout", oneway="no"),
        feature(line(B, Z), highway="residential", oneway="alternating"),
    ]
    assert import_roads(write(tmp_path, features), district=small_city.district.code).ok
    assert not RoadSegment.objects.filter(oneway=True).exists()
    [back] = roads.travel_metres(small_city.district, Z, [[A]], detour_factor=1.4)
    assert back is not None and back.by_road and round(back.metres, 2) == 684.15
