"""RFC 3161 timestamps of the trail's checkpoints from a time-stamping authority (TSA).

A signed checkpoint proves what the trails held, but its time is the operator's word. A
timestamp token from an outside authority proves that the checkpoint existed no later than
the authority's clock said: the authority signs the SHA-256 of the checkpoint document (the
checkpoint's own hash, `checkpoints.document_hash`, which a reader's view also names), not
the document. The worker asks for one after each checkpoint when WHISTLE_TIMESTAMP_URL is
set; the token is kept beside the checkpoint (`CheckpointTimestamp`), served next to it and
written next to an exported file (`FILE.tst`). `verify-trail --checkpoint FILE` checks a
token lying beside the file against the authority certificates it is told to trust
(WHISTLE_TIMESTAMP_TRUSTED_CERTS or `--tsa-cert`): the certificate is pinned, not looked up
in a chain. OpenSSL checks the same token: ``openssl ts -verify -digest HASH -in FILE.tst
-token_in -CAfile tsa.pem``.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from django.conf import settings
from django.db import IntegrityError
from django.utils.translation import gettext as _

from whistle.cases.models import Checkpoint, CheckpointTimestamp
from whistle.notifications.errors import DeliveryError
from whistle.notifications.http import post

logger = logging.getLogger(__name__)

TOKEN_SUFFIX = ".tst"
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


class TimestampError(Exception):
    """A token that cannot be had or does not prove what it should; the message says why."""


@dataclass(frozen=True)
class Stamp:
    """What a verified token says."""

    at: datetime
    authority: str
    serial: int
    certificate: str  # SHA-256 of the authority's certificate, hex

    def describe(self) -> str:
        return _("timestamped at %(at)s by %(authority)s (token serial %(serial)s)") % {
            "at": self.at.isoformat(),
            "authority": self.authority,
            "serial": self.serial,
        }


# Asking ------------------------------------------------------------------------------------


def request_bytes(digest: bytes, nonce: int) -> bytes:
    """A DER TimeStampReq for a SHA-256 digest, asking for the authority's certificate."""
    return tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": digest,
            },
            "nonce": nonce,
            "cert_req": True,
        }
    ).dump()


def token_from_response(body: bytes, digest: bytes, nonce: int) -> bytes:
    """The token out of a TimeStampResp, after checking that it answers this request."""
    try:
        response = tsp.TimeStampResp.load(body)
        status = response["status"]["status"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampError(_("The authority's answer is not a timestamp response.")) from exc
    if status not in {"granted", "granted_with_mods"}:
        reason = response["status"]["status_string"].native or response["status"]["fail_info"]
        raise TimestampError(
            _("The authority refused the request (%(status)s: %(reason)s).")
            % {"status": status, "reason": reason}
        )
    token = response["time_stamp_token"]
    info = _tst_info(token)
    if info["nonce"].native != nonce:
        raise TimestampError(_("The authority's answer is not for this request (nonce)."))
    _check_imprint(info, digest)
    return bytes(token.dump())


def fetch_token(digest: bytes, *, url: str, timeout: float) -> bytes:
    """Ask the authority at ``url`` for a token over ``digest``."""
    nonce = secrets.randbits(63)
    try:
        answer = post(
            url,
            body=request_bytes(digest, nonce),
            headers={"Content-Type": "application/timestamp-query"},
            timeout=timeout,
            who="the time-stamping authority",
        )
    except DeliveryError as exc:
        raise TimestampError(str(exc)) from exc
    if not answer.ok:
        raise TimestampError(
            _("The authority answered with HTTP status %(status)s.") % {"status": answer.status}
        )
    return token_from_response(answer.body, digest, nonce)


# Checking ----------------------------------------------------------------------------------


def _signed_data(token: Any) -> Any:
    if token["content_type"].native != "signed_data":
        raise TimestampError(_("The token is not signed data."))
    signed = token["content"]
    if signed["encap_content_info"]["content_type"].native != "tst_info":
        raise TimestampError(_("The token does not hold timestamp information."))
    return signed


def _tst_info(token: Any) -> Any:
    try:
        return _signed_data(token)["encap_content_info"]["content"].parsed
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampError(_("The token cannot be read.")) from exc


def _check_imprint(info: Any, digest: bytes) -> None:
    imprint = info["message_imprint"]
    if imprint["hash_algorithm"]["algorithm"].native != "sha256":
        raise TimestampError(_("The token is over another hash than SHA-256."))
    if imprint["hashed_message"].native != digest:
        raise TimestampError(_("The token is for another document."))


def load_certificates(path: str | Path) -> list[x509.Certificate]:
    """The authority certificates in a PEM file (OSError, ValueError when unreadable)."""
    data = Path(path).read_bytes()
    certificates = x509.load_pem_x509_certificates(data)
    if not certificates:
        raise ValueError(f"no certificate in {path}")
    return certificates


def trusted_certificates() -> list[x509.Certificate]:
    """WHISTLE_TIMESTAMP_TRUSTED_CERTS, or none."""
    path = settings.WHISTLE_TIMESTAMP_TRUSTED_CERTS
    return load_certificates(path) if path else []


def _signer_certificate(signer: Any, trusted: Sequence[x509.Certificate]) -> x509.Certificate:
    sid = signer["sid"]
    for certificate in trusted:
        if sid.name == "issuer_and_serial_number":
            issuer = sid.chosen["issuer"].dump()
            if (
                certificate.issuer.public_bytes() == issuer
                and certificate.serial_number == sid.chosen["serial_number"].native
            ):
                return certificate
        else:
            try:
                ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
            except x509.ExtensionNotFound:
                continue
            if ski.value.digest == sid.chosen.native:
                return certificate
    raise TimestampError(_("The token is signed by an authority that is not trusted."))


def _attribute(attributes: Any, name: str) -> Any:
    for attribute in attributes:
        if attribute["type"].native == name:
            values = attribute["values"]
            if len(values) != 1:
                break
            return values[0]
    raise TimestampError(_("The token's signed attribute %(name)s is missing.") % {"name": name})


def _check_signature(
    signer: Any, certificate: x509.Certificate, algorithm: hashes.HashAlgorithm
) -> None:
    # The signature covers the signed attributes encoded as a SET OF, not as the [0] field
    # they are stored in (RFC 5652, 5.4).
    attributes = signer["signed_attrs"]
    signed_bytes = b"\x31" + attributes.dump()[1:]
    signature = signer["signature"].native
    key = certificate.public_key()
    scheme = signer["signature_algorithm"].signature_algo
    try:
        if isinstance(key, rsa.RSAPublicKey) and scheme == "rsassa_pkcs1v15":
            key.verify(signature, signed_bytes, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey) and scheme == "ecdsa":
            key.verify(signature, signed_bytes, ec.ECDSA(algorithm))
        elif isinstance(key, ed25519.Ed25519PublicKey) and scheme == "ed25519":
            key.verify(signature, signed_bytes)
        else:
            raise TimestampError(
                _("The token's signature scheme %(scheme)s is not supported.") % {"scheme": scheme}
            )
    except InvalidSignature as exc:
        raise TimestampError(_("The token's signature does not verify.")) from exc


def _authority_name(info: Any, certificate: x509.Certificate) -> str:
    tsa = info["tsa"]
    if tsa.native is not None and tsa.name == "directory_name":
        return str(tsa.chosen.human_friendly)
    return certificate.subject.rfc4514_string()


def verify_token(token_bytes: bytes, digest: bytes, trusted: Sequence[x509.Certificate]) -> Stamp:
    """Check that the token is an authority's signature over ``digest`` by one of the
    ``trusted`` certificates, within its validity and for time-stamping; what it says."""
    try:
        token = cms.ContentInfo.load(token_bytes)
        signed = _signed_data(token)
        signers = signed["signer_infos"]
        info_bytes = signed["encap_content_info"]["content"].contents
        if len(signers) != 1:
            raise TimestampError(_("The token must have exactly one signer."))
        signer = signers[0]
        certificate = _signer_certificate(signer, trusted)
        attributes = signer["signed_attrs"]
        if attributes.native is None:
            raise TimestampError(_("The token's signed attributes are missing."))
        if _attribute(attributes, "content_type").native != "tst_info":
            raise TimestampError(_("The token's signed content type is not timestamp information."))
        digest_name = signer["digest_algorithm"]["algorithm"].native
        if digest_name not in _HASHES:
            raise TimestampError(
                _("The token's digest %(name)s is not supported.") % {"name": digest_name}
            )
        # Authentic first: the information must be what the authority signed, before any of
        # it is believed.
        content_digest = hashlib.new(digest_name, info_bytes).digest()
        if _attribute(attributes, "message_digest").native != content_digest:
            raise TimestampError(_("The token's information was changed after it was signed."))
        _check_signature(signer, certificate, _HASHES[digest_name]())
        info = signed["encap_content_info"]["content"].parsed
        _check_imprint(info, digest)
        at = info["gen_time"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampError(_("The token cannot be read.")) from exc
    try:
        usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is None or x509.ExtendedKeyUsageOID.TIME_STAMPING not in usage:
        raise TimestampError(_("The authority's certificate is not for time-stamping."))
    if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
        raise TimestampError(_("The token's time lies outside its certificate's validity."))
    return Stamp(
        at=at,
        authority=_authority_name(info, certificate),
        serial=int(info["serial_number"].native),
        certificate=certificate.fingerprint(hashes.SHA256()).hex(),
    )


# The worker --------------------------------------------------------------------------------

# Checkpoint numbers whose token could not be had, and when to ask again (per process).
_next_try: dict[int, datetime] = {}
_RETRY_AFTER = timedelta(minutes=5)
# Checkpoints older than this without a token are left without one.
_GIVE_UP_AFTER = timedelta(days=1)


def stamp(checkpoint: Checkpoint, *, now: datetime) -> CheckpointTimestamp:
    """Ask the configured authority for a token over ``checkpoint`` and keep it. The request
    is made outside any transaction: TimestampError when it fails or proves nothing."""
    url = settings.WHISTLE_TIMESTAMP_URL
    if not url:
        raise TimestampError(_("No time-stamping authority is configured."))
    digest = bytes.fromhex(checkpoint.hash)
    token = fetch_token(digest, url=url, timeout=settings.WHISTLE_TIMESTAMP_TIMEOUT_SECONDS)
    try:
        trusted = trusted_certificates()
    except (OSError, ValueError) as exc:
        raise TimestampError(
            _("Cannot read the time-stamping authority's certificates: %(error)s") % {"error": exc}
        ) from exc
    if trusted:
        stamped_at = verify_token(token, digest, trusted).at
    else:
        stamped_at = _tst_info(cms.ContentInfo.load(token))["gen_time"].native
    return CheckpointTimestamp.objects.create(
        checkpoint=checkpoint,
        token=token,
        authority_url=url,
        stamped_at=stamped_at,
        received_at=now,
    )


def sweep(now: datetime, *, batch: int) -> int:
    """The worker's pass: a token for each recent checkpoint that has none yet."""
    if not settings.WHISTLE_TIMESTAMP_URL:
        return 0
    waiting = Checkpoint.objects.filter(
        timestamp__isnull=True, created_at__gte=now - _GIVE_UP_AFTER
    ).order_by("-number")[:batch]
    done = 0
    for checkpoint in waiting:
        if _next_try.get(checkpoint.number, now) > now:
            continue
        try:
            stamp(checkpoint, now=now)
        except TimestampError as exc:
            _next_try[checkpoint.number] = now + _RETRY_AFTER
            logger.warning("No timestamp for checkpoint #%s: %s", checkpoint.number, exc)
            continue
        except IntegrityError:
            continue  # another worker kept one first
        _next_try.pop(checkpoint.number, None)
        done += 1
    return done


def token_beside(path: Path) -> Path:
    """Where the token of a checkpoint file lies: FILE.tst."""
    return path.with_name(path.name + TOKEN_SUFFIX)
