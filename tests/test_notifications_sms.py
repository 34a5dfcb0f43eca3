"""SMS through Alibaba Cloud and Tencent Cloud: each provider's HTTPS API with its request
signature, checked by a loopback fake that recomputes the signature from the provider's
published algorithm; templates and sign names from the settings; throttling is retried,
a refused template fails at once and the message falls through to the next channel."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import runpy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.fixtures_channels import Received, fake_service_fixture  # noqa: F401  (fixture)
from whistle.env import ImproperSetting
from whistle.notifications import aliyun_sms, receipt_pull, tencent_sms
from whistle.notifications.delivery import sweep
from whistle.notifications.models import Channel, Notification, Status
from whistle.notifications.outbox import notify
from whistle.organisation.models import Person

SETTINGS = django_settings.BASE_DIR / "whistle" / "settings.py"
# 17:30 in Beijing.
T0 = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)

TENCENT_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3longtan"
TENCENT_KEY = "Gu5t9xGARNpq86cd98joQYCN3longtan"
ALIYUN_ID = "LTAI5tLongtanStreetOffice"
ALIYUN_SECRET = "longtan-access-key-secret-2026"

TEMPLATES = {
    "summons.created": {
        "template": "2046818",
        "params": {"case": "case", "subject": "subject:20", "link": "link"},
    },
    "*": {"template": "2046000", "params": {"what": "subject:12"}},
}


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def officer(db) -> Person:
    """王建国, a department officer with a mobile phone and an e-mail address."""
    return Person.objects.create_user(
        username="wang-jianguo",
        password="pw-123456",
        name="王建国",
        phone="138 0013 8000",
        email="wang.jianguo@cgw.dongcheng.example",
    )


@pytest.fixture(autouse=True)
def _providers(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://whistle.dongcheng.example"
    settings.WHISTLE_SMS_SIGN_NAME = "东城区城市管理委员会"
    settings.WHISTLE_SMS_TEMPLATES = TEMPLATES
    settings.WHISTLE_TENCENT_SMS_SECRET_ID = TENCENT_ID
    settings.WHISTLE_TENCENT_SMS_SECRET_KEY = TENCENT_KEY
    settings.WHISTLE_TENCENT_SMS_SDK_APP_ID = "1400787878"
    settings.WHISTLE_TENCENT_SMS_REGION = "ap-beijing"
    settings.WHISTLE_ALIYUN_SMS_ACCESS_KEY_ID = ALIYUN_ID
    settings.WHISTLE_ALIYUN_SMS_ACCESS_KEY_SECRET = ALIYUN_SECRET
    settings.WHISTLE_NOTIFY_RETRY_SECONDS = 60
    settings.WHISTLE_NOTIFY_MAX_ATTEMPTS = 8


def _summon(officer: Person, kind: str = "summons.created") -> Notification:
    notify(
        officer,
        kind=kind,
        subject="龙潭街道吹哨：人民市场东巷占道经营，请于18:00前到场报到",
        body="请于30分钟内到场报到。",
        link="/cases/LT-2026-0042/",
        dedupe_key=f"event:{kind}",
        payload={"case": "LT-2026-0042"},
    )
    return Notification.objects.get(recipient=officer, channel=Channel.SMS)


def _sweep() -> int:
    return sweep(timezone.now(), batch=50)


# Tencent Cloud: TC3-HMAC-SHA256, verified as the API 3.0 documentation describes ------------


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def tencent_expected_authorization(request: Received, secret_id: str, secret_key: str) -> str:
    """The Authorization header Tencent Cloud computes for this request."""
    timestamp = int(request.headers["X-TC-Timestamp"])
    date = datetime.fromtimestamp(timestamp, tz=UTC).date().isoformat()
    signed = ["content-type", "host", "x-tc-action"]
    # Header names and values in lower case, trimmed.
    canonical_headers = "".join(f"{h}:{request.headers[h].strip().lower()}\n" for h in signed)
    path, _, query = request.target.partition("?")
    canonical_request = "\n".join(
        [
            request.method,
            path,
            query,
            canonical_headers,
            ";".join(signed),
            hashlib.sha256(request.body).hexdigest(),
        ]
    )
    scope = f"{date}/sms/tc3_request"
    string_to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            scope,
            hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
        ]
    )
    key = _hmac(("TC3" + secret_key).encode("utf-8"), date)
    key = _hmac(key, "sms")
    key = _hmac(key, "tc3_request")
    signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders={';'.join(signed)}, Signature={signature}"
    )


def tencent_answer(request: Received, *, code: str = "Ok") -> tuple[int, dict]:
    """Tencent Cloud's answers: an Error for a bad signature, else one send status."""
    request_id = "ed93f3cb-f35e-473f-b9f3-0d451b8b79c6"
    expected = tencent_expected_authorization(request, TENCENT_ID, TENCENT_KEY)
    if not hmac.compare_digest(expected, request.headers["Authorization"]):
        error = {"Code": "AuthFailure.SignatureFailure", "Message": "The provided credentials"}
        return 200, {"Response": {"Error": error, "RequestId": request_id}}
    if code == "RequestLimitExceeded":
        error = {"Code": code, "Message": "请求的次数超过了频率限制。"}
        return 200, {"Response": {"Error": error, "RequestId": request_id}}
    phone = request.json()["PhoneNumberSet"][0]
    status = {
        "SerialNo": "2645:375289184016893481620150032" if code == "Ok" else "",
        "PhoneNumber": phone,
        "Fee": 1 if code == "Ok" else 0,
        "SessionContext": request.json().get("SessionContext", ""),
        "Code": code,
        "Message": "send success" if code == "Ok" else "template incorrect or unapproved",
        "IsoCode": "CN",
    }
    return 200, {"Response": {"SendStatusSet": [status], "RequestId": request_id}}


@pytest.fixture
def tencent(settings, fake_service):
    service = fake_service(tencent_answer)
    settings.WHISTLE_SMS_BACKEND = "tencent"
    settings.WHISTLE_TENCENT_SMS_ENDPOINT = service.url
    return service


def test_the_tencent_signature_reproduces_the_published_example():
    # The worked example of Tencent Cloud's "Signature v3" page (CVM DescribeInstances,
    # 2019-02-25, the SecretKey shown as 32 asterisks).
    body = (
        b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    )
    canonical = tencent_sms.canonical_request(
        host="cvm.tencentcloudapi.com", action="DescribeInstances", body=body
    )
    assert hashlib.sha256(body).hexdigest() == (
        "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    )
    to_sign = tencent_sms.string_to_sign(timestamp=1551113065, service="cvm", canonical=canonical)
    assert to_sign == (
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
        "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84"
    )
    signature = tencent_sms.signature(
        "*" * 32, timestamp=1551113065, service="cvm", to_sign=to_sign
    )
    assert signature == "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f"


def test_a_summons_goes_to_tencent_signed_with_the_kinds_template_and_sign_name(
    tencent, officer, clock
):
    row = _summon(officer)
    assert _sweep() == 1

    [request] = tencent.requests
    assert request.headers["Authorization"] == tencent_expected_authorization(
        request, TENCENT_ID, TENCENT_KEY
    )
    assert request.headers["X-TC-Action"] == "SendSms"
    assert request.headers["X-TC-Version"] == "2021-01-11"
    assert request.headers["X-TC-Region"] == "ap-beijing"
    assert request.headers["X-TC-Timestamp"] == str(int(T0.timestamp()))
    assert request.json() == {
        "PhoneNumberSet": ["+8613800138000"],
        "SmsSdkAppId": "1400787878",
        "SignName": "东城区城市管理委员会",
        "TemplateId": "2046818",
        "TemplateParamSet": [
            "LT-2026-0042",
            "龙潭街道吹哨：人民市场东巷占道经营，请…",
            "https://whistle.dongcheng.example/cases/LT-2026-0042/",
        ],
        "SessionContext": str(row.uuid),
    }
    row.refresh_from_db()
    assert (row.status, row.sent_at, row.attempts) == (Status.SENT, T0, 1)
    assert row.provider_ref == "2645:375289184016893481620150032"


def test_a_request_signed_with_the_wrong_key_is_refused_and_not_retried(
    settings, tencent, officer, clock
):
    settings.WHISTLE_TENCENT_SMS_SECRET_KEY = "not-the-key-of-this-account"
    row = _summon(officer)
    _sweep()

    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert row.last_error.startswith("Tencent Cloud SMS refused the message: AuthFailure")


@pytest.mark.parametrize(
    "code", ["LimitExceeded.PhoneNumberThirtySecondLimit", "RequestLimitExceeded"]
)
def test_tencent_throttling_is_tried_again_a_minute_later(tencent, officer, clock, code):
    tencent.answer = lambda request: tencent_answer(request, code=code)
    row = _summon(officer)
    _sweep()

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    assert row.next_attempt_at == T0 + timedelta(minutes=1)
    assert code in row.last_error

    tencent.answer = tencent_answer
    clock.move_to(T0 + timedelta(minutes=1))
    _sweep()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SENT, 2)


def test_a_template_tencent_refuses_fails_at_once_and_the_message_goes_by_email(
    tencent, officer, clock
):
    tencent.answer = lambda request: tencent_answer(
        request, code="FailedOperation.TemplateIncorrectOrUnapproved"
    )
    row = _summon(officer)
    _sweep()

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.FAILED, 1)
    assert "FailedOperation.TemplateIncorrectOrUnapproved" in row.last_error
    email = Notification.objects.get(recipient=officer, channel=Channel.EMAIL)
    assert (email.status, email.address) == (Status.PENDING, "wang.jianguo@cgw.dongcheng.example")
    assert email.dedupe_key == row.dedupe_key


# Alibaba Cloud: ACS3-HMAC-SHA256, verified as the V3 signature documentation describes -----


def _rfc3986(text: str) -> str:
    return quote(text, safe="~-._")


def aliyun_expected_signature(request: Received, secret: str) -> tuple[str, str]:
    """The SignedHeaders and Signature Alibaba Cloud computes for this request."""
    path, _, query = request.target.partition("?")
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    canonical_query = "&".join(f"{_rfc3986(k)}={_rfc3986(v)}" for k, v in pairs)
    names = sorted(
        name.lower()
        for name in request.headers
        if name.lower().startswith("x-acs-") or name.lower() in ("host", "content-type")
    )
    canonical_headers = "".join(f"{n}:{request.headers[n].strip()}\n" for n in names)
    canonical_request = "\n".join(
        [
            request.method,
            path,
            canonical_query,
            canonical_headers,
            ";".join(names),
            hashlib.sha256(request.body).hexdigest(),
        ]
    )
    string_to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical_request.encode()).hexdigest()
    digest = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    return ";".join(names), digest


def aliyun_answer(request: Received, *, code: str = "OK") -> tuple[int, dict]:
    request_id = "F655A8D5-B967-440B-8683-DAD6FF8DE990"
    names, signature = aliyun_expected_signature(request, ALIYUN_SECRET)
    expected = (
        f"ACS3-HMAC-SHA256 Credential={ALIYUN_ID},SignedHeaders={names},Signature={signature}"
    )
    content_hash = hashlib.sha256(request.body).hexdigest()
    if (
        request.headers["Authorization"] != expected
        or request.headers["x-acs-content-sha256"] != content_hash
    ):
        return 400, {
            "RequestId": request_id,
            "Code": "SignatureDoesNotMatch",
            "Message": "Specified signature does not match our calculation.",
        }
    if code != "OK":
        return 200, {"RequestId": request_id, "Code": code, "Message": "触发业务流控"}
    accepted = {"Code": "OK", "Message": "OK", "BizId": "9006197469364984400"}
    return 200, {"RequestId": request_id, **accepted}


@pytest.fixture
def aliyun(settings, fake_service):
    service = fake_service(aliyun_answer)
    settings.WHISTLE_SMS_BACKEND = "aliyun"
    settings.WHISTLE_ALIYUN_SMS_ENDPOINT = service.url
    return service


def test_the_alibaba_signature_reproduces_the_published_example():
    # The example request of Alibaba Cloud's "V3 request body & signature" page.
    headers = {
        "host": "ecs.cn-shanghai.aliyuncs.com",
        "x-acs-action": "RunInstances",
        "x-acs-version": "2014-05-26",
        "x-acs-date": "2023-10-26T09:01:01Z",
        "x-acs-signature-nonce": "d410180a5abf7fe235dd9b74aca91fc0",
        "x-acs-content-sha256": (
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        ),
    }
    names, signature = aliyun_sms.signature(
        "YourAccessKeySecret",
        method="POST",
        path="/",
        query=aliyun_sms.canonical_query(
            {
                "RegionId": "cn-shanghai",
                "ImageId": "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
            }
        ),
        headers=headers,
        body=b"",
    )
    assert names == (
        "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
    )
    assert signature == "e521358f7776c97df52e6b2891a8bc73026794a071b50c3323388c4e0df64804"


def test_a_summons_goes_to_alibaba_signed_with_the_kinds_template_and_sign_name(
    aliyun, officer, clock
):
    row = _summon(officer)
    assert _sweep() == 1

    [request] = aliyun.requests
    assert request.headers["x-acs-action"] == "SendSms"
    assert request.headers["x-acs-version"] == "2017-05-25"
    assert request.headers["x-acs-date"] == "2026-11-26T09:30:00Z"
    assert urlsplit(request.target).path == "/"
    params = dict(parse_qsl(urlsplit(request.target).query))
    assert params == {
        "PhoneNumbers": "13800138000",
        "SignName": "东城区城市管理委员会",
        "TemplateCode": "2046818",
        "TemplateParam": (
            '{"case":"LT-2026-0042","subject":"龙潭街道吹哨：人民市场东巷占道经营，请…",'
            '"link":"https://whistle.dongcheng.example/cases/LT-2026-0042/"}'
        ),
        "OutId": str(row.uuid),
    }
    row.refresh_from_db()
    assert (row.status, row.provider_ref) == (Status.SENT, "9006197469364984400")


def test_a_request_alibaba_cannot_verify_fails_without_retrying(settings, aliyun, officer, clock):
    settings.WHISTLE_ALIYUN_SMS_ACCESS_KEY_SECRET = "an-old-secret"
    row = _summon(officer)
    _sweep()

    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert "SignatureDoesNotMatch" in row.last_error


def test_alibaba_business_throttling_is_tried_again_later(aliyun, officer, clock):
    aliyun.answer = lambda request: aliyun_answer(request, code="isv.BUSINESS_LIMIT_CONTROL")
    row = _summon(officer)
    _sweep()

    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at) == (
        Status.PENDING,
        1,
        T0 + timedelta(minutes=1),
    )
    assert "isv.BUSINESS_LIMIT_CONTROL" in row.last_error


def test_an_illegal_alibaba_template_fails_at_once_and_the_message_goes_by_email(
    aliyun, officer, clock
):
    aliyun.answer = lambda request: aliyun_answer(request, code="isv.SMS_TEMPLATE_ILLEGAL")
    row = _summon(officer)
    _sweep()

    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert Notification.objects.filter(
        recipient=officer, channel=Channel.EMAIL, status=Status.PENDING
    ).exists()


# Templates ---------------------------------------------------------------------------------


def test_a_kind_without_its_own_template_uses_the_default_one(aliyun, officer, clock):
    _summon(officer, kind="summons.reminder")
    _sweep()

    params = dict(parse_qsl(urlsplit(aliyun.requests[0].target).query))
    assert params["TemplateCode"] == "2046000"
    assert params["TemplateParam"] == '{"what":"龙潭街道吹哨：人民市场…"}'


def test_a_kind_without_any_template_is_not_sent_as_free_text(settings, aliyun, officer, clock):
    settings.WHISTLE_SMS_TEMPLATES = {"summons.created": TEMPLATES["summons.created"]}
    row = _summon(officer, kind="case.closed")
    _sweep()

    assert aliyun.requests == []
    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert row.last_error == "no SMS template for 'case.closed' in WHISTLE_SMS_TEMPLATES"


def test_a_template_parameter_the_message_does_not_carry_fails_the_sms(
    settings, tencent, officer, clock
):
    settings.WHISTLE_SMS_TEMPLATES = {"*": {"template": "1", "params": {"1": "township"}}}
    row = _summon(officer)
    _sweep()

    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert "takes 'township'" in row.last_error


@pytest.mark.parametrize(
    ("templates", "complaint"),
    [
        ({"summons.created": {"params": {}}}, "the template id or code is missing"),
        ({"*": {"template": "1", "params": {"1": "subject:x"}}}, "parameter 1 must name a field"),
        ({"*": {"template": "1", "text": "free"}}, "expected"),
    ],
)
def test_the_system_check_names_a_template_it_cannot_use(settings, templates, complaint):
    settings.WHISTLE_SMS_TEMPLATES = templates
    with pytest.raises(SystemCheckError, match=re.escape(complaint)):
        call_command("check")


def test_the_system_check_names_the_missing_provider_settings(settings):
    settings.WHISTLE_SMS_BACKEND = "tencent"
    settings.WHISTLE_TENCENT_SMS_SDK_APP_ID = ""
    with pytest.raises(SystemCheckError, match="WHISTLE_TENCENT_SMS_SDK_APP_ID"):
        call_command("check")


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        (
            '{"summons.created": {"template": "SMS_1"',
            "WHISTLE_SMS_TEMPLATES must be a JSON object:",
        ),
        ('["SMS_1"]', "WHISTLE_SMS_TEMPLATES must be a JSON object"),
    ],
)
def test_templates_that_are_not_a_json_object_stop_the_start(monkeypatch, raw, complaint):
    monkeypatch.setenv("WHISTLE_SMS_TEMPLATES", raw)
    with pytest.raises(ImproperSetting, match=re.escape(complaint)):
        runpy.run_path(str(SETTINGS))


def test_the_templates_are_read_from_the_environment_as_json(monkeypatch):
    monkeypatch.setenv("WHISTLE_SMS_TEMPLATES", json.dumps(TEMPLATES, ensure_ascii=False))
    monkeypatch.setenv("WHISTLE_SMS_SIGN_NAME", "东城区城市管理委员会")
    read = runpy.run_path(str(SETTINGS))
    assert read["WHISTLE_SMS_TEMPLATES"] == TEMPLATES
    assert read["WHISTLE_SMS_SIGN_NAME"] == "东城区城市管理委员会"


# Delivery receipts: Alibaba's SmsReport push and Tencent's status callback ---------------

RECEIPT_TOKEN = "kV3q9ZrLm2Tx8WbN4yHs7PcD1fGj"
ALIYUN_BIZ_ID = "9006197469364984400"
TENCENT_SID = "2645:375289184016893481620150032"


@pytest.fixture
def receipts(settings) -> str:
    settings.WHISTLE_SMS_RECEIPT_TOKEN = RECEIPT_TOKEN
    return RECEIPT_TOKEN


def _aliyun_report(row: Notification, *, success: bool = True, **fields: object) -> dict:
    report = {
        "phone_number": "13800138000",
        "send_time": "2026-11-26 17:30:00",
        "report_time": "2026-11-26 17:30:07",
        "success": success,
        "err_code": "DELIVERED" if success else "MK:0001",
        "err_msg": "用户接收成功" if success else "空号",
        "sms_size": "1",
        "biz_id": ALIYUN_BIZ_ID,
        "out_id": str(row.uuid),
    }
    return {**report, **fields}


def _tencent_report(*, status: str = "SUCCESS", **fields: object) -> dict:
    report = {
        "user_receive_time": "2026-11-26 17:30:09",
        "nationcode": "86",
        "mobile": "13800138000",
        "report_status": status,
        "errmsg": "DELIVRD" if status == "SUCCESS" else "MN:0017",
        "description": "用户短信送达成功" if status == "SUCCESS" else "用户手机关机",
        "sid": TENCENT_SID,
    }
    return {**report, **fields}


def _post_receipts(client, provider: str, body: object, *, token: str = RECEIPT_TOKEN):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return client.post(
        reverse(f"notifications:sms-receipts-{provider}", args=[token]),
        data=raw,
        content_type="application/json",
    )


def test_alibabas_report_marks_the_sms_delivered_when_the_handset_took_it(
    client, receipts, aliyun, officer, clock
):
    row = _summon(officer)
    _sweep()
    clock.move_to(T0 + timedelta(minutes=1))

    answer = _post_receipts(client, "aliyun", [_aliyun_report(row)])

    assert answer.status_code == 200
    assert answer.json() == {"code": 0, "msg": "接收成功"}
    row.refresh_from_db()
    assert (row.status, row.sent_at) == (Status.SENT, T0)
    assert row.delivered_at == T0 + timedelta(seconds=7)


def test_a_failed_alibaba_report_fails_the_sms_with_the_operators_reason_and_it_goes_by_email(
    client, receipts, aliyun, officer, clock
):
    row = _summon(officer)
    _sweep()

    answer = _post_receipts(client, "aliyun", [_aliyun_report(row, success=False)])

    assert answer.status_code == 200
    row.refresh_from_db()
    assert (row.status, row.last_error, row.delivered_at) == (Status.FAILED, "MK:0001 空号", None)
    assert row.fell_through_at == T0
    email = Notification.objects.get(recipient=officer, channel=Channel.EMAIL)
    assert (email.status, email.dedupe_key) == (Status.PENDING, row.dedupe_key)


def test_tencents_callback_marks_the_sms_delivered_and_is_acknowledged_as_tencent_asks(
    client, receipts, tencent, officer, clock
):
    row = _summon(officer)
    _sweep()
    clock.move_to(T0 + timedelta(minutes=1))

    answer = _post_receipts(client, "tencent", [_tencent_report()])

    assert answer.status_code == 200
    assert answer.json() == {"result": 0, "errmsg": "OK"}
    row.refresh_from_db()
    assert row.delivered_at == T0 + timedelta(seconds=9)


def test_a_failed_tencent_report_fails_the_sms_and_passes_it_on_once_however_often_it_comes(
    client, receipts, tencent, officer, clock
):
    row = _summon(officer)
    _sweep()

    for _ in range(2):
        assert (
            _post_receipts(client, "tencent", [_tencent_report(status="FAIL")]).status_code == 200
        )

    row.refresh_from_db()
    assert (row.status, row.last_error) == (Status.FAILED, "MN:0017 用户手机关机")
    assert Notification.objects.filter(recipient=officer, channel=Channel.EMAIL).count() == 1


def test_a_report_never_takes_a_delivered_sms_back_and_a_repeat_changes_nothing(
    client, receipts, aliyun, officer, clock
):
    row = _summon(officer)
    _sweep()
    clock.move_to(T0 + timedelta(minutes=1))
    _post_receipts(client, "aliyun", [_aliyun_report(row)])

    repeat = _aliyun_report(row, report_time="2026-11-26 17:45:00")
    failure = _aliyun_report(row, success=False)
    assert _post_receipts(client, "aliyun", [repeat, failure]).status_code == 200

    row.refresh_from_db()
    assert (row.status, row.delivered_at) == (Status.SENT, T0 + timedelta(seconds=7))
    assert row.last_error == ""
    assert not Notification.objects.filter(recipient=officer, channel=Channel.EMAIL).exists()


def test_a_delivered_report_after_a_failed_one_leaves_the_sms_failed(
    client, receipts, aliyun, officer, clock
):
    row = _summon(officer)
    _sweep()
    _post_receipts(client, "aliyun", [_aliyun_report(row, success=False)])

    _post_receipts(client, "aliyun", [_aliyun_report(row)])

    row.refresh_from_db()
    assert (row.status, row.delivered_at) == (Status.FAILED, None)


def test_a_report_on_a_message_that_is_not_ours_is_acknowledged_and_ignored(
    client, receipts, aliyun, officer, clock
):
    row = _summon(officer)
    _sweep()

    stranger = _aliyun_report(row, biz_id="1234500000000000000", success=False)
    answer = _post_receipts(client, "aliyun", [stranger])

    assert answer.status_code == 200
    row.refresh_from_db()
    assert (row.status, row.delivered_at) == (Status.SENT, None)


def test_a_delivered_report_dated_ahead_of_our_clock_is_dated_when_it_arrived(
    client, receipts, aliyun, officer, clock
):
    row = _summon(officer)
    _sweep()

    _post_receipts(client, "aliyun", [_aliyun_report(row, report_time="2026-11-26 18:30:00")])

    row.refresh_from_db()
    assert row.delivered_at == T0


@pytest.mark.parametrize(
    ("provider", "body"),
    [
        ("aliyun", b'[{"biz_id": '),
        ("aliyun", b"\xff\xfe"),
        ("aliyun", {"biz_id": ALIYUN_BIZ_ID, "success": True}),
        ("aliyun", [{"biz_id": ALIYUN_BIZ_ID, "success": True}, {"success": False}]),
        ("aliyun", [{"biz_id": ALIYUN_BIZ_ID, "success": "yes"}]),
        ("aliyun", [{"biz_id": ALIYUN_BIZ_ID, "success": True, "report_time": "17:30"}]),
        ("tencent", [{"sid": TENCENT_SID, "report_status": "OK"}]),
        ("tencent", [{"sid": ["x"], "report_status": "SUCCESS"}]),
        ("tencent", ["SUCCESS"]),
    ],
)
def test_a_body_that_is_no_batch_of_reports_is_refused_and_nothing_of_it_is_recorded(
    client, receipts, aliyun, officer, clock, provider, body
):
    row = _summon(officer)
    _sweep()
    reference = ALIYUN_BIZ_ID if provider == "aliyun" else TENCENT_SID
    Notification.objects.filter(pk=row.pk).update(provider_ref=reference)

    answer = _post_receipts(client, provider, body)

    assert answer.status_code == 400
    assert answer.json().get("code", answer.json().get("result")) == 1
    row.refresh_from_db()
    assert (row.status, row.delivered_at) == (Status.SENT, None)


def test_the_receipt_address_exists_only_with_the_secret_token(
    client, settings, receipts, aliyun, officer, clock
):
    row = _summon(officer)
    _sweep()
    report = [_aliyun_report(row, success=False)]

    assert (
        _post_receipts(client, "aliyun", report, token="kV3q9ZrLm2Tx8WbN4yHs7PcD1fGk").status_code
        == 404
    )
    settings.WHISTLE_SMS_RECEIPT_TOKEN = ""
    assert _post_receipts(client, "aliyun", report).status_code == 404
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_the_receipt_address_takes_posts_only_and_without_a_csrf_token(
    receipts, aliyun, officer, clock
):
    row = _summon(officer)
    _sweep()
    strict = Client(enforce_csrf_checks=True)
    url = reverse("notifications:sms-receipts-aliyun", args=[RECEIPT_TOKEN])

    assert strict.get(url).status_code == 405
    answer = _post_receipts(strict, "aliyun", [_aliyun_report(row)])

    assert answer.status_code == 200
    row.refresh_from_db()
    assert row.delivered_at is not None


@pytest.mark.parametrize("token", ["short-token", "kV3q9ZrLm2Tx8WbN4yHs7Pc龙潭街道"])
def test_the_system_check_refuses_a_receipt_token_that_could_be_guessed(settings, token):
    settings.WHISTLE_SMS_RECEIPT_TOKEN = token
    with pytest.raises(SystemCheckError, match="WHISTLE_SMS_RECEIPT_TOKEN"):
        call_command("check")


def tencent_pull_answer(request: Received, *, reports: list[dict]) -> tuple[int, dict]:
    """Tencent's PullSmsSendStatus, signed like SendSms; hands out its reports once."""
    request_id = "a0aabda6-cf91-4f3e-a4f8-8f4e5d2c1b7d"
    expected = tencent_expected_authorization(request, TENCENT_ID, TENCENT_KEY)
    if not hmac.compare_digest(expected, request.headers["Authorization"]):
        error = {"Code": "AuthFailure.SignatureFailure", "Message": "The provided credentials"}
        return 200, {"Response": {"Error": error, "RequestId": request_id}}
    assert request.json() == {"SmsSdkAppId": "1400787878", "Limit": 100}
    given, reports[:] = list(reports), []
    return 200, {"Response": {"PullSmsSendStatusSet": given, "RequestId": request_id}}


def _pulled(*, status: str, description: str) -> dict:
    return {
        "UserReceiveTime": int((T0 + timedelta(seconds=9)).timestamp()),
        "CountryCode": "86",
        "SubscriberNumber": "13800138000",
        "PhoneNumber": "+8613800138000",
        "SerialNo": TENCENT_SID,
        "ReportStatus": status,
        "Description": description,
        "SessionContext": "",
    }


def test_without_a_callback_the_worker_pulls_tencents_receipts_signed(
    monkeypatch, tencent, officer, clock
):
    monkeypatch.setattr(receipt_pull, "_next_pull", None)
    row = _summon(officer)
    _sweep()
    clock.move_to(T0 + timedelta(minutes=1))
    waiting = [_pulled(status="SUCCESS", description="DELIVRD")]
    tencent.answer = lambda request: tencent_pull_answer(request, reports=waiting)

    assert receipt_pull.sweep(timezone.now(), batch=50) == 1

    [_send, pull] = tencent.requests
    assert pull.headers["X-TC-Action"] == "PullSmsSendStatus"
    row.refresh_from_db()
    assert row.delivered_at == T0 + timedelta(seconds=9)
    # Receipts came: the next tick pulls again; an empty pull waits the interval.
    assert receipt_pull.sweep(timezone.now(), batch=50) == 0
    assert receipt_pull.sweep(timezone.now() + timedelta(seconds=59), batch=50) == 0
    assert len(tencent.requests) == 3


def test_a_pulled_failure_passes_the_message_on_to_email(monkeypatch, tencent, officer, clock):
    monkeypatch.setattr(receipt_pull, "_next_pull", None)
    row = _summon(officer)
    _sweep()
    waiting = [_pulled(status="FAIL", description="MN:0017")]
    tencent.answer = lambda request: tencent_pull_answer(request, reports=waiting)

    receipt_pull.sweep(timezone.now(), batch=50)

    row.refresh_from_db()
    assert (row.status, row.last_error) == (Status.FAILED, "MN:0017")
    assert Notification.objects.filter(recipient=officer, channel=Channel.EMAIL).exists()


def test_a_gateway_that_cannot_be_asked_is_not_pulled(monkeypatch, aliyun, officer, clock):
    monkeypatch.setattr(receipt_pull, "_next_pull", None)
    _summon(officer)
    _sweep()

    assert receipt_pull.sweep(timezone.now(), batch=50) == 0
    assert len(aliyun.requests) == 1
