"""The desk pages are Chinese first and complete in English: every message of the desk
app has a Simplified Chinese translation, and no page leaves a Chinese word of the
interface in the English version."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.fixtures_cases import (
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from whistle.cases import actions

PO = Path(__file__).resolve().parent.parent / "whistle/desk/locale/zh_Hans/LC_MESSAGES/django.po"
CJK = re.compile(r"[\u4e00-\u9fff]+")


def po_entries() -> list[tuple[str, str]]:
    """(msgid, msgstr) of every entry, plural forms joined."""
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


def test_every_desk_message_has_a_chinese_translation():
    text = PO.read_text(encoding="utf-8")
    assert '"Language: zh_Hans\\n"' in text
    assert "#, fuzzy" not in text
    entries = po_entries()
    assert len(entries) > 250
    assert [msgid for msgid, msgstr in entries if not msgstr] == []


def test_placeholders_survive_translation():
    placeholder = re.compile(r"%\(\w+\)s")
    for msgid, msgstr in po_entries():
        wanted = set(placeholder.findall(msgid))
        given = set(placeholder.findall(msgstr))
        # A plural whose English singular spells the number out ("once") counts with %(n)s.
        assert wanted <= given <= wanted | {"%(n)s"}, msgid


def interface_words(html: str, data: list[str]) -> set[str]:
    """Chinese runs of the page that are not data (names, descriptions)."""
    main = html[html.index("<main") : html.index("</main>")]
    main = re.sub(r"<script.*?</script>", "", main, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", main)
    for value in data:
        text = text.replace(value, " ")
    return set(CJK.findall(text)) - {"事不完", "人不撤"}


@pytest.mark.parametrize("who", ["dispatcher", "urban_officer"])
def test_the_pages_have_no_chinese_interface_words_in_english(client, whistle_city, who):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city)
    actions.acknowledge(city.urban_officer, summonses[city.urban.pk])
    actions.issue_supervision_notice(
        city.township_chief,
        case,
        department=city.urban,
        text="限期清理",
        due_at=case.reported_at.replace(year=case.reported_at.year + 1),
    )
    data = [
        case.description,
        "限期清理",
        "无照经营游商",
        "人民市场东巷",
        "夕照寺社区",
        "龙潭街道",
        "东城区城管执法局",
        "龙潭派出所",
        "天坛消防救援站",
        "东城区房管局",
        "东四街道",
    ]
    client.force_login(getattr(city, who))
    urls = [f"/cases/{case.reference}/"]
    urls.append("/dispatch/" if who == "dispatcher" else "/department/")
    if who == "dispatcher":
        urls.append("/dispatch/wall/")
    for url in urls:
        html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert interface_words(html, data) == set(), url
