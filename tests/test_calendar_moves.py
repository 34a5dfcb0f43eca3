"""A district's calendar changes under open deadlines in working time: the admin counts and
lists the deadlines it would move, and moves them on request (or `whistle calendar
deadlines --move`), each case with its trail event.

On a frozen clock. On Monday 7 December 2026 at 10:00 龙潭街道 files a case of 无照经营游商,
here with 5 working days to resolve, and blows a routine whistle for 城管 and 派出所: every
resolve deadline is Monday 14 December, 10:00. 东城区 then declares Thursday 10 December a
local rest day: on the calendar as it now stands they would be Tuesday 15 December, 10:00.
"""

from __future__ import annotations

import re
from datetime import UTC, date, timedelta
from io import StringIO
from urllib.parse import urlparse

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone, translation

from tests.conftest import make_person
from tests.fixtures_cases import (
    beijing,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from tests.test_trail_deadlines import assert_replay_holds_every_deadline
from whistle.cases import actions
from whistle.cases.actions.calendar_moves import calendar_moves, move_deadlines_to_calendar
from whistle.cases.deadlines import sweep
from whistle.cases.models import Case, Event, Summons
from whistle.cases.trail import EventKind
from whistle.organisation.models import Jurisdiction, Person, Role
from whistle.policies.calendar import calendar_change
from whistle.policies.models import CalendarDay, DurationUnit

FILED = beijing(2026, 12, 7, 10, 0)
DUE = beijing(2026, 12, 14, 10, 0)
MOVED = beijing(2026, 12, 15, 10, 0)
MIN = timedelta(minutes=1)
HOLIDAY = date(2026, 12, 10)


@pytest.fixture
def clock():
    with time_machine.travel(FILED, tick=False) as traveller:
        yield traveller


@pytest.fixture
def whistled(whistle_city, clock):
    """The case and its two summonses, resolve in 5 working days."""
    city = whistle_city
    city.street_vending.resolve_within = 5
    city.street_vending.resolve_unit = DurationUnit.WORKING_DAYS
    city.street_vending.save()
    case, _whistle, summonses = whistled_case(city)
    return case, summonses[city.urban.pk], summonses[city.police.pk]


def utc(moment) -> str:
    return moment.astimezone(UTC).isoformat()


def moved_events(case) -> list[Event]:
    return list(Event.objects.filter(case=case, kind=EventKind.DEADLINES_RECOMPUTED))


def text_of(response) -> str:
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def link_in(note: str) -> str:
    found = re.search(r'href="([^"]+)"', note)
    assert found is not None, note
    return found.group(1).replace("&amp;", "&")


def add_holiday(client: Client, district, *, language: str = "zh-hans", **fields):
    return client.post(
        "/admin/policies/calendarday/add/",
        {"date": HOLIDAY.isoformat(), "name": "区庆", "district": district.pk, **fields},
        HTTP_ACCEPT_LANGUAGE=language,
        follow=True,
    )


def staff_admin(username: str, district) -> Person:
    person = make_person(username, Role.ADMINISTRATOR, jurisdiction=district)
    person.is_staff = True
    person.save(update_fields=["is_staff"])
    return person


# Counting and listing --------------------------------------------------------------------


def test_every_resolve_deadline_in_working_days_keeps_what_it_was_computed_from(whistled):
    case, urban, _police = whistled
    assert (case.resolve_due_at, urban.resolve_due_at) == (DUE, DUE)
    basis = {"start": utc(FILED), "amount": 5, "unit": "working_days", "shift_seconds": 0.0}
    assert case.deadline_basis == {"resolve_due_at": basis}
    # Acknowledging and arriving count natural minutes: the calendar plays no part.
    assert urban.deadline_basis == {"resolve_due_at": basis}


def test_saving_a_holiday_says_in_chinese_how_many_open_deadlines_would_move_and_links_the_list(
    whistle_city, whistled, admin_client, clock
):
    case, urban, _police = whistled
    clock.move_to(FILED + 10 * MIN)
    response = add_holiday(admin_client, whistle_city.district)
    messages = [str(m) for m in response.context["messages"]]
    assert messages[0].startswith("成功添加了")
    [note] = [m for m in messages if "按现行日历" in m]
    assert note.startswith("3 个工作时间计的未到期时限按现行日历会变动（涉及 1 个案件）。")
    # Nothing moved by the save itself.
    urban.refresh_from_db()
    assert urban.resolve_due_at == DUE
    link = link_in(note)
    page = admin_client.get(link)
    text = text_of(page)
    assert f"{case.reference} 处置时限（案件本身） 2026-12-14 10:00 2026-12-15 10:00 推后" in text
    assert "东城区城管执法局 · 处置时限 2026-12-14 10:00 2026-12-15 10:00" in text
    assert "2026-12-10 休息日 区庆（新增）" in text
    assert urlparse(link).path == "/admin/cases/case/calendar-moves/"


def test_the_message_and_the_list_read_in_english(whistle_city, whistled, admin_client, clock):
    case = whistled[0]
    clock.move_to(FILED + 10 * MIN)
    response = add_holiday(admin_client, whistle_city.district, language="en")
    [note] = [str(m) for m in response.context["messages"] if "calendar as it now" in str(m)]
    assert note.startswith(
        "3 open deadlines in working time would move with the calendar as it now stands (1 cases)."
    )
    assert "List them and move them" in note
    link = link_in(note)
    page = admin_client.get(link, HTTP_ACCEPT_LANGUAGE="en")
    text = text_of(page)
    assert f"{case.reference} resolve by (the case) 2026-12-14 10:00 2026-12-15 10:00 later" in text
    assert "2026-12-10 rest day 区庆 (entered)" in text
    assert 'value="Move these deadlines"' in page.content.decode()


def test_a_deadline_in_natural_time_is_never_counted(whistle_city, whistled, clock):
    CalendarDay.objects.create(date=HOLIDAY, is_workday=False, district=whistle_city.district)
    fields = {(m.summons.pk if m.summons else None, m.field) for m in calendar_moves(None)}
    assert {field for _row, field in fields} == {"resolve_due_at"}
    assert len(fields) == 3


# Moving ----------------------------------------------------------------------------------


def test_moving_puts_each_deadline_after_the_new_holiday_with_its_event_and_next_check(
    whistle_city, whistled, admin_client, clock
):
    case, urban, police = whistled
    clock.move_to(FILED + 10 * MIN)
    response = add_holiday(admin_client, whistle_city.district)
    [note] = [str(m) for m in response.context["messages"] if "按现行日历" in str(m)]
    link = link_in(note)
    clock.move_to(FILED + 20 * MIN)
    response = admin_client.post(link, follow=True)
    assert "3 个未到期时限已按现行日历移动，涉及 1 个案件。" in [
        str(m) for m in response.context["messages"]
    ]
    for row in (case, urban, police):
        row.refresh_from_db()
        assert row.resolve_due_at == MOVED
    assert urban.deadline_basis["resolve_due_at"]["start"] == utc(FILED)
    # The sweep looks again when the obligation next needs it, not at the old deadline.
    assert urban.next_check_at is not None and urban.next_check_at != DUE
    [event] = moved_events(case)
    assert event.actor_role == "system"
    assert event.data["by"] == "admin" and event.data["trigger"] == "admin"
    assert event.data["changes"] == {"resolve_due_at": [utc(DUE), utc(MOVED)]}
    assert event.data["calendar_change"] == [
        {
            "date": "2026-12-10",
            "workday": False,
            "name": "区庆",
            "district": whistle_city.district.code,
            "change": "added",
        }
    ]
    moved = {s["department"]: s["resolve_due_at"] for s in event.data["summonses"]}
    assert moved == {
        whistle_city.urban.code: [utc(DUE), utc(MOVED)],
        whistle_city.police.code: [utc(DUE), utc(MOVED)],
    }
    assert event.data["due_times"]["case"] == {"resolve_due_at": utc(MOVED)}
    # `whistle verify-trail` replays the moved deadlines and finds the rows as the trail says.
    assert_replay_holds_every_deadline(case)


def test_moving_twice_moves_nothing_the_second_time(whistle_city, whistled, clock):
    case = whistled[0]
    day = CalendarDay.objects.create(date=HOLIDAY, is_workday=False, district=whistle_city.district)
    change = [calendar_change(day, "added")]
    first = move_deadlines_to_calendar(None, changes=change, trigger="command")
    clock.move_to(FILED + 30 * MIN)
    again = move_deadlines_to_calendar(None, changes=change, trigger="command")
    assert (first.moved, first.cases) == (3, 1)
    assert (again.moved, again.cases) == (0, 0)
    assert len(moved_events(case)) == 1
    assert calendar_moves(None) == []


def test_the_sweep_judges_the_moved_deadline_not_the_old_one(whistle_city, whistled, clock):
    _case, urban, _police = whistled
    CalendarDay.objects.create(date=HOLIDAY, is_workday=False, district=whistle_city.district)
    move_deadlines_to_calendar(None, changes=[], trigger="command")
    clock.move_to(DUE + MIN)
    sweep(timezone.now(), batch=100)
    assert not Event.objects.filter(summons=urban, kind=EventKind.RESOLVE_OVERDUE).exists()
    clock.move_to(MOVED + MIN)
    sweep(timezone.now(), batch=100)
    assert Event.objects.filter(summons=urban, kind=EventKind.RESOLVE_OVERDUE).exists()


def test_another_district_s_holiday_and_moves_leave_this_district_untouched(
    whistle_city, whistled, clock
):
    case = whistled[0]
    xicheng = Jurisdiction.objects.create(
        level="district", code="110102", name="西城区", parent=whistle_city.city.city
    )
    CalendarDay.objects.create(date=HOLIDAY, is_workday=False, district=xicheng)
    assert calendar_moves(None) == []
    CalendarDay.objects.create(date=HOLIDAY, is_workday=False, district=whistle_city.district)
    assert move_deadlines_to_calendar([xicheng], changes=[], trigger="command").moved == 0
    case.refresh_from_db()
    assert case.resolve_due_at == DUE and moved_events(case) == []


def test_a_district_administrator_lists_and_moves_only_their_own_district(
    whistle_city, whistled, clock
):
    case = whistled[0]
    xicheng = Jurisdiction.objects.create(
        level="district", code="110102", name="西城区", parent=whistle_city.city.city
    )
    CalendarDay.objects.create(date=HOLIDAY, is_workday=False, district=whistle_city.district)
    other = Client()
    other.force_login(staff_admin("xicheng-admin", xicheng))
    page = other.get("/admin/cases/case/calendar-moves/")
    assert page.status_code == 200 and case.reference not in text_of(page)
    assert other.get("/admin/cases/case/calendar-moves/?district=110101").status_code == 404
    other.post("/admin/cases/case/calendar-moves/")
    case.refresh_from_db()
    assert case.resolve_due_at == DUE
    own = Client()
    own.force_login(staff_admin("dongcheng-admin", whistle_city.district))
    assert case.reference in text_of(own.get("/admin/cases/case/calendar-moves/"))
    own.post("/admin/cases/case/calendar-moves/")
    case.refresh_from_db()
    assert case.resolve_due_at == MOVED
    # Staff who administer no district may not move anyone's deadlines.
    chief = whistle_city.district_chief
    chief.is_staff = True
    chief.save(update_fields=["is_staff"])
    looker = Client()
    looker.force_login(chief)
    assert looker.get("/admin/cases/case/calendar-moves/").status_code == 403


def test_a_deadline_already_recorded_overdue_stays_as_it_was_judged(whistle_city, whistled, clock):
    case, urban, police = whistled
    clock.move_to(DUE + MIN)
    sweep(timezone.now(), batch=100)
    urban.refresh_from_db()
    assert urban.resolve_overdue_at is not None
    CalendarDay.objects.create(date=HOLIDAY, is_workday=False, district=whistle_city.district)
    assert calendar_moves(None) == []
    assert move_deadlines_to_calendar(None, changes=[], trigger="command").moved == 0
    for row in (case, urban, police):
        row.refresh_from_db()
        assert row.resolve_due_at == DUE


def test_a_met_deadline_and_a_closed_summons_stay_as_they_were(whistle_city, whistled, clock):
    case, _urban, police = whistled
    clock.move_to(FILED + 5 * MIN)
    actions.release(whistle_city.dispatcher, police, note="不需要公安到场")
    CalendarDay.objects.create(date=HOLIDAY, is_workday=False, district=whistle_city.district)
    move_deadlines_to_calendar(None, changes=[], trigger="command")
    police.refresh_from_db()
    case.refresh_from_db()
    assert (police.resolve_due_at, case.resolve_due_at) == (DUE, MOVED)


def test_a_removed_holiday_moves_a_deadline_earlier_but_never_into_the_past(whistle_city, clock):
    """Thursday 10 December is a rest day when the case is filed on Wednesday 9 December at
    10:00 with one working day: due Friday 11 December, 10:00. Without the holiday it would
    be Thursday 10:00."""
    city = whistle_city
    city.street_vending.resolve_within = 1
    city.street_vending.resolve_unit = DurationUnit.WORKING_DAYS
    city.street_vending.save()
    day = CalendarDay.objects.create(date=HOLIDAY, is_workday=False, district=city.district)
    clock.move_to(beijing(2026, 12, 9, 10, 0))
    case, _whistle, _summonses = whistled_case(city)
    assert case.resolve_due_at == beijing(2026, 12, 11, 10, 0)
    day.delete()
    # At 12:00 on Thursday the earlier deadline would already have passed: it stays.
    clock.move_to(beijing(2026, 12, 10, 12, 0))
    moves = calendar_moves(None)
    assert moves and all(m.kept for m in moves)
    assert move_deadlines_to_calendar(None, changes=[], trigger="command").moved == 0
    case.refresh_from_db()
    assert case.resolve_due_at == beijing(2026, 12, 11, 10, 0)
    # At 09:00 the earlier deadline is still to come: it moves earlier.
    clock.move_to(beijing(2026, 12, 10, 9, 0))
    assert move_deadlines_to_calendar(None, changes=[], trigger="command").moved == 3
    case.refresh_from_db()
    assert case.resolve_due_at == beijing(2026, 12, 10, 10, 0)


def test_the_case_page_names_the_calendar_change_behind_the_move(
    client, whistle_city, whistled, clock
):
    case = whistled[0]
    day = CalendarDay.objects.create(date=HOLIDAY, is_workday=False, district=whistle_city.district)
    move_deadlines_to_calendar(None, changes=[calendar_change(day, "added")], trigger="command")
    client.force_login(whistle_city.dispatcher)
    text = text_of(client.get(f"/cases/{case.reference}/"))
    assert "日历变动 2026-12-10 休息日（新增）" in text
    assert "处置时限 2026-12-14 10:00 → 2026-12-15 10:00" in text


# The command -----------------------------------------------------------------------------


def test_the_command_lists_and_then_moves_the_deadlines(whistle_city, whistled, clock):
    case = whistled[0]
    CalendarDay.objects.create(date=HOLIDAY, is_workday=False, district=whistle_city.district)
    out = StringIO()
    call_command("calendar", "deadlines", "--district", "110101", "--language", "en", stdout=out)
    listed = out.getvalue()
    line = f"{case.reference} · resolve by (the case): 2026-12-14 10:00 → 2026-12-15 10:00"
    assert line in listed
    assert "3 open deadlines in working time would move" in listed
    case.refresh_from_db()
    assert case.resolve_due_at == DUE
    out = StringIO()
    call_command("calendar", "deadlines", "--move", stdout=out)
    assert "3 个未到期时限已按现行日历移动，涉及 1 个案件。" in out.getvalue()
    case.refresh_from_db()
    assert case.resolve_due_at == MOVED
    assert moved_events(case)[0].data["trigger"] == "command"


def test_an_import_of_a_holiday_ends_its_report_with_the_count_and_the_command(
    whistle_city, whistled, clock, tmp_path
):
    case = whistled[0]
    path = tmp_path / "holidays.csv"
    path.write_text("日期,类型,名称,所属区\n2026-12-10,休,区庆,110101\n", encoding="utf-8")
    out = StringIO()
    call_command("import", "calendar", str(path), "--language", "en", stdout=out)
    report = out.getvalue()
    assert "3 open deadlines in working time would move" in report
    assert "whistle calendar deadlines" in report
    case.refresh_from_db()
    assert case.resolve_due_at == DUE


# A moved workday on a weekday ------------------------------------------------------------


def test_a_working_day_entered_on_an_ordinary_weekday_is_refused_as_pointless(
    whistle_city, admin_client
):
    response = admin_client.post(
        "/admin/policies/calendarday/add/",
        {"date": "2026-12-09", "is_workday": "on", "name": "调休", "district": ""},
    )
    assert response.status_code == 200
    assert not CalendarDay.objects.exists()
    assert "2026-12-09 是星期三，本来就是工作日" in text_of(response)
    response = admin_client.post(
        "/admin/policies/calendarday/add/",
        {"date": "2026-12-09", "is_workday": "on", "name": "调休", "district": ""},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "2026-12-09 is a Wednesday and a working day already" in text_of(response)


@pytest.mark.parametrize(
    ("day", "district"),
    [
        ("2026-12-12", False),  # a Saturday
        ("2026-10-01", True),  # National Day, a Thursday: the district works on it
    ],
)
def test_a_working_day_on_a_weekend_or_on_a_holiday_is_accepted(
    whistle_city, admin_client, day, district
):
    with translation.override("en"):
        response = admin_client.post(
            "/admin/policies/calendarday/add/",
            {
                "date": day,
                "is_workday": "on",
                "name": "调休",
                "district": whistle_city.district.pk if district else "",
            },
        )
    assert response.status_code == 302
    assert CalendarDay.objects.filter(date=day, is_workday=True).exists()


# Deadlines set before they kept their basis ---------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("latest_schema_after")
def test_the_migration_gives_open_deadlines_set_before_it_the_basis_that_reproduces_them(
    whistle_city,
):
    city = whistle_city
    city.street_vending.resolve_within = 5
    city.street_vending.resolve_unit = DurationUnit.WORKING_DAYS
    city.street_vending.save()
    with time_machine.travel(FILED, tick=False):
        case, _whistle, summonses = whistled_case(city)
        urban = summonses[city.urban.pk]
        # A department whose limit was changed since: its deadline cannot be told for certain.
        Summons.objects.filter(pk=urban.pk).update(resolve_due_at=DUE + timedelta(hours=1))
    expected = {
        "case": Case.objects.get(pk=case.pk).deadline_basis,
        "police": Summons.objects.get(pk=summonses[city.police.pk].pk).deadline_basis,
    }
    assert expected["case"] and expected["police"]
    Case.objects.update(deadline_basis={})
    Summons.objects.update(deadline_basis={})
    executor = MigrationExecutor(connection)
    executor.migrate([("cases", "0030_deadline_basis")])
    executor.loader.build_graph()
    executor.migrate([("cases", "0031_deadline_basis_of_open_deadlines")])
    assert Case.objects.get(pk=case.pk).deadline_basis == expected["case"]
    assert Summons.objects.get(pk=summonses[city.police.pk].pk).deadline_basis == expected["police"]
    assert Summons.objects.get(pk=urban.pk).deadline_basis == {}
