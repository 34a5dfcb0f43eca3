"""English names of problem categories and their major classes: English pages, Open311 and
the map show them, Chinese ones the Chinese names; an empty English name shows the Chinese
one; the demo's categories carry English names, and re-seeding an older demo database fills
in the empty ones; the import reads them; the REST API gives them beside the Chinese names.
Their English keywords go the same way to Open311's English readers.

In the city of tests/fixtures_cases.py, 无照经营游商 (under 街面秩序) is given an English name
and 暴露垃圾 (under 市容环境) is left without one.
"""

from __future__ import annotations

import html as html_text
import json
from typing import Any
from xml.etree import ElementTree

import pytest
import time_machine
from django.test import Client
from django.utils import translation

from tests.fixtures_api import api_city_fixture  # noqa: F401  (fixture)
from tests.fixtures_cases import (
    WhistleCity,
    beijing,
    filed_case,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from whistle.demo import city as demo_city
from whistle.demo.data import categories as demo_categories
from whistle.demo.data import services
from whistle.organisation.models import Sector
from whistle.policies.models import Category, CategoryKind, MajorClass

VENDING_EN = "Unlicensed street vendor"
ORDER_EN = "Street order"


@pytest.fixture
def named(whistle_city: WhistleCity) -> WhistleCity:
    Category.objects.filter(pk=whistle_city.street_vending.pk).update(name_en=VENDING_EN)
    MajorClass.objects.filter(code="05").update(name_en=ORDER_EN)
    whistle_city.street_vending.refresh_from_db()
    return whistle_city


def page(client, url: str, language: str, **params: Any) -> str:
    response = client.get(url, params, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, response.status_code
    return html_text.unescape(response.content.decode())


def test_the_case_page_names_the_category_in_the_readers_language(client, named):
    case = filed_case(named)
    garbage = filed_case(named, category=named.exposed_garbage)
    client.force_login(named.dispatcher)
    english = page(client, f"/cases/{case.reference}/", "en")
    assert f"0501 {VENDING_EN}" in english and "无照经营游商" not in english
    chinese = page(client, f"/cases/{case.reference}/", "zh-hans")
    assert "0501 无照经营游商" in chinese and VENDING_EN not in chinese
    # Without an English name, an English page shows the Chinese one.
    assert "0102 暴露垃圾" in page(client, f"/cases/{garbage.reference}/", "en")


def test_the_reporters_message_names_the_category_in_the_readers_language(named):
    from whistle.notifications.models import Channel, Notification
    from whistle.notifications.texts import body_of

    case = filed_case(named)
    entry = Notification.objects.get(
        recipient=case.reporter, channel=Channel.INBOX, kind="case.filed"
    )
    # What leaves the system (SMS, e-mail) is written once, in the deployment's language.
    assert "已按“无照经营游商”立案" in entry.body
    with translation.override("en"):
        english = body_of(entry.payload, entry.body)
    assert f"was filed as {VENDING_EN};" in english and "无照经营游商" not in english
    with translation.override("zh-hans"):
        assert body_of(entry.payload, entry.body) == entry.body
    # Without an English name, the English message names the Chinese one.
    garbage = filed_case(named, category=named.exposed_garbage)
    entry = Notification.objects.get(
        recipient=garbage.reporter,
        channel=Channel.INBOX,
        kind="case.filed",
        payload__case=garbage.reference,
    )
    with translation.override("en"):
        assert "was filed as 暴露垃圾;" in body_of(entry.payload, entry.body)


def test_the_case_lists_filter_names_the_categories_in_the_readers_language(client, named):
    client.force_login(named.dispatcher)
    english = page(client, "/dispatch/cases/", "en")
    assert f"{ORDER_EN} · {VENDING_EN}</option>" in english
    assert "市容环境 · 暴露垃圾</option>" in english
    chinese = page(client, "/dispatch/cases/", "zh-hans")
    assert "街面秩序 · 无照经营游商</option>" in chinese and VENDING_EN not in chinese


def test_the_hot_spots_name_the_category_in_the_readers_language(client, named):
    for day in (2, 9, 16):
        filed_case(named, at=beijing(2026, 7, day, 9), description="游商占道经营")
    client.force_login(named.district_office)
    params = {"period": "2026-07", "min_cases": "3"}
    with time_machine.travel(beijing(2026, 8, 3, 9), tick=False):
        english = page(client, "/district/hotspots/", "en", **params)
        chinese = page(client, "/district/hotspots/", "zh-hans", **params)
    spots = english[english.index('id="spots-title"') :]
    assert f"人民市场东巷 · {VENDING_EN}" in spots and "无照经营游商" not in spots
    assert f"0501 {VENDING_EN}</option>" in english and "0102 暴露垃圾</option>" in english
    spots = chinese[chinese.index('id="spots-title"') :]
    assert "人民市场东巷 · 无照经营游商" in spots and VENDING_EN not in chinese


def test_the_map_names_a_cases_category_in_the_readers_language(client, named):
    filed_case(named)
    client.force_login(named.dispatcher)
    for language, name in (("en", VENDING_EN), ("zh-hans", "无照经营游商")):
        response = client.get("/map/cases.geojson", HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        (feature,) = json.loads(response.content)["features"]
        assert feature["properties"]["category"] == name


@pytest.mark.parametrize(
    ("language", "vending", "group", "garbage"),
    [
        ("en", VENDING_EN, ORDER_EN, "暴露垃圾"),
        ("zh-hans", "无照经营游商", "街面秩序", "暴露垃圾"),
    ],
)
def test_open311_names_the_services_in_the_callers_language(
    api_city, language, vending, group, garbage
):
    Category.objects.filter(code="01", major__code="05").update(name_en=VENDING_EN)
    MajorClass.objects.filter(code="05").update(name_en=ORDER_EN)
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    response = client.get("/open311/v2/services.json")
    assert response.status_code == 200
    by_code = {s["service_code"]: s for s in json.loads(response.content)}
    assert by_code["event-0501"]["service_name"] == vending
    assert by_code["event-0501"]["group"] == group
    assert by_code["event-0501"]["description"] == f"{group} · {vending}"
    assert by_code["event-0102"]["service_name"] == garbage


@pytest.mark.parametrize(
    ("language", "vending", "garbage"),
    [
        ("en", "street vendor,stall", "垃圾,堆放"),
        ("zh-hans", "游商,摆摊", "垃圾,堆放"),
    ],
)
def test_open311_gives_the_services_keywords_in_the_callers_language(
    api_city, language, vending, garbage
):
    Category.objects.filter(code="01", major__code="05").update(
        keywords="游商,摆摊", keywords_en="street vendor,stall"
    )
    # Without English keywords (or blank ones), an English reader gets the Chinese ones.
    Category.objects.filter(code="02", major__code="01").update(
        keywords="垃圾,堆放", keywords_en="  "
    )
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    response = client.get("/open311/v2/services.json")
    assert response.status_code == 200
    by_code = {s["service_code"]: s for s in json.loads(response.content)}
    assert by_code["event-0501"]["keywords"] == vending
    assert by_code["event-0102"]["keywords"] == garbage
    response = client.get("/open311/v2/services.xml")
    assert response.status_code == 200
    root = ElementTree.fromstring(response.content)
    keywords = {s.findtext("service_code"): s.findtext("keywords") for s in root}
    assert keywords == {"event-0501": vending, "event-0102": garbage}


def test_the_rest_api_gives_the_english_names_beside_the_chinese_ones(api_city, named):
    Category.objects.filter(pk=named.exposed_garbage.pk).update(name_en="  ")
    dispatcher = api_city.as_("dispatcher")
    response = dispatcher.get("/organisation/categories")
    assert response.status_code == 200, response.content
    by_code = {c["code"]: c for c in response.json()}
    vending, garbage = by_code["0501"], by_code["0102"]
    assert (vending["name"], vending["name_en"]) == ("无照经营游商", VENDING_EN)
    assert (vending["major"], vending["major_name_en"]) == ("街面秩序", ORDER_EN)
    # Without an English name (or a blank one): null, the Chinese name beside it.
    assert (garbage["name"], garbage["name_en"]) == ("暴露垃圾", None)
    assert (garbage["major"], garbage["major_name_en"]) == ("市容环境", None)

    # A case names its category the same way, whatever the caller's language.
    case = filed_case(named)
    garbage_case = filed_case(named, category=named.exposed_garbage)
    detail = dispatcher.get(f"/cases/{case.reference}").json()
    assert detail["category"] == {
        "code": "0501",
        "kind": "event",
        "name": "无照经营游商",
        "name_en": VENDING_EN,
    }
    listed = {c["reference"]: c for c in dispatcher.get("/cases").json()["items"]}
    assert listed[case.reference]["category"]["name_en"] == VENDING_EN
    assert listed[garbage_case.reference]["category"]["name_en"] is None

    schemas = dispatcher.get("/openapi.json").json()["components"]["schemas"]
    assert {"name_en", "major_name_en"} <= set(schemas["CategoryOut"]["required"])
    assert "name_en" in schemas["CategoryRef"]["required"]


def test_a_blank_english_name_reads_as_the_chinese_one(named):
    Category.objects.filter(pk=named.street_vending.pk).update(name_en="   ")
    vending = Category.objects.select_related("major").get(pk=named.street_vending.pk)
    with translation.override("en"):
        assert vending.display_name == "无照经营游商"
        assert str(vending.major) == f"event 05 {ORDER_EN}"


# The demo and the import ------------------------------------------------------------------


def test_every_demo_category_and_major_class_has_an_english_name():
    assert all(c.name_en.strip() and c.name_en.isascii() for c in demo_categories.categories())
    assert all(m[3].strip() for m in demo_categories.MAJOR_CLASSES)


def test_every_demo_category_has_english_keywords_as_many_as_it_is_given():
    for category in demo_categories.categories():
        words = category.keywords_en.split(",")
        assert words and all(w.strip() == w and w and w.isascii() for w in words), category
    vending = next(c for c in demo_categories.categories() if c.name == "无照经营游商")
    assert "street vendor" in vending.keywords_en.split(",")


def test_reseeding_an_older_demo_database_fills_in_the_english_names(small_city):
    builder = demo_city._Builder(2018, reset_passwords=False)
    for code, (name, _name_en) in services.SECTORS.items():
        builder.sectors[code] = builder.put(Sector, {"code": code}, {"name": name})
    builder.build_policies(small_city.district)
    vending = Category.objects.get(major__kind=CategoryKind.EVENT, major__code="05", code="01")
    assert vending.name_en == VENDING_EN
    assert MajorClass.objects.get(kind=CategoryKind.EVENT, code="05").name_en == ORDER_EN
    # As an older demo made them: no English names; and one the district gave itself.
    assert "street vendor" in vending.keywords_en.split(",")
    Category.objects.update(name_en="", keywords_en="")
    MajorClass.objects.update(name_en="")
    Category.objects.filter(pk=vending.pk).update(
        name_en="Street hawker", keywords_en="hawker,pedlar"
    )
    again = demo_city._Builder(2018, reset_passwords=False)
    again.sectors = builder.sectors
    again.build_policies(small_city.district)
    assert not Category.objects.filter(name_en="").exists()
    assert not Category.objects.filter(keywords_en="").exists()
    assert not MajorClass.objects.filter(name_en="").exists()
    vending.refresh_from_db()
    assert (vending.name_en, vending.keywords_en) == ("Street hawker", "hawker,pedlar")
    assert Category.objects.get(major__kind="event", major__code="01", code="02").name_en == (
        "Exposed garbage"
    )
