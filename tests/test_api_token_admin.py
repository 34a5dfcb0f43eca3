"""Making a service token in the admin: the person it acts as is found by typing and told
apart from namesakes, only that person's roles are offered, the expiry is filled in, and the
page says what it is for."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests.conftest import make_person, picker_finds_namesakes
from whistle.api.models import ApiToken
from whistle.organisation.models import Person, Role, RoleAssignment

ADD = "/admin/api/apitoken/add/"
PEOPLE = "/admin/api/apitoken/people/"
SEARCH = {"app_label": "api", "model_name": "apitoken", "field_name": "person"}


def test_the_person_is_found_by_typing_and_namesakes_are_told_apart(admin_client, namesakes):
    page = admin_client.get(ADD).content.decode()
    assert 'data-ajax--url="/admin/api/apitoken/people/"' in page
    picker_finds_namesakes(admin_client, PEOPLE, SEARCH, namesakes)


def test_a_chosen_person_is_shown_with_username_and_district(admin_client, namesakes):
    page = admin_client.get(ADD, {"person": namesakes[0].pk}).content.decode()
    assert "王芳 · hotline-110101 · 东城区（街巷长办公室工作人员）" in page


def test_district_staff_cannot_search_people_through_the_token_form(small_city):
    admin = make_person("dongcheng-admin", Role.ADMINISTRATOR, jurisdiction=small_city.district)
    Person.objects.filter(pk=admin.pk).update(is_staff=True)
    admin.refresh_from_db()
    client = Client()
    client.force_login(admin)
    assert client.get(PEOPLE, {**SEARCH, "term": "a"}).status_code == 403


def test_only_the_chosen_person_s_roles_are_offered(admin_client, small_city, namesakes):
    own = RoleAssignment.objects.get(person=namesakes[0])
    other = RoleAssignment.objects.get(person=namesakes[1])
    page = admin_client.get(ADD, {"person": namesakes[0].pk}).content.decode()
    assert f'name="roles" value="{own.pk}"' in page
    assert f'name="roles" value="{other.pk}"' not in page


def test_a_role_of_another_person_is_refused_with_a_clear_message(
    admin_client, small_city, namesakes
):
    other = RoleAssignment.objects.get(person=namesakes[1])
    expires = timezone.localtime() + timedelta(days=30)
    response = admin_client.post(
        ADD,
        {
            "name": "12345 平台",
            "person": namesakes[0].pk,
            "roles": [other.pk],
            "expires_at_0": expires.date().isoformat(),
            "expires_at_1": "00:00:00",
        },
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 200
    assert not ApiToken.objects.exists()
    assert "令牌只能带有其所属人员本人担任的角色：" in response.content.decode()


def test_the_expiry_is_filled_in_and_the_form_saves_as_it_is_offered(admin_client, namesakes):
    page = admin_client.get(ADD, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    expected = (timezone.localtime() + timedelta(days=90)).date().isoformat()
    assert f'name="expires_at_0" value="{expected}"' in page
    time_value = page.split('name="expires_at_1" value="', 1)[1].split('"', 1)[0]
    assert time_value
    response = admin_client.post(
        ADD,
        {
            "name": "12345 平台",
            "person": namesakes[0].pk,
            "expires_at_0": expected,
            "expires_at_1": time_value,
        },
    )
    assert response.status_code == 200
    token = ApiToken.objects.get()
    assert token.kind == ApiToken.Kind.SERVICE
    assert list(token.roles.all()) == list(RoleAssignment.objects.filter(person=namesakes[0]))


def test_the_form_says_it_makes_service_tokens_for_other_systems(admin_client, small_city):
    english = admin_client.get(ADD, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Service tokens for other systems are made here" in english
    assert "Authentication and tokens" in english
    chinese = admin_client.get(ADD, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "12345" in chinese and "服务令牌在这里生成" in chinese


def test_the_chinese_form_cites_the_api_documents_sections_by_their_chinese_titles(
    admin_client, small_city
):
    chinese = admin_client.get(ADD, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "docs/api.md 的“认证与令牌”和“12345 工单”两节" in chinese
    for english in ("Authentication and tokens", "12345 work orders", "service token"):
        assert english not in chinese
    # The document's headings carry the titles the form cites.
    headings = [
        line
        for line in (settings.BASE_DIR / "docs" / "api.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("### ")
    ]
    assert any("认证与令牌" in line for line in headings)
    assert any("12345 工单" in line for line in headings)


@pytest.mark.parametrize(
    ("days", "language", "said"),
    [
        (-1, "zh-hans", "过期时间必须在将来。"),
        (-1, "en", "The expiry must be in the future."),
        (400, "en", "A token lives at most 366 days."),
    ],
)
def test_an_expiry_in_the_past_or_too_far_ahead_is_said_on_the_form(
    admin_client, namesakes, days, language, said
):
    expires = timezone.localtime() + timedelta(days=days)
    response = admin_client.post(
        ADD,
        {
            "name": "12345 平台",
            "person": namesakes[0].pk,
            "expires_at_0": expires.date().isoformat(),
            "expires_at_1": "00:00:00",
        },
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 200
    assert said in str(response.context["adminform"].form.errors["expires_at"])
    assert not ApiToken.objects.exists()
