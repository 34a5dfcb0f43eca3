"""Lane pages and signboards: each lane's public page, its printable signboard with a QR code
that opens the page, and the lanes list of the township, the district and the chiefs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
import zxingcpp
from django.test import Client
from django.urls import reverse
from PIL import Image, ImageDraw

from tests.conftest import make_person
from tests.fixtures_street import reported, street_fixture  # noqa: F401
from whistle.cases import actions
from whistle.organisation.models import Lane, Role, RoleAssignment
from whistle.street.lanes import lane_url

NOW = datetime(2026, 9, 15, 2, 0, tzinfo=UTC)


def publish(person, lane, number: str) -> None:
    RoleAssignment.objects.filter(person=person, lane=lane).update(public_phone=number)


def closed(street, description: str, *, at: datetime):
    case = reported(street.steward, description, now=at)
    actions.file_case(street.dispatcher, case, category=street.garbage, now=at)
    actions.solve_on_spot(street.lane_chief, case, note="已清理", now=at)
    actions.check_passed(street.dispatcher, case, now=at)
    return actions.close_case(street.dispatcher, case, now=at)


def first(pattern: str, text: str, flags: int = 0) -> re.Match[str]:
    match = re.search(pattern, text, flags)
    assert match is not None, f"{pattern} not found"
    return match


def qr_svg_of(html: str) -> str:
    return first(r"<svg[^>]*class=\"qr\".*?</svg>", html, re.S).group(0)


def rasterise(svg: str, scale: int = 8) -> Image.Image:
    """Draws segno's SVG path (``M x y``, ``m dx dy``, ``h n``: horizontal runs of dark
    modules, each one module high, drawn along y + 0.5) the way a browser would, so the
    decoder reads exactly what the page serves."""
    size = int(first(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    path = first(r'class="qrline"[^>]*d="([^"]+)"|d="([^"]+)"[^>]*class="qrline"', svg)
    commands = path.group(1) or path.group(2)
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    x = y = 0.0
    for op, args in re.findall(r"([MmHh])([^MmHh]*)", commands):
        numbers = [float(n) for n in args.replace(",", " ").split()]
        if op == "M":
            x, y = numbers
        elif op == "m":
            x, y = x + numbers[0], y + numbers[1]
        else:
            end = numbers[0] if op == "H" else x + numbers[0]
            top = (y - 0.5) * scale
            draw.rectangle([x * scale, top, end * scale - 1, top + scale - 1], fill=0)
            x = end
    return image


@pytest.fixture
def lane_people(street):
    lane = street.lane
    publish(street.lane_chief, lane, "010-6711 2345")
    publish(street.steward, lane, "010-6711 2346")
    for person, mobile in (
        (street.lane_chief, "13800138001"),
        (street.street_chief, "13800138002"),
        (street.steward, "13800138003"),
    ):
        person.phone = mobile
        person.name = {"liu-qiang": "刘强", "chen-jing": "陈静", "wang-fang": "王芳"}[
            person.username
        ]
        person.save(update_fields=["phone", "name"])
    return street


def test_a_lane_links_to_its_public_page(street):
    assert street.lane.get_absolute_url() == f"/lanes/{street.lane.pk}/"


def test_anyone_signed_out_sees_who_answers_for_the_lane_with_public_numbers_only(
    client: Client, lane_people
):
    page = client.get(lane_people.lane.get_absolute_url())

    assert page.status_code == 200
    html = page.content.decode()
    assert "人民市场东巷" in html
    assert "刘强" in html and "010-6711 2345" in html
    # The street chief gave no public number: the name without one.
    assert "陈静" in html
    # A steward is a volunteer: the first character of the name only, with the number
    # given for publication.
    assert "王*" in html and "王芳" not in html and "010-6711 2346" in html
    for mobile in ("13800138001", "13800138002", "13800138003", "138****"):
        assert mobile not in html


def test_in_english_the_posts_of_the_lane_page_and_signboard_start_with_a_capital(
    client: Client, lane_people
):
    lane = lane_people.lane
    page = client.get(lane.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    board = client.get(
        reverse("lanes:signboard", args=[lane.pk, "a4"]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert '<span class="lane-holder-post">Lane chief</span>' in page
    assert '<span class="lane-holder-post">Alley steward</span>' in page
    assert '<th scope="row">Lane chief</th>' in board
    assert "lane chief" not in page + board


def test_the_lane_page_lists_the_lanes_standards(client: Client, street):
    Lane.objects.filter(pk=street.lane.pk).update(checklist=["无乱堆物料", "无违章停车"])

    html = client.get(street.lane.get_absolute_url()).content.decode()

    assert "无乱堆物料" in html and "无违章停车" in html
    # The lane's own list replaces the ten noes.
    assert "无违法建设" not in html


def test_a_lane_without_its_own_list_shows_the_ten_noes(client: Client, street):
    html = client.get(street.lane.get_absolute_url()).content.decode()

    assert "无违法建设" in html and "灭火器齐全且在有效期内" in html


def test_the_lane_page_lists_open_and_recently_closed_problems_without_personal_data(
    client: Client, street, settings
):
    settings.WHISTLE_LANE_CLOSED_DAYS = 30
    resident = actions.report_resident_case(
        description="楼下张大爷门口堆了建筑垃圾，电话13911112222",
        lon=116.4321,
        lat=39.8729,
        name="赵敏",
        phone="13911112222",
        now=NOW - timedelta(days=2),
    ).case
    actions.file_case(street.dispatcher, resident, category=street.garbage, now=NOW)
    unscreened = reported(street.steward, "刚上报的问题", now=NOW)
    closed(street, "上月月初的问题", at=NOW - timedelta(days=31))
    closed(street, "上周的问题", at=NOW - timedelta(days=7))

    with time_machine.travel(NOW, tick=False):
        html = client.get(street.lane.get_absolute_url()).content.decode()

    open_part = html[html.index('id="open-title"') : html.index('id="closed-title"')]
    closed_part = html[html.index('id="closed-title"') :]
    assert "暴露垃圾" in open_part and "(1)" in open_part
    # Closed 7 days ago is listed, 31 days ago is not.
    assert "(1)" in closed_part and "2026-09-08" in closed_part
    assert "2026-08-15" not in closed_part
    for private in ("赵敏", "13911112222", "张大爷", "刚上报的问题", resident.reference):
        assert private not in html
    assert unscreened.reference not in html


def test_the_closed_window_ends_exactly_at_its_days(client: Client, street, settings):
    settings.WHISTLE_LANE_CLOSED_DAYS = 30
    closed(street, "刚好三十天前关闭", at=NOW - timedelta(days=30))
    closed(street, "三十天零一秒前关闭", at=NOW - timedelta(days=30, seconds=1))

    with time_machine.travel(NOW, tick=False):
        html = client.get(street.lane.get_absolute_url()).content.decode()

    assert 'id="closed-title"' in html
    closed_part = html[html.index('id="closed-title"') :]
    assert "(1)" in closed_part


def test_the_report_button_opens_the_residents_form_placed_on_the_lane(client: Client, street):
    html = client.get(street.lane.get_absolute_url()).content.decode()
    link = first(r'href="([^"]+)" data-report-lane', html).group(1).replace("&amp;", "&")

    form = client.get(link)

    assert form.status_code == 200
    lon = float(first(r'name="lon" value="([^"]+)"', form.content.decode()).group(1))
    lat = float(first(r'name="lat" value="([^"]+)"', form.content.decode()).group(1))
    # Halfway along the lane's centre line, which runs north along 116.432.
    assert lon == pytest.approx(116.432, abs=1e-6)
    assert 39.872 < lat < 39.87384
    assert lane_at(lon, lat) == street.lane


def lane_at(lon: float, lat: float):
    from whistle.cases.locate import locate

    return locate(lon, lat).lane


@pytest.mark.parametrize("lane", ["abc", "999999", "1" * 40, "-1"])
def test_a_report_form_with_a_lane_that_is_not_one_leaves_the_place_to_choose(
    client: Client, street, lane
):
    page = client.get(reverse("reports:new"), {"lane": lane})

    assert page.status_code == 200
    assert 'name="lon" value=' not in page.content.decode()


def test_a_lane_that_does_not_exist_is_not_found(client: Client, street):
    assert client.get("/lanes/999999/").status_code == 404
    assert client.get("/lanes/999999/signboard/a4/").status_code == 404
    assert client.get(f"/lanes/{street.lane.pk}/signboard/a5/").status_code == 404


@pytest.mark.parametrize("size", ["a4", "a3"])
def test_the_signboards_qr_code_decodes_to_the_lane_pages_absolute_address(
    client: Client, lane_people, settings, size
):
    settings.SITE_URL = "https://whistle.example.cn"
    lane = lane_people.lane

    page = client.get(reverse("lanes:signboard", args=[lane.pk, size]))

    assert page.status_code == 200
    html = page.content.decode()
    decoded = zxingcpp.read_barcodes(rasterise(qr_svg_of(html)))
    assert [r.text for r in decoded] == [f"https://whistle.example.cn/lanes/{lane.pk}/"]
    assert lane_url(lane) == f"https://whistle.example.cn{lane.get_absolute_url()}"
    assert f'data-signboard="{size}"' in html
    # The address for typing, under the code.
    assert f">whistle.example.cn/lanes/{lane.pk}/<" in html
    assert "刘强" in html and "010-6711 2345" in html and "13800138001" not in html


def test_the_township_finds_its_lanes_with_their_signboards_in_its_navigation(
    client: Client, street
):
    client.force_login(street.township_chief)

    home = client.get(reverse("web:home")).content.decode()
    assert f'href="{reverse("lanes:index")}"' in home

    html = client.get(reverse("lanes:index")).content.decode()
    assert street.lane.get_absolute_url() in html
    assert reverse("lanes:signboard", args=[street.lane.pk, "a4"]) in html
    assert reverse("lanes:signboard", args=[street.lane.pk, "a3"]) in html
    # Another township's lane is not theirs to list.
    assert street.city.dongsi_lane.get_absolute_url() not in html


def test_a_lane_chief_lists_the_lanes_they_answer_for(client: Client, street):
    client.force_login(street.lane_chief)

    html = client.get(reverse("lanes:index")).content.decode()

    assert street.lane.get_absolute_url() in html
    assert street.city.dongsi_lane.get_absolute_url() not in html


def test_a_chiefs_lanes_on_the_patrol_page_lead_to_their_public_pages(client: Client, street):
    client.force_login(street.lane_chief)

    html = client.get(reverse("patrol:home")).content.decode()

    assert f'href="{street.lane.get_absolute_url()}"' in html


def test_the_lanes_list_is_refused_to_departments_and_asks_visitors_to_sign_in(
    client: Client, street
):
    assert client.get(reverse("lanes:index")).status_code == 302
    client.force_login(street.officer)
    assert client.get(reverse("lanes:index")).status_code == 403


def test_the_lanes_list_runs_a_fixed_number_of_queries(
    client: Client, street, django_assert_max_num_queries
):
    for n in range(12):
        Lane.objects.create(
            name=f"测试巷{n}",
            township=street.longtan,
            centre_line={
                "type": "LineString",
                "coordinates": [[116.431, 39.871 + n * 0.0002], [116.433, 39.871 + n * 0.0002]],
            },
        )
    client.force_login(street.township_chief)

    with django_assert_max_num_queries(9):
        page = client.get(reverse("lanes:index"))

    assert page.content.decode().count("/signboard/a4/") == 13


def test_the_lane_page_runs_a_fixed_number_of_queries(
    client: Client, street, django_assert_max_num_queries
):
    for n in range(5):
        make_person(f"steward-{n}", Role.STEWARD, lane=street.lane)
        case = reported(street.steward, f"问题{n}", now=NOW)
        actions.file_case(street.dispatcher, case, category=street.vending, now=NOW)

    with django_assert_max_num_queries(6):
        page = client.get(street.lane.get_absolute_url())

    assert page.status_code == 200
