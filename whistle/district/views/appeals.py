"""Appeals to rule on (assessment:appeals), for the district chiefs' office.

Each pending appeal with the record as it stands, the correction asked for in words, the
reason and the evidence (text and photos, read through the case page's photo view); the
ruling upholds with a correction (the one asked for unless changed) or rejects, with its
grounds, through `whistle.assessment.actions.rule_on_appeal`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from whistle.assessment.actions import nobody_may_rule, rule_on_appeal, ruling_refusal
from whistle.assessment.models import Appeal, SummonsAssessment
from whistle.cases.permissions import member_department_ids
from whistle.district import tables
from whistle.district.access import Reader
from whistle.district.forms import RulingForm
from whistle.district.views.common import (
    REFUSALS,
    BadPost,
    page_context,
    posted_int,
    show_refusal,
)


def ruling_prefix(appeal: Appeal) -> str:
    return f"rule-{appeal.pk}"


def ruling_form(appeal: Appeal, record: SummonsAssessment | None, data: Any = None) -> RulingForm:
    return RulingForm(
        data,
        prefix=ruling_prefix(appeal),
        part=appeal.part,
        requested=appeal.requested,
        record=record,
    )


def _rule(request: HttpRequest, reader: Reader) -> tuple[int, RulingForm, bool]:
    pk = posted_int(request)
    appeal = (
        Appeal.objects.select_related("summons__case", "summons__department", "department")
        .filter(pk=pk, department__district_id__in=sorted(reader.ruling_district_ids()))
        .first()
    )
    if appeal is None:
        raise BadPost
    if appeal.status != Appeal.Status.PENDING:
        messages.error(request, _("This appeal has already been ruled on."))
        return pk, ruling_form(appeal, None), True
    record = SummonsAssessment.objects.filter(summons_id=appeal.summons_id).first()
    form = ruling_form(appeal, record, request.POST)
    if not form.is_valid():
        return pk, form, False
    upheld = form.cleaned_data["decision"] == "uphold"
    try:
        rule_on_appeal(
            request.user,
            appeal,
            upheld,
            form.cleaned_data["note"],
            correction=form.cleaned_data.get("requested") if upheld else None,
        )
    except REFUSALS as exc:
        show_refusal(form, exc)
        return pk, form, False
    text = (
        _("Appeal of %(department)s on case %(case)s upheld; the record is corrected.")
        if upheld
        else _("Appeal of %(department)s on case %(case)s rejected.")
    )
    messages.success(
        request,
        text
        % {"department": appeal.department.display_name, "case": appeal.summons.case.reference},
    )
    return pk, form, True


@login_required
@require_http_methods(["GET", "POST"])
def appeals(request: HttpRequest) -> HttpResponse:
    reader = Reader.of(request.user)
    district_ids = reader.ruling_district_ids()
    if not district_ids:
        raise PermissionDenied
    posted: tuple[int, RulingForm, bool] | None = None
    if request.method == "POST":
        if request.POST.get("op") != "rule":
            return HttpResponseBadRequest()
        try:
            posted = _rule(request, reader)
        except BadPost:
            return HttpResponseBadRequest()
        if posted[2]:
            return HttpResponseRedirect(reverse("assessment:appeals"))
    pending, ruled = tables.appeals_to_rule(district_ids)
    own = member_department_ids(request.user)
    cards = []
    for row in pending:
        form = ruling_form(row.appeal, row.record)
        if posted is not None and posted[0] == row.appeal.pk:
            form = posted[1]
        # Someone else in the office rules on an appeal of one's own department or filing, or
        # on a later appeal of a record one ruled on before; the office is told when nobody may.
        refused = ruling_refusal(
            request.user, row.appeal, member_of=own, earlier_rulers=row.earlier_rulers
        )
        nobody = refused is not None and nobody_may_rule(row.appeal)
        cards.append({"row": row, "form": form, "refused": refused, "nobody": nobody})
    return render(
        request,
        "district/assessment/appeals.html",
        page_context(reader, "appeals", cards=cards, ruled=ruled),
    )
