"""Alibaba Cloud SMS (阿里云短信服务): the ``SendSms`` operation (API version 2017-05-25),
signed with Alibaba Cloud's V3 request signature, ACS3-HMAC-SHA256.

V3 rather than the older RPC signature (HMAC-SHA1 over the sorted query): SHA-256 instead of
SHA-1, the request body and the ``x-acs-*`` headers are covered too, and it is the signature
Alibaba Cloud recommends for new callers of every product.

The signature, as Alibaba Cloud publishes it:

    CanonicalRequest = Method \\n CanonicalURI \\n CanonicalQueryString \\n
                       CanonicalHeaders \\n SignedHeaders \\n hex(SHA256(body))
    StringToSign     = "ACS3-HMAC-SHA256" \\n hex(SHA256(CanonicalRequest))
    Signature        = hex(HMAC-SHA256(AccessKeySecret, StringToSign))

The query is each parameter's name and value percent-encoded (RFC 3986: only letters,
digits and ``-_.~`` stay as they are), sorted by name and joined with ``&``; the canonical
headers are ``host``, ``content-type`` and every ``x-acs-*`` header, lower-cased, trimmed,
sorted, each as ``name:value\\n``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from urllib.parse import quote, urlsplit

from django.utils import timezone

from whistle.notifications import http
from whistle.notifications.conf import http_timeout_seconds, setting
from whistle.notifications.errors import DeliveryError, PermanentDeliveryError
from whistle.notifications.sms import SmsMessage, plain_phone, template_for

ALGORITHM = "ACS3-HMAC-SHA256"
ACTION = "SendSms"
API_VERSION = "2017-05-25"
DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com"

# Codes after which sending the same message again cannot succeed: a template, sign name or
# number the provider refuses, or credentials it does not accept. Anything else (throttling
# such as isv.BUSINESS_LIMIT_CONTROL, system errors) is tried again later.
PERMANENT_CODES = frozenset(
    {
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.SMS_SIGNATURE_SCENE_ILLEGAL",
        "isv.SMS_SIGN_ILLEGAL",
        "isv.SIGN_STATE_ILLEGAL",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.TEMPLATE_PARAMS_ILLEGAL",
        "isv.INVALID_PARAMETERS",
        "isv.INVALID_JSON_PARAM",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.SMS_CONTENT_ILLEGAL",
        "isv.ACCOUNT_NOT_EXISTS",
        "isv.PRODUCT_UN_SUBSCRIPT",
        "isv.PRODUCT_UNSUBSCRIBE",
        "isp.RAM_PERMISSION_DENY",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "Forbidden.RAM",
    }
)


def percent_encode(value: str) -> str:
    return quote(value, safe="-_.~")


def canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(
        f"{percent_encode(name)}={percent_encode(params[name])}" for name in sorted(params)
    )


def signature(
    secret: str,
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
) -> tuple[str, str]:
    """The signed header names and the signature of one request. ``headers`` are the ones to
    sign (host, content-type, x-acs-*), under any case."""
    canonical = {name.lower(): value.strip() for name, value in headers.items()}
    names = sorted(canonical)
    canonical_request = "\n".join(
        [
            method,
            path,
            query,
            "".join(f"{name}:{canonical[name]}\n" for name in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical_request.encode('utf-8')).hexdigest()}"
    digest = hmac.new(secret.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256)
    return ";".join(names), digest.hexdigest()


class AliyunSmsBackend:
    """Sends each message with ``SendSms``; returns Alibaba's BizId for it."""

    def __init__(self) -> None:
        self.access_key_id = setting("WHISTLE_ALIYUN_SMS_ACCESS_KEY_ID")
        self.access_key_secret = setting("WHISTLE_ALIYUN_SMS_ACCESS_KEY_SECRET")
        self.endpoint = setting("WHISTLE_ALIYUN_SMS_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")
        self.sign_name = setting("WHISTLE_SMS_SIGN_NAME")

    def send(self, message: SmsMessage) -> str:
        if not (self.access_key_id and self.access_key_secret and self.sign_name):
            raise PermanentDeliveryError(
                "Alibaba Cloud SMS needs WHISTLE_ALIYUN_SMS_ACCESS_KEY_ID, "
                "WHISTLE_ALIYUN_SMS_ACCESS_KEY_SECRET and WHISTLE_SMS_SIGN_NAME"
            )
        template = template_for(message.kind)
        params = {
            "PhoneNumbers": plain_phone(message.phone),
            "SignName": self.sign_name,
            "TemplateCode": template.template,
            "TemplateParam": json.dumps(
                dict(template.values(message)), ensure_ascii=False, separators=(",", ":")
            ),
            # Returned with the delivery receipt: ties it to the outbox row.
            "OutId": message.delivery_id,
        }
        query = canonical_query(params)
        body = b""
        signed = {
            "host": urlsplit(self.endpoint).netloc,
            # Sent by every POST; a header that is sent must be signed.
            "content-type": "application/x-www-form-urlencoded",
            "x-acs-action": ACTION,
            "x-acs-version": API_VERSION,
            "x-acs-date": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "x-acs-signature-nonce": uuid.uuid4().hex,
            "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        }
        names, value = signature(
            self.access_key_secret, method="POST", path="/", query=query, headers=signed, body=body
        )
        answer = http.post(
            f"{self.endpoint}/?{query}",
            body=body,
            headers={
                **signed,
                "Accept": "application/json",
                "Authorization": (
                    f"{ALGORITHM} Credential={self.access_key_id},"
                    f"SignedHeaders={names},Signature={value}"
                ),
            },
            timeout=http_timeout_seconds(),
            who="Alibaba Cloud SMS",
        )
        return _accepted(answer)


def _accepted(answer: http.Answer) -> str:
    document = answer.json()
    if not isinstance(document, dict):
        raise DeliveryError(f"Alibaba Cloud SMS answered HTTP {answer.status} without JSON")
    code = str(document.get("Code", ""))
    if answer.ok and code == "OK":
        return str(document.get("BizId", ""))
    reason = f"Alibaba Cloud SMS refused the message: {code} {document.get('Message', '')}"
    if code in PERMANENT_CODES:
        raise PermanentDeliveryError(reason.strip())
    raise DeliveryError(reason.strip())
