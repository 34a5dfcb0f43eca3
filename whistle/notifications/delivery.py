"""The delivery sweep: claim due notifications, send them, record each outcome.

Claiming is one short transaction that moves due rows to ``sending`` under a fresh claim
token and pushes ``next_attempt_at`` to the end of a lease. Sending happens outside any
transaction; each outcome is written only if the row still carries this sweep's token, so a
worker whose lease ran out cannot overwrite the work of the one that took the row over. A
worker killed between sending and recording leaves the row to be sent again after the lease:
delivery on outside channels is at least once.

A connection the database drops under the sweep (a restart, a terminated backend) does not
leave rows claimed until their lease runs out: outcomes are written, and the rows not dealt
with handed back, on a new connection (`reconnect.py`).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import BooleanField, F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from whistle.notifications.channels import Couriers
from whistle.notifications.conf import (
    OUTSIDE_CHANNELS,
    fall_through_after,
    lease_seconds,
    max_attempts,
    retry_base_seconds,
    sweep_budget_seconds,
)
from whistle.notifications.errors import DeliveryDeferred, DeliveryError, PermanentDeliveryError
from whistle.notifications.kinds import is_urgent
from whistle.notifications.models import DUE_STATUSES, Notification, NotificationPreference, Status
from whistle.notifications.outbox import outside_channels, requeue_on
from whistle.notifications.reconnect import LOST, once_more_if_lost, reopen_if_lost

log = logging.getLogger("whistle.notifications")

MAX_RETRY_DELAY = timedelta(hours=6)
_ERROR_MAX = 2000


def retry_delay(failed_attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: base × 2^(n−1), never more than six hours."""
    exponent = min(max(failed_attempts, 1) - 1, 32)
    return min(timedelta(seconds=retry_base_seconds() * 2**exponent), MAX_RETRY_DELAY)


def sweep(now: datetime, *, batch: int) -> int:
    """Deliver up to ``batch`` due notifications; return how many were dealt with.

    Stops starting new deliveries once the sweep has run for ``WHISTLE_NOTIFY_SWEEP_SECONDS``
    and hands the rest back at once, so that a slow receiver cannot hold up the other sweeps.
    """
    token, rows = claim(now, batch=batch)
    if not rows:
        return 0
    started = time.monotonic()
    budget = sweep_budget_seconds()
    outcomes: Counter[str] = Counter()
    couriers = Couriers()
    done = 0
    try:
        for row in rows:
            # At least one row per sweep, however small the budget, so that work moves on.
            if done and time.monotonic() - started > budget:
                break
            outcomes[_deliver_one(couriers, row, token)] += 1
            done += 1
    finally:
        couriers.close()
        if done < len(rows):
            _release(token, rows[done:], at=timezone.now())
    log.info(
        "notifications: %d sent, %d to retry, %d failed, %d handed back",
        outcomes[Status.SENT],
        outcomes[Status.PENDING],
        outcomes[Status.FAILED],
        len(rows) - done,
    )
    return done


def claim(now: datetime, *, batch: int) -> tuple[uuid.UUID, list[Notification]]:
    """Reserve up to ``batch`` due rows for this caller alone; return its token and the rows."""
    token = uuid.uuid4()
    try:
        with transaction.atomic():
            candidates = Notification.objects.filter(_due(now)).order_by("next_attempt_at", "id")
            if connection.features.has_select_for_update_skip_locked:
                # Rows another worker is claiming right now are skipped, not waited for.
                candidates = candidates.select_for_update(skip_locked=True)
            ids = list(candidates.values_list("id", flat=True)[:batch])
            if not ids:
                return token, []
            taken = take(ids, now=now, token=token)
        if taken < len(ids):
            log.debug("claimed %d of %d due notifications; others took the rest", taken, len(ids))
        if not taken:
            return token, []
        rows = Notification.objects.filter(pk__in=ids, claim_token=token).select_related(
            "endpoint", "recipient", "recipient__notification_preference"
        )
        return token, list(rows.order_by("id"))
    except LOST:
        # The connection dropped: the claim may have been committed with its answer lost,
        # or its rows not read. Whatever carries the token goes back at once, on a new
        # connection, instead of after the lease.
        if reopen_if_lost():
            _release(token, None, at=timezone.now())
        raise


def take(ids: list[int], *, now: datetime, token: uuid.UUID) -> int:
    """Claim those of ``ids`` that are still due, with a conditional UPDATE; return the count.

    The condition is checked again inside the UPDATE, so of two workers that picked the same
    rows only the first to write gets them, on databases without row locks too.
    """
    return Notification.objects.filter(_due(now), pk__in=ids).update(
        status=Status.SENDING,
        claim_token=token,
        next_attempt_at=now + timedelta(seconds=lease_seconds()),
        attempts=F("attempts") + 1,
    )


def retry_failed(notifications: QuerySet[Notification], *, now: datetime) -> int:
    """Queue failed notifications again with a fresh count of attempts; return how many.

    A message sent before is sent anew: a late receipt for the earlier sending must not
    match it."""
    return notifications.filter(status=Status.FAILED).update(
        status=Status.PENDING,
        attempts=0,
        next_attempt_at=now,
        claim_token=None,
        sent_at=None,
        provider_ref="",
    )


# The rows still to be sent, the statuses written out as the partial index `notification_due`
# states them: SQLite uses that index only for a query that repeats its condition, which
# bound parameters (`status__in`) do not.
DUE_ROWS = RawSQL(
    '"{table}"."status" IN ({statuses})'.format(
        table=Notification._meta.db_table,
        statuses=", ".join(f"'{status}'" for status in DUE_STATUSES),
    ),
    (),
    output_field=BooleanField(),
)


def _due(now: datetime) -> Q:
    return Q(DUE_ROWS, next_attempt_at__lte=now)


def _deliver_one(couriers: Couriers, row: Notification, token: uuid.UUID) -> str:
    limit = max_attempts()
    if row.attempts > limit:
        error = f"gave up after {limit} attempts: the worker stopped while sending"
        once_more_if_lost(lambda: _fail(row, token, error))
        return Status.FAILED
    held_until = quiet_hours_end(row, timezone.now())
    if held_until is not None:
        # Not an attempt: the person asked for quiet until then (a retry or a message queued
        # before they set their quiet hours can fall due inside them).
        log.info("notification %s waits for quiet hours to end at %s", row.uuid, held_until)
        _record(
            row,
            token,
            status=Status.PENDING,
            next_attempt_at=held_until,
            attempts=F("attempts") - 1,
        )
        return Status.PENDING
    try:
        handed = couriers.deliver(row)
    except DeliveryDeferred as exc:
        # Not an attempt: the channel asked for patience, nothing was sent.
        log.info("notification %s waits until %s: %s", row.uuid, exc.until.isoformat(), exc)
        _record(
            row, token, status=Status.PENDING, next_attempt_at=exc.until, attempts=F("attempts") - 1
        )
        return Status.PENDING
    except PermanentDeliveryError as exc:
        log.warning("notification %s cannot be delivered: %s", row.uuid, exc)
        error = _describe(exc)
        once_more_if_lost(lambda: _fail(row, token, error))
        return Status.FAILED
    except Exception as exc:
        # Whatever a gateway raises is one failed attempt, never a stopped sweep.
        log.warning(
            "notification %s, attempt %d of %d, failed: %s",
            row.uuid,
            row.attempts,
            limit,
            exc,
            exc_info=not isinstance(exc, DeliveryError),
        )
        error = _describe(exc)
        if row.attempts >= limit:
            once_more_if_lost(lambda: _fail(row, token, error))
            return Status.FAILED
        once_more_if_lost(lambda: _retry_later(row, token, error, failed_at=timezone.now()))
        return Status.PENDING
    done_at = timezone.now()
    _record(
        row,
        token,
        status=Status.SENT,
        sent_at=done_at,
        delivered_at=done_at if handed.delivered else None,
        provider_ref=handed.provider_ref[:100],
    )
    return Status.SENT


def _retry_later(row: Notification, token: uuid.UUID, error: str, *, failed_at: datetime) -> None:
    with transaction.atomic():
        recorded = _record(
            row,
            token,
            status=Status.PENDING,
            next_attempt_at=failed_at + retry_delay(row.attempts),
            last_error=error,
        )
        if recorded and row.attempts >= fall_through_after():
            fall_through(row, at=failed_at)


def quiet_hours_end(row: Notification, now: datetime) -> datetime | None:
    """When the recipient's quiet hours end, if ``now`` falls in them and the row waits for
    that: a person's outside channel, a kind that is not urgent."""
    if row.recipient is None or row.channel not in OUTSIDE_CHANNELS or is_urgent(row.kind):
        return None
    try:
        preference = row.recipient.notification_preference
    except NotificationPreference.DoesNotExist:
        return None
    return preference.quiet_hours_end(now)


def _fail(row: Notification, token: uuid.UUID, error: str) -> None:
    """Mark the row failed and pass its message on to the recipient's next channel."""
    with transaction.atomic():
        if _record(row, token, status=Status.FAILED, last_error=error):
            fall_through(row, at=timezone.now())


def fall_through(row: Notification, *, at: datetime) -> Notification | None:
    """Queue the message of a row that failed on the next channel the recipient can be
    reached on now, once per row; return the new row, if any.

    Runs in the transaction that records the failure: the conditional update marks the row,
    so a second failure of the same row (or another worker) queues nothing more.
    """
    if row.recipient is None or not row.fallback_channels:
        return None
    marked = Notification.objects.filter(pk=row.pk, fell_through_at__isnull=True).update(
        fell_through_at=at
    )
    if not marked:
        return None
    person = row.recipient
    preference = NotificationPreference.objects.filter(person=person).first()
    subscribed = person.push_subscriptions.exists()
    wanted = outside_channels(person, preference, push=subscribed)
    remaining = [channel for channel in row.fallback_channels if channel in wanted]
    if not remaining:
        log.info("notification %s failed and its recipient has no other channel", row.uuid)
        return None
    successor = requeue_on(row, remaining[0], fallback_channels=remaining[1:], now=at)
    log.info("notification %s failed on %s; queued on %s", row.uuid, row.channel, remaining[0])
    return successor


def _record(row: Notification, token: uuid.UUID, **fields: object) -> bool:
    """Write the outcome if the row still carries ``token``; tell whether it did. Outside a
    transaction, a connection lost under the write is replaced and the write made again:
    the condition keeps a second run from changing anything if the first one went through.
    """
    rows = Notification.objects.filter(pk=row.pk, claim_token=token, status=Status.SENDING)
    updated = once_more_if_lost(lambda: rows.update(claim_token=None, **fields))
    if not updated:
        log.warning(
            "notification %s: the lease ran out before the outcome was recorded; "
            "another worker has taken it over",
            row.uuid,
        )
    return bool(updated)


def _release(token: uuid.UUID, rows: list[Notification] | None, *, at: datetime) -> None:
    """Hand back the rows (all those carrying ``token`` if None) not dealt with: due at once,
    the attempt not counted. Often reached because the connection was lost: the rows are
    handed back on a new one."""
    claimed = Notification.objects.filter(claim_token=token, status=Status.SENDING)
    if rows is not None:
        claimed = claimed.filter(pk__in=[row.pk for row in rows])
    try:
        once_more_if_lost(
            lambda: claimed.update(
                status=Status.PENDING,
                claim_token=None,
                next_attempt_at=at,
                attempts=F("attempts") - 1,
            )
        )
    except Exception:
        # Reached while another error is on its way up: that one matters more. The rows
        # become due again when their lease runs out.
        how_many = "the" if rows is None else str(len(rows))
        log.exception("could not hand back %s claimed notifications", how_many)


def _describe(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
    return text[:_ERROR_MAX]
