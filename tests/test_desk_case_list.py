"""The command centre's list of cases: who opens it, which cases it lists (never another
township's or district's), each filter, paging, bad input, and a bounded number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import make_person, square
from tests.fixtures_cases import (
    beijing,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from whistle.cases.models import Case
from whistle.organisation.models import Jurisdiction, Lane, Role

URL = "/dispatch/cases/"
NOW = beijing(2026, 12, 6, 10, 0)


def make_case(city, *, township=None, lane=None, at=None, **fields) -> Case:
    township = township if township is not None else city.longtan
    lane = lane if lane is not None else city.lane
    lon, lat = lane.centre_line["coordinates"][0]
    values = {
        "source": Case.Source.STEWARD,
        "description": "暴露垃圾",
        "lon": lon,
        "lat": lat,
        "district": township.parent,
        "township": township,
        "lane": lane,
        "reported_at": at or NOW,
    }
    values.update(fields)
    return Case.objects.create(**values)


def references(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    table = html[html.index('id="case-list"') :]
    return [c.reference for c in Case.objects.all() if f"/cases/{c.reference}/" in table]


@pytest.fixture
def xicheng(whistle_city):
    city = whistle_city.city.city
    district = Jurisdiction.objects.create(
        level="district", code="110102", name="西城区", parent=city, boundary=square(116.3, 39.9)
    )
    township = Jurisdiction.objects.create(
        level="township",
        form="street_office",
        code="110102001",
        name="西长安街街道",
        parent=district,
        boundary=square(116.36, 39.9),
    )
    lane = Lane.objects.create(
        name="西城胡同",
        township=township,
        centre_line={"type": "LineString", "coordinates": [[116.36, 39.9], [116.361, 39.9]]},
    )
    dispatcher = make_person("xicheng-dispatcher", Role.DISPATCHER, jurisdiction=township)
    office = make_person("xicheng-office", Role.CHIEFS_OFFICE, jurisdiction=district)
    case = make_case(whistle_city, township=township, lane=lane, description="西城的垃圾")
    return dispatcher, office, case


# Who opens it, and what it lists -----------------------------------------------------------


@pytest.mark.parametrize(
    "who", ["dispatcher", "township_chief", "township_office", "assessor", "district_office"]
)
def test_the_command_centre_lists_closed_and_rejected_cases_too(client, whistle_city, who):
    city = whistle_city
    closed = make_case(city, status=Case.Status.CLOSED)
    rejected = make_case(city, status=Case.Status.REJECTED)
    filed = make_case(city, status=Case.Status.FILED)
    client.force_login(getattr(city, who))
    assert set(references(client.get(URL))) == {
        closed.reference,
        rejected.reference,
        filed.reference,
    }


@pytest.mark.parametrize("who", ["urban_officer", "steward", "lane_chief", "resident"])
def test_other_roles_are_refused(client, whistle_city, who):
    client.force_login(getattr(whistle_city, who))
    assert client.get(URL).status_code == 403


def test_a_stranger_is_sent_to_sign_in(client, whistle_city):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_dispatcher_sees_only_their_own_township(client, whistle_city):
    city = whistle_city
    longtan = make_case(city, status=Case.Status.CLOSED)
    dongsi = make_case(
        city, township=city.city.dongsi, lane=city.city.dongsi_lane, status=Case.Status.CLOSED
    )
    client.force_login(city.dongsi_dispatcher)
    assert references(client.get(URL)) == [dongsi.reference]
    # Not even when asked for the other township, nor by its reference.
    assert client.get(URL, {"township": city.longtan.code}).status_code == 400
    assert references(client.get(URL, {"q": longtan.reference})) == []
    client.force_login(city.dispatcher)
    assert references(client.get(URL)) == [longtan.reference]


def test_a_district_sees_its_townships_and_never_another_district(client, whistle_city, xicheng):
    city = whistle_city
    xicheng_dispatcher, xicheng_office, xicheng_case = xicheng
    longtan = make_case(city)
    dongsi = make_case(city, township=city.city.dongsi, lane=city.city.dongsi_lane)
    stray = make_case(city, township=city.longtan, district=city.district)
    stray.township = None
    stray.save(update_fields=["township"])
    client.force_login(city.district_office)
    assert set(references(client.get(URL))) == {
        longtan.reference,
        dongsi.reference,
        stray.reference,
    }
    for person in (xicheng_dispatcher, xicheng_office):
        client.force_login(person)
        assert references(client.get(URL)) == [xicheng_case.reference]
        html = client.get(URL).content.decode()
        assert "龙潭街道" not in html and "东四街道" not in html
        assert references(client.get(URL, {"q": longtan.reference})) == []


def test_the_list_shows_no_reporter_data(client, whistle_city):
    city = whistle_city
    make_case(
        city,
        source=Case.Source.RESIDENT,
        reporter_name="王小明",
        reporter_phone="13812345678",
    )
    client.force_login(city.assessor)
    html = client.get(URL).content.decode()
    assert "王小明" not in html and "13812345678" not in html and "王*" not in html


# The filters -------------------------------------------------------------------------------


def test_a_reference_is_found_whole_or_by_its_first_letters(client, whistle_city):
    city = whistle_city
    one = make_case(city, reference="X4KNRBFA2M")
    make_case(city, reference="Y4KNRBFA2M")
    client.force_login(city.dispatcher)
    assert references(client.get(URL, {"q": "X4KNRBFA2M"})) == [one.reference]
    assert references(client.get(URL, {"q": "x4kn"})) == [one.reference]
    assert references(client.get(URL, {"q": "4KNRBFA2M"})) == []


def test_words_of_the_description(client, whistle_city):
    city = whistle_city
    found = make_case(city, description="门口有人私搭乱建，请尽快处理")
    make_case(city, description="暴露垃圾")
    client.force_login(city.dispatcher)
    assert references(client.get(URL, {"q": " 私搭乱建 "})) == [found.reference]


def test_lane_township_category_status_and_source(client, whistle_city):
    city = whistle_city
    dongsi = make_case(city, township=city.city.dongsi, lane=city.city.dongsi_lane)
    garbage = make_case(city, category=city.exposed_garbage, status=Case.Status.CLOSED)
    vending = make_case(
        city, category=city.street_vending, status=Case.Status.DISPATCHED, source="hotline"
    )
    client.force_login(city.district_office)
    assert references(client.get(URL, {"lane": "东四"})) == [dongsi.reference]
    assert references(client.get(URL, {"township": city.city.dongsi.code})) == [dongsi.reference]
    assert references(client.get(URL, {"category": city.exposed_garbage.pk})) == [garbage.reference]
    assert references(client.get(URL, {"status": "closed"})) == [garbage.reference]
    assert set(references(client.get(URL, {"status": "open"}))) == {
        dongsi.reference,
        vending.reference,
    }
    assert references(client.get(URL, {"source": "hotline"})) == [vending.reference]
    # Filters add up; an empty one is no filter.
    assert references(
        client.get(URL, {"lane": "人民", "status": "open", "source": "", "category": ""})
    ) == [vending.reference]


def test_the_date_range_counts_whole_beijing_days(client, whistle_city):
    city = whistle_city
    early = make_case(city, at=beijing(2026, 11, 30, 23, 59))
    first = make_case(city, at=beijing(2026, 12, 1, 0, 0))
    last = make_case(city, at=beijing(2026, 12, 3, 23, 59))
    make_case(city, at=beijing(2026, 12, 4, 0, 0))
    client.force_login(city.dispatcher)
    assert set(references(client.get(URL, {"since": "2026-12-01", "until": "2026-12-03"}))) == {
        first.reference,
        last.reference,
    }
    assert early.reference in references(client.get(URL, {"until": "2026-11-30"}))


def test_newest_first_fifty_a_page_and_the_pages_keep_the_filters(client, whistle_city):
    city = whistle_city
    start = timezone.now() - timedelta(days=1)
    made = [make_case(city, at=start + timedelta(minutes=i)) for i in range(53)]
    make_case(city, at=start, status=Case.Status.CLOSED)
    client.force_login(city.dispatcher)
    response = client.get(URL, {"status": "open"})
    html = response.content.decode()
    table = html[html.index("<tbody>") : html.index("</tbody>")]
    shown = [c.reference for c in reversed(made)]
    positions = [table.find(f"/cases/{ref}/") for ref in shown[:50]]
    assert -1 not in positions and positions == sorted(positions)
    assert all(f"/cases/{ref}/" not in table for ref in shown[50:])
    assert 'href="?status=open&amp;page=2"' in html
    page_two = client.get(URL, {"status": "open", "page": "2"}).content.decode()
    table = page_two[page_two.index("<tbody>") : page_two.index("</tbody>")]
    assert [ref for ref in shown if f"/cases/{ref}/" in table] == shown[50:]
    # A page that is no number, or past the end, is the first or the last.
    assert client.get(URL, {"page": "x"}).status_code == 200
    assert client.get(URL, {"page": "999"}).status_code == 200


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "lost"}, "lost 不是可选的值之一。"),
        ({"source": "<b>"}, "&lt;b&gt; 不是可选的值之一。"),
        ({"category": "abc"}, "abc 不是可选的值之一。"),
        ({"category": "999999"}, "999999 不是可选的值之一。"),
        ({"since": "2026-13-01"}, "请输入日期，如 2026-12-06。"),
        ({"until": "yesterday"}, "请输入日期，如 2026-12-06。"),
        ({"since": "2026-12-05", "until": "2026-12-01"}, "截止日期早于起始日期。"),
        ({"q": "字" * 101}, "最多搜索 100 个字符。"),
    ],
)
def test_bad_filters_are_explained_in_the_page(client, whistle_city, params, message):
    city = whistle_city
    make_case(city)
    client.force_login(city.dispatcher)
    response = client.get(URL, params)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "请先更正上面的筛选条件" in html
    assert 'class="table' not in html


def test_the_list_speaks_english(client, whistle_city):
    city = whistle_city
    make_case(city, status=Case.Status.CLOSED)
    client.force_login(city.dispatcher)
    client.cookies["django_language"] = "en"
    html = client.get(URL, {"status": "nope"}).content.decode()
    assert "Find cases" in html and "nope is not one of the choices." in html
    html = client.get(URL).content.decode()
    assert "Reference or words" in html and "closed" in html


def test_the_command_centre_and_the_menu_lead_to_it(client, whistle_city):
    city = whistle_city
    client.force_login(city.dispatcher)
    html = client.get("/dispatch/").content.decode()
    assert f'href="/dispatch/cases/?township={city.longtan.code}"' in html
    assert 'action="/dispatch/cases/" role="search"' in html
    client.force_login(city.assessor)
    assert 'href="/dispatch/cases/"' in client.get("/").content.decode()


def test_the_number_of_queries_does_not_grow_with_the_cases(
    client, whistle_city, django_assert_max_num_queries
):
    city = whistle_city
    for i in range(60):
        make_case(city, at=NOW - timedelta(minutes=i), category=city.street_vending)
    client.force_login(city.district_office)
    with django_assert_max_num_queries(14):
        response = client.get(URL, {"status": "open", "q": "垃圾"})
    assert len(references(response)) == 50
