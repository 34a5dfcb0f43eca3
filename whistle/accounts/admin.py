"""django-otp's TOTP devices and django-axes's sign-in records in the admin, in the page's
language (the words themselves: whistle.accounts.admin_words). Each page is django-otp's or
django-axes's own, with the few headings they write in plain English translated."""

from __future__ import annotations

from typing import Any

from axes import admin as axes_admin
from axes.models import AccessAttempt
from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp import admin as totp_admin
from django_otp.plugins.otp_totp.models import TOTPDevice

from whistle.accounts.admin_words import TOTP_SECTIONS


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
