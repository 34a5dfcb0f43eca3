"""Residents without an account: report with a photo and a place (name and phone optional),
prove they are a person (captcha), stay within the rate limits, get a reference number,
follow the case by it without seeing anyone's personal data, and rate the outcome once it
is closed."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from PIL import Image

from tests.conftest import make_person
from tests.fixtures_street import (  # noqa: F401
    MORNING,
    ON_THE_LANE,
    gps_exif,
    noisy_jpeg,
    png_bytes,
    reported,
    street_fixture,
)
from whistle.cases.actions import (
    acknowledge,
    check_passed,
    close_case,
    dispatch_case,
    file_case,
    mark_handled,
    record_resident_callback,
    report_resident_case,
    report_result,
)
from whistle.cases.models import Case, Event
from whistle.cases.trail import EventKind
from whistle.organisation.models import Role
from whistle.street import captcha
from whistle.street.ratelimit import client_ip, phone_key

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

NEW = "/report/"


@pytest.fixture
def frozen():
    with time_machine.travel(MORNING, tick=False):
        yield


def answer(client) -> str:
    """What the person reads in the picture: the session's open challenge, solved."""
    raw = client.session[captcha.SESSION_KEY]
    a, b = raw["a"], raw["b"]
    return str(a + b if raw["op"] == "+" else a - b)


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
    if captcha.SESSION_KEY in client.session:
        data["captcha"] = answer(client)
    data.update(changes)
    return data


def send(client, **changes):
    client.get(NEW)
    return client.post(NEW, resident_form(client, **changes))


def closed_case(street, *, photos=None) -> Case:
    """A resident's case taken all the way to closure through the actions."""
    lon, lat = ON_THE_LANE
    case = report_resident_case(
        name="赵磊", phone="13800138000", description="路边堆了建筑垃圾", lon=lon, lat=lat
    )
    file_case(street.dispatcher, case, category=street.garbage, note="内部备注：联系物业")
    summons = dispatch_case(street.dispatcher, case, department=street.city.urban_management)
    acknowledge(street.officer, summons)
    report_result(street.officer, summons, result="已清运，周警官现场处理", photos=photos)
    mark_handled(street.dispatcher, case)
    check_passed(street.dispatcher, case)
    return close_case(street.dispatcher, case)


# The form -------------------------------------------------------------------------------


def test_the_form_asks_for_a_photo_the_place_the_contact_and_a_captcha(client, street):
    html = client.get(NEW).content.decode()
    assert "上报身边的问题" in html
    assert 'capture="environment"' in html
    assert "使用我的位置" in html
    assert 'src="/report/captcha.png?v=' in html
    assert "看不清图片？显示文字版题目" in html
    raw = client.session[captcha.SESSION_KEY]
    assert ("加" if raw["op"] == "+" else "减") in html
    # Nothing of the city is public: no map layers without a base map to pin on.
    assert "data-map" not in html
    assert 'autocomplete="tel"' in html


def test_the_map_to_pin_appears_when_a_base_map_is_configured(client, street, settings):
    settings.WHISTLE_BASEMAP = "amap"
    html = client.get(NEW).content.decode()
    assert 'data-map data-config="report-map-config" data-pin-only' in html
    assert '"layers": []' in html


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
    assert f'href="/report/follow/{case.reference}/"' in html


def test_a_wrong_answer_is_refused_with_a_new_question_and_the_values_kept(client, street):
    client.get(NEW)
    first = client.session[captcha.SESSION_KEY]
    response = client.post(NEW, resident_form(client, captcha="999"))
    html = response.content.decode()
    assert "答案不正确，已换一道新题。" in html
    assert "夕照寺中街路边堆了很多建筑垃圾</textarea>" in html
    assert 'value="13800138000"' in html
    assert client.session[captcha.SESSION_KEY]["seed"] != first["seed"]
    assert not Case.objects.exists()


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
    assert '<a href="#id_description">发现了什么问题？</a>: 请用一两句话描述问题。' in html
    assert "请提供位置：使用“我的位置”或在地图上点选。" in html
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
    )
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
    )
    photo = other.attachments.get()
    assert client.get(f"/report/follow/{other.reference}/photos/{photo.pk}/").status_code == 404
    assert client.get(f"/report/follow/{other.reference}/photos/{result.pk}/").status_code == 404


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
    case = report_resident_case(
        name="赵磊", phone="13800138000", description="井盖", lon=lon, lat=lat
    )
    html = client.get(f"/report/follow/{case.reference}/").content.decode()
    assert "评价处置结果" not in html
    response = client.post(f"/report/follow/{case.reference}/rate/", {"rating": "5"})
    assert response.status_code == 409
    assert "该案件尚未结案，暂时不能评价。" in response.content.decode()
    assert Case.objects.get(pk=case.pk).resident_rated_at is None


def test_a_closed_case_is_rated_1_to_5_with_a_comment(client, street):
    case = closed_case(street)
    url = f"/report/follow/{case.reference}/"
    html = client.get(url).content.decode()
    assert html.count('type="radio" name="rating"') == 5
    assert "5 · 非常满意" in html
    response = client.post(url + "rate/", {"rating": "4", "comment": "清理得很及时"})
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


def test_a_rating_of_3_or_less_counts_as_not_satisfied(client, street):
    case = closed_case(street)
    client.post(f"/report/follow/{case.reference}/rate/", {"rating": "3"})
    case.refresh_from_db()
    assert (case.resident_rating, case.resident_satisfied) == (3, False)


def test_a_rating_out_of_range_is_refused_in_chinese_and_the_comment_kept(client, street):
    case = closed_case(street)
    response = client.post(
        f"/report/follow/{case.reference}/rate/", {"rating": "9", "comment": "还行"}
    )
    html = response.content.decode()
    assert "选择一个有效的选项" in html
    assert "还行</textarea>" in html
    # The error summary links to the group of radio buttons, which carries the id.
    assert '<a href="#id_rating">' in html
    assert 'id="id_rating"' in html
    assert Case.objects.get(pk=case.pk).resident_rated_at is None


def test_the_actions_refusal_of_a_second_rating_is_shown(client, street):
    case = closed_case(street)
    url = f"/report/follow/{case.reference}/rate/"
    client.post(url, {"rating": "5"})
    response = client.post(url, {"rating": "1"})
    assert response.status_code == 409
    assert "该案件已经评价过，每个案件只能评价一次。" in response.content.decode()
    assert Case.objects.get(pk=case.pk).resident_rating == 5


def test_after_the_townships_call_back_the_page_says_so_instead_of_asking(client, street):
    case = closed_case(street)
    record_resident_callback(street.dispatcher, case, satisfied=True)
    url = f"/report/follow/{case.reference}/"
    html = client.get(url).content.decode()
    assert "街乡已电话回访，并记录了您是否满意。" in html
    assert 'name="rating"' not in html
    response = client.post(url + "rate/", {"rating": "1"})
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
