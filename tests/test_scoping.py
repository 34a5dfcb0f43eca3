from tests.conftest import make_person
from whistle.organisation.models import Role
from whistle.organisation.scoping import visible_jurisdictions, visible_lanes


def test_a_lane_chief_of_one_township_cannot_see_another_townships_lanes(small_city, lane_chief):
    lanes = set(visible_lanes(lane_chief))
    assert small_city.renmin_lane in lanes
    assert small_city.dongsi_lane not in lanes


def test_a_dispatcher_sees_every_lane_of_the_township_and_nothing_beyond(small_city):
    dispatcher = make_person("dispatcher", Role.DISPATCHER, jurisdiction=small_city.longtan)
    assert list(visible_lanes(dispatcher)) == [small_city.renmin_lane]
    assert small_city.dongsi not in visible_jurisdictions(dispatcher)


def test_a_district_assessor_sees_the_whole_district(small_city):
    assessor = make_person("assessor", Role.DISTRICT_ASSESSOR, jurisdiction=small_city.district)
    assert set(visible_lanes(assessor)) == {small_city.renmin_lane, small_city.dongsi_lane}


def test_a_department_officer_sees_the_townships_the_department_serves(small_city):
    officer = make_person("officer", Role.DEPARTMENT_OFFICER, department=small_city.police)
    assert list(visible_lanes(officer)) == [small_city.renmin_lane]


def test_a_resident_sees_no_lanes(small_city):
    resident = make_person("resident", Role.RESIDENT)
    assert not visible_lanes(resident).exists()
