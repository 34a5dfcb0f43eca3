"""A department's desk: the summonses it has on its hands, its supervision notices, and its
past summonses. The work on one summons happens on the case's page."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from whistle.cases.models import Summons, SupervisionNotice
from whistle.desk.boards import department_desk, obligation_rows
from whistle.desk.operations import (
    NOTICE,
    SUMMONS,
    Choices,
    OperationForms,
    Posted,
    perform,
    unplaced_errors,
)
from whistle.desk.viewer import Viewer
from whistle.desk.views.common import BadPost, posted_operation, refuse_post


def _target(viewer: Viewer, op_target: str, key: str) -> Summons | SupervisionNotice:
    """A summons or notice of the viewer's departments; `key` is well-formed already."""
    departments = sorted(viewer.department_ids())
    if op_target == SUMMONS:
        summons = (
            Summons.objects.select_related("case", "department", "whistle")
            .filter(uuid=uuid.UUID(hex=key), department_id__in=departments)
            .first()
        )
        if summons is None:
            raise BadPost
        return summons
    if op_target == NOTICE:
        notice = (
            SupervisionNotice.objects.select_related("case", "department")
            .filter(pk=int(key), department_id__in=departments)
            .first()
        )
        if notice is not None:
            return notice
    raise BadPost


@login_required
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    viewer = Viewer.of(request.user)
    departments = list(viewer.departments().order_by("name"))
    if not departments:
        raise PermissionDenied
    posted: Posted | None = None
    status = 200
    if request.method == "POST":
        try:
            op, key = posted_operation(request)
            target = _target(viewer, op.target, key)
        except BadPost:
            refuse_post(request)
            status = 400
        else:
            posted = perform(request, op, target, Choices())
            if not posted.form.errors:
                return HttpResponseRedirect(reverse("department:home"))
    now = timezone.now()
    desk = department_desk({d.pk for d in departments}, now)
    forms = OperationForms(request.user, Choices(), posted)
    context = {
        "departments": departments,
        "open": [
            {
                "summons": s,
                "deadline": d,
                "obligations": obligation_rows(s, now),
                "ops": forms.available(s, ("acknowledge",)),
            }
            for s, d in desk.open
        ],
        "notices": [{"notice": n, "ops": forms.available(n, ("answer",))} for n in desk.notices],
        "answered": desk.answered,
        "past": desk.past,
        "now": now,
    }
    unplaced_errors(request, posted)
    return render(request, "desk/department/home.html", context, status=status)
