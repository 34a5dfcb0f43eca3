"""Forms of the desk pages whose target was not written by the page: a Unicode digit where a
notice's id goes, a summons' UUID with hyphens or in upper case, a missing target. Each page
answers 400 in its own layout and language, says what to do, and writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from tests.fixtures_cases import (
    beijing,
    filed_case,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from tests.fixtures_desk import case_url
from whistle.cases import actions
from whistle.cases.models import Event, Summons, SupervisionNotice

NOW = beijing(2026, 3, 10, 10, 0)
LATER = NOW + timedelta(minutes=5)
# What the pages say, in the default language (Chinese).
REFUSED = "提交的表单与本页内容不符，请刷新页面后重试。"

# Numbers Python's str.isdigit() accepts and int() does not, or that are not ids at all.
BAD_NOTICE_IDS = ["²", "١٢", "１２", "-1", "0", "1e3", "", " 1", "9" * 30]


def bad_summons_keys(summons: Summons) -> list[str]:
    """The summons' own UUID, spelled in every way a page never spells it."""
    return [
        str(summons.uuid),
        summons.uuid.hex.upper(),
        "{" + summons.uuid.hex + "}",
        f"urn:uuid:{summons.uuid}",
        summons.uuid.hex[:-1] + "²",
        "",
    ]


@pytest.fixture
def whistled(whistle_city):
    with time_machine.travel(NOW, tick=False):
        case, _whistle, summonses = whistled_case(whistle_city)
        notice = actions.issue_supervision_notice(
            whistle_city.township_chief,
            case,
            department=whistle_city.urban,
            text="立即到场",
            due_at=NOW + timedelta(days=1),
        )
    return case, summonses, notice


def assert_refused_in_the_page(response) -> None:
    assert response.status_code == 400
    html = response.content.decode()
    assert REFUSED in html
    # The product's layout, with its navigation, not a bare error.
    assert '<nav class="topnav"' in html or 'class="topbar' in html
    assert "</main>" in html


def events(case) -> int:
    return Event.objects.filter(case=case).count()


@pytest.mark.parametrize("key", BAD_NOTICE_IDS)
def test_the_case_page_refuses_a_notice_id_that_is_not_one(client, whistle_city, whistled, key):
    case, _summonses, notice = whistled
    before = events(case)
    client.force_login(whistle_city.urban_officer)
    with time_machine.travel(LATER, tick=False):
        response = client.post(
            case_url(case), {"op": "answer", "target": key, f"answer-{key}-answer": "已处理"}
        )
    assert_refused_in_the_page(response)
    assert SupervisionNotice.objects.get(pk=notice.pk).answered_at is None
    assert events(case) == before


@pytest.mark.parametrize("key", BAD_NOTICE_IDS)
def test_the_department_desk_refuses_a_notice_id_that_is_not_one(
    client, whistle_city, whistled, key
):
    _case, _summonses, notice = whistled
    client.force_login(whistle_city.urban_officer)
    with time_machine.travel(LATER, tick=False):
        response = client.post(
            "/department/", {"op": "answer", "target": key, f"answer-{key}-answer": "已处理"}
        )
    assert_refused_in_the_page(response)
    assert SupervisionNotice.objects.get(pk=notice.pk).answered_at is None


def test_each_page_refuses_a_summons_id_spelled_otherwise(client, whistle_city, whistled):
    case, summonses, _notice = whistled
    urban = summonses[whistle_city.urban.pk]
    police = summonses[whistle_city.police.pk]
    before = events(case)
    with time_machine.travel(LATER, tick=False):
        for key in bad_summons_keys(urban):
            client.force_login(whistle_city.urban_officer)
            for page in ("/department/", case_url(case)):
                response = client.post(page, {"op": "acknowledge", "target": key})
                assert_refused_in_the_page(response)
        client.force_login(whistle_city.dispatcher)
        for key in bad_summons_keys(police):
            for page in ("/dispatch/", case_url(case)):
                response = client.post(page, {"op": "release", "target": key})
                assert_refused_in_the_page(response)
    assert {s.status for s in Summons.objects.filter(case=case)} == {Summons.Status.SUMMONED}
    assert events(case) == before


def test_a_well_formed_target_still_works_after_a_refused_one(client, whistle_city, whistled):
    """The refusal is about the form, not the person: the right form goes through."""
    _case, summonses, _notice = whistled
    urban = summonses[whistle_city.urban.pk]
    client.force_login(whistle_city.urban_officer)
    with time_machine.travel(LATER, tick=False):
        refused = client.post("/department/", {"op": "acknowledge", "target": str(urban.uuid)})
        assert refused.status_code == 400
        done = client.post("/department/", {"op": "acknowledge", "target": urban.uuid.hex})
    assert done.status_code == 302
    assert Summons.objects.get(pk=urban.pk).status == Summons.Status.ACKNOWLEDGED


def test_an_unknown_operation_is_refused_in_the_page(client, whistle_city, whistled):
    case, _summonses, _notice = whistled
    client.force_login(whistle_city.dispatcher)
    for page in ("/dispatch/", case_url(case)):
        assert_refused_in_the_page(client.post(page, {"op": "²", "target": case.reference}))


def test_the_whistle_page_refuses_a_form_for_another_case(client, whistle_city):
    city = whistle_city
    with time_machine.travel(NOW, tick=False):
        case = filed_case(city)
        other = filed_case(city)
    client.force_login(city.dispatcher)
    with time_machine.travel(LATER, tick=False):
        response = client.post(
            f"/dispatch/whistle/{case.reference}/",
            {
                "op": "whistle",
                "target": other.reference.lower(),
                f"whistle-{other.reference}-kind": "routine",
                f"whistle-{other.reference}-departments": [city.urban.pk],
            },
        )
    assert_refused_in_the_page(response)
    assert not case.whistles.exists() and not other.whistles.exists()


def test_the_refusal_speaks_english_to_an_english_reader(client, whistle_city, whistled):
    case, _summonses, _notice = whistled
    client.force_login(whistle_city.urban_officer)
    response = client.post(
        case_url(case), {"op": "answer", "target": "²"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert "This form does not match anything on the page" in response.content.decode()
