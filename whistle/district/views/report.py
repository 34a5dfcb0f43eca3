"""The printable annual report of a district (district:annual-report): the departments'
ranking of the year with the parts of each total, the indicators table, the hotline's three
rates, the top hot spots and how many chiefs met the patrol requirement, on one page made
for A4 paper (static/district/report-print.css).

Every number comes from `whistle.assessment`; the page only arranges them.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from whistle.assessment.chiefs import chief_scores
from whistle.assessment.hotline import hotline_rates
from whistle.assessment.hotspots import hot_spots
from whistle.assessment.indicators import Dimension, indicator_table
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


@login_required
@require_GET
@reads_replica
def annual_report(request: HttpRequest, year: int) -> HttpResponse:
    reader = Reader.of(request.user)
    # The district readers only (assessors, chiefs' office, district chief): department
    # staff see the rankings but not the district's whole report.
    district = choose(request, list(reader.districts().order_by("code")), "district")
    now = timezone.now()
    # A year that has not begun has nothing to report yet.
    if not FIRST_YEAR <= year <= min(LAST_YEAR, timezone.localtime(now, BEIJING).year):
        raise Http404
    period = Period(year, PeriodKind.YEAR, 0)
    board = tables.ranking(district, period)
    chiefs = chief_scores(district, period.key, now=now)
    chiefs_meeting = sum(1 for c in chiefs if c.lanes_due and c.lanes_covered == len(c.lanes_due))
    context = page_context(
        reader,
        "rankings",
        district=district,
        year=year,
        period=period,
        period_key=period.key,
        period_label=period_label(period),
        board=board,
        # The drill-downs stay links on screen; on paper they read as plain names.
        opens_all=True,
        own_departments=set(),
        indicator_rows=indicator_table(district, period.key, dimensions=REPORT_DIMENSIONS, now=now),
        hotline=hotline_rates(district, period.key),
        spots=hot_spots(district, period.key, rising_only=False, limit=TOP_HOT_SPOTS),
        chief_count=len(chiefs),
        chiefs_meeting=chiefs_meeting,
        chief_patrols=sum(c.activity.patrols for c in chiefs),
        chief_found=sum(c.activity.found for c in chiefs),
        # What the problems found are: cases the chiefs reported in their role, whether on a
        # patrol or not, and problems their patrols' checklists noted without a case.
        chief_reported=sum(c.activity.reported for c in chiefs),
        chief_noted=sum(c.activity.found - c.activity.reported for c in chiefs),
        generated_at=timezone.localtime(now, BEIJING),
    )
    return render(request, "district/district/annual_report.html", context)
