"""Power 2, coordination and command (统筹协调和督办权): one page per township of its
matters that need several departments — whistles summoning two departments or more — and
its supervision notices, with their state and deadlines; another township's never shown."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.fixtures_cases import (
    WhistleCity,
    beijing,
    filed_case,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from whistle.cases import actions

NOW = beijing(2026, 3, 10, 10, 0)
URL = "/township/coordination/"
DONGSI_POINT = (116.414, 39.9251)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _dongsi_whistle(c: WhistleCity):
    """A case of 东四街道 with a whistle for urban management and the housing bureau."""
    case = actions.report_case(
        c.dongsi_steward,
        description="东四六条墙体开裂",
        lon=DONGSI_POINT[0],
        lat=DONGSI_POINT[1],
    )
    case = actions.file_case(c.dongsi_dispatcher, case, category=c.exposed_garbage)
    actions.blow_whistle(
        c.dongsi_dispatcher, case, kind="routine", departments=[c.urban, c.housing]
    )
    return case


def _notice_to_the_police(c: WhistleCity, case):
    """The township chief's supervision notice to the police, due two hours after NOW."""
    return actions.issue_supervision_notice(
        c.township_chief,
        case,
        department=c.police,
        text="立即到场处置游商",
        due_at=NOW + timedelta(hours=2),
    )


def test_multi_department_matters_and_notices_with_deadlines(client, whistle_city):
    c = whistle_city
    # Two departments summoned: shown. One department: not a multi-department matter.
    several, _blown, summonses = whistled_case(c)
    single = filed_case(c)
    actions.blow_whistle(c.dispatcher, single, kind="routine", departments=[c.urban])
    police = summonses[c.police.pk]
    # The police are past their 30-minute arrival at 10:31.
    notice = _notice_to_the_police(c, several)
    client.force_login(c.dispatcher)
    with time_machine.travel(NOW + timedelta(minutes=31), tick=False):
        response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="m-{several.reference}"' in html
    assert f'id="m-{single.reference}"' not in html
    assert "东城区城管执法局" in html and "龙潭派出所" in html
    # Hand-checked: summoned at 10:00 Beijing, 30 minutes to arrive.
    assert police.arrive_due_at == NOW + timedelta(minutes=30)
    assert "10:30" in html
    assert "badge-overdue" in html
    assert "立即到场处置游商" in html
    assert notice.due_at.astimezone(NOW.tzinfo).strftime("%Y-%m-%d %H:%M") in html


def test_the_counts_read_in_the_singular_and_the_plural(client, whistle_city):
    c = whistle_city
    several, _blown, _summonses = whistled_case(c)
    _notice_to_the_police(c, several)
    client.force_login(c.dispatcher)
    client.cookies["django_language"] = "en"
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        one = " ".join(client.get(URL).content.decode().split())
    assert "1</span> multi-department whistle sounding" in one
    assert "1</span> supervision notice open" in one
    assert "1</span> past its deadline" in one
    second = _dongsi_whistle(c)
    assert second.township != several.township
    whistled_case(c)
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        two = " ".join(client.get(URL).content.decode().split())
    assert "2</span> multi-department whistles sounding" in two
    client.cookies["django_language"] = "zh-hans"
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        chinese = " ".join(client.get(URL).content.decode().split())
    assert "2</span> 项多部门吹哨进行中" in chinese
    assert "1</span> 份督办单待回复" in chinese


def test_another_townships_matters_are_not_shown(client, whistle_city):
    c = whistle_city
    longtan, _blown, _s = whistled_case(c)
    dongsi = _dongsi_whistle(c)
    client.force_login(c.dispatcher)
    html = client.get(URL).content.decode()
    assert longtan.reference in html and dongsi.reference not in html
    client.force_login(c.dongsi_dispatcher)
    html = client.get(URL).content.decode()
    assert dongsi.reference in html and longtan.reference not in html
    assert client.get(f"{URL}?township={c.longtan.code}").status_code == 404
    # The district's chiefs' office switches between its townships.
    client.force_login(c.district_office)
    html = client.get(f"{URL}?township={c.city.dongsi.code}").content.decode()
    assert dongsi.reference in html and longtan.reference not in html


@pytest.mark.parametrize("who", ["urban_officer", "steward", "assessor", "resident"])
def test_others_are_refused(client, whistle_city, who):
    client.force_login(getattr(whistle_city, who))
    assert client.get(URL).status_code == 403


def test_the_page_costs_the_same_queries_for_more_matters(client, whistle_city):
    c = whistle_city
    whistled_case(c)
    client.force_login(c.dispatcher)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for _ in range(4):
        case, _blown, _s = whistled_case(c)
        actions.issue_supervision_notice(
            c.township_chief,
            case,
            department=c.urban,
            text="按时处置",
            due_at=NOW + timedelta(hours=4),
        )
    with CaptureQueriesContext(connection) as many:
        client.get(URL)
    assert len(many) == len(few)
