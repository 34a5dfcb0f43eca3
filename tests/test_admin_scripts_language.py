"""The admin's scripts speak Chinese too: the strings of its two-list picker that Django's own
catalog leaves in English are translated in the project's JavaScript catalog
(locale/zh_Hans/LC_MESSAGES/djangojs.po), which the admin's catalog merges."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.utils import translation

PICKER = {
    'Choose %s by selecting them and then select the "Choose" arrow button.': (
        "选中要选择的%s，再点击“选择”箭头按钮。"
    ),
    "Choose all %s": "全选%s",
    "Remove all %s": "删除全部%s",
    "Choose": "选择",  # Django's own, kept
}


def script(language: str) -> str:
    request = RequestFactory().get("/admin/jsi18n/")
    with translation.override(language):
        return site.i18n_javascript(request).content.decode()


def catalog(language: str) -> dict[str, str]:
    found = re.search(r"const newcatalog = (\{.*?\});\n", script(language), re.S)
    assert found, "no catalog in the admin's script"
    return json.loads(found.group(1))


@pytest.mark.parametrize(("msgid", "chinese"), list(PICKER.items()))
def test_the_admins_picker_reads_chinese_on_a_chinese_page(msgid, chinese):
    assert catalog("zh-hans")[msgid] == chinese


def test_the_admins_picker_keeps_its_english_on_an_english_page():
    english = script("en")
    for chinese in PICKER.values():
        assert json.dumps(chinese)[1:-1] not in english and chinese not in english
