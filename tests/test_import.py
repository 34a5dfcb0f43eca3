"""`whistle import`: a district loads its own structure from CSV, XLSX and GeoJSON files.

The district's data officer, Ms Han, prepares the files; every test reads like one of her
imports going right or wrong.
"""

from __future__ import annotations

import csv
import json
import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from openpyxl import Workbook

from tests.conftest import square
from whistle.importing.pipeline import run_import
from whistle.importing.registry import IMPORTERS, KINDS
from whistle.importing.sources import SourceError, open_source
from whistle.organisation.models import (
    CentreMembership,
    Department,
    GridCell,
    Jurisdiction,
    Lane,
    Person,
    Role,
    RoleAssignment,
    Sector,
)
from whistle.policies.models import CalendarDay, CalendarYear, Category, MajorClass

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "docs" / "examples" / "import"
MODELS = (
    Jurisdiction,
    GridCell,
    Lane,
    Sector,
    Department,
    Person,
    RoleAssignment,
    CentreMembership,
    MajorClass,
    Category,
    CalendarDay,
    CalendarYear,
)


def line(*points: tuple[float, float]) -> str:
    return json.dumps({"type": "LineString", "coordinates": [list(p) for p in points]})


def write_csv(folder: Path, name: str, rows: list[list[Any]], encoding: str = "utf-8") -> Path:
    path = folder / name
    with path.open("w", encoding=encoding, newline="") as stream:
        csv.writer(stream).writerows(rows)
    return path


def write_geojson(folder: Path, name: str, features: list[tuple[dict, dict | None]]) -> Path:
    path = folder / name
    document = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": properties, "geometry": geometry}
            for properties, geometry in features
        ],
    }
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def do_import(kind: str, path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import", kind, str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def failed_import(kind: str, path: Path, *args: str) -> tuple[str, str]:
    """Run an import that must fail; return the error lines and the closing message."""
    err = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("import", kind, str(path), *args, stdout=StringIO(), stderr=err)
    return err.getvalue(), str(failure.value)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def example_kind(path: Path) -> str:
    return re.sub(r"^\d+-", "", path.stem)


# --- the example files ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_example_files_import_cleanly_into_an_empty_database_in_order():
    files = sorted(EXAMPLES.iterdir())
    assert [example_kind(f) for f in files] == [importer.kind for importer in IMPORTERS]
    for path in files:
        output = do_import(example_kind(path), path)
        assert "已导入" in output, output
    lane = Lane.objects.get(name="人民市场东巷")
    assert lane.township.code == "110101015"
    assert lane.length_m == pytest.approx(204, abs=1)
    assert Jurisdiction.objects.get(code="110101015001").parent == lane.township
    centre = CentreMembership.objects.filter(township__code="110101015")
    assert centre.filter(role="core").count() == 1
    assert centre.filter(role="stationed").count() == 5
    assert RoleAssignment.objects.get(person__username="zhao.lei").lane == lane
    assert Category.objects.get(major__code="01", code="02", major__kind="event").name == "暴露垃圾"
    assert CalendarDay.objects.filter(date__year=2027, is_workday=False).count() == 10


@pytest.mark.django_db
def test_importing_the_example_files_twice_changes_nothing_the_second_time():
    files = sorted(EXAMPLES.iterdir())
    for path in files:
        do_import(example_kind(path), path)
    before = counts()
    for path in files:
        output = do_import(example_kind(path), path)
        assert re.search(r"新建 [1-9]|更新 [1-9]", output) is None, output
        assert "不变" in output
    assert counts() == before


# --- one happy path per kind, in CSV ------------------------------------------------------


@pytest.mark.django_db
def test_it_imports_a_township_and_its_communities_from_csv(small_city, tmp_path):
    path = write_csv(
        tmp_path,
        "places.csv",
        [
            ["code", "name", "level", "form", "parent"],
            ["110101016", "天坛街道", "township", "street_office", ""],
            ["110101016001", "天坛东里社区", "", "community", ""],
            ["110101016002", "金鱼池社区", "社区", "", "110101016"],
        ],
    )
    output = do_import("jurisdictions", path)
    assert "行政区划：新建 3，更新 0，不变 0" in output
    tiantan = Jurisdiction.objects.get(code="110101016")
    assert tiantan.parent == small_city.district
    assert tiantan.level == "township" and tiantan.form == "street_office"
    assert Jurisdiction.objects.get(code="110101016002").parent == tiantan
    assert Jurisdiction.objects.get(code="110101016001").level == "community"


@pytest.mark.django_db
def test_it_imports_grid_cells_with_boundaries_from_csv(small_city, tmp_path):
    path = write_csv(
        tmp_path,
        "grid.csv",
        [
            ["code", "community", "boundary"],
            ["110101015001001", "", json.dumps(square(116.43, 39.87, 0.002))],
            ["110101015001002", "110101015001", ""],
        ],
    )
    output = do_import("grid-cells", path)
    assert "网格：新建 2" in output
    cell = GridCell.objects.get(code="110101015001001")
    assert cell.community == small_city.xizhaosi
    assert cell.min_lon == pytest.approx(116.43)
    assert GridCell.objects.get(code="110101015001002").boundary is None


@pytest.mark.django_db
def test_it_imports_lanes_with_their_centre_lines_from_csv(small_city, tmp_path):
    path = write_csv(
        tmp_path,
        "lanes.csv",
        [
            ["name", "township", "community", "centre_line", "checklist"],
            [
                "夕照寺街",
                "110101015",
                "110101015001",
                line((116.4305, 39.8712), (116.4338, 39.8712)),
                "无违法建设、无乱停车",
            ],
            ["东四七条", "", "110101006001", line((116.412, 39.926), (116.416, 39.926)), ""],
        ],
    )
    output = do_import("lanes", path)
    assert "街巷：新建 2，更新 0，不变 0" in output
    lane = Lane.objects.get(name="夕照寺街")
    assert lane.township == small_city.longtan
    assert lane.checklist == ["无违法建设", "无乱停车"]
    assert lane.length_m == pytest.approx(282, abs=2)
    assert Lane.objects.get(name="东四七条").township == small_city.dongsi


@pytest.mark.django_db
def test_it_imports_sectors_from_csv(tmp_path):
    path = write_csv(
        tmp_path, "sectors.csv", [["code", "name"], ["fire", "消防"], ["parks", "园林"]]
    )
    do_import("sectors", path)
    assert dict(Sector.objects.values_list("code", "name")) == {"fire": "消防", "parks": "园林"}


@pytest.mark.django_db
def test_it_imports_the_sectors_english_names_and_keeps_them_when_the_column_is_absent(
    tmp_path,
):
    path = write_csv(
        tmp_path,
        "sectors.csv",
        [["代码", "名称", "英文名称"], ["fire", "消防", "Fire and rescue"], ["parks", "园林", ""]],
    )
    do_import("sectors", path)
    assert dict(Sector.objects.values_list("code", "name_en")) == {
        "fire": "Fire and rescue",
        "parks": "",
    }
    # A file without the column changes the name and leaves the English name as it was.
    again = write_csv(tmp_path, "again.csv", [["code", "name"], ["fire", "消防救援"]])
    do_import("sectors", again, "--update")
    assert Sector.objects.get(code="fire").name == "消防救援"
    assert Sector.objects.get(code="fire").name_en == "Fire and rescue"


@pytest.mark.django_db
def test_it_imports_departments_with_the_townships_they_serve_from_csv(small_city, tmp_path):
    path = write_csv(
        tmp_path,
        "departments.csv",
        [
            ["code", "name", "kind", "sector", "district", "serves", "phone", "active"],
            [
                "dc-dongsi-pcs",
                "东四派出所",
                "dispatched",
                "公安",
                "110101",
                "110101006",
                "010-0000",
                "是",
            ],
            ["dc-fire", "东城区消防救援支队", "区职能部门", "urban_management", "", "", "", ""],
        ],
    )
    output = do_import("departments", path, "--district", "110101")
    assert "部门：新建 2" in output
    station = Department.objects.get(code="dc-dongsi-pcs")
    assert station.sector.code == "public_security"
    assert list(station.serves.all()) == [small_city.dongsi]
    assert station.phone == "010-0000" and station.is_active
    fire = Department.objects.get(code="dc-fire")
    assert fire.district == small_city.district and fire.kind == "functional"


@pytest.mark.django_db
def test_it_imports_a_townships_enforcement_centre_from_csv(small_city, tmp_path):
    officer = Person.objects.create_user("zhou.yang", name="周洋")
    path = write_csv(
        tmp_path,
        "centre.csv",
        [
            ["township", "department", "role", "people"],
            ["110101015", "dc-cgw", "1", ""],
            ["110101015", "dc-longtan-pcs", "stationed", "zhou.yang"],
        ],
    )
    output = do_import("centre", path)
    assert "新建 2" in output
    core = CentreMembership.objects.get(township=small_city.longtan, role="core")
    assert core.department == small_city.urban_management
    stationed = CentreMembership.objects.get(department=small_city.police)
    assert list(stationed.people.all()) == [officer]


@pytest.mark.django_db
def test_it_imports_people_with_their_roles_and_scopes_from_csv(small_city, tmp_path):
    hashed = make_password("lane-2026")
    path = write_csv(
        tmp_path,
        "people.csv",
        [
            ["username", "name", "password_hash", "role", "jurisdiction", "lane", "department"],
            ["zhao.lei", "赵磊", hashed, "lane_chief", "110101015", "人民市场东巷", ""],
            ["zhao.lei", "", "", "dispatcher", "110101015", "", ""],
            ["sun.hao", "孙浩", "", "部门执法人员", "", "", "dc-cgw"],
            ["resident.li", "李大爷", "", "", "", "", ""],
        ],
    )  # fmt: skip
    output = do_import("people", path)
    assert "人员：新建 3" in output
    assert "角色：新建 3" in output
    assert "2 名新人员尚无密码" in output
    lane_chief = Person.objects.get(username="zhao.lei")
    assert lane_chief.check_password("lane-2026")
    assert set(lane_chief.roles.values_list("role", "lane__name", "jurisdiction__code")) == {
        (Role.LANE_CHIEF, "人民市场东巷", None),
        (Role.DISPATCHER, None, "110101015"),
    }
    officer = Person.objects.get(username="sun.hao")
    assert not officer.has_usable_password()
    assert officer.roles.get().department == small_city.urban_management
    assert not Person.objects.get(username="resident.li").roles.exists()


@pytest.mark.django_db
def test_a_category_file_with_arrival_limits_imports_saying_they_were_ignored(small_city, tmp_path):
    # A whistle's arrival limit is the district's whistle rule, the same for every category.
    path = write_csv(
        tmp_path,
        "categories.csv",
        [
            ["district", "kind", "major_code", "major_name", "code", "name", "到场时限",
             "到场时限单位"],
            ["110101", "event", "01", "市容环境", "02", "暴露垃圾", "20", "分钟"],
        ],
    )  # fmt: skip
    out, err = StringIO(), StringIO()
    call_command("import", "categories", str(path), stdout=out, stderr=err)
    assert "问题分类：新建 1" in out.getvalue()
    assert err.getvalue().count("本导入不读取此列，已忽略") == 2
    assert Category.objects.filter(name="暴露垃圾").exists()


@pytest.mark.django_db
def test_it_imports_categories_with_time_limits_and_responsible_sectors_from_csv(
    small_city, tmp_path
):
    path = write_csv(
        tmp_path,
        "categories.csv",
        [
            ["district", "kind", "major_code", "major_name", "code", "name", "keywords",
             "responsible_sectors", "acknowledge_within", "acknowledge_unit", "resolve_within",
             "resolve_unit", "active"],
            ["110101", "event", "01", "市容环境", "02", "暴露垃圾", "垃圾，垃圾堆",
             "urban_management", "20", "分钟", "4", "工作小时", ""],
            ["110101", "event", "", "", "0104", "道路不洁", "", "城市管理、公安", "", "", "2",
             "working_hours", "否"],
        ],
    )  # fmt: skip
    output = do_import("categories", path)
    assert "问题大类：新建 1" in output and "问题分类：新建 2" in output
    garbage = Category.objects.get(name="暴露垃圾")
    assert garbage.major.name == "市容环境" and garbage.full_code == "0102"
    assert garbage.keywords == "垃圾,垃圾堆"
    assert (garbage.acknowledge_within, garbage.acknowledge_unit) == (20, "natural_minutes")
    assert (garbage.resolve_within, garbage.resolve_unit) == (4, "working_hours")
    roads = Category.objects.get(code="04")
    assert roads.major == garbage.major and not roads.is_active
    assert set(roads.responsible_sectors.values_list("code", flat=True)) == {
        "urban_management",
        "public_security",
    }


@pytest.mark.django_db
def test_it_imports_the_english_names_and_keywords_of_categories_and_major_classes(
    small_city, tmp_path
):
    path = write_csv(
        tmp_path,
        "categories.csv",
        [
            ["所属区", "部件或事件", "大类代码", "大类名称", "大类英文名称", "小类代码",
             "小类名称", "小类英文名称", "英文关键词"],
            ["110101", "事件", "01", "市容环境", "Cityscape and environment", "02", "暴露垃圾",
             "Exposed garbage", "rubbish bag; dumped"],
            ["110101", "事件", "01", "", "", "04", "道路不洁", "", ""],
        ],
    )  # fmt: skip
    do_import("categories", path)
    garbage = Category.objects.get(name="暴露垃圾")
    assert garbage.name_en == "Exposed garbage"
    assert garbage.keywords_en == "rubbish bag,dumped"
    assert garbage.major.name_en == "Cityscape and environment"
    road = Category.objects.get(name="道路不洁")
    assert (road.name_en, road.keywords_en) == ("", "")


@pytest.mark.django_db
def test_it_imports_holidays_and_moved_workdays_and_marks_the_year_complete(tmp_path):
    path = write_csv(
        tmp_path,
        "calendar.csv",
        [
            ["date", "type", "name"],
            ["2027-10-01", "holiday", "国庆节"],
            ["2027年10月2日", "休", "国庆节"],
            ["2027/10/9", "班", "国庆节调休"],
        ],
    )
    output = do_import("calendar", path, "--complete", "--source", "国务院办公厅通知")
    assert "日历调整：新建 3" in output
    assert CalendarDay.objects.get(date="2027-10-09").is_workday
    assert not CalendarDay.objects.get(date="2027-10-02").is_workday
    year = CalendarYear.objects.get()
    assert (year.year, year.district, year.source) == (2027, None, "国务院办公厅通知")


# --- other formats -------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_imports_departments_from_an_excel_workbook_with_numeric_codes(small_city, tmp_path):
    workbook = Workbook()
    cover = workbook.active
    cover.title = "说明"
    cover.append(["本工作簿的第二张表是部门名单"])
    sheet = workbook.create_sheet("部门")
    sheet.append(["部门代码", "部门名称", "类别", "职能领域", "所属区", "服务范围", "启用"])
    sheet.append(
        [
            "dc-dongsi-zfd",
            "东四街道综合执法队",
            "街乡执法队",
            "urban_management",
            110101,
            110101006,
            True,
        ]
    )
    sheet.append([])
    sheet.append(
        ["dc-parks", "东城区园林绿化局", "区职能部门", "urban_management", 110101.0, None, None]
    )
    workbook.save(tmp_path / "departments.xlsx")  # fmt: skip

    output = do_import("departments", tmp_path / "departments.xlsx", "--sheet", "部门")

    assert "部门：新建 2" in output
    team = Department.objects.get(code="dc-dongsi-zfd")
    assert list(team.serves.all()) == [small_city.dongsi]
    assert Department.objects.get(code="dc-parks").district == small_city.district


@pytest.mark.django_db
def test_an_excel_error_names_the_row_a_person_sees_in_the_sheet(small_city, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["code", "name"])
    sheet.append(["fire", "消防"])
    sheet.append([None, None])
    sheet.append(["", "园林"])
    workbook.save(tmp_path / "sectors.xlsx")
    errors, _summary = failed_import("sectors", tmp_path / "sectors.xlsx")
    assert errors.strip() == "第 4 行，「code」列：此项必填"


@pytest.mark.django_db
def test_it_imports_lanes_from_geojson_with_chinese_property_names(small_city, tmp_path):
    path = write_geojson(
        tmp_path,
        "lanes.geojson",
        [
            (
                {"街巷名称": "夕照寺西里", "街乡代码": "110101015", "巡查清单": ["无乱停车"]},
                {"type": "LineString", "coordinates": [[116.431, 39.871], [116.431, 39.873]]},
            ),
        ],
    )
    do_import("lanes", path)
    lane = Lane.objects.get(name="夕照寺西里")
    assert lane.checklist == ["无乱停车"]
    assert lane.centre_line["coordinates"] == [[116.431, 39.871], [116.431, 39.873]]


@pytest.mark.django_db
def test_it_imports_township_boundaries_from_geojson(small_city, tmp_path):
    path = write_geojson(
        tmp_path,
        "townships.geojson",
        [({"code": 110101016, "name": "天坛街道"}, square(116.40, 39.87))],
    )
    do_import("jurisdictions", path)
    tiantan = Jurisdiction.objects.get(code="110101016")
    assert tiantan.boundary == square(116.40, 39.87)
    assert tiantan.contains_point(116.405, 39.875)


@pytest.mark.django_db
def test_it_reads_a_gb18030_encoded_csv(small_city, tmp_path):
    path = write_csv(
        tmp_path,
        "sectors-gbk.csv",
        [["代码", "名称"], ["housing", "住房和城乡建设"], ["parks", "园林绿化"]],
        encoding="gb18030",
    )
    output = do_import("sectors", path)
    assert "GB18030" in output
    assert Sector.objects.get(code="housing").name == "住房和城乡建设"


@pytest.mark.django_db
def test_it_reads_a_utf8_csv_with_a_byte_order_mark_as_excel_writes_it(tmp_path):
    path = write_csv(
        tmp_path, "sectors.csv", [["代码", "名称"], ["parks", "园林绿化"]], "utf-8-sig"
    )
    do_import("sectors", path)
    assert Sector.objects.get(code="parks").name == "园林绿化"


@pytest.mark.django_db
def test_it_reads_the_tab_separated_unicode_text_that_excel_saves(tmp_path):
    path = tmp_path / "sectors.txt"
    path.write_text("代码\t名称\nparks\t园林绿化\n", encoding="utf-16")
    do_import("sectors", path)
    assert Sector.objects.get(code="parks").name == "园林绿化"


@pytest.mark.django_db
def test_chinese_headers_with_required_marks_and_notes_are_understood(small_city, tmp_path):
    path = write_csv(
        tmp_path,
        "lanes.csv",
        [
            ["*街巷名称", "街乡代码（9位）", "中心线 (GeoJSON)"],
            ["龙潭路", "110101015", line((116.43, 39.87), (116.44, 39.87))],
        ],
    )
    do_import("lanes", path)
    assert Lane.objects.filter(name="龙潭路", township=small_city.longtan).exists()


# --- errors --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_file_with_several_bad_rows_reports_every_one_and_imports_nothing(small_city, tmp_path):
    path = write_csv(
        tmp_path,
        "places.csv",
        [
            ["代码", "名称", "层级", "上级代码"],
            ["110101016", "天坛街道", "", ""],
            ["11010101", "八位代码", "", ""],
            ["110101017", "", "", ""],
            ["110101018", "永定门外街道", "大区", ""],
            ["110101019001", "体育馆路社区", "", "110101015"],
            ["110101016001", "天坛东里社区", "", ""],
        ],
    )
    before = counts()

    errors, summary = failed_import("jurisdictions", path)

    assert errors.splitlines() == [
        "第 3 行，「代码」列：「11010101」不是 6/9/12 位数字代码",
        "第 4 行，「名称」列：此项必填",
        "第 5 行，「层级」列：「大区」不是可选值，可选："
        "市（city）、区（district）、街乡（township）、社区/村（community）",
        "第 6 行，「代码」列：代码应以上级代码开头",
    ]
    assert summary == "places.csv 共有 4 处错误，未导入任何数据。"
    assert counts() == before


@pytest.mark.django_db
def test_errors_are_reported_in_english_when_asked(small_city, tmp_path):
    path = write_csv(tmp_path, "places.csv", [["code", "name"], ["110101016", ""]])
    errors, summary = failed_import("jurisdictions", path, "--language", "en")
    assert errors.strip() == "Row 2, column “name”: This cell must not be empty"
    assert summary == "1 error in places.csv; nothing was imported."


@pytest.mark.django_db
def test_a_lane_with_a_bad_centre_line_is_refused(small_city, tmp_path):
    path = write_csv(
        tmp_path,
        "lanes.csv",
        [
            ["name", "township", "centre_line"],
            ["一个点的巷", "110101015", line((116.43, 39.87))],
            ["越界的巷", "110101015", line((116.43, 39.87), (216.43, 39.87))],
            ["不是线的巷", "110101015", "[116.43, 39.87]"],
        ],
    )
    errors, _summary = failed_import("lanes", path)
    assert errors.splitlines() == [
        "第 2 行，「centre_line」列：不是有效的 GeoJSON 线（LineString）：线至少需要两个点",
        "第 3 行，「centre_line」列：不是有效的 GeoJSON 线（LineString）："
        "第 2 个点：[216.43, 39.87] 不是 WGS-84 经纬度",
        "第 4 行，「centre_line」列：不是有效的 GeoJSON 线（LineString）：图形不是线",
    ]
    assert not Lane.objects.filter(township=small_city.longtan).exclude(name="人民市场东巷")


@pytest.mark.django_db
def test_a_geojson_feature_with_a_polygon_where_a_line_belongs_is_refused(small_city, tmp_path):
    path = write_geojson(
        tmp_path,
        "lanes.geojson",
        [({"name": "面状的巷", "township": "110101015"}, square(116.43, 39.87))],
    )
    errors, _summary = failed_import("lanes", path)
    assert errors.strip() == (
        "第 1 个要素，属性「geometry」：不是有效的 GeoJSON 线（LineString）：图形不是线"
    )


@pytest.mark.django_db
def test_an_unclosed_boundary_is_refused(small_city, tmp_path):
    ring = [*square(116.40, 39.87)["coordinates"][0][:-1], [116.5, 39.9]]
    path = write_geojson(
        tmp_path,
        "townships.geojson",
        [({"code": "110101016", "name": "天坛街道"}, {"type": "Polygon", "coordinates": [ring]})],
    )
    errors, _summary = failed_import("jurisdictions", path)
    assert "第 1 个面的第 1 个环首尾不相连" in errors
    assert not Jurisdiction.objects.filter(code="110101016").exists()


@pytest.mark.django_db
def test_an_unknown_parent_code_is_reported_and_nothing_is_imported(small_city, tmp_path):
    path = write_csv(
        tmp_path,
        "lanes.csv",
        [
            ["name", "township", "centre_line"],
            ["龙潭路", "110101015", line((116.43, 39.87), (116.44, 39.87))],
            ["无主巷", "110101099", line((116.43, 39.87), (116.44, 39.87))],
        ],
    )
    errors, _summary = failed_import("lanes", path)
    assert errors.strip() == (
        "第 3 行，「township」列：数据库和文件前面各行中都没有代码为 110101099 的行政区划"
    )
    assert not Lane.objects.filter(name="龙潭路").exists()


@pytest.mark.django_db
def test_a_parent_must_come_before_its_children_in_the_file(small_city, tmp_path):
    path = write_csv(
        tmp_path,
        "places.csv",
        [
            ["code", "name"],
            ["110101016001", "天坛东里社区"],
            ["110101016", "天坛街道"],
        ],
    )
    errors, _summary = failed_import("jurisdictions", path)
    assert errors.strip() == (
        "第 2 行，「上级代码」列："
        "按代码前几位推定的上级 110101016，在数据库和文件前面各行中都不存在"
    )


@pytest.mark.django_db
def test_rows_below_a_bad_parent_are_not_blamed_for_its_error(small_city, tmp_path):
    path = write_csv(
        tmp_path,
        "places.csv",
        [
            ["code", "name", "boundary"],
            ["110101016", "天坛街道", '{"type": "Polygon"'],
            ["110101016001", "天坛东里社区", ""],
        ],
    )
    errors, _summary = failed_import("jurisdictions", path)
    assert len(errors.splitlines()) == 1
    assert errors.startswith("第 2 行，「boundary」列：不是有效的 GeoJSON")


@pytest.mark.django_db
def test_a_code_twice_in_the_same_file_is_reported(small_city, tmp_path):
    path = write_csv(
        tmp_path,
        "departments.csv",
        [
            ["code", "name", "kind", "sector", "district"],
            ["dc-parks", "东城区园林绿化局", "functional", "urban_management", "110101"],
            ["dc-parks", "东城区园林局", "functional", "urban_management", "110101"],
        ],
    )
    errors, _summary = failed_import("departments", path)
    assert errors.strip() == "第 3 行，「code」列：该代码已在第 2 行出现"
    assert not Department.objects.filter(code="dc-parks").exists()


@pytest.mark.django_db
def test_a_missing_required_column_is_reported_before_any_row(tmp_path):
    path = write_csv(tmp_path, "sectors.csv", [["代码", "备注"], ["parks", "园林"]])
    errors, _summary = failed_import("sectors", path)
    assert errors.splitlines() == [
        "提示：第 1 行，「备注」列：本导入不读取此列，已忽略",
        "第 1 行：缺少必填列「name」（或「名称」）",
    ]


@pytest.mark.django_db
def test_rows_outside_the_district_being_imported_are_refused(small_city, tmp_path):
    path = write_csv(
        tmp_path,
        "places.csv",
        [["code", "name"], ["110102001", "西长安街街道"], ["110101016", "天坛街道"]],
    )
    errors, _summary = failed_import("jurisdictions", path, "--district", "110101")
    assert "第 2 行，「code」列：110102001 不在本次导入的东城区（110101）范围内" in errors
    assert not Jurisdiction.objects.filter(code="110101016").exists()


@pytest.mark.django_db
def test_a_role_outside_its_allowed_scope_is_refused_by_the_models_own_rules(small_city, tmp_path):
    path = write_csv(
        tmp_path,
        "people.csv",
        [["username", "role", "jurisdiction"], ["zhao.lei", "lane_chief", "110101"]],
    )
    errors, _summary = failed_import("people", path)
    assert errors.strip() == "第 2 行，「role」列：角色“巷长”的范围应为：街巷"
    assert not Person.objects.filter(username="zhao.lei").exists()


@pytest.mark.django_db
def test_a_password_in_clear_is_refused(small_city, tmp_path):
    path = write_csv(tmp_path, "people.csv", [["用户名", "密码"], ["zhao.lei", "123456"]])
    errors, _summary = failed_import("people", path)
    assert errors.startswith("第 2 行，「密码」列：这不是密码哈希值。")


@pytest.mark.django_db
def test_a_township_centre_cannot_have_two_core_teams(small_city, tmp_path):
    CentreMembership.objects.create(
        township=small_city.longtan, department=small_city.urban_management, role="core"
    )
    path = write_csv(
        tmp_path,
        "centre.csv",
        [["township", "department", "role"], ["110101015", "dc-longtan-pcs", "core"]],
    )
    errors, _summary = failed_import("centre", path)
    assert errors.strip() == (
        "第 2 行，「role」列：每个街乡综合执法中心只有一支主体队伍；110101015 将有 2 支："
        "dc-cgw、dc-longtan-pcs"
    )


@pytest.mark.django_db
def test_a_department_of_another_district_cannot_join_a_townships_centre(small_city, tmp_path):
    xicheng = Jurisdiction.objects.create(
        level="district", code="110102", name="西城区", parent=small_city.city
    )
    Department.objects.create(
        code="xc-cgw",
        name="西城区城管执法局",
        kind="functional",
        sector=small_city.urban_management.sector,
        district=xicheng,
    )
    path = write_csv(
        tmp_path,
        "centre.csv",
        [["township", "department", "role"], ["110101015", "xc-cgw", "on_call"]],
    )
    errors, _summary = failed_import("centre", path)
    assert "西城区城管执法局 属于西城区，与龙潭街道不在同一个区" in errors


@pytest.mark.django_db
def test_a_moved_workday_on_a_weekday_is_refused(tmp_path):
    path = write_csv(tmp_path, "calendar.csv", [["日期", "类型"], ["2027-10-08", "班"]])
    errors, _summary = failed_import("calendar", path)
    assert errors.strip() == "第 2 行，「类型」列：调休上班日只能是周六或周日；2027-10-08 是星期五"


@pytest.mark.django_db
def test_a_calendar_day_outside_2000_to_2100_is_refused(tmp_path):
    path = write_csv(tmp_path, "calendar.csv", [["日期", "类型"], ["9999-12-08", "休"]])
    errors, _summary = failed_import("calendar", path)
    assert errors.strip() == "第 2 行，「日期」列：请输入 2000 至 2100 年之间的日期。"


@pytest.mark.django_db
def test_an_unreadable_file_is_reported_without_a_traceback(tmp_path):
    path = tmp_path / "lanes.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    errors, summary = failed_import("lanes", path)
    assert errors.startswith("JSON 格式错误")
    assert "1 处错误" in summary


# --- re-imports, conflicts, dry runs ------------------------------------------------------


@pytest.mark.django_db
def test_re_importing_the_same_file_is_idempotent(small_city, tmp_path):
    path = write_csv(
        tmp_path,
        "departments.csv",
        [
            ["code", "name", "kind", "sector", "district", "serves"],
            [
                "dc-longtan-pcs",
                "龙潭派出所",
                "dispatched",
                "public_security",
                "110101",
                "110101015",
            ],
            ["dc-dongsi-pcs", "东四派出所", "dispatched", "public_security", "110101", "110101006"],
        ],
    )
    first = do_import("departments", path)
    before = counts()
    second = do_import("departments", path)
    assert "部门：新建 1，更新 0，不变 1" in first
    assert "部门：新建 0，更新 0，不变 2" in second
    assert counts() == before


@pytest.mark.django_db
def test_a_changed_row_is_a_conflict_unless_update_is_asked_for(small_city, tmp_path):
    path = write_csv(
        tmp_path,
        "departments.csv",
        [
            ["code", "name", "kind", "sector", "district", "serves"],
            [
                "dc-longtan-pcs",
                "龙潭派出所",
                "dispatched",
                "public_security",
                "110101",
                "110101006",
            ],
        ],
    )
    errors, _summary = failed_import("departments", path)
    assert errors.strip() == (
        "第 2 行，「code」列：已存在且取值不同（服务范围「110101015」→「110101006」）；"
        "如需覆盖，请加 --update 重新导入"
    )
    assert list(small_city.police.serves.all()) == [small_city.longtan]

    output = do_import("departments", path, "--update")
    assert "部门：新建 0，更新 1，不变 0" in output
    assert list(small_city.police.serves.all()) == [small_city.dongsi]


@pytest.mark.django_db
def test_update_rewrites_a_lane_and_its_length(small_city, tmp_path):
    path = write_csv(
        tmp_path,
        "lanes.csv",
        [
            ["name", "township", "centre_line"],
            ["人民市场东巷", "110101015", line((116.432, 39.872), (116.432, 39.874))],
        ],
    )
    do_import("lanes", path, "--update")
    small_city.renmin_lane.refresh_from_db()
    assert small_city.renmin_lane.length_m == pytest.approx(222, abs=1)
    assert small_city.renmin_lane.community == small_city.xizhaosi


@pytest.mark.django_db
def test_a_dry_run_reports_what_would_happen_and_writes_nothing(small_city, tmp_path):
    path = write_csv(
        tmp_path,
        "places.csv",
        [["code", "name"], ["110101016", "天坛街道"], ["110101015", "龙潭街道"]],
    )
    before = counts()
    output = do_import("jurisdictions", path, "--dry-run")
    assert "试运行 places.csv（行政区划）：所有行均有效，未写入任何数据。" in output
    assert "行政区划：将新建 1，更新 0，不变 1" in output
    assert counts() == before


@pytest.mark.django_db
def test_a_dry_run_still_reports_errors(small_city, tmp_path):
    path = write_csv(tmp_path, "places.csv", [["code", "name"], ["110101016", ""]])
    errors, _summary = failed_import("jurisdictions", path, "--dry-run")
    assert "此项必填" in errors


# --- scale ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_checking_many_lanes_costs_a_few_queries_per_batch_not_one_per_row(
    small_city, tmp_path, django_assert_max_num_queries
):
    rows: list[list[Any]] = [["name", "township", "community", "centre_line"]]
    for i in range(1200):
        township, community = (
            ("110101015", "110101015001") if i % 2 else ("110101006", "110101006001")
        )
        lon = 116.40 + i * 0.00001
        rows.append([f"测试巷{i}", township, community, line((lon, 39.87), (lon, 39.871))])
    path = write_csv(tmp_path, "lanes.csv", rows)
    with django_assert_max_num_queries(12):
        result = run_import("lanes", path, dry_run=True)
    assert result.ok and result.rows == 1200
    assert result.tallies[0].created == 1200


# --- the documentation ---------------------------------------------------------------------


def test_the_format_document_names_every_kind_column_and_alias():
    document = (REPO / "docs" / "import.md").read_text(encoding="utf-8")
    for kind, importer in KINDS.items():
        assert f"`{kind}`" in document
        for column in importer.columns:
            for spelling in (column.name, *column.aliases):
                assert f"`{spelling}`" in document, (kind, spelling)


def test_no_two_columns_of_a_kind_share_a_spelling():
    from whistle.importing.base import header_key

    for importer in IMPORTERS:
        spellings = [
            header_key(s) for column in importer.columns for s in (column.name, *column.aliases)
        ]
        assert len(spellings) == len(set(spellings)), importer.kind


@pytest.mark.django_db
def test_a_short_row_still_has_its_required_cells_checked(small_city, tmp_path):
    path = tmp_path / "lanes.csv"
    path.write_text("name,township,centre_line\n龙潭路,110101015\n", encoding="utf-8")
    errors, _summary = failed_import("lanes", path)
    assert errors.strip() == "第 2 行，「centre_line」列：此项必填"


@pytest.mark.django_db
def test_a_lane_written_in_bulk_has_the_length_and_extent_its_own_save_would_give(
    small_city, tmp_path
):
    centre_line = {"type": "LineString", "coordinates": [[116.4305, 39.8712], [116.4338, 39.8722]]}
    path = write_csv(
        tmp_path,
        "lanes.csv",
        [["name", "township", "centre_line"], ["夕照寺街", "110101015", json.dumps(centre_line)]],
    )
    do_import("lanes", path)
    imported = Lane.objects.get(name="夕照寺街")
    saved = Lane.objects.create(name="对照巷", township=small_city.longtan, centre_line=centre_line)
    derived = ("length_m", "min_lon", "min_lat", "max_lon", "max_lat")
    assert [getattr(imported, f) for f in derived] == [getattr(saved, f) for f in derived]


@pytest.mark.django_db
def test_a_geojson_property_the_import_does_not_read_is_named_in_a_warning(small_city, tmp_path):
    path = write_geojson(
        tmp_path,
        "lanes.geojson",
        [
            (
                {"name": "夕照寺西里", "township": "110101015", "remark": "新修"},
                {"type": "LineString", "coordinates": [[116.431, 39.871], [116.431, 39.873]]},
            )
        ],
    )
    err = StringIO()
    call_command("import", "lanes", str(path), stdout=StringIO(), stderr=err)
    assert err.getvalue().strip() == "提示：属性「remark」：本导入不读取此列，已忽略"


@pytest.mark.parametrize(
    ("language", "says"),
    [
        (
            "zh-hans",
            "offices.xlsx 不是 Excel 工作簿（.xlsx），或已损坏："
            "请在 Excel 中另存为 .xlsx 或 .csv 文件。",
        ),
        (
            "en",
            "offices.xlsx is not an Excel workbook (.xlsx), or it is damaged: save it from "
            "Excel as an .xlsx or .csv file.",
        ),
    ],
)
def test_a_file_that_is_no_workbook_is_refused_without_the_readers_own_words(
    tmp_path, language, says
):
    path = tmp_path / "offices.xlsx"
    path.write_bytes(b"%PDF-1.7 not a workbook")
    with translation.override(language), pytest.raises(SourceError) as refused:
        open_source(path)
    assert str(refused.value) == says
