"""Choosing a person in the admin by typing: each choice names the person, their username,
the districts of their roles and the roles themselves where they are held ("巷长 · 人民市场东巷",
at most two, then "…"), so that two people of the same name, even in one district, are told
apart.

`PersonSearch` answers the autocomplete as Django's own view does (the same search, the
same permission: people are for superusers only, `admin_scope.SuperusersOnly`), with these
labels; `PersonAutocomplete` is the widget that asks it; `PicksPeople` gives an admin (the
service tokens', the roles', a lane's chiefs and stewards) both, for its `person` field, and
its list the same label in its person column. Every label reads the people's roles in one
query, however many people are listed.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from whistle.organisation.admin_scope import _district_of
from whistle.organisation.models import Jurisdiction, Person, Role, RoleAssignment

_ROLE_ROWS = RoleAssignment.objects.select_related(
    "jurisdiction__parent__parent", "lane__township__parent__parent", "department__district"
)
# The roles a label names; more are shown as "…".
ROLES_NAMED = 2
_ROLE_ORDER = {role: index for index, role in enumerate(Role.values)}


def with_districts(people: QuerySet[Person]) -> QuerySet[Person]:
    """The people with what `person_label` reads of their roles, in one more query."""
    return people.prefetch_related(Prefetch("roles", queryset=_ROLE_ROWS))


def held(row: RoleAssignment, *, district_named: bool = False) -> str:
    """ "巷长 · 人民市场东巷": the role and the lane, department, township or district it is
    held in; with `district_named`, a district's role without the district (the label names
    it already)."""
    target = row.lane or row.department or row.jurisdiction
    role = str(row.get_role_display())
    district_role = isinstance(target, Jurisdiction) and target.level == Jurisdiction.Level.DISTRICT
    if target is None or (district_named and district_role):
        return role
    return f"{role} · {target}"


def person_label(person: Person) -> str:
    """ "何志强 · hezhiqiang · 东城区（街长 · 夕照寺街；巷长 · 人民市场东巷；…）": the name, the
    username, the districts of the person's roles (none for a person without roles in a
    district), and the roles where they are held, at most `ROLES_NAMED` of them."""
    rows = sorted(
        person.roles.all(),
        key=lambda row: (_ROLE_ORDER.get(row.role, len(_ROLE_ORDER)), held(row)),
    )
    districts: dict[str, str] = {}
    for row in rows:
        district = _district_of(row)
        if district is not None:
            districts[district.code] = district.name
    parts = [person.name or person.username]
    if person.name:
        parts.append(person.username)
    parts.extend(districts[code] for code in sorted(districts))
    label = " · ".join(parts)
    if not rows:
        return label
    roles = [held(row, district_named=len(districts) == 1) for row in rows[:ROLES_NAMED]]
    if len(rows) > ROLES_NAMED:
        roles.append("…")
    return gettext("%(person)s (%(roles)s)") % {
        "person": label,
        "roles": gettext("; ").join(roles),
    }


def labelled_person(person_id: int) -> str:
    """The label of one person, their roles read as they are now."""
    return person_label(with_districts(Person.objects.filter(pk=person_id)).get())


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
    it asks (`people_url_name`). Its list shows the person so labelled in the column
    `person_shown`."""

    admin_site: Any
    model: Any
    people_url_name = ""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        rows: QuerySet[Any] = super().get_queryset(request)  # type: ignore[misc]
        if "person_shown" not in getattr(self, "list_display", ()):
            return rows
        # What the column reads of every listed person's roles, in one more query.
        return rows.prefetch_related(Prefetch("person__roles", queryset=_ROLE_ROWS))

    @admin.display(description=_("person"), ordering="person__username")
    def person_shown(self, obj: Any) -> str:
        return person_label(obj.person)

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
