"""A decline keeps the summons' clock running while the township rules on it: the deadline
sweep tells the township's dispatchers, with the department's arrival reminder and its
overdue, that the decline still waits for their ruling, once each, until they rule.

The whistle is blown at 10:00 for urban management and the police (arrive by 10:30,
reminders at 10:15 and 10:25); the police decline at 10:03."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone, translation

from tests.fixtures_cases import (
    beijing,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from whistle.cases import actions
from whistle.cases.deadlines import sweep
from whistle.cases.models import Summons
from whistle.cases.trail import EventKind
from whistle.notifications import audiences, texts
from whistle.notifications.models import Channel, Notification
from whistle.notifications.outbox import inbox, unread_count

NOW = beijing(2026, 3, 10, 10, 0)


def minutes(n: int):
    return NOW + timedelta(minutes=n)


def sweep_at(moment) -> int:
    with time_machine.travel(moment, tick=False):
        return sweep(timezone.now(), batch=500)


@pytest.fixture
def declined(whistle_city):
    """The whistle, and the police's summons declined at 10:03 (the township has not ruled)."""
    city = whistle_city
    case, _whistle, summonses = whistled_case(city, at=NOW)
    police = actions.decline(
        city.police_officer,
        summonses[city.police.pk],
        reason="占道经营不属治安范围",
        now=minutes(3),
    )
    return case, police, summonses[city.urban.pk]


def ruling_entries(person) -> list[Notification]:
    """What the person's inbox holds of a decline awaiting the township's ruling."""
    return [n for n in inbox(person).order_by("id") if (n.dedupe_key or "").endswith(":ruling")]


def test_the_dispatchers_hear_once_at_the_arrival_reminder_that_a_decline_awaits_their_ruling(
    whistle_city, declined
):
    city = whistle_city
    case, police, _urban = declined
    sweep_at(minutes(15))
    sweep_at(minutes(15))
    [entry] = ruling_entries(city.dispatcher)
    assert entry.subject == (
        f"退回申请待您裁定：龙潭派出所申请退回案件 {case.reference}，仍须在 2026-03-10 10:30 "
        "前到场报到（还剩 15 分钟）。请在案件页面作出裁定。"
    )
    assert (entry.kind, entry.recipient, entry.audience) == (
        EventKind.REMINDER,
        None,
        audiences.TOWNSHIP_DISPATCHERS.key(city.longtan.pk),
    )
    assert entry.link == f"/cases/{case.reference}/#summons-{police.uuid.hex}"
    # The message hangs on the department's reminder, the one trail event of the moment.
    [reminder] = police.events.filter(kind=EventKind.REMINDER)
    assert entry.payload["seq"] == reminder.seq
    # One entry, shared by the dispatchers, however often the sweep looks.
    assert (
        Notification.objects.filter(dedupe_key=entry.dedupe_key, channel=Channel.INBOX).count() == 1
    )
    # Only the township's dispatchers: not its chief of lanes, not another township's.
    for someone in (city.township_chief, city.dongsi_dispatcher, city.police_officer):
        assert ruling_entries(someone) == []


def test_the_department_keeps_its_reminder_as_it_was(whistle_city, declined):
    city = whistle_city
    case, police, _urban = declined
    sweep_at(minutes(15))
    [reminder] = [
        n for n in inbox(city.police_officer).filter(kind=EventKind.REMINDER) if n.recipient is None
    ]
    assert reminder.subject == (
        f"提醒：龙潭派出所须在 2026-03-10 10:30 前就案件 {case.reference} 到场报到（还剩 15 分钟）"
    )
    assert reminder.dedupe_key == (
        f"summons:{police.uuid}:arrive:reminder:2026-03-10T02:15:00.000000+00:00"
    )
    assert reminder.audience == audiences.DEPARTMENT.key(city.police.pk)


def test_each_reminder_while_the_decline_waits_tells_the_dispatchers_again(whistle_city, declined):
    city = whistle_city
    for moment in (15, 16, 25, 26):
        sweep_at(minutes(moment))
    left = [n.payload["message"]["params"]["left"] for n in ruling_entries(city.dispatcher)]
    assert left == [{"minutes": 15}, {"minutes": 5}]


def test_nobody_declined_no_dispatcher_hears_of_a_ruling(whistle_city):
    city = whistle_city
    whistled_case(city, at=NOW)
    sweep_at(minutes(15))
    sweep_at(minutes(25))
    assert Notification.objects.filter(kind=EventKind.REMINDER).exists()
    assert not Notification.objects.filter(dedupe_key__endswith=":ruling").exists()
    assert ruling_entries(city.dispatcher) == []


def test_the_summons_nobody_declined_on_the_same_case_tells_no_dispatcher(declined):
    _case, police, urban = declined
    sweep_at(minutes(15))
    told = Notification.objects.filter(dedupe_key__endswith=":ruling")
    assert {str(key).split(":")[1] for key in told.values_list("dedupe_key", flat=True)} == {
        str(police.uuid)
    }
    assert not told.filter(dedupe_key__contains=str(urban.uuid)).exists()


@pytest.mark.parametrize("uphold", [False, True], ids=["insisted", "upheld"])
def test_after_the_ruling_the_dispatchers_hear_no_more_of_it(whistle_city, declined, uphold):
    city = whistle_city
    _case, police, _urban = declined
    sweep_at(minutes(15))
    actions.rule_on_decline(
        city.dispatcher, police, uphold=uphold, note="属于占道经营，请配合到场", now=minutes(20)
    )
    for moment in (25, 31, 95):
        sweep_at(minutes(moment))
    assert len(ruling_entries(city.dispatcher)) == 1
    police.refresh_from_db()
    if not uphold:
        # Insisted: the department is reminded and overdue as any other.
        assert police.status == Summons.Status.ACKNOWLEDGED
        assert police.events.filter(kind=EventKind.REMINDER).count() == 2
        assert police.events.filter(kind=EventKind.ARRIVE_OVERDUE).count() == 1


def test_the_arrival_overdue_tells_the_dispatchers_once_that_the_decline_still_waits(
    whistle_city, declined
):
    city = whistle_city
    case, police, _urban = declined
    sweep_at(minutes(31))
    sweep_at(minutes(31))
    [entry] = ruling_entries(city.dispatcher)
    assert entry.kind == EventKind.ARRIVE_OVERDUE
    assert entry.subject == (
        f"退回申请待您裁定：龙潭派出所申请退回案件 {case.reference}，未在 2026-03-10 10:30 "
        "前到场报到。请在案件页面作出裁定。"
    )
    assert entry.dedupe_key == f"summons:{police.uuid}:arrive:overdue:ruling"
    # The escalation to the township is told as before, besides.
    assert inbox(city.dispatcher).filter(kind=EventKind.ESCALATED).count() == 2


def test_the_message_reads_in_english_to_an_english_reader_and_stays_chinese_as_sent(
    whistle_city, declined
):
    city = whistle_city
    case, _police, _urban = declined
    sweep_at(minutes(15))
    sweep_at(minutes(31))
    reminder, overdue = ruling_entries(city.dispatcher)
    with translation.override("en"):
        assert texts.subject_of(reminder.payload, reminder.subject) == (
            f"Decline awaiting your ruling: 龙潭派出所 declined case {case.reference} and must "
            "still arrive on site by 2026-03-10 10:30 (15 min left). Rule on it on the case page."
        )
        assert texts.subject_of(overdue.payload, overdue.subject) == (
            f"Decline awaiting your ruling: 龙潭派出所 declined case {case.reference} and did "
            "not arrive on site by 2026-03-10 10:30. Rule on it on the case page."
        )
    with translation.override("zh-hans"):
        assert texts.subject_of(reminder.payload, reminder.subject) == reminder.subject


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("zh-hans", "退回申请待您裁定：龙潭派出所申请退回案件"),
        ("en", "Decline awaiting your ruling: 龙潭派出所 declined case"),
    ],
)
def test_the_dispatchers_inbox_and_header_show_it_and_it_opens_the_case(
    whistle_city, declined, language, said
):
    city = whistle_city
    case, police, _urban = declined
    sweep_at(minutes(15))
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(city.dispatcher)
    with time_machine.travel(minutes(16), tick=False):
        page = client.get("/inbox/")
        assert page.status_code == 200
        html = page.content.decode()
        assert said in html
        [entry] = ruling_entries(city.dispatcher)
        assert f'id="n-{entry.uuid.hex}"' in html
        shown = re.search(r'data-unread="(\d+)"', html)
        assert shown is not None and int(shown.group(1)) == unread_count(city.dispatcher) >= 1
        opened = client.get(f"/inbox/{entry.uuid}/")
        assert opened.status_code == 302
        assert opened["Location"] == f"/cases/{case.reference}/#summons-{police.uuid.hex}"
        # There the dispatcher rules on the decline.
        case_page = client.get(f"/cases/{case.reference}/").content.decode()
        assert f'id="summons-{police.uuid.hex}"' in case_page
        assert 'value="insist"' in case_page and 'value="uphold"' in case_page
