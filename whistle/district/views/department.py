"""A department's records and scores (assessment:department), for its officers and head.

Each record of the period with the three questions, its part scores and total, and what it
lost (lateness, reworks, an overruled decline); the appeal form while the scheme's working
days run (`whistle.assessment.actions.file_appeal`, with evidence photos); the department's
scores in the period and how each township rated it; and its appeals with their rulings.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from whistle.assessment.actions import nobody_may_rule, stuck_appeal_ids
from whistle.assessment.editing import appeal_with_photos
from whistle.assessment.models import DepartmentResult, SummonsAssessment
from whistle.cases.actions import InvalidInput
from whistle.cases.models import Attachment
from whistle.district import tables
from whistle.district.access import Reader
from whistle.district.forms import AppealForm
from whistle.district.picker import pick_period
from whistle.district.views.common import (
    REFUSALS,
    BadPost,
    page_context,
    posted_uuid,
    show_refusal,
)


def appeal_prefix(record: SummonsAssessment) -> str:
    return f"appeal-{record.summons.uuid.hex}"


def _appeal(request: HttpRequest, reader: Reader) -> tuple[str, AppealForm, bool]:
    wanted = posted_uuid(request)
    record = (
        SummonsAssessment.objects.select_related("summons__case", "department", "case")
        .filter(summons__uuid=wanted, department_id__in=sorted(reader.department_ids()))
        .first()
    )
    if record is None:
        raise BadPost
    photos = Attachment.objects.filter(case_id=record.case_id).order_by("uploaded_at", "pk")
    form = AppealForm(
        request.POST, request.FILES, prefix=appeal_prefix(record), record=record, photos=photos
    )
    done = False
    if form.is_valid():
        data = form.cleaned_data
        try:
            filed = appeal_with_photos(
                request.user,
                record.summons,
                data["part"],
                data["requested"],
                data["reason"],
                evidence=data["evidence"],
                files=data.get("case_photos", []),
                photos=data["photos"],
            )
        except InvalidInput as exc:
            form.add_error("photos", str(exc))
        except REFUSALS as exc:
            show_refusal(form, exc)
        else:
            done = True
            text = (
                _(
                    "Appeal on case %(case)s filed. Nobody in the district chiefs' office may "
                    "rule on it yet; the district has been told to add someone who may."
                )
                if nobody_may_rule(filed)
                else _(
                    "Appeal on case %(case)s filed; the district chiefs' office will rule on it."
                )
            )
            messages.success(request, text % {"case": record.case.reference})
    return record.summons.uuid.hex, form, done


@login_required
@require_http_methods(["GET", "POST"])
def department(request: HttpRequest) -> HttpResponse:
    reader = Reader.of(request.user)
    departments = list(reader.departments().select_related("district").order_by("name"))
    if not departments:
        raise PermissionDenied
    posted: tuple[str, AppealForm, bool] | None = None
    if request.method == "POST":
        if request.POST.get("op") != "appeal":
            return HttpResponseBadRequest()
        try:
            posted = _appeal(request, reader)
        except BadPost:
            return HttpResponseBadRequest()
        if posted[2]:
            query = request.GET.urlencode()
            url = reverse("assessment:department") + (f"?{query}" if query else "")
            return HttpResponseRedirect(url + "#my-appeals")
        # The record may have left the appeal window meanwhile: say why at the top too.
        for error in posted[1].non_field_errors():
            messages.error(request, str(error))
    return render(
        request,
        "district/assessment/department.html",
        department_context(request, reader, departments, posted),
    )


def department_context(
    request: HttpRequest,
    reader: Reader,
    departments: list[Any],
    posted: tuple[str, AppealForm, bool] | None,
) -> dict[str, Any]:
    picked = pick_period(request)
    period = picked.period
    ids = [d.pk for d in departments]
    rows, more = tables.department_records(ids, period, timezone.now())
    for row in rows:
        key = row.record.summons.uuid.hex
        if posted is not None and posted[0] == key and not posted[2]:
            row.form = posted[1]
            row.open = True
        elif row.may_appeal:
            row.form = AppealForm(
                prefix=appeal_prefix(row.record), record=row.record, photos=row.photos
            )
    results = {
        r.department_id: r
        for r in DepartmentResult.objects.filter(department_id__in=ids, period=period.key)
    }
    ranked = dict(
        DepartmentResult.objects.filter(
            district_id__in={d.district_id for d in departments},
            period=period.key,
            rank__isnull=False,
        )
        .values("district_id")
        .annotate(n=Count("pk"))
        .values_list("district_id", "n")
    )
    scores = [
        {
            "department": d,
            "result": results.get(d.pk),
            "ranked": ranked.get(d.district_id, 0),
            "townships": tables.department_table(d, period),
        }
        for d in departments
    ]
    appeals = tables.my_appeals(ids)
    return page_context(
        reader,
        "department",
        departments=departments,
        scores=scores,
        rows=rows,
        more=more,
        appeals=appeals,
        # The pending appeals nobody may rule on yet: their row says so, as their record does.
        stuck_appeals=stuck_appeal_ids(appeals),
        keep=[],
        **picked.context(),
    )
