"""Who may do what to a case, a summons or a supervision notice, and when.

Every action on a case has one `Rule` here: *who* (the roles that qualify, each in its scope,
in order of preference; the first role the person holds is written into the trail event)
and *when* (the state the target must be in). The actions call `require` after locking the
target, with the person's roles read afresh; the pages call `may` to decide which buttons
to offer, with the person's roles read once per request (`grants_of`), so that a list of
fifty cases does not ask the database fifty times whether the same person is a dispatcher.
Both read the same rule, so a page offers a button exactly when the action would take it.

A rule that judges (a ruling, an evaluation) also names the departments it judges: nobody
judges a department they belong to (`partiality`). The pages read the person's departments
once per request, the actions afresh. That nobody decides on something they did themself
is read from the trail, by the action.

What depends on the input (a category of another district, a department that does not
serve the township, a check-in too far away) is the action's alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from whistle.cases.errors import ActionRefused, PermissionRefused, StateRefused
from whistle.cases.hotline import order_of
from whistle.cases.models import Case, Summons, SupervisionNotice
from whistle.notifications.texts import Named
from whistle.organisation import directory
from whistle.organisation.models import (
    CentreMembership,
    Department,
    Jurisdiction,
    Lane,
    Role,
    RoleAssignment,
    Scope,
)

LANE_ROLES = (Role.STEWARD, Role.LANE_CHIEF, Role.STREET_CHIEF)
TOWNSHIP_OFFICE = (Role.DISPATCHER, Role.TOWNSHIP_CHIEF)
DEPARTMENT_STAFF = (Role.DEPARTMENT_OFFICER, Role.DEPARTMENT_HEAD)
CHIEFS = (Role.TOWNSHIP_CHIEF, Role.CHIEFS_OFFICE)
DISTRICT_CHIEFS = (Role.DISTRICT_CHIEF, Role.CHIEFS_OFFICE)

CS = Case.Status
SS = Summons.Status
# Cases still being worked on; a reported case is filed or rejected first.
IN_PROGRESS = (CS.FILED, CS.DISPATCHED, CS.WHISTLED, CS.BACKLOG)
# Once the township has marked the case resolved, its departments may leave.
CASE_RESOLVED = (CS.HANDLED, CS.CHECKED, CS.CLOSED, CS.EVALUATED)
# Cases the township is done with: a work order's caller may then be called back.
REQUEST_HANDLED = (*CASE_RESOLVED, CS.REJECTED)
# Summonses that keep the township from marking the case resolved: nobody has come yet,
# or a decline waits for a ruling.
UNSETTLED = (SS.SUMMONED, SS.ACKNOWLEDGED, SS.DECLINED)
# Cases whose reporter is asked whether they are satisfied.
RESIDENT_SOURCES = (Case.Source.RESIDENT, Case.Source.HOTLINE)

# (role, jurisdiction id, lane id, department id)
Grant = tuple[str, int | None, int | None, int | None]


@dataclass(frozen=True)
class Scoped:
    """Some roles held in one scope: a district or township, a lane, or a department."""

    roles: tuple[str, ...]
    jurisdiction: Jurisdiction | None = None
    lane: Lane | None = None
    department: Department | None = None

    @property
    def key(self) -> tuple[int | None, int | None, int | None]:
        return (
            self.jurisdiction.pk if self.jurisdiction is not None else None,
            self.lane.pk if self.lane is not None else None,
            self.department.pk if self.department is not None else None,
        )

    @property
    def target(self) -> Any:
        return self.lane or self.department or self.jurisdiction

    @property
    def level(self) -> str:
        """The kind of scope, as roles are given in it (`Scope`): a lane, a department, a
        township or a district."""
        if self.lane is not None:
            return Scope.LANE
        if self.department is not None:
            return Scope.DEPARTMENT
        assert self.jurisdiction is not None
        return Scope(self.jurisdiction.level)


class _Joined:
    """Words joined when shown, so that each is translated into the language of that moment."""

    def __init__(self, items: list[Any], separator: str | Promise) -> None:
        self.items = items
        self.separator = separator

    def __str__(self) -> str:
        return str(self.separator).join(str(item) for item in self.items)


class _Who:
    """ "township dispatcher or township chief of lanes of 龙潭街道", built when shown."""

    def __init__(self, scope: Scoped) -> None:
        self.scope = scope

    def __str__(self) -> str:
        roles = _Joined([Role(r).label for r in self.scope.roles], _(" or "))
        return str(_("%(roles)s of %(scope)s")) % {"roles": roles, "scope": self.scope.target}


# The person's roles ------------------------------------------------------------------------


def held_roles(person: Any) -> set[Grant]:
    """The person's roles as they are in the database now (those an API token carries, when
    the person acts through one)."""
    if person is None or not getattr(person, "is_active", False) or not person.pk:
        return set()
    # Kept per process while the directory's token stands (`whistle.organisation.directory`),
    # so "now" costs the token's read.
    limit = getattr(person, "role_limit", None)
    return {
        (role, jurisdiction, lane, department)
        for pk, role, jurisdiction, lane, department in directory.grants(person.pk)
        if limit is None or pk in limit
    }


def grants_of(person: Any) -> frozenset[Grant]:
    """The person's roles, read once and kept on the person object. Django loads the
    signed-in person anew for each request, so this is a cache for one request; actions do
    not use it (`require` reads the roles afresh)."""
    if person is None:
        return frozenset()
    cached = getattr(person, "_whistle_grants", None)
    if cached is None:
        cached = frozenset(held_roles(person))
        person._whistle_grants = cached
    return cached


def _first_held(held: AbstractSet[Grant], scopes: Iterable[Scoped]) -> tuple[str, Scoped] | None:
    for scope in scopes:
        if scope.target is None:
            continue
        for role in scope.roles:
            if (role, *scope.key) in held:
                return role, scope
    return None


def acting_grant(person: Any, *scopes: Scoped) -> tuple[str, Scoped] | None:
    """The first role, in the order given, that the person holds in its scope, with the
    scope it was found in."""
    return _first_held(held_roles(person), scopes)


def acting_role(person: Any, *scopes: Scoped) -> str | None:
    grant = acting_grant(person, *scopes)
    return grant[0] if grant else None


def refusal(action: str | Promise, *scopes: Scoped) -> PermissionRefused:
    """The error that names who may do the action instead."""
    scoped = [_Who(s) for s in scopes if s.target is not None]
    if not scoped:
        return PermissionRefused(
            _("You may not %(action)s: the case lies outside every township."), action=action
        )
    who = _Joined(scoped, _(", or "))
    return PermissionRefused(
        _("You may not %(action)s: this is for the %(who)s."), action=action, who=who
    )


def require_grant(person: Any, action: str | Promise, *scopes: Scoped) -> tuple[str, Scoped]:
    """The role the person acts in, with the scope it was found in; PermissionRefused when
    they hold none that qualifies."""
    grant = acting_grant(person, *scopes)
    if grant is None:
        raise refusal(action, *scopes)
    return grant


def require_role(person: Any, action: str | Promise, *scopes: Scoped) -> str:
    """The role the person acts in; PermissionRefused when they hold none that qualifies."""
    return require_grant(person, action, *scopes)[0]


# Nobody judges their own -------------------------------------------------------------------


def member_department_ids(person: Any) -> set[int]:
    """The departments a person belongs to: a role held in the department, or a duty named
    for it in a township's enforcement centre (1+5+N)."""
    if person is None or not getattr(person, "pk", None):
        return set()
    held = RoleAssignment.objects.filter(person=person, department__isnull=False)
    found = set(held.values_list("department_id", flat=True))
    found.update(
        CentreMembership.objects.filter(people=person).values_list("department_id", flat=True)
    )
    return found


def member_departments_of(person_ids: Iterable[int]) -> dict[int, set[int]]:
    """`member_department_ids` of several people at once (two queries): each person's
    departments, an empty set for one who belongs to none."""
    ids = sorted(set(person_ids))
    found: dict[int, set[int]] = {pk: set() for pk in ids}
    if not ids:
        return found
    held = RoleAssignment.objects.filter(person_id__in=ids, department__isnull=False)
    for person_id, department_id in held.values_list("person_id", "department_id"):
        found[person_id].add(department_id)
    duties = CentreMembership.people.through.objects.filter(person_id__in=ids)
    for person_id, department_id in duties.values_list(
        "person_id", "centremembership__department_id"
    ):
        found[person_id].add(department_id)
    return found


def departments_of(person: Any) -> set[int]:
    """`member_department_ids` for a page: the departments of the roles read once per
    request (`grants_of`), the centre's duties read once and kept on the person object."""
    if person is None or not getattr(person, "pk", None):
        return set()
    duties = getattr(person, "_whistle_duties", None)
    if duties is None:
        duties = set(
            CentreMembership.objects.filter(people=person).values_list("department_id", flat=True)
        )
        person._whistle_duties = duties
    return {grant[3] for grant in grants_of(person) if grant[3] is not None} | duties


def partiality(
    person: Any,
    action: str | Promise,
    departments: Iterable[Department] = (),
    *,
    filed_by_id: int | None = None,
    member_of: set[int] | None = None,
) -> PermissionRefused | None:
    """Why the person may not make this judgement (a ruling, an evaluation, a rating): it
    judges a department they belong to, or decides on something they filed themself. None
    when they may. Pages that already know the person's departments pass them in
    `member_of`, so that a list asks the database once."""
    if filed_by_id is not None and filed_by_id == getattr(person, "pk", None):
        return PermissionRefused(
            _("You may not %(action)s: you filed it yourself, so someone else decides."),
            action=action,
        )
    own = member_department_ids(person) if member_of is None else member_of
    for department in departments:
        if department.pk in own:
            return PermissionRefused(
                _("You may not %(action)s: you belong to %(department)s, which it judges."),
                action=action,
                department=Named.of(department),
            )
    return None


def require_impartial(
    person: Any,
    action: str | Promise,
    departments: Iterable[Department] = (),
    *,
    filed_by_id: int | None = None,
) -> None:
    refused = partiality(person, action, departments, filed_by_id=filed_by_id)
    if refused is not None:
        raise refused


# The state a target must be in ---------------------------------------------------------------


def require_case_status(case: Case, allowed: Iterable[str], action: str | Promise) -> None:
    if case.status not in allowed:
        raise StateRefused(
            _("You cannot %(action)s: the case has the status “%(status)s”."),
            action=action,
            status=capfirst(Case.Status(case.status).label),
        )


def require_summons_status(summons: Summons, allowed: Iterable[str], action: str | Promise) -> None:
    if summons.status not in allowed:
        raise StateRefused(
            _("You cannot %(action)s: the summons of %(department)s has the status “%(status)s”."),
            action=action,
            department=Named.of(summons.department),
            status=capfirst(Summons.Status(summons.status).label),
        )


def may_leave(summons: Summons) -> bool:
    """事不完、人不撤: a department on site may leave once the township has released it or
    marked the case resolved."""
    return summons.released_at is not None or summons.case.status in CASE_RESOLVED


# The rules -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """Who may do an action to a target, and when.

    `who` gives the scopes that qualify, in order of preference; `when` raises
    `ActionRefused` with the reason when the target is not in a state that allows it;
    `judges`, for a judgement, the departments whose work it judges (nobody who belongs to
    one may make it), asked only once the other two allow. They may read the target's
    related rows; pages load them with the list (select_related, prefetch_related) so that a
    rule costs no query.
    """

    name: str
    action: str | Promise  # "file this case", for the refusals
    who: Callable[[Any], Sequence[Scoped]]
    when: Callable[[Any, str | Promise], None]
    judges: Callable[[Any], Sequence[Department]] | None = None


def _case_of(target: Any) -> Case:
    return target if isinstance(target, Case) else target.case


def _township_office(target: Any, *extra: str) -> list[Scoped]:
    return [Scoped((*TOWNSHIP_OFFICE, *extra), jurisdiction=_case_of(target).township)]


def _department_staff(target: Summons | SupervisionNotice) -> list[Scoped]:
    return [Scoped(DEPARTMENT_STAFF, department=target.department)]


def _escalators(case: Case) -> list[Scoped]:
    """To the township: the lane's lane and street chiefs, the township chief or chiefs'
    office. To the district: the township's chief or chiefs' office, or the district's."""
    if case.escalation == Case.Escalation.NONE:
        return [
            Scoped((Role.LANE_CHIEF, Role.STREET_CHIEF), lane=case.lane),
            Scoped(CHIEFS, jurisdiction=case.township),
        ]
    if case.escalation == Case.Escalation.TOWNSHIP:
        return [
            Scoped(CHIEFS, jurisdiction=case.township),
            Scoped(DISTRICT_CHIEFS, jurisdiction=case.district),
        ]
    raise ActionRefused(_("The case is already with the district chiefs' office."))


def _supervisors(case: Case) -> list[Scoped]:
    return [
        Scoped(CHIEFS, jurisdiction=case.township),
        Scoped(DISTRICT_CHIEFS, jurisdiction=case.district),
    ]


def _case_in(*statuses: str) -> Callable[[Any, str | Promise], None]:
    def when(target: Any, action: str | Promise) -> None:
        require_case_status(_case_of(target), statuses, action)

    return when


def _summons_in(*statuses: str) -> Callable[[Summons, str | Promise], None]:
    def when(summons: Summons, action: str | Promise) -> None:
        require_summons_status(summons, statuses, action)

    return when


def _whistle_sounding(case: Case, action: str | Promise) -> None:
    require_case_status(case, [CS.WHISTLED], action)
    if not any(w.closed_at is None for w in case.whistles.all()):
        raise ActionRefused(_("No whistle is sounding on this case."))


def _all_settled(case: Case, action: str | Promise) -> None:
    require_case_status(case, [CS.DISPATCHED, CS.WHISTLED], action)
    unsettled = sorted(
        s.department.display_name for s in case.summonses.all() if s.status in UNSETTLED
    )
    if unsettled:
        raise ActionRefused(
            _(
                "Still waiting for %(departments)s: release them or rule on their decline "
                "before marking the case resolved."
            ),
            departments=_(", ").join(unsettled),
        )


def _checked(case: Case, action: str | Promise) -> None:
    if case.status == CS.HANDLED:
        raise ActionRefused(_("Check the result on site before closing the case."))
    require_case_status(case, [CS.CHECKED], action)


def request_handled(case: Case) -> bool:
    """Whether the township is done with the request: a work order whose replies end the
    handling (a final kind, or the final reply after "in progress"); a case marked resolved,
    closed or not taken up; a duplicate once the case it was merged into is."""
    order = order_of(case)
    if order is not None and order.reply_is_final:
        return True
    if case.status == CS.MERGED and case.merged_into is not None:
        return case.merged_into.status in REQUEST_HANDLED
    return case.status in REQUEST_HANDLED


def _not_yet_called_back(case: Case, action: str | Promise) -> None:
    """A resident's case once it is closed; a work order once the request is handled (回访
    evaluates a handled request): the caller has had the reply, and either the reply ends
    the handling (done, not ours, cannot be solved now) or the case is resolved or closed.
    After a reply "in progress" the call-back waits for the case. Until the caller is
    reached the township may try again.

    What is not there yet or already past is a `StateRefused` (a page leaves the action
    out); waiting for the case after a reply "in progress" is explained."""
    order = order_of(case)
    if order is None:
        if case.source not in RESIDENT_SOURCES:
            raise StateRefused(
                _("Only cases reported by residents or the hotline are called back.")
            )
        require_case_status(case, [CS.CLOSED, CS.EVALUATED], action)
    elif order.replied_at is None:
        raise StateRefused(_("Record the reply to the caller before calling them back."))
    if case.resident_called_back_at is not None:
        raise StateRefused(_("The resident has already been called back."))
    if case.resident_rated_at is not None:
        raise StateRefused(_("The resident has already rated the result on the case's page."))
    if order is not None and not request_handled(case):
        raise ActionRefused(
            _(
                "The caller was told the request is in progress: the call-back comes once "
                "the result is given to the caller or the case is marked resolved or closed."
            )
        )


def _awaiting_reply(case: Case, action: str | Promise) -> None:
    order = order_of(case)
    if order is None:
        raise ActionRefused(
            _("This case did not come as a work order: there is no caller to reply to.")
        )
    if order.replied_at is not None:
        raise ActionRefused(_("The reply to the caller has already been recorded."))


def _awaiting_final_reply(case: Case, action: str | Promise) -> None:
    """After a reply "in progress", the result, once."""
    order = order_of(case)
    if order is None:
        raise ActionRefused(
            _("This case did not come as a work order: there is no caller to reply to.")
        )
    if order.replied_at is None:
        raise ActionRefused(
            _("Record the reply to the caller first: the result follows a reply “in progress”.")
        )
    if order.final_replied_at is not None:
        raise ActionRefused(_("The result has already been given to the caller."))
    if order.reply_kind != order.ReplyKind.IN_PROGRESS:
        raise ActionRefused(_("The reply to the caller already ended the handling."))


def _escalatable(case: Case, action: str | Promise) -> None:
    require_case_status(case, IN_PROGRESS, action)


def _acknowledged_whistle(summons: Summons, action: str | Promise) -> None:
    if summons.whistle_id is None:
        raise ActionRefused(
            _("A routine dispatch has no check-in on site: report progress and the result.")
        )
    if summons.status == SS.SUMMONED:
        raise ActionRefused(_("Acknowledge the summons before checking in."))
    require_summons_status(summons, [SS.ACKNOWLEDGED], action)


def _at_work(summons: Summons, action: str | Promise) -> None:
    """On a whistle the result is reported on site; on a routine dispatch once acknowledged."""
    if summons.whistle_id is not None and summons.status == SS.ACKNOWLEDGED:
        raise ActionRefused(_("Check in on site before reporting the result."))
    allowed = [SS.ON_SITE] if summons.whistle_id is not None else [SS.ACKNOWLEDGED]
    require_summons_status(summons, allowed, action)


def _declinable(summons: Summons, action: str | Promise) -> None:
    if summons.ruling == Summons.Ruling.INSISTED:
        raise ActionRefused(
            _("The township has already ruled that %(department)s must act on this case."),
            department=Named.of(summons.department),
        )
    require_summons_status(summons, [SS.SUMMONED, SS.ACKNOWLEDGED, SS.ON_SITE], action)


def _releasable(summons: Summons, action: str | Promise) -> None:
    if summons.status == SS.DECLINED:
        raise ActionRefused(_("Rule on the decline instead."))
    require_summons_status(summons, [SS.SUMMONED, SS.ACKNOWLEDGED, SS.ON_SITE, SS.DONE], action)


def _on_site(summons: Summons, action: str | Promise) -> None:
    """Checked in and not yet left. Whether the department may leave yet (事不完、人不撤) is
    `may_leave`: an early attempt is refused by the action and kept in the trail."""
    if summons.arrived_at is None:
        raise ActionRefused(
            _("%(department)s never checked in on site."), department=Named.of(summons.department)
        )
    require_summons_status(summons, [SS.ON_SITE, SS.DONE, SS.RELEASED], action)


def _summoned(case: Case) -> list[Department]:
    """An evaluation stands in for the rating of every department the case summoned."""
    return [s.department for s in case.summonses.all() if s.status != SS.CANCELLED]


def _summoned_department(summons: Summons) -> list[Department]:
    return [summons.department]


def _check_in_pending(summons: Summons, action: str | Promise) -> None:
    if summons.check_in_flag != Summons.CheckInFlag.PENDING:
        raise ActionRefused(
            _("No check-in of %(department)s awaits the township's decision."),
            department=Named.of(summons.department),
        )


def _unanswered(notice: SupervisionNotice, action: str | Promise) -> None:
    if notice.answered_at is not None:
        raise ActionRefused(_("This supervision notice has already been answered."))


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        # Intake.
        Rule("file_case", _("file this case"), _township_office, _case_in(CS.REPORTED)),
        Rule("reject_case", _("reject this case"), _township_office, _case_in(CS.REPORTED)),
        Rule(
            "route_case",
            _("route this case to an office"),
            _township_office,
            _case_in(CS.REPORTED, CS.FILED, CS.DISPATCHED, CS.WHISTLED, CS.BACKLOG),
        ),
        Rule("merge_case", _("merge this case"), _township_office, _case_in(CS.REPORTED)),
        Rule(
            "solve_on_spot",
            _("record this case as solved on the spot"),
            lambda case: [*_township_office(case), Scoped(LANE_ROLES, lane=case.lane)],
            _case_in(CS.FILED),
        ),
        # Summoning.
        Rule(
            "dispatch_case",
            _("dispatch this case"),
            _township_office,
            _case_in(CS.FILED, CS.DISPATCHED),
        ),
        Rule(
            "blow_whistle",
            _("blow the whistle on this case"),
            _township_office,
            _case_in(CS.FILED, CS.DISPATCHED),
        ),
        Rule("summon_more", _("summon more departments"), _township_office, _whistle_sounding),
        # Finishing.
        Rule("mark_handled", _("mark this case resolved"), _township_office, _all_settled),
        Rule(
            "check_passed",
            _("record the check on site"),
            _township_office,
            _case_in(CS.HANDLED),
        ),
        Rule(
            "send_back_for_rework",
            _("send this case back for rework"),
            _township_office,
            _case_in(CS.HANDLED),
        ),
        Rule("close_case", _("close this case"), _township_office, _checked),
        Rule(
            "evaluate_case",
            _("evaluate this case"),
            lambda case: _township_office(case, Role.TOWNSHIP_ASSESSOR),
            _case_in(CS.CLOSED),
            judges=_summoned,
        ),
        Rule(
            "record_resident_callback",
            _("record the resident's call-back"),
            lambda case: _township_office(case, Role.TOWNSHIP_ASSESSOR),
            _not_yet_called_back,
        ),
        Rule(
            "record_hotline_reply",
            _("record the reply to the caller"),
            _township_office,
            _awaiting_reply,
        ),
        Rule(
            "record_hotline_final_reply",
            _("give the caller the result"),
            _township_office,
            _awaiting_final_reply,
        ),
        Rule(
            "put_on_backlog",
            _("put this case on the backlog"),
            lambda case: _township_office(case, Role.CHIEFS_OFFICE),
            _case_in(CS.FILED, CS.DISPATCHED, CS.WHISTLED),
        ),
        Rule(
            "resume_from_backlog",
            _("take this case off the backlog"),
            lambda case: _township_office(case, Role.CHIEFS_OFFICE),
            _case_in(CS.BACKLOG),
        ),
        # Oversight.
        Rule("escalate", _("escalate this case"), _escalators, _escalatable),
        Rule(
            "issue_supervision_notice",
            _("issue a supervision notice on this case"),
            _supervisors,
            _case_in(*IN_PROGRESS),
        ),
        Rule(
            "answer_supervision_notice",
            _("answer this supervision notice"),
            _department_staff,
            _unanswered,
        ),
        # A summons: the township.
        Rule(
            "rule_on_decline",
            _("rule on this decline"),
            _township_office,
            _summons_in(SS.DECLINED),
            judges=_summoned_department,
        ),
        Rule(
            "rule_on_check_in",
            _("rule on this check-in"),
            _township_office,
            _check_in_pending,
            judges=_summoned_department,
        ),
        Rule("release", _("release this department"), _township_office, _releasable),
        # A summons: the department.
        Rule(
            "acknowledge",
            _("acknowledge this summons"),
            _department_staff,
            _summons_in(SS.SUMMONED),
        ),
        Rule("check_in", _("check in on this summons"), _department_staff, _acknowledged_whistle),
        Rule(
            "report_progress",
            _("report progress on this summons"),
            _department_staff,
            _summons_in(SS.ACKNOWLEDGED, SS.ON_SITE),
        ),
        Rule(
            "report_result",
            _("report the result of this summons"),
            _department_staff,
            _at_work,
        ),
        Rule("decline", _("decline this summons"), _department_staff, _declinable),
        Rule("check_out", _("check out of this summons"), _department_staff, _on_site),
    )
}


def require(person: Any, name: str, target: Any) -> str:
    """The role in which the person may do the action to the target now, from their roles
    and departments as the database holds them. Raises `PermissionRefused` naming who may
    instead or why they may not judge, or `ActionRefused` with the reason the target's state
    does not allow it. Actions call it after locking the target."""
    rule = RULES[name]
    scopes = rule.who(target)
    grant = _first_held(held_roles(person), scopes)
    if grant is None:
        raise refusal(rule.action, *scopes)
    rule.when(target, rule.action)
    if rule.judges is not None:
        require_impartial(person, rule.action, rule.judges(target))
    return grant[0]


def refusal_for(person: Any, name: str, target: Any) -> ActionRefused | None:
    """Why the person may not do the action to the target now (None when they may), from
    their roles read once per request: what a page needs to offer a button or explain."""
    rule = RULES[name]
    try:
        scopes = rule.who(target)
        if _first_held(grants_of(person), scopes) is None:
            return refusal(rule.action, *scopes)
        rule.when(target, rule.action)
    except ActionRefused as exc:
        return exc
    if rule.judges is None:
        return None
    return partiality(person, rule.action, rule.judges(target), member_of=departments_of(person))


def may(person: Any, name: str, target: Any) -> bool:
    """Whether the person may do the action to the target now: the answer the action would
    give, short of checking the input."""
    return refusal_for(person, name, target) is None
