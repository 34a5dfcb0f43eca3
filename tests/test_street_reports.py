"""One-tap reports by stewards and chiefs: the form, its server-side checks in Chinese with
the entered values kept, the photo kept across a failed submission, category suggestions,
possible duplicates before and after reporting, and the link to the patrol's checklist."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tests.fixtures_street import (  # noqa: F401
    IN_DONGSI,
    MORNING,
    ON_THE_LANE,
    gps_exif,
    noisy_jpeg,
    png_bytes,
    reported,
    street_fixture,
)
from whistle.cases.models import Attachment, Case
from whistle.patrols.actions import record_positions, start_patrol
from whistle.patrols.models import CheckResult

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

URL = "/patrol/report/"


@pytest.fixture
def frozen():
    with time_machine.travel(MORNING, tick=False):
        yield


def form_data(**changes) -> dict:
    lon, lat = ON_THE_LANE
    data = {
        "description": "人民市场东巷有游商摆摊占道",
        "lon": str(lon),
        "lat": str(lat),
        "accuracy_m": "8",
        "category": "",
    }
    data.update(changes)
    return data


def photo(content: bytes, name: str = "IMG_2041.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


def token_in(html: str) -> str:
    match = re.search(r'name="photo_token" value="([^"]*)"', html)
    assert match, "no photo token field"
    return match.group(1)


def test_the_form_asks_for_a_camera_photo_the_position_and_a_category(client, street):
    client.force_login(street.steward)
    html = client.get(URL).content.decode()
    assert 'accept="image/*"' in html and 'capture="environment"' in html
    assert 'enctype="multipart/form-data"' in html
    assert "使用我的位置" in html and "data-geolocate" in html
    assert 'id="report-map"' in html
    assert "街面秩序 · 无照经营游商" in html and "市容环境 · 暴露垃圾" in html
    assert 'hx-get="/patrol/report/suggest/"' in html
    assert '<label class="label" for="id_description">' in html


def test_a_report_with_a_photo_becomes_a_case_with_the_photo_re_encoded(client, street):
    client.force_login(street.steward)
    upload = photo(noisy_jpeg((1200, 900), exif=gps_exif()))
    response = client.post(URL, {**form_data(category=street.vending.pk), "photo": upload})
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("patrol:reported", args=[case.reference]) + "?sent=1"
    assert case.reporter == street.steward
    assert case.source == "steward"
    assert case.category == street.vending
    assert case.lane == street.lane
    assert case.accuracy_m == 8
    attachment = Attachment.objects.get(case=case)
    assert attachment.content_type == "image/jpeg"
    with attachment.file.open("rb") as handle:
        stored = Image.open(io.BytesIO(handle.read()))
        assert not stored.getexif()
    html = client.get(response["Location"]).content.decode()
    assert "<h1>上报成功</h1>" in html
    assert case.reference in html
    # The photo just sent is on the page, served as the case page serves it.
    shown = reverse("case:photo", args=[case.reference, attachment.pk])
    assert f'<img src="{shown}" alt="随上报发送的第1张照片"' in html
    assert client.get(shown).status_code == 200
    assert f'href="/cases/{case.reference}/"' in html
    # Opened again later, or by a chief of the lane, the page is the problem's, not a
    # report just sent.
    again = client.get(reverse("patrol:reported", args=[case.reference])).content.decode()
    assert "<h1>上报的问题</h1>" in again and "再报一个问题" in again
    client.force_login(street.lane_chief)
    theirs = client.get(response["Location"]).content.decode()
    assert "<h1>上报的问题</h1>" in theirs and "上报成功" not in theirs
    assert "再报一个问题" not in theirs


def test_missing_place_and_description_are_refused_in_chinese_and_values_are_kept(client, street):
    client.force_login(street.steward)
    response = client.post(
        URL, form_data(description="", lon="", lat="", category=street.garbage.pk)
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "请用一两句话描述问题。" in html
    assert "请提供位置：使用“我的位置”或在地图上点选。" in html
    assert 'class="form-errors" role="alert"' in html
    # The place missing is said once, not once for the longitude and again for the
    # latitude, and each error follows its field's name: after a full-width colon, or right
    # after a name asked as a question (no "？：").
    assert html.count("请提供位置：使用“我的位置”或在地图上点选。") == 2  # summary, field
    assert "发现了什么问题？</a>请用一两句话描述问题。" in html
    # The list names the place as the form asks for it, not the longitude whose box shows
    # the error.
    assert "问题在哪里？</a>请提供位置：使用“我的位置”或在地图上点选。" in html
    assert "？：" not in html
    assert "经度：</a>" not in html
    assert f'<option value="{street.garbage.pk}" selected>' in html
    assert 'value="8"' in html  # the accuracy typed stays
    assert not Case.objects.exists()


def test_the_missing_place_is_named_as_the_form_asks_for_it_in_english(client, street):
    client.force_login(street.steward)
    response = client.post(
        URL, form_data(description="", lon="", lat=""), HTTP_ACCEPT_LANGUAGE="en"
    )
    html = response.content.decode()
    assert "Where is it?</a> Give the place: use your position or tap the map." in html
    assert "What is the problem?</a> Describe the problem in a sentence or two." in html
    assert "?:" not in html
    assert "Longitude</a>:" not in html
    # A longitude out of range (only a forged request sends one: the page has no coordinate
    # to type) is about the place too, and says how this page gives one.
    response = client.post(URL, form_data(lon="200"), HTTP_ACCEPT_LANGUAGE="en")
    assert (
        "Where is it?</a> The place could not be read: give it again with your position or "
        "on the map." in response.content.decode()
    )


def test_the_staff_form_has_no_coordinates_to_type_and_keeps_the_phones_fix(client, street):
    """The place comes from the phone's position (with its accuracy) or a pin: the page has
    no longitude, latitude or accuracy box a person could type a place into."""
    client.force_login(street.steward)
    html = client.get(URL).content.decode()
    for name in ("lon", "lat", "accuracy_m"):
        assert re.search(rf'<input type="hidden" name="{name}" id="id_{name}"', html), name
        assert f'<label class="label" for="id_{name}"' not in html
    assert "data-geolocate" in html and 'data-accuracy="#id_accuracy_m"' in html
    # An unreadable place is said once, on the place, in Chinese too.
    html = client.post(URL, form_data(lon="x", accuracy_m="y")).content.decode()
    assert "问题在哪里？</a>无法读取所选位置，请重新使用“我的位置”或在地图上点选。" in html
    assert not Case.objects.exists()


def test_a_valid_photo_is_kept_when_another_field_fails_and_used_on_the_next_try(client, street):
    client.force_login(street.steward)
    first = client.post(URL, {**form_data(description=""), "photo": photo(png_bytes((64, 48)))})
    html = first.content.decode()
    token = token_in(html)
    assert token
    assert "已保留您选择的照片" in html
    assert 'src="data:image/jpeg;base64,' in html
    second = client.post(URL, form_data(photo_token=token))
    assert second.status_code == 302
    case = Case.objects.get()
    assert case.attachments.count() == 1


def test_a_text_file_renamed_jpg_is_refused_and_the_rest_is_kept(client, street):
    client.force_login(street.steward)
    fake = photo("这不是照片".encode(), name="problem.jpg")
    response = client.post(URL, {**form_data(), "photo": fake})
    html = response.content.decode()
    assert "不是可读取的 JPEG、PNG 或 WebP 图片" in html and "请重新选择照片" in html
    assert "人民市场东巷有游商摆摊占道</textarea>" in html
    assert token_in(html) == ""
    assert not Case.objects.exists()


def test_a_photo_token_that_expired_asks_for_the_photo_again(client, street):
    client.force_login(street.steward)
    response = client.post(URL, form_data(photo_token="x" * 32))
    assert "之前选择的照片已过期，请重新选择照片。" in response.content.decode()
    assert not Case.objects.exists()


def test_someone_elses_photo_token_is_not_accepted(client, street):
    client.force_login(street.lane_chief)
    token = token_in(
        client.post(
            URL, {**form_data(description=""), "photo": photo(png_bytes())}
        ).content.decode()
    )
    client.force_login(street.steward)
    response = client.post(URL, form_data(photo_token=token))
    assert "已过期" in response.content.decode()


def test_a_place_outside_every_township_is_put_on_the_position(client, street):
    client.force_login(street.steward)
    response = client.post(URL, form_data(lon="100.0", lat="30.0"))
    html = response.content.decode()
    assert "位置（100.0，30.0）不在本市任何街乡范围内。" in html
    assert '<fieldset class="place has-error" id="id_place">' in html


def test_a_report_outside_the_stewards_lanes_is_refused_with_who_may(client, street):
    client.force_login(street.steward)
    lon, lat = IN_DONGSI
    html = client.post(URL, form_data(lon=str(lon), lat=str(lat))).content.decode()
    assert 'class="form-refusal"' in html
    assert "东四六条" in html
    assert not Case.objects.exists()


def test_a_problem_on_the_checklist_opens_the_form_filled_in_and_is_ticked_once_reported(
    client, street
):
    patrol = start_patrol(street.steward, lane=street.lane)
    with time_machine.travel(MORNING + timedelta(minutes=1), tick=False):
        record_positions(
            street.steward,
            patrol,
            points=[
                {
                    "seq": 0,
                    "lon": 116.4321,
                    "lat": 39.8725,
                    "accuracy_m": 7,
                    "at": MORNING.isoformat(),
                }
            ],
        )
    client.force_login(street.steward)
    html = client.get(f"{URL}?patrol={patrol.uuid}&item=no-road-trading").content.decode()
    assert "人民市场东巷：占道经营</textarea>" in html
    assert 'value="116.4321"' in html and 'value="39.8725"' in html
    assert f'value="{patrol.uuid}"' in html
    with time_machine.travel(MORNING + timedelta(minutes=2), tick=False):
        response = client.post(
            URL,
            form_data(
                description="人民市场东巷：占道经营，水果摊",
                patrol=str(patrol.uuid),
                item="no-road-trading",
            ),
        )
    assert response.status_code == 302
    case = Case.objects.get()
    check = CheckResult.objects.get(patrol=patrol, item="no-road-trading")
    assert (check.result, check.outcome, check.case) == ("problem", "reported", case)
    page = client.get(response["Location"]).content.decode()
    assert f"/patrol/walk/{patrol.uuid}/#checklist" in page


def selected_category(html: str) -> str:
    """The value of the report form's chosen category ("" for "Not sure")."""
    select = html[html.index('name="category"') :]
    select = select[: select.index("</select>")]
    match = re.search(r'<option value="([^"]*)"[^>]*selected', select)
    return match.group(1) if match else ""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_problem_on_the_checklist_opens_the_form_with_the_category_its_words_suggest(
    client, street, language
):
    from whistle.policies.models import Category

    building = Category.objects.create(
        major=street.vending.major,
        code="02",
        name="违法建设",
        name_en="Illegal construction",
        keywords="违法建设,加层,扩建",
        keywords_en="illegal construction,illegal building",
    )
    patrol = start_patrol(street.steward, lane=street.lane)
    client.force_login(street.steward)
    opened = f"{URL}?patrol={patrol.uuid}&item="
    html = client.get(opened + "no-illegal-building", HTTP_ACCEPT_LANGUAGE=language)
    assert selected_category(html.content.decode()) == str(building.pk)
    # No category of the district fits the item's words: the form stays at "Not sure".
    html = client.get(opened + "fire-extinguishers", HTTP_ACCEPT_LANGUAGE=language)
    assert selected_category(html.content.decode()) == ""
    assert selected_category(client.get(URL).content.decode()) == ""


def demo_categories() -> list:
    """The demo's categories as the suggestions read them, unsaved."""
    from whistle.demo.data import categories
    from whistle.policies.models import Category, MajorClass

    return [
        Category(
            major=MajorClass(kind=c.kind, code=c.major, name=""),
            code=c.code,
            name=c.name,
            name_en=c.name_en,
            keywords=c.keywords,
            keywords_en=c.keywords_en,
        )
        for c in categories.categories()
    ]


# The demo's category of each item of the default checklist.
DEMO_CATEGORY_OF_ITEM = {
    "no-illegal-building": "0601",
    "no-holes-in-walls": "0602",
    "no-illegal-parking": "0504",
    "no-road-trading": "0502",
    "no-loose-cables": "0606",
    "no-damaged-facades": "0607",
    "no-illegal-signs": "0202",
    "no-damaged-road": "0306",
    "no-illegal-business": "0501",
    "no-piled-materials": "0505",
    "fire-extinguishers": "0605",
    "shared-bikes": "0603",
    "dog-waste": "0604",
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_default_checklist_item_suggests_its_demo_category_first(language):
    from django.utils import translation

    from whistle.cases.suggest import suggest_categories
    from whistle.patrols.checklist import DEFAULT_ITEMS

    categories = demo_categories()
    with translation.override(language):
        first = {
            item.key: [
                s.category.major.code + s.category.code
                for s in suggest_categories(str(item.problem), categories, limit=1)
            ]
            for item in DEFAULT_ITEMS
        }
    assert first == {key: [code] for key, code in DEMO_CATEGORY_OF_ITEM.items()}


@pytest.mark.parametrize(
    "text",
    ["building rubble blocks half the lane", "建筑垃圾堵住了半条胡同"],
)
def test_building_rubble_in_either_language_suggests_the_demos_piled_garbage_or_muck(text):
    from whistle.cases.suggest import suggest_categories

    [first] = suggest_categories(text, demo_categories(), limit=1)
    assert (first.category.major.code + first.category.code, first.category.name) == (
        "0103",
        "积存垃圾渣土",
    )


def test_a_checklist_item_whose_words_fit_several_categories_alike_leaves_the_choice_open(
    client, street
):
    from whistle.policies.models import Category

    # Only manhole covers and a litter bin say "破损": each fits "道路破损" as little.
    for code, name in (("11", "上水井盖"), ("12", "污水井盖"), ("13", "垃圾箱")):
        Category.objects.create(
            major=street.garbage.major, code=code, name=name, keywords="井盖,破损,丢失"
        )
    patrol = start_patrol(street.steward, lane=street.lane)
    client.force_login(street.steward)
    opened = f"{URL}?patrol={patrol.uuid}&item=no-damaged-road"
    html = client.get(opened).content.decode()
    assert "人民市场东巷：道路破损</textarea>" in html
    assert selected_category(html) == ""
    # With the district's road category, the item comes with it, in either language.
    road = Category.objects.create(
        major=street.garbage.major,
        code="14",
        name="道路破损",
        name_en="Damaged road surface",
        keywords="道路破损,路面破损,坑洼",
        keywords_en="damaged road,road damage",
    )
    for language in ("zh-hans", "en"):
        html = client.get(opened, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert selected_category(html) == str(road.pk), language


def test_the_suggestion_puts_the_category_whose_words_match_first(client, street):
    client.force_login(street.steward)
    html = client.get("/patrol/report/suggest/", {"description": "巷口有小贩摆摊卖水果"}).content
    html = html.decode()
    assert f'data-pick-category="{street.vending.pk}"' in html
    assert html.index(str(street.vending.name)) < len(html)
    assert "暴露垃圾" not in html
    nothing = client.get("/patrol/report/suggest/", {"description": "天气很好"}).content.decode()
    assert "暂未找到匹配的类别" in nothing


def test_the_form_sends_only_the_start_of_the_description_for_suggestions(client, street):
    from whistle.cases.suggest import DESCRIPTION_SCAN
    from whistle.street.forms import SUGGEST_BYTES, SUGGEST_CHARS

    client.force_login(street.steward)
    html = client.get(URL).content.decode()
    assert f'data-suggest-chars="{SUGGEST_CHARS}"' in html
    assert f'data-suggest-bytes="{SUGGEST_BYTES}"' in html
    assert SUGGEST_CHARS <= 500 < DESCRIPTION_SCAN
    # The server reads no more than the suggestions read, whatever is sent.
    text = "说" * DESCRIPTION_SCAN + "小贩"
    html = client.get("/patrol/report/suggest/", {"description": text}).content.decode()
    assert f'data-pick-category="{street.vending.pk}"' not in html


def test_the_suggestion_uses_only_categories_of_my_district(client, street, small_city):
    from whistle.organisation.models import Jurisdiction
    from whistle.policies.models import Category, CategoryKind, MajorClass

    xicheng = Jurisdiction.objects.create(
        level="district", code="110102", name="西城区", parent=small_city.city
    )
    major = MajorClass.objects.create(
        district=xicheng, kind=CategoryKind.EVENT, code="05", name="街面秩序"
    )
    other = Category.objects.create(major=major, code="01", name="游商", keywords="游商,小贩")
    client.force_login(street.steward)
    html = client.get("/patrol/report/suggest/", {"description": "小贩"}).content.decode()
    assert f'data-pick-category="{other.pk}"' not in html
    assert f'data-pick-category="{street.vending.pk}"' in html


def test_cases_nearby_are_shown_before_reporting_but_only_those_i_may_see(client, street):
    near = reported(street.lane_chief, category=street.vending)
    lon, lat = IN_DONGSI
    reported(street.dongsi_steward, "东四六条游商", position=(lon, lat), category=street.vending)
    client.force_login(street.steward)
    html = client.get(
        "/patrol/report/nearby/",
        {"lon": "116.43212", "lat": "39.87292", "category": street.vending.pk},
    ).content.decode()
    assert near.reference in html and "相距" in html
    far = client.get("/patrol/report/nearby/", {"lon": str(lon), "lat": str(lat)}).content.decode()
    assert "东四六条游商" not in far
    assert client.get("/patrol/report/nearby/", {"lon": "abc"}).content.decode().strip() == ""


def test_the_page_after_reporting_lists_possible_duplicates_with_links(client, street):
    earlier = reported(street.lane_chief, category=street.vending)
    client.force_login(street.steward)
    client.post(URL, form_data(category=street.vending.pk))
    case = Case.objects.exclude(pk=earlier.pk).get()
    html = client.get(reverse("patrol:reported", args=[case.reference])).content.decode()
    assert "可能重复的案件" in html
    assert f'href="/cases/{earlier.reference}/"' in html


def test_a_case_link_is_plain_text_while_the_case_page_does_not_exist(street, monkeypatch):
    from django.urls import NoReverseMatch

    from whistle.street import links

    def missing(*args, **kwargs):
        raise NoReverseMatch("case:detail")

    monkeypatch.setattr(links, "reverse", missing)
    assert links.case_url("7KX2M9QH4T") is None
    from whistle.street.templatetags.street_ui import case_link

    assert case_link("7KX2M9QH4T") == {"reference": "7KX2M9QH4T", "url": None}
