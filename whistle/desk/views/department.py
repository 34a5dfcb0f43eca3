"""A department's desk: the summonses it has on its hands, its supervision notices, and its
past summonses. The work on one summons happens on the case's page; acknowledging and
checking out can be done from the list.

The list of summonses is polled (`live`): a new summons appears without reloading the page,
and the page's script rings, vibrates and counts it in the title."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from whistle.cases.models import Summons, SupervisionNotice
from whistle.cases.worklists import GROUPS, WorkItem
from whistle.desk.boards import (
    DepartmentDesk,
    department_desk,
    departments_duty,
    next_step,
    obligation_rows,
)
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
from whistle.desk.views.common import (
    BadPost,
    keep_refusal,
    kept_refusal,
    posted_operation,
    refuse_post,
)
from whistle.duty.schedule import OnDuty, Shift


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


def _version(desk: DepartmentDesk, duty: list[OnDuty]) -> str:
    """What the list shows, in short: it changes when a summons comes, goes, moves on, or
    passes its deadline, or when the duty changes hands, and only then is the list sent
    again."""
    seen = "|".join(
        f"{item.summons.uuid.hex}:{item.summons.status}:{item.group}:{item.may_leave}:"
        f"{item.deadline.kind if item.deadline else ''}"
        for item in desk.open
    )
    seen += "|" + "|".join(
        f"{d.roster.pk}:{_shift_seen(d.now)}:{_shift_seen(d.next)}" for d in duty
    )
    return hashlib.sha256(seen.encode()).hexdigest()[:16]


def _shift_seen(shift: Shift | None) -> str:
    if shift is None:
        return ""
    return f"{shift.person_id}:{shift.backup_id}:{shift.starts_at.isoformat()}"


def _groups(desk: DepartmentDesk, forms: OperationForms, now: Any) -> list[dict[str, Any]]:
    """The summonses on hand under four headings: deadline running, overdue, the rest, and
    paused on the backlog."""

    def row(item: WorkItem) -> dict[str, Any]:
        s = item.summons
        # Checking out shows on the list once it is allowed (事不完、人不撤); an early
        # attempt stays on the case's page.
        names = ("acknowledge", "check_out") if item.may_leave else ("acknowledge",)
        return {
            "item": item,
            "summons": s,
            "deadline": item.deadline,
            "obligations": obligation_rows(s, now),
            "next_step": next_step(s),
            "ops": forms.available(s, names),
        }

    return [
        {"group": group, "rows": [row(i) for i in desk.open if i.group == group]}
        for group in GROUPS
        if any(i.group == group for i in desk.open)
    ]


def _incoming(
    request: HttpRequest, departments: list[Any], posted: Posted | None, *, history: bool
) -> dict[str, Any]:
    now = timezone.now()
    desk = department_desk({d.pk for d in departments}, now, history=history)
    forms = OperationForms(request.user, Choices(), posted)
    duty = departments_duty([d.pk for d in departments], now)
    return {
        "duty": duty,
        "desk": desk,
        "forms": forms,
        "departments": departments,
        "groups": _groups(desk, forms, now),
        "open_count": len(desk.open),
        "to_act": desk.to_act,
        "version": _version(desk, duty),
        "now": now,
    }


def _departments(request: HttpRequest) -> list[Any]:
    departments = list(Viewer.of(request.user).departments().order_by("name"))
    if not departments:
        raise PermissionDenied
    return departments


@login_required
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    viewer = Viewer.of(request.user)
    departments = _departments(request)
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
            redirect = keep_refusal(request, posted)
            if redirect is not None:
                return redirect
    else:
        posted = kept_refusal(request, lambda op, key: _target(viewer, op.target, key), Choices())
    context = _incoming(request, departments, posted, history=True)
    desk = context["desk"]
    forms = context["forms"]
    context.update(
        {
            "notices": [
                {"notice": n, "ops": forms.available(n, ("answer",))} for n in desk.notices
            ],
            "answered": desk.answered,
            "past": desk.past,
        }
    )
    unplaced_errors(request, posted)
    return render(request, "desk/department/home.html", context, status=status)


@require_GET
def live(request: HttpRequest) -> HttpResponse:
    """The summonses on hand, polled by the desk every few seconds: 204 while they are as
    the page shows them (`?v=`), the list again when they changed. Signed out, the whole
    page goes to sign in: a desk that kept its last list would look live."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    context = _incoming(request, _departments(request), None, history=False)
    if request.GET.get("v") == context["version"]:
        response = HttpResponse(status=204)
    else:
        response = render(request, "desk/department/incoming.html", context)
    response["Cache-Control"] = "private, no-store"
    return response
