from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from whistle.api import tokens
from whistle.api.tokens import NAME_MAX
from whistle.organisation.admin_people import held
from whistle.organisation.models import Person, RoleAssignment


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=NAME_MAX,
        help_text=_("Where the token is used, e.g. the duty phone's app."),
    )
    roles = forms.MultipleChoiceField(
        label=_("Roles it carries"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: all your roles. A token never does more than its roles allow."),
    )
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1)

    def __init__(self, person: Person, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.person = person
        self.held = {
            str(row.pk): row
            for row in RoleAssignment.objects.filter(person=person).select_related(
                "jurisdiction", "lane", "department"
            )
        }
        roles = self.fields["roles"]
        assert isinstance(roles, forms.MultipleChoiceField)
        roles.choices = [(pk, held(row)) for pk, row in self.held.items()]
        days = self.fields["days"]
        assert isinstance(days, forms.IntegerField)
        days.max_value = tokens.max_days()
        days.initial = tokens.default_days()
        days.validators.append(MaxValueValidator(tokens.max_days()))

    def chosen_roles(self) -> list[RoleAssignment]:
        return [self.held[pk] for pk in self.cleaned_data["roles"]]
