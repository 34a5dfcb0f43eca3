"""E-mail through an SMTP server named by the environment: host, port, STARTTLS or TLS from
the first byte, user and password, sender, timeout. A small SMTP server on 127.0.0.1 in the
test receives the message; the console backend stays the default for development."""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import ipaddress
import re
import runpy
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings as django_settings
from django.utils import timezone

from whistle.env import ImproperSetting
from whistle.notifications.delivery import sweep
from whistle.notifications.models import Channel, Notification, Status
from whistle.notifications.outbox import notify
from whistle.organisation.models import Person

ROOT = Path(django_settings.BASE_DIR)
T0 = dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.UTC)
USER = "whistle@longtan.dongcheng.example"
PASSWORD = "smtp-password-of-the-street-office"


@dataclass
class Mail:
    mail_from: str
    rcpt_to: list[str]
    data: bytes
    tls: bool
    user: str | None


@dataclass
class SmtpServer:
    """Just enough ESMTP (RFC 5321) for a mail client: EHLO, STARTTLS, AUTH PLAIN, MAIL,
    RCPT, DATA, RSET, NOOP, QUIT. ``mode`` is "plain", "starttls" or "tls"."""

    mode: str
    context: ssl.SSLContext | None
    port: int = 0
    received: list[Mail] = field(default_factory=list)

    def serve(self, listener: socket.socket) -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(connection,), daemon=True).start()

    def _session(self, connection: socket.socket) -> None:
        tls = False
        if self.mode == "tls":
            assert self.context is not None
            connection = self.context.wrap_socket(connection, server_side=True)
            tls = True
        stream = connection.makefile("rwb")
        user: str | None = None
        mail_from, rcpt_to = "", []

        def reply(text: str) -> None:
            stream.write(text.encode() + b"\r\n")
            stream.flush()

        reply("220 mail.longtan.dongcheng.example ESMTP")
        while True:
            line = stream.readline().decode().rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                features = ["mail.longtan.dongcheng.example", "8BITMIME"]
                if self.mode == "starttls" and not tls:
                    features.append("STARTTLS")
                if tls or self.mode == "plain":
                    features.append("AUTH PLAIN")
                for feature in features[:-1]:
                    reply(f"250-{feature}")
                reply(f"250 {features[-1]}")
            elif verb == "STARTTLS" and self.mode == "starttls" and not tls:
                reply("220 ready to start TLS")
                assert self.context is not None
                connection = self.context.wrap_socket(connection, server_side=True)
                stream = connection.makefile("rwb")
                tls = True
            elif line.upper().startswith("AUTH PLAIN "):
                _, name, secret = base64.b64decode(line.split(" ", 2)[2]).decode().split("\0")
                if (name, secret) == (USER, PASSWORD):
                    user = name
                    reply("235 2.7.0 authentication successful")
                else:
                    reply("535 5.7.8 authentication credentials invalid")
            elif verb == "MAIL":
                if user is None:
                    reply("530 5.7.0 authentication required")
                    continue
                mail_from = re.search(r"<(.*?)>", line).group(1)  # type: ignore[union-attr]
                reply("250 ok")
            elif verb == "RCPT":
                rcpt_to.append(re.search(r"<(.*?)>", line).group(1))  # type: ignore[union-attr]
                reply("250 ok")
            elif verb == "DATA":
                reply("354 end data with <CR><LF>.<CR><LF>")
                lines = []
                while (chunk := stream.readline()) != b".\r\n":
                    lines.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                self.received.append(Mail(mail_from, rcpt_to, b"".join(lines), tls, user))
                mail_from, rcpt_to = "", []
                reply("250 ok: queued")
            elif verb in ("RSET", "NOOP"):
                reply("250 ok")
            elif verb == "QUIT" or not line:
                reply("221 bye")
                connection.close()
                return
            else:
                reply("502 command not implemented")


def _certificates(folder: Path) -> tuple[Path, ssl.SSLContext]:
    """A certificate authority the client is told to trust, and the server's certificate
    for 127.0.0.1 that it signed. OpenSSL checks them against the machine's real clock."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Longtan test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=400))
        .not_valid_after(now + dt.timedelta(days=400))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=400))
        .not_valid_after(now + dt.timedelta(days=400))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return ca_file, context


@pytest.fixture
def smtp_server(request, settings, monkeypatch, tmp_path) -> Iterator[SmtpServer]:
    """An SMTP server on 127.0.0.1 in the mode the test asks for, and the settings that
    point the SMTP backend at it."""
    mode = getattr(request, "param", "starttls")
    ca_file, context = _certificates(tmp_path)
    # Django's SMTP backend verifies the server with the default trust store.
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    server = SmtpServer(mode, context)
    listener = socket.create_server(("127.0.0.1", 0))
    server.port = listener.getsockname()[1]
    thread = threading.Thread(target=server.serve, args=(listener,), daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = mode == "starttls"
    settings.EMAIL_USE_SSL = mode == "tls"
    settings.EMAIL_HOST_USER = USER
    settings.EMAIL_HOST_PASSWORD = PASSWORD
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "龙潭街道指挥中心 <zhihui@longtan.dongcheng.example>"
    settings.SITE_URL = "https://whistle.dongcheng.example"
    yield server
    listener.close()
    thread.join(timeout=5)


@pytest.fixture
def officer(db) -> Person:
    return Person.objects.create_user(
        username="wang-jianguo",
        password="pw-123456",
        name="王建国",
        email="wang.jianguo@cgw.dongcheng.example",
    )


def _summon(officer: Person) -> Notification:
    notify(
        officer,
        kind="summons.created",
        subject="龙潭街道吹哨：人民市场东巷占道经营",
        body="请于30分钟内到场报到。",
        link="/cases/LT-2026-0042/",
        channels=[Channel.EMAIL],
    )
    return Notification.objects.get(channel=Channel.EMAIL)


@pytest.mark.parametrize("smtp_server", ["starttls", "tls"], indirect=True)
def test_an_email_goes_through_the_configured_smtp_server_encrypted_and_signed_in(
    smtp_server, officer
):
    with time_machine.travel(T0, tick=False):
        row = _summon(officer)
        assert sweep(timezone.now(), batch=10) == 1

    [mail] = smtp_server.received
    assert (mail.tls, mail.user) == (True, USER)
    assert mail.mail_from == "zhihui@longtan.dongcheng.example"
    assert mail.rcpt_to == ["wang.jianguo@cgw.dongcheng.example"]
    message = email.message_from_bytes(mail.data, policy=email.policy.default)
    # The mail library folds an encoded subject onto the next line: only the words count.
    assert message["Subject"].strip() == "龙潭街道吹哨：人民市场东巷占道经营"
    assert message["From"] == "龙潭街道指挥中心 <zhihui@longtan.dongcheng.example>"
    assert message["X-Whistle-Delivery"] == str(row.uuid)
    assert message.get_content().replace("\r\n", "\n") == (
        "请于30分钟内到场报到。\n\nhttps://whistle.dongcheng.example/cases/LT-2026-0042/\n"
    )
    row.refresh_from_db()
    assert (row.status, row.sent_at) == (Status.SENT, T0)


def test_a_password_the_mail_server_refuses_is_a_failed_attempt_tried_again(
    settings, smtp_server, officer
):
    settings.EMAIL_HOST_PASSWORD = "last-years-password"
    with time_machine.travel(T0, tick=False):
        row = _summon(officer)
        sweep(timezone.now(), batch=10)

    assert smtp_server.received == []
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at) == (
        Status.PENDING,
        1,
        T0 + dt.timedelta(seconds=60),
    )
    assert row.last_error.startswith("SMTPAuthenticationError")


# The settings ------------------------------------------------------------------------------

SMTP_VARIABLES = (
    "WHISTLE_EMAIL_BACKEND",
    "WHISTLE_EMAIL_HOST",
    "WHISTLE_EMAIL_PORT",
    "WHISTLE_EMAIL_USE_TLS",
    "WHISTLE_EMAIL_USE_SSL",
    "WHISTLE_EMAIL_USER",
    "WHISTLE_EMAIL_PASSWORD",
    "WHISTLE_FROM_EMAIL",
    "WHISTLE_EMAIL_TIMEOUT",
)


def _settings_with(monkeypatch, **environment: str) -> dict:
    for name in SMTP_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "whistle" / "settings.py"))


def test_the_console_backend_is_the_default_for_development(monkeypatch):
    read = _settings_with(monkeypatch)
    assert read["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert (read["EMAIL_HOST"], read["EMAIL_PORT"]) == ("localhost", 25)
    assert (read["EMAIL_USE_TLS"], read["EMAIL_USE_SSL"]) == (False, False)


def test_every_smtp_setting_comes_from_the_environment(monkeypatch):
    read = _settings_with(
        monkeypatch,
        WHISTLE_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        WHISTLE_EMAIL_HOST="smtp.dongcheng.gov.example",
        WHISTLE_EMAIL_PORT="587",
        WHISTLE_EMAIL_USE_TLS="1",
        WHISTLE_EMAIL_USER=USER,
        WHISTLE_EMAIL_PASSWORD=PASSWORD,
        WHISTLE_FROM_EMAIL="zhihui@longtan.dongcheng.example",
        WHISTLE_EMAIL_TIMEOUT="15",
    )
    assert {
        name: read[name]
        for name in (
            "EMAIL_BACKEND",
            "EMAIL_HOST",
            "EMAIL_PORT",
            "EMAIL_USE_TLS",
            "EMAIL_USE_SSL",
            "EMAIL_HOST_USER",
            "EMAIL_HOST_PASSWORD",
            "DEFAULT_FROM_EMAIL",
            "EMAIL_TIMEOUT",
        )
    } == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.dongcheng.gov.example",
        "EMAIL_PORT": 587,
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "EMAIL_HOST_USER": USER,
        "EMAIL_HOST_PASSWORD": PASSWORD,
        "DEFAULT_FROM_EMAIL": "zhihui@longtan.dongcheng.example",
        "EMAIL_TIMEOUT": 15,
    }


@pytest.mark.parametrize(
    ("environment", "complaint"),
    [
        ({"WHISTLE_EMAIL_USE_TLS": "1", "WHISTLE_EMAIL_USE_SSL": "1"}, "exclude each other"),
        ({"WHISTLE_EMAIL_PORT": "70000"}, "at most 65535"),
        ({"WHISTLE_EMAIL_USE_TLS": "starttls"}, "WHISTLE_EMAIL_USE_TLS must be one of"),
    ],
)
def test_a_smtp_setting_that_cannot_work_stops_the_start(monkeypatch, environment, complaint):
    with pytest.raises(ImproperSetting, match=complaint):
        _settings_with(monkeypatch, **environment)


def test_the_example_environment_lists_every_channel_setting_with_its_default(monkeypatch):
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    listed = dict(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=(.*)$", text, re.MULTILINE))
    settings_text = (ROOT / "whistle" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r'env_\w+\(\s*"(WHISTLE_[A-Z0-9_]+)"', settings_text))
    channel_settings = {
        name
        for name in read
        if re.match(
            r"WHISTLE_(EMAIL|FROM_EMAIL|SMS|ALIYUN|TENCENT|WECOM|DINGTALK|VAPID|PUSH|NOTIFY)",
            name,
        )
    }
    assert channel_settings - set(listed) == set()
    defaults = _settings_with(monkeypatch)
    assert listed["WHISTLE_EMAIL_PORT"] == str(defaults["EMAIL_PORT"])
    assert listed["WHISTLE_NOTIFY_CHANNEL_ORDER"] == ",".join(
        defaults["WHISTLE_NOTIFY_CHANNEL_ORDER"]
    )
