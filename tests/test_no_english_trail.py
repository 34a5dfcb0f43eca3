"""The assessment's events on a case's timeline (a rating, an appeal, its ruling), which the
demo city's history does not hold, read in Chinese with no English key or code: the
companion of tests/test_no_english.py on the assessment's fixtures (that module keeps the
demo city in the database while it runs)."""

from __future__ import annotations

import pytest
import time_machine

from tests.fixtures_assessment import bj, july_fixture  # noqa: F401  (fixture)
from tests.fixtures_district import rate_july, scored_july_fixture  # noqa: F401  (fixture)
from tests.test_no_english import Page, english_words

pytestmark = pytest.mark.django_db


def test_a_rated_and_appealed_summons_reads_in_chinese_on_the_case_page(client, scored):
    from whistle.assessment.actions import rule_on_appeal
    from whistle.assessment.editing import appeal_with_photos

    rate_july(scored)
    summons = scored.summonses["c3_urban"]
    with time_machine.travel(bj(20, 10), tick=False):
        appeal = appeal_with_photos(
            scored.urban_officer,
            summons,
            "came",
            {"came": "on_time"},
            "执法队员10:20已到场，定位信号弱未能签到",
            evidence="现场执法记录仪视频",
        )
        rule_on_appeal(scored.chiefs_office, appeal, True, "视频可证明已到场")
    client.force_login(scored.dongsi_dispatcher)
    response = client.get(f"/cases/{summons.case.reference}/")
    assert response.status_code == 200
    page = Page()
    page.feed(response.content.decode())
    text = " ".join(page.text)
    assert "申请更正为" in text and "已更正为" in text and "街乡评分" in text
    assert "1 星（满分 5 星）" in text
    assert english_words(text, frozenset({summons.case.reference})) == set()
