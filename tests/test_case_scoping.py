from django.utils import timezone

from tests.conftest import make_person
from whistle.cases.models import Case, Summons
from whistle.cases.scoping import can_see_case, visible_cases
from whistle.organisation.models import Role


def make_case(city, lane, township, **fields) -> Case:
    lon, lat = lane.centre_line["coordinates"][0]
    return Case.objects.create(
        source=Case.Source.STEWARD,
        description="暴露垃圾",
        lon=lon,
        lat=lat,
        district=city.district,
        township=township,
        lane=lane,
        reported_at=timezone.now(),
        **fields,
    )


def test_a_dispatcher_sees_the_cases_of_the_township_only(small_city):
    longtan_case = make_case(small_city, small_city.renmin_lane, small_city.longtan)
    dongsi_case = make_case(small_city, small_city.dongsi_lane, small_city.dongsi)
    dispatcher = make_person("dispatcher", Role.DISPATCHER, jurisdiction=small_city.dongsi)
    assert list(visible_cases(dispatcher)) == [dongsi_case]
    assert not can_see_case(dispatcher, longtan_case)


def test_a_lane_chief_sees_the_cases_of_the_lane(small_city, lane_chief):
    case = make_case(small_city, small_city.renmin_lane, small_city.longtan)
    make_case(small_city, small_city.dongsi_lane, small_city.dongsi)
    assert list(visible_cases(lane_chief)) == [case]


def test_an_officer_sees_a_case_the_department_is_summoned_to_outside_its_area(small_city):
    case = make_case(small_city, small_city.dongsi_lane, small_city.dongsi)
    officer = make_person("officer", Role.DEPARTMENT_OFFICER, department=small_city.police)
    assert not can_see_case(officer, case)
    now = timezone.now()
    Summons.objects.create(
        case=case,
        department=small_city.police,
        summoned_at=now,
        acknowledge_due_at=now,
        resolve_due_at=now,
    )
    assert list(visible_cases(officer)) == [case]


def test_a_resident_does_not_open_the_desk_view_even_of_their_own_report(small_city):
    resident = make_person("resident", Role.RESIDENT)
    mine = make_case(small_city, small_city.renmin_lane, small_city.longtan, reporter=resident)
    assert not can_see_case(resident, mine)


def test_a_district_assessor_sees_a_case_outside_every_township(small_city):
    assessor = make_person("assessor", Role.DISTRICT_ASSESSOR, jurisdiction=small_city.district)
    stray = make_case(small_city, small_city.renmin_lane, None)
    assert can_see_case(assessor, stray)
