"""What the desk pages list, in a fixed number of queries whatever the number of rows.

`township_board` is the live part of the command centre (polled every 5 seconds);
`township_queues` the first page of each work list under it (`TownshipQueues` any page);
`department_desk` a department's summonses.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case as Cond
from django.db.models import Count, F, Prefetch, Q, QuerySet, When, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext

from whistle.cases.deadlines import is_paused, obligations
from whistle.cases.models import Case, Summons, SupervisionNotice, Whistle
from whistle.cases.permissions import CASE_RESOLVED, may_leave
from whistle.cases.rules import district_policy
from whistle.cases.scoping import visible_cases
from whistle.cases.worklists import (
    ON_HAND,
    Deadline,
    WorkItem,
    in_order,
    on_hand,
    summons_deadline,
)
from whistle.duty.models import Roster
from whistle.duty.schedule import OnDuty, board, township_rosters
from whistle.organisation import geo
from whistle.organisation.models import Department, Jurisdiction

CS = Case.Status
SS = Summons.Status
FLAG_PENDING = Summons.CheckInFlag.PENDING

# The order of the board's groups: from just in to nearly done.
BOARD_ORDER = (
    CS.REPORTED,
    CS.FILED,
    CS.DISPATCHED,
    CS.WHISTLED,
    CS.HANDLED,
    CS.CHECKED,
    CS.BACKLOG,
)
BOARD_LIMIT = 200
# Cases of each state the board lists, besides those a department works on (dispatched and
# whistled: their deadlines run, and the overdue count reads them); how many each state holds
# is said in its heading, and on the command centre how many more under it, with a link to
# its queue.
BOARD_GROUP_LIMIT = 10
BOARD_UNCAPPED = (CS.DISPATCHED, CS.WHISTLED)
# The command centre's queue where a state's cases are worked on.
STATUS_QUEUE: dict[str, str] = {
    CS.REPORTED: "reported",
    CS.FILED: "filed",
    CS.DISPATCHED: "at_work",
    CS.WHISTLED: "at_work",
    CS.HANDLED: "to_check",
    CS.CHECKED: "to_close",
    CS.BACKLOG: "backlog",
}
# Rows of each queue on one page of the command centre: the rest a click away.
QUEUE_PAGE = 20
PAST_LIMIT = 30
# What the lists show of a case's lane and jurisdictions is their names: their shapes
# (GeoJSON, kilobytes each, decoded row by row) stay in the database.
LANE_SHAPES = ("lane__centre_line", "lane__checklist")
SHAPES = (*LANE_SHAPES, "township__boundary", "district__boundary")


def case_deadline(case: Case, now: datetime) -> Deadline | None:
    """The nearest deadline of an open case: its summonses' while departments owe
    something, else its own time limit to resolve."""
    found = [d for s in case.summonses.all() if (d := summons_deadline(s, now)) is not None]
    if found:
        return min(found, key=lambda d: d.due_at)
    if case.resolve_due_at is not None and case.status in (CS.FILED, CS.DISPATCHED, CS.WHISTLED):
        return Deadline("resolve", case.resolve_due_at, case.resolve_due_at < now)
    return None


def _summonses_prefetch() -> Prefetch:
    return Prefetch(
        "summonses",
        queryset=Summons.objects.select_related("department", "whistle").order_by(
            "summoned_at", "pk"
        ),
    )


def _township_cases(person: Any, township: Jurisdiction) -> QuerySet[Case]:
    return visible_cases(person).filter(township=township)


# The live board ----------------------------------------------------------------------------


@dataclass
class BoardCase:
    case: Case
    deadline: Deadline | None
    summonses: list[tuple[Summons, Deadline | None]]


def by_urgency(items: list[BoardCase]) -> list[BoardCase]:
    """The most urgent first: running deadlines by when they fall due (so the longest overdue
    lead), then the cases without one or whose deadline is paused, in the order given."""

    def key(item: BoardCase) -> tuple[int, float]:
        d = item.deadline
        return (0, d.due_at.timestamp()) if d is not None and not d.paused else (1, 0.0)

    return sorted(items, key=key)


@dataclass
class BoardGroup:
    status: str
    label: str
    cases: list[BoardCase]
    more: int = 0  # cases in this state not listed

    @property
    def count(self) -> int:
        """How many open cases the state holds, listed or not."""
        return len(self.cases) + self.more

    @property
    def queue(self) -> str:
        return STATUS_QUEUE[self.status]


@dataclass
class Board:
    township: Jurisdiction
    at: datetime
    groups: list[BoardGroup]
    whistles: list[BoardCase]
    counts: dict[str, int]
    overdue_summonses: int
    more: int
    # Flagged check-ins awaiting the township's decision, oldest first.
    flagged: list[Summons] = field(default_factory=list)
    # Who is on duty now and next: the command centre and each enforcement centre member.
    duty: list[OnDuty] = field(default_factory=list)

    @property
    def reported(self) -> int:
        return self.counts.get(CS.REPORTED, 0)

    @property
    def whistled(self) -> int:
        return self.counts.get(CS.WHISTLED, 0)

    @property
    def to_check(self) -> int:
        return self.counts.get(CS.HANDLED, 0) + self.counts.get(CS.CHECKED, 0)


def flagged_check_ins(person: Any, township: Jurisdiction) -> list[Summons]:
    """Summonses of the township's cases whose check-in awaits the township's decision,
    whatever the state of the case, oldest first."""
    return list(
        Summons.objects.filter(
            case__in=_township_cases(person, township).values("pk"),
            check_in_flag=FLAG_PENDING,
        )
        .select_related("case", "department")
        .order_by("arrived_at", "pk")[:BOARD_LIMIT]
    )


def township_board(person: Any, township: Jurisdiction, now: datetime) -> Board:
    """Open cases of the township by state (the first `BOARD_GROUP_LIMIT` of each state
    but dispatched and whistled), the whistles sounding with each department's next
    deadline, the check-ins awaiting a decision, and the counts. Each state and the
    whistles list the most urgent first (`by_urgency`); a capped state keeps its nearest
    deadlines (filed cases: their time limit to resolve), then its oldest cases."""
    cases = _township_cases(person, township).filter(status__in=Case.OPEN_STATUSES)
    counts = dict(
        cases.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    # Of the capped states only a filed case has a deadline of its own (a state before it has
    # none, the states after it owe nothing more, a paused one waits on the backlog).
    due = Cond(When(status=CS.FILED, then=F("resolve_due_at")))
    place = Window(
        RowNumber(),
        partition_by=[F("status")],
        order_by=[due.asc(nulls_last=True), F("reported_at").asc(), F("pk").asc()],
    )
    rows = list(
        cases.annotate(place=place)
        .filter(Q(place__lte=BOARD_GROUP_LIMIT) | Q(status__in=BOARD_UNCAPPED))
        .select_related("category", "lane")
        .defer(*LANE_SHAPES)
        .prefetch_related(_summonses_prefetch())
        .order_by("reported_at", "pk")[:BOARD_LIMIT]
    )
    by_status: dict[str, list[BoardCase]] = defaultdict(list)
    overdue = 0
    for case in rows:
        summonses = [(s, summons_deadline(s, now)) for s in case.summonses.all()]
        overdue += sum(1 for _s, d in summonses if d is not None and d.overdue)
        by_status[case.status].append(BoardCase(case, case_deadline(case, now), summonses))
    groups = [
        BoardGroup(
            status.value,
            str(status.label),
            by_urgency(by_status[status.value]),
            more=max(counts.get(status.value, 0) - len(by_status[status.value]), 0),
        )
        for status in BOARD_ORDER
        if by_status.get(status.value)
    ]
    shown = [g for g in groups if g.status != CS.WHISTLED]
    return Board(
        township=township,
        at=now,
        groups=shown,
        whistles=by_urgency(by_status.get(CS.WHISTLED, [])),
        counts=counts,
        overdue_summonses=overdue,
        # Beyond what each state says it leaves out: what the board's own limit cut.
        more=max(sum(counts.values()) - len(rows) - sum(g.more for g in shown), 0),
        flagged=flagged_check_ins(person, township),
        duty=board(township_rosters(township), now),
    )


def departments_duty(department_ids: Sequence[int], now: datetime) -> list[OnDuty]:
    """Who is on duty now and next for each of the departments: its own roster and its
    rosters in townships' enforcement centres.

    A department whose enforcement-centre rosters cover every township it serves (a
    township's own team) has one duty, not two: its own roster only answers a summons when
    nobody stands in the centre (`whistle.duty.schedule.duty_for`), so the centre's line
    says who is on duty now — the centre's person, else the own roster's — and the own
    roster has no line of its own."""
    rosters = list(
        Roster.objects.filter(department_id__in=sorted(department_ids))
        .select_related("department", "township")
        # The department's own roster (no township) first, on every database: SQLite puts
        # nulls first and PostgreSQL last unless told.
        .order_by("department__name", F("township__code").asc(nulls_first=True), "pk")
    )
    duty = board(rosters, now)
    covered = _covered_by_centres(rosters)
    if not covered:
        return duty
    own = {d.roster.department_id: d for d in duty if d.roster.township_id is None}
    lines = []
    for d in duty:
        department = d.roster.department_id
        if department not in covered:
            lines.append(d)
        elif d.roster.township_id is not None:
            lines.append(_answering(d, own[department]))
    return lines


def _covered_by_centres(rosters: list[Roster]) -> set[int]:
    """The departments with an own roster whose centre rosters cover every township they
    serve (a department serving a district, or its whole district, is never covered)."""
    own = {r.department_id for r in rosters if r.township_id is None}
    centres: dict[int, set[int]] = defaultdict(set)
    for r in rosters:
        if r.township_id is not None and r.department_id is not None and r.department_id in own:
            centres[r.department_id].add(r.township_id)
    if not centres:
        return set()
    served: dict[int, set[int]] = defaultdict(set)
    wide: set[int] = set()
    links = Department.serves.through.objects.filter(department_id__in=sorted(centres))
    for department, place, level in links.values_list(
        "department_id", "jurisdiction_id", "jurisdiction__level"
    ):
        if level == Jurisdiction.Level.TOWNSHIP:
            served[department].add(place)
        else:
            wide.add(department)
    return {
        department
        for department, townships in centres.items()
        if department not in wide and served[department] and served[department] <= townships
    }


def _answering(centre: OnDuty, own: OnDuty) -> OnDuty:
    """The centre's line of a department whose own roster stands behind it: the centre's
    person while someone stands there, else the own roster's."""
    if centre.now is not None and centre.now.person is not None:
        return centre
    following = centre.next if centre.next is not None and centre.next.person else own.next
    return OnDuty(roster=centre.roster, now=own.now, next=following)


# The work queues -----------------------------------------------------------------------------


def duplicates_for(
    cases: Sequence[Case], *, limit: int = 10
) -> dict[int, list[tuple[Case, float]]]:
    """`whistle.cases.suggest.possible_duplicates` for many reported cases of one township
    at once: the same rules (same category when the case has one, same township, within the
    district's radius and time window, rejected and merged cases left out, nearest first),
    in two queries instead of two per case."""
    if not cases:
        return {}
    policy = district_policy(cases[0].district)
    radius = float(policy.duplicate_radius_m)
    window = timedelta(hours=policy.duplicate_window_hours)
    townships = {c.township_id for c in cases}
    earliest = min(c.reported_at for c in cases) - window
    latest = max(c.reported_at for c in cases)
    candidates = list(
        Case.objects.filter(
            township_id__in=townships, reported_at__gte=earliest, reported_at__lte=latest
        )
        .exclude(status__in=[CS.REJECTED, CS.MERGED])
        .select_related("category", "lane")
        .defer(*LANE_SHAPES)
    )
    found: dict[int, list[tuple[Case, float]]] = {}
    for case in cases:
        dlon, dlat = geo.metres_to_degrees(radius, case.lat)
        near = []
        for other in candidates:
            if (
                other.pk == case.pk
                or other.township_id != case.township_id
                or not case.reported_at - window <= other.reported_at <= case.reported_at
                or (case.category_id is not None and other.category_id != case.category_id)
                or abs(other.lon - case.lon) > dlon
                or abs(other.lat - case.lat) > dlat
            ):
                continue
            distance = geo.distance_m((case.lon, case.lat), (other.lon, other.lat))
            if distance <= radius:
                near.append((other, round(distance, 1)))
        near.sort(key=lambda pair: (pair[1], pair[0].reported_at))
        found[case.pk] = near[:limit]
    return found


# The queues of the command centre, in the order it shows them. `at_work` lists the cases a
# department works on, `declines` the summonses declined, `notices` the supervision notices
# still open or answered in the last week; the others are cases in one state.
QUEUES = (
    "reported",
    "filed",
    "declines",
    "at_work",
    "to_check",
    "to_close",
    "backlog",
    "escalated",
    "notices",
)
ESCALATED_STATUSES = (CS.FILED, CS.DISPATCHED, CS.WHISTLED, CS.BACKLOG)
# The queues of cases, each by the states it lists.
CASE_QUEUES: dict[str, tuple[str, ...]] = {
    "reported": (CS.REPORTED,),
    "filed": (CS.FILED,),
    "at_work": (CS.DISPATCHED, CS.WHISTLED),
    "to_check": (CS.HANDLED,),
    "to_close": (CS.CHECKED,),
    "backlog": (CS.BACKLOG,),
}
NOTICE_RECENT = timedelta(days=7)


@dataclass
class QueuePage:
    """One page of a queue: its rows, and where they stand in the whole queue."""

    name: str
    rows: Sequence[Any]
    count: int  # the whole queue
    number: int  # of the page, from 1
    size: int

    @property
    def pages(self) -> int:
        return max(math.ceil(self.count / self.size), 1)

    @property
    def first(self) -> int:
        return (self.number - 1) * self.size + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def page_number(asked: Any, count: int, size: int) -> int:
    """The page asked for (`?page=`), as Django's `Paginator.get_page` reads it: not a
    number is the first, past the end the last."""
    try:
        number = int(asked)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), max(math.ceil(count / size), 1))


class TownshipQueues:
    """The command centre's queues of one township (with `office`, only the cases routed to
    that unit of the street office): how many each holds, and one page of any of them."""

    def __init__(
        self, person: Any, township: Jurisdiction, now: datetime, *, office: Any = None
    ) -> None:
        cases = _township_cases(person, township)
        if office is not None:
            cases = cases.filter(office=office)
        self.now = now
        self._cases = cases
        self._base = cases.select_related(
            "category", "lane", "township", "district", "office"
        ).defer(*SHAPES)

    def _declines(self) -> QuerySet[Summons]:
        # A declined summons waits for a ruling before its case can be resolved, so it is
        # only ever on an open case: read through the township's open cases (an index),
        # not through every case of its year.
        open_cases = self._cases.filter(status__in=Case.OPEN_STATUSES)
        return Summons.objects.filter(case__in=open_cases.values("pk"), status=SS.DECLINED)

    def _notices(self) -> QuerySet[SupervisionNotice]:
        return SupervisionNotice.objects.filter(case__in=self._cases.values("pk")).filter(
            Q(answered_at__isnull=True) | Q(answered_at__gte=self.now - NOTICE_RECENT)
        )

    def case_counts(self) -> dict[str, int]:
        """How many cases each queue of cases (and of escalations) holds: one query."""
        open_statuses = sorted({s for states in CASE_QUEUES.values() for s in states})
        found = self._cases.filter(status__in=open_statuses).aggregate(
            **{
                name: Count("pk", filter=Q(status__in=states))
                for name, states in CASE_QUEUES.items()
            },
            escalated=Count(
                "pk",
                filter=Q(status__in=ESCALATED_STATUSES) & ~Q(escalation=Case.Escalation.NONE),
            ),
        )
        return {name: number or 0 for name, number in found.items()}

    def count(self, name: str) -> int:
        """How many rows the queue holds in all."""
        if name == "declines":
            return self._declines().count()
        if name == "notices":
            return self._notices().count()
        return self.case_counts()[name]

    def query(self, name: str) -> QuerySet[Any]:
        """The whole queue, in its order, with what its rows show."""
        base = self._base
        if name == "reported":
            return (
                base.filter(status=CS.REPORTED)
                .select_related("reporter")
                .annotate(photo_count=Count("attachments"))
                .order_by("reported_at", "pk")
            )
        if name == "at_work":
            return (
                base.filter(status__in=CASE_QUEUES[name])
                .prefetch_related(
                    _summonses_prefetch(),
                    Prefetch("whistles", queryset=Whistle.objects.filter(closed_at__isnull=True)),
                )
                .order_by("reported_at", "pk")
            )
        if name in ("filed", "to_check", "to_close"):
            order = {"filed": "reported_at", "to_check": "handled_at", "to_close": "checked_at"}
            return (
                base.filter(status__in=CASE_QUEUES[name])
                .prefetch_related(_summonses_prefetch())
                .annotate(photo_count=Count("attachments"))
                .order_by(order[name], "pk")
            )
        if name == "backlog":
            return base.filter(status=CS.BACKLOG).order_by("backlog_review_on", "pk")
        if name == "escalated":
            return (
                base.filter(status__in=ESCALATED_STATUSES)
                .exclude(escalation=Case.Escalation.NONE)
                .order_by("reported_at", "pk")
            )
        if name == "declines":
            return (
                self._declines()
                .select_related("case", "case__township", "department", "named_department")
                .defer("case__township__boundary")
                .order_by("summoned_at", "pk")
            )
        if name == "notices":
            return (
                self._notices()
                .select_related("case", "department", "issued_by")
                .order_by("answered_at", "due_at", "pk")
            )
        raise KeyError(name)

    def page(
        self, name: str, number: int, count: int | None = None, *, size: int = QUEUE_PAGE
    ) -> QueuePage:
        """Page `number` (from 1) of `size` rows, within the `count` rows of the queue; with
        no `count`, the rows tell it when they do not fill the page, else one query does."""
        start = (number - 1) * size
        rows = list(self.query(name)[start : start + size]) if count != 0 else []
        if count is None:
            # A page not filled ends the queue, unless it is past the end (no rows after
            # the first page).
            ends = len(rows) < size and (bool(rows) or number == 1)
            count = start + len(rows) if ends else self.count(name)
        return QueuePage(name, rows, count, number, size)


@dataclass
class Queues:
    """The first page of each queue, the counts, and the possible duplicates of the
    reported cases listed."""

    pages: dict[str, QueuePage]
    duplicates: dict[int, list[tuple[Case, float]]] = field(default_factory=dict)


def township_queues(
    person: Any, township: Jurisdiction, now: datetime, *, office: Any = None
) -> Queues:
    """The first page of each of the command centre's queues and how many each holds, in a
    fixed number of queries whatever the numbers (the declines and the notices are counted
    apart only when their first page is full); with `office`, only the cases routed to that
    unit."""
    queues = TownshipQueues(person, township, now, office=office)
    counts = queues.case_counts()
    pages = {name: queues.page(name, 1, counts.get(name)) for name in QUEUES}
    return Queues(pages=pages, duplicates=duplicates_for(pages["reported"].rows))


# A department's desk ---------------------------------------------------------------------------


@dataclass
class DepartmentDesk:
    open: list[WorkItem]
    past: list[Summons] = field(default_factory=list)
    notices: list[SupervisionNotice] = field(default_factory=list)
    answered: list[SupervisionNotice] = field(default_factory=list)

    @property
    def to_act(self) -> int:
        """How many summonses wait for the department's next move (the page's title)."""
        return sum(1 for item in self.open if item.to_act)


def department_desk(
    department_ids: set[int], now: datetime, *, history: bool = True
) -> DepartmentDesk:
    """The departments' summonses on hand (`whistle.cases.worklists`); with `history`, also
    their past summonses and their supervision notices."""
    desk = DepartmentDesk(open=in_order(on_hand(department_ids), now))
    if not history:
        return desk
    desk.past = list(
        Summons.objects.filter(department_id__in=sorted(department_ids))
        .exclude(ON_HAND)
        .select_related("department", "whistle", "case", "case__township")
        .order_by("-summoned_at", "-pk")[:PAST_LIMIT]
    )
    notices = SupervisionNotice.objects.filter(
        department_id__in=sorted(department_ids)
    ).select_related("case", "department", "issued_by")
    desk.notices = list(notices.filter(answered_at__isnull=True).order_by("due_at", "pk"))
    desk.answered = list(
        notices.filter(answered_at__gte=now - timedelta(days=30)).order_by("-answered_at")[
            :PAST_LIMIT
        ]
    )
    return desk


# One summons in detail --------------------------------------------------------------------------


@dataclass
class ObligationRow:
    name: str  # acknowledge, arrive, resolve
    due_at: datetime
    met_at: datetime | None
    minutes_late: int
    # "met", "late" (met after the deadline), "pending", "overdue", "void" (no longer owed),
    # "paused" (owed, but the case is on the backlog), "flagged" (checked in, awaiting the
    # township's confirmation)
    state: str


def obligation_rows(summons: Summons, now: datetime) -> list[ObligationRow]:
    rows = []
    owing = summons.status in Summons.OPEN_STATUSES
    paused = is_paused(summons.case)
    for obligation in obligations(summons):
        met = obligation.met_at
        if met is not None:
            late = max(math.ceil((met - obligation.due_at).total_seconds() / 60), 0)
            state = "late" if late else "met"
            # A flagged check-in is no arrival until the township confirms it.
            if obligation.name == "arrive" and summons.check_in_flag == FLAG_PENDING:
                state = "flagged"
        elif not owing:
            late, state = 0, "void"
        else:
            late = 0
            state = "paused" if paused else ("overdue" if obligation.due_at < now else "pending")
        rows.append(ObligationRow(obligation.name, obligation.due_at, met, late, state))
    return rows


def next_step(summons: Summons) -> str:
    """When the department may leave the site, or what it waits for once its result is in,
    in words for its own people: on its summons' card and on its list. Empty before it
    checks in, after it left, and when nothing is left to wait for."""
    if summons.arrived_at is not None and summons.left_at is None:
        if may_leave(summons):
            if summons.released_at is not None:
                return gettext("The township has let you go: check out when you leave the site.")
            return gettext(
                "The township has marked the case resolved: check out when you leave the site."
            )
        if summons.status == SS.DONE:
            return gettext(
                "Result reported. The township now reviews it: once it marks the case resolved "
                "or releases your department, you check out. Until then your department stays "
                "on site (事不完、人不撤)."
            )
        return gettext(
            "You check out once the township has marked the case resolved or released your "
            "department; until then your department stays on site (事不完、人不撤)."
        )
    if summons.status == SS.DONE and summons.case.status not in CASE_RESOLVED:
        return gettext(
            "Result reported. The township now reviews it and marks the case resolved, or "
            "sends it back for rework."
        )
    return ""
