"""Every number a district sets in its policies has a documented maximum (docs/deadlines.md,
"Bounds of the policy numbers"): the admin refuses a larger one in the reader's language, the
database refuses it too, and the arithmetic of deadlines refuses a row written before the
bounds with a clear error instead of crashing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django import forms
from django.db import IntegrityError, connection, models, transaction

from tests.fixtures_cases import (
    beijing,
    reported_case,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from whistle.cases import actions
from whistle.cases.errors import ActionRefused
from whistle.policies.calendar import TimeLimitTooLong, deadline_after
from whistle.policies.models import (
    LONGEST_LIMIT,
    AcknowledgementChain,
    AcknowledgementStep,
    CalendarDay,
    CalendarYear,
    Category,
    DistrictPolicy,
    DurationUnit,
    HotlineDeadlineClass,
    WhistleKind,
    WhistleRule,
)

START = beijing(2026, 10, 12, 10, 0)
# Within a PostgreSQL integer, far beyond any bound.
ABSURD = 2_000_000_000


def write_past_the_checks(row: models.Model, **values: Any) -> None:
    """Write values the database's checks refuse, as a row written before the bounds."""
    model = type(row)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA ignore_check_constraints = 1")
            try:
                model._default_manager.filter(pk=row.pk).update(**values)
            finally:
                cursor.execute("PRAGMA ignore_check_constraints = 0")
        else:
            # Rolled back with the test's transaction. A table is altered only with no
            # deferred key check pending on it: those of the rows made so far are run first.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for constraint in model._meta.constraints:
                if isinstance(constraint, models.CheckConstraint):
                    cursor.execute(
                        f'ALTER TABLE "{model._meta.db_table}" DROP CONSTRAINT "{constraint.name}"'
                    )
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            model._default_manager.filter(pk=row.pk).update(**values)
    row.refresh_from_db()


def form_data(response: Any) -> dict[str, Any]:
    """The admin's change form as a browser posts it, from the page just read."""
    data: dict[str, Any] = {}

    def add(form: Any) -> None:
        for name, field in form.fields.items():
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(field, forms.BooleanField):
                if value:
                    data[key] = "on"
            elif value is None:
                data[key] = ""
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            else:
                data[key] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def admin_refuses(admin_client: Any, url: str, **changes: Any) -> str:
    page = admin_client.get(url)
    assert page.status_code == 200
    data = form_data(page)
    data.update({name: str(value) for name, value in changes.items()})
    response = admin_client.post(url, data)
    assert response.status_code == 200, "the form was saved"
    assert "成功" not in response.content.decode()
    errors = response.context["adminform"].form.errors
    return " ".join(str(error) for name in changes for error in errors.get(name, []))


def change_url(row: models.Model) -> str:
    return f"/admin/policies/{row._meta.model_name}/{row.pk}/change/"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("arrive_within", 99999999999999, "请输入不大于"),
        ("acknowledge_within", 600, "以自然分钟计的时限最多为"),
    ],
)
def test_the_admin_refuses_an_absurd_whistle_time_limit_in_chinese(
    whistle_city, admin_client, field, value, message
):
    rule = WhistleRule.objects.get(kind=WhistleKind.EMERGENCY)
    changes: dict[str, Any] = {field: value}
    if field == "acknowledge_within":
        # 600 natural days: fine as minutes, too long as days.
        changes["acknowledge_unit"] = DurationUnit.NATURAL_DAYS
        message = "以自然日计的时限最多为 366"
    assert message in admin_refuses(admin_client, change_url(rule), **changes)
    rule.refresh_from_db()
    assert rule.arrive_within == 15


def test_the_admin_refuses_an_absurd_category_time_limit_in_chinese(whistle_city, admin_client):
    category = whistle_city.street_vending
    text = admin_refuses(
        admin_client, change_url(category), resolve_within=99999999, resolve_unit="natural_days"
    )
    assert "请输入不大于 525600 的数。" in text
    text = admin_refuses(
        admin_client, change_url(category), resolve_within=400, resolve_unit="natural_days"
    )
    assert "以自然日计的时限最多为 366（约一年）。" in text


def test_the_admin_refuses_an_absurd_hotline_deadline_class_in_chinese(whistle_city, admin_client):
    row = HotlineDeadlineClass.objects.create(
        district=whistle_city.city.district,
        code="general",
        name="一般",
        respond_within=7,
        respond_unit=DurationUnit.NATURAL_DAYS,
        resolve_within=7,
        resolve_unit=DurationUnit.NATURAL_DAYS,
    )
    text = admin_refuses(admin_client, change_url(row), resolve_within=9999999999999)
    assert "请输入不大于" in text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("escalate_to_district_after_minutes", 99999999999),
        ("checkin_radius_m", 99999999999),
        ("checkin_radius_m", 5001),
        ("personal_data_retention_days", 100000),
        ("duplicate_window_hours", 9000),
        ("checkin_max_skew_s", 100000),
        ("lane_snap_m", 6000),
    ],
)
def test_the_admin_refuses_an_absurd_district_policy_number_in_chinese(
    whistle_city, admin_client, field, value
):
    policy = whistle_city.policy
    before = getattr(policy, field)
    assert "请输入不大于" in admin_refuses(admin_client, change_url(policy), **{field: value})
    policy.refresh_from_db()
    assert getattr(policy, field) == before


def test_the_admin_refuses_reminder_minutes_beyond_a_year(whistle_city, admin_client):
    text = admin_refuses(
        admin_client, change_url(whistle_city.policy), reminder_minutes_before="5,9999999999"
    )
    assert "请输入不大于 525600 的分钟数。" in text


def test_the_admin_refuses_an_absurd_acknowledgement_step(whistle_city):
    chain = AcknowledgementChain.objects.create(district=whistle_city.city.district)
    step = AcknowledgementStep(chain=chain, position=1, wait_minutes=99999999999, target="backup")
    with pytest.raises(Exception, match="525600"):
        step.full_clean()


def test_a_check_in_radius_of_a_few_kilometres_is_the_most_the_database_accepts(whistle_city):
    policy = DistrictPolicy.objects.get(pk=whistle_city.policy.pk)
    policy.checkin_radius_m = 5000
    policy.full_clean()
    policy.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        DistrictPolicy.objects.filter(pk=policy.pk).update(checkin_radius_m=5001)


def test_the_database_refuses_a_time_limit_longer_than_its_unit_allows(whistle_city):
    category = whistle_city.street_vending
    Category.objects.filter(pk=category.pk).update(resolve_within=366, resolve_unit="natural_days")
    with pytest.raises(IntegrityError), transaction.atomic():
        Category.objects.filter(pk=category.pk).update(resolve_within=367)


@pytest.mark.parametrize("unit", list(DurationUnit))
def test_the_arithmetic_refuses_a_limit_longer_than_its_unit_allows(whistle_city, unit):
    district = whistle_city.city.district
    assert deadline_after(START, LONGEST_LIMIT[unit], unit, district) > START
    with pytest.raises(TimeLimitTooLong) as refused:
        deadline_after(START, ABSURD, unit, district)
    assert "超过了允许的最长时限" in str(refused.value)


def test_a_whistle_with_an_old_absurd_arrival_limit_is_refused_clearly(whistle_city):
    rule = WhistleRule.objects.get(kind=WhistleKind.ROUTINE)
    write_past_the_checks(rule, arrive_within=ABSURD)
    with pytest.raises(ActionRefused) as refused:
        whistled_case(whistle_city, at=START)
    assert "无法计算时限" in str(refused.value)
    assert "超过了允许的最长时限 525600" in str(refused.value)


def test_filing_with_an_old_absurd_category_limit_is_refused_clearly(whistle_city):
    category = whistle_city.street_vending
    write_past_the_checks(category, resolve_within=ABSURD, resolve_unit="natural_days")
    case = reported_case(whistle_city, at=START)
    with pytest.raises(ActionRefused) as refused:
        actions.file_case(whistle_city.dispatcher, case, category=category, now=START)
    assert "超过了允许的最长时限 366" in str(refused.value)


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="a PostgreSQL integer cannot hold the delay"
)
def test_a_whistle_with_an_old_absurd_escalation_delay_is_blown(whistle_city):
    # 190,000 years: past the end of the calendar.
    write_past_the_checks(whistle_city.policy, escalate_to_district_after_minutes=99999999999)
    _case, _blown, summonses = whistled_case(whistle_city, at=START)
    # The escalation counts as the longest a district may set: a year after overdue.
    for summons in summonses.values():
        assert summons.next_check_at is not None
        assert summons.next_check_at < START + timedelta(days=2)


def test_the_admin_refuses_a_calendar_year_outside_2000_to_2100(whistle_city, admin_client):
    response = admin_client.post(
        "/admin/policies/calendaryear/add/", {"year": "99999", "source": "", "district": ""}
    )
    assert response.status_code == 200
    assert "请输入 2000 至 2100 之间的年份。" in response.content.decode()
    assert not CalendarYear.objects.exists()


def test_the_calendar_years_list_reads_a_year_written_before_the_bound(whistle_city, admin_client):
    row = CalendarYear.objects.create(year=2027, source="通知")
    CalendarDay.objects.create(date=date(2027, 1, 1), is_workday=False, name="元旦")
    write_past_the_checks(row, year=99999)
    response = admin_client.get("/admin/policies/calendaryear/")
    assert response.status_code == 200
    assert "99999" in response.content.decode()


@pytest.mark.parametrize("day", ["9999-12-08", "0001-01-01", "1999-12-31", "2101-01-01"])
def test_the_admin_refuses_a_calendar_day_outside_2000_to_2100(whistle_city, admin_client, day):
    response = admin_client.post(
        "/admin/policies/calendarday/add/", {"date": day, "name": "假日", "district": ""}
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["date"] == ["请输入 2000 至 2100 年之间的日期。"]
    assert not CalendarDay.objects.exists()


def test_the_admin_refuses_a_calendar_day_outside_the_years_in_english(whistle_city, admin_client):
    response = admin_client.post(
        "/admin/policies/calendarday/add/",
        {"date": "9999-12-08", "name": "holiday", "district": ""},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "Enter a day of a year from 2000 to 2100." in response.content.decode()
    assert not CalendarDay.objects.exists()


def test_the_admin_enters_the_first_and_last_day_of_the_calendars_years(whistle_city, admin_client):
    for day in ("2000-01-01", "2100-12-31"):
        response = admin_client.post(
            "/admin/policies/calendarday/add/", {"date": day, "name": "假日", "district": ""}
        )
        assert response.status_code == 302, day
    assert CalendarDay.objects.count() == 2


def test_the_database_refuses_a_calendar_day_outside_2000_to_2100(whistle_city):
    with pytest.raises(IntegrityError), transaction.atomic():
        CalendarDay.objects.create(date=date(9999, 12, 8), is_workday=False)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_whistle_time_limit_below_one_is_refused_with_the_same_message(
    whistle_city, admin_client, language
):
    rule = WhistleRule.objects.get(kind=WhistleKind.EMERGENCY)
    admin_client.cookies["django_language"] = language
    refused = {
        value: admin_refuses(admin_client, change_url(rule), acknowledge_within=value)
        for value in (0, -5)
    }
    expected = {"zh-hans": "确保该值大于或等于1。", "en": "greater than or equal to 1."}[language]
    assert refused[0] == refused[-5]
    assert expected in refused[0]
    page = admin_client.get(change_url(rule))
    assert page.context["adminform"].form.fields["acknowledge_within"].widget.attrs["min"] == 1


def test_an_entered_year_below_2000_is_refused_with_the_years_own_message(
    whistle_city, admin_client
):
    for year in ("1999", "-5"):
        response = admin_client.post(
            "/admin/policies/calendaryear/add/", {"year": year, "source": "", "district": ""}
        )
        errors = response.context["adminform"].form.errors
        assert errors["year"] == ["请输入 2000 至 2100 之间的年份。"], year
