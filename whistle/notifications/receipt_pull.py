"""Pulling SMS delivery receipts, for a deployment the provider cannot call back.

A worker sweep (add ``whistle.notifications.receipt_pull.sweep`` to WHISTLE_WORKER_SWEEPS):
every WHISTLE_SMS_PULL_RECEIPTS_SECONDS it asks the SMS gateway for the receipts not yet
pulled, if the gateway can be asked (a ``pull_receipts`` method: Tencent Cloud's
``PullSmsSendStatus``), and records them as the callbacks do. While receipts keep coming it
pulls at every tick of the worker.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.utils.module_loading import import_string

from whistle.notifications.actions import record_sms_receipts
from whistle.notifications.conf import sms_backend_path, sms_pull_receipts_seconds

log = logging.getLogger("whistle.notifications")

# When this worker process may pull next; each process pulls on its own, and the provider
# hands each receipt out once, so two workers never record one twice.
_next_pull: datetime | None = None


def sweep(now: datetime, *, batch: int) -> int:
    """Pull and record the receipts waiting at the provider; return how many came."""
    global _next_pull
    if _next_pull is not None and now < _next_pull:
        return 0
    _next_pull = now + timedelta(seconds=sms_pull_receipts_seconds())
    pull = getattr(import_string(sms_backend_path())(), "pull_receipts", None)
    if pull is None:
        return 0
    try:
        receipts = pull()
    except Exception as exc:
        # The next pull will try again; the receipts wait at the provider meanwhile.
        log.warning("pulling SMS receipts failed: %s", exc)
        return 0
    if receipts:
        # More may be waiting than one pull gives: pull again at the next tick.
        _next_pull = None
    recorded = record_sms_receipts(receipts)
    log.info(
        "pulled SMS receipts: %d delivered, %d failed, %d unchanged, %d unknown",
        recorded.delivered,
        recorded.failed,
        recorded.unchanged,
        recorded.unknown,
    )
    return len(receipts)
