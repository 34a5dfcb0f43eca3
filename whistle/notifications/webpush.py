"""Web Push to installed phone pages: VAPID (RFC 8292) and aes128gcm payloads (RFC 8291 on
RFC 8188), written on ``cryptography``.

A browser that subscribed gives a push service endpoint, its P-256 public key (``p256dh``)
and a 16-byte authentication secret (``auth``). For each message:

- a fresh P-256 key pair and a 16-byte salt are drawn;
- ``ecdh_secret = ECDH(our_private, browser_public)``;
- ``IKM = HKDF(salt=auth, ikm=ecdh_secret, info="WebPush: info" 0x00 browser_public
  our_public, 32 bytes)``;
- ``CEK = HKDF(salt, IKM, "Content-Encoding: aes128gcm" 0x00, 16)`` and
  ``NONCE = HKDF(salt, IKM, "Content-Encoding: nonce" 0x00, 12)``;
- the body is ``salt ‖ record size (4 bytes) ‖ 65 ‖ our_public ‖
  AES-128-GCM(CEK, NONCE, payload ‖ 0x02)``: one record, the last.

The request carries ``Authorization: vapid t=<JWT>, k=<our VAPID public key>``: a JWT signed
with ES256 by the server's VAPID key, naming the push service's origin (``aud``), an expiry
within 24 hours (``exp``) and a contact (``sub``, mailto: or https:).
"""

from __future__ import annotations

import base64
import json
import os
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from whistle.notifications import http
from whistle.notifications.conf import http_timeout_seconds, setting

RECORD_SIZE = 4096
# What fits in one record: the record size less the AEAD tag and the padding delimiter.
MAX_PAYLOAD = RECORD_SIZE - 16 - 1
JWT_LIFETIME = timedelta(hours=12)


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_bytes(key: ec.EllipticCurvePublicKey) -> bytes:
    """The uncompressed point, 65 bytes, as browsers and RFC 8291 use it."""
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def private_from_b64(text: str) -> ec.EllipticCurvePrivateKey:
    raw = b64url_decode(text.strip())
    if len(raw) != 32:
        raise ValueError("a VAPID private key is 32 bytes in base64url")
    return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())


def generate_vapid_keys() -> tuple[str, str]:
    """A new VAPID key pair: the private key (32 bytes) and the public key (65 bytes), both
    base64url, as WHISTLE_VAPID_PRIVATE_KEY and the browser's applicationServerKey take them."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    return b64url_encode(private), b64url_encode(public_bytes(key.public_key()))


@dataclass(frozen=True)
class Vapid:
    private_key: ec.EllipticCurvePrivateKey
    subject: str

    @property
    def public_key(self) -> str:
        return b64url_encode(public_bytes(self.private_key.public_key()))

    def token(self, endpoint: str, now: datetime) -> str:
        parts = urlsplit(endpoint)
        claims = {
            "aud": f"{parts.scheme}://{parts.netloc}",
            "exp": int((now + JWT_LIFETIME).timestamp()),
            "sub": self.subject,
        }
        header = {"typ": "JWT", "alg": "ES256"}
        signing_input = ".".join(
            b64url_encode(json.dumps(part, separators=(",", ":")).encode())
            for part in (header, claims)
        )
        der = self.private_key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        # JWS wants the raw 64-byte r ‖ s, not DER.
        return f"{signing_input}.{b64url_encode(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def authorization(self, endpoint: str, now: datetime) -> str:
        return f"vapid t={self.token(endpoint, now)}, k={self.public_key}"


def configured_vapid() -> Vapid | None:
    """The server's VAPID identity from the settings, or None when Web Push is not set up."""
    private = setting("WHISTLE_VAPID_PRIVATE_KEY")
    subject = setting("WHISTLE_VAPID_SUBJECT")
    if not private or not subject:
        return None
    return Vapid(private_from_b64(private), subject)


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def encrypt(
    payload: bytes,
    *,
    browser_public: bytes,
    auth_secret: bytes,
    sender: ec.EllipticCurvePrivateKey | None = None,
    salt: bytes | None = None,
) -> bytes:
    """The aes128gcm body for one subscription (RFC 8291). ``sender`` and ``salt`` are drawn
    fresh unless given (tests give the RFC's example values)."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"a push payload holds at most {MAX_PAYLOAD} bytes")
    sender = sender or ec.generate_private_key(ec.SECP256R1())
    salt = salt or os.urandom(16)
    browser_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), browser_public)
    sender_public = public_bytes(sender.public_key())
    ecdh_secret = sender.exchange(ec.ECDH(), browser_key)
    key_info = b"WebPush: info\x00" + browser_public + sender_public
    ikm = _hkdf(auth_secret, ecdh_secret, key_info, 32)
    cek = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
    ciphertext = AESGCM(cek).encrypt(nonce, payload + b"\x02", None)
    header = salt + struct.pack("!IB", RECORD_SIZE, len(sender_public)) + sender_public
    return header + ciphertext


def post(
    vapid: Vapid,
    *,
    endpoint: str,
    p256dh: str,
    auth: str,
    payload: bytes,
    ttl: int,
    now: datetime,
    urgency: str = "high",
) -> http.Answer:
    """Send one encrypted message to one subscription; return the push service's answer."""
    body = encrypt(payload, browser_public=b64url_decode(p256dh), auth_secret=b64url_decode(auth))
    return http.post(
        endpoint,
        body=body,
        headers={
            "Authorization": vapid.authorization(endpoint, now),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(ttl),
            "Urgency": urgency,
        },
        timeout=http_timeout_seconds(),
        who="the push service",
    )
