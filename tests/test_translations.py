"""Translations read the same everywhere and are complete.

Django merges the catalogs of all apps into one: when two apps translate the same English
message differently, the app listed first in INSTALLED_APPS wins on every page, so the other
app's pages show a word its author did not choose. Each message (with its context) must
therefore have one translation in every .po file of a language, and no .po file may hold
fuzzy or empty translations, which gettext leaves untranslated. A Chinese translation of an
English sentence (a message ending in ".") ends as a Chinese sentence does, in 。, ！ or ？.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_FIELD = re.compile(r"^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) (\".*\")$")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


@dataclass(frozen=True)
class Entry:
    context: str | None
    msgid: str
    plural: str | None
    translations: tuple[str, ...]
    fuzzy: bool
    line: int

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.context, self.msgid, self.plural)

    def describe(self) -> str:
        context = f" (context {self.context!r})" if self.context is not None else ""
        return f"{self.msgid!r}{context}"


def _unquote(quoted: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), quoted[1:-1])


def parse_po(text: str) -> list[Entry]:
    """The entries of a .po file, the header included (msgid ""), obsolete ones left out."""
    entries = []
    line_no = 1
    for block in text.split("\n\n"):
        start = line_no
        line_no += block.count("\n") + 2
        fields: dict[str, str] = {}
        current = None
        fuzzy = False
        for line in block.splitlines():
            if line.startswith("#,") and "fuzzy" in {f.strip() for f in line[2:].split(",")}:
                fuzzy = True
            match = _FIELD.match(line)
            if match:
                current = match.group(1)
                fields[current] = _unquote(match.group(2))
            elif line.startswith('"') and current:
                fields[current] += _unquote(line)
        if "msgid" not in fields:
            continue  # comments only, or an obsolete (#~) entry
        translations = tuple(
            value
            for name, value in sorted(fields.items())
            if name == "msgstr" or name.startswith("msgstr[")
        )
        entries.append(
            Entry(
                context=fields.get("msgctxt"),
                msgid=fields["msgid"],
                plural=fields.get("msgid_plural"),
                translations=translations,
                fuzzy=fuzzy,
                line=start,
            )
        )
    return entries


def po_files() -> list[Path]:
    return sorted(ROOT.glob("whistle/*/locale/*/LC_MESSAGES/*.po")) + sorted(
        ROOT.glob("locale/*/LC_MESSAGES/*.po")
    )


def language_of(path: Path) -> str:
    return path.parent.parent.name


def name_of(path: Path) -> str:
    return str(path.relative_to(ROOT))


def incomplete(path: Path, text: str) -> list[str]:
    """Fuzzy and empty translations of a file, one line each."""
    problems = []
    for entry in parse_po(text):
        where = f"{name_of(path)}:{entry.line}"
        if entry.fuzzy:
            problems.append(f"{where}: fuzzy {entry.describe()}")
        if entry.msgid and (not entry.translations or not all(entry.translations)):
            problems.append(f"{where}: no translation for {entry.describe()}")
    return problems


# How a Chinese sentence ends; a closing quote or bracket may follow.
_CHINESE_SENTENCE_END = re.compile(r"[。！？…][”’」）)]*$")


def unended_sentences(path: Path, text: str) -> list[str]:
    """Chinese translations of English sentences (the message ends in one ".", not "...")
    that do not end in 。, ！ or ？, one line each."""
    problems = []
    for entry in parse_po(text):
        english = entry.msgid.rstrip()
        if not english.endswith(".") or english.endswith(".."):
            continue
        for translation in entry.translations:
            if translation and not _CHINESE_SENTENCE_END.search(translation.rstrip()):
                where = f"{name_of(path)}:{entry.line}"
                problems.append(f"{where}: {translation!r} does not end in 。")
    return problems


def disagreements(texts: dict[Path, str]) -> list[str]:
    """Messages translated differently by two files of the same language, one line each,
    naming every file and its translation."""
    seen: dict[tuple[str, tuple[str | None, str, str | None]], dict[tuple[str, ...], list[str]]]
    seen = defaultdict(lambda: defaultdict(list))
    described: dict[tuple[str | None, str, str | None], str] = {}
    for path, text in texts.items():
        for entry in parse_po(text):
            if not entry.msgid or entry.fuzzy or not all(entry.translations):
                continue
            seen[(language_of(path), entry.key)][entry.translations].append(name_of(path))
            described[entry.key] = entry.describe()
    problems = []
    for (language, key), by_translation in sorted(seen.items(), key=lambda kv: str(kv[0])):
        if len(by_translation) > 1:
            versions = "; ".join(
                f"{' | '.join(translation)} in {', '.join(files)}"
                for translation, files in sorted(by_translation.items())
            )
            problems.append(f"[{language}] {described[key]}: {versions}")
    return problems


# The project's files --------------------------------------------------------------------


def test_the_translation_files_are_found():
    files = po_files()
    names = {name_of(p) for p in files}
    assert len(files) >= 12, names
    assert "locale/zh_Hans/LC_MESSAGES/django.po" in names
    assert "whistle/cases/locale/zh_Hans/LC_MESSAGES/django.po" in names


@pytest.mark.parametrize("path", po_files(), ids=name_of)
def test_no_translation_is_fuzzy_or_empty(path):
    text = path.read_text(encoding="utf-8")
    assert incomplete(path, text) == []
    assert f'"Language: {language_of(path)}\\n"' in text


@pytest.mark.parametrize(
    "path", [p for p in po_files() if language_of(p) == "zh_Hans"], ids=name_of
)
def test_every_chinese_sentence_ends_in_a_full_stop(path):
    assert unended_sentences(path, path.read_text(encoding="utf-8")) == []


def test_each_message_has_one_translation_in_every_app():
    texts = {path: path.read_text(encoding="utf-8") for path in po_files()}
    assert disagreements(texts) == [], (
        "The app listed first in INSTALLED_APPS would win: settle each message on one "
        "translation in every file."
    )


# The checks themselves ------------------------------------------------------------------

FIRST = """msgid ""
msgstr ""
"Language: zh_Hans\\n"

#: models.py:10
msgid "Place"
msgstr "地点"

msgctxt "case status"
msgid "rejected"
msgstr "不予立案"

#, fuzzy
#| msgid "closed"
msgid "closed at"
msgstr "结案"

msgid "Comment"
msgstr ""

msgid "%(n)s photo"
msgid_plural "%(n)s photos"
msgstr[0] "%(n)s 张照片"

#~ msgid "Old"
#~ msgstr "旧的"
"""

SECOND = """msgid ""
msgstr ""
"Language: zh_Hans\\n"

msgid "Place"
msgstr "位置"

msgid "rejected"
msgstr "驳回"

msgid "%(n)s photo"
msgid_plural "%(n)s photos"
msgstr[0] "%(n)s 张照片"

msgid "Say \\"hi\\"\\n"
msgstr "说\\"你好\\"\\n"
"""


def test_the_check_names_both_translations_and_keeps_contexts_and_languages_apart():
    texts = {
        ROOT / "whistle/cases/locale/zh_Hans/LC_MESSAGES/django.po": FIRST,
        ROOT / "whistle/street/locale/zh_Hans/LC_MESSAGES/django.po": SECOND,
        ROOT / "whistle/street/locale/en/LC_MESSAGES/django.po": SECOND.replace("位置", "place"),
    }
    # "rejected" differs only with a context; the plural agrees; English is apart.
    assert disagreements(texts) == [
        "[zh_Hans] 'Place': 位置 in whistle/street/locale/zh_Hans/LC_MESSAGES/django.po; "
        "地点 in whistle/cases/locale/zh_Hans/LC_MESSAGES/django.po"
    ]


def test_the_check_finds_fuzzy_and_empty_translations_but_not_obsolete_ones():
    path = ROOT / "whistle/cases/locale/zh_Hans/LC_MESSAGES/django.po"
    assert incomplete(path, FIRST) == [
        f"{name_of(path)}:13: fuzzy 'closed at'",
        f"{name_of(path)}:18: no translation for 'Comment'",
    ]
    assert incomplete(path, SECOND) == []
    escaped = [e for e in parse_po(SECOND) if e.msgid.startswith("Say")]
    assert escaped[0].translations == ('说"你好"\n',)


def test_the_check_finds_chinese_sentences_without_their_full_stop():
    path = ROOT / "whistle/cases/locale/zh_Hans/LC_MESSAGES/django.po"
    text = """msgid "Enter minutes, comma-separated."
msgstr "应为分钟数，逗号分隔"

msgid "Saved."
msgstr "已保存（草稿）。"

msgid "Really?"
msgstr "确定吗"

msgid "Loading..."
msgstr "加载中"

msgid "It was said: done."
msgstr "有人说：“完成了！”"
"""
    assert unended_sentences(path, text) == [
        f"{name_of(path)}:1: '应为分钟数，逗号分隔' does not end in 。"
    ]
