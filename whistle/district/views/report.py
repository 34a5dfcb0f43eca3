"""The printable annual report of a district (district:annual-report): the year's headline
figures first, then the departments' ranking of the year with the parts of each total, the
indicators table, the hotline's three rates, the top hot spots and how many chiefs met the
patrol requirement, on one page made for A4 paper (static/district/report-print.css).
`/district/report/` opens the year under way; the report links the other years that can
have something to report, from the district's first score on (`tables.first_scored_year`).
A year in which nothing at all was recorded (no case, score, hotline order, patrol) says so
instead of showing a page of zeros.

The indicators table lists the townships and departments that had something to count in
the year; those whose every figure is zero or — are folded under one line that says how
many they are and opens them.

Every number comes from `whistle.assessment`; the page only arranges them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from whistle.assessment.chiefs import chief_scores
from whistle.assessment.hotline import hotline_rates
from whistle.assessment.hotspots import hot_spots
from whistle.assessment.indicators import Dimension, IndicatorRow, indicator_table
from whistle.assessment.periods import Period, PeriodKind
from whistle.district import tables
from whistle.district.access import Reader
from whistle.district.picker import FIRST_YEAR, LAST_YEAR, period_label
from whistle.district.views.common import choose, page_context
from whistle.web.replica import reads_replica

BEIJING = ZoneInfo("Asia/Shanghai")
# The hot spots a report lists: the year's most frequent problems, rising or not.
TOP_HOT_SPOTS = 10
# The indicators table of a report: the district, its townships and departments (the
# categories are many and belong to the hot-spots page).
REPORT_DIMENSIONS: tuple[Dimension, ...] = ("district", "township", "department")


@dataclass(frozen=True)
class Column:
    """A column of the report's indicators: the figure's name in `Indicators`, its heading,
    and whether it is a rate (in percent, — where there is nothing to count)."""

    name: str
    heading: Promise
    rate: bool = True


# The indicators a report shows, in the order of its table; the district's line of them
# is also the report's headline.
INDICATOR_COLUMNS = (
    Column("records", gettext_lazy("Records"), rate=False),
    Column("on_time_arrival_rate", gettext_lazy("On-time arrival rate")),
    Column("on_time_result_rate", gettext_lazy("On-time result rate")),
    Column("rework_rate", gettext_lazy("Rework rate of the records")),
    Column("cases", gettext_lazy("Cases"), rate=False),
    Column("whistle_rate", gettext_lazy("Whistle rate")),
    Column("closure_rate", gettext_lazy("Closure rate")),
    Column("on_time_closure_rate", gettext_lazy("On-time closure rate")),
)


@dataclass(frozen=True)
class Figure:
    column: Column
    value: int | Decimal | None


@dataclass(frozen=True)
class IndicatorLine:
    """A line of the report's indicators table: its scope and its figures, column by column."""

    row: IndicatorRow
    figures: tuple[Figure, ...]

    @classmethod
    def of(cls, row: IndicatorRow) -> IndicatorLine:
        return cls(
            row,
            tuple(
                Figure(column, getattr(row.indicators, column.name)) for column in INDICATOR_COLUMNS
            ),
        )

    @property
    def counted(self) -> bool:
        """Whether any figure of the line is more than zero: a line of zeros and dashes
        says nothing about the year."""
        return any(figure.value for figure in self.figures)


def indicator_lines(
    rows: Iterable[IndicatorRow],
) -> tuple[list[IndicatorLine], list[IndicatorLine]]:
    """The report's lines of the indicators, in the order given: those it lists, and those
    it folds away because nothing was counted in them. The district's line is always listed."""
    listed: list[IndicatorLine] = []
    folded: list[IndicatorLine] = []
    for line in map(IndicatorLine.of, rows):
        (listed if line.counted or line.row.dimension == "district" else folded).append(line)
    return listed, folded


@login_required
@require_GET
@reads_replica
def annual_report(request: HttpRequest, year: int | None = None) -> HttpResponse:
    reader = Reader.of(request.user)
    # The district readers only (assessors, chiefs' office, district chief): department
    # staff see the rankings but not the district's whole report.
    district = choose(request, list(reader.districts().order_by("code")), "district")
    now = timezone.now()
    this_year = timezone.localtime(now, BEIJING).year
    if year is None:
        year = this_year
    # A year that has not begun has nothing to report yet.
    if not FIRST_YEAR <= year <= min(LAST_YEAR, this_year):
        raise Http404
    period = Period(year, PeriodKind.YEAR, 0)
    board = tables.ranking(district, period)
    chiefs = chief_scores(district, period.key, now=now)
    chiefs_meeting = sum(1 for c in chiefs if c.meets_requirement)
    lines, quiet_lines = indicator_lines(
        indicator_table(district, period.key, dimensions=REPORT_DIMENSIONS, now=now)
    )
    first = board.rows[0] if board.rows and board.rows[0].result.rank == 1 else None
    hotline = hotline_rates(district, period.key)
    spots = hot_spots(district, period.key, rising_only=False, limit=TOP_HOT_SPOTS)
    chief_patrols = sum(c.activity.patrols for c in chiefs)
    chief_found = sum(c.activity.found for c in chiefs)
    context = page_context(
        reader,
        "annual_report",
        district=district,
        year=year,
        period=period,
        period_key=period.key,
        period_label=period_label(period),
        board=board,
        # The drill-downs stay links on screen; on paper they read as plain names.
        opens_all=True,
        own_departments=set(),
        columns=INDICATOR_COLUMNS,
        # The district's line leads the table and, on its own, the report.
        headline=lines[0],
        first=first,
        indicator_lines=lines,
        quiet_lines=quiet_lines,
        hotline=hotline,
        spots=spots,
        # Nothing at all recorded in the year: the report says so rather than show zeros,
        # which would read as a year of failures.
        recorded=bool(
            board.rows
            or lines[0].counted
            or hotline.received
            or spots
            or chief_patrols
            or chief_found
        ),
        # The years to open, the latest first: from the district's first score on (and the
        # year shown, when it was asked for by its address).
        years=sorted(
            {*range(tables.first_scored_year(district), this_year + 1), year}, reverse=True
        ),
        chief_count=len(chiefs),
        chiefs_meeting=chiefs_meeting,
        chief_patrols=chief_patrols,
        chief_found=chief_found,
        # What the problems found are: cases the chiefs reported in their role, whether on a
        # patrol or not, and problems their patrols' checklists noted without a case.
        chief_reported=sum(c.activity.reported for c in chiefs),
        chief_noted=sum(c.activity.found - c.activity.reported for c in chiefs),
        generated_at=timezone.localtime(now, BEIJING),
    )
    return render(request, "district/district/annual_report.html", context)
