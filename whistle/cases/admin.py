"""Cases in the admin: to look, not to edit. Every change goes through whistle.cases.actions,
which writes the trail; an edit here would change the record without a trace."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from whistle.cases.callers import mask_name, mask_phone
from whistle.cases.models import Attachment, Case, Event, Summons, SupervisionNotice, Whistle
from whistle.cases.trail import EventKind
from whistle.organisation.admin_scope import SuperusersOnly

_KIND_LABELS = dict(EventKind.choices)


class WhatHappened:
    @admin.display(description=_("what happened"))
    def what_happened(self, event: Event) -> str:
        return str(_KIND_LABELS.get(event.kind, event.kind))


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


class EventInline(ReadOnly, WhatHappened, admin.TabularInline):
    model = Event
    fields = EVENT_COLUMNS
    readonly_fields = EVENT_COLUMNS
    extra = 0
    ordering = ["seq"]
    verbose_name_plural = _("trail")


@admin.register(Case)
class CaseAdmin(SuperusersOnly, ReadOnly, admin.ModelAdmin):
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
    # Not by the caller's name: a search would tell who called, masked or not.
    search_fields = ["reference", "description", "external_id"]
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
            {"fields": ["reporter", "caller_name", "caller_phone", "external_id"]},
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
    readonly_fields = ["caller_name", "caller_phone"]

    # Masked for everyone, superusers included: the call-back is made from the township's
    # desk, which shows the data in full to the people who call.
    @admin.display(description=_("caller's name"))
    def caller_name(self, case: Case) -> str:
        return mask_name(case.reporter_name)

    @admin.display(description=_("caller's phone"))
    def caller_phone(self, case: Case) -> str:
        return mask_phone(case.reporter_phone)


@admin.register(Summons)
class SummonsAdmin(SuperusersOnly, ReadOnly, admin.ModelAdmin):
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
class WhistleAdmin(SuperusersOnly, ReadOnly, admin.ModelAdmin):
    list_display = ["case", "kind", "township", "blown_by", "blown_at", "closed_at"]
    list_filter = ["kind", "township"]
    search_fields = ["case__reference", "meeting_point"]
    list_select_related = ["case", "township", "blown_by"]


@admin.register(SupervisionNotice)
class SupervisionNoticeAdmin(SuperusersOnly, ReadOnly, admin.ModelAdmin):
    list_display = ["case", "department", "issued_by", "issued_at", "due_at", "answered_at"]
    list_filter = ["department"]
    search_fields = ["case__reference", "text"]
    list_select_related = ["case", "department", "issued_by"]


@admin.register(Attachment)
class AttachmentAdmin(SuperusersOnly, ReadOnly, admin.ModelAdmin):
    list_display = ["case", "purpose", "content_type", "size", "uploaded_by", "uploaded_at"]
    list_filter = ["purpose", "content_type"]
    search_fields = ["case__reference", "sha256"]
    list_select_related = ["case", "uploaded_by"]


@admin.register(Event)
class EventAdmin(SuperusersOnly, ReadOnly, WhatHappened, admin.ModelAdmin):
    list_display = ["case", "seq", "at", "what_happened", "actor", "actor_role", "summons"]
    list_filter = ["kind"]
    search_fields = ["case__reference", "hash"]
    list_select_related = ["case", "actor", "summons__department"]
    ordering = ["-at"]
