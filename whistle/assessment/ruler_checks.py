"""The worker's look at pending appeals: may someone rule on each of them?

People and roles changed in the admin or by the import of people announce it, and the
assessment answers in the change's transaction (`actions.after_staffing_changed`). A change
made any other way — a shell, SQL, another program writing the database — announces
nothing. So every pending appeal also carries a stored moment, `Appeal.ruler_check_at`
(`RULER_CHECK_EVERY` after filing, indexed as the deadline sweep's moments are), and this
sweep (in `WHISTLE_WORKER_SWEEPS`) claims the appeals whose moment has come, settles each
with `actions.settle_rulers` — the very answer to an announced change, so the trail events,
the mark and the messages are the same and come once — and stores the next moment. A ruled
appeal has none and is never claimed (docs/assessment.md).

The claim follows the deadline sweep's (docs/deadlines.md): one appeal per transaction,
locked `FOR UPDATE SKIP LOCKED` by its index, then its case, `SKIP LOCKED` too, so the sweep
never waits for a lock and several workers never take the same appeal; an appeal whose
case an action holds is left for the next pass. SQLite's transactions take the whole
database (`BEGIN IMMEDIATE`), which keeps the claim as safe.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction

from whistle.assessment.actions import settle_rulers
from whistle.assessment.models import RULER_CHECK_EVERY, Appeal
from whistle.cases.models import Case

logger = logging.getLogger("whistle.assessment")


def sweep(now: datetime, *, batch: int) -> int:
    """Look again at up to `batch` pending appeals whose `ruler_check_at` has come by `now`;
    return how many were looked at. An appeal that fails is logged and left for a later
    pass, so that it cannot hold the others back."""
    done = 0
    passed_over: list[int] = []
    while done < batch:
        taken: int | None = None
        try:
            with transaction.atomic():
                claimed = _claim(now, passed_over)
                if claimed is None:
                    break
                appeal, case = claimed
                taken = appeal.pk
                if case is None:
                    passed_over.append(appeal.pk)
                    continue
                settle_rulers(case, appeal, now)
                pending = appeal.status == Appeal.Status.PENDING
                appeal.ruler_check_at = now + RULER_CHECK_EVERY if pending else None
                appeal.save(update_fields=["ruler_check_at"])
        except Exception:
            if taken is None:
                raise
            logger.exception("looking for someone to rule on appeal %s failed", taken)
            passed_over.append(taken)
            continue
        done += 1
    return done


def _claim(now: datetime, passed_over: list[int]) -> tuple[Appeal, Case | None] | None:
    """The first appeal due by `now` (none of `passed_over`), locked, with its case locked
    too, or None as the case when another transaction holds it."""
    appeal = (
        Appeal.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("department__district", "summons", "filed_by")
        .filter(ruler_check_at__lte=now)
        .exclude(pk__in=passed_over)
        .order_by("ruler_check_at", "pk")
        .first()
    )
    if appeal is None:
        return None
    case = Case.objects.select_for_update(skip_locked=True).filter(pk=appeal.summons.case_id)
    return appeal, case.first()
