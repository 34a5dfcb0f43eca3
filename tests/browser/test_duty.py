"""Who is on duty, in a real browser: on the command centre's wall (1920 × 1080), also with
eight departments in the township's enforcement centre, and beside every state of the open
cases at 1920 × 1080, 1600 × 1000 and 1366 × 768 and when the window changes size, with its
map fitted again to the open cases; and on an officer's phone
(360 × 740), with the roster page that keeps it and the rotation form its keeper uses on a
phone."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone

from tests.browser.conftest import PHONE, WALL, sign_in, submit
from tests.fixtures_deadlines import make_case, make_summons, person
from tests.fixtures_duty import StaffedCentre, build_staffed_centre
from whistle.cases.models import Case, CheckInReason, Summons
from whistle.duty import actions
from whistle.duty.models import DutyChange, Rotation
from whistle.duty.schedule import board
from whistle.organisation.models import CentreMembership, Department, Role

# Seven more departments in 龙潭街道's enforcement centre, each with its own duty there.
MORE_DEPARTMENTS = [
    ("dc-jtj", "东城区交通委员会", "孟凡"),
    ("dc-scjg", "东城区市场监督管理局", "邓超"),
    ("dc-hbj", "东城区生态环境局", "谢娜"),
    ("dc-slj", "东城区水务局", "韩雪"),
    ("dc-zjw", "东城区住房和城乡建设委员会", "唐嫣"),
    ("dc-ylj", "东城区园林绿化局", "冯远征"),
    ("dc-wjw", "东城区卫生健康委员会", "蒋欣"),
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def on_duty_now(roster) -> str:
    (duty,) = board([roster], timezone.now())
    assert duty.now is not None and duty.now.person is not None
    return duty.now.person.display_name


def test_the_wall_shows_who_is_on_duty_and_still_fits_the_screen(new_page, shots):
    staffed = build_staffed_centre()
    page = new_page(WALL)
    sign_in(page, "li-dispatcher")
    page.goto("/dispatch/wall/")
    panel = page.locator("[data-duty-now]")
    panel.wait_for()
    text = panel.inner_text()
    assert "当前值班与下一班" in text
    assert "指挥中心" in text and on_duty_now(staffed.command) in text
    assert "东城区城管执法局" in text and on_duty_now(staffed.centre) in text
    assert panel.is_visible()
    shots(page, "wall")

    # On a smaller wall (1366 px) each roster keeps one line and its times whole: the next
    # turn's start (which ends this one) and the name of who is on duty now.
    page.set_viewport_size({"width": 1366, "height": 900})
    # The page takes the new size on its next frames (the wall fits its column on "resize").
    page.wait_for_function("() => window.innerWidth === 1366")
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => setTimeout(done)))")
    rows = page.locator("[data-duty-now] .duty-row")
    for n in range(rows.count()):
        row = rows.nth(n)
        for part in (".duty-next", ".duty-person strong"):
            cell = row.locator(part)
            assert cell.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), part
            box, edge = cell.bounding_box(), row.bounding_box()
            assert box is not None and edge is not None
            assert box["x"] + box["width"] <= edge["x"] + edge["width"] + 1, part
        assert row.bounding_box()["height"] < 40  # one line
        assert re.search(r"\d\d:\d\d 起$", row.locator(".duty-next").inner_text().strip())
        # The turn ends when the next begins: said once.
        assert "截至" not in row.inner_text()
    shots(page, "wall-1366x900")
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")
    assert no_sideways_scroll(page)


def stationed_department(city, code: str, name: str) -> Department:
    """A functional department of the city's district, stationed in its township's centre."""
    department = Department.objects.create(
        code=code,
        name=name,
        kind="functional",
        sector=city.department.sector,
        district=city.district,
    )
    CentreMembership.objects.create(
        township=city.township, department=department, role=CentreMembership.Role.STATIONED
    )
    return department


def eight_departments_on_the_wall(staffed: StaffedCentre) -> list[str]:
    """Seven more centre members with a roster each, a few whistles and many open cases;
    the names of everyone on duty in the centre."""
    city = staffed.duty.city
    on_duty = [on_duty_now(staffed.centre)]
    for code, name, officer_name in MORE_DEPARTMENTS:
        department = stationed_department(city, code, name)
        officer = person(
            f"{code}-officer",
            officer_name,
            Role.DEPARTMENT_OFFICER,
            department=department,
        )
        roster = actions.start_roster(
            city.dispatcher, department=department, township=city.township
        )
        actions.save_rotation(
            city.dispatcher,
            roster,
            days=Rotation.Days.EVERY_DAY,
            handovers="08:00",
            turn=Rotation.Turn.DAY,
            starts_on=date(2026, 5, 1),
            members=[(officer, None)],
        )
        on_duty.append(officer_name)
    now = timezone.now()
    for minutes in (5, 12, 50):
        make_summons(city, now - timedelta(minutes=minutes))
    for n in range(30):
        make_case(
            city,
            now - timedelta(hours=n + 1),
            status=Case.Status.FILED,
            description=f"第{n + 1}处占道经营",
        )
    return on_duty


# Each state group of the wall's board as the screen shows it: its heading, its count, the
# rows shown and its own note of how many are not.
WALL_GROUPS = """() => [...document.querySelectorAll('#board .board-group')].map((group) => {
    const note = group.querySelector('[data-fit-group-more]');
    return {
        label: group.querySelector('h4 .badge').textContent.trim(),
        heading: group.querySelector('h4').checkVisibility(),
        count: Number(group.querySelector('h4 .count').textContent),
        shown: [...group.querySelectorAll('[data-fit-item]')]
            .filter((row) => row.checkVisibility()).length,
        first: group.querySelector('[data-fit-item]').checkVisibility(),
        note: note.checkVisibility() ? note.textContent : '',
    };
})"""


def every_state_fits(page) -> list[dict]:
    """The wall's state groups, after checking what every size must hold: each state's
    heading and count, its oldest row, a note saying how many of its own are not shown, the
    trim shared fairly, and nothing scrolling."""
    groups = page.evaluate(WALL_GROUPS)
    for group in groups:
        assert group["heading"] and group["shown"] >= 1 and group["first"], group
        left = group["count"] - group["shown"]
        assert group["note"] == (f"另有 {left} 件未显示" if left else ""), group
    trimmed = [g["shown"] for g in groups if g["shown"] < g["count"]]
    assert max(trimmed, default=0) - min(trimmed, default=0) <= 1, groups
    assert page.locator("#board").evaluate("el => el.scrollHeight <= el.clientHeight + 1")
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")
    assert no_sideways_scroll(page)
    return groups


def test_the_wall_fits_eight_departments_duty_by_trimming_open_cases_first(new_page, shots):
    staffed = build_staffed_centre()
    centre_duty = eight_departments_on_the_wall(staffed)
    page = new_page(WALL)
    sign_in(page, "li-dispatcher")
    page.goto("/dispatch/wall/")
    page.wait_for_selector("#board [data-fit-group-more]:not([hidden])")
    shots(page, "wall-eight-departments")
    board_side = page.locator("#board")
    rows = board_side.locator("[data-duty-now] .duty-row")
    assert rows.count() == 9
    # Every roster's row is on the screen: the open cases made room, not the duty.
    for n in range(9):
        assert rows.nth(n).is_visible()
    text = board_side.locator("[data-duty-now]").inner_text()
    assert on_duty_now(staffed.command) in text
    assert all(name in text for name in centre_duty)
    # The three whistles sounding stay; the thirty filed cases keep their heading, their
    # count and their oldest rows, and say how many of theirs are left out.
    assert board_side.locator(".board-whistles [data-fit-item]:visible").count() == 3
    (filed,) = every_state_fits(page)
    assert filed["label"] == "已立案" and filed["count"] == 30
    assert 1 <= filed["shown"] < 10
    assert "第30处占道经营" in board_side.locator(".board-group [data-fit-item]").first.inner_text()
    # Nothing else was left out.
    assert board_side.locator("[data-fit-more]").is_hidden()


def busy_township_on_the_wall(staffed: StaffedCentre) -> None:
    """Three whistles sounding and open cases in four states, more than any wall holds."""
    city = staffed.duty.city
    now = timezone.now()
    for minutes in (5, 12, 50):
        make_summons(city, now - timedelta(minutes=minutes))
    for status, n in (
        (Case.Status.REPORTED, 25),
        (Case.Status.FILED, 12),
        (Case.Status.HANDLED, 2),
        (Case.Status.BACKLOG, 4),
    ):
        for k in range(n):
            make_case(
                city,
                now - timedelta(hours=k + 1),
                status=status,
                description=f"{status.label}第{k + 1}件",
            )


@pytest.mark.parametrize(
    "size",
    [(1920, 1080), (1600, 1000), (1366, 768)],
    ids=["1920x1080", "1600x1000", "1366x768"],
)
def test_the_wall_shows_every_state_with_its_oldest_cases_at_each_size(new_page, shots, size):
    staffed = build_staffed_centre()
    busy_township_on_the_wall(staffed)
    width, height = size
    page = new_page({"width": width, "height": height})
    sign_in(page, "li-dispatcher")
    page.goto("/dispatch/wall/")
    page.wait_for_selector("#board [data-fit-group-more]:not([hidden])")
    shots(page, f"wall-{width}x{height}")
    groups = every_state_fits(page)
    assert [g["label"] for g in groups] == ["已上报", "已立案", "已处置，待核查", "已挂账"]
    assert [g["count"] for g in groups] == [25, 12, 2, 4]
    # Each state's oldest case is the one shown first.
    for label, first in (("已上报", "第25件"), ("已挂账", "第4件")):
        group = page.locator(".board-group", has=page.locator(f"h4 .badge:text-is('{label}')"))
        assert first in group.locator("[data-fit-item]").first.inner_text()
    # The whistles sounding and the command centre's duty are still on the screen, at every
    # size at least the first whistle with each of its departments.
    assert page.locator("#board [data-duty-now]").is_visible()
    whistles = page.locator("#board .board-whistles [data-fit-item]:visible")
    assert whistles.count() >= 1
    assert whistles.first.locator(".chip").count() >= 1


def test_a_small_wall_keeps_a_whistle_of_two_departments_beside_a_check_in_to_confirm(
    new_page, shots
):
    staffed = build_staffed_centre()
    busy_township_on_the_wall(staffed)
    city = staffed.duty.city
    now = timezone.now()
    # Each whistle summoned two departments; a summons of a case handled since has its
    # check-in awaiting the township.
    market = Department.objects.create(
        code="dc-scjgs",
        name="龙潭市场监督管理所",
        kind="functional",
        sector=city.department.sector,
        district=city.district,
    )
    for case in Case.objects.filter(status=Case.Status.WHISTLED):
        second = make_summons(city, case.reported_at, case=case)
        Summons.objects.filter(pk=second.pk).update(department=market)
    make_summons(
        city,
        now - timedelta(minutes=20),
        case=make_case(city, now - timedelta(minutes=30), status=Case.Status.HANDLED),
        arrived_at=now - timedelta(minutes=5),
        check_in_flag=Summons.CheckInFlag.PENDING,
        check_in_flag_reasons=[CheckInReason.IMPRECISE],
    )
    page = new_page({"width": 1366, "height": 768})
    sign_in(page, "li-dispatcher")
    page.goto("/dispatch/wall/")
    page.wait_for_selector("#board [data-fit-group-more]:not([hidden])")
    shots(page, "wall-1366x768-whistle-and-check-in")
    every_state_fits(page)
    assert page.locator("#board [data-flagged-check-ins]").is_visible()
    whistles = page.locator("#board .board-whistles [data-fit-item]:visible")
    assert whistles.count() >= 1
    # Each department of the whistle shown keeps its name readable, not cut to a character.
    names = whistles.first.locator(".chip-name")
    assert names.count() == 2
    for n in range(2):
        assert names.nth(n).evaluate("el => el.getBoundingClientRect().width") > 100


def test_the_wall_fits_again_when_the_window_changes_size(new_page, shots):
    staffed = build_staffed_centre()
    busy_township_on_the_wall(staffed)
    page = new_page(WALL)
    sign_in(page, "li-dispatcher")
    page.goto("/dispatch/wall/")
    page.wait_for_selector("#board [data-fit-group-more]:not([hidden])")
    large = every_state_fits(page)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.wait_for_function(
        "() => { const s = document.querySelector('#board');"
        " return s.scrollHeight <= s.clientHeight + 1; }"
    )
    shots(page, "resized-1366x768")
    small = every_state_fits(page)
    assert sum(g["shown"] for g in small) < sum(g["shown"] for g in large)
    # Back on the large screen, the rows come back.
    page.set_viewport_size(WALL)
    page.wait_for_function(
        "() => document.querySelector('#board .board-group [data-fit-item][hidden]') === null"
        " || document.querySelectorAll('#board .board-group [data-fit-item]:not([hidden])')"
        f".length === {sum(g['shown'] for g in large)}"
    )
    assert every_state_fits(page) == large
    # Below the wall's breakpoint the page scrolls as any other, and every row shows.
    page.set_viewport_size({"width": 900, "height": 1000})
    page.wait_for_function(
        "() => document.querySelector('#board [data-fit-item][hidden]') === null"
    )
    assert page.locator("#board [data-fit-group-more]:visible").count() == 2
    assert no_sideways_scroll(page)
    # On a phone too: the wall's one-line rows are cut short, they do not widen the page.
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function("() => window.innerWidth === 390")
    shots(page, "resized-390x844", full_page=True)
    assert no_sideways_scroll(page)
    assert page.locator("#board [data-fit-item][hidden]").count() == 0
    # Who is on duty is there to read, not cut to nothing beside the next shift.
    people = page.locator("#board [data-duty-now] .duty-person")
    assert people.count() == 2
    for n in range(2):
        assert people.nth(n).bounding_box()["width"] > 30


# The wall's map as Leaflet and the page see it: the box's size and the size Leaflet knows,
# the zoom, the case points and how many of them lie within the map's bounds; once the map
# has been fitted to the box as it is now (data-map-fitted, set by wall.js).
WALL_MAP = """() => {
    const el = document.querySelector('.wall-map [data-map]');
    const map = el._whistleMap.map;
    const size = map.getSize();
    const bounds = map.getBounds();
    const points = [];
    map.eachLayer((layer) => {
        if (layer instanceof L.CircleMarker) points.push(layer.getLatLng());
    });
    return {
        box: [el.clientWidth, el.clientHeight],
        leaflet: [size.x, size.y],
        zoom: map.getZoom(),
        points: points.length,
        inside: points.filter((at) => bounds.contains(at)).length,
    };
}"""
MAP_FITTED = """() => {
    const el = document.querySelector('.wall-map [data-map]');
    return el.getAttribute('data-map-fitted') === el.clientWidth + 'x' + el.clientHeight;
}"""


def wall_map_fitted(page) -> dict:
    """The wall's map once fitted to its box: Leaflet's size is the box's and every case
    point is on the map."""
    page.wait_for_function(MAP_FITTED)
    view = page.evaluate(WALL_MAP)
    assert view["leaflet"] == view["box"], view
    assert view["points"] == 6 and view["inside"] == view["points"], view
    return view


def test_the_wall_map_fits_its_cases_again_when_the_window_or_the_layout_changes(new_page, shots):
    staffed = build_staffed_centre()
    city = staffed.duty.city
    now = timezone.now()
    # Six open cases across the township, from its west end to its east end: about as wide
    # as the map at 1920 × 1080 at the zoom it fits them to, wider than the map at 1366 × 768.
    for k, (lon, lat) in enumerate(
        [
            (116.386, 39.862),
            (116.386, 39.884),
            (116.474, 39.862),
            (116.474, 39.884),
            (116.43, 39.873),
            (116.41, 39.879),
        ]
    ):
        make_case(
            city,
            now - timedelta(hours=k + 1),
            status=Case.Status.REPORTED,
            lon=lon,
            lat=lat,
            description=f"地图上第{k + 1}件",
        )
    page = new_page(WALL)
    sign_in(page, "li-dispatcher")
    page.goto("/dispatch/wall/")
    page.wait_for_selector(".wall-map [data-map][data-map-ready=true]")
    large = wall_map_fitted(page)
    page.set_viewport_size({"width": 1366, "height": 768})
    small = wall_map_fitted(page)
    shots(page, "map-resized-1366x768")
    assert small["box"][0] < large["box"][0] and small["box"][1] < large["box"][1]
    assert small["zoom"] < large["zoom"]
    # Back on the large screen the map fills its box again, at the zoom it had.
    page.set_viewport_size(WALL)
    assert wall_map_fitted(page) == large
    shots(page, "map-resized-1920x1080")
    # The wall's grid gives the map half the width instead of three fifths, the window
    # unchanged: the map follows its box all the same.
    page.locator(".wall-grid").evaluate("grid => { grid.style.gridTemplateColumns = '1fr 1fr'; }")
    narrower = wall_map_fitted(page)
    assert narrower["box"][0] < large["box"][0]


def test_a_head_changes_a_rotation_and_swaps_two_shifts_on_a_phone(new_page, shots):
    staffed = build_staffed_centre()
    duty = staffed.duty
    rotation = Rotation.objects.get(roster=duty.roster, days=Rotation.Days.WORKING_DAYS)
    phone = new_page(PHONE)
    sign_in(phone, "liu-head")
    phone.goto(f"/duty/{duty.roster.pk}/")
    submit(phone, f'a[href="/duty/{duty.roster.pk}/rotations/{rotation.pk}/"]')
    phone.wait_for_selector("#rotation-form")
    assert no_sideways_scroll(phone)
    shots(phone, "1-rotation-form", full_page=True)
    phone.fill("#id_handovers", "08:00,07:00")
    submit(phone, "button[value=save]")
    phone.wait_for_selector(".form-errors")
    assert "一天内的交班时间须按先后顺序填写" in phone.locator(".form-errors").inner_text()
    assert no_sideways_scroll(phone)
    shots(phone, "2-rotation-refused", full_page=True)
    phone.fill("#id_handovers", "08:30,20:30")
    # 钱伟 moves to the front, 王芳 backs him up.
    phone.fill("#id_members-2-position", "1")
    phone.fill("#id_members-0-position", "2")
    phone.fill("#id_members-1-position", "3")
    phone.select_option("#id_members-2-backup", str(duty.wang.pk))
    phone.click("button[value=save]")
    phone.wait_for_url(f"**/duty/{duty.roster.pk}/#rotations")
    rotation.refresh_from_db()
    assert rotation.handovers == "08:30,20:30"
    members = [(m.person, m.backup) for m in rotation.members.order_by("position")]
    assert members == [(duty.qian, duty.wang), (duty.wang, None), (duty.zhao, None)]
    log = phone.locator("#log").inner_text()
    assert "08:00,20:00 → 08:30,20:30" in log
    assert no_sideways_scroll(phone)

    trade = phone.locator("#trade")
    options = trade.locator("#id_trade-first option")
    first = options.nth(1).get_attribute("value")
    second = options.nth(2).get_attribute("value")
    trade.locator("#id_trade-first").select_option(first)
    trade.locator("#id_trade-second").select_option(second)
    submit(phone, trade.locator("button[value=trade]"))
    phone.wait_for_selector(".duty-change")
    change = DutyChange.objects.get()
    assert change.decided_by == duty.city.department_head
    # The coming days name the keeper who approved the swap on both shifts.
    assert phone.locator(".duty-days").inner_text().count("由 刘建国 批准") == 2
    assert no_sideways_scroll(phone)
    shots(phone, "3-roster-after", full_page=True)


def test_an_officer_sees_the_duty_on_the_phone_desk_and_opens_the_roster(new_page, shots):
    staffed = build_staffed_centre()
    phone = new_page(PHONE)
    sign_in(phone, "wang-officer")
    phone.goto("/department/")
    panel = phone.locator("#incoming [data-duty-now]")
    panel.wait_for()
    assert on_duty_now(staffed.duty.roster) in panel.inner_text()
    assert no_sideways_scroll(phone)
    shots(phone, "1-desk")
    # The department's own roster is listed first, its place in the township's centre after.
    first = panel.locator(".duty-unit").first
    assert first.get_attribute("href") == f"/duty/{staffed.duty.roster.pk}/"
    first.click()
    phone.wait_for_url(f"**/duty/{staffed.duty.roster.pk}/")
    assert "未来几天" in phone.locator("main").inner_text()
    assert no_sideways_scroll(phone)
    shots(phone, "2-roster", full_page=True)


def test_a_head_keeps_the_roster_on_a_wide_screen(new_page, shots):
    staffed = build_staffed_centre()
    page = new_page(WALL)
    sign_in(page, "liu-head")
    page.goto("/")
    page.click('a[href="/duty/"]')
    page.wait_for_url("**/duty/")
    submit(page, f'a[href="/duty/{staffed.duty.roster.pk}/"]')
    page.wait_for_selector("#cover")
    assert page.locator("#import").is_visible()
    assert page.locator("#trade").is_visible()
    shots(page, "roster", full_page=True)
    submit(page, f'a[href="/duty/{staffed.duty.roster.pk}/rotations/new/"]')
    page.wait_for_selector("#rotation-form")
    assert page.locator("[data-member-row]").count() == 3
    assert no_sideways_scroll(page)
    shots(page, "rotation-new", full_page=True)


def start_buttons(page) -> list[dict]:
    return page.evaluate(
        """() => [...document.querySelectorAll('.duty-start li .btn')].map(b => {
            const r = b.getBoundingClientRect();
            const round = Math.round;
            return {left: round(r.left), right: round(r.right), width: round(r.width)};
        })"""
    )


@pytest.mark.parametrize("size", [{"width": 1440, "height": 900}, PHONE], ids=["1440", "phone"])
def test_the_buttons_that_start_a_roster_stand_one_under_the_other(new_page, shots, size):
    """Whatever the length of each department's name, its "start the roster" button sits
    where the others do: at the row's end on a wide screen, under the name on a phone."""
    city = build_staffed_centre().duty.city
    # Centre members without a roster yet, with names of very different lengths.
    for code, name, _officer in MORE_DEPARTMENTS[:4]:
        stationed_department(city, code, name)
    page = new_page(size)
    sign_in(page, "li-dispatcher")
    page.goto("/duty/")
    page.wait_for_selector(".duty-start")
    buttons = start_buttons(page)
    assert len(buttons) >= 2, buttons
    assert len({b["width"] for b in buttons}) == 1, buttons
    edge = "right" if size["width"] > 600 else "left"
    assert len({b[edge] for b in buttons}) == 1, buttons
    assert no_sideways_scroll(page)
    shots(page, "start", full_page=True)
