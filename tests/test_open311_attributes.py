"""Open311 service attributes: the questions a district asks with a request of a category
(district data, edited in the admin), defined per GeoReport v2 in JSON and XML, answered
with `attribute[CODE]` when a request is filed, refused with the standard's 400 when an
answer is missing or does not fit, and kept on the case, where the township reads them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from tests import test_api_open311 as open311
from tests.fixtures_api import api_city_fixture  # noqa: F401  (fixture)
from tests.fixtures_cases import whistle_city_fixture  # noqa: F401  (fixture)
from tests.test_api_open311 import (
    BASE,
    GARBAGE,
    VENDING,
    as_json,
    as_xml,
    assert_open311_error,
    domain_counts,
    fields,
    file_request,
)
from whistle.cases.models import Case
from whistle.cases.trail import EventKind
from whistle.policies.models import AttributeDatatype, CategoryAttribute

# The Open311 tests' fixtures: a frozen clock, a client, an api_key.
clock = open311.clock
client = open311.client
api_key = open311.api_key
GOODS = "food=食品\ngoods=日用品\nother"


@pytest.fixture
def questions(api_city) -> list[CategoryAttribute]:
    """龙潭街道's district asks three things about street vending, and one it no longer asks."""
    vending = api_city.street_vending
    ask = CategoryAttribute.objects.create
    return [
        ask(
            category=vending,
            code="stalls",
            datatype=AttributeDatatype.NUMBER,
            required=True,
            description="摊位数量",
            datatype_description="整数",
            order=1,
        ),
        ask(
            category=vending,
            code="goods",
            datatype=AttributeDatatype.MULTIVALUELIST,
            description="售卖物品",
            order=2,
            values=GOODS,
        ),
        ask(
            category=vending,
            code="seen_at",
            datatype=AttributeDatatype.DATETIME,
            description="发现时间",
            order=3,
        ),
        ask(
            category=vending,
            code="blocking",
            datatype=AttributeDatatype.SINGLEVALUELIST,
            required=True,
            description="是否堵塞通行",
            order=4,
            values="yes=是\nno=否",
            is_active=False,
        ),
    ]


def test_services_with_questions_say_so_in_their_metadata(questions, client):
    services = {s["service_code"]: s for s in as_json(client.get(f"{BASE}services.json"))}
    assert (services[VENDING]["metadata"], services[GARBAGE]["metadata"]) == (True, False)
    rows = {fields(s)["service_code"]: fields(s) for s in as_xml(client.get(f"{BASE}services.xml"))}
    assert (rows[VENDING]["metadata"], rows[GARBAGE]["metadata"]) == ("true", "false")


def test_a_service_definition_lists_its_active_questions_per_the_standard(questions, client):
    body = as_json(client.get(f"{BASE}services/{VENDING}.json"))
    assert body["service_code"] == VENDING
    assert body["attributes"] == [
        {
            "variable": True,
            "code": "stalls",
            "datatype": "number",
            "required": True,
            "datatype_description": "整数",
            "order": 1,
            "description": "摊位数量",
            "values": [],
        },
        {
            "variable": True,
            "code": "goods",
            "datatype": "multivaluelist",
            "required": False,
            "datatype_description": "",
            "order": 2,
            "description": "售卖物品",
            "values": [
                {"key": "food", "name": "食品"},
                {"key": "goods", "name": "日用品"},
                {"key": "other", "name": "other"},
            ],
        },
        {
            "variable": True,
            "code": "seen_at",
            "datatype": "datetime",
            "required": False,
            "datatype_description": "",
            "order": 3,
            "description": "发现时间",
            "values": [],
        },
    ]
    root = as_xml(client.get(f"{BASE}services/{VENDING}.xml"))
    attributes = root.find("attributes")
    assert attributes is not None
    assert [a.tag for a in attributes] == ["attribute"] * 3
    goods = attributes[1]
    assert fields(goods)["code"] == "goods" and fields(goods)["variable"] == "true"
    values = goods.find("values")
    assert values is not None
    assert next((v.tag, fields(v)) for v in values) == ("value", {"key": "food", "name": "食品"})


def test_a_request_answers_the_questions_and_the_case_keeps_them(questions, client, api_key, clock):
    answer = file_request(
        client,
        api_key,
        "json",
        **{
            "attribute[stalls]": "3",
            "attribute[goods][]": ["food", "other", "food"],
            "attribute[seen_at]": "2026-03-10T08:30:00+08:00",
        },
    )
    assert answer.status_code == 201, answer.content
    (row,) = as_json(answer)
    case = Case.objects.get(reference=row["service_request_id"])
    kept = [
        {
            "code": "stalls",
            "description": "摊位数量",
            "datatype": "number",
            "value": "3",
            "shown": "3",
        },
        {
            "code": "goods",
            "description": "售卖物品",
            "datatype": "multivaluelist",
            "value": ["food", "other"],
            "shown": "食品、other",
        },
        {
            "code": "seen_at",
            "description": "发现时间",
            "datatype": "datetime",
            "value": "2026-03-10T08:30:00+08:00",
            "shown": "2026-03-10 08:30",
        },
    ]
    assert case.service_attributes == kept
    assert case.events.get(kind=EventKind.CASE_REPORTED).data["attributes"] == kept


def test_a_question_left_unanswered_is_not_kept(questions, client, api_key, clock):
    answer = file_request(client, api_key, **{"attribute[stalls]": "2", "attribute[seen_at]": ""})
    assert answer.status_code == 201, answer.content
    case = Case.objects.get(reference=as_json(answer)[0]["service_request_id"])
    assert [a["code"] for a in case.service_attributes] == ["stalls"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({}, "摊位数量"),
        ({"attribute[stalls]": "  "}, "摊位数量"),
        ({"attribute[stalls]": "三个"}, "摊位数量"),
        ({"attribute[stalls]": "inf"}, "摊位数量"),
        ({"attribute[stalls]": ["1", "2"]}, "摊位数量"),
        ({"attribute[stalls]": "1", "attribute[goods][]": "drinks"}, "drinks"),
        ({"attribute[stalls]": "1", "attribute[seen_at]": "昨天"}, "发现时间"),
        ({"attribute[stalls]": "1", "attribute[blocking]": "yes"}, "blocking"),
        ({"attribute[stalls]": "1", "attribute[colour]": "red"}, "colour"),
    ],
)
def test_a_missing_or_bad_answer_is_the_standards_400_and_writes_nothing(
    questions, client, api_key, clock, fmt, given, named
):
    answer = file_request(client, api_key, fmt, **given)
    description = assert_open311_error(answer, fmt, 400)
    assert named in description
    assert domain_counts() == (0, 0, 0, 0)


def test_a_service_without_questions_refuses_answers(questions, client, api_key, clock):
    answer = file_request(client, api_key, service_code=GARBAGE, **{"attribute[stalls]": "1"})
    assert "stalls" in assert_open311_error(answer, "json", 400)


def test_the_township_reads_the_answers_on_the_case_page(
    api_city, questions, client, api_key, clock
):
    answer = file_request(
        client, api_key, **{"attribute[stalls]": "4", "attribute[goods][]": "goods"}
    )
    reference = as_json(answer)[0]["service_request_id"]
    township = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    township.force_login(api_city.dispatcher)
    page = township.get(f"/cases/{reference}/").content.decode()
    assert "摊位数量" in page and "售卖物品" in page and "日用品" in page


@pytest.mark.parametrize(
    ("datatype", "values", "field"),
    [
        (AttributeDatatype.SINGLEVALUELIST, "", "values"),
        (AttributeDatatype.STRING, "a=甲", "values"),
        (AttributeDatatype.MULTIVALUELIST, "a=甲\na=乙", "values"),
    ],
)
def test_the_admin_refuses_a_question_whose_choices_do_not_fit(api_city, datatype, values, field):
    question = CategoryAttribute(
        category=api_city.street_vending,
        code="kind",
        datatype=datatype,
        description="种类",
        values=values,
    )
    with pytest.raises(ValidationError) as refused:
        question.full_clean()
    assert field in refused.value.message_dict
