"""Deadlines computed on an assumed calendar are computed again once the year is entered.

A deadline that reaches into a year the calendar does not know (neither the calendar
package nor an entered `CalendarYear`) is computed with only weekends as rest days and
marked in `assumed_calendar` with what it was computed from. When days or years of the
calendar are entered (`whistle.policies.signals.calendar_entered`: the admin, `whistle
import calendar`, `whistle calendar recompute`), `recompute_assumed_deadlines` computes each
open marked deadline again, in one transaction per case, and records the old and new values
in the case's trail. docs/calendar.md has the whole story.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from whistle.cases.actions._common import (
    assumed_calendar_data,
    atomic,
    compute_again,
    department_people,
    due_times,
    iso,
    moment,
    notify,
    people_with_role,
    record,
    set_deadline,
    set_next_check,
)
from whistle.cases.deadlines import SYSTEM_ROLE, obligations
from whistle.cases.models import Case, Summons
from whistle.cases.trail import EventKind, lock_case
from whistle.notifications.texts import TextList
from whistle.organisation.models import Jurisdiction, Person, Role
from whistle.policies.calendar import CalendarError, join_sentences

logger = logging.getLogger("whistle.calendar")

TRIGGERS = ("admin", "import", "command")


@dataclass
class RecomputeSummary:
    """What one recomputation did, for the person who entered the calendar."""

    years: list[int]
    cases: int = 0
    changed: int = 0
    confirmed: int = 0
    failed: list[str] = field(default_factory=list)

    def describe(self) -> str:
        years = _(", ").join(str(y) for y in self.years) or _("every year")
        sentences = [
            _(
                "Deadlines computed on an assumed calendar (%(years)s): %(changed)s changed, "
                "%(confirmed)s unchanged, on %(cases)s open cases."
            )
            % {
                "years": years,
                "changed": self.changed,
                "confirmed": self.confirmed,
                "cases": self.cases,
            },
            _(
                "Open deadlines already set on a confirmed calendar keep their time: only "
                "those computed on an assumed calendar are computed again."
            ),
        ]
        if self.failed:
            sentences.append(
                _("Could not be computed: %(cases)s.") % {"cases": _(", ").join(self.failed)}
            )
        return join_sentences(*sentences)


def open_case_deadline(case: Case) -> bool:
    # The case's resolve deadline is judged when the case closes.
    return case.status in Case.OPEN_STATUSES and case.resolve_due_at is not None


def open_summons_deadlines(summons: Summons) -> set[str]:
    """The deadline fields the department still owes and that are not recorded overdue; a
    deadline already recorded overdue stays as it was judged."""
    if summons.status not in Summons.OPEN_STATUSES:
        return set()
    return {o.due_field for o in obligations(summons) if o.met_at is None and o.overdue_at is None}


def _concerns(mark: dict[str, Any], years: set[int] | None) -> bool:
    return years is None or bool(years & set(mark.get("years", [])))


@dataclass
class _Recomputed:
    """What became of the marked deadlines of one row: [old, new] by field. A deadline may
    keep its moment and only lose its mark, on a calendar that now knows the year."""

    values: dict[str, list[str | None]] = field(default_factory=dict)
    years: set[int] = field(default_factory=set)

    @property
    def moved(self) -> list[str]:
        return [name for name, (old, new) in self.values.items() if old != new]


def _recompute(
    row: Case | Summons,
    fields: Iterable[str],
    years: set[int] | None,
    district: Jurisdiction | None,
) -> _Recomputed:
    """Compute the marked deadlines of `row` again, from what each was computed from."""
    result = _Recomputed()
    marks = dict(row.assumed_calendar or {})
    for name in sorted(fields):
        mark = marks.get(name)
        if mark is None or not _concerns(mark, years):
            continue
        computed, shift = compute_again(mark, district)
        old = getattr(row, name)
        if computed.at + shift == old and list(computed.assumed_years) == mark["years"]:
            continue
        result.years.update(mark["years"])
        set_deadline(row, name, computed, shift=shift)
        result.values[name] = [iso(old), iso(getattr(row, name))]
    return result


def _recompute_case(
    case_id: int,
    years: set[int] | None,
    trigger: str,
    by: str,
    now: datetime,
    summary: RecomputeSummary,
) -> None:
    with atomic():
        case = lock_case(case_id)
        district = case.district
        data: dict[str, Any] = {"trigger": trigger, "by": by}
        results: list[_Recomputed] = []
        concerned: list[Person] = []
        if open_case_deadline(case):
            own = _recompute(case, ["resolve_due_at"], years, district)
            if own.values:
                case.save(update_fields=["resolve_due_at", "assumed_calendar", "deadline_basis"])
                data["changes"] = own.values
                data.update(assumed_calendar_data(case, "resolve_due_at"))
                results.append(own)
            if own.moved:
                concerned += people_with_role(Role.DISPATCHER, case.township)
        rounds = []
        moved_summonses: list[Summons] = []
        summonses = (
            case.summonses.select_for_update(of=("self",))
            .select_related("department")
            .filter(status__in=Summons.OPEN_STATUSES)
            .exclude(assumed_calendar={})
            .order_by("pk")
        )
        for summons in summonses:
            summons.case = case
            result = _recompute(summons, open_summons_deadlines(summons), years, district)
            if not result.values:
                continue
            set_next_check(summons, now)
            written = [*result.values, "assumed_calendar", "deadline_basis", "next_check_at"]
            summons.save(update_fields=written)
            rounds.append(
                {
                    "summons": str(summons.uuid),
                    "department": summons.department.code,
                    **result.values,
                    **assumed_calendar_data(summons, *result.values),
                }
            )
            moved_summonses.append(summons)
            if result.moved:
                concerned += department_people(summons.department, case.township)
            results.append(result)
        if not results:
            return
        assumed = sorted(set().union(*(r.years for r in results)))
        # The years the deadlines had assumed; the calendar may know them now.
        data["years"] = assumed
        data["summonses"] = rounds
        record_recomputed(
            case,
            data,
            moved_summonses,
            concerned,
            now,
            gettext_lazy(
                "The working calendar of %(years)s has been entered, and deadlines of case "
                "%(case)s computed before it changed. See the case page for the new ones."
            ),
            years=TextList([str(y) for y in assumed], gettext_lazy(", ")),
        )
        moved = sum(len(r.moved) for r in results)
        summary.cases += 1
        summary.changed += moved
        summary.confirmed += sum(len(r.values) for r in results) - moved


def record_recomputed(
    case: Case,
    data: dict[str, Any],
    moved_summonses: list[Summons],
    concerned: list[Person],
    at: datetime,
    body: Any,
    **params: Any,
) -> None:
    """The `case.deadlines_recomputed` event of deadlines computed again (`data` with every
    deadline the rows hold after it: the case's when it moved, under "changes", and the
    moved summonses'), and the message `body` to those whose deadlines moved."""
    data.update(due_times(case if "changes" in data else None, moved_summonses))
    event = record(
        case, EventKind.DEADLINES_RECOMPUTED, actor=None, role=SYSTEM_ROLE, at=at, data=data
    )
    notify(concerned, event, gettext_lazy("New deadlines on case %(case)s"), body, **params)


def _marked_cases(district: Jurisdiction | None) -> list[int]:
    """Open cases with a deadline of their own or of an open summons marked assumed."""
    cases = Case.objects.filter(status__in=Case.OPEN_STATUSES).exclude(assumed_calendar={})
    summonses = Summons.objects.filter(status__in=Summons.OPEN_STATUSES).exclude(
        assumed_calendar={}
    )
    if district is not None:
        cases = cases.filter(district=district)
        summonses = summonses.filter(case__district=district)
    found = set(cases.values_list("pk", flat=True))
    found |= set(summonses.values_list("case_id", flat=True))
    return sorted(found)


def recompute_assumed_deadlines(
    *,
    years: Iterable[int] | None = None,
    district: Jurisdiction | None = None,
    trigger: str,
    by: str = "",
    now: datetime | None = None,
) -> RecomputeSummary:
    """Compute again every open deadline that was computed on an assumed calendar of one of
    `years` (all of them when None) in `district` (every district when None).

    One transaction per case, with the case locked; each case whose deadlines changed (or
    are no longer assumed) gets one `case.deadlines_recomputed` event with the old and new
    values, written by the system on behalf of `by`; the departments whose deadlines moved,
    and the township's dispatchers for the case's own deadline, are told. Deadlines already
    met, recorded overdue, or of closed cases and summonses stay as they were. Running it
    again changes nothing (idempotent).
    """
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}")
    now = moment(now)
    wanted = set(years) if years is not None else None
    summary = RecomputeSummary(years=sorted(wanted) if wanted is not None else [])
    for case_id in _marked_cases(district):
        try:
            _recompute_case(case_id, wanted, trigger, by, now, summary)
        except CalendarError as exc:
            # The calendar cannot give this deadline (e.g. no working day for a year): it
            # stays as it was, marked, and is named for the person who entered the calendar.
            logger.warning("deadlines of case %s not recomputed: %s", case_id, exc)
            reference = Case.objects.filter(pk=case_id).values_list("reference", flat=True).first()
            summary.failed.append(reference or str(case_id))
    return summary


def on_calendar_entered(
    *,
    years: list[int] | None,
    district: Jurisdiction | None,
    trigger: str,
    by: str = "",
    **kwargs: Any,
) -> str:
    """Receiver of `calendar_entered` (connected in the cases app's ready())."""
    return recompute_assumed_deadlines(
        years=years, district=district, trigger=trigger, by=by
    ).describe()
