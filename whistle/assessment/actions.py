"""The actions of the assessment: rating a summons, appealing, ruling, closing a period.

Each runs in one transaction: it takes the scoring lock (`engine.lock_scoring`), then locks
the case (`trail.lock_case`), writes its trail event and brings the records and scores of the
case up to date before it commits. An appeal tells the district chiefs' office that rules
on it, and a ruling the department that appealed, in the same transaction. A change of
people or roles that leaves a pending appeal with nobody who may rule on it tells the people
who add staff, and one that gives such an appeal someone who may rule on it tells the people
who now may and the department, in the change's transaction (`after_staffing_changed`); the
worker looks again every `RULER_CHECK_EVERY` for the changes that announce nothing
(`ruler_checks.sweep`), with the same `settle_rulers`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from whistle.assessment.engine import (
    SchemeBook,
    facts_of,
    lock_scoring,
    refresh_cases,
    store_results,
    update_scores,
)
from whistle.assessment.models import (
    LONGEST_APPEAL_WORKING_DAYS,
    RATING_STARS,
    RULER_CHECK_EVERY,
    Appeal,
    ClosedPeriod,
    DepartmentResult,
    SummonsAssessment,
)
from whistle.assessment.periods import Period, PeriodKind
from whistle.assessment.scoring import AssessmentEventKind, validate_correction
from whistle.cases.actions import department_people, notify
from whistle.cases.errors import PermissionRefused
from whistle.cases.models import Attachment, Case, Event, Summons
from whistle.cases.permissions import member_departments_of, partiality, require_impartial
from whistle.cases.trail import append_event, lock_case
from whistle.notifications.texts import Named
from whistle.organisation import directory
from whistle.organisation.models import Department, Jurisdiction, Person, Role, RoleAssignment
from whistle.policies.calendar import deadline_after
from whistle.policies.models import DurationUnit

RATING_ROLES = (Role.TOWNSHIP_ASSESSOR, Role.DISPATCHER, Role.TOWNSHIP_CHIEF)
APPEAL_ROLES = (Role.DEPARTMENT_OFFICER, Role.DEPARTMENT_HEAD)
CLOSED_CASE = (Case.Status.CLOSED, Case.Status.EVALUATED)
# The longest comment a township may give with its rating; the rating form takes as many.
RATING_COMMENT_MAX = 2000
PART_KEYS = {
    Appeal.Part.CAME: {"came", "late_minutes"},
    Appeal.Part.ACTED: {"acted"},
    Appeal.Part.REWORK: {"rework_count"},
}
# How much of an appeal's reason, or of a ruling's grounds, its message quotes.
QUOTED_MAX = 140


class AssessmentError(Exception):
    """An action refused: the message is translated and can be shown as it is."""


class AssessmentPermissionError(AssessmentError):
    """Refused for who the person is (no role that may do it, or a judge of their own), not
    for the state of the record."""


def township_of(summons: Summons) -> Jurisdiction | None:
    if summons.whistle_id is not None and summons.whistle is not None:
        return summons.whistle.township
    return summons.case.township


def _role_in(person: Any, roles: Iterable[str], **scope: Any) -> str | None:
    found = (
        RoleAssignment.objects.held_by(person)
        .filter(role__in=list(roles), **scope)
        .values_list("role", flat=True)
        .first()
    )
    return str(found) if found else None


def _impartial(
    person: Any,
    action: Any,
    departments: Iterable[Department],
    filed_by_id: int | None = None,
) -> None:
    """The cases' rule that nobody judges their own department or decides what they filed,
    refused as this app refuses."""
    try:
        require_impartial(person, action, departments, filed_by_id=filed_by_id)
    except PermissionRefused as refused:
        raise AssessmentPermissionError(str(refused)) from None


def _refuse_if_frozen(record: SummonsAssessment | None) -> None:
    if record is not None and record.month in ClosedPeriod.frozen_months(record.district_id):
        raise AssessmentError(
            _("The period of %(month)s is closed; its scores can no longer change.")
            % {"month": f"{record.month:%Y-%m}"}
        )


def appeals_link(appeal: Appeal) -> str:
    """Where the district chiefs' office rules on the appeal: its card on the appeals page."""
    return f"/assessment/appeals/#appeal-{appeal.pk}"


def record_link(record: SummonsAssessment | None, summons: Summons) -> str:
    """Where the department reads its record with its appeals and their rulings: the record's
    card on its records page, in the record's month (without a record, its list of appeals)."""
    if record is None:
        return "/assessment/department/#my-appeals"
    period = Period.month_of(record.month).key
    return f"/assessment/department/?period={period}#record-{summons.uuid.hex}"


RULE_ON_APPEAL = gettext_lazy("rule on this appeal")


def earlier_ruler_ids(appeal: Appeal) -> set[int]:
    """Who ruled on an earlier appeal of the same record."""
    return set(
        Appeal.objects.filter(summons_id=appeal.summons_id, ruled_by__isnull=False)
        .exclude(pk=appeal.pk)
        .values_list("ruled_by_id", flat=True)
    )


def ruling_refusal(
    person: Any,
    appeal: Appeal,
    *,
    member_of: set[int] | None = None,
    earlier_rulers: set[int] | None = None,
) -> PermissionRefused | None:
    """Why the person may not rule on the appeal, or None when they may: nobody rules on an
    appeal they filed or of a department they belong to (`partiality`), and whoever ruled on
    an earlier appeal of the same record does not rule on a later one. Pages that list many
    appeals pass what they already know (`member_of`, `earlier_rulers`)."""
    refused = partiality(
        person,
        RULE_ON_APPEAL,
        [appeal.department],
        filed_by_id=appeal.filed_by_id,
        member_of=member_of,
    )
    if refused is not None:
        return refused
    if earlier_rulers is None:
        earlier_rulers = earlier_ruler_ids(appeal)
    if getattr(person, "pk", None) in earlier_rulers:
        return PermissionRefused(
            _(
                "You ruled on an earlier appeal of this record, so someone else in the office "
                "rules on this one."
            )
        )
    return None


def appeal_rulers(
    appeal: Appeal,
    *,
    earlier_rulers: set[int] | None = None,
    members: dict[int, set[int]] | None = None,
) -> list[Any]:
    """Who may rule on the appeal (`rule_on_appeal`): the chiefs' office of the department's
    district, less whoever filed it or belongs to the department (nobody rules on their own
    appeal) and whoever ruled on an earlier appeal of the record (`ruling_refusal`). Empty
    when nobody in the office may. Lists pass what they already read (`stuck_appeal_ids`)."""
    office = directory.people_with_role(Role.CHIEFS_OFFICE, appeal.department.district_id)
    earlier = earlier_ruler_ids(appeal) if earlier_rulers is None else earlier_rulers
    return [
        person
        for person in office
        if ruling_refusal(
            person,
            appeal,
            earlier_rulers=earlier,
            member_of=None if members is None else members.get(person.pk, set()),
        )
        is None
    ]


def nobody_may_rule(
    appeal: Appeal,
    *,
    earlier_rulers: set[int] | None = None,
    members: dict[int, set[int]] | None = None,
) -> bool:
    """Whether nobody in the district chiefs' office may rule on the appeal (`appeal_rulers`
    is empty): it waits until someone who may is added to the office."""
    return not appeal_rulers(appeal, earlier_rulers=earlier_rulers, members=members)


def stuck_appeal_ids(appeals: Iterable[Appeal]) -> set[int]:
    """The pending appeals of the list that nobody may rule on (`nobody_may_rule`), read in
    a fixed number of queries: the earlier rulings of their records, each district's office
    and the departments its people belong to."""
    pending = [a for a in appeals if a.status == Appeal.Status.PENDING]
    if not pending:
        return set()
    rulings: dict[int, list[tuple[int, int]]] = {}
    for summons_id, pk, ruler in Appeal.objects.filter(
        summons_id__in={a.summons_id for a in pending}, ruled_by__isnull=False
    ).values_list("summons_id", "pk", "ruled_by_id"):
        rulings.setdefault(summons_id, []).append((pk, ruler))
    office = {
        p.pk
        for district_id in {a.department.district_id for a in pending}
        for p in directory.people_with_role(Role.CHIEFS_OFFICE, district_id)
    }
    members = member_departments_of(office)
    return {
        a.pk
        for a in pending
        if nobody_may_rule(
            a,
            earlier_rulers={r for pk, r in rulings.get(a.summons_id, []) if pk != a.pk},
            members=members,
        )
    }


def staffing_link(appeal: Appeal) -> str:
    """Where a superuser adds someone to the district chiefs' office: the admin's new role
    form with the role and the district filled in."""
    return (
        "/admin/organisation/roleassignment/add/"
        f"?role={Role.CHIEFS_OFFICE.value}&jurisdiction={appeal.department.district_id}"
    )


def _tell_staffers(event: Event, appeal: Appeal) -> None:
    """Nobody in the office may rule on the appeal: the people who can add someone to it
    are told. People and their roles are added by superusers (in the admin, or by importing
    people); the district chief, who heads the office, hears it on the case."""
    subject = gettext_lazy("Nobody may rule on the appeal: %(department)s, case %(case)s")
    body = gettext_lazy(
        "%(department)s appeals its assessment record on case %(case)s, and nobody in the "
        "chiefs' office of %(district)s may rule on it: the ruling needs someone who did not "
        "file it, does not belong to the department and did not rule on an earlier appeal of "
        "this record. Add such a person to the district chiefs' office."
    )
    district = appeal.department.district
    params: dict[str, Any] = {
        "department": Named.of(appeal.department),
        "district": Named.of(district),
    }
    superusers = list(Person.objects.filter(is_active=True, is_superuser=True).order_by("pk"))
    notify(superusers, event, subject, body, link=staffing_link(appeal), **params)
    told = {p.pk for p in superusers}
    chiefs = directory.people_with_role(Role.DISTRICT_CHIEF, district.pk)
    notify([p for p in chiefs if p.pk not in told], event, subject, body, **params)


def _tell_rulers(event: Event, appeal: Appeal) -> None:
    rulers = appeal_rulers(appeal)
    if not rulers:
        appeal.nobody_rules_since = event.at
        appeal.save(update_fields=["nobody_rules_since"])
        _tell_staffers(event, appeal)
        return
    _tell_office(event, appeal, rulers)


def _tell_office(event: Event, appeal: Appeal, rulers: list[Any]) -> None:
    """The people of the district chiefs' office who may rule on the appeal are asked to:
    on filing, and when someone who may joins an office that had nobody who could."""
    notify(
        rulers,
        event,
        gettext_lazy("Appeal to rule on: %(department)s, case %(case)s"),
        gettext_lazy(
            "%(department)s appeals its assessment record on case %(case)s (%(part)s). "
            "Reason: %(reason)s"
        ),
        link=appeals_link(appeal),
        department=Named.of(appeal.department),
        part=Appeal.Part(appeal.part).label,
        reason=appeal.reason[:QUOTED_MAX],
    )


def _tell_department(
    event: Event,
    appeal: Appeal,
    record: SummonsAssessment | None,
    summons: Summons,
    township: Jurisdiction | None,
) -> None:
    """The department that appealed hears the ruling: whoever filed it, and its officers and
    head (with its people in the township's enforcement centre)."""
    people = _appealing_department(appeal, township)
    if appeal.status == Appeal.Status.UPHELD:
        subject = gettext_lazy("Appeal upheld: case %(case)s")
        body = gettext_lazy(
            "The district chiefs' office upheld the appeal of %(department)s on case "
            "%(case)s; the record is corrected. Grounds: %(note)s"
        )
    else:
        subject = gettext_lazy("Appeal rejected: case %(case)s")
        body = gettext_lazy(
            "The district chiefs' office rejected the appeal of %(department)s on case "
            "%(case)s; the record stands. Grounds: %(note)s"
        )
    notify(
        people,
        event,
        subject,
        body,
        link=record_link(record, summons),
        department=Named.of(appeal.department),
        note=appeal.ruling_note[:QUOTED_MAX],
    )


def _appealing_department(appeal: Appeal, township: Jurisdiction | None) -> list[Any]:
    """Who hears about an appeal for the department that filed it: whoever filed it, and
    its officers and head (with its people in the township's enforcement centre)."""
    people = [appeal.filed_by, *department_people(appeal.department, township)]
    return [p for p in people if p.is_active]


def _tell_department_of_ruler(event: Event, appeal: Appeal) -> None:
    """The department whose appeal waited for someone who may rule on it hears, once, that
    someone now may: its records page had said that nobody could."""
    summons = appeal.summons
    record = SummonsAssessment.objects.filter(summons=summons).first()
    notify(
        _appealing_department(appeal, township_of(summons)),
        event,
        gettext_lazy("Someone may now rule on the appeal: %(department)s, case %(case)s"),
        gettext_lazy(
            "Someone in the chiefs' office of %(district)s may now rule on the appeal of "
            "%(department)s on case %(case)s; it awaits their ruling."
        ),
        link=record_link(record, summons),
        department=Named.of(appeal.department),
        district=Named.of(appeal.department.district),
    )


def rate_summons(
    person: Any, summons: Summons, rating: int, comment: str, now: datetime | None = None
) -> SummonsAssessment | None:
    """The township's rating (1–5) of how well a department did, given after the case closed.
    A later rating replaces an earlier one."""
    now = now or timezone.now()
    if isinstance(rating, bool) or not isinstance(rating, int) or rating not in RATING_STARS:
        raise AssessmentError(_("A rating is a whole number from 1 to 5."))
    comment = (comment or "").strip()
    if len(comment) > RATING_COMMENT_MAX:
        raise AssessmentError(_("The comment is longer than 2,000 characters."))
    township = township_of(summons)
    role = _role_in(person, RATING_ROLES, jurisdiction=township) if township else None
    if role is None:
        raise AssessmentPermissionError(
            _("Only the assessors, dispatchers and chief of the case's township may rate.")
        )
    _impartial(person, gettext_lazy("rate this department's work"), [summons.department])
    with transaction.atomic():
        lock_scoring()
        case = lock_case(summons.case_id)
        if case.status not in CLOSED_CASE:
            raise AssessmentError(_("A summons can be rated only after its case is closed."))
        summons = Summons.objects.select_related("department").get(pk=summons.pk)
        if summons.status == Summons.Status.CANCELLED:
            raise AssessmentError(_("A cancelled summons is not assessed."))
        if facts_of(summons).excused:
            raise AssessmentError(
                _(
                    "%(department)s did not have to come (its decline was upheld, or it was "
                    "released before it arrived): there is no work of its own to rate."
                )
                % {"department": summons.department.display_name}
            )
        _refuse_if_frozen(SummonsAssessment.objects.filter(summons=summons).first())
        append_event(
            case,
            AssessmentEventKind.RATED,
            actor=person,
            actor_role=role,
            summons=summons,
            data={"rating": rating, "comment": comment},
            at=now,
        )
        refresh_cases([case.pk])
    return SummonsAssessment.objects.filter(summons=summons).first()


def appeal_deadline(record: SummonsAssessment) -> datetime:
    """The last moment to appeal: the scheme's working days after the record settled, in the
    district's working calendar. A window longer than the longest a scheme may set (a row
    written before the bound existed) counts as the longest."""
    assert record.settled_at is not None
    return deadline_after(
        record.settled_at,
        min(record.scheme.appeal_working_days, LONGEST_APPEAL_WORKING_DAYS),
        DurationUnit.WORKING_DAYS,
        record.district,
    )


def file_appeal(
    person: Any,
    summons: Summons,
    part: str,
    requested: dict[str, Any],
    reason: str,
    evidence: str = "",
    attachments: Iterable[Attachment] = (),
    now: datetime | None = None,
) -> Appeal:
    """A department's appeal (申诉) against its record, asking for a correction."""
    now = now or timezone.now()
    role = _role_in(person, APPEAL_ROLES, department_id=summons.department_id)
    if role is None:
        raise AssessmentPermissionError(
            _("Only the officers and head of the department may appeal.")
        )
    if part not in PART_KEYS:
        raise AssessmentError(_("Choose what the appeal contests: came, acted or rework."))
    if validate_correction(requested) or not set(requested) <= PART_KEYS[Appeal.Part(part)]:
        raise AssessmentError(_("The requested correction does not fit the contested part."))
    reason = (reason or "").strip()
    if not reason:
        raise AssessmentError(_("Give the reason for the appeal."))
    attachments = list(attachments)
    if any(a.case_id != summons.case_id for a in attachments):
        raise AssessmentError(_("Evidence files must belong to the same case."))
    with transaction.atomic():
        lock_scoring()
        case = lock_case(summons.case_id)
        record = (
            SummonsAssessment.objects.select_related("scheme", "district")
            .filter(summons_id=summons.pk)
            .first()
        )
        if record is None or not record.settled:
            raise AssessmentError(_("Only a settled assessment record can be appealed."))
        _refuse_if_frozen(record)
        deadline = appeal_deadline(record)
        if now > deadline:
            raise AssessmentError(
                _("The time to appeal ended at %(deadline)s.")
                % {"deadline": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M")}
            )
        if Appeal.objects.filter(summons=summons, status=Appeal.Status.PENDING).exists():
            raise AssessmentError(_("An appeal against this record is already awaiting a ruling."))
        # A ruling is final for the correction it ruled on: the same request is not filed again.
        for earlier in Appeal.objects.filter(summons=summons, part=part).exclude(
            status=Appeal.Status.PENDING
        ):
            if earlier.requested == requested:
                raise AssessmentError(
                    _(
                        "This correction of this record was already ruled on (%(status)s, "
                        "%(date)s): an identical appeal cannot be filed again."
                    )
                    % {
                        "status": earlier.get_status_display(),
                        "date": timezone.localtime(earlier.ruled_at or earlier.filed_at).strftime(
                            "%Y-%m-%d"
                        ),
                    }
                )
        appeal = Appeal.objects.create(
            summons=summons,
            department_id=summons.department_id,
            part=part,
            requested=requested,
            reason=reason,
            evidence=evidence,
            filed_by=person,
            filed_at=now,
            ruler_check_at=now + RULER_CHECK_EVERY,
        )
        appeal.attachments.set(attachments)
        event = append_event(
            case,
            AssessmentEventKind.APPEALED,
            actor=person,
            actor_role=role,
            summons=summons,
            data={
                "appeal": appeal.pk,
                "part": part,
                "requested": requested,
                "reason": reason,
                "evidence": evidence,
                "attachments": [str(a.sha256) for a in attachments],
            },
            at=now,
        )
        _tell_rulers(event, appeal)
    return appeal


def rule_on_appeal(
    person: Any,
    appeal: Appeal,
    upheld: bool,
    note: str,
    correction: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Appeal:
    """The district chiefs' office rules. Upheld: the correction (the one asked for unless
    another is given) is written into the trail and the record and scores are recomputed."""
    now = now or timezone.now()
    summons = appeal.summons
    district_id = summons.department.district_id
    role = _role_in(person, (Role.CHIEFS_OFFICE,), jurisdiction_id=district_id)
    if role is None:
        raise AssessmentPermissionError(_("Only the district chiefs' office may rule on appeals."))
    refused = ruling_refusal(person, appeal)
    if refused is not None:
        raise AssessmentPermissionError(str(refused))
    note = (note or "").strip()
    if not note:
        raise AssessmentError(_("Give the grounds of the ruling."))
    correction = dict(appeal.requested if correction is None else correction)
    if upheld and (
        validate_correction(correction)
        or not set(correction) <= PART_KEYS[Appeal.Part(appeal.part)]
    ):
        raise AssessmentError(_("The correction does not fit the contested part."))
    with transaction.atomic():
        lock_scoring()
        case = lock_case(summons.case_id)
        appeal = Appeal.objects.select_for_update().get(pk=appeal.pk)
        if appeal.status != Appeal.Status.PENDING:
            raise AssessmentError(_("This appeal has already been ruled on."))
        record = SummonsAssessment.objects.filter(summons=summons).first()
        _refuse_if_frozen(record)
        appeal.status = Appeal.Status.UPHELD if upheld else Appeal.Status.REJECTED
        appeal.ruled_by = person
        appeal.ruled_at = now
        appeal.ruling_note = note
        appeal.correction = correction if upheld else {}
        appeal.ruler_check_at = None
        appeal.save(
            update_fields=[
                "status",
                "ruled_by",
                "ruled_at",
                "ruling_note",
                "correction",
                "ruler_check_at",
            ]
        )
        event = append_event(
            case,
            AssessmentEventKind.APPEAL_UPHELD if upheld else AssessmentEventKind.APPEAL_REJECTED,
            actor=person,
            actor_role=role,
            summons=summons,
            data={"appeal": appeal.pk, "note": note, "correction": appeal.correction},
            at=now,
        )
        refresh_cases([case.pk])
        _tell_department(event, appeal, record, summons, township_of(summons))
    return appeal


def after_staffing_changed(*, now: datetime | None = None, **_signal: Any) -> list[Appeal]:
    """Receiver of `staffing_changed` (connected in the assessment app's ready()): people or
    their roles changed (a role added, ended or removed, an account deactivated), in the
    change's transaction. Each pending appeal whose rulers no longer match its mark
    (`nobody_may_rule` against `nobody_rules_since`) is settled by `settle_rulers`, which
    tells as on filing. Returns the appeals that came to have nobody."""
    now = now or timezone.now()
    pending = list(
        Appeal.objects.filter(status=Appeal.Status.PENDING).select_related(
            "department__district", "summons"
        )
    )
    stuck = stuck_appeal_ids(pending)
    changed = [a for a in pending if (a.pk in stuck) == (a.nobody_rules_since is None)]
    told: list[Appeal] = []
    for found in sorted(changed, key=lambda a: (a.summons.case_id, a.pk)):
        case = lock_case(found.summons.case_id)
        appeal = (
            Appeal.objects.select_for_update()
            .select_related("department__district", "summons__case", "filed_by")
            .get(pk=found.pk)
        )
        if settle_rulers(case, appeal, now):
            told.append(appeal)
    return told


def _mark_rulers(case: Case, appeal: Appeal, kind: str, now: datetime) -> Event:
    """The trail event that the appeal came to have nobody who may rule on it, or someone
    again, and its mark: the event's moment, or none."""
    event = append_event(
        case, kind, summons=appeal.summons, data={"appeal": appeal.pk}, at=now, follow_trail=True
    )
    nobody = kind == AssessmentEventKind.APPEAL_NOBODY_RULES
    appeal.nobody_rules_since = event.at if nobody else None
    appeal.save(update_fields=["nobody_rules_since"])
    return event


def settle_rulers(case: Case, appeal: Appeal, now: datetime) -> bool:
    """Bring a pending appeal's mark (`nobody_rules_since`) in line with who may rule on it
    now, the case and the appeal locked by the caller: the answer to a change of people or
    roles (`after_staffing_changed`) and the worker's look (`ruler_checks.sweep`) alike.

    An appeal that nobody may rule on (`nobody_may_rule`) and whose staffers have not been
    told gets its trail event, and they are told as on filing (`_tell_staffers`); its mark
    keeps them from being told again. A marked appeal that someone may rule on again gets
    its trail event too: the people who now may are told as the office is on filing
    (`_tell_office`), the department that appealed hears that it has someone to rule on it,
    and the mark goes, so that losing them tells again. Anything else writes nothing.
    Returns whether the appeal came to have nobody."""
    if appeal.status != Appeal.Status.PENDING:
        return False
    rulers = appeal_rulers(appeal)
    if appeal.nobody_rules_since is None and not rulers:
        event = _mark_rulers(case, appeal, AssessmentEventKind.APPEAL_NOBODY_RULES, now)
        _tell_staffers(event, appeal)
        return True
    if appeal.nobody_rules_since is not None and rulers:
        event = _mark_rulers(case, appeal, AssessmentEventKind.APPEAL_RULER_FOUND, now)
        _tell_office(event, appeal, rulers)
        _tell_department_of_ruler(event, appeal)
    return False


def close_period(
    person: Any, district: Jurisdiction, period_key: str, now: datetime | None = None
) -> ClosedPeriod:
    """Freeze a period: its records, cells and scores keep the values they have now, and the
    scheme in force in its months can no longer change."""
    now = now or timezone.now()
    period = Period.parse(period_key)
    allowed = person.is_superuser or _role_in(
        person, (Role.DISTRICT_ASSESSOR, Role.CHIEFS_OFFICE), jurisdiction=district
    )
    if not allowed:
        raise AssessmentPermissionError(
            _("Only the district's assessors or chiefs' office may close.")
        )
    if ClosedPeriod.objects.filter(district=district, period=period.key).exists():
        raise AssessmentError(_("This period is already closed."))
    update_scores()
    with transaction.atomic():
        lock_scoring()
        inside = [period, *_sub_periods(period)]
        store_results(district.pk, inside, SchemeBook())
        closed = ClosedPeriod.objects.create(
            district=district,
            period=period.key,
            last_month=period.last_month,
            closed_at=now,
            closed_by=person if getattr(person, "pk", None) else None,
        )
        DepartmentResult.objects.filter(
            district=district, period__in=[p.key for p in inside]
        ).update(frozen=True)
    return closed


def _sub_periods(period: Period) -> list[Period]:
    if period.kind == PeriodKind.MONTH:
        return []
    months = [Period.month_of(m) for m in period.months()]
    if period.kind == PeriodKind.QUARTER:
        return months
    quarters = [Period(period.year, PeriodKind.QUARTER, n) for n in range(1, 5)]
    return [*quarters, *months]
