from typing import Any
from urllib.parse import parse_qs, urlsplit

from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from whistle.notifications.delivery import retry_failed
from whistle.notifications.kinds import ROBOT_TEST
from whistle.notifications.models import (
    GroupRobot,
    Notification,
    NotificationPreference,
    PushSubscription,
    WebhookEndpoint,
    new_webhook_secret,
)
from whistle.notifications.outbox import notify_robots
from whistle.organisation.admin_scope import SuperusersOnly
from whistle.organisation.admin_secrets import shown_once

_WHO = ("uuid", "channel", "kind", "recipient", "audience", "endpoint", "robot", "address")
_WHAT = ("subject", "body", "link", "payload", "dedupe_key")
_HOW = (
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "created_at",
    "sent_at",
    "delivered_at",
    "read_at",
    "provider_ref",
    "fallback_channels",
    "fell_through_at",
)


@admin.register(Notification)
class NotificationAdmin(SuperusersOnly, admin.ModelAdmin):
    list_display = [
        "created_at",
        "channel",
        "kind",
        "subject",
        "recipient",
        "audience",
        "endpoint",
        "robot",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "read_at",
    ]
    list_filter = ["status", "channel", "kind"]
    list_select_related = ["recipient", "endpoint", "robot"]
    search_fields = [
        "subject",
        "address",
        "dedupe_key",
        "audience",
        "recipient__username",
        "recipient__name",
    ]
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
class WebhookEndpointAdmin(SuperusersOnly, admin.ModelAdmin):
    """The signing secret is made here and shown once, on the page that follows; after that
    it can only be renewed. It cannot be hashed: every delivery is signed with it."""

    list_display = ["name", "url", "is_active", "event_kinds", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    fields = ["name", "url", "is_active", "event_kinds", "signing_secret"]
    readonly_fields = ["signing_secret"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    actions = ["renew_secret"]

    @admin.display(description=_("signing secret"))
    def signing_secret(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.pk is None:
            return str(_("Made when the endpoint is saved, and shown once."))
        return str(_("Set; not shown again. Renew it from the list to get a new one."))

    def response_add(self, request: HttpRequest, obj: WebhookEndpoint, *args: Any) -> Any:
        return self._shown_once(request, [obj])

    @admin.action(description=_("Renew the signing secret of the selected endpoints"))
    def renew_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> Any:
        endpoints = list(queryset)
        with transaction.atomic():
            for endpoint in endpoints:
                endpoint.secret = new_webhook_secret()
                endpoint.save(update_fields=["secret"])
        return self._shown_once(request, endpoints)

    def _shown_once(self, request: HttpRequest, endpoints: list[WebhookEndpoint]) -> Any:
        secrets = [(endpoint.name, endpoint.secret) for endpoint in endpoints]
        return shown_once(self, request, str(_("New signing secrets")), secrets)


def _key_from(value: str) -> str:
    """The key itself, also when the whole webhook URL was pasted (?key=… or
    ?access_token=…)."""
    value = value.strip()
    if "://" in value:
        query = parse_qs(urlsplit(value).query)
        for name in ("key", "access_token"):
            if query.get(name):
                return query[name][0]
    return value


class GroupRobotForm(forms.ModelForm):
    # Never rendered back: an empty field on a robot that has one keeps the stored value.
    key = forms.CharField(
        label=_("webhook key"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "The key (WeCom) or access_token (DingTalk), or the whole webhook URL. Not shown "
            "again: leave empty to keep the stored one."
        ),
    )
    secret = forms.CharField(
        label=_("signing secret"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "DingTalk's 加签 secret (starts with SEC). Not shown again: leave empty to keep "
            "the stored one."
        ),
    )
    clear_secret = forms.BooleanField(label=_("remove the signing secret"), required=False)

    class Meta:
        model = GroupRobot
        fields = [
            "name",
            "platform",
            "department",
            "township",
            "key",
            "secret",
            "clear_secret",
            "message_format",
            "event_kinds",
            "per_minute",
            "is_active",
        ]

    def clean_key(self) -> str:
        key = _key_from(self.cleaned_data.get("key", ""))
        if not key:
            if self.instance.pk and self.instance.key:
                return self.instance.key
            raise forms.ValidationError(_("Enter the robot's key."))
        return key

    def clean_secret(self) -> str:
        secret = self.cleaned_data.get("secret", "")
        if not secret and self.instance.pk and not self.data.get("clear_secret"):
            return self.instance.secret
        return secret

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("clear_secret"):
            cleaned["secret"] = ""
        if (
            cleaned.get("platform") == GroupRobot.Platform.DINGTALK
            and cleaned.get("secret")
            and not str(cleaned["secret"]).startswith("SEC")
        ):
            self.add_error("secret", _("A DingTalk signing secret starts with SEC."))
        return cleaned


@admin.register(GroupRobot)
class GroupRobotAdmin(SuperusersOnly, admin.ModelAdmin):
    form = GroupRobotForm
    list_display = ["name", "platform", "department", "township", "is_active", "signed"]
    list_filter = ["platform", "is_active"]
    list_select_related = ["department", "township"]
    search_fields = ["name", "department__name", "township__name"]
    autocomplete_fields = ["department", "township"]
    actions = ["send_test"]

    @admin.action(description=_("Send a test message to the selected robots"))
    def send_test(self, request: HttpRequest, queryset: QuerySet[GroupRobot]) -> None:
        # The key is never shown again: a test message is how an administrator sees it works.
        count = notify_robots(
            queryset.filter(is_active=True),
            kind=ROBOT_TEST.code,
            subject=str(_("Test message from Whistle")),
            body=str(
                _("Sent by %(who)s from the administration to check this group robot.")
                % {"who": request.user}
            ),
        )
        messages.success(
            request,
            ngettext(
                "%(count)d test message queued; it arrives within a minute.",
                "%(count)d test messages queued; they arrive within a minute.",
                count,
            )
            % {"count": count},
        )

    @admin.display(boolean=True, description=_("signed (加签)"))
    def signed(self, robot: GroupRobot) -> bool:
        return bool(robot.secret)


@admin.register(PushSubscription)
class PushSubscriptionAdmin(SuperusersOnly, admin.ModelAdmin):
    list_display = ["person", "user_agent", "created_at", "last_success_at"]
    list_select_related = ["person"]
    search_fields = ["person__username", "person__name", "user_agent"]
    # Not the push service's address or the browser's keys: whoever holds them can write to
    # the person's browser.
    fields = ["person", "user_agent", "created_at", "last_success_at"]
    readonly_fields = ["person", "user_agent", "created_at", "last_success_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Only a browser can subscribe: it alone holds the keys.
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(SuperusersOnly, admin.ModelAdmin):
    list_display = ["person", "channels", "quiet_from", "quiet_until", "updated_at"]
    search_fields = ["person__username", "person__name"]
    autocomplete_fields = ["person"]
