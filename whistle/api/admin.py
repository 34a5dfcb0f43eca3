"""Service tokens in the admin: an administrator makes one for a system account (a person
set up with the roles a connected system needs); its secret is shown once, on the page
that follows. Tokens are revoked here too; nobody edits a token's secret or digest."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from whistle.api import tokens
from whistle.api.models import ApiToken
from whistle.cases.errors import ActionRefused
from whistle.organisation.admin_scope import SuperusersOnly
from whistle.organisation.admin_secrets import shown_once
from whistle.organisation.models import Person


class ServiceTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["name", "person", "roles", "expires_at"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        person = data.get("person")
        if person is not None and any(r.person_id != person.pk for r in data.get("roles", [])):
            self.add_error("roles", gettext("A token carries only roles its person holds."))
        return data


@admin.register(ApiToken)
class ApiTokenAdmin(SuperusersOnly, admin.ModelAdmin):
    list_display = ["name", "prefix", "person", "kind", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["kind"]
    search_fields = ["name", "prefix", "person__username", "person__name"]
    readonly_fields = ["prefix", "kind", "created_at", "created_by", "last_used_at", "revoked_at"]
    filter_horizontal = ["roles"]
    actions = ["revoke"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = ServiceTokenForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["name", "person", "roles", "expires_at"]
        return [
            "name",
            "person",
            "prefix",
            "kind",
            "roles",
            "expires_at",
            "created_at",
            "created_by",
            "last_used_at",
            "revoked_at",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        return [
            "name",
            "person",
            "prefix",
            "kind",
            "roles",
            "expires_at",
            "created_at",
            "created_by",
            "last_used_at",
            "revoked_at",
        ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return tokens.may_issue_service_tokens(request.user)

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            return
        issued = tokens.issue_token(
            request.user,  # type: ignore[arg-type]
            person=form.cleaned_data["person"],
            name=form.cleaned_data["name"],
            roles=list(form.cleaned_data["roles"]) or None,
            expires_at=form.cleaned_data["expires_at"],
            kind=ApiToken.Kind.SERVICE,
        )
        obj.pk = issued.token.pk
        obj.refresh_from_db()
        # For the page that follows, not a message: messages wait for the next page in a
        # cookie.
        obj.shown_once = issued.secret  # type: ignore[attr-defined]

    def response_add(self, request: HttpRequest, obj: ApiToken, *args: Any) -> Any:
        secret = (obj.name, obj.shown_once)  # type: ignore[attr-defined]
        return shown_once(self, request, gettext("New service token"), [secret])

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The roles were set when the token was made.
        return None

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        person = request.user
        assert isinstance(person, Person)
        for token in queryset:
            try:
                tokens.revoke_token(person, token)
            except ActionRefused:
                continue
