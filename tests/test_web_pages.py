import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from tests.conftest import make_person
from tests.fixtures_web import (  # noqa: F401  (fixtures)
    dispatcher_fixture,
    make_case,
    make_summons,
    resident_fixture,
    steward_fixture,
)
from whistle.cases.models import Summons
from whistle.organisation.models import Person, Role, RoleAssignment
from whistle.web import dashboards
from whistle.web.dashboards import Dashboard, dashboards_for

NOON = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)  # 12:00 in Beijing


def page(client, url="/", **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_the_landing_page_explains_the_mechanism_and_points_residents_to_12345(client):
    html = page(client)
    assert '<html lang="zh-CN">' in html
    assert "街乡吹哨、部门报到" in html
    assert 'href="/accounts/login/"' in html
    assert 'id="residents"' in html and 'href="tel:12345"' in html
    # No map for someone signed out: nothing of the city is public.
    assert "data-map" not in html


@pytest.mark.django_db
def test_the_landing_page_lets_residents_report_and_follow_without_an_account(client):
    html = page(client)
    residents = html[html.index('id="residents"') :]
    assert f'href="{reverse("reports:new")}"' in residents
    assert f'href="{reverse("reports:follow")}"' in residents
    assert "上报问题" in residents and "凭编号查询办理进度" in residents
    assert "无需注册账号" in residents
    # The way to the form works for someone signed out.
    assert client.get(reverse("reports:new")).status_code == 200


@pytest.mark.django_db
def test_the_landing_page_speaks_english_with_the_right_lang_attribute(client):
    html = page(client, HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="en">' in html
    assert "Residents: report a problem" in html
    assert "简体中文" in html  # the way back


@pytest.mark.django_db
def test_every_page_has_a_skip_link_landmarks_and_a_labelled_navigation(client):
    html = page(client)
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html
    assert re.search(r'<nav class="topnav" aria-label="[^"]+"', html)
    assert "<header" in html and "<footer" in html


@pytest.mark.django_db
def test_pages_load_nothing_from_another_host(client, small_city, dispatcher):
    client.force_login(dispatcher)
    for url in ("/", "/accounts/login/", "/wall/"):
        html = page(client, url)
        assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', html), url


@pytest.mark.django_db
def test_the_sign_in_page_shows_which_fields_are_wrong(client):
    response = client.post(
        "/accounts/login/", {"username": "nobody", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="form-errors" role="alert"' in html
    assert "Please enter a correct username and password" in html
    assert 'autocomplete="current-password"' in html


@pytest.mark.django_db
def test_a_missing_field_is_linked_to_its_error_for_screen_readers(client):
    html = client.post("/accounts/login/", {"username": "wang-fang"}).content.decode()
    assert 'aria-describedby="id_password-errors"' in html
    assert 'id="id_password-errors"' in html
    assert 'aria-invalid="true"' in html


def test_signing_in_leads_home_with_the_persons_name_and_roles(client, small_city, steward):
    response = client.post(
        "/accounts/login/",
        {"username": "wang-fang", "password": "pw-123456"},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == "/"
    assert "Hello, wang-fang" in html
    assert "Alley steward · 人民市场东巷" in html


def test_the_home_page_maps_the_persons_area(client, small_city, dispatcher):
    client.force_login(dispatcher)
    html = page(client)
    assert "data-map" in html
    assert '"url": "/map/lanes.geojson"' in html
    assert "vendor/leaflet/leaflet.js" in html
    assert "人民市场东巷" in html  # the list beside the map
    assert "东四六条" not in html


def test_a_dispatcher_is_offered_the_wall_and_not_the_administration(
    client, small_city, dispatcher
):
    client.force_login(dispatcher)
    html = page(client, HTTP_ACCEPT_LANGUAGE="en")
    assert 'href="/wall/"' in html and "Command centre wall" in html
    assert 'href="/admin/"' not in html


@pytest.mark.parametrize("role", [Role.TOWNSHIP_CHIEF, Role.CHIEFS_OFFICE])
def test_the_townships_chief_and_chiefs_office_are_offered_the_patrol_pages(
    client, small_city, role
):
    person = make_person("longtan-chief", role, jurisdiction=small_city.longtan)
    assert "patrol:home" in [link.dashboard.url_name for link in dashboards_for(person)]
    client.force_login(person)
    html = page(client, HTTP_ACCEPT_LANGUAGE="en")
    assert f'href="{reverse("patrol:home")}"' in html and "Patrol my lanes" in html
    assert client.get(reverse("patrol:home")).status_code == 200


def test_a_resident_is_offered_no_staff_page(client, small_city, resident):
    client.force_login(resident)
    html = page(client, HTTP_ACCEPT_LANGUAGE="en")
    assert 'href="/wall/"' not in html and 'href="/admin/"' not in html
    assert "resident" in html


def test_staff_are_offered_the_administration(client, small_city):
    admin = Person.objects.create_user("admin", password="pw-123456", is_staff=True)
    client.force_login(admin)
    html = page(client)
    assert 'href="/admin/"' in html


def test_a_role_page_that_does_not_exist_yet_is_never_linked(small_city, steward, monkeypatch):
    monkeypatch.setattr(
        dashboards,
        "DASHBOARDS",
        (
            Dashboard("patrol:not-built-yet", "Patrol", "…", roles=(Role.STEWARD,)),
            Dashboard("web:home", "Home", "…", roles=(Role.STEWARD,)),
            Dashboard("web:wall", "Wall", "…", roles=(Role.DISPATCHER,)),
        ),
    )
    assert [link.url for link in dashboards_for(steward)] == [reverse("web:home")]


def test_a_page_two_roles_reach_under_two_names_is_linked_once(small_city, monkeypatch):
    head = make_person("qian-li", Role.DEPARTMENT_HEAD, department=small_city.urban_management)
    RoleAssignment.objects.create(
        person=head, role=Role.DEPARTMENT_OFFICER, department=small_city.urban_management
    )
    reverse("web:home")  # the pages' modules read DASHBOARDS when the URLs first load
    monkeypatch.setattr(
        dashboards,
        "DASHBOARDS",
        (
            Dashboard(
                "assessment:department", "Records and scores", "…", roles=(Role.DEPARTMENT_HEAD,)
            ),
            Dashboard("department:home", "Summonses", "…", roles=(Role.DEPARTMENT_OFFICER,)),
            Dashboard("assessment:department", "Records", "…", roles=(Role.DEPARTMENT_OFFICER,)),
        ),
    )
    links = dashboards_for(head)
    assert [(link.url, link.dashboard.title) for link in links] == [
        (reverse("assessment:department"), "Records and scores"),
        (reverse("department:home"), "Summonses"),
    ]


def test_the_department_heads_records_page_has_one_name_in_the_menu_and_the_tabs(
    client, small_city
):
    head = make_person("qian-li", Role.DEPARTMENT_HEAD, department=small_city.urban_management)
    client.force_login(head)
    html = client.get("/assessment/department/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    names = {
        re.sub(r"<[^>]+>|\s+", "", name)
        for name in re.findall(r'<a [^>]*href="/assessment/department/"[^>]*>(.*?)</a>', html, re.S)
    }
    assert names == {"本部门考核记录与成绩"}


def test_the_wall_is_for_the_command_centre_only(client, small_city, dispatcher, steward):
    client.force_login(steward)
    assert client.get("/wall/").status_code == 403
    client.force_login(dispatcher)
    html = page(client, "/wall/")
    assert 'class="layout-wall"' in html
    assert 'hx-trigger="every 5s' in html


def test_the_wall_sends_someone_signed_out_to_sign_in(client, small_city):
    response = client.get("/wall/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.fixture
def busy_morning(small_city):
    """Three summonses in 龙潭 with different next deadlines, one in 东四."""
    at = NOON - timedelta(minutes=40)
    on_lane = make_case(small_city.longtan, lane=small_city.renmin_lane, at=at)
    elsewhere = make_case(small_city.longtan, at=at)
    dongsi = make_case(small_city.dongsi, lane=small_city.dongsi_lane, at=at)
    late = make_summons(on_lane, small_city.police, at=at, arrive_in=timedelta(minutes=30))
    late.acknowledged_at = at + timedelta(minutes=2)
    late.save(update_fields=["acknowledged_at"])
    waiting = make_summons(elsewhere, small_city.urban_management, at=NOON, arrive_in=None)
    make_summons(dongsi, small_city.police, at=at, arrive_in=timedelta(minutes=30))
    return {"late": late, "waiting": waiting, "on_lane": on_lane}


def test_the_live_summary_counts_open_cases_and_overdue_summonses(
    client, small_city, dispatcher, busy_morning
):
    client.force_login(dispatcher)
    with time_machine.travel(NOON, tick=False):
        html = page(client, "/live/area-summary/", HTTP_ACCEPT_LANGUAGE="en")
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", html))
    assert figures == {"Open cases": "2", "Open summonses": "2", "Overdue summonses": "1"}
    # The overdue arrival (due 11:50) comes before the acknowledgement due at 12:10.
    refs = re.findall(r'data-name="(\w+)"', html)
    assert refs == [busy_morning["on_lane"].reference, busy_morning["waiting"].case.reference]
    assert 'data-deadline="2026-11-26T03:50:00+00:00"' in html
    assert "arrive on site by" in html and "acknowledge by" in html
    assert "12:00:00" in html  # updated at, in Beijing time


def test_the_live_summary_of_a_steward_leaves_out_the_rest_of_the_township(
    client, small_city, steward, busy_morning
):
    client.force_login(steward)
    with time_machine.travel(NOON, tick=False):
        html = page(client, "/live/area-summary/", HTTP_ACCEPT_LANGUAGE="en")
    assert re.findall(r'data-name="(\w+)"', html) == [busy_morning["on_lane"].reference]


def test_the_live_summary_costs_a_fixed_number_of_queries(
    client, small_city, dispatcher, busy_morning, django_assert_max_num_queries
):
    for _ in range(15):
        case = make_case(small_city.longtan, at=NOON)
        make_summons(case, small_city.police, at=NOON, arrive_in=timedelta(minutes=30))
    client.force_login(dispatcher)
    with django_assert_max_num_queries(8):
        html = page(client, "/live/area-summary/")
    assert html.count("data-countdown") == 8
    assert Summons.objects.count() == 18


def test_the_live_summary_takes_the_page_to_sign_in_after_sign_out(client, small_city):
    polled = client.get(
        "/live/area-summary/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/wall/"
    )
    assert polled.status_code == 204
    assert polled["HX-Redirect"] == "/accounts/login/?next=%2Fwall%2F"


def test_the_home_page_costs_a_fixed_number_of_queries(
    client, small_city, dispatcher, busy_morning, django_assert_max_num_queries
):
    client.force_login(dispatcher)
    # 13: the header's inbox reads the reader's roles (their shared entries) and the count.
    with django_assert_max_num_queries(13):
        page(client)


def test_switching_the_language_to_english_sticks(client, small_city, steward):
    client.force_login(steward)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, follow=True)
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Hello, wang-fang" in html


def test_the_components_page_is_for_staff(client, small_city, steward):
    client.force_login(steward)
    assert client.get("/ui/").status_code == 403
    staff = make_person("designer", Role.ADMINISTRATOR)
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    client.force_login(staff)
    html = page(client, "/ui/")
    assert html.count("data-countdown") >= 3
    assert 'class="badge badge-overdue"' in html
    assert 'class="field-errors"' in html


def test_every_role_page_sits_in_one_of_the_top_bars_menus():
    assert {dashboard.group for dashboard in dashboards.DASHBOARDS} <= set(dashboards.NAV_GROUPS)


def test_a_person_with_many_pages_finds_every_one_in_a_few_menus(client, small_city):
    chief = make_person("li-weidong", Role.TOWNSHIP_CHIEF, jurisdiction=small_city.longtan)
    links = dashboards_for(chief)
    entries = dashboards.navigation(links)
    assert len(links) > dashboards.FLAT_NAV_MAX >= len(entries)
    assert [link for entry in entries for link in entry.links] == sorted(
        links, key=lambda link: list(dashboards.NAV_GROUPS).index(link.dashboard.group)
    )
    client.force_login(chief)
    html = page(client, reverse("duty:home"), HTTP_ACCEPT_LANGUAGE="en")
    menus = re.findall(r'<details class="navmenu" data-navmenu="(\w+)"><summary([^>]*)>', html)
    assert [key for key, _ in menus] == [entry.key for entry in entries if entry.is_menu]
    # The menu holding the page is marked; the others are not.
    assert [key for key, attrs in menus if "is-current" in attrs] == ["command"]
    for link in links:
        assert html.count(f'href="{link.url}"') >= 1, link.url


def test_a_person_with_few_pages_sees_them_without_menus(client, small_city):
    officer = make_person(
        "zhao-lei", Role.DEPARTMENT_OFFICER, department=small_city.urban_management
    )
    links = dashboards_for(officer)
    assert 1 < len(links) <= dashboards.FLAT_NAV_MAX
    assert all(not entry.is_menu for entry in dashboards.navigation(links))
    client.force_login(officer)
    html = page(client)
    assert 'class="navmenu"' not in html
