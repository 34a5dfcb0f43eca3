"""The assessment and district pages are Chinese first and complete in English: every
message of the district app has a Simplified Chinese translation, placeholders survive it,
and the English pages leave no Chinese word of the interface (only data: names, comments)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import time_machine

from tests.fixtures_assessment import bj, july_fixture  # noqa: F401  (fixture)
from tests.fixtures_district import (
    APPEALS,
    CENTRES,
    DEPARTMENT,
    HOME,
    RANKINGS,
    SCHEME,
    rate_july,
    scored_july_fixture,  # noqa: F401  (fixture)
)
from whistle.assessment.editing import appeal_with_photos

PO = (
    Path(__file__).resolve().parent.parent / "whistle/district/locale/zh_Hans/LC_MESSAGES/django.po"
)
CJK = re.compile(r"[\u4e00-\u9fff]+")
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def po_entries() -> list[tuple[str, str]]:
    text = PO.read_text(encoding="utf-8")
    entries = []
    for block in text.split("\n\n")[1:]:
        fields: dict[str, str] = {}
        current = None
        for line in block.splitlines():
            match = re.match(r"^(msgid|msgid_plural|msgstr(?:\[0\])?) (\".*\")$", line)
            if match:
                current = match.group(1)
                fields[current] = match.group(2)[1:-1]
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
        if "msgid" in fields:
            entries.append((fields["msgid"], fields.get("msgstr", fields.get("msgstr[0]", ""))))
    return entries


def test_every_district_message_has_a_chinese_translation():
    text = PO.read_text(encoding="utf-8")
    assert '"Language: zh_Hans\\n"' in text
    assert "#, fuzzy" not in text
    entries = po_entries()
    assert len(entries) > 200
    assert [msgid for msgid, msgstr in entries if not msgstr] == []


def test_placeholders_survive_translation():
    for msgid, msgstr in po_entries():
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(msgstr)), msgid


def interface_words(html: str, data: list[str]) -> set[str]:
    """Chinese runs of the page's main part that are not data (names, texts typed by
    people)."""
    main = html[html.index("<main") : html.index("</main>")]
    main = re.sub(r"<script.*?</script>", "", main, flags=re.S)
    for value in sorted(data, key=len, reverse=True):
        main = main.replace(value, "")
    return set(CJK.findall(main))


DATA = [
    "东城区城管执法局",
    "龙潭派出所",
    "东城区市场监管局",
    "东城区",
    "龙潭街道",
    "东四街道",
    "北京市",
    "2026年度考核（街乡评价占三分之一）",
    "区级检查",
    "到场快，处置彻底",
    "返工一次",
    "未到场",
    "占道经营、乱堆物料",
    "执法队员10:20已到场，定位信号弱未能签到",
    "现场执法记录仪视频 10:20",
    "人民市场东巷",
]


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("longtan_assessor", HOME),
        ("district_assessor", HOME),
        ("district_assessor", RANKINGS),
        ("district_assessor", RANKINGS + "2026-07/dc-cgw/"),
        ("district_assessor", SCHEME),
        ("district_assessor", CENTRES),
        ("urban_officer", DEPARTMENT),
        ("chiefs_office", APPEALS),
        ("chiefs_office", "/district/hotspots/"),
        ("chiefs_office", "/district/chiefs/"),
    ],
)
def test_the_english_pages_have_no_chinese_interface_words(client, scored, who, url):
    rate_july(scored)
    with time_machine.travel(bj(20, 10), tick=False):
        appeal_with_photos(
            scored.urban_officer,
            scored.summonses["c3_urban"],
            "came",
            {"came": "on_time"},
            "执法队员10:20已到场，定位信号弱未能签到",
            evidence="现场执法记录仪视频 10:20",
        )
        client.force_login(getattr(scored, who))
        chinese = client.get(url, {"period": "2026-07"})
        english = client.get(url, {"period": "2026-07"}, HTTP_ACCEPT_LANGUAGE="en")
    assert chinese.status_code == english.status_code == 200
    html = english.content.decode()
    assert '<html lang="en">' in html
    assert interface_words(html, DATA) == set()
    assert interface_words(chinese.content.decode(), DATA)
