"""The typed shapes of the API's requests and answers (they make the OpenAPI document).

Inputs refuse unknown members. Limits repeat the actions' own (`whistle.cases.actions`), so
that the document tells a client what the action would refuse; the actions check again.
Photos travel as base64 text in the JSON body.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import ninja
from django.utils.translation import gettext_noop
from pydantic import (
    AwareDatetime,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    SkipValidation,
    ValidationInfo,
    model_validator,
)

from whistle.cases.actions import DESCRIPTION_MAX, MAX_PHOTOS, NOTE_MAX, REASON_MAX, RESULT_MAX

Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Accuracy = Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)]
Note = Annotated[str, Field(max_length=NOTE_MAX)]
Reason = Annotated[str, Field(min_length=1, max_length=REASON_MAX)]
Text = Annotated[str, Field(min_length=1, max_length=RESULT_MAX)]
Code = Annotated[str, Field(min_length=1, max_length=60)]
Rating = Annotated[int, Field(ge=1, le=5)]
# A base64 photo (JPEG, PNG or WebP); the request's whole body stays within the server's limit.
Photo = Annotated[str, Field(min_length=1, max_length=4_000_000)]
Photos = Annotated[list[Photo], Field(max_length=MAX_PHOTOS)]


class Schema(ninja.Schema):
    """Django Ninja's schema, which validates anything through a getter that reads
    attributes, model fields and resolvers: a plain dict (a request's JSON body, an answer
    the endpoint built) with no resolvers to run is validated as the dict it is, once —
    ninja's getter gives the same values for it, and validated an input that refuses unknown
    members twice."""

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(
        cls, values: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo
    ) -> Any:
        if type(values) is dict and not cls._ninja_resolvers:
            return handler(values)
        return super()._run_root_validator(values, handler, info)  # type: ignore[operator]


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None


# Organisation -------------------------------------------------------------------------------


class JurisdictionOut(Schema):
    code: str
    name: str
    level: str
    parent: str | None


class LaneOut(Schema):
    township: str
    name: str
    community: str | None
    length_m: float


class LaneRef(Schema):
    township: str
    name: str


class DepartmentOut(Schema):
    code: str
    name: str
    kind: str
    sector: str
    district: str
    serves: list[str]


class DepartmentRef(Schema):
    code: str
    name: str


class CategoryOut(Schema):
    code: str
    kind: str
    name: str
    name_en: str | None
    major: str
    major_name_en: str | None
    district: str
    resolve_within: int
    resolve_unit: str


class CategoryRef(Schema):
    code: str
    kind: str
    name: str
    name_en: str | None


class RoleOut(Schema):
    role: str
    label: str
    scope: str | None


class MeOut(Schema):
    username: str
    name: str
    roles: list[RoleOut]
    token: str | None
    token_expires_at: datetime | None


# Cases --------------------------------------------------------------------------------------


class SummonsOut(Schema):
    uuid: UUID
    case: str
    whistle: UUID | None
    department: DepartmentRef
    # The department a decline named as responsible, if any.
    named_department: DepartmentRef | None
    status: str
    summoned_at: datetime
    acknowledge_due_at: datetime
    arrive_due_at: datetime | None
    resolve_due_at: datetime
    acknowledged_at: datetime | None
    arrived_at: datetime | None
    arrived_distance_m: float | None
    check_in_flag: str
    check_in_flag_reasons: list[str]
    done_at: datetime | None
    result: str
    decline_reason: str
    ruling: str
    released_at: datetime | None
    left_at: datetime | None
    acknowledge_overdue_at: datetime | None
    arrive_overdue_at: datetime | None
    resolve_overdue_at: datetime | None


class WhistleOut(Schema):
    uuid: UUID
    case: str
    kind: str
    township: str
    blown_at: datetime
    meeting_point: str
    meeting_lon: float | None
    meeting_lat: float | None
    note: str
    closed_at: datetime | None
    summonses: list[SummonsOut]


class NoticeOut(Schema):
    uuid: UUID
    case: str
    department: DepartmentRef
    summons: UUID | None
    issued_at: datetime
    text: str
    due_at: datetime
    answered_at: datetime | None
    answer: str
    overdue_at: datetime | None


class CaseOut(Schema):
    reference: str
    uuid: UUID
    status: str
    source: str
    category: CategoryRef | None
    description: str
    lon: float
    lat: float
    address: str
    district: str | None
    township: str | None
    community: str | None
    lane: LaneRef | None
    escalation: str
    rework_count: int
    merged_into: str | None
    reported_at: datetime
    filed_at: datetime | None
    resolve_due_at: datetime | None
    handled_at: datetime | None
    checked_at: datetime | None
    closed_at: datetime | None
    township_rating: int | None
    resident_satisfied: bool | None


class CaseDetailOut(CaseOut):
    whistles: list[WhistleOut]
    summonses: list[SummonsOut]
    supervision_notices: list[NoticeOut]
    # The case actions the caller may take now (whistle.cases.permissions names).
    allowed_actions: list[str]
    trail_length: int
    trail_head: str


class FollowedPlaceOut(Schema):
    # Names, as the follow page gives them.
    township: str | None
    lane: str | None


class FollowedEntryOut(Schema):
    at: datetime
    # What happened, in plain words in the reader's language, as the follow page says it.
    text: str


class FollowedRatingOut(Schema):
    # Whether the case takes the resident's rating now (reported by a resident, closed).
    open: bool
    rated: bool
    # The township recorded the resident's satisfaction when it called them back.
    called_back: bool


class FollowedCaseOut(Schema):
    """A case as its follow page shows it: what a resident who reported it reads of it."""

    reference: str
    status: str
    category: CategoryRef | None
    place: FollowedPlaceOut
    reported_at: datetime
    # While the case is open.
    resolve_due_at: datetime | None
    merged_into: str | None
    timeline: list[FollowedEntryOut]
    # The addresses of the result's photos, re-encoded without EXIF, as the page shows them.
    result_photos: list[str]
    rating: FollowedRatingOut
    # What the caller reported, as the follow page shows it back to them ("您上报的内容"): to
    # the resident who reported the case with their account alone, until its personal data is
    # erased; null for anyone else.
    description: str | None = None
    # The addresses of the photos sent with the report, re-encoded without EXIF
    # (`GET /cases/{reference}/photos/{pk}`, for the reporter's token or session); null
    # whenever `description` is.
    report_photos: list[str] | None = None


# A case in the caller's scope as the case page shows it; a resident's own report as its
# follow page does.
CaseAnswer = CaseDetailOut | FollowedCaseOut


class CasePage(Schema):
    items: list[CaseOut | FollowedCaseOut]
    next_cursor: str | None


class ResidentReportOut(Schema):
    case: CaseAnswer
    # The key that lets the reporter rate the result; shown once.
    rating_key: str


class EventOut(Schema):
    seq: int
    at: datetime
    kind: str
    # The number the hash covers (as in the signed export of the case).
    actor: int | None
    actor_name: str | None
    role: str
    summons: UUID | None
    data: dict[str, Any]
    lon: float | None
    lat: float | None
    prev_hash: str
    hash: str


class TrailOut(Schema):
    case: str
    uuid: UUID
    length: int
    head: str
    events: list[EventOut]
    next_after: int | None


class PublicTimelineOut(Schema):
    case: str
    status: str
    entries: list[FollowedEntryOut]


class SummonsPage(Schema):
    items: list[SummonsOut]
    next_cursor: str | None


class NoticePage(Schema):
    items: list[NoticeOut]
    next_cursor: str | None


class ReportIn(In):
    description: Annotated[str, Field(min_length=1, max_length=DESCRIPTION_MAX)]
    lon: Lon
    lat: Lat
    accuracy_m: Accuracy | None = None
    address: Annotated[str, Field(max_length=200)] = ""
    category: Code | None = None
    category_kind: Literal["component", "event"] | None = None
    source: Literal["patrol", "steward", "chief", "resident", "hotline", "superior"] | None = None
    reporter_name: Annotated[str, Field(max_length=60)] = ""
    reporter_phone: Annotated[str, Field(max_length=40)] = ""
    external_id: Annotated[str, Field(max_length=64)] = ""
    photos: Photos = []
    # Written on the device without signal: the device's time of writing (and the
    # X-Whistle-Sent-At header its time of sending).
    happened_at: AwareDatetime | None = None


class ResidentReportIn(In):
    description: Annotated[str, Field(min_length=1, max_length=DESCRIPTION_MAX)]
    lon: Lon
    lat: Lat
    accuracy_m: Accuracy | None = None
    address: Annotated[str, Field(max_length=200)] = ""
    name: Annotated[str, Field(max_length=60)] = ""
    phone: Annotated[str, Field(max_length=40)] = ""
    photos: Photos = []
    # Written on the resident's phone without signal: its time of writing (and the
    # X-Whistle-Sent-At header its time of sending).
    happened_at: AwareDatetime | None = None


class FileIn(In):
    category: Code | None = None
    category_kind: Literal["component", "event"] | None = None
    note: Note = ""


class ReasonIn(In):
    reason: Reason


class DeclineIn(In):
    reason: Reason
    # The code of the department the decline names as responsible.
    named_department: Code | None = None


class NoteIn(In):
    note: Note = ""


class MergeIn(In):
    into: Annotated[str, Field(min_length=1, max_length=12)]
    note: Note = ""


class SolveIn(In):
    note: Annotated[str, Field(min_length=1, max_length=NOTE_MAX)]
    photos: Photos = []


class DispatchIn(In):
    department: Code
    note: Note = ""


class WhistleIn(In):
    kind: Literal["routine", "tough", "emergency"]
    departments: Annotated[list[Code], Field(min_length=1, max_length=20)]
    meeting_point: Annotated[str, Field(max_length=200)] = ""
    meeting_lon: Lon | None = None
    meeting_lat: Lat | None = None
    note: Note = ""


class SummonMoreIn(In):
    departments: Annotated[list[Code], Field(min_length=1, max_length=20)]
    note: Note = ""


class CheckPassedIn(In):
    note: Note = ""
    lon: Lon | None = None
    lat: Lat | None = None
    photos: Photos = []


class EvaluateIn(In):
    rating: Rating
    note: Note = ""


class CallbackIn(In):
    satisfied: bool
    note: Note = ""


class ResidentRatingIn(In):
    rating: Rating
    comment: Note = ""


class BacklogIn(In):
    reason: Reason
    review_on: date


class NoticeIn(In):
    department: Code
    text: Text
    due_at: AwareDatetime


class AnswerIn(In):
    answer: Text


# A summons ------------------------------------------------------------------------------------


class CheckInIn(In):
    lon: Lon
    lat: Lat
    # Where the position came from, as the check-in page sends it: "device" only when the
    # device's location gave it; a typed or map-picked position is never a clean check-in.
    source: Literal["device", "typed", "map_pick"]
    accuracy_m: Accuracy | None = None
    device_time: AwareDatetime | None = None
    device_id: Annotated[str, Field(max_length=64)] = ""
    photo: Photo | None = None
    # Made on the device without signal: the device's time of the check-in.
    happened_at: AwareDatetime | None = None


class CheckInOut(Schema):
    summons: SummonsOut
    verdict: str
    reasons: list[str]


class ProgressIn(In):
    text: Text
    photos: Photos = []
    # Where the phone was when it was written, when it had a fix (kept in the trail).
    lon: Lon | None = None
    lat: Lat | None = None
    accuracy_m: Accuracy | None = None
    # Written on the device without signal: the device's time.
    happened_at: AwareDatetime | None = None


class ResultIn(In):
    result: Text
    photos: Photos = []
    # Where the phone was when it was written, when it had a fix (kept in the trail).
    lon: Lon | None = None
    lat: Lat | None = None
    accuracy_m: Accuracy | None = None
    # Written on the device without signal: the device's time.
    happened_at: AwareDatetime | None = None


class DeclineRulingIn(In):
    uphold: bool
    # With uphold: summon the department the decline named, in the same step.
    summon_named: bool = False
    # Required to insist: the department is told why it acts all the same.
    note: Note = ""


class CheckInRulingIn(In):
    confirm: bool
    note: Note = ""


class CheckOutIn(In):
    lon: Lon | None = None
    lat: Lat | None = None
    source: Literal["device", "typed", "map_pick"] | None = None
    accuracy_m: Accuracy | None = None
    # Made on the device without signal: the device's time of the check-out.
    happened_at: AwareDatetime | None = None


# Patrols --------------------------------------------------------------------------------------


class PatrolStartIn(In):
    township: Code
    lane: Annotated[str, Field(min_length=1, max_length=100)]
    # Started on the device without signal: the key the device gave the patrol (its public
    # id, named by the positions and ticks queued behind it) and the device's time.
    uuid: UUID | None = None
    happened_at: AwareDatetime | None = None
    # Where the phone was, when it had a fix (kept in the patrol's events).
    lon: Lon | None = None
    lat: Lat | None = None
    accuracy_m: Accuracy | None = None


class PatrolEndIn(In):
    # Ended on the device without signal: the device's time of the end.
    happened_at: AwareDatetime | None = None
    lon: Lon | None = None
    lat: Lat | None = None
    accuracy_m: Accuracy | None = None


class PointIn(In):
    seq: Annotated[int, Field(ge=0, lt=10**9)]
    lon: Lon
    lat: Lat
    accuracy_m: Accuracy | None = None
    at: AwareDatetime


class PositionsIn(In):
    points: Annotated[list[PointIn], Field(max_length=1000)] = []
    location: Literal["denied", "unavailable", "unsupported", "recording"] | None = None


class PatrolCheckIn(In):
    item: Annotated[str, Field(min_length=1, max_length=40)]
    result: Literal["ok", "problem", "not_checked"]
    outcome: Literal["", "fixed", "reported"] = ""
    case: Annotated[str, Field(max_length=12)] | None = None
    note: Note = ""
    # Ticked on the device without signal: the device's time of the tick.
    happened_at: AwareDatetime | None = None
    lon: Lon | None = None
    lat: Lat | None = None
    accuracy_m: Accuracy | None = None


class CheckResultOut(Schema):
    item: str
    label: str
    result: str
    outcome: str
    case: str | None
    note: str
    checked_at: datetime


class PatrolOut(Schema):
    uuid: UUID
    lane: LaneRef
    role: str
    started_at: datetime
    ended_at: datetime | None
    location: str
    point_count: int
    counted_point_count: int
    distance_m: float
    covered_ratio: float | None
    checklist: list[dict[str, Any]]
    checks: list[CheckResultOut]


class PatrolPage(Schema):
    items: list[PatrolOut]
    next_cursor: str | None


class PositionsOut(Schema):
    accepted: int
    duplicates: int
    patrol: PatrolOut


# Assessment -----------------------------------------------------------------------------------


class RecordOut(Schema):
    summons: UUID
    case: str
    department: DepartmentRef
    township: str | None
    month: date
    settled: bool
    settled_at: datetime | None
    came: str
    late_minutes: int | None
    acted: str
    rework_count: int
    rating: int | None
    rating_comment: str
    resident_satisfied: bool | None
    excused: bool
    # Past its handling deadline and unfinished: counted as not acted until it settles.
    provisional: bool
    came_score: str | None
    acted_score: str | None
    quality_score: str | None
    total: str | None
    corrected: bool


class RecordPage(Schema):
    items: list[RecordOut]
    next_cursor: str | None


class RateIn(In):
    rating: Rating
    comment: Annotated[str, Field(max_length=2000)] = ""


class AppealIn(In):
    part: Literal["came", "acted", "rework"]
    requested: dict[str, Any]
    reason: Reason
    evidence: Annotated[str, Field(max_length=RESULT_MAX)] = ""


class AppealRulingIn(In):
    upheld: bool
    note: Reason
    correction: dict[str, Any] | None = None


class AppealOut(Schema):
    uuid: UUID
    summons: UUID
    case: str
    department: DepartmentRef
    part: str
    requested: dict[str, Any]
    reason: str
    evidence: str
    filed_at: datetime
    status: str
    ruled_at: datetime | None
    ruling_note: str
    correction: dict[str, Any]
    awaiting_ruler: bool = Field(
        description=gettext_noop(
            "True while the appeal is pending and nobody in the district chiefs' office may "
            "rule on it (whoever filed it, belongs to the department or ruled on an earlier "
            "appeal of the record may not): it waits until someone who may is added, and the "
            "district has been told"
        )
    )


class AppealPage(Schema):
    items: list[AppealOut]
    next_cursor: str | None


class ScoreOut(Schema):
    district: str
    department: DepartmentRef
    period: str
    records: int
    township_score: str | None
    components: dict[str, Any]
    total: str | None
    rank: int | None
    complete: bool
    frozen: bool


# Notifications ----------------------------------------------------------------------------------


class NotificationOut(Schema):
    uuid: UUID
    kind: str
    subject: str = Field(
        description=gettext_noop(
            "In the caller's language (Accept-Language) where it is one of the product's own "
            "messages; names, places and descriptions as they were entered"
        )
    )
    body: str = Field(description=gettext_noop("In the caller's language, as the subject"))
    case: str | None
    created_at: datetime
    read_at: datetime | None = Field(
        description=gettext_noop(
            "When the caller read it; an entry their unit's people share (an overdue, an "
            "escalation) is read by each of them for themselves"
        )
    )


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None
    unread: int


class MarkReadIn(In):
    # The notifications to mark read; all unread ones when left out.
    ids: Annotated[list[UUID], Field(max_length=500)] | None = None


class MarkedOut(Schema):
    marked: int


# 12345 work orders ----------------------------------------------------------------------------

# The most orders one batch may hold.
HOTLINE_BATCH_MAX = 500


class HotlineOrderIn(In):
    # Required but for channel "other": an order from there left without one is numbered by
    # the intake (`assign_order_number`).
    order_number: Annotated[str, Field(max_length=64)] = ""
    description: Annotated[str, Field(min_length=1, max_length=DESCRIPTION_MAX)]
    lon: Lon
    lat: Lat
    channel: Literal["hotline", "superior", "other"] = "hotline"
    # The code of one of the district's deadline classes; none: the district's default class.
    deadline_class: Code | None = None
    accuracy_m: Accuracy | None = None
    address: Annotated[str, Field(max_length=200)] = ""
    category: Code | None = None
    category_kind: Literal["component", "event"] | None = None
    caller_name: Annotated[str, Field(max_length=60)] = ""
    caller_phone: Annotated[str, Field(max_length=40)] = ""
    called_at: AwareDatetime | None = None
    photos: Photos = []


class HotlineBatchIn(In):
    # Each order is read on its own (`HotlineOrderIn`) when the batch is taken, so that every
    # bad order, malformed or refused, is reported by its index in one answer.
    orders: Annotated[
        list[SkipValidation[HotlineOrderIn]],
        Field(min_length=1, max_length=HOTLINE_BATCH_MAX),
    ]


class HotlineReplyIn(In):
    # What the reply is: done (the result), in progress (what is being done and by when),
    # not_ours (whose duty it is), cannot_solve (why not now). Any kind is the response;
    # the call-back waits for the case after "in progress". Left out: done once the case
    # is handled, in progress before (`usual_reply_kind`).
    kind: Literal["done", "in_progress", "not_ours", "cannot_solve"] | None = None
    reply: Text
    # By when the township expects to be done: required for in_progress (in the future, at
    # most 90 days after the order's resolve deadline), refused with the other kinds. Given
    # without a kind, the reply is in_progress.
    promised_by: AwareDatetime | None = None


class HotlineFinalReplyIn(In):
    # The result after a reply in_progress: done (the result), not_ours (whose duty it is)
    # or cannot_solve (why not now).
    kind: Literal["done", "not_ours", "cannot_solve"] = "done"
    reply: Text


class HotlineCallbackIn(In):
    contacted: bool = True
    resolved: bool | None = None
    satisfied: bool | None = None
    note: Note = ""


class HotlineReplyOut(Schema):
    text: str
    # done, in_progress, not_ours or cannot_solve.
    kind: str
    replied_at: datetime
    on_time: bool
    # A reply in_progress: by when the township expects to be done; null for the others.
    promised_by: datetime | None


class HotlineFinalReplyOut(Schema):
    text: str
    # done, not_ours or cannot_solve.
    kind: str
    replied_at: datetime
    # Given by the time the reply in_progress promised.
    promise_kept: bool


class HotlineCallbackOut(Schema):
    called_back_at: datetime
    contacted: bool | None
    resolved: bool | None
    satisfied: bool | None


def _answer_described(schema: dict[str, Any], model: type) -> None:
    """The description of the answer's document, not of the schemas built on it."""
    if model is HotlineAnswerOut:
        schema["description"] = gettext_noop(
            "The order as the hotline platform is told it (the `hotline.answer` webhook's "
            "document)."
        )


class HotlineAnswerOut(Schema):
    model_config = ConfigDict(json_schema_extra=_answer_described)

    order_number: str
    district: str
    township: str | None
    channel: str
    case: str
    case_status: str
    deadline_class: str
    received_at: datetime
    respond_due_at: datetime
    resolve_due_at: datetime
    reply: HotlineReplyOut | None
    reply_overdue: bool
    # The result given after a reply in_progress (办结反馈); null until then.
    final_reply: HotlineFinalReplyOut | None
    # The time the reply in_progress promised passed without the final reply.
    promise_overdue: bool
    callback: HotlineCallbackOut | None
    answered_at: datetime | None
    # What just changed (reply, final_reply, callback); null when pulled.
    answer: str | None


class HotlineOrderOut(HotlineAnswerOut):
    deadline_class_name: str
    called_at: datetime | None
    # In full for the dispatchers and the township chief of lanes of the case's township,
    # masked (王*, 138****1234) for everyone else.
    caller_name: str
    caller_phone: str


class HotlineTakenOut(HotlineOrderOut):
    # False: the order number was taken before, and this is its case; nothing was written.
    created: bool


class HotlineBatchOut(Schema):
    orders: list[HotlineTakenOut]


class HotlineAnswerPage(Schema):
    items: list[HotlineAnswerOut]
    # Pass as `cursor` to read the answers that come after these (null before any answer).
    next_cursor: str | None
    # More answers are waiting now.
    has_more: bool


class HotlineProblemOut(Schema):
    index: int
    field: str | None
    message: str


class HotlineBatchErrorOut(ErrorOut):
    # Every bad order of the batch, by its index in `orders`.
    problems: list[HotlineProblemOut] = []
