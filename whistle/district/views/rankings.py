"""District rankings (district:rankings), their downloads, and the drill-down of one
department's score (district:result) down to its records and their trail events."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from whistle.assessment.explain import (
    ScoredPiece,
    combination_formula,
    counted_pieces,
    incomplete_reasons,
    pieces_of,
    schemes_of,
    unscored_months,
)
from whistle.assessment.measures import previous_period
from whistle.assessment.models import DepartmentResult, Scheme
from whistle.assessment.periods import Period
from whistle.district import exports, tables
from whistle.district.access import Reader
from whistle.district.picker import (
    FIRST_YEAR,
    LAST_YEAR,
    asked_period,
    current_month,
    period_label,
    pick_period,
)
from whistle.district.views.common import choose, page_context
from whistle.organisation.models import Department
from whistle.web.replica import reads_replica


@login_required
@require_GET
@reads_replica
def rankings(request: HttpRequest) -> HttpResponse:
    reader = Reader.of(request.user)
    districts = list(reader.ranking_districts().order_by("code"))
    district = choose(request, districts, "district")
    # Without a period asked for, the page opens on the latest finished month with a
    # ranking (the month under way when none has one): the month under way ranks few
    # departments until its records settle and the district enters its components. It
    # says so and links to the month under way.
    this_month = current_month()
    opened_on = None
    if not asked_period(request):
        opened_on = tables.latest_ranked_month(district, previous_period(this_month))
    # No year before the district's first score is offered: it has nothing to rank.
    picked = pick_period(request, default=opened_on, first_year=tables.first_scored_year(district))
    board = tables.ranking(district, picked.period)
    own = reader.department_ids()
    context = page_context(
        reader,
        "rankings",
        districts=districts,
        district=district,
        board=board,
        chart=board.chart(),
        # District readers open every department's drill-down, department staff their own.
        opens_all=reader.reads_district(district.pk),
        # A year's report opens once the year has begun.
        report_open=picked.period.year <= this_month.year,
        own_departments=own,
        keep=[("district", district.code)],
        opened_before=opened_on is not None and opened_on != this_month,
        this_month=this_month,
        this_month_label=period_label(this_month),
        **picked.context(),
    )
    return render(request, "district/district/rankings.html", context)


@login_required
@require_GET
@reads_replica
def export(request: HttpRequest) -> HttpResponse:
    reader = Reader.of(request.user)
    district = choose(request, list(reader.ranking_districts().order_by("code")), "district")
    file_format = request.GET.get("format", "csv")
    picked = pick_period(request)
    if file_format not in exports.FORMATS or picked.error:
        return HttpResponseBadRequest()
    content = exports.scores_file(district, picked.period, file_format)
    response = HttpResponse(content, content_type=exports.FORMATS[file_format])
    name = exports.file_name(district, picked.period, file_format)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _period(key: str) -> Period:
    try:
        period = Period.parse(key)
    except ValidationError:
        raise Http404 from None
    if not FIRST_YEAR <= period.year <= LAST_YEAR:
        raise Http404
    return period


@login_required
@require_GET
@reads_replica
def result(request: HttpRequest, period: str, department: str) -> HttpResponse:
    reader = Reader.of(request.user)
    if not (reader.everything or reader.district_ids() or reader.department_ids()):
        raise PermissionDenied
    chosen = _period(period)
    found = Department.objects.select_related("district").filter(code=department).first()
    if found is None or not reader.reads_department(found):
        raise Http404
    score = (
        DepartmentResult.objects.select_related("scheme")
        .filter(department=found, period=chosen.key)
        .first()
    )
    scheme = None
    parts: list[tables.Part] = []
    pieces: list[ScoredPiece] = []
    counted: list[ScoredPiece] = []
    ranked = 0
    if score is not None:
        schemes = schemes_of([score])
        scheme = schemes[score.scheme_id]
        pieces = pieces_of(score, schemes)
        counted = counted_pieces(pieces)
        # One version scored it all: its shares are those of the formula.
        if len(counted) == 1 and counted[0].scheme is not None:
            columns = tables.part_columns(counted[0].scheme, [])
        else:
            columns = tables.part_columns(scheme, pieces)
        parts = tables.result_parts(score, columns, pieces)
        ranked = DepartmentResult.objects.filter(
            district_id=score.district_id, period=chosen.key, rank__isnull=False
        ).count()
    rows = tables.result_records(found, found.district_id, chosen)
    context = page_context(
        reader,
        "rankings",
        department=found,
        period=chosen,
        period_key=chosen.key,
        period_label=period_label(chosen),
        score=score,
        scheme=scheme,
        parts=parts,
        ranked=ranked,
        incomplete=incomplete_reasons(score, pieces) if score is not None else [],
        unscored_months=unscored_months(pieces),
        # A period scored under several versions of the scheme: each piece's total, and how
        # they combine into the period's.
        pieces=tables.piece_lines(score, counted) if score is not None and len(counted) > 1 else [],
        total_combined=combination_formula(counted, "total") if len(counted) > 1 else "",
        township_combined=(
            combination_formula(counted, "township_score") if len(counted) > 1 else ""
        ),
        by_records=scheme is not None and scheme.month_weighting == Scheme.MonthWeighting.RECORDS,
        rows=rows,
        provisional=sum(1 for r in rows if r.record.provisional),
        record_sum=sum((r.record.total for r in rows if r.record.total is not None), start=0),
        townships=tables.department_table(found, chosen),
    )
    return render(request, "district/district/result.html", context)
