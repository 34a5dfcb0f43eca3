"""Work-chat group robots: a department's DingTalk group and a township's WeCom group get one
message for each event their people are told about, signed the way DingTalk's 加签 wants and
shaped the way WeCom wants, never more than the robot's 20 a minute: the rest wait."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
import time_machine
from django.utils import timezone

from tests.conftest import make_person
from tests.fixtures_channels import Received, fake_service_fixture  # noqa: F401  (fixture)
from whistle.notifications.delivery import sweep
from whistle.notifications.models import Channel, GroupRobot, Notification, Status
from whistle.notifications.outbox import notify, notify_many
from whistle.organisation.models import CentreMembership, Role

# 17:30 in Beijing.
T0 = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
DINGTALK_TOKEN = "1e4b6d9f0c2a8e7d3b5f4a6c9e8d7b2a1c3e5f7a9b0d2c4e6f8a1b3c5d7e9f0a"
DINGTALK_SECRET = "SEC6a3d2b1c9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1"
WECOM_KEY = "693a91f6-7f1e-4bc4-97a0-0ec2b1fa5aa1"


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def dingtalk_answer(request: Received) -> tuple[int, dict]:
    """DingTalk's robot endpoint: the token, then the 加签 signature and its freshness."""
    raw = dict(part.split("=", 1) for part in urlsplit(request.target).query.split("&"))
    query = dict(parse_qsl(urlsplit(request.target).query))
    if query.get("access_token") != DINGTALK_TOKEN:
        return 200, {"errcode": 300001, "errmsg": "token is not exist"}
    timestamp = int(query.get("timestamp", "0"))
    string_to_sign = f"{timestamp}\n{DINGTALK_SECRET}"
    expected = base64.b64encode(
        hmac.new(DINGTALK_SECRET.encode(), string_to_sign.encode(), hashlib.sha256).digest()
    ).decode()
    fresh = abs(time.time() * 1000 - timestamp) <= 3600 * 1000
    # The sign travels URL-encoded: +, / and = of the base64 must not arrive raw.
    if not fresh or raw.get("sign") != quote(expected, safe=""):
        return 200, {"errcode": 310000, "errmsg": "sign not match"}
    return 200, {"errcode": 0, "errmsg": "ok"}


def wecom_answer(request: Received) -> tuple[int, dict]:
    if dict(parse_qsl(urlsplit(request.target).query)).get("key") != WECOM_KEY:
        return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
    document = request.json()
    kind = document.get("msgtype")
    if kind not in ("text", "markdown") or not document.get(kind, {}).get("content"):
        return 200, {"errcode": 40008, "errmsg": "invalid message type"}
    return 200, {"errcode": 0, "errmsg": "ok"}


@pytest.fixture
def dingtalk(settings, fake_service):
    service = fake_service(dingtalk_answer)
    settings.WHISTLE_DINGTALK_WEBHOOK_URL = f"{service.url}/robot/send"
    return service


@pytest.fixture
def wecom(settings, fake_service):
    service = fake_service(wecom_answer)
    settings.WHISTLE_WECOM_WEBHOOK_URL = f"{service.url}/cgi-bin/webhook/send"
    return service


@pytest.fixture(autouse=True)
def _site(settings) -> None:
    settings.SITE_URL = "https://whistle.dongcheng.example"


@pytest.fixture
def police_group(small_city) -> GroupRobot:
    return GroupRobot.objects.create(
        name="龙潭派出所值班群",
        platform=GroupRobot.Platform.DINGTALK,
        department=small_city.police,
        key=DINGTALK_TOKEN,
        secret=DINGTALK_SECRET,
    )


@pytest.fixture
def longtan_group(small_city) -> GroupRobot:
    return GroupRobot.objects.create(
        name="龙潭街道指挥中心群",
        platform=GroupRobot.Platform.WECOM,
        township=small_city.longtan,
        key=WECOM_KEY,
    )


def _tell(people, *, kind="summons.created", key="event:summons-42") -> None:
    notify_many(
        people,
        kind=kind,
        subject="龙潭街道吹哨：人民市场东巷占道经营",
        body="请于30分钟内到场报到。\n# 集合点：人民市场东巷北口",
        link="/cases/LT-2026-0042/",
        dedupe_key=key,
    )


def _sweep() -> int:
    return sweep(timezone.now(), batch=50)


def test_a_whistle_to_a_departments_officers_reaches_its_dingtalk_group_once_and_signed(
    small_city, police_group, dingtalk, clock
):
    officers = [
        make_person(name, Role.DEPARTMENT_OFFICER, department=small_city.police)
        for name in ("police-officer-zhao", "police-officer-qian")
    ]
    _tell(officers)
    _tell(officers)

    [row] = Notification.objects.filter(channel=Channel.ROBOT)
    assert (row.robot, row.recipient, row.address) == (police_group, None, "龙潭派出所值班群")
    assert _sweep() == 1

    [request] = dingtalk.requests
    assert dingtalk_answer(request) == (200, {"errcode": 0, "errmsg": "ok"})
    assert request.json() == {
        "msgtype": "markdown",
        "markdown": {
            "title": "龙潭街道吹哨：人民市场东巷占道经营",
            "text": (
                "**龙潭街道吹哨：人民市场东巷占道经营**\n\n请于30分钟内到场报到。\n"
                "集合点：人民市场东巷北口\n\n"
                "[打开](https://whistle.dongcheng.example/cases/LT-2026-0042/)"
            ),
        },
    }
    row.refresh_from_db()
    assert (row.status, row.sent_at, row.delivered_at) == (Status.SENT, T0, T0)


def test_a_dingtalk_robot_with_a_wrong_secret_is_refused_and_not_retried(
    small_city, police_group, dingtalk, clock
):
    police_group.secret = "SECthis-is-not-the-groups-secret"
    police_group.save(update_fields=["secret"])
    _tell([make_person("police-officer", Role.DEPARTMENT_OFFICER, department=small_city.police)])
    _sweep()

    row = Notification.objects.get(channel=Channel.ROBOT)
    assert row.status == Status.FAILED
    assert row.last_error == "DingTalk refused the message: 310000 sign not match"


def test_a_message_to_a_townships_dispatcher_reaches_its_wecom_group_as_markdown(
    small_city, longtan_group, wecom, clock
):
    _tell([make_person("longtan-dispatcher", Role.DISPATCHER, jurisdiction=small_city.longtan)])
    _sweep()

    [request] = wecom.requests
    assert dict(parse_qsl(urlsplit(request.target).query)) == {"key": WECOM_KEY}
    assert request.json() == {
        "msgtype": "markdown",
        "markdown": {
            "content": (
                "**龙潭街道吹哨：人民市场东巷占道经营**\n\n请于30分钟内到场报到。\n"
                "集合点：人民市场东巷北口\n\n"
                "[打开](https://whistle.dongcheng.example/cases/LT-2026-0042/)"
            )
        },
    }
    assert Notification.objects.get(channel=Channel.ROBOT).status == Status.SENT


def test_a_wecom_robot_set_to_plain_text_gets_the_subject_body_and_link_as_text(
    small_city, longtan_group, wecom, clock
):
    longtan_group.message_format = GroupRobot.Format.TEXT
    longtan_group.save(update_fields=["message_format"])
    _tell([make_person("longtan-dispatcher", Role.DISPATCHER, jurisdiction=small_city.longtan)])
    _sweep()

    assert wecom.requests[0].json() == {
        "msgtype": "text",
        "text": {
            "content": (
                "龙潭街道吹哨：人民市场东巷占道经营\n请于30分钟内到场报到。\n"
                "# 集合点：人民市场东巷北口\n"
                "https://whistle.dongcheng.example/cases/LT-2026-0042/"
            )
        },
    }


def test_a_group_gets_what_its_department_s_centre_people_are_told_and_nothing_else(
    small_city, police_group, longtan_group
):
    on_duty = make_person("longtan-duty", Role.STEWARD, lane=small_city.renmin_lane)
    CentreMembership.objects.create(
        township=small_city.longtan, department=small_city.police, role="stationed"
    ).people.add(on_duty)
    urban = make_person(
        "urban-officer", Role.DEPARTMENT_OFFICER, department=small_city.urban_management
    )

    _tell([on_duty], key="event:1")
    _tell([urban], key="event:2")

    assert list(
        Notification.objects.filter(channel=Channel.ROBOT).values_list("robot", flat=True)
    ) == [police_group.pk]


def test_a_robot_gets_only_the_kinds_it_asked_for_and_nothing_while_switched_off(
    small_city, police_group
):
    officer = make_person("police-officer", Role.DEPARTMENT_OFFICER, department=small_city.police)
    police_group.event_kinds = ["summons.created"]
    police_group.save(update_fields=["event_kinds"])

    _tell([officer], kind="case.closed", key="event:closed")
    assert not Notification.objects.filter(channel=Channel.ROBOT).exists()

    police_group.is_active = False
    police_group.save(update_fields=["is_active"])
    _tell([officer], key="event:summoned")
    assert not Notification.objects.filter(channel=Channel.ROBOT).exists()

    notify(officer, kind="summons.created", subject="x", body="", channels=[Channel.INBOX])
    assert not Notification.objects.filter(channel=Channel.ROBOT).exists()


def test_the_twenty_first_message_in_a_minute_waits_for_a_free_place_instead_of_being_dropped(
    small_city, longtan_group, wecom, clock
):
    dispatcher = make_person("longtan-dispatcher", Role.DISPATCHER, jurisdiction=small_city.longtan)
    for number in range(21):
        clock.move_to(T0 + timedelta(seconds=number))
        _tell([dispatcher], key=f"event:{number}")
        assert _sweep() == 1

    assert len(wecom.requests) == 20
    waiting = Notification.objects.get(channel=Channel.ROBOT, status=Status.PENDING)
    assert waiting.dedupe_key == "event:20"
    # The first message leaves the minute at T0 + 60 s: not an attempt, nothing lost.
    assert (waiting.attempts, waiting.next_attempt_at) == (0, T0 + timedelta(seconds=60))

    clock.move_to(T0 + timedelta(seconds=59, microseconds=999_999))
    assert _sweep() == 0
    clock.move_to(T0 + timedelta(seconds=60))
    assert _sweep() == 1
    waiting.refresh_from_db()
    assert (waiting.status, waiting.attempts) == (Status.SENT, 1)
    assert len(wecom.requests) == 21


def test_wecom_answering_too_many_requests_is_tried_again_later(
    small_city, longtan_group, wecom, clock
):
    wecom.answer = lambda request: (200, {"errcode": 45009, "errmsg": "api freq out of limit"})
    _tell([make_person("longtan-dispatcher", Role.DISPATCHER, jurisdiction=small_city.longtan)])
    _sweep()

    row = Notification.objects.get(channel=Channel.ROBOT)
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    assert row.next_attempt_at == T0 + timedelta(minutes=1)
    assert "45009" in row.last_error


# The admin ---------------------------------------------------------------------------------


def test_the_admin_never_shows_a_robots_key_or_secret_back(admin_client, police_group):
    page = admin_client.get(f"/admin/notifications/grouprobot/{police_group.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "加签" in html
    assert DINGTALK_TOKEN not in html
    assert DINGTALK_SECRET not in html


def test_saving_a_robot_with_the_secret_fields_left_empty_keeps_them(
    admin_client, small_city, police_group
):
    response = admin_client.post(
        f"/admin/notifications/grouprobot/{police_group.pk}/change/",
        {
            "name": "龙潭派出所指挥群",
            "platform": "dingtalk",
            "department": small_city.police.pk,
            "township": "",
            "key": "",
            "secret": "",
            "message_format": "markdown",
            "event_kinds": "[]",
            "per_minute": "20",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    police_group.refresh_from_db()
    assert (police_group.name, police_group.key, police_group.secret) == (
        "龙潭派出所指挥群",
        DINGTALK_TOKEN,
        DINGTALK_SECRET,
    )


def test_a_pasted_webhook_url_is_stored_as_its_key_alone(admin_client, small_city):
    response = admin_client.post(
        "/admin/notifications/grouprobot/add/",
        {
            "name": "龙潭街道指挥中心群",
            "platform": "wecom",
            "department": "",
            "township": small_city.longtan.pk,
            "key": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}",
            "secret": "",
            "message_format": "markdown",
            "event_kinds": "[]",
            "per_minute": "20",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert GroupRobot.objects.get().key == WECOM_KEY


@pytest.mark.parametrize(
    ("target", "secret", "complaint"),
    [
        ({"department": "police", "township": "longtan"}, "", "不能同时"),
        ({"department": "police"}, "not-a-dingtalk-secret", "SEC"),
    ],
)
def test_the_admin_refuses_a_robot_with_two_targets_or_a_secret_dingtalk_would_not_give(
    admin_client, small_city, target, secret, complaint
):
    ids = {"police": small_city.police.pk, "longtan": small_city.longtan.pk}
    response = admin_client.post(
        "/admin/notifications/grouprobot/add/",
        {
            "name": "龙潭派出所值班群",
            "platform": "dingtalk",
            "department": ids.get(target.get("department", ""), ""),
            "township": ids.get(target.get("township", ""), ""),
            "key": DINGTALK_TOKEN,
            "secret": secret,
            "message_format": "markdown",
            "event_kinds": "[]",
            "per_minute": "20",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert complaint in response.content.decode()
    assert not GroupRobot.objects.exists()


def test_an_administrator_checks_a_robot_with_a_test_message(
    admin_client, police_group, dingtalk, clock
):
    response = admin_client.post(
        "/admin/notifications/grouprobot/",
        {"action": "send_test", "_selected_action": [police_group.pk]},
        follow=True,
    )
    assert "已排队 1 条测试消息" in response.content.decode()
    assert _sweep() == 1

    [request] = dingtalk.requests
    assert dingtalk_answer(request) == (200, {"errcode": 0, "errmsg": "ok"})
    assert request.json()["markdown"]["title"] == "吹哨报到测试消息"
    assert Notification.objects.get(robot=police_group).status == Status.SENT
