"""A row that would repeat another (a calendar day entered twice, a code already taken) is
refused with words written for the person who typed it, in their language, not with the
name of a database constraint."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import translation

from tests.conftest import make_person
from tests.fixtures_api import api_city_fixture  # noqa: F401  (fixture)
from tests.fixtures_cases import (
    WhistleCity,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from whistle.organisation.models import Department, Person, Role, RoleAssignment, Sector
from whistle.policies.models import CalendarDay, CalendarYear, CategoryKind, MajorClass

CONSTRAINT_NAMED = ("calendar_day_unique", "calendar_year_unique", "major_class_unique_code")


def district_admin(city: WhistleCity) -> Person:
    person = make_person("dongcheng-admin", Role.ADMINISTRATOR, jurisdiction=city.district)
    person.is_staff = True
    person.save(update_fields=["is_staff"])
    person.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["policies", "organisation"])
    )
    return person


def signed_in(person: Person, language: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(person)
    return client


def errors_of(response) -> str:
    assert response.status_code == 200, "the form is shown again, not saved"
    html = response.content.decode()
    assert not any(name in html for name in CONSTRAINT_NAMED)
    return html


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("zh-hans", "这一天已在本年度日历中。"),
        ("en", "This day is already in this year&#x27;s calendar."),
    ],
)
def test_a_district_administrator_entering_a_day_twice_reads_why(whistle_city, language, message):
    district = whistle_city.district
    CalendarDay.objects.create(
        date=date(2027, 1, 1), is_workday=False, name="元旦", district=district
    )
    client = signed_in(district_admin(whistle_city), language)
    response = client.post(
        "/admin/policies/calendarday/add/",
        {"date": "2027-01-01", "is_workday": "", "name": "元旦", "district": district.pk},
    )
    assert message in errors_of(response)
    assert CalendarDay.objects.filter(date=date(2027, 1, 1)).count() == 1


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("zh-hans", "这一年度已录入（同一个区，或适用于全部区）。"),
        ("en", "This year is already entered, for the same district (or for every district)."),
    ],
)
def test_a_year_entered_twice_is_refused_in_words(whistle_city, admin_user, language, message):
    CalendarYear.objects.create(year=2026, source="国务院办公厅")
    response = signed_in(admin_user, language).post(
        "/admin/policies/calendaryear/add/", {"year": "2026", "source": "又一次", "district": ""}
    )
    assert message in errors_of(response)


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("zh-hans", "本区已有同一类型、同一编码的问题大类。"),
        ("en", "The district already has a major class of this kind with this code."),
    ],
)
def test_a_major_class_code_taken_is_refused_in_words(whistle_city, language, message):
    district = whistle_city.district
    major = MajorClass.objects.filter(district=district).first()
    assert major is not None
    client = signed_in(district_admin(whistle_city), language)
    response = client.post(
        "/admin/policies/majorclass/add/",
        {"district": district.pk, "kind": major.kind, "code": major.code, "name": "重复"},
    )
    assert message in errors_of(response)


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("zh-hans", "已有其他职能领域使用这个代码。"),
        ("en", "Another sector already has this code."),
    ],
)
def test_a_sector_code_taken_is_refused_in_words(whistle_city, admin_user, language, message):
    response = signed_in(admin_user, language).post(
        "/admin/organisation/sector/add/", {"code": "urban_management", "name": "城管"}
    )
    assert message in errors_of(response)
    assert Sector.objects.filter(code="urban_management").count() == 1


def test_the_model_s_own_check_speaks_the_person_s_language(whistle_city):
    city = whistle_city.city
    again = Department(
        code=city.urban_management.code,
        name="重复",
        kind=city.urban_management.kind,
        sector=city.urban_management.sector,
        district=city.district,
    )
    role = whistle_city.lane_chief.roles.first()
    assert role is not None
    twice = RoleAssignment(
        person=role.person, role=role.role, lane=role.lane, jurisdiction=role.jurisdiction
    )
    major = MajorClass.objects.filter(district=city.district).first()
    assert major is not None
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as department:
            again.full_clean()
        with pytest.raises(ValidationError) as assignment:
            twice.full_clean()
        with pytest.raises(ValidationError) as major_again:
            MajorClass(
                district=city.district, kind=CategoryKind(major.kind), code=major.code, name="x"
            ).full_clean()
        assert department.value.message_dict["code"] == ["已有其他部门使用这个代码。"]
        assert assignment.value.messages == ["此人在这里已担任这个角色。"]
        assert major_again.value.messages == ["本区已有同一类型、同一编码的问题大类。"]


def test_the_database_still_refuses_a_duplicate_written_past_the_form(whistle_city):
    CalendarDay.objects.create(date=date(2027, 1, 1), is_workday=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        CalendarDay.objects.create(date=date(2027, 1, 1), is_workday=False)


def refuse_as_the_database_does(*_args: object, **_kwargs: object) -> int:
    raise IntegrityError("UNIQUE constraint failed: notifications_inboxread.person_id")


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("zh-hans", "已有同样的记录，可能是同一时刻发送的另一个请求写入的"),
        ("en", "This was already recorded, perhaps by a request sent at the same moment"),
    ],
)
def test_a_duplicate_the_database_refuses_answers_409_in_the_api(
    api_city, monkeypatch, language, message
):
    monkeypatch.setattr("whistle.api.routers.notifications.mark_read", refuse_as_the_database_does)
    dispatcher = api_city.as_("dispatcher")
    dispatcher.client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    answer = dispatcher.post("/notifications/mark-read", {})
    assert answer.status_code == 409
    assert answer.json()["code"] == "duplicate"
    assert answer.json()["message"].startswith(message)
