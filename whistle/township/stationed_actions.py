"""Every change of the stationed staff's management: the roster, attendance, leave and the
monthly assessment.

Like `whistle.township.actions`: each action reads the acting person's role afresh in the
township concerned, validates its input, and in one transaction locks the row, changes it,
appends its `TownshipLogEntry` and queues its messages. A refusal raises `TownshipRefused`
(or `InvalidTownshipInput`) and writes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from whistle.assessment.components import record_stationed_score
from whistle.assessment.scoring import exact_rounded
from whistle.notifications.kinds import NotificationKind
from whistle.notifications.texts import Named
from whistle.organisation.models import CentreMembership, Person, RoleAssignment
from whistle.township.actions import _acting_role, _tell, _text
from whistle.township.errors import InvalidTownshipInput, TownshipRefused
from whistle.township.models import TownshipLogEntry
from whistle.township.permissions import people_with
from whistle.township.stationed import (
    StationedAssessment,
    StationedAttendance,
    StationedLeave,
    Stationing,
)
from whistle.township.stationed_rules import (
    CENTRE_KEEPERS,
    DEPARTMENT_READERS,
    DEPARTMENT_STAFF,
    LEAVE_DECIDERS,
    ROSTER_KEEPERS,
    STATIONED_ASSESSORS,
    month_attendance,
    month_days,
    summons_facts,
)

Action = TownshipLogEntry.Action

POST_MAX = 60
NOTE_MAX = 200
REASON_MAX = 2000
# The longest leave one request may ask for, in calendar days.
LEAVE_DAYS_MAX = 60
STATIONED_ROLES = (CentreMembership.Role.STATIONED, CentreMembership.Role.CORE)
SELF_ROLE = "stationed"
# How far back a stationing's first day may be entered.
STARTED_BACK_MAX = timedelta(days=365)

LEAVE_KIND = NotificationKind("township.leave", _("a stationed person asks for leave"))
LEAVE_DECIDED_KIND = NotificationKind("township.leave_decided", _("your leave was decided"))
STATIONED_ASSESSED_KIND = NotificationKind(
    "township.stationed_assessed", _("a monthly assessment of stationed staff was published")
)
STATIONED_KINDS = (LEAVE_KIND, LEAVE_DECIDED_KIND, STATIONED_ASSESSED_KIND)


def leave_link(leave: StationedLeave) -> str:
    return f"/township/stationed/leave/#leave-{leave.pk}"


def own_link() -> str:
    return "/stationed/"


def department_link(month: date) -> str:
    return f"/department/stationed/?month={month:%Y-%m}"


def _today(now: datetime) -> date:
    return timezone.localdate(now)


def _lock(stationing: Stationing) -> Stationing:
    return (
        Stationing.objects.select_for_update()
        .select_related("membership__township", "membership__department", "person")
        .get(pk=stationing.pk)
    )


def _clean_started_on(started_on: date, now: datetime) -> date:
    """A stationing's first day: a date at most a year back (`STARTED_BACK_MAX`), since the
    roster and its attendance are kept from the day; an earlier one is a typing mistake."""
    if isinstance(started_on, datetime) or not isinstance(started_on, date):
        raise InvalidTownshipInput("started_on", _("Give the first day as a date."))
    earliest = _today(now) - STARTED_BACK_MAX
    if started_on < earliest:
        raise InvalidTownshipInput(
            "started_on",
            _(
                "A stationing is entered at most a year back: the first day must be "
                "%(day)s or later."
            ),
            day=earliest.isoformat(),
        )
    return started_on


def _snapshot(stationing: Stationing) -> dict[str, Any]:
    return {
        "person": stationing.person.username,
        "department": stationing.membership.department.code,
        "post": stationing.post,
        "started_on": stationing.started_on.isoformat(),
        "ended_on": stationing.ended_on.isoformat() if stationing.ended_on else None,
    }


# The roster ---------------------------------------------------------------------------------


@transaction.atomic
def station_person(
    actor: Person,
    membership: CentreMembership,
    person: Person,
    *,
    post: str = "",
    started_on: date,
    now: datetime | None = None,
) -> Stationing:
    """Put a person of the department on the township's roster of its centre from a day."""
    township = membership.township
    role = _acting_role(actor, ROSTER_KEEPERS, township, _("keep the roster of stationed staff"))
    now = now or timezone.now()
    if membership.role not in STATIONED_ROLES:
        raise InvalidTownshipInput(
            "membership",
            _("%(department)s is on call in the centre, not stationed."),
            department=Named.of(membership.department),
        )
    post = _text("post", post, limit=POST_MAX, required=False)
    if (
        not person.is_active
        or not RoleAssignment.objects.filter(
            person=person, role__in=DEPARTMENT_STAFF, department=membership.department
        ).exists()
    ):
        raise InvalidTownshipInput(
            "person",
            _("%(person)s is not an officer of %(department)s."),
            person=person.name or person.username,
            department=Named.of(membership.department),
        )
    started_on = _clean_started_on(started_on, now)
    if (
        Stationing.objects.filter(person=person)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=started_on))
        .exists()
    ):
        raise InvalidTownshipInput(
            "person",
            _("%(person)s is already stationed on that day."),
            person=person.name or person.username,
        )
    stationing = Stationing.objects.create(
        membership=membership, person=person, post=post, started_on=started_on
    )
    membership.people.add(person)
    return _with_log(stationing, Action.STATIONING_ADDED, actor, role, now)


def _with_log(
    stationing: Stationing,
    action: str,
    actor: Person,
    role: str,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> Stationing:
    TownshipLogEntry.objects.create(
        at=now,
        actor=actor,
        actor_role=role,
        action=action,
        stationing=stationing,
        data={**_snapshot(stationing), **(data or {})},
    )
    return stationing


@transaction.atomic
def change_stationing(
    actor: Person,
    stationing: Stationing,
    *,
    post: str,
    started_on: date,
    now: datetime | None = None,
) -> Stationing:
    """Correct the post or the first day of a stationing that has not ended."""
    stationing = _lock(stationing)
    role = _acting_role(
        actor, ROSTER_KEEPERS, stationing.township, _("keep the roster of stationed staff")
    )
    now = now or timezone.now()
    if stationing.ended_on is not None:
        raise TownshipRefused(_("This stationing has ended; station the person again instead."))
    post = _text("post", post, limit=POST_MAX, required=False)
    if started_on != stationing.started_on:
        started_on = _clean_started_on(started_on, now)
        earliest = stationing.attendance.order_by("day").values_list("day", flat=True).first()
        if earliest is not None and started_on > earliest:
            raise InvalidTownshipInput(
                "started_on",
                _("The person signed in on %(day)s; the stationing cannot start after it."),
                day=earliest.isoformat(),
            )
        if (
            Stationing.objects.filter(person=stationing.person, ended_on__gte=started_on)
            .exclude(pk=stationing.pk)
            .exists()
        ):
            raise InvalidTownshipInput(
                "started_on", _("The person was stationed elsewhere on that day.")
            )
    before = {"post": stationing.post, "started_on": stationing.started_on.isoformat()}
    stationing.post = post
    stationing.started_on = started_on
    stationing.save(update_fields=["post", "started_on"])
    return _with_log(stationing, Action.STATIONING_CHANGED, actor, role, now, {"before": before})


@transaction.atomic
def end_stationing(
    actor: Person,
    stationing: Stationing,
    *,
    ended_on: date,
    reason: str,
    now: datetime | None = None,
) -> Stationing:
    """End a stationing on its last day; the person leaves the centre's list of people."""
    stationing = _lock(stationing)
    role = _acting_role(
        actor, ROSTER_KEEPERS, stationing.township, _("keep the roster of stationed staff")
    )
    now = now or timezone.now()
    if stationing.ended_on is not None:
        raise TownshipRefused(_("This stationing has already ended."))
    reason = _text("reason", reason, limit=NOTE_MAX)
    if ended_on < stationing.started_on:
        raise InvalidTownshipInput(
            "ended_on",
            _("The last day cannot be before the first (%(day)s)."),
            day=stationing.started_on.isoformat(),
        )
    latest = stationing.attendance.order_by("-day").values_list("day", flat=True).first()
    if latest is not None and ended_on < latest:
        raise InvalidTownshipInput(
            "ended_on",
            _("The person signed in on %(day)s; the last day cannot be before it."),
            day=latest.isoformat(),
        )
    stationing.ended_on = ended_on
    stationing.end_reason = reason
    stationing.save(update_fields=["ended_on", "end_reason"])
    others = (
        Stationing.objects.filter(membership=stationing.membership, person=stationing.person)
        .exclude(pk=stationing.pk)
        .filter(ended_on__isnull=True)
    )
    if not others.exists():
        stationing.membership.people.remove(stationing.person)
    return _with_log(stationing, Action.STATIONING_ENDED, actor, role, now, {"reason": reason})


# Attendance ---------------------------------------------------------------------------------


@transaction.atomic
def sign_in(actor: Person, stationing: Stationing, *, now: datetime | None = None) -> Any:
    """The stationed person signs in at the centre today, on their phone."""
    now = now or timezone.now()
    stationing = _lock(stationing)
    if stationing.person_id != actor.pk:
        raise TownshipRefused(_("Only the stationed person signs in for themselves."))
    return _attend(actor, SELF_ROLE, stationing, _today(now), now, StationedAttendance.How.SELF, "")


@transaction.atomic
def record_attendance(
    actor: Person,
    stationing: Stationing,
    *,
    day: date,
    note: str = "",
    now: datetime | None = None,
) -> Any:
    """The centre's keeper records that the person was at the centre on a day (today or
    a past day of the stationing)."""
    now = now or timezone.now()
    stationing = _lock(stationing)
    role = _acting_role(actor, CENTRE_KEEPERS, stationing.township, _("record attendance"))
    if stationing.person_id == actor.pk:
        raise TownshipRefused(_("Nobody records their own attendance; sign in on the phone."))
    note = _text("note", note, limit=NOTE_MAX, required=False)
    if day > _today(now):
        raise InvalidTownshipInput("day", _("Attendance cannot be recorded ahead."))
    return _attend(actor, role, stationing, day, now, StationedAttendance.How.KEEPER, note)


def _attend(
    actor: Person,
    role: str,
    stationing: Stationing,
    day: date,
    now: datetime,
    how: str,
    note: str,
) -> StationedAttendance:
    if not stationing.covers(day):
        raise InvalidTownshipInput(
            "day", _("%(day)s is not a day of the stationing."), day=day.isoformat()
        )
    if stationing.attendance.filter(day=day).exists():
        raise TownshipRefused(_("Attendance for %(day)s is already recorded."), day=day.isoformat())
    row = StationedAttendance.objects.create(
        stationing=stationing, day=day, signed_at=now, how=how, recorded_by=actor, note=note
    )
    _with_log(
        stationing,
        Action.ATTENDANCE_RECORDED,
        actor,
        role,
        now,
        {"day": day.isoformat(), "how": how},
    )
    return row


# Leave --------------------------------------------------------------------------------------


@transaction.atomic
def ask_leave(
    actor: Person,
    stationing: Stationing,
    *,
    first_day: date,
    last_day: date,
    reason: str,
    now: datetime | None = None,
) -> StationedLeave:
    """The stationed person asks for leave; the township's deciders are told."""
    now = now or timezone.now()
    stationing = _lock(stationing)
    if stationing.person_id != actor.pk:
        raise TownshipRefused(_("Only the stationed person asks for their own leave."))
    reason = _text("reason", reason, limit=REASON_MAX)
    if last_day < first_day:
        raise InvalidTownshipInput("last_day", _("The last day cannot be before the first."))
    if (last_day - first_day).days + 1 > LEAVE_DAYS_MAX:
        raise InvalidTownshipInput(
            "last_day", _("Ask for at most %(n)s days at a time."), n=LEAVE_DAYS_MAX
        )
    if not (stationing.covers(first_day) and stationing.covers(last_day)):
        raise InvalidTownshipInput("first_day", _("The days must lie within the stationing."))
    if stationing.leaves.filter(
        state__in=[StationedLeave.State.ASKED, StationedLeave.State.APPROVED],
        first_day__lte=last_day,
        last_day__gte=first_day,
    ).exists():
        raise InvalidTownshipInput(
            "first_day", _("Leave for some of these days is already asked or approved.")
        )
    leave = StationedLeave.objects.create(
        stationing=stationing,
        first_day=first_day,
        last_day=last_day,
        reason=reason,
        asked_at=now,
    )
    _with_log(
        stationing,
        Action.LEAVE_ASKED,
        actor,
        SELF_ROLE,
        now,
        {"leave": leave.pk, "first_day": first_day.isoformat(), "last_day": last_day.isoformat()},
    )
    deciders = [
        p
        for p in people_with(LEAVE_DECIDERS, [stationing.membership.township_id])
        if p.pk != actor.pk
    ]
    _tell(
        deciders,
        LEAVE_KIND,
        _("%(person)s (%(department)s) asks for leave from %(first)s to %(last)s"),
        leave_link(leave),
        f"township.leave:{leave.pk}",
        person=stationing.person.name or stationing.person.username,
        department=Named.of(stationing.membership.department),
        first=first_day.isoformat(),
        last=last_day.isoformat(),
    )
    return leave


@transaction.atomic
def decide_leave(
    actor: Person,
    leave: StationedLeave,
    *,
    approve: bool,
    note: str = "",
    now: datetime | None = None,
) -> StationedLeave:
    """Approve or refuse asked leave, once; nobody decides their own."""
    now = now or timezone.now()
    leave = StationedLeave.objects.select_for_update().get(pk=leave.pk)
    stationing = _lock(leave.stationing)
    role = _acting_role(actor, LEAVE_DECIDERS, stationing.township, _("decide on leave"))
    if stationing.person_id == actor.pk:
        raise TownshipRefused(_("Nobody decides on their own leave."))
    if leave.state != StationedLeave.State.ASKED:
        raise TownshipRefused(_("This leave has already been decided."))
    note = _text("note", note, limit=REASON_MAX, required=not approve)
    leave.state = StationedLeave.State.APPROVED if approve else StationedLeave.State.REFUSED
    leave.decided_at = now
    leave.decided_by = actor
    leave.decision_note = note
    leave.save(update_fields=["state", "decided_at", "decided_by", "decision_note"])
    _with_log(
        stationing,
        Action.LEAVE_DECIDED,
        actor,
        role,
        now,
        {"leave": leave.pk, "state": leave.state},
    )
    _tell(
        [stationing.person],
        LEAVE_DECIDED_KIND,
        _("Your leave from %(first)s to %(last)s: %(state)s"),
        own_link(),
        f"township.leave_decided:{leave.pk}",
        first=leave.first_day.isoformat(),
        last=leave.last_day.isoformat(),
        state=leave.get_state_display(),
    )
    return leave


# The monthly assessment ---------------------------------------------------------------------


def _score(value: Any) -> Decimal:
    try:
        score = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidTownshipInput("score", _("The score is a number from 0 to 100.")) from None
    if not score.is_finite() or not 0 <= score <= 100:
        raise InvalidTownshipInput("score", _("The score is a number from 0 to 100."))
    return score.quantize(Decimal("0.01"))


def assessment_facts(stationing: Stationing, month: date, today: date) -> dict[str, Any]:
    """What the month's assessment of the person rests on: attendance and summonses."""
    attendance = month_attendance([stationing], month, today)[stationing.pk]
    return {**attendance.facts, **summons_facts(stationing, month)}


def department_month_score(department_id: int, district_id: int, month: date) -> Decimal | None:
    """The mean of the month's published assessments of the department's people in the
    district's townships."""
    scores = list(
        StationedAssessment.objects.filter(
            stationing__membership__department_id=department_id,
            stationing__membership__township__parent_id=district_id,
            month=month,
        ).values_list("score", flat=True)
    )
    if not scores:
        return None
    return exact_rounded(sum((Fraction(s) for s in scores), Fraction(0)) / len(scores))


@transaction.atomic
def publish_assessment(
    actor: Person,
    stationing: Stationing,
    *,
    month: date,
    score: Any,
    reasons: str,
    now: datetime | None = None,
) -> StationedAssessment:
    """The township's assessment of a stationed person for a month that is over, once,
    with its reasons and the facts it rests on. The department's score for the month in
    the stationed staff's component becomes the mean of its people's assessments; the
    person and the department's officers and head are told."""
    now = now or timezone.now()
    stationing = _lock(stationing)
    township = stationing.township
    role = _acting_role(actor, STATIONED_ASSESSORS, township, _("assess stationed staff"))
    if stationing.person_id == actor.pk:
        raise TownshipRefused(_("Nobody assesses themselves."))
    month = month.replace(day=1)
    today = _today(now)
    if month >= today.replace(day=1):
        raise InvalidTownshipInput("month", _("A month is assessed once it is over."))
    last = month_days(month)[-1]
    if stationing.started_on > last or (
        stationing.ended_on is not None and stationing.ended_on < month
    ):
        raise InvalidTownshipInput("month", _("The person was not stationed in that month."))
    if stationing.assessments.filter(month=month).exists():
        raise TownshipRefused(
            _("The assessment for %(month)s is already published."), month=f"{month:%Y-%m}"
        )
    score = _score(score)
    reasons = _text("reasons", reasons, limit=REASON_MAX)
    facts = assessment_facts(stationing, month, today)
    assessment = StationedAssessment.objects.create(
        stationing=stationing,
        month=month,
        score=score,
        reasons=reasons,
        facts=facts,
        published_at=now,
        published_by=actor,
    )
    _with_log(
        stationing,
        Action.ASSESSMENT_PUBLISHED,
        actor,
        role,
        now,
        {"month": f"{month:%Y-%m}", "score": str(score)},
    )
    department = stationing.membership.department
    district = township.parent
    assert district is not None
    mean = department_month_score(department.pk, district.pk, month)
    try:
        record_stationed_score(
            district,
            department,
            month,
            mean,
            source=str(_("townships' assessments of stationed staff")),
            person=actor,
            now=now,
        )
    except ValidationError as exc:
        raise InvalidTownshipInput("month", " ".join(exc.messages)) from None
    heads = [p for p in people_with_department(department.pk) if p.pk != stationing.person_id]
    params = {
        "township": Named.of(township),
        "person": stationing.person.name or stationing.person.username,
        "month": f"{month:%Y-%m}",
    }
    _tell(
        heads,
        STATIONED_ASSESSED_KIND,
        _("%(township)s assessed %(person)s for %(month)s"),
        department_link(month),
        f"township.stationed_assessed:{assessment.pk}",
        **params,
    )
    _tell(
        [stationing.person],
        STATIONED_ASSESSED_KIND,
        _("%(township)s assessed %(person)s for %(month)s"),
        own_link(),
        f"township.stationed_assessed:{assessment.pk}:self",
        **params,
    )
    return assessment


def people_with_department(department_id: int) -> list[Person]:
    rows = RoleAssignment.objects.filter(
        role__in=DEPARTMENT_READERS, department_id=department_id, person__is_active=True
    ).select_related("person")
    people = {row.person.pk: row.person for row in rows}
    return [people[pk] for pk in sorted(people)]
