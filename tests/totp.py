"""RFC 6238 TOTP, written out for the tests so that they check the server's codes against
an implementation of their own (tests/test_two_factor.py proves it on the RFC's vectors)."""

from __future__ import annotations

import hashlib
import hmac
import struct


def hotp(key: bytes, counter: int, digits: int = 6, digest: str = "sha1") -> str:
    mac = hmac.new(key, struct.pack(">Q", counter), getattr(hashlib, digest)).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def totp(key: bytes, at: float, *, step: int = 30, digits: int = 6, digest: str = "sha1") -> str:
    return hotp(key, int(at // step), digits, digest)
