"""Deadlines computed while their year was unknown to the calendar: marked in the trail and
on the case page, and computed again once the year is entered (an import, the admin, or
`whistle calendar recompute`).

On a frozen clock. On Thursday 31 December 2026 at 16:00 龙潭街道 files a case of 无照经营游商
(resolve within 4 working hours) and blows a routine whistle for 城管 and 派出所. The calendar
package knows 2026 but not 2027, so the deadline counts 1.5 h on the 31st and 2.5 h on
Friday 1 January 2027 as if it were a working day: 11:30 on 1 January. With New Year's Day
entered as a rest day (and the weekend after it), the deadline is Monday 4 January, 11:30.
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, date, timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone, translation

from tests.fixtures_cases import (
    beijing,
    filed_case,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from whistle.cases import actions
from whistle.cases.deadlines import sweep
from whistle.cases.models import Case, Event
from whistle.cases.trail import EventKind
from whistle.notifications import texts
from whistle.notifications.models import Channel, Notification
from whistle.organisation.models import Jurisdiction
from whistle.policies.calendar import compute_deadline
from whistle.policies.checks import check_calendar_horizon
from whistle.policies.models import CalendarDay, CalendarYear

FILED = beijing(2026, 12, 31, 16, 0)
ASSUMED_DUE = beijing(2027, 1, 1, 11, 30)
ENTERED_DUE = beijing(2027, 1, 4, 11, 30)
MIN = timedelta(minutes=1)
MICROSECOND = timedelta(microseconds=1)


@pytest.fixture
def clock():
    with time_machine.travel(FILED, tick=False) as traveller:
        yield traveller


@pytest.fixture
def whistled(whistle_city, clock):
    """The case, its summonses, 派出所 released at 16:05 (it owes nothing more)."""
    city = whistle_city
    case, _whistle, summonses = whistled_case(city)
    urban, police = summonses[city.urban.pk], summonses[city.police.pk]
    clock.move_to(FILED + 5 * MIN)
    actions.release(city.dispatcher, police, note="不需要公安到场")
    return case, urban, police


def enter_new_year_as_orm_rows(district=None) -> None:
    """2027's New Year's Day as rows written straight to the database: no recomputation."""
    CalendarDay.objects.create(
        date=date(2027, 1, 1), is_workday=False, name="元旦", district=district
    )
    CalendarYear.objects.create(year=2027, source="国务院办公厅通知", district=district)


def utc(moment) -> str:
    """A moment as the actions write it in the trail."""
    return moment.astimezone(UTC).isoformat()


def refresh(*rows):
    for row in rows:
        row.refresh_from_db()


def recomputed_events(case: Case) -> list[Event]:
    return list(Event.objects.filter(case=case, kind=EventKind.DEADLINES_RECOMPUTED))


# Marking --------------------------------------------------------------------------------------


def test_a_deadline_reaching_into_an_unknown_year_is_marked_in_its_trail_event(
    whistle_city, clock, whistled
):
    case, urban, _police = whistled
    assert case.resolve_due_at == ASSUMED_DUE
    filed = Event.objects.get(case=case, kind=EventKind.CASE_FILED)
    assert filed.data["assumed_calendar"] == {"resolve_due_at": [2027]}
    summoned = Event.objects.get(summons=urban, kind=EventKind.SUMMONED)
    # Acknowledging and arriving count natural minutes: no calendar, nothing assumed.
    assert summoned.data["assumed_calendar"] == {"resolve_due_at": [2027]}
    assert case.assumed_calendar["resolve_due_at"] == {
        "years": [2027],
        "start": utc(FILED),
        "amount": 4,
        "unit": "working_hours",
        "shift_seconds": 0.0,
    }


@pytest.mark.parametrize(
    ("start", "amount", "unit", "due", "assumed"),
    [
        # Uses up the last working hours of 2026 exactly: 2027 is not looked at.
        (beijing(2026, 12, 31, 13, 30), 4, "working_hours", beijing(2026, 12, 31, 17, 30), ()),
        (beijing(2026, 12, 31, 13, 30), 5, "working_hours", beijing(2027, 1, 1, 10, 0), (2027,)),
        (beijing(2026, 12, 30, 10, 0), 1, "working_days", beijing(2026, 12, 31, 10, 0), ()),
        (beijing(2026, 12, 31, 10, 0), 1, "working_days", beijing(2027, 1, 1, 10, 0), (2027,)),
        (beijing(2026, 12, 31, 10, 0), 48, "natural_hours", beijing(2027, 1, 2, 10, 0), ()),
    ],
)
def test_a_computed_deadline_names_the_unknown_years_it_used(
    small_city, start, amount, unit, due, assumed
):
    computed = compute_deadline(start, amount, unit, small_city.district)
    assert (computed.at, computed.assumed_years) == (due, assumed)


def test_a_deadline_inside_a_known_year_is_not_marked(whistle_city, clock):
    clock.move_to(beijing(2026, 12, 30, 9, 0))
    case = filed_case(whistle_city)
    assert case.resolve_due_at == beijing(2026, 12, 30, 14, 30)
    assert case.assumed_calendar == {}
    filed = Event.objects.get(case=case, kind=EventKind.CASE_FILED)
    assert "assumed_calendar" not in filed.data


def test_the_case_page_says_assumed_calendar_beside_the_deadline(
    client, whistle_city, clock, whistled
):
    case, _urban, _police = whistled
    client.force_login(whistle_city.dispatcher)
    html = client.get(f"/cases/{case.reference}/").content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "处置时限 2027-01-01 11:30 推定日历（2027）" in text
    # Beside the case's own deadline and 城管's open one; 派出所 owes nothing any more.
    assert text.count("推定日历（2027）") == 2


# The recomputation --------------------------------------------------------------------------


def test_entering_the_year_recomputes_only_the_open_deadlines_with_old_and_new_values(
    whistle_city, clock, whistled
):
    city = whistle_city
    case, urban, police = whistled
    enter_new_year_as_orm_rows()
    refresh(case, urban)
    assert case.resolve_due_at == ASSUMED_DUE  # rows written directly recompute nothing
    clock.move_to(FILED + 10 * MIN)
    summary = actions.recompute_assumed_deadlines(years=[2027], trigger="command")
    assert (summary.cases, summary.changed, summary.confirmed) == (1, 2, 0)
    refresh(case, urban, police)
    assert (case.resolve_due_at, urban.resolve_due_at) == (ENTERED_DUE, ENTERED_DUE)
    assert case.assumed_calendar == {} and urban.assumed_calendar == {}
    # 派出所 was released: its deadline stays as it was computed, mark and all.
    assert police.resolve_due_at == ASSUMED_DUE
    assert police.assumed_calendar["resolve_due_at"]["years"] == [2027]

    [event] = recomputed_events(case)
    assert (event.at, event.actor, event.actor_role) == (FILED + 10 * MIN, None, "system")
    assert event.data["changes"] == {"resolve_due_at": [utc(ASSUMED_DUE), utc(ENTERED_DUE)]}
    assert event.data["summonses"] == [
        {
            "summons": str(urban.uuid),
            "department": city.urban.code,
            "resolve_due_at": [utc(ASSUMED_DUE), utc(ENTERED_DUE)],
        }
    ]
    assert (event.data["years"], event.data["trigger"]) == ([2027], "command")
    told = Notification.objects.filter(kind=EventKind.DEADLINES_RECOMPUTED, channel=Channel.INBOX)
    assert set(told.values_list("recipient__username", flat=True)) == {
        city.urban_officer.username,
        city.urban_head.username,
        city.dispatcher.username,
    }
    # Written in the deployment's language, read in the reader's (the inbox, the API).
    entry = told.first()
    assert entry is not None
    assert "2027" in entry.body and "工作日历" in entry.body, entry.body
    with translation.override("en"):
        english = texts.body_of(entry.payload, entry.body)
    assert english.startswith("The working calendar of 2027 has been entered"), english
    # The sweep watches the new deadline: nothing is overdue at the old one.
    clock.move_to(ASSUMED_DUE + MICROSECOND)
    sweep(timezone.now(), batch=100)
    assert not Event.objects.filter(kind=EventKind.RESOLVE_OVERDUE, summons=urban).exists()


def test_recomputing_again_changes_nothing(whistle_city, clock, whistled):
    case = whistled[0]
    enter_new_year_as_orm_rows()
    clock.move_to(FILED + 10 * MIN)
    actions.recompute_assumed_deadlines(years=[2027], trigger="command")
    clock.move_to(FILED + 20 * MIN)
    again = actions.recompute_assumed_deadlines(years=[2027], trigger="command")
    assert (again.cases, again.changed, again.confirmed) == (0, 0, 0)
    assert len(recomputed_events(case)) == 1


def test_a_deadline_already_recorded_overdue_stays_as_it_was_judged(whistle_city, clock, whistled):
    case, urban, _police = whistled
    clock.move_to(ASSUMED_DUE + MICROSECOND)
    sweep(timezone.now(), batch=100)  # the resolve deadline passes on the assumed calendar
    assert Event.objects.filter(kind=EventKind.RESOLVE_OVERDUE, summons=urban).exists()
    enter_new_year_as_orm_rows()
    clock.move_to(ASSUMED_DUE + MIN)
    actions.recompute_assumed_deadlines(years=[2027], trigger="command")
    refresh(case, urban)
    assert urban.resolve_due_at == ASSUMED_DUE
    # The case itself is still open: its own deadline is recomputed.
    assert case.resolve_due_at == ENTERED_DUE
    [event] = recomputed_events(case)
    assert event.data["summonses"] == []


def test_a_deadline_that_only_loses_its_mark_records_the_same_old_and_new_value(
    whistle_city, clock, whistled
):
    case = whistled[0]
    # A schedule without a rest day on 1 January: the moment stays, the assumption goes.
    CalendarDay.objects.create(date=date(2027, 10, 1), is_workday=False, name="国庆节")
    CalendarYear.objects.create(year=2027, source="测试")
    clock.move_to(FILED + 10 * MIN)
    summary = actions.recompute_assumed_deadlines(years=[2027], trigger="command")
    assert (summary.changed, summary.confirmed) == (0, 2)
    case.refresh_from_db()
    assert (case.resolve_due_at, case.assumed_calendar) == (ASSUMED_DUE, {})
    [event] = recomputed_events(case)
    assert event.data["changes"] == {"resolve_due_at": [utc(ASSUMED_DUE)] * 2}
    # Nobody needs telling: no deadline moved.
    assert not Notification.objects.filter(kind=EventKind.DEADLINES_RECOMPUTED).exists()


def test_a_district_s_own_year_recomputes_only_that_district_s_deadlines(
    whistle_city, clock, whistled
):
    case = whistled[0]
    other = Jurisdiction.objects.create(level="district", code="110102", name="西城区")
    enter_new_year_as_orm_rows(district=other)
    clock.move_to(FILED + 10 * MIN)
    summary = actions.recompute_assumed_deadlines(years=[2027], district=other, trigger="command")
    assert summary.cases == 0
    case.refresh_from_db()
    assert case.resolve_due_at == ASSUMED_DUE


def test_a_deadline_moved_off_the_backlog_keeps_its_move_when_recomputed(whistle_city, clock):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city, departments=[city.urban])
    urban = summonses[city.urban.pk]
    clock.move_to(FILED + 10 * MIN)
    case = actions.put_on_backlog(
        city.dispatcher, case, reason="待协调", review_on=date(2027, 1, 15)
    )
    clock.move_to(FILED + 10 * MIN + timedelta(days=1))
    actions.resume_from_backlog(city.dispatcher, case)  # remaining time: one day later
    urban.refresh_from_db()
    assert urban.resolve_due_at == ASSUMED_DUE + timedelta(days=1)
    enter_new_year_as_orm_rows()
    clock.move_to(FILED + 20 * MIN + timedelta(days=1))
    actions.recompute_assumed_deadlines(years=[2027], trigger="command")
    refresh(case, urban)
    assert urban.resolve_due_at == ENTERED_DUE + timedelta(days=1)
    assert case.resolve_due_at == ENTERED_DUE + timedelta(days=1)


# The three ways in --------------------------------------------------------------------------


def write_calendar(folder: Path) -> Path:
    path = folder / "calendar-2027.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows([["日期", "类型", "名称"], ["2027-01-01", "休", "元旦"]])
    return path


def test_an_import_of_the_year_recomputes_the_deadlines(whistle_city, clock, whistled, tmp_path):
    case = whistled[0]
    clock.move_to(FILED + 10 * MIN)
    out = StringIO()
    path = write_calendar(tmp_path)
    call_command("import", "calendar", str(path), "--dry-run", "--language", "en", stdout=out)
    case.refresh_from_db()
    assert case.resolve_due_at == ASSUMED_DUE  # a dry run writes nothing, recomputes nothing
    out = StringIO()
    call_command(
        "import",
        "calendar",
        str(path),
        "--complete",
        "--source",
        "国办发明电〔2026〕号",
        "--language",
        "en",
        stdout=out,
    )
    case.refresh_from_db()
    assert case.resolve_due_at == ENTERED_DUE
    assert "Deadlines computed on an assumed calendar (2027): 2 changed" in out.getvalue()
    [event] = recomputed_events(case)
    assert event.data["trigger"] == "import"


def test_saving_a_day_and_the_year_in_the_admin_recomputes_the_deadlines(
    whistle_city, clock, whistled, admin_client
):
    case, urban, _police = whistled
    clock.move_to(FILED + 10 * MIN)
    response = admin_client.post(
        "/admin/policies/calendarday/add/",
        {"date": "2027-01-01", "name": "元旦", "district": ""},
        follow=True,
    )
    assert response.status_code == 200
    refresh(case, urban)
    # The day moves the deadline; the year is not complete yet, so it stays assumed.
    assert case.resolve_due_at == ENTERED_DUE
    assert case.assumed_calendar["resolve_due_at"]["years"] == [2027]
    clock.move_to(FILED + 20 * MIN)
    response = admin_client.post(
        "/admin/policies/calendaryear/add/",
        {"year": "2027", "source": "国务院办公厅通知", "district": ""},
        follow=True,
    )
    assert response.status_code == 200
    refresh(case, urban)
    assert (case.resolve_due_at, case.assumed_calendar) == (ENTERED_DUE, {})
    assert [e.data["trigger"] for e in recomputed_events(case)] == ["admin", "admin"]
    assert [e.data["by"] for e in recomputed_events(case)] == ["admin", "admin"]
    messages = [str(m) for m in response.context["messages"]]
    recomputed = (
        "按推定日历（2027）计算的时限：0 个已变更，2 个未变，涉及 1 个未结案件。"
        "按确定日历设定的未到期时限保持不变：只有按推定日历计算的时限会重新计算。"
    )
    # The save's own message first, then what it changed.
    assert messages[0].startswith("成功添加了") and messages.index(recomputed) > 0


def test_the_admin_says_a_calendar_day_was_deleted_before_what_the_deletion_recomputed(
    whistle_city, clock, whistled, admin_client
):
    clock.move_to(FILED + 10 * MIN)
    admin_client.post(
        "/admin/policies/calendarday/add/",
        {"date": "2027-01-01", "name": "元旦", "district": ""},
        follow=True,
    )
    day = CalendarDay.objects.get(date=date(2027, 1, 1))
    response = admin_client.post(
        f"/admin/policies/calendarday/{day.pk}/delete/",
        {"post": "yes"},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    messages = [str(m) for m in response.context["messages"]]
    assert "was deleted successfully" in messages[0]
    assert messages[1].startswith("Deadlines computed on an assumed calendar (2027): 2 changed")


def test_the_case_page_reads_a_recomputation_in_words(client, whistle_city, clock, whistled):
    case = whistled[0]
    enter_new_year_as_orm_rows()
    clock.move_to(FILED + 10 * MIN)
    actions.recompute_assumed_deadlines(years=[2027], trigger="command")
    client.force_login(whistle_city.dispatcher)
    html = client.get(f"/cases/{case.reference}/").content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "按日历重新计算时限" in text
    assert "处置时限 2027-01-01 11:30 → 2027-01-04 11:30" in text
    assert "东城区城管执法局 · 处置时限 2027-01-01 11:30 → 2027-01-04 11:30" in text
    assert "日历录入方式 命令 whistle calendar recompute" in text
    # On the entered calendar nothing is assumed any more.
    assert "推定日历（2027）" not in text.split("时间线")[0]


def test_the_command_recomputes_the_deadlines(whistle_city, clock, whistled):
    case = whistled[0]
    enter_new_year_as_orm_rows()
    clock.move_to(FILED + 10 * MIN)
    out = StringIO()
    call_command("calendar", "recompute", "--year", "2027", "--language", "en", stdout=out)
    case.refresh_from_db()
    assert case.resolve_due_at == ENTERED_DUE
    assert "2 changed, 0 unchanged, on 1 open cases" in out.getvalue()
    assert recomputed_events(case)[0].data["trigger"] == "command"


# The warning names the command ---------------------------------------------------------------


def test_the_system_check_names_the_command_that_enters_the_year(small_city):
    command = 'whistle import calendar calendar-2027.csv --complete --source "'
    with time_machine.travel(beijing(2026, 11, 26, 10, 0), tick=False):
        with translation.override("en"):
            [message] = check_calendar_horizon(databases=["default"])
            assert message.id == "policies.W001"
            assert message.hint is not None and command in message.hint
        with translation.override("zh-hans"):
            [message] = check_calendar_horizon(databases=["default"])
            assert message.hint is not None and f"运行 {command}" in message.hint
