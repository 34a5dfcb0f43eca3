"""The township finishes a case: resolved, checked on site, closed, evaluated; or sent back
for rework; or put on the open backlog and taken off it again. After closure the resident's
satisfaction is recorded, by the township's call-back or by the resident's own rating."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Prefetch, prefetch_related_objects
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from whistle.cases import rating_keys
from whistle.cases.actions._common import (
    NOTE_MAX,
    REASON_MAX,
    PhotoBatch,
    assumed_calendar_data,
    atomic,
    changes,
    clean_optional_position,
    clean_text,
    deadline,
    department_people,
    due_times,
    iso,
    minutes_late,
    moment,
    notify,
    people_with_role,
    photo_data,
    record,
    reported_as_resident,
    reporter_to_tell,
    set_deadline,
    set_next_check,
    shift_deadline,
)
from whistle.cases.deadlines import Obligation, next_check_for_notice, obligations
from whistle.cases.errors import ActionRefused, InvalidInput, PermissionRefused
from whistle.cases.hotline import queue_answer
from whistle.cases.models import Attachment, Case, HotlineOrder, Summons, SupervisionNotice
from whistle.cases.permissions import RESIDENT_SOURCES, require
from whistle.cases.rules import district_policy, summons_limits
from whistle.cases.trail import EventKind, case_link, lock_case
from whistle.notifications.texts import Named, Sentence
from whistle.organisation import personal_data
from whistle.organisation.models import Person, Role
from whistle.policies.calendar import calendar_for, to_local
from whistle.policies.models import BacklogResumeRule

Status = Case.Status
S = Summons.Status
BACKLOG_MAX_DAYS = 730
# A resident's rating from 1 to 5 counts as satisfied from this value up: 4 "satisfied" and
# 5 "very satisfied". 3 ("acceptable") and below count as not satisfied, as 满意率 counts
# only those who say they are satisfied, and the call-back records only yes or no.
RESIDENT_SATISFIED_FROM = 4
# A rating up to this value is a complaint the township's command centre hears of at once:
# 2 "dissatisfied" and 1 "very dissatisfied" (3, "acceptable", is not satisfied but no
# complaint).
RESIDENT_DISSATISFIED_UP_TO = 2
RESIDENT_DISSATISFIED_LEVELS: dict[int, Promise] = {
    1: _("very dissatisfied"),
    2: _("dissatisfied"),
}


def working_status(case: Case) -> str:
    """Where a case in progress stands: whistled while a whistle sounds, dispatched while it
    has summonses, otherwise filed."""
    if case.whistles.filter(closed_at__isnull=True).exists():
        return Status.WHISTLED
    if case.summonses.exclude(status=S.CANCELLED).exists():
        return Status.DISPATCHED
    return Status.FILED


def mark_handled(actor: Person, case: Case, *, note: str = "", now: datetime | None = None) -> Case:
    """The township marks the case resolved; departments on site may now check out.

    Refused while a summoned department has not arrived (or, for a routine dispatch, has not
    reported its result) or waits for a ruling on its decline: release it or rule first.
    """
    now = moment(now)
    note = clean_text(note, "note", _("The note"), max_length=NOTE_MAX, required=False)
    with atomic():
        case = lock_case(case.pk)
        prefetch_related_objects(
            [case], Prefetch("summonses", queryset=Summons.objects.select_related("department"))
        )
        role = require(actor, "mark_handled", case)
        summonses = list(case.summonses.all())
        before = case.status
        case.status = Status.HANDLED
        case.handled_at = now
        case.save(update_fields=["status", "handled_at"])
        on_site = [s for s in summonses if s.status in (S.ON_SITE, S.DONE)]
        event = record(
            case,
            EventKind.HANDLED,
            actor=actor,
            role=role,
            at=now,
            data={
                "changes": changes(status=(before, Status.HANDLED)),
                "note": note,
                "on_site": [s.department.code for s in on_site],
            },
        )
        people = [p for s in on_site for p in department_people(s.department, case.township)]
        notify(
            people,
            event,
            _("Case %(case)s resolved"),
            _("%(township)s marked case %(case)s resolved: you may check out."),
            township=Named.of(case.township),
        )
    return case


def check_passed(
    actor: Person,
    case: Case,
    *,
    note: str = "",
    lon: float | None = None,
    lat: float | None = None,
    photos: Any = None,
    now: datetime | None = None,
) -> Case:
    """The township checks the result on site (核查) and finds the problem solved."""
    now = moment(now)
    note = clean_text(note, "note", _("The note"), max_length=NOTE_MAX, required=False)
    position_lon, position_lat = clean_optional_position(lon, lat)
    batch = PhotoBatch(photos)
    with atomic(batch):
        case = lock_case(case.pk)
        role = require(actor, "check_passed", case)
        attachments = batch.store(case, Attachment.Purpose.CHECK, actor=actor, now=now)
        case.status = Status.CHECKED
        case.checked_at = now
        case.save(update_fields=["status", "checked_at"])
        record(
            case,
            EventKind.CHECK_PASSED,
            actor=actor,
            role=role,
            at=now,
            lon=position_lon,
            lat=position_lat,
            data={
                "changes": changes(status=(Status.HANDLED, Status.CHECKED)),
                "note": note,
                "photos": photo_data(attachments),
            },
        )
    return case


def close_case(actor: Person, case: Case, *, note: str = "", now: datetime | None = None) -> Case:
    """The township closes (结案) a case that passed its check on site; its whistles end."""
    now = moment(now)
    note = clean_text(note, "note", _("The note"), max_length=NOTE_MAX, required=False)
    with atomic():
        case = lock_case(case.pk)
        role = require(actor, "close_case", case)
        case.status = Status.CLOSED
        case.closed_at = now
        case.save(update_fields=["status", "closed_at"])
        case.whistles.filter(closed_at__isnull=True).update(closed_at=now)
        late = minutes_late(now, case.resolve_due_at)
        event = record(
            case,
            EventKind.CLOSED,
            actor=actor,
            role=role,
            at=now,
            data={
                "changes": changes(status=(Status.CHECKED, Status.CLOSED)),
                "note": note,
                "resolve_due_at": iso(case.resolve_due_at),
                "on_time": late == 0,
                "minutes_late": late,
                "rework_count": case.rework_count,
            },
        )
        reporters = reporter_to_tell(case, actor)
        if reporters and resident_may_rate(case, person=reporters[0]):
            notify(
                reporters,
                event,
                _("Case %(case)s closed: rate the result"),
                _(
                    "The problem you reported (%(case)s) has been solved and the case is "
                    "closed. Tell us how well it was solved: rate the result."
                ),
                link=rating_link(case),
            )
        else:
            notify(
                reporters,
                event,
                _("Case %(case)s closed"),
                _("The problem you reported (%(case)s) has been solved and the case is closed."),
            )
    return case


def rating_link(case: Case) -> str:
    """Where the resident who reported the case rates its result: the case page, which sends
    them on to their page of it (the fragment kept), at the rating form."""
    return f"{case_link(case)}#rate-title"


def _reopen(case: Case, summons: Summons, now: datetime) -> dict[str, Any]:
    """Give a department that reported a result a new round with new deadlines. The summons'
    fields describe the current round; the trail keeps the earlier ones."""
    limits = summons_limits(case, summons.whistle)
    summons.case = case
    before = summons.status
    renewed = ["resolve_due_at"]
    set_deadline(summons, "resolve_due_at", deadline(now, *limits["resolve_due_at"], case.district))
    summons.resolve_overdue_at = None
    summons.done_at = None
    summons.result = ""
    if summons.whistle is None:
        summons.status = S.ACKNOWLEDGED
    elif summons.left_at is None:
        summons.status = S.ON_SITE
    else:
        summons.status = S.ACKNOWLEDGED
        renewed.append("arrive_due_at")
        set_deadline(
            summons, "arrive_due_at", deadline(now, *limits["arrive_due_at"], case.district)
        )
        summons.arrive_overdue_at = None
        summons.arrived_at = None
        summons.arrived_lon = summons.arrived_lat = None
        summons.arrived_accuracy_m = summons.arrived_distance_m = None
        summons.left_at = None
    set_next_check(summons, now)
    summons.save(
        update_fields=[
            "status",
            "resolve_due_at",
            "resolve_overdue_at",
            "done_at",
            "result",
            "arrive_due_at",
            "arrive_overdue_at",
            "arrived_at",
            "arrived_lon",
            "arrived_lat",
            "arrived_accuracy_m",
            "arrived_distance_m",
            "left_at",
            "next_check_at",
            "assumed_calendar",
            "deadline_basis",
        ]
    )
    return {
        "summons": str(summons.uuid),
        "department": summons.department.code,
        "changes": changes(status=(before, summons.status)),
        "arrive_due_at": iso(summons.arrive_due_at) if summons.status == S.ACKNOWLEDGED else None,
        "resolve_due_at": iso(summons.resolve_due_at),
        **assumed_calendar_data(summons, *renewed),
    }


def send_back_for_rework(
    actor: Person, case: Case, *, reason: str, now: datetime | None = None
) -> Case:
    """The check on site failed (返工): the case goes back to work, and every department that
    reported a result gets new deadlines (those that left must come back on site)."""
    now = moment(now)
    reason = clean_text(reason, "reason", _("The reason"), max_length=REASON_MAX)
    with atomic():
        case = lock_case(case.pk)
        role = require(actor, "send_back_for_rework", case)
        reopened = list(
            case.summonses.select_for_update(of=("self",))
            .select_related("department", "whistle")
            .filter(done_at__isnull=False, status__in=[S.DONE, S.LEFT])
        )
        rounds = [_reopen(case, s, now) for s in reopened]
        after = working_status(case)
        case.status = after
        case.rework_count += 1
        case.handled_at = None
        case.save(update_fields=["status", "rework_count", "handled_at"])
        event = record(
            case,
            EventKind.REWORK,
            actor=actor,
            role=role,
            at=now,
            data={
                "changes": changes(
                    status=(Status.HANDLED, after),
                    rework_count=(case.rework_count - 1, case.rework_count),
                ),
                "reason": reason,
                "summonses": rounds,
                **due_times(summonses=reopened),
            },
        )
        notify(
            [p for s in reopened for p in department_people(s.department, case.township)],
            event,
            _("Rework on case %(case)s"),
            _("The check on site of case %(case)s failed: %(reason)s New deadlines are set."),
            reason=Sentence(reason),
        )
    return case


def _clean_review_date(value: Any, now: datetime) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInput("review_on", _("Give the review date as a date."))
    today = to_local(now).date()
    if value <= today:
        raise InvalidInput("review_on", _("The review date must be after today."))
    if value > today + timedelta(days=BACKLOG_MAX_DAYS):
        raise InvalidInput(
            "review_on",
            _("The review date must be within %(days)s days."),
            days=BACKLOG_MAX_DAYS,
        )
    return value


def put_on_backlog(
    actor: Person,
    case: Case,
    *,
    reason: str,
    review_on: date,
    now: datetime | None = None,
) -> Case:
    """A problem that cannot be solved soon goes on the open backlog (挂账), with the reason
    and the date it will be looked at again. Its summonses stay as they are, but their
    deadlines (and those of its supervision notices) pause: no overdue, reminder or
    escalation until it is resumed. On the review date the sweep reminds the township."""
    now = moment(now)
    reason = clean_text(reason, "reason", _("The reason"), max_length=REASON_MAX)
    review_on = _clean_review_date(review_on, now)
    with atomic():
        case = lock_case(case.pk)
        role = require(actor, "put_on_backlog", case)
        before = case.status
        case.status = Status.BACKLOG
        case.backlog_reason = reason
        case.backlog_review_on = review_on
        case.backlog_since = now
        case.backlog_review_reminder_at = calendar_for(case.district).opening(review_on)
        case.save(
            update_fields=[
                "status",
                "backlog_reason",
                "backlog_review_on",
                "backlog_since",
                "backlog_review_reminder_at",
            ]
        )
        # Paused: the sweep does not even look at them until the case is resumed.
        case.summonses.filter(next_check_at__isnull=False).update(next_check_at=None)
        case.supervision_notices.filter(next_check_at__isnull=False).update(next_check_at=None)
        record(
            case,
            EventKind.BACKLOG,
            actor=actor,
            role=role,
            at=now,
            data={
                "changes": changes(status=(before, Status.BACKLOG)),
                "reason": reason,
                "review_on": review_on.isoformat(),
                "reminder_at": iso(case.backlog_review_reminder_at),
            },
        )
    return case


def _met_while_paused(obligation: Obligation, since: datetime) -> bool:
    """Met while the case was on the backlog, after a deadline that fell in the pause: in
    time by the pause rule (`whistle.cases.pauses`), late only by the wall clock."""
    met = obligation.met_at
    return met is not None and met > obligation.due_at >= since


def _restart_summons(
    case: Case, summons: Summons, rule: str, since: datetime, now: datetime
) -> dict[str, Any] | None:
    """Start a summons' unmet obligations again after the backlog, by the district's rule.

    Remaining time moves each deadline by the time on the backlog. Fresh limits give each
    the full time limit again from `now`; an obligation already recorded overdue is then
    watched again (a second overdue is recorded if the new deadline passes too).

    An obligation met while paused after its deadline had run into the pause was met in
    time; its deadline moves by the time on the backlog whatever the rule, so that the
    sweep, which reads the deadline and not the trail, does not record it overdue.
    """
    summons.case = case
    paused = now - since
    limits = summons_limits(case, summons.whistle)
    moved: dict[str, Any] = {}
    cleared: list[str] = []
    for obligation in obligations(summons):
        field = obligation.due_field
        old = getattr(summons, field)
        if obligation.met_at is not None:
            if _met_while_paused(obligation, since):
                shift_deadline(summons, field, paused)
                moved[field] = [iso(old), iso(getattr(summons, field))]
            continue
        if summons.status not in Summons.OPEN_STATUSES:
            continue  # owes nothing any more
        if rule == BacklogResumeRule.FRESH_LIMITS:
            set_deadline(summons, field, deadline(now, *limits[field], case.district))
            if obligation.overdue_at is not None:
                setattr(summons, obligation.overdue_field, None)
                cleared.append(obligation.overdue_field)
        else:
            shift_deadline(summons, field, paused)
        moved[field] = [iso(old), iso(getattr(summons, field))]
    if not moved:
        return None
    set_next_check(summons, now)
    # Reminder points that fell while the case was paused are not sent late.
    summons.swept_through_at = now
    summons.save(
        update_fields=[
            *moved,
            *cleared,
            "assumed_calendar",
            "deadline_basis",
            "next_check_at",
            "swept_through_at",
        ]
    )
    return {
        "summons": str(summons.uuid),
        "department": summons.department.code,
        **moved,
        **assumed_calendar_data(summons, *moved),
    }


def _restart_notice(
    notice: SupervisionNotice, rule: str, since: datetime, now: datetime
) -> dict[str, Any]:
    """A supervision notice's deadline after the backlog: moved by the time it was paused
    (from its issue, if it was issued on the backlog), or its full span again from `now`."""
    old = notice.due_at
    if rule == BacklogResumeRule.FRESH_LIMITS:
        notice.due_at = now + (old - notice.issued_at)
    else:
        notice.due_at = old + (now - max(since, notice.issued_at))
    notice.next_check_at = next_check_for_notice(notice)
    notice.save(update_fields=["due_at", "next_check_at"])
    return {
        "notice": notice.pk,
        "department": notice.department.code,
        "due_at": [iso(old), iso(notice.due_at)],
    }


def resume_from_backlog(
    actor: Person, case: Case, *, note: str = "", now: datetime | None = None
) -> Case:
    """The case comes off the backlog and goes back to where its work stood. Its deadlines
    start again by the district's rule (`DistrictPolicy.backlog_resume_rule`): moved by the
    time on the backlog, or the full time limits again from now; the event records the old
    and new values."""
    now = moment(now)
    note = clean_text(note, "note", _("The note"), max_length=NOTE_MAX, required=False)
    with atomic():
        case = lock_case(case.pk)
        role = require(actor, "resume_from_backlog", case)
        rule = district_policy(case.district).backlog_resume_rule
        since = case.backlog_since or now
        paused = now - since
        after = working_status(case)
        review_on = case.backlog_review_on
        old_resolve = case.resolve_due_at
        case.status = after
        case.backlog_review_on = None
        case.backlog_since = None
        case.backlog_review_reminder_at = None
        if case.resolve_due_at is not None:
            if rule == BacklogResumeRule.FRESH_LIMITS:
                category = case.category
                assert category is not None  # a filed case has its category
                resolve = deadline(
                    now, category.resolve_within, category.resolve_unit, case.district
                )
                set_deadline(case, "resolve_due_at", resolve)
            else:
                shift_deadline(case, "resolve_due_at", paused)
        moved_resolve = {}
        if old_resolve is not None:
            moved_resolve["resolve_due_at"] = (iso(old_resolve), iso(case.resolve_due_at))
        case.save(
            update_fields=[
                "status",
                "backlog_review_on",
                "backlog_since",
                "backlog_review_reminder_at",
                "resolve_due_at",
                "assumed_calendar",
                "deadline_basis",
            ]
        )
        summonses = list(
            case.summonses.select_for_update(of=("self",))
            .select_related("department", "whistle")
            .exclude(status=Summons.Status.CANCELLED)
            .order_by("pk")
        )
        restarted = [(s, _restart_summons(case, s, rule, since, now)) for s in summonses]
        rounds = [r for _s, r in restarted if r is not None]
        notices = [
            _restart_notice(n, rule, since, now)
            for n in case.supervision_notices.select_for_update(of=("self",))
            .select_related("department")
            .filter(answered_at__isnull=True, overdue_at__isnull=True)
            .order_by("pk")
        ]
        event = record(
            case,
            EventKind.BACKLOG_RESUMED,
            actor=actor,
            role=role,
            at=now,
            data={
                "changes": changes(
                    status=(Status.BACKLOG, after),
                    backlog_review_on=(review_on.isoformat() if review_on else None, None),
                    **moved_resolve,
                ),
                "note": note,
                "rule": rule,
                "paused_minutes": round(paused.total_seconds() / 60),
                "summonses": rounds,
                "notices": notices,
                **assumed_calendar_data(case, "resolve_due_at"),
                **due_times(case, summonses),
            },
        )
        # Only those who still owe something have deadlines that start again.
        concerned = {
            s.department_id: s.department
            for s, r in restarted
            if r is not None and s.status in Summons.OPEN_STATUSES
        }
        notify(
            [p for d in concerned.values() for p in department_people(d, case.township)],
            event,
            _("Case %(case)s is back in work"),
            _(
                "%(township)s took case %(case)s off the backlog. Your deadlines on it start "
                "again; see the case page."
            ),
            township=Named.of(case.township),
        )
    return case


def evaluate_case(
    actor: Person, case: Case, *, rating: int, note: str = "", now: datetime | None = None
) -> Case:
    """The township rates how the case was handled, from 1 (poor) to 5 (excellent)."""
    now = moment(now)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput("rating", _("The rating is a whole number from 1 to 5."))
    note = clean_text(note, "note", _("The note"), max_length=NOTE_MAX, required=False)
    with atomic():
        case = lock_case(case.pk)
        # The rule reads the departments the evaluation judges.
        prefetch_related_objects(
            [case], Prefetch("summonses", queryset=Summons.objects.select_related("department"))
        )
        role = require(actor, "evaluate_case", case)
        case.status = Status.EVALUATED
        case.township_rating = rating
        case.evaluated_at = now
        case.save(update_fields=["status", "township_rating", "evaluated_at"])
        record(
            case,
            EventKind.EVALUATED,
            actor=actor,
            role=role,
            at=now,
            data={
                "changes": changes(
                    status=(Status.CLOSED, Status.EVALUATED), township_rating=(None, rating)
                ),
                "note": note,
            },
        )
    return case


def _clean_answer(value: Any, field: str, question: str | Promise) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise InvalidInput(field, question)
    return value


def record_resident_callback(
    actor: Person,
    case: Case,
    *,
    satisfied: bool | None = None,
    contacted: bool = True,
    resolved: bool | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Case:
    """The township calls the resident or the caller of a work order back (回访): were they
    reached, do they say the problem is solved, are they satisfied.

    A resident's case once it is closed; a work order once the caller has had the reply.
    A caller not reached (`contacted` False) may be called again; once reached, the answers
    are final: whether they are satisfied (always), and for a work order whether the problem
    is solved. The 12345 hotline's resolution and satisfaction rates count exactly these
    answers; a work order's answer is sent to the hotline platform."""
    now = moment(now)
    if not isinstance(contacted, bool):
        raise InvalidInput("contacted", _("Say whether the caller was reached."))
    satisfied = _clean_answer(satisfied, "satisfied", _("Say whether the resident is satisfied."))
    resolved = _clean_answer(resolved, "resolved", _("Say whether the problem is solved."))
    note = clean_text(note, "note", _("The note"), max_length=NOTE_MAX, required=False)
    if not contacted:
        # Nobody answered: there are no answers to record.
        satisfied = resolved = None
    elif satisfied is None:
        raise InvalidInput("satisfied", _("Say whether the resident is satisfied."))
    with atomic():
        case = lock_case(case.pk)
        role = require(actor, "record_resident_callback", case)
        order = HotlineOrder.objects.select_for_update().filter(case=case).first()
        if order is not None and contacted and resolved is None:
            raise InvalidInput("resolved", _("Say whether the problem is solved."))
        changed: dict[str, tuple[Any, Any]] = {}
        if contacted:
            changed["resident_satisfied"] = (None, satisfied)
            case.resident_satisfied = satisfied
            case.resident_called_back_at = now
            case.save(update_fields=["resident_satisfied", "resident_called_back_at"])
        event = record(
            case,
            EventKind.RESIDENT_CALLBACK,
            actor=actor,
            role=role,
            at=now,
            data={
                "changes": changes(**changed),
                "contacted": contacted,
                "resolved": resolved,
                "satisfied": satisfied,
                "note": note,
            },
        )
        if order is not None:
            order.case = case
            order.called_back_at = now
            order.callback_contacted = contacted
            order.callback_resolved = resolved
            order.callback_satisfied = satisfied
            order.answered_at = now
            order.save(
                update_fields=[
                    "called_back_at",
                    "callback_contacted",
                    "callback_resolved",
                    "callback_satisfied",
                    "answered_at",
                ]
            )
            queue_answer(order, "callback", event.seq)
    return case


def resident_may_rate(case: Case, *, key: Any = "", person: Any = None) -> bool:
    """Whether this is the resident who reported the case: holding the key given at report
    time, or signed in with the account that reported it as a resident. Knowing the
    reference is not enough: the departments being assessed see it."""
    if case.source != Case.Source.RESIDENT:
        return False
    if rating_keys.matches(case.resident_key_hash, key):
        return True
    if not getattr(person, "is_active", False) or case.reporter_id != person.pk:
        return False
    return reported_as_resident(case, person)


def record_resident_rating(
    case: Case,
    *,
    rating: int,
    comment: str = "",
    key: str = "",
    person: Person | None = None,
    now: datetime | None = None,
) -> Case:
    """The resident who reported the case rates how the problem was solved, from 1 (very
    dissatisfied) to 5 (very satisfied), with an optional comment, on the page that follows
    the case by its reference number.

    Only the reporter may rate (`resident_may_rate`): with the `key` returned by
    `report_resident_case`, or signed in as the `person` who reported it. Only cases
    reported by residents, once they are closed; once per case, and not after the township
    has recorded a call-back (the satisfaction is recorded once, either way). Sets
    `resident_satisfied` like the call-back: 4 and 5 are satisfied, 1 to 3 are not
    (`RESIDENT_SATISFIED_FROM`). The trail event is in the role of a resident, with the
    signed-in reporter as its actor, or no actor for a key. A rating of 2 or 1 (dissatisfied,
    `RESIDENT_DISSATISFIED_UP_TO`) tells the township's dispatchers, without the resident's
    name, phone or comment: the case page shows what they may see of them. The comment, which
    may hold personal data, stays on the case (erased with the reporter's data); the event
    holds only a commitment to it (`comment_commitment`), salted with `Case.reporter_salt`.
    """
    now = moment(now)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput("rating", _("The rating is a whole number from 1 to 5."))
    comment = clean_text(comment, "comment", _("The comment"), max_length=NOTE_MAX, required=False)
    with atomic():
        case = lock_case(case.pk)
        if case.source not in RESIDENT_SOURCES:
            raise ActionRefused(
                _("Only cases reported by residents or the hotline are rated by the resident.")
            )
        by_key = rating_keys.matches(case.resident_key_hash, key)
        if not by_key and not resident_may_rate(case, person=person):
            raise PermissionRefused(
                _(
                    "Only the person who reported this problem may rate the result: open the "
                    "link you received when reporting, or sign in with the account you "
                    "reported with."
                )
            )
        if case.status not in (Status.CLOSED, Status.EVALUATED):
            raise ActionRefused(
                _("The case can be rated once it is closed; its status is “%(status)s” now."),
                status=capfirst(Status(case.status).label),
            )
        if case.resident_rated_at is not None:
            raise ActionRefused(_("This case has already been rated: a case is rated once."))
        if case.resident_called_back_at is not None:
            raise ActionRefused(
                _("The township has already recorded your satisfaction when it called you back.")
            )
        satisfied = rating >= RESIDENT_SATISFIED_FROM
        case.resident_rating = rating
        case.resident_comment = comment
        case.resident_satisfied = satisfied
        case.resident_rated_at = now
        fields = ["resident_rating", "resident_comment", "resident_satisfied", "resident_rated_at"]
        # The comment may hold personal data: it stays on the case, where it is erased with
        # the reporter's, and the trail holds a commitment salted with the reporter's salt.
        if comment and not case.reporter_salt:
            case.reporter_salt = personal_data.new_salt()
            fields.append("reporter_salt")
        case.save(update_fields=fields)
        event = record(
            case,
            EventKind.RESIDENT_RATED,
            actor=None if by_key else person,
            role=Role.RESIDENT,
            at=now,
            data={
                "changes": changes(
                    resident_rating=(None, rating), resident_satisfied=(None, satisfied)
                ),
                "comment_commitment": personal_data.text_commitment(case.reporter_salt, comment),
            },
        )
        if rating <= RESIDENT_DISSATISFIED_UP_TO:
            notify(
                people_with_role(Role.DISPATCHER, case.township),
                event,
                _("Resident dissatisfied: case %(case)s"),
                _(
                    "The resident who reported case %(case)s rated the result %(rating)s of 5 "
                    "(%(level)s). See the case page and follow up."
                ),
                rating=rating,
                level=RESIDENT_DISSATISFIED_LEVELS[rating],
            )
    return case
