"""The township's command centre: the live board, the work queues, the whistle, the wall."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from whistle.cases.models import Case
from whistle.cases.rules import whistle_rule
from whistle.cases.scoping import visible_cases
from whistle.cases.suggest import suggest_departments
from whistle.desk.boards import (
    QUEUE_PAGE,
    QueuePage,
    TownshipQueues,
    duplicates_for,
    page_number,
    township_board,
    township_queues,
)
from whistle.desk.operations import (
    CASE,
    OPERATIONS,
    SUMMONS,
    Choices,
    OperationForms,
    Posted,
    error_lines,
    perform,
    target_key,
)
from whistle.desk.viewer import Viewer
from whistle.desk.views.case import case_url
from whistle.desk.views.common import (
    TARGET_KEYS,
    BadPost,
    case_target,
    find_case,
    posted_operation,
    prefetch_case,
    refuse_post,
)
from whistle.organisation.models import Jurisdiction
from whistle.policies.models import WhistleKind, time_limit_text
from whistle.policies.offices import units_of


def desk_township(request: HttpRequest, viewer: Viewer) -> tuple[Jurisdiction, list[Jurisdiction]]:
    """The township shown (``?township=CODE``, else the first) and all the person may open.

    403 for someone without a command-centre role; 404 for a township outside theirs."""
    townships = list(viewer.desk_townships().select_related("parent").order_by("code"))
    if not townships:
        raise PermissionDenied
    code = request.GET.get("township", "")
    if not code:
        return townships[0], townships
    township = next((t for t in townships if t.code == code), None)
    if township is None:
        raise Http404
    return township, townships


def home_url(township: Jurisdiction, townships: list[Jurisdiction], *, office: Any = None) -> str:
    """The command centre of the township shown, with the office filter when one is on."""
    params: dict[str, Any] = {} if township == townships[0] else {"township": township.code}
    if office is not None:
        params["office"] = office.pk
    url = reverse("dispatch:home")
    return f"{url}?{urlencode(params)}" if params else url


def _queue_target(request: HttpRequest, township: Jurisdiction, op: Any, key: str) -> Any:
    """A case of the township shown, or a summons of one; `key` is well-formed already."""
    if op.target == CASE:
        case = (
            visible_cases(request.user)
            .select_related("township", "district", "lane", "category")
            .filter(township=township, reference=key)
            .first()
        )
        if case is None:
            raise BadPost
        return prefetch_case(case)
    if op.target == SUMMONS:
        cases = visible_cases(request.user).filter(township=township)
        case = cases.filter(summonses__uuid=uuid.UUID(hex=key)).first()
        if case is None:
            raise BadPost
        return case_target(prefetch_case(case), op, key)
    raise BadPost


# What each queue's rows offer, in the order they show them.
QUEUE_OPERATIONS: dict[str, tuple[str, ...]] = {
    "reported": ("file", "reject", "merge"),
    "filed": ("dispatch", "solve", "backlog"),
    "declines": ("rule",),
    "at_work": ("mark_handled",),
    "to_check": ("check_passed", "rework"),
    "to_close": ("close",),
    "backlog": ("resume",),
    "escalated": ("supervise", "escalate"),
    "notices": (),
}
# What the lines of a row's summonses offer (the cases at work: release each department).
SUMMONS_OPERATIONS: dict[str, tuple[str, ...]] = {"at_work": ("release",)}
QUEUE_TITLES = {
    "reported": gettext_lazy("To file"),
    "filed": gettext_lazy("To dispatch"),
    "declines": gettext_lazy("Declines"),
    "at_work": gettext_lazy("At work"),
    "to_check": gettext_lazy("To check on site"),
    "to_close": gettext_lazy("To close"),
    "backlog": gettext_lazy("Backlog"),
    "escalated": gettext_lazy("Escalated"),
    "notices": gettext_lazy("Supervision notices"),
}
# The first reports of a page carry their filing form open; the others load theirs when
# it is opened, as the folded operations do: the category picker is most of a row's weight.
FILE_INLINE = 5


@dataclass
class Listing:
    """One page of a queue as the templates show it: its rows with their operations, where
    its forms post, the query its folded forms are loaded with (so that they post where the
    others do), and the addresses of the pages before and after."""

    page: QueuePage
    rows: list[dict[str, Any]]
    action: str
    form_query: str
    previous_url: str
    next_url: str

    @property
    def name(self) -> str:
        return self.page.name

    @property
    def title(self) -> str:
        return str(QUEUE_TITLES[self.page.name])

    @property
    def next_size(self) -> int:
        return min(self.page.size, self.page.count - self.page.number * self.page.size)


def _queue_params(township: Jurisdiction, office: Any = None, page: int = 1) -> dict[str, Any]:
    params: dict[str, Any] = {"township": township.code}
    if office is not None:
        params["office"] = office.pk
    if page > 1:
        params["page"] = page
    return params


def queue_url(
    township: Jurisdiction, name: str, *, office: Any = None, page: int = 1, anchor: str = ""
) -> str:
    query = urlencode(_queue_params(township, office, page))
    url = f"{reverse('dispatch:queue', args=[name])}?{query}"
    return f"{url}#{anchor}" if anchor else url


def _listing(
    request: HttpRequest,
    township: Jurisdiction,
    page: QueuePage,
    forms: OperationForms,
    *,
    action: str,
    own_page: bool,
    office: Any = None,
    duplicates: dict[int, list[tuple[Case, float]]] | None = None,
) -> Listing:
    """`own_page`: the page is the queue's own (`dispatch.queue`), whose forms post back to
    it, rather than the command centre's first page."""
    names = QUEUE_OPERATIONS[page.name]
    rows = []
    for index, item in enumerate(page.rows):
        row: dict[str, Any] = {"item": item, "ops": forms.available(item, names) if names else {}}
        if page.name == "reported":
            row["duplicates"] = (duplicates or {}).get(item.pk, [])
            row["file_inline"] = index < FILE_INLINE
        elif page.name == "filed":
            row["may_whistle"] = OPERATIONS["whistle"].allowed(request.user, item)
        elif page.name == "at_work":
            offered = SUMMONS_OPERATIONS[page.name]
            row["summonses"] = [(s, forms.available(s, offered)) for s in item.summonses.all()]
        rows.append(row)

    def url(number: int) -> str:
        return queue_url(township, page.name, office=office, page=number)

    form_params = _queue_params(township, office)
    if own_page:
        form_params.update(queue=page.name, page=page.number)
    return Listing(
        page=page,
        rows=rows,
        action=action,
        form_query=urlencode(form_params),
        previous_url=url(page.number - 1) if page.has_previous else "",
        next_url=url(page.number + 1) if page.has_next else "",
    )


def _office(request: HttpRequest, township: Jurisdiction) -> tuple[list[Any], Any]:
    """The township's active units, and the one whose queues are asked for (`?office=`)."""
    units = list(units_of(township).filter(is_active=True))
    office = None
    if request.GET.get("office"):
        office = next((u for u in units if str(u.pk) == request.GET["office"]), None)
        if office is None:
            raise Http404
    return units, office


@dataclass
class _QueuePost:
    """What a queue's posted form came to: the form (with its errors, if any), the case it
    was posted for, the status of the page shown again, and the reference of the case when
    the operation was done (then the view goes back to where the case now stands)."""

    posted: Posted | None = None
    case: Case | None = None
    status: int = 200
    done: str = ""

    def refusal(self) -> Refusal | None:
        """Why the operation was not done, when its form is not on the page shown again
        (another dispatcher moved the case on meanwhile, off the page or out of the queue,
        or took the button away)."""
        posted = self.posted
        if posted is None or posted.placed or not posted.form.errors or self.case is None:
            return None
        return Refusal(
            self.case,
            str(posted.op.label),
            error_lines(posted.form),
            op=posted.op.name,
            key=posted.key,
        )


@dataclass
class Refusal:
    """A refused operation whose form is gone from the page. It shows in the case's row
    when the page still lists the case (`in_row`), where the form was: above the row's
    operations, or in the line of the summons it was for (`summons`, the summons' key, on
    the cases at work); otherwise at the top of the page, naming the case and linking to
    it. `op` and `key` are the operation's name and its target's key, as posted."""

    case: Case
    operation: str
    errors: list[str]
    op: str = ""
    key: str = ""
    in_row: bool = False
    summons: str = ""

    def place(self, listings: Iterable[Listing]) -> None:
        """Put the refusal in a row of its case: preferably in a list whose rows offer the
        operation, and the row of its very target (a decline is a row of its own); among
        equals the first. Lists without operations (the supervision notices' table) have
        no place for it."""
        candidates = [
            (listing, row)
            for listing in listings
            if QUEUE_OPERATIONS[listing.name]
            for row in listing.rows
            if _case_of_row(row).pk == self.case.pk
        ]
        if not candidates:
            return

        def fit(candidate: tuple[Listing, dict[str, Any]]) -> tuple[bool, bool]:
            listing, row = candidate
            offered = QUEUE_OPERATIONS[listing.name] + SUMMONS_OPERATIONS.get(listing.name, ())
            return self.op in offered, target_key(row["item"]) == self.key

        _listing, row = max(candidates, key=fit)
        row["refusal"] = self
        self.in_row = True
        if any(target_key(summons) == self.key for summons, _ops in row.get("summonses", ())):
            self.summons = self.key


def _case_of_row(row: dict[str, Any]) -> Case:
    item = row["item"]
    return item if isinstance(item, Case) else item.case


def _perform_posted(request: HttpRequest, township: Jurisdiction) -> _QueuePost:
    """Run the operation a queue's form posted, if the request is a post. No form when the
    post named nothing the queues show (then the request's message says so, status 400)."""
    if request.method != "POST":
        return _QueuePost()
    try:
        op, key = posted_operation(request)
        target = _queue_target(request, township, op, key)
    except BadPost:
        refuse_post(request)
        return _QueuePost(status=400)
    posted = perform(request, op, target, Choices(visible_cases=visible_cases(request.user)))
    case = target if isinstance(target, Case) else target.case
    return _QueuePost(posted, case, done="" if posted.form.errors else case.reference)


@login_required
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    viewer = Viewer.of(request.user)
    township, townships = desk_township(request, viewer)
    post = _perform_posted(request, township)
    units, office = _office(request, township)
    if post.done:
        # Back to where the case now stands in the queues (or the top when it left).
        return HttpResponseRedirect(f"{home_url(township, townships, office=office)}#q-{post.done}")
    posted = post.posted
    now = timezone.now()
    queues = township_queues(request.user, township, now, office=office)
    choices = Choices(visible_cases=visible_cases(request.user), duplicates=queues.duplicates)
    forms = OperationForms(request.user, choices, posted)
    action = home_url(township, townships, office=office)
    lists = {
        name: _listing(
            request,
            township,
            page,
            forms,
            action=action,
            own_page=False,
            office=office,
            duplicates=queues.duplicates,
        )
        for name, page in queues.pages.items()
    }
    counts = {name: page.count for name, page in queues.pages.items()}
    refusal = post.refusal()
    if refusal is not None:
        refusal.place(lists.values())
    context = {
        "township": township,
        "townships": townships,
        "board": township_board(request.user, township, now),
        "lists": lists,
        "home_url": action,
        "units": units,
        "office": office,
        "counts": {
            **counts,
            "check": counts["to_check"] + counts["to_close"],
            "oversight": counts["escalated"] + counts["notices"],
        },
        "today": timezone.localdate(),
        "refusal": refusal,
    }
    return render(request, "desk/dispatch/home.html", context, status=post.status)


@login_required
@require_http_methods(["GET", "POST"])
def queue(request: HttpRequest, name: str) -> HttpResponse:
    """One queue of the command centre, a page at a time (`?page=`).

    The command centre shows the first page of each queue; its "next" and "previous" links
    open the pages here. Asked for by htmx (from the command centre or from here), the
    answer is the page's list alone, which takes the place of the one shown; without
    JavaScript it is a page of its own, whose forms post back to it."""
    if name not in QUEUE_OPERATIONS:
        raise Http404
    viewer = Viewer.of(request.user)
    township, townships = desk_township(request, viewer)
    _units, office = _office(request, township)
    now = timezone.now()
    queues = TownshipQueues(request.user, township, now, office=office)
    count = queues.count(name)
    number = page_number(request.GET.get("page"), count, QUEUE_PAGE)
    here = queue_url(township, name, office=office, page=number)
    post = _perform_posted(request, township)
    if post.done:
        # Back to the same page of the queue (the case has left it, or moved within it).
        return HttpResponseRedirect(
            queue_url(township, name, office=office, page=number, anchor=f"q-{post.done}")
        )
    posted = post.posted
    page = queues.page(name, number, count)
    duplicates = duplicates_for(page.rows) if name == "reported" else {}
    choices = Choices(visible_cases=visible_cases(request.user), duplicates=duplicates)
    forms = OperationForms(request.user, choices, posted)
    listing = _listing(
        request,
        township,
        page,
        forms,
        action=here,
        own_page=True,
        office=office,
        duplicates=duplicates,
    )
    refusal = post.refusal()
    if refusal is not None:
        refusal.place([listing])
    context = {
        "township": township,
        "townships": townships,
        "listing": listing,
        "home_url": home_url(township, townships),
        "office": office,
        "today": timezone.localdate(),
        "refusal": refusal,
    }
    fragment = request.headers.get("HX-Request") == "true" and request.method == "GET"
    template = "desk/dispatch/list.html" if fragment else "desk/dispatch/queue.html"
    response = render(request, template, context, status=post.status)
    patch_vary_headers(response, ["HX-Request"])
    if fragment:
        response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def op_form(request: HttpRequest, name: str, key: str) -> HttpResponse:
    """One folded operation of the command centre's queues, rendered when it is opened.

    The queues fold every secondary operation (merge, reject, dispatch, release, ...) and
    load its form here on first opening, so that the page's size and time follow the cases
    it lists, not their cases times their forms. The same township, target and rights are
    checked as when the form is posted; a form that would not be offered is a 404.

    The form posts where the list it was opened in posts: the command centre, or, with
    `?queue=<name>&page=N`, that page of the queue (shown in its place by htmx, or as a
    page of its own), so that a refusal shows in the row it came from."""
    viewer = Viewer.of(request.user)
    township, townships = desk_township(request, viewer)
    office = _office(request, township)[1] if request.GET.get("office") else None
    origin = request.GET.get("queue", "")
    if origin and origin not in QUEUE_OPERATIONS:
        raise Http404
    if origin:
        # Unchecked against the queue's length: its page reads the number when posted to
        # (past the end, the last page), as when it is opened.
        asked = request.GET.get("page", "")
        page = int(asked) if asked.isascii() and asked.isdigit() and int(asked) > 1 else 1
        action = queue_url(township, origin, office=office, page=page)
    else:
        action = home_url(township, townships, office=office)
    op = OPERATIONS.get(name)
    pattern = TARGET_KEYS.get(op.target) if op is not None else None
    if op is None or op.target not in (CASE, SUMMONS) or (pattern and not pattern.fullmatch(key)):
        raise Http404
    try:
        target = _queue_target(request, township, op, key)
    except BadPost:
        raise Http404 from None
    forms = OperationForms(request.user, Choices(visible_cases=visible_cases(request.user)))
    item = forms.available(target, (name,)).get(name)
    if item is None:
        raise Http404
    response = render(
        request,
        "desk/dispatch/op_form.html",
        {"item": item, "action": action},
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """The live part of the command centre and its wall, polled every 5 seconds. Opened
    in the browser rather than asked for by htmx, the address answers with the whole page
    the part belongs to: the command centre, or its wall (``layout=wall``)."""
    if request.headers.get("HX-Request") != "true":
        page = wall if request.GET.get("layout") == "wall" else home
        response = page(request)
        patch_vary_headers(response, ["HX-Request"])
        return response
    if not request.user.is_authenticated:
        # The whole page goes to sign in: a board that kept its last figures would look live.
        return redirect_to_login(request.get_full_path())
    viewer = Viewer.of(request.user)
    township, _townships = desk_township(request, viewer)
    on_wall = request.GET.get("layout") == "wall"
    response = render(
        request,
        "desk/dispatch/board.html",
        {
            "board": township_board(request.user, township, timezone.now()),
            "wall": on_wall,
        },
    )
    response["Cache-Control"] = "private, no-store"
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def wall(request: HttpRequest) -> HttpResponse:
    viewer = Viewer.of(request.user)
    township, townships = desk_township(request, viewer)
    return render(
        request,
        "desk/dispatch/wall.html",
        {
            "township": township,
            "townships": townships,
            "board": township_board(request.user, township, timezone.now()),
            "wall": True,
            "home_url": home_url(township, townships),
        },
    )


def _rules(case: Case) -> list[dict[str, Any]]:
    """The time limits of each kind of whistle in the case's district, for the form."""
    found = []
    for kind in WhistleKind:
        rule = whistle_rule(case.district, kind.value)
        found.append(
            {
                "kind": kind.value,
                "label": kind.label,
                "acknowledge": time_limit_text(rule.acknowledge_within, rule.acknowledge_unit),
                "arrive": time_limit_text(rule.arrive_within, rule.arrive_unit),
            }
        )
    return found


@login_required
@require_http_methods(["GET", "POST"])
def whistle(request: HttpRequest, reference: str) -> HttpResponse:
    """Blow the whistle on a case: the kind, whom to summon, where to meet."""
    viewer = Viewer.of(request.user)
    case = prefetch_case(find_case(request.user, reference))
    op = OPERATIONS["whistle"]
    if not viewer.township_office(case.township_id):
        raise PermissionDenied
    if not op.allowed(request.user, case):
        messages.error(
            request,
            _("The whistle cannot be blown on this case now: its status is “%(status)s”.")
            % {"status": capfirst(case.get_status_display())},
        )
        return HttpResponseRedirect(case_url(case))
    choices = Choices(visible_cases=visible_cases(request.user))
    posted: Posted | None = None
    status = 200
    if request.method == "POST":
        if request.POST.get("target") != case.reference or request.POST.get("op") != op.name:
            refuse_post(request)
            status = 400
        else:
            posted = perform(request, op, case, choices)
            if not posted.form.errors:
                return HttpResponseRedirect(case_url(case))
    forms = OperationForms(request.user, choices, posted)
    made = forms.form_for(op, case)
    form = made.form
    suggestions = suggest_departments(case)
    suggested_ids = {s.department.pk for s in suggestions}
    chosen = set(request.POST.getlist(form.add_prefix("departments"))) if form.is_bound else set()
    others = [d for d in choices.departments(case.township) if d.pk not in suggested_ids]
    serving = {d.pk for d in choices.departments(case.township)}
    return render(
        request,
        "desk/dispatch/whistle.html",
        {
            "case": case,
            "made": made,
            "form": form,
            "suggestions": [s for s in suggestions if s.department.pk in serving],
            "others": others,
            "chosen": chosen,
            "rules": _rules(case),
            "map_features": {
                "case": {"lon": case.lon, "lat": case.lat, "label": case.reference},
                "lane": (
                    {"geometry": case.lane.centre_line, "label": case.lane.name}
                    if case.lane
                    else None
                ),
                "meeting": [],
                "check_ins": [],
            },
        },
        status=status,
    )
