"""The map each process keeps in memory finds what the bounding-box queries found, and is read
again after any change to the map, however it was made."""

from __future__ import annotations

import math

import pytest
from django.apps import apps as django_apps
from django.db import connection, transaction
from django.db.models.signals import post_migrate

from benchmarks.lane_lookup import answer, build_grid_city, locate_by_query, sample_points
from tests.conftest import square
from tests.fixtures_cases import whistle_city_fixture  # noqa: F401  (fixture)
from whistle.cases.locate import Location, locate
from whistle.organisation import map_triggers, places
from whistle.organisation.models import GridCell, Jurisdiction, Lane, MapRevision
from whistle.policies.models import DistrictPolicy

pytestmark = pytest.mark.django_db

ON_THE_LANE = (116.4321, 39.8729)


@pytest.fixture
def grid_city():
    return build_grid_city(lanes=600, townships_per_side=2)


def test_it_locates_every_point_of_a_grid_city_as_the_queries_did(grid_city):
    points = sample_points(grid_city, 400)
    found = [answer(locate(*point)) for point in points]
    assert found == [answer(locate_by_query(*point)) for point in points]
    # The sample reaches lanes, places near no lane and the boundaries between places.
    assert any(row[3] is not None for row in found)
    assert any(row[3] is None for row in found)
    assert any(row[2] is None for row in found)


def test_it_locates_points_on_lanes_and_boundaries_as_the_queries_did(grid_city):
    lon0, lat0 = grid_city["origin"]
    steps = [k * 0.001 for k in range(0, 40)]
    points = [(lon0 + dx, lat0 + dy) for dx in steps for dy in (0.0, 0.0005, 0.011, 0.0225)]
    assert [answer(locate(*p)) for p in points] == [answer(locate_by_query(*p)) for p in points]


def test_it_keeps_one_map_while_nothing_changes(small_city):
    assert places.city_map() is places.city_map()


def test_a_lane_moved_by_a_bulk_update_is_found_where_it_now_lies(whistle_city):
    assert locate(*ON_THE_LANE).lane == whistle_city.lane
    moved = {"type": "LineString", "coordinates": [[116.5, 39.872], [116.51, 39.872]]}
    Lane.objects.filter(pk=whistle_city.lane.pk).update(
        min_lon=116.5, max_lon=116.51, centre_line=moved
    )
    assert locate(*ON_THE_LANE).lane is None


def test_a_lane_written_by_another_program_is_found_at_the_next_look_up(whistle_city):
    assert locate(*ON_THE_LANE).lane == whistle_city.lane
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Lane._meta.db_table} SET name = %s WHERE id = %s",
            ["人民市场西巷", whistle_city.lane.pk],
        )
    assert _lane_name(locate(*ON_THE_LANE)) == "人民市场西巷"


def test_a_new_community_and_grid_cell_are_found_at_the_next_look_up(whistle_city):
    township = whistle_city.city.longtan
    before = locate(116.4351, 39.8751)
    community = Jurisdiction.objects.create(
        level="community",
        form="community",
        code="110101015009",
        name="新建社区",
        parent=township,
        boundary=square(116.435, 39.875, 0.001),
    )
    cell = GridCell.objects.create(
        code="110101015009001", community=community, boundary=square(116.435, 39.875, 0.001)
    )
    after = locate(116.4351, 39.8751)
    assert before.community != community
    assert after.grid_cell == cell


def test_a_changed_lane_matching_distance_is_used_at_the_next_look_up(whistle_city):
    assert locate(*ON_THE_LANE).lane == whistle_city.lane
    DistrictPolicy.objects.filter(pk=whistle_city.policy.pk).update(lane_snap_m=1)
    assert locate(*ON_THE_LANE).lane is None


def test_a_rolled_back_change_leaves_no_map_behind(whistle_city):
    with pytest.raises(RuntimeError), transaction.atomic():
        Lane.objects.filter(pk=whistle_city.lane.pk).update(name="临时巷")
        assert _lane_name(locate(*ON_THE_LANE)) == "临时巷"
        raise RuntimeError("rolled back")
    assert _lane_name(locate(*ON_THE_LANE)) == whistle_city.lane.name


def _lane_name(location: Location) -> str | None:
    return location.lane.name if location.lane is not None else None


def test_every_table_of_the_map_has_its_triggers_after_the_migrations(db):
    assert map_triggers.missing(connection) == []


@pytest.mark.parametrize("table", map_triggers.MAP_TABLES)
def test_triggers_a_table_rebuild_dropped_come_back_after_migrate(whistle_city, table):
    GridCell.objects.create(
        code="110101015001001",
        community=whistle_city.city.xizhaosi,
        boundary=square(116.43, 39.87, 0.001),
    )
    # As SQLite does when a migration adds a column: the table comes back without them.
    map_triggers.uninstall(map_triggers._Statements(connection), table)
    assert map_triggers.missing(connection) == [table]
    before = places.revision()
    post_migrate.send(
        sender=django_apps.get_app_config("organisation"),
        app_config=django_apps.get_app_config("organisation"),
        verbosity=0,
        interactive=False,
        using=connection.alias,
        apps=django_apps,
        plan=[],
    )
    assert map_triggers.missing(connection) == []
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET id = id")
    assert places.revision() != before


def test_a_flushed_token_is_put_back_so_the_map_is_kept_again(small_city):
    MapRevision.objects.all().delete()
    assert places.revision() is None
    map_triggers.ensure(connection)
    assert places.revision() is not None
    assert places.city_map() is places.city_map()


def _same_as_the_queries(points: list[tuple[float, float]]) -> list[tuple]:
    found = [answer(locate(*point)) for point in points]
    assert found == [answer(locate_by_query(*point)) for point in points]
    return found


def test_it_locates_points_on_and_beside_the_borders_of_its_buckets_as_the_queries_did(
    grid_city,
):
    lon0, lat0 = grid_city["origin"]
    extent = grid_city["extent"]
    points = []
    for degrees in (places.LANE_BUCKET_DEGREES, places.JURISDICTION_BUCKET_DEGREES):
        first_x, first_y = math.floor(lon0 / degrees), math.floor(lat0 / degrees)
        for k in range(0, math.ceil(extent / degrees) + 1, 2):
            x, y = (first_x + k) * degrees, (first_y + k) * degrees
            for nudge in (-1e-9, 0.0, 1e-9):
                points += [(x + nudge, lat0 + extent / 3), (lon0 + extent / 3, y + nudge)]
                points.append((x + nudge, y + nudge))
    found = _same_as_the_queries(points)
    assert any(row[3] is not None for row in found)
    assert any(row[4] is not None for row in found)


def test_a_point_on_the_boundary_between_two_communities_is_in_the_eastern_one(small_city):
    # The ray test counts a point on a polygon's west or south edge in, on its east or north
    # edge out: of two places sharing an edge, exactly one holds a point on it.
    west = small_city.xizhaosi  # 116.43–116.435, 39.87–39.875
    east = Jurisdiction.objects.create(
        level="community",
        form="community",
        code="110101015002",
        name="东边社区",
        parent=small_city.longtan,
        boundary=square(116.435, 39.87, 0.005),
    )
    west_cell = GridCell.objects.create(
        code="110101015001001", community=west, boundary=square(116.43, 39.87, 0.005)
    )
    east_cell = GridCell.objects.create(
        code="110101015002001", community=east, boundary=square(116.435, 39.87, 0.005)
    )
    on_the_edge = (116.435, 39.8731)
    assert locate(*on_the_edge).community == east
    assert locate(*on_the_edge).grid_cell == east_cell
    assert locate(116.4349, 39.8731).grid_cell == west_cell
    # The north edge of both: the township above it holds the point, no community does.
    assert locate(116.436, 39.875).community is None
    _same_as_the_queries([on_the_edge, (116.4349, 39.8731), (116.436, 39.875), (116.435, 39.87)])


def test_a_point_in_a_hole_is_in_the_place_that_fills_it_not_the_one_around_it(small_city):
    ring = square(116.44, 39.87, 0.004)["coordinates"][0]
    hole = square(116.441, 39.871, 0.002)["coordinates"][0]
    around = Jurisdiction.objects.create(
        level="community",
        form="community",
        code="110101015003",
        name="环形社区",
        parent=small_city.longtan,
        boundary={"type": "Polygon", "coordinates": [ring, hole]},
    )
    inside = Jurisdiction.objects.create(
        level="community",
        form="community",
        code="110101015004",
        name="岛心社区",
        parent=small_city.longtan,
        boundary={"type": "Polygon", "coordinates": [hole]},
    )
    ring_cell = GridCell.objects.create(
        code="110101015003001",
        community=around,
        boundary={"type": "MultiPolygon", "coordinates": [[ring, hole]]},
    )
    in_the_hole, in_the_ring = (116.442, 39.872), (116.4405, 39.8705)
    assert locate(*in_the_hole).community == inside
    assert locate(*in_the_hole).grid_cell is None
    assert locate(*in_the_ring).community == around
    assert locate(*in_the_ring).grid_cell == ring_cell
    # The hole's west edge is the inner community's, and the ring's east edge is not the ring's.
    assert locate(116.441, 39.872).community == inside
    assert locate(116.443, 39.872).community == around
    _same_as_the_queries([in_the_hole, in_the_ring, (116.441, 39.872), (116.443, 39.872)])


def test_a_point_outside_every_place_is_in_none(small_city):
    far = [(0.0, 0.0), (116.0, 39.0), (-179.9, -89.9), (116.48, 39.95)]
    for row in _same_as_the_queries(far):
        assert row == (None, None, None, None, None, None)


def test_a_lane_across_many_buckets_is_measured_once_and_found_from_each(small_city):
    long_lane = Lane.objects.create(
        name="长街",
        township=small_city.longtan,
        centre_line={"type": "LineString", "coordinates": [[116.4305, 39.879], [116.4395, 39.879]]},
    )
    points = [(116.4305 + k * 0.0005, 39.8792) for k in range(19)]
    for location in (locate(*point) for point in points):
        assert location.lane == long_lane
        assert location.lane_distance_m == pytest.approx(22.2, abs=0.2)
    _same_as_the_queries(points)


@pytest.mark.parametrize("created_first", ["甲巷", "乙巷"])
def test_of_lanes_equally_near_the_first_by_name_then_township_code_is_found(
    small_city, created_first
):
    # Lanes on one centre line, across a bucket's border, created in either order: the first by
    # name is found (乙 sorts before 甲), and of one name the one of the first township code.
    border = (math.floor(116.437 / places.LANE_BUCKET_DEGREES) + 1) * places.LANE_BUCKET_DEGREES
    line = {
        "type": "LineString",
        "coordinates": [[border - 0.0003, 39.871], [border + 0.0003, 39.871]],
    }
    names = ["甲巷", "乙巷"] if created_first == "甲巷" else ["乙巷", "甲巷"]
    lanes = {
        name: Lane.objects.create(name=name, township=small_city.longtan, centre_line=line)
        for name in names
    }
    points = [(border, 39.8712), (border - 0.0002, 39.8709), (border + 0.0001, 39.871)]
    assert {locate(*point).lane for point in points} == {lanes["乙巷"]}
    # 东四街道 (110101006) comes before 龙潭街道 (110101015).
    dongsi_lane = Lane.objects.create(name="乙巷", township=small_city.dongsi, centre_line=line)
    assert {locate(*point).lane for point in points} == {dongsi_lane}
    _same_as_the_queries(points)


def test_a_lane_found_is_the_same_row_each_time_with_its_places_and_no_more_queries(
    whistle_city, django_assert_num_queries
):
    first = locate(*ON_THE_LANE).lane
    # Only the map's token is read, on the driver's own cursor, which Django does not count.
    with django_assert_num_queries(0):
        again = locate(*ON_THE_LANE).lane
        assert again is not None
        assert again is first
        assert again.township == whistle_city.lane.township
        assert again.community == whistle_city.lane.community
        assert again.name == whistle_city.lane.name
        assert again.get_deferred_fields() == {"centre_line"}
        assert not again._state.adding


def test_a_concave_place_with_a_hole_across_many_buckets_holds_the_points_the_queries_found(
    small_city,
):
    # An L-shaped community with a square hole, over buckets it covers, leaves out and crosses:
    # a point is in it wherever the ray test says so, on bucket borders as elsewhere.
    step = places.JURISDICTION_BUCKET_DEGREES
    west, south = 116.43, 39.87
    outline = [
        [west, south],
        [west + 6 * step, south],
        [west + 6 * step, south + 2.5 * step],
        [west + 2.5 * step, south + 2.5 * step],
        [west + 2.5 * step, south + 6 * step],
        [west, south + 6 * step],
        [west, south],
    ]
    hole = square(west + 0.5 * step, south + 0.5 * step, 1.5 * step)["coordinates"][0]
    community = Jurisdiction.objects.create(
        level="community",
        form="community",
        code="110101015005",
        name="曲尺社区",
        parent=small_city.longtan,
        boundary={"type": "Polygon", "coordinates": [outline, hole]},
    )
    cell = GridCell.objects.create(
        code="110101015005001",
        community=community,
        boundary={"type": "Polygon", "coordinates": [outline, hole]},
    )
    points = [
        (west + i * step / 4 + nudge, south + j * step / 4 + nudge)
        for i in range(-1, 26)
        for j in range(-1, 26, 3)
        for nudge in (0.0, 1e-12)
    ]
    found = _same_as_the_queries(points)
    assert any(row[2] == community.pk and row[4] == cell.pk for row in found)
    assert any(row[2] != community.pk for row in found)
    assert locate(west + 4 * step, south + 4 * step).community != community  # the notch
    assert locate(west + step, south + step).community != community  # the hole
    assert locate(west + 0.25 * step, south + 5 * step).grid_cell == cell


def test_the_same_point_again_is_answered_from_the_last_look_up_until_the_map_changes(
    whistle_city,
):
    first = locate(*ON_THE_LANE)
    assert locate(*ON_THE_LANE) is first
    elsewhere = locate(ON_THE_LANE[0] + 0.01, ON_THE_LANE[1])
    assert elsewhere != first
    assert locate(*ON_THE_LANE) == first
    Lane.objects.filter(pk=whistle_city.lane.pk).update(name="新名巷")
    assert _lane_name(locate(*ON_THE_LANE)) == "新名巷"


def test_inside_a_pin_the_map_is_the_one_read_at_its_start(whistle_city):
    with places.pinned() as pinned:
        Lane.objects.filter(pk=whistle_city.lane.pk).update(name="新名巷")
        assert places.city_map() is pinned
        assert _lane_name(locate(*ON_THE_LANE)) == whistle_city.lane.name
        # A pin inside a pin is the outer one.
        with places.pinned() as inner, places.pinned_at("another token") as given:
            assert inner is pinned and given is pinned
    assert places.city_map() is not pinned
    assert _lane_name(locate(*ON_THE_LANE)) == "新名巷"


def test_both_tokens_read_in_one_statement_are_the_ones_read_alone(whistle_city):
    both = map_triggers.read_tokens(connection, map_triggers.MAP, map_triggers.DIRECTORY)
    assert both == (
        map_triggers.read_token(connection, map_triggers.MAP),
        map_triggers.read_token(connection, map_triggers.DIRECTORY),
    )
    assert None not in both
    Lane.objects.filter(pk=whistle_city.lane.pk).update(name="新名巷")
    again = map_triggers.read_tokens(connection, map_triggers.MAP, map_triggers.DIRECTORY)
    assert again[0] != both[0] and again[1] == both[1]
    with places.pinned_at(again[0]) as pinned:
        assert pinned.token == again[0]
        assert _lane_name(locate(*ON_THE_LANE)) == "新名巷"
