"""Service tokens in the admin: an administrator makes one for a system account (a person
set up with the roles a connected system needs); its secret is shown once, on the page
that follows. Tokens are revoked here too; nobody edits a token's secret or digest."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from whistle.api import tokens
from whistle.api.models import ApiToken
from whistle.cases.errors import ActionRefused, InvalidInput
from whistle.organisation.admin_people import PicksPeople, held
from whistle.organisation.admin_scope import SuperusersOnly
from whistle.organisation.admin_secrets import shown_once
from whistle.organisation.models import Person, RoleAssignment


def _chosen_person(form: forms.ModelForm) -> Person | None:
    """The person the token acts as: as sent, or as the page was opened (`?person=`)."""
    value = form.data.get("person") if form.is_bound else form.initial.get("person")
    if isinstance(value, Person):
        return value
    try:
        return Person.objects.filter(pk=int(str(value))).first()
    except (TypeError, ValueError):
        return None


class ServiceTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["name", "person", "roles", "expires_at"]
        widgets = {"roles": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Picked by typing and labelled as `PicksPeople` makes the field.
        self.fields["person"].help_text = _(
            "The system account the token acts as. Type a name or a username: each choice "
            "names the person, their username, the districts of their roles and the roles "
            "themselves with where they are held."
        )
        roles = self.fields["roles"]
        assert isinstance(roles, forms.ModelMultipleChoiceField)
        person = _chosen_person(self)
        theirs = RoleAssignment.objects.filter(person=person).select_related(
            "jurisdiction", "lane", "department"
        )
        roles.queryset = theirs if person is not None else RoleAssignment.objects.none()
        roles.label_from_instance = held  # type: ignore[assignment]
        roles.error_messages["invalid_choice"] = _(
            "A token carries only roles its person holds: choose among the roles of the "
            "person it acts as."
        )
        roles.help_text = _(
            "Only the roles of the person the token acts as are offered, once the person is "
            "chosen. None ticked: all of that person's roles."
        )
        expires = self.fields["expires_at"]
        expires.help_text = _(
            "Filled in with %(days)s days from now (WHISTLE_API_TOKEN_DEFAULT_DAYS); at most "
            "%(max)s days."
        ) % {"days": tokens.default_days(), "max": tokens.max_days()}

    def clean_expires_at(self) -> Any:
        # Said on the field, as the token's action would refuse it on saving.
        try:
            return tokens.clean_expiry(self.cleaned_data.get("expires_at"), timezone.now())
        except InvalidInput as refused:
            raise forms.ValidationError(str(refused)) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        person = data.get("person")
        if person is not None and any(r.person_id != person.pk for r in data.get("roles", [])):
            self.add_error("roles", gettext("A token carries only roles its person holds."))
        return data


ADD_DESCRIPTION = _(
    "Service tokens for other systems are made here: the 12345 hotline platform, a district "
    "dashboard. First make the system a person of its own with the roles it needs (People), "
    "then a token that acts as that person. The token's secret is shown once, on the page "
    'after saving. See docs/api.md, sections "Authentication and tokens" and "12345 work '
    "orders\" (the platform's service token)."
)


@admin.register(ApiToken)
class ApiTokenAdmin(PicksPeople, SuperusersOnly, admin.ModelAdmin):
    list_display = ["name", "prefix", "person", "kind", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["kind"]
    search_fields = ["name", "prefix", "person__username", "person__name"]
    readonly_fields = ["prefix", "kind", "created_at", "created_by", "last_used_at", "revoked_at"]
    autocomplete_fields = ["person"]
    actions = ["revoke"]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial: dict[str, Any] = dict(super().get_changeform_initial_data(request))
        if "expires_at" not in initial:
            soon = timezone.localtime() + timedelta(days=tokens.default_days())
            initial["expires_at"] = soon.replace(second=0, microsecond=0)
        return initial

    @property
    def media(self) -> forms.Media:
        # On the form for a new token: choosing the person offers that person's roles.
        return super().media + forms.Media(js=["whistle/admin-token.js"])

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = ServiceTokenForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            fields = ["name", "person", "roles", "expires_at"]
            return [(None, {"fields": fields, "description": ADD_DESCRIPTION})]
        return super().get_fieldsets(request, obj)

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
