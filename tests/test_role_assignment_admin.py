"""Giving a person a role in the admin (the roles' page, a lane's chiefs and stewards): the
person is found by typing and told apart from namesakes by username and district, as on the
service token's page."""

from __future__ import annotations

from django.test import Client

from tests.conftest import SmallCity, make_person
from whistle.organisation.models import Person, Role, RoleAssignment

PEOPLE = "/admin/organisation/roleassignment/people/"
SEARCH = {"app_label": "organisation", "model_name": "roleassignment", "field_name": "person"}
PICKER = f'data-ajax--url="{PEOPLE}"'


def test_the_person_is_found_by_typing_and_namesakes_are_told_apart(admin_client, namesakes):
    page = admin_client.get("/admin/organisation/roleassignment/add/").content.decode()
    assert PICKER in page
    answer = admin_client.get(PEOPLE, {**SEARCH, "term": "王芳"})
    assert answer.status_code == 200
    texts = sorted(row["text"] for row in answer.json()["results"])
    assert texts == ["王芳 · hotline-110101 · 东城区", "王芳 · hotline-110102 · 西城区"]
    by_username = admin_client.get(PEOPLE, {**SEARCH, "term": "hotline-110102"}).json()
    assert [row["id"] for row in by_username["results"]] == [str(namesakes[1].pk)]


def test_a_role_s_page_shows_its_person_with_username_and_district(admin_client, namesakes):
    role = RoleAssignment.objects.get(person=namesakes[1])
    page = admin_client.get(f"/admin/organisation/roleassignment/{role.pk}/change/")
    assert page.status_code == 200
    assert "王芳 · hotline-110102 · 西城区" in page.content.decode()


def test_a_role_given_through_the_picker_is_saved_for_the_person_picked(
    admin_client, small_city: SmallCity, namesakes
):
    response = admin_client.post(
        "/admin/organisation/roleassignment/add/",
        {
            "person": namesakes[1].pk,
            "role": Role.ADMINISTRATOR,
            "jurisdiction": small_city.district.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()
    assert RoleAssignment.objects.filter(
        person=namesakes[1], role=Role.ADMINISTRATOR, jurisdiction=small_city.district
    ).exists()
    assert not RoleAssignment.objects.filter(person=namesakes[0], role=Role.ADMINISTRATOR).exists()


def test_a_lane_s_chiefs_and_stewards_are_picked_and_shown_the_same_way(
    admin_client, small_city: SmallCity, namesakes
):
    chief = make_person("wangfang-chief", Role.LANE_CHIEF, lane=small_city.renmin_lane)
    Person.objects.filter(pk=chief.pk).update(name="王芳")
    page = admin_client.get(f"/admin/organisation/lane/{small_city.renmin_lane.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert PICKER in html
    # A lane chief's role has a lane, not a district's jurisdiction: the lane's district.
    assert "王芳 · wangfang-chief · 东城区" in html


def test_district_staff_cannot_search_people_through_the_roles_page(small_city: SmallCity):
    admin = make_person("dongcheng-admin", Role.ADMINISTRATOR, jurisdiction=small_city.district)
    Person.objects.filter(pk=admin.pk).update(is_staff=True)
    admin.refresh_from_db()
    client = Client()
    client.force_login(admin)
    assert client.get(PEOPLE, {**SEARCH, "term": "王"}).status_code == 403
