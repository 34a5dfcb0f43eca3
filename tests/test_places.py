"""The map each process keeps in memory finds what the bounding-box queries found, and is read
again after any change to the map, however it was made."""

from __future__ import annotations

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
