"""Open deadlines in working time move when a district's calendar changes.

A deadline in working hours or working days is computed when it is set and stored as a
moment (`Case.resolve_due_at`, a summons' `*_due_at`), with what it was computed from in
`deadline_basis`. A holiday entered (or removed) afterwards leaves the moment as it was.
`calendar_moves` lists the open deadlines that the calendar as it now stands would put
elsewhere; `move_case_deadlines` moves those of one case, in one transaction with its trail
event; `move_deadlines_to_calendar` does it for every case of one or more districts.

Which move (docs/calendar.md, "A calendar changed under open deadlines"): a deadline still
to come, of an open case or of an obligation of an open summons that is neither met nor
recorded overdue, whose new moment is still to come as well. A deadline moves both ways: later
when a rest day is entered, earlier when one is removed or a working day entered; a deadline
that would move to a moment already past stays as it was (a change of the calendar never
makes an obligation overdue at once). Deadlines in natural time never depend on the calendar.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core import signing
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from whistle.cases.actions._common import (
    assumed_calendar_data,
    atomic,
    compute_again,
    department_people,
    iso,
    local_text,
    moment,
    people_with_role,
    set_deadline,
    set_next_check,
)
from whistle.cases.actions.calendar import (
    open_case_deadline,
    open_summons_deadlines,
    record_recomputed,
)
from whistle.cases.models import Case, Summons
from whistle.cases.trail import lock_case
from whistle.organisation.models import Jurisdiction, Person, Role
from whistle.policies.calendar import (
    CalendarError,
    ComputedDeadline,
    describe_calendar_change,
    join_sentences,
)

logger = logging.getLogger("whistle.calendar")

TRIGGERS = ("admin", "command")


@dataclass(frozen=True)
class Move:
    """One open deadline that the calendar as it now stands puts elsewhere."""

    case_id: int
    reference: str
    # The summons whose deadline it is; None for the case's own resolve deadline.
    summons: Summons | None
    field: str
    now: datetime
    would_be: datetime
    # The new moment has already passed: the deadline stays as it is.
    kept: bool = False

    @property
    def later(self) -> bool:
        return self.would_be > self.now


def _computed(
    row: Case | Summons, name: str, district: Jurisdiction | None
) -> tuple[ComputedDeadline, timedelta] | None:
    basis = (row.deadline_basis or {}).get(name)
    return None if basis is None else compute_again(basis, district)


def _moves_of(case: Case, summonses: Iterable[Summons], at: datetime) -> list[Move]:
    """The deadlines of `case` and its open `summonses` that would move, at `at`."""
    rows: list[tuple[Case | Summons, str]] = []
    if open_case_deadline(case):
        rows.append((case, "resolve_due_at"))
    for summons in summonses:
        rows += [(summons, name) for name in sorted(open_summons_deadlines(summons))]
    found = []
    for row, name in rows:
        stored = getattr(row, name)
        if stored is None or stored <= at:
            continue  # passed: the sweep judges it as it stands
        result = _computed(row, name, case.district)
        if result is None:
            continue
        computed, shift = result
        would_be = computed.at + shift
        if would_be == stored:
            continue
        found.append(
            Move(
                case_id=case.pk,
                reference=case.reference,
                summons=row if isinstance(row, Summons) else None,
                field=name,
                now=stored,
                would_be=would_be,
                kept=would_be <= at,
            )
        )
    return found


def _open_summonses(summonses: Any) -> Any:
    """The open summonses with a deadline in working time, of a case's `summonses`."""
    return (
        summonses.select_related("department")
        .filter(status__in=Summons.OPEN_STATUSES)
        .exclude(deadline_basis={})
        .order_by("pk")
    )


def _cases(districts: Sequence[Jurisdiction] | None) -> Any:
    """Open cases with a deadline in working time of their own or of an open summons, each
    with those summonses (`open_summonses`)."""
    summonses = _open_summonses(Summons.objects.all())
    cases = Case.objects.filter(status__in=Case.OPEN_STATUSES).filter(
        ~Q(deadline_basis={}) | Q(pk__in=summonses.values("case_id"))
    )
    if districts is not None:
        cases = cases.filter(district__in=list(districts))
    return (
        cases.select_related("district")
        .prefetch_related(Prefetch("summonses", queryset=summonses, to_attr="open_summonses"))
        .order_by("pk")
    )


def calendar_moves(
    districts: Sequence[Jurisdiction] | None, *, now: datetime | None = None
) -> list[Move]:
    """Every open deadline in working time of `districts` (None: every district) that the
    calendar as it now stands puts elsewhere, by case; those that would already have passed
    are listed as kept."""
    at = moment(now)
    found: list[Move] = []
    for case in _cases(districts):
        try:
            found += _moves_of(case, case.open_summonses, at)
        except CalendarError as exc:
            logger.warning("deadlines of case %s not computed again: %s", case.reference, exc)
    return found


def move_case_deadlines(
    case_id: int,
    *,
    changes: list[dict[str, Any]],
    trigger: str,
    by: str = "",
    now: datetime | None = None,
) -> list[Move]:
    """Move the open deadlines of one case to where the calendar as it now stands puts them.

    In one transaction, with the case locked: each deadline is computed again from what it
    was computed from (`set_deadline`), a summons' next check follows (the sweep sees the new
    deadline), and one `case.deadlines_recomputed` event records the old and new values with
    the calendar change behind them (`changes`, as `calendar_change` gives them; empty when
    not known). The departments whose deadlines moved, and the township's dispatchers for the
    case's own, are told. Returns the deadlines moved; none when nothing is to move (running
    it again moves nothing).
    """
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}")
    at = moment(now)
    with atomic():
        case = lock_case(case_id)
        summonses = list(_open_summonses(case.summonses).select_for_update(of=("self",)))
        moves = [m for m in _moves_of(case, summonses, at) if not m.kept]
        if not moves:
            return []
        data: dict[str, Any] = {"trigger": trigger, "by": by, "calendar_change": changes}
        concerned: list[Person] = []
        rounds: dict[int, dict[str, Any]] = {}
        moved_summonses: dict[int, Summons] = {}
        for move in moves:
            row: Case | Summons = move.summons if move.summons is not None else case
            result = _computed(row, move.field, case.district)
            assert result is not None  # a move is only found for a deadline with a basis
            set_deadline(row, move.field, result[0], shift=result[1])
            pair = [iso(move.now), iso(move.would_be)]
            if move.summons is None:
                data["changes"] = {move.field: pair}
            else:
                entry = rounds.setdefault(
                    move.summons.pk,
                    {
                        "summons": str(move.summons.uuid),
                        "department": move.summons.department.code,
                    },
                )
                entry[move.field] = pair
                moved_summonses[move.summons.pk] = move.summons
        if "changes" in data:
            case.save(update_fields=["resolve_due_at", "assumed_calendar", "deadline_basis"])
            data.update(assumed_calendar_data(case, "resolve_due_at"))
            concerned += people_with_role(Role.DISPATCHER, case.township)
        for pk, summons in moved_summonses.items():
            summons.case = case
            moved = [name for name in rounds[pk] if name.endswith("_due_at")]
            set_next_check(summons, at)
            summons.save(
                update_fields=[*moved, "assumed_calendar", "deadline_basis", "next_check_at"]
            )
            rounds[pk].update(assumed_calendar_data(summons, *moved))
            concerned += department_people(summons.department, case.township)
        data["summonses"] = list(rounds.values())
        record_recomputed(
            case,
            data,
            list(moved_summonses.values()),
            concerned,
            at,
            gettext_lazy(
                "The working calendar changed, and deadlines of case %(case)s moved with it. "
                "See the case page for the new ones."
            ),
        )
    return moves


@dataclass
class MoveSummary:
    """What moving the deadlines of one or more districts did."""

    cases: int = 0
    moved: int = 0
    failed: list[str] = field(default_factory=list)

    def describe(self) -> str:
        sentences = [
            ngettext(
                "%(moved)s open deadline moved to the calendar as it now stands, on %(cases)s "
                "cases.",
                "%(moved)s open deadlines moved to the calendar as it now stands, on "
                "%(cases)s cases.",
                self.moved,
            )
            % {"moved": self.moved, "cases": self.cases}
        ]
        if self.failed:
            sentences.append(
                _("Could not be computed: %(cases)s.") % {"cases": _(", ").join(self.failed)}
            )
        return join_sentences(*sentences)


def move_deadlines_to_calendar(
    districts: Sequence[Jurisdiction] | None,
    *,
    changes: list[dict[str, Any]],
    trigger: str,
    by: str = "",
    now: datetime | None = None,
) -> MoveSummary:
    """`move_case_deadlines` for every open case of `districts` (None: every district)."""
    at = moment(now)
    summary = MoveSummary()
    for case_id in sorted({m.case_id for m in calendar_moves(districts, now=at) if not m.kept}):
        try:
            moved = move_case_deadlines(case_id, changes=changes, trigger=trigger, by=by, now=at)
        except CalendarError as exc:
            logger.warning("deadlines of case %s not moved: %s", case_id, exc)
            reference = Case.objects.filter(pk=case_id).values_list("reference", flat=True).first()
            summary.failed.append(reference or str(case_id))
            continue
        if moved:
            summary.cases += 1
            summary.moved += len(moved)
    return summary


def moves_count_text(moves: Sequence[Move]) -> str:
    """How many open deadlines would move, and how many stay because they would have
    passed."""
    moving = sum(1 for m in moves if not m.kept)
    kept = len(moves) - moving
    cases = len({m.case_id for m in moves if not m.kept})
    sentences = [
        ngettext(
            "%(count)s open deadline in working time would move with the calendar as it now "
            "stands (%(cases)s cases).",
            "%(count)s open deadlines in working time would move with the calendar as it now "
            "stands (%(cases)s cases).",
            moving,
        )
        % {"count": moving, "cases": cases}
        if moving
        else _("No open deadline in working time moves with the calendar as it now stands.")
    ]
    if kept:
        sentences.append(
            ngettext(
                "%(count)s would move to a moment already past and stays as it is.",
                "%(count)s would move to a moment already past and stay as they are.",
                kept,
            )
            % {"count": kept}
        )
    return join_sentences(*sentences)


def describe_changes(changes: Sequence[dict[str, Any]]) -> str:
    return describe_calendar_change(changes) if changes else _("the calendar as it now stands")


def move_label(move: Move) -> str:
    """Which deadline, in the reader's language: "resolve by (the case)", or the
    department's name and the obligation."""
    model = Case if move.summons is None else Summons
    deadline = getattr(model._meta.get_field(move.field), "verbose_name", move.field)
    if move.summons is None:
        return _("%(deadline)s (the case)") % {"deadline": deadline}
    return f"{move.summons.department.display_name} · {deadline}"


def move_line(move: Move) -> str:
    line = _("%(case)s · %(deadline)s: %(now)s → %(would_be)s") % {
        "case": move.reference,
        "deadline": move_label(move),
        "now": local_text(move.now),
        "would_be": local_text(move.would_be),
    }
    if move.kept:
        line = join_sentences(line, _("Stays: the new moment has already passed."))
    return line


# The calendar change carried from the admin's message to the page that lists the moves.
CHANGES_SALT = "whistle.cases.calendar_moves"


def sign_changes(changes: list[dict[str, Any]]) -> str:
    return signing.dumps(changes, salt=CHANGES_SALT, compress=True)


def read_changes(token: str) -> list[dict[str, Any]]:
    """The calendar change a signed token names; none for a missing or altered one."""
    try:
        changes = signing.loads(token, salt=CHANGES_SALT)
    except signing.BadSignature:
        return []
    return [c for c in changes if isinstance(c, dict)] if isinstance(changes, list) else []


def on_calendar_changed(
    *,
    district: Jurisdiction | None,
    trigger: str,
    changes: list[dict[str, Any]] | None = None,
    **kwargs: Any,
) -> str | None:
    """Receiver of `calendar_entered`: after calendar days were entered, changed or removed
    in the admin or imported, how many open deadlines in working time would move, with
    the way to list and move them."""
    if trigger == "import":
        moves = calendar_moves([district] if district is not None else None)
        text = moves_count_text(moves)
        if any(not m.kept for m in moves):
            text = join_sentences(
                text,
                _("List them with `whistle calendar deadlines`, move them with `--move`."),
            )
        return text
    if trigger != "admin" or not changes:
        return None
    moves = calendar_moves([district] if district is not None else None)
    query = {"changes": sign_changes(changes)}
    if district is not None:
        query["district"] = district.code
    url = reverse("admin:cases_case_calendar_moves") + "?" + urlencode(query)
    return format_html(
        '{} <a href="{}">{}</a>',
        moves_count_text(moves),
        url,
        _("List them and move them") if moves else _("List"),
    )


def on_calendar_moves_asked(
    *, districts: list[Jurisdiction] | None, move: bool, by: str = "", **kwargs: Any
) -> list[str]:
    """Receiver of `calendar_moves_asked` (`whistle calendar deadlines [--move]`)."""
    moves = calendar_moves(districts)
    lines = [move_line(m) for m in moves]
    if not move:
        return [*lines, moves_count_text(moves)]
    summary = move_deadlines_to_calendar(districts, changes=[], trigger="command", by=by)
    return [*lines, summary.describe()]
