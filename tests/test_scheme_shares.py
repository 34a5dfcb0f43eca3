"""A scheme's parts add up to the whole score: the township evaluation's share and the other
components' shares make 1 (100%). Refused wherever a scheme is written: the scheme editor's
action (the page, and the demo, which builds its scheme through it) and the administration,
where the scheme and its components are edited on one page; a scheme saved there is
rescored at once."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.utils import translation

from tests.fixtures_assessment import bj, july_fixture  # noqa: F401  (fixture)
from tests.fixtures_district import (
    SCHEME,
    july_28_clock_fixture,  # noqa: F401  (fixture, used by every test)
    scored_july_fixture,  # noqa: F401  (fixture)
)
from tests.test_district_scheme import version_data
from whistle.assessment.editing import create_scheme_version
from whistle.assessment.engine import check_all
from whistle.assessment.models import DepartmentResult, Scheme, SchemeComponent
from whistle.district.forms import SCHEME_FIELDS

ADD = "/admin/assessment/scheme/add/"


def test_the_model_names_what_the_shares_add_up_to():
    scheme = Scheme(township_share="1/3")
    scheme.check_shares(["2/3"])
    scheme.check_shares(["0.5", "1/6"])
    with pytest.raises(ValidationError) as refused:
        scheme.check_shares(["0.5"])
    with translation.override("en"):
        assert refused.value.messages == [
            "The share of the township evaluation and the shares of the other components must "
            "add up to 1; they add up to 83.33%"
        ]
    with pytest.raises(ValidationError):
        Scheme(township_share="40%").check_shares(["0.7"])


@pytest.mark.parametrize(
    ("share", "components", "total"),
    [("1/3", ["0.5"], "83.33%"), ("1/3", ["0.7"], "103.33%"), ("100%", ["0.1"], "110.00%")],
)
def test_the_scheme_editor_refuses_shares_that_do_not_make_the_whole(
    client, scored, share, components, total
):
    client.force_login(scored.district_assessor)
    rows = [(f"part{n}", f"部分{n}", weight) for n, weight in enumerate(components)]
    data = version_data("2026-08", rows, name="新版本", township_share=share)
    response = client.post(SCHEME, data)
    assert response.status_code == 200
    assert f"街乡评价占比与其他组成部分占比之和应为 1，现为 {total}" in response.content.decode()
    assert Scheme.objects.count() == 1


def test_the_scheme_editors_action_writes_nothing_when_the_shares_do_not_add_up(scored):
    with pytest.raises(ValidationError):
        create_scheme_version(
            scored.district_assessor,
            scored.district,
            {"name": "新版本", "valid_from": date(2026, 8, 1)},
            [{"code": "inspection", "name": "区级检查", "weight": "0.5"}],
        )
    assert Scheme.objects.count() == 1
    assert SchemeComponent.objects.count() == 1


def admin_data(scheme: Scheme | None, components: list[tuple[str, str]], **changes: Any) -> dict:
    """The administration's scheme page as a browser posts it: the scheme's fields (those of
    `scheme`, or the defaults) and its components (code, share)."""
    base = scheme or Scheme()
    values = model_to_dict(base, fields=[*SCHEME_FIELDS, "district", "valid_from"])
    values.update(changes)
    data: dict[str, Any] = {}
    for name, value in values.items():
        if name == "late_bands":
            data[name] = json.dumps(value)
        elif value is not None:
            data[name] = str(value)
    existing = list(base.components.all()) if scheme is not None else []
    data.update(
        {
            "components-TOTAL_FORMS": str(len(components)),
            "components-INITIAL_FORMS": str(len(existing)),
            "components-MIN_NUM_FORMS": "0",
            "components-MAX_NUM_FORMS": "1000",
        }
    )
    for index, (code, weight) in enumerate(components):
        data[f"components-{index}-code"] = code
        data[f"components-{index}-name"] = code
        data[f"components-{index}-weight"] = weight
        if index < len(existing):
            data[f"components-{index}-id"] = str(existing[index].pk)
            data[f"components-{index}-scheme"] = str(base.pk)
    return data


def test_the_administration_refuses_a_new_scheme_whose_shares_do_not_add_up(admin_client, scored):
    data = admin_data(
        None,
        [("inspection", "0.5")],
        district=scored.district.pk,
        name="八月起新方案",
        valid_from="2026-08-01",
    )
    response = admin_client.post(ADD, data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert "街乡评价占比与其他组成部分占比之和应为 1，现为 83.33%" in response.content.decode()
    assert Scheme.objects.count() == 1


def test_the_administration_refuses_a_changed_share_the_components_do_not_follow(
    admin_client, scored
):
    scheme = Scheme.objects.get()
    url = f"/admin/assessment/scheme/{scheme.pk}/change/"
    data = admin_data(scheme, [("inspection", "2/3")], township_share="40%")
    response = admin_client.post(url, data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert "现为 106.67%" in response.content.decode()
    scheme.refresh_from_db()
    assert scheme.township_share == "1/3"


def test_the_administration_saves_a_scheme_that_adds_up_and_rescores_it(admin_client, scored):
    scheme = Scheme.objects.get()
    url = f"/admin/assessment/scheme/{scheme.pk}/change/"
    data = admin_data(scheme, [("inspection", "0.6")], township_share="40%")
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    scheme.refresh_from_db()
    assert (scheme.township_share, scheme.components.get().weight) == ("40%", "0.6")
    # 派出所 in July, unrated (tests/fixtures_district.py): c1 7 min late 86, handled 100,
    # (25.8 + 40)/.7 = 94.00; c4 decline upheld 100.00: 97.00; 0.4 × 97 + 0.6 × 80 = 86.80.
    police = DepartmentResult.objects.get(department=scored.police, period="2026-07")
    assert (police.township_score, police.total) == (Decimal("97.00"), Decimal("86.80"))
    assert check_all() == []
