"""The scheme editor: a district assessor reads the scheme in force in a period and creates a
new version from a month on (validated by the model: weights, shares, closed periods), the
months it covers are rescored; closing a period freezes it; who may do what.

东城区 scores 2026 under the one-third scheme (from 2026-01); July 2026 is rated as in
tests/test_assessment.py. Under Miyun's weighting (40%, lateness in bands) 派出所's c1
record becomes 91.00 and its July total 86.20, first.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tests.fixtures_assessment import bj, july_fixture  # noqa: F401  (fixture)
from tests.fixtures_district import (
    SCHEME,
    july_28_clock_fixture,  # noqa: F401  (fixture, used by every test)
    rated_july_fixture,  # noqa: F401  (fixture)
    scheme_field_posted,
    scored_july_fixture,  # noqa: F401  (fixture)
)
from whistle.assessment.actions import close_period
from whistle.assessment.models import (
    ClosedPeriod,
    DepartmentResult,
    Scheme,
    SummonsAssessment,
)
from whistle.district.forms import SCHEME_FIELDS


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def version_data(month: str, components: list[tuple[str, str, str]], **changes: Any) -> dict:
    """The new-version form as a browser posts it, prefilled from the current scheme."""
    current = Scheme.objects.get(valid_from__year=2026, valid_from__month=1)
    values = {name: getattr(current, name) for name in SCHEME_FIELDS}
    values.update(changes)
    data: dict[str, Any] = {"op": "scheme", "scheme-valid_from_month": month}
    for name, value in values.items():
        data[f"scheme-{name}"] = scheme_field_posted(name, value)
    data.update(
        {
            "components-TOTAL_FORMS": str(len(components) + 1),
            "components-INITIAL_FORMS": "0",
            "components-MIN_NUM_FORMS": "0",
            "components-MAX_NUM_FORMS": "10",
        }
    )
    for index, (code, name, weight) in enumerate(components):
        data[f"components-{index}-code"] = code
        data[f"components-{index}-name"] = name
        data[f"components-{index}-weight"] = weight
    return data


MIYUN = {
    "name": "2026年7月起考核（街乡评价占40%）",
    "township_share": "40%",
    "late_mode": "bands",
    "late_bands": [[10, 10], [30, 30]],
}


def test_the_assessor_reads_the_versions_and_the_scheme_in_force_in_a_period(client, rated):
    client.force_login(rated.district_assessor)
    html = html_of(client.get(SCHEME, {"period": "2026-07"}))
    assert "2026年度考核（街乡评价占三分之一）" in html
    shown = html[html.index('id="shown-title"') :]
    assert "2026年7月 适用的方案" in shown
    assert "“来没来”权重" in shown and "0.3000" in shown
    assert "区级检查" in shown and "占 2/3" in shown
    assert "新建方案版本" in html and "关账" in html
    # Prefilled from the version in force now, from this month on.
    assert '<option value="2026-07" selected>' in html


def test_a_new_version_from_an_open_month_rescores_the_months_it_covers(client, rated):
    m = rated
    client.force_login(m.district_assessor)
    data = version_data("2026-07", [("inspection", "区级检查", "0.6")], **MIYUN)
    response = client.post(SCHEME, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert response["Location"] == f"{SCHEME}?district=110101&period=2026-07"
    made = Scheme.objects.get(name=MIYUN["name"])
    assert made.valid_from.isoformat() == "2026-07-01"
    assert [(c.code, c.weight) for c in made.components.all()] == [("inspection", "0.6")]
    record = SummonsAssessment.objects.get(summons=m.summonses["c1_police"])
    assert (record.scheme, record.total) == (made, Decimal("91.00"))
    police = DepartmentResult.objects.get(department=m.police, period="2026-07")
    assert (police.scheme, police.total, police.rank) == (made, Decimal("86.20"), 1)
    html = html_of(client.get(response["Location"]))
    assert "新版本“2026年7月起考核（街乡评价占40%）”自 2026年7月 起适用。" in html


@pytest.mark.parametrize(
    ("changes", "components", "message"),
    [
        ({"weight_came": "0.5"}, [("inspection", "区级检查", "2/3")], "三项权重之和必须为 1"),
        ({}, [("inspection", "区级检查", "0.5")], "占比之和应为 1，现为 83.33%"),
        ({"township_share": "half"}, [], "占比请写成 1/3、0.4 或 40%"),
        (
            {"late_mode": "bands", "late_bands": []},
            [("inspection", "区级检查", "2/3")],
            "请至少填写一个分档",
        ),
        (
            {},
            [("inspection", "区级检查", "1/3"), ("inspection", "再次检查", "1/3")],
            "组成部分代码 inspection 重复",
        ),
    ],
)
def test_a_version_that_does_not_add_up_is_refused_and_nothing_is_written(
    client, rated, changes, components, message
):
    client.force_login(rated.district_assessor)
    data = version_data("2026-08", components, name="新版本", **changes)
    html = html_of(client.post(SCHEME, data))
    assert message in html
    assert Scheme.objects.count() == 1


def test_a_version_cannot_start_in_a_month_that_already_has_one(client, rated):
    client.force_login(rated.district_assessor)
    data = version_data("2026-01", [("inspection", "区级检查", "2/3")], name="重复")
    html = html_of(client.post(SCHEME, data))
    assert "已有一个方案版本从 2026-01 起用" in html
    assert Scheme.objects.count() == 1


def test_a_version_cannot_start_inside_a_closed_period(client, rated, _clock):
    m = rated
    _clock.move_to(bj(3, 9, month=8))
    close_period(m.district_assessor, m.district, "2026-07")
    client.force_login(m.district_assessor)
    data = version_data("2026-07", [("inspection", "区级检查", "0.6")], **MIYUN)
    html = html_of(client.post(SCHEME, data))
    assert "2026-07 及以前的考核期已关账，新方案须从其后的月份起用" in html
    assert Scheme.objects.count() == 1
    # From August on it is accepted, and July keeps its scheme and scores.
    response = client.post(
        SCHEME, version_data("2026-08", [("inspection", "区级检查", "0.6")], **MIYUN)
    )
    assert response.status_code == 302
    police = DepartmentResult.objects.get(department=m.police, period="2026-07")
    assert (police.total, police.frozen) == (Decimal("84.97"), True)
    html = html_of(client.get(SCHEME))
    assert "已用于已关账的考核期，不可更改" in html


def test_closing_a_period_freezes_its_scores(client, rated, _clock):
    m = rated
    _clock.move_to(bj(3, 9, month=8))
    client.force_login(m.chiefs_office)
    html = html_of(client.post(SCHEME, {"op": "close", "close-period": "2026-07"}))
    assert "请勾选以确认。" in html
    assert not ClosedPeriod.objects.exists()
    response = client.post(
        SCHEME, {"op": "close", "close-period": "2026-07", "close-confirm": "on"}
    )
    assert response.status_code == 302
    closed = ClosedPeriod.objects.get()
    assert (closed.period, closed.closed_by) == ("2026-07", m.chiefs_office)
    assert DepartmentResult.objects.filter(period="2026-07", frozen=True).count() == 3
    html = html_of(client.get(SCHEME))
    assert "2026年7月" in html[html.index('id="close"') :]
    # A month not yet over cannot be chosen.
    html = html_of(
        client.post(SCHEME, {"op": "close", "close-period": "2026-08", "close-confirm": "on"})
    )
    assert "选择一个有效的选项" in html


def test_the_chiefs_office_closes_but_does_not_write_schemes(client, rated):
    client.force_login(rated.chiefs_office)
    html = html_of(client.get(SCHEME))
    assert "新建方案版本" not in html and "关账" in html
    data = version_data("2026-08", [("inspection", "区级检查", "2/3")], name="越权")
    assert client.post(SCHEME, data).status_code == 400
    assert Scheme.objects.count() == 1


@pytest.mark.parametrize("who", ["urban_officer", "longtan_assessor", "dongsi_dispatcher"])
def test_the_scheme_editor_refuses_everyone_else(client, rated, who):
    client.force_login(getattr(rated, who))
    assert client.get(SCHEME).status_code == 403


def test_the_scheme_page_runs_a_fixed_number_of_queries(
    client, rated, django_assert_max_num_queries
):
    client.force_login(rated.district_assessor)
    with django_assert_max_num_queries(14):
        html_of(client.get(SCHEME, {"period": "2026-07"}))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"appeal_working_days": 99999999999}, "小于或等于250"),
        ({"appeal_working_days": 251}, "小于或等于250"),
        ({"late_points_per_minute": "99999"}, "100"),
        ({"late_mode": "bands", "late_bands": [[99999999999, 10]]}, "至多 525600 分钟"),
    ],
)
def test_a_version_with_an_absurd_number_is_refused_and_nothing_is_written(
    client, rated, changes, message
):
    client.force_login(rated.district_assessor)
    data = version_data("2026-11", [], name="新版本", **changes)
    html = html_of(client.post(SCHEME, data))
    assert message in html
    assert Scheme.objects.count() == 1


def test_an_old_absurd_appeal_window_counts_as_the_longest_and_warns_once(rated, caplog):
    from whistle.assessment.actions import appeal_deadline
    from whistle.policies.calendar import deadline_after
    from whistle.policies.models import DurationUnit

    record = SummonsAssessment.objects.filter(settled_at__isnull=False).first()
    assert record is not None and record.settled_at is not None
    # A scheme written before the bound existed (kept in memory: the database refuses it).
    record.scheme.appeal_working_days = 99999999999
    with caplog.at_level("WARNING", logger="whistle.calendar"):
        until = appeal_deadline(record)
    longest = deadline_after(record.settled_at, 250, DurationUnit.WORKING_DAYS, record.district)
    assert until == longest
    years = [r for r in caplog.records if r.name == "whistle.calendar"]
    assert len(years) <= 2


def test_a_version_that_counts_a_summons_nobody_rated_as_three_stars_rescores_july(client, scored):
    """Nobody has rated July. 城管's c1 (on time, handled) stands at 100 with "how well" left
    out; counted as 3 stars (60 points) it is 0.3 × 100 + 0.4 × 100 + 0.3 × 60 = 88.00 and
    still has no rating. 派出所's c4, its decline upheld, did not have to come: not counted."""
    m = scored
    c1 = SummonsAssessment.objects.get(summons=m.summonses["c1_urban"])
    assert (c1.rating, c1.quality_score, c1.total) == (None, None, Decimal("100.00"))
    client.force_login(m.district_assessor)
    data = version_data(
        "2026-07", [("inspection", "区级检查", "2/3")], name="未评分按三星计", unrated_stars=3
    )
    response = client.post(SCHEME, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    made = Scheme.objects.get(name="未评分按三星计")
    assert made.unrated_stars == 3
    assert Scheme.objects.get(valid_from__month=1).unrated_stars is None
    c1.refresh_from_db()
    assert (c1.scheme, c1.rating, c1.quality_score, c1.total) == (
        made,
        None,
        Decimal("60.00"),
        Decimal("88.00"),
    )
    c4 = SummonsAssessment.objects.get(summons=m.summonses["c4_police"])
    assert c4.excused and (c4.scheme, c4.quality_score) == (made, None)
    shown = html_of(client.get(response["Location"]))
    shown = shown[shown.index('id="shown-title"') : shown.index('id="new-version"')]
    assert "<dt>未评分的召集</dt><dd>按 3 星计</dd>" in shown


def test_the_setting_for_a_summons_nobody_rated_reads_in_both_languages(client, rated):
    client.force_login(rated.district_assessor)
    english = html_of(client.get(SCHEME, {"period": "2026-07"}, HTTP_ACCEPT_LANGUAGE="en"))
    assert "<dt>a summons nobody rated</dt><dd>leave “how well” out</dd>" in english
    form = english[english.index('id="new-version"') :]
    assert "A summons nobody rated" in form
    assert '<option value="" selected>leave “how well” out</option>' in form
    assert '<option value="1">count it as 1 star</option>' in form
    assert '<option value="5">count it as 5 stars</option>' in form
    chinese = html_of(client.get(SCHEME, {"period": "2026-07"}))
    assert "<dt>未评分的召集</dt><dd>不计“干得好不好”</dd>" in chinese
    assert '<option value="3">按 3 星计</option>' in chinese


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("zh-hans", "未评分的召集可按 1 至 5 星计，或不计“干得好不好”。"),
        ("en", "Count a summons nobody rated as 1 to 5 stars, or leave “how well” out."),
    ],
)
@pytest.mark.parametrize("stars", ["0", "6", "three", "-1"])
def test_a_count_for_a_summons_nobody_rated_outside_one_to_five_stars_is_refused_on_its_field(
    client, rated, stars, language, message
):
    client.force_login(rated.district_assessor)
    data = version_data("2026-08", [("inspection", "区级检查", "2/3")], name="新版本")
    data["scheme-unrated_stars"] = stars
    html = html_of(client.post(SCHEME, data, HTTP_ACCEPT_LANGUAGE=language))
    field = html[html.index('class="field has-error"') :]
    assert 'id="id_scheme-unrated_stars-errors"' in field[: field.index("</ul>")]
    assert message in field[: field.index("</ul>")]
    assert Scheme.objects.count() == 1


def test_the_database_refuses_a_count_outside_one_to_five_stars(rated):
    scheme = Scheme.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Scheme.objects.filter(pk=scheme.pk).update(unrated_stars=6)
    scheme.unrated_stars = 0
    with pytest.raises(ValidationError) as refused:
        scheme.full_clean()
    assert refused.value.message_dict["unrated_stars"] == [
        "未评分的召集可按 1 至 5 星计，或不计“干得好不好”。"
    ]
