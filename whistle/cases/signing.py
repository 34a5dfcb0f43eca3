"""The Ed25519 key that signs exported case histories.

The private key lives in a PEM file (settings.WHISTLE_SIGNING_KEY_FILE, by default
var/signing-key.pem), created on first use, readable by its owner only. Publish the
fingerprint of its public key, so that a reader of an export can tell it came from here.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

logger = logging.getLogger("whistle.cases")


def key_path() -> Path:
    default = Path(settings.BASE_DIR) / "var" / "signing-key.pem"
    return Path(getattr(settings, "WHISTLE_SIGNING_KEY_FILE", default))


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # O_EXCL: when two processes race to create the key, one wins and the other reads it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    logger.info("Created the export signing key %s", path)


def signing_key() -> Ed25519PrivateKey:
    """The private key, created with 0600 permissions when the file does not exist yet."""
    path = key_path()
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            _create(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        logger.warning("The signing key %s is readable by others (mode %o)", path, mode)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def encode_public_key(key: Ed25519PublicKey) -> str:
    return base64.b64encode(public_bytes(key)).decode("ascii")


def fingerprint(key: Ed25519PublicKey) -> str:
    """ "SHA256:" and the hex SHA-256 of the raw 32-byte public key."""
    return "SHA256:" + hashlib.sha256(public_bytes(key)).hexdigest()
