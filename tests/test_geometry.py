import pytest

from whistle.organisation import geo


def test_the_length_of_a_lane_is_geodesic_within_one_percent_of_a_reference(small_city):
    # 0.00184 degrees of latitude at 39.87°N is 204.3 m on the WGS-84 ellipsoid
    # (meridian arc: 111,034 m per degree at this latitude).
    assert small_city.renmin_lane.length_m == pytest.approx(204.3, rel=0.01)


def test_a_kilometre_along_the_equator():
    line = {"type": "LineString", "coordinates": [[0.0, 0.0], [0.008983152841195214, 0.0]]}
    assert geo.line_length_m(line) == pytest.approx(1000.0, rel=1e-6)


def test_it_finds_a_point_inside_a_polygon_and_not_in_its_hole():
    polygon = {
        "type": "Polygon",
        "coordinates": [
            [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
            [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]],
        ],
    }
    assert geo.polygon_contains(polygon, (1, 1))
    assert not geo.polygon_contains(polygon, (5, 5))
    assert not geo.polygon_contains(polygon, (11, 5))


def test_halfway_along_a_bent_line_lies_on_it_at_half_its_length():
    # 100 m east, then 300 m north: halfway (200 m) is 100 m up the second leg.
    east = 100 / 111_319.49
    north = 300 / 110_574.39
    line = {"type": "LineString", "coordinates": [[0.0, 0.0], [east, 0.0], [east, north]]}
    lon, lat = geo.halfway(line)
    assert lon == pytest.approx(east)
    assert geo.distance_m((east, 0.0), (lon, lat)) == pytest.approx(100.0, abs=0.5)
    assert geo.distance_to_line_m(line, (lon, lat)) == pytest.approx(0.0, abs=0.01)


def test_halfway_along_a_line_of_one_repeated_position_is_that_position():
    line = {"type": "LineString", "coordinates": [[116.4, 39.9], [116.4, 39.9]]}
    assert geo.halfway(line) == (116.4, 39.9)


def test_it_measures_the_distance_from_a_point_to_a_line():
    line = {"type": "LineString", "coordinates": [[116.40, 39.90], [116.41, 39.90]]}
    # 0.001° of latitude north of the line's middle: about 111 m
    assert geo.distance_to_line_m(line, (116.405, 39.901)) == pytest.approx(111.0, rel=0.01)


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Point", "coordinates": [1, 2]},
        {"type": "LineString", "coordinates": [[1, 2]]},
        {"type": "LineString", "coordinates": [[1, 2], [200, 2]]},
        {"type": "LineString", "coordinates": [[1, 2], ["a", 2]]},
    ],
)
def test_it_refuses_a_malformed_line(geometry):
    with pytest.raises(geo.GeometryError):
        geo.line_length_m(geometry)


def test_it_takes_whole_numbers_and_pairs_as_positions_and_refuses_true_and_false():
    line = {"type": "LineString", "coordinates": [[116, 39], (116.5, 39.5), [116.1, 39.1, 50.0]]}
    assert geo.line_positions(line) == [(116.0, 39.0), (116.5, 39.5), (116.1, 39.1)]
    assert all(type(c) is float for p in geo.line_positions(line) for c in p)
    with pytest.raises(geo.GeometryError, match=r"^position 2: a position must be"):
        geo.line_positions({"type": "LineString", "coordinates": [[116, 39], [True, 39]]})


def test_it_names_the_ring_of_a_position_out_of_range():
    ring = [[116.0, 39.0], [116.1, 39.0], [116.1, 91.0], [116.0, 39.0]]
    with pytest.raises(
        geo.GeometryError,
        match=r"^polygon 1 ring 1: \[116\.1, 91\.0\] is outside WGS-84 longitude/latitude$",
    ):
        geo.polygon_rings({"type": "Polygon", "coordinates": [ring]})


def test_a_point_on_a_west_or_south_edge_is_inside_and_on_an_east_or_north_edge_not():
    polygon = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}
    assert geo.polygon_contains(polygon, (0, 1))
    assert geo.polygon_contains(polygon, (1, 0))
    assert geo.polygon_contains(polygon, (0, 0))
    assert not geo.polygon_contains(polygon, (2, 1))
    assert not geo.polygon_contains(polygon, (1, 2))
