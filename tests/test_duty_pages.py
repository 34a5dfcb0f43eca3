"""The duty rosters reach people: who is on duty now and next on the command centre, its
wall and the department desk; the roster page with the coming days on the working calendar,
covers and swaps with who approved them, and the rotations out and back in as CSV and XLSX;
rosters of other departments and townships stay out of sight.

The clock stands at Tuesday 2026-05-12 15:00 Beijing time unless a test says otherwise:
钱伟 holds the department's day shift until 20:00 (王芳 the night), 钱伟 the department's day
in the township's enforcement centre (赵强 from 08:00 tomorrow), 陈志强 the command centre
(李晓梅 from 08:30 tomorrow).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.fixtures_deadlines import person
from tests.fixtures_duty import (  # noqa: F401  (fixtures)
    PAGES_NOW,
    StaffedCentre,
    bj,
    build_staffed_centre,
    centre_fixture,
    frozen_fixture,
    signed_in,
)
from whistle.duty import actions as duty_actions
from whistle.duty.errors import DutyRefused, InvalidDutyInput
from whistle.duty.models import DutyChange, RosterLogEntry, Rotation
from whistle.organisation.models import Role

NOW = PAGES_NOW


@pytest.fixture(autouse=True)
def _frozen_clock(frozen):
    """Every test here runs on the pages' clock; a test that moves it asks for `frozen`."""


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def roster_url(roster) -> str:
    return f"/duty/{roster.pk}/"


def cover(person, starts_at: str, ends_at: str, reason: str = "") -> dict[str, object]:
    """The roster page's cover form as sent: `person` on duty from `starts_at` to `ends_at`."""
    form: dict[str, object] = {
        "op": "cover",
        "cover-person": person.pk,
        "cover-starts_at": starts_at,
        "cover-ends_at": ends_at,
    }
    if reason:
        form["cover-reason"] = reason
    return form


# 王芳's night tonight for 赵强's day tomorrow, as the roster page offers them.
TONIGHT = bj(2026, 5, 12, 20).isoformat()
TOMORROW = bj(2026, 5, 13, 8).isoformat()


def swap(mine: str = TONIGHT, theirs: str = TOMORROW, reason: str = "") -> dict[str, str]:
    """The roster page's swap form as sent: the asker's shift `mine` for `theirs`."""
    form = {"op": "swap", "swap-mine": mine, "swap-theirs": theirs}
    if reason:
        form["swap-reason"] = reason
    return form


# --- Now and next, where the work is ---------------------------------------------------------


def test_the_command_centre_shows_who_is_on_duty_now_and_next(centre):
    page = html(signed_in(centre.duty.city.dispatcher).get("/dispatch/"))
    panel = page[page.index("data-duty-now") :]
    assert "指挥中心" in panel
    assert "陈志强" in panel and "李晓梅" in panel
    assert "东城区城管执法局" in panel and "钱伟" in panel and "赵强" in panel
    assert f'href="{roster_url(centre.command)}"' in panel
    # Another township's roster is not on this board.
    assert roster_url(centre.other_township) not in page


def test_the_wall_and_its_live_board_show_the_duty_too(centre):
    client = signed_in(centre.duty.city.dispatcher)
    for url in ("/dispatch/wall/", "/dispatch/board/?layout=wall"):
        page = html(client.get(url))
        assert "data-duty-now" in page and "陈志强" in page


def test_the_board_names_the_next_person_once_the_duty_has_changed_hands(centre, frozen):
    client = signed_in(centre.duty.city.dispatcher)
    frozen.move_to(bj(2026, 5, 13, 8, 29, 59))
    before = html(client.get("/dispatch/board/"))
    frozen.move_to(bj(2026, 5, 13, 8, 30))
    after = html(client.get("/dispatch/board/"))

    def now_on_duty(page: str) -> str:
        row = page[page.index("duty-row") :]
        return row[row.index("<strong>") + 8 : row.index("</strong>")]

    assert now_on_duty(before) == "陈志强"
    assert now_on_duty(after) == "李晓梅"


def test_the_department_desk_shows_its_duty_and_the_phone_desk_refreshes_at_the_handover(
    centre, frozen
):
    client = signed_in(centre.duty.wang)
    page = html(client.get("/department/"))
    panel = page[page.index("data-duty-now") : page.index('<h2 id="incoming-title"')]
    assert "钱伟" in panel and "王芳" in panel
    # The department's own roster comes first, its roster in the township's centre after,
    # on every database.
    own = panel.index(f'href="/duty/{centre.duty.roster.pk}/"')
    assert own < panel.index(f'href="/duty/{centre.centre.pk}/"')
    version = page.split("/department/live/?v=")[1].split('"')[0]
    assert client.get(f"/department/live/?v={version}").status_code == 204
    frozen.move_to(bj(2026, 5, 12, 20))
    live = client.get(f"/department/live/?v={version}")
    assert live.status_code == 200
    # 王芳 herself is on duty now: her row is marked for her.
    assert "duty-row is-me" in live.content.decode()


def test_a_township_teams_desk_shows_one_line_saying_who_is_on_duty_now(centre, frozen):
    city = centre.duty.city
    # A team serving only the township: its own roster stands behind its people in the
    # township's centre, and answers only when nobody stands there.
    city.department.serves.set([city.township])
    client = signed_in(centre.duty.wang)
    frozen.move_to(bj(2026, 5, 12, 20, 30))

    def panel() -> str:
        page = html(client.get("/department/"))
        return page[page.index("data-duty-now") : page.index('<h2 id="incoming-title"')]

    def now_on_duty(box: str) -> str:
        row = box[box.index("duty-row") :]
        return row[row.index("<strong>") + 8 : row.index("</strong>")]

    # 钱伟 stands in the centre; 王芳 holds the team's own night shift behind him.
    box = panel()
    assert box.count('class="duty-row') == 1
    assert now_on_duty(box) == "钱伟" and "王芳" not in box
    assert f'href="/duty/{centre.centre.pk}/"' in box
    assert f'href="/duty/{centre.duty.roster.pk}/"' not in box
    # Nobody in the centre any more: the one line names the own roster's 王芳.
    for rotation in Rotation.objects.filter(roster=centre.centre):
        duty_actions.remove_rotation(city.dispatcher, rotation)
    box = panel()
    assert box.count('class="duty-row') == 1
    assert now_on_duty(box) == "王芳"


def test_a_desk_without_a_roster_says_so(centre):
    page = html(signed_in(centre.other_head).get("/department/"))
    assert "东城区公安分局" in page
    assert "无人值班" in page


# --- Who reaches the roster pages -------------------------------------------------------------


def test_the_navigation_leads_heads_and_dispatchers_to_the_rosters(centre):
    city = centre.duty.city
    for someone in (city.department_head, city.dispatcher, city.township_chief):
        assert 'href="/duty/"' in html(signed_in(someone).get("/"))
    steward = person("steward-x", "刘小巷", Role.STEWARD)
    assert 'href="/duty/"' not in html(signed_in(steward).get("/"))
    assert signed_in(steward).get("/duty/").status_code == 403


def test_the_rosters_page_lists_what_each_keeps_and_offers_to_start_the_rest(centre):
    city = centre.duty.city
    head_page = html(signed_in(city.department_head).get("/duty/"))
    assert roster_url(centre.duty.roster) in head_page
    assert roster_url(centre.other_department) not in head_page
    dispatcher_page = html(signed_in(city.dispatcher).get("/duty/"))
    assert roster_url(centre.command) in dispatcher_page
    assert roster_url(centre.centre) in dispatcher_page
    assert roster_url(centre.other_township) not in dispatcher_page


def test_a_dispatcher_starts_the_roster_of_a_centre_member_that_has_none(centre):
    from whistle.organisation.models import CentreMembership

    city = centre.duty.city
    police = centre.other_department.department
    CentreMembership.objects.create(
        township=city.township, department=police, role=CentreMembership.Role.STATIONED
    )
    client = signed_in(city.dispatcher)
    assert "东城区公安分局" in html(client.get("/duty/"))
    response = client.post("/duty/start/", {"department": police.pk, "township": city.township.pk})
    started = police.rosters.get(township=city.township)
    assert response["Location"] == roster_url(started)
    assert started.log.get().actor == city.dispatcher
    # A township the dispatcher does not keep: nothing is started.
    client.post("/duty/start/", {"department": "", "township": centre.other_township.township_id})
    assert centre.other_township.township.rosters.count() == 1


def test_other_departments_and_townships_do_not_find_a_roster(centre):
    city = centre.duty.city
    cases = [
        (centre.other_head, centre.duty.roster),
        (centre.other_head, centre.command),
        (centre.other_dispatcher, centre.command),
        (centre.other_dispatcher, centre.centre),
        (city.dispatcher, centre.other_township),
        (city.department_head, centre.other_department),
    ]
    for someone, roster in cases:
        client = signed_in(someone)
        assert client.get(roster_url(roster)).status_code == 404
        assert client.get(f"{roster_url(roster)}export.csv").status_code == 404
        assert client.post(roster_url(roster), {"op": "cover"}).status_code == 404


def test_an_officer_sees_the_roster_but_cannot_set_a_cover_or_import(centre):
    client = signed_in(centre.duty.wang)
    page = html(client.get(roster_url(centre.duty.roster)))
    assert 'value="cover"' not in page and 'value="import"' not in page
    response = client.post(
        roster_url(centre.duty.roster),
        {
            "op": "cover",
            "cover-person": centre.duty.wang.pk,
            "cover-starts_at": "2026-05-12T16:00",
            "cover-ends_at": "2026-05-12T18:00",
        },
    )
    assert response.status_code == 403
    assert not DutyChange.objects.exists()


# --- The roster page ---------------------------------------------------------------------


def test_the_rotations_handovers_are_listed_as_times_in_the_pages_language(centre):
    client = signed_in(centre.duty.wang)
    assert "交班时间 08:00、20:00；" in html(client.get(roster_url(centre.duty.roster)))
    client.cookies["django_language"] = "en"
    page = html(client.get(roster_url(centre.duty.roster), HTTP_ACCEPT_LANGUAGE="en"))
    assert "Handovers at 08:00, 20:00;" in page


def test_the_coming_days_follow_the_working_calendar_with_its_holidays_and_moved_workday(db):
    staffed = build_staffed_centre(working_from=date(2026, 9, 28), rest_from=date(2026, 9, 26))
    with time_machine.travel(bj(2026, 9, 30, 9), tick=False):
        page = html(
            signed_in(staffed.duty.city.department_head).get(roster_url(staffed.duty.roster))
        )
    days = page[page.index("days-title") :]
    national_day = days[days.index("10-01") : days.index("10-02")]
    assert "休息日" in national_day and "法定节假日" in national_day and "国庆节" in national_day
    # The rest-day rotation's 24-hour duty from 09:00 ends the next day, and says so.
    assert "09:00–次日09:00" in national_day and "09:00–09:00" not in national_day
    moved = days[days.index("10-10") : days.index("10-11")]
    assert "工作日" in moved and "调休上班" in moved
    # The working-day shifts, the night running until the rest day's own handover.
    assert "08:00–20:00" in moved and "20:00–次日09:00" in moved


def test_a_head_sets_a_cover_and_the_page_says_who_approved_it(centre):
    duty = centre.duty
    client = signed_in(duty.city.department_head)
    response = client.post(
        roster_url(duty.roster),
        cover(duty.zhao, "2026-05-12T16:00", "2026-05-12T20:00", reason="钱伟外出培训"),
    )
    assert response.status_code == 302
    change = DutyChange.objects.get()
    assert (change.kind, change.status) == (DutyChange.Kind.COVER, DutyChange.Status.APPROVED)
    assert change.decided_by == duty.city.department_head
    assert change.starts_at == bj(2026, 5, 12, 16) and change.replaces == duty.qian
    page = html(client.get(roster_url(duty.roster)))
    assert "由 刘建国 批准" in page
    assert "钱伟外出培训" in page


def test_a_cover_that_ends_before_it_starts_is_refused_in_the_form(centre):
    duty = centre.duty
    response = signed_in(duty.city.department_head).post(
        roster_url(duty.roster), cover(duty.zhao, "2026-05-12T18:00", "2026-05-12T17:00")
    )
    assert response.status_code == 400
    assert "form-errors" in response.content.decode()
    assert not DutyChange.objects.exists()


def test_an_officer_asks_for_a_swap_and_the_head_approves_it(centre):
    duty = centre.duty
    officer = signed_in(duty.wang)
    page = html(officer.get(roster_url(duty.roster)))
    assert 'value="swap"' in page
    assert TONIGHT in page and TOMORROW in page
    response = officer.post(roster_url(duty.roster), swap(reason="家中有事"))
    assert response.status_code == 302
    change = DutyChange.objects.get()
    assert change.status == DutyChange.Status.REQUESTED
    # The one who asked cannot approve; the head can.
    assert 'value="approve"' not in html(officer.get(roster_url(duty.roster)))
    head = signed_in(duty.city.department_head)
    assert 'value="approve"' in html(head.get(roster_url(duty.roster)))
    head.post(roster_url(duty.roster), {"op": "approve", "change": change.uuid.hex})
    change.refresh_from_db()
    assert change.status == DutyChange.Status.APPROVED
    assert change.decided_by == duty.city.department_head
    assert RosterLogEntry.objects.filter(
        change=change, action=RosterLogEntry.Action.CHANGE_APPROVED, actor=duty.city.department_head
    ).exists()
    # In Chinese the shift and the person, and the shift given in return, are set apart with
    # full-width marks; in English with ": " and "; ".
    # The moments read as their words (`<time>` aside).
    shown = re.sub(r"</?time\b[^>]*>", "", html(head.get(roster_url(duty.roster))))
    assert re.search(r"\d\d-\d\d \d\d:\d\d–\d\d-\d\d \d\d:\d\d：\S", shown)
    assert re.search(r"\d\d:\d\d(: |; )", shown) is None
    assert "；" in shown
    english = html(head.get(roster_url(duty.roster), HTTP_ACCEPT_LANGUAGE="en"))
    english = re.sub(r"</?time\b[^>]*>", "", english)
    assert re.search(r"\d\d-\d\d \d\d:\d\d–\d\d-\d\d \d\d:\d\d: \S", english)
    assert "；" not in english and "：" not in english


def test_a_swap_that_no_keeper_apart_from_the_two_could_approve_is_refused(centre):
    duty = centre.duty
    head = duty.city.department_head
    head.is_active = False
    head.save(update_fields=["is_active"])
    response = signed_in(duty.wang).post(roster_url(duty.roster), swap())
    assert response.status_code == 400
    assert "无人能批准这次换班" in response.content.decode()
    assert not DutyChange.objects.exists()
    # With the head back, the same request waits for the head.
    head.is_active = True
    head.save(update_fields=["is_active"])
    change = duty_actions.request_swap(
        duty.wang, duty.roster, mine_at=bj(2026, 5, 12, 20), theirs_at=bj(2026, 5, 13, 8)
    )
    assert change.status == DutyChange.Status.REQUESTED


def test_a_swap_naming_a_shift_not_on_the_page_is_refused(centre):
    duty = centre.duty
    response = signed_in(duty.wang).post(
        roster_url(duty.roster), swap(mine=bj(2026, 5, 12, 21).isoformat(), theirs="not a time")
    )
    assert response.status_code == 400
    assert not DutyChange.objects.exists()


def test_a_malformed_change_id_is_not_found(centre):
    response = signed_in(centre.duty.city.department_head).post(
        roster_url(centre.duty.roster), {"op": "approve", "change": "zz"}
    )
    assert response.status_code == 404


# --- Export and import -----------------------------------------------------------------------


def export(client, roster, file_format: str) -> bytes:
    response = client.get(f"{roster_url(roster)}export.{file_format}")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    return response.content


def post_file(client, roster, name: str, content: bytes):
    upload = SimpleUploadedFile(name, content)
    return client.post(roster_url(roster), {"op": "import", "file": upload})


def test_the_csv_export_speaks_the_readers_language_and_imports_back_unchanged(centre):
    duty = centre.duty
    client = signed_in(duty.city.department_head)
    content = export(client, duty.roster, "csv")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][:6] == ["适用日", "交班时间", "轮换方式", "起始日", "顺序", "值班人账号"]
    assert (rows[1][:8]) == [
        "休息日（周末和法定节假日）",
        "09:00",
        "每日轮换",
        "2026-05-01",
        "1",
        "sun-officer",
        "孙丽",
        "zhou-officer",
    ]
    assert [r[5] for r in rows[1:]] == [
        "sun-officer",
        "zhou-officer",
        "wang-officer",
        "zhao-officer",
        "qian-officer",
    ]
    logged = RosterLogEntry.objects.count()
    response = post_file(client, duty.roster, "roster.csv", content)
    assert response.status_code == 302
    # The same rotations: nothing to log.
    assert RosterLogEntry.objects.count() == logged


def test_an_english_export_imports_back_for_a_chinese_reader_and_the_keys_still_read(centre):
    duty = centre.duty
    client = signed_in(duty.city.department_head)
    client.cookies["django_language"] = "en"
    content = export(client, duty.roster, "csv")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][:6] == [
        "Days",
        "Handover times",
        "The turn passes on",
        "Starts on",
        "Order",
        "On duty (username)",
    ]
    assert rows[3][:3] == ["working days", "08:00,20:00", "each shift"]
    logged = RosterLogEntry.objects.count()
    del client.cookies["django_language"]
    assert post_file(client, duty.roster, "roster.csv", content).status_code == 302
    assert RosterLogEntry.objects.count() == logged
    # The keys of the earlier files are read as before.
    keyed = (
        "days,handovers,turn,starts_on,position,person,backup\n"
        'working_days,"08:00,20:00",shift,2026-05-11,1,wang-officer,\n'
        'working_days,"08:00,20:00",shift,2026-05-11,2,zhao-officer,\n'
        'working_days,"08:00,20:00",shift,2026-05-11,3,qian-officer,\n'
        "rest_days,09:00,day,2026-05-01,1,sun-officer,zhou-officer\n"
        "rest_days,09:00,day,2026-05-01,2,zhou-officer,\n"
    )
    assert post_file(client, duty.roster, "roster.csv", keyed.encode()).status_code == 302
    assert RosterLogEntry.objects.count() == logged


def test_the_xlsx_export_keeps_dates_and_numbers_as_values_and_imports_back(centre):
    from openpyxl import load_workbook

    duty = centre.duty
    client = signed_in(duty.city.department_head)
    content = export(client, duty.roster, "xlsx")
    sheet = load_workbook(io.BytesIO(content)).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "适用日" and [r[5] for r in values[1:]][2] == "wang-officer"
    assert values[1][0] == "休息日（周末和法定节假日）"
    assert values[1][3].date() == date(2026, 5, 1) and values[1][4] == 1
    logged = RosterLogEntry.objects.count()
    assert post_file(client, duty.roster, "roster.xlsx", content).status_code == 302
    assert RosterLogEntry.objects.count() == logged


def test_the_coming_shifts_export_names_who_is_on_duty_with_the_covers_laid_over(centre):
    from openpyxl import load_workbook

    duty = centre.duty
    head = duty.city.department_head
    duty_actions.cover_shift(
        head,
        duty.roster,
        starts_at=bj(2026, 5, 12, 16),
        ends_at=bj(2026, 5, 12, 20),
        person=duty.zhao,
    )
    client = signed_in(head)
    response = client.get(f"{roster_url(duty.roster)}shifts.csv")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "值班日",
        "开始",
        "结束",
        "值班人账号",
        "值班人姓名",
        "备班账号",
        "备班姓名",
        "换班或代班",
    ]
    assert (rows[2][:5]) == [
        "2026-05-12",
        "2026-05-12 16:00",
        "2026-05-12 20:00",
        "zhao-officer",
        "赵强",
    ]
    assert rows[2][-1] == "代班"
    # 14 days as on the page, from today.
    assert rows[1][0] == "2026-05-12" and rows[-1][0] == "2026-05-25"
    client.cookies["django_language"] = "en"
    sheet = load_workbook(io.BytesIO(client.get(f"{roster_url(duty.roster)}shifts.xlsx").content))
    first = next(sheet.active.iter_rows(values_only=True))
    assert first[:3] == ("Duty day", "From", "Until")


def test_an_import_replaces_the_rotations_through_the_roster_log(centre):
    duty = centre.duty
    client = signed_in(duty.city.department_head)
    content = (
        b"days,handovers,turn,starts_on,position,person,backup\n"
        b"every_day,08:00,day,2026-05-13,1,zhou-officer,sun-officer\n"
        b"every_day,08:00,day,2026-05-13,2,sun-officer,\n"
    )
    assert post_file(client, duty.roster, "roster.csv", content).status_code == 302
    [rotation] = Rotation.objects.filter(roster=duty.roster)
    assert rotation.days == Rotation.Days.EVERY_DAY
    assert [m.person for m in rotation.members.order_by("position")] == [duty.zhou, duty.sun]
    actions = list(
        RosterLogEntry.objects.filter(roster=duty.roster, at=NOW).values_list("action", "actor")
    )
    assert (
        actions.count((RosterLogEntry.Action.ROTATION_REMOVED, duty.city.department_head.pk)) == 2
    )
    assert (RosterLogEntry.Action.ROTATION_SAVED, duty.city.department_head.pk) in actions


def test_a_file_with_bad_rows_reports_each_and_changes_nothing(centre):
    duty = centre.duty
    client = signed_in(duty.city.department_head)
    before = list(Rotation.objects.filter(roster=duty.roster).values_list("pk", "handovers"))
    logged = RosterLogEntry.objects.count()
    content = (
        b"days,handovers,turn,starts_on,position,person,backup\n"
        b"every_day,08:00,day,2026-05-13,1,zhou-officer,\n"
        b"someday,08:00,day,2026-05-13,2,sun-officer,\n"
        b"every_day,08:00,day,2026-05-13,3,ma-head,\n"
    )
    response = post_file(client, duty.roster, "roster.csv", content)
    assert response.status_code == 400
    page = response.content.decode()
    assert "第 3 行" in page and "第 4 行" in page and "第 2 行" not in page
    assert "ma-head" in page
    assert (
        list(Rotation.objects.filter(roster=duty.roster).values_list("pk", "handovers")) == before
    )
    assert RosterLogEntry.objects.count() == logged


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "zh-hans",
            (
                "第 2 行：适用日须为以下之一：“每日”、“工作日”、“休息日（周末和法定节假日）”",
                "第 2 行：轮换方式须为以下之一：“每班轮换”、“每日轮换”、“每周轮换”",
                "第 2 行：起始日须为日期，例如 2026-05-11",
                "第 2 行：顺序须为整数",
                "第 2 行：值班位置经度和值班位置纬度须同时填写，或都留空",
                "第 4 行：交班时间、轮换方式、起始日、结束日与同一轮班的第 3 行不一致",
            ),
        ),
        (
            "en",
            (
                "Row 2: Days must be one of “every day”, “working days”, “rest days (weekends"
                " and public holidays)”",
                "Row 2: The turn passes on must be one of “each shift”, “each day”, “each week”",
                "Row 2: Starts on must be a date such as 2026-05-11",
                "Row 2: Order must be a whole number",
                "Row 2: On-duty position longitude and On-duty position latitude go together:"
                " fill in both, or neither",
                "Row 4: Handover times, The turn passes on, Starts on, Ends on differ from row 3"
                " of the same rotation",
            ),
        ),
    ],
)
def test_a_bad_row_s_errors_name_the_columns_and_the_allowed_values_in_the_readers_language(
    centre, language, expected
):
    duty = centre.duty
    client = signed_in(duty.city.department_head)
    client.cookies["django_language"] = language
    before = list(Rotation.objects.filter(roster=duty.roster).values_list("pk", "handovers"))
    content = (
        b"days,handovers,turn,starts_on,position,person,backup,post_lon,post_lat\n"
        b"someday,08:00,weekly,11 May,first,zhou-officer,,116.4,\n"
        b"every_day,08:00,day,2026-05-13,1,zhou-officer,,,\n"
        b"every_day,09:00,day,2026-05-13,2,sun-officer,,,\n"
    )
    response = post_file(client, duty.roster, "roster.csv", content)
    assert response.status_code == 400
    page = response.content.decode()
    block = page[page.index("data-import-errors") :]
    block = block[: block.index("</ul>")]
    lines = [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li>(.*?)</li>", block)]
    assert lines == list(expected)
    assert (
        list(Rotation.objects.filter(roster=duty.roster).values_list("pk", "handovers")) == before
    )


def test_an_english_readers_export_imports_back_unchanged_for_them_as_csv_and_xlsx(centre):
    duty = centre.duty
    client = signed_in(duty.city.department_head)
    client.cookies["django_language"] = "en"
    logged = RosterLogEntry.objects.count()
    for file_format in ("csv", "xlsx"):
        content = export(client, duty.roster, file_format)
        response = post_file(client, duty.roster, f"roster.{file_format}", content)
        assert response.status_code == 302, file_format
    assert RosterLogEntry.objects.count() == logged


def test_a_file_the_actions_refuse_changes_nothing_either(centre):
    duty = centre.duty
    client = signed_in(duty.city.department_head)
    before = set(Rotation.objects.filter(roster=duty.roster).values_list("pk", flat=True))
    content = (
        b"days,handovers,turn,starts_on,position,person,backup\n"
        b"working_days,20:00,shift,2026-05-13,1,zhou-officer,\n"
        b"rest_days,20:00,day,2026-05-13,1,sun-officer,sun-officer\n"
    )
    response = post_file(client, duty.roster, "roster.csv", content)
    assert response.status_code == 400
    assert "不能做自己的备班" in response.content.decode()
    # The working-day rotation saved before the refusal was rolled back with it.
    assert set(Rotation.objects.filter(roster=duty.roster).values_list("pk", flat=True)) == before
    assert Rotation.objects.get(roster=duty.roster, days="working_days").handovers == "08:00,20:00"


def test_a_file_that_is_not_a_roster_is_refused_in_the_users_language(centre):
    client = signed_in(centre.duty.city.department_head)
    for name, content in (
        ("roster.pdf", b"%PDF-1.4"),
        ("roster.xlsx", b"not a workbook"),
        ("roster.csv", b"name,phone\n"),
        ("roster.csv", b""),
    ):
        response = post_file(client, centre.duty.roster, name, content)
        assert response.status_code == 400, name
        assert "form-errors" in response.content.decode()


def test_a_swap_is_withdrawn_by_its_asker_and_an_approved_one_cancelled_by_the_head(centre):
    duty = centre.duty
    officer = signed_in(duty.wang)
    asked = swap(reason="家中有事")
    officer.post(roster_url(duty.roster), asked)
    first = DutyChange.objects.get()
    officer.post(roster_url(duty.roster), {"op": "withdraw", "change": first.uuid.hex})
    first.refresh_from_db()
    assert first.status == DutyChange.Status.WITHDRAWN
    assert first.decided_by is None
    logged = RosterLogEntry.objects.get(change=first, action=RosterLogEntry.Action.CHANGE_WITHDRAWN)
    assert logged.before is not None and logged.after is not None
    assert (logged.actor, logged.before["status"], logged.after["status"]) == (
        duty.wang,
        DutyChange.Status.REQUESTED,
        DutyChange.Status.WITHDRAWN,
    )

    officer.post(roster_url(duty.roster), asked)
    second = DutyChange.objects.exclude(pk=first.pk).get()
    head = signed_in(duty.city.department_head)
    head.post(roster_url(duty.roster), {"op": "approve", "change": second.uuid.hex})
    head.post(roster_url(duty.roster), {"op": "cancel", "change": second.uuid.hex})
    second.refresh_from_db()
    assert second.status == DutyChange.Status.CANCELLED
    assert second.decided_by == duty.city.department_head
    assert RosterLogEntry.objects.filter(
        change=second,
        action=RosterLogEntry.Action.CHANGE_CANCELLED,
        actor=duty.city.department_head,
    ).exists()


# --- Nobody rules on their own case ------------------------------------------------------------


def second_dispatcher(centre: StaffedCentre):
    return person("gao-dispatcher", "高敏", Role.DISPATCHER, jurisdiction=centre.duty.city.township)


def test_a_keeper_who_puts_herself_on_duty_by_cover_waits_for_another_keeper(centre):
    city = centre.duty.city
    other = second_dispatcher(centre)
    # The township chief holds the command centre on 05-12; the dispatcher covers herself.
    client = signed_in(city.dispatcher)
    response = client.post(
        roster_url(centre.command), cover(city.dispatcher, "2026-05-12T16:00", "2026-05-12T18:00")
    )
    assert response.status_code == 302
    change = DutyChange.objects.get()
    assert (change.kind, change.status, change.decided_by) == (
        DutyChange.Kind.COVER,
        DutyChange.Status.REQUESTED,
        None,
    )
    assert (change.requested_by, change.replaces) == (city.dispatcher, city.township_chief)
    page = html(client.get(roster_url(centre.command)))
    assert "另一位维护人" in page or "其他维护人" in page
    # Not laid over the duty yet, and no button for her to approve it.
    assert 'value="approve"' not in page and 'value="withdraw"' in page
    assert "由 " + city.dispatcher.display_name + " 批准" not in page
    # The chief, whom it takes off, does not rule on it either.
    assert 'value="approve"' not in html(
        signed_in(city.township_chief).get(roster_url(centre.command))
    )
    with pytest.raises(DutyRefused):
        duty_actions.decide_change(city.township_chief, change, approve=True)
    keeper = signed_in(other)
    assert 'value="approve"' in html(keeper.get(roster_url(centre.command)))
    response = keeper.post(roster_url(centre.command), {"op": "approve", "change": change.uuid.hex})
    assert response.status_code == 302
    change.refresh_from_db()
    assert (change.status, change.decided_by) == (DutyChange.Status.APPROVED, other)
    assert "由 高敏 批准" in html(keeper.get(roster_url(centre.command)))
    assert list(
        RosterLogEntry.objects.filter(change=change)
        .order_by("at", "pk")
        .values_list("action", "actor")
    ) == [
        (RosterLogEntry.Action.CHANGE_REQUESTED, city.dispatcher.pk),
        (RosterLogEntry.Action.CHANGE_APPROVED, other.pk),
    ]


def test_a_keeper_taking_herself_off_by_cover_waits_and_a_late_approval_starts_it_then(centre):
    city = centre.duty.city
    other = second_dispatcher(centre)

    def hands_over(day: int) -> DutyChange:
        """The dispatcher hands 10:00–12:00 of 05-`day` on the command centre to the chief."""
        return duty_actions.cover_shift(
            city.dispatcher,
            centre.command,
            starts_at=bj(2026, 5, day, 10),
            ends_at=bj(2026, 5, day, 12),
            person=city.township_chief,
        )

    # 05-13 is the dispatcher's day; she hands two hours of it to the chief.
    change = hands_over(13)
    assert (change.status, change.replaces) == (DutyChange.Status.REQUESTED, city.dispatcher)
    with pytest.raises(DutyRefused):
        duty_actions.decide_change(city.dispatcher, change, approve=True)
    # Approved at 11:00, it runs from 11:00: the past is not rewritten.
    duty_actions.decide_change(other, change, approve=True, now=bj(2026, 5, 13, 11))
    change.refresh_from_db()
    assert (change.status, change.starts_at) == (DutyChange.Status.APPROVED, bj(2026, 5, 13, 11))
    late = hands_over(15)
    with pytest.raises(DutyRefused):
        duty_actions.decide_change(other, late, approve=True, now=bj(2026, 5, 15, 12))


def test_a_keeper_cannot_cover_herself_where_no_other_keeper_could_decide(centre):
    duty = centre.duty
    head = duty.city.department_head
    response = signed_in(head).post(
        roster_url(duty.roster), cover(head, "2026-05-12T16:00", "2026-05-12T18:00")
    )
    assert response.status_code == 400
    assert "任何人不得裁决与本人有关的事项" in response.content.decode()
    assert not DutyChange.objects.exists()
    with pytest.raises(InvalidDutyInput):
        duty_actions.cover_shift(
            head,
            duty.roster,
            starts_at=bj(2026, 5, 12, 16),
            ends_at=bj(2026, 5, 12, 18),
            person=head,
        )


def test_a_shift_that_ends_the_next_day_says_so_on_the_page_and_in_the_swap_choices(centre):
    city = centre.duty.city
    client = signed_in(city.dispatcher)
    page = html(client.get(roster_url(centre.command)))
    days = page[page.index("days-title") : page.index("changes-title")]
    assert "08:30–次日08:30" in days and "08:30–08:30 " not in days
    client.cookies["django_language"] = "en"
    page = html(client.get(roster_url(centre.command)))
    choices = page[page.index('id="swap"') :]
    assert "05-13 08:30–08:30 next day" in choices
