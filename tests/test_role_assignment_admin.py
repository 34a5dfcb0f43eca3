"""Giving a person a role in the admin (the roles' page, a lane's chiefs and stewards): the
person is found by typing and told apart from namesakes by username, district and the roles
they hold where they hold them, as on the service token's page; the roles' list and the
message that a role was added name the person the same way. The labels read the people's
roles at once, however many people are listed."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.conftest import SmallCity, make_person, picker_finds_namesakes
from tests.test_policy_bounds import form_data
from whistle.organisation.models import Lane, Person, Role, RoleAssignment
from whistle.organisation.staffing import staffing_changed
from whistle.patrols.models import ChiefAppointment

PEOPLE = "/admin/organisation/roleassignment/people/"
SEARCH = {"app_label": "organisation", "model_name": "roleassignment", "field_name": "person"}
PICKER = f'data-ajax--url="{PEOPLE}"'
LIST = "/admin/organisation/roleassignment/"
ADD = "/admin/organisation/roleassignment/add/"


def test_the_person_is_found_by_typing_and_namesakes_are_told_apart(admin_client, namesakes):
    page = admin_client.get("/admin/organisation/roleassignment/add/").content.decode()
    assert PICKER in page
    picker_finds_namesakes(admin_client, PEOPLE, SEARCH, namesakes)


def test_a_role_s_page_shows_its_person_with_username_and_district(admin_client, namesakes):
    role = RoleAssignment.objects.get(person=namesakes[1])
    page = admin_client.get(f"/admin/organisation/roleassignment/{role.pk}/change/")
    assert page.status_code == 200
    assert "王芳 · hotline-110102 · 西城区（街巷长办公室工作人员）" in page.content.decode()


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
    assert "王芳 · wangfang-chief · 东城区（巷长 · 人民市场东巷）" in html


def test_district_staff_cannot_search_people_through_the_roles_page(small_city: SmallCity):
    admin = make_person("dongcheng-admin", Role.ADMINISTRATOR, jurisdiction=small_city.district)
    Person.objects.filter(pk=admin.pk).update(is_staff=True)
    admin.refresh_from_db()
    client = Client()
    client.force_login(admin)
    assert client.get(PEOPLE, {**SEARCH, "term": "王"}).status_code == 403


# Namesakes of one district --------------------------------------------------------------------


@pytest.fixture
def he_zhiqiang(small_city: SmallCity) -> tuple[Person, Person]:
    """Two people called 何志强, both of 东城区: a street chief and a township dispatcher."""
    chief = make_person("hezhiqiang", Role.STREET_CHIEF, lane=small_city.renmin_lane)
    dispatcher = make_person("hezhiqiang2", Role.DISPATCHER, jurisdiction=small_city.longtan)
    Person.objects.filter(pk__in=[chief.pk, dispatcher.pk]).update(name="何志强")
    return chief, dispatcher


def search(client: Client, term: str, language: str = "zh-hans") -> list[str]:
    answer = client.get(PEOPLE, {**SEARCH, "term": term}, HTTP_ACCEPT_LANGUAGE=language)
    assert answer.status_code == 200
    return sorted(row["text"] for row in answer.json()["results"])


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        (
            "zh-hans",
            [
                "何志强 · hezhiqiang · 东城区（街长 · 人民市场东巷）",
                "何志强 · hezhiqiang2 · 东城区（街乡指挥中心调度员 · 龙潭街道）",
            ],
        ),
        (
            "en",
            [
                "何志强 · hezhiqiang · 东城区 (street chief · 人民市场东巷)",
                "何志强 · hezhiqiang2 · 东城区 (township dispatcher · 龙潭街道)",
            ],
        ),
    ],
)
def test_namesakes_of_one_district_are_told_apart_by_the_roles_they_hold_and_where(
    admin_client, he_zhiqiang, language, texts
):
    assert search(admin_client, "何志强", language) == texts


def test_a_person_with_many_roles_is_named_with_two_of_them_then_an_ellipsis(
    admin_client, small_city: SmallCity
):
    person = make_person("liangping", Role.STEWARD, lane=small_city.dongsi_lane)
    Person.objects.filter(pk=person.pk).update(name="梁萍")
    RoleAssignment.objects.create(person=person, role=Role.STEWARD, lane=small_city.renmin_lane)
    assert search(admin_client, "liangping") == [
        "梁萍 · liangping · 东城区（小巷管家 · 东四六条；小巷管家 · 人民市场东巷）"
    ]
    RoleAssignment.objects.create(person=person, role=Role.LANE_CHIEF, lane=small_city.renmin_lane)
    assert search(admin_client, "liangping") == [
        "梁萍 · liangping · 东城区（巷长 · 人民市场东巷；小巷管家 · 东四六条；…）"
    ]


def test_a_person_without_roles_is_named_by_name_and_username_only(admin_client, db):
    Person.objects.create_user(username="cai-xiuying", password="pw-123456", name="蔡秀英")
    assert search(admin_client, "蔡秀英") == ["蔡秀英 · cai-xiuying"]


def many_people(small_city: SmallCity, numbers: range) -> None:
    """People called 任俊, each chief of a lane of their own and steward of 东四六条."""
    for n in numbers:
        lane = Lane.objects.create(
            name=f"胡同{n}",
            township=small_city.longtan,
            centre_line=small_city.renmin_lane.centre_line,
        )
        person = make_person(f"renjun-{n}", Role.LANE_CHIEF, lane=lane)
        RoleAssignment.objects.create(person=person, role=Role.STEWARD, lane=small_city.dongsi_lane)
        Person.objects.filter(pk=person.pk).update(name="任俊")


def queries_of(client: Client, url: str, params: dict[str, str]) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries)


def test_the_picker_and_the_list_read_the_roles_of_many_people_in_as_many_queries_as_of_few(
    admin_client, small_city: SmallCity
):
    many_people(small_city, range(2))
    few = (
        queries_of(admin_client, PEOPLE, {**SEARCH, "term": "任俊"}),
        queries_of(admin_client, LIST, {}),
    )
    many_people(small_city, range(2, 7))
    many = (
        queries_of(admin_client, PEOPLE, {**SEARCH, "term": "任俊"}),
        queries_of(admin_client, LIST, {}),
    )
    assert many == few
    assert len(search(admin_client, "任俊")) == 7
    listed = admin_client.get(LIST).content.decode()
    assert "任俊 · renjun-0 · 东城区（巷长 · 胡同0；小巷管家 · 东四六条）" in listed
    assert "任俊 · renjun-6 · 东城区（巷长 · 胡同6；小巷管家 · 东四六条）" in listed


@pytest.mark.parametrize(
    ("language", "says"),
    [
        (
            "zh-hans",
            "小巷管家 · 东四六条，由何志强 · hezhiqiang · 东城区"
            "（街长 · 人民市场东巷；小巷管家 · 东四六条）担任",
        ),
        (
            "en",
            "alley steward · 东四六条, held by 何志强 · hezhiqiang · 东城区 "
            "(street chief · 人民市场东巷; alley steward · 东四六条)",
        ),
    ],
)
def test_the_message_that_a_role_was_added_names_the_person_as_the_picker_does(
    admin_client, small_city: SmallCity, he_zhiqiang, language, says
):
    chief, _dispatcher = he_zhiqiang
    response = admin_client.post(
        ADD,
        {"person": chief.pk, "role": Role.STEWARD, "lane": small_city.dongsi_lane.pk},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 302, response.content.decode()
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert says in message
    row = RoleAssignment.objects.get(person=chief, role=Role.STEWARD)
    assert f"/admin/organisation/roleassignment/{row.pk}/change/" in message


def test_the_message_that_a_role_was_changed_names_the_person_as_the_picker_does(
    admin_client, small_city: SmallCity, he_zhiqiang
):
    chief, _dispatcher = he_zhiqiang
    row = RoleAssignment.objects.get(person=chief)
    response = admin_client.post(
        f"/admin/organisation/roleassignment/{row.pk}/change/",
        {"person": chief.pk, "role": Role.LANE_CHIEF, "lane": small_city.renmin_lane.pk},
    )
    assert response.status_code == 302, response.content.decode()
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert (
        "巷长 · 人民市场东巷，由何志强 · hezhiqiang · 东城区（巷长 · 人民市场东巷）担任" in message
    )


@pytest.mark.parametrize(
    ("language", "says"),
    [
        (
            "zh-hans",
            "人民市场东巷现有 2 位巷长：lane-chief、袁丽慧。一条街巷可设多位巷长；如为交接，"
            "请删除前任巷长的角色。",
        ),
        (
            "en",
            "人民市场东巷 now has 2 lane chiefs: lane-chief, 袁丽慧. A lane may have several; if "
            "this is a handover, remove the earlier chief's role.",
        ),
    ],
)
def test_a_second_lane_chief_given_to_a_lane_is_warned_of(
    admin_client, small_city: SmallCity, lane_chief, language, says
):
    newcomer = make_person("yuan-lihui", Role.STEWARD, lane=small_city.dongsi_lane)
    newcomer.name = "袁丽慧"
    newcomer.save()
    response = admin_client.post(
        ADD,
        {"person": newcomer.pk, "role": Role.LANE_CHIEF, "lane": small_city.renmin_lane.pk},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 302, response.content.decode()
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert says in said


def test_a_lane_chief_given_to_a_lane_without_one_is_not_warned_of(
    admin_client, small_city: SmallCity, lane_chief
):
    newcomer = make_person("yuan-lihui", Role.STEWARD, lane=small_city.dongsi_lane)
    response = admin_client.post(
        ADD, {"person": newcomer.pk, "role": Role.LANE_CHIEF, "lane": small_city.dongsi_lane.pk}
    )
    assert response.status_code == 302, response.content.decode()
    assert len(list(get_messages(response.wsgi_request))) == 1


# A lane's own page: its chiefs and stewards ---------------------------------------------------


def lane_page(small_city: SmallCity) -> str:
    return f"/admin/organisation/lane/{small_city.renmin_lane.pk}/change/"


def post_lane_with_new_row(
    client: Client, small_city: SmallCity, row: dict[str, object], language: str = "zh-hans"
) -> Any:
    """The lane's page posted back as read, with one more chief or steward `row`."""
    url = lane_page(small_city)
    data = form_data(client.get(url))
    prefix = "role_assignments"
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    data[f"{prefix}-{index}-lane"] = str(small_city.renmin_lane.pk)
    for name, value in row.items():
        data[f"{prefix}-{index}-{name}"] = str(value)
    return client.post(url, data, HTTP_ACCEPT_LANGUAGE=language)


@pytest.fixture
def yuan_lihui(small_city: SmallCity) -> Person:
    newcomer = make_person("yuan-lihui", Role.STEWARD, lane=small_city.dongsi_lane)
    Person.objects.filter(pk=newcomer.pk).update(name="袁丽慧")
    return newcomer


@pytest.mark.parametrize(
    ("language", "says"),
    [
        ("zh-hans", "人民市场东巷现有 2 位巷长：lane-chief、袁丽慧。"),
        ("en", "人民市场东巷 now has 2 lane chiefs: lane-chief, 袁丽慧."),
    ],
)
def test_a_second_lane_chief_given_on_the_lane_s_page_is_warned_of(
    admin_client, small_city: SmallCity, lane_chief, yuan_lihui, language, says
):
    response = post_lane_with_new_row(
        admin_client, small_city, {"person": yuan_lihui.pk, "role": Role.LANE_CHIEF}, language
    )
    assert response.status_code == 302, response.content.decode()
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(says in message for message in said), said
    assert (
        RoleAssignment.objects.filter(role=Role.LANE_CHIEF, lane=small_city.renmin_lane).count()
        == 2
    )


@pytest.mark.parametrize(
    ("language", "says"),
    [
        ("zh-hans", "袁丽慧接任人民市场东巷巷长，lane-chief的巷长角色已结束。"),
        ("en", "袁丽慧 takes over as lane chief of 人民市场东巷 from lane-chief."),
    ],
)
def test_a_lane_chief_who_takes_over_on_the_lane_s_page_ends_the_earlier_chief_s_role(
    admin_client, small_city: SmallCity, lane_chief, yuan_lihui, language, says
):
    steward = make_person("steward-renmin", Role.STEWARD, lane=small_city.renmin_lane)
    response = post_lane_with_new_row(
        admin_client,
        small_city,
        {"person": yuan_lihui.pk, "role": Role.LANE_CHIEF, "takes_over": "on"},
        language,
    )
    assert response.status_code == 302, response.content.decode()
    chiefs = RoleAssignment.objects.filter(role=Role.LANE_CHIEF, lane=small_city.renmin_lane)
    assert [row.person for row in chiefs] == [yuan_lihui]
    assert RoleAssignment.objects.filter(person=steward, lane=small_city.renmin_lane).exists()
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert says in said
    assert not any("lane chiefs:" in m or "位巷长" in m for m in said)
    # The admin's history of the lane names the role that ended.
    entry = LogEntry.objects.get(object_id=str(small_city.renmin_lane.pk))
    deleted = [part["deleted"] for part in json.loads(entry.change_message) if "deleted" in part]
    assert deleted == [{"name": "role", "object": "lane-chief · lane chief · 人民市场东巷"}]


def test_only_a_lane_chief_takes_over_and_nothing_is_written_otherwise(
    admin_client, small_city: SmallCity, lane_chief, yuan_lihui
):
    response = post_lane_with_new_row(
        admin_client,
        small_city,
        {"person": yuan_lihui.pk, "role": Role.STEWARD, "takes_over": "on"},
    )
    assert response.status_code == 200
    assert "只有巷长可以接任巷长。" in response.content.decode()
    assert list(RoleAssignment.objects.filter(lane=small_city.renmin_lane)) == [
        lane_chief.roles.get()
    ]


@pytest.mark.parametrize(
    ("language", "says", "link"),
    [
        (
            "zh-hans",
            "lane-chief由街巷长办公室任命为本街巷巷长，只能由该办公室结束任命",
            "打开本街巷的街巷长页面",
        ),
        (
            "en",
            "lane-chief is lane chief here by an appointment of the chiefs&#x27; office",
            "Open the lane&#x27;s chiefs page",
        ),
    ],
)
def test_a_lane_chief_appointed_by_the_chiefs_office_is_not_taken_over_in_the_admin(
    admin_client, small_city: SmallCity, lane_chief, yuan_lihui, language, says, link
):
    ChiefAppointment.objects.create(
        person=lane_chief,
        lane=small_city.renmin_lane,
        role=Role.LANE_CHIEF,
        starts_on=date(2026, 1, 5),
    )
    response = post_lane_with_new_row(
        admin_client,
        small_city,
        {"person": yuan_lihui.pk, "role": Role.LANE_CHIEF, "takes_over": "on"},
        language,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert says in page
    assert f'<a href="/lanes/{small_city.renmin_lane.pk}/chiefs/">{link}</a>' in page
    chiefs = RoleAssignment.objects.filter(role=Role.LANE_CHIEF, lane=small_city.renmin_lane)
    assert [row.person for row in chiefs] == [lane_chief]
    assert ChiefAppointment.objects.get().ends_on is None


def test_saving_the_lane_s_chiefs_and_stewards_announces_the_change_in_its_transaction(
    admin_client, small_city: SmallCity, yuan_lihui
):
    heard: list[dict[str, object]] = []

    def hear(**signal: object) -> None:
        heard.append({**signal, "atomic": transaction.get_connection().in_atomic_block})

    staffing_changed.connect(hear)
    try:
        response = post_lane_with_new_row(
            admin_client, small_city, {"person": yuan_lihui.pk, "role": Role.LANE_CHIEF}
        )
    finally:
        staffing_changed.disconnect(hear)
    assert response.status_code == 302, response.content.decode()
    ((signal),) = heard
    assert signal["trigger"] == "admin" and signal["atomic"] is True
    assert signal["by"] == response.wsgi_request.user
