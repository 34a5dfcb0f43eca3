"""An action's refusal, posted from any page, comes back as a message on that page in the
reader's language, never as a server error: here a moment the trail cannot take (before the
case's last event, as a server whose clock ran behind would post it) on the desk, the
street, the assessment's ratings, appeals and department pages, and a case in the wrong
state on the desk."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from tests.fixtures_assessment import bj, july_fixture  # noqa: F401  (fixture)
from tests.fixtures_cases import (
    beijing,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from tests.fixtures_desk import case_url, post_op
from tests.fixtures_district import (
    APPEALS,
    DEPARTMENT,
    HOME,
    jpeg_upload,
    post_form,
    rate_july,
    scored_july_fixture,  # noqa: F401  (fixture)
)
from tests.fixtures_street import MORNING, reported, street_fixture  # noqa: F401  (fixture)
from whistle.assessment.editing import appeal_with_photos
from whistle.assessment.models import Appeal
from whistle.cases import actions
from whistle.cases.models import Case, Event, Summons
from whistle.cases.trail import EventKind

NOW = beijing(2026, 3, 10, 10, 0)
BACKWARDS = "记录的时间不能倒退"


def page_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# The desk ----------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["case", "department"])
def test_the_desk_shows_a_moment_before_the_last_event_as_a_message(client, whistle_city, page):
    city = whistle_city
    with time_machine.travel(NOW, tick=False):
        case, _whistle, summonses = whistled_case(city)
    urban = summonses[city.urban.pk]
    client.force_login(city.urban_officer)
    with time_machine.travel(NOW - timedelta(minutes=1), tick=False):
        url = case_url(case) if page == "case" else reverse("department:home")
        html = page_of(post_op(client, url, "acknowledge", urban, follow=True))
    assert BACKWARDS in html
    assert Summons.objects.get(pk=urban.pk).status == Summons.Status.SUMMONED


def test_the_desk_shows_an_action_on_a_case_in_the_wrong_state_as_a_message(client, whistle_city):
    city = whistle_city
    with time_machine.travel(NOW, tick=False):
        case, _whistle, summonses = whistled_case(city)
        urban = summonses[city.urban.pk]
        client.force_login(city.urban_officer)
        page = client.get(case_url(case))
        assert f'id="op-acknowledge-{urban.uuid.hex}"' in page_of(page)
        # Meanwhile the township releases the department: the form on the page is stale.
        actions.release(city.dispatcher, urban, note="无需到场")
        html = page_of(post_op(client, case_url(case), "acknowledge", urban, follow=True))
    assert "无法签收本次报到任务：东城区城管执法局的报到任务当前状态为“已解除”" in html
    assert Summons.objects.get(pk=urban.pk).status == Summons.Status.RELEASED


# The street --------------------------------------------------------------------------------


def test_the_street_shows_a_moment_before_the_last_event_as_a_message(client, street):
    with time_machine.travel(MORNING, tick=False):
        case = reported(street.lane_chief, category=street.vending)
        actions.file_case(street.dispatcher, case)
    client.force_login(street.lane_chief)
    url = reverse("patrol:escalate", kwargs={"reference": case.reference})
    with time_machine.travel(MORNING - timedelta(minutes=1), tick=False):
        html = page_of(client.post(url, {"reason": "游商每天傍晚复出"}))
    assert BACKWARDS in html and "游商每天傍晚复出</textarea>" in html
    assert Case.objects.get(pk=case.pk).escalation == ""


# The assessment ----------------------------------------------------------------------------


def test_the_rating_page_shows_a_moment_before_the_last_event_as_a_message(client, scored):
    summons = scored.summonses["c3_urban"]  # its case closed on 15 July at 12:00
    client.force_login(scored.dongsi_dispatcher)
    with time_machine.travel(bj(15, 11, 59), tick=False):
        prefix = f"rate-{summons.uuid.hex}"
        response = post_form(client, HOME, "rate", summons.uuid.hex, prefix, rating="1")
    assert BACKWARDS in page_of(response)
    assert not Event.objects.filter(summons=summons, kind=EventKind.SUMMONS_RATED).exists()


def test_the_department_page_shows_a_refused_appeal_as_a_message(client, scored):
    rate_july(scored)  # 东四 rated c3 on 16 July at 9:00
    summons = scored.summonses["c3_urban"]
    client.force_login(scored.urban_officer)
    prefix = f"appeal-{summons.uuid.hex}"
    with time_machine.travel(bj(16, 8, 59), tick=False):
        response = client.post(
            DEPARTMENT + "?period=2026-07",
            {
                "op": "appeal",
                "target": summons.uuid.hex,
                f"{prefix}-correction": "came:on_time",
                f"{prefix}-reason": "执法队员已到场",
            },
        )
    assert BACKWARDS in page_of(response)
    assert not Appeal.objects.exists()


def test_the_appeals_page_shows_a_refused_ruling_as_a_message(client, scored):
    rate_july(scored)
    with time_machine.travel(bj(20, 10), tick=False):
        filed = appeal_with_photos(
            scored.urban_officer,
            scored.summonses["c3_urban"],
            "came",
            {"came": "on_time"},
            "执法队员10:20已到场",
            photos=[jpeg_upload().read()],
        )
    client.force_login(scored.chiefs_office)
    prefix = f"rule-{filed.pk}"
    with time_machine.travel(bj(20, 9, 59), tick=False):
        response = client.post(
            APPEALS,
            {
                "op": "rule",
                "target": str(filed.pk),
                f"{prefix}-decision": "reject",
                f"{prefix}-correction": "came:on_time",
                f"{prefix}-note": "无到场记录",
            },
        )
    assert BACKWARDS in page_of(response)
    assert Appeal.objects.get(pk=filed.pk).status == Appeal.Status.PENDING
