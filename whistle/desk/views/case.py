"""The page of a case (case:detail), its photos, and every action on it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from whistle.cases import proof
from whistle.cases.actions import resident_may_rate
from whistle.cases.callers import resident_actors, shown_actor, shown_caller
from whistle.cases.hotline import order_of
from whistle.cases.models import Attachment, Case, Event, SupervisionNotice
from whistle.cases.scoping import visible_cases
from whistle.cases.trail import EventKind
from whistle.desk import timeline
from whistle.desk.boards import case_deadline, next_step, obligation_rows
from whistle.desk.operations import (
    OPERATIONS,
    Choices,
    OperationForms,
    Posted,
    perform,
    unplaced_errors,
)
from whistle.desk.viewer import Viewer
from whistle.desk.views.common import (
    BadPost,
    case_target,
    find_case,
    keep_refusal,
    kept_refusal,
    posted_operation,
    prefetch_case,
    refuse_post,
    safe_next,
)
from whistle.notifications.status import delivery_status_by_key, event_key
from whistle.organisation.models import Role
from whistle.policies.offices import readable_townships


def case_url(case: Case) -> str:
    return reverse("case:detail", args=[case.reference])


@login_required
@require_http_methods(["GET", "POST"])
def detail(request: HttpRequest, reference: str) -> HttpResponse:
    viewer = Viewer.of(request.user)
    try:
        found = find_case(request.user, reference)
    except Http404:
        own = _own_report(request.user, reference)
        if own is None:
            raise
        return HttpResponseRedirect(reverse("reports:case", args=[own.reference]))
    case = prefetch_case(found)
    choices = Choices(visible_cases=visible_cases(request.user))
    posted: Posted | None = None
    status = 200
    if request.method == "POST":
        try:
            op, key = posted_operation(request)
            target = case_target(case, op, key)
        except BadPost:
            refuse_post(request)
            status = 400
        else:
            posted = perform(request, op, target, choices)
            if not posted.form.errors:
                return HttpResponseRedirect(safe_next(request, case_url(case)))
            redirect = keep_refusal(request, posted)
            if redirect is not None:
                return redirect
            # The action may have recorded its refusal: show the case as it is now.
            case = prefetch_case(find_case(request.user, reference))
            choices = Choices(visible_cases=visible_cases(request.user))
    else:
        posted = kept_refusal(request, lambda op, key: case_target(case, op, key), choices)
    forms = OperationForms(request.user, choices, posted)
    context = case_context(request, viewer, case, forms)
    unplaced_errors(request, posted)
    return render(request, "desk/case/detail.html", context, status=status)


def _own_report(person: Any, reference: str) -> Case | None:
    """The case with this reference if the person reported it as a resident. The messages
    about a case link to its page here, for everyone they tell; a resident follows their
    report on the residents' page instead, and is sent there. Anyone else who may not see
    the case is not told that it exists."""
    case = Case.objects.filter(reference=reference.strip().upper(), reporter=person).first()
    return case if case is not None and resident_may_rate(case, person=person) else None


def map_features(case: Case, summonses: list[Any], events: list[Event]) -> dict[str, Any]:
    """What the case's map draws besides the township: the problem, the lane, the meeting
    points and every check-in position (WGS-84), in its state: "accepted", "refused",
    "flagged" (awaiting the township), then "confirmed" or "rejected" once the township has
    ruled on it."""
    meeting = [
        {"lon": w.meeting_lon, "lat": w.meeting_lat, "label": w.meeting_point}
        for w in case.whistles.all()
        if w.meeting_lon is not None and w.meeting_lat is not None
    ]
    check_ins: list[dict[str, Any]] = []
    states: dict[str, str] = {
        EventKind.CHECK_IN_ACCEPTED: "accepted",
        EventKind.CHECK_IN_FLAGGED: "flagged",
        EventKind.CHECK_IN_REFUSED: "refused",
    }
    # The township's ruling on a flagged check-in: the check-in it ruled on (the summons'
    # last flagged one) is shown as ruled.
    rulings: dict[str, str] = {
        EventKind.CHECK_IN_CONFIRMED: "confirmed",
        EventKind.CHECK_IN_REJECTED: "rejected",
    }
    awaiting: dict[int | None, dict[str, Any]] = {}
    for event in events:
        if event.kind in rulings:
            ruled = awaiting.pop(event.summons_id, None)
            if ruled is not None:
                ruled["state"] = rulings[event.kind]
                ruled["accepted"] = event.kind == EventKind.CHECK_IN_CONFIRMED
            continue
        if event.kind not in states:
            continue
        # A later check-in of the summons is the one any ruling concerns.
        awaiting.pop(event.summons_id, None)
        if event.lon is None or event.lat is None:
            continue
        point = {
            "lon": event.lon,
            "lat": event.lat,
            "accepted": event.kind != EventKind.CHECK_IN_REFUSED,
            "state": states[event.kind],
            "label": event.summons.department.display_name if event.summons is not None else "",
            "at": timezone.localtime(event.at).strftime("%H:%M"),
            "distance_m": (event.data or {}).get("distance_m"),
        }
        check_ins.append(point)
        if event.kind == EventKind.CHECK_IN_FLAGGED and event.summons_id:
            awaiting[event.summons_id] = point
    return {
        "case": {"lon": case.lon, "lat": case.lat, "label": case.reference},
        "lane": (
            {"geometry": case.lane.centre_line, "label": case.lane.name} if case.lane else None
        ),
        "meeting": meeting,
        "check_ins": check_ins,
    }


def case_context(
    request: HttpRequest, viewer: Viewer, case: Case, forms: OperationForms
) -> dict[str, Any]:
    now = timezone.now()
    summonses = list(case.summonses.all())
    mine = viewer.department_ids()
    # The viewer's own department first: on a phone its buttons are what they came for.
    summonses.sort(key=lambda s: (s.department_id not in mine, s.summoned_at, s.pk))
    notices = list(
        SupervisionNotice.objects.filter(case=case)
        .select_related("department", "issued_by")
        .order_by("-issued_at")
    )
    for notice in notices:
        notice.case = case
    events = list(
        Event.objects.filter(case=case)
        .select_related("actor", "summons__department")
        .order_by("seq")
    )
    attachments = list(
        Attachment.objects.filter(case=case)
        .select_related("uploaded_by", "summons__department")
        .order_by("uploaded_at", "pk")
    )
    # A photo's uploader is named as their events are: a resident masked, or not at all.
    residents = resident_actors(events)
    photos = []
    for attachment in attachments:
        role = Role.RESIDENT if attachment.uploaded_by_id in residents else ""
        by = shown_actor(request.user, case, attachment.uploaded_by, role)
        photos.append((attachment, by or (Role.RESIDENT.label if role else "")))
    case_ops = forms.available(case)
    # Who was told of each summons, on which channel, and whether it reached them.
    alerts = {e.summons_id: event_key(e.hash) for e in events if e.kind == EventKind.SUMMONED}
    deliveries = delivery_status_by_key(alerts.values())
    summons_cards = [
        {
            "summons": s,
            "obligations": obligation_rows(s, now),
            "ops": forms.available(s),
            "mine": s.department_id in mine,
            # Said to the department's own people only: it speaks to them.
            "next_step": next_step(s) if s.department_id in mine else "",
            "deliveries": deliveries.get(alerts.get(s.pk, ""), []),
            # Why its check-in was flagged, read from the trail the page holds.
            "flag_reasons": proof.flag_reasons(s, events),
        }
        for s in summonses
    ]
    notice_cards = [{"notice": n, "ops": forms.available(n)} for n in notices]
    whistle_op = OPERATIONS["whistle"]
    caller_name, caller_phone = shown_caller(request.user, case)
    return {
        "case": case,
        "now": now,
        # The office's page, for those who may open it.
        "office_link": case.office_id is not None
        and case.township_id is not None
        and readable_townships(request.user).filter(pk=case.township_id).exists(),
        "deadline": case_deadline(case, now) if case.is_open else None,
        "primary_ops": [f for f in case_ops.values() if not f.folded],
        "secondary_ops": [f for f in case_ops.values() if f.folded],
        "may_whistle": whistle_op.allowed(request.user, case),
        "summons_cards": summons_cards,
        "notice_cards": notice_cards,
        "whistles": list(case.whistles.all()),
        # Each photo with its uploader as the viewer may see them.
        "attachments": photos,
        "entries": timeline.entries(events, viewer=request.user, case=case),
        "map_features": map_features(case, summonses, events),
        "duplicates_in": list(case.duplicates.order_by("reported_at").only("reference")),
        "sees_phone": viewer.township_office(case.township_id),
        # The caller's data in full for the township's dispatchers and chief, else masked.
        "caller_name": caller_name,
        "caller_phone": caller_phone,
        "order": order_of(case),
    }


@require_GET
def photo(request: HttpRequest, reference: str, pk: int) -> FileResponse:
    """A photo of a case, for those who may see the case; never from a public URL. Not
    found for anyone else, a visitor who is not signed in too: a photo is no page to sign in
    for, and its address says nothing about whether it exists."""
    if not request.user.is_authenticated:
        raise Http404
    case = find_case(request.user, reference)
    attachment = Attachment.objects.filter(case=case, pk=pk).first()
    if attachment is None or not attachment.file:
        raise Http404
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = FileResponse(handle, content_type=attachment.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = f'inline; filename="{case.reference}-{attachment.pk}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
