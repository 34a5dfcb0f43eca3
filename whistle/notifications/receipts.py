"""Delivery receipts of the SMS providers: whether each message reached the handset.

Alibaba Cloud pushes ``SmsReport`` in HTTP batch mode, Tencent Cloud calls its status
callback; each posts a JSON array of reports, matched to the outbox by the provider's id for
the message (``provider_ref``: Alibaba's ``biz_id`` is the ``BizId`` of ``SendSms``,
Tencent's ``sid`` its ``SerialNo``). Neither provider signs these requests, so the address
they post to carries a secret token instead (``WHISTLE_SMS_RECEIPT_TOKEN``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

# Both providers write report times as Beijing wall-clock time, without a zone.
_PROVIDER_ZONE = ZoneInfo("Asia/Shanghai")
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_REASON_MAX = 500


class MalformedReceipts(ValueError):
    """The body is not the provider's batch of reports; nothing of it is recorded."""


@dataclass(frozen=True)
class Receipt:
    """One report: the provider's id of the message, and whether it reached the handset."""

    provider_ref: str
    delivered: bool
    # The operator's code and words when it did not; empty when it did.
    reason: str
    # When the provider says the handset took it (or refused it); None if it did not say.
    at: datetime | None


def aliyun_receipts(document: Any) -> list[Receipt]:
    """The reports of one ``SmsReport`` push: ``[{"biz_id", "success", "err_code", "err_msg",
    "report_time", ...}, ...]``."""
    receipts = []
    for report in _reports(document):
        delivered = _flag(report, "success")
        receipts.append(
            Receipt(
                provider_ref=_text(report, "biz_id", required=True),
                delivered=delivered,
                reason="" if delivered else _reason(report, "err_code", "err_msg"),
                at=_when(report, "report_time"),
            )
        )
    return receipts


def tencent_receipts(document: Any) -> list[Receipt]:
    """The reports of one status callback: ``[{"sid", "report_status": "SUCCESS" | "FAIL",
    "errmsg", "description", "user_receive_time", ...}, ...]``."""
    receipts = []
    for report in _reports(document):
        status = _text(report, "report_status", required=True)
        if status not in ("SUCCESS", "FAIL"):
            raise MalformedReceipts(f"report_status {status!r} is neither SUCCESS nor FAIL")
        receipts.append(
            Receipt(
                provider_ref=_text(report, "sid", required=True),
                delivered=status == "SUCCESS",
                reason="" if status == "SUCCESS" else _reason(report, "errmsg", "description"),
                at=_when(report, "user_receive_time"),
            )
        )
    return receipts


def tencent_pulled_receipts(document: Any) -> list[Receipt]:
    """The reports of one ``PullSmsSendStatus`` answer: ``{"Response":
    {"PullSmsSendStatusSet": [{"SerialNo", "ReportStatus", "Description",
    "UserReceiveTime" (seconds since 1970), ...}]}}``."""
    response = document.get("Response") if isinstance(document, dict) else None
    if not isinstance(response, dict) or "PullSmsSendStatusSet" not in response:
        raise MalformedReceipts("the answer holds no PullSmsSendStatusSet")
    receipts = []
    for report in _reports(response["PullSmsSendStatusSet"]):
        status = _text(report, "ReportStatus", required=True)
        if status not in ("SUCCESS", "FAIL"):
            raise MalformedReceipts(f"ReportStatus {status!r} is neither SUCCESS nor FAIL")
        seconds = report.get("UserReceiveTime")
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int)):
            raise MalformedReceipts("UserReceiveTime is not a number of seconds")
        receipts.append(
            Receipt(
                provider_ref=_text(report, "SerialNo", required=True),
                delivered=status == "SUCCESS",
                reason="" if status == "SUCCESS" else _text(report, "Description")[:_REASON_MAX],
                at=datetime.fromtimestamp(seconds, tz=UTC) if seconds else None,
            )
        )
    return receipts


def _reports(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, list) or not all(isinstance(r, dict) for r in document):
        raise MalformedReceipts("the body is not a JSON array of reports")
    return document


def _text(report: dict[str, Any], name: str, *, required: bool = False) -> str:
    value = report.get(name)
    if isinstance(value, bool) or not isinstance(value, str | int | None):
        raise MalformedReceipts(f"{name} is not text")
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise MalformedReceipts(f"a report without {name}")
    return text


def _flag(report: dict[str, Any], name: str) -> bool:
    value = report.get(name)
    # Alibaba documents a JSON boolean; some of its pushes carry it as text.
    if value in (True, "true"):
        return True
    if value in (False, "false"):
        return False
    raise MalformedReceipts(f"{name} is not true or false")


def _reason(report: dict[str, Any], code: str, words: str) -> str:
    parts = [_text(report, code), _text(report, words)]
    return " ".join(part for part in parts if part)[:_REASON_MAX]


def _when(report: dict[str, Any], name: str) -> datetime | None:
    text = _text(report, name)
    if not text:
        return None
    try:
        local = datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=_PROVIDER_ZONE)
    except ValueError:
        raise MalformedReceipts(f"{name} {text!r} is not a time") from None
    return local.astimezone(UTC)
