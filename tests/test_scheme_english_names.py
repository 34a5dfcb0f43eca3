"""English names of assessment schemes and their components: the district gives them in the
scheme editor; English pages and downloads show them, Chinese ones the Chinese names; an
empty English name shows the Chinese one; re-seeding an older demo database fills them in.

东城区 scores July 2026 under the one-third scheme, rated as in tests/test_assessment.py.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import translation

from tests.fixtures_assessment import bj, july_fixture  # noqa: F401  (fixture)
from tests.fixtures_district import (
    RANKINGS,
    SCHEME,
    july_28_clock_fixture,  # noqa: F401  (fixture, used by every test)
    rated_july_fixture,  # noqa: F401  (fixture)
    scheme_field_posted,
    scored_july_fixture,  # noqa: F401  (fixture)
)
from whistle.assessment.models import Scheme, SchemeComponent
from whistle.demo.scores import build
from whistle.district.forms import SCHEME_FIELDS

SCHEME_EN = "2026 annual assessment (township evaluation one third)"


@pytest.fixture
def named(rated):
    """The district gave its scheme and its inspection English names."""
    Scheme.objects.update(name_en=SCHEME_EN)
    SchemeComponent.objects.update(name_en="District inspection")
    return rated


def page(client, url: str, language: str, **params: Any) -> str:
    response = client.get(url, params, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def chart_series(html: str) -> list[str]:
    found = re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', html)
    assert found, "no chart data"
    return [s["name"] for s in json.loads(found.group(1))["series"]]


def test_an_english_rankings_page_heads_the_parts_and_names_the_scheme_in_english(client, named):
    client.force_login(named.district_assessor)
    html = page(client, RANKINGS, "en", period="2026-07")
    assert 'District inspection<br><span class="share">share 2/3</span>' in html
    assert f"Scheme: {SCHEME_EN}" in html
    assert "区级检查" not in html and "年度考核" not in html
    assert chart_series(html) == ["Township evaluation (1/3)", "District inspection (2/3)"]


def test_a_chinese_rankings_page_keeps_the_chinese_names(client, named):
    client.force_login(named.district_assessor)
    html = page(client, RANKINGS, "zh-hans", period="2026-07")
    assert '区级检查<br><span class="share">占 2/3</span>' in html
    assert "考核方案：2026年度考核（街乡评价占三分之一）" in html
    assert "District inspection" not in html and SCHEME_EN not in html


def test_without_an_english_name_an_english_page_shows_the_chinese_one(client, named):
    SchemeComponent.objects.update(name_en="  ")
    client.force_login(named.district_assessor)
    html = page(client, RANKINGS, "en", period="2026-07")
    assert '区级检查<br><span class="share">share 2/3</span>' in html
    assert f"Scheme: {SCHEME_EN}" in html


def test_the_drill_down_of_a_department_names_its_parts_in_english(client, named):
    client.force_login(named.district_assessor)
    html = page(client, RANKINGS + "2026-07/dc-cgw/", "en", period="2026-07")
    assert "(District inspection)" in html
    assert f"Scheme: {SCHEME_EN}" in html
    assert "区级检查" not in html


@pytest.mark.parametrize(
    ("language", "head"), [("en", "District inspection"), ("zh-hans", "区级检查")]
)
def test_the_download_heads_the_component_in_the_readers_language(client, named, language, head):
    client.force_login(named.district_assessor)
    response = client.get(
        RANKINGS + "export/", {"period": "2026-07", "format": "csv"}, HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 200
    header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header[8] == head
    # The component's name and the other columns are headed alike.
    assert header[7] == {"en": "Township evaluation", "zh-hans": "街乡评价"}[language]
    if language == "en":
        assert [name for name in header if name[:1] != name[:1].upper()] == []


def test_the_scheme_editor_lists_the_versions_in_the_readers_language(client, named):
    client.force_login(named.district_assessor)
    english = page(client, SCHEME, "en", period="2026-07")
    assert f'<td data-label="Name">{SCHEME_EN}</td>' in english
    assert "District inspection (2/3)" in english
    # The form of a new version starts from the components in force, English names included.
    assert 'name="components-0-name_en" value="District inspection"' in english
    chinese = page(client, SCHEME, "zh-hans", period="2026-07")
    assert "区级检查 (2/3)" in chinese


def version_data(month: str, components: list[dict[str, str]], **changes: Any) -> dict:
    """The new-version form as a browser posts it, prefilled from the current scheme."""
    current = Scheme.objects.get(valid_from__year=2026, valid_from__month=1)
    values = {name: getattr(current, name) for name in SCHEME_FIELDS} | changes
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
    for index, component in enumerate(components):
        for name, value in component.items():
            data[f"components-{index}-{name}"] = value
    return data


INSPECTION = {"code": "inspection", "name": "区级检查", "weight": "2/3"}


def test_the_editor_offers_and_saves_the_english_names(client, rated):
    client.force_login(rated.district_assessor)
    html = page(client, SCHEME, "en")
    assert 'name="scheme-name_en"' in html and 'name="components-0-name_en"' in html
    data = version_data(
        "2026-08",
        [{**INSPECTION, "name_en": " District inspection "}],
        name="2026年8月起考核",
        name_en="Assessment from August 2026",
    )
    response = client.post(SCHEME, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302, response.content.decode()[-3000:]
    made = Scheme.objects.get(name="2026年8月起考核")
    assert made.name_en == "Assessment from August 2026"
    assert [(c.name, c.name_en) for c in made.components.all()] == [
        ("区级检查", "District inspection")
    ]
    shown = page(client, response["Location"], "en")
    assert "The new version “Assessment from August 2026” is in force from" in shown


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "English name is too long: 101 characters, at most 100."),
        ("zh-hans", "英文名称太长：101 个字，最多 100 个字。"),
    ],
)
def test_an_english_name_too_long_is_refused_in_the_readers_language(
    client, rated, language, message
):
    client.force_login(rated.district_assessor)
    data = version_data(
        "2026-08", [{**INSPECTION, "name_en": "x" * 101}], name="新版本", name_en="y" * 101
    )
    response = client.post(SCHEME, data, HTTP_ACCEPT_LANGUAGE=language)
    html = page_of(response)
    assert html.count(message) >= 2
    assert Scheme.objects.count() == 1


def page_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_reseeding_an_older_demo_database_fills_in_the_english_names(db, small_city):
    # The demo's scheme as an older demo made it: named in Chinese only.
    scheme = Scheme.objects.create(
        district=small_city.district, name="年度考核（街乡评价占三分之一）", valid_from="2026-01-01"
    )
    SchemeComponent.objects.create(scheme=scheme, code="inspection", name="区级检查", weight="2/3")
    city = SimpleNamespace(district=small_city.district, updated=Counter())
    with translation.override("en"):
        line = build(city)
    assert line == "Assessment: a scheme is there already; its English names filled in."
    scheme.refresh_from_db()
    assert scheme.name_en == "Annual assessment (township evaluation one third)"
    assert scheme.components.get().name_en == "District inspection"
    assert sum(city.updated.values()) == 2
    # Once named, a further run changes nothing; a name the district changed is left alone.
    Scheme.objects.update(name_en="Our own name")
    assert build(city) == "考核：已有考核方案，保持不变。"
    assert Scheme.objects.get().name_en == "Our own name"


def test_the_settings_of_a_scheme_without_english_names_show_a_dash(client, rated):
    client.force_login(rated.district_assessor)
    html = page(client, SCHEME, "en", period="2026-07")
    shown = html[html.index('id="shown-title"') :]
    assert "<dt>English name</dt><dd>—</dd>" in shown
    assert "<dt>区级检查 · —</dt>" in shown
    Scheme.objects.update(name_en=SCHEME_EN)
    SchemeComponent.objects.update(name_en="District inspection")
    shown = page(client, SCHEME, "en", period="2026-07")
    assert f"<dt>English name</dt><dd>{SCHEME_EN}</dd>" in shown
    assert '<dt>区级检查 · <span lang="en">District inspection</span></dt>' in shown
