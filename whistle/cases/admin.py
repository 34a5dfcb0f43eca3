"""Cases in the admin: to look, not to edit. Every change goes through whistle.cases.actions,
which writes the trail; an edit here would change the record without a trace."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from whistle.cases.actions.calendar_moves import (
    calendar_moves,
    describe_changes,
    move_deadlines_to_calendar,
    move_label,
    moves_count_text,
    read_changes,
)
from whistle.cases.callers import sees_caller, shown_event_data
from whistle.cases.models import Attachment, Case, Event, Summons, SupervisionNotice, Whistle
from whistle.cases.scoping import visible_cases
from whistle.cases.trail import EventKind
from whistle.organisation.admin_scope import ScopedLists, district_codes
from whistle.organisation.models import Jurisdiction
from whistle.organisation.personal_data import mask_name, mask_phone
from whistle.organisation.scoping import sees_everything

_KIND_LABELS = dict(EventKind.choices)


class WhatHappened:
    @admin.display(description=_("what happened"))
    def what_happened(self, event: Event) -> str:
        return str(_KIND_LABELS.get(event.kind, event.kind))


def sees_reporter(request: HttpRequest, case: Case | None) -> bool:
    """The admin shows a reporter's data as the product's pages do: in full to the
    township's call-back (and a superuser, who sees the database anyway), masked to others."""
    user = request.user
    return bool(user.is_superuser) or (case is not None and sees_caller(user, case))


def _masked(fields: Any, masked: dict[str, str]) -> list[Any]:
    return [masked.get(name, name) for name in fields]


class MaskedTrail:
    """An event's data with a name an old first event holds masked (`shown_event_data`)."""

    @admin.display(description=_("data"))
    def masked_data(self, event: Event) -> Any:
        return shown_event_data(None, event.case, event.data or {}, event.kind)


class WithinScope(ScopedLists):
    """Staff other than superusers see here only the cases the pages show them
    (`whistle.cases.scoping`), and rows of those cases; another case is 404, as on the pages.
    Which models they see at all is given by their groups' view permissions. The lists'
    filters by township or department offer only their districts' rows."""

    # The path from the row to its case.
    case_path = "case"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        rows: QuerySet[Any] = super().get_queryset(request)  # type: ignore[misc]
        if request.user.is_superuser:
            return rows
        return rows.filter(**{f"{self.case_path}__in": visible_cases(request.user).values("pk")})

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        row = super().get_object(request, object_id, from_field)  # type: ignore[misc]
        if row is None:
            raise Http404
        return row


class ReadOnly:
    """View permission only: no adding, changing or deleting from the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


SUMMONS_COLUMNS: tuple[str, ...] = (
    "department",
    "status",
    "summoned_at",
    "arrive_due_at",
    "arrived_at",
    "arrived_distance_m",
    "done_at",
    "left_at",
)
EVENT_COLUMNS: tuple[str, ...] = (
    "seq",
    "at",
    "what_happened",
    "actor",
    "actor_role",
    "summons",
    "data",
)


class SummonsInline(ReadOnly, admin.TabularInline):
    model = Summons
    fields = SUMMONS_COLUMNS
    readonly_fields = SUMMONS_COLUMNS
    extra = 0
    show_change_link = True


class EventInline(ReadOnly, WhatHappened, MaskedTrail, admin.TabularInline):
    model = Event
    fields = EVENT_COLUMNS
    readonly_fields = (*EVENT_COLUMNS, "masked_data")
    extra = 0
    ordering = ["seq"]
    verbose_name_plural = _("trail")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if sees_reporter(request, obj):
            return EVENT_COLUMNS
        return _masked(EVENT_COLUMNS, {"data": "masked_data"})


@admin.register(Case)
class CaseAdmin(WithinScope, ReadOnly, admin.ModelAdmin):
    case_path = "pk"
    list_display = [
        "reference",
        "status",
        "category",
        "township",
        "lane",
        "source",
        "escalation",
        "reported_at",
        "resolve_due_at",
    ]
    list_filter = ["status", "source", "escalation", "township"]
    search_fields = ["reference", "description", "external_id", "reporter_name"]
    date_hierarchy = "reported_at"
    list_select_related = ["category__major", "township", "lane"]
    inlines = [SummonsInline, EventInline]
    fieldsets = [
        (None, {"fields": ["reference", "status", "source", "category", "description"]}),
        (
            _("Place"),
            {
                "fields": [
                    "lon",
                    "lat",
                    "accuracy_m",
                    "address",
                    "district",
                    "township",
                    "community",
                    "lane",
                    "grid_cell",
                ]
            },
        ),
        (
            _("Reporter"),
            {"fields": ["reporter", "reporter_name", "reporter_phone", "external_id"]},
        ),
        (
            _("Course"),
            {
                "fields": [
                    "reported_at",
                    "filed_at",
                    "resolve_due_at",
                    "handled_at",
                    "checked_at",
                    "closed_at",
                    "evaluated_at",
                    "merged_into",
                    "rejection_reason",
                    "backlog_reason",
                    "backlog_review_on",
                    "rework_count",
                    "escalation",
                ]
            },
        ),
        (
            _("Evaluation"),
            {
                "fields": [
                    "township_rating",
                    "resident_satisfied",
                    "resident_called_back_at",
                    "resident_rating",
                    "resident_comment",
                    "resident_rated_at",
                ]
            },
        ),
        (_("Trail"), {"fields": ["trail_length", "trail_head"]}),
    ]

    def get_urls(self) -> list[URLPattern]:
        moves = self.admin_site.admin_view(self.calendar_moves_view)
        return [
            path("calendar-moves/", moves, name="cases_case_calendar_moves"),
            *super().get_urls(),
        ]

    def calendar_moves_view(self, request: HttpRequest) -> HttpResponse:
        """The open deadlines in working time that the calendar as it now stands moves, of
        the districts the person administers (a superuser: every district, or the one
        asked for), and the button that moves them (docs/calendar.md)."""
        districts = moving_districts(request)
        code = request.GET.get("district", "")
        if code:
            pool = districts if districts is not None else Jurisdiction.objects.filter(code=code)
            districts = [d for d in pool if d.code == code]
            if not districts:
                raise Http404
        token = request.POST.get("changes", request.GET.get("changes", ""))
        changes = read_changes(token)
        if request.method == "POST":
            summary = move_deadlines_to_calendar(
                districts, changes=changes, trigger="admin", by=request.user.get_username()
            )
            messages.success(request, summary.describe())
            query = {k: v for k, v in (("district", code), ("changes", token)) if v}
            return HttpResponseRedirect(request.path + ("?" + urlencode(query) if query else ""))
        moves = calendar_moves(districts)
        rows = [
            {
                "reference": m.reference,
                "deadline": move_label(m),
                "now": m.now,
                "would_be": m.would_be,
                "note": (
                    _("stays: the new moment has already passed")
                    if m.kept
                    else _("later")
                    if m.later
                    else _("earlier")
                ),
            }
            for m in moves
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Open deadlines the calendar moves"),
            "rows": rows,
            "summary": moves_count_text(moves),
            "change": describe_changes(changes),
            "token": token,
            "movable": any(not m.kept for m in moves),
            "districts": _(", ").join(d.display_name for d in districts)
            if districts is not None
            else _("every district"),
        }
        return TemplateResponse(request, "admin/cases/calendar_moves.html", context)

    def get_search_fields(self, request: HttpRequest) -> Any:
        # Searching by a name would tell who reported what to someone who may not see it.
        if request.user.is_superuser:
            return self.search_fields
        return [name for name in self.search_fields if name != "reporter_name"]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if sees_reporter(request, obj):
            return fieldsets
        masked = {
            "reporter_name": "masked_reporter_name",
            "reporter_phone": "masked_reporter_phone",
        }
        return [
            (title, {**options, "fields": _masked(options["fields"], masked)})
            for title, options in fieldsets
        ]

    @admin.display(description=_("reporter's name"))
    def masked_reporter_name(self, case: Case) -> str:
        return mask_name(case.reporter_name)

    @admin.display(description=_("reporter's phone"))
    def masked_reporter_phone(self, case: Case) -> str:
        return mask_phone(case.reporter_phone)


@admin.register(Summons)
class SummonsAdmin(WithinScope, ReadOnly, admin.ModelAdmin):
    list_display = [
        "case",
        "department",
        "status",
        "summoned_at",
        "arrive_due_at",
        "arrived_at",
        "resolve_due_at",
        "done_at",
        "next_check_at",
    ]
    list_filter = ["status", "check_in_flag", "ruling", "department"]
    search_fields = ["case__reference", "department__name"]
    list_select_related = ["case", "department"]


@admin.register(Whistle)
class WhistleAdmin(WithinScope, ReadOnly, admin.ModelAdmin):
    list_display = ["case", "kind", "township", "blown_by", "blown_at", "closed_at"]
    list_filter = ["kind", "township"]
    search_fields = ["case__reference", "meeting_point"]
    list_select_related = ["case", "township", "blown_by"]


@admin.register(SupervisionNotice)
class SupervisionNoticeAdmin(WithinScope, ReadOnly, admin.ModelAdmin):
    list_display = ["case", "department", "issued_by", "issued_at", "due_at", "answered_at"]
    list_filter = ["department"]
    search_fields = ["case__reference", "text"]
    list_select_related = ["case", "department", "issued_by"]


@admin.register(Attachment)
class AttachmentAdmin(WithinScope, ReadOnly, admin.ModelAdmin):
    list_display = ["case", "purpose", "content_type", "size", "uploaded_by", "uploaded_at"]
    list_filter = ["purpose", "content_type"]
    search_fields = ["case__reference", "sha256"]
    list_select_related = ["case", "uploaded_by"]


@admin.register(Event)
class EventAdmin(WithinScope, ReadOnly, WhatHappened, MaskedTrail, admin.ModelAdmin):
    list_display = ["case", "seq", "at", "what_happened", "actor", "actor_role", "summons"]
    list_filter = ["kind"]
    search_fields = ["case__reference", "hash"]
    list_select_related = ["case", "actor", "summons__department"]
    ordering = ["-at"]
    readonly_fields = ["masked_data"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = [name for name in super().get_fields(request, obj) if name != "masked_data"]
        if obj is not None and sees_reporter(request, obj.case):
            return fields
        return _masked(fields, {"data": "masked_data"})


def moving_districts(request: HttpRequest) -> list[Jurisdiction] | None:
    """The districts whose deadlines this person may move when the calendar changes: those
    they administer; None (every district) for whoever sees every district."""
    person = request.user
    if sees_everything(person):
        return None
    codes = district_codes(person, administered=True)
    if not codes:
        raise PermissionDenied
    return list(Jurisdiction.objects.filter(code__in=sorted(codes)).order_by("code"))
