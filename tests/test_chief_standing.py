"""A street or lane chief sees, on their own patrol history, the patrol requirement that
assesses them and their standing this month, computed as the chiefs' office computes it
(`chief_scores`). The scenario is test_assessment_chiefs' August, seen on 31 Aug 20:00:
李巷长's 人民市场东巷 has 3 counted patrols of the 4 required, 夕照寺中街 4 of 4."""

from __future__ import annotations

from pathlib import Path

import pytest
import time_machine
from django.urls import reverse

from tests.conftest import make_person
from tests.fixtures_measures import bj
from tests.test_assessment_chiefs import Chiefs, chiefs, patrol  # noqa: F401  (fixture)
from whistle.assessment.chiefs import chief_scores, own_standing
from whistle.organisation.models import Role

pytestmark = pytest.mark.django_db

NOW = bj(8, 31, 20)


@pytest.fixture
def scene(request: pytest.FixtureRequest) -> Chiefs:
    """test_assessment_chiefs' August (its `chiefs` fixture)."""
    return request.getfixturevalue("chiefs")


def test_a_chiefs_standing_is_the_chiefs_pages_score_of_the_running_month(scene: Chiefs):
    (standing,) = own_standing(scene.li, now=NOW)
    office = [s for s in chief_scores(scene.district, "2026-08", now=NOW) if s.person == scene.li]
    assert [standing.score] == office
    assert (standing.period.key, standing.days_left) == ("2026-08", 1)
    assert (standing.requirement.every_days, standing.score.activity.patrols) == (7, 9)
    assert [(lane.counted, lane.required, lane.covered) for lane in standing.score.lanes] == [
        (3, 4, False),
        (4, 4, True),
    ]
    assert standing.met is False
    (street,) = own_standing(scene.zhang, now=NOW)
    assert (street.score.role, street.requirement.every_days, street.met) == (
        Role.STREET_CHIEF,
        14,
        True,
    )
    # A steward is assessed by no requirement; early in a month nothing is required yet.
    assert own_standing(scene.wang, now=NOW) == []
    (early,) = own_standing(scene.li, now=bj(9, 3, 9))
    assert (early.met, early.days_left) == (None, 28)


def test_the_chiefs_page_marks_short_exactly_the_chiefs_whose_standing_is_not_met(
    client, scene: Chiefs
):
    scores = {s.person: s for s in chief_scores(scene.district, "2026-08", now=NOW)}
    assert (scores[scene.li].meets_requirement, scores[scene.zhang].meets_requirement) == (
        False,
        True,
    )
    client.force_login(
        make_person("qian-chiefs-office", Role.CHIEFS_OFFICE, jurisdiction=scene.district)
    )
    rows: dict[str, bool] = {}
    with time_machine.travel(NOW, tick=False):
        for township in (scene.longtan, scene.dongsi):
            html = client.get(
                "/district/chiefs/", {"period": "2026-08", "township": township.code}
            ).content.decode()
            table = html[html.index('<table class="table table-stack numbers chiefs-table">') :]
            for row in table[: table.index("</table>")].split("<tr")[2:]:
                rows[row[row.index("<div>") + 5 : row.index("<br>")]] = 'class="is-short"' in row
    assert rows == {scene.li.display_name: True, scene.zhang.display_name: False}


def test_the_patrol_history_page_shows_the_requirement_and_the_standing(client, scene: Chiefs):
    client.force_login(scene.li)
    with time_machine.travel(NOW, tick=False):
        html = client.get(reverse("patrol:history")).content.decode()
    assert "我作为巷长的巡查要求" in html
    assert "您负责的每条街巷至少每 7 天巡查一次；一次巡查覆盖街巷长度的 50% 以上才计入。" in html
    assert "本月（2026-08）：已巡查 9 次，还剩 1 天。" in html
    assert "尚未达到：2 条街巷中有 1 条按要求频次巡查。" in html
    assert "人民市场东巷：至今需巡查 4 次，已计入 3 次（共巡查 5 次） · 未达标" in html
    with time_machine.travel(NOW, tick=False):
        english = client.get(reverse("patrol:history"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Patrol each of your lanes at least once every 7 days" in english
    assert "This month (2026-08): 9 patrols so far, 1 day left." in english
    assert "Not met yet: 1 of 2 lanes patrolled as often as required." in english
    assert "人民市场东巷: 3 of 4 patrols needed so far (5 patrols in all) · not met" in english


def test_a_lane_nothing_is_required_of_yet_says_so_and_how_many_patrols_in_all(
    client, scene: Chiefs
):
    patrol(scene.li, scene.renmin, Role.LANE_CHIEF, bj(9, 2, 9), metres=204, coverage=1.0)
    client.force_login(scene.li)
    with time_machine.travel(bj(9, 3, 9), tick=False):
        english = client.get(reverse("patrol:history"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        html = client.get(reverse("patrol:history")).content.decode()
    assert "This month (2026-09): 1 patrol so far, 28 days left." in english
    assert "人民市场东巷: no patrol needed yet (1 patrol in all)</li>" in english
    assert "夕照寺中街: no patrol needed yet (0 patrols in all)</li>" in english
    assert "in all)" not in english.replace("patrol in all)", "").replace("patrols in all)", "")
    assert "本月（2026-09）：已巡查 1 次，还剩 28 天。" in html
    assert "人民市场东巷：暂不需要巡查（共巡查 1 次）</li>" in html


def test_the_lane_link_of_a_patrol_is_a_whole_tap_target(client, scene: Chiefs):
    client.force_login(scene.li)
    html = client.get(reverse("patrol:history")).content.decode()
    assert 'class="tap-link" href="/patrol/' in html
    css = (Path(__file__).parent.parent / "static/street/street.css").read_text()
    assert ".tap-link { display: inline-flex; align-items: center; min-height: var(--touch" in css
