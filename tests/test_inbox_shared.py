"""Inbox entries shared by an audience (the holders of some roles in one unit): one row that
each member sees and reads for themselves, nobody else sees, and that follows the roles as
they stand; outside the inbox each member still gets a message of their own."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from tests.conftest import make_person
from tests.fixtures_api import Api, secret_for
from whistle.notifications import audiences
from whistle.notifications.models import Channel, InboxRead, InboxReadThrough, Notification
from whistle.notifications.outbox import (
    Outbox,
    inbox,
    inbox_state,
    mark_read,
    notify_many,
    unqueued,
    unread_count,
)
from whistle.notifications.status import delivery_status
from whistle.organisation.models import Person, Role, RoleAssignment


@pytest.fixture
def desk(small_city):
    """龙潭街道's command centre (two dispatchers and the chief of lanes), 东四街道's
    dispatcher, and a steward of 龙潭街道 (in no audience)."""
    longtan = small_city.longtan
    return {
        "city": small_city,
        "first": make_person("longtan-dispatcher-1", Role.DISPATCHER, jurisdiction=longtan),
        "second": make_person("longtan-dispatcher-2", Role.DISPATCHER, jurisdiction=longtan),
        "chief": make_person("longtan-chief", Role.TOWNSHIP_CHIEF, jurisdiction=longtan),
        "other": make_person("dongsi-dispatcher", Role.DISPATCHER, jurisdiction=small_city.dongsi),
        "steward": make_person("longtan-steward", Role.STEWARD, jurisdiction=longtan),
    }


def desk_key(desk) -> str:
    return audiences.TOWNSHIP_DESK.key(desk["city"].longtan.pk)


def tell(desk, subject: str, *, key: str | None = None, channels=None) -> None:
    members = [desk["first"], desk["second"], desk["chief"]]
    notify_many(
        members,
        kind="backlog.review_due",
        subject=subject,
        body="",
        dedupe_key=key,
        channels=channels,
        audience=desk_key(desk),
    )


def subjects(person: Person, **options) -> list[str]:
    return list(inbox(person, **options).values_list("subject", flat=True))


def seen(person: Person) -> list[bool]:
    """Whether the person has read each entry of their inbox, newest first (`seen_at`)."""
    # `seen_at` is the annotation `inbox` gives each row.
    moments = inbox(person).values_list("seen_at", flat=True)  # type: ignore[misc]
    return [at is not None for at in moments]


def test_one_row_reaches_every_member_and_nobody_else(desk):
    tell(desk, "复核到期：案件 A")
    [row] = Notification.objects.filter(channel=Channel.INBOX)
    assert (row.recipient, row.audience) == (None, desk_key(desk))
    for who in ("first", "second", "chief"):
        assert subjects(desk[who]) == ["复核到期：案件 A"]
        assert unread_count(desk[who]) == 1
    for who in ("other", "steward"):
        assert subjects(desk[who]) == []
        assert unread_count(desk[who]) == 0


def test_each_member_reads_it_for_themselves(desk):
    tell(desk, "复核到期：案件 A")
    [row] = Notification.objects.filter(channel=Channel.INBOX)
    assert mark_read(desk["first"], [row.uuid]) == 1
    # Once: a second reading changes nothing.
    assert mark_read(desk["first"], [row.uuid]) == 0
    assert subjects(desk["first"], unread_only=True) == []
    assert seen(desk["first"]) == [True]
    assert subjects(desk["second"], unread_only=True) == ["复核到期：案件 A"]
    assert seen(desk["second"]) == [False]
    # The row itself is not marked: the reading is the reader's.
    row.refresh_from_db()
    assert row.read_at is None
    # Someone outside the audience cannot read it (the id is ignored).
    assert mark_read(desk["other"], [row.uuid]) == 0
    assert not InboxRead.objects.filter(person=desk["other"]).exists()


def test_marking_all_read_moves_the_mark_and_later_entries_are_unread(desk):
    tell(desk, "第一条")
    tell(desk, "第二条")
    [first_row, _second_row] = Notification.objects.order_by("id")
    mark_read(desk["first"], [first_row.uuid])
    assert InboxRead.objects.filter(person=desk["first"]).count() == 1
    assert mark_read(desk["first"]) == 1
    assert unread_count(desk["first"]) == 0
    mark = InboxReadThrough.objects.get(person=desk["first"])
    assert mark.through_id == Notification.objects.latest("id").pk
    # The one-by-one readings under the mark are no longer needed.
    assert not InboxRead.objects.filter(person=desk["first"]).exists()
    assert seen(desk["first"]) == [True, True]
    tell(desk, "第三条")
    assert subjects(desk["first"], unread_only=True) == ["第三条"]
    state = inbox_state(desk["first"])
    assert (state.unread, state.newest_unread) == (1, Notification.objects.latest("id").pk)
    # The other members' counts never moved.
    assert unread_count(desk["second"]) == 3


def test_the_entries_follow_the_roles_as_they_stand(desk, small_city):
    tell(desk, "复核到期：案件 A")
    RoleAssignment.objects.filter(person=desk["second"]).delete()
    assert subjects(desk["second"]) == []
    newcomer = make_person("longtan-dispatcher-3", Role.DISPATCHER, jurisdiction=small_city.longtan)
    # The unit's earlier entries are its record: someone who joins finds them.
    assert subjects(newcomer) == ["复核到期：案件 A"]
    Person.objects.filter(pk=desk["chief"].pk).update(is_active=False)
    assert subjects(desk["chief"]) == []


def test_the_same_message_to_the_same_audience_is_kept_once(desk):
    tell(desk, "复核到期：案件 A", key="case:a:review")
    tell(desk, "复核到期：案件 A（重复）", key="case:a:review")
    assert Notification.objects.filter(channel=Channel.INBOX).count() == 1
    # Outbox.take_values (the sweep's path) leaves the stored one out as well.
    outbox = Outbox()
    outbox.notify_many(
        [desk["first"]],
        kind="backlog.review_due",
        subject="再一次",
        body="",
        dedupe_key="case:a:review",
        audience=desk_key(desk),
    )
    assert unqueued(outbox.take_values()) == []


def test_outside_the_inbox_each_member_gets_their_own_message(desk, settings):
    settings.WHISTLE_NOTIFY_CHANNEL_ORDER = ["email"]
    Person.objects.filter(pk=desk["first"].pk).update(email="first@example.org")
    desk["first"].refresh_from_db()
    tell(desk, "复核到期：案件 A", key="case:a:review")
    rows = Notification.objects.order_by("channel")
    assert [(r.channel, r.recipient, r.audience) for r in rows] == [
        (Channel.EMAIL, desk["first"], None),
        (Channel.INBOX, None, desk_key(desk)),
    ]
    assert rows[0].address == "first@example.org"
    # The e-mail is no inbox entry of theirs.
    assert subjects(desk["first"]) == ["复核到期：案件 A"]


def test_the_delivery_status_names_the_audience_in_words(desk):
    tell(desk, "复核到期：案件 A", key="case:a:review")
    with translation.override("en"):
        [delivery] = delivery_status(["case:a:review"])
        assert delivery.who == "龙潭街道: dispatchers and chief of lanes"
    assert delivery.recipient is None and delivery.state == "unread"
    assert not delivery.inbox_only


def test_the_delivery_status_says_when_a_member_read_the_shared_entry(desk):
    tell(desk, "复核到期：案件 A", key="case:a:review")
    tell(desk, "复核到期：案件 B", key="case:b:review")
    # Someone outside the audience who marks all read reads none of its entries.
    mark_read(desk["other"])
    assert [d.state for d in delivery_status(["case:a:review"])] == ["unread"]
    mark_read(desk["second"], [Notification.objects.get(dedupe_key="case:a:review").uuid])
    [a] = delivery_status(["case:a:review"])
    assert a.state == "read" and a.at is not None
    # A member's "mark all read" drops their readings under the mark but still reads them.
    mark_read(desk["chief"])
    mark_read(desk["second"])
    assert [d.state for d in delivery_status(["case:a:review", "case:b:review"])] == [
        "read",
        "read",
    ]


def test_an_api_token_with_some_roles_sees_only_their_audiences(desk, small_city):
    person = desk["first"]
    dongsi = RoleAssignment.objects.create(
        person=person, role=Role.DISPATCHER, jurisdiction=small_city.dongsi
    )
    tell(desk, "龙潭的消息")
    notify_many(
        [desk["other"], person],
        kind="backlog.review_due",
        subject="东四的消息",
        body="",
        audience=audiences.TOWNSHIP_DESK.key(small_city.dongsi.pk),
    )
    everything = Api(secret_for(person))
    listed = everything.get("/notifications").json()
    assert sorted(item["subject"] for item in listed["items"]) == ["东四的消息", "龙潭的消息"]
    assert listed["unread"] == 2
    only_dongsi = Api(secret_for(person, roles=[dongsi]))
    listed = only_dongsi.get("/notifications").json()
    assert [item["subject"] for item in listed["items"]] == ["东四的消息"]
    # Read through the API: the caller's own reading, shown back as read_at.
    uuid = listed["items"][0]["uuid"]
    assert only_dongsi.post("/notifications/mark-read", {"ids": [uuid]}).json() == {"marked": 1}
    [item] = only_dongsi.get("/notifications").json()["items"]
    assert item["read_at"] is not None
    assert seen(desk["other"]) == [False]


def test_the_inbox_page_shows_a_shared_entry_unread_and_reads_it_for_the_reader(desk):
    tell(desk, "复核到期：案件 A")
    [row] = Notification.objects.all()
    client = Client()
    client.force_login(desk["first"])
    html = client.get("/inbox/").content.decode()
    assert "复核到期：案件 A" in html and "is-unread" in html
    response = client.post(f"/inbox/{row.uuid}/read/", {"next": "/inbox/"})
    assert response.status_code == 302
    html = client.get("/inbox/").content.decode()
    assert "复核到期：案件 A" in html and "is-unread" not in html
    client.force_login(desk["second"])
    assert "is-unread" in client.get("/inbox/").content.decode()
