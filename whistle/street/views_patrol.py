"""The pages of stewards and chiefs: their lanes, patrols, one-tap reports, their reports
and escalation. Every change goes through an action of `whistle.patrols` or `whistle.cases`."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any, cast
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from whistle.assessment.chiefs import own_standing
from whistle.cases.actions import escalate, possible_duplicates, report_case
from whistle.cases.errors import ActionRefused
from whistle.cases.locate import locate
from whistle.cases.models import Attachment, Case
from whistle.cases.permissions import may
from whistle.cases.scoping import visible_cases
from whistle.cases.suggest import DESCRIPTION_SCAN, clear_best, suggest_categories
from whistle.organisation.models import Person
from whistle.organisation.scoping import has_role
from whistle.patrols import checklist
from whistle.patrols.actions import (
    PATROL_ROLES,
    end_patrol,
    open_patrol,
    patrol_lanes,
    record_check,
    record_positions,
    start_patrol,
)
from whistle.patrols.models import CheckResult, Patrol, Recognition, TrainingAttendance
from whistle.policies.models import Category
from whistle.street import kept
from whistle.street.categories import categories_for
from whistle.street.forms import (
    CheckForm,
    EscalateForm,
    StaffReportForm,
    StartPatrolForm,
    show_refusal,
)
from whistle.street.lanes import open_problems
from whistle.street.links import case_photo_url
from whistle.street.photos import attach, take_photo
from whistle.street.templatetags.street_ui import metres
from whistle.web import once

# Open problems listed under each lane on the home page (the count shows them all).
CASES_PER_LANE = 5
LANES_PER_PAGE = 20
RECOGNITIONS = 5


def street_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, with a role that patrols lanes; others are sent to sign in or refused."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not has_role(request.user, *PATROL_ROLES):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _me(request: HttpRequest) -> Person:
    """The signed-in person (street_page has made sure there is one)."""
    return cast(Person, request.user)


def _page_size() -> int:
    return int(getattr(settings, "WHISTLE_PAGE_SIZE", 50))


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# Home -----------------------------------------------------------------------------------


@street_page
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    person = _me(request)
    lanes = (
        patrol_lanes(person)
        .select_related("township")
        .annotate(open_count=Count("cases", filter=open_problems()))
        .order_by("-open_count", "township__code", "name")
    )
    page = Paginator(lanes, LANES_PER_PAGE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    latest = (
        Case.objects.filter(lane__in=[lane.pk for lane in shown], status__in=Case.OPEN_STATUSES)
        .select_related("category")
        .annotate(
            row=Window(RowNumber(), partition_by=[F("lane_id")], order_by=F("reported_at").desc())
        )
        .filter(row__lte=CASES_PER_LANE)
        .order_by("lane_id", "-reported_at")
    )
    by_lane: dict[int, list[Case]] = {}
    for case in latest:
        by_lane.setdefault(case.lane_id or 0, []).append(case)
    rows = [{"lane": lane, "cases": by_lane.get(lane.pk, [])} for lane in shown]
    start_lanes = list(
        patrol_lanes(person).select_related("township").order_by("township__code", "name")
    )
    return render(
        request,
        "street/home.html",
        {
            "rows": rows,
            "page": page,
            "current": open_patrol(person),
            "start_lanes": start_lanes,
            # What a start without signal sends, and the page it opens (whistle/offline.js).
            "offline_lanes": {
                str(lane.pk): {
                    "township": lane.township.code,
                    "lane": lane.name,
                    "walk": reverse("patrol:walk-offline", args=[lane.pk]),
                }
                for lane in start_lanes
            },
            "recent": Patrol.objects.filter(person=person)
            .select_related("lane")
            .order_by("-started_at")[:3],
        },
    )


# Patrols --------------------------------------------------------------------------------


@street_page
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    form = StartPatrolForm(request.POST, lanes=patrol_lanes(_me(request)))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("patrol:home")
    try:
        patrol = start_patrol(_me(request), lane=form.cleaned_data["lane"])
    except ActionRefused as refused:
        messages.error(request, str(refused))
        return redirect("patrol:home")
    messages.success(
        request,
        _("Patrol of %(lane)s started. Tick the items as you walk.") % {"lane": patrol.lane.name},
    )
    return redirect("patrol:walk", patrol=patrol.uuid)


def _my_patrol(request: HttpRequest, patrol: UUID) -> Patrol:
    return get_object_or_404(
        Patrol.objects.select_related("lane__township"), uuid=patrol, person=_me(request)
    )


def _checklist_rows(patrol: Patrol) -> list[dict[str, Any]]:
    checks = {c.item: c for c in patrol.checks.select_related("case")}
    return [
        {"item": item, "check": checks.get(item.key)}
        for item in checklist.from_snapshot(patrol.checklist)
    ]


@street_page
@require_GET
def walk(request: HttpRequest, patrol: UUID) -> HttpResponse:
    mine = _my_patrol(request, patrol)
    rows = _checklist_rows(mine)
    counts = {value: 0 for value in CheckResult.Result.values}
    for row in rows:
        if row["check"] is not None:
            counts[row["check"].result] += 1
    response = render(
        request,
        "street/patrol.html",
        {
            "patrol": mine,
            "rows": rows,
            "counts": counts,
            "unticked": sum(1 for row in rows if row["check"] is None),
            "patrol_strings": _words(),
            "Result": CheckResult.Result,
            "Outcome": CheckResult.Outcome,
        },
    )
    # Ticks change the page after it is drawn: come back to (the back button from an item's
    # report form), it is asked for again, never shown as the browser's cache kept it.
    response["Cache-Control"] = "private, no-store"
    return response


# The placeholder a patrol started without signal carries until the page reads its key.
UNSAVED = UUID(int=0)


@street_page
@require_GET
def walk_offline(request: HttpRequest, lane: int) -> HttpResponse:
    """The patrol page of a patrol started on the phone without signal: the lane's checklist
    for a patrol the server has not seen yet. The service worker keeps one per lane of the
    person; the key the phone gave the patrol and its start are in the address's fragment,
    and every tick, position and the end go through the phone's queue."""
    chosen = get_object_or_404(patrol_lanes(_me(request)).select_related("township"), pk=lane)
    draft = Patrol(
        uuid=UNSAVED,
        person=_me(request),
        lane=chosen,
        started_at=timezone.now(),
        last_activity_at=timezone.now(),
        checklist=checklist.snapshot(checklist.lane_items(chosen)),
    )
    rows = [{"item": item, "check": None} for item in checklist.from_snapshot(draft.checklist)]
    return render(
        request,
        "street/patrol.html",
        {
            "patrol": draft,
            "offline_walk": True,
            "rows": rows,
            "counts": {},
            "unticked": len(rows),
            "patrol_strings": _words(),
            "Result": CheckResult.Result,
            "Outcome": CheckResult.Outcome,
        },
    )


def _words() -> dict[str, str]:
    return {
        "recording": _("Recording your route."),
        "denied": _("No access to your position: the patrol is recorded without a route."),
        "unavailable": _("Your position cannot be found just now; the route resumes when it can."),
        "unsupported": _(
            "This browser cannot give positions: the patrol is recorded without a route."
        ),
        # English has one plural form beside the singular; the script picks by the count.
        "offline_one": _offline(1),
        "offline": _offline(2),
        "ended": _("This patrol has ended."),
        "sending": _("Sending the last positions…"),
        "positions_one": _positions(1),
        "positions": _positions(2),
    }


def _offline(n: int) -> str:
    return ngettext(
        "No connection: %(n)s position is kept and sent later.",
        "No connection: %(n)s positions are kept and sent later.",
        n,
    )


def _positions(n: int) -> str:
    return ngettext("%(n)s position", "%(n)s positions", n)


def _json_object(request: HttpRequest) -> dict[str, Any] | None:
    """The request's body as a JSON object, or None when it is not one."""
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError, RequestDataTooBig):
        # RecursionError: arrays or objects nested thousands deep.
        return None
    return body if isinstance(body, dict) else None


def _json_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@street_page
@require_POST
def positions(request: HttpRequest, patrol: UUID) -> HttpResponse:
    """A batch of positions from the patrol page's script (JSON)."""
    mine = _my_patrol(request, patrol)
    body = _json_object(request)
    if body is None:
        return _json_error(_("The positions could not be read."), 400)
    points = body.get("points")
    try:
        recorded = record_positions(
            _me(request),
            mine,
            points=[] if points is None else points,
            location=body.get("location"),
        )
    except ActionRefused as refused:
        status = 400 if getattr(refused, "field", None) else 409
        return _json_error(str(refused), status)
    return JsonResponse(
        {
            "accepted": recorded.accepted,
            "duplicates": recorded.duplicates,
            "distance_m": recorded.patrol.distance_m,
            "distance": metres(recorded.patrol.distance_m),
            "points": recorded.patrol.point_count,
            "location": recorded.patrol.location,
        }
    )


@street_page
@require_POST
def check(request: HttpRequest, patrol: UUID) -> HttpResponse:
    mine = _my_patrol(request, patrol)
    form = CheckForm(request.POST)
    error = ""
    if not form.is_valid():
        error = _("Choose ok, problem or not checked.")
    else:
        try:
            record_check(
                _me(request),
                mine,
                item=form.cleaned_data["item"],
                result=form.cleaned_data["result"],
                outcome=form.cleaned_data["outcome"] or "",
            )
        except ActionRefused as refused:
            error = str(refused)
    if not _is_htmx(request):
        if error:
            messages.error(request, error)
        return redirect(reverse("patrol:walk", kwargs={"patrol": mine.uuid}) + "#checklist")
    key = request.POST.get("item", "")
    rows = _checklist_rows(mine)
    row = next((r for r in rows if r["item"].key == key), None)
    if row is None:
        return HttpResponse(error, status=400)
    announce = ""
    if not error and row["check"] is not None:
        announce = _("%(item)s: %(result)s") % {
            "item": row["item"].label,
            "result": row["check"].get_result_display(),
        }
    return render(
        request,
        "street/partials/check_response.html",
        {
            "patrol": mine,
            "row": row,
            "unticked": sum(1 for r in rows if r["check"] is None),
            "error": error,
            "announce": announce,
            "Result": CheckResult.Result,
            "Outcome": CheckResult.Outcome,
        },
    )


@street_page
@require_POST
def end(request: HttpRequest, patrol: UUID) -> HttpResponse:
    mine = _my_patrol(request, patrol)
    try:
        ended = end_patrol(_me(request), mine)
    except ActionRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Patrol of %(lane)s ended.") % {"lane": ended.lane.name})
    return redirect("patrol:walk", patrol=mine.uuid)


@street_page
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    patrols = (
        Patrol.objects.filter(person=_me(request))
        .select_related("lane__township")
        .annotate(
            problems=Count("checks", filter=Q(checks__result=CheckResult.Result.PROBLEM)),
            ok=Count("checks", filter=Q(checks__result=CheckResult.Result.OK)),
        )
        .order_by("-started_at")
    )
    page = Paginator(patrols, _page_size()).get_page(request.GET.get("page"))
    # The chiefs' offices' recognitions of me, and the training sessions I attended.
    recognitions = list(
        Recognition.objects.filter(person=_me(request)).select_related("office")[:RECOGNITIONS]
    )
    trainings = TrainingAttendance.objects.filter(person=_me(request)).count()
    # A chief's requirement and standing this month, as the chiefs' office assesses them.
    standings = own_standing(_me(request))
    return render(
        request,
        "street/history.html",
        {
            "page": page,
            "recognitions": recognitions,
            "trainings": trainings,
            "standings": standings,
        },
    )


# Reports --------------------------------------------------------------------------------


def _prefill(request: HttpRequest, categories: QuerySet[Category]) -> dict[str, Any]:
    """The report form's first values when it opens from a patrol's checklist item: the
    item's problem as the description, and the category its words suggest first (as the
    form's suggestions read a description) when one of `categories` fits better than every
    other (`clear_best`): a tie leaves the choice to the reporter."""
    try:
        patrol_id = UUID(request.GET.get("patrol", ""))
    except ValueError:
        return {}
    patrol = (
        Patrol.objects.filter(uuid=patrol_id, person=_me(request), ended_at__isnull=True)
        .select_related("lane")
        .first()
    )
    if patrol is None:
        return {}
    initial: dict[str, Any] = {"patrol": patrol.uuid}
    key = request.GET.get("item", "")
    item = next((i for i in checklist.from_snapshot(patrol.checklist) if i.key == key), None)
    if item is not None:
        initial["item"] = item.key
        initial["description"] = _("%(lane)s: %(problem)s") % {
            "lane": patrol.lane.name,
            "problem": item.problem,
        }
        fitting = clear_best(str(item.problem), categories)
        if fitting is not None:
            initial["category"] = fitting.category.pk
    last = patrol.points.filter(counted=True).order_by("-recorded_at").first()
    if last is not None:
        initial.update(lon=last.lon, lat=last.lat, accuracy_m=last.accuracy_m)
    return initial


def _link_to_patrol(request: HttpRequest, form: StaffReportForm, case: Case) -> None:
    patrol_id = form.cleaned_data.get("patrol")
    item = form.cleaned_data.get("item")
    if not patrol_id or not item:
        return
    patrol = Patrol.objects.filter(uuid=patrol_id, person=_me(request)).first()
    if patrol is None:
        return
    try:
        record_check(
            _me(request),
            patrol,
            item=item,
            result=CheckResult.Result.PROBLEM,
            outcome=CheckResult.Outcome.REPORTED,
            case=case,
        )
    except ActionRefused as refused:
        messages.warning(
            request,
            _("The report was saved, but not ticked on the patrol: %(reason)s")
            % {"reason": refused},
        )


def _already_reported(request: HttpRequest, reference: str) -> HttpResponse:
    """The answer to a report sent again (a double tap, a resend): the page of the case the
    first sending filed, saying why nothing new was filed."""
    messages.info(
        request,
        _(
            "This report was already sent as case %(reference)s: sending it again did not "
            "report the problem a second time."
        )
        % {"reference": reference},
    )
    sent = reverse("patrol:reported", kwargs={"reference": reference})
    return redirect(f"{sent}?sent=1")


@street_page
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    categories = categories_for(_me(request))
    suggest_url = reverse("patrol:suggest")
    photo = None
    if request.method == "POST":
        key = once.posted_key(request)
        earlier = once.filed_under(key)
        if earlier is not None:
            return _already_reported(request, earlier)
        form = StaffReportForm(
            request.POST, request.FILES, categories=categories, suggest_url=suggest_url
        )
        photo = take_photo(request)
        valid = form.is_valid()
        attach(form, photo)
        if valid and not photo.error:
            data = form.cleaned_data
            try:
                with once.filing(key) as filed:
                    case = report_case(
                        _me(request),
                        description=data["description"],
                        lon=data["lon"],
                        lat=data["lat"],
                        accuracy_m=data["accuracy_m"],
                        category=data["category"],
                        photos=[photo.photo] if photo.photo else None,
                    )
                    filed.reference = case.reference
            except once.AlreadySent as already:
                kept.drop(photo.token)
                return _already_reported(request, already.reference)
            except ActionRefused as refused:
                show_refusal(form, refused)
            else:
                kept.drop(photo.token)
                _link_to_patrol(request, form, case)
                messages.success(
                    request,
                    _("Reported as case %(reference)s.") % {"reference": case.reference},
                )
                sent = reverse("patrol:reported", kwargs={"reference": case.reference})
                return redirect(f"{sent}?sent=1")
        else:
            # The first sending may have used up what this one misses (the kept photo).
            earlier = once.first_reference(key)
            if earlier is not None:
                return _already_reported(request, earlier)
    else:
        form = StaffReportForm(
            initial=_prefill(request, categories), categories=categories, suggest_url=suggest_url
        )
    # The queue kept on the phone sends a report to the API, which names a category by its
    # code and kind.
    category_codes = {
        str(category.pk): [category.full_code, category.major.kind] for category in categories
    }
    return render(
        request,
        "street/report.html",
        {"form": form, "photo": photo, "category_codes": category_codes},
    )


@street_page
@require_GET
def suggest_category(request: HttpRequest) -> HttpResponse:
    """Categories that fit the description typed so far (htmx)."""
    text = request.GET.get("description", "")[:DESCRIPTION_SCAN]
    suggestions = suggest_categories(text, categories_for(_me(request))) if text.strip() else []
    response = render(
        request, "street/partials/suggestions.html", {"suggestions": suggestions, "text": text}
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _float(value: str | None) -> float | None:
    try:
        number = float(value or "")
    except ValueError:
        return None
    return number if -180 <= number <= 180 else None


@street_page
@require_GET
def nearby(request: HttpRequest) -> HttpResponse:
    """Open cases near the chosen place that may be the same problem, before reporting."""
    lon, lat = _float(request.GET.get("lon")), _float(request.GET.get("lat"))
    found: list[tuple[Case, float]] = []
    if lon is not None and lat is not None and -90 <= lat <= 90:
        place = locate(lon, lat)
        if place.township is not None:
            chosen = _int(request.GET.get("category"))
            category = categories_for(_me(request)).filter(pk=chosen) if chosen else None
            probe = Case(
                lon=lon,
                lat=lat,
                district=place.district,
                township=place.township,
                category=category.first() if category is not None else None,
                reported_at=timezone.now(),
            )
            found = _visible(_me(request), possible_duplicates(probe, limit=5))
    response = render(request, "street/partials/nearby.html", {"duplicates": found})
    response["Cache-Control"] = "private, no-store"
    return response


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


def _visible(person: Any, pairs: list[tuple[Case, float]]) -> list[tuple[Case, float]]:
    if not pairs:
        return []
    seen = set(
        visible_cases(person).filter(pk__in=[c.pk for c, _ in pairs]).values_list("pk", flat=True)
    )
    return [(c, d) for c, d in pairs if c.pk in seen]


def _reported_case(request: HttpRequest, reference: str) -> Case:
    case = (
        visible_cases(_me(request))
        .select_related("category__major", "lane", "township", "district")
        .filter(reference=reference)
        .first()
    )
    if case is None:
        raise Http404
    return case


@street_page
@require_GET
def reported(request: HttpRequest, reference: str) -> HttpResponse:
    case = _reported_case(request, reference)
    duplicates = _visible(_me(request), possible_duplicates(case, limit=5))
    mine = case.reporter_id == _me(request).pk
    # The photos sent with the report, as the case page serves them to whoever sees it.
    photos = [
        url
        for url in (
            case_photo_url(case, pk)
            for pk in case.attachments.filter(purpose=Attachment.Purpose.REPORT)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if url
    ]
    return render(
        request,
        "street/reported.html",
        {
            "case": case,
            "mine": mine,
            # Straight after the form: "Report sent"; opened again later, or by a chief of
            # the lane, the page is the problem's.
            "sent": mine and request.GET.get("sent") == "1",
            "duplicates": duplicates,
            "photos": photos,
            "can_escalate": may(_me(request), "escalate", case),
            "patrol": open_patrol(_me(request)),
        },
    )


@street_page
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    cases = (
        Case.objects.filter(reporter=_me(request))
        .select_related("category__major", "lane", "township", "district")
        .order_by("-reported_at", "-pk")
    )
    page = Paginator(cases, _page_size()).get_page(request.GET.get("page"))
    me = _me(request)
    rows = [{"case": c, "can_escalate": may(me, "escalate", c)} for c in page.object_list]
    return render(request, "street/mine.html", {"page": page, "rows": rows})


@street_page
@require_http_methods(["GET", "POST"])
def escalate_case(request: HttpRequest, reference: str) -> HttpResponse:
    case = _reported_case(request, reference)
    if request.method == "POST":
        form = EscalateForm(request.POST)
        if form.is_valid():
            try:
                escalate(_me(request), case, reason=form.cleaned_data["reason"])
            except ActionRefused as refused:
                show_refusal(form, refused)
            else:
                messages.success(
                    request,
                    _("Case %(reference)s escalated to the chiefs' office.")
                    % {"reference": case.reference},
                )
                return redirect("patrol:mine")
    else:
        form = EscalateForm()
    return render(request, "street/escalate.html", {"case": case, "form": form})
