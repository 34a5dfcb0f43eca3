"""Patrols in the admin, to look at: every change goes through `whistle.patrols.actions`."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from whistle.organisation.admin_scope import SuperusersOnly
from whistle.patrols.models import CheckResult, Patrol, PatrolEvent


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CheckInline(ReadOnlyInline):
    model = CheckResult
    fields = ["label", "result", "outcome", "case", "checked_at"]


class EventInline(ReadOnlyInline):
    model = PatrolEvent
    fields = ["at", "kind", "actor", "data"]


@admin.register(Patrol)
class PatrolAdmin(SuperusersOnly, admin.ModelAdmin):
    list_display = [
        "lane",
        "person",
        "role",
        "started_at",
        "ended_at",
        "distance_m",
        "covered_ratio",
        "location",
    ]
    list_filter = ["role", "location", "lane__township"]
    search_fields = ["lane__name", "person__username", "person__name"]
    date_hierarchy = "started_at"
    list_select_related = ["lane", "person"]
    inlines = [CheckInline, EventInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
