"""The trail of a case as people read it: what happened, who did it in which role, when
(Beijing time), and the values the event recorded, in words.

Events keep codes (statuses, department codes, ISO times, reasons such as "too_far"); this
module turns each into a label in the reader's language. A value it does not know is shown
as it is, so that nothing recorded is hidden.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from whistle.assessment.models import Acted, Appeal, Came, SummonsAssessment
from whistle.cases.actions.personal_data import ErasureReason
from whistle.cases.callers import shown_actor
from whistle.cases.deadlines import SYSTEM_ROLE
from whistle.cases.hotline import HOTLINE_PLATFORM_ROLE
from whistle.cases.models import Case, CheckInReason, Event, HotlineOrder, Summons
from whistle.cases.proof import CHECK_IN_KINDS, PositionSource, Verdict
from whistle.cases.trail import EventKind
from whistle.desk.forms import category_label
from whistle.organisation.durations import format_duration
from whistle.organisation.models import Department, Role, TownshipUnit
from whistle.organisation.names import in_reader_language, reads_english
from whistle.policies.calendar import describe_calendar_change
from whistle.policies.models import (
    BacklogResumeRule,
    Category,
    CategoryKind,
    ChainTarget,
    ShortLimitRule,
    WhistleKind,
    shown_class_name,
)

# The tone of an event's marker: problems red, refusals amber, the finish green.
_TONES: dict[str, str] = {
    EventKind.CHECK_IN_REFUSED: "refused",
    EventKind.CHECK_IN_FLAGGED: "refused",
    EventKind.CHECK_IN_REJECTED: "refused",
    EventKind.CHECK_IN_CONFIRMED: "onsite",
    EventKind.CHECK_OUT_REFUSED: "refused",
    EventKind.ACKNOWLEDGE_OVERDUE: "overdue",
    EventKind.ARRIVE_OVERDUE: "overdue",
    EventKind.RESOLVE_OVERDUE: "overdue",
    EventKind.SUPERVISION_OVERDUE: "overdue",
    EventKind.ESCALATED: "overdue",
    EventKind.REWORK: "refused",
    EventKind.DECLINED: "refused",
    EventKind.CHECK_IN_ACCEPTED: "onsite",
    EventKind.CLOSED: "done",
    EventKind.CHECK_PASSED: "done",
    EventKind.HANDLED: "done",
    EventKind.RESULT: "done",
    EventKind.WHISTLE_BLOWN: "summoned",
    EventKind.SUMMONED: "summoned",
    EventKind.CHAIN_STEP: "refused",
    EventKind.HOTLINE_REPLY_OVERDUE: "overdue",
    EventKind.HOTLINE_REPLIED: "done",
    EventKind.HOTLINE_FINAL_REPLIED: "done",
    EventKind.HOTLINE_PROMISE_OVERDUE: "overdue",
}

OBLIGATIONS = {
    "acknowledge": gettext_lazy("acknowledge"),
    "arrive": gettext_lazy("arrive on site"),
    "resolve": gettext_lazy("resolve"),
}

# The events whose `source` says where their position came from (a check-in's or a
# check-out's provenance); on a report it is the case's source.
POSITIONED_KINDS = (*CHECK_IN_KINDS, EventKind.CHECK_OUT, EventKind.CHECK_OUT_REFUSED)

# Codes the actions write as reasons of recorded refusals (a check-in's reasons are
# `CheckInReason`s).
REFUSAL_REASONS = {
    **{reason.value: reason.label for reason in CheckInReason},
    "case_not_resolved": gettext_lazy(
        "the case is not resolved and the township has not released the department: it stays "
        "until the matter is done (事不完、人不撤)"
    ),
}


@dataclass
class Line:
    label: str
    value: str
    # A case reference to link to, when the value is one.
    reference: str = ""


@dataclass
class Entry:
    seq: int
    at: datetime
    kind: str
    title: str
    tone: str
    actor: str
    role: str
    department: str
    lines: list[Line] = field(default_factory=list)
    lon: float | None = None
    lat: float | None = None


def local_time(value: Any) -> str:
    """An ISO time from an event's data, in Beijing time."""
    moment = parse_datetime(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        return str(value)
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i")


def _status_label(value: Any) -> str:
    if value is None or value == "":
        return "—"
    for choices in (Case.Status, Summons.Status):
        if value in choices.values:
            return str(choices(value).label)
    return str(value)


def _escalation_label(value: Any) -> str:
    if value in Case.Escalation.values:
        return str(Case.Escalation(value).label)
    return str(value)


def _yes_no(value: Any) -> str:
    if value is None:
        return "—"
    return _("yes") if value else _("no")


def _metres(value: Any) -> str:
    if isinstance(value, int | float):
        return _("%(m)s m") % {"m": formats.number_format(round(value), 0)}
    return str(value)


def _minutes(value: Any) -> str:
    """Minutes in words, from 60 on in hours and minutes ("13 h 8 min")."""
    if isinstance(value, int | float):
        return format_duration(timedelta(minutes=round(value)))
    return str(value)


def _minutes_or_less(value: Any) -> str:
    """A time left or overdue, in whole minutes counted down (an escalation a few seconds
    after the deadline is overdue by 0): under one, "less than a minute"."""
    if isinstance(value, int | float) and 0 <= value < 1:
        return _("less than a minute")
    return _minutes(value)


def _date(value: Any) -> str:
    if isinstance(value, str):
        try:
            return formats.date_format(date.fromisoformat(value), "Y-m-d")
        except ValueError:
            return value
    return str(value)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _stars(value: Any) -> str:
    if isinstance(value, int):
        return _("%(n)s of 5 stars") % {"n": value}
    return _text(value)


def _correction(value: Any) -> str:
    """An appeal's correction (`{"came": "on_time"}`, `{"late_minutes": 5}`) in words."""
    if not isinstance(value, dict):
        return _text(value)
    words = []
    for key, shown in value.items():
        try:
            label = str(getattr(SummonsAssessment._meta.get_field(key), "verbose_name", key))
        except FieldDoesNotExist:  # a key this version does not know: shown as recorded
            label = key
        if key == "came" and shown in Came.values:
            shown = Came(shown).label
        elif key == "acted" and shown in Acted.values:
            shown = Acted(shown).label
        words.append(f"{label}：{shown}")
    return "；".join(words)


class _Departments:
    """The departments a trail names, in the reader's language, looked up at most once for
    the whole trail (one query, made when a name needs it).

    An event names a department by its code, or as the trail keeps it: its code (and, since
    the trail kept them, its id and English name) and its name as recorded
    (`kept_department`). A code reads as the department's name of today. A kept department
    reads as recorded in Chinese; in English as its English name, from the event where it
    kept one, else (an event recorded before, or a department given its English name since)
    from the department of today, found by its id or else by its code; a department without
    an English name, or gone, by the name recorded."""

    def __init__(self, values: Iterable[Any]) -> None:
        self.codes: set[str] = set()
        self.ids: set[int] = set()
        for value in values:
            if isinstance(value, str) and value:
                self.codes.add(value)
            elif isinstance(value, dict) and not value.get("name_en"):
                if isinstance(value.get("id"), int):
                    self.ids.add(value["id"])
                elif isinstance(value.get("code"), str) and value["code"]:
                    self.codes.add(value["code"])

    @functools.cached_property
    def _found(self) -> list[Department]:
        if not self.codes and not self.ids:
            return []
        return list(
            Department.objects.filter(
                Q(code__in=sorted(self.codes)) | Q(pk__in=sorted(self.ids))
            ).only("code", "name", "name_en")
        )

    @functools.cached_property
    def _by_code(self) -> dict[str, Department]:
        return {d.code: d for d in self._found}

    @functools.cached_property
    def _by_id(self) -> dict[int, Department]:
        return {d.pk: d for d in self._found}

    def _today(self, kept: dict[str, Any]) -> Department | None:
        if isinstance(kept.get("id"), int):
            return self._by_id.get(kept["id"])
        return self._by_code.get(str(kept.get("code") or ""))

    def name(self, value: Any) -> str:
        if isinstance(value, dict):
            recorded = str(value.get("name") or value.get("code") or "")
            english = str(value.get("name_en") or "")
            if not english and reads_english():
                today = self._today(value)
                english = today.name_en if today is not None else ""
            return in_reader_language(recorded, english)
        department = self._by_code.get(str(value))
        return department.display_name if department is not None else str(value)


class _Offices:
    """The units of the case's street office a trail names (a report's office, a filing's or
    a routing's change of office), kept by their name as recorded (Chinese), read in the
    reader's language: on an English page as the English name of today of the township's unit
    of that name, looked up at most once for the whole trail; a unit without an English name,
    renamed since or gone, by the name recorded."""

    def __init__(self, case: Case | None, names: Iterable[Any]) -> None:
        self.township_id = case.township_id if case is not None else None
        self.names = sorted({n for n in names if isinstance(n, str) and n})

    @functools.cached_property
    def _english(self) -> dict[str, str]:
        if self.township_id is None or not self.names:
            return {}
        return dict(
            TownshipUnit.objects.filter(township_id=self.township_id, name__in=self.names)
            .exclude(name_en="")
            .values_list("name", "name_en")
        )

    def name(self, value: Any) -> str:
        if value in (None, ""):
            return "—"
        recorded = str(value)
        if not reads_english():
            return recorded
        return in_reader_language(recorded, self._english.get(recorded, ""))


class _Categories:
    """The categories a trail's filings name by their 4-digit code (`changes.category`),
    with their names in the reader's language, looked up once for the whole trail in the
    case's district. Components and events share the codes: a filing since the trail kept
    the kinds (`category_kinds`) names the one of its kind; in an older filing the case's own
    category is the one its code means, and another code that both kinds use names both. A
    category since deleted is shown by its code, one since renamed by its name of today."""

    def __init__(self, case: Case | None, codes: Iterable[tuple[str, Any]]) -> None:
        self.current = case.category if case is not None and case.category_id else None
        own = self.current.full_code if self.current is not None else None
        own_kind = self.current.major.kind if self.current is not None else None
        # The case's own code needs no look-up unless a filing names it as the other kind.
        wanted = sorted(
            {c for c, kind in codes if len(c) == 4 and (c != own or kind not in (None, own_kind))}
        )
        self.found: dict[str, list[Category]] = {}
        if not wanted or case is None or case.district_id is None:
            return
        same_code = Q()
        for code in wanted:
            same_code |= Q(major__code=code[:2], code=code[2:])
        for category in (
            Category.objects.filter(same_code, major__district_id=case.district_id)
            .select_related("major")
            .order_by("major__kind", "pk")
        ):
            self.found.setdefault(category.full_code, []).append(category)

    def name(self, value: Any, kind: Any = None) -> str:
        if value in (None, ""):
            return "—"
        code = str(value)
        current = self.current
        if current is not None and current.full_code == code and kind in (None, current.major.kind):
            return str(current)
        found = self.found.get(code, [])
        if kind is not None and current is not None and current.full_code == code:
            found = [c for c in found if c.pk != current.pk]
        if kind in CategoryKind.values:
            found = [c for c in found if c.major.kind == kind] or found
        if len(found) == 1:
            return str(found[0])
        return " / ".join(category_label(c) for c in found) or code


# A case taken from a 12345 work order has two deadlines to resolve: its own, from its
# category's time limit (`Case.resolve_due_at`), and the order's, from the hotline's deadline
# class (`HotlineOrder.resolve_due_at`). Its trail, page and reply form name them apart.
CASE_RESOLVE_BY = gettext_lazy("Resolve by (this case)")
ORDER_RESOLVE_BY = gettext_lazy("Resolve by (12345 order)")


@dataclass
class _Trail:
    """What the lines of every event of one trail read, looked up once."""

    departments: _Departments
    categories: _Categories
    offices: _Offices
    # Whether the case came from a 12345 work order: an event of the trail keeps the
    # order's deadlines (the order's intake).
    has_order: bool

    def resolve_by(self, data: dict[str, Any]) -> Promise:
        """The label of an event's `resolve_due_at`: the order's where the event keeps the
        order's deadlines, the case's own beside an order, else plainly "Resolve by"."""
        if "respond_due_at" in data:
            return ORDER_RESOLVE_BY
        return CASE_RESOLVE_BY if self.has_order else _CHANGE_LABELS["resolve_due_at"]


def _category_codes(events: Iterable[Event]) -> list[tuple[str, Any]]:
    """The filings' category codes, each with its kind where the filing kept it."""
    found: list[tuple[str, Any]] = []
    for event in events:
        data = event.data or {}
        pair = (data.get("changes") or {}).get("category")
        kinds = data.get("category_kinds")
        if not isinstance(kinds, list) or len(kinds) != 2:
            kinds = [None, None]
        if isinstance(pair, list | tuple) and len(pair) == 2:
            found.extend((str(c), k) for c, k in zip(pair, kinds, strict=True) if c)
    return found


def _named_offices(events: Iterable[Event]) -> list[Any]:
    """Every unit the events' data name: a report's office, a change of office."""
    found: list[Any] = []
    for event in events:
        data = event.data or {}
        found.append(data.get("office"))
        pair = (data.get("changes") or {}).get("office")
        if isinstance(pair, list | tuple):
            found.extend(pair)
    return found


def _named_departments(events: Iterable[Event]) -> list[Any]:
    """Every department the events' data name: a code, or a department as the trail keeps
    it (`_Departments`)."""
    found: list[Any] = []
    for event in events:
        data = event.data or {}
        found.extend(data.get(key) for key in ("department", "named_department"))
        for listed in ("departments", "on_site"):
            if isinstance(data.get(listed), list):
                found.extend(data[listed])
        for listed in ("summonses", "notices"):
            found.extend(r.get("department") for r in data.get(listed) or [] if isinstance(r, dict))
    return found


# Keys shown by their own rules, in this order; others follow as they are.
Formatter = Callable[[Any], str]


def _flag_label(value: Any) -> str:
    if value in (None, ""):
        return "—"
    return _choice_label(Summons.CheckInFlag, value)


_CHANGE_FORMATS: dict[str, Formatter] = {
    "check_in_flag": _flag_label,
    "status": _status_label,
    "escalation": _escalation_label,
    "resident_satisfied": _yes_no,
    "backlog_review_on": lambda v: _date(v) if v else "—",
    "acknowledge_due_at": lambda v: local_time(v) if v else "—",
    "arrive_due_at": lambda v: local_time(v) if v else "—",
    "resolve_due_at": lambda v: local_time(v) if v else "—",
    "acknowledged_at": lambda v: local_time(v) if v else "—",
}
_CHANGE_LABELS: dict[str, Promise] = {
    "check_in_flag": gettext_lazy("Check-in"),
    "status": gettext_lazy("Status"),
    "category": gettext_lazy("Category"),
    "office": gettext_lazy("Office"),
    "escalation": gettext_lazy("Escalation"),
    "rework_count": gettext_lazy("Rework count"),
    "township_rating": gettext_lazy("Rating"),
    "resident_satisfied": gettext_lazy("Resident satisfied"),
    "resident_rating": gettext_lazy("Resident's rating"),
    "backlog_review_on": gettext_lazy("Review on"),
    "acknowledge_due_at": gettext_lazy("Acknowledge by"),
    "arrive_due_at": gettext_lazy("Arrive by"),
    "resolve_due_at": gettext_lazy("Resolve by"),
    "acknowledged_at": gettext_lazy("Acknowledged at"),
}
_RESUME_RULES = {rule.value: rule.label for rule in BacklogResumeRule}
_RECOMPUTE_TRIGGERS = {
    "admin": gettext_lazy("the admin"),
    "import": gettext_lazy("an import of calendar days"),
    "command": gettext_lazy("the command whistle calendar recompute"),
}

_TEXT_KEYS: list[tuple[str, Promise]] = [
    ("description", gettext_lazy("Description")),
    ("address", gettext_lazy("Address")),
    ("text", gettext_lazy("Text")),
    ("reply", gettext_lazy("Reply to the caller")),
    ("result", gettext_lazy("Result")),
    ("answer", gettext_lazy("Answer")),
    ("note", gettext_lazy("Note")),
    ("comment", gettext_lazy("Comment")),
    ("meeting_point", gettext_lazy("Meeting point")),
    ("lane", gettext_lazy("Lane")),
    ("office", gettext_lazy("Office")),
    ("external_id", gettext_lazy("External id")),
    ("order", gettext_lazy("Work order")),
    ("deadline_class_name", gettext_lazy("Deadline class")),
    ("evidence", gettext_lazy("Evidence")),
]
# Values of the assessment's events, shown by their own rules.
_ASSESSMENT_KEYS: list[tuple[str, Promise, Formatter]] = [
    ("rating", gettext_lazy("Township's rating"), _stars),
    (
        "part",
        gettext_lazy("Contested part"),
        lambda v: str(Appeal.Part(v).label) if v in Appeal.Part.values else _text(v),
    ),
    ("requested", gettext_lazy("Correction asked for"), _correction),
    ("correction", gettext_lazy("Correction made"), _correction),
]
_TIME_KEYS: list[tuple[str, Promise]] = [
    ("acknowledge_due_at", gettext_lazy("Acknowledge by")),
    ("arrive_due_at", gettext_lazy("Arrive by")),
    ("respond_due_at", gettext_lazy("Reply by")),
    ("resolve_due_at", gettext_lazy("Resolve by")),
    ("promised_by", gettext_lazy("Done by (promised)")),
    ("called_at", gettext_lazy("Called at")),
    ("due_at", gettext_lazy("Due")),
    ("met_at", gettext_lazy("Met at")),
    ("reminder_at", gettext_lazy("Reminder at")),
    ("answered_at", gettext_lazy("Answered at")),
]
# Recorded for the hash chain or the machine, not for people.
_SILENT = {
    "changes",
    "photos",
    "township",
    "community",
    "grid_cell",
    "lane_distance_m",
    "notice",
    "by_hand",
    "recipients",
    "previous",
    "late_seconds",
    "category",
    "category_kinds",
    "appeal",
    "attachments",
    # A work order's: its class by code (the name is shown), the commitment to the caller.
    "deadline_class",
    "caller",
    # The commitment to a reporter's data, and the name an old first event holds: the page
    # shows the reporter from the case, masked for whoever does not call back.
    "reporter",
    "reporter_name",
    # The commitment to a resident's rating comment: the page shows the comment from the case,
    # where it is erased with the reporter's data.
    "comment_commitment",
    # The kind of scope a report's role was held in: the actor's role is shown beside it.
    "role_scope",
}
# A call-back's answers, in this order (whether satisfied is the change it records).
_CALLBACK_KEYS: list[tuple[str, Promise]] = [
    ("contacted", gettext_lazy("Caller reached")),
    ("resolved", gettext_lazy("Says the problem is solved")),
]


def _lines(event: Event, trail: _Trail) -> list[Line]:
    data: dict[str, Any] = dict(event.data or {})
    departments = trail.departments
    resolve_by = trail.resolve_by(data)
    if event.kind == EventKind.RESIDENT_RATED:
        # An old rating event holds the comment itself; the page shows it from the case.
        data.pop("comment", None)
    lines: list[Line] = []
    handled: set[str] = set()

    def add(label: Any, value: str, reference: str = "", *, as_recorded: bool = False) -> None:
        """A value in words begins with a capital, as it stands alone; a name or a text
        someone wrote is shown as recorded."""
        if value != "":
            lines.append(Line(str(label), value if as_recorded else capfirst(value), reference))

    change_labels = {**_CHANGE_LABELS, "resolve_due_at": resolve_by}
    kinds = data.get("category_kinds")
    if not isinstance(kinds, list) or len(kinds) != 2:
        kinds = [None, None]
    for name, pair in (data.get("changes") or {}).items():
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            continue
        if name == "category":
            if pair[0] == pair[1] and kinds[0] == kinds[1] is not None:
                continue  # filed under the category it was reported with
            shown = [trail.categories.name(v, k) for v, k in zip(pair, kinds, strict=True)]
        elif name == "office":
            shown = [trail.offices.name(v) for v in pair]
        else:
            show = _CHANGE_FORMATS.get(name, lambda v: "—" if v in (None, "") else str(v))
            shown = [show(v) for v in pair]
        add(change_labels.get(name, name), " → ".join(capfirst(v) for v in shown))

    if "kind" in data:
        kind = data["kind"]
        add(_("Kind"), str(WhistleKind(kind).label) if kind in WhistleKind.values else str(kind))
        handled.add("kind")
    if "whistle" in data:
        kind = data["whistle"]
        add(
            _("Channel"),
            str(WhistleKind(kind).label) if kind in WhistleKind.values else _("routine dispatch"),
        )
        handled.add("whistle")
    if "department" in data:
        add(_("Department"), departments.name(data["department"]), as_recorded=True)
        handled.add("department")
    if "departments" in data:
        names = [departments.name(d) for d in data["departments"] or []]
        add(_("Departments"), _(", ").join(names), as_recorded=True)
        handled.add("departments")
    if data.get("named_department"):
        add(
            _("Department named as responsible"),
            departments.name(data["named_department"]),
            as_recorded=True,
        )
    handled.add("named_department")
    if data.get("on_site"):
        add(
            _("On site"),
            _(", ").join(departments.name(c) for c in data["on_site"]),
            as_recorded=True,
        )
    handled.add("on_site")
    if "channel" in data:
        add(_("Order from"), _choice_label(HotlineOrder.Channel, data["channel"]))
        handled.add("channel")
    if "reply_kind" in data:
        final = event.kind == EventKind.HOTLINE_FINAL_REPLIED
        add(
            _("The result is") if final else _("The reply is"),
            _choice_label(HotlineOrder.ReplyKind, data["reply_kind"]),
        )
        handled.add("reply_kind")
    if event.kind == EventKind.RESIDENT_CALLBACK:
        for key, label in _CALLBACK_KEYS:
            if data.get(key) is not None:
                add(label, _yes_no(data[key]))
            handled.add(key)
        handled.add("satisfied")
    if "source" in data:
        source = data["source"]
        if event.kind in POSITIONED_KINDS or (
            source in PositionSource.values and source not in Case.Source.values
        ):
            add(_("Position from"), _choice_label(PositionSource, source))
        else:
            add(_("Source"), _choice_label(Case.Source, source))
        handled.add("source")
    if "reason" in data and not data.get("reasons"):
        reason = data["reason"]
        # A reason someone typed is shown as written.
        add(
            _("Reason"),
            str(REFUSAL_REASONS.get(reason, reason)) if reason else "",
            as_recorded=reason not in REFUSAL_REASONS,
        )
    # A check-in's reasons are listed in full with its proof.
    handled.add("reason")
    if "distance_m" in data and data["distance_m"] is not None:
        distance = _metres(data["distance_m"])
        measured = {
            "meeting_point": _("%(distance)s (measured from the meeting point)"),
            "case": _("%(distance)s (measured from the case's position)"),
        }.get(data.get("target") or "")
        add(_("Distance"), measured % {"distance": distance} if measured else distance)
    handled.update({"distance_m", "target"})
    if data.get("radius_m") is not None:
        add(_("Allowed"), _("within %(m)s") % {"m": _metres(data["radius_m"])})
    handled.add("radius_m")
    if data.get("accuracy_m") is not None:
        add(_("GPS accuracy"), "± " + _metres(data["accuracy_m"]))
    elif event.kind in CHECK_IN_KINDS and "accuracy_m" in data:
        add(_("GPS accuracy"), _("not given"))
    handled.add("accuracy_m")
    lines.extend(_proof_lines(data))
    handled.update(_PROOF_KEYS)
    if "on_time" in data:
        late = data.get("minutes_late") or 0
        add(
            _("Timeliness"),
            _("on time") if data["on_time"] else _("%(late)s late") % {"late": _minutes(late)},
        )
        handled.update({"on_time", "minutes_late"})
    if "promise_kept" in data:
        add(_("By the promised time"), _yes_no(data["promise_kept"]))
        handled.add("promise_kept")
    if "obligation" in data:
        add(_("Obligation"), str(OBLIGATIONS.get(data["obligation"], data["obligation"])))
        handled.add("obligation")
    if "level" in data:
        add(_("Escalated to"), _escalation_label(data["level"]))
        handled.add("level")
    if data.get("overdue_minutes") is not None:
        add(_("Overdue by"), _minutes_or_less(data["overdue_minutes"]))
    handled.add("overdue_minutes")
    if data.get("minutes_left") is not None:
        add(_("Time left"), _minutes_or_less(data["minutes_left"]))
    handled.add("minutes_left")
    if data.get("minutes_on_site") is not None:
        add(_("Time on site"), _minutes(data["minutes_on_site"]))
    handled.add("minutes_on_site")
    if "case_status" in data:
        add(_("Case status"), _status_label(data["case_status"]))
        handled.add("case_status")
    if data.get("into"):
        add(_("Merged into"), str(data["into"]), reference=str(data["into"]), as_recorded=True)
    handled.add("into")
    if data.get("duplicate"):
        add(
            _("Duplicate"),
            str(data["duplicate"]),
            reference=str(data["duplicate"]),
            as_recorded=True,
        )
    handled.add("duplicate")
    if data.get("review_on"):
        add(_("Review on"), _date(data["review_on"]))
    handled.add("review_on")
    _duty_lines(data, add)
    handled.update(_DUTY_KEYS)
    _deadline_lines(data, departments, add)
    handled.update({"rule", "paused_minutes", "notices", "assumed_calendar", "trigger", "by"})
    handled.add("years")
    moved_by = data.get("calendar_change")
    if isinstance(moved_by, list) and moved_by:
        changes = [c for c in moved_by if isinstance(c, dict)]
        add(_("Calendar change"), describe_calendar_change(changes), as_recorded=True)
    handled.add("calendar_change")
    # Every deadline the event leaves, for verify-trail's replay: the page shows the
    # deadlines themselves beside the case and each summons.
    handled.add("due_times")
    if data.get("erased_because"):
        add(_("Why erased"), _choice_label(ErasureReason, data["erased_because"]))
    handled.add("erased_because")
    if data.get("rework_count"):
        add(_("Rework count"), str(data["rework_count"]))
    handled.add("rework_count")
    rounds = data.get("summonses")
    if isinstance(rounds, list):
        rounds = [r for r in rounds if isinstance(r, dict)]
        names = [departments.name(r.get("department", "")) for r in rounds]
        if names:
            add(_("New deadlines for"), _(", ").join(names), as_recorded=True)
        # Deadlines moved (the backlog, the calendar): each department's old → new.
        for entry in rounds:
            for key, label in _TIME_KEYS:
                pair = entry.get(key)
                if isinstance(pair, list) and len(pair) == 2:
                    name = departments.name(entry.get("department", ""))
                    add(f"{name} · {label}", f"{local_time(pair[0])} → {local_time(pair[1])}")
            if entry.get("assumed_calendar"):
                name = departments.name(entry.get("department", ""))
                add(f"{name} · {_('Assumed calendar')}", _assumed(entry["assumed_calendar"]))
        handled.add("summonses")
    for key, label in _TIME_KEYS:
        if data.get(key):
            add(resolve_by if key == "resolve_due_at" else label, local_time(data[key]))
        handled.add(key)
    if isinstance(data.get("deadline_class_name"), str):
        # A built-in class reads in the reader's language, as on the order's card.
        data["deadline_class_name"] = capfirst(
            shown_class_name(str(data.get("deadline_class") or ""), data["deadline_class_name"])
        )
    if isinstance(data.get("office"), str):
        data["office"] = trail.offices.name(data["office"])
    for key, label in _TEXT_KEYS:
        if data.get(key):
            add(label, _text(data[key]), as_recorded=True)
        handled.add(key)
    for key, label, show in _ASSESSMENT_KEYS:
        if data.get(key):
            add(label, show(data[key]))
        handled.add(key)
    photos = data.get("photos") or data.get("attachments")
    if photos:
        n = len(photos)
        add(_("Photos"), ngettext("%(n)s photo", "%(n)s photos", n) % {"n": n})
    for key, value in data.items():
        if key in handled or key in _SILENT or value in (None, "", [], {}):
            continue
        add(key, _text(value), as_recorded=True)
    return lines


# Who heard a summons first (the duty roster) and the acknowledgement chain after them.
_DUTY_KEYS = {
    "on_duty",
    "backup",
    "chain",
    "chain_fitted",
    "step",
    "steps",
    "planned_at",
    "reached",
}


def _chain_target(value: Any) -> str:
    return _choice_label(ChainTarget, value)


def _duty_lines(data: dict[str, Any], add: Callable[..., None]) -> None:
    """The summons' first hearers and its planned chain; a step of the chain as it was
    taken: which step, to whom, whom it reached, when it was planned."""
    if data.get("on_duty"):
        add(_("On duty"), _text(data["on_duty"]), as_recorded=True)
    if data.get("backup"):
        add(_("Backup on duty"), _text(data["backup"]), as_recorded=True)
    steps = [s for s in data.get("chain") or [] if isinstance(s, dict)]
    if steps:
        add(
            _("Acknowledgement chain"),
            _("; ").join(
                _("%(target)s at %(at)s")
                % {"target": _chain_target(s.get("target")), "at": local_time(s.get("at"))}
                for s in steps
            ),
        )
    fitted = data.get("chain_fitted")
    if isinstance(fitted, dict):
        params = {
            "chain": _minutes(fitted.get("chain_minutes")),
            "limit": _minutes(fitted.get("limit_minutes")),
        }
        if fitted.get("rule") == ShortLimitRule.CUT:
            left_out = _(", ").join(_chain_target(t) for t in fitted.get("left_out") or []) or "—"
            text = _(
                "cut: the chain takes %(chain)s, the summons must be acknowledged within "
                "%(limit)s; left out: %(left_out)s"
            ) % {**params, "left_out": left_out}
        else:
            text = (
                _(
                    "compressed: the chain takes %(chain)s, the summons must be acknowledged "
                    "within %(limit)s; every wait shortened in proportion"
                )
                % params
            )
        add(_("Chain fitted to the time limit"), text)
    if data.get("step") is not None and "target" in data:
        add(
            _("Step"),
            _("%(step)s of %(steps)s") % {"step": data["step"], "steps": data.get("steps", "?")},
        )
        add(_("Passed on to"), _chain_target(data["target"]))
        reached = [_text(name) for name in data.get("reached") or []]
        if reached:
            add(_("Reached"), _(", ").join(reached), as_recorded=True)
        else:
            add(_("Reached"), _("nobody: no active person holds that role"))
    if data.get("planned_at"):
        add(_("Planned for"), local_time(data["planned_at"]))


def _assumed(marks: Any) -> str:
    """{"resolve_due_at": [2027]} as "Resolve by: 2027"."""
    if not isinstance(marks, dict):
        return _text(marks)
    labels = dict(_TIME_KEYS)
    return "; ".join(
        f"{labels.get(key, key)}: {'、'.join(str(y) for y in years)}"
        for key, years in marks.items()
        if isinstance(years, list)
    )


def _deadline_lines(
    data: dict[str, Any], departments: _Departments, add: Callable[..., None]
) -> None:
    """The backlog's resumption and the calendar's recomputation: how deadlines started
    again or were computed again."""
    if data.get("rule"):
        add(_("Deadlines after the backlog"), str(_RESUME_RULES.get(data["rule"], data["rule"])))
    if data.get("paused_minutes") is not None:
        add(_("Paused for"), _minutes(data["paused_minutes"]))
    for notice in data.get("notices") or []:
        pair = notice.get("due_at") if isinstance(notice, dict) else None
        if isinstance(pair, list) and len(pair) == 2:
            add(
                _("Supervision notice · %(department)s")
                % {"department": departments.name(notice.get("department", ""))},
                f"{local_time(pair[0])} → {local_time(pair[1])}",
            )
    if data.get("assumed_calendar"):
        add(_("Assumed calendar"), _assumed(data["assumed_calendar"]))
    if data.get("trigger"):
        add(
            _("Calendar entered through"),
            str(_RECOMPUTE_TRIGGERS.get(data["trigger"], data["trigger"])),
        )
    if data.get("by"):
        add(_("Entered by"), _text(data["by"]), as_recorded=True)
    if data.get("years"):
        add(_("Years"), _(", ").join(str(y) for y in data["years"]))


def _choice_label(choices: Any, value: Any) -> str:
    return str(choices(value).label) if value in choices.values else str(value)


def _seconds(value: Any) -> str:
    if isinstance(value, int | float):
        places = 0 if float(value).is_integer() else 1
        return _("%(s)s s") % {"s": formats.number_format(value, places)}
    return str(value)


def _precise_time(value: Any) -> str:
    """A time to the second, in Beijing time: clock differences are a matter of seconds."""
    moment = parse_datetime(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        return str(value)
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i:s")


def _reasons(codes: Any) -> str:
    if not isinstance(codes, list):
        return str(codes)
    return _("; ").join(str(REFUSAL_REASONS.get(c, c)) for c in codes)


# The on-site proof of a check-in (whistle.cases.proof) and the township's ruling on it.
_PROOF_KEYS = {
    "verdict",
    "reasons",
    "device_time",
    "server_time",
    "clock_skew_s",
    "max_skew_s",
    "device_id",
    "previous_at",
    "previous_distance_m",
    "previous_kind",
    "speed_kmh",
    "speed_limit_kmh",
    "check_in_seq",
    "checked_in_at",
}


def _proof_lines(data: dict[str, Any]) -> list[Line]:
    lines: list[Line] = []
    if data.get("verdict"):
        lines.append(Line(_("Verdict"), capfirst(_choice_label(Verdict, data["verdict"]))))
    if data.get("reasons"):
        lines.append(Line(_("Checks not passed"), capfirst(_reasons(data["reasons"]))))
    if data.get("device_time"):
        lines.append(Line(_("Device's time of the position"), _precise_time(data["device_time"])))
    elif "device_time" in data:
        lines.append(Line(_("Device's time of the position"), capfirst(_("not given"))))
    if data.get("server_time"):
        lines.append(Line(_("Server's time"), _precise_time(data["server_time"])))
    if data.get("clock_skew_s") is not None:
        skew = _seconds(abs(data["clock_skew_s"]))
        if data.get("max_skew_s") is not None:
            skew = _("%(skew)s (at most %(max)s)") % {
                "skew": skew,
                "max": _seconds(data["max_skew_s"]),
            }
        lines.append(Line(_("Clock difference"), skew))
    if data.get("speed_kmh") is not None:
        speed = _("%(speed)s km/h from the position %(distance)s away at %(at)s") % {
            "speed": formats.number_format(data["speed_kmh"], 1),
            "distance": _metres(data.get("previous_distance_m")),
            "at": _precise_time(data.get("previous_at")),
        }
        if data.get("previous_kind") == EventKind.CHECK_IN_REFUSED:
            speed = _("%(travel)s, a refused check-in attempt") % {"travel": speed}
        if data.get("speed_limit_kmh") is not None:
            speed = _("%(speed)s (at most %(limit)s km/h)") % {
                "speed": speed,
                "limit": data["speed_limit_kmh"],
            }
        lines.append(Line(_("Travel needed"), speed))
    if data.get("device_id"):
        lines.append(Line(_("Device"), str(data["device_id"])))
    if data.get("checked_in_at"):
        label = _("Check-in")
        when = _precise_time(data["checked_in_at"])
        seq = data.get("check_in_seq")
        lines.append(Line(label, f"{when} (#{seq})" if seq is not None else when))
    return lines


def _kind_label(kind: str) -> str:
    if kind in EventKind.values:
        return str(EventKind(kind).label)
    return kind


def _role_label(role: str) -> str:
    if role == SYSTEM_ROLE:
        return _("deadline watch")
    if role == HOTLINE_PLATFORM_ROLE:
        return _("12345 hotline platform")
    if role in Role.values:
        return str(Role(role).label)
    return role


def entries(
    events: Iterable[Event], *, viewer: Any = None, case: Case | None = None
) -> list[Entry]:
    """Display entries of events loaded with `actor` and `summons__department`, as `viewer`
    may see them. A resident who acted with an account is named as the case's caller is
    (`whistle.cases.callers.shown_actor`): in full only for those who call back, masked for
    everyone else, and for nobody once the case's personal data was erased."""
    events = list(events)
    trail_case = case or (events[0].case if events else None)
    trail = _Trail(
        departments=_Departments(_named_departments(events)),
        categories=_Categories(trail_case, _category_codes(events)),
        offices=_Offices(trail_case, _named_offices(events)),
        has_order=any("respond_due_at" in (e.data or {}) for e in events),
    )
    found = []
    for event in events:
        actor = shown_actor(viewer, case or event.case, event.actor, event.actor_role)
        found.append(
            Entry(
                seq=event.seq,
                at=event.at,
                kind=event.kind,
                title=_kind_label(event.kind),
                tone=_TONES.get(event.kind, "neutral"),
                actor=actor,
                role=_role_label(event.actor_role),
                department=event.summons.department.display_name
                if event.summons is not None
                else "",
                lines=_lines(event, trail),
                lon=event.lon,
                lat=event.lat,
            )
        )
    return found
