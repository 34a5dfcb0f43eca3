"""Open311 GeoReport v2 at /open311/v2/: every endpoint in JSON and XML, checked against the
standard's field lists, its errors, and a request's life: filed with an api_key, it is a
resident case; read back, its status follows the case."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from tests.conftest import make_person, square
from tests.fixtures_api import Api, api_city_fixture, secret_for  # noqa: F401  (fixture)
from tests.fixtures_cases import (
    ON_THE_LANE,
    beijing,
    png_bytes,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from whistle.api import tokens
from whistle.api.models import ApiToken
from whistle.cases import actions
from whistle.cases.models import Attachment, Case, Event, HotlineOrder
from whistle.notifications.models import Notification
from whistle.organisation.models import Jurisdiction, Person, Role
from whistle.policies.models import Category, CategoryKind, MajorClass

START = beijing(2026, 3, 10, 9, 0)
BASE = "/open311/v2/"
# The standard's fields (GeoReport v2), each answer checked against them.
SERVICE_FIELDS = {
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
}
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
VENDING = "event-0501"
GARBAGE = "event-0102"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _no_reports_counted_yet():
    """The residents' report counts (Django's cache) start empty in every test."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="zh-hans")


@pytest.fixture
def api_key(api_city) -> str:
    return secret_for(api_city.dispatcher)


def as_json(answer: Any) -> Any:
    assert answer["Content-Type"].startswith("application/json"), answer["Content-Type"]
    return json.loads(answer.content)


def as_xml(answer: Any) -> ElementTree.Element:
    assert answer["Content-Type"].startswith("text/xml"), answer["Content-Type"]
    return ElementTree.fromstring(answer.content)


def fields(element: ElementTree.Element) -> dict[str, str]:
    return {child.tag: child.text or "" for child in element}


def file_request(client: Client, key: str, fmt: str = "json", **extra: Any) -> Any:
    form = {
        "api_key": key,
        "service_code": VENDING,
        "lat": str(ON_THE_LANE[1]),
        "long": str(ON_THE_LANE[0]),
        "description": "人民市场东巷有游商占道",
        "address_string": "人民市场东巷 3 号",
        "first_name": "女士",
        "last_name": "王",
        "phone": "13800138000",
        "email": "wang@example.cn",
        "account_id": "acct-7",
        **extra,
    }
    return client.post(f"{BASE}requests.{fmt}", {k: v for k, v in form.items() if v is not None})


def assert_open311_error(answer: Any, fmt: str, status: int) -> str:
    assert answer.status_code == status, answer.content
    if fmt == "json":
        body = as_json(answer)
        assert isinstance(body, list) and len(body) == 1
        assert set(body[0]) == {"code", "description"} and body[0]["code"] == status
        return str(body[0]["description"])
    root = as_xml(answer)
    assert root.tag == "errors"
    (error,) = list(root)
    assert error.tag == "error" and fields(error)["code"] == str(status)
    return fields(error)["description"]


def domain_counts() -> tuple[int, int, int, int]:
    return (
        Case.objects.count(),
        Event.objects.count(),
        Notification.objects.count(),
        Attachment.objects.count(),
    )


# Discovery and services -----------------------------------------------------------------------


def test_discovery_names_the_specification_and_both_formats(api_city, client):
    body = as_json(client.get(f"{BASE}discovery.json"))
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["formats"] == ["application/json", "text/xml"]
    assert body["changeset"].endswith("+08:00") and body["key_service"]
    root = as_xml(client.get(f"{BASE}discovery.xml"))
    assert root.tag == "discovery"
    formats = [f.text for f in root.find("endpoints/endpoint/formats")]  # type: ignore[union-attr]
    assert formats == ["application/json", "text/xml"]


def test_services_are_the_districts_categories_in_both_formats(api_city, client):
    services = as_json(client.get(f"{BASE}services.json"))
    assert [s["service_code"] for s in services] == [GARBAGE, VENDING]
    vending = services[1]
    assert set(vending) == SERVICE_FIELDS
    assert vending["service_name"] == "无照经营游商" and vending["group"] == "街面秩序"
    assert vending["type"] == "realtime" and vending["metadata"] is False
    root = as_xml(client.get(f"{BASE}services.xml", {"jurisdiction_id": "110101"}))
    assert root.tag == "services"
    rows = [fields(s) for s in root]
    assert [r["service_code"] for r in rows] == [GARBAGE, VENDING]
    assert set(rows[1]) == SERVICE_FIELDS and rows[1]["metadata"] == "false"


def test_a_service_definition_lists_its_attributes(api_city, client):
    body = as_json(client.get(f"{BASE}services/{VENDING}.json"))
    assert body == {"service_code": VENDING, "attributes": []}
    root = as_xml(client.get(f"{BASE}services/{VENDING}.xml"))
    assert root.tag == "service_definition"
    assert fields(root)["service_code"] == VENDING and list(root.find("attributes")) == []  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_service_or_district_is_not_found(api_city, client, fmt):
    assert "event-9999" in assert_open311_error(
        client.get(f"{BASE}services/event-9999.{fmt}"), fmt, 404
    )
    assert "110199" in assert_open311_error(
        client.get(f"{BASE}services.{fmt}", {"jurisdiction_id": "110199"}), fmt, 404
    )


def test_without_jurisdiction_id_two_served_districts_are_ambiguous(api_city, client):
    chaoyang = Jurisdiction.objects.get(code="110105")
    MajorClass.objects.create(
        district=chaoyang, kind=CategoryKind.EVENT, code="05", name="街面秩序"
    )
    described = assert_open311_error(client.get(f"{BASE}services.json"), "json", 400)
    # The caller is told which codes there are.
    assert "jurisdiction_id" in described
    assert "110101" in described and "110105 (" in described
    assert as_json(client.get(f"{BASE}services.json", {"jurisdiction_id": "110105"})) == []


# Filing a request -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_request_filed_with_an_api_key_becomes_a_resident_case(
    api_city, client, api_key, clock, fmt
):
    answer = file_request(client, api_key, fmt)
    assert answer.status_code == 201, answer.content
    if fmt == "json":
        (row,) = as_json(answer)
    else:
        root = as_xml(answer)
        assert root.tag == "service_requests"
        row = fields(root.find("request"))  # type: ignore[arg-type]
    case = Case.objects.get(reference=row["service_request_id"])
    assert row["token"] == str(case.uuid) and row["account_id"] == "acct-7"
    assert case.source == Case.Source.RESIDENT and case.status == Case.Status.REPORTED
    assert case.category == api_city.street_vending
    assert case.reporter is None and case.reporter_name == "王女士"
    assert case.reporter_phone == "13800138000" and case.address == "人民市场东巷 3 号"
    assert case.township == api_city.longtan
    (event,) = case.events.all()
    assert event.kind == "case.reported" and event.data["category"] == "0501"


def test_a_request_carries_its_photos_as_media(api_city, client, api_key, clock):
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = SimpleUploadedFile("p.png", png_bytes((40, 30)), content_type="image/png")
    answer = file_request(client, api_key, media=photo)
    assert answer.status_code == 201, answer.content
    case = Case.objects.get(reference=as_json(answer)[0]["service_request_id"])
    assert case.attachments.count() == 1


def test_without_a_description_the_service_name_describes_the_request(
    api_city, client, api_key, clock
):
    answer = file_request(client, api_key, description=None)
    assert answer.status_code == 201, answer.content
    case = Case.objects.get(reference=as_json(answer)[0]["service_request_id"])
    assert case.description == "无照经营游商"


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("change", "status", "says"),
    [
        ({"api_key": None}, 403, "api_key"),
        ({"api_key": "wst_not-a-token"}, 403, "api_key"),
        ({"service_code": None}, 400, "service_code"),
        ({"service_code": "event-9999"}, 400, "event-9999"),
        ({"lat": None}, 400, "lat"),
        ({"long": "东经"}, 400, "long"),
        ({"lat": "20.0", "long": "100.0"}, 400, ""),
        ({"description": "很长" * 2001}, 400, "4000"),
        ({"phone": "不是电话"}, 400, ""),
        ({"jurisdiction_id": "110105"}, 404, "110105"),
    ],
)
def test_a_bad_request_is_refused_with_the_standards_error_and_writes_nothing(
    api_city, client, api_key, clock, fmt, change, status, says
):
    before = domain_counts()
    description = assert_open311_error(file_request(client, api_key, fmt, **change), fmt, status)
    assert says in description and description
    assert domain_counts() == before


@pytest.mark.parametrize(
    ("language", "says"),
    [
        ("zh-hans", "位置（纬度 39.9，经度 116.3）不在东城区（jurisdiction_id 110101）内"),
        ("en", "The position (lat 39.9, long 116.3) lies outside 东城区 (jurisdiction_id 110101)"),
    ],
)
def test_a_position_in_another_district_is_refused_for_where_it_lies(
    api_city, api_key, clock, language, says
):
    Jurisdiction.objects.create(
        level="district",
        code="110102",
        name="西城区",
        parent=Jurisdiction.objects.get(code="110000"),
        boundary=square(116.27, 39.85, 0.1),
    )
    before = domain_counts()
    answer = file_request(
        Client(HTTP_ACCEPT_LANGUAGE=language),
        api_key,
        jurisdiction_id="110101",
        lat="39.9",
        long="116.3",
    )
    description = assert_open311_error(answer, "json", 400)
    assert says in description
    assert "属于其他区" not in description and "another district" not in description
    assert domain_counts() == before


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_address_string_without_lat_and_long_places_the_request_on_its_lane(
    api_city, client, api_key, clock, fmt
):
    answer = file_request(
        client, api_key, fmt, lat=None, long=None, address_string="东城区人民市场东巷３号门前"
    )
    assert answer.status_code == 201, answer.content
    reference = (
        as_json(answer)[0]["service_request_id"]
        if fmt == "json"
        else fields(as_xml(answer)[0])["service_request_id"]
    )
    case = Case.objects.get(reference=reference)
    assert case.lane is not None and case.lane.name == "人民市场东巷"
    assert case.address == "东城区人民市场东巷３号门前"


@pytest.mark.parametrize(
    ("address", "says"),
    [("东城区某某路1号", "经纬度"), ("人民市场东巷与东四六条交叉口", "人民市场东巷、东四六条")],
)
def test_an_address_string_that_names_no_lane_or_two_files_nothing(
    api_city, client, api_key, clock, address, says
):
    before = domain_counts()
    answer = file_request(client, api_key, "json", lat=None, long=None, address_string=address)
    assert says in assert_open311_error(answer, "json", 400)
    assert domain_counts() == before


def test_a_revoked_api_key_files_nothing(api_city, client, clock):
    from whistle.api import tokens
    from whistle.api.models import ApiToken

    issued = tokens.issue_token(api_city.dispatcher, person=api_city.dispatcher, name="open311")
    tokens.revoke_token(api_city.dispatcher, ApiToken.objects.get(pk=issued.token.pk))
    before = domain_counts()
    assert_open311_error(file_request(client, issued.secret), "json", 403)
    assert domain_counts() == before


def test_errors_speak_the_callers_language(api_city, clock):
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    description = assert_open311_error(english.get(f"{BASE}requests/NOSUCH.json"), "json", 404)
    assert description == "No request has the id NOSUCH."


# The locale parameter -------------------------------------------------------------------------

VENDING_EN = "Unlicensed street vendor"
ORDER_EN = "Street order"
VENDING_ZH = ("无照经营游商", "街面秩序", "街面秩序 · 无照经营游商", "游商,摆摊")
VENDING_IN_ENGLISH = (VENDING_EN, ORDER_EN, f"{ORDER_EN} · {VENDING_EN}", "street vendor,stall")


@pytest.fixture
def english_names(api_city) -> None:
    """The district gave 无照经营游商 and its major class English names and keywords."""
    Category.objects.filter(code="01", major__code="05").update(
        name_en=VENDING_EN, keywords="游商,摆摊", keywords_en="street vendor,stall"
    )
    MajorClass.objects.filter(code="05").update(name_en=ORDER_EN)


def vending_as_named(answer: Any, fmt: str) -> tuple[str, str, str, str]:
    assert answer.status_code == 200, answer.content
    rows = as_json(answer) if fmt == "json" else [fields(s) for s in as_xml(answer)]
    (vending,) = [row for row in rows if row["service_code"] == VENDING]
    return vending["service_name"], vending["group"], vending["description"], vending["keywords"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("header", "locale", "named", "language"),
    [
        ("zh-hans", "en", VENDING_IN_ENGLISH, "en"),
        ("zh-hans", "en-US", VENDING_IN_ENGLISH, "en"),
        ("zh-hans", "en_GB", VENDING_IN_ENGLISH, "en"),
        ("en", "zh", VENDING_ZH, "zh-hans"),
        ("en", "zh-CN", VENDING_ZH, "zh-hans"),
        ("en", "zh_Hans", VENDING_ZH, "zh-hans"),
    ],
)
def test_the_locale_parameter_names_the_services_ahead_of_accept_language(
    english_names, fmt, header, locale, named, language
):
    answer = Client(HTTP_ACCEPT_LANGUAGE=header).get(f"{BASE}services.{fmt}", {"locale": locale})
    assert vending_as_named(answer, fmt) == named
    assert answer["Content-Language"] == language


@pytest.mark.parametrize("locale", ["fr", "xx-!!", "   ", "x" * 600])
@pytest.mark.parametrize(
    ("header", "named"), [("en", VENDING_IN_ENGLISH), ("zh-hans", VENDING_ZH), ("", VENDING_ZH)]
)
def test_a_locale_of_no_language_here_leaves_the_callers_header_or_chinese(
    english_names, locale, header, named
):
    answer = Client(HTTP_ACCEPT_LANGUAGE=header).get(f"{BASE}services.json", {"locale": locale})
    assert vending_as_named(answer, "json") == named


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_locale_parameter_speaks_the_errors_of_reading_and_filing(
    api_city, client, api_key, clock, fmt
):
    missing = client.get(f"{BASE}requests/NOSUCH.{fmt}", {"locale": "en-US"})
    assert assert_open311_error(missing, fmt, 404) == "No request has the id NOSUCH."
    assert missing["Content-Language"] == "en"
    before = domain_counts()
    # Filing sends it in the form, beside the request's other fields.
    refused = file_request(client, api_key, fmt, locale="en", lat="north")
    assert assert_open311_error(refused, fmt, 400) == "lat and long are numbers in degrees."
    assert domain_counts() == before
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    chinese = file_request(english, api_key, fmt, locale="zh-CN", lat="north")
    assert assert_open311_error(chinese, fmt, 400) == "lat 和 long 须为以度为单位的数值。"


def test_the_locale_parameter_names_a_filed_requests_service_as_it_is_read_back(
    english_names, client, api_key, clock
):
    reference = as_json(file_request(client, api_key))[0]["service_request_id"]
    (row,) = as_json(client.get(f"{BASE}requests/{reference}.json", {"locale": "en"}))
    assert row["service_name"] == VENDING_EN
    (row,) = as_json(client.get(f"{BASE}requests/{reference}.json"))
    assert row["service_name"] == "无照经营游商"


# The residents' daily limit per phone number ---------------------------------------------------

LIMIT_ZH = "该号码今天的上报次数已达上限，请拨打 12345 热线。"
LIMIT_EN = "This number has sent the most reports allowed for today. Call 12345 instead."


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_number_past_the_daily_limit_is_refused_429_and_writes_nothing(
    api_city, client, api_key, clock, settings, fmt
):
    settings.WHISTLE_RESIDENT_REPORTS_PER_PHONE = 2
    # The count is the report form's and the phone's: a report the resident's phone sent
    # under the number counts here too.
    resident = api_city.as_("resident")
    body = {"description": "人民市场东巷路边堆了建筑垃圾", "lon": ON_THE_LANE[0]}
    sent = resident.post(
        "/cases/resident-reports", {**body, "lat": ON_THE_LANE[1], "phone": "13800138000"}
    )
    assert sent.status_code == 201, sent.content
    assert file_request(client, api_key, fmt).status_code == 201
    before = domain_counts()
    # The same number written otherwise.
    refused = file_request(client, api_key, fmt, phone="+86 138-0013-8000")
    assert assert_open311_error(refused, fmt, 429) == LIMIT_ZH
    assert 0 < int(refused["Retry-After"]) <= 86401
    assert domain_counts() == before
    # Another resident's number is not held back by this one's.
    assert file_request(client, api_key, fmt, phone="13900139000").status_code == 201
    # The next day the number may report again.
    clock.shift(timedelta(days=1))
    assert file_request(client, api_key, fmt).status_code == 201


def test_the_limit_is_told_in_the_callers_language(api_city, api_key, clock, settings):
    settings.WHISTLE_RESIDENT_REPORTS_PER_PHONE = 1
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert file_request(english, api_key).status_code == 201
    assert assert_open311_error(file_request(english, api_key), "json", 429) == LIMIT_EN
    # A request without a number has no one's count to go to: the api_key is the system's.
    assert file_request(english, api_key, phone="").status_code == 201


def test_the_hotline_platforms_token_is_held_to_the_limit_its_orders_are_not(
    api_city, client, clock, settings
):
    """The 12345 platform relays many callers, each under their own number; its orders go
    through /api/v1/hotline/orders, which the limit does not touch."""
    settings.WHISTLE_RESIDENT_REPORTS_PER_PHONE = 1
    account = make_person("hotline-12345", Role.CHIEFS_OFFICE, jurisdiction=api_city.district)
    admin = Person.objects.create_superuser(username="admin", password="pw-123456")
    secret = tokens.issue_token(
        admin, person=account, name="12345 热线平台", kind=ApiToken.Kind.SERVICE
    ).secret
    assert file_request(client, secret).status_code == 201
    before = domain_counts()
    assert assert_open311_error(file_request(client, secret), "json", 429) == LIMIT_ZH
    assert domain_counts() == before
    assert file_request(client, secret, phone="13900139000").status_code == 201
    order = {
        "order_number": "2026031000001",
        "description": "人民市场东巷有游商占道经营",
        "lon": ON_THE_LANE[0],
        "lat": ON_THE_LANE[1],
        "caller_phone": "13800138000",
    }
    taken = Api(secret).post("/hotline/orders", order)
    assert taken.status_code == 201, taken.content
    assert HotlineOrder.objects.count() == 1


# Reading requests back ------------------------------------------------------------------------


def filed(client: Client, api_key: str, **extra: Any) -> str:
    answer = file_request(client, api_key, **extra)
    assert answer.status_code == 201, answer.content
    return str(as_json(answer)[0]["service_request_id"])


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_request_is_read_back_with_the_standards_fields_and_no_personal_data(
    api_city, client, api_key, clock, fmt
):
    reference = filed(client, api_key)
    answer = client.get(f"{BASE}requests/{reference}.{fmt}")
    assert answer.status_code == 200
    if fmt == "json":
        (row,) = as_json(answer)
    else:
        root = as_xml(answer)
        assert root.tag == "service_requests"
        row = fields(root.find("request"))  # type: ignore[arg-type]
    assert set(row) == REQUEST_FIELDS
    assert row["service_request_id"] == reference and row["status"] == "open"
    assert row["service_code"] == VENDING and row["service_name"] == "无照经营游商"
    assert row["requested_datetime"] == "2026-03-10T09:00:00+08:00"
    assert row["agency_responsible"] == "龙潭街道"
    assert float(row["lat"]) == ON_THE_LANE[1] and float(row["long"]) == ON_THE_LANE[0]
    assert "13800138000" not in answer.content.decode() and "王" not in answer.content.decode()


def test_a_token_names_the_request_it_became(api_city, client, api_key, clock):
    answer = file_request(client, api_key)
    row = as_json(answer)[0]
    found = as_json(client.get(f"{BASE}tokens/{row['token']}.json"))
    assert found == [{"service_request_id": row["service_request_id"], "token": row["token"]}]
    root = as_xml(client.get(f"{BASE}tokens/{row['token']}.xml"))
    assert fields(root.find("request"))["service_request_id"] == row["service_request_id"]  # type: ignore[arg-type]
    assert_open311_error(client.get(f"{BASE}tokens/not-a-token.xml"), "xml", 404)


def test_the_status_follows_the_case_and_notes_come_from_the_trail(
    api_city, client, api_key, clock
):
    reference = filed(client, api_key)
    case = Case.objects.get(reference=reference)
    clock.shift(timedelta(minutes=5))
    actions.file_case(api_city.dispatcher, case, category=api_city.street_vending)
    clock.shift(timedelta(minutes=5))
    actions.solve_on_spot(api_city.dispatcher, case, note="已劝离")
    clock.shift(timedelta(minutes=5))
    actions.check_passed(api_city.dispatcher, case)
    clock.shift(timedelta(minutes=5))
    actions.close_case(api_city.dispatcher, case)
    (row,) = as_json(client.get(f"{BASE}requests/{reference}.json", {"extensions": "true"}))
    assert row["status"] == "closed"
    assert row["updated_datetime"] == "2026-03-10T09:20:00+08:00"
    assert set(row) == REQUEST_FIELDS | {"extended_attributes", "notes"}
    assert row["extended_attributes"]["township"] == api_city.longtan.code
    assert row["notes"][0]["datetime"] == "2026-03-10T09:00:00+08:00"
    assert row["notes"][-1]["datetime"] == "2026-03-10T09:20:00+08:00"
    assert row["notes"][-1]["type"] == "closed" and len(row["notes"]) == case.events.count()
    assert "已劝离" not in json.dumps(row, ensure_ascii=False)
    root = as_xml(client.get(f"{BASE}requests/{reference}.xml", {"extensions": "true"}))
    notes = root.findall("request/notes/note")
    assert len(notes) == case.events.count() and fields(notes[-1])["type"] == "closed"


def test_a_rejected_request_is_closed_with_the_reason(api_city, client, api_key, clock):
    reference = filed(client, api_key)
    actions.reject_case(
        api_city.dispatcher, Case.objects.get(reference=reference), reason="非城市管理问题"
    )
    (row,) = as_json(client.get(f"{BASE}requests/{reference}.json"))
    assert row["status"] == "closed" and row["status_notes"] == "非城市管理问题"


def test_the_list_filters_by_id_service_status_and_time_newest_first(
    api_city, client, api_key, clock
):
    old = filed(client, api_key)
    clock.shift(timedelta(days=91))
    garbage = filed(client, api_key, service_code=GARBAGE)
    clock.shift(timedelta(hours=1))
    vending = filed(client, api_key)
    actions.reject_case(api_city.dispatcher, Case.objects.get(reference=vending), reason="重复")

    def listed(**params: str) -> list[str]:
        answer = client.get(f"{BASE}requests.json", params)
        assert answer.status_code == 200, answer.content
        return [r["service_request_id"] for r in as_json(answer)]

    # The standard's default: the last 90 days.
    assert listed() == [vending, garbage]
    assert listed(service_code=GARBAGE) == [garbage]
    assert listed(status="open") == [garbage]
    assert listed(status="closed") == [vending]
    assert listed(status="open,closed") == [vending, garbage]
    assert listed(start_date="2026-03-10T00:00:00+08:00") == [vending, garbage, old]
    assert listed(end_date="2026-03-10T23:59:59+08:00") == [old]
    assert listed(start_date="2026-06-09T10:00:00+08:00") == [vending]
    # With ids, the other filters do not apply.
    assert listed(service_request_id=f"{old},{garbage}", status="closed") == [garbage, old]
    root = as_xml(client.get(f"{BASE}requests.xml", {"service_code": GARBAGE}))
    assert [fields(r)["service_request_id"] for r in root] == [garbage]


def test_the_list_pages_and_filters_by_update_time(api_city, client, api_key, clock):
    first = filed(client, api_key)
    clock.shift(timedelta(hours=1))
    second = filed(client, api_key)
    clock.shift(timedelta(hours=1))
    third = filed(client, api_key)
    clock.shift(timedelta(hours=1))
    actions.reject_case(api_city.dispatcher, Case.objects.get(reference=first), reason="重复")

    def listed(**params: str) -> list[str]:
        return [
            r["service_request_id"] for r in as_json(client.get(f"{BASE}requests.json", params))
        ]

    assert listed(page_size="2") == [third, second]
    assert listed(page_size="2", page="2") == [first]
    assert listed(page_size="2", page="3") == []
    # Updated at 12:00 (the rejection) or later: only the first.
    assert listed(updated_after="2026-03-10T12:00:00+08:00") == [first]
    assert listed(updated_before="2026-03-10T11:00:00+08:00") == [third, second]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"start_date": "昨天"}, "start_date"),
        ({"updated_after": "2026-13-01"}, "updated_after"),
        ({"status": "pending"}, "status"),
        ({"page": "0"}, "page"),
        ({"page_size": "1001"}, "page_size"),
        ({"service_code": "event-9999"}, "event-9999"),
    ],
)
def test_bad_filters_are_refused_with_the_standards_error(
    api_city, client, clock, fmt, params, says
):
    assert says in assert_open311_error(client.get(f"{BASE}requests.{fmt}", params), fmt, 400)


def test_only_residents_requests_are_published(api_city, client, clock):
    actions.report_case(
        api_city.steward, description="占道", lon=ON_THE_LANE[0], lat=ON_THE_LANE[1]
    )
    assert as_json(client.get(f"{BASE}requests.json")) == []


def test_an_unknown_format_or_request_is_not_found(api_city, client, clock):
    assert client.get(f"{BASE}services.csv").status_code == 404
    assert_open311_error(client.get(f"{BASE}requests/NOSUCH.xml"), "xml", 404)


# An Open311 client library, unmodified ------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_open311_client_library_lists_services_and_reads_a_filed_request_back(
    api_city, api_key, live_server, fmt
):
    # georeport reads (services, definitions, requests); it has no call to file one, so the
    # request is filed as the standard describes: a form-encoded POST.
    import georeport
    import requests

    city = georeport.GeoReport(
        f"{live_server.url}/open311/v2", jurisdiction="110101", output_format=fmt
    )
    services = city.get_service_list()
    assert [s["service_code"] for s in services] == [GARBAGE, VENDING]
    assert city.get_service_definition(VENDING)["service_code"] == VENDING
    filed = requests.post(
        f"{live_server.url}/open311/v2/requests.json",
        data={
            "api_key": api_key,
            "jurisdiction_id": "110101",
            "service_code": GARBAGE,
            "lat": str(ON_THE_LANE[1]),
            "long": str(ON_THE_LANE[0]),
            "description": "垃圾堆在巷口",
        },
        timeout=30,
    )
    assert filed.status_code == 201, filed.text
    reference = filed.json()[0]["service_request_id"]
    found = city.get_service_request(reference)
    assert found["service_request_id"] == reference and found["status"] == "open"
    assert found["service_code"] == GARBAGE and found["description"] == "垃圾堆在巷口"
    listed = city.get_service_requests(status="open")
    rows = listed if isinstance(listed, list) else [listed]
    assert [r["service_request_id"] for r in rows] == [reference]


def test_the_demo_key_files_a_request_and_the_next_one_replaces_it(api_city, client, clock):
    from io import StringIO

    from django.core.management import call_command

    def issued() -> str:
        out = StringIO()
        call_command("demo_open311_key", username=api_city.resident.username, stdout=out)
        (secret,) = re.findall(r"wst_\S+", out.getvalue())
        return str(secret)

    first = issued()
    assert file_request(client, first).status_code == 201
    second = issued()
    assert second != first
    assert_open311_error(file_request(client, first), "json", 403)
    assert file_request(client, second).status_code == 201
    out = StringIO()
    call_command("demo_open311_key", username="nobody", stdout=out)
    assert "nobody" in out.getvalue() and "wst_" not in out.getvalue()
