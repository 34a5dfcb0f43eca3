"""A roster's keepers keep its rotations on a form, swap two people's shifts themselves, and a
district loads many rosters at once with `whistle import rosters`.

The clock stands at Tuesday 2026-05-12 15:00 Beijing time: on the department's working-day
rotation (08:00 and 20:00 from 2026-05-11, by the shift) 钱伟 holds today's day shift, 王芳
tonight's night, 赵强 tomorrow's day and 钱伟 tomorrow's night. 刘建国 heads the department
and keeps its roster; 李晓梅 dispatches in 龙潭街道 and keeps the township's rosters.
"""

from __future__ import annotations

from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.fixtures_duty import (  # noqa: F401  (fixtures)
    PAGES_NOW,
    StaffedCentre,
    bj,
    build_staffed_centre,
    centre_fixture,
    frozen_fixture,
    signed_in,
)
from whistle.duty import actions, transfer
from whistle.duty.errors import DutyRefused, InvalidDutyInput
from whistle.duty.models import DutyChange, Roster, RosterLogEntry, Rotation
from whistle.duty.schedule import Schedule, board
from whistle.notifications.models import Notification
from whistle.organisation.models import CentreMembership, Jurisdiction

NOW = PAGES_NOW


@pytest.fixture(autouse=True)
def _frozen_clock(frozen):
    """Every test here runs on the pages' clock; a test that moves it asks for `frozen`."""


def rotation_url(rotation: Rotation) -> str:
    return f"/duty/{rotation.roster_id}/rotations/{rotation.pk}/"


def working_days(centre: StaffedCentre) -> Rotation:
    return Rotation.objects.get(roster=centre.duty.roster, days=Rotation.Days.WORKING_DAYS)


def member_rows(*rows: tuple[object, object, object], extra: int = 0) -> dict[str, object]:
    """The members part of the rotation form: (order, person id, backup id) per row."""
    data: dict[str, object] = {
        "members-TOTAL_FORMS": len(rows) + extra,
        "members-INITIAL_FORMS": 0,
        "members-MIN_NUM_FORMS": 0,
        "members-MAX_NUM_FORMS": 1000,
    }
    for n, (position, person, backup) in enumerate(rows):
        data[f"members-{n}-position"] = position
        data[f"members-{n}-person"] = person
        data[f"members-{n}-backup"] = backup
    for n in range(len(rows), len(rows) + extra):
        data[f"members-{n}-position"] = ""
        data[f"members-{n}-person"] = ""
        data[f"members-{n}-backup"] = ""
    return data


def on_rotation(rotation: Rotation) -> list[tuple[str, str | None]]:
    return [
        (m.person.username, m.backup.username if m.backup else None)
        for m in rotation.members.order_by("position")
    ]


# --- The rotation form ---------------------------------------------------------------------


def test_a_head_changes_a_rotation_on_the_form_and_the_log_keeps_before_and_after(centre):
    duty = centre.duty
    rotation = working_days(centre)
    client = signed_in(duty.city.department_head)
    page = client.get(rotation_url(rotation)).content.decode()
    assert 'value="08:00,20:00"' in page and "王芳" in page
    response = client.post(
        rotation_url(rotation),
        {
            "op": "save",
            "handovers": "08:30，20:30",
            "turn": "day",
            "starts_on": "2026-05-14",
            # The order column decides, not the order of the rows; a blank row is left out.
            **member_rows(
                (2, duty.wang.pk, ""),
                (1, duty.qian.pk, duty.zhou.pk),
                ("", "", ""),
            ),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/duty/{duty.roster.pk}/#rotations"
    rotation.refresh_from_db()
    assert (rotation.handovers, rotation.turn) == ("08:30,20:30", "day")
    assert str(rotation.starts_on) == "2026-05-14"
    assert on_rotation(rotation) == [("qian-officer", "zhou-officer"), ("wang-officer", None)]
    entry = RosterLogEntry.objects.filter(action=RosterLogEntry.Action.ROTATION_SAVED).first()
    assert entry is not None and entry.at == NOW
    assert (entry.actor, entry.actor_role) == (duty.city.department_head, "department_head")
    assert entry.before is not None and entry.after is not None
    assert entry.before["handovers"] == "08:00,20:00"
    assert [m["person"]["username"] for m in entry.before["members"]] == [
        "wang-officer",
        "zhao-officer",
        "qian-officer",
    ]
    assert entry.after["handovers"] == "08:30,20:30"
    # The roster page shows the change in its log, before → after.
    roster_page = client.get(f"/duty/{duty.roster.pk}/").content.decode()
    log = roster_page[roster_page.index('id="log"') :]
    assert "<del>08:00,20:00</del> → 08:30,20:30" in log
    assert "<del>王芳、赵强、钱伟</del> → 钱伟、王芳" in log


def test_a_head_removes_a_rotation_and_adds_one_for_every_day(centre):
    duty = centre.duty
    client = signed_in(duty.city.department_head)
    for rotation in Rotation.objects.filter(roster=duty.roster):
        assert client.post(rotation_url(rotation), {"op": "remove"}).status_code == 302
    assert not Rotation.objects.filter(roster=duty.roster).exists()
    removed = RosterLogEntry.objects.filter(
        roster=duty.roster, action=RosterLogEntry.Action.ROTATION_REMOVED
    )
    assert removed.count() == 2 and all(e.after is None and e.before for e in removed)
    new_url = f"/duty/{duty.roster.pk}/rotations/new/"
    assert 'name="days"' in client.get(new_url).content.decode()
    response = client.post(
        new_url,
        {
            "op": "save",
            "days": "every_day",
            "handovers": "09:00",
            "turn": "week",
            "starts_on": "2026-05-11",
            **member_rows(("", duty.sun.pk, ""), ("", duty.zhao.pk, ""), extra=2),
        },
    )
    assert response.status_code == 302
    rotation = Rotation.objects.get(roster=duty.roster)
    assert (rotation.days, rotation.turn) == ("every_day", "week")
    assert on_rotation(rotation) == [("sun-officer", None), ("zhao-officer", None)]
    # By the week from Monday 2026-05-11: 孙丽 is on duty now.
    (now_on_duty,) = board([duty.roster], NOW)
    assert now_on_duty.now is not None and now_on_duty.now.person == duty.sun


def test_a_bad_rotation_is_shown_on_the_form_in_chinese_and_nothing_is_written(centre):
    duty = centre.duty
    rotation = working_days(centre)
    client = signed_in(duty.city.department_head)
    logged = RosterLogEntry.objects.count()
    cases = [
        ({"handovers": "25:00"}, "时间无效：25:00"),
        ({"handovers": "20:00,08:00"}, "一天内的交班时间须按先后顺序填写"),
        ({"starts_on": "2026-13-40"}, "输入一个有效的日期"),
        ({"members-0-person": "", "members-1-person": ""}, "轮班中至少要有一人"),
        ({"members-0-backup": str(duty.wang.pk)}, "王芳 不能做自己的备班"),
        ({"members-1-person": str(centre.other_head.pk)}, "选择一个有效的选项"),
    ]
    for change, message in cases:
        data = {
            "op": "save",
            "handovers": "08:00,20:00",
            "turn": "shift",
            "starts_on": "2026-05-11",
            **member_rows(("", duty.wang.pk, ""), ("", duty.zhao.pk, "")),
            **change,
        }
        response = client.post(rotation_url(rotation), data)
        assert response.status_code == 400, change
        page = response.content.decode()
        assert "form-errors" in page and message in page, (change, message)
    # A post without the members' part, or with a bad operation, writes nothing either.
    for data in ({"op": "save", "handovers": "08:00"}, {"op": "bogus"}):
        assert client.post(rotation_url(rotation), data).status_code == 400
    # The same refusal in English for a reader who asks for it.
    english = client.post(
        rotation_url(rotation),
        {
            "op": "save",
            "handovers": "08:00,20:00",
            "turn": "shift",
            "starts_on": "2026-05-11",
            **member_rows(("", duty.wang.pk, duty.wang.pk)),
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert english.status_code == 400
    assert "王芳 cannot be their own backup." in english.content.decode()
    assert RosterLogEntry.objects.count() == logged
    assert on_rotation(working_days(centre)) == [
        ("wang-officer", None),
        ("zhao-officer", None),
        ("qian-officer", None),
    ]


def test_an_every_day_rotation_beside_working_day_ones_is_refused_by_the_action(centre):
    duty = centre.duty
    client = signed_in(duty.city.department_head)
    response = client.post(
        f"/duty/{duty.roster.pk}/rotations/new/",
        {
            "op": "save",
            "days": "every_day",
            "handovers": "08:00",
            "turn": "day",
            "starts_on": "2026-05-13",
            **member_rows(("", duty.wang.pk, "")),
        },
    )
    assert response.status_code == 400
    assert "请先删除它们" in response.content.decode()
    assert not Rotation.objects.filter(roster=duty.roster, days="every_day").exists()


def test_only_the_keepers_reach_the_rotation_form(centre):
    duty = centre.duty
    rotation = working_days(centre)
    officer = signed_in(duty.wang)
    assert officer.get(rotation_url(rotation)).status_code == 403
    assert officer.post(rotation_url(rotation), {"op": "remove"}).status_code == 403
    page = officer.get(f"/duty/{duty.roster.pk}/").content.decode()
    assert "/rotations/" not in page
    # Another department's head does not find the roster; a rotation of another roster is
    # not found under this one.
    assert signed_in(centre.other_head).get(rotation_url(rotation)).status_code == 404
    head = signed_in(duty.city.department_head)
    other = Rotation.objects.get(roster=centre.centre)
    assert head.get(f"/duty/{duty.roster.pk}/rotations/{other.pk}/").status_code == 404
    # The township's dispatcher keeps the centre's roster, the head does not.
    assert head.get(rotation_url(other)).status_code == 403
    assert signed_in(duty.city.dispatcher).get(rotation_url(other)).status_code == 200
    assert Rotation.objects.filter(pk=rotation.pk).exists()


# --- A keeper swaps two people's shifts ----------------------------------------------------


def test_a_head_swaps_two_officers_shifts_and_is_recorded_as_approving_it(centre):
    duty = centre.duty
    head = duty.city.department_head
    client = signed_in(head)
    tonight, tomorrow = bj(2026, 5, 12, 20), bj(2026, 5, 13, 8)
    page = client.get(f"/duty/{duty.roster.pk}/").content.decode()
    assert 'value="trade"' in page and tonight.isoformat() in page
    response = client.post(
        f"/duty/{duty.roster.pk}/",
        {
            "op": "trade",
            "trade-first": tonight.isoformat(),
            "trade-second": tomorrow.isoformat(),
            "trade-reason": "王芳明早体检",
        },
    )
    assert response.status_code == 302
    change = DutyChange.objects.get()
    assert (change.kind, change.status) == (DutyChange.Kind.SWAP, DutyChange.Status.APPROVED)
    assert (change.requested_by, change.decided_by, change.decided_at) == (head, head, NOW)
    entry = RosterLogEntry.objects.get(change=change)
    assert entry.after is not None
    assert (entry.action, entry.actor, entry.after["decided_by"]["username"]) == (
        RosterLogEntry.Action.SWAP_SET,
        head,
        "liu-head",
    )
    schedule = Schedule.load([duty.roster], tonight, tomorrow)
    shifts = schedule.shifts(duty.roster, tonight, bj(2026, 5, 13, 9))
    assert [s.person for s in shifts] == [duty.zhao, duty.wang]
    for someone in (duty.wang, duty.zhao):
        assert Notification.objects.filter(recipient=someone, kind="duty.change").exists()
    assert "由 刘建国 批准" in client.get(f"/duty/{duty.roster.pk}/").content.decode()


def test_a_keeper_cannot_swap_their_own_shift_or_one_that_has_begun(centre):
    city = centre.duty.city
    # 陈志强 holds the command centre today, 李晓梅 (the dispatcher) tomorrow from 08:30.
    with pytest.raises(InvalidDutyInput) as own:
        actions.swap_shifts(
            city.dispatcher,
            centre.command,
            first_at=bj(2026, 5, 13, 9),
            second_at=bj(2026, 5, 14, 9),
        )
    assert own.value.field == "first_at"
    duty = centre.duty
    # 钱伟's day shift has begun.
    with pytest.raises(InvalidDutyInput) as begun:
        actions.swap_shifts(
            duty.city.department_head,
            duty.roster,
            first_at=NOW,
            second_at=bj(2026, 5, 13, 8),
        )
    assert begun.value.field == "first_at" and "尚未开始" in str(begun.value)
    # 王芳 tonight and 王芳 on Thursday's day shift.
    with pytest.raises(InvalidDutyInput) as same:
        actions.swap_shifts(
            duty.city.department_head,
            duty.roster,
            first_at=bj(2026, 5, 12, 20),
            second_at=bj(2026, 5, 14, 8),
        )
    assert same.value.field == "second_at"
    with pytest.raises(DutyRefused) as not_keeper:
        actions.swap_shifts(
            duty.zhao, duty.roster, first_at=bj(2026, 5, 12, 20), second_at=bj(2026, 5, 13, 20)
        )
    assert type(not_keeper.value) is DutyRefused
    assert not DutyChange.objects.exists()


def test_an_officer_has_no_keeper_swap_and_a_refused_one_is_shown_on_the_form(centre):
    duty = centre.duty
    officer = signed_in(duty.zhao)
    assert 'value="trade"' not in officer.get(f"/duty/{duty.roster.pk}/").content.decode()
    data = {
        "op": "trade",
        "trade-first": bj(2026, 5, 12, 20).isoformat(),
        "trade-second": bj(2026, 5, 13, 20).isoformat(),
    }
    assert officer.post(f"/duty/{duty.roster.pk}/", data).status_code == 403
    # 王芳 tonight and 王芳 on Thursday's day shift: the same person's, said on the form.
    data["trade-second"] = bj(2026, 5, 14, 8).isoformat()
    response = signed_in(duty.city.department_head).post(f"/duty/{duty.roster.pk}/", data)
    assert response.status_code == 400
    assert "两个班都是同一个人的" in response.content.decode()
    assert not DutyChange.objects.exists()


# --- whistle import rosters ----------------------------------------------------------------


def write(folder: Path, text: str, name: str = "rosters.csv") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def run(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import", "rosters", str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def refused(path: Path, *args: str) -> tuple[str, str]:
    err = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("import", "rosters", str(path), *args, stdout=StringIO(), stderr=err)
    return err.getvalue(), str(failure.value)


def test_one_file_sets_the_rotations_of_several_rosters_and_starts_a_new_one(centre, tmp_path):
    duty = centre.duty
    police = centre.other_department.department
    CentreMembership.objects.create(
        township=duty.city.township, department=police, role=CentreMembership.Role.STATIONED
    )
    path = write(
        tmp_path,
        "部门,街乡,适用日,交班时间,轮换方式,起始日,顺序,值班人,备班\n"
        ",110101015,每日,08:00,每日轮换,2026-05-01,1,chen-chief,\n"
        ",110101015,every_day,08:00,day,2026-05-01,2,li-dispatcher,\n"
        "dc-gaj,110101015,every_day,09:00,week,2026-05-11,1,ma-head,\n"
        "dc-gaj,,every_day,09:00,day,2026-05-11,1,ma-head,\n",
    )
    output = run(path, "--update")
    assert "已导入" in output
    command = Rotation.objects.get(roster=centre.command)
    assert (command.handovers, command.turn) == ("08:00", "day")
    assert on_rotation(command) == [("chen-chief", None), ("li-dispatcher", None)]
    started = Roster.objects.get(department=police, township=duty.city.township)
    assert on_rotation(started.rotations.get()) == [("ma-head", None)]
    assert on_rotation(centre.other_department.rotations.get()) == [("ma-head", None)]
    # Through the roster actions, logged as an import; the rosters not in the file stay.
    entry = RosterLogEntry.objects.get(roster=started, action=RosterLogEntry.Action.ROTATION_SAVED)
    assert (entry.actor, entry.actor_role) == (None, "import")
    assert RosterLogEntry.objects.filter(roster=started, actor_role="import").count() == 2
    assert Rotation.objects.filter(roster=duty.roster).count() == 2
    # The same file again changes nothing.
    logged = RosterLogEntry.objects.count()
    assert "不变 3" in run(path)
    assert RosterLogEntry.objects.count() == logged


def test_every_bad_row_is_reported_by_its_number_and_nothing_is_imported(centre, tmp_path):
    before = sorted(Rotation.objects.values_list("pk", "roster_id", "handovers"))
    logged = RosterLogEntry.objects.count()
    path = write(
        tmp_path,
        "department,township,days,handovers,turn,starts_on,person\n"
        ",110101015,every_day,08:00,day,2026-05-01,chen-chief\n"
        "nowhere,,every_day,08:00,day,2026-05-01,ma-head\n"
        ",,every_day,08:00,day,2026-05-01,ma-head\n"
        "dc-gaj,,someday,08:00,day,2026-05-01,ma-head\n"
        "dc-gaj,,every_day,08:00,day,2026-05-01,wang-officer\n"
        "dc-gaj,110101015,every_day,08:00,day,2026-05-01,ma-head\n",
    )
    errors, summary = refused(path, "--update")
    lines = errors.strip().splitlines()
    assert [line.split("：")[0].split("，")[0] for line in lines] == [
        "第 3 行",
        "第 4 行",
        "第 5 行",
        "第 6 行",
        "第 7 行",
    ]
    assert "nowhere" in lines[0] and "wang-officer" in lines[3] and "执法中心" in lines[4]
    assert "共有 5 处错误，未导入任何数据" in summary
    assert sorted(Rotation.objects.values_list("pk", "roster_id", "handovers")) == before
    assert RosterLogEntry.objects.count() == logged


def test_a_roster_with_other_rotations_is_replaced_only_with_update(centre, tmp_path):
    path = write(
        tmp_path,
        "township,days,handovers,turn,starts_on,person\n"
        "110101015,every_day,07:00,day,2026-05-01,chen-chief\n",
    )
    errors, _summary = refused(path)
    assert "第 2 行" in errors and "--update" in errors
    assert Rotation.objects.get(roster=centre.command).handovers == "08:30"
    assert "试运行" in run(path, "--update", "--dry-run")
    assert Rotation.objects.get(roster=centre.command).handovers == "08:30"
    run(path, "--update")
    assert Rotation.objects.get(roster=centre.command).handovers == "07:00"


def test_a_refusal_by_the_actions_rolls_back_every_roster_of_the_file(centre, tmp_path):
    path = write(
        tmp_path,
        "township,department,days,handovers,turn,starts_on,person,backup\n"
        "110101015,,every_day,07:00,day,2026-05-01,chen-chief,\n"
        ",dc-gaj,every_day,09:00,day,2026-05-01,ma-head,ma-head\n",
    )
    errors, _summary = refused(path, "--update")
    assert errors.strip() == "第 3 行：马军 不能做自己的备班。"
    assert Rotation.objects.get(roster=centre.command).handovers == "08:30"
    assert not centre.other_department.rotations.exists()


def test_rows_outside_the_district_given_are_refused(centre, tmp_path):
    Jurisdiction.objects.create(
        level="district", code="110102", name="西城区", parent=centre.duty.city.district.parent
    )
    path = write(
        tmp_path,
        "township,days,handovers,turn,starts_on,person\n"
        "110101015,every_day,07:00,day,2026-05-01,chen-chief\n",
    )
    errors, _summary = refused(path, "--update", "--district", "110102")
    assert errors.strip() == "第 2 行：这个值班表不在 西城区，即正在导入的区"
    assert Rotation.objects.get(roster=centre.command).handovers == "08:30"


def test_an_xlsx_file_is_read_by_the_roster_reader_and_reported_in_english(centre, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["department", "days", "handovers", "turn", "starts_on", "person"])
    sheet.append(["dc-gaj", "every_day", "09:00", "day", date(2026, 5, 11), "ma-head"])
    sheet.append(["dc-gaj", "every_day", "09:00", "day", date(2026, 5, 11), "nobody-here"])
    path = tmp_path / "rosters.xlsx"
    workbook.save(path)
    errors, summary = refused(path, "--language", "en")
    assert errors.strip() == (
        "Row 3: nobody-here is not among the people who may stand on this roster"
    )
    assert summary == "1 error in rosters.xlsx; nothing was imported."
    sheet.delete_rows(3)
    workbook.save(path)
    assert "Imported rosters.xlsx" in run(path, "--language", "en")
    assert on_rotation(centre.other_department.rotations.get()) == [("ma-head", None)]
    with pytest.raises(CommandError, match="--sheet"):
        call_command("import", "rosters", str(path), "--sheet", "Sheet2", stdout=StringIO())


def test_a_rotation_that_ends_puts_nobody_on_duty_after_its_last_day(centre):
    duty = centre.duty
    rotation = Rotation.objects.get(roster=centre.centre)
    client = signed_in(duty.city.dispatcher)
    base = {
        "op": "save",
        "handovers": "08:00",
        "turn": "day",
        "starts_on": "2026-05-01",
        **member_rows(("", duty.zhao.pk, ""), ("", duty.qian.pk, "")),
    }
    refused_end = client.post(rotation_url(rotation), {**base, "ends_on": "2026-04-30"})
    assert refused_end.status_code == 400
    assert "轮班不能在开始之前结束" in refused_end.content.decode()
    assert client.post(rotation_url(rotation), {**base, "ends_on": "2026-05-13"}).status_code == 302
    rotation.refresh_from_db()
    assert str(rotation.ends_on) == "2026-05-13"
    # The last day's shift runs to the next morning's handover; then nobody is on duty.
    schedule = Schedule.load([centre.centre], bj(2026, 5, 13), bj(2026, 5, 15))
    shifts = schedule.shifts(centre.centre, bj(2026, 5, 13, 9), bj(2026, 5, 15))
    assert [(s.starts_at, s.ends_at, s.person) for s in shifts if s.person] == [
        (bj(2026, 5, 13, 8), bj(2026, 5, 14, 8), duty.zhao)
    ]
    entry = RosterLogEntry.objects.filter(roster=centre.centre).first()
    assert entry is not None and entry.after is not None
    assert (entry.action, entry.after["ends_on"]) == (
        RosterLogEntry.Action.ROTATION_SAVED,
        "2026-05-13",
    )
    # The export carries the last day, and the file imports back unchanged.
    exported = client.get(f"/duty/{centre.centre.pk}/export.csv").content.decode("utf-8-sig")
    assert exported.splitlines()[0].endswith(",结束日,值班位置经度,值班位置纬度")
    assert exported.splitlines()[1].endswith(",2026-05-13,,")
    logged = RosterLogEntry.objects.count()
    upload = SimpleUploadedFile("roster.csv", exported.encode())
    assert (
        client.post(f"/duty/{centre.centre.pk}/", {"op": "import", "file": upload}).status_code
        == 302
    )
    assert RosterLogEntry.objects.count() == logged


def test_a_keeper_with_only_one_other_person_on_the_roster_is_not_offered_a_swap(centre):
    # The command centre: 李晓梅 keeps it and stands on it with 陈志强 alone.
    page = signed_in(centre.duty.city.dispatcher).get(f"/duty/{centre.command.pk}/")
    assert 'value="trade"' not in page.content.decode()
    assert 'value="cover"' in page.content.decode()


def test_a_head_sets_the_rotation_s_on_duty_position_and_the_log_shows_it(centre):
    """The on-duty position (where the person on duty waits, for the 30-minute reach):
    both coordinates or neither, kept when the form is saved again without touching it."""
    duty = centre.duty
    rotation = working_days(centre)
    client = signed_in(duty.city.department_head)
    form = {
        "op": "save",
        "handovers": "08:00,20:00",
        "turn": "shift",
        "starts_on": "2026-05-11",
        **member_rows((1, duty.qian.pk, ""), (2, duty.wang.pk, "")),
    }
    half = client.post(rotation_url(rotation), {**form, "post_lon": "116.43"})
    assert half.status_code == 400
    assert "请同时填写值班位置的经度和纬度。" in half.content.decode()
    rotation.refresh_from_db()
    assert rotation.post is None
    saved = client.post(rotation_url(rotation), {**form, "post_lon": "116.43", "post_lat": "39.87"})
    assert saved.status_code == 302
    rotation.refresh_from_db()
    assert rotation.post == (116.43, 39.87)
    entry = RosterLogEntry.objects.filter(action=RosterLogEntry.Action.ROTATION_SAVED).first()
    assert entry is not None and entry.after is not None and entry.after["post"] == [116.43, 39.87]
    log = client.get(f"/duty/{duty.roster.pk}/").content.decode()
    assert "值班位置" in log and "116.43000, 39.87000" in log
    page = client.get(rotation_url(rotation)).content.decode()
    assert 'value="116.43"' in page
    with pytest.raises(InvalidDutyInput):
        actions.save_rotation(
            duty.city.department_head,
            duty.roster,
            days=rotation.days,
            handovers="08:00",
            turn="day",
            starts_on=date(2026, 5, 11),
            members=[(duty.wang, None)],
            post=(200.0, 39.87),
        )


def test_the_file_sets_each_rotation_s_on_duty_position_or_leaves_it_as_it_was(centre, tmp_path):
    """The on-duty position (for the 30-minute reach) in the file's two columns: a file
    without them keeps the rotation's; with them, the file's (blank: none)."""
    rotation = Rotation.objects.get(roster=centre.command)
    rotation.post_lon, rotation.post_lat = 116.41, 39.88
    rotation.save(update_fields=["post_lon", "post_lat"])
    head = "街乡,适用日,交班时间,轮换方式,起始日,值班人"
    run(
        write(tmp_path, f"{head}\n110101015,every_day,07:00,day,2026-05-01,chen-chief\n"),
        "--update",
    )
    rotation = Rotation.objects.get(roster=centre.command)
    assert (rotation.handovers, rotation.post) == ("07:00", (116.41, 39.88))
    with_post = write(
        tmp_path,
        f"{head},值班位置经度,值班位置纬度\n"
        "110101015,every_day,07:00,day,2026-05-01,chen-chief,116.43,39.87\n",
    )
    run(with_post, "--update")
    rotation = Rotation.objects.get(roster=centre.command)
    assert rotation.post == (116.43, 39.87)
    entry = RosterLogEntry.objects.filter(
        roster=centre.command, action=RosterLogEntry.Action.ROTATION_SAVED
    ).first()
    assert entry is not None and entry.after is not None and entry.after["post"] == [116.43, 39.87]
    assert transfer.rows_of(centre.command)[1][-2:] == [116.43, 39.87]
    # The same file again is unchanged; a blank position clears it.
    assert "不变 1" in run(with_post)
    run(
        write(
            tmp_path,
            f"{head},值班位置经度,值班位置纬度\n110101015,every_day,07:00,day,2026-05-01,chen-chief,,\n",
        ),
        "--update",
    )
    assert Rotation.objects.get(roster=centre.command).post is None


def test_a_bad_on_duty_position_is_reported_by_its_row_and_nothing_is_imported(centre, tmp_path):
    rows = (
        "116.43,",  # half a position
        "east,39.87",  # not a number
        "200,39.87",  # outside the longitudes
        "116.43,39.87",
    )
    text = (
        "township,days,handovers,turn,starts_on,person,post_lon,post_lat\n"
        + "".join(f"110101015,every_day,07:00,day,2026-05-01,chen-chief,{post}\n" for post in rows)
        + "110101015,every_day,07:00,day,2026-05-01,li-dispatcher,116.44,39.87\n"
    )
    errors, summary = refused(write(tmp_path, text), "--update")
    lines = errors.strip().splitlines()
    assert [line.split("：")[0] for line in lines] == ["第 2 行", "第 3 行", "第 4 行", "第 6 行"]
    assert "同时填写" in lines[0] and "第 5 行" in lines[3]
    assert "未导入任何数据" in summary
    rotation = Rotation.objects.get(roster=centre.command)
    assert (rotation.handovers, rotation.post) == ("08:30", None)
