"""django-otp's TOTP devices and django-axes's sign-in records in the admin, in the page's
language (the words themselves: whistle.accounts.admin_words). Each page is django-otp's or
django-axes's own, with the few headings they write in plain English translated.

The new addresses waiting for their code and the log of changes to where people are reached,
for superusers to read, so that they can tell someone why their number did not change. Only
the person's own steps and the worker change them; the admin shows the address masked."""

from __future__ import annotations

from typing import Any

from axes import admin as axes_admin
from axes.models import AccessAttempt
from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp import admin as totp_admin
from django_otp.plugins.otp_totp.models import TOTPDevice

from whistle.accounts.admin_words import TOTP_SECTIONS
from whistle.accounts.contact import MAX_WRONG_TRIES, masked_address
from whistle.accounts.models import ContactLogEntry, PendingContact
from whistle.organisation.admin_scope import SuperusersOnly


class TOTPDeviceAdmin(totp_admin.TOTPDeviceAdmin):
    search_help_text = _("Search by the user's username or email address")

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return [
            (TOTP_SECTIONS.get(name, name) if name else name, options)
            for name, options in super().get_fieldsets(request, obj)
        ]


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    @admin.display(description=_("Status"))
    def status(self, obj: AccessAttempt) -> str:
        return str(super().status(obj))

    @admin.action(description=_("Clean up expired attempts"))
    def cleanup_expired_attempts(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        count = self.handler.clean_expired_user_attempts(request=request)
        self.message_user(
            request,
            ngettext(
                "Cleaned up %(count)d expired access attempt.",
                "Cleaned up %(count)d expired access attempts.",
                count,
            )
            % {"count": count},
        )


def _in_place_of_theirs(model: type[Model], model_admin: type[admin.ModelAdmin[Any]]) -> None:
    # Their admin modules, imported above, have registered theirs (django-axes only with
    # AXES_ENABLE_ADMIN).
    if admin.site.is_registered(model):
        admin.site.unregister(model)
        admin.site.register(model, model_admin)


_in_place_of_theirs(TOTPDevice, TOTPDeviceAdmin)
_in_place_of_theirs(AccessAttempt, AccessAttemptAdmin)


class ReadOnlyRecord(SuperusersOnly, admin.ModelAdmin):
    """Rows written by the product's own steps: read here, never added, changed or deleted."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PendingContact)
class PendingContactAdmin(ReadOnlyRecord):
    list_display = ["person", "kind", "address_masked", "sent_at", "expires_at", "state"]
    list_filter = ["kind"]
    list_select_related = ["person"]
    search_fields = ["person__username", "person__name"]
    date_hierarchy = "sent_at"
    # Never the code's digest or salt; the address only masked.
    fields = readonly_fields = (
        "person",
        "kind",
        "address_masked",
        "sent_at",
        "expires_at",
        "wrong_tries",
        "state",
    )

    @admin.display(description=_("new address"))
    def address_masked(self, pending: PendingContact) -> str:
        return masked_address(pending.kind, pending.address)

    @admin.display(description=_("state"))
    def state(self, pending: PendingContact) -> str:
        if pending.wrong_tries >= MAX_WRONG_TRIES:
            return str(_("code entered wrongly too often"))
        if timezone.now() >= pending.expires_at:
            return str(_("code expired"))
        return str(_("waiting for its code"))


@admin.register(ContactLogEntry)
class ContactLogEntryAdmin(ReadOnlyRecord):
    list_display = ["at", "person", "kind", "step", "actor", "actor_role"]
    list_filter = ["step", "kind"]
    list_select_related = ["person", "actor"]
    search_fields = ["person__username", "person__name"]
    date_hierarchy = "at"
    fields = readonly_fields = ("at", "person", "kind", "step", "actor", "actor_role")
