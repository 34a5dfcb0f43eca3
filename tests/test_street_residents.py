"""Residents without an account: report with a photo and a place (name and phone optional),
prove they are a person (captcha), stay within the rate limits, get a reference number,
follow the case by it without seeing anyone's personal data, and rate the outcome once it
is closed."""

from __future__ import annotations

import hashlib
import html as markup
import io
import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from PIL import Image

from tests.conftest import make_person
from tests.fixtures_api import Api, api_city_fixture, secret_for  # noqa: F401  (fixture)
from tests.fixtures_cases import (
    reported_on_site,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from tests.fixtures_street import (  # noqa: F401
    MORNING,
    ON_THE_LANE,
    gps_exif,
    noisy_jpeg,
    png_bytes,
    reported,
    street_fixture,
)
from whistle.assessment.actions import RATING_COMMENT_MAX
from whistle.cases.actions import (
    DESCRIPTION_MAX,
    NOTE_MAX,
    ResidentReport,
    acknowledge,
    blow_whistle,
    check_passed,
    close_case,
    decline,
    dispatch_case,
    escalate,
    file_case,
    mark_handled,
    record_resident_callback,
    release,
    report_resident_case,
    report_result,
    rule_on_decline,
)
from whistle.cases.actions.personal_data import erase_reporter_data
from whistle.cases.models import Case, Event, Summons
from whistle.cases.trail import EventKind
from whistle.district.forms import RatingForm as DistrictRatingForm
from whistle.notifications.models import Channel, Notification
from whistle.organisation.models import Jurisdiction, Lane, Role
from whistle.policies.models import DistrictPolicy
from whistle.street import captcha
from whistle.street.forms import RatingForm, ResidentReportForm
from whistle.street.ratelimit import client_ip, phone_key

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

NEW = "/report/"


@pytest.fixture
def frozen():
    with time_machine.travel(MORNING, tick=False):
        yield


def open_challenge(client) -> captcha.Challenge | None:
    """The question the browser holds, read as the server reads it."""
    cookie = client.cookies.get(captcha.COOKIE)
    return captcha.opened(cookie.value) if cookie is not None and cookie.value else None


def answer(client) -> str:
    """What the person reads in the picture: the browser's open challenge, solved."""
    challenge = open_challenge(client)
    assert challenge is not None
    return str(challenge.answer)


def resident_form(client, **changes) -> dict:
    lon, lat = ON_THE_LANE
    data = {
        "description": "夕照寺中街路边堆了很多建筑垃圾",
        "lon": str(lon),
        "lat": str(lat),
        "accuracy_m": "15",
        "address": "夕照寺中街 12 号门口",
        "name": "赵磊",
        "phone": "13800138000",
    }
    if open_challenge(client) is not None:
        data["captcha"] = answer(client)
    data.update(changes)
    return data


def send(client, **changes):
    client.get(NEW)
    return client.post(NEW, resident_form(client, **changes))


def closed_report(street, *, photos=None, reporter=None) -> ResidentReport:
    """A resident's case taken all the way to closure through the actions, with the key
    its reporter received."""
    lon, lat = ON_THE_LANE
    report = report_resident_case(
        name="赵磊",
        phone="13800138000",
        description="路边堆了建筑垃圾",
        lon=lon,
        lat=lat,
        reporter=reporter,
    )
    case = report.case
    file_case(street.dispatcher, case, category=street.garbage, note="内部备注：联系物业")
    summons = dispatch_case(street.dispatcher, case, department=street.city.urban_management)
    acknowledge(street.officer, summons)
    report_result(street.officer, summons, result="已清运，周警官现场处理", photos=photos)
    mark_handled(street.dispatcher, case)
    check_passed(street.dispatcher, case)
    return ResidentReport(close_case(street.dispatcher, case), report.rating_key)


def closed_case(street, *, photos=None) -> Case:
    return closed_report(street, photos=photos).case


def map_config(html: str) -> dict:
    found = re.search(r'id="report-map-config"[^>]*>(.*?)</script>', html)
    assert found is not None
    return json.loads(found.group(1))


def follow_link(report: ResidentReport) -> str:
    return f"/report/follow/{report.case.reference}/?key={report.rating_key}"


# The form -------------------------------------------------------------------------------


def test_the_form_asks_for_a_photo_the_place_the_contact_and_a_captcha(client, street):
    html = client.get(NEW).content.decode()
    assert "上报身边的问题" in html
    assert 'capture="environment"' in html
    assert "使用我的位置" in html
    assert 'src="/report/captcha.png?v=' in html
    assert "看不清图片？显示文字版题目" in html
    challenge = open_challenge(client)
    assert challenge is not None
    assert ("加" if challenge.op == "+" else "减") in html
    assert 'autocomplete="tel"' in html


def test_the_address_example_reads_in_english_on_the_english_form(client, street):
    english = client.get(NEW, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "e.g. the gate of No. 12, Xizhaosi Middle Street." in english
    assert "夕照寺中街" not in english
    chinese = client.get(NEW).content.decode()
    assert "例如：夕照寺中街 12 号门口。" in chinese


def test_the_place_is_chosen_on_a_map_of_the_lanes_or_from_the_lane_list(client, street):
    html = client.get(NEW).content.decode()
    assert 'data-map data-config="report-map-config"' in html
    config = map_config(html)
    # The lanes are public like a street map; the cases are not.
    assert config["layers"] == [
        {"name": "lanes", "url": "/report/lanes.geojson?district=110101", "title": "街巷"}
    ]
    assert config["basemap"]["kind"] == "none"
    assert "或按名称查找街巷" in html
    assert 'type="search" id="lane-search"' in html
    assert 'data-url="/report/lanes.geojson?district=110101"' in html
    # One district: no district to choose.
    assert 'id="lane-district"' not in html
    # No coordinates to type: the place's inputs are hidden, and no label names them.
    for name in ("lon", "lat", "accuracy_m"):
        assert f'<input type="hidden" name="{name}" id="id_{name}">' in html
    for word in ("经度", "纬度", "精度（米）"):
        assert word not in html
    assert "/static/vendor/leaflet/leaflet.js" in html


def test_the_map_uses_the_configured_base_map_as_the_staff_pages_do(client, street, settings):
    settings.WHISTLE_BASEMAP = "amap"
    html = client.get(NEW).content.decode()
    config = map_config(html)
    assert config["basemap"]["kind"] == "amap"
    assert config["basemap"]["crs"] == "gcj02"
    assert config["basemap"]["layers"]


def test_the_captcha_image_is_a_png_that_is_never_cached(client, street):
    client.get(NEW)
    response = client.get("/report/captcha.png")
    assert response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"]
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (captcha.WIDTH, captcha.HEIGHT)


def test_a_resident_reports_and_gets_a_reference_number(client, street):
    response = send(
        client, photo=SimpleUploadedFile("p.jpg", noisy_jpeg((800, 600), exif=gps_exif()))
    )
    assert response.status_code == 302
    assert response["Location"] == "/report/thanks/"
    case = Case.objects.get()
    assert case.source == "resident"
    assert case.reporter is None
    assert (case.reporter_name, case.reporter_phone) == ("赵磊", "13800138000")
    assert case.address == "夕照寺中街 12 号门口"
    assert case.lane == street.lane
    assert case.attachments.count() == 1
    html = client.get("/report/thanks/").content.decode()
    assert case.reference in html
    assert f'href="/report/follow/{case.reference}/?key=' in html


def test_a_wrong_answer_is_refused_with_a_new_question_and_the_values_kept(client, street):
    client.get(NEW)
    first = open_challenge(client)
    response = client.post(NEW, resident_form(client, captcha="999"))
    html = response.content.decode()
    assert "答案不正确，已换一道新题。" in html
    assert "夕照寺中街路边堆了很多建筑垃圾</textarea>" in html
    assert 'value="13800138000"' in html
    second = open_challenge(client)
    assert first is not None and second is not None and second.seed != first.seed
    assert not Case.objects.exists()


def test_an_answer_left_empty_is_asked_for_not_called_wrong(client, street):
    client.get(NEW)
    html = client.post(NEW, resident_form(client, captcha="  ")).content.decode()
    assert "请回答图中的问题，已换一道新题。" in html
    assert "答案不正确" not in html
    assert not Case.objects.exists()


@pytest.fixture
def decoded(monkeypatch) -> list[int]:
    """The sizes of the uploads the report form opened (decoded), in order."""
    from whistle.street import photos

    opened: list[int] = []
    real = photos.prepare

    def counting(upload, **options):
        if hasattr(upload, "size"):
            opened.append(upload.size)
        return real(upload, **options)

    monkeypatch.setattr(photos, "prepare", counting)
    return opened


def test_a_photo_sent_with_a_wrong_answer_is_never_opened(client, street, decoded):
    client.get(NEW)
    upload = SimpleUploadedFile("p.png", png_bytes((40, 30)), content_type="image/png")
    html = client.post(NEW, {**resident_form(client, captcha="999"), "photo": upload})
    html = html.content.decode()
    assert decoded == []
    assert "答案不正确，已换一道新题。" in html
    assert "请先回答问题，再重新选择照片。" in html
    assert not Case.objects.exists()
    # With the right answer the same file is opened once and the report is filed.
    again = SimpleUploadedFile("p.png", png_bytes((40, 30)), content_type="image/png")
    response = client.post(NEW, {**resident_form(client), "photo": again})
    assert response.status_code == 302
    assert decoded == [again.size]
    assert Case.objects.get().attachments.count() == 1


def test_asking_for_another_question_opens_no_new_photo_and_says_so(client, street, decoded):
    client.get(NEW)
    upload = SimpleUploadedFile("p.png", png_bytes((40, 30)), content_type="image/png")
    data = {**resident_form(client), "new_captcha": "1", "captcha": "", "photo": upload}
    html = client.post(NEW, data).content.decode()
    assert decoded == []
    assert "请先回答问题，再重新选择照片。" in html


def test_full_width_digits_from_a_chinese_keyboard_are_accepted(client, street):
    client.get(NEW)
    wide = "".join(chr(ord(c) + 0xFEE0) for c in answer(client))
    response = client.post(NEW, resident_form(client, captcha=wide))
    assert response.status_code == 302


def test_asking_for_another_question_keeps_the_values_and_marks_nothing_wrong(client, street):
    client.get(NEW)
    response = client.post(NEW, {**resident_form(client), "new_captcha": "1", "captcha": ""})
    html = response.content.decode()
    assert 'class="form-errors"' not in html
    assert "夕照寺中街路边堆了很多建筑垃圾</textarea>" in html
    assert not Case.objects.exists()


def test_once_solved_the_captcha_is_not_asked_again_after_another_error(client, street):
    client.get(NEW)
    response = client.post(NEW, resident_form(client, phone="12"))
    html = response.content.decode()
    assert "请填写可以回访的电话号码，例如 13800138000。" in html
    assert "您已通过安全验证" in html and "captcha.png" not in html
    assert client.post(NEW, resident_form(client)).status_code == 302
    # The next report needs a new answer.
    assert "captcha.png" in client.get(NEW).content.decode()


def test_the_description_and_the_place_are_required_and_refused_in_chinese(client, street):
    client.get(NEW)
    html = client.post(NEW, {"captcha": answer(client)}).content.decode()
    assert '<a href="#id_description">发现了什么问题？</a>请用一两句话描述问题。' in html
    # The message names the place as the form asks for it, and its link leads to the place's
    # controls.
    message = "请提供位置：使用“我的位置”、在地图上点选，或从列表中选择街巷。"
    assert f'<a href="#id_place">问题在哪里？</a>{message}' in html
    assert '<fieldset class="place has-error" id="id_place"' in html
    assert html.count(message) == 2
    assert "经度" not in html and "纬度" not in html
    # The name and the phone number are optional.
    assert "这个字段是必填项。" not in html
    assert 'href="#id_name"' not in html and 'href="#id_phone"' not in html


def test_the_name_and_phone_are_optional_and_said_to_serve_only_the_call_back(client, street):
    html = client.get(NEW).content.decode()
    assert "联系方式（选填）" in html
    assert "您的姓名和电话仅用于街乡就此问题回访您" in html
    assert 'aria-describedby="contact-note"' in html
    assert 'id="id_name" required' not in html and 'id="id_phone" required' not in html
    response = send(client, name="", phone="")
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.reporter_name, case.reporter_phone, case.source) == ("", "", "resident")
    assert case.reference in client.get("/report/thanks/").content.decode()


def test_a_phone_number_when_given_must_be_one(client, street):
    html = send(client, name="", phone="call me").content.decode()
    assert "请填写可以回访的电话号码，例如 13800138000。" in html
    assert not Case.objects.exists()


def test_a_renamed_text_file_is_refused_and_the_photo_kept_when_valid(client, street):
    client.get(NEW)
    fake = SimpleUploadedFile("photo.jpg", b"not a photo at all", content_type="image/jpeg")
    html = client.post(NEW, {**resident_form(client), "photo": fake}).content.decode()
    assert "不是可读取的 JPEG、PNG 或 WebP 图片" in html
    good = SimpleUploadedFile("photo.png", png_bytes((40, 30)), content_type="image/png")
    html = client.post(
        NEW, {**resident_form(client, description=""), "photo": good}
    ).content.decode()
    match = re.search(r'name="photo_token" value="([^"]+)"', html)
    assert match is not None
    token = match.group(1)
    response = client.post(NEW, resident_form(client, photo_token=token))
    assert response.status_code == 302
    assert Case.objects.get().attachments.count() == 1


def test_a_signed_in_resident_skips_the_captcha_and_finds_the_name_filled(client, street):
    zhao = make_person("zhao-lei", Role.RESIDENT)
    zhao.name, zhao.phone = "赵磊", "13900139000"
    zhao.save(update_fields=["name", "phone"])
    client.force_login(zhao)
    html = client.get(NEW).content.decode()
    assert "captcha.png" not in html
    assert 'value="13900139000"' in html
    assert client.post(NEW, resident_form(client)).status_code == 302


# The place ------------------------------------------------------------------------------

# 30 m east of 人民市场东巷's centre line (116.432), in 龙潭街道.
THIRTY_METRES_OFF = (116.43235, 39.8729)


def test_the_lane_list_holds_the_districts_lanes_with_the_point_halfway_along_each(
    client, street, django_assert_max_num_queries
):
    reported(street.steward)
    with django_assert_max_num_queries(3):
        response = client.get("/report/lanes.geojson")
    assert response["Content-Type"] == "application/geo+json"
    assert response["Cache-Control"] == "public, max-age=600"
    body = response.json()
    by_name = {f["properties"]["name"]: f for f in body["features"]}
    assert set(by_name) == {"人民市场东巷", "东四六条"}
    renmin = by_name["人民市场东巷"]
    assert renmin["properties"]["township"] == "龙潭街道"
    assert renmin["properties"]["length_m"] == 204
    assert renmin["geometry"] == street.lane.centre_line
    lon, lat = renmin["properties"]["point"]
    assert lon == pytest.approx(116.432)
    assert lat == pytest.approx((39.872 + 39.87384) / 2, abs=1e-6)
    # Lanes only: nothing of the cases.
    assert "reference" not in response.content.decode()
    assert client.get("/report/lanes.geojson?district=110101").json() == body


def test_the_lane_list_is_of_the_district_asked_for(client, street):
    chaoyang = Jurisdiction.objects.create(
        level="district", code="110105", name="朝阳区", parent=street.city.city
    )
    jinsong = Jurisdiction.objects.create(
        level="township", code="110105001", name="劲松街道", parent=chaoyang
    )
    Lane.objects.create(
        name="劲松中街",
        township=jinsong,
        centre_line={"type": "LineString", "coordinates": [[116.46, 39.88], [116.462, 39.88]]},
    )
    names = [
        f["properties"]["name"]
        for f in client.get("/report/lanes.geojson?district=110105").json()["features"]
    ]
    assert names == ["劲松中街"]
    html = client.get(NEW).content.decode()
    assert '<select class="input" id="lane-district" data-lane-district>' in html
    assert 'data-url="/report/lanes.geojson?district=110105">朝阳区</option>' in html


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("district=12", 400, "区代码为 6 位数字。"),
        ("district=%C2%B2%C2%B2%C2%B2%C2%B2%C2%B2%C2%B2", 400, "区代码为 6 位数字。"),
        ("district=110199", 404, "没有该代码的区，或该区没有登记街巷。"),
    ],
)
def test_a_malformed_or_unknown_district_answers_a_clear_error(
    client, street, query, status, message
):
    response = client.get(f"/report/lanes.geojson?{query}")
    assert (response.status_code, response.json()) == (status, {"error": message})


def test_the_page_says_which_lane_a_point_snaps_to_by_the_districts_rule(client, street):
    lon, lat = THIRTY_METRES_OFF
    answer = client.get("/report/place/", {"lon": lon, "lat": lat}).json()
    assert answer == {"inside": True, "text": "将上报至：龙潭街道 · 人民市场东巷。"}
    DistrictPolicy.objects.filter(district=street.city.district).update(lane_snap_m=20)
    answer = client.get("/report/place/", {"lon": lon, "lat": lat}).json()
    assert answer == {"inside": True, "text": "将上报至：龙潭街道（附近没有登记的街巷）。"}
    # The report lands where the page said.
    assert send(client, lon=str(lon), lat=str(lat)).status_code == 302
    case = Case.objects.get()
    assert (case.lane, case.township) == (None, street.city.longtan)


def test_a_point_outside_every_township_is_said_to_be_so(client, street):
    answer = client.get("/report/place/", {"lon": 100.0, "lat": 30.0}).json()
    assert answer == {"inside": False, "text": "此位置不在本市任何街乡范围内，请重新选择。"}


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"lon": "116.4"},
        {"lon": "abc", "lat": "39.9"},
        {"lon": "nan", "lat": "39.9"},
        {"lon": "1e999", "lat": "39.9"},
        {"lon": "116.4", "lat": "95"},
    ],
)
def test_a_malformed_place_answers_400_in_chinese(client, street, query):
    response = client.get("/report/place/", query)
    assert response.status_code == 400
    assert response.json() == {"error": "请以经度和纬度（度）提供位置。"}


def test_a_lane_chosen_from_the_list_puts_the_report_on_that_lane(client, street):
    lanes = client.get("/report/lanes.geojson").json()["features"]
    dongsi = next(f for f in lanes if f["properties"]["name"] == "东四六条")
    lon, lat = dongsi["properties"]["point"]
    assert send(client, lon=str(lon), lat=str(lat), accuracy_m="").status_code == 302
    case = Case.objects.get()
    assert (case.lane, case.township, case.accuracy_m) == (
        street.city.dongsi_lane,
        street.city.dongsi,
        None,
    )


@pytest.mark.parametrize(
    "changes",
    [{"lat": ""}, {"lat": "95"}, {"lon": "abc"}, {"accuracy_m": "-3"}, {"lon": "", "lat": ""}],
)
def test_a_bad_place_is_one_error_about_the_place_not_about_coordinates(client, street, changes):
    html = send(client, **changes).content.decode()
    assert 'href="#id_place">问题在哪里？</a>' in html
    assert html.count('href="#id_place"') == 1
    assert "经度" not in html and "纬度" not in html and "精度" not in html
    assert not Case.objects.exists()


def test_the_actions_refusal_of_a_place_outside_the_city_is_put_on_the_place(client, street):
    html = send(client, lon="100.0", lat="30.0").content.decode()
    assert '<a href="#id_place">问题在哪里？</a>位置（100.0，30.0）不在本市任何街乡范围内。' in html
    assert not Case.objects.exists()


# Rate limits ----------------------------------------------------------------------------


def test_reports_from_one_address_are_limited_per_hour(client, street, settings):
    settings.WHISTLE_RESIDENT_REPORTS_PER_IP = 2
    assert send(client).status_code == 302
    assert send(client, phone="13800138001").status_code == 302
    third = send(client, phone="13800138002")
    assert third.status_code == 429
    assert "您所在网络的上报次数过多，请稍后再试。" in third.content.decode()
    assert 0 < int(third["Retry-After"]) <= 3601
    assert "夕照寺中街路边堆了很多建筑垃圾</textarea>" in third.content.decode()
    assert Case.objects.count() == 2
    with time_machine.travel(MORNING + timedelta(hours=1, seconds=1), tick=False):
        assert send(client, phone="13800138003").status_code == 302


def test_reports_under_one_phone_number_are_limited_per_day_however_written(
    client, street, settings
):
    settings.WHISTLE_RESIDENT_REPORTS_PER_PHONE = 1
    assert send(client).status_code == 302
    again = send(client, phone="+86 138-0013-8000")
    assert again.status_code == 429
    assert "该号码今天的上报次数已达上限" in again.content.decode()
    assert Case.objects.count() == 1


def test_reports_without_a_phone_number_count_only_by_address(client, street, settings):
    settings.WHISTLE_RESIDENT_REPORTS_PER_PHONE = 1
    settings.WHISTLE_RESIDENT_REPORTS_PER_IP = 3
    for _ in range(3):
        assert send(client, phone="").status_code == 302
    assert send(client, phone="").status_code == 429
    assert Case.objects.count() == 3


def test_a_signed_in_residents_reports_without_a_number_count_under_the_account(
    client, street, settings
):
    settings.WHISTLE_RESIDENT_REPORTS_PER_PHONE = 1
    client.force_login(make_person("qian-fang", Role.RESIDENT))
    assert send(client, phone="").status_code == 302
    again = send(client, phone="")
    assert again.status_code == 429
    assert "您的账号今天的上报次数已达上限，请拨打 12345 热线。" in again.content.decode()
    assert Case.objects.count() == 1


def test_wrong_answers_from_one_address_block_it_for_a_while(client, street, settings):
    settings.WHISTLE_CAPTCHA_FAILURES_PER_IP = 3
    for _ in range(3):
        client.get(NEW)
        client.post(NEW, resident_form(client, captcha="-1"))
    response = send(client)
    assert response.status_code == 429
    assert not Case.objects.exists()


def test_the_client_address_comes_from_the_trusted_proxy_only(settings):
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    assert client_ip(request) == "10.0.0.2"
    settings.WHISTLE_TRUSTED_PROXIES = 1
    assert client_ip(request) == "203.0.113.9"
    assert phone_key("+86 138-0013-8000") == phone_key("13800138000") == "13800138000"


def test_the_captcha_question_reads_in_chinese_and_english(street):
    challenge = captcha.Challenge(42, 7, "+", 0, 1)
    with translation.override("zh-hans"):
        assert captcha.spoken(challenge) == "四十二加七等于多少？"
        assert captcha.spoken(captcha.Challenge(10, 3, "-", 0, 1)) == "十减三等于多少？"
    with translation.override("en"):
        assert captcha.spoken(challenge) == "What is forty-two plus seven?"


def test_an_old_challenge_is_not_accepted(client, street):
    client.get(NEW)
    data = resident_form(client)
    with time_machine.travel(MORNING + timedelta(minutes=11), tick=False):
        response = client.post(NEW, data)
    assert "答案不正确" in response.content.decode()


# Following a case -----------------------------------------------------------------------


def test_follow_takes_a_reference_however_typed(client, street):
    lon, lat = ON_THE_LANE
    case = report_resident_case(
        name="赵磊", phone="13800138000", description="井盖丢了", lon=lon, lat=lat
    ).case
    typed = " ".join([case.reference[:5].lower(), case.reference[5:]])
    response = client.get("/report/follow/", {"reference": typed})
    assert response["Location"] == f"/report/follow/{case.reference}/"
    html = client.get("/report/follow/", {"reference": "12"}).content.decode()
    assert "案件编号由 10 位字母和数字组成" in html


def test_an_unknown_reference_is_not_found_and_misses_are_limited(client, street, settings):
    settings.WHISTLE_FOLLOW_MISSES_PER_IP = 2
    first = client.get("/report/follow/ABCDEFGHJK/")
    assert first.status_code == 404
    assert "没有这个编号的案件，请核对后重试。" in first.content.decode()
    client.get("/report/follow/ABCDEFGHJM/")
    assert client.get("/report/follow/ABCDEFGHJN/").status_code == 429


def test_a_residents_messages_about_their_report_open_its_page_for_residents(client, street):
    zhao = make_person("zhao-lei", Role.RESIDENT)
    case = closed_report(street, reporter=zhao).case
    entries = list(Notification.objects.filter(recipient=zhao, channel=Channel.INBOX))
    assert entries and {entry.link.split("#")[0] for entry in entries} == {
        f"/cases/{case.reference}/"
    }
    client.force_login(zhao)
    for entry in entries:
        opened = client.get(reverse("web:inbox-open", args=[entry.uuid]), follow=True)
        assert opened.status_code == 200
        assert opened.redirect_chain[-1][0] == f"/report/follow/{case.reference}/"
        assert "已结案" in opened.content.decode()
    # Anyone else who may not see the case is not told it exists, another resident or the
    # same one about a case someone else reported.
    other = report_resident_case(
        name="钱芳", phone="", description="井盖丢了", lon=ON_THE_LANE[0], lat=ON_THE_LANE[1]
    ).case
    assert client.get(f"/cases/{other.reference}/").status_code == 404
    client.force_login(make_person("qian-fang", Role.RESIDENT))
    assert client.get(f"/cases/{case.reference}/").status_code == 404


def test_the_public_page_shows_progress_without_anyones_personal_data(client, street):
    case = closed_case(street, photos=[noisy_jpeg((400, 300), exif=gps_exif())])
    html = client.get(f"/report/follow/{case.reference}/").content.decode()
    assert "已结案" in html
    for step in ("问题已上报", "街乡已受理（立案）", "已派遣至责任部门", "现场核查通过"):
        assert step in html
    assert "东城区城管执法局已反馈处置结果" in html
    for private in ("赵磊", "13800138000", "内部备注", "周警官", "zhang-wei", "zhou-min"):
        assert private not in html
    assert "处置结果照片" in html


def test_in_english_the_public_page_shows_the_status_as_a_badge_starting_with_a_capital(
    client, street
):
    case = closed_case(street)
    html = client.get(f"/report/follow/{case.reference}/", HTTP_ACCEPT_LANGUAGE="en")
    assert re.search(r'<span class="badge badge-[a-z]+">Closed</span>', html.content.decode())


def test_photos_of_the_result_are_served_without_exif_and_report_photos_are_not(client, street):
    lon, lat = ON_THE_LANE
    case = closed_case(street, photos=[noisy_jpeg((400, 300), exif=gps_exif())])
    result = case.attachments.get(purpose="result")
    response = client.get(f"/report/follow/{case.reference}/photos/{result.pk}/")
    assert response["Content-Type"] == "image/jpeg"
    assert not Image.open(io.BytesIO(response.content)).getexif()
    other = report_resident_case(
        name="赵磊",
        phone="13800138000",
        description="另一处",
        lon=lon,
        lat=lat,
        photos=[png_bytes()],
    ).case
    photo = other.attachments.get()
    assert client.get(f"/report/follow/{other.reference}/photos/{photo.pk}/").status_code == 404
    assert client.get(f"/report/follow/{other.reference}/photos/{result.pk}/").status_code == 404


def own_report(street, reporter) -> ResidentReport:
    """A report sent with a photo by a resident signed in with their account."""
    lon, lat = ON_THE_LANE
    return report_resident_case(
        name="赵磊",
        phone="13800138000",
        description="路口<b>堆了</b>建筑垃圾\n已经三天了",
        lon=lon,
        lat=lat,
        photos=[png_bytes()],
        reporter=reporter,
    )


@pytest.mark.parametrize(
    ("language", "heading", "alt"),
    [
        ("zh-hans", "您上报的内容", "您上传的照片 1"),
        ("en", "What you reported", "Photo 1 that you sent"),
    ],
)
def test_the_signed_in_reporter_sees_the_description_and_photos_they_sent(
    client, street, language, heading, alt
):
    zhao = make_person("zhao-lei", Role.RESIDENT)
    case = own_report(street, zhao).case
    photo = case.attachments.get(purpose="report")
    client.force_login(zhao)
    html = client.get(
        f"/report/follow/{case.reference}/", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    assert heading in html
    # Written as typed, escaped, its lines kept.
    assert "路口&lt;b&gt;堆了&lt;/b&gt;建筑垃圾<br>已经三天了" in html
    url = f"/report/follow/{case.reference}/photos/{photo.pk}/"
    assert f'<img src="{url}" alt="{alt}"' in html
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, max-age=3600"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("visitor", ["anonymous", "follow link", "another resident", "dispatcher"])
def test_nobody_but_the_signed_in_reporter_sees_what_was_reported(
    client, street, visitor, language
):
    report = own_report(street, make_person("zhao-lei", Role.RESIDENT))
    case = report.case
    photo = case.attachments.get(purpose="report")
    page = f"/report/follow/{case.reference}/"
    if visitor == "follow link":
        page += f"?key={report.rating_key}"
    elif visitor == "another resident":
        client.force_login(make_person("qian-fang", Role.RESIDENT))
    elif visitor == "dispatcher":
        client.force_login(street.dispatcher)
    response = client.get(page, HTTP_ACCEPT_LANGUAGE=language)
    html = response.content.decode()
    assert response.status_code == 200
    assert case.reference in html
    for private in ("data-own-report", "建筑垃圾", "您上报的内容", "What you reported"):
        assert private not in html
    url = f"/report/follow/{case.reference}/photos/{photo.pk}/"
    assert url not in html
    assert client.get(url).status_code == 404


def test_once_the_reporters_data_is_erased_the_report_is_no_longer_shown_back(client, street):
    zhao = make_person("zhao-lei", Role.RESIDENT)
    case = own_report(street, zhao).case
    photo = case.attachments.get(purpose="report")
    erase_reporter_data(case.pk, reason="request")
    client.force_login(zhao)
    html = client.get(f"/report/follow/{case.reference}/").content.decode()
    assert "问题已上报" in html
    assert "data-own-report" not in html
    assert "建筑垃圾" not in html
    assert client.get(f"/report/follow/{case.reference}/photos/{photo.pk}/").status_code == 404


def test_the_public_copy_of_a_result_photo_is_made_once_and_read_after(client, street, monkeypatch):
    from whistle.cases import public_photos as public

    case = closed_case(street, photos=[noisy_jpeg((400, 300), exif=gps_exif())])
    result = case.attachments.get(purpose="result")
    made: list[int] = []
    real = public.prepare

    def counting(content, **options):
        made.append(len(content))
        return real(content, **options)

    monkeypatch.setattr(public, "prepare", counting)
    url = f"/report/follow/{case.reference}/photos/{result.pk}/"
    first, second = client.get(url), client.get(url)
    assert len(made) == 1
    assert first.content == second.content
    assert not Image.open(io.BytesIO(second.content)).getexif()
    stored = result.file.storage
    assert stored.exists(f"public/{result.sha256}-{public.PUBLIC_PHOTO_SIDE}.jpg")


def test_the_public_page_runs_a_fixed_number_of_queries(
    client, street, django_assert_max_num_queries
):
    case = closed_case(street, photos=[png_bytes(), png_bytes(color="blue")])
    with django_assert_max_num_queries(8):
        html = client.get(f"/report/follow/{case.reference}/").content.decode()
    assert html.count('class="timeline"') == 1
    assert html.count("<li><time") >= 8


# Rating ---------------------------------------------------------------------------------


def test_an_open_case_cannot_be_rated(client, street):
    lon, lat = ON_THE_LANE
    report = report_resident_case(
        name="赵磊", phone="13800138000", description="井盖", lon=lon, lat=lat
    )
    case = report.case
    html = client.get(follow_link(report)).content.decode()
    assert "评价处置结果" not in html
    response = client.post(
        f"/report/follow/{case.reference}/rate/", {"rating": "5", "key": report.rating_key}
    )
    assert response.status_code == 409
    assert "该案件尚未结案，暂时不能评价。" in response.content.decode()
    assert Case.objects.get(pk=case.pk).resident_rated_at is None


def test_the_thank_you_page_shows_the_follow_link_with_the_key_once(client, street):
    send(client)
    case = Case.objects.get()
    first = client.get("/report/thanks/")
    html = first.content.decode()
    match = re.search(rf"http://testserver/report/follow/{case.reference}/\?key=([\w-]+)", html)
    assert match is not None
    key = match.group(1)
    assert case.resident_key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert f'href="/report/follow/{case.reference}/?key={key}"' in html
    assert "此链接只显示一次。" in html
    assert first["Referrer-Policy"] == "same-origin"
    assert "no-store" in first["Cache-Control"]
    # The session let go of the key: a reload shows the reference only.
    again = client.get("/report/thanks/").content.decode()
    assert case.reference in again and key not in again
    assert f'href="/report/follow/{case.reference}/"' in again
    assert "链接只在上报后显示一次" in again


def test_a_closed_case_is_rated_1_to_5_with_a_comment_from_the_follow_link(client, street):
    report = closed_report(street)
    case = report.case
    url = f"/report/follow/{case.reference}/"
    response = client.get(follow_link(report))
    assert response["Referrer-Policy"] == "same-origin"
    html = response.content.decode()
    assert html.count('type="radio" name="rating"') == 5
    assert "5 · 非常满意" in html
    assert f'<input type="hidden" name="key" value="{report.rating_key}"' in html
    response = client.post(
        url + "rate/", {"rating": "4", "comment": "清理得很及时", "key": report.rating_key}
    )
    assert response["Location"] == url
    case.refresh_from_db()
    assert (case.resident_rating, case.resident_comment, case.resident_satisfied) == (
        4,
        "清理得很及时",
        True,
    )
    assert case.resident_rated_at == MORNING
    event = Event.objects.get(case=case, kind=EventKind.RESIDENT_RATED)
    assert (event.actor, event.actor_role) == (None, Role.RESIDENT)
    html = client.get(url).content.decode()
    assert "谢谢！您的评价已记录。" in html
    assert "该案件的处置结果已评价，谢谢！" in html
    assert 'name="rating"' not in html
    # The timeline says it was rated; the rating and the comment stay off the public page.
    assert "居民已评价处置结果" in html
    assert "清理得很及时" not in html


def test_someone_with_only_the_reference_sees_no_rating_form_and_cannot_rate(client, street):
    report = closed_report(street)
    case = report.case
    url = f"/report/follow/{case.reference}/"
    html = client.get(url).content.decode()
    assert "已结案" in html
    assert 'name="rating"' not in html
    assert "只有反映问题的人才能评价处置结果" in html
    response = client.post(url + "rate/", {"rating": "1", "comment": "太差"})
    assert response.status_code == 403
    html = response.content.decode()
    assert (
        "只有反映问题的人才能评价处置结果：请打开上报时收到的链接，或登录上报时使用的账号。" in html
    )
    stored = Case.objects.get(pk=case.pk)
    assert (stored.resident_rating, stored.resident_satisfied, stored.resident_rated_at) == (
        None,
        None,
        None,
    )
    assert not Event.objects.filter(case=case, kind=EventKind.RESIDENT_RATED).exists()


def test_the_summoned_department_sees_no_rating_form_and_cannot_rate(client, street):
    report = closed_report(street)
    url = f"/report/follow/{report.case.reference}/"
    client.force_login(street.officer)
    assert 'name="rating"' not in client.get(url).content.decode()
    response = client.post(url + "rate/", {"rating": "1"})
    assert response.status_code == 403
    assert Case.objects.get(pk=report.case.pk).resident_rated_at is None


def test_a_wrong_key_is_refused_with_a_clear_error_and_nothing_written(client, street):
    report = closed_report(street)
    url = f"/report/follow/{report.case.reference}/"
    html = client.get(url + "?key=not-the-key").content.decode()
    assert "此链接中的密钥与该案件不符" in html
    assert 'name="rating"' not in html
    response = client.post(url + "rate/", {"rating": "1", "key": "not-the-key"})
    assert response.status_code == 403
    html = response.content.decode()
    assert 'class="form-refusal"' in html
    assert "只有反映问题的人才能评价处置结果" in html
    assert Case.objects.get(pk=report.case.pk).resident_rated_at is None
    assert not Event.objects.filter(case=report.case, kind=EventKind.RESIDENT_RATED).exists()


def test_wrong_keys_count_as_misses_of_the_follow_limit(client, street, settings):
    settings.WHISTLE_FOLLOW_MISSES_PER_IP = 2
    report = closed_report(street)
    url = f"/report/follow/{report.case.reference}/"
    client.get(url + "?key=guess-1")
    client.get(url + "?key=guess-2")
    assert client.get(url + f"?key={report.rating_key}").status_code == 429


def test_a_signed_in_resident_who_reported_rates_without_the_link(client, street):
    zhao = make_person("zhao-lei", Role.RESIDENT)
    report = closed_report(street, reporter=zhao)
    url = f"/report/follow/{report.case.reference}/"
    client.force_login(zhao)
    html = client.get(url).content.decode()
    assert html.count('type="radio" name="rating"') == 5
    response = client.post(url + "rate/", {"rating": "5"})
    assert response["Location"] == url
    event = Event.objects.get(case=report.case, kind=EventKind.RESIDENT_RATED)
    assert (event.actor, event.actor_role) == (zhao, Role.RESIDENT)


def test_a_signed_in_resident_reports_as_the_cases_reporter(client, street):
    zhao = make_person("zhao-lei", Role.RESIDENT)
    client.force_login(zhao)
    assert client.post(NEW, resident_form(client)).status_code == 302
    case = Case.objects.get()
    assert (case.reporter, case.source) == (zhao, Case.Source.RESIDENT)
    html = client.get("/report/thanks/").content.decode()
    assert "登录此账号后，无需链接也可以评价。" in html


def test_a_rating_of_3_or_less_counts_as_not_satisfied(client, street):
    report = closed_report(street)
    client.post(
        f"/report/follow/{report.case.reference}/rate/",
        {"rating": "3", "key": report.rating_key},
    )
    case = Case.objects.get(pk=report.case.pk)
    assert (case.resident_rating, case.resident_satisfied) == (3, False)


def test_a_rating_out_of_range_is_refused_in_chinese_and_the_comment_kept(client, street):
    report = closed_report(street)
    response = client.post(
        f"/report/follow/{report.case.reference}/rate/",
        {"rating": "9", "comment": "还行", "key": report.rating_key},
    )
    html = response.content.decode()
    assert "选择一个有效的选项" in html
    assert "还行</textarea>" in html
    # The error summary links to the group of radio buttons, which carries the id.
    assert '<a href="#id_rating">' in html
    assert 'id="id_rating"' in html
    # The form keeps the key for the next try.
    assert f'name="key" value="{report.rating_key}"' in html
    assert Case.objects.get(pk=report.case.pk).resident_rated_at is None


def test_the_actions_refusal_of_a_second_rating_is_shown(client, street):
    report = closed_report(street)
    url = f"/report/follow/{report.case.reference}/rate/"
    client.post(url, {"rating": "5", "key": report.rating_key})
    response = client.post(url, {"rating": "1", "key": report.rating_key})
    assert response.status_code == 409
    assert "该案件已经评价过，每个案件只能评价一次。" in response.content.decode()
    assert Case.objects.get(pk=report.case.pk).resident_rating == 5


def test_after_the_townships_call_back_the_page_says_so_instead_of_asking(client, street):
    report = closed_report(street)
    case = report.case
    record_resident_callback(street.dispatcher, case, satisfied=True)
    html = client.get(follow_link(report)).content.decode()
    assert "街乡已电话回访，并记录了您是否满意。" in html
    assert 'name="rating"' not in html
    response = client.post(
        f"/report/follow/{case.reference}/rate/", {"rating": "1", "key": report.rating_key}
    )
    assert response.status_code == 409
    assert "街乡已在电话回访时记录了您的满意情况。" in response.content.decode()
    assert Case.objects.get(pk=case.pk).resident_satisfied is True


def test_a_case_found_on_patrol_offers_no_rating(client, street):
    case = reported(street.steward)
    file_case(street.dispatcher, case, category=street.vending)
    summons = dispatch_case(street.dispatcher, case, department=street.city.urban_management)
    acknowledge(street.officer, summons)
    report_result(street.officer, summons, result="已劝离")
    mark_handled(street.dispatcher, case)
    check_passed(street.dispatcher, case)
    case = close_case(street.dispatcher, case)
    html = client.get(f"/report/follow/{case.reference}/").content.decode()
    assert "已结案" in html
    assert "评价处置结果" not in html
    response = client.post(f"/report/follow/{case.reference}/rate/", {"rating": "5"})
    assert response.status_code == 409
    assert Case.objects.get(pk=case.pk).resident_rated_at is None


def test_the_resident_pages_speak_english(client, street):
    client.cookies["django_language"] = "en"
    html = client.get(NEW).content.decode()
    assert "Report a problem in your street" in html
    assert "Cannot read the picture? Show the question as text" in html
    assert "What is " in html
    assert reverse("reports:follow") in html


def test_an_over_long_description_is_refused_naming_the_field_and_its_limit(client, street):
    too_long = "路" * (DESCRIPTION_MAX + 1000)
    html = send(client, description=too_long).content.decode()
    message = f"问题描述太长：{DESCRIPTION_MAX + 1000} 个字，最多 {DESCRIPTION_MAX} 个字。"
    assert f'<a href="#id_description">发现了什么问题？</a>{message}' in html
    assert "确保该变量" not in html
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("language", "says"),
    [
        ("zh-hans", "{label}太长：{n} 个字，最多 {max} 个字。"),
        ("en", "{label} is too long: {n} characters, at most {max}."),
    ],
)
@pytest.mark.parametrize(
    ("form", "field", "limit", "label"),
    [
        (
            ResidentReportForm,
            "description",
            DESCRIPTION_MAX,
            {"zh-hans": "问题描述", "en": "The description"},
        ),
        (RatingForm, "comment", NOTE_MAX, {"zh-hans": "评价意见", "en": "The comment"}),
        (
            DistrictRatingForm,
            "comment",
            RATING_COMMENT_MAX,
            {"zh-hans": "评价意见", "en": "The comment"},
        ),
        (ResidentReportForm, "name", 60, {"zh-hans": "您的姓名", "en": "Your name"}),
    ],
)
def test_every_limit_of_the_forms_is_said_in_the_products_words(
    form, field, limit, label, language, says
):
    with translation.override(language):
        bound = form(data={field: "x" * (limit + 5)})
        bound.is_valid()
        errors = [str(e) for e in bound.errors[field]]
    assert errors == [says.format(label=label[language], n=limit + 5, max=limit)]


def test_the_public_page_names_the_level_each_escalation_reached(client, street):
    case = report_resident_case(
        name="",
        phone="",
        description="楼道堆物堵住消防通道",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
    ).case
    file_case(street.dispatcher, case, category=street.garbage)
    escalate(street.lane_chief, case, reason="三天无人处理")
    escalate(street.township_chief, case, reason="街乡协调不动")
    html = client.get(f"/report/follow/{case.reference}/").content.decode()
    assert html.count("已升级至街乡街巷长办公室") == 1
    assert html.count("已升级至区街巷长办公室") == 1
    assert "三天无人处理" not in html and street.lane_chief.username not in html
    with translation.override("en"):
        english = client.get(
            f"/report/follow/{case.reference}/", HTTP_ACCEPT_LANGUAGE="en"
        ).content.decode()
    assert "Escalated to the township chiefs&#x27; office" in english
    assert "Escalated to the district chiefs&#x27; office" in english


def timeline_texts(html: str) -> list[str]:
    """The steps of the follow page's timeline, as the reader reads them."""
    return [
        markup.unescape(text)
        for text in re.findall(r"<li><time [^>]*>[^<]*</time> <span>(.*?)</span></li>", html)
    ]


def test_the_resident_reads_what_became_of_each_department_called_on_page_and_api(api_city):
    city = api_city
    case = report_resident_case(
        name="赵磊",
        phone="13800138000",
        description="人民市场东巷有游商占道",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
        reporter=city.resident,
    ).case
    file_case(city.dispatcher, case, category=city.street_vending)
    whistle = blow_whistle(
        city.dispatcher, case, kind="routine", departments=[city.urban, city.police, city.fire]
    )
    summons = {s.department_id: s for s in Summons.objects.filter(whistle=whistle)}
    urban, police, fire = (summons[d.pk] for d in (city.urban, city.police, city.fire))
    reported_on_site(city, urban, result="已劝离，周警官到场")
    # The police say it is not theirs and the township agrees; the fire station is let go.
    decline(city.police_officer, police, reason="占道经营不归派出所管")
    rule_on_decline(city.dispatcher, police, uphold=True, note="改由城管处理")
    release(city.dispatcher, fire, note="消防站另有警情")
    page = f"/report/follow/{case.reference}/"
    path = f"/cases/{case.reference}/timeline"
    said = {
        "zh-hans": [
            "已召集东城区城管执法局",
            "已召集龙潭派出所",
            "已召集天坛消防救援站",
            "东城区城管执法局已到场报到",
            "东城区城管执法局已反馈处置结果",
            "街乡已解除龙潭派出所在本案中的任务",
            "街乡已解除天坛消防救援站在本案中的任务",
        ],
        "en": [
            "东城区城管执法局 summoned",
            "龙潭派出所 summoned",
            "天坛消防救援站 summoned",
            "东城区城管执法局 arrived on site",
            "东城区城管执法局 reported its work done",
            "The township released 龙潭派出所 from this case",
            "The township released 天坛消防救援站 from this case",
        ],
    }
    for language, steps in said.items():
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.cookies["django_language"] = language
        html = client.get(page).content.decode()
        api = Api(secret_for(city.resident), language=language).get(path)
        assert api.status_code == 200, api.content
        on_page = timeline_texts(html)
        assert [entry["text"] for entry in api.json()["entries"]] == on_page
        assert on_page[-len(steps) :] == steps, language
        # Why a department was let go, and the township's notes, stay off both.
        for private in ("不归派出所管", "改由城管处理", "另有警情", "周警官", "赵磊"):
            assert private not in html and private not in api.content.decode(), private
