"""The outbox's settings, each with its default, read when used so tests can override them.

Every name here may be set in ``whistle/settings.py``; until then the default applies.
"""

from __future__ import annotations

from django.conf import settings

DEFAULT_SMS_BACKEND = "whistle.notifications.sms.ConsoleSmsBackend"


def sms_backend_path() -> str:
    """Dotted path of the SMS gateway class (see ``whistle.notifications.sms``); the short
    names ``console``, ``aliyun`` and ``tencent`` name the gateways that come with Whistle."""
    value = str(getattr(settings, "WHISTLE_SMS_BACKEND", DEFAULT_SMS_BACKEND))
    return SMS_BACKENDS.get(value, value)


def max_attempts() -> int:
    """Deliveries tried before a notification is marked failed."""
    return max(1, int(getattr(settings, "WHISTLE_NOTIFY_MAX_ATTEMPTS", 8)))


def retry_base_seconds() -> float:
    """The wait after the first failure; each later failure doubles it."""
    return float(getattr(settings, "WHISTLE_NOTIFY_RETRY_SECONDS", 60.0))


def lease_seconds() -> float:
    """How long a claimed notification stays reserved for the worker that claimed it."""
    return float(getattr(settings, "WHISTLE_NOTIFY_LEASE_SECONDS", 300.0))


def sweep_budget_seconds() -> float:
    """How long one delivery sweep may keep starting deliveries before it hands back."""
    return float(getattr(settings, "WHISTLE_NOTIFY_SWEEP_SECONDS", 1.0))


def webhook_timeout_seconds() -> float:
    """Connect and read timeout of one webhook request."""
    return float(getattr(settings, "WHISTLE_WEBHOOK_TIMEOUT_SECONDS", 5.0))


def site_url() -> str:
    """Where links in e-mails and SMS point: relative links are joined to it."""
    return str(getattr(settings, "SITE_URL", "http://127.0.0.1:8000")).rstrip("/")


# The channels a person can be reached on outside the inbox, in the order they are tried.
OUTSIDE_CHANNELS = ("push", "sms", "email")
SMS_BACKENDS = {
    "console": DEFAULT_SMS_BACKEND,
    "aliyun": "whistle.notifications.aliyun_sms.AliyunSmsBackend",
    "tencent": "whistle.notifications.tencent_sms.TencentSmsBackend",
}


def channel_order() -> list[str]:
    """A person's outside channels in the order they are tried: the first one the person can
    be reached on is used, and a failure there passes the message to the next."""
    order = getattr(settings, "WHISTLE_NOTIFY_CHANNEL_ORDER", list(OUTSIDE_CHANNELS))
    return [str(channel) for channel in order]


def fall_through_after() -> int:
    """Failed attempts on one channel before the message is also queued on the next."""
    return max(1, int(getattr(settings, "WHISTLE_NOTIFY_FALL_THROUGH_AFTER", 1)))


def http_timeout_seconds() -> float:
    """Connect and read timeout of one request to an SMS provider, robot or push service."""
    return float(getattr(settings, "WHISTLE_NOTIFY_HTTP_TIMEOUT_SECONDS", 5.0))


def setting(name: str, default: str = "") -> str:
    """A text setting of a channel (keys, endpoints, sign name), read when used."""
    return str(getattr(settings, name, default))


def sms_receipt_token() -> str:
    """The secret part of the receipt addresses; empty when receipts are not taken."""
    return setting("WHISTLE_SMS_RECEIPT_TOKEN")


def sms_pull_receipts_seconds() -> float:
    """How often the worker's receipt sweep asks the provider for new delivery receipts."""
    return float(getattr(settings, "WHISTLE_SMS_PULL_RECEIPTS_SECONDS", 60.0))


# Shorter tokens could be guessed by whoever knows the address's shape.
SMS_RECEIPT_TOKEN_MIN_LENGTH = 24


def sms_templates() -> dict[str, object]:
    """The SMS templates by notification kind, as WHISTLE_SMS_TEMPLATES gives them."""
    value = getattr(settings, "WHISTLE_SMS_TEMPLATES", {})
    return dict(value) if isinstance(value, dict) else {}


def push_ttl_seconds() -> int:
    """How long a push service keeps a message for a phone that is off (RFC 8030 TTL)."""
    return int(getattr(settings, "WHISTLE_PUSH_TTL_SECONDS", 3600))


# The push services of the browsers that support Web Push; a subscription elsewhere is
# refused, so a signed-in person cannot make the worker post to any address they like.
DEFAULT_PUSH_SERVICE_HOSTS = (
    "fcm.googleapis.com",
    "updates.push.services.mozilla.com",
    "web.push.apple.com",
    "*.notify.windows.com",
)


def push_service_hosts() -> list[str]:
    """Host names a Web Push endpoint may have; ``*.example.com`` allows its subdomains."""
    return [
        str(host).lower()
        for host in getattr(settings, "WHISTLE_PUSH_SERVICE_HOSTS", DEFAULT_PUSH_SERVICE_HOSTS)
    ]


def is_push_service(host: str) -> bool:
    host = host.lower()
    for allowed in push_service_hosts():
        if allowed.startswith("*.") and host.endswith(allowed[1:]):
            return True
        if host == allowed:
            return True
    return False
