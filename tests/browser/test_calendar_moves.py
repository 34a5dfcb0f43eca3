"""The admin's list of open deadlines a calendar change moves, at 1366 px wide: it fits
without scrolling sideways, and its button moves the deadlines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from tests.fixtures_cases import whistle_city_fixture, whistled_case  # noqa: F401
from whistle.organisation.models import Person
from whistle.policies.calendar import calendar_for, to_local
from whistle.policies.models import CalendarDay, DurationUnit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_list_fits_1366_pixels_and_its_button_moves_the_deadlines(
    new_page, live_server, whistle_city, locale
):
    city = whistle_city
    city.street_vending.resolve_within = 5
    city.street_vending.resolve_unit = DurationUnit.WORKING_DAYS
    city.street_vending.save()
    case, _whistle, _summonses = whistled_case(city)
    due = case.resolve_due_at
    # The first working day after today, before the deadline, becomes a local holiday.
    day = to_local(timezone.now()).date() + timedelta(days=1)
    while not calendar_for(city.district).is_working_day(day):
        day += timedelta(days=1)
    assert day < to_local(due).date()
    CalendarDay.objects.create(date=day, is_workday=False, name="区庆", district=city.district)
    admin = Person.objects.create_superuser("root", password="pw-123456")
    client = Client()
    client.force_login(admin)
    page = new_page(LAPTOP, locale=locale)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto("/admin/cases/case/calendar-moves/")
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    button = page.locator("input[type=submit]")
    expect(button).to_be_in_viewport()
    with page.expect_navigation():
        button.click()
    expect(page.locator("#result_list")).to_have_count(0)
    case.refresh_from_db()
    assert case.resolve_due_at > due
