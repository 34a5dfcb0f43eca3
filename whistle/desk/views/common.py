"""What the desk views share: finding the case a person may see, and the operation and
target a form posted."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from whistle.cases.models import Case, Summons, SupervisionNotice, Whistle
from whistle.cases.scoping import visible_cases
from whistle.desk.operations import (
    NOTICE,
    OPERATIONS,
    SUMMONS,
    Choices,
    Operation,
    Posted,
)
from whistle.web.forms import add_refusal, refusals

CASE_RELATED = (
    "category__major",
    "lane",
    "township",
    "district",
    "community",
    "reporter",
    "merged_into",
    "office",
    "hotline_order",
)


def find_case(person: Any, reference: str) -> Case:
    """The case with this reference among those the person may see; 404 otherwise, so
    that a case outside one's area cannot even be confirmed to exist."""
    case = (
        visible_cases(person)
        .select_related(*CASE_RELATED)
        .filter(reference=reference.strip().upper())
        .first()
    )
    if case is None:
        raise Http404
    return case


def prefetch_case(case: Case) -> Case:
    """Load what the case page and its buttons read, once."""
    prefetch_related_objects(
        [case],
        Prefetch(
            "summonses",
            queryset=Summons.objects.select_related(
                "department", "whistle", "acknowledged_by", "named_department"
            ).order_by("summoned_at", "pk"),
        ),
        Prefetch("whistles", queryset=Whistle.objects.select_related("blown_by")),
    )
    return case


class BadPost(Exception):
    """A POST that names no operation, or a target the page does not show."""


# What a form says when it did not come from the page as it is now (a tampered form, or a
# page kept open while the case moved on): the page answers 400 with this at the top.
BAD_POST = _("This form does not match anything on the page. Reload the page and try again.")

# A target as the pages write it: a summons by its UUID in 32 lower-case hexadecimal
# digits, a supervision notice by its id in ASCII digits. Anything else ("²", a UUID with
# hyphens or in upper case) was not written by a page.
TARGET_KEYS = {
    SUMMONS: re.compile(r"[0-9a-f]{32}"),
    NOTICE: re.compile(r"[1-9][0-9]{0,17}"),
}


def refuse_post(request: HttpRequest) -> None:
    messages.error(request, BAD_POST)


def posted_operation(request: HttpRequest) -> tuple[Operation, str]:
    """The operation and the target key a form posted; BadPost when either is malformed."""
    op = OPERATIONS.get(request.POST.get("op", ""))
    if op is None:
        raise BadPost
    key = request.POST.get("target", "")
    pattern = TARGET_KEYS.get(op.target)
    if pattern is not None and not pattern.fullmatch(key):
        raise BadPost
    return op, key


def case_target(case: Case, op: Operation, key: str) -> Any:
    """The target of an operation posted on a case: the case, one of its summonses or one
    of its supervision notices."""
    if op.target == SUMMONS:
        summons = next((s for s in case.summonses.all() if s.uuid.hex == key), None)
        if summons is None:
            raise BadPost
        summons.case = case
        return summons
    if op.target == NOTICE:
        notice = (
            SupervisionNotice.objects.select_related("department", "summons")
            .filter(case=case, pk=int(key))
            .first()
        )
        if notice is None:
            raise BadPost
        notice.case = case
        return notice
    if key != case.reference:
        raise BadPost
    return case


def safe_next(request: HttpRequest, default: str) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default


# Where a refusal waits in the session for the page that shows it (`keep_refusal`).
KEPT_REFUSAL = "desk.refusal"


def keep_refusal(request: HttpRequest, posted: Posted) -> HttpResponseRedirect | None:
    """A refusal the action recorded, of an operation that answers it with a redirect
    (`Operation.redirect_refusal`: a check-in refused): its words kept in the session for
    the page's next showing, and the redirect to the page at the form. Reloading that page
    shows the page again, not the form sent again. None for anything else."""
    if not (posted.recorded and posted.op.redirect_refusal):
        return None
    request.session[KEPT_REFUSAL] = {
        "path": request.path,
        "op": posted.op.name,
        "key": posted.key,
        "refusals": refusals(posted.form),
    }
    return HttpResponseRedirect(f"{request.get_full_path()}#op-{posted.op.name}-{posted.key}")


def kept_refusal(
    request: HttpRequest, target_of: Callable[[Operation, str], Any], choices: Choices
) -> Posted | None:
    """The refusal kept for this page (`keep_refusal`), taken out of the session so that it
    shows once: on its form, as the answer to the form showed it; at the top of the page
    when the form is no longer offered (`unplaced_errors`)."""
    kept = request.session.get(KEPT_REFUSAL)
    if not isinstance(kept, dict) or kept.get("path") != request.path:
        return None
    del request.session[KEPT_REFUSAL]
    op = OPERATIONS.get(str(kept.get("op")))
    words = [str(line) for line in kept.get("refusals") or []]
    key = str(kept.get("key"))
    if op is None:
        return None
    try:
        target = target_of(op, key)
    except BadPost:
        for line in words:
            messages.error(request, line)
        return None
    # Unbound: the page offers the form empty, the refusal its only error (an unbound form
    # cleans nothing, so it has no cleaned data for `add_error` to look through).
    form = op.form_class(prefix=f"{op.name}-{key}", target=target, choices=choices)
    form.cleaned_data = {}
    for line in words:
        add_refusal(form, line)
    return Posted(op, key, form, recorded=True)
