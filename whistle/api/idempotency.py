"""`Idempotency-Key`: a POST sent again with the same key gets the first answer again
instead of acting twice.

The first request claims the key (a row without a status, inserted before the view runs, so
two concurrent requests cannot both act); its answer is stored with a fingerprint of the
request (method, path, body). A retry with the same fingerprint gets the stored answer; one
with another body is refused (422); one while the first still runs is refused (409). Answers
that say nothing about the action — 401, 429, 5xx — are not kept: the key is free again. Keys
live `WHISTLE_API_IDEMPOTENCY_HOURS`, per token (or signed-in person).

A request sent from a phone's queue (it carries `X-Whistle-Sent-At`) may be sent again days
later: the answer was lost, then the phone went back into a dead zone. Its key is kept
`WHISTLE_OFFLINE_MAX_DAYS` and a day more; anything made on the phone longer ago than that is
refused (`whistle.cases.device_time`), so a resend is replayed or refused, never done twice.
The age is measured on the phone's time corrected by its clock's offset at each sending, so
the day more covers a phone whose clock was set back by up to a day between the first
sending and the resend.

Keys past their time are pruned by the worker (`sweep`, in WHISTLE_WORKER_SWEEPS), whoever
owns them, and a claim prunes its owner's: a person who never comes back leaves nothing
behind for longer than their keys were promised.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from whistle.api.models import IdempotentRequest

KEY_MAX = 200
# Statuses after which the key is released instead of kept.
NOT_KEPT = frozenset({401, 429})


def lifetime() -> timedelta:
    return timedelta(hours=int(settings.WHISTLE_API_IDEMPOTENCY_HOURS))


def offline_lifetime() -> timedelta:
    """How long the key of a request from a phone's queue is kept: as long as what the phone
    recorded is accepted, a day more (a phone's clock may run behind), and never less than
    any key."""
    days = int(getattr(settings, "WHISTLE_OFFLINE_MAX_DAYS", 30))
    return max(lifetime(), timedelta(days=days + 1))


def fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() if request.method else b"")
    digest.update(b"\0")
    digest.update(request.path.encode("utf-8"))
    digest.update(b"\0")
    digest.update(request.body)
    return digest.hexdigest()


@dataclass(frozen=True)
class Claimed:
    row: IdempotentRequest


@dataclass(frozen=True)
class Stored:
    row: IdempotentRequest


@dataclass(frozen=True)
class Mismatch:
    pass


@dataclass(frozen=True)
class Running:
    pass


def expired(now: datetime) -> QuerySet[IdempotentRequest]:
    """Keys no resend can use any more: past `kept_until`, or, for rows written before
    `kept_until` existed, older than the ordinary lifetime."""
    return IdempotentRequest.objects.filter(
        Q(kept_until__lt=now) | Q(kept_until__isnull=True, created_at__lt=now - lifetime())
    )


def sweep(now: datetime, *, batch: int) -> int:
    """The worker's pruning of expired keys, `batch` rows at a time (the worker comes back
    at once while a batch is full). A key still within its time is never touched, so a
    phone coming back on the last day of its queue is still recognised."""
    ids = list(expired(now).order_by("kept_until", "pk").values_list("pk", flat=True)[:batch])
    if not ids:
        return 0
    # A second worker may have taken some of them: count what this one removed.
    count, _by_model = IdempotentRequest.objects.filter(pk__in=ids).delete()
    return count


def claim(
    owner: str, key: str, print_: str, now: datetime, *, queued: bool = False
) -> Claimed | Stored | Mismatch | Running:
    """Claim `key` for this request; `queued` for a request sent from a phone's queue."""
    expired(now).filter(owner=owner).delete()
    kept_until = now + (offline_lifetime() if queued else lifetime())
    try:
        with transaction.atomic():
            row = IdempotentRequest.objects.create(
                owner=owner, key=key, fingerprint=print_, created_at=now, kept_until=kept_until
            )
        return Claimed(row)
    except IntegrityError:
        pass
    existing = IdempotentRequest.objects.filter(owner=owner, key=key).first()
    if existing is None:
        # Released between the insert and the read: treat it as running; the client retries.
        return Running()
    if existing.fingerprint != print_:
        return Mismatch()
    if existing.status is None:
        return Running()
    return Stored(existing)


def keep(row: IdempotentRequest, response: HttpResponse) -> None:
    if response.status_code in NOT_KEPT or response.status_code >= 500 or response.streaming:
        IdempotentRequest.objects.filter(pk=row.pk).delete()
        return
    IdempotentRequest.objects.filter(pk=row.pk).update(
        status=response.status_code,
        content_type=response.get("Content-Type", ""),
        body=bytes(response.content),
    )


def release(row: IdempotentRequest) -> None:
    IdempotentRequest.objects.filter(pk=row.pk).delete()


def replay(row: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(
        bytes(row.body), status=row.status or 200, content_type=row.content_type or None
    )
    response["Idempotent-Replayed"] = "true"
    return response


def moment() -> datetime:
    return timezone.now()
