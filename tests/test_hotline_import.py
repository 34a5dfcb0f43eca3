"""Work orders in bulk: the hotline platform's export (XLSX or CSV) imported by the township.

On a frozen clock: Tuesday 12 May 2026, 09:00 Beijing time, 龙潭街道's dispatcher imports
the morning's export. The columns are the district's data; every bad row is reported and a
file with one writes nothing; a file imported twice takes each order once.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import translation
from openpyxl import Workbook

from tests.fixtures_cases import (
    OFF_ANY_LANE,
    ON_THE_LANE,
    beijing,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from whistle.cases.hotline_import import ExportUnreadable, import_hotline_orders, read_export
from whistle.cases.models import Case, Event, HotlineOrder
from whistle.cases.trail import EventKind
from whistle.notifications.models import Notification
from whistle.policies.models import Category, HotlineImportMapping

T0 = beijing(2026, 5, 12, 9, 0)
HEADERS = ["工单编号", "来电时间", "来电人", "联系电话", "诉求内容", "经度", "纬度", "紧急程度"]


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def row(number: str | float, **changes: Any) -> list[Any]:
    values = {
        "工单编号": number,
        "来电时间": "2026-05-12 08:40",
        "来电人": "王小明",
        "联系电话": "13812341234",
        "诉求内容": "人民市场东巷有游商占道经营",
        "经度": ON_THE_LANE[0],
        "纬度": ON_THE_LANE[1],
        "紧急程度": "一般",
    }
    values.update(changes)
    return [values[h] for h in HEADERS]


def csv_bytes(rows: list[list[Any]], headers: list[str] = HEADERS, encoding: str = "utf-8-sig"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]], headers: list[str] = HEADERS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run(city: Any, name: str, content: bytes, actor: Any = "dispatcher"):
    headers, rows = read_export(name, content)
    person = city.dispatcher if actor == "dispatcher" else actor
    return import_hotline_orders(person, city.district, headers, rows)


def test_an_xlsx_export_becomes_cases_with_the_limits_of_their_classes(whistle_city, clock):
    content = xlsx_bytes(
        [
            row("2026051200001"),
            # Excel stores a long number as a float; it is read back as the order number.
            row(2026051200002.0, 紧急程度="紧急", 来电时间=datetime(2026, 5, 12, 8, 50)),  # noqa: DTZ001  (Excel has no zones)
        ]
    )
    outcome = run(whistle_city, "12345导出.xlsx", content)
    assert outcome.ok and outcome.rows == 2 and len(outcome.created) == 2
    general, emergency = (
        HotlineOrder.objects.get(number=n) for n in ("2026051200001", "2026051200002")
    )
    assert (general.deadline_class, general.respond_due_at) == ("general", T0 + timedelta(days=7))
    assert (emergency.deadline_class, emergency.respond_due_at) == (
        "emergency",
        T0 + timedelta(hours=2),
    )
    assert general.called_at == beijing(2026, 5, 12, 8, 40)
    assert emergency.called_at == beijing(2026, 5, 12, 8, 50)
    case = general.case
    assert (case.status, case.source, case.reporter_phone) == (
        Case.Status.REPORTED,
        Case.Source.HOTLINE,
        "13812341234",
    )


def test_a_gb18030_csv_export_is_read_too(whistle_city, clock):
    outcome = run(whistle_city, "export.csv", csv_bytes([row("A-1")], encoding="gb18030"))
    assert outcome.ok
    assert HotlineOrder.objects.get().case.description == "人民市场东巷有游商占道经营"


def test_every_bad_row_is_reported_and_nothing_is_written(whistle_city, clock):
    content = csv_bytes(
        [
            row("2026051200001"),
            row("2026 0512"),
            row("2026051200003", 经度="东经116度"),
            row("2026051200004", 来电人="", 联系电话=""),
            row("2026051200005", 紧急程度="火急火燎"),
            row("2026051200006", 来电时间="昨天上午"),
            row("2026051200007", 经度=100.0, 纬度=30.0),
        ]
    )
    outcome = run(whistle_city, "export.csv", content)
    assert not outcome.ok
    assert [(p.row, p.column) for p in outcome.problems] == [
        (3, "工单编号"),
        (4, "经度"),
        (5, "来电人"),
        (6, "紧急程度"),
        (7, "来电时间"),
        (8, "经度"),
    ]
    assert "2026 0512" in outcome.problems[0].message
    assert (outcome.created, outcome.existing) == ([], [])
    assert not Case.objects.exists() and not HotlineOrder.objects.exists()
    assert not Event.objects.exists() and not Notification.objects.exists()


def test_callers_phones_are_kept_in_their_normal_form_and_a_malformed_one_is_reported(
    whistle_city, clock
):
    good = [
        row("2026051200001", 联系电话="139 0000 1234"),
        row("2026051200002", 联系电话="0086 10-6512 3456"),
    ]
    content = csv_bytes([*good, row("2026051200003", 联系电话="6512 3456")])
    refused = run(whistle_city, "export.csv", content)
    assert [(p.row, p.column) for p in refused.problems] == [(4, "联系电话")]
    assert "6512 3456 不是可以回拨的号码" in refused.problems[0].message
    assert not HotlineOrder.objects.exists()
    with translation.override("en"):
        english = run(whistle_city, "export.csv", content)
        assert "6512 3456 is not a number to call back" in english.problems[0].message
    outcome = run(whistle_city, "export.csv", csv_bytes(good))
    assert outcome.ok
    assert [t.case.reporter_phone for t in outcome.created] == ["13900001234", "01065123456"]


def test_a_row_without_its_order_number_is_refused_whatever_its_channel(whistle_city, clock):
    headers = [*HEADERS, "来源"]
    content = csv_bytes([[*row(""), "其他"], [*row("2026051200002"), "其他"]], headers=headers)
    outcome = run(whistle_city, "export.csv", content)
    assert [(p.row, p.column) for p in outcome.problems] == [(2, "工单编号")]
    assert "导出文件只有凭工单编号才能安全地重复导入" in outcome.problems[0].message
    assert not HotlineOrder.objects.exists()


def test_a_file_imported_twice_takes_each_order_once(whistle_city, clock):
    content = xlsx_bytes([row("2026051200001"), row("2026051200002")])
    first = run(whistle_city, "a.xlsx", content)
    clock.move_to(T0 + timedelta(minutes=5))
    again = run(
        whistle_city,
        "b.xlsx",
        xlsx_bytes([row("2026051200002"), row("2026051200003"), row("2026051200003")]),
    )
    assert [t.order.number for t in first.created] == ["2026051200001", "2026051200002"]
    assert [t.order.number for t in again.created] == ["2026051200003"]
    assert [t.order.number for t in again.existing] == ["2026051200002", "2026051200003"]
    assert again.existing[0].case == first.created[1].case
    assert HotlineOrder.objects.count() == 3
    assert Event.objects.filter(kind=EventKind.CASE_REPORTED).count() == 3


def test_the_columns_are_the_districts_data(whistle_city, clock):
    headers = ["Ticket", "Text", "X", "Y", "Who", "Tel"]
    content = csv_bytes(
        [["T-1", "路灯不亮", OFF_ANY_LANE[0], OFF_ANY_LANE[1], "李女士", "13900001111"]],
        headers=headers,
    )
    with pytest.raises(ExportUnreadable, match="工单编号"):
        run(whistle_city, "export.csv", content)
    HotlineImportMapping.objects.create(
        district=whistle_city.district,
        columns={
            "order_number": ["Ticket"],
            "description": ["Text"],
            "lon": ["X"],
            "lat": ["Y"],
            "caller_name": ["Who"],
            "caller_phone": ["Tel"],
        },
    )
    outcome = run(whistle_city, "export.csv", content)
    assert outcome.ok
    order = HotlineOrder.objects.get()
    assert (order.number, order.case.reporter_name, order.deadline_class) == (
        "T-1",
        "李女士",
        "general",
    )


def test_a_dispatcher_imports_only_orders_of_their_township(whistle_city, clock):
    outcome = run(
        whistle_city, "export.csv", csv_bytes([row("X-1")]), whistle_city.dongsi_dispatcher
    )
    assert [(p.row, p.column) for p in outcome.problems] == [(2, "")]
    assert not HotlineOrder.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("export.pdf", b"%PDF", "XLSX"),
        ("export.xlsx", b"not a workbook", "Excel"),
        ("export.csv", b"", "空"),
    ],
)
def test_a_file_that_is_not_an_export_is_refused_as_a_whole(name, content, message):
    with pytest.raises(ExportUnreadable, match=message):
        read_export(name, content)


@pytest.mark.parametrize(("language", "between"), [("zh-hans", "、"), ("en", ", ")])
def test_the_missing_columns_are_listed_as_the_language_writes_a_list(
    whistle_city, clock, language, between
):
    content = csv_bytes([["路灯不亮", "李女士"]], headers=["Text", "Who"])
    with translation.override(language), pytest.raises(ExportUnreadable) as refused:
        run(whistle_city, "export.csv", content)
    message = str(refused.value)
    assert f"Text{between}Who" in message
    assert ("、" in message) == (language == "zh-hans")


def test_without_coordinates_the_lane_places_the_order_halfway_along_it(whistle_city, clock):
    headers = ["工单编号", "诉求内容", "街巷", "来电人"]
    content = csv_bytes(
        [
            ["L-1", "路灯不亮", "人民市场东巷", "李女士"],
            ["L-2", "路面破损", "不存在的胡同", "李女士"],
            ["L-3", "井盖缺失", "", "李女士"],
        ],
        headers=headers,
    )
    outcome = run(whistle_city, "export.csv", content)
    assert [(p.row, p.column) for p in outcome.problems] == [(3, "街巷"), (4, "街巷")]
    assert "不存在的胡同" in outcome.problems[0].message
    assert not HotlineOrder.objects.exists()
    corrected = csv_bytes([["L-1", "路灯不亮", "人民市场东巷", "李女士"]], headers=headers)
    assert run(whistle_city, "export.csv", corrected).ok
    case = HotlineOrder.objects.get().case
    assert (case.lane, case.township) == (whistle_city.lane, whistle_city.longtan)


def test_without_coordinates_or_lane_the_address_names_the_lane(whistle_city, clock):
    headers = ["工单编号", "诉求内容", "诉求地址", "来电人"]
    content = csv_bytes(
        [
            ["A-1", "路灯不亮", "北京市东城区龙潭街道人民市场东巷３号门前", "李女士"],
            ["A-2", "路面破损", "东城区某某路1号", "李女士"],
            ["A-3", "井盖缺失", "", "李女士"],
        ],
        headers=headers,
    )
    outcome = run(whistle_city, "export.csv", content)
    assert [(p.row, p.column) for p in outcome.problems] == [(3, "诉求地址"), (4, "诉求地址")]
    assert "街巷" in outcome.problems[0].message
    assert not HotlineOrder.objects.exists()
    corrected = csv_bytes(
        [["A-1", "路灯不亮", "北京市东城区龙潭街道人民市场东巷３号门前", "李女士"]],
        headers=headers,
    )
    assert run(whistle_city, "export.csv", corrected).ok
    case = HotlineOrder.objects.get().case
    assert (case.lane, case.township) == (whistle_city.lane, whistle_city.longtan)
    assert case.address == "北京市东城区龙潭街道人民市场东巷３号门前"


def test_the_category_is_read_by_its_code_its_name_or_its_english_name(whistle_city, clock):
    vending, garbage = whistle_city.street_vending, whistle_city.exposed_garbage
    vending.name_en = "Street vending"
    vending.save(update_fields=["name_en"])
    # Another major class's category with the same Chinese name: the name alone is ambiguous.
    twin = Category.objects.create(major=garbage.major, code="07", name=vending.name)
    headers = ["工单编号", "诉求内容", "经度", "纬度", "来电人", "诉求类别"]
    place = [ON_THE_LANE[0], ON_THE_LANE[1], "李女士"]
    rows = [
        ["C-1", "游商", *place, "street  VENDING"],
        ["C-2", "游商", *place, f"{vending.full_code} Street vending"],
        ["C-3", "垃圾", *place, garbage.full_code],
        ["C-4", "垃圾", *place, f"{garbage.full_code} {garbage.name}"],
        ["C-5", "垃圾", *place, garbage.name],
    ]
    with translation.override("zh-hans"):
        outcome = run(whistle_city, "export.csv", csv_bytes(rows, headers=headers))
    assert outcome.ok, outcome.problems
    assert [HotlineOrder.objects.get(number=f"C-{n}").case.category for n in range(1, 6)] == [
        vending,
        vending,
        garbage,
        garbage,
        garbage,
    ]

    bad = [
        ["D-1", "游商", *place, "Hawkers"],
        ["D-2", "游商", *place, vending.name],
        ["D-3", "游商", *place, f"{twin.full_code} {twin.name}"],
    ]
    with translation.override("en"):
        outcome = run(whistle_city, "export.csv", csv_bytes(bad, headers=headers))
    assert [(p.row, p.column) for p in outcome.problems] == [(2, "诉求类别"), (3, "诉求类别")]
    assert "English name" in outcome.problems[0].message
    assert "4-digit code" in outcome.problems[1].message
    assert not HotlineOrder.objects.filter(number__startswith="D-").exists()
