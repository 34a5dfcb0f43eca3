"""The Ed25519 keys that sign exported case histories and trail checkpoints.

The private key is a PEM file (settings.WHISTLE_SIGNING_KEY_FILE), made once by `whistle
keys init`, readable by its owner only, and kept outside the data folder: whoever can read
the database and its backups must not be able to sign. It is never made on the fly: a
missing key would otherwise be replaced silently and every export after it would be signed
by a stranger. Signing without it is refused (`SigningKeyMissing`).

Every public key the installation ever signed with is kept in the public key list
(settings.WHISTLE_PUBLIC_KEYS_FILE, JSON), so exports and checkpoints signed before a
rotation still verify. That list is what the district publishes; a verifier trusts a
signature by its fingerprint being on a list it holds, never by the key the signed file
carries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import stat
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from whistle.cases.verify import Problem

logger = logging.getLogger("whistle.cases")

PUBLIC_KEYS_FORMAT = "whistle.public-keys"
ALGORITHM = "Ed25519"


class SigningKeyMissing(Exception):
    """Nothing can be signed: the private key file is not there."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            _(
                "The signing key %(path)s does not exist: nothing can be signed. Run "
                "`whistle keys init` once (or restore the key from its backup); a key is "
                "never made on the fly."
            )
            % {"path": path}
        )


class KeyAlreadyExists(Exception):
    pass


def key_path() -> Path:
    return Path(settings.WHISTLE_SIGNING_KEY_FILE)


def public_keys_path() -> Path:
    configured = getattr(settings, "WHISTLE_PUBLIC_KEYS_FILE", "")
    return Path(configured) if configured else key_path().with_name("public-keys.json")


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def encode_public_key(key: Ed25519PublicKey) -> str:
    return base64.b64encode(public_bytes(key)).decode("ascii")


def fingerprint(key: Ed25519PublicKey) -> str:
    """ "SHA256:" and the hex SHA-256 of the raw 32-byte public key."""
    return "SHA256:" + hashlib.sha256(public_bytes(key)).hexdigest()


def signing_key() -> Ed25519PrivateKey:
    """The private key; `SigningKeyMissing` when its file is not there."""
    path = key_path()
    if not path.exists():
        raise SigningKeyMissing(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        logger.warning("The signing key %s is readable by others (mode %o)", path, mode)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def _write_private(path: Path, key: Ed25519PrivateKey, *, replace: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    target = path.with_name(f".{path.name}.new") if replace else path
    # O_EXCL: two processes running `keys init` at once cannot both make a key.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    if replace:
        os.replace(target, path)


def public_keys() -> list[dict[str, Any]]:
    """Every public key this installation signed with, oldest first."""
    path = public_keys_path()
    if not path.exists():
        return []
    document = json.loads(path.read_text(encoding="utf-8"))
    return list(document.get("keys", []))


def _write_public_keys(keys: list[dict[str, Any]]) -> None:
    path = public_keys_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"format": PUBLIC_KEYS_FORMAT, "keys": keys}, indent=2) + "\n"
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _listed(key: Ed25519PublicKey, now: datetime) -> dict[str, Any]:
    return {
        "fingerprint": fingerprint(key),
        "public_key": encode_public_key(key),
        "created_at": now.isoformat(),
        "retired_at": None,
    }


def init_key(now: datetime | None = None) -> Ed25519PublicKey:
    """Make the signing key once; `KeyAlreadyExists` when there is one."""
    path = key_path()
    if path.exists():
        raise KeyAlreadyExists(str(path))
    key = Ed25519PrivateKey.generate()
    try:
        _write_private(path, key, replace=False)
    except FileExistsError as exc:
        raise KeyAlreadyExists(str(path)) from exc
    public = key.public_key()
    known = [k for k in public_keys() if k["fingerprint"] != fingerprint(public)]
    _write_public_keys([*known, _listed(public, now or timezone.now())])
    logger.info("Created the signing key %s (%s)", path, fingerprint(public))
    return public


def rotate_key(now: datetime | None = None) -> tuple[Ed25519PublicKey, Ed25519PublicKey]:
    """Replace the signing key with a new one; the old public key stays on the list, marked
    retired, so what it signed still verifies. Returns (old, new)."""
    now = now or timezone.now()
    old = signing_key().public_key()
    new_key = Ed25519PrivateKey.generate()
    new = new_key.public_key()
    keys = public_keys()
    if fingerprint(old) not in {k["fingerprint"] for k in keys}:
        keys.append(_listed(old, now))
    for entry in keys:
        if entry["fingerprint"] == fingerprint(old):
            entry["retired_at"] = now.isoformat()
    # The new public key is listed before the private key changes: a crash in between
    # leaves a listed key that never signed, not a signing key nobody can verify.
    _write_public_keys([*keys, _listed(new, now)])
    _write_private(key_path(), new_key, replace=True)
    logger.info("Rotated the signing key: %s replaces %s", fingerprint(new), fingerprint(old))
    return old, new


def fingerprints_in(text: str) -> set[str]:
    """The fingerprints a trusted-keys file names: a public key list as `whistle keys show
    --json` writes it, or plain text with one SHA256:… fingerprint per line."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("keys"), list):
        return {str(k["fingerprint"]) for k in document["keys"] if "fingerprint" in k}
    return {
        word
        for line in text.splitlines()
        for word in line.split()[:1]
        if word.startswith("SHA256:")
    }


def trusted_fingerprints(extra: Iterable[str] = ()) -> set[str]:
    """The fingerprints a signature is trusted by: those given, those of the setting
    WHISTLE_TRUSTED_FINGERPRINTS and of the file WHISTLE_TRUSTED_KEYS_FILE; when none of
    these names any, the installation's own public key list."""
    trusted = set(extra) | set(getattr(settings, "WHISTLE_TRUSTED_FINGERPRINTS", []))
    trusted_file = getattr(settings, "WHISTLE_TRUSTED_KEYS_FILE", "")
    if trusted_file:
        trusted |= fingerprints_in(Path(trusted_file).read_text(encoding="utf-8"))
    if not trusted:
        trusted = {k["fingerprint"] for k in public_keys()}
    return trusted


# Signed documents (exports, checkpoints) ----------------------------------------------


def canonical_bytes(document: dict[str, Any]) -> bytes:
    unsigned = {k: v for k, v in document.items() if k != "signature"}
    text = json.dumps(unsigned, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.encode("utf-8")


def sign(document: dict[str, Any]) -> dict[str, Any]:
    """The document with its `signature` member; `SigningKeyMissing` without the key."""
    key = signing_key()
    public = key.public_key()
    signature = key.sign(canonical_bytes(document))
    return {
        **{k: v for k, v in document.items() if k != "signature"},
        "signature": {
            "algorithm": ALGORITHM,
            "public_key": encode_public_key(public),
            "fingerprint": fingerprint(public),
            "value": base64.b64encode(signature).decode("ascii"),
        },
    }


def check_signature(
    document: Any, reference: str, trusted: set[str] | None
) -> tuple[list[Problem], str | None]:
    """The problems of a signed document's `signature` member, and the fingerprint of the
    key that signed it (None when unreadable). With `trusted`, a signer not on it is one."""
    problems: list[Problem] = []
    signer: str | None = None
    try:
        block = document["signature"]
        if block["algorithm"] != ALGORITHM:
            raise ValueError("algorithm")
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(block["public_key"]))
        signer = fingerprint(public)
        if block.get("fingerprint") != signer:
            problems.append(
                Problem(
                    reference,
                    None,
                    "",
                    "fingerprint",
                    gettext_lazy("the fingerprint does not belong to the key"),
                )
            )
        public.verify(base64.b64decode(block["value"]), canonical_bytes(document))
    except InvalidSignature:
        problems.append(
            Problem(
                reference,
                None,
                "",
                "signature",
                gettext_lazy("the signature does not match: the document was changed after export"),
            )
        )
    except (KeyError, TypeError, ValueError, binascii.Error):
        problems.append(
            Problem(
                reference, None, "", "signature", gettext_lazy("the signature block is unreadable")
            )
        )
    if trusted is not None and signer is not None and signer not in trusted:
        problems.append(
            Problem(
                reference,
                None,
                "",
                "unknown_key",
                gettext_lazy(
                    "signed by the key %(signer)s, which is not among the trusted "
                    "fingerprints: who signed it is unknown"
                ),
                {"signer": signer},
            )
        )
    return problems, signer
