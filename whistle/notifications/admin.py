from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from whistle.notifications.delivery import retry_failed
from whistle.notifications.models import Notification, NotificationPreference, WebhookEndpoint

_WHO = ("uuid", "channel", "kind", "recipient", "endpoint", "address")
_WHAT = ("subject", "body", "link", "payload", "dedupe_key")
_HOW = ("status", "attempts", "next_attempt_at", "last_error", "created_at", "sent_at", "read_at")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "channel",
        "kind",
        "subject",
        "recipient",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "read_at",
    ]
    list_filter = ["status", "channel", "kind"]
    list_select_related = ["recipient", "endpoint"]
    search_fields = ["subject", "address", "dedupe_key", "recipient__username", "recipient__name"]
    date_hierarchy = "created_at"
    actions = ["retry"]
    fieldsets = [
        (None, {"fields": _WHO}),
        (_("Message"), {"fields": _WHAT}),
        (_("Delivery"), {"fields": _HOW}),
    ]
    # Rows are the record of what was sent: only the retry action changes them.
    readonly_fields = [*_WHO, *_WHAT, *_HOW]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Notifications are queued by the system's actions, never typed in.
        return False

    @admin.action(description=_("Send the selected failed notifications again"))
    def retry(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        count = retry_failed(queryset, now=timezone.now())
        messages.success(
            request,
            ngettext(
                "%(count)d notification queued again.",
                "%(count)d notifications queued again.",
                count,
            )
            % {"count": count},
        )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "is_active", "event_kinds", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["person", "email", "sms"]
    list_filter = ["email", "sms"]
    search_fields = ["person__username", "person__name"]
    autocomplete_fields = ["person"]
