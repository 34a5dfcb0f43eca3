"""The command centre's work-order page (接诉即办): an order typed in by the dispatcher, the
platform's export uploaded, the caller shown in full only to the township's office.

Frozen at Tuesday 12 May 2026, 09:00 Beijing time, in 龙潭街道.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone, translation

from tests.fixtures_cases import ON_THE_LANE, beijing, whistle_city_fixture  # noqa: F401
from tests.fixtures_desk import post_op
from tests.hotline_classes import superurgent_class
from tests.test_hotline_import import csv_bytes, row
from whistle.cases import actions
from whistle.cases.models import Case, HotlineOrder
from whistle.organisation.models import Person
from whistle.policies.models import (
    DurationUnit,
    HotlineDeadlineClass,
    default_hotline_deadline_classes,
)

T0 = beijing(2026, 5, 12, 9, 0)
PAGE = "/dispatch/hotline/"
IMPORT = "/dispatch/hotline/import/"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def order_fields(**changes: Any) -> dict[str, Any]:
    fields = {
        "channel": "hotline",
        "number": "2026051200001",
        "deadline_class": "emergency",
        "caller_name": "王小明",
        "caller_phone": "13812341234",
        "called_at": "2026-05-12T08:40",
        "description": "人民市场东巷有游商占道经营",
        "lon": ON_THE_LANE[0],
        "lat": ON_THE_LANE[1],
        "address": "人民市场东巷 3 号",
    }
    fields.update(changes)
    return fields


def test_the_page_offers_the_districts_deadline_classes(client, whistle_city):
    client.force_login(whistle_city.dispatcher)
    html = client.get(PAGE).content.decode()
    assert "接诉即办" in html and "龙潭街道" in html
    assert "紧急：2 自然小时内答复" in html and "复杂：15 自然日内答复" in html


def test_built_in_classes_read_in_the_readers_language_and_a_districts_own_name_as_given(
    client, whistle_city
):
    # The district's classes stored as a new district's are: the defaults, named in the
    # deployment's language, one of them renamed by the district.
    with translation.override("zh-hans"):
        rows = default_hotline_deadline_classes(whistle_city.district)
    for limits in rows:
        limits.name = "普通件" if limits.code == "general" else limits.name
    HotlineDeadlineClass.objects.bulk_create(rows)
    client.force_login(whistle_city.dispatcher)
    client.post(PAGE, order_fields())
    english = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Emergency: reply within 2 " in english and "Complex: reply within 15 " in english
    # Natural time reads as plain time in English; only working time says so.
    assert "Emergency: reply within 2 hours, resolve within 2 hours" in english
    assert "普通件: reply within 7 days, resolve within 7 days" in english
    assert "natural" not in english
    assert "紧急" not in english and "复杂" not in english
    assert " · Emergency</span>" in english  # the order taken, in the list
    assert " · 紧急</span>" in client.get(PAGE).content.decode()
    # A class the district named itself keeps its name in every language.
    assert "普通件: reply within 7 " in english
    # The case's timeline names the order's class as the order's card does.
    case_page = f"/cases/{HotlineOrder.objects.get().case.reference}/"
    english_case = unescape(client.get(case_page, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert re.search(r"Deadline class\s*</[^>]+>\s*<[^>]+>\s*Emergency<", english_case)
    assert "紧急" not in english_case
    # Labels that start a line begin with a capital in English.
    assert "Handed down by a superior" in english and "Other channel" in english
    assert "<strong>Problem reported</strong>" in english_case
    # So do the line that begins the order's card and the choices of category.
    assert '<p class="muted">Received <time' in english
    assert "received " not in english
    assert re.search(r">(Component|Event) \d{4} ", english)
    assert not re.search(r">(component|event) \d{4} ", english)


def test_a_dispatcher_takes_an_order_and_lands_on_its_case(client, whistle_city):
    client.force_login(whistle_city.dispatcher)
    response = client.post(PAGE, order_fields())
    order = HotlineOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{order.case.reference}/"
    assert order.deadline_class == "emergency"
    assert order.called_at == beijing(2026, 5, 12, 8, 40)
    html = client.get(response["Location"]).content.decode()
    assert "2026051200001" in html and "13812341234" in html


def test_others_see_the_caller_masked_on_the_case_page(client, whistle_city):
    client.force_login(whistle_city.dispatcher)
    client.post(PAGE, order_fields())
    case = Case.objects.get()
    client.force_login(whistle_city.assessor)
    html = client.get(f"/cases/{case.reference}/").content.decode()
    assert "王*" in html and "138****1234" in html
    assert "13812341234" not in html and "王小明" not in html


def test_the_order_s_place_is_picked_on_the_map_or_the_lane_list_never_the_desk_s_position(
    client, whistle_city
):
    client.force_login(whistle_city.dispatcher)
    html = client.get(PAGE).content.decode()
    form = html[
        html.index('id="take-order"') : html.index("</form>", html.index('id="take-order"'))
    ]
    assert "使用我的位置" not in form and "data-geolocate" not in form
    assert 'id="report-map"' in form and 'id="lane-search"' in form
    assert "在地图上点击放置标记，拖动标记可以调整位置。" in form
    # An order sent without a place is told the ways the form offers.
    refused = client.post(PAGE, order_fields(lon="", lat="")).content.decode()
    assert "请提供位置：在地图上点选，或从列表中选择街巷。" in refused
    assert not HotlineOrder.objects.exists()
    # A resident reporting on the spot is still offered the phone's position.
    client.logout()
    assert "使用我的位置" in client.get("/report/").content.decode()


def test_a_bad_order_is_shown_again_with_the_problem_and_writes_nothing(client, whistle_city):
    client.force_login(whistle_city.dispatcher)
    response = client.post(PAGE, order_fields(number="2026 0512"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "2026 0512 不是工单编号" in html
    assert not HotlineOrder.objects.exists()


def _field_errors(html: str, name: str) -> str:
    """The errors the form shows on one field."""
    found = re.search(rf'<ul class="field-errors" id="id_{name}-errors">(.*?)</ul>', html)
    return found[1] if found else ""


def test_an_order_from_another_channel_may_go_without_a_number_and_is_shown_the_one_it_got(
    client, whistle_city
):
    client.force_login(whistle_city.dispatcher)
    page = client.get(PAGE).content.decode()
    assert "其他渠道的工单可不填，由本系统按街乡代码、日期和序号编号" in page
    landed = client.post(PAGE, order_fields(channel="other", number=""), follow=True)
    order = HotlineOrder.objects.get()
    assert order.number == "110101015-20260512-001"
    html = landed.content.decode()
    assert landed.redirect_chain[-1][0] == f"/cases/{order.case.reference}/"
    assert f"本系统为其编号 110101015-20260512-001，案件编号 {order.case.reference}" in html
    english = client.post(
        PAGE, order_fields(channel="other", number=""), follow=True, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "it came without a number, so Whistle numbered it 110101015-20260512-002" in english
    help_text = "Whistle numbers it by the township&#x27;s code, the date and a sequence"
    assert help_text in client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", "12345 热线工单和上级交办工单都有编号，请填写"),
        ("en", "An order of the 12345 hotline or from a superior has a number: give it."),
    ],
)
def test_a_hotline_order_without_its_number_is_shown_again_on_the_number(
    client, whistle_city, language, words
):
    client.force_login(whistle_city.dispatcher)
    response = client.post(PAGE, order_fields(number=""), HTTP_ACCEPT_LANGUAGE=language)
    html = response.content.decode()
    assert response.status_code == 200
    assert words in _field_errors(html, "number")
    assert not HotlineOrder.objects.exists()


def test_the_callers_phone_is_kept_as_one_number_however_it_was_typed(client, whistle_city):
    client.force_login(whistle_city.dispatcher)
    response = client.post(PAGE, order_fields(caller_phone="+86 138 1234-1234"))
    assert response.status_code == 302
    assert Case.objects.get().reporter_phone == "13812341234"


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", "6512 3456 不是可以回拨的号码：请填写手机号码（11 位，例如 13812345678）"),
        ("en", "6512 3456 is not a number to call back: give a mobile number (11 digits"),
    ],
)
def test_a_malformed_callers_phone_is_shown_again_on_the_phone(
    client, whistle_city, language, words
):
    client.force_login(whistle_city.dispatcher)
    response = client.post(
        PAGE, order_fields(caller_phone="6512 3456"), HTTP_ACCEPT_LANGUAGE=language
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert words in _field_errors(html, "caller_phone")
    assert not HotlineOrder.objects.exists()


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "zh-hans",
            {
                "place": "请提供位置：在地图上点选，或从列表中选择街巷",
                "number": "12345 热线工单和上级交办工单都有编号，请填写",
                "caller_phone": "12345 不是可以回拨的号码",
                "called_at": "来电时间晚于当前时间。",
            },
        ),
        (
            "en",
            {
                "place": "Give the place: tap the map or choose a lane from the list.",
                "number": "has a number: give it.",
                "caller_phone": "12345 is not a number to call back",
                "called_at": "The time of the call lies in the future.",
            },
        ),
    ],
)
def test_one_submit_shows_every_error_of_the_order_each_on_its_field(
    client, whistle_city, language, words
):
    client.force_login(whistle_city.dispatcher)
    response = client.post(
        PAGE,
        order_fields(lon="", lat="", number="", caller_phone="12345", called_at="2026-05-12T10:00"),
        HTTP_ACCEPT_LANGUAGE=language,
    )
    html = unescape(response.content.decode())
    assert response.status_code == 200
    for field, text in words.items():
        assert unescape(text) in _field_errors(html, field), field
    assert not HotlineOrder.objects.exists()
    assert not Case.objects.exists()


def test_a_12345_order_without_its_caller_is_shown_on_the_name_beside_its_other_errors(
    client, whistle_city
):
    client.force_login(whistle_city.dispatcher)
    response = client.post(
        PAGE, order_fields(caller_name="", caller_phone="", number="", description="")
    )
    html = response.content.decode()
    assert "请填写来电人的姓名或电话" in _field_errors(html, "caller_name")
    assert "工单都有编号，请填写" in _field_errors(html, "number")
    assert _field_errors(html, "description")
    assert not HotlineOrder.objects.exists()


@pytest.mark.parametrize("channel", ["superior", "other"])
def test_an_order_of_another_kind_shows_its_phone_and_place_errors_at_once(
    client, whistle_city, channel
):
    client.force_login(whistle_city.dispatcher)
    response = client.post(
        PAGE, order_fields(channel=channel, lon="", lat="", caller_phone="12345")
    )
    html = response.content.decode()
    assert "12345 不是可以回拨的号码" in _field_errors(html, "caller_phone")
    assert "请提供位置" in _field_errors(html, "place")
    assert not HotlineOrder.objects.exists()


def test_a_second_order_with_the_same_number_opens_the_first_case(client, whistle_city):
    client.force_login(whistle_city.dispatcher)
    first = client.post(PAGE, order_fields())
    again = client.post(PAGE, order_fields(description="另一次来电"), follow=True)
    assert again.redirect_chain[-1][0] == first["Location"]
    assert "此前已受理" in again.content.decode()
    assert HotlineOrder.objects.count() == 1


def test_an_uploaded_export_with_a_bad_row_lists_it_and_imports_nothing(client, whistle_city):
    client.force_login(whistle_city.dispatcher)
    content = csv_bytes([row("2026051200001"), row("2026 0512")])
    response = client.post(IMPORT, {"export": SimpleUploadedFile("export.csv", content)})
    html = response.content.decode()
    assert response.status_code == 200
    assert "未导入任何工单：有 1 行出错" in html and "2026 0512" in html
    assert not HotlineOrder.objects.exists()


def test_an_uploaded_export_is_imported_and_listed(client, whistle_city):
    client.force_login(whistle_city.dispatcher)
    content = csv_bytes([row("2026051200001"), row("2026051200002")])
    response = client.post(
        IMPORT, {"export": SimpleUploadedFile("export.csv", content)}, follow=True
    )
    html = response.content.decode()
    assert "已导入 2 个工单" in html
    assert 'id="order-2026051200001"' in html and 'id="order-2026051200002"' in html
    assert HotlineOrder.objects.count() == 2


def test_the_page_is_refused_to_a_department_officer(client, whistle_city):
    client.force_login(whistle_city.urban_officer)
    assert client.get(PAGE).status_code == 403
    content = csv_bytes([row("2026051200001")])
    upload = {"export": SimpleUploadedFile("export.csv", content)}
    assert client.post(IMPORT, upload).status_code == 403
    assert not HotlineOrder.objects.exists()


def test_a_district_with_a_class_of_its_own_is_offered_the_built_in_ones_beside_it(
    client, whistle_city
):
    superurgent_class(whistle_city.district)
    client.force_login(whistle_city.dispatcher)
    html = client.get(PAGE).content.decode()
    assert 'value="superurgent"' in html
    for code in ("emergency", "utilities", "general", "complex"):
        assert f'value="{code}"' in html
    assert "一般：7 自然日内答复" in html


def _class_form(district_id: int, code: str, name: str) -> dict[str, str]:
    return {
        "district": str(district_id),
        "code": code,
        "name": name,
        "aliases": "",
        "respond_within": "30",
        "respond_unit": DurationUnit.NATURAL_MINUTES,
        "resolve_within": "1",
        "resolve_unit": DurationUnit.NATURAL_HOURS,
        "position": "0",
    }


def test_the_admin_refuses_two_deadline_classes_of_one_name_in_a_district(whistle_city):
    admin = Person.objects.create_superuser(username="root", password="pw-123456")
    client = Client()
    client.force_login(admin)
    add = "/admin/policies/hotlinedeadlineclass/add/"
    district = whistle_city.district.pk
    assert client.post(add, _class_form(district, "hugeclass", "特急")).status_code == 302
    again = client.post(add, _class_form(district, "superurgent", "特急"))
    assert again.status_code == 200
    assert "本区已有名为“特急”的办理时限类别（hugeclass）" in again.content.decode()
    # Nor the name of a built-in class the district keeps, in either language.
    for name in ("一般", "general"):
        refused = client.post(add, _class_form(district, "plain", name))
        assert refused.status_code == 200
        assert "（general）" in refused.content.decode()
    assert list(HotlineDeadlineClass.objects.values_list("code", flat=True)) == ["hugeclass"]
    # The district's own row of a built-in code may keep the built-in name.
    assert client.post(add, _class_form(district, "general", "一般")).status_code == 302


# The reply and the call-back on the case page ---------------------------------------------------


def reply_in_progress(client, url: str, case: Case, reply: str, promised_by: str):
    """The case page's reply "in progress", promising the result by `promised_by`."""
    return post_op(
        client, url, "reply", case, kind="in_progress", reply=reply, promised_by=promised_by
    )


def _kind_checked(html: str, case: Case) -> list[str]:
    return re.findall(
        rf'<input type="radio" name="reply-{case.reference}-kind" value="(\w+)"[^>]*checked', html
    )


def test_a_case_just_taken_offers_the_reply_in_progress_and_no_call_back(client, whistle_city):
    client.force_login(whistle_city.dispatcher)
    client.post(PAGE, order_fields())
    case = Case.objects.get()
    html = client.get(f"/cases/{case.reference}/").content.decode()
    assert f'id="op-reply-{case.reference}"' in html
    assert _kind_checked(html, case) == ["in_progress"]
    # "Done by" first proposes the order's resolve deadline, in Beijing time.
    resolve_by = timezone.localtime(HotlineOrder.objects.get(case=case).resolve_due_at)
    promised = re.search(rf'name="reply-{case.reference}-promised_by" value="([^"]+)"', html)
    assert promised is not None and promised[1] == resolve_by.strftime("%Y-%m-%dT%H:%M")
    for label in ("已办结", "正在办理", "不属于本单位职责", "暂无法解决"):
        assert label in html
    assert f'id="op-callback-{case.reference}"' not in html


def test_after_an_in_progress_reply_the_page_says_the_call_back_comes_once_handled(
    client, whistle_city
):
    client.force_login(whistle_city.dispatcher)
    client.post(PAGE, order_fields())
    case = Case.objects.get()
    url = f"/cases/{case.reference}/"
    posted = reply_in_progress(client, url, case, "城管已派人，今晚前清理", "2026-05-12T21:00")
    assert posted.status_code == 302
    assert HotlineOrder.objects.get().reply_kind == "in_progress"
    html = client.get(url).content.decode()
    assert 'class="form op-form op-callback"' not in html
    assert re.search(rf'<p class="op-waiting[^"]*" id="op-callback-{case.reference}">', html)
    assert "已处置、已结案后再回访" in html
    card = html[html.index('id="order"') : html.index("</section>", html.index('id="order"'))]
    assert "正在办理" in card and "城管已派人，今晚前清理" in card
    trail = re.sub(r"<[^>]+>", " ", html[html.index('id="order"') :])
    assert re.search(r"答复类型\s+正在办理", trail)  # the trail event, the form being gone
    listed = client.get(PAGE).content.decode()
    row = listed[listed.index('id="order-2026051200001"') :]
    assert "正在办理" in row[: row.index("</li>")]
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert (
        "the call-back comes once the result is given to the caller or the case is marked "
        "resolved or closed" in english
    )
    # Once the case is marked resolved the call-back is offered, in the open.
    case = actions.file_case(whistle_city.dispatcher, case, category=whistle_city.street_vending)
    actions.solve_on_spot(whistle_city.dispatcher, case, note="已清理")
    html = client.get(url).content.decode()
    assert 'class="form op-form op-callback"' in html and "已处置、已结案后再回访" not in html


def _final_kind_checked(html: str, case: Case) -> list[str]:
    return re.findall(
        rf'<input type="radio" name="final_reply-{case.reference}-kind" value="(\w+)"[^>]*checked',
        html,
    )


def _card(html: str) -> str:
    start = html.index('id="order"')
    return html[start : html.index("</section>", start)]


def test_an_in_progress_reply_says_by_when_and_the_result_follows_on_the_page(client, whistle_city):
    client.force_login(whistle_city.dispatcher)
    client.post(PAGE, order_fields(deadline_class="general"))
    case = Case.objects.get()
    url = f"/cases/{case.reference}/"
    html = client.get(url).content.decode()
    assert f'name="reply-{case.reference}-promised_by"' in html
    assert f'id="op-final_reply-{case.reference}"' not in html
    # Without the time, or with one past, the form comes back with the reason; nothing is written.
    for promised_by, reason in (("", "请写明预计何时办结"), ("2026-05-12T08:00", "已经过去")):
        again = reply_in_progress(client, url, case, "城管已派人", promised_by)
        assert again.status_code == 200 and reason in again.content.decode()
    assert HotlineOrder.objects.get().replied_at is None
    posted = reply_in_progress(client, url, case, "城管已派人，周五前清理", "2026-05-15T18:00")
    assert posted.status_code == 302
    html = client.get(url).content.decode()
    card = _card(html)
    assert "承诺办结时间" in card and "2026-05-15 18:00" in card
    assert _final_kind_checked(html, case) == ["done"]
    form = html[html.index(f'id="op-final_reply-{case.reference}"') :]
    assert 'value="in_progress"' not in form[: form.index("</form>")]
    listed = client.get(PAGE).content.decode()
    row = listed[listed.index('id="order-2026051200001"') :]
    assert "承诺 05-15 18:00 前办结" in re.sub(r"<[^>]+>", "", row[: row.index("</li>")])
    # The result, then: the card shows both replies, the trail both events.
    done = post_op(client, url, "final_reply", case, kind="done", reply="游商已劝离，已恢复通行")
    assert done.status_code == 302
    order = HotlineOrder.objects.get()
    assert (order.reply_kind, order.final_reply_kind) == ("in_progress", "done")
    html = client.get(url).content.decode()
    card = _card(html)
    assert "城管已派人，周五前清理" in card and "游商已劝离，已恢复通行" in card
    assert "办结反馈" in card and "按承诺办结" in card
    assert f'id="op-final_reply-{case.reference}"' not in html
    assert 'class="form op-form op-callback"' in html  # handled: the call-back is offered
    trail = re.sub(r"<[^>]+>", " ", html[html.index('id="order"') :])
    assert "已向来电人反馈办理结果" in trail and re.search(r"办理结果\s+已办结", trail)
    listed = client.get(PAGE).content.decode()
    row = listed[listed.index('id="order-2026051200001"') :]
    assert "办结：已办结" in row[: row.index("</li>")]
    assert "按时答复" in row[: row.index("</li>")] and "正在办理" in row[: row.index("</li>")]
    english = _card(client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert "Result for the caller" in english and "Done by (promised)" in english
    # Its values shown alone, on the card and as the list's tags, begin with a capital.
    assert ">In progress</span>" in english and ">Done</span>" in english
    assert ">As promised</span>" in english
    listed = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    row = listed[listed.index('id="order-2026051200001"') :]
    row = re.sub(r"<[^>]+>", "", row[: row.index("</li>")])
    assert "12345 hotline · General" in row and "Replied in time" in row
    assert "In progress" in row and "Result: done" in row
    assert "replied in time" not in row and "general" not in row


def test_a_done_reply_offers_the_call_back_and_a_resolved_case_preselects_done(
    client, whistle_city
):
    client.force_login(whistle_city.dispatcher)
    client.post(PAGE, order_fields())
    client.post(PAGE, order_fields(number="2026051200002"))
    first, second = Case.objects.order_by("reported_at", "pk")
    url = f"/cases/{first.reference}/"
    assert post_op(client, url, "reply", first, kind="done", reply="已劝离").status_code == 302
    html = client.get(url).content.decode()
    assert 'class="form op-form op-callback"' in html
    second = actions.file_case(
        whistle_city.dispatcher, second, category=whistle_city.street_vending
    )
    actions.solve_on_spot(whistle_city.dispatcher, second, note="已清理")
    html = client.get(f"/cases/{second.reference}/").content.decode()
    assert _kind_checked(html, second) == ["done"]


def test_a_reply_without_its_kind_is_shown_again(client, whistle_city):
    client.force_login(whistle_city.dispatcher)
    client.post(PAGE, order_fields())
    case = Case.objects.get()
    response = post_op(client, f"/cases/{case.reference}/", "reply", case, reply="已处理")
    assert response.status_code == 200
    assert "这个字段是必填项" in response.content.decode()
    assert HotlineOrder.objects.get().replied_at is None


def _words(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


@pytest.mark.parametrize(
    ("language", "case_label", "order_label", "first", "passed"),
    [
        (
            "zh-hans",
            "处置时限（本案）",
            "12345工单办结时限",
            "默认为“12345工单办结时限”2026-05-19 09:00，而非本案的处置时限。",
            "“12345工单办结时限”2026-05-19 09:00 已过，请填写预计办结时间。",
        ),
        (
            "en",
            "Resolve by (this case)",
            "Resolve by (12345 order)",
            "First the “Resolve by (12345 order)” time, 2026-05-19 09:00, not the case's own.",
            "The “Resolve by (12345 order)” time, 2026-05-19 09:00, has passed: give the time.",
        ),
    ],
)
def test_a_typed_in_order_s_page_names_the_case_s_and_the_order_s_resolve_by_apart(
    client, whistle_city, clock, language, case_label, order_label, first, passed
):
    client.force_login(whistle_city.dispatcher)
    client.post(PAGE, order_fields(deadline_class="general"))
    case = actions.file_case(
        whistle_city.dispatcher, Case.objects.get(), category=whistle_city.street_vending
    )
    order = HotlineOrder.objects.get(case=case)
    own = timezone.localtime(case.resolve_due_at).strftime("%Y-%m-%d %H:%M")
    ordered = timezone.localtime(order.resolve_due_at).strftime("%Y-%m-%d %H:%M")
    assert (ordered, own < ordered) == ("2026-05-19 09:00", True)
    url = f"/cases/{case.reference}/"
    html = client.get(url, headers={"accept-language": language}).content.decode()
    facts = _words(html[html.index('class="facts"') : html.index('id="order"')])
    assert f"{case_label} {own}" in facts and order_label not in facts
    card = _words(_card(html))
    assert f"{order_label} {ordered}" in card and case_label not in card
    # The reply's "done by" is the order's deadline, and its help says so.
    form = html[html.index(f'id="op-reply-{case.reference}"') :]
    form = form[: form.index("</form>")]
    assert 'value="2026-05-19T09:00"' in form
    assert first in _words(form)
    # The trail: the order's deadline at its intake, the case's own at its filing.
    timeline = _words(html[html.index('<ol class="timeline">') :])
    assert f"{order_label} {ordered}" in timeline and f"{case_label} {own}" in timeline
    # Once the order's deadline has passed, nothing is filled in and the help says why.
    clock.move_to(order.resolve_due_at + timedelta(minutes=1))
    html = client.get(url, headers={"accept-language": language}).content.decode()
    form = html[html.index(f'id="op-reply-{case.reference}"') :]
    form = form[: form.index("</form>")]
    assert passed in _words(form)
    assert re.search(rf'name="reply-{case.reference}-promised_by"(?![^>]*value=)', form)
