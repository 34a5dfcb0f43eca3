"""The secret that lets the resident who reported a problem rate its result.

The reference number is not enough: the township and the summoned departments see it on
every page, and a department must not be able to rate its own work. At report time the
resident receives a random key (shown once, carried by the follow link); the case keeps
only its SHA-256 digest. A key has 144 random bits, so a plain digest cannot be reversed
or guessed, and the comparison takes the same time whatever the key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

# 18 random bytes: 24 characters in a link.
KEY_BYTES = 18
# Longer input is not a key; refusing it early saves hashing megabytes from a form.
KEY_MAX_LENGTH = 64


def new_key() -> tuple[str, str]:
    """A new key and the digest to store."""
    key = secrets.token_urlsafe(KEY_BYTES)
    return key, digest(key)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def matches(stored: str, key: Any) -> bool:
    """Whether `key` is the one whose digest is `stored`, in constant time."""
    if not stored or not isinstance(key, str) or not key or len(key) > KEY_MAX_LENGTH:
        return False
    try:
        candidate = digest(key)
    except UnicodeEncodeError:
        # Lone surrogates cannot be encoded and are no key.
        return False
    return hmac.compare_digest(candidate, stored)
