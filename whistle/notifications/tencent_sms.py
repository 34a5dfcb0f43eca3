"""Tencent Cloud SMS (腾讯云短信): the ``SendSms`` action of API 3.0, version 2021-01-11,
signed with TC3-HMAC-SHA256.

The signature, as Tencent Cloud publishes it:

    CanonicalRequest = Method \\n "/" \\n "" \\n CanonicalHeaders \\n SignedHeaders \\n
                       hex(SHA256(body))
    StringToSign     = "TC3-HMAC-SHA256" \\n Timestamp \\n Date/service/tc3_request \\n
                       hex(SHA256(CanonicalRequest))
    SecretDate       = HMAC-SHA256("TC3" + SecretKey, Date)
    SecretService    = HMAC-SHA256(SecretDate, service)
    SecretSigning    = HMAC-SHA256(SecretService, "tc3_request")
    Signature        = hex(HMAC-SHA256(SecretSigning, StringToSign))

with the canonical headers ``content-type``, ``host`` and ``x-tc-action`` (its value in lower
case), and Date the UTC date of the timestamp (not the local one: a Beijing date would fail
every night between midnight and 08:00).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.utils import timezone

from whistle.notifications import http
from whistle.notifications.conf import http_timeout_seconds, setting
from whistle.notifications.errors import DeliveryError, PermanentDeliveryError
from whistle.notifications.receipts import Receipt, tencent_pulled_receipts
from whistle.notifications.sms import SmsMessage, plain_phone, template_for

ALGORITHM = "TC3-HMAC-SHA256"
SERVICE = "sms"
ACTION = "SendSms"
PULL_ACTION = "PullSmsSendStatus"
# The most reports one pull may ask for.
PULL_LIMIT = 100
API_VERSION = "2021-01-11"
DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com"
DEFAULT_REGION = "ap-guangzhou"
CONTENT_TYPE = "application/json; charset=utf-8"

# Error codes (whole, or the family before the first dot) after which sending the same
# message again cannot succeed. Throttling (RequestLimitExceeded, LimitExceeded.*), internal
# errors and an expired signature (a clock that drifted) are tried again later.
PERMANENT_CODES = frozenset(
    {
        "FailedOperation.TemplateIncorrectOrUnapproved",
        "FailedOperation.SignatureIncorrectOrUnapproved",
        "FailedOperation.PhoneNumberInBlacklist",
        "FailedOperation.ContainSensitiveWord",
        "FailedOperation.MissingTemplateToModify",
        "AuthFailure.SignatureFailure",
        "AuthFailure.SecretIdNotFound",
        "AuthFailure.InvalidSecretId",
        "AuthFailure.UnauthorizedOperation",
    }
)
PERMANENT_FAMILIES = frozenset(
    {"InvalidParameter", "InvalidParameterValue", "MissingParameter", "UnauthorizedOperation"}
)


def canonical_request(*, host: str, action: str, body: bytes) -> str:
    # Header names and values in lower case.
    return "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{CONTENT_TYPE}\nhost:{host.lower()}\nx-tc-action:{action.lower()}\n",
            "content-type;host;x-tc-action",
            hashlib.sha256(body).hexdigest(),
        ]
    )


def string_to_sign(*, timestamp: int, service: str, canonical: str) -> str:
    date = datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d")
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{timestamp}\n{date}/{service}/tc3_request\n{digest}"


def signature(secret_key: str, *, timestamp: int, service: str, to_sign: str) -> str:
    date = datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d")
    key = ("TC3" + secret_key).encode("utf-8")
    for part in (date, service, "tc3_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization(
    secret_id: str, secret_key: str, *, host: str, action: str, body: bytes, timestamp: int
) -> str:
    to_sign = string_to_sign(
        timestamp=timestamp,
        service=SERVICE,
        canonical=canonical_request(host=host, action=action, body=body),
    )
    date = datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d")
    value = signature(secret_key, timestamp=timestamp, service=SERVICE, to_sign=to_sign)
    return (
        f"{ALGORITHM} Credential={secret_id}/{date}/{SERVICE}/tc3_request, "
        f"SignedHeaders=content-type;host;x-tc-action, Signature={value}"
    )


def e164(phone: str) -> str:
    """Tencent takes E.164 numbers; a mainland number is usually stored without +86."""
    number = plain_phone(phone)
    if number.startswith("+"):
        return number
    if number.startswith("00"):
        return "+" + number[2:]
    return "+86" + number


class TencentSmsBackend:
    """Sends each message with ``SendSms``; returns Tencent's SerialNo for it."""

    def __init__(self) -> None:
        self.secret_id = setting("WHISTLE_TENCENT_SMS_SECRET_ID")
        self.secret_key = setting("WHISTLE_TENCENT_SMS_SECRET_KEY")
        self.sdk_app_id = setting("WHISTLE_TENCENT_SMS_SDK_APP_ID")
        self.region = setting("WHISTLE_TENCENT_SMS_REGION", DEFAULT_REGION)
        self.endpoint = setting("WHISTLE_TENCENT_SMS_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")
        self.sign_name = setting("WHISTLE_SMS_SIGN_NAME")

    def send(self, message: SmsMessage) -> str:
        if not (self.secret_id and self.secret_key and self.sdk_app_id and self.sign_name):
            raise PermanentDeliveryError(
                "Tencent Cloud SMS needs WHISTLE_TENCENT_SMS_SECRET_ID, "
                "WHISTLE_TENCENT_SMS_SECRET_KEY, WHISTLE_TENCENT_SMS_SDK_APP_ID and "
                "WHISTLE_SMS_SIGN_NAME"
            )
        template = template_for(message.kind)
        body = json.dumps(
            {
                "PhoneNumberSet": [e164(message.phone)],
                "SmsSdkAppId": self.sdk_app_id,
                "SignName": self.sign_name,
                "TemplateId": template.template,
                "TemplateParamSet": [value for _, value in template.values(message)],
                # Returned as it is with the delivery receipt: ties it to the outbox row.
                "SessionContext": message.delivery_id,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
        return _accepted(self._call(ACTION, body))

    def pull_receipts(self) -> list[Receipt]:
        """The delivery receipts Tencent holds that nobody has pulled yet (at most 100; each
        is given once). Tencent keeps them for pulling only while no status callback is set
        up for the application."""
        if not (self.secret_id and self.secret_key and self.sdk_app_id):
            raise PermanentDeliveryError("Tencent Cloud SMS credentials are not set")
        body = json.dumps(
            {"SmsSdkAppId": self.sdk_app_id, "Limit": PULL_LIMIT}, separators=(",", ":")
        ).encode("utf-8")
        answer = self._call(PULL_ACTION, body)
        document = answer.json()
        response = document.get("Response") if isinstance(document, dict) else None
        error = response.get("Error") if isinstance(response, dict) else None
        if isinstance(error, dict):
            raise _refusal(str(error.get("Code", "")), str(error.get("Message", "")))
        return tencent_pulled_receipts(document)

    def _call(self, action: str, body: bytes) -> http.Answer:
        host = urlsplit(self.endpoint).netloc
        timestamp = int(timezone.now().timestamp())
        answer = http.post(
            f"{self.endpoint}/",
            body=body,
            headers={
                "Authorization": authorization(
                    self.secret_id,
                    self.secret_key,
                    host=host,
                    action=action,
                    body=body,
                    timestamp=timestamp,
                ),
                "Content-Type": CONTENT_TYPE,
                "Host": host,
                "X-TC-Action": action,
                "X-TC-Timestamp": str(timestamp),
                "X-TC-Version": API_VERSION,
                "X-TC-Region": self.region,
            },
            timeout=http_timeout_seconds(),
            who="Tencent Cloud SMS",
        )
        return answer


def _refusal(code: str, text: str) -> DeliveryError:
    reason = f"Tencent Cloud SMS refused the message: {code} {text}".strip()
    if code in PERMANENT_CODES or code.split(".", 1)[0] in PERMANENT_FAMILIES:
        return PermanentDeliveryError(reason)
    return DeliveryError(reason)


def _accepted(answer: http.Answer) -> str:
    document = answer.json()
    response = document.get("Response") if isinstance(document, dict) else None
    if not isinstance(response, dict):
        raise DeliveryError(f"Tencent Cloud SMS answered HTTP {answer.status} without JSON")
    error = response.get("Error")
    if isinstance(error, dict):
        raise _refusal(str(error.get("Code", "")), str(error.get("Message", "")))
    statuses = response.get("SendStatusSet") or []
    if not statuses or not isinstance(statuses[0], dict):
        raise DeliveryError("Tencent Cloud SMS answered without a send status")
    status = statuses[0]
    code = str(status.get("Code", ""))
    if code != "Ok":
        raise _refusal(code, str(status.get("Message", "")))
    return str(status.get("SerialNo", ""))
