"""Every button of the desk pages: which action it calls, for whom it shows, its form.

An `Operation` joins a form to one function of `whistle.cases.actions` and names that
action's rule in `whistle.cases.permissions` (who may, and when). The page offers the
button when the rule allows it, the action checks the same rule again after locking the
target and has the last word: its refusal is shown on the form.

Pages build their forms through `OperationForms`, which binds the one form that was posted
(so that its errors and its values come back where they were) and leaves the others empty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from whistle.cases import actions, proof
from whistle.cases.errors import (
    ActionRefused,
    InvalidInput,
    PermissionRefused,
    RecordedRefusal,
    StateRefused,
)
from whistle.cases.models import Case, Summons, SupervisionNotice
from whistle.cases.permissions import may, may_leave, refusal_for
from whistle.cases.suggest import departments_serving, possible_duplicates, suggest_departments
from whistle.desk import forms as desk_forms
from whistle.organisation.models import Department, Jurisdiction
from whistle.policies.models import Category
from whistle.web.forms import add_refusal

CASE, SUMMONS, NOTICE = "case", "summons", "notice"


# The groups of the departments a decline may name.
SUGGESTED = _("Suggested for this case")
OTHERS = _("Other departments serving the township")


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
        self._category_pickers: dict[int | None, desk_forms.Labelled] = {}
        self._responsible_pickers: dict[tuple[Any, ...], desk_forms.Labelled] = {}

    def categories(self, district_id: int | None) -> list[Category]:
        if district_id not in self._categories:
            self._categories[district_id] = list(
                Category.objects.filter(major__district_id=district_id, is_active=True)
                .select_related("major")
                .order_by("major__kind", "major__code", "code")
            )
        return self._categories[district_id]

    def category_picker(self, district_id: int | None) -> desk_forms.Labelled:
        """The district's categories as the filing form lists them, labelled once a page."""
        if district_id not in self._category_pickers:
            self._category_pickers[district_id] = desk_forms.labelled(
                self.categories(district_id),
                desk_forms.category_label,
                desk_forms.major_class_label,
            )
        return self._category_pickers[district_id]

    def departments(self, township: Jurisdiction | None) -> list[Department]:
        key = township.pk if township is not None else None
        if key not in self._departments:
            self._departments[key] = (
                list(departments_serving(township).order_by("name")) if township else []
            )
        return self._departments[key]

    def responsible_picker(self, summons: Summons) -> desk_forms.Labelled:
        """The departments a decline may name as responsible: those serving the case's
        township but the declining one, the suggestions for the case first
        (`suggest_departments`). Made once a page for each township, category and
        department: a desk lists many summonses of the same kind."""
        case = summons.case
        key = (case.township_id, case.category_id, summons.department_id)
        if key not in self._responsible_pickers:
            serving = [d for d in self.departments(case.township) if d.pk != summons.department_id]
            order = {s.department.pk: n for n, s in enumerate(suggest_departments(case))}
            first = sorted((d for d in serving if d.pk in order), key=lambda d: order[d.pk])
            rest = [d for d in serving if d.pk not in order]
            self._responsible_pickers[key] = desk_forms.labelled(
                first + rest,
                desk_forms.department_label,
                lambda d: str(SUGGESTED if d.pk in order else OTHERS),
            )
        return self._responsible_pickers[key]

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


# What each button does ------------------------------------------------------------------


def _flagged_check_in(summons: Summons) -> str | None:
    if summons.check_in_flag != Summons.CheckInFlag.PENDING:
        return None
    return gettext(
        "Your check-in is recorded but flagged (%(reasons)s): the township must confirm it, "
        "and until then it does not count as your arrival."
    ) % {"reasons": proof.flag_reasons(summons)}


def _summoned_named(summons: Summons, arguments: dict[str, Any]) -> str | None:
    """After an upheld decline whose ruling summoned the department it named."""
    named = summons.named_department
    if not arguments.get("summon_named") or named is None:
        return None
    return gettext("%(department)s is summoned to case %(case)s.") % {
        "department": named.display_name,
        "case": summons.case.reference,
    }


def _summon_more(person: Any, case: Case, **kwargs: Any) -> Any:
    sounding = actions.sounding_whistle(case)
    if sounding is None:
        raise ActionRefused(_("No whistle is sounding on this case."))
    return actions.summon_more(person, sounding, **kwargs)


@dataclass(frozen=True)
class Operation:
    name: str
    target: str  # CASE, SUMMONS or NOTICE
    label: str | Promise  # the button
    form_class: type[desk_forms.ActionForm]
    rule: str  # its rule in whistle.cases.permissions: who may, and when
    perform: Callable[..., Any]
    done: str | Promise  # the message after it worked; %(case)s, %(department)s
    style: str = "btn-primary"
    template: str = "desk/ops/form.html"
    # Shown folded (<details>) under the main buttons: always, or when this says so.
    secondary: bool = False
    folded_when: Callable[[Any], bool] | None = None
    help: str | Promise = ""
    # When `folded_when` holds, the folded button's words and help, if they differ (an early
    # check-out is taken only to be refused on the record, and says so).
    folded_label: str | Promise = ""
    folded_help: str | Promise = ""
    # Offered on a page of its own (the whistle), not among a target's buttons.
    listed: bool = True
    # To those who may use it, say why it is not offered yet (its state aside: a case past
    # it or not there yet does not offer it), instead of leaving it out.
    explain: bool = False
    # A warning to show beside the success message, from what the action returned.
    warn: Callable[[Any], str | Promise | None] | None = None
    # More to say after the success message, from what the action returned and the
    # arguments it was given (the department a ruling summoned as well).
    also: Callable[[Any, dict[str, Any]], str | None] | None = None
    # A refusal the action records (a check-in refused) is answered with a redirect to the
    # page, which shows it once (`whistle.desk.views.common.keep_refusal`): reloading the
    # page does not send the same attempt again.
    redirect_refusal: bool = False

    def allowed(self, person: Any, target: Any) -> bool:
        """Whether to offer the button: the action's own rule, with the person's roles read
        once per request."""
        return may(person, self.rule, target)


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        # Intake.
        Operation(
            "file",
            CASE,
            _("File the case"),
            desk_forms.FileForm,
            "file_case",
            actions.file_case,
            _("Case %(case)s filed."),
            help=_("Confirm the category; the time limit to resolve follows from it."),
        ),
        Operation(
            "reject",
            CASE,
            _("Reject the report"),
            desk_forms.ReasonForm,
            "reject_case",
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
            "merge_case",
            actions.merge_case,
            _("Report %(case)s merged."),
            style="btn",
            template="desk/ops/merge.html",
            secondary=True,
        ),
        Operation(
            "route",
            CASE,
            _("Route to an office"),
            desk_forms.RouteForm,
            "route_case",
            actions.route_case,
            _("Case %(case)s routed."),
            style="btn",
            secondary=True,
            help=_("The unit of the street office that handles the case's category."),
        ),
        Operation(
            "solve",
            CASE,
            _("Solved on the spot"),
            desk_forms.SolveForm,
            "solve_on_spot",
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
            "dispatch_case",
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
            "blow_whistle",
            actions.blow_whistle,
            _("Whistle blown on case %(case)s: the departments are summoned."),
            listed=False,
        ),
        Operation(
            "summon_more",
            CASE,
            _("Summon more departments"),
            desk_forms.SummonMoreForm,
            "summon_more",
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
            "mark_handled",
            actions.mark_handled,
            _("Case %(case)s marked resolved; departments on site may now check out."),
            explain=True,
        ),
        Operation(
            "check_passed",
            CASE,
            _("Check on site passed"),
            desk_forms.CheckPassedForm,
            "check_passed",
            actions.check_passed,
            _("The check on site of case %(case)s passed."),
            template="desk/ops/check_passed.html",
        ),
        Operation(
            "rework",
            CASE,
            _("Send back for rework"),
            desk_forms.ReasonForm,
            "send_back_for_rework",
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
            "close_case",
            actions.close_case,
            _("Case %(case)s closed."),
        ),
        Operation(
            "evaluate",
            CASE,
            _("Rate the handling"),
            desk_forms.EvaluateForm,
            "evaluate_case",
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
            "reply",
            CASE,
            _("Reply to the caller"),
            desk_forms.ReplyForm,
            "record_hotline_reply",
            actions.record_hotline_reply,
            _("The reply to the caller of case %(case)s is recorded and sent to the hotline."),
            help=_("Once per work order, by its reply deadline."),
        ),
        Operation(
            "final_reply",
            CASE,
            _("Give the caller the result"),
            desk_forms.FinalReplyForm,
            "record_hotline_final_reply",
            actions.record_hotline_final_reply,
            _("The result for the caller of case %(case)s is recorded and sent to the hotline."),
            help=_("After the reply “in progress”: once, when the work is done."),
        ),
        Operation(
            "callback",
            CASE,
            _("Record the call-back"),
            desk_forms.CallbackForm,
            "record_resident_callback",
            actions.record_resident_callback,
            _("The call-back on case %(case)s is recorded."),
            style="btn",
            secondary=True,
            explain=True,
        ),
        # Backlog, escalation, supervision.
        Operation(
            "backlog",
            CASE,
            _("Put on the backlog"),
            desk_forms.BacklogForm,
            "put_on_backlog",
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
            "resume_from_backlog",
            actions.resume_from_backlog,
            _("Case %(case)s is back at work."),
        ),
        Operation(
            "escalate",
            CASE,
            _("Escalate"),
            desk_forms.ReasonForm,
            "escalate",
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
            "issue_supervision_notice",
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
            "rule_on_decline",
            actions.rule_on_decline,
            _("Ruling on %(department)s recorded."),
            template="desk/ops/rule.html",
            also=_summoned_named,
        ),
        Operation(
            "release",
            SUMMONS,
            _("Release"),
            desk_forms.NoteForm,
            "release",
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
            "rule_on_check_in",
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
            "acknowledge",
            actions.acknowledge,
            _("Summons on case %(case)s acknowledged."),
            template="desk/ops/acknowledge.html",
        ),
        Operation(
            "check_in",
            SUMMONS,
            _("Check in on site"),
            desk_forms.CheckInForm,
            "check_in",
            actions.check_in,
            _("Checked in on site for case %(case)s."),
            template="desk/ops/check_in.html",
            warn=_flagged_check_in,
            redirect_refusal=True,
        ),
        Operation(
            "progress",
            SUMMONS,
            _("Report progress"),
            desk_forms.ProgressForm,
            "report_progress",
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
            "report_result",
            actions.report_result,
            _("Result on case %(case)s reported."),
        ),
        Operation(
            "decline",
            SUMMONS,
            _("Decline: not our responsibility"),
            desk_forms.DeclineForm,
            "decline",
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
            "check_out",
            actions.check_out,
            _("Checked out of case %(case)s."),
            style="btn",
            template="desk/ops/check_out.html",
            # Until the township lets the department go, leaving is the exception: the
            # attempt is refused and kept on the record, on purpose (docs/cases.md §4).
            redirect_refusal=True,
            folded_when=lambda s: not may_leave(s),
            folded_label=_("Record an early check-out (it will be refused)"),
            folded_help=_(
                "Stay until the matter is done (事不完、人不撤): you may leave once the township "
                "has marked the case resolved or released your department. Only if you must "
                "leave before that, in an emergency, record the attempt here: it is refused "
                "and kept in the case's record, and your department stays summoned."
            ),
        ),
        # A supervision notice.
        Operation(
            "answer",
            NOTICE,
            _("Answer the notice"),
            desk_forms.AnswerForm,
            "answer_supervision_notice",
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


class OpForm:
    """One operation's form on one target, as a template shows it.

    An unposted form is made when a template first asks for it (`form`): a queue that folds
    an operation and loads its form only when it is opened never pays for making it."""

    def __init__(
        self,
        op: Operation,
        form: desk_forms.ActionForm | Callable[[], desk_forms.ActionForm],
        key: str,
        *,
        target: Any = None,
        waiting: str = "",
    ) -> None:
        self.op = op
        self.key = key
        # Why the button is not offered yet (`Operation.explain`); the form is then not shown.
        self.waiting = waiting
        self._form = form
        self._target = target

    @property
    def form(self) -> desk_forms.ActionForm:
        if not isinstance(self._form, desk_forms.ActionForm):
            self._form = self._form()
        return self._form

    @property
    def bound(self) -> bool:
        return isinstance(self._form, desk_forms.ActionForm) and self._form.is_bound

    @property
    def folded(self) -> bool:
        """Shown folded under the main buttons (and open again when it was posted); why it
        is not offered yet is said in the open."""
        if self.waiting:
            return False
        return self.op.secondary or self._folded_by_state

    @property
    def _folded_by_state(self) -> bool:
        target = self._target if self._target is not None else self.form.target
        return self.op.folded_when is not None and self.op.folded_when(target)

    @property
    def label(self) -> str | Promise:
        """The button's words: the folded ones while the target's state folds it."""
        if self.op.folded_label and self._folded_by_state:
            return self.op.folded_label
        return self.op.label

    @property
    def help(self) -> str | Promise:
        if self.op.folded_help and self._folded_by_state:
            return self.op.folded_help
        return self.op.help


@dataclass
class Posted:
    """The form that was posted, after it ran."""

    op: Operation
    key: str
    form: desk_forms.ActionForm
    placed: bool = False
    # The action refused and recorded the refused attempt in the trail.
    recorded: bool = False


@dataclass
class OperationForms:
    person: Any
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
            made = OpForm(
                op,
                partial(
                    op.form_class, prefix=f"{op.name}-{key}", target=target, choices=self.choices
                ),
                key,
                target=target,
            )
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
        found: dict[str, OpForm] = {}
        for op in chosen:
            if op.target != kind:
                continue
            refused = refusal_for(self.person, op.rule, target)
            if refused is None:
                found[op.name] = self.form_for(op, target)
            elif op.explain and not isinstance(refused, PermissionRefused | StateRefused):
                found[op.name] = OpForm(
                    op,
                    partial(op.form_class, target=target, choices=self.choices),
                    target_key(target),
                    target=target,
                    waiting=str(refused),
                )
        return found


def field_for_error(form: desk_forms.ActionForm, name: str) -> str | None:
    """The form field an action's `InvalidInput.field` names ("position.lon" → "lon")."""
    candidates = [name, *name.split(".")[::-1]]
    return next((c for c in candidates if c in form.fields), None)


def perform(request: HttpRequest, op: Operation, target: Any, choices: Choices) -> Posted:
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
    arguments = form.arguments()
    try:
        result = op.perform(request.user, target, **arguments)
    except InvalidInput as exc:
        form.add_error(field_for_error(form, exc.field), str(exc))
        return posted
    except RecordedRefusal as exc:
        add_refusal(form, exc)
        add_refusal(form, gettext("The attempt is kept in the case's record."))
        posted.recorded = True
        return posted
    except ActionRefused as exc:
        add_refusal(form, exc)
        return posted
    case = _case_of(target)
    department = getattr(target, "department", None)
    messages.success(
        request,
        str(op.done)
        % {
            "case": case.reference,
            "department": getattr(department, "display_name", department) or "",
        },
    )
    more = op.also(result, arguments) if op.also is not None else None
    if more:
        messages.success(request, more)
    warning = op.warn(result) if op.warn is not None else None
    if warning:
        messages.warning(request, str(warning))
    return posted


def error_lines(form: desk_forms.ActionForm) -> list[str]:
    """A form's errors as lines of text, each field's under its label."""
    lines: list[str] = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        lines.extend(
            gettext("%(label)s: %(error)s") % {"label": label, "error": error}
            if label
            else str(error)
            for error in errors
        )
    return lines


def unplaced_errors(request: HttpRequest, posted: Posted | None) -> None:
    """A form whose operation no longer shows (the case moved on meanwhile) still tells
    why it failed, as a message at the top of the page."""
    if posted is None or posted.placed or not posted.form.errors:
        return
    for line in error_lines(posted.form):
        messages.error(request, line)
