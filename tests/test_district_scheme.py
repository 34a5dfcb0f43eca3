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
        (
            {"late_mode": "bands", "late_bands": [[99999999999, 10]]},
            "第1行“99999999999分钟：扣10分”：分钟数须为1至525600之间的整数。",
        ),
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
    assert "<dt>A summons nobody rated</dt><dd>leave “how well” out</dd>" in english
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


def summary_of(html: str) -> str:
    """The "Please correct the following" list above the new-version form."""
    form = html[html.index('id="new-version"') :]
    return form[form.index('class="form-errors"') : form.index("</ul>", form.index("form-errors"))]


def test_every_error_of_the_new_version_form_is_in_its_summary(client, rated):
    client.force_login(rated.district_assessor)
    data = version_data(
        "2026-08",
        [("inspection", "区级检查", "abc"), ("inspection", "再次检查", "1/3")],
        name="新版本",
        weight_came="0.5",
    )
    data["op"] = "preview"
    data["components-TOTAL_FORMS"] = "11"
    summary = summary_of(html_of(client.post(SCHEME, data)))
    # The rows' own error (too many of them), the form's, a row's field's.
    assert "<li>请最多提交 10 个表单。</li>" in summary
    assert "三项权重之和必须为 1" in summary
    assert '<a href="#id_components-0-weight">第1个组成部分 · 占比：</a>' in summary
    assert "无法识别：abc" in summary
    # The preview's own field (no period chosen to replay) is listed with the rest.
    assert '<a href="#id_whatif-replay">重算的时段：</a>这个字段是必填项。' in summary
    data["op"] = "scheme"
    data["components-TOTAL_FORMS"] = "3"
    data["components-0-weight"] = "1/3"
    data["scheme-weight_came"] = "0.3"
    summary = summary_of(html_of(client.post(SCHEME, data)))
    # What the scheme's rules refuse once the form reads well (a code given twice) as well.
    assert "组成部分代码 inspection 重复" in summary
    assert Scheme.objects.count() == 1


def test_late_bands_are_written_one_a_line_and_read_in_words(client, rated):
    client.force_login(rated.district_assessor)
    data = version_data(
        "2026-07", [("inspection", "区级检查", "0.6")], name="分档", township_share="40%"
    )
    data["scheme-late_mode"] = "bands"
    data["scheme-late_bands"] = "10分钟：扣10分\n\n30 min: 25.5 points\n"
    response = client.post(SCHEME, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert Scheme.objects.get(name="分档").late_bands == [[10, 10], [30, 25.5]]
    chinese = html_of(client.get(SCHEME, {"period": "2026-07"}))
    shown = chinese[chinese.index('id="shown-title"') : chinese.index('id="new-version"')]
    assert (
        "<dt>迟到分档</dt><dd>迟到10分钟以内：扣10分；迟到30分钟以内：扣25.5分；"
        "更晚：得迟到最低得分</dd>"
    ) in shown
    english = html_of(client.get(SCHEME, {"period": "2026-07"}, HTTP_ACCEPT_LANGUAGE="en"))
    assert (
        "<dt>Late bands</dt><dd>up to 10 min late: 10 points off; up to 30 min late: 25.5 "
        "points off; later: the least points for a late arrival</dd>"
    ) in english
    # The form is prefilled with the bands as a person writes them.
    form = english[english.index('id="new-version"') :]
    assert ">\n10 min: 10 points\n30 min: 25.5 points</textarea>" in form


@pytest.mark.parametrize(
    ("bands", "language", "message"),
    [
        ("[]", "zh-hans", "第1行“[]”：请先写迟到分钟数，再写扣分，例如“30分钟：扣20分”。"),
        (
            "10 min: 10 points\n5 min: 20 points",
            "en",
            "Line 2, “5 min: 20 points”: each band reaches more minutes than the line before (10).",
        ),
        ("10 min: 120 points", "en", "Line 1, “10 min: 120 points”: a band deducts from 0 to 100"),
        # A minus sign is read with its number, not dropped.
        ("10 min: -5 points", "en", "Line 1, “10 min: -5 points”: a band deducts from 0 to 100"),
        ("10分钟：扣－5分", "zh-hans", "第1行“10分钟：扣－5分”：每档扣0至100分。"),
        ("-10 min: 5 points", "en", "Line 1, “-10 min: 5 points”: the minutes are a whole number"),
        ("0.5分钟：扣1分", "zh-hans", "第1行“0.5分钟：扣1分”：分钟数须为1至525600之间的整数。"),
    ],
)
def test_a_late_band_that_cannot_be_read_is_named_in_the_readers_language(
    client, rated, bands, language, message
):
    client.force_login(rated.district_assessor)
    data = version_data("2026-08", [("inspection", "区级检查", "2/3")], name="新版本")
    data["scheme-late_mode"] = "bands"
    data["scheme-late_bands"] = bands
    html = html_of(client.post(SCHEME, data, HTTP_ACCEPT_LANGUAGE=language))
    assert message in summary_of(html)
    # Said once, by what is wrong: not also as no band written.
    assert "请至少填写一个分档" not in html and "Enter at least one band" not in html
    assert "JSON" not in html
    assert Scheme.objects.count() == 1


def test_bands_chosen_with_none_written_ask_for_one(client, rated):
    client.force_login(rated.district_assessor)
    data = version_data("2026-08", [("inspection", "区级检查", "2/3")], name="新版本")
    data["scheme-late_mode"] = "bands"
    data["scheme-late_bands"] = ""
    html = html_of(client.post(SCHEME, data, HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "请至少填写一个分档" in summary_of(html)
    assert Scheme.objects.count() == 1


def test_the_settings_in_force_read_as_the_form_labels_them(client, rated):
    client.force_login(rated.district_assessor)
    english = html_of(client.get(SCHEME, {"period": "2026-07"}, HTTP_ACCEPT_LANGUAGE="en"))
    shown = english[english.index('id="shown-title"') : english.index('id="new-version"')]
    assert "<dt>Weight of &#x27;did it come&#x27;</dt>" in shown
    assert "<dt>Name</dt>" in shown and "<dt>name</dt>" not in shown
    assert '<label class="label" for="id_scheme-weight_came">Weight of &#x27;did it come&#x27;' in (
        english
    )
    # The code is named for what it is for, not shown bare.
    assert "(in score files: inspection)" in shown and "mono" not in shown
