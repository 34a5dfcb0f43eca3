"""Every button of the desk pages: which action it calls, for whom it shows, its form.

An `Operation` joins a form to one function of `whistle.cases.actions`. `allowed` decides
whether to offer it to the viewer (their roles and the state of the target, as the action
will check them); the action has the last word and its refusal is shown on the form.

Pages build their forms through `OperationForms`, which binds the one form that was posted
(so that its errors and its values come back where they were) and leaves the others empty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from whistle.cases import actions
from whistle.cases.actions.on_site import CASE_RESOLVED
from whistle.cases.errors import ActionRefused, InvalidInput, RecordedRefusal
from whistle.cases.models import Case, Summons, SupervisionNotice, Whistle
from whistle.cases.permissions import member_department_ids, partiality
from whistle.cases.suggest import departments_serving, possible_duplicates
from whistle.desk import forms as desk_forms
from whistle.desk.viewer import Viewer
from whistle.organisation.models import Department, Jurisdiction, Role
from whistle.policies.models import Category

CS = Case.Status
SS = Summons.Status
IN_PROGRESS = (CS.FILED, CS.DISPATCHED, CS.WHISTLED, CS.BACKLOG)
SUMMONS_OPEN = (SS.SUMMONED, SS.ACKNOWLEDGED, SS.ON_SITE, SS.DECLINED)

CASE, SUMMONS, NOTICE = "case", "summons", "notice"


class Choices:
    """What the forms of one page choose from, loaded at most once per page."""

    def __init__(
        self,
        *,
        visible_cases: QuerySet[Case] | None = None,
        duplicates: dict[int, list[tuple[Case, float]]] | None = None,
    ) -> None:
        self._visible_cases = visible_cases
        self._duplicates = duplicates
        self._categories: dict[int | None, list[Category]] = {}
        self._departments: dict[int | None, list[Department]] = {}

    def categories(self, district_id: int | None) -> list[Category]:
        if district_id not in self._categories:
            self._categories[district_id] = list(
                Category.objects.filter(major__district_id=district_id, is_active=True)
                .select_related("major")
                .order_by("major__kind", "major__code", "code")
            )
        return self._categories[district_id]

    def departments(self, township: Jurisdiction | None) -> list[Department]:
        key = township.pk if township is not None else None
        if key not in self._departments:
            self._departments[key] = (
                list(departments_serving(township).order_by("name")) if township else []
            )
        return self._departments[key]

    def duplicates(self, case: Case) -> list[tuple[Case, float]]:
        if self._duplicates is not None:
            return self._duplicates.get(case.pk, [])
        self._duplicates = {case.pk: possible_duplicates(case)}
        return self._duplicates[case.pk]

    def case_by_reference(self, reference: str) -> Case | None:
        if self._visible_cases is None:
            return None
        return self._visible_cases.filter(reference=reference).first()


def _case_of(target: Any) -> Case:
    return target.case if not isinstance(target, Case) else target


# Who may: the scopes of whistle.cases.actions, read from the viewer's roles -----------------


def _office(viewer: Viewer, case: Case) -> bool:
    return viewer.township_office(case.township_id)


def _office_or_chiefs_office(viewer: Viewer, case: Case) -> bool:
    return _office(viewer, case) or viewer.holds_role(Role.CHIEFS_OFFICE, case.township_id)


def _office_or_assessor(viewer: Viewer, case: Case) -> bool:
    return _office(viewer, case) or viewer.holds_role(Role.TOWNSHIP_ASSESSOR, case.township_id)


def _may_escalate(viewer: Viewer, case: Case) -> bool:
    if case.status not in IN_PROGRESS:
        return False
    if case.escalation == Case.Escalation.NONE:
        return viewer.lane_people(
            case.lane_id, (Role.LANE_CHIEF, Role.STREET_CHIEF)
        ) or viewer.township_chiefs(case.township_id)
    if case.escalation == Case.Escalation.TOWNSHIP:
        return viewer.township_chiefs(case.township_id) or viewer.district_chiefs(case.district_id)
    return False


def _may_supervise(viewer: Viewer, case: Case) -> bool:
    return case.status in IN_PROGRESS and (
        viewer.township_chiefs(case.township_id) or viewer.district_chiefs(case.district_id)
    )


def _open_whistle(case: Case) -> Whistle | None:
    whistles = [w for w in case.whistles.all() if w.closed_at is None]
    return max(whistles, key=lambda w: w.blown_at) if whistles else None


def _impartial(viewer: Viewer, departments: Iterable[Department]) -> bool:
    person: Any = viewer.person
    # Read once per request however many declines a page lists.
    if not hasattr(person, "_member_department_ids"):
        person._member_department_ids = member_department_ids(person)
    return partiality(person, "", departments, member_of=person._member_department_ids) is None


def _summoned(case: Case) -> list[Department]:
    return [s.department for s in case.summonses.all() if s.status != SS.CANCELLED]


def _staff(viewer: Viewer, summons: Summons) -> bool:
    return viewer.department_staff(summons.department_id)


def _may_rule_on_check_in(viewer: Viewer, summons: Summons) -> bool:
    """The township office, on a flagged check-in of a department they do not belong to
    (the action also refuses the person who made it)."""
    return (
        summons.check_in_flag == Summons.CheckInFlag.PENDING
        and _office(viewer, summons.case)
        and not any(grant[3] == summons.department_id for grant in viewer.grants)
    )


# What each button does ------------------------------------------------------------------


def _flagged_check_in(summons: Summons) -> str | None:
    if summons.check_in_flag != Summons.CheckInFlag.PENDING:
        return None
    return gettext(
        "Your check-in is recorded but flagged (%(reasons)s): the township must confirm it, "
        "and until then it does not count as your arrival."
    ) % {"reasons": gettext("; ").join(summons.check_in_flag_reason_labels)}


def _summon_more(person: Any, case: Case, **kwargs: Any) -> Any:
    whistle = Whistle.objects.filter(case=case, closed_at__isnull=True).order_by("-blown_at")
    sounding = whistle.first()
    if sounding is None:
        raise ActionRefused(_("No whistle is sounding on this case."))
    return actions.summon_more(person, sounding, **kwargs)


@dataclass(frozen=True)
class Operation:
    name: str
    target: str  # CASE, SUMMONS or NOTICE
    label: str | Promise  # the button
    form_class: type[desk_forms.ActionForm]
    allowed: Callable[[Viewer, Any], bool]
    perform: Callable[..., Any]
    done: str | Promise  # the message after it worked; %(case)s, %(department)s
    style: str = "btn-primary"
    template: str = "desk/ops/form.html"
    # Shown folded (<details>) under the main buttons: always, or when this says so.
    secondary: bool = False
    folded_when: Callable[[Any], bool] | None = None
    help: str | Promise = ""
    # Offered on a page of its own (the whistle), not among a target's buttons.
    listed: bool = True
    # A warning to show beside the success message, from what the action returned.
    warn: Callable[[Any], str | Promise | None] | None = None


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        # Intake.
        Operation(
            "file",
            CASE,
            _("File the case"),
            desk_forms.FileForm,
            lambda v, c: c.status == CS.REPORTED and _office(v, c),
            actions.file_case,
            _("Case %(case)s filed."),
            help=_("Confirm the category; the time limit to resolve follows from it."),
        ),
        Operation(
            "reject",
            CASE,
            _("Reject the report"),
            desk_forms.ReasonForm,
            lambda v, c: c.status == CS.REPORTED and _office(v, c),
            actions.reject_case,
            _("Report %(case)s rejected."),
            style="btn-danger",
            secondary=True,
        ),
        Operation(
            "merge",
            CASE,
            _("Merge as a duplicate"),
            desk_forms.MergeForm,
            lambda v, c: c.status == CS.REPORTED and _office(v, c),
            actions.merge_case,
            _("Report %(case)s merged."),
            style="btn",
            template="desk/ops/merge.html",
            secondary=True,
        ),
        Operation(
            "solve",
            CASE,
            _("Solved on the spot"),
            desk_forms.SolveForm,
            lambda v, c: c.status == CS.FILED and (_office(v, c) or v.lane_people(c.lane_id)),
            actions.solve_on_spot,
            _("Case %(case)s recorded as solved on the spot; it now waits for the check."),
            style="btn",
            secondary=True,
        ),
        Operation(
            "dispatch",
            CASE,
            _("Dispatch"),
            desk_forms.DispatchForm,
            lambda v, c: c.status in (CS.FILED, CS.DISPATCHED) and _office(v, c),
            actions.dispatch_case,
            _("Case %(case)s dispatched."),
            style="btn",
            secondary=True,
            help=_(
                "The routine channel: one department acknowledges and resolves it by the "
                "category's time limits, without arriving on site."
            ),
        ),
        Operation(
            "whistle",
            CASE,
            _("Blow the whistle"),
            desk_forms.WhistleForm,
            lambda v, c: c.status in (CS.FILED, CS.DISPATCHED) and _office(v, c),
            actions.blow_whistle,
            _("Whistle blown on case %(case)s: the departments are summoned."),
            listed=False,
        ),
        Operation(
            "summon_more",
            CASE,
            _("Summon more departments"),
            desk_forms.SummonMoreForm,
            lambda v, c: c.status == CS.WHISTLED and _office(v, c) and _open_whistle(c) is not None,
            _summon_more,
            _("More departments summoned to case %(case)s."),
            style="btn",
            secondary=True,
        ),
        # Finishing.
        Operation(
            "mark_handled",
            CASE,
            _("Mark resolved"),
            desk_forms.NoteForm,
            lambda v, c: c.status in (CS.DISPATCHED, CS.WHISTLED) and _office(v, c),
            actions.mark_handled,
            _("Case %(case)s marked resolved; departments on site may now check out."),
            help=_("Departments still to come must be released first."),
        ),
        Operation(
            "check_passed",
            CASE,
            _("Check on site passed"),
            desk_forms.CheckPassedForm,
            lambda v, c: c.status == CS.HANDLED and _office(v, c),
            actions.check_passed,
            _("The check on site of case %(case)s passed."),
            template="desk/ops/check_passed.html",
        ),
        Operation(
            "rework",
            CASE,
            _("Send back for rework"),
            desk_forms.ReasonForm,
            lambda v, c: c.status == CS.HANDLED and _office(v, c),
            actions.send_back_for_rework,
            _("Case %(case)s sent back for rework."),
            style="btn-danger",
            secondary=True,
        ),
        Operation(
            "close",
            CASE,
            _("Close the case"),
            desk_forms.NoteForm,
            lambda v, c: c.status == CS.CHECKED and _office(v, c),
            actions.close_case,
            _("Case %(case)s closed."),
        ),
        Operation(
            "evaluate",
            CASE,
            _("Rate the handling"),
            desk_forms.EvaluateForm,
            lambda v, c: (
                c.status == CS.CLOSED and _office_or_assessor(v, c) and _impartial(v, _summoned(c))
            ),
            actions.evaluate_case,
            _("Case %(case)s rated."),
            style="btn",
            help=_(
                "The township's overall rating of how the case was handled, from 1 to 5 stars. "
                "It counts as “how well” for each department that came, unless the township "
                "rates that department itself on the assessment page. Departments that did "
                "not have to come are not rated."
            ),
        ),
        Operation(
            "callback",
            CASE,
            _("Record the call-back"),
            desk_forms.CallbackForm,
            lambda v, c: (
                c.status in (CS.CLOSED, CS.EVALUATED)
                and c.source in (Case.Source.RESIDENT, Case.Source.HOTLINE)
                and c.resident_called_back_at is None
                and c.resident_rated_at is None
                and _office_or_assessor(v, c)
            ),
            actions.record_resident_callback,
            _("The call-back on case %(case)s is recorded."),
            style="btn",
            secondary=True,
        ),
        # Backlog, escalation, supervision.
        Operation(
            "backlog",
            CASE,
            _("Put on the backlog"),
            desk_forms.BacklogForm,
            lambda v, c: (
                c.status in (CS.FILED, CS.DISPATCHED, CS.WHISTLED)
                and _office_or_chiefs_office(v, c)
            ),
            actions.put_on_backlog,
            _("Case %(case)s is on the open backlog."),
            style="btn",
            secondary=True,
        ),
        Operation(
            "resume",
            CASE,
            _("Take off the backlog"),
            desk_forms.NoteForm,
            lambda v, c: c.status == CS.BACKLOG and _office_or_chiefs_office(v, c),
            actions.resume_from_backlog,
            _("Case %(case)s is back at work."),
        ),
        Operation(
            "escalate",
            CASE,
            _("Escalate"),
            desk_forms.ReasonForm,
            _may_escalate,
            actions.escalate,
            _("Case %(case)s escalated."),
            style="btn",
            secondary=True,
        ),
        Operation(
            "supervise",
            CASE,
            _("Issue a supervision notice"),
            desk_forms.SupervisionForm,
            _may_supervise,
            actions.issue_supervision_notice,
            _("Supervision notice on case %(case)s issued."),
            style="btn",
            secondary=True,
        ),
        # A summons: the township.
        Operation(
            "rule",
            SUMMONS,
            _("Rule on the decline"),
            desk_forms.RuleForm,
            lambda v, s: (
                s.status == SS.DECLINED and _office(v, s.case) and _impartial(v, [s.department])
            ),
            actions.rule_on_decline,
            _("Ruling on %(department)s recorded."),
            template="desk/ops/rule.html",
        ),
        Operation(
            "release",
            SUMMONS,
            _("Release"),
            desk_forms.NoteForm,
            lambda v, s: (
                s.status in (SS.SUMMONED, SS.ACKNOWLEDGED, SS.ON_SITE, SS.DONE)
                and _office(v, s.case)
            ),
            actions.release,
            _("%(department)s released from case %(case)s."),
            style="btn",
            secondary=True,
        ),
        Operation(
            "rule_check_in",
            SUMMONS,
            _("Confirm or reject the check-in"),
            desk_forms.CheckInRulingForm,
            _may_rule_on_check_in,
            actions.rule_on_check_in,
            _("Ruling on the check-in of %(department)s recorded."),
            template="desk/ops/rule_check_in.html",
        ),
        # A summons: the department.
        Operation(
            "acknowledge",
            SUMMONS,
            _("Acknowledge"),
            desk_forms.NoteForm,
            lambda v, s: s.status == SS.SUMMONED and _staff(v, s),
            actions.acknowledge,
            _("Summons on case %(case)s acknowledged."),
            template="desk/ops/acknowledge.html",
        ),
        Operation(
            "check_in",
            SUMMONS,
            _("Check in on site"),
            desk_forms.CheckInForm,
            lambda v, s: s.status == SS.ACKNOWLEDGED and s.whistle_id is not None and _staff(v, s),
            actions.check_in,
            _("Checked in on site for case %(case)s."),
            template="desk/ops/check_in.html",
            warn=_flagged_check_in,
        ),
        Operation(
            "progress",
            SUMMONS,
            _("Report progress"),
            desk_forms.ProgressForm,
            lambda v, s: s.status in (SS.ACKNOWLEDGED, SS.ON_SITE) and _staff(v, s),
            actions.report_progress,
            _("Progress on case %(case)s reported."),
            style="btn",
            secondary=True,
        ),
        Operation(
            "result",
            SUMMONS,
            _("Report the result"),
            desk_forms.ResultForm,
            lambda v, s: (
                (s.status == (SS.ON_SITE if s.whistle_id is not None else SS.ACKNOWLEDGED))
                and _staff(v, s)
            ),
            actions.report_result,
            _("Result on case %(case)s reported."),
        ),
        Operation(
            "decline",
            SUMMONS,
            _("Decline: not our responsibility"),
            desk_forms.ReasonForm,
            lambda v, s: (
                s.status in (SS.SUMMONED, SS.ACKNOWLEDGED, SS.ON_SITE)
                and s.ruling != Summons.Ruling.INSISTED
                and _staff(v, s)
            ),
            actions.decline,
            _("Decline sent; the township will rule on it."),
            style="btn-danger",
            secondary=True,
        ),
        Operation(
            "check_out",
            SUMMONS,
            _("Check out"),
            desk_forms.CheckOutForm,
            lambda v, s: (
                s.arrived_at is not None
                and s.status in (SS.ON_SITE, SS.DONE, SS.RELEASED)
                and _staff(v, s)
            ),
            actions.check_out,
            _("Checked out of case %(case)s."),
            style="btn",
            template="desk/ops/check_out.html",
            # Until the township lets the department go, leaving is the exception.
            folded_when=lambda s: s.released_at is None and s.case.status not in CASE_RESOLVED,
            help=_(
                "事不完、人不撤: you may leave once the township has marked the case resolved "
                "or released your department."
            ),
        ),
        # A supervision notice.
        Operation(
            "answer",
            NOTICE,
            _("Answer the notice"),
            desk_forms.AnswerForm,
            lambda v, n: n.answered_at is None and v.department_staff(n.department_id),
            actions.answer_supervision_notice,
            _("Supervision notice answered."),
        ),
    )
}


def target_key(target: Any) -> str:
    if isinstance(target, Summons):
        return target.uuid.hex
    if isinstance(target, Case):
        return target.reference
    return str(target.pk)


def target_kind(target: Any) -> str:
    if isinstance(target, Summons):
        return SUMMONS
    if isinstance(target, SupervisionNotice):
        return NOTICE
    return CASE


@dataclass
class OpForm:
    """One operation's form on one target, as a template shows it."""

    op: Operation
    form: desk_forms.ActionForm
    key: str

    @property
    def bound(self) -> bool:
        return self.form.is_bound

    @property
    def folded(self) -> bool:
        """Shown folded under the main buttons (and open again when it was posted)."""
        if self.op.secondary:
            return True
        return self.op.folded_when is not None and self.op.folded_when(self.form.target)


@dataclass
class Posted:
    """The form that was posted, after it ran."""

    op: Operation
    key: str
    form: desk_forms.ActionForm
    placed: bool = False


@dataclass
class OperationForms:
    viewer: Viewer
    choices: Choices
    posted: Posted | None = None
    made: list[OpForm] = field(default_factory=list)

    def form_for(self, op: Operation, target: Any) -> OpForm:
        key = target_key(target)
        posted = self.posted
        if posted is not None and posted.op is op and posted.key == key:
            posted.placed = True
            made = OpForm(op, posted.form, key)
        else:
            form = op.form_class(prefix=f"{op.name}-{key}", target=target, choices=self.choices)
            made = OpForm(op, form, key)
        self.made.append(made)
        return made

    def available(self, target: Any, names: Iterable[str] | None = None) -> dict[str, OpForm]:
        """The operations the viewer may use on the target now, by name, in the order of
        `OPERATIONS` (or of `names`)."""
        kind = target_kind(target)
        chosen = (
            [OPERATIONS[n] for n in names]
            if names is not None
            else [op for op in OPERATIONS.values() if op.listed]
        )
        return {
            op.name: self.form_for(op, target)
            for op in chosen
            if op.target == kind and op.allowed(self.viewer, target)
        }


def field_for_error(form: desk_forms.ActionForm, name: str) -> str | None:
    """The form field an action's `InvalidInput.field` names ("position.lon" → "lon")."""
    candidates = [name, *name.split(".")[::-1]]
    return next((c for c in candidates if c in form.fields), None)


def perform(
    request: HttpRequest, viewer: Viewer, op: Operation, target: Any, choices: Choices
) -> Posted:
    """Bind the posted form and run the operation's action. Errors go onto the form; a
    success message onto the request."""
    key = target_key(target)
    form = op.form_class(
        request.POST,
        request.FILES,
        prefix=f"{op.name}-{key}",
        target=target,
        choices=choices,
    )
    posted = Posted(op, key, form)
    if not form.is_valid():
        return posted
    try:
        result = op.perform(viewer.person, target, **form.arguments())
    except InvalidInput as exc:
        form.add_error(field_for_error(form, exc.field), str(exc))
        return posted
    except RecordedRefusal as exc:
        form.add_error(None, str(exc))
        form.add_error(None, gettext("The attempt is kept in the case's record."))
        return posted
    except ActionRefused as exc:
        form.add_error(None, str(exc))
        return posted
    case = _case_of(target)
    department = getattr(target, "department", None)
    messages.success(
        request,
        str(op.done) % {"case": case.reference, "department": department or ""},
    )
    warning = op.warn(result) if op.warn is not None else None
    if warning:
        messages.warning(request, str(warning))
    return posted


def unplaced_errors(request: HttpRequest, posted: Posted | None) -> None:
    """A form whose operation no longer shows (the case moved on meanwhile) still tells
    why it failed, as a message at the top of the page."""
    if posted is None or posted.placed or not posted.form.errors:
        return
    for name, errors in posted.form.errors.items():
        label = posted.form.fields[name].label if name in posted.form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else str(error))
