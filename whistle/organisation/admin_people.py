"""Choosing a person in the admin by typing: each choice names the person, their username
and the districts of their roles, so that two people of the same name are told apart.

`PersonSearch` answers the autocomplete as Django's own view does (the same search, the
same permission: people are for superusers only, `admin_scope.SuperusersOnly`), with these
labels; `PersonAutocomplete` is the widget that asks it; `PicksPeople` gives an admin (the
service tokens', the roles', a lane's chiefs and stewards) both, for its `person` field.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.urls import URLPattern, path, reverse

from whistle.organisation.admin_scope import _district_of
from whistle.organisation.models import Person, RoleAssignment

_ROLES = Prefetch(
    "roles",
    queryset=RoleAssignment.objects.select_related(
        "jurisdiction__parent__parent", "lane__township__parent__parent", "department__district"
    ),
)


def with_districts(people: QuerySet[Person]) -> QuerySet[Person]:
    """The people with what `person_label` reads of their roles, in one more query."""
    return people.prefetch_related(_ROLES)


def person_label(person: Person) -> str:
    """ "张伟 · zhangwei · 东城区": the name, the username, and the districts of the person's
    roles (none for a person without roles in a district)."""
    districts: dict[str, str] = {}
    for row in person.roles.all():
        district = _district_of(row)
        if district is not None:
            districts[district.code] = district.name
    parts = [person.name or person.username]
    if person.name:
        parts.append(person.username)
    parts.extend(districts[code] for code in sorted(districts))
    return " · ".join(parts)


class PersonSearch(AutocompleteJsonView):
    def get_queryset(self) -> QuerySet[Any]:
        return with_districts(super().get_queryset())

    def serialize_result(self, obj: Any, to_field_name: str) -> dict[str, str]:
        return {"id": str(getattr(obj, to_field_name)), "text": person_label(obj)}


class PersonAutocomplete(AutocompleteSelect):
    """The admin's autocomplete, asking `PersonSearch` at the URL named `url_name`."""

    def __init__(self, field: Any, admin_site: Any, *, search_url_name: str) -> None:
        super().__init__(field, admin_site)
        self.search_url_name = search_url_name

    def get_url(self) -> str:
        return reverse(f"{self.admin_site.name}:{self.search_url_name}")


class PicksPeople:
    """Admin mixin: the `person` field is picked by typing, each choice (and the chosen
    person) labelled by `person_label`. A model admin answers the search at its own
    `people/` (URL name `<app>_<model>_people`); an inline names the search of the admin
    it asks (`people_url_name`)."""

    admin_site: Any
    model: Any
    people_url_name = ""

    def search_url_name(self) -> str:
        opts = self.model._meta
        return self.people_url_name or f"{opts.app_label}_{opts.model_name}_people"

    def get_urls(self) -> list[URLPattern]:
        search = PersonSearch.as_view(admin_site=self.admin_site)
        return [
            path("people/", self.admin_site.admin_view(search), name=self.search_url_name()),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name != "person":
            return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
        kwargs["widget"] = PersonAutocomplete(
            db_field, self.admin_site, search_url_name=self.search_url_name()
        )
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
        if field is not None:
            field.queryset = with_districts(field.queryset)
            field.label_from_instance = person_label
        return field
