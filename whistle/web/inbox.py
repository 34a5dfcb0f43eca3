"""The notification centre: every signed-in person's inbox, its filters, marking read, and
the header's unread count that open pages poll.

Each entry is an in-app row of the outbox (`whistle.notifications`). Nobody sees or marks
another person's entries: an id that is not one's own is not found.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from whistle.notifications import texts
from whistle.notifications.actions import read_all, read_notification
from whistle.notifications.kinds import kind_of
from whistle.notifications.models import Notification
from whistle.notifications.outbox import Reading, inbox, inbox_state, unread_count
from whistle.organisation.models import Person
from whistle.web.chrome import inbox_badge
from whistle.web.forms import DateInput, check_day_range, within_days
from whistle.web.views import HTMX_STOP_POLLING

PER_PAGE = 20
# The event that a changed count raises on the page (htmx's HX-Trigger): the inbox list and
# the department desk refresh on it.
CHANGED_EVENT = "inbox-changed"
# Case references are upper-case letters and digits (whistle.cases.models.new_reference).
_REFERENCE = re.compile(r"[0-9A-Z]{1,12}")


class InboxFilter(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("Show"),
        required=False,
        choices=[("all", gettext_lazy("All")), ("unread", gettext_lazy("Unread only"))],
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), required=False)
    case = forms.CharField(
        label=gettext_lazy("Case reference"),
        required=False,
        max_length=12,
        error_messages={"max_length": gettext_lazy("A case reference has at most 12 letters.")},
    )
    since = forms.DateField(
        label=gettext_lazy("From date"),
        required=False,
        widget=DateInput(),
    )
    until = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        widget=DateInput(),
    )

    def __init__(self, *args: Any, kinds: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["kind"])
        labelled = sorted(
            ((code, capfirst(str(kind_of(code).label))) for code in kinds), key=lambda c: c[1]
        )
        field.choices = [("", _("Every kind")), *labelled]

    def clean_case(self) -> str:
        reference = str(self.cleaned_data.get("case") or "").strip().upper()
        if reference and not _REFERENCE.fullmatch(reference):
            raise forms.ValidationError(_("A case reference has only letters and digits."))
        return reference

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        check_day_range(self)
        return cleaned


def active_filters(form: InboxFilter) -> dict[str, Any]:
    """The filters the form sets that are valid; an invalid one is left out."""
    form.is_valid()
    return {
        name: value
        for name, value in form.cleaned_data.items()
        if value and not (name == "state" and value == "all")
    }


def filtered(entries: QuerySet[Notification], values: dict[str, Any]) -> QuerySet[Notification]:
    if values.get("state") == "unread":
        # `seen_at` is the annotation `inbox` gives each row.
        entries = entries.filter(seen_at__isnull=True)  # type: ignore[misc]
    if values.get("kind"):
        entries = entries.filter(kind=values["kind"])
    if values.get("case"):
        entries = entries.filter(payload__case=values["case"])
    return within_days(entries, "created_at", values.get("since"), values.get("until"))


@dataclass(frozen=True)
class Entry:
    """One inbox entry as the list shows it."""

    notification: Notification

    @property
    def kind_label(self) -> str:
        return str(kind_of(self.notification.kind).label)

    @property
    def urgent(self) -> bool:
        return kind_of(self.notification.kind).urgent

    @property
    def subject(self) -> str:
        """The subject in the reader's language where the message keeps its words
        (`whistle.notifications.texts`), else as it was sent."""
        row = self.notification
        return texts.subject_of(row.payload, row.subject)

    @property
    def body(self) -> str:
        row = self.notification
        return texts.body_of(row.payload, row.body)

    @property
    def case(self) -> str:
        payload = self.notification.payload
        return str(payload.get("case", "")) if isinstance(payload, dict) else ""


def _person(request: HttpRequest) -> Person:
    return cast(Person, request.user)


@login_required
@require_GET
def inbox_page(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    reading = Reading.of(person)
    mine = inbox(person, reading=reading)
    kinds = list(mine.order_by().values_list("kind", flat=True).distinct())
    form = InboxFilter(request.GET or None, kinds=kinds)
    values = active_filters(form) if form.is_bound else {}
    entries = filtered(mine, values)
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "unread": unread_count(person, reading=reading),
        "entries": [Entry(n) for n in page.object_list],
        "filtered": bool(values),
        # Nothing to filter: no entry at all, and no filter set (to clear).
        "filterable": bool(kinds or values) or (form.is_bound and bool(form.errors)),
    }
    template = "web/inbox.html"
    if request.headers.get("HX-Target") == "inbox-list":
        template = "web/partials/inbox_list.html"
    response = render(request, template, context)
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def badge(request: HttpRequest) -> HttpResponse:
    """The header's unread count, polled by every open page: 204 while it is as the page shows
    it (``?v=``), the count again when it changed, and an event for the page's lists."""
    if not request.user.is_authenticated:
        return HttpResponse(status=HTMX_STOP_POLLING)
    state = inbox_state(_person(request))
    if request.GET.get("v") == state.version:
        response = HttpResponse(status=204)
    else:
        page = urlsplit(request.headers.get("HX-Current-URL", "")).path
        response = render(request, "web/partials/inbox_badge.html", inbox_badge(state, page))
        response["HX-Trigger"] = json.dumps({CHANGED_EVENT: {"unread": state.unread}})
    response["Cache-Control"] = "private, no-store"
    return response


def _back(request: HttpRequest) -> HttpResponseRedirect:
    """Back to the list the person came from (its filters kept), on this site only."""
    target = request.POST.get("next", "")
    inbox_url = reverse("web:inbox")
    if not target.startswith(inbox_url) or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = inbox_url
    return HttpResponseRedirect(target)


def _own(request: HttpRequest, public_id: uuid.UUID) -> Notification:
    try:
        return read_notification(_person(request), public_id)
    except Notification.DoesNotExist:
        raise Http404 from None


@login_required
@require_GET
def open_entry(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Opening an entry reads it and goes on to its case or summons."""
    entry = _own(request, public_id)
    link = entry.link
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(link)
    return HttpResponseRedirect(reverse("web:inbox"))


@login_required
@require_POST
def mark_read(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    _own(request, public_id)
    return _back(request)


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = read_all(_person(request))
    messages.success(
        request,
        ngettext(
            "%(count)d notification marked read.", "%(count)d notifications marked read.", count
        )
        % {"count": count},
    )
    return _back(request)
