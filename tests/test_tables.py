"""Uploaded tables: the first sheet of a workbook or a CSV file in either of Excel's
encodings, the header row first; a file that is no table is refused as a whole."""

from __future__ import annotations

import io

import pytest
from django.utils import translation
from openpyxl import Workbook

from whistle.organisation.tables import TableUnreadable, cell_text, read_table

ROWS = [["工单编号", "诉求内容"], ["2026051200001", "路灯不亮"]]


def csv_bytes(encoding: str) -> bytes:
    return "\r\n".join(",".join(row) for row in ROWS).encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_a_csv_file_in_any_of_excels_encodings_reads_the_same(encoding):
    assert read_table("export.csv", csv_bytes(encoding)) == ROWS


def test_a_workbooks_first_sheet_is_read_and_a_stored_number_reads_as_written():
    workbook = Workbook()
    workbook.active.append(ROWS[0])
    workbook.active.append([2026051200001.0, "路灯不亮"])
    workbook.create_sheet("其他").append(["不读"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    header, row = read_table("export.xlsx", buffer.getvalue())
    assert header == ROWS[0]
    assert [cell_text(value) for value in row] == ROWS[1]


def test_a_workbook_is_read_only_one_row_past_the_limit():
    workbook = Workbook()
    for n in range(50):
        workbook.active.append([f"row {n}"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert len(read_table("big.xlsx", buffer.getvalue(), max_rows=10)) == 12


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("export.pdf", b"%PDF", "XLSX"),
        ("export.xlsx", b"not a workbook", "Excel"),
        ("export.csv", b"", "空"),
        ("export.csv", b",,\r\n1,2,3", "空"),
        ("export.csv", b"a,b\x00c", "CSV"),
        ("export.csv", b"\x81\x30\xff\xff", "GB18030"),
    ],
)
def test_a_file_that_is_no_table_is_refused_in_the_users_language(name, content, says):
    with pytest.raises(TableUnreadable, match=says):
        read_table(name, content)


@pytest.mark.parametrize(
    ("language", "says"),
    [
        (
            "zh-hans",
            "该文件不是 Excel 工作簿（.xlsx），或已损坏：请在 Excel 中另存为 .xlsx 或 .csv 文件。",
        ),
        (
            "en",
            "The file is not an Excel workbook (.xlsx), or it is damaged: save it from Excel "
            "as an .xlsx or .csv file.",
        ),
    ],
)
@pytest.mark.parametrize("content", [b"%PDF-1.7 not a workbook", b"PK\x03\x04 cut short"])
def test_a_file_that_is_no_workbook_is_refused_without_the_readers_own_words(
    language, says, content
):
    with translation.override(language), pytest.raises(TableUnreadable) as refused:
        read_table("export.xlsx", content)
    assert str(refused.value) == says
