"""Every state change of a case, its summonses and its supervision notices.

Each action takes the acting person (none for a resident without an account) and an
optional `now` (tests and the demo's history pass one; otherwise the clock's), checks the
person's role and scope, validates its input, and in one transaction locks the case,
changes it, appends its trail event, updates the summons' next check for the sweep and
queues notifications. A refusal raises `whistle.cases.errors.ActionRefused` (or a subclass)
and writes nothing, except a refused check-in and an early check-out, which are kept in the
trail (`RecordedRefusal`).

Pages, the API, commands and the worker call these functions; nothing else saves a case.
The limits they apply to texts are exported here too, for forms to show (those of photos
are in `whistle.cases.images`, which every upload passes through), `PhotoBatch` with
`atomic` for other domain actions that store photos as a case's attachments inside their
own transaction, and `notify` (with `department_people`, the people it tells of a
department) for other domain actions that tell people of the trail events they append.
"""

from whistle.cases.actions._common import (
    DESCRIPTION_MAX,
    MAX_PHOTOS,
    NOTE_MAX,
    REASON_MAX,
    RESULT_MAX,
    PhotoBatch,
    atomic,
    department_people,
    moment,
    notify,
)
from whistle.cases.actions.calendar import RecomputeSummary, recompute_assumed_deadlines
from whistle.cases.actions.closing import (
    check_passed,
    close_case,
    evaluate_case,
    mark_handled,
    put_on_backlog,
    record_resident_callback,
    record_resident_rating,
    resident_may_rate,
    resume_from_backlog,
    send_back_for_rework,
    working_status,
)
from whistle.cases.actions.hotline import (
    TakenOrder,
    record_hotline_final_reply,
    record_hotline_reply,
    take_hotline_order,
)
from whistle.cases.actions.intake import (
    ResidentReport,
    file_case,
    merge_case,
    reject_case,
    report_case,
    report_resident_case,
    route_case,
    solve_on_spot,
)
from whistle.cases.actions.on_site import (
    acknowledge,
    check_in,
    check_in_target,
    check_out,
    decline,
    release,
    report_progress,
    report_result,
    rule_on_check_in,
    rule_on_decline,
)
from whistle.cases.actions.oversight import (
    answer_supervision_notice,
    escalate,
    issue_supervision_notice,
)
from whistle.cases.actions.summoning import (
    blow_whistle,
    dispatch_case,
    sounding_whistle,
    summon_more,
)
from whistle.cases.errors import (
    ActionRefused,
    CheckInRefused,
    CheckOutRefused,
    InvalidInput,
    PermissionRefused,
    RecordedRefusal,
)
from whistle.cases.suggest import possible_duplicates, suggest_categories, suggest_departments

__all__ = [
    "DESCRIPTION_MAX",
    "MAX_PHOTOS",
    "NOTE_MAX",
    "REASON_MAX",
    "RESULT_MAX",
    "ActionRefused",
    "CheckInRefused",
    "CheckOutRefused",
    "InvalidInput",
    "PermissionRefused",
    "PhotoBatch",
    "RecomputeSummary",
    "RecordedRefusal",
    "ResidentReport",
    "TakenOrder",
    "acknowledge",
    "answer_supervision_notice",
    "atomic",
    "blow_whistle",
    "check_in",
    "check_in_target",
    "check_out",
    "check_passed",
    "close_case",
    "decline",
    "department_people",
    "dispatch_case",
    "escalate",
    "evaluate_case",
    "file_case",
    "issue_supervision_notice",
    "mark_handled",
    "merge_case",
    "moment",
    "notify",
    "possible_duplicates",
    "put_on_backlog",
    "recompute_assumed_deadlines",
    "record_hotline_final_reply",
    "record_hotline_reply",
    "record_resident_callback",
    "record_resident_rating",
    "reject_case",
    "release",
    "report_case",
    "report_progress",
    "report_resident_case",
    "report_result",
    "resident_may_rate",
    "resume_from_backlog",
    "route_case",
    "rule_on_check_in",
    "rule_on_decline",
    "send_back_for_rework",
    "solve_on_spot",
    "sounding_whistle",
    "suggest_categories",
    "suggest_departments",
    "summon_more",
    "take_hotline_order",
    "working_status",
]
