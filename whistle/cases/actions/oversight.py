"""Pressure from above: escalation by hand to the chiefs' offices, and supervision notices
(督办) that a department must answer by a date."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from whistle.cases.actions._common import (
    REASON_MAX,
    RESULT_MAX,
    atomic,
    changes,
    clean_text,
    department_people,
    iso,
    lane_chiefs,
    local_text,
    minutes_late,
    moment,
    notify,
    people_with_role,
    record,
)
from whistle.cases.deadlines import next_check_for_notice
from whistle.cases.errors import InvalidInput
from whistle.cases.models import Case, Summons, SupervisionNotice
from whistle.cases.permissions import require
from whistle.cases.suggest import serves
from whistle.cases.trail import EventKind, lock_case
from whistle.notifications.texts import Named, Sentence
from whistle.organisation.models import Department, Person, Role

Status = Case.Status
Escalation = Case.Escalation
NOTICE_MAX_DAYS = 366


def escalate(actor: Person, case: Case, *, reason: str, now: datetime | None = None) -> Case:
    """A chief takes a case the next level up by hand: first to the township chiefs' office,
    then to the district's.

    To the township: the lane's lane and street chiefs, the township chief or the township
    chiefs' office. To the district: the township chief or chiefs' office, or the district
    chief or chiefs' office.

    The level's chiefs' office is told, and so are the chiefs who answer for the case's lane
    (its lane and street chiefs): once each, and not the one who escalated it.
    """
    now = moment(now)
    reason = clean_text(reason, "reason", _("The reason"), max_length=REASON_MAX)
    with atomic():
        case = lock_case(case.pk)
        role = require(actor, "escalate", case)
        before = case.escalation
        if before == Escalation.NONE:
            after, office = Escalation.TOWNSHIP, case.township
        else:
            after, office = Escalation.DISTRICT, case.district
        case.escalation = after
        case.save(update_fields=["escalation"])
        event = record(
            case,
            EventKind.ESCALATED,
            actor=actor,
            role=role,
            at=now,
            data={
                "changes": changes(escalation=(before, after)),
                "reason": reason,
                "by_hand": True,
            },
        )
        office_staff = people_with_role(Role.CHIEFS_OFFICE, office)
        told = {person.pk for person in office_staff} | {actor.pk}
        body = _("Case %(case)s (%(description)s) was escalated to the %(level)s: %(reason)s")
        words: dict[str, Any] = {
            "description": case.description[:100],
            "level": Escalation(after).label,
            "reason": reason,
        }
        notify(office_staff, event, _("Case %(case)s escalated to you"), body, urgent=True, **words)
        notify(
            [person for person in lane_chiefs(case.lane_id) if person.pk not in told],
            event,
            _("Case %(case)s on your lane was escalated to the %(level)s"),
            body,
            urgent=True,
            **words,
        )
    return case


def _clean_due(value: Any, now: datetime) -> datetime:
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise InvalidInput("due_at", _("Give the deadline as a date and time."))
    if value <= now:
        raise InvalidInput("due_at", _("The deadline must be in the future."))
    if value > now + timedelta(days=NOTICE_MAX_DAYS):
        raise InvalidInput(
            "due_at", _("The deadline must be within %(days)s days."), days=NOTICE_MAX_DAYS
        )
    return value.astimezone(now.tzinfo)


def issue_supervision_notice(
    actor: Person,
    case: Case,
    *,
    department: Department,
    text: str,
    due_at: datetime,
    now: datetime | None = None,
) -> SupervisionNotice:
    """A formal demand (督办) to a department to act on a case by a date.

    Issued by the township chief or chiefs' office, or the district chief or chiefs' office,
    to a department summoned on the case or serving its township.
    """
    now = moment(now)
    text = clean_text(text, "text", _("The demand"), max_length=RESULT_MAX)
    due_at = _clean_due(due_at, now)
    if not isinstance(department, Department):
        raise InvalidInput("department", _("Choose a department from the list."))
    with atomic():
        case = lock_case(case.pk)
        role = require(actor, "issue_supervision_notice", case)
        # The department's summons still open on the case, if any; else its latest.
        mine = case.summonses.filter(department=department).order_by("-summoned_at")
        summons = mine.filter(status__in=Summons.OPEN_STATUSES).first() or mine.first()
        if summons is None and (case.township is None or not serves(department, case.township)):
            raise InvalidInput(
                "department",
                _("%(department)s is not summoned on this case and does not serve %(township)s."),
                department=Named.of(department),
                township=Named.of(case.township),
            )
        notice = SupervisionNotice(
            case=case,
            department=department,
            summons=summons,
            issued_by=actor,
            issued_at=now,
            text=text,
            due_at=due_at,
        )
        notice.next_check_at = next_check_for_notice(notice)
        notice.save(force_insert=True)
        event = record(
            case,
            EventKind.SUPERVISION_ISSUED,
            actor=actor,
            role=role,
            at=now,
            summons=summons,
            data={
                "notice": notice.pk,
                "department": department.code,
                "text": text,
                "due_at": iso(due_at),
            },
        )
        notify(
            department_people(department, case.township),
            event,
            _("Supervision notice on case %(case)s"),
            _("Supervision notice to %(department)s on case %(case)s: %(text)s Answer by %(due)s."),
            department=Named.of(department),
            text=Sentence(text[:200]),
            due=local_text(due_at),
        )
    return notice


def answer_supervision_notice(
    actor: Person,
    notice: SupervisionNotice,
    *,
    answer: str,
    now: datetime | None = None,
) -> SupervisionNotice:
    """The department answers a supervision notice: what it has done or will do."""
    now = moment(now)
    answer = clean_text(answer, "answer", _("The answer"), max_length=RESULT_MAX)
    with atomic():
        case = lock_case(notice.case_id)
        notice = (
            SupervisionNotice.objects.select_for_update(of=("self",))
            .select_related("department", "summons")
            .get(pk=notice.pk)
        )
        role = require(actor, "answer_supervision_notice", notice)
        notice.answered_at = now
        notice.answer = answer
        notice.next_check_at = next_check_for_notice(notice)
        notice.save(update_fields=["answered_at", "answer", "next_check_at"])
        late = minutes_late(now, notice.due_at)
        event = record(
            case,
            EventKind.SUPERVISION_ANSWERED,
            actor=actor,
            role=role,
            at=now,
            summons=notice.summons,
            data={
                "notice": notice.pk,
                "answer": answer,
                "due_at": iso(notice.due_at),
                "on_time": late == 0,
                "minutes_late": late,
            },
        )
        notify(
            [notice.issued_by],
            event,
            _("Supervision notice answered: %(case)s"),
            _("%(department)s answered the supervision notice on case %(case)s: %(answer)s"),
            department=Named.of(notice.department),
            answer=answer[:200],
        )
    return notice
