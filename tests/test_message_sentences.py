"""The words of the messages built from typed text: a whistle's message names its kind in a
whole sentence ("an emergency whistle"), and typed text that ends with its own full stop
gets no second one, in Chinese and in English."""

from __future__ import annotations

import pytest
from django.utils import translation

from tests.fixtures_cases import filed_case, whistle_city_fixture  # noqa: F401  (fixture)
from whistle.cases import actions
from whistle.cases.models import Summons
from whistle.notifications.models import Channel, Notification
from whistle.notifications.texts import Sentence, body_of

TOLD = "人民市场东巷东口有人占道经营，摆摊卖水果，堵住了消防通道，已经三天了。"


def whistle_entry(city, *, kind: str = "routine", description: str = TOLD) -> Notification:
    case = filed_case(city, description=description)
    actions.blow_whistle(
        city.dispatcher, case, kind=kind, departments=[city.urban], meeting_point="市场东口"
    )
    return Notification.objects.get(
        recipient=city.urban_officer, channel=Channel.INBOX, kind="summons.created"
    )


def in_english(entry: Notification) -> str:
    with translation.override("en"):
        return body_of(entry.payload, entry.body)


@pytest.mark.parametrize(
    ("kind", "english", "chinese"),
    [
        ("routine", "blew a routine whistle for case", "吹响日常哨："),
        ("tough", "blew a tough-problem whistle for case", "吹响攻坚哨："),
        ("emergency", "blew an emergency whistle for case", "吹响应急哨："),
    ],
)
def test_a_whistles_message_names_its_kind_in_a_whole_sentence(
    whistle_city, kind, english, chinese
):
    entry = whistle_entry(whistle_city, kind=kind)
    assert english in in_english(entry)
    assert chinese in entry.body


def test_a_description_with_its_own_full_stop_gets_no_second_one(whistle_city):
    entry = whistle_entry(whistle_city)
    assert "已经三天了。集合地点：市场东口。" in entry.body
    assert "。。" not in entry.body
    english = in_english(entry)
    assert "已经三天了。 Meet at 市场东口." in english
    assert "。." not in english


def test_a_description_without_a_full_stop_gets_the_readers_one(whistle_city):
    entry = whistle_entry(whistle_city, description="人民市场东巷有游商占道")
    assert "有游商占道。集合地点：市场东口。" in entry.body
    assert "有游商占道. Meet at 市场东口." in in_english(entry)


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("不属于本部门职责。", "不属于本部门职责。请作出裁定。"),
        ("不属于本部门职责", "不属于本部门职责。请作出裁定。"),
    ],
)
def test_a_declines_reason_ends_its_sentence_once(whistle_city, reason, expected):
    case = filed_case(whistle_city)
    actions.blow_whistle(
        whistle_city.dispatcher, case, kind="routine", departments=[whistle_city.urban]
    )
    summons = Summons.objects.get(case=case)
    actions.acknowledge(whistle_city.urban_officer, summons)
    actions.decline(whistle_city.urban_officer, summons, reason=reason)
    entry = Notification.objects.get(
        recipient=whistle_city.dispatcher, channel=Channel.INBOX, kind="summons.declined"
    )
    assert entry.body.endswith(expected)
    assert "。。" not in entry.body
    english = in_english(entry)
    assert english.endswith(" Rule on it.") and "。." not in english


@pytest.mark.parametrize(
    ("note", "english"),
    [
        ("涉及占道，须到场处置。", "处置。"),
        ("涉及占道，须到场处置", "处置."),
    ],
)
def test_insisting_on_a_summons_ends_on_the_townships_reason_once(whistle_city, note, english):
    case = filed_case(whistle_city)
    actions.blow_whistle(
        whistle_city.dispatcher, case, kind="routine", departments=[whistle_city.urban]
    )
    summons = Summons.objects.get(case=case)
    actions.decline(whistle_city.urban_officer, summons, reason="不属于本部门职责")
    actions.rule_on_decline(whistle_city.dispatcher, summons, uphold=False, note=note)
    entry = Notification.objects.get(
        recipient=whistle_city.urban_officer, channel=Channel.INBOX, kind="summons.decline_insisted"
    )
    assert entry.body.endswith("办理：涉及占道，须到场处置。") and "。。" not in entry.body
    shown = in_english(entry)
    assert shown.endswith(f" acts on case {case.reference}: 涉及占道，须到场{english}")


@pytest.mark.parametrize(
    ("typed", "english", "chinese"),
    [
        ("已经三天了。", "已经三天了。", "已经三天了。"),
        ("Three days now!", "Three days now!", "Three days now!"),
        ("他说“快来。”", "他说“快来。”", "他说“快来。”"),
        ("Is it ours?  ", "Is it ours?", "Is it ours?"),
        ("堵住了消防通道", "堵住了消防通道.", "堵住了消防通道。"),
        ("（见照片）", "（见照片）.", "（见照片）。"),
        ("", "", ""),
    ],
)
def test_a_sentence_of_typed_text_ends_with_one_mark(typed, english, chinese):
    with translation.override("en"):
        assert str(Sentence(typed)) == english
    with translation.override("zh-hans"):
        assert str(Sentence(typed)) == chinese
