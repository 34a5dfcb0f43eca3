import json
from datetime import UTC, datetime

import pytest

from tests.conftest import make_person
from tests.fixtures_web import (  # noqa: F401  (fixtures)
    assessor_fixture,
    dispatcher_fixture,
    make_case,
    steward_fixture,
)
from whistle.cases.models import Case
from whistle.organisation.models import Department, Lane, Role
from whistle.web import mapdata

MORNING = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


def geojson(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/geo+json"
    assert response["Cache-Control"] == "private, no-store"
    data = json.loads(response.content)
    assert data["type"] == "FeatureCollection"
    return data


def names(data):
    return sorted(
        f["properties"].get("name") or f["properties"]["reference"] for f in data["features"]
    )


def test_a_dispatcher_gets_the_lanes_of_the_township_with_their_centre_lines(
    client, small_city, dispatcher
):
    client.force_login(dispatcher)
    data = geojson(client, "/map/lanes.geojson")
    assert names(data) == ["人民市场东巷"]
    (feature,) = data["features"]
    assert feature["geometry"] == small_city.renmin_lane.centre_line
    assert feature["properties"]["township"] == "龙潭街道"
    assert feature["properties"]["length_m"] == pytest.approx(204, abs=1)


def test_a_district_assessor_narrows_the_lanes_to_one_township(client, small_city, assessor):
    client.force_login(assessor)
    assert names(geojson(client, "/map/lanes.geojson")) == ["东四六条", "人民市场东巷"]
    assert names(geojson(client, "/map/lanes.geojson?township=110101006")) == ["东四六条"]


def test_a_township_outside_the_persons_area_is_not_found(client, small_city, dispatcher):
    client.force_login(dispatcher)
    response = client.get("/map/lanes.geojson?township=110101006")
    assert response.status_code == 404
    assert "error" in response.json()


def test_a_malformed_township_code_is_refused_with_a_reason(client, small_city, dispatcher):
    client.force_login(dispatcher)
    response = client.get("/map/jurisdictions.geojson?township=1101", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json() == {"error": "A township code has 9 digits."}


@pytest.mark.parametrize(
    "code", ["１１０１０１０１５", "11010101²", "110101015\n", "١١٠١٠١٠١٥"], ids=repr
)
def test_a_township_code_in_other_digits_is_refused_as_malformed(
    client, small_city, dispatcher, code
):
    client.force_login(dispatcher)
    response = client.get("/map/cases.geojson", {"township": code}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json() == {"error": "A township code has 9 digits."}


def test_the_map_layers_are_refused_to_someone_signed_out(client, small_city):
    for url in ("/map/lanes.geojson", "/map/jurisdictions.geojson", "/map/cases.geojson"):
        response = client.get(url)
        assert response.status_code == 403
        assert "error" in response.json()


def test_the_map_layers_answer_get_only(client, small_city, dispatcher):
    client.force_login(dispatcher)
    assert client.post("/map/lanes.geojson").status_code == 405


def test_a_dispatcher_sees_the_township_boundary_and_its_communities(
    client, small_city, dispatcher
):
    client.force_login(dispatcher)
    assert names(geojson(client, "/map/jurisdictions.geojson")) == ["龙潭街道"]
    data = geojson(client, "/map/jurisdictions.geojson?township=110101015")
    assert names(data) == ["夕照寺社区", "龙潭街道"]
    levels = {f["properties"]["name"]: f["properties"]["level"] for f in data["features"]}
    assert levels == {"夕照寺社区": "community", "龙潭街道": "township"}


def test_a_district_assessor_sees_the_district_and_every_township(client, small_city, assessor):
    client.force_login(assessor)
    assert names(geojson(client, "/map/jurisdictions.geojson")) == [
        "东四街道",
        "东城区",
        "龙潭街道",
    ]


def test_a_steward_sees_the_township_of_the_lane_and_only_that_lane(client, small_city, steward):
    client.force_login(steward)
    assert names(geojson(client, "/map/jurisdictions.geojson")) == ["龙潭街道"]
    assert names(geojson(client, "/map/lanes.geojson")) == ["人民市场东巷"]


@pytest.fixture
def cases(small_city):
    return {
        "on_lane": make_case(small_city.longtan, lane=small_city.renmin_lane, at=MORNING),
        "off_lane": make_case(small_city.longtan, at=MORNING),
        "closed": make_case(small_city.longtan, at=MORNING, status=Case.Status.CLOSED),
        "dongsi": make_case(small_city.dongsi, lane=small_city.dongsi_lane, at=MORNING),
    }


def test_a_steward_sees_the_cases_on_the_lane_and_no_other(client, small_city, steward, cases):
    client.force_login(steward)
    data = geojson(client, "/map/cases.geojson")
    assert [f["id"] for f in data["features"]] == [cases["on_lane"].reference]
    point = data["features"][0]
    assert point["geometry"] == {"type": "Point", "coordinates": [116.432, 39.873]}
    assert point["properties"]["status"] == "filed"


def test_a_dispatcher_sees_every_open_case_of_the_township(client, small_city, dispatcher, cases):
    client.force_login(dispatcher)
    ids = {f["id"] for f in geojson(client, "/map/cases.geojson")["features"]}
    assert ids == {cases["on_lane"].reference, cases["off_lane"].reference}
    ids = {f["id"] for f in geojson(client, "/map/cases.geojson?status=all")["features"]}
    assert cases["closed"].reference in ids and cases["dongsi"].reference not in ids


def test_a_department_officer_sees_the_cases_of_the_townships_it_serves(client, small_city, cases):
    officer = make_person("sun-qiang", Role.DEPARTMENT_OFFICER, department=small_city.police)
    client.force_login(officer)
    ids = {f["id"] for f in geojson(client, "/map/cases.geojson")["features"]}
    assert ids == {cases["on_lane"].reference, cases["off_lane"].reference}


def test_a_resident_sees_no_case_on_the_map(client, small_city, cases):
    client.force_login(make_person("zhao-lei", Role.RESIDENT))
    assert geojson(client, "/map/cases.geojson")["features"] == []


def test_an_unknown_case_status_filter_is_refused(client, small_city, dispatcher):
    client.force_login(dispatcher)
    response = client.get("/map/cases.geojson?status=everything", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json() == {"error": "status must be open or all."}


def test_the_case_layer_keeps_the_newest_points_and_says_it_left_some_out(
    client, small_city, dispatcher, cases, monkeypatch
):
    monkeypatch.setattr(mapdata, "MAX_CASE_POINTS", 1)
    client.force_login(dispatcher)
    data = geojson(client, "/map/cases.geojson")
    assert len(data["features"]) == 1
    assert data["truncated"] is True


def _many_lanes(small_city, count):
    for n in range(count):
        lon = 116.430 + n * 0.0001
        Lane.objects.create(
            name=f"测试胡同{n:02d}",
            township=small_city.longtan,
            centre_line={"type": "LineString", "coordinates": [[lon, 39.871], [lon, 39.872]]},
        )


@pytest.mark.parametrize(
    "url", ["/map/lanes.geojson", "/map/jurisdictions.geojson", "/map/cases.geojson"]
)
def test_each_layer_costs_the_same_few_queries_for_forty_features(
    client, small_city, dispatcher, django_assert_max_num_queries, url
):
    _many_lanes(small_city, 40)
    for n in range(40):
        make_case(small_city.longtan, lane=small_city.renmin_lane, at=MORNING, lon=116.43 + n / 1e4)
    client.force_login(dispatcher)
    # session, person, roles, roles' departments' served areas, the features
    with django_assert_max_num_queries(6):
        data = geojson(client, url)
    assert data["features"]


def test_a_department_with_many_served_townships_costs_no_extra_queries(
    client, small_city, django_assert_max_num_queries
):
    department = Department.objects.create(
        code="dc-fire",
        name="东城消防救援支队",
        kind="dispatched",
        sector=small_city.police.sector,
        district=small_city.district,
    )
    department.serves.add(small_city.longtan, small_city.dongsi)
    officer = make_person("qian-jun", Role.DEPARTMENT_OFFICER, department=department)
    client.force_login(officer)
    with django_assert_max_num_queries(6):
        data = geojson(client, "/map/lanes.geojson")
    assert names(data) == ["东四六条", "人民市场东巷"]
