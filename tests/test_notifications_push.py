"""Web Push to an officer's phone: the payload encrypted for the browser's key (RFC 8291,
aes128gcm) and the server named by a VAPID JWT (RFC 8292), checked here by a fake push service
that decrypts with the browser's private key; a push service that has dropped the subscription
loses it, and the message falls through to SMS; the page subscribes through JSON endpoints."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.utils import timezone

from tests.fixtures_cases import whistle_city_fixture  # noqa: F401  (fixture)
from tests.fixtures_channels import Received, fake_service_fixture  # noqa: F401  (fixture)
from whistle.notifications import webpush
from whistle.notifications.delivery import sweep
from whistle.notifications.models import Channel, Notification, PushSubscription, Status
from whistle.notifications.outbox import notify
from whistle.organisation.models import Person

# 17:30 in Beijing.
T0 = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
SUBJECT = "mailto:zhihui@longtan.dongcheng.example"


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


# The user agent's side, written from RFC 8291 §3-4 and RFC 5869 with plain HMAC ------------


def _extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def _expand(prk: bytes, info: bytes, length: int) -> bytes:
    # One block of HKDF-Expand is enough for 32 bytes or less.
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()[:length]


def decrypt(body: bytes, ua_private: ec.EllipticCurvePrivateKey, auth_secret: bytes) -> bytes:
    salt, record_size, id_length = body[:16], int.from_bytes(body[16:20], "big"), body[20]
    as_public = body[21 : 21 + id_length]
    ciphertext = body[21 + id_length :]
    assert len(ciphertext) <= record_size, "one record"
    ua_public = point(ua_private.public_key())
    sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), as_public)
    ecdh_secret = ua_private.exchange(ec.ECDH(), sender)
    prk_key = _extract(auth_secret, ecdh_secret)
    ikm = _expand(prk_key, b"WebPush: info\x00" + ua_public + as_public, 32)
    prk = _extract(salt, ikm)
    cek = _expand(prk, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _expand(prk, b"Content-Encoding: nonce\x00", 12)
    padded = AESGCM(cek).decrypt(nonce, ciphertext, None).rstrip(b"\x00")
    assert padded.endswith(b"\x02"), "the last record ends with the delimiter 0x02"
    return padded[:-1]


def verified_vapid_claims(authorization: str) -> dict:
    """Check ``vapid t=<JWT>, k=<key>`` as a push service does: ES256 over the JWT with the
    key given beside it. Returns the claims, with the key under "k"."""
    scheme, _, rest = authorization.partition(" ")
    assert scheme == "vapid"
    params = dict(part.strip().split("=", 1) for part in rest.split(","))
    header_b64, claims_b64, signature_b64 = params["t"].split(".")
    assert json.loads(b64d(header_b64)) == {"typ": "JWT", "alg": "ES256"}
    signature = b64d(signature_b64)
    assert len(signature) == 64
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(params["k"]))
    public.verify(
        encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        ),
        f"{header_b64}.{claims_b64}".encode(),
        ec.ECDSA(hashes.SHA256()),
    )
    return {**json.loads(b64d(claims_b64)), "k": params["k"]}


# The RFC's example -------------------------------------------------------------------------

RFC_PLAINTEXT = b"When I grow up, I want to be a watermelon"
RFC_AS_PRIVATE = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
RFC_UA_PRIVATE = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
RFC_UA_PUBLIC = (
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
)
RFC_AUTH = "BTBZMqHH6r4Tts7J_aSIgg"
RFC_SALT = "DGv6ra1nlYgDCS1FRnbzlw"
RFC_BODY = (
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml"
    "mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT"
    "pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
)


def test_the_encryption_reproduces_the_example_of_rfc_8291():
    body = webpush.encrypt(
        RFC_PLAINTEXT,
        browser_public=b64d(RFC_UA_PUBLIC),
        auth_secret=b64d(RFC_AUTH),
        sender=webpush.private_from_b64(RFC_AS_PRIVATE),
        salt=b64d(RFC_SALT),
    )
    assert b64e(body) == RFC_BODY


def test_the_decryption_of_these_tests_reads_the_example_of_rfc_8291():
    ua_private = webpush.private_from_b64(RFC_UA_PRIVATE)
    assert b64e(point(ua_private.public_key())) == RFC_UA_PUBLIC
    assert decrypt(b64d(RFC_BODY), ua_private, b64d(RFC_AUTH)) == RFC_PLAINTEXT


# Delivery to a phone -------------------------------------------------------------------------


@dataclass
class Phone:
    """A browser that subscribed: its private key stays here, the rest is on the server."""

    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    subscription: PushSubscription


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def vapid(settings) -> webpush.Vapid:
    private, _public = webpush.generate_vapid_keys()
    settings.WHISTLE_VAPID_PRIVATE_KEY = private
    settings.WHISTLE_VAPID_SUBJECT = SUBJECT
    settings.WHISTLE_PUSH_TTL_SECONDS = 1800
    # The fake push service of these tests, besides the browsers' own.
    settings.WHISTLE_PUSH_SERVICE_HOSTS = ["fcm.googleapis.com", "127.0.0.1"]
    settings.WHISTLE_SMS_BACKEND = "tests.test_notifications.RecordingSmsBackend"
    settings.SITE_URL = "https://whistle.dongcheng.example"
    vapid = webpush.configured_vapid()
    assert vapid is not None
    return vapid


@pytest.fixture
def officer(db) -> Person:
    """王建国, a department officer with a mobile phone."""
    return Person.objects.create_user(
        username="wang-jianguo", password="pw-123456", name="王建国", phone="13800138000"
    )


def push_service_answer(request: Received) -> tuple[int, bytes]:
    return 201, b""


@pytest.fixture
def push_service(fake_service):
    return fake_service(push_service_answer)


@pytest.fixture
def phone(officer, push_service) -> Phone:
    key = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    subscription = PushSubscription.objects.create(
        person=officer,
        endpoint=f"{push_service.url}/wpush/v2/gAAAAABn-longtan-officer",
        p256dh=b64e(point(key.public_key())),
        auth=b64e(auth),
        user_agent="Mozilla/5.0 (Linux; Android 14) Chrome/131.0 Mobile",
    )
    return Phone(key, auth, subscription)


def _summon(officer: Person) -> None:
    notify(
        officer,
        kind="summons.created",
        subject="龙潭街道吹哨：人民市场东巷占道经营",
        body="请于30分钟内到场报到。",
        link="/cases/LT-2026-0042/",
        dedupe_key="event:summons-42",
    )


def _sweep() -> int:
    return sweep(timezone.now(), batch=50)


def test_a_summons_rings_the_officers_phone_through_its_push_service(
    vapid, officer, phone, push_service, clock
):
    _summon(officer)
    row = Notification.objects.get(recipient=officer, status=Status.PENDING)
    assert (row.channel, row.fallback_channels) == (Channel.PUSH, [Channel.SMS])
    assert _sweep() == 1

    [request] = push_service.requests
    assert request.target == "/wpush/v2/gAAAAABn-longtan-officer"
    assert request.headers["Content-Encoding"] == "aes128gcm"
    assert request.headers["TTL"] == "1800"
    assert request.headers["Urgency"] == "high"
    claims = verified_vapid_claims(request.headers["Authorization"])
    assert claims == {
        "aud": push_service.url,
        "exp": int((T0 + timedelta(hours=12)).timestamp()),
        "sub": SUBJECT,
        "k": vapid.public_key,
    }
    message = json.loads(decrypt(request.body, phone.private_key, phone.auth))
    assert message == {
        "title": "龙潭街道吹哨：人民市场东巷占道经营",
        "body": "请于30分钟内到场报到。",
        "url": "https://whistle.dongcheng.example/cases/LT-2026-0042/",
        "tag": "event:summons-42",
        "id": str(row.uuid),
    }
    row.refresh_from_db()
    assert (row.status, row.sent_at) == (Status.SENT, T0)
    phone.subscription.refresh_from_db()
    assert phone.subscription.last_success_at == T0
    assert not Notification.objects.filter(channel=Channel.SMS).exists()


@pytest.mark.parametrize("gone", [404, 410])
def test_a_subscription_the_push_service_dropped_is_forgotten_and_the_message_goes_by_sms(
    vapid, officer, phone, push_service, clock, gone
):
    push_service.answer = lambda request: (gone, b"")
    _summon(officer)
    _sweep()

    assert not PushSubscription.objects.exists()
    push = Notification.objects.get(channel=Channel.PUSH)
    assert (push.status, push.fell_through_at) == (Status.FAILED, T0)
    assert push.last_error == "every Web Push subscription of the recipient has expired"
    sms = Notification.objects.get(channel=Channel.SMS)
    assert (sms.status, sms.address, sms.fallback_channels) == (Status.PENDING, "13800138000", [])

    _sweep()
    sms.refresh_from_db()
    assert sms.status == Status.SENT


def test_a_busy_push_service_keeps_the_subscription_retries_and_sends_the_sms_meanwhile(
    vapid, officer, phone, push_service, clock
):
    push_service.answer = lambda request: (429, b"")
    _summon(officer)
    _sweep()

    push = Notification.objects.get(channel=Channel.PUSH)
    assert (push.status, push.attempts, push.next_attempt_at) == (
        Status.PENDING,
        1,
        T0 + timedelta(minutes=1),
    )
    assert push.last_error == "the push service answered HTTP 429"
    assert PushSubscription.objects.filter(pk=phone.subscription.pk).exists()
    assert Notification.objects.get(channel=Channel.SMS).status == Status.PENDING

    # A second failure passes nothing on again.
    clock.move_to(T0 + timedelta(minutes=1))
    _sweep()
    assert Notification.objects.filter(channel=Channel.SMS).count() == 1


def test_a_subscription_outside_the_known_push_services_is_never_posted_to(
    settings, vapid, officer, phone, push_service, clock
):
    settings.WHISTLE_PUSH_SERVICE_HOSTS = ["fcm.googleapis.com"]
    _summon(officer)
    _sweep()

    assert push_service.requests == []
    push = Notification.objects.get(channel=Channel.PUSH)
    assert push.last_error == "the endpoint is not a known push service"
    assert Notification.objects.get(channel=Channel.SMS).status == Status.PENDING


def test_without_a_vapid_key_nobody_is_reached_by_push(settings, officer, phone):
    settings.WHISTLE_VAPID_PRIVATE_KEY = ""
    _summon(officer)
    assert Notification.objects.get(recipient=officer, status=Status.PENDING).channel == (
        Channel.SMS
    )


# The page's endpoints --------------------------------------------------------------------------


def _browser_subscription(
    endpoint: str = "https://fcm.googleapis.com/fcm/send/dJx-longtan",
) -> dict:
    key = ec.generate_private_key(ec.SECP256R1())
    return {
        "endpoint": endpoint,
        "expirationTime": None,
        "keys": {"p256dh": b64e(point(key.public_key())), "auth": b64e(os.urandom(16))},
    }


def test_a_signed_in_officer_subscribes_this_phone(client, officer, clock):
    client.force_login(officer)
    document = _browser_subscription()
    response = client.post(
        "/notifications/push/subscribe",
        json.dumps(document),
        content_type="application/json",
        HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14) Chrome/131.0 Mobile",
    )
    assert (response.status_code, response.json()) == (200, {"ok": True})
    stored = PushSubscription.objects.get()
    assert (stored.person, stored.endpoint, stored.p256dh, stored.auth) == (
        officer,
        document["endpoint"],
        document["keys"]["p256dh"],
        document["keys"]["auth"],
    )
    assert stored.user_agent.startswith("Mozilla/5.0 (Linux; Android 14)")
    assert stored.created_at == T0


def test_a_phone_handed_over_to_a_colleague_rings_for_the_colleague(client, officer, db):
    colleague = Person.objects.create_user(username="li-ming", password="pw-123456")
    document = _browser_subscription()
    for person in (officer, colleague):
        client.force_login(person)
        client.post("/notifications/push/subscribe", document, content_type="application/json")
    assert PushSubscription.objects.get().person == colleague


def test_subscribing_needs_the_csrf_token(officer):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(officer)
    response = browser.post(
        "/notifications/push/subscribe", _browser_subscription(), content_type="application/json"
    )
    assert response.status_code == 403
    assert not PushSubscription.objects.exists()

    browser.get("/accounts/login/")
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        "/notifications/push/subscribe",
        _browser_subscription(),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200


def test_subscribing_needs_a_signed_in_person(client, db):
    response = client.post(
        "/notifications/push/subscribe", _browser_subscription(), content_type="application/json"
    )
    assert response.status_code == 401
    assert response.json()["error"] == "请登录后在此设备上接收通知。"
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        json.dumps(["https://fcm.googleapis.com/fcm/send/x"]),
        json.dumps({**_browser_subscription(), "keys": {"p256dh": "short", "auth": "x"}}),
        json.dumps(_browser_subscription("http://push.example/plain-http")),
        json.dumps(_browser_subscription("javascript:alert(1)")),
        json.dumps(_browser_subscription("https://intranet.longtan.example/admin/delete")),
    ],
)
def test_a_subscription_that_cannot_be_used_is_refused_in_the_persons_language(
    client, officer, document
):
    client.force_login(officer)
    response = client.post(
        "/notifications/push/subscribe", document, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("此浏览器发送的订阅")
    assert not PushSubscription.objects.exists()


def test_an_officer_unsubscribes_only_their_own_phone(client, officer, db):
    colleague = Person.objects.create_user(username="li-ming", password="pw-123456")
    mine = PushSubscription.objects.create(
        person=officer, endpoint="https://fcm.googleapis.com/fcm/send/mine", p256dh="x", auth="y"
    )
    theirs = PushSubscription.objects.create(
        person=colleague,
        endpoint="https://fcm.googleapis.com/fcm/send/theirs",
        p256dh="x",
        auth="y",
    )
    client.force_login(officer)
    for endpoint, removed in ((theirs.endpoint, False), (mine.endpoint, True)):
        response = client.post(
            "/notifications/push/unsubscribe",
            {"endpoint": endpoint},
            content_type="application/json",
        )
        assert response.json() == {"ok": True, "removed": removed}
    assert list(PushSubscription.objects.all()) == [theirs]


def test_the_endpoints_answer_only_posts(client, officer):
    client.force_login(officer)
    assert client.get("/notifications/push/subscribe").status_code == 405


# Keys and settings -----------------------------------------------------------------------------


def test_the_vapid_keys_command_prints_a_key_pair_for_the_settings(capsys):
    call_command("vapid_keys", "--subject", SUBJECT)
    private_line, subject_line, public_line = capsys.readouterr().out.splitlines()
    name, _, private = private_line.partition("=")
    assert name == "WHISTLE_VAPID_PRIVATE_KEY"
    assert subject_line == f"WHISTLE_VAPID_SUBJECT={SUBJECT}"
    public = webpush.Vapid(webpush.private_from_b64(private), SUBJECT).public_key
    assert public_line.startswith("#")
    assert public_line.endswith(public)
    assert len(b64d(public)) == 65


@pytest.mark.parametrize(
    ("key", "subject", "complaint"),
    [
        ("bm90LWEta2V5", SUBJECT, "WHISTLE_VAPID_PRIVATE_KEY"),
        (None, "whistle@longtan.example", "WHISTLE_VAPID_SUBJECT"),
    ],
)
def test_the_system_check_names_a_vapid_setting_it_cannot_use(settings, key, subject, complaint):
    settings.WHISTLE_VAPID_PRIVATE_KEY = key or webpush.generate_vapid_keys()[0]
    settings.WHISTLE_VAPID_SUBJECT = subject
    with pytest.raises(SystemCheckError, match=complaint):
        call_command("check")


def test_the_department_desk_offers_to_ring_the_officers_phone_once_push_is_set_up(
    settings, client, whistle_city
):
    client.force_login(whistle_city.urban_officer)
    settings.WHISTLE_VAPID_PRIVATE_KEY = ""
    assert "data-push-subscribe" not in client.get("/department/").content.decode()

    private, public = webpush.generate_vapid_keys()
    settings.WHISTLE_VAPID_PRIVATE_KEY = private
    settings.WHISTLE_VAPID_SUBJECT = SUBJECT
    html = client.get("/department/").content.decode()
    assert f'data-key="{public}"' in html
    assert 'data-subscribe-url="/notifications/push/subscribe"' in html
    assert "新消息时让本机响铃" in html
    # The site's one service worker, which carries the push handlers (whistle.web.offline).
    assert 'data-worker="/sw.js"' in html


def test_the_demo_gets_a_vapid_key_written_once_into_its_env_file(tmp_path, monkeypatch, capsys):
    """`make run` writes a key into the development .env when there is none, and keeps it."""
    monkeypatch.delenv("WHISTLE_VAPID_PRIVATE_KEY", raising=False)
    env = tmp_path / ".env"
    env.write_text("WHISTLE_SECRET_KEY=abc", encoding="utf-8")
    call_command("vapid_keys", "--env-file", str(env))
    lines = env.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "WHISTLE_SECRET_KEY=abc"
    [private] = [
        line.partition("=")[2] for line in lines if line.startswith("WHISTLE_VAPID_PRIVATE_KEY=")
    ]
    assert "WHISTLE_VAPID_SUBJECT=mailto:whistle-admin@example.gov.cn" in lines
    assert (
        webpush.Vapid(webpush.private_from_b64(private), SUBJECT).public_key
        in capsys.readouterr().out
    )

    written = env.read_text(encoding="utf-8")
    call_command("vapid_keys", "--env-file", str(env))
    assert env.read_text(encoding="utf-8") == written


@pytest.mark.parametrize(
    "line", ["WHISTLE_VAPID_PRIVATE_KEY=", "  WHISTLE_VAPID_PRIVATE_KEY = kept"]
)
def test_a_vapid_key_named_in_the_env_file_or_the_environment_is_kept(tmp_path, monkeypatch, line):
    monkeypatch.delenv("WHISTLE_VAPID_PRIVATE_KEY", raising=False)
    env = tmp_path / ".env"
    env.write_text(line + "\n", encoding="utf-8")
    call_command("vapid_keys", "--env-file", str(env))
    assert env.read_text(encoding="utf-8") == line + "\n"

    monkeypatch.setenv("WHISTLE_VAPID_PRIVATE_KEY", "from-the-deployment")
    fresh = tmp_path / "other.env"
    call_command("vapid_keys", "--env-file", str(fresh))
    assert not fresh.exists()


def test_the_make_run_demo_writes_its_vapid_key_before_serving():
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text(encoding="utf-8")
    run = makefile.split("\nrun: setup", 1)[1].split("\n\n", 1)[0]
    assert "whistle vapid-keys --env-file .env" in run
    assert run.index("vapid-keys") < run.index("whistle serve")
