"""What if: a past period's assessment replayed under a proposal, written nowhere.

A proposal is another scheme (other weights, another township share, other deductions for
lateness; `proposed_scheme`) and/or another arrival limit (20 minutes instead of the limit
each summons was given). `what_if` reads the trails of the period once and scores them
twice with the engine's own arithmetic, in memory: as the schemes in force say ("now") and
with the proposal in force in every month of the period that a scheme scored. Nothing is
saved: the proposed scheme has no row, and records, cells and scores are never written
(tests/test_what_if.py counts the statements).

An arrival limit is replayed by giving each whistled summons the deadline "summoned at +
the limit" in place of the one its summons event recorded; the time the case spent on the
backlog still does not count (`whistle.cases.pauses`). Only the arrival moves: a sweep's
arrival-overdue event still says the department never came.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from whistle.assessment.engine import (
    CellKey,
    CellTotals,
    ResultRow,
    SchemeBook,
    add_to_cells,
    compute_records,
    compute_results,
    own_components,
    scheme_components,
    trail_events,
)
from whistle.assessment.late_bands import bands_in_words
from whistle.assessment.models import Scheme, SchemeComponent
from whistle.assessment.periods import BEIJING, Period
from whistle.assessment.scoring import TrailEvent
from whistle.cases.models import Case, Summons
from whistle.cases.trail import EventKind
from whistle.organisation.models import Department, Jurisdiction

# The settings of a scheme a proposal may change (all but its identity and its start).
SETTINGS = tuple(
    f.name
    for f in Scheme._meta.concrete_fields
    if f.name not in ("id", "district", "name", "name_en", "valid_from", "created_at")
)

# What a record says that a proposal may change.
RECORD_OUTCOME = ("came", "late_minutes", "came_score", "acted_score", "quality_score", "total")


def proposed_scheme(
    base: Scheme,
    changes: dict[str, Any],
    components: Iterable[dict[str, Any]] | None = None,
    name: str = "",
) -> Scheme:
    """An unsaved scheme of the base's district: the base's settings with `changes`, and
    the components (code, name, weight) given, else the base's. Checked as a new version
    is (field by field, weights, bands, shares adding up to 1); raises ValidationError."""
    unknown = sorted(set(changes) - set(SETTINGS))
    if unknown:
        raise ValidationError(
            _("A scheme has no setting %(names)s") % {"names": ", ".join(unknown)}
        )
    values = {name: getattr(base, name) for name in SETTINGS} | changes
    scheme = Scheme(district_id=base.district_id, name=name or _("Proposal"), **values)
    scheme.full_clean(exclude=["district", "valid_from"])
    if components is None:
        rows = [
            SchemeComponent(code=c.code, name=c.name, name_en=c.name_en, weight=c.weight)
            for c in own_components(base)
        ]
    else:
        rows = [SchemeComponent(**item) for item in components]
    codes: set[str] = set()
    for row in rows:
        if row.code in codes:
            raise ValidationError(
                _("The component code %(code)s is used twice") % {"code": row.code}
            )
        codes.add(row.code)
        row.full_clean(exclude=["scheme"])
    scheme.check_shares(row.weight for row in rows)
    # Never saved, so it has no rows of its own: the engine reads these instead.
    scheme.proposed_components = rows  # type: ignore[attr-defined]
    return scheme


@dataclass(frozen=True)
class Proposal:
    scheme: Scheme | None = None
    # Minutes from the summons to the arrival deadline, for every whistled summons.
    arrive_within: int | None = None

    def __post_init__(self) -> None:
        if self.arrive_within is not None and not 1 <= self.arrive_within <= 24 * 60:
            raise ValidationError(_("An arrival limit lies between 1 minute and 24 hours"))


class ProposedBook(SchemeBook):
    """The schemes as stored, except that the proposal is in force in the given months."""

    def __init__(self, district_id: int, months: Iterable[date], scheme: Scheme) -> None:
        super().__init__()
        self.district_id = district_id
        self.months = set(months)
        self.scheme = scheme

    def in_force(self, district_id: int, month: date) -> Scheme | None:
        if district_id == self.district_id and month in self.months:
            return self.scheme
        return super().in_force(district_id, month)


@dataclass(frozen=True)
class RecordChange:
    """One summons whose record the proposal scores differently."""

    summons_id: int
    case_id: int
    reference: str
    township: str
    summoned_at: datetime
    now: dict[str, Any]
    proposed: dict[str, Any]

    @property
    def came_changed(self) -> bool:
        return (self.now["came"], self.now["late_minutes"]) != (
            self.proposed["came"],
            self.proposed["late_minutes"],
        )


@dataclass
class Comparison:
    """One department's score and rank now and under the proposal."""

    department: Department
    now: ResultRow | None
    proposed: ResultRow | None
    changes: list[RecordChange] = field(default_factory=list)

    @property
    def rank_now(self) -> int | None:
        return self.now.rank if self.now else None

    @property
    def rank_proposed(self) -> int | None:
        return self.proposed.rank if self.proposed else None

    @property
    def places(self) -> int | None:
        """Places gained (positive) or lost (negative); None when either has no rank."""
        if self.rank_now is None or self.rank_proposed is None:
            return None
        return self.rank_now - self.rank_proposed

    @property
    def moved(self) -> bool:
        return self.rank_now != self.rank_proposed

    def why(self) -> list[str]:
        """Why its score or rank moves, in words, from the biggest cause to the smallest."""
        reasons = []
        now_township = self.now.township_score if self.now else None
        new_township = self.proposed.township_score if self.proposed else None
        if self.changes:
            reasons.append(
                ngettext(
                    "%(count)d summons judged differently",
                    "%(count)d summonses judged differently",
                    len(self.changes),
                )
                % {"count": len(self.changes)}
            )
            later = sum(1 for c in self.changes if _later(c))
            if later:
                reasons.append(
                    ngettext(
                        "%(count)d arrival counts as later",
                        "%(count)d arrivals count as later",
                        later,
                    )
                    % {"count": later}
                )
        if now_township != new_township:
            reasons.append(
                _("township evaluation %(now)s → %(proposed)s")
                % {"now": _shown(now_township), "proposed": _shown(new_township)}
            )
        now_total = self.now.total if self.now else None
        new_total = self.proposed.total if self.proposed else None
        if now_township == new_township and now_total != new_total:
            reasons.append(_("same township evaluation, weighed by the proposed shares"))
        if now_total == new_total and self.moved:
            reasons.append(_("same total; others moved past it or fell behind it"))
        return reasons


@dataclass
class WhatIf:
    district: Jurisdiction
    period: Period
    proposal: Proposal
    # The latest scheme in force in the period (what the proposal is compared with).
    base: Scheme | None
    # (setting, now, proposed) for each setting the proposal changes.
    differences: list[tuple[str, str, str]]
    rows: list[Comparison]
    # Months of the period no scheme was in force in: scored neither now nor by the proposal.
    unscored_months: list[date]
    records: int

    @property
    def moved(self) -> list[Comparison]:
        return [row for row in self.rows if row.moved]

    @property
    def changed_records(self) -> int:
        return sum(len(row.changes) for row in self.rows)


def what_if(district: Jurisdiction, period: Period, proposal: Proposal) -> WhatIf:
    """The district's departments in the period, scored now and under the proposal."""
    book = SchemeBook()
    scored = [m for m in period.months() if book.in_force(district.pk, m) is not None]
    case_ids = period_case_ids(district, period)
    events = trail_events(case_ids)
    now = _in_district(compute_records(case_ids, book, events), district, period)
    proposed_book = (
        ProposedBook(district.pk, scored, proposal.scheme) if proposal.scheme is not None else book
    )
    replayed = (
        with_arrival_limit(events, proposal.arrive_within)
        if proposal.arrive_within is not None
        else events
    )
    proposed = _in_district(compute_records(case_ids, proposed_book, replayed), district, period)
    now_rows = {r.department_id: r for r in compute_results(district.pk, period, book, _cells(now))}
    new_rows = {
        r.department_id: r
        for r in compute_results(district.pk, period, proposed_book, _cells(proposed))
    }
    changes = _record_changes(now, proposed)
    departments = Department.objects.in_bulk(set(now_rows) | set(new_rows))
    rows = [
        Comparison(
            department=departments[pk],
            now=now_rows.get(pk),
            proposed=new_rows.get(pk),
            changes=changes.get(pk, []),
        )
        for pk in departments
    ]
    rows.sort(key=_order)
    base = book.in_force(district.pk, scored[-1]) if scored else None
    return WhatIf(
        district=district,
        period=period,
        proposal=proposal,
        base=base,
        differences=differences(base, proposal),
        rows=rows,
        unscored_months=[m for m in period.months() if m not in scored],
        records=sum(1 for v in now.values() if v["settled"]),
    )


def period_case_ids(district: Jurisdiction, period: Period) -> list[int]:
    """The cases with a summons of the district's departments in the period (Beijing
    months)."""
    first = period.first_month
    last = period.last_month
    start = datetime(first.year, first.month, 1, tzinfo=BEIJING)
    end = datetime(last.year + last.month // 12, last.month % 12 + 1, 1, tzinfo=BEIJING)
    return list(
        Summons.objects.filter(
            department__district=district, summoned_at__gte=start, summoned_at__lt=end
        )
        .values_list("case_id", flat=True)
        .distinct()
        .order_by("case_id")
    )


def with_arrival_limit(
    events: dict[int, list[TrailEvent]], minutes: int
) -> dict[int, list[TrailEvent]]:
    """The trails with each whistled summons due `minutes` after it was summoned."""
    limit = timedelta(minutes=minutes)

    def replayed(trail: list[TrailEvent]) -> Iterator[TrailEvent]:
        for event in trail:
            if event.kind == EventKind.SUMMONED and event.data.get("arrive_due_at"):
                due = (event.at + limit).isoformat()
                yield replace(event, data={**event.data, "arrive_due_at": due})
            else:
                yield event

    return {case_id: list(replayed(trail)) for case_id, trail in events.items()}


def differences(base: Scheme | None, proposal: Proposal) -> list[tuple[str, str, str]]:
    """Each setting the proposal changes: its name, its value now, and proposed."""
    found: list[tuple[str, str, str]] = []
    if proposal.scheme is not None:
        for name in SETTINGS:
            setting = Scheme._meta.get_field(name)
            old = getattr(base, name) if base is not None else None
            new = getattr(proposal.scheme, name)
            if old != new:
                found.append(
                    (
                        str(getattr(setting, "verbose_name", name)),
                        *_shown_setting(setting, old, new),
                    )
                )
        old_parts = _components(base)
        new_parts = _components(proposal.scheme)
        if old_parts != new_parts:
            found.append((_("other components"), old_parts or "—", new_parts or "—"))
    if proposal.arrive_within is not None:
        found.append(
            (
                _("arrival limit"),
                _("as each summons was given"),
                ngettext("%(count)d minute", "%(count)d minutes", proposal.arrive_within)
                % {"count": proposal.arrive_within},
            )
        )
    return found


def _shown_setting(setting: Any, old: Any, new: Any) -> tuple[str, str]:
    """A setting's values now and proposed in words: a choice by its label, the late bands
    as sentences."""
    if setting.name == "late_bands":
        return bands_in_words(old), bands_in_words(new)
    labels = dict(getattr(setting, "flatchoices", []))
    return _text(labels.get(old, old)), _text(labels.get(new, new))


def _components(scheme: Scheme | None) -> str:
    if scheme is None:
        return ""
    return _(", ").join(f"{c.display_name} ({c.weight})" for c in scheme_components(scheme))


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def _shown(value: Decimal | None) -> str:
    return "—" if value is None else str(value)


def _later(change: RecordChange) -> bool:
    now = change.now["late_minutes"] or 0
    proposed = change.proposed["late_minutes"] or 0
    order = {"on_time": 0, "late": 1, "no_show": 2}
    return (order.get(change.proposed["came"], 0), proposed) > (
        order.get(change.now["came"], 0),
        now,
    )


def _in_district(
    records: dict[int, dict[str, Any]], district: Jurisdiction, period: Period
) -> dict[int, dict[str, Any]]:
    months = set(period.months())
    return {
        pk: values
        for pk, values in records.items()
        if values["district_id"] == district.pk and values["month"] in months
    }


def _cells(records: dict[int, dict[str, Any]]) -> dict[CellKey, CellTotals]:
    cells: dict[CellKey, CellTotals] = {}
    for values in records.values():
        add_to_cells(cells, values)
    return cells


def _record_changes(
    now: dict[int, dict[str, Any]], proposed: dict[int, dict[str, Any]]
) -> dict[int, list[RecordChange]]:
    """The settled records the proposal scores differently (an unsettled one counts in
    neither), by department."""
    changed = [
        pk
        for pk in sorted(now)
        if now[pk]["settled"]
        and pk in proposed
        and any(now[pk][name] != proposed[pk][name] for name in RECORD_OUTCOME)
    ]
    references = dict(
        Case.objects.filter(pk__in={now[pk]["case_id"] for pk in changed}).values_list(
            "pk", "reference"
        )
    )
    townships = {
        place.pk: place.display_name
        for place in Jurisdiction.objects.filter(
            pk__in={now[pk]["township_id"] for pk in changed}
        ).only("name", "name_en")
    }
    summoned = dict(Summons.objects.filter(pk__in=changed).values_list("pk", "summoned_at"))
    found: dict[int, list[RecordChange]] = {}
    for pk in changed:
        values = now[pk]
        found.setdefault(values["department_id"], []).append(
            RecordChange(
                summons_id=pk,
                case_id=values["case_id"],
                reference=references[values["case_id"]],
                township=townships[values["township_id"]],
                summoned_at=summoned[pk],
                now={name: values[name] for name in RECORD_OUTCOME},
                proposed={name: proposed[pk][name] for name in RECORD_OUTCOME},
            )
        )
    for items in found.values():
        items.sort(key=lambda c: (c.summoned_at, c.summons_id))
    return found


def _order(row: Comparison) -> tuple[Any, ...]:
    """Ranked under the proposal first, by rank; then the others by department code."""
    rank = row.rank_proposed
    return (rank is None, rank or 0, row.department.code)
