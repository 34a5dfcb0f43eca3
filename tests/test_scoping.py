from tests.conftest import make_person
from whistle.organisation.models import Lane, Role, RoleAssignment
from whistle.organisation.scoping import area_of, visible_jurisdictions, visible_lanes


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


def test_the_area_of_a_person_with_a_lane_in_one_township_and_a_role_in_another(small_city):
    person = make_person("two-hats", Role.LANE_CHIEF, lane=small_city.renmin_lane)
    RoleAssignment.objects.create(
        person=person, role=Role.DISPATCHER, jurisdiction=small_city.dongsi
    )
    area = area_of(person)
    assert area.prefixes == {small_city.dongsi.code}
    assert area.lane_ids == {small_city.renmin_lane.pk}
    lanes = Lane.objects.filter(area.q(code="township__code", lane="id"))
    assert set(lanes) == {small_city.renmin_lane, small_city.dongsi_lane}
    other = Lane.objects.create(
        name="龙潭北里",
        township=small_city.longtan,
        centre_line={"type": "LineString", "coordinates": [[116.435, 39.875], [116.436, 39.875]]},
    )
    assert other not in Lane.objects.filter(area.q(code="township__code", lane="id"))


def test_an_officer_s_area_names_the_department(small_city):
    officer = make_person("officer", Role.DEPARTMENT_OFFICER, department=small_city.police)
    assert area_of(officer).department_ids == {small_city.police.pk}
