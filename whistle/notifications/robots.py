"""Work-chat group robots: WeCom (企业微信) and DingTalk (钉钉) custom robots.

Both take a JSON POST to the robot's webhook and answer ``{"errcode": 0, "errmsg": "ok"}``
once the message is in the group. WeCom names the robot by the ``key`` in the URL. DingTalk
names it by ``access_token`` and, with 加签 (signing) switched on, also wants ``timestamp``
(milliseconds, within an hour of DingTalk's clock) and
``sign = urlencode(base64(HMAC-SHA256(key=secret, msg=timestamp + "\\n" + secret)))``.

Each platform allows a robot about 20 messages a minute (DingTalk then blocks the robot for
ten minutes). :func:`reserve_slot` keeps to the robot's limit across every worker: a message
over it waits for the next free moment instead of being sent or dropped.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from whistle.notifications import http
from whistle.notifications.conf import http_timeout_seconds, setting
from whistle.notifications.errors import DeliveryDeferred, DeliveryError, PermanentDeliveryError
from whistle.notifications.models import GroupRobot, Notification

WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
DINGTALK_URL = "https://oapi.dingtalk.com/robot/send"
WINDOW = timedelta(minutes=1)

# WeCom: text up to 2,048 bytes, Markdown up to 4,096 (UTF-8).
_WECOM_LIMITS = {GroupRobot.Format.TEXT: 2048, GroupRobot.Format.MARKDOWN: 4096}
_DINGTALK_LIMIT = 18_000
# Codes after which sending again cannot help: the key or token does not exist, the
# signature or the robot's security settings (keywords, IP list) refuse the message.
# Error texts stay in English, like every other delivery error kept for the log.
_PLATFORM_NAMES: dict[str, str] = {
    GroupRobot.Platform.WECOM: "WeCom",
    GroupRobot.Platform.DINGTALK: "DingTalk",
}
_HEADING = re.compile(r"^\s*#+\s*")
_WECOM_PERMANENT = frozenset({93000, 40008, 40058})
_DINGTALK_PERMANENT = frozenset({300001, 300005, 310000, 400102})


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签 value before URL encoding: base64 of the HMAC-SHA256."""
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def webhook_url(robot: GroupRobot, now: datetime) -> str:
    if robot.platform == GroupRobot.Platform.WECOM:
        base = setting("WHISTLE_WECOM_WEBHOOK_URL", WECOM_URL)
        return f"{base}?{urlencode({'key': robot.key})}"
    base = setting("WHISTLE_DINGTALK_WEBHOOK_URL", DINGTALK_URL)
    query = {"access_token": robot.key}
    if robot.secret:
        timestamp_ms = int(now.timestamp() * 1000)
        query["timestamp"] = str(timestamp_ms)
        query["sign"] = dingtalk_sign(robot.secret, timestamp_ms)
    return f"{base}?{urlencode(query, quote_via=quote)}"


def document(robot: GroupRobot, notification: Notification) -> dict[str, Any]:
    """The JSON message of one notification in the robot's platform and format."""
    subject = " ".join(notification.subject.split())
    link = notification.absolute_link
    with translation.override(settings.LANGUAGE_CODE):
        open_label = _("Open")
    if robot.message_format == GroupRobot.Format.TEXT:
        text = "\n".join(part for part in (subject, notification.body, link) if part)
        if robot.platform == GroupRobot.Platform.WECOM:
            content = _cut(text, _WECOM_LIMITS[GroupRobot.Format.TEXT])
        else:
            content = _cut(text, _DINGTALK_LIMIT)
        return {"msgtype": "text", "text": {"content": content}}
    lines = [f"**{_markdown(subject)}**" if subject else ""]
    if notification.body:
        lines.append(_markdown(notification.body))
    if link:
        lines.append(f"[{open_label}]({link})")
    text = "\n\n".join(line for line in lines if line)
    if robot.platform == GroupRobot.Platform.WECOM:
        return {
            "msgtype": "markdown",
            "markdown": {"content": _cut(text, _WECOM_LIMITS[GroupRobot.Format.MARKDOWN])},
        }
    return {
        "msgtype": "markdown",
        "markdown": {"title": subject or notification.kind, "text": _cut(text, _DINGTALK_LIMIT)},
    }


def reserve_slot(robot_id: int, now: datetime) -> GroupRobot:
    """Count one message against the robot's limit, or raise :class:`DeliveryDeferred` with
    the moment a message may go. The robot's row is locked while its count is read and
    written, so two workers never both take the last place in a minute."""
    with transaction.atomic():
        robot = GroupRobot.objects.select_for_update().filter(pk=robot_id).first()
        if robot is None:
            raise PermanentDeliveryError("the work-chat group robot was deleted")
        if not robot.is_active:
            raise PermanentDeliveryError("the work-chat group robot is switched off")
        recent = sorted(
            moment
            for moment in (datetime.fromisoformat(value) for value in robot.recent_sends)
            if now - WINDOW < moment <= now
        )
        if len(recent) >= max(robot.per_minute, 1):
            # The oldest sends still in the window must leave it before this one may go.
            free_at = recent[len(recent) - max(robot.per_minute, 1)] + WINDOW
            raise DeliveryDeferred(
                free_at, f"{robot.name}: {robot.per_minute} messages a minute already sent"
            )
        recent.append(now)
        robot.recent_sends = [moment.isoformat() for moment in recent]
        robot.save(update_fields=["recent_sends"])
    return robot


def send(robot: GroupRobot, notification: Notification, now: datetime) -> None:
    """Post the notification to the robot's group; return once the platform took it."""
    body = json.dumps(document(robot, notification), ensure_ascii=False).encode("utf-8")
    platform = _PLATFORM_NAMES[robot.platform]
    answer = http.post(
        webhook_url(robot, now),
        body=body,
        headers={"Content-Type": "application/json; charset=utf-8"},
        timeout=http_timeout_seconds(),
        who=platform,
    )
    reply = answer.json()
    if not answer.ok or not isinstance(reply, dict):
        raise DeliveryError(f"{platform} answered HTTP {answer.status}")
    code = reply.get("errcode")
    if code == 0:
        return
    reason = f"{platform} refused the message: {code} {reply.get('errmsg', '')}".strip()
    permanent = (
        _WECOM_PERMANENT if robot.platform == GroupRobot.Platform.WECOM else _DINGTALK_PERMANENT
    )
    if code in permanent:
        raise PermanentDeliveryError(reason)
    raise DeliveryError(reason)


def _markdown(text: str) -> str:
    # Both platforms read a line starting with # as a heading: the message's own text
    # must not turn into one.
    return "\n".join(_HEADING.sub("", line) for line in text.splitlines())


def _cut(text: str, limit_bytes: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= limit_bytes:
        return text
    ellipsis = "…".encode()
    return encoded[: limit_bytes - len(ellipsis)].decode("utf-8", "ignore") + "…"
